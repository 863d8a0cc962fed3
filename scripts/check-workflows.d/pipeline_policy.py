"""The delivery pipeline's safety rules, read from .github/workflows/*.yml.

Each workflow a trigger can start (push, pull_request, workflow_dispatch, ...) is
expanded through the local reusable workflows it calls, with the caller's `with:`
values put in for `${{ inputs.* }}`, so a rule sees every job as it will run. The
rules (docs/pipeline.md says why each exists):

  permissions    a workflow's own permissions grant no write: a job that needs more
                 asks for it (least privilege per job)
  main-only      a job in a GitHub environment runs only for refs/heads/main: its
                 `if:` or a caller's says `github.ref == 'refs/heads/main'`, with no
                 `||` beside it
  no-halfway     a job in an environment is in a concurrency group (its own or a
                 caller's) that never cancels it halfway
  no-spanning    a workflow with jobs in environments has no workflow-wide concurrency,
                 and no group holds jobs of two environments (an environment and its
                 infra-<env> count as one): one waiting for its approval would hold
                 up the other
  one-workflow   the Terraform applies and the deployments a push to main runs are
                 all in one workflow, so they can be ordered
  order          in it, for each environment in PROMOTION: the app's deployment
                 comes after the apply of provision/global and of the environment's
                 root, and an environment's apply and deployment come after the
                 deployment to the environment before it
  built-once     one job, in all the workflows, builds the release bundle
  credentials    AWS credentials a job asks for (configure-aws-credentials'
                 role-duration-seconds, 3600 unless set) last as long as the job
                 may run (timeout-minutes): a rollback at its end must not find
                 them expired
  oidc-no-build  a job that may ask for an OIDC token (`id-token: write`: AWS roles,
                 signatures) builds nothing: build scripts, proc macros and installed
                 tools are third-party code, which must not reach the token

Usage: python3 pipeline_policy.py WORKFLOW.yml...   (scripts/check-workflows runs it)
Exit status: 0 clean, 1 findings, 2 a workflow it cannot read.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field

import yaml

# The environments a commit is promoted through, in order.
PROMOTION = ("staging", "prod")
GLOBAL_ROOT = "global"

MAIN_ONLY = re.compile(r"github\.ref\s*==\s*'refs/heads/main'")
INPUT = re.compile(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}")
TERRAFORM_APPLY = re.compile(r"\bterraform\b[^\n]*\sapply\b")
DEPLOY = re.compile(r"\bcodedeploy\s+deploy\b|\baws\s+deploy\s+create-deployment\b")
BUILD_BUNDLE = re.compile(r"\bbuild-bundle\b")
BUILDS = re.compile(r"\b(?:cargo|rustc|npm|npx|yarn|make|pip3?)\b|\bbuild-bundle\b|\bpython3? -m pip\b")
ROOT_DIR = re.compile(r"provision/(?:envs/([A-Za-z0-9_-]+)|(global))\b")


def render(text, inputs: dict) -> str:
    """TEXT with each `${{ inputs.NAME }}` replaced by the caller's value."""
    return INPUT.sub(lambda m: str(inputs.get(m[1], m[0])), str(text))


class Unreadable(Exception):
    pass


@dataclass
class Node:
    """One job as it runs: `chain` is the job ids from the entry workflow's job down
    to this one, through the reusable workflows called on the way, and `levels` the
    workflow each of them is in."""

    chain: tuple
    levels: tuple
    job: dict
    inputs: dict
    groups: list = field(default_factory=list)  # (group, cancel-in-progress) on the way
    guards: list = field(default_factory=list)  # the `if:` texts on the way

    @property
    def name(self) -> str:
        return "/".join(self.chain)

    def render(self, text) -> str:
        return render(text, self.inputs)

    @property
    def environment(self) -> str | None:
        env = self.job.get("environment")
        if isinstance(env, dict):
            env = env.get("name")
        return None if env is None else self.render(env)

    def runs(self) -> str:
        return "\n".join(str(s.get("run", "")) for s in self.job.get("steps") or [] if isinstance(s, dict))

    @property
    def applies(self) -> bool:
        return bool(TERRAFORM_APPLY.search(self.runs()))

    @property
    def deploys(self) -> bool:
        return bool(DEPLOY.search(self.runs()))

    def root(self) -> str | None:
        if "root" in self.inputs:
            return str(self.inputs["root"])
        found = ROOT_DIR.search(self.render(self.inputs.get("dir", "")) + "\n" + self.runs())
        return (found[1] or found[2]) if found else None


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
        return {event: None for event in on}
    return on or {}


