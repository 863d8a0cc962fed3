//! JSON logs on stdout with the request id on every line logged inside a request,
//! plus the access log and the request metrics.

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::password::random_token;
use crate::web::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// The ALB's own trace id, so app lines can be matched with the ALB access log.
const AMZN_TRACE_HEADER: &str = "x-amzn-trace-id";

/// JSON lines on stdout; the level comes from `NOTEJAM_LOG` (an `EnvFilter`), default `info`.
///
/// Lines are written by a background thread, so a request never waits on the write;
/// nothing is dropped when it falls behind. The thread drains every queued line into
/// a buffer and then flushes it: one `write` per batch under load (instead of one per
/// access-log line) and still at once when traffic is light. Keep the guard until
/// exit: dropping it flushes what is queued.
pub fn init_logging() -> WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("notejam-log")
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stdout(),
        ));
    init_logging_to(writer);
    guard
}

/// The server's log format and filter, writing to `writer`: the instruction-count
/// probes format every line as the server does, into a sink on the same thread.
pub fn init_logging_to<W>(writer: W)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_env("NOTEJAM_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true)
        .with_env_filter(filter)
        .with_writer(writer)
        .init();
}

/// A caller's id is kept only if it is short and plain, so it cannot forge log fields.
fn usable_id(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let plain = !text.is_empty()
        && text.len() <= 128
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:=;".contains(&b));
    plain.then(|| text.to_owned())
}

pub async fn observe(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let headers = request.headers();
    let request_id = headers
        .get(REQUEST_ID_HEADER)
        .and_then(usable_id)
        .or_else(|| headers.get(AMZN_TRACE_HEADER).and_then(usable_id))
        .unwrap_or_else(|| random_token(24));
    let method = request.method().clone();
    let path = request.uri().path().to_owned();

    let span = tracing::info_span!("request", request_id = %request_id);
    let mut response = next.run(request).instrument(span.clone()).await;

    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    app.metrics.record(elapsed, status);
    span.in_scope(|| {
        tracing::info!(
            target: "notejam::access",
            method = %method,
            path = %path,
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::usable_id;
    use axum::http::HeaderValue;

    #[test]
    fn request_ids_with_odd_characters_are_replaced() {
        let ok = HeaderValue::from_static("Root=1-67891233-abcdef012345678912345678");
        assert!(usable_id(&ok).is_some());
        for bad in ["", "a b", "x\"}", &"a".repeat(129)] {
            assert!(
                usable_id(&HeaderValue::from_str(bad).unwrap()).is_none(),
                "{bad}"
            );
        }
    }
}
