"""Where a series of figures changed: the steps and slow drifts in the history of main.

A per-commit gate compares a commit with its parent, so it never sees ten commits that
each add 1%. This module looks at the whole series and names where it moved.

Method. Everything is done on logarithms, where +3% is the same distance at any scale.
The series is modelled as flat levels joined by transitions; a transition is a ramp
from one level to the next over L commits (h rises linearly from 0 to 1, so the value
is level + shift * h). A step is the ramp of L = 1: the first index of the new level is
its start. A drift is a ramp of L >= 2: its start is the first commit that rose above
the flat part before it, its end the first at the new level (or the last point, when the
drift is still going on). Transitions are found by binary segmentation: in a segment,
the best single split (largest standardised mean difference) locates a change; the
ramps around that split (up to `max_ramp` commits long) are fitted by least squares in
O(1) each from prefix sums, and the best step and the best ramp compete. The segment
is then cut before and after the transition (a ramp's inside belongs to neither side)
and each side searched again. A last pass refits every transition between its two
neighbours, so a change found while another one still contaminated its segment gets
its exact place and levels.

Why this design rather than E-Divisive or a plain windowed slope test: E-Divisive
finds distribution changes by permutation tests (slow in pure Python for 1000 points,
and random) and, like any step detector, cuts a drift into several small steps, none
above the threshold, which is exactly the failure this module exists to catch. A
windowed slope test sees drifts but blurs steps over its window and needs a window
length per drift rate. Fitting ramps directly gives both, with exact places, and the
choice between them is a plain comparison of fits.

Noise. The noise is estimated from the series itself: sigma = 1.4826 * median(|first
difference|) / sqrt(2). First differences cancel the levels, the median ignores the
few differences a change makes, so the same estimate holds for instruction counts
(0.05-0.3%) and wall-clock figures (5-15%). It never goes below `noise_floor`: counts of
an unchanged binary are often exactly equal, which would otherwise make sigma zero.

What is reported. A transition is kept when its shift, in standard errors of the noise
(z), exceeds the Bonferroni bound of `alpha` over the segment's possible splits, AND
its size exceeds `min_change`: significant and big enough to matter. A drift is
preferred to a step only when the ramp fits better by more than `drift_penalty`
noise variances and no single commit of it makes most of the rise ("each rising a
little, none alone a big jump"). An isolated point far from its neighbours on both
sides (one bad measurement) is set aside before all this (see outliers()), so it is
neither a step nor two. A change in the last point alone cannot be told from a bad
measurement: it is not reported until a second point confirms it (the per-commit
comparison is what judges the newest commit). Improvements are reported as negative
changes. Independence of the noise is assumed: wall-clock figures whose noise moves
with the machine's load over days will show more changes than there were.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

MAD_TO_SD = 1.4826  # median absolute deviation of a normal sample to its standard deviation


@dataclass(frozen=True)
class ChangePoint:
    """One change of level. Indices are into the series given to detect()."""

    kind: str  # "step" or "drift"
    start: int  # step: first index at the new level; drift: first index above the old one
    end: int  # first index at the new level (a step's end is its start)
    label: str | None  # labels[start] (the commit) when labels were given
    before: float  # the level before (geometric mean of the flat part)
    after: float  # the level after
    change: float  # after / before - 1: > 0 for a rise (a regression of a cost), < 0 for a fall
    z: float  # the shift in standard errors of the noise
    end_label: str | None = None  # labels[end]

    @property
    def commits(self) -> int:
        """How many commits the change took: 1 for a step."""
        return self.end - self.start + 1

    @property
    def per_commit(self) -> float:
        """The change per commit, compounded: (1 + change) ** (1 / commits) - 1."""
        return (1 + self.change) ** (1 / self.commits) - 1

    def describe(self) -> str:
        """One line: "step at <label>: +5.0%" or "drift from <label>: +9.3% over 3 commits (3.0% per commit)"."""
        where = _short(self.label) if self.label is not None else f"index {self.start}"
        if self.kind == "step":
            return f"step at {where}: {self.change * 100:+.1f}%"
        return (f"drift from {where}: {self.change * 100:+.1f}% over {self.commits} commits "
                f"({self.per_commit * 100:.1f}% per commit)")


def _short(label: str) -> str:
    """Commit ids read as 10 digits, as in the rest of the gate's output; other labels as they are."""
    if len(label) in (40, 64) and all(c in "0123456789abcdef" for c in label):
        return label[:10]
    return label


