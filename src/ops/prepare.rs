//! Validation of each operation against the live environment, and its execution.

use crate::backend::{Backend, BackendError};
use crate::domain::{
    BackendKind, BackupKind, BackupStatus, Capacity, DeploymentStatus, RestoreSource, Tier,
    Timestamp,
};

use super::watch::Watch;
use super::{Operation, OpsError, Outcome, Prepared, Step};

/// How many choices an error message lists before "...".
const MAX_CHOICES: usize = 8;

pub(super) async fn prepare(backend: &dyn Backend, op: Operation) -> Result<Prepared, OpsError> {
    match &op {
        Operation::Scale { tier, desired } => scale(backend, op.clone(), *tier, *desired).await,
        Operation::Stop { tier } => stop(backend, op.clone(), *tier).await,
        Operation::Start { tier } => start(backend, op.clone(), *tier).await,
        Operation::Deploy { revision } => deploy(backend, op.clone(), revision).await,
        Operation::Rollback => rollback(backend, op.clone()).await,
        Operation::Backup { kind } => backup(backend, op.clone(), *kind).await,
        Operation::Restore { source } => restore(backend, op.clone(), source).await,
        Operation::PointApp { database } => point_app(backend, op.clone(), database).await,
        Operation::Cancel { id } => cancel(backend, op.clone(), id).await,
        Operation::Provision => Ok(Prepared {
            op: op.clone(),
            step: Step::ApplyPlan,
            change: format!("apply the infrastructure plan of {}", backend.env()),
            details: vec![],
        }),
        Operation::Chaos { kind } => {
            if backend.kind() != BackendKind::Sim {
                return Err(OpsError::Invalid(format!(
                    "chaos is only for the demo environment; {} is a real one",
                    backend.env()
                )));
            }
            Ok(Prepared {
                op: op.clone(),
                step: Step::Chaos { kind: *kind },
                change: format!("inject {}: {}", kind.as_str(), kind.describe()),
                details: vec![],
            })
        }
    }
}

pub(super) async fn execute(
    backend: &dyn Backend,
    prepared: &Prepared,
) -> Result<Outcome, BackendError> {
    match &prepared.step {
        Step::SetCapacity { tier, to, remember } => {
            if let Some(remember) = remember {
                // Remember before scaling to zero, so a failure in between never
                // loses the capacity to come back to.
                if remember.is_some() {
                    backend.remember_stopped(*tier, *remember).await?;
                }
                backend.set_capacity(*tier, *to).await?;
                if remember.is_none() {
                    backend.remember_stopped(*tier, None).await?;
                }
            } else {
                backend.set_capacity(*tier, *to).await?;
            }
            Ok(Outcome {
                message: format!(
                    "{tier}: capacity set to {} (min {}, max {})",
                    to.desired, to.min, to.max
                ),
                watch: Some(Watch::Scaling {
                    tier: *tier,
                    desired: to.desired,
                }),
            })
        }
        Step::CreateDeployment { revision } => {
            let description = format!("{} via njtui", prepared.op.describe());
            let id = backend.create_deployment(revision, &description).await?;
            Ok(Outcome {
                message: format!("deployment {id} of {revision} created"),
                watch: Some(Watch::Deployment { id }),
            })
        }
        Step::StopDeployment { id, rollback } => {
            backend.stop_deployment(id, *rollback).await?;
            Ok(Outcome {
                message: if *rollback {
                    format!("deployment {id} stopped; rolling back")
                } else {
                    format!("deployment {id} stopped")
                },
                watch: Some(Watch::Deployment { id: id.clone() }),
            })
        }
        Step::CreateBackup { kind } => {
            let id = backend.create_backup(*kind).await?;
            Ok(Outcome {
                message: format!("backup {id} started"),
                watch: Some(Watch::Backup { id }),
            })
        }
        Step::CancelBackup { id } => {
            backend.cancel_backup(id).await?;
            Ok(Outcome {
                message: format!("backup {id} cancelled"),
                watch: None,
            })
        }
        Step::Restore { source, target } => {
            backend.restore(source, target).await?;
            Ok(Outcome {
                message: format!("restoring into {target}"),
                watch: Some(Watch::Restore {
                    database: target.clone(),
                }),
            })
        }
        Step::PointApp { database, redeploy } => {
            backend.point_app_at(database).await?;
            let Some(revision) = redeploy else {
                return Ok(Outcome {
                    message: format!("the app of {} now uses {database}", backend.env()),
                    watch: None,
                });
            };
            let description = format!("redeploy {revision} to reconnect to {database} via njtui");
            let id = backend.create_deployment(revision, &description).await?;
            Ok(Outcome {
                message: format!(
                    "{} now points at {database}; deployment {id} of {revision} reconnects every instance",
                    backend.env()
                ),
                watch: Some(Watch::Deployment { id }),
            })
        }
        Step::ApplyPlan => Err(BackendError::Invalid(
            "provisioning is applied through ops::provision, which streams its output".into(),
        )),
        Step::Chaos { kind } => {
            let message = backend.chaos(*kind).await?;
            Ok(Outcome {
                message,
                watch: None,
            })
        }
    }
}

