#!/usr/bin/env bash
# Strict configuration (issue 10, item 10): a misspelled key or a bad
# value stops a daemon at start with the file, the line and the key named,
# and on SIGHUP is refused with a log line, the old configuration kept.
. "$(dirname "$0")/lib.sh"
test_init
net_keys twente
X=$NET_BIN/expertnet

# starts DESCRIPTION EXPECTED-MESSAGE PROGRAM ARGS...: exits 1 at once, saying EXPECTED-MESSAGE
refuses_start () {
    local what=$1 want=$2
    shift 2
    local out
    out=$(timeout 10 "$@" --endpoint "tcp://127.0.0.1:$NET_PORT" 2>&1)
    local rc=$?
    check_eq "$what: refused at start (exit 1)" 1 "$rc"
    check "... saying: $want" grep -qF -- "$want" <<< "$out"
}

# --- at start: broker
B=$NET_DIR/broker.cfg
cp "$NET_ROOT/config/overijssel.cfg" "$B"
sed -i 's|^    endpoint = tcp://127.0.0.1:7700|    endpont = tcp://127.0.0.1:7700|' "$B"
LINE=$(grep -n 'endpont' "$B" | cut -d: -f1)
refuses_start "broker with 'endpont'" "$B:$LINE: broker/endpont is not a known key" \
    "$NET_BIN/expertnet-broker" -c "$B" --datadir "$NET_DIR/overijssel" --set web/address=off
cp "$NET_ROOT/config/overijssel.cfg" "$B"
sed -i 's/^        crisis = 4s/        crisis = tien minuten/' "$B"
LINE=$(grep -n 'tien minuten' "$B" | cut -d: -f1)
refuses_start "broker with 'crisis = tien minuten'" \
    "$B:$LINE: routing/deadline/crisis = 'tien minuten' is not a duration" \
    "$NET_BIN/expertnet-broker" -c "$B" --datadir "$NET_DIR/overijssel" --set web/address=off
cp "$NET_ROOT/config/overijssel.cfg" "$B"
refuses_start "broker with a misspelled --set" "--set" \
    "$NET_BIN/expertnet-broker" -c "$B" --datadir "$NET_DIR/overijssel" --set web/adress=off
printf 'broker\n    name = overijssel\n    heartbeat = 1s\nrouting\n    grace = 1s\n    deadlines\n        crisis = 4s\n' > "$B"
refuses_start "broker with an unknown section" "$B:6: routing/deadlines is not a known section" \
    "$NET_BIN/expertnet-broker" -c "$B" --datadir "$NET_DIR/overijssel" --set web/address=off

# --- at start: node
N=$NET_DIR/twente-bad.cfg
printf 'node\n    name = twente\n    region = twente\n    heartbeat = 500ms\n    retyr = 1s\n' > "$N"
refuses_start "node with 'retyr'" "$N:5: node/retyr is not a known key" \
    "$NET_BIN/expertnet-node" -c "$N" --datadir "$NET_DIR/twente"
printf 'node\n    name = twente\n    region = twente\nnotify\n    starttls = misschien\n' > "$N"
refuses_start "node with 'starttls = misschien'" "$N:5: notify/starttls = 'misschien' must be one of off|try|required" \
    "$NET_BIN/expertnet-node" -c "$N" --datadir "$NET_DIR/twente"
printf 'node\n    name = twente\n    region = twente\nweb\n    address = 127.0.0.1:0\n    secure_cookie = ja\n' > "$N"
refuses_start "node with 'secure_cookie = ja'" "$N:6: web/secure_cookie = 'ja' must be true or false" \
    "$NET_BIN/expertnet-node" -c "$N" --datadir "$NET_DIR/twente"

