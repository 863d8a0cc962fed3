//! CodeDeploy: the environment's two deployment groups (the fleet `<env>` and
//! the canary `<env>-canary`), their deployments and their per-instance
//! lifecycle events, and the rollback that overrides the alarm configuration.

use std::time::Duration;

use aws_sdk_codedeploy::Client;
use aws_sdk_codedeploy::types::{
    AlarmConfiguration, BundleType, DeploymentInfo, DeploymentStatus as SdkStatus, InstanceTarget,
    LifecycleEvent as SdkEvent, RevisionLocation, RevisionLocationType, S3Location, TimeRange,
};
use futures::future::try_join_all;

use super::contract::CODEDEPLOY_APPLICATION;
use super::errors::{SdkResultExt, optional};
use super::time;
use crate::backend::{BackendError, Result};
use crate::domain::{
    Delivery, Deployment, DeploymentCreator, DeploymentStatus, DeploymentTarget, GroupKind,
    InstanceCounts, LifecycleEvent, ROLLBACK_OF, RollbackRequest, StepStatus, Timestamp,
};

/// BatchGetDeployments and BatchGetDeploymentTargets take at most 25 ids.
const BATCH: usize = 25;

/// How far back `deployments` looks before widening: ListDeployments does not
/// promise an order, so the newest `limit` are found by narrowing on create time
/// and widening until enough are in the window (the last window is unbounded).
const WINDOWS_DAYS: [Option<i64>; 5] = [Some(1), Some(7), Some(30), Some(365), None];

/// Marks who asked for a deployment in its description, which CodeDeploy keeps
/// and shows in the console; read back into `Deployment::initiated_by`.
const REQUESTED_BY: &str = "requested by ";

/// A rollback created right after StopDeployment may find the group still busy
/// (DeploymentLimitExceededException): it is tried again this often, this many
/// times.
const BUSY_RETRY: Duration = Duration::from_secs(2);
const BUSY_ATTEMPTS: u32 = 15;

fn status(s: Option<&SdkStatus>) -> DeploymentStatus {
    match s.map(|s| s.as_str()).unwrap_or_default() {
        "Queued" => DeploymentStatus::Queued,
        "InProgress" => DeploymentStatus::InProgress,
        "Baking" => DeploymentStatus::Baking,
        "Ready" => DeploymentStatus::Ready,
        "Succeeded" => DeploymentStatus::Succeeded,
        "Failed" => DeploymentStatus::Failed,
        "Stopped" => DeploymentStatus::Stopped,
        _ => DeploymentStatus::Created,
    }
}

fn step(s: &str) -> StepStatus {
    match s {
        "Pending" | "Ready" => StepStatus::Pending,
        "InProgress" => StepStatus::InProgress,
        "Succeeded" => StepStatus::Succeeded,
        "Failed" => StepStatus::Failed,
        "Skipped" => StepStatus::Skipped,
        _ => StepStatus::Unknown,
    }
}

/// The description CodeDeploy stores: the operator's text and who asked.
pub(crate) fn describe(description: &str, principal: &str) -> String {
    let description = description.trim();
    if description.contains(principal) {
        description.to_string()
    } else if description.is_empty() {
        format!("njtui: {REQUESTED_BY}{principal}")
    } else {
        format!("{description} ({REQUESTED_BY}{principal})")
    }
}

fn requester(description: &str) -> Option<String> {
    let rest = &description[description.rfind(REQUESTED_BY)? + REQUESTED_BY.len()..];
    let who: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ')')
        .collect();
    (!who.is_empty()).then_some(who)
}

/// The deployment a description names after `Rollback of ` (or `Rollback of
/// release `): CodeDeploy's `d-` and nine characters, or the UUID an emulator
/// gives its deployments.
fn rollback_target(description: &str) -> Option<String> {
    let lower = description.to_ascii_lowercase();
    let at = lower.find(&ROLLBACK_OF.to_ascii_lowercase())? + ROLLBACK_OF.len();
    let rest = description[at..].trim_start_matches("release ");
    let id: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let codedeploy = id.len() > 2 && id.starts_with("d-");
    let uuid = id.len() == 36
        && id.matches('-').count() == 4
        && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    (codedeploy || uuid).then_some(id)
}

