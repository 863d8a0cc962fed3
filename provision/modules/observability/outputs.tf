output "log_group_names" {
  description = "Contract log group names keyed by source (app, system, codedeploy, audit)."
  value       = { for k, g in aws_cloudwatch_log_group.this : k => g.name }
}

output "log_group_arns" {
  description = "Contract log group ARNs keyed by source."
  value       = { for k, g in aws_cloudwatch_log_group.this : k => g.arn }
}

output "flow_log_group_arn" {
  description = "ARN of the VPC flow log group."
  value       = aws_cloudwatch_log_group.flow_logs.arn
}

output "kms_key_arn" {
  description = "KMS key of the log groups and the alarm topic."
  value       = aws_kms_key.this.arn
}

output "sns_topic_arn" {
  description = "Topic every alarm notifies."
  value       = aws_sns_topic.alarms.arn
}

output "deployment_alarm_names" {
  description = "Alarms that stop and roll back a CodeDeploy deployment (p99 latency, 5xx rate)."
  value = [
    aws_cloudwatch_metric_alarm.p99_latency.alarm_name,
    aws_cloudwatch_metric_alarm.error_rate.alarm_name,
  ]
}

output "alarm_names" {
  description = "Every alarm of the environment."
  value = [
    aws_cloudwatch_metric_alarm.p99_latency.alarm_name,
    aws_cloudwatch_metric_alarm.error_rate.alarm_name,
    aws_cloudwatch_metric_alarm.unhealthy_hosts.alarm_name,
    aws_cloudwatch_metric_alarm.web_cpu.alarm_name,
    aws_cloudwatch_metric_alarm.db_cpu.alarm_name,
    aws_cloudwatch_metric_alarm.db_free_storage.alarm_name,
    aws_cloudwatch_metric_alarm.db_connections.alarm_name,
    aws_cloudwatch_metric_alarm.backup_job_failed.alarm_name,
    aws_cloudwatch_metric_alarm.backup_stale.alarm_name,
  ]
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
