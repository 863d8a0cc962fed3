//! A throwaway PostgreSQL 15 cluster for the test binary: created on first use in a
//! temporary directory owned by `postgres`, reached over a Unix socket there, and
//! stopped and removed by a watchdog process when the test binary exits.

use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

use sqlx::Connection;

const PG_BIN_DIRS: &[&str] = &["/usr/lib/postgresql/15/bin"];

pub struct Cluster {
    socket_dir: PathBuf,
    /// Held open for the life of the process; its closing wakes the watchdog.
    _watchdog: Mutex<(Child, ChildStdin)>,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

fn find_binary(name: &str) -> Option<PathBuf> {
    PG_BIN_DIRS
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.is_file())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL tool, as `postgres` when we are root (the server refuses root).
fn pg_command(binary: &Path, as_postgres: bool) -> Command {
    if as_postgres {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(binary);
        command
    } else {
        Command::new(binary)
    }
}

fn run(mut command: Command, what: &str) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("{what}: cannot run: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn start() -> Result<Cluster, String> {
    let (Some(initdb), Some(pg_ctl)) = (find_binary("initdb"), find_binary("pg_ctl")) else {
        return Err(format!(
            "PostgreSQL 15 server binaries (initdb, pg_ctl) not found in {PG_BIN_DIRS:?}. \
             The PostgreSQL tests need them: install the Debian package `postgresql` \
             (scripts/setup-test-deps does)."
        ));
    };
    let as_postgres = is_root();
    let dir = tempfile::Builder::new()
        .prefix("nj-pg-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?
        .keep();
    if as_postgres {
        let mut chown = Command::new("chown");
        chown.args(["-R", "postgres:postgres"]).arg(&dir);
        run(chown, "chown of the cluster directory to postgres")?;
    }
    let data = dir.join("data");
    let mut init = pg_command(&initdb, as_postgres);
    init.arg("-D").arg(&data).args([
        "--auth=trust",
        "--username=postgres",
        "--encoding=UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
    ]);
    run(init, "initdb")?;

    // The watchdog outlives us: when our end of its stdin closes (we exit, however we
    // exit), it stops the server and removes the directory.
    let mut watchdog = Command::new("sh")
        .arg("-c")
        .arg(
            r#"cat >/dev/null; "$@" -D "$0/data" -m immediate -w stop >/dev/null 2>&1; rm -rf "$0""#,
        )
        .arg(&dir)
        .args(if as_postgres { vec!["runuser", "-u", "postgres", "--"] } else { vec![] })
        .arg(&pg_ctl)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the cluster watchdog: {e}"))?;
    let stdin = watchdog.stdin.take().expect("piped stdin");

    let options = format!(
        "-c listen_addresses='' -k {} -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off -c max_connections=300",
        dir.display()
    );
    let mut ctl = pg_command(&pg_ctl, as_postgres);
    ctl.arg("-D")
        .arg(&data)
        .arg("-o")
        .arg(options)
        .arg("-l")
        .arg(dir.join("server.log"))
        .args(["-w", "-t", "60", "start"]);
    run(ctl, "pg_ctl start")?;
    Ok(Cluster {
        socket_dir: dir,
        _watchdog: Mutex::new((watchdog, stdin)),
    })
}

fn cluster() -> &'static Cluster {
    match CLUSTER.get_or_init(start) {
        Ok(cluster) => cluster,
        Err(message) => panic!("cannot start the test PostgreSQL cluster: {message}"),
    }
}

fn url_for(database: &str) -> String {
    format!(
        "postgres://postgres@localhost/{database}?host={}",
        cluster().socket_dir.display()
    )
}

/// A new, empty database on the shared cluster; returns its URL.
pub async fn fresh_database() -> String {
    let cluster_url = tokio::task::spawn_blocking(|| url_for("postgres"))
        .await
        .unwrap();
    let name = format!(
        "notejam_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = sqlx::PgConnection::connect(&cluster_url)
        .await
        .expect("connect to the test cluster");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    admin.close().await.ok();
    url_for(&name)
}
