//! The action's progress: live lines (scaling, deployment lifecycle, snapshot
//! percentage, terraform output) and, once ended, the outcome until dismissed.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Clear, Gauge, Paragraph};

use crate::ui::app::App;
use crate::ui::theme;

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(a) = &app.action else {
        return;
    };
    let rect = super::centered(
        area,
        area.width.saturating_sub(8).min(120),
        area.height.saturating_sub(6).min(30),
    );
    frame.render_widget(Clear, rect);
    let (state, style) = match (&a.outcome, a.preparing) {
        (Some(Ok(_)), _) => ("done", theme::ok()),
        (Some(Err(_)), _) => ("failed", theme::bad()),
        (None, true) => ("checking", theme::accent()),
        (None, false) => ("running", theme::accent()),
    };
    let hint = if a.is_running() {
        if a.apply || a.title.starts_with("provision") {
            " Esc hide (keeps running) · x interrupt "
        } else {
            " Esc hide (keeps running) "
        }
    } else {
        " Enter/Esc dismiss "
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(style)
        .title(format!(" {} · {state} ", a.title))
        .title_bottom(hint);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [gauge_area, lines_area, outcome_area] = Layout::vertical([
        Constraint::Length(if a.percent.is_some() { 1 } else { 0 }),
        Constraint::Min(1),
        Constraint::Length(if a.outcome.is_some() { 1 } else { 0 }),
    ])
    .areas(inner);
    if let Some(p) = a.percent {
        frame.render_widget(
            Gauge::default()
                .gauge_style(style)
                .percent(u16::from(p.min(100))),
            gauge_area,
        );
    }
    let height = lines_area.height as usize;
    let lines: Vec<Line> = a
        .lines
        .iter()
        .skip(a.lines.len().saturating_sub(height))
        .map(|l| Line::raw(l.clone()))
        .collect();
    frame.render_widget(Paragraph::new(lines), lines_area);
    match &a.outcome {
        Some(Ok(m)) => frame.render_widget(
            Paragraph::new(Line::styled(format!("✔ {m}"), theme::ok())),
            outcome_area,
        ),
        Some(Err(m)) => frame.render_widget(
            Paragraph::new(Line::styled(format!("✘ {m}"), theme::bad())),
            outcome_area,
        ),
        None => {}
    }
}
