//! The AWS backend: one adapter per service, found through the naming contract
//! (design section 3), behind [`crate::backend::Backend`].
//!
//! # API calls per method
//!
//! The IAM policies `njtui-readonly` and `njtui-operator` are written from this
//! list; [`REQUIRED_ACTIONS`] is the same list as data.
//!
//! | method | calls |
//! | --- | --- |
//! | `identity` | sts:GetCallerIdentity |
//! | `topology` | ec2:DescribeVpcs, ec2:DescribeSubnets, autoscaling:DescribeAutoScalingGroups, ec2:DescribeInstances, autoscaling:DescribeScalingActivities, elasticloadbalancing:DescribeLoadBalancers, elasticloadbalancing:DescribeTags, elasticloadbalancing:DescribeTargetGroups, elasticloadbalancing:DescribeTargetHealth, rds:DescribeDBInstances, ssm:GetParameters, s3:ListAllMyBuckets (ListBuckets), s3:GetBucketTagging, codedeploy:GetDeploymentGroup, codedeploy:ListDeployments, codedeploy:BatchGetDeployments, backup:DescribeBackupVault, backup:ListBackupPlans, cloudwatch:DescribeAlarms |
//! | `metrics` | cloudwatch:GetMetricData, cloudwatch:DescribeAlarms; when the dimensions are not cached: autoscaling:DescribeAutoScalingGroups, elasticloadbalancing:DescribeLoadBalancers/DescribeTags/DescribeTargetGroups/DescribeTargetHealth, rds:DescribeDBInstances, ssm:GetParameters |
//! | `logs` | logs:FilterLogEvents |
//! | `follow_logs` | logs:DescribeLogGroups, logs:StartLiveTail; polling: logs:FilterLogEvents |
//! | `deployments` | codedeploy:ListDeployments (groups `<env>` and `<env>-canary`), codedeploy:BatchGetDeployments |
//! | `releases` | those of `deployments`, cloudwatch:DescribeAlarms (the two watched alarms) |
//! | `deployment_targets` | codedeploy:ListDeploymentTargets, codedeploy:BatchGetDeploymentTargets |
//! | `revisions` | s3:ListBucket (ListObjectsV2) on the artifacts bucket (+ the bucket discovery of `topology`) |
//! | `backups` | rds:DescribeDBInstances, ssm:GetParameters, rds:DescribeDBSnapshots, backup:ListRecoveryPointsByBackupVault |
//! | `set_capacity` | autoscaling:DescribeAutoScalingGroups, autoscaling:UpdateAutoScalingGroup |
//! | `remember_stopped` | ssm:PutParameter, ssm:DeleteParameter |
//! | `create_deployment` | s3:ListBucket, sts:GetCallerIdentity, codedeploy:CreateDeployment (authorised with codedeploy:GetApplicationRevision and codedeploy:GetDeploymentConfig, and s3:GetObject on the bundle for CodeDeploy) |
//! | `stop_deployment` | codedeploy:StopDeployment |
//! | `roll_back` | s3:ListBucket, sts:GetCallerIdentity, codedeploy:StopDeployment, codedeploy:CreateDeployment with `overrideAlarmConfiguration` (authorised with codedeploy:UpdateDeploymentGroup as well) |
//! | `create_backup` | rds:DescribeDBInstances, ssm:GetParameters; manual: rds:CreateDBSnapshot, rds:AddTagsToResource; recovery point: backup:ListBackupPlans, backup:ListBackupSelections, backup:StartBackupJob, iam:PassRole |
//! | `cancel_backup` | backup:StopBackupJob |
//! | `restore` | rds:DescribeDBInstances, ssm:GetParameters, rds:DescribeDBSnapshots, rds:RestoreDBInstanceFromDBSnapshot or rds:RestoreDBInstanceToPointInTime, rds:AddTagsToResource; recovery point: backup:ListBackupPlans, backup:ListBackupSelections, backup:GetRecoveryPointRestoreMetadata, backup:StartRestoreJob, iam:PassRole |
//! | `point_app_at` | rds:DescribeDBInstances, ssm:PutParameter |
//! | `provision` | none itself: Terraform runs with the operator's credentials |
//! | `record_audit` | logs:PutLogEvents, logs:CreateLogStream |
//!
//! # Behaviour on an emulator
//!
//! With `--endpoint-url` every client talks to that endpoint (S3 path-style).
//! Operations the endpoint lacks degrade instead of failing: no AWS Backup
//! recovery points, no percentile latency (the other series still chart), and
//! live log following polls FilterLogEvents instead of StartLiveTail.

