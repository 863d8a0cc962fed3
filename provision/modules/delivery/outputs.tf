output "application_name" {
  description = "CodeDeploy application (notejam)."
  value       = aws_codedeploy_deployment_group.this.app_name
}

output "deployment_group_name" {
  description = "CodeDeploy deployment group of the fleet (<env>)."
  value       = aws_codedeploy_deployment_group.this.deployment_group_name
}

output "deployment_group_arn" {
  description = "ARN of the fleet deployment group."
  value       = aws_codedeploy_deployment_group.this.arn
}

output "canary_deployment_group_name" {
  description = "CodeDeploy deployment group of the canary (<env>-canary): instances tagged Project = notejam, Environment = <env>, Canary = true."
  value       = aws_codedeploy_deployment_group.canary.deployment_group_name
}

output "canary_deployment_group_arn" {
  description = "ARN of the canary deployment group."
  value       = aws_codedeploy_deployment_group.canary.arn
}

output "canary_tag_key" {
  description = "Tag the pipeline sets to \"true\" on the instance it deploys to first."
  value       = local.canary_tag
}

output "deploy_role_arn" {
  description = "Role the pipeline assumes (OIDC) to upload bundles and deploy this environment."
  value       = aws_iam_role.deploy.arn
}

output "codedeploy_service_role_arn" {
  description = "CodeDeploy's service role."
  value       = aws_iam_role.codedeploy.arn
}
