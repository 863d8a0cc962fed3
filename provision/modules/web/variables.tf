variable "environment" {
  description = "Environment name (the contract's <env>): lower case, used in every name and the Environment tag."
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

variable "private_subnet_ids" {
  description = "Private subnets the instances run in, one per AZ."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 1
    error_message = "At least one private subnet is needed."
  }
}

variable "database_subnet_cidrs" {
  description = "CIDRs of the database subnets, the only place the web tier may open PostgreSQL connections to."
  type        = list(string)

  validation {
    condition     = alltrue([for c in var.database_subnet_cidrs : can(cidrnetmask(c))])
    error_message = "database_subnet_cidrs must be IPv4 CIDRs."
  }
}

variable "database_port" {
  description = "PostgreSQL port."
  type        = number
  default     = 5432
}

variable "ami_id" {
  description = "Web AMI built from amis/web (tagged Project = notejam, Tier = web, GitRevision = <sha>)."
  type        = string

  validation {
    condition     = can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must be an AMI ID (ami-...)."
  }
}

variable "root_device_name" {
  description = "Root device of the AMI (/dev/xvda on Amazon Linux 2023)."
  type        = string
  default     = "/dev/xvda"
}

variable "root_volume_size_gib" {
  description = "Size of the encrypted gp3 root volume."
  type        = number
  default     = 20

  validation {
    condition     = var.root_volume_size_gib >= 8 && var.root_volume_size_gib <= 1024
    error_message = "root_volume_size_gib must be between 8 and 1024."
  }
}

variable "instance_type" {
  description = "EC2 instance type of the web servers."
  type        = string
}

variable "min_size" {
  description = "Fewest instances the group keeps."
  type        = number

  validation {
    condition     = var.min_size >= 0
    error_message = "min_size must not be negative."
  }
}

variable "max_size" {
  description = "Most instances scaling may reach."
  type        = number

  validation {
    condition     = var.max_size >= 1 && var.max_size <= 100
    error_message = "max_size must be between 1 and 100."
  }
}

variable "desired_capacity" {
  description = "Instances at creation; afterwards scaling and operators own it (ignored by later applies)."
  type        = number

  validation {
    condition     = var.desired_capacity >= var.min_size && var.desired_capacity <= var.max_size
    error_message = "desired_capacity must lie between min_size and max_size."
  }
}

variable "app_port" {
  description = "Port the app listens on."
  type        = number
  default     = 8000

  validation {
    condition     = var.app_port >= 1024 && var.app_port <= 65535
    error_message = "app_port must be an unprivileged port (1024-65535)."
  }
}

variable "alb_security_group_id" {
  description = "Security group of the ALB, the only source of inbound traffic."
  type        = string
}

variable "alb_arn_suffix" {
  description = "arn_suffix of the ALB (request-count scaling)."
  type        = string
}

variable "target_group_arn" {
  description = "Target group the instances register with."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "arn_suffix of the target group (request-count scaling)."
  type        = string
}

variable "health_check_grace_period_seconds" {
  description = "Seconds after launch before failed ELB health checks replace an instance (covers boot and the first deployment)."
  type        = number
  default     = 600

  validation {
    condition     = var.health_check_grace_period_seconds >= 60
    error_message = "health_check_grace_period_seconds must be at least 60."
  }
}

variable "instance_warmup_seconds" {
  description = "Seconds before a new instance's metrics count for scaling and instance refresh."
  type        = number
  default     = 180

  validation {
    condition     = var.instance_warmup_seconds >= 0
    error_message = "instance_warmup_seconds must not be negative."
  }
}

variable "scaling" {
  description = "Target tracking: metric \"cpu\" (average CPU percent) or \"requests\" (ALB requests per target per minute), and its target."
  type = object({
    metric = optional(string, "cpu")
    target = optional(number, 50)
  })
  default = {}

  validation {
    condition     = contains(["cpu", "requests"], var.scaling.metric)
    error_message = "scaling.metric must be \"cpu\" or \"requests\"."
  }

  validation {
    condition     = var.scaling.target > 0 && (var.scaling.metric != "cpu" || var.scaling.target < 100)
    error_message = "scaling.target must be positive (and below 100 for cpu)."
  }
}

variable "refresh_rollback_alarm_names" {
  description = "Alarms that stop and roll back an instance refresh (the deployment alarms)."
  type        = list(string)
  default     = []
}

variable "log_group_arns" {
  description = "ARNs of the log groups the instances ship to (app, system, codedeploy)."
  type        = list(string)

  validation {
    condition     = length(var.log_group_arns) > 0 && alltrue([for a in var.log_group_arns : can(regex("^arn:aws[a-z-]*:logs:", a))])
    error_message = "log_group_arns must be CloudWatch Logs log group ARNs."
  }
}

variable "artifacts_bucket_arn" {
  description = "ARN of the deployment bundle bucket (Purpose = artifacts)."
  type        = string
}

variable "artifacts_kms_key_arn" {
  description = "KMS key encrypting the artifacts bucket."
  type        = string
}

variable "parameters_kms_key_arn" {
  description = "KMS key of the environment's SecureString parameters."
  type        = string
}

variable "secret_key_version" {
  description = "Bump to generate a new NOTEJAM_SECRET_KEY (written to SSM without passing through the state)."
  type        = number
  default     = 1

  validation {
    condition     = var.secret_key_version >= 1 && floor(var.secret_key_version) == var.secret_key_version
    error_message = "secret_key_version must be a whole number, at least 1."
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
