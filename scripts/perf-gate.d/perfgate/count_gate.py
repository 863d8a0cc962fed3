"""The blocking gate: instruction counts of every probe scenario, base against candidate,
and the candidate against the history of main.

1. Build both commits' probes (builds.py; cached by build key, so usually only the
   candidate's changed crate compiles) and list their scenarios.
2. Count every scenario of both builds under callgrind (probes.py), two at a time.
3. Judge each figure against the base (counts.py): more than --threshold more
   instructions per step is a regression.
4. Judge each figure against main's history (history.py): more than --budget above
   its lowest value since the last accepted regression is a drift, however small each
   step of it was; the change-point detector names the commit it started at.
5. Regressions named by a Perf-Regression-Accepted trailer or --accept pass as
   accepted. The record this run would add to the history is written to --record.
"""

from __future__ import annotations

import fnmatch
import os
import platform
import subprocess
import time
from pathlib import Path

from . import builds, counts, history, probes, report


class Unmeasured(RuntimeError):
    """The run could not produce figures (a build, a probe or valgrind failed)."""


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def toolchain(rustc: str) -> str:
    try:
        valgrind = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        valgrind = "valgrind ?"
    release = next((part for part in rustc.split(" release: ")[1:2]), "")
    rustc_line = f"rustc {release.split()[0]}" if release else rustc.split(" binary:")[0]
    return f"{rustc_line}; {valgrind}"


def wanted(figure: str, only: list[str]) -> bool:
    return not only or any(fnmatch.fnmatchcase(figure, pattern) for pattern in only)


def products_for(only: list[str]) -> tuple[str, ...]:
    """The probes whose scenarios `only` can match (every probe's names start with its crate)."""
    return tuple(p for p in builds.PROBES
                 if not only or any(g.startswith(builds.PROBE_PREFIX[p]) or g.startswith(("*", "?", "["))
                                    for g in only))


def build_probes(repo: Path, cache: Path, keep: int, commits: dict, scratch: Path, log,
                 products: tuple[str, ...] = builds.PROBES) -> tuple[dict, dict]:
    """{role: {product: executable}} and {role: {product: key}}; a product a commit
    predates is left out of its role (its figures are then new)."""
    rustc = builds.rustc_version()
    executables: dict[str, dict[str, Path]] = {role: {} for role in commits}
    keys: dict[str, dict[str, str]] = {role: {} for role in commits}
    with builds.BuildCache(cache, keep, log=log) as store:
        for role, commit in commits.items():
            for product in products:
                try:
                    key = builds.build_key(repo, commit, rustc, product)
                except builds.BuildError as error:
                    if role == "candidate":
                        raise
                    log(f"perf-gate: base {commit.short}: {error}")
                    continue
                keys[role][product] = key
                executables[role][product] = store.build(repo, commit, key, product, scratch)
        store.prune({k for role in keys.values() for k in role.values()})
    return executables, keys


def count_all(executables: dict, plan: probes.Plan, jobs: int, scratch: Path, probe_env: dict,
              shim: Path, log, only: list[str] | None = None) -> dict:
    """{role: {figure: Count}} for every scenario each role's probes list (those `only`
    matches, when given)."""
    work = []
    alone = set()
    for role, products in executables.items():
        for product, executable in products.items():
            for scenario in probes.list_scenarios(executable, probe_env):
                if wanted(scenario.name, only or []):
                    work.append((role, executable, scenario))
                    if product in builds.ALONE:
                        alone.add(scenario.name)
    if not work:
        raise probes.ProbeError(f"no scenario matches --only {' '.join(only or [])}")
    started = time.monotonic()
    measured = probes.measure(work, plan, scratch, probe_env, shim, jobs, log, frozenset(alone))
    runs = sum(len(c.instructions) for c in measured.values())
    log(f"perf-gate: {runs} callgrind runs in {time.monotonic() - started:.0f} s")
    out: dict[str, dict] = {role: {} for role in executables}
    for (role, figure), count in measured.items():
        out[role][figure] = count
    return out


def drift_reasons(records: list[dict], candidate: dict, candidate_sha: str, budget: float, cpu: str, chain: str,
                  acceptances: list[counts.Acceptance]) -> tuple[list[str], list[str], dict]:
    """Reasons to fail for drift, the drifts an acceptance covered, and each figure's budget check."""
    failing, accepted, checks = [], [], {}
    for figure, count in sorted(candidate.items()):
        result = history.budget_check(records, figure, round(count.per_step), budget=budget, cpu=cpu,
                                      toolchain=chain, candidate_commit=candidate_sha)
        checks[figure] = result
        if result.exceeded:
            (accepted if counts.accepting(figure, acceptances) else failing).append(result.reason())
    return failing, accepted, checks


