//! The pipeline's role rules (GitHub OIDC trusts, what pull requests can
//! reach, least privilege of the roles GitHub assumes) against a small tree
//! with one deliberate defect per test, and against the real provision/
//! tree broken in a copy.

use std::fs;
use std::path::{Path, PathBuf};

mod common;

use provision_checks::{Tree, check_dir};

const ROLES_PATH: &str = "global/main.tf";

/// A pull-request plan role, a main plan role, an apply role and a deploy
/// role, written the way provision/ writes them (each with the permissions
/// boundary, whose policy lives elsewhere). Only the pipeline rules
/// are looked at (the tree has no contract resources).
const ROLES: &str = r#"
variable "github_repository" {
  type = string
}

variable "refs" {
  type    = list(string)
  default = ["refs/heads/main"]
}

variable "state_bucket" {
  type = string
}

variable "state_kms_key_arn" {
  type = string
}

variable "environment" {
  type    = string
  default = "prod"
}

locals {
  github_sub = "repo:${var.github_repository}"
  plan_subs  = [for r in var.refs : "${local.github_sub}:ref:${r}:ref:${r}"]
  apply_subs = flatten([
    for e in ["infra-staging", "infra-prod"] : [for r in var.refs : "${local.github_sub}:environment:${e}:ref:${r}"]
  ])
  deploy_subs = [for r in var.refs : "${local.github_sub}:environment:${var.environment}:ref:${r}"]
  boundary    = "arn:aws:iam::111122223333:policy/notejam-permissions-boundary"
}

resource "aws_iam_openid_connect_provider" "github" {
  url = "https://token.actions.githubusercontent.com"

  tags = {
    Tier = "delivery"
  }
}

# ---------------------------------------------------------------- pull requests

