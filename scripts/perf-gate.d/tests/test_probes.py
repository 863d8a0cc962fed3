"""Counting a probe's scenarios under callgrind: a real valgrind run of a toy probe,
the seeded-random shim, and the adaptive number of runs."""

import contextlib
import io
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path
from unittest import mock

from perfgate import probes

HERE = Path(__file__).resolve().parent
TOY = HERE / "fixtures" / "toy-probe.c"
HAVE_TOOLS = not probes.tools_missing()


def compile_toy(directory: Path) -> Path:
    exe = directory / "toy-probe"
    subprocess.run(["cc", "-O1", "-o", str(exe), str(TOY)], check=True)
    return exe


class ListTest(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.dir)

    def script(self, body: str) -> Path:
        exe = self.dir / "probe"
        exe.write_text("#!/bin/sh\n" + body)
        exe.chmod(0o755)
        return exe

    def test_scenarios_are_read_from_list(self):
        exe = self.script("printf 'notejam/all_notes\\t40\\tthe list page\\nnjtui/log_ingest\\t30\\tlogs\\n'\n")
        self.assertEqual(probes.list_scenarios(exe), [
            probes.Scenario("notejam/all_notes", 40, "the list page"),
            probes.Scenario("njtui/log_ingest", 30, "logs"),
        ])

    def test_a_bad_listing_says_which_line(self):
        for body, message in [
            ("echo 'Notejam/x\t4\tabout'\n", "line 1: not 'name<TAB>iterations<TAB>about'"),
            ("echo 'a/b\t0\tabout'\n", "line 1"),
            ("printf 'a/b\\t1\\tok\\na/c 2 spaces\\n'\n", "line 2"),
            ("true\n", "lists no scenario"),
            ("echo broken >&2; exit 3\n", r"list failed \(3\): broken"),
        ]:
            with self.subTest(body=body), self.assertRaisesRegex(probes.ProbeError, message):
                probes.list_scenarios(self.script(body))

    def test_the_listing_sees_only_the_clean_environment(self):
        exe = self.script('printf "x/%s\\t1\\t%s\\n" "${SECRET_THING:-absent}" "$PROBE_KNOB"\n')
        with mock.patch.dict("os.environ", {"SECRET_THING": "leaked"}):
            found = probes.list_scenarios(exe, {"PROBE_KNOB": "given"})
        self.assertEqual(found, [probes.Scenario("x/absent", 1, "given")])


class CommandTest(unittest.TestCase):
    def test_idle_toggles_come_before_collect_atstart(self):
        command = probes.callgrind_command(Path("/p"), "a/b", Path("/o"))
        toggles = [i for i, arg in enumerate(command) if arg.startswith("--toggle-collect=")]
        self.assertEqual(len(toggles), len(probes.IDLE_FUNCTIONS))
        self.assertGreater(command.index("--collect-atstart=yes"), max(toggles))
        self.assertIn("--instr-atstart=no", command)
        self.assertEqual(command[-3:], ["/p", "run", "a/b"])

    def test_totals_are_read_from_callgrind_output(self):
        self.assertEqual(probes.parse_totals("events: Ir\nfn=x\n1 5\nsummary: 12345\n", "f"), 12345)
        self.assertEqual(probes.parse_totals("events: Ir\ntotals: 99\n", "f"), 99)
        with self.assertRaisesRegex(probes.ProbeError, "f: no 'summary:' or 'totals:' line"):
            probes.parse_totals("garbage\n", "f")


