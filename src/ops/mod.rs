//! The one path every mutation takes, from a key or from a subcommand:
//! read-only check, validation against the live environment (which also spells
//! out exactly what will change), confirmation (typed env name in production),
//! the backend call, and an audit record of how it ended.
//!
//! ```text
//! Runner::check_writable ─► Runner::prepare ─► caller confirms ─► Runner::run ─► watch
//!        │ refused              │ invalid            │ declined        │ ok/failed
//!        └──────────────────────┴────────────────────┴─────────────────┴──► audit log
//! ```

mod audit;
mod prepare;
pub mod watch;

use std::sync::Arc;

pub use audit::AuditLog;

use crate::backend::{Backend, BackendError, LineSink};
use crate::domain::{
    AuditOutcome, AuditRecord, BackupKind, Capacity, ChaosKind, PlanSummary, ProvisionMode,
    RestoreSource, RollbackRequest, Tier,
};

/// A change an operator asks for, before it is checked against the environment.
#[derive(Clone, Debug, PartialEq)]
pub enum Operation {
    Scale {
        tier: Tier,
        desired: u32,
    },
    Start {
        tier: Tier,
    },
    Stop {
        tier: Tier,
    },
    Deploy {
        revision: String,
    },
    Rollback,
    Backup {
        kind: BackupKind,
    },
    Restore {
        source: RestoreSource,
    },
    PointApp {
        database: String,
    },
    Cancel {
        id: String,
    },
    /// Apply the infrastructure plan (the plan itself changes nothing).
    Provision,
    Chaos {
        kind: ChaosKind,
    },
}

impl Operation {
    pub fn name(&self) -> &'static str {
        match self {
            Operation::Scale { .. } => "scale",
            Operation::Start { .. } => "start",
            Operation::Stop { .. } => "stop",
            Operation::Deploy { .. } => "deploy",
            Operation::Rollback => "rollback",
            Operation::Backup { .. } => "backup",
            Operation::Restore { .. } => "restore",
            Operation::PointApp { .. } => "point-app",
            Operation::Cancel { .. } => "cancel",
            Operation::Provision => "provision",
            Operation::Chaos { .. } => "chaos",
        }
    }

    /// What was asked, in words, before validation.
    pub fn describe(&self) -> String {
        match self {
            Operation::Scale { tier, desired } => format!("scale {tier} to {desired}"),
            Operation::Start { tier } => format!("start {tier}"),
            Operation::Stop { tier } => format!("stop {tier}"),
            Operation::Deploy { revision } => format!("deploy {revision}"),
            Operation::Rollback => "roll back the application".into(),
            Operation::Backup { kind } => match kind {
                BackupKind::RecoveryPoint => "start a backup job".into(),
                _ => "take a database snapshot".into(),
            },
            Operation::Restore { source } => match source {
                RestoreSource::Backup { id } => format!("restore {id}"),
                RestoreSource::PointInTime { time } => {
                    format!("restore the database to {}", time.to_rfc3339())
                }
            },
            Operation::PointApp { database } => format!("point the app at {database}"),
            Operation::Cancel { id } => format!("cancel {id}"),
            Operation::Provision => "apply the infrastructure plan".into(),
            Operation::Chaos { kind } => format!("inject {}", kind.as_str()),
        }
    }
}

/// The concrete backend call an [`Operation`] became once validated.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    SetCapacity {
        tier: Tier,
        to: Capacity,
        /// `Some(x)`: also remember `x` as the stopped capacity (`None` forgets it).
        remember: Option<Option<Capacity>>,
    },
    CreateDeployment {
        revision: String,
    },
    StopDeployment {
        id: String,
        rollback: bool,
    },
    /// Stop what runs and redeploy the previous revision to the groups a release
    /// reached, the alarm monitoring overridden off.
    RollBack {
        request: RollbackRequest,
        /// The release it rolls back; `None` for a rollback straight to both
        /// groups with nothing on its way.
        release: Option<String>,
    },
    CreateBackup {
        kind: BackupKind,
    },
    CancelBackup {
        id: String,
    },
    Restore {
        source: RestoreSource,
        target: String,
    },
    PointApp {
        database: String,
        /// The revision to redeploy so that every instance reconnects: the app
        /// reads its database endpoint when a deployment installs it.
        redeploy: Option<String>,
    },
    ApplyPlan,
    Chaos {
        kind: ChaosKind,
    },
}

