# deploy/netlib.sh - start and stop an expertnet network on loopback.
#
# Sourced by deploy/demo.sh and the integration tests. Every process it
# starts is recorded by PID in $NET_DIR/pids and stopped by net_stop
# (also from the EXIT trap that net_init installs), so nothing outlives
# the script that started it.
#
#   net_init DIR PORT        fresh run directory, trap, binaries
#   net_keys NAME...         key pairs; nodes enrolled at the broker
#   net_broker [ARGS]        start the broker (config/overijssel.cfg)
#   net_node NAME [ARGS]     start a node (config/NAME.cfg if present)
#   net_wait_connected NAME  until the node says it is connected
#   en NAME ARGS...          run `expertnet` against node NAME
#   enb ARGS...              run `expertnet` against the broker
#   net_free_port            a TCP port nobody uses now (outside the ephemeral range)
#   net_smtp PORT MAILDIR    a real SMTP server on 127.0.0.1:PORT (Debian's
#                            python3-aiosmtpd) storing each mail in MAILDIR
#
# Several brokers (federation): the broker functions act on $NET_BROKER
# listening on $NET_HOST:$NET_PORT (default 127.0.0.1), started under the
# name $NET_TRACK (default "broker") and, when set, inside $NET_EXEC
# (e.g. "ip netns exec ns1"). net_on BROKER PORT sets all three for one
# broker; net_fed_keys enrolls brokers at each other.
#   net_fed_keys NAME...     broker key pairs, each enrolled at all others
#   net_on NAME PORT [HOST]  make NAME the broker the functions act on

NET_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NET_BIN=${NET_BIN:-$NET_ROOT/build/bin}
NET_BROKER=${NET_BROKER:-overijssel}
NET_HOST=${NET_HOST:-127.0.0.1}
NET_TRACK=${NET_TRACK:-broker}
NET_EXEC=${NET_EXEC:-}

net_init () {
    NET_DIR=$1
    NET_PORT=$2
    rm -rf "$NET_DIR"
    mkdir -p "$NET_DIR"
    : > "$NET_DIR/pids"
    trap net_stop EXIT
}

# Stop every process we started: TERM first, KILL what is left.
net_stop () {
    [ -f "$NET_DIR/pids" ] || return 0
    local pids
    pids=$(awk '{print $2}' "$NET_DIR/pids")
    [ -z "$pids" ] && return 0
    kill $pids 2>/dev/null || true
    for _ in $(seq 50); do
        local alive=0
        for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive -eq 0 ] && break
        sleep 0.1
    done
    kill -9 $pids 2>/dev/null || true
    : > "$NET_DIR/pids"
    return 0
}

# Remember a background process under a name (and keep bash from
# reporting its death: we kill some on purpose).
net_track () {
    echo "$1 $2" >> "$NET_DIR/pids"
    disown "$2" 2>/dev/null || true
}

net_pid () {
    awk -v n="$1" '$1 == n {p = $2} END {print p}' "$NET_DIR/pids"
}

# Kill one tracked process (signal $2, default TERM) and wait for it.
net_kill () {
    local pid
    pid=$(net_pid "$1")
    [ -n "$pid" ] || return 0
    kill -"${2:-TERM}" "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    awk -v n="$1" '$1 != n' "$NET_DIR/pids" > "$NET_DIR/pids.new" && mv "$NET_DIR/pids.new" "$NET_DIR/pids"
}

net_keys () {
    "$NET_BIN/expertnet" keygen --name "$NET_BROKER" --dir "$NET_DIR/$NET_BROKER/keys" >/dev/null 2>&1 || true
    local name
    for name in "$@"; do
        "$NET_BIN/expertnet" keygen --name "$name" --dir "$NET_DIR/$name/keys" >/dev/null
        cp "$NET_DIR/$NET_BROKER/keys/$NET_BROKER.cert" "$NET_DIR/$name/keys/broker.cert"
        "$NET_BIN/expertnet" enroll "$NET_DIR/$name/keys/$name.cert" --broker "$NET_DIR/$NET_BROKER" \
            --region "$(net_region "$name")" >/dev/null
    done
}

# net_region NAME: the region node NAME serves (the broker binds it at
# enrollment): its config's, else $NET_REGION, else its name.
net_region () {
    local config=$NET_ROOT/config/$1.cfg region=
    [ -f "$config" ] && region=$(sed -n 's/^ *region *= *\([a-z0-9-]*\).*/\1/p' "$config" | head -1)
    echo "${region:-${NET_REGION:-$1}}"
}

