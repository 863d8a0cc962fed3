//! Following an action to its end by polling the environment: the same progress
//! for `--wait` on the command line and for the console's progress pane.

use std::time::Duration;

use crate::backend::{Backend, BackendError};
use crate::domain::{
    BackupStatus, DeploymentStatus, Health, InstanceState, ReleasePhase, StageStatus, Tier,
};

/// How long a release stopped with auto-rollback may show no rollback before
/// the wait gives up on one.
const ROLLBACK_GRACE: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// What to poll to see an action complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Watch {
    Scaling {
        tier: Tier,
        desired: u32,
    },
    Deployment {
        id: String,
    },
    /// The release a deployment belongs to, to its end; a rollback's ends well
    /// rolled back.
    Release {
        id: String,
        rollback: bool,
    },
    Backup {
        id: String,
    },
    Restore {
        database: String,
    },
}

/// One observation of an action in flight.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub line: String,
    pub percent: Option<u8>,
    /// `Some(true)` when it ended well, `Some(false)` when it ended badly.
    pub finished: Option<bool>,
}

impl Watch {
    /// Reads the environment once and says where the action stands.
    pub async fn poll(&self, backend: &dyn Backend) -> Result<Progress, BackendError> {
        match self {
            Watch::Scaling { tier, desired } => {
                let topology = backend.topology().await?;
                let Some(group) = topology.group(*tier) else {
                    return Ok(Progress {
                        line: format!("{tier}: the group is gone"),
                        percent: None,
                        finished: Some(false),
                    });
                };
                let live: Vec<_> = group
                    .instances
                    .iter()
                    .filter(|i| !matches!(i.state, InstanceState::Terminated))
                    .collect();
                let ready = live
                    .iter()
                    .filter(|i| i.state == InstanceState::InService && i.health == Health::Healthy)
                    .count() as u32;
                let pending = live
                    .iter()
                    .filter(|i| i.state == InstanceState::Pending)
                    .count();
                let terminating = live
                    .iter()
                    .filter(|i| i.state == InstanceState::Terminating)
                    .count();
                let done = ready == *desired && live.len() as u32 == *desired;
                let activity = group
                    .activities
                    .first()
                    .map(|a| format!(" · {}", a.description))
                    .unwrap_or_default();
                let percent = if *desired == 0 {
                    None
                } else {
                    Some(((ready.min(*desired) * 100) / desired) as u8)
                };
                Ok(Progress {
                    line: format!(
                        "{tier}: {ready}/{desired} in service and healthy, {pending} pending, {terminating} terminating{activity}"
                    ),
                    percent,
                    finished: done.then_some(true),
                })
            }
            Watch::Deployment { id } => {
                let deployments = backend.deployments(50).await?;
                let Some(d) = deployments.iter().find(|d| &d.id == id) else {
                    return Err(BackendError::NotFound {
                        what: "deployment",
                        id: id.clone(),
                        choices: vec![],
                    });
                };
                let c = d.instances;
                let total = c.pending + c.in_progress + c.succeeded + c.failed + c.skipped;
                let mut line = format!(
                    "deployment {id} of {}: {} ({}/{} instances done",
                    d.revision,
                    d.status.as_str(),
                    c.succeeded + c.skipped,
                    total
                );
                if c.failed > 0 {
                    line.push_str(&format!(", {} failed", c.failed));
                }
                line.push(')');
                if let Some(err) = &d.error {
                    line.push_str(&format!(" · {err}"));
                }
                if let Some(by) = &d.rolled_back_by {
                    line.push_str(&format!(" · rolled back by {by}"));
                }
                let finished = match d.status {
                    DeploymentStatus::Succeeded => Some(true),
                    DeploymentStatus::Failed | DeploymentStatus::Stopped => Some(false),
                    _ => None,
                };
                Ok(Progress {
                    line,
                    percent: (total > 0).then(|| ((c.succeeded + c.skipped) * 100 / total) as u8),
                    finished,
                })
            }
            Watch::Release { id, rollback } => {
                let releases = backend.releases(20).await?;
                let Some(r) = releases.iter().find(|r| r.contains(id)) else {
                    return Ok(Progress {
                        line: format!("deployment {id}: waiting for it to appear"),
                        percent: None,
                        finished: None,
                    });
                };
                let now = backend.now();
                let mut line = format!(
                    "release {} of {}: {} · {}",
                    r.id,
                    r.revision,
                    r.phase.as_str(),
                    r.pipeline(now)
                );
                if !r.rollbacks.is_empty() {
                    let rbs: Vec<String> = r
                        .rollbacks
                        .iter()
                        .map(|x| format!("{} {} {}", x.deployment, x.group, x.status.as_str()))
                        .collect();
                    line.push_str(&format!(" · rollback {}", rbs.join(", ")));
                }
                if let Some(err) = &r.error {
                    line.push_str(&format!(" · {err}"));
                }
                // CodeDeploy creates the rollback of a deployment stopped with
                // auto-rollback a few seconds after the stop: until then the
                // release reads as stopped, not yet as rolling back.
                let rollback_due = *rollback
                    && r.rollbacks.is_empty()
                    && r.completed.is_none_or(|c| now - c < ROLLBACK_GRACE);
                let finished = match r.phase {
                    ReleasePhase::Succeeded => Some(true),
                    ReleasePhase::RolledBack => Some(*rollback),
                    ReleasePhase::Failed | ReleasePhase::Stopped if rollback_due => {
                        line.push_str(" · waiting for the rollback to start");
                        None
                    }
                    ReleasePhase::Failed | ReleasePhase::Stopped => Some(false),
                    _ => None,
                };
                // Each of the four stages a quarter, the running one by its progress.
                let mut done = 0.0;
                for s in &r.stages {
                    done += match s.status {
                        StageStatus::Pending => 0.0,
                        StageStatus::InProgress => match (&s.bake, s.instances) {
                            (Some(b), _) => b.remaining_at(now).map_or(0.0, |left| {
                                1.0 - left as f64 / b.duration_secs.max(1) as f64
                            }),
                            (None, Some(c)) => {
                                let total =
                                    c.pending + c.in_progress + c.succeeded + c.failed + c.skipped;
                                f64::from(c.succeeded + c.skipped) / f64::from(total.max(1))
                            }
                            _ => 0.0,
                        },
                        _ => 1.0,
                    };
                }
                Ok(Progress {
                    line,
                    percent: Some(((done / 4.0).clamp(0.0, 1.0) * 100.0) as u8),
                    finished,
                })
            }
            Watch::Backup { id } => {
                let overview = backend.backups().await?;
                let Some(b) = overview.backups.iter().find(|b| &b.id == id) else {
                    return Ok(Progress {
                        line: format!("backup {id}: waiting for it to appear"),
                        percent: None,
                        finished: None,
                    });
                };
                let finished = match b.status {
                    BackupStatus::Available => Some(true),
                    BackupStatus::Failed | BackupStatus::Expired | BackupStatus::Deleting => {
                        Some(false)
                    }
                    BackupStatus::Creating => None,
                };
                let percent = b
                    .progress
                    .or((b.status == BackupStatus::Available).then_some(100));
                Ok(Progress {
                    line: format!(
                        "backup {id}: {}{}",
                        b.status.as_str(),
                        percent.map(|p| format!(" {p}%")).unwrap_or_default()
                    ),
                    percent,
                    finished,
                })
            }
            Watch::Restore { database } => {
                let overview = backend.backups().await?;
                let Some(db) = overview.restores.iter().find(|d| &d.id == database) else {
                    return Ok(Progress {
                        line: format!("restore {database}: waiting for it to appear"),
                        percent: None,
                        finished: None,
                    });
                };
                let finished = match db.status.as_str() {
                    "available" => Some(true),
                    "failed" | "incompatible-restore" | "incompatible-parameters" => Some(false),
                    _ => None,
                };
                Ok(Progress {
                    line: format!("restore {database}: {}", db.status),
                    percent: None,
                    finished,
                })
            }
        }
    }

    /// How often to poll: the simulator is local and cheap, AWS is not.
    pub fn interval(backend: &dyn Backend) -> Duration {
        match backend.kind() {
            crate::domain::BackendKind::Sim => Duration::from_millis(500),
            crate::domain::BackendKind::Aws => Duration::from_secs(5),
        }
    }
}
