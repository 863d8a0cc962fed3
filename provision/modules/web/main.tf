data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  name       = "notejam-${var.environment}-web"
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition

  # default_tags never reach launched instances or volumes, so the contract
  # tags are spelled out for them here.
  contract_tags = {
    Project     = "notejam"
    Environment = var.environment
    Tier        = "web"
  }

  param_arn_prefix = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter/notejam/${var.environment}"
}

# ---------------------------------------------------------------- network

resource "aws_security_group" "this" {
  name        = local.name
  description = "Web tier of notejam ${var.environment}: the app port from the ALB only"
  vpc_id      = var.vpc_id

  tags = {
    Name = local.name
    Tier = "web"
  }
}

resource "aws_vpc_security_group_ingress_rule" "from_alb" {
  security_group_id            = aws_security_group.this.id
  description                  = "App port from the ALB"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = var.alb_security_group_id

  tags = {
    Tier = "web"
  }
}

# AWS APIs (SSM, CloudWatch, CodeDeploy, S3) and package updates, via NAT.
resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS to AWS APIs and package repositories"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"

  tags = {
    Tier = "web"
  }
}

resource "aws_vpc_security_group_egress_rule" "database" {
  for_each = toset(var.database_subnet_cidrs)

  security_group_id = aws_security_group.this.id
  description       = "PostgreSQL to the database subnets"
  ip_protocol       = "tcp"
  from_port         = var.database_port
  to_port           = var.database_port
  cidr_ipv4         = each.value

  tags = {
    Tier = "web"
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
  description          = "Web instances of notejam ${var.environment}"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary_arn

  tags = {
    Tier = "web"
  }
}

resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

data "aws_iam_policy_document" "instance" {
  statement {
    sid = "ShipLogsToTheContractGroups"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogStreams",
    ]
    resources = flatten([for arn in var.log_group_arns : [arn, "${arn}:*"]])
  }

  # The CloudWatch agent's own host metrics (memory, disk).
  statement {
    sid       = "PutAgentMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["CWAgent", "Notejam/App"]
    }
  }

  statement {
    sid       = "AgentReadsInstanceTags"
    actions   = ["ec2:DescribeTags", "ec2:DescribeVolumes"]
    resources = ["*"]
  }

  # The CodeDeploy agent downloads bundles from the environment's artifacts
  # bucket and updates itself from the regional CodeDeploy bucket.
  statement {
    sid     = "ReadDeploymentBundles"
    actions = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [
      "${var.artifacts_bucket_arn}/*",
      "arn:${local.partition}:s3:::aws-codedeploy-${local.region}/*",
    ]
  }

  statement {
    sid       = "ListDeploymentBundles"
    actions   = ["s3:ListBucket"]
    resources = [var.artifacts_bucket_arn]
  }

  statement {
    sid       = "DecryptBundles"
    actions   = ["kms:Decrypt"]
    resources = [var.artifacts_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }

  # The deploy hook reads the whole tree with GetParametersByPath, which IAM
  # checks against the path itself.
  statement {
    sid = "ReadEnvironmentParameters"
    actions = [
      "ssm:GetParameter",
      "ssm:GetParameters",
      "ssm:GetParametersByPath",
    ]
    resources = [
      local.param_arn_prefix,
      "${local.param_arn_prefix}/*",
    ]
  }

  statement {
    sid       = "DecryptSecureParameters"
    actions   = ["kms:Decrypt"]
    resources = [var.parameters_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_policy" "instance" {
  name        = local.name
  description = "What a notejam ${var.environment} web instance may do: ship logs, read its bundles and parameters"
  policy      = data.aws_iam_policy_document.instance.json

  tags = {
    Tier = "web"
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
    Tier = "web"
  }
}

# ---------------------------------------------------------------- app secrets

# NOTEJAM_SECRET_KEY signs sessions on every node alike. Generated
# ephemerally and written write-only, so it never lands in the state; bump
# secret_key_version to rotate (every session ends).
ephemeral "random_password" "secret_key" {
  length  = 64
  special = false
}

resource "aws_ssm_parameter" "secret_key" {
  name             = "/notejam/${var.environment}/app/secret_key"
  description      = "NOTEJAM_SECRET_KEY of notejam ${var.environment}"
  type             = "SecureString"
  key_id           = var.parameters_kms_key_arn
  value_wo         = ephemeral.random_password.secret_key.result
  value_wo_version = var.secret_key_version

  tags = {
    Tier = "web"
  }
}

# The port the app listens on, for the deploy hooks (after-install, validate-service):
# written from app_port, the number the target group and the security groups use, so
# the app and its health checks cannot disagree. Change app_port, never this.
resource "aws_ssm_parameter" "port" {
  # checkov:skip=CKV2_AWS_34: a port number is no secret, and the hooks read it beside the other settings
  name        = "/notejam/${var.environment}/app/port"
  description = "Port notejam ${var.environment} listens on (from app_port)"
  type        = "String"
  value       = tostring(var.app_port)

  tags = {
    Tier = "web"
  }
}

# ---------------------------------------------------------------- instances

resource "aws_launch_template" "this" {
  name                   = local.name
  description            = "notejam ${var.environment} web server"
  image_id               = var.ami_id
  instance_type          = var.instance_type
  ebs_optimized          = true
  update_default_version = true
  vpc_security_group_ids = [aws_security_group.this.id]

  iam_instance_profile {
    arn = aws_iam_instance_profile.this.arn
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

  # The AMI's notejam-boot renders the agents' configuration for this
  # environment and starts them; see amis/README.md.
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
    Tier = "web"
  }
}

resource "aws_autoscaling_group" "this" {
  name                      = local.name
  min_size                  = var.min_size
  max_size                  = var.max_size
  desired_capacity          = var.desired_capacity
  vpc_zone_identifier       = var.private_subnet_ids
  target_group_arns         = [var.target_group_arn]
  health_check_type         = "ELB"
  health_check_grace_period = var.health_check_grace_period_seconds
  default_instance_warmup   = var.instance_warmup_seconds
  termination_policies      = ["OldestLaunchTemplate", "OldestInstance"]
  wait_for_capacity_timeout = "0"

  enabled_metrics = [
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupTerminatingInstances",
    "GroupMinSize",
    "GroupMaxSize",
  ]

  launch_template {
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
  }

  # Replacing instances (scale-in, AZ rebalancing) never drops below the
  # desired capacity: a new instance is in service before an old one leaves.
  instance_maintenance_policy {
    min_healthy_percentage = 100
    max_healthy_percentage = 200
  }

  # A new launch template version (new AMI) rolls through the group, launch
  # before terminate, and rolls itself back if a deployment alarm fires.
  instance_refresh {
    strategy = "Rolling"

    preferences {
      min_healthy_percentage = 100
      max_healthy_percentage = 200
      instance_warmup        = var.instance_warmup_seconds
      skip_matching          = true
      auto_rollback          = length(var.refresh_rollback_alarm_names) > 0

      dynamic "alarm_specification" {
        for_each = length(var.refresh_rollback_alarm_names) > 0 ? [1] : []

        content {
          alarms = var.refresh_rollback_alarm_names
        }
      }
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
    value               = "web"
    propagate_at_launch = true
  }

  lifecycle {
    # Operators scale with the console; an apply must not reset that.
    ignore_changes = [desired_capacity]
  }
}

resource "aws_autoscaling_policy" "target_tracking" {
  name                      = "${local.name}-${var.scaling.metric}"
  autoscaling_group_name    = aws_autoscaling_group.this.name
  policy_type               = "TargetTrackingScaling"
  estimated_instance_warmup = var.instance_warmup_seconds

  target_tracking_configuration {
    target_value = var.scaling.target

    predefined_metric_specification {
      predefined_metric_type = var.scaling.metric == "cpu" ? "ASGAverageCPUUtilization" : "ALBRequestCountPerTarget"
      resource_label         = var.scaling.metric == "cpu" ? null : "${var.alb_arn_suffix}/${var.target_group_arn_suffix}"
    }
  }
}
