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
        self.write("src/main.rs", "// the console\n")
        self.assertEqual(self.key(self.commit("docs, tests, bench, console")), first)
        self.write("notejam/src/main.rs", "fn main() { println!(); }\n")
        changed_source = self.key(self.commit("app change"))
        self.assertNotEqual(changed_source, first)
        self.write("Cargo.lock", "# other versions\n")
        self.assertNotEqual(self.key(self.commit("lock change")), changed_source)
        self.assertNotEqual(builds.build_key(self.repo, self.first, "rustc 1.96.0"), first)

    def test_a_commit_without_the_app_cannot_be_built(self):
        self.git("rm", "-q", "-r", "notejam")
        with self.assertRaisesRegex(builds.BuildError, "has no notejam/ directory"):
            self.key(self.commit("no app"))


class CacheTest(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.dir)
        self.messages = []

    def make(self, cache, key, age, stamp=True):
        entry = cache.root / key
        (entry / "release").mkdir(parents=True)
        (entry / "release" / "notejam").write_text("binary")
        if stamp:
            (entry / builds.STAMP).write_text(json.dumps({"key": key}))
        os.utime(entry, (1_000_000 + age, 1_000_000 + age))
        return entry

    def test_cached_needs_the_stamp_and_the_binary(self):
        with builds.BuildCache(self.dir, keep=4, log=self.messages.append) as cache:
            self.make(cache, "done", 1)
            self.make(cache, "unfinished", 2, stamp=False)
            self.assertTrue(cache.cached("done"))
            self.assertFalse(cache.cached("unfinished"))
            self.assertFalse(cache.cached("absent"))
            # Only a finished build may seed a new one.
            self.assertEqual(cache._newest().name, "done")

    def test_prune_keeps_the_newest_and_those_in_use(self):
        with builds.BuildCache(self.dir, keep=3, log=self.messages.append) as cache:
            for age, key in enumerate(["oldest", "old", "middle", "new", "newest"]):
                self.make(cache, key, age)
            (cache.root / "x.partial").mkdir()
            cache.prune({"oldest"})
            left = sorted(p.name for p in cache.root.iterdir() if p.is_dir())
            # keep 3: the one in use and the two most recently used; partial copies are not builds.
            self.assertEqual(left, ["new", "newest", "oldest", "x.partial"])
            self.assertIn("perf-gate: removing old build middle", self.messages)

if __name__ == "__main__":
    unittest.main()
