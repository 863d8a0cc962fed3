output "environment" {
  description = "Environment name."
  value       = local.environment
}

output "app_url" {
  description = "Where the app answers."
  value       = module.alb.url
}

output "alb_dns_name" {
  description = "DNS name of the ALB (alias your domain to it)."
  value       = module.alb.dns_name
}

output "vpc_id" {
  description = "VPC of the environment."
  value       = module.network.vpc_id
}

output "web_autoscaling_group" {
  description = "Web Auto Scaling group."
  value       = module.web.autoscaling_group_name
}

output "bastion_autoscaling_group" {
  description = "Bastion Auto Scaling group."
  value       = module.bastion.autoscaling_group_name
}

output "database_identifier" {
  description = "RDS instance identifier."
  value       = module.database.identifier
}

output "database_parameter_path" {
  description = "SSM path with the database connection parameters."
  value       = module.database.parameter_path
}

output "buckets" {
  description = "Buckets by Purpose."
  value       = module.storage.bucket_names
}

output "codedeploy" {
  description = "CodeDeploy application, the fleet and canary deployment groups, and the tag that marks a canary."
  value = {
    application             = module.delivery.application_name
    deployment_group        = module.delivery.deployment_group_name
    canary_deployment_group = module.delivery.canary_deployment_group_name
    canary_tag_key          = module.delivery.canary_tag_key
  }
}

output "deploy_role_arn" {
  description = "Role the pipeline assumes to deploy this environment."
  value       = module.delivery.deploy_role_arn
}

output "log_groups" {
  description = "Contract log groups by source."
  value       = module.observability.log_group_names
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.observability.sns_topic_arn
}

output "dashboard" {
  description = "CloudWatch dashboard name."
  value       = module.observability.dashboard_name
}

output "backup_vault" {
  description = "AWS Backup vault."
  value       = module.backup.vault_name
}

output "backup_plan" {
  description = "AWS Backup plan."
  value       = module.backup.plan_name
}
