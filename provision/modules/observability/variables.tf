variable "environment" {
  description = "Environment name (the contract's <env>): lower case, used in every name and the Environment tag."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}$", var.environment))
    error_message = "environment must be 2-15 characters of a-z, 0-9 and '-', starting with a letter."
  }
}

variable "log_retention_days" {
  description = "Retention in days of each contract log group under /notejam/<env>/ (keys: app, system, codedeploy, audit)."
  type        = map(number)
  default = {
    app        = 30
    system     = 30
    codedeploy = 30
    audit      = 365
  }

  validation {
    condition     = sort(keys(var.log_retention_days)) == sort(["app", "system", "codedeploy", "audit"])
    error_message = "log_retention_days must have exactly the keys app, system, codedeploy and audit."
  }

  validation {
    condition     = alltrue([for d in values(var.log_retention_days) : contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], d)])
    error_message = "Each retention must be one CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653); never-expire is not allowed."
  }
}

variable "flow_log_retention_days" {
  description = "Retention in days of the VPC flow log group."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be a CloudWatch Logs retention value up to 365."
  }
}

variable "alarm_email_addresses" {
  description = "Addresses subscribed to the alarm topic (each must confirm the subscription mail)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.alarm_email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", a))])
    error_message = "Every alarm_email_addresses entry must be an e-mail address."
  }
}

variable "alb_arn_suffix" {
  description = "arn_suffix of the ALB (the LoadBalancer dimension of AWS/ApplicationELB)."
  type        = string

  validation {
    condition     = can(regex("^app/", var.alb_arn_suffix))
    error_message = "alb_arn_suffix must look like app/<name>/<id>."
  }
}

variable "target_group_arn_suffix" {
  description = "arn_suffix of the web target group (the TargetGroup dimension)."
  type        = string

  validation {
    condition     = can(regex("^targetgroup/", var.target_group_arn_suffix))
    error_message = "target_group_arn_suffix must look like targetgroup/<name>/<id>."
  }
}

variable "web_asg_name" {
  description = "Name of the web Auto Scaling group."
  type        = string
}

variable "db_instance_identifier" {
  description = "RDS instance identifier (notejam-<env>)."
  type        = string
}

variable "db_allocated_storage_gib" {
  description = "Storage allocated to the database, in GiB; the free-storage alarm is a share of it."
  type        = number

  validation {
    condition     = var.db_allocated_storage_gib >= 20
    error_message = "db_allocated_storage_gib must be at least 20."
  }
}

variable "backup_vault_name" {
  description = "AWS Backup vault whose jobs the backup alarms watch (notejam-<env>)."
  type        = string
}

variable "thresholds" {
  description = "Alarm thresholds. p99 latency in seconds, error rate in percent of requests, CPU and free storage in percent."
  type = object({
    p99_latency_seconds     = optional(number, 1)
    error_rate_percent      = optional(number, 5)
    min_requests_per_minute = optional(number, 20)
    web_cpu_percent         = optional(number, 80)
    db_cpu_percent          = optional(number, 80)
    db_free_storage_percent = optional(number, 10)
    db_connections          = optional(number, 80)
  })
  default = {}

  validation {
    condition     = var.thresholds.p99_latency_seconds > 0 && var.thresholds.p99_latency_seconds <= 60
    error_message = "thresholds.p99_latency_seconds must be in (0, 60]."
  }

  validation {
    condition = alltrue([
      for p in [var.thresholds.error_rate_percent, var.thresholds.web_cpu_percent, var.thresholds.db_cpu_percent, var.thresholds.db_free_storage_percent] : p > 0 && p < 100
    ])
    error_message = "Percent thresholds must be strictly between 0 and 100."
  }

  validation {
    condition     = var.thresholds.db_connections >= 1 && var.thresholds.min_requests_per_minute >= 1
    error_message = "thresholds.db_connections and thresholds.min_requests_per_minute must be at least 1."
  }
}
