//! The domain model: every part of njtui (views, subcommands, the simulator and the
//! AWS adapters) speaks these types and nothing backend-specific.
//!
//! Types serialize to the JSON documented in `docs/cli.md`; renaming a field here
//! changes that public shape.

mod backups;
mod deployments;
mod logs;
mod metrics;
mod releases;
mod tier;
mod topology;

pub use backups::*;
pub use deployments::*;
pub use logs::*;
pub use metrics::*;
pub use releases::*;
pub use tier::*;
pub use topology::*;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Every instant in the model is UTC; the simulator's are virtual.
pub type Timestamp = DateTime<Utc>;

/// The environment name reserved for the embedded simulator.
pub const DEMO_ENV: &str = "demo";

/// Which implementation of [`crate::backend::Backend`] serves an environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Sim,
    Aws,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Sim => "sim",
            BackendKind::Aws => "aws",
        }
    }
}

/// Who the console acts as, shown in the status bar and written to the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// AWS account id; `None` in the simulator.
    pub account: Option<String>,
    /// The caller's ARN (AWS) or a local operator name (simulator).
    pub principal: String,
    pub region: String,
}

/// Where a restore starts from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum RestoreSource {
    /// An RDS snapshot (automated or manual) or an AWS Backup recovery point, by the
    /// id shown in the backups list.
    Backup { id: String },
    /// RDS point-in-time recovery to this instant.
    PointInTime { time: Timestamp },
}

/// The capacity numbers of an Auto Scaling group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capacity {
    pub min: u32,
    pub desired: u32,
    pub max: u32,
}

/// What a provisioning run does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProvisionMode {
    Plan,
    Apply,
}

/// The counts a plan ends with (`Plan: 1 to add, 2 to change, 0 to destroy.`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    pub add: u32,
    pub change: u32,
    pub destroy: u32,
}

impl PlanSummary {
    pub fn is_empty(&self) -> bool {
        self.add == 0 && self.change == 0 && self.destroy == 0
    }
}

impl std::fmt::Display for PlanSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} to add, {} to change, {} to destroy",
            self.add, self.change, self.destroy
        )
    }
}

/// Faults the simulator can inject for a demo; the model reacts as AWS would.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChaosKind {
    /// Traffic multiplied for a while: target tracking scales the web tier out.
    LoadSpike,
    /// One web instance dies: the ASG replaces it.
    KillInstance,
    /// The next deployed revision fails half its requests once deployed: the
    /// canary's bake sees the alarm and rolls the canary back.
    BadRevision,
    /// The next deployed revision passes the canary and fails once the whole
    /// fleet runs it: the fleet's bake rolls back the canary and the fleet.
    BadAtScale,
}

impl ChaosKind {
    pub const ALL: [ChaosKind; 4] = [
        ChaosKind::LoadSpike,
        ChaosKind::KillInstance,
        ChaosKind::BadRevision,
        ChaosKind::BadAtScale,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChaosKind::LoadSpike => "load-spike",
            ChaosKind::KillInstance => "kill-instance",
            ChaosKind::BadRevision => "bad-revision",
            ChaosKind::BadAtScale => "bad-at-scale",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            ChaosKind::LoadSpike => "multiply traffic by 4 for 30 minutes",
            ChaosKind::KillInstance => "terminate one healthy web instance",
            ChaosKind::BadRevision => "make the next deployed revision fail",
            ChaosKind::BadAtScale => "make the next revision fail once the whole fleet runs it",
        }
    }
}

impl std::str::FromStr for ChaosKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChaosKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown chaos '{s}'; choose one of: {}",
                    ChaosKind::ALL.map(|k| k.as_str()).join(", ")
                )
            })
    }
}

/// One line of the audit trail: who did what, when, and how it ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub time: Timestamp,
    pub env: String,
    pub backend: BackendKind,
    /// The caller identity's principal (see [`Identity`]).
    pub who: String,
    /// The action's name, e.g. `scale`.
    pub action: String,
    /// What changes, as shown in the confirmation, e.g. `web: desired 2 -> 5`.
    pub change: String,
    pub outcome: AuditOutcome,
    /// The failure or refusal reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditOutcome {
    /// Sent and accepted.
    Succeeded,
    /// Sent and failed.
    Failed,
    /// Not sent: read-only mode, missing confirmation or invalid input.
    Refused,
    /// The operator backed out at the confirmation.
    Cancelled,
}

/// Human age of `t` relative to `now`, e.g. `5m`, `3h`, `2d`.
pub fn age(now: Timestamp, t: Timestamp) -> String {
    let secs = (now - t).num_seconds().max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// A duration as people read it in a table: `45s`, `3m07s`, `2h05m`.
pub fn duration_label(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn durations_read_like_a_table_cell() {
        assert_eq!(duration_label(chrono::Duration::seconds(45)), "45s");
        assert_eq!(duration_label(chrono::Duration::seconds(187)), "3m07s");
        assert_eq!(duration_label(chrono::Duration::minutes(125)), "2h05m");
        assert_eq!(duration_label(chrono::Duration::seconds(-3)), "0s");
    }

    #[test]
    fn ages_are_short_and_never_negative() {
        let now = Utc.with_ymd_and_hms(2026, 1, 2, 12, 0, 0).unwrap();
        assert_eq!(age(now, now), "0s");
        assert_eq!(age(now, now - chrono::Duration::seconds(59)), "59s");
        assert_eq!(age(now, now - chrono::Duration::minutes(5)), "5m");
        assert_eq!(age(now, now - chrono::Duration::hours(25)), "1d");
        assert_eq!(age(now, now + chrono::Duration::hours(1)), "0s");
    }

    #[test]
    fn chaos_names_round_trip_and_unknown_lists_choices() {
        for k in ChaosKind::ALL {
            assert_eq!(k.as_str().parse::<ChaosKind>().unwrap(), k);
        }
        let err = "meteor".parse::<ChaosKind>().unwrap_err();
        assert!(
            err.contains("meteor") && err.contains("load-spike"),
            "{err}"
        );
    }
}
