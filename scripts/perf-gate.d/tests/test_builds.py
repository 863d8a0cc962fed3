"""Revisions, build keys and the build cache's housekeeping (no compiling here)."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from perfgate import builds

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@invalid"}


class RepoTest(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.dir)
        self.repo = self.dir / "repo"
        self.repo.mkdir()
        self.git("init", "-q")
        self.write("Cargo.toml", "[workspace]\n")
        self.write("Cargo.lock", "# lock\n")
        self.write("notejam/src/main.rs", "fn main() {}\n")
        self.write("notejam/tests/app.rs", "\n")
        self.first = self.commit("first")

    def git(self, *args):
        return subprocess.run(["git", "-C", str(self.repo), *args], check=True, capture_output=True,
                              text=True, env={**os.environ, **GIT_ENV}).stdout.strip()

    def write(self, path, text):
        target = self.repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def commit(self, message):
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return builds.resolve(self.repo, "HEAD")

    def key(self, commit):
        return builds.build_key(self.repo, commit, "rustc 1.95.0")

    def test_resolve_gives_the_full_id_and_subject(self):
        commit = builds.resolve(self.repo, "HEAD")
        self.assertEqual(len(commit.sha), 40)
        self.assertEqual(commit.subject, "first")
        self.assertEqual(commit.short, commit.sha[:10])

    def test_resolve_refuses_what_is_not_a_commit(self):
        for revision in ("no-such-branch", "HEAD~5", "", "--all"):
            with self.subTest(revision=revision), self.assertRaises(builds.RevisionError):
                builds.resolve(self.repo, revision)
        tree = self.git("rev-parse", "HEAD^{tree}")
        with self.assertRaisesRegex(builds.RevisionError, "is not a commit"):
            builds.resolve(self.repo, tree)

    def test_a_shallow_clone_gets_a_hint(self):
        self.write("notejam/src/main.rs", "fn main() { }\n")
        self.commit("second")
        shallow = self.dir / "shallow"
        subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{self.repo}", str(shallow)], check=True)
        with self.assertRaisesRegex(builds.RevisionError, "shallow.*fetch-depth: 0"):
            builds.resolve(shallow, "HEAD~1")

    def test_the_key_follows_what_the_binary_is_built_from(self):
        first = self.key(self.first)
        self.assertEqual(first, self.key(self.first))
        self.write("README.md", "docs\n")
        self.write("notejam/README.md", "docs\n")
        self.write("notejam/tests/app.rs", "// more tests\n")
        self.write("notejam/bench/run", "#!/bin/sh\n")
        self.write("notejam/benches/instructions.rs", "// the probe\n")
        self.write("src/main.rs", "// the console\n")
        self.assertEqual(self.key(self.commit("docs, tests, bench, probe, console")), first)
        self.write("notejam/src/main.rs", "fn main() { println!(); }\n")
        changed_source = self.key(self.commit("app change"))
        self.assertNotEqual(changed_source, first)
        self.write("Cargo.lock", "# other versions\n")
        self.assertNotEqual(self.key(self.commit("lock change")), changed_source)
        self.assertNotEqual(builds.build_key(self.repo, self.first, "rustc 1.96.0"), first)

    def test_each_probe_is_keyed_by_its_own_crate(self):
        self.write("notejam/benches/instructions.rs", "// notejam's probe\n")
        self.write("benches/instructions.rs", "// njtui's probe\n")
        self.write("src/main.rs", "// the console\n")
        self.write("perf/probe/src/lib.rs", "// the harness\n")
        start = self.commit("probes")

        def keys(commit):
            return {name: builds.build_key(self.repo, commit, "rustc 1.95.0", name) for name in builds.PRODUCTS}

        before = keys(start)
        self.assertEqual(len(set(before.values())), 3, "one key per product")
        self.write("src/main.rs", "// a console change\n")
        console = keys(self.commit("console change"))
        self.assertEqual(console["notejam"], before["notejam"])
        self.assertEqual(console["notejam-probe"], before["notejam-probe"])
        self.assertNotEqual(console["njtui-probe"], before["njtui-probe"])
        self.write("notejam/src/main.rs", "fn main() { todo!() }\n")
        app = keys(self.commit("app change"))
        self.assertNotEqual(app["notejam"], console["notejam"])
        self.assertNotEqual(app["notejam-probe"], console["notejam-probe"])
        self.assertEqual(app["njtui-probe"], console["njtui-probe"])
        self.write("perf/probe/src/lib.rs", "// a harness change\n")
        harness = keys(self.commit("harness change"))
        self.assertEqual(harness["notejam"], app["notejam"], "the server does not link the probe harness")
        self.assertNotEqual(harness["notejam-probe"], app["notejam-probe"])
        self.assertNotEqual(harness["njtui-probe"], app["njtui-probe"])
        self.write("docs/x.md", "docs\n")
        self.assertEqual(keys(self.commit("docs")), harness)

    def test_a_commit_without_the_app_cannot_be_built(self):
        self.git("rm", "-q", "-r", "notejam")
        with self.assertRaisesRegex(builds.BuildError, "has no notejam/ directory"):
            self.key(self.commit("no app"))

    def test_a_commit_before_a_probe_is_said_to_predate_it(self):
        with self.assertRaisesRegex(builds.BuildError, "has no benches/: it predates the njtui-probe"):
            builds.build_key(self.repo, self.first, "rustc 1.95.0", "njtui-probe")

    def test_checkout_rewrites_only_what_changed_and_removes_what_went(self):
        self.write("notejam/src/lib.rs", "// kept\n")
        self.write("notejam/src/gone.rs", "// removed later\n")
        one = self.commit("one")
        self.write("notejam/src/main.rs", "fn main() { println!(); }\n")
        self.git("rm", "-q", "notejam/src/gone.rs")
        two = self.commit("two")
        with builds.BuildCache(self.dir / "cache", keep=2, log=lambda m: None) as cache:
            cache.checkout(self.repo, one)
            kept = cache.src / "notejam" / "src" / "lib.rs"
            os.utime(kept, (1_000_000, 1_000_000))
            cache.checkout(self.repo, two)
            self.assertEqual((cache.src / "notejam/src/main.rs").read_text(), "fn main() { println!(); }\n")
            self.assertFalse((cache.src / "notejam/src/gone.rs").exists())
            # Untouched files keep their mtime: cargo does not rebuild what they make.
            self.assertEqual(kept.stat().st_mtime, 1_000_000)
            # A local edit in the build tree is undone by the next checkout.
            (cache.src / "notejam/src/main.rs").write_text("tampered\n")
            cache.checkout(self.repo, two)
            self.assertEqual((cache.src / "notejam/src/main.rs").read_text(), "fn main() { println!(); }\n")
        # The repository's own index and work tree are left alone.
        self.assertEqual(self.git("status", "--porcelain"), "")


class BenchExecutableTest(unittest.TestCase):
    def test_the_bench_artifact_is_found_in_cargo_json(self):
        lines = [
            json.dumps({"reason": "compiler-artifact", "target": {"name": "instructions", "kind": ["lib"]},
                        "executable": None}),
            "not json",
            json.dumps({"reason": "compiler-artifact", "target": {"name": "console", "kind": ["bench"]},
                        "executable": "/t/release/deps/console-1"}),
            json.dumps({"reason": "compiler-artifact", "target": {"name": "instructions", "kind": ["bench"]},
                        "executable": "/t/release/deps/instructions-abc"}),
            json.dumps({"reason": "build-finished", "success": True}),
        ]
        self.assertEqual(builds.bench_executable("\n".join(lines), "instructions"),
                         Path("/t/release/deps/instructions-abc"))
        self.assertIsNone(builds.bench_executable(lines[2], "instructions"))


class CacheTest(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.dir)
        self.messages = []

    def make(self, cache, key, age, stamp=True, product="notejam"):
        entry = cache.root / key
        entry.mkdir(parents=True)
        (entry / product).write_text("binary")
        if stamp:
            (entry / builds.STAMP).write_text(json.dumps({"key": key}))
        os.utime(entry, (1_000_000 + age, 1_000_000 + age))
        return entry

    def test_cached_needs_the_stamp_and_the_executable(self):
        notejam = builds.PRODUCTS["notejam"]
        with builds.BuildCache(self.dir, keep=4, log=self.messages.append) as cache:
            self.make(cache, "done", 1)
            self.make(cache, "unfinished", 2, stamp=False)
            self.make(cache, "probe", 3, product="notejam-probe")
            self.assertTrue(cache.cached("done", notejam))
            self.assertFalse(cache.cached("unfinished", notejam))
            self.assertFalse(cache.cached("absent", notejam))
            self.assertFalse(cache.cached("probe", notejam), "another product's executable")
            self.assertTrue(cache.cached("probe", builds.PRODUCTS["notejam-probe"]))

    def test_a_cached_build_is_not_rebuilt(self):
        with builds.BuildCache(self.dir, keep=4, log=self.messages.append) as cache:
            self.make(cache, "k1", 1)
            commit = builds.Commit("a" * 40, "s")
            # No repository is needed: a cached build never checks out or compiles.
            path = cache.build(Path("/nonexistent"), commit, "k1", "notejam", self.dir)
            self.assertEqual(path, cache.root / "k1" / "notejam")
            self.assertIn("perf-gate: aaaaaaaaaa: cached notejam k1", self.messages)

    def test_prune_keeps_the_newest_and_those_in_use(self):
        with builds.BuildCache(self.dir, keep=2, log=self.messages.append) as cache:
            for age, key in enumerate(["oldest", "old", "middle", "new", "newest"]):
                self.make(cache, key, age)
            (cache.root / "x.partial").mkdir()
            cache.prune({"oldest"})
            left = sorted(p.name for p in cache.root.iterdir() if p.is_dir())
            # In use, plus the two most recently used; partial copies are not builds.
            self.assertEqual(left, ["new", "newest", "oldest", "x.partial"])
            self.assertIn("perf-gate: removing old build middle", self.messages)


if __name__ == "__main__":
    unittest.main()
