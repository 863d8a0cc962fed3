//! Figures of the simulator, printed next to a reference measured in the same
//! run. Not a test of timing: run it on purpose, in release,
//!
//! ```text
//! cargo test --release --lib sim::benchmark -- --ignored --nocapture
//! ```

use std::time::{Duration, Instant};

use super::backend::{SimBackend, SimOptions};
use super::clock::{DAY, MINUTE, from_ts};
use super::history;
use crate::backend::Backend;
use crate::domain::{LogQuery, TimeRange};

/// The best of `n` runs of `f`.
fn best<T>(n: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut out = None;
    let mut fastest = Duration::MAX;
    for _ in 0..n {
        let t = Instant::now();
        let v = f();
        fastest = fastest.min(t.elapsed());
        out = Some(v);
    }
    (fastest, out.expect("n > 0"))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::test]
#[ignore = "a benchmark: prints figures, run it in release"]
async fn figures() {
    let start = crate::sim::tests::at(crate::sim::tests::AFTERNOON);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim-demo.json");
    let options = |reset| SimOptions {
        state_file: Some(path.clone()),
        seed: Some(42),
        speed: Some(0.0),
        reset,
        start: Some(start),
    };

    let (build, world) = best(5, || history::build(42, from_ts(start)));
    let ticks = 7 * DAY / super::clock::TICK;
    println!(
        "new world (a week of history, {ticks} ticks): {} = {:.2} µs per tick",
        ms(build),
        build.as_secs_f64() * 1e6 / ticks as f64
    );
    let json = serde_json::to_vec(&world).unwrap();
    let (reference, _) = best(5, || {
        serde_json::from_slice::<serde_json::Value>(&json).unwrap()
    });
    println!(
        "  reference: parsing that world's JSON into a generic value: {}",
        ms(reference)
    );

    let (fresh, _) = best(3, || SimBackend::open(options(true)).unwrap());
    println!("open, new world saved to a file: {}", ms(fresh));
    let file_size = std::fs::metadata(&path).unwrap().len();
    println!(
        "state file: {file_size} bytes (metrics {} bytes, logs {} bytes, {} log events)",
        size(&world.metrics),
        size(&world.logs),
        world.logs.events.len()
    );

    let (stored, sim) = best(5, || SimBackend::open(options(false)).unwrap());
    println!("open, stored world: {}", ms(stored));
    let (raw, _) = best(5, || {
        let bytes = std::fs::read(&path).unwrap();
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
    });
    println!(
        "  reference: reading the file and parsing it into a generic value: {}",
        ms(raw)
    );

    let (first, _) = best(1, || futures::executor::block_on(sim.topology()).unwrap());
    println!("first topology() of the opened world: {}", ms(first));
    let (topology, t) = best(50, || futures::executor::block_on(sim.topology()).unwrap());
    let (encode, _) = best(50, || serde_json::to_string(&t).unwrap());
    println!(
        "topology(): {} (reference: encoding it as JSON {})",
        ms(topology),
        ms(encode)
    );
    for range in [TimeRange::LastHour, TimeRange::Days7] {
        let (m, snap) = best(20, || {
            futures::executor::block_on(sim.metrics(range)).unwrap()
        });
        let (encode, _) = best(20, || serde_json::to_string(&snap).unwrap());
        println!(
            "metrics({}): {} (reference: encoding it as JSON {})",
            range.as_str(),
            ms(m),
            ms(encode)
        );
    }
    let (logs, all) = best(10, || {
        futures::executor::block_on(sim.logs(&LogQuery::default())).unwrap()
    });
    println!("logs(all {} events): {}", all.len(), ms(logs));

    for (label, by) in [
        ("a minute", MINUTE),
        ("an hour", 60 * MINUTE),
        ("a day", DAY),
        ("30 days", 30 * DAY),
    ] {
        let s = SimBackend::open(SimOptions {
            state_file: None,
            seed: Some(42),
            speed: Some(0.0),
            reset: false,
            start: Some(start),
        })
        .unwrap();
        let t = Instant::now();
        s.advance(chrono::Duration::milliseconds(by));
        println!("catching up {label} of virtual time: {}", ms(t.elapsed()));
    }
    let (save, _) = best(5, || {
        sim.advance(chrono::Duration::seconds(10));
    });
    println!("advance 10 s and save the world: {}", ms(save));
}

/// Serialized size of a part of the world.
fn size<T: serde::Serialize>(v: &T) -> usize {
    serde_json::to_vec(v).map_or(0, |v| v.len())
}