# Every configuration we ship passes (and each key the web branch adds)
for f in "$NET_ROOT"/config/{overijssel,gelderland}.cfg "$NET_ROOT"/deploy/etc/broker.cfg "$NET_ROOT"/config/national/brokers/*.cfg; do
    out=$("$NET_BIN/expertnet-broker" -c "$f" --datadir "$NET_DIR/nokeys" 2>&1)
    grep -q "no key pair" <<< "$out" || not_ok "shipped $(basename "$f") passes the broker's schema: $out"
done
for f in "$NET_ROOT"/config/{twente,ijsselland,ec-overijssel,achterhoek}.cfg "$NET_ROOT"/deploy/etc/node.cfg \
         "$NET_ROOT"/config/national/nodes/*.cfg; do
    out=$("$NET_BIN/expertnet-node" -c "$f" --datadir "$NET_DIR/nokeys" 2>&1)
    grep -q "no key pair\|keys/" <<< "$out" || not_ok "shipped $(basename "$f") passes the node's schema: $out"
done
printf 'node\n    name = twente\nweb\n    address = 127.0.0.1:0\n    tls_cert = a\n    tls_key = b\n    session = 8h\n    idle = 30m\n    attempts = 5\n    lockout = 60s\n    secure_cookie = true\n    max_body = 65536\n    public_url = https://x\n    totp_required = expert\n    trusted_proxy = 127.0.0.1\naccounts\n    kdf = moderate\n' > "$N"
out=$("$NET_BIN/expertnet-node" -c "$N" --datadir "$NET_DIR/nokeys" 2>&1)
check "the node accepts every key of the portal's web section" grep -q "no key pair" <<< "$out"

# --- on SIGHUP: refused, logged, the old configuration kept
cp "$NET_ROOT/config/overijssel.cfg" "$B"
sed -i 's/^        hoog = 30s/        hoog = 45s/' "$B"
NET_BROKER_CONFIG=$B net_broker --set web/address=off || { not_ok "broker starts"; test_done; }
NODE_CFG=$NET_DIR/twente.cfg
printf 'node\n    name = twente\n    region = twente\n    heartbeat = 500ms\n    retry = 1s\n' > "$NODE_CFG"
net_node twente -c "$NODE_CFG"     # (the last -c counts)
net_wait_connected twente || { not_ok "node connects"; test_done; }
en twente expert add --id se-tw-01 --role superexpert --expertise trauma --capacity 5 >/dev/null
net_until 10 'length == 1' enb --json broker experts || not_ok "expert published"
BROKER=$(net_pid broker)
deadline_of () {
    enb --json broker offers | jq -r ".[] | select(.request_id == \"$1\") | ((.deadline - .created) / 1000 | round)"
}
sed -i 's/^        hoog = 45s/        hoog = 2h/; s/^    retry = 1s/    retyr = 1s/' "$B"
LINE=$(grep -n 'retyr' "$B" | cut -d: -f1)
kill -HUP "$BROKER"
check "broker logs the refused reload with file, line and key" net_until 5 '. == true' \
    bash -c "grep -qF 'SIGHUP: configuration not reloaded, running on with the old one: $B:$LINE: broker/retyr is not a known key' '$NET_DIR/overijssel.log' && echo true"
check "... and runs on" kill -0 "$BROKER"
R=$(en twente --json request submit --urgency hoog --type consultatie-advies --expertise trauma --age-band 4-11 | jq -r .id)
wait_state "$R" offered
check_eq "... with the old configuration (hoog 45s, not the 2h of the refused file)" 45 "$(deadline_of "$R")"
sed -i 's/^    retyr = 1s/    retry = 1s/' "$B"
kill -HUP "$BROKER"
check "once fixed, SIGHUP applies it" net_until 5 '. == true' \
    bash -c "grep -q 'configuration reloaded: deadlines crisis 4s, hoog 7200s' '$NET_DIR/overijssel.log' && echo true"

printf '    hartbeat = 2s\n' >> "$NODE_CFG"
kill -HUP "$(net_pid twente)"
check "node logs the refused reload with file, line and key" net_until 5 '. == true' \
    bash -c "grep -qF 'SIGHUP: configuration not reloaded, running on with the old one: $NODE_CFG:6: node/hartbeat is not a known key' '$NET_DIR/twente.log' && echo true"
check "... runs on and stays connected" net_wait_connected twente
test_done
