//! The protocol every instruction-count probe speaks, and the callgrind client
//! requests that bound what is counted.
//!
//! A probe is a benchmark binary (`harness = false`) of the crate it measures, so
//! it is built with the same profile and allocator as what ships. It holds named
//! scenarios; `scripts/perf-gate counts` runs each one in its own process under
//! `valgrind --tool=callgrind --instr-atstart=no`: the scenario's setup and one
//! warm-up step run uninstrumented, then instrumentation is switched on for exactly
//! `iterations` steps. Instrumentation (unlike callgrind's collection state) is
//! global, so the work a step hands to other threads (SQLite's worker, argon2 on
//! tokio's blocking pool) is counted too.
//!
//! ```text
//! probe list              one line per scenario: name, iterations, what it measures
//! probe run NAME [--iterations N]
//!                         the scenario as callgrind should see it; its last line is
//!                         name, iterations, what a step did, suspensions
//! probe check [NAME...]   every (or the named) scenario natively: proves each one does
//!                         its work, and prints the wall-clock time of a step
//! ```

pub mod callgrind;

use std::future::Future;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// How often the futures of the counted steps suspended (see `counting_suspensions`).
static SUSPENSIONS: AtomicU64 = AtomicU64::new(0);

/// Runs `future`, counting each time it returns `Pending`. A step that awaits
/// another thread (SQLite's worker, the blocking pool) suspends at an await when
/// the answer is not there yet and costs one more pass through every layer when
/// it wakes; whether it is there follows the machine's load. `probe run` reports
/// the count, so the gate compares runs that suspended alike.
pub async fn counting_suspensions<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        let poll = future.as_mut().poll(cx);
        if poll.is_pending() {
            SUSPENSIONS.fetch_add(1, Ordering::Relaxed);
        }
        poll
    })
    .await
}

/// One step of a scenario: the work measured, once. It returns a short
/// description of what it did ("200, 38 512 bytes"), checked to be the same on
/// every step, so a scenario that silently stops doing its work is caught.
pub type Step = Box<dyn FnMut() -> Result<String, String>>;

pub struct Scenario {
    /// `crate/what`, e.g. `notejam/all_notes`: the figure's name in the gate's reports.
    pub name: &'static str,
    pub about: &'static str,
    /// Steps counted per run: enough for the figure to dwarf a step's odd costs
    /// (a page cache filled once), few enough for a run under callgrind to take
    /// seconds.
    pub iterations: u32,
    /// Builds the scenario's world (outside the count) for a warm-up step and this
    /// many counted ones, and returns its step.
    pub setup: fn(u32) -> Result<Step, String>,
}

const USAGE: &str = "usage: probe list | probe run NAME [--iterations N] | probe check [NAME...]";

/// The probe binary's `main`: dispatches on the command line.
pub fn main(scenarios: &[Scenario]) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; the probe ignores the harness's flags.
    let args: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "--bench")
        .collect();
    let outcome = match args.as_slice() {
        ["list"] => {
            for s in scenarios {
                println!("{}\t{}\t{}", s.name, s.iterations, s.about);
            }
            Ok(())
        }
        ["run", name] => find(scenarios, name).and_then(|s| run(s, s.iterations)),
        ["run", name, "--iterations", n] => match n.parse::<u32>() {
            Ok(n) if n > 0 => find(scenarios, name).and_then(|s| run(s, n)),
            _ => Err(format!(
                "--iterations takes a positive whole number, not {n:?}"
            )),
        },
        ["check", names @ ..] => {
            let chosen: Result<Vec<&Scenario>, String> = if names.is_empty() {
                Ok(scenarios.iter().collect())
            } else {
                names.iter().map(|n| find(scenarios, n)).collect()
            };
            chosen.and_then(|list| list.into_iter().try_for_each(check))
        }
        [] | ["-h" | "--help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => Err(format!("unknown arguments {args:?}; {USAGE}")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("probe: {message}");
            ExitCode::FAILURE
        }
    }
}

fn find<'a>(scenarios: &'a [Scenario], name: &str) -> Result<&'a Scenario, String> {
    scenarios.iter().find(|s| s.name == name).ok_or_else(|| {
        let names: Vec<&str> = scenarios.iter().map(|s| s.name).collect();
        format!("no scenario {name:?} (there are: {})", names.join(", "))
    })
}

/// Setup and a warm-up step uninstrumented, then `iterations` steps counted.
fn run(scenario: &Scenario, iterations: u32) -> Result<(), String> {
    let mut step =
        (scenario.setup)(iterations).map_err(|e| format!("{}: setup: {e}", scenario.name))?;
    let expected = step().map_err(|e| format!("{}: warm-up: {e}", scenario.name))?;
    SUSPENSIONS.store(0, Ordering::Relaxed);
    callgrind::start_instrumentation();
    let mut outcome = Ok(());
    for _ in 0..iterations {
        match counted_step(&mut step) {
            Ok(done) if done == expected => {}
            Ok(done) => {
                outcome = Err(format!("step did {done:?}, the warm-up {expected:?}"));
                break;
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    callgrind::stop_instrumentation();
    let suspensions = SUSPENSIONS.load(Ordering::Relaxed);
    outcome.map_err(|e| format!("{}: {e}", scenario.name))?;
    println!("{}\t{iterations}\t{expected}\t{suspensions}", scenario.name);
    Ok(())
}

/// Kept out of line so a profile of a run shows where the counted part starts.
#[inline(never)]
fn counted_step(step: &mut Step) -> Result<String, String> {
    step()
}

fn check(scenario: &Scenario) -> Result<(), String> {
    let mut step = (scenario.setup)(scenario.iterations)
        .map_err(|e| format!("{}: setup: {e}", scenario.name))?;
    let expected = step().map_err(|e| format!("{}: warm-up: {e}", scenario.name))?;
    let started = Instant::now();
    for n in 1..=scenario.iterations {
        let done = step().map_err(|e| format!("{}: step {n}: {e}", scenario.name))?;
        if done != expected {
            return Err(format!(
                "{}: step {n} did {done:?}, the warm-up {expected:?}",
                scenario.name
            ));
        }
    }
    let per_step = started.elapsed() / scenario.iterations;
    println!(
        "{}\t{}\t{expected}\t{:.3} ms per step",
        scenario.name,
        scenario.iterations,
        per_step.as_secs_f64() * 1e3
    );
    Ok(())
}
