//! Buckets carry Purpose (artifacts, backups or alb-logs) and Tier = storage,
//! and every purpose exists.

use std::collections::BTreeSet;

use crate::rules::{Instance, Violation, missing};
use crate::taggable::PURPOSES;

/// The state bucket of the bootstrap root is the one bucket outside the
/// environments' purposes.
const STATE_PURPOSE: &str = "terraform-state";

pub fn check(instances: &[Instance]) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for i in instances.iter().filter(|i| i.is("aws_s3_bucket")) {
        let in_bootstrap = i.module.dir.starts_with("bootstrap");
        match i.tag_values("Purpose") {
            None => out.push(i.violation(format!(
                "has no Purpose tag; the console finds buckets by Purpose ({})",
                PURPOSES.join(" | ")
            ))),
            Some(values) => {
                for v in values {
                    match v.as_str() {
                        Some(p) if PURPOSES.contains(&p) => {
                            seen.insert(p.to_owned());
                        }
                        Some(STATE_PURPOSE) if in_bootstrap => {}
                        _ => out.push(i.violation(format!(
                            "Purpose {} is not one of {}",
                            v.describe(),
                            PURPOSES.join(", ")
                        ))),
                    }
                }
            }
        }
        if let Some(values) = i.tag_values("Tier")
            && !values.iter().all(|v| v.as_str() == Some("storage"))
        {
            out.push(i.violation("buckets must be tagged Tier = \"storage\""));
        }
    }
    for purpose in PURPOSES {
        if !seen.contains(*purpose) {
            out.push(missing(
                "aws_s3_bucket",
                format!("no bucket has Purpose = {purpose:?}"),
            ));
        }
    }
    out
}
