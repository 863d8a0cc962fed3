"""The advisory wall-clock comparison: notejam's servers under load, base against candidate.

Runs notejam/bench/scenario against the base's and the candidate's server in
alternation for several rounds and judges p99 latency, throughput and CPU per request
with the noise model of stats.py. Each round starts both servers afresh (a new
process and a new SQLite database, then an unmeasured warm-up): what differs from one
process to the next (memory layout, the allocator's first arenas, which core the
runtime's threads land on) is sampled by the rounds instead of being frozen into one
pair of processes for the whole run.

It reports and never blocks: on these 2-core machines the figures move by 5-20%
between identical runs, so only the instruction counts (count_gate.py) gate a
merge. `--strict` gives the verdict an exit status again, for the gate's own tests
and for experiments on a quiet machine.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

from . import builds, load, report, servers, stats

# A candidate may fail this many more requests (as a fraction of all) than the base.
ERROR_RATE_ALLOWANCE = 0.001


def sensitive_enough(rounds: list[dict], policy: stats.Policy, sensitivity: float, log) -> bool:
    """True when, in every scenario, some metric would flag a slowdown of `sensitivity`.

    A slower build moves all of a scenario's metrics at once, so a scenario is as
    sensitive as its steadiest metric.
    """
    by_scenario = stats.detectable(stats.judge_all(rounds, policy))
    log("perf-gate: can detect " + ", ".join(f"{s} {t * 100:.0f}%" for s, t in by_scenario.items()))
    return all(t <= sensitivity for t in by_scenario.values())


def measure(binaries: dict[str, Path], workload: load.Load, rounds: int, max_rounds: int, warmup: int,
            scratch: Path, enough, server_env: dict[str, str], log) -> list[dict]:
    """Rounds of base and candidate, which one first alternating (the base first in odd
    rounds; see stats: the position matters), each server started for its turn and
    stopped after it.

    After `rounds` rounds, more are added (up to `max_rounds`) until `enough(results)`.
    """
    roles = ("base", "candidate")
    results: list[dict] = []
    started = time.monotonic()
    n = 0
    while n < rounds or (n < max_rounds and not enough(results)):
        n += 1
        order = roles if n % 2 == 1 else roles[::-1]
        entry: dict = {"round": n, "first": order[0], "pids": {}}
        for role in order:
            workdir = scratch / f"round-{n}-{role}"
            workdir.mkdir()
            with servers.Server(role, binaries[role], workdir, server_env) as server:
                if warmup:
                    workload.run(server.url, server.pid, duration_s=warmup)
                figures = workload.run(server.url, server.pid)
                server.check_alive()
                entry[role] = figures
                entry["pids"][role] = server.pid
            log(f"perf-gate: round {n} {role:<9} " + "  ".join(
                f"{name} {f['rps']:.0f} req/s p99 {f['p99_ms']:.1f} ms cpu {f['cpu_us']:.0f} µs "
                f"(user {f['user_us']:.0f})"
                for name, f in figures.items()))
        results.append(entry)
    log(f"perf-gate: {n} rounds in {time.monotonic() - started:.0f} s")
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
    return {
        "schema": report.SCHEMA,
        "kind": "wall",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "ci": report.ci_context(),
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
            "restart": "every round",
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


def advisory_figures(record: dict) -> dict[str, float]:
    """The candidate's medians, for the history: `all_notes.rps`, `create_note.cpu_us`, …"""
    return {key: m["candidate_median"] for key, m in record["metrics"].items()}


def binaries_for(repo, cache, keep, base, candidate, candidate_binary, scratch, log):
    """The base's server from the cache (built if needed); the candidate's too, unless
    the binary that ships was given (CI passes the release bundle's)."""
    rustc = builds.rustc_version()
    keys = {"base": builds.build_key(repo, base, rustc, "notejam")}
    binaries = {}
    with builds.BuildCache(cache, keep, log=log) as store:
        binaries["base"] = store.build(repo, base, keys["base"], "notejam", scratch)
        if candidate_binary is not None:
            keys["candidate"] = f"given:{candidate_binary}"
            binaries["candidate"] = candidate_binary
        else:
            keys["candidate"] = builds.build_key(repo, candidate, rustc, "notejam")
            binaries["candidate"] = store.build(repo, candidate, keys["candidate"], "notejam", scratch)
        store.prune({k for k in keys.values() if not k.startswith("given:")})
    return binaries, keys
