use super::*;
use crate::domain::{Capacity, MetricKind, Tier};

fn mean(points: &[f64]) -> f64 {
    points.iter().sum::<f64>() / points.len() as f64
}

#[tokio::test]
async fn twice_the_traffic_on_a_fixed_fleet_raises_cpu_and_latency() {
    let (calm, busy) = (sim(11, AFTERNOON), sim(11, AFTERNOON));
    let fixed = Capacity {
        min: 3,
        desired: 3,
        max: 3,
    };
    for s in [&calm, &busy] {
        s.set_capacity(Tier::Web, fixed).await.unwrap();
    }
    busy.with_world(|w, _| w.traffic.scale_permille = 2000);
    for s in [&calm, &busy] {
        s.advance(minutes(60));
    }
    async fn last(s: &SimBackend, m: MetricKind) -> Vec<f64> {
        let s = s.metrics(crate::domain::TimeRange::LastHour).await.unwrap();
        s.series(m)
            .unwrap()
            .points
            .iter()
            .rev()
            .take(30)
            .map(|p| p.v)
            .collect()
    }
    let (calm_req, busy_req) = (
        mean(&last(&calm, MetricKind::Requests).await),
        mean(&last(&busy, MetricKind::Requests).await),
    );
    assert!(
        (busy_req / calm_req - 2.0).abs() < 0.1,
        "{calm_req} -> {busy_req}"
    );
    let (calm_cpu, busy_cpu) = (
        mean(&last(&calm, MetricKind::CpuWeb).await),
        mean(&last(&busy, MetricKind::CpuWeb).await),
    );
    assert!(busy_cpu > calm_cpu * 1.5, "cpu {calm_cpu} -> {busy_cpu}");
    let (calm_p99, busy_p99) = (
        mean(&last(&calm, MetricKind::LatencyP99).await),
        mean(&last(&busy, MetricKind::LatencyP99).await),
    );
    assert!(busy_p99 > calm_p99 * 2.0, "p99 {calm_p99} -> {busy_p99}");
    let (calm_p50, busy_p50) = (
        mean(&last(&calm, MetricKind::LatencyP50).await),
        mean(&last(&busy, MetricKind::LatencyP50).await),
    );
    assert!(busy_p50 > calm_p50, "p50 {calm_p50} -> {busy_p50}");
    // The fleet stayed pinned: the difference is the load, not the instances.
    for s in [&calm, &busy] {
        let g = web(s).await;
        assert_eq!(g.capacity, fixed);
        assert_eq!(
            g.instances
                .iter()
                .filter(|i| i.state == crate::domain::InstanceState::InService)
                .count(),
            3
        );
    }
}

#[tokio::test]
async fn nights_are_quieter_than_afternoons() {
    let (night, day) = (sim(11, NIGHT), sim(11, AFTERNOON));
    async fn reqs(s: &SimBackend) -> f64 {
        let m = s.metrics(crate::domain::TimeRange::LastHour).await.unwrap();
        mean(
            &m.series(MetricKind::Requests)
                .unwrap()
                .points
                .iter()
                .map(|p| p.v)
                .collect::<Vec<_>>(),
        )
    }
    assert!(reqs(&day).await > 2.0 * reqs(&night).await);
}
