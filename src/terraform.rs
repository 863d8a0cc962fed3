//! Runs Terraform for `provision`: `init` when the directory has never been
//! initialised, then `plan` into a saved plan file, and for `apply` that saved plan.
//! Output lines stream to the caller as they come; dropping the future kills
//! Terraform.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use regex::Regex;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

use crate::backend::{BackendError, LineSink, Result};
use crate::domain::{PlanSummary, ProvisionMode};

pub const INSTALL_URL: &str = "https://developer.hashicorp.com/terraform/install";

/// The plan file, inside `.terraform/` so it is never committed.
const PLAN_FILE: &str = ".terraform/njtui.tfplan";

/// A saved plan older than this is not applied; a fresh one is made.
const PLAN_MAX_AGE: Duration = Duration::from_secs(30 * 60);

static PLAN_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy").expect("valid regex")
});
static APPLY_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Apply complete! Resources: (\d+) added, (\d+) changed, (\d+) destroyed")
        .expect("valid regex")
});

/// The counts a line of Terraform output announces, if it is a summary line.
pub fn parse_summary(line: &str) -> Option<PlanSummary> {
    let caps = PLAN_RE.captures(line).or_else(|| APPLY_RE.captures(line));
    if let Some(c) = caps {
        let n = |i: usize| c[i].parse::<u32>().unwrap_or(u32::MAX);
        return Some(PlanSummary {
            add: n(1),
            change: n(2),
            destroy: n(3),
        });
    }
    line.trim_start()
        .starts_with("No changes.")
        .then(PlanSummary::default)
}

#[derive(Clone, Debug)]
pub struct Terraform {
    dir: PathBuf,
    search_path: Option<OsString>,
    env: Vec<(String, String)>,
}

impl Terraform {
    pub fn new(dir: impl Into<PathBuf>) -> Terraform {
        Terraform {
            dir: dir.into(),
            search_path: None,
            env: vec![],
        }
    }

    /// Where to look for `terraform` instead of `$PATH`.
    pub fn search_path(mut self, path: impl Into<OsString>) -> Terraform {
        self.search_path = Some(path.into());
        self
    }

    /// An environment variable for Terraform (the AWS profile and region).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Terraform {
        self.env.push((key.into(), value.into()));
        self
    }

    fn program(&self) -> Result<PathBuf> {
        let path = self
            .search_path
            .clone()
            .or_else(|| std::env::var_os("PATH"))
            .unwrap_or_default();
        std::env::split_paths(&path)
            .map(|d| d.join("terraform"))
            .find(|p| is_executable(p))
            .ok_or_else(|| {
                BackendError::Other(format!(
                    "terraform is not installed or not on PATH; install Terraform 1.5 or newer ({INSTALL_URL}) and try again"
                ))
            })
    }

    pub async fn run(&self, mode: ProvisionMode, sink: LineSink) -> Result<PlanSummary> {
        if !self.dir.is_dir() {
            return Err(BackendError::Invalid(format!(
                "Terraform directory {} does not exist; run njtui from the repository root (it uses provision/envs/<env>) or provision that environment's root module first",
                self.dir.display()
            )));
        }
        let program = self.program()?;
        if !self.dir.join(".terraform").is_dir() {
            self.step(&program, &["init", "-input=false", "-no-color"], &sink)
                .await?;
        }
        let plan_file = self.dir.join(PLAN_FILE);
        match mode {
            ProvisionMode::Plan => self.plan(&program, &sink).await,
            ProvisionMode::Apply => {
                let planned = if self.saved_plan_is_current(&plan_file) {
                    let _ = sink.send(format!("njtui: applying the plan saved in {PLAN_FILE}"));
                    None
                } else {
                    Some(self.plan(&program, &sink).await?)
                };
                let applied = self
                    .step(
                        &program,
                        &["apply", "-input=false", "-no-color", PLAN_FILE],
                        &sink,
                    )
                    .await;
                // A plan file is applied at most once, whatever the outcome.
                let _ = std::fs::remove_file(&plan_file);
                applied?.or(planned).ok_or_else(|| {
                    BackendError::Other("terraform apply finished without a summary line".into())
                })
            }
        }
    }

    async fn plan(&self, program: &Path, sink: &LineSink) -> Result<PlanSummary> {
        let out = format!("-out={PLAN_FILE}");
        self.step(program, &["plan", "-input=false", "-no-color", &out], sink)
            .await?
            .ok_or_else(|| {
                BackendError::Other("terraform plan finished without a summary line".into())
            })
    }

    /// A saved plan is applied only if it is recent and no configuration file
    /// changed after it was made; otherwise what was confirmed may not be what
    /// would be applied.
    fn saved_plan_is_current(&self, plan_file: &Path) -> bool {
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let Some(planned) = modified(plan_file) else {
            return false;
        };
        if SystemTime::now()
            .duration_since(planned)
            .unwrap_or_default()
            > PLAN_MAX_AGE
        {
            return false;
        }
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return false;
        };
        entries.flatten().all(|e| {
            let p = e.path();
            let config = matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("tf" | "tfvars")
            );
            !config || modified(&p).is_none_or(|m| m <= planned)
        })
    }

    /// Runs one Terraform command, streaming stdout and stderr lines, and returns
    /// the last summary line seen.
    async fn step(
        &self,
        program: &Path,
        args: &[&str],
        sink: &LineSink,
    ) -> Result<Option<PlanSummary>> {
        let _ = sink.send(format!("$ terraform {}", args.join(" ")));
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(&self.dir)
            .env("TF_IN_AUTOMATION", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .map_err(|e| BackendError::Other(format!("cannot run {}: {e}", program.display())))?;
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let (out, err) = tokio::join!(pump(stdout, sink), pump(stderr, sink));
        let status = child
            .wait()
            .await
            .map_err(|e| BackendError::Other(format!("terraform {}: {e}", args[0])))?;
        if !status.success() {
            let why = err.1.or(out.1).unwrap_or_else(|| "no output".into());
            return Err(BackendError::Other(format!(
                "terraform {} failed ({status}): {why}",
                args[0]
            )));
        }
        Ok(out.0.or(err.0))
    }
}

/// Forwards lines to the sink; returns the last summary and last non-empty line.
async fn pump(
    stream: impl AsyncRead + Unpin,
    sink: &LineSink,
) -> (Option<PlanSummary>, Option<String>) {
    let mut lines = BufReader::new(stream).lines();
    let (mut summary, mut last) = (None, None);
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(s) = parse_summary(&line) {
            summary = Some(s);
        }
        if !line.trim().is_empty() {
            last = Some(line.trim().to_string());
        }
        // A closed sink means nobody watches any more; Terraform still finishes.
        let _ = sink.send(line);
    }
    (summary, last)
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_parsed_from_plan_and_apply_lines() {
        assert_eq!(
            parse_summary("Plan: 3 to add, 1 to change, 0 to destroy."),
            Some(PlanSummary {
                add: 3,
                change: 1,
                destroy: 0
            })
        );
        assert_eq!(
            parse_summary("Plan: 1 to add, 0 to change, 2 to destroy, 1 to import."),
            Some(PlanSummary {
                add: 1,
                change: 0,
                destroy: 2
            })
        );
        assert_eq!(
            parse_summary("No changes. Your infrastructure matches the configuration."),
            Some(PlanSummary::default())
        );
        assert_eq!(
            parse_summary("Apply complete! Resources: 2 added, 0 changed, 1 destroyed."),
            Some(PlanSummary {
                add: 2,
                change: 0,
                destroy: 1
            })
        );
        assert_eq!(parse_summary("  # aws_instance.web will be created"), None);
    }
}
