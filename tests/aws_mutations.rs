//! Every mutation of the AWS backend against moto. Each test seeds its own
//! region (prod and staging per the naming contract) so tests run in parallel
//! and never see each other.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use njtui::aws::{AwsBackend, FollowTiming};
use njtui::backend::{Backend, BackendError};
use njtui::domain::{
    AuditOutcome, AuditRecord, BackendKind, BackupKind, BackupStatus, Capacity, DeploymentCreator,
    DeploymentStatus, FollowMode, GroupKind, LogQuery, LogSource, ReleasePhase, RestoreSource,
    RollbackRequest, RollbackTarget, Stage, StageStatus, Tier,
};
use support::moto::MotoServer;
use support::seed::{self, EnvSpec, Seeded};

/// Seeds prod and staging into `region` and returns prod's backend.
async fn world(region: &str) -> (AwsBackend, Seeded, Seeded) {
    let endpoint = MotoServer::shared().endpoint();
    let cfg = seed::sdk_config(&endpoint, region).await;
    let prod = seed::seed_env(&cfg, &EnvSpec::small("prod", 10)).await;
    let staging = seed::seed_env(&cfg, &EnvSpec::small("staging", 20)).await;
    (
        seed::backend(&endpoint, region, "prod").await,
        prod,
        staging,
    )
}

async fn staging_backend(region: &str) -> AwsBackend {
    seed::backend(&MotoServer::shared().endpoint(), region, "staging").await
}

#[tokio::test]
async fn scale_stop_and_start_change_only_this_environment() {
    let region = "us-east-2";
    let (b, _, _) = world(region).await;
    let staging = staging_backend(region).await;

    b.set_capacity(
        Tier::Web,
        Capacity {
            min: 2,
            desired: 5,
            max: 8,
        },
    )
    .await
    .unwrap();
    let t = b.topology().await.unwrap();
    let web = t.group(Tier::Web).unwrap();
    assert_eq!(
        web.capacity,
        Capacity {
            min: 2,
            desired: 5,
            max: 8
        }
    );
    assert_eq!(web.instances.len(), 5);

    // stop: remember, then scale to zero.
    let before = web.capacity;
    b.remember_stopped(Tier::Web, Some(before)).await.unwrap();
    b.set_capacity(
        Tier::Web,
        Capacity {
            min: 0,
            desired: 0,
            max: 0,
        },
    )
    .await
    .unwrap();
    let t = b.topology().await.unwrap();
    let web = t.group(Tier::Web).unwrap();
    assert_eq!(web.capacity.desired, 0);
    assert_eq!(web.stopped, Some(before));
    assert_eq!(t.group(Tier::Bastion).unwrap().stopped, None);

    // start: restore the remembered capacity, then forget it.
    b.set_capacity(Tier::Web, web.stopped.unwrap())
        .await
        .unwrap();
    b.remember_stopped(Tier::Web, None).await.unwrap();
    b.remember_stopped(Tier::Web, None)
        .await
        .expect("forgetting twice is fine");
    let web = b
        .topology()
        .await
        .unwrap()
        .group(Tier::Web)
        .unwrap()
        .clone();
    assert_eq!((web.capacity, web.stopped), (before, None));

    // Staging never moved.
    let s = staging.topology().await.unwrap();
    let sweb = s.group(Tier::Web).unwrap();
    assert_eq!(
        (sweb.capacity.desired, sweb.instances.len(), sweb.stopped),
        (2, 2, None)
    );

    // Bad input is refused before any call.
    let e = b
        .set_capacity(
            Tier::Web,
            Capacity {
                min: 3,
                desired: 2,
                max: 4,
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, BackendError::Invalid(ref m) if m.contains("min <= desired <= max")),
        "{e:?}"
    );
    let e = b
        .set_capacity(
            Tier::Database,
            Capacity {
                min: 1,
                desired: 1,
                max: 1,
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, BackendError::Invalid(ref m) if m.contains("web, bastion")),
        "{e:?}"
    );
    let e = b.remember_stopped(Tier::Edge, None).await.unwrap_err();
    assert!(matches!(e, BackendError::Invalid(_)), "{e:?}");
}

