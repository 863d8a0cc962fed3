"""The counts gate's verdict and record: against the base, against main's history,
with acceptances. Building and counting are replaced by given counts here; the real
ones run in scripts/test-perf-gate."""

import argparse
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from perfgate import builds, count_gate, counts, history, report
from perfgate.probes import Count

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@invalid"}
CPU = "Test CPU @ 1 GHz"
CHAIN = "rustc 1.95.0; valgrind-3.24.0"


def per_step(values: dict[str, int]) -> dict[str, Count]:
    return {figure: Count(figure, [v * 10, v * 10 + 3], 10) for figure, v in values.items()}


class GateTest(unittest.TestCase):
    def setUp(self):
        self.repo = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.repo)
        self.git("init", "-q")
        self.git("commit", "-q", "--allow-empty", "-m", "base")
        self.base = builds.resolve(self.repo, "HEAD")
        self.git("commit", "-q", "--allow-empty", "-m", "candidate")
        self.candidate = builds.resolve(self.repo, "HEAD")
        self.records = []
        patches = [
            mock.patch.object(count_gate, "build_probes", return_value=({"base": {}, "candidate": {}},
                                                                        {"base": {}, "candidate": {}})),
            mock.patch.object(count_gate.probes, "build_shim", return_value=Path("/shim.so")),
            mock.patch.object(count_gate, "cpu_model", return_value=CPU),
            mock.patch.object(count_gate, "toolchain", return_value=CHAIN),
            mock.patch.object(count_gate.builds, "rustc_version", return_value="rustc 1.95.0"),
            mock.patch.object(count_gate.history, "read_branch", side_effect=lambda repo, ref: self.records),
        ]
        for p in patches:
            p.start()
            self.addCleanup(p.stop)

    def git(self, *args):
        return subprocess.run(["git", "-C", str(self.repo), *args], check=True, capture_output=True, text=True,
                              env={**os.environ, **GIT_ENV}).stdout.strip()

    def args(self, **overrides):
        values = dict(keep_builds=4, min_runs=2, max_runs=9, agreement=0.002, noisy_runs=4, jobs=2, probe_env=[],
                      threshold=0.015, budget=0.03, no_history=False, history_ref="perf-history", only=[])
        values.update(overrides)
        return argparse.Namespace(**values)

    def gate(self, base, candidate, acceptances=(), **overrides):
        measured = {"base": per_step(base), "candidate": per_step(candidate)}
        with mock.patch.object(count_gate, "count_all", return_value=measured):
            return count_gate.run(self.args(**overrides), self.repo, self.repo / "cache", self.base,
                                  self.candidate, self.repo, list(acceptances), lambda m: None)

    def main_record(self, n, figures, accepted=None):
        return {"schema": history.SCHEMA, "commit": (f"{n:x}" * 40)[:40], "parent": None, "subject": f"c{n}",
                "committed": "2026-12-01T00:00:00+00:00", "recorded": "2026-12-01T00:00:00Z", "cpu": CPU,
                "toolchain": CHAIN, "figures": figures, "advisory": {},
                "verdict": "accepted" if accepted else "pass", "accepted": accepted, "ci": {}}

    def test_the_same_counts_pass_and_the_record_is_a_valid_history_line(self):
        record = self.gate({"a/x": 1000, "a/y": 50}, {"a/x": 1000, "a/y": 50})
        self.assertEqual(record["verdict"], "pass")
        self.assertEqual(record["figures"], {"a/x": 1000, "a/y": 50})
        self.assertEqual(record["reasons"], [])
        kept = {k: record[k] for k in ("schema", "commit", "parent", "subject", "committed", "recorded", "cpu",
                                       "toolchain", "figures", "advisory", "verdict", "accepted", "ci")}
        self.assertIs(history.validate(kept, "record"), kept)
        self.assertEqual(record["instructions"]["candidate"]["a/x"], [10000, 10003])
        text = report.counts_markdown(record)
        self.assertIn("PASS", text)
        self.assertIn("lowest of 2 runs each", text)
        self.assertIn("| a/x | 1,000 | 1,000 | +0.00% |", text)

    def test_three_percent_over_the_base_fails_with_the_figure_named(self):
        record = self.gate({"a/x": 1000, "a/y": 50}, {"a/x": 1030, "a/y": 50})
        self.assertEqual(record["verdict"], "fail")
        self.assertEqual(len(record["reasons"]), 1)
        self.assertIn("a/x: +3.00% instructions per step (1,030 vs base 1,000), beyond the allowed +1.5%",
                      record["reasons"][0])
        self.assertIn("**REGRESSION**", report.counts_markdown(record))

    def test_a_slow_drift_fails_on_the_budget_though_each_step_passes(self):
        # Five commits of +1% each on main: every one passed against its parent.
        value = 1000
        for n in range(1, 6):
            self.records.append(self.main_record(n, {"a/x": round(value)}))
            value *= 1.01
        record = self.gate({"a/x": round(value / 1.01)}, {"a/x": round(value)})
        self.assertEqual(record["judgements"]["a/x"]["verdict"], "ok")
        self.assertEqual(record["verdict"], "fail")
        self.assertEqual(len(record["reasons"]), 1)
        self.assertRegex(record["reasons"][0], r"a/x: 1,051 is \+5\.1% over the lowest of the last 5 main commit")
        self.assertIn("(1,000 at 1111111111)", record["reasons"][0])
        self.assertTrue(record["drift"]["a/x"]["exceeded"])

    def test_no_history_compares_with_the_base_only(self):
        self.records.append(self.main_record(1, {"a/x": 900}))
        record = self.gate({"a/x": 1000}, {"a/x": 1000}, no_history=True)
        self.assertEqual(record["verdict"], "pass")
        self.assertEqual(record["drift"], {})
        self.assertIsNone(record["settings"]["history_ref"])

    def test_an_acceptance_passes_the_regression_and_is_recorded(self):
        accept = counts.parse_acceptance("a/x: bigger page by design", "trailer", self.candidate.short)
        record = self.gate({"a/x": 1000, "a/y": 50}, {"a/x": 1100, "a/y": 50}, [accept])
        self.assertEqual(record["verdict"], "accepted")
        self.assertEqual(record["reasons"], [])
        self.assertIn("a/x: +10.00%, accepted (trailer", record["accepted_reasons"][0])
        self.assertEqual(record["accepted"], {"figures": ["a/x"], "source": "trailer",
                                              "reason": f"trailer {self.candidate.short}: bigger page by design"})
        history.validate({**record}, "accepted record")

    def test_an_acceptance_for_another_figure_does_not_help(self):
        accept = counts.parse_acceptance("a/y: unrelated", "trailer", "c")
        record = self.gate({"a/x": 1000, "a/y": 50}, {"a/x": 1100, "a/y": 50}, [accept])
        self.assertEqual(record["verdict"], "fail")
        self.assertIsNone(record["accepted"])

    def test_an_accepted_record_resets_the_budget(self):
        self.records.append(self.main_record(1, {"a/x": 1000}))
        self.records.append(self.main_record(2, {"a/x": 1200}, accepted={"figures": ["a/x"], "reason": "r",
                                                                          "source": "label"}))
        record = self.gate({"a/x": 1200}, {"a/x": 1210})
        self.assertEqual(record["verdict"], "pass")
        self.assertEqual(record["drift"]["a/x"]["reference"], {"value": 1200.0, "commit": "2" * 40})

    def test_a_figure_that_appears_is_new_and_not_a_failure(self):
        record = self.gate({"a/x": 1000}, {"a/x": 1000, "a/new": 7})
        self.assertEqual(record["verdict"], "pass")
        self.assertEqual(record["judgements"]["a/new"]["verdict"], "new")

    def test_a_build_or_probe_failure_is_unmeasured(self):
        with mock.patch.object(count_gate, "count_all", side_effect=count_gate.probes.ProbeError("probe died")):
            with self.assertRaisesRegex(count_gate.Unmeasured, "probe died"):
                count_gate.run(self.args(), self.repo, self.repo / "cache", self.base, self.candidate, self.repo,
                               [], lambda m: None)


