"""The markdown summary and the JSON Lines history."""

import unittest
from pathlib import Path
from unittest import mock

from perfgate import report, stats


def record(verdict="pass", reasons=(), metrics=None):
    return {
        "schema": report.SCHEMA,
        "time": "2026-01-02T03:04:05Z",
        "base": {"commit": "a" * 40, "subject": "base | with a pipe", "build": "k1"},
        "candidate": {"commit": "b" * 40, "subject": "x" * 80, "build": "k2"},
        "settings": {"rounds": 6, "duration_s": 4, "connections": 64, "sigmas": 3.0,
                     "latency_floor": 0.1, "throughput_floor": 0.05, "cpu_floor": 0.05},
        "metrics": metrics or {},
        "errors": {"base": 0, "candidate": 2, "base_requests": 1000, "candidate_requests": 990},
        "verdict": verdict,
        "reasons": list(reasons),
    }


def judgements(slowdown):
    """Every metric of a candidate `slowdown` times slower per request (1.25: 25% slower)."""
    base = [100.0, 101.0, 99.0, 100.5]
    return [
        stats.judge(m, base, [v * slowdown if m.higher_is_worse else v / slowdown for v in base], stats.Policy())
        for m in stats.METRICS
    ]


class MarkdownTest(unittest.TestCase):
    def test_a_pass_has_the_table_and_no_reasons(self):
        text = report.markdown(record(), judgements(1.0))
        self.assertTrue(text.startswith("### Performance gate: PASS\n"))
        self.assertIn("| scenario | metric | base | candidate | change | allowed | noise per round | verdict |", text)
        self.assertEqual(text.count("| all_notes |"), 4)
        self.assertEqual(text.count("| create_note |"), 4)
        self.assertNotIn("REGRESSION", text)
        self.assertIn("Failed requests: base 0, candidate 2", text)
        self.assertIn("Smallest slowdown this run could catch: all_notes 5%, create_note 5%", text)

    def test_a_failure_lists_its_reasons_first(self):
        js = judgements(1.25)
        reasons = ["all_notes p99 latency: +25.0% beyond +10.0%"]
        text = report.markdown(record("fail", reasons), js)
        lines = text.splitlines()
        self.assertEqual(lines[0], "### Performance gate: FAIL")
        self.assertEqual(lines[2], "- " + reasons[0])
        self.assertIn("+25.0%", text)
        self.assertIn("-20.0%", text)  # throughput, 1/1.25
        self.assertEqual(text.count("**REGRESSION**"), 8)
        self.assertNotIn("faster", text)

    def test_an_inconclusive_run_says_so(self):
        reasons = ["no regression seen, but the noise hid any slowdown of create_note under 40%"]
        text = report.markdown(record("inconclusive", reasons), judgements(1.0))
        self.assertTrue(text.startswith("### Performance gate: INCONCLUSIVE\n\n- no regression seen"))

    def test_commit_subjects_cannot_break_the_table(self):
        text = report.markdown(record(), judgements(1.0))
        self.assertIn("(base / with a pipe)", text)
        self.assertIn("x" * 57 + "...", text)
        self.assertNotIn("x" * 58, text)


class CiContextTest(unittest.TestCase):
    def test_only_the_variables_github_sets_are_kept(self):
        env = {"GITHUB_RUN_ID": "42", "GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_NAME": "push"}
        with mock.patch.dict("os.environ", env, clear=True):
            self.assertEqual(report.ci_context(), {"run_id": "42", "ref": "refs/heads/main", "event": "push"})
        with mock.patch.dict("os.environ", {}, clear=True):
            self.assertEqual(report.ci_context(), {})


if __name__ == "__main__":
    unittest.main()
