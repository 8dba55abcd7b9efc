#!/usr/bin/env bash
# Clocks that disagree lose nothing (issue 10, item 8). The broker runs
# under libfaketime (Debian's faketime) with its clock set from a file, so
# it can start off and jump while running; the nodes and the test keep the
# real time. FAKETIME_DONT_FAKE_MONOTONIC keeps CLOCK_MONOTONIC real: it
# is what a wall-clock step leaves alone.
#   1. broker an hour behind from its start: the node measures the offset,
#      the broker accepts its messages, every acknowledged request arrives
#   2. broker's clock jumps an hour back while running: the same
#   3. broker two hours ahead from its start: the node takes what it sends,
#      and a crisis offer keeps its configured deadline in real time
#   4. broker's clock jumps two hours ahead while running: open offers
#      keep their deadlines
#   5. a refusal for the timestamp is not final: a request queued while
#      the node's clock was 8 days behind (refused "older than 7 days")
#      stays queued and is sent again, not marked rejected
. "$(dirname "$0")/lib.sh"
test_init
FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
if [ -z "$FAKETIME_LIB" ]; then
    not_ok "libfaketime installed (deploy/deps.sh test installs faketime)"
    test_done
fi
CLOCK_FILE=$NET_DIR/broker-clock
echo "+0" > "$CLOCK_FILE"
# (Under make test SANITIZE=1 the ASan runtime must let libfaketime come
# first in the preload list: verify_asan_link_order=0.)
FAKED="env LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$CLOCK_FILE FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
now_ms () { echo $(( $(date +%s%N) / 1000000 )); }

net_keys twente
cp "$NET_ROOT/config/overijssel.cfg" "$NET_DIR/broker.cfg"
sed -i 's/^        crisis = 4s/        crisis = 10m/' "$NET_DIR/broker.cfg"
export NET_BROKER_CONFIG=$NET_DIR/broker.cfg

start_broker () {   # start_broker OFFSET: the broker's clock OFFSET (faketime syntax) from the real one
    echo "$1" > "$CLOCK_FILE"
    NET_EXEC=$FAKED net_broker --set web/address=off || { not_ok "broker starts with its clock at $1"; test_done; }
}
stop_broker () { net_kill broker; echo "+0" > "$CLOCK_FILE"; }
submit () { en twente --json request submit --urgency "$1" --type consultatie-advies --expertise trauma --age-band 12-17 | jq -r .id; }
# Every id in $@ is known to the broker
all_at_broker () {
    local id
    for id in "$@"; do broker_request "$id" | jq -e .state >/dev/null || return 1; done
}
all_reached () { all_at_broker "${IDS[@]}" && echo true; }
node_outbox () { en twente --json node status | jq .outbox; }
# Five requests the node acknowledged all reach the broker: none refused, none left queued
five_requests_arrive () {
    IDS=()
    local i
    for i in 1 2 3 4 5; do IDS+=("$(submit regulier)"); done
    check "every acknowledged request reaches $1" net_until 15 '. == true' all_reached
    check_eq "... none was refused at the node" 0 \
        "$(en twente --json request list | jq '[.[] | select(.state == "rejected")] | length')"
    check "... and the node's outbox empties" net_until 10 '. == 0' node_outbox
}

# --- 1. broker an hour behind from the start
start_broker "-1h"
net_node twente
check "the node connects to a broker an hour behind" net_wait_connected twente
check "the node measures the broker's clock about an hour behind" \
    net_until 10 '.clock.offset_ms < -3590000 and .clock.offset_ms > -3610000' en twente --json node status
en twente expert add --id se-tw-01 --role superexpert --expertise trauma --capacity 20 >/dev/null
five_requests_arrive "a broker an hour behind"
check "the broker shows the node's clock offset" \
    net_until 10 '.nodes[] | select(.name == "twente") | .clock.offset_ms > 3590000' enb --json broker status
