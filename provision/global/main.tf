# Account-wide pieces that both environments share: exactly one of each may
# exist per account (or per region, for the CodeDeploy application). Apply
# this root once, after bootstrap and before any environment: the
# environments' roles name its permissions boundary.
#
# Bootstrap step: the permissions boundary and the apply role itself are
# out of the apply role's reach (it denies itself both, and the boundary
# denies both to every bounded role, including any the apply role makes;
# see below), so the first apply of this root, and every later change to
# aws_iam_policy.permissions_boundary or to aws_iam_role.terraform_apply and
# its policies and tags, is applied by an administrator of the account
# (provision/README.md, "The permissions boundary"). The pipeline's apply of
# this root fails with AccessDenied on those resources, and only on those.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  github_sub = "repo:${var.github_repository}"
}

# ---------------------------------------------------------------- CodeDeploy

# The contract's single application; each environment root adds its own
# deployment group (named after the environment) to it.
resource "aws_codedeploy_app" "notejam" {
  name             = "notejam"
  compute_platform = "Server"

  tags = {
    Tier = "delivery"
  }
}

# ---------------------------------------------------------------- GitHub OIDC

resource "aws_iam_openid_connect_provider" "github" {
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]

  tags = {
    Tier = "delivery"
  }
}

# The trust policies below match the repository's *customized* OIDC subject.
# GitHub's default sub names either the environment or the ref, never both
# (repo:<owner>/<repo>:environment:<env> carries no ref), so the repository
# sets its subject template once (provision/README.md, "The GitHub side") to
#   {"use_default": false, "include_claim_keys": ["repo", "context", "ref"]}
# "context" is what follows the repository in the default subject
# (environment:<env>, ref:<ref> or pull_request), so sub becomes
#   job in environment E on ref R:  repo:<owner>/<repo>:environment:E:ref:R
#   push job without environment:   repo:<owner>/<repo>:ref:R:ref:R
#   pull_request job:               repo:<owner>/<repo>:pull_request:ref:refs/pull/<n>/merge
# (GitHub Docs, "OpenID Connect" > "Customizing the subject claims for an
# organization or repository", example with repo, context and
# job_workflow_ref; https://docs.github.com/en/actions/reference/security/oidc).
# IAM matches sub and aud with StringEquals, as GitHub's AWS guide shows
# ("Configuring OpenID Connect in Amazon Web Services", which also notes
# that AWS does not support custom claims). STS has since added condition
# keys for a few GitHub claims (ref, environment, repository, ...; AWS
# What's New, January 2026, "AWS STS supports validation of identity
# provider claims"), but sub already pins repository, environment and ref
# together, so these trusts do not depend on that newer feature.
locals {
  github_aud = ["sts.amazonaws.com"]

  # Pushes to the allowed refs (main): the plan that the apply job applies.
  terraform_plan_subs = [for r in var.github_allowed_refs : "${local.github_sub}:ref:${r}:ref:${r}"]

  # Apply jobs: one of the infra environments, on an allowed ref.
  terraform_apply_subs = flatten([
    for e in var.terraform_apply_github_environments : [
      for r in var.github_allowed_refs : "${local.github_sub}:environment:${e}:ref:${r}"
    ]
  ])

  # Pull requests of this repository (GitHub gives forks no OIDC token, and
  # pull_request_target runs carry the base branch's ref, so they do not
  # match either).
  terraform_pr_plan_subs = ["${local.github_sub}:pull_request:ref:refs/pull/*/merge"]

  state_bucket_arn = "arn:${local.partition}:s3:::${var.state_bucket}"
}

# ---------------------------------------------------------------- permissions boundary

locals {
  # Fixed, so the environment roots build the ARN from their account id
  # without reading this root's state.
  permissions_boundary_name = "notejam-permissions-boundary"
  # The policy's own statements need its ARN before it exists.
  permissions_boundary_arn = "arn:${local.partition}:iam::${local.account_id}:policy/${local.permissions_boundary_name}"

  # The apply role, named here so the boundary can name it: the boundary's
  # document cannot refer to the role, which refers to the boundary.
  terraform_apply_role_name = "notejam-terraform-apply"
  terraform_apply_role_arn  = "arn:${local.partition}:iam::${local.account_id}:role/${local.terraform_apply_role_name}"

  # The IAM names the roots create: the apply role manages these, and no
  # bounded role may write IAM anywhere else.
  project_iam_arns = [
    "arn:${local.partition}:iam::${local.account_id}:role/notejam-*",
    "arn:${local.partition}:iam::${local.account_id}:role/njtui-*",
    "arn:${local.partition}:iam::${local.account_id}:policy/notejam-*",
    "arn:${local.partition}:iam::${local.account_id}:policy/njtui-*",
    "arn:${local.partition}:iam::${local.account_id}:instance-profile/notejam-*",
    "arn:${local.partition}:iam::${local.account_id}:oidc-provider/token.actions.githubusercontent.com",
  ]
}

