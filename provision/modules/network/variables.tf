variable "environment" {
  description = "Environment name (the contract's <env>): lower case, used in every name and the Environment tag."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}$", var.environment))
    error_message = "environment must be 2-15 characters of a-z, 0-9 and '-', starting with a letter."
  }
}

variable "cidr_block" {
  description = "IPv4 CIDR of the VPC. Each environment gets its own, non-overlapping range."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.cidr_block)) && tonumber(split("/", var.cidr_block)[1]) >= 16 && tonumber(split("/", var.cidr_block)[1]) <= 22
    error_message = "cidr_block must be a valid IPv4 CIDR between /16 and /22."
  }
}

variable "availability_zones" {
  description = "Availability zones to spread the subnets over, in order (1-4). Named explicitly so the layout never shifts when AWS adds a zone."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 1 && length(var.availability_zones) <= 4 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must list 1 to 4 distinct zones."
  }

  validation {
    condition     = alltrue([for z in var.availability_zones : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$", z))])
    error_message = "availability_zones entries must be zone names such as us-east-1a."
  }
}

variable "subnet_newbits" {
  description = "Bits added to the VPC prefix for each subnet (4 turns a /16 into /20 subnets). Room for 4 AZs x 3 layers is needed."
  type        = number
  default     = 4

  validation {
    condition     = var.subnet_newbits >= 4 && var.subnet_newbits <= 8
    error_message = "subnet_newbits must be between 4 and 8 so that 12 subnets fit."
  }
}

variable "single_nat_gateway" {
  description = "Use one NAT gateway for all AZs (cheaper, but an AZ outage cuts egress for every private subnet)."
  type        = bool
  default     = false
}

variable "flow_logs_enabled" {
  description = "Send VPC flow logs (all traffic) to flow_log_destination_arn."
  type        = bool
  default     = true
}

variable "flow_log_destination_arn" {
  description = "ARN of the CloudWatch log group receiving VPC flow logs; required when flow_logs_enabled."
  type        = string
  default     = null

  validation {
    condition     = var.flow_logs_enabled ? can(regex("^arn:aws[a-z-]*:logs:", var.flow_log_destination_arn)) : true
    error_message = "flow_log_destination_arn must be a CloudWatch Logs log group ARN when flow_logs_enabled is true."
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
