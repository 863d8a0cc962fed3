//! The command line: global options, and one subcommand per operation. The TUI's
//! command palette parses its input with this same grammar.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::domain::{BackupKind, ChaosKind, LogSource, Tier, TimeRange};

#[derive(Debug, Parser)]
#[command(
    name = "njtui",
    version,
    about = "Operate the Notejam platform: topology, metrics, logs, deployments and backups",
    after_help = "Without a command, opens the interactive console.\n\
                  `--env demo` (the default) is an embedded simulated environment; any other \
                  environment is found on AWS by its tags."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Environment to operate: `demo` (simulated) or an AWS environment such as `prod`.
    #[arg(
        long,
        short = 'e',
        global = true,
        env = "NJTUI_ENV",
        default_value = "demo"
    )]
    pub env: String,

    /// AWS shared-config profile (SSO profiles included).
    #[arg(long, global = true)]
    pub profile: Option<String>,

    /// AWS region; defaults to the profile's or AWS_REGION.
    #[arg(long, global = true)]
    pub region: Option<String>,

    /// Send every AWS call to this endpoint (an emulator such as moto).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Refuse every action that changes anything.
    #[arg(long, global = true)]
    pub read_only: bool,

    /// Answer yes to confirmations (required for actions when stdin is not a terminal).
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,

    /// Keymap: `default`, `vim`, or a path to a TOML file.
    #[arg(long, global = true, value_name = "NAME|PATH")]
    pub keymap: Option<String>,

    /// Config file (default `$XDG_CONFIG_HOME/njtui/config.toml`).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Demo only: virtual seconds per real second.
    #[arg(long, global = true, value_name = "N")]
    pub speed: Option<f64>,

    /// Demo only: seed of a new simulated world.
    #[arg(long, global = true, value_name = "N")]
    pub seed: Option<u64>,

    /// Demo only: discard the stored simulated world and start afresh.
    #[arg(long, global = true)]
    pub reset: bool,

    /// Demo only: the virtual time a new world starts at (RFC 3339), so a demo
    /// shows the same day whenever it is given. With an existing world, use --reset.
    #[arg(long, global = true, value_name = "TIME")]
    pub start: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct JsonArg {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct WaitArg {
    /// Follow the action's progress until it completes.
    #[arg(long, short = 'w')]
    pub wait: bool,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Show the environment's tiers, instances, database and load balancer.
    Status(JsonArg),
    /// Set a tier's desired capacity (within its min and max).
    Scale {
        /// `web` or `bastion`.
        tier: String,
        /// The new desired capacity.
        desired: u32,
        #[command(flatten)]
        wait: WaitArg,
    },
    /// Bring a stopped tier back to the capacity it had.
    Start {
        tier: String,
        #[command(flatten)]
        wait: WaitArg,
    },
    /// Scale a tier to zero, remembering its capacity for `start`.
    Stop {
        tier: String,
        #[command(flatten)]
        wait: WaitArg,
    },
    /// Deploy a revision (see `revisions`).
    Deploy {
        revision: String,
        #[command(flatten)]
        wait: WaitArg,
    },
    /// Stop the running deployment with rollback, or redeploy the last good revision.
    Rollback {
        #[command(flatten)]
        wait: WaitArg,
    },
    /// Back up the database now.
    Backup {
        /// `snapshot`: a manual RDS snapshot; `job`: an AWS Backup on-demand job.
        #[arg(long, value_enum, default_value_t = BackupMethod::Snapshot)]
        method: BackupMethod,
        #[command(flatten)]
        wait: WaitArg,
    },
    /// List snapshots and recovery points, and the newest restorable time.
    Backups(JsonArg),
    /// Restore a backup (or a point in time) into a new database.
    Restore {
        /// A backup id from `backups`.
        #[arg(required_unless_present = "to_time", conflicts_with = "to_time")]
        backup_id: Option<String>,
        /// Point-in-time restore to this RFC 3339 instant, or `latest`.
        #[arg(long, value_name = "TIME")]
        to_time: Option<String>,
        /// Once the restored database is available, point the app at it
        /// (asks again unless --yes).
        #[arg(long)]
        point_app: bool,
        #[command(flatten)]
        wait: WaitArg,
    },
    /// Point the application at another database of the environment.
    PointApp {
        /// A database id, e.g. `notejam-prod-restore-20260101t0300`.
        database: String,
        #[command(flatten)]
        wait: WaitArg,
    },
    /// Cancel a running deployment (with rollback) or backup job.
    Cancel {
        /// A deployment id or a backup job id.
        id: String,
    },
    /// List releases (canary → bake → fleet → bake), newest first, or one deployment's
    /// per-instance lifecycle.
    Deployments {
        /// Show this deployment's instances and lifecycle events.
        id: Option<String>,
        /// How many releases to list.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[command(flatten)]
        json: JsonArg,
    },
    /// List revisions available to deploy.
    Revisions(JsonArg),
    /// Print log events from every log group of the environment, merged by time.
    Logs {
        /// Keep printing new events.
        #[arg(long, short = 'f')]
        follow: bool,
        /// How far back: `15m`, `2h`, `1d`, or an RFC 3339 instant.
        #[arg(long, default_value = "15m")]
        since: String,
        /// Only these sources (repeatable): app, system, codedeploy, audit, database.
        #[arg(long = "source", short = 's', value_name = "SOURCE")]
        sources: Vec<String>,
        /// Only events containing this text.
        #[arg(long)]
        filter: Option<String>,
        /// At most this many events of history (the newest).
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Print every metric's current, min and max over a range.
    Metrics {
        /// 1h, 6h, 24h or 7d.
        #[arg(long, short = 'r', default_value = "1h")]
        range: String,
        #[command(flatten)]
        json: JsonArg,
    },
    /// Plan the environment's infrastructure and apply it after confirmation.
    Provision {
        /// Only plan; change nothing.
        #[arg(long)]
        plan_only: bool,
    },
    /// Demo only: inject a fault (load-spike, kill-instance, bad-revision, bad-at-scale).
    Chaos { kind: String },
    /// Show the local audit log.
    Audit {
        /// How many records, newest last.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        json: JsonArg,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackupMethod {
    Snapshot,
    Job,
}

impl BackupMethod {
    pub fn kind(self) -> BackupKind {
        match self {
            BackupMethod::Snapshot => BackupKind::Manual,
            BackupMethod::Job => BackupKind::RecoveryPoint,
        }
    }
}

/// Parses the typed arguments that clap leaves as strings, so that every bad value
/// gets the domain's message with its valid choices.
pub fn parse_tier(s: &str) -> Result<Tier, String> {
    Tier::parse_scalable(s)
}

pub fn parse_sources(values: &[String]) -> Result<Vec<LogSource>, String> {
    values.iter().map(|s| s.parse::<LogSource>()).collect()
}

pub fn parse_range(s: &str) -> Result<TimeRange, String> {
    s.parse()
}

pub fn parse_chaos(s: &str) -> Result<ChaosKind, String> {
    s.parse()
}

/// `15m`, `2h`, `1d`, `30s`, or an RFC 3339 instant, relative to `now`.
pub fn parse_since(
    s: &str,
    now: crate::domain::Timestamp,
) -> Result<crate::domain::Timestamp, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.to_utc());
    }
    let bad = || {
        format!(
            "invalid duration '{s}': use a number and a unit (30s, 15m, 2h, 1d) or an RFC 3339 time"
        )
    };
    let unit_at = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = s.split_at(unit_at);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let d = match unit {
        "s" => chrono::Duration::try_seconds(n),
        "m" => chrono::Duration::try_minutes(n),
        "h" => chrono::Duration::try_hours(n),
        "d" => chrono::Duration::try_days(n),
        _ => None,
    }
    .ok_or_else(bad)?;
    Ok(now - d)
}

