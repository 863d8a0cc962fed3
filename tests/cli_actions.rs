//! Every subcommand against the simulator, through the real binary: reads and
//! their JSON, each action, each refusal (read-only, missing --yes, bad input),
//! and the audit record each one leaves.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// A private world: its own state and config directories, a frozen clock.
struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let w = World {
            dir: tempfile::tempdir().unwrap(),
        };
        // A frozen clock makes every later read see exactly what the actions did. The
        // world starts at a fixed quiet hour: traffic follows the time of day, and a
        // deployment at the daily peak takes the canary out of a two-instance fleet and
        // overloads the other, which the latency alarm then rightly stops.
        let out = w.run(&[
            "--speed",
            "0",
            "--seed",
            "7",
            "--start",
            "2026-03-03T01:00:00Z",
            "status",
            "--json",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        w
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_njtui"));
        c.args(args)
            .env("XDG_STATE_HOME", self.state())
            .env("XDG_CONFIG_HOME", self.config())
            .env_remove("NJTUI_ENV")
            .env_remove("NJTUI_LOG")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "njtui {args:?} failed ({:?}): {}",
            out.status.code(),
            stderr(&out)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// Runs and expects failure with `code`, returning stderr.
    fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "njtui {args:?}: stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        );
        stderr(&out)
    }

    fn audit(&self) -> Vec<Value> {
        let text =
            std::fs::read_to_string(self.state().join("njtui/audit.jsonl")).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn last_audit(&self) -> Value {
        self.audit().pop().expect("an audit record")
    }

    fn web(&self) -> Value {
        let status = self.json(&["status"]);
        status["tiers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "web")
            .cloned()
            .unwrap()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_audit(record: &Value, action: &str, outcome: &str, change_contains: &str) {
    assert_eq!(record["action"], action, "{record}");
    assert_eq!(record["outcome"], outcome, "{record}");
    assert_eq!(record["env"], "demo");
    assert_eq!(record["backend"], "sim");
    assert!(
        record["who"].as_str().is_some_and(|w| !w.is_empty()),
        "{record}"
    );
    assert!(record["time"].as_str().is_some());
    let change = record["change"].as_str().unwrap_or_default().to_string()
        + " "
        + record["detail"].as_str().unwrap_or_default();
    assert!(
        change.contains(change_contains),
        "{record} lacks {change_contains:?}"
    );
}

#[test]
fn status_json_has_the_documented_shape() {
    let w = World::new();
    let s = w.json(&["status"]);
    assert_eq!(s["env"], "demo");
    assert_eq!(s["backend"], "sim");
    let tiers = s["tiers"].as_array().unwrap();
    let names: Vec<&str> = tiers.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"web") && names.contains(&"bastion"),
        "{names:?}"
    );
    for t in tiers {
        for k in ["desired", "min", "max"] {
            assert!(t[k].is_u64(), "{t}");
        }
        for i in t["instances"].as_array().unwrap() {
            assert!(i["id"].as_str().unwrap().starts_with("i-"), "{i}");
            assert!(i["state"].is_string() && i["health"].is_string());
        }
    }
    assert_eq!(s["database"]["id"], "notejam-demo");
    assert_eq!(s["database"]["engine"], "postgres");
    assert!(s["database"]["status"].is_string());
    assert!(
        s["load_balancer"]["dns_name"]
            .as_str()
            .unwrap()
            .contains("elb")
    );
    assert!(s["load_balancer"]["healthy"].is_u64() && s["load_balancer"]["unhealthy"].is_u64());
    // The text form names the same things.
    let text = w.ok(&["status"]);
    assert!(
        text.contains("web") && text.contains("notejam-demo"),
        "{text}"
    );
}

#[test]
fn scale_changes_desired_and_is_audited() {
    let w = World::new();
    let web = w.web();
    let (desired, max) = (
        web["desired"].as_u64().unwrap(),
        web["max"].as_u64().unwrap(),
    );
    let target = if desired < max {
        desired + 1
    } else {
        desired - 1
    };
    let out = w.ok(&["scale", "web", &target.to_string(), "--yes"]);
    assert!(out.contains("web"), "{out}");
    assert_eq!(w.web()["desired"].as_u64().unwrap(), target);
    assert_audit(
        &w.last_audit(),
        "scale",
        "succeeded",
        &format!("web: desired {desired} -> {target}"),
    );
}

#[test]
fn actions_need_yes_without_a_terminal_and_send_nothing() {
    let w = World::new();
    let before = w.web()["desired"].as_u64().unwrap();
    let target = (before + 1).to_string();
    let err = w.fails(&["scale", "web", &target], 3);
    assert!(
        err.contains("stdin is not a terminal") && err.contains("--yes"),
        "{err}"
    );
    assert_eq!(w.web()["desired"].as_u64().unwrap(), before);
    assert_audit(&w.last_audit(), "scale", "refused", "not a terminal");
}

#[test]
fn read_only_refuses_every_action_from_flag_or_config() {
    let w = World::new();
    let before = w.web()["desired"].as_u64().unwrap();
    let mutating: &[&[&str]] = &[
        &["scale", "web", "3"],
        &["start", "web"],
        &["stop", "web"],
        &["deploy", "x"],
        &["rollback"],
        &["backup"],
        &["restore", "x"],
        &["point-app", "x"],
        &["cancel", "x"],
        &["chaos", "load-spike"],
        &["provision"],
    ];
    for args in mutating {
        let mut all = vec!["--read-only", "--yes"];
        all.extend_from_slice(args);
        let err = w.fails(&all, 3);
        assert!(err.contains("read-only mode"), "{args:?}: {err}");
        let record = w.last_audit();
        assert_eq!(record["outcome"], "refused", "{args:?}");
        assert_eq!(record["action"], args[0], "{args:?}");
    }
    std::fs::create_dir_all(w.config().join("njtui")).unwrap();
    std::fs::write(
        w.config().join("njtui/config.toml"),
        "[env.demo]\nread_only = true\n",
    )
    .unwrap();
    let err = w.fails(&["scale", "web", "3", "--yes"], 3);
    assert!(err.contains("read-only mode"), "{err}");
    assert_eq!(w.web()["desired"].as_u64().unwrap(), before);
    // Reads still work in read-only mode.
    w.ok(&["status"]);
}

#[test]
fn bad_input_names_the_problem_and_the_choices() {
    let w = World::new();
    let web = w.web();
    let max = web["max"].as_u64().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["scale", "web", &(max + 1).to_string(), "--yes"],
            &["outside", "choose"],
        ),
        (
            &["scale", "database", "2", "--yes"],
            &["not an Auto Scaling group", "web, bastion"],
        ),
        (
            &["scale", "wbe", "2", "--yes"],
            &["unknown tier 'wbe'", "web, bastion"],
        ),
        (
            &["deploy", "nope.zip", "--yes"],
            &["revision 'nope.zip' not found", "choose one of"],
        ),
        (
            &["restore", "snap-nope", "--yes"],
            &["backup 'snap-nope' not found", "choose one of"],
        ),
        (
            &["point-app", "db-nope", "--yes"],
            &["database 'db-nope' not found"],
        ),
        (&["cancel", "d-nope", "--yes"], &["d-nope"]),
        (
            &["chaos", "meteor", "--yes"],
            &["unknown chaos 'meteor'", "load-spike"],
        ),
        (
            &["logs", "--source", "kernel"],
            &["unknown log source 'kernel'", "app"],
        ),
        (
            &["logs", "--since", "yesterday"],
            &["invalid duration 'yesterday'"],
        ),
        (
            &["metrics", "--range", "2h"],
            &["unknown range '2h'", "1h, 6h"],
        ),
        (
            &["deployments", "d-nope"],
            &["deployment 'd-nope' not found"],
        ),
        (
            &["restore", "--to-time", "noon", "--yes"],
            &["invalid --to-time 'noon'"],
        ),
        (&["--env", "Prod!", "status"], &["invalid environment name"]),
        (
            &["--env", "prod", "--speed", "5", "status"],
            &["--speed applies only to the demo"],
        ),
        (
            &["--region", "eu-west-1", "status"],
            &["--region applies to AWS environments"],
        ),
    ];
    for (args, needles) in cases {
        let err = w.fails(args, 2);
        for n in *needles {
            assert!(err.contains(n), "{args:?}: {err:?} lacks {n:?}");
        }
    }
    let record = w
        .audit()
        .into_iter()
        .rev()
        .find(|r| r["action"] == "scale")
        .unwrap();
    assert_eq!(record["outcome"], "refused");
}

