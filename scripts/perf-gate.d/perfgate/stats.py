"""The noise model: how far the candidate may fall behind the base before the gate fails.

Each metric is measured once per build per round, so round i gives a pair
(base_i, candidate_i) taken seconds apart on the same machine. Which build goes first
alternates from round to round (AB BA AB ...): the build measured second in a round
runs right after the other's load, and on a small machine that alone moved CPU per
request by ~15% between two identical builds. Work in logarithms, where a slowdown of
x% is the same distance at any scale:

* shift: the median over rounds of ln(candidate_i / base_i), taken separately over the
  rounds where the base went first and those where the candidate did, and the two
  averaged, which cancels the position effect. Pairing cancels slow drift (another
  process starting, the CPU warming up); the median ignores one disturbed pair.
* noise: the spread between rounds of the SAME build in the SAME position, pooled
  (standard deviation of the logs). It is what the machine adds to a measurement when
  nothing about the code changed.
* standard error of the shift: a paired difference has variance 2 * noise^2, and the
  median of n of them about pi/2 times the variance of their mean, so
  se = noise * sqrt(2 / n) * sqrt(pi / 2) for one position, and for the average of two
  medians over n1 and n2 rounds, noise * sqrt(2 (1/n1 + 1/n2)) / 2 * sqrt(pi / 2),
  the same for n1 = n2 = n / 2.
* threshold: max(floor, sigmas * se). The floor is the smallest change worth blocking
  a merge for (and what keeps a lucky, too-quiet run from failing on 1%); sigmas * se
  widens it when the machine is noisy, so noise alone fails a run only with the
  one-sided normal tail probability of `sigmas`.

A metric regresses when the candidate is worse than the base by more than its threshold
("worse" is higher for latency, lower for throughput). Slowdowns are expressed per
request: a candidate that needs 25% more time per request has a p99 1.25 x the base's
and a throughput 1 / 1.25 = 0.8 x the base's, both a "slowdown" of 25%.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

# Asymptotic variance of the sample median relative to the mean (normal data).
MEDIAN_VARIANCE_FACTOR = math.pi / 2


@dataclass(frozen=True)
class Metric:
    scenario: str
    field: str
    label: str
    unit: str
    higher_is_worse: bool

    @property
    def key(self) -> str:
        return f"{self.scenario}.{self.field}"

    @property
    def is_latency(self) -> bool:
        return self.higher_is_worse


# What the gate judges, for both scenarios of notejam/bench/scenario: tail latency and
# throughput as wrk sees them, and the server's CPU time per request, in all and in user
# space. The first two are what users feel but swing with whatever else the machine
# runs; CPU per request is the cost of the code itself and stays much steadier on a busy
# machine. User time leaves out the kernel's network work, whose cost per request moves
# with how requests happen to batch (see docs/pipeline.md).
METRICS = tuple(
    metric
    for scenario in ("all_notes", "create_note")
    for metric in (
        Metric(scenario, "p99_ms", "p99 latency", "ms", higher_is_worse=True),
        Metric(scenario, "rps", "throughput", "req/s", higher_is_worse=False),
        Metric(scenario, "cpu_us", "CPU per request", "µs", higher_is_worse=True),
        Metric(scenario, "user_us", "user CPU per request", "µs", higher_is_worse=True),
    )
)
METRICS_BY_KEY = {m.key: m for m in METRICS}


@dataclass(frozen=True)
class Policy:
    """How strict the gate is; fractions, not percentages."""

    sigmas: float = 3.0
    latency_floor: float = 0.10
    throughput_floor: float = 0.05
    cpu_floor: float = 0.05

    def floor(self, metric: Metric) -> float:
        if metric.field in ("cpu_us", "user_us"):
            return self.cpu_floor
        return self.latency_floor if metric.is_latency else self.throughput_floor


@dataclass(frozen=True)
class Judgement:
    metric: Metric
    base_median: float
    candidate_median: float
    # candidate / base - 1 from the paired shift (e.g. +0.25 for a p99 25% higher).
    change: float
    # time per request, candidate over base, minus one: > 0 means slower.
    slowdown: float
    # the largest slowdown tolerated, and what set it.
    threshold: float
    threshold_source: str  # "floor" or "noise"
    # pooled between-round spread of one build, as a fraction (exp(sd) - 1).
    noise: float
    rounds: int
    verdict: str  # "regression", "improvement" or "ok"

    @property
    def allowed_change(self) -> float:
        """The threshold in the metric's own direction: +x for latency, -y for throughput."""
        if self.metric.is_latency:
            return self.threshold
        return 1 / (1 + self.threshold) - 1

    def to_json(self) -> dict:
        return {
            "base_median": self.base_median,
            "candidate_median": self.candidate_median,
            "change": round(self.change, 5),
            "slowdown": round(self.slowdown, 5),
            "threshold": round(self.threshold, 5),
            "threshold_source": self.threshold_source,
            "noise": round(self.noise, 5),
            "rounds": self.rounds,
            "verdict": self.verdict,
        }


