//! Key bindings as data: TOML sections per mode, each a list of
//! `{ on = "<key>" | ["<key>", ...], run = "<action>", desc = "..." }`.
//!
//! A keymap is a built-in base (`default` or `vim`, or a file given with
//! `--keymap PATH`), then the user's `$XDG_CONFIG_HOME/njtui/keymap.toml`, whose
//! sections may `prepend_keymap` (wins over the base), `append_keymap`, or
//! replace the section with `keymap`. Every error names the file, the line and
//! the reason, and stops the console before it takes the terminal.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;
use toml::Spanned;

/// Everything a key can do. The TOML names are the snake_case of the variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    Palette,
    Filter,
    ViewTopology,
    ViewMetrics,
    ViewLogs,
    ViewDeployments,
    ViewBackups,
    NextView,
    PrevView,
    Refresh,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Select,
    Back,
    Scale,
    ScaleUp,
    ScaleDown,
    Start,
    Stop,
    Deploy,
    Rollback,
    Backup,
    BackupJob,
    Restore,
    PointApp,
    Cancel,
    Provision,
    Chaos,
    RangeNext,
    RangePrev,
    Follow,
    SourceNext,
    SeverityNext,
    Wrap,
    Timestamps,
    Raw,
    ShowProgress,
}

impl Action {
    pub const ALL: [Action; 45] = [
        Action::Quit,
        Action::Help,
        Action::Palette,
        Action::Filter,
        Action::ViewTopology,
        Action::ViewMetrics,
        Action::ViewLogs,
        Action::ViewDeployments,
        Action::ViewBackups,
        Action::NextView,
        Action::PrevView,
        Action::Refresh,
        Action::Up,
        Action::Down,
        Action::Left,
        Action::Right,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::Select,
        Action::Back,
        Action::Scale,
        Action::ScaleUp,
        Action::ScaleDown,
        Action::Start,
        Action::Stop,
        Action::Deploy,
        Action::Rollback,
        Action::Backup,
        Action::BackupJob,
        Action::Restore,
        Action::PointApp,
        Action::Cancel,
        Action::Provision,
        Action::Chaos,
        Action::RangeNext,
        Action::RangePrev,
        Action::Follow,
        Action::SourceNext,
        Action::SeverityNext,
        Action::Wrap,
        Action::Timestamps,
        Action::Raw,
        Action::ShowProgress,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "help",
            Action::Palette => "palette",
            Action::Filter => "filter",
            Action::ViewTopology => "view_topology",
            Action::ViewMetrics => "view_metrics",
            Action::ViewLogs => "view_logs",
            Action::ViewDeployments => "view_deployments",
            Action::ViewBackups => "view_backups",
            Action::NextView => "next_view",
            Action::PrevView => "prev_view",
            Action::Refresh => "refresh",
            Action::Up => "up",
            Action::Down => "down",
            Action::Left => "left",
            Action::Right => "right",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Select => "select",
            Action::Back => "back",
            Action::Scale => "scale",
            Action::ScaleUp => "scale_up",
            Action::ScaleDown => "scale_down",
            Action::Start => "start",
            Action::Stop => "stop",
            Action::Deploy => "deploy",
            Action::Rollback => "rollback",
            Action::Backup => "backup",
            Action::BackupJob => "backup_job",
            Action::Restore => "restore",
            Action::PointApp => "point_app",
            Action::Cancel => "cancel",
            Action::Provision => "provision",
            Action::Chaos => "chaos",
            Action::RangeNext => "range_next",
            Action::RangePrev => "range_prev",
            Action::Follow => "follow",
            Action::SourceNext => "source_next",
            Action::SeverityNext => "severity_next",
            Action::Wrap => "wrap",
            Action::Timestamps => "timestamps",
            Action::Raw => "raw",
            Action::ShowProgress => "show_progress",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "Quit",
            Action::Help => "Show the key bindings",
            Action::Palette => "Command palette",
            Action::Filter => "Filter the list",
            Action::ViewTopology => "Topology view",
            Action::ViewMetrics => "Metrics view",
            Action::ViewLogs => "Logs view",
            Action::ViewDeployments => "Deployments view",
            Action::ViewBackups => "Backups view",
            Action::NextView => "Next view",
            Action::PrevView => "Previous view",
            Action::Refresh => "Refresh now",
            Action::Up => "Move up",
            Action::Down => "Move down",
            Action::Left => "Move left",
            Action::Right => "Move right",
            Action::PageUp => "Page up",
            Action::PageDown => "Page down",
            Action::Top => "Go to the top",
            Action::Bottom => "Go to the bottom (logs: newest, following)",
            Action::Select => "Select / open",
            Action::Back => "Close / clear",
            Action::Scale => "Scale the selected tier",
            Action::ScaleUp => "Scale the selected tier up by one",
            Action::ScaleDown => "Scale the selected tier down by one",
            Action::Start => "Start the selected tier",
            Action::Stop => "Stop the selected tier",
            Action::Deploy => "Deploy a revision",
            Action::Rollback => "Roll back the application",
            Action::Backup => "Take a database snapshot now",
            Action::BackupJob => "Start an AWS Backup job now",
            Action::Restore => "Restore the selected backup",
            Action::PointApp => "Point the app at the selected restored database",
            Action::Cancel => "Cancel the selected deployment or backup job",
            Action::Provision => "Plan and apply the infrastructure",
            Action::Chaos => "Inject a fault (demo)",
            Action::RangeNext => "Next time range",
            Action::RangePrev => "Previous time range",
            Action::Follow => "Pause / follow",
            Action::SourceNext => "Cycle the log source",
            Action::SeverityNext => "Cycle the minimum severity",
            Action::Wrap => "Wrap long lines",
            Action::Timestamps => "Show timestamps",
            Action::Raw => "Show lines as sent (JSON unformatted)",
            Action::ShowProgress => "Show the last action's progress",
        }
    }

    /// Actions that change the environment: hidden from help in read-only mode.
    pub fn is_mutating(self) -> bool {
        matches!(
            self,
            Action::Scale
                | Action::ScaleUp
                | Action::ScaleDown
                | Action::Start
                | Action::Stop
                | Action::Deploy
                | Action::Rollback
                | Action::Backup
                | Action::BackupJob
                | Action::Restore
                | Action::PointApp
                | Action::Cancel
                | Action::Provision
                | Action::Chaos
        )
    }

    fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// A keymap section: the global bindings and one per view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    Global,
    Topology,
    Metrics,
    Logs,
    Deployments,
    Backups,
}

