//! CodeDeploy: the environment's deployment group, its deployments and their
//! per-instance lifecycle events.

use aws_sdk_codedeploy::Client;
use aws_sdk_codedeploy::types::{
    BundleType, DeploymentInfo, DeploymentStatus as SdkStatus, InstanceTarget,
    LifecycleEvent as SdkEvent, RevisionLocation, RevisionLocationType, S3Location, TimeRange,
};
use futures::future::try_join_all;

use super::contract::CODEDEPLOY_APPLICATION;
use super::errors::{SdkResultExt, optional};
use super::time;
use crate::backend::{BackendError, Result};
use crate::domain::{
    Delivery, Deployment, DeploymentCreator, DeploymentStatus, DeploymentTarget, InstanceCounts,
    LifecycleEvent, StepStatus, Timestamp,
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
        rollback_of: non_empty(rollback.and_then(|r| r.rollback_triggering_deployment_id())),
        rolled_back_by: non_empty(rollback.and_then(|r| r.rollback_deployment_id())),
        error,
        instances: InstanceCounts {
            pending: count(o.map(|o| o.pending())),
            in_progress: count(o.map(|o| o.in_progress())),
            succeeded: count(o.map(|o| o.succeeded())),
            failed: count(o.map(|o| o.failed())),
            skipped: count(o.map(|o| o.skipped())),
        },
    })
}

async fn list_ids(
    client: &Client,
    env: &str,
    since: Option<Timestamp>,
    active_only: bool,
) -> Result<Vec<String>> {
    let mut req = client
        .list_deployments()
        .application_name(CODEDEPLOY_APPLICATION)
        .deployment_group_name(env);
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

fn group_missing(e: BackendError, env: &str) -> BackendError {
    match e {
        BackendError::NotFound { .. } => BackendError::NotFound {
            what: "CodeDeploy deployment group",
            id: format!("{CODEDEPLOY_APPLICATION}/{env}"),
            choices: vec![],
        },
        other => other,
    }
}

/// The newest `limit` deployments of the environment's group, newest first.
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
        let ids = list_ids(client, env, since, false)
            .await
            .map_err(|e| group_missing(e, env))?;
        if ids.len() >= limit || since.is_none() {
            let mut all = batch_get(client, &ids).await?;
            all.truncate(limit);
            return Ok(all);
        }
    }
    unreachable!("the last window is unbounded")
}

/// The delivery summary: the group, its running deployment and the revision of its
/// last successful one. `None` when the group does not exist.
pub(crate) async fn delivery(client: &Client, env: &str) -> Result<Option<Delivery>> {
    let group = client
        .get_deployment_group()
        .application_name(CODEDEPLOY_APPLICATION)
        .deployment_group_name(env)
        .send();
    let (group, active) = tokio::join!(group, list_ids(client, env, None, true));
    let Some(group) = optional(group.aws("codedeploy", "GetDeploymentGroup"))? else {
        return Ok(None);
    };
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

pub(crate) async fn create(
    client: &Client,
    env: &str,
    bucket: &str,
    key: &str,
    description: &str,
) -> Result<String> {
    let revision = RevisionLocation::builder()
        .revision_type(RevisionLocationType::S3)
        .s3_location(
            S3Location::builder()
                .bucket(bucket)
                .key(key)
                .bundle_type(BundleType::Zip)
                .build(),
        )
        .build();
    let out = client
        .create_deployment()
        .application_name(CODEDEPLOY_APPLICATION)
        .deployment_group_name(env)
        .revision(revision)
        .description(description)
        .send()
        .await
        .aws("codedeploy", "CreateDeployment")
        .map_err(|e| group_missing(e, env))?;
    out.deployment_id().map(str::to_string).ok_or_else(|| {
        BackendError::Other("CreateDeployment answered without a deployment id".into())
    })
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
    }
}
