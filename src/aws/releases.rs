//! Releases read back from CodeDeploy's history of the two groups: a canary
//! deployment followed by a fleet deployment of the same revision is one
//! release. CodeDeploy knows nothing of bakes (the pipeline runs them): a bake
//! starts when its group's deployment succeeds and lasts `bake_duration(env)`;
//! a rollback created before it ends cut it short.
//!
//! A deployment is a rollback of a release when CodeDeploy says so
//! (`rollbackInfo`), when its description starts `Rollback of d-…` (how the
//! console and the pipeline describe theirs), or when it was created with the
//! alarm monitoring overridden off while that release was still on its way.

use crate::domain::{
    Deployment, DeploymentCreator, DeploymentStatus, GroupKind, Release, ReleasePhase, RollbackRef,
    Stage, StageInfo, StageStatus, Timestamp, WatchedAlarm, bake_duration,
};

struct Draft<'a> {
    canary: Option<&'a Deployment>,
    fleet: Option<&'a Deployment>,
    rollbacks: Vec<&'a Deployment>,
    /// Canary, bakes, fleet: not a rollback or a deployment straight to the fleet.
    staged: bool,
}

impl<'a> Draft<'a> {
    fn first(&self) -> &'a Deployment {
        self.canary
            .or(self.fleet)
            .expect("a release has a deployment")
    }

    fn contains(&self, id: &str) -> bool {
        self.canary
            .into_iter()
            .chain(self.fleet)
            .chain(self.rollbacks.iter().copied())
            .any(|d| d.id == id)
    }

    /// When the release stops being on its way without a rollback: the end of
    /// its last bake, or its last deployment's end.
    fn settles(&self, bake: chrono::Duration) -> Option<Timestamp> {
        let last = self.fleet.or(self.canary)?;
        if last.status.is_active() {
            return None;
        }
        let end = last.completed.unwrap_or(last.created);
        Some(if self.staged { end + bake } else { end })
    }
}

/// Groups `deployments` (newest first, both groups of `env`) into releases,
/// newest first; `alarms` are the watched alarms now, shown on a bake in
/// progress.
pub(crate) fn group(
    env: &str,
    deployments: &[Deployment],
    alarms: &[WatchedAlarm],
    now: Timestamp,
) -> Vec<Release> {
    let bake = bake_duration(env);
    let mut oldest_first: Vec<&Deployment> = deployments
        .iter()
        .filter(|d| d.group_kind(env).is_some())
        .collect();
    oldest_first.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
    let mut drafts: Vec<Draft> = Vec::new();
    for d in oldest_first {
        let kind = d.group_kind(env).unwrap_or(GroupKind::Fleet);
        if let Some(of) = &d.rollback_of
            && let Some(r) = drafts.iter_mut().rev().find(|r| r.contains(of))
        {
            r.rollbacks.push(d);
            continue;
        }
        if d.ignores_alarms
            && d.creator != DeploymentCreator::Autoscaling
            && let Some(r) = drafts.last_mut()
            && r.staged
            && r.first().revision != d.revision
            && r.settles(bake).is_none_or(|s| d.created <= s)
        {
            r.rollbacks.push(d);
            continue;
        }
        if kind == GroupKind::Fleet
            && let Some(r) = drafts.last_mut()
            && let Some(c) = r.canary
            && r.fleet.is_none()
            && r.rollbacks.is_empty()
            && c.revision == d.revision
            && c.ignores_alarms == d.ignores_alarms
            && c.status == DeploymentStatus::Succeeded
        {
            r.fleet = Some(d);
            continue;
        }
        if kind == GroupKind::Fleet
            && let Some(r) = drafts.last_mut()
            && let Some(c) = r.canary
            && r.fleet.is_none()
            && c.ignores_alarms
            && d.ignores_alarms
            && c.revision == d.revision
        {
            // A rollback straight to both groups: the two run side by side.
            r.fleet = Some(d);
            continue;
        }
        drafts.push(Draft {
            canary: (kind == GroupKind::Canary).then_some(d),
            fleet: (kind == GroupKind::Fleet).then_some(d),
            rollbacks: vec![],
            staged: kind == GroupKind::Canary && !d.ignores_alarms,
        });
    }
    let count = drafts.len();
    let mut out: Vec<Release> = drafts
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let previous = drafts[..k]
                .iter()
                .rev()
                .flat_map(|p| p.rollbacks.iter().rev().copied().chain(p.fleet))
                .find(|d| {
                    d.group_kind(env) == Some(GroupKind::Fleet)
                        && d.status == DeploymentStatus::Succeeded
                })
                .map(|d| d.revision.clone());
            build(env, r, k + 1 == count, previous, alarms, now, bake)
        })
        .collect();
    out.reverse();
    out
}

