//! SSM parameters live under /notejam/<env>/, where the app and the
//! instance role look for them.

use crate::rules::{ENV, Instance, Violation, rendered};

pub fn check(instances: &[Instance]) -> Vec<Violation> {
    let prefix = format!("/notejam/{ENV}/");
    instances
        .iter()
        .filter(|i| i.is("aws_ssm_parameter"))
        .filter_map(|i| match rendered(i, "name") {
            Some(name) if name.starts_with(&prefix) => None,
            other => Some(i.violation(format!(
                "name is {other:?}; parameters of an environment live under {prefix:?}"
            ))),
        })
        .collect()
}
