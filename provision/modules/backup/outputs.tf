output "vault_name" {
  description = "Backup vault (notejam-<env>)."
  value       = aws_backup_vault.this.name
}

output "vault_arn" {
  description = "ARN of the backup vault."
  value       = aws_backup_vault.this.arn
}

output "plan_id" {
  description = "ID of the backup plan (notejam-<env>-daily)."
  value       = aws_backup_plan.this.id
}

output "plan_name" {
  description = "Name of the backup plan."
  value       = aws_backup_plan.this.name
}

output "role_arn" {
  description = "Role AWS Backup uses (the console passes it to on-demand jobs)."
  value       = aws_iam_role.this.arn
}

output "kms_key_arn" {
  description = "KMS key of the vault."
  value       = aws_kms_key.this.arn
}
