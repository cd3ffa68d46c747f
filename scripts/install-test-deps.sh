#!/usr/bin/env bash
# Installs the system packages the test suite needs. Idempotent; needs root (apt-get).
# Debian services never auto-start here: tests start every daemon themselves.
set -euo pipefail
# curl: the docs examples (run by the suite) poll /readyz with it.
PKGS=(etcd-server etcd-client python3-kubernetes curl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: all system packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "install-test-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
