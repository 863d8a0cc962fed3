//! `:` the command palette (k9s-like). It understands view names, a few console
//! commands (`range`, `filter`, `source`, `help`, `quit`), and every subcommand
//! of the command line with the same grammar, parsed by the same clap
//! definition, so `:scale web 4` does exactly what `njtui scale web 4` does.

use clap::Parser;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use crate::cli::{Cli, Command, parse_range, parse_sources, parse_tier};
use crate::domain::{ChaosKind, LogSource, RestoreSource, Tier, TimeRange};
use crate::ops::Operation;
use crate::ui::app::{App, Effect, View};
use crate::ui::filter::Filter;
use crate::ui::keymap::Action;
use crate::ui::logbuf::LogFilters;
use crate::ui::theme;

use super::{Overlay, PaletteState};

/// First words the palette knows, with what they take, for completion and help.
const COMMANDS: &[(&str, &str)] = &[
    ("topology", "view"),
    ("metrics", "view, or: metrics --range 24h"),
    ("logs", "view, or: logs --source app --filter TEXT"),
    ("deployments", "view, or: deployments ID"),
    ("backups", "view"),
    ("scale", "scale TIER N"),
    ("start", "start TIER"),
    ("stop", "stop TIER"),
    ("deploy", "deploy REVISION (or no argument to pick)"),
    ("rollback", "roll back the application"),
    ("backup", "backup [--method job]"),
    (
        "restore",
        "restore BACKUP-ID | restore --to-time TIME|latest",
    ),
    ("point-app", "point-app DATABASE"),
    ("cancel", "cancel DEPLOYMENT-OR-BACKUP-ID"),
    ("provision", "plan, then apply after confirmation"),
    ("chaos", "chaos load-spike|kill-instance|bad-revision"),
    ("range", "range 1h|6h|24h|7d"),
    ("filter", "filter TEXT (the current view's list)"),
    ("source", "source app|system|codedeploy|audit|database|all"),
    ("help", "the key bindings"),
    ("quit", "leave the console"),
];

/// Candidates for the word being typed (the last one).
pub fn complete(app: &App, text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let typing_new = text.ends_with(' ') || text.is_empty();
    let (done, current) = if typing_new {
        (words.as_slice(), "")
    } else {
        (&words[..words.len() - 1], *words.last().unwrap_or(&""))
    };
    let options: Vec<String> = match done {
        [] => COMMANDS.iter().map(|(c, _)| c.to_string()).collect(),
        ["scale" | "start" | "stop"] => Tier::SCALABLE
            .iter()
            .map(|t| t.as_str().to_string())
            .collect(),
        ["chaos"] => ChaosKind::ALL
            .iter()
            .map(|k| k.as_str().to_string())
            .collect(),
        ["range"] => TimeRange::ALL
            .iter()
            .map(|r| r.as_str().to_string())
            .collect(),
        ["source"] => LogSource::ALL
            .iter()
            .map(|s| s.as_str().to_string())
            .chain(["all".to_string()])
            .collect(),
        ["restore"] => app
            .backups
            .iter()
            .flat_map(|o| o.backups.iter())
            .filter(|b| b.is_restorable())
            .map(|b| b.id.clone())
            .chain(["--to-time".to_string()])
            .collect(),
        ["point-app"] => app
            .backups
            .iter()
            .flat_map(|o| o.restores.iter())
            .map(|d| d.id.clone())
            .collect(),
        ["cancel"] | ["deployments"] => app
            .releases
            .iter()
            .flatten()
            .flat_map(|r| {
                std::iter::once(r.id.clone()).chain(r.deployment_ids().map(str::to_string))
            })
            .fold(Vec::new(), |mut ids, id| {
                if !ids.contains(&id) {
                    ids.push(id);
                }
                ids
            }),
        _ => vec![],
    };
    options
        .into_iter()
        .filter(|o| o.starts_with(current))
        .collect()
}

fn common_prefix(items: &[String]) -> String {
    let Some(first) = items.first() else {
        return String::new();
    };
    let mut end = first.len();
    for item in &items[1..] {
        end = end.min(
            first
                .char_indices()
                .zip(item.chars())
                .take_while(|((_, a), b)| a == b)
                .last()
                .map_or(0, |((i, a), _)| i + a.len_utf8()),
        );
    }
    first[..end].to_string()
}

