"""The delivery pipeline's safety rules, read from .github/workflows/*.yml.

Each workflow a trigger can start (push, pull_request, workflow_dispatch, ...) is
expanded through the local reusable workflows it calls, with the caller's `with:`
values (or the inputs' defaults) put in for `inputs.*`, so a rule sees every job as
it will run, with each concurrency group it holds: its own, its callers', and the
workflow-wide ones of the workflows on the way. Group names are compared as they
evaluate for a run on refs/heads/main, across all the workflows. The rules
(docs/pipeline.md says why each exists):

  permissions    a workflow's own permissions grant no write: a job that needs more
                 asks for it (least privilege per job)
  main-only      a job in a GitHub environment runs only for refs/heads/main: its
                 `if:` or a caller's has `github.ref == 'refs/heads/main'` as a
                 top-level `&&` term (under no `!` and no `||`)
  no-halfway     a job in an environment is in a concurrency group (its own or a
                 caller's) that never cancels it halfway
  no-spanning    a workflow with jobs in environments has no workflow-wide concurrency,
                 and no group, in any of the workflows, holds jobs of two environments
                 (an environment and its infra-<env> count as one): one waiting for
                 its approval would hold up the other
  exclusion      on main, an apply of an environment's root and a deployment to that
                 environment share a group, whichever workflows run them, and so do
                 two applies of one root from plan to apply (a saved plan must not go
                 stale under another run's apply); no such job's group names the run
                 (github.run_id, run_number, run_attempt, sha): it would exclude nothing
  one-workflow   the Terraform applies and the deployments that run unattended on
                 main (push, schedule, workflow_run, repository_dispatch) are all in
                 one workflow, so they can be ordered
  order          in it, for each environment in PROMOTION: the app's deployment
                 comes after the apply of provision/global and of the environment's
                 root, and an environment's apply and deployment come after the
                 deployment to the environment before it; and in every workflow a job
                 that applies or deploys after an apply or a deployment, with
                 always()/failure()/cancelled() in its `if:`, requires
                 `needs.<job>.result == 'success'` of the job it waits for
  fresh          a job that applies or deploys first runs scripts/fresh, in that job
                 and unconditionally: groups are taken in the order jobs get ready,
                 and re-runs take them again, so an older commit could replace a
                 newer one
  built-once     one job, in all the workflows, builds the release bundle
  credentials    AWS credentials a job asks for (configure-aws-credentials'
                 role-duration-seconds, 3600 unless set) last as long as the job
                 may run (timeout-minutes): a rollback at its end must not find
                 them expired
  oidc-no-build  a job that may ask for an OIDC token (`id-token: write`: AWS roles,
                 signatures) builds nothing: build scripts, proc macros and installed
                 tools are third-party code, which must not reach the token; it runs
                 no build command and uses no action but those of OIDC_SAFE_ACTIONS

Usage: python3 pipeline_policy.py WORKFLOW.yml...   (scripts/check-workflows runs it)
Exit status: 0 clean, 1 findings, 2 a workflow it cannot read.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from typing import NamedTuple

import yaml

# The environments a commit is promoted through, in order.
PROMOTION = ("staging", "prod")
GLOBAL_ROOT = "global"
MAIN_REF = "refs/heads/main"

TERRAFORM_APPLY = re.compile(r"\bterraform\b[^\n]*\sapply\b")
DEPLOY = re.compile(r"\bcodedeploy\s+deploy\b|\baws\s+deploy\s+create-deployment\b")
FRESH = re.compile(r"(?:^|[\s/])scripts/fresh\s")
BUILD_BUNDLE = re.compile(r"\bbuild-bundle\b")
BUILDS = re.compile(r"\b(?:cargo|rustc|npm|npx|yarn|make|pip3?)\b|\bbuild-bundle\b|\bpython3? -m pip\b")
ROOT_DIR = re.compile(r"provision/(?:envs/([A-Za-z0-9_-]+)|(global))\b")
# Differs from run to run, so a group naming it never excludes another run.
PER_RUN = re.compile(r"\bgithub\.(?:run_id|run_number|run_attempt|sha)\b", re.I)
# Events that start a run on main's code with nobody choosing to (like a push).
UNATTENDED = ("schedule", "workflow_run", "repository_dispatch")
# Events whose runs are never on refs/heads/main (their ref is refs/pull/N/merge).
NOT_ON_MAIN = ("pull_request", "workflow_call")

# The actions a job with an OIDC token may use: each runs only its own (pinned) code
# and none of the repository's or of a package registry's.
OIDC_SAFE_ACTIONS = {
    "actions/checkout": "fetches the repository's files; runs none of them",
    "actions/download-artifact": "moves bytes another job made; runs none of them",
    "actions/upload-artifact": "moves bytes; runs none of them",
    "aws-actions/configure-aws-credentials": "exchanges the token for the role: why the job has it",
    "hashicorp/setup-terraform": "installs HashiCorp's signed release of the one tool an apply runs",
    "actions/attest-build-provenance": "signs with the token: why the job has it",
}
# Not in it, though the workflows use it elsewhere: actions/cache, whose restored
# files (built by any branch's job) an OIDC job would then run.


# -- GitHub expressions (`if:`, `${{ }}`): just enough of them to tell which terms
# a condition cannot run without, and what a group's name is on main.


class ExpressionError(Exception):
    pass


class UnknownType:
    """A value the checker cannot know before the run (a step's output, vars.*, ...)."""

    def __repr__(self):
        return "UNKNOWN"


UNKNOWN = UnknownType()


class OneOf(frozenset):
    """A value known to be one of a few (the events that can start a run on main)."""


def options(value) -> frozenset:
    return value if isinstance(value, OneOf) else frozenset([value])


def decided(results: set):
    return next(iter(results)) if len(results) == 1 else UNKNOWN
TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<name>[A-Za-z_][A-Za-z0-9_-]*)"
                   r"|(?P<number>[0-9]+(?:\.[0-9]+)?)|(?P<op>&&|\|\||==|!=|<=|>=|[()<>!,.\[\]*]))")
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
STATUS_FUNCTIONS = ("always", "failure", "cancelled")
TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def tokenize(text: str) -> list:
    tokens, at = [], 0
    while text[at:].strip():
        found = TOKEN.match(text, at)
        if not found:
            raise ExpressionError(f"cannot read {text[at:].strip()[:20]!r} (strings take single quotes)")
        kind = found.lastgroup
        tokens.append((kind, found[kind]))
        at = found.end()
    return tokens


