output "autoscaling_group_name" {
  description = "Name of the web Auto Scaling group (notejam-<env>-web)."
  value       = aws_autoscaling_group.this.name
}

output "autoscaling_group_arn" {
  description = "ARN of the web Auto Scaling group."
  value       = aws_autoscaling_group.this.arn
}

output "security_group_id" {
  description = "Security group of the web instances."
  value       = aws_security_group.this.id
}

output "launch_template_id" {
  description = "ID of the web launch template."
  value       = aws_launch_template.this.id
}

output "role_arn" {
  description = "Instance role of the web servers."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the web instance role."
  value       = aws_iam_role.this.name
}

output "secret_key_parameter_name" {
  description = "SSM parameter holding NOTEJAM_SECRET_KEY."
  value       = aws_ssm_parameter.secret_key.name
}
