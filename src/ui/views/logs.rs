//! 3 Logs: every log group of the environment merged by time, following live;
//! pause and scroll, filter by text, source and severity, jump to the newest.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Wrap};

use crate::domain::{FollowMode, LogEvent, LogSource};
use crate::ui::app::App;
use crate::ui::theme;

fn source_style(s: LogSource) -> Style {
    match s {
        LogSource::App => theme::accent(),
        LogSource::System => Style::new().fg(Color::Magenta),
        LogSource::CodeDeploy => Style::new().fg(Color::Blue),
        LogSource::Audit => theme::warn(),
        LogSource::Database => Style::new().fg(Color::LightGreen),
    }
}

fn title(app: &App) -> Line<'static> {
    let logs = &app.logs;
    let buffer = &logs.buffer;
    let filters = buffer.filters();
    let state = match logs.paused_at {
        None => Span::styled("● following", theme::ok()),
        Some(_) => Span::styled("❚❚ paused", theme::warn()),
    };
    let mode = match logs.mode {
        Some(FollowMode::LiveTail) => "live tail".to_string(),
        Some(FollowMode::Polling {
            interval_secs,
            throttled,
        }) => format!(
            "polling every {interval_secs}s{}",
            if throttled { ", THROTTLED" } else { "" }
        ),
        Some(FollowMode::Simulated) => "simulated".to_string(),
        None => "connecting".to_string(),
    };
    Line::from(vec![
        Span::styled(" Logs ", theme::title()),
        state,
        Span::styled(format!(" ({mode}) · "), theme::dim()),
        Span::raw(format!(
            "source {} · severity {} · filter {}",
            filters.source.map_or("all", LogSource::as_str),
            filters
                .min_severity
                .map_or("any".to_string(), |s| format!("{}+", s.as_str())),
            if filters.text.is_active() {
                filters.text.text()
            } else {
                "none"
            }
        )),
        Span::styled(
            format!(
                " · {} shown of {} held (max {}) ",
                buffer.visible_len(),
                buffer.len(),
                buffer.capacity()
            ),
            theme::dim(),
        ),
    ])
}

fn line_for(app: &App, e: &LogEvent) -> Line<'static> {
    let mut spans = Vec::with_capacity(5);
    if app.logs.timestamps {
        spans.push(Span::styled(
            e.timestamp.format("%m-%d %H:%M:%S%.3f ").to_string(),
            theme::dim(),
        ));
    }
    spans.push(Span::styled(
        format!("{:<10} ", e.source.as_str()),
        source_style(e.source),
    ));
    spans.push(Span::styled(
        format!("{:<19} ", super::truncate(&e.stream, 19)),
        theme::dim(),
    ));
    spans.push(Span::styled(
        e.message.trim_end().to_string(),
        theme::severity(e.severity),
    ));
    Line::from(spans)
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme::dim())
        .title(title(app))
        .title_bottom(Span::styled(
            " f pause/follow · G newest · s source · e severity · / filter · w wrap · t time ",
            theme::dim(),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let buffer = &app.logs.buffer;
    let height = inner.height as usize;
    if buffer.visible_len() == 0 {
        let text = match (&app.logs.error, buffer.is_empty()) {
            (Some(e), _) => Line::styled(format!("cannot read logs: {e}"), theme::bad()),
            (None, true) => Line::styled("waiting for log events…", theme::dim()),
            (None, false) => Line::styled(
                "no event matches the filters (Esc clears the text filter)",
                theme::dim(),
            ),
        };
        frame.render_widget(Paragraph::new(text), inner);
        return;
    }
    // The bottom line is the newest event (following) or the paused anchor;
    // only the events that fit are formatted.
    let bottom = match app.logs.paused_at {
        None => buffer.visible_len() - 1,
        Some(seq) => buffer.visible_index_of(seq).unwrap_or(0),
    };
    let first = (bottom + 1).saturating_sub(height);
    let lines: Vec<Line> = (first..=bottom)
        .filter_map(|i| buffer.visible(i))
        .map(|e| line_for(app, e))
        .collect();
    // Wrapped lines take more rows: scroll so the newest stays at the bottom.
    let wrapped_rows: Option<usize> = (app.logs.wrap && inner.width > 0).then(|| {
        lines
            .iter()
            .map(|l| l.width().max(1).div_ceil(inner.width as usize))
            .sum()
    });
    let mut paragraph = Paragraph::new(lines);
    if let Some(rows) = wrapped_rows {
        paragraph = paragraph
            .wrap(Wrap { trim: false })
            .scroll((rows.saturating_sub(height) as u16, 0));
    }
    frame.render_widget(paragraph, inner);
}