#[test]
fn stop_and_start_remember_the_capacity() {
    let w = World::new();
    let before = w.web();
    w.ok(&["stop", "web", "--yes"]);
    let stopped = w.web();
    assert_eq!(
        (stopped["desired"].as_u64(), stopped["min"].as_u64()),
        (Some(0), Some(0))
    );
    assert_audit(&w.last_audit(), "stop", "succeeded", "web: stop");
    let err = w.fails(&["stop", "web", "--yes"], 2);
    assert!(err.contains("already stopped"), "{err}");
    w.ok(&["start", "web", "--yes"]);
    let started = w.web();
    assert_eq!(started["desired"], before["desired"]);
    assert_eq!(started["min"], before["min"]);
    assert_audit(&w.last_audit(), "start", "succeeded", "web: start");
    let err = w.fails(&["start", "web", "--yes"], 2);
    assert!(err.contains("is running"), "{err}");
}

#[test]
fn deploy_then_rollback_stops_it() {
    let w = World::new();
    let revisions = w.json(&["revisions"]);
    let revisions = revisions.as_array().unwrap();
    assert!(revisions.len() >= 2, "{revisions:?}");
    let current = w.json(&["status"])["current_revision"].clone();
    let target = revisions
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .find(|n| Some(*n) != current.as_str())
        .unwrap()
        .to_string();
    w.ok(&["deploy", &target, "--yes"]);
    let deployments = w.json(&["deployments"]);
    let newest = &deployments.as_array().unwrap()[0];
    for k in ["id", "status", "revision", "created"] {
        assert!(!newest[k].is_null(), "{newest}");
    }
    assert_eq!(newest["revision"], target.as_str());
    assert_audit(&w.last_audit(), "deploy", "succeeded", &target);
    let err = w.fails(&["deploy", &target, "--yes"], 2);
    assert!(err.contains("wait for it"), "{err}");
    let id = newest["id"].as_str().unwrap().to_string();
    let detail = w.json(&["deployments", &id]);
    assert_eq!(detail["deployment"]["id"], id.as_str());
    assert!(detail["targets"].is_array());
    w.ok(&["rollback", "--yes"]);
    assert_audit(
        &w.last_audit(),
        "rollback",
        "succeeded",
        &format!("stop deployment {id}"),
    );
}

