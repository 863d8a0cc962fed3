//! Probes: `/healthz` for "the process answers", `/readyz` for "and its database does".

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;

pub async fn healthz() -> &'static str {
    "ok\n"
}

pub async fn readyz(State(app): State<AppState>) -> (StatusCode, &'static str) {
    match tokio::time::timeout(Duration::from_secs(2), app.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready\n"),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness: database query failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n")
        }
        Err(_) => {
            tracing::warn!("readiness: database did not answer within 2 s");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n")
        }
    }
}
