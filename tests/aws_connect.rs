//! `AwsBackend::connect` and the standard configuration chain. Each case runs in a
//! child process of this test binary with an environment of its own (variables,
//! HOME, AWS config file), so the machine's own AWS setup never leaks in.

use std::process::Command;
use std::time::{Duration, Instant};

use njtui::aws::{AwsBackend, AwsOptions};

const CHILD: &str = "NJTUI_CONNECT_CASE";

/// In the child: connects with the case's options and prints the outcome.
async fn child_case(case: &str) {
    let opts = match case {
        "no-region" => AwsOptions {
            env: "prod".into(),
            ..Default::default()
        },
        "env-region" => AwsOptions {
            env: "prod".into(),
            ..Default::default()
        },
        "profile-region" => AwsOptions {
            env: "prod".into(),
            profile: Some("ops".into()),
            ..Default::default()
        },
        "flag-beats-env" => AwsOptions {
            env: "prod".into(),
            region: Some("sa-east-1".into()),
            ..Default::default()
        },
        "bad-endpoint" => AwsOptions {
            env: "prod".into(),
            region: Some("eu-west-1".into()),
            endpoint_url: Some("localhost:5000".into()),
            ..Default::default()
        },
        other => panic!("unknown case {other}"),
    };
    let started = Instant::now();
    match AwsBackend::connect(opts).await {
        Ok(b) => println!(
            "REGION={} IN={}ms",
            b.region(),
            started.elapsed().as_millis()
        ),
        Err(e) => println!("ERROR={e:#}"),
    }
}

/// Runs `case` in a child with only `env` set (plus PATH and a fresh HOME).
fn run_case(case: &str, env: &[(&str, &str)]) -> String {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("aws-config");
    std::fs::write(&config, "[profile ops]\nregion = ap-south-1\n").unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", home.path().join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env(CHILD, case)
        .envs(env.iter().copied())
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "child {case} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The harness prints "test child ... " before the case's own line.
    stdout
        .lines()
        .find_map(|l| {
            l.find("REGION=")
                .or_else(|| l.find("ERROR="))
                .map(|i| l[i..].to_string())
        })
        .unwrap_or_else(|| panic!("child {case} printed no outcome: {stdout}"))
}

/// The entry point of the child processes; does nothing in a normal run.
#[tokio::test]
async fn child() {
    if let Ok(case) = std::env::var(CHILD) {
        child_case(&case).await;
    }
}

#[test]
fn without_any_region_the_error_names_the_ways_to_give_one() {
    let out = run_case("no-region", &[]);
    assert!(
        out.starts_with("ERROR=no AWS region for environment 'prod'")
            && out.contains("--region")
            && out.contains("AWS_REGION"),
        "{out}"
    );
}

#[test]
fn the_region_comes_from_the_environment_the_profile_or_the_flag() {
    let out = run_case("env-region", &[("AWS_REGION", "eu-north-1")]);
    assert!(out.starts_with("REGION=eu-north-1 "), "{out}");
    let out = run_case("profile-region", &[]);
    assert!(out.starts_with("REGION=ap-south-1 "), "{out}");
    let out = run_case("flag-beats-env", &[("AWS_REGION", "eu-north-1")]);
    assert!(out.starts_with("REGION=sa-east-1 "), "{out}");
}

#[test]
fn connecting_does_not_wait_for_credentials_or_the_network() {
    // No credentials anywhere: they are resolved on the first call, not here.
    let out = run_case("env-region", &[("AWS_REGION", "eu-north-1")]);
    let ms: u64 = out
        .split("IN=")
        .nth(1)
        .unwrap()
        .trim_end_matches("ms")
        .parse()
        .unwrap();
    assert!(Duration::from_millis(ms) < Duration::from_secs(1), "{out}");
}

#[test]
fn a_malformed_endpoint_is_refused_with_an_example() {
    let out = run_case("bad-endpoint", &[]);
    assert!(
        out.contains("invalid --endpoint-url 'localhost:5000'") && out.contains("http://"),
        "{out}"
    );
}
