//! The Terraform runner behind `provision`, with a fake `terraform` on a private
//! PATH: init when needed, plan into a saved plan, apply of that plan, output
//! streamed line by line, failures and a missing binary reported, cancellation.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use njtui::backend::BackendError;
use njtui::domain::{PlanSummary, ProvisionMode};
use njtui::terraform::Terraform;
use tokio::sync::mpsc;

/// A fake terraform: logs its arguments and `AWS_REGION`, prints what the real
/// one prints for each command; `FAKE_TF_MODE` picks failures and hangs.
const FAKE: &str = r#"#!/bin/sh
echo "$* region=$AWS_REGION" >> "$(dirname "$0")/calls.log"
case "$1" in
  init)
    mkdir -p .terraform
    echo "Terraform has been successfully initialized!"
    ;;
  plan)
    case "$FAKE_TF_MODE" in
      fail)
        echo "Error: Invalid provider configuration" >&2
        exit 1
        ;;
      hang)
        echo $$ > "$(dirname "$0")/hang.pid"
        exec sleep 60
        ;;
      nochange)
        echo "No changes. Your infrastructure matches the configuration."
        ;;
      *)
        echo "  # aws_autoscaling_group.web will be updated in-place"
        echo "Warning: Argument is deprecated" >&2
        echo "Plan: 2 to add, 1 to change, 0 to destroy."
        ;;
    esac
    for a in "$@"; do
      case "$a" in -out=*) echo plan > "${a#-out=}" ;; esac
    done
    ;;
  apply)
    echo "Apply complete! Resources: 2 added, 1 changed, 0 destroyed."
    ;;
esac
"#;

struct Fixture {
    _tmp: tempfile::TempDir,
    bin: PathBuf,
    dir: PathBuf,
}

fn fixture(mode: &str) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    let dir = tmp.path().join("envs/prod");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("main.tf"), "# root module\n").unwrap();
    let script = FAKE.replace("$FAKE_TF_MODE", mode);
    let tf = bin.join("terraform");
    std::fs::write(&tf, script).unwrap();
    std::fs::set_permissions(&tf, std::fs::Permissions::from_mode(0o755)).unwrap();
    Fixture {
        _tmp: tmp,
        bin,
        dir,
    }
}