data "aws_iam_policy_document" "pr_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["${local.github_sub}:pull_request:ref:refs/pull/*/merge"]
    }
  }
}

resource "aws_iam_role" "pr" {
  name               = "notejam-terraform-pr-plan"
  assume_role_policy = data.aws_iam_policy_document.pr_assume.json

  permissions_boundary = local.boundary

  tags = {
    Tier = "delivery"
  }
}

data "aws_iam_policy_document" "pr" {
  statement {
    sid       = "LookUpImages"
    actions   = ["ec2:DescribeImages"]
    resources = ["*"]
  }

  statement {
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = ["arn:aws:s3:::${var.state_bucket}/*"]
  }
}

resource "aws_iam_role_policy" "pr" {
  role   = aws_iam_role.pr.id
  policy = data.aws_iam_policy_document.pr.json
}

# ---------------------------------------------------------------- main

data "aws_iam_policy_document" "plan_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = local.plan_subs
    }
  }
}

resource "aws_iam_role" "plan" {
  name               = "notejam-terraform-plan"
  assume_role_policy = data.aws_iam_policy_document.plan_assume.json

  permissions_boundary = local.boundary

  tags = {
    Tier = "delivery"
  }
}

resource "aws_iam_role_policy_attachment" "plan_readonly" {
  role       = aws_iam_role.plan.name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

data "aws_iam_policy_document" "state" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::${var.state_bucket}/*"]
  }

  statement {
    actions   = ["kms:Decrypt"]
    resources = [var.state_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "plan_state" {
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.state.json
}

data "aws_iam_policy_document" "apply_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = local.apply_subs
    }
  }
}

resource "aws_iam_role" "apply" {
  name               = "notejam-terraform-apply"
  assume_role_policy = data.aws_iam_policy_document.apply_assume.json

  permissions_boundary = local.boundary

  tags = {
    Tier = "delivery"
  }
}

resource "aws_iam_role_policy_attachment" "apply_power_user" {
  role       = aws_iam_role.apply.name
  policy_arn = "arn:aws:iam::aws:policy/PowerUserAccess"
}

# ---------------------------------------------------------------- deploys

data "aws_iam_policy_document" "deploy_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = local.deploy_subs
    }
  }
}

resource "aws_iam_role" "deploy" {
  name               = "notejam-${var.environment}-deploy"
  assume_role_policy = data.aws_iam_policy_document.deploy_assume.json

  permissions_boundary = local.boundary

  tags = {
    Tier = "delivery"
  }
}

data "aws_iam_policy_document" "deploy" {
  statement {
    sid       = "FindTheInstances"
    actions   = ["ec2:DescribeInstances", "autoscaling:DescribeAutoScalingGroups"]
    resources = ["*"]
  }

  statement {
    sid       = "Deploy"
    actions   = ["codedeploy:CreateDeployment", "codedeploy:GetDeployment"]
    resources = ["arn:aws:codedeploy:us-east-1:111122223333:deploymentgroup:notejam/${var.environment}"]
  }

  statement {
    sid       = "MarkTheCanary"
    actions   = ["ec2:CreateTags"]
    resources = ["arn:aws:ec2:us-east-1:111122223333:instance/*"]

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = ["Canary"]
    }

    condition {
      test     = "Null"
      variable = "aws:TagKeys"
      values   = ["false"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = ["notejam"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [var.environment]
    }
  }
}

resource "aws_iam_policy" "deploy" {
  policy = data.aws_iam_policy_document.deploy.json

  tags = {
    Tier = "delivery"
  }
}

resource "aws_iam_role_policy_attachment" "deploy" {
  role       = aws_iam_role.deploy.name
  policy_arn = aws_iam_policy.deploy.arn
}
"#;

/// The pipeline violations of the fixture with `edits` (from, to) applied.
fn violations_with(edits: &[(&str, &str)]) -> Vec<String> {
    let edits: Vec<_> = edits
        .iter()
        .map(|(from, to)| (ROLES_PATH, *from, *to))
        .collect();
    common::violations_of_edited(&[(ROLES_PATH, ROLES)], &edits)
        .into_iter()
        // The fixture has no contract resources; only the role rules count.
        .filter(|v| v.starts_with(ROLES_PATH))
        .collect()
}

fn assert_violations(edits: &[(&str, &str)], expected: &[&str]) {
    common::assert_listed(&violations_with(edits), expected);
}

#[test]
fn the_fixture_itself_passes() {
    assert_violations(&[], &[]);
}

#[test]
fn deploy_trust_on_the_environment_alone() {
    assert_violations(
        &[(
            "deploy_subs = [for r in var.refs : \"${local.github_sub}:environment:${var.environment}:ref:${r}\"]",
            "deploy_subs = [\"${local.github_sub}:environment:${var.environment}\"]",
        )],
        &[
            r#"global/main.tf: data.aws_iam_policy_document.deploy_assume: statement 1: sub "repo:${var.github_repository}:environment:${var.environment}" names an environment but no ref (:ref:<ref>): any branch that reaches the environment could assume the role"#,
        ],
    );
}

#[test]
fn deploy_trust_on_any_branch_by_wildcard() {
    assert_violations(
        &[
            (
                "deploy_subs = [for r in var.refs : \"${local.github_sub}:environment:${var.environment}:ref:${r}\"]",
                "deploy_subs = [\"${local.github_sub}:environment:${var.environment}:ref:refs/heads/*\"]",
            ),
            (
                "      test     = \"StringEquals\"\n      variable = \"token.actions.githubusercontent.com:sub\"\n      values   = local.deploy_subs",
                "      test     = \"StringLike\"\n      variable = \"token.actions.githubusercontent.com:sub\"\n      values   = local.deploy_subs",
            ),
        ],
        &[
            r#"global/main.tf: data.aws_iam_policy_document.deploy_assume: statement 1: sub "repo:${var.github_repository}:environment:${var.environment}:ref:refs/heads/*" matches any ref like "refs/heads/*": pin an exact ref such as refs/heads/main"#,
        ],
    );
}

#[test]
fn allowed_refs_passed_with_a_wildcard() {
    assert_violations(
        &[(
            "default = [\"refs/heads/main\"]",
            "default = [\"refs/heads/main\", \"refs/heads/*\"]",
        )],
        &[
            // A wildcard subject counts as reachable from pull requests:
            // the roles' state access and managed policies are reported too.
            "global/main.tf: aws_iam_role.apply: its sub is not pinned, so pull requests can assume it too, yet aws_iam_role_policy_attachment.apply_power_user attaches the AWS managed policy PowerUserAccess; such a role may hold only policies written here, which these checks read",
            "global/main.tf: aws_iam_role.plan: its sub is not pinned, so pull requests can assume it too, yet aws_iam_role_policy_attachment.plan_readonly attaches the AWS managed policy ReadOnlyAccess; such a role may hold only policies written here, which these checks read",
            r#"global/main.tf: aws_iam_role.plan: its sub is not pinned, so pull requests can assume it too, yet data.aws_iam_policy_document.state (aws_iam_role_policy.plan_state) statement 1 grants s3:GetObject on "arn:aws:s3:::${var.state_bucket}/*", which covers the Terraform state bucket"#,
            r#"global/main.tf: aws_iam_role.plan: its sub is not pinned, so pull requests can assume it too, yet data.aws_iam_policy_document.state (aws_iam_role_policy.plan_state) statement 2 grants kms:Decrypt on "${var.state_kms_key_arn}", which covers the Terraform state key"#,
            r#"global/main.tf: data.aws_iam_policy_document.apply_assume: statement 1: sub "repo:${var.github_repository}:environment:infra-prod:ref:refs/heads/*" matches any ref like "refs/heads/*": pin an exact ref such as refs/heads/main"#,
            r#"global/main.tf: data.aws_iam_policy_document.apply_assume: statement 1: sub "repo:${var.github_repository}:environment:infra-staging:ref:refs/heads/*" matches any ref like "refs/heads/*": pin an exact ref such as refs/heads/main"#,
            r#"global/main.tf: data.aws_iam_policy_document.deploy_assume: statement 1: sub "repo:${var.github_repository}:environment:${var.environment}:ref:refs/heads/*" matches any ref like "refs/heads/*": pin an exact ref such as refs/heads/main"#,
            r#"global/main.tf: data.aws_iam_policy_document.plan_assume: statement 1: sub "repo:${var.github_repository}:ref:refs/heads/*:ref:refs/heads/*" matches any ref like "refs/heads/*": pin an exact ref such as refs/heads/main"#,
        ],
    );
}

#[test]
fn trust_without_audience_or_subject() {
    assert_violations(
        &[(
            "  statement {\n    actions = [\"sts:AssumeRoleWithWebIdentity\"]\n\n    principals {\n      type        = \"Federated\"\n      identifiers = [aws_iam_openid_connect_provider.github.arn]\n    }\n\n    condition {\n      test     = \"StringEquals\"\n      variable = \"token.actions.githubusercontent.com:aud\"\n      values   = [\"sts.amazonaws.com\"]\n    }\n\n    condition {\n      test     = \"StringEquals\"\n      variable = \"token.actions.githubusercontent.com:sub\"\n      values   = local.deploy_subs\n    }\n  }",
            "  statement {\n    actions = [\"sts:AssumeRoleWithWebIdentity\"]\n\n    principals {\n      type        = \"Federated\"\n      identifiers = [aws_iam_openid_connect_provider.github.arn]\n    }\n  }",
        )],
        &[
            r#"global/main.tf: data.aws_iam_policy_document.deploy_assume: statement 1: a GitHub OIDC trust must require token.actions.githubusercontent.com:aud StringEquals ["sts.amazonaws.com"]"#,
            "global/main.tf: data.aws_iam_policy_document.deploy_assume: statement 1: does not pin token.actions.githubusercontent.com:sub: any workflow of any repository could assume the role",
        ],
    );
}

#[test]
fn pull_request_subject_matched_exactly_or_too_widely() {
    assert_violations(
        &[(
            "values   = [\"${local.github_sub}:pull_request:ref:refs/pull/*/merge\"]",
            "values   = [\"${local.github_sub}:*\"]",
        )],
        &[
            r#"global/main.tf: data.aws_iam_policy_document.pr_assume: statement 1: sub "repo:${var.github_repository}:*" has a context that cannot be checked ("*"); it must be environment:<name>, ref:<ref> or pull_request"#,
        ],
    );
    assert_violations(
        &[(
            "      test     = \"StringLike\"",
            "      test     = \"StringEquals\"",
        )],
        &[
            r#"global/main.tf: data.aws_iam_policy_document.pr_assume: statement 1: sub "repo:${var.github_repository}:pull_request:ref:refs/pull/*/merge" is a pull-request pattern: it needs StringLike (found StringEquals)"#,
        ],
    );
}

