//! Offline checks of the Terraform under `provision/`: the naming and
//! tagging contract the console depends on (design.md section 3), log
//! retention, IMDSv2 and backup retention, read statically from the HCL with
//! hcl-rs (no provider, no plan).

pub mod eval;
pub mod iam;
pub mod packer;
pub mod rules;
pub mod taggable;
pub mod tree;

use std::path::Path;

pub use rules::Violation;
pub use tree::{LoadError, Tree};

/// What a check of one tree found.
#[derive(Debug)]
pub struct Report {
    pub files: usize,
    pub resources: usize,
    pub violations: Vec<Violation>,
}

/// Loads every `.tf` file under `dir` and runs every rule.
pub fn check_dir(dir: &Path) -> Result<Report, LoadError> {
    let tree = Tree::load(dir)?;
    Ok(check_tree(&tree))
}

pub fn check_tree(tree: &Tree) -> Report {
    Report {
        files: tree.file_count(),
        resources: tree.modules.iter().map(|m| m.resources.len()).sum(),
        violations: rules::check(tree),
    }
}
