data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  name       = "notejam-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition

  # The contract's log groups; RDS's own group lives with the database.
  log_sources = toset(["app", "system", "codedeploy", "audit"])

  t = var.thresholds

  free_storage_threshold_bytes = var.db_allocated_storage_gib * 1073741824 * local.t.db_free_storage_percent / 100

  alarm_actions = [aws_sns_topic.alarms.arn]
}

# ---------------------------------------------------------------- encryption

resource "aws_kms_key" "this" {
  description             = "notejam ${var.environment}: log groups and the alarm topic"
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
      {
        Sid       = "CloudWatchLogsEncryptsThisAccountsGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*" }
        }
      },
      {
        Sid       = "AlarmPublishersUseKeyForTopic"
        Effect    = "Allow"
        Principal = { Service = ["cloudwatch.amazonaws.com", "events.amazonaws.com"] }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
    ]
  })

  tags = {
    Name = "${local.name}-observability"
    Tier = "observability"
  }
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.name}-observability"
  target_key_id = aws_kms_key.this.key_id
}


# ---------------------------------------------------------------- log groups

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.log_sources

  name              = "/notejam/${var.environment}/${each.key}"
  retention_in_days = var.log_retention_days[each.key]
  kms_key_id        = aws_kms_key.this.arn

  tags = {
    Tier   = "observability"
    Source = each.key
  }
}

# Kept outside /notejam/<env>/ so the console's merged log view only shows the
# contract's groups.
resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = "/aws/vpc/${local.name}/flow-logs"
  retention_in_days = var.flow_log_retention_days
  kms_key_id        = aws_kms_key.this.arn

  tags = {
    Tier   = "observability"
    Source = "vpc-flow-logs"
  }
}

# ---------------------------------------------------------------- notifications

resource "aws_sns_topic" "alarms" {
  name              = "${local.name}-alarms"
  kms_master_key_id = aws_kms_key.this.arn

  tags = {
    Tier = "observability"
  }
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "AccountManagesTopic"
    actions   = ["sns:*"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "AlarmsAndEventsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_email_addresses)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

# ---------------------------------------------------------------- edge and web alarms

resource "aws_cloudwatch_metric_alarm" "p99_latency" {
  alarm_name          = "${local.name}-p99-latency"
  alarm_description   = "p99 target response time above ${local.t.p99_latency_seconds}s for 3 of the last 3 minutes. Deployments roll back on it."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = local.t.p99_latency_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"

  dimensions = {
    LoadBalancer = var.alb_arn_suffix
    TargetGroup  = var.target_group_arn_suffix
  }

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions

  tags = {
    Tier = "observability"
  }
}

# 5xx as a share of requests, counting both the targets' 5xx and the ALB's own
# (502/503/504 when targets fail). Quiet minutes with a handful of requests do
# not count: the rate is only computed above min_requests_per_minute.
resource "aws_cloudwatch_metric_alarm" "error_rate" {
  alarm_name          = "${local.name}-5xx-rate"
  alarm_description   = "5xx responses above ${local.t.error_rate_percent}% of requests for 3 of the last 3 minutes. Deployments roll back on it."
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = local.t.error_rate_percent
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"

  metric_query {
    id          = "rate"
    expression  = "IF(requests >= ${local.t.min_requests_per_minute}, 100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)"
    label       = "5xx %"
    return_data = true
  }

  metric_query {
    id = "requests"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      period      = 60
      stat        = "Sum"
      dimensions = {
        LoadBalancer = var.alb_arn_suffix
      }
    }
  }

  metric_query {
    id = "target5xx"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      period      = 60
      stat        = "Sum"
      dimensions = {
        LoadBalancer = var.alb_arn_suffix
      }
    }
  }

  metric_query {
    id = "elb5xx"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_ELB_5XX_Count"
      period      = 60
      stat        = "Sum"
      dimensions = {
        LoadBalancer = var.alb_arn_suffix
      }
    }
  }

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions

  tags = {
    Tier = "observability"
  }
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  alarm_name          = "${local.name}-unhealthy-hosts"
  alarm_description   = "At least one web target failed its health check for 3 minutes."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"

  dimensions = {
    LoadBalancer = var.alb_arn_suffix
    TargetGroup  = var.target_group_arn_suffix
  }

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions

  tags = {
    Tier = "observability"
  }
}