# The most any role of this project may ever do, whatever its own policies
# grant (AWS IAM User Guide, "Permissions boundaries for IAM entities", the
# delegation example). The apply role manages the roots' IAM; without a
# boundary it could make a notejam-* role with AdministratorAccess that
# trusts itself, and be an account administrator. Every aws_iam_role in
# provision/ carries this boundary (provision-checks fails one that does
# not), and so does every role a bounded role can create: the statements
# below keep the boundary on every role and keep it as it is.
data "aws_iam_policy_document" "permissions_boundary" {
  # checkov:skip=CKV_AWS_1: a permissions boundary grants nothing, it caps what each role's own policies (checked themselves) grant
  # checkov:skip=CKV_AWS_49: a permissions boundary grants nothing, it caps what each role's own policies (checked themselves) grant
  # checkov:skip=CKV_AWS_356: a permissions boundary grants nothing, it caps what each role's own policies (checked themselves) grant
  # checkov:skip=CKV_AWS_107: a permissions boundary grants nothing, it caps what each role's own policies (checked themselves) grant
  # checkov:skip=CKV_AWS_108: a permissions boundary grants nothing, it caps what each role's own policies (checked themselves) grant
  # checkov:skip=CKV_AWS_109: a permissions boundary grants nothing, it caps what each role's own policies (checked themselves) grant
  # checkov:skip=CKV_AWS_110: a permissions boundary grants nothing, it caps what each role's own policies (checked themselves) grant
  # checkov:skip=CKV_AWS_111: a permissions boundary grants nothing, it caps what each role's own policies (checked themselves) grant

  # A boundary grants nothing by itself: a role still does only what its
  # own policies allow, so the ceiling may be everything the denies leave.
  statement {
    sid       = "UpToWhatTheRolesOwnPoliciesGrant"
    actions   = ["*"]
    resources = ["*"]
  }

  # No unbounded role: one is created, re-bounded or given permissions only
  # with this boundary. For Attach/PutRolePolicy the key is the boundary of
  # the role being changed, so no bounded role arms an unbounded one.
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

  # The apply role writes the project's IAM, so it can make or arm another
  # bounded role (role/notejam-* is the project's) with iam:* on
  # role/notejam-*. Its own policy's deny of changes to itself does not bind
  # that role; this one binds every bounded role, whatever its policies:
  # no policy, trust, boundary, setting, tag or deletion of the apply role.
  # Wildcards, so an action IAM adds later is denied too; on a role they
  # cover UpdateRole, UpdateRoleDescription, UpdateAssumeRolePolicy,
  # PutRolePolicy, PutRolePermissionsBoundary, Attach/DetachRolePolicy,
  # DeleteRole, DeleteRolePolicy, DeleteRolePermissionsBoundary, TagRole
  # and UntagRole. Reading it stays allowed (the pipeline's plan of this
  # root refreshes it); changing it takes an administrator.
  statement {
    sid       = "NeverChangeTheApplyRole"
    effect    = "Deny"
    actions   = ["iam:Update*", "iam:Put*", "iam:Attach*", "iam:Detach*", "iam:Delete*", "iam:Tag*", "iam:Untag*"]
    resources = [local.terraform_apply_role_arn]
  }

  # Users, groups and their credentials take no boundary from here, and a
  # new password or key for an existing user is that user's power.
  statement {
    sid       = "NoUsersGroupsOrKeys"
    effect    = "Deny"
    actions   = ["iam:CreateUser", "iam:CreateGroup", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"]
    resources = ["*"]
  }

  # Even these could not lift a role above the boundary, but a role holding
  # them holds everything the boundary leaves, which no project role needs:
  # a plan that attaches them is stopped, not just bounded.
  statement {
    sid       = "NoAdministratorPolicies"
    effect    = "Deny"
    actions   = ["iam:AttachRolePolicy"]
    resources = ["*"]

    condition {
      test     = "ArnEquals"
      variable = "iam:PolicyARN"
      values = [
        "arn:${local.partition}:iam::aws:policy/AdministratorAccess",
        "arn:${local.partition}:iam::aws:policy/IAMFullAccess",
      ]
    }
  }

  # Roles and policies of the account that are not the project's carry no
  # boundary: writing one (a policy, a trust), passing one to a service or
  # assuming one would borrow its permissions. Service-linked roles are
  # made by the services the roots use, with policies AWS fixes.
  statement {
    sid    = "NoIamBeyondTheProject"
    effect = "Deny"
    actions = [
      "iam:Add*", "iam:Attach*", "iam:Change*", "iam:Create*", "iam:Deactivate*",
      "iam:Delete*", "iam:Detach*", "iam:Disable*", "iam:Enable*", "iam:PassRole",
      "iam:Put*", "iam:Remove*", "iam:Reset*", "iam:Resync*", "iam:Set*",
      "iam:Tag*", "iam:Untag*", "iam:Update*", "iam:Upload*", "sts:AssumeRole",
    ]
    not_resources = concat(local.project_iam_arns, [
      "arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/*",
    ])
  }
}

resource "aws_iam_policy" "permissions_boundary" {
  name        = local.permissions_boundary_name
  description = "Permissions boundary of every notejam role: the most any of them may do"
  policy      = data.aws_iam_policy_document.permissions_boundary.json

  tags = {
    Tier = "delivery"
  }
}

# ------------------------------------------------ plans of main (state access)

# The plan job of a push to main: its saved plan is what the apply jobs
# apply, so it reads the whole state and everything Terraform refreshes.
# Only code that reached main (reviewed) runs with it.
data "aws_iam_policy_document" "terraform_plan_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = local.github_aud
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = local.terraform_plan_subs
    }
  }
}

