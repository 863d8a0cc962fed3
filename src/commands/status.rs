//! `njtui status`: the topology in one screen of text, or JSON.

use serde::Serialize;

use crate::domain::{
    Alarm, AlarmState, Health, Identity, InstanceState, Release, ReleasePhase, Stage, Timestamp,
    Topology, age,
};

use super::output::{Table, or_dash, print_json, write_stdout};
use super::{CliError, Context};

/// The `status --json` document (see docs/cli.md). Field names are an interface.
#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub env: String,
    pub backend: &'static str,
    pub observed_at: Timestamp,
    pub identity: Option<Identity>,
    pub tiers: Vec<TierStatus>,
    pub database: Option<DatabaseStatus>,
    pub load_balancer: Option<LoadBalancerStatus>,
    pub alarms: Vec<AlarmStatus>,
    pub active_deployment: Option<String>,
    /// The release on its way, baking included (when no deployment runs).
    pub active_release: Option<ActiveRelease>,
    pub current_revision: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ActiveRelease {
    pub id: String,
    pub revision: String,
    pub phase: ReleasePhase,
    pub stage: Stage,
    /// `canary ✓ → bake 4:12 left (alarms OK) → fleet → bake`
    pub pipeline: String,
}

#[derive(Debug, Serialize)]
pub struct TierStatus {
    pub name: String,
    pub group: String,
    pub desired: u32,
    pub min: u32,
    pub max: u32,
    pub instances: Vec<InstanceStatus>,
}

