//! Auto Scaling: the web and bastion groups, their instances and activities.

use aws_sdk_autoscaling::Client;
use aws_sdk_autoscaling::types::{Activity, Filter, Instance as AsgInstance};

use super::contract::{PROJECT, TAG_ENVIRONMENT, TAG_PROJECT, TAG_TIER};
use super::errors::SdkResultExt;
use super::time;
use crate::backend::Result;
use crate::domain::{
    ActivityStatus, Capacity, Health, Instance, InstanceState, ScalingActivity, Tier,
};

/// A group as Auto Scaling describes it, before launch times and activities join.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GroupInfo {
    pub tier: Tier,
    pub name: String,
    pub capacity: Capacity,
    pub instances: Vec<Instance>,
}

/// The environment's web and bastion groups, web first. Groups of the environment
/// with another `Tier` tag are not the console's to scale and are left out.
pub(crate) async fn groups(client: &Client, env: &str) -> Result<Vec<GroupInfo>> {
    let mut out = Vec::new();
    let mut pages = client
        .describe_auto_scaling_groups()
        .filters(
            Filter::builder()
                .name(format!("tag:{TAG_PROJECT}"))
                .values(PROJECT)
                .build(),
        )
        .filters(
            Filter::builder()
                .name(format!("tag:{TAG_ENVIRONMENT}"))
                .values(env)
                .build(),
        )
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for g in page
            .aws("autoscaling", "DescribeAutoScalingGroups")?
            .auto_scaling_groups()
        {
            let tags = g
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())));
            // The server-side filter already matched; checking again keeps a lax
            // endpoint from leaking another environment's groups.
            if !super::contract::is_env_tagged(env, tags.clone()) {
                continue;
            }
            let Some(tier) = super::contract::tag_value(tags, TAG_TIER)
                .and_then(|t| t.parse::<Tier>().ok())
                .filter(|t| t.is_scalable())
            else {
                continue;
            };
            let clamp = |v: Option<i32>| v.unwrap_or(0).max(0) as u32;
            let mut instances: Vec<Instance> = g.instances().iter().map(instance).collect();
            instances.sort_by(|a, b| a.id.cmp(&b.id));
            out.push(GroupInfo {
                tier,
                name: g.auto_scaling_group_name().unwrap_or_default().to_string(),
                capacity: Capacity {
                    min: clamp(g.min_size()),
                    desired: clamp(g.desired_capacity()),
                    max: clamp(g.max_size()),
                },
                instances,
            });
        }
    }
    out.sort_by(|a, b| (a.tier, &a.name).cmp(&(b.tier, &b.name)));
    Ok(out)
}

fn instance(i: &AsgInstance) -> Instance {
    Instance {
        id: i.instance_id().unwrap_or_default().to_string(),
        state: lifecycle(i.lifecycle_state().map(|s| s.as_str()).unwrap_or_default()),
        health: match i.health_status() {
            Some(h) if h.eq_ignore_ascii_case("healthy") => Health::Healthy,
            Some(h) if h.eq_ignore_ascii_case("unhealthy") => Health::Unhealthy,
            _ => Health::Unknown,
        },
        az: i.availability_zone().unwrap_or_default().to_string(),
        instance_type: i.instance_type().unwrap_or_default().to_string(),
        launched: None,
        revision: None,
    }
}

/// Folds Auto Scaling's two dozen lifecycle states (lifecycle hooks, warm pools,
/// detaching) into the five an operator acts on.
fn lifecycle(state: &str) -> InstanceState {
    match state {
        "InService" => InstanceState::InService,
        "Standby" | "EnteringStandby" => InstanceState::Standby,
        "Terminated" | "Detached" | "Warmed:Terminated" => InstanceState::Terminated,
        s if s.starts_with("Terminating")
            || s.starts_with("Detaching")
            || s.starts_with("Warmed:Terminating") =>
        {
            InstanceState::Terminating
        }
        _ => InstanceState::Pending,
    }
}

/// Activities of `group` still running, newest first. Auto Scaling lists
/// activities newest first, so paging stops at the first page holding a finished
/// one: older pages are weeks of history the console does not show.
pub(crate) async fn activities_in_progress(
    client: &Client,
    group: &str,
) -> Result<Vec<ScalingActivity>> {
    let mut out = Vec::new();
    let mut pages = client
        .describe_scaling_activities()
        .auto_scaling_group_name(group)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.aws("autoscaling", "DescribeScalingActivities")?;
        let mut saw_finished = false;
        for a in page.activities() {
            match activity(a) {
                Some(a) if a.status == ActivityStatus::InProgress => out.push(a),
                _ => saw_finished = true,
            }
        }
        if saw_finished {
            break;
        }
    }
    Ok(out)
}

fn activity(a: &Activity) -> Option<ScalingActivity> {
    let status = match a.status_code().map(|s| s.as_str()).unwrap_or_default() {
        "Successful" => ActivityStatus::Successful,
        "Failed" => ActivityStatus::Failed,
        "Cancelled" => ActivityStatus::Cancelled,
        _ => ActivityStatus::InProgress,
    };
    Some(ScalingActivity {
        id: a.activity_id()?.to_string(),
        description: a.description().unwrap_or_default().to_string(),
        status,
        progress: a.progress().unwrap_or(0).clamp(0, 100) as u8,
        started: time::opt(a.start_time())?,
        ended: time::opt(a.end_time()),
    })
}

pub(crate) async fn update_capacity(
    client: &Client,
    group: &str,
    capacity: Capacity,
) -> Result<()> {
    let as_i32 = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    client
        .update_auto_scaling_group()
        .auto_scaling_group_name(group)
        .min_size(as_i32(capacity.min))
        .desired_capacity(as_i32(capacity.desired))
        .max_size(as_i32(capacity.max))
        .send()
        .await
        .aws("autoscaling", "UpdateAutoScalingGroup")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_states_fold() {
        assert_eq!(lifecycle("InService"), InstanceState::InService);
        assert_eq!(lifecycle("Pending:Wait"), InstanceState::Pending);
        assert_eq!(lifecycle("Terminating:Proceed"), InstanceState::Terminating);
        assert_eq!(lifecycle("EnteringStandby"), InstanceState::Standby);
        assert_eq!(lifecycle("Detached"), InstanceState::Terminated);
        assert_eq!(lifecycle(""), InstanceState::Pending);
    }
}
