"""Tests of pipeline_policy on the repository's own workflows: they pass as they are,
and each defect the policy exists to catch, put into a copy of them, fails it with
the rule's name.

Run: python3 -m unittest discover -s scripts/check-workflows.d -p 'test_*.py'
(.github/workflows/scripts/test-check-workflows runs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
WORKFLOWS = os.path.join(REPO, ".github", "workflows")
POLICY = os.path.join(HERE, "pipeline_policy.py")


class PipelinePolicy(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pipeline-policy-")
        self.addCleanup(shutil.rmtree, self.tmp)
        self.dir = os.path.join(self.tmp, ".github", "workflows")
        shutil.copytree(WORKFLOWS, self.dir, ignore=shutil.ignore_patterns("scripts"))

    def edit(self, name: str, old: str, new: str, count: int = 1):
        """Replaces OLD by NEW in the copy of workflow NAME; OLD must be there as
        often as COUNT says (a fixture that no longer applies fails)."""
        path = os.path.join(self.dir, name)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.assertEqual(text.count(old), count, f"{name} no longer holds {old!r}")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new))

    def run_policy(self):
        paths = sorted(os.path.join(self.dir, f) for f in os.listdir(self.dir) if f.endswith(".yml"))
        done = subprocess.run([sys.executable, POLICY, *paths], capture_output=True, text=True, check=False)
        return done.returncode, done.stdout + done.stderr

    def assert_finding(self, rule: str, *texts: str):
        status, out = self.run_policy()
        self.assertEqual(status, 1, out)
        lines = [line for line in out.splitlines() if f"[{rule}]" in line]
        self.assertTrue(lines, f"no [{rule}] finding in:\n{out}")
        for text in texts:
            self.assertTrue(any(text in line for line in lines), f"no [{rule}] finding says {text!r}:\n{out}")

    def assert_clean(self):
        status, out = self.run_policy()
        self.assertEqual(status, 0, out)
        self.assertIn("0 policy findings", out)

    def fresh_copy(self):
        """The real workflows again, for a test that tries several variants."""
        shutil.rmtree(self.dir)
        shutil.copytree(WORKFLOWS, self.dir, ignore=shutil.ignore_patterns("scripts"))

    def test_the_repository_workflows_pass(self):
        status, out = self.run_policy()
        self.assertEqual(status, 0, out)
        self.assertIn("0 policy findings", out)

    # -- concurrency: no lock spans two environments, none cancels a deployment

    def test_a_workflow_wide_group_over_the_deliveries_fails(self):
        self.edit("deliver.yml", "permissions:\n  contents: read\n\njobs:",
                  "permissions:\n  contents: read\n\nconcurrency: deliver\n\njobs:")
        self.assert_finding("no-spanning", "workflow-wide `concurrency:`", "prod, staging")

    def test_one_group_for_both_environments_fails(self):
        self.edit("deliver.yml", "group: deliver-staging", "group: deliver")
        self.edit("deliver.yml", "group: deliver-prod", "group: deliver")
        self.assert_finding("no-spanning",
                            "concurrency group deliver holds jobs of environments infra-prod, infra-staging, prod, staging")

    def test_one_group_for_two_terraform_roots_in_different_environments_fails(self):
        self.edit("terraform.yml", "group: ${{ github.ref == 'refs/heads/main' && 'deliver-staging' "
                  "|| format('terraform-staging-{0}', github.ref) }}", "group: terraform-${{ github.ref }}")
        self.edit("terraform.yml", "group: ${{ github.ref == 'refs/heads/main' && 'deliver-prod' "
                  "|| format('terraform-prod-{0}', github.ref) }}", "group: terraform-${{ github.ref }}")
        self.assert_finding("no-spanning", "holds jobs of environments infra-prod, infra-staging")

    def test_an_environment_and_its_infrastructure_may_share_a_group(self):
        # deliver-<env> holds infra-<env>'s apply and <env>'s deployment: no finding.
        status, out = self.run_policy()
        self.assertEqual(status, 0, out)
        self.edit("deliver.yml", "group: deliver-prod", "group: deliver-staging")
        self.assert_finding("no-spanning", "deliver-staging holds jobs of environments infra-prod, infra-staging, prod, staging")

    def test_a_deployment_that_can_be_cancelled_halfway_fails(self):
        self.edit("deploy.yml", "group: deploy-${{ inputs.environment }}\n      cancel-in-progress: false",
                  "group: deploy-${{ inputs.environment }}\n      cancel-in-progress: true")
        self.assert_finding("no-halfway", "staging/app/deploy", "may cancel a job in environment staging halfway")

    def test_a_delivery_that_can_be_cancelled_halfway_fails(self):
        self.edit("deliver.yml", "group: deliver-prod\n      cancel-in-progress: false",
                  "group: deliver-prod\n      cancel-in-progress: true")
        self.assert_finding("no-halfway", "prod/infrastructure/apply", "prod/app/deploy",
                            "concurrency group deliver-prod may cancel")

    def test_a_deployment_in_no_group_fails(self):
        self.edit("deploy.yml", "    concurrency:\n      group: deploy-${{ inputs.environment }}\n"
                  "      cancel-in-progress: false\n", "")
        self.edit("deliver.yml", "    concurrency:\n      group: deliver-prod\n      cancel-in-progress: false\n", "")
        self.assert_finding("no-halfway",
                            "prod/app/deploy: [no-halfway] runs in environment prod in no concurrency group")

    # -- a called workflow's own concurrency holds all its jobs

    DEPLOY_HEAD = "permissions:\n  contents: read\n\njobs:\n  deploy:"

    def test_a_called_workflows_group_over_both_environments_fails(self):
        self.edit("deploy.yml", self.DEPLOY_HEAD, "permissions:\n  contents: read\n\n"
                  "concurrency:\n  group: deploy\n  cancel-in-progress: false\n\njobs:\n  deploy:")
        self.assert_finding("no-spanning", "concurrency group deploy holds jobs of environments prod, staging")

    def test_a_called_workflows_group_that_cancels_a_deployment_fails(self):
        self.edit("deploy.yml", self.DEPLOY_HEAD, "permissions:\n  contents: read\n\nconcurrency:\n"
                  "  group: deploy-run-${{ inputs.environment }}\n  cancel-in-progress: true\n\njobs:\n  deploy:")
        self.assert_finding("no-halfway", "staging/app/deploy",
                            "concurrency group deploy-run-staging may cancel a job in environment staging halfway")

    def test_a_called_workflows_group_per_environment_passes(self):
        self.edit("deploy.yml", self.DEPLOY_HEAD, "permissions:\n  contents: read\n\nconcurrency:\n"
                  "  group: deploy-run-${{ inputs.environment }}\n  cancel-in-progress: false\n\njobs:\n  deploy:")
        self.assert_clean()

    # -- main-only reads the condition, not its text

    PROD_GUARD = "    needs: [ci, staging]\n    if: github.ref == 'refs/heads/main'\n"

    def test_a_negated_main_guard_fails(self):
        self.edit("deliver.yml", self.PROD_GUARD,
                  "    needs: [ci, staging]\n    if: ${{ !(github.ref == 'refs/heads/main') }}\n")
        self.assert_finding("main-only", "deliver.yml:prod/app/deploy", "runs in environment prod")

    def test_a_double_negation_of_another_ref_does_not_count(self):
        self.edit("deliver.yml", self.PROD_GUARD,
                  "    needs: [ci, staging]\n    if: ${{ !(github.ref != 'refs/heads/main') }}\n")
        self.assert_finding("main-only", "deliver.yml:prod/app/deploy", "not under `!` or `||`")

    def test_a_main_guard_beside_a_parenthesised_disjunction_passes(self):
        self.edit("deliver.yml", self.PROD_GUARD, "    needs: [ci, staging]\n    if: >-\n"
                  "      'refs/heads/main' == github.ref\n"
                  "      && (github.event_name == 'push' || github.event_name == 'workflow_dispatch')\n")
        self.assert_clean()

    def test_an_unreadable_guard_is_a_finding_not_a_crash(self):
        self.edit("deliver.yml", self.PROD_GUARD,
                  "    needs: [ci, staging]\n    if: github.ref == \"refs/heads/main\"\n")
        self.assert_finding("readable", "deliver.yml:prod: [readable] cannot read its `if:",
                            "strings take single quotes")
        self.assert_finding("main-only", "deliver.yml:prod/app/deploy", "runs in environment prod")

    # -- a job that runs whatever happened before it

    APP_NEEDS = "  app:\n    needs: infrastructure\n"

    def test_a_deployment_after_a_failed_apply_fails(self):
        for condition in ("always()", "${{ !cancelled() }}", "failure() || success()"):
            with self.subTest(condition=condition):
                self.fresh_copy()
                self.edit("stage.yml", self.APP_NEEDS, f"{self.APP_NEEDS}    if: {condition}\n")
                self.assert_finding("order", "deliver.yml:staging/app: [order] leads to staging/app/deploy after "
                                    "infrastructure", "`&& needs.infrastructure.result == 'success'`")

    def test_a_deployment_that_requires_the_apply_to_succeed_passes(self):
        self.edit("stage.yml", self.APP_NEEDS, f"{self.APP_NEEDS}"
                  "    if: ${{ !cancelled() && needs.infrastructure.result == 'success' }}\n")
        self.assert_clean()

    def test_a_manual_apply_after_a_failed_one_fails(self):
        # terraform.yml passes as it is: on main (a manual run) its `||` is
        # needs.global.result == 'success' alone; without it, staging applies anyway.
        self.edit("terraform.yml", "    if: ${{ !cancelled() && (needs.global.result == 'success' "
                  "|| github.event_name == 'pull_request') }}", "    if: ${{ !cancelled() }}")
        self.assert_finding("order", "terraform.yml:staging: [order] leads to staging/apply after global",
                            "(cancelled() in its `if:`)")

    # -- every unattended start on main counts as a push

    def test_terraform_applying_on_a_schedule_or_another_run_beside_the_delivery_fails(self):
        for trigger in ("  schedule:\n    - cron: '0 3 * * *'\n", "  workflow_run:\n    workflows: [ci]\n",
                        "  repository_dispatch:\n"):
            with self.subTest(trigger=trigger.split(":")[0].strip()):
                self.fresh_copy()
                self.edit("terraform.yml", "  workflow_dispatch:\n", trigger + "  workflow_dispatch:\n")
                self.assert_finding("one-workflow", "deliver.yml", "terraform.yml", "in 2 workflows")

    # -- groups as they evaluate on main, across workflows

    TERRAFORM_STAGING_GROUP = ("group: ${{ github.ref == 'refs/heads/main' && 'deliver-staging' "
                               "|| format('terraform-staging-{0}', github.ref) }}")

    def test_a_manual_apply_outside_the_deliveries_group_fails(self):
        self.edit("terraform.yml", self.TERRAFORM_STAGING_GROUP, "group: ${{ github.ref == 'refs/heads/main' "
                  "&& 'terraform-staging' || format('terraform-staging-{0}', github.ref) }}")
        self.assert_finding("exclusion", "terraform.yml:staging/apply: [exclusion] its apply of the staging root "
                            "shares no group with", "deliver.yml:staging/app/deploy (deploys to staging)")

    def test_a_manual_plan_and_apply_outside_the_deliveries_group_fails(self):
        self.edit("terraform.yml", "group: terraform-global-${{ github.ref }}",
                  "group: manual-global-${{ github.ref }}")
        self.assert_finding("exclusion", "terraform.yml:global/apply: [exclusion] plans and applies the global root "
                            "in no group that", "deliver.yml:infra-global/apply holds from its plan to its apply")

    def test_a_manual_apply_in_the_other_environments_group_fails(self):
        self.edit("terraform.yml", self.TERRAFORM_STAGING_GROUP,
                  "group: ${{ github.ref == 'refs/heads/main' && 'deliver-prod' || 'terraform-staging' }}")
        self.assert_finding("no-spanning", "deliver.yml, ", "terraform.yml: [no-spanning] concurrency group "
                            "deliver-prod holds jobs of environments infra-prod, infra-staging, prod")

    def test_the_deliveries_group_written_another_way_passes(self):
        self.edit("terraform.yml", self.TERRAFORM_STAGING_GROUP, "group: ${{ github.ref_name == 'main' "
                  "&& format('deliver-{0}', 'staging') || format('terraform-staging-{0}', github.head_ref) }}")
        self.assert_clean()

    def test_a_group_of_the_run_fails(self):
        self.edit("deploy.yml", "group: deploy-${{ inputs.environment }}",
                  "group: deploy-${{ inputs.environment }}-${{ github.run_id }}")
        self.assert_finding("exclusion", "staging/app/deploy", "concurrency group deploy-${{ inputs.environment }}-"
                            "${{ github.run_id }} names the run")

    # -- only main reaches an environment

    def test_an_environment_job_without_the_main_guard_fails(self):
        self.edit("deliver.yml", "    needs: [ci, infra-global]\n    if: github.ref == 'refs/heads/main'\n",
                  "    needs: [ci, infra-global]\n")
        self.assert_finding("main-only", "deliver.yml:staging/app/deploy", "runs in environment staging")

    def test_a_guard_with_a_way_around_it_does_not_count(self):
        self.edit("deliver.yml", "    needs: [ci, staging]\n    if: github.ref == 'refs/heads/main'\n",
                  "    needs: [ci, staging]\n"
                  "    if: github.ref == 'refs/heads/main' || startsWith(github.ref, 'refs/heads/')\n")
        self.assert_finding("main-only", "deliver.yml:prod/app/deploy", "runs in environment prod")

    def test_a_guard_for_another_ref_does_not_count(self):
        self.edit("terraform-root.yml", "github.event_name != 'pull_request' && github.ref == 'refs/heads/main'\n"
                  "      && needs.plan.outputs.changes == 'true'",
                  "github.event_name != 'pull_request' && github.ref == 'refs/heads/dev'\n"
                  "      && needs.plan.outputs.changes == 'true'")
        # deliver.yml's callers still guard; terraform.yml's (manual runs) do not.
        self.assert_finding("main-only", "terraform.yml:global/apply", "terraform.yml:prod/apply")

    # -- permissions

    def test_a_workflow_wide_write_fails(self):
        self.edit("deploy.yml", "permissions:\n  contents: read\n\njobs:",
                  "permissions:\n  contents: read\n  id-token: write\n\njobs:")
        self.assert_finding("permissions", "deploy.yml", "workflow-wide `id-token: write`")

    def test_a_workflow_without_permissions_fails(self):
        self.edit("terraform.yml", "permissions:\n  contents: read\n\njobs:", "jobs:")
        self.assert_finding("permissions", "terraform.yml", "no workflow-wide `permissions:`")

    def test_write_all_fails(self):
        self.edit("ci.yml", "permissions:\n  contents: read\n\n# A pull request's",
                  "permissions: write-all\n\n# A pull request's")
        self.assert_finding("permissions", "workflow-wide `permissions: write-all`")

    # -- infrastructure before the app, staging before prod, in one workflow

    def test_terraform_applying_on_push_beside_the_delivery_fails(self):
        self.edit("terraform.yml", "  workflow_dispatch:\n", "  push:\n    branches: [main]\n  workflow_dispatch:\n")
        self.assert_finding("one-workflow", "deliver.yml", "terraform.yml", "in 2 workflows")

    def test_the_app_before_its_infrastructure_fails(self):
        self.edit("stage.yml", "  app:\n    needs: infrastructure\n", "  app:\n")
        self.assert_finding("order", "deliver.yml:prod/app/deploy", "applies the prod root", "prod/infrastructure/apply")

    def test_the_app_before_the_global_root_fails(self):
        self.edit("deliver.yml", "needs: [ci, infra-global]", "needs: ci")
        self.assert_finding("order", "staging/app/deploy", "applies provision/global", "infra-global/apply")

    def test_prod_before_staging_took_the_commit_fails(self):
        self.edit("deliver.yml", "needs: [ci, staging]", "needs: [ci, infra-global]")
        self.assert_finding("order", "prod/infrastructure/apply: [order] does not wait for what deploys to staging",
                            "prod/app/deploy: [order] does not wait for what deploys to staging")

    def test_order_is_followed_through_nested_reusable_workflows(self):
        # The shape of the pipeline before it applied each root next to its app:
        # deliver.yml called terraform.yml, which called terraform-root.yml per root,
        # all of it under one group and before staging.
        self.edit("terraform.yml", "  workflow_dispatch:\n", "  workflow_call:\n  workflow_dispatch:\n")
        path = os.path.join(self.dir, "deliver.yml")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        head = text.split("  infra-global:\n", 1)[0]
        nested = """  infrastructure:
    needs: ci
    if: github.ref == 'refs/heads/main'
    uses: ./.github/workflows/terraform.yml
    concurrency:
      group: deliver-infrastructure
      cancel-in-progress: false
    permissions:
      contents: read
      id-token: write

  staging:
    needs: [ci, infrastructure]
    if: github.ref == 'refs/heads/main'
    uses: ./.github/workflows/deploy.yml
    with:
      environment: staging
      bundle-sha256: ${{ needs.ci.outputs.bundle-sha256 }}
      bake-minutes: 2

  prod:
    needs: [ci, staging]
    if: github.ref == 'refs/heads/main'
    uses: ./.github/workflows/deploy.yml
    with:
      environment: prod
      bundle-sha256: ${{ needs.ci.outputs.bundle-sha256 }}
      bake-minutes: 10
