//! 2 Metrics: a sparkline per series and a large chart of the selected one, with
//! its current, min and max and the alarm threshold drawn across it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph, Sparkline};

use crate::domain::{MetricKind, MetricSeries, MetricsSnapshot};
use crate::ui::app::App;
use crate::ui::theme;

use super::{panel, placeholder};

const TILE_COLUMNS: usize = 2;

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let range = app.metrics_state.range;
    let title = format!(
        "Metrics · last {} · {} · {}-min periods",
        range.as_str(),
        if range.is_live() { "live" } else { "history" },
        range.period_secs() / 60
    );
    let block = panel(title).title_bottom(Span::styled(
        " ←↑↓→ select · [ ] range (1h 6h 24h 7d) · Enter back to live ",
        theme::dim(),
    ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(snapshot) = app.metrics.as_ref().filter(|m| m.range == range) else {
        placeholder(
            frame,
            inner,
            app,
            &format!("metrics for the last {}", range.as_str()),
        );
        return;
    };
    let rows = MetricKind::ALL.len().div_ceil(TILE_COLUMNS);
    let tile_height = 3u16;
    let tiles_height = (rows as u16 * tile_height).min(inner.height / 2);
    let [tiles_area, chart_area] =
        Layout::vertical([Constraint::Length(tiles_height), Constraint::Min(5)]).areas(inner);
    draw_tiles(frame, app, snapshot, tiles_area, rows);
    draw_chart(frame, app, snapshot, chart_area);
}

fn draw_tiles(frame: &mut Frame, app: &App, snapshot: &MetricsSnapshot, area: Rect, rows: usize) {
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, rows as u32); rows]).split(area);
    for (r, row_area) in row_areas.iter().enumerate() {
        let cols = Layout::horizontal(vec![
            Constraint::Ratio(1, TILE_COLUMNS as u32);
            TILE_COLUMNS
        ])
        .split(*row_area);
        for (c, tile) in cols.iter().enumerate() {
            let index = r * TILE_COLUMNS + c;
            let Some(kind) = MetricKind::ALL.get(index) else {
                continue;
            };
            draw_tile(
                frame,
                snapshot.series(*kind),
                *kind,
                index == app.metrics_state.selected,
                *tile,
            );
        }
    }
}

fn draw_tile(
    frame: &mut Frame,
    series: Option<&MetricSeries>,
    kind: MetricKind,
    selected: bool,
    area: Rect,
) {
    let [label_area, spark_area] =
        Layout::horizontal([Constraint::Length(28), Constraint::Min(4)]).areas(area);
    let unit = kind.unit();
    let current = series.and_then(MetricSeries::current);
    let over = series
        .and_then(|s| s.threshold.zip(s.current()))
        .is_some_and(|(t, c)| kind.breaches(c, t));
    let label_style = if selected {
        theme::selected()
    } else {
        theme::bold()
    };
    let value_style = if over { theme::bad() } else { theme::accent() };
    let lines = vec![
        Line::from(vec![
            Span::styled(
                format!("{}{:<16}", if selected { "› " } else { "  " }, kind.label()),
                label_style,
            ),
            Span::styled(
                format!(
                    "{:>9}",
                    current
                        .map(|v| unit.format(v))
                        .unwrap_or_else(|| "-".into())
                ),
                value_style,
            ),
        ]),
        Line::styled(
            series
                .and_then(|s| s.min().zip(s.max()))
                .map(|(lo, hi)| format!("  {} … {}", unit.format(lo), unit.format(hi)))
                .unwrap_or_default(),
            theme::dim(),
        ),
    ];
    frame.render_widget(Paragraph::new(lines), label_area);
    let data = sparkline_data(series, spark_area.width as usize);
    frame.render_widget(
        Sparkline::default().data(&data).style(if over {
            theme::bad()
        } else if selected {
            theme::accent()
        } else {
            theme::dim()
        }),
        Rect {
            height: spark_area.height.saturating_sub(1).max(1),
            ..spark_area
        },
    );
}

