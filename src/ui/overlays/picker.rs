//! A list to choose from (revision to deploy, fault to inject, database), with
//! type-to-filter.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, List, ListItem, ListState, Paragraph};

use crate::ui::theme;

use super::PickerState;

pub fn draw(frame: &mut Frame, p: &PickerState, area: Rect) {
    let visible = p.visible();
    let width = p
        .items
        .iter()
        .map(|i| i.label.chars().count() as u16 + 6)
        .max()
        .unwrap_or(30)
        .clamp(40, 100);
    let rect = super::centered(area, width, (visible.len() as u16 + 4).clamp(6, 20));
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(format!(" {} ", p.title))
        .title_bottom(" ↑↓ choose · Enter review · Esc close · type to filter ");
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [filter_area, list_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("filter: ", theme::dim()),
            Span::raw(p.filter.text().to_string()),
        ])),
        filter_area,
    );
    let items: Vec<ListItem> = visible
        .iter()
        .map(|i| ListItem::new(i.label.clone()))
        .collect();
    let empty = items.is_empty();
    let mut state = ListState::default().with_selected((!empty).then_some(p.selected));
    frame.render_stateful_widget(
        List::new(items)
            .highlight_style(theme::selected())
            .highlight_symbol("› "),
        list_area,
        &mut state,
    );
    if empty {
        frame.render_widget(
            Paragraph::new(Line::styled("nothing matches", theme::dim())),
            list_area,
        );
    }
}
