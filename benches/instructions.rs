//! The console's hot paths as instruction-count scenarios (see `perf/probe`): a
//! frame of every view at 200x50 on the demo world, and the logs view taking in a
//! follow stream, drawn through the backend the console uses (crossterm), into a
//! sink. The world is the simulator's, at a fixed seed and instant, with its clock
//! stopped, so every run draws the same frames.
//!
//! `cargo bench --bench instructions -- check` runs each natively.

use std::process::ExitCode;

use chrono::TimeZone;
use perf_probe::{Scenario, Step};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

use njtui::backend::Backend;
use njtui::domain::{BackendKind, LogEvent, LogSource, Severity};
use njtui::sim::{SimBackend, SimOptions};
use njtui::ui::app::{App, Update, View};
use njtui::ui::keymap::Keymap;
use njtui::ui::{fetch, views};

const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;
/// 50,000 lines/s at 60 frames/s, the ingest target of the console's benchmark.
const LINES_PER_FRAME: usize = 834;
const INGEST_FRAMES: u32 = 30;

const SCENARIOS: &[Scenario] = &[
    frame("njtui/frame_topology", frame_topology),
    frame("njtui/frame_metrics", frame_metrics),
    frame("njtui/frame_logs", frame_logs),
    frame("njtui/frame_deployments", frame_deployments),
    frame("njtui/frame_backups", frame_backups),
    Scenario {
        name: "njtui/log_ingest",
        about: "logs view following: a batch of 834 events applied, then the view drawn",
        iterations: INGEST_FRAMES,
        setup: log_ingest,
    },
];

const fn frame(name: &'static str, setup: fn(u32) -> Result<Step, String>) -> Scenario {
    Scenario {
        name,
        about: "one frame of the view at 200x50 on the demo world, drawn again",
        iterations: 20,
        setup,
    }
}

fn main() -> ExitCode {
    perf_probe::main(SCENARIOS)
}

type Term = Terminal<CrosstermBackend<std::io::Sink>>;

fn terminal() -> Result<Term, String> {
    Terminal::with_options(
        CrosstermBackend::new(std::io::sink()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, WIDTH, HEIGHT)),
        },
    )
    .map_err(|e| format!("terminal: {e}"))
}

/// The demo world at a fixed instant, clock stopped, and a console that has
/// received the first round of every poller.
fn loaded_app() -> Result<(SimBackend, App), String> {
    let start = chrono::Utc
        .with_ymd_and_hms(2026, 11, 20, 14, 30, 0)
        .single()
        .ok_or("the start instant")?;
    let sim = SimBackend::open(SimOptions {
        state_file: None,
        seed: Some(42),
        speed: Some(0.0),
        reset: false,
        start: Some(start),
    })
    .map_err(|e| format!("simulated world: {e}"))?;
    let keymap = Keymap::load(Some("default"), None).map_err(|e| e.to_string())?;
    let mut app = App::new("demo", BackendKind::Sim, false, false, keymap);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    for update in rt.block_on(fetch::first_round(&sim, chrono::Duration::hours(1), 5000)) {
        app.apply(update);
    }
    Ok((sim, app))
}

fn view_frame(view: View) -> Result<Step, String> {
    let (_sim, mut app) = loaded_app()?;
    app.switch_view(view);
    let mut terminal = terminal()?;
    Ok(Box::new(move || {
        let frame = terminal
            .draw(|f| views::draw(f, &app))
            .map_err(|e| format!("draw: {e}"))?;
        Ok(format!("{} frame of {}", view.title(), frame.area))
    }))
}

fn frame_topology(_iterations: u32) -> Result<Step, String> {
    view_frame(View::Topology)
}
fn frame_metrics(_iterations: u32) -> Result<Step, String> {
    view_frame(View::Metrics)
}
fn frame_logs(_iterations: u32) -> Result<Step, String> {
    view_frame(View::Logs)
}
fn frame_deployments(_iterations: u32) -> Result<Step, String> {
    view_frame(View::Deployments)
}
fn frame_backups(_iterations: u32) -> Result<Step, String> {
    view_frame(View::Backups)
}

/// Synthetic app lines, as the benchmark of the console feeds them.
fn events(n: usize, start: chrono::DateTime<chrono::Utc>) -> Vec<LogEvent> {
    (0..n)
        .map(|i| LogEvent {
            id: format!("probe-{i}"),
            timestamp: start + chrono::Duration::microseconds(i as i64 * 20),
            source: LogSource::ALL[i % LogSource::ALL.len()],
            stream: format!("i-0{:016x}", i % 7),
            message: format!(
                r#"{{"level":"{}","message":"request","method":"GET","path":"/notes/{}/","status":200,"latency_ms":{}.{},"request_id":"r{i:012}"}}"#,
                if i % 97 == 0 { "error" } else { "info" },
                i % 5000,
                i % 90,
                i % 10
            ),
            severity: if i % 97 == 0 {
                Severity::Error
            } else {
                Severity::Info
            },
        })
        .collect()
}

fn log_ingest(iterations: u32) -> Result<Step, String> {
    let (sim, mut app) = loaded_app()?;
    app.switch_view(View::Logs);
    let mut terminal = terminal()?;
    // The warm-up step takes one batch, each counted step the next.
    let total = LINES_PER_FRAME * (iterations as usize + 1);
    let mut batches: Vec<Vec<LogEvent>> = events(total, sim.now() + chrono::Duration::hours(1))
        .chunks(LINES_PER_FRAME)
        .map(<[LogEvent]>::to_vec)
        .collect();
    batches.reverse();
    Ok(Box::new(move || {
        let batch = batches.pop().ok_or("ran out of prepared batches")?;
        let received = app.logs.buffer.received;
        app.apply(Update::Logs(batch));
        let taken = app.logs.buffer.received - received;
        terminal
            .draw(|f| views::draw(f, &app))
            .map_err(|e| format!("draw: {e}"))?;
        Ok(format!("{taken} events taken and drawn"))
    }))
}
