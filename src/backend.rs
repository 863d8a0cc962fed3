//! The seam between the console and an environment: the embedded simulator
//! (`crate::sim`) and AWS (`crate::aws`) both implement [`Backend`]. Nothing above
//! this trait knows which one it talks to.

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::domain::{
    AuditRecord, BackendKind, BackupKind, BackupOverview, Capacity, ChaosKind, Deployment,
    DeploymentTarget, FollowMode, Identity, LogEvent, LogQuery, LogSource, MetricsSnapshot,
    PlanSummary, ProvisionMode, Release, RestoreSource, RevisionInfo, RollbackRequest, Tier,
    TimeRange, Timestamp, Topology,
};

pub type Result<T, E = BackendError> = std::result::Result<T, E>;

/// Where a long action streams its output lines (terraform's, for instance).
pub type LineSink = mpsc::UnboundedSender<String>;

/// Errors a backend reports. Messages are written for the operator: they name the
/// problem and, for bad input, the valid choices.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BackendError {
    /// The request names something invalid; the message says what and lists choices.
    #[error("{0}")]
    Invalid(String),
    #[error("{what} '{id}' not found{}", choices_suffix(.choices))]
    NotFound {
        what: &'static str,
        id: String,
        choices: Vec<String>,
    },
    /// The endpoint lacks this operation (an emulator, an older region).
    #[error("{0} is not supported by this endpoint")]
    Unsupported(String),
    #[error("{service} is throttling requests: {message}")]
    Throttled { service: String, message: String },
    /// Network or endpoint down: the console shows itself offline and retries.
    #[error("cannot reach {service}: {message}")]
    Unreachable { service: String, message: String },
    #[error("{service} denied access: {message}")]
    AccessDenied { service: String, message: String },
    #[error("{service} error {code}: {message}")]
    Api {
        service: String,
        code: String,
        message: String,
    },
    #[error("{0}")]
    Other(String),
}

fn choices_suffix(choices: &[String]) -> String {
    if choices.is_empty() {
        String::new()
    } else {
        format!("; choose one of: {}", choices.join(", "))
    }
}

impl BackendError {
    /// Worth retrying later without any change: throttling or an outage.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            BackendError::Throttled { .. } | BackendError::Unreachable { .. }
        )
    }

    pub fn is_offline(&self) -> bool {
        matches!(self, BackendError::Unreachable { .. })
    }
}

/// A live log follow. Dropping it ends the session (and, on AWS, the billed
/// StartLiveTail minutes).
#[async_trait]
pub trait LogFollower: Send {
    /// Waits for the next events, oldest first. An empty batch is allowed (a
    /// heartbeat); an error is reported and the caller may keep calling.
    async fn next_batch(&mut self) -> Result<Vec<LogEvent>>;

    fn mode(&self) -> FollowMode;
}

/// One environment, read and operated. Reads never mutate. Mutations are
/// primitives: validation, confirmation, read-only and audit live in `crate::ops`,
/// which is the only caller of the mutating methods.
#[async_trait]
pub trait Backend: Send + Sync {
    fn kind(&self) -> BackendKind;

    fn env(&self) -> &str;

    /// The current instant: wall time on AWS, the virtual clock in the simulator.
    fn now(&self) -> Timestamp;

    async fn identity(&self) -> Result<Identity>;

    // Reads.

    async fn topology(&self) -> Result<Topology>;

    /// Every [`crate::domain::MetricKind`] over `range`, ending now.
    async fn metrics(&self, range: TimeRange) -> Result<MetricsSnapshot>;

    /// History, oldest first; with `limit`, the newest `limit` events.
    async fn logs(&self, query: &LogQuery) -> Result<Vec<LogEvent>>;

    /// Starts following `sources` (all when empty) from now on.
    async fn follow_logs(&self, sources: &[LogSource]) -> Result<Box<dyn LogFollower>>;

    /// CodeDeploy's deployments of both of the environment's groups (the fleet and
    /// the canary), newest first, at most `limit`.
    async fn deployments(&self, limit: usize) -> Result<Vec<Deployment>>;

    /// Releases (canary, bake, fleet, bake), newest first, at most `limit`, with
    /// the watched alarms' states of a bake in progress.
    async fn releases(&self, limit: usize) -> Result<Vec<Release>>;

    async fn deployment_targets(&self, deployment_id: &str) -> Result<Vec<DeploymentTarget>>;

    /// Revisions available to deploy, newest first.
    async fn revisions(&self) -> Result<Vec<RevisionInfo>>;

    async fn backups(&self) -> Result<BackupOverview>;

    // Mutations (called only through `crate::ops`).

    /// Sets a group's min, desired and max.
    async fn set_capacity(&self, tier: Tier, capacity: Capacity) -> Result<()>;

    /// Remembers (or forgets, with `None`) the capacity `stop` replaced, for `start`.
    async fn remember_stopped(&self, tier: Tier, capacity: Option<Capacity>) -> Result<()>;

    /// Starts a deployment of `revision`; returns its id.
    async fn create_deployment(&self, revision: &str, description: &str) -> Result<String>;

    /// Stops a running deployment, rolling back the instances it touched when asked.
    async fn stop_deployment(&self, deployment_id: &str, rollback: bool) -> Result<()>;

    /// Stops `request.stop` (without CodeDeploy's own rollback), then creates in
    /// each target group a deployment of `request.revision` with the group's alarm
    /// monitoring overridden off, so that an alarm still in ALARM cannot stop it.
    /// Returns the new deployments' ids, in the order of the targets.
    async fn roll_back(&self, request: &RollbackRequest) -> Result<Vec<String>>;

    /// Starts a manual snapshot ([`BackupKind::Manual`]) or an on-demand backup job
    /// ([`BackupKind::RecoveryPoint`]); returns the new backup's id.
    async fn create_backup(&self, kind: BackupKind) -> Result<String>;

    /// Cancels a backup that is still being created, where the service allows it.
    async fn cancel_backup(&self, backup_id: &str) -> Result<()>;

    /// Starts restoring into a new database `target_id`.
    async fn restore(&self, source: &RestoreSource, target_id: &str) -> Result<()>;

    /// Points the application at another database (the restored one).
    async fn point_app_at(&self, database_id: &str) -> Result<()>;

    /// Plans or applies the environment's infrastructure, streaming output lines.
    async fn provision(&self, mode: ProvisionMode, output: LineSink) -> Result<PlanSummary>;

    /// Appends to the environment's own audit trail (the local file is written by
    /// `crate::ops`).
    async fn record_audit(&self, record: &AuditRecord) -> Result<()>;

    /// Injects a fault (simulator only).
    async fn chaos(&self, kind: ChaosKind) -> Result<String> {
        Err(BackendError::Unsupported(format!(
            "chaos '{}' (only the demo environment injects faults)",
            kind.as_str()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_lists_choices() {
        let e = BackendError::NotFound {
            what: "backup",
            id: "snap-x".into(),
            choices: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            e.to_string(),
            "backup 'snap-x' not found; choose one of: a, b"
        );
        let e = BackendError::NotFound {
            what: "backup",
            id: "snap-x".into(),
            choices: vec![],
        };
        assert_eq!(e.to_string(), "backup 'snap-x' not found");
    }

    #[test]
    fn only_throttling_and_outages_are_transient() {
        let down = BackendError::Unreachable {
            service: "ec2".into(),
            message: "connection refused".into(),
        };
        assert!(down.is_transient() && down.is_offline());
        assert!(!BackendError::Invalid("x".into()).is_transient());
    }
}