impl Mode {
    pub const ALL: [Mode; 6] = [
        Mode::Global,
        Mode::Topology,
        Mode::Metrics,
        Mode::Logs,
        Mode::Deployments,
        Mode::Backups,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Global => "global",
            Mode::Topology => "topology",
            Mode::Metrics => "metrics",
            Mode::Logs => "logs",
            Mode::Deployments => "deployments",
            Mode::Backups => "backups",
        }
    }
}

/// One key press, normalised so that `G` and `<S-g>` are the same key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        let mut mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match code {
            KeyCode::Char(c) if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::Char(c.to_ascii_uppercase())
            }
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, mods }
    }

    pub fn from_event(e: &KeyEvent) -> Key {
        Key::new(e.code, e.modifiers)
    }

    /// Parses `q`, `G`, `?`, `<Enter>`, `<C-c>`, `<S-Tab>`, `<A-F5>`...
    pub fn parse(s: &str) -> Result<Key, String> {
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if !c.is_whitespace() && !c.is_control() => {
                return Ok(Key::new(KeyCode::Char(c), KeyModifiers::NONE));
            }
            _ => {}
        }
        let inner = s
            .strip_prefix('<')
            .and_then(|r| r.strip_suffix('>'))
            .filter(|i| !i.is_empty())
            .ok_or_else(|| {
                format!("bad key '{s}': use one character or a name in angle brackets, e.g. <Enter>, <C-c>")
            })?;
        let mut mods = KeyModifiers::NONE;
        let mut rest = inner;
        while rest.len() > 2 && rest.as_bytes()[1] == b'-' {
            mods |= match rest.as_bytes()[0] {
                b'C' | b'c' => KeyModifiers::CONTROL,
                b'A' | b'a' | b'M' | b'm' => KeyModifiers::ALT,
                b'S' | b's' => KeyModifiers::SHIFT,
                _ => {
                    return Err(format!(
                        "bad key '{s}': modifiers are C- (Ctrl), A- (Alt), S- (Shift)"
                    ));
                }
            };
            rest = &rest[2..];
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "cr" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" | "bs" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "insert" | "ins" => KeyCode::Insert,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "space" => KeyCode::Char(' '),
            "lt" => KeyCode::Char('<'),
            "gt" => KeyCode::Char('>'),
            f if f.len() > 1
                && f.starts_with('f')
                && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
            {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            _ if rest.chars().count() == 1 => {
                let c = rest.chars().next().unwrap_or(' ');
                // <C-c> and <C-C> are the same key to a terminal.
                if mods.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            _ => return Err(format!("bad key '{s}': unknown key name '{rest}'")),
        };
        Ok(Key::new(code, mods))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char('<') => "lt".to_string(),
            KeyCode::Char('>') => "gt".to_string(),
            KeyCode::Char(c) if self.mods.is_empty() => return write!(f, "{c}"),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Backspace => "Backspace".into(),
            KeyCode::Delete => "Delete".into(),
            KeyCode::Insert => "Insert".into(),
            KeyCode::Up => "Up".into(),
            KeyCode::Down => "Down".into(),
            KeyCode::Left => "Left".into(),
            KeyCode::Right => "Right".into(),
            KeyCode::PageUp => "PageUp".into(),
            KeyCode::PageDown => "PageDown".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        let mut prefix = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            prefix.push_str("C-");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            prefix.push_str("A-");
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            prefix.push_str("S-");
        }
        write!(f, "<{prefix}{name}>")
    }
}