fn choices<I: IntoIterator<Item = String>>(items: I) -> Vec<String> {
    let mut all: Vec<String> = items.into_iter().collect();
    if all.len() > MAX_CHOICES {
        let more = all.len() - MAX_CHOICES;
        all.truncate(MAX_CHOICES);
        all.push(format!("... ({more} more)"));
    }
    all
}

async fn group_capacity(
    backend: &dyn Backend,
    tier: Tier,
) -> Result<(Capacity, Option<Capacity>), OpsError> {
    let topology = backend.topology().await?;
    let group = topology.group(tier).ok_or_else(|| {
        OpsError::Invalid(format!(
            "{tier}: no Auto Scaling group tagged Tier={tier} in {}",
            backend.env()
        ))
    })?;
    Ok((group.capacity, group.stopped))
}

async fn scale(
    backend: &dyn Backend,
    op: Operation,
    tier: Tier,
    desired: u32,
) -> Result<Prepared, OpsError> {
    let (cap, _) = group_capacity(backend, tier).await?;
    if desired < cap.min || desired > cap.max {
        return Err(OpsError::Invalid(format!(
            "{tier}: desired {desired} is outside the group's limits; choose from {} to {}",
            cap.min, cap.max
        )));
    }
    if desired == cap.desired {
        return Err(OpsError::Invalid(format!(
            "{tier} is already at desired {desired}; nothing to change"
        )));
    }
    Ok(Prepared {
        op,
        step: Step::SetCapacity {
            tier,
            to: Capacity { desired, ..cap },
            remember: None,
        },
        change: format!("{tier}: desired {} -> {desired}", cap.desired),
        details: vec![format!("limits: min {}, max {}", cap.min, cap.max)],
    })
}

async fn stop(backend: &dyn Backend, op: Operation, tier: Tier) -> Result<Prepared, OpsError> {
    let (cap, _) = group_capacity(backend, tier).await?;
    if cap.desired == 0 {
        return Err(OpsError::Invalid(format!(
            "{tier} is already stopped (desired 0); `start {tier}` brings it back"
        )));
    }
    let to = Capacity {
        min: 0,
        desired: 0,
        max: cap.max,
    };
    Ok(Prepared {
        op,
        step: Step::SetCapacity {
            tier,
            to,
            remember: Some(Some(cap)),
        },
        change: format!(
            "{tier}: stop, desired {} -> 0, min {} -> 0",
            cap.desired, cap.min
        ),
        details: vec![
            format!("every {tier} instance will be terminated"),
            format!(
                "`start {tier}` restores min {}, desired {}",
                cap.min, cap.desired
            ),
        ],
    })
}

async fn start(backend: &dyn Backend, op: Operation, tier: Tier) -> Result<Prepared, OpsError> {
    let (cap, stopped) = group_capacity(backend, tier).await?;
    let Some(saved) = stopped else {
        return Err(OpsError::Invalid(if cap.desired > 0 {
            format!(
                "{tier} is running (desired {}); nothing to start",
                cap.desired
            )
        } else {
            format!(
                "{tier} has no capacity remembered by `stop`; use `scale {tier} N` with N from {} to {}",
                cap.min.max(1),
                cap.max
            )
        }));
    };
    let to = Capacity {
        max: saved.max.max(saved.desired),
        ..saved
    };
    Ok(Prepared {
        op,
        step: Step::SetCapacity {
            tier,
            to,
            remember: Some(None),
        },
        change: format!(
            "{tier}: start, desired {} -> {}, min {} -> {}",
            cap.desired, to.desired, cap.min, to.min
        ),
        details: vec![],
    })
}

async fn deploy(
    backend: &dyn Backend,
    op: Operation,
    revision: &str,
) -> Result<Prepared, OpsError> {
    let (revisions, deployments, topology) = tokio::try_join!(
        backend.revisions(),
        backend.deployments(10),
        backend.topology()
    )?;
    if !revisions.iter().any(|r| r.name == revision) {
        return Err(OpsError::Invalid(
            BackendError::NotFound {
                what: "revision",
                id: revision.to_string(),
                choices: choices(revisions.iter().map(|r| r.name.clone())),
            }
            .to_string(),
        ));
    }
    if let Some(active) = deployments.iter().find(|d| d.status.is_active()) {
        return Err(OpsError::Invalid(format!(
            "deployment {} of {} is {}; wait for it, or `rollback` to stop it",
            active.id,
            active.revision,
            active.status.as_str()
        )));
    }
    let current = topology
        .delivery
        .as_ref()
        .and_then(|d| d.current_revision.clone());
    let web = topology
        .group(Tier::Web)
        .map(|g| g.instances.len())
        .unwrap_or(0);
    Ok(Prepared {
        op,
        step: Step::CreateDeployment {
            revision: revision.to_string(),
        },
        change: format!(
            "deploy {revision} to {} (now {})",
            backend.env(),
            current.as_deref().unwrap_or("nothing")
        ),
        details: vec![format!(
            "{web} web instance(s), one at a time; rolls back on failure or alarm"
        )],
    })
}

