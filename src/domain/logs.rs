use serde::{Deserialize, Serialize};

use super::Timestamp;

/// A log group of the environment (design section 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogSource {
    App,
    System,
    CodeDeploy,
    Audit,
    Database,
}

impl LogSource {
    pub const ALL: [LogSource; 5] = [
        LogSource::App,
        LogSource::System,
        LogSource::CodeDeploy,
        LogSource::Audit,
        LogSource::Database,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LogSource::App => "app",
            LogSource::System => "system",
            LogSource::CodeDeploy => "codedeploy",
            LogSource::Audit => "audit",
            LogSource::Database => "database",
        }
    }

    /// The CloudWatch Logs group name the contract gives this source.
    pub fn group_name(self, env: &str) -> String {
        match self {
            LogSource::Database => format!("/aws/rds/instance/notejam-{env}/postgresql"),
            other => format!("/notejam/{env}/{}", other.as_str()),
        }
    }

    /// The source a log group name belongs to, for this environment only.
    pub fn from_group_name(env: &str, group: &str) -> Option<LogSource> {
        LogSource::ALL
            .into_iter()
            .find(|s| s.group_name(env) == group)
    }
}

impl std::str::FromStr for LogSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LogSource::ALL
            .into_iter()
            .find(|src| src.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown log source '{s}'; choose one of: {}",
                    LogSource::ALL.map(LogSource::as_str).join(", ")
                )
            })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Debug,
    Info,
    Warn,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Debug => "debug",
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Error => "error",
        }
    }

    /// Guesses a line's severity the way log viewers do: a JSON `level` field when
    /// the line is JSON (the app's format), else the first severity word in it
    /// (PostgreSQL's `ERROR:`, syslog's `warning`, CodeDeploy's `[ERROR]`).
    pub fn detect(message: &str) -> Severity {
        let trimmed = message.trim_start();
        if trimmed.starts_with('{')
            && let Ok(serde_json::Value::Object(map)) =
                serde_json::from_str::<serde_json::Value>(trimmed)
        {
            for key in ["level", "severity", "lvl"] {
                if let Some(serde_json::Value::String(level)) = map.get(key) {
                    return Self::from_word(level).unwrap_or(Severity::Info);
                }
            }
        }
        message
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| !w.is_empty())
            .take(12)
            .find_map(Self::from_word)
            .unwrap_or(Severity::Info)
    }

    fn from_word(word: &str) -> Option<Severity> {
        match word.to_ascii_lowercase().as_str() {
            "error" | "err" | "fatal" | "panic" | "crit" | "critical" | "emerg" | "alert" => {
                Some(Severity::Error)
            }
            "warn" | "warning" => Some(Severity::Warn),
            "debug" | "trace" => Some(Severity::Debug),
            "info" | "notice" | "log" => Some(Severity::Info),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEvent {
    /// Unique within the source: CloudWatch's event id, or the simulator's.
    pub id: String,
    pub timestamp: Timestamp,
    pub source: LogSource,
    /// The log stream, usually the instance id.
    pub stream: String,
    pub message: String,
    pub severity: Severity,
}

/// A history query; every field narrows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogQuery {
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Empty means all sources.
    pub sources: Vec<LogSource>,
    /// A plain substring, case-sensitive, as CloudWatch's quoted filter term.
    pub filter: Option<String>,
    /// At most this many events, the newest ones.
    pub limit: Option<usize>,
}

impl LogQuery {
    pub fn wants(&self, source: LogSource) -> bool {
        self.sources.is_empty() || self.sources.contains(&source)
    }

    /// Whether an event matches, for backends that filter locally.
    pub fn matches(&self, e: &LogEvent) -> bool {
        self.wants(e.source)
            && self.since.is_none_or(|s| e.timestamp >= s)
            && self.until.is_none_or(|u| e.timestamp < u)
            && self.filter.as_deref().is_none_or(|f| e.message.contains(f))
    }
}

/// How a live follow receives its events, shown in the logs view's title.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowMode {
    /// CloudWatch Logs StartLiveTail: pushed every second.
    LiveTail,
    /// FilterLogEvents polled at this interval (longer while throttled).
    Polling { interval_secs: u32, throttled: bool },
    /// The simulator's own stream.
    Simulated,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_follow_the_contract() {
        assert_eq!(LogSource::App.group_name("prod"), "/notejam/prod/app");
        assert_eq!(
            LogSource::Database.group_name("prod"),
            "/aws/rds/instance/notejam-prod/postgresql"
        );
        assert_eq!(
            LogSource::from_group_name("prod", "/notejam/prod/codedeploy"),
            Some(LogSource::CodeDeploy)
        );
        assert_eq!(
            LogSource::from_group_name("prod", "/notejam/staging/app"),
            None
        );
    }

    #[test]
    fn severity_reads_json_levels_and_words() {
        assert_eq!(
            Severity::detect(r#"{"level":"WARN","msg":"slow"}"#),
            Severity::Warn
        );
        assert_eq!(
            Severity::detect("2026-01-01 UTC [42] ERROR:  duplicate key"),
            Severity::Error
        );
        assert_eq!(Severity::detect("[ERROR] script failed"), Severity::Error);
        assert_eq!(Severity::detect("GET / 200 3ms"), Severity::Info);
        assert_eq!(Severity::detect("{not json"), Severity::Info);
    }

    #[test]
    fn query_matches_on_every_field() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let e = LogEvent {
            id: "1".into(),
            timestamp: t,
            source: LogSource::App,
            stream: "i-1".into(),
            message: "GET /notes 500".into(),
            severity: Severity::Error,
        };
        assert!(LogQuery::default().matches(&e));
        let q = LogQuery {
            filter: Some("500".into()),
            sources: vec![LogSource::App],
            since: Some(t),
            ..Default::default()
        };
        assert!(q.matches(&e));
        assert!(
            !LogQuery {
                sources: vec![LogSource::System],
                ..q.clone()
            }
            .matches(&e)
        );
        assert!(
            !LogQuery {
                until: Some(t),
                ..q.clone()
            }
            .matches(&e)
        );
        assert!(
            !LogQuery {
                filter: Some("404".into()),
                ..q
            }
            .matches(&e)
        );
    }
}
