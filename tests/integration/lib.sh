# tests/integration/lib.sh - shared by the integration tests.
#
# Each test is an executable tests/integration/test_*.sh that sources
# this file, starts real expertnet-broker / expertnet-node processes on
# 127.0.0.1 (deploy/netlib.sh), drives them through `expertnet`, and
# exits 0 only if every check passed. Processes are stopped by PID on
# exit, pass or fail.
set -uo pipefail
TEST_NAME=$(basename "$0" .sh)
. "$(dirname "${BASH_SOURCE[0]}")/../../deploy/netlib.sh"

TEST_FAILS=0

# A TCP port nobody listens on now (deploy/netlib.sh).
free_port () { net_free_port; }

# Fresh network directory and port for this test.
test_init () {
    net_init "${TMPDIR:-/tmp}/expertnet-$TEST_NAME-$$" "$(free_port)"
    trap 'test_cleanup' EXIT
}

test_cleanup () {
    local rc=$?
    net_stop
    if [ $TEST_FAILS -eq 0 ] && [ $rc -eq 0 ]; then
        rm -rf "$NET_DIR"
    else
        echo "# logs kept in $NET_DIR" >&2
        for f in "$NET_DIR"/*.log; do
            [ -f "$f" ] || continue
            echo "# --- tail $f" >&2
            tail -n 15 "$f" | sed 's/^/#   /' >&2
        done
    fi
}

# A running network for a test: the broker and the named nodes, their keys
# enrolled, every node connected. Ends the test, failed, if it cannot start.
test_network () {
    net_keys "$@"
    net_broker || { not_ok "broker starts"; test_done; }
    local node
    for node in "$@"; do net_node "$node"; done
    for node in "$@"; do net_wait_connected "$node" || { not_ok "node $node connects"; test_done; }; done
    ok "broker and nodes $* connected over CURVE"
}

ok () { echo "ok - $*"; }
not_ok () { echo "not ok - $*"; TEST_FAILS=$((TEST_FAILS + 1)); }

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check () {
    local what=$1
    shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# lacks [GREP_OPTION...] PATTERN FILE...: true when every FILE exists and
# none holds PATTERN. A missing file (or a glob that matched nothing) is a
# failure, not a pass, as `! grep -q PATTERN FILE` would make it; so is a
# file grep cannot read.
lacks () {
    local options=()
    while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do options+=("$1"); shift; done
    local pattern=$1
    shift
    [ $# -gt 0 ] || { echo "# lacks: no file given" >&2; return 1; }
    local file
    for file in "$@"; do
        [ -f "$file" ] || { echo "# lacks: $file is missing" >&2; return 1; }
    done
    grep -q "${options[@]}" -- "$pattern" "$@"
    [ $? -eq 1 ]
}

# Clients connected now to the unix socket at path $1: the accepted ends
# carry the path in /proc/net/unix in state 03 (the listening one is 01).
unix_clients () { awk -v path="$1" '$6 == "03" && $8 == path' /proc/net/unix | wc -l; }

# wait_notify_client NODE BEFORE [SECS]: until NODE's notify.sock has more
# than BEFORE clients connected (a listener started after BEFORE was
# counted). A SUB sends its subscription as soon as it is connected, well
# before anything a test then does makes the node publish.
wait_notify_client () {
    local socket="$NET_DIR/$1/notify.sock" before=$2
    local end=$(( $(date +%s) + ${3:-10} ))
    while [ "$(unix_clients "$socket")" -le "$before" ]; do
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.05
    done
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq () {
    if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}

# check_exit DESCRIPTION CODE COMMAND...: the command exits with CODE.
check_exit () {
    local what=$1 code=$2
    shift 2
    "$@" >/dev/null 2>"$NET_DIR/stderr"
    local got=$?
    if [ "$got" -eq "$code" ]; then ok "$what"; else not_ok "$what (exit $got, expected $code: $(head -c 200 "$NET_DIR/stderr"))"; fi
}

# Broker's view of a request (JSON).
broker_request () { enb --json broker show "$1" 2>/dev/null; }

# Wait until the broker has request $1 in state $2 (within $3 s).
wait_state () {
    net_until "${3:-10}" ".state == \"$2\"" broker_request "$1"
}

open_offer () { broker_request "$1" | jq -r '.offers_open[0].id // empty'; }

# SQL on a (live, WAL) database, read-only.
sql () { sqlite3 -readonly "$1" "$2"; }

test_done () {
    if [ $TEST_FAILS -eq 0 ]; then exit 0; else echo "# $TEST_NAME: $TEST_FAILS check(s) failed"; exit 1; fi
}

# Mails (files in $MAILDIR/new, from net_smtp) holding a text; wait until
# COUNT of them do (wait_mails TEXT COUNT SECS)
mails_with () { grep -lF -- "$1" "$MAILDIR"/new/* 2>/dev/null | wc -l; }
wait_mails () {
    local end=$(( $(date +%s) + $3 ))
    while [ "$(date +%s)" -le $end ]; do
        [ "$(mails_with "$1")" -ge "$2" ] && return 0
        sleep 0.2
    done
    return 1
}

# The browser tests' tools: Debian's chromium, Node.js (18 or later) with
# npm, and playwright-core and axe-core in tests/browser/node_modules,
# installed from its package-lock.json when missing or not as locked
# (npm ls fails). A missing Debian package is installed when we are root;
# else the test fails here: a browser test never passes without having
# run the browser. Ends the test when something is missing.
BROWSER_DIR=$NET_ROOT/tests/browser
browser_ready () {
    local tool
    if [ "$(id -u)" -eq 0 ]; then
        for tool in chromium:chromium node:nodejs npm:npm; do
            command -v ${tool%%:*} >/dev/null && continue
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${tool#*:} >/dev/null 2>&1 \
                || { apt-get update -qq >/dev/null 2>&1
                     DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${tool#*:} >/dev/null 2>&1; }
        done
    fi
    for tool in chromium node npm "$@"; do
        command -v $tool >/dev/null || { not_ok "$tool is installed (deploy/deps.sh, or run as root)"; test_done; }
    done
    if ! (cd "$BROWSER_DIR" && npm ls --depth=0 >/dev/null 2>&1); then
        (cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1) \
            || { not_ok "playwright-core and axe-core install from tests/browser/package-lock.json"; test_done; }
    fi
}

# portal_node NAME PORT [ADDRESS]: start node NAME (region NAME) with its
# portal on 127.0.0.1:PORT (or web/address ADDRESS, e.g. "off"), and wait
# until it is connected. Its config is $NET_DIR/NAME-portal.cfg.
portal_node () {
    local name=$1 address=${3:-127.0.0.1:$2}
    printf 'node\n    name = %s\n    region = %s\n    heartbeat = 500ms\n    retry = 1s\nweb\n    address = %s\n' \
        "$name" "$name" "$address" > "$NET_DIR/$name-portal.cfg"
    "$NET_BIN/expertnet-node" -c "$NET_DIR/$name-portal.cfg" --datadir "$NET_DIR/$name" \
        --endpoint "tcp://$NET_HOST:$NET_PORT" >> "$NET_DIR/$name.log" 2>&1 &
    net_track "$name" $!
    net_wait_connected "$name"
}

# Two provinces, peers, on loopback: Overijssel (node twente) on
# $NET_PORT and Gelderland (node achterhoek) on a free port (OPORT,
# GPORT), their keys made and enrolled both ways; start_overijssel and
# start_gelderland [ARGS] start (or restart) each broker, web off, ARGS
# passed on to net_broker.
fed_pair_init () {
    OPORT=$NET_PORT
    GPORT=$(free_port)
    net_fed_keys overijssel gelderland
    NET_BROKER=overijssel net_keys twente
    NET_BROKER=gelderland net_keys achterhoek
}
start_gelderland () {
    net_on gelderland "$GPORT"
    net_broker --set web/address=off --set "federation/peers/overijssel/endpoint=tcp://127.0.0.1:$OPORT" "$@"
}
start_overijssel () {
    net_on overijssel "$OPORT"
    net_broker --set web/address=off --set "federation/peers/gelderland/endpoint=tcp://127.0.0.1:$GPORT" "$@"
}
