output "codedeploy_application" {
  description = "The shared CodeDeploy application."
  value       = aws_codedeploy_app.notejam.name
}

output "github_oidc_provider_arn" {
  description = "GitHub Actions OIDC provider."
  value       = aws_iam_openid_connect_provider.github.arn
}

output "terraform_plan_role_arn" {
  description = "Role for terraform plan jobs of pushes to the allowed refs (main): state access."
  value       = aws_iam_role.terraform_plan.arn
}

output "terraform_pr_plan_role_arn" {
  description = "Role for speculative terraform plan jobs of pull requests: no state, no secrets."
  value       = aws_iam_role.terraform_pr_plan.arn
}

output "terraform_apply_role_arn" {
  description = "Role for terraform apply jobs."
  value       = aws_iam_role.terraform_apply.arn
}

output "njtui_readonly_role_arn" {
  description = "Role njtui-readonly."
  value       = module.console_access.readonly_role_arn
}

output "njtui_operator_role_arn" {
  description = "Role njtui-operator."
  value       = module.console_access.operator_role_arn
}
