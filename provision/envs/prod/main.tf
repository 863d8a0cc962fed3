# notejam prod: sized for availability. Three AZs with a NAT gateway each,
# a Multi-AZ database with 35 days of point-in-time recovery, deletion
# protection on everything that holds data or takes traffic.

locals {
  environment = "prod"
  partition   = data.aws_partition.current.partition

  # Every role of this root gets the boundary provision/global creates
  # (applied before any environment). Its name is fixed, so it is named
  # here without reading global's state.
  permissions_boundary_arn = "arn:${local.partition}:iam::${data.aws_caller_identity.current.account_id}:policy/notejam-permissions-boundary"
}

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

data "aws_iam_openid_connect_provider" "github" {
  url = "https://token.actions.githubusercontent.com"
}

data "aws_ami" "web" {
  count = var.web_ami_id == null ? 1 : 0

  most_recent = true
  owners      = ["self"]

  filter {
    name   = "tag:Project"
    values = ["notejam"]
  }

  filter {
    name   = "tag:Tier"
    values = ["web"]
  }

  filter {
    name   = "tag:GitRevision"
    values = [coalesce(var.ami_git_revision, "*")]
  }
}

data "aws_ami" "bastion" {
  count = var.bastion_ami_id == null ? 1 : 0

  most_recent = true
  owners      = ["self"]

  filter {
    name   = "tag:Project"
    values = ["notejam"]
  }

  filter {
    name   = "tag:Tier"
    values = ["bastion"]
  }

  filter {
    name   = "tag:GitRevision"
    values = [coalesce(var.ami_git_revision, "*")]
  }
}

module "network" {
  source = "../../modules/network"

  environment        = local.environment
  cidr_block         = "10.10.0.0/16"
  availability_zones = [for z in ["a", "b", "c"] : "${var.region}${z}"]
  single_nat_gateway = false

  flow_logs_enabled        = true
  flow_log_destination_arn = module.observability.flow_log_group_arn

  permissions_boundary_arn = local.permissions_boundary_arn
}

module "storage" {
  source = "../../modules/storage"

  environment                       = local.environment
  noncurrent_version_retention_days = 90
  log_retention_days                = 90
  force_destroy                     = false
}

module "alb" {
  source = "../../modules/alb"

  environment         = local.environment
  vpc_id              = module.network.vpc_id
  vpc_cidr_block      = module.network.vpc_cidr_block
  public_subnet_ids   = module.network.public_subnet_ids
  certificate_arn     = var.certificate_arn
  ingress_cidrs       = var.ingress_cidrs
  deletion_protection = true
  access_logs_bucket  = module.storage.alb_logs_bucket_name

  waf_enabled         = true
  waf_log_kms_key_arn = module.observability.kms_key_arn
}

module "database" {
  source = "../../modules/database"

  environment           = local.environment
  vpc_id                = module.network.vpc_id
  subnet_ids            = module.network.database_subnet_ids
  web_security_group_id = module.web.security_group_id

  instance_class            = "db.t4g.medium"
  multi_az                  = true
  allocated_storage_gib     = 50
  max_allocated_storage_gib = 200
  backup_retention_days     = 35
  deletion_protection       = true
  log_retention_days        = 90

  permissions_boundary_arn = local.permissions_boundary_arn
}

module "web" {
  source = "../../modules/web"

  environment           = local.environment
  vpc_id                = module.network.vpc_id
  private_subnet_ids    = module.network.private_subnet_ids
  database_subnet_cidrs = module.network.database_subnet_cidrs

  ami_id           = coalesce(var.web_ami_id, try(data.aws_ami.web[0].id, null))
  instance_type    = "t3.small"
  min_size         = 2
  max_size         = 6
  desired_capacity = 2
  scaling = {
    metric = "cpu"
    target = 50
  }

