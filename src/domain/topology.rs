use serde::{Deserialize, Serialize};

use super::{Capacity, MetricKind, Tier, Timestamp};

/// One environment as the console sees it: every tier, found by the contract's tags
/// and names. Absent parts are `None`/empty, never an error: a half-provisioned
/// environment is still shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Topology {
    pub env: String,
    pub observed_at: Timestamp,
    pub network: Option<Network>,
    pub load_balancer: Option<LoadBalancer>,
    /// The Auto Scaling groups, web first.
    pub groups: Vec<ScalingGroup>,
    /// The database the app uses (`notejam-<env>`, or the restored copy it was
    /// pointed at).
    pub database: Option<Database>,
    /// Other databases of the environment, such as `notejam-<env>-restore-<ts>`.
    pub other_databases: Vec<Database>,
    pub buckets: Vec<Bucket>,
    pub delivery: Option<Delivery>,
    pub backup_vault: Option<BackupVault>,
    pub alarms: Vec<Alarm>,
}

impl Topology {
    pub fn group(&self, tier: Tier) -> Option<&ScalingGroup> {
        self.groups.iter().find(|g| g.tier == tier)
    }

    pub fn alarms_firing(&self) -> impl Iterator<Item = &Alarm> {
        self.alarms.iter().filter(|a| a.state == AlarmState::Alarm)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub vpc_id: String,
    pub cidr: String,
    pub subnets: Vec<Subnet>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub id: String,
    pub az: String,
    pub cidr: String,
    pub public: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadBalancer {
    pub name: String,
    pub dns_name: String,
    /// `active`, `provisioning`, `failed`...
    pub state: String,
    pub healthy: u32,
    pub unhealthy: u32,
    pub targets: Vec<Target>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub instance_id: String,
    pub port: u16,
    pub health: TargetHealth,
    pub reason: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetHealth {
    Initial,
    Healthy,
    Unhealthy,
    Draining,
    Unused,
    Unavailable,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScalingGroup {
    pub tier: Tier,
    pub name: String,
    pub capacity: Capacity,
    pub instances: Vec<Instance>,
    /// Scaling activities not yet finished, newest first.
    pub activities: Vec<ScalingActivity>,
    /// The capacity remembered by `stop`, which `start` restores.
    pub stopped: Option<Capacity>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub state: InstanceState,
    pub health: Health,
    pub az: String,
    pub instance_type: String,
    pub launched: Option<Timestamp>,
    /// The application revision running on it, when known.
    pub revision: Option<String>,
}

/// The Auto Scaling lifecycle state, folded to what an operator acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceState {
    Pending,
    InService,
    Standby,
    Terminating,
    Terminated,
}

impl InstanceState {
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceState::Pending => "pending",
            InstanceState::InService => "in_service",
            InstanceState::Standby => "standby",
            InstanceState::Terminating => "terminating",
            InstanceState::Terminated => "terminated",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Healthy,
    Unhealthy,
    Unknown,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
            Health::Unknown => "unknown",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScalingActivity {
    pub id: String,
    pub description: String,
    pub status: ActivityStatus,
    pub progress: u8,
    pub started: Timestamp,
    pub ended: Option<Timestamp>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityStatus {
    InProgress,
    Successful,
    Failed,
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Database {
    pub id: String,
    /// `postgres`.
    pub engine: String,
    pub engine_version: String,
    pub class: String,
    /// RDS's own status word: `available`, `creating`, `backing-up`, `modifying`...
    pub status: String,
    pub multi_az: bool,
    pub allocated_gb: u32,
    pub endpoint: Option<String>,
    /// The newest instant a point-in-time restore can reach.
    pub latest_restorable: Option<Timestamp>,
    pub created: Option<Timestamp>,
}

impl Database {
    pub fn is_available(&self) -> bool {
        self.status == "available"
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    pub name: String,
    pub purpose: Option<BucketPurpose>,
}

/// The `Purpose` tag of the contract's buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BucketPurpose {
    Artifacts,
    Backups,
    AlbLogs,
}

impl BucketPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            BucketPurpose::Artifacts => "artifacts",
            BucketPurpose::Backups => "backups",
            BucketPurpose::AlbLogs => "alb-logs",
        }
    }

    pub fn parse(s: &str) -> Option<BucketPurpose> {
        [
            BucketPurpose::Artifacts,
            BucketPurpose::Backups,
            BucketPurpose::AlbLogs,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// CodeDeploy application, `notejam`.
    pub application: String,
    /// Deployment group, the environment's name.
    pub group: String,
    /// The canary's deployment group, `<env>-canary`, when the environment has one.
    #[serde(default)]
    pub canary_group: Option<String>,
    /// The deployment running now, if any.
    pub active_deployment: Option<String>,
    /// The revision of the last successful deployment.
    pub current_revision: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupVault {
    pub name: String,
    pub recovery_points: Option<u32>,
    pub plan: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    pub name: String,
    pub state: AlarmState,
    /// The console metric it watches, when it watches one the console charts.
    pub metric: Option<MetricKind>,
    pub threshold: Option<f64>,
    pub reason: String,
    pub updated: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}
