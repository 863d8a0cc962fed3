#!/usr/bin/env bash
# Boot-time rendering of the per-environment configuration (notejam-boot)
# and the agent config templates. The app's log file (/var/log/notejam/app.log)
# and its rotation come with the app's bundle.
set -euo pipefail

files=${NOTEJAM_FILES:?NOTEJAM_FILES must point at the uploaded files}
role=${NOTEJAM_ROLE:?NOTEJAM_ROLE must be web or bastion}

case "$role" in
  web | bastion) ;;
  *) echo "40-observability: NOTEJAM_ROLE must be web or bastion, not '$role'" >&2; exit 1 ;;
esac

install -d -m 0755 /etc/notejam /usr/local/share/notejam
printf '%s\n' "$role" >/etc/notejam/role
install -m 0755 "$files/notejam-boot" /usr/local/sbin/notejam-boot
install -m 0644 "$files/cloudwatch-agent-$role.json.tmpl" /usr/local/share/notejam/
