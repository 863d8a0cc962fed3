//! 1 Topology: the environment as tiers, what is happening now, and every
//! instance of the Auto Scaling groups (selectable: scale, start, stop).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use crate::domain::{
    ActivityStatus, AlarmState, BucketPurpose, DeploymentStatus, Health, InstanceState, Topology,
    age,
};
use crate::ui::app::{App, TopoRow};
use crate::ui::theme;

use super::{panel, placeholder, truncate};

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(t) = &app.topology else {
        let block = panel("Topology");
        let inner = block.inner(area);
        frame.render_widget(block, area);
        placeholder(frame, inner, app, "the topology");
        return;
    };
    let now_lines = happening_now(app, t);
    let group_rows = app.topo_rows().len() as u16;
    let [now_area, upper, groups_area, alarms_area, lower] = Layout::vertical([
        Constraint::Length(now_lines.len() as u16 + 2),
        Constraint::Length(7),
        Constraint::Max(group_rows + 2),
        Constraint::Min(3),
        Constraint::Length(6),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(now_lines).block(panel("Now")), now_area);

    let [edge_area, db_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(upper);
    draw_edge(frame, t, edge_area);
    draw_database(frame, app, t, db_area);
    draw_groups(frame, app, t, groups_area);
    draw_alarms(frame, app, t, alarms_area);
    let [storage, delivery, backup] = Layout::horizontal([
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
    ])
    .areas(lower);
    draw_storage(frame, t, storage);
    draw_delivery(frame, app, t, delivery);
    draw_backup(frame, app, t, backup);
}

/// Deployments in progress, scaling activities, alarms in ALARM: or all quiet.
fn happening_now(app: &App, t: &Topology) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let now = app.now.unwrap_or_else(chrono::Utc::now);
    let release = app.releases.iter().flatten().find(|r| r.is_active());
    if let Some(r) = release {
        lines.push(Line::from(vec![
            Span::styled(
                format!("● {} ", r.phase.as_str().replace('_', " ")),
                theme::deployment(DeploymentStatus::InProgress),
            ),
            Span::raw(format!("{} of {}: {}", r.id, r.revision, r.pipeline(now))),
        ]));
    } else if let Some(d) = t
        .delivery
        .as_ref()
        .and_then(|d| d.active_deployment.as_ref())
    {
        lines.push(Line::from(vec![
            Span::styled(
                "● deploying ",
                theme::deployment(DeploymentStatus::InProgress),
            ),
            Span::raw(format!("{d} in progress")),
        ]));
    }
    for g in &t.groups {
        for a in g
            .activities
            .iter()
            .filter(|a| a.status == ActivityStatus::InProgress)
        {
            lines.push(Line::from(vec![
                Span::styled(format!("↕ {} ", g.tier), theme::warn()),
                Span::raw(format!("{} ({}%)", a.description, a.progress)),
            ]));
        }
    }
    for a in t.alarms_firing() {
        lines.push(Line::from(vec![
            Span::styled(
                format!("▲ ALARM {} ", a.name),
                theme::alarm(AlarmState::Alarm),
            ),
            Span::styled(a.reason.clone(), theme::dim()),
        ]));
    }
    if lines.is_empty() {
        lines.push(Line::styled(
            format!(
                "✔ all quiet: no deployment running, no scaling, {} alarms OK",
                t.alarms.len()
            ),
            theme::ok(),
        ));
    }
    lines.truncate(4);
    lines
}