pub fn handle_key(app: &mut App, mut state: PaletteState, key: KeyEvent) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => return vec![],
        KeyCode::Enter => {
            let text = state.input.text().trim().to_string();
            if text.is_empty() {
                return vec![];
            }
            match execute(app, &text) {
                Ok(effects) => {
                    app.palette_history.retain(|h| h != &text);
                    app.palette_history.push(text);
                    return effects;
                }
                Err(e) => state.error = Some(e),
            }
        }
        KeyCode::Tab => {
            let candidates = complete(app, state.input.text());
            if !candidates.is_empty() {
                let text = state.input.text().to_string();
                let keep = if text.ends_with(' ') || text.is_empty() {
                    text.as_str()
                } else {
                    text.rsplit_once(' ').map_or("", |(head, _)| head)
                };
                let sep = if keep.is_empty() || keep.ends_with(' ') {
                    ""
                } else {
                    " "
                };
                let mut completed = format!("{keep}{sep}{}", common_prefix(&candidates));
                if candidates.len() == 1 {
                    completed.push(' ');
                }
                state.input.set(&completed);
            }
        }
        KeyCode::Up if !app.palette_history.is_empty() => {
            let pos = state
                .history_pos
                .map_or(app.palette_history.len() - 1, |p| p.saturating_sub(1));
            state.history_pos = Some(pos);
            state.input.set(&app.palette_history[pos]);
        }
        KeyCode::Down => {
            if let Some(p) = state.history_pos {
                if p + 1 < app.palette_history.len() {
                    state.history_pos = Some(p + 1);
                    state.input.set(&app.palette_history[p + 1]);
                } else {
                    state.history_pos = None;
                    state.input.set("");
                }
            }
        }
        _ => {
            state.input.handle(&key);
            state.error = None;
        }
    }
    app.overlay = Some(Overlay::Palette(state));
    vec![]
}

