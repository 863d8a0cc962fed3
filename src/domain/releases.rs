//! A release: one revision on its way through the environment, canary first.
//!
//! ```text
//! canary (group <env>-canary, one instance, AllAtOnce)
//!   → canary bake (the watched alarms, prod 10 min, staging 4 min)
//!   → fleet (group <env>, OneAtATime)
//!   → fleet bake
//! ```
//!
//! An alarm in ALARM during a bake, or a failed deployment, rolls the release
//! back: the canary instance and, if the release reached it, the fleet, each with
//! a deployment of the previous revision created with the group's alarm
//! monitoring overridden off, so that the alarm still in ALARM cannot stop it.

use serde::{Deserialize, Serialize};

use super::{
    AlarmState, DeploymentCreator, DeploymentStatus, GroupKind, InstanceCounts, Timestamp,
    WATCHED_ALARMS,
};

/// The four stages of a release, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Canary,
    CanaryBake,
    Fleet,
    FleetBake,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::Canary,
        Stage::CanaryBake,
        Stage::Fleet,
        Stage::FleetBake,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Canary => "canary",
            Stage::CanaryBake => "canary_bake",
            Stage::Fleet => "fleet",
            Stage::FleetBake => "fleet_bake",
        }
    }

    /// The word the pipeline line shows: both bakes are `bake`.
    pub fn short(self) -> &'static str {
        match self {
            Stage::Canary => "canary",
            Stage::Fleet => "fleet",
            Stage::CanaryBake | Stage::FleetBake => "bake",
        }
    }

    pub fn is_bake(self) -> bool {
        matches!(self, Stage::CanaryBake | Stage::FleetBake)
    }

    /// The group whose instances the stage deploys to, or watches while baking.
    pub fn group(self) -> GroupKind {
        match self {
            Stage::Canary | Stage::CanaryBake => GroupKind::Canary,
            Stage::Fleet | Stage::FleetBake => GroupKind::Fleet,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    Pending,
    InProgress,
    Succeeded,
    Failed,
    /// The stage had run, or was running, when the release was rolled back.
    RolledBack,
    /// Never run: the release ended before it, or does not have it (a deployment
    /// straight to the fleet has no canary and no bakes).
    Skipped,
}

impl StageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StageStatus::Pending => "pending",
            StageStatus::InProgress => "in_progress",
            StageStatus::Succeeded => "succeeded",
            StageStatus::Failed => "failed",
            StageStatus::RolledBack => "rolled_back",
            StageStatus::Skipped => "skipped",
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            StageStatus::Pending => "",
            StageStatus::InProgress => "●",
            StageStatus::Succeeded => "✓",
            StageStatus::Failed => "✘",
            StageStatus::RolledBack => "↩",
            StageStatus::Skipped => "–",
        }
    }
}

/// Where a release is as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleasePhase {
    /// A deployment of the release runs (or the next one is about to start).
    Deploying,
    /// Deployed to a group, watching the alarms.
    Baking,
    /// Failed; the rollback deployments run.
    RollingBack,
    Succeeded,
    /// Failed and not rolled back (nothing good to go back to).
    Failed,
    RolledBack,
    /// Stopped by an operator without a rollback, or abandoned for a newer release.
    Stopped,
}

impl ReleasePhase {
    pub fn as_str(self) -> &'static str {
        match self {
            ReleasePhase::Deploying => "deploying",
            ReleasePhase::Baking => "baking",
            ReleasePhase::RollingBack => "rolling_back",
            ReleasePhase::Succeeded => "succeeded",
            ReleasePhase::Failed => "failed",
            ReleasePhase::RolledBack => "rolled_back",
            ReleasePhase::Stopped => "stopped",
        }
    }

    pub fn is_active(self) -> bool {
        matches!(
            self,
            ReleasePhase::Deploying | ReleasePhase::Baking | ReleasePhase::RollingBack
        )
    }

    /// The CodeDeploy-like status of the release as a whole.
    pub fn status(self) -> DeploymentStatus {
        match self {
            ReleasePhase::Deploying | ReleasePhase::Baking => DeploymentStatus::InProgress,
            ReleasePhase::Succeeded => DeploymentStatus::Succeeded,
            ReleasePhase::RollingBack | ReleasePhase::Failed | ReleasePhase::RolledBack => {
                DeploymentStatus::Failed
            }
            ReleasePhase::Stopped => DeploymentStatus::Stopped,
        }
    }
}

