//! The non-interactive front end: one function per subcommand, each a thin layer
//! over the backend (reads) or `crate::ops` (mutations), printing a table or JSON.

mod actions;
mod backups;
mod deployments;
mod logs;
mod metrics;
mod output;
mod provision;
mod status;

use std::sync::Arc;

use crate::backend::{Backend, BackendError};
use crate::cli::{Command, GlobalArgs};
use crate::ops::{OpsError, Runner};

/// A failure with the exit code it maps to; printed once, by `main`.
#[derive(Debug)]
pub struct CliError {
    pub code: i32,
    pub message: String,
}

impl CliError {
    /// Bad input: exit 2, like clap's own usage errors.
    pub fn invalid(message: impl Into<String>) -> CliError {
        CliError {
            code: 2,
            message: message.into(),
        }
    }

    pub fn failed(message: impl Into<String>) -> CliError {
        CliError {
            code: 1,
            message: message.into(),
        }
    }
}

impl From<BackendError> for CliError {
    fn from(e: BackendError) -> CliError {
        CliError {
            code: match e {
                BackendError::Invalid(_) | BackendError::NotFound { .. } => 2,
                _ => 1,
            },
            message: e.to_string(),
        }
    }
}

impl From<OpsError> for CliError {
    fn from(e: OpsError) -> CliError {
        CliError {
            code: e.exit_code(),
            message: e.to_string(),
        }
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> CliError {
        CliError::failed(format!("{e:#}"))
    }
}

/// What every subcommand works with.
pub struct Context {
    pub backend: Arc<dyn Backend>,
    pub runner: Runner,
    pub global: GlobalArgs,
}

pub async fn run(ctx: &Context, command: Command) -> Result<(), CliError> {
    use crate::cli::{parse_chaos, parse_range, parse_sources, parse_tier};
    use crate::ops::Operation;

    match command {
        Command::Status(json) => status::run(ctx, json.json).await,
        Command::Backups(json) => backups::list(ctx, json.json).await,
        Command::Deployments { id, limit, json } => match id {
            Some(id) => deployments::show(ctx, &id, json.json).await,
            None => deployments::list(ctx, limit, json.json).await,
        },
        Command::Revisions(json) => deployments::revisions(ctx, json.json).await,
        Command::Logs {
            follow,
            since,
            sources,
            filter,
            limit,
            json,
        } => {
            let sources = parse_sources(&sources).map_err(CliError::invalid)?;
            logs::run(ctx, follow, &since, sources, filter, limit, json.json).await
        }
        Command::Metrics { range, json } => {
            let range = parse_range(&range).map_err(CliError::invalid)?;
            metrics::run(ctx, range, json.json).await
        }
        Command::Audit { limit, json } => actions::audit(limit, json.json),
        Command::Scale {
            tier,
            desired,
            wait,
        } => {
            let tier = parse_tier(&tier).map_err(CliError::invalid)?;
            actions::act(ctx, Operation::Scale { tier, desired }, wait.wait).await
        }
        Command::Start { tier, wait } => {
            let tier = parse_tier(&tier).map_err(CliError::invalid)?;
            actions::act(ctx, Operation::Start { tier }, wait.wait).await
        }
        Command::Stop { tier, wait } => {
            let tier = parse_tier(&tier).map_err(CliError::invalid)?;
            actions::act(ctx, Operation::Stop { tier }, wait.wait).await
        }
        Command::Deploy { revision, wait } => {
            actions::act(ctx, Operation::Deploy { revision }, wait.wait).await
        }
        Command::Rollback { wait } => actions::act(ctx, Operation::Rollback, wait.wait).await,
        Command::Backup { method, wait } => {
            actions::act(
                ctx,
                Operation::Backup {
                    kind: method.kind(),
                },
                wait.wait,
            )
            .await
        }
        Command::Restore {
            backup_id,
            to_time,
            point_app,
            wait,
        } => actions::restore(ctx, backup_id, to_time, point_app, wait.wait).await,
        Command::PointApp { database, wait } => {
            actions::act(ctx, Operation::PointApp { database }, wait.wait).await
        }
        Command::Cancel { id } => actions::act(ctx, Operation::Cancel { id }, false).await,
        Command::Chaos { kind } => {
            let kind = parse_chaos(&kind).map_err(CliError::invalid)?;
            actions::act(ctx, Operation::Chaos { kind }, false).await
        }
        Command::Provision { plan_only } => provision::run(ctx, plan_only).await,
    }
}
