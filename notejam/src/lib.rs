//! Notejam, the note-taking web app the delivery platform ships: users, pads and
//! notes, server-rendered HTML, PostgreSQL or SQLite.

pub mod config;
pub mod content;
pub mod db;
pub mod mail;
pub mod metrics;
pub mod password;
pub mod session;
pub mod telemetry;
pub mod web;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use cookie::Key;

use crate::config::Config;
use crate::content::ContentCache;
use crate::db::{Backend, ConnectError, Db};
use crate::mail::{MailError, Mailer};
use crate::metrics::Metrics;
use crate::web::{App, AppState};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Database(#[from] ConnectError),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped with an error: {0}")]
    Serve(std::io::Error),
}

/// Connects to the database (applying migrations) and builds the app's router.
pub async fn build(config: &Config) -> Result<(Router, AppState), StartError> {
    let db = Db::connect(&config.database_url, config.db_max_connections).await?;
    let mailer = Mailer::from_config(&config.mail)?;
    let key = match &config.secret_key {
        Some(secret) => Key::derive_from(secret),
        None => {
            tracing::warn!(
                "NOTEJAM_SECRET_KEY is not set: using a random key, so sessions end when the \
                 process stops and are not shared between nodes"
            );
            Key::generate()
        }
    };
    // On PostgreSQL the cache waits for the change feed; SQLite has a single writer.
    let cache = Arc::new(ContentCache::new(
        config.cache_users,
        db.backend() == Backend::Sqlite,
    ));
    if config.cache_users > 0 && db.backend() == Backend::Postgres {
        tokio::spawn(content::follow_changes(
            config.database_url.clone(),
            cache.clone(),
        ));
    } else if config.cache_users == 0 {
        cache.disable();
    }
    let state: AppState = Arc::new(App {
        db,
        key,
        secure_cookies: config.secure_cookies,
        mailer,
        metrics: Arc::new(Metrics::new(&config.environment)),
        cache,
    });
    Ok((web::router(state.clone()), state))
}

/// Serves until `shutdown` completes, then finishes the requests in flight and returns.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let (router, state) = build(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.addr,
            source,
        })?;
    let flusher = config
        .metrics_enabled
        .then(|| metrics::spawn_flusher(state.metrics.clone(), config.metrics_interval));
    tracing::info!(
        addr = %config.addr,
        backend = ?state.db.backend(),
        environment = %config.environment,
        "notejam listening"
    );
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await;
    if let Some(flusher) = flusher {
        flusher.abort();
        state.metrics.flush_to_stdout();
    }
    state.db.close().await;
    served.map_err(StartError::Serve)?;
    tracing::info!("notejam stopped");
    Ok(())
}

/// Completes on SIGTERM (systemd, CodeDeploy's stop hook) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: no new connections, finishing requests in flight");
}
