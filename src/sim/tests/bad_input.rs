//! Every refusal names the problem and, where there are choices, lists them.

use super::*;
use crate::backend::BackendError;
use crate::domain::{BackupKind, Capacity, RestoreSource, Tier};

fn invalid(r: Result<impl std::fmt::Debug, BackendError>, needles: &[&str]) {
    match r {
        Err(BackendError::Invalid(m)) => {
            for n in needles {
                assert!(m.contains(n), "{m:?} lacks {n:?}");
            }
        }
        other => panic!("expected Invalid with {needles:?}, got {other:?}"),
    }
}

fn not_found(r: Result<impl std::fmt::Debug, BackendError>, what: &str, choice: Option<&str>) {
    match r {
        Err(e @ BackendError::NotFound { .. }) => {
            let BackendError::NotFound {
                what: w, choices, ..
            } = &e
            else {
                unreachable!()
            };
            assert_eq!(*w, what);
            if let Some(c) = choice {
                assert!(choices.iter().any(|x| x == c), "{choices:?} lacks {c}");
                assert!(e.to_string().contains("choose one of"), "{e}");
            }
        }
        other => panic!("expected NotFound {what}, got {other:?}"),
    }
}

#[tokio::test]
async fn scaling_refusals_name_the_bounds_and_the_groups() {
    let s = sim(4, AFTERNOON);
    invalid(
        s.set_capacity(
            Tier::Web,
            Capacity {
                min: 2,
                desired: 12,
                max: 10,
            },
        )
        .await,
        &["desired capacity 12", "min 2", "max 10"],
    );
    invalid(
        s.set_capacity(
            Tier::Web,
            Capacity {
                min: 3,
                desired: 3,
                max: 2,
            },
        )
        .await,
        &["min 3 is greater than max 2"],
    );
    invalid(
        s.set_capacity(
            Tier::Bastion,
            Capacity {
                min: 0,
                desired: 0,
                max: 21,
            },
        )
        .await,
        &["limit of 20"],
    );
    invalid(
        s.set_capacity(
            Tier::Database,
            Capacity {
                min: 1,
                desired: 1,
                max: 1,
            },
        )
        .await,
        &["'database'", "web, bastion"],
    );
    invalid(
        s.remember_stopped(Tier::Edge, None).await,
        &["'edge'", "web, bastion"],
    );
    invalid(
        s.remember_stopped(
            Tier::Web,
            Some(Capacity {
                min: 4,
                desired: 1,
                max: 9,
            }),
        )
        .await,
        &["desired capacity 1"],
    );
    s.remember_stopped(
        Tier::Web,
        Some(Capacity {
            min: 2,
            desired: 3,
            max: 10,
        }),
    )
    .await
    .unwrap();
    assert_eq!(
        web(&s).await.stopped,
        Some(Capacity {
            min: 2,
            desired: 3,
            max: 10
        })
    );
}

#[tokio::test]
async fn deployment_refusals_list_revisions_and_deployments() {
    let s = sim(4, AFTERNOON);
    let revisions = s.revisions().await.unwrap();
    assert_eq!(revisions.len(), 6);
    assert!(revisions.windows(2).all(|w| w[0].created > w[1].created));
    not_found(
        s.create_deployment("notejam-0000000.zip", "x").await,
        "revision",
        Some(&revisions[3].name),
    );
    let newest = s.deployments(1).await.unwrap()[0].id.clone();
    not_found(
        s.deployment_targets("d-NOPE12345").await,
        "deployment",
        Some(&newest),
    );
    invalid(
        s.stop_deployment("d-NOPE12345", true).await,
        &["no deployment is running", "'d-NOPE12345'"],
    );
    invalid(
        s.stop_deployment(&newest, false).await,
        &["already succeeded", "none is running"],
    );
    let running = s.create_deployment(&revisions[0].name, "x").await.unwrap();
    not_found(
        s.stop_deployment("d-NOPE12345", true).await,
        "deployment",
        Some(&running),
    );
    s.stop_deployment(&running, false).await.unwrap();
    invalid(
        s.stop_deployment(&running, false).await,
        &["already stopped"],
    );
}

#[tokio::test]
async fn backup_refusals_say_why_and_list_choices() {
    let s = sim(4, AFTERNOON);
    let o = s.backups().await.unwrap();
    let snapshot = o
        .backups
        .iter()
        .find(|b| b.kind == BackupKind::Automated)
        .unwrap()
        .id
        .clone();
    let point = o
        .backups
        .iter()
        .find(|b| b.kind == BackupKind::RecoveryPoint)
        .unwrap()
        .id
        .clone();
    invalid(
        s.create_backup(BackupKind::Automated).await,
        &["backup window", "manual or recovery_point"],
    );
    invalid(
        s.cancel_backup("nope").await,
        &["no backup job is running", "'nope'"],
    );
    invalid(s.cancel_backup(&snapshot).await, &["RDS cannot cancel"]);
    invalid(
        s.cancel_backup(&point).await,
        &["is available", "only a job still creating"],
    );
    let target = "notejam-demo-restore-1";
    not_found(
        s.restore(
            &RestoreSource::Backup {
                id: "rds:nope".into(),
            },
            target,
        )
        .await,
        "backup",
        Some(&snapshot),
    );
    invalid(
        s.restore(
            &RestoreSource::Backup {
                id: snapshot.clone(),
            },
            "Bad_Name",
        )
        .await,
        &["not a valid database identifier"],
    );
    invalid(
        s.restore(
            &RestoreSource::Backup {
                id: snapshot.clone(),
            },
            "other-db",
        )
        .await,
        &["notejam-demo-restore-<timestamp>"],
    );
    let now = s.now();
    for t in [
        now - chrono::Duration::days(30),
        now + chrono::Duration::hours(1),
    ] {
        invalid(
            s.restore(&RestoreSource::PointInTime { time: t }, target)
                .await,
            &[
                "outside the restorable window of notejam-demo",
                "from 2026-03-03T",
                " to 2026-03-10T13:5",
            ],
        );
    }
    invalid(
        s.restore(
            &RestoreSource::Backup {
                id: "notejam-demo".into(),
            },
            "notejam-demo",
        )
        .await,
        &["naming contract"],
    );
    let running = s.create_backup(BackupKind::Manual).await.unwrap();
    invalid(
        s.restore(&RestoreSource::Backup { id: running }, target)
            .await,
        &["is creating", "only an available backup"],
    );
    invalid(
        s.point_app_at("notejam-demo-restore-x").await,
        &["no other available database", "restore one first"],
    );
    let job = s.create_backup(BackupKind::RecoveryPoint).await.unwrap();
    not_found(s.cancel_backup("nope").await, "backup job", Some(&job));
    invalid(
        s.point_app_at("notejam-demo").await,
        &["already uses notejam-demo"],
    );
    invalid(
        s.create_backup(BackupKind::Manual).await,
        &["is backing-up"],
    );
}

#[tokio::test]
async fn killing_with_nothing_to_kill_says_what_there_is() {
    let s = sim(4, NIGHT);
    s.set_capacity(
        Tier::Web,
        Capacity {
            min: 0,
            desired: 0,
            max: 10,
        },
    )
    .await
    .unwrap();
    invalid(
        s.chaos(crate::domain::ChaosKind::KillInstance).await,
        &["no healthy in-service web instance"],
    );
    s.advance(minutes(10));
    invalid(
        s.chaos(crate::domain::ChaosKind::KillInstance).await,
        &["web instances: none"],
    );
}