class CountTest(unittest.TestCase):
    def test_the_figure_is_the_lowest_run_per_step_and_the_spread_its_gap(self):
        c = probes.Count("a/b", [1030, 1000, 1001], 10)
        self.assertEqual(c.per_step, 100.0)
        self.assertAlmostEqual(c.spread, 0.001)
        self.assertEqual(probes.Count("a/b", [5], 1).spread, 0.0)

    def test_runs_that_suspended_less_are_left_out(self):
        # A run that found an answer waiting suspended less and counted less work.
        c = probes.Count("a/b", [960, 1002, 1000, 990, 1001], 10, [80, 100, 100, 90, 99])
        self.assertEqual(c.ceiling, 100)
        # Within 2% of the most suspensions is near enough.
        self.assertEqual(c.comparable, [1002, 1000, 1001])
        self.assertEqual(c.per_step, 100.0)
        self.assertAlmostEqual(c.spread, 0.001)
        # One run at the ceiling: nothing to agree with yet.
        self.assertEqual(probes.Count("a/b", [960, 1000], 10, [80, 100]).spread, 0.0)
        # Without suspensions from every run, every run counts.
        mixed = probes.Count("a/b", [960, 1000], 10, [None, 10])
        self.assertIsNone(mixed.ceiling)
        self.assertEqual(mixed.per_step, 96.0)

    def test_the_done_line_may_carry_suspensions(self):
        s = probes.Scenario("a/b", 2, "")
        self.assertEqual(probes.parse_done("a/b\t2\t200, 10 bytes\t37\n", s), 37)
        self.assertIsNone(probes.parse_done("a/b\t2\t200, 10 bytes\n", s))
        with self.assertRaisesRegex(probes.ProbeError, "reported 'x' suspensions"):
            probes.parse_done("a/b\t2\tok\tx\n", s)
        with self.assertRaisesRegex(probes.ProbeError, "did not report the scenario done"):
            probes.parse_done("a/c\t2\tok\n", s)


class MeasureTest(unittest.TestCase):
    """The adaptive plan, with the counting itself replaced by a scripted sequence."""

    def run_plan(self, sequences, plan):
        scenarios = [probes.Scenario(name, 1, "") for name in sequences]
        jobs = [("base", Path("/p"), s) for s in scenarios]
        queues = {name: list(values) for name, values in sequences.items()}

        def fake(exe, scenario, scratch, env, shim):
            value = queues[scenario.name].pop(0)
            return value if isinstance(value, probes.Run) else probes.Run(value)

        with mock.patch.object(probes, "count_once", side_effect=fake):
            out = probes.measure(jobs, plan, Path("/tmp"), {}, None, 2, lambda m: None)
        return {name: out[("base", name)].instructions for name in sequences}

    def test_scenarios_that_run_alone_never_share_the_machine(self):
        running, overlaps, order = [], [], []
        lock = threading.Lock()

        def fake(exe, scenario, scratch, env, shim):
            with lock:
                running.append(scenario.name)
                overlaps.append(tuple(sorted(running)))
            time.sleep(0.02)
            with lock:
                running.remove(scenario.name)
                order.append(scenario.name)
            return probes.Run(1000)

        names = ["n/alone", "j/a", "j/b", "j/c"]
        jobs = [(role, Path("/p"), probes.Scenario(n, 1, "")) for n in names for role in ("base", "candidate")]
        with mock.patch.object(probes, "count_once", side_effect=fake):
            probes.measure(jobs, probes.Plan(2, 2, 0.002), Path("/tmp"), {}, None, 4, lambda m: None,
                           alone=frozenset({"n/alone"}))
        self.assertEqual(order.count("n/alone"), 4)
        for seen in overlaps:
            if "n/alone" in seen:
                self.assertEqual(seen, ("n/alone",), "a run that must be alone had company")
        self.assertTrue(any(len(seen) > 1 for seen in overlaps), "the others still run side by side")

    def test_runs_are_added_until_the_two_lowest_agree(self):
        got = self.run_plan({"a/steady": [1000, 1000, 7], "a/noisy": [1000, 1100, 1050, 1001, 9]},
                            probes.Plan(min_runs=2, max_runs=9, agreement=0.002))
        self.assertEqual(got["a/steady"], [1000, 1000])
        self.assertEqual(got["a/noisy"], [1000, 1100, 1050, 1001])

    def test_runs_that_differ_at_all_get_at_least_noisy_runs(self):
        plan = probes.Plan(min_runs=2, max_runs=9, agreement=0.002, noisy_runs=4)
        got = self.run_plan({"a/exact": [1000, 1000, 5], "a/close": [1000, 1001, 1000, 5],
                             "a/near": [1000, 1001, 1002, 1001, 5]}, plan)
        # Identical runs settle at two; runs a hair apart need two identical lowest or four runs.
        self.assertEqual(got, {"a/exact": [1000, 1000], "a/close": [1000, 1001, 1000],
                               "a/near": [1000, 1001, 1002, 1001]})

    def test_runs_are_added_until_two_at_the_ceiling_agree(self):
        R = probes.Run
        got = self.run_plan({"a/raced": [R(900, 8), R(1000, 10), R(950, 9), R(1001, 10), R(5, 10)]},
                            probes.Plan(min_runs=2, max_runs=9, agreement=0.002))
        # The two cheapest runs agree with nothing at the ceiling; the fourth run does.
        self.assertEqual(got["a/raced"], [900, 1000, 950, 1001])

    def test_runs_that_agree_anyway_settle_whatever_they_suspended(self):
        R = probes.Run
        got = self.run_plan({"a/exact": [R(1_000_000, 7), R(1_000_001, 6), R(1_000_000, 4), R(9, 7)]},
                            probes.Plan(min_runs=2, max_runs=9, agreement=0.002))
        self.assertEqual(got["a/exact"], [1_000_000, 1_000_001])

    def test_max_runs_bounds_a_figure_that_never_settles(self):
        got = self.run_plan({"a/wild": [1000, 1100, 1200, 1300, 1400]}, probes.Plan(2, 3, 0.002))
        self.assertEqual(got["a/wild"], [1000, 1100, 1200])

    def test_a_failing_run_stops_the_measurement(self):
        def boom(*_):
            raise probes.ProbeError("a/b: the probe failed")

        with mock.patch.object(probes, "count_once", side_effect=boom), \
                self.assertRaisesRegex(probes.ProbeError, "the probe failed"):
            probes.measure([("base", Path("/p"), probes.Scenario("a/b", 1, ""))], probes.Plan(),
                           Path("/tmp"), {}, None, 1, lambda m: None)


