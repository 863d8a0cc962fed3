//! `njtui deployments` and `njtui revisions`. A row is a release: the canary,
//! its bake, the fleet, its bake, with the stage it is at and its phase.

use serde::Serialize;

use crate::domain::{
    Deployment, DeploymentCreator, DeploymentTarget, Release, StageStatus, Timestamp, age,
    clock_label, duration_label,
};

use super::output::{Table, or_dash, print_json, write_stdout};
use super::{CliError, Context};

fn who(r: &Release) -> String {
    r.initiated_by.clone().unwrap_or_else(|| {
        match r.creator {
            DeploymentCreator::User => "user",
            DeploymentCreator::Autoscaling => "autoscaling",
            DeploymentCreator::Rollback => "rollback",
            DeploymentCreator::Other => "other",
        }
        .to_string()
    })
}

pub async fn list(ctx: &Context, limit: usize, json: bool) -> Result<(), CliError> {
    let releases = ctx.backend.releases(limit).await?;
    if json {
        return print_json(&releases);
    }
    let now = ctx.backend.now();
    let mut t = Table::new([
        "ID", "REVISION", "PHASE", "STAGE", "PIPELINE", "BY", "CREATED", "DURATION", "NOTE",
    ]);
    for r in &releases {
        t.row([
            r.id.clone(),
            r.revision.clone(),
            r.phase.as_str().to_string(),
            r.stage.as_str().to_string(),
            r.pipeline(now),
            who(r),
            format!(
                "{} ({} ago)",
                r.created.format("%Y-%m-%d %H:%M"),
                age(now, r.created)
            ),
            duration_label(r.completed.unwrap_or(now) - r.created),
            note(r),
        ]);
    }
    if t.is_empty() {
        return write_stdout("no deployments\n");
    }
    t.print()
}

/// Rollbacks, what it rolled back, and why it failed.
pub fn note(r: &Release) -> String {
    let mut parts = vec![];
    if let Some(of) = &r.rollback_of {
        parts.push(format!("rollback of {of}"));
    }
    if !r.rollbacks.is_empty() {
        let rbs: Vec<String> = r
            .rollbacks
            .iter()
            .map(|x| format!("{} ({}, {})", x.deployment, x.group, x.status.as_str()))
            .collect();
        parts.push(format!("rolled back by {}", rbs.join(", ")));
    }
    if let Some(e) = &r.error {
        parts.push(e.clone());
    }
    parts.join("; ")
}

#[derive(Serialize)]
struct DeploymentDetail<'a> {
    release: &'a Release,
    deployment: &'a Deployment,
    targets: &'a [DeploymentTarget],
}

fn when(t: Option<Timestamp>) -> String {
    or_dash(t.map(|t| t.format("%m-%d %H:%M:%S").to_string()))
}

pub async fn show(ctx: &Context, id: &str, json: bool) -> Result<(), CliError> {
    let (releases, deployments) =
        tokio::try_join!(ctx.backend.releases(25), ctx.backend.deployments(101))?;
    let not_found = || {
        CliError::invalid(
            crate::backend::BackendError::NotFound {
                what: "deployment",
                id: id.to_string(),
                choices: releases.iter().take(8).map(|r| r.id.clone()).collect(),
            }
            .to_string(),
        )
    };
    let release = releases
        .iter()
        .find(|r| r.contains(id))
        .ok_or_else(not_found)?;
    let shown = if deployments.iter().any(|d| d.id == id) {
        id
    } else {
        release.focus_deployment().ok_or_else(not_found)?
    };
    let deployment = deployments
        .iter()
        .find(|d| d.id == shown)
        .ok_or_else(not_found)?;
    let targets = ctx.backend.deployment_targets(shown).await?;
    if json {
        return print_json(&DeploymentDetail {
            release,
            deployment,
            targets: &targets,
        });
    }
    let now = ctx.backend.now();
    let mut out = format!(
        "release {} of {}: {} (stage {})\n  {}\n",
        release.id,
        release.revision,
        release.phase.as_str(),
        release.stage.as_str(),
        release.pipeline(now)
    );
    let n = note(release);
    if !n.is_empty() {
        out.push_str(&format!("  {n}\n"));
    }
    let mut stages = Table::new([
        "  STAGE",
        "STATUS",
        "GROUP",
        "DEPLOYMENT",
        "STARTED",
        "ENDED",
        "DETAIL",
    ]);
    for s in &release.stages {
        let detail = match (&s.bake, s.instances) {
            (Some(b), _) if s.status == StageStatus::InProgress => format!(
                "{} left of {}; {}",
                clock_label(b.remaining_at(now).unwrap_or(0)),
                clock_label(b.duration_secs),
                b.alarms_label()
            ),
            (Some(b), _) if !b.alarms.is_empty() => b.alarms_label(),
            (Some(b), _) => format!("{} min", b.duration_secs / 60),
            (None, Some(c)) => format!(
                "{}/{} instances done{}",
                c.succeeded + c.skipped,
                c.pending + c.in_progress + c.succeeded + c.failed + c.skipped,
                if c.failed > 0 {
                    format!(", {} failed", c.failed)
                } else {
                    String::new()
                }
            ),
            _ => String::new(),
        };
        stages.row([
            format!("  {}", s.stage.as_str()),
            s.status.as_str().to_string(),
            s.group.clone(),
            or_dash(s.deployment.clone()),
            when(s.started),
            when(s.ended),
            detail,
        ]);
    }
    out.push('\n');
    out.push_str(&stages.render());
    out.push_str(&format!(
        "\ndeployment {} of {} in {}: {}\n",
        deployment.id,
        deployment.revision,
        deployment.group,
        deployment.status.as_str()
    ));
    if let Some(e) = &deployment.error {
        out.push_str(&format!("  {e}\n"));
    }
    for target in &targets {
        out.push_str(&format!(
            "\n{}  {}\n",
            target.instance_id,
            target.status.as_str()
        ));
        let mut t = Table::new(["  EVENT", "STATUS", "DURATION", "DIAGNOSTIC"]);
        for e in &target.events {
            t.row([
                format!("  {}", e.name),
                e.status.as_str().to_string(),
                or_dash(
                    e.started
                        .zip(e.ended)
                        .map(|(s, end)| duration_label(end - s)),
                ),
                e.diagnostic.clone().unwrap_or_default(),
            ]);
        }
        out.push_str(&t.render());
    }
    write_stdout(&out)
}

pub async fn revisions(ctx: &Context, json: bool) -> Result<(), CliError> {
    let revisions = ctx.backend.revisions().await?;
    if json {
        return print_json(&revisions);
    }
    let now = ctx.backend.now();
    let mut t = Table::new(["REVISION", "CREATED", "SIZE"]);
    for r in &revisions {
        t.row([
            r.name.clone(),
            format!(
                "{} ({} ago)",
                r.created.format("%Y-%m-%d %H:%M"),
                age(now, r.created)
            ),
            or_dash(
                r.size_bytes
                    .map(|b| format!("{:.1}MiB", b as f64 / 1048576.0)),
            ),
        ]);
    }
    if t.is_empty() {
        return write_stdout("no revisions in the artifacts bucket\n");
    }
    t.print()
}