/// One watched alarm's state, as a bake saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchedAlarm {
    pub name: String,
    pub state: AlarmState,
}

impl WatchedAlarm {
    /// The alarm's name without `notejam-<env>-`.
    pub fn short_name(&self) -> &str {
        WATCHED_ALARMS
            .iter()
            .find(|s| self.name.ends_with(*s))
            .copied()
            .unwrap_or(&self.name)
    }
}

/// A bake's clock and the alarms it watches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bake {
    pub duration_secs: i64,
    /// When it ends (or ended, or would have ended), once it started.
    pub ends: Option<Timestamp>,
    /// Seconds left when the release was read, while it bakes.
    pub remaining_secs: Option<i64>,
    /// While it bakes: the watched alarms now. Once failed: those that fired.
    pub alarms: Vec<WatchedAlarm>,
}

impl Bake {
    /// Seconds left at `now`, while it bakes.
    pub fn remaining_at(&self, now: Timestamp) -> Option<i64> {
        self.ends.map(|e| (e - now).num_seconds().max(0))
    }

    /// `alarms OK`, `ALARM 5xx-rate`, or `alarms: insufficient data`.
    pub fn alarms_label(&self) -> String {
        let firing: Vec<&str> = self
            .alarms
            .iter()
            .filter(|a| a.state == AlarmState::Alarm)
            .map(|a| a.short_name())
            .collect();
        if !firing.is_empty() {
            format!("ALARM {}", firing.join(", "))
        } else if self.alarms.is_empty() {
            "alarms: none found".to_string()
        } else if self.alarms.iter().all(|a| a.state == AlarmState::Ok) {
            "alarms OK".to_string()
        } else {
            "alarms: insufficient data".to_string()
        }
    }
}

/// `4:12`: minutes and seconds.
pub fn clock_label(secs: i64) -> String {
    let s = secs.max(0);
    format!("{}:{:02}", s / 60, s % 60)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageInfo {
    pub stage: Stage,
    pub status: StageStatus,
    /// The deployment group it deploys to or watches.
    pub group: String,
    /// A deploy stage's CodeDeploy deployment, once created.
    pub deployment: Option<String>,
    /// A deploy stage's instance counts.
    pub instances: Option<InstanceCounts>,
    pub started: Option<Timestamp>,
    pub ended: Option<Timestamp>,
    /// A bake's clock and alarms.
    pub bake: Option<Bake>,
}

impl StageInfo {
    /// A stage that has not started.
    pub fn pending(stage: Stage, env: &str) -> StageInfo {
        StageInfo {
            stage,
            status: StageStatus::Pending,
            group: stage.group().group_name(env),
            deployment: None,
            instances: None,
            started: None,
            ended: None,
            bake: stage.is_bake().then(|| Bake {
                duration_secs: super::bake_duration(env).num_seconds(),
                ends: None,
                remaining_secs: None,
                alarms: vec![],
            }),
        }
    }

    /// One step of the pipeline line: `canary ✓`, `bake 4:12 left (alarms OK)`,
    /// `fleet 2/4`, `bake`.
    pub fn label(&self, now: Timestamp) -> String {
        let name = self.stage.short();
        match (self.status, &self.bake, self.instances) {
            (StageStatus::InProgress, Some(b), _) => {
                let left = b
                    .remaining_at(now)
                    .or(b.remaining_secs)
                    .map(|s| format!(" {} left", clock_label(s)))
                    .unwrap_or_default();
                format!("{name}{left} ({})", b.alarms_label())
            }
            (StageStatus::InProgress, None, Some(c)) => {
                let total = c.pending + c.in_progress + c.succeeded + c.failed + c.skipped;
                format!("{name} {}/{total}", c.succeeded + c.skipped)
            }
            (StageStatus::Failed, Some(b), _) if !b.alarms.is_empty() => {
                format!("{name} ✘ ({})", b.alarms_label())
            }
            (StageStatus::Pending, _, _) => name.to_string(),
            (s, _, _) => format!("{name} {}", s.symbol()),
        }
    }
}

/// A deployment that rolls a release back, and how far it got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackRef {
    pub deployment: String,
    pub group: String,
    pub status: DeploymentStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// Its first deployment's id (the canary's, or the fleet's without a canary).
    pub id: String,
    pub revision: String,
    /// The release as a whole, in CodeDeploy's words: `in_progress`,
    /// `succeeded`, `failed` (rolled back or not) or `stopped`.
    pub status: DeploymentStatus,
    pub phase: ReleasePhase,
    /// The running stage, or where the release ended.
    pub stage: Stage,
    pub creator: DeploymentCreator,
    pub initiated_by: Option<String>,
    pub created: Timestamp,
    pub completed: Option<Timestamp>,
    /// The four stages, in order.
    pub stages: Vec<StageInfo>,
    /// The revision the fleet ran before: what a rollback restores.
    pub previous_revision: Option<String>,
    /// The deployments rolling this release back.
    pub rollbacks: Vec<RollbackRef>,
    /// For a release that is itself a rollback: the deployment it answers.
    pub rollback_of: Option<String>,
    /// Why it failed, stopped or was rolled back.
    pub error: Option<String>,
}

