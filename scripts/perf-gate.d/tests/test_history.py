"""The history branch: records, appending with git plumbing (in scratch repositories), the budget."""

import copy
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import unittest
from pathlib import Path
from unittest import mock

from perfgate import history

CPU = "AMD EPYC 7B13"
TOOLCHAIN = "rustc 1.95.0 (abc 2026-11-01); valgrind-3.19.0"
ORIGIN = "perf-history:history.jsonl"


def sha(name):
    return hashlib.sha1(str(name).encode()).hexdigest()


def record(name, figures=None, verdict="pass", accepted=None, cpu=CPU, toolchain=TOOLCHAIN, **extra):
    return {
        "schema": history.SCHEMA,
        "commit": sha(name),
        "parent": sha(f"parent of {name}"),
        "subject": f"commit {name}",
        "committed": "2026-12-06T13:00:00Z",
        "recorded": "2026-12-06T13:20:00Z",
        "cpu": cpu,
        "toolchain": toolchain,
        "figures": figures if figures is not None else {"notejam/all_notes": 12_345_678, "notejam/sign_in": 4_000},
        "advisory": {"all_notes.rps": 51234.0},
        "verdict": verdict,
        "accepted": accepted,
        "ci": {"run_id": "42", "ref": "refs/heads/main"},
        **extra,
    }


class RecordTest(unittest.TestCase):
    def test_dumps_and_parse_round_trip(self):
        first = record(1, extra_key={"kept": True})
        second = record(2, subject="ünïcode \u2028 and a\nnewline")
        line = history.dumps(first)
        self.assertTrue(line.endswith("}\n"))
        self.assertEqual(line.count("\n"), 1)
        self.assertEqual(list(json.loads(line)), sorted(first))
        text = history.dumps(first) + "\n" + history.dumps(second)
        self.assertEqual(history.parse(text, ORIGIN), [first, second])
        self.assertEqual(history.parse("", ORIGIN), [])

    def test_optional_parts_may_be_missing(self):
        minimal = record(1)
        for key in ("advisory", "accepted", "ci"):
            del minimal[key]
        self.assertEqual(history.parse(history.dumps(minimal), ORIGIN), [minimal])
        accepted = record(2, verdict="accepted",
                          accepted={"reason": "worth it", "source": "trailer", "figures": ["*"]})
        self.assertEqual(history.parse(history.dumps(accepted), ORIGIN), [accepted])

    def test_every_malformed_record_is_named_with_its_line(self):
        def changed(**changes):
            r = record(9)
            for key, value in changes.items():
                if value is KeyError:
                    del r[key]
                else:
                    r[key] = value
            return json.dumps(r)

        cases = [
            ("{not json", "not JSON"),
            ("[1, 2]", "not a JSON object"),
            (changed(schema="perf-gate/history/0"), "schema is 'perf-gate/history/0'"),
            (changed(figures=KeyError, cpu=KeyError), "no 'cpu', 'figures'"),
            (changed(commit="abc123"), "commit 'abc123' is not a full commit id"),
            (changed(commit=sha(1).upper()), "commit '[0-9A-F]{40}' is not a full commit id"),
            (changed(parent="HEAD~1"), "parent 'HEAD~1' is neither a full commit id nor null"),
            (changed(subject=7), "subject is not a string"),
            (changed(committed="yesterday"), "committed 'yesterday' is not an ISO 8601 time"),
            (changed(recorded="2026-12-06T13:20:00"), "recorded .* is not an ISO 8601 time with a zone"),
            (changed(cpu=""), "cpu is not a non-empty string"),
            (changed(toolchain=None), "toolchain is not a non-empty string"),
            (changed(figures={}), "figures is not a non-empty object"),
            (changed(figures={"x": -1}), "figure 'x' is not a non-negative integer"),
            (changed(figures={"x": 1.5}), "figure 'x' is not a non-negative integer"),
            (changed(figures={"x": True}), "figure 'x' is not a non-negative integer"),
            (changed(figures={"x": "12"}), "figure 'x' is not a non-negative integer"),
            (changed(advisory={"rps": "fast"}), "advisory figure 'rps' is not a finite number"),
            (changed(advisory=[]), "advisory is not an object"),
            (changed(verdict="ok"), "verdict 'ok' is not one of pass, fail, accepted"),
            (changed(verdict="accepted"), "verdict 'accepted' but no acceptance"),
            (changed(accepted="yes"), "accepted is neither null nor an object"),
            (changed(accepted={"source": "trailer", "figures": ["*"]}), "accepted has no reason"),
            (changed(accepted={"reason": "r", "source": "mail", "figures": ["*"]}), "accepted source 'mail'"),
            (changed(accepted={"reason": "r", "source": "label", "figures": []}), "accepted figures is not"),
            (changed(ci="run 42"), "ci is not an object"),
        ]
        good = json.dumps(record(1))
        for line, message in cases:
            with self.subTest(message=message), self.assertRaisesRegex(history.HistoryError,
                                                                      rf"^{ORIGIN}:3: {message}"):
                history.parse(f"{good}\n\n{line}\n", ORIGIN)
        # NaN is no JSON number, but Python's json reads it: refused all the same.
        with self.assertRaisesRegex(history.HistoryError, ":1: advisory figure 'all_notes.rps' is not a finite number"):
            history.parse(good.replace("51234.0", "NaN"), ORIGIN)

    def test_one_record_per_commit(self):
        text = history.dumps(record(1)) + history.dumps(record(2)) + history.dumps(record(1))
        with self.assertRaisesRegex(history.HistoryError, rf"{ORIGIN}:3: a second record for commit "
                                                          rf"{sha(1)[:10]} \(the first is on line 1\)"):
            history.parse(text, ORIGIN)

    def test_dumps_refuses_a_bad_record(self):
        with self.assertRaisesRegex(history.HistoryError, "the record for .*figure 'x'"):
            history.dumps(record(1, figures={"x": -5}))


