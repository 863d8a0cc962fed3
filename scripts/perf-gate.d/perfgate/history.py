"""Durable history of main: one record per commit, kept on a branch of the repository itself.

The branch (`perf-history`) holds one file, `history.jsonl`, one JSON object per line,
oldest first. A branch outlives any CI cache and any runner, needs no credentials but
the ones that push the code, and is read with plain git (`git show
origin/perf-history:history.jsonl`). It is written with git plumbing only (hash-object,
mktree, commit-tree, update-ref), so the working tree, the index and HEAD of the
repository the gate runs in are never touched. A CI job that runs again for the same
commit replaces that commit's record where it stands rather than adding a second one.
Two jobs that finish at once both push on top of what they fetched; the second is
rejected as not a fast-forward, fetches again and appends on the new tip (never a
force-push, so no record is ever lost).

Budget: a per-commit comparison passes ten commits that each cost 1% more. budget_check
compares a candidate with the lowest value of the figure over the recent history of
main instead, so the total is bounded; accepting a regression (a trailer or a label)
resets that baseline. Instruction counts are only comparable on the same CPU model and
toolchain, so both are filters.
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import changepoint
from .changepoint import ChangePoint

SCHEMA = "perf-gate/history/1"
BRANCH = "perf-history"
FILE = "history.jsonl"
VERDICTS = ("pass", "fail", "accepted")
ACCEPT_SOURCES = ("trailer", "label")
REQUIRED = ("schema", "commit", "parent", "subject", "committed", "recorded", "cpu", "toolchain", "figures",
            "verdict")
# Who the history's commits are by, unless GIT_AUTHOR_* / GIT_COMMITTER_* say otherwise:
# CI runners usually have no identity configured, and commit-tree refuses to work without one.
IDENTITY = ("-c", "user.name=perf-gate", "-c", "user.email=perf-gate@localhost")
HEX = frozenset("0123456789abcdef")


class HistoryError(Exception):
    pass


# --- records ---------------------------------------------------------------------------


def _is_commit_id(value: object) -> bool:
    return isinstance(value, str) and len(value) in (40, 64) and set(value) <= HEX


def _is_time(value: object) -> bool:
    """An ISO 8601 time with its zone ("2026-12-06T13:00:00Z")."""
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _is_text(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def validate(record: object, where: str) -> dict:
    """The record itself when it is a well-formed history record; HistoryError naming `where` otherwise."""
    if not isinstance(record, dict):
        raise HistoryError(f"{where}: not a JSON object")
    if record.get("schema") != SCHEMA:
        raise HistoryError(f"{where}: schema is {record.get('schema')!r}, not {SCHEMA!r}")
    missing = [key for key in REQUIRED if key not in record]
    if missing:
        raise HistoryError(f"{where}: no {', '.join(repr(key) for key in missing)}")
    if not _is_commit_id(record["commit"]):
        raise HistoryError(f"{where}: commit {record['commit']!r} is not a full commit id (40 lowercase hex digits)")
    if record["parent"] is not None and not _is_commit_id(record["parent"]):
        raise HistoryError(f"{where}: parent {record['parent']!r} is neither a full commit id nor null")
    if not isinstance(record["subject"], str):
        raise HistoryError(f"{where}: subject is not a string")
    for key in ("committed", "recorded"):
        if not _is_time(record[key]):
            raise HistoryError(f"{where}: {key} {record[key]!r} is not an ISO 8601 time with a zone")
    for key in ("cpu", "toolchain"):
        if not _is_text(record[key]):
            raise HistoryError(f"{where}: {key} is not a non-empty string")
    _check_figures(record["figures"], where)
    _check_advisory(record.get("advisory", {}), where)
    if record["verdict"] not in VERDICTS:
        raise HistoryError(f"{where}: verdict {record['verdict']!r} is not one of {', '.join(VERDICTS)}")
    _check_accepted(record.get("accepted"), where)
    if record["verdict"] == "accepted" and record.get("accepted") is None:
        raise HistoryError(f"{where}: verdict 'accepted' but no acceptance (accepted is null)")
    if not isinstance(record.get("ci", {}), dict):
        raise HistoryError(f"{where}: ci is not an object")
    return record


def _check_figures(figures: object, where: str) -> None:
    if not isinstance(figures, dict) or not figures:
        raise HistoryError(f"{where}: figures is not a non-empty object")
    for name, value in figures.items():
        if not _is_text(name):
            raise HistoryError(f"{where}: a figure has an empty name")
        if not _is_count(value):
            raise HistoryError(f"{where}: figure {name!r} is not a non-negative integer ({value!r})")


def _check_advisory(advisory: object, where: str) -> None:
    if not isinstance(advisory, dict):
        raise HistoryError(f"{where}: advisory is not an object")
    for name, value in advisory.items():
        if not _is_number(value):
            raise HistoryError(f"{where}: advisory figure {name!r} is not a finite number ({value!r})")


def _check_accepted(accepted: object, where: str) -> None:
    if accepted is None:
        return
    if not isinstance(accepted, dict):
        raise HistoryError(f"{where}: accepted is neither null nor an object")
    if not _is_text(accepted.get("reason")):
        raise HistoryError(f"{where}: accepted has no reason")
    if accepted.get("source") not in ACCEPT_SOURCES:
        raise HistoryError(f"{where}: accepted source {accepted.get('source')!r} is not one of "
                           f"{', '.join(ACCEPT_SOURCES)}")
    figures = accepted.get("figures")
    if not isinstance(figures, list) or not figures or not all(_is_text(f) for f in figures):
        raise HistoryError(f"{where}: accepted figures is not a non-empty list of names (or [\"*\"])")


def dumps(record: dict) -> str:
    """One record as one line of JSON Lines: sorted keys, no spaces, ending with a newline."""
    validate(record, f"the record for {str(record.get('commit'))[:10] if isinstance(record, dict) else '?'}")
    # Non-ASCII stays readable; json escapes every control character, so the line never breaks.
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n"


def _entries(text: str, origin: str) -> list[tuple[str, dict]]:
    """(line, record) for each non-blank line, validated; one record per commit."""
    entries: list[tuple[str, dict]] = []
    first_line: dict[str, int] = {}
    # split("\n"), not splitlines(): U+2028 and friends may stand unescaped inside a JSON string.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{origin}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise HistoryError(f"{where}: not JSON ({error.msg} at column {error.colno})") from None
        validate(record, where)
        commit = record["commit"]
        if commit in first_line:
            raise HistoryError(f"{where}: a second record for commit {commit[:10]} (the first is on line "
                               f"{first_line[commit]})")
        first_line[commit] = number
        entries.append((line, record))
    return entries


def parse(text: str, origin: str) -> list[dict]:
    """The records of a history file's text; `origin` names it in errors ("perf-history:history.jsonl")."""
    return [record for _, record in _entries(text, origin)]


