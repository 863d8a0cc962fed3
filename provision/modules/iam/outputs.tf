output "readonly_policy_arn" {
  description = "Managed policy with everything the console reads."
  value       = aws_iam_policy.readonly.arn
}

output "operator_policy_arn" {
  description = "Managed policy with the console's actions (use together with the read-only policy)."
  value       = aws_iam_policy.operator.arn
}

output "readonly_role_arn" {
  description = "Role <prefix>-readonly, or null when create_roles is false."
  value       = var.create_roles ? aws_iam_role.readonly[0].arn : null
}

output "operator_role_arn" {
  description = "Role <prefix>-operator, or null when create_roles is false."
  value       = var.create_roles ? aws_iam_role.operator[0].arn : null
}