#[test]
fn deployments_list_releases_with_their_stage_and_phase() {
    let w = World::new();
    let current = w.json(&["status"])["current_revision"].clone();
    let revisions = w.json(&["revisions"]);
    let target = revisions
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .find(|n| Some(*n) != current.as_str())
        .unwrap()
        .to_string();
    w.ok(&["deploy", &target, "--yes"]);
    let r = w.json(&["deployments"])[0].clone();
    assert_eq!(
        (&r["stage"], &r["phase"]),
        (&"canary".into(), &"deploying".into()),
        "{r}"
    );
    assert_eq!(r["revision"], target.as_str());
    let stages: Vec<(&str, &str, &str)> = r["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stage"].as_str().unwrap(),
                s["status"].as_str().unwrap(),
                s["group"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        stages,
        [
            ("canary", "in_progress", "demo-canary"),
            ("canary_bake", "pending", "demo-canary"),
            ("fleet", "pending", "demo"),
            ("fleet_bake", "pending", "demo")
        ]
    );
    assert_eq!(r["stages"][1]["bake"]["duration_secs"], 300, "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    let text = w.ok(&["deployments"]);
    let header = text.lines().next().unwrap();
    for column in ["PHASE", "STAGE", "PIPELINE"] {
        assert!(header.contains(column), "{text}");
    }
    let line = text.lines().find(|l| l.starts_with(&id)).unwrap();
    assert!(
        line.contains("deploying") && line.contains("canary 0/1 → bake → fleet → bake"),
        "{line}"
    );
    // Rolled back while its canary deploys; --wait follows the release to its
    // end, ten virtual minutes a second.
    let waited = w.run(&["--speed", "600", "rollback", "--yes", "--wait"]);
    let said = stderr(&waited);
    assert!(waited.status.success(), "{said}");
    assert!(said.contains(&format!("release {id}")), "{said}");
    assert!(said.contains("rolled_back"), "{said}");
    w.ok(&["--speed", "0", "status"]);
    let r = w.json(&["deployments"])[0].clone();
    assert_eq!(r["id"], id.as_str());
    assert_eq!(r["phase"], "rolled_back", "{r}");
    assert_eq!(r["status"], "failed", "{r}");
    assert!(
        r["rollbacks"].as_array().is_some_and(|v| !v.is_empty()),
        "{r}"
    );
    let detail = w.ok(&["deployments", &id]);
    assert!(
        detail.starts_with(&format!("release {id} of {target}: rolled_back")),
        "{detail}"
    );
    assert!(
        detail.contains("canary_bake") && detail.contains("demo-canary"),
        "{detail}"
    );
}

#[test]
fn rollback_without_a_running_deployment_redeploys_the_previous_revision() {
    let w = World::new();
    let history = w.json(&["deployments"]);
    let succeeded: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "succeeded")
        .map(|d| d["revision"].as_str().unwrap())
        .collect();
    let current = succeeded[0];
    let previous = succeeded.iter().find(|r| **r != current).unwrap();
    w.ok(&["rollback", "--yes"]);
    let newest = &w.json(&["deployments"])[0];
    assert_eq!(newest["revision"], *previous);
    assert_audit(
        &w.last_audit(),
        "rollback",
        "succeeded",
        &format!("from {current} to {previous}"),
    );
}

