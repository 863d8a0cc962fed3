//! The database: one query layer over PostgreSQL or SQLite through sqlx's `Any` driver.
//!
//! Every query is written once with `$N` placeholders, which both drivers accept;
//! only the migrations differ per backend (identity columns are spelled differently).

pub mod notes;
pub mod pads;
pub mod users;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else {
            None
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("DATABASE_URL must start with postgres://, postgresql:// or sqlite:")]
    UnknownScheme,
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot apply the database migrations: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

impl Db {
    /// Connects and applies pending migrations. On PostgreSQL the migrator holds an
    /// advisory lock, so web nodes starting together apply each migration once.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, ConnectError> {
        install_default_drivers();
        let backend = Backend::of_url(url).ok_or(ConnectError::UnknownScheme)?;
        let url = match backend {
            Backend::Sqlite => sqlite_url_creating_file(url),
            Backend::Postgres => url.to_owned(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // Per-connection settings: SQLite leaves foreign keys off by default,
                        // and a writer waits for another instead of failing at once.
                        conn.execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(ConnectError::Connect)?;
        if backend == Backend::Sqlite {
            // Persistent in the file: readers no longer block the writer.
            pool.execute("PRAGMA journal_mode = WAL;")
                .await
                .map_err(ConnectError::Connect)?;
        }
        let migrator = match backend {
            Backend::Postgres => &POSTGRES_MIGRATIONS,
            Backend::Sqlite => &SQLITE_MIGRATIONS,
        };
        let mut attempt = 1;
        while let Err(error) = migrator.run(&pool).await {
            // SQLite has no advisory lock: when two processes start on one new file, the
            // loser's migration fails (and rolls back); run again, it finds the work done.
            if backend == Backend::Postgres || attempt == 3 {
                return Err(ConnectError::Migrate(error));
            }
            attempt += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(Db { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A round trip to the database, for the readiness probe.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        self.pool.execute("SELECT 1").await.map(|_| ())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `sqlite://notejam.db` should create the file on first start, as a zero-setup default must.
fn sqlite_url_creating_file(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// Now, as stored: Unix milliseconds, UTC.
pub fn now_millis() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// True when a foreign key refused the write (e.g. a note put in a pad just deleted).
pub fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}

/// True when the error is a unique-constraint violation (e.g. an email signed up twice).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_gain_create_mode_unless_given() {
        assert_eq!(
            sqlite_url_creating_file("sqlite://notejam.db"),
            "sqlite://notejam.db?mode=rwc"
        );
        assert_eq!(
            sqlite_url_creating_file("sqlite://x.db?cache=shared"),
            "sqlite://x.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            sqlite_url_creating_file("sqlite://x.db?mode=ro"),
            "sqlite://x.db?mode=ro"
        );
    }

    #[test]
    fn backends_are_told_by_scheme() {
        assert_eq!(Backend::of_url("postgres://h/db"), Some(Backend::Postgres));
        assert_eq!(
            Backend::of_url("postgresql://h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::of_url("sqlite://f.db"), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url("mysql://h/db"), None);
    }
}
