"""The noise model: what passes, what fails, and how often by chance."""

import math
import random
import unittest

from perfgate import stats

P99 = stats.METRICS_BY_KEY["all_notes.p99_ms"]
RPS = stats.METRICS_BY_KEY["all_notes.rps"]
CPU = stats.METRICS_BY_KEY["create_note.cpu_us"]
POLICY = stats.Policy()


def noisy(rng, center, sd, n):
    """n log-normal measurements around `center` with relative spread `sd`."""
    return [center * math.exp(rng.gauss(0, sd)) for _ in range(n)]


class JudgeTest(unittest.TestCase):
    def test_identical_rounds_pass_at_the_floor(self):
        j = stats.judge(P99, [50.0] * 5, [50.0] * 5, POLICY)
        self.assertEqual(j.verdict, "ok")
        self.assertEqual(j.threshold_source, "floor")
        self.assertAlmostEqual(j.threshold, 0.10)
        self.assertAlmostEqual(j.change, 0.0)

    def test_latency_up_beyond_the_floor_is_a_regression(self):
        base = [50.0, 51.0, 49.5, 50.5, 50.2]
        j = stats.judge(P99, base, [v * 1.25 for v in base], POLICY)
        self.assertEqual(j.verdict, "regression")
        self.assertAlmostEqual(j.change, 0.25, places=6)
        self.assertAlmostEqual(j.slowdown, 0.25, places=6)

    def test_throughput_down_is_a_regression_and_up_an_improvement(self):
        base = [1000.0, 1010.0, 990.0, 1005.0, 995.0]
        slower = stats.judge(RPS, base, [v / 1.25 for v in base], POLICY)
        self.assertEqual(slower.verdict, "regression")
        self.assertAlmostEqual(slower.change, -0.20, places=6)
        self.assertAlmostEqual(slower.slowdown, 0.25, places=6)
        faster = stats.judge(RPS, base, [v * 1.25 for v in base], POLICY)
        self.assertEqual(faster.verdict, "improvement")

    def test_allowed_change_reads_in_the_metrics_direction(self):
        j = stats.judge(RPS, [100.0] * 4, [100.0] * 4, POLICY)
        self.assertAlmostEqual(j.allowed_change, 1 / 1.05 - 1)
        j = stats.judge(P99, [100.0] * 4, [100.0] * 4, POLICY)
        self.assertAlmostEqual(j.allowed_change, 0.10)

    def test_a_change_below_the_floor_passes_even_when_steady(self):
        base = [100.0, 100.1, 99.9, 100.0, 100.05]
        j = stats.judge(CPU, base, [v * 1.04 for v in base], POLICY)
        self.assertEqual(j.verdict, "ok")

    def test_noise_widens_the_threshold(self):
        base = [40.0, 60.0, 45.0, 70.0, 50.0]
        candidate = [65.0, 42.0, 75.0, 48.0, 58.0]
        j = stats.judge(P99, base, candidate, POLICY)
        self.assertEqual(j.threshold_source, "noise")
        self.assertGreater(j.threshold, 0.5)
        self.assertEqual(j.verdict, "ok")
        sd = stats.pooled_log_sd([base, candidate])
        expected = 3 * sd * math.sqrt(2 / 5) * math.sqrt(math.pi / 2)
        self.assertAlmostEqual(j.threshold, math.expm1(expected))

    def test_one_disturbed_round_does_not_decide(self):
        base = [100.0, 101.0, 99.0, 100.5, 99.5]
        candidate = [100.2, 100.8, 160.0, 100.1, 99.7]
        self.assertEqual(stats.judge(CPU, base, candidate, POLICY).verdict, "ok")

    def test_sigmas_and_floors_come_from_the_policy(self):
        base = [100.0, 100.0, 100.0, 100.0]
        strict = stats.Policy(cpu_floor=0.02)
        self.assertEqual(stats.judge(CPU, base, [103.0] * 4, strict).verdict, "regression")
        self.assertEqual(stats.judge(CPU, base, [103.0] * 4, POLICY).verdict, "ok")

    def test_bad_input_is_refused_with_the_metric_named(self):
        with self.assertRaisesRegex(stats.NotEnoughData, "all_notes.p99_ms: 2 round"):
            stats.judge(P99, [1.0, 2.0], [1.0, 2.0], POLICY)
        with self.assertRaisesRegex(ValueError, "3 base rounds but 4 candidate"):
            stats.judge(P99, [1.0] * 3, [1.0] * 4, POLICY)
        for bad in (0.0, -1.0, float("nan"), float("inf"), "7"):
            with self.assertRaisesRegex(ValueError, "not a positive measurement"):
                stats.judge(P99, [1.0, 1.0, bad], [1.0, 1.0, 1.0], POLICY)

    def test_judge_all_covers_every_metric_of_both_scenarios(self):
        figures = {"p99_ms": 10.0, "rps": 100.0, "cpu_us": 50.0, "user_us": 30.0}
        rounds = [{"base": {s: figures for s in ("all_notes", "create_note")},
                   "candidate": {s: figures for s in ("all_notes", "create_note")}}] * 3
        judged = stats.judge_all(rounds, POLICY)
        self.assertEqual([j.metric.key for j in judged], [m.key for m in stats.METRICS])
        self.assertEqual(len(judged), 8)
        self.assertTrue(all(j.verdict == "ok" for j in judged))