class Parser:
    """Recursive descent, in the precedence order of GitHub's docs: `!`, then the
    comparisons, then `&&`, then `||`. Trees are tuples: ('lit', value),
    ('ctx', parts), ('call', name, args), ('not', x), ('and', xs), ('or', xs),
    ('cmp', op, left, right)."""

    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.at = 0

    def peek(self):
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def take(self, expected=None):
        if self.at >= len(self.tokens):
            raise ExpressionError(f"ends where {expected or 'more'} should follow")
        kind, value = self.tokens[self.at]
        if expected is not None and value != expected:
            raise ExpressionError(f"{value!r} where {expected!r} should be")
        self.at += 1
        return kind, value

    def parse(self):
        tree = self.either()
        if self.peek() is not None:
            raise ExpressionError(f"{self.peek()!r} after a complete expression")
        return tree

    def joined(self, operator: str, kind: str, operand):
        """OPERAND (OPERATOR OPERAND)*, as one (KIND, terms) node when there are two or more."""
        terms = [operand()]
        while self.peek() == operator:
            self.take()
            terms.append(operand())
        return terms[0] if len(terms) == 1 else (kind, terms)

    def either(self):
        return self.joined("||", "or", self.both)

    def both(self):
        return self.joined("&&", "and", self.comparison)

    def comparison(self):
        left = self.unary()
        while self.peek() in COMPARISONS:
            op = self.take()[1]
            left = ("cmp", op, left, self.unary())
        return left

    def unary(self):
        if self.peek() == "!":
            self.take()
            return ("not", self.unary())
        return self.postfix()

    def postfix(self):
        tree = self.primary()
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                kind, part = self.take()
                if kind != "name" and part != "*":
                    raise ExpressionError(f"{part!r} after '.'")
            else:
                index = self.either()
                self.take("]")
                part = index[1] if index[0] == "lit" and isinstance(index[1], str) else "?"
            # Only a context's properties are followed; anything else is opaque.
            tree = ("ctx", tree[1] + [part.lower()]) if tree[0] == "ctx" else ("opaque",)
        return tree

    def primary(self):
        kind, value = self.take()
        if kind == "string":
            return ("lit", value[1:-1].replace("''", "'"))
        if kind == "number":
            return ("lit", float(value))
        if value == "(":
            tree = self.either()
            self.take(")")
            return tree
        if kind != "name":
            raise ExpressionError(f"{value!r} where a value should be")
        if value in ("true", "false", "null"):
            return ("lit", {"true": True, "false": False, "null": None}[value])
        if self.peek() == "(":
            self.take()
            args = []
            while self.peek() != ")":
                args.append(self.either())
                if self.peek() != ")":
                    self.take(",")
            self.take(")")
            return ("call", value.lower(), args)
        return ("ctx", [value.lower()])