fn deploy_stage(env: &str, stage: Stage, d: Option<&Deployment>, rolled_back: bool) -> StageInfo {
    let mut info = StageInfo::pending(stage, env);
    let Some(d) = d else {
        return info;
    };
    info.deployment = Some(d.id.clone());
    info.instances = Some(d.instances);
    info.started = Some(d.created);
    info.ended = d.completed;
    info.status = match d.status {
        s if s.is_active() => StageStatus::InProgress,
        DeploymentStatus::Succeeded | DeploymentStatus::Stopped if rolled_back => {
            StageStatus::RolledBack
        }
        DeploymentStatus::Succeeded => StageStatus::Succeeded,
        _ => StageStatus::Failed,
    };
    info
}

/// A bake after `deployed` (succeeded): running, done, or cut short at `cut`
/// (a rollback) or `next` (the next stage started).
struct BakeCtx<'a> {
    deployed: &'a Deployment,
    cut: Option<Timestamp>,
    next: Option<Timestamp>,
}

fn bake_stage(
    env: &str,
    stage: Stage,
    ctx: Option<BakeCtx>,
    alarms: &[WatchedAlarm],
    now: Timestamp,
    bake: chrono::Duration,
) -> StageInfo {
    let mut info = StageInfo::pending(stage, env);
    let Some(ctx) = ctx else {
        return info;
    };
    let started = ctx.deployed.completed.unwrap_or(ctx.deployed.created);
    let ends = started + bake;
    info.started = Some(started);
    if let Some(b) = &mut info.bake {
        b.ends = Some(ends);
    }
    match (ctx.cut, ctx.next) {
        (Some(cut), _) if cut < ends => {
            info.status = StageStatus::Failed;
            info.ended = Some(cut);
        }
        (_, Some(next)) => {
            info.status = StageStatus::Succeeded;
            info.ended = Some(next.min(ends));
        }
        _ if now < ends => {
            info.status = StageStatus::InProgress;
            if let Some(b) = &mut info.bake {
                b.alarms = alarms.to_vec();
            }
        }
        _ => {
            info.status = StageStatus::Succeeded;
            info.ended = Some(ends);
        }
    }
    info
}

