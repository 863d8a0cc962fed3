//! The whole simulated environment and the step that advances it.
//!
//! The world at virtual time T is a pure function of its seed, its start and the
//! commands applied to it with their virtual times: every random draw is keyed by
//! counters (see `random`), the state holds only integers and strings where a
//! value feeds a decision, and stepping in one batch or many gives the same result.

use serde::{Deserialize, Serialize};

use super::alarms::Alarms;
use super::backups::Backups;
use super::chaos;
use super::clock::{DAY, HOUR, MINUTE, Ms, TICK, floor, to_ts};
use super::deployments::Delivery;
use super::fleet::{Fleet, SCALE_IN_POINTS};
use super::logs::{CommandSeq, Emit, LogRing, WINDOW};
use super::metrics::{Col, MetricStore, MinuteAcc};
use super::names::{self, PRINCIPAL};
use super::provisioning::{self, Change, Provisioning};
use super::service::{self, BYTES_PER_REQUEST};
use super::traffic::{self, TrafficState};
use super::traffic_logs;
use crate::backend::BackendError;
use crate::domain::{
    AuditOutcome, AuditRecord, BackupKind, BackupOverview, BackupVault, Bucket, BucketPurpose,
    Capacity, ChaosKind, DEMO_ENV, Delivery as DeliveryView, GroupKind, LoadBalancer, LogSource,
    MetricsSnapshot, Network, Release, RestoreSource, RollbackRequest, Severity, Subnet,
    TargetHealth, Tier, TimeRange, Topology,
};

/// A world left alone longer than this (in virtual time) sleeps through the
/// excess: see [`World::fast_forward`].
pub const MAX_CATCH_UP: Ms = 8 * DAY;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct World {
    pub seed: u64,
    /// Virtual "now" when the world was made; its history starts a week before.
    pub start: Ms,
    pub history_start: Ms,
    /// The model has been stepped to here (a tick boundary).
    pub time: Ms,
    pub traffic: TrafficState,
    pub fleet: Fleet,
    pub delivery: Delivery,
    pub alarms: Alarms,
    pub backups: Backups,
    pub metrics: MetricStore,
    pub minute: MinuteAcc,
    pub logs: LogRing,
    pub command_seq: CommandSeq,
    pub provisioning: Provisioning,
}

impl World {
    /// The environment as it stands at `t0`, the start of the history.
    pub fn new(seed: u64, start: Ms, t0: Ms, delivery: Delivery) -> World {
        let current = delivery.current.clone().unwrap_or_default();
        World {
            seed,
            start,
            history_start: t0,
            time: t0,
            traffic: TrafficState::default(),
            fleet: Fleet::new(seed, t0, &current),
            delivery,
            alarms: Alarms::new(t0),
            backups: Backups::new(seed, t0),
            metrics: MetricStore::default(),
            minute: MinuteAcc::default(),
            logs: LogRing::default(),
            command_seq: CommandSeq::default(),
            provisioning: Provisioning::default(),
        }
    }

    /// Checks what a stored world must hold for the model to run on it.
    pub fn check(&self) -> Result<(), String> {
        self.metrics.check()?;
        if self.time % TICK != 0 {
            return Err(format!("time {} is not on a {TICK} ms tick", self.time));
        }
        if self.backups.databases.is_empty()
            || !self
                .backups
                .databases
                .iter()
                .any(|d| d.id == self.backups.app_db)
        {
            return Err(format!(
                "the app's database {} is not among the databases",
                self.backups.app_db
            ));
        }
        for g in [&self.fleet.web, &self.fleet.bastion] {
            if let Some(i) = g
                .instances
                .iter()
                .find(|i| usize::from(i.az) >= super::fleet::AZS.len())
            {
                return Err(format!("instance {} has no valid availability zone", i.id));
            }
        }
        for d in &self.delivery.deployments {
            if d.targets.iter().any(|t| {
                !t.hooks.is_empty() && t.hooks.len() != crate::domain::LIFECYCLE_EVENTS.len()
            }) {
                return Err(format!("deployment {} has a malformed lifecycle", d.id));
            }
        }
        Ok(())
    }

    /// Steps the model to the last tick at or before `target`.
    pub fn step_to(&mut self, target: Ms) {
        self.step_with_logs_from(target, target - WINDOW);
    }

