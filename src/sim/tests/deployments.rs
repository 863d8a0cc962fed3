use super::*;
use crate::backend::BackendError;
use crate::domain::{
    AlarmState, Capacity, ChaosKind, DeploymentCreator, DeploymentStatus, InstanceState,
    LIFECYCLE_EVENTS, StepStatus, Tier,
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

#[tokio::test]
async fn a_deployment_walks_each_instance_through_every_hook_one_at_a_time() {
    let s = sim(21, NIGHT);
    let newest = s.revisions().await.unwrap()[0].name.clone();
    assert_ne!(
        current(&s).await,
        newest,
        "the newest revision waits to be deployed"
    );
    let id = s
        .create_deployment(&newest, "deploy the newest")
        .await
        .unwrap();
    match s.create_deployment(&newest, "again").await {
        Err(BackendError::Invalid(m)) => assert!(
            m.contains(&id) && m.contains("wait for it to finish or stop it"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    let mut statuses = Vec::new();
    for _ in 0..60 {
        s.advance(minutes(1));
        let targets = s.deployment_targets(&id).await.unwrap();
        let running = targets
            .iter()
            .filter(|t| t.status == StepStatus::InProgress)
            .count();
        assert!(running <= 1, "OneAtATime: {running} instances at once");
        let d = s.deployments(1).await.unwrap().remove(0);
        statuses.push(d.status);
        if !d.status.is_active() {
            break;
        }
    }
    assert!(statuses.contains(&DeploymentStatus::InProgress));
    let d = s
        .deployments(5)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.id == id)
        .unwrap();
    assert_eq!(d.status, DeploymentStatus::Succeeded, "{d:?}");
    assert_eq!(d.creator, DeploymentCreator::User);
    let targets = s.deployment_targets(&id).await.unwrap();
    assert_eq!(d.instances.succeeded as usize, targets.len());
    let mut previous_end = None;
    for t in &targets {
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
    let per_instance = (targets[0].events.last().unwrap().ended.unwrap()
        - targets[0].events[0].started.unwrap())
    .num_seconds();
    assert!(
        (180..=360).contains(&per_instance),
        "{per_instance}s for one instance"
    );
    assert_eq!(current(&s).await, newest);
    assert_every_in_service_instance_runs(&s, &newest).await;
}

#[tokio::test]
async fn a_bad_revision_ends_rolled_back() {
    let s = sim(21, NIGHT);
    let good = current(&s).await;
    let newest = s.revisions().await.unwrap()[0].name.clone();
    let said = s.chaos(ChaosKind::BadRevision).await.unwrap();
    assert!(said.contains("faulty"), "{said}");
    let id = s.create_deployment(&newest, "ship it").await.unwrap();
    let five_xx = "notejam-demo-5xx-rate";
    let mut fired = false;
    for _ in 0..90 {
        s.advance(minutes(1));
        let topo = s.topology().await.unwrap();
        fired |= topo
            .alarms
            .iter()
            .any(|a| a.name == five_xx && a.state == AlarmState::Alarm);
        let deps = s.deployments(3).await.unwrap();
        if fired
            && deps.iter().all(|d| !d.status.is_active())
            && deps[0].creator == DeploymentCreator::Rollback
        {
            break;
        }
    }
    assert!(fired, "the 5xx alarm went to ALARM");
    let deps = s.deployments(10).await.unwrap();
    let bad = deps.iter().find(|d| d.id == id).unwrap();
    assert_eq!(bad.status, DeploymentStatus::Failed);
    assert!(
        bad.error.as_deref().unwrap().contains(five_xx),
        "{:?}",
        bad.error
    );
    let rollback_id = bad.rolled_back_by.clone().expect("rolled back");
    let rb = deps.iter().find(|d| d.id == rollback_id).unwrap();
    assert_eq!(rb.creator, DeploymentCreator::Rollback);
    assert_eq!(rb.rollback_of.as_deref(), Some(id.as_str()));
    assert_eq!(rb.revision, good);
    assert_eq!(rb.status, DeploymentStatus::Succeeded, "{rb:?}");
    assert_eq!(current(&s).await, good);
    assert_every_in_service_instance_runs(&s, &good).await;
    // With the faulty build gone the errors stop and the alarm clears.
    s.advance(minutes(5));
    let topo = s.topology().await.unwrap();
    let alarm = topo.alarms.iter().find(|a| a.name == five_xx).unwrap();
    assert_eq!(alarm.state, AlarmState::Ok, "{alarm:?}");
}

#[tokio::test]
async fn stopping_a_deployment_can_roll_it_back() {
    let s = sim(22, NIGHT);
    let good = current(&s).await;
    let newest = s.revisions().await.unwrap()[0].name.clone();
    let id = s.create_deployment(&newest, "to be stopped").await.unwrap();
    s.advance(minutes(7));
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
    for _ in 0..40 {
        s.advance(minutes(1));
        if s.topology()
            .await
            .unwrap()
            .delivery
            .unwrap()
            .active_deployment
            .is_none()
        {
            break;
        }
    }
    let deps = s.deployments(1).await.unwrap();
    assert_eq!(
        (deps[0].id.as_str(), deps[0].status),
        (rb.as_str(), DeploymentStatus::Succeeded)
    );
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
async fn the_history_holds_a_rolled_back_deployment() {
    let s = sim(42, AFTERNOON);
    let deps = s.deployments(20).await.unwrap();
    assert!(deps.len() >= 5);
    let failed = deps
        .iter()
        .find(|d| d.status == DeploymentStatus::Failed)
        .expect("a failed deployment");
    let rb = failed.rolled_back_by.as_ref().expect("rolled back");
    assert!(deps.iter().any(|d| &d.id == rb
        && d.creator == DeploymentCreator::Rollback
        && d.status == DeploymentStatus::Succeeded));
    assert!(deps.iter().all(|d| !d.status.is_active()));
    assert!(
        deps.windows(2).all(|w| w[0].created >= w[1].created),
        "newest first"
    );
}

#[tokio::test]
async fn instances_launched_during_a_deployment_are_brought_up_to_date_after_it() {
    let s = sim(23, NIGHT);
    let newest = s.revisions().await.unwrap()[0].name.clone();
    let before: Vec<String> = web(&s)
        .await
        .instances
        .iter()
        .map(|i| i.id.clone())
        .collect();
    let id = s.create_deployment(&newest, "deploy").await.unwrap();
    s.advance(minutes(2));
    let cap = web(&s).await.capacity;
    // A raised minimum too, so target tracking cannot scale in again at night.
    s.set_capacity(
        Tier::Web,
        Capacity {
            min: cap.desired + 1,
            desired: cap.desired + 1,
            max: cap.max.max(cap.desired + 1),
        },
    )
    .await
    .unwrap();
    for _ in 0..120 {
        s.advance(minutes(1));
        let deps = s.deployments(3).await.unwrap();
        if deps.iter().all(|d| !d.status.is_active()) && deps[0].id != id {
            break;
        }
    }
    let deps = s.deployments(3).await.unwrap();
    let root = deps.iter().find(|d| d.id == id).unwrap();
    assert_eq!(root.status, DeploymentStatus::Succeeded, "{root:?}");
    let follow = &deps[0];
    assert_eq!(follow.creator, DeploymentCreator::Autoscaling, "{deps:?}");
    assert_eq!(follow.revision, newest);
    assert_eq!(follow.status, DeploymentStatus::Succeeded, "{follow:?}");
    let targets: Vec<String> = s
        .deployment_targets(&follow.id)
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
