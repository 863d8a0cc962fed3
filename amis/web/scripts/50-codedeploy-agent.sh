#!/usr/bin/env bash
# The CodeDeploy agent, from AWS's regional bucket, and the account the app
# runs as. notejam-boot starts the agent once /etc/notejam/environment
# exists, so no deployment can run before the instance knows its
# environment.
set -euo pipefail

region=${AWS_REGION:?AWS_REGION must name the build region}

dnf -y -q install ruby wget
installer=$(mktemp)
wget -q -O "$installer" "https://aws-codedeploy-$region.s3.$region.amazonaws.com/latest/install"
chmod +x "$installer"
"$installer" auto
rm -f "$installer"

systemctl disable --now codedeploy-agent

# The app's systemd unit (shipped in the bundle) runs as this user and
# reads /etc/notejam/environment plus the file its deploy hook writes.
useradd --system --home-dir /var/lib/notejam --create-home --shell /sbin/nologin notejam
install -d -o notejam -g notejam -m 0750 /var/lib/notejam
