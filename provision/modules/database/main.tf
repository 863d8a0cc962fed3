data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  identifier    = "notejam-${var.environment}"
  account_id    = data.aws_caller_identity.current.account_id
  region        = data.aws_region.current.region
  partition     = data.aws_partition.current.partition
  engine_major  = split(".", var.engine_version)[0]
  param_prefix  = "/notejam/${var.environment}/database"
  log_group_rds = "/aws/rds/instance/${local.identifier}"
}

# ---------------------------------------------------------------- encryption

resource "aws_kms_key" "this" {
  description             = "notejam ${var.environment}: database storage, Performance Insights, RDS logs and the app's secrets"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  # A key policy, not an IAM policy: the account root statement hands key use
  # to IAM policies, which is where every grant of use lives.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersKeyThroughIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncryptsRdsGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_rds}/*" }
        }
      },
    ]
  })

  tags = {
    Name = "${local.identifier}-data"
    Tier = "database"
  }
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.identifier}-data"
  target_key_id = aws_kms_key.this.key_id
}


# ---------------------------------------------------------------- network

resource "aws_db_subnet_group" "this" {
  name        = local.identifier
  description = "Database subnets of notejam ${var.environment}"
  subnet_ids  = var.subnet_ids

  tags = {
    Tier = "database"
  }
}

resource "aws_security_group" "this" {
  name        = "${local.identifier}-database"
  description = "PostgreSQL of notejam ${var.environment}: reachable from the web tier only"
  vpc_id      = var.vpc_id

  tags = {
    Name = "${local.identifier}-database"
    Tier = "database"
  }
}

resource "aws_vpc_security_group_ingress_rule" "from_web" {
  security_group_id            = aws_security_group.this.id
  description                  = "PostgreSQL from the web tier"
  ip_protocol                  = "tcp"
  from_port                    = var.port
  to_port                      = var.port
  referenced_security_group_id = var.web_security_group_id

  tags = {
    Tier = "database"
  }
}

# No egress rule: the database never opens connections.

# ---------------------------------------------------------------- parameters

resource "aws_db_parameter_group" "this" {
  name        = local.identifier
  family      = "postgres${local.engine_major}"
  description = "notejam ${var.environment}: TLS only, slow-query and connection logging"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = tostring(var.log_min_duration_ms)
  }

  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_connections"
    value = "1"
  }

  parameter {
    name  = "log_disconnections"
    value = "1"
  }

  parameter {
    name  = "log_lock_waits"
    value = "1"
  }

  tags = {
    Tier = "database"
  }

  lifecycle {
    create_before_destroy = true
  }
}

# ---------------------------------------------------------------- logs

# Created before the instance so RDS writes into groups that have a
# retention, instead of creating never-expiring ones itself.
resource "aws_cloudwatch_log_group" "rds" {
  for_each = toset(var.cloudwatch_logs_exports)

  name              = "${local.log_group_rds}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn

  tags = {
    Tier = "database"
  }
}

# ---------------------------------------------------------------- monitoring role

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name                 = "${local.identifier}-rds-monitoring"
  assume_role_policy   = data.aws_iam_policy_document.monitoring_assume.json
  permissions_boundary = var.permissions_boundary_arn

  tags = {
    Tier = "database"
  }
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

# ---------------------------------------------------------------- credentials

# The master password never enters the Terraform state: it is generated
# ephemerally and written through write-only arguments, once per
# password_version. Bump password_version to rotate it; the app picks the new
# value up at its next start (the deploy hook reads the parameter).
ephemeral "random_password" "master" {
  length  = 40
  special = false
}

resource "aws_ssm_parameter" "password" {
  name             = "${local.param_prefix}/password"
  description      = "Master password of ${local.identifier}"
  type             = "SecureString"
  key_id           = aws_kms_key.this.arn
  value_wo         = ephemeral.random_password.master.result
  value_wo_version = var.password_version

  tags = {
    Tier = "database"
  }
}

# Where the database is: not secret, and rewritten by the console when the app is
# pointed at a restored copy (njtui point-app), so plain String parameters.
resource "aws_ssm_parameter" "connection" {
  # checkov:skip=CKV2_AWS_34: host, port and name say where the database is, not how to get in (the password and user name are SecureStrings); the console rewrites host on a restore without KMS rights
  for_each = {
    host = aws_db_instance.this.address
    port = tostring(aws_db_instance.this.port)
    name = var.database_name
  }

  name        = "${local.param_prefix}/${each.key}"
  description = "Database ${each.key} of notejam ${var.environment}"
  type        = "String"
  value       = each.value

  tags = {
    Tier = "database"
  }

  lifecycle {
    # A restore repoints host on purpose; the next apply must not undo it.
    ignore_changes = [value]
  }
}

resource "aws_ssm_parameter" "username" {
  name        = "${local.param_prefix}/username"
  description = "Master user name of ${local.identifier}"
  type        = "SecureString"
  key_id      = aws_kms_key.this.arn
  value       = var.master_username

  tags = {
    Tier = "database"
  }
}

# ---------------------------------------------------------------- instance

resource "aws_db_instance" "this" {
  identifier     = local.identifier
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class

  db_name             = var.database_name
  username            = var.master_username
  password_wo         = ephemeral.random_password.master.result
  password_wo_version = var.password_version
  port                = var.port

  allocated_storage     = var.allocated_storage_gib
  max_allocated_storage = var.max_allocated_storage_gib
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.this.arn

  multi_az               = var.multi_az
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.this.id]
  parameter_group_name   = aws_db_parameter_group.this.name
  publicly_accessible    = false

  backup_retention_period   = var.backup_retention_days
  backup_window             = var.backup_window
  maintenance_window        = var.maintenance_window
  copy_tags_to_snapshot     = true
  delete_automated_backups  = false
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${local.identifier}-final"

  auto_minor_version_upgrade          = true
  iam_database_authentication_enabled = true
  enabled_cloudwatch_logs_exports     = var.cloudwatch_logs_exports

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.this.arn
  performance_insights_retention_period = var.performance_insights_retention_days

  monitoring_interval = var.enhanced_monitoring_interval
  monitoring_role_arn = aws_iam_role.monitoring.arn

  apply_immediately = var.apply_immediately

  tags = {
    Name = local.identifier
    Tier = "database"
  }

  depends_on = [aws_cloudwatch_log_group.rds]
}
