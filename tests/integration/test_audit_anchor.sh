#!/usr/bin/env bash
# An access log rewritten whole is caught by its anchors (issue 10, item 7).
# The node sends its log's head to the broker (ANCHOR); the broker keeps
# every head and logs each in its own chain. Someone who holds node.db
# then edits an entry and re-hashes every entry after it and the head:
# `audit verify` alone still passes (the chain is consistent), but
# `audit verify --anchors FILE`, with the heads the broker holds
# (`expertnet --broker DIR audit anchors --node twente`), fails and says
# which anchored head the log no longer holds.
. "$(dirname "$0")/lib.sh"
test_init
quiet () { "$@" >/dev/null; }
net_keys twente
net_broker || { not_ok "broker starts"; test_done; }
net_node twente --set node/anchor_interval=1s
net_wait_connected twente || { not_ok "node connects"; test_done; }
en twente expert add --id se-tw-01 --role superexpert --expertise trauma --capacity 5 >/dev/null
for i in 1 2 3; do
    en twente request submit --urgency regulier --type consultatie-advies --expertise trauma \
        --age-band 12-17 >/dev/null
done

HEAD=$(en twente --json audit verify | jq .head_seq)
check "the node's log has entries (head $HEAD)" test "$HEAD" -ge 3
check "the node anchors its head at the broker" \
    net_until 10 "[.anchors[].seq] | max == $HEAD" enb --json audit anchors --node twente
check "the broker logs each anchor in its own chain" \
    net_until 5 '[.[] | select(.event == "audit.anchor" and .actor == "twente")] | length >= 1' \
    enb --json audit show --broker
check "the broker's own chain is intact" quiet enb audit verify --broker
enb audit anchors --node twente > "$NET_DIR/anchors-before.json"
check "the node's log verifies against its anchors" quiet en twente audit verify --anchors "$NET_DIR/anchors-before.json"
check_exit "an anchors file that is not one is a usage error" 2 \
    en twente audit verify --anchors "$NET_DIR/twente.log"

# Rewrite the whole log at rest: entry 1 gets another actor, and every
# hash from there on and the head are computed afresh (docs/audit.md)
net_kill twente TERM
python3 "$(dirname "$0")/audit_rewrite.py" "$NET_DIR/twente/node.db"
check "the log was rewritten at rest" test $? -eq 0
net_node twente
net_wait_connected twente || not_ok "node reconnects"
check "without anchors the rewritten log still verifies (what anchors are for)" quiet en twente audit verify
enb audit anchors --node twente > "$NET_DIR/anchors.json"
check_exit "against the broker's anchors verify fails" 1 en twente audit verify --anchors "$NET_DIR/anchors.json"
OUT=$(en twente audit verify --anchors "$NET_DIR/anchors.json")
check "... saying the log was rewritten" grep -q "anchored head .*the log was rewritten" <<< "$OUT"
check_eq "... in JSON too" "false" "$(en twente --json audit verify --anchors "$NET_DIR/anchors.json" | jq .intact)"

# At shutdown the node anchors its head (its interval is 15 minutes now)
en twente request submit --urgency regulier --type consultatie-advies --expertise trauma --age-band 12-17 >/dev/null
HEAD=$(en twente --json audit verify | jq .head_seq)
net_kill twente TERM
check "a stopping node anchors its head ($HEAD)" \
    net_until 5 "[.anchors[].seq] | max == $HEAD" enb --json audit anchors --node twente
test_done
