//! 4 Deployments: the history, and the selected deployment's walk through the
//! CodeDeploy lifecycle on each instance.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use crate::domain::{
    Deployment, DeploymentCreator, LIFECYCLE_EVENTS, StepStatus, age, duration_label,
};
use crate::ui::app::App;
use crate::ui::theme;

use super::{panel, placeholder};

fn who(d: &Deployment) -> String {
    d.initiated_by.clone().unwrap_or_else(|| {
        match d.creator {
            DeploymentCreator::User => "user",
            DeploymentCreator::Autoscaling => "autoscaling",
            DeploymentCreator::Rollback => "auto-rollback",
            DeploymentCreator::Other => "other",
        }
        .to_string()
    })
}

/// Column headings for CodeDeploy's hooks, unambiguous and short.
fn short_hook(name: &str) -> &str {
    match name {
        "BeforeBlockTraffic" => "BBlk",
        "BlockTraffic" => "Blk",
        "AfterBlockTraffic" => "ABlk",
        "ApplicationStop" => "Stop",
        "DownloadBundle" => "Get",
        "BeforeInstall" => "BInst",
        "Install" => "Inst",
        "AfterInstall" => "AInst",
        "ApplicationStart" => "Start",
        "ValidateService" => "Valid",
        "BeforeAllowTraffic" => "BAllow",
        "AllowTraffic" => "Allow",
        "AfterAllowTraffic" => "AAllow",
        other => other,
    }
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let [list_area, detail_area] =
        Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(area);
    let title = if app.deploys.filter.is_active() {
        format!("Deployments · /{}", app.deploys.filter.text())
    } else {
        "Deployments".to_string()
    };
    let block = panel(title).title_bottom(Span::styled(
        " ↑↓ select · d deploy · R rollback · x stop · / filter ",
        theme::dim(),
    ));
    if app.deployments.is_none() {
        let inner = block.inner(list_area);
        frame.render_widget(block, list_area);
        placeholder(frame, inner, app, "deployments");
        return;
    }
    let now = app.now.unwrap_or_else(chrono::Utc::now);
    let visible = app.visible_deployments();
    let rows: Vec<Row> = visible
        .iter()
        .map(|d| {
            let mut note = Vec::new();
            if let Some(of) = &d.rollback_of {
                note.push(format!("rollback of {of}"));
            }
            if let Some(by) = &d.rolled_back_by {
                note.push(format!("rolled back by {by}"));
            }
            if let Some(e) = &d.error {
                note.push(e.clone());
            }
            Row::new(vec![
                Cell::from(d.id.clone()),
                Cell::from(Span::styled(d.status.as_str(), theme::deployment(d.status))),
                Cell::from(d.revision.clone()),
                Cell::from(super::truncate(&who(d), 22)),
                Cell::from(format!(
                    "{} ({} ago)",
                    d.created.format("%m-%d %H:%M"),
                    age(now, d.created)
                )),
                Cell::from(duration_label(d.duration(now))),
                Cell::from(Span::styled(
                    note.join("; "),
                    if d.error.is_some() {
                        theme::bad()
                    } else {
                        theme::dim()
                    },
                )),
            ])
        })
        .collect();
    let header = Row::new([
        "ID", "STATUS", "REVISION", "BY", "CREATED", "DURATION", "NOTE",
    ])
    .style(theme::header());
    let table = Table::new(
        rows,
        [
            Constraint::Length(14),
            Constraint::Length(12),
            Constraint::Length(24),
            Constraint::Length(22),
            Constraint::Length(22),
            Constraint::Length(9),
            Constraint::Min(10),
        ],
    )
    .header(header)
    .block(block)
    .row_highlight_style(theme::selected());
    let mut state =
        TableState::default().with_selected((!visible.is_empty()).then_some(app.deploys.selected));
    frame.render_stateful_widget(table, list_area, &mut state);
    draw_lifecycle(frame, app, detail_area);
}

fn draw_lifecycle(frame: &mut Frame, app: &App, area: Rect) {
    let Some(d) = app.selected_deployment() else {
        frame.render_widget(
            Paragraph::new("no deployment selected").block(panel("Lifecycle")),
            area,
        );
        return;
    };
    let block = panel(format!("Lifecycle of {} · {}", d.id, d.revision));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let targets = match &app.targets {
        Some((id, t)) if id == &d.id => t,
        _ => {
            frame.render_widget(
                Paragraph::new(Line::styled("loading instances…", theme::dim())),
                inner,
            );
            return;
        }
    };
    if targets.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no instance in this deployment", theme::dim())),
            inner,
        );
        return;
    }
    // One column per lifecycle hook, abbreviated: the grid shows where each
    // instance is at a glance; the detail line says what went wrong.
    let abbrev = |name: &str| -> String { short_hook(name).to_string() };
    let mut header = vec![Cell::from("INSTANCE"), Cell::from("STATUS")];
    header.extend(LIFECYCLE_EVENTS.iter().map(|e| Cell::from(abbrev(e))));
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for t in targets {
        let mut cells = vec![
            Cell::from(t.instance_id.clone()),
            Cell::from(Span::styled(t.status.as_str(), theme::step(t.status))),
        ];
        for name in LIFECYCLE_EVENTS {
            let status = t
                .events
                .iter()
                .find(|e| e.name == name)
                .map_or(StepStatus::Skipped, |e| e.status);
            cells.push(Cell::from(Span::styled(
                theme::step_symbol(status),
                theme::step(status),
            )));
        }
        rows.push(Row::new(cells));
        for e in t.events.iter().filter(|e| e.status == StepStatus::Failed) {
            problems.push(format!(
                "{} {}: {}",
                t.instance_id,
                e.name,
                e.diagnostic.as_deref().unwrap_or("failed")
            ));
        }
    }
    let mut widths = vec![Constraint::Length(21), Constraint::Length(12)];
    widths.extend(
        LIFECYCLE_EVENTS
            .iter()
            .map(|e| Constraint::Length(abbrev(e).len().max(2) as u16)),
    );
    let problem_lines = problems.len().min(3) as u16 + u16::from(d.error.is_some());
    let [grid_area, legend_area, problems_area] = Layout::vertical([
        Constraint::Min(2),
        Constraint::Length(1),
        Constraint::Length(problem_lines),
    ])
    .areas(inner);
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(theme::header()))
            .column_spacing(1),
        grid_area,
    );
    frame.render_widget(
        Paragraph::new(Line::styled(
            "✔ done  ● running  · pending  ✘ failed  – skipped    Blk/Allow: load balancer traffic · Get: bundle download · Valid: ValidateService (/readyz)",
            theme::dim(),
        )),
        legend_area,
    );
    let mut lines: Vec<Line> = Vec::new();
    if let Some(e) = &d.error {
        lines.push(Line::styled(format!("why: {e}"), theme::bad()));
    }
    lines.extend(
        problems
            .into_iter()
            .take(3)
            .map(|p| Line::styled(p, theme::bad())),
    );
    frame.render_widget(Paragraph::new(lines), problems_area);
}