def as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def concurrency(holder: dict, render=str) -> tuple | None:
    value = holder.get("concurrency")
    if value is None:
        return None
    if isinstance(value, str):
        group, cancel = value, False
    else:
        group, cancel = value.get("group", ""), value.get("cancel-in-progress", False)
    return render(group), cancel


def local_call(job: dict, root: str) -> str | None:
    uses = job.get("uses")
    if isinstance(uses, str) and uses.startswith("./"):
        return os.path.normpath(os.path.join(root, uses[2:].split("@")[0]))
    return None


class Policy:
    def __init__(self, paths: list[str]):
        self.paths = paths
        self.workflows = {os.path.normpath(p): load(p) for p in paths}
        # The repository's root: the workflows live in <root>/.github/workflows.
        first = os.path.normpath(paths[0]) if paths else "."
        self.root = os.path.normpath(os.path.join(os.path.dirname(first), "..", ".."))
        self.findings: list[str] = []

    def find(self, where: str, rule: str, message: str):
        self.findings.append(f"{where}: [{rule}] {message}")

    def expand(self, path: str, chain=(), levels=(), inputs=None, groups=(), guards=()) -> list[Node]:
        if len(chain) > 10 or path in levels:
            self.find(path, "readable", f"calls itself or nests too deep through {' -> '.join(levels)}")
            return []
        workflow = self.workflows[path]
        inputs = inputs or {}

        def here_render(text) -> str:
            return render(text, inputs)

        nodes = []
        for job_id, job in (workflow.get("jobs") or {}).items():
            job = job or {}
            here = concurrency(job, here_render)
            on_the_way = (list(groups) + [here]) if here else list(groups)
            guarded = list(guards) + [here_render(job.get("if", ""))]
            called = local_call(job, self.root)
            if called is None:
                nodes.append(Node(chain + (job_id,), levels + (path,), job, dict(inputs), on_the_way, guarded))
            elif called not in self.workflows:
                self.find(f"{path}:{job_id}", "readable", f"calls {job['uses']}, which is not among the workflows")
            else:
                passed = {k: here_render(v) for k, v in (job.get("with") or {}).items()}
                nodes.extend(self.expand(called, chain + (job_id,), levels + (path,), passed, on_the_way, guarded))
        return nodes

    def entries(self):
        for path, workflow in self.workflows.items():
            if set(triggers(workflow)) - {"workflow_call"}:
                yield path, workflow

    def check(self) -> list[str]:
        for path, workflow in self.workflows.items():
            self.check_permissions(path, workflow)
        pushed = []
        for path, workflow in self.entries():
            nodes = self.expand(path)
            self.check_environments(path, workflow, nodes)
            if self.runs_on_push_to_main(workflow) and any(n.applies or n.deploys for n in nodes):
                pushed.append((path, nodes))
        if len(pushed) > 1:
            names = ", ".join(p for p, _ in pushed)
            self.find(names, "one-workflow", "a push to main runs Terraform applies or deployments in "
                      f"{len(pushed)} workflows, which nothing orders: run them from one")
        for path, nodes in pushed:
            self.check_order(path, nodes)
        self.check_jobs()
        return self.findings

    def check_permissions(self, path: str, workflow: dict):
        permissions = workflow.get("permissions")
        if permissions is None:
            self.find(path, "permissions", "no workflow-wide `permissions:` (the default may grant write): "
                      "set `permissions: {contents: read}` and grant more per job")
        elif isinstance(permissions, str):
            if permissions != "read-all" and permissions != "{}":
                self.find(path, "permissions", f"workflow-wide `permissions: {permissions}`: grant write per job")
        else:
            for scope, level in permissions.items():
                if level == "write":
                    self.find(path, "permissions", f"workflow-wide `{scope}: write`: grant it to the jobs that need it")

    def check_environments(self, path: str, workflow: dict, nodes: list[Node]):
        in_envs = [n for n in nodes if n.environment]
        if not in_envs:
            return
        if workflow.get("concurrency") is not None:
            self.find(path, "no-spanning", "workflow-wide `concurrency:` in a workflow with jobs in environments "
                      f"({', '.join(sorted({n.environment for n in in_envs}))}): while one waits for its "
                      "approval it holds up every other; give each environment its own group")
        holders: dict[str, set] = {}
        for node in in_envs:
            where = f"{path}:{node.name}"
            # A disjunction can let another ref through: only a guard without `||` counts.
            if not any(MAIN_ONLY.search(guard) and "||" not in guard for guard in node.guards):
                self.find(where, "main-only", f"runs in environment {node.environment} without "
                          "`if: github.ref == 'refs/heads/main'` (on the job or its caller)")
            if not node.groups:
                self.find(where, "no-halfway", f"runs in environment {node.environment} in no concurrency group: "
                          "two deliveries could deploy at once")
            for group, cancel in node.groups:
                if cancel is not False:
                    self.find(where, "no-halfway", f"concurrency group {group} may cancel a job in environment "
                              f"{node.environment} halfway (`cancel-in-progress` must be false)")
                holders.setdefault(group, set()).add(node.environment)
        for group, envs in sorted(holders.items()):
            # An environment's infrastructure (infra-<env>) and its app may share one:
            # that is what keeps another delivery's apply out of a deployment.
            stages = {env.removeprefix("infra-") for env in envs}
            if len(stages) > 1:
                self.find(path, "no-spanning", f"concurrency group {group} holds jobs of environments "
                          f"{', '.join(sorted(envs))}: one waiting for its approval holds up the other")

    @staticmethod
    def runs_on_push_to_main(workflow: dict) -> bool:
        on = triggers(workflow)
        if "push" not in on:
            return False
        push = on["push"] or {}
        branches = as_list(push.get("branches"))
        ignored = as_list(push.get("branches-ignore"))
        if branches:
            return any(b in ("main", "*", "**") for b in branches)
        return "main" not in ignored

    def check_order(self, path: str, nodes: list[Node]):
        def needs_of(level_path: str, job_id: str) -> set:
            jobs = self.workflows[level_path].get("jobs") or {}
            seen, todo = set(), list(as_list((jobs.get(job_id) or {}).get("needs")))
            while todo:
                need = todo.pop()
                if need not in seen:
                    seen.add(need)
                    todo.extend(as_list((jobs.get(need) or {}).get("needs")))
            return seen

        def comes_after(node: Node, other: Node) -> bool:
            # Where the two chains part, both jobs are in the same workflow run.
            for k, (mine, theirs) in enumerate(zip(node.chain, other.chain)):
                if mine != theirs:
                    return theirs in needs_of(node.levels[k], mine)
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

    def check_jobs(self):
        builders = []
        for path, workflow in self.workflows.items():
            for job_id, job in (workflow.get("jobs") or {}).items():
                node = Node((job_id,), (path,), job or {}, {})
                if BUILD_BUNDLE.search(node.runs()):
                    builders.append(f"{path}:{job_id}")
                permissions = node.job.get("permissions")
                oidc = permissions == "write-all" or (
                    isinstance(permissions, dict) and permissions.get("id-token") == "write")
                built = BUILDS.search(node.runs())
                if oidc and built:
                    self.find(f"{path}:{job_id}", "oidc-no-build", f"may ask for an OIDC token (id-token: write) "
                              f"and runs `{built[0]}`: build in a job without it and pass the artifact on")
                timeout = node.job.get("timeout-minutes", 360)
                for step in node.job.get("steps") or []:
                    if isinstance(step, dict) and str(step.get("uses", "")).startswith(
                            "aws-actions/configure-aws-credentials@"):
                        duration = (step.get("with") or {}).get("role-duration-seconds", 3600)
                        if isinstance(timeout, int) and int(duration) < timeout * 60:
                            self.find(f"{path}:{job_id}", "credentials", f"asks for {duration} s of AWS credentials "
                                      f"and may run {timeout} minutes: set role-duration-seconds to at least "
                                      f"{timeout * 60} (and the role's max_session_duration)")
        if len(builders) > 1:
            self.find(", ".join(builders), "built-once", f"{len(builders)} jobs build the release bundle: build it "
                      "in one and pass that artifact on (what is tested is then what ships)")


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
