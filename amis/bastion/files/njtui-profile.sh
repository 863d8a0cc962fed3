# shellcheck shell=sh
# Logins on the bastion run njtui against this bastion's environment, with
# the instance profile's credentials (no keys on disk).
if [ -r /etc/notejam/environment ]; then
  NJTUI_ENV=$(sed -n 's/^NOTEJAM_ENV=//p' /etc/notejam/environment)
  AWS_REGION=$(sed -n 's/^AWS_REGION=//p' /etc/notejam/environment)
  export NJTUI_ENV AWS_REGION
fi
