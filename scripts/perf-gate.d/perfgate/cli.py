"""perf-gate: stops a commit that makes notejam or njtui slower, and keeps main's history.

    perf-gate counts   BLOCKS. Instruction counts (valgrind/callgrind) of every probe
                       scenario at the base and the candidate: notejam's hot paths
                       in-process, njtui's frames and log ingest. Fails when a figure
                       needs more than --threshold (1.5%) more instructions per step
                       than the base, or more than --budget (3%) over its lowest on main
                       since its last accepted change (a slow drift). Deterministic
                       counts are why it can block on a few percent: the same build
                       gives the same figure to within 0.2% (notejam's runs alone,
                       compared at their most suspensions: see docs/benchmarks.md).
    perf-gate wall     ADVISORY. notejam's servers under wrk, base and candidate
                       alternating, each restarted every round: p99, throughput, CPU
                       per request. Reports; never fails a build (5-20% noise on these
                       machines) unless --strict.
    perf-gate history  main's record, one line per commit on the `perf-history` branch:
                       show, csv, detect (where each figure changed), append.

Exit status: 0 pass (or accepted), 1 regression, 2 bad usage, 3 could not measure,
4 inconclusive (wall --strict only), 130 interrupted. See docs/pipeline.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from . import builds, changepoint, count_gate, counts, history, load, report, servers, stats, wall

EXIT_PASS, EXIT_REGRESSION, EXIT_USAGE, EXIT_UNMEASURED, EXIT_INCONCLUSIVE, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
WALL_EXIT = {"pass": EXIT_PASS, "fail": EXIT_REGRESSION, "inconclusive": EXIT_INCONCLUSIVE}

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
RESERVED_PROBE_ENV = {"PATH", "HOME", "LANG", "TMPDIR", "LD_PRELOAD"}


def assignment(reserved: set[str]):
    def parse(text: str) -> tuple[str, str]:
        name, sep, value = text.partition("=")
        if not sep or not name or not all(c.isalnum() or c == "_" for c in name) or name[0].isdigit():
            raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
        if name in reserved:
            raise argparse.ArgumentTypeError(f"{name} is set by the gate itself")
        return name, value

    return parse


env_assignment = assignment(RESERVED_ENV)


def default_cache() -> Path:
    return Path(os.environ.get("PERF_GATE_CACHE") or Path.home() / ".cache" / "notejam-perf-gate")


def common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", default="HEAD~1", metavar="REV", help="commit to compare against (default HEAD~1)")
    p.add_argument("--candidate", default="HEAD", metavar="REV", help="commit under test (default HEAD)")
    p.add_argument("--repo", type=Path, default=REPO_OF_SCRIPT, metavar="DIR",
                   help="git repository holding both commits (default: this script's)")
    p.add_argument("--cache-dir", type=Path, default=None, metavar="DIR",
                   help="builds, source tree and target directory ($PERF_GATE_CACHE or ~/.cache/notejam-perf-gate)")
    p.add_argument("--keep-builds", type=bounded_int(1, 50), default=10, metavar="N",
                   help="cached builds kept beyond those of this run "
                        "(default 10: the probes and servers of a few commits)")
    p.add_argument("--summary", type=Path, default=None, metavar="FILE",
                   help="also append the markdown report here (default $GITHUB_STEP_SUMMARY when set)")
    p.add_argument("--record", type=Path, default=None, metavar="FILE",
                   help="write this run's record (JSON) here, for `history append`")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="perf-gate",
        description=__doc__.split("\n\n", 1)[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = top.add_subparsers(dest="command", metavar="{counts,wall,history}")
    sub.required = True

    c = sub.add_parser("counts", help="BLOCKING: instruction counts of every probe scenario",
                       description="Count the instructions of every probe scenario (notejam/benches/instructions.rs, "
                       "benches/instructions.rs) under callgrind at both commits; fail on a regression against "
                       "the base or a drift against main's history.")
    common(c)
    c.add_argument("--threshold", type=percentage, default=counts.DEFAULT_THRESHOLD, metavar="PCT",
                   help="more instructions per step than the base that fails (default 1.5)")
    c.add_argument("--budget", type=percentage, default=0.03, metavar="PCT",
                   help="most a figure may rise over its lowest on main since its last accepted change (default 3)")
    c.add_argument("--min-runs", type=bounded_int(1, 20), default=2, metavar="N",
                   help="callgrind runs of each scenario and build at least (default 2)")
    c.add_argument("--max-runs", type=bounded_int(1, 30), default=9, metavar="N",
                   help="and at most, until two of the runs that suspended the most agree (default 9)")
    c.add_argument("--agreement", type=percentage, default=0.002, metavar="PCT",
                   help="how close those two runs must be to stop adding runs (default 0.2)")
    c.add_argument("--noisy-runs", type=bounded_int(1, 30), default=4, metavar="N",
                   help="runs at least, of a scenario whose first runs differ at all (default 4)")
    c.add_argument("--jobs", type=bounded_int(1, 64), default=count_gate.default_jobs(), metavar="N",
                   help="callgrind runs at once (default: the CPUs, at most 4)")
    c.add_argument("--probe-env", type=assignment(RESERVED_PROBE_ENV), action="append", default=[],
                   metavar="NAME=VALUE", help="extra environment for every probe run (repeatable)")
    c.add_argument("--accept", default=None, metavar="REASON",
                   help=f"accept every regression of this run, recorded with REASON (CI passes the pull "
                   f"request's `{counts.LABEL}` label this way)")
    c.add_argument("--history-ref", default=None, metavar="REF",
                   help="main's history (default origin/perf-history when it exists, else perf-history)")
    c.add_argument("--no-history", action="store_true", help="compare against the base only")
    c.add_argument("--only", action="append", default=[], metavar="GLOB",
                   help="count only the scenarios GLOB matches (e.g. 'njtui/*'; repeatable). "
                        "For trying a change locally: CI counts them all")

    w = sub.add_parser("wall", help="ADVISORY: notejam under load, wall-clock figures",
                       description="Run notejam/bench/scenario against the base's and the candidate's server, "
                       "alternating, each restarted every round; report p99, throughput and CPU per request.")
    common(w)
    w.add_argument("--candidate-binary", type=Path, default=None, metavar="PATH",
                   help="the candidate's notejam server as built elsewhere (CI: the release bundle's, the "
                   "binary that ships) instead of building it")
    w.add_argument("--strict", action="store_true",
                   help="exit 1 on a regression and 4 when inconclusive (default: report, exit 0)")
    w.add_argument("--rounds", type=bounded_int(3, 30), default=6, metavar="N",
                   help="measured rounds, each running both builds, which one first alternating (default 6)")
    w.add_argument("--max-rounds", type=bounded_int(3, 30), default=12, metavar="N",
                   help="keep adding rounds, up to N, while a scenario cannot yet see a slowdown of "
                        "--sensitivity (default 12)")
    w.add_argument("--sensitivity", type=percentage, default=0.20, metavar="PCT",
                   help="the slowdown each scenario should be able to detect (default 20)")
    w.add_argument("--warmup", type=bounded_int(0, 5), default=1, metavar="SECS",
                   help="unmeasured seconds of load after each server start (default 1)")
    w.add_argument("--duration", type=bounded_int(1, 60), default=5, metavar="SECS",
                   help="seconds of load per scenario per run (default 5)")
    w.add_argument("--connections", type=bounded_int(1, 1024), default=64, metavar="N",
                   help="wrk connections, as in notejam/bench (default 64)")
    w.add_argument("--sigmas", type=positive_float, default=3.0, metavar="Z",
                   help="standard errors of noise a change must exceed (default 3)")
    w.add_argument("--latency-floor", type=percentage, default=0.10, metavar="PCT",
                   help="smallest p99 increase that fails (default 10)")
    w.add_argument("--throughput-floor", type=percentage, default=0.05, metavar="PCT",
                   help="smallest slowdown in throughput that fails, per request (default 5)")
    w.add_argument("--cpu-floor", type=percentage, default=0.05, metavar="PCT",
                   help="smallest increase of server CPU per request that fails (default 5)")
    w.add_argument("--server-env", type=env_assignment, action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment for both servers, e.g. NOTEJAM_CACHE_USERS=0 (repeatable)")
    w.add_argument("--scenario", type=Path, default=REPO_OF_SCRIPT / "notejam" / "bench" / "scenario",
                   metavar="PATH", help="the load scenario (default notejam/bench/scenario of this tree)")

    h = sub.add_parser("history", help="main's history: show, csv, detect, append",
                       description="One record per main commit on the `perf-history` branch: every figure, "
                       "the CPU and toolchain it was counted with, the verdict and any accepted regression.")
    h.add_argument("action", choices=("show", "csv", "detect", "append"))
    h.add_argument("--repo", type=Path, default=REPO_OF_SCRIPT, metavar="DIR")
    h.add_argument("--ref", default=None, metavar="REF",
                   help="where to read (default origin/perf-history when it exists, else perf-history)")
    h.add_argument("--record", type=Path, default=None, metavar="FILE",
                   help="append: the record `counts --record` wrote")
    h.add_argument("--wall-record", type=Path, default=None, metavar="FILE",
                   help="append: the record `wall --record` wrote, whose figures join it as advisory")
    h.add_argument("--branch", default=history.BRANCH, metavar="NAME", help="append: the branch (default perf-history)")
    h.add_argument("--remote", default=None, metavar="REMOTE",
                   help="append: push the branch there (fetching first, retrying when someone pushed meanwhile)")
    h.add_argument("--figure", action="append", default=[], metavar="NAME",
                   help="detect/show: only these figures (repeatable)")
    h.add_argument("--last", type=bounded_int(1, 10000), default=20, metavar="N", help="show: this many commits")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if args.command == "counts":
            return run_counts(args)
        if args.command == "wall":
            return run_wall(args)
        return run_history(args)
    except KeyboardInterrupt:
        log("perf-gate: interrupted")
        return EXIT_INTERRUPTED


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def preflight(args, tools: tuple[str, ...]) -> list[str]:
    problems = []
    for tool in tools:
        if shutil.which(tool) is None:
            problems.append(f"{tool} is not on PATH (scripts/setup-test-deps installs it)")
    if not (args.repo / ".git").exists():
        problems.append(f"{args.repo} is not the top of a git repository")
    for name in ("summary", "record"):
        path = getattr(args, name, None)
        if path is not None and path.is_dir():
            problems.append(f"{name} file {path} is a directory")
    return problems


def resolve_both(args):
    repo = args.repo.resolve()
    base = builds.resolve(repo, args.base)
    candidate = builds.resolve(repo, args.candidate)
    log(f"perf-gate: base {base.short} ({base.subject}), candidate {candidate.short} ({candidate.subject})")
    return repo, base, candidate


def history_ref(repo: Path, given: str | None) -> str:
    if given:
        return given
    remote = f"origin/{history.BRANCH}"
    found = builds.git(repo, "rev-parse", "--verify", "--quiet", f"{remote}^{{commit}}", check=False)
    return remote if found.returncode == 0 else history.BRANCH


def publish(text: str, record: dict, args) -> None:
    sys.stdout.write(text)
    summary = args.summary or (Path(os.environ["GITHUB_STEP_SUMMARY"]) if os.environ.get("GITHUB_STEP_SUMMARY") else None)
    if summary is not None:
        with open(summary, "a") as out:
            out.write(text)
    if args.record is not None:
        args.record.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


def run_counts(args) -> int:
    if args.max_runs < args.min_runs:
        log(f"perf-gate: --max-runs {args.max_runs} is below --min-runs {args.min_runs}")
        return EXIT_USAGE
    problems = preflight(args, ("git", "cargo", "rustc", "valgrind", "cc"))
    if problems:
        for problem in problems:
            log(f"perf-gate: {problem}")
        return EXIT_USAGE
    try:
        repo, base, candidate = resolve_both(args)
        acceptances = counts.trailer_acceptances(repo, base.sha, candidate.sha)
        if args.accept is not None:
            acceptances.append(counts.label_acceptance(args.accept))
        args.history_ref = None if args.no_history else history_ref(repo, args.history_ref)
    except (builds.RevisionError, counts.AcceptanceError) as error:
        log(f"perf-gate: {error}")
        return EXIT_USAGE
    except builds.BuildError as error:
        log(f"perf-gate: {error}")
        return EXIT_UNMEASURED
    cache = args.cache_dir or default_cache()
    with tempfile.TemporaryDirectory(prefix="perf-gate-") as scratch:
        try:
            record = count_gate.run(args, repo, cache, base, candidate, Path(scratch), acceptances, log)
        except count_gate.Unmeasured as error:
            log(f"perf-gate: could not measure: {error}")
            return EXIT_UNMEASURED
        except history.HistoryError as error:
            log(f"perf-gate: the history is unreadable: {error}")
            return EXIT_UNMEASURED
    try:
        publish(report.counts_markdown(record), record, args)
    except OSError as error:
        log(f"perf-gate: could not write the report: {error}")
        return EXIT_UNMEASURED
    log(f"perf-gate: {record['verdict'].upper()}")
    return EXIT_REGRESSION if record["verdict"] == "fail" else EXIT_PASS


def run_wall(args) -> int:
    problems = preflight(args, ("git", "cargo", "rustc", "wrk", "curl"))
    if not args.scenario.is_file() or not os.access(args.scenario, os.X_OK):
        problems.append(f"the load scenario {args.scenario} is missing or not executable")
    if args.candidate_binary is not None and not (args.candidate_binary.is_file()
                                                  and os.access(args.candidate_binary, os.X_OK)):
        problems.append(f"--candidate-binary {args.candidate_binary} is not an executable file")
    if problems:
        for problem in problems:
            log(f"perf-gate: {problem}")
        return EXIT_USAGE
    try:
        repo, base, candidate = resolve_both(args)
    except builds.RevisionError as error:
        log(f"perf-gate: {error}")
        return EXIT_USAGE
    except builds.BuildError as error:
        log(f"perf-gate: {error}")
        return EXIT_UNMEASURED
    policy = stats.Policy(args.sigmas, args.latency_floor, args.throughput_floor, args.cpu_floor)
    workload = load.Load(args.scenario.resolve(), args.duration, args.connections)
    cache = args.cache_dir or default_cache()
    candidate_binary = args.candidate_binary.resolve() if args.candidate_binary else None
    with tempfile.TemporaryDirectory(prefix="perf-gate-") as scratch_name:
        scratch = Path(scratch_name)
        try:
            binaries, keys = wall.binaries_for(repo, cache, args.keep_builds, base, candidate, candidate_binary,
                                               scratch, log)
            rounds = wall.measure(
                binaries, workload, args.rounds, max(args.rounds, args.max_rounds), args.warmup, scratch,
                lambda done: wall.sensitive_enough(done, policy, args.sensitivity, log), dict(args.server_env), log)
        except (builds.BuildError, servers.ServerError, load.LoadError, OSError) as error:
            log(f"perf-gate: could not measure: {error}")
            return EXIT_UNMEASURED
    judgements = stats.judge_all(rounds, policy)
    record = wall.make_record(args, policy, base, candidate, keys, rounds, judgements)
    text = report.markdown(record, judgements)
    if not args.strict:
        text = text.replace("### Performance gate: ", "### Wall-clock comparison (advisory, never blocks): ", 1)
    try:
        publish(text, record, args)
    except OSError as error:
        log(f"perf-gate: could not write the report: {error}")
        return EXIT_UNMEASURED
    log(f"perf-gate: wall-clock {record['verdict'].upper()}" + ("" if args.strict else " (advisory)"))
    return WALL_EXIT[record["verdict"]] if args.strict else EXIT_PASS


def run_history(args) -> int:
    repo = args.repo.resolve()
    if not (repo / ".git").exists():
        log(f"perf-gate: {repo} is not the top of a git repository")
        return EXIT_USAGE
    try:
        if args.action == "append":
            return append_history(args, repo)
        records = history.read_branch(repo, history_ref(repo, args.ref))
    except history.HistoryError as error:
        log(f"perf-gate: {error}")
        return EXIT_USAGE
    figures = args.figure or sorted({f for r in records for f in r["figures"]})
    if args.action == "csv":
        sys.stdout.write(history_csv(records, figures))
    elif args.action == "show":
        sys.stdout.write(history_table(records[-args.last:], figures))
    else:
        sys.stdout.write(detect_report(records, figures))
    return EXIT_PASS


# What a history line keeps of a run's record (the rest, every run's raw count and
# the base's figures, stays in the CI run's artifacts).
HISTORY_KEYS = ("schema", "commit", "parent", "subject", "committed", "recorded", "cpu", "toolchain", "figures",
                "advisory", "verdict", "accepted", "ci")


def append_history(args, repo: Path) -> int:
    if args.record is None:
        log("perf-gate: history append needs --record FILE (written by `counts --record`)")
        return EXIT_USAGE
    try:
        record = json.loads(args.record.read_text())
        if args.wall_record is not None:
            wall_record = json.loads(args.wall_record.read_text())
            if wall_record.get("candidate", {}).get("commit") != record.get("commit"):
                log(f"perf-gate: {args.wall_record} measured another commit than {args.record}")
                return EXIT_USAGE
            record["advisory"] = wall.advisory_figures(wall_record)
    except (OSError, json.JSONDecodeError) as error:
        log(f"perf-gate: cannot read a record: {error}")
        return EXIT_USAGE
    if (record.get("settings") or {}).get("only"):
        log(f"perf-gate: {args.record} counted only {', '.join(record['settings']['only'])}: "
            "main's history takes whole runs")
        return EXIT_USAGE
    kept = {k: record[k] for k in HISTORY_KEYS if k in record}
    tip = history.append_to_branch(repo, kept, branch=args.branch, remote=args.remote)
    log(f"perf-gate: {record['commit'][:10]} recorded on {args.branch} ({tip[:10]})"
        + (f", pushed to {args.remote}" if args.remote else ""))
    return EXIT_PASS


def history_csv(records: list[dict], figures: list[str]) -> str:
    """One row per commit and figure: what a spreadsheet or a plotting script wants."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["committed", "commit", "cpu", "toolchain", "figure", "value", "verdict", "accepted"])
    for r in records:
        for figure in figures:
            if figure in r["figures"]:
                writer.writerow([r["committed"], r["commit"][:10], r["cpu"], r["toolchain"], figure,
                                 r["figures"][figure], r["verdict"], "yes" if history.covers(r, figure) else ""])
        for key, value in sorted((r.get("advisory") or {}).items()):
            writer.writerow([r["committed"], r["commit"][:10], r["cpu"], r["toolchain"], f"wall/{key}",
                             value, r["verdict"], ""])
    return out.getvalue()


def history_table(records: list[dict], figures: list[str]) -> str:
    lines = ["| commit | verdict | " + " | ".join(figures) + " |", "| --- | --- |" + " ---: |" * len(figures)]
    for r in records:
        cells = [f"{r['figures'][f]:,}" if f in r["figures"] else "" for f in figures]
        verdict = r["verdict"] + (f" ({r['accepted']['reason']})" if r.get("accepted") else "")
        lines.append(f"| {r['commit'][:10]} | {verdict} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def detect_report(records: list[dict], figures: list[str]) -> str:
    """Every step and drift the detector finds in each figure's series (per CPU and toolchain)."""
    lines = []
    groups = sorted({(r["cpu"], r["toolchain"]) for r in records})
    for cpu, chain in groups:
        for figure in figures:
            series = history.series(records, figure, cpu=cpu, toolchain=chain)
            if len(series) < 3 or any(v <= 0 for _, v in series):
                continue
            commits, values = zip(*series)
            for change in changepoint.detect(list(values), list(commits)):
                lines.append(f"{figure} ({cpu}): {change.describe()}")
    return ("\n".join(lines) + "\n") if lines else f"no change found in {len(records)} records\n"
