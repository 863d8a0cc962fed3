//! `?`: the bindings of the current view and the global ones, generated from the
//! active keymap, so what it says is what the keys do.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use crate::ui::app::App;
use crate::ui::keymap::{Action, Binding, Mode};
use crate::ui::theme;

/// Lines of one section: an action's keys joined, in the order first bound.
fn section_lines(title: &str, bindings: &[&Binding], read_only: bool) -> Vec<Line<'static>> {
    let mut order: Vec<(Action, String, Vec<String>)> = Vec::new();
    for b in bindings {
        match order
            .iter_mut()
            .find(|(a, d, _)| *a == b.action && *d == b.desc)
        {
            Some((_, _, keys)) => keys.push(b.keys_label()),
            None => order.push((b.action, b.desc.clone(), vec![b.keys_label()])),
        }
    }
    let mut lines = vec![Line::from(Span::styled(title.to_string(), theme::title()))];
    for (action, desc, keys) in order {
        let keys = keys.join(", ");
        let mut spans = vec![
            Span::styled(format!("  {keys:<18} "), theme::key()),
            Span::raw(desc),
        ];
        if read_only && action.is_mutating() {
            spans.push(Span::styled("  (read-only: refused)", theme::dim()));
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::raw(""));
    lines
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect, scroll: u16) {
    let mode = app.view.mode();
    let own: Vec<&Binding> = app.keymap.section(mode).iter().collect();
    let global: Vec<&Binding> = app
        .keymap
        .effective(Mode::Global)
        .into_iter()
        .filter(|g| !own.iter().any(|o| o.keys == g.keys))
        .collect();
    let mut lines = Vec::new();
    if !own.is_empty() {
        lines.extend(section_lines(app.view.title(), &own, app.read_only));
    }
    lines.extend(section_lines("Everywhere", &global, app.read_only));
    lines.push(Line::from(vec![
        Span::styled("  :", theme::key()),
        Span::raw(" then a command (Tab completes), e.g."),
    ]));
    lines.push(Line::from(vec![
        Span::raw("    "),
        Span::styled("scale web 4", theme::accent()),
        Span::raw(", "),
        Span::styled("logs --source app", theme::accent()),
        Span::raw(", "),
        Span::styled("range 24h", theme::accent()),
    ]));
    let height = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    let rect = super::centered(area, 78, height);
    let max_scroll = (lines.len() as u16 + 2).saturating_sub(rect.height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((scroll.min(max_scroll), 0))
            .block(
                Block::bordered()
                    .border_type(BorderType::Rounded)
                    .title(format!(" Keys ({} keymap) ", app.keymap.name))
                    .title_bottom(" Esc close · ↑↓ scroll "),
            ),
        rect,
    );
}
