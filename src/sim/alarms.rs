//! CloudWatch alarms of the environment, as `provision/modules/observability`
//! defines them: evaluated at the end of each period over the last N datapoints,
//! OK / ALARM / INSUFFICIENT_DATA with a reason written like CloudWatch's.

use serde::{Deserialize, Serialize};

use super::clock::{HOUR, MINUTE, Ms, to_ts};
use super::metrics::{Agg, Col, MetricStore};
use super::names;
use crate::domain::{Alarm, AlarmState, MetricKind};

/// The database's allocated storage; the free-storage alarm is 10 % of it.
pub const DB_ALLOCATED_GIB: u32 = 20;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Source {
    /// A stored column with a statistic over the period's minutes.
    Metric(Col, Agg),
    /// 100 × 5xx / requests when at least 20 requests a minute came, else 0.
    ErrorRate,
    /// Backup jobs that completed, or failed, in the period.
    BackupJobsCompleted,
    BackupJobsFailed,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cmp {
    Greater,
    Less,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Def {
    pub suffix: &'static str,
    pub source: Source,
    pub period: Ms,
    pub evaluation: usize,
    pub datapoints: usize,
    pub cmp: Cmp,
    pub threshold: f64,
    /// The charted metric it watches, when it watches one.
    pub metric: Option<MetricKind>,
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

pub const DEFS: [Def; 9] = [
    Def {
        suffix: "p99-latency",
        source: Source::Metric(Col::P99, Agg::Max),
        period: MINUTE,
        evaluation: 3,
        datapoints: 3,
        cmp: Cmp::Greater,
        threshold: 1000.0,
        metric: Some(MetricKind::LatencyP99),
    },
    Def {
        suffix: "5xx-rate",
        source: Source::ErrorRate,
        period: MINUTE,
        evaluation: 3,
        datapoints: 3,
        cmp: Cmp::Greater,
        threshold: 5.0,
        metric: None,
    },
    Def {
        suffix: "unhealthy-hosts",
        source: Source::Metric(Col::Unhealthy, Agg::Max),
        period: MINUTE,
        evaluation: 3,
        datapoints: 3,
        cmp: Cmp::Greater,
        threshold: 0.0,
        metric: None,
    },
    Def {
        suffix: "web-cpu",
        source: Source::Metric(Col::CpuWeb, Agg::Mean),
        period: 5 * MINUTE,
        evaluation: 2,
        datapoints: 2,
        cmp: Cmp::Greater,
        threshold: 80.0,
        metric: Some(MetricKind::CpuWeb),
    },
    Def {
        suffix: "db-cpu",
        source: Source::Metric(Col::DbCpu, Agg::Mean),
        period: 5 * MINUTE,
        evaluation: 3,
        datapoints: 3,
        cmp: Cmp::Greater,
        threshold: 80.0,
        metric: Some(MetricKind::DbCpu),
    },
    Def {
        suffix: "db-free-storage",
        source: Source::Metric(Col::DbFreeMib, Agg::Min),
        period: 5 * MINUTE,
        evaluation: 1,
        datapoints: 1,
        cmp: Cmp::Less,
        threshold: DB_ALLOCATED_GIB as f64 * GIB * 0.1,
        metric: Some(MetricKind::DbFreeStorage),
    },
    Def {
        suffix: "db-connections",
        source: Source::Metric(Col::DbConnections, Agg::Max),
        period: 5 * MINUTE,
        evaluation: 2,
        datapoints: 2,
        cmp: Cmp::Greater,
        threshold: 80.0,
        metric: Some(MetricKind::DbConnections),
    },
    Def {
        suffix: "backup-job-failed",
        source: Source::BackupJobsFailed,
        period: HOUR,
        evaluation: 1,
        datapoints: 1,
        cmp: Cmp::Greater,
        threshold: 0.0,
        metric: None,
    },
    Def {
        suffix: "backup-older-than-26h",
        source: Source::BackupJobsCompleted,
        period: HOUR,
        evaluation: 26,
        datapoints: 26,
        cmp: Cmp::Less,
        threshold: 1.0,
        metric: None,
    },
];

impl Def {
    fn breaches(&self, v: f64) -> bool {
        match self.cmp {
            Cmp::Greater => v > self.threshold,
            Cmp::Less => v < self.threshold,
        }
    }

    fn words(&self) -> (&'static str, &'static str) {
        match self.cmp {
            Cmp::Greater => ("greater than", "not greater than"),
            Cmp::Less => ("less than", "not less than"),
        }
    }
}

/// The threshold drawn on a chart, where an alarm watches that metric.
pub fn threshold_for(metric: MetricKind) -> Option<f64> {
    DEFS.iter()
        .find(|d| d.metric == Some(metric))
        .map(|d| d.threshold)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlarmRec {
    pub name: String,
    pub state: AlarmState,
    pub reason: String,
    pub updated: Ms,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alarms {
    pub recs: Vec<AlarmRec>,
}

/// Counts of backup jobs in a period, for the backup alarms.
pub trait BackupJobs {
    fn completed_between(&self, from: Ms, to: Ms) -> usize;
    fn failed_between(&self, from: Ms, to: Ms) -> usize;
}

fn stamp(t: Ms) -> String {
    to_ts(t).format("%d/%m/%y %H:%M:%S").to_string()
}

impl Alarms {
    pub fn new(t: Ms) -> Alarms {
        Alarms {
            recs: DEFS
                .iter()
                .map(|d| AlarmRec {
                    name: names::alarm_name(d.suffix),
                    state: AlarmState::InsufficientData,
                    reason: "Unchecked: Initial alarm creation".to_string(),
                    updated: t,
                })
                .collect(),
        }
    }

    pub fn firing(&self) -> Vec<String> {
        self.recs
            .iter()
            .filter(|r| r.state == AlarmState::Alarm)
            .map(|r| r.name.clone())
            .collect()
    }

    #[cfg(test)]
    pub fn state(&self, suffix: &str) -> Option<AlarmState> {
        let name = names::alarm_name(suffix);
        self.recs.iter().find(|r| r.name == name).map(|r| r.state)
    }

    /// Evaluates every alarm whose period ends at `t`; returns the names of
    /// those that changed state.
    pub fn evaluate(&mut self, t: Ms, store: &MetricStore, jobs: &dyn BackupJobs) -> Vec<String> {
        let mut changed = Vec::new();
        for (def, rec) in DEFS.iter().zip(&mut self.recs) {
            if t % def.period != 0 {
                continue;
            }
            // Newest first, as CloudWatch lists them.
            let points: Vec<(Ms, Option<f64>)> = (0..def.evaluation)
                .map(|i| {
                    let from = t - (i as Ms + 1) * def.period;
                    (from, value(def, store, jobs, from, from + def.period))
                })
                .collect();
            let present: Vec<(Ms, f64)> = points
                .iter()
                .filter_map(|(at, v)| v.map(|v| (*at, v)))
                .collect();
            let breaching: Vec<&(Ms, f64)> =
                present.iter().filter(|(_, v)| def.breaches(*v)).collect();
            let (over, not_over) = def.words();
            let (state, reason) = if breaching.len() >= def.datapoints {
                let list: Vec<String> = breaching
                    .iter()
                    .map(|(at, v)| format!("{v:.1} ({})", stamp(*at)))
                    .collect();
                (
                    AlarmState::Alarm,
                    format!(
                        "Threshold Crossed: {} out of the last {} datapoints [{}] {} {over} the threshold ({:.1}) (minimum {} datapoint{} for OK -> ALARM transition).",
                        breaching.len(),
                        def.evaluation,
                        list.join(", "),
                        if breaching.len() == 1 { "was" } else { "were" },
                        def.threshold,
                        def.datapoints,
                        if def.datapoints == 1 { "" } else { "s" }
                    ),
                )
            } else if let Some((at, v)) = present
                .iter()
                .find(|(_, v)| !def.breaches(*v))
                .or(present.first())
            {
                (
                    AlarmState::Ok,
                    format!(
                        "Threshold Crossed: 1 datapoint [{v:.1} ({})] was {not_over} the threshold ({:.1}).",
                        stamp(*at),
                        def.threshold
                    ),
                )
            } else {
                (
                    AlarmState::InsufficientData,
                    format!(
                        "Insufficient Data: {} datapoint{} {} unknown.",
                        def.evaluation,
                        if def.evaluation == 1 { "" } else { "s" },
                        if def.evaluation == 1 { "was" } else { "were" }
                    ),
                )
            };
            if state != rec.state {
                rec.state = state;
                rec.reason = reason;
                rec.updated = t;
                changed.push(rec.name.clone());
            }
        }
        changed
    }

    pub fn to_domain(&self) -> Vec<Alarm> {
        DEFS.iter()
            .zip(&self.recs)
            .map(|(def, rec)| Alarm {
                name: rec.name.clone(),
                state: rec.state,
                metric: def.metric,
                threshold: Some(def.threshold),
                reason: rec.reason.clone(),
                updated: to_ts(rec.updated),
            })
            .collect()
    }
}

fn value(def: &Def, store: &MetricStore, jobs: &dyn BackupJobs, from: Ms, to: Ms) -> Option<f64> {
    match def.source {
        Source::Metric(col, agg) => store.aggregate_as(col, agg, from, to),
        Source::ErrorRate => {
            let requests = store.aggregate(Col::Requests, from, to)?;
            let errors = store.aggregate(Col::Errors, from, to).unwrap_or(0.0);
            Some(if requests >= 20.0 {
                100.0 * errors / requests
            } else {
                0.0
            })
        }
        Source::BackupJobsCompleted => Some(jobs.completed_between(from, to) as f64),
        Source::BackupJobsFailed => Some(jobs.failed_between(from, to) as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::metrics::{MISSING, NCOLS};

    struct NoJobs;
    impl BackupJobs for NoJobs {
        fn completed_between(&self, _: Ms, _: Ms) -> usize {
            1
        }
        fn failed_between(&self, _: Ms, _: Ms) -> usize {
            0
        }
    }

    fn minute(store: &mut MetricStore, m: Ms, requests: i32, errors: i32, p99_ms: i32) {
        let mut row = [0; NCOLS];
        row[Col::Requests as usize] = requests;
        row[Col::Errors as usize] = errors;
        row[Col::P99 as usize] = if p99_ms < 0 { MISSING } else { p99_ms * 10 };
        row[Col::DbFreeMib as usize] = 10_000;
        store.push(m * MINUTE, row);
    }

    #[test]
    fn three_breaching_minutes_raise_the_alarm_and_one_clears_it() {
        let mut store = MetricStore::default();
        let mut alarms = Alarms::new(0);
        let name = names::alarm_name("5xx-rate");
        for m in 0..3 {
            minute(&mut store, m, 1000, 10, 100);
        }
        alarms.evaluate(3 * MINUTE, &store, &NoJobs);
        assert_eq!(alarms.state("5xx-rate"), Some(AlarmState::Ok));
        minute(&mut store, 3, 1000, 400, 100);
        minute(&mut store, 4, 1000, 400, 100);
        alarms.evaluate(5 * MINUTE, &store, &NoJobs);
        assert_eq!(
            alarms.state("5xx-rate"),
            Some(AlarmState::Ok),
            "2 of 3 is not enough"
        );
        minute(&mut store, 5, 1000, 300, 100);
        let changed = alarms.evaluate(6 * MINUTE, &store, &NoJobs);
        assert!(changed.contains(&name));
        assert_eq!(alarms.firing(), vec![name.clone()]);
        let rec = alarms.recs.iter().find(|r| r.name == name).unwrap();
        assert!(
            rec.reason.starts_with(
                "Threshold Crossed: 3 out of the last 3 datapoints [30.0 (01/01/70 00:05:00), 40.0"
            ),
            "{}",
            rec.reason
        );
        assert!(
            rec.reason.contains("were greater than the threshold (5.0)"),
            "{}",
            rec.reason
        );
        assert_eq!(rec.updated, 6 * MINUTE);
        minute(&mut store, 6, 1000, 1, 100);
        alarms.evaluate(7 * MINUTE, &store, &NoJobs);
        assert_eq!(alarms.state("5xx-rate"), Some(AlarmState::Ok));
    }

    #[test]
    fn little_traffic_never_makes_an_error_rate_and_missing_data_is_insufficient() {
        let mut store = MetricStore::default();
        let mut alarms = Alarms::new(0);
        for m in 0..3 {
            minute(&mut store, m, 10, 9, -1);
        }
        alarms.evaluate(3 * MINUTE, &store, &NoJobs);
        assert_eq!(alarms.state("5xx-rate"), Some(AlarmState::Ok));
        assert_eq!(
            alarms.state("p99-latency"),
            Some(AlarmState::InsufficientData)
        );
    }

    #[test]
    fn charted_metrics_get_their_alarm_threshold() {
        assert_eq!(threshold_for(MetricKind::LatencyP99), Some(1000.0));
        assert_eq!(threshold_for(MetricKind::DbFreeStorage), Some(2.0 * GIB));
        assert_eq!(threshold_for(MetricKind::Requests), None);
        assert_eq!(Alarms::new(0).to_domain().len(), DEFS.len());
    }
}
