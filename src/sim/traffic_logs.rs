//! Log lines that follow the traffic of each tick: the app's access lines from
//! every serving instance, sampled (one in [`SAMPLE_EVERY`] requests, one in
//! [`SAMPLE_ERRORS_EVERY`] failed ones, each with the app's error line), and the
//! database's own log (checkpoints, autovacuum, slow queries, statement timeouts
//! under overload, connections reset by a dying instance).

use rand::RngExt;

use super::clock::{HOUR, MINUTE, Ms, SECOND, TICK, to_ts};
use super::fleet::Fleet;
use super::logs::{Access, AppErrorKind, Body, Emit, Method};
use super::names;
use super::random::{Purpose, key, rng};
use super::service::TickOutcome;
use crate::domain::{LogSource, Severity};

pub const SAMPLE_EVERY: u32 = 50;
pub const SAMPLE_ERRORS_EVERY: u32 = 10;
/// The app's database pool gives up after this long.
pub const POOL_TIMEOUT_MS: f64 = 30_000.0;
/// `log_min_duration_statement`.
pub const SLOW_QUERY_MS: f64 = 1_000.0;

/// (method, path with `{}` for an id, weight, status on success)
const ROUTES: [(Method, &str, u32, u16); 14] = [
    (Method::Get, "/", 25, 200),
    (Method::Get, "/notes/{}/", 20, 200),
    (Method::Get, "/pads/{}/", 12, 200),
    (Method::Get, "/signin/", 8, 200),
    (Method::Post, "/signin/", 5, 303),
    (Method::Get, "/notes/create/", 5, 200),
    (Method::Post, "/notes/create/", 5, 303),
    (Method::Get, "/notes/{}/edit/", 4, 200),
    (Method::Post, "/notes/{}/edit/", 4, 303),
    (Method::Get, "/settings/", 2, 200),
    (Method::Post, "/notes/{}/delete/", 1, 303),
    (Method::Get, "/pads/create/", 2, 200),
    (Method::Post, "/pads/create/", 1, 303),
    (Method::Get, "/signout/", 2, 303),
];

const QUERIES: [&str; 3] = [
    "SELECT n.id, n.name, n.updated_at, p.name FROM notes n LEFT JOIN pads p ON p.id = n.pad_id WHERE n.user_id = $1 ORDER BY n.updated_at DESC",
    "SELECT p.id, p.name, count(n.id) FROM pads p LEFT JOIN notes n ON n.pad_id = p.id WHERE p.user_id = $1 GROUP BY p.id ORDER BY p.name",
    "UPDATE notes SET name = $1, text = $2, pad_id = $3, updated_at = now() WHERE id = $4 AND user_id = $5",
];

fn route(r: &mut impl rand::Rng) -> (Method, String, u16) {
    let total: u32 = ROUTES.iter().map(|x| x.2).sum();
    let mut pick = r.random_range(0..total);
    for (method, path, weight, status) in ROUTES {
        if pick < weight {
            let path = path.replace("{}", &r.random_range(1..6000).to_string());
            let status = match (method, path.as_str()) {
                (Method::Post, "/signin/") if r.random_bool(0.1) => 200,
                (Method::Get, p) if p.starts_with("/notes/") && r.random_bool(0.01) => 404,
                _ => status,
            };
            return (method, path, status);
        }
        pick -= weight;
    }
    (Method::Get, "/".to_string(), 200)
}

/// A response time drawn to match the tick's p50 and p99.
fn latency(r: &mut impl rand::Rng, p50: f64, p99: f64) -> f64 {
    let u: f64 = r.random();
    let ms = if u < 0.5 {
        p50 * (0.4 + 1.2 * u)
    } else {
        p50 * (p99 / p50).powf(((u - 0.5) / 0.49).min(1.2))
    };
    ms.min(p99 * 1.5)
}

/// Whole requests to log out of `n`, one in `every`, the remainder by chance.
fn sampled(r: &mut impl rand::Rng, n: u32, every: u32) -> u32 {
    n / every + u32::from(r.random_range(0..every) < n % every)
}