impl Release {
    pub fn stage_info(&self, stage: Stage) -> Option<&StageInfo> {
        self.stages.iter().find(|s| s.stage == stage)
    }

    pub fn is_active(&self) -> bool {
        self.phase.is_active()
    }

    /// The pipeline as one line: `canary ✓ → bake 4:12 left (alarms OK) → fleet 2/4 → bake`.
    pub fn pipeline(&self, now: Timestamp) -> String {
        self.stages
            .iter()
            .map(|s| s.label(now))
            .collect::<Vec<_>>()
            .join(" → ")
    }

    /// Every deployment of the release: its stages', then its rollbacks'.
    pub fn deployment_ids(&self) -> impl Iterator<Item = &str> {
        self.stages
            .iter()
            .filter_map(|s| s.deployment.as_deref())
            .chain(self.rollbacks.iter().map(|r| r.deployment.as_str()))
    }

    pub fn contains(&self, deployment: &str) -> bool {
        self.id == deployment || self.deployment_ids().any(|d| d == deployment)
    }

    /// The deployment to show the lifecycle of: a running rollback, else the
    /// running or last reached deploy stage's, else the first rollback.
    pub fn focus_deployment(&self) -> Option<&str> {
        if let Some(r) = self.rollbacks.iter().find(|r| r.status.is_active()) {
            return Some(&r.deployment);
        }
        self.stages
            .iter()
            .rev()
            .find(|s| s.deployment.is_some() && s.status != StageStatus::Pending)
            .and_then(|s| s.deployment.as_deref())
            .or_else(|| self.stages.iter().find_map(|s| s.deployment.as_deref()))
            .or_else(|| self.rollbacks.first().map(|r| r.deployment.as_str()))
    }

