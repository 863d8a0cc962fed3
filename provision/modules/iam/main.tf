data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition
  envs       = var.environments

  arn = {
    rds        = "arn:${local.partition}:rds:${local.region}:${local.account_id}"
    logs       = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group"
    codedeploy = "arn:${local.partition}:codedeploy:${local.region}:${local.account_id}"
    backup     = "arn:${local.partition}:backup:${local.region}:${local.account_id}"
    ssm        = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter"
    asg        = "arn:${local.partition}:autoscaling:${local.region}:${local.account_id}:autoScalingGroup:*:autoScalingGroupName"
  }

  # The contract's log groups, as the log-group ARNs IAM matches (with and
  # without the trailing :* that stream-level calls are checked against).
  log_groups = flatten([
    for e in local.envs : [
      for g in ["/notejam/${e}/app", "/notejam/${e}/system", "/notejam/${e}/codedeploy", "/notejam/${e}/audit", "/aws/rds/instance/notejam-${e}/postgresql"] :
      ["${local.arn.logs}:${g}", "${local.arn.logs}:${g}:*"]
    ]
  ])

  # Each environment's fleet group <env> and canary group <env>-canary.
  deployment_groups = flatten([
    for e in local.envs : [for g in [e, "${e}-canary"] : "${local.arn.codedeploy}:deploymentgroup:notejam/${g}"]
  ])

  artifacts_buckets = [for e in local.envs : "arn:${local.partition}:s3:::notejam-${e}-artifacts-${local.account_id}-${local.region}"]
}

# ---------------------------------------------------------------- read-only

data "aws_iam_policy_document" "readonly" {
  statement {
    sid       = "WhoAmI"
    actions   = ["sts:GetCallerIdentity"]
    resources = ["*"]
  }

  # Describe calls of EC2, Auto Scaling and ELB have no resource-level
  # permissions: "*" is the only resource they accept.
  statement {
    sid = "DiscoverComputeAndNetwork"
    actions = [
      "ec2:DescribeVpcs",
      "ec2:DescribeSubnets",
      "ec2:DescribeInstances",
      "autoscaling:Describe*",
      "elasticloadbalancing:Describe*",
    ]
    resources = ["*"]
  }

  # RDS checks list calls against db:* / snapshot:* of the region, since the
  # console lists restored copies it does not know the names of.
  statement {
    sid = "ReadDatabases"
    actions = [
      "rds:DescribeDBInstances",
      "rds:DescribeDBSnapshots",
    ]
    resources = [
      "${local.arn.rds}:db:*",
      "${local.arn.rds}:snapshot:*",
    ]
  }

  statement {
    sid       = "FindBuckets"
    actions   = ["s3:ListAllMyBuckets", "s3:GetBucketTagging"]
    resources = ["*"]
  }

  statement {
    sid       = "ListBundles"
    actions   = ["s3:ListBucket"]
    resources = local.artifacts_buckets
  }

  statement {
    sid       = "ListDeployments"
    actions   = ["codedeploy:List*"]
    resources = ["*"]
  }

  statement {
    sid     = "ReadDeployments"
    actions = ["codedeploy:Get*", "codedeploy:BatchGet*"]
    resources = concat(
      ["${local.arn.codedeploy}:application:notejam"],
      local.deployment_groups,
      ["${local.arn.codedeploy}:deploymentconfig:*"],
    )
  }

  statement {
    sid       = "ReadMetricsAndAlarms"
    actions   = ["cloudwatch:GetMetricData", "cloudwatch:DescribeAlarms"]
    resources = ["*"]
  }

  statement {
    sid       = "ListLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["${local.arn.logs}:*"]
  }

  statement {
    sid       = "ReadContractLogGroups"
    actions   = ["logs:FilterLogEvents", "logs:StartLiveTail"]
    resources = local.log_groups
  }

  statement {
    sid       = "ReadVaults"
    actions   = ["backup:ListRecoveryPointsByBackupVault", "backup:DescribeBackupVault"]
    resources = [for e in local.envs : "${local.arn.backup}:backup-vault:notejam-${e}"]
  }

  statement {
    sid       = "ListBackupPlans"
    actions   = ["backup:ListBackupPlans"]
    resources = ["*"]
  }

  # Which database the app uses, and the capacities `stop` remembered.
  statement {
    sid     = "ReadConsoleParameters"
    actions = ["ssm:GetParameters"]
    resources = flatten([for e in local.envs : [
      "${local.arn.ssm}/notejam/${e}/database/host",
      "${local.arn.ssm}/notejam/${e}/njtui/*",
    ]])
  }
}