net_broker () {
    local config=${NET_BROKER_CONFIG:-$NET_ROOT/config/$NET_BROKER.cfg}
    #   The shipped config's dashboard port is not ours to take: off, unless
    #   the caller passes its own (a later --set wins) or its own config
    local web=()
    [ -z "${NET_BROKER_CONFIG:-}" ] && web=(--set web/address=off)
    $NET_EXEC "$NET_BIN/expertnet-broker" -c "$config" --datadir "$NET_DIR/$NET_BROKER" \
        --endpoint "tcp://$NET_HOST:$NET_PORT" "${web[@]}" "$@" >> "$NET_DIR/$NET_BROKER.log" 2>&1 &
    net_track "$NET_TRACK" $!
    local i
    for i in $(seq 100); do
        "$NET_BIN/expertnet" --broker "$NET_DIR/$NET_BROKER" --timeout 200 broker status >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "broker did not start; its log:" >&2
    tail -5 "$NET_DIR/$NET_BROKER.log" >&2
    return 1
}

net_node () {
    local name=$1
    shift
    local config=$NET_ROOT/config/$name.cfg
    local args=()
    if [ -f "$config" ]; then
        args=(-c "$config")
    else
        printf 'node\n    name = %s\n    region = %s\n    heartbeat = 500ms\n    retry = 1s\n' \
            "$name" "${NET_REGION:-$name}" > "$NET_DIR/$name.cfg"
        args=(-c "$NET_DIR/$name.cfg")
    fi
    $NET_EXEC "$NET_BIN/expertnet-node" "${args[@]}" --datadir "$NET_DIR/$name" \
        --endpoint "tcp://$NET_HOST:$NET_PORT" "$@" >> "$NET_DIR/$name.log" 2>&1 &
    net_track "$name" $!
}

net_wait_connected () {
    local i
    for i in $(seq 100); do
        en "$1" --timeout 200 node status --json 2>/dev/null | jq -e '.connected' >/dev/null && return 0
        sleep 0.1
    done
    echo "node $1 did not connect; its log:" >&2
    tail -5 "$NET_DIR/$1.log" >&2
    return 1
}

# A TCP port nobody uses now, below the kernel's ephemeral range: a port in
# that range can be taken between this check and the bind by any outgoing
# connection (a node's, curl's) as its local port, which made a broker's
# bind fail "Address already in use" once in a few hundred runs. Checked
# with ss against sockets in every state, not only listeners.
net_free_port () {
    local lo hi port
    read -r lo hi < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || { lo=32768; hi=60999; }
    if [ "$lo" -gt 12000 ]; then lo=$(( lo - 10000 )); hi=10000   # [lo-10000, lo)
    else lo=$(( hi + 1 )); hi=$(( 65535 - hi )); fi              # above the range
    [ "$hi" -gt 0 ] || { echo "net_free_port: no port outside the ephemeral range" >&2; return 1; }
    while :; do
        port=$(( lo + (RANDOM * 32768 + RANDOM) % hi ))
        ss -Htan "sport = :$port" 2>/dev/null | grep -q . || { echo $port; return; }
    done
}

# A real SMTP server on loopback for the nodes' notifications: Debian's
# aiosmtpd with its Mailbox handler (one file per accepted mail in
# MAILDIR/new). Tracked as "smtp" and stopped by PID like the rest.
# Debian's own python3, where python3-aiosmtpd is installed.
net_smtp () {
    local port=$1 maildir=$2
    /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$maildir" \
        >> "$NET_DIR/smtp.log" 2>&1 &
    net_track smtp $!
    local i
    for i in $(seq 100); do
        ss -Htln "sport = :$port" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    echo "SMTP server did not start; its log:" >&2
    tail -5 "$NET_DIR/smtp.log" >&2
    return 1
}

net_fed_keys () {
    local b o
    for b in "$@"; do
        [ -f "$NET_DIR/$b/keys/$b.cert" ] || "$NET_BIN/expertnet" keygen --name "$b" --dir "$NET_DIR/$b/keys" >/dev/null
    done
    for b in "$@"; do
        for o in "$@"; do
            [ "$b" = "$o" ] || "$NET_BIN/expertnet" enroll "$NET_DIR/$o/keys/$o.cert" --broker "$NET_DIR/$b" >/dev/null
        done
    done
}

net_on () {
    NET_BROKER=$1
    NET_PORT=$2
    NET_HOST=${3:-127.0.0.1}
    NET_TRACK=broker-$1
    NET_BROKER_CONFIG=$NET_DIR/$1.cfg
    [ -f "$NET_BROKER_CONFIG" ] || NET_BROKER_CONFIG=$NET_ROOT/config/$1.cfg
}

en () {
    local name=$1
    shift
    "$NET_BIN/expertnet" --node "$NET_DIR/$name" "$@"
}

enb () {
    "$NET_BIN/expertnet" --broker "$NET_DIR/$NET_BROKER" "$@"
}

# Wait until a command's output matches a jq filter: net_until SECS 'FILTER' CMD...
net_until () {
    local secs=$1 filter=$2
    shift 2
    local end=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
    while [ $(( $(date +%s%N) / 1000000 )) -lt $end ]; do
        "$@" 2>/dev/null | jq -e "$filter" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}