/// The newest `width` points, scaled to integers relative to the series' floor,
/// so a series that moves a little around a large value still shows its shape.
fn sparkline_data(series: Option<&MetricSeries>, width: usize) -> Vec<u64> {
    let Some(s) = series else { return vec![] };
    let points = &s.points[s.points.len().saturating_sub(width)..];
    let (lo, hi) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.v), hi.max(p.v))
    });
    let floor = if lo > 0.0 && (hi - lo) < lo * 0.5 {
        lo - (hi - lo) * 0.2
    } else {
        0.0
    };
    let span = (hi - floor).max(f64::EPSILON);
    points
        .iter()
        .map(|p| (((p.v - floor) / span) * 100.0).round().max(0.0) as u64 + 1)
        .collect()
}

fn draw_chart(frame: &mut Frame, app: &App, snapshot: &MetricsSnapshot, area: Rect) {
    let kind = app.selected_metric();
    let Some(series) = snapshot.series(kind) else {
        frame.render_widget(Paragraph::new(Line::styled("no data", theme::dim())), area);
        return;
    };
    let unit = kind.unit();
    let start = snapshot.end - snapshot.range.duration();
    let x = |t: crate::domain::Timestamp| (t - start).num_seconds() as f64;
    let data: Vec<(f64, f64)> = series.points.iter().map(|p| (x(p.t), p.v)).collect();
    let span = snapshot.range.duration().num_seconds() as f64;
    let (lo, hi) = (series.min().unwrap_or(0.0), series.max().unwrap_or(1.0));
    let top = hi.max(series.threshold.unwrap_or(hi)) * 1.1;
    let bottom = if lo >= 0.0 && lo > (top - lo) * 2.0 {
        lo * 0.9
    } else {
        0.0_f64.min(lo)
    };
    let threshold: Vec<(f64, f64)> = series
        .threshold
        .map(|t| vec![(0.0, t), (span, t)])
        .unwrap_or_default();

    let mut datasets = vec![
        Dataset::default()
            .name(kind.label())
            .marker(symbols::Marker::Braille)
            .graph_type(GraphType::Line)
            .style(theme::accent())
            .data(&data),
    ];
    if !threshold.is_empty() {
        datasets.push(
            Dataset::default()
                .name(format!(
                    "alarm {}",
                    unit.format(series.threshold.unwrap_or_default())
                ))
                .marker(symbols::Marker::Braille)
                .graph_type(GraphType::Line)
                .style(theme::bad())
                .data(&threshold),
        );
    }
    let fmt_time = |t: crate::domain::Timestamp| {
        if snapshot.range.duration() > chrono::Duration::hours(24) {
            t.format("%a %H:%M").to_string()
        } else {
            t.format("%H:%M").to_string()
        }
    };
    let mid = start + snapshot.range.duration() / 2;
    let title = Line::from(vec![
        Span::styled(format!(" {} ", kind.label()), theme::title()),
        Span::raw(format!(
            "current {} · min {} · max {}",
            series
                .current()
                .map(|v| unit.format(v))
                .unwrap_or_else(|| "-".into()),
            unit.format(lo),
            unit.format(hi),
        )),
        Span::styled(
            series
                .threshold
                .map(|t| format!(" · alarm at {} ", unit.format(t)))
                .unwrap_or_else(|| " ".into()),
            theme::bad(),
        ),
    ]);
    let chart = Chart::new(datasets)
        .block(
            ratatui::widgets::Block::bordered()
                .border_type(ratatui::widgets::BorderType::Rounded)
                .border_style(theme::dim())
                .title(title),
        )
        .x_axis(
            Axis::default()
                .bounds([0.0, span])
                .labels([fmt_time(start), fmt_time(mid), fmt_time(snapshot.end)])
                .style(theme::dim()),
        )
        .y_axis(
            Axis::default()
                .bounds([bottom, top.max(bottom + f64::EPSILON)])
                .labels([
                    unit.format(bottom),
                    unit.format((bottom + top) / 2.0),
                    unit.format(top),
                ])
                .style(theme::dim()),
        )
        .legend_position(Some(ratatui::widgets::LegendPosition::TopLeft))
        .style(Style::new());
    frame.render_widget(chart, area);
}
