"""Release builds of notejam at a commit, kept in a cache that outlives the run.

Each build has its own cargo target directory under the cache, keyed by what the
binary is made of at that commit: notejam/ (but its tests, bench, deploy, examples and
markdown), the workspace's Cargo.toml and
Cargo.lock, any toolchain or cargo config file, and the rustc version. A commit that
changes nothing of these (a console or docs change) reuses the previous build as is;
the same commit in a later run is never rebuilt. A new key starts from a copy of the
most recently used target directory, so only what changed compiles (notejam's own crate,
about a minute) instead of every dependency (about ten on two cores).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

STAMP = "perf-gate-build.json"
# Files outside notejam/ that change what `cargo build -p notejam` produces.
WORKSPACE_INPUTS = ("Cargo.toml", "Cargo.lock", "rust-toolchain", "rust-toolchain.toml", ".cargo/config.toml")
# Parts of notejam/ that `cargo build --bin notejam` never reads.
NOT_BUILT_INTO_THE_SERVER = {"tests", "bench", "deploy", "examples", "benches"}


class BuildError(RuntimeError):
    pass


class RevisionError(ValueError):
    pass


@dataclass(frozen=True)
class Commit:
    sha: str
    subject: str

    @property
    def short(self) -> str:
        return self.sha[:10]


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise BuildError(f"git {' '.join(args)}: {result.stderr.strip() or 'failed'}")
    return result


def resolve(repo: Path, revision: str) -> Commit:
    """The commit a revision names, with a specific message when it names none."""
    if not revision or revision.startswith("-"):
        raise RevisionError(f"{revision!r} is not a revision")
    found = git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}", check=False)
    if found.returncode != 0:
        hint = ""
        if git(repo, "rev-parse", "--is-shallow-repository", check=False).stdout.strip() == "true":
            hint = " (this clone is shallow: fetch more history, e.g. actions/checkout with fetch-depth: 0)"
        raise RevisionError(f"{revision!r} is not a commit of {repo}{hint}")
    sha = found.stdout.strip()
    subject = git(repo, "log", "-1", "--format=%s", sha).stdout.strip()
    return Commit(sha, subject)


def build_key(repo: Path, commit: Commit, rustc_version: str) -> str:
    listing = git(repo, "ls-tree", f"{commit.sha}:notejam", check=False)
    if listing.returncode != 0:
        raise BuildError(f"commit {commit.short} has no notejam/ directory: nothing to build")
    # Every entry of notejam/ but those the server binary is not built from.
    entries = []
    for line in listing.stdout.splitlines():
        meta, _, name = line.partition("\t")
        if name not in NOT_BUILT_INTO_THE_SERVER and not name.endswith(".md"):
            entries.append(f"{meta} {name}")
    parts = ["notejam", *entries, f"rustc {rustc_version}"]
    for path in WORKSPACE_INPUTS:
        blob = git(repo, "rev-parse", "--verify", "--quiet", f"{commit.sha}:{path}", check=False)
        parts.append(f"{path} {blob.stdout.strip() if blob.returncode == 0 else '-'}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def rustc_version() -> str:
    try:
        result = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        raise BuildError(f"rustc -vV failed: {error}") from None
    return " ".join(result.stdout.split())


class BuildCache:
    def __init__(self, root: Path, keep: int, log=None):
        self.root = root / "builds"
        self.keep = keep
        self.log = log or (lambda message: print(message, file=sys.stderr))
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.root / ".lock", "w")

    def __enter__(self) -> BuildCache:
        # One gate at a time may build or prune; a second one waits here.
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        self._lock_file.close()

    def binary(self, key: str) -> Path:
        return self.root / key / "release" / "notejam"

    def cached(self, key: str) -> bool:
        return (self.root / key / STAMP).is_file() and self.binary(key).is_file()

    def build(self, repo: Path, commit: Commit, key: str, scratch: Path) -> Path:
        """Returns the notejam binary for `commit`, building it if the cache lacks it."""
        target = self.root / key
        if self.cached(key):
            self.log(f"perf-gate: {commit.short}: cached build {key}")
            self._touch(target)
            return self.binary(key)
        if not target.exists():
            seed = self._newest()
            if seed is not None:
                self.log(f"perf-gate: {commit.short}: new build {key}, starting from {seed.name}")
                # Copied aside first: an interrupted copy must not look like a build. copy2
                # keeps modification times, which cargo's freshness checks compare.
                partial = self.root / f"{key}.partial"
                shutil.rmtree(partial, ignore_errors=True)
                shutil.copytree(seed, partial, symlinks=True, ignore=shutil.ignore_patterns(STAMP))
                partial.rename(target)
            else:
                self.log(f"perf-gate: {commit.short}: new build {key}, from scratch (several minutes)")
        worktree = scratch / f"worktree-{commit.short}"
        git(repo, "worktree", "add", "--detach", "--quiet", str(worktree), commit.sha)
        try:
            self._cargo(worktree, target, commit)
        finally:
            git(repo, "worktree", "remove", "--force", str(worktree), check=False)
            git(repo, "worktree", "prune", check=False)
        if not self.binary(key).is_file():
            raise BuildError(f"{commit.short}: cargo succeeded but {self.binary(key)} is missing")
        (target / STAMP).write_text(
            json.dumps({"key": key, "commit": commit.sha, "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
            + "\n"
        )
        return self.binary(key)

    def _cargo(self, worktree: Path, target: Path, commit: Commit) -> None:
        log_path = worktree.parent / f"cargo-{commit.short}.log"
        command = ["cargo", "build", "--release", "--locked", "-p", "notejam", "--bin", "notejam"]
        started = time.monotonic()
        with open(log_path, "w") as log:
            result = subprocess.run(
                command,
                cwd=worktree,
                env={**os.environ, "CARGO_TARGET_DIR": str(target)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if result.returncode != 0:
            tail = "\n".join(log_path.read_text(errors="replace").strip().splitlines()[-15:])
            raise BuildError(f"{commit.short}: {' '.join(command)} failed ({result.returncode}):\n{tail}")
        self.log(f"perf-gate: {commit.short}: built in {time.monotonic() - started:.0f} s")

    def _entries(self) -> list[Path]:
        return [p for p in self.root.iterdir() if p.is_dir() and not p.name.endswith(".partial")]

    def _newest(self) -> Path | None:
        done = [p for p in self._entries() if (p / STAMP).is_file()]
        return max(done, key=lambda p: p.stat().st_mtime, default=None)

    @staticmethod
    def _touch(path: Path) -> None:
        os.utime(path)

    def prune(self, in_use: set[str]) -> None:
        """Keeps the `keep` most recently used builds (and any in use); removes the rest."""
        entries = sorted(self._entries(), key=lambda p: p.stat().st_mtime, reverse=True)
        kept = 0
        for entry in entries:
            if entry.name in in_use:
                continue
            if kept < self.keep - len(in_use):
                kept += 1
                continue
            self.log(f"perf-gate: removing old build {entry.name}")
            shutil.rmtree(entry, ignore_errors=True)
