//! Reads of the AWS backend against moto: two environments seeded per the naming
//! contract in one region, read back through `AwsBackend`.

mod support;

use std::collections::HashSet;
use std::sync::OnceLock;

use njtui::backend::{Backend, BackendError};
use njtui::domain::{
    AlarmState, BucketPurpose, Health, InstanceState, LogQuery, LogSource, MetricKind, Severity,
    Tier, TimeRange,
};
use support::moto::MotoServer;
use support::seed::{self, EnvSpec, Seeded};

const REGION: &str = "eu-west-1";
const PROD_WEB: i32 = 205;
const PROD_APP_EVENTS: usize = 10_500;

struct World {
    prod: Seeded,
    staging: Seeded,
}

/// Seeds once per test binary, on a thread of its own so no test's runtime owns
/// the seeding clients.
fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let endpoint = MotoServer::shared().endpoint();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let cfg = seed::sdk_config(&endpoint, REGION).await;
                let prod = seed::seed_env(
                    &cfg,
                    &EnvSpec {
                        env: "prod",
                        web: PROD_WEB,
                        bastion: 1,
                        app_log_events: PROD_APP_EVENTS,
                        net: 10,
                        requests_per_minute: 100.0,
                    },
                )
                .await;
                let staging = seed::seed_env(
                    &cfg,
                    &EnvSpec {
                        requests_per_minute: 7.0,
                        ..EnvSpec::small("staging", 20)
                    },
                )
                .await;
                seed::seed_strangers(&cfg).await;
                World { prod, staging }
            })
        })
        .join()
        .expect("seeding")
    })
}

async fn prod() -> njtui::aws::AwsBackend {
    world();
    seed::backend(&MotoServer::shared().endpoint(), REGION, "prod").await
}

async fn staging() -> njtui::aws::AwsBackend {
    world();
    seed::backend(&MotoServer::shared().endpoint(), REGION, "staging").await
}

#[tokio::test]
async fn identity_reports_the_caller_and_the_region() {
    let b = prod().await;
    let id = b.identity().await.unwrap();
    assert_eq!(id.account.as_deref(), Some(seed::ACCOUNT));
    assert!(id.principal.starts_with("arn:aws:"), "{}", id.principal);
    assert_eq!(id.region, REGION);
}

#[tokio::test]
async fn topology_finds_every_tier_of_prod_and_nothing_of_staging() {
    let w = world();
    let b = prod().await;
    let t = b.topology().await.unwrap();
    assert_eq!(t.env, "prod");

    let net = t.network.as_ref().expect("network");
    assert_eq!(net.vpc_id, w.prod.vpc_id);
    assert_eq!(net.cidr, "10.10.0.0/16");
    assert_eq!(net.subnets.len(), 4);
    let public: HashSet<&str> = net
        .subnets
        .iter()
        .filter(|s| s.public)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        public,
        HashSet::from([w.prod.subnets[0].as_str(), w.prod.subnets[1].as_str()])
    );

    // Web first; more instances than two DescribeInstances batches, every one with
    // its launch time.
    assert_eq!(
        t.groups.iter().map(|g| g.tier).collect::<Vec<_>>(),
        [Tier::Web, Tier::Bastion]
    );
    let web = t.group(Tier::Web).unwrap();
    assert_eq!(web.name, w.prod.web_group);
    assert_eq!(web.capacity.desired, PROD_WEB as u32);
    assert_eq!(web.instances.len(), PROD_WEB as usize);
    let ids: HashSet<&str> = web.instances.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids.len(), PROD_WEB as usize, "instances are distinct");
    for i in &web.instances {
        assert_eq!(i.state, InstanceState::InService, "{i:?}");
        assert_eq!(i.health, Health::Healthy);
        assert_eq!(i.instance_type, "t3.small");
        assert!(i.az.starts_with(REGION), "{}", i.az);
        assert!(i.launched.is_some(), "{} has no launch time", i.id);
    }
    assert_eq!(web.stopped, None);
    assert_eq!(t.group(Tier::Bastion).unwrap().instances.len(), 1);

    let lb = t.load_balancer.as_ref().expect("load balancer");
    assert_eq!(lb.name, w.prod.load_balancer);
    assert_eq!(lb.targets.len(), PROD_WEB as usize);
    assert_eq!((lb.healthy, lb.unhealthy), (PROD_WEB as u32, 0));

    let db = t.database.as_ref().expect("database");
    assert_eq!(db.id, "notejam-prod");
    assert_eq!(db.endpoint.as_deref(), Some(w.prod.database_host.as_str()));
    assert!(db.multi_az && db.is_available());
    assert_eq!(
        (db.engine.as_str(), db.class.as_str(), db.allocated_gb),
        ("postgres", "db.t4g.small", 20)
    );
    assert!(t.other_databases.is_empty(), "{:?}", t.other_databases);

    let buckets: Vec<(&str, Option<BucketPurpose>)> = t
        .buckets
        .iter()
        .map(|b| (b.name.as_str(), b.purpose))
        .collect();
    assert_eq!(
        buckets,
        [
            (w.prod.logs_bucket.as_str(), Some(BucketPurpose::AlbLogs)),
            (
                w.prod.artifacts_bucket.as_str(),
                Some(BucketPurpose::Artifacts)
            ),
            (w.prod.backups_bucket.as_str(), Some(BucketPurpose::Backups)),
        ]
    );

    let d = t.delivery.as_ref().expect("delivery");
    assert_eq!(
        (d.application.as_str(), d.group.as_str()),
        ("notejam", "prod")
    );
    let vault = t.backup_vault.as_ref().expect("vault");
    assert_eq!(vault.name, "notejam-prod");
    assert_eq!(vault.plan.as_deref(), Some("notejam-prod-daily"));

    let alarms: Vec<(&str, Option<MetricKind>, Option<f64>)> = t
        .alarms
        .iter()
        .map(|a| (a.name.as_str(), a.metric, a.threshold))
        .collect();
    assert_eq!(
        alarms,
        [
            (
                "notejam-prod-latency-p99",
                Some(MetricKind::LatencyP99),
                Some(1500.0)
            ),
            (
                "notejam-prod-web-cpu-high",
                Some(MetricKind::CpuWeb),
                Some(80.0)
            ),
        ]
    );
    assert!(t.alarms.iter().all(|a| a.state != AlarmState::Alarm));

    // Nothing of the other environment, anywhere in the document.
    let json = serde_json::to_string(&t).unwrap();
    for foreign in ["staging", w.staging.vpc_id.as_str(), "unrelated"] {
        assert!(!json.contains(foreign), "prod topology mentions {foreign}");
    }
}