    /// Fills in `stage`, `phase`, `status` and `completed` from the stages and
    /// rollbacks: a release that `ended` (failed, stopped, rolled back) says so.
    pub fn settle(&mut self, ended: Option<ReleasePhase>, now: Timestamp) {
        let rolling_back = self.rollbacks.iter().any(|r| r.status.is_active());
        let active = self
            .stages
            .iter()
            .find(|s| s.status == StageStatus::InProgress)
            .map(|s| s.stage);
        let reached = self
            .stages
            .iter()
            .rev()
            .find(|s| !matches!(s.status, StageStatus::Pending | StageStatus::Skipped))
            .map(|s| s.stage);
        self.stage = active.or(reached).unwrap_or(Stage::Canary);
        self.phase = match ended {
            Some(_) if rolling_back => ReleasePhase::RollingBack,
            Some(p) => p,
            None => match active {
                Some(s) if s.is_bake() => ReleasePhase::Baking,
                _ => ReleasePhase::Deploying,
            },
        };
        self.status = self.phase.status();
        for s in &mut self.stages {
            if let Some(b) = &mut s.bake {
                b.remaining_secs = (s.status == StageStatus::InProgress)
                    .then(|| b.remaining_at(now))
                    .flatten();
            }
        }
        if self.phase.is_active() {
            self.completed = None;
        }
    }
}

/// What a rollback sends: stop what runs, then redeploy `revision` to each
/// group with the group's alarm monitoring overridden off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackRequest {
    pub revision: String,
    /// Running deployments to stop first (without CodeDeploy's own rollback).
    pub stop: Vec<String>,
    /// The groups to redeploy to, each with the deployment it rolls back.
    pub targets: Vec<RollbackTarget>,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackTarget {
    pub group: GroupKind,
    pub rollback_of: Option<String>,
}

/// How a rollback's description starts when it answers a deployment: the
/// console, the simulator and the pipeline (deploy.yml) all write it, and the
/// AWS backend reads it back as `rollback_of`.
pub const ROLLBACK_OF: &str = "Rollback of ";

