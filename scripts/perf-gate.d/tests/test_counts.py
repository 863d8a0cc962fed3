"""The blocking verdict on counts, and accepting an intended regression."""

import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from perfgate import counts
from perfgate.probes import Count

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@invalid"}


def count(per_step, runs=(0, 0), iterations=10):
    """A Count whose lowest run is `per_step` a step, other runs `runs` (fractions) above it."""
    low = per_step * iterations
    return Count("x", [round(low * (1 + r)) for r in runs], iterations)


class JudgeTest(unittest.TestCase):
    def judge(self, base, candidate, acceptances=()):
        return {j.figure: j for j in counts.judge(base, candidate, 0.015, list(acceptances))}

    def test_the_same_counts_pass_and_small_noise_is_ok(self):
        out = self.judge({"a/x": count(1000)}, {"a/x": count(1010, (0, 0.001))})
        self.assertEqual(out["a/x"].verdict, "ok")
        self.assertAlmostEqual(out["a/x"].change, 0.01)
        self.assertAlmostEqual(out["a/x"].spread, 0.001, places=4)

    def test_three_percent_more_is_a_regression_and_less_an_improvement(self):
        out = self.judge({"a/x": count(1000), "a/y": count(1000), "a/z": count(1000)},
                         {"a/x": count(1030), "a/y": count(970), "a/z": count(1015)})
        self.assertEqual(out["a/x"].verdict, "regression")
        self.assertEqual(out["a/y"].verdict, "improvement")
        self.assertEqual(out["a/z"].verdict, "ok", "at the threshold is still ok")

    def test_the_lowest_run_is_the_figure(self):
        # A run that woke an extra time costs more; only the lowest counts.
        out = self.judge({"a/x": count(1000, (0, 0.05))}, {"a/x": count(1000, (0.04, 0))})
        self.assertEqual(out["a/x"].verdict, "ok")

    def test_new_and_gone_figures_are_named_not_failed(self):
        out = self.judge({"a/old": count(5)}, {"a/new": count(7)})
        self.assertEqual((out["a/old"].verdict, out["a/new"].verdict), ("gone", "new"))
        self.assertEqual(out["a/new"].candidate, 7)
        self.assertIsNone(out["a/new"].base)

    def test_an_acceptance_covers_only_what_it_names(self):
        accept = counts.parse_acceptance("notejam/sign_in, njtui/*: stronger hashing", "trailer", "abc")
        out = self.judge({"notejam/sign_in": count(100), "njtui/frame_logs": count(100), "notejam/x": count(100)},
                         {"notejam/sign_in": count(150), "njtui/frame_logs": count(110), "notejam/x": count(110)},
                         [accept])
        self.assertEqual(out["notejam/sign_in"].verdict, "accepted")
        self.assertIs(out["notejam/sign_in"].accepted_by, accept)
        self.assertEqual(out["njtui/frame_logs"].verdict, "accepted")
        self.assertEqual(out["notejam/x"].verdict, "regression")
        self.assertEqual(out["notejam/sign_in"].to_json()["accepted_by"]["reason"], "stronger hashing")


class AcceptanceTest(unittest.TestCase):
    def test_the_form_is_figures_colon_reason(self):
        a = counts.parse_acceptance("*: new feature, measured", "trailer", "c1")
        self.assertEqual((a.figures, a.reason), (("*",), "new feature, measured"))
        self.assertTrue(a.covers("anything/at_all"))

    def test_bad_acceptances_say_what_is_wrong(self):
        for value, message in [
            ("notejam/sign_in", "must be 'FIGURES: REASON'"),
            ("notejam/sign_in:", "must be 'FIGURES: REASON'"),
            (": reason", "must be 'FIGURES: REASON'"),
            ("sign_in: reason", "'sign_in' is not a figure name"),
            ("notejam/Sign-In: reason", "is not a figure name"),
        ]:
            with self.subTest(value=value), self.assertRaisesRegex(counts.AcceptanceError, message):
                counts.parse_acceptance(value, "trailer", "c1")

    def test_a_label_needs_a_reason(self):
        with self.assertRaisesRegex(counts.AcceptanceError, "--accept needs a reason"):
            counts.label_acceptance("  ")
        self.assertEqual(counts.label_acceptance("ok by @lead").source, "label")


class TrailerTest(unittest.TestCase):
    def setUp(self):
        self.repo = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.repo)
        self.git("init", "-q")
        self.base = self.commit("base")

    def git(self, *args):
        return subprocess.run(["git", "-C", str(self.repo), *args], check=True, capture_output=True, text=True,
                              env={**os.environ, **GIT_ENV}).stdout.strip()

    def commit(self, message):
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def test_trailers_between_base_and_candidate_are_found(self):
        self.commit("plain change")
        marked = self.commit("slower sign-in\n\nWhy it is worth it.\n\n"
                             "Perf-Regression-Accepted: notejam/sign_in: OWASP 2025 argon2 parameters\n"
                             "Perf-Regression-Accepted: njtui/*: wider log view")
        found = counts.trailer_acceptances(self.repo, self.base, "HEAD")
        self.assertEqual([(a.figures, a.reason, a.origin) for a in found], [
            (("notejam/sign_in",), "OWASP 2025 argon2 parameters", marked[:10]),
            (("njtui/*",), "wider log view", marked[:10]),
        ])
        # The base's own trailers are not the candidate's to use.
        self.assertEqual(counts.trailer_acceptances(self.repo, marked, "HEAD"), [])

    def test_a_malformed_trailer_is_an_error_naming_the_commit(self):
        bad = self.commit("oops\n\nPerf-Regression-Accepted: no reason given")
        with self.assertRaisesRegex(counts.AcceptanceError, bad[:10]):
            counts.trailer_acceptances(self.repo, self.base, "HEAD")


if __name__ == "__main__":
    unittest.main()
