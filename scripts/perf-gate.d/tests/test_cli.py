"""The command line: options, preflight checks, and the verdict of a run."""

import contextlib
import io
import shutil
import tempfile
import unittest
from pathlib import Path

from perfgate import cli, stats


def parse(*argv):
    return cli.parser().parse_args(list(argv))


def usage_error(*argv):
    """The message argparse prints for a bad command line (it exits 2)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), unittest.TestCase().assertRaises(SystemExit) as exit:
        parse(*argv)
    assert exit.exception.code == 2
    return err.getvalue()


FIGURES = {"requests": 1000, "rps": 1000.0, "p99_ms": 20.0, "cpu_us": 50.0, "user_us": 30.0,
           "non_2xx_3xx": 0, "socket_errors": 0}


def rounds(n, candidate_changes=None):
    candidate = {**FIGURES, **(candidate_changes or {})}
    return [{"round": i + 1,
             "base": {"all_notes": dict(FIGURES), "create_note": dict(FIGURES)},
             "candidate": {"all_notes": dict(candidate), "create_note": dict(candidate)}} for i in range(n)]


class OptionsTest(unittest.TestCase):
    def test_defaults(self):
        args = parse()
        self.assertEqual((args.base, args.candidate), ("HEAD~1", "HEAD"))
        self.assertEqual((args.rounds, args.max_rounds, args.duration, args.connections), (6, 20, 5, 64))
        self.assertEqual((args.latency_floor, args.throughput_floor, args.cpu_floor), (0.10, 0.05, 0.05))
        self.assertTrue(str(args.scenario).endswith("notejam/bench/scenario"))

    def test_bounds_are_enforced_with_the_reason(self):
        self.assertIn("2 is outside 3..30", usage_error("--rounds", "2"))
        self.assertIn("61 is outside 1..60", usage_error("--duration", "61"))
        self.assertIn("'four' is not a whole number", usage_error("--duration", "four"))
        self.assertIn("0.0% is outside (0, 100)", usage_error("--cpu-floor", "0"))
        self.assertIn("'x%' is not a percentage", usage_error("--latency-floor", "x%"))
        self.assertIn("outside (0, 10]", usage_error("--sigmas", "-1"))

    def test_percentages_take_an_optional_sign(self):
        self.assertAlmostEqual(parse("--throughput-floor", "7.5%").throughput_floor, 0.075)
        self.assertAlmostEqual(parse("--sensitivity", "20").sensitivity, 0.20)

    def test_server_env_is_checked(self):
        args = parse("--server-env", "NOTEJAM_CACHE_USERS=0", "--server-env", "A_B=x=y")
        self.assertEqual(dict(args.server_env), {"NOTEJAM_CACHE_USERS": "0", "A_B": "x=y"})
        self.assertIn("is not NAME=VALUE", usage_error("--server-env", "NOVALUE"))
        self.assertIn("is not NAME=VALUE", usage_error("--server-env", "1X=2"))
        self.assertIn("DATABASE_URL is set by the gate itself", usage_error("--server-env", "DATABASE_URL=x"))


class PreflightTest(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.dir)

    def test_every_problem_is_listed_before_anything_runs(self):
        args = parse("--repo", str(self.dir), "--scenario", str(self.dir / "none"), "--summary", str(self.dir))
        problems = cli.preflight(args, self.dir)
        text = "\n".join(problems)
        self.assertIn("is missing or not executable", text)
        self.assertIn("is not the top of a git repository", text)
        self.assertIn(f"history file {self.dir} is a directory", text)
        self.assertIn(f"summary file {self.dir} is a directory", text)

    def test_history_csv_of_a_missing_file_is_a_usage_error(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = cli.main(["--history-csv", "--history", str(self.dir / "none.jsonl")])
        self.assertEqual(code, cli.EXIT_USAGE)
        self.assertIn("no history at", err.getvalue())


class VerdictTest(unittest.TestCase):
    def record(self, data):
        args = parse()
        policy = stats.Policy()
        judged = stats.judge_all(data, policy)
        commit = type("C", (), {"sha": "a" * 40, "subject": "s"})()
        return cli.make_record(args, policy, commit, commit, {"base": "k", "candidate": "k"}, data, judged)

    def test_same_figures_pass(self):
        record = self.record(rounds(6))
        self.assertEqual(record["verdict"], "pass")
        self.assertEqual(record["reasons"], [])
        self.assertEqual(record["settings"]["rounds"], 6)
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
        self.assertLessEqual(record["detectable"]["all_notes"], 0.10)
        self.assertGreater(record["detectable"]["create_note"], 0.15)

    def test_a_regression_is_a_failure_even_when_noisy_elsewhere(self):
        data = rounds(6, {"cpu_us": 75.0})
        for i, factor in enumerate((0.6, 1.0, 1.6, 0.7, 1.4, 1.0)):
            for role in ("base", "candidate"):
                data[i][role]["create_note"]["rps"] *= factor
        self.assertEqual(self.record(data)["verdict"], "fail")

    def test_extra_rounds_stop_once_every_scenario_is_sensitive_enough(self):
        with contextlib.redirect_stderr(io.StringIO()):
            self.assertTrue(cli.sensitive_enough(rounds(3), stats.Policy(), 0.15))
            noisy = rounds(3)
            for i, factor in enumerate((0.5, 1.0, 2.0)):
                for role in ("base", "candidate"):
                    for scenario in ("all_notes", "create_note"):
                        figures = noisy[i][role][scenario]
                        for key in ("p99_ms", "rps", "cpu_us", "user_us"):
                            figures[key] *= factor
            self.assertFalse(cli.sensitive_enough(noisy, stats.Policy(), 0.15))


if __name__ == "__main__":
    unittest.main()
