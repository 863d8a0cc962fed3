"""The change-point detector on synthetic series with known changes (fixed seeds, so repeatable)."""

import math
import random
import time
import unittest

from perfgate import changepoint
from perfgate.changepoint import detect

COUNT = 12_345_678  # an instruction count


def series(n, noise, seed, shape=lambda i: 0.0, level=COUNT):
    """n log-normal figures around level * exp(shape(i)), relative spread `noise`."""
    rng = random.Random(seed)
    return [level * math.exp(shape(i) + rng.gauss(0, noise)) for i in range(n)]


def heavy_tailed(n, noise, seed):
    """Flat figures with Student's t noise (4 degrees of freedom) of standard deviation `noise`:
    wall-clock figures have more wild values than a normal distribution."""
    rng = random.Random(seed)
    return [COUNT * math.exp(noise * rng.gauss(0, 1) / math.sqrt(rng.gammavariate(2, 0.5) * 2)) for _ in range(n)]


def step(at, change):
    return lambda i: math.log1p(change) if i >= at else 0.0


def drift(first, per_commit, commits):
    """Commit `first` is the first to rise; the last of `commits` rises reaches the new level."""
    return lambda i: math.log1p(per_commit) * min(max(i - first + 1, 0), commits)


def summary(changes):
    return [(c.kind, c.start, c.end, round(c.change, 3)) for c in changes]


class FlatTest(unittest.TestCase):
    def test_a_flat_series_with_count_noise_shows_nothing(self):
        for seed in range(10):
            with self.subTest(seed=seed):
                self.assertEqual(detect(series(200, 0.002, seed)), [])

    def test_a_flat_series_with_wall_clock_noise_shows_nothing(self):
        for seed in range(10):
            with self.subTest(seed=seed):
                self.assertEqual(detect(series(200, 0.08, seed)), [])

    def test_exactly_equal_counts_show_nothing(self):
        self.assertEqual(detect([COUNT] * 50), [])

    def test_false_alarms_are_rare(self):
        # 200 series of 100 points per noise level: at most one may show a change.
        for noise in (0.002, 0.08, 0.15):
            with self.subTest(noise=noise):
                flagged = [seed for seed in range(200) if detect(series(100, noise, 1000 + seed))]
                self.assertLessEqual(len(flagged), 1, f"flagged seeds {flagged}")

    def test_heavy_tails_do_not_make_false_alarms(self):
        # A median-based noise estimate alone, or no clamping of wild points, flags 2 to 5 of these.
        flagged = [seed for seed in range(500) if detect(heavy_tailed(100, 0.08, 2000 + seed))]
        self.assertLessEqual(len(flagged), 1, f"flagged seeds {flagged}")


class StepTest(unittest.TestCase):
    def test_a_step_is_found_where_it_is(self):
        for seed in range(5):
            with self.subTest(seed=seed):
                found = detect(series(200, 0.002, seed, step(60, 0.05)))
                self.assertEqual(len(found), 1, summary(found))
                (change,) = found
                self.assertEqual(change.kind, "step")
                self.assertEqual((change.start, change.end), (60, 60))
                self.assertAlmostEqual(change.change, 0.05, delta=0.002)
                self.assertAlmostEqual(change.before, COUNT, delta=COUNT * 0.002)
                self.assertAlmostEqual(change.after, COUNT * 1.05, delta=COUNT * 0.002)
                self.assertGreater(change.z, 10)

    def test_a_step_down_is_a_negative_step(self):
        found = detect(series(200, 0.002, 3, step(60, -0.05)))
        self.assertEqual(summary(found), [("step", 60, 60, -0.05)])
        self.assertLess(found[0].z, 0)

    def test_a_step_below_min_change_is_not_reported(self):
        values = series(200, 0.002, 4, step(60, 0.015))
        self.assertEqual(detect(values), [])
        self.assertEqual(summary(detect(values, min_change=0.01)), [("step", 60, 60, 0.015)])

    def test_a_step_hidden_in_wall_clock_noise_is_not_claimed(self):
        # 3% under 8% noise: real, but not distinguishable from noise with 200 points.
        self.assertEqual(detect(series(200, 0.08, 5, step(100, 0.03))), [])

    def test_a_large_step_is_seen_through_wall_clock_noise(self):
        found = detect(series(200, 0.08, 6, step(100, 0.30)))
        self.assertEqual(len(found), 1, summary(found))
        self.assertEqual(found[0].kind, "step")
        self.assertLessEqual(abs(found[0].start - 100), 1)

    def test_steps_a_few_commits_apart_stay_steps(self):
        shape = lambda i: step(50, 0.04)(i) + step(56, 0.04)(i)
        found = detect(series(120, 0.002, 7, shape))
        self.assertEqual([(c.kind, c.start) for c in found], [("step", 50), ("step", 56)])


