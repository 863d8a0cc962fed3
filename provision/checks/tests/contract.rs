//! The contract rules against small trees with one deliberate violation
//! each, against the real provision/ tree, and through the CLI.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use provision_checks::check_dir;

const ROOT: &str = r#"
terraform {
  backend "s3" {
    key = "envs/dev/terraform.tfstate"
  }
}

provider "aws" {
  region = "eu-west-1"

  default_tags {
    tags = {
      Project     = "notejam"
      Environment = local.environment
    }
  }
}

locals {
  environment = "dev"
}

module "app" {
  source = "../../modules/app"

  environment   = local.environment
  log_retention = 30
  db_backups    = 7
}
"#;

const VARIABLES: &str = r#"
variable "environment" {
  type = string
}

variable "log_retention" {
  type    = number
  default = 14
}

variable "db_backups" {
  type = number
}

variable "daily_days" {
  type    = number
  default = 35
}

variable "application_name" {
  type    = string
  default = "notejam"
}
"#;

const MAIN: &str = r#"
locals {
  name = "notejam-${var.environment}"

  contract_tags = {
    Project     = "notejam"
    Environment = var.environment
    Tier        = "web"
  }

  buckets = {
    artifacts  = {}
    backups    = {}
    "alb-logs" = {}
  }
}

resource "aws_launch_template" "web" {
  name = "${local.name}-web"

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(local.contract_tags, { Name = "web" })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = local.contract_tags
  }

  tags = {
    Tier = "web"
  }
}

resource "aws_autoscaling_group" "web" {
  name = "${local.name}-web"

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
}

resource "aws_autoscaling_group" "bastion" {
  name = "${local.name}-bastion"

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
}

resource "aws_cloudwatch_log_group" "contract" {
  for_each = toset(["app", "system", "codedeploy", "audit"])

  name              = "/notejam/${var.environment}/${each.key}"
  retention_in_days = var.log_retention

  tags = {
    Tier = "observability"
  }
}

resource "aws_cloudwatch_log_group" "rds" {
  name              = "/aws/rds/instance/${local.name}/postgresql"
  retention_in_days = 7

  tags = {
    Tier = "database"
  }
}

resource "aws_db_instance" "this" {
  identifier              = local.name
  backup_retention_period = var.db_backups

  tags = {
    Tier = "database"
  }
}

resource "aws_codedeploy_app" "notejam" {
  name = "notejam"

  tags = {
    Tier = "delivery"
  }
}

resource "aws_codedeploy_deployment_group" "this" {
  app_name              = var.application_name
  deployment_group_name = var.environment

  auto_rollback_configuration {
    enabled = true
    events  = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]
  }

  alarm_configuration {
    enabled = true
    alarms  = ["p99"]
  }

  tags = {
    Tier = "delivery"
  }
}

resource "aws_codedeploy_deployment_group" "canary" {
  app_name              = var.application_name
  deployment_group_name = "${var.environment}-canary"

  ec2_tag_set {
    ec2_tag_filter {
      key   = "Project"
      type  = "KEY_AND_VALUE"
      value = "notejam"
    }

    ec2_tag_filter {
      key   = "Environment"
      type  = "KEY_AND_VALUE"
      value = var.environment
    }

    ec2_tag_filter {
      key   = "Canary"
      type  = "KEY_AND_VALUE"
      value = "true"
    }
  }

  auto_rollback_configuration {
    enabled = true
    events  = ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]
  }

  alarm_configuration {
    enabled = true
    alarms  = ["p99", "5xx"]
  }

  tags = {
    Tier = "delivery"
  }
}

resource "aws_backup_vault" "this" {
  name = local.name

  tags = {
    Tier = "backup"
  }
}

resource "aws_backup_plan" "this" {
  name = "${local.name}-daily"

  rule {
    rule_name = "daily"

    lifecycle {
      delete_after = var.daily_days
    }
  }

  rule {
    rule_name = "monthly"

    lifecycle {
      delete_after = 365
    }
  }

  tags = {
    Tier = "backup"
  }
}

