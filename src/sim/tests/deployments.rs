use super::*;
use crate::backend::BackendError;
use crate::domain::{
    AlarmState, ChaosKind, Deployment, DeploymentCreator, DeploymentStatus, GroupKind,
    InstanceState, LIFECYCLE_EVENTS, Release, ReleasePhase, RollbackRequest, RollbackTarget, Stage,
    StageStatus, StepStatus, bake_duration,
};

async fn current(s: &SimBackend) -> String {
    s.topology()
        .await
        .unwrap()
        .delivery
        .unwrap()
        .current_revision
        .unwrap()
}

async fn assert_every_in_service_instance_runs(s: &SimBackend, revision: &str) {
    for i in web(s)
        .await
        .instances
        .iter()
        .filter(|i| i.state == InstanceState::InService)
    {
        assert_eq!(i.revision.as_deref(), Some(revision), "{i:?}");
    }
}

async fn release(s: &SimBackend, id: &str) -> Release {
    s.releases(30)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.contains(id))
        .unwrap_or_else(|| panic!("no release holds {id}"))
}

async fn alarm_state(s: &SimBackend, name: &str) -> AlarmState {
    s.topology()
        .await
        .unwrap()
        .alarms
        .iter()
        .find(|a| a.name == name)
        .unwrap()
        .state
}

const FIVE_XX: &str = "notejam-demo-5xx-rate";

/// Runs the release `id` to its end a minute at a time, noting each stage and
/// phase it was seen in, and whether a rollback ran while the 5xx alarm was in
/// ALARM.
async fn follow(s: &SimBackend, id: &str) -> (Release, Vec<(Stage, ReleasePhase)>, bool) {
    let mut seen: Vec<(Stage, ReleasePhase)> = Vec::new();
    let mut rolled_back_in_alarm = false;
    for _ in 0..120 {
        s.advance(minutes(1));
        let r = release(s, id).await;
        if seen.last() != Some(&(r.stage, r.phase)) {
            seen.push((r.stage, r.phase));
        }
        if r.phase == ReleasePhase::RollingBack
            && alarm_state(s, FIVE_XX).await == AlarmState::Alarm
        {
            rolled_back_in_alarm = true;
        }
        if !r.is_active() {
            return (r, seen, rolled_back_in_alarm);
        }
    }
    panic!("release {id} never ended: {seen:?}");
}

fn deployment<'a>(ds: &'a [Deployment], id: &str) -> &'a Deployment {
    ds.iter().find(|d| d.id == id).unwrap()
}

