//! The console's state and how keys and background results change it. Nothing
//! here waits on anything: keys become [`Effect`]s that the runtime carries out
//! off the render loop, and results come back as [`Update`]s.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::backend::BackendError;
use crate::domain::{
    BackendKind, BackupOverview, ChaosKind, DeploymentTarget, FollowMode, Identity, LogEvent,
    LogSource, MetricKind, MetricsSnapshot, PlanSummary, Release, RevisionInfo, Severity, Tier,
    TimeRange, Timestamp, Topology,
};
use crate::ops::watch::Progress;
use crate::ops::{Confirm, Operation, OpsError, Prepared};

use super::filter::Filter;
use super::keymap::{Action, Key, Keymap, Lookup, Mode};
use super::logbuf::{LogBuffer, LogFilters};
use super::overlays::{ActionLog, Overlay, PickItem, PickPurpose};
use super::text_input::TextInput;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum View {
    Topology,
    Metrics,
    Logs,
    Deployments,
    Backups,
}

impl View {
    pub const ALL: [View; 5] = [
        View::Topology,
        View::Metrics,
        View::Logs,
        View::Deployments,
        View::Backups,
    ];

    pub fn title(self) -> &'static str {
        match self {
            View::Topology => "Topology",
            View::Metrics => "Metrics",
            View::Logs => "Logs",
            View::Deployments => "Deployments",
            View::Backups => "Backups",
        }
    }

    pub fn mode(self) -> Mode {
        match self {
            View::Topology => Mode::Topology,
            View::Metrics => Mode::Metrics,
            View::Logs => Mode::Logs,
            View::Deployments => Mode::Deployments,
            View::Backups => Mode::Backups,
        }
    }

    fn index(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }

    pub fn parse(s: &str) -> Option<View> {
        match s {
            "topology" | "topo" | "status" | "t" => Some(View::Topology),
            "metrics" | "m" => Some(View::Metrics),
            "logs" | "log" | "l" => Some(View::Logs),
            "deployments" | "deploys" | "dp" => Some(View::Deployments),
            "backups" | "bk" | "b" => Some(View::Backups),
            _ => None,
        }
    }
}

/// Work for the runtime; nothing in [`App`] performs I/O itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Quit,
    Refresh,
    /// Record in the audit log that read-only mode refused this action.
    RefuseReadOnly(String),
    /// The visible view, metric range or selected deployment changed: pollers adapt.
    Wants,
    Prepare(Operation),
    Run(Prepared),
    Decline(Prepared, String),
    Plan,
    LoadRevisions,
    AbortAction,
}

/// Results from the runtime. Each is moved once through a channel, so the size
/// of the largest variant costs nothing worth a box.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Update {
    Identity(Result<Identity, BackendError>),
    Topology(Result<Topology, BackendError>),
    Metrics(TimeRange, Result<MetricsSnapshot, BackendError>),
    Releases(Result<Vec<Release>, BackendError>),
    Targets(String, Result<Vec<DeploymentTarget>, BackendError>),
    Backups(Result<BackupOverview, BackendError>),
    Revisions(Result<Vec<RevisionInfo>, BackendError>),
    Logs(Vec<LogEvent>),
    LogsError(BackendError),
    LogMode(FollowMode),
    Prepared(Result<Prepared, OpsError>),
    ActionLine(String),
    ActionProgress(Progress),
    ActionDone(Result<String, String>),
    Planned(Result<PlanSummary, OpsError>),
    /// The backend's clock (virtual in the simulator), for ages.
    Now(Timestamp),
}

/// What the status bar says about freshness and failures.
#[derive(Debug, Default)]
pub struct Status {
    pub offline: bool,
    pub throttled: bool,
    pub last_refresh: Option<Instant>,
    pub last_error: Option<String>,
    /// A transient note (e.g. "read-only: scale refused"), with when it was set.
    pub note: Option<(String, Instant)>,
}

#[derive(Debug, Default)]
pub struct TopologyState {
    pub selected: usize,
    pub filter: Filter,
}

#[derive(Debug, Default)]
pub struct MetricsState {
    pub selected: usize,
    pub range: TimeRange,
}

