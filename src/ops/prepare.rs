//! Validation of each operation against the live environment, and its execution.

use crate::backend::{Backend, BackendError};
use crate::domain::{
    BackendKind, BackupKind, BackupStatus, Capacity, Deployment, DeploymentCreator, GroupKind,
    Release, ReleasePhase, RestoreSource, RollbackRequest, RollbackTarget, Stage, StageStatus,
    Tier, Timestamp, WATCHED_ALARMS, bake_duration,
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
                watch: Some(Watch::Release {
                    id,
                    rollback: false,
                }),
            })
        }
        Step::RollBack { request, release } => {
            let ids = backend.roll_back(request).await?;
            let first = ids.first().cloned().unwrap_or_default();
            Ok(Outcome {
                message: format!(
                    "rollback deployment{} {} of {} created (alarm monitoring off){}",
                    if ids.len() == 1 { "" } else { "s" },
                    ids.join(", "),
                    request.revision,
                    if request.stop.is_empty() {
                        String::new()
                    } else {
                        format!("; stopped {}", request.stop.join(", "))
                    }
                ),
                watch: Some(Watch::Release {
                    id: release.clone().unwrap_or(first),
                    rollback: true,
                }),
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
                // Stopped is not the end of a stop that rolls back: its rollback is.
                watch: Some(if *rollback {
                    Watch::Release {
                        id: id.clone(),
                        rollback: true,
                    }
                } else {
                    Watch::Deployment { id: id.clone() }
                }),
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
                watch: Some(Watch::Release {
                    id,
                    rollback: false,
                }),
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
    let (revisions, deployments, releases, topology) = tokio::try_join!(
        backend.revisions(),
        backend.deployments(10),
        backend.releases(5),
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
    if let Some(r) = releases.iter().find(|r| r.is_active()) {
        return Err(OpsError::Invalid(format!(
            "release {} of {} is {} ({}); wait for it, or `rollback` to stop it",
            r.id,
            r.revision,
            r.phase.as_str(),
            r.pipeline(backend.now())
        )));
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
    let env = backend.env();
    let bake = bake_duration(env).num_minutes();
    let details = if backend.kind() == BackendKind::Sim {
        vec![
            format!(
                "canary first: 1 instance ({}), then a {bake}-minute bake watching {}",
                GroupKind::Canary.group_name(env),
                WATCHED_ALARMS.join(" and ")
            ),
            format!(
                "then the other {} web instance(s) one at a time ({}), and a second bake",
                web.saturating_sub(1),
                GroupKind::Fleet.group_name(env)
            ),
            "an alarm in a bake or a failed deployment rolls back what was reached".into(),
        ]
    } else {
        vec![
            format!(
                "straight to the fleet ({env}): {web} web instance(s), one at a time; CodeDeploy rolls back on failure or alarm"
            ),
            "the canary and the bakes are the pipeline's (deploy.yml): use it for a release".into(),
        ]
    };
    Ok(Prepared {
        op,
        step: Step::CreateDeployment {
            revision: revision.to_string(),
        },
        change: format!(
            "deploy {revision} to {env} (now {})",
            current.as_deref().unwrap_or("nothing")
        ),
        details,
    })
}

/// The rollback of release `r`, on its way: stop what runs in the groups it
/// reached, then redeploy the revision the fleet ran before to those groups.
fn release_rollback(
    env: &str,
    op: Operation,
    r: &Release,
    deployments: &[Deployment],
) -> Result<Prepared, OpsError> {
    if r.phase == ReleasePhase::RollingBack {
        let running: Vec<&str> = r
            .rollbacks
            .iter()
            .filter(|x| x.status.is_active())
            .map(|x| x.deployment.as_str())
            .collect();
        return Err(OpsError::Invalid(format!(
            "release {} of {} is already rolling back ({}); wait for it",
            r.id,
            r.revision,
            running.join(", ")
        )));
    }
    // CodeDeploy's update of an instance that joined mid-release deploys what
    // the fleet already runs: "rolling it back" would redeploy the same revision.
    if r.creator == DeploymentCreator::Autoscaling
        || r.previous_revision.as_deref() == Some(r.revision.as_str())
    {
        return Err(OpsError::Invalid(format!(
            "release {} is CodeDeploy's update of a new instance to {}, which the fleet already runs: nothing to roll back; wait for it to finish, then roll back",
            r.id, r.revision
        )));
    }
    let previous = r.previous_revision.clone().ok_or_else(|| {
        OpsError::Invalid(format!(
            "nothing to roll back to: no revision ran on the fleet before release {} of {}",
            r.id, r.revision
        ))
    })?;
    let reached = |stage: Stage| {
        r.stage_info(stage)
            .filter(|s| !matches!(s.status, StageStatus::Pending | StageStatus::Skipped))
            .and_then(|s| s.deployment.clone())
    };
    let targets: Vec<RollbackTarget> = [
        (GroupKind::Canary, reached(Stage::Canary)),
        (GroupKind::Fleet, reached(Stage::Fleet)),
    ]
    .into_iter()
    .filter_map(|(group, of)| {
        of.map(|id| RollbackTarget {
            group,
            rollback_of: Some(id),
        })
    })
    .collect();
    if targets.is_empty() {
        return Err(OpsError::Invalid(format!(
            "release {} has not deployed anything yet; nothing to roll back",
            r.id
        )));
    }
    let stop: Vec<String> = deployments
        .iter()
        .filter(|d| d.status.is_active())
        .filter(|d| {
            d.group_kind(env)
                .is_some_and(|g| targets.iter().any(|t| t.group == g))
        })
        .map(|d| d.id.clone())
        .collect();
    let groups: Vec<String> = targets.iter().map(|t| t.group.group_name(env)).collect();
    let change = if stop.is_empty() {
        format!(
            "roll back release {} of {} to {previous} ({}, {})",
            r.id,
            r.revision,
            groups.join(" and "),
            r.stage.as_str().replace('_', " ")
        )
    } else {
        format!(
            "stop deployment {} of {} and roll {} back to {previous}",
            stop.join(", "),
            r.revision,
            groups.join(" and ")
        )
    };
    Ok(Prepared {
        op,
        step: Step::RollBack {
            request: RollbackRequest {
                revision: previous.clone(),
                stop,
                targets,
                description: format!(
                    "release {} of {} back to {previous} via njtui",
                    r.id, r.revision
                ),
            },
            release: Some(r.id.clone()),
        },
        change,
        details: vec![
            "the rollback deployments override the alarm configuration (monitoring off), so an alarm still in ALARM cannot stop them".into(),
        ],
    })
}

async fn rollback(backend: &dyn Backend, op: Operation) -> Result<Prepared, OpsError> {
    let env = backend.env();
    let (deployments, releases, topology) = tokio::try_join!(
        backend.deployments(50),
        backend.releases(20),
        backend.topology()
    )?;
    if let Some(r) = releases.iter().find(|r| r.is_active()) {
        return release_rollback(env, op, r, &deployments);
    }
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
    let mut good = releases
        .iter()
        .filter(|r| r.phase == ReleasePhase::Succeeded);
    let current = good.next().ok_or_else(|| {
        OpsError::Invalid("nothing to roll back: no successful deployment yet".into())
    })?;
    let previous = good
        .find(|r| r.revision != current.revision)
        .ok_or_else(|| {
            OpsError::Invalid(format!(
                "nothing to roll back to: no successful deployment of another revision before {}",
                current.revision
            ))
        })?;
    let canary = topology
        .delivery
        .as_ref()
        .and_then(|d| d.canary_group.as_ref())
        .is_some();
    let targets: Vec<RollbackTarget> = GroupKind::ALL
        .into_iter()
        .filter(|g| canary || *g == GroupKind::Fleet)
        .map(|group| RollbackTarget {
            group,
            rollback_of: None,
        })
        .collect();
    let groups: Vec<String> = targets.iter().map(|t| t.group.group_name(env)).collect();
    Ok(Prepared {
        op,
        step: Step::RollBack {
            request: RollbackRequest {
                revision: previous.revision.clone(),
                stop: vec![],
                targets,
                description: format!(
                    "rollback of {env} from {} to {} via njtui",
                    current.revision, previous.revision
                ),
            },
            release: None,
        },
        change: format!(
            "roll back {env} from {} to {} (redeploy to {})",
            current.revision,
            previous.revision,
            groups.join(" and ")
        ),
        details: vec![
            format!(
                "{} was released by {} on {}",
                previous.revision,
                previous.id,
                previous.created.format("%Y-%m-%d %H:%M")
            ),
            "no canary or bake: both groups at once, alarm monitoring overridden off".into(),
        ],
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

/// What deployment `d` rolls back, when it is a rollback: CodeDeploy's own,
/// the pipeline's or the console's.
fn rollback_answered(d: &Deployment, releases: &[Release]) -> Option<String> {
    if let Some(of) = &d.rollback_of {
        return Some(of.clone());
    }
    if let Some(r) = releases
        .iter()
        .find(|r| r.rollbacks.iter().any(|x| x.deployment == d.id))
    {
        return Some(format!("release {}", r.id));
    }
    (d.creator == DeploymentCreator::Rollback).then(|| "an earlier deployment".to_string())
}

async fn cancel(backend: &dyn Backend, op: Operation, id: &str) -> Result<Prepared, OpsError> {
    let (deployments, releases, overview) = tokio::try_join!(
        backend.deployments(50),
        backend.releases(20),
        backend.backups()
    )?;
    if let Some(d) = deployments.iter().find(|d| d.id == id) {
        if d.status.is_active()
            && let Some(of) = rollback_answered(d, &releases)
        {
            return Err(OpsError::Invalid(format!(
                "deployment {id} is the rollback of {of}: stopping it would leave its instances between revisions; let it finish (`deployments` shows its progress)"
            )));
        }
        // A release between its deployments (baking) is stopped by rolling it back.
        if !d.status.is_active()
            && let Some(r) = releases
                .iter()
                .find(|r| r.contains(id) && r.phase == ReleasePhase::Baking)
        {
            return release_rollback(backend.env(), op, r, &deployments);
        }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::{AuditOutcome, ReleasePhase};
    use crate::ops::{AuditLog, Runner};
    use crate::sim::SimBackend;

    fn sim(seed: u64) -> Arc<SimBackend> {
        Arc::new(crate::sim::tests::sim(seed, crate::sim::tests::NIGHT))
    }

    fn runner(s: &Arc<SimBackend>, dir: &tempfile::TempDir, read_only: bool) -> Runner {
        Runner::new(
            s.clone(),
            AuditLog::new(dir.path().join("audit.jsonl")),
            read_only,
            false,
        )
    }

    /// Deploys the newest revision and lets time pass until `until` holds.
    async fn deploy_until(s: &SimBackend, until: impl Fn(&Release) -> bool) -> Release {
        let newest = s.revisions().await.unwrap()[0].name.clone();
        let id = s.create_deployment(&newest, "test").await.unwrap();
        for _ in 0..60 {
            let r = s.releases(1).await.unwrap().remove(0);
            assert_eq!(r.id, id);
            if until(&r) {
                return r;
            }
            s.advance(chrono::Duration::minutes(1));
        }
        panic!("release {id} never got there");
    }

    fn request(p: &Prepared) -> &RollbackRequest {
        match &p.step {
            Step::RollBack { request, .. } => request,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_rollback_during_the_canary_bake_redeploys_the_canary_with_the_alarms_off() {
        let s = sim(31);
        let dir = tempfile::tempdir().unwrap();
        let r = deploy_until(&s, |r| r.phase == ReleasePhase::Baking).await;
        let runner = runner(&s, &dir, false);
        // A deployment is refused while the release bakes, though none runs.
        let e = runner
            .prepare(Operation::Deploy {
                revision: r.revision.clone(),
            })
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains(&r.id) && e.to_string().contains("baking"),
            "{e}"
        );
        let p = runner.prepare(Operation::Rollback).await.unwrap();
        let req = request(&p);
        assert_eq!(req.revision, r.previous_revision.clone().unwrap());
        assert!(req.stop.is_empty());
        assert_eq!(
            req.targets,
            [RollbackTarget {
                group: GroupKind::Canary,
                rollback_of: Some(r.id.clone()),
            }]
        );
        assert!(
            p.change.contains(&format!("roll back release {}", r.id)),
            "{}",
            p.change
        );
        assert!(p.details[0].contains("monitoring off"), "{:?}", p.details);
        let outcome = runner.run(&p).await.unwrap();
        assert!(
            outcome.message.contains("alarm monitoring off"),
            "{}",
            outcome.message
        );
        let after = s.releases(1).await.unwrap().remove(0);
        assert_eq!(after.phase, ReleasePhase::RollingBack);
        assert_eq!(after.stages[1].status, StageStatus::RolledBack);
        let progress = outcome.watch.unwrap().poll(s.as_ref()).await.unwrap();
        assert_eq!(progress.finished, None, "{progress:?}");
        // A second rollback while this one runs is refused.
        let e = runner.prepare(Operation::Rollback).await.unwrap_err();
        assert!(e.to_string().contains("already rolling back"), "{e}");
        let (audit, _) = AuditLog::new(dir.path().join("audit.jsonl"))
            .tail(10)
            .unwrap();
        let outcomes: Vec<(&str, AuditOutcome)> = audit
            .iter()
            .map(|a| (a.action.as_str(), a.outcome))
            .collect();
        assert_eq!(
            outcomes,
            [
                ("deploy", AuditOutcome::Refused),
                ("rollback", AuditOutcome::Succeeded),
                ("rollback", AuditOutcome::Refused)
            ]
        );
    }

    #[tokio::test]
    async fn a_rollback_while_the_fleet_deploys_stops_it_and_rolls_back_both_groups() {
        let s = sim(32);
        let dir = tempfile::tempdir().unwrap();
        let r = deploy_until(&s, |r| r.stage == Stage::Fleet).await;
        let fleet = r.stages[2].deployment.clone().unwrap();
        let p = runner(&s, &dir, false)
            .prepare(Operation::Rollback)
            .await
            .unwrap();
        let req = request(&p);
        assert_eq!(req.stop, std::slice::from_ref(&fleet));
        assert_eq!(
            req.targets.iter().map(|t| t.group).collect::<Vec<_>>(),
            [GroupKind::Canary, GroupKind::Fleet]
        );
        assert_eq!(req.targets[1].rollback_of.as_deref(), Some(fleet.as_str()));
        assert!(
            p.change.starts_with(&format!("stop deployment {fleet}")),
            "{}",
            p.change
        );
        // Cancelling the running fleet deployment stops it with CodeDeploy's rollback.
        let c = runner(&s, &dir, false)
            .prepare(Operation::Cancel { id: fleet.clone() })
            .await
            .unwrap();
        assert!(matches!(
            c.step,
            Step::StopDeployment { rollback: true, .. }
        ));
        runner(&s, &dir, false).run(&p).await.unwrap();
        let ds = s.deployments(5).await.unwrap();
        let stopped = ds.iter().find(|d| d.id == fleet).unwrap();
        assert_eq!(stopped.status, crate::domain::DeploymentStatus::Stopped);
        assert_eq!(
            ds.iter()
                .filter(|d| d.ignores_alarms && d.status.is_active())
                .count(),
            2
        );
    }

    #[tokio::test]
    async fn with_nothing_on_its_way_a_rollback_redeploys_both_groups_and_read_only_sends_nothing()
    {
        let s = sim(33);
        let dir = tempfile::tempdir().unwrap();
        let before = s.releases(20).await.unwrap();
        let e = runner(&s, &dir, true)
            .prepare(Operation::Rollback)
            .await
            .unwrap_err();
        assert!(matches!(e, OpsError::Refused(_)), "{e:?}");
        assert_eq!(s.releases(20).await.unwrap(), before);
        let p = runner(&s, &dir, false)
            .prepare(Operation::Rollback)
            .await
            .unwrap();
        let req = request(&p);
        assert!(req.targets.iter().all(|t| t.rollback_of.is_none()));
        assert_eq!(req.targets.len(), 2);
        assert!(p.change.starts_with("roll back demo from "), "{}", p.change);
        assert!(p.change.contains("demo-canary and demo"), "{}", p.change);
        let current = before
            .iter()
            .find(|r| r.phase == ReleasePhase::Succeeded)
            .unwrap();
        assert_ne!(req.revision, current.revision);
        runner(&s, &dir, false).run(&p).await.unwrap();
        let r = s.releases(1).await.unwrap().remove(0);
        assert_eq!(r.revision, req.revision);
        assert_eq!(r.creator, crate::domain::DeploymentCreator::Rollback);
    }

    #[tokio::test]
    async fn the_rollback_of_a_release_cannot_be_cancelled() {
        let s = sim(35);
        let dir = tempfile::tempdir().unwrap();
        let r = deploy_until(&s, |r| r.phase == ReleasePhase::Baking).await;
        let runner = runner(&s, &dir, false);
        let p = runner.prepare(Operation::Rollback).await.unwrap();
        runner.run(&p).await.unwrap();
        let after = s.releases(1).await.unwrap().remove(0);
        assert_eq!(after.phase, ReleasePhase::RollingBack);
        // What `x` picks on a release that rolls back: its running rollback.
        let rb = after.focus_deployment().unwrap().to_string();
        assert_eq!(rb, after.rollbacks[0].deployment);
        let e = runner
            .prepare(Operation::Cancel { id: rb.clone() })
            .await
            .unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("deployment {rb} is the rollback of {}", r.id)),
            "{e}"
        );
        let ds = s.deployments(5).await.unwrap();
        assert!(ds.iter().find(|d| d.id == rb).unwrap().status.is_active());
    }

    #[tokio::test]
    async fn a_cancelled_deployment_is_followed_to_the_end_of_its_rollback() {
        let s = sim(36);
        let dir = tempfile::tempdir().unwrap();
        let r = deploy_until(&s, |r| r.stages[0].status == StageStatus::InProgress).await;
        let runner = runner(&s, &dir, false);
        let p = runner
            .prepare(Operation::Cancel { id: r.id.clone() })
            .await
            .unwrap();
        let outcome = runner.run(&p).await.unwrap();
        let watch = outcome.watch.unwrap();
        assert_eq!(
            watch,
            Watch::Release {
                id: r.id.clone(),
                rollback: true
            }
        );
        let mut seen = vec![];
        for _ in 0..60 {
            let progress = watch.poll(s.as_ref()).await.unwrap();
            seen.push(progress.line.clone());
            if let Some(well) = progress.finished {
                assert!(well, "{seen:#?}");
                let after = s.releases(1).await.unwrap().remove(0);
                assert_eq!(after.phase, ReleasePhase::RolledBack);
                assert_eq!(after.rollbacks.len(), 1, "{after:#?}");
                return;
            }
            s.advance(chrono::Duration::minutes(1));
        }
        panic!("the rollback never ended: {seen:#?}");
    }

    #[tokio::test]
    async fn an_auto_update_on_its_way_is_not_rolled_back_to_itself() {
        let s = sim(37);
        let dir = tempfile::tempdir().unwrap();
        let r = deploy_until(&s, |r| r.stage == Stage::Fleet).await;
        crate::sim::tests::add_web_instance(&s).await;
        let update = 'found: {
            for _ in 0..90 {
                s.advance(chrono::Duration::minutes(1));
                let newest = s.releases(1).await.unwrap().remove(0);
                if newest.creator == DeploymentCreator::Autoscaling && newest.is_active() {
                    break 'found newest;
                }
            }
            panic!("no auto-update followed release {}", r.id);
        };
        assert_eq!(update.revision, r.revision);
        let e = runner(&s, &dir, false)
            .prepare(Operation::Rollback)
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains(&format!(
                "release {} is CodeDeploy's update of a new instance",
                update.id
            )),
            "{e}"
        );
        // Cancelled, it stops with no rollback to follow (CodeDeploy rolls back
        // no auto-update): the wait gives CodeDeploy a minute to start one, then ends.
        let runner = runner(&s, &dir, false);
        let p = runner
            .prepare(Operation::Cancel {
                id: update.id.clone(),
            })
            .await
            .unwrap();
        let watch = runner.run(&p).await.unwrap().watch.unwrap();
        let progress = watch.poll(s.as_ref()).await.unwrap();
        assert_eq!(progress.finished, None, "{progress:?}");
        assert!(
            progress.line.contains("waiting for the rollback to start"),
            "{}",
            progress.line
        );
        s.advance(chrono::Duration::minutes(2));
        let progress = watch.poll(s.as_ref()).await.unwrap();
        assert_eq!(progress.finished, Some(false), "{progress:?}");
    }

    #[tokio::test]
    async fn cancelling_a_baking_release_rolls_it_back() {
        let s = sim(34);
        let dir = tempfile::tempdir().unwrap();
        let r = deploy_until(&s, |r| r.phase == ReleasePhase::Baking).await;
        let p = runner(&s, &dir, false)
            .prepare(Operation::Cancel { id: r.id.clone() })
            .await
            .unwrap();
        assert_eq!(
            request(&p).targets[0].rollback_of.as_deref(),
            Some(r.id.as_str())
        );
        let e = runner(&s, &dir, false)
            .prepare(Operation::Cancel {
                id: "d-NOPE".into(),
            })
            .await
            .unwrap_err();
        assert!(e.to_string().contains("d-NOPE"), "{e}");
    }
}
