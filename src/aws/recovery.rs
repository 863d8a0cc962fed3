//! Backups and restores across RDS and AWS Backup, and repointing the app.

use std::collections::HashMap;

use super::rds::DbInfo;
use super::topology::app_database;
use super::{AwsBackend, backup, contract, rds, ssm};
use crate::backend::{BackendError, Result};
use crate::domain::{Backup, BackupKind, BackupOverview, BackupStatus, RestoreSource, Timestamp};

/// The environment's databases and the index of the one the app uses.
async fn databases(b: &AwsBackend) -> Result<(Vec<DbInfo>, Option<usize>)> {
    let (dbs, runtime) = tokio::try_join!(
        rds::databases(&b.clients.rds, &b.env),
        ssm::runtime(&b.clients.ssm, &b.env)
    )?;
    let app = app_database(&b.env, &dbs, runtime.database_host.as_deref());
    Ok((dbs, app))
}

fn app_or_not_found<'a>(env: &str, dbs: &'a [DbInfo], app: Option<usize>) -> Result<&'a DbInfo> {
    app.map(|i| &dbs[i]).ok_or_else(|| BackendError::NotFound {
        what: "database",
        id: contract::database_id(env),
        choices: dbs.iter().map(|d| d.database.id.clone()).collect(),
    })
}

fn retention(dbs: &[DbInfo]) -> HashMap<String, u32> {
    dbs.iter()
        .map(|d| (d.database.id.clone(), d.retention_days))
        .collect()
}

pub(crate) async fn overview(b: &AwsBackend) -> Result<BackupOverview> {
    let c = &b.clients;
    let ((dbs, app), points) =
        tokio::try_join!(databases(b), backup::recovery_points(&c.backup, &b.env))?;
    let mut backups = rds::env_snapshots(&c.rds, &b.env, &retention(&dbs)).await?;
    backups.extend(points);
    backups.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
    let prefix = contract::restore_prefix(&b.env);
    Ok(BackupOverview {
        latest_restorable: app.and_then(|i| dbs[i].database.latest_restorable),
        restores: dbs
            .into_iter()
            .filter(|d| d.database.id.starts_with(&prefix))
            .map(|d| d.database)
            .collect(),
        backups,
    })
}

pub(crate) async fn create_backup(b: &AwsBackend, kind: BackupKind) -> Result<String> {
    let (dbs, app) = databases(b).await?;
    let db = app_or_not_found(&b.env, &dbs, app)?;
    match kind {
        BackupKind::Automated => Err(BackendError::Invalid(
            "automated snapshots are taken by RDS in its backup window; choose manual (an RDS snapshot) or recovery_point (an AWS Backup job)".into(),
        )),
        BackupKind::Manual => {
            let id = format!(
                "{}{}",
                contract::manual_snapshot_prefix(&b.env),
                chrono::Utc::now().format("%Y%m%d%H%M%S")
            );
            rds::create_snapshot(&b.clients.rds, &b.env, &db.database.id, &id).await?;
            Ok(id)
        }
        BackupKind::RecoveryPoint => {
            let arn = db.arn.as_deref().ok_or_else(|| {
                BackendError::Other(format!("RDS did not report the ARN of {}", db.database.id))
            })?;
            let role = backup::plan_role(&b.clients.backup, &b.env).await?;
            backup::start_backup_job(&b.clients.backup, &b.env, arn, &role).await
        }
    }
}

fn is_recovery_point(id: &str) -> bool {
    id.starts_with("arn:")
        && (id.contains(":recovery-point:") || id.contains(":snapshot:awsbackup:"))
}

