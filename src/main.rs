use std::process::ExitCode;

use clap::Parser;

use njtui::cli::Cli;
use njtui::commands::{self, CliError, Context};
use njtui::config::Config;
use njtui::{connect, ui};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let interactive = cli.command.is_none();
    init_tracing(interactive);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&CliError::failed(format!("cannot start the runtime: {e}"))),
    };
    let result = runtime.block_on(run(cli));
    // A follower or poller may still be waiting on the network; do not wait for it.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let config = Config::load(cli.global.config.as_deref())
        .map_err(|e| CliError::invalid(format!("{e:#}")))?;
    let backend = connect::backend(&cli.global, &config)
        .await
        .map_err(|e| CliError::invalid(format!("{e:#}")))?;
    let runner = connect::runner(backend.clone(), &cli.global, &config)?;
    match cli.command {
        None => {
            let keymap = cli.global.keymap.clone().or(config.keymap.clone());
            ui::run(backend, runner, keymap.as_deref())
                .await
                .map_err(|e| CliError::failed(format!("{e:#}")))
        }
        Some(command) => {
            let ctx = Context {
                backend,
                runner,
                global: cli.global,
            };
            commands::run(&ctx, command).await
        }
    }
}

fn fail(e: &CliError) -> ExitCode {
    eprintln!("njtui: {}", e.message);
    ExitCode::from(u8::try_from(e.code).unwrap_or(1))
}

/// Diagnostics go to stderr for subcommands; the console owns the terminal, so
/// there they go to a file, and only when `NJTUI_LOG` asks for them.
fn init_tracing(interactive: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("NJTUI_LOG");
    if interactive {
        let Ok(filter) = filter else { return };
        let Ok(dir) = njtui::paths::state_dir() else {
            return;
        };
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(file) = std::fs::File::options()
            .create(true)
            .append(true)
            .open(dir.join("njtui.log"))
        {
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .init();
        }
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter.unwrap_or_else(|_| EnvFilter::new("warn")))
            .with_writer(std::io::stderr)
            .without_time()
            .with_target(false)
            .init();
    }
}
