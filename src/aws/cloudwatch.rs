//! CloudWatch: the console's metric series in one GetMetricData call set, and the
//! environment's alarms.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{
    AlarmType, CompositeAlarm, Dimension, Metric, MetricAlarm, MetricDataQuery, MetricStat, ScanBy,
    StateValue,
};
use chrono::DurationRound;
use futures::future::try_join_all;

use super::contract;
use super::errors::SdkResultExt;
use super::time;
use crate::backend::{BackendError, Result};
use crate::domain::{
    Alarm, AlarmState, MetricKind, MetricPoint, MetricSeries, MetricsSnapshot, TimeRange,
    Timestamp, WatchedAlarm,
};

/// GetMetricData takes at most 500 queries per call.
const MAX_QUERIES: usize = 500;

/// Where the console's metrics live: the dimension values of this environment's
/// balancer, groups and the database the app uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct MetricScope {
    pub load_balancer: Option<String>,
    pub target_group: Option<String>,
    pub web_group: Option<String>,
    pub bastion_group: Option<String>,
    pub database: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
struct Query {
    kind: MetricKind,
    namespace: &'static str,
    metric: &'static str,
    dimensions: Vec<(&'static str, String)>,
    stat: &'static str,
    /// TargetResponseTime is in seconds; the console charts milliseconds.
    scale: f64,
}

impl Query {
    fn is_percentile(&self) -> bool {
        self.stat.starts_with('p')
    }
}

/// The queries behind each series. A series whose resource does not exist (no
/// balancer yet) has no query and comes back empty.
fn queries(scope: &MetricScope) -> Vec<Query> {
    const ALB: &str = "AWS/ApplicationELB";
    let mut out = Vec::new();
    let mut push = |kind, namespace, metric, dimensions, stat, scale| {
        out.push(Query {
            kind,
            namespace,
            metric,
            dimensions,
            stat,
            scale,
        })
    };
    if let Some(lb) = &scope.load_balancer {
        let dims = || vec![("LoadBalancer", lb.clone())];
        push(
            MetricKind::Requests,
            ALB,
            "RequestCount",
            dims(),
            "Sum",
            1.0,
        );
        push(
            MetricKind::LatencyP50,
            ALB,
            "TargetResponseTime",
            dims(),
            "p50",
            1000.0,
        );
        push(
            MetricKind::LatencyP99,
            ALB,
            "TargetResponseTime",
            dims(),
            "p99",
            1000.0,
        );
        // The app's own 5xx and the balancer's (no healthy target, timeouts) are
        // both errors the user saw; they are summed per period.
        push(
            MetricKind::Errors5xx,
            ALB,
            "HTTPCode_Target_5XX_Count",
            dims(),
            "Sum",
            1.0,
        );
        push(
            MetricKind::Errors5xx,
            ALB,
            "HTTPCode_ELB_5XX_Count",
            dims(),
            "Sum",
            1.0,
        );
        if let Some(tg) = &scope.target_group {
            let d = vec![("TargetGroup", tg.clone()), ("LoadBalancer", lb.clone())];
            push(
                MetricKind::HealthyHosts,
                ALB,
                "HealthyHostCount",
                d,
                "Minimum",
                1.0,
            );
        }
    }
    for (kind, group) in [
        (MetricKind::CpuWeb, &scope.web_group),
        (MetricKind::CpuBastion, &scope.bastion_group),
    ] {
        if let Some(g) = group {
            push(
                kind,
                "AWS/EC2",
                "CPUUtilization",
                vec![("AutoScalingGroupName", g.clone())],
                "Average",
                1.0,
            );
        }
    }
    if let Some(db) = &scope.database {
        let dims = || vec![("DBInstanceIdentifier", db.clone())];
        push(
            MetricKind::DbConnections,
            "AWS/RDS",
            "DatabaseConnections",
            dims(),
            "Average",
            1.0,
        );
        push(
            MetricKind::DbCpu,
            "AWS/RDS",
            "CPUUtilization",
            dims(),
            "Average",
            1.0,
        );
        push(
            MetricKind::DbFreeStorage,
            "AWS/RDS",
            "FreeStorageSpace",
            dims(),
            "Minimum",
            1.0,
        );
    }
    out
}

fn sdk_query(id: String, q: &Query, period: i32) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace(q.namespace)
        .metric_name(q.metric)
        .set_dimensions(Some(
            q.dimensions
                .iter()
                .map(|(n, v)| Dimension::builder().name(*n).value(v).build())
                .collect(),
        ))
        .build();
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(period)
                .stat(q.stat)
                .build(),
        )
        .return_data(true)
        .build()
}