fn revision_name(r: Option<&RevisionLocation>) -> String {
    let Some(r) = r else {
        return "unknown".into();
    };
    if let Some(s3) = r.s3_location() {
        return s3.key().unwrap_or("unknown").to_string();
    }
    if let Some(gh) = r.git_hub_location() {
        return gh.commit_id().unwrap_or("unknown").to_string();
    }
    "unknown".into()
}

pub(crate) fn deployment(d: &DeploymentInfo) -> Option<Deployment> {
    let creator = match d.creator().map(|c| c.as_str()).unwrap_or_default() {
        "user" => DeploymentCreator::User,
        "autoscaling" | "autoscalingTermination" => DeploymentCreator::Autoscaling,
        "codeDeployRollback" | "CloudFormationRollback" => DeploymentCreator::Rollback,
        _ => DeploymentCreator::Other,
    };
    let rollback = d.rollback_info();
    let o = d.deployment_overview();
    let count = |v: Option<i64>| v.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32;
    let error = d
        .error_information()
        .and_then(|e| match (e.code().map(|c| c.as_str()), e.message()) {
            (Some(c), Some(m)) => Some(format!("{c}: {m}")),
            (None, Some(m)) => Some(m.to_string()),
            (Some(c), None) => Some(c.to_string()),
            (None, None) => None,
        })
        .or_else(|| {
            rollback
                .and_then(|r| r.rollback_message())
                .map(str::to_string)
        })
        .filter(|e| !e.is_empty());
    let non_empty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
    Some(Deployment {
        id: d.deployment_id()?.to_string(),
        status: status(d.status()),
        revision: revision_name(d.revision()),
        creator,
        initiated_by: d.description().and_then(requester),
        created: time::opt(d.create_time())?,
        completed: time::opt(d.complete_time()),
        rollback_of: non_empty(rollback.and_then(|r| r.rollback_triggering_deployment_id()))
            .or_else(|| d.description().and_then(rollback_target)),
        rolled_back_by: non_empty(rollback.and_then(|r| r.rollback_deployment_id())),
        error,
        instances: InstanceCounts {
            pending: count(o.map(|o| o.pending())),
            in_progress: count(o.map(|o| o.in_progress())),
            succeeded: count(o.map(|o| o.succeeded())),
            failed: count(o.map(|o| o.failed())),
            skipped: count(o.map(|o| o.skipped())),
        },
        group: d.deployment_group_name().unwrap_or_default().to_string(),
        ignores_alarms: d
            .override_alarm_configuration()
            .is_some_and(|a| !a.enabled()),
    })
}

async fn list_ids(
    client: &Client,
    group: &str,
    since: Option<Timestamp>,
    active_only: bool,
) -> Result<Vec<String>> {
    let mut req = client
        .list_deployments()
        .application_name(CODEDEPLOY_APPLICATION)
        .deployment_group_name(group);
    if let Some(since) = since {
        req = req.create_time_range(TimeRange::builder().start(time::to_sdk(since)).build());
    }
    if active_only {
        for s in [
            SdkStatus::Created,
            SdkStatus::Queued,
            SdkStatus::InProgress,
            SdkStatus::Baking,
            SdkStatus::Ready,
        ] {
            req = req.include_only_statuses(s);
        }
    }
    let mut ids = Vec::new();
    let mut pages = req.into_paginator().send();
    while let Some(page) = pages.next().await {
        ids.extend(
            page.aws("codedeploy", "ListDeployments")?
                .deployments()
                .iter()
                .cloned(),
        );
    }
    Ok(ids)
}

pub(crate) async fn batch_get(client: &Client, ids: &[String]) -> Result<Vec<Deployment>> {
    let batches = try_join_all(ids.chunks(BATCH).map(|b| async move {
        let out = client
            .batch_get_deployments()
            .set_deployment_ids(Some(b.to_vec()))
            .send()
            .await
            .aws("codedeploy", "BatchGetDeployments")?;
        Result::Ok(
            out.deployments_info()
                .iter()
                .filter_map(deployment)
                .collect::<Vec<_>>(),
        )
    }))
    .await?;
    let mut all: Vec<Deployment> = batches.into_iter().flatten().collect();
    all.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| b.id.cmp(&a.id)));
    Ok(all)
}

fn group_missing(e: BackendError, group: &str) -> BackendError {
    match e {
        BackendError::NotFound { .. } => BackendError::NotFound {
            what: "CodeDeploy deployment group",
            id: format!("{CODEDEPLOY_APPLICATION}/{group}"),
            choices: vec![],
        },
        other => other,
    }
}

