//! The database and its backups: RDS automated snapshots in the daily backup
//! window (02:00-03:00 UTC, kept 7 days), AWS Backup recovery points from the
//! plan `notejam-demo-daily` (05:00 UTC with a 60-minute start window, kept 35
//! days; a monthly rule on the 1st at 06:00, kept a year), manual snapshots and
//! on-demand jobs, point-in-time recovery about five minutes behind now, and
//! restores into new instances that take a quarter of an hour.
//!
//! Statuses and progress are read from the instants fixed when something starts,
//! like the fleet's.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::alarms::{BackupJobs, DB_ALLOCATED_GIB};
use super::clock::{DAY, HOUR, MINUTE, Ms, SECOND, floor, to_ts};
use super::names::{self, DB_ID, RESTORE_PREFIX};
use super::random::{Purpose, rng};
use crate::backend::BackendError;
use crate::domain::{Backup, BackupKind, BackupOverview, BackupStatus, Database, RestoreSource};
use chrono::Datelike;

pub const ENGINE_VERSION: &str = "17.5";
pub const DB_CLASS: &str = "db.t4g.medium";
/// The automated snapshot starts within the first half hour of the window.
pub const RDS_WINDOW_START: Ms = 2 * HOUR;
pub const RDS_START_SPREAD_MINUTES: i64 = 30;
pub const RDS_SNAPSHOT_MINUTES: (i64, i64) = (4, 9);
pub const RDS_RETENTION: Ms = 7 * DAY;
pub const PLAN_DAILY_START: Ms = 5 * HOUR;
pub const PLAN_MONTHLY_START: Ms = 6 * HOUR;
pub const PLAN_START_SPREAD_MINUTES: i64 = 45;
pub const PLAN_JOB_MINUTES: (i64, i64) = (8, 20);
pub const PLAN_DAILY_RETENTION: Ms = 35 * DAY;
pub const PLAN_MONTHLY_RETENTION: Ms = 365 * DAY;
pub const MANUAL_MINUTES: (i64, i64) = (3, 6);
pub const ON_DEMAND_MINUTES: (i64, i64) = (6, 15);
/// A restore is `creating`, then `backing-up` (its first automated backup).
pub const RESTORE_CREATE_MINUTES: (i64, i64) = (10, 16);
pub const RESTORE_BACKUP_MINUTES: (i64, i64) = (3, 6);
/// Transaction logs reach S3 every five minutes.
pub const PITR_LAG: Ms = 5 * MINUTE;
/// The environment (and its database) existed this long before the history.
pub const ENV_AGE: Ms = 100 * DAY;
const GIB: u64 = 1024 * 1024 * 1024;