resource "aws_s3_bucket" "this" {
  for_each = local.buckets

  bucket = "${local.name}-${each.key}"

  tags = {
    Tier    = "storage"
    Purpose = each.key
  }
}

resource "aws_ssm_parameter" "host" {
  name = "/notejam/${var.environment}/database/host"

  tags = {
    Tier = "database"
  }
}

resource "aws_sns_topic" "alarms" {
  name = "${local.name}-alarms"

  tags = {
    Tier = "observability"
  }
}
"#;

const ROOT_PATH: &str = "envs/dev/main.tf";
const MAIN_PATH: &str = "modules/app/main.tf";
const VARIABLES_PATH: &str = "modules/app/variables.tf";

/// The violations of the fixture with `edits` (path, from, to) applied.
fn violations_with(edits: &[(&str, &str, &str)]) -> Vec<String> {
    common::violations_of_edited(
        &[
            (ROOT_PATH, ROOT),
            (MAIN_PATH, MAIN),
            (VARIABLES_PATH, VARIABLES),
        ],
        edits,
    )
}

fn assert_violations(edits: &[(&str, &str, &str)], expected: &[&str]) {
    common::assert_listed(&violations_with(edits), expected);
}

#[test]
fn the_fixture_itself_keeps_the_contract() {
    assert_violations(&[], &[]);
}

#[test]
fn imdsv1_allowed_by_optional_tokens() {
    assert_violations(
        &[(
            MAIN_PATH,
            r#"http_tokens   = "required""#,
            r#"http_tokens   = "optional""#,
        )],
        &[
            r#"modules/app/main.tf: aws_launch_template.web: metadata_options.http_tokens is "optional", which allows IMDSv1; it must be "required""#,
        ],
    );
}

#[test]
fn imdsv1_allowed_by_missing_metadata_options() {
    assert_violations(
        &[(
            MAIN_PATH,
            "  metadata_options {\n    http_endpoint = \"enabled\"\n    http_tokens   = \"required\"\n  }\n",
            "",
        )],
        &[
            "modules/app/main.tf: aws_launch_template.web: metadata_options.http_tokens is not set, which allows IMDSv1; it must be \"required\"",
        ],
    );
}

#[test]
fn launch_template_volumes_without_contract_tags() {
    assert_violations(
        &[(
            MAIN_PATH,
            "    resource_type = \"volume\"\n    tags          = local.contract_tags\n",
            "    resource_type = \"volume\"\n    tags          = { Name = \"v\" }\n",
        )],
        &[
            "modules/app/main.tf: aws_launch_template.web: tag_specifications for volumes lack the Environment tag",
            "modules/app/main.tf: aws_launch_template.web: tag_specifications for volumes lack the Project tag",
            "modules/app/main.tf: aws_launch_template.web: tag_specifications for volumes lack the Tier tag",
        ],
    );
}

#[test]
fn log_group_without_retention() {
    assert_violations(
        &[(MAIN_PATH, "  retention_in_days = 7\n", "")],
        &[
            "modules/app/main.tf: aws_cloudwatch_log_group.rds: has no retention_in_days: its logs would be kept (and billed) forever",
        ],
    );
}

#[test]
fn log_retention_of_zero_passed_by_the_environment() {
    assert_violations(
        &[(ROOT_PATH, "log_retention = 30", "log_retention = 0")],
        &[
            r#"modules/app/main.tf: aws_cloudwatch_log_group.contract["app"]: retention_in_days must be a positive number of days: 0 is below 1"#,
            r#"modules/app/main.tf: aws_cloudwatch_log_group.contract["audit"]: retention_in_days must be a positive number of days: 0 is below 1"#,
            r#"modules/app/main.tf: aws_cloudwatch_log_group.contract["codedeploy"]: retention_in_days must be a positive number of days: 0 is below 1"#,
            r#"modules/app/main.tf: aws_cloudwatch_log_group.contract["system"]: retention_in_days must be a positive number of days: 0 is below 1"#,
        ],
    );
}

