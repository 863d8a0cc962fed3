//! `njtui metrics`: every series' current, min and max over a range.

use crate::domain::TimeRange;

use super::output::{Table, or_dash, print_json};
use super::{CliError, Context};

pub async fn run(ctx: &Context, range: TimeRange, json: bool) -> Result<(), CliError> {
    let snapshot = ctx.backend.metrics(range).await?;
    if json {
        return print_json(&snapshot);
    }
    let mut t = Table::new(["METRIC", "CURRENT", "MIN", "MAX", "ALARM AT", "POINTS"]);
    for s in &snapshot.series {
        let f = |v: Option<f64>| or_dash(v.map(|v| s.unit.format(v)));
        t.row([
            s.metric.label().to_string(),
            f(s.current()),
            f(s.min()),
            f(s.max()),
            f(s.threshold),
            s.points.len().to_string(),
        ]);
    }
    t.print()
}
