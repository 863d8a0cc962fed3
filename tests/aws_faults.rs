//! Outages: the emulator stops mid-session and comes back on the same port; an
//! endpoint that accepts connections and never answers. The same backend reports
//! `Unreachable` quickly, never hangs, and recovers without being rebuilt.

mod support;

use std::time::{Duration, Instant};

use njtui::aws::FollowTiming;
use njtui::aws::retry::OPERATION_TIMEOUT;
use njtui::backend::{Backend, BackendError};
use njtui::domain::{LogQuery, LogSource, Tier, TimeRange};
use support::moto::MotoServer;
use support::seed::{self, EnvSpec};

const REGION: &str = "ca-central-1";

fn assert_offline<T: std::fmt::Debug>(r: Result<T, BackendError>, what: &str) {
    match r {
        Err(e @ BackendError::Unreachable { .. }) => assert!(e.is_offline() && e.is_transient()),
        other => panic!("{what}: expected Unreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn an_outage_is_reported_quickly_and_recovered_from() {
    let mut moto = MotoServer::start();
    let endpoint = moto.endpoint();
    let cfg = seed::sdk_config(&endpoint, REGION).await;
    seed::seed_env(&cfg, &EnvSpec::small("prod", 10)).await;
    let b = seed::backend(&endpoint, REGION, "prod")
        .await
        .with_follow_timing(FollowTiming {
            poll_interval: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        });
    assert_eq!(
        b.topology()
            .await
            .unwrap()
            .group(Tier::Web)
            .unwrap()
            .instances
            .len(),
        2
    );
    let mut follow = b.follow_logs(&[LogSource::App]).await.unwrap();
    follow.next_batch().await.unwrap();

    moto.stop();
    let started = Instant::now();
    assert_offline(b.topology().await, "topology");
    assert_offline(b.identity().await, "identity");
    assert_offline(b.metrics(TimeRange::LastHour).await, "metrics");
    assert_offline(b.logs(&LogQuery::default()).await, "logs");
    assert_offline(b.backups().await, "backups");
    assert_offline(follow.next_batch().await, "follow");
    // A refused connection is not worth the full timeout: every read above,
    // retries included, fits well inside one operation timeout.
    assert!(
        started.elapsed() < OPERATION_TIMEOUT,
        "took {:?}",
        started.elapsed()
    );

    // Back on the same port (empty, as a restarted emulator is): the same
    // backend answers again.
    moto.restart();
    let t = b.topology().await.unwrap();
    assert!(t.groups.is_empty() && t.network.is_none());
    seed::seed_env(
        &seed::sdk_config(&endpoint, REGION).await,
        &EnvSpec::small("prod", 10),
    )
    .await;
    let t = b.topology().await.unwrap();
    assert_eq!(t.group(Tier::Web).unwrap().instances.len(), 2);
    assert!(b.identity().await.is_ok());
    // The follower resumes too.
    assert!(follow.next_batch().await.is_ok());
}

#[tokio::test]
async fn an_endpoint_that_never_answers_times_out_instead_of_hanging() {
    // Accepts connections and reads forever, never answering.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let b = seed::backend(&endpoint, REGION, "prod").await;
    let started = Instant::now();
    assert_offline(b.identity().await, "identity");
    let took = started.elapsed();
    assert!(
        took < OPERATION_TIMEOUT + Duration::from_secs(5),
        "took {took:?}"
    );
}
