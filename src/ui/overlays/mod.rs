//! Everything drawn over a view: help, the command palette, the filter line,
//! prompts, pickers, the confirmation and the action's progress. One file each
//! for drawing; the key handling of all of them is here, since each decides what
//! the app does next.

mod confirm;
mod help;
mod palette;
mod picker;
mod progress;
mod prompt;

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;

use crate::domain::{Capacity, ChaosKind, PlanSummary, Tier};
use crate::ops::watch::Progress;
use crate::ops::{Confirm, Operation, Prepared};

use super::app::{App, Effect, View};
use super::filter::Filter;
use super::logbuf::LogFilters;
use super::text_input::TextInput;

pub use palette::complete as palette_complete;

pub enum Overlay {
    Help { scroll: u16 },
    Palette(PaletteState),
    Filter(TextInput),
    Scale(ScaleInput),
    Picker(PickerState),
    Confirm(ConfirmState),
    Progress,
}

pub struct PaletteState {
    pub input: TextInput,
    /// Position in the history while browsing it with Up/Down.
    pub history_pos: Option<usize>,
    pub error: Option<String>,
}

pub struct ScaleInput {
    pub tier: Tier,
    pub capacity: Capacity,
    pub input: TextInput,
    pub error: Option<String>,
    /// The field still holds the prefilled current value: typing replaces it.
    pub fresh: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickPurpose {
    Deploy,
    Chaos,
    PointApp,
}

#[derive(Clone, Debug)]
pub struct PickItem {
    pub label: String,
    pub value: String,
}

impl PickItem {
    pub fn new(label: &str, value: &str) -> PickItem {
        PickItem {
            label: label.to_string(),
            value: value.to_string(),
        }
    }
}

pub struct PickerState {
    pub title: String,
    pub purpose: PickPurpose,
    pub items: Vec<PickItem>,
    pub filter: TextInput,
    pub selected: usize,
}

impl PickerState {
    pub fn visible(&self) -> Vec<&PickItem> {
        let f = Filter::new(self.filter.text());
        self.items.iter().filter(|i| f.matches(&i.label)).collect()
    }
}

pub struct ConfirmState {
    pub prepared: Prepared,
    pub confirm: Confirm,
    pub typed: TextInput,
    pub error: Option<String>,
}

/// The most recent action: what it is, its output and how it ended. Kept after
/// it ends so the outcome stays visible until dismissed.
#[derive(Debug, Clone)]
pub struct ActionLog {
    pub title: String,
    pub lines: VecDeque<String>,
    pub percent: Option<u8>,
    pub preparing: bool,
    pub running: bool,
    pub apply: bool,
    pub planned: Option<PlanSummary>,
    pub outcome: Option<Result<String, String>>,
}

/// Output lines kept per action (terraform can print thousands).
const ACTION_LINES: usize = 2000;

impl ActionLog {
    pub fn new(title: &str) -> ActionLog {
        ActionLog {
            title: title.to_string(),
            lines: VecDeque::new(),
            percent: None,
            preparing: false,
            running: true,
            apply: false,
            planned: None,
            outcome: None,
        }
    }

    pub fn push(&mut self, line: String) {
        if self.lines.len() == ACTION_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }

    pub fn progress(&mut self, p: Progress) {
        self.percent = p.percent.or(self.percent);
        if self.lines.back() != Some(&p.line) {
            self.push(p.line.clone());
        }
        if let Some(ok) = p.finished {
            self.finish(if ok { Ok(p.line) } else { Err(p.line) });
        }
    }

    pub fn finish(&mut self, outcome: Result<String, String>) {
        self.running = false;
        self.preparing = false;
        if outcome.is_ok() && self.percent.is_some() {
            self.percent = Some(100);
        }
        self.outcome = Some(outcome);
    }

    pub fn is_running(&self) -> bool {
        self.running && self.outcome.is_none()
    }

    pub fn is_preparing(&self) -> bool {
        self.preparing
    }

    pub fn is_apply_running(&self) -> bool {
        self.apply && self.is_running()
    }
}

impl Overlay {
    pub fn palette() -> Overlay {
        Overlay::Palette(PaletteState {
            input: TextInput::new(200),
            history_pos: None,
            error: None,
        })
    }

    pub fn scale_input(tier: Tier, capacity: Capacity) -> Overlay {
        Overlay::Scale(ScaleInput {
            tier,
            capacity,
            input: TextInput::with_text(&capacity.desired.to_string(), 4),
            error: None,
            fresh: true,
        })
    }