#[test]
fn missing_contract_log_group() {
    assert_violations(
        &[(
            MAIN_PATH,
            r#"toset(["app", "system", "codedeploy", "audit"])"#,
            r#"toset(["app", "system", "deploy", "audit"])"#,
        )],
        &[
            r#".: aws_cloudwatch_log_group: no log group is named "/notejam/${var.environment}/codedeploy" (contract log group)"#,
        ],
    );
}

#[test]
fn database_backups_under_a_week_passed_by_the_environment() {
    assert_violations(
        &[(ROOT_PATH, "db_backups    = 7", "db_backups    = 3")],
        &[
            "modules/app/main.tf: aws_db_instance.this: backup_retention_period must be at least 7 days: 3 is below 7",
        ],
    );
}

#[test]
fn database_without_backup_retention() {
    assert_violations(
        &[(
            MAIN_PATH,
            "  backup_retention_period = var.db_backups\n",
            "",
        )],
        &[
            "modules/app/main.tf: aws_db_instance.this: has no backup_retention_period (RDS defaults to 0: no automated backups, no PITR); at least 7 days are required",
        ],
    );
}

#[test]
fn backup_plan_rule_under_a_week_by_variable_default() {
    assert_violations(
        &[(VARIABLES_PATH, "default = 35", "default = 5")],
        &[
            r#"modules/app/main.tf: aws_backup_plan.this: rule "daily" keeps recovery points for less than 7 days: 5 is below 7"#,
        ],
    );
}

#[test]
fn backup_plan_rule_without_lifecycle() {
    assert_violations(
        &[(
            MAIN_PATH,
            "    lifecycle {\n      delete_after = 365\n    }\n",
            "",
        )],
        &[
            r#"modules/app/main.tf: aws_backup_plan.this: rule "monthly" has no lifecycle.delete_after; recovery points must be kept for a set time of at least 7 days"#,
        ],
    );
}

#[test]
fn rds_identifier_off_contract() {
    assert_violations(
        &[(
            MAIN_PATH,
            "identifier              = local.name",
            "identifier              = \"notejam-db\"",
        )],
        &[
            r#"modules/app/main.tf: aws_db_instance.this: identifier is "notejam-db"; the console looks for "notejam-${var.environment}""#,
        ],
    );
}

#[test]
fn taggable_resource_without_tier() {
    assert_violations(
        &[(
            MAIN_PATH,
            "  name = \"${local.name}-alarms\"\n\n  tags = {\n    Tier = \"observability\"\n  }\n",
            "  name = \"${local.name}-alarms\"\n",
        )],
        &[
            "modules/app/main.tf: aws_sns_topic.alarms: has no Tier tag (the contract requires Project, Environment and Tier on every taggable resource)",
        ],
    );
}

#[test]
fn tier_outside_the_contract() {
    assert_violations(
        &[(
            MAIN_PATH,
            "    Tier = \"delivery\"\n  }\n}\n\nresource \"aws_codedeploy_deployment_group\"",
            "    Tier = \"frontend\"\n  }\n}\n\nresource \"aws_codedeploy_deployment_group\"",
        )],
        &[
            r#"modules/app/main.tf: aws_codedeploy_app.notejam: Tier "frontend" is not one of the contract's tiers (edge, web, bastion, database, storage, delivery, observability, backup, network)"#,
        ],
    );
}

#[test]
fn unclassified_resource_type() {
    assert_violations(
        &[(
            MAIN_PATH,
            "resource \"aws_sns_topic\" \"alarms\"",
            "resource \"aws_instance\" \"alarms\"",
        )],
        &[
            "modules/app/main.tf: aws_instance.alarms: resource type aws_instance is not classified: add it to TAGGED or UNTAGGED in provision/checks/src/taggable.rs",
        ],
    );
}

#[test]
fn asg_tag_not_propagated_and_bastion_missing() {
    assert_violations(
        &[(
            MAIN_PATH,
            "    value               = \"bastion\"\n    propagate_at_launch = true",
            "    value               = \"bastion\"\n    propagate_at_launch = false",
        )],
        &[
            "modules/app/main.tf: aws_autoscaling_group.bastion: tag Tier does not set propagate_at_launch = true, so instances would not carry it",
        ],
    );
    assert_violations(
        &[(
            MAIN_PATH,
            "    value               = \"bastion\"",
            "    value               = \"web\"",
        )],
        &[".: aws_autoscaling_group: no Auto Scaling group is tagged Tier = bastion"],
    );
}

