//! The `njtui` binary on AWS: every subcommand run against moto with
//! `--endpoint-url`, its `--json` read back. Each test seeds its own region with
//! prod and staging per the naming contract.

mod support;

use std::process::{Command, Output};

use serde_json::Value;
use support::moto::MotoServer;
use support::seed::{self, EnvSpec, Seeded};

struct Njtui {
    endpoint: String,
    region: String,
    home: tempfile::TempDir,
}

impl Njtui {
    fn new(endpoint: &str, region: &str) -> Njtui {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("aws-config"), "").unwrap();
        Njtui {
            endpoint: endpoint.to_string(),
            region: region.to_string(),
            home,
        }
    }

    /// A command with a clean environment: static credentials, its own HOME and
    /// XDG directories (state, audit log, config), no instance metadata.
    fn command(&self) -> Command {
        let h = self.home.path();
        let mut c = Command::new(env!("CARGO_BIN_EXE_njtui"));
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", h)
            .env("XDG_STATE_HOME", h.join("state"))
            .env("XDG_CONFIG_HOME", h.join("config"))
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_CONFIG_FILE", h.join("aws-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", h.join("aws-config"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("NO_COLOR", "1");
        c
    }

    fn run(&self, env: &str, args: &[&str]) -> Output {
        self.command()
            .args([
                "--env",
                env,
                "--endpoint-url",
                &self.endpoint,
                "--region",
                &self.region,
            ])
            .args(args)
            .output()
            .expect("run njtui")
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run("prod", args);
        assert!(
            out.status.success(),
            "njtui {args:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let text = self.ok(args);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("njtui {args:?}: not JSON ({e}): {text}"))
    }
}

async fn world(region: &str) -> (Njtui, Seeded) {
    let endpoint = MotoServer::shared().endpoint();
    let cfg = seed::sdk_config(&endpoint, region).await;
    let prod = seed::seed_env(&cfg, &EnvSpec::small("prod", 10)).await;
    seed::seed_env(&cfg, &EnvSpec::small("staging", 20)).await;
    (Njtui::new(&endpoint, region), prod)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[tokio::test]
async fn status_json_shows_prod_and_only_prod() {
    let (cli, prod) = world("us-east-1").await;
    let s = cli.json(&["status", "--json"]);
    assert_eq!(s["env"], "prod");
    assert_eq!(s["backend"], "aws");
    assert_eq!(s["identity"]["region"], "us-east-1");
    assert_eq!(s["identity"]["account"], seed::ACCOUNT);
    let tiers = s["tiers"].as_array().unwrap();
    assert_eq!(tiers[0]["name"], "web");
    assert_eq!(tiers[0]["group"], prod.web_group);
    assert_eq!(tiers[0]["instances"].as_array().unwrap().len(), 2);
    assert_eq!(tiers[1]["name"], "bastion");
    assert_eq!(s["database"]["id"], "notejam-prod");
    assert_eq!(s["database"]["endpoint"], prod.database_host.as_str());
    assert_eq!(s["load_balancer"]["name"], prod.load_balancer);
    assert_eq!(s["load_balancer"]["healthy"], 2);
    assert!(!s.to_string().contains("staging"), "{s}");
}

#[tokio::test]
async fn reads_come_back_as_json() {
    let (cli, prod) = world("us-west-2").await;
    let revisions = cli.json(&["revisions", "--json"]);
    let names: Vec<&str> = revisions
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [prod.bundles[1].as_str(), prod.bundles[0].as_str()]);

    let backups = cli.json(&["backups", "--json"]);
    let items = backups["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(
        items.iter().all(|b| b["resource"] == "notejam-prod"),
        "{backups}"
    );
    assert!(backups["latest_restorable"].is_string());

    assert_eq!(cli.json(&["deployments", "--json"]), Value::Array(vec![]));

    let logs = cli.json(&["logs", "--since", "1h", "--source", "app", "--json"]);
    let logs = logs.as_array().unwrap();
    assert_eq!(logs.len(), 20);
    assert!(
        logs.iter()
            .all(|e| e["source"] == "app" && e["message"].as_str().unwrap().contains("prod"))
    );
    let errors = cli.json(&["logs", "--since", "1h", "--filter", "500 prod", "--json"]);
    assert_eq!(errors.as_array().unwrap().len(), 2);

    let metrics = cli.json(&["metrics", "--range", "1h", "--json"]);
    let series = metrics["series"].as_array().unwrap();
    let requests = series.iter().find(|s| s["metric"] == "requests").unwrap();
    let points = requests["points"].as_array().unwrap();
    assert!(points.len() >= 55, "{requests}");
    assert!(points.iter().all(|p| p["v"] == 100.0));
    let cpu = series.iter().find(|s| s["metric"] == "cpu_web").unwrap();
    assert_eq!(cpu["threshold"], 80.0);
}