class NotEnoughData(ValueError):
    pass


def pooled_log_sd(groups: list[list[float]]) -> float:
    """Standard deviation of ln(value) around each group's own mean, pooled over groups."""
    squares = 0.0
    freedom = 0
    for values in groups:
        logs = [math.log(v) for v in values]
        mean = statistics.fmean(logs)
        squares += sum((x - mean) ** 2 for x in logs)
        freedom += len(logs) - 1
    if freedom <= 0:
        raise NotEnoughData("the noise needs at least two rounds of each build")
    return math.sqrt(squares / freedom)


def judge(metric: Metric, base: list[float], candidate: list[float], policy: Policy,
          first: list[str] | None = None) -> Judgement:
    """Compares paired per-round figures of one metric; see the module's docstring.

    `first` names, per round, the build measured first ("base" or "candidate");
    by default the base went first in every round.
    """
    if len(base) != len(candidate):
        raise ValueError(f"{metric.key}: {len(base)} base rounds but {len(candidate)} candidate rounds")
    first = first if first is not None else ["base"] * len(base)
    if len(first) != len(base) or any(f not in ("base", "candidate") for f in first):
        raise ValueError(f"{metric.key}: the order of each round must be 'base' or 'candidate' first")
    rounds = len(base)
    if rounds < 3:
        raise NotEnoughData(f"{metric.key}: {rounds} round(s); the gate needs at least 3")
    for value in (*base, *candidate):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{metric.key}: {value!r} is not a positive measurement")

    positions = [p for p in ("base", "candidate") if p in first]
    shift = statistics.fmean(
        statistics.median(
            math.log(c) - math.log(b)
            for b, c, f in zip(base, candidate, first, strict=True)
            if f == position
        )
        for position in positions
    )
    worse = shift if metric.higher_is_worse else -shift
    groups = [
        [v for v, f in zip(values, first, strict=True) if f == position]
        for values in (base, candidate)
        for position in positions
    ]
    noise_sd = pooled_log_sd(groups)
    # The mean of one median per position, each over that position's paired differences.
    counts = [first.count(position) for position in positions]
    standard_error = (noise_sd * math.sqrt(2 * sum(1 / k for k in counts)) / len(counts)
                      * math.sqrt(MEDIAN_VARIANCE_FACTOR))
    floor = math.log1p(policy.floor(metric))
    from_noise = policy.sigmas * standard_error
    threshold = max(floor, from_noise)
    if worse > threshold:
        verdict = "regression"
    elif -worse > threshold:
        verdict = "improvement"
    else:
        verdict = "ok"
    return Judgement(
        metric=metric,
        base_median=statistics.median(base),
        candidate_median=statistics.median(candidate),
        change=math.expm1(shift),
        slowdown=math.expm1(worse),
        threshold=math.expm1(threshold),
        threshold_source="noise" if from_noise > floor else "floor",
        noise=math.expm1(noise_sd),
        rounds=rounds,
        verdict=verdict,
    )


def judge_all(rounds: list[dict], policy: Policy, metrics=METRICS) -> list[Judgement]:
    """Judges every metric over rounds shaped like {"base": {scenario: {...}}, "candidate": {...}}."""
    judgements = []
    for metric in metrics:
        base = [r["base"][metric.scenario][metric.field] for r in rounds]
        candidate = [r["candidate"][metric.scenario][metric.field] for r in rounds]
        first = [r.get("first", "base") for r in rounds]
        judgements.append(judge(metric, base, candidate, policy, first))
    return judgements


def detectable(judgements: list[Judgement]) -> dict[str, float]:
    """Per scenario, the smallest slowdown some metric of it would flag.

    A slower build moves all of a scenario's metrics at once, so a scenario is as
    sensitive as its steadiest metric.
    """
    by_scenario: dict[str, float] = {}
    for j in judgements:
        by_scenario[j.metric.scenario] = min(by_scenario.get(j.metric.scenario, math.inf), j.threshold)
    return by_scenario