"""
        with open(path, "w", encoding="utf-8") as f:
            f.write(head + nested)
        status, out = self.run_policy()
        self.assertEqual(status, 1, out)
        self.assertIn("concurrency group deliver-infrastructure holds jobs of environments infra-prod, infra-staging", out)
        self.assertIn("infrastructure/prod/apply: [order] does not wait for what deploys to staging", out)
        # The app still comes after each root it needs: no finding says otherwise.
        self.assertNotIn("applies the staging root", out)
        self.assertNotIn("applies provision/global", out)

    # -- the bundle is built once

    def test_a_second_build_of_the_bundle_fails(self):
        self.edit("ci.yml", '          unzip -o -q "$RUNNER_TEMP/bundle/notejam-$GITHUB_SHA.zip"',
                  '          notejam/deploy/build-bundle "$RUNNER_TEMP/bundle/notejam-$GITHUB_SHA.zip"\n'
                  '          unzip -o -q "$RUNNER_TEMP/bundle/notejam-$GITHUB_SHA.zip"')
        self.assert_finding("built-once", "ci.yml:bundle", "ci.yml:perf-wall", "2 jobs build the release bundle")

    def test_a_build_in_a_job_with_an_oidc_token_fails(self):
        self.edit("ci.yml", "    permissions:\n      contents: read\n    outputs:\n      sha256:",
                  "    permissions:\n      contents: read\n      id-token: write\n    outputs:\n      sha256:")
        self.assert_finding("oidc-no-build", "ci.yml:bundle", "runs `build-bundle`")

    def test_a_package_install_in_a_deploy_job_fails(self):
        self.edit("deploy.yml", "        run: .github/workflows/scripts/smoke-test \"$NOTEJAM_URL\"",
                  "        run: |\n          pip install requests\n"
                  "          .github/workflows/scripts/smoke-test \"$NOTEJAM_URL\"")
        self.assert_finding("oidc-no-build", "deploy.yml:deploy", "runs `pip`")

    # -- fresh: no older commit over a newer one

    FRESH_DEPLOY = ("      - name: Not older than what the environment runs (scripts/fresh)\n"
                    "        # deliver-<env> is taken when the job is ready, not in push order, and a re-run\n"
                    "        # takes it again: an older commit must not replace a newer one.\n"
                    "        run: .github/workflows/scripts/fresh \"$ENVIRONMENT\"\n")
    FRESH_APPLY = ("      - name: Still not older than what the root runs (a re-run of this job alone)\n"
                   "        env:\n          ROOT: ${{ inputs.root }}\n"
                   "        run: .github/workflows/scripts/fresh \"$ROOT\"\n")

    def test_a_deployment_without_the_freshness_check_fails(self):
        self.edit("deploy.yml", self.FRESH_DEPLOY, "")
        self.assert_finding("fresh", "deploy.yml:deploy", "deploys before any step runs")

    def test_an_apply_without_the_freshness_check_fails(self):
        self.edit("terraform-root.yml", self.FRESH_APPLY, "")
        self.assert_finding("fresh", "terraform-root.yml:apply", "applies Terraform before any step runs")

    def test_a_freshness_check_after_the_deployment_fails(self):
        self.edit("deploy.yml", self.FRESH_DEPLOY, "")
        self.edit("deploy.yml", "      - name: Smoke test\n", self.FRESH_DEPLOY + "      - name: Smoke test\n")
        self.assert_finding("fresh", "deploy.yml:deploy", "deploys before any step runs")

    def test_a_freshness_check_that_may_be_skipped_or_ignored_fails(self):
        for extra in ("        if: vars.FRESH != 'off'\n", "        continue-on-error: true\n"):
            with self.subTest(extra=extra):
                self.fresh_copy()
                self.edit("deploy.yml", self.FRESH_DEPLOY, self.FRESH_DEPLOY + extra)
                self.assert_finding("fresh", "deploy.yml:deploy", "has an `if:` or `continue-on-error`")

    def test_credentials_shorter_than_the_job_fail(self):
        self.edit("deploy.yml", "          role-duration-seconds: 10800\n", "")
        self.assert_finding("credentials", "deploy.yml:deploy", "asks for 3600 s of AWS credentials and may run 180 minutes")

    DEPLOY_INPUTS = ("      bake-minutes:\n        description: how long the canary, then the fleet, must run "
                     "with no alarm\n        type: number\n        required: true\n\npermissions:")

    def credentials_from_an_input(self, default: str):
        self.edit("deploy.yml", "role-duration-seconds: 10800",
                  "role-duration-seconds: ${{ inputs.credential-seconds }}")
        if default:
            self.edit("deploy.yml", self.DEPLOY_INPUTS, self.DEPLOY_INPUTS.replace(
                "\n\npermissions:", f"\n      credential-seconds:\n        description: how long\n"
                f"        type: number\n        default: {default}\n\npermissions:"))

    def test_credentials_of_an_input_nobody_passes_fail(self):
        self.credentials_from_an_input(default="")
        self.assert_finding("credentials", "deploy.yml:deploy", "cannot tell the credentials' duration",
                            "deliver.yml:staging/app/deploy runs it)")

    def test_credentials_of_a_short_input_fail(self):
        self.credentials_from_an_input(default="3600")
        self.assert_finding("credentials", "asks for 3600 s of AWS credentials and may run 180 minutes",
                            "deliver.yml:prod/app/deploy runs it)")

    def test_credentials_of_a_long_enough_input_pass(self):
        self.credentials_from_an_input(default="10800")
        self.assert_clean()

    # -- no action but the known ones near an OIDC token

    CHECKOUT = "          sparse-checkout: .github/workflows/scripts\n"

    def test_an_action_that_may_build_in_a_job_with_an_oidc_token_fails(self):
        for uses in ("actions/cache@9255dc7a253b0ccc959486e2bca901246202afeb # v5.0.1",
                     "./.github/actions/build",
                     "docker/build-push-action@263435318d21b8e681c14492fe198d362a7d2c83 # v6.18.0",
                     "actions-rs/cargo@844f36862e911db73fe0815f00a4a2602c279505 # v1.0.3"):
            with self.subTest(uses=uses):
                self.fresh_copy()
                self.edit("deploy.yml", self.CHECKOUT, f"{self.CHECKOUT}      - uses: {uses}\n")
                self.assert_finding("oidc-no-build", "deploy.yml:deploy", f"uses `{uses.split(' #')[0]}`")

    def test_a_known_action_in_a_job_with_an_oidc_token_passes(self):
        self.edit("deploy.yml", self.CHECKOUT, f"{self.CHECKOUT}      - uses: actions/upload-artifact@"
                  "b7c566a772e6b6bfb58ed0dc250532a479d7789f # v6.0.0\n        with:\n          name: x\n"
                  "          path: x\n")
        self.assert_clean()

    # -- odd but valid YAML: findings, never a traceback

    ODD_WORKFLOWS = {
        "odd-lists.yml": "on: [push]\njobs: []\n",
        "odd-strings.yml": "on: push\npermissions: read-all\njobs:\n  a: just a string\n",
        "odd-push.yml": "on:\n  push: main\n  schedule: nightly\njobs:\n  a:\n    runs-on: x\n",
        "odd-job.yml": """\
