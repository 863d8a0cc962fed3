//! The one-line prompts: the `/` filter and the scale prompt.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};

use crate::ui::text_input::TextInput;
use crate::ui::theme;

use super::ScaleInput;

/// The filter line sits at the bottom, above the status bar, like k9s's.
pub fn draw_filter(frame: &mut Frame, input: &TextInput, area: Rect) {
    let rect = Rect {
        x: area.x,
        y: area.bottom().saturating_sub(2),
        width: area.width,
        height: 1,
    };
    frame.render_widget(Clear, rect);
    let line = Line::from(vec![
        Span::styled("/", theme::key()),
        Span::raw(input.text().to_string()),
        Span::styled(
            "   Enter keep · Esc clear · !x inverts · regex",
            theme::dim(),
        ),
    ]);
    frame.render_widget(Paragraph::new(line), rect);
    frame.set_cursor_position(Position::new(rect.x + 1 + input.cursor() as u16, rect.y));
}

pub fn draw_scale(frame: &mut Frame, s: &ScaleInput, area: Rect) {
    let rect = super::centered(area, 52, 7);
    frame.render_widget(Clear, rect);
    let c = s.capacity;
    let mut lines = vec![
        Line::from(format!(
            "{}: desired now {}, min {}, max {}",
            s.tier, c.desired, c.min, c.max
        )),
        Line::from(vec![
            Span::styled("new desired: ", theme::bold()),
            Span::raw(s.input.text().to_string()),
        ]),
    ];
    match &s.error {
        Some(e) => lines.push(Line::styled(e.clone(), theme::bad())),
        None => lines.push(Line::styled(
            "↑/↓ or +/- to step, Enter to review",
            theme::dim(),
        )),
    }
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .title(format!(" Scale {} ", s.tier)),
        ),
        rect,
    );
    frame.set_cursor_position(Position::new(
        rect.x + 1 + "new desired: ".len() as u16 + s.input.cursor() as u16,
        rect.y + 2,
    ));
}