/// Where a binding was written, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub keys: Vec<Key>,
    pub action: Action,
    pub desc: String,
    pub origin: Origin,
}

impl Binding {
    pub fn keys_label(&self) -> String {
        self.keys
            .iter()
            .map(Key::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What the keys pressed so far mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    Action(Action),
    /// A prefix of a longer binding: wait for the next key.
    Pending,
    Unbound,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{origin}: {reason}")]
pub struct KeymapError {
    pub origin: Origin,
    pub reason: String,
}

#[derive(Clone, Debug, Default)]
pub struct Keymap {
    pub name: String,
    modes: HashMap<Mode, Vec<Binding>>,
}

const DEFAULT_TOML: &str = include_str!("../../keymaps/default.toml");
const VIM_TOML: &str = include_str!("../../keymaps/vim.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    on: Spanned<OnKeys>,
    run: Spanned<String>,
    desc: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OnKeys {
    One(String),
    Seq(Vec<String>),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileSection {
    keymap: Option<Vec<FileEntry>>,
    prepend_keymap: Option<Vec<FileEntry>>,
    append_keymap: Option<Vec<FileEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    global: Option<FileSection>,
    topology: Option<FileSection>,
    metrics: Option<FileSection>,
    logs: Option<FileSection>,
    deployments: Option<FileSection>,
    backups: Option<FileSection>,
}

impl FileDoc {
    fn take(&mut self, mode: Mode) -> Option<FileSection> {
        match mode {
            Mode::Global => self.global.take(),
            Mode::Topology => self.topology.take(),
            Mode::Metrics => self.metrics.take(),
            Mode::Logs => self.logs.take(),
            Mode::Deployments => self.deployments.take(),
            Mode::Backups => self.backups.take(),
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// One parsed file: per mode, how it changes the keymap below it.
struct Layer {
    sections: Vec<(Mode, SectionEdit)>,
}

struct SectionEdit {
    replace: Option<Vec<Binding>>,
    prepend: Vec<Binding>,
    append: Vec<Binding>,
}

fn parse_layer(text: &str, file: &str) -> Result<Layer, KeymapError> {
    let mut doc: FileDoc = toml::from_str(text).map_err(|e| KeymapError {
        origin: Origin {
            file: file.to_string(),
            line: crate::config::error_line(text, &e),
        },
        reason: e.message().trim().to_string(),
    })?;
    let mut sections = Vec::new();
    for mode in Mode::ALL {
        let Some(section) = doc.take(mode) else {
            continue;
        };
        let convert =
            |entries: Option<Vec<FileEntry>>| -> Result<Option<Vec<Binding>>, KeymapError> {
                let Some(entries) = entries else {
                    return Ok(None);
                };
                let mut out = Vec::with_capacity(entries.len());
                for entry in entries {
                    let origin = Origin {
                        file: file.to_string(),
                        line: line_of(text, entry.on.span().start),
                    };
                    let names = match entry.on.into_inner() {
                        OnKeys::One(k) => vec![k],
                        OnKeys::Seq(ks) => ks,
                    };
                    if names.is_empty() {
                        return Err(KeymapError {
                            origin,
                            reason: "`on` is empty: give a key or a sequence of keys".into(),
                        });
                    }
                    let keys = names
                        .iter()
                        .map(|k| Key::parse(k))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|reason| KeymapError {
                            origin: origin.clone(),
                            reason,
                        })?;
                    let run_line = line_of(text, entry.run.span().start);
                    let name = entry.run.into_inner();
                    let action = Action::from_name(&name).ok_or_else(|| KeymapError {
                        origin: Origin {
                            file: file.to_string(),
                            line: run_line,
                        },
                        reason: unknown_action(&name),
                    })?;
                    out.push(Binding {
                        keys,
                        action,
                        desc: entry.desc.unwrap_or_else(|| action.describe().to_string()),
                        origin,
                    });
                }
                Ok(Some(out))
            };
        let edit = SectionEdit {
            replace: convert(section.keymap)?,
            prepend: convert(section.prepend_keymap)?.unwrap_or_default(),
            append: convert(section.append_keymap)?.unwrap_or_default(),
        };
        for list in [
            edit.replace.as_deref().unwrap_or(&[]),
            &edit.prepend,
            &edit.append,
        ] {
            check_duplicates(mode, list)?;
        }
        sections.push((mode, edit));
    }
    Ok(Layer { sections })
}

fn unknown_action(name: &str) -> String {
    let close: Vec<&str> = Action::ALL
        .iter()
        .map(|a| a.name())
        .filter(|n| {
            n.contains(name) || name.contains(n) || n.starts_with(&name[..name.len().min(3)])
        })
        .collect();
    let mut msg = format!("unknown action '{name}'");
    if !close.is_empty() {
        msg.push_str(&format!("; did you mean {}?", close.join(", ")));
    }
    msg.push_str(" (see `?` in the console or docs/keymaps.md for the list)");
    msg
}

fn check_duplicates(mode: Mode, list: &[Binding]) -> Result<(), KeymapError> {
    for (i, b) in list.iter().enumerate() {
        if let Some(first) = list[..i].iter().find(|a| a.keys == b.keys) {
            return Err(KeymapError {
                origin: b.origin.clone(),
                reason: format!(
                    "'{}' is bound twice in [{}]: to {} (line {}) and to {}",
                    b.keys_label(),
                    mode.name(),
                    first.action.name(),
                    first.origin.line,
                    b.action.name()
                ),
            });
        }
    }
    Ok(())
}

impl Keymap {
    /// Resolves `--keymap` (a built-in name or a path) and the user's file.
    pub fn load(choice: Option<&str>, user_file: Option<&Path>) -> Result<Keymap, KeymapError> {
        let (name, base_text, base_file): (String, String, String) =
            match choice.unwrap_or("default") {
                "default" => (
                    "default".into(),
                    DEFAULT_TOML.into(),
                    "keymaps/default.toml".into(),
                ),
                "vim" => ("vim".into(), VIM_TOML.into(), "keymaps/vim.toml".into()),
                path => {
                    let text = std::fs::read_to_string(path).map_err(|e| KeymapError {
                        origin: Origin {
                            file: path.to_string(),
                            line: 0,
                        },
                        reason: format!(
                            "cannot read the keymap ({e}); built-in keymaps are: default, vim"
                        ),
                    })?;
                    (path.to_string(), text, path.to_string())
                }
            };
        let mut layers = vec![parse_layer(&base_text, &base_file)?];
        if let Some(user) = user_file
            && let Ok(text) = std::fs::read_to_string(user)
        {
            layers.push(parse_layer(&text, &user.display().to_string())?);
        }
        let keymap = Keymap::from_layers(name, layers);
        keymap.check_prefixes()?;
        Ok(keymap)
    }

    /// The user's keymap file: `$XDG_CONFIG_HOME/njtui/keymap.toml`.
    pub fn user_file() -> Option<PathBuf> {
        crate::paths::config_dir()
            .ok()
            .map(|d| d.join("keymap.toml"))
    }

    pub fn parse_str(text: &str, file: &str) -> Result<Keymap, KeymapError> {
        let keymap = Keymap::from_layers(file.to_string(), vec![parse_layer(text, file)?]);
        keymap.check_prefixes()?;
        Ok(keymap)
    }

    fn from_layers(name: String, layers: Vec<Layer>) -> Keymap {
        let mut modes: HashMap<Mode, Vec<Binding>> = HashMap::new();
        for layer in layers {
            for (mode, edit) in layer.sections {
                let list = modes.entry(mode).or_default();
                if let Some(replace) = edit.replace {
                    *list = replace;
                }
                let mut merged = edit.prepend;
                merged.append(list);
                merged.extend(edit.append);
                *list = merged;
            }
        }
        Keymap { name, modes }
    }

    /// The bindings in effect in `mode`: its own first, then the global ones,
    /// with shadowed duplicates removed.
    pub fn effective(&self, mode: Mode) -> Vec<&Binding> {
        let own = if mode == Mode::Global {
            None
        } else {
            self.modes.get(&mode)
        };
        let mut out: Vec<&Binding> = Vec::new();
        for b in own
            .into_iter()
            .flatten()
            .chain(self.modes.get(&Mode::Global).into_iter().flatten())
        {
            if !out.iter().any(|o| o.keys == b.keys) {
                out.push(b);
            }
        }
        out
    }

    /// A key that is both bound and the start of a longer binding would make the
    /// longer one unreachable.
    fn check_prefixes(&self) -> Result<(), KeymapError> {
        for mode in Mode::ALL {
            let bindings = self.effective(mode);
            for a in &bindings {
                for b in &bindings {
                    if a.keys.len() < b.keys.len() && b.keys.starts_with(&a.keys) {
                        return Err(KeymapError {
                            origin: b.origin.clone(),
                            reason: format!(
                                "'{}' ({}) can never be typed in [{}]: '{}' is bound to {} at {}",
                                b.keys_label(),
                                b.action.name(),
                                mode.name(),
                                a.keys_label(),
                                a.action.name(),
                                a.origin
                            ),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    pub fn lookup(&self, mode: Mode, keys: &[Key]) -> Lookup {
        let bindings = self.effective(mode);
        if let Some(b) = bindings.iter().find(|b| b.keys == keys) {
            return Lookup::Action(b.action);
        }
        if bindings.iter().any(|b| b.keys.starts_with(keys)) {
            return Lookup::Pending;
        }
        Lookup::Unbound
    }

    /// The first key sequence bound to `action` in `mode`, for hints.
    pub fn key_for(&self, mode: Mode, action: Action) -> Option<String> {
        self.effective(mode)
            .into_iter()
            .find(|b| b.action == action)
            .map(Binding::keys_label)
    }

    /// Bindings of one section only (for the help overlay).
    pub fn section(&self, mode: Mode) -> &[Binding] {
        self.modes.get(&mode).map(Vec::as_slice).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    #[test]
    fn builtin_keymaps_load_and_bind_every_view_and_quit() {
        for name in ["default", "vim"] {
            let km = Keymap::load(Some(name), None).unwrap();
            for a in [
                Action::Quit,
                Action::Help,
                Action::Palette,
                Action::ViewTopology,
                Action::ViewBackups,
                Action::NextView,
            ] {
                assert!(
                    km.key_for(Mode::Global, a).is_some(),
                    "{name}: {a:?} unbound"
                );
            }
        }
    }

    #[test]
    fn every_action_is_bound_in_the_default_keymap() {
        let km = Keymap::load(Some("default"), None).unwrap();
        for a in Action::ALL {
            let bound = Mode::ALL.iter().any(|m| km.key_for(*m, a).is_some());
            assert!(bound, "{} has no key in the default keymap", a.name());
        }
    }

    #[test]
    fn keys_parse_and_normalise() {
        assert_eq!(key("G"), Key::new(KeyCode::Char('g'), KeyModifiers::SHIFT));
        assert_eq!(
            key("<S-Tab>"),
            Key::new(KeyCode::BackTab, KeyModifiers::SHIFT)
        );
        assert_eq!(key("<C-C>"), key("<c-c>"));
        assert_eq!(
            key("<Space>"),
            Key::new(KeyCode::Char(' '), KeyModifiers::NONE)
        );
        assert_eq!(key("<F5>").code, KeyCode::F(5));
        assert_eq!(key("<C-c>").to_string(), "<C-c>");
        assert_eq!(key("?").to_string(), "?");
        for bad in ["", "ab", "<>", "<Ctrl-c>", "<X-c>", "<F13>", "<Nope>"] {
            assert!(Key::parse(bad).unwrap_err().starts_with("bad key"), "{bad}");
        }
    }

    #[test]
    fn sequences_wait_for_the_next_key() {
        let km = Keymap::parse_str(
            "[global]\nkeymap = [{ on = [\"g\", \"g\"], run = \"top\" }, { on = \"q\", run = \"quit\" }]\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(km.lookup(Mode::Logs, &[key("g")]), Lookup::Pending);
        assert_eq!(
            km.lookup(Mode::Logs, &[key("g"), key("g")]),
            Lookup::Action(Action::Top)
        );
        assert_eq!(km.lookup(Mode::Logs, &[key("x")]), Lookup::Unbound);
    }

    #[test]
    fn view_bindings_shadow_global_ones() {
        let km = Keymap::parse_str(
            "[global]\nkeymap = [{ on = \"r\", run = \"refresh\" }]\n[backups]\nkeymap = [{ on = \"r\", run = \"restore\" }]\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(
            km.lookup(Mode::Backups, &[key("r")]),
            Lookup::Action(Action::Restore)
        );
        assert_eq!(
            km.lookup(Mode::Logs, &[key("r")]),
            Lookup::Action(Action::Refresh)
        );
    }

    #[test]
    fn errors_name_file_line_and_reason() {
        let cases = [
            (
                "[global]\nkeymap = [\n  { on = \"q\", run = \"quit\" },\n  { on = \"x\", run = \"quitt\" },\n]\n",
                4,
                "unknown action 'quitt'",
            ),
            (
                "[global]\nkeymap = [\n  { on = \"<Ctl-x>\", run = \"quit\" },\n]\n",
                3,
                "bad key '<Ctl-x>'",
            ),
            (
                "[logs]\nkeymap = [\n  { on = \"f\", run = \"follow\" },\n  { on = \"f\", run = \"wrap\" },\n]\n",
                4,
                "'f' is bound twice in [logs]: to follow (line 3) and to wrap",
            ),
            (
                "[global]\nkeymap = [\n  { on = \"g\", run = \"top\" },\n  { on = [\"g\", \"g\"], run = \"bottom\" },\n]\n",
                4,
                "can never be typed",
            ),
            ("[globl]\n", 1, "unknown field `globl`"),
            (
                "[global]\nkeymap = [{ on = \"q\", run = \"quit\", description = \"x\" }]\n",
                2,
                "unknown field `description`",
            ),
        ];
        for (text, line, reason) in cases {
            let e = Keymap::parse_str(text, "my.toml").unwrap_err();
            assert_eq!(e.origin.file, "my.toml");
            assert_eq!(e.origin.line, line, "{e}");
            assert!(e.reason.contains(reason), "{e}");
        }
    }

    #[test]
    fn user_file_prepends_appends_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let user = dir.path().join("keymap.toml");
        std::fs::write(
            &user,
            "[global]\nprepend_keymap = [{ on = \"q\", run = \"help\" }]\nappend_keymap = [{ on = \"<F10>\", run = \"quit\" }]\n[logs]\nkeymap = [{ on = \"p\", run = \"follow\" }]\n",
        )
        .unwrap();
        let km = Keymap::load(Some("default"), Some(&user)).unwrap();
        assert_eq!(
            km.lookup(Mode::Topology, &[key("q")]),
            Lookup::Action(Action::Help)
        );
        assert_eq!(
            km.lookup(Mode::Topology, &[key("<F10>")]),
            Lookup::Action(Action::Quit)
        );
        assert_eq!(
            km.lookup(Mode::Logs, &[key("p")]),
            Lookup::Action(Action::Follow)
        );
        // The replaced logs section no longer has the default `f`.
        assert_ne!(
            km.lookup(Mode::Logs, &[key("f")]),
            Lookup::Action(Action::Follow)
        );
    }

    #[test]
    fn a_missing_keymap_file_is_reported() {
        let e = Keymap::load(Some("/nonexistent/km.toml"), None).unwrap_err();
        assert!(e.reason.contains("cannot read the keymap") && e.reason.contains("default, vim"));
    }
}
