output "application_name" {
  description = "CodeDeploy application (notejam)."
  value       = aws_codedeploy_deployment_group.this.app_name
}

output "deployment_group_name" {
  description = "CodeDeploy deployment group (<env>)."
  value       = aws_codedeploy_deployment_group.this.deployment_group_name
}

output "deployment_group_arn" {
  description = "ARN of the deployment group."
  value       = aws_codedeploy_deployment_group.this.arn
}

output "deploy_role_arn" {
  description = "Role the pipeline assumes (OIDC) to upload bundles and deploy this environment."
  value       = aws_iam_role.deploy.arn
}

output "codedeploy_service_role_arn" {
  description = "CodeDeploy's service role."
  value       = aws_iam_role.codedeploy.arn
}