    /// As [`World::step_to`], making log events only from `log_from` on: older
    /// ones would fall out of the ring's window before `target` anyway, so the
    /// result is the same, only faster.
    pub fn step_with_logs_from(&mut self, target: Ms, log_from: Ms) {
        let target = floor(target, TICK);
        if target - self.time > MAX_CATCH_UP {
            self.fast_forward(target - MAX_CATCH_UP);
        }
        while self.time < target {
            self.tick(log_from);
        }
    }

    fn tick(&mut self, log_from: Ms) {
        let seed = self.seed;
        let t0 = self.time;
        let t1 = t0 + TICK;
        let mut ev = Emit::for_tick(t0, log_from);
        let revision = self.delivery.current.clone();
        self.fleet
            .process(seed, t0, t1, revision.as_deref(), &mut ev);
        self.delivery.process(seed, t1, &mut self.fleet, &mut ev);
        self.backups.process(seed, t0, t1);
        let requests = self.traffic.tick_requests(seed, t0);
        let out = service::run(
            seed,
            t0,
            &self.fleet,
            requests,
            self.backups.app_db_backing_up(t0 + TICK / 2),
            self.backups.app_free_mib(),
        );
        self.backups.grow_app_db(out.bytes_written);
        traffic_logs::generate(seed, t0, &self.fleet, &out, &self.backups.app_db, &mut ev);
        self.minute.add(&out.sample);
        self.time = t1;
        if t1 % MINUTE == 0 {
            self.end_minute(t1, &mut ev);
        }
        self.logs.absorb(ev.out, t1);
    }

    fn end_minute(&mut self, t: Ms, ev: &mut Emit) {
        let seed = self.seed;
        let row = self.minute.finish();
        self.metrics.push(t - MINUTE, row);
        for name in self.alarms.evaluate(t, &self.metrics, &self.backups) {
            if let Some(rec) = self.alarms.recs.iter().find(|r| r.name == name) {
                let severity = if rec.state == crate::domain::AlarmState::Alarm {
                    Severity::Warn
                } else {
                    Severity::Info
                };
                ev.text(t, LogSource::System, "cloudwatch/alarms", severity, || {
                    format!(
                        "Alarm {name} changed to {}: {}",
                        match rec.state {
                            crate::domain::AlarmState::Ok => "OK",
                            crate::domain::AlarmState::Alarm => "ALARM",
                            crate::domain::AlarmState::InsufficientData => "INSUFFICIENT_DATA",
                        },
                        rec.reason
                    )
                });
            }
        }
        let firing = self.alarms.firing();
        if !firing.is_empty() {
            self.delivery
                .on_alarms(seed, t, &firing, &mut self.fleet, ev);
        }
        let cpu: Vec<Option<f64>> = (1..=SCALE_IN_POINTS as Ms)
            .rev()
            .map(|k| self.metrics.value(Col::CpuWeb, t - k * MINUTE))
            .collect();
        let revision = self.delivery.current.clone();
        self.fleet
            .target_tracking(seed, t, &cpu, revision.as_deref(), ev);
        self.backups.expire(t);
    }

    /// Sleeps through a long absence up to `to`, an hour at a time: scheduled
    /// backups, retention, replacements and running deployments go on, the
    /// database grows by the modelled traffic; no metrics or logs are made (they
    /// would be older than what is kept) and alarms and scaling wait for the
    /// ordinary steps that follow.
    fn fast_forward(&mut self, to: Ms) {
        while self.time % HOUR != 0 && self.time < to {
            self.tick(Ms::MAX);
        }
        let seed = self.seed;
        while self.time + HOUR <= to {
            let t0 = self.time;
            let t1 = t0 + HOUR;
            let mut ev = Emit::for_tick(t0, Ms::MAX);
            let revision = self.delivery.current.clone();
            self.fleet
                .process(seed, t0, t1, revision.as_deref(), &mut ev);
            self.delivery.process(seed, t1, &mut self.fleet, &mut ev);
            self.backups.process(seed, t0, t1);
            let requests = traffic::base_rpm(seed, t0 + HOUR / 2) * 60.0;
            self.backups
                .grow_app_db(requests as u64 * BYTES_PER_REQUEST);
            self.backups.expire(t1);
            self.minute = MinuteAcc::default();
            self.time = t1;
        }
        self.logs.trim(self.time);
    }

