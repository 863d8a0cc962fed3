data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  name       = "notejam-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition

  app_arn   = "arn:${local.partition}:codedeploy:${local.region}:${local.account_id}:application:${var.application_name}"
  group_arn = "arn:${local.partition}:codedeploy:${local.region}:${local.account_id}:deploymentgroup:${var.application_name}/${var.environment}"
}

# ---------------------------------------------------------------- CodeDeploy service role

data "aws_iam_policy_document" "codedeploy_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["codedeploy.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "codedeploy" {
  name               = "${local.name}-codedeploy"
  description        = "CodeDeploy service role of notejam ${var.environment}"
  assume_role_policy = data.aws_iam_policy_document.codedeploy_assume.json

  tags = {
    Tier = "delivery"
  }
}

resource "aws_iam_role_policy_attachment" "codedeploy" {
  role       = aws_iam_role.codedeploy.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSCodeDeployRole"
}

# An Auto Scaling group built from a launch template needs these on top of
# AWSCodeDeployRole, as AWS documents for CodeDeploy with launch templates:
# launches happen through the template, on the group's behalf. Only
# CodeDeploy can assume this role.
data "aws_iam_policy_document" "codedeploy_launch_template" {
  statement {
    sid     = "LaunchFromTemplates"
    actions = ["ec2:RunInstances"]
    resources = concat(
      [for r in ["instance", "volume", "network-interface", "subnet", "security-group", "key-pair", "launch-template"] :
      "arn:${local.partition}:ec2:${local.region}:${local.account_id}:${r}/*"],
      ["arn:${local.partition}:ec2:${local.region}::image/*"],
    )
  }

  statement {
    sid     = "TagWhatItLaunches"
    actions = ["ec2:CreateTags"]
    resources = [for r in ["instance", "volume", "network-interface"] :
    "arn:${local.partition}:ec2:${local.region}:${local.account_id}:${r}/*"]

    condition {
      test     = "StringEquals"
      variable = "ec2:CreateAction"
      values   = ["RunInstances"]
    }
  }

  statement {
    actions   = ["iam:PassRole"]
    resources = [var.web_instance_role_arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "codedeploy_launch_template" {
  name   = "launch-from-template"
  role   = aws_iam_role.codedeploy.id
  policy = data.aws_iam_policy_document.codedeploy_launch_template.json
}

# ---------------------------------------------------------------- deployment group

resource "aws_codedeploy_deployment_group" "this" {
  app_name               = var.application_name
  deployment_group_name  = var.environment
  service_role_arn       = aws_iam_role.codedeploy.arn
  deployment_config_name = var.deployment_config_name
  autoscaling_groups     = [var.web_autoscaling_group_name]

  # New instances launched while a deployment runs get the new revision too.
  outdated_instances_strategy = "UPDATE"
  # Scale-in waits for the instance's ApplicationStop hook (graceful drain).
  termination_hook_enabled = true

  deployment_style {
    deployment_type   = "IN_PLACE"
    deployment_option = "WITH_TRAFFIC_CONTROL"
  }

  load_balancer_info {
    target_group_info {
      name = var.target_group_name
    }
  }

  auto_rollback_configuration {
    enabled = true
    events  = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]
  }

  alarm_configuration {
    enabled = true
    alarms  = var.rollback_alarm_names
  }

  tags = {
    Tier = "delivery"
  }
}

# ---------------------------------------------------------------- pipeline role

# GitHub Actions jobs running in the GitHub environment named like this one
# assume it with OIDC (no stored keys): upload a bundle, start a deployment,
# watch it.
data "aws_iam_policy_document" "deploy_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.github_oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:environment:${var.github_environment}"]
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = "${local.name}-deploy"
  description          = "GitHub Actions deploys to notejam ${var.environment}"
  assume_role_policy   = data.aws_iam_policy_document.deploy_assume.json
  max_session_duration = 3600

  tags = {
    Tier = "delivery"
  }
}

data "aws_iam_policy_document" "deploy" {
  statement {
    sid       = "UploadBundles"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${var.artifacts_bucket_arn}/*"]
  }

  statement {
    sid       = "ListBundles"
    actions   = ["s3:ListBucket"]
    resources = [var.artifacts_bucket_arn]
  }

  statement {
    sid       = "EncryptBundles"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.artifacts_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid = "DeployToThisGroup"
    actions = [
      "codedeploy:CreateDeployment",
      "codedeploy:GetDeployment",
      "codedeploy:StopDeployment",
      "codedeploy:GetDeploymentGroup",
      "codedeploy:ListDeployments",
    ]
    resources = [local.group_arn]
  }

  statement {
    sid = "RegisterRevisions"
    actions = [
      "codedeploy:RegisterApplicationRevision",
      "codedeploy:GetApplicationRevision",
      "codedeploy:GetApplication",
    ]
    resources = [local.app_arn]
  }

  statement {
    sid       = "ReadDeploymentConfigs"
    actions   = ["codedeploy:GetDeploymentConfig"]
    resources = ["arn:${local.partition}:codedeploy:${local.region}:${local.account_id}:deploymentconfig:*"]
  }
}

resource "aws_iam_policy" "deploy" {
  name        = "${local.name}-deploy"
  description = "Upload bundles to and deploy notejam ${var.environment}"
  policy      = data.aws_iam_policy_document.deploy.json

  tags = {
    Tier = "delivery"
  }
}

resource "aws_iam_role_policy_attachment" "deploy" {
  role       = aws_iam_role.deploy.name
  policy_arn = aws_iam_policy.deploy.arn
}