mod autoscaling;
mod backup;
mod cache;
mod clients;
mod cloudwatch;
mod codedeploy;
mod config;
mod contract;
mod ec2;
mod elbv2;
mod errors;
mod log_follow;
mod logs;
mod rds;
mod recovery;
mod releases;
pub mod retry;
mod s3;
mod ssm;
mod sts;
mod time;
mod topology;

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, ConfigLoader};

pub use clients::Clients;
pub use log_follow::FollowTiming;

use crate::backend::{Backend, BackendError, LineSink, LogFollower, Result};
use crate::domain::{
    AuditRecord, BackendKind, BackupKind, BackupOverview, Bucket, BucketPurpose, Capacity,
    Deployment, DeploymentTarget, Identity, LogEvent, LogQuery, LogSource, MetricsSnapshot,
    PlanSummary, ProvisionMode, Release, RestoreSource, RevisionInfo, RollbackRequest, Tier,
    TimeRange, Timestamp, Topology,
};

/// Every IAM action the backend's calls need, and whether it changes anything.
/// `njtui-readonly` needs the `false` ones, `njtui-operator` all of them.
pub const REQUIRED_ACTIONS: &[(&str, bool)] = &[
    ("sts:GetCallerIdentity", false),
    ("ec2:DescribeVpcs", false),
    ("ec2:DescribeSubnets", false),
    ("ec2:DescribeInstances", false),
    ("autoscaling:DescribeAutoScalingGroups", false),
    ("autoscaling:DescribeScalingActivities", false),
    ("elasticloadbalancing:DescribeLoadBalancers", false),
    ("elasticloadbalancing:DescribeTags", false),
    ("elasticloadbalancing:DescribeTargetGroups", false),
    ("elasticloadbalancing:DescribeTargetHealth", false),
    ("rds:DescribeDBInstances", false),
    ("rds:DescribeDBSnapshots", false),
    ("s3:ListAllMyBuckets", false),
    ("s3:GetBucketTagging", false),
    ("s3:ListBucket", false),
    ("codedeploy:GetDeploymentGroup", false),
    ("codedeploy:ListDeployments", false),
    ("codedeploy:BatchGetDeployments", false),
    ("codedeploy:ListDeploymentTargets", false),
    ("codedeploy:BatchGetDeploymentTargets", false),
    ("cloudwatch:GetMetricData", false),
    ("cloudwatch:DescribeAlarms", false),
    ("logs:FilterLogEvents", false),
    ("logs:DescribeLogGroups", false),
    ("logs:StartLiveTail", false),
    ("backup:DescribeBackupVault", false),
    ("backup:ListBackupPlans", false),
    ("backup:ListRecoveryPointsByBackupVault", false),
    ("ssm:GetParameters", false),
    ("autoscaling:UpdateAutoScalingGroup", true),
    ("ssm:PutParameter", true),
    ("ssm:DeleteParameter", true),
    ("codedeploy:CreateDeployment", true),
    // Not called directly: CreateDeployment of an S3 revision registers it.
    ("codedeploy:RegisterApplicationRevision", true),
    ("codedeploy:GetApplicationRevision", true),
    ("codedeploy:GetDeploymentConfig", true),
    ("codedeploy:StopDeployment", true),
    // Not called directly: `roll_back`'s CreateDeployment with
    // overrideAlarmConfiguration is authorised with it, on the `<env>` and
    // `<env>-canary` groups.
    ("codedeploy:UpdateDeploymentGroup", true),
    ("rds:CreateDBSnapshot", true),
    ("rds:AddTagsToResource", true),
    ("rds:RestoreDBInstanceFromDBSnapshot", true),
    ("rds:RestoreDBInstanceToPointInTime", true),
    ("backup:ListBackupSelections", true),
    ("backup:StartBackupJob", true),
    ("backup:StopBackupJob", true),
    ("backup:GetRecoveryPointRestoreMetadata", true),
    ("backup:StartRestoreJob", true),
    ("iam:PassRole", true),
    ("logs:CreateLogStream", true),
    ("logs:PutLogEvents", true),
];

