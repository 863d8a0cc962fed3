//! RDS: the environment's databases, their snapshots, and restores.

use std::collections::HashMap;

use aws_sdk_rds::Client;
use aws_sdk_rds::types::{DbInstance, DbSnapshot, Tag};

use super::contract;
use super::errors::SdkResultExt;
use super::time;
use crate::backend::Result;
use crate::domain::{Backup, BackupKind, BackupStatus, Database, Tier, Timestamp};

/// A database with what a restore copies from it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DbInfo {
    pub database: Database,
    pub arn: Option<String>,
    pub subnet_group: Option<String>,
    pub security_groups: Vec<String>,
    pub parameter_group: Option<String>,
    pub log_exports: Vec<String>,
    pub deletion_protection: bool,
    pub retention_days: u32,
}

/// The environment's databases: `notejam-<env>`, restored copies by name, and any
/// other instance carrying the environment's tags. Sorted by id.
pub(crate) async fn databases(client: &Client, env: &str) -> Result<Vec<DbInfo>> {
    let mut out = Vec::new();
    let mut pages = client.describe_db_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        for db in page.aws("rds", "DescribeDBInstances")?.db_instances() {
            let id = db.db_instance_identifier().unwrap_or_default();
            let tags = db
                .tag_list()
                .iter()
                .filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())));
            if contract::is_env_database(env, id) || contract::is_env_tagged(env, tags) {
                out.push(info(db));
            }
        }
    }
    out.sort_by(|a, b| a.database.id.cmp(&b.database.id));
    Ok(out)
}

fn info(db: &DbInstance) -> DbInfo {
    DbInfo {
        database: Database {
            id: db.db_instance_identifier().unwrap_or_default().to_string(),
            engine: db.engine().unwrap_or_default().to_string(),
            engine_version: db.engine_version().unwrap_or_default().to_string(),
            class: db.db_instance_class().unwrap_or_default().to_string(),
            status: db.db_instance_status().unwrap_or("unknown").to_string(),
            multi_az: db.multi_az().unwrap_or(false),
            allocated_gb: db.allocated_storage().unwrap_or(0).max(0) as u32,
            endpoint: db.endpoint().and_then(|e| e.address()).map(str::to_string),
            latest_restorable: time::opt(db.latest_restorable_time()),
            created: time::opt(db.instance_create_time()),
        },
        arn: db.db_instance_arn().map(str::to_string),
        subnet_group: db
            .db_subnet_group()
            .and_then(|g| g.db_subnet_group_name())
            .map(str::to_string),
        security_groups: db
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
            .collect(),
        parameter_group: db
            .db_parameter_groups()
            .iter()
            .find_map(|g| g.db_parameter_group_name())
            .map(str::to_string),
        log_exports: db.enabled_cloudwatch_logs_exports().to_vec(),
        deletion_protection: db.deletion_protection().unwrap_or(false),
        retention_days: db.backup_retention_period().unwrap_or(0).max(0) as u32,
    }
}

/// Automated and manual snapshots of the environment's databases, newest first,
/// including manual snapshots of databases since deleted. Snapshots AWS Backup
/// took (`awsbackup`) are listed from the vault as recovery points instead.
/// `retention_days` gives each existing database's automated-backup retention.
pub(crate) async fn env_snapshots(
    client: &Client,
    env: &str,
    retention_days: &HashMap<String, u32>,
) -> Result<Vec<Backup>> {
    let mut out = Vec::new();
    let mut pages = client.describe_db_snapshots().into_paginator().send();
    while let Some(page) = pages.next().await {
        for s in page.aws("rds", "DescribeDBSnapshots")?.db_snapshots() {
            let db = s.db_instance_identifier().unwrap_or_default();
            if !contract::is_env_database(env, db) {
                continue;
            }
            if let Some(b) = snapshot(s, retention_days.get(db).copied().unwrap_or(0)) {
                out.push(b);
            }
        }
    }
    out.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
    Ok(out)
}

fn snapshot(s: &DbSnapshot, retention_days: u32) -> Option<Backup> {
    let kind = match s.snapshot_type().unwrap_or("manual") {
        "automated" => BackupKind::Automated,
        "manual" => BackupKind::Manual,
        _ => return None,
    };
    // A snapshot still being created has no create time yet.
    let created = time::opt(s.snapshot_create_time()).unwrap_or_else(chrono::Utc::now);
    Some(Backup {
        id: s.db_snapshot_identifier()?.to_string(),
        kind,
        resource: s.db_instance_identifier().unwrap_or_default().to_string(),
        created,
        status: snapshot_status(s.status().unwrap_or_default()),
        progress: s.percent_progress().map(|p| p.clamp(0, 100) as u8),
        size_gb: s.allocated_storage().map(f64::from),
        // RDS deletes automated snapshots after the retention period; manual ones
        // stay until deleted.
        expires: (kind == BackupKind::Automated && retention_days > 0)
            .then(|| created + chrono::Duration::days(i64::from(retention_days))),
    })
}