#[tokio::test]
async fn staging_sees_only_staging() {
    let w = world();
    let t = staging().await.topology().await.unwrap();
    assert_eq!(t.network.as_ref().unwrap().vpc_id, w.staging.vpc_id);
    assert_eq!(t.group(Tier::Web).unwrap().instances.len(), 2);
    assert_eq!(t.database.as_ref().unwrap().id, "notejam-staging");
    assert_eq!(t.buckets.len(), 3);
    assert_eq!(t.alarms.len(), 2);
    let t = staging().await.topology().await.unwrap();
    let json = serde_json::to_string(&t).unwrap();
    for foreign in ["notejam-prod", w.prod.vpc_id.as_str()] {
        assert!(
            !json.contains(foreign),
            "staging topology mentions {foreign}"
        );
    }
}

#[tokio::test]
async fn metrics_chart_what_put_metric_data_stored() {
    let b = prod().await;
    let m = b.metrics(TimeRange::LastHour).await.unwrap();
    assert_eq!(
        m.series.iter().map(|s| s.metric).collect::<Vec<_>>(),
        MetricKind::ALL
    );
    let values =
        |k: MetricKind| -> Vec<f64> { m.series(k).unwrap().points.iter().map(|p| p.v).collect() };
    let requests = values(MetricKind::Requests);
    assert!(
        requests.len() >= 55,
        "only {} request points",
        requests.len()
    );
    assert!(requests.iter().all(|v| *v == 100.0), "{requests:?}");
    // Target and ELB 5xx counts add up.
    assert!(values(MetricKind::Errors5xx).iter().all(|v| *v == 3.0));
    assert!(
        values(MetricKind::HealthyHosts)
            .iter()
            .all(|v| *v == f64::from(PROD_WEB))
    );
    assert!(values(MetricKind::CpuWeb).iter().all(|v| *v == 35.0));
    assert!(values(MetricKind::CpuBastion).iter().all(|v| *v == 3.0));
    assert!(values(MetricKind::DbConnections).iter().all(|v| *v == 12.0));
    assert!(values(MetricKind::DbCpu).iter().all(|v| *v == 20.0));
    assert!(!values(MetricKind::DbFreeStorage).is_empty());
    // Points sit on period boundaries, oldest first, inside the window.
    let s = m.series(MetricKind::Requests).unwrap();
    assert_eq!(s.period_secs, 60);
    assert!(s.points.windows(2).all(|w| w[0].t < w[1].t));
    assert!(
        s.points
            .iter()
            .all(|p| p.t.timestamp() % 60 == 0 && p.t < m.end)
    );
    // Thresholds come from the alarms.
    assert_eq!(m.series(MetricKind::CpuWeb).unwrap().threshold, Some(80.0));
    assert_eq!(
        m.series(MetricKind::LatencyP99).unwrap().threshold,
        Some(1500.0)
    );
    assert_eq!(m.series(MetricKind::Requests).unwrap().threshold, None);

    let staging = staging().await.metrics(TimeRange::LastHour).await.unwrap();
    let r = staging.series(MetricKind::Requests).unwrap();
    assert!(!r.points.is_empty() && r.points.iter().all(|p| p.v == 7.0));

    // Longer ranges aggregate into longer periods.
    let day = b.metrics(TimeRange::Hours24).await.unwrap();
    let r = day.series(MetricKind::Requests).unwrap();
    assert_eq!(r.period_secs, 300);
    assert!(r.points.iter().all(|p| p.t.timestamp() % 300 == 0));
    // Five one-minute points per full period; the hour of data may start or end
    // inside a period.
    let sums: Vec<f64> = r.points.iter().map(|p| p.v).collect();
    assert!((11..=13).contains(&sums.len()), "{sums:?}");
    assert!(
        sums[1..sums.len() - 1].iter().all(|v| *v == 500.0),
        "{sums:?}"
    );
    assert!(
        sums.iter()
            .all(|v| *v > 0.0 && *v <= 500.0 && v % 100.0 == 0.0),
        "{sums:?}"
    );
}