# --- git -------------------------------------------------------------------------------


def _git(repo: Path, *args: str, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
    # C locale: push's and update-ref's messages are read below; no prompt for credentials in CI.
    env = {**os.environ, "LC_ALL": "C", "LANGUAGE": "", "GIT_TERMINAL_PROMPT": "0"}
    try:
        result = subprocess.run(["git", "-C", str(repo), *args], input=input, capture_output=True, env=env)
    except OSError as error:
        raise HistoryError(f"cannot run git: {error}") from None
    if check and result.returncode != 0:
        command = " ".join(a for a in args if a not in IDENTITY)
        raise HistoryError(f"git {command} in {repo}: {_text(result.stderr) or 'failed'}")
    return result


def _text(output: bytes) -> str:
    return output.decode("utf-8", "replace").strip()


def _check_repository(repo: Path) -> None:
    _git(repo, "rev-parse", "--git-dir")


def _resolve(repo: Path, revision: str) -> str | None:
    """The commit a revision names, or None when it names none."""
    if not revision or revision.startswith("-"):
        raise HistoryError(f"{revision!r} is not a revision")
    found = _git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}", check=False)
    return _text(found.stdout) if found.returncode == 0 else None


def _history_text(repo: Path, commit: str, origin: str) -> str | None:
    """history.jsonl at a commit, or None when that commit has no such file."""
    listing = _text(_git(repo, "ls-tree", commit, "--", FILE).stdout)
    if not listing:
        return None
    meta, _, _ = listing.partition("\t")
    _mode, kind, blob = meta.split()
    if kind != "blob":
        raise HistoryError(f"{origin}: is a {kind}, not a file")
    try:
        return _git(repo, "cat-file", "blob", blob).stdout.decode("utf-8")
    except UnicodeDecodeError as error:
        raise HistoryError(f"{origin}: not UTF-8 (byte {error.start})") from None


