//! CodeDeploy application `notejam`, deployment group `<env>`, rolling back
//! on failure and on alarm.

use crate::eval::{attr, blocks};
use crate::rules::{ENV, Instance, Violation, missing, rendered};

pub fn check(instances: &[Instance]) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut app = false;
    let mut group = false;
    for i in instances {
        if i.is("aws_codedeploy_app") {
            app = true;
            match rendered(i, "name").as_deref() {
                Some("notejam") => {}
                other => out.push(i.violation(format!(
                    "name is {other:?}; the contract's application is \"notejam\""
                ))),
            }
        } else if i.is("aws_codedeploy_deployment_group") {
            group = true;
            out.extend(check_group(i));
        }
    }
    if !app {
        out.push(missing(
            "aws_codedeploy_app",
            "no CodeDeploy application \"notejam\" is defined",
        ));
    }
    if !group {
        out.push(missing(
            "aws_codedeploy_deployment_group",
            "no CodeDeploy deployment group is defined",
        ));
    }
    out
}

fn check_group(i: &Instance) -> Vec<Violation> {
    let mut out = Vec::new();
    let app_names = i
        .attr("app_name")
        .map(|e| i.ctx.resolve(e))
        .unwrap_or_default();
    if app_names.is_empty() || !app_names.iter().all(|v| v.as_str() == Some("notejam")) {
        let seen: Vec<String> = app_names.iter().map(|v| v.describe()).collect();
        out.push(i.violation(format!(
            "app_name must be \"notejam\" (found {})",
            if seen.is_empty() {
                "nothing".to_owned()
            } else {
                seen.join(", ")
            }
        )));
    }
    match rendered(i, "deployment_group_name") {
        Some(name) if name == ENV => {}
        other => out.push(i.violation(format!(
            "deployment_group_name is {other:?}; the contract names the group after the environment ({ENV:?})"
        ))),
    }

    let rollback = blocks(&i.resource.body, "auto_rollback_configuration");
    let enabled = rollback
        .first()
        .and_then(|b| attr(b, "enabled"))
        .map(|e| i.ctx.resolve(e).iter().all(|v| v.as_bool() == Some(true)))
        .unwrap_or(false);
    let events: Vec<String> = rollback
        .first()
        .and_then(|b| attr(b, "events"))
        .map(|e| match e {
            hcl::Expression::Array(items) => items.iter().map(|x| i.ctx.render(x)).collect(),
            other => vec![i.ctx.render(other)],
        })
        .unwrap_or_default();
    if !enabled {
        out.push(i.violation("auto_rollback_configuration is not enabled"));
    }
    for event in ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] {
        if !events.iter().any(|e| e == event) {
            out.push(i.violation(format!("does not roll back on {event}")));
        }
    }
    let alarms_enabled = blocks(&i.resource.body, "alarm_configuration")
        .first()
        .and_then(|b| attr(b, "enabled"))
        .map(|e| i.ctx.resolve(e).iter().all(|v| v.as_bool() == Some(true)))
        .unwrap_or(false);
    if !alarms_enabled {
        out.push(
            i.violation("alarm_configuration is not enabled, so alarms cannot stop a deployment"),
        );
    }
    out
}
