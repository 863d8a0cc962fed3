output "autoscaling_group_name" {
  description = "Name of the bastion Auto Scaling group (notejam-<env>-bastion)."
  value       = aws_autoscaling_group.this.name
}

output "security_group_id" {
  description = "Security group of the bastion."
  value       = aws_security_group.this.id
}

output "role_name" {
  description = "Instance role of the bastion."
  value       = aws_iam_role.this.name
}