    pub fn picker(title: &str, purpose: PickPurpose, items: Vec<PickItem>) -> Overlay {
        Overlay::Picker(PickerState {
            title: title.to_string(),
            purpose,
            items,
            filter: TextInput::new(60),
            selected: 0,
        })
    }

    pub fn confirm(prepared: Prepared, confirm: Confirm) -> Overlay {
        Overlay::Confirm(ConfirmState {
            prepared,
            confirm,
            typed: TextInput::new(40),
            error: None,
        })
    }
}

/// Handles a key while `overlay` is open. The overlay was taken out of the app;
/// putting it back (or not) is how it stays open (or closes).
pub fn handle_key(app: &mut App, overlay: Overlay, key: KeyEvent) -> Vec<Effect> {
    match overlay {
        Overlay::Help { scroll } => {
            let scroll = match key.code {
                KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::Enter => {
                    return vec![];
                }
                KeyCode::Down | KeyCode::Char('j') => scroll.saturating_add(1),
                KeyCode::Up | KeyCode::Char('k') => scroll.saturating_sub(1),
                KeyCode::PageDown => scroll.saturating_add(10),
                KeyCode::PageUp => scroll.saturating_sub(10),
                KeyCode::Home | KeyCode::Char('g') => 0,
                _ => scroll,
            };
            app.overlay = Some(Overlay::Help { scroll });
            vec![]
        }
        Overlay::Palette(state) => palette::handle_key(app, state, key),
        Overlay::Filter(mut input) => {
            match key.code {
                KeyCode::Esc => {
                    apply_filter(app, "");
                    return vec![];
                }
                KeyCode::Enter => {
                    apply_filter(app, input.text());
                    return vec![];
                }
                _ => {
                    input.handle(&key);
                    apply_filter(app, input.text());
                }
            }
            app.overlay = Some(Overlay::Filter(input));
            vec![]
        }
        Overlay::Scale(mut s) => {
            match key.code {
                KeyCode::Esc => return vec![],
                KeyCode::Enter => match s.input.text().trim().parse::<u32>() {
                    Ok(desired) => {
                        return app.start_operation(Operation::Scale {
                            tier: s.tier,
                            desired,
                        });
                    }
                    Err(_) => {
                        s.error = Some(format!(
                            "type a whole number from {} to {}",
                            s.capacity.min, s.capacity.max
                        ))
                    }
                },
                KeyCode::Up | KeyCode::Char('+') => {
                    let n = s.input.text().parse::<u32>().unwrap_or(s.capacity.desired);
                    s.input
                        .set(&n.saturating_add(1).min(s.capacity.max).to_string());
                }
                KeyCode::Down | KeyCode::Char('-') => {
                    let n = s.input.text().parse::<u32>().unwrap_or(s.capacity.desired);
                    s.input
                        .set(&n.saturating_sub(1).max(s.capacity.min).to_string());
                }
                KeyCode::Char(c)
                    if !c.is_ascii_digit() && !key.modifiers.contains(KeyModifiers::CONTROL) =>
                {
                    s.error = Some("digits only".into());
                }
                KeyCode::Char(c) if c.is_ascii_digit() && s.fresh => {
                    s.input.set(&c.to_string());
                    s.error = None;
                }
                _ => {
                    s.error = None;
                    s.input.handle(&key);
                }
            }
            s.fresh = false;
            app.overlay = Some(Overlay::Scale(s));
            vec![]
        }
        Overlay::Picker(mut p) => {
            let last = p.visible().len().saturating_sub(1);
            // Letters are the filter's, as in fzf: moving is the arrows, the pages and
            // fzf's Ctrl-n/Ctrl-p and Ctrl-j/Ctrl-k.
            let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
            match key.code {
                KeyCode::Esc => return vec![],
                KeyCode::Up => p.selected = p.selected.saturating_sub(1),
                KeyCode::Char('p' | 'k') if ctrl => p.selected = p.selected.saturating_sub(1),
                KeyCode::Down => p.selected = (p.selected + 1).min(last),
                KeyCode::Char('n' | 'j') if ctrl => p.selected = (p.selected + 1).min(last),
                KeyCode::PageUp => p.selected = p.selected.saturating_sub(10),
                KeyCode::PageDown => p.selected = (p.selected + 10).min(last),
                KeyCode::Enter => {
                    let Some(item) = p.visible().get(p.selected).map(|i| i.value.clone()) else {
                        app.overlay = Some(Overlay::Picker(p));
                        return vec![];
                    };
                    let op = match p.purpose {
                        PickPurpose::Deploy => Operation::Deploy { revision: item },
                        PickPurpose::PointApp => Operation::PointApp { database: item },
                        PickPurpose::Chaos => match item.parse::<ChaosKind>() {
                            Ok(kind) => Operation::Chaos { kind },
                            Err(e) => {
                                app.note(e);
                                return vec![];
                            }
                        },
                    };
                    return app.start_operation(op);
                }
                _ => {
                    if p.filter.handle(&key) {
                        p.selected = 0;
                    }
                }
            }
            app.overlay = Some(Overlay::Picker(p));
            vec![]
        }
        Overlay::Confirm(mut c) => {
            match (&c.confirm, key.code) {
                (_, KeyCode::Esc) => {
                    app.note("cancelled; nothing was sent");
                    if let Some(a) = &mut app.action {
                        a.finish(Err("cancelled at the confirmation".into()));
                    }
                    return vec![Effect::Decline(
                        c.prepared,
                        "cancelled at the confirmation".into(),
                    )];
                }
                (Confirm::YesNo, KeyCode::Char('y' | 'Y') | KeyCode::Enter) => {
                    return run(app, c.prepared);
                }
                (Confirm::YesNo, KeyCode::Char('n' | 'N')) => {
                    app.note("cancelled; nothing was sent");
                    if let Some(a) = &mut app.action {
                        a.finish(Err("cancelled at the confirmation".into()));
                    }
                    return vec![Effect::Decline(
                        c.prepared,
                        "cancelled at the confirmation".into(),
                    )];
                }
                (Confirm::TypeName(env), KeyCode::Enter) => {
                    if c.typed.text() == env {
                        return run(app, c.prepared);
                    }
                    c.error = Some(format!("type '{env}' exactly to confirm, or Esc to cancel"));
                }
                (Confirm::TypeName(_), _) => {
                    c.typed.handle(&key);
                    c.error = None;
                }
                _ => {}
            }
            app.overlay = Some(Overlay::Confirm(c));
            vec![]
        }
        Overlay::Progress => {
            match key.code {
                KeyCode::Char('x') if app.action.as_ref().is_some_and(ActionLog::is_running) => {
                    app.note("interrupting…");
                    app.overlay = Some(Overlay::Progress);
                    return vec![Effect::AbortAction];
                }
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') | KeyCode::Char('p') => {
                    // A finished action is dismissed; a running one keeps going.
                    if app.action.as_ref().is_some_and(|a| !a.is_running()) {
                        app.action = None;
                    }
                    return vec![];
                }
                _ => {}
            }
            app.overlay = Some(Overlay::Progress);
            vec![]
        }
    }
}