/// A validated operation: what will be sent and, in words, what will change.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    pub op: Operation,
    pub step: Step,
    /// One line, shown in the confirmation and written to the audit log,
    /// e.g. `web: desired 2 -> 5`.
    pub change: String,
    /// Context for the confirmation: current state, consequences.
    pub details: Vec<String>,
}

/// How the operator must confirm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirm {
    /// Yes or no.
    YesNo,
    /// Type the environment's name (production).
    TypeName(String),
}

/// What went wrong on the mutation path; each maps to an exit code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OpsError {
    /// Bad input: names the problem and the valid choices. Exit 2.
    #[error("{0}")]
    Invalid(String),
    /// Not allowed (read-only, unconfirmed). Nothing was sent. Exit 3.
    #[error("{0}")]
    Refused(String),
    /// The backend failed. Exit 1.
    #[error("{0}")]
    Failed(#[from] BackendError),
}

impl OpsError {
    pub fn exit_code(&self) -> i32 {
        match self {
            OpsError::Failed(BackendError::Invalid(_) | BackendError::NotFound { .. }) => 2,
            OpsError::Failed(_) => 1,
            OpsError::Invalid(_) => 2,
            OpsError::Refused(_) => 3,
        }
    }
}

/// What a successful run left behind, and what to watch to see it complete.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub message: String,
    pub watch: Option<watch::Watch>,
}

/// Carries an operator's mutations through the one path. Cheap to clone.
#[derive(Clone)]
pub struct Runner {
    backend: Arc<dyn Backend>,
    audit: AuditLog,
    read_only: bool,
    production: bool,
    who: Arc<tokio::sync::OnceCell<String>>,
}

impl Runner {
    pub fn new(
        backend: Arc<dyn Backend>,
        audit: AuditLog,
        read_only: bool,
        production: bool,
    ) -> Runner {
        Runner {
            backend,
            audit,
            read_only,
            production,
            who: Arc::default(),
        }
    }

    /// The caller identity's principal, asked once. When the backend cannot say
    /// (expired credentials, an outage), the local user stands in, marked as such.
    pub async fn who(&self) -> String {
        self.who
            .get_or_init(|| async {
                match self.backend.identity().await {
                    Ok(id) => id.principal,
                    Err(e) => {
                        let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
                        format!("local user {user} (identity unavailable: {e})")
                    }
                }
            })
            .await
            .clone()
    }

    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    pub fn read_only(&self) -> bool {
        self.read_only
    }

    pub fn env(&self) -> &str {
        self.backend.env()
    }

    /// Refuses any mutation in read-only mode, before anything is read or sent.
    pub async fn check_writable(&self, op: &Operation) -> Result<(), OpsError> {
        if !self.read_only {
            return Ok(());
        }
        let reason = format!(
            "read-only mode: refusing to {} in {}; nothing was sent (run without --read-only, and without read_only in the config, to act)",
            op.describe(),
            self.env()
        );
        self.record(op, &op.describe(), AuditOutcome::Refused, Some(&reason))
            .await;
        Err(OpsError::Refused(reason))
    }

    /// Records a refusal by read-only mode of an action not yet fully specified
    /// (a key pressed before its arguments were asked for).
    pub async fn refuse_read_only(&self, what: &str) -> OpsError {
        let reason = format!(
            "read-only mode: refusing to {what} in {}; nothing was sent",
            self.env()
        );
        let record = AuditRecord {
            time: self.backend.now(),
            env: self.env().to_string(),
            backend: self.backend.kind(),
            who: self.who().await,
            action: what.to_string(),
            change: what.to_string(),
            outcome: AuditOutcome::Refused,
            detail: Some(reason.clone()),
        };
        if let Err(e) = self.audit.append(&record) {
            tracing::warn!("audit log: {e:#}");
        }
        OpsError::Refused(reason)
    }