/// Runs a palette command; an error message keeps the palette open.
pub fn execute(app: &mut App, text: &str) -> Result<Vec<Effect>, String> {
    let words = shlex::split(text).ok_or_else(|| "unbalanced quotes".to_string())?;
    let first = words.first().map(String::as_str).unwrap_or("");
    if let Some(view) = View::parse(first)
        && words.len() == 1
    {
        return Ok(app.switch_view(view));
    }
    match (first, &words[1..]) {
        ("q" | "q!" | "quit" | "exit", []) => return Ok(app.perform(Action::Quit)),
        ("help" | "?", []) => return Ok(app.perform(Action::Help)),
        ("range", [r]) => {
            app.metrics_state.range = parse_range(r)?;
            let mut e = app.switch_view(View::Metrics);
            e.push(Effect::Wants);
            return Ok(e);
        }
        ("filter", rest) => {
            super::apply_filter(app, &rest.join(" "));
            return Ok(vec![]);
        }
        ("source", [s]) => {
            let source = if s == "all" {
                None
            } else {
                Some(s.parse::<LogSource>()?)
            };
            let f = LogFilters {
                source,
                ..app.logs.buffer.filters().clone()
            };
            app.logs.buffer.set_filters(f);
            return Ok(app.switch_view(View::Logs));
        }
        ("deploy", []) => return Ok(app.perform(Action::Deploy)),
        ("chaos", []) => return Ok(app.perform(Action::Chaos)),
        _ => {}
    }
    let cli =
        Cli::try_parse_from(std::iter::once("njtui".to_string()).chain(words.iter().cloned()))
            .map_err(|e| {
                let rendered = e.render().to_string();
                let line = rendered
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("invalid command")
                    .trim_start_matches("error: ")
                    .to_string();
                if COMMANDS.iter().any(|(c, _)| *c == first) {
                    line
                } else {
                    format!("unknown command '{first}'; Tab lists the commands")
                }
            })?;
    if cli.global.env != app.env && words.iter().any(|w| w.starts_with("--env") || w == "-e") {
        return Err(format!(
            "switching environment needs a new console: quit and run `njtui --env {}`",
            cli.global.env
        ));
    }
    let Some(command) = cli.command else {
        return Err("type a command; Tab lists them".into());
    };
    let op = match command {
        Command::Status(_) => return Ok(app.switch_view(View::Topology)),
        Command::Backups(_) => return Ok(app.switch_view(View::Backups)),
        Command::Revisions(_) => return Ok(app.perform(Action::Deploy)),
        Command::Metrics { range, .. } => {
            app.metrics_state.range = parse_range(&range)?;
            let mut e = app.switch_view(View::Metrics);
            e.push(Effect::Wants);
            return Ok(e);
        }
        Command::Logs {
            sources, filter, ..
        } => {
            let sources = parse_sources(&sources)?;
            if sources.len() > 1 {
                return Err(
                    "the logs view shows one source or all; give at most one --source".into(),
                );
            }
            let f = LogFilters {
                source: sources.first().copied(),
                text: Filter::new(filter.as_deref().unwrap_or("")),
                ..app.logs.buffer.filters().clone()
            };
            app.logs.buffer.set_filters(f);
            return Ok(app.switch_view(View::Logs));
        }
        Command::Deployments { id, .. } => {
            let mut effects = app.switch_view(View::Deployments);
            if let Some(id) = id {
                let index = app
                    .visible_releases()
                    .iter()
                    .position(|r| r.contains(&id))
                    .ok_or_else(|| format!("no deployment '{id}' in the list"))?;
                app.deploys.selected = index;
                effects.push(Effect::Wants);
            }
            return Ok(effects);
        }
        Command::Audit { .. } => {
            return Err("the audit log is a file: run `njtui audit` in a shell".into());
        }
        Command::Provision { .. } => return Ok(app.perform(Action::Provision)),
        Command::Scale { tier, desired, .. } => Operation::Scale {
            tier: parse_tier(&tier)?,
            desired,
        },
        Command::Start { tier, .. } => Operation::Start {
            tier: parse_tier(&tier)?,
        },
        Command::Stop { tier, .. } => Operation::Stop {
            tier: parse_tier(&tier)?,
        },
        Command::Deploy { revision, .. } => Operation::Deploy { revision },
        Command::Rollback { .. } => Operation::Rollback,
        Command::Backup { method, .. } => Operation::Backup {
            kind: method.kind(),
        },
        Command::Restore {
            backup_id, to_time, ..
        } => Operation::Restore {
            source: match (backup_id, to_time) {
                (Some(id), _) => RestoreSource::Backup { id },
                (None, Some(t)) if t == "latest" => RestoreSource::PointInTime {
                    time: app
                        .backups
                        .as_ref()
                        .and_then(|b| b.latest_restorable)
                        .ok_or("no restorable time known yet; open the backups view first")?,
                },
                (None, Some(t)) => RestoreSource::PointInTime {
                    time: chrono::DateTime::parse_from_rfc3339(&t)
                        .map_err(|e| format!("invalid time '{t}': {e}; use RFC 3339 or 'latest'"))?
                        .to_utc(),
                },
                (None, None) => return Err("restore what? give a backup id or --to-time".into()),
            },
        },
        Command::PointApp { database, .. } => Operation::PointApp { database },
        Command::Cancel { id } => Operation::Cancel { id },
        Command::Chaos { kind } => Operation::Chaos {
            kind: kind.parse::<ChaosKind>()?,
        },
    };
    // In read-only mode the runner refuses it (and audits the refusal).
    Ok(app.start_operation(op))
}