fn build(
    env: &str,
    r: &Draft,
    newest: bool,
    previous: Option<String>,
    alarms: &[WatchedAlarm],
    now: Timestamp,
    bake: chrono::Duration,
) -> Release {
    let first = r.first();
    let rolled_back_group = |g: GroupKind| r.rollbacks.iter().any(|d| d.group_kind(env) == Some(g));
    let cut = r.rollbacks.iter().map(|d| d.created).min();
    let mut stages = vec![
        deploy_stage(
            env,
            Stage::Canary,
            r.canary,
            rolled_back_group(GroupKind::Canary),
        ),
        StageInfo::pending(Stage::CanaryBake, env),
        deploy_stage(
            env,
            Stage::Fleet,
            r.fleet,
            rolled_back_group(GroupKind::Fleet),
        ),
        StageInfo::pending(Stage::FleetBake, env),
    ];
    fn succeeded(d: Option<&Deployment>) -> Option<&Deployment> {
        d.filter(|d| d.status == DeploymentStatus::Succeeded)
    }
    if r.staged {
        stages[1] = bake_stage(
            env,
            Stage::CanaryBake,
            succeeded(r.canary).map(|deployed| BakeCtx {
                deployed,
                cut,
                next: r.fleet.map(|f| f.created),
            }),
            alarms,
            now,
            bake,
        );
        stages[3] = bake_stage(
            env,
            Stage::FleetBake,
            succeeded(r.fleet).map(|deployed| BakeCtx {
                deployed,
                cut,
                next: None,
            }),
            alarms,
            now,
            bake,
        );
    }
    let failed = stages.iter().any(|s| s.status == StageStatus::Failed);
    let running = stages.iter().any(|s| s.status == StageStatus::InProgress);
    let ended = if !r.rollbacks.is_empty() {
        let ok = r
            .rollbacks
            .iter()
            .all(|d| d.status.is_active() || d.status == DeploymentStatus::Succeeded);
        Some(if ok {
            ReleasePhase::RolledBack
        } else {
            ReleasePhase::Failed
        })
    } else if failed {
        let stopped = [r.canary, r.fleet]
            .into_iter()
            .flatten()
            .any(|d| d.status == DeploymentStatus::Stopped);
        Some(if stopped {
            ReleasePhase::Stopped
        } else {
            ReleasePhase::Failed
        })
    } else if running {
        None
    } else if !r.staged {
        (r.canary.is_some() || r.fleet.is_some()).then_some(ReleasePhase::Succeeded)
    } else if stages[3].status == StageStatus::Succeeded {
        Some(ReleasePhase::Succeeded)
    } else if newest {
        // Between stages: the pipeline is about to deploy the fleet.
        None
    } else {
        // A newer release came before this one reached the fleet.
        Some(ReleasePhase::Stopped)
    };
    let over = ended.is_some();
    for s in &mut stages {
        if s.status == StageStatus::Pending && (over || !r.staged && s.deployment.is_none()) {
            s.status = StageStatus::Skipped;
        }
    }
    let error = first
        .error
        .clone()
        .or_else(|| r.fleet.and_then(|f| f.error.clone()))
        .or_else(|| {
            let rb = r.rollbacks.first()?;
            let during = stages
                .iter()
                .find(|s| s.status == StageStatus::Failed)
                .map(|s| format!(" during the {}", s.stage.as_str().replace('_', " ")))
                .unwrap_or_default();
            Some(format!("rolled back{during} by {}", rb.id))
        })
        .or_else(|| {
            (ended == Some(ReleasePhase::Stopped) && r.fleet.is_none() && r.staged)
                .then(|| "a newer release started before the fleet was deployed".to_string())
        });
    let last_end = [r.canary, r.fleet]
        .into_iter()
        .flatten()
        .chain(r.rollbacks.iter().copied())
        .filter_map(|d| d.completed)
        .max();
    let completed = match ended {
        Some(ReleasePhase::Succeeded) if r.staged => stages[3].ended,
        Some(_) => last_end,
        None => None,
    };
    let mut release = Release {
        id: first.id.clone(),
        revision: first.revision.clone(),
        status: DeploymentStatus::Created,
        phase: ReleasePhase::Deploying,
        stage: Stage::Canary,
        creator: if r.canary.is_some_and(|c| c.ignores_alarms) {
            DeploymentCreator::Rollback
        } else {
            first.creator
        },
        initiated_by: first.initiated_by.clone(),
        created: first.created,
        completed,
        stages,
        previous_revision: previous,
        rollbacks: r
            .rollbacks
            .iter()
            .map(|d| RollbackRef {
                deployment: d.id.clone(),
                group: d.group.clone(),
                status: d.status,
            })
            .collect(),
        rollback_of: first.rollback_of.clone(),
        error,
    };
    release.settle(ended, now);
    release
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AlarmState, InstanceCounts};
    use chrono::TimeZone;

    fn t(min: i64) -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap() + chrono::Duration::minutes(min)
    }

    fn dep(id: &str, group: &str, rev: &str, created: i64, ended: Option<i64>) -> Deployment {
        Deployment {
            id: id.into(),
            status: if ended.is_some() {
                DeploymentStatus::Succeeded
            } else {
                DeploymentStatus::InProgress
            },
            revision: rev.into(),
            creator: DeploymentCreator::User,
            initiated_by: None,
            created: t(created),
            completed: ended.map(t),
            rollback_of: None,
            rolled_back_by: None,
            error: None,
            instances: InstanceCounts {
                succeeded: 1,
                ..InstanceCounts::default()
            },
            group: group.into(),
            ignores_alarms: false,
        }
    }

    fn ok_alarms() -> Vec<WatchedAlarm> {
        crate::domain::watched_alarm_names("prod")
            .into_iter()
            .map(|name| WatchedAlarm {
                name,
                state: AlarmState::Ok,
            })
            .collect()
    }

    fn newest_first(mut v: Vec<Deployment>) -> Vec<Deployment> {
        v.sort_by_key(|d| std::cmp::Reverse(d.created));
        v
    }

    #[test]
    fn a_canary_then_a_fleet_deployment_of_the_revision_is_one_staged_release() {
        let ds = newest_first(vec![
            dep("d-OLDFLEET", "prod", "r1", -60, Some(-50)),
            dep("d-CANARY", "prod-canary", "r2", 0, Some(4)),
        ]);
        // Baking: 10 minutes from the canary's end.
        let rs = group("prod", &ds, &ok_alarms(), t(8));
        assert_eq!(rs.len(), 2);
        let r = &rs[0];
        assert_eq!((r.id.as_str(), r.phase), ("d-CANARY", ReleasePhase::Baking));
        assert_eq!(r.stage, Stage::CanaryBake);
        assert_eq!(r.previous_revision.as_deref(), Some("r1"));
        let bake = r.stages[1].bake.as_ref().unwrap();
        assert_eq!(bake.remaining_secs, Some(6 * 60));
        assert_eq!(bake.alarms_label(), "alarms OK");
        assert_eq!(
            r.pipeline(t(8)),
            "canary ✓ → bake 6:00 left (alarms OK) → fleet → bake"
        );
        // The old fleet-only deployment is a release without canary or bakes.
        assert_eq!(rs[1].phase, ReleasePhase::Succeeded);
        assert_eq!(rs[1].pipeline(t(8)), "canary – → bake – → fleet ✓ → bake –");

        // The bake over and the fleet deploying: one release still.
        let mut fleet = dep("d-FLEET", "prod", "r2", 15, None);
        fleet.instances = InstanceCounts {
            succeeded: 2,
            in_progress: 1,
            pending: 1,
            ..InstanceCounts::default()
        };
        let mut ds = ds;
        ds.insert(0, fleet.clone());
        let rs = group("prod", &ds, &ok_alarms(), t(20));
        assert_eq!(rs.len(), 2);
        assert_eq!(
            rs[0].pipeline(t(20)),
            "canary ✓ → bake ✓ → fleet 2/4 → bake"
        );
        assert_eq!(rs[0].stages[1].ended, Some(t(14)));
        // Deployed and baked: succeeded at the end of the fleet's bake.
        ds[0].status = DeploymentStatus::Succeeded;
        ds[0].completed = Some(t(30));
        let rs = group("prod", &ds, &ok_alarms(), t(45));
        assert_eq!(rs[0].phase, ReleasePhase::Succeeded);
        assert_eq!(rs[0].completed, Some(t(40)));
        assert_eq!(rs[0].status, DeploymentStatus::Succeeded);
    }

    #[test]
    fn rollbacks_join_their_release_and_cut_its_bake_short() {
        let canary = dep("d-CANARY", "prod-canary", "r2", 0, Some(4));
        // The pipeline's rollback: created with the alarms off, described as one.
        let mut rb = dep("d-RB", "prod-canary", "r1", 7, None);
        rb.ignores_alarms = true;
        rb.rollback_of = Some("d-CANARY".into());
        let ds = newest_first(vec![
            dep("d-OLD", "prod", "r1", -60, Some(-50)),
            canary.clone(),
            rb.clone(),
        ]);
        let rs = group("prod", &ds, &ok_alarms(), t(8));
        assert_eq!(rs.len(), 2, "{rs:#?}");
        let r = &rs[0];
        assert_eq!(r.phase, ReleasePhase::RollingBack);
        assert_eq!(r.stage, Stage::CanaryBake);
        assert_eq!(r.stages[0].status, StageStatus::RolledBack);
        assert_eq!(r.stages[1].status, StageStatus::Failed);
        assert_eq!(r.stages[2].status, StageStatus::Skipped);
        assert_eq!(r.rollbacks[0].deployment, "d-RB");
        assert_eq!(
            r.error.as_deref(),
            Some("rolled back during the canary bake by d-RB")
        );
        assert_eq!(r.focus_deployment(), Some("d-RB"));

        // Without rollbackInfo or a description: alarms off while it baked.
        rb.rollback_of = None;
        rb.status = DeploymentStatus::Succeeded;
        rb.completed = Some(t(12));
        let ds = newest_first(vec![canary, rb]);
        let rs = group("prod", &ds, &[], t(30));
        assert_eq!(rs.len(), 1);
        assert_eq!(rs[0].phase, ReleasePhase::RolledBack);
        assert_eq!(rs[0].completed, Some(t(12)));
    }

    #[test]
    fn an_operators_rollback_to_both_groups_is_a_release_of_its_own() {
        let mut c = dep("d-RBC", "prod-canary", "r1", 100, Some(103));
        c.ignores_alarms = true;
        let mut f = dep("d-RBF", "prod", "r1", 100, None);
        f.ignores_alarms = true;
        f.id = "d-RBF".into();
        let ds = newest_first(vec![
            dep("d-C2", "prod-canary", "r2", 0, Some(4)),
            dep("d-F2", "prod", "r2", 15, Some(30)),
            c,
            f,
        ]);
        let rs = group("prod", &ds, &[], t(101));
        assert_eq!(rs.len(), 2, "{rs:#?}");
        let r = &rs[0];
        assert_eq!(r.creator, DeploymentCreator::Rollback);
        assert_eq!(r.phase, ReleasePhase::Deploying);
        assert_eq!(r.pipeline(t(101)), "canary ✓ → bake – → fleet 1/1 → bake –");
        assert_eq!(rs[1].phase, ReleasePhase::Succeeded);
    }

    #[test]
    fn a_failed_canary_ends_the_release_and_a_stale_one_is_stopped() {
        let mut c = dep("d-C", "prod-canary", "r2", 0, Some(3));
        c.status = DeploymentStatus::Failed;
        c.error = Some("ALARM_ACTIVE: <notejam-prod-5xx-rate>".into());
        let rs = group("prod", std::slice::from_ref(&c), &[], t(5));
        assert_eq!(rs[0].phase, ReleasePhase::Failed);
        assert_eq!(rs[0].stages[0].status, StageStatus::Failed);
        assert!(
            rs[0].stages[1..]
                .iter()
                .all(|s| s.status == StageStatus::Skipped)
        );
        assert_eq!(rs[0].error, c.error);

        // A canary that baked, never followed by its fleet, then a newer release.
        let ds = newest_first(vec![
            dep("d-C1", "prod-canary", "r2", 0, Some(3)),
            dep("d-C2", "prod-canary", "r3", 60, None),
        ]);
        let rs = group("prod", &ds, &[], t(61));
        assert_eq!(rs[1].phase, ReleasePhase::Stopped);
        assert!(rs[1].error.as_deref().unwrap().contains("newer release"));
        // The newest waits for its fleet once its bake is over.
        let ds = vec![dep("d-C1", "prod-canary", "r2", 0, Some(3))];
        let rs = group("prod", &ds, &[], t(20));
        assert_eq!(rs[0].phase, ReleasePhase::Deploying);
        assert_eq!(rs[0].stage, Stage::CanaryBake);
        assert_eq!(rs[0].stages[2].status, StageStatus::Pending);
        // Deployments of other groups are not the environment's.
        let other = dep("d-X", "staging", "r2", 0, None);
        assert!(group("prod", &[other], &[], t(1)).is_empty());
    }
}
