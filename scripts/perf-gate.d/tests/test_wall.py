"""The advisory wall-clock comparison's verdict and record (no servers run here)."""

import contextlib
import io
import unittest

from perfgate import cli, stats, wall

FIGURES = {"requests": 1000, "rps": 1000.0, "p99_ms": 20.0, "cpu_us": 50.0, "user_us": 30.0,
           "non_2xx_3xx": 0, "socket_errors": 0}


def rounds(n, candidate_changes=None):
    candidate = {**FIGURES, **(candidate_changes or {})}
    return [{"round": i + 1,
             "base": {"all_notes": dict(FIGURES), "create_note": dict(FIGURES)},
             "candidate": {"all_notes": dict(candidate), "create_note": dict(candidate)}} for i in range(n)]


class VerdictTest(unittest.TestCase):
    def record(self, data):
        args = cli.parser().parse_args(["wall"])
        policy = stats.Policy()
        judged = stats.judge_all(data, policy)
        commit = type("C", (), {"sha": "a" * 40, "subject": "s"})()
        return wall.make_record(args, policy, commit, commit, {"base": "k", "candidate": "k"}, data, judged)

    def test_same_figures_pass(self):
        record = self.record(rounds(6))
        self.assertEqual(record["verdict"], "pass")
        self.assertEqual(record["reasons"], [])
        self.assertEqual(record["settings"]["rounds"], 6)
        self.assertEqual(record["settings"]["restart"], "every round")
        self.assertEqual(set(record["metrics"]), {m.key for m in stats.METRICS})

    def test_a_slower_candidate_fails_with_reasons(self):
        record = self.record(rounds(6, {"cpu_us": 62.5}))
        self.assertEqual(record["verdict"], "fail")
        self.assertEqual(len(record["reasons"]), 2)
        self.assertIn("all_notes CPU per request: +25.0%", record["reasons"][0])

    def test_failed_requests_fail_the_candidate_only(self):
        record = self.record(rounds(6, {"socket_errors": 5}))
        self.assertEqual(record["verdict"], "fail")
        self.assertIn("the candidate failed 60 of 12000 requests", record["reasons"][0])
        self.assertEqual(self.record(rounds(6, {"socket_errors": 1}))["verdict"], "pass")

    def test_too_noisy_to_see_the_goal_is_inconclusive(self):
        data = rounds(6)
        for i, factor in enumerate((0.6, 1.0, 1.6, 0.7, 1.4, 1.0)):
            for role in ("base", "candidate"):
                for key in ("p99_ms", "rps", "cpu_us", "user_us"):
                    data[i][role]["create_note"][key] *= factor
        record = self.record(data)
        self.assertEqual(record["verdict"], "inconclusive")
        self.assertEqual(len(record["reasons"]), 1)
        self.assertIn("the noise hid any slowdown of create_note under", record["reasons"][0])

    def test_a_regression_is_a_failure_even_when_noisy_elsewhere(self):
        data = rounds(6, {"cpu_us": 75.0})
        for i, factor in enumerate((0.6, 1.0, 1.6, 0.7, 1.4, 1.0)):
            for role in ("base", "candidate"):
                data[i][role]["create_note"]["rps"] *= factor
        self.assertEqual(self.record(data)["verdict"], "fail")

    def test_extra_rounds_stop_once_every_scenario_is_sensitive_enough(self):
        with contextlib.redirect_stderr(io.StringIO()):
            self.assertTrue(wall.sensitive_enough(rounds(3), stats.Policy(), 0.15, lambda m: None))
            noisy = rounds(3)
            for i, factor in enumerate((0.5, 1.0, 2.0)):
                for role in ("base", "candidate"):
                    for scenario in ("all_notes", "create_note"):
                        for key in ("p99_ms", "rps", "cpu_us", "user_us"):
                            noisy[i][role][scenario][key] *= factor
            self.assertFalse(wall.sensitive_enough(noisy, stats.Policy(), 0.15, lambda m: None))

    def test_the_history_keeps_the_candidates_medians(self):
        record = self.record(rounds(6))
        figures = wall.advisory_figures(record)
        self.assertEqual(figures["all_notes.cpu_us"], 50.0)
        self.assertEqual(len(figures), len(stats.METRICS))


if __name__ == "__main__":
    unittest.main()