#[test]
fn pull_request_role_with_a_managed_read_only_policy() {
    assert_violations(
        &[(
            "resource \"aws_iam_role_policy\" \"pr\" {",
            "resource \"aws_iam_role_policy_attachment\" \"pr_readonly\" {\n  role       = aws_iam_role.pr.name\n  policy_arn = \"arn:aws:iam::aws:policy/ReadOnlyAccess\"\n}\n\nresource \"aws_iam_role_policy\" \"pr\" {",
        )],
        &[
            "global/main.tf: aws_iam_role.pr: pull requests can assume it, yet aws_iam_role_policy_attachment.pr_readonly attaches the AWS managed policy ReadOnlyAccess; such a role may hold only policies written here, which these checks read",
        ],
    );
}

#[test]
fn pull_request_role_that_reads_the_state() {
    assert_violations(
        &[(
            "    sid       = \"LookUpImages\"\n    actions   = [\"ec2:DescribeImages\"]\n    resources = [\"*\"]\n  }\n",
            "    sid       = \"LookUpImages\"\n    actions   = [\"ec2:DescribeImages\"]\n    resources = [\"*\"]\n  }\n\n  statement {\n    sid       = \"State\"\n    actions   = [\"s3:Get*\", \"kms:Decrypt\"]\n    resources = [\"arn:aws:s3:::${var.state_bucket}/*\", var.state_kms_key_arn]\n  }\n",
        )],
        &[
            r#"global/main.tf: aws_iam_role.pr: pull requests can assume it, yet data.aws_iam_policy_document.pr (aws_iam_role_policy.pr) statement "State" grants kms:Decrypt on "arn:aws:s3:::${var.state_bucket}/*", which covers the Terraform state key"#,
            r#"global/main.tf: aws_iam_role.pr: pull requests can assume it, yet data.aws_iam_policy_document.pr (aws_iam_role_policy.pr) statement "State" grants s3:GetObject on "arn:aws:s3:::${var.state_bucket}/*", which covers the Terraform state bucket"#,
            r#"global/main.tf: aws_iam_role.pr: pull requests can assume it, yet data.aws_iam_policy_document.pr (aws_iam_role_policy.pr) statement "State" grants s3:GetObjectVersion on "arn:aws:s3:::${var.state_bucket}/*", which covers the Terraform state bucket"#,
        ],
    );
}

