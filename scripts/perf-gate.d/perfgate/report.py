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


def append_history(path: Path, record: dict) -> None:
    """Appends one JSON object on one line; the file is JSON Lines, oldest first."""
    if path.is_dir():
        raise OSError(f"history file {path} is a directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n"
    # One write of the whole line in append mode: concurrent runs do not interleave.
    with open(path, "a") as history:
        history.write(line)
        history.flush()
        os.fsync(history.fileno())


class HistoryError(ValueError):
    pass


def read_history(path: Path) -> list[dict]:
    records = []
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise HistoryError(f"no history at {path}") from None
    except OSError as error:
        raise HistoryError(f"cannot read {path}: {error.strerror}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise HistoryError(f"{path}:{number}: not JSON ({error.msg})") from None
        if not isinstance(record, dict) or record.get("schema") != SCHEMA or "metrics" not in record:
            raise HistoryError(f"{path}:{number}: not a perf-gate record of schema {SCHEMA}")
        records.append(record)
    return records


def history_csv(records: list[dict]) -> str:
    """One row per run and metric: what a spreadsheet or a plotting script wants."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["time", "base", "candidate", "metric", "base_median", "candidate_median", "change", "threshold", "verdict"]
    )
    for record in records:
        for key, m in sorted(record["metrics"].items()):
            writer.writerow(
                [
                    record["time"],
                    record["base"]["commit"][:10],
                    record["candidate"]["commit"][:10],
                    key,
                    m["base_median"],
                    m["candidate_median"],
                    m["change"],
                    m["threshold"],
                    m["verdict"],
                ]
            )
    return out.getvalue()