fn draw_edge(frame: &mut Frame, t: &Topology, area: Rect) {
    let mut lines = Vec::new();
    match &t.load_balancer {
        Some(lb) => {
            lines.push(Line::from(vec![
                Span::styled("ALB ", theme::bold()),
                Span::raw(format!("{}  ", lb.name)),
                Span::styled(
                    lb.state.clone(),
                    if lb.state == "active" {
                        theme::ok()
                    } else {
                        theme::warn()
                    },
                ),
            ]));
            lines.push(Line::styled(lb.dns_name.clone(), theme::dim()));
            lines.push(Line::from(vec![
                Span::raw("targets "),
                Span::styled(format!("{} healthy", lb.healthy), theme::ok()),
                Span::raw(" · "),
                Span::styled(
                    format!("{} unhealthy", lb.unhealthy),
                    if lb.unhealthy > 0 {
                        theme::bad()
                    } else {
                        theme::dim()
                    },
                ),
            ]));
        }
        None => lines.push(Line::styled("no load balancer found", theme::warn())),
    }
    if let Some(n) = &t.network {
        let public = n.subnets.iter().filter(|s| s.public).count();
        let mut azs: Vec<&str> = n.subnets.iter().map(|s| s.az.as_str()).collect();
        azs.sort();
        azs.dedup();
        lines.push(Line::styled(
            format!(
                "VPC {} {} · {} public + {} private subnets · {} AZs",
                n.vpc_id,
                n.cidr,
                public,
                n.subnets.len() - public,
                azs.len()
            ),
            theme::dim(),
        ));
    }
    frame.render_widget(Paragraph::new(lines).block(panel("Edge")), area);
}

fn draw_database(frame: &mut Frame, app: &App, t: &Topology, area: Rect) {
    let mut lines = Vec::new();
    match &t.database {
        Some(db) => {
            lines.push(Line::from(vec![
                Span::styled(db.id.clone(), theme::bold()),
                Span::raw("  "),
                Span::styled(db.status.clone(), theme::db_status(&db.status)),
                Span::raw(format!("  {} {}", db.engine, db.engine_version)),
            ]));
            lines.push(Line::styled(
                format!(
                    "{} · {} · {} GiB",
                    db.class,
                    if db.multi_az { "Multi-AZ" } else { "single-AZ" },
                    db.allocated_gb
                ),
                theme::dim(),
            ));
            if let (Some(lr), Some(now)) = (db.latest_restorable, app.now) {
                lines.push(Line::styled(
                    format!(
                        "restorable to {} ({} ago)",
                        lr.format("%H:%M:%S"),
                        age(now, lr)
                    ),
                    theme::dim(),
                ));
            }
        }
        None => lines.push(Line::styled("no database found", theme::warn())),
    }
    for other in &t.other_databases {
        lines.push(Line::from(vec![
            Span::raw("also "),
            Span::raw(other.id.clone()),
            Span::raw(" "),
            Span::styled(other.status.clone(), theme::db_status(&other.status)),
        ]));
    }
    frame.render_widget(Paragraph::new(lines).block(panel("Database")), area);
}