/// How the console reaches an AWS environment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsOptions {
    /// The environment's name, e.g. `prod`.
    pub env: String,
    /// A profile of `~/.aws/config` (`--profile`); else the standard chain.
    pub profile: Option<String>,
    /// `--region`; else `AWS_REGION`, the profile, or the instance's own region.
    pub region: Option<String>,
    /// `--endpoint-url`: every client pointed at an AWS emulator.
    pub endpoint_url: Option<String>,
    /// Terraform root of the environment; default `provision/envs/<env>` under the
    /// working directory.
    pub terraform_dir: Option<PathBuf>,
}

/// How long discovered names are trusted between topology refreshes.
const DISCOVERY_TTL: Duration = Duration::from_secs(300);

/// An AWS environment. `Send + Sync`; share it in an `Arc`.
pub struct AwsBackend {
    pub(crate) env: String,
    pub(crate) region: String,
    pub(crate) clients: Clients,
    profile: Option<String>,
    /// An emulator behind `--endpoint-url`: no live tail to try.
    emulator: bool,
    terraform_dir: PathBuf,
    identity: Mutex<Option<Identity>>,
    pub(crate) scope_cache: cache::TtlCache<cloudwatch::MetricScope>,
    pub(crate) bucket_cache: cache::TtlCache<Vec<Bucket>>,
    percentiles_unsupported: AtomicBool,
    follow_timing: FollowTiming,
}

impl std::fmt::Debug for AwsBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsBackend")
            .field("env", &self.env)
            .field("region", &self.region)
            .field("emulator", &self.emulator)
            .finish_non_exhaustive()
    }
}

impl AwsBackend {
    /// Loads the configuration (credentials stay lazy: nothing here waits for the
    /// network, except an IMDS region lookup bounded to a second when no region is
    /// configured anywhere).
    pub async fn connect(opts: AwsOptions) -> anyhow::Result<AwsBackend> {
        Self::connect_with(opts, aws_config::defaults(BehaviorVersion::latest())).await
    }

    /// [`connect`](Self::connect) from a prepared loader, e.g. one with explicit
    /// credentials.
    pub async fn connect_with(
        opts: AwsOptions,
        loader: ConfigLoader,
    ) -> anyhow::Result<AwsBackend> {
        if opts.env.trim().is_empty() {
            anyhow::bail!("no environment name given");
        }
        let config = config::load(&opts, loader).await?;
        let region = config.region().map(|r| r.to_string()).unwrap_or_default();
        let mut backend = Self::from_clients(&opts.env, &region, Clients::new(&config));
        backend.emulator = opts.endpoint_url.is_some();
        backend.profile = opts.profile.clone();
        if let Some(dir) = opts.terraform_dir {
            backend.terraform_dir = dir;
        }
        Ok(backend)
    }

    /// A backend over ready-made clients (tests build them with mocked responses).
    pub fn from_clients(env: &str, region: &str, clients: Clients) -> AwsBackend {
        AwsBackend {
            env: env.to_string(),
            region: region.to_string(),
            clients,
            profile: None,
            emulator: false,
            terraform_dir: PathBuf::from("provision/envs").join(env),
            identity: Mutex::new(None),
            scope_cache: cache::TtlCache::new(DISCOVERY_TTL),
            bucket_cache: cache::TtlCache::new(DISCOVERY_TTL),
            percentiles_unsupported: AtomicBool::new(false),
            follow_timing: FollowTiming::default(),
        }
    }

    /// Polling pace of `follow_logs` (default every 2 s, backing off to 30 s).
    pub fn with_follow_timing(mut self, timing: FollowTiming) -> AwsBackend {
        self.follow_timing = timing;
        self
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn terraform_dir(&self) -> &std::path::Path {
        &self.terraform_dir
    }

    async fn buckets(&self) -> Result<Vec<Bucket>> {
        if let Some(b) = self.bucket_cache.get() {
            return Ok(b);
        }
        let b = s3::env_buckets(&self.clients.s3, &self.env, &self.region).await?;
        self.bucket_cache.put(b.clone());
        Ok(b)
    }

    async fn artifacts_bucket(&self) -> Result<String> {
        let buckets = self.buckets().await?;
        buckets
            .iter()
            .find(|b| b.purpose == Some(BucketPurpose::Artifacts))
            .map(|b| b.name.clone())
            .ok_or_else(|| BackendError::NotFound {
                what: "artifacts bucket (tag Purpose=artifacts) of environment",
                id: self.env.clone(),
                choices: vec![],
            })
    }

    async fn principal(&self) -> Result<String> {
        let cached = self
            .identity
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|i| i.principal.clone());
        match cached {
            Some(p) => Ok(p),
            None => Ok(self.identity().await?.principal),
        }
    }
}