def run(*args, cwd=None):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@invalid", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout.strip()


class ScratchRepos(unittest.TestCase):
    """Temporary repositories, with git configured by nothing outside them (no identity either)."""

    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.dir)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(HOME=str(self.dir), GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
        patcher = mock.patch.dict(os.environ, env, clear=True)
        patcher.start()
        self.addCleanup(patcher.stop)
        no_pause = mock.patch.object(history, "_pause", lambda attempt: None)
        no_pause.start()
        self.addCleanup(no_pause.stop)

    def work_repo(self, name="work"):
        repo = self.dir / name
        run("init", "-q", "-b", "main", str(repo))
        (repo / "app.txt").write_text("one\n")
        run("add", "app.txt", cwd=repo)
        run("commit", "-q", "-m", "first", cwd=repo)
        return repo

    def git(self, repo, *args):
        return run(*args, cwd=repo)


class BranchTest(ScratchRepos):
    def test_a_missing_branch_is_an_empty_history(self):
        repo = self.work_repo()
        self.assertEqual(history.read_branch(repo), [])
        self.assertEqual(history.read_branch(repo, "origin/perf-history"), [])
        with self.assertRaisesRegex(history.HistoryError, "rev-parse --git-dir"):
            history.read_branch(self.dir)

    def test_a_branch_without_the_file_is_an_empty_history(self):
        repo = self.work_repo()
        self.assertEqual(history.read_branch(repo, "main"), [])

    def test_the_first_append_makes_an_orphan_branch(self):
        repo = self.work_repo()
        with self.assertRaises(subprocess.CalledProcessError):  # no identity configured anywhere
            subprocess.run(["git", "config", "user.name"], cwd=repo, check=True, capture_output=True)
        first = record(1)
        tip = history.append_to_branch(repo, first)
        self.assertEqual(self.git(repo, "rev-parse", "perf-history"), tip)
        self.assertEqual(self.git(repo, "rev-list", "--parents", "-n1", tip), tip)  # no parent
        self.assertEqual(self.git(repo, "ls-tree", "--name-only", tip), "history.jsonl")
        self.assertEqual(self.git(repo, "log", "-1", "--format=%s|%an|%cn", tip),
                         f"perf-history: {sha(1)[:10]} pass|perf-gate|perf-gate")
        self.assertEqual(self.git(repo, "show", f"{tip}:history.jsonl") + "\n", history.dumps(first))
        self.assertEqual(history.read_branch(repo), [first])

    def test_appends_follow_each_other_and_a_rerun_replaces_its_record(self):
        repo = self.work_repo()
        one = history.append_to_branch(repo, record(1))
        two = history.append_to_branch(repo, record(2, verdict="fail"))
        self.assertEqual(self.git(repo, "rev-parse", f"{two}^"), one)
        rerun = record(1, figures={"notejam/all_notes": 999})
        three = history.append_to_branch(repo, rerun)
        self.assertEqual(self.git(repo, "rev-parse", f"{three}^"), two)
        self.assertEqual(history.read_branch(repo), [rerun, record(2, verdict="fail")])
        self.assertIn("replaces its earlier record", self.git(repo, "log", "-1", "--format=%s", three))
        # The same record again changes nothing: no commit.
        self.assertEqual(history.append_to_branch(repo, rerun), three)

    def test_the_working_tree_index_and_head_are_left_alone(self):
        repo = self.work_repo()
        (repo / "app.txt").write_text("changed, not staged\n")
        (repo / "staged.txt").write_text("staged\n")
        self.git(repo, "add", "staged.txt")
        (repo / "untracked.txt").write_text("untracked\n")
        (repo / "history.jsonl").write_text("a file of the same name in the working tree\n")

        def state():
            return (self.git(repo, "status", "--porcelain"), self.git(repo, "rev-parse", "HEAD"),
                    self.git(repo, "symbolic-ref", "HEAD"), self.git(repo, "ls-files", "-s"),
                    self.git(repo, "diff"), (repo / "history.jsonl").read_text())

        before = state()
        history.append_to_branch(repo, record(1))
        history.append_to_branch(repo, record(2))
        history.append_to_branch(repo, record(1, verdict="fail"))
        self.assertEqual(state(), before)
        self.assertEqual(self.git(repo, "rev-list", "--count", "main"), "1")

    def test_other_files_on_the_branch_are_kept(self):
        repo = self.work_repo()
        history.append_to_branch(repo, record(1))
        blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo, input="read me\n", text=True,
                              capture_output=True, check=True).stdout.strip()
        listing = self.git(repo, "ls-tree", "perf-history") + f"\n100644 blob {blob}\tREADME\n"
        tree = subprocess.run(["git", "mktree"], cwd=repo, input=listing, text=True, capture_output=True,
                              check=True).stdout.strip()
        tip = self.git(repo, "commit-tree", tree, "-p", "perf-history", "-m", "readme")
        self.git(repo, "update-ref", "refs/heads/perf-history", tip)
        new = history.append_to_branch(repo, record(2))
        self.assertEqual(self.git(repo, "ls-tree", "--name-only", new).split(), ["README", "history.jsonl"])

    def test_a_malformed_branch_is_refused_and_left_as_it_is(self):
        repo = self.work_repo()
        history.append_to_branch(repo, record(1))
        blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo, input="garbage\n", text=True,
                              capture_output=True, check=True).stdout.strip()
        tree = subprocess.run(["git", "mktree"], cwd=repo, input=f"100644 blob {blob}\thistory.jsonl\n",
                              text=True, capture_output=True, check=True).stdout.strip()
        bad = self.git(repo, "commit-tree", tree, "-m", "bad")
        self.git(repo, "update-ref", "refs/heads/perf-history", bad)
        with self.assertRaisesRegex(history.HistoryError, r"^perf-history:history.jsonl:1: not JSON"):
            history.read_branch(repo)
        with self.assertRaisesRegex(history.HistoryError, r"perf-history@[0-9a-f]{10}:history.jsonl:1: not JSON"):
            history.append_to_branch(repo, record(2))
        self.assertEqual(self.git(repo, "rev-parse", "perf-history"), bad)

    def test_a_bad_record_is_refused_before_anything_is_written(self):
        repo = self.work_repo()
        with self.assertRaisesRegex(history.HistoryError, "the record for .*: verdict 'ok'"):
            history.append_to_branch(repo, record(1, verdict="ok"))
        self.assertEqual(history.read_branch(repo), [])

    def test_a_checked_out_history_branch_is_not_moved(self):
        repo = self.work_repo()
        history.append_to_branch(repo, record(1))
        self.git(repo, "worktree", "add", "-q", str(self.dir / "tree"), "perf-history")
        with self.assertRaisesRegex(history.HistoryError, "perf-history is checked out in .*tree"):
            history.append_to_branch(repo, record(2))

    def test_a_bad_branch_name_is_refused(self):
        with self.assertRaisesRegex(history.HistoryError, "'bad..name' is not a valid branch name"):
            history.append_to_branch(self.work_repo(), record(1), branch="bad..name")


