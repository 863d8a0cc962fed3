#!/usr/bin/env bash
# Base layer of every notejam image: current packages, rsyslog (the
# CloudWatch agent reads files, journald alone writes none) and the
# CloudWatch agent.
set -euo pipefail

dnf -y -q --releasever=latest upgrade
dnf -y -q install rsyslog amazon-cloudwatch-agent python3
systemctl enable rsyslog

# The agent is started by notejam-boot once its configuration names this
# instance's environment; until then it has nothing to do.
systemctl disable amazon-cloudwatch-agent 2>/dev/null || true
