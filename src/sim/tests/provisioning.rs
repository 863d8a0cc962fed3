use std::sync::Arc;

use tokio::sync::mpsc;

use super::*;
use crate::backend::BackendError;
use crate::domain::{Capacity, PlanSummary, ProvisionMode, Tier};

async fn run(s: &SimBackend, mode: ProvisionMode) -> (PlanSummary, Vec<String>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let summary = s.provision(mode, tx).await.unwrap();
    let mut lines = Vec::new();
    while let Ok(l) = rx.try_recv() {
        lines.push(l);
    }
    (summary, lines)
}

#[tokio::test]
async fn a_fresh_world_plans_changes_applies_them_then_has_none() {
    let s = sim(2, AFTERNOON);
    let (plan, lines) = run(&s, ProvisionMode::Plan).await;
    assert_eq!(
        plan,
        PlanSummary {
            add: 1,
            change: 2,
            destroy: 0
        }
    );
    assert!(
        lines
            .iter()
            .filter(|l| l.ends_with("]") && l.contains(": Refreshing state... [id="))
            .count()
            >= 10
    );
    assert!(
        lines.contains(&"Plan: 1 to add, 2 to change, 0 to destroy.".to_string()),
        "{lines:#?}"
    );
    let (again, _) = run(&s, ProvisionMode::Plan).await;
    assert_eq!(again, plan, "a plan changes nothing");
    let (applied, lines) = run(&s, ProvisionMode::Apply).await;
    assert_eq!(applied, plan);
    assert!(
        lines.contains(
            &"module.web.aws_launch_template.this: Modifying... [id=lt-0d4be5a1f8c2e9371]"
                .to_string()
        ),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Modifications complete after 2s"))
    );
    assert_eq!(
        lines.last().unwrap(),
        "Apply complete! Resources: 1 added, 2 changed, 0 destroyed."
    );
    let (after, lines) = run(&s, ProvisionMode::Plan).await;
    assert!(after.is_empty());
    assert!(
        lines.contains(&"No changes. Your infrastructure matches the configuration.".to_string())
    );
}

#[tokio::test]
async fn scaling_outside_terraform_is_drift_that_apply_undoes() {
    let s = sim(2, AFTERNOON);
    run(&s, ProvisionMode::Apply).await;
    s.set_capacity(
        Tier::Web,
        Capacity {
            min: 1,
            desired: 1,
            max: 4,
        },
    )
    .await
    .unwrap();
    let (plan, lines) = run(&s, ProvisionMode::Plan).await;
    assert_eq!(
        plan,
        PlanSummary {
            add: 0,
            change: 1,
            destroy: 0
        }
    );
    assert!(
        lines.contains(
            &"  # module.web.aws_autoscaling_group.this will be updated in-place".to_string()
        ),
        "{lines:#?}"
    );
    assert!(lines.iter().any(|l| l.trim() == "~ min_size = 1 -> 2"));
    assert!(lines.iter().any(|l| l.trim() == "~ max_size = 4 -> 10"));
    run(&s, ProvisionMode::Apply).await;
    assert_eq!(
        web(&s).await.capacity,
        Capacity {
            min: 2,
            desired: 2,
            max: 10
        }
    );
    assert!(run(&s, ProvisionMode::Plan).await.0.is_empty());
}

#[tokio::test]
async fn one_apply_at_a_time_and_it_takes_a_bounded_while() {
    let s = Arc::new(
        SimBackend::open(SimOptions {
            seed: Some(2),
            speed: Some(1.0),
            start: Some(at(AFTERNOON)),
            ..SimOptions::default()
        })
        .unwrap(),
    );
    let first = {
        let s = s.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let (tx, _rx) = mpsc::unbounded_channel();
            let r = s.provision(ProvisionMode::Apply, tx).await;
            (r, started.elapsed())
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (tx, _rx) = mpsc::unbounded_channel();
    match s.provision(ProvisionMode::Apply, tx).await {
        Err(BackendError::Invalid(m)) => assert!(m.contains("state lock"), "{m}"),
        other => panic!("{other:?}"),
    }
    let (r, took) = first.await.unwrap();
    assert_eq!(
        r.unwrap(),
        PlanSummary {
            add: 1,
            change: 2,
            destroy: 0
        }
    );
    assert!(
        took >= std::time::Duration::from_secs(1),
        "lines take real time: {took:?}"
    );
    assert!(
        took <= std::time::Duration::from_secs(6),
        "but not long: {took:?}"
    );
}