fn draw_groups(frame: &mut Frame, app: &App, t: &Topology, area: Rect) {
    let rows_model = app.topo_rows();
    let mut rows = Vec::with_capacity(rows_model.len());
    for row in &rows_model {
        match row {
            TopoRow::Group(tier) => {
                let Some(g) = t.group(*tier) else { continue };
                let live = g
                    .instances
                    .iter()
                    .filter(|i| i.state != InstanceState::Terminated)
                    .count();
                let healthy = g
                    .instances
                    .iter()
                    .filter(|i| i.state == InstanceState::InService && i.health == Health::Healthy)
                    .count();
                let c = g.capacity;
                let health_style = if healthy as u32 >= c.desired {
                    theme::ok()
                } else {
                    theme::warn()
                };
                let mut cells = vec![
                    Cell::from(Span::styled(format!("{}", g.tier), theme::title())),
                    Cell::from(g.name.clone()),
                    Cell::from(Span::styled(
                        format!("{healthy}/{live} healthy"),
                        health_style,
                    )),
                    Cell::from(format!(
                        "desired {} · min {} · max {}",
                        c.desired, c.min, c.max
                    )),
                ];
                let note = match (g.stopped, g.activities.first()) {
                    (Some(s), _) => format!("stopped (start restores {})", s.desired),
                    (None, Some(a)) if a.status == ActivityStatus::InProgress => {
                        a.description.clone()
                    }
                    _ => String::new(),
                };
                cells.push(Cell::from(Span::styled(note, theme::warn())));
                cells.push(Cell::from(""));
                cells.push(Cell::from(""));
                rows.push(Row::new(cells));
            }
            TopoRow::Instance(tier, id) => {
                let Some(i) = t
                    .group(*tier)
                    .and_then(|g| g.instances.iter().find(|i| &i.id == id))
                else {
                    continue;
                };
                rows.push(Row::new(vec![
                    Cell::from(format!("  {}", i.id)),
                    Cell::from(Span::styled(
                        i.state.as_str(),
                        theme::instance_state(i.state),
                    )),
                    Cell::from(Span::styled(i.health.as_str(), theme::health(i.health))),
                    Cell::from(format!("{} · {}", i.az, i.instance_type)),
                    Cell::from(i.revision.clone().unwrap_or_default()),
                    Cell::from(match (i.launched, app.now) {
                        (Some(l), Some(now)) => format!("up {}", age(now, l)),
                        _ => String::new(),
                    }),
                    Cell::from(""),
                ]));
            }
        }
    }
    let title = if app.topo.filter.is_active() {
        format!("Auto Scaling groups · /{}", app.topo.filter.text())
    } else {
        "Auto Scaling groups".to_string()
    };
    let table = Table::new(
        rows,
        [
            Constraint::Length(22),
            Constraint::Length(24),
            Constraint::Length(14),
            Constraint::Length(30),
            Constraint::Min(20),
            Constraint::Length(10),
            Constraint::Length(0),
        ],
    )
    .block(panel(title).title_bottom(Span::styled(
        " s scale · +/- step · U start · X stop · / filter ",
        theme::dim(),
    )))
    .row_highlight_style(theme::selected());
    let mut state = TableState::default().with_selected(Some(app.topo.selected));
    frame.render_stateful_widget(table, area, &mut state);
}

/// Every alarm of the environment, firing ones first: what is watched, at what
/// threshold, and since when it is in its state.
fn draw_alarms(frame: &mut Frame, app: &App, t: &Topology, area: Rect) {
    let mut alarms: Vec<_> = t.alarms.iter().collect();
    alarms.sort_by_key(|a| {
        (
            a.state != AlarmState::Alarm,
            a.state != AlarmState::InsufficientData,
            a.name.clone(),
        )
    });
    let rows: Vec<Row> = alarms
        .iter()
        .map(|a| {
            let threshold = match (a.metric, a.threshold) {
                (Some(m), Some(v)) => format!(
                    "{} {} {}",
                    m.label(),
                    if m.alarms_when_low() { "<" } else { "≥" },
                    m.unit().format(v)
                ),
                (None, Some(v)) => format!("threshold {v}"),
                _ => String::new(),
            };
            let state = match a.state {
                AlarmState::Ok => "OK",
                AlarmState::Alarm => "ALARM",
                AlarmState::InsufficientData => "NO DATA",
            };
            Row::new(vec![
                Cell::from(Span::styled(state, theme::alarm(a.state))),
                Cell::from(a.name.clone()),
                Cell::from(threshold),
                Cell::from(
                    app.now
                        .map(|n| format!("{} ago", age(n, a.updated)))
                        .unwrap_or_default(),
                ),
                Cell::from(Span::styled(a.reason.clone(), theme::dim())),
            ])
        })
        .collect();
    let firing = alarms
        .iter()
        .filter(|a| a.state == AlarmState::Alarm)
        .count();
    let title = if firing > 0 {
        format!("Alarms · {firing} firing")
    } else {
        format!("Alarms · {} OK", alarms.len())
    };
    let table = Table::new(
        rows,
        [
            Constraint::Length(8),
            Constraint::Length(34),
            Constraint::Length(26),
            Constraint::Length(9),
            Constraint::Min(10),
        ],
    )
    .block(panel(title));
    frame.render_widget(table, area);
}