# ---------------------------------------------------------------- operator (on top of read-only)

data "aws_iam_policy_document" "operator" {
  statement {
    sid     = "ScaleTheEnvironmentsGroups"
    actions = ["autoscaling:UpdateAutoScalingGroup"]
    resources = [
      for e in local.envs : "${local.arn.asg}/notejam-${e}-*"
    ]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = ["notejam"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = local.envs
    }
  }

  # A deployment or a release's rollback goes to the fleet group <env> or the
  # canary group <env>-canary.
  statement {
    sid       = "Deploy"
    actions   = ["codedeploy:CreateDeployment"]
    resources = local.deployment_groups
  }

  # A rollback is created with overrideAlarmConfiguration (alarm monitoring
  # off, so the alarm that called for it cannot stop it), and AWS authorizes
  # that override as codedeploy:UpdateDeploymentGroup on the group (CodeDeploy
  # API Reference, CreateDeployment). There is no condition key to allow only
  # that use, so it is granted on the two groups of each environment and
  # nothing else; the console never updates a group otherwise.
  statement {
    sid       = "OverrideTheAlarmsOfARollback"
    actions   = ["codedeploy:UpdateDeploymentGroup"]
    resources = local.deployment_groups
  }

  # A canary deployment the pipeline started can be stopped (and so rolled
  # back) from the console as well.
  statement {
    sid       = "Stop"
    actions   = ["codedeploy:StopDeployment"]
    resources = local.deployment_groups
  }

  # CreateDeployment of an S3 revision registers that revision with the
  # application on the caller's behalf.
  statement {
    sid       = "RegisterRevisions"
    actions   = ["codedeploy:RegisterApplicationRevision"]
    resources = ["${local.arn.codedeploy}:application:notejam"]
  }

  # Snapshots and restores are named notejam-<env>-...; the source instance is
  # notejam-<env>, restored copies notejam-<env>-restore-<timestamp>, and they
  # reuse the environment's existing subnet and parameter groups.
  statement {
    sid     = "SnapshotTheDatabase"
    actions = ["rds:CreateDBSnapshot", "rds:AddTagsToResource"]
    resources = flatten([for e in local.envs : [
      "${local.arn.rds}:db:notejam-${e}",
      "${local.arn.rds}:snapshot:notejam-${e}-*",
    ]])
  }

  statement {
    sid     = "RestoreIntoANewInstance"
    actions = ["rds:RestoreDBInstanceFromDBSnapshot", "rds:RestoreDBInstanceToPointInTime", "rds:AddTagsToResource"]
    resources = flatten([for e in local.envs : [
      "${local.arn.rds}:db:notejam-${e}",
      "${local.arn.rds}:db:notejam-${e}-restore-*",
      "${local.arn.rds}:subgrp:notejam-${e}",
      "${local.arn.rds}:pg:notejam-${e}",
      "${local.arn.rds}:og:default:postgres-*",
    ]])
  }

  # Snapshots to restore from: manual (notejam-<env>-*), automated
  # (rds:notejam-<env>-*) and AWS Backup's (awsbackup:job-*), the latter two
  # carrying the instance's tags (copy_tags_to_snapshot).
  statement {
    sid       = "RestoreFromTheEnvironmentsSnapshots"
    actions   = ["rds:RestoreDBInstanceFromDBSnapshot"]
    resources = ["${local.arn.rds}:snapshot:*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = local.envs
    }
  }

  statement {
    sid       = "OnDemandBackup"
    actions   = ["backup:StartBackupJob"]
    resources = [for e in local.envs : "${local.arn.backup}:backup-vault:notejam-${e}"]
  }

  # An on-demand job runs with the role of the plan's selection.
  statement {
    sid       = "FindTheBackupRole"
    actions   = ["backup:ListBackupSelections"]
    resources = ["${local.arn.backup}:backup-plan:*"]
  }

  # Backup jobs have no resource-level permissions.
  statement {
    sid       = "CancelBackupJobs"
    actions   = ["backup:StopBackupJob"]
    resources = ["*"]
  }

  statement {
    sid       = "RestoreRecoveryPoints"
    actions   = ["backup:StartRestoreJob", "backup:GetRecoveryPointRestoreMetadata"]
    resources = ["${local.arn.rds}:snapshot:awsbackup:*", "${local.arn.backup}:recovery-point:*"]
  }

  statement {
    sid       = "PassTheBackupRole"
    actions   = ["iam:PassRole"]
    resources = [for e in local.envs : "arn:${local.partition}:iam::${local.account_id}:role/notejam-${e}-backup"]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["backup.amazonaws.com"]
    }
  }

  statement {
    sid       = "PointTheAppAtARestoredDatabase"
    actions   = ["ssm:PutParameter"]
    resources = [for e in local.envs : "${local.arn.ssm}/notejam/${e}/database/host"]
  }

  # `stop` remembers a tier's capacity for `start`, which forgets it.
  statement {
    sid       = "RememberStoppedCapacity"
    actions   = ["ssm:PutParameter", "ssm:DeleteParameter"]
    resources = [for e in local.envs : "${local.arn.ssm}/notejam/${e}/njtui/*"]
  }

  statement {
    sid       = "WriteTheAuditLog"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = flatten([for e in local.envs : ["${local.arn.logs}:/notejam/${e}/audit", "${local.arn.logs}:/notejam/${e}/audit:*"]])
  }
}