def run(args, repo: Path, cache: Path, base, candidate, scratch: Path, acceptances, log) -> dict:
    commits = {"base": base, "candidate": candidate}
    try:
        executables, keys = build_probes(repo, cache, args.keep_builds, commits, scratch, log,
                                         products_for(args.only))
        shim = probes.build_shim(cache)
        plan = probes.Plan(args.min_runs, args.max_runs, args.agreement, args.noisy_runs)
        measured = count_all(executables, plan, args.jobs, scratch, dict(args.probe_env), shim, log, args.only)
    except (builds.BuildError, probes.ProbeError, OSError) as error:
        raise Unmeasured(str(error)) from error

    judgements = counts.judge(measured["base"], measured["candidate"], args.threshold, acceptances)
    cpu = cpu_model()
    chain = toolchain(builds.rustc_version())
    records = [] if args.no_history else history.read_branch(repo, args.history_ref)
    drift_failing, drift_accepted, checks = ([], [], {}) if args.no_history else drift_reasons(
        records, measured["candidate"], candidate.sha, args.budget, cpu, chain, acceptances)

    reasons = [
        f"{j.figure}: {j.change * 100:+.2f}% instructions per step ({j.candidate:,.0f} vs base {j.base:,.0f}), "
        f"beyond the allowed +{args.threshold * 100:g}%"
        for j in judgements if j.verdict == "regression"
    ] + drift_failing
    accepted_reasons = [
        f"{j.figure}: {j.change * 100:+.2f}%, accepted ({j.accepted_by.source} {j.accepted_by.origin}: "
        f"{j.accepted_by.reason})"
        for j in judgements if j.verdict == "accepted"
    ] + [f"{text} (accepted)" for text in drift_accepted]
    verdict = "fail" if reasons else "accepted" if accepted_reasons else "pass"
    # Whole instructions per step: the history keeps integers.
    figures = {figure: round(count.per_step) for figure, count in measured["candidate"].items()}
    return {
        "schema": history.SCHEMA,
        "kind": "counts",
        "commit": candidate.sha,
        "parent": base.sha,
        "subject": candidate.subject,
        "committed": commit_date(repo, candidate.sha),
        "recorded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpu": cpu,
        "toolchain": chain,
        "figures": figures,
        "advisory": {},
        "verdict": verdict,
        "accepted": merge_acceptances(acceptances, judgements, drift_accepted),
        "ci": report.ci_context(),
        "host": platform.node(),
        "builds": keys,
        "settings": {"threshold": args.threshold, "budget": args.budget, "min_runs": args.min_runs,
                     "max_runs": args.max_runs, "agreement": args.agreement, "noisy_runs": args.noisy_runs,
                     "probe_env": dict(args.probe_env), "only": list(args.only),
                     "history_ref": None if args.no_history else args.history_ref,
                     "history_records": len(records)},
        "base": {"commit": base.sha, "subject": base.subject,
                 "figures": {f: round(c.per_step) for f, c in measured["base"].items()}},
        "judgements": {j.figure: j.to_json() for j in judgements},
        "drift": {figure: budget_json(check) for figure, check in checks.items()},
        "reasons": reasons,
        "accepted_reasons": accepted_reasons,
        "instructions": {role: {f: c.instructions for f, c in figs.items()} for role, figs in measured.items()},
        "suspensions": {role: {f: c.suspensions for f, c in figs.items()} for role, figs in measured.items()},
    }


def merge_acceptances(acceptances, judgements, drift_accepted) -> dict | None:
    """The history's `accepted` field: what was accepted and why, when anything was."""
    used = [j for j in judgements if j.verdict == "accepted"]
    if not used and not drift_accepted:
        return None
    figures = sorted({j.figure for j in used} | {text.split(":", 1)[0] for text in drift_accepted})
    reasons = sorted({f"{a.source} {a.origin}: {a.reason}" for a in acceptances if any(a.covers(f) for f in figures)})
    sources = sorted({a.source for a in acceptances if any(a.covers(f) for f in figures)})
    # A label, when there is one, is the decision of record; otherwise the trailer.
    return {"figures": figures, "reason": "; ".join(reasons), "source": "label" if "label" in sources else "trailer"}


def budget_json(check) -> dict:
    reference = check.reference
    return {
        "reference": None if reference is None else {"value": reference[0], "commit": reference[1]},
        "change": None if check.change is None else round(check.change, 6),
        "exceeded": bool(check.exceeded),
        "drift": None if check.drift is None else check.drift.describe(),
    }


def commit_date(repo: Path, sha: str) -> str:
    out = builds.git(repo, "show", "-s", "--format=%cI", sha).stdout.strip()
    return out or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))

