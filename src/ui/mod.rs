//! The interactive console. `app` holds the state and turns keys into effects;
//! `fetch` runs the reads in the background; this module owns the terminal and
//! the one loop that joins input, results and a clock, drawing only when
//! something changed.

pub mod app;
pub mod fetch;
pub mod filter;
pub mod keymap;
pub mod logbuf;
pub mod overlays;
pub mod statusbar;
pub mod text_input;
pub mod theme;
pub mod views;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use ratatui::DefaultTerminal;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use crate::backend::Backend;
use crate::ops::{Runner, Step};

use app::{App, Effect, Update};
use fetch::Wants;
use keymap::Keymap;

/// Exit right after the first frame is on screen (start-up benchmark).
pub const FIRST_FRAME_ENV: &str = "NJTUI_EXIT_AFTER_FIRST_FRAME";

/// Runs the console until the operator quits or the process is told to stop.
/// The terminal is restored on every way out, panics included.
pub async fn run(backend: Arc<dyn Backend>, runner: Runner, keymap: Option<&str>) -> Result<()> {
    // Bad keymaps stop us before the terminal is touched, so the error is readable.
    let keymap = Keymap::load(keymap, Keymap::user_file().as_deref())
        .map_err(|e| anyhow::anyhow!("keymap error: {e}"))?;
    let production = matches!(runner.confirmation(), crate::ops::Confirm::TypeName(_));
    let app = App::new(
        backend.env(),
        backend.kind(),
        runner.read_only(),
        production,
        keymap,
    );
    let mut terminal = ratatui::try_init().context("cannot set up the terminal")?;
    let result = event_loop(&mut terminal, app, backend, runner).await;
    ratatui::restore();
    result
}

/// The wants the pollers follow, derived from the app's state.
fn wants_of(app: &App) -> Wants {
    Wants {
        view: app.view,
        range: app.metrics_state.range,
        deployment: app.wanted_deployment(),
    }
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    mut app: App,
    backend: Arc<dyn Backend>,
    runner: Runner,
) -> Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Update>();
    let (wants_tx, wants_rx) = watch::channel(wants_of(&app));
    let refresh = Arc::new(Notify::new());
    fetch::spawn(backend.clone(), tx.clone(), wants_rx, refresh.clone());
    let mut actions = Actions {
        backend,
        runner,
        tx: tx.clone(),
        running: None,
    };

    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut terminate = signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut hangup = signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut interrupt = signal(tokio::signal::unix::SignalKind::interrupt())?;
    let exit_after_first_frame = std::env::var_os(FIRST_FRAME_ENV).is_some();

    let mut dirty = true;
    loop {
        if dirty {
            terminal
                .draw(|f| views::draw(f, &app))
                .context("cannot draw")?;
            dirty = false;
            if exit_after_first_frame {
                return Ok(());
            }
        }
        let effects = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                    dirty = true;
                    app.on_key(key)
                }
                Some(Ok(Event::Resize(..))) => {
                    dirty = true;
                    vec![]
                }
                Some(Ok(_)) => vec![],
                Some(Err(e)) => return Err(e).context("cannot read the terminal"),
                None => return Ok(()),
            },
            Some(update) = rx.recv() => {
                dirty = true;
                let mut effects = app.apply(update);
                // Take everything already waiting, then draw once.
                while let Ok(more) = rx.try_recv() {
                    effects.extend(app.apply(more));
                }
                effects
            }
            _ = tick.tick() => {
                // Ages and notes on screen move with the clock.
                dirty = true;
                vec![]
            }
            _ = terminate.recv() => return Ok(()),
            _ = hangup.recv() => return Ok(()),
            _ = interrupt.recv() => return Ok(()),
        };
        for effect in effects {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Refresh => refresh.notify_waiters(),
                Effect::Wants => {
                    let _ = wants_tx.send(wants_of(&app));
                }
                other => actions.start(other),
            }
        }
        // A selection can change what the pollers need without an explicit effect.
        wants_tx.send_if_modified(|w| {
            let now = wants_of(&app);
            (*w != now).then(|| *w = now).is_some()
        });
    }
}