fn run(app: &mut App, prepared: Prepared) -> Vec<Effect> {
    if let Some(a) = &mut app.action {
        a.running = true;
        a.outcome = None;
        a.apply = prepared.op == Operation::Provision;
        a.push(format!("confirmed: {}", prepared.change));
    }
    app.overlay = Some(Overlay::Progress);
    vec![Effect::Run(prepared)]
}

fn apply_filter(app: &mut App, text: &str) {
    let filter = Filter::new(text);
    match app.view {
        View::Topology => app.topo.filter = filter,
        View::Deployments => app.deploys.filter = filter,
        View::Backups => app.backups_state.filter = filter,
        View::Logs => {
            let f = LogFilters {
                text: filter,
                ..app.logs.buffer.filters().clone()
            };
            app.logs.buffer.set_filters(f);
        }
        View::Metrics => {}
    }
    app.topo.selected = app
        .topo
        .selected
        .min(app.topo_rows().len().saturating_sub(1));
    app.deploys.selected = app
        .deploys
        .selected
        .min(app.visible_releases().len().saturating_sub(1));
    app.backups_state.selected = app
        .backups_state
        .selected
        .min(app.visible_backups().len().saturating_sub(1));
}

/// Draws the open overlay, if any, over `area` (the whole screen).
pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(overlay) = &app.overlay else {
        return;
    };
    match overlay {
        Overlay::Help { scroll } => help::draw(frame, app, area, *scroll),
        Overlay::Palette(p) => palette::draw(frame, app, p, area),
        Overlay::Filter(input) => prompt::draw_filter(frame, input, area),
        Overlay::Scale(s) => prompt::draw_scale(frame, s, area),
        Overlay::Picker(p) => picker::draw(frame, p, area),
        Overlay::Confirm(c) => confirm::draw(frame, app, c, area),
        Overlay::Progress => progress::draw(frame, app, area),
    }
}

/// A centred rectangle `w` x `h` inside `area`, clamped to it.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
