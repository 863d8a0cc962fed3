"""The command line: options of each subcommand, the checks before anything runs, and
the history subcommands on a real repository."""

import contextlib
import io
import json
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from perfgate import cli, history

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@invalid"}


def parse(*argv):
    return cli.parser().parse_args(list(argv))


def usage_error(*argv):
    """The message argparse prints for a bad command line (it exits 2)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), unittest.TestCase().assertRaises(SystemExit) as exit:
        parse(*argv)
    assert exit.exception.code == 2
    return err.getvalue()


def run_main(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


class OptionsTest(unittest.TestCase):
    def test_a_subcommand_is_required(self):
        self.assertIn("counts", usage_error())

    def test_counts_defaults(self):
        args = parse("counts")
        self.assertEqual((args.base, args.candidate), ("HEAD~1", "HEAD"))
        self.assertEqual((args.threshold, args.budget), (0.015, 0.03))
        self.assertEqual((args.min_runs, args.max_runs, args.agreement), (2, 9, 0.002))
        self.assertFalse(args.no_history)
        self.assertIsNone(args.accept)

    def test_wall_defaults(self):
        args = parse("wall")
        self.assertEqual((args.rounds, args.max_rounds, args.duration, args.connections), (6, 12, 5, 64))
        self.assertEqual((args.latency_floor, args.throughput_floor, args.cpu_floor), (0.10, 0.05, 0.05))
        self.assertTrue(str(args.scenario).endswith("notejam/bench/scenario"))
        self.assertFalse(args.strict)

    def test_bounds_are_enforced_with_the_reason(self):
        self.assertIn("2 is outside 3..30", usage_error("wall", "--rounds", "2"))
        self.assertIn("61 is outside 1..60", usage_error("wall", "--duration", "61"))
        self.assertIn("'four' is not a whole number", usage_error("wall", "--duration", "four"))
        self.assertIn("0.0% is outside (0, 100)", usage_error("wall", "--cpu-floor", "0"))
        self.assertIn("'x%' is not a percentage", usage_error("counts", "--threshold", "x%"))
        self.assertIn("outside (0, 10]", usage_error("wall", "--sigmas", "-1"))
        self.assertIn("0 is outside 1..20", usage_error("counts", "--min-runs", "0"))

    def test_percentages_take_an_optional_sign(self):
        self.assertAlmostEqual(parse("wall", "--throughput-floor", "7.5%").throughput_floor, 0.075)
        self.assertAlmostEqual(parse("counts", "--threshold", "2").threshold, 0.02)

    def test_environments_are_checked(self):
        args = parse("wall", "--server-env", "NOTEJAM_CACHE_USERS=0", "--server-env", "A_B=x=y")
        self.assertEqual(dict(args.server_env), {"NOTEJAM_CACHE_USERS": "0", "A_B": "x=y"})
        self.assertIn("is not NAME=VALUE", usage_error("wall", "--server-env", "NOVALUE"))
        self.assertIn("is not NAME=VALUE", usage_error("wall", "--server-env", "1X=2"))
        self.assertIn("DATABASE_URL is set by the gate itself", usage_error("wall", "--server-env", "DATABASE_URL=x"))
        self.assertEqual(dict(parse("counts", "--probe-env", "K=v").probe_env), {"K": "v"})
        self.assertIn("LD_PRELOAD is set by the gate itself", usage_error("counts", "--probe-env", "LD_PRELOAD=x"))

    def test_the_help_says_what_blocks(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), self.assertRaises(SystemExit):
            parse("--help")
        text = out.getvalue()
        self.assertIn("counts", text)
        self.assertRegex(text, r"counts\s+BLOCKS")
        self.assertRegex(text, r"wall\s+ADVISORY")


class PreflightTest(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.dir)

    def test_every_problem_is_listed_before_anything_runs(self):
        args = parse("counts", "--repo", str(self.dir), "--summary", str(self.dir), "--record", str(self.dir))
        problems = cli.preflight(args, ("git", "no-such-tool-xyz"))
        text = "\n".join(problems)
        self.assertIn("no-such-tool-xyz is not on PATH", text)
        self.assertIn("is not the top of a git repository", text)
        self.assertIn(f"summary file {self.dir} is a directory", text)
        self.assertIn(f"record file {self.dir} is a directory", text)

    def test_counts_refuses_max_runs_below_min_runs(self):
        code, _, err = run_main("counts", "--min-runs", "5", "--max-runs", "3")
        self.assertEqual(code, cli.EXIT_USAGE)
        self.assertIn("--max-runs 3 is below --min-runs 5", err)

    def test_wall_refuses_a_candidate_binary_that_is_not_one(self):
        code, _, err = run_main("wall", "--repo", str(self.dir), "--candidate-binary", str(self.dir / "nope"))
        self.assertEqual(code, cli.EXIT_USAGE)
        self.assertIn("is not an executable file", err)


class RepoTest(unittest.TestCase):
    def setUp(self):
        self.repo = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.repo)
        self.git("init", "-q")
        self.git("commit", "-q", "--allow-empty", "-m", "first")
        self.head = self.git("rev-parse", "HEAD")
        env = mock.patch.dict("os.environ", GIT_ENV)
        env.start()
        self.addCleanup(env.stop)

    def git(self, *args):
        return subprocess.run(["git", "-C", str(self.repo), *args], check=True, capture_output=True, text=True,
                              env={**os.environ, **GIT_ENV}).stdout.strip()

    def record_file(self, commit, figures, name="rec.json", **extra):
        record = {"schema": history.SCHEMA, "kind": "counts", "commit": commit, "parent": None, "subject": "s",
                  "committed": "2026-12-01T00:00:00+00:00", "recorded": "2026-12-01T00:00:01Z", "cpu": "CPU",
                  "toolchain": "rustc 1; valgrind 3", "figures": figures, "advisory": {}, "verdict": "pass",
                  "accepted": None, "ci": {}, "judgements": {"big": "not kept"}, **extra}
        path = self.repo.parent / f"{self.repo.name}-{name}"
        path.write_text(json.dumps(record))
        self.addCleanup(path.unlink, missing_ok=True)
        return path

    def test_counts_names_a_revision_that_is_not_a_commit(self):
        with mock.patch.object(cli.shutil, "which", return_value="/usr/bin/x"):
            code, _, err = run_main("counts", "--repo", str(self.repo), "--base", "nope")
        self.assertEqual(code, cli.EXIT_USAGE)
        self.assertIn("'nope' is not a commit of", err)

    def test_a_malformed_trailer_is_a_usage_error(self):
        self.git("commit", "-q", "--allow-empty", "-m", "x\n\nPerf-Regression-Accepted: nothing")
        with mock.patch.object(cli.shutil, "which", return_value="/usr/bin/x"):
            code, _, err = run_main("counts", "--repo", str(self.repo))
        self.assertEqual(code, cli.EXIT_USAGE)
        self.assertIn("must be 'FIGURES: REASON'", err)

    def test_append_then_show_csv_and_detect(self):
        for n in range(12):
            self.git("commit", "-q", "--allow-empty", "-m", f"c{n}")
            sha = self.git("rev-parse", "HEAD")
            value = 1000 if n < 6 else 1100
            code, _, err = run_main("history", "append", "--repo", str(self.repo),
                                    "--record", str(self.record_file(sha, {"a/x": value, "a/y": 7})))
            self.assertEqual(code, cli.EXIT_PASS, err)
        records = history.read_branch(self.repo)
        self.assertEqual(len(records), 12)
        self.assertNotIn("judgements", records[0], "only the history's fields are kept")
        self.assertEqual(self.git("status", "--porcelain"), "", "the work tree is untouched")

        code, out, _ = run_main("history", "show", "--repo", str(self.repo), "--last", "3")
        self.assertEqual(code, 0)
        self.assertEqual(len(out.strip().splitlines()), 2 + 3)
        self.assertIn("| 1,100 | 7 |", out)
        code, out, _ = run_main("history", "csv", "--repo", str(self.repo), "--figure", "a/x")
        rows = out.strip().splitlines()
        self.assertEqual(rows[0], "committed,commit,cpu,toolchain,figure,value,verdict,accepted")
        self.assertEqual(len(rows), 1 + 12)
        code, out, _ = run_main("history", "detect", "--repo", str(self.repo))
        self.assertEqual(code, 0)
        sixth = records[6]["commit"][:10]
        self.assertIn(f"a/x (CPU): ", out)
        self.assertIn(sixth, out, "the step is placed at the commit that made it")
        self.assertNotIn("a/y", out, "a flat figure has no change")

    def test_append_needs_a_valid_record(self):
        code, _, err = run_main("history", "append", "--repo", str(self.repo))
        self.assertEqual((code, "needs --record FILE" in err), (cli.EXIT_USAGE, True))
        bad = self.repo.parent / f"{self.repo.name}-bad.json"
        bad.write_text("{not json")
        self.addCleanup(bad.unlink)
        code, _, err = run_main("history", "append", "--repo", str(self.repo), "--record", str(bad))
        self.assertEqual(code, cli.EXIT_USAGE)
        self.assertIn("cannot read a record", err)
        code, _, err = run_main("history", "append", "--repo", str(self.repo),
                                "--record", str(self.record_file("abc", {"a/x": 1})))
        self.assertEqual(code, cli.EXIT_USAGE)
        self.assertIn("is not a full commit id", err)

    def test_a_partial_run_is_not_recorded(self):
        partial = self.record_file(self.head, {"a/x": 1}, settings={"only": ["njtui/*"]})
        code, _, err = run_main("history", "append", "--repo", str(self.repo), "--record", str(partial))
        self.assertEqual(code, cli.EXIT_USAGE)
        self.assertIn("counted only njtui/*: main's history takes whole runs", err)
        self.assertEqual(history.read_branch(self.repo), [])

    def test_a_wall_record_of_another_commit_is_refused(self):
        wall = self.repo.parent / f"{self.repo.name}-wall.json"
        wall.write_text(json.dumps({"candidate": {"commit": "b" * 40}, "metrics": {}}))
        self.addCleanup(wall.unlink)
        code, _, err = run_main("history", "append", "--repo", str(self.repo),
                                "--record", str(self.record_file(self.head, {"a/x": 1})), "--wall-record", str(wall))
        self.assertEqual(code, cli.EXIT_USAGE)
        self.assertIn("measured another commit", err)

    def test_an_empty_history_is_said_to_be_empty(self):
        code, out, _ = run_main("history", "detect", "--repo", str(self.repo))
        self.assertEqual((code, out), (0, "no change found in 0 records\n"))


if __name__ == "__main__":
    unittest.main()