def _logs(values: list[float]) -> list[float]:
    logs = []
    for i, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise ValueError(f"value {i} ({value!r}) is not a positive number")
        logs.append(math.log(value))
    return logs


def _noise(logs: list[float], floor: float, clip: float = 3.5) -> float:
    """Standard deviation of one point's noise, in logs, from the first differences.

    Differences cancel the levels; a difference has twice a point's variance. Two
    estimates, the larger kept: the median absolute difference (which the few large
    differences a change makes do not move), and the root mean square of the
    differences clipped at `clip` times that (which keeps the weight of heavy tails:
    a mean over a segment varies with the noise's full variance, which the median
    alone underestimates for wall-clock figures).
    """
    diffs = [abs(b - a) for a, b in zip(logs, logs[1:])]
    if not diffs:
        return floor
    core = MAD_TO_SD * statistics.median(diffs) / math.sqrt(2)
    limit = clip * core * math.sqrt(2)
    clipped = math.sqrt(statistics.fmean(min(d, limit) ** 2 for d in diffs) / 2)
    return max(floor, core, clipped)


def noise_level(values: list[float], noise_floor: float = 0.0005) -> float:
    """The series' noise per point as a fraction (e.g. 0.002 for 0.2%), as detect() estimates it."""
    return math.expm1(_noise(_logs(values), noise_floor))


def _outliers(logs: list[float], sigma: float, min_change: float, z: float) -> list[int]:
    """Points far from the median of up to two neighbours on EACH side, in the same direction.

    Requiring both sides keeps a step (whose first point agrees with the points after it)
    and a drift (each point between its neighbours) from ever qualifying; a spike of one
    or two points does. The first and last points have one side only and are never
    outliers.
    """
    found = []
    for i in range(1, len(logs) - 1):
        left = statistics.median(logs[max(0, i - 2):i])
        right = statistics.median(logs[i + 1:i + 3])
        d_left, d_right = logs[i] - left, logs[i] - right
        if d_left * d_right <= 0:
            continue
        # The deviation from the median of two points has sd sigma * sqrt(1.5); of one, sigma * sqrt(2).
        limit = max(math.log1p(min_change), z * sigma * math.sqrt(2))
        if min(abs(d_left), abs(d_right)) > limit:
            found.append(i)
    return found


def outliers(values: list[float], *, min_change: float = 0.02, noise_floor: float = 0.0005,
             outlier_z: float = 5.0) -> list[int]:
    """Indices of single bad measurements, which detect() sets aside."""
    logs = _logs(values)
    return _outliers(logs, _noise(logs, noise_floor), min_change, outlier_z)


def _cleaned(logs: list[float], bad: list[int]) -> list[float]:
    """The series with each outlier replaced by the median of its good neighbours."""
    bad_set = set(bad)
    cleaned = list(logs)
    for i in bad:
        near = [logs[j] for j in range(max(0, i - 2), min(len(logs), i + 3)) if j != i and j not in bad_set]
        if near:
            cleaned[i] = statistics.median(near)
    return cleaned


def _tamed(logs: list[float], sigma: float, min_change: float, width: float = 3.0) -> list[float]:
    """Heavy tails pulled in: each point clamped to within `width` sigma of its running median.

    The z-test below compares means, which a few wild wall-clock measurements (a runner
    that stalled) move much more than the median-based noise estimate expects. A
    running median of five follows a step (two points of either side of it agree with
    it) and a drift. Only a noisy series is tamed: when 3 sigma is below min_change, tails
    cannot make a change of min_change, and clamping would only blunt a jump in the
    last points, which have no neighbours after them.
    """
    band = width * sigma
    if band < math.log1p(min_change):
        return logs
    tamed = []
    for i, value in enumerate(logs):
        middle = statistics.median(logs[max(0, i - 2):i + 3])
        tamed.append(min(max(value, middle - band), middle + band))
    return tamed