fn check_scalable(tier: Tier) -> Result<()> {
    if tier.is_scalable() {
        Ok(())
    } else {
        Err(BackendError::Invalid(format!(
            "tier '{tier}' is not an Auto Scaling group; scalable tiers: {}",
            Tier::SCALABLE.map(Tier::as_str).join(", ")
        )))
    }
}

#[async_trait]
impl Backend for AwsBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Aws
    }

    fn env(&self) -> &str {
        &self.env
    }

    fn now(&self) -> Timestamp {
        chrono::Utc::now()
    }

    async fn identity(&self) -> Result<Identity> {
        let id = sts::caller_identity(&self.clients.sts, &self.region).await?;
        *self.identity.lock().unwrap_or_else(|p| p.into_inner()) = Some(id.clone());
        Ok(id)
    }

    async fn topology(&self) -> Result<Topology> {
        topology::build(self).await
    }

    async fn metrics(&self, range: TimeRange) -> Result<MetricsSnapshot> {
        let cw = &self.clients.cloudwatch;
        let (scope, alarms) = tokio::try_join!(
            topology::scope(self),
            cloudwatch::describe_alarms(cw, &self.env)
        )?;
        let thresholds = cloudwatch::thresholds(&cloudwatch::map_alarms(alarms, &scope));
        cloudwatch::metrics(
            cw,
            &scope,
            range,
            self.now(),
            &thresholds,
            &self.percentiles_unsupported,
        )
        .await
    }

    async fn logs(&self, query: &LogQuery) -> Result<Vec<LogEvent>> {
        if let (Some(s), Some(u)) = (query.since, query.until)
            && s >= u
        {
            return Err(BackendError::Invalid(format!(
                "the log window is empty: since {s} is not before until {u}"
            )));
        }
        logs::history(&self.clients.logs, &self.env, query).await
    }

    async fn follow_logs(&self, sources: &[LogSource]) -> Result<Box<dyn LogFollower>> {
        let mut sources = if sources.is_empty() {
            LogSource::ALL.to_vec()
        } else {
            sources.to_vec()
        };
        sources.sort();
        sources.dedup();
        log_follow::start(
            self.clients.logs.clone(),
            self.env.clone(),
            sources,
            self.now(),
            !self.emulator,
            self.follow_timing,
        )
        .await
    }

    async fn deployments(&self, limit: usize) -> Result<Vec<Deployment>> {
        codedeploy::deployments(&self.clients.codedeploy, &self.env, limit, self.now()).await
    }

    async fn releases(&self, limit: usize) -> Result<Vec<Release>> {
        if limit == 0 {
            return Ok(vec![]);
        }
        // A release has up to four deployments of its own (two stages, two
        // rollbacks): enough history for `limit` of them, and one more to tell
        // whether the oldest was followed.
        let cw = &self.clients.cloudwatch;
        let (deployments, alarms) = tokio::join!(
            self.deployments(limit * 4 + 1),
            cloudwatch::watched_alarms(cw, &self.env)
        );
        let alarms = alarms.unwrap_or_else(|e| {
            tracing::warn!("watched alarms of {}: {e}", self.env);
            vec![]
        });
        let mut releases = releases::group(&self.env, &deployments?, &alarms, self.now());
        releases.truncate(limit);
        Ok(releases)
    }

    async fn deployment_targets(&self, deployment_id: &str) -> Result<Vec<DeploymentTarget>> {
        if deployment_id.trim().is_empty() {
            return Err(BackendError::Invalid("no deployment id given".into()));
        }
        codedeploy::targets(&self.clients.codedeploy, deployment_id.trim()).await
    }

    async fn revisions(&self) -> Result<Vec<RevisionInfo>> {
        let bucket = self.artifacts_bucket().await?;
        let bundles = s3::bundles(&self.clients.s3, &bucket).await?;
        Ok(bundles.into_iter().map(|b| b.info).collect())
    }

    async fn backups(&self) -> Result<BackupOverview> {
        recovery::overview(self).await
    }

    async fn set_capacity(&self, tier: Tier, capacity: Capacity) -> Result<()> {
        check_scalable(tier)?;
        if !(capacity.min <= capacity.desired && capacity.desired <= capacity.max) {
            return Err(BackendError::Invalid(format!(
                "capacity must satisfy min <= desired <= max; got min {}, desired {}, max {}",
                capacity.min, capacity.desired, capacity.max
            )));
        }
        let groups = autoscaling::groups(&self.clients.autoscaling, &self.env).await?;
        let Some(group) = groups.iter().find(|g| g.tier == tier) else {
            return Err(BackendError::NotFound {
                what: "Auto Scaling group of tier",
                id: tier.to_string(),
                choices: groups.iter().map(|g| g.tier.to_string()).collect(),
            });
        };
        autoscaling::update_capacity(&self.clients.autoscaling, &group.name, capacity).await
    }

    async fn remember_stopped(&self, tier: Tier, capacity: Option<Capacity>) -> Result<()> {
        check_scalable(tier)?;
        ssm::put_stopped(&self.clients.ssm, &self.env, tier, capacity).await
    }

    async fn create_deployment(&self, revision: &str, description: &str) -> Result<String> {
        let revision = revision.trim();
        let bucket = self.artifacts_bucket().await?;
        let bundle = s3::find_bundle(s3::bundles(&self.clients.s3, &bucket).await?, revision)?;
        let principal = self.principal().await?;
        let description = codedeploy::describe(description, &principal);
        codedeploy::create(
            &self.clients.codedeploy,
            &self.env,
            &codedeploy::Bundle {
                bucket: &bucket,
                key: revision,
                etag: bundle.etag.as_deref(),
            },
            &description,
            false,
        )
        .await
    }

    async fn roll_back(&self, request: &RollbackRequest) -> Result<Vec<String>> {
        let revision = request.revision.trim();
        let bucket = self.artifacts_bucket().await?;
        let bundle = s3::find_bundle(s3::bundles(&self.clients.s3, &bucket).await?, revision)?;
        let principal = self.principal().await?;
        let request = RollbackRequest {
            revision: revision.to_string(),
            ..request.clone()
        };
        codedeploy::roll_back(
            &self.clients.codedeploy,
            &self.env,
            &bucket,
            bundle.etag.as_deref(),
            &request,
            &principal,
        )
        .await
    }

    async fn stop_deployment(&self, deployment_id: &str, rollback: bool) -> Result<()> {
        if deployment_id.trim().is_empty() {
            return Err(BackendError::Invalid("no deployment id given".into()));
        }
        codedeploy::stop(&self.clients.codedeploy, deployment_id.trim(), rollback).await
    }

    async fn create_backup(&self, kind: BackupKind) -> Result<String> {
        recovery::create_backup(self, kind).await
    }

    async fn cancel_backup(&self, backup_id: &str) -> Result<()> {
        recovery::cancel_backup(self, backup_id).await
    }

    async fn restore(&self, source: &RestoreSource, target_id: &str) -> Result<()> {
        recovery::restore(self, source, target_id).await
    }

    async fn point_app_at(&self, database_id: &str) -> Result<()> {
        recovery::point_app_at(self, database_id).await
    }

    async fn provision(&self, mode: ProvisionMode, output: LineSink) -> Result<PlanSummary> {
        let mut tf =
            crate::terraform::Terraform::new(&self.terraform_dir).env("AWS_REGION", &self.region);
        if let Some(p) = &self.profile {
            tf = tf.env("AWS_PROFILE", p);
        }
        tf.run(mode, output).await
    }

    async fn record_audit(&self, record: &AuditRecord) -> Result<()> {
        logs::put_audit(&self.clients.logs, &self.env, record).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_actions_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for (action, _) in REQUIRED_ACTIONS {
            assert!(seen.insert(*action), "{action} listed twice");
            let (service, name) = action.split_once(':').expect("service:Action");
            assert!(
                !service.is_empty() && name.starts_with(|c: char| c.is_ascii_uppercase()),
                "{action}"
            );
        }
        // Reads never need a mutating action.
        assert!(
            REQUIRED_ACTIONS
                .iter()
                .any(|(a, m)| *a == "cloudwatch:GetMetricData" && !m)
        );
        assert!(
            REQUIRED_ACTIONS
                .iter()
                .any(|(a, m)| *a == "autoscaling:UpdateAutoScalingGroup" && *m)
        );
    }

    #[test]
    fn the_backend_is_shareable() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<AwsBackend>();
    }
}