class DriftTest(unittest.TestCase):
    def test_a_drift_is_found_from_its_first_commit(self):
        for seed in range(5):
            with self.subTest(seed=seed):
                found = detect(series(200, 0.002, seed, drift(40, 0.03, 6)))
                self.assertEqual(len(found), 1, summary(found))
                (change,) = found
                self.assertEqual(change.kind, "drift")
                self.assertLessEqual(abs(change.start - 40), 1)
                self.assertLessEqual(abs(change.end - 45), 1)
                self.assertAlmostEqual(change.change, 1.03 ** 6 - 1, delta=0.005)  # +19.4%
                self.assertAlmostEqual(change.per_commit, 0.03, delta=0.005)

    def test_a_drift_and_a_later_step_are_both_found(self):
        shape = lambda i: drift(40, 0.03, 6)(i) + step(120, 0.05)(i)
        for seed in range(5):
            with self.subTest(seed=seed):
                found = detect(series(200, 0.002, seed, shape))
                self.assertEqual([c.kind for c in found], ["drift", "step"], summary(found))
                self.assertLessEqual(abs(found[0].start - 40), 1)
                self.assertAlmostEqual(found[0].change, 0.194, delta=0.005)
                self.assertEqual(found[1].start, 120)
                self.assertAlmostEqual(found[1].change, 0.05, delta=0.003)

    def test_one_percent_per_commit_is_a_drift(self):
        # Ten commits of +1%: none would fail a 3% per-commit gate.
        for seed in range(5):
            with self.subTest(seed=seed):
                found = detect(series(100, 0.002, seed, drift(50, 0.01, 10)))
                self.assertEqual(len(found), 1, summary(found))
                self.assertEqual(found[0].kind, "drift")
                self.assertLessEqual(abs(found[0].start - 50), 1)
                self.assertAlmostEqual(found[0].change, 1.01 ** 10 - 1, delta=0.005)

    def test_small_steps_between_neutral_commits_are_a_drift(self):
        # +1% on every third commit, ten times: each step is too small to report alone.
        shape = lambda i: math.log(1.01) * sum(1 for k in range(10) if i >= 50 + 3 * k)
        found = detect(series(150, 0.001, 8, shape))
        self.assertEqual(len(found), 1, summary(found))
        self.assertEqual(found[0].kind, "drift")
        self.assertLessEqual(abs(found[0].start - 50), 1)
        self.assertAlmostEqual(found[0].change, 0.105, delta=0.005)

    def test_a_drift_longer_than_max_ramp_is_one_drift(self):
        found = detect(series(300, 0.002, 9, drift(100, 0.005, 50)), max_ramp=30)
        self.assertEqual(len(found), 1, summary(found))
        self.assertEqual(found[0].kind, "drift")
        self.assertLessEqual(abs(found[0].start - 100), 2)
        self.assertAlmostEqual(found[0].change, 1.005 ** 50 - 1, delta=0.01)

    def test_a_drift_still_going_on_at_the_end_is_found(self):
        values = series(23, 0.0, 0, drift(20, 0.01, 3))
        found = detect(values)
        self.assertEqual(summary(found), [("drift", 20, 22, 0.03)])

    def test_a_staircase_of_large_steps_is_steps_not_one_drift(self):
        shape = lambda i: math.log(1.03) * (i // 20)
        found = detect(series(200, 0.002, 10, shape))
        self.assertEqual([(c.kind, c.start) for c in found], [("step", k) for k in range(20, 200, 20)])


class OutlierTest(unittest.TestCase):
    def test_one_bad_measurement_is_not_a_change(self):
        for noise in (0.002, 0.08):
            with self.subTest(noise=noise):
                values = series(200, noise, 11)
                values[80] *= 1.25
                self.assertEqual(detect(values), [])
        values = series(200, 0.002, 11)
        values[80] *= 1.25
        self.assertEqual(changepoint.outliers(values), [80])

    def test_a_jump_of_the_last_point_alone_waits_for_a_second_one(self):
        values = series(100, 0.002, 12)
        values[-1] *= 1.10
        self.assertEqual(detect(values), [])
        values = series(101, 0.002, 12)
        values[-2:] = [v * 1.10 for v in values[-2:]]
        (change,) = detect(values)
        self.assertEqual((change.kind, change.start), ("step", 99))
        self.assertAlmostEqual(change.change, 0.10, delta=0.003)


class ShortSeriesTest(unittest.TestCase):
    def test_short_series_do_not_break_it(self):
        for n in (0, 1, 2, 3):
            with self.subTest(n=n):
                self.assertEqual(detect([COUNT * (1 + i) for i in range(n)]), [])
        self.assertEqual(detect([100, 101, 100, 101, 100]), [])
        self.assertEqual(summary(detect([100, 100, 100, 150, 150])), [("step", 3, 3, 0.5)])

    def test_bad_values_are_refused(self):
        for bad in (0, -1.0, float("nan"), float("inf"), "7", True):
            with self.subTest(bad=bad), self.assertRaisesRegex(ValueError, "value 2 .* not a positive number"):
                detect([1.0, 1.0, bad, 1.0])
        with self.assertRaisesRegex(ValueError, "2 labels for 3 values"):
            detect([1.0, 1.0, 1.0], ["a", "b"])


class DescribeTest(unittest.TestCase):
    def test_labels_name_the_commits(self):
        labels = [f"{i:04x}" + "f" * 36 for i in range(200)]
        (change,) = detect(series(200, 0.002, 13, drift(40, 0.03, 6)), labels)
        self.assertEqual((change.start, change.end), (40, 45))
        self.assertEqual(change.label, labels[40])
        self.assertEqual(change.end_label, labels[45])
        # Commit ids shortened to 10 digits, as in the rest of the gate's output.
        self.assertEqual(change.describe(), "drift from 0028ffffff: +19.4% over 6 commits (3.0% per commit)")

    def test_a_step_reads_in_one_line(self):
        (change,) = detect(series(200, 0.002, 14, step(60, 0.05)), [f"c{i}" for i in range(200)])
        self.assertEqual(change.describe(), "step at c60: +5.0%")
        (change,) = detect(series(200, 0.002, 14, step(60, -0.05)))
        self.assertEqual(change.describe(), "step at index 60: -5.0%")

    def test_the_noise_is_measured_from_the_series(self):
        self.assertAlmostEqual(changepoint.noise_level(series(400, 0.002, 15, step(200, 0.2))), 0.002, delta=0.0003)
        self.assertAlmostEqual(changepoint.noise_level(series(400, 0.08, 15)), 0.083, delta=0.01)
        self.assertAlmostEqual(changepoint.noise_level([COUNT] * 10), 0.0005, delta=1e-6)


class ModelTest(unittest.TestCase):
    def test_the_prefix_sum_fit_is_least_squares(self):
        rng = random.Random(16)
        x = [rng.gauss(0, 1) for _ in range(40)]
        model = changepoint._Model(x, 1.0, min_change=0.02, min_segment=2, max_ramp=30, alpha=0.001,
                                   drift_penalty=16)
        for a, b, s0, e0 in ((0, 40, 10, 11), (3, 37, 10, 18), (5, 30, 6, 29)):
            fit = model.fit(a, b, s0, e0)
            h = [changepoint._h(t, s0, e0) for t in range(a, b)]
            y = x[a:b]
            mh, my = sum(h) / len(h), sum(y) / len(y)
            shift = sum((u - mh) * (v - my) for u, v in zip(h, y)) / sum((u - mh) ** 2 for u in h)
            level = my - shift * mh
            sse_flat = sum((v - my) ** 2 for v in y)
            sse = sum((v - level - shift * u) ** 2 for u, v in zip(h, y))
            self.assertAlmostEqual(fit.shift, shift)
            self.assertAlmostEqual(fit.level, level)
            self.assertAlmostEqual(fit.gain, sse_flat - sse)

    def test_a_thousand_points_take_well_under_a_second(self):
        shape = lambda i: (drift(40, 0.03, 6)(i) + step(120, 0.05)(i) + step(500, -0.1)(i)
                           + drift(700, 0.01, 20)(i))
        values = series(1000, 0.002, 17, shape)
        started = time.process_time()
        found = detect(values)
        self.assertLess(time.process_time() - started, 0.5)
        self.assertEqual([(c.kind, c.start) for c in found], [("drift", 40), ("step", 120), ("step", 500),
                                                              ("drift", 700)])


if __name__ == "__main__":
    unittest.main()