#[derive(Default)]
pub struct LogsState {
    pub buffer: LogBuffer,
    /// `None` while following; else the sequence number of the bottom line.
    pub paused_at: Option<u64>,
    pub wrap: bool,
    pub timestamps: bool,
    /// Show JSON lines as sent instead of their compact form.
    pub raw: bool,
    pub mode: Option<FollowMode>,
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct ListState {
    pub selected: usize,
    pub filter: Filter,
}

/// Everything the console shows, and how to change it.
pub struct App {
    pub env: String,
    pub backend: BackendKind,
    pub read_only: bool,
    pub production: bool,
    pub identity: Option<Identity>,
    pub keymap: Keymap,
    pub view: View,
    pub pending: Vec<Key>,
    pub overlay: Option<Overlay>,
    pub status: Status,
    pub now: Option<Timestamp>,

    pub topology: Option<Topology>,
    pub metrics: Option<MetricsSnapshot>,
    /// Newest first: each the canary, its bake, the fleet, its bake.
    pub releases: Option<Vec<Release>>,
    pub targets: Option<(String, Vec<DeploymentTarget>)>,
    pub backups: Option<BackupOverview>,

    pub topo: TopologyState,
    pub metrics_state: MetricsState,
    pub logs: LogsState,
    pub deploys: ListState,
    pub backups_state: ListState,
    pub action: Option<ActionLog>,
    pub palette_history: Vec<String>,
    pub quit_armed: bool,
}

/// Rows of the topology view that can be selected: a group, or one instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopoRow {
    Group(Tier),
    Instance(Tier, String),
}

impl App {
    pub fn new(
        env: &str,
        backend: BackendKind,
        read_only: bool,
        production: bool,
        keymap: Keymap,
    ) -> App {
        App {
            env: env.to_string(),
            backend,
            read_only,
            production,
            identity: None,
            keymap,
            view: View::Topology,
            pending: Vec::new(),
            overlay: None,
            status: Status::default(),
            now: None,
            topology: None,
            metrics: None,
            releases: None,
            targets: None,
            backups: None,
            topo: TopologyState::default(),
            metrics_state: MetricsState::default(),
            logs: LogsState {
                timestamps: true,
                ..LogsState::default()
            },
            deploys: ListState::default(),
            backups_state: ListState::default(),
            action: None,
            palette_history: Vec::new(),
            quit_armed: false,
        }
    }

    pub fn note(&mut self, text: impl Into<String>) {
        self.status.note = Some((text.into(), Instant::now()));
    }

    // ---- selection helpers shared by views and actions ----

    pub fn topo_rows(&self) -> Vec<TopoRow> {
        let Some(t) = &self.topology else {
            return vec![];
        };
        let mut rows = Vec::new();
        for g in &t.groups {
            rows.push(TopoRow::Group(g.tier));
            for i in &g.instances {
                let text = format!(
                    "{} {} {} {}",
                    i.id,
                    i.state.as_str(),
                    i.health.as_str(),
                    i.az
                );
                if self.topo.filter.matches(&text) {
                    rows.push(TopoRow::Instance(g.tier, i.id.clone()));
                }
            }
        }
        rows
    }

    pub fn selected_tier(&self) -> Option<Tier> {
        match self.topo_rows().get(self.topo.selected)? {
            TopoRow::Group(t) | TopoRow::Instance(t, _) => Some(*t),
        }
    }

    pub fn visible_releases(&self) -> Vec<&Release> {
        self.releases
            .iter()
            .flatten()
            .filter(|r| {
                self.deploys.filter.matches(&format!(
                    "{} {} {} {} {} {}",
                    r.id,
                    r.phase.as_str(),
                    r.stage.as_str(),
                    r.revision,
                    r.initiated_by.as_deref().unwrap_or(""),
                    r.deployment_ids().collect::<Vec<_>>().join(" ")
                ))
            })
            .collect()
    }

    pub fn selected_release(&self) -> Option<&Release> {
        self.visible_releases().get(self.deploys.selected).copied()
    }

    /// The deployment of the selected release to show and act on: its running
    /// rollback, else its running or last reached stage's.
    pub fn selected_deployment(&self) -> Option<String> {
        self.selected_release()
            .and_then(|r| r.focus_deployment())
            .map(str::to_string)
    }

    pub fn visible_backups(&self) -> Vec<&crate::domain::Backup> {
        self.backups
            .iter()
            .flat_map(|o| o.backups.iter())
            .filter(|b| {
                self.backups_state.filter.matches(&format!(
                    "{} {} {} {}",
                    b.id,
                    b.kind.as_str(),
                    b.status.as_str(),
                    b.resource
                ))
            })
            .collect()
    }

