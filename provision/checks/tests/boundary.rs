//! The permissions boundary rules: every role carries
//! notejam-permissions-boundary, the boundary keeps bounded roles inside
//! it, and a role that writes IAM cannot change itself or the boundary.
//! Against a small tree (a global root with the boundary and an apply
//! role, a module with a role, an environment calling it) with one defect
//! per test, and against the real provision/ tree broken in a copy.

use std::fs;
use std::path::{Path, PathBuf};

use provision_checks::iam::{self, Attached, Statement, Target};
use provision_checks::rules::boundary::{
    BOUNDARY_CHANGES, SELF_CHANGES, iam_writer_changes, role_target,
};
mod common;

use provision_checks::{Tree, check_dir};

const GLOBAL_PATH: &str = "global/main.tf";
const MODULE_PATH: &str = "modules/app/main.tf";
const ENV_PATH: &str = "envs/dev/main.tf";

/// The boundary, an apply role that manages the project's IAM, and a role
/// of its own, written the way provision/global writes them.
const GLOBAL: &str = r#"
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id                = data.aws_caller_identity.current.account_id
  partition                 = data.aws_partition.current.partition
  permissions_boundary_name = "notejam-permissions-boundary"
  permissions_boundary_arn  = "arn:${local.partition}:iam::${local.account_id}:policy/${local.permissions_boundary_name}"
  apply_role_arn            = "arn:${local.partition}:iam::${local.account_id}:role/notejam-terraform-apply"
  project_iam_arns = [
    "arn:${local.partition}:iam::${local.account_id}:role/notejam-*",
    "arn:${local.partition}:iam::${local.account_id}:policy/notejam-*",
  ]
}