fn signal(kind: tokio::signal::unix::SignalKind) -> Result<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(kind).context("cannot listen for signals")
}

/// Runs the mutation path off the render loop and reports back as updates.
struct Actions {
    backend: Arc<dyn Backend>,
    runner: Runner,
    tx: mpsc::UnboundedSender<Update>,
    /// The running plan, apply or watch: aborting it kills terraform (its child
    /// process is killed on drop) or stops following; a sent change is not undone.
    running: Option<JoinHandle<()>>,
}

impl Actions {
    fn start(&mut self, effect: Effect) {
        let (runner, tx) = (self.runner.clone(), self.tx.clone());
        match effect {
            Effect::Prepare(op) => {
                tokio::spawn(async move {
                    let _ = tx.send(Update::Prepared(runner.prepare(op).await));
                });
            }
            Effect::Decline(prepared, reason) => {
                tokio::spawn(async move { runner.decline(&prepared, &reason, false).await });
            }
            Effect::RefuseReadOnly(what) => {
                tokio::spawn(async move {
                    let _ = runner.refuse_read_only(&what).await;
                });
            }
            Effect::LoadRevisions => {
                let backend = self.backend.clone();
                tokio::spawn(async move {
                    let _ = tx.send(Update::Revisions(backend.revisions().await));
                });
            }
            Effect::Plan => {
                self.running = Some(tokio::spawn(async move {
                    let sink = lines_to(tx.clone());
                    let _ = tx.send(Update::Planned(runner.plan(sink).await));
                }));
            }
            Effect::Run(prepared) => {
                let backend = self.backend.clone();
                self.running = Some(tokio::spawn(async move {
                    if prepared.step == Step::ApplyPlan {
                        let sink = lines_to(tx.clone());
                        let r = runner.apply(&prepared, sink).await;
                        let _ = tx.send(Update::ActionDone(
                            r.map(|s| format!("applied: {s}"))
                                .map_err(|e| e.to_string()),
                        ));
                        return;
                    }
                    let outcome = match runner.run(&prepared).await {
                        Ok(o) => o,
                        Err(e) => {
                            let _ = tx.send(Update::ActionDone(Err(e.to_string())));
                            return;
                        }
                    };
                    let _ = tx.send(Update::ActionLine(outcome.message.clone()));
                    let Some(watch) = outcome.watch else {
                        let _ = tx.send(Update::ActionDone(Ok(outcome.message)));
                        return;
                    };
                    let interval = crate::ops::watch::Watch::interval(backend.as_ref());
                    loop {
                        match watch.poll(backend.as_ref()).await {
                            Ok(p) => {
                                let finished = p.finished.is_some();
                                if tx.send(Update::ActionProgress(p)).is_err() || finished {
                                    return;
                                }
                            }
                            Err(e) if e.is_transient() => {
                                let _ = tx.send(Update::ActionLine(format!("{e} (retrying)")));
                            }
                            Err(e) => {
                                let _ = tx.send(Update::ActionDone(Err(e.to_string())));
                                return;
                            }
                        }
                        tokio::time::sleep(interval).await;
                    }
                }));
            }
            Effect::AbortAction => {
                if let Some(handle) = self.running.take() {
                    handle.abort();
                    let _ = tx.send(Update::ActionDone(Err(
                        "interrupted; what was already sent to the environment stands".into(),
                    )));
                }
            }
            Effect::Quit | Effect::Refresh | Effect::Wants => {}
        }
    }
}

/// A line sink whose lines arrive as `ActionLine` updates.
fn lines_to(tx: mpsc::UnboundedSender<Update>) -> crate::backend::LineSink {
    let (sink, mut lines) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        while let Some(line) = lines.recv().await {
            if tx.send(Update::ActionLine(line)).is_err() {
                return;
            }
        }
    });
    sink
}