/// The window of a range: it ends at the start of the current period (a period
/// still filling would chart as a dip) and spans the range.
pub(crate) fn window(range: TimeRange, now: Timestamp) -> (Timestamp, Timestamp) {
    let period = chrono::Duration::seconds(i64::from(range.period_secs()));
    let end = now.duration_trunc(period).unwrap_or(now);
    (end - range.duration(), end)
}

/// Every series of `range`, ending now. `percentiles_unsupported` remembers an
/// endpoint that rejects extended statistics (an emulator answers p50/p99 with a
/// server error): the call is repeated once without them and later calls leave
/// them out, so the other series still chart.
pub(crate) async fn metrics(
    client: &Client,
    scope: &MetricScope,
    range: TimeRange,
    now: Timestamp,
    thresholds: &HashMap<MetricKind, f64>,
    percentiles_unsupported: &AtomicBool,
) -> Result<MetricsSnapshot> {
    let (start, end) = window(range, now);
    let mut qs = queries(scope);
    if percentiles_unsupported.load(Ordering::Relaxed) {
        qs.retain(|q| !q.is_percentile());
    }
    let values = match fetch(client, &qs, range, start, end).await {
        Err(BackendError::Api { .. } | BackendError::Unsupported(_))
            if qs.iter().any(Query::is_percentile) =>
        {
            percentiles_unsupported.store(true, Ordering::Relaxed);
            qs.retain(|q| !q.is_percentile());
            fetch(client, &qs, range, start, end).await?
        }
        other => other?,
    };
    Ok(assemble(range, end, &qs, values, thresholds))
}

async fn fetch(
    client: &Client,
    qs: &[Query],
    range: TimeRange,
    start: Timestamp,
    end: Timestamp,
) -> Result<HashMap<String, Vec<(Timestamp, f64)>>> {
    let period = range.period_secs() as i32;
    let indexed: Vec<(String, &Query)> = qs
        .iter()
        .enumerate()
        .map(|(i, q)| (format!("m{i}"), q))
        .collect();
    let calls = indexed.chunks(MAX_QUERIES).map(|chunk| async move {
        let mut req = client
            .get_metric_data()
            .start_time(time::to_sdk(start))
            .end_time(time::to_sdk(end))
            .scan_by(ScanBy::TimestampAscending);
        for (id, q) in chunk {
            req = req.metric_data_queries(sdk_query(id.clone(), q, period));
        }
        let mut got: HashMap<String, Vec<(Timestamp, f64)>> = HashMap::new();
        let mut pages = req.into_paginator().send();
        while let Some(page) = pages.next().await {
            for r in page
                .aws("cloudwatch", "GetMetricData")?
                .metric_data_results()
            {
                let Some(id) = r.id() else { continue };
                let points = r
                    .timestamps()
                    .iter()
                    .zip(r.values())
                    .filter_map(|(t, v)| Some((time::from_sdk(t)?, *v)));
                got.entry(id.to_string()).or_default().extend(points);
            }
        }
        Result::Ok(got)
    });
    Ok(try_join_all(calls).await?.into_iter().flatten().collect())
}

fn assemble(
    range: TimeRange,
    end: Timestamp,
    qs: &[Query],
    mut values: HashMap<String, Vec<(Timestamp, f64)>>,
    thresholds: &HashMap<MetricKind, f64>,
) -> MetricsSnapshot {
    let series = MetricKind::ALL
        .into_iter()
        .map(|kind| {
            // Several queries of one kind (the two 5xx counts) add up per period.
            let mut sum: std::collections::BTreeMap<Timestamp, f64> = Default::default();
            for (i, q) in qs.iter().enumerate().filter(|(_, q)| q.kind == kind) {
                for (t, v) in values.remove(&format!("m{i}")).unwrap_or_default() {
                    if v.is_finite() {
                        *sum.entry(t).or_default() += v * q.scale;
                    }
                }
            }
            MetricSeries {
                metric: kind,
                unit: kind.unit(),
                period_secs: range.period_secs(),
                points: sum.into_iter().map(|(t, v)| MetricPoint { t, v }).collect(),
                threshold: thresholds.get(&kind).copied(),
            }
        })
        .collect();
    MetricsSnapshot { range, end, series }
}

/// The environment's alarms as CloudWatch describes them (name prefix
/// `notejam-<env>-`), metric and composite.
pub(crate) struct RawAlarms {
    metric: Vec<MetricAlarm>,
    composite: Vec<CompositeAlarm>,
}

pub(crate) async fn describe_alarms(client: &Client, env: &str) -> Result<RawAlarms> {
    let mut raw = RawAlarms {
        metric: vec![],
        composite: vec![],
    };
    let mut pages = client
        .describe_alarms()
        .alarm_name_prefix(contract::alarm_prefix(env))
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.aws("cloudwatch", "DescribeAlarms")?;
        raw.metric.extend(page.metric_alarms().iter().cloned());
        raw.composite
            .extend(page.composite_alarms().iter().cloned());
    }
    Ok(raw)
}

