use serde::{Deserialize, Serialize};

use super::Timestamp;

/// The series the metrics view charts. Each maps to one CloudWatch metric (see the
/// AWS adapter) and to one quantity of the simulator's model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    Requests,
    LatencyP50,
    LatencyP99,
    Errors5xx,
    HealthyHosts,
    CpuWeb,
    CpuBastion,
    DbConnections,
    DbCpu,
    DbFreeStorage,
}

impl MetricKind {
    pub const ALL: [MetricKind; 10] = [
        MetricKind::Requests,
        MetricKind::LatencyP50,
        MetricKind::LatencyP99,
        MetricKind::Errors5xx,
        MetricKind::HealthyHosts,
        MetricKind::CpuWeb,
        MetricKind::CpuBastion,
        MetricKind::DbConnections,
        MetricKind::DbCpu,
        MetricKind::DbFreeStorage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Requests => "requests",
            MetricKind::LatencyP50 => "latency_p50",
            MetricKind::LatencyP99 => "latency_p99",
            MetricKind::Errors5xx => "errors_5xx",
            MetricKind::HealthyHosts => "healthy_hosts",
            MetricKind::CpuWeb => "cpu_web",
            MetricKind::CpuBastion => "cpu_bastion",
            MetricKind::DbConnections => "db_connections",
            MetricKind::DbCpu => "db_cpu",
            MetricKind::DbFreeStorage => "db_free_storage",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MetricKind::Requests => "Requests",
            MetricKind::LatencyP50 => "Latency p50",
            MetricKind::LatencyP99 => "Latency p99",
            MetricKind::Errors5xx => "HTTP 5xx",
            MetricKind::HealthyHosts => "Healthy hosts",
            MetricKind::CpuWeb => "CPU web",
            MetricKind::CpuBastion => "CPU bastion",
            MetricKind::DbConnections => "DB connections",
            MetricKind::DbCpu => "DB CPU",
            MetricKind::DbFreeStorage => "DB free storage",
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            MetricKind::Requests | MetricKind::Errors5xx => Unit::CountPerPeriod,
            MetricKind::LatencyP50 | MetricKind::LatencyP99 => Unit::Milliseconds,
            MetricKind::HealthyHosts | MetricKind::DbConnections => Unit::Count,
            MetricKind::CpuWeb | MetricKind::CpuBastion | MetricKind::DbCpu => Unit::Percent,
            MetricKind::DbFreeStorage => Unit::Bytes,
        }
    }
}

impl MetricKind {
    /// Whether trouble is a low value (free storage, healthy hosts): its alarm
    /// fires below the threshold, not above.
    pub fn alarms_when_low(self) -> bool {
        matches!(self, MetricKind::DbFreeStorage | MetricKind::HealthyHosts)
    }

    /// Whether `value` is on the wrong side of `threshold` for this metric.
    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        if self.alarms_when_low() {
            value < threshold
        } else {
            value >= threshold
        }
    }
}

impl std::str::FromStr for MetricKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MetricKind::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown metric '{s}'; choose one of: {}",
                    MetricKind::ALL.map(MetricKind::as_str).join(", ")
                )
            })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A sum over each period (requests, errors).
    CountPerPeriod,
    Count,
    Milliseconds,
    Percent,
    Bytes,
}

impl Unit {
    /// Formats a value compactly for a chart label or table cell.
    pub fn format(self, v: f64) -> String {
        match self {
            Unit::CountPerPeriod | Unit::Count => {
                if v >= 10_000.0 {
                    format!("{:.1}k", v / 1000.0)
                } else {
                    format!("{v:.0}")
                }
            }
            Unit::Milliseconds => {
                if v >= 1000.0 {
                    format!("{:.2}s", v / 1000.0)
                } else {
                    format!("{v:.0}ms")
                }
            }
            Unit::Percent => format!("{v:.1}%"),
            Unit::Bytes => {
                const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
                format!("{:.1}GiB", v / GIB)
            }
        }
    }
}

/// The window the metrics view shows. `LastHour` follows live; the others are
/// history.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimeRange {
    #[default]
    #[serde(rename = "1h")]
    LastHour,
    #[serde(rename = "6h")]
    Hours6,
    #[serde(rename = "24h")]
    Hours24,
    #[serde(rename = "7d")]
    Days7,
}

