//! What one tick of traffic does: the ALB spreads requests over healthy targets;
//! each web instance serves up to its capacity; CPU follows utilisation; latency
//! follows a queueing curve that is flat at low load and explodes near saturation;
//! 5xx come from overload, from dead targets the ALB still routes to, and from a
//! faulty revision. The database follows the request rate and the fleet size.

use rand::RngExt;

use super::clock::{MINUTE, Ms, TICK};
use super::fleet::{Fleet, bastion_session};
use super::metrics::TickSample;
use super::random::{Purpose, rng};
use crate::domain::TargetHealth;

/// Requests per minute one web instance (t3.small) serves at 100 % CPU.
pub const WEB_RPM_CAPACITY: f64 = 1600.0;
pub const IDLE_CPU: f64 = 3.0;
/// CPU added at full utilisation.
pub const BUSY_CPU: f64 = 95.0;
/// A booting instance (cloud-init, app start) or one being deployed to.
pub const BUSY_BOOT_CPU: f64 = 25.0;
pub const P50_BASE_MS: f64 = 20.0;
pub const P99_BASE_MS: f64 = 110.0;
/// The ALB's idle timeout bounds any response time.
pub const LATENCY_CAP_MS: f64 = 60_000.0;
/// Background 5xx share of served requests.
pub const BASE_ERROR_RATE: f64 = 0.0002;
/// Share of a faulty revision's requests that fail with 500.
pub const FAULTY_ERROR_SHARE: f64 = 0.5;
/// Each web instance holds a pool of this many idle connections...
pub const DB_CONNECTIONS_PER_INSTANCE: f64 = 6.0;
/// ...plus this many in use per request per second.
pub const DB_CONNECTIONS_PER_RPS: f64 = 0.25;
pub const DB_CPU_BASE: f64 = 4.0;
pub const DB_CPU_PER_RPS: f64 = 0.35;
/// Extra database CPU while a snapshot is taken.
pub const DB_CPU_BACKUP: f64 = 6.0;
/// Bytes the database grows by per served request (about 6 % writes of ~900 B).
pub const BYTES_PER_REQUEST: u64 = 54;

/// Median response time at utilisation `rho`.
pub fn p50_ms(rho: f64) -> f64 {
    P50_BASE_MS * (1.0 + 0.15 * rho.powi(4) / (1.0 - rho.min(0.995)))
}

/// 99th percentile at utilisation `rho`: about 110 ms up to 75 %, 256 ms at
/// 90 %, 1.3 s at 98 %, the ALB timeout beyond saturation.
pub fn p99_ms(rho: f64) -> f64 {
    (P99_BASE_MS * (1.0 + 0.25 * rho.powi(6) / (1.0 - rho.min(0.995)))).min(LATENCY_CAP_MS)
}

/// One routed instance's share of the tick.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceLoad {
    pub index: usize,
    pub routed: u32,
    pub ok: u32,
    pub faulty_errors: u32,
    pub overload_errors: u32,
    pub dead: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TickOutcome {
    pub sample: TickSample,
    pub loads: Vec<InstanceLoad>,
    pub rho: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub db_cpu: f64,
    pub db_connections: f64,
    pub bytes_written: u64,
}

fn fixed(v: f64, per_unit: f64) -> i32 {
    (v * per_unit).round() as i32
}