@unittest.skipUnless(HAVE_TOOLS, "needs valgrind and cc (scripts/setup-test-deps installs them)")
class CallgrindTest(unittest.TestCase):
    """Real callgrind runs of tests/fixtures/toy-probe.c."""

    @classmethod
    def setUpClass(cls):
        cls.dir = Path(tempfile.mkdtemp())
        cls.exe = compile_toy(cls.dir)
        cls.shim = probes.build_shim(cls.dir / "cache")
        cls.scenario = probes.list_scenarios(cls.exe)[0]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def count(self, env=None, shim=True):
        return probes.count_once(self.exe, self.scenario, self.dir, env or {}, self.shim if shim else None)

    def test_the_same_binary_counts_the_same_and_three_percent_more_work_shows(self):
        first, second = self.count(), self.count()
        self.assertEqual(first, second, "seeded, unrandomized runs of one binary agree exactly")
        self.assertIsNone(first.suspensions, "the toy reports no suspensions")
        more = self.count({"TOY_WORK": "1030"})
        change = more.instructions / first.instructions - 1
        # The loop is nearly all of the counted work: about 3% more of it is about 3% more.
        self.assertGreater(change, 0.025)
        self.assertLess(change, 0.035)

    def test_the_shim_makes_random_bytes_repeat(self):
        script = "import os; print(os.urandom(16).hex())"
        env = {"PATH": "/usr/bin:/bin", "LD_PRELOAD": str(self.shim)}
        runs = {subprocess.run(["python3", "-c", script], env=env, capture_output=True, text=True,
                               check=True).stdout for _ in range(2)}
        self.assertEqual(len(runs), 1)
        plain = {subprocess.run(["python3", "-c", script], capture_output=True, text=True,
                                check=True).stdout for _ in range(2)}
        self.assertEqual(len(plain), 2, "without the shim the bytes differ")

    def test_the_shim_is_compiled_once_per_source(self):
        self.assertEqual(probes.build_shim(self.dir / "cache"), self.shim)
        self.assertTrue(self.shim.name.startswith("seeded-random-"))

    def test_a_probe_that_never_starts_instrumentation_is_an_error(self):
        with self.assertRaisesRegex(probes.ProbeError, "callgrind counted nothing"):
            self.count({"TOY_START": "0"})

    def test_a_failing_probe_is_an_error_with_its_output(self):
        bad = probes.Scenario("toy/other", 1, "")
        with self.assertRaisesRegex(probes.ProbeError, r"toy/other: the probe failed under callgrind \(2\)"):
            probes.count_once(self.exe, bad, self.dir, {}, self.shim)

    def test_measure_interleaves_roles_and_agrees(self):
        jobs = [("base", self.exe, self.scenario), ("candidate", self.exe, self.scenario)]
        with contextlib.redirect_stderr(io.StringIO()):
            out = probes.measure(jobs, probes.Plan(2, 4, 0.0), self.dir, {}, self.shim, 2, lambda m: None)
        base, candidate = out[("base", "toy/loop")], out[("candidate", "toy/loop")]
        self.assertEqual(len(base.instructions), 2)
        self.assertEqual(base.per_step, candidate.per_step)


if __name__ == "__main__":
    unittest.main()
