//! The bottom line: which environment, through what, as whom, whether actions are
//! allowed, and how fresh the data is or what went wrong.

use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

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
            theme::warn().add_modifier(ratatui::style::Modifier::REVERSED),
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

    let mut right = Vec::new();
    if let Some((note, at)) = &app.status.note
        && at.elapsed() < NOTE_TTL
    {
        right.push(Span::styled(format!("{note}  "), theme::accent()));
    }
    if app.status.offline {
        right.push(Span::styled(
            " OFFLINE ",
            theme::bad().add_modifier(ratatui::style::Modifier::REVERSED),
        ));
        right.push(Span::raw(" "));
    }
    if app.status.throttled {
        right.push(Span::styled(
            " THROTTLED ",
            theme::warn().add_modifier(ratatui::style::Modifier::REVERSED),
        ));
        right.push(Span::raw(" "));
    }
    match (&app.status.last_error, app.status.last_refresh) {
        (Some(e), _) => right.push(Span::styled(
            format!("{} ", super::views::truncate(e, 80)),
            theme::bad(),
        )),
        (None, Some(t)) => right.push(Span::styled(
            format!("refreshed {} ago ", ago(t)),
            theme::dim(),
        )),
        (None, None) => right.push(Span::styled("connecting… ", theme::dim())),
    }
    right.push(Span::styled("? help ", theme::dim()));

    let right_width = right
        .iter()
        .map(|s| s.width() as u16)
        .sum::<u16>()
        .min(area.width / 2 + 20);
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
