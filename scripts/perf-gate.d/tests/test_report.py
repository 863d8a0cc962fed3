"""The markdown summary and the JSON Lines history."""

import json
import shutil
import tempfile
import unittest
from pathlib import Path

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


class HistoryTest(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.dir)
        self.path = self.dir / "deep" / "history.jsonl"

    def test_records_append_one_per_line_and_read_back(self):
        js = judgements(1.0)
        first = record(metrics={j.metric.key: j.to_json() for j in js})
        report.append_history(self.path, first)
        report.append_history(self.path, record(verdict="fail", metrics=first["metrics"]))
        lines = self.path.read_text().splitlines()
        self.assertEqual(len(lines), 2)
        self.assertEqual(json.loads(lines[0]), first)
        self.assertEqual([r["verdict"] for r in report.read_history(self.path)], ["pass", "fail"])

    def test_csv_has_a_row_per_run_and_metric(self):
        js = judgements(1.25)
        report.append_history(self.path, record(metrics={j.metric.key: j.to_json() for j in js}))
        rows = report.history_csv(report.read_history(self.path)).splitlines()
        self.assertEqual(rows[0], "time,base,candidate,metric,base_median,candidate_median,change,threshold,verdict")
        self.assertEqual(len(rows), 1 + len(stats.METRICS))
        p99 = next(row for row in rows if ",all_notes.p99_ms," in row)
        self.assertTrue(p99.startswith("2026-01-02T03:04:05Z,aaaaaaaaaa,bbbbbbbbbb,all_notes.p99_ms,100.25,125.3125,0.25,"))
        self.assertTrue(p99.endswith(",regression"))

    def test_a_directory_is_not_a_history_file(self):
        with self.assertRaisesRegex(OSError, "is a directory"):
            report.append_history(self.dir, record())

    def test_unreadable_history_says_where(self):
        with self.assertRaisesRegex(report.HistoryError, "no history at"):
            report.read_history(self.dir / "missing.jsonl")
        self.path.parent.mkdir()
        self.path.write_text(json.dumps(record(metrics={})) + "\n" + '{"half' + "\n")
        with self.assertRaisesRegex(report.HistoryError, r"history.jsonl:2: not JSON"):
            report.read_history(self.path)
        self.path.write_text('{"schema": 99, "metrics": {}}\n')
        with self.assertRaisesRegex(report.HistoryError, r":1: not a perf-gate record of schema 1"):
            report.read_history(self.path)


if __name__ == "__main__":
    unittest.main()
