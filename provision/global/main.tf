# Account-wide pieces that both environments share: exactly one of each may
# exist per account (or per region, for the CodeDeploy application). Apply
# this root once, after bootstrap and before any environment.

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

# Pull requests plan every root with read-only rights.
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
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["${local.github_sub}:pull_request", "${local.github_sub}:ref:refs/heads/main"]
    }
  }
}

resource "aws_iam_role" "terraform_plan" {
  name               = "notejam-terraform-plan"
  description        = "GitHub Actions: terraform plan of the notejam roots"
  assume_role_policy = data.aws_iam_policy_document.terraform_plan_assume.json

  tags = {
    Tier = "delivery"
  }
}

resource "aws_iam_role_policy_attachment" "terraform_plan_readonly" {
  role       = aws_iam_role.terraform_plan.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

# Planning takes the state lock, which is an object beside the state.
data "aws_iam_policy_document" "terraform_state_lock" {
  statement {
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["arn:${local.partition}:s3:::${var.state_bucket}/*.tflock"]
  }

  statement {
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.state_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "terraform_plan_lock" {
  name   = "state-lock"
  role   = aws_iam_role.terraform_plan.id
  policy = data.aws_iam_policy_document.terraform_state_lock.json
}

# Applies run on main, in a GitHub environment per root (protection rules,
# e.g. a required reviewer for prod, live there).
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
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = [for e in var.terraform_apply_github_environments : "${local.github_sub}:environment:${e}"]
    }
  }
}

resource "aws_iam_role" "terraform_apply" {
  name               = "notejam-terraform-apply"
  description        = "GitHub Actions: terraform apply of the notejam roots"
  assume_role_policy = data.aws_iam_policy_document.terraform_apply_assume.json

  tags = {
    Tier = "delivery"
  }
}

# Everything but IAM, Organizations and account settings...
resource "aws_iam_role_policy_attachment" "terraform_apply_power_user" {
  role       = aws_iam_role.terraform_apply.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/PowerUserAccess"
}

# ...plus IAM limited to the names these roots create.
data "aws_iam_policy_document" "terraform_apply_iam" {
  statement {
    sid     = "ManageProjectIam"
    actions = ["iam:*"]
    resources = [
      "arn:${local.partition}:iam::${local.account_id}:role/notejam-*",
      "arn:${local.partition}:iam::${local.account_id}:role/njtui-*",
      "arn:${local.partition}:iam::${local.account_id}:policy/notejam-*",
      "arn:${local.partition}:iam::${local.account_id}:policy/njtui-*",
      "arn:${local.partition}:iam::${local.account_id}:instance-profile/notejam-*",
      "arn:${local.partition}:iam::${local.account_id}:oidc-provider/token.actions.githubusercontent.com",
    ]
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

  environments           = var.environments
  name_prefix            = "njtui"
  create_roles           = true
  trusted_principal_arns = var.console_trusted_principal_arns
  require_mfa            = var.console_require_mfa
}
