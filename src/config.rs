//! `config.toml`: settings an operator keeps between runs. Command-line flags win
//! over the file; the file wins over built-in defaults.
//!
//! ```toml
//! read_only = false          # refuse every action, everywhere
//! keymap = "vim"             # default | vim | a path
//! production = ["prod"]      # environments where actions need the name typed
//!
//! [env.prod]
//! read_only = true           # per environment
//! profile = "notejam-prod"
//! region = "eu-west-1"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub read_only: bool,
    pub keymap: Option<String>,
    /// Environments whose actions need the environment's name typed to confirm.
    #[serde(default = "default_production")]
    pub production: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, EnvConfig>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvConfig {
    #[serde(default)]
    pub read_only: bool,
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

fn default_production() -> Vec<String> {
    vec!["prod".into(), "production".into()]
}

impl Config {
    /// Loads `path`, or the default location when `None`. A missing default file
    /// is an empty config; a missing explicit file, or a malformed one, is an error
    /// naming the file and the line.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let (path, explicit): (PathBuf, bool) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (crate::paths::config_dir()?.join("config.toml"), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                return Ok(Config {
                    production: default_production(),
                    ..Config::default()
                });
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Self::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text)
            .map_err(|e| format!("line {}: {}", error_line(text, &e), e.message().trim()))
    }

    pub fn for_env(&self, env: &str) -> EnvConfig {
        self.env.get(env).cloned().unwrap_or_default()
    }

    pub fn read_only(&self, env: &str) -> bool {
        self.read_only || self.for_env(env).read_only
    }

    pub fn is_production(&self, env: &str) -> bool {
        self.production.iter().any(|p| p == env)
    }
}

/// The line a TOML error is about. For an unknown field, toml points at the whole
/// table; the line of the offending key is what a person needs.
pub fn error_line(text: &str, e: &toml::de::Error) -> usize {
    let line_at = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let message = e.message();
    if let Some(field) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
    {
        let span = e.span().unwrap_or(0..text.len());
        let region = &text[span.start.min(text.len())..span.end.min(text.len())];
        for (offset, line) in line_offsets(region) {
            let t = line.trim_start().trim_start_matches(['{', ',', ' ', '[']);
            if t.strip_prefix(field)
                .is_some_and(|r| r.trim_start().starts_with(['=', ']']))
            {
                return line_at(span.start + offset);
            }
            // Inline tables keep several keys on one line.
            if line.contains(&format!(" {field} =")) || line.contains(&format!("{{{field} =")) {
                return line_at(span.start + offset);
            }
        }
    }
    e.span().map_or(1, |s| line_at(s.start))
}

fn line_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n').map(move |line| {
        let at = offset;
        offset += line.len();
        (at, line)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_merges_per_env_settings() {
        let c = Config::parse(
            "keymap = \"vim\"\nproduction = [\"live\"]\n[env.live]\nread_only = true\nregion = \"eu-west-1\"\n",
        )
        .unwrap();
        assert_eq!(c.keymap.as_deref(), Some("vim"));
        assert!(c.read_only("live") && !c.read_only("staging"));
        assert!(c.is_production("live") && !c.is_production("prod"));
        assert_eq!(c.for_env("live").region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn defaults_treat_prod_as_production() {
        let c = Config::parse("").unwrap();
        assert!(c.is_production("prod") && !c.is_production("demo"));
    }

    #[test]
    fn errors_name_the_line_and_the_field() {
        let e = Config::parse("read_only = false\nreadonly = true\n").unwrap_err();
        assert!(e.starts_with("line 2:") && e.contains("readonly"), "{e}");
        let e = Config::parse("read_only = \"yes\"\n").unwrap_err();
        assert!(e.starts_with("line 1:"), "{e}");
    }

    #[test]
    fn missing_explicit_file_is_an_error() {
        let e = Config::load(Some(Path::new("/nonexistent/njtui.toml"))).unwrap_err();
        assert!(format!("{e:#}").contains("/nonexistent/njtui.toml"));
    }
}