def read_branch(repo: Path, ref: str = BRANCH) -> list[dict]:
    """The records at `ref` (a branch, "origin/perf-history", any revision); [] when it or the file is missing."""
    _check_repository(repo)
    commit = _resolve(repo, ref)
    if commit is None:
        return []
    origin = f"{ref}:{FILE}"
    text = _history_text(repo, commit, origin)
    return [] if text is None else parse(text, origin)


def _checked_out_in(repo: Path, ref: str) -> str | None:
    """The worktree that has `ref` checked out, if any: moving it would leave that tree behind."""
    listing = _text(_git(repo, "worktree", "list", "--porcelain").stdout)
    path = None
    for line in listing.splitlines():
        if line.startswith("worktree "):
            path = line[len("worktree "):]
        elif line == f"branch {ref}":
            return path
    return None


def _new_commit(repo: Path, base: str | None, record: dict, branch: str) -> str:
    """A commit on top of `base` (or a root) whose history.jsonl has `record`; `base` itself if it had it already."""
    origin = f"{branch}:{FILE}" if base is None else f"{branch}@{base[:10]}:{FILE}"
    text = (_history_text(repo, base, origin) if base is not None else None) or ""
    entries = _entries(text, origin)
    lines = [line for line, _ in entries]
    commits = [r["commit"] for _, r in entries]
    line = dumps(record).rstrip("\n")
    replaced = record["commit"] in commits
    if replaced:
        lines[commits.index(record["commit"])] = line
    else:
        lines.append(line)
    new_text = "".join(f"{line}\n" for line in lines)
    if base is not None and new_text == text:
        return base
    blob = _text(_git(repo, "hash-object", "-w", "--stdin", input=new_text.encode("utf-8")).stdout)
    tree = _tree_with(repo, base, blob)
    message = f"perf-history: {record['commit'][:10]} {record['verdict']}"
    if replaced:
        message += " (again: replaces its earlier record)"
    parents = ["-p", base] if base is not None else []
    return _text(_git(repo, *IDENTITY, "commit-tree", "--no-gpg-sign", tree, *parents, "-m", message).stdout)


def _tree_with(repo: Path, base: str | None, blob: str) -> str:
    """The tree of `base` (other files kept) with history.jsonl set to `blob`."""
    entries = []
    if base is not None:
        listing = _git(repo, "ls-tree", "-z", base).stdout.decode("utf-8", "surrogateescape")
        entries = [e for e in listing.split("\0") if e and e.partition("\t")[2] != FILE]
    entries.append(f"100644 blob {blob}\t{FILE}")
    made = _git(repo, "mktree", "-z", input="".join(f"{e}\0" for e in entries).encode("utf-8", "surrogateescape"))
    return _text(made.stdout)


def _update_ref(repo: Path, ref: str, new: str, old: str | None) -> str | None:
    """Moves `ref` from `old` (None: must not exist yet) to `new`; None on success, else why not."""
    expected = old if old is not None else "0" * len(new)
    result = _git(repo, "update-ref", "-m", "perf-gate: history", ref, new, expected, check=False)
    return None if result.returncode == 0 else _text(result.stderr) or "update-ref failed"


def _configured_remotes(repo: Path) -> set[str]:
    return set(_text(_git(repo, "remote").stdout).split())


def _fetch(repo: Path, remote: str, branch: str) -> str | None:
    """The remote branch's tip, fetched; None when the remote has no such branch yet."""
    head = f"refs/heads/{branch}"
    listed = _git(repo, "ls-remote", "--exit-code", remote, head, check=False)
    if listed.returncode == 2:
        return None
    if listed.returncode != 0:
        raise HistoryError(f"cannot read {head} of {remote}: {_text(listed.stderr) or 'ls-remote failed'}")
    if remote in _configured_remotes(repo):
        # Also keeps the remote-tracking branch current, for read_branch(repo, "origin/perf-history").
        tracking = f"refs/remotes/{remote}/{branch}"
        _git(repo, "fetch", "--quiet", "--no-tags", remote, f"+{head}:{tracking}")
        return _resolve(repo, tracking)
    _git(repo, "fetch", "--quiet", "--no-tags", remote, head)
    return _resolve(repo, "FETCH_HEAD")


