#!/usr/bin/env bash
# test_batch_node: a real node against a broker that sends it hostile
# BATCHes (EXPN/3, docs/protocol.md "BATCH"; build/tests/fakebroker). A
# valid BATCH gets each of its messages answered; a BATCH that repeats an
# id, lacks a body, holds an id that is no id, holds 129 messages, is over
# 64 KiB or carries a forged signature is refused whole (none of its
# messages answered, none recorded: the same message alone is answered
# afterwards); the node logs what it refused and stays up.
. "$(dirname "$0")/lib.sh"
FAKE=$NET_ROOT/build/tests/fakebroker
[ -x "$FAKE" ] || { echo "not ok - $FAKE missing (make unit-bins)"; exit 1; }

test_init
net_keys twente
"$FAKE" --cert-dir "$NET_DIR/$NET_BROKER/keys" --name "$NET_BROKER" --endpoint "tcp://127.0.0.1:$NET_PORT" \
    > "$NET_DIR/fake.out" 2> "$NET_DIR/fake.err" &
fake_pid=$!
net_node twente
node_pid=$(net_pid twente)
wait "$fake_pid"
fake_rc=$?
cat "$NET_DIR/fake.out"
check_eq "fake broker: every hostile BATCH handled as specified" 0 "$fake_rc"
check "the node logged the BATCHes it could not unpack" grep -q "undecodable BATCH .* from broker: 400" \
    "$NET_DIR/twente.log"
check "the node ignored the BATCH with a forged signature" grep -q "ignored BATCH .* signature does not verify" \
    "$NET_DIR/twente.log"
check "the node is still running" kill -0 "$node_pid"
check "the node log has no crash or assertion" lacks -E "Assertion|AddressSanitizer|runtime error" \
    "$NET_DIR/twente.log"
test_done
