variable "name" {
  description = "Globally unique bucket name."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be a valid S3 bucket name (3-63 characters of a-z, 0-9, '.', '-')."
  }
}

variable "purpose" {
  description = "The contract's Purpose tag: artifacts, backups or alb-logs."
  type        = string

  validation {
    condition     = contains(["artifacts", "backups", "alb-logs"], var.purpose)
    error_message = "purpose must be one of artifacts, backups, alb-logs."
  }
}

variable "kms_key_arn" {
  description = "Customer managed key for SSE-KMS; null uses SSE-S3 (required for log delivery targets)."
  type        = string
  default     = null
}

variable "noncurrent_version_retention_days" {
  description = "Days a replaced or deleted object version is kept."
  type        = number

  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

variable "expire_after_days" {
  description = "Days after which current objects expire; null keeps them."
  type        = number
  default     = null

  validation {
    condition     = var.expire_after_days == null ? true : var.expire_after_days >= 1
    error_message = "expire_after_days must be at least 1 or null."
  }
}

variable "archive_after_days" {
  description = "Days after which objects move to Glacier Instant Retrieval; null never."
  type        = number
  default     = null

  validation {
    condition     = var.archive_after_days == null ? true : var.archive_after_days >= 30
    error_message = "archive_after_days must be at least 30 or null."
  }
}

variable "access_log_bucket" {
  description = "Bucket receiving this bucket's server access logs under s3-access/<purpose>/, or null."
  type        = string
  default     = null
}

variable "policy_json" {
  description = "Extra bucket policy statements (JSON) merged with the TLS-only statement."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Let terraform destroy delete the bucket with its objects."
  type        = bool
  default     = false
}