check_eq "the broker warns once about the offset" 1 \
    "$(grep -c "clock of twente is +3[56][0-9][0-9]\.[0-9] s.* alert threshold" "$NET_DIR/overijssel.log")"
check_eq "the node warns once about the offset" 1 \
    "$(grep -c "clock of broker is -3[56][0-9][0-9]\.[0-9] s.* alert threshold" "$NET_DIR/twente.log")"
check "broker status shows the offset per node" grep -q 'clock +3[56][0-9][0-9]\.' <<< "$(enb broker status)"
check "node status shows the offset" grep -q "broker's minus ours -3[56][0-9][0-9]\." <<< "$(en twente node status)"

# --- 2. the broker's clock jumps an hour back while the node is connected
stop_broker
start_broker "+0"
net_wait_connected twente
sleep 1
echo "-1h" > "$CLOCK_FILE"
sleep 1
five_requests_arrive "a broker whose clock jumped an hour back"

# --- 3. broker two hours ahead from the start
stop_broker
start_broker "+2h"
check "the node connects to a broker two hours ahead" net_wait_connected twente
check "the node measures the broker two hours ahead" \
    net_until 10 '.clock.offset_ms > 7190000 and .clock.offset_ms < 7210000' en twente --json node status
R=$(submit crisis)
check "the crisis request is offered" wait_state "$R" offered 15
check "the node processes the broker's offer (not ignored as 'from the future')" \
    net_until 10 "[.[] | select(.request_id == \"$R\")] | length == 1" en twente --json expert inbox --all
LEFT=$(en twente --json expert inbox --all | jq --argjson now "$(now_ms)" \
    "[.[] | select(.request_id == \"$R\")][0].deadline - \$now | . / 1000 | round")
check "the crisis offer's deadline at the node is ~10 minutes from now in real time (got ${LEFT}s)" \
    test "$LEFT" -gt 570 -a "$LEFT" -le 601
SPAN=$(enb --json broker offers | jq "[.[] | select(.request_id == \"$R\")][0] | (.deadline - .created) / 1000 | round")
check_eq "the broker gave it the configured 10 minutes" 600 "$SPAN"

# --- 4. the broker's clock jumps two hours ahead while offers are open
stop_broker
start_broker "+0"
net_wait_connected twente
R=$(submit crisis)
check "a crisis request is offered" wait_state "$R" offered 15
echo "+2h" > "$CLOCK_FILE"
sleep 3
check "after a jump ahead of the broker's clock the offer is still open" wait_state "$R" offered 1
check "the broker says its system clock moved" \
    net_until 5 '. == true' bash -c "grep -q 'system clock moved +7[12][0-9][0-9]\.' '$NET_DIR/overijssel.log' && echo true"

# --- 5. a timestamp refusal is kept and retried, not final
stop_broker
net_kill twente
NODE_CLOCK=$NET_DIR/node-clock
echo "-8d" > "$NODE_CLOCK"
NET_EXEC=${FAKED//$CLOCK_FILE/$NODE_CLOCK} net_node twente
net_until 10 '.node == "twente"' en twente --json node status || not_ok "the node runs 8 days behind"
OLD=$(submit regulier)
check "a request is queued while the node's clock is 8 days behind (no broker)" test -n "$OLD"
net_kill twente
net_node twente
start_broker "+0"
net_wait_connected twente
sleep 4                                 # several retries
check_eq "the broker refused it (older than 7 days) and the node kept it: not rejected" "queued" \
    "$(en twente --json request show "$OLD" | jq -r .state)"
#   (the ANCHOR the node queued when it stopped, 8 days behind, waits too)
check_eq "... it is still in the outbox, sent again with backoff" 1 \
    "$(sql "$NET_DIR/twente/node.db" "select count(*) from outbox where command = 'SUBMIT'")"
check_eq "... and the node said so once" 1 \
    "$(grep -c "kept, and sent again until the clocks agree" "$NET_DIR/twente.log")"
stop_broker
test_done
