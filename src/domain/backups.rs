use serde::{Deserialize, Serialize};

use super::{Database, Timestamp};

/// How old the newest backup may get before the console flags it.
pub const BACKUP_STALE_AFTER: chrono::Duration = chrono::Duration::hours(24);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupKind {
    /// An RDS automated snapshot (the daily backup window).
    Automated,
    /// An RDS manual snapshot (`backup now`).
    Manual,
    /// An AWS Backup recovery point in the environment's vault.
    RecoveryPoint,
}

impl BackupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupKind::Automated => "automated",
            BackupKind::Manual => "manual",
            BackupKind::RecoveryPoint => "recovery_point",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupStatus {
    Creating,
    Available,
    Failed,
    Deleting,
    Expired,
}

impl BackupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupStatus::Creating => "creating",
            BackupStatus::Available => "available",
            BackupStatus::Failed => "failed",
            BackupStatus::Deleting => "deleting",
            BackupStatus::Expired => "expired",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Backup {
    /// The snapshot identifier or the recovery point ARN: what `restore` takes.
    pub id: String,
    pub kind: BackupKind,
    /// What was backed up: the database id or the bucket name.
    pub resource: String,
    pub created: Timestamp,
    pub status: BackupStatus,
    /// Percent done while creating.
    pub progress: Option<u8>,
    pub size_gb: Option<f64>,
    /// When the backup plan or retention deletes it.
    pub expires: Option<Timestamp>,
}

impl Backup {
    pub fn is_restorable(&self) -> bool {
        self.status == BackupStatus::Available
    }
}

/// Everything the backups view and `backups` show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupOverview {
    /// Newest first.
    pub backups: Vec<Backup>,
    /// The newest instant a point-in-time restore of the app's database reaches.
    pub latest_restorable: Option<Timestamp>,
    /// Databases being restored or restored, `notejam-<env>-restore-<ts>`.
    pub restores: Vec<Database>,
}

impl BackupOverview {
    /// The newest backup that completed, of any kind.
    pub fn newest_available(&self) -> Option<&Backup> {
        self.backups
            .iter()
            .filter(|b| b.is_restorable())
            .max_by_key(|b| b.created)
    }

    /// Whether the newest completed backup is older than [`BACKUP_STALE_AFTER`]
    /// (or there is none at all).
    pub fn is_stale(&self, now: Timestamp) -> bool {
        self.newest_available()
            .is_none_or(|b| now - b.created > BACKUP_STALE_AFTER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup(id: &str, hours_ago: i64, status: BackupStatus, now: Timestamp) -> Backup {
        Backup {
            id: id.into(),
            kind: BackupKind::Automated,
            resource: "notejam-demo".into(),
            created: now - chrono::Duration::hours(hours_ago),
            status,
            progress: None,
            size_gb: Some(20.0),
            expires: None,
        }
    }

    #[test]
    fn staleness_counts_only_completed_backups() {
        let now = chrono::Utc::now();
        let mut o = BackupOverview {
            backups: vec![
                backup("old", 30, BackupStatus::Available, now),
                backup("running", 1, BackupStatus::Creating, now),
            ],
            latest_restorable: None,
            restores: vec![],
        };
        assert_eq!(o.newest_available().unwrap().id, "old");
        assert!(o.is_stale(now));
        o.backups
            .push(backup("fresh", 2, BackupStatus::Available, now));
        assert!(!o.is_stale(now));
        o.backups.clear();
        assert!(o.is_stale(now));
    }
}