    /// Runs a command at `now` (at or after `time`), numbering its log events.
    pub fn command<T>(
        &mut self,
        now: Ms,
        f: impl FnOnce(&mut World, Ms, &mut Emit) -> Result<T, BackendError>,
    ) -> Result<T, BackendError> {
        let now = now.max(self.time);
        let mut ev = self.command_seq.emit(now);
        let result = f(self, now, &mut ev);
        self.command_seq.record(&ev);
        let time = self.time;
        self.logs.absorb(ev.out, time);
        result
    }

    pub fn set_capacity(&mut self, now: Ms, tier: Tier, cap: Capacity) -> Result<(), BackendError> {
        self.command(now, |w, now, ev| {
            let revision = w.delivery.current.clone();
            w.fleet
                .set_capacity(w.seed, tier, cap, now, revision.as_deref(), ev)
        })
    }

    pub fn remember_stopped(
        &mut self,
        tier: Tier,
        cap: Option<Capacity>,
    ) -> Result<(), BackendError> {
        if !tier.is_scalable() {
            return Err(BackendError::Invalid(
                Tier::parse_scalable(tier.as_str()).unwrap_err(),
            ));
        }
        if let Some(c) = cap {
            super::fleet::validate_capacity(c)?;
        }
        self.fleet.group_mut(tier).stopped = cap;
        Ok(())
    }

    pub fn create_deployment(
        &mut self,
        now: Ms,
        revision: &str,
        description: &str,
    ) -> Result<String, BackendError> {
        self.create_deployment_as(now, revision, description, PRINCIPAL)
    }

    pub fn create_deployment_as(
        &mut self,
        now: Ms,
        revision: &str,
        description: &str,
        who: &str,
    ) -> Result<String, BackendError> {
        self.delivery.check_new(revision)?;
        self.command(now, |w, now, ev| {
            Ok(w.delivery
                .start_release(w.seed, now, revision, description, who, &mut w.fleet, ev))
        })
    }

    pub fn roll_back(
        &mut self,
        now: Ms,
        request: &RollbackRequest,
    ) -> Result<Vec<String>, BackendError> {
        self.command(now, |w, now, ev| {
            w.delivery
                .roll_back(w.seed, now, request, PRINCIPAL, &mut w.fleet, ev)
        })
    }

    /// The newest `limit` releases, a bake in progress with the watched alarms now.
    pub fn releases(&self, limit: usize, now: Ms) -> Vec<Release> {
        let alarms = super::deployments::watched_states(&self.alarms.to_domain());
        self.delivery.releases_to_domain(limit, &alarms, now)
    }

    pub fn stop_deployment(
        &mut self,
        now: Ms,
        id: &str,
        rollback: bool,
    ) -> Result<(), BackendError> {
        self.command(now, |w, now, ev| {
            w.delivery
                .stop(w.seed, now, id, rollback, PRINCIPAL, &mut w.fleet, ev)
        })
    }

    pub fn create_backup(&mut self, now: Ms, kind: BackupKind) -> Result<String, BackendError> {
        self.command(now, |w, now, _| w.backups.create(w.seed, now, kind))
    }

    pub fn cancel_backup(&mut self, now: Ms, id: &str) -> Result<(), BackendError> {
        self.command(now, |w, now, _| w.backups.cancel(now, id))
    }

    pub fn restore(
        &mut self,
        now: Ms,
        source: &RestoreSource,
        target: &str,
    ) -> Result<(), BackendError> {
        self.command(now, |w, now, _| {
            w.backups.restore(w.seed, now, source, target)
        })
    }

    pub fn point_app_at(&mut self, now: Ms, id: &str) -> Result<(), BackendError> {
        self.command(now, |w, now, ev| {
            let previous = w.backups.point_app_at(now, id)?;
            let endpoint = names::db_endpoint(w.seed, id);
            for i in w.fleet.web.instances.iter().filter(|i| i.in_service(now) && i.alive(now)) {
                ev.info(now, LogSource::System, &i.id, || {
                    format!("notejam: database endpoint changed from {previous} to {endpoint} (/notejam/demo/database/host); reconnecting the pool")
                });
            }
            Ok(())
        })
    }

