data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  name       = "notejam-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition

  # The contract's groups: <env> (the fleet) and <env>-canary (the instances
  # tagged Canary = true, one at a time, before the fleet).
  fleet_group  = var.environment
  canary_group = "${var.environment}-canary"
  canary_tag   = "Canary"
  # One instance at a time is a canary: all of it at once.
  canary_config = "CodeDeployDefault.AllAtOnce"

  app_arn    = "arn:${local.partition}:codedeploy:${local.region}:${local.account_id}:application:${var.application_name}"
  group_arns = [for g in [local.fleet_group, local.canary_group] : "arn:${local.partition}:codedeploy:${local.region}:${local.account_id}:deploymentgroup:${var.application_name}/${g}"]
  config_arns = [for c in distinct([var.deployment_config_name, local.canary_config]) :
  "arn:${local.partition}:codedeploy:${local.region}:${local.account_id}:deploymentconfig:${c}"]
  alarm_arns = [for a in var.rollback_alarm_names : "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${a}"]

  # The pipeline uploads bundles as notejam/<revision>.zip
  # (.github/workflows/scripts/codedeploy); it may touch nothing else.
  bundle_prefix = "notejam/"

  # The customized OIDC subject (see provision/global/main.tf): a job in the
  # GitHub environment on one of the allowed refs.
  deploy_subs = [for r in var.github_allowed_refs : "repo:${var.github_repository}:environment:${var.github_environment}:ref:${r}"]
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
  name                 = "${local.name}-codedeploy"
  description          = "CodeDeploy service role of notejam ${var.environment}"
  assume_role_policy   = data.aws_iam_policy_document.codedeploy_assume.json
  permissions_boundary = var.permissions_boundary_arn

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

# ---------------------------------------------------------------- deployment groups

# The fleet: every instance of the web Auto Scaling group.
resource "aws_codedeploy_deployment_group" "this" {
  app_name               = var.application_name
  deployment_group_name  = local.fleet_group
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

# The canary: the web instances the pipeline has tagged Canary = true (it
# tags one, deploys here, watches the alarms, then deploys the fleet and
# removes the tag). The three filters sit in ONE ec2_tag_set, so an instance
# must match all of them (AND); separate ec2_tag_filter blocks would be OR.
# No autoscaling_groups here: that would add every instance of the group.
resource "aws_codedeploy_deployment_group" "canary" {
  app_name               = var.application_name
  deployment_group_name  = local.canary_group
  service_role_arn       = aws_iam_role.codedeploy.arn
  deployment_config_name = local.canary_config

  ec2_tag_set {
    ec2_tag_filter {
      key   = "Project"
      type  = "KEY_AND_VALUE"
      value = "notejam"
    }

    ec2_tag_filter {
      key   = "Environment"
      type  = "KEY_AND_VALUE"
      value = var.environment
    }

    ec2_tag_filter {
      key   = local.canary_tag
      type  = "KEY_AND_VALUE"
      value = "true"
    }
  }

  # The canary leaves the target group while it installs, like the fleet.
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

# GitHub Actions jobs running in the GitHub environment named like this one,
# on an allowed ref (main), assume it with OIDC (no stored keys): upload a
# bundle, mark a canary, deploy it and then the fleet, watch the alarms.
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
      values   = local.deploy_subs
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = "${local.name}-deploy"
  description          = "GitHub Actions deploys to notejam ${var.environment}"
  assume_role_policy   = data.aws_iam_policy_document.deploy_assume.json
  permissions_boundary = var.permissions_boundary_arn
  # deploy.yml's job may run 180 minutes (two deployments, two bakes, a rollback) and
  # asks for credentials once: they must outlast it.
  max_session_duration = 10800

  tags = {
    Tier = "delivery"
  }
}

# Resource types and condition keys per action follow the Service
# Authorization Reference (CodeDeploy, Amazon S3, Amazon EC2, Auto Scaling,
# CloudWatch); "*" only where the action supports no resource-level
# permissions.
data "aws_iam_policy_document" "deploy" {
  statement {
    sid = "UploadBundles"
    actions = [
      "s3:PutObject",
      "s3:GetObject",
      "s3:GetObjectVersion",
      "s3:AbortMultipartUpload",
    ]
    resources = ["${var.artifacts_bucket_arn}/${local.bundle_prefix}*"]
  }

  statement {
    sid       = "ListBundles"
    actions   = ["s3:ListBucket"]
    resources = [var.artifacts_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.bundle_prefix}*"]
    }
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
    sid = "DeployToTheseGroups"
    actions = [
      "codedeploy:CreateDeployment",
      "codedeploy:GetDeployment",
      "codedeploy:StopDeployment",
      "codedeploy:GetDeploymentGroup",
      "codedeploy:ListDeployments",
    ]
    resources = local.group_arns
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
    sid       = "ReadTheDeploymentConfigs"
    actions   = ["codedeploy:GetDeploymentConfig"]
    resources = local.config_arns
  }

  # A rollback made while an alarm is still in ALARM (a bake after a
  # successful deployment found it) must not be stopped by that alarm: the
  # pipeline creates it with overrideAlarmConfiguration (alarms off for
  # that one deployment), which AWS authorizes as
  # codedeploy:UpdateDeploymentGroup on the group (CodeDeploy API
  # Reference, CreateDeployment, overrideAlarmConfiguration). CodeDeploy
  # has no condition key to allow only that use, so the role could also
  # reconfigure these two groups; it still cannot pass another service role
  # (no iam:PassRole), touch any other group, or outlive the next apply,
  # which puts the groups back as written here.
  statement {
    sid       = "OverrideTheAlarmsOfARollback"
    actions   = ["codedeploy:UpdateDeploymentGroup"]
    resources = local.group_arns
  }

  # Finding the web instances to pick a canary from. These Describe actions
  # support no resource-level permissions.
  statement {
    sid = "FindTheInstances"
    actions = [
      "autoscaling:DescribeAutoScalingGroups",
      "ec2:DescribeInstances",
      "ec2:DescribeTags",
    ]
    resources = ["*"]
  }

  # Marking the canary: the Canary tag, set to "true", and no other tag, on
  # this environment's web instances only. The Null test refuses a request
  # without tag keys (a DeleteTags without tags would delete them all, and
  # ForAllValues alone is true for an empty set).
  statement {
    sid       = "MarkTheCanary"
    actions   = ["ec2:CreateTags"]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:instance/*"]

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = [local.canary_tag]
    }

    condition {
      test     = "Null"
      variable = "aws:TagKeys"
      values   = ["false"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/${local.canary_tag}"
      values   = ["true"]
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

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Tier"
      values   = ["web"]
    }
  }

  statement {
    sid       = "UnmarkTheCanary"
    actions   = ["ec2:DeleteTags"]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:instance/*"]

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = [local.canary_tag]
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

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Tier"
      values   = ["web"]
    }
  }

  # The rollback alarms' state while the canary bakes. DescribeAlarms can
  # be scoped to metric alarms' ARNs (only composite alarms need "*"), so
  # the pipeline must name them: describe-alarms --alarm-names ....
  statement {
    sid       = "WatchTheRollbackAlarms"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = local.alarm_arns
  }
}

resource "aws_iam_policy" "deploy" {
  name        = "${local.name}-deploy"
  description = "Upload bundles to and deploy notejam ${var.environment} (canary, then fleet)"
  policy      = data.aws_iam_policy_document.deploy.json

  tags = {
    Tier = "delivery"
  }
}

resource "aws_iam_role_policy_attachment" "deploy" {
  role       = aws_iam_role.deploy.name
  policy_arn = aws_iam_policy.deploy.arn
}