pub fn draw(frame: &mut Frame, app: &App, p: &PaletteState, area: Rect) {
    let candidates = complete(app, p.input.text());
    let first = p.input.text().split_whitespace().next().unwrap_or("");
    let hint = COMMANDS
        .iter()
        .find(|(c, _)| *c == first)
        .map(|(_, h)| h.to_string());
    let shown: Vec<String> = candidates.iter().take(8).cloned().collect();
    let height = 3 + shown.len() as u16 + u16::from(p.error.is_some() || hint.is_some());
    let rect = Rect {
        x: area.x + 2,
        y: area.y + 1,
        width: area.width.saturating_sub(4).min(90),
        height: height.min(area.height),
    };
    frame.render_widget(Clear, rect);
    let mut lines = vec![Line::from(vec![
        Span::styled(":", theme::key()),
        Span::raw(p.input.text().to_string()),
    ])];
    if let Some(e) = &p.error {
        lines.push(Line::styled(e.clone(), theme::bad()));
    } else if let Some(h) = hint {
        lines.push(Line::styled(h, theme::dim()));
    }
    for c in shown {
        let help = COMMANDS
            .iter()
            .find(|(n, _)| *n == c)
            .map(|(_, h)| *h)
            .unwrap_or("");
        lines.push(Line::from(vec![
            Span::styled(format!("  {c:<14}"), theme::accent()),
            Span::styled(help.to_string(), theme::dim()),
        ]));
    }
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .title(" Command ")
                .title_bottom(" Tab complete · ↑↓ history · Enter run · Esc close "),
        ),
        rect,
    );
    frame.set_cursor_position(Position::new(
        rect.x + 2 + p.input.cursor() as u16,
        rect.y + 1,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prefix_of_candidates() {
        assert_eq!(
            common_prefix(&["deploy".into(), "deployments".into()]),
            "deploy"
        );
        assert_eq!(
            common_prefix(&["scale".into(), "start".into(), "stop".into()]),
            "s"
        );
        assert_eq!(common_prefix(&[]), "");
    }
}

#[cfg(test)]
mod palette_tests {
    use super::*;
    use crate::domain::Tier;
    use crate::ui::app::app;

    #[test]
    fn subcommands_become_the_same_operations() {
        let mut a = app(false);
        assert_eq!(
            execute(&mut a, "scale web 4").unwrap(),
            vec![Effect::Prepare(Operation::Scale {
                tier: Tier::Web,
                desired: 4
            })]
        );
        let mut a = app(false);
        assert_eq!(
            execute(&mut a, "restore 'rds:notejam-demo-2026-11-26-03-00'").unwrap(),
            vec![Effect::Prepare(Operation::Restore {
                source: RestoreSource::Backup {
                    id: "rds:notejam-demo-2026-11-26-03-00".into()
                }
            })]
        );
        let mut a = app(true);
        assert_eq!(
            execute(&mut a, "rollback").unwrap(),
            vec![Effect::Prepare(Operation::Rollback)]
        );
    }

    #[test]
    fn views_ranges_and_filters() {
        let mut a = app(false);
        assert_eq!(
            execute(&mut a, "logs --source app --filter ERROR").unwrap(),
            vec![Effect::Wants]
        );
        assert_eq!(a.view, View::Logs);
        assert_eq!(a.logs.buffer.filters().source, Some(LogSource::App));
        assert_eq!(a.logs.buffer.filters().text.text(), "ERROR");
        execute(&mut a, "range 24h").unwrap();
        assert_eq!(
            (a.view, a.metrics_state.range),
            (View::Metrics, TimeRange::Hours24)
        );
        execute(&mut a, "deploys").unwrap();
        assert_eq!(a.view, View::Deployments);
        assert_eq!(execute(&mut a, "q").unwrap(), vec![Effect::Quit]);
    }

    #[test]
    fn bad_commands_say_what_is_wrong_and_keep_the_palette() {
        let mut a = app(false);
        for (input, needle) in [
            ("frobnicate", "unknown command 'frobnicate'"),
            ("scale web", "required"),
            ("scale database 2", "not an Auto Scaling group"),
            ("range 2h", "unknown range '2h'"),
            ("source kernel", "unknown log source"),
            ("logs --source app --source system", "at most one --source"),
            ("restore \"unclosed", "unbalanced quotes"),
            ("--env prod status", "needs a new console"),
        ] {
            let e = execute(&mut a, input).unwrap_err();
            assert!(e.contains(needle), "{input}: {e}");
        }
    }

    #[test]
    fn completion_offers_commands_then_arguments() {
        let a = app(false);
        assert!(complete(&a, "sc").contains(&"scale".to_string()));
        assert_eq!(complete(&a, "scale w"), vec!["web".to_string()]);
        assert_eq!(complete(&a, "range "), vec!["1h", "6h", "24h", "7d"]);
        assert!(complete(&a, "chaos ").contains(&"bad-revision".to_string()));
    }
}
