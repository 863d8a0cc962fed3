//! Elastic Load Balancing v2: the environment's ALB, its target groups and the
//! health of their targets.

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::{LoadBalancer as SdkLb, TargetHealthDescription};
use futures::future::try_join_all;

use super::contract;
use super::errors::{SdkResultExt, optional};
use crate::backend::Result;
use crate::domain::{LoadBalancer, Target, TargetHealth};

/// DescribeTags takes at most 20 ARNs per call.
const TAGS_BATCH: usize = 20;

/// What CloudWatch needs to find the balancer's metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BalancerRef {
    /// The `LoadBalancer` dimension: `app/<name>/<id>`.
    pub dimension: String,
    /// `TargetGroup` dimensions: `targetgroup/<name>/<id>`.
    pub target_groups: Vec<String>,
}

/// The environment's load balancer (by its tags), with target health. With
/// several, the one tagged `Tier = edge` wins, then the lowest name.
pub(crate) async fn load_balancer(
    client: &Client,
    env: &str,
) -> Result<Option<(BalancerRef, LoadBalancer)>> {
    let Some(lb) = find(client, env).await? else {
        return Ok(None);
    };
    let arn = lb.load_balancer_arn().unwrap_or_default().to_string();
    let mut tg_arns = Vec::new();
    let mut pages = client
        .describe_target_groups()
        .load_balancer_arn(&arn)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        // A balancer without listeners has no target groups; some endpoints say
        // so with TargetGroupNotFound instead of an empty list.
        let Some(page) = optional(page.aws("elbv2", "DescribeTargetGroups"))? else {
            break;
        };
        tg_arns.extend(
            page.target_groups()
                .iter()
                .filter_map(|t| t.target_group_arn().map(str::to_string)),
        );
    }
    tg_arns.sort();
    let healths = try_join_all(tg_arns.iter().map(|tg| async move {
        let out = client
            .describe_target_health()
            .target_group_arn(tg)
            .send()
            .await
            .aws("elbv2", "DescribeTargetHealth")?;
        Result::Ok(
            out.target_health_descriptions()
                .iter()
                .filter_map(target)
                .collect::<Vec<_>>(),
        )
    }))
    .await?;
    let mut targets: Vec<Target> = healths.into_iter().flatten().collect();
    targets.sort_by(|a, b| (&a.instance_id, a.port).cmp(&(&b.instance_id, b.port)));
    let healthy = targets
        .iter()
        .filter(|t| t.health == TargetHealth::Healthy)
        .count() as u32;
    let unhealthy = targets
        .iter()
        .filter(|t| t.health == TargetHealth::Unhealthy)
        .count() as u32;
    let reference = BalancerRef {
        dimension: arn_suffix(&arn, "loadbalancer/"),
        target_groups: tg_arns
            .iter()
            .map(|a| arn_suffix(a, "targetgroup/"))
            .collect(),
    };
    Ok(Some((
        reference,
        LoadBalancer {
            name: lb.load_balancer_name().unwrap_or_default().to_string(),
            dns_name: lb.dns_name().unwrap_or_default().to_string(),
            state: lb
                .state()
                .and_then(|s| s.code())
                .map(|c| c.as_str().to_string())
                .unwrap_or_else(|| "unknown".into()),
            healthy,
            unhealthy,
            targets,
        },
    )))
}

async fn find(client: &Client, env: &str) -> Result<Option<SdkLb>> {
    let mut all = Vec::new();
    let mut pages = client.describe_load_balancers().into_paginator().send();
    while let Some(page) = pages.next().await {
        all.extend(
            page.aws("elbv2", "DescribeLoadBalancers")?
                .load_balancers()
                .iter()
                .cloned(),
        );
    }
    let arns: Vec<String> = all
        .iter()
        .filter_map(|l| l.load_balancer_arn().map(str::to_string))
        .collect();
    let tagged = try_join_all(arns.chunks(TAGS_BATCH).map(|batch| async move {
        let out = client
            .describe_tags()
            .set_resource_arns(Some(batch.to_vec()))
            .send()
            .await
            .aws("elbv2", "DescribeTags")?;
        let mut mine = Vec::new();
        for d in out.tag_descriptions() {
            let pairs = d
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())));
            if contract::is_env_tagged(env, pairs.clone()) {
                let edge = contract::tag_value(pairs, contract::TAG_TIER) == Some("edge");
                mine.push((d.resource_arn().unwrap_or_default().to_string(), edge));
            }
        }
        Result::Ok(mine)
    }))
    .await?;
    let mut mine: Vec<(String, bool)> = tagged.into_iter().flatten().collect();
    mine.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let Some((arn, _)) = mine.into_iter().next() else {
        return Ok(None);
    };
    Ok(all
        .into_iter()
        .find(|l| l.load_balancer_arn() == Some(arn.as_str())))
}

fn target(d: &TargetHealthDescription) -> Option<Target> {
    let t = d.target()?;
    let health = d.target_health();
    Some(Target {
        instance_id: t.id()?.to_string(),
        port: t.port().and_then(|p| u16::try_from(p).ok()).unwrap_or(0),
        health: match health
            .and_then(|h| h.state())
            .map(|s| s.as_str())
            .unwrap_or_default()
        {
            "initial" => TargetHealth::Initial,
            "healthy" => TargetHealth::Healthy,
            "unhealthy" | "unhealthy.draining" => TargetHealth::Unhealthy,
            "draining" => TargetHealth::Draining,
            "unused" => TargetHealth::Unused,
            _ => TargetHealth::Unavailable,
        },
        reason: health.and_then(|h| {
            h.description()
                .map(str::to_string)
                .or_else(|| h.reason().map(|r| r.as_str().to_string()))
        }),
    })
}

/// CloudWatch's dimension value for a balancer or target group is the ARN's
/// resource part after `marker`'s prefix: `app/notejam-prod/50dc6c495c0c9188`.
fn arn_suffix(arn: &str, marker: &str) -> String {
    match arn.find(marker) {
        Some(i) if marker == "loadbalancer/" => arn[i + marker.len()..].to_string(),
        Some(i) => arn[i..].to_string(),
        None => arn.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_dimensions_come_from_arns() {
        assert_eq!(
            arn_suffix(
                "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/notejam-prod/50dc6c495c0c9188",
                "loadbalancer/"
            ),
            "app/notejam-prod/50dc6c495c0c9188"
        );
        assert_eq!(
            arn_suffix(
                "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067",
                "targetgroup/"
            ),
            "targetgroup/web/73e2d6bc24d8a067"
        );
    }
}