#[tokio::test]
async fn a_release_goes_canary_bake_fleet_bake() {
    let s = sim(21, NIGHT);
    let before = current(&s).await;
    let newest = s.revisions().await.unwrap()[0].name.clone();
    assert_ne!(before, newest, "the newest revision waits to be deployed");
    let id = s
        .create_deployment(&newest, "deploy the newest")
        .await
        .unwrap();
    match s.create_deployment(&newest, "again").await {
        Err(BackendError::Invalid(m)) => assert!(
            m.contains(&id) && m.contains("wait for it to finish"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    let r = release(&s, &id).await;
    assert_eq!(r.id, id);
    assert_eq!((r.stage, r.phase), (Stage::Canary, ReleasePhase::Deploying));
    assert_eq!(r.previous_revision.as_deref(), Some(before.as_str()));
    assert_eq!(r.stages[0].group, "demo-canary");
    assert_eq!(r.stages[2].group, "demo");

    // Watch the canary bake: its clock runs down and both alarms are watched.
    let mut remaining = vec![];
    let mut seen = vec![];
    for _ in 0..120 {
        s.advance(minutes(1));
        let r = release(&s, &id).await;
        if seen.last() != Some(&r.stage) {
            seen.push(r.stage);
        }
        if r.stage == Stage::CanaryBake && r.phase == ReleasePhase::Baking {
            let bake = r.stages[1].bake.clone().unwrap();
            remaining.push(bake.remaining_secs.unwrap());
            let names: Vec<&str> = bake.alarms.iter().map(|a| a.name.as_str()).collect();
            assert_eq!(names, ["notejam-demo-p99-latency", FIVE_XX]);
            assert_eq!(bake.alarms_label(), "alarms OK", "{bake:?}");
            assert!(
                r.pipeline(s.now()).starts_with("canary ✓ → bake "),
                "{}",
                r.pipeline(s.now())
            );
        }
        if !r.is_active() {
            break;
        }
    }
    assert_eq!(seen, Stage::ALL, "every stage, in order");
    assert!(
        remaining.len() >= 3 && remaining.windows(2).all(|w| w[0] > w[1]),
        "{remaining:?}"
    );
    let r = release(&s, &id).await;
    assert_eq!(r.phase, ReleasePhase::Succeeded, "{r:#?}");
    assert!(r.stages.iter().all(|s| s.status == StageStatus::Succeeded));
    assert!(r.rollbacks.is_empty());

    let ds = s.deployments(20).await.unwrap();
    let canary = deployment(&ds, r.stages[0].deployment.as_ref().unwrap());
    let fleet = deployment(&ds, r.stages[2].deployment.as_ref().unwrap());
    assert_eq!(
        (canary.group.as_str(), fleet.group.as_str()),
        ("demo-canary", "demo")
    );
    assert!(!canary.ignores_alarms && !fleet.ignores_alarms);
    // Each bake is the demo's five minutes, from one stage's end to the next.
    let bake = bake_duration("demo");
    assert_eq!(fleet.created - canary.completed.unwrap(), bake);
    assert_eq!(r.completed.unwrap() - fleet.completed.unwrap(), bake);
    let canary_targets = s.deployment_targets(&canary.id).await.unwrap();
    assert_eq!(canary_targets.len(), 1, "one canary instance");
    let fleet_targets = s.deployment_targets(&fleet.id).await.unwrap();
    assert!(!fleet_targets.is_empty());
    assert!(
        fleet_targets
            .iter()
            .all(|t| t.instance_id != canary_targets[0].instance_id),
        "the fleet deployment leaves the canary alone"
    );
    // The fleet's instances one after another, every hook in order.
    let mut previous_end = None;
    for t in &fleet_targets {
        assert_eq!(t.status, StepStatus::Succeeded);
        let names: Vec<&str> = t.events.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, LIFECYCLE_EVENTS);
        for e in &t.events {
            assert_eq!(e.status, StepStatus::Succeeded);
            let (start, end) = (e.started.unwrap(), e.ended.unwrap());
            assert!(start <= end);
            if let Some(p) = previous_end {
                assert!(
                    start >= p,
                    "hooks run in order, instances one after another"
                );
            }
            previous_end = Some(end);
        }
    }
    let per_instance = (fleet_targets[0].events.last().unwrap().ended.unwrap()
        - fleet_targets[0].events[0].started.unwrap())
    .num_seconds();
    assert!(
        (180..=360).contains(&per_instance),
        "{per_instance}s for one instance"
    );
    assert_eq!(fleet.instances.succeeded as usize, fleet_targets.len());
    assert_eq!(current(&s).await, newest);
    assert_every_in_service_instance_runs(&s, &newest).await;
}

#[tokio::test]
async fn an_alarm_in_the_canary_bake_rolls_back_the_canary_only() {
    let s = sim(21, NIGHT);
    let good = current(&s).await;
    let newest = s.revisions().await.unwrap()[0].name.clone();
    let said = s.chaos(ChaosKind::BadRevision).await.unwrap();
    assert!(said.contains("faulty"), "{said}");
    let id = s.create_deployment(&newest, "ship it").await.unwrap();
    let fleet_before: Vec<(String, Option<String>)> = web(&s)
        .await
        .instances
        .iter()
        .map(|i| (i.id.clone(), i.revision.clone()))
        .collect();
    let (r, seen, in_alarm) = follow(&s, &id).await;
    assert!(
        seen.contains(&(Stage::CanaryBake, ReleasePhase::Baking)),
        "{seen:?}"
    );
    assert_eq!(r.phase, ReleasePhase::RolledBack, "{r:#?}");
    assert_eq!(r.status, DeploymentStatus::Failed);
    let statuses: Vec<StageStatus> = r.stages.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [
            StageStatus::RolledBack,
            StageStatus::Failed,
            StageStatus::Skipped,
            StageStatus::Skipped
        ]
    );
    let bake = r.stages[1].bake.as_ref().unwrap();
    assert_eq!(bake.alarms_label(), "ALARM 5xx-rate");
    assert!(
        r.error.as_deref().unwrap().contains(FIVE_XX),
        "{:?}",
        r.error
    );
    assert_eq!(r.stages[2].deployment, None, "the fleet is never deployed");
    assert_eq!(r.rollbacks.len(), 1);
    let rb = &r.rollbacks[0];
    assert_eq!(
        (rb.group.as_str(), rb.status),
        ("demo-canary", DeploymentStatus::Succeeded)
    );
    let ds = s.deployments(20).await.unwrap();
    let rb = deployment(&ds, &rb.deployment);
    assert!(rb.ignores_alarms);
    assert_eq!(rb.revision, good);
    assert_eq!(rb.rollback_of, r.stages[0].deployment);
    assert!(
        in_alarm,
        "the rollback ran while the alarm was still in ALARM"
    );
    // The fleet's instances never ran the bad build.
    let canary = s.deployment_targets(&id).await.unwrap()[0]
        .instance_id
        .clone();
    for (i, rev) in fleet_before.iter().filter(|(i, _)| *i != canary) {
        if let Some(now) = web(&s).await.instances.iter().find(|x| &x.id == i) {
            assert_eq!(&now.revision, rev, "{i}");
        }
    }
    assert!(
        !ds.iter().any(|d| d.group == "demo" && d.revision == newest),
        "no fleet deployment of the bad revision"
    );
    assert_eq!(current(&s).await, good);
    assert_every_in_service_instance_runs(&s, &good).await;
    // With the faulty build gone the errors stop and the alarm clears.
    s.advance(minutes(5));
    assert_eq!(alarm_state(&s, FIVE_XX).await, AlarmState::Ok);
}

#[tokio::test]
async fn an_alarm_in_the_fleet_bake_rolls_back_the_canary_and_the_fleet() {
    let s = sim(21, NIGHT);
    let good = current(&s).await;
    let newest = s.revisions().await.unwrap()[0].name.clone();
    let said = s.chaos(ChaosKind::BadAtScale).await.unwrap();
    assert!(said.contains("whole fleet"), "{said}");
    let id = s.create_deployment(&newest, "ship it").await.unwrap();
    let (r, seen, in_alarm) = follow(&s, &id).await;
    assert!(
        seen.contains(&(Stage::FleetBake, ReleasePhase::Baking)),
        "{seen:?}"
    );
    assert_eq!(r.phase, ReleasePhase::RolledBack, "{r:#?}");
    let statuses: Vec<StageStatus> = r.stages.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [
            StageStatus::RolledBack,
            StageStatus::Succeeded,
            StageStatus::RolledBack,
            StageStatus::Failed
        ]
    );
    assert_eq!(
        r.stages[3].bake.as_ref().unwrap().alarms_label(),
        "ALARM 5xx-rate"
    );
    let mut groups: Vec<&str> = r.rollbacks.iter().map(|x| x.group.as_str()).collect();
    groups.sort();
    assert_eq!(groups, ["demo", "demo-canary"]);
    let ds = s.deployments(30).await.unwrap();
    for x in &r.rollbacks {
        assert_eq!(x.status, DeploymentStatus::Succeeded, "{x:?}");
        let d = deployment(&ds, &x.deployment);
        assert!(d.ignores_alarms && d.revision == good, "{d:?}");
    }
    assert!(
        in_alarm,
        "the rollbacks ran while the alarm was still in ALARM"
    );
    assert_eq!(current(&s).await, good);
    assert_every_in_service_instance_runs(&s, &good).await;
}

