//! Every view and overlay of the console, drawn with ratatui's TestBackend from
//! a seeded simulated world at a fixed instant, compared with reviewed snapshots
//! (`cargo insta review` after an intended change).

use chrono::TimeZone;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use njtui::backend::Backend;
use njtui::domain::{BackendKind, ChaosKind, Release, ReleasePhase, Stage, TimeRange};
use njtui::ops::{Confirm, Operation, Prepared, Step};
use njtui::sim::{SimBackend, SimOptions};
use njtui::ui::app::{App, Update, View};
use njtui::ui::keymap::{Action, Keymap};
use njtui::ui::overlays::{ActionLog, Overlay};
use njtui::ui::{fetch, views};

const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;

fn world() -> SimBackend {
    SimBackend::open(SimOptions {
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
    .unwrap()
}

/// An app that has received one round of every poller's results.
async fn loaded(sim: &SimBackend, read_only: bool, production: bool) -> App {
    let keymap = Keymap::load(Some("default"), None).unwrap();
    let mut app = App::new("demo", BackendKind::Sim, read_only, production, keymap);
    for update in fetch::first_round(sim, chrono::Duration::minutes(15), 500).await {
        app.apply(update);
    }
    app.apply(Update::LogMode(njtui::domain::FollowMode::Simulated));
    app.status.last_refresh = Some(std::time::Instant::now());
    app
}

fn render(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    terminal.draw(|f| views::draw(f, app)).unwrap();
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let mut line = String::new();
        for x in 0..buffer.area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn key(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

#[tokio::test]
async fn every_view() {
    let sim = world();
    let mut app = loaded(&sim, false, false).await;
    for view in View::ALL {
        app.switch_view(view);
        if view == View::Metrics {
            app.metrics_state.selected = 2;
        }
        insta::assert_snapshot!(
            format!("view_{}", view.title().to_lowercase()),
            render(&app)
        );
    }
}

/// Deploys the newest revision: its release's id.
async fn deploy_newest(sim: &SimBackend) -> String {
    let newest = sim.revisions().await.unwrap()[0].name.clone();
    sim.create_deployment(&newest, "snapshot").await.unwrap()
}

/// Lets virtual time pass a minute at a time until release `id` is where
/// `until` says.
async fn release_until(sim: &SimBackend, id: &str, until: impl Fn(&Release) -> bool) -> Release {
    for _ in 0..90 {
        let r = sim
            .releases(5)
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.id == id)
            .unwrap();
        if until(&r) {
            return r;
        }
        sim.advance(chrono::Duration::minutes(1));
    }
    panic!("release {id} never got there");
}

#[tokio::test]
async fn a_release_through_its_stages() {
    let sim = world();
    let id = deploy_newest(&sim).await;
    let r = release_until(&sim, &id, |r| r.phase == ReleasePhase::Baking).await;
    assert_eq!(r.stage, Stage::CanaryBake);
    let mut app = loaded(&sim, false, false).await;
    app.switch_view(View::Deployments);
    let screen = render(&app);
    assert!(
        screen.contains("canary ✓ → bake ") && screen.contains(" left (alarms OK) → fleet → bake"),
        "{screen}"
    );
    assert!(
        screen.contains("p99-latency OK") && screen.contains("5xx-rate OK"),
        "{screen}"
    );
    insta::assert_snapshot!("view_deployments_canary_bake", screen);
    // The topology's "now" panel names the release and where it is.
    app.switch_view(View::Topology);
    let screen = render(&app);
    assert!(
        screen.contains(&format!(
            "● baking {} of {}: canary ✓ → bake ",
            r.id, r.revision
        )),
        "{screen}"
    );
    assert!(
        screen.contains("baking ") && screen.contains(": canary bake"),
        "{screen}"
    );

    let r = release_until(&sim, &id, |r| {
        r.stage == Stage::Fleet && r.stages[2].instances.is_some_and(|c| c.succeeded > 0)
    })
    .await;
    let c = r.stages[2].instances.unwrap();
    let mut app = loaded(&sim, false, false).await;
    app.switch_view(View::Deployments);
    let screen = render(&app);
    let total = c.pending + c.in_progress + c.succeeded + c.failed + c.skipped;
    assert!(
        screen.contains(&format!(
            "canary ✓ → bake ✓ → fleet {}/{total} → bake",
            c.succeeded
        )),
        "{screen}"
    );
    insta::assert_snapshot!("view_deployments_fleet", screen);
}

#[tokio::test]
async fn a_release_rolled_back_by_its_canary_bake() {
    let sim = world();
    sim.chaos(ChaosKind::BadRevision).await.unwrap();
    let id = deploy_newest(&sim).await;
    let r = release_until(&sim, &id, |r| r.phase == ReleasePhase::RollingBack).await;
    assert_eq!(r.rollbacks.len(), 1);
    let mut app = loaded(&sim, false, false).await;
    app.switch_view(View::Deployments);
    let screen = render(&app);
    assert!(screen.contains("rolling back"), "{screen}");
    assert!(
        screen.contains("canary ↩ → bake ✘ (ALARM 5xx-rate) → fleet – → bake –"),
        "{screen}"
    );
    assert!(
        screen.contains(&format!(
            "↩ rollback {} in demo-canary",
            r.rollbacks[0].deployment
        )),
        "{screen}"
    );
    insta::assert_snapshot!("view_deployments_rolling_back", screen);
}

#[tokio::test]
async fn metrics_over_a_week_with_a_threshold() {
    let sim = world();
    let mut app = loaded(&sim, false, false).await;
    app.switch_view(View::Metrics);
    app.perform(Action::RangeNext);
    app.perform(Action::RangeNext);
    app.perform(Action::RangeNext);
    assert_eq!(app.metrics_state.range, TimeRange::Days7);
    app.apply(Update::Metrics(
        TimeRange::Days7,
        sim.metrics(TimeRange::Days7).await,
    ));
    app.metrics_state.selected = 2;
    insta::assert_snapshot!("metrics_7d_p99", render(&app));
}

#[tokio::test]
async fn overlays() {
    let sim = world();
    let mut app = loaded(&sim, false, false).await;

    key(&mut app, KeyCode::Char('?'));
    insta::assert_snapshot!("overlay_help", render(&app));
    key(&mut app, KeyCode::Esc);

    key(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "s");
    insta::assert_snapshot!("overlay_palette", render(&app));
    key(&mut app, KeyCode::Esc);

    key(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "eu-west-1a");
    insta::assert_snapshot!("overlay_filter", render(&app));
    key(&mut app, KeyCode::Esc);

    key(&mut app, KeyCode::Char('s'));
    insta::assert_snapshot!("overlay_scale", render(&app));
    key(&mut app, KeyCode::Esc);

    key(&mut app, KeyCode::Char('C'));
    insta::assert_snapshot!("overlay_chaos", render(&app));
    key(&mut app, KeyCode::Esc);
    assert!(app.overlay.is_none());
}

fn prepared_scale() -> Prepared {
    Prepared {
        op: Operation::Scale {
            tier: njtui::domain::Tier::Web,
            desired: 5,
        },
        step: Step::SetCapacity {
            tier: njtui::domain::Tier::Web,
            to: njtui::domain::Capacity {
                min: 2,
                desired: 5,
                max: 10,
            },
            remember: None,
        },
        change: "web: desired 3 -> 5".into(),
        details: vec!["limits: min 2, max 10".into()],
    }
}

#[tokio::test]
async fn confirmations_and_progress() {
    let sim = world();
    let mut app = loaded(&sim, false, false).await;
    app.overlay = Some(Overlay::confirm(prepared_scale(), Confirm::YesNo));
    insta::assert_snapshot!("overlay_confirm", render(&app));

    let mut prod = loaded(&sim, false, true).await;
    prod.env = "prod".into();
    prod.overlay = Some(Overlay::confirm(
        prepared_scale(),
        Confirm::TypeName("prod".into()),
    ));
    type_text(&mut prod, "pro");
    key(&mut prod, KeyCode::Enter);
    insta::assert_snapshot!("overlay_confirm_production", render(&prod));

    let mut log = ActionLog::new("scale: web: desired 3 -> 5");
    for line in [
        "confirmed: web: desired 3 -> 5",
        "web: capacity set to 5 (min 2, max 10)",
        "web: 3/5 in service and healthy, 2 pending, 0 terminating",
    ] {
        log.push(line.into());
    }
    log.percent = Some(60);
    app.action = Some(log);
    app.overlay = Some(Overlay::Progress);
    insta::assert_snapshot!("overlay_progress", render(&app));
}

#[tokio::test]
async fn read_only_offline_and_loading_states() {
    let sim = world();
    let mut app = loaded(&sim, true, false).await;
    app.apply(Update::Topology(Err(
        njtui::backend::BackendError::Unreachable {
            service: "autoscaling".into(),
            message: "connection refused".into(),
        },
    )));
    key(&mut app, KeyCode::Char('+'));
    let screen = render(&app);
    assert!(
        screen.contains("READ-ONLY") && screen.contains("OFFLINE"),
        "{screen}"
    );
    assert!(
        screen.contains("read-only mode: 'scale_up' refused"),
        "{screen}"
    );
    insta::assert_snapshot!("state_read_only_offline", screen);

    let keymap = Keymap::load(Some("default"), None).unwrap();
    let empty = App::new("demo", BackendKind::Sim, false, false, keymap);
    insta::assert_snapshot!("state_loading", render(&empty));
}
