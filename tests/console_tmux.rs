//! The real console in a real terminal: tmux runs `njtui` in a shell, keys go in
//! with `send-keys`, the screen comes back with `capture-pane`.

mod tmux;

use std::path::Path;
use std::process::Command;

use tmux::Term;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn switches_through_every_view_and_quits_cleanly() {
    let t = Term::new("views");
    t.start_console("--speed 0 --seed 3");
    t.wait_for("Auto Scaling groups");
    assert_eq!(t.display("#{alternate_on}"), "1");
    for (key, marker) in [
        ("2", "Metrics · last 1h"),
        ("3", "Logs"),
        ("4", "Lifecycle of"),
        ("5", "Snapshots and recovery points"),
        ("1", "Auto Scaling groups"),
    ] {
        t.keys(&[key]);
        t.wait_for(marker);
    }
    t.keys(&["Tab"]);
    t.wait_for("Metrics · last 1h");
    t.keys(&["BTab"]);
    t.wait_for("Auto Scaling groups");
    t.keys(&["?"]);
    t.wait_for("Keys (default keymap)");
    t.keys(&["Escape", "3"]);
    t.wait_until("log lines", |s| s.contains("app ") || s.contains("system "));
    t.keys(&["q"]);
    assert_eq!(t.wait_line("EXIT="), "EXIT=0");
    let s = t.screen();
    assert!(
        !s.contains("Auto Scaling groups"),
        "the console's screen should be gone:\n{s}"
    );
    assert_eq!(t.display("#{alternate_on}"), "0");
}

#[test]
fn terminal_is_restored_when_the_console_is_killed() {
    for signal in ["TERM", "HUP", "INT"] {
        let t = Term::new(&format!("kill-{signal}"));
        t.start_console("--speed 0");
        t.wait_for("Auto Scaling groups");
        let pid = t.console_pid();
        assert!(
            Command::new("kill")
                .args([&format!("-{signal}"), &pid])
                .status()
                .unwrap()
                .success()
        );
        assert_eq!(
            t.wait_line("EXIT="),
            "EXIT=0",
            "SIG{signal} should end the console cleanly"
        );
        assert_eq!(
            t.display("#{alternate_on}"),
            "0",
            "SIG{signal} left the alternate screen on"
        );
        assert_eq!(
            t.display("#{cursor_flag}"),
            "1",
            "SIG{signal} left the cursor hidden"
        );
        // Raw mode off: the terminal echoes and edits lines again.
        t.type_text("echo \"STTY:$(stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(echo|icanon)$' | sort | tr '\\n' ' ')\"");
        t.keys(&["Enter"]);
        let line = t.wait_line("STTY:");
        assert_eq!(line.trim_end(), "STTY:echo icanon", "SIG{signal}");
    }
}

#[test]
fn a_bad_keymap_fails_before_the_terminal_is_taken() {
    let t = Term::new("keymap");
    write(
        &t.config().join("njtui/keymap.toml"),
        "[global]\nprepend_keymap = [\n  { on = \"q\", run = \"explode\" },\n]\n",
    );
    t.start_console("");
    assert_eq!(t.wait_line("EXIT="), "EXIT=1");
    let s = t.screen();
    assert!(s.contains("keymap.toml:3: unknown action 'explode'"), "{s}");
}

