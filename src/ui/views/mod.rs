//! The five views, one file each, and the frame around them: the tab bar on top
//! and the status bar at the bottom.

mod backups;
mod deployments;
mod logs;
mod metrics;
mod topology;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use super::app::{App, View};
use super::theme;

/// Draws a whole frame from the app's state. Nothing here blocks or allocates
/// more than the visible rows need.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let [tabs, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_tabs(frame, app, tabs);
    match app.view {
        View::Topology => topology::draw(frame, app, body),
        View::Metrics => metrics::draw(frame, app, body),
        View::Logs => logs::draw(frame, app, body),
        View::Deployments => deployments::draw(frame, app, body),
        View::Backups => backups::draw(frame, app, body),
    }
    super::statusbar::draw(frame, app, status);
    super::overlays::draw(frame, app, area);
}

fn draw_tabs(frame: &mut Frame, app: &App, area: Rect) {
    let mut spans = vec![Span::styled(" njtui ", theme::title())];
    for (i, v) in View::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, v.title());
        spans.push(if *v == app.view {
            Span::styled(
                label,
                theme::selected().add_modifier(ratatui::style::Modifier::BOLD),
            )
        } else {
            Span::raw(label)
        });
    }
    let firing = app
        .topology
        .as_ref()
        .map(|t| t.alarms_firing().count())
        .unwrap_or(0);
    let mut right = Vec::new();
    if firing > 0 {
        right.push(Span::styled(
            format!(" ▲ {firing} ALARM "),
            theme::bad().add_modifier(ratatui::style::Modifier::REVERSED),
        ));
    }
    if let Some(a) = &app.action
        && a.is_running()
    {
        right.push(Span::styled(" ● action running (p) ", theme::accent()));
    }
    let right_width: u16 = right.iter().map(|s| s.width() as u16).sum();
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Min(1), Constraint::Length(right_width)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(spans)), left_area);
    frame.render_widget(Paragraph::new(Line::from(right)), right_area);
}

/// A rounded block with a title, the frame every panel uses.
pub fn panel(title: impl Into<String>) -> Block<'static> {
    Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme::dim())
        .title(Span::styled(format!(" {} ", title.into()), theme::title()))
}

/// What a panel shows before its first data, or when it has none.
pub fn placeholder(frame: &mut Frame, area: Rect, app: &App, what: &str) {
    let text = match &app.status.last_error {
        Some(e) => Line::styled(format!("cannot load {what}: {e}"), theme::bad()),
        None => Line::styled(format!("loading {what}…"), theme::dim()),
    };
    frame.render_widget(Paragraph::new(text), area);
}

/// Keeps the selected row visible: the first row to draw for a list of `len`
/// rows in `height` lines.
pub fn scroll_offset(selected: usize, len: usize, height: usize) -> usize {
    if height == 0 || len <= height {
        return 0;
    }
    let half = height / 2;
    selected.saturating_sub(half).min(len - height)
}

/// Truncates to `width` display columns, marking the cut with an ellipsis.
pub fn truncate(s: &str, width: usize) -> String {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(c);
    }
    if width > 0 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrolling_keeps_the_selection_in_view() {
        assert_eq!(scroll_offset(0, 100, 10), 0);
        assert_eq!(scroll_offset(50, 100, 10), 45);
        assert_eq!(scroll_offset(99, 100, 10), 90);
        assert_eq!(scroll_offset(5, 8, 10), 0);
    }

    #[test]
    fn truncation_counts_display_width() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(truncate("日本語テキスト", 5), "日本…");
    }
}
