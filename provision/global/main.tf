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
  name               = "notejam-terraform-plan"
  description        = "GitHub Actions: terraform plan of the notejam roots on main"
  assume_role_policy = data.aws_iam_policy_document.terraform_plan_assume.json

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
