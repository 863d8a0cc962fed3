//! A real terminal for end-to-end tests: tmux runs a plain shell, the console is
//! started from it, keys go in with `send-keys` and the screen comes back with
//! `capture-pane`.
// Each test binary uses a different part of the harness.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A tmux server of our own (its own socket), running a plain shell.
pub struct Term {
    socket: String,
    dir: tempfile::TempDir,
}

impl Term {
    pub fn new(name: &str) -> Term {
        Term::with_env(name, &[])
    }

    /// A terminal whose shell has only these variables besides the basics.
    pub fn with_env(name: &str, vars: &[(&str, &str)]) -> Term {
        let dir = tempfile::tempdir().unwrap();
        let socket = format!("njtui-test-{name}-{}", std::process::id());
        let t = Term { socket, dir };
        let extra: String = vars.iter().map(|(k, v)| format!(" {k}={v}")).collect();
        let shell = format!(
            "env -i PATH=/usr/bin:/bin HOME={home} TERM=xterm-256color XDG_STATE_HOME={state} XDG_CONFIG_HOME={config}{extra} PS1='$ ' bash --norc --noprofile",
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

    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types literal text.
    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "main", "-l", text]);
    }

    /// Sends key names (`Enter`, `Escape`, `C-u`, `Tab`...), one at a time: an
    /// Escape followed at once by another key reads as Alt+key to a terminal.
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.tmux(&["send-keys", "-t", "main", k]);
            if *k == "Escape" {
                std::thread::sleep(Duration::from_millis(150));
            }
        }
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "main"])
    }

    pub fn wait_for(&self, what: &str) -> String {
        self.wait_until(what, |s| s.contains(what))
    }

    /// Waits for a line that starts with `prefix`: output, not the typed command
    /// (which the shell echoes after its prompt).
    pub fn wait_line(&self, prefix: &str) -> String {
        let s = self.wait_until(prefix, |s| s.lines().any(|l| l.starts_with(prefix)));
        s.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_default()
            .to_string()
    }

    pub fn wait_until(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.wait(what, Duration::from_secs(20), None, pred)
    }

    /// Waits up to `secs` for `pred`, pressing Ctrl-R (refresh now) every few
    /// seconds so the test does not depend on the pollers' pace.
    pub fn wait_refreshing(&self, what: &str, secs: u64, pred: impl Fn(&str) -> bool) -> String {
        self.wait(
            what,
            Duration::from_secs(secs),
            Some(Duration::from_secs(3)),
            pred,
        )
    }

    fn wait(
        &self,
        what: &str,
        timeout: Duration,
        refresh_every: Option<Duration>,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        let mut last_refresh = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what:?}; screen:\n{s}"
            );
            if refresh_every.is_some_and(|every| last_refresh.elapsed() > every) {
                self.keys(&["C-r"]);
                last_refresh = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn display(&self, format: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", "main", format])
            .trim()
            .to_string()
    }

    /// Starts the console from the shell; `$?` is echoed when it ends.
    pub fn start_console(&self, args: &str) {
        let bin = env!("CARGO_BIN_EXE_njtui");
        self.type_text(&format!("{bin} {args}; echo \"EXIT=$?\""));
        self.keys(&["Enter"]);
    }

    pub fn console_pid(&self) -> String {
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

    pub fn njtui(&self, args: &[&str]) -> Value {
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
