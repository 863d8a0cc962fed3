//! Which resource types carry tags. Every type used under provision/ must be
//! in one of the two lists, so a new resource type cannot slip past the tag
//! rule unclassified.

/// Types with a `tags` argument; they must carry `Tier` (Project and
/// Environment come from the provider's default_tags).
pub const TAGGED: &[&str] = &[
    "aws_backup_plan",
    "aws_backup_vault",
    "aws_cloudwatch_event_rule",
    "aws_cloudwatch_log_group",
    "aws_cloudwatch_metric_alarm",
    "aws_codedeploy_app",
    "aws_codedeploy_deployment_group",
    "aws_db_instance",
    "aws_db_parameter_group",
    "aws_db_subnet_group",
    "aws_default_security_group",
    "aws_eip",
    "aws_flow_log",
    "aws_iam_instance_profile",
    "aws_iam_openid_connect_provider",
    "aws_iam_policy",
    "aws_iam_role",
    "aws_internet_gateway",
    "aws_kms_key",
    "aws_launch_template",
    "aws_lb",
    "aws_lb_listener",
    "aws_lb_target_group",
    "aws_nat_gateway",
    "aws_route_table",
    "aws_s3_bucket",
    "aws_security_group",
    "aws_sns_topic",
    "aws_ssm_parameter",
    "aws_subnet",
    "aws_vpc",
    "aws_vpc_endpoint",
    "aws_vpc_security_group_egress_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_wafv2_web_acl",
];

/// Types that take no tags, or (the Auto Scaling group) take them in their
/// own `tag` blocks, checked by their own rule.
pub const UNTAGGED: &[&str] = &[
    "aws_autoscaling_group",
    "aws_autoscaling_policy",
    "aws_backup_selection",
    "aws_backup_vault_lock_configuration",
    "aws_cloudwatch_dashboard",
    "aws_cloudwatch_event_target",
    "aws_iam_role_policy",
    "aws_iam_role_policy_attachment",
    "aws_kms_alias",
    "aws_route",
    "aws_route_table_association",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_logging",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_versioning",
    "aws_sns_topic_policy",
    "aws_sns_topic_subscription",
    "aws_wafv2_web_acl_association",
    "aws_wafv2_web_acl_logging_configuration",
];

/// The contract's tiers (design.md section 3).
pub const TIERS: &[&str] = &[
    "edge",
    "web",
    "bastion",
    "database",
    "storage",
    "delivery",
    "observability",
    "backup",
    "network",
];

/// The contract's bucket purposes.
pub const PURPOSES: &[&str] = &["artifacts", "backups", "alb-logs"];
