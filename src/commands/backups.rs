//! `njtui backups`: snapshots, recovery points, restores and how fresh they are.

use serde::Serialize;

use crate::domain::{Backup, BackupOverview, Database, Timestamp, age};

use super::output::{Table, or_dash, print_json, write_stdout};
use super::{CliError, Context};

/// The `backups --json` document (see docs/cli.md).
#[derive(Serialize)]
struct BackupsReport<'a> {
    env: &'a str,
    now: Timestamp,
    latest_restorable: Option<Timestamp>,
    newest_backup_age_secs: Option<i64>,
    stale: bool,
    items: &'a [Backup],
    restores: &'a [Database],
}

pub async fn list(ctx: &Context, json: bool) -> Result<(), CliError> {
    let overview = ctx.backend.backups().await?;
    let now = ctx.backend.now();
    if json {
        return print_json(&BackupsReport {
            env: ctx.backend.env(),
            now,
            latest_restorable: overview.latest_restorable,
            newest_backup_age_secs: overview
                .newest_available()
                .map(|b| (now - b.created).num_seconds()),
            stale: overview.is_stale(now),
            items: &overview.backups,
            restores: &overview.restores,
        });
    }
    write_stdout(&render(&overview, now))
}

fn render(overview: &BackupOverview, now: Timestamp) -> String {
    let mut out = String::new();
    match overview.newest_available() {
        Some(b) => out.push_str(&format!(
            "newest backup   {} ago ({}){}\n",
            age(now, b.created),
            b.id,
            if overview.is_stale(now) {
                "  STALE: older than 24h"
            } else {
                ""
            }
        )),
        None => out.push_str("newest backup   none  STALE: no completed backup\n"),
    }
    out.push_str(&format!(
        "restorable to   {}\n",
        or_dash(
            overview
                .latest_restorable
                .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC"))
        )
    ));
    for db in &overview.restores {
        out.push_str(&format!("restore         {} {}\n", db.id, db.status));
    }
    out.push('\n');
    let mut t = Table::new(["ID", "KIND", "RESOURCE", "CREATED", "AGE", "SIZE", "STATUS"]);
    for b in &overview.backups {
        t.row([
            b.id.clone(),
            b.kind.as_str().to_string(),
            b.resource.clone(),
            b.created.format("%Y-%m-%d %H:%M").to_string(),
            age(now, b.created),
            or_dash(b.size_gb.map(|s| format!("{s:.0}GiB"))),
            match b.progress {
                Some(p) if b.status == crate::domain::BackupStatus::Creating => {
                    format!("{} {p}%", b.status.as_str())
                }
                _ => b.status.as_str().to_string(),
            },
        ]);
    }
    if t.is_empty() {
        out.push_str("no backups\n");
    } else {
        out.push_str(&t.render());
    }
    out
}