#[test]
fn pull_request_role_that_decrypts_with_any_key() {
    assert_violations(
        &[(
            "    actions   = [\"ec2:DescribeImages\"]\n    resources = [\"*\"]",
            "    actions   = [\"ec2:DescribeImages\", \"kms:Decrypt\"]\n    resources = [\"*\"]",
        )],
        &[
            r#"global/main.tf: aws_iam_role.pr: pull requests can assume it, yet data.aws_iam_policy_document.pr (aws_iam_role_policy.pr) statement "LookUpImages" grants kms:Decrypt on "*", which covers the Terraform state key"#,
        ],
    );
}

#[test]
fn main_plan_role_opened_to_pull_requests() {
    assert_violations(
        &[(
            "plan_subs  = [for r in var.refs : \"${local.github_sub}:ref:${r}:ref:${r}\"]",
            "plan_subs  = [\"${local.github_sub}:ref:refs/heads/main:ref:refs/heads/main\", \"${local.github_sub}:pull_request:ref:refs/pull/1/merge\"]",
        )],
        &[
            r#"global/main.tf: aws_iam_role.plan: pull requests can assume it, yet aws_iam_role_policy_attachment.plan_readonly attaches the AWS managed policy ReadOnlyAccess; such a role may hold only policies written here, which these checks read"#,
            r#"global/main.tf: aws_iam_role.plan: pull requests can assume it, yet data.aws_iam_policy_document.state (aws_iam_role_policy.plan_state) statement 1 grants s3:GetObject on "arn:aws:s3:::${var.state_bucket}/*", which covers the Terraform state bucket"#,
            r#"global/main.tf: aws_iam_role.plan: pull requests can assume it, yet data.aws_iam_policy_document.state (aws_iam_role_policy.plan_state) statement 2 grants kms:Decrypt on "${var.state_kms_key_arn}", which covers the Terraform state key"#,
            r#"global/main.tf: data.aws_iam_policy_document.plan_assume: statement 1: sub "repo:${var.github_repository}:pull_request:ref:refs/pull/1/merge" is a pull-request subject whose ref is not "refs/pull/*/merge""#,
        ],
    );
}

