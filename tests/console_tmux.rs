//! The real console in a real terminal: tmux runs `njtui` in a shell, keys go in
//! with `send-keys`, the screen comes back with `capture-pane`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A tmux server of our own (its own socket), running a plain shell.
struct Term {
    socket: String,
    dir: tempfile::TempDir,
}

impl Term {
    fn new(name: &str) -> Term {
        let dir = tempfile::tempdir().unwrap();
        let socket = format!("njtui-test-{name}-{}", std::process::id());
        let t = Term { socket, dir };
        let shell = format!(
            "env -i PATH=/usr/bin:/bin HOME={home} TERM=xterm-256color XDG_STATE_HOME={state} XDG_CONFIG_HOME={config} PS1='$ ' bash --norc --noprofile",
            home = t.dir.path().display(),
            state = t.state().display(),
            config = t.config().display(),
        );
        let status = Command::new("tmux")
            .args([
                "-L",
                &t.socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "main",
                "-x",
                "200",
                "-y",
                "50",
                &shell,
            ])
            .status()
            .expect("tmux must be installed (scripts/setup-test-deps installs it)");
        assert!(status.success());
        t
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types literal text.
    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "main", "-l", text]);
    }

    /// Sends key names (`Enter`, `Escape`, `C-u`, `Tab`...), one at a time: an
    /// Escape followed at once by another key reads as Alt+key to a terminal.
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.tmux(&["send-keys", "-t", "main", k]);
            if *k == "Escape" {
                std::thread::sleep(Duration::from_millis(150));
            }
        }
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "main"])
    }

    fn wait_for(&self, what: &str) -> String {
        self.wait_until(what, |s| s.contains(what))
    }

    /// Waits for a line that starts with `prefix`: output, not the typed command
    /// (which the shell echoes after its prompt).
    fn wait_line(&self, prefix: &str) -> String {
        let s = self.wait_until(prefix, |s| s.lines().any(|l| l.starts_with(prefix)));
        s.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_default()
            .to_string()
    }

    fn wait_until(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn display(&self, format: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", "main", format])
            .trim()
            .to_string()
    }

    /// Starts the console from the shell; `$?` is echoed when it ends.
    fn start_console(&self, args: &str) {
        let bin = env!("CARGO_BIN_EXE_njtui");
        self.type_text(&format!("{bin} {args}; echo \"EXIT=$?\""));
        self.keys(&["Enter"]);
    }

    fn console_pid(&self) -> String {
        let shell = self.display("#{pane_pid}");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = Command::new("pgrep").args(["-P", &shell]).output().unwrap();
            let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !pid.is_empty() {
                return pid;
            }
            assert!(Instant::now() < deadline, "njtui did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn njtui(&self, args: &[&str]) -> Value {
        let out = Command::new(env!("CARGO_BIN_EXE_njtui"))
            .args(args)
            .env("XDG_STATE_HOME", self.state())
            .env("XDG_CONFIG_HOME", self.config())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

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
