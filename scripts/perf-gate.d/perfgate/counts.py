"""The blocking verdict on instruction counts, and the ways to accept a regression.

A figure is a scenario's instructions per counted step (the lowest of its runs
that suspended the most; see probes.py).
The candidate regresses a figure when it needs more than `threshold` more than the
base (default 1.5%: twice below the 3% the gate must catch, many times above what
the same binary varies by; docs/benchmarks.md has both measured).

An intended regression is accepted by naming it, with a reason, in a trailer of a
commit between the base and the candidate:

    Perf-Regression-Accepted: notejam/sign_in: argon2id at OWASP's 2025 parameters

(several figures separated by commas, `notejam/*` for a crate's, `*` for all), or by
the pull request's label `perf-regression-accepted`, which CI turns into `--accept`.
Either way the acceptance is printed in the report and kept in the history, where
it resets the baseline of the drift budget.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

from .builds import git
from .probes import Count

TRAILER = "Perf-Regression-Accepted"
LABEL = "perf-regression-accepted"
DEFAULT_THRESHOLD = 0.015


@dataclass(frozen=True)
class Acceptance:
    figures: tuple[str, ...]
    reason: str
    source: str  # "trailer" or "label"
    origin: str  # the commit carrying the trailer, or who asked

    def covers(self, figure: str) -> bool:
        return any(fnmatch.fnmatchcase(figure, pattern) for pattern in self.figures)

    def to_json(self) -> dict:
        return {"figures": list(self.figures), "reason": self.reason, "source": self.source, "origin": self.origin}


class AcceptanceError(ValueError):
    pass


FIGURE_PATTERN = re.compile(r"^(\*|[a-z0-9_*]+/[a-z0-9_*]+)$")


def parse_acceptance(value: str, source: str, origin: str) -> Acceptance:
    """`figures: reason`, figures a comma-separated list of names or globs."""
    figures_text, sep, reason = value.partition(": ")
    figures = tuple(f.strip() for f in figures_text.split(",") if f.strip())
    if not sep or not reason.strip() or not figures:
        raise AcceptanceError(
            f"{origin}: {TRAILER} must be 'FIGURES: REASON' (e.g. 'notejam/sign_in: why'), got {value!r}"
        )
    bad = [f for f in figures if not FIGURE_PATTERN.match(f)]
    if bad:
        raise AcceptanceError(f"{origin}: {', '.join(map(repr, bad))} is not a figure name like notejam/sign_in, "
                              "notejam/* or *")
    return Acceptance(figures, reason.strip(), source, origin)


def trailer_acceptances(repo: Path, base: str, candidate: str) -> list[Acceptance]:
    """Acceptances in the commits after `base` up to `candidate`."""
    log = git(repo, "log", "--format=%H%x1f%(trailers:key=" + TRAILER + ",valueonly,separator=%x1e)%x1d",
              f"{base}..{candidate}")
    found = []
    for entry in log.stdout.split("\x1d"):
        sha, _, values = entry.strip("\n").partition("\x1f")
        for value in values.strip().split("\x1e"):
            if value.strip():
                found.append(parse_acceptance(value.strip(), "trailer", sha.strip()[:10]))
    return found


def label_acceptance(reason: str) -> Acceptance:
    if not reason.strip():
        raise AcceptanceError("--accept needs a reason (who accepted it, and why)")
    return Acceptance(("*",), reason.strip(), "label", LABEL)


@dataclass
class Judgement:
    figure: str
    base: float | None
    candidate: float | None
    change: float | None
    verdict: str  # ok, regression, accepted, improvement, new, gone
    spread: float = 0.0
    accepted_by: Acceptance | None = None

    def to_json(self) -> dict:
        return {
            "base": self.base,
            "candidate": self.candidate,
            "change": None if self.change is None else round(self.change, 6),
            "verdict": self.verdict,
            "spread": round(self.spread, 6),
            "accepted_by": self.accepted_by.to_json() if self.accepted_by else None,
        }


def judge(base: dict[str, Count], candidate: dict[str, Count], threshold: float,
          acceptances: list[Acceptance]) -> list[Judgement]:
    out = []
    for figure in sorted(set(base) | set(candidate)):
        b, c = base.get(figure), candidate.get(figure)
        if b is None or c is None:
            present = c or b
            out.append(Judgement(figure, b and b.per_step, c and c.per_step, None,
                                 "new" if b is None else "gone", present.spread))
            continue
        change = c.per_step / b.per_step - 1
        spread = max(b.spread, c.spread)
        if change > threshold:
            accepted = accepting(figure, acceptances)
            verdict = "accepted" if accepted else "regression"
            out.append(Judgement(figure, b.per_step, c.per_step, change, verdict, spread, accepted))
        else:
            verdict = "improvement" if change < -threshold else "ok"
            out.append(Judgement(figure, b.per_step, c.per_step, change, verdict, spread))
    return out


def accepting(figure: str, acceptances: list[Acceptance]) -> Acceptance | None:
    return next((a for a in acceptances if a.covers(figure)), None)
