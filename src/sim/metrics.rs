//! Metrics, stored column-wise at one-minute resolution for the last week (plus
//! a margin), older minutes rolled up into hours. Values are fixed-point integers
//! so a stored world reloads bit for bit and every decision taken from a metric
//! (alarms, scaling) is the same in every process.
//!
//! Aggregation over a longer period follows what CloudWatch returns for the
//! statistic each chart uses: requests and 5xx are summed; CPU, connections and
//! healthy hosts averaged; p50 is the request-weighted mean of the minutes' p50;
//! p99 is the worst minute's p99 (an upper bound of the period's true p99, which
//! the minute data cannot give exactly); free storage is the minimum.

use serde::{Deserialize, Serialize};

use super::clock::{HOUR, MINUTE, Ms, to_ts};
use crate::domain::{MetricKind, MetricPoint, MetricSeries, MetricsSnapshot, TimeRange};

/// A minute without data (no instance to measure, no target to answer).
pub const MISSING: i32 = i32::MIN;
/// Minutes kept at full resolution: the 7-day range and two hours of margin.
pub const KEEP_MINUTES: usize = 7 * 24 * 60 + 120;
/// Hourly roll-ups kept, like CloudWatch's coarser retention.
pub const KEEP_HOURS: usize = 35 * 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Col {
    Requests,
    P50,
    P99,
    Errors,
    Healthy,
    CpuWeb,
    CpuBastion,
    DbConnections,
    DbCpu,
    DbFreeMib,
    /// UnHealthyHostCount: not charted, watched by an alarm.
    Unhealthy,
}

pub const NCOLS: usize = 11;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    Sum,
    Mean,
    RequestWeighted,
    Max,
    Min,
}

impl Col {
    pub const ALL: [Col; NCOLS] = [
        Col::Requests,
        Col::P50,
        Col::P99,
        Col::Errors,
        Col::Healthy,
        Col::CpuWeb,
        Col::CpuBastion,
        Col::DbConnections,
        Col::DbCpu,
        Col::DbFreeMib,
        Col::Unhealthy,
    ];

    pub fn of(m: MetricKind) -> Col {
        match m {
            MetricKind::Requests => Col::Requests,
            MetricKind::LatencyP50 => Col::P50,
            MetricKind::LatencyP99 => Col::P99,
            MetricKind::Errors5xx => Col::Errors,
            MetricKind::HealthyHosts => Col::Healthy,
            MetricKind::CpuWeb => Col::CpuWeb,
            MetricKind::CpuBastion => Col::CpuBastion,
            MetricKind::DbConnections => Col::DbConnections,
            MetricKind::DbCpu => Col::DbCpu,
            MetricKind::DbFreeStorage => Col::DbFreeMib,
        }
    }

    /// Stored integer × scale = the value in the domain's unit.
    pub fn scale(self) -> f64 {
        match self {
            Col::Requests | Col::Errors => 1.0,
            Col::P50 | Col::P99 => 0.1,
            Col::Healthy
            | Col::Unhealthy
            | Col::CpuWeb
            | Col::CpuBastion
            | Col::DbConnections
            | Col::DbCpu => 0.01,
            Col::DbFreeMib => 1024.0 * 1024.0,
        }
    }

