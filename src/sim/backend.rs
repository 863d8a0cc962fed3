//! [`SimBackend`]: the simulator behind the [`Backend`] trait. It keeps the world
//! in memory, steps it to the virtual "now" on every call, and shares it with
//! other processes through the state file: a mutation locks the file, reloads it
//! if another process wrote it, steps, applies and saves; a read reloads a
//! changed file, steps in memory and saves at most every few seconds.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Result as AnyResult, bail};
use async_trait::async_trait;

use super::clock::{Clock, MINUTE, Ms, floor, from_ts, to_ts, validate_speed, wall_ms};
use super::follow::Cursor;
use super::history;
use super::names::{PRINCIPAL, REGION};
use super::persistence::Store;
use super::provisioning;
use super::world::World;
use crate::backend::{Backend, BackendError, LineSink, LogFollower, Result};
use crate::domain::{
    AuditRecord, BackendKind, BackupKind, BackupOverview, Capacity, ChaosKind, DEMO_ENV,
    Deployment, DeploymentTarget, FollowMode, Identity, LogEvent, LogQuery, LogSource,
    MetricsSnapshot, PlanSummary, ProvisionMode, Release, RestoreSource, RevisionInfo,
    RollbackRequest, Tier, TimeRange, Timestamp, Topology,
};

/// The seed of a new world when none is given.
pub const DEFAULT_SEED: u64 = 42;
/// When only time passed, the world is saved at most this often.
pub const SAVE_EVERY: Duration = Duration::from_secs(5);
/// A simulated terraform run never takes longer than this, whatever the speed.
pub const PROVISION_WALL_LIMIT: Duration = Duration::from_millis(4500);
/// The follower polls this often and sends an empty batch (a heartbeat) when a
/// second passed without events.
pub const FOLLOW_POLL: Duration = Duration::from_millis(250);
pub const FOLLOW_HEARTBEAT: Duration = Duration::from_secs(1);

#[derive(Clone, Debug, Default)]
pub struct SimOptions {
    /// None = in memory only (tests, snapshots).
    pub state_file: Option<PathBuf>,
    /// None = keep the stored world's seed, or 42 for a new world.
    pub seed: Option<u64>,
    /// Virtual seconds per wall second; None = keep stored (default 1.0); 0.0 = frozen.
    pub speed: Option<f64>,
    /// Discard the stored world and start afresh.
    pub reset: bool,
    /// Virtual "now" of a new world (default: wall clock now, to the minute).
    pub start: Option<Timestamp>,
}

/// `$XDG_STATE_HOME/njtui/sim-demo.json`.
pub fn default_state_file() -> AnyResult<PathBuf> {
    Ok(crate::paths::state_dir()?.join("sim-demo.json"))
}

struct Inner {
    world: World,
    clock: Clock,
    generation: u64,
    store: Option<Store>,
    /// Stepped since the last save.
    dirty: bool,
    last_save: Instant,
}

impl Inner {
    fn now(&self) -> Ms {
        self.clock.now_at(wall_ms()).max(self.world.time)
    }

    fn file_error(e: anyhow::Error) -> BackendError {
        BackendError::Other(format!("{e:#}"))
    }

    /// Takes another process's write, if there was one.
    fn reload_if_changed(&mut self) -> Result<()> {
        let Some(store) = self.store.as_mut() else {
            return Ok(());
        };
        if !store.changed() {
            return Ok(());
        }
        match store.load().map_err(Self::file_error)? {
            Some(state) => {
                self.world = state.world;
                self.clock = state.clock;
                self.generation = state.generation;
                self.dirty = false;
            }
            // Deleted under us: keep ours, and write it back on the next save.
            None => self.dirty = true,
        }
        Ok(())
    }

    fn catch_up(&mut self) {
        let now = self.now();
        if floor(now, super::clock::TICK) > self.world.time {
            self.world.step_to(now);
            self.dirty = true;
        }
    }

    fn save(&mut self) -> Result<()> {
        let Some(store) = self.store.as_mut() else {
            self.dirty = false;
            return Ok(());
        };
        self.generation += 1;
        store
            .save(self.generation, &self.clock, &self.world)
            .map_err(Self::file_error)?;
        self.dirty = false;
        self.last_save = Instant::now();
        Ok(())
    }

    /// Saves a world that only moved in time, unless another process wrote the
    /// file meanwhile (its world is as good: the same world at another time).
    fn save_time_only(&mut self) -> Result<()> {
        let Some(store) = self.store.as_ref() else {
            return Ok(());
        };
        let _lock = store.lock().map_err(Self::file_error)?;
        if store.changed() {
            return self.reload_if_changed();
        }
        self.save()
    }

