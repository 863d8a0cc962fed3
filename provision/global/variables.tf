variable "region" {
  description = "Region of the environments (the CodeDeploy application and the console policies are regional)."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "environments" {
  description = "Environments the console roles reach."
  type        = list(string)
  default     = ["staging", "prod"]

  validation {
    condition     = length(var.environments) > 0 && alltrue([for e in var.environments : can(regex("^[a-z][a-z0-9-]{1,14}$", e))])
    error_message = "environments must be a non-empty list of environment names."
  }
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose workflows plan and apply."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must look like owner/name."
  }
}

variable "github_allowed_refs" {
  description = "Git refs whose workflow runs may assume the plan (main pushes) and apply roles; matched exactly in the OIDC sub claim."
  type        = list(string)
  default     = ["refs/heads/main"]

  validation {
    condition     = length(var.github_allowed_refs) > 0 && alltrue([for r in var.github_allowed_refs : can(regex("^refs/(heads|tags)/[A-Za-z0-9._/-]+$", r))])
    error_message = "github_allowed_refs must be a non-empty list of full refs such as refs/heads/main, without wildcards."
  }
}

variable "terraform_apply_github_environments" {
  description = "GitHub environments whose jobs may assume the apply role."
  type        = list(string)
  default     = ["infra-staging", "infra-prod"]

  validation {
    condition     = length(var.terraform_apply_github_environments) > 0 && alltrue([for e in var.terraform_apply_github_environments : can(regex("^[A-Za-z0-9._-]+$", e))])
    error_message = "At least one GitHub environment must be allowed to apply, each a plain name (no wildcards)."
  }
}

variable "state_bucket" {
  description = "Terraform state bucket created by provision/bootstrap."
  type        = string
}

variable "state_kms_key_arn" {
  description = "KMS key of the state bucket (bootstrap output state_kms_key_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.state_kms_key_arn))
    error_message = "state_kms_key_arn must be a KMS key ARN."
  }
}

variable "console_trusted_principal_arns" {
  description = "Principals allowed to assume njtui-readonly / njtui-operator; empty trusts the account's IAM policies."
  type        = list(string)
  default     = []
}

variable "console_require_mfa" {
  description = "Require MFA to assume the console roles."
  type        = bool
  default     = true
}
