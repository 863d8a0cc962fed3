data "aws_partition" "current" {}

locals {
  name      = "notejam-${var.environment}-bastion"
  partition = data.aws_partition.current.partition

  contract_tags = {
    Project     = "notejam"
    Environment = var.environment
    Tier        = "bastion"
  }
}

# ---------------------------------------------------------------- network

resource "aws_security_group" "this" {
  name        = local.name
  description = "Bastion of notejam ${var.environment}: SSH from the allowed CIDRs only"
  vpc_id      = var.vpc_id

  tags = {
    Name = local.name
    Tier = "bastion"
  }
}

resource "aws_vpc_security_group_ingress_rule" "ssh" {
  for_each = toset(var.ssh_allowed_cidrs)

  security_group_id = aws_security_group.this.id
  description       = "SSH from an allowed operator network"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = each.value

  tags = {
    Tier = "bastion"
  }
}

# AWS APIs (the console, SSM, CloudWatch) and package updates.
resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS to AWS APIs and package repositories"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"

  tags = {
    Tier = "bastion"
  }
}

# ---------------------------------------------------------------- identity

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = local.name
  description          = "Bastion of notejam ${var.environment}: runs njtui with the instance profile"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary_arn

  tags = {
    Tier = "bastion"
  }
}

resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

# The console's permissions for this environment (njtui-<env>-readonly, plus
# njtui-<env>-operator where the bastion may act; from the iam module).
resource "aws_iam_role_policy_attachment" "console" {
  count = length(var.console_policy_arns)

  role       = aws_iam_role.this.name
  policy_arn = var.console_policy_arns[count.index]
}

data "aws_iam_policy_document" "instance" {
  statement {
    sid = "ShipSystemLogs"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogStreams",
    ]
    resources = [var.system_log_group_arn, "${var.system_log_group_arn}:*"]
  }

  statement {
    sid       = "PutAgentMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["CWAgent"]
    }
  }

  statement {
    sid       = "AgentReadsInstanceTags"
    actions   = ["ec2:DescribeTags", "ec2:DescribeVolumes"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "instance" {
  name        = local.name
  description = "What the notejam ${var.environment} bastion itself may do: ship its system logs"
  policy      = data.aws_iam_policy_document.instance.json

  tags = {
    Tier = "bastion"
  }
}

resource "aws_iam_role_policy_attachment" "instance" {
  role       = aws_iam_role.this.name
  policy_arn = aws_iam_policy.instance.arn
}

resource "aws_iam_instance_profile" "this" {
  name = local.name
  role = aws_iam_role.this.name

  tags = {
    Tier = "bastion"
  }
}

# ---------------------------------------------------------------- instance

resource "aws_launch_template" "this" {
  name                   = local.name
  description            = "notejam ${var.environment} bastion"
  image_id               = var.ami_id
  instance_type          = var.instance_type
  key_name               = var.ssh_key_name
  ebs_optimized          = true
  update_default_version = true

  iam_instance_profile {
    arn = aws_iam_instance_profile.this.arn
  }

  # A public address so operators can SSH in; the security group limits who.
  network_interfaces {
    associate_public_ip_address = true
    delete_on_termination       = true
    security_groups             = [aws_security_group.this.id]
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "enabled"
  }

  monitoring {
    enabled = true
  }

  block_device_mappings {
    device_name = var.root_device_name

    ebs {
      volume_size           = var.root_volume_size_gib
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  user_data = base64encode(templatefile("${path.module}/user-data.yaml.tftpl", {
    environment = var.environment
  }))

  tag_specifications {
    resource_type = "instance"
    tags          = merge(local.contract_tags, { Name = local.name })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(local.contract_tags, { Name = local.name })
  }

  tag_specifications {
    resource_type = "network-interface"
    tags          = merge(local.contract_tags, { Name = local.name })
  }

  tags = {
    Tier = "bastion"
  }
}

# A group of one: a failed or terminated bastion comes back by itself.
resource "aws_autoscaling_group" "this" {
  name                      = local.name
  min_size                  = 1
  max_size                  = 1
  desired_capacity          = 1
  vpc_zone_identifier       = var.public_subnet_ids
  health_check_type         = "EC2"
  health_check_grace_period = 120
  wait_for_capacity_timeout = "0"

  launch_template {
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
  }

  instance_refresh {
    strategy = "Rolling"

    preferences {
      min_healthy_percentage = 0
      skip_matching          = true
    }
  }

  tag {
    key                 = "Name"
    value               = local.name
    propagate_at_launch = true
  }

  tag {
    key                 = "Project"
    value               = "notejam"
    propagate_at_launch = true
  }

  tag {
    key                 = "Environment"
    value               = var.environment
    propagate_at_launch = true
  }

  tag {
    key                 = "Tier"
    value               = "bastion"
    propagate_at_launch = true
  }

  lifecycle {
    # "njtui stop bastion" sets desired to 0; an apply must not undo it.
    ignore_changes = [desired_capacity]
  }
}