#[test]
fn asg_without_environment_tag() {
    assert_violations(
        &[(
            MAIN_PATH,
            "  name = \"${local.name}-web\"\n\n  tag {\n    key                 = \"Project\"\n    value               = \"notejam\"\n    propagate_at_launch = true\n  }\n\n  tag {\n    key                 = \"Environment\"\n    value               = var.environment\n    propagate_at_launch = true\n  }\n",
            "  name = \"${local.name}-web\"\n\n  tag {\n    key                 = \"Project\"\n    value               = \"notejam\"\n    propagate_at_launch = true\n  }\n",
        )],
        &["modules/app/main.tf: aws_autoscaling_group.web: has no tag block for Environment"],
    );
}

#[test]
fn codedeploy_names_and_rollback() {
    assert_violations(
        &[
            (
                MAIN_PATH,
                "deployment_group_name = var.environment",
                "deployment_group_name = \"production\"",
            ),
            (
                MAIN_PATH,
                "events  = [\"DEPLOYMENT_FAILURE\", \"DEPLOYMENT_STOP_ON_ALARM\"]",
                "events  = [\"DEPLOYMENT_FAILURE\"]",
            ),
            (
                VARIABLES_PATH,
                "default = \"notejam\"",
                "default = \"notes\"",
            ),
        ],
        &[
            r#".: aws_codedeploy_deployment_group: no CodeDeploy deployment group "${var.environment}" (the fleet) is defined"#,
            r#"modules/app/main.tf: aws_codedeploy_deployment_group.canary: app_name must be "notejam" (found "notes")"#,
            r#"modules/app/main.tf: aws_codedeploy_deployment_group.this: app_name must be "notejam" (found "notes")"#,
            r#"modules/app/main.tf: aws_codedeploy_deployment_group.this: deployment_group_name is Some("production"); the contract names the groups after the environment ("${var.environment}") and its canary ("${var.environment}-canary")"#,
            "modules/app/main.tf: aws_codedeploy_deployment_group.this: does not roll back on DEPLOYMENT_STOP_ON_ALARM",
        ],
    );
}

#[test]
fn canary_group_missing() {
    let start = MAIN
        .find("resource \"aws_codedeploy_deployment_group\" \"canary\"")
        .unwrap();
    let end = MAIN.find("resource \"aws_backup_vault\"").unwrap();
    assert_violations(
        &[(MAIN_PATH, &MAIN[start..end], "")],
        &[
            r#".: aws_codedeploy_deployment_group: no CodeDeploy deployment group "${var.environment}-canary" (the canary) is defined"#,
        ],
    );
}

#[test]
fn canary_group_without_the_canary_filter() {
    assert_violations(
        &[(
            MAIN_PATH,
            "      key   = \"Canary\"",
            "      key   = \"Stage\"",
        )],
        &[
            r#"modules/app/main.tf: aws_codedeploy_deployment_group.canary: the canary group's ec2_tag_set lacks the filter Canary = "true" (type KEY_AND_VALUE)"#,
        ],
    );
}

#[test]
fn canary_group_filters_in_separate_sets_are_ored() {
    assert_violations(
        &[(
            MAIN_PATH,
            "      value = var.environment\n    }\n\n    ec2_tag_filter {\n      key   = \"Canary\"",
            "      value = var.environment\n    }\n  }\n\n  ec2_tag_set {\n    ec2_tag_filter {\n      key   = \"Canary\"",
        )],
        &[
            "modules/app/main.tf: aws_codedeploy_deployment_group.canary: the canary group has several ec2_tag_set blocks; sets are ORed: use one set with all three filters",
        ],
    );
}