/// The ids of both groups' deployments since `since`: the fleet's must exist;
/// an environment without a canary group yet has no canary deployments.
async fn env_ids(
    client: &Client,
    env: &str,
    since: Option<Timestamp>,
    active_only: bool,
) -> Result<Vec<String>> {
    let fleet_group = GroupKind::Fleet.group_name(env);
    let canary_group = GroupKind::Canary.group_name(env);
    let (fleet, canary) = tokio::join!(
        list_ids(client, &fleet_group, since, active_only),
        list_ids(client, &canary_group, since, active_only)
    );
    let mut ids = fleet.map_err(|e| group_missing(e, &fleet_group))?;
    ids.extend(optional(canary)?.unwrap_or_default());
    Ok(ids)
}

/// The newest `limit` deployments of the environment's two groups, newest first.
pub(crate) async fn deployments(
    client: &Client,
    env: &str,
    limit: usize,
    now: Timestamp,
) -> Result<Vec<Deployment>> {
    if limit == 0 {
        return Ok(vec![]);
    }
    for days in WINDOWS_DAYS {
        let since = days.map(|d| now - chrono::Duration::days(d));
        let ids = env_ids(client, env, since, false).await?;
        if ids.len() >= limit || since.is_none() {
            let mut all = batch_get(client, &ids).await?;
            all.truncate(limit);
            return Ok(all);
        }
    }
    unreachable!("the last window is unbounded")
}

/// The delivery summary: the groups, the running deployment and the revision of
/// the fleet's last successful one. `None` when the fleet's group does not exist.
pub(crate) async fn delivery(client: &Client, env: &str) -> Result<Option<Delivery>> {
    let get = |group: String| {
        client
            .get_deployment_group()
            .application_name(CODEDEPLOY_APPLICATION)
            .deployment_group_name(group)
            .send()
    };
    let (group, canary, active) = tokio::join!(
        get(GroupKind::Fleet.group_name(env)),
        get(GroupKind::Canary.group_name(env)),
        env_ids(client, env, None, true)
    );
    let Some(group) = optional(group.aws("codedeploy", "GetDeploymentGroup"))? else {
        return Ok(None);
    };
    let canary_group = optional(canary.aws("codedeploy", "GetDeploymentGroup"))?
        .and_then(|c| c.deployment_group_info().cloned())
        .and_then(|i| i.deployment_group_name().map(str::to_string));
    let info = group.deployment_group_info();
    let last_ok = info
        .and_then(|i| i.last_successful_deployment())
        .and_then(|l| l.deployment_id())
        .filter(|id| !id.is_empty());
    let current_revision = match last_ok {
        Some(id) => batch_get(client, &[id.to_string()])
            .await?
            .first()
            .map(|d| d.revision.clone()),
        None => None,
    };
    let active = match optional(active)? {
        Some(ids) if !ids.is_empty() => {
            batch_get(client, &ids).await?.first().map(|d| d.id.clone())
        }
        _ => None,
    };
    Ok(Some(Delivery {
        application: CODEDEPLOY_APPLICATION.to_string(),
        group: env.to_string(),
        canary_group,
        active_deployment: active,
        current_revision,
    }))
}

fn deployment_missing(e: BackendError, id: &str) -> BackendError {
    match e {
        BackendError::NotFound { .. } => BackendError::NotFound {
            what: "deployment",
            id: id.to_string(),
            choices: vec![],
        },
        // CodeDeploy rejects a malformed id before looking it up.
        BackendError::Api { code, .. } if code == "InvalidDeploymentIdException" => {
            BackendError::NotFound {
                what: "deployment",
                id: id.to_string(),
                choices: vec![],
            }
        }
        other => other,
    }
}

/// Every instance of a deployment with its lifecycle events, by instance id.
pub(crate) async fn targets(client: &Client, deployment_id: &str) -> Result<Vec<DeploymentTarget>> {
    let mut ids = Vec::new();
    // The SDK has no paginator for this operation: follow nextToken by hand.
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_deployment_targets()
            .deployment_id(deployment_id)
            .set_next_token(token.take())
            .send()
            .await
            .aws("codedeploy", "ListDeploymentTargets")
            .map_err(|e| deployment_missing(e, deployment_id))?;
        ids.extend(page.target_ids().iter().cloned());
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    let batches = try_join_all(ids.chunks(BATCH).map(|b| async move {
        let out = client
            .batch_get_deployment_targets()
            .deployment_id(deployment_id)
            .set_target_ids(Some(b.to_vec()))
            .send()
            .await
            .aws("codedeploy", "BatchGetDeploymentTargets")
            .map_err(|e| deployment_missing(e, deployment_id))?;
        Result::Ok(
            out.deployment_targets()
                .iter()
                .filter_map(|t| t.instance_target())
                .filter_map(target)
                .collect::<Vec<_>>(),
        )
    }))
    .await?;
    let mut all: Vec<DeploymentTarget> = batches.into_iter().flatten().collect();
    all.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    Ok(all)
}

