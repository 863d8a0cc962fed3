variable "environment" {
  description = "Environment name (the contract's <env>): the instance is notejam-<env>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}$", var.environment))
    error_message = "environment must be 2-15 characters of a-z, 0-9 and '-', starting with a letter."
  }
}

variable "vpc_id" {
  description = "VPC of the environment."
  type        = string
}

variable "subnet_ids" {
  description = "Database subnets (no route out of the VPC), at least two AZs as RDS requires."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "A DB subnet group needs subnets in at least two availability zones."
  }
}

variable "web_security_group_id" {
  description = "Security group of the web tier, the only source allowed to connect."
  type        = string

  validation {
    condition     = can(regex("^sg-[0-9a-f]+$", var.web_security_group_id))
    error_message = "web_security_group_id must be a security group ID (sg-...)."
  }
}

variable "engine_version" {
  description = "PostgreSQL version: a major (\"17\") lets RDS pick the current minor, which auto_minor_version_upgrade then follows."
  type        = string
  default     = "17"

  validation {
    condition     = can(regex("^1[4-9](\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version must be PostgreSQL 14 or later, e.g. \"17\" or \"17.5\"."
  }
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string

  validation {
    condition     = can(regex("^db\\.", var.instance_class))
    error_message = "instance_class must be an RDS class such as db.t4g.medium."
  }
}

variable "multi_az" {
  description = "Keep a synchronous standby in a second AZ (automatic failover)."
  type        = bool
}

variable "allocated_storage_gib" {
  description = "Initial gp3 storage in GiB."
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage_gib >= 20 && var.allocated_storage_gib <= 65536
    error_message = "allocated_storage_gib must be between 20 and 65536."
  }
}

variable "max_allocated_storage_gib" {
  description = "Ceiling for storage autoscaling in GiB (0 turns autoscaling off)."
  type        = number
  default     = 100

  validation {
    condition     = var.max_allocated_storage_gib == 0 || var.max_allocated_storage_gib >= var.allocated_storage_gib
    error_message = "max_allocated_storage_gib must be 0 or at least allocated_storage_gib."
  }
}

variable "port" {
  description = "PostgreSQL port."
  type        = number
  default     = 5432

  validation {
    condition     = var.port >= 1150 && var.port <= 65535
    error_message = "port must be between 1150 and 65535 (RDS's range)."
  }
}

variable "database_name" {
  description = "Database created for the app."
  type        = string
  default     = "notejam"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.database_name))
    error_message = "database_name must start with a letter and hold only a-z, 0-9 and '_'."
  }
}

variable "master_username" {
  description = "Master user name."
  type        = string
  default     = "notejam"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,15}$", var.master_username)) && !contains(["postgres", "rdsadmin", "admin"], var.master_username)
    error_message = "master_username must be 1-16 characters of a-z, 0-9 and '_' and not a reserved name."
  }
}

variable "password_version" {
  description = "Bump to generate and set a new master password (written to RDS and SSM without passing through the state)."
  type        = number
  default     = 1

  validation {
    condition     = var.password_version >= 1 && floor(var.password_version) == var.password_version
    error_message = "password_version must be a whole number, at least 1."
  }
}

variable "backup_retention_days" {
  description = "Days of automated backups (and so of point-in-time recovery). 7 at least; 35 is RDS's maximum."
  type        = number

  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 7 and 35."
  }
}

variable "backup_window" {
  description = "Daily UTC window for the automated backup; must not overlap maintenance_window or the AWS Backup plan's window."
  type        = string
  default     = "02:00-03:00"

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$", var.backup_window))
    error_message = "backup_window must look like hh:mm-hh:mm."
  }
}

variable "maintenance_window" {
  description = "Weekly UTC maintenance window."
  type        = string
  default     = "sun:04:00-sun:05:00"

  validation {
    condition     = can(regex("^(mon|tue|wed|thu|fri|sat|sun):[0-2][0-9]:[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):[0-2][0-9]:[0-5][0-9]$", var.maintenance_window))
    error_message = "maintenance_window must look like ddd:hh:mm-ddd:hh:mm."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (terraform destroy included) until this is turned off."
  type        = bool
}

variable "cloudwatch_logs_exports" {
  description = "PostgreSQL logs exported to /aws/rds/instance/notejam-<env>/<type>."
  type        = list(string)
  default     = ["postgresql", "upgrade"]

  validation {
    condition     = contains(var.cloudwatch_logs_exports, "postgresql") && alltrue([for t in var.cloudwatch_logs_exports : contains(["postgresql", "upgrade", "iam-db-auth-error"], t)])
    error_message = "cloudwatch_logs_exports must include postgresql and only hold postgresql, upgrade or iam-db-auth-error."
  }
}

variable "log_retention_days" {
  description = "Retention of the RDS log groups."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value up to 731."
  }
}

variable "log_min_duration_ms" {
  description = "Statements slower than this are logged with their text (log_min_duration_statement)."
  type        = number
  default     = 500

  validation {
    condition     = var.log_min_duration_ms >= 0
    error_message = "log_min_duration_ms must not be negative."
  }
}

variable "performance_insights_retention_days" {
  description = "Performance Insights retention: 7 (free tier), 731, or a multiple of 31."
  type        = number
  default     = 7

  validation {
    condition     = var.performance_insights_retention_days == 7 || var.performance_insights_retention_days == 731 || (var.performance_insights_retention_days % 31 == 0 && var.performance_insights_retention_days <= 713)
    error_message = "performance_insights_retention_days must be 7, 731 or a multiple of 31."
  }
}

variable "enhanced_monitoring_interval" {
  description = "Seconds between Enhanced Monitoring samples."
  type        = number
  default     = 60

  validation {
    condition     = contains([1, 5, 10, 15, 30, 60], var.enhanced_monitoring_interval)
    error_message = "enhanced_monitoring_interval must be 1, 5, 10, 15, 30 or 60."
  }
}

variable "apply_immediately" {
  description = "Apply modifications now instead of in the next maintenance window."
  type        = bool
  default     = false
}

variable "permissions_boundary_arn" {
  description = "IAM policy ARN of the permissions boundary every role of this module gets: notejam-permissions-boundary, created by provision/global (the most any project role may do)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/[A-Za-z0-9+=,.@_/-]+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be the ARN of a customer managed IAM policy (arn:aws:iam::<account>:policy/<name>)."
  }
}
