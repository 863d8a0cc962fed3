variable "region" {
  description = "Region of the state bucket (use the environments' region)."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "state_version_retention_days" {
  description = "Days an overwritten state version is kept (the newest 20 are always kept)."
  type        = number
  default     = 90

  validation {
    condition     = var.state_version_retention_days >= 7
    error_message = "state_version_retention_days must be at least 7."
  }
}
