use std::collections::HashSet;

use super::*;
use crate::domain::{AuditOutcome, AuditRecord, BackendKind, Capacity, Tier};
use crate::sim::logs::{CAP, WINDOW};
use crate::sim::metrics::KEEP_MINUTES;

fn audit(s: &SimBackend, n: usize) -> AuditRecord {
    AuditRecord {
        time: s.now(),
        env: "demo".into(),
        backend: BackendKind::Sim,
        who: "demo-operator".into(),
        action: "scale".into(),
        change: format!("web: desired -> {n}"),
        outcome: AuditOutcome::Succeeded,
        detail: None,
    }
}

#[tokio::test]
async fn the_follower_never_duplicates_or_skips_across_interleaved_steps() {
    let s = sim(13, AFTERNOON);
    let from = s.now();
    let mut f = s.follow_logs(&[]).await.unwrap();
    assert_eq!(f.mode(), crate::domain::FollowMode::Simulated);
    let mut got = Vec::new();
    for k in 0..8usize {
        s.advance(minutes(1 + (k % 3) as i64));
        if k % 2 == 0 {
            // Another caller steps the model and writes between batches.
            let _ = s.topology().await.unwrap();
            s.record_audit(&audit(&s, k)).await.unwrap();
            s.set_capacity(
                Tier::Web,
                Capacity {
                    min: 2,
                    desired: 3 + (k % 4) as u32,
                    max: 10,
                },
            )
            .await
            .unwrap();
        }
        got.extend(f.next_batch().await.unwrap());
    }
    let until = s.now();
    let expected = s
        .logs(&LogQuery {
            since: Some(from),
            until: Some(until),
            ..LogQuery::default()
        })
        .await
        .unwrap();
    let ids: Vec<&str> = got.iter().map(|e| e.id.as_str()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no duplicates");
    assert!(
        got.windows(2).all(|w| w[0].timestamp <= w[1].timestamp),
        "time order"
    );
    let want: Vec<&str> = expected.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, want, "every event, once, in order");
    assert!(
        got.iter()
            .filter(|e| e.source == crate::domain::LogSource::Audit)
            .count()
            == 4
    );
    // Nothing more until time moves: a heartbeat.
    assert!(f.next_batch().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_follower_of_some_sources_sees_only_those() {
    let s = sim(13, AFTERNOON);
    let mut f = s
        .follow_logs(&[crate::domain::LogSource::Audit])
        .await
        .unwrap();
    s.record_audit(&audit(&s, 1)).await.unwrap();
    s.advance(minutes(2));
    let batch = f.next_batch().await.unwrap();
    assert_eq!(batch.len(), 1);
    let v: serde_json::Value = serde_json::from_str(&batch[0].message).unwrap();
    assert_eq!(v["change"], "web: desired -> 1");
}

#[tokio::test]
async fn memory_stays_bounded_over_a_long_run() {
    let s = sim(13, AFTERNOON);
    s.advance(chrono::Duration::days(3));
    s.with_world(|w, _| {
        assert!(w.logs.len() <= CAP, "{}", w.logs.len());
        assert!(w.logs.events.iter().all(|e| e.t >= w.time - WINDOW));
        assert!(w.metrics.len() <= KEEP_MINUTES + 60);
        assert!(w.delivery.deployments.len() <= crate::sim::deployments::KEEP_DEPLOYMENTS);
    });
    let logs = s.logs(&LogQuery::default()).await.unwrap();
    assert!(!logs.is_empty() && logs.len() <= CAP);
    let ids: HashSet<&str> = logs.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), logs.len(), "event ids are unique");
}

#[tokio::test]
async fn a_long_absence_sleeps_through_and_keeps_backups_going() {
    let s = sim(13, AFTERNOON);
    s.advance(chrono::Duration::days(30));
    let now = s.now();
    let o = s.backups().await.unwrap();
    assert!(!o.is_stale(now));
    let automated = o
        .backups
        .iter()
        .filter(|b| b.kind == crate::domain::BackupKind::Automated)
        .count();
    assert_eq!(automated, 7);
    let m = s.metrics(TimeRange::Days7).await.unwrap();
    assert!(
        m.series[0].points.len() >= 160,
        "the last week is simulated in full"
    );
    assert_eq!(
        web(&s)
            .await
            .instances
            .iter()
            .filter(|i| i.state == crate::domain::InstanceState::InService)
            .count() as u32,
        web(&s).await.capacity.desired
    );
}
