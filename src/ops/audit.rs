//! The local audit trail: one JSON object per line, appended, never rewritten.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::domain::AuditRecord;

#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    pub fn new(path: PathBuf) -> AuditLog {
        AuditLog { path }
    }

    /// `$XDG_STATE_HOME/njtui/audit.jsonl`.
    pub fn default_path() -> Result<PathBuf> {
        Ok(crate::paths::state_dir()?.join("audit.jsonl"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record. The line is written with a single `write_all` under an
    /// exclusive lock, so concurrent consoles never interleave half lines.
    pub fn append(&self, record: &AuditRecord) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .with_context(|| format!("cannot open audit log {}", self.path.display()))?;
        file.lock()
            .with_context(|| format!("cannot lock audit log {}", self.path.display()))?;
        file.write_all(&line)
            .and_then(|_| file.flush())
            .with_context(|| format!("cannot write audit log {}", self.path.display()))?;
        Ok(())
    }

    /// The newest `limit` records, oldest first. Lines that do not parse (a file
    /// edited by hand) are skipped and counted.
    pub fn tail(&self, limit: usize) -> Result<(Vec<AuditRecord>, usize)> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((vec![], 0)),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", self.path.display()));
            }
        };
        let mut records = std::collections::VecDeque::with_capacity(limit.min(1024));
        let mut bad = 0;
        for line in BufReader::new(file).lines() {
            let line = line.with_context(|| format!("cannot read {}", self.path.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<AuditRecord>(&line) {
                Ok(r) => {
                    if records.len() == limit {
                        records.pop_front();
                    }
                    if limit > 0 {
                        records.push_back(r);
                    }
                }
                Err(_) => bad += 1,
            }
        }
        Ok((records.into(), bad))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AuditOutcome, BackendKind};

    fn record(n: u32) -> AuditRecord {
        AuditRecord {
            time: chrono::Utc::now(),
            env: "demo".into(),
            backend: BackendKind::Sim,
            who: "tester".into(),
            action: "scale".into(),
            change: format!("web: desired {n} -> {}", n + 1),
            outcome: AuditOutcome::Succeeded,
            detail: None,
        }
    }

    #[test]
    fn appends_and_reads_back_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("sub/audit.jsonl"));
        for n in 0..5 {
            log.append(&record(n)).unwrap();
        }
        std::fs::OpenOptions::new()
            .append(true)
            .open(log.path())
            .unwrap()
            .write_all(b"not json\n")
            .unwrap();
        let (tail, bad) = log.tail(2).unwrap();
        assert_eq!(bad, 1);
        assert_eq!(
            tail.iter().map(|r| r.change.as_str()).collect::<Vec<_>>(),
            ["web: desired 3 -> 4", "web: desired 4 -> 5"]
        );
    }

    #[test]
    fn a_missing_log_is_empty() {
        let log = AuditLog::new("/nonexistent/dir/audit.jsonl".into());
        assert_eq!(log.tail(10).unwrap().0.len(), 0);
    }
}
