"""Release builds of what the gate measures, at a commit, kept in a cache that outlives the run.

Three products, each with a build key: a hash of what it is made of at that commit
(its directories, the workspace's Cargo.toml and Cargo.lock, toolchain and cargo
config files, the rustc version):

- `notejam`: the server binary that ships (the wall-clock comparison runs it);
- `notejam-probe`: notejam's instruction-count scenarios (`notejam/benches/instructions.rs`);
- `njtui-probe`: the console's (`benches/instructions.rs`).

A commit that changes none of a product's inputs reuses its cached executable; a
console change never rebuilds notejam's probe, a docs change rebuilds nothing. Only
the executables are kept per key (`builds/<key>/`). Compiling happens in ONE source
tree (`src/`, filled with `git read-tree` into a private index, so a new commit
rewrites only the files it changes and cargo's mtime checks recompile only the
crates those files belong to) and ONE target directory (`target/`), both reused from
run to run: after the first build, a commit costs the crates it touches.
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
# Files outside a product's directories that change what cargo builds.
WORKSPACE_INPUTS = ("Cargo.toml", "Cargo.lock", "rust-toolchain", "rust-toolchain.toml", ".cargo/config.toml")


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


@dataclass(frozen=True)
class Product:
    name: str
    # Top-level directories it is built from, and names inside them it never reads.
    paths: tuple[str, ...]
    ignored: frozenset[str]
    cargo: tuple[str, ...]
    # The executable: a path under the target directory, or the artifact of a bench
    # target of this name (cargo names those with a hash).
    output: str | None = None
    bench: str | None = None
    # The directory whose absence means the commit predates the product.
    required: str = ""

    @property
    def executable_name(self) -> str:
        return self.name


# Parts of notejam/ that neither the server nor its probe is built from.
NOTEJAM_NOT_BUILT = frozenset({"tests", "bench", "deploy", "examples"})

PRODUCTS = {
    "notejam": Product(
        name="notejam",
        paths=("notejam",),
        ignored=NOTEJAM_NOT_BUILT | {"benches"},
        cargo=("build", "--release", "--locked", "-p", "notejam", "--bin", "notejam"),
        output="release/notejam",
        required="notejam",
    ),
    "notejam-probe": Product(
        name="notejam-probe",
        paths=("notejam", "perf"),
        ignored=NOTEJAM_NOT_BUILT,
        cargo=("bench", "--locked", "-p", "notejam", "--bench", "instructions", "--no-run"),
        bench="instructions",
        required="notejam/benches",
    ),
    "njtui-probe": Product(
        name="njtui-probe",
        paths=("src", "benches", "keymaps", "perf"),
        ignored=frozenset(),
        cargo=("bench", "--locked", "-p", "njtui", "--bench", "instructions", "--no-run"),
        bench="instructions",
        required="benches",
    ),
}
PROBES = ("notejam-probe", "njtui-probe")
# Probes whose steps wait on other threads (notejam's SQLite worker, argon2 on the
# blocking pool): their runs get the machine to themselves (see probes.py).
ALONE = frozenset({"notejam-probe"})
# Every scenario of a probe is named after its crate.
PROBE_PREFIX = {"notejam-probe": "notejam/", "njtui-probe": "njtui/"}


def git(repo: Path, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
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


def has_path(repo: Path, commit: Commit, path: str) -> bool:
    return git(repo, "rev-parse", "--verify", "--quiet", f"{commit.sha}:{path}", check=False).returncode == 0


def build_key(repo: Path, commit: Commit, rustc_version: str, product: Product | str = "notejam") -> str:
    product = PRODUCTS[product] if isinstance(product, str) else product
    if not has_path(repo, commit, product.required):
        if product.name == "notejam":
            raise BuildError(f"commit {commit.short} has no notejam/ directory: nothing to build")
        raise BuildError(f"commit {commit.short} has no {product.required}/: it predates the {product.name}")
    parts = [product.name, *product.cargo]
    for top in product.paths:
        listing = git(repo, "ls-tree", f"{commit.sha}:{top}", check=False)
        if listing.returncode != 0:
            parts.append(f"{top} -")
            continue
        for line in listing.stdout.splitlines():
            meta, _, name = line.partition("\t")
            if name not in product.ignored and not name.endswith(".md"):
                parts.append(f"{top}/{name} {meta}")
    parts.append(f"rustc {rustc_version}")
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
    """`root/builds/<key>/` holds one product's executable; `root/src` and
    `root/target` are where everything is compiled."""

    def __init__(self, root: Path, keep: int, log=None):
        self.root = root / "builds"
        self.src = root / "src"
        self.index = root / "src.index"
        self.target = root / "target"
        self.keep = keep
        self.log = log or (lambda message: print(message, file=sys.stderr))
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(root / "builds.lock", "w")

    def __enter__(self) -> BuildCache:
        # One gate at a time may build or prune; a second one waits here.
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        self._lock_file.close()

    def executable(self, key: str, product: Product) -> Path:
        return self.root / key / product.executable_name

    def cached(self, key: str, product: Product) -> bool:
        return (self.root / key / STAMP).is_file() and self.executable(key, product).is_file()

    def build(self, repo: Path, commit: Commit, key: str, product: Product | str, scratch: Path) -> Path:
        """The product's executable at `commit`, built if the cache lacks it."""
        product = PRODUCTS[product] if isinstance(product, str) else product
        entry = self.root / key
        if self.cached(key, product):
            self.log(f"perf-gate: {commit.short}: cached {product.name} {key}")
            os.utime(entry)
            return self.executable(key, product)
        self.log(f"perf-gate: {commit.short}: building {product.name} {key}")
        self.checkout(repo, commit)
        built = self._cargo(product, commit, scratch)
        partial = self.root / f"{key}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        shutil.copy2(built, partial / product.executable_name)
        (partial / STAMP).write_text(
            json.dumps({"key": key, "product": product.name, "commit": commit.sha,
                        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}) + "\n"
        )
        shutil.rmtree(entry, ignore_errors=True)
        # Renamed into place whole: an interrupted build never looks like one.
        partial.rename(entry)
        return self.executable(key, product)

    def checkout(self, repo: Path, commit: Commit) -> None:
        """Makes `src/` hold exactly `commit`'s files, rewriting only those that differ."""
        self.src.mkdir(parents=True, exist_ok=True)
        env = {"GIT_INDEX_FILE": str(self.index), "GIT_WORK_TREE": str(self.src)}
        if self.index.exists():
            # Refreshes the index's stat data, so files that match are left alone.
            git(repo, "--work-tree", str(self.src), "update-index", "-q", "--refresh", check=False, env=env)
        result = git(repo, "--work-tree", str(self.src), "read-tree", "--reset", "-u", commit.sha, check=False, env=env)
        if result.returncode != 0:
            # A damaged tree or index: start the tree afresh (one full rebuild of the workspace's crates).
            self.log(f"perf-gate: source tree unusable ({result.stderr.strip()}); checking out afresh")
            shutil.rmtree(self.src, ignore_errors=True)
            self.index.unlink(missing_ok=True)
            self.src.mkdir(parents=True)
            git(repo, "--work-tree", str(self.src), "read-tree", "--reset", "-u", commit.sha, env=env)
        (self.root.parent / "src.commit").write_text(commit.sha + "\n")

    def _cargo(self, product: Product, commit: Commit, scratch: Path) -> Path:
        log_path = scratch / f"cargo-{product.name}-{commit.short}.log"
        command = ["cargo", *product.cargo]
        if product.bench:
            command.append("--message-format=json-render-diagnostics")
        started = time.monotonic()
        with open(log_path, "w") as log:
            # Diagnostics (rendered) go to the log, whose tail is the error message;
            # cargo's JSON messages stay in memory, to find the bench's executable.
            result = subprocess.run(
                command,
                cwd=self.src,
                env={**os.environ, "CARGO_TARGET_DIR": str(self.target)},
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        if result.returncode != 0:
            tail = "\n".join(log_path.read_text(errors="replace").strip().splitlines()[-15:])
            raise BuildError(f"{commit.short}: {' '.join(command)} failed ({result.returncode}):\n{tail}")
        self.log(f"perf-gate: {commit.short}: built {product.name} in {time.monotonic() - started:.0f} s")
        if product.output:
            built = self.target / product.output
        else:
            built = bench_executable(result.stdout, product.bench)
        if built is None or not built.is_file():
            raise BuildError(f"{commit.short}: cargo succeeded but left no {product.name} executable")
        return built

    def _entries(self) -> list[Path]:
        return [p for p in self.root.iterdir() if p.is_dir() and not p.name.endswith(".partial")]

    def prune(self, in_use: set[str]) -> None:
        """Keeps the `keep` most recently used builds (and any in use); removes the rest."""
        entries = sorted(self._entries(), key=lambda p: p.stat().st_mtime, reverse=True)
        kept = 0
        for entry in entries:
            if entry.name in in_use:
                continue
            if kept < self.keep:
                kept += 1
                continue
            self.log(f"perf-gate: removing old build {entry.name}")
            shutil.rmtree(entry, ignore_errors=True)


def bench_executable(cargo_json: str, bench: str) -> Path | None:
    """The executable of bench target `bench` in cargo's `--message-format=json` lines."""
    found = None
    for line in cargo_json.splitlines():
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        target = message.get("target") or {}
        if (
            message.get("reason") == "compiler-artifact"
            and target.get("name") == bench
            and "bench" in target.get("kind", [])
            and message.get("executable")
        ):
            found = Path(message["executable"])
    return found