resource "aws_cloudwatch_metric_alarm" "web_cpu" {
  alarm_name          = "${local.name}-web-cpu"
  alarm_description   = "Average web CPU above ${local.t.web_cpu_percent}% for 10 minutes: scaling is not keeping up or max_size is reached."
  namespace           = "AWS/EC2"
  metric_name         = "CPUUtilization"
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  threshold           = local.t.web_cpu_percent
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "missing"

  dimensions = {
    AutoScalingGroupName = var.web_asg_name
  }

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions

  tags = {
    Tier = "observability"
  }
}

# ---------------------------------------------------------------- database alarms

resource "aws_cloudwatch_metric_alarm" "db_cpu" {
  alarm_name          = "${local.name}-db-cpu"
  alarm_description   = "Database CPU above ${local.t.db_cpu_percent}% for 15 minutes."
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = local.t.db_cpu_percent
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "missing"

  dimensions = {
    DBInstanceIdentifier = var.db_instance_identifier
  }

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions

  tags = {
    Tier = "observability"
  }
}

resource "aws_cloudwatch_metric_alarm" "db_free_storage" {
  alarm_name          = "${local.name}-db-free-storage"
  alarm_description   = "Database free storage below ${local.t.db_free_storage_percent}% of the ${var.db_allocated_storage_gib} GiB allocated."
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 1
  threshold           = local.free_storage_threshold_bytes
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "missing"

  dimensions = {
    DBInstanceIdentifier = var.db_instance_identifier
  }

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions

  tags = {
    Tier = "observability"
  }
}

resource "aws_cloudwatch_metric_alarm" "db_connections" {
  alarm_name          = "${local.name}-db-connections"
  alarm_description   = "More than ${local.t.db_connections} database connections for 10 minutes: near the instance's max_connections."
  namespace           = "AWS/RDS"
  metric_name         = "DatabaseConnections"
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  threshold           = local.t.db_connections
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "missing"

  dimensions = {
    DBInstanceIdentifier = var.db_instance_identifier
  }

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions

  tags = {
    Tier = "observability"
  }
}

# ---------------------------------------------------------------- backup alarms

# AWS Backup publishes job counts per vault to AWS/Backup every 5 minutes.
resource "aws_cloudwatch_metric_alarm" "backup_job_failed" {
  alarm_name          = "${local.name}-backup-job-failed"
  alarm_description   = "A backup job into vault ${var.backup_vault_name} failed, was aborted or expired before it could run."
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"

  metric_query {
    id          = "failed_jobs"
    expression  = "FILL(failed, 0) + FILL(aborted, 0) + FILL(expired, 0)"
    label       = "Failed, aborted or expired backup jobs"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = {
      failed  = "NumberOfBackupJobsFailed"
      aborted = "NumberOfBackupJobsAborted"
      expired = "NumberOfBackupJobsExpired"
    }

    content {
      id = metric_query.key

      metric {
        namespace   = "AWS/Backup"
        metric_name = metric_query.value
        period      = 3600
        stat        = "Sum"
        dimensions = {
          BackupVaultName = var.backup_vault_name
        }
      }
    }
  }

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions

  tags = {
    Tier = "observability"
  }
}

# "Newest backup older than 26 h" measured from AWS Backup's own job metrics:
# 26 hourly buckets of completed jobs into the vault, missing data counting as
# zero. Only when every one of the 26 hours saw no completed job does the
# alarm fire, which is exactly "the newest recovery point is over 26 h old"
# for a daily plan. (Periods of an hour or more may span up to 7 days.)
resource "aws_cloudwatch_metric_alarm" "backup_stale" {
  alarm_name          = "${local.name}-backup-older-than-26h"
  alarm_description   = "No backup job into vault ${var.backup_vault_name} has completed for 26 hours."
  namespace           = "AWS/Backup"
  metric_name         = "NumberOfBackupJobsCompleted"
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 26
  datapoints_to_alarm = 26
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"

  dimensions = {
    BackupVaultName = var.backup_vault_name
  }

  alarm_actions = local.alarm_actions
  ok_actions    = local.alarm_actions

  tags = {
    Tier = "observability"
  }
}

# The alarm says that something failed; the event says which job and why.
resource "aws_cloudwatch_event_rule" "backup_job_failed" {
  name        = "${local.name}-backup-job-failed"
  description = "Backup jobs into ${var.backup_vault_name} that end FAILED, ABORTED or EXPIRED."

  event_pattern = jsonencode({
    source        = ["aws.backup"]
    "detail-type" = ["Backup Job State Change"]
    detail = {
      state           = ["FAILED", "ABORTED", "EXPIRED"]
      backupVaultName = [var.backup_vault_name]
    }
  })

  tags = {
    Tier = "observability"
  }
}

