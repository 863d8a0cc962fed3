//! Background reads, one task per resource, so a slow call only delays its own
//! panel. Each task polls at a pace set by the backend (the simulator is local;
//! AWS is billed and rate-limited) and only while its view needs it; a refresh
//! request or a change of what is wanted wakes it early.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};
use tokio::time::{Instant, sleep_until};

use crate::backend::Backend;
use crate::domain::{BackendKind, LogQuery, TimeRange};

use super::app::{Update, View};

/// Releases the deployments view lists.
pub const RELEASES: usize = 20;

/// What the screen needs right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wants {
    pub view: View,
    pub range: TimeRange,
    pub deployment: Option<String>,
}

/// Poll periods per backend kind.
struct Pace {
    topology: Duration,
    deployments: Duration,
    targets: Duration,
    backups: Duration,
    live_metrics: Duration,
    history_metrics: Duration,
}

fn pace(kind: BackendKind) -> Pace {
    match kind {
        BackendKind::Sim => Pace {
            topology: Duration::from_secs(1),
            deployments: Duration::from_secs(1),
            targets: Duration::from_secs(1),
            backups: Duration::from_secs(2),
            live_metrics: Duration::from_secs(2),
            history_metrics: Duration::from_secs(30),
        },
        // GetMetricData is billed per metric and CloudWatch keeps 1-minute data:
        // polling it faster than once a minute buys nothing.
        BackendKind::Aws => Pace {
            topology: Duration::from_secs(10),
            deployments: Duration::from_secs(10),
            targets: Duration::from_secs(5),
            backups: Duration::from_secs(30),
            live_metrics: Duration::from_secs(60),
            history_metrics: Duration::from_secs(300),
        },
    }
}

/// Starts every poller; they end when the update channel closes.
pub fn spawn(
    backend: Arc<dyn Backend>,
    tx: mpsc::UnboundedSender<Update>,
    wants: watch::Receiver<Wants>,
    refresh: Arc<Notify>,
) {
    let p = pace(backend.kind());

    // Identity: once, retried until it answers.
    {
        let (backend, tx) = (backend.clone(), tx.clone());
        tokio::spawn(async move {
            let mut delay = Duration::from_secs(2);
            loop {
                let r = backend.identity().await;
                let ok = r.is_ok();
                if tx.send(Update::Identity(r)).is_err() || ok {
                    return;
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(60));
            }
        });
    }

    // The topology feeds the status of every view: always polled.
    poller(
        &backend,
        &tx,
        &wants,
        &refresh,
        move |_| Some(((), p.topology)),
        |b, _| async move {
            let now = b.now();
            vec![Update::Now(now), Update::Topology(b.topology().await)]
        },
    );

    // Releases: for the deployments view, and for the topology's "now" panel.
    poller(
        &backend,
        &tx,
        &wants,
        &refresh,
        move |w| {
            matches!(w.view, View::Deployments | View::Topology).then_some(((), p.deployments))
        },
        |b, _| async move { vec![Update::Releases(b.releases(RELEASES).await)] },
    );

    poller(
        &backend,
        &tx,
        &wants,
        &refresh,
        move |w| {
            (w.view == View::Deployments)
                .then(|| w.deployment.clone())
                .flatten()
                .map(|id| (id, p.targets))
        },
        |b, id: String| async move {
            let r = b.deployment_targets(&id).await;
            vec![Update::Targets(id, r)]
        },
    );

    poller(
        &backend,
        &tx,
        &wants,
        &refresh,
        move |w| matches!(w.view, View::Backups | View::Topology).then_some(((), p.backups)),
        |b, _| async move { vec![Update::Backups(b.backups().await)] },
    );

    poller(
        &backend,
        &tx,
        &wants,
        &refresh,
        move |w| {
            (w.view == View::Metrics).then(|| {
                let period = if w.range.is_live() {
                    p.live_metrics
                } else {
                    p.history_metrics
                };
                (w.range, period)
            })
        },
        |b, range: TimeRange| async move {
            let r = b.metrics(range).await;
            vec![Update::Metrics(range, r)]
        },
    );

    tokio::spawn(follow_logs(backend, tx, wants));
}