fn target(t: &InstanceTarget) -> Option<DeploymentTarget> {
    Some(DeploymentTarget {
        instance_id: t.target_id()?.to_string(),
        status: step(t.status().map(|s| s.as_str()).unwrap_or_default()),
        events: t.lifecycle_events().iter().filter_map(event).collect(),
    })
}

fn event(e: &SdkEvent) -> Option<LifecycleEvent> {
    let diagnostic = e.diagnostics().and_then(|d| {
        let mut parts = Vec::new();
        if let Some(c) = d.error_code() {
            parts.push(c.as_str().to_string());
        }
        if let Some(s) = d.script_name().filter(|s| !s.is_empty()) {
            parts.push(format!("script {s}"));
        }
        if let Some(m) = d.message().filter(|m| !m.is_empty()) {
            parts.push(m.to_string());
        }
        let mut text = parts.join(": ");
        if let Some(tail) = d.log_tail().map(str::trim).filter(|t| !t.is_empty()) {
            text.push('\n');
            text.push_str(tail);
        }
        (!text.is_empty()).then_some(text)
    });
    Some(LifecycleEvent {
        name: e.lifecycle_event_name()?.to_string(),
        status: step(e.status().map(|s| s.as_str()).unwrap_or_default()),
        started: time::opt(e.start_time()),
        ended: time::opt(e.end_time()),
        diagnostic,
    })
}

/// A bundle in the artifacts bucket, pinned to the eTag of the bytes the
/// operator picked when the listing gave one: should the object change, CodeDeploy
/// fails the deployment rather than deploy other bytes.
pub(crate) struct Bundle<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub etag: Option<&'a str>,
}

/// CreateDeployment of `bundle` to `group`; with `alarms_off`, the group's alarm
/// configuration is overridden with monitoring disabled for this deployment (the
/// rollback of a release whose alarm is still in ALARM; the caller needs
/// codedeploy:UpdateDeploymentGroup for it).
pub(crate) async fn create(
    client: &Client,
    group: &str,
    bundle: &Bundle<'_>,
    description: &str,
    alarms_off: bool,
) -> Result<String> {
    let revision = RevisionLocation::builder()
        .revision_type(RevisionLocationType::S3)
        .s3_location(
            S3Location::builder()
                .bucket(bundle.bucket)
                .key(bundle.key)
                .set_e_tag(bundle.etag.map(str::to_string))
                .bundle_type(BundleType::Zip)
                .build(),
        )
        .build();
    let mut req = client
        .create_deployment()
        .application_name(CODEDEPLOY_APPLICATION)
        .deployment_group_name(group)
        .revision(revision)
        .description(description);
    if alarms_off {
        req = req.override_alarm_configuration(
            AlarmConfiguration::builder()
                .enabled(false)
                .ignore_poll_alarm_failure(false)
                .build(),
        );
    }
    let out = req
        .send()
        .await
        .aws("codedeploy", "CreateDeployment")
        .map_err(|e| group_missing(e, group))?;
    out.deployment_id().map(str::to_string).ok_or_else(|| {
        BackendError::Other("CreateDeployment answered without a deployment id".into())
    })
}