def condition_text(value) -> str:
    """An `if:` as the expression it is: YAML booleans as literals, `${{ }}` unwrapped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = "" if value is None else str(value).strip()
    whole = re.fullmatch(r"\$\{\{(.*)\}\}", text, re.S)
    return whole[1].strip() if whole and "${{" not in whole[1] else text


def parse_condition(value):
    """The tree of an `if:`, None for no condition; ExpressionError when unreadable."""
    text = condition_text(value)
    return Parser(text).parse() if text else None


def conjuncts(tree, scope=None) -> list:
    """The terms a condition cannot be true without: its top-level `&&` terms. With a
    SCOPE, a `||` whose other sides are false there counts as its one live side."""
    if tree is None:
        return []
    if tree[0] == "and":
        return [term for part in tree[1] for term in conjuncts(part, scope)]
    if tree[0] == "or" and scope is not None:
        live = [part for part in tree[1] if truthy(evaluate(part, scope)) is not False]
        if len(live) == 1:
            return conjuncts(live[0], scope)
    return [tree]


def calls(tree) -> set:
    """The names of the functions a tree calls, anywhere in it."""
    if not isinstance(tree, tuple):
        return set()
    found = {tree[1]} if tree[0] == "call" else set()
    for part in tree[1:]:
        for child in part if isinstance(part, list) else [part]:
            found |= calls(child)
    return found


def is_equality(tree, path: list, literal: str) -> bool:
    """TREE is `PATH == 'LITERAL'`, in either order."""
    if tree[0] != "cmp" or tree[1] != "==":
        return False
    sides = [tree[2], tree[3]]
    return ("ctx", path) in sides and any(s[0] == "lit" and s[1] == literal for s in sides)


def truthy(value):
    """Actions' truthiness; None when the value is unknown."""
    if value is UNKNOWN:
        return None
    if isinstance(value, OneOf):
        each = decided({truthy(v) for v in value})
        return None if each is UNKNOWN else each
    return value not in (False, 0, "", None) and value == value  # NaN is false


def as_number(value):
    if isinstance(value, str):
        try:
            return float(value.strip() or 0)
        except ValueError:
            return float("nan")
    return float(value or 0)


def equal(left, right) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()  # Actions compares strings ignoring case
    if left is None or right is None:
        return left is right
    return as_number(left) == as_number(right)


def format_function(template, args) -> str:
    def place(found):
        if found[0] in ("{{", "}}"):
            return found[0][0]
        index = int(found[1])
        if index >= len(args):
            raise ExpressionError(f"format() has no argument {{{index}}}")
        return as_text(args[index])
    return re.sub(r"\{\{|\}\}|\{(\d+)\}", place, as_text(template))


FUNCTIONS = {
    "format": lambda template, *args: format_function(template, args),
    "startswith": lambda text, start: as_text(text).lower().startswith(as_text(start).lower()),
    "endswith": lambda text, end: as_text(text).lower().endswith(as_text(end).lower()),
    "contains": lambda whole, part: as_text(part).lower() in as_text(whole).lower(),
}


def evaluate(tree, scope: dict):
    """TREE's value in SCOPE (dotted context paths -> values), UNKNOWN where it depends
    on what only the run knows."""
    kind = tree[0]
    if kind == "lit":
        return tree[1]
    if kind == "ctx":
        return lookup(scope, tree[1])
    if kind == "not":
        value = truthy(evaluate(tree[1], scope))
        return UNKNOWN if value is None else not value
    if kind in ("and", "or"):
        value = None
        for part in tree[1]:
            value = evaluate(part, scope)
            outcome = truthy(value)
            if outcome is None:
                return UNKNOWN
            # && stops at the first false term, || at the first true one.
            if outcome is (kind == "or"):
                return value
        return value
    if kind == "cmp":
        left, right = evaluate(tree[2], scope), evaluate(tree[3], scope)
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        return decided({compare(tree[1], a, b) for a in options(left) for b in options(right)})
    if kind == "call":
        args = [evaluate(arg, scope) for arg in tree[2]]
        if tree[1] not in FUNCTIONS or any(a is UNKNOWN or isinstance(a, OneOf) for a in args):
            return UNKNOWN
        try:
            return FUNCTIONS[tree[1]](*args)
        except (TypeError, ExpressionError):
            return UNKNOWN  # the run fails on it; no name or condition to know
    return UNKNOWN