/// Environment names become parts of AWS names (`notejam-<env>`), so they follow
/// the strictest of those rules.
pub fn validate_env(env: &str) -> Result<(), String> {
    let ok = !env.is_empty()
        && env.len() <= 20
        && env.starts_with(|c: char| c.is_ascii_lowercase())
        && env
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid environment name '{env}': use 1-20 lowercase letters, digits or '-', starting with a letter (e.g. demo, staging, prod)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn since_accepts_durations_and_instants() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-02T00:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            parse_since("2h", now).unwrap(),
            now - chrono::Duration::hours(2)
        );
        assert_eq!(
            parse_since("2026-01-01T00:00:00Z", now).unwrap(),
            now - chrono::Duration::days(1)
        );
        for bad in ["", "h", "5y", "-5m", "1.5h"] {
            let e = parse_since(bad, now).unwrap_err();
            assert!(e.contains("invalid duration"), "{bad}: {e}");
        }
    }

    #[test]
    fn env_names_are_checked() {
        for ok in ["demo", "prod", "staging-2"] {
            validate_env(ok).unwrap();
        }
        for bad in [
            "",
            "Prod",
            "1prod",
            "prod_eu",
            "a-very-long-environment-name",
        ] {
            assert!(
                validate_env(bad)
                    .unwrap_err()
                    .contains("invalid environment name")
            );
        }
    }
}
