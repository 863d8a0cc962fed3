"""Instruction counts of the probes' scenarios, under valgrind's callgrind.

A probe (see perf/probe) lists its scenarios and runs one per process; callgrind
counts the instructions of the scenario's counted steps only (the probe switches
instrumentation on and off around them, for every thread). The count is a property
of the binary, its input and the CPU features the code dispatches on, not of the
machine's speed, once three things that do vary are taken out:

- random bytes: shim/seeded-random.c, preloaded, gives every run the same ones
  (hash seeds, session nonces, CSRF tokens);
- the runtime idling: instructions inside tokio's park (waiting for SQLite's worker
  thread, and the timer wheel it turns meanwhile) are not collected;
- how often a future is polled again: when notejam's SQLite worker answers while
  the request's thread is still running, its wake-up costs nothing; when the
  thread has gone to sleep, it costs a pass through every layer (a few thousand
  instructions). Which happens follows the machine's load, and only ever adds:
  the cheaper run is not the cheaper code. The probe counts how often the step's
  future suspended (perf_probe::counting_suspensions) and reports it with the run.
  A run with the machine to itself suspends at nearly every await, run after run
  (the ceiling: create_note's 20 steps 179 or 180 times); with another callgrind
  beside it, answers often arrive before the poll and a run suspends half as often
  and counts 4% less. So the scenarios of a probe whose steps wait on other threads
  (notejam's) run one at a time with nothing beside them, and a figure is the
  lowest count among the runs within SUSPENSION_SLACK of the most suspensions seen:
  a run the machine's load made cheaper is left out, and a base and a candidate
  compare like with like. Runs are added (from --min-runs up to --max-runs) until
  two of those runs agree to within --agreement; a figure whose first runs are not
  identical (to a tenth of --agreement: njtui's are) gets at least --noisy-runs runs
  before two may settle it. A probe built before suspensions were reported gives
  none: its figure is the lowest of all its runs.

Each run also gets the same environment, working-directory shape and no
address-space randomization.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

RUN_TIMEOUT_S = 600
NAME = re.compile(r"^[a-z0-9_]+/[a-z0-9_]+$")


class ProbeError(RuntimeError):
    pass


@dataclass(frozen=True)
class Scenario:
    name: str
    iterations: int
    about: str


# A run this far below the most suspensions seen still counts: one suspension is a
# few thousand instructions, 0.05% of create_note's run, so 2% of them is within
# the same-build agreement.
SUSPENSION_SLACK = 0.02


class Run(NamedTuple):
    """One run under callgrind: its counted instructions, and how often the step's
    future suspended (None from a probe that does not say)."""

    instructions: int
    suspensions: int | None = None


@dataclass
class Count:
    """One scenario's figure: instructions per counted step, the lowest of the runs
    that suspended the most (of all its runs when suspensions are not known)."""

    scenario: str
    instructions: list[int] = field(default_factory=list)
    iterations: int = 1
    suspensions: list[int | None] = field(default_factory=list)

    def add(self, run: Run) -> None:
        self.instructions.append(run.instructions)
        self.suspensions.append(run.suspensions)

    @property
    def ceiling(self) -> int | None:
        """The most suspensions of any run, when every run reported them."""
        known = [s for s in self.suspensions if s is not None]
        if not known or len(known) != len(self.instructions):
            return None
        return max(known)

    @property
    def comparable(self) -> list[int]:
        """The runs the figure is taken from: those near the ceiling, or all."""
        ceiling = self.ceiling
        if ceiling is None:
            return list(self.instructions)
        floor = ceiling * (1 - SUSPENSION_SLACK)
        return [i for i, s in zip(self.instructions, self.suspensions) if s >= floor]

    @property
    def per_step(self) -> float:
        return min(self.comparable) / self.iterations

    @property
    def spread_of_all(self) -> float:
        """The gap between the two lowest runs, whatever they suspended: when even
        that is tiny (sign_in's 278 million instructions differ by a few thousand),
        how often a run suspended does not matter."""
        return gap(self.instructions)

    @property
    def spread(self) -> float:
        """How far apart the two lowest comparable runs are: how well the figure is
        pinned down (0 with fewer than two)."""
        return gap(self.comparable)


def gap(runs: list[int]) -> float:
    """How far above the lowest of `runs` the second lowest is, as a fraction."""
    if len(runs) < 2:
        return 0.0
    low, second = sorted(runs)[:2]
    return (second - low) / low if low else 0.0


SHIM_SOURCE = Path(__file__).resolve().parent.parent / "shim" / "seeded-random.c"
# Instructions inside these are the runtime waiting, not working (see above).
IDLE_FUNCTIONS = (
    "tokio::runtime::scheduler::current_thread::Context::park",
    "tokio::runtime::scheduler::current_thread::Context::park_yield",
)


def tools_missing() -> list[str]:
    return [tool for tool in ("valgrind", "cc") if shutil.which(tool) is None]


def build_shim(cache: Path) -> Path:
    """The seeded-random shim, compiled once per version of its source."""
    source = SHIM_SOURCE.read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    shim = cache / "shim" / f"seeded-random-{digest}.so"
    if shim.is_file():
        return shim
    shim.parent.mkdir(parents=True, exist_ok=True)
    partial = shim.with_suffix(".partial")
    result = subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(partial), str(SHIM_SOURCE), "-ldl"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise ProbeError(f"cannot compile {SHIM_SOURCE.name}: {result.stderr.strip()[-500:]}")
    partial.rename(shim)
    return shim


def clean_env(extra: dict[str, str], home: Path, shim: Path | None = None) -> dict[str, str]:
    # The same few variables for every run: the environment's size moves the stack,
    # and what a program reads from it (locale, RUST_LOG) moves its work.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C", "TMPDIR": str(home), **extra}
    if shim is not None:
        env["LD_PRELOAD"] = str(shim)
    return env


def list_scenarios(executable: Path, extra_env: dict[str, str] | None = None) -> list[Scenario]:
    with tempfile.TemporaryDirectory(prefix="perf-probe-") as home:
        result = subprocess.run(
            [str(executable), "list"], capture_output=True, text=True, timeout=60,
            env=clean_env(extra_env or {}, Path(home)), cwd=home,
        )
    if result.returncode != 0:
        raise ProbeError(f"{executable} list failed ({result.returncode}): {result.stderr.strip()[-500:]}")
    scenarios = []
    for number, line in enumerate(result.stdout.splitlines(), start=1):
        parts = line.split("\t")
        if len(parts) != 3 or not NAME.match(parts[0]) or not parts[1].isdigit() or int(parts[1]) < 1:
            raise ProbeError(f"{executable} list, line {number}: not 'name<TAB>iterations<TAB>about': {line!r}")
        scenarios.append(Scenario(parts[0], int(parts[1]), parts[2]))
    if not scenarios:
        raise ProbeError(f"{executable} lists no scenario")
    return scenarios


def no_aslr() -> list[str]:
    """`setarch -R` when this system has it and allows it (containers may not)."""
    setarch = shutil.which("setarch")
    if setarch is None:
        return []
    probe = subprocess.run([setarch, os.uname().machine, "-R", "true"], capture_output=True)
    return [setarch, os.uname().machine, "-R"] if probe.returncode == 0 else []


def callgrind_command(executable: Path, scenario: str, out: Path) -> list[str]:
    return [
        *no_aslr(),
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out}",
        "--dump-line=no",
        "--dump-instr=no",
        "--compress-strings=no",
        "--compress-pos=no",
        *(f"--toggle-collect={name}" for name in IDLE_FUNCTIONS),
        # After the toggles, which otherwise turn collection off until one is entered.
        "--collect-atstart=yes",
        str(executable),
        "run",
        scenario,
    ]


TOTALS = re.compile(r"^(?:summary|totals):\s*(\d+)", re.MULTILINE)


def parse_totals(text: str, origin: str) -> int:
    found = TOTALS.findall(text)
    if not found:
        raise ProbeError(f"{origin}: no 'summary:' or 'totals:' line (is this a callgrind output file?)")
    return int(found[-1])


def parse_done(stdout: str, scenario: Scenario) -> int | None:
    """The probe's last line, `name<TAB>iterations<TAB>what it did[<TAB>suspensions]`:
    the suspensions, when it reports them."""
    if not stdout.startswith(f"{scenario.name}\t"):
        raise ProbeError(f"{scenario.name}: the probe did not report the scenario done: {stdout[-300:]!r}")
    fields = stdout.rstrip("\n").split("\n")[-1].split("\t")
    if len(fields) < 4:
        return None
    if not fields[3].isdigit():
        raise ProbeError(f"{scenario.name}: the probe reported {fields[3]!r} suspensions, not a whole number")
    return int(fields[3])


def count_once(executable: Path, scenario: Scenario, scratch: Path, extra_env: dict[str, str],
               shim: Path | None) -> Run:
    # Directory names of one length for every run: paths end up in the data the
    # scenario handles (its SQLite file's name), whose length must not differ.
    home = Path(tempfile.mkdtemp(prefix="run-", dir=scratch))
    try:
        out = home / "callgrind.out"
        command = callgrind_command(executable, scenario.name, out)
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                env=clean_env(extra_env, home, shim), cwd=home,
            )
        except subprocess.TimeoutExpired:
            raise ProbeError(f"{scenario.name}: no result within {RUN_TIMEOUT_S} s under callgrind") from None
        if result.returncode != 0:
            detail = (result.stderr.strip() or result.stdout.strip())[-800:]
            raise ProbeError(f"{scenario.name}: the probe failed under callgrind ({result.returncode}): {detail}")
        suspensions = parse_done(result.stdout, scenario)
        try:
            text = out.read_text(errors="replace")
        except OSError as error:
            raise ProbeError(f"{scenario.name}: callgrind wrote no output ({error.strerror})") from None
        total = parse_totals(text, f"{scenario.name} callgrind output")
        if total == 0:
            raise ProbeError(f"{scenario.name}: callgrind counted nothing (the probe never started instrumentation)")
        return Run(total, suspensions)
    finally:
        shutil.rmtree(home, ignore_errors=True)


@dataclass(frozen=True)
class Plan:
    min_runs: int = 2
    max_runs: int = 9
    agreement: float = 0.002
    noisy_runs: int = 4

    def wants_more(self, count: "Count") -> bool:
        runs = len(count.instructions)
        if runs >= self.max_runs:
            return False
        if len(count.comparable) < 2 and count.spread_of_all > self.agreement / 10:
            return True
        if count.spread > self.agreement:
            return True
        return count.spread > self.agreement / 10 and runs < self.noisy_runs


def measure(jobs: list[tuple[str, Path, Scenario]], plan: Plan, scratch: Path, extra_env: dict[str, str],
            shim: Path | None, parallel: int, log, alone: frozenset[str] = frozenset()
            ) -> dict[tuple[str, str], Count]:
    """Counts every (role, executable, scenario), `parallel` at a time: `plan.min_runs`
    runs each, then more for any figure without two runs at its ceiling that agree
    within `plan.agreement`, up to `plan.max_runs`.

    Scenarios named in `alone` run one at a time with nothing beside them, after the
    others of the round. Returns {(role, scenario name): Count}. Roles interleave, so
    both builds meet the same machine.
    """
    results = {(role, s.name): Count(s.name, [], s.iterations) for role, _, s in jobs}
    pending = [job for _ in range(plan.min_runs) for job in jobs]

    def record(role: str, scenario: Scenario, run: Run) -> None:
        results[(role, scenario.name)].add(run)
        suspended = "" if run.suspensions is None else f", {run.suspensions} suspensions"
        log(f"perf-gate: {role:<9} {scenario.name:<28} {run.instructions:>14,} instructions "
            f"({run.instructions / scenario.iterations:,.0f} per step{suspended})")

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        while pending:
            shared = [job for job in pending if job[2].name not in alone]
            futures = [(role, scenario, pool.submit(count_once, exe, scenario, scratch, extra_env, shim))
                       for role, exe, scenario in shared]
            try:
                for role, scenario, future in futures:
                    record(role, scenario, future.result())
            except BaseException:
                for _, _, future in futures:
                    future.cancel()
                raise
            for role, exe, scenario in pending:
                if scenario.name in alone:
                    record(role, scenario, count_once(exe, scenario, scratch, extra_env, shim))
            pending = [(role, exe, scenario) for role, exe, scenario in jobs
                       if plan.wants_more(results[(role, scenario.name)])]
            if pending:
                log("perf-gate: one more run of " + ", ".join(f"{role} {s.name}" for role, _, s in pending)
                    + f" (its runs differ: at least {plan.noisy_runs}, until two of those that suspended "
                    f"the most agree within {plan.agreement * 100:g}%)")
    return results
