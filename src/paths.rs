//! Where njtui keeps its files, following the XDG base directory spec.

use std::path::PathBuf;

use anyhow::{Context, Result};

/// `$XDG_STATE_HOME/njtui` (default `~/.local/state/njtui`): the simulator's world
/// and the local audit log.
pub fn state_dir() -> Result<PathBuf> {
    let base =
        dirs::state_dir().context("cannot find the state directory: set XDG_STATE_HOME or HOME")?;
    Ok(base.join("njtui"))
}

/// `$XDG_CONFIG_HOME/njtui` (default `~/.config/njtui`): `config.toml` and a user
/// keymap, `keymap.toml`.
pub fn config_dir() -> Result<PathBuf> {
    let base = dirs::config_dir()
        .context("cannot find the config directory: set XDG_CONFIG_HOME or HOME")?;
    Ok(base.join("njtui"))
}
