//! The bottom line: which environment, through what, as whom, whether actions are
//! allowed, and how fresh the data is or what went wrong.

use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::app::App;
use super::theme;

/// How long a note stays on the status bar.
const NOTE_TTL: Duration = Duration::from_secs(6);

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let mut left = vec![
        Span::styled(
            format!(" {} ", app.env),
            theme::env_badge(app.production, app.env == "demo"),
        ),
        Span::raw(" "),
        Span::styled(app.backend.as_str(), theme::accent()),
    ];
    if let Some(id) = &app.identity {
        left.push(Span::styled(
            format!(" · {} · {}", id.region, short_principal(&id.principal)),
            theme::dim(),
        ));
    }
    if app.read_only {
        left.push(Span::raw(" "));
        left.push(Span::styled(
            " READ-ONLY ",
            theme::warn().add_modifier(Modifier::REVERSED),
        ));
    }
    if let Some(now) = app.now
        && app.env == "demo"
    {
        left.push(Span::styled(
            format!(" · {}", now.format("%a %H:%M:%S")),
            theme::dim(),
        ));
    }
    if !app.pending.is_empty() {
        let keys: Vec<String> = app.pending.iter().map(|k| k.to_string()).collect();
        left.push(Span::styled(
            format!("  {} …", keys.join(" ")),
            theme::key(),
        ));
    }

    // The right side says what changed or went wrong; when the line is short,
    // the note and the error give way (truncated), never the environment.
    let left_width: usize = left.iter().map(|s| s.width()).sum();
    let mut parts: Vec<(String, Style, bool)> = Vec::new();
    if let Some((note, at)) = &app.status.note
        && at.elapsed() < NOTE_TTL
    {
        parts.push((format!("{note}  "), theme::accent(), true));
    }
    if app.status.offline {
        parts.push((
            " OFFLINE ".into(),
            theme::bad().add_modifier(Modifier::REVERSED),
            false,
        ));
        parts.push((" ".into(), Style::new(), false));
    }
    if app.status.throttled {
        parts.push((
            " THROTTLED ".into(),
            theme::warn().add_modifier(Modifier::REVERSED),
            false,
        ));
        parts.push((" ".into(), Style::new(), false));
    }
    match (&app.status.last_error, app.status.last_refresh) {
        (Some(e), _) => parts.push((format!("{e} "), theme::bad(), true)),
        (None, Some(t)) => parts.push((format!("refreshed {} ago ", ago(t)), theme::dim(), false)),
        (None, None) => parts.push(("connecting… ".into(), theme::dim(), false)),
    }
    parts.push(("? help ".into(), theme::dim(), false));
    let budget = (area.width as usize).saturating_sub(left_width + 1);
    let fixed: usize = parts.iter().filter(|p| !p.2).map(|p| p.0.width()).sum();
    let flexible = parts.iter().filter(|p| p.2).count().max(1);
    let share = budget.saturating_sub(fixed) / flexible;
    let right: Vec<Span> = parts
        .into_iter()
        .filter_map(|(text, style, flexible)| {
            let text = if flexible && text.width() > share {
                if share < 8 {
                    return None;
                }
                format!("{} ", super::views::truncate(text.trim_end(), share - 1))
            } else {
                text
            };
            Some(Span::styled(text, style))
        })
        .collect();

    let right_width = right
        .iter()
        .map(|s| s.width() as u16)
        .sum::<u16>()
        .min(budget as u16);
    let [l, r] =
        Layout::horizontal([Constraint::Min(1), Constraint::Length(right_width)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(left)), l);
    frame.render_widget(Paragraph::new(Line::from(right)).right_aligned(), r);
}

/// `arn:aws:sts::123:assumed-role/Ops/alice` → `assumed-role/Ops/alice`.
fn short_principal(p: &str) -> &str {
    p.rsplit_once(':').map_or(p, |(_, tail)| tail)
}

fn ago(t: Instant) -> String {
    let s = t.elapsed().as_secs();
    if s < 60 {
        format!("{s}s")
    } else {
        format!("{}m", s / 60)
    }
}