fn draw_storage(frame: &mut Frame, t: &Topology, area: Rect) {
    let mut lines = Vec::new();
    for p in [
        BucketPurpose::Artifacts,
        BucketPurpose::Backups,
        BucketPurpose::AlbLogs,
    ] {
        let name = t
            .buckets
            .iter()
            .find(|b| b.purpose == Some(p))
            .map(|b| b.name.clone());
        lines.push(Line::from(vec![
            Span::styled(format!("{:<10}", p.as_str()), theme::bold()),
            match name {
                Some(n) => Span::raw(truncate(&n, area.width.saturating_sub(14) as usize)),
                None => Span::styled("missing", theme::warn()),
            },
        ]));
    }
    frame.render_widget(Paragraph::new(lines).block(panel("Storage")), area);
}

fn draw_delivery(frame: &mut Frame, app: &App, t: &Topology, area: Rect) {
    let lines = match &t.delivery {
        Some(d) => {
            let last = app.releases.as_ref().and_then(|rs| rs.first());
            let groups = match &d.canary_group {
                Some(c) => format!("{} + {c}", d.group),
                None => d.group.clone(),
            };
            vec![
                Line::from(vec![
                    Span::styled("CodeDeploy ", theme::bold()),
                    Span::raw(format!("{} / {groups}", d.application)),
                ]),
                Line::from(vec![
                    Span::raw("running "),
                    Span::styled(
                        d.current_revision.clone().unwrap_or_else(|| "-".into()),
                        theme::accent(),
                    ),
                ]),
                match (last, &d.active_deployment) {
                    (Some(l), _) if l.is_active() => Line::styled(
                        format!(
                            "{} {}: {}",
                            l.phase.as_str().replace('_', " "),
                            l.id,
                            l.stage.as_str().replace('_', " ")
                        ),
                        theme::deployment(DeploymentStatus::InProgress),
                    ),
                    (_, Some(a)) => Line::styled(
                        format!("deploying: {a}"),
                        theme::deployment(DeploymentStatus::InProgress),
                    ),
                    (Some(l), None) => Line::from(vec![
                        Span::raw("last "),
                        Span::styled(
                            l.phase.as_str().replace('_', " "),
                            theme::deployment(l.status),
                        ),
                        Span::raw(format!(" {}", l.id)),
                    ]),
                    (None, None) => Line::styled("no deployment running", theme::dim()),
                },
            ]
        }
        None => vec![Line::styled("no CodeDeploy group found", theme::warn())],
    };
    frame.render_widget(Paragraph::new(lines).block(panel("Delivery")), area);
}

fn draw_backup(frame: &mut Frame, app: &App, t: &Topology, area: Rect) {
    let mut lines = Vec::new();
    match &t.backup_vault {
        Some(v) => lines.push(Line::from(vec![
            Span::styled("vault ", theme::bold()),
            Span::raw(format!(
                "{}{}",
                v.name,
                v.recovery_points
                    .map(|n| format!(" · {n} points"))
                    .unwrap_or_default()
            )),
        ])),
        None => lines.push(Line::styled("no backup vault found", theme::warn())),
    }
    if let Some(plan) = t.backup_vault.as_ref().and_then(|v| v.plan.clone()) {
        lines.push(Line::styled(format!("plan {plan}"), theme::dim()));
    }
    if let (Some(o), Some(now)) = (&app.backups, app.now) {
        lines.push(match o.newest_available() {
            Some(b) if !o.is_stale(now) => Line::styled(
                format!("✔ newest backup {} ago", age(now, b.created)),
                theme::ok(),
            ),
            Some(b) => Line::styled(
                format!("⚠ newest backup {} ago (over 24h)", age(now, b.created)),
                theme::bad(),
            ),
            None => Line::styled("⚠ no completed backup", theme::bad()),
        });
    }
    frame.render_widget(Paragraph::new(lines).block(panel("Backup")), area);
}
