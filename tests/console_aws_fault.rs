//! The console on an AWS environment (moto) whose endpoint goes away mid-session
//! and comes back: the status bar says OFFLINE, the last data stays on screen,
//! the process never exits, and it recovers without a restart.

mod support;
mod tmux;

use std::time::Duration;

use support::moto::MotoServer;
use support::seed::{self, EnvSpec};
use tmux::Term;

const REGION: &str = "eu-north-1";

fn seed_prod(endpoint: &str) {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let cfg = seed::sdk_config(endpoint, REGION).await;
        seed::seed_env(&cfg, &EnvSpec::small("prod", 10)).await;
    });
}

fn status_line(screen: &str) -> &str {
    screen.lines().last().unwrap_or_default()
}

#[test]
fn the_console_shows_an_outage_and_recovers_without_restarting() {
    let mut moto = MotoServer::start();
    let endpoint = moto.endpoint();
    seed_prod(&endpoint);

    let t = Term::with_env(
        "aws-fault",
        &[
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    t.start_console(&format!(
        "--env prod --region {REGION} --endpoint-url {endpoint}"
    ));
    let s = t.wait_refreshing("the prod topology", 60, |s| {
        s.contains("notejam-prod-web") && s.contains("refreshed")
    });
    assert!(
        s.contains(" aws "),
        "the status bar names the backend:\n{s}"
    );
    let pid = t.console_pid();

    moto.stop();
    let s = t.wait_refreshing("OFFLINE", 90, |s| status_line(s).contains("OFFLINE"));
    assert!(
        status_line(&s).contains("cannot reach"),
        "the status bar says why:\n{}",
        status_line(&s)
    );
    assert!(
        s.contains("notejam-prod-web"),
        "the last topology stays on screen:\n{s}"
    );
    // Every view keeps working while offline.
    for key in ["2", "3", "4", "5", "1"] {
        t.keys(&[key]);
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(
        std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the console exited during the outage"
    );

    moto.restart();
    seed_prod(&endpoint);
    let s = t.wait_refreshing("recovery", 90, |s| {
        let status = status_line(s);
        !status.contains("OFFLINE") && status.contains("refreshed")
    });
    assert!(s.contains("notejam-prod-web"), "{s}");
    assert_eq!(t.console_pid(), pid, "recovered in the same process");

    t.keys(&["q"]);
    assert_eq!(t.wait_line("EXIT="), "EXIT=0");
}
