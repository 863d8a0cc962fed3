data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}
data "aws_elb_service_account" "current" {}

locals {
  name       = "notejam-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition
}

resource "aws_kms_key" "this" {
  description             = "notejam ${var.environment}: artifacts and backups buckets"
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
    Name = "${local.name}-storage"
    Tier = "storage"
  }
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.name}-storage"
  target_key_id = aws_kms_key.this.key_id
}


# ALB access logs and S3 server access logs can only be delivered to an
# SSE-S3 bucket, so the log bucket is the one without the customer managed key.
module "alb_logs" {
  source = "./modules/bucket"

  name                              = "${local.name}-alb-logs-${local.account_id}-${local.region}"
  purpose                           = "alb-logs"
  noncurrent_version_retention_days = 7
  expire_after_days                 = var.log_retention_days
  policy_json                       = data.aws_iam_policy_document.log_delivery.json
  force_destroy                     = var.force_destroy
}

module "artifacts" {
  source = "./modules/bucket"

  name                              = "${local.name}-artifacts-${local.account_id}-${local.region}"
  purpose                           = "artifacts"
  kms_key_arn                       = aws_kms_key.this.arn
  noncurrent_version_retention_days = var.noncurrent_version_retention_days
  access_log_bucket                 = module.alb_logs.name
  force_destroy                     = var.force_destroy
}

module "backups" {
  source = "./modules/bucket"

  name                              = "${local.name}-backups-${local.account_id}-${local.region}"
  purpose                           = "backups"
  kms_key_arn                       = aws_kms_key.this.arn
  noncurrent_version_retention_days = var.noncurrent_version_retention_days
  archive_after_days                = var.backups_archive_after_days
  access_log_bucket                 = module.alb_logs.name
  force_destroy                     = var.force_destroy
}

data "aws_iam_policy_document" "log_delivery" {
  statement {
    sid       = "ElbAccountWritesAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::${local.name}-alb-logs-${local.account_id}-${local.region}/alb/AWSLogs/${local.account_id}/*"]

    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.current.arn]
    }
  }

  # Regions opened after August 2022 deliver ALB logs through this service
  # principal instead of a regional ELB account.
  statement {
    sid       = "ElbLogDeliveryWritesAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::${local.name}-alb-logs-${local.account_id}-${local.region}/alb/AWSLogs/${local.account_id}/*"]

    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }

  statement {
    sid       = "S3ServerAccessLogsDelivery"
    actions   = ["s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::${local.name}-alb-logs-${local.account_id}-${local.region}/s3-access/*"]

    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}