@dataclass(frozen=True)
class _Fit:
    """level + shift * h(t) on [a, b), h = 0 up to s0, rising linearly to 1 at e0, 1 after."""

    a: int
    b: int
    s0: int  # last index at the old level
    e0: int  # first index at the new level
    level: float
    shift: float
    gain: float  # reduction of the squared error against one flat level

    @property
    def ramp(self) -> int:
        return self.e0 - self.s0


def _h(t: int, s0: int, e0: int) -> float:
    """The ramp: 0 up to s0, 1 from e0 on, linear between."""
    if t <= s0:
        return 0.0
    if t >= e0:
        return 1.0
    return (t - s0) / (e0 - s0)


class _Model:
    def __init__(self, logs: list[float], sigma: float, *, min_change: float, min_segment: int, max_ramp: int,
                 alpha: float, drift_penalty: float):
        self.x = logs
        self.sigma = sigma
        self.smallest = math.log1p(min_change)
        self.min_segment = min_segment
        self.max_ramp = max_ramp
        self.alpha = alpha
        self.drift_penalty = drift_penalty
        self.sum_x = [0.0]
        self.sum_tx = [0.0]
        for t, value in enumerate(logs):
            self.sum_x.append(self.sum_x[-1] + value)
            self.sum_tx.append(self.sum_tx[-1] + t * value)

    def z(self, fit: _Fit) -> float:
        return math.copysign(math.sqrt(max(fit.gain, 0.0)), fit.shift) / self.sigma

    def z_critical(self, length: int) -> float:
        """Bonferroni over the splits of a segment: noise alone passes with probability ~alpha."""
        return statistics.NormalDist().inv_cdf(1 - self.alpha / (2 * max(length, 2)))

    def fit(self, a: int, b: int, s0: int, e0: int) -> _Fit:
        """Least squares of x on h over [a, b) in O(1), from prefix sums."""
        n = b - a
        ramp = e0 - s0
        after = b - e0
        sum_h = (ramp - 1) / 2 + after
        sum_h2 = (ramp - 1) * (2 * ramp - 1) / (6 * ramp) + after
        inner_x = self.sum_x[e0] - self.sum_x[s0 + 1]
        inner_tx = self.sum_tx[e0] - self.sum_tx[s0 + 1]
        sum_hx = (inner_tx - s0 * inner_x) / ramp + self.sum_x[b] - self.sum_x[e0]
        mean = (self.sum_x[b] - self.sum_x[a]) / n
        s_hh = sum_h2 - sum_h * sum_h / n
        s_hx = sum_hx - sum_h * mean
        shift = s_hx / s_hh
        return _Fit(a, b, s0, e0, mean - shift * sum_h / n, shift, s_hx * shift)

    def fits_in(self, a: int, b: int, s0: int, e0: int) -> bool:
        """Whether [a, b) leaves the transition its flat sides: min_segment points before, and after a step."""
        after = self.min_segment if e0 - s0 == 1 else 1
        return a + self.min_segment - 1 <= s0 < e0 <= b - after

    def fits_nearby(self, fit: _Fit) -> bool:
        """The points at and next to the transition lie on the fitted line.

        Each of the min_segment points on either side, and those inside a ramp, must be
        within 4 sigma of the line, or else off it by less than half the step (for a
        step: closer to its own level than to the other); a ramp's points by less than
        one commit's rise or half of min_change. This refuses a level that one point
        makes up alone (the last point of a series jumping) and a long ramp laid over a
        staircase of steps that each matter, while a staircase of small steps (+1% every
        third commit) is the drift it looks like.
        """
        if fit.ramp == 1:
            allowed = max(4 * self.sigma, abs(fit.shift) / 2)
        else:
            allowed = max(4 * self.sigma, abs(fit.shift) / fit.ramp, self.smallest / 2)
        first = max(fit.a, fit.s0 - self.min_segment + 1)
        last = min(fit.b, fit.e0 + self.min_segment)
        return all(
            abs(self.x[t] - fit.level - fit.shift * _h(t, fit.s0, fit.e0)) <= allowed for t in range(first, last)
        )

    def best_step(self, a: int, b: int) -> _Fit | None:
        """The split of [a, b) that removes the most squared error, among those that fit nearby."""
        m = self.min_segment
        fits = sorted((self.fit(a, b, k - 1, k) for k in range(a + m, b - m + 1)), key=lambda f: -f.gain)
        return next((f for f in fits if self.fits_nearby(f)), None)

    def best_ramp(self, a: int, b: int, k: int) -> _Fit | None:
        """The best ramp of 2..max_ramp commits containing index k, ending at b - 1 at the latest."""
        best = None
        for s0 in range(max(a + self.min_segment - 1, k - self.max_ramp), k):
            for e0 in range(max(k, s0 + 2), min(b - 1, s0 + self.max_ramp) + 1):
                fit = self.fit(a, b, s0, e0)
                if best is None or fit.gain > best.gain:
                    best = fit
        return best if best is not None and self.fits_nearby(best) else None

    def rises_evenly(self, fit: _Fit) -> bool:
        """No single commit of the ramp makes most of its rise (beyond what noise allows)."""
        direction = 1 if fit.shift > 0 else -1
        largest = max(direction * (self.x[t] - self.x[t - 1]) for t in range(fit.s0 + 1, fit.e0 + 1))
        return largest <= 0.6 * abs(fit.shift) + 3 * self.sigma * math.sqrt(2)

    def best(self, a: int, b: int) -> _Fit | None:
        """The transition that best explains [a, b): a step, or a drift when it fits clearly better."""
        step = self.best_step(a, b)
        if step is None:
            return None
        return self.preferred(step, self.best_ramp(a, b, step.e0))

    def preferred(self, one: _Fit, other: _Fit | None) -> _Fit:
        """The better of two fits of a segment; a drift beats a step only by drift_penalty and rising evenly."""
        if other is None:
            return one
        if one.ramp > 1 and other.ramp == 1:
            one, other = other, one
        if one.ramp == 1 and other.ramp > 1:
            clearly = other.gain - one.gain > self.drift_penalty * self.sigma ** 2
            return other if clearly and self.rises_evenly(other) else one
        return other if other.gain > one.gain else one

    def significant(self, fit: _Fit) -> bool:
        return abs(self.z(fit)) >= self.z_critical(fit.b - fit.a)

    def segment(self) -> list[_Fit]:
        """Binary segmentation: every significant transition, however small."""
        found = []
        pending = [(0, len(self.x))]
        while pending:
            a, b = pending.pop()
            fit = self.best(a, b)
            if fit is None or not self.significant(fit):
                continue
            found.append(fit)
            pending += [(a, fit.s0 + 1), (fit.e0, b)]
        return sorted(found, key=lambda f: f.s0)

    def joint_gain(self, a: int, b: int, first: _Fit, second: _Fit) -> float:
        """Squared error two transitions remove together from [a, b), fitted jointly (O(b - a))."""
        x = self.x[a:b]
        h1 = [_h(t, first.s0, first.e0) for t in range(a, b)]
        h2 = [_h(t, second.s0, second.e0) for t in range(a, b)]
        n = len(x)
        mx, m1, m2 = sum(x) / n, sum(h1) / n, sum(h2) / n
        s11 = sum((u - m1) ** 2 for u in h1)
        s22 = sum((v - m2) ** 2 for v in h2)
        s12 = sum((u - m1) * (v - m2) for u, v in zip(h1, h2))
        s1x = sum((u - m1) * (y - mx) for u, y in zip(h1, x))
        s2x = sum((v - m2) * (y - mx) for v, y in zip(h2, x))
        det = s11 * s22 - s12 * s12
        if det <= 0:
            return 0.0
        return (s22 * s1x * s1x - 2 * s12 * s1x * s2x + s11 * s2x * s2x) / det

    def merged(self, a: int, b: int, first: _Fit, second: _Fit) -> _Fit | None:
        """One drift from first's start to second's end, if it explains [a, b) as well as the two."""
        if (first.shift > 0) != (second.shift > 0) or second.s0 - first.e0 > 2 * self.min_segment:
            return None
        candidates = [
            self.fit(a, b, s0, e0)
            for s0 in range(max(a + self.min_segment - 1, first.s0 - 2), min(first.s0 + 3, first.e0))
            for e0 in range(max(second.e0 - 2, second.s0 + 1), min(second.e0 + 3, b))
            if e0 - s0 >= 2
        ]
        best = max(candidates, key=lambda f: f.gain, default=None)
        if best is None or not self.rises_evenly(best) or not self.fits_nearby(best):
            return None
        if self.joint_gain(a, b, first, second) - best.gain > self.drift_penalty * self.sigma ** 2:
            return None
        return best

    def merge(self, fits: list[_Fit]) -> list[_Fit]:
        """Joins neighbours of the same direction that are one drift found in two pieces.

        A drift found while another change still shared its segment can come out cut in
        two (its ends fitted separately); each piece then bounds the other's refit.
        """
        i = 0
        while i + 1 < len(fits):
            a = fits[i - 1].e0 if i > 0 else 0
            b = fits[i + 2].s0 + 1 if i + 2 < len(fits) else len(self.x)
            joined = self.merged(a, b, fits[i], fits[i + 1])
            if joined is None:
                i += 1
            else:
                fits[i:i + 2] = [joined]
        return fits

    def refine(self, fits: list[_Fit], passes: int = 2) -> list[_Fit]:
        """Refits each transition between its neighbours, once the others are known."""
        for _ in range(passes):
            refined: list[_Fit] = []
            for i, old in enumerate(fits):
                a = refined[-1].e0 if refined else 0
                b = fits[i + 1].s0 + 1 if i + 1 < len(fits) else len(self.x)
                kept = self.fit(a, b, old.s0, old.e0) if self.fits_in(a, b, old.s0, old.e0) else None
                found = self.best(a, b)
                if found is None:
                    refined.append(kept or old)
                else:
                    refined.append(self.preferred(found, kept))
            fits = refined
        return fits


