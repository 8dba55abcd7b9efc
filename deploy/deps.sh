#!/usr/bin/env bash
# Install the Debian packages expertnet needs, but only those missing.
# Runs apt-get only when something is missing, so a ready machine is untouched.
set -euo pipefail
# curl, prometheus (promtool) and chromium are for the dashboard's tests
# (tests/integration/test_web.sh, test_browser.sh).
pkgs=(build-essential pkg-config libczmq-dev libzmq3-dev libsodium-dev
      libsqlite3-dev libjansson-dev libcmocka-dev libmicrohttpd-dev liboath-dev
      sqlite3 jq iproute2 procps curl prometheus chromium)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing missing Debian packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