#[test]
fn backup_restore_and_point_app() {
    let w = World::new();
    let listed = w.json(&["backups"]);
    let items = listed["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for b in items {
        for k in ["id", "kind", "created", "status"] {
            assert!(!b[k].is_null(), "{b}");
        }
    }
    assert_eq!(listed["stale"], false, "{listed}");
    w.ok(&["backup", "--yes"]);
    assert_audit(
        &w.last_audit(),
        "backup",
        "succeeded",
        "manual snapshot of notejam-demo",
    );
    let listed = w.json(&["backups"]);
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["kind"] == "manual"),
        "{listed}"
    );
    let id = items.iter().find(|b| b["status"] == "available").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = w.ok(&["restore", &id, "--yes"]);
    assert!(out.contains("notejam-demo-restore-"), "{out}");
    assert_audit(&w.last_audit(), "restore", "succeeded", &id);
    let err = w.fails(&["restore", &id, "--yes"], 2);
    assert!(err.contains("still running"), "{err}");
    let restored = w.json(&["backups"])["restores"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let err = w.fails(&["point-app", &restored, "--yes"], 2);
    assert!(
        err.contains("only be pointed at an available database"),
        "{err}"
    );

    // Let an hour or so of virtual time pass for the restore to complete.
    w.ok(&["--speed", "3600", "status"]);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    w.ok(&["--speed", "0", "status"]);
    let copy = w.json(&["backups"])["restores"][0].clone();
    assert_eq!(copy["status"], "available", "{copy}");
    let current = w.json(&["status"])["current_revision"].clone();
    // --wait follows the redeployment through which every instance reconnects.
    let out = w.ok(&["--speed", "600", "point-app", &restored, "--yes", "--wait"]);
    assert_audit(&w.last_audit(), "point-app", "succeeded", &restored);
    assert_eq!(w.json(&["status"])["database"]["id"], restored.as_str());
    let newest = &w.json(&["deployments"])[0];
    assert_eq!(newest["revision"], current, "{newest}");
    assert_eq!(newest["status"], "succeeded", "{newest}\n{out}");
}

#[test]
fn a_new_world_can_start_at_a_given_time() {
    let w = World::new();
    let s = w.json(&[
        "--reset",
        "--seed",
        "7",
        "--start",
        "2026-03-02T10:00:00Z",
        "status",
    ]);
    assert!(
        s["observed_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-02T10:00"),
        "{s}"
    );
}

#[test]
fn reads_print_tables_and_json() {
    let w = World::new();
    let logs = w.json(&["logs", "--since", "1h"]);
    let events = logs.as_array().unwrap();
    assert!(!events.is_empty());
    let app_only = w.json(&["logs", "--since", "1h", "--source", "app"]);
    assert!(
        app_only
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["source"] == "app")
    );
    let metrics = w.json(&["metrics", "--range", "7d"]);
    assert_eq!(metrics["range"], "7d");
    assert_eq!(metrics["series"].as_array().unwrap().len(), 10);
    for text_cmd in [
        &["metrics"][..],
        &["backups"],
        &["deployments"],
        &["revisions"],
        &["logs"],
    ] {
        assert!(!w.ok(text_cmd).is_empty(), "{text_cmd:?}");
    }
}

#[test]
fn provision_plans_then_applies_and_chaos_is_demo_only() {
    let w = World::new();
    let out = w.run(&["provision", "--plan-only"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("plan:"), "{}", stderr(&out));
    let out = w.run(&["provision", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = w.run(&["provision", "--plan-only"]);
    assert!(
        stderr(&after).contains("0 to add, 0 to change, 0 to destroy"),
        "{}",
        stderr(&after)
    );
    w.ok(&["chaos", "kill-instance", "--yes"]);
    assert_audit(&w.last_audit(), "chaos", "succeeded", "kill-instance");
    let audit = w.json(&["audit"]);
    assert!(audit.as_array().unwrap().len() >= 2);
}
