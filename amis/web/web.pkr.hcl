# The notejam web server image: Amazon Linux 2023 with the CloudWatch and
# CodeDeploy agents, hardened SSH and daily security updates. The app itself
# arrives later, through CodeDeploy. See amis/README.md.

variable "region" {
  type        = string
  description = "Region the image is built in (and used from)."
  default     = "us-east-1"
}

variable "git_revision" {
  type        = string
  description = "Commit the image is built from; tagged GitRevision on the AMI and its snapshot."

  validation {
    condition     = can(regex("^[0-9a-f]{7,40}$", var.git_revision))
    error_message = "The git_revision must be a commit hash (7-40 hex digits)."
  }
}

variable "instance_type" {
  type        = string
  description = "Instance type of the build instance."
  default     = "t3.small"
}

variable "architecture" {
  type        = string
  description = "CPU architecture of the base image (x86_64 or arm64); it must match the web instance type."
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "The architecture must be x86_64 or arm64."
  }
}

locals {
  built_at = formatdate("YYYYMMDD-hhmmss", timestamp())
  files    = "/tmp/notejam-files"
}

source "amazon-ebs" "web" {
  region        = var.region
  instance_type = var.instance_type
  ami_name      = "notejam-web-${var.git_revision}-${local.built_at}"
  ssh_username  = "ec2-user"
  imds_support  = "v2.0"
  encrypt_boot  = true

  source_ami_filter {
    filters = {
      name                = "al2023-ami-2023.*-kernel-*-${var.architecture}"
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = ["amazon"]
    most_recent = true
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = 10
    volume_type           = "gp3"
    encrypted             = true
    delete_on_termination = true
  }

  temporary_security_group_source_public_ip = true

  run_tags = {
    Name        = "packer-notejam-web"
    Project     = "notejam"
    GitRevision = var.git_revision
  }

  tags = {
    Name        = "notejam-web-${var.git_revision}"
    Project     = "notejam"
    Tier        = "web"
    GitRevision = var.git_revision
    BaseAMI     = "{{ .SourceAMI }}"
    BaseAMIName = "{{ .SourceAMIName }}"
  }

  snapshot_tags = {
    Name        = "notejam-web-${var.git_revision}"
    Project     = "notejam"
    Tier        = "web"
    GitRevision = var.git_revision
  }
}

build {
  sources = ["source.amazon-ebs.web"]

  provisioner "shell" {
    inline = ["mkdir -p ${local.files}"]
  }

  provisioner "file" {
    source      = "${path.root}/../common/files/"
    destination = local.files
  }

  provisioner "shell" {
    execute_command  = "sudo -E bash '{{ .Path }}'"
    environment_vars = ["NOTEJAM_FILES=${local.files}", "NOTEJAM_ROLE=web", "AWS_REGION=${var.region}"]
    scripts = [
      "${path.root}/../common/scripts/10-base.sh",
      "${path.root}/../common/scripts/20-security-updates.sh",
      "${path.root}/../common/scripts/30-ssh-hardening.sh",
      "${path.root}/../common/scripts/40-observability.sh",
      "${path.root}/scripts/50-codedeploy-agent.sh",
    ]
  }

  provisioner "shell" {
    inline = ["sudo rm -rf ${local.files}"]
  }

  post-processor "manifest" {
    output     = "${path.root}/manifest.json"
    strip_path = true
    custom_data = {
      git_revision = var.git_revision
      tier         = "web"
    }
  }
}
