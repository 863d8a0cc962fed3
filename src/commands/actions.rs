//! The mutating subcommands: prepare through `crate::ops`, confirm on the
//! terminal (or `--yes`), run, and optionally follow the progress.

use std::io::{BufRead, IsTerminal, Write};

use crate::domain::RestoreSource;
use crate::ops::watch::Watch;
use crate::ops::{AuditLog, Confirm, Operation, Prepared};

use super::output::{Table, print_json};
use super::{CliError, Context};

pub async fn act(ctx: &Context, op: Operation, wait: bool) -> Result<(), CliError> {
    let prepared = ctx.runner.prepare(op).await?;
    confirm(ctx, &prepared).await?;
    let outcome = ctx.runner.run(&prepared).await?;
    println!("{}", outcome.message);
    match outcome.watch {
        Some(w) if wait => follow(ctx, &w).await,
        _ => Ok(()),
    }
}

/// Shows what will change and asks for confirmation on the terminal: yes/no, or
/// the environment's name in production. Without a terminal, only `--yes` counts.
pub async fn confirm(ctx: &Context, prepared: &Prepared) -> Result<(), CliError> {
    eprintln!(
        "{} in {}: {}",
        prepared.op.name(),
        ctx.backend.env(),
        prepared.change
    );
    for d in &prepared.details {
        eprintln!("  {d}");
    }
    if ctx.global.yes {
        return Ok(());
    }
    let action = prepared.op.name();
    if !std::io::stdin().is_terminal() {
        let reason = format!(
            "refusing to {action} without confirmation: stdin is not a terminal; pass --yes to confirm"
        );
        ctx.runner.decline(prepared, &reason, true).await;
        return Err(CliError {
            code: 3,
            message: reason,
        });
    }
    let (prompt, expected) = match ctx.runner.confirmation() {
        Confirm::YesNo => ("Proceed? [y/N] ".to_string(), None),
        Confirm::TypeName(env) => (
            format!("This is {env}. Type the environment's name to confirm: "),
            Some(env),
        ),
    };
    let answer = tokio::task::spawn_blocking(move || {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    })
    .await
    .map_err(|e| CliError::failed(e.to_string()))?
    .map_err(|e| CliError::failed(format!("cannot read the answer: {e}")))?;
    let answer = answer.trim();
    let ok = match &expected {
        None => matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes"),
        Some(env) => answer == env,
    };
    if ok {
        return Ok(());
    }
    let reason = match expected {
        Some(env) if !answer.is_empty() => {
            format!("cancelled: '{answer}' is not '{env}'; nothing was sent")
        }
        _ => "cancelled; nothing was sent".to_string(),
    };
    ctx.runner.decline(prepared, &reason, false).await;
    Err(CliError {
        code: 3,
        message: reason,
    })
}

/// Polls until the action completes, printing each change of state on stderr.
pub async fn follow(ctx: &Context, watch: &Watch) -> Result<(), CliError> {
    let backend = ctx.backend.as_ref();
    let interval = Watch::interval(backend);
    let mut last = String::new();
    loop {
        match watch.poll(backend).await {
            Ok(p) => {
                if p.line != last {
                    eprintln!("{}", p.line);
                    last = p.line;
                }
                match p.finished {
                    Some(true) => return Ok(()),
                    Some(false) => {
                        return Err(CliError::failed(format!("did not complete: {last}")));
                    }
                    None => {}
                }
            }
            Err(e) if e.is_transient() => eprintln!("njtui: {e} (retrying)"),
            Err(e) => return Err(e.into()),
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = tokio::signal::ctrl_c() => {
                eprintln!("stopped waiting; the action goes on");
                return Ok(());
            }
        }
    }
}

pub async fn restore(
    ctx: &Context,
    backup_id: Option<String>,
    to_time: Option<String>,
    point_app: bool,
    wait: bool,
) -> Result<(), CliError> {
    let source = match (backup_id, to_time) {
        (Some(id), None) => RestoreSource::Backup { id },
        (None, Some(t)) if t == "latest" => {
            let overview = ctx.backend.backups().await?;
            let time = overview.latest_restorable.ok_or_else(|| {
                CliError::invalid("no restorable time reported for the database")
            })?;
            RestoreSource::PointInTime { time }
        }
        (None, Some(t)) => RestoreSource::PointInTime {
            time: chrono::DateTime::parse_from_rfc3339(&t)
                .map_err(|e| {
                    CliError::invalid(format!(
                        "invalid --to-time '{t}': {e}; use RFC 3339 (2026-01-31T12:00:00Z) or 'latest'"
                    ))
                })?
                .to_utc(),
        },
        _ => return Err(CliError::invalid("give a backup id or --to-time, not both")),
    };
    let prepared = ctx.runner.prepare(Operation::Restore { source }).await?;
    confirm(ctx, &prepared).await?;
    let outcome = ctx.runner.run(&prepared).await?;
    println!("{}", outcome.message);
    let Some(watch) = outcome.watch else {
        return Ok(());
    };
    if wait || point_app {
        follow(ctx, &watch).await?;
    }
    if point_app && let Watch::Restore { database } = watch {
        act(ctx, Operation::PointApp { database }, wait).await?;
    }
    Ok(())
}

/// `njtui audit`: the local audit log, newest last.
pub fn audit(limit: usize, json: bool) -> Result<(), CliError> {
    let log = AuditLog::new(AuditLog::default_path()?);
    let (records, bad) = log.tail(limit)?;
    if bad > 0 {
        eprintln!(
            "njtui: skipped {bad} unreadable line(s) in {}",
            log.path().display()
        );
    }
    if json {
        return print_json(&records);
    }
    let mut t = Table::new(["TIME", "ENV", "WHO", "ACTION", "OUTCOME", "CHANGE"]);
    for r in &records {
        t.row([
            r.time.format("%Y-%m-%d %H:%M:%S").to_string(),
            r.env.clone(),
            r.who.clone(),
            r.action.clone(),
            format!("{:?}", r.outcome).to_lowercase(),
            r.change.clone(),
        ]);
    }
    t.print()
}