    pub fn selected_metric(&self) -> MetricKind {
        MetricKind::ALL[self.metrics_state.selected.min(MetricKind::ALL.len() - 1)]
    }

    fn list_len(&self) -> usize {
        match self.view {
            View::Topology => self.topo_rows().len(),
            View::Metrics => MetricKind::ALL.len(),
            View::Logs => self.logs.buffer.visible_len(),
            View::Deployments => self.visible_releases().len(),
            View::Backups => self.visible_backups().len(),
        }
    }

    fn selected_mut(&mut self) -> Option<&mut usize> {
        match self.view {
            View::Topology => Some(&mut self.topo.selected),
            View::Metrics => Some(&mut self.metrics_state.selected),
            View::Deployments => Some(&mut self.deploys.selected),
            View::Backups => Some(&mut self.backups_state.selected),
            View::Logs => None,
        }
    }

    /// Keeps selections inside their lists after data or filters change.
    fn clamp_selections(&mut self) {
        let lens = [
            (View::Topology, self.topo_rows().len()),
            (View::Deployments, self.visible_releases().len()),
            (View::Backups, self.visible_backups().len()),
        ];
        for (view, len) in lens {
            let sel = match view {
                View::Topology => &mut self.topo.selected,
                View::Deployments => &mut self.deploys.selected,
                _ => &mut self.backups_state.selected,
            };
            *sel = (*sel).min(len.saturating_sub(1));
        }
    }

    // ---- input ----