    fn agg(self) -> Agg {
        match self {
            Col::Requests | Col::Errors => Agg::Sum,
            Col::P50 => Agg::RequestWeighted,
            Col::P99 | Col::Unhealthy => Agg::Max,
            Col::DbFreeMib => Agg::Min,
            Col::Healthy | Col::CpuWeb | Col::CpuBastion | Col::DbConnections | Col::DbCpu => {
                Agg::Mean
            }
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Folds stored values of one column (with the matching request counts).
fn fold(col: Col, values: impl Iterator<Item = (i32, i32)>) -> Option<f64> {
    fold_as(col, col.agg(), values)
}

fn fold_as(col: Col, agg: Agg, values: impl Iterator<Item = (i32, i32)>) -> Option<f64> {
    let mut n = 0i64;
    let mut sum = 0i64;
    let mut weighted = 0i64;
    let mut weight = 0i64;
    let mut best: Option<i32> = None;
    for (v, req) in values {
        if v == MISSING {
            continue;
        }
        n += 1;
        sum += i64::from(v);
        if req > 0 && req != MISSING {
            weighted += i64::from(v) * i64::from(req);
            weight += i64::from(req);
        }
        best = Some(match (agg, best) {
            (Agg::Min, Some(b)) => b.min(v),
            (_, Some(b)) => b.max(v),
            (_, None) => v,
        });
    }
    if n == 0 {
        return None;
    }
    let raw = match agg {
        Agg::Sum => sum as f64,
        Agg::Mean => sum as f64 / n as f64,
        Agg::RequestWeighted if weight > 0 => weighted as f64 / weight as f64,
        Agg::RequestWeighted => sum as f64 / n as f64,
        Agg::Max | Agg::Min => f64::from(best.unwrap_or(0)),
    };
    Some(raw * col.scale())
}

/// Aggregates rows into one stored row (the hourly roll-up).
fn roll_up(rows: &[Vec<i32>], from: usize, to: usize) -> [i32; NCOLS] {
    let mut out = [MISSING; NCOLS];
    let req = &rows[Col::Requests.index()][from..to];
    for col in Col::ALL {
        let values = rows[col.index()][from..to]
            .iter()
            .copied()
            .zip(req.iter().copied());
        if let Some(v) = fold(col, values) {
            out[col.index()] = (v / col.scale()).round() as i32;
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricStore {
    /// Start of the first stored minute.
    pub start: Ms,
    /// One vector per [`Col`], one value per minute.
    pub minutes: Vec<Vec<i32>>,
    /// Start of the first hourly roll-up.
    pub hours_start: Ms,
    pub hours: Vec<Vec<i32>>,
}

impl Default for MetricStore {
    fn default() -> Self {
        MetricStore {
            start: 0,
            minutes: vec![Vec::new(); NCOLS],
            hours_start: 0,
            hours: vec![Vec::new(); NCOLS],
        }
    }
}

impl MetricStore {
    /// A loaded store must have every column, all of one length.
    pub fn check(&self) -> Result<(), String> {
        for (name, cols) in [("minutes", &self.minutes), ("hours", &self.hours)] {
            if cols.len() != NCOLS {
                return Err(format!(
                    "metrics.{name} has {} columns, expected {NCOLS}",
                    cols.len()
                ));
            }
            if cols.iter().any(|c| c.len() != cols[0].len()) {
                return Err(format!("metrics.{name} columns differ in length"));
            }
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.minutes[0].len()
    }

    /// The minute after the last stored one.
    pub fn end(&self) -> Ms {
        self.start + self.len() as Ms * MINUTE
    }

    /// Appends the row of the minute starting at `minute`; a gap is filled with
    /// missing values.
    pub fn push(&mut self, minute: Ms, row: [i32; NCOLS]) {
        if self.len() == 0 {
            self.start = minute;
        }
        if minute < self.end() {
            return;
        }
        let gap = ((minute - self.end()) / MINUTE) as usize;
        if gap > KEEP_MINUTES {
            // Nothing stored would survive: start over at this minute.
            *self = MetricStore {
                hours: std::mem::take(&mut self.hours),
                hours_start: self.hours_start,
                ..MetricStore::default()
            };
            self.start = minute;
        } else {
            for col in &mut self.minutes {
                col.extend(std::iter::repeat_n(MISSING, gap));
            }
        }
        for (col, v) in self.minutes.iter_mut().zip(row) {
            col.push(v);
        }
        self.trim();
    }

    fn trim(&mut self) {
        if self.len() < KEEP_MINUTES + 60 {
            return;
        }
        let roll = self.len() - KEEP_MINUTES;
        let mut from = 0;
        while from + 60 <= roll {
            let row = roll_up(&self.minutes, from, from + 60);
            let hour_start = self.start + from as Ms * MINUTE;
            if self.hours[0].is_empty() {
                self.hours_start = hour_start;
            }
            for (col, v) in self.hours.iter_mut().zip(row) {
                col.push(v);
            }
            from += 60;
        }
        for col in &mut self.minutes {
            col.drain(..from);
        }
        self.start += from as Ms * MINUTE;
        let hours = self.hours[0].len();
        if hours > KEEP_HOURS {
            let drop = hours - KEEP_HOURS;
            for col in &mut self.hours {
                col.drain(..drop);
            }
            self.hours_start += drop as Ms * HOUR;
        }
    }

    /// The stored value of one minute, in the domain's unit.
    pub fn value(&self, col: Col, minute: Ms) -> Option<f64> {
        if minute < self.start {
            return None;
        }
        let i = ((minute - self.start) / MINUTE) as usize;
        let v = *self.minutes[col.index()].get(i)?;
        (v != MISSING).then(|| f64::from(v) * col.scale())
    }

    /// `col` aggregated over [from, to), in the domain's unit.
    pub fn aggregate(&self, col: Col, from: Ms, to: Ms) -> Option<f64> {
        self.aggregate_as(col, col.agg(), from, to)
    }

    /// Like [`MetricStore::aggregate`] with another statistic over the minutes
    /// (an alarm on the maximum of an averaged metric, say).
    pub fn aggregate_as(&self, col: Col, agg: Agg, from: Ms, to: Ms) -> Option<f64> {
        let c = col.index();
        let r = Col::Requests.index();
        // Whole hours before the minute data come from the roll-ups.
        let mut hourly = Vec::new();
        if from < self.start && !self.hours[0].is_empty() {
            for (i, (&v, &req)) in self.hours[c].iter().zip(&self.hours[r]).enumerate() {
                let h = self.hours_start + i as Ms * HOUR;
                if h >= from && h + HOUR <= to.min(self.start) {
                    hourly.push((v, req));
                }
            }
        }
        let lo = ((from.max(self.start) - self.start) / MINUTE).max(0) as usize;
        let hi = (((to - self.start) + MINUTE - 1).div_euclid(MINUTE)).max(0) as usize;
        let hi = hi.min(self.len());
        let minutes = if lo < hi {
            self.minutes[c][lo..hi]
                .iter()
                .copied()
                .zip(self.minutes[r][lo..hi].iter().copied())
                .collect::<Vec<_>>()
        } else {
            Vec::new()
        };
        fold_as(col, agg, hourly.into_iter().chain(minutes))
    }

    /// Every charted metric over `range`, in periods counted back from `end`.
    pub fn snapshot(
        &self,
        range: TimeRange,
        end: Ms,
        threshold: impl Fn(MetricKind) -> Option<f64>,
    ) -> MetricsSnapshot {
        let period = i64::from(range.period_secs()) * 1000;
        let count = range.duration().num_milliseconds() / period;
        let start = end - count * period;
        let series = MetricKind::ALL
            .into_iter()
            .map(|metric| {
                let col = Col::of(metric);
                let points = (0..count)
                    .filter_map(|i| {
                        let from = start + i * period;
                        self.aggregate(col, from, from + period)
                            .map(|v| MetricPoint { t: to_ts(from), v })
                    })
                    .collect();
                MetricSeries {
                    metric,
                    unit: metric.unit(),
                    period_secs: range.period_secs(),
                    points,
                    threshold: threshold(metric),
                }
            })
            .collect();
        MetricsSnapshot {
            range,
            end: to_ts(end),
            series,
        }
    }
}

/// One tick's measurements, already in the stored fixed-point units.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TickSample {
    pub requests: u32,
    pub errors: u32,
    pub served: u32,
    pub p50: Option<i32>,
    pub p99: Option<i32>,
    pub healthy: i32,
    pub unhealthy: i32,
    pub cpu_web: Option<i32>,
    pub cpu_bastion: Option<i32>,
    pub db_connections: i32,
    pub db_cpu: i32,
    pub db_free_mib: i32,
}

/// The minute being measured: sums of the ticks so far, integers only.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MinuteAcc {
    pub ticks: i64,
    pub requests: i64,
    pub errors: i64,
    pub served: i64,
    pub p50_weighted: i64,
    pub p50_sum: i64,
    pub p50_n: i64,
    pub p99_max: Option<i32>,
    pub healthy: i64,
    pub unhealthy_max: i32,
    pub cpu_web: i64,
    pub cpu_web_n: i64,
    pub cpu_bastion: i64,
    pub cpu_bastion_n: i64,
    pub db_connections: i64,
    pub db_cpu: i64,
    pub db_free_min: Option<i32>,
}

impl MinuteAcc {
    pub fn add(&mut self, s: &TickSample) {
        self.ticks += 1;
        self.requests += i64::from(s.requests);
        self.errors += i64::from(s.errors);
        self.served += i64::from(s.served);
        if let Some(p) = s.p50 {
            self.p50_weighted += i64::from(p) * i64::from(s.served);
            self.p50_sum += i64::from(p);
            self.p50_n += 1;
        }
        if let Some(p) = s.p99 {
            self.p99_max = Some(self.p99_max.map_or(p, |m| m.max(p)));
        }
        self.healthy += i64::from(s.healthy);
        self.unhealthy_max = self.unhealthy_max.max(s.unhealthy);
        if let Some(c) = s.cpu_web {
            self.cpu_web += i64::from(c);
            self.cpu_web_n += 1;
        }
        if let Some(c) = s.cpu_bastion {
            self.cpu_bastion += i64::from(c);
            self.cpu_bastion_n += 1;
        }
        self.db_connections += i64::from(s.db_connections);
        self.db_cpu += i64::from(s.db_cpu);
        self.db_free_min = Some(
            self.db_free_min
                .map_or(s.db_free_mib, |m| m.min(s.db_free_mib)),
        );
    }

    /// The minute's row, and a fresh accumulator.
    pub fn finish(&mut self) -> [i32; NCOLS] {
        let a = std::mem::take(self);
        let mut row = [MISSING; NCOLS];
        if a.ticks == 0 {
            return row;
        }
        let mean = |sum: i64, n: i64| (n > 0).then(|| (sum as f64 / n as f64).round() as i32);
        row[Col::Requests.index()] = a.requests as i32;
        row[Col::Errors.index()] = a.errors as i32;
        row[Col::P50.index()] = if a.served > 0 {
            (a.p50_weighted as f64 / a.served as f64).round() as i32
        } else {
            mean(a.p50_sum, a.p50_n).unwrap_or(MISSING)
        };
        row[Col::P99.index()] = a.p99_max.unwrap_or(MISSING);
        row[Col::Healthy.index()] = mean(a.healthy, a.ticks).unwrap_or(MISSING);
        row[Col::Unhealthy.index()] = a.unhealthy_max;
        row[Col::CpuWeb.index()] = mean(a.cpu_web, a.cpu_web_n).unwrap_or(MISSING);
        row[Col::CpuBastion.index()] = mean(a.cpu_bastion, a.cpu_bastion_n).unwrap_or(MISSING);
        row[Col::DbConnections.index()] = mean(a.db_connections, a.ticks).unwrap_or(MISSING);
        row[Col::DbCpu.index()] = mean(a.db_cpu, a.ticks).unwrap_or(MISSING);
        row[Col::DbFreeMib.index()] = a.db_free_min.unwrap_or(MISSING);
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(requests: i32, p99: i32, cpu: i32) -> [i32; NCOLS] {
        let mut r = [0; NCOLS];
        r[Col::Requests.index()] = requests;
        r[Col::P50.index()] = p99 / 4;
        r[Col::P99.index()] = p99;
        r[Col::CpuWeb.index()] = cpu;
        r[Col::DbFreeMib.index()] = 1000 - requests;
        r
    }

    #[test]
    fn periods_aggregate_by_statistic() {
        let mut s = MetricStore::default();
        s.push(0, row(100, 2000, 4000));
        s.push(MINUTE, row(300, 1000, 6000));
        assert_eq!(s.aggregate(Col::Requests, 0, 2 * MINUTE), Some(400.0));
        assert_eq!(s.aggregate(Col::P99, 0, 2 * MINUTE), Some(200.0));
        assert_eq!(s.aggregate(Col::CpuWeb, 0, 2 * MINUTE), Some(50.0));
        // p50: (500 * 100 + 250 * 300) / 400 tenths of a ms.
        assert_eq!(s.aggregate(Col::P50, 0, 2 * MINUTE), Some(31.25));
        assert_eq!(
            s.aggregate(Col::DbFreeMib, 0, 2 * MINUTE),
            Some(700.0 * 1024.0 * 1024.0)
        );
        assert_eq!(s.aggregate(Col::Requests, 2 * MINUTE, 3 * MINUTE), None);
    }

    #[test]
    fn gaps_are_missing_not_zero() {
        let mut s = MetricStore::default();
        s.push(0, row(10, 10, 10));
        s.push(3 * MINUTE, row(20, 10, 10));
        assert_eq!(s.len(), 4);
        assert_eq!(s.value(Col::Requests, MINUTE), None);
        assert_eq!(s.value(Col::Requests, 3 * MINUTE), Some(20.0));
        let snap = s.snapshot(TimeRange::LastHour, 4 * MINUTE, |_| None);
        let req = snap.series(MetricKind::Requests).unwrap();
        assert_eq!(req.points.len(), 2);
        assert_eq!(req.points.last().unwrap().t, to_ts(3 * MINUTE));
    }

    #[test]
    fn old_minutes_roll_up_into_hours_and_storage_stays_bounded() {
        let mut s = MetricStore::default();
        let total = KEEP_MINUTES + 3 * 60 + 5;
        for m in 0..total {
            s.push(m as Ms * MINUTE, row(1, 10, 100));
        }
        assert!(s.len() >= KEEP_MINUTES && s.len() < KEEP_MINUTES + 60);
        assert_eq!(s.hours[0].len(), 3);
        assert_eq!(
            s.hours[Col::Requests.index()][0],
            60,
            "requests summed per hour"
        );
        // A query reaching before the minute data uses the roll-ups.
        assert_eq!(s.aggregate(Col::Requests, 0, s.start), Some(180.0));
        s.check().unwrap();
    }

    #[test]
    fn the_accumulator_folds_ticks_into_a_minute() {
        let mut acc = MinuteAcc::default();
        for (served, p50, p99) in [(100, 200, 900), (300, 100, 1500)] {
            acc.add(&TickSample {
                requests: served + 1,
                errors: 1,
                served,
                p50: Some(p50),
                p99: Some(p99),
                healthy: 200,
                cpu_web: Some(5000),
                db_free_mib: 900,
                ..TickSample::default()
            });
        }
        let row = acc.finish();
        assert_eq!(row[Col::Requests.index()], 402);
        assert_eq!(row[Col::Errors.index()], 2);
        assert_eq!(row[Col::P50.index()], 125);
        assert_eq!(row[Col::P99.index()], 1500);
        assert_eq!(row[Col::CpuBastion.index()], MISSING);
        assert_eq!(acc, MinuteAcc::default());
    }
}
