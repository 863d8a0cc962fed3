//! The RDS instance is named notejam-<env> and keeps a week of backups.

use crate::rules::{ENV, Instance, Violation, at_least, missing, rendered};

pub fn check(instances: &[Instance]) -> Vec<Violation> {
    let mut out = Vec::new();
    let expected = format!("notejam-{ENV}");
    let mut found = false;
    for i in instances.iter().filter(|i| i.is("aws_db_instance")) {
        found = true;
        match rendered(i, "identifier") {
            Some(id) if id == expected => {}
            Some(id) => out.push(i.violation(format!(
                "identifier is {id:?}; the console looks for {expected:?}"
            ))),
            None => out.push(i.violation(format!(
                "has no identifier; the console looks for {expected:?}"
            ))),
        }
        match i.attr("backup_retention_period") {
            None => out.push(i.violation(
                "has no backup_retention_period (RDS defaults to 0: no automated backups, no PITR); at least 7 days are required",
            )),
            Some(expr) => {
                if let Some(problem) = at_least(&i.ctx, expr, 7.0) {
                    out.push(i.violation(format!(
                        "backup_retention_period must be at least 7 days: {problem}"
                    )));
                }
            }
        }
    }
    if !found {
        out.push(missing("aws_db_instance", "no RDS instance is defined"));
    }
    out
}
