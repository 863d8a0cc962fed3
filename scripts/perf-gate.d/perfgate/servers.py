"""notejam processes on loopback, one per build, each with its own SQLite database."""

from __future__ import annotations

import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 15


class ServerError(RuntimeError):
    pass


def free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running notejam. Use as a context manager so it always stops."""

    def __init__(self, name: str, binary: Path, workdir: Path, extra_env: dict[str, str] | None = None):
        self.name = name
        self.extra_env = extra_env or {}
        self.binary = binary
        self.workdir = workdir
        self.port = free_loopback_port()
        self.log_path = workdir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise ServerError(f"{self.name} server is not started")
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        # What notejam/bench/run gives the app, with SQLite: the figures stay comparable.
        return {
            "PATH": "/usr/bin:/bin",
            **self.extra_env,
            "DATABASE_URL": f"sqlite://{self.workdir / (self.name + '.db')}",
            "NOTEJAM_ADDR": f"127.0.0.1:{self.port}",
            "NOTEJAM_ENV": "perf-gate",
            "NOTEJAM_SECRET_KEY": secrets.token_urlsafe(48),
        }

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [str(self.binary)],
                env=self.environment(),
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(
                    f"{self.name} server exited with {self.process.returncode} before it was ready: {self.log_tail()}"
                )
            if self._ready():
                return
            time.sleep(0.1)
        raise ServerError(f"{self.name} server did not answer {self.url}/readyz within {READY_TIMEOUT_S} s: {self.log_tail()}")

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def check_alive(self) -> None:
        if self.process is None or self.process.poll() is not None:
            code = None if self.process is None else self.process.returncode
            raise ServerError(f"{self.name} server is no longer running (exit {code}): {self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 10) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
        return "\n".join(kept) if kept else "(empty log)"
