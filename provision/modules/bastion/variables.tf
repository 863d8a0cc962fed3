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

variable "public_subnet_ids" {
  description = "Public subnets the bastion may run in."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) >= 1
    error_message = "At least one public subnet is needed."
  }
}

variable "ssh_allowed_cidrs" {
  description = "IPv4 CIDRs allowed to SSH to the bastion. Empty means Session Manager only."
  type        = list(string)

  validation {
    condition     = alltrue([for c in var.ssh_allowed_cidrs : can(cidrnetmask(c)) && c != "0.0.0.0/0"])
    error_message = "ssh_allowed_cidrs must be IPv4 CIDRs, and 0.0.0.0/0 is not allowed."
  }
}

variable "ssh_key_name" {
  description = "EC2 key pair for SSH, or null to rely on Session Manager (and EC2 Instance Connect) only."
  type        = string
  default     = null
}

variable "ami_id" {
  description = "Bastion AMI built from amis/bastion (njtui installed)."
  type        = string

  validation {
    condition     = can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must be an AMI ID (ami-...)."
  }
}

variable "instance_type" {
  description = "EC2 instance type of the bastion."
  type        = string
  default     = "t4g.nano"
}

variable "root_device_name" {
  description = "Root device of the AMI (/dev/xvda on Amazon Linux 2023)."
  type        = string
  default     = "/dev/xvda"
}

variable "root_volume_size_gib" {
  description = "Size of the encrypted gp3 root volume."
  type        = number
  default     = 10

  validation {
    condition     = var.root_volume_size_gib >= 8 && var.root_volume_size_gib <= 100
    error_message = "root_volume_size_gib must be between 8 and 100."
  }
}

variable "console_policy_arns" {
  description = "Managed policies giving njtui on the bastion its rights in this environment (the iam module's readonly policy, plus its operator policy to allow actions)."
  type        = list(string)

  validation {
    condition     = length(var.console_policy_arns) >= 1 && length(var.console_policy_arns) <= 5
    error_message = "console_policy_arns must hold 1 to 5 policy ARNs."
  }
}

variable "system_log_group_arn" {
  description = "ARN of /notejam/<env>/system, where the bastion's system logs go."
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