def detect(values: list[float], labels: list[str] | None = None, *, min_change: float = 0.02,
           alpha: float = 0.001, noise_floor: float = 0.0005, min_segment: int = 2, max_ramp: int = 30,
           drift_penalty: float = 16.0, outlier_z: float = 5.0) -> list[ChangePoint]:
    """The steps and drifts of a series of positive figures, oldest first; see the module's docstring.

    min_change: the smallest change reported, as a fraction (0.02: 2%), up or down.
    alpha: how often a flat series of noise alone may show a change in a segment.
    noise_floor: the least noise assumed per point, in logs (0.0005: 0.05%).
    min_segment: the fewest points a flat level needs on each side of a step.
    max_ramp: the longest drift looked for in one piece, in commits (longer ones are found
      in pieces, then joined).
    drift_penalty: how much better (in noise variances) a ramp must fit than a step to be a drift.
    outlier_z: how far (in noise standard deviations, and beyond min_change) a single point
      must stand from its neighbours on both sides to be set aside as a bad measurement.
    """
    if labels is not None and len(labels) != len(values):
        raise ValueError(f"{len(labels)} labels for {len(values)} values")
    logs = _logs(values)
    if len(logs) < 2 * min_segment:
        return []
    sigma = _noise(logs, noise_floor)
    cleaned = _tamed(_cleaned(logs, _outliers(logs, sigma, min_change, outlier_z)), sigma, min_change)
    model = _Model(cleaned, sigma, min_change=min_change, min_segment=min_segment, max_ramp=max_ramp,
                   alpha=alpha, drift_penalty=drift_penalty)
    changes = []
    for fit in model.refine(model.merge(model.refine(model.segment()))):
        if abs(fit.shift) < model.smallest or not model.significant(fit):
            continue
        start = fit.s0 + 1
        changes.append(ChangePoint(
            kind="step" if fit.ramp == 1 else "drift",
            start=start,
            end=fit.e0,
            label=labels[start] if labels is not None else None,
            before=math.exp(fit.level),
            after=math.exp(fit.level + fit.shift),
            change=math.expm1(fit.shift),
            z=model.z(fit),
            end_label=labels[fit.e0] if labels is not None else None,
        ))
    return changes
