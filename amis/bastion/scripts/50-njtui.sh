#!/usr/bin/env bash
# The operations console, from the release binary uploaded by Packer, and a
# login profile that points it at this bastion's environment.
set -euo pipefail

binary=${NJTUI_UPLOAD:?NJTUI_UPLOAD must point at the uploaded njtui binary}
expected_sha=${NJTUI_SHA256:-}
files=${NOTEJAM_FILES:?NOTEJAM_FILES must point at the uploaded files}

if [ -n "$expected_sha" ]; then
  echo "$expected_sha  $binary" | sha256sum --check --status ||
    { echo "50-njtui: $binary does not match the expected sha256" >&2; exit 1; }
fi
install -m 0755 "$binary" /usr/local/bin/njtui
# A binary for another architecture or libc fails here, not at first login.
/usr/local/bin/njtui --version

install -m 0644 "$files/njtui-profile.sh" /etc/profile.d/njtui.sh