fn db_line(t: Ms, client: Option<&str>, pid: u64, text: &str) -> String {
    let stamp = to_ts(t).format("%Y-%m-%d %H:%M:%S UTC");
    match client {
        Some(ip) => format!(
            "{stamp}:{ip}({}):notejam@notejam:[{pid}]:{text}",
            40_000 + pid % 20_000
        ),
        None => format!("{stamp}::@:[{pid}]:{text}"),
    }
}

pub fn generate(seed: u64, t0: Ms, fleet: &Fleet, out: &TickOutcome, db: &str, ev: &mut Emit) {
    if !ev.wants(t0 + TICK) {
        return;
    }
    let tick = t0 / TICK;
    let (p50, p99) = (out.p50_ms.unwrap_or(20.0), out.p99_ms.unwrap_or(110.0));
    for load in out.loads.iter().filter(|l| !l.dead) {
        let inst = &fleet.web.instances[load.index];
        let mut r = rng(seed, Purpose::Logs, tick, inst.n);
        let mut line = 0u64;
        let next_id = |line: &mut u64| {
            *line += 1;
            key(seed, Purpose::Logs, tick, (inst.n << 20) | *line)
        };
        for _ in 0..sampled(&mut r, load.ok, SAMPLE_EVERY) {
            let at = t0 + r.random_range(0..TICK);
            let (m, p, s) = route(&mut r);
            let ms = latency(&mut r, p50, p99);
            let id = next_id(&mut line);
            ev.push(
                at,
                LogSource::App,
                &inst.id,
                Body::Access(Access {
                    m,
                    p,
                    s,
                    l: (ms * 10.0) as u32,
                    r: id,
                }),
            );
        }
        for (n, kind) in [
            (load.faulty_errors, AppErrorKind::Faulty),
            (load.overload_errors, AppErrorKind::PoolTimeout),
        ] {
            for _ in 0..sampled(&mut r, n, SAMPLE_ERRORS_EVERY) {
                let at = t0 + r.random_range(0..TICK);
                let id = next_id(&mut line);
                let (path, ms) = match kind {
                    AppErrorKind::Faulty => (
                        if r.random_bool(0.6) {
                            "/".to_string()
                        } else {
                            format!("/pads/{}/", r.random_range(1..2000))
                        },
                        latency(&mut r, p50, p99) * 0.6,
                    ),
                    AppErrorKind::PoolTimeout => {
                        (route(&mut r).1, POOL_TIMEOUT_MS + r.random_range(0.0..50.0))
                    }
                };
                ev.push(
                    at,
                    LogSource::App,
                    &inst.id,
                    Body::AppError { r: id, k: kind },
                );
                ev.push(
                    at + 1,
                    LogSource::App,
                    &inst.id,
                    Body::Access(Access {
                        m: Method::Get,
                        p: path,
                        s: 500,
                        l: (ms * 10.0) as u32,
                        r: id,
                    }),
                );
            }
        }
    }
    database(seed, t0, fleet, out, db, ev);
}

