//! Vault notejam-<env>, plan notejam-<env>-daily, and no recovery point kept
//! for less than 7 days.

use crate::eval::{attr, blocks};
use crate::rules::{ENV, Instance, Violation, at_least, missing, rendered};

pub fn check(instances: &[Instance]) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut vault = false;
    let mut plan = false;
    for i in instances {
        if i.is("aws_backup_vault") {
            vault = true;
            let expected = format!("notejam-{ENV}");
            match rendered(i, "name") {
                Some(name) if name == expected => {}
                other => out.push(i.violation(format!(
                    "name is {other:?}; the contract's vault is {expected:?}"
                ))),
            }
        } else if i.is("aws_backup_plan") {
            plan = true;
            let expected = format!("notejam-{ENV}-daily");
            match rendered(i, "name") {
                Some(name) if name == expected => {}
                other => out.push(i.violation(format!(
                    "name is {other:?}; the contract's plan is {expected:?}"
                ))),
            }
            out.extend(check_rules(i));
        }
    }
    if !vault {
        out.push(missing(
            "aws_backup_vault",
            "no AWS Backup vault is defined",
        ));
    }
    if !plan {
        out.push(missing("aws_backup_plan", "no AWS Backup plan is defined"));
    }
    out
}

fn check_rules(i: &Instance) -> Vec<Violation> {
    let mut out = Vec::new();
    for rule in blocks(&i.resource.body, "rule") {
        let rule_name = attr(rule, "rule_name")
            .map(|n| i.ctx.render(n))
            .unwrap_or_else(|| "(unnamed)".to_owned());
        let lifecycle = blocks(rule, "lifecycle");
        match lifecycle.first().and_then(|l| attr(l, "delete_after")) {
            None => out.push(i.violation(format!(
                "rule {rule_name:?} has no lifecycle.delete_after; recovery points must be kept for a set time of at least 7 days"
            ))),
            Some(expr) => {
                if let Some(problem) = at_least(&i.ctx, expr, 7.0) {
                    out.push(i.violation(format!(
                        "rule {rule_name:?} keeps recovery points for less than 7 days: {problem}"
                    )));
                }
            }
        }
        for copy in blocks(rule, "copy_action") {
            if let Some(expr) = blocks(copy, "lifecycle")
                .first()
                .and_then(|l| attr(l, "delete_after"))
                && let Some(problem) = at_least(&i.ctx, expr, 7.0)
            {
                out.push(i.violation(format!(
                    "rule {rule_name:?} keeps copies for less than 7 days: {problem}"
                )));
            }
        }
    }
    out
}