#[test]
fn deploy_role_with_a_wildcard_action_on_every_resource() {
    assert_violations(
        &[(
            "actions   = [\"ec2:DescribeInstances\", \"autoscaling:DescribeAutoScalingGroups\"]",
            "actions   = [\"ec2:Describe*\", \"codedeploy:*\"]",
        )],
        &[
            r#"global/main.tf: aws_iam_role.deploy: GitHub can assume it and data.aws_iam_policy_document.deploy (aws_iam_role_policy_attachment.deploy) statement "FindTheInstances" grants the wildcard action "codedeploy:*" on every resource ("*")"#,
            r#"global/main.tf: aws_iam_role.deploy: GitHub can assume it and data.aws_iam_policy_document.deploy (aws_iam_role_policy_attachment.deploy) statement "FindTheInstances" grants the wildcard action "ec2:Describe*" on every resource ("*")"#,
        ],
    );
}

#[test]
fn deploy_role_that_may_set_any_tag() {
    assert_violations(
        &[(
            "    condition {\n      test     = \"ForAllValues:StringEquals\"\n      variable = \"aws:TagKeys\"\n      values   = [\"Canary\"]\n    }\n\n",
            "",
        )],
        &[
            r#"global/main.tf: aws_iam_role.deploy: GitHub can assume it and data.aws_iam_policy_document.deploy (aws_iam_role_policy_attachment.deploy) statement "MarkTheCanary" grants ec2:CreateTags without limits: it needs ForAllValues:StringEquals on aws:TagKeys, Null aws:TagKeys = "false", and StringEquals on aws:ResourceTag/Project and aws:ResourceTag/Environment"#,
        ],
    );
}

#[test]
fn deploy_role_with_a_managed_policy() {
    assert_violations(
        &[(
            "resource \"aws_iam_policy\" \"deploy\" {",
            "resource \"aws_iam_role_policy_attachment\" \"deploy_s3\" {\n  role       = aws_iam_role.deploy.name\n  policy_arn = \"arn:aws:iam::aws:policy/AmazonS3FullAccess\"\n}\n\nresource \"aws_iam_policy\" \"deploy\" {",
        )],
        &[
            "global/main.tf: aws_iam_role.deploy: GitHub can assume it and aws_iam_role_policy_attachment.deploy_s3 attaches the AWS managed policy AmazonS3FullAccess; spell the actions out in a policy document (only notejam-terraform-plan and notejam-terraform-apply may use managed policies)",
        ],
    );
}

#[test]
fn github_trust_written_as_json() {
    assert_violations(
        &[(
            "  name               = \"notejam-${var.environment}-deploy\"\n  assume_role_policy = data.aws_iam_policy_document.deploy_assume.json",
            "  name               = \"notejam-${var.environment}-deploy\"\n  assume_role_policy = jsonencode({ Statement = [{ Action = \"sts:AssumeRoleWithWebIdentity\" }] })",
        )],
        &[
            r#"global/main.tf: aws_iam_role.deploy: assume_role_policy is ${jsonencode({ Statement = [{ Action = "sts:AssumeRoleWithWebIdentity" }] })}, not a data.aws_iam_policy_document these checks can read; a GitHub OIDC trust must be one, so these checks can read it"#,
        ],
    );
}