/// Stops what runs, then creates each group's rollback deployment (pinned to
/// `etag`) with the alarm monitoring overridden off; a group still busy with the stopped
/// deployment is tried again for up to half a minute.
pub(crate) async fn roll_back(
    client: &Client,
    env: &str,
    bucket: &str,
    etag: Option<&str>,
    request: &RollbackRequest,
    principal: &str,
) -> Result<Vec<String>> {
    let bundle = Bundle {
        bucket,
        key: &request.revision,
        etag,
    };
    if request.targets.is_empty() {
        return Err(BackendError::Invalid(
            "a rollback needs at least one deployment group".into(),
        ));
    }
    for id in &request.stop {
        match stop(client, id, false).await {
            Ok(()) => {}
            // Ended meanwhile: nothing left to stop.
            Err(BackendError::Invalid(m)) if m.contains("already completed") => {}
            Err(e) => return Err(e),
        }
    }
    let mut ids = Vec::new();
    for target in &request.targets {
        let group = target.group.group_name(env);
        let description = describe(&request.description_for(target), principal);
        let mut attempt = 1;
        let id = loop {
            match create(client, &group, &bundle, &description, true).await {
                Err(BackendError::Api { code, .. })
                    if code == "DeploymentLimitExceededException" && attempt < BUSY_ATTEMPTS =>
                {
                    attempt += 1;
                    tokio::time::sleep(BUSY_RETRY).await;
                }
                other => break other?,
            }
        };
        ids.push(id);
    }
    Ok(ids)
}

pub(crate) async fn stop(client: &Client, deployment_id: &str, rollback: bool) -> Result<()> {
    let r = client
        .stop_deployment()
        .deployment_id(deployment_id)
        .auto_rollback_enabled(rollback)
        .send()
        .await
        .aws("codedeploy", "StopDeployment");
    match r {
        Ok(_) => Ok(()),
        Err(BackendError::Api { code, .. }) if code == "DeploymentAlreadyCompletedException" => {
            Err(BackendError::Invalid(format!(
                "deployment {deployment_id} has already completed; nothing to stop"
            )))
        }
        Err(e) => Err(deployment_missing(e, deployment_id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RollbackTarget;

    #[test]
    fn the_requester_round_trips_through_the_description() {
        let d = describe("deploy notejam-42.zip", "arn:aws:iam::1:user/ana");
        assert_eq!(
            d,
            "deploy notejam-42.zip (requested by arn:aws:iam::1:user/ana)"
        );
        assert_eq!(requester(&d).as_deref(), Some("arn:aws:iam::1:user/ana"));
        assert_eq!(requester(&describe("", "ana")).as_deref(), Some("ana"));
        assert_eq!(describe("by ana", "ana"), "by ana");
        assert_eq!(requester("a plain description"), None);
    }

    #[test]
    fn a_rollback_names_what_it_rolls_back_in_its_description() {
        let request = |of: Option<&str>, description: &str| RollbackRequest {
            revision: "notejam/1.zip".into(),
            stop: vec![],
            targets: vec![RollbackTarget {
                group: GroupKind::Fleet,
                rollback_of: of.map(str::to_string),
            }],
            description: description.into(),
        };
        let r = request(Some("d-ABC123XYZ"), "to notejam/1.zip");
        let d = r.description_for(&r.targets[0]);
        assert_eq!(d, "Rollback of d-ABC123XYZ: to notejam/1.zip");
        let again = request(Some("d-ABC123XYZ"), &d);
        assert_eq!(again.description_for(&again.targets[0]), d);
        assert_eq!(
            rollback_target(&describe(&d, "ana")).as_deref(),
            Some("d-ABC123XYZ")
        );
        assert_eq!(
            rollback_target("rollback of release d-Q1 (r2) to r1").as_deref(),
            Some("d-Q1")
        );
        assert_eq!(rollback_target("Rollback of everything"), None);
        let uuid = "0f6d6b9e-2c1a-4f7e-9a51-7c3b2d1e0a99";
        assert_eq!(
            rollback_target(&format!("Rollback of {uuid}: x")).as_deref(),
            Some(uuid)
        );
        assert_eq!(rollback_target("deploy 1.0"), None);
        let none = request(None, "x");
        assert_eq!(none.description_for(&none.targets[0]), "x");
    }

    #[test]
    fn a_deployment_without_fields_maps_to_defaults() {
        assert!(deployment(&DeploymentInfo::builder().build()).is_none());
        let d = deployment(
            &DeploymentInfo::builder()
                .deployment_id("d-1")
                .create_time(aws_smithy_types::DateTime::from_secs(1_767_225_600))
                .build(),
        )
        .unwrap();
        assert_eq!(d.status, DeploymentStatus::Created);
        assert_eq!(d.revision, "unknown");
        assert_eq!(d.instances, InstanceCounts::default());
        assert_eq!((d.error, d.rollback_of, d.initiated_by), (None, None, None));
        assert_eq!((d.group.as_str(), d.ignores_alarms), ("", false));
    }
}