    /// Handles one key press.
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.modifiers.contains(KeyModifiers::CONTROL)
            && key.code == KeyCode::Char('c')
            && self.overlay.is_some()
        {
            // Ctrl-C always gets out of an overlay first, never straight out of the app.
            return self.close_overlay();
        }
        if let Some(overlay) = self.overlay.take() {
            return super::overlays::handle_key(self, overlay, key);
        }
        let k = Key::from_event(&key);
        self.pending.push(k);
        match self.keymap.lookup(self.view.mode(), &self.pending) {
            Lookup::Pending => vec![],
            Lookup::Action(action) => {
                self.pending.clear();
                if action != Action::Quit {
                    self.quit_armed = false;
                }
                self.perform(action)
            }
            Lookup::Unbound => {
                let typed = self.pending.len();
                self.pending.clear();
                // A stray key after a prefix starts over as a fresh key.
                if typed > 1 {
                    return self.on_key(key);
                }
                vec![]
            }
        }
    }

    fn close_overlay(&mut self) -> Vec<Effect> {
        match self.overlay.take() {
            Some(Overlay::Confirm(c)) => {
                vec![Effect::Decline(
                    c.prepared,
                    "cancelled at the confirmation".into(),
                )]
            }
            _ => vec![],
        }
    }

    pub fn switch_view(&mut self, view: View) -> Vec<Effect> {
        if self.view == view {
            return vec![];
        }
        self.view = view;
        vec![Effect::Wants]
    }

    /// Carries out a bound action.
    pub fn perform(&mut self, action: Action) -> Vec<Effect> {
        use Action::*;
        if action.is_mutating() && self.read_only {
            self.note(format!(
                "read-only mode: '{}' refused; nothing was sent",
                action.name()
            ));
            return vec![Effect::RefuseReadOnly(action.describe().to_lowercase())];
        }
        match action {
            Quit => {
                if self
                    .action
                    .as_ref()
                    .is_some_and(ActionLog::is_apply_running)
                    && !self.quit_armed
                {
                    self.quit_armed = true;
                    self.note(
                        "terraform apply is running: press quit again to interrupt it and quit",
                    );
                    return vec![];
                }
                vec![Effect::Quit]
            }
            Help => {
                self.overlay = Some(Overlay::Help { scroll: 0 });
                vec![]
            }
            Palette => {
                self.overlay = Some(Overlay::palette());
                vec![]
            }
            Filter => {
                let current = match self.view {
                    View::Topology => self.topo.filter.text().to_string(),
                    View::Logs => self.logs.buffer.filters().text.text().to_string(),
                    View::Deployments => self.deploys.filter.text().to_string(),
                    View::Backups => self.backups_state.filter.text().to_string(),
                    View::Metrics => {
                        self.note("metrics has no list to filter; use [ and ] for the range");
                        return vec![];
                    }
                };
                self.overlay = Some(Overlay::Filter(TextInput::with_text(&current, 200)));
                vec![]
            }
            ViewTopology => self.switch_view(View::Topology),
            ViewMetrics => self.switch_view(View::Metrics),
            ViewLogs => self.switch_view(View::Logs),
            ViewDeployments => self.switch_view(View::Deployments),
            ViewBackups => self.switch_view(View::Backups),
            NextView => self.switch_view(View::ALL[(self.view.index() + 1) % View::ALL.len()]),
            PrevView => self.switch_view(
                View::ALL[(self.view.index() + View::ALL.len() - 1) % View::ALL.len()],
            ),
            Refresh => {
                self.note("refreshing");
                vec![Effect::Refresh]
            }
            Up => self.move_by(-1),
            Down => self.move_by(1),
            PageUp => self.move_by(-20),
            PageDown => self.move_by(20),
            Left => self.move_by(if self.view == View::Metrics { -1 } else { 0 }),
            Right => self.move_by(if self.view == View::Metrics { 1 } else { 0 }),
            Top => self.move_to(0),
            Bottom => {
                if self.view == View::Logs {
                    self.logs.paused_at = None;
                    return vec![];
                }
                self.move_to(usize::MAX)
            }
            Select => self.select(),
            Back => {
                match self.view {
                    View::Topology if self.topo.filter.is_active() => {
                        self.topo.filter = Default::default()
                    }
                    View::Deployments if self.deploys.filter.is_active() => {
                        self.deploys.filter = Default::default()
                    }
                    View::Backups if self.backups_state.filter.is_active() => {
                        self.backups_state.filter = Default::default()
                    }
                    View::Logs if self.logs.buffer.filters().text.is_active() => {
                        let f = LogFilters {
                            text: Default::default(),
                            ..self.logs.buffer.filters().clone()
                        };
                        self.logs.buffer.set_filters(f);
                    }
                    _ => {}
                }
                self.clamp_selections();
                vec![]
            }
            RangeNext | RangePrev => {
                let r = self.metrics_state.range;
                self.metrics_state.range = if action == RangeNext {
                    r.next()
                } else {
                    r.prev()
                };
                vec![Effect::Wants]
            }
            Follow => {
                self.logs.paused_at = match self.logs.paused_at {
                    Some(_) => None,
                    None => self
                        .logs
                        .buffer
                        .visible_seq(self.logs.buffer.visible_len().saturating_sub(1)),
                };
                vec![]
            }
            SourceNext => {
                let next = match self.logs.buffer.filters().source {
                    None => Some(LogSource::ALL[0]),
                    Some(s) => {
                        let i = LogSource::ALL.iter().position(|x| *x == s).unwrap_or(0);
                        LogSource::ALL.get(i + 1).copied()
                    }
                };
                let f = LogFilters {
                    source: next,
                    ..self.logs.buffer.filters().clone()
                };
                self.logs.buffer.set_filters(f);
                vec![]
            }
            SeverityNext => {
                let next = match self.logs.buffer.filters().min_severity {
                    None => Some(Severity::Info),
                    Some(Severity::Debug | Severity::Info) => Some(Severity::Warn),
                    Some(Severity::Warn) => Some(Severity::Error),
                    Some(Severity::Error) => None,
                };
                let f = LogFilters {
                    min_severity: next,
                    ..self.logs.buffer.filters().clone()
                };
                self.logs.buffer.set_filters(f);
                vec![]
            }
            Wrap => {
                self.logs.wrap = !self.logs.wrap;
                vec![]
            }
            Timestamps => {
                self.logs.timestamps = !self.logs.timestamps;
                vec![]
            }
            Raw => {
                self.logs.raw = !self.logs.raw;
                vec![]
            }
            ShowProgress => {
                if self.action.is_some() {
                    self.overlay = Some(Overlay::Progress);
                } else {
                    self.note("no action has run yet");
                }
                vec![]
            }
            Scale => {
                let Some((tier, cap)) = self.selected_group() else {
                    self.note("select a web or bastion row in the topology view to scale it");
                    return vec![];
                };
                self.overlay = Some(Overlay::scale_input(tier, cap));
                vec![]
            }
            ScaleUp | ScaleDown => {
                let Some((tier, cap)) = self.selected_group() else {
                    self.note("select a web or bastion row in the topology view to scale it");
                    return vec![];
                };
                let desired = if action == ScaleUp {
                    cap.desired.saturating_add(1)
                } else {
                    cap.desired.saturating_sub(1)
                };
                self.start_operation(Operation::Scale { tier, desired })
            }
            Start | Stop => {
                let Some((tier, _)) = self.selected_group() else {
                    self.note("select a web or bastion row in the topology view");
                    return vec![];
                };
                self.start_operation(if action == Start {
                    Operation::Start { tier }
                } else {
                    Operation::Stop { tier }
                })
            }
            Deploy => {
                self.note("loading revisions…");
                vec![Effect::LoadRevisions]
            }
            Rollback => self.start_operation(Operation::Rollback),
            Backup => self.start_operation(Operation::Backup {
                kind: crate::domain::BackupKind::Manual,
            }),
            BackupJob => self.start_operation(Operation::Backup {
                kind: crate::domain::BackupKind::RecoveryPoint,
            }),
            Restore => {
                let Some(b) = self
                    .visible_backups()
                    .get(self.backups_state.selected)
                    .map(|b| b.id.clone())
                else {
                    self.note("select a backup in the backups view to restore it");
                    return vec![];
                };
                self.start_operation(Operation::Restore {
                    source: crate::domain::RestoreSource::Backup { id: b },
                })
            }
            PointApp => {
                let restores: Vec<String> = self
                    .backups
                    .iter()
                    .flat_map(|o| o.restores.iter())
                    .filter(|d| d.is_available())
                    .map(|d| d.id.clone())
                    .collect();
                match restores.as_slice() {
                    [] => {
                        self.note("no restored database is available yet");
                        vec![]
                    }
                    [one] => self.start_operation(Operation::PointApp {
                        database: one.clone(),
                    }),
                    _ => {
                        self.overlay = Some(Overlay::picker(
                            "Point the app at",
                            PickPurpose::PointApp,
                            restores
                                .into_iter()
                                .map(|r| PickItem::new(&r, &r))
                                .collect(),
                        ));
                        vec![]
                    }
                }
            }
            Cancel => {
                let id = match self.view {
                    View::Deployments => self.selected_deployment(),
                    View::Backups => self
                        .visible_backups()
                        .get(self.backups_state.selected)
                        .map(|b| b.id.clone()),
                    _ => None,
                };
                match id {
                    Some(id) => self.start_operation(Operation::Cancel { id }),
                    None => {
                        self.note("select a running deployment or backup job to cancel it");
                        vec![]
                    }
                }
            }
            Provision => {
                if self.action.as_ref().is_some_and(ActionLog::is_running) {
                    self.note("an action is still running; see it with p");
                    return vec![];
                }
                self.action = Some(ActionLog::new("provision: plan"));
                self.overlay = Some(Overlay::Progress);
                vec![Effect::Plan]
            }
            Chaos => {
                if self.backend != BackendKind::Sim {
                    self.note("chaos is only for the demo environment");
                    return vec![];
                }
                self.overlay = Some(Overlay::picker(
                    "Inject a fault",
                    PickPurpose::Chaos,
                    ChaosKind::ALL
                        .iter()
                        .map(|k| {
                            PickItem::new(
                                &format!("{:<14} {}", k.as_str(), k.describe()),
                                k.as_str(),
                            )
                        })
                        .collect(),
                ));
                vec![]
            }
        }
    }

    fn selected_group(&self) -> Option<(Tier, crate::domain::Capacity)> {
        let tier = if self.view == View::Topology {
            self.selected_tier()?
        } else {
            Tier::Web
        };
        let g = self.topology.as_ref()?.group(tier)?;
        Some((tier, g.capacity))
    }

    /// Begins the mutation path: the runtime prepares it, then a confirmation opens.
    pub fn start_operation(&mut self, op: Operation) -> Vec<Effect> {
        if self.action.as_ref().is_some_and(ActionLog::is_preparing) {
            self.note("still checking the previous action");
            return vec![];
        }
        let mut log = ActionLog::new(&op.describe());
        log.preparing = true;
        self.action = Some(log);
        self.note(format!("checking: {}", op.describe()));
        vec![Effect::Prepare(op)]
    }

    fn move_by(&mut self, delta: isize) -> Vec<Effect> {
        if self.view == View::Logs {
            let len = self.logs.buffer.visible_len();
            if len == 0 {
                return vec![];
            }
            let bottom = match self.logs.paused_at {
                None => len - 1,
                Some(seq) => self.logs.buffer.visible_index_of(seq).unwrap_or(0),
            };
            let target = (bottom as isize + delta).clamp(0, len as isize - 1) as usize;
            self.logs.paused_at = if target == len - 1 && delta > 0 {
                None
            } else {
                self.logs.buffer.visible_seq(target)
            };
            return vec![];
        }
        let len = self.list_len();
        let before = self.current_selection();
        if let Some(sel) = self.selected_mut() {
            *sel = (*sel as isize + delta).clamp(0, len.saturating_sub(1) as isize) as usize;
        }
        self.after_selection(before)
    }

    fn move_to(&mut self, index: usize) -> Vec<Effect> {
        if self.view == View::Logs {
            self.logs.paused_at = self.logs.buffer.visible_seq(0);
            return vec![];
        }
        let len = self.list_len();
        let before = self.current_selection();
        if let Some(sel) = self.selected_mut() {
            *sel = index.min(len.saturating_sub(1));
        }
        self.after_selection(before)
    }

    fn current_selection(&self) -> Option<String> {
        (self.view == View::Deployments)
            .then(|| self.selected_deployment())
            .flatten()
    }

    fn after_selection(&mut self, before: Option<String>) -> Vec<Effect> {
        if self.view == View::Deployments && self.current_selection() != before {
            return vec![Effect::Wants];
        }
        vec![]
    }

    fn select(&mut self) -> Vec<Effect> {
        match self.view {
            View::Metrics => {
                self.metrics_state.range = TimeRange::LastHour;
                vec![Effect::Wants]
            }
            View::Topology => self.perform(Action::Scale),
            View::Backups => self.perform(Action::Restore),
            _ => vec![],
        }
    }

    /// The deployment whose lifecycle the runtime should poll.
    pub fn wanted_deployment(&self) -> Option<String> {
        if self.view != View::Deployments {
            return None;
        }
        self.selected_deployment()
    }

    // ---- results ----

    pub fn apply(&mut self, update: Update) -> Vec<Effect> {
        match update {
            Update::Identity(Ok(id)) => self.identity = Some(id),
            Update::Identity(Err(e)) => self.record_error(&e),
            Update::Topology(r) => {
                if let Some(t) = self.ok(r) {
                    self.topology = Some(t);
                }
            }
            Update::Metrics(range, r) => {
                if let Some(m) = self.ok(r)
                    && range == self.metrics_state.range
                {
                    self.metrics = Some(m);
                }
            }
            Update::Releases(r) => {
                if let Some(releases) = self.ok(r) {
                    let before = self.selected_release().map(|r| r.id.clone());
                    let focus = self.selected_deployment();
                    self.releases = Some(releases);
                    // Keep the same release selected as new ones arrive on top.
                    if let Some(id) = before
                        && let Some(i) = self.visible_releases().iter().position(|r| r.id == id)
                    {
                        self.deploys.selected = i;
                    }
                    // Its next stage started: the pollers follow it.
                    if self.view == View::Deployments && self.selected_deployment() != focus {
                        self.clamp_selections();
                        return vec![Effect::Wants];
                    }
                }
            }
            Update::Targets(id, r) => {
                if let Some(t) = self.ok(r) {
                    self.targets = Some((id, t));
                }
            }
            Update::Backups(r) => {
                if let Some(b) = self.ok(r) {
                    self.backups = Some(b);
                }
            }
            Update::Revisions(r) => match r {
                Ok(revisions) if revisions.is_empty() => self.note("no revisions to deploy"),
                Ok(revisions) => {
                    let current = self
                        .topology
                        .as_ref()
                        .and_then(|t| t.delivery.as_ref())
                        .and_then(|d| d.current_revision.clone());
                    let now = self.now;
                    let items = revisions
                        .iter()
                        .map(|r| {
                            let mark = if current.as_deref() == Some(r.name.as_str()) {
                                "  (running now)"
                            } else {
                                ""
                            };
                            let age = now
                                .map(|n| crate::domain::age(n, r.created))
                                .unwrap_or_default();
                            PickItem::new(&format!("{:<32} {:>5} ago{mark}", r.name, age), &r.name)
                        })
                        .collect();
                    self.overlay = Some(Overlay::picker(
                        "Deploy a revision",
                        PickPurpose::Deploy,
                        items,
                    ));
                }
                Err(e) => {
                    self.note(format!("cannot list revisions: {e}"));
                    self.record_error(&e);
                }
            },
            Update::Logs(events) => {
                self.logs.error = None;
                self.logs.buffer.extend(events);
            }
            Update::LogsError(e) => {
                self.logs.error = Some(e.to_string());
                self.record_error(&e);
            }
            Update::LogMode(mode) => {
                self.status.throttled = matches!(
                    mode,
                    FollowMode::Polling {
                        throttled: true,
                        ..
                    }
                );
                self.logs.mode = Some(mode);
            }
            Update::Prepared(r) => return self.on_prepared(r),
            Update::ActionLine(line) => {
                if let Some(a) = &mut self.action {
                    a.push(line);
                }
            }
            Update::ActionProgress(p) => {
                if let Some(a) = &mut self.action {
                    a.progress(p);
                }
            }
            Update::ActionDone(r) => {
                if let Some(a) = &mut self.action {
                    a.finish(r.clone());
                }
                match r {
                    Ok(m) => self.note(m),
                    Err(m) => self.note(format!("failed: {m}")),
                }
                return vec![Effect::Refresh];
            }
            Update::Planned(r) => match r {
                Ok(summary) if summary.is_empty() => {
                    if let Some(a) = &mut self.action {
                        a.finish(Ok(
                            "No changes: the infrastructure matches the configuration".into(),
                        ));
                    }
                }
                Ok(summary) => {
                    if let Some(a) = &mut self.action {
                        a.push(format!("plan: {summary}"));
                        a.planned = Some(summary);
                        a.preparing = true;
                    }
                    return vec![Effect::Prepare(Operation::Provision)];
                }
                Err(e) => {
                    if let Some(a) = &mut self.action {
                        a.finish(Err(e.to_string()));
                    }
                }
            },
            Update::Now(t) => self.now = Some(t),
        }
        self.clamp_selections();
        vec![]
    }

    fn on_prepared(&mut self, r: Result<Prepared, OpsError>) -> Vec<Effect> {
        let log = self.action.get_or_insert_with(|| ActionLog::new("action"));
        log.preparing = false;
        match r {
            Ok(mut prepared) => {
                if let Some(summary) = log.planned {
                    prepared.change = format!("apply to {}: {summary}", self.env);
                }
                log.title = format!("{}: {}", prepared.op.name(), prepared.change);
                self.status.note = None;
                let confirm = if self.production {
                    Confirm::TypeName(self.env.clone())
                } else {
                    Confirm::YesNo
                };
                self.overlay = Some(Overlay::confirm(prepared, confirm));
            }
            Err(e) => {
                log.finish(Err(e.to_string()));
                self.note(e.to_string());
            }
        }
        vec![]
    }

    fn ok<T>(&mut self, r: Result<T, BackendError>) -> Option<T> {
        match r {
            Ok(v) => {
                self.status.offline = false;
                self.status.last_error = None;
                self.status.last_refresh = Some(Instant::now());
                Some(v)
            }
            Err(e) => {
                self.record_error(&e);
                None
            }
        }
    }

    fn record_error(&mut self, e: &BackendError) {
        self.status.offline = e.is_offline();
        self.status.throttled = matches!(e, BackendError::Throttled { .. });
        self.status.last_error = Some(e.to_string());
    }
}