impl TimeRange {
    pub const ALL: [TimeRange; 4] = [
        TimeRange::LastHour,
        TimeRange::Hours6,
        TimeRange::Hours24,
        TimeRange::Days7,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TimeRange::LastHour => "1h",
            TimeRange::Hours6 => "6h",
            TimeRange::Hours24 => "24h",
            TimeRange::Days7 => "7d",
        }
    }

    pub fn duration(self) -> chrono::Duration {
        match self {
            TimeRange::LastHour => chrono::Duration::hours(1),
            TimeRange::Hours6 => chrono::Duration::hours(6),
            TimeRange::Hours24 => chrono::Duration::hours(24),
            TimeRange::Days7 => chrono::Duration::days(7),
        }
    }

    /// The aggregation period: one minute for the live hour, five minutes for up to
    /// a day, an hour beyond. This follows CloudWatch's retention (1-minute data for
    /// 15 days, 5-minute for 63, 1-hour for 455) and keeps every range under 300
    /// points, about one per terminal column.
    pub fn period_secs(self) -> u32 {
        match self {
            TimeRange::LastHour => 60,
            TimeRange::Hours6 | TimeRange::Hours24 => 300,
            TimeRange::Days7 => 3600,
        }
    }

    pub fn is_live(self) -> bool {
        self == TimeRange::LastHour
    }

    pub fn next(self) -> TimeRange {
        let i = Self::ALL.iter().position(|r| *r == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    pub fn prev(self) -> TimeRange {
        let i = Self::ALL.iter().position(|r| *r == self).unwrap_or(0);
        Self::ALL[(i + Self::ALL.len() - 1) % Self::ALL.len()]
    }
}

impl std::str::FromStr for TimeRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TimeRange::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown range '{s}'; choose one of: 1h, 6h, 24h, 7d"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    /// Start of the period.
    pub t: Timestamp,
    pub v: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricSeries {
    pub metric: MetricKind,
    pub unit: Unit,
    pub period_secs: u32,
    /// Oldest first; periods without data are absent, not zero.
    pub points: Vec<MetricPoint>,
    /// The threshold of the alarm on this metric, where one exists.
    pub threshold: Option<f64>,
}

impl MetricSeries {
    pub fn current(&self) -> Option<f64> {
        self.points.last().map(|p| p.v)
    }

    pub fn min(&self) -> Option<f64> {
        self.points.iter().map(|p| p.v).reduce(f64::min)
    }

    pub fn max(&self) -> Option<f64> {
        self.points.iter().map(|p| p.v).reduce(f64::max)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsSnapshot {
    pub range: TimeRange,
    /// The end of the window (exclusive); the start is `end - range`.
    pub end: Timestamp,
    /// One series per [`MetricKind`], in [`MetricKind::ALL`] order.
    pub series: Vec<MetricSeries>,
}

impl MetricsSnapshot {
    pub fn series(&self, metric: MetricKind) -> Option<&MetricSeries> {
        self.series.iter().find(|s| s.metric == metric)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_follow_the_range_and_keep_points_under_300() {
        for r in TimeRange::ALL {
            let points = r.duration().num_seconds() / i64::from(r.period_secs());
            assert!(points <= 300, "{r:?} has {points} points");
        }
        assert_eq!(TimeRange::LastHour.period_secs(), 60);
        assert_eq!(TimeRange::Days7.period_secs(), 3600);
    }

    #[test]
    fn low_is_bad_for_storage_and_healthy_hosts() {
        assert!(MetricKind::DbFreeStorage.breaches(1.0, 2.0));
        assert!(!MetricKind::DbFreeStorage.breaches(16.0, 2.0));
        assert!(MetricKind::LatencyP99.breaches(1200.0, 1000.0));
        assert!(!MetricKind::LatencyP99.breaches(200.0, 1000.0));
    }

    #[test]
    fn ranges_cycle_and_parse() {
        assert_eq!(TimeRange::Days7.next(), TimeRange::LastHour);
        assert_eq!(TimeRange::LastHour.prev(), TimeRange::Days7);
        assert_eq!("24h".parse::<TimeRange>().unwrap(), TimeRange::Hours24);
        assert!("2h".parse::<TimeRange>().unwrap_err().contains("1h, 6h"));
    }

    #[test]
    fn units_format_compactly() {
        assert_eq!(Unit::Milliseconds.format(12.4), "12ms");
        assert_eq!(Unit::Milliseconds.format(1500.0), "1.50s");
        assert_eq!(Unit::CountPerPeriod.format(12_345.0), "12.3k");
        assert_eq!(Unit::Percent.format(42.26), "42.3%");
        assert_eq!(
            Unit::Bytes.format(20.0 * 1024.0 * 1024.0 * 1024.0),
            "20.0GiB"
        );
    }
}