def compare(op: str, left, right) -> bool:
    if op in ("==", "!="):
        return equal(left, right) == (op == "==")
    a, b = as_number(left), as_number(right)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def lookup(scope: dict, parts: list):
    # The longest known prefix decides: a property of null is null, of anything
    # else the checker does not know.
    for size in range(len(parts), 0, -1):
        key = ".".join(parts[:size])
        if key in scope:
            value = scope[key]
            if size == len(parts):
                return value
            return None if value is None else UNKNOWN
    return UNKNOWN


def as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return str(value)


def interpolate(text, scope: dict) -> str:
    """TEXT with each `${{ }}` put in as SCOPE has it; one it cannot tell (or read)
    stays as written."""
    def value_of(found):
        try:
            value = evaluate(Parser(found[1]).parse(), scope)
        except ExpressionError:
            return found[0]
        return found[0] if value is UNKNOWN or isinstance(value, OneOf) else as_text(value)
    return TEMPLATE.sub(value_of, as_text(text))


# -- reading workflows that may be odd but valid YAML


class Unreadable(Exception):
    pass


def mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def jobs_of(workflow: dict) -> dict:
    return {str(job_id): mapping(job) for job_id, job in mapping(workflow.get("jobs")).items()}


def steps_of(job: dict) -> list:
    return [step for step in as_list(job.get("steps")) if isinstance(step, dict)]


def needs_of(job: dict) -> list:
    return [str(need) for need in as_list(job.get("needs"))]