resource "aws_cloudwatch_event_target" "backup_job_failed" {
  rule = aws_cloudwatch_event_rule.backup_job_failed.name
  arn  = aws_sns_topic.alarms.arn
}

# ---------------------------------------------------------------- dashboard

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = local.name
  dashboard_body = jsonencode({
    widgets = [
      {
        type   = "alarm"
        x      = 0
        y      = 0
        width  = 24
        height = 3
        properties = {
          title = "Alarms"
          alarms = [
            aws_cloudwatch_metric_alarm.p99_latency.arn,
            aws_cloudwatch_metric_alarm.error_rate.arn,
            aws_cloudwatch_metric_alarm.unhealthy_hosts.arn,
            aws_cloudwatch_metric_alarm.web_cpu.arn,
            aws_cloudwatch_metric_alarm.db_cpu.arn,
            aws_cloudwatch_metric_alarm.db_free_storage.arn,
            aws_cloudwatch_metric_alarm.db_connections.arn,
            aws_cloudwatch_metric_alarm.backup_job_failed.arn,
            aws_cloudwatch_metric_alarm.backup_stale.arn,
          ]
        }
      },
      {
        type   = "metric"
        x      = 0
        y      = 3
        width  = 8
        height = 6
        properties = {
          title  = "Requests"
          region = local.region
          stat   = "Sum"
          period = 60
          metrics = [
            ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", var.alb_arn_suffix],
          ]
        }
      },
      {
        type   = "metric"
        x      = 8
        y      = 3
        width  = 8
        height = 6
        properties = {
          title  = "Target response time (s)"
          region = local.region
          period = 60
          metrics = [
            ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix, { stat = "p50", label = "p50" }],
            ["...", { stat = "p99", label = "p99" }],
          ]
          annotations = {
            horizontal = [{ label = "p99 alarm", value = local.t.p99_latency_seconds }]
          }
        }
      },
      {
        type   = "metric"
        x      = 16
        y      = 3
        width  = 8
        height = 6
        properties = {
          title  = "5xx responses"
          region = local.region
          stat   = "Sum"
          period = 60
          metrics = [
            ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", var.alb_arn_suffix, { label = "from targets" }],
            [".", "HTTPCode_ELB_5XX_Count", ".", ".", { label = "from the ALB" }],
          ]
        }
      },
      {
        type   = "metric"
        x      = 0
        y      = 9
        width  = 8
        height = 6
        properties = {
          title  = "Web hosts"
          region = local.region
          stat   = "Maximum"
          period = 60
          metrics = [
            ["AWS/ApplicationELB", "HealthyHostCount", "LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix, { label = "healthy" }],
            [".", "UnHealthyHostCount", ".", ".", ".", ".", { label = "unhealthy" }],
          ]
        }
      },
      {
        type   = "metric"
        x      = 8
        y      = 9
        width  = 8
        height = 6
        properties = {
          title  = "CPU (%)"
          region = local.region
          stat   = "Average"
          period = 60
          metrics = [
            ["AWS/EC2", "CPUUtilization", "AutoScalingGroupName", var.web_asg_name, { label = "web" }],
            ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", var.db_instance_identifier, { label = "database" }],
          ]
        }
      },
      {
        type   = "metric"
        x      = 16
        y      = 9
        width  = 8
        height = 6
        properties = {
          title  = "Database connections and free storage"
          region = local.region
          period = 300
          metrics = [
            ["AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", var.db_instance_identifier, { stat = "Maximum", label = "connections" }],
            [".", "FreeStorageSpace", ".", ".", { stat = "Minimum", label = "free storage (bytes)", yAxis = "right" }],
          ]
        }
      },
      {
        type   = "metric"
        x      = 0
        y      = 15
        width  = 16
        height = 6
        properties = {
          title  = "Application metrics (Notejam/App)"
          region = local.region
          period = 60
          metrics = [
            [{ expression = "SEARCH('{Notejam/App,Environment} Environment=\"${var.environment}\"', 'Average', 60)", id = "app", label = "" }],
          ]
        }
      },
      {
        type   = "metric"
        x      = 16
        y      = 15
        width  = 8
        height = 6
        properties = {
          title  = "Backup jobs (vault ${var.backup_vault_name})"
          region = local.region
          stat   = "Sum"
          period = 3600
          metrics = [
            ["AWS/Backup", "NumberOfBackupJobsCompleted", "BackupVaultName", var.backup_vault_name, { label = "completed" }],
            [".", "NumberOfBackupJobsFailed", ".", ".", { label = "failed" }],
          ]
        }
      },
    ]
  })
}