    fn sync_for_read(&mut self) -> Result<()> {
        self.reload_if_changed()?;
        self.catch_up();
        if self.dirty && self.last_save.elapsed() >= SAVE_EVERY {
            // A failed periodic save is retried on the next read and on drop; the
            // read itself is still good.
            let _ = self.save_time_only();
        }
        Ok(())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if self.dirty {
            let _ = self.save_time_only();
        }
    }
}

struct Shared {
    inner: Mutex<Inner>,
    /// The clock and the model's time as of the last call, so that `now()` (on
    /// the console's render path) never waits for a step in progress.
    view: RwLock<(Clock, Ms)>,
    applying: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn publish(&self, inner: &Inner) {
        *self.view.write().unwrap_or_else(|e| e.into_inner()) =
            (inner.clock.clone(), inner.world.time);
    }

    fn now(&self) -> Ms {
        let view = self.view.read().unwrap_or_else(|e| e.into_inner());
        view.0.now_at(wall_ms()).max(view.1)
    }

    fn speed(&self) -> f64 {
        self.view.read().unwrap_or_else(|e| e.into_inner()).0.speed
    }

    fn read<T>(&self, f: impl FnOnce(&World, Ms) -> T) -> Result<T> {
        let mut inner = self.lock();
        let synced = inner.sync_for_read();
        self.publish(&inner);
        synced?;
        let now = inner.now();
        Ok(f(&inner.world, now))
    }

    fn mutate<T>(&self, f: impl FnOnce(&mut World, Ms) -> Result<T>) -> Result<T> {
        let mut inner = self.lock();
        let lock = match inner.store.as_ref() {
            Some(s) => Some(s.lock().map_err(Inner::file_error)?),
            None => None,
        };
        inner.reload_if_changed()?;
        inner.catch_up();
        let now = inner.now();
        let result = f(&mut inner.world, now);
        self.publish(&inner);
        if result.is_ok() || inner.dirty {
            inner.save().map_err(|e| {
                BackendError::Other(format!(
                    "the change is made but the demo world could not be saved: {e}"
                ))
            })?;
        }
        drop(lock);
        result
    }
}

/// The embedded demo environment.
pub struct SimBackend {
    shared: Arc<Shared>,
}

impl SimBackend {
    /// Opens the stored world (without stepping it: the first call does) or
    /// makes a new one with a week of history.
    pub fn open(opts: SimOptions) -> AnyResult<SimBackend> {
        let speed = opts
            .speed
            .map(validate_speed)
            .transpose()
            .map_err(anyhow::Error::msg)?;
        let wall = wall_ms();
        let fresh = || {
            let seed = opts.seed.unwrap_or(DEFAULT_SEED);
            let start = opts.start.map_or(floor(wall, MINUTE), from_ts);
            (
                history::build(seed, start),
                Clock::new(start, wall, speed.unwrap_or(1.0)),
            )
        };
        let Some(path) = &opts.state_file else {
            let (world, clock) = fresh();
            return Ok(Self::from_parts(world, clock, 0, None, false));
        };
        let mut store = Store::new(path)?;
        let lock = store.lock()?;
        let loaded = if opts.reset { None } else { store.load()? };
        let (world, clock, generation, save) = match loaded {
            Some(state) => {
                if let Some(seed) = opts.seed.filter(|s| *s != state.world.seed) {
                    bail!(
                        "the demo world in {} was built from seed {}; add --reset to start a new world from seed {seed}",
                        path.display(),
                        state.world.seed
                    );
                }
                if let Some(start) = opts
                    .start
                    .map(from_ts)
                    .filter(|s| floor(*s, super::clock::TICK) != state.world.start)
                {
                    bail!(
                        "the demo world in {} started at {}; add --reset to start a new world at {}",
                        path.display(),
                        super::names::iso(state.world.start),
                        super::names::iso(start)
                    );
                }
                let mut clock = state.clock;
                let changed = speed.is_some_and(|s| s != clock.speed);
                if let Some(s) = speed {
                    clock.set_speed(s, wall);
                }
                (state.world, clock, state.generation, changed)
            }
            None => {
                let (world, clock) = fresh();
                (world, clock, 0, true)
            }
        };
        let backend = Self::from_parts(world, clock, generation, Some(store), save);
        if save {
            backend
                .shared
                .lock()
                .save()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        drop(lock);
        Ok(backend)
    }

    fn from_parts(
        world: World,
        clock: Clock,
        generation: u64,
        store: Option<Store>,
        dirty: bool,
    ) -> SimBackend {
        let view = RwLock::new((clock.clone(), world.time));
        SimBackend {
            shared: Arc::new(Shared {
                view,
                inner: Mutex::new(Inner {
                    world,
                    clock,
                    generation,
                    store,
                    dirty,
                    last_save: Instant::now(),
                }),
                applying: AtomicBool::new(false),
            }),
        }
    }

    /// Moves the virtual clock forward by `by` (a negative duration does
    /// nothing) and steps the model; shared with other processes like any
    /// change. A file that cannot be written leaves the move in memory.
    pub fn advance(&self, by: chrono::Duration) {
        let mut inner = self.shared.lock();
        let lock = inner.store.as_ref().and_then(|s| s.lock().ok());
        let _ = inner.reload_if_changed();
        inner.clock.advance(by.num_milliseconds());
        inner.catch_up();
        self.shared.publish(&inner);
        let _ = inner.save();
        drop(lock);
    }

    pub fn speed(&self) -> f64 {
        self.shared.speed()
    }

    /// Runs `f` on the world stepped to now, for the simulator's own tests.
    #[cfg(test)]
    pub(crate) fn with_world<T>(&self, f: impl FnOnce(&mut World, Ms) -> T) -> T {
        let mut inner = self.shared.lock();
        inner.catch_up();
        let now = inner.now();
        let out = f(&mut inner.world, now);
        inner.dirty = true;
        self.shared.publish(&inner);
        out
    }
}

struct SimFollower {
    shared: Arc<Shared>,
    cursor: Cursor,
    last_batch: Option<Instant>,
}

#[async_trait]
impl LogFollower for SimFollower {
    async fn next_batch(&mut self) -> Result<Vec<LogEvent>> {
        if let Some(last) = self.last_batch {
            let since = last.elapsed();
            if since < FOLLOW_POLL {
                tokio::time::sleep(FOLLOW_POLL - since).await;
            }
        }
        let started = Instant::now();
        loop {
            let batch = {
                let mut inner = self.shared.lock();
                let synced = inner.sync_for_read();
                self.shared.publish(&inner);
                synced?;
                let time = inner.world.time;
                self.cursor.collect(&inner.world.logs, time)
            };
            if !batch.is_empty() || started.elapsed() >= FOLLOW_HEARTBEAT {
                self.last_batch = Some(Instant::now());
                return Ok(batch);
            }
            tokio::time::sleep(FOLLOW_POLL).await;
        }
    }

