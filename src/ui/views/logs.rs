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
    let message = if app.logs.raw {
        None
    } else {
        compact_json(&e.message)
    };
    spans.push(Span::styled(
        message.unwrap_or_else(|| e.message.trim_end().to_string()),
        theme::severity(e.severity),
    ));
    Line::from(spans)
}

/// A JSON log line (the app's format) shortened for reading: an access line
/// becomes `GET /notes/ 200 12.5ms`, anything else its message; the other
/// fields follow as `key=value`, nested ones flattened. Time and level are
/// already in their own columns. `None` for lines that are not a JSON object.
pub fn compact_json(message: &str) -> Option<String> {
    use serde_json::Value;
    use std::fmt::Write;
    let trimmed = message.trim();
    if !trimmed.starts_with('{') {
        return None;
    }
    let Value::Object(obj) = serde_json::from_str::<Value>(trimmed).ok()? else {
        return None;
    };
    let text = |k: &str| obj.get(k).and_then(Value::as_str);
    let mut out = String::new();
    let mut shown: Vec<&str> = vec!["timestamp", "time", "ts", "level", "severity", "target"];
    if let (Some(method), Some(path)) = (text("method"), text("path")) {
        let _ = write!(out, "{method} {path}");
        if let Some(status) = obj.get("status") {
            let _ = write!(out, " {status}");
        }
        if let Some(ms) = obj.get("latency_ms").and_then(Value::as_f64) {
            let _ = write!(out, " {ms:.1}ms");
        }
        shown.extend(["method", "path", "status", "latency_ms", "message", "msg"]);
    } else if let Some(m) = text("message").or_else(|| text("msg")) {
        out.push_str(m);
        shown.extend(["message", "msg"]);
    }
    let mut push = |key: &str, v: &Value| match v {
        Value::String(s) => {
            let _ = write!(out, " {key}={s}");
        }
        Value::Null => {}
        other => {
            let _ = write!(out, " {key}={other}");
        }
    };
    for (k, v) in &obj {
        if shown.contains(&k.as_str()) {
            continue;
        }
        match v {
            Value::Object(inner) => {
                for (k2, v2) in inner {
                    if !v2.is_object() && k2 != "name" {
                        push(k2, v2);
                    }
                }
            }
            other => push(k, other),
        }
    }
    Some(out.trim_start().to_string())
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(theme::dim())
        .title(title(app))
        .title_bottom(Span::styled(
            " f pause/follow · G newest · s source · e severity · / filter · w wrap · t time · r raw ",
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

#[cfg(test)]
mod tests {
    use super::compact_json;

    #[test]
    fn json_lines_read_like_access_logs() {
        let line = r#"{"timestamp":"2026-11-26T07:15:05Z","level":"INFO","message":"request","method":"GET","path":"/pads/2/","status":200,"latency_ms":48.44,"span":{"name":"request","request_id":"abc"}}"#;
        assert_eq!(
            compact_json(line).unwrap(),
            "GET /pads/2/ 200 48.4ms request_id=abc"
        );
        assert_eq!(
            compact_json(r#"{"level":"WARN","message":"slow query","ms":812}"#).unwrap(),
            "slow query ms=812"
        );
        assert_eq!(compact_json("plain text"), None);
        assert_eq!(compact_json("{broken"), None);
        assert_eq!(compact_json("[1,2]"), None);
    }
}