/// A demo-environment app with the default keymap, for unit tests.
#[cfg(test)]
pub(crate) fn app(read_only: bool) -> App {
    App::new(
        "demo",
        BackendKind::Sim,
        read_only,
        false,
        Keymap::load(Some("default"), None).unwrap(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn press(a: &mut App, c: char) -> Vec<Effect> {
        a.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
    }

    #[test]
    fn read_only_refuses_action_keys_and_audits_them() {
        let mut a = app(true);
        assert_eq!(
            press(&mut a, 'R'),
            vec![Effect::RefuseReadOnly("roll back the application".into())]
        );
        assert!(a.status.note.as_ref().unwrap().0.contains("read-only mode"));
        assert!(a.overlay.is_none());
        // Reads and navigation still work.
        assert_eq!(press(&mut a, '4'), vec![Effect::Wants]);
        assert_eq!(a.view, View::Deployments);
    }

    #[test]
    fn pickers_move_with_arrows_pages_and_fzf_keys_while_letters_filter() {
        let mut a = app(false);
        let items = (0..15)
            .map(|i| PickItem::new(&format!("rev-{i:02}"), &format!("r{i}")))
            .collect();
        a.overlay = Some(Overlay::picker("Deploy", PickPurpose::Deploy, items));
        let key = |a: &mut App, code, modifiers| a.on_key(KeyEvent::new(code, modifiers));
        let selected = |a: &App| match &a.overlay {
            Some(Overlay::Picker(p)) => (p.selected, p.filter.text().to_string()),
            _ => panic!("the picker closed"),
        };
        let ctrl = KeyModifiers::CONTROL;
        key(&mut a, KeyCode::Char('n'), ctrl);
        key(&mut a, KeyCode::Char('j'), ctrl);
        key(&mut a, KeyCode::Down, KeyModifiers::NONE);
        assert_eq!(selected(&a), (3, String::new()));
        key(&mut a, KeyCode::Char('p'), ctrl);
        key(&mut a, KeyCode::Char('k'), ctrl);
        assert_eq!(selected(&a), (1, String::new()));
        key(&mut a, KeyCode::PageDown, KeyModifiers::NONE);
        key(&mut a, KeyCode::PageDown, KeyModifiers::NONE);
        assert_eq!(selected(&a), (14, String::new()), "stops at the last item");
        key(&mut a, KeyCode::PageUp, KeyModifiers::NONE);
        assert_eq!(selected(&a), (4, String::new()));
        // Plain letters, j and k included, type into the filter and reset the choice.
        for c in ['1', 'j'] {
            press(&mut a, c);
        }
        assert_eq!(selected(&a), (0, "1j".to_string()));
    }

    #[test]
    fn number_keys_and_tab_switch_views() {
        let mut a = app(false);
        for (c, v) in [
            ('2', View::Metrics),
            ('3', View::Logs),
            ('5', View::Backups),
            ('1', View::Topology),
        ] {
            press(&mut a, c);
            assert_eq!(a.view, v);
        }
        a.on_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
        assert_eq!(a.view, View::Metrics);
        a.on_key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
        assert_eq!(a.view, View::Topology);
    }

    #[test]
    fn the_metrics_range_cycles_and_tells_the_pollers() {
        let mut a = app(false);
        press(&mut a, '2');
        assert_eq!(press(&mut a, ']'), vec![Effect::Wants]);
        assert_eq!(a.metrics_state.range, TimeRange::Hours6);
        press(&mut a, '[');
        press(&mut a, '[');
        assert_eq!(a.metrics_state.range, TimeRange::Days7);
    }

    #[test]
    fn a_prepared_action_opens_the_confirmation_and_a_refusal_shows_why() {
        let mut a = app(false);
        let effects = a.start_operation(Operation::Rollback);
        assert_eq!(effects, vec![Effect::Prepare(Operation::Rollback)]);
        a.apply(Update::Prepared(Err(OpsError::Invalid(
            "nothing to roll back".into(),
        ))));
        assert!(a.overlay.is_none());
        assert_eq!(
            a.action.as_ref().unwrap().outcome,
            Some(Err("nothing to roll back".into()))
        );
        a.start_operation(Operation::Rollback);
        a.apply(Update::Prepared(Ok(Prepared {
            op: Operation::Rollback,
            step: crate::ops::Step::StopDeployment {
                id: "d-1".into(),
                rollback: true,
            },
            change: "stop deployment d-1".into(),
            details: vec![],
        })));
        assert!(matches!(a.overlay, Some(Overlay::Confirm(_))));
        // Esc cancels and records the cancellation.
        let effects = a.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
        assert!(
            matches!(effects.as_slice(), [Effect::Decline(_, _)]),
            "{effects:?}"
        );
        assert!(a.overlay.is_none());
    }

    #[test]
    fn a_key_sequence_waits_then_resolves_or_starts_over() {
        let km = Keymap::parse_str(
            "[global]\nkeymap = [{ on = [\"g\", \"g\"], run = \"view_logs\" }, { on = \"2\", run = \"view_metrics\" }]\n",
            "t.toml",
        )
        .unwrap();
        let mut a = App::new("demo", BackendKind::Sim, false, false, km);
        assert!(press(&mut a, 'g').is_empty());
        assert_eq!(a.pending.len(), 1);
        press(&mut a, 'g');
        assert_eq!(a.view, View::Logs);
        // A prefix followed by another bound key runs that key.
        press(&mut a, 'g');
        press(&mut a, '2');
        assert_eq!((a.view, a.pending.len()), (View::Metrics, 0));
    }

    #[test]
    fn quitting_during_an_apply_asks_twice() {
        let mut a = app(false);
        let mut log = ActionLog::new("provision");
        log.apply = true;
        a.action = Some(log);
        assert!(press(&mut a, 'q').is_empty());
        assert!(
            a.status
                .note
                .as_ref()
                .unwrap()
                .0
                .contains("terraform apply is running")
        );
        assert_eq!(press(&mut a, 'q'), vec![Effect::Quit]);
    }
}
