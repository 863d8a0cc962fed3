//! Scenario tests of the whole simulator, through the `Backend` trait where a
//! user of it would go.

mod backups;
mod bad_input;
mod deployments;
mod determinism;
mod follower;
mod persistence;
mod provisioning;
mod scaling;
mod traffic;

use chrono::{DateTime, Utc};

use super::{SimBackend, SimOptions};
use crate::backend::Backend;
use crate::domain::{Capacity, LogQuery, ScalingGroup, Tier, TimeRange};

/// A Tuesday, early afternoon: traffic near its daily peak.
pub const AFTERNOON: &str = "2026-03-10T14:00:00Z";
/// The same Tuesday in the quiet of the night.
pub const NIGHT: &str = "2026-03-10T03:30:00Z";

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// An in-memory world with a frozen clock.
pub fn sim(seed: u64, start: &str) -> SimBackend {
    SimBackend::open(SimOptions {
        state_file: None,
        seed: Some(seed),
        speed: Some(0.0),
        reset: false,
        start: Some(at(start)),
    })
    .unwrap()
}

pub fn minutes(n: i64) -> chrono::Duration {
    chrono::Duration::minutes(n)
}

pub async fn web(s: &SimBackend) -> ScalingGroup {
    s.topology()
        .await
        .unwrap()
        .group(Tier::Web)
        .unwrap()
        .clone()
}

/// One more web instance, with the minimum raised too, so target tracking
/// cannot scale in again at night.
pub async fn add_web_instance(s: &SimBackend) {
    let cap = web(s).await.capacity;
    s.set_capacity(
        Tier::Web,
        Capacity {
            min: cap.desired + 1,
            desired: cap.desired + 1,
            max: cap.max.max(cap.desired + 1),
        },
    )
    .await
    .unwrap();
}

/// Everything a reader can see of the world, serialized.
pub async fn fingerprint(s: &SimBackend) -> String {
    let mut out = serde_json::to_string(&s.topology().await.unwrap()).unwrap();
    for r in TimeRange::ALL {
        out += &serde_json::to_string(&s.metrics(r).await.unwrap()).unwrap();
    }
    out += &serde_json::to_string(&s.deployments(100).await.unwrap()).unwrap();
    out += &serde_json::to_string(&s.releases(100).await.unwrap()).unwrap();
    out += &serde_json::to_string(&s.backups().await.unwrap()).unwrap();
    out += &serde_json::to_string(&s.logs(&LogQuery::default()).await.unwrap()).unwrap();
    out
}