fn minutes(r: &mut impl rand::Rng, (lo, hi): (i64, i64)) -> Ms {
    r.random_range(lo * MINUTE..=hi * MINUTE)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupRec {
    pub id: String,
    pub kind: BackupKind,
    pub resource: String,
    pub created: Ms,
    pub done_at: Ms,
    pub size_bytes: u64,
    /// The database's used bytes when taken: what a restore from it holds.
    pub used_bytes: u64,
    pub expires: Option<Ms>,
    /// A job cancelled (StopBackupJob) before it completed.
    pub aborted: bool,
}

impl BackupRec {
    fn status(&self, t: Ms) -> BackupStatus {
        if self.aborted {
            BackupStatus::Failed
        } else if t < self.done_at {
            BackupStatus::Creating
        } else {
            BackupStatus::Available
        }
    }

    fn is_rds_snapshot(&self) -> bool {
        self.kind != BackupKind::RecoveryPoint
    }

    fn to_domain(&self, t: Ms) -> Backup {
        let status = self.status(t);
        let span = (self.done_at - self.created).max(1);
        Backup {
            id: self.id.clone(),
            kind: self.kind,
            resource: self.resource.clone(),
            created: to_ts(self.created),
            status,
            progress: (status == BackupStatus::Creating)
                .then(|| (((t - self.created).max(0) * 100) / span).min(99) as u8),
            size_gb: Some(if self.is_rds_snapshot() {
                (self.size_bytes / GIB) as f64
            } else {
                (self.size_bytes as f64 / GIB as f64 * 100.0).round() / 100.0
            }),
            expires: self.expires.map(to_ts),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DbRec {
    pub id: String,
    pub class: String,
    pub engine_version: String,
    pub multi_az: bool,
    pub allocated_gb: u32,
    pub created: Ms,
    pub ready_at: Ms,
    /// A restored instance takes its first backup until then.
    pub backed_up_at: Ms,
    pub used_bytes: u64,
    /// The backup or instant it was restored from.
    pub source: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Backups {
    /// Oldest first.
    pub items: Vec<BackupRec>,
    pub databases: Vec<DbRec>,
    /// The database the app uses.
    pub app_db: String,
    pub jobs: u64,
}

impl BackupJobs for Backups {
    fn completed_between(&self, from: Ms, to: Ms) -> usize {
        self.items
            .iter()
            .filter(|b| b.kind == BackupKind::RecoveryPoint && !b.aborted)
            .filter(|b| b.done_at >= from && b.done_at < to)
            .count()
    }

    /// No job fails in the model (a cancelled one is aborted, which AWS Backup
    /// counts apart from failures).
    fn failed_between(&self, _from: Ms, _to: Ms) -> usize {
        0
    }
}

/// RDS's rules for an instance identifier.
fn check_identifier(id: &str) -> Result<(), String> {
    let rule = "1 to 63 letters, digits or hyphens, starting with a letter, without two hyphens in a row or a trailing hyphen";
    let ok = !id.is_empty()
        && id.len() <= 63
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !id.contains("--")
        && !id.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{id}' is not a valid database identifier: use {rule}"
        ))
    }
}

impl Backups {
    /// The database and the backups that exist when the history starts at `t0`:
    /// the plan's recovery points of the last 35 days, a year of monthly ones,
    /// and the automated snapshots still retained.
    pub fn new(seed: u64, t0: Ms) -> Backups {
        let mut r = rng(seed, Purpose::History, 0, 0xDB);
        let created = floor(t0 - ENV_AGE, DAY) + 9 * HOUR + r.random_range(0..HOUR);
        let used = (3.2 * GIB as f64) as u64 + r.random_range(0..GIB / 2);
        let mut b = Backups {
            items: Vec::new(),
            databases: vec![DbRec {
                id: DB_ID.to_string(),
                class: DB_CLASS.to_string(),
                engine_version: ENGINE_VERSION.to_string(),
                multi_az: true,
                allocated_gb: DB_ALLOCATED_GIB,
                created,
                ready_at: created + 14 * MINUTE,
                backed_up_at: created + 19 * MINUTE,
                used_bytes: used,
                source: None,
            }],
            app_db: DB_ID.to_string(),
            jobs: 0,
        };
        let first_day = floor(t0 - PLAN_MONTHLY_RETENTION, DAY).max(floor(created, DAY) + DAY);
        let mut day = first_day;
        while day < t0 {
            // The database was smaller in the past: about 100 MiB a day less.
            let days_back = ((t0 - day) / DAY) as u64;
            let used_then = used.saturating_sub(days_back * 100 * 1024 * 1024);
            b.schedule(seed, day, day, t0, used_then);
            day += DAY;
        }
        b.items
            .retain(|i| i.created < t0 && i.expires.is_none_or(|e| e > t0));
        b
    }

    pub fn app(&self) -> &DbRec {
        self.databases
            .iter()
            .find(|d| d.id == self.app_db)
            .unwrap_or(&self.databases[0])
    }

    fn app_mut(&mut self) -> &mut DbRec {
        let k = self
            .databases
            .iter()
            .position(|d| d.id == self.app_db)
            .unwrap_or(0);
        &mut self.databases[k]
    }

    pub fn grow_app_db(&mut self, bytes: u64) {
        let db = self.app_mut();
        db.used_bytes = (db.used_bytes + bytes).min(u64::from(db.allocated_gb) * GIB);
    }

    pub fn app_free_mib(&self) -> i32 {
        let db = self.app();
        let free = (u64::from(db.allocated_gb) * GIB).saturating_sub(db.used_bytes);
        (free / (1024 * 1024)) as i32
    }

    pub fn db_status(&self, db: &DbRec, t: Ms) -> &'static str {
        if t < db.ready_at {
            "creating"
        } else if t < db.backed_up_at
            || self.items.iter().any(|b| {
                b.is_rds_snapshot()
                    && b.resource == db.id
                    && b.created <= t
                    && b.status(t) == BackupStatus::Creating
            })
        {
            "backing-up"
        } else {
            "available"
        }
    }

    pub fn app_db_backing_up(&self, t: Ms) -> bool {
        self.db_status(self.app(), t) == "backing-up"
    }

    /// The newest instant a point-in-time restore of `db` reaches.
    fn latest_restorable(&self, db: &DbRec, t: Ms) -> Option<Ms> {
        (t >= db.backed_up_at).then(|| floor(t - PITR_LAG, MINUTE).max(db.backed_up_at))
    }

    fn earliest_restorable(&self, db: &DbRec, t: Ms) -> Ms {
        db.backed_up_at.max(t - RDS_RETENTION)
    }

    /// Starts the scheduled backups of `day` whose start falls in [from, to).
    /// Each schedule draws from its own generator, so whether one started in
    /// this call never shifts another's draws.
    fn schedule(&mut self, seed: u64, day: Ms, from: Ms, to: Ms, used: u64) {
        let d = day / DAY;
        let within = |t: Ms| t >= from && t < to;
        let mut r = rng(seed, Purpose::Backups, d, 1);
        let rds_start =
            day + RDS_WINDOW_START + r.random_range(0..RDS_START_SPREAD_MINUTES) * MINUTE;
        if within(rds_start) {
            let primary = &self.databases[0];
            self.items.push(BackupRec {
                id: format!("rds:{DB_ID}-{}", to_ts(rds_start).format("%Y-%m-%d-%H-%M")),
                kind: BackupKind::Automated,
                resource: DB_ID.to_string(),
                created: rds_start,
                done_at: rds_start
                    + minutes(&mut r, RDS_SNAPSHOT_MINUTES)
                    + r.random_range(0..60) * SECOND,
                size_bytes: u64::from(primary.allocated_gb) * GIB,
                used_bytes: used,
                expires: Some(rds_start + RDS_RETENTION),
                aborted: false,
            });
        }
        let monthly = to_ts(day).day() == 1;
        for (rule, offset, retention) in [
            (2, PLAN_DAILY_START, PLAN_DAILY_RETENTION),
            (3, PLAN_MONTHLY_START, PLAN_MONTHLY_RETENTION),
        ] {
            if rule == 3 && !monthly {
                continue;
            }
            let mut r = rng(seed, Purpose::Backups, d, rule);
            let start = day + offset + r.random_range(0..PLAN_START_SPREAD_MINUTES * 60) * SECOND;
            if within(start) {
                self.jobs += 1;
                self.items.push(BackupRec {
                    id: names::recovery_point_arn(seed, self.jobs),
                    kind: BackupKind::RecoveryPoint,
                    resource: DB_ID.to_string(),
                    created: start,
                    done_at: start + minutes(&mut r, PLAN_JOB_MINUTES),
                    size_bytes: used,
                    used_bytes: used,
                    expires: Some(start + retention),
                    aborted: false,
                });
            }
        }
    }

    /// Per tick: the day's scheduled backups that start in [t0, t1).
    pub fn process(&mut self, seed: u64, t0: Ms, t1: Ms) {
        let used = self.databases[0].used_bytes;
        self.schedule(seed, floor(t0, DAY), t0, t1, used);
    }

    /// Retention and the plan's lifecycle delete what expired; an aborted job's
    /// record stays a day.
    pub fn expire(&mut self, t: Ms) {
        self.items
            .retain(|b| b.expires.is_none_or(|e| e > t) && !(b.aborted && b.done_at + DAY <= t));
    }

    /// CreateDBSnapshot of the app's database, or StartBackupJob.
    pub fn create(&mut self, seed: u64, t: Ms, kind: BackupKind) -> Result<String, BackendError> {
        let db = self.app().clone();
        let mut r = rng(seed, Purpose::Backups, t, 2);
        let rec = match kind {
            BackupKind::Automated => {
                return Err(BackendError::Invalid(
                    "automated snapshots are taken by RDS in the backup window (02:00-03:00 UTC); choose manual or recovery_point".to_string(),
                ));
            }
            BackupKind::Manual => {
                let status = self.db_status(&db, t);
                if status != "available" {
                    return Err(BackendError::Invalid(format!(
                        "database {} is {status}: RDS snapshots only an available instance; try again when it is available",
                        db.id
                    )));
                }
                let id = format!("{}-manual-{}", db.id, to_ts(t).format("%Y%m%d%H%M"));
                if self.items.iter().any(|b| b.id == id) {
                    return Err(BackendError::Invalid(format!(
                        "snapshot {id} already exists: manual snapshots are named by the minute; try again in a minute"
                    )));
                }
                BackupRec {
                    id,
                    kind,
                    resource: db.id.clone(),
                    created: t,
                    done_at: t + minutes(&mut r, MANUAL_MINUTES),
                    size_bytes: u64::from(db.allocated_gb) * GIB,
                    used_bytes: db.used_bytes,
                    expires: None,
                    aborted: false,
                }
            }
            BackupKind::RecoveryPoint => {
                self.jobs += 1;
                BackupRec {
                    id: names::recovery_point_arn(seed, self.jobs),
                    kind,
                    resource: db.id.clone(),
                    created: t,
                    done_at: t + minutes(&mut r, ON_DEMAND_MINUTES),
                    size_bytes: db.used_bytes,
                    used_bytes: db.used_bytes,
                    expires: Some(t + PLAN_DAILY_RETENTION),
                    aborted: false,
                }
            }
        };
        let id = rec.id.clone();
        self.items.push(rec);
        Ok(id)
    }

    /// StopBackupJob: only a recovery point still being created.
    pub fn cancel(&mut self, t: Ms, id: &str) -> Result<(), BackendError> {
        let Some(b) = self.items.iter_mut().find(|b| b.id == id) else {
            let running: Vec<String> = self
                .items
                .iter()
                .filter(|b| !b.is_rds_snapshot() && b.status(t) == BackupStatus::Creating)
                .map(|b| b.id.clone())
                .collect();
            if running.is_empty() {
                return Err(BackendError::Invalid(format!(
                    "no backup job is running to cancel ('{id}' is not a backup of this environment)"
                )));
            }
            return Err(BackendError::NotFound {
                what: "backup job",
                id: id.to_string(),
                choices: running,
            });
        };
        if b.is_rds_snapshot() {
            return Err(BackendError::Invalid(format!(
                "{id} is an RDS {} snapshot: RDS cannot cancel a snapshot in progress; delete it once it is available",
                b.kind.as_str()
            )));
        }
        let status = b.status(t);
        if status != BackupStatus::Creating {
            return Err(BackendError::Invalid(format!(
                "the backup job of {id} is {}: only a job still creating can be cancelled",
                if b.aborted {
                    "already cancelled"
                } else {
                    status.as_str()
                }
            )));
        }
        b.aborted = true;
        b.done_at = t;
        Ok(())
    }

    /// RestoreDBInstanceFromDBSnapshot / RestoreDBInstanceToPointInTime into a
    /// new instance `target`.
    pub fn restore(
        &mut self,
        seed: u64,
        t: Ms,
        source: &RestoreSource,
        target: &str,
    ) -> Result<(), BackendError> {
        check_identifier(target).map_err(BackendError::Invalid)?;
        if !target.starts_with(RESTORE_PREFIX) {
            return Err(BackendError::Invalid(format!(
                "restored databases are named {RESTORE_PREFIX}<timestamp> (the naming contract), not '{target}'"
            )));
        }
        if self.databases.iter().any(|d| d.id == target) {
            return Err(BackendError::Invalid(format!(
                "database {target} already exists; choose another name"
            )));
        }
        if let Some(running) = self.databases.iter().find(|d| t < d.ready_at) {
            return Err(BackendError::Invalid(format!(
                "restore into {} is still running; one restore at a time",
                running.id
            )));
        }
        let app = self.app().clone();
        let (used, from, template) = match source {
            RestoreSource::Backup { id } => {
                let Some(b) = self.items.iter().find(|b| &b.id == id) else {
                    return Err(BackendError::NotFound {
                        what: "backup",
                        id: id.clone(),
                        choices: self
                            .items
                            .iter()
                            .rev()
                            .filter(|b| b.status(t) == BackupStatus::Available)
                            .map(|b| b.id.clone())
                            .collect(),
                    });
                };
                let status = b.status(t);
                if status != BackupStatus::Available {
                    return Err(BackendError::Invalid(format!(
                        "backup {id} is {}: only an available backup can be restored",
                        status.as_str()
                    )));
                }
                let template = self
                    .databases
                    .iter()
                    .find(|d| d.id == b.resource)
                    .cloned()
                    .unwrap_or_else(|| app.clone());
                (b.used_bytes, id.clone(), template)
            }
            RestoreSource::PointInTime { time } => {
                let at = super::clock::from_ts(*time);
                let earliest = self.earliest_restorable(&app, t);
                let latest = self.latest_restorable(&app, t);
                let Some(latest) = latest.filter(|l| at >= earliest && at <= *l) else {
                    return Err(BackendError::Invalid(format!(
                        "{} is outside the restorable window of {}: {}",
                        names::iso(at),
                        app.id,
                        match latest {
                            Some(l) =>
                                format!("from {} to {}", names::iso(earliest), names::iso(l)),
                            None => "it has no restorable time yet".to_string(),
                        }
                    )));
                };
                let _ = latest;
                let back = ((t - at).max(0) / DAY) as u64;
                (
                    app.used_bytes.saturating_sub(back * 100 * 1024 * 1024),
                    format!("{} at {}", app.id, names::iso(at)),
                    app.clone(),
                )
            }
        };
        let mut r = rng(seed, Purpose::Backups, t, 3);
        let ready = t + minutes(&mut r, RESTORE_CREATE_MINUTES);
        self.databases.push(DbRec {
            id: target.to_string(),
            class: template.class,
            engine_version: template.engine_version,
            multi_az: false,
            allocated_gb: template.allocated_gb,
            created: t,
            ready_at: ready,
            backed_up_at: ready + minutes(&mut r, RESTORE_BACKUP_MINUTES),
            used_bytes: used,
            source: Some(from),
        });
        Ok(())
    }

    /// Points the app at an available database; the previous one stays.
    pub fn point_app_at(&mut self, t: Ms, id: &str) -> Result<String, BackendError> {
        let Some(db) = self.databases.iter().find(|d| d.id == id) else {
            let choices: Vec<String> = self
                .databases
                .iter()
                .filter(|d| d.id != self.app_db && self.db_status(d, t) == "available")
                .map(|d| d.id.clone())
                .collect();
            if choices.is_empty() {
                return Err(BackendError::Invalid(format!(
                    "there is no other available database to point the app at ('{id}' does not exist); restore one first"
                )));
            }
            return Err(BackendError::NotFound {
                what: "database",
                id: id.to_string(),
                choices,
            });
        };
        if db.id == self.app_db {
            return Err(BackendError::Invalid(format!("the app already uses {id}")));
        }
        let status = self.db_status(db, t);
        if status != "available" {
            return Err(BackendError::Invalid(format!(
                "database {id} is {status}: the app can only be pointed at an available database"
            )));
        }
        Ok(std::mem::replace(&mut self.app_db, id.to_string()))
    }

    pub fn db_to_domain(&self, seed: u64, db: &DbRec, t: Ms) -> Database {
        let status = self.db_status(db, t);
        Database {
            id: db.id.clone(),
            engine: "postgres".to_string(),
            engine_version: db.engine_version.clone(),
            class: db.class.clone(),
            status: status.to_string(),
            multi_az: db.multi_az,
            allocated_gb: db.allocated_gb,
            endpoint: (status != "creating").then(|| names::db_endpoint(seed, &db.id)),
            latest_restorable: self.latest_restorable(db, t).map(to_ts),
            created: Some(to_ts(db.created)),
        }
    }

    pub fn overview(&self, seed: u64, t: Ms) -> BackupOverview {
        let mut backups: Vec<Backup> = self
            .items
            .iter()
            .filter(|b| b.created <= t)
            .map(|b| b.to_domain(t))
            .collect();
        backups.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        BackupOverview {
            backups,
            latest_restorable: self.latest_restorable(self.app(), t).map(to_ts),
            restores: self
                .databases
                .iter()
                .filter(|d| d.id.starts_with(RESTORE_PREFIX))
                .map(|d| self.db_to_domain(seed, d, t))
                .collect(),
        }
    }

    pub fn recovery_points(&self, t: Ms) -> u32 {
        self.items
            .iter()
            .filter(|b| {
                b.kind == BackupKind::RecoveryPoint && b.status(t) == BackupStatus::Available
            })
            .count() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Ms = 1_763_942_400_000 + 12 * HOUR;

    #[test]
    fn identifiers_follow_rds_rules() {
        assert!(check_identifier("notejam-demo-restore-20260101").is_ok());
        for bad in ["", "1abc", "a--b", "a-", "a_b", &"a".repeat(64)] {
            assert!(
                check_identifier(bad)
                    .unwrap_err()
                    .contains("not a valid database identifier")
            );
        }
    }

    #[test]
    fn a_new_environment_has_retained_recovery_points_and_monthlies() {
        let b = Backups::new(1, T0);
        let points: Vec<&BackupRec> = b
            .items
            .iter()
            .filter(|i| i.kind == BackupKind::RecoveryPoint)
            .collect();
        // 35 daily points and up to four monthly ones within the environment's age.
        assert!((35..=40).contains(&points.len()), "{}", points.len());
        assert!(b.items.iter().all(|i| i.expires.is_some_and(|e| e > T0)));
        assert!(b.items.iter().all(|i| i.created < T0));
        assert_eq!(b.db_status(b.app(), T0), "available");
    }

    #[test]
    fn manual_snapshots_progress_and_refuse_a_busy_database() {
        let mut b = Backups::new(1, T0);
        let id = b.create(1, T0, BackupKind::Manual).unwrap();
        assert_eq!(id, "notejam-demo-manual-202511241200");
        let rec = b.items.last().unwrap().clone();
        let mid = (rec.created + rec.done_at) / 2;
        let d = rec.to_domain(mid);
        assert_eq!(d.status, BackupStatus::Creating);
        assert!((30..=70).contains(&d.progress.unwrap()));
        assert_eq!(b.db_status(b.app(), mid), "backing-up");
        let e = b.create(1, mid, BackupKind::Manual).unwrap_err();
        assert!(e.to_string().contains("is backing-up"), "{e}");
        assert_eq!(rec.to_domain(rec.done_at).status, BackupStatus::Available);
        assert_eq!(rec.to_domain(rec.done_at).expires, None);
    }

    #[test]
    fn cancelling_works_for_running_jobs_only() {
        let mut b = Backups::new(1, T0);
        let snap = b.create(1, T0, BackupKind::Manual).unwrap();
        let e = b.cancel(T0, &snap).unwrap_err();
        assert!(e.to_string().contains("RDS cannot cancel"), "{e}");
        let job = b.create(1, T0, BackupKind::RecoveryPoint).unwrap();
        let e = b.cancel(T0, "arn:nope").unwrap_err();
        assert!(
            e.to_string().contains(&job),
            "choices list the running job: {e}"
        );
        assert!(matches!(e, BackendError::NotFound { .. }));
        b.cancel(T0 + MINUTE, &job).unwrap();
        let e = b.cancel(T0 + MINUTE, &job).unwrap_err();
        assert!(e.to_string().contains("already cancelled"), "{e}");
        let rec = b.items.iter().find(|i| i.id == job).unwrap();
        assert_eq!(rec.to_domain(T0 + 2 * MINUTE).status, BackupStatus::Failed);
        assert_eq!(b.completed_between(T0, T0 + DAY), 0);
    }
}