/// One resource's polling loop. `key` says whether the resource is wanted now
/// (and with which parameters) and how often; a change of key refetches at once.
fn poller<K, F, Fut>(
    backend: &Arc<dyn Backend>,
    tx: &mpsc::UnboundedSender<Update>,
    wants: &watch::Receiver<Wants>,
    refresh: &Arc<Notify>,
    key: impl Fn(&Wants) -> Option<(K, Duration)> + Send + 'static,
    fetch: F,
) where
    K: Clone + PartialEq + Send + Sync + 'static,
    F: Fn(Arc<dyn Backend>, K) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Vec<Update>> + Send,
{
    let (backend, tx, mut wants, refresh) =
        (backend.clone(), tx.clone(), wants.clone(), refresh.clone());
    tokio::spawn(async move {
        loop {
            let current = key(&wants.borrow_and_update());
            let deadline = match &current {
                Some((k, period)) => {
                    for update in fetch(backend.clone(), k.clone()).await {
                        if tx.send(update).is_err() {
                            return;
                        }
                    }
                    Some(Instant::now() + *period)
                }
                None => None,
            };
            // Wait for the period to pass, a refresh, or a change of what is wanted.
            loop {
                let sleep = async {
                    match deadline {
                        Some(d) => sleep_until(d).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = sleep => break,
                    _ = refresh.notified() => break,
                    changed = wants.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        let next = key(&wants.borrow_and_update()).map(|(k, _)| k);
                        if next != current.as_ref().map(|(k, _)| k.clone()) {
                            break;
                        }
                    }
                }
            }
        }
    });
}

/// While the logs view is shown: the recent history, then a live follow. The
/// follow is dropped when the view is hidden (on AWS that ends the billed live
/// tail); coming back fetches what was missed in between.
async fn follow_logs(
    backend: Arc<dyn Backend>,
    tx: mpsc::UnboundedSender<Update>,
    mut wants: watch::Receiver<Wants>,
) {
    let mut newest = None;
    let mut backoff = Duration::from_secs(1);
    loop {
        while wants.borrow_and_update().view != View::Logs {
            if wants.changed().await.is_err() {
                return;
            }
        }
        let since = newest.unwrap_or_else(|| backend.now() - chrono::Duration::minutes(15));
        let history = backend
            .logs(&LogQuery {
                since: Some(since),
                limit: Some(2000),
                ..LogQuery::default()
            })
            .await;
        match history {
            Ok(events) => {
                newest = events.iter().map(|e| e.timestamp).max().or(newest);
                if tx.send(Update::Logs(events)).is_err() {
                    return;
                }
            }
            Err(e) => {
                if tx.send(Update::LogsError(e)).is_err() {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
        }
        let mut follower = match backend.follow_logs(&[]).await {
            Ok(f) => f,
            Err(e) => {
                if tx.send(Update::LogsError(e)).is_err() {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        backoff = Duration::from_secs(1);
        let mut mode = follower.mode();
        if tx.send(Update::LogMode(mode)).is_err() {
            return;
        }
        loop {
            tokio::select! {
                batch = follower.next_batch() => {
                    let sent = match batch {
                        Ok(events) if events.is_empty() => Ok(()),
                        Ok(events) => {
                            newest = events.iter().map(|e| e.timestamp).max().or(newest);
                            tx.send(Update::Logs(events))
                        }
                        Err(e) => {
                            let wait = if e.is_transient() { Duration::from_secs(2) } else { Duration::from_secs(5) };
                            let r = tx.send(Update::LogsError(e));
                            tokio::time::sleep(wait).await;
                            r
                        }
                    };
                    if sent.is_err() {
                        return;
                    }
                    if follower.mode() != mode {
                        mode = follower.mode();
                        if tx.send(Update::LogMode(mode)).is_err() {
                            return;
                        }
                    }
                }
                changed = wants.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    if wants.borrow().view != View::Logs {
                        break;
                    }
                }
            }
        }
    }
}

/// Every poller's result once, as they arrive after start-up: what the console
/// holds after its first refresh, with the last `log_window` of logs (at most
/// `log_limit` events). For snapshot tests and benchmarks, which need a loaded
/// screen without the pollers' timing.
pub async fn first_round(
    backend: &dyn Backend,
    log_window: chrono::Duration,
    log_limit: usize,
) -> Vec<Update> {
    let now = backend.now();
    let releases = backend.releases(RELEASES).await;
    let newest = releases
        .as_ref()
        .ok()
        .and_then(|r| r.first())
        .and_then(|r| r.focus_deployment())
        .map(str::to_string);
    let mut updates = vec![
        Update::Now(now),
        Update::Identity(backend.identity().await),
        Update::Topology(backend.topology().await),
        Update::Releases(releases),
        Update::Backups(backend.backups().await),
        Update::Metrics(
            TimeRange::LastHour,
            backend.metrics(TimeRange::LastHour).await,
        ),
    ];
    let logs = backend
        .logs(&LogQuery {
            since: Some(now - log_window),
            limit: Some(log_limit),
            ..LogQuery::default()
        })
        .await;
    updates.push(match logs {
        Ok(events) => Update::Logs(events),
        Err(e) => Update::LogsError(e),
    });
    if let Some(id) = newest {
        let targets = backend.deployment_targets(&id).await;
        updates.push(Update::Targets(id, targets));
    }
    updates
}
