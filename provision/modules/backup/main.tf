data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name       = "notejam-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  managed_policies = [
    "service-role/AWSBackupServiceRolePolicyForBackup",
    "service-role/AWSBackupServiceRolePolicyForRestores",
    "AWSBackupServiceRolePolicyForS3Backup",
    "AWSBackupServiceRolePolicyForS3Restore",
  ]
}

resource "aws_kms_key" "this" {
  description             = "notejam ${var.environment}: AWS Backup vault"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  # A key policy, not an IAM policy: the account root statement hands key use
  # to IAM policies, which is where every grant of use lives.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersKeyThroughIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
    ]
  })

  tags = {
    Name = "${local.name}-backup"
    Tier = "backup"
  }
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.name}-backup"
  target_key_id = aws_kms_key.this.key_id
}


resource "aws_backup_vault" "this" {
  name        = local.name
  kms_key_arn = aws_kms_key.this.arn

  tags = {
    Tier = "backup"
  }
}

# Compliance-mode lock: once changeable_for_days has passed nobody, root
# included, can shorten retention or delete the vault. Off by default.
resource "aws_backup_vault_lock_configuration" "this" {
  count = var.vault_lock == null ? 0 : 1

  backup_vault_name   = aws_backup_vault.this.name
  min_retention_days  = var.vault_lock.min_retention_days
  max_retention_days  = var.vault_lock.max_retention_days
  changeable_for_days = var.vault_lock.changeable_for_days
}

resource "aws_backup_plan" "this" {
  name = "${local.name}-daily"

  rule {
    rule_name                = "daily"
    target_vault_name        = aws_backup_vault.this.name
    schedule                 = var.daily_schedule
    start_window             = 60
    completion_window        = 360
    enable_continuous_backup = false

    lifecycle {
      delete_after = var.daily_retention_days
    }

    dynamic "copy_action" {
      for_each = var.copy_to_vault_arn == null ? [] : [var.copy_to_vault_arn]

      content {
        destination_vault_arn = copy_action.value

        lifecycle {
          delete_after = var.daily_retention_days
        }
      }
    }

    recovery_point_tags = {
      Project     = "notejam"
      Environment = var.environment
      Tier        = "backup"
      Rule        = "daily"
    }
  }

  rule {
    rule_name         = "monthly"
    target_vault_name = aws_backup_vault.this.name
    schedule          = var.monthly_schedule
    start_window      = 60
    completion_window = 720

    lifecycle {
      cold_storage_after = var.monthly_cold_storage_after_days
      delete_after       = var.monthly_retention_days
    }

    dynamic "copy_action" {
      for_each = var.copy_to_vault_arn == null ? [] : [var.copy_to_vault_arn]

      content {
        destination_vault_arn = copy_action.value

        lifecycle {
          delete_after = var.monthly_retention_days
        }
      }
    }

    recovery_point_tags = {
      Project     = "notejam"
      Environment = var.environment
      Tier        = "backup"
      Rule        = "monthly"
    }
  }

  tags = {
    Tier = "backup"
  }
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["backup.amazonaws.com"]
    }
  }
}

# The console passes this role to StartBackupJob / StartRestoreJob; its name
# (notejam-<env>-backup) is part of the njtui-operator policy.
resource "aws_iam_role" "this" {
  name                 = "${local.name}-backup"
  description          = "AWS Backup for notejam ${var.environment}: back up and restore the database and data buckets"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary_arn

  tags = {
    Tier = "backup"
  }
}

resource "aws_iam_role_policy_attachment" "managed" {
  for_each = toset(local.managed_policies)

  role       = aws_iam_role.this.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value}"
}

# The data buckets are encrypted with the storage key; backing them up and
# restoring them needs it.
data "aws_iam_policy_document" "storage_key" {
  statement {
    actions = [
      "kms:Decrypt",
      "kms:Encrypt",
      "kms:GenerateDataKey*",
      "kms:DescribeKey",
    ]
    resources = [var.storage_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "storage_key" {
  name   = "use-storage-key"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.storage_key.json
}

# Everything of this environment (both contract tags must match) among the
# resource types given: the database and the data buckets, never the
# stateless web instances.
resource "aws_backup_selection" "this" {
  name          = "${local.name}-tagged"
  plan_id       = aws_backup_plan.this.id
  iam_role_arn  = aws_iam_role.this.arn
  resources     = var.resource_arn_patterns
  not_resources = var.excluded_resource_arns

  condition {
    string_equals {
      key   = "aws:ResourceTag/Project"
      value = "notejam"
    }
    string_equals {
      key   = "aws:ResourceTag/Environment"
      value = var.environment
    }
  }
}
