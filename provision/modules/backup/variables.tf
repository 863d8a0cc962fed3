variable "environment" {
  description = "Environment name (the contract's <env>): vault notejam-<env>, plan notejam-<env>-daily."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}$", var.environment))
    error_message = "environment must be 2-15 characters of a-z, 0-9 and '-', starting with a letter."
  }
}

variable "daily_schedule" {
  description = "Cron (UTC) of the daily rule; keep it clear of the RDS backup window."
  type        = string
  default     = "cron(0 5 * * ? *)"

  validation {
    condition     = can(regex("^cron\\(.+\\)$", var.daily_schedule))
    error_message = "daily_schedule must be a cron(...) expression."
  }
}

variable "daily_retention_days" {
  description = "Days each daily recovery point is kept."
  type        = number
  default     = 35

  validation {
    condition     = var.daily_retention_days >= 7
    error_message = "daily_retention_days must be at least 7."
  }
}

variable "monthly_schedule" {
  description = "Cron (UTC) of the monthly rule."
  type        = string
  default     = "cron(0 6 1 * ? *)"

  validation {
    condition     = can(regex("^cron\\(.+\\)$", var.monthly_schedule))
    error_message = "monthly_schedule must be a cron(...) expression."
  }
}

variable "monthly_retention_days" {
  description = "Days each monthly recovery point is kept."
  type        = number
  default     = 365

  validation {
    condition     = var.monthly_retention_days >= 30
    error_message = "monthly_retention_days must be at least 30."
  }
}

variable "monthly_cold_storage_after_days" {
  description = "Days after which monthly recovery points of resources that support it move to cold storage (null: never). Cold storage needs 90 days there, so retention must exceed this by 90."
  type        = number
  default     = null

  validation {
    condition     = var.monthly_cold_storage_after_days == null ? true : var.monthly_cold_storage_after_days >= 1 && var.monthly_retention_days >= var.monthly_cold_storage_after_days + 90
    error_message = "monthly_cold_storage_after_days must be positive and at least 90 days below monthly_retention_days."
  }
}

variable "copy_to_vault_arn" {
  description = "Vault in another region (or account) receiving a copy of every recovery point; null for no copy."
  type        = string
  default     = null

  validation {
    condition     = var.copy_to_vault_arn == null || can(regex("^arn:aws[a-z-]*:backup:[a-z0-9-]+:[0-9]{12}:backup-vault:", var.copy_to_vault_arn))
    error_message = "copy_to_vault_arn must be a backup vault ARN or null."
  }
}

variable "vault_lock" {
  description = "Compliance lock of the vault, or null for none. After changeable_for_days the lock cannot be removed by anyone."
  type = object({
    min_retention_days  = number
    max_retention_days  = number
    changeable_for_days = number
  })
  default = null

  validation {
    condition     = var.vault_lock == null ? true : var.vault_lock.min_retention_days >= 7 && var.vault_lock.max_retention_days >= var.vault_lock.min_retention_days && var.vault_lock.changeable_for_days >= 3
    error_message = "vault_lock needs min_retention_days >= 7, max >= min and changeable_for_days >= 3."
  }
}

variable "resource_arn_patterns" {
  description = "Resource types the plan covers (ARN patterns); combined with the Project/Environment tag condition."
  type        = list(string)

  validation {
    condition     = length(var.resource_arn_patterns) > 0
    error_message = "resource_arn_patterns must not be empty."
  }
}

variable "excluded_resource_arns" {
  description = "Resources matching the patterns and tags that are still left out (e.g. the log bucket)."
  type        = list(string)
  default     = []
}

variable "storage_kms_key_arn" {
  description = "KMS key of the data buckets, which AWS Backup must use to read and restore them."
  type        = string
}

variable "permissions_boundary_arn" {
  description = "IAM policy ARN of the permissions boundary every role of this module gets: notejam-permissions-boundary, created by provision/global (the most any project role may do)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/[A-Za-z0-9+=,.@_/-]+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be the ARN of a customer managed IAM policy (arn:aws:iam::<account>:policy/<name>)."
  }
}
