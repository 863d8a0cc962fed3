use serde::{Deserialize, Serialize};

use super::Timestamp;

/// CodeDeploy's deployment status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    Created,
    Queued,
    InProgress,
    Baking,
    Ready,
    Succeeded,
    Failed,
    Stopped,
}

impl DeploymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Created => "created",
            DeploymentStatus::Queued => "queued",
            DeploymentStatus::InProgress => "in_progress",
            DeploymentStatus::Baking => "baking",
            DeploymentStatus::Ready => "ready",
            DeploymentStatus::Succeeded => "succeeded",
            DeploymentStatus::Failed => "failed",
            DeploymentStatus::Stopped => "stopped",
        }
    }

    /// Still running: can be stopped, and blocks another deployment to the group.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            DeploymentStatus::Created
                | DeploymentStatus::Queued
                | DeploymentStatus::InProgress
                | DeploymentStatus::Baking
                | DeploymentStatus::Ready
        )
    }
}

/// Who or what started a deployment (CodeDeploy's `creator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentCreator {
    User,
    Autoscaling,
    Rollback,
    Other,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceCounts {
    pub pending: u32,
    pub in_progress: u32,
    pub succeeded: u32,
    pub failed: u32,
    pub skipped: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: String,
    pub status: DeploymentStatus,
    /// The revision's name: the bundle's key in the artifacts bucket (AWS) or its
    /// label (simulator).
    pub revision: String,
    pub creator: DeploymentCreator,
    /// The principal who asked for it, when known (from its description).
    pub initiated_by: Option<String>,
    pub created: Timestamp,
    pub completed: Option<Timestamp>,
    /// For a rollback: the deployment it rolled back.
    pub rollback_of: Option<String>,
    /// The deployment that rolled this one back.
    pub rolled_back_by: Option<String>,
    /// Why it failed, stopped or was rolled back (e.g. the alarm that fired).
    pub error: Option<String>,
    pub instances: InstanceCounts,
    /// The deployment group it runs in: `<env>` (the fleet) or `<env>-canary`.
    #[serde(default)]
    pub group: String,
    /// Created with the group's alarm monitoring overridden off: a rollback, which
    /// the alarm it answers (still in ALARM) must not stop.
    #[serde(default)]
    pub ignores_alarms: bool,
}

impl Deployment {
    pub fn duration(&self, now: Timestamp) -> chrono::Duration {
        self.completed.unwrap_or(now) - self.created
    }

    /// Which of the environment's groups it runs in, by the group's name.
    pub fn group_kind(&self, env: &str) -> Option<GroupKind> {
        GroupKind::of(env, &self.group)
    }
}

/// The environment's two CodeDeploy deployment groups (design section 3): the
/// fleet, `<env>` (the web Auto Scaling group, `CodeDeployDefault.OneAtATime`),
/// and the canary, `<env>-canary` (the one instance tagged `Canary=true`,
/// `CodeDeployDefault.AllAtOnce`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    Canary,
    Fleet,
}

impl GroupKind {
    pub const ALL: [GroupKind; 2] = [GroupKind::Canary, GroupKind::Fleet];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Canary => "canary",
            GroupKind::Fleet => "fleet",
        }
    }

    /// The deployment group's name in `env`.
    pub fn group_name(self, env: &str) -> String {
        match self {
            GroupKind::Canary => format!("{env}-canary"),
            GroupKind::Fleet => env.to_string(),
        }
    }

    /// The group `name` is in `env`, if it is one of the environment's.
    pub fn of(env: &str, name: &str) -> Option<GroupKind> {
        GroupKind::ALL
            .into_iter()
            .find(|g| g.group_name(env) == name)
    }

    /// The deployment configuration the group deploys with.
    pub fn config(self) -> &'static str {
        match self {
            GroupKind::Canary => "CodeDeployDefault.AllAtOnce",
            GroupKind::Fleet => "CodeDeployDefault.OneAtATime",
        }
    }
}

/// The alarms a bake watches, as suffixes of `notejam-<env>-`.
pub const WATCHED_ALARMS: [&str; 2] = ["p99-latency", "5xx-rate"];

/// The watched alarms' names in `env`.
pub fn watched_alarm_names(env: &str) -> Vec<String> {
    WATCHED_ALARMS
        .iter()
        .map(|s| format!("notejam-{env}-{s}"))
        .collect()
}

/// How long each bake of a release lasts in `env`: 10 minutes in prod, 4 in
/// staging (the pipeline's contract: the alarms need three one-minute datapoints
/// and one more minute for them to arrive, so no bake is shorter); 5 in the demo,
/// where the alarms need three one-minute datapoints to fire on a canary that
/// takes traffic only at the end of its deployment; any other environment bakes
/// like prod.
pub fn bake_duration(env: &str) -> chrono::Duration {
    match env {
        "staging" => chrono::Duration::minutes(4),
        super::DEMO_ENV => chrono::Duration::minutes(5),
        _ => chrono::Duration::minutes(10),
    }
}

/// A revision that can be deployed: a bundle in the artifacts bucket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionInfo {
    pub name: String,
    pub created: Timestamp,
    pub size_bytes: Option<u64>,
}

/// One instance's progress through a deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentTarget {
    pub instance_id: String,
    pub status: StepStatus,
    pub events: Vec<LifecycleEvent>,
}

/// One CodeDeploy lifecycle hook (ApplicationStop, DownloadBundle, ...,
/// ValidateService, AllowTraffic) on one instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleEvent {
    pub name: String,
    pub status: StepStatus,
    pub started: Option<Timestamp>,
    pub ended: Option<Timestamp>,
    pub diagnostic: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pending,
    InProgress,
    Succeeded,
    Failed,
    Skipped,
    Unknown,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Pending => "pending",
            StepStatus::InProgress => "in_progress",
            StepStatus::Succeeded => "succeeded",
            StepStatus::Failed => "failed",
            StepStatus::Skipped => "skipped",
            StepStatus::Unknown => "unknown",
        }
    }
}

/// The lifecycle hooks of an in-place EC2 deployment behind a load balancer, in
/// the order CodeDeploy runs them.
pub const LIFECYCLE_EVENTS: [&str; 13] = [
    "BeforeBlockTraffic",
    "BlockTraffic",
    "AfterBlockTraffic",
    "ApplicationStop",
    "DownloadBundle",
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
];
