//! The confirmation: exactly what will change, and in production the
//! environment's name to type.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

use crate::ops::Confirm;
use crate::ui::app::App;
use crate::ui::theme;

use super::ConfirmState;

pub fn draw(frame: &mut Frame, app: &App, c: &ConfirmState, area: Rect) {
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{} in ", c.prepared.op.name()), theme::bold()),
            Span::styled(
                format!(" {} ", app.env),
                theme::env_badge(app.production, app.env == "demo"),
            ),
        ]),
        Line::raw(""),
        Line::styled(
            c.prepared.change.clone(),
            theme::warn().add_modifier(ratatui::style::Modifier::BOLD),
        ),
    ];
    for d in &c.prepared.details {
        lines.push(Line::styled(format!("  {d}"), theme::dim()));
    }
    lines.push(Line::raw(""));
    let cursor_line;
    match &c.confirm {
        Confirm::YesNo => {
            lines.push(Line::from(vec![
                Span::styled("y", theme::key()),
                Span::raw("/Enter proceed   "),
                Span::styled("n", theme::key()),
                Span::raw("/Esc cancel"),
            ]));
            cursor_line = None;
        }
        Confirm::TypeName(env) => {
            lines.push(Line::from(vec![
                Span::raw("This is production. Type "),
                Span::styled(
                    env.clone(),
                    theme::bad().add_modifier(ratatui::style::Modifier::BOLD),
                ),
                Span::raw(" to confirm, Esc to cancel:"),
            ]));
            cursor_line = Some(lines.len());
            lines.push(Line::from(vec![
                Span::styled("› ", theme::key()),
                Span::raw(c.typed.text().to_string()),
            ]));
        }
    }
    if let Some(e) = &c.error {
        lines.push(Line::styled(e.clone(), theme::bad()));
    }
    let rect = super::centered(area, 72, lines.len() as u16 + 4);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::bordered()
                .border_type(BorderType::Double)
                .border_style(if app.production {
                    theme::bad()
                } else {
                    theme::warn()
                })
                .title(" Confirm "),
        ),
        rect,
    );
    if let Some(l) = cursor_line {
        frame.set_cursor_position(Position::new(
            rect.x + 3 + c.typed.cursor() as u16,
            rect.y + 1 + l as u16,
        ));
    }
}