pub(crate) async fn cancel_backup(b: &AwsBackend, id: &str) -> Result<()> {
    let id = id.trim();
    if id.is_empty() {
        return Err(BackendError::Invalid("no backup id given".into()));
    }
    if id.starts_with("rds:") || id.starts_with(&format!("notejam-{}-", b.env)) {
        return Err(BackendError::Invalid(format!(
            "{id} is an RDS snapshot and RDS cannot cancel a snapshot in progress; delete it once it is available if it is unwanted"
        )));
    }
    if is_recovery_point(id) {
        return Err(BackendError::Invalid(format!(
            "{id} is a recovery point that already exists; only a running backup job (its job id) can be cancelled"
        )));
    }
    backup::stop_backup_job(&b.clients.backup, id).await
}

/// RDS instance identifiers: 1 to 63 letters, digits and hyphens, starting with a
/// letter, without two hyphens in a row or a trailing one.
fn check_identifier(env: &str, id: &str) -> Result<()> {
    let prefix = contract::restore_prefix(env);
    let valid = !id.is_empty()
        && id.len() <= 63
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !id.contains("--")
        && !id.ends_with('-');
    if !valid {
        return Err(BackendError::Invalid(format!(
            "'{id}' is not a valid RDS instance identifier (1-63 letters, digits and single hyphens, starting with a letter)"
        )));
    }
    if !id.starts_with(&prefix) {
        return Err(BackendError::Invalid(format!(
            "restored databases are named {prefix}<timestamp> so the console can find them; got '{id}'"
        )));
    }
    Ok(())
}

pub(crate) async fn restore(b: &AwsBackend, source: &RestoreSource, target_id: &str) -> Result<()> {
    check_identifier(&b.env, target_id)?;
    let c = &b.clients;
    let (dbs, app) = databases(b).await?;
    if dbs.iter().any(|d| d.database.id == target_id) {
        return Err(BackendError::Invalid(format!(
            "database {target_id} already exists; choose another name"
        )));
    }
    let like = app_or_not_found(&b.env, &dbs, app)?;
    match source {
        RestoreSource::PointInTime { time } => {
            let snapshots = rds::env_snapshots(&c.rds, &b.env, &retention(&dbs)).await?;
            check_point_in_time(like, &snapshots, *time)?;
            rds::restore_to_time(&c.rds, &b.env, like, target_id, *time).await
        }
        RestoreSource::Backup { id } if is_recovery_point(id) => {
            let role = backup::plan_role(&c.backup, &b.env).await?;
            backup::start_restore_job(&c.backup, &b.env, id, target_id, like, &role)
                .await
                .map(|_| ())
        }
        RestoreSource::Backup { id } => {
            let retention = retention(&dbs);
            let (snapshots, points) = tokio::try_join!(
                rds::env_snapshots(&c.rds, &b.env, &retention),
                backup::recovery_points(&c.backup, &b.env)
            )?;
            let Some(snap) = snapshots.iter().find(|s| &s.id == id) else {
                return Err(BackendError::NotFound {
                    what: "backup",
                    id: id.clone(),
                    choices: snapshots
                        .iter()
                        .chain(&points)
                        .filter(|s| s.is_restorable())
                        .map(|s| s.id.clone())
                        .collect(),
                });
            };
            if snap.status != BackupStatus::Available {
                return Err(BackendError::Invalid(format!(
                    "snapshot {id} is {}; only an available snapshot can be restored",
                    snap.status.as_str()
                )));
            }
            rds::restore_from_snapshot(&c.rds, &b.env, id, target_id, like).await
        }
    }
}

/// A point in time must lie inside the database's restore window: from its oldest
/// automated snapshot (where the retained log starts) to its latest restorable
/// time.
fn check_point_in_time(db: &DbInfo, snapshots: &[Backup], at: Timestamp) -> Result<()> {
    let id = &db.database.id;
    if db.retention_days == 0 {
        return Err(BackendError::Invalid(format!(
            "{id} keeps no automated backups, so it has no point-in-time window"
        )));
    }
    let Some(latest) = db.database.latest_restorable else {
        return Err(BackendError::Invalid(format!(
            "{id} has no restorable time yet (its first backup is still running)"
        )));
    };
    let earliest = snapshots
        .iter()
        .filter(|s| s.kind == BackupKind::Automated && &s.resource == id)
        .map(|s| s.created)
        .min();
    let fmt = |t: Timestamp| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let window = match earliest {
        Some(e) => format!("{} to {}", fmt(e), fmt(latest)),
        None => format!("up to {}", fmt(latest)),
    };
    if at > latest || earliest.is_some_and(|e| at < e) {
        return Err(BackendError::Invalid(format!(
            "{} is outside {id}'s restore window ({window})",
            fmt(at)
        )));
    }
    Ok(())
}

