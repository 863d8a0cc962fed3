//! The console's IAM policies (provision/modules/iam) grant exactly what the AWS
//! backend calls (`njtui::aws::REQUIRED_ACTIONS`): every read in `njtui-readonly`,
//! every mutation in `njtui-operator`, and nothing the console never uses.

use std::collections::BTreeSet;

use njtui::aws::REQUIRED_ACTIONS;

/// The actions of every `actions = [...]` list in one policy document's text.
fn actions(text: &str) -> BTreeSet<String> {
    let list = regex::Regex::new(r"(?s)\bactions\s*=\s*\[(.*?)\]").unwrap();
    let item = regex::Regex::new(r#""([a-z0-9-]+:[A-Za-z*]+)""#).unwrap();
    list.captures_iter(text)
        .flat_map(|c| {
            item.captures_iter(c.get(1).unwrap().as_str())
                .map(|i| i[1].to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// IAM's wildcard match (`autoscaling:Describe*`).
fn grants(pattern: &str, action: &str) -> bool {
    match pattern.split_once('*') {
        Some((prefix, "")) => action.starts_with(prefix),
        Some(_) => panic!("unexpected wildcard in {pattern}"),
        None => pattern == action,
    }
}

fn policies() -> (BTreeSet<String>, BTreeSet<String>) {
    // The checkout `cargo test` runs in: the build cache is shared between clones.
    let root = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
    let tf = std::fs::read_to_string(format!("{root}/provision/modules/iam/main.tf")).unwrap();
    let ro = tf
        .find(r#"data "aws_iam_policy_document" "readonly""#)
        .expect("readonly policy");
    let op = tf
        .find(r#"data "aws_iam_policy_document" "operator""#)
        .expect("operator policy");
    let end = tf
        .find(r#"resource "aws_iam_policy" "readonly""#)
        .expect("policy resources");
    assert!(
        ro < op && op < end,
        "policy documents in the expected order"
    );
    (actions(&tf[ro..op]), actions(&tf[op..end]))
}

/// Whether an action only reads, by IAM's naming of read and list actions (and
/// StartLiveTail, which IAM's reference classes as Read).
fn reads_only(action: &str) -> bool {
    let name = action.split_once(':').map_or(action, |(_, n)| n);
    name == "StartLiveTail"
        || ["Describe", "Get", "List", "BatchGet", "Filter"]
            .iter()
            .any(|p| name.starts_with(p))
}

#[test]
fn readonly_grants_every_read_and_operator_every_mutation() {
    // The operator role has both policies attached.
    let (readonly, operator) = policies();
    let mut problems = vec![];
    for (action, for_mutations) in REQUIRED_ACTIONS {
        let in_ro = readonly.iter().any(|p| grants(p, action));
        let in_op = operator.iter().any(|p| grants(p, action));
        if !for_mutations && !in_ro {
            problems.push(format!("{action} (a read) is not in njtui-readonly"));
        }
        if *for_mutations && !(in_op || in_ro) {
            problems.push(format!(
                "{action} (needed by an action) is not in njtui-operator"
            ));
        }
        if !reads_only(action) && in_ro {
            problems.push(format!(
                "{action} changes things but is granted to njtui-readonly"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_policies_grant_nothing_the_console_does_not_call() {
    let (readonly, operator) = policies();
    let unused: Vec<&String> = readonly
        .iter()
        .chain(&operator)
        .filter(|p| !REQUIRED_ACTIONS.iter().any(|(a, _)| grants(p, a)))
        .collect();
    assert!(unused.is_empty(), "granted but never called: {unused:?}");
}

#[test]
fn the_parser_sees_actions_and_not_condition_keys() {
    let text = r#"statement {
      actions = ["ssm:PutParameter", "ssm:DeleteParameter"]
      condition { variable = "iam:PassedToService" }
    }"#;
    let found = actions(text);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(grants(
        "autoscaling:Describe*",
        "autoscaling:DescribeAutoScalingGroups"
    ));
    assert!(!grants(
        "autoscaling:Describe*",
        "autoscaling:UpdateAutoScalingGroup"
    ));
}