#[test]
fn canary_group_with_the_whole_auto_scaling_group() {
    assert_violations(
        &[(
            MAIN_PATH,
            "  deployment_group_name = \"${var.environment}-canary\"\n",
            "  deployment_group_name = \"${var.environment}-canary\"\n  autoscaling_groups    = [aws_autoscaling_group.web.name]\n",
        )],
        &[
            "modules/app/main.tf: aws_codedeploy_deployment_group.canary: the canary group sets autoscaling_groups, which adds every instance of those groups: it must select by tags only",
        ],
    );
}

#[test]
fn canary_group_without_alarms() {
    assert_violations(
        &[(MAIN_PATH, "alarms  = [\"p99\", \"5xx\"]", "alarms  = []")],
        &[
            "modules/app/main.tf: aws_codedeploy_deployment_group.canary: alarm_configuration lists no alarms, so no alarm can stop a deployment",
        ],
    );
}

#[test]
fn auto_scaling_group_that_makes_every_instance_a_canary() {
    assert_violations(
        &[(
            MAIN_PATH,
            "    value               = \"bastion\"\n    propagate_at_launch = true\n  }\n",
            "    value               = \"bastion\"\n    propagate_at_launch = true\n  }\n\n  tag {\n    key                 = \"Canary\"\n    value               = \"true\"\n    propagate_at_launch = true\n  }\n",
        )],
        &[
            "modules/app/main.tf: aws_autoscaling_group.bastion: sets the Canary tag: every instance it launches would be in the canary deployment group; only the pipeline tags a canary",
        ],
    );
}

#[test]
fn backup_vault_and_plan_names() {
    assert_violations(
        &[
            (
                MAIN_PATH,
                "resource \"aws_backup_vault\" \"this\" {\n  name = local.name",
                "resource \"aws_backup_vault\" \"this\" {\n  name = \"vault\"",
            ),
            (
                MAIN_PATH,
                "name = \"${local.name}-daily\"",
                "name = \"${local.name}-nightly\"",
            ),
        ],
        &[
            r#"modules/app/main.tf: aws_backup_plan.this: name is Some("notejam-${var.environment}-nightly"); the contract's plan is "notejam-${var.environment}-daily""#,
            r#"modules/app/main.tf: aws_backup_vault.this: name is Some("vault"); the contract's vault is "notejam-${var.environment}""#,
        ],
    );
}

#[test]
fn bucket_purpose_off_contract() {
    assert_violations(
        &[(MAIN_PATH, "    \"alb-logs\" = {}", "    logs = {}")],
        &[
            r#".: aws_s3_bucket: no bucket has Purpose = "alb-logs""#,
            r#"modules/app/main.tf: aws_s3_bucket.this["logs"]: Purpose "logs" is not one of artifacts, backups, alb-logs"#,
        ],
    );
}

#[test]
fn parameter_outside_the_environment_path() {
    assert_violations(
        &[(
            MAIN_PATH,
            "name = \"/notejam/${var.environment}/database/host\"",
            "name = \"/db/host\"",
        )],
        &[
            r#"modules/app/main.tf: aws_ssm_parameter.host: name is Some("/db/host"); parameters of an environment live under "/notejam/${var.environment}/""#,
        ],
    );
}

#[test]
fn environment_root_named_for_another_environment() {
    assert_violations(
        &[(ROOT_PATH, "environment = \"dev\"", "environment = \"prod\"")],
        &[
            r#"envs/dev/main.tf: module.app: environment = "prod" in envs/dev; it must be "dev""#,
            r#"envs/dev/main.tf: provider.aws: default_tags set Environment = "prod" in envs/dev; it must be "dev""#,
        ],
    );
}

