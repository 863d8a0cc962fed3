//! A moto server (the AWS API emulator) on a loopback port.
//!
//! moto runs under a small Python guardian that reads its stdin: when the test
//! process ends, however it ends (panic, abort, SIGKILL), the pipe closes and the
//! guardian stops moto, so no server outlives its tests. `stop` and `restart` keep
//! the port, for outage tests.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const GUARDIAN: &str = r#"
import signal, subprocess, sys
log = open(sys.argv[1], "ab")
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
def stop(*_):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
try:
    while sys.stdin.buffer.read(4096):
        pass
finally:
    stop()
"#;

/// `$NJTUI_VENV`, default `~/.cache/njtui-venv`: where scripts/setup-test-deps
/// installs moto.
pub fn venv() -> PathBuf {
    std::env::var_os("NJTUI_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/njtui-venv")
        })
}

fn tool(name: &str) -> PathBuf {
    let p = venv().join("bin").join(name);
    assert!(
        p.exists(),
        "{} not found: run scripts/setup-test-deps to install moto[server] into {}",
        p.display(),
        venv().display()
    );
    p
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

pub struct MotoServer {
    port: u16,
    guardian: Option<Child>,
    pub log: PathBuf,
}

impl MotoServer {
    /// A server on a free port, answering before this returns.
    pub fn start() -> MotoServer {
        Self::start_on(free_port())
    }

    pub fn start_on(port: u16) -> MotoServer {
        let mut s = MotoServer {
            port,
            guardian: None,
            log: std::env::temp_dir().join(format!("njtui-moto-{port}.log")),
        };
        s.launch();
        s
    }

    /// One server shared by every test of this binary (tests keep apart by
    /// region). It stops when the process exits.
    pub fn shared() -> &'static MotoServer {
        static SHARED: OnceLock<MotoServer> = OnceLock::new();
        SHARED.get_or_init(MotoServer::start)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn launch(&mut self) {
        let python = tool("python");
        let moto = tool("moto_server");
        let guardian = Command::new(python)
            .arg("-c")
            .arg(GUARDIAN)
            .arg(&self.log)
            .arg(moto)
            .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        self.guardian = Some(guardian);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(status) = self
                .guardian
                .as_mut()
                .and_then(|g| g.try_wait().ok().flatten())
            {
                panic!("moto_server exited ({status}); see {}", self.log.display());
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer on port {} within 60 s; see {}",
                self.port,
                self.log.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server; the port stops answering before this returns.
    pub fn stop(&mut self) {
        if let Some(mut g) = self.guardian.take() {
            // Closing stdin tells the guardian to stop moto and exit.
            drop(g.stdin.take());
            let deadline = Instant::now() + Duration::from_secs(15);
            while g.try_wait().ok().flatten().is_none() {
                if Instant::now() > deadline {
                    let _ = g.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = g.wait();
        }
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok()
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts a fresh (empty) server on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// Resets every service's state.
    pub fn reset(&self) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("moto reachable");
        write!(s, "POST /moto-api/reset HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
        let mut buf = String::new();
        std::io::Read::read_to_string(&mut s, &mut buf).ok();
        assert!(
            buf.starts_with("HTTP/1.1 200") || buf.starts_with("HTTP/1.0 200"),
            "reset failed: {buf}"
        );
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        self.stop();
    }
}
