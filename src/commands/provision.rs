//! `njtui provision`: plan, show the summary, confirm, apply; output streamed.

use tokio::sync::mpsc;

use crate::ops::Operation;

use super::actions::confirm;
use super::{CliError, Context};

pub async fn run(ctx: &Context, plan_only: bool) -> Result<(), CliError> {
    let summary = with_output(|sink| ctx.runner.plan(sink)).await?;
    if plan_only {
        eprintln!("plan: {summary}");
        return Ok(());
    }
    if summary.is_empty() {
        eprintln!("No changes: the infrastructure matches the configuration.");
        return Ok(());
    }
    let mut prepared = ctx.runner.prepare(Operation::Provision).await?;
    prepared.change = format!("apply to {}: {summary}", ctx.backend.env());
    confirm(ctx, &prepared).await?;
    let applied = with_output(|sink| ctx.runner.apply(&prepared, sink)).await?;
    eprintln!("applied: {applied}");
    Ok(())
}

/// Runs `f` with a sink whose lines are printed to stderr as they arrive.
async fn with_output<F, Fut, T>(f: F) -> Result<T, CliError>
where
    F: FnOnce(mpsc::UnboundedSender<String>) -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::ops::OpsError>>,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let printer = tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            eprintln!("{line}");
        }
    });
    let result = f(tx).await;
    let _ = printer.await;
    Ok(result?)
}
