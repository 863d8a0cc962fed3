use super::*;
use crate::backend::BackendError;
use crate::domain::{BackupKind, BackupStatus, RestoreSource};

#[tokio::test]
async fn daily_backups_cover_the_last_week_and_are_fresh() {
    let s = sim(1, AFTERNOON);
    let now = s.now();
    let o = s.backups().await.unwrap();
    assert!(
        o.backups.windows(2).all(|w| w[0].created >= w[1].created),
        "newest first"
    );
    let automated: Vec<_> = o
        .backups
        .iter()
        .filter(|b| b.kind == BackupKind::Automated)
        .collect();
    assert_eq!(
        automated.len(),
        7,
        "{:?}",
        automated.iter().map(|b| &b.id).collect::<Vec<_>>()
    );
    let days: std::collections::BTreeSet<_> =
        automated.iter().map(|b| b.created.date_naive()).collect();
    assert_eq!(days.len(), 7, "one a day");
    for b in &automated {
        assert!(b.id.starts_with("rds:notejam-demo-2026-03-"), "{}", b.id);
        assert_eq!(b.status, BackupStatus::Available);
        assert!(now - b.created <= chrono::Duration::days(7));
        assert_eq!(b.expires, Some(b.created + chrono::Duration::days(7)));
    }
    let points = o
        .backups
        .iter()
        .filter(|b| b.kind == BackupKind::RecoveryPoint)
        .count();
    assert!(points >= 35, "{points} recovery points");
    assert!(!o.is_stale(now));
    let latest = o.latest_restorable.unwrap();
    assert!(
        latest <= now - chrono::Duration::minutes(5)
            && latest >= now - chrono::Duration::minutes(6)
    );
    let topo = s.topology().await.unwrap();
    assert_eq!(
        topo.backup_vault.unwrap().recovery_points,
        Some(points as u32)
    );
}

#[tokio::test]
async fn a_manual_snapshot_progresses_to_available() {
    let s = sim(1, AFTERNOON);
    let id = s.create_backup(BackupKind::Manual).await.unwrap();
    assert_eq!(id, "notejam-demo-manual-202603101400");
    let find =
        |o: crate::domain::BackupOverview| o.backups.into_iter().find(|b| b.id == id).unwrap();
    let first = find(s.backups().await.unwrap());
    assert_eq!(first.status, BackupStatus::Creating);
    assert_eq!(first.progress, Some(0));
    assert_eq!(
        s.topology().await.unwrap().database.unwrap().status,
        "backing-up"
    );
    s.advance(minutes(2));
    let mid = find(s.backups().await.unwrap());
    assert!(mid.progress.unwrap() > 0, "{mid:?}");
    s.advance(minutes(6));
    let done = find(s.backups().await.unwrap());
    assert_eq!(
        (done.status, done.progress, done.expires),
        (BackupStatus::Available, None, None)
    );
    assert_eq!(
        s.topology().await.unwrap().database.unwrap().status,
        "available"
    );
}

#[tokio::test]
async fn an_on_demand_job_can_be_cancelled_while_it_runs() {
    let s = sim(1, AFTERNOON);
    let id = s.create_backup(BackupKind::RecoveryPoint).await.unwrap();
    assert!(
        id.starts_with("arn:aws:rds:eu-west-1:123456789012:snapshot:awsbackup:job-"),
        "{id}"
    );
    s.advance(minutes(1));
    s.cancel_backup(&id).await.unwrap();
    let b = s
        .backups()
        .await
        .unwrap()
        .backups
        .into_iter()
        .find(|b| b.id == id)
        .unwrap();
    assert_eq!(b.status, BackupStatus::Failed);
    let snapshot = s
        .backups()
        .await
        .unwrap()
        .backups
        .into_iter()
        .find(|b| b.kind == BackupKind::Automated)
        .unwrap();
    match s.cancel_backup(&snapshot.id).await {
        Err(BackendError::Invalid(m)) => assert!(m.contains("RDS cannot cancel"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn restoring_a_backup_then_pointing_the_app_at_it() {
    let s = sim(1, AFTERNOON);
    let o = s.backups().await.unwrap();
    let snapshot = o
        .backups
        .iter()
        .find(|b| b.kind == BackupKind::Automated)
        .unwrap()
        .id
        .clone();
    let target = "notejam-demo-restore-20260310140000";
    s.restore(
        &RestoreSource::Backup {
            id: snapshot.clone(),
        },
        target,
    )
    .await
    .unwrap();
    let restoring = s.backups().await.unwrap().restores;
    assert_eq!(restoring.len(), 1);
    assert_eq!(
        (restoring[0].id.as_str(), restoring[0].status.as_str()),
        (target, "creating")
    );
    assert_eq!(restoring[0].endpoint, None);
    let topo = s.topology().await.unwrap();
    assert!(topo.other_databases.iter().any(|d| d.id == target));
    match s
        .restore(
            &RestoreSource::Backup {
                id: snapshot.clone(),
            },
            "notejam-demo-restore-2",
        )
        .await
    {
        Err(BackendError::Invalid(m)) => assert!(m.contains("still running"), "{m}"),
        other => panic!("{other:?}"),
    }
    match s.point_app_at(target).await {
        Err(BackendError::Invalid(m)) => assert!(m.contains("is creating"), "{m}"),
        other => panic!("{other:?}"),
    }
    let mut seen = Vec::new();
    for _ in 0..30 {
        s.advance(minutes(1));
        let status = s.backups().await.unwrap().restores[0].status.clone();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == "available" {
            break;
        }
    }
    assert_eq!(seen, ["creating", "backing-up", "available"]);
    s.point_app_at(target).await.unwrap();
    let topo = s.topology().await.unwrap();
    assert_eq!(topo.database.as_ref().unwrap().id, target);
    assert!(topo.other_databases.iter().any(|d| d.id == "notejam-demo"));
    match s
        .restore(&RestoreSource::Backup { id: snapshot }, target)
        .await
    {
        Err(BackendError::Invalid(m)) => assert!(m.contains("already exists"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Back to the original, then a point-in-time restore of it.
    s.point_app_at("notejam-demo").await.unwrap();
    let an_hour_ago = s.now() - chrono::Duration::hours(1);
    s.restore(
        &RestoreSource::PointInTime { time: an_hour_ago },
        "notejam-demo-restore-pitr",
    )
    .await
    .unwrap();
    assert_eq!(s.backups().await.unwrap().restores.len(), 2);
}
