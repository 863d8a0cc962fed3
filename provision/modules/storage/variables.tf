variable "environment" {
  description = "Environment name (the contract's <env>): lower case, used in every name and the Environment tag."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}$", var.environment))
    error_message = "environment must be 2-15 characters of a-z, 0-9 and '-', starting with a letter."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days a replaced or deleted object version is kept in the artifacts and backups buckets (rollback to an old bundle needs it)."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_retention_days >= 7
    error_message = "noncurrent_version_retention_days must be at least 7."
  }
}

variable "backups_archive_after_days" {
  description = "Days after which objects in the backups bucket move to S3 Glacier Instant Retrieval."
  type        = number
  default     = 30

  validation {
    condition     = var.backups_archive_after_days >= 30
    error_message = "backups_archive_after_days must be at least 30 (the minimum before a Glacier Instant Retrieval transition)."
  }
}

variable "log_retention_days" {
  description = "Days ALB access logs and S3 server access logs are kept."
  type        = number
  default     = 90

  validation {
    condition     = var.log_retention_days >= 7 && var.log_retention_days <= 3650
    error_message = "log_retention_days must be between 7 and 3650."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy delete buckets that still hold objects. Keep false where data matters."
  type        = bool
  default     = false
}
