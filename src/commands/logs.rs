//! `njtui logs`: history merged across log groups, then optionally followed.

use std::collections::HashSet;

use crate::domain::{LogEvent, LogQuery, LogSource};

use super::output::{print_json, write_stdout};
use super::{CliError, Context};

#[allow(clippy::too_many_arguments)]
pub async fn run(
    ctx: &Context,
    follow: bool,
    since: &str,
    sources: Vec<LogSource>,
    filter: Option<String>,
    limit: usize,
    json: bool,
) -> Result<(), CliError> {
    let now = ctx.backend.now();
    let since = crate::cli::parse_since(since, now).map_err(CliError::invalid)?;
    let query = LogQuery {
        since: Some(since),
        until: None,
        sources: sources.clone(),
        filter: filter.clone(),
        limit: Some(limit),
    };
    let history = ctx.backend.logs(&query).await?;
    if !follow {
        if json {
            return print_json(&history);
        }
        return write_stdout(&history.iter().map(format_line).collect::<String>());
    }

    // Following prints one event per line as it comes (JSON Lines with --json).
    let print = |events: &[LogEvent]| -> Result<(), CliError> {
        let mut text = String::new();
        for e in events {
            if json {
                text.push_str(
                    &serde_json::to_string(e).map_err(|e| CliError::failed(e.to_string()))?,
                );
                text.push('\n');
            } else {
                text.push_str(&format_line(e));
            }
        }
        write_stdout(&text)
    };
    print(&history)?;
    // The follower starts "now", which may overlap the history's tail.
    let mut seen: HashSet<String> = history
        .iter()
        .rev()
        .take(1000)
        .map(|e| e.id.clone())
        .collect();
    let live = LogQuery {
        since: None,
        limit: None,
        ..query
    };
    let mut follower = ctx.backend.follow_logs(&sources).await?;
    loop {
        let batch = tokio::select! {
            batch = follower.next_batch() => batch,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        match batch {
            Ok(events) => {
                let fresh: Vec<LogEvent> = events
                    .into_iter()
                    .filter(|e| live.matches(e))
                    .filter(|e| seen.insert(e.id.clone()))
                    .collect();
                if seen.len() > 10_000 {
                    seen.clear();
                }
                print(&fresh)?;
            }
            Err(e) if e.is_transient() => {
                eprintln!("njtui: {e} (retrying)");
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn format_line(e: &LogEvent) -> String {
    format!(
        "{} {:<10} {:<5} {:<19} {}\n",
        e.timestamp.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        e.source.as_str(),
        e.severity.as_str(),
        e.stream,
        e.message.trim_end()
    )
}
