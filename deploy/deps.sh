#!/usr/bin/env bash
# Install the Debian packages expertnet needs, but only those missing.
# Runs apt-get only when something is missing, so a ready machine is untouched.
#
#   deploy/deps.sh demo   what `make` and `make demo` need: the build, the
#                         demo's tools, and an SMTP server (python3-aiosmtpd)
#                         the demo sends the experts' e-mail to
#   deploy/deps.sh test   all of that, plus what the tests use: cmocka,
#                         curl, prometheus (promtool) and chromium for the
#                         dashboard's tests (test_web.sh, test_browser.sh),
#                         and faketime for the clock tests (test_clock.sh)
#   deploy/deps.sh fuzz   what `make fuzz` adds: clang and its libFuzzer
#                         runtime (make test does not need them: it replays
#                         the fuzz corpora with the normal compiler)
#   deploy/deps.sh bench  what `make bench` adds: Mosquitto and the NATS
#                         server (JetStream), run beside the broker as peers
#                         by tests/bench/bench_peers.c (which talks MQTT and
#                         the NATS text protocol itself: no client library)
#   deploy/deps.sh        the same as test
set -euo pipefail
demo=(build-essential pkg-config libczmq-dev libzmq3-dev libsodium-dev
      libsqlite3-dev libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev liboath-dev
      sqlite3 jq iproute2 procps python3-aiosmtpd)
test=("${demo[@]}" libcmocka-dev curl openssl prometheus chromium faketime)
fuzz=(clang libclang-rt-14-dev)
bench=(mosquitto nats-server)
case "${1:-test}" in
    demo) pkgs=("${demo[@]}") ;;
    test) pkgs=("${test[@]}") ;;
    fuzz) pkgs=("${demo[@]}" "${fuzz[@]}") ;;
    bench) pkgs=("${demo[@]}" "${bench[@]}") ;;
    *) echo "usage: deploy/deps.sh [demo|test|fuzz|bench]" >&2; exit 2 ;;
esac
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