  alb_security_group_id        = module.alb.security_group_id
  alb_arn_suffix               = module.alb.arn_suffix
  target_group_arn             = module.alb.target_group_arn
  target_group_arn_suffix      = module.alb.target_group_arn_suffix
  refresh_rollback_alarm_names = module.observability.deployment_alarm_names

  log_group_arns = [
    module.observability.log_group_arns["app"],
    module.observability.log_group_arns["system"],
    module.observability.log_group_arns["codedeploy"],
  ]
  artifacts_bucket_arn   = module.storage.artifacts_bucket_arn
  artifacts_kms_key_arn  = module.storage.kms_key_arn
  parameters_kms_key_arn = module.database.kms_key_arn

  permissions_boundary_arn = local.permissions_boundary_arn
}

module "console_access" {
  source = "../../modules/iam"

  environments = [local.environment]
  name_prefix  = "njtui-${local.environment}-bastion"
  create_roles = false

  permissions_boundary_arn = local.permissions_boundary_arn
}

module "bastion" {
  source = "../../modules/bastion"

  environment       = local.environment
  vpc_id            = module.network.vpc_id
  public_subnet_ids = module.network.public_subnet_ids
  ssh_allowed_cidrs = var.ssh_allowed_cidrs
  ssh_key_name      = var.ssh_key_name
  ami_id            = coalesce(var.bastion_ami_id, try(data.aws_ami.bastion[0].id, null))
  instance_type     = "t3.micro"

  console_policy_arns = var.bastion_console_access == "operator" ? [
    module.console_access.readonly_policy_arn,
    module.console_access.operator_policy_arn,
  ] : [module.console_access.readonly_policy_arn]
  system_log_group_arn = module.observability.log_group_arns["system"]

  permissions_boundary_arn = local.permissions_boundary_arn
}

module "delivery" {
  source = "../../modules/delivery"

  environment                = local.environment
  deployment_config_name     = "CodeDeployDefault.OneAtATime"
  web_autoscaling_group_name = module.web.autoscaling_group_name
  web_instance_role_arn      = module.web.role_arn
  target_group_name          = module.alb.target_group_name
  rollback_alarm_names       = module.observability.deployment_alarm_names
  artifacts_bucket_arn       = module.storage.artifacts_bucket_arn
  artifacts_kms_key_arn      = module.storage.kms_key_arn
  github_oidc_provider_arn   = data.aws_iam_openid_connect_provider.github.arn
  github_repository          = var.github_repository
  github_environment         = local.environment
  github_allowed_refs        = var.github_allowed_refs

  permissions_boundary_arn = local.permissions_boundary_arn
}

module "observability" {
  source = "../../modules/observability"

  environment = local.environment
  log_retention_days = {
    app        = 90
    system     = 90
    codedeploy = 90
    audit      = 365
  }
  flow_log_retention_days = 30
  alarm_email_addresses   = var.alarm_email_addresses

  alb_arn_suffix           = module.alb.arn_suffix
  target_group_arn_suffix  = module.alb.target_group_arn_suffix
  web_asg_name             = "notejam-${local.environment}-web"
  db_instance_identifier   = "notejam-${local.environment}"
  db_allocated_storage_gib = 50
  backup_vault_name        = "notejam-${local.environment}"

  thresholds = {
    p99_latency_seconds = 0.5
    error_rate_percent  = 2
    db_connections      = 300
  }
}

module "backup" {
  source = "../../modules/backup"

  environment            = local.environment
  daily_retention_days   = 35
  monthly_retention_days = 365
  copy_to_vault_arn      = var.backup_copy_vault_arn
  vault_lock             = var.backup_vault_lock
  storage_kms_key_arn    = module.storage.kms_key_arn

  resource_arn_patterns = [
    "arn:${local.partition}:rds:*:*:db:*",
    "arn:${local.partition}:s3:::*",
  ]
  excluded_resource_arns = [module.storage.bucket_arns["alb-logs"]]

  permissions_boundary_arn = local.permissions_boundary_arn
}
