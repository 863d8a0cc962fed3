"""The gate's outputs: a markdown summary for people, a JSON line per run for plots."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from . import stats
from .stats import Judgement

SCHEMA = 1


def _percent(fraction: float) -> str:
    return f"{fraction * 100:+.1f}%"


def _figure(value: float, unit: str) -> str:
    if unit in ("ms", "µs"):
        return f"{value:.1f} {unit}"
    return f"{value:,.0f} {unit}"


VERDICT_WORDS = {"ok": "ok", "improvement": "faster", "regression": "**REGRESSION**"}


def markdown(record: dict, judgements: list[Judgement]) -> str:
    base, candidate, settings = record["base"], record["candidate"], record["settings"]
    lines = [f"### Performance gate: {record['verdict'].upper()}", ""]
    for reason in record["reasons"]:
        lines.append(f"- {reason}")
    if record["reasons"]:
        lines.append("")
    lines += [
        f"base `{base['commit'][:10]}` {_quote(base['subject'])} vs candidate "
        f"`{candidate['commit'][:10]}` {_quote(candidate['subject'])}",
        "",
        f"{settings['rounds']} rounds of both builds (AB, BA, ...), {settings['duration_s']} s per scenario, "
        f"{settings['connections']} connections, SQLite, loopback "
        f"(notejam/bench/scenario). A metric fails when the candidate is worse by more than "
        f"max(floor, {settings['sigmas']:g} standard errors of the noise); floors: p99 "
        f"{settings['latency_floor'] * 100:g}%, throughput {settings['throughput_floor'] * 100:g}%, "
        f"CPU {settings['cpu_floor'] * 100:g}%.",
        "",
        "| scenario | metric | base | candidate | change | allowed | noise per round | verdict |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for j in judgements:
        m = j.metric
        lines.append(
            f"| {m.scenario} | {m.label} | {_figure(j.base_median, m.unit)} | "
            f"{_figure(j.candidate_median, m.unit)} | {_percent(j.change)} | {_percent(j.allowed_change)}"
            f"{' (noise)' if j.threshold_source == 'noise' else ''} | {j.noise * 100:.1f}% | "
            f"{VERDICT_WORDS[j.verdict]} |"
        )
    lines += [
        "",
        "Smallest slowdown this run could catch: "
        + ", ".join(f"{scenario} {t * 100:.0f}%" for scenario, t in stats.detectable(judgements).items())
        + " (its steadiest metric; more rounds or a quieter machine lower it).",
    ]
    errors = record["errors"]
    lines += [
        "",
        f"Failed requests: base {errors['base']}, candidate {errors['candidate']} "
        f"(of {errors['base_requests']:,} and {errors['candidate_requests']:,}).",
    ]
    return "\n".join(lines) + "\n"


def _quote(subject: str) -> str:
    subject = subject.replace("|", "/").replace("`", "'")
    if len(subject) > 60:
        subject = subject[:57] + "..."
    return f"({subject})"


def ci_context() -> dict:
    """The CI run a record came from, when there is one."""
    return {
        name: os.environ[var]
        for name, var in (("run_id", "GITHUB_RUN_ID"), ("ref", "GITHUB_REF"), ("event", "GITHUB_EVENT_NAME"),
                          ("repository", "GITHUB_REPOSITORY"))
        if os.environ.get(var)
    }


COUNT_VERDICT_WORDS = {
    "ok": "ok", "improvement": "fewer", "regression": "**REGRESSION**", "accepted": "accepted",
    "new": "new", "gone": "gone",
}


def counts_markdown(record: dict) -> str:
    """The blocking gate's report: one row per figure, the reasons first."""
    settings, base = record["settings"], record["base"]
    lines = [f"### Performance gate (instruction counts): {record['verdict'].upper()}", ""]
    for reason in record["reasons"]:
        lines.append(f"- {reason}")
    for reason in record["accepted_reasons"]:
        lines.append(f"- accepted: {reason}")
    if record["reasons"] or record["accepted_reasons"]:
        lines.append("")
    history_note = (
        "no history consulted" if settings["history_ref"] is None
        else f"{settings['history_records']} records of `{settings['history_ref']}`"
    )
    runs = sorted({len(values) for role in record["instructions"].values() for values in role.values()})
    runs_text = f"{runs[0]}" if len(runs) == 1 else f"{runs[0]} to {runs[-1]}"
    lines += [
        f"base `{base['commit'][:10]}` {_quote(base['subject'])} vs candidate "
        f"`{record['commit'][:10]}` {_quote(record['subject'])}",
        "",
        f"Instructions per counted step under callgrind ({record['toolchain']}, {record['cpu']}), "
        f"lowest of {runs_text} runs each (of those that suspended the most, where the probe counts suspensions). Fails above +{settings['threshold'] * 100:g}% against the base, "
        f"or above +{settings['budget'] * 100:g}% against the figure's lowest on main since its last accepted "
        f"change ({history_note}).",
        "",
        "| figure | base | candidate | change | vs main's best | verdict |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for figure, j in sorted(record["judgements"].items()):
        drift = record["drift"].get(figure) or {}
        versus = "" if drift.get("change") is None else f"{drift['change'] * 100:+.2f}%"
        if drift.get("exceeded"):
            versus = f"**{versus}**"
        change = "" if j["change"] is None else f"{j['change'] * 100:+.2f}%"
        lines.append(
            f"| {figure} | {_count(j['base'])} | {_count(j['candidate'])} | {change} | {versus} | "
            f"{COUNT_VERDICT_WORDS[j['verdict']]} |"
        )
    spreads = [j["spread"] for j in record["judgements"].values() if j["spread"]]
    if spreads:
        lines += ["", f"Largest spread between runs of one build: {max(spreads) * 100:.3f}%."]
    lines += [
        "",
        "To accept an intended regression, add to the commit message: "
        f"`Perf-Regression-Accepted: <figure>[, <figure>...]: <reason>` (or label the pull request "
        "`perf-regression-accepted`). See docs/pipeline.md.",
    ]
    return "\n".join(lines) + "\n"


def _count(value) -> str:
    return "" if value is None else f"{value:,.0f}"
