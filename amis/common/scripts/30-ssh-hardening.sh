#!/usr/bin/env bash
# Key-only SSH without root login; the configuration is tested before the
# image is kept, so a typo fails the build instead of locking people out.
set -euo pipefail

files=${NOTEJAM_FILES:?NOTEJAM_FILES must point at the uploaded files}

install -m 0600 "$files/sshd-notejam.conf" /etc/ssh/sshd_config.d/10-notejam.conf
sshd -t
