"""Reading the scenario's output, and following its phases."""

import json
import os
import shutil
import stat
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

from perfgate import load

ROW = {"requests": 3000, "seconds": 3.0, "rps": 1000.0, "p50_ms": 5.0, "p90_ms": 8.0, "p99_ms": 12.5,
       "max_ms": 30.0, "non_2xx_3xx": 0, "socket_errors": 0}


def line(scenario, **changes):
    return json.dumps({"scenario": scenario, **ROW, **changes})


class ParseTest(unittest.TestCase):
    def test_both_scenarios_parse_in_order(self):
        text = line("create_note", rps=500.5) + "\n\n" + line("all_notes") + "\n"
        results = load.parse_results(text)
        self.assertEqual(list(results), ["all_notes", "create_note"])
        self.assertEqual(results["create_note"]["rps"], 500.5)
        self.assertEqual(results["all_notes"]["p99_ms"], 12.5)

    def test_unknown_fields_and_scenarios_are_ignored(self):
        text = "\n".join([line("hello"), line("all_notes", backend="sqlite"), line("create_note")])
        self.assertEqual(set(load.parse_results(text)), {"all_notes", "create_note"})

    def test_garbage_is_refused_with_its_line_number(self):
        with self.assertRaisesRegex(load.LoadError, "line 2 is not JSON"):
            load.parse_results(line("all_notes") + "\nRunning 3s test @ http://127.0.0.1\n")

    def test_a_missing_scenario_is_named(self):
        with self.assertRaisesRegex(load.LoadError, r"no result for create_note \(got \['all_notes'\]\)"):
            load.parse_results(line("all_notes"))
        with self.assertRaisesRegex(load.LoadError, "got nothing"):
            load.parse_results("")

    def test_bad_figures_are_refused(self):
        for field, value in (("rps", "fast"), ("p99_ms", -1), ("requests", None), ("rps", True)):
            with self.subTest(field=field, value=value):
                text = line("all_notes", **{field: value}) + "\n" + line("create_note")
                with self.assertRaisesRegex(load.LoadError, f"field '{field}'"):
                    load.parse_results(text)
        with self.assertRaisesRegex(load.LoadError, 'no "scenario" name'):
            load.parse_results('{"rps": 1}')
        with self.assertRaisesRegex(load.LoadError, 'no "scenario" name'):
            load.parse_results("[1, 2]")

    def test_a_scenario_without_requests_is_an_error(self):
        text = line("all_notes", requests=0) + "\n" + line("create_note")
        with self.assertRaisesRegex(load.LoadError, "all_notes completed no request"):
            load.parse_results(text)

    def test_errors_count_failed_statuses_and_sockets(self):
        self.assertEqual(load.error_count({**ROW, "non_2xx_3xx": 3, "socket_errors": 2}), 5)


class PhasesTest(unittest.TestCase):
    """A stand-in scenario: two 'wrk' children in turn, with a pause before each."""

    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.dir)
        # A copy of sleep called wrk: what the phase tracker looks for by name.
        shutil.copy(shutil.which("sleep"), self.dir / "wrk")
        self.script = self.dir / "scenario"
        self.script.write_text(
            "#!/usr/bin/env bash\nset -e\n"
            f'PATH="{self.dir}:$PATH"\n'
            "sleep 0.3; wrk 0.5\nsleep 0.2; wrk 0.5\n"
            f"echo '{line('all_notes')}'\necho '{line('create_note')}'\n"
        )
        self.script.chmod(self.script.stat().st_mode | stat.S_IXUSR)

    def test_two_wrk_runs_make_two_phases(self):
        process = subprocess.Popen([str(self.script)], stdout=subprocess.DEVNULL, start_new_session=True)
        phases = load.follow_phases(process, os.getpid(), time.monotonic() + 30)
        self.assertEqual(process.returncode, 0)
        self.assertEqual(len(phases), 2)
        for user, system in phases:
            self.assertGreaterEqual(user, 0)
            self.assertGreaterEqual(system, 0)

    def test_run_adds_cpu_per_request(self):
        workload = load.Load(self.script, duration_s=1, connections=4)
        results = workload.run("http://127.0.0.1:9", server_pid=os.getpid())
        for name in ("all_notes", "create_note"):
            figures = results[name]
            self.assertAlmostEqual(figures["cpu_us"], figures["user_us"] + figures["sys_us"])
            self.assertGreaterEqual(figures["cpu_us"], 0)

    def test_a_scenario_that_fails_reports_its_stderr(self):
        self.script.write_text("#!/bin/sh\necho 'scenario: POST /signup/ answered 500' >&2\nexit 1\n")
        workload = load.Load(self.script, duration_s=1, connections=4)
        with self.assertRaisesRegex(load.LoadError, "exited with 1: scenario: POST /signup/ answered 500"):
            workload.run("http://127.0.0.1:9", server_pid=os.getpid())

    def test_a_scenario_with_one_wrk_run_is_refused(self):
        self.script.write_text(
            "#!/usr/bin/env bash\n"
            f'PATH="{self.dir}:$PATH"\nwrk 0.4\n'
            f"echo '{line('all_notes')}'\necho '{line('create_note')}'\n"
        )
        workload = load.Load(self.script, duration_s=1, connections=4)
        with self.assertRaisesRegex(load.LoadError, "saw 1 wrk run"):
            workload.run("http://127.0.0.1:9", server_pid=os.getpid())

    def test_a_hung_scenario_is_stopped_at_the_deadline(self):
        self.script.write_text(f'#!/usr/bin/env bash\nPATH="{self.dir}:$PATH"\nwrk 30\n')
        process = subprocess.Popen([str(self.script)], start_new_session=True)
        started = time.monotonic()
        with self.assertRaisesRegex(load.LoadError, "did not finish in time"):
            load.follow_phases(process, os.getpid(), time.monotonic() + 0.5)
        self.assertLess(time.monotonic() - started, 10)
        self.assertIsNotNone(process.poll())

    def test_command_passes_the_scenarios_own_options(self):
        workload = load.Load(Path("/x/scenario"), duration_s=4, connections=64)
        self.assertEqual(workload.command("http://127.0.0.1:1"),
                         ["/x/scenario", "http://127.0.0.1:1", "--duration", "4", "--connections", "64"])
        self.assertEqual(workload.command("http://127.0.0.1:1", 1)[3], "1")


if __name__ == "__main__":
    unittest.main()
