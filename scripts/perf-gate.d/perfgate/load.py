"""Runs notejam's own load scenario (notejam/bench/scenario) against one server.

The scenario signs up a fresh user, creates 100 notes, then drives wrk at the all-notes
page and at note creation, printing one JSON line per scenario. The gate adds nothing
to it: the same script, the same arguments, against each build in turn.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SCENARIOS = ("all_notes", "create_note")
NUMBER_FIELDS = ("requests", "seconds", "rps", "p50_ms", "p90_ms", "p99_ms", "max_ms", "non_2xx_3xx", "socket_errors")
# Time allowed on top of the two measured phases: sign-up and 100 note creations by
# curl, which take a few seconds on a busy machine.
SETUP_ALLOWANCE_S = 120
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# How often the scenario's children are looked at: wrk runs for whole seconds.
POLL_S = 0.02


class LoadError(RuntimeError):
    pass


@dataclass(frozen=True)
class Load:
    scenario: Path
    duration_s: int
    connections: int

    def command(self, base_url: str, duration_s: int | None = None) -> list[str]:
        return [
            str(self.scenario),
            base_url,
            "--duration",
            str(duration_s or self.duration_s),
            "--connections",
            str(self.connections),
        ]

    def run(self, base_url: str, server_pid: int, duration_s: int | None = None) -> dict[str, dict]:
        """Runs the scenario once; returns {scenario name: its JSON figures + CPU figures}.

        "cpu_us" is the server's CPU time (user + system, all threads) per request while
        that scenario's wrk ran; "user_us" and "sys_us" split it. The kernel reports the
        sum precisely (scheduler runtime) but the split only by sampling at each tick. The
        scenario runs its phases back to back in one script, so their edges are found by
        watching for its wrk children.
        """
        command = self.command(base_url, duration_s)
        timeout = SETUP_ALLOWANCE_S + 2 * (duration_s or self.duration_s)
        with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
            # Own process group, so wrk goes down with the script on timeout or Ctrl-C.
            process = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True, start_new_session=True)
            try:
                phases = follow_phases(process, server_pid, time.monotonic() + timeout)
            except BaseException:
                _kill_group(process)
                raise
            stdout.seek(0)
            stderr.seek(0)
            out, err = stdout.read(), stderr.read()
        origin = f"{self.scenario} against {base_url}"
        if process.returncode != 0:
            raise LoadError(f"{origin} exited with {process.returncode}: {_tail(err)}")
        results = parse_results(out, origin=origin)
        if len(phases) != len(SCENARIOS):
            raise LoadError(f"{origin}: saw {len(phases)} wrk run(s), expected {len(SCENARIOS)}; cannot split CPU time")
        for name, (user, system) in zip(SCENARIOS, phases, strict=True):
            requests = results[name]["requests"]
            results[name]["cpu_us"] = (user + system) * 1e6 / requests
            results[name]["user_us"] = user * 1e6 / requests
            results[name]["sys_us"] = system * 1e6 / requests
        return results


def process_cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system time of a process, all its threads together, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime, fields 14 and 15 of proc(5), counted after the name's closing parenthesis.
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def children(pid: int) -> dict[int, str]:
    """Direct children of a process and their command names."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids = [int(p) for p in f.read().split()]
    except OSError:
        return {}
    named = {}
    for child in pids:
        try:
            with open(f"/proc/{child}/comm") as f:
                named[child] = f.read().strip()
        except OSError:
            continue
    return named


def follow_phases(process: subprocess.Popen, server_pid: int, deadline: float) -> list[tuple[float, float]]:
    """Waits for the scenario, returning the server's (user, system) CPU seconds during each wrk run."""
    phases: list[tuple[float, float]] = []
    current: int | None = None
    started_at = (0.0, 0.0)
    seen: set[int] = set()

    def elapsed() -> tuple[float, float]:
        user, system = process_cpu_seconds(server_pid)
        return user - started_at[0], system - started_at[1]

    while process.poll() is None:
        if time.monotonic() > deadline:
            _kill_group(process)
            raise LoadError(f"{process.args[0]} did not finish in time; stopped it")
        if current is not None and not os.path.exists(f"/proc/{current}"):
            phases.append(elapsed())
            current = None
        if current is None:
            fresh = [pid for pid, name in children(process.pid).items() if name == "wrk" and pid not in seen]
            if fresh:
                current = fresh[0]
                seen.add(current)
                started_at = process_cpu_seconds(server_pid)
        time.sleep(POLL_S)
    if current is not None:
        phases.append(elapsed())
    return phases


def parse_results(stdout: str, origin: str = "the scenario") -> dict[str, dict]:
    """Parses the scenario's JSON lines, checking every figure the gate relies on."""
    results: dict[str, dict] = {}
    for number, line in enumerate(stdout.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise LoadError(f"{origin}: line {number} is not JSON ({error.msg}): {line[:120]!r}") from None
        if not isinstance(row, dict) or not isinstance(row.get("scenario"), str):
            raise LoadError(f"{origin}: line {number} has no \"scenario\" name: {line[:120]!r}")
        for field in NUMBER_FIELDS:
            value = row.get(field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise LoadError(f"{origin}: {row['scenario']}: field {field!r} is {value!r}, not a figure")
        results[row["scenario"]] = {field: row[field] for field in NUMBER_FIELDS}
    missing = [s for s in SCENARIOS if s not in results]
    if missing:
        raise LoadError(f"{origin}: no result for {', '.join(missing)} (got {sorted(results) or 'nothing'})")
    for name in SCENARIOS:
        if results[name]["requests"] == 0:
            raise LoadError(f"{origin}: {name} completed no request")
    return {name: results[name] for name in SCENARIOS}


def error_count(figures: dict) -> int:
    """Requests that failed: socket errors, and error statuses where every answer should be 2xx/3xx."""
    return int(figures["non_2xx_3xx"] + figures["socket_errors"])


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _tail(text: str, lines: int = 8) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return "\n".join(kept) if kept else "(no output)"