async fn rollback(backend: &dyn Backend, op: Operation) -> Result<Prepared, OpsError> {
    let deployments = backend.deployments(50).await?;
    if let Some(active) = deployments.iter().find(|d| d.status.is_active()) {
        return Ok(Prepared {
            op,
            step: Step::StopDeployment {
                id: active.id.clone(),
                rollback: true,
            },
            change: format!(
                "stop deployment {} of {} and roll its instances back",
                active.id, active.revision
            ),
            details: vec![],
        });
    }
    let mut good = deployments
        .iter()
        .filter(|d| d.status == DeploymentStatus::Succeeded);
    let current = good.next().ok_or_else(|| {
        OpsError::Invalid("nothing to roll back: no successful deployment yet".into())
    })?;
    let previous = good
        .find(|d| d.revision != current.revision)
        .ok_or_else(|| {
            OpsError::Invalid(format!(
                "nothing to roll back to: no successful deployment of another revision before {}",
                current.revision
            ))
        })?;
    Ok(Prepared {
        op,
        step: Step::CreateDeployment {
            revision: previous.revision.clone(),
        },
        change: format!(
            "roll back {} from {} to {} (redeploy)",
            backend.env(),
            current.revision,
            previous.revision
        ),
        details: vec![format!(
            "{} was deployed by {} on {}",
            previous.revision,
            previous.id,
            previous.created.format("%Y-%m-%d %H:%M")
        )],
    })
}

async fn backup(
    backend: &dyn Backend,
    op: Operation,
    kind: BackupKind,
) -> Result<Prepared, OpsError> {
    let topology = backend.topology().await?;
    let db = topology.database.as_ref().ok_or_else(|| {
        OpsError::Invalid(format!("{} has no database to back up", backend.env()))
    })?;
    let change = match kind {
        BackupKind::Manual => format!("take a manual snapshot of {}", db.id),
        BackupKind::RecoveryPoint => format!(
            "start an AWS Backup job of {} into vault notejam-{}",
            db.id,
            backend.env()
        ),
        BackupKind::Automated => {
            return Err(OpsError::Invalid(
                "automated snapshots are taken by RDS itself; choose a snapshot or a backup job"
                    .into(),
            ));
        }
    };
    Ok(Prepared {
        op,
        step: Step::CreateBackup { kind },
        change,
        details: vec![],
    })
}

/// `notejam-<env>-restore-<yyyymmddhhmmss>`: the contract's name for a restored copy.
pub fn restore_target(env: &str, now: Timestamp) -> String {
    format!("notejam-{env}-restore-{}", now.format("%Y%m%d%H%M%S"))
}

async fn restore(
    backend: &dyn Backend,
    op: Operation,
    source: &RestoreSource,
) -> Result<Prepared, OpsError> {
    let overview = backend.backups().await?;
    if let Some(running) = overview.restores.iter().find(|d| !d.is_available()) {
        return Err(OpsError::Invalid(format!(
            "restore into {} is still running ({}); wait until it is available",
            running.id, running.status
        )));
    }
    let target = restore_target(backend.env(), backend.now());
    let change = match source {
        RestoreSource::Backup { id } => {
            let Some(b) = overview.backups.iter().find(|b| &b.id == id) else {
                return Err(OpsError::Invalid(
                    BackendError::NotFound {
                        what: "backup",
                        id: id.clone(),
                        choices: choices(
                            overview
                                .backups
                                .iter()
                                .filter(|b| b.is_restorable())
                                .map(|b| b.id.clone()),
                        ),
                    }
                    .to_string(),
                ));
            };
            if b.status != BackupStatus::Available {
                return Err(OpsError::Invalid(format!(
                    "backup {id} is {}; only an available backup can be restored",
                    b.status.as_str()
                )));
            }
            format!(
                "restore {} backup {id} ({}) into new database {target}",
                b.kind.as_str(),
                b.created.format("%Y-%m-%d %H:%M UTC")
            )
        }
        RestoreSource::PointInTime { time } => {
            let latest = overview.latest_restorable.ok_or_else(|| {
                OpsError::Invalid(
                    "point-in-time restore is unavailable: the database reports no restorable time"
                        .into(),
                )
            })?;
            let earliest = overview
                .backups
                .iter()
                .filter(|b| b.kind == BackupKind::Automated && b.is_restorable())
                .map(|b| b.created)
                .min();
            if *time > latest || earliest.is_some_and(|e| *time < e) {
                return Err(OpsError::Invalid(format!(
                    "{} is outside the restorable window; choose a time between {} and {}",
                    time.to_rfc3339(),
                    earliest.map_or("the oldest automated backup".into(), |e| e.to_rfc3339()),
                    latest.to_rfc3339()
                )));
            }
            format!(
                "restore the database as of {} into new database {target}",
                time.format("%Y-%m-%d %H:%M:%S UTC")
            )
        }
    };
    Ok(Prepared {
        op,
        step: Step::Restore {
            source: source.clone(),
            target,
        },
        change,
        details: vec![
            "the app keeps using its current database until you point it at the copy".into(),
        ],
    })
}

