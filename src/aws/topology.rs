//! Assembling the environment's topology from every service at once.

use futures::future::try_join_all;

use super::autoscaling::GroupInfo;
use super::cloudwatch::MetricScope;
use super::rds::DbInfo;
use super::{
    AwsBackend, autoscaling, backup, cloudwatch, codedeploy, contract, ec2, elbv2, rds, s3, ssm,
};
use crate::backend::{BackendError, Result};
use crate::domain::{ScalingGroup, Tier, Topology};

/// The index of the database the app uses: the one whose endpoint the host
/// parameter names, else `notejam-<env>`.
pub(crate) fn app_database(env: &str, dbs: &[DbInfo], host: Option<&str>) -> Option<usize> {
    host.and_then(|h| {
        dbs.iter().position(|d| {
            d.database
                .endpoint
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(h))
        })
    })
    .or_else(|| {
        let id = contract::database_id(env);
        dbs.iter().position(|d| d.database.id == id)
    })
}

pub(crate) fn scope_of(
    env: &str,
    groups: &[GroupInfo],
    balancer: Option<&elbv2::BalancerRef>,
    dbs: &[DbInfo],
    host: Option<&str>,
) -> MetricScope {
    let group = |tier| {
        groups
            .iter()
            .find(|g| g.tier == tier)
            .map(|g| g.name.clone())
    };
    MetricScope {
        load_balancer: balancer.map(|b| b.dimension.clone()),
        target_group: balancer.and_then(|b| b.target_groups.first().cloned()),
        web_group: group(Tier::Web),
        bastion_group: group(Tier::Bastion),
        database: app_database(env, dbs, host).map(|i| dbs[i].database.id.clone()),
    }
}

/// The metric dimensions, from the cache or looked up with the few calls they need.
pub(crate) async fn scope(b: &AwsBackend) -> Result<MetricScope> {
    if let Some(s) = b.scope_cache.get() {
        return Ok(s);
    }
    let c = &b.clients;
    let env = b.env.as_str();
    let (groups, lb, dbs, runtime) = tokio::try_join!(
        autoscaling::groups(&c.autoscaling, env),
        elbv2::load_balancer(&c.elbv2, env),
        rds::databases(&c.rds, env),
        ssm::runtime(&c.ssm, env),
    )?;
    let s = scope_of(
        env,
        &groups,
        lb.as_ref().map(|l| &l.0),
        &dbs,
        runtime.database_host.as_deref(),
    );
    b.scope_cache.put(s.clone());
    Ok(s)
}

pub(crate) async fn build(b: &AwsBackend) -> Result<Topology> {
    let c = &b.clients;
    let env = b.env.as_str();
    let groups = async {
        let groups = autoscaling::groups(&c.autoscaling, env).await?;
        let ids: Vec<String> = groups
            .iter()
            .flat_map(|g| g.instances.iter().map(|i| i.id.clone()))
            .collect();
        let (launched, activities) = tokio::try_join!(
            ec2::launch_times(&c.ec2, &ids),
            try_join_all(
                groups
                    .iter()
                    .map(|g| autoscaling::activities_in_progress(&c.autoscaling, &g.name))
            ),
        )?;
        Ok::<_, BackendError>((groups, launched, activities))
    };
    let (
        network,
        (groups, launched, activities),
        lb,
        dbs,
        runtime,
        buckets,
        delivery,
        vault,
        alarms,
    ) = tokio::try_join!(
        ec2::network(&c.ec2, env),
        groups,
        elbv2::load_balancer(&c.elbv2, env),
        rds::databases(&c.rds, env),
        ssm::runtime(&c.ssm, env),
        s3::env_buckets(&c.s3, env, &b.region),
        codedeploy::delivery(&c.codedeploy, env),
        backup::vault(&c.backup, env),
        cloudwatch::describe_alarms(&c.cloudwatch, env),
    )?;
    let host = runtime.database_host.as_deref();
    let scope = scope_of(env, &groups, lb.as_ref().map(|l| &l.0), &dbs, host);
    b.scope_cache.put(scope.clone());
    b.bucket_cache.put(buckets.clone());

    let app = app_database(env, &dbs, host);
    let mut database = None;
    let mut other_databases = Vec::new();
    for (i, d) in dbs.into_iter().enumerate() {
        if Some(i) == app {
            database = Some(d.database);
        } else {
            other_databases.push(d.database);
        }
    }
    let groups = groups
        .into_iter()
        .zip(activities)
        .map(|(g, activities)| ScalingGroup {
            tier: g.tier,
            stopped: runtime.stopped.get(&g.tier).copied(),
            name: g.name,
            capacity: g.capacity,
            instances: g
                .instances
                .into_iter()
                .map(|mut i| {
                    i.launched = launched.get(&i.id).copied();
                    i
                })
                .collect(),
            activities,
        })
        .collect();
    Ok(Topology {
        env: env.to_string(),
        observed_at: chrono::Utc::now(),
        network,
        load_balancer: lb.map(|l| l.1),
        groups,
        database,
        other_databases,
        buckets,
        delivery,
        backup_vault: vault,
        alarms: cloudwatch::map_alarms(alarms, &scope),
    })
}
