//! Auto Scaling groups propagate the contract tags to their instances;
//! launch templates require IMDSv2 and tag the instances and volumes they
//! launch (provider default_tags reach neither).

use std::collections::BTreeSet;

use crate::eval::{attr, blocks};
use crate::rules::{Instance, Violation, missing};

pub fn check(instances: &[Instance]) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut asg_tiers = BTreeSet::new();
    for i in instances {
        if i.is("aws_autoscaling_group") {
            out.extend(check_asg(i, &mut asg_tiers));
        } else if i.is("aws_launch_template") {
            out.extend(check_launch_template(i));
        }
    }
    for tier in ["web", "bastion"] {
        if !asg_tiers.contains(tier) {
            out.push(missing(
                "aws_autoscaling_group",
                format!("no Auto Scaling group is tagged Tier = {tier}"),
            ));
        }
    }
    out
}

fn check_asg(i: &Instance, tiers: &mut BTreeSet<String>) -> Vec<Violation> {
    let mut out = Vec::new();
    let tag_blocks = blocks(&i.resource.body, "tag");
    for key in ["Project", "Environment", "Tier"] {
        let found = tag_blocks
            .iter()
            .find(|b| attr(b, "key").map(|k| i.ctx.render(k)).as_deref() == Some(key));
        let Some(block) = found else {
            out.push(i.violation(format!("has no tag block for {key}")));
            continue;
        };
        let propagates = attr(block, "propagate_at_launch")
            .map(|p| i.ctx.resolve(p).iter().all(|v| v.as_bool() == Some(true)))
            .unwrap_or(false);
        if !propagates {
            out.push(i.violation(format!(
                "tag {key} does not set propagate_at_launch = true, so instances would not carry it"
            )));
        }
        let values = attr(block, "value")
            .map(|v| i.ctx.resolve(v))
            .unwrap_or_default();
        match key {
            "Project" if !values.iter().all(|v| v.as_str() == Some("notejam")) => {
                out.push(i.violation("tag Project must be \"notejam\""));
            }
            "Tier" => {
                for v in values {
                    match v.as_str() {
                        Some(t @ ("web" | "bastion")) => {
                            tiers.insert(t.to_owned());
                        }
                        _ => out.push(i.violation(format!(
                            "Tier {} of an Auto Scaling group must be \"web\" or \"bastion\"",
                            v.describe()
                        ))),
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn check_launch_template(i: &Instance) -> Vec<Violation> {
    let mut out = Vec::new();
    let metadata = blocks(&i.resource.body, "metadata_options");
    let tokens = metadata
        .first()
        .and_then(|m| attr(m, "http_tokens"))
        .map(|t| i.ctx.resolve(t));
    match tokens {
        None => out.push(i.violation(
            "metadata_options.http_tokens is not set, which allows IMDSv1; it must be \"required\"",
        )),
        Some(values) => {
            for v in values {
                if v.as_str() != Some("required") {
                    out.push(i.violation(format!(
                        "metadata_options.http_tokens is {}, which allows IMDSv1; it must be \"required\"",
                        v.describe()
                    )));
                }
            }
        }
    }

    let specs = blocks(&i.resource.body, "tag_specifications");
    for resource_type in ["instance", "volume"] {
        let spec = specs.iter().find(|s| {
            attr(s, "resource_type").map(|r| i.ctx.render(r)).as_deref() == Some(resource_type)
        });
        let Some(spec) = spec else {
            out.push(i.violation(format!(
                "has no tag_specifications for {resource_type}s (default_tags do not reach them)"
            )));
            continue;
        };
        let tags = attr(spec, "tags")
            .map(|t| i.ctx.object_entries(t))
            .unwrap_or_default();
        for key in ["Project", "Environment", "Tier"] {
            if !tags.contains_key(key) {
                out.push(i.violation(format!(
                    "tag_specifications for {resource_type}s lack the {key} tag"
                )));
            }
        }
    }
    out
}