    /// Validates `op` against the environment as it is now and works out the
    /// exact change. Invalid input is audited as refused.
    pub async fn prepare(&self, op: Operation) -> Result<Prepared, OpsError> {
        self.check_writable(&op).await?;
        match prepare::prepare(self.backend.as_ref(), op.clone()).await {
            Ok(p) => Ok(p),
            Err(e) => {
                self.record(
                    &op,
                    &op.describe(),
                    AuditOutcome::Refused,
                    Some(&e.to_string()),
                )
                .await;
                Err(e)
            }
        }
    }

    /// How `prepared` must be confirmed in this environment.
    pub fn confirmation(&self) -> Confirm {
        if self.production {
            Confirm::TypeName(self.env().to_string())
        } else {
            Confirm::YesNo
        }
    }

    /// Records that the operator declined, or could not be asked.
    pub async fn decline(&self, prepared: &Prepared, reason: &str, refused: bool) {
        let outcome = if refused {
            AuditOutcome::Refused
        } else {
            AuditOutcome::Cancelled
        };
        self.record(&prepared.op, &prepared.change, outcome, Some(reason))
            .await;
    }

    /// Sends the validated change and records how it ended.
    pub async fn run(&self, prepared: &Prepared) -> Result<Outcome, OpsError> {
        // Read-only is checked again here so that no caller can skip it.
        self.check_writable(&prepared.op).await?;
        let result = prepare::execute(self.backend.as_ref(), prepared).await;
        match &result {
            Ok(outcome) => {
                self.record(
                    &prepared.op,
                    &prepared.change,
                    AuditOutcome::Succeeded,
                    Some(&outcome.message),
                )
                .await
            }
            Err(e) => {
                self.record(
                    &prepared.op,
                    &prepared.change,
                    AuditOutcome::Failed,
                    Some(&e.to_string()),
                )
                .await
            }
        }
        result.map_err(OpsError::from)
    }

    /// Plans the environment's infrastructure, streaming the output. Planning
    /// changes nothing, so it is allowed in read-only mode and not audited.
    pub async fn plan(&self, output: LineSink) -> Result<PlanSummary, OpsError> {
        Ok(self.backend.provision(ProvisionMode::Plan, output).await?)
    }

    /// Applies the plan after confirmation, streaming the output, and records it.
    pub async fn apply(
        &self,
        prepared: &Prepared,
        output: LineSink,
    ) -> Result<PlanSummary, OpsError> {
        self.check_writable(&prepared.op).await?;
        let result = self.backend.provision(ProvisionMode::Apply, output).await;
        let (outcome, detail) = match &result {
            Ok(summary) => (AuditOutcome::Succeeded, format!("applied: {summary}")),
            Err(e) => (AuditOutcome::Failed, e.to_string()),
        };
        self.record(&prepared.op, &prepared.change, outcome, Some(&detail))
            .await;
        Ok(result?)
    }

    /// Writes the record locally (always) and to the environment's audit trail.
    /// A failure to write either is reported on stderr rather than failing the
    /// action, which has already happened.
    async fn record(
        &self,
        op: &Operation,
        change: &str,
        outcome: AuditOutcome,
        detail: Option<&str>,
    ) {
        let record = AuditRecord {
            time: self.backend.now(),
            env: self.env().to_string(),
            backend: self.backend.kind(),
            who: self.who().await,
            action: op.name().to_string(),
            change: change.to_string(),
            outcome,
            detail: detail.map(str::to_string),
        };
        if let Err(e) = self.audit.append(&record) {
            tracing::warn!("audit log: {e:#}");
        }
        // Refusals never reach the environment: nothing was sent, by definition.
        if outcome != AuditOutcome::Refused
            && let Err(e) = self.backend.record_audit(&record).await
        {
            tracing::warn!("audit trail of {}: {e}", self.env());
        }
    }
}