# Why a push was refused that another push explains: fetching again and redoing the append fixes it.
RACE_REASONS = ("fetch first", "non-fast-forward", "stale info", "cannot lock", "failed to lock",
                "failed to update ref", "incorrect old value")


def _push(repo: Path, remote: str, branch: str, new: str) -> str | None:
    """Pushes `new` to the remote branch, never forcing; None on success, else why it lost a race.

    Any other refusal (a protected branch, no permission, no network) raises HistoryError.
    """
    result = _git(repo, "push", "--porcelain", "--no-verify", remote, f"{new}:refs/heads/{branch}", check=False)
    if result.returncode == 0:
        return None
    rejected = [line for line in _text(result.stdout).splitlines() if line.startswith("!")]
    reason = rejected[0].split("\t")[-1] if rejected else ""
    if rejected and any(word in reason for word in RACE_REASONS):
        return reason
    raise HistoryError(f"git push {remote} {branch}: {reason or _text(result.stderr) or 'failed'}")


def _mirror(repo: Path, ref: str, new: str) -> None:
    """Moves the local branch to what was pushed when that loses nothing (absent, or behind)."""
    local = _resolve(repo, ref)
    if local == new:
        return
    if local is not None and _git(repo, "merge-base", "--is-ancestor", local, new, check=False).returncode != 0:
        return
    _update_ref(repo, ref, new, local)


def _pause(attempt: int) -> None:
    """A short random wait before trying again, so that two racing jobs do not collide again in step."""
    time.sleep(random.uniform(0, min(2.0, 0.1 * 2 ** attempt)))


def append_to_branch(repo: Path, record: dict, branch: str = BRANCH, remote: str | None = None,
                     attempts: int = 5) -> str:
    """Appends (or, for a commit already recorded, replaces) one record on `branch`; returns its new tip.

    With `remote`, the remote's branch is the one that counts: fetched, appended to,
    pushed without force, and the whole done again on the new tip when another job
    pushed first, up to `attempts` times. The local branch then follows when it can
    without losing anything. A record identical to the one already there makes no commit.
    """
    where = f"the record for {str(record.get('commit'))[:10]}" if isinstance(record, dict) else "the record"
    validate(record, where)
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")
    _check_repository(repo)
    ref = f"refs/heads/{branch}"
    if _git(repo, "check-ref-format", ref, check=False).returncode != 0:
        raise HistoryError(f"{branch!r} is not a valid branch name")
    worktree = _checked_out_in(repo, ref)
    if worktree is not None:
        raise HistoryError(f"{branch} is checked out in {worktree}: appending would leave that working tree "
                           "behind; check out another branch there first")
    why = ""
    for attempt in range(1, attempts + 1):
        base = _resolve(repo, ref) if remote is None else _fetch(repo, remote, branch)
        new = _new_commit(repo, base, record, branch)
        if remote is None:
            why = _update_ref(repo, ref, new, base) if new != base else None
        else:
            why = _push(repo, remote, branch, new) if new != base else None
            if why is None:
                _mirror(repo, ref, new)
        if why is None:
            return new
        if attempt < attempts:
            _pause(attempt)
    target = f"{remote} {branch}" if remote is not None else branch
    raise HistoryError(f"could not add the record for {record['commit'][:10]} to {target}: {attempts} attempt(s), "
                       f"each time someone else wrote it first (last: {why}); run the job again")


# --- series and budget -----------------------------------------------------------------


def _matches(record: dict, figure: str, cpu: str | None, toolchain: str | None) -> bool:
    return (figure in record.get("figures", {})
            and (cpu is None or record.get("cpu") == cpu)
            and (toolchain is None or record.get("toolchain") == toolchain))


def series(records: list[dict], figure: str, cpu: str | None = None,
           toolchain: str | None = None) -> list[tuple[str, float]]:
    """(commit, value) of one figure in history order, from the records on that CPU model and toolchain."""
    return [(r["commit"], float(r["figures"][figure])) for r in records if _matches(r, figure, cpu, toolchain)]


def covers(record: dict, figure: str) -> bool:
    """Whether the record accepted a change of this figure (by name, or all of them with "*")."""
    accepted = record.get("accepted")
    return isinstance(accepted, dict) and any(f in ("*", figure) for f in accepted.get("figures", ()))


