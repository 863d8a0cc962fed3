//! CodeDeploy application `notejam` with two deployment groups per
//! environment: the fleet `<env>` and the canary `<env>-canary`, both
//! rolling back on failure and on alarm, with alarms. The canary group
//! selects instances by ONE tag set (AND) of `Project = notejam`,
//! `Environment = <env>` and `Canary = true`, and no Auto Scaling group or
//! launch template sets `Canary` (every instance would be a canary).

use std::collections::BTreeSet;

use crate::eval::{attr, blocks};
use crate::rules::{ENV, Instance, Violation, missing, rendered};

/// The tag the pipeline sets to "true" on the instance it deploys to first.
pub const CANARY_TAG: &str = "Canary";

fn canary_group_name() -> String {
    format!("{ENV}-canary")
}

pub fn check(instances: &[Instance]) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut app = false;
    let mut fleet = false;
    let mut canary = false;
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
            match rendered(i, "deployment_group_name") {
                Some(name) if name == ENV => fleet = true,
                Some(name) if name == canary_group_name() => {
                    canary = true;
                    out.extend(check_canary(i));
                }
                other => out.push(i.violation(format!(
                    "deployment_group_name is {other:?}; the contract names the groups after the environment ({ENV:?}) and its canary ({:?})",
                    canary_group_name()
                ))),
            }
            out.extend(check_group(i));
        } else if i.is("aws_autoscaling_group") || i.is("aws_launch_template") {
            out.extend(check_no_canary_tag(i));
        }
    }
    if !app {
        out.push(missing(
            "aws_codedeploy_app",
            "no CodeDeploy application \"notejam\" is defined",
        ));
    }
    if !fleet {
        out.push(missing(
            "aws_codedeploy_deployment_group",
            format!("no CodeDeploy deployment group {ENV:?} (the fleet) is defined"),
        ));
    }
    if !canary {
        out.push(missing(
            "aws_codedeploy_deployment_group",
            format!(
                "no CodeDeploy deployment group {:?} (the canary) is defined",
                canary_group_name()
            ),
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

    let rollback = blocks(&i.resource.body, "auto_rollback_configuration");
    let enabled = rollback
        .first()
        .and_then(|b| attr(b, "enabled"))
        .map(|e| i.ctx.resolve(e).iter().all(|v| v.as_bool() == Some(true)))
        .unwrap_or(false);
    let events: Vec<String> = rollback
        .first()
        .and_then(|b| attr(b, "events"))
        .map(|e| i.ctx.strings(e))
        .unwrap_or_default();
    if !enabled {
        out.push(i.violation("auto_rollback_configuration is not enabled"));
    }
    for event in ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] {
        if !events.iter().any(|e| e == event) {
            out.push(i.violation(format!("does not roll back on {event}")));
        }
    }
    let alarm_config = blocks(&i.resource.body, "alarm_configuration");
    let alarms_enabled = alarm_config
        .first()
        .and_then(|b| attr(b, "enabled"))
        .map(|e| i.ctx.resolve(e).iter().all(|v| v.as_bool() == Some(true)))
        .unwrap_or(false);
    if !alarms_enabled {
        out.push(
            i.violation("alarm_configuration is not enabled, so alarms cannot stop a deployment"),
        );
    } else {
        let alarms = alarm_config
            .first()
            .and_then(|b| attr(b, "alarms"))
            .map(|e| i.ctx.strings(e))
            .unwrap_or_default();
        if alarms.is_empty() {
            out.push(i.violation(
                "alarm_configuration lists no alarms, so no alarm can stop a deployment",
            ));
        }
    }
    out
}

fn check_canary(i: &Instance) -> Vec<Violation> {
    let mut out = Vec::new();
    let body = &i.resource.body;
    if i.attr("autoscaling_groups").is_some() {
        out.push(i.violation(
            "the canary group sets autoscaling_groups, which adds every instance of those groups: it must select by tags only",
        ));
    }
    if !blocks(body, "ec2_tag_filter").is_empty() {
        out.push(i.violation(
            "the canary group has ec2_tag_filter blocks outside ec2_tag_set; those are ORed: put the filters in one ec2_tag_set",
        ));
    }
    let sets = blocks(body, "ec2_tag_set");
    match sets.as_slice() {
        [] => out.push(i.violation(format!(
            "the canary group has no ec2_tag_set: it must select Project = notejam, Environment = {ENV}, {CANARY_TAG} = true"
        ))),
        [set] => {
            let filters: BTreeSet<(String, String, String)> = blocks(set, "ec2_tag_filter")
                .into_iter()
                .map(|f| {
                    let get = |name| attr(f, name).map(|e| i.ctx.render(e)).unwrap_or_default();
                    (get("key"), get("type"), get("value"))
                })
                .collect();
            for (key, value) in [
                ("Project", "notejam"),
                ("Environment", ENV),
                (CANARY_TAG, "true"),
            ] {
                let wanted = (key.to_owned(), "KEY_AND_VALUE".to_owned(), value.to_owned());
                if !filters.contains(&wanted) {
                    out.push(i.violation(format!(
                        "the canary group's ec2_tag_set lacks the filter {key} = {value:?} (type KEY_AND_VALUE)"
                    )));
                }
            }
        }
        _ => out.push(i.violation(
            "the canary group has several ec2_tag_set blocks; sets are ORed: use one set with all three filters",
        )),
    }
    out
}

fn check_no_canary_tag(i: &Instance) -> Vec<Violation> {
    let mut keys: Vec<String> = i.tags().into_keys().collect();
    for tag in blocks(&i.resource.body, "tag") {
        if let Some(k) = attr(tag, "key") {
            keys.push(i.ctx.render(k));
        }
    }
    for spec in blocks(&i.resource.body, "tag_specifications") {
        if let Some(t) = attr(spec, "tags") {
            keys.extend(i.ctx.object_entries(t).into_keys());
        }
    }
    if keys.iter().any(|k| k == CANARY_TAG) {
        vec![i.violation(format!(
            "sets the {CANARY_TAG} tag: every instance it launches would be in the canary deployment group; only the pipeline tags a canary"
        ))]
    } else {
        Vec::new()
    }
}
