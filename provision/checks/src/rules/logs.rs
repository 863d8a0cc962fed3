//! Log groups have a retention, and the contract's groups exist.

use std::collections::BTreeSet;

use crate::rules::{ENV, Instance, Violation, at_least, missing, rendered};

pub fn check(instances: &[Instance]) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut names = BTreeSet::new();
    for i in instances
        .iter()
        .filter(|i| i.is("aws_cloudwatch_log_group"))
    {
        if i.unresolved_for_each {
            out.push(i.violation(
                "for_each keys cannot be resolved statically, so the group names cannot be checked",
            ));
            continue;
        }
        match i.attr("retention_in_days") {
            None => out.push(i.violation(
                "has no retention_in_days: its logs would be kept (and billed) forever",
            )),
            Some(expr) => {
                if let Some(problem) = at_least(&i.ctx, expr, 1.0) {
                    out.push(i.violation(format!(
                        "retention_in_days must be a positive number of days: {problem}"
                    )));
                }
            }
        }
        if let Some(name) = rendered(i, "name") {
            names.insert(name);
        }
    }
    let expected = [
        format!("/notejam/{ENV}/app"),
        format!("/notejam/{ENV}/system"),
        format!("/notejam/{ENV}/codedeploy"),
        format!("/notejam/{ENV}/audit"),
        format!("/aws/rds/instance/notejam-{ENV}/postgresql"),
    ];
    for name in expected {
        if !names.contains(&name) {
            out.push(missing(
                "aws_cloudwatch_log_group",
                format!("no log group is named {name:?} (contract log group)"),
            ));
        }
    }
    out
}
