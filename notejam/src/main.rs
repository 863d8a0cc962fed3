use std::process::ExitCode;

use notejam::config::Config;

/// Every request allocates and frees dozens of small buffers across the runtime's
/// worker threads; glibc's allocator spent a tenth of a list page's CPU on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "\
notejam: the Notejam web app

Usage: notejam            (configured by environment variables)
       notejam --help | --version

Environment:
  DATABASE_URL                   postgres://… or sqlite://… (default sqlite://notejam.db)
  NOTEJAM_ADDR                   listen address (default 127.0.0.1:8000)
  NOTEJAM_SECRET_KEY             session key, at least 32 bytes (default: random per start)
  NOTEJAM_ENV                    environment name for metrics (default local)
  NOTEJAM_SECURE_COOKIES         auto | always | never (default auto: by X-Forwarded-Proto)
  NOTEJAM_SMTP_URL               smtp:// or smtps:// URL; unset: mails are logged
  NOTEJAM_MAIL_FROM              sender address, required with NOTEJAM_SMTP_URL
  NOTEJAM_DB_MAX_CONNECTIONS     database pool size (default 10)
  NOTEJAM_METRICS                on | off: EMF metric lines on stdout (default on)
  NOTEJAM_METRICS_INTERVAL_SECS  metric interval (default 60)
  NOTEJAM_CACHE_USERS            users' note lists cached per node, 0 = off (default 10000)
  NOTEJAM_LOG                    log filter, e.g. info or notejam=debug (default info)
";

#[tokio::main]
async fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("-h" | "--help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("-V" | "--version") => {
            println!("notejam {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("notejam: unexpected argument {other:?}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("notejam: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    let _log_guard = notejam::telemetry::init_logging();
    match notejam::run(config, notejam::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "notejam failed");
            eprintln!("notejam: {error}");
            ExitCode::FAILURE
        }
    }
}
