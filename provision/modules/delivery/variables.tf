variable "environment" {
  description = "Environment name (the contract's <env>): the deployment group is named after it."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}$", var.environment))
    error_message = "environment must be 2-15 characters of a-z, 0-9 and '-', starting with a letter."
  }
}

variable "application_name" {
  description = "CodeDeploy application shared by all environments, created by the global root."
  type        = string
  default     = "notejam"

  validation {
    condition     = var.application_name == "notejam"
    error_message = "The contract names the CodeDeploy application \"notejam\"."
  }
}

variable "deployment_config_name" {
  description = "How many instances of the fleet group <env> CodeDeploy takes out of service at once (the canary group always deploys AllAtOnce)."
  type        = string
  default     = "CodeDeployDefault.OneAtATime"

  validation {
    condition     = contains(["CodeDeployDefault.OneAtATime", "CodeDeployDefault.HalfAtATime", "CodeDeployDefault.AllAtOnce"], var.deployment_config_name)
    error_message = "deployment_config_name must be one of CodeDeploy's EC2 defaults."
  }
}

variable "web_autoscaling_group_name" {
  description = "The web Auto Scaling group deployed to."
  type        = string
}

variable "web_instance_role_arn" {
  description = "Instance role of the web launch template (CodeDeploy passes it when it launches)."
  type        = string
}

variable "target_group_name" {
  description = "Target group CodeDeploy takes instances out of while it installs."
  type        = string
}

variable "rollback_alarm_names" {
  description = "Alarms that stop a deployment of either group and roll it back (p99 latency, 5xx rate); the deploy role may describe these."
  type        = list(string)

  validation {
    condition     = length(var.rollback_alarm_names) >= 1 && length(var.rollback_alarm_names) <= 10
    error_message = "rollback_alarm_names must hold 1 to 10 alarms (CodeDeploy's limit)."
  }
}

variable "artifacts_bucket_arn" {
  description = "Deployment bundle bucket (Purpose = artifacts)."
  type        = string
}

variable "artifacts_kms_key_arn" {
  description = "KMS key of the artifacts bucket."
  type        = string
}

variable "github_oidc_provider_arn" {
  description = "ARN of the account's token.actions.githubusercontent.com OIDC provider (created by the global root)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token.actions.githubusercontent.com$", var.github_oidc_provider_arn))
    error_message = "github_oidc_provider_arn must be the GitHub Actions OIDC provider ARN."
  }
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose workflows deploy."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must look like owner/name."
  }
}

variable "github_environment" {
  description = "GitHub environment a job must run in to assume the deploy role (protection rules, such as a required approval for prod, live there)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+$", var.github_environment))
    error_message = "github_environment must be a plain GitHub environment name (no wildcards)."
  }
}

variable "github_allowed_refs" {
  description = "Git refs whose jobs (in github_environment) may assume the deploy role; matched exactly in the OIDC sub claim."
  type        = list(string)
  default     = ["refs/heads/main"]

  validation {
    condition     = length(var.github_allowed_refs) > 0 && alltrue([for r in var.github_allowed_refs : can(regex("^refs/(heads|tags)/[A-Za-z0-9._/-]+$", r))])
    error_message = "github_allowed_refs must be a non-empty list of full refs such as refs/heads/main, without wildcards."
  }
}

variable "permissions_boundary_arn" {
  description = "IAM policy ARN of the permissions boundary every role of this module gets: notejam-permissions-boundary, created by provision/global (the most any project role may do)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/[A-Za-z0-9+=,.@_/-]+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be the ARN of a customer managed IAM policy (arn:aws:iam::<account>:policy/<name>)."
  }
}
