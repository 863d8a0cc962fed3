use super::*;
use crate::domain::{ChaosKind, Health, InstanceState};

#[tokio::test]
async fn a_load_spike_scales_the_web_group_out_within_max_then_back_in() {
    let s = sim(5, NIGHT);
    let before = web(&s).await.capacity;
    assert_eq!(before.desired, before.min, "quiet night: at the minimum");
    let said = s.chaos(ChaosKind::LoadSpike).await.unwrap();
    assert!(said.contains("x4"), "{said}");
    let mut peak = before.desired;
    let mut saw_pending = false;
    for _ in 0..30 {
        s.advance(minutes(1));
        let g = web(&s).await;
        peak = peak.max(g.capacity.desired);
        saw_pending |= g
            .instances
            .iter()
            .any(|i| i.state == InstanceState::Pending);
        assert!(g.capacity.desired <= g.capacity.max);
    }
    assert!(
        peak > before.desired,
        "scaled out: {} -> {peak}",
        before.desired
    );
    assert!(saw_pending, "new instances boot through Pending");
    let mut back = false;
    for _ in 0..24 {
        s.advance(minutes(10));
        if web(&s).await.capacity.desired == before.desired {
            back = true;
            break;
        }
    }
    assert!(back, "scaled back in to {}", before.desired);
}

#[tokio::test]
async fn a_killed_instance_is_replaced_and_capacity_restored() {
    let s = sim(5, NIGHT);
    let desired = web(&s).await.capacity.desired as usize;
    let said = s.chaos(ChaosKind::KillInstance).await.unwrap();
    let victim = web(&s)
        .await
        .instances
        .iter()
        .map(|i| i.id.clone())
        .find(|id| said.contains(id.as_str()))
        .expect("the message names the instance");
    let mut activities = Vec::new();
    let mut replaced = false;
    for _ in 0..40 {
        s.advance(chrono::Duration::seconds(30));
        let g = web(&s).await;
        activities.extend(g.activities.iter().map(|a| a.description.clone()));
        let serving = g
            .instances
            .iter()
            .filter(|i| {
                i.state == InstanceState::InService && i.health == Health::Healthy && i.id != victim
            })
            .count();
        let gone = g.instances.iter().find(|i| i.id == victim).is_none_or(|i| {
            matches!(
                i.state,
                InstanceState::Terminating | InstanceState::Terminated
            ) && i.health == Health::Unhealthy
        });
        if gone && serving == desired {
            replaced = true;
            break;
        }
    }
    assert!(replaced, "capacity restored with a new instance");
    assert!(
        activities
            .iter()
            .any(|a| a == &format!("Terminating EC2 instance: {victim}")),
        "{activities:?}"
    );
    assert!(
        activities
            .iter()
            .any(|a| a.starts_with("Launching a new EC2 instance")),
        "{activities:?}"
    );
}