#[tokio::test]
async fn log_history_reads_every_page() {
    let b = prod().await;
    let events = b
        .logs(&LogQuery {
            sources: vec![LogSource::App],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        events.len(),
        PROD_APP_EVENTS,
        "more events than one FilterLogEvents page"
    );
    let ids: HashSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), PROD_APP_EVENTS);
    assert!(events.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    assert!(
        events
            .iter()
            .all(|e| e.source == LogSource::App && e.stream == "i-web-1")
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.severity == Severity::Error)
            .count(),
        PROD_APP_EVENTS / 10
    );
    assert!(events[0].message.contains(r#""n":0"#));
}

#[tokio::test]
async fn log_queries_filter_by_text_time_source_and_limit() {
    let w = world();
    let b = prod().await;
    let errors = b
        .logs(&LogQuery {
            filter: Some("500 prod".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(errors.len(), PROD_APP_EVENTS / 10);
    assert!(errors.iter().all(|e| e.message.contains("500 prod")));

    let newest = b
        .logs(&LogQuery {
            sources: vec![LogSource::App],
            limit: Some(10),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(newest.len(), 10);
    assert!(
        newest
            .last()
            .unwrap()
            .message
            .contains(&format!(r#""n":{}"#, PROD_APP_EVENTS - 1))
    );

    // since inclusive, until exclusive: events 10..20.
    let at = |i: i64| w.prod.logs_start + chrono::Duration::milliseconds(100 * i);
    let window = b
        .logs(&LogQuery {
            sources: vec![LogSource::App],
            since: Some(at(10)),
            until: Some(at(20)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(window.len(), 10);
    assert!(window[0].message.contains(r#""n":10"#));

    let others = b
        .logs(&LogQuery {
            sources: vec![
                LogSource::System,
                LogSource::CodeDeploy,
                LogSource::Database,
            ],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(others.len(), 9);
    assert!(others.iter().all(|e| e.message.ends_with("of prod")));
    assert_eq!(
        others
            .iter()
            .filter(|e| e.source == LogSource::Database)
            .count(),
        3
    );

    let bad = b
        .logs(&LogQuery {
            since: Some(at(20)),
            until: Some(at(10)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(bad, BackendError::Invalid(_)), "{bad:?}");
}

#[tokio::test]
async fn revisions_are_the_bundles_newest_first() {
    let w = world();
    let revs = prod().await.revisions().await.unwrap();
    let names: Vec<&str> = revs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [w.prod.bundles[1].as_str(), w.prod.bundles[0].as_str()]
    );
    assert!(revs[0].created > revs[1].created);
    assert_eq!(revs[0].size_bytes, Some(w.prod.bundles[1].len() as u64));
}

#[tokio::test]
async fn backups_list_the_envs_snapshots_and_restore_window() {
    let o = prod().await.backups().await.unwrap();
    assert!(!o.backups.is_empty());
    assert!(
        o.backups.iter().all(|b| b.resource == "notejam-prod"),
        "{:?}",
        o.backups
    );
    assert!(o.latest_restorable.is_some());
    assert!(o.restores.is_empty());
    assert!(o.backups.windows(2).all(|w| w[0].created >= w[1].created));
}

#[tokio::test]
async fn an_emulator_without_deployment_targets_answers_unsupported() {
    let e = prod()
        .await
        .deployment_targets("d-NOTREAL01")
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            BackendError::Unsupported(_) | BackendError::NotFound { .. }
        ),
        "{e:?}"
    );
}
