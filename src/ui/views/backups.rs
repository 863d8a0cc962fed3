//! 5 Backups: snapshots and recovery points with age, size and status; the newest
//! restorable time; how old the newest backup is, flagged past 24 hours.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use crate::domain::{BackupStatus, age};
use crate::ui::app::App;
use crate::ui::theme;

use super::{panel, placeholder};

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(o) = &app.backups else {
        let block = panel("Backups");
        let inner = block.inner(area);
        frame.render_widget(block, area);
        placeholder(frame, inner, app, "backups");
        return;
    };
    let now = app.now.unwrap_or_else(chrono::Utc::now);
    let mut summary = vec![match o.newest_available() {
        Some(b) if !o.is_stale(now) => Line::from(vec![
            Span::styled("✔ newest backup ", theme::ok()),
            Span::raw(format!(
                "{} ago · {} ({})",
                age(now, b.created),
                b.id,
                b.kind.as_str()
            )),
        ]),
        Some(b) => Line::from(vec![
            Span::styled(
                "⚠ NEWEST BACKUP IS OVER 24h OLD: ",
                theme::bad().add_modifier(ratatui::style::Modifier::BOLD),
            ),
            Span::raw(format!("{} ago · {}", age(now, b.created), b.id)),
        ]),
        None => Line::styled("⚠ no completed backup", theme::bad()),
    }];
    summary.push(match o.latest_restorable {
        Some(t) => Line::raw(format!(
            "point-in-time restore possible up to {} ({} ago)",
            t.format("%Y-%m-%d %H:%M:%S UTC"),
            age(now, t)
        )),
        None => Line::styled(
            "point-in-time restore: no restorable time reported",
            theme::warn(),
        ),
    });
    for r in &o.restores {
        summary.push(Line::from(vec![
            Span::raw("restored copy "),
            Span::styled(r.id.clone(), theme::bold()),
            Span::raw(" "),
            Span::styled(r.status.clone(), theme::db_status(&r.status)),
            Span::styled(
                if r.is_available() {
                    "  (a: point the app at it)"
                } else {
                    ""
                },
                theme::dim(),
            ),
        ]));
    }
    let [summary_area, table_area] = Layout::vertical([
        Constraint::Length(summary.len() as u16 + 2),
        Constraint::Min(3),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(summary).block(panel("Backups")),
        summary_area,
    );

    let visible = app.visible_backups();
    let rows: Vec<Row> = visible
        .iter()
        .map(|b| {
            let status = match (b.status, b.progress) {
                (BackupStatus::Creating, Some(p)) => format!("creating {p}%"),
                (s, _) => s.as_str().to_string(),
            };
            Row::new(vec![
                Cell::from(b.id.clone()),
                Cell::from(b.kind.as_str()),
                Cell::from(b.resource.clone()),
                Cell::from(b.created.format("%Y-%m-%d %H:%M").to_string()),
                Cell::from(age(now, b.created)),
                Cell::from(
                    b.size_gb
                        .map(|s| format!("{s:.0} GiB"))
                        .unwrap_or_else(|| "-".into()),
                ),
                Cell::from(Span::styled(status, theme::backup(b.status))),
                Cell::from(
                    b.expires
                        .map(|e| format!("in {}", age(e, now)))
                        .unwrap_or_default(),
                ),
            ])
        })
        .collect();
    let title = if app.backups_state.filter.is_active() {
        format!(
            "Snapshots and recovery points · /{}",
            app.backups_state.filter.text()
        )
    } else {
        "Snapshots and recovery points".to_string()
    };
    let header = Row::new([
        "ID", "KIND", "RESOURCE", "CREATED", "AGE", "SIZE", "STATUS", "EXPIRES",
    ])
    .style(theme::header());
    let table = Table::new(
        rows,
        [
            Constraint::Min(30),
            Constraint::Length(15),
            Constraint::Length(18),
            Constraint::Length(17),
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Length(13),
            Constraint::Length(8),
        ],
    )
    .header(header)
    .block(panel(title).title_bottom(Span::styled(
        " b snapshot now · B backup job · r restore · a point app · x cancel · / filter ",
        theme::dim(),
    )))
    .row_highlight_style(theme::selected());
    let mut state = TableState::default()
        .with_selected((!visible.is_empty()).then_some(app.backups_state.selected));
    frame.render_stateful_widget(table, table_area, &mut state);
}
