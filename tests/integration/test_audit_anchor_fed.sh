#!/usr/bin/env bash
# Brokers anchor their access logs at each other (issue 10, item 7): the
# head of overijssel's log goes to its peer gelderland over the federation
# link; rewritten whole at rest, overijssel's log still verifies alone but
# fails against the heads gelderland holds.
. "$(dirname "$0")/lib.sh"
test_init
quiet () { "$@" >/dev/null; }
OPORT=$NET_PORT
GPORT=$(free_port)
net_fed_keys overijssel gelderland
net_on overijssel "$OPORT"
net_keys twente
start_overijssel () {
    net_on overijssel "$OPORT"
    net_broker --set web/address=off --set "federation/peers/gelderland/endpoint=tcp://127.0.0.1:$GPORT" \
        --set broker/anchor_interval=1s
}
start_overijssel || { not_ok "overijssel starts"; test_done; }
net_on gelderland "$GPORT"
net_broker --set web/address=off --set "federation/peers/overijssel/endpoint=tcp://127.0.0.1:$OPORT" \
    || { not_ok "gelderland starts"; test_done; }
net_on overijssel "$OPORT"
net_node twente --set node/anchor_interval=1s
net_wait_connected twente || { not_ok "twente connects"; test_done; }
en twente expert add --id se-tw-01 --role superexpert --expertise trauma --capacity 5 >/dev/null
en twente request submit --urgency regulier --type consultatie-advies --expertise trauma --age-band 12-17 >/dev/null

ov () { "$NET_BIN/expertnet" --broker "$NET_DIR/overijssel" "$@"; }
ge () { "$NET_BIN/expertnet" --broker "$NET_DIR/gelderland" "$@"; }
check "overijssel's log grows (the request, twente's anchors)" \
    net_until 10 '.head_seq >= 3' ov --json audit verify --broker
# Anchored at gelderland: wait for a head of at least 3 there
check "overijssel anchors its head at its peer gelderland" \
    net_until 15 '[.anchors[].seq] | max >= 3' ge --json audit anchors --node overijssel
check "gelderland logs it in its own chain" \
    net_until 5 '[.[] | select(.event == "audit.anchor" and .actor == "overijssel")] | length >= 1' \
    ge --json audit show --broker
ge audit anchors --node overijssel > "$NET_DIR/ov-anchors.json"
check "overijssel's log verifies against gelderland's anchors" \
    quiet ov audit verify --broker --anchors "$NET_DIR/ov-anchors.json"

net_kill twente TERM
net_kill broker-overijssel TERM
python3 "$(dirname "$0")/audit_rewrite.py" "$NET_DIR/overijssel/broker.db"
check "overijssel's log was rewritten at rest" test $? -eq 0
start_overijssel || not_ok "overijssel starts again"
check "alone, the rewritten log verifies" quiet ov audit verify --broker
ge audit anchors --node overijssel > "$NET_DIR/ov-anchors.json"
check_exit "against gelderland's anchors it fails" 1 ov audit verify --broker --anchors "$NET_DIR/ov-anchors.json"
check "... saying the log was rewritten" \
    grep -q "the log was rewritten" <<< "$(ov audit verify --broker --anchors "$NET_DIR/ov-anchors.json")"
test_done
