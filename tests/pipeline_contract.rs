//! The console and the pipeline agree on how long a release bakes: the console
//! shows a release as baking, then settled, by `bake_duration(env)`, and the
//! pipeline bakes `bake-minutes` of its environment's stage in deliver.yml.

use njtui::domain::bake_duration;

/// The `bake-minutes:` of the deliver.yml job that deploys `env`.
fn pipeline_bake_minutes(deliver: &str, env: &str) -> i64 {
    // Jobs are the lines indented by two spaces, and what follows each.
    let mut jobs: Vec<Vec<&str>> = Vec::new();
    for line in deliver.lines() {
        let job_start =
            line.starts_with("  ") && !line.starts_with("   ") && !line.trim().is_empty();
        match jobs.last_mut() {
            Some(job) if !job_start => job.push(line),
            _ => jobs.push(vec![line]),
        }
    }
    let job = jobs
        .iter()
        .find(|job| {
            job.iter()
                .any(|l| l.trim() == format!("environment: {env}"))
        })
        .unwrap_or_else(|| panic!("deliver.yml has no job deploying {env}"));
    let minutes = job
        .iter()
        .find_map(|line| line.trim().strip_prefix("bake-minutes:"))
        .unwrap_or_else(|| panic!("deliver.yml's job deploying {env} has no bake-minutes"));
    minutes
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("bake-minutes of {env} is not a number: {minutes:?}"))
}

#[test]
fn the_console_bakes_as_long_as_the_pipeline() {
    // The checkout `cargo test` runs in: the build cache is shared between clones.
    let root = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
    let deliver = std::fs::read_to_string(format!("{root}/.github/workflows/deliver.yml"))
        .expect("deliver.yml");
    for env in ["staging", "prod"] {
        assert_eq!(
            bake_duration(env).num_minutes(),
            pipeline_bake_minutes(&deliver, env),
            "bake_duration({env}) and deliver.yml's bake-minutes for {env} differ"
        );
    }
}

/// The first number after `key` (`key: 10800`, `key = 10800`) in `text`.
fn number_after(text: &str, key: &str, file: &str) -> i64 {
    let at = text
        .find(key)
        .unwrap_or_else(|| panic!("{file} has no {key}"));
    text[at + key.len()..]
        .trim_start_matches([' ', ':', '='])
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{file}: {key} is not followed by a number"))
}

#[test]
fn the_deploy_role_lets_credentials_last_the_deploy_job() {
    let root = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
    let read = |path: &str| {
        std::fs::read_to_string(format!("{root}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let deploy = read(".github/workflows/deploy.yml");
    let role = read("provision/modules/delivery/main.tf");
    let asked = number_after(&deploy, "role-duration-seconds", "deploy.yml");
    let allowed = number_after(&role, "max_session_duration", "modules/delivery/main.tf");
    let job = number_after(&deploy, "timeout-minutes", "deploy.yml") * 60;
    // STS refuses a session longer than the role allows: the job would not start.
    assert!(
        asked <= allowed,
        "deploy.yml asks for {asked} s; notejam-<env>-deploy allows {allowed} s"
    );
    assert!(
        asked >= job,
        "deploy.yml may run {job} s on credentials of {asked} s"
    );
}