class OnlyTest(unittest.TestCase):
    def test_only_builds_the_probes_its_globs_can_match(self):
        self.assertEqual(count_gate.products_for([]), ("notejam-probe", "njtui-probe"))
        self.assertEqual(count_gate.products_for(["njtui/*"]), ("njtui-probe",))
        self.assertEqual(count_gate.products_for(["notejam/sign_in", "njtui/frame_logs"]),
                         ("notejam-probe", "njtui-probe"))
        self.assertEqual(count_gate.products_for(["*/frame_*"]), ("notejam-probe", "njtui-probe"))

    def test_only_counts_the_scenarios_it_matches(self):
        listed = [count_gate.probes.Scenario(n, 1, "") for n in ("njtui/frame_logs", "njtui/log_ingest")]
        with mock.patch.object(count_gate.probes, "list_scenarios", return_value=listed), \
                mock.patch.object(count_gate.probes, "measure", return_value={}) as measure:
            count_gate.count_all({"base": {"njtui-probe": Path("/p")}}, None, 1, Path("/s"), {}, None,
                                 lambda m: None, ["*/log_*"])
            self.assertEqual([s.name for _, _, s in measure.call_args.args[0]], ["njtui/log_ingest"])
            with self.assertRaisesRegex(count_gate.probes.ProbeError, "no scenario matches --only nope/"):
                count_gate.count_all({"base": {"njtui-probe": Path("/p")}}, None, 1, Path("/s"), {}, None,
                                     lambda m: None, ["nope/*"])


class ToolchainTest(unittest.TestCase):
    def test_the_toolchain_names_rustc_and_valgrind(self):
        verbose = "rustc 1.95.0 (abc 2026-01-01) binary: rustc commit-hash: abc release: 1.95.0 LLVM version: 20"
        with mock.patch.object(count_gate.subprocess, "run",
                               return_value=subprocess.CompletedProcess([], 0, "valgrind-3.24.0\n", "")):
            self.assertEqual(count_gate.toolchain(verbose), "rustc 1.95.0; valgrind-3.24.0")


if __name__ == "__main__":
    unittest.main()
