variable "environments" {
  description = "Environments the policies reach (each the contract's <env>)."
  type        = list(string)

  validation {
    condition     = length(var.environments) > 0 && alltrue([for e in var.environments : can(regex("^[a-z][a-z0-9-]{1,14}$", e))])
    error_message = "environments must be a non-empty list of environment names (a-z, 0-9, '-')."
  }
}

variable "name_prefix" {
  description = "Prefix of the policy and role names: <prefix>-readonly and <prefix>-operator."
  type        = string
  default     = "njtui"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,50}$", var.name_prefix))
    error_message = "name_prefix must be 1-50 characters valid in IAM names."
  }
}

variable "create_roles" {
  description = "Create the assumable roles as well as the managed policies (false when only the policies are wanted, e.g. for the bastion)."
  type        = bool
  default     = true
}

variable "trusted_principal_arns" {
  description = "IAM principals (users, roles, or account roots) allowed to assume the roles. Empty trusts this account's IAM (its policies then decide)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.trusted_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:", a))])
    error_message = "trusted_principal_arns must be IAM ARNs."
  }
}

variable "require_mfa" {
  description = "Only let principals that signed in with MFA assume the roles."
  type        = bool
  default     = true
}

variable "max_session_duration_seconds" {
  description = "Longest session of an assumed role."
  type        = number
  default     = 14400

  validation {
    condition     = var.max_session_duration_seconds >= 3600 && var.max_session_duration_seconds <= 43200
    error_message = "max_session_duration_seconds must be between 3600 and 43200."
  }
}

variable "permissions_boundary_arn" {
  description = "IAM policy ARN of the permissions boundary the roles get: notejam-permissions-boundary, created by provision/global (the most any project role may do). Required even when create_roles is false, so turning the roles on cannot leave them unbounded."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/[A-Za-z0-9+=,.@_/-]+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be the ARN of a customer managed IAM policy (arn:aws:iam::<account>:policy/<name>)."
  }
}