#[tokio::test]
async fn actions_change_the_environment_and_leave_an_audit_trail() {
    let (cli, prod) = world("eu-west-2").await;
    cli.ok(&["--yes", "scale", "web", "4"]);
    let web = |s: &Value| s["tiers"][0].clone();
    assert_eq!(web(&cli.json(&["status", "--json"]))["desired"], 4);

    cli.ok(&["--yes", "stop", "web"]);
    let s = cli.json(&["status", "--json"]);
    assert_eq!(web(&s)["desired"], 0);
    cli.ok(&["--yes", "start", "web"]);
    assert_eq!(web(&cli.json(&["status", "--json"]))["desired"], 4);

    cli.ok(&["--yes", "deploy", &prod.bundles[1]]);
    let ds = cli.json(&["deployments", "--json"]);
    assert_eq!(ds[0]["revision"], prod.bundles[1].as_str());
    assert_eq!(ds[0]["creator"], "user");

    cli.ok(&["--yes", "backup"]);
    let backups = cli.json(&["backups", "--json"]);
    let manual: Vec<&Value> = backups["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["kind"] == "manual")
        .collect();
    assert_eq!(manual.len(), 1, "{backups}");

    // Every action reached the environment's own audit trail.
    let audit = cli.json(&["logs", "--since", "1h", "--source", "audit", "--json"]);
    let actions: Vec<String> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(e["message"].as_str().unwrap()).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for a in ["scale", "stop", "start", "deploy", "backup"] {
        assert!(actions.iter().any(|x| x == a), "no {a} in {actions:?}");
    }
}

#[tokio::test]
async fn restore_and_point_the_app_at_the_copy() {
    let (cli, _) = world("eu-west-3").await;
    cli.ok(&["--yes", "backup"]);
    let backups = cli.json(&["backups", "--json"]);
    let snap = backups["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == "manual")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    cli.ok(&["--yes", "restore", &snap, "--wait"]);
    let backups = cli.json(&["backups", "--json"]);
    let restored = backups["restores"][0]["id"].as_str().unwrap().to_string();
    assert!(restored.starts_with("notejam-prod-restore-"), "{backups}");
    cli.ok(&["--yes", "point-app", &restored]);
    assert_eq!(
        cli.json(&["status", "--json"])["database"]["id"],
        restored.as_str()
    );
}

#[tokio::test]
async fn refusals_and_bad_input_exit_non_zero_and_change_nothing() {
    let (cli, _) = world("eu-central-1").await;
    let desired = || cli.json(&["status", "--json"])["tiers"][0]["desired"].clone();
    // No terminal and no --yes: nothing is sent.
    let o = cli.run("prod", &["scale", "web", "5"]);
    assert!(
        !o.status.success() && stderr(&o).contains("--yes"),
        "{}",
        stderr(&o)
    );
    let o = cli.run("prod", &["--read-only", "--yes", "scale", "web", "5"]);
    assert!(!o.status.success(), "{}", stderr(&o));
    assert_eq!(desired(), 2);
    let o = cli.run("prod", &["--yes", "scale", "database", "3"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("web, bastion"), "{}", stderr(&o));
    let o = cli.run("prod", &["--yes", "deploy", "releases/notejam-0.0.1.zip"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("releases/notejam-1.1.0.zip"),
        "the choices are listed: {}",
        stderr(&o)
    );
}

#[tokio::test]
async fn without_a_region_or_an_endpoint_the_error_says_what_to_do() {
    let cli = Njtui::new("http://127.0.0.1:9", "us-east-1");
    let o = cli
        .command()
        .args(["--env", "prod", "status", "--json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--region") && stderr(&o).contains("AWS_REGION"),
        "{}",
        stderr(&o)
    );
    // No credentials anywhere: the error says where they come from.
    let o = cli
        .command()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args([
            "--env",
            "prod",
            "--region",
            "us-east-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("no usable AWS credentials") && e.contains("--profile"),
        "{e}"
    );
    assert!(!e.contains("DispatchFailure"), "no debug dump: {e}");
    // Nothing listens on port 9: the outage is reported, not a hang or a panic.
    let o = cli.run("prod", &["status", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot reach"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));
}
