//! AWS Backup: the environment's vault and plan, recovery points, on-demand
//! backup jobs and restores of recovery points.

use std::collections::HashMap;

use aws_sdk_backup::Client;
use aws_sdk_backup::types::RecoveryPointByBackupVault;

use super::contract;
use super::errors::{SdkResultExt, optional};
use super::rds::DbInfo;
use super::time;
use crate::backend::{BackendError, Result};
use crate::domain::{Backup, BackupKind, BackupStatus, BackupVault};

/// The vault with its recovery point count and the plan's name. `None` when the
/// vault does not exist or the endpoint has no AWS Backup.
pub(crate) async fn vault(client: &Client, env: &str) -> Result<Option<BackupVault>> {
    let name = contract::backup_vault(env);
    let describe = client
        .describe_backup_vault()
        .backup_vault_name(&name)
        .send();
    let (described, plan) = tokio::join!(describe, plan_id(client, env));
    let Some(described) = optional(described.aws("backup", "DescribeBackupVault"))? else {
        return Ok(None);
    };
    let plan = optional(plan)?
        .flatten()
        .map(|_| contract::backup_plan(env));
    Ok(Some(BackupVault {
        name,
        recovery_points: u32::try_from(described.number_of_recovery_points()).ok(),
        plan,
    }))
}

/// The id of the plan `notejam-<env>-daily`, if it exists.
async fn plan_id(client: &Client, env: &str) -> Result<Option<String>> {
    let wanted = contract::backup_plan(env);
    let mut pages = client.list_backup_plans().into_paginator().send();
    while let Some(page) = pages.next().await {
        for p in page.aws("backup", "ListBackupPlans")?.backup_plans_list() {
            if p.backup_plan_name() == Some(wanted.as_str()) {
                return Ok(p.backup_plan_id().map(str::to_string));
            }
        }
    }
    Ok(None)
}

/// The IAM role AWS Backup assumes for this environment: the one the plan's
/// selection uses, so an on-demand job has exactly the scheduled jobs' rights.
pub(crate) async fn plan_role(client: &Client, env: &str) -> Result<String> {
    let plan = contract::backup_plan(env);
    let Some(plan_id) = plan_id(client, env).await? else {
        return Err(BackendError::Invalid(format!(
            "backup plan {plan} does not exist, so there is no IAM role for an on-demand backup job; provision it first"
        )));
    };
    let mut pages = client
        .list_backup_selections()
        .backup_plan_id(&plan_id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for s in page
            .aws("backup", "ListBackupSelections")?
            .backup_selections_list()
        {
            if let Some(role) = s.iam_role_arn().filter(|r| !r.is_empty()) {
                return Ok(role.to_string());
            }
        }
    }
    Err(BackendError::Invalid(format!(
        "backup plan {plan} has no resource selection, so there is no IAM role for an on-demand backup job"
    )))
}

/// Recovery points in the vault, newest first. An endpoint without the operation
/// (an emulator) or a missing vault means none.
pub(crate) async fn recovery_points(client: &Client, env: &str) -> Result<Vec<Backup>> {
    let mut out = Vec::new();
    let mut pages = client
        .list_recovery_points_by_backup_vault()
        .backup_vault_name(contract::backup_vault(env))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match optional(page.aws("backup", "ListRecoveryPointsByBackupVault"))? {
            Some(page) => out.extend(page.recovery_points().iter().filter_map(recovery_point)),
            None => return Ok(vec![]),
        }
    }
    out.sort_by_key(|b| std::cmp::Reverse(b.created));
    Ok(out)
}

pub(crate) fn recovery_point(r: &RecoveryPointByBackupVault) -> Option<Backup> {
    let status = match r.status().map(|s| s.as_str()).unwrap_or_default() {
        "COMPLETED" | "AVAILABLE" => BackupStatus::Available,
        "CREATING" => BackupStatus::Creating,
        "DELETING" => BackupStatus::Deleting,
        "EXPIRED" => BackupStatus::Expired,
        _ => BackupStatus::Failed,
    };
    Some(Backup {
        id: r.recovery_point_arn()?.to_string(),
        kind: BackupKind::RecoveryPoint,
        resource: r
            .resource_name()
            .filter(|n| !n.is_empty())
            .or_else(|| r.resource_arn().and_then(|a| a.rsplit([':', '/']).next()))
            .unwrap_or("unknown")
            .to_string(),
        created: time::opt(r.creation_date())?,
        status,
        progress: None,
        size_gb: r.backup_size_in_bytes().map(|b| b as f64 / 1_073_741_824.0),
        expires: r
            .calculated_lifecycle()
            .and_then(|l| time::opt(l.delete_at())),
    })
}

pub(crate) async fn start_backup_job(
    client: &Client,
    env: &str,
    resource_arn: &str,
    role: &str,
) -> Result<String> {
    let out = client
        .start_backup_job()
        .backup_vault_name(contract::backup_vault(env))
        .resource_arn(resource_arn)
        .iam_role_arn(role)
        .send()
        .await
        .aws("backup", "StartBackupJob")?;
    out.backup_job_id()
        .map(str::to_string)
        .ok_or_else(|| BackendError::Other("StartBackupJob answered without a job id".into()))
}