#[tokio::test]
async fn an_operators_rollback_during_the_bake_stops_the_release() {
    let s = sim(24, NIGHT);
    let good = current(&s).await;
    let newest = s.revisions().await.unwrap()[0].name.clone();
    let id = s.create_deployment(&newest, "deploy").await.unwrap();
    for _ in 0..30 {
        s.advance(minutes(1));
        if release(&s, &id).await.phase == ReleasePhase::Baking {
            break;
        }
    }
    let r = release(&s, &id).await;
    assert_eq!(r.stage, Stage::CanaryBake, "{r:#?}");
    let request = RollbackRequest {
        revision: good.clone(),
        stop: vec![],
        targets: vec![RollbackTarget {
            group: GroupKind::Canary,
            rollback_of: Some(id.clone()),
        }],
        description: "operator".into(),
    };
    let ids = s.roll_back(&request).await.unwrap();
    assert_eq!(ids.len(), 1);
    let r = release(&s, &id).await;
    assert_eq!(r.phase, ReleasePhase::RollingBack);
    assert_eq!(r.stages[1].status, StageStatus::RolledBack);
    let (r, _, _) = follow(&s, &id).await;
    assert_eq!(r.phase, ReleasePhase::RolledBack);
    assert_eq!(
        r.stages[2].status,
        StageStatus::Skipped,
        "no fleet after it"
    );
    assert_every_in_service_instance_runs(&s, &good).await;
    // Nothing on its way now: a rollback of a finished deployment's group is
    // a release of its own, straight to both groups.
    let both = RollbackRequest {
        revision: good.clone(),
        stop: vec![],
        targets: GroupKind::ALL
            .into_iter()
            .map(|group| RollbackTarget {
                group,
                rollback_of: None,
            })
            .collect(),
        description: "redeploy".into(),
    };
    let ids = s.roll_back(&both).await.unwrap();
    let r = release(&s, &ids[0]).await;
    assert_eq!(r.id, ids[0]);
    assert!(r.contains(&ids[1]));
    assert_eq!(r.creator, DeploymentCreator::Rollback);
    assert_eq!(
        (r.stages[1].status, r.stages[3].status),
        (StageStatus::Skipped, StageStatus::Skipped)
    );
    let (r, _, _) = follow(&s, &ids[0]).await;
    assert_eq!(r.phase, ReleasePhase::Succeeded);
}

