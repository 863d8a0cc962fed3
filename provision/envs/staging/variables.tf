variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "web_ami_id" {
  description = "Web AMI to run; null picks the newest self-owned AMI tagged Project = notejam, Tier = web (and GitRevision = ami_git_revision when set)."
  type        = string
  default     = null

  validation {
    condition     = var.web_ami_id == null || can(regex("^ami-[0-9a-f]{8,17}$", var.web_ami_id))
    error_message = "web_ami_id must be an AMI ID (ami-...) or null."
  }
}

variable "bastion_ami_id" {
  description = "Bastion AMI to run; null picks the newest self-owned AMI tagged Project = notejam, Tier = bastion."
  type        = string
  default     = null

  validation {
    condition     = var.bastion_ami_id == null || can(regex("^ami-[0-9a-f]{8,17}$", var.bastion_ami_id))
    error_message = "bastion_ami_id must be an AMI ID (ami-...) or null."
  }
}

variable "ami_git_revision" {
  description = "Pin both AMIs to the images built from this git revision (their GitRevision tag); null takes the newest."
  type        = string
  default     = null

  validation {
    condition     = var.ami_git_revision == null || can(regex("^[0-9a-f]{7,40}$", var.ami_git_revision))
    error_message = "ami_git_revision must be a git commit hash (7-40 hex digits) or null."
  }
}

variable "certificate_arn" {
  description = "ACM certificate of the app's domain for the HTTPS listener; null serves HTTP only."
  type        = string
  default     = null
}

variable "ingress_cidrs" {
  description = "CIDRs allowed to reach the ALB."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "ssh_allowed_cidrs" {
  description = "CIDRs allowed to SSH to the bastion (your office or VPN egress); empty means Session Manager only."
  type        = list(string)
  default     = []
}

variable "ssh_key_name" {
  description = "EC2 key pair for the bastion, or null."
  type        = string
  default     = null
}

variable "bastion_console_access" {
  description = "What njtui on the bastion may do with its instance profile: \"readonly\" or \"operator\"."
  type        = string
  default     = "readonly"

  validation {
    condition     = contains(["readonly", "operator"], var.bastion_console_access)
    error_message = "bastion_console_access must be \"readonly\" or \"operator\"."
  }
}

variable "alarm_email_addresses" {
  description = "Addresses that receive alarm notifications."
  type        = list(string)
  default     = []
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose workflows (in the GitHub environment named like this one) may deploy."
  type        = string
}

variable "github_allowed_refs" {
  description = "Git refs whose jobs in the GitHub environment named like this one may deploy (matched exactly in the OIDC sub claim)."
  type        = list(string)
  default     = ["refs/heads/main"]
}

variable "backup_copy_vault_arn" {
  description = "Vault in another region receiving copies of every recovery point; null for none."
  type        = string
  default     = null
}

variable "backup_vault_lock" {
  description = "Compliance lock of the backup vault, or null. Irreversible once changeable_for_days has passed."
  type = object({
    min_retention_days  = number
    max_retention_days  = number
    changeable_for_days = number
  })
  default = null
}