// ---------------------------------------------------------------- the real tree

fn provision_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .parent()
        .expect("provision/checks has a parent")
        .to_path_buf()
}

fn copy_tf_tree(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = entry.file_name();
        if entry.file_type().unwrap().is_dir() {
            if name == "checks" || name.to_string_lossy().starts_with('.') {
                continue;
            }
            fs::create_dir_all(to.join(&name)).unwrap();
            copy_tf_tree(&path, &to.join(&name));
        } else if path.extension().is_some_and(|e| e == "tf") {
            fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn real_tree_violations(edits: &[(&str, &str, &str)]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    copy_tf_tree(&provision_dir(), dir.path());
    for (file, from, to) in edits {
        edit(&dir.path().join(file), from, to);
    }
    check_dir(dir.path())
        .unwrap()
        .violations
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn assert_reported(lines: &[String], expected: &[&str]) {
    for e in expected {
        assert!(
            lines.iter().any(|l| l == e),
            "missing {e:?} in:\n{}",
            lines.join("\n")
        );
    }
}

#[test]
fn the_real_roles_are_read() {
    // Guard against the rules passing because they see nothing: the real
    // tree's GitHub roles, with their subjects, as the rules read them.
    let tree = Tree::load(&provision_dir()).unwrap();
    let mut seen: Vec<String> = provision_checks::iam::roles(&tree)
        .iter()
        .filter(|r| !r.web_identity_trusts().is_empty())
        .flat_map(|r| {
            r.web_identity_trusts()
                .into_iter()
                .flat_map(|s| {
                    s.conditions_on(provision_checks::iam::GITHUB_SUB)
                        .flat_map(|c| c.values.clone())
                        .collect::<Vec<_>>()
                })
                .map(|v| format!("{} {v}", r.name))
                .collect::<Vec<_>>()
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            "notejam-${var.environment}-deploy repo:${var.github_repository}:environment:${var.github_environment}:ref:refs/heads/main",
            "notejam-terraform-apply repo:${var.github_repository}:environment:infra-prod:ref:refs/heads/main",
            "notejam-terraform-apply repo:${var.github_repository}:environment:infra-staging:ref:refs/heads/main",
            "notejam-terraform-plan repo:${var.github_repository}:ref:refs/heads/main:ref:refs/heads/main",
            "notejam-terraform-pr-plan repo:${var.github_repository}:pull_request:ref:refs/pull/*/merge",
        ]
    );
}

#[test]
fn breaking_the_real_trusts_is_caught() {
    let lines = real_tree_violations(&[
        (
            "modules/delivery/main.tf",
            "deploy_subs = [for r in var.github_allowed_refs : \"repo:${var.github_repository}:environment:${var.github_environment}:ref:${r}\"]",
            "deploy_subs = [\"repo:${var.github_repository}:environment:${var.github_environment}\"]",
        ),
        (
            "envs/prod/variables.tf",
            "default     = [\"refs/heads/main\"]",
            "default     = [\"refs/heads/*\"]",
        ),
    ]);
    assert_reported(
        &lines,
        &[
            r#"modules/delivery/main.tf: data.aws_iam_policy_document.deploy_assume: statement 1: sub "repo:${var.github_repository}:environment:${var.github_environment}" names an environment but no ref (:ref:<ref>): any branch that reaches the environment could assume the role"#,
        ],
    );
    // prod's allowed refs reach the module through its variable.
    let lines = real_tree_violations(&[(
        "envs/prod/variables.tf",
        "default     = [\"refs/heads/main\"]",
        "default     = [\"refs/heads/*\"]",
    )]);
    assert_reported(
        &lines,
        &[
            r#"modules/delivery/main.tf: data.aws_iam_policy_document.deploy_assume: statement 1: sub "repo:${var.github_repository}:environment:${var.github_environment}:ref:refs/heads/*" matches any ref like "refs/heads/*": pin an exact ref such as refs/heads/main"#,
        ],
    );
}

#[test]
fn opening_the_real_state_to_pull_requests_is_caught() {
    let lines = real_tree_violations(&[
        (
            "global/main.tf",
            "resource \"aws_iam_role_policy\" \"terraform_plan_lock\" {",
            "resource \"aws_iam_role_policy\" \"terraform_pr_plan_state\" {\n  name   = \"state\"\n  role   = aws_iam_role.terraform_pr_plan.id\n  policy = data.aws_iam_policy_document.terraform_state_lock.json\n}\n\nresource \"aws_iam_role_policy\" \"terraform_plan_lock\" {",
        ),
        (
            "global/main.tf",
            "resource \"aws_iam_role_policy\" \"terraform_pr_plan\" {",
            "resource \"aws_iam_role_policy_attachment\" \"terraform_pr_plan_readonly\" {\n  role       = aws_iam_role.terraform_pr_plan.name\n  policy_arn = \"arn:${local.partition}:iam::aws:policy/ReadOnlyAccess\"\n}\n\nresource \"aws_iam_role_policy\" \"terraform_pr_plan\" {",
        ),
    ]);
    assert_reported(
        &lines,
        &[
            "global/main.tf: aws_iam_role.terraform_pr_plan: pull requests can assume it, yet aws_iam_role_policy_attachment.terraform_pr_plan_readonly attaches the AWS managed policy ReadOnlyAccess; such a role may hold only policies written here, which these checks read",
            r#"global/main.tf: aws_iam_role.terraform_pr_plan: pull requests can assume it, yet data.aws_iam_policy_document.terraform_state_lock (aws_iam_role_policy.terraform_pr_plan_state) statement "ReadState" grants s3:GetObject on "arn:${data.aws_partition.current.partition}:s3:::${var.state_bucket}/*", which covers the Terraform state bucket"#,
            r#"global/main.tf: aws_iam_role.terraform_pr_plan: pull requests can assume it, yet data.aws_iam_policy_document.terraform_state_lock (aws_iam_role_policy.terraform_pr_plan_state) statement "StateKey" grants kms:Decrypt on "${var.state_kms_key_arn}", which covers the Terraform state key"#,
        ],
    );
}

#[test]
fn widening_the_real_deploy_role_is_caught() {
    let lines = real_tree_violations(&[
        (
            "modules/delivery/main.tf",
            "      \"ec2:DescribeInstances\",\n      \"ec2:DescribeTags\",\n    ]",
            "      \"ec2:Describe*\",\n    ]",
        ),
        (
            "modules/delivery/main.tf",
            "    condition {\n      test     = \"ForAllValues:StringEquals\"\n      variable = \"aws:TagKeys\"\n      values   = [local.canary_tag]\n    }\n",
            "",
        ),
    ]);
    assert_reported(
        &lines,
        &[
            r#"modules/delivery/main.tf: aws_iam_role.deploy: GitHub can assume it and data.aws_iam_policy_document.deploy (aws_iam_role_policy_attachment.deploy) statement "FindTheInstances" grants the wildcard action "ec2:Describe*" on every resource ("*")"#,
            r#"modules/delivery/main.tf: aws_iam_role.deploy: GitHub can assume it and data.aws_iam_policy_document.deploy (aws_iam_role_policy_attachment.deploy) statement "MarkTheCanary" grants ec2:CreateTags without limits: it needs ForAllValues:StringEquals on aws:TagKeys, Null aws:TagKeys = "false", and StringEquals on aws:ResourceTag/Project and aws:ResourceTag/Environment"#,
        ],
    );
}

#[test]
fn breaking_the_real_canary_group_is_caught() {
    let lines = real_tree_violations(&[(
        "modules/delivery/main.tf",
        "      key   = local.canary_tag\n",
        "      key   = \"Stage\"\n",
    )]);
    assert_reported(
        &lines,
        &[
            r#"modules/delivery/main.tf: aws_codedeploy_deployment_group.canary: the canary group's ec2_tag_set lacks the filter Canary = "true" (type KEY_AND_VALUE)"#,
        ],
    );
}