name: 5
'on':
  push:
    branches: main
    branches-ignore: 7
concurrency: [1, 2]
permissions: 5
jobs:
  7:
    needs: 5
    if: 5
    environment: [prod]
    concurrency: 3
    permissions: write-all
    timeout-minutes: soon
    steps: "echo hi"
  b:
    needs: [7, nope]
    if: "${{ ( }}"
    environment:
      name: ${{ 'prod' }}
    concurrency:
      group: [x]
      cancel-in-progress: maybe
    timeout-minutes: ${{ inputs.nope }}
    steps:
      - just a string
      - uses: 5
      - uses: aws-actions/configure-aws-credentials@x
        with: [a, b]
      - uses: aws-actions/configure-aws-credentials@x
        with:
          role-duration-seconds: 3h
      - run: [terraform, apply]
  c:
    needs: b
    if: always() && format('{5}') && fromJSON('[').x[0]
    uses: ./.github/workflows/odd-called.yml
    with: nope
  d:
    if: ${{ github.ref == 'refs/heads/main' && !cancelled() }}
    uses: ./.github/workflows/odd-called.yml
    with:
      root: [1]
      dir: provision/envs/prod
""",
        "odd-called.yml": """\
on:
  workflow_call:
    inputs: [x]
concurrency:
  cancel-in-progress: false