#[tokio::test]
async fn stopping_a_deployment_can_roll_it_back() {
    let s = sim(22, NIGHT);
    let good = current(&s).await;
    let newest = s.revisions().await.unwrap()[0].name.clone();
    let id = s.create_deployment(&newest, "to be stopped").await.unwrap();
    s.advance(minutes(2));
    s.stop_deployment(&id, true).await.unwrap();
    let deps = s.deployments(2).await.unwrap();
    let stopped = deps.iter().find(|d| d.id == id).unwrap();
    assert_eq!(stopped.status, DeploymentStatus::Stopped);
    assert!(
        stopped
            .error
            .as_deref()
            .unwrap()
            .contains("stopped by demo-operator")
    );
    let rb = stopped.rolled_back_by.clone().unwrap();
    match s.stop_deployment(&id, false).await {
        Err(BackendError::Invalid(m)) => {
            assert!(m.contains("already stopped") && m.contains(&rb), "{m}")
        }
        other => panic!("{other:?}"),
    }
    let (r, _, _) = follow(&s, &id).await;
    assert_eq!(r.phase, ReleasePhase::RolledBack);
    assert_eq!(r.rollbacks[0].deployment, rb);
    assert_eq!(r.rollbacks[0].status, DeploymentStatus::Succeeded);
    let g = web(&s).await;
    assert!(
        g.instances
            .iter()
            .filter(|i| i.state == InstanceState::InService)
            .all(|i| i.revision.as_deref() == Some(good.as_str()))
    );
    let lb = s.topology().await.unwrap().load_balancer.unwrap();
    assert_eq!(
        lb.healthy as usize,
        g.instances
            .iter()
            .filter(|i| i.state == InstanceState::InService)
            .count()
    );
}