#[derive(Debug, Serialize)]
pub struct InstanceStatus {
    pub id: String,
    pub state: InstanceState,
    pub health: Health,
    pub az: String,
    pub instance_type: String,
    pub revision: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DatabaseStatus {
    pub id: String,
    pub engine: String,
    pub engine_version: String,
    pub status: String,
    pub class: String,
    pub multi_az: bool,
    pub endpoint: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LoadBalancerStatus {
    pub name: String,
    pub dns_name: String,
    pub state: String,
    pub healthy: u32,
    pub unhealthy: u32,
}

#[derive(Debug, Serialize)]
pub struct AlarmStatus {
    pub name: String,
    pub state: AlarmState,
    pub reason: String,
}

impl StatusReport {
    pub fn new(
        topology: &Topology,
        releases: &[Release],
        backend: &'static str,
        identity: Option<Identity>,
        now: Timestamp,
    ) -> Self {
        StatusReport {
            env: topology.env.clone(),
            backend,
            observed_at: topology.observed_at,
            identity,
            tiers: topology
                .groups
                .iter()
                .map(|g| TierStatus {
                    name: g.tier.as_str().to_string(),
                    group: g.name.clone(),
                    desired: g.capacity.desired,
                    min: g.capacity.min,
                    max: g.capacity.max,
                    instances: g
                        .instances
                        .iter()
                        .map(|i| InstanceStatus {
                            id: i.id.clone(),
                            state: i.state,
                            health: i.health,
                            az: i.az.clone(),
                            instance_type: i.instance_type.clone(),
                            revision: i.revision.clone(),
                        })
                        .collect(),
                })
                .collect(),
            database: topology.database.as_ref().map(|d| DatabaseStatus {
                id: d.id.clone(),
                engine: d.engine.clone(),
                engine_version: d.engine_version.clone(),
                status: d.status.clone(),
                class: d.class.clone(),
                multi_az: d.multi_az,
                endpoint: d.endpoint.clone(),
            }),
            load_balancer: topology
                .load_balancer
                .as_ref()
                .map(|lb| LoadBalancerStatus {
                    name: lb.name.clone(),
                    dns_name: lb.dns_name.clone(),
                    state: lb.state.clone(),
                    healthy: lb.healthy,
                    unhealthy: lb.unhealthy,
                }),
            alarms: topology.alarms.iter().map(alarm_status).collect(),
            active_deployment: topology
                .delivery
                .as_ref()
                .and_then(|d| d.active_deployment.clone()),
            active_release: releases
                .iter()
                .find(|r| r.is_active())
                .map(|r| ActiveRelease {
                    id: r.id.clone(),
                    revision: r.revision.clone(),
                    phase: r.phase,
                    stage: r.stage,
                    pipeline: r.pipeline(now),
                }),
            current_revision: topology
                .delivery
                .as_ref()
                .and_then(|d| d.current_revision.clone()),
        }
    }
}

fn alarm_status(a: &Alarm) -> AlarmStatus {
    AlarmStatus {
        name: a.name.clone(),
        state: a.state,
        reason: a.reason.clone(),
    }
}

pub async fn run(ctx: &Context, json: bool) -> Result<(), CliError> {
    let backend = ctx.backend.as_ref();
    // Identity is shown, not needed: a failure to get it must not hide the status.
    let (topology, releases, identity) =
        tokio::join!(backend.topology(), backend.releases(5), backend.identity());
    let topology = topology?;
    let releases = releases?;
    let now = backend.now();
    let report = StatusReport::new(
        &topology,
        &releases,
        backend.kind().as_str(),
        identity.ok(),
        now,
    );
    if json {
        return print_json(&report);
    }
    write_stdout(&render(&report, &topology, now))
}

fn render(report: &StatusReport, topology: &Topology, now: Timestamp) -> String {
    let mut out = format!(
        "env {} ({}){}\n",
        report.env,
        report.backend,
        report
            .identity
            .as_ref()
            .map(|i| format!(" · {} · {}", i.region, i.principal))
            .unwrap_or_default()
    );
    match &report.load_balancer {
        Some(lb) => out.push_str(&format!(
            "load balancer  {} {}  {} healthy, {} unhealthy  {}\n",
            lb.name, lb.state, lb.healthy, lb.unhealthy, lb.dns_name
        )),
        None => out.push_str("load balancer  none found\n"),
    }
    match &report.database {
        Some(db) => out.push_str(&format!(
            "database       {} {} {} {}{} {}\n",
            db.id,
            db.engine,
            db.engine_version,
            db.class,
            if db.multi_az { " multi-az" } else { "" },
            db.status
        )),
        None => out.push_str("database       none found\n"),
    }
    let on_its_way = match (&report.active_release, &report.active_deployment) {
        (Some(r), _) => format!(
            "release {} of {} {}: {}",
            r.id,
            r.revision,
            r.phase.as_str().replace('_', " "),
            r.pipeline
        ),
        (None, Some(d)) => format!("deployment {d} in progress"),
        (None, None) => "nothing on its way".into(),
    };
    out.push_str(&format!(
        "delivery       current {} · {on_its_way}\n",
        or_dash(report.current_revision.as_ref()),
    ));
    let firing: Vec<_> = topology.alarms_firing().map(|a| a.name.as_str()).collect();
    out.push_str(&format!(
        "alarms         {}\n",
        if firing.is_empty() {
            format!("{} OK", topology.alarms.len())
        } else {
            format!("IN ALARM: {}", firing.join(", "))
        }
    ));
    for group in &topology.groups {
        let c = group.capacity;
        out.push_str(&format!(
            "\n{} ({})  desired {} · min {} · max {}{}\n",
            group.tier,
            group.name,
            c.desired,
            c.min,
            c.max,
            group
                .stopped
                .map(|s| format!(" · stopped (start restores {})", s.desired))
                .unwrap_or_default()
        ));
        for a in &group.activities {
            out.push_str(&format!(
                "  activity: {} ({}%)\n",
                a.description, a.progress
            ));
        }
        let mut t = Table::new([
            "  INSTANCE",
            "STATE",
            "HEALTH",
            "AZ",
            "TYPE",
            "AGE",
            "REVISION",
        ]);
        for i in &group.instances {
            t.row([
                format!("  {}", i.id),
                i.state.as_str().to_string(),
                i.health.as_str().to_string(),
                i.az.clone(),
                i.instance_type.clone(),
                or_dash(i.launched.map(|l| age(now, l))),
                or_dash(i.revision.as_ref()),
            ]);
        }
        if t.is_empty() {
            out.push_str("  no instances\n");
        } else {
            out.push_str(&t.render());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Backend;
    use crate::sim::SimBackend;

    async fn report(s: &SimBackend) -> (StatusReport, String) {
        let topology = s.topology().await.unwrap();
        let releases = s.releases(5).await.unwrap();
        let report = StatusReport::new(&topology, &releases, "sim", None, s.now());
        let text = render(&report, &topology, s.now());
        (report, text)
    }

    #[tokio::test]
    async fn a_baking_release_is_shown_on_its_way() {
        let s = crate::sim::tests::sim(41, crate::sim::tests::NIGHT);
        let (quiet, text) = report(&s).await;
        assert!(quiet.active_release.is_none());
        assert!(text.contains("nothing on its way"), "{text}");
        let newest = s.revisions().await.unwrap()[0].name.clone();
        let id = s.create_deployment(&newest, "test").await.unwrap();
        let mut baking = None;
        for _ in 0..30 {
            s.advance(chrono::Duration::minutes(1));
            let (r, text) = report(&s).await;
            if r.active_release.as_ref().map(|a| a.phase) == Some(ReleasePhase::Baking) {
                baking = Some((r, text));
                break;
            }
        }
        let (r, text) = baking.expect("the release never baked");
        // No deployment runs while it bakes, yet the release is on its way.
        assert_eq!(r.active_deployment, None);
        let a = r.active_release.unwrap();
        assert_eq!(
            (a.id.as_str(), a.revision.as_str()),
            (id.as_str(), newest.as_str())
        );
        assert_eq!(a.stage, Stage::CanaryBake);
        let line = text.lines().find(|l| l.starts_with("delivery")).unwrap();
        assert!(
            line.contains(&format!(
                "release {id} of {newest} baking: canary ✓ → bake "
            )),
            "{line}"
        );
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(
            (json["phase"].as_str(), json["stage"].as_str()),
            (Some("baking"), Some("canary_bake"))
        );
    }
}