pub(crate) async fn stop_backup_job(client: &Client, job_id: &str) -> Result<()> {
    match client
        .stop_backup_job()
        .backup_job_id(job_id)
        .send()
        .await
        .aws("backup", "StopBackupJob")
    {
        Ok(_) => Ok(()),
        Err(BackendError::NotFound { .. }) => Err(BackendError::NotFound {
            what: "backup job",
            id: job_id.to_string(),
            choices: vec![],
        }),
        Err(BackendError::Api { code, message, .. }) if code == "InvalidRequestException" => Err(
            BackendError::Invalid(format!("backup job {job_id} cannot be stopped: {message}")),
        ),
        Err(e) => Err(e),
    }
}

/// Restores an RDS recovery point into `target_id`, placed like `like`.
pub(crate) async fn start_restore_job(
    client: &Client,
    env: &str,
    recovery_point: &str,
    target_id: &str,
    like: &DbInfo,
    role: &str,
) -> Result<String> {
    let meta = client
        .get_recovery_point_restore_metadata()
        .backup_vault_name(contract::backup_vault(env))
        .recovery_point_arn(recovery_point)
        .send()
        .await
        .aws("backup", "GetRecoveryPointRestoreMetadata")
        .map_err(|e| match e {
            BackendError::NotFound { .. } => BackendError::NotFound {
                what: "recovery point",
                id: recovery_point.to_string(),
                choices: vec![],
            },
            other => other,
        })?;
    let metadata = restore_metadata(meta.restore_metadata(), target_id, like);
    let out = client
        .start_restore_job()
        .recovery_point_arn(recovery_point)
        .set_metadata(Some(metadata))
        .iam_role_arn(role)
        .resource_type("RDS")
        .send()
        .await
        .aws("backup", "StartRestoreJob")?;
    out.restore_job_id()
        .map(str::to_string)
        .ok_or_else(|| BackendError::Other("StartRestoreJob answered without a job id".into()))
}

/// The restore metadata AWS Backup recorded, with the copy's name and placement.
fn restore_metadata(
    recorded: Option<&HashMap<String, String>>,
    target_id: &str,
    like: &DbInfo,
) -> HashMap<String, String> {
    let mut m = recorded.cloned().unwrap_or_default();
    m.insert("DBInstanceIdentifier".into(), target_id.to_string());
    m.insert("DBInstanceClass".into(), like.database.class.clone());
    m.insert("MultiAZ".into(), like.database.multi_az.to_string());
    m.insert(
        "DeletionProtection".into(),
        like.deletion_protection.to_string(),
    );
    let optional = [
        ("DBSubnetGroupName", like.subnet_group.clone()),
        ("DBParameterGroupName", like.parameter_group.clone()),
        ("VpcSecurityGroupIds", json_list(&like.security_groups)),
        ("EnableCloudwatchLogsExports", json_list(&like.log_exports)),
    ];
    m.extend(
        optional
            .into_iter()
            .filter_map(|(key, value)| Some((key.to_string(), value?))),
    );
    m
}

/// A list as the JSON array the metadata expects, or nothing when it is empty.
fn json_list(items: &[String]) -> Option<String> {
    (!items.is_empty()).then(|| serde_json::to_string(items).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Database;

    #[test]
    fn a_recovery_point_without_fields_is_skipped_or_defaulted() {
        assert!(recovery_point(&RecoveryPointByBackupVault::builder().build()).is_none());
        let r = recovery_point(
            &RecoveryPointByBackupVault::builder()
                .recovery_point_arn("arn:aws:backup:eu-west-1:1:recovery-point:abc")
                .resource_arn("arn:aws:rds:eu-west-1:1:db:notejam-prod")
                .creation_date(aws_smithy_types::DateTime::from_secs(1_767_225_600))
                .build(),
        )
        .unwrap();
        assert_eq!(r.resource, "notejam-prod");
        assert_eq!(r.status, BackupStatus::Failed);
        assert_eq!((r.size_gb, r.expires), (None, None));
    }

    #[test]
    fn restore_metadata_names_and_places_the_copy() {
        let like = DbInfo {
            database: Database {
                id: "notejam-prod".into(),
                engine: "postgres".into(),
                engine_version: "16".into(),
                class: "db.t4g.small".into(),
                status: "available".into(),
                multi_az: true,
                allocated_gb: 20,
                endpoint: None,
                latest_restorable: None,
                created: None,
            },
            arn: None,
            subnet_group: Some("notejam-prod-db".into()),
            security_groups: vec!["sg-1".into()],
            parameter_group: Some("notejam-prod".into()),
            log_exports: vec!["postgresql".into()],
            deletion_protection: true,
            retention_days: 7,
        };
        let recorded = HashMap::from([
            (
                "DBInstanceIdentifier".to_string(),
                "notejam-prod".to_string(),
            ),
            ("Engine".to_string(), "postgres".to_string()),
        ]);
        let m = restore_metadata(Some(&recorded), "notejam-prod-restore-1", &like);
        assert_eq!(m["DBInstanceIdentifier"], "notejam-prod-restore-1");
        assert_eq!(m["Engine"], "postgres");
        assert_eq!(m["MultiAZ"], "true");
        assert_eq!(m["VpcSecurityGroupIds"], r#"["sg-1"]"#);
        assert_eq!(m["DBParameterGroupName"], "notejam-prod");
        assert_eq!(m["DeletionProtection"], "true");
        assert_eq!(m["EnableCloudwatchLogsExports"], r#"["postgresql"]"#);
    }
}