/// The eTag deployment `id` is pinned to, as CodeDeploy answers it.
async fn pinned_etag(cfg: &aws_config::SdkConfig, id: &str) -> String {
    let d = aws_sdk_codedeploy::Client::new(cfg)
        .get_deployment()
        .deployment_id(id)
        .send()
        .await
        .expect("GetDeployment");
    d.deployment_info()
        .and_then(|i| i.revision())
        .and_then(|r| r.s3_location())
        .and_then(|l| l.e_tag())
        .unwrap_or_else(|| panic!("{id} is pinned to no eTag: {d:?}"))
        .to_string()
}

/// The eTag of an object, unquoted, as S3 answers it.
async fn object_etag(cfg: &aws_config::SdkConfig, bucket: &str, key: &str) -> String {
    let head = aws_sdk_s3::Client::new(cfg)
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("HeadObject");
    head.e_tag().expect("an eTag").trim_matches('"').to_string()
}

#[tokio::test]
async fn deployments_are_created_from_bundles_and_listed_newest_first() {
    let region = "us-west-2";
    let (b, prod, _) = world(region).await;
    let principal = b.identity().await.unwrap().principal;

    let first = b
        .create_deployment(&prod.bundles[0], "deploy 1.0.0")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = b
        .create_deployment(&prod.bundles[1], "deploy 1.1.0")
        .await
        .unwrap();
    assert_ne!(first, second);

    let ds = b.deployments(10).await.unwrap();
    assert_eq!(
        ds.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        [second.as_str(), first.as_str()]
    );
    let d = &ds[0];
    assert_eq!(d.revision, prod.bundles[1]);
    // Pinned to the bytes the listing showed: CodeDeploy deploys them or nothing.
    let cfg = seed::sdk_config(&MotoServer::shared().endpoint(), region).await;
    assert_eq!(
        pinned_etag(&cfg, &second).await,
        object_etag(&cfg, &prod.artifacts_bucket, &prod.bundles[1]).await
    );
    assert_eq!(d.status, DeploymentStatus::Created);
    assert_eq!(d.creator, DeploymentCreator::User);
    assert_eq!(d.initiated_by.as_deref(), Some(principal.as_str()));
    assert_eq!(b.deployments(1).await.unwrap().len(), 1);
    assert!(b.deployments(0).await.unwrap().is_empty());

    // The group's running deployment shows in the topology; staging has none.
    let t = b.topology().await.unwrap();
    let active = t.delivery.unwrap().active_deployment.unwrap();
    assert!(active == first || active == second, "{active}");
    let staging = staging_backend(region).await;
    assert!(staging.deployments(10).await.unwrap().is_empty());

    let e = b
        .create_deployment("releases/notejam-9.9.9.zip", "nope")
        .await
        .unwrap_err();
    match e {
        BackendError::NotFound { what, choices, .. } => {
            assert_eq!(what, "revision");
            assert_eq!(choices, [prod.bundles[1].clone(), prod.bundles[0].clone()]);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn both_groups_are_listed_and_a_rollback_overrides_the_alarm_configuration() {
    let region = "ca-central-1";
    let (b, prod, _) = world(region).await;
    let cfg = seed::sdk_config(&MotoServer::shared().endpoint(), region).await;
    let cd = aws_sdk_codedeploy::Client::new(&cfg);
    let t = b.topology().await.unwrap();
    assert_eq!(
        t.delivery.unwrap().canary_group.as_deref(),
        Some("prod-canary")
    );

    // The pipeline's canary, then the console's deployment to the fleet.
    let canary = cd
        .create_deployment()
        .application_name("notejam")
        .deployment_group_name("prod-canary")
        .revision(
            aws_sdk_codedeploy::types::RevisionLocation::builder()
                .revision_type(aws_sdk_codedeploy::types::RevisionLocationType::S3)
                .s3_location(
                    aws_sdk_codedeploy::types::S3Location::builder()
                        .bucket(&prod.artifacts_bucket)
                        .key(&prod.bundles[1])
                        .bundle_type(aws_sdk_codedeploy::types::BundleType::Zip)
                        .build(),
                )
                .build(),
        )
        .description("deploy 1.1.0 to the canary")
        .send()
        .await
        .unwrap()
        .deployment_id()
        .unwrap()
        .to_string();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fleet = b
        .create_deployment(&prod.bundles[1], "deploy 1.1.0")
        .await
        .unwrap();
    let ds = b.deployments(10).await.unwrap();
    let groups: Vec<(&str, &str, bool)> = ds
        .iter()
        .map(|d| (d.id.as_str(), d.group.as_str(), d.ignores_alarms))
        .collect();
    assert_eq!(
        groups,
        [
            (fleet.as_str(), "prod", false),
            (canary.as_str(), "prod-canary", false)
        ]
    );
    // moto never moves a deployment on: the canary is still deploying, so the
    // fleet's deployment is a release of its own, straight to the fleet.
    let releases = b.releases(10).await.unwrap();
    assert_eq!(
        releases.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [fleet.as_str(), canary.as_str()]
    );
    assert_eq!(releases[1].stage, Stage::Canary);
    assert_eq!(releases[1].stages[0].group, "prod-canary");
    assert_eq!(releases[0].stages[0].status, StageStatus::Skipped);
    assert_eq!(
        releases[0].stages[2].deployment.as_deref(),
        Some(fleet.as_str())
    );

    // The rollback: both groups, each deployment with the alarms overridden off.
    let request = RollbackRequest {
        revision: prod.bundles[0].clone(),
        stop: vec![],
        targets: vec![
            RollbackTarget {
                group: GroupKind::Canary,
                rollback_of: Some(canary.clone()),
            },
            RollbackTarget {
                group: GroupKind::Fleet,
                rollback_of: Some(fleet.clone()),
            },
        ],
        description: "rollback to 1.0.0".into(),
    };
    let ids = b.roll_back(&request).await.unwrap();
    assert_eq!(ids.len(), 2);
    let raw = cd
        .batch_get_deployments()
        .set_deployment_ids(Some(ids.clone()))
        .send()
        .await
        .unwrap();
    for (id, group) in ids.iter().zip(["prod-canary", "prod"]) {
        let info = raw
            .deployments_info()
            .iter()
            .find(|d| d.deployment_id() == Some(id))
            .unwrap();
        assert_eq!(info.deployment_group_name(), Some(group));
        let alarms = info.override_alarm_configuration().expect("an override");
        assert!(!alarms.enabled(), "{alarms:?}");
        assert_eq!(
            info.revision()
                .and_then(|r| r.s3_location())
                .and_then(|s| s.key()),
            Some(prod.bundles[0].as_str())
        );
        assert_eq!(
            pinned_etag(&cfg, id).await,
            object_etag(&cfg, &prod.artifacts_bucket, &prod.bundles[0]).await
        );
    }
    let ds = b.deployments(10).await.unwrap();
    let rb = ds.iter().find(|d| d.id == ids[0]).unwrap();
    assert!(rb.ignores_alarms);
    assert_eq!(rb.rollback_of.as_deref(), Some(canary.as_str()));
    let releases = b.releases(10).await.unwrap();
    let rolled = releases.iter().find(|r| r.id == canary).unwrap();
    assert_eq!(rolled.rollbacks.len(), 1, "{rolled:#?}");
    assert_eq!(rolled.rollbacks[0].group, "prod-canary");
    assert_eq!(rolled.phase, ReleasePhase::RollingBack);

    // Refusals name what is wrong before anything is sent.
    let e = b
        .roll_back(&RollbackRequest {
            revision: "releases/notejam-9.9.9.zip".into(),
            ..request.clone()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            &e,
            BackendError::NotFound {
                what: "revision",
                ..
            }
        ),
        "{e:?}"
    );
    let e = b
        .roll_back(&RollbackRequest {
            targets: vec![],
            ..request
        })
        .await
        .unwrap_err();
    assert!(e.to_string().contains("at least one"), "{e}");
    // staging has none of it.
    let staging = staging_backend(region).await;
    assert!(staging.releases(10).await.unwrap().is_empty());
}

#[tokio::test]
async fn backup_now_restore_it_and_point_the_app_at_the_copy() {
    let region = "eu-west-2";
    let (b, prod, _) = world(region).await;

    let snap = b.create_backup(BackupKind::Manual).await.unwrap();
    assert!(snap.starts_with("notejam-prod-manual-"), "{snap}");
    let o = b.backups().await.unwrap();
    let mine = o
        .backups
        .iter()
        .find(|x| x.id == snap)
        .expect("the manual snapshot is listed");
    assert_eq!(
        (mine.kind, mine.resource.as_str()),
        (BackupKind::Manual, "notejam-prod")
    );
    assert_eq!(mine.status, BackupStatus::Available);
    assert!(
        o.backups.iter().all(|x| x.resource == "notejam-prod"),
        "no staging snapshot: {:?}",
        o.backups
    );

    let target = "notejam-prod-restore-20260101120000";
    b.restore(&RestoreSource::Backup { id: snap.clone() }, target)
        .await
        .unwrap();
    let t = b.topology().await.unwrap();
    assert_eq!(t.database.as_ref().unwrap().id, "notejam-prod");
    let copy = t
        .other_databases
        .iter()
        .find(|d| d.id == target)
        .expect("restored copy listed");
    assert_eq!((copy.class.as_str(), copy.multi_az), ("db.t4g.small", true));
    let o = b.backups().await.unwrap();
    assert_eq!(
        o.restores.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        [target]
    );

    // The copy carries the contract's tags and the original's placement.
    let db = &described_db(region, target).await;
    let tags: HashSet<(&str, &str)> = db
        .tag_list()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    assert!(
        tags.contains(&("Environment", "prod")) && tags.contains(&("Tier", "database")),
        "{tags:?}"
    );
    assert_eq!(
        db.db_subnet_group().unwrap().db_subnet_group_name(),
        Some("notejam-prod-db")
    );
    assert_same_settings(db);

    // Repoint the app: the parameter names the copy, the topology follows.
    b.point_app_at(target).await.unwrap();
    let ssm =
        aws_sdk_ssm::Client::new(&seed::sdk_config(&MotoServer::shared().endpoint(), region).await);
    let host = ssm
        .get_parameter()
        .name("/notejam/prod/database/host")
        .send()
        .await
        .unwrap();
    let host = host.parameter().unwrap().value().unwrap().to_string();
    assert_eq!(Some(host.as_str()), copy.endpoint.as_deref());
    assert_ne!(host, prod.database_host);
    let t = b.topology().await.unwrap();
    assert_eq!(t.database.unwrap().id, target);
    assert!(t.other_databases.iter().any(|d| d.id == "notejam-prod"));
    b.point_app_at("notejam-prod").await.unwrap();
    assert_eq!(
        b.topology().await.unwrap().database.unwrap().id,
        "notejam-prod"
    );

    // Bad requests name the choices.
    let e = b
        .restore(
            &RestoreSource::Backup {
                id: "rds:nope".into(),
            },
            "notejam-prod-restore-2",
        )
        .await
        .unwrap_err();
    match e {
        BackendError::NotFound { what, choices, .. } => {
            assert_eq!(what, "backup");
            assert!(choices.contains(&snap), "{choices:?}");
        }
        other => panic!("{other:?}"),
    }
    let e = b
        .restore(&RestoreSource::Backup { id: snap.clone() }, target)
        .await
        .unwrap_err();
    assert!(
        matches!(e, BackendError::Invalid(ref m) if m.contains("already exists")),
        "{e:?}"
    );
    let e = b
        .restore(&RestoreSource::Backup { id: snap.clone() }, "scratch")
        .await
        .unwrap_err();
    assert!(
        matches!(e, BackendError::Invalid(ref m) if m.contains("notejam-prod-restore-")),
        "{e:?}"
    );
    let e = b.point_app_at("notejam-staging").await.unwrap_err();
    match e {
        BackendError::NotFound { choices, .. } => {
            assert_eq!(choices, ["notejam-prod", target]);
        }
        other => panic!("{other:?}"),
    }
}

/// The database `id` as RDS (moto) describes it.
async fn described_db(region: &str, id: &str) -> aws_sdk_rds::types::DbInstance {
    let rds =
        aws_sdk_rds::Client::new(&seed::sdk_config(&MotoServer::shared().endpoint(), region).await);
    let described = rds
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
        .unwrap();
    described.db_instances()[0].clone()
}

/// A restored copy keeps the environment's parameter group and PostgreSQL log export.
fn assert_same_settings(db: &aws_sdk_rds::types::DbInstance) {
    assert_eq!(
        db.db_parameter_groups()
            .iter()
            .filter_map(|g| g.db_parameter_group_name())
            .collect::<Vec<_>>(),
        ["notejam-prod"]
    );
    assert_eq!(db.enabled_cloudwatch_logs_exports(), ["postgresql"]);
    assert_eq!(db.backup_retention_period(), Some(7));
}

#[tokio::test]
async fn point_in_time_restores_stay_inside_the_window() {
    let region = "eu-west-3";
    let (b, _, _) = world(region).await;
    let latest = b
        .backups()
        .await
        .unwrap()
        .latest_restorable
        .expect("a restore window");
    let target = "notejam-prod-restore-pitr";
    b.restore(&RestoreSource::PointInTime { time: latest }, target)
        .await
        .unwrap();
    assert_same_settings(&described_db(region, target).await);
    assert!(
        b.topology()
            .await
            .unwrap()
            .other_databases
            .iter()
            .any(|d| d.id == target)
    );

    let future = Utc::now() + chrono::Duration::hours(1);
    let e = b
        .restore(
            &RestoreSource::PointInTime { time: future },
            "notejam-prod-restore-later",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, BackendError::Invalid(ref m) if m.contains("restore window")),
        "{e:?}"
    );
    let past = Utc::now() - chrono::Duration::days(30);
    let e = b
        .restore(
            &RestoreSource::PointInTime { time: past },
            "notejam-prod-restore-early",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, BackendError::Invalid(ref m) if m.contains("restore window")),
        "{e:?}"
    );
}

fn record(action: &str, time: chrono::DateTime<Utc>) -> AuditRecord {
    AuditRecord {
        time,
        env: "prod".into(),
        backend: BackendKind::Aws,
        who: "arn:aws:iam::123456789012:user/ana".into(),
        action: action.into(),
        change: "web: desired 2 -> 5".into(),
        outcome: AuditOutcome::Succeeded,
        detail: None,
    }
}

#[tokio::test]
async fn audit_records_land_in_the_environments_audit_group() {
    let region = "eu-central-1";
    let (b, _, _) = world(region).await;
    let now = Utc::now();
    b.record_audit(&record("scale", now)).await.unwrap();
    b.record_audit(&record("deploy", now + chrono::Duration::milliseconds(5)))
        .await
        .unwrap();
    let events = b
        .logs(&LogQuery {
            sources: vec![LogSource::Audit],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0].stream,
        format!("njtui/{}", now.format("%Y-%m-%d"))
    );
    let back: AuditRecord = serde_json::from_str(&events[0].message).unwrap();
    assert_eq!(back.action, "scale");
    assert_eq!(back.who, "arn:aws:iam::123456789012:user/ana");
    assert_eq!(back.time.timestamp_millis(), now.timestamp_millis());

    // An environment without an audit group says so instead of inventing one.
    let qa = seed::backend(&MotoServer::shared().endpoint(), region, "qa").await;
    let e = qa.record_audit(&record("scale", now)).await.unwrap_err();
    assert_eq!(e.to_string(), "log group '/notejam/qa/audit' not found");
}

#[tokio::test]
async fn following_logs_on_an_emulator_polls_without_repeats() {
    let region = "eu-north-1";
    let (b, _, _) = world(region).await;
    let b = b.with_follow_timing(FollowTiming {
        poll_interval: Duration::from_millis(100),
        max_backoff: Duration::from_secs(1),
    });
    let cfg = seed::sdk_config(&MotoServer::shared().endpoint(), region).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&cfg);
    let mut f = b
        .follow_logs(&[LogSource::App, LogSource::System])
        .await
        .unwrap();
    assert!(
        matches!(
            f.mode(),
            FollowMode::Polling {
                throttled: false,
                ..
            }
        ),
        "{:?}",
        f.mode()
    );
    assert!(
        f.next_batch().await.unwrap().is_empty(),
        "nothing before the follow started"
    );

    let t = Utc::now().timestamp_millis() + 1000;
    seed::put_events(
        &logs,
        "/notejam/prod/app",
        "i-live",
        &[(t, "one".into()), (t + 1, "two".into())],
    )
    .await;
    seed::put_events(
        &logs,
        "/notejam/staging/app",
        "i-live",
        &[(t, "staging".into())],
    )
    .await;
    let mut seen = collect(&mut *f, 2).await;
    // A late event at the app group's boundary millisecond (its newest event
    // "two" must not come again), and a newer one in another group.
    seed::put_events(
        &logs,
        "/notejam/prod/app",
        "i-live",
        &[(t + 1, "three".into())],
    )
    .await;
    seed::put_events(
        &logs,
        "/notejam/prod/system",
        "i-live",
        &[(t + 5, "four".into())],
    )
    .await;
    seen.extend(collect(&mut *f, 2).await);
    let messages: Vec<&str> = seen.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(messages, ["one", "two", "three", "four"]);
    // A few more polls bring nothing again.
    for _ in 0..3 {
        assert!(f.next_batch().await.unwrap().is_empty());
    }
}

async fn collect(
    f: &mut dyn njtui::backend::LogFollower,
    n: usize,
) -> Vec<njtui::domain::LogEvent> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while got.len() < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {got:?} arrived"
        );
        got.extend(f.next_batch().await.unwrap());
    }
    got
}
