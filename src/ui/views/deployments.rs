//! 4 Deployments: the releases (canary → bake → fleet → bake), the selected
//! release's stages with a bake's clock and alarms, and its deployment's walk
//! through the CodeDeploy lifecycle on each instance.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use crate::domain::{
    AlarmState, DeploymentCreator, LIFECYCLE_EVENTS, Release, StageInfo, StageStatus, StepStatus,
    Timestamp, WATCHED_ALARMS, age, clock_label, duration_label,
};
use crate::ui::app::App;
use crate::ui::theme;

use super::{panel, placeholder};

fn who(r: &Release) -> String {
    r.initiated_by.clone().unwrap_or_else(|| {
        match r.creator {
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

fn words(s: &str) -> String {
    s.replace('_', " ")
}

/// `canary ✓ → bake 4:12 left (alarms OK) → fleet 2/4 → bake`, each stage in
/// its status's colour, the running one underlined.
pub fn pipeline_spans(r: &Release, now: Timestamp) -> Line<'static> {
    let mut spans = Vec::new();
    for (k, s) in r.stages.iter().enumerate() {
        if k > 0 {
            spans.push(Span::styled(" → ", theme::dim()));
        }
        spans.push(Span::styled(s.label(now), theme::stage(s.status)));
    }
    Line::from(spans)
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
    if app.releases.is_none() {
        let inner = block.inner(list_area);
        frame.render_widget(block, list_area);
        placeholder(frame, inner, app, "deployments");
        return;
    }
    let now = app.now.unwrap_or_else(chrono::Utc::now);
    let visible = app.visible_releases();
    let rows: Vec<Row> = visible
        .iter()
        .map(|r| {
            Row::new(vec![
                Cell::from(r.id.clone()),
                Cell::from(Span::styled(words(r.phase.as_str()), theme::phase(r.phase))),
                Cell::from(r.revision.clone()),
                Cell::from(pipeline_spans(r, now)),
                Cell::from(super::truncate(&who(r), 16)),
                Cell::from(format!(
                    "{} ({})",
                    r.created.format("%m-%d %H:%M"),
                    age(now, r.created)
                )),
                Cell::from(duration_label(r.completed.unwrap_or(now) - r.created)),
            ])
        })
        .collect();
    let header = Row::new([
        "ID", "PHASE", "REVISION", "PIPELINE", "BY", "CREATED", "DURATION",
    ])
    .style(theme::header());
    let table = Table::new(
        rows,
        [
            Constraint::Length(12),
            Constraint::Length(12),
            Constraint::Length(20),
            Constraint::Min(40),
            Constraint::Length(16),
            Constraint::Length(17),
            Constraint::Length(8),
        ],
    )
    .header(header)
    .block(block)
    .row_highlight_style(theme::selected());
    let mut state =
        TableState::default().with_selected((!visible.is_empty()).then_some(app.deploys.selected));
    frame.render_stateful_widget(table, list_area, &mut state);
    let Some(r) = app.selected_release() else {
        frame.render_widget(
            Paragraph::new("no deployment selected").block(panel("Release")),
            detail_area,
        );
        return;
    };
    let extra = draw_release_lines(r).len() as u16;
    let [release_area, lifecycle_area] =
        Layout::vertical([Constraint::Length(7 + extra), Constraint::Min(4)]).areas(detail_area);
    draw_release(frame, r, now, release_area);
    draw_lifecycle(frame, app, r, lifecycle_area);
}

/// A stage's detail: a bake's clock and each alarm, a deployment's instances.
fn stage_detail(s: &StageInfo, now: Timestamp) -> Line<'static> {
    match (&s.bake, s.instances) {
        (Some(b), _) if s.status == StageStatus::InProgress => {
            let mut spans = vec![Span::raw(format!(
                "{} left of {} ·",
                clock_label(b.remaining_at(now).unwrap_or(0)),
                clock_label(b.duration_secs)
            ))];
            if b.alarms.is_empty() {
                spans.push(Span::styled(" no watched alarm found", theme::warn()));
            }
            for a in &b.alarms {
                spans.push(Span::raw(format!(" {} ", a.short_name())));
                spans.push(Span::styled(
                    match a.state {
                        AlarmState::Ok => "OK",
                        AlarmState::Alarm => "ALARM",
                        AlarmState::InsufficientData => "no data",
                    },
                    theme::alarm(a.state),
                ));
            }
            Line::from(spans)
        }
        (Some(b), _) if !b.alarms.is_empty() => {
            Line::styled(format!("fired: {}", b.alarms_label()), theme::bad())
        }
        (Some(b), _) if s.status == StageStatus::Succeeded => Line::styled(
            format!("{} without an alarm", clock_label(b.duration_secs)),
            theme::dim(),
        ),
        (Some(b), _) if s.status == StageStatus::Pending => Line::styled(
            format!(
                "{} watching {}",
                clock_label(b.duration_secs),
                WATCHED_ALARMS.join(" and ")
            ),
            theme::dim(),
        ),
        (None, Some(c)) => {
            let total = c.pending + c.in_progress + c.succeeded + c.failed + c.skipped;
            let mut text = format!("{}/{total} instances done", c.succeeded + c.skipped);
            if c.failed > 0 {
                text.push_str(&format!(", {} failed", c.failed));
            }
            Line::raw(text)
        }
        _ => Line::raw(""),
    }
}

/// Lines under the stages: rollbacks, what it rolled back, why it failed.
fn draw_release_lines(r: &Release) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for rb in &r.rollbacks {
        lines.push(Line::from(vec![
            Span::styled("↩ rollback ", theme::warn()),
            Span::raw(format!("{} in {}: ", rb.deployment, rb.group)),
            Span::styled(rb.status.as_str(), theme::deployment(rb.status)),
            Span::styled(" (alarm monitoring off)", theme::dim()),
        ]));
    }
    if let Some(of) = &r.rollback_of {
        lines.push(Line::styled(format!("rollback of {of}"), theme::dim()));
    }
    if let Some(e) = &r.error {
        lines.push(Line::styled(format!("why: {e}"), theme::bad()));
    }
    lines
}

fn draw_release(frame: &mut Frame, r: &Release, now: Timestamp, area: Rect) {
    let block = panel(format!(
        "Release {} · {} · {}",
        r.id,
        r.revision,
        words(r.phase.as_str())
    ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let time =
        |t: Option<Timestamp>| t.map_or("-".to_string(), |t| t.format("%H:%M:%S").to_string());
    let rows: Vec<Row> = r
        .stages
        .iter()
        .map(|s| {
            let style = theme::stage(s.status);
            Row::new(vec![
                Cell::from(Span::styled(words(s.stage.as_str()), style)),
                Cell::from(Span::styled(words(s.status.as_str()), style)),
                Cell::from(s.group.clone()),
                Cell::from(s.deployment.clone().unwrap_or_else(|| "-".into())),
                Cell::from(time(s.started)),
                Cell::from(time(s.ended)),
                Cell::from(stage_detail(s, now)),
            ])
        })
        .collect();
    let lines = draw_release_lines(r);
    let [table_area, lines_area] =
        Layout::vertical([Constraint::Length(5), Constraint::Min(0)]).areas(inner);
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(12),
                Constraint::Length(12),
                Constraint::Length(14),
                Constraint::Length(12),
                Constraint::Length(9),
                Constraint::Length(9),
                Constraint::Min(20),
            ],
        )
        .header(
            Row::new([
                "STAGE",
                "STATUS",
                "GROUP",
                "DEPLOYMENT",
                "STARTED",
                "ENDED",
                "DETAIL",
            ])
            .style(theme::header()),
        ),
        table_area,
    );
    frame.render_widget(Paragraph::new(lines), lines_area);
}

fn draw_lifecycle(frame: &mut Frame, app: &App, r: &Release, area: Rect) {
    let Some(id) = r.focus_deployment() else {
        frame.render_widget(
            Paragraph::new(Line::styled("no deployment created yet", theme::dim()))
                .block(panel("Lifecycle")),
            area,
        );
        return;
    };
    let group = r
        .stages
        .iter()
        .find(|s| s.deployment.as_deref() == Some(id))
        .map(|s| s.group.clone())
        .or_else(|| {
            r.rollbacks
                .iter()
                .find(|x| x.deployment == id)
                .map(|x| x.group.clone())
        })
        .unwrap_or_default();
    let block = panel(format!("Lifecycle of {id} · {group}"));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let targets = match &app.targets {
        Some((tid, t)) if tid == id => t,
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
    let problem_lines = problems.len().min(3) as u16;
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
    let lines: Vec<Line> = problems
        .into_iter()
        .take(3)
        .map(|p| Line::styled(p, theme::bad()))
        .collect();
    frame.render_widget(Paragraph::new(lines), problems_area);
}
