//! Every taggable resource carries a valid `Tier`; every resource type is
//! classified as taggable or not.

use crate::rules::{Instance, Violation};
use crate::taggable::{TAGGED, TIERS, UNTAGGED};

pub fn check(instances: &[Instance]) -> Vec<Violation> {
    let mut out = Vec::new();
    for i in instances {
        let rtype = i.resource.rtype.as_str();
        if UNTAGGED.contains(&rtype) {
            continue;
        }
        if !TAGGED.contains(&rtype) {
            out.push(i.violation(format!(
                "resource type {rtype} is not classified: add it to TAGGED or UNTAGGED in provision/checks/src/taggable.rs"
            )));
            continue;
        }
        match i.tag_values("Tier") {
            None => out.push(i.violation("has no Tier tag (the contract requires Project, Environment and Tier on every taggable resource)")),
            Some(values) => {
                for v in values {
                    match v.as_str() {
                        Some(t) if TIERS.contains(&t) => {}
                        _ => out.push(i.violation(format!(
                            "Tier {} is not one of the contract's tiers ({})",
                            v.describe(),
                            TIERS.join(", ")
                        ))),
                    }
                }
            }
        }
    }
    out
}
