//! EC2: the environment's VPC and subnets, and instance launch times.

use std::collections::HashMap;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, Tag};
use futures::future::try_join_all;

use super::contract::{PROJECT, TAG_ENVIRONMENT, TAG_PROJECT, TAG_TIER};
use super::errors::SdkResultExt;
use super::time;
use crate::backend::Result;
use crate::domain::{Network, Subnet, Timestamp};

/// Instance ids per DescribeInstances call; the `instance-id` filter takes up to
/// 200 values, and a filter (unlike `InstanceIds`) does not fail the whole call
/// when one instance has just disappeared.
const INSTANCE_BATCH: usize = 100;

fn env_filters(env: &str) -> Vec<Filter> {
    vec![
        Filter::builder()
            .name(format!("tag:{TAG_PROJECT}"))
            .values(PROJECT)
            .build(),
        Filter::builder()
            .name(format!("tag:{TAG_ENVIRONMENT}"))
            .values(env)
            .build(),
    ]
}

fn tag_pairs(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter()
        .filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())))
}

/// The environment's VPC (by tags) and its subnets. With several tagged VPCs (a
/// mistake in the account) the one with the lowest id is shown, deterministically.
pub(crate) async fn network(client: &Client, env: &str) -> Result<Option<Network>> {
    let mut vpcs = Vec::new();
    let mut pages = client
        .describe_vpcs()
        .set_filters(Some(env_filters(env)))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        vpcs.extend(page.aws("ec2", "DescribeVpcs")?.vpcs().iter().cloned());
    }
    vpcs.sort_by(|a, b| a.vpc_id().cmp(&b.vpc_id()));
    let Some(vpc) = vpcs.into_iter().next() else {
        return Ok(None);
    };
    let vpc_id = vpc.vpc_id().unwrap_or_default().to_string();
    let mut subnets = Vec::new();
    let mut pages = client
        .describe_subnets()
        .filters(Filter::builder().name("vpc-id").values(&vpc_id).build())
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for s in page.aws("ec2", "DescribeSubnets")?.subnets() {
            subnets.push(Subnet {
                id: s.subnet_id().unwrap_or_default().to_string(),
                az: s.availability_zone().unwrap_or_default().to_string(),
                cidr: s.cidr_block().unwrap_or_default().to_string(),
                public: is_public(s.map_public_ip_on_launch(), s.tags()),
            });
        }
    }
    subnets.sort_by(|a, b| (&a.az, &a.cidr).cmp(&(&b.az, &b.cidr)));
    Ok(Some(Network {
        vpc_id,
        cidr: vpc.cidr_block().unwrap_or_default().to_string(),
        subnets,
    }))
}

/// A subnet is public when it maps public IPs on launch, or when its tags say so:
/// `Tier = edge` (where the ALB and bastion live) or a `Name` containing
/// "public". The route table is the ground truth, but reading it costs a call
/// per refresh for a fact that never changes; the contract's tags carry it.
fn is_public(map_public_ip: Option<bool>, tags: &[Tag]) -> bool {
    if map_public_ip == Some(true) {
        return true;
    }
    tag_pairs(tags).any(|(k, v)| {
        (k == TAG_TIER && v == "edge") || (k == "Name" && v.to_ascii_lowercase().contains("public"))
    })
}

/// Launch times of `ids`, in concurrent batches. Instances EC2 no longer knows are
/// simply absent from the map.
pub(crate) async fn launch_times(
    client: &Client,
    ids: &[String],
) -> Result<HashMap<String, Timestamp>> {
    let batches = ids.chunks(INSTANCE_BATCH).map(|batch| async move {
        let mut found = Vec::new();
        let mut pages = client
            .describe_instances()
            .filters(
                Filter::builder()
                    .name("instance-id")
                    .set_values(Some(batch.to_vec()))
                    .build(),
            )
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.aws("ec2", "DescribeInstances")?;
            for r in page.reservations() {
                for i in r.instances() {
                    if let (Some(id), Some(t)) = (i.instance_id(), time::opt(i.launch_time())) {
                        found.push((id.to_string(), t));
                    }
                }
            }
        }
        Result::Ok(found)
    });
    Ok(try_join_all(batches).await?.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> Tag {
        Tag::builder().key(k).value(v).build()
    }

    #[test]
    fn public_subnets_by_flag_or_tags() {
        assert!(is_public(Some(true), &[]));
        assert!(!is_public(Some(false), &[]));
        assert!(!is_public(None, &[tag(TAG_TIER, "web")]));
        assert!(is_public(None, &[tag(TAG_TIER, "edge")]));
        assert!(is_public(None, &[tag("Name", "notejam-prod-Public-a")]));
        assert!(!is_public(None, &[tag("Name", "notejam-prod-private-a")]));
    }
}