#[test]
fn root_without_project_default_tag() {
    assert_violations(
        &[(ROOT_PATH, "      Project     = \"notejam\"\n", "")],
        &[r#"envs/dev/main.tf: provider.aws: default_tags must set Project = "notejam""#],
    );
}

// ---------------------------------------------------------------- the real tree

/// The package's directory as `cargo test` gives it at run time: the build cache is
/// shared between checkouts, so the path compiled in may be another clone's.
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn provision_dir() -> PathBuf {
    manifest_dir()
        .parent()
        .expect("provision/checks has a parent")
        .to_path_buf()
}

#[test]
fn the_real_provision_tree_keeps_the_contract() {
    let report = check_dir(&provision_dir()).expect("provision/ loads");
    let lines: Vec<String> = report.violations.iter().map(ToString::to_string).collect();
    assert!(
        lines.is_empty(),
        "contract violations:\n{}",
        lines.join("\n")
    );
    // Guard against checking an empty or half-found tree.
    assert!(report.files >= 40, "only {} .tf files found", report.files);
    assert!(
        report.resources >= 100,
        "only {} resources found",
        report.resources
    );
}

/// Copies provision/ (the .tf files only) so a test can break one thing in
/// the real modules and see the check catch it there.
fn copy_tf_tree(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = entry.file_name();
        if entry.file_type().unwrap().is_dir() {
            if name == "checks" || name.to_string_lossy().starts_with('.') {
                continue;
            }
            fs::create_dir_all(to.join(&name)).unwrap();
            copy_tf_tree(&path, &to.join(&name));
        } else if path.extension().is_some_and(|e| e == "tf") {
            fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn breaking_the_real_modules_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    copy_tf_tree(&provision_dir(), dir.path());
    edit(
        &dir.path().join("modules/web/main.tf"),
        r#"http_tokens                 = "required""#,
        r#"http_tokens                 = "optional""#,
    );
    edit(
        &dir.path().join("envs/staging/main.tf"),
        "daily_retention_days   = 7",
        "daily_retention_days   = 3",
    );
    edit(
        &dir.path().join("envs/prod/main.tf"),
        "backup_retention_days     = 35",
        "backup_retention_days     = 1",
    );

    let report = check_dir(dir.path()).unwrap();
    let lines: Vec<String> = report.violations.iter().map(ToString::to_string).collect();
    let expected = [
        r#"modules/backup/main.tf: aws_backup_plan.this: rule "daily" keeps recovery points for less than 7 days: 3 is below 7"#,
        r#"modules/web/main.tf: aws_launch_template.this: metadata_options.http_tokens is "optional", which allows IMDSv1; it must be "required""#,
    ];
    for e in expected {
        assert!(
            lines.iter().any(|l| l == e),
            "missing {e:?} in:\n{}",
            lines.join("\n")
        );
    }
    // The database module validates 7..35, but the check reads values, not
    // validations: prod's 1 must be reported.
    assert!(
        lines.iter().any(|l| l.starts_with("modules/database/main.tf: aws_db_instance.this: backup_retention_period must be at least 7 days")
            && l.contains("1 is below 7")),
        "prod's 1-day retention not reported:\n{}",
        lines.join("\n")
    );
}

// ---------------------------------------------------------------- the CLI

fn cli(dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_provision-checks"))
        .arg(dir)
        .output()
        .expect("the binary runs")
}

#[test]
fn cli_passes_on_the_real_tree() {
    let out = cli(&provision_dir());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(": 0 violation(s)"), "{stderr}");
}

#[test]
fn cli_fails_with_one_line_per_violation() {
    let dir = tempfile::tempdir().unwrap();
    copy_tf_tree(&provision_dir(), dir.path());
    edit(
        &dir.path().join("modules/observability/main.tf"),
        "  retention_in_days = var.flow_log_retention_days\n",
        "",
    );
    let out = cli(dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("modules/observability/main.tf: aws_cloudwatch_log_group.flow_logs: has no retention_in_days"),
        "{stdout}"
    );
}

#[test]
fn cli_reports_unreadable_input_with_exit_2() {
    let out = cli(Path::new("/nonexistent/provision"));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/nonexistent/provision: cannot read"),
        "{stderr}"
    );

    let empty = tempfile::tempdir().unwrap();
    let out = cli(empty.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no .tf files found"));

    let broken = tempfile::tempdir().unwrap();
    fs::create_dir_all(broken.path().join("modules/x")).unwrap();
    fs::write(
        broken.path().join("modules/x/main.tf"),
        "resource \"aws_vpc\" \"v\" {\n",
    )
    .unwrap();
    let out = cli(broken.path());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("modules/x/main.tf: not valid HCL"),
        "{stderr}"
    );
}