def load(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as text:
            data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as error:
        raise Unreadable(f"{path}: {error}") from error
    if not isinstance(data, dict):
        raise Unreadable(f"{path}: not a workflow (no mapping at the top)")
    return data


def triggers(workflow: dict) -> dict:
    # YAML 1.1 reads a bare `on` as true.
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {str(event): None for event in on}
    return {str(event): value for event, value in mapping(on).items()}


def input_defaults(workflow: dict) -> dict:
    declared = mapping(mapping(triggers(workflow).get("workflow_call")).get("inputs"))
    return {str(name).lower(): mapping(spec)["default"] for name, spec in declared.items()
            if "default" in mapping(spec)}


def main_scope(workflow: dict, inputs: dict) -> dict:
    """What a run of WORKFLOW (the entry one) on refs/heads/main knows beforehand, and
    the INPUTS of the workflow a job is in (those a caller passed as text it could not
    tell stay unknown)."""
    events = [e for e in triggers(workflow) if e not in NOT_ON_MAIN]
    scope = {
        "github.ref": MAIN_REF, "github.ref_name": "main", "github.head_ref": "", "github.base_ref": "",
        "github.ref_type": "branch", "github.event.pull_request": None,
        # A called workflow's github context is its caller's.
        "github.workflow": as_text(workflow.get("name", "")),
    }
    if events:
        scope["github.event_name"] = OneOf(events)
    for name, value in inputs.items():
        if not (isinstance(value, str) and "${{" in value):
            scope[f"inputs.{name}"] = value
    return scope


class Group(NamedTuple):
    name: str  # as it evaluates on main
    cancel: object  # cancel-in-progress as written
    text: str  # the group as written
    scope: int  # how many of a holder's chain ids it spans: 1 = the entry's job and all below


def concurrency(holder: dict, scope: dict, spans: int) -> Group | None:
    value = holder.get("concurrency")
    if value is None:
        return None
    if isinstance(value, dict):
        group, cancel = value.get("group", ""), value.get("cancel-in-progress", False)
    else:
        group, cancel = value, False
    return Group(interpolate(group, scope), cancel, as_text(group), spans)


def local_call(job: dict, root: str) -> str | None:
    uses = job.get("uses")
    if isinstance(uses, str) and uses.startswith("./"):
        return os.path.normpath(os.path.join(root, uses[2:].split("@")[0]))
    return None


def has_oidc(job: dict, workflow: dict) -> bool:
    # A job without `permissions:` has the workflow's.
    permissions = job.get("permissions", workflow.get("permissions"))
    return permissions == "write-all" or mapping(permissions).get("id-token") == "write"


@dataclass
class Node:
    """One job as it runs: `chain` is the job ids from the entry workflow's job down
    to this one, through the reusable workflows called on the way, `levels` the
    workflow each of them is in, and `guards` the `if:` of each with the scope its
    expressions see."""

    chain: tuple
    levels: tuple
    job: dict
    scope: dict
    groups: list = field(default_factory=list)  # Group on the way, outermost first
    guards: list = field(default_factory=list)  # (`if:` as written, its scope) per chain id

    @property
    def name(self) -> str:
        return "/".join(self.chain)

    def render(self, text) -> str:
        return interpolate(text, self.scope)

    @property
    def environment(self) -> str | None:
        env = self.job.get("environment")
        if isinstance(env, dict):
            env = env.get("name")
        return None if env is None else self.render(env)

    def runs(self) -> str:
        return "\n".join(as_text(s.get("run", "")) for s in steps_of(self.job))

    @property
    def applies(self) -> bool:
        return bool(TERRAFORM_APPLY.search(self.runs()))

    @property
    def deploys(self) -> bool:
        return bool(DEPLOY.search(self.runs()))

    def root(self) -> str | None:
        if "inputs.root" in self.scope:
            return as_text(self.scope["inputs.root"])
        found = ROOT_DIR.search(as_text(self.scope.get("inputs.dir", "")) + "\n" + self.runs())
        return (found[1] or found[2]) if found else None


class Policy:
    def __init__(self, paths: list[str]):
        self.paths = paths
        self.workflows = {os.path.normpath(p): load(p) for p in paths}
        # The repository's root: the workflows live in <root>/.github/workflows.
        first = os.path.normpath(paths[0]) if paths else "."
        self.root = os.path.normpath(os.path.join(os.path.dirname(first), "..", ".."))
        self.findings: list[str] = []

    def find(self, where: str, rule: str, message: str):
        finding = f"{where}: [{rule}] {message}"
        if finding not in self.findings:  # one defect, however many calls reach it
            self.findings.append(finding)

    def condition(self, where: str, text):
        """The tree of an `if:`, or None after a finding when it cannot be read."""
        try:
            return parse_condition(text)
        except (ExpressionError, RecursionError) as error:
            self.find(where, "readable", f"cannot read its `if: {condition_text(text)}` ({error}), so cannot tell "
                      "when it runs: write it as GitHub's expression syntax has it")
            return None

    def expand(self, entry: str, path: str, chain=(), levels=(), inputs=None, groups=(), guards=()) -> list[Node]:
        if len(chain) > 10 or path in levels:
            self.find(path, "readable", f"calls itself or nests too deep through {' -> '.join(levels)}")
            return []
        workflow = self.workflows[path]
        scope = main_scope(self.workflows[entry], {**input_defaults(workflow), **(inputs or {})})
        # A workflow's own concurrency holds all its jobs, for as long as the call runs.
        whole = concurrency(workflow, scope, len(chain))
        groups = list(groups) + ([whole] if whole else [])
        nodes = []
        for job_id, job in jobs_of(workflow).items():
            here = concurrency(job, scope, len(chain) + 1)
            on_the_way = groups + ([here] if here else [])
            guarded = list(guards) + [(job.get("if", ""), scope)]
            called = local_call(job, self.root)
            if called is None:
                nodes.append(Node(chain + (job_id,), levels + (path,), job, scope, on_the_way, guarded))
            elif called not in self.workflows:
                self.find(f"{path}:{job_id}", "readable", f"calls {job['uses']}, which is not among the workflows")
            else:
                passed = {str(k).lower(): interpolate(v, scope) if isinstance(v, str) else v
                          for k, v in mapping(job.get("with")).items()}
                nodes.extend(self.expand(entry, called, chain + (job_id,), levels + (path,), passed,
                                         on_the_way, guarded))
        return nodes

    def entries(self):
        for path, workflow in self.workflows.items():
            if set(triggers(workflow)) - {"workflow_call"}:
                yield path, workflow

    def check(self) -> list[str]:
        for path, workflow in self.workflows.items():
            self.check_permissions(path, workflow)
        unattended, everywhere = [], []
        for path, workflow in self.entries():
            nodes = self.expand(path, path)
            everywhere.extend((path, node) for node in nodes)
            self.check_environments(path, workflow, nodes)
            self.check_status_guards(path, nodes)
            self.check_credentials(path, nodes)
            self.check_fresh(nodes)
            if self.runs_unattended_on_main(workflow) and any(n.applies or n.deploys for n in nodes):
                unattended.append((path, nodes))
        if len(unattended) > 1:
            names = ", ".join(p for p, _ in unattended)
            self.find(names, "one-workflow", f"Terraform applies or deployments run unattended on main (push, "
                      f"schedule, workflow_run, repository_dispatch) in {len(unattended)} workflows, which "
                      "nothing orders: run them from one")
        for path, nodes in unattended:
            self.check_order(path, nodes)
        self.check_groups(everywhere)
        self.check_exclusion(everywhere)
        self.check_jobs()
        return self.findings

    def check_permissions(self, path: str, workflow: dict):
        permissions = workflow.get("permissions")
        if permissions is None:
            self.find(path, "permissions", "no workflow-wide `permissions:` (the default may grant write): "
                      "set `permissions: {contents: read}` and grant more per job")
        elif not isinstance(permissions, dict):
            if permissions not in ("read-all", "{}"):
                self.find(path, "permissions", f"workflow-wide `permissions: {permissions}`: grant write per job")
        else:
            for scope, level in permissions.items():
                if level == "write":
                    self.find(path, "permissions", f"workflow-wide `{scope}: write`: grant it to the jobs that need it")

    def guarded_by_main(self, where: str, node: Node) -> bool:
        # Only a term every way through the condition needs counts: under `||` or `!`
        # another ref may get through.
        for k, (text, _) in enumerate(node.guards):
            tree = self.condition(f"{where.split(':')[0]}:{'/'.join(node.chain[:k + 1])}", text)
            if any(is_equality(term, ["github", "ref"], MAIN_REF) for term in conjuncts(tree)):
                return True
        return False

    def check_environments(self, path: str, workflow: dict, nodes: list[Node]):
        in_envs = [n for n in nodes if n.environment]
        if not in_envs:
            return
        if workflow.get("concurrency") is not None:
            self.find(path, "no-spanning", "workflow-wide `concurrency:` in a workflow with jobs in environments "
                      f"({', '.join(sorted({n.environment for n in in_envs}))}): while one waits for its "
                      "approval it holds up every other; give each environment its own group")
        for node in in_envs:
            where = f"{path}:{node.name}"
            if not self.guarded_by_main(where, node):
                self.find(where, "main-only", f"runs in environment {node.environment} without "
                          f"`github.ref == '{MAIN_REF}'` as an `&&` term of its `if:` or a caller's "
                          "(not under `!` or `||`)")
            if not node.groups:
                self.find(where, "no-halfway", f"runs in environment {node.environment} in no concurrency group: "
                          "two deliveries could deploy at once")
            for group in node.groups:
                if group.cancel is not False:
                    self.find(where, "no-halfway", f"concurrency group {group.name} may cancel a job in environment "
                              f"{node.environment} halfway (`cancel-in-progress` must be false)")

    def check_groups(self, everywhere: list):
        """No group, evaluated on main, holds two environments' jobs, in any workflows."""
        holders: dict[str, dict] = {}
        for path, node in everywhere:
            if node.environment:
                for group in node.groups:
                    holders.setdefault(group.name, {}).setdefault(node.environment, set()).add(path)
        for group, envs in sorted(holders.items()):
            # An environment's infrastructure (infra-<env>) and its app may share one:
            # that is what keeps another delivery's apply out of a deployment.
            stages = {env.removeprefix("infra-") for env in envs}
            if len(stages) > 1:
                paths = sorted(set().union(*envs.values()))
                self.find(", ".join(paths), "no-spanning", f"concurrency group {group} holds jobs of environments "
                          f"{', '.join(sorted(envs))}: one waiting for its approval holds up the other")

    def check_exclusion(self, everywhere: list):
        applies, deploys = {}, {}
        for path, node in everywhere:
            where = f"{path}:{node.name}"
            if node.applies and node.root():
                applies.setdefault(node.root(), []).append((where, node))
            if node.deploys and node.environment:
                deploys.setdefault(node.environment, []).append((where, node))
            if node.environment or node.applies or node.deploys:
                for group in node.groups:
                    if PER_RUN.search(group.text):
                        self.find(where, "exclusion", f"concurrency group {group.text} names the run, so it "
                                  "never excludes another run: name it after the environment or the root")

        def shares(one: Node, other: Node, plan_too: bool) -> bool:
            def names(node):
                # From plan to apply: a group held around the apply job, not its own.
                return {g.name for g in node.groups if not plan_too or g.scope < len(node.chain)}
            return bool(names(one) & names(other))

        for root, appliers in sorted(applies.items()):
            for where, node in appliers:
                for other_where, other in appliers:
                    if not shares(node, other, plan_too=True):
                        self.find(where, "exclusion", f"plans and applies the {root} root in no group that "
                                  f"{other_where} holds from its plan to its apply on main (groups there: "
                                  f"{', '.join(g.name for g in other.groups) or 'none'}): one's saved plan goes "
                                  "stale under the other's apply; hold the same group around the call")
            for where, node in appliers if root in PROMOTION else []:
                for other_where, other in deploys.get(root, []):
                    if not shares(node, other, plan_too=False):
                        self.find(where, "exclusion", f"its apply of the {root} root shares no group with "
                                  f"{other_where} (deploys to {root}) on main: the apply can land in the middle "
                                  f"of that deployment; hold the group the deliveries hold around {root}")

    @staticmethod
    def runs_unattended_on_main(workflow: dict) -> bool:
        on = triggers(workflow)
        if any(event in on for event in UNATTENDED):
            return True
        if "push" not in on:
            return False
        push = mapping(on["push"])
        branches = [str(b) for b in as_list(push.get("branches"))]
        ignored = [str(b) for b in as_list(push.get("branches-ignore"))]
        if branches:
            return any(b in ("main", "*", "**") for b in branches)
        return "main" not in ignored

    def all_needs(self, level_path: str, job_id: str) -> set:
        """What JOB_ID of LEVEL_PATH waits for, directly or through other jobs."""
        jobs = jobs_of(self.workflows[level_path])
        seen, todo = set(), needs_of(jobs.get(job_id, {}))
        while todo:
            need = todo.pop()
            if need not in seen:
                seen.add(need)
                todo.extend(needs_of(jobs.get(need, {})))
        return seen

    def check_status_guards(self, path: str, nodes: list[Node]):
        """A job that runs whatever its needs did (always(), failure(), cancelled())
        must still require the applies and deployments it waits for to have succeeded."""
        acting = [n for n in nodes if n.applies or n.deploys]
        for node in acting:
            for k, (text, scope) in enumerate(node.guards):
                where = f"{path}:{'/'.join(node.chain[:k + 1])}"
                tree = self.condition(where, text)
                status = sorted(calls(tree) & set(STATUS_FUNCTIONS))
                terms = conjuncts(tree, scope)
                if not status or any(truthy(evaluate(term, scope)) is False for term in terms):
                    continue  # waits for its needs' success, or never runs on main
                missing = [need for need in self.needs_acting(node, k, acting)
                           if not any(is_equality(t, ["needs", need.lower(), "result"], "success") for t in terms)]
                if missing:
                    what = "applies or deploys" if k == len(node.chain) - 1 else f"leads to {node.name}"
                    wanted = " && ".join(f"needs.{need}.result == 'success'" for need in missing)
                    self.find(where, "order", f"{what} after {', '.join(missing)} (an apply or a deployment), yet "
                              f"runs when that failed ({', '.join(s + '()' for s in status)} in its `if:`): "
                              f"add `&& {wanted}` to it")

    def needs_acting(self, node: Node, k: int, acting: list[Node]) -> list[str]:
        """The direct needs of NODE's K-th job that are, or wait for, an apply or a
        deployment (one of ACTING) in the same workflow run."""
        level = node.levels[k]
        direct = needs_of(jobs_of(self.workflows[level]).get(node.chain[k], {}))

        def acts(need: str) -> bool:
            reached = {need} | self.all_needs(level, need)
            return any(o.chain[:k] == node.chain[:k] and len(o.chain) > k and o.chain[k] in reached for o in acting)
        return [need for need in direct if acts(need)]

    def check_order(self, path: str, nodes: list[Node]):
        def comes_after(node: Node, other: Node) -> bool:
            # Where the two chains part, both jobs are in the same workflow run.
            for k, (mine, theirs) in enumerate(zip(node.chain, other.chain)):
                if mine != theirs:
                    return theirs in self.all_needs(node.levels[k], mine)
            return False

        applies = {}
        for node in nodes:
            if node.applies:
                root = node.root()
                if root is None:
                    self.find(f"{path}:{node.name}", "order", "applies Terraform to a root it does not name "
                              "(pass `root:` or run it in provision/<root>)")
                else:
                    applies.setdefault(root, []).append(node)
        deploys = {}
        for node in nodes:
            if node.deploys:
                if node.environment is None:
                    self.find(f"{path}:{node.name}", "order", "deploys outside any GitHub environment")
                else:
                    deploys.setdefault(node.environment, []).append(node)

        def after(node: Node, others: list[Node], what: str):
            missing = [o.name for o in others if not comes_after(node, o)]
            if not others:
                self.find(f"{path}:{node.name}", "order", f"nothing in {path} {what}")
            elif missing:
                self.find(f"{path}:{node.name}", "order", f"does not wait for what {what} "
                          f"({', '.join(missing)}): add it to `needs:`")

        for env, nodes_of in deploys.items():
            for node in nodes_of:
                after(node, applies.get(GLOBAL_ROOT, []), f"applies provision/{GLOBAL_ROOT}")
                after(node, applies.get(env, []), f"applies the {env} root")
        for i, env in enumerate(PROMOTION[1:], 1):
            previous = PROMOTION[i - 1]
            for node in deploys.get(env, []) + applies.get(env, []):
                after(node, deploys.get(previous, []), f"deploys to {previous}")

    def check_credentials(self, path: str, nodes: list[Node]):
        for node in nodes:
            where = f"{node.levels[-1]}:{node.chain[-1]}"
            written = node.job.get("timeout-minutes", 360)
            for step in steps_of(node.job):
                if not as_text(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@"):
                    continue
                asked = mapping(step.get("with")).get("role-duration-seconds", 3600)
                # Where a caller's input decides, say which run it is.
                called = len(node.chain) > 1 and "${{" in as_text(asked) + as_text(written)
                run = f" (as {path}:{node.name} runs it)" if called else ""
                duration, timeout = whole_number(node.render(asked)), whole_number(node.render(written))
                if duration is None:
                    self.find(where, "credentials", f"cannot tell the credentials' duration (role-duration-seconds "
                              f"{as_text(asked)!r}){run}: write it as a number of seconds, or as an input every "
                              "caller passes (or defaults) as one")
                elif timeout is None:
                    self.find(where, "credentials", f"cannot tell the job's timeout (timeout-minutes "
                              f"{as_text(written)!r}){run}, so not whether its credentials last: write it as a "
                              "number of minutes, or as an input every caller passes (or defaults) as one")
                elif duration < timeout * 60:
                    self.find(where, "credentials", f"asks for {duration} s of AWS credentials and may run "
                              f"{timeout} minutes{run}: set role-duration-seconds to at least {timeout * 60} "
                              "(and the role's max_session_duration)")

    def check_fresh(self, nodes: list[Node]):
        """GitHub takes a group when a job is ready, not in push order, and a re-run
        takes it again: every job that applies or deploys must first ask
        scripts/fresh whether its commit may still replace what runs, in that job
        (a re-run of failed jobs skips the jobs before it), and nothing may skip or
        ignore the answer."""
        for node in nodes:
            if not (node.applies or node.deploys):
                continue
            where = f"{node.levels[-1]}:{node.chain[-1]}"
            what = "applies Terraform" if node.applies else "deploys"
            for step in steps_of(node.job):
                run = as_text(step.get("run", ""))
                if FRESH.search(" " + run + " "):
                    if "if" in step or truthy(step.get("continue-on-error", False)):
                        self.find(where, "fresh", f"{what}, and its scripts/fresh step has an `if:` or "
                                  "`continue-on-error`: an older commit could then replace a newer one; run it "
                                  "unconditionally and let it fail the job")
                    break
                if TERRAFORM_APPLY.search(run) or DEPLOY.search(run):
                    self.find(where, "fresh", f"{what} before any step runs .github/workflows/scripts/fresh: "
                              "GitHub takes groups in the order jobs get ready, and re-runs take them again, "
                              "so an older commit could replace a newer one; run it first, in this job")
                    break

    def check_jobs(self):
        builders = []
        for path, workflow in self.workflows.items():
            for job_id, job in jobs_of(workflow).items():
                node = Node((job_id,), (path,), job, {})
                where = f"{path}:{job_id}"
                self.condition(where, job.get("if"))
                if BUILD_BUNDLE.search(node.runs()):
                    builders.append(where)
                if has_oidc(job, workflow):
                    self.check_oidc_job(where, node)
        if len(builders) > 1:
            self.find(", ".join(builders), "built-once", f"{len(builders)} jobs build the release bundle: build it "
                      "in one and pass that artifact on (what is tested is then what ships)")

    def check_oidc_job(self, where: str, node: Node):
        built = BUILDS.search(node.runs())
        if built:
            self.find(where, "oidc-no-build", f"may ask for an OIDC token (id-token: write) and runs `{built[0]}`: "
                      "build in a job without it and pass the artifact on")
        for step in steps_of(node.job):
            uses = step.get("uses")
            if uses is not None and as_text(uses).split("@")[0].lower() not in OIDC_SAFE_ACTIONS:
                self.find(where, "oidc-no-build", f"may ask for an OIDC token (id-token: write) and uses `{uses}`, "
                          "which may build or run code that is not GitHub's, AWS's or HashiCorp's: run it in a "
                          "job without id-token and pass the artifact on (or, if it runs nothing but its own "
                          "pinned code, add it to OIDC_SAFE_ACTIONS with why)")


def whole_number(value) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def main(argv: list[str]) -> int:
    if not argv:
        print("pipeline_policy: no workflow given", file=sys.stderr)
        return 2
    try:
        policy = Policy(argv)
    except Unreadable as error:
        print(f"pipeline_policy: {error}", file=sys.stderr)
        return 2
    findings = policy.check()
    for finding in findings:
        print(finding)
    entries = sum(1 for _ in policy.entries())
    print(f"{len(policy.workflows)} workflows ({entries} started by a trigger): {len(findings)} policy findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
