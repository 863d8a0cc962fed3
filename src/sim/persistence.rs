//! The world's file: JSON with a format name and version, written atomically
//! (a temporary file renamed over the old one) under an advisory lock on a
//! sidecar `.lock` file, so the command line and a running console share one
//! world. A reader notices another process's write by the file's identity
//! (length, modification time, inode) without reading it.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};

use super::clock::Clock;
use super::world::World;

pub const FORMAT: &str = "njtui-sim-world";
/// 2: deployments in two groups (canary and fleet) and the releases around them.
pub const VERSION: u32 = 2;

#[derive(Serialize)]
struct StateRef<'a> {
    format: &'a str,
    version: u32,
    generation: u64,
    clock: &'a Clock,
    world: &'a World,
}

#[derive(Deserialize)]
pub struct State {
    #[allow(dead_code)]
    format: String,
    #[allow(dead_code)]
    version: u32,
    pub generation: u64,
    pub clock: Clock,
    pub world: World,
}

/// Read first, so an incompatible file is named as such rather than as corrupt.
#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    version: Option<u32>,
}

/// Identifies one version of the file without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

fn stamp_of(meta: &fs::Metadata) -> Stamp {
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(meta);
    #[cfg(not(unix))]
    let inode = 0;
    Stamp {
        len: meta.len(),
        modified: meta.modified().ok(),
        inode,
    }
}

pub struct Store {
    path: PathBuf,
    lock_path: PathBuf,
    /// The version we last read or wrote.
    seen: Option<Stamp>,
}

/// Held while reading-modifying-writing; released on drop.
pub struct Lock(#[allow(dead_code)] File);

fn reset_hint(path: &Path) -> String {
    format!(
        "start a new demo world with `njtui --env demo --reset` (this replaces {})",
        path.display()
    )
}

impl Store {
    pub fn new(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the state directory {}", dir.display()))?;
        }
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".lock");
        Ok(Store {
            path: path.to_path_buf(),
            lock_path: PathBuf::from(lock_path),
            seen: None,
        })
    }

    pub fn lock(&self) -> Result<Lock> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock_path)
            .with_context(|| format!("cannot open the lock file {}", self.lock_path.display()))?;
        file.lock()
            .with_context(|| format!("cannot lock {}", self.lock_path.display()))?;
        Ok(Lock(file))
    }

    fn current(&self) -> Option<Stamp> {
        fs::metadata(&self.path).ok().map(|m| stamp_of(&m))
    }

    /// Whether another process wrote the file since we last read or wrote it.
    pub fn changed(&self) -> bool {
        self.current() != self.seen
    }

    /// Reads the world; `None` when there is no file yet.
    pub fn load(&mut self) -> Result<Option<State>> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.seen = None;
                return Ok(None);
            }
            Err(e) => {
                return Err(anyhow!(e))
                    .with_context(|| format!("cannot read {}", self.path.display()));
            }
        };
        let stamp = self.current();
        let state = parse(&bytes).map_err(|why| {
            anyhow!(
                "the demo world in {} cannot be used: {why}; {}",
                self.path.display(),
                reset_hint(&self.path)
            )
        })?;
        self.seen = stamp;
        Ok(Some(state))
    }

    /// Writes atomically: a temporary file in the same directory, synced, then
    /// renamed over the world.
    pub fn save(&mut self, generation: u64, clock: &Clock, world: &World) -> Result<()> {
        let bytes = serde_json::to_vec(&StateRef {
            format: FORMAT,
            version: VERSION,
            generation,
            clock,
            world,
        })
        .context("cannot encode the demo world")?;
        let mut tmp = self.path.as_os_str().to_owned();
        tmp.push(format!(".tmp.{}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, &self.path)
        };
        if let Err(e) = write() {
            let _ = fs::remove_file(&tmp);
            return Err(anyhow!(e))
                .with_context(|| format!("cannot write {}", self.path.display()));
        }
        self.seen = self.current();
        Ok(())
    }
}

fn parse(bytes: &[u8]) -> Result<State, String> {
    match serde_json::from_slice::<State>(bytes) {
        Ok(state) if state.format == FORMAT && state.version == VERSION => {
            state.world.check()?;
            Ok(state)
        }
        Ok(state) => Err(incompatible(Some(state.format), Some(state.version))),
        Err(e) => match serde_json::from_slice::<Header>(bytes) {
            Ok(h) if h.format.as_deref() == Some(FORMAT) && h.version != Some(VERSION) => {
                Err(incompatible(h.format, h.version))
            }
            Ok(h) if h.format.is_some() && h.format.as_deref() != Some(FORMAT) => {
                Err(incompatible(h.format, h.version))
            }
            _ => Err(format!("it is not a valid world file ({e})")),
        },
    }
}

fn incompatible(format: Option<String>, version: Option<u32>) -> String {
    format!(
        "it was written in format {} version {}, and this njtui reads {FORMAT} version {VERSION}",
        format.as_deref().unwrap_or("(none)"),
        version.map_or("(none)".to_string(), |v| v.to_string())
    )
}