resource "aws_iam_policy" "readonly" {
  name        = "${var.name_prefix}-readonly"
  description = "What the njtui console reads in notejam ${join(", ", local.envs)}"
  policy      = data.aws_iam_policy_document.readonly.json

  tags = {
    Tier = "bastion"
  }
}

resource "aws_iam_policy" "operator" {
  name        = "${var.name_prefix}-operator"
  description = "What the njtui console changes in notejam ${join(", ", local.envs)} (attach with ${var.name_prefix}-readonly)"
  policy      = data.aws_iam_policy_document.operator.json

  tags = {
    Tier = "bastion"
  }
}

# ---------------------------------------------------------------- roles for people

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole", "sts:SetSourceIdentity"]

    principals {
      type        = "AWS"
      identifiers = length(var.trusted_principal_arns) > 0 ? var.trusted_principal_arns : ["arn:${local.partition}:iam::${local.account_id}:root"]
    }

    dynamic "condition" {
      for_each = var.require_mfa ? [1] : []

      content {
        test     = "Bool"
        variable = "aws:MultiFactorAuthPresent"
        values   = ["true"]
      }
    }
  }
}

resource "aws_iam_role" "readonly" {
  count = var.create_roles ? 1 : 0

  name                 = "${var.name_prefix}-readonly"
  description          = "Run njtui read-only against notejam ${join(", ", local.envs)}"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary_arn
  max_session_duration = var.max_session_duration_seconds

  tags = {
    Tier = "bastion"
  }
}

resource "aws_iam_role_policy_attachment" "readonly" {
  count = var.create_roles ? 1 : 0

  role       = aws_iam_role.readonly[0].name
  policy_arn = aws_iam_policy.readonly.arn
}

resource "aws_iam_role" "operator" {
  count = var.create_roles ? 1 : 0

  name                 = "${var.name_prefix}-operator"
  description          = "Run njtui with its actions against notejam ${join(", ", local.envs)}"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary_arn
  max_session_duration = var.max_session_duration_seconds

  tags = {
    Tier = "bastion"
  }
}

resource "aws_iam_role_policy_attachment" "operator" {
  for_each = var.create_roles ? {
    readonly = aws_iam_policy.readonly.arn
    operator = aws_iam_policy.operator.arn
  } : {}

  role       = aws_iam_role.operator[0].name
  policy_arn = each.value
}