fn database(seed: u64, t0: Ms, fleet: &Fleet, out: &TickOutcome, db: &str, ev: &mut Emit) {
    let tick = t0 / TICK;
    let mut r = rng(seed, Purpose::Database, tick, 0);
    let text = |ev: &mut Emit, at: Ms, line: String| {
        let severity = Severity::detect(&line);
        ev.text(at, LogSource::Database, db, severity, || line);
    };
    let checkpointer = 400 + (seed % 97);
    let in_five = t0.rem_euclid(5 * MINUTE);
    if in_five == 0 {
        let at = t0 + r.random_range(0..2 * SECOND);
        text(
            ev,
            at,
            db_line(at, None, checkpointer, "LOG:  checkpoint starting: time"),
        );
    } else if in_five == 4 * MINUTE + 30 * SECOND {
        let at = t0 + r.random_range(0..2 * SECOND);
        let buffers = 200 + out.sample.requests / 2 + r.random_range(0..200);
        text(
            ev,
            at,
            db_line(
                at,
                None,
                checkpointer,
                &format!(
                    "LOG:  checkpoint complete: wrote {buffers} buffers ({:.1}%); 0 WAL file(s) added, 0 removed, 1 recycled; write=269.{:03} s, sync=0.00{} s, total=270.{:03} s; sync files=23, longest=0.002 s, average=0.001 s; distance={} kB, estimate={} kB",
                    f64::from(buffers) / 1310.72,
                    r.random_range(0..1000),
                    r.random_range(1..9),
                    r.random_range(0..1000),
                    buffers * 8,
                    buffers * 9
                ),
            ),
        );
    }
    if t0.rem_euclid(HOUR) == 17 * MINUTE {
        let at = t0 + r.random_range(0..TICK);
        text(
            ev,
            at,
            db_line(
                at,
                None,
                5000 + (t0 / HOUR) as u64 % 4000,
                &format!(
                    "LOG:  automatic vacuum of table \"notejam.public.notes\": index scans: 1 pages: 0 removed, {} remain; tuples: {} removed, {} remain",
                    40_000 + r.random_range(0..5000),
                    r.random_range(100..2000),
                    900_000 + r.random_range(0..50_000)
                ),
            ),
        );
    }
    let clients: Vec<(String, u64)> = fleet
        .web
        .instances
        .iter()
        .filter(|i| i.in_service(t0) && i.alive(t0))
        .map(|i| (names::private_ip(i.az, i.n), i.n))
        .collect();
    let client = |r: &mut rand_pcg::Pcg64Mcg| {
        (!clients.is_empty()).then(|| clients[r.random_range(0..clients.len())].clone())
    };
    let mut slow_chance = 0.003;
    if out.db_cpu > 60.0 {
        slow_chance += 0.05;
    }
    if out.rho > 0.9 {
        slow_chance += 0.1;
    }
    if r.random_bool(slow_chance)
        && let Some((ip, n)) = client(&mut r)
    {
        let at = t0 + r.random_range(0..TICK);
        let ms = SLOW_QUERY_MS * (1.0 + r.random::<f64>() * 3.0);
        let q = QUERIES[r.random_range(0..QUERIES.len())];
        text(
            ev,
            at,
            db_line(
                at,
                Some(&ip),
                10_000 + n * 7,
                &format!("LOG:  duration: {ms:.3} ms  statement: {q}"),
            ),
        );
    }
    if out.rho > 1.0
        && r.random_bool(0.4)
        && let Some((ip, n)) = client(&mut r)
    {
        let at = t0 + r.random_range(0..TICK);
        let q = QUERIES[r.random_range(0..2)];
        text(
            ev,
            at,
            db_line(
                at,
                Some(&ip),
                10_000 + n * 7,
                "ERROR:  canceling statement due to statement timeout",
            ),
        );
        text(
            ev,
            at + 1,
            db_line(
                at + 1,
                Some(&ip),
                10_000 + n * 7,
                &format!("STATEMENT:  {q}"),
            ),
        );
    }
    for i in &fleet.web.instances {
        if let Some(f) = i.failed_at
            && f >= t0
            && f < t0 + TICK
        {
            let ip = names::private_ip(i.az, i.n);
            for k in 0..3 {
                let at = f + 5 * SECOND + k;
                text(
                    ev,
                    at,
                    db_line(
                        at,
                        Some(&ip),
                        10_000 + i.n * 7 + k as u64,
                        "LOG:  could not receive data from client: Connection reset by peer",
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampled_latencies_match_the_percentiles() {
        let mut r = rng(1, Purpose::Logs, 0, 0);
        let mut v: Vec<f64> = (0..20_000).map(|_| latency(&mut r, 20.0, 200.0)).collect();
        v.sort_by(f64::total_cmp);
        let p50 = v[v.len() / 2];
        let p99 = v[v.len() * 99 / 100];
        assert!((18.0..22.0).contains(&p50), "{p50}");
        assert!((170.0..230.0).contains(&p99), "{p99}");
    }

    #[test]
    fn sampling_keeps_the_expected_share() {
        let mut r = rng(1, Purpose::Logs, 0, 1);
        let total: u32 = (0..1000).map(|_| sampled(&mut r, 75, 50)).sum();
        assert!((1400..1600).contains(&total), "{total}");
    }
}