    fn mode(&self) -> FollowMode {
        FollowMode::Simulated
    }
}

/// Sleeps the wall time a line of simulated output takes.
async fn pace(virtual_ms: Ms, factor: f64) {
    let secs = virtual_ms as f64 / 1000.0 * factor;
    if secs > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    }
}

struct ApplyGuard<'a>(&'a AtomicBool);

impl Drop for ApplyGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

#[async_trait]
impl Backend for SimBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Sim
    }

    fn env(&self) -> &str {
        DEMO_ENV
    }

    fn now(&self) -> Timestamp {
        to_ts(self.shared.now())
    }

    async fn identity(&self) -> Result<Identity> {
        Ok(Identity {
            account: None,
            principal: PRINCIPAL.to_string(),
            region: REGION.to_string(),
        })
    }

    async fn topology(&self) -> Result<Topology> {
        self.shared.read(|w, now| w.topology(now))
    }

    async fn metrics(&self, range: TimeRange) -> Result<MetricsSnapshot> {
        self.shared.read(|w, _| w.metrics(range))
    }

    async fn logs(&self, query: &LogQuery) -> Result<Vec<LogEvent>> {
        self.shared.read(|w, _| w.logs.query(query))
    }

    async fn follow_logs(&self, sources: &[LogSource]) -> Result<Box<dyn LogFollower>> {
        let cursor = self
            .shared
            .read(|w, _| Cursor::new(sources, &w.logs, w.time))?;
        Ok(Box::new(SimFollower {
            shared: self.shared.clone(),
            cursor,
            last_batch: None,
        }))
    }

    async fn deployments(&self, limit: usize) -> Result<Vec<Deployment>> {
        self.shared.read(|w, _| {
            w.delivery
                .deployments
                .iter()
                .take(limit)
                .map(|d| d.to_domain())
                .collect()
        })
    }

    async fn releases(&self, limit: usize) -> Result<Vec<Release>> {
        self.shared.read(|w, now| w.releases(limit, now))
    }

    async fn deployment_targets(&self, deployment_id: &str) -> Result<Vec<DeploymentTarget>> {
        self.shared
            .read(|w, _| match w.delivery.find(deployment_id) {
                Some(d) => Ok(d.targets_to_domain()),
                None => Err(BackendError::NotFound {
                    what: "deployment",
                    id: deployment_id.to_string(),
                    choices: w
                        .delivery
                        .deployments
                        .iter()
                        .take(10)
                        .map(|d| d.id.clone())
                        .collect(),
                }),
            })?
    }

    async fn revisions(&self) -> Result<Vec<RevisionInfo>> {
        self.shared.read(|w, _| w.delivery.revision_infos())
    }

    async fn backups(&self) -> Result<BackupOverview> {
        self.shared.read(|w, now| w.backup_overview(now))
    }

    async fn set_capacity(&self, tier: Tier, capacity: Capacity) -> Result<()> {
        self.shared
            .mutate(|w, now| w.set_capacity(now, tier, capacity))
    }

    async fn remember_stopped(&self, tier: Tier, capacity: Option<Capacity>) -> Result<()> {
        self.shared
            .mutate(|w, _| w.remember_stopped(tier, capacity))
    }

    async fn create_deployment(&self, revision: &str, description: &str) -> Result<String> {
        self.shared
            .mutate(|w, now| w.create_deployment(now, revision, description))
    }

    async fn stop_deployment(&self, deployment_id: &str, rollback: bool) -> Result<()> {
        self.shared
            .mutate(|w, now| w.stop_deployment(now, deployment_id, rollback))
    }

    async fn roll_back(&self, request: &RollbackRequest) -> Result<Vec<String>> {
        self.shared.mutate(|w, now| w.roll_back(now, request))
    }

    async fn create_backup(&self, kind: BackupKind) -> Result<String> {
        self.shared.mutate(|w, now| w.create_backup(now, kind))
    }

    async fn cancel_backup(&self, backup_id: &str) -> Result<()> {
        self.shared.mutate(|w, now| w.cancel_backup(now, backup_id))
    }

    async fn restore(&self, source: &RestoreSource, target_id: &str) -> Result<()> {
        self.shared
            .mutate(|w, now| w.restore(now, source, target_id))
    }

    async fn point_app_at(&self, database_id: &str) -> Result<()> {
        self.shared
            .mutate(|w, now| w.point_app_at(now, database_id))
    }

    async fn provision(&self, mode: ProvisionMode, output: LineSink) -> Result<PlanSummary> {
        let _guard = if mode == ProvisionMode::Apply {
            if self.shared.applying.swap(true, Ordering::SeqCst) {
                return Err(BackendError::Invalid(
                    "Error acquiring the state lock: another terraform apply of demo is running; wait for it to finish".to_string(),
                ));
            }
            Some(ApplyGuard(&self.shared.applying))
        } else {
            None
        };
        let (refresh, changes) = self
            .shared
            .read(|w, _| (provisioning::refresh_lines(w), provisioning::plan(w)))?;
        let speed = self.shared.speed();
        let summary = provisioning::summary(&changes);
        // Virtual durations: 150 ms per refreshed resource, 50 ms per plan line,
        // each change's own time on apply; scaled to the clock's speed and capped.
        let mut script: Vec<(Ms, String)> = refresh.into_iter().map(|l| (150, l)).collect();
        script.extend(
            provisioning::plan_lines(&changes)
                .into_iter()
                .map(|l| (50, l)),
        );
        let apply = mode == ProvisionMode::Apply && !changes.is_empty();
        if apply {
            script.push((0, String::new()));
            for c in &changes {
                let (started, done) = provisioning::apply_lines(c);
                script.push((100, started));
                script.push((c.takes, done));
            }
            script.push((100, String::new()));
            script.push((
                0,
                format!(
                    "Apply complete! Resources: {} added, {} changed, {} destroyed.",
                    summary.add, summary.change, summary.destroy
                ),
            ));
        } else if mode == ProvisionMode::Apply {
            script.push((0, String::new()));
            script.push((
                0,
                "Apply complete! Resources: 0 added, 0 changed, 0 destroyed.".to_string(),
            ));
        }
        let total: Ms = script.iter().map(|(d, _)| *d).sum();
        let factor = if speed <= 0.0 || total == 0 {
            0.0
        } else {
            (1.0 / speed).min(PROVISION_WALL_LIMIT.as_secs_f64() / (total as f64 / 1000.0))
        };
        let mut applied = false;
        for (delay, line) in script {
            pace(delay, factor).await;
            if apply && !applied && line.starts_with("Apply complete!") {
                self.shared.mutate(|w, now| w.apply_plan(now, &changes))?;
                applied = true;
            }
            // The caller may stop listening; terraform carries on regardless.
            let _ = output.send(line);
        }
        Ok(summary)
    }

    async fn record_audit(&self, record: &AuditRecord) -> Result<()> {
        self.shared.mutate(|w, now| w.record_audit(now, record))
    }

    async fn chaos(&self, kind: ChaosKind) -> Result<String> {
        self.shared.mutate(|w, now| w.chaos(now, kind))
    }
}