fn snapshot_status(s: &str) -> BackupStatus {
    match s {
        "available" => BackupStatus::Available,
        "creating" | "copying" | "pending" | "modifying" | "upgrading" => BackupStatus::Creating,
        "deleting" => BackupStatus::Deleting,
        _ => BackupStatus::Failed,
    }
}

fn rds_tags(env: &str) -> Vec<Tag> {
    contract::tags(env, Tier::Database)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub(crate) async fn create_snapshot(
    client: &Client,
    env: &str,
    db_id: &str,
    snapshot_id: &str,
) -> Result<()> {
    client
        .create_db_snapshot()
        .db_instance_identifier(db_id)
        .db_snapshot_identifier(snapshot_id)
        .set_tags(Some(rds_tags(env)))
        .send()
        .await
        .aws("rds", "CreateDBSnapshot")?;
    Ok(())
}

/// A restore copies the placement and settings of the database it replaces:
/// subnet group, security groups, class, Multi-AZ, parameter group (without it
/// RDS picks the engine's default group, losing the environment's `rds.force_ssl`
/// and logging settings), the log exports (so the copy's PostgreSQL log keeps
/// reaching `/aws/rds/instance/<id>/postgresql`), the backup retention and the
/// deletion protection. The copy can then take its place.
///
/// The two restore requests are different SDK types with the same setters, hence
/// a macro: one list of what is copied, for both.
macro_rules! placed_like {
    ($request:expr, $like:expr, $env:expr) => {
        $request
            .set_db_subnet_group_name($like.subnet_group.clone())
            .set_vpc_security_group_ids(
                Some($like.security_groups.clone()).filter(|v| !v.is_empty()),
            )
            .db_instance_class(&$like.database.class)
            .multi_az($like.database.multi_az)
            .set_db_parameter_group_name($like.parameter_group.clone())
            .set_enable_cloudwatch_logs_exports(
                Some($like.log_exports.clone()).filter(|v| !v.is_empty()),
            )
            .copy_tags_to_snapshot(true)
            .set_backup_retention_period(
                ($like.retention_days > 0).then_some($like.retention_days as i32),
            )
            .deletion_protection($like.deletion_protection)
            .set_tags(Some(rds_tags($env)))
    };
}

pub(crate) async fn restore_from_snapshot(
    client: &Client,
    env: &str,
    snapshot_id: &str,
    target_id: &str,
    like: &DbInfo,
) -> Result<()> {
    let request = client
        .restore_db_instance_from_db_snapshot()
        .db_snapshot_identifier(snapshot_id)
        .db_instance_identifier(target_id);
    placed_like!(request, like, env)
        .send()
        .await
        .aws("rds", "RestoreDBInstanceFromDBSnapshot")?;
    Ok(())
}

pub(crate) async fn restore_to_time(
    client: &Client,
    env: &str,
    like: &DbInfo,
    target_id: &str,
    at: Timestamp,
) -> Result<()> {
    let request = client
        .restore_db_instance_to_point_in_time()
        .source_db_instance_identifier(&like.database.id)
        .target_db_instance_identifier(target_id)
        .restore_time(time::to_sdk(at));
    placed_like!(request, like, env)
        .send()
        .await
        .aws("rds", "RestoreDBInstanceToPointInTime")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_map_kind_status_and_expiry() {
        let t = aws_smithy_types::DateTime::from_secs(1_767_225_600);
        let s = DbSnapshot::builder()
            .db_snapshot_identifier("rds:notejam-prod-2026-01-01")
            .db_instance_identifier("notejam-prod")
            .snapshot_type("automated")
            .status("available")
            .snapshot_create_time(t)
            .allocated_storage(20)
            .build();
        let b = snapshot(&s, 7).unwrap();
        assert_eq!(b.kind, BackupKind::Automated);
        assert_eq!(b.status, BackupStatus::Available);
        assert_eq!(b.expires.unwrap() - b.created, chrono::Duration::days(7));
        let aws_backup = DbSnapshot::builder()
            .db_snapshot_identifier("awsbackup:job-1")
            .snapshot_type("awsbackup")
            .build();
        assert!(snapshot(&aws_backup, 7).is_none());
        let manual = DbSnapshot::builder()
            .db_snapshot_identifier("notejam-prod-manual-1")
            .snapshot_type("manual")
            .status("creating")
            .percent_progress(40)
            .build();
        let b = snapshot(&manual, 7).unwrap();
        assert_eq!(
            (b.status, b.progress, b.expires),
            (BackupStatus::Creating, Some(40), None)
        );
    }
}