data "aws_iam_policy_document" "permissions_boundary" {
  statement {
    sid       = "Ceiling"
    actions   = ["*"]
    resources = ["*"]
  }

  statement {
    sid       = "RolesOnlyWithThisBoundary"
    effect    = "Deny"
    actions   = ["iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:AttachRolePolicy", "iam:PutRolePolicy"]
    resources = ["*"]

    condition {
      test     = "StringNotEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.permissions_boundary_arn]
    }
  }

  statement {
    sid       = "NeverRemoveTheBoundary"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary"]
    resources = ["*"]
  }

  statement {
    sid       = "NeverChangeTheBoundary"
    effect    = "Deny"
    actions   = ["iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"]
    resources = [local.permissions_boundary_arn]
  }

  statement {
    sid       = "NeverChangeTheApplyRole"
    effect    = "Deny"
    actions   = ["iam:Update*", "iam:Put*", "iam:Attach*", "iam:Detach*", "iam:Delete*", "iam:Tag*", "iam:Untag*"]
    resources = [local.apply_role_arn]
  }

  statement {
    sid       = "NoUsersGroupsOrKeys"
    effect    = "Deny"
    actions   = ["iam:CreateUser", "iam:CreateGroup", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"]
    resources = ["*"]
  }

  statement {
    sid       = "NoAdministratorPolicies"
    effect    = "Deny"
    actions   = ["iam:AttachRolePolicy"]
    resources = ["*"]

    condition {
      test     = "ArnEquals"
      variable = "iam:PolicyARN"
      values   = ["arn:${local.partition}:iam::aws:policy/AdministratorAccess", "arn:${local.partition}:iam::aws:policy/IAMFullAccess"]
    }
  }

  statement {
    sid           = "NoIamBeyondTheProject"
    effect        = "Deny"
    actions       = ["iam:Attach*", "iam:Create*", "iam:PassRole", "iam:Put*", "iam:Set*", "iam:Update*", "sts:AssumeRole"]
    not_resources = local.project_iam_arns
  }
}

resource "aws_iam_policy" "permissions_boundary" {
  name   = local.permissions_boundary_name
  policy = data.aws_iam_policy_document.permissions_boundary.json

  tags = {
    Tier = "delivery"
  }
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "apply" {
  name                 = "notejam-terraform-apply"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = aws_iam_policy.permissions_boundary.arn

  tags = {
    Tier = "delivery"
  }
}

data "aws_iam_policy_document" "apply_iam" {
  statement {
    sid       = "ManageProjectIam"
    actions   = ["iam:*"]
    resources = local.project_iam_arns
  }

  statement {
    sid       = "ProjectRolesOnlyWithTheBoundary"
    effect    = "Deny"
    actions   = ["iam:CreateRole", "iam:PutRolePermissionsBoundary"]
    resources = ["*"]

    condition {
      test     = "StringNotEquals"
      variable = "iam:PermissionsBoundary"
      values   = [aws_iam_policy.permissions_boundary.arn]
    }
  }

  statement {
    sid       = "NotItself"
    effect    = "Deny"
    actions   = ["iam:Update*", "iam:Put*", "iam:Attach*", "iam:Detach*", "iam:Delete*"]
    resources = [aws_iam_role.apply.arn]
  }

  statement {
    sid       = "NotTheBoundary"
    effect    = "Deny"
    actions   = ["iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"]
    resources = [aws_iam_policy.permissions_boundary.arn]
  }
}

resource "aws_iam_role_policy" "apply_iam" {
  role   = aws_iam_role.apply.id
  policy = data.aws_iam_policy_document.apply_iam.json
}
"#;

const MODULE: &str = r#"
variable "environment" {
  type = string
}

variable "permissions_boundary_arn" {
  type = string
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = "notejam-${var.environment}-web"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary_arn

  tags = {
    Tier = "web"
  }
}
"#;

const ENV: &str = r#"
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  permissions_boundary_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:policy/notejam-permissions-boundary"
}

module "app" {
  source = "../../modules/app"

  environment              = "dev"
  permissions_boundary_arn = local.permissions_boundary_arn
}
"#;

/// The boundary violations of the fixture with `edits` (path, from, to) applied.
fn violations_with(edits: &[(&str, &str, &str)]) -> Vec<String> {
    common::violations_of_edited(
        &[
            (GLOBAL_PATH, GLOBAL),
            (MODULE_PATH, MODULE),
            (ENV_PATH, ENV),
        ],
        edits,
    )
    .into_iter()
    // The fixture has none of the contract's resources: what the tree
    // lacks counts only when it is the boundary.
    .filter(|v| !v.starts_with(".: ") || v.starts_with(".: aws_iam_policy: "))
    .collect()
}

fn assert_violations(edits: &[(&str, &str, &str)], expected: &[&str]) {
    common::assert_listed(&violations_with(edits), expected);
}

#[test]
fn the_fixture_itself_passes() {
    assert_violations(&[], &[]);
}

// ---------------------------------------------------------------- roles carry it

#[test]
fn a_role_without_a_boundary() {
    assert_violations(
        &[(
            MODULE_PATH,
            "  permissions_boundary = var.permissions_boundary_arn\n",
            "",
        )],
        &[
            "modules/app/main.tf: aws_iam_role.this: has no permissions_boundary: every role must carry notejam-permissions-boundary, without which a role that writes IAM can make it an account administrator",
        ],
    );
}

#[test]
fn a_boundary_the_environment_passes_wrong() {
    assert_violations(
        &[(
            ENV_PATH,
            "permissions_boundary_arn = local.permissions_boundary_arn",
            "permissions_boundary_arn = \"arn:aws:iam::aws:policy/PowerUserAccess\"",
        )],
        &[
            r#"modules/app/main.tf: aws_iam_role.this: permissions_boundary can be "arn:aws:iam::aws:policy/PowerUserAccess", not notejam-permissions-boundary"#,
        ],
    );
}

#[test]
fn a_boundary_that_can_be_null_or_unset() {
    assert_violations(
        &[(
            MODULE_PATH,
            "permissions_boundary = var.permissions_boundary_arn",
            "permissions_boundary = var.bounded ? var.permissions_boundary_arn : null",
        )],
        &[
            "modules/app/main.tf: aws_iam_role.this: permissions_boundary can be null (no boundary at all), not notejam-permissions-boundary",
        ],
    );
    // A module nobody calls: its variable has no value the check can know.
    assert_violations(
        &[(
            ENV_PATH,
            "  permissions_boundary_arn = local.permissions_boundary_arn\n",
            "",
        )],
        &[
            "modules/app/main.tf: aws_iam_role.this: permissions_boundary can be anything: var.permissions_boundary_arn has no default and no caller sets it, not notejam-permissions-boundary",
        ],
    );
}

#[test]
fn a_global_role_bounded_by_another_policy() {
    assert_violations(
        &[(
            GLOBAL_PATH,
            "  assume_role_policy   = data.aws_iam_policy_document.assume.json\n  permissions_boundary = aws_iam_policy.permissions_boundary.arn",
            "  assume_role_policy   = data.aws_iam_policy_document.assume.json\n  permissions_boundary = aws_iam_policy.other.arn",
        )],
        &[
            r#"global/main.tf: aws_iam_role.apply: permissions_boundary can be "${aws_iam_policy.other.arn}", not notejam-permissions-boundary"#,
        ],
    );
}

#[test]
fn roles_but_no_boundary_policy() {
    let got = violations_with(&[(
        GLOBAL_PATH,
        "  name   = local.permissions_boundary_name",
        "  name   = \"notejam-ceiling\"",
    )]);
    assert!(
        got.contains(&r#".: aws_iam_policy: no aws_iam_policy is named "notejam-permissions-boundary", the permissions boundary every role must carry"#.to_owned()),
        "{got:#?}"
    );
}

// ---------------------------------------------------------------- the boundary holds

#[test]
fn a_boundary_that_lets_a_role_be_made_without_it() {
    assert_violations(
        &[(
            GLOBAL_PATH,
            "    actions   = [\"iam:CreateRole\", \"iam:PutRolePermissionsBoundary\", \"iam:AttachRolePolicy\", \"iam:PutRolePolicy\"]",
            "    actions   = [\"iam:CreateRole\", \"iam:AttachRolePolicy\", \"iam:PutRolePolicy\"]",
        )],
        &[
            "global/main.tf: aws_iam_policy.permissions_boundary: data.aws_iam_policy_document.permissions_boundary does not deny iam:PutRolePermissionsBoundary on arn:aws:iam::111122223333:role/notejam-any-project-role unless iam:PermissionsBoundary is notejam-permissions-boundary, so a bounded role could get past the boundary",
        ],
    );
    // Another policy's ARN in the condition accepts that boundary too.
    let got = violations_with(&[(
        GLOBAL_PATH,
        "      values   = [local.permissions_boundary_arn]",
        "      values   = [local.permissions_boundary_arn, \"arn:aws:iam::111122223333:policy/wide-open\"]",
    )]);
    // Only project roles: NoIamBeyondTheProject denies the others outright.
    assert_eq!(got.len(), 4, "{got:#?}");
    assert!(
        got.iter()
            .all(|v| v.contains("unless iam:PermissionsBoundary is"))
    );
}

#[test]
fn a_boundary_that_can_be_removed_or_changed() {
    assert_violations(
        &[
            (
                GLOBAL_PATH,
                "    actions   = [\"iam:DeleteRolePermissionsBoundary\"]",
                "    actions   = [\"iam:DeleteUserPermissionsBoundary\"]",
            ),
            (
                GLOBAL_PATH,
                "    actions   = [\"iam:CreatePolicyVersion\", \"iam:DeletePolicyVersion\", \"iam:SetDefaultPolicyVersion\", \"iam:DeletePolicy\"]\n    resources = [local.permissions_boundary_arn]",
                "    actions   = [\"iam:DeletePolicy\"]\n    resources = [local.permissions_boundary_arn]",
            ),
        ],
        &[
            "global/main.tf: aws_iam_policy.permissions_boundary: data.aws_iam_policy_document.permissions_boundary does not deny iam:CreatePolicyVersion on the boundary itself, so a bounded role could get past the boundary",
            "global/main.tf: aws_iam_policy.permissions_boundary: data.aws_iam_policy_document.permissions_boundary does not deny iam:DeletePolicyVersion on the boundary itself, so a bounded role could get past the boundary",
            "global/main.tf: aws_iam_policy.permissions_boundary: data.aws_iam_policy_document.permissions_boundary does not deny iam:DeleteRolePermissionsBoundary on arn:aws:iam::111122223333:role/AnAdministratorRole, so a bounded role could get past the boundary",
            "global/main.tf: aws_iam_policy.permissions_boundary: data.aws_iam_policy_document.permissions_boundary does not deny iam:DeleteRolePermissionsBoundary on arn:aws:iam::111122223333:role/notejam-any-project-role, so a bounded role could get past the boundary",
            "global/main.tf: aws_iam_policy.permissions_boundary: data.aws_iam_policy_document.permissions_boundary does not deny iam:SetDefaultPolicyVersion on the boundary itself, so a bounded role could get past the boundary",
        ],
    );
}

#[test]
fn a_boundary_that_allows_users_admin_policies_and_foreign_roles() {
    assert_violations(
        &[
            (
                GLOBAL_PATH,
                "\"iam:CreateUser\", \"iam:CreateGroup\", ",
                "\"iam:CreateGroup\", ",
            ),
            (
                GLOBAL_PATH,
                "values   = [\"arn:${local.partition}:iam::aws:policy/AdministratorAccess\", ",
                "values   = [",
            ),
            (GLOBAL_PATH, "\"iam:Create*\", \"iam:PassRole\", ", ""),
            (GLOBAL_PATH, ", \"sts:AssumeRole\"]", "]"),
        ],
        &[
            "global/main.tf: aws_iam_policy.permissions_boundary: data.aws_iam_policy_document.permissions_boundary does not deny iam:AttachRolePolicy of the AWS managed AdministratorAccess, so a bounded role could get past the boundary",
            "global/main.tf: aws_iam_policy.permissions_boundary: data.aws_iam_policy_document.permissions_boundary does not deny iam:CreatePolicyVersion on arn:aws:iam::111122223333:policy/AnAdministratorPolicy, so a bounded role could get past the boundary",
            "global/main.tf: aws_iam_policy.permissions_boundary: data.aws_iam_policy_document.permissions_boundary does not deny iam:CreateUser on arn:aws:iam::111122223333:user/someone, so a bounded role could get past the boundary",
            "global/main.tf: aws_iam_policy.permissions_boundary: data.aws_iam_policy_document.permissions_boundary does not deny iam:PassRole on arn:aws:iam::111122223333:role/AnAdministratorRole, so a bounded role could get past the boundary",
            "global/main.tf: aws_iam_policy.permissions_boundary: data.aws_iam_policy_document.permissions_boundary does not deny sts:AssumeRole on arn:aws:iam::111122223333:role/AnAdministratorRole, so a bounded role could get past the boundary",
        ],
    );
}

const APPLY_ROLE_STATEMENT: &str = r#"
  statement {
    sid       = "NeverChangeTheApplyRole"
    effect    = "Deny"
    actions   = ["iam:Update*", "iam:Put*", "iam:Attach*", "iam:Detach*", "iam:Delete*", "iam:Tag*", "iam:Untag*"]
    resources = [local.apply_role_arn]
  }
"#;

/// The violation of a boundary that leaves `open` (comma-separated) to
/// bounded roles on the fixture's apply role.
fn apply_role_open(open: &str) -> String {
    format!(
        "global/main.tf: aws_iam_policy.permissions_boundary: data.aws_iam_policy_document.permissions_boundary does not deny {open} on arn:aws:iam::111122223333:role/notejam-terraform-apply (aws_iam_role.apply, which writes the project's IAM): a bounded role it makes or arms could change it, whatever its own policy denies"
    )
}

#[test]
fn a_boundary_that_lets_a_bounded_role_change_the_apply_role() {
    // The apply role's own NotItself still denies it all of this: that is
    // no help against a role it makes with iam:* on role/notejam-*.
    // DeleteRolePermissionsBoundary stays denied on every role
    // (NeverRemoveTheBoundary).
    let all = iam_writer_changes()
        .filter(|a| *a != "iam:DeleteRolePermissionsBoundary")
        .collect::<Vec<_>>()
        .join(", ");
    assert_violations(
        &[(GLOBAL_PATH, APPLY_ROLE_STATEMENT, "")],
        &[&apply_role_open(&all)],
    );
    // Denied on another role than the apply role.
    assert_violations(
        &[(
            GLOBAL_PATH,
            "    resources = [local.apply_role_arn]",
            "    resources = [\"arn:${local.partition}:iam::${local.account_id}:role/notejam-terraform-plan\"]",
        )],
        &[&apply_role_open(&all)],
    );
    // Only under a condition (a tag the helper role could set on itself).
    assert_violations(
        &[(
            GLOBAL_PATH,
            "    resources = [local.apply_role_arn]\n",
            "    resources = [local.apply_role_arn]\n\n    condition {\n      test     = \"StringNotEquals\"\n      variable = \"aws:PrincipalTag/Trusted\"\n      values   = [\"yes\"]\n    }\n",
        )],
        &[&apply_role_open(&all)],
    );
    // Tags and the trust left open.
    assert_violations(
        &[(
            GLOBAL_PATH,
            "    actions   = [\"iam:Update*\", \"iam:Put*\", \"iam:Attach*\", \"iam:Detach*\", \"iam:Delete*\", \"iam:Tag*\", \"iam:Untag*\"]",
            "    actions   = [\"iam:UpdateRole\", \"iam:UpdateRoleDescription\", \"iam:Put*\", \"iam:Attach*\", \"iam:Detach*\", \"iam:Delete*\"]",
        )],
        &[&apply_role_open(
            "iam:UpdateAssumeRolePolicy, iam:TagRole, iam:UntagRole",
        )],
    );
}

#[test]
fn only_roles_that_write_the_projects_iam_need_the_boundary_on_them() {
    // An apply role that no longer writes IAM (no ManageProjectIam) leaves
    // nothing to guard: the boundary's statement may go too.
    assert_violations(
        &[
            (GLOBAL_PATH, APPLY_ROLE_STATEMENT, ""),
            (
                GLOBAL_PATH,
                "    sid       = \"ManageProjectIam\"\n    actions   = [\"iam:*\"]",
                "    sid       = \"ManageProjectIam\"\n    actions   = [\"iam:Get*\", \"iam:List*\"]",
            ),
        ],
        &[],
    );
}

// ---------------------------------------------------------------- roles that write IAM

#[test]
fn an_apply_role_that_may_change_itself() {
    assert_violations(
        &[(
            GLOBAL_PATH,
            "    actions   = [\"iam:Update*\", \"iam:Put*\", \"iam:Attach*\", \"iam:Detach*\", \"iam:Delete*\"]",
            "    actions   = [\"iam:Update*\", \"iam:Attach*\", \"iam:Detach*\", \"iam:DeleteRole\"]",
        )],
        &[
            r#"global/main.tf: aws_iam_role.apply: data.aws_iam_policy_document.apply_iam statement "ManageProjectIam" (aws_iam_role_policy.apply_iam) reaches the role itself, and nothing denies it iam:PutRolePolicy, iam:PutRolePermissionsBoundary, iam:DeleteRolePolicy, iam:DeleteRolePermissionsBoundary: it could widen its own permissions"#,
        ],
    );
}

#[test]
fn an_apply_role_that_may_change_the_boundary() {
    assert_violations(
        &[(
            GLOBAL_PATH,
            "    resources = [aws_iam_policy.permissions_boundary.arn]",
            "    resources = [aws_iam_role.apply.arn]",
        )],
        &[
            r#"global/main.tf: aws_iam_role.apply: data.aws_iam_policy_document.apply_iam statement "ManageProjectIam" (aws_iam_role_policy.apply_iam) reaches notejam-permissions-boundary, and nothing denies it iam:CreatePolicyVersion, iam:DeletePolicyVersion, iam:SetDefaultPolicyVersion, iam:DeletePolicy: it could raise every role's ceiling"#,
        ],
    );
}

#[test]
fn an_apply_role_that_may_make_unbounded_roles() {
    assert_violations(
        &[(
            GLOBAL_PATH,
            "      values   = [aws_iam_policy.permissions_boundary.arn]",
            "      values   = [\"${aws_iam_policy.permissions_boundary.arn}\", var.another_boundary]",
        )],
        &[
            r#"global/main.tf: aws_iam_role.apply: data.aws_iam_policy_document.apply_iam statement "ManageProjectIam" (aws_iam_role_policy.apply_iam) allows iam:CreateRole without requiring iam:PermissionsBoundary = notejam-permissions-boundary, so it could make a role with no ceiling"#,
            r#"global/main.tf: aws_iam_role.apply: data.aws_iam_policy_document.apply_iam statement "ManageProjectIam" (aws_iam_role_policy.apply_iam) allows iam:PutRolePermissionsBoundary without requiring iam:PermissionsBoundary = notejam-permissions-boundary, so it could make a role with no ceiling"#,
        ],
    );
}

#[test]
fn a_role_with_iam_full_access_must_deny_itself_too() {
    let got = violations_with(&[(
        MODULE_PATH,
        "resource \"aws_iam_role\" \"this\" {",
        "resource \"aws_iam_role_policy_attachment\" \"iam\" {\n  role       = aws_iam_role.this.name\n  policy_arn = \"arn:aws:iam::aws:policy/IAMFullAccess\"\n}\n\nresource \"aws_iam_role\" \"this\" {",
    )]);
    let expected = [
        "modules/app/main.tf: aws_iam_role.this: aws_iam_role_policy_attachment.iam (IAMFullAccess) allows iam:CreateRole without requiring iam:PermissionsBoundary = notejam-permissions-boundary, so it could make a role with no ceiling",
        "modules/app/main.tf: aws_iam_role.this: aws_iam_role_policy_attachment.iam (IAMFullAccess) reaches the role itself, and nothing denies it iam:UpdateRole, iam:UpdateRoleDescription, iam:UpdateAssumeRolePolicy, iam:PutRolePolicy, iam:PutRolePermissionsBoundary, iam:AttachRolePolicy, iam:DetachRolePolicy, iam:DeleteRolePolicy, iam:DeleteRole, iam:DeleteRolePermissionsBoundary: it could widen its own permissions",
    ];
    for e in expected {
        assert!(got.contains(&e.to_owned()), "missing {e:?} in {got:#?}");
    }
}

// ---------------------------------------------------------------- the real tree

fn provision_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("provision/checks has a parent")
        .to_path_buf()
}

/// The statements of every policy document attached to the role named
/// `name` in the real tree.
fn real_role_statements(tree: &Tree, name: &str) -> (Target, Vec<Statement>) {
    let roles = iam::roles(tree);
    let role = roles
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no role {name}"));
    let statements = role
        .policies
        .iter()
        .filter_map(|p| match p {
            Attached::Doc { doc, .. } => Some(doc.statements.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    (role_target(role), statements)
}

#[test]
fn the_real_apply_role_cannot_change_itself_or_the_boundary() {
    let tree = Tree::load(&provision_dir()).unwrap();
    let (itself, statements) = real_role_statements(&tree, "notejam-terraform-apply");
    let boundary = Target::arn("arn:aws:iam::111122223333:policy/notejam-permissions-boundary")
        .with_alias("${aws_iam_policy.permissions_boundary.arn}");
    let allowed = |action: &str, target: &Target| {
        statements
            .iter()
            .any(|s| s.allow && s.applies_to(action, target))
    };
    let denied = |action: &str, target: &Target| {
        statements.iter().any(|s| s.denies_outright(action, target))
    };
    // Its project IAM reaches both (role/notejam-*, policy/notejam-*)...
    for action in SELF_CHANGES {
        assert!(
            allowed(action, &itself),
            "{action} on itself is not even allowed: the test reads nothing"
        );
        // ...and an explicit Deny takes both away again.
        assert!(
            denied(action, &itself),
            "the apply role may {action} on itself"
        );
    }
    for action in BOUNDARY_CHANGES {
        assert!(
            allowed(action, &boundary),
            "{action} on the boundary is not even allowed"
        );
        assert!(
            denied(action, &boundary),
            "the apply role may {action} on the boundary"
        );
    }
    // Other project roles stay its to manage.
    let web = Target::arn("arn:aws:iam::111122223333:role/notejam-staging-web");
    assert!(allowed("iam:PutRolePolicy", &web) && !denied("iam:PutRolePolicy", &web));
}

/// The statements of the real boundary's policy document.
fn real_boundary_statements(tree: &Tree) -> Vec<Statement> {
    iam::documents(tree)
        .into_iter()
        .find(|d| d.data.name == "permissions_boundary")
        .expect("a permissions_boundary document")
        .statements
}

#[test]
fn the_real_boundary_keeps_every_bounded_role_off_the_apply_role() {
    let tree = Tree::load(&provision_dir()).unwrap();
    let boundary_doc = real_boundary_statements(&tree);
    let (apply, _) = real_role_statements(&tree, "notejam-terraform-apply");
    let boundary = Target::arn("arn:aws:iam::111122223333:policy/notejam-permissions-boundary");
    let denied = |action: &str, target: &Target| {
        boundary_doc
            .iter()
            .any(|s| s.denies_outright(action, target))
    };
    // A helper role the apply role made, bounded, with iam:* on
    // role/notejam-*: the boundary alone refuses it every change to the
    // apply role and to the boundary policy.
    for action in iam_writer_changes() {
        assert!(
            denied(action, &apply),
            "a bounded role may {action} on notejam-terraform-apply"
        );
    }
    for action in BOUNDARY_CHANGES {
        assert!(
            denied(action, &boundary),
            "a bounded role may {action} on the boundary"
        );
    }
    // What the apply role does to the other roles stays open: the boundary
    // denies none of it outright on them.
    for name in [
        "notejam-terraform-plan",
        "notejam-terraform-pr-plan",
        "notejam-staging-web",
        "notejam-prod-deploy",
    ] {
        let other = Target::arn(format!("arn:aws:iam::111122223333:role/{name}"));
        let managing = ["iam:CreateRole", "iam:PassRole", "iam:GetRole"];
        for action in iam_writer_changes().chain(managing) {
            if action == "iam:DeleteRolePermissionsBoundary" {
                continue; // never, for any role (NeverRemoveTheBoundary)
            }
            assert!(
                !denied(action, &other),
                "the boundary denies {action} on {name} outright: the apply role cannot manage it"
            );
        }
    }
    // Reading itself, as the plan and apply of global do, stays open.
    for action in [
        "iam:GetRole",
        "iam:ListRolePolicies",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
    ] {
        assert!(
            !denied(action, &apply),
            "the boundary denies {action} on the apply role"
        );
    }
}

#[test]
fn the_real_tree_has_no_boundary_violations() {
    let lines = real_tree_violations(&[]);
    assert_eq!(lines, Vec::<String>::new());
}

#[test]
fn dropping_the_real_boundarys_guard_of_the_apply_role_is_caught() {
    let lines = real_tree_violations(&[(
        "global/main.tf",
        "    sid       = \"NeverChangeTheApplyRole\"\n    effect    = \"Deny\"",
        "    sid       = \"NeverChangeTheApplyRole\"\n    effect    = \"Allow\"",
    )]);
    assert_eq!(
        lines,
        vec![format!(
            "global/main.tf: aws_iam_policy.permissions_boundary: data.aws_iam_policy_document.permissions_boundary does not deny {} on arn:aws:iam::111122223333:role/notejam-terraform-apply (aws_iam_role.terraform_apply, which writes the project's IAM): a bounded role it makes or arms could change it, whatever its own policy denies",
            // DeleteRolePermissionsBoundary stays denied for every role.
            iam_writer_changes()
                .filter(|a| *a != "iam:DeleteRolePermissionsBoundary")
                .collect::<Vec<_>>()
                .join(", ")
        )]
    );
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

fn real_tree_violations(edits: &[(&str, &str, &str)]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    copy_tf_tree(&provision_dir(), dir.path());
    for (file, from, to) in edits {
        let path = dir.path().join(file);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} does not contain {from:?}");
        fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }
    check_dir(dir.path())
        .unwrap()
        .violations
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn unbounding_a_real_role_is_caught() {
    let lines = real_tree_violations(&[
        (
            "modules/delivery/main.tf",
            "  permissions_boundary = var.permissions_boundary_arn\n  # deploy.yml",
            "  # deploy.yml",
        ),
        (
            "envs/prod/main.tf",
            "  github_allowed_refs        = var.github_allowed_refs\n\n  permissions_boundary_arn = local.permissions_boundary_arn",
            "  github_allowed_refs        = var.github_allowed_refs\n\n  permissions_boundary_arn = \"arn:aws:iam::aws:policy/AdministratorAccess\"",
        ),
    ]);
    assert_eq!(
        lines,
        vec![
            r#"modules/delivery/main.tf: aws_iam_role.codedeploy: permissions_boundary can be "arn:aws:iam::aws:policy/AdministratorAccess", not notejam-permissions-boundary"#,
            "modules/delivery/main.tf: aws_iam_role.deploy: has no permissions_boundary: every role must carry notejam-permissions-boundary, without which a role that writes IAM can make it an account administrator",
        ]
    );
}

#[test]
fn loosening_the_real_apply_role_or_boundary_is_caught() {
    let lines = real_tree_violations(&[
        (
            "global/main.tf",
            "    actions   = [\"iam:Update*\", \"iam:Put*\", \"iam:Attach*\", \"iam:Detach*\", \"iam:Delete*\"]\n    resources = [aws_iam_role.terraform_apply.arn]",
            "    actions   = [\"iam:Update*\", \"iam:Put*\", \"iam:Detach*\", \"iam:Delete*\"]\n    resources = [aws_iam_role.terraform_apply.arn]",
        ),
        (
            "global/main.tf",
            "    sid       = \"NeverRemoveTheBoundary\"\n    effect    = \"Deny\"",
            "    sid       = \"NeverRemoveTheBoundary\"\n    effect    = \"Allow\"",
        ),
    ]);
    assert_eq!(
        lines,
        vec![
            // Other roles' boundaries stay denied by NoIamBeyondTheProject.
            "global/main.tf: aws_iam_policy.permissions_boundary: data.aws_iam_policy_document.permissions_boundary does not deny iam:DeleteRolePermissionsBoundary on arn:aws:iam::111122223333:role/notejam-any-project-role, so a bounded role could get past the boundary",
            r#"global/main.tf: aws_iam_role.terraform_apply: data.aws_iam_policy_document.terraform_apply_iam statement "ManageProjectIam" (aws_iam_role_policy.terraform_apply_iam) reaches the role itself, and nothing denies it iam:AttachRolePolicy: it could widen its own permissions"#,
        ]
    );
}