/// Runs the tick starting at `t` with `requests` arriving.
pub fn run(
    seed: u64,
    t: Ms,
    fleet: &Fleet,
    requests: u32,
    db_backing_up: bool,
    db_free_mib: i32,
) -> TickOutcome {
    let mid = t + TICK / 2;
    let mut r = rng(seed, Purpose::Service, t / TICK, 0);
    let web = &fleet.web;
    let cap_tick = WEB_RPM_CAPACITY * TICK as f64 / MINUTE as f64;

    let routed: Vec<usize> = (0..web.instances.len())
        .filter(|&k| web.instances[k].routed(mid))
        .collect();
    let n = routed.len() as u32;
    let share = |pos: usize| {
        let pos = pos as u32;
        requests / n + u32::from(pos < requests % n)
    };
    let alive: Vec<bool> = routed
        .iter()
        .map(|&k| web.instances[k].alive(mid))
        .collect();
    let alive_n = alive.iter().filter(|a| **a).count();
    let alive_requests: u32 = (0..routed.len()).filter(|&p| alive[p]).map(share).sum();
    let rho = if alive_n > 0 {
        f64::from(alive_requests) / (alive_n as f64 * cap_tick)
    } else {
        0.0
    };
    let overload = if rho > 1.0 { 1.0 - 1.0 / rho } else { 0.0 };

    let mut loads = Vec::with_capacity(routed.len());
    let mut errors = 0u32;
    let mut ok_total = 0u32;
    if n == 0 {
        errors = requests;
    }
    for (pos, &k) in routed.iter().enumerate() {
        let s = share(pos);
        if !alive[pos] {
            errors += s;
            loads.push(InstanceLoad {
                index: k,
                routed: s,
                ok: 0,
                faulty_errors: 0,
                overload_errors: 0,
                dead: true,
            });
            continue;
        }
        let over = (f64::from(s) * overload).round() as u32;
        let rest = s - over.min(s);
        let faulty = if web.instances[k].faulty {
            (f64::from(rest) * FAULTY_ERROR_SHARE).round() as u32
        } else {
            0
        };
        let background = (f64::from(rest) * BASE_ERROR_RATE + r.random::<f64>() - 0.5)
            .round()
            .max(0.0) as u32;
        let background = background.min(rest - faulty);
        let ok = rest - faulty - background;
        errors += over + faulty + background;
        ok_total += ok;
        loads.push(InstanceLoad {
            index: k,
            routed: s,
            ok,
            faulty_errors: faulty + background,
            overload_errors: over,
            dead: false,
        });
    }

    let (p50, p99) = if alive_n > 0 {
        let j50 = 1.0 + (r.random::<f64>() - 0.5) * 0.1;
        let j99 = 1.0 + (r.random::<f64>() - 0.5) * 0.16;
        (
            Some(p50_ms(rho) * j50),
            Some((p99_ms(rho) * j99).min(LATENCY_CAP_MS)),
        )
    } else {
        (None, None)
    };

    // CPU of every in-service web instance that still runs.
    let mut cpu_sum = 0.0;
    let mut cpu_n = 0u32;
    for (k, inst) in web.instances.iter().enumerate() {
        if !inst.in_service(mid) || !inst.alive(mid) {
            continue;
        }
        let noise = (r.random::<f64>() - 0.5) * 4.0;
        let base = match routed.iter().position(|&x| x == k) {
            Some(pos) => IDLE_CPU + BUSY_CPU * (f64::from(share(pos)) / cap_tick).min(1.0),
            None if inst.hold.is_some() || mid < inst.ready_at => BUSY_BOOT_CPU,
            None => IDLE_CPU,
        };
        cpu_sum += (base + noise).clamp(0.5, 100.0);
        cpu_n += 1;
    }
    let count = |h: TargetHealth| {
        web.instances
            .iter()
            .filter(|i| i.target(mid).is_some_and(|(x, _)| x == h))
            .count() as i32
    };

    let bastion_cpu = fleet
        .bastion
        .instances
        .iter()
        .find(|i| i.in_service(mid) && i.alive(mid))
        .map(|_| {
            let session =
                bastion_session(seed, mid).is_some_and(|(from, to)| mid >= from && mid < to);
            0.3 + r.random::<f64>() * 0.6
                + if session {
                    2.0 + r.random::<f64>() * 4.0
                } else {
                    0.0
                }
        });

    let app_instances = web
        .instances
        .iter()
        .filter(|i| i.in_service(mid) && i.alive(mid) && i.live(mid))
        .count() as f64;
    let rps = f64::from(alive_requests) / (TICK as f64 / 1000.0);
    let db_connections = (app_instances * DB_CONNECTIONS_PER_INSTANCE
        + rps * DB_CONNECTIONS_PER_RPS
        + (r.random::<f64>() - 0.5) * 4.0)
        .max(1.0);
    let db_cpu = (DB_CPU_BASE
        + rps * DB_CPU_PER_RPS
        + if db_backing_up { DB_CPU_BACKUP } else { 0.0 }
        + (r.random::<f64>() - 0.5) * 3.0)
        .clamp(1.0, 100.0);

    let served: u32 = loads
        .iter()
        .filter(|l| !l.dead)
        .map(|l| l.ok + l.faulty_errors)
        .sum();
    TickOutcome {
        sample: TickSample {
            requests,
            errors,
            served,
            p50: p50.map(|v| fixed(v, 10.0)),
            p99: p99.map(|v| fixed(v, 10.0)),
            healthy: count(TargetHealth::Healthy) * 100,
            unhealthy: count(TargetHealth::Unhealthy) * 100,
            cpu_web: (cpu_n > 0).then(|| fixed(cpu_sum / f64::from(cpu_n), 100.0)),
            cpu_bastion: bastion_cpu.map(|v| fixed(v, 100.0)),
            db_connections: fixed(db_connections, 100.0),
            db_cpu: fixed(db_cpu, 100.0),
            db_free_mib,
        },
        loads,
        rho,
        p50_ms: p50,
        p99_ms: p99,
        db_cpu,
        db_connections,
        bytes_written: u64::from(ok_total) * BYTES_PER_REQUEST,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Ms = 1_763_942_400_000;

    #[test]
    fn latency_is_flat_then_explodes_near_saturation() {
        assert!(p99_ms(0.3) < 115.0);
        assert!(p99_ms(0.75) < 140.0);
        assert!(p99_ms(0.9) > 200.0 && p99_ms(0.9) < 300.0);
        assert!(p99_ms(0.98) > 1000.0);
        assert_eq!(p99_ms(3.0), LATENCY_CAP_MS);
        assert!(p50_ms(0.5) < 22.0 && p50_ms(0.98) > 100.0);
    }

    #[test]
    fn more_requests_mean_more_cpu_latency_and_database_load() {
        let fleet = Fleet::new(1, T0, "r");
        let calm = run(1, T0, &fleet, 200, false, 1000);
        let busy = run(1, T0, &fleet, 500, false, 1000);
        assert!(busy.sample.cpu_web > calm.sample.cpu_web);
        assert!(busy.p99_ms > calm.p99_ms);
        assert!(busy.db_cpu > calm.db_cpu);
        assert_eq!(calm.sample.healthy, 200);
        assert_eq!(calm.sample.requests, 200);
        assert_eq!(calm.loads.iter().map(|l| l.routed).sum::<u32>(), 200);
    }

    #[test]
    fn overload_and_faulty_revisions_raise_5xx() {
        let mut fleet = Fleet::new(1, T0, "r");
        let calm = run(1, T0, &fleet, 300, false, 1000);
        assert!(calm.sample.errors <= 2, "{:?}", calm.sample);
        let over = run(1, T0, &fleet, 1200, false, 1000);
        assert!(over.rho > 2.0);
        assert!(over.sample.errors > 500, "{:?}", over.sample);
        fleet.web.instances[0].faulty = true;
        let faulty = run(1, T0, &fleet, 300, false, 1000);
        assert!(
            (70..=80).contains(&faulty.sample.errors),
            "{:?}",
            faulty.sample
        );
    }

    #[test]
    fn no_healthy_target_means_every_request_fails_and_no_latency() {
        let mut fleet = Fleet::new(1, T0, "r");
        for i in &mut fleet.web.instances {
            i.hold = Some(super::super::fleet::Hold::Out);
        }
        let out = run(1, T0, &fleet, 300, false, 1000);
        assert_eq!(out.sample.errors, 300);
        assert_eq!(out.sample.p99, None);
        assert_eq!(out.sample.healthy, 0);
    }
}