jobs:
  apply:
    environment: ${{ inputs.root }}
    steps:
      - run: terraform apply tfplan && codedeploy deploy x
      - uses: aws-actions/configure-aws-credentials@x
        with:
          role-duration-seconds: ${{ format('{0}', inputs.x) }}
""",
    }

    def test_odd_but_valid_workflows_give_findings_not_a_traceback(self):
        for name, text in self.ODD_WORKFLOWS.items():
            with open(os.path.join(self.dir, name), "w", encoding="utf-8") as f:
                f.write(text)
        status, out = self.run_policy()
        self.assertNotIn("Traceback", out)
        self.assertEqual(status, 1, out)
        self.assertIn("odd-job.yml:b: [readable] cannot read its `if: (` (ends where more should follow)", out)
        self.assertIn("odd-job.yml:b: [main-only] runs in environment prod", out)
        self.assertIn("[credentials] cannot tell the credentials' duration (role-duration-seconds '3h')", out)

    # -- bad input

    def test_a_workflow_that_is_not_yaml_is_a_usage_error(self):
        with open(os.path.join(self.dir, "broken.yml"), "w", encoding="utf-8") as f:
            f.write("jobs: [unclosed\n")
        status, out = self.run_policy()
        self.assertEqual(status, 2, out)
        self.assertIn("broken.yml", out)

    def test_a_call_to_a_missing_workflow_fails(self):
        self.edit("deliver.yml", "uses: ./.github/workflows/stage.yml", "uses: ./.github/workflows/stage-v2.yml", 2)
        self.assert_finding("readable", "calls ./.github/workflows/stage-v2.yml, which is not among the workflows")


if __name__ == "__main__":
    unittest.main()
