"""perf-gate: fails when a commit makes notejam slower than its base, beyond the noise.

Builds notejam (release) at the base and the candidate commit, starts both on loopback,
runs notejam/bench/scenario against each in alternation for several rounds, and judges
p99 latency and throughput of both scenarios with the noise model of stats.py.

Exit status: 0 pass, 1 regression, 2 bad usage, 3 could not measure (build, server or
load failure), 4 inconclusive (no regression seen, but the machine was too noisy to see
one of --sensitivity), 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from . import builds, load, report, servers, stats

EXIT_PASS, EXIT_REGRESSION, EXIT_USAGE, EXIT_UNMEASURED, EXIT_INCONCLUSIVE, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
EXIT_BY_VERDICT = {"pass": EXIT_PASS, "fail": EXIT_REGRESSION, "inconclusive": EXIT_INCONCLUSIVE}
# A candidate may fail this many more requests (as a fraction of all) than the base.
ERROR_RATE_ALLOWANCE = 0.001

HERE = Path(__file__).resolve().parent
REPO_OF_SCRIPT = HERE.parent.parent.parent


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def bounded_int(low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}..{high}")
        return value

    return parse


def percentage(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage") from None
    if not 0 < value < 100:
        raise argparse.ArgumentTypeError(f"{value}% is outside (0, 100)")
    return value / 100


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 10:
        raise argparse.ArgumentTypeError(f"{value} is outside (0, 10]")
    return value


RESERVED_ENV = {"DATABASE_URL", "NOTEJAM_ADDR", "NOTEJAM_ENV", "NOTEJAM_SECRET_KEY"}


def env_assignment(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not all(c.isalnum() or c == "_" for c in name) or name[0].isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    if name in RESERVED_ENV:
        raise argparse.ArgumentTypeError(f"{name} is set by the gate itself")
    return name, value


def default_cache() -> Path:
    return Path(os.environ.get("PERF_GATE_CACHE") or Path.home() / ".cache" / "notejam-perf-gate")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="perf-gate",
        description="Compare notejam's performance at two commits on this machine and fail on a "
        "regression beyond the measured noise.",
        epilog="Exit status: 0 pass, 1 regression, 2 bad usage, 3 could not measure, 4 inconclusive "
        "(too noisy to see a slowdown of --sensitivity), 130 interrupted. See docs/pipeline.md.",
    )
    p.add_argument("--base", default="HEAD~1", metavar="REV", help="commit to compare against (default HEAD~1)")
    p.add_argument("--candidate", default="HEAD", metavar="REV", help="commit under test (default HEAD)")
    p.add_argument("--repo", type=Path, default=REPO_OF_SCRIPT, metavar="DIR",
                   help="git repository holding both commits (default: this script's)")
    p.add_argument("--rounds", type=bounded_int(3, 30), default=6, metavar="N",
                   help="measured rounds, each running both builds, which one first alternating (3..30, default 6)")
    p.add_argument("--max-rounds", type=bounded_int(3, 30), default=20, metavar="N",
                   help="keep adding rounds, up to N, while a scenario cannot yet see a slowdown of "
                        "--sensitivity (default 20; at most --rounds: never)")
    p.add_argument("--sensitivity", type=percentage, default=0.20, metavar="PCT",
                   help="the slowdown each scenario must be able to detect: extra rounds are added until "
                        "it can, and a run that cannot is inconclusive (default 20: margin under the 25% "
                        "slowdown the gate exists to stop)")
    p.add_argument("--warmup", type=bounded_int(0, 5), default=1, metavar="N",
                   help="unmeasured 1-second rounds first (default 1)")
    p.add_argument("--duration", type=bounded_int(1, 60), default=5, metavar="SECS",
                   help="seconds of load per scenario per run (1..60, default 5)")
    p.add_argument("--connections", type=bounded_int(1, 1024), default=64, metavar="N",
                   help="wrk connections, as in notejam/bench (default 64)")
    p.add_argument("--sigmas", type=positive_float, default=3.0, metavar="Z",
                   help="standard errors of noise a change must exceed (default 3)")
    p.add_argument("--latency-floor", type=percentage, default=0.10, metavar="PCT",
                   help="smallest p99 increase that fails (default 10)")
    p.add_argument("--throughput-floor", type=percentage, default=0.05, metavar="PCT",
                   help="smallest slowdown in throughput that fails, per request (default 5)")
    p.add_argument("--cpu-floor", type=percentage, default=0.05, metavar="PCT",
                   help="smallest increase of server CPU per request that fails (default 5)")
    p.add_argument("--server-env", type=env_assignment, action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment for both servers, e.g. NOTEJAM_CACHE_USERS=0 (repeatable)")
    p.add_argument("--scenario", type=Path, default=REPO_OF_SCRIPT / "notejam" / "bench" / "scenario",
                   metavar="PATH", help="the load scenario (default notejam/bench/scenario of this tree)")
    p.add_argument("--cache-dir", type=Path, default=None, metavar="DIR",
                   help="builds and history ($PERF_GATE_CACHE or ~/.cache/notejam-perf-gate)")
    p.add_argument("--keep-builds", type=bounded_int(1, 50), default=4, metavar="N",
                   help="cached builds to keep (default 4)")
    p.add_argument("--history", type=Path, default=None, metavar="FILE",
                   help="JSON Lines history to append to (default CACHE/history.jsonl)")
    p.add_argument("--summary", type=Path, default=None, metavar="FILE",
                   help="also append the markdown report here (default $GITHUB_STEP_SUMMARY when set)")
    p.add_argument("--history-csv", action="store_true",
                   help="print the history as CSV (one row per run and metric) and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    cache = args.cache_dir or default_cache()
    history = args.history or cache / "history.jsonl"

    if args.history_csv:
        try:
            sys.stdout.write(report.history_csv(report.read_history(history)))
        except report.HistoryError as error:
            log(f"perf-gate: {error}")
            return EXIT_USAGE
        return EXIT_PASS

    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return run(args, cache, history)
    except KeyboardInterrupt:
        log("perf-gate: interrupted")
        return EXIT_INTERRUPTED


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def preflight(args, history: Path) -> list[str]:
    problems = []
    for tool in ("git", "cargo", "rustc", "wrk", "curl"):
        if shutil.which(tool) is None:
            problems.append(f"{tool} is not on PATH (scripts/setup-test-deps installs wrk and curl)")
    if not args.scenario.is_file() or not os.access(args.scenario, os.X_OK):
        problems.append(f"the load scenario {args.scenario} is missing or not executable")
    if not (args.repo / ".git").exists():
        problems.append(f"{args.repo} is not the top of a git repository")
    if history.is_dir():
        problems.append(f"history file {history} is a directory")
    if args.summary is not None and args.summary.is_dir():
        problems.append(f"summary file {args.summary} is a directory")
    return problems


def run(args, cache: Path, history: Path) -> int:
    problems = preflight(args, history)
    if problems:
        for problem in problems:
            log(f"perf-gate: {problem}")
        return EXIT_USAGE
    repo = args.repo.resolve()
    try:
        base = builds.resolve(repo, args.base)
        candidate = builds.resolve(repo, args.candidate)
    except builds.RevisionError as error:
        log(f"perf-gate: {error}")
        return EXIT_USAGE
    except builds.BuildError as error:
        log(f"perf-gate: {error}")
        return EXIT_UNMEASURED
    log(f"perf-gate: base {base.short} ({base.subject}), candidate {candidate.short} ({candidate.subject})")

    policy = stats.Policy(args.sigmas, args.latency_floor, args.throughput_floor, args.cpu_floor)
    workload = load.Load(args.scenario.resolve(), args.duration, args.connections)
    with tempfile.TemporaryDirectory(prefix="perf-gate-") as scratch_name:
        scratch = Path(scratch_name)
        try:
            binaries, keys = build_both(repo, cache, args.keep_builds, base, candidate, scratch)
            max_rounds = max(args.rounds, args.max_rounds)
            rounds = measure(binaries, workload, args.rounds, max_rounds, args.warmup, scratch,
                             lambda done: sensitive_enough(done, policy, args.sensitivity), dict(args.server_env))
        except (builds.BuildError, servers.ServerError, load.LoadError, OSError) as error:
            log(f"perf-gate: could not measure: {error}")
            return EXIT_UNMEASURED

    judgements = stats.judge_all(rounds, policy)
    record = make_record(args, policy, base, candidate, keys, rounds, judgements)
    text = report.markdown(record, judgements)
    sys.stdout.write(text)
    summary = args.summary or (Path(os.environ["GITHUB_STEP_SUMMARY"]) if os.environ.get("GITHUB_STEP_SUMMARY") else None)
    try:
        report.append_history(history, record)
        if summary is not None:
            with open(summary, "a") as out:
                out.write(text)
    except OSError as error:
        log(f"perf-gate: could not write the report: {error}")
        return EXIT_UNMEASURED
    log(f"perf-gate: {record['verdict'].upper()}; history appended to {history}")
    return EXIT_BY_VERDICT[record["verdict"]]


def build_both(repo, cache, keep, base, candidate, scratch):
    rustc = builds.rustc_version()
    keys = {"base": builds.build_key(repo, base, rustc), "candidate": builds.build_key(repo, candidate, rustc)}
    binaries = {}
    with builds.BuildCache(cache, keep, log=log) as store:
        for role, commit in (("base", base), ("candidate", candidate)):
            binaries[role] = store.build(repo, commit, keys[role], scratch)
        store.prune(set(keys.values()))
    return binaries, keys


def sensitive_enough(rounds: list[dict], policy: stats.Policy, sensitivity: float) -> bool:
    """True when, in every scenario, some metric would flag a slowdown of `sensitivity`.

    A slower build moves all of a scenario's metrics at once, so a scenario is as
    sensitive as its steadiest metric.
    """
    by_scenario = stats.detectable(stats.judge_all(rounds, policy))
    log("perf-gate: can detect " + ", ".join(f"{s} {t * 100:.0f}%" for s, t in by_scenario.items()))
    return all(t <= sensitivity for t in by_scenario.values())


def measure(binaries: dict[str, Path], workload: load.Load, rounds: int, max_rounds: int, warmup: int,
            scratch: Path, enough, server_env: dict[str, str]) -> list[dict]:
    """Both servers up at once; the load alternates between them, the base first in odd
    rounds and the candidate first in even ones (see stats: the position matters).

    After `rounds` rounds, more are added (up to `max_rounds`) until `enough(results)`.
    """
    roles = ("base", "candidate")
    with (
        servers.Server("base", binaries["base"], scratch, server_env) as a,
        servers.Server("candidate", binaries["candidate"], scratch, server_env) as b,
    ):
        running = {"base": a, "candidate": b}
        for n in range(1, warmup + 1):
            for role in roles:
                log(f"perf-gate: warm-up {n}/{warmup} {role}")
                workload.run(running[role].url, running[role].pid, duration_s=1)
        results = []
        started = time.monotonic()
        n = 0
        while n < rounds or (n < max_rounds and not enough(results)):
            n += 1
            order = roles if n % 2 == 1 else roles[::-1]
            entry: dict = {"round": n, "first": order[0]}
            for role in order:
                running[role].check_alive()
                figures = workload.run(running[role].url, running[role].pid)
                entry[role] = figures
                log(f"perf-gate: round {n} {role:<9} " + "  ".join(
                    f"{name} {f['rps']:.0f} req/s p99 {f['p99_ms']:.1f} ms cpu {f['cpu_us']:.0f} µs "
                    f"(user {f['user_us']:.0f})"
                    for name, f in figures.items()))
            results.append(entry)
        log(f"perf-gate: {n} rounds in {time.monotonic() - started:.0f} s")
        for server in running.values():
            server.check_alive()
    return results


def make_record(args, policy, base, candidate, keys, rounds, judgements) -> dict:
    requests = {role: sum(f["requests"] for r in rounds for f in r[role].values()) for role in ("base", "candidate")}
    errors = {role: sum(load.error_count(f) for r in rounds for f in r[role].values()) for role in ("base", "candidate")}
    reasons = [
        f"{j.metric.scenario} {j.metric.label}: {j.change * 100:+.1f}% (candidate {j.candidate_median:.1f} vs base "
        f"{j.base_median:.1f} {j.metric.unit}), beyond the allowed {j.allowed_change * 100:+.1f}%"
        for j in judgements
        if j.verdict == "regression"
    ]
    rate = {role: errors[role] / requests[role] for role in requests}
    if rate["candidate"] > rate["base"] + ERROR_RATE_ALLOWANCE:
        reasons.append(
            f"the candidate failed {errors['candidate']} of {requests['candidate']} requests "
            f"(base: {errors['base']} of {requests['base']})"
        )
    detectable = stats.detectable(judgements)
    blind = {s: t for s, t in detectable.items() if t > args.sensitivity}
    if reasons:
        verdict = "fail"
    elif blind:
        verdict = "inconclusive"
        reasons = [
            f"no regression seen, but the noise hid any slowdown of {scenario} under {t * 100:.0f}% "
            f"(the goal is {args.sensitivity * 100:.0f}%): rerun, on a quieter machine or with more rounds"
            for scenario, t in blind.items()
        ]
    else:
        verdict = "pass"
    ci = {
        name: os.environ[var]
        for name, var in (("run_id", "GITHUB_RUN_ID"), ("ref", "GITHUB_REF"), ("event", "GITHUB_EVENT_NAME"))
        if os.environ.get(var)
    }
    return {
        "schema": report.SCHEMA,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "ci": ci,
        "base": {"commit": base.sha, "subject": base.subject, "build": keys["base"]},
        "candidate": {"commit": candidate.sha, "subject": candidate.subject, "build": keys["candidate"]},
        "settings": {
            "rounds": len(rounds),
            "min_rounds": args.rounds,
            "max_rounds": max(args.rounds, args.max_rounds),
            "sensitivity": args.sensitivity,
            "warmup": args.warmup,
            "duration_s": args.duration,
            "connections": args.connections,
            "backend": "sqlite",
            "server_env": dict(args.server_env),
            "sigmas": policy.sigmas,
            "latency_floor": policy.latency_floor,
            "throughput_floor": policy.throughput_floor,
            "cpu_floor": policy.cpu_floor,
        },
        "rounds": rounds,
        "metrics": {j.metric.key: j.to_json() for j in judgements},
        "errors": {
            "base": errors["base"],
            "candidate": errors["candidate"],
            "base_requests": requests["base"],
            "candidate_requests": requests["candidate"],
        },
        "detectable": {scenario: round(t, 5) for scenario, t in detectable.items()},
        "verdict": verdict,
        "reasons": reasons,
    }