    pub fn record_audit(&mut self, now: Ms, record: &AuditRecord) -> Result<(), BackendError> {
        let json = serde_json::to_string(record)
            .map_err(|e| BackendError::Other(format!("cannot encode the audit record: {e}")))?;
        let at = super::clock::from_ts(record.time).max(now);
        self.command(at, |_, at, ev| {
            let severity = match record.outcome {
                AuditOutcome::Failed => Severity::Error,
                AuditOutcome::Refused => Severity::Warn,
                AuditOutcome::Succeeded | AuditOutcome::Cancelled => Severity::Info,
            };
            ev.text(at, LogSource::Audit, &record.who, severity, || json);
            Ok(())
        })
    }

    pub fn chaos(&mut self, now: Ms, kind: ChaosKind) -> Result<String, BackendError> {
        self.command(now, |w, now, ev| chaos::inject(w, now, kind, ev))
    }

    pub fn apply_plan(&mut self, now: Ms, changes: &[Change]) -> Result<(), BackendError> {
        self.command(now, |w, now, ev| {
            provisioning::apply(w, changes, now, ev);
            Ok(())
        })
    }

    // Reads.

    pub fn topology(&self, now: Ms) -> Topology {
        let seed = self.seed;
        let web = &self.fleet.web;
        let targets = web.targets(now);
        let count = |h: TargetHealth| targets.iter().filter(|t| t.health == h).count() as u32;
        let subnets = (0..9)
            .map(|k| {
                let (tier, base) = match k / 3 {
                    0 => ("public", 0),
                    1 => ("app", 10),
                    _ => ("db", 20),
                };
                let _ = tier;
                Subnet {
                    id: names::subnet_id(seed, k),
                    az: super::fleet::AZS[(k % 3) as usize].to_string(),
                    cidr: format!("10.30.{}.0/24", base + k % 3),
                    public: k < 3,
                }
            })
            .collect();
        let app = self.backups.app();
        Topology {
            env: DEMO_ENV.to_string(),
            observed_at: to_ts(now),
            network: Some(Network {
                vpc_id: names::vpc_id(seed),
                cidr: "10.30.0.0/16".to_string(),
                subnets,
            }),
            load_balancer: Some(LoadBalancer {
                name: format!("notejam-{DEMO_ENV}"),
                dns_name: names::alb_dns(seed),
                state: "active".to_string(),
                healthy: count(TargetHealth::Healthy),
                unhealthy: count(TargetHealth::Unhealthy),
                targets,
            }),
            groups: vec![web.to_domain(now), self.fleet.bastion.to_domain(now)],
            database: Some(self.backups.db_to_domain(seed, app, now)),
            other_databases: self
                .backups
                .databases
                .iter()
                .filter(|d| d.id != app.id && d.created <= now)
                .map(|d| self.backups.db_to_domain(seed, d, now))
                .collect(),
            buckets: [
                BucketPurpose::Artifacts,
                BucketPurpose::Backups,
                BucketPurpose::AlbLogs,
            ]
            .into_iter()
            .map(|p| Bucket {
                name: names::bucket_name(p.as_str()),
                purpose: Some(p),
            })
            .collect(),
            delivery: Some(DeliveryView {
                application: names::APPLICATION.to_string(),
                group: DEMO_ENV.to_string(),
                canary_group: Some(GroupKind::Canary.group_name(DEMO_ENV)),
                active_deployment: self.delivery.active().map(|d| d.id.clone()),
                current_revision: self.delivery.current.clone(),
            }),
            backup_vault: Some(BackupVault {
                name: names::VAULT.to_string(),
                recovery_points: Some(self.backups.recovery_points(now)),
                plan: Some(names::BACKUP_PLAN.to_string()),
            }),
            alarms: self.alarms.to_domain(),
        }
    }

    /// Every metric over `range`, ending at the last whole minute.
    pub fn metrics(&self, range: TimeRange) -> MetricsSnapshot {
        self.metrics.snapshot(
            range,
            floor(self.time, MINUTE),
            super::alarms::threshold_for,
        )
    }

    pub fn backup_overview(&self, now: Ms) -> BackupOverview {
        self.backups.overview(self.seed, now)
    }
}