class RemoteTest(ScratchRepos):
    def setUp(self):
        super().setUp()
        self.remote = self.dir / "remote.git"
        run("init", "-q", "--bare", str(self.remote))
        seed = self.work_repo("seed")
        self.git(seed, "push", "-q", str(self.remote), "main")
        self.a = self.clone("a")
        self.b = self.clone("b")

    def clone(self, name):
        path = self.dir / name
        run("clone", "-q", str(self.remote), str(path))
        return path

    def on_remote(self):
        return history.read_branch(self.remote)

    def test_an_append_is_pushed_and_followed_locally(self):
        tip = history.append_to_branch(self.a, record(1), remote="origin")
        self.assertEqual(self.git(self.remote, "rev-parse", "perf-history"), tip)
        self.assertEqual(self.git(self.a, "rev-parse", "perf-history"), tip)
        self.assertEqual(self.git(self.a, "rev-parse", "origin/perf-history"), tip)
        self.assertEqual(self.on_remote(), [record(1)])
        # B has never fetched the branch: it appends on top of the remote's, not a new root.
        tip = history.append_to_branch(self.b, record(2), remote="origin")
        self.assertEqual(self.on_remote(), [record(1), record(2)])
        self.assertEqual(history.read_branch(self.b, "origin/perf-history"), [record(1), record(2)])
        self.assertEqual(self.git(self.b, "rev-parse", "perf-history"), tip)

    def test_a_remote_given_as_a_path(self):
        history.append_to_branch(self.a, record(1), remote=str(self.remote))
        history.append_to_branch(self.b, record(2), remote=str(self.remote))
        self.assertEqual(self.on_remote(), [record(1), record(2)])

    def test_a_push_that_loses_a_race_is_redone_on_the_new_tip(self):
        real_push = history._push
        pushes = []

        def push_after_b(repo, remote, branch, new):
            pushes.append(repo)
            if len(pushes) == 1:  # between A's fetch and A's push, B pushes
                history.append_to_branch(self.b, record("b"), remote="origin")
            return real_push(repo, remote, branch, new)

        history.append_to_branch(self.a, record(0), remote="origin")
        with mock.patch.object(history, "_push", push_after_b):
            history.append_to_branch(self.a, record("a"), remote="origin")
        self.assertEqual(pushes, [self.a, self.b, self.a])  # A's first push was rejected, then redone
        self.assertEqual(self.on_remote(), [record(0), record("b"), record("a")])
        self.assertEqual(history.read_branch(self.a), [record(0), record("b"), record("a")])

    def test_after_its_attempts_it_gives_up_and_loses_nothing(self):
        real_push = history._push
        others = iter(range(100))

        def always_beaten(repo, remote, branch, new):
            if repo == self.a:
                history.append_to_branch(self.b, record(f"b{next(others)}"), remote="origin")
            return real_push(repo, remote, branch, new)

        with mock.patch.object(history, "_push", always_beaten), \
                self.assertRaisesRegex(history.HistoryError, rf"record for {sha('a')[:10]} to origin perf-history: "
                                                             r"3 attempt\(s\).*fetch first.*run the job again"):
            history.append_to_branch(self.a, record("a"), remote="origin", attempts=3)
        self.assertEqual(self.on_remote(), [record(f"b{i}") for i in range(3)])

    def test_a_refusal_that_is_no_race_fails_at_once(self):
        hook = self.remote / "hooks" / "pre-receive"
        hook.write_text("#!/bin/sh\necho no history here >&2\nexit 1\n")
        hook.chmod(0o755)
        with self.assertRaisesRegex(history.HistoryError, "git push origin perf-history: .*pre-receive hook declined"):
            history.append_to_branch(self.a, record(1), remote="origin")
        self.assertEqual(self.git(self.a, "branch", "--list", "perf-history"), "")

    def test_an_unreachable_remote_is_an_error(self):
        with self.assertRaisesRegex(history.HistoryError, "cannot read refs/heads/perf-history of .*nowhere"):
            history.append_to_branch(self.a, record(1), remote=str(self.dir / "nowhere"))

    def test_concurrent_appends_from_four_clones_all_land(self):
        clones = [self.a, self.b, self.clone("c"), self.clone("d")]
        errors = []

        def appender(repo, n):
            try:
                for i in range(3):
                    history.append_to_branch(repo, record(f"{n}-{i}"), remote="origin", attempts=30)
            except Exception as error:  # reported below
                errors.append(error)

        with mock.patch.object(history, "_pause", lambda attempt: None):
            threads = [threading.Thread(target=appender, args=(repo, n)) for n, repo in enumerate(clones)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        self.assertEqual(errors, [])
        landed = sorted(r["commit"] for r in self.on_remote())
        self.assertEqual(landed, sorted(sha(f"{n}-{i}") for n in range(4) for i in range(3)))


FIGURE = "notejam/sign_in"


def history_of(values, start=0, **kwargs):
    return [record(start + i, figures={FIGURE: round(v), "notejam/all_notes": 1_000_000}, **kwargs)
            for i, v in enumerate(values)]


def flat(n, level=10_000_000):
    """Counts within +-0.02% of `level`: the same binary and input, measured again."""
    return [level * (1 + 0.0002 * ((i * 7919) % 11 - 5) / 5) for i in range(n)]


class SeriesTest(unittest.TestCase):
    def test_series_filters_by_figure_cpu_and_toolchain(self):
        records = (history_of([10, 11]) + history_of([20], start=2, cpu="Intel Xeon")
                   + history_of([30], start=3, toolchain="rustc 1.96.0; valgrind-3.19.0")
                   + [record(4, figures={"other": 1})])
        self.assertEqual(history.series(records, FIGURE),
                         [(sha(0), 10.0), (sha(1), 11.0), (sha(2), 20.0), (sha(3), 30.0)])
        self.assertEqual(history.series(records, FIGURE, cpu=CPU, toolchain=TOOLCHAIN),
                         [(sha(0), 10.0), (sha(1), 11.0)])
        self.assertEqual(history.series(records, FIGURE, cpu="Intel Xeon"), [(sha(2), 20.0)])
        self.assertEqual(history.series(records, "nothing"), [])


class BudgetTest(unittest.TestCase):
    def test_ten_one_percent_commits_exceed_once_the_total_passes_the_budget(self):
        base = flat(20)
        ramp = [10_000_000 * 1.01 ** k for k in range(1, 11)]
        verdicts = []
        for k, candidate in enumerate(ramp):
            records = history_of(base + ramp[:k])
            result = history.budget_check(records, FIGURE, candidate, candidate_commit=sha(20 + k))
            verdicts.append(result.exceeded)
            if result.exceeded:
                self.assertEqual(result.drift.kind, "drift")
                self.assertEqual(result.drift.label, sha(20), result.reason())
                self.assertIn(f"drift started at {sha(20)[:10]}", result.reason())
        # 1.01 ** 3 = +3.03%: the third commit of the drift is the first beyond 3%.
        self.assertEqual(verdicts, [False, False] + [True] * 8)

    def test_the_reason_reads_in_one_line(self):
        base = [round(v) for v in flat(20)]
        records = history_of(base + [10_100_000, 10_201_000])
        result = history.budget_check(records, FIGURE, 10_303_010, candidate_commit=sha(22))
        self.assertTrue(result.exceeded)
        lowest = max(i for i, v in enumerate(base) if v == min(base))  # the most recent of the lowest
        self.assertEqual(result.reference, (float(min(base)), sha(lowest)))
        self.assertRegex(result.reason(),
                         rf"^{FIGURE}: 10,303,010 is \+3\.\d% over the lowest of the last 22 main commit\(s\) "
                         rf"\({min(base):,} at {sha(lowest)[:10]}\), beyond the 3% budget; drift started at {sha(20)[:10]} "
                         rf"\(drift from {sha(20)[:10]}: \+3\.\d% over 3 commits \(1\.0% per commit\)\)$")
        within = history.budget_check(records, FIGURE, 10_201_000)
        self.assertFalse(within.exceeded)
        self.assertIn("within the 3% budget", within.reason())

    def test_the_reference_is_the_lowest_of_the_window(self):
        records = history_of([9_000_000] + [10_000_000] * 60)
        self.assertEqual(history.budget_check(records, FIGURE, 10_000_000).reference, (10_000_000.0, sha(60)))
        wide = history.budget_check(records, FIGURE, 10_000_000, window=61)
        self.assertEqual(wide.reference, (9_000_000.0, sha(0)))
        self.assertTrue(wide.exceeded)
        self.assertEqual(wide.compared, 61)

    def test_accepting_resets_the_reference(self):
        accepted = {"reason": "the cache costs this", "source": "trailer", "figures": [FIGURE]}
        records = history_of(flat(20))
        records += history_of([10_800_000], start=20, verdict="accepted", accepted=accepted)
        records += history_of([11_000_000] * 5, start=21)
        result = history.budget_check(records, FIGURE, 11_000_000)
        self.assertEqual(result.reference, (10_800_000.0, sha(20)))  # the accepted record's own value counts
        self.assertFalse(result.exceeded)
        self.assertEqual(result.accepted_at, sha(20))
        self.assertIn(f"the lowest of the 6 main commit(s) since {sha(20)[:10]} was accepted", result.reason())
        # An acceptance of another figure, or none, leaves the old baseline.
        other = copy.deepcopy(records)
        other[20]["accepted"]["figures"] = ["notejam/all_notes"]
        self.assertTrue(history.budget_check(other, FIGURE, 11_000_000).exceeded)
        every = copy.deepcopy(records)
        every[20]["accepted"]["figures"] = ["*"]
        self.assertFalse(history.budget_check(every, FIGURE, 11_000_000).exceeded)

    def test_an_acceptance_measured_elsewhere_still_resets(self):
        accepted = {"reason": "r", "source": "label", "figures": ["*"]}
        records = (history_of(flat(10)) + history_of([1], start=10, cpu="Intel Xeon", verdict="accepted",
                                                     accepted=accepted)
                   + history_of([10_800_000] * 3, start=11))
        result = history.budget_check(records, FIGURE, 10_800_000, cpu=CPU)
        self.assertEqual(result.reference, (10_800_000.0, sha(13)))
        self.assertFalse(result.exceeded)

    def test_only_the_same_cpu_and_toolchain_count(self):
        records = (history_of(flat(10)) + history_of([8_000_000] * 5, start=10, cpu="Intel Xeon")
                   + history_of([7_000_000] * 5, start=15, toolchain="rustc 1.96.0; valgrind-3.19.0"))
        same = history.budget_check(records, FIGURE, 10_100_000, cpu=CPU, toolchain=TOOLCHAIN)
        self.assertFalse(same.exceeded)
        self.assertEqual(same.compared, 10)
        self.assertTrue(history.budget_check(records, FIGURE, 10_100_000).exceeded)
        self.assertTrue(history.budget_check(records, FIGURE, 8_400_000, cpu="Intel Xeon").exceeded)
        nothing = history.budget_check(records, FIGURE, 10_000_000, cpu="ARM Neoverse")
        self.assertIsNone(nothing.reference)
        self.assertFalse(nothing.exceeded)
        self.assertEqual(nothing.reason(), f"{FIGURE}: no earlier record on this CPU and toolchain to hold it to the budget")

    def test_an_earlier_run_of_the_candidate_is_not_its_own_reference(self):
        # The job ran before for commit 5 and recorded 10.0M; now it measures 10.5M again.
        records = history_of([10_500_000] * 5 + [10_000_000])
        self.assertTrue(history.budget_check(records, FIGURE, 10_500_000).exceeded)
        again = history.budget_check(records, FIGURE, 10_500_000, candidate_commit=sha(5))
        self.assertFalse(again.exceeded)
        self.assertEqual(again.compared, 5)

    def test_a_fall_is_no_drift(self):
        result = history.budget_check(history_of(flat(20)), FIGURE, 9_000_000)
        self.assertLess(result.change, 0)
        self.assertFalse(result.exceeded)
        self.assertIsNone(result.drift)

    def test_bad_arguments_are_refused(self):
        for bad in (-1, float("nan"), "10", None):
            with self.subTest(bad=bad), self.assertRaisesRegex(ValueError, "is not a non-negative number"):
                history.budget_check([], FIGURE, bad)
        with self.assertRaisesRegex(ValueError, "budget must be > 0"):
            history.budget_check([], FIGURE, 1, budget=0)


if __name__ == "__main__":
    unittest.main()
