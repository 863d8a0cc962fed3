use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Checks the Terraform under a directory against the naming and tagging
/// contract (contract tags and names, log group retention, IMDSv2, backup
/// retention) and, with --amis, the Packer templates. Exits 1 when anything
/// is violated, 2 when the input cannot be read.
#[derive(Parser)]
#[command(name = "provision-checks", version)]
struct Args {
    /// Directory holding the Terraform (usually provision/).
    #[arg(default_value = "provision")]
    dir: PathBuf,

    /// Also check the Packer templates in the subdirectories of this
    /// directory (usually amis/).
    #[arg(long, value_name = "DIR")]
    amis: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut violations = 0;

    match provision_checks::check_dir(&args.dir) {
        Err(e) => {
            eprintln!("provision-checks: {e}");
            return ExitCode::from(2);
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
            violations += report.violations.len();
        }
    }

    if let Some(amis) = &args.amis {
        match provision_checks::packer::check_dir(amis) {
            Err(e) => {
                eprintln!("provision-checks: {e}");
                return ExitCode::from(2);
            }
            Ok((templates, found)) => {
                for v in &found {
                    println!("{}: {v}", amis.display());
                }
                eprintln!(
                    "provision-checks: {templates} Packer templates under {}: {} violation(s)",
                    amis.display(),
                    found.len()
                );
                violations += found.len();
            }
        }
    }

    if violations == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
