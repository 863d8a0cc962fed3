#!/usr/bin/env bash
# Security updates install themselves daily; new kernels take effect when
# the instance is replaced by a freshly built image (instance refresh).
set -euo pipefail

files=${NOTEJAM_FILES:?NOTEJAM_FILES must point at the uploaded files}

install -m 0644 "$files/notejam-security-updates.service" /etc/systemd/system/
install -m 0644 "$files/notejam-security-updates.timer" /etc/systemd/system/
systemctl daemon-reload
systemctl enable notejam-security-updates.timer