resource "aws_iam_role" "terraform_plan" {
  name                 = "notejam-terraform-plan"
  description          = "GitHub Actions: terraform plan of the notejam roots on main"
  assume_role_policy   = data.aws_iam_policy_document.terraform_plan_assume.json
  permissions_boundary = aws_iam_policy.permissions_boundary.arn

  tags = {
    Tier = "delivery"
  }
}

resource "aws_iam_role_policy_attachment" "terraform_plan_readonly" {
  role       = aws_iam_role.terraform_plan.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

# Planning reads the state and takes the lock, an object beside it.
data "aws_iam_policy_document" "terraform_state_lock" {
  statement {
    sid       = "ReadState"
    actions   = ["s3:GetObject"]
    resources = ["${local.state_bucket_arn}/*"]
  }

  statement {
    sid       = "ListState"
    actions   = ["s3:ListBucket"]
    resources = [local.state_bucket_arn]
  }

  statement {
    sid       = "TakeTheLock"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.state_bucket_arn}/*.tflock"]
  }

  statement {
    sid       = "StateKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.state_kms_key_arn]
  }

  # Refreshing an aws_ssm_parameter reads it with decryption (the provider
  # always asks for WithDecryption), so the SecureStrings under /notejam/
  # need their keys, through SSM and for those parameters only.
  statement {
    sid       = "RefreshSecureParameters"
    actions   = ["kms:Decrypt"]
    resources = ["arn:${local.partition}:kms:${var.region}:${local.account_id}:key/*"]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${var.region}.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:PARAMETER_ARN"
      values   = ["arn:${local.partition}:ssm:${var.region}:${local.account_id}:parameter/notejam/*"]
    }
  }
}

resource "aws_iam_role_policy" "terraform_plan_lock" {
  name   = "state-lock"
  role   = aws_iam_role.terraform_plan.id
  policy = data.aws_iam_policy_document.terraform_state_lock.json
}

# ------------------------------------------------ plans of pull requests

# A pull_request run executes the workflow files of the pull request itself,
# so whoever can push a branch decides what runs with this role's
# credentials. It therefore gets nothing worth taking: no state (bucket or
# key), no secrets, no data. A pull request plans against an empty local
# state (the workflow replaces the S3 backend with a local one), which
# reads only the roots' data sources: the AMIs and the OIDC provider. The
# plan against the real state is made on main, by notejam-terraform-plan,
# and shown before the apply's environment approval.
data "aws_iam_policy_document" "terraform_pr_plan_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = local.github_aud
    }

    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = local.terraform_pr_plan_subs
    }
  }
}

resource "aws_iam_role" "terraform_pr_plan" {
  name                 = "notejam-terraform-pr-plan"
  description          = "GitHub Actions: speculative terraform plan of pull requests, without state"
  assume_role_policy   = data.aws_iam_policy_document.terraform_pr_plan_assume.json
  max_session_duration = 3600
  permissions_boundary = aws_iam_policy.permissions_boundary.arn

  tags = {
    Tier = "delivery"
  }
}

data "aws_iam_policy_document" "terraform_pr_plan" {
  # data "aws_ami" in the environment roots. DescribeImages has no
  # resource-level permissions (Service Authorization Reference, Amazon EC2).
  statement {
    sid       = "LookUpImages"
    actions   = ["ec2:DescribeImages"]
    resources = ["*"]
  }

  # data "aws_iam_openid_connect_provider" in the environment roots: it
  # lists the providers to find the one with the GitHub URL.
  statement {
    sid       = "FindTheOidcProvider"
    actions   = ["iam:ListOpenIDConnectProviders"]
    resources = ["*"]
  }

  statement {
    sid       = "ReadTheOidcProvider"
    actions   = ["iam:GetOpenIDConnectProvider"]
    resources = [aws_iam_openid_connect_provider.github.arn]
  }

  # Nothing above reaches the state; these keep it so if a broader policy
  # is ever attached by mistake.
  statement {
    sid       = "NeverTheState"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.state_bucket_arn, "${local.state_bucket_arn}/*"]
  }

  statement {
    sid       = "NeverTheStateKey"
    effect    = "Deny"
    actions   = ["kms:*"]
    resources = [var.state_kms_key_arn]
  }

  statement {
    sid       = "NeverSecrets"
    effect    = "Deny"
    actions   = ["secretsmanager:GetSecretValue", "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "kms:Decrypt"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "terraform_pr_plan" {
  name   = "speculative-plan"
  role   = aws_iam_role.terraform_pr_plan.id
  policy = data.aws_iam_policy_document.terraform_pr_plan.json
}

# ------------------------------------------------ applies

# Applies run on main, in a GitHub environment per root (protection rules,
# e.g. a required reviewer for prod, live there); the ref in sub keeps any
# other branch out even if an environment's branch rule is loosened.
data "aws_iam_policy_document" "terraform_apply_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = local.github_aud
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = local.terraform_apply_subs
    }
  }
}

resource "aws_iam_role" "terraform_apply" {
  name                 = local.terraform_apply_role_name
  description          = "GitHub Actions: terraform apply of the notejam roots"
  assume_role_policy   = data.aws_iam_policy_document.terraform_apply_assume.json
  permissions_boundary = aws_iam_policy.permissions_boundary.arn

  tags = {
    Tier = "delivery"
  }
}

# Everything but IAM, Organizations and account settings...
resource "aws_iam_role_policy_attachment" "terraform_apply_power_user" {
  role       = aws_iam_role.terraform_apply.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/PowerUserAccess"
}

# ...plus IAM limited to the names these roots create, every role with the
# boundary, and never itself or the boundary: changing itself would widen
# what review gave it, changing the boundary would raise every role's
# ceiling. Both take an administrator (the bootstrap step at the top of
# this file). The boundary denies both to every bounded role too, so a
# role the apply role makes with iam:* on role/notejam-* cannot do either
# for it (NeverChangeTheApplyRole, NeverChangeTheBoundary).
data "aws_iam_policy_document" "terraform_apply_iam" {
  statement {
    sid       = "ManageProjectIam"
    actions   = ["iam:*"]
    resources = local.project_iam_arns
  }

  # iam:* above includes creating roles and setting their boundary. The
  # boundary denies both without it too; this keeps the apply role's own
  # policy sound when read alone.
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

  # Wildcards, so that an action IAM adds later is denied too; today they
  # cover UpdateRole, UpdateRoleDescription, UpdateAssumeRolePolicy,
  # PutRolePolicy, PutRolePermissionsBoundary, Attach/DetachRolePolicy,
  # DeleteRole, DeleteRolePolicy and DeleteRolePermissionsBoundary.
  statement {
    sid       = "NotItself"
    effect    = "Deny"
    actions   = ["iam:Update*", "iam:Put*", "iam:Attach*", "iam:Detach*", "iam:Delete*"]
    resources = [aws_iam_role.terraform_apply.arn]
  }

  statement {
    sid       = "NotTheBoundary"
    effect    = "Deny"
    actions   = ["iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"]
    resources = [aws_iam_policy.permissions_boundary.arn]
  }

  # Reading the AWS managed policies the roots attach.
  statement {
    sid       = "ReadManagedPolicies"
    actions   = ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListEntitiesForPolicy"]
    resources = ["arn:${local.partition}:iam::aws:policy/*"]
  }

  statement {
    sid       = "ServiceLinkedRoles"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/*"]
  }
}

resource "aws_iam_role_policy" "terraform_apply_iam" {
  name   = "project-iam"
  role   = aws_iam_role.terraform_apply.id
  policy = data.aws_iam_policy_document.terraform_apply_iam.json
}

# ---------------------------------------------------------------- people

# njtui-readonly and njtui-operator, over every environment.
module "console_access" {
  source = "../modules/iam"

  environments             = var.environments
  name_prefix              = "njtui"
  create_roles             = true
  trusted_principal_arns   = var.console_trusted_principal_arns
  require_mfa              = var.console_require_mfa
  permissions_boundary_arn = aws_iam_policy.permissions_boundary.arn
}