#[tokio::test]
async fn the_history_holds_a_rolled_back_release() {
    let s = sim(42, AFTERNOON);
    let releases = s.releases(20).await.unwrap();
    assert!(releases.len() >= 4, "{releases:#?}");
    // The faulty build: the canary's bake saw the 5xx alarm.
    let bad = releases
        .iter()
        .find(|r| r.error.as_deref().is_some_and(|e| e.contains(FIVE_XX)))
        .expect("a release the alarm rolled back");
    assert_eq!(bad.phase, ReleasePhase::RolledBack, "{bad:#?}");
    assert_eq!(bad.stages[2].status, StageStatus::Skipped, "{bad:#?}");
    assert!(
        bad.rollbacks
            .iter()
            .all(|x| x.group == "demo-canary" && x.status == DeploymentStatus::Succeeded),
        "{bad:#?}"
    );
    // The newest release is live: the week ends on a good one.
    let newest = releases
        .iter()
        .find(|r| r.creator == DeploymentCreator::User)
        .unwrap();
    assert_eq!(newest.phase, ReleasePhase::Succeeded, "{newest:#?}");
    assert_eq!(current(&s).await, newest.revision);
    assert!(releases.iter().all(|r| !r.is_active()));
    assert!(
        releases.windows(2).all(|w| w[0].created >= w[1].created),
        "newest first"
    );
    let deps = s.deployments(50).await.unwrap();
    for r in &releases {
        for id in r.deployment_ids() {
            assert!(deps.iter().any(|d| d.id == id), "{id} of {} listed", r.id);
        }
    }
}

#[tokio::test]
async fn instances_launched_during_a_deployment_are_brought_up_to_date_after_it() {
    let s = sim(23, NIGHT);
    let newest = s.revisions().await.unwrap()[0].name.clone();
    let id = s.create_deployment(&newest, "deploy").await.unwrap();
    for _ in 0..30 {
        s.advance(minutes(1));
        if release(&s, &id).await.stage == Stage::Fleet {
            break;
        }
    }
    assert_eq!(release(&s, &id).await.stage, Stage::Fleet);
    let before: Vec<String> = web(&s)
        .await
        .instances
        .iter()
        .map(|i| i.id.clone())
        .collect();
    add_web_instance(&s).await;
    let (r, _, _) = follow(&s, &id).await;
    assert_eq!(r.phase, ReleasePhase::Succeeded, "{r:#?}");
    for _ in 0..30 {
        if s.releases(1).await.unwrap()[0].is_active() {
            s.advance(minutes(1));
        }
    }
    let releases = s.releases(3).await.unwrap();
    let follow_on = releases
        .iter()
        .find(|x| x.creator == DeploymentCreator::Autoscaling)
        .unwrap_or_else(|| panic!("{releases:#?}"));
    assert_eq!(follow_on.revision, newest);
    assert_eq!(follow_on.phase, ReleasePhase::Succeeded, "{follow_on:?}");
    assert_eq!(follow_on.stages[0].status, StageStatus::Skipped);
    let targets: Vec<String> = s
        .deployment_targets(follow_on.stages[2].deployment.as_ref().unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.instance_id)
        .collect();
    assert!(
        !targets.is_empty() && targets.iter().all(|t| !before.contains(t)),
        "only the new instance: {targets:?} (before: {before:?})"
    );
    assert_every_in_service_instance_runs(&s, &newest).await;
}