impl RollbackRequest {
    /// The description of the deployment that rolls `target` back:
    /// `Rollback of <deployment id>: <description>` when it answers one.
    pub fn description_for(&self, target: &RollbackTarget) -> String {
        match &target.rollback_of {
            Some(id) if !self.description.starts_with(ROLLBACK_OF) => {
                format!("{ROLLBACK_OF}{id}: {}", self.description)
            }
            _ => self.description.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(min: i64) -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap() + chrono::Duration::minutes(min)
    }

    fn release() -> Release {
        Release {
            id: "d-1".into(),
            revision: "r2".into(),
            status: DeploymentStatus::Created,
            phase: ReleasePhase::Deploying,
            stage: Stage::Canary,
            creator: DeploymentCreator::User,
            initiated_by: None,
            created: t(0),
            completed: None,
            stages: Stage::ALL
                .iter()
                .map(|s| StageInfo::pending(*s, "prod"))
                .collect(),
            previous_revision: Some("r1".into()),
            rollbacks: vec![],
            rollback_of: None,
            error: None,
        }
    }

    #[test]
    fn the_pipeline_line_shows_each_stage_where_it_is() {
        let mut r = release();
        r.stages[0].status = StageStatus::Succeeded;
        r.stages[0].deployment = Some("d-1".into());
        r.stages[1].status = StageStatus::InProgress;
        let bake = r.stages[1].bake.as_mut().unwrap();
        bake.ends = Some(t(10));
        bake.alarms = vec![
            WatchedAlarm {
                name: "notejam-prod-p99-latency".into(),
                state: AlarmState::Ok,
            },
            WatchedAlarm {
                name: "notejam-prod-5xx-rate".into(),
                state: AlarmState::Ok,
            },
        ];
        r.settle(None, t(5));
        let now = t(5) + chrono::Duration::seconds(48);
        assert_eq!(
            r.pipeline(now),
            "canary ✓ → bake 4:12 left (alarms OK) → fleet → bake"
        );
        assert_eq!(
            (r.phase, r.stage),
            (ReleasePhase::Baking, Stage::CanaryBake)
        );
        assert_eq!(r.stages[1].bake.as_ref().unwrap().remaining_secs, Some(300));
        assert_eq!(r.status, DeploymentStatus::InProgress);

        r.stages[1].status = StageStatus::Succeeded;
        r.stages[2].status = StageStatus::InProgress;
        r.stages[2].deployment = Some("d-2".into());
        r.stages[2].instances = Some(InstanceCounts {
            pending: 1,
            in_progress: 1,
            succeeded: 2,
            ..InstanceCounts::default()
        });
        r.settle(None, t(12));
        assert_eq!(r.pipeline(t(12)), "canary ✓ → bake ✓ → fleet 2/4 → bake");
        assert_eq!((r.phase, r.stage), (ReleasePhase::Deploying, Stage::Fleet));
        assert_eq!(r.focus_deployment(), Some("d-2"));
    }

    #[test]
    fn a_rolled_back_release_is_failed_and_rolling_back_while_its_rollbacks_run() {
        let mut r = release();
        r.stages[0].status = StageStatus::RolledBack;
        r.stages[0].deployment = Some("d-1".into());
        r.stages[1].status = StageStatus::Failed;
        r.stages[1].bake.as_mut().unwrap().alarms = vec![WatchedAlarm {
            name: "notejam-prod-5xx-rate".into(),
            state: AlarmState::Alarm,
        }];
        r.stages[2].status = StageStatus::Skipped;
        r.stages[3].status = StageStatus::Skipped;
        r.rollbacks = vec![RollbackRef {
            deployment: "d-9".into(),
            group: "prod-canary".into(),
            status: DeploymentStatus::InProgress,
        }];
        r.settle(Some(ReleasePhase::RolledBack), t(8));
        assert_eq!(r.phase, ReleasePhase::RollingBack);
        assert_eq!(r.stage, Stage::CanaryBake);
        assert_eq!(r.status, DeploymentStatus::Failed);
        assert_eq!(r.focus_deployment(), Some("d-9"));
        assert!(r.contains("d-9") && r.contains("d-1") && !r.contains("d-2"));
        assert_eq!(
            r.pipeline(t(8)),
            "canary ↩ → bake ✘ (ALARM 5xx-rate) → fleet – → bake –"
        );
        r.rollbacks[0].status = DeploymentStatus::Succeeded;
        r.settle(Some(ReleasePhase::RolledBack), t(9));
        assert_eq!(r.phase, ReleasePhase::RolledBack);
        assert!(!r.is_active());
        assert_eq!(r.focus_deployment(), Some("d-1"));
    }

    #[test]
    fn alarm_labels_say_which_fired_and_when_nothing_is_known() {
        let bake = |states: &[(&str, AlarmState)]| Bake {
            duration_secs: 600,
            ends: None,
            remaining_secs: None,
            alarms: states
                .iter()
                .map(|(n, s)| WatchedAlarm {
                    name: format!("notejam-staging-{n}"),
                    state: *s,
                })
                .collect(),
        };
        assert_eq!(bake(&[]).alarms_label(), "alarms: none found");
        assert_eq!(
            bake(&[("p99-latency", AlarmState::InsufficientData)]).alarms_label(),
            "alarms: insufficient data"
        );
        assert_eq!(
            bake(&[
                ("p99-latency", AlarmState::Alarm),
                ("5xx-rate", AlarmState::Alarm)
            ])
            .alarms_label(),
            "ALARM p99-latency, 5xx-rate"
        );
        assert_eq!(clock_label(0), "0:00");
        assert_eq!(clock_label(601), "10:01");
        assert_eq!(clock_label(-5), "0:00");
    }

    #[test]
    fn groups_and_bakes_follow_the_contract() {
        assert_eq!(GroupKind::Canary.group_name("prod"), "prod-canary");
        assert_eq!(GroupKind::Fleet.group_name("prod"), "prod");
        assert_eq!(
            GroupKind::of("prod", "prod-canary"),
            Some(GroupKind::Canary)
        );
        assert_eq!(GroupKind::of("prod", "staging"), None);
        assert_eq!(super::super::bake_duration("prod").num_minutes(), 10);
        assert_eq!(super::super::bake_duration("staging").num_minutes(), 4);
        assert_eq!(
            super::super::watched_alarm_names("prod"),
            ["notejam-prod-p99-latency", "notejam-prod-5xx-rate"]
        );
    }
}