/// The states of the alarms a bake watches (`notejam-<env>-p99-latency` and
/// `-5xx-rate`), those that exist.
pub(crate) async fn watched_alarms(client: &Client, env: &str) -> Result<Vec<WatchedAlarm>> {
    let names = crate::domain::watched_alarm_names(env);
    let out = client
        .describe_alarms()
        .set_alarm_names(Some(names.clone()))
        .alarm_types(AlarmType::MetricAlarm)
        .send()
        .await
        .aws("cloudwatch", "DescribeAlarms")?;
    Ok(names
        .iter()
        .filter_map(|n| {
            let a = out
                .metric_alarms()
                .iter()
                .find(|a| a.alarm_name() == Some(n))?;
            Some(WatchedAlarm {
                name: n.clone(),
                state: state(a.state_value()),
            })
        })
        .collect())
}

/// The alarms in the model, each tied to the console metric it watches (which
/// needs the scope: a CPU alarm is the web tier's or the bastion's by its group).
pub(crate) fn map_alarms(raw: RawAlarms, scope: &MetricScope) -> Vec<Alarm> {
    let mut out: Vec<Alarm> = raw
        .metric
        .iter()
        .filter_map(|a| metric_alarm(a, scope))
        .collect();
    for c in &raw.composite {
        let Some(name) = c.alarm_name() else { continue };
        out.push(Alarm {
            name: name.to_string(),
            state: state(c.state_value()),
            metric: None,
            threshold: None,
            reason: c.state_reason().unwrap_or_default().to_string(),
            updated: time::opt(c.state_updated_timestamp()).unwrap_or_default(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    out
}

fn state(s: Option<&StateValue>) -> AlarmState {
    match s {
        Some(StateValue::Ok) => AlarmState::Ok,
        Some(StateValue::Alarm) => AlarmState::Alarm,
        _ => AlarmState::InsufficientData,
    }
}

fn metric_alarm(a: &MetricAlarm, scope: &MetricScope) -> Option<Alarm> {
    let name = a.alarm_name()?.to_string();
    let (metric, scale) = match watched(a, scope) {
        Some((k, s)) => (Some(k), s),
        None => (None, 1.0),
    };
    Some(Alarm {
        name,
        state: state(a.state_value()),
        metric,
        threshold: a.threshold().map(|t| t * scale),
        reason: a.state_reason().unwrap_or_default().to_string(),
        updated: time::opt(a.state_updated_timestamp()).unwrap_or_default(),
    })
}

/// The console metric an alarm watches, by namespace and metric name, and the
/// factor that brings its threshold to the console's unit.
fn watched(a: &MetricAlarm, scope: &MetricScope) -> Option<(MetricKind, f64)> {
    let dim = |name: &str| {
        a.dimensions()
            .iter()
            .find(|d| d.name() == Some(name))
            .and_then(|d| d.value())
    };
    let kind = match (a.namespace()?, a.metric_name()?) {
        ("AWS/ApplicationELB", "RequestCount") => MetricKind::Requests,
        ("AWS/ApplicationELB", "TargetResponseTime") => {
            let high = a.extended_statistic().is_some_and(|s| s.starts_with("p9"));
            let kind = if high {
                MetricKind::LatencyP99
            } else {
                MetricKind::LatencyP50
            };
            return Some((kind, 1000.0));
        }
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count" | "HTTPCode_ELB_5XX_Count") => {
            MetricKind::Errors5xx
        }
        ("AWS/ApplicationELB", "HealthyHostCount") => MetricKind::HealthyHosts,
        ("AWS/EC2", "CPUUtilization") => {
            let group = dim("AutoScalingGroupName")?;
            if Some(group) == scope.bastion_group.as_deref()
                || (Some(group) != scope.web_group.as_deref() && group.contains("bastion"))
            {
                MetricKind::CpuBastion
            } else {
                MetricKind::CpuWeb
            }
        }
        ("AWS/RDS", "DatabaseConnections") => MetricKind::DbConnections,
        ("AWS/RDS", "CPUUtilization") => MetricKind::DbCpu,
        ("AWS/RDS", "FreeStorageSpace") => MetricKind::DbFreeStorage,
        _ => return None,
    };
    Some((kind, 1.0))
}

/// The threshold drawn on each series: from the alarm on it, a firing one first.
pub(crate) fn thresholds(alarms: &[Alarm]) -> HashMap<MetricKind, f64> {
    let mut sorted: Vec<&Alarm> = alarms
        .iter()
        .filter(|a| a.metric.is_some() && a.threshold.is_some())
        .collect();
    sorted.sort_by_key(|a| (a.state != AlarmState::Alarm, a.name.clone()));
    let mut out = HashMap::new();
    for a in sorted {
        out.entry(a.metric.expect("filtered"))
            .or_insert(a.threshold.expect("filtered"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> MetricScope {
        MetricScope {
            load_balancer: Some("app/notejam-prod/1".into()),
            target_group: Some("targetgroup/web/2".into()),
            web_group: Some("notejam-prod-web".into()),
            bastion_group: Some("notejam-prod-bastion".into()),
            database: Some("notejam-prod".into()),
        }
    }

    #[test]
    fn every_series_has_a_query_when_everything_exists() {
        let qs = queries(&scope());
        for kind in MetricKind::ALL {
            assert!(qs.iter().any(|q| q.kind == kind), "{kind:?} has no query");
        }
        assert!(queries(&MetricScope::default()).is_empty());
    }

    #[test]
    fn windows_end_on_a_period_boundary() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T10:07:42Z")
            .unwrap()
            .to_utc();
        let (start, end) = window(TimeRange::Hours6, now);
        assert_eq!(end.to_rfc3339(), "2026-01-01T10:05:00+00:00");
        assert_eq!(end - start, chrono::Duration::hours(6));
        let (_, end) = window(TimeRange::LastHour, now);
        assert_eq!(end.to_rfc3339(), "2026-01-01T10:07:00+00:00");
    }

    #[test]
    fn latency_is_converted_to_ms_and_5xx_counts_add_up() {
        let t0 = chrono::DateTime::parse_from_rfc3339("2026-01-01T10:00:00Z")
            .unwrap()
            .to_utc();
        let t1 = t0 + chrono::Duration::minutes(1);
        let qs = queries(&scope());
        let id = |kind, metric: &str| {
            let i = qs
                .iter()
                .position(|q| q.kind == kind && q.metric == metric)
                .unwrap();
            format!("m{i}")
        };
        let mut values = HashMap::new();
        values.insert(
            id(MetricKind::LatencyP99, "TargetResponseTime"),
            vec![(t0, 0.25)],
        );
        values.insert(
            id(MetricKind::Errors5xx, "HTTPCode_Target_5XX_Count"),
            vec![(t0, 3.0), (t1, 1.0)],
        );
        values.insert(
            id(MetricKind::Errors5xx, "HTTPCode_ELB_5XX_Count"),
            vec![(t0, 2.0)],
        );
        let thresholds = HashMap::from([(MetricKind::LatencyP99, 800.0)]);
        let snap = assemble(TimeRange::LastHour, t1, &qs, values, &thresholds);
        let p99 = snap.series(MetricKind::LatencyP99).unwrap();
        assert_eq!(p99.points, vec![MetricPoint { t: t0, v: 250.0 }]);
        assert_eq!(p99.threshold, Some(800.0));
        let e = snap.series(MetricKind::Errors5xx).unwrap();
        assert_eq!(e.points.iter().map(|p| p.v).collect::<Vec<_>>(), [5.0, 1.0]);
        assert!(snap.series(MetricKind::Requests).unwrap().points.is_empty());
        assert_eq!(snap.series.len(), MetricKind::ALL.len());
    }

    #[test]
    fn alarms_map_to_console_metrics() {
        let alarm = |ns: &str, m: &str, dims: &[(&str, &str)]| {
            let mut b = MetricAlarm::builder()
                .alarm_name("notejam-prod-x")
                .namespace(ns)
                .metric_name(m)
                .threshold(0.5);
            for (n, v) in dims {
                b = b.dimensions(Dimension::builder().name(*n).value(*v).build());
            }
            b.build()
        };
        let s = scope();
        let a = metric_alarm(
            &alarm("AWS/ApplicationELB", "TargetResponseTime", &[]).to_owned(),
            &s,
        )
        .unwrap();
        assert_eq!(
            (a.metric, a.threshold),
            (Some(MetricKind::LatencyP50), Some(500.0))
        );
        let p99 = MetricAlarm::builder()
            .alarm_name("notejam-prod-p99")
            .namespace("AWS/ApplicationELB")
            .metric_name("TargetResponseTime")
            .extended_statistic("p99")
            .build();
        assert_eq!(watched(&p99, &s).map(|w| w.0), Some(MetricKind::LatencyP99));
        let cpu = alarm(
            "AWS/EC2",
            "CPUUtilization",
            &[("AutoScalingGroupName", "notejam-prod-bastion")],
        );
        assert_eq!(watched(&cpu, &s).map(|w| w.0), Some(MetricKind::CpuBastion));
        let cpu = alarm(
            "AWS/EC2",
            "CPUUtilization",
            &[("AutoScalingGroupName", "notejam-prod-web")],
        );
        assert_eq!(watched(&cpu, &s).map(|w| w.0), Some(MetricKind::CpuWeb));
        assert_eq!(watched(&alarm("Notejam/App", "Signups", &[]), &s), None);
    }
}