impl Fixture {
    fn runner(&self) -> Terraform {
        Terraform::new(&self.dir)
            .search_path(&self.bin)
            .env("AWS_REGION", "eu-west-1")
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.bin.join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

async fn run(
    tf: &Terraform,
    mode: ProvisionMode,
) -> (Result<PlanSummary, BackendError>, Vec<String>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let r = tf.run(mode, tx).await;
    let mut lines = Vec::new();
    while let Ok(l) = rx.try_recv() {
        lines.push(l);
    }
    (r, lines)
}

#[tokio::test]
async fn plan_initialises_once_and_streams_both_streams() {
    let f = fixture("ok");
    let (r, lines) = run(&f.runner(), ProvisionMode::Plan).await;
    assert_eq!(
        r.unwrap(),
        PlanSummary {
            add: 2,
            change: 1,
            destroy: 0
        }
    );
    for expected in [
        "$ terraform init -input=false -no-color",
        "Terraform has been successfully initialized!",
        "$ terraform plan -input=false -no-color -out=.terraform/njtui.tfplan",
        "Warning: Argument is deprecated",
        "Plan: 2 to add, 1 to change, 0 to destroy.",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "missing {expected:?} in {lines:#?}"
        );
    }
    assert_eq!(
        f.calls(),
        [
            "init -input=false -no-color region=eu-west-1",
            "plan -input=false -no-color -out=.terraform/njtui.tfplan region=eu-west-1",
        ]
    );
    // Initialised now: the next plan skips init.
    run(&f.runner(), ProvisionMode::Plan).await.0.unwrap();
    assert_eq!(f.calls().len(), 3);
    assert!(f.calls()[2].starts_with("plan "));
}

#[tokio::test]
async fn apply_applies_the_saved_plan_once() {
    let f = fixture("ok");
    run(&f.runner(), ProvisionMode::Plan).await.0.unwrap();
    let plan = f.dir.join(".terraform/njtui.tfplan");
    assert!(plan.exists());
    let (r, lines) = run(&f.runner(), ProvisionMode::Apply).await;
    assert_eq!(
        r.unwrap(),
        PlanSummary {
            add: 2,
            change: 1,
            destroy: 0
        }
    );
    assert!(
        lines.iter().any(|l| l.contains("applying the plan saved")),
        "{lines:#?}"
    );
    assert_eq!(
        f.calls().last().unwrap(),
        "apply -input=false -no-color .terraform/njtui.tfplan region=eu-west-1"
    );
    assert!(!plan.exists(), "a plan is applied at most once");
    // Without a saved plan, apply plans first.
    run(&f.runner(), ProvisionMode::Apply).await.0.unwrap();
    let calls = f.calls();
    assert!(
        calls[calls.len() - 2].starts_with("plan ") && calls[calls.len() - 1].starts_with("apply "),
        "{calls:#?}"
    );
}

#[tokio::test]
async fn a_plan_older_than_the_configuration_is_not_applied() {
    let f = fixture("ok");
    run(&f.runner(), ProvisionMode::Plan).await.0.unwrap();
    // The configuration changes after the plan was made.
    std::thread::sleep(Duration::from_millis(20));
    let tf = f.dir.join("main.tf");
    std::fs::write(&tf, "# edited\n").unwrap();
    let later = std::time::SystemTime::now() + Duration::from_secs(2);
    std::fs::File::options()
        .write(true)
        .open(&tf)
        .unwrap()
        .set_modified(later)
        .unwrap();
    run(&f.runner(), ProvisionMode::Apply).await.0.unwrap();
    let calls = f.calls();
    assert!(
        calls[calls.len() - 2].starts_with("plan "),
        "re-planned: {calls:#?}"
    );
}

#[tokio::test]
async fn no_changes_is_an_empty_summary() {
    let f = fixture("nochange");
    let s = run(&f.runner(), ProvisionMode::Plan).await.0.unwrap();
    assert!(s.is_empty());
}

#[tokio::test]
async fn a_failing_terraform_reports_its_error_line() {
    let f = fixture("fail");
    let (r, lines) = run(&f.runner(), ProvisionMode::Plan).await;
    let e = r.unwrap_err().to_string();
    assert!(
        e.contains("terraform plan failed") && e.contains("Error: Invalid provider configuration"),
        "{e}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l == "Error: Invalid provider configuration")
    );
}

#[tokio::test]
async fn a_missing_terraform_says_how_to_install_it() {
    let f = fixture("ok");
    let empty = tempfile::tempdir().unwrap();
    let (r, _) = run(
        &Terraform::new(&f.dir).search_path(empty.path()),
        ProvisionMode::Plan,
    )
    .await;
    let e = r.unwrap_err().to_string();
    assert!(
        e.contains("terraform is not installed or not on PATH"),
        "{e}"
    );
    assert!(
        e.contains("https://developer.hashicorp.com/terraform/install"),
        "{e}"
    );
}

#[tokio::test]
async fn a_missing_directory_is_named() {
    let f = fixture("ok");
    let missing = f.dir.join("nope");
    let (r, _) = run(
        &Terraform::new(&missing).search_path(&f.bin),
        ProvisionMode::Plan,
    )
    .await;
    match r {
        Err(BackendError::Invalid(m)) => assert!(m.contains(&missing.display().to_string()), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(f.calls().is_empty());
}

fn running(pid: &str) -> bool {
    // A killed child may linger as a zombie until reaped; that is not running.
    match std::fs::read_to_string(Path::new("/proc").join(pid).join("stat")) {
        Ok(stat) => !stat.split(") ").nth(1).is_some_and(|s| s.starts_with('Z')),
        Err(_) => false,
    }
}

#[tokio::test]
async fn cancelling_kills_terraform() {
    let f = fixture("hang");
    std::fs::create_dir_all(f.dir.join(".terraform")).unwrap();
    let tf = f.runner();
    let (tx, _rx) = mpsc::unbounded_channel();
    let pid_file = f.bin.join("hang.pid");
    let cancelled =
        tokio::time::timeout(Duration::from_secs(1), tf.run(ProvisionMode::Plan, tx)).await;
    assert!(cancelled.is_err(), "the plan was still running");
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while running(&pid) {
        assert!(
            std::time::Instant::now() < deadline,
            "terraform (pid {pid}) survived the cancel"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_aws_backend_runs_terraform_in_the_environments_directory() {
    use njtui::aws::{AwsBackend, AwsOptions};
    use njtui::backend::Backend;
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("provision/envs/prod");
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).credentials_provider(
        aws_sdk_sts::config::Credentials::new("a", "b", None, None, "test"),
    );
    let b = AwsBackend::connect_with(
        AwsOptions {
            env: "prod".into(),
            region: Some("eu-west-1".into()),
            terraform_dir: Some(missing.clone()),
            ..Default::default()
        },
        loader,
    )
    .await
    .unwrap();
    assert_eq!(b.terraform_dir(), missing);
    let (tx, _rx) = mpsc::unbounded_channel();
    let e = b.provision(ProvisionMode::Plan, tx).await.unwrap_err();
    assert!(
        matches!(e, BackendError::Invalid(ref m) if m.contains("provision/envs/prod")),
        "{e:?}"
    );
}