pub(crate) async fn point_app_at(b: &AwsBackend, id: &str) -> Result<()> {
    let dbs = rds::databases(&b.clients.rds, &b.env).await?;
    let Some(db) = dbs.iter().find(|d| d.database.id == id) else {
        return Err(BackendError::NotFound {
            what: "database",
            id: id.to_string(),
            choices: dbs.iter().map(|d| d.database.id.clone()).collect(),
        });
    };
    if !db.database.is_available() {
        return Err(BackendError::Invalid(format!(
            "database {id} is {}; the app can only be pointed at an available database",
            db.database.status
        )));
    }
    let Some(host) = db.database.endpoint.as_deref() else {
        return Err(BackendError::Invalid(format!(
            "database {id} has no endpoint yet"
        )));
    };
    ssm::put_database_host(&b.clients.ssm, &b.env, host).await?;
    // The metrics follow the database the app uses.
    b.scope_cache.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Database;

    fn db(retention_days: u32, latest: Option<Timestamp>) -> DbInfo {
        DbInfo {
            database: Database {
                id: "notejam-prod".into(),
                engine: "postgres".into(),
                engine_version: "16".into(),
                class: "db.t4g.small".into(),
                status: "available".into(),
                multi_az: false,
                allocated_gb: 20,
                endpoint: None,
                latest_restorable: latest,
                created: None,
            },
            arn: None,
            subnet_group: None,
            security_groups: vec![],
            parameter_group: None,
            log_exports: vec![],
            deletion_protection: false,
            retention_days,
        }
    }

    #[test]
    fn restore_targets_follow_the_contract() {
        assert!(check_identifier("prod", "notejam-prod-restore-20260101").is_ok());
        for bad in [
            "",
            "1abc",
            "notejam-prod-restore-",
            "notejam--prod",
            "x".repeat(64).as_str(),
        ] {
            let e = check_identifier("prod", bad).unwrap_err().to_string();
            assert!(
                e.contains("not a valid RDS instance identifier"),
                "{bad}: {e}"
            );
        }
        let e = check_identifier("prod", "mydb").unwrap_err().to_string();
        assert!(e.contains("notejam-prod-restore-<timestamp>"), "{e}");
    }

    #[test]
    fn points_in_time_must_be_inside_the_window() {
        let now = chrono::Utc::now();
        let snap = Backup {
            id: "rds:notejam-prod-1".into(),
            kind: BackupKind::Automated,
            resource: "notejam-prod".into(),
            created: now - chrono::Duration::days(3),
            status: BackupStatus::Available,
            progress: None,
            size_gb: None,
            expires: None,
        };
        let d = db(7, Some(now - chrono::Duration::minutes(5)));
        assert!(
            check_point_in_time(
                &d,
                std::slice::from_ref(&snap),
                now - chrono::Duration::days(1)
            )
            .is_ok()
        );
        let e = check_point_in_time(&d, std::slice::from_ref(&snap), now)
            .unwrap_err()
            .to_string();
        assert!(e.contains("outside notejam-prod's restore window"), "{e}");
        assert!(
            check_point_in_time(
                &d,
                std::slice::from_ref(&snap),
                now - chrono::Duration::days(4)
            )
            .is_err()
        );
        let e = check_point_in_time(&db(0, None), &[], now)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no automated backups"), "{e}");
    }
}
