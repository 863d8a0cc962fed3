//! In-process figures of the console (not a test; `cargo bench --bench console`):
//! the time to draw a frame of each view at 200x50, and how fast the logs view
//! ingests events while following. Each figure is printed next to its target
//! and next to a reference measured in the same run (an empty frame).

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::TimeZone;
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

type Term = Terminal<CrosstermBackend<std::io::Sink>>;

fn sink_terminal() -> Term {
    // A fixed viewport writing real escape sequences to a sink: the cost of a
    // frame is the widgets, the diff and the encoding, without a tty's speed.
    Terminal::with_options(
        CrosstermBackend::new(std::io::sink()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, WIDTH, HEIGHT)),
        },
    )
    .expect("terminal")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn stats(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    (mean, percentile(&samples, 0.99), *samples.last().unwrap())
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

async fn loaded_app(sim: &SimBackend) -> App {
    let keymap = Keymap::load(Some("default"), None).unwrap();
    let mut app = App::new("demo", BackendKind::Sim, false, false, keymap);
    for update in fetch::first_round(sim, chrono::Duration::hours(1), 5000).await {
        app.apply(update);
    }
    app
}

fn frame_times(terminal: &mut Term, app: &mut App, frames: usize, full: bool) -> Vec<Duration> {
    (0..frames)
        .map(|_| {
            if full {
                // A blank frame first, so the measured one writes every cell it
                // draws. (`Terminal::clear` would ask a real tty for the cursor.)
                terminal
                    .draw(|f| f.render_widget(ratatui::widgets::Clear, f.area()))
                    .unwrap();
            }
            let start = Instant::now();
            terminal.draw(|f| views::draw(f, black_box(app))).unwrap();
            start.elapsed()
        })
        .collect()
}

fn synthetic_events(n: usize, start: chrono::DateTime<chrono::Utc>) -> Vec<LogEvent> {
    (0..n)
        .map(|i| LogEvent {
            id: format!("bench-{i}"),
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
            severity: if i % 97 == 0 { Severity::Error } else { Severity::Info },
        })
        .collect()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let sim = SimBackend::open(SimOptions {
        state_file: None,
        seed: Some(42),
        speed: Some(0.0),
        reset: false,
        start: Some(
            chrono::Utc
                .with_ymd_and_hms(2026, 11, 20, 14, 30, 0)
                .unwrap(),
        ),
    })
    .expect("simulated world");
    let mut app = loaded_app(&sim).await;
    let mut terminal = sink_terminal();

    println!(
        "# njtui console benchmark ({}x{}, release build expected)",
        WIDTH, HEIGHT
    );
    println!();
    println!("## Frame time (target: under 2 ms)");
    println!();
    println!("| frame | mean | p99 | max |");
    println!("| --- | ---: | ---: | ---: |");
    let empty = {
        let mut t = sink_terminal();
        let samples: Vec<Duration> = (0..300)
            .map(|_| {
                let s = Instant::now();
                t.draw(|_| {}).unwrap();
                s.elapsed()
            })
            .collect();
        stats(samples)
    };
    println!(
        "| reference: an empty full-screen frame | {} | {} | {} |",
        ms(empty.0),
        ms(empty.1),
        ms(empty.2)
    );
    for view in View::ALL {
        app.switch_view(view);
        // Warm up: the first frame allocates the buffers.
        frame_times(&mut terminal, &mut app, 20, true);
        for (label, full) in [("redrawn", false), ("full repaint", true)] {
            let (mean, p99, max) = stats(frame_times(&mut terminal, &mut app, 300, full));
            println!(
                "| {} ({label}) | {} | {} | {} |",
                view.title(),
                ms(mean),
                ms(p99),
                ms(max)
            );
        }
    }

    println!();
    println!("## Log ingest while following (target: 50,000 lines/s with no frame over 16 ms)");
    println!();
    app.switch_view(View::Logs);
    // 50,000 lines/s at 60 frames/s is about 834 lines per frame; a frame here
    // is applying one batch plus drawing the screen.
    let per_frame = 834;
    let total = 250_200;
    let events = synthetic_events(total, sim.now() + chrono::Duration::hours(1));
    let mut batches = events
        .chunks(per_frame)
        .map(|c| c.to_vec())
        .collect::<Vec<_>>()
        .into_iter();
    let mut frames = Vec::new();
    let started = Instant::now();
    for batch in batches.by_ref() {
        let s = Instant::now();
        app.apply(Update::Logs(batch));
        terminal.draw(|f| views::draw(f, &app)).unwrap();
        frames.push(s.elapsed());
    }
    let elapsed = started.elapsed();
    let (mean, p99, max) = stats(frames);
    let rate = total as f64 / elapsed.as_secs_f64();
    println!("| figure | value | target |");
    println!("| --- | ---: | ---: |");
    println!(
        "| lines ingested and drawn | {total} in {} batches of {per_frame} | |",
        total / per_frame
    );
    println!(
        "| ingest rate, drawing every batch | {:.0} lines/s | 50,000 lines/s |",
        rate
    );
    println!("| frame (apply a batch + draw), mean | {} | |", ms(mean));
    println!("| frame, p99 | {} | 16 ms |", ms(p99));
    println!("| frame, max | {} | 16 ms |", ms(max));
    println!(
        "| events held (ring bound) | {} of {} received, {} dropped | bounded |",
        app.logs.buffer.len(),
        app.logs.buffer.received,
        app.logs.buffer.dropped
    );
}