#[test]
fn scale_and_roll_back_from_the_keyboard_confirming_in_the_dialog() {
    let t = Term::new("actions");
    // The demo counts as production here, so confirmations need its name typed.
    write(
        &t.config().join("njtui/config.toml"),
        "production = [\"demo\"]\n",
    );
    t.start_console("--speed 0 --seed 5");
    t.wait_for("Auto Scaling groups");
    let before = t.njtui(&["status", "--json"]);
    let web = before["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "web")
        .unwrap()
        .clone();
    let desired = web["desired"].as_u64().unwrap();
    let target = if desired < web["max"].as_u64().unwrap() {
        desired + 1
    } else {
        desired - 1
    };

    // The web group is the first row; `s` asks for the new desired capacity.
    t.keys(&["g", "s"]);
    t.wait_for("new desired:");
    t.type_text(&target.to_string());
    t.keys(&["Enter"]);
    t.wait_for(&format!("web: desired {desired} -> {target}"));
    t.wait_for("This is production. Type demo to confirm");
    t.type_text("prod");
    t.keys(&["Enter"]);
    t.wait_for("type 'demo' exactly");
    t.keys(&["C-u"]);
    t.type_text("demo");
    t.keys(&["Enter"]);
    t.wait_for(&format!("web: capacity set to {target}"));
    t.keys(&["Escape"]);
    let after = t.njtui(&["status", "--json"]);
    let web = after["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "web")
        .unwrap();
    assert_eq!(web["desired"].as_u64(), Some(target));

    // Roll back: no deployment runs, so the previous revision is redeployed.
    let history = t.njtui(&["deployments", "--json"]);
    let count = history.as_array().unwrap().len();
    t.keys(&["R"]);
    t.wait_for("roll back demo from");
    t.type_text("demo");
    t.keys(&["Enter"]);
    t.wait_for("created");
    let history = t.njtui(&["deployments", "--json"]);
    assert_eq!(history.as_array().unwrap().len(), count + 1);

    let audit = t.njtui(&["audit", "--json"]);
    let actions: Vec<(&str, &str)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [("scale", "succeeded"), ("rollback", "succeeded")],
        "{audit}"
    );
    t.keys(&["Escape", "q"]);
    assert_eq!(t.wait_line("EXIT="), "EXIT=0");
}

#[test]
fn a_release_shows_its_stages_and_rolls_back_from_the_keyboard_while_baking() {
    let t = Term::new("release");
    t.start_console("--speed 0 --seed 7");
    t.wait_for("Auto Scaling groups");
    t.keys(&["4"]);
    t.wait_for("Lifecycle of");
    // Deploy the newest revision: the picker lists it first.
    t.keys(&["d"]);
    t.wait_for("Deploy a revision");
    t.keys(&["Enter"]);
    t.wait_for("canary first: 1 instance (demo-canary)");
    t.keys(&["y"]);
    t.wait_for("created");
    t.keys(&["Escape"]);
    let releases = t.njtui(&["deployments", "--json"]);
    // The list keeps its selection as the new release arrives on top: go there.
    t.wait_refreshing("the new release listed", 20, |s| {
        s.contains(releases[0]["id"].as_str().unwrap())
    });
    t.keys(&["g"]);
    let id = releases[0]["id"].as_str().unwrap().to_string();
    assert_eq!(releases[0]["stage"], "canary", "{releases}");
    assert_eq!(releases[0]["phase"], "deploying", "{releases}");
    t.wait_refreshing("the canary deploying", 20, |s| {
        s.contains(&id) && s.contains("canary 0/1 → bake → fleet → bake")
    });

    // A minute of virtual time a second until the canary bakes, then frozen.
    t.njtui(&["--speed", "60", "status", "--json"]);
    let baking = t.wait_refreshing("the canary bake", 60, |s| {
        s.contains("canary ✓ → bake ") && s.contains("left (alarms")
    });
    t.njtui(&["--speed", "0", "status", "--json"]);
    assert!(baking.contains("canary bake  in progress"), "{baking}");
    assert!(baking.contains("p99-latency"), "{baking}");
    let json = t.njtui(&["deployments", "--json"]);
    let stages = &json[0]["stages"];
    assert_eq!(json[0]["stage"], "canary_bake", "{json}");
    assert_eq!(stages[1]["status"], "in_progress", "{json}");
    assert!(
        stages[1]["bake"]["remaining_secs"].as_i64().unwrap() > 0,
        "{json}"
    );

    // Roll the release back while it bakes: the canary only, alarms off.
    t.keys(&["R"]);
    t.wait_for(&format!("roll back release {id}"));
    t.keys(&["y"]);
    t.wait_for("alarm monitoring off");
    t.keys(&["Escape"]);
    t.wait_refreshing("the rollback", 20, |s| {
        s.contains("rolling back") && s.contains("↩ rollback") && s.contains("in demo-canary")
    });
    let json = t.njtui(&["deployments", "--json"]);
    assert_eq!(json[0]["phase"], "rolling_back", "{json}");
    assert_eq!(json[0]["rollbacks"][0]["group"], "demo-canary", "{json}");
    let audit = t.njtui(&["audit", "--json"]);
    let actions: Vec<(&str, &str)> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [("deploy", "succeeded"), ("rollback", "succeeded")],
        "{audit}"
    );
    t.keys(&["q"]);
    assert_eq!(t.wait_line("EXIT="), "EXIT=0");
}