class DetectableTest(unittest.TestCase):
    def test_a_scenario_is_as_sensitive_as_its_steadiest_metric(self):
        steady = [100.0, 100.5, 99.5, 100.2, 99.8]
        noisy = [60.0, 140.0, 90.0, 120.0, 80.0]
        judged = [stats.judge(P99, noisy, list(reversed(noisy)), POLICY),
                  stats.judge(CPU, steady, steady, POLICY)]
        found = stats.detectable(judged)
        self.assertEqual(set(found), {"all_notes", "create_note"})
        self.assertAlmostEqual(found["create_note"], 0.05)
        self.assertGreater(found["all_notes"], 0.5)


class PositionTest(unittest.TestCase):
    """The build measured second in a round pays for following the other's load."""

    @staticmethod
    def rounds(rng, n, bias, slowdown=0.0, alternate=True):
        base, candidate, first = [], [], []
        for i in range(n):
            who = "candidate" if alternate and i % 2 else "base"
            b = 50.0 * math.exp(rng.gauss(0, 0.02))
            c = 50.0 * (1 + slowdown) * math.exp(rng.gauss(0, 0.02))
            if who == "base":
                c *= 1 + bias
            else:
                b *= 1 + bias
            base.append(b)
            candidate.append(c)
            first.append(who)
        return base, candidate, first

    def test_alternating_the_order_cancels_a_position_effect(self):
        rng = random.Random(3)
        base, candidate, first = self.rounds(rng, 12, bias=0.15)
        j = stats.judge(CPU, base, candidate, POLICY, first)
        self.assertEqual(j.verdict, "ok")
        self.assertLess(abs(j.change), 0.03)
        # Within one position the builds are steady: the noise leaves the position out.
        self.assertLess(j.noise, 0.05)
        # Had the base always gone first, the same machine would have raised a false alarm.
        base, candidate, _ = self.rounds(rng, 12, bias=0.15, alternate=False)
        self.assertEqual(stats.judge(CPU, base, candidate, POLICY).verdict, "regression")

    def test_a_slowdown_is_still_caught_through_the_position_effect(self):
        rng = random.Random(4)
        base, candidate, first = self.rounds(rng, 12, bias=0.15, slowdown=0.25)
        j = stats.judge(CPU, base, candidate, POLICY, first)
        self.assertEqual(j.verdict, "regression")
        self.assertAlmostEqual(j.change, 0.25, delta=0.04)

    def test_judge_all_reads_the_order_of_each_round(self):
        rng = random.Random(5)
        base, candidate, first = self.rounds(rng, 8, bias=0.15)
        rounds = [
            {"round": i + 1, "first": f,
             "base": {m.scenario: {} for m in stats.METRICS},
             "candidate": {m.scenario: {} for m in stats.METRICS}}
            for i, f in enumerate(first)
        ]
        for r, b, c in zip(rounds, base, candidate):
            for m in stats.METRICS:
                r["base"][m.scenario][m.field] = b
                r["candidate"][m.scenario][m.field] = c
        self.assertTrue(all(j.verdict == "ok" for j in stats.judge_all(rounds, POLICY)))

    def test_a_bad_order_is_refused(self):
        with self.assertRaisesRegex(ValueError, "first"):
            stats.judge(CPU, [1.0] * 4, [1.0] * 4, POLICY, ["base", "nobody", "base", "base"])


class ReliabilityTest(unittest.TestCase):
    """The model on simulated measurements with known noise (fixed seed, so repeatable)."""

    def simulate(self, sd, rounds, slowdown, trials=2000, seed=7):
        rng = random.Random(seed)
        fails = 0
        for _ in range(trials):
            base = noisy(rng, 50.0, sd, rounds)
            candidate = noisy(rng, 50.0 * (1 + slowdown), sd, rounds)
            fails += stats.judge(CPU, base, candidate, POLICY).verdict == "regression"
        return fails / trials

    def test_same_build_rarely_fails(self):
        # Eight metrics are judged per run: each must fail well under 1% of the time.
        for sd, rounds in ((0.03, 5), (0.10, 5), (0.10, 8), (0.20, 12)):
            with self.subTest(sd=sd, rounds=rounds):
                self.assertLess(self.simulate(sd, rounds, 0.0), 0.01)

    def test_a_25_percent_slowdown_is_caught_when_the_noise_allows(self):
        self.assertGreater(self.simulate(0.03, 5, 0.25), 0.99)
        self.assertGreater(self.simulate(0.08, 8, 0.25), 0.90)

    def test_noisier_machines_need_more_rounds(self):
        few = self.simulate(0.12, 5, 0.25)
        many = self.simulate(0.12, 12, 0.25)
        self.assertLess(few, many)


if __name__ == "__main__":
    unittest.main()
