//! Runtime configuration, read once at start from environment variables.

use std::net::SocketAddr;
use std::time::Duration;

/// Where the mail with a new password goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailConfig {
    /// No SMTP server configured: the mail is written to the log.
    Log,
    /// An SMTP URL as lettre understands it, e.g. `smtps://user:pass@smtp.example.com`.
    Smtp { url: String, from: String },
}

/// Whether session cookies carry the `Secure` attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecureCookies {
    /// Secure when the request came over TLS as told by `X-Forwarded-Proto: https` (the ALB).
    Auto,
    Always,
    Never,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub addr: SocketAddr,
    /// At least 32 bytes; `None` means an ephemeral key (sessions end at restart).
    pub secret_key: Option<Vec<u8>>,
    pub environment: String,
    pub secure_cookies: SecureCookies,
    pub mail: MailConfig,
    pub db_max_connections: u32,
    pub metrics_interval: Duration,
    /// Emit EMF metric lines at all (off in tests and local runs by choice).
    pub metrics_enabled: bool,
    /// Users whose pads and note lists each node keeps in memory; 0 turns the cache off.
    pub cache_users: usize,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

fn err(var: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        problem: problem.into(),
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://notejam.db";
pub const DEFAULT_ADDR: &str = "127.0.0.1:8000";

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if !(database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://")
            || database_url.starts_with("sqlite:"))
        {
            return Err(err(
                "DATABASE_URL",
                "must start with postgres://, postgresql:// or sqlite:",
            ));
        }

        let addr_text = get("NOTEJAM_ADDR").unwrap_or_else(|| DEFAULT_ADDR.to_owned());
        let addr = addr_text.parse::<SocketAddr>().map_err(|_| {
            err(
                "NOTEJAM_ADDR",
                format!("{addr_text:?} is not an IP address and port such as 127.0.0.1:8000"),
            )
        })?;

        let secret_key = match get("NOTEJAM_SECRET_KEY") {
            None => None,
            Some(key) if key.len() < 32 => {
                return Err(err(
                    "NOTEJAM_SECRET_KEY",
                    format!("must be at least 32 bytes long, got {}", key.len()),
                ));
            }
            Some(key) => Some(key.into_bytes()),
        };

        let environment = get("NOTEJAM_ENV").unwrap_or_else(|| "local".to_owned());
        if !environment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(err(
                "NOTEJAM_ENV",
                "may only hold letters, digits, '-' and '_'",
            ));
        }

        let secure_cookies = match get("NOTEJAM_SECURE_COOKIES").as_deref() {
            None | Some("auto") => SecureCookies::Auto,
            Some("always") => SecureCookies::Always,
            Some("never") => SecureCookies::Never,
            Some(other) => {
                return Err(err(
                    "NOTEJAM_SECURE_COOKIES",
                    format!("{other:?} is not one of auto, always, never"),
                ));
            }
        };

        let mail = match get("NOTEJAM_SMTP_URL") {
            None => MailConfig::Log,
            Some(url) => {
                if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                    return Err(err(
                        "NOTEJAM_SMTP_URL",
                        "must start with smtp:// or smtps://",
                    ));
                }
                let from = get("NOTEJAM_MAIL_FROM")
                    .ok_or_else(|| err("NOTEJAM_MAIL_FROM", "is required with NOTEJAM_SMTP_URL"))?;
                MailConfig::Smtp { url, from }
            }
        };

        let db_max_connections = parse_number(&get, "NOTEJAM_DB_MAX_CONNECTIONS", 10)?;
        if db_max_connections == 0 {
            return Err(err("NOTEJAM_DB_MAX_CONNECTIONS", "must be at least 1"));
        }
        let interval = parse_number(&get, "NOTEJAM_METRICS_INTERVAL_SECS", 60)?;
        if interval == 0 {
            return Err(err("NOTEJAM_METRICS_INTERVAL_SECS", "must be at least 1"));
        }
        let metrics_enabled = match get("NOTEJAM_METRICS").as_deref() {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => {
                return Err(err(
                    "NOTEJAM_METRICS",
                    format!("{other:?} is not one of on, off"),
                ));
            }
        };

        let cache_users = parse_number(&get, "NOTEJAM_CACHE_USERS", 10_000)? as usize;

        Ok(Config {
            database_url,
            addr,
            secret_key,
            environment,
            secure_cookies,
            mail,
            db_max_connections,
            metrics_interval: Duration::from_secs(u64::from(interval)),
            metrics_enabled,
            cache_users,
        })
    }
}

fn parse_number(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u32,
) -> Result<u32, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse()
            .map_err(|_| err(var, format!("{text:?} is not a whole number"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_a_local_sqlite_file_on_loopback() {
        let config = with(&[]).unwrap();
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.addr.to_string(), DEFAULT_ADDR);
        assert_eq!(config.secret_key, None);
        assert_eq!(config.environment, "local");
        assert_eq!(config.mail, MailConfig::Log);
        assert_eq!(config.secure_cookies, SecureCookies::Auto);
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let cases: &[(&str, &str)] = &[
            ("DATABASE_URL", "mysql://x"),
            ("NOTEJAM_ADDR", "localhost"),
            ("NOTEJAM_SECRET_KEY", "short"),
            ("NOTEJAM_ENV", "prod env"),
            ("NOTEJAM_SECURE_COOKIES", "sometimes"),
            ("NOTEJAM_SMTP_URL", "http://mail"),
            ("NOTEJAM_DB_MAX_CONNECTIONS", "ten"),
            ("NOTEJAM_DB_MAX_CONNECTIONS", "0"),
            ("NOTEJAM_METRICS_INTERVAL_SECS", "-1"),
            ("NOTEJAM_METRICS", "maybe"),
            ("NOTEJAM_CACHE_USERS", "lots"),
        ];
        for (var, value) in cases {
            let error = with(&[(var, value)]).unwrap_err();
            assert_eq!(error.var, *var, "{var}={value}: {error}");
        }
    }

    #[test]
    fn smtp_needs_a_sender() {
        let error = with(&[("NOTEJAM_SMTP_URL", "smtp://localhost:25")]).unwrap_err();
        assert_eq!(error.var, "NOTEJAM_MAIL_FROM");
        let config = with(&[
            ("NOTEJAM_SMTP_URL", "smtp://localhost:25"),
            ("NOTEJAM_MAIL_FROM", "notejam@example.com"),
        ])
        .unwrap();
        assert!(matches!(config.mail, MailConfig::Smtp { .. }));
    }

    #[test]
    fn postgres_and_a_long_key_are_accepted() {
        let config = with(&[
            ("DATABASE_URL", "postgres://notejam@db/notejam"),
            ("NOTEJAM_SECRET_KEY", &"k".repeat(32)),
            ("NOTEJAM_ADDR", "0.0.0.0:8080"),
            ("NOTEJAM_ENV", "prod"),
        ])
        .unwrap();
        assert_eq!(
            config.secret_key.as_deref(),
            Some("k".repeat(32).as_bytes())
        );
        assert_eq!(config.addr.port(), 8080);
    }
}
