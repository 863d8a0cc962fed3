use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Checks the Terraform under a directory against the naming and tagging
/// contract: contract tags and names, log group retention, IMDSv2, backup
/// retention. Exits 1 when anything is violated, 2 when the tree cannot be
/// read.
#[derive(Parser)]
#[command(name = "provision-checks", version)]
struct Args {
    /// Directory holding the Terraform (usually provision/).
    #[arg(default_value = "provision")]
    dir: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match provision_checks::check_dir(&args.dir) {
        Err(e) => {
            eprintln!("provision-checks: {e}");
            ExitCode::from(2)
        }
        Ok(report) => {
            for v in &report.violations {
                println!("{}: {v}", args.dir.display());
            }
            eprintln!(
                "provision-checks: {} resources in {} files under {}: {} violation(s)",
                report.resources,
                report.files,
                args.dir.display(),
                report.violations.len()
            );
            if report.violations.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
