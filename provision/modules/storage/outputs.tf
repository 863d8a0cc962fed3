output "bucket_names" {
  description = "Bucket names keyed by Purpose (artifacts, backups, alb-logs)."
  value = {
    artifacts  = module.artifacts.name
    backups    = module.backups.name
    "alb-logs" = module.alb_logs.name
  }
}

output "bucket_arns" {
  description = "Bucket ARNs keyed by Purpose."
  value = {
    artifacts  = module.artifacts.arn
    backups    = module.backups.arn
    "alb-logs" = module.alb_logs.arn
  }
}

output "artifacts_bucket_name" {
  description = "The deployment bundle bucket (Purpose = artifacts)."
  value       = module.artifacts.name
}

output "artifacts_bucket_arn" {
  description = "ARN of the deployment bundle bucket."
  value       = module.artifacts.arn
}

output "alb_logs_bucket_name" {
  description = "The ALB access log bucket; available only once its policy lets the ELB service write."
  value       = module.alb_logs.name
  depends_on  = [module.alb_logs]
}

output "kms_key_arn" {
  description = "KMS key encrypting the artifacts and backups buckets."
  value       = aws_kms_key.this.arn
}