async fn point_app(
    backend: &dyn Backend,
    op: Operation,
    database: &str,
) -> Result<Prepared, OpsError> {
    let (topology, deployments) = tokio::try_join!(backend.topology(), backend.deployments(10))?;
    let current = topology.database.as_ref().map(|d| d.id.clone());
    if current.as_deref() == Some(database) {
        return Err(OpsError::Invalid(format!(
            "the app already uses {database}; nothing to change"
        )));
    }
    let Some(db) = topology.other_databases.iter().find(|d| d.id == database) else {
        return Err(OpsError::Invalid(
            BackendError::NotFound {
                what: "database",
                id: database.to_string(),
                choices: choices(topology.other_databases.iter().map(|d| d.id.clone())),
            }
            .to_string(),
        ));
    };
    if !db.is_available() {
        return Err(OpsError::Invalid(format!(
            "{database} is {}; the app can only be pointed at an available database",
            db.status
        )));
    }
    if let Some(active) = deployments.iter().find(|d| d.status.is_active()) {
        return Err(OpsError::Invalid(format!(
            "deployment {} is {}; wait for it to end before pointing the app elsewhere",
            active.id,
            active.status.as_str()
        )));
    }
    let redeploy = topology
        .delivery
        .as_ref()
        .and_then(|d| d.current_revision.clone());
    let mut details = vec![
        "writes made to the current database after the backup are not in the copy".to_string(),
    ];
    details.push(match &redeploy {
        Some(r) => format!("then redeploys {r}, so every instance reconnects to the copy"),
        None => "no revision is deployed yet: instances pick the copy up at their next deployment"
            .to_string(),
    });
    Ok(Prepared {
        op,
        step: Step::PointApp {
            database: database.to_string(),
            redeploy,
        },
        change: format!(
            "point the app of {} at {database} (now {})",
            backend.env(),
            current.as_deref().unwrap_or("none")
        ),
        details,
    })
}

async fn cancel(backend: &dyn Backend, op: Operation, id: &str) -> Result<Prepared, OpsError> {
    let (deployments, overview) = tokio::try_join!(backend.deployments(50), backend.backups())?;
    if let Some(d) = deployments.iter().find(|d| d.id == id) {
        if !d.status.is_active() {
            return Err(OpsError::Invalid(format!(
                "deployment {id} is {}; only a running deployment can be cancelled",
                d.status.as_str()
            )));
        }
        return Ok(Prepared {
            op,
            step: Step::StopDeployment {
                id: id.to_string(),
                rollback: true,
            },
            change: format!("stop deployment {id} of {} and roll back", d.revision),
            details: vec![],
        });
    }
    if let Some(b) = overview.backups.iter().find(|b| b.id == id) {
        if b.status != BackupStatus::Creating {
            return Err(OpsError::Invalid(format!(
                "backup {id} is {}; only a backup being created can be cancelled",
                b.status.as_str()
            )));
        }
        return Ok(Prepared {
            op,
            step: Step::CancelBackup { id: id.to_string() },
            change: format!("cancel backup {id}"),
            details: vec![],
        });
    }
    let running = deployments
        .iter()
        .filter(|d| d.status.is_active())
        .map(|d| d.id.clone())
        .chain(
            overview
                .backups
                .iter()
                .filter(|b| b.status == BackupStatus::Creating)
                .map(|b| b.id.clone()),
        );
    let running = choices(running);
    Err(OpsError::Invalid(if running.is_empty() {
        format!("nothing named '{id}' is running; no deployment or backup can be cancelled now")
    } else {
        BackendError::NotFound {
            what: "running deployment or backup",
            id: id.to_string(),
            choices: running,
        }
        .to_string()
    }))
}
