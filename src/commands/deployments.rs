//! `njtui deployments` and `njtui revisions`.

use serde::Serialize;

use crate::domain::{Deployment, DeploymentTarget, age, duration_label};

use super::output::{Table, or_dash, print_json, write_stdout};
use super::{CliError, Context};

pub async fn list(ctx: &Context, limit: usize, json: bool) -> Result<(), CliError> {
    let deployments = ctx.backend.deployments(limit).await?;
    if json {
        return print_json(&deployments);
    }
    let now = ctx.backend.now();
    let mut t = Table::new([
        "ID", "STATUS", "REVISION", "BY", "CREATED", "DURATION", "NOTE",
    ]);
    for d in &deployments {
        t.row([
            d.id.clone(),
            d.status.as_str().to_string(),
            d.revision.clone(),
            d.initiated_by
                .clone()
                .unwrap_or_else(|| format!("{:?}", d.creator).to_lowercase()),
            format!(
                "{} ({} ago)",
                d.created.format("%Y-%m-%d %H:%M"),
                age(now, d.created)
            ),
            duration_label(d.duration(now)),
            note(d),
        ]);
    }
    if t.is_empty() {
        return write_stdout("no deployments\n");
    }
    t.print()
}

fn note(d: &Deployment) -> String {
    let mut parts = vec![];
    if let Some(of) = &d.rollback_of {
        parts.push(format!("rollback of {of}"));
    }
    if let Some(by) = &d.rolled_back_by {
        parts.push(format!("rolled back by {by}"));
    }
    if let Some(e) = &d.error {
        parts.push(e.clone());
    }
    parts.join("; ")
}

#[derive(Serialize)]
struct DeploymentDetail<'a> {
    deployment: &'a Deployment,
    targets: &'a [DeploymentTarget],
}

pub async fn show(ctx: &Context, id: &str, json: bool) -> Result<(), CliError> {
    let deployments = ctx.backend.deployments(100).await?;
    let deployment = deployments.iter().find(|d| d.id == id).ok_or_else(|| {
        CliError::invalid(
            crate::backend::BackendError::NotFound {
                what: "deployment",
                id: id.to_string(),
                choices: deployments.iter().take(8).map(|d| d.id.clone()).collect(),
            }
            .to_string(),
        )
    })?;
    let targets = ctx.backend.deployment_targets(id).await?;
    if json {
        return print_json(&DeploymentDetail {
            deployment,
            targets: &targets,
        });
    }
    let mut out = format!(
        "deployment {} of {}: {}\n",
        deployment.id,
        deployment.revision,
        deployment.status.as_str()
    );
    let n = note(deployment);
    if !n.is_empty() {
        out.push_str(&format!("  {n}\n"));
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