def _short(commit: str) -> str:
    return commit[:10] if _is_commit_id(commit) else commit


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) or abs(value) >= 1000 else f"{value:,.4g}"


@dataclass(frozen=True)
class BudgetResult:
    figure: str
    candidate: float
    budget: float  # the largest rise tolerated over the reference, a fraction
    reference: tuple[float, str] | None  # (value, commit): the lowest of the window; None: nothing to compare
    change: float | None  # candidate / reference - 1
    exceeded: bool  # change > budget
    drift: ChangePoint | None  # the change of the series that started the rise, when one is found
    compared: int  # how many records the reference was the lowest of
    window: int  # the most it could have been
    accepted_at: str | None  # the commit whose acceptance last reset the baseline, if any

    def reason(self) -> str:
        """One line for the report, e.g. "notejam/sign_in: 12,900,000 is +3.5% over ... drift started at ..."."""
        if self.reference is None:
            return f"{self.figure}: no earlier record on this CPU and toolchain to hold it to the budget"
        value, commit = self.reference
        if self.accepted_at is not None and self.compared < self.window:
            scope = f"the {self.compared} main commit(s) since {_short(self.accepted_at)} was accepted"
        else:
            scope = f"the last {self.compared} main commit(s)"
        line = (f"{self.figure}: {_number(self.candidate)} is {self.change * 100:+.1f}% over the lowest of {scope} "
                f"({_number(value)} at {_short(commit)}), "
                f"{'beyond' if self.exceeded else 'within'} the {self.budget * 100:g}% budget")
        if self.drift is not None:
            line += f"; drift started at {_short(self.drift.label)} ({self.drift.describe()})"
        return line


def budget_check(records: list[dict], figure: str, candidate_value: float, budget: float = 0.03,
                 window: int = 50, cpu: str | None = None, toolchain: str | None = None, *,
                 candidate_commit: str | None = None, min_change: float | None = None) -> BudgetResult:
    """Holds a candidate's figure to `budget` over the lowest value of recent main history.

    The reference is the lowest value among the last `window` matching records (same
    CPU model and toolchain when given) at or after the most recent record whose
    acceptance covers this figure, that record's own value included: accepting resets
    the baseline. The acceptance counts whatever CPU its record was measured on (it is
    about the code). Records of `candidate_commit` itself (an earlier run of the same
    job) are left out. `drift` is the rise detect() finds after the reference, the
    candidate counted as the newest point, with changes of min_change (default: half
    the budget) and up.
    """
    if not _is_number(candidate_value) or candidate_value < 0:
        raise ValueError(f"{figure}: candidate {candidate_value!r} is not a non-negative number")
    if not budget > 0 or window < 1:
        raise ValueError(f"budget must be > 0 and window >= 1 (got {budget}, {window})")
    eligible = [(i, r) for i, r in enumerate(records) if r.get("commit") != candidate_commit]
    accepted = [i for i, r in eligible if covers(r, figure)]
    since = accepted[-1] if accepted else None
    pool = [r for i, r in eligible if _matches(r, figure, cpu, toolchain) and (since is None or i >= since)][-window:]
    accepted_at = records[since]["commit"] if since is not None else None
    if not pool:
        return BudgetResult(figure, float(candidate_value), budget, None, None, False, None, 0, window, accepted_at)
    values = [float(r["figures"][figure]) for r in pool]
    commits = [r["commit"] for r in pool]
    lowest = min(range(len(values)), key=lambda k: (values[k], -k))  # the most recent of equal lowest
    reference = values[lowest]
    if reference > 0:
        change = candidate_value / reference - 1
    else:
        change = math.inf if candidate_value > 0 else 0.0
    drift = None
    if change > 0 and reference > 0 and candidate_value > 0:
        drift = _rise(values + [float(candidate_value)], commits + [candidate_commit or "candidate"], lowest,
                      min_change if min_change is not None else budget / 2)
    return BudgetResult(figure, float(candidate_value), budget, (reference, commits[lowest]), change,
                        change > budget, drift, len(pool), window, accepted_at)


def _rise(values: list[float], labels: list[str], reference: int, min_change: float) -> ChangePoint | None:
    """The first upward change that ends after the reference point, if the series shows one."""
    if any(v <= 0 for v in values):
        return None
    for change in changepoint.detect(values, labels, min_change=min_change):
        if change.change > 0 and change.end > reference:
            return change
    return None
