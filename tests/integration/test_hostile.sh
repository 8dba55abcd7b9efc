#!/usr/bin/env bash
# test_hostile - a node with a valid key sends everything a broken or
# hostile peer could: malformed frames, bad ids, other nodes' names,
# oversized bodies and frames, invalid and unknown fields, duplicates,
# forged or stale signatures (zeroed, altered after signing, an unknown
# key pair, 8 days old, 10 minutes ahead), message ids replayed with other
# content, and 500 randomly damaged messages (build/tests/probe, scenario
# "hostile"; EXPN3, signed unless a check is about the signature).
# The broker must answer each with the right ERROR, process the one valid
# request exactly once, stay up, and store nothing else.
. "$(dirname "$0")/lib.sh"
PROBE=$NET_ROOT/build/tests/probe
[ -x "$PROBE" ] || { echo "not ok - $PROBE missing (make unit-bins)"; exit 1; }

# json_true FILTER: stdin (JSON) satisfies the jq filter.
json_true () { jq -e "$1" >/dev/null 2>&1; }

test_init
net_keys twente
net_broker || exit 1
broker_pid=$(net_pid broker)

"$PROBE" --endpoint "tcp://127.0.0.1:$NET_PORT" --server-cert "$NET_DIR/twente/keys/broker.cert" \
    --cert-dir "$NET_DIR/twente/keys" --name twente hostile > "$NET_DIR/probe.out" 2> "$NET_DIR/probe.err"
probe_rc=$?
cat "$NET_DIR/probe.out"
check_eq "probe: every hostile message answered as specified" 0 "$probe_rc"

request=$(awk '$1 == "#" && $2 == "request" {print $3}' "$NET_DIR/probe.out")
accepted=$(awk '$1 == "#" && $2 == "accepted-submits" {print $3}' "$NET_DIR/probe.out")
check "probe reported the request it submitted" test -n "$request"
check_eq "exactly one SUBMIT accepted" 1 "$accepted"
submit=$(awk '$1 == "#" && $2 == "submit" {print $3}' "$NET_DIR/probe.out")
refused_requests=$(awk '$1 == "#" && $2 == "refused-request" {print $3}' "$NET_DIR/probe.out")
refused_submits=$(awk '$1 == "#" && $2 == "refused-submit" {print $3}' "$NET_DIR/probe.out")
check "probe reported the message id of its SUBMIT" test -n "$submit"
# x (valid body under a refused id), s0-s3 (signatures), t1-t2 (time),
# r1 (another request under a used message id), pii (personal data in the question)
check_eq "probe reported 9 refused requests" 9 "$(wc -w <<< "$refused_requests")"
check_eq "probe reported 6 SUBMITs refused for signature or time" 6 "$(wc -w <<< "$refused_submits")"

check "broker process still alive" kill -0 "$broker_pid"
status=$(enb --json broker status 2>/dev/null)
check "broker status answers" test -n "$status"
check "messages_refused > 0" json_true '.messages_refused > 0' <<< "$status"
check "messages_received >= 500" json_true '.messages_received >= 500' <<< "$status"

# The valid request: once, from twente, routed (no experts: a hiaat).
shown=$(broker_request "$request")
check_eq "the request is at the broker" "$request" "$(jq -r '.id // empty' <<< "$shown")"
check_eq "its origin is the probe's node" twente "$(jq -r '.origin // empty' <<< "$shown")"
check_eq "it was routed (no experts: hiaat)" hiaat "$(jq -r '.state // empty' <<< "$shown")"
check_eq "it was submitted once (one 'submitted' event)" 1 \
    "$(jq '[.events[]? | select(.type == "submitted")] | length' <<< "$shown")"

# Nothing half-valid in the database.
db=$NET_DIR/$NET_BROKER/broker.db
check_eq "requests table holds only the valid request" "1|$request" \
    "$(sql "$db" "select count(*), group_concat(id) from requests")"
check_eq "no request from another node's name" 0 \
    "$(sql "$db" "select count(*) from requests where origin != 'twente'")"
check_eq "no offers" 0 "$(sql "$db" "select count(*) from offers")"
check_eq "no experts" 0 "$(sql "$db" "select count(*) from experts")"
check_eq "events only for the valid request (submitted, hiaat)" 2 \
    "$(sql "$db" "select count(*) from events where request_id = '$request'")"
check_eq "no events for anything else" 0 \
    "$(sql "$db" "select count(*) from events where request_id != '$request'")"
check_eq "one hiaat record" 1 "$(sql "$db" "select count(*) from hiaten")"
check_eq "database integrity" ok "$(sql "$db" "pragma integrity_check")"
check_eq "the node's region is still twente" twente \
    "$(sql "$db" "select region from nodes where name = 'twente'")"

# Signatures and replays left no trace, and changed nothing.
stored=0
for r in $refused_requests; do
    stored=$((stored + $(sql "$db" "select count(*) from requests where id = '$r'")))
done
check_eq "none of the refused requests is stored" 0 "$stored"
traced=0
for m in $refused_submits; do
    traced=$((traced + $(sql "$db" "select count(*) from seen where msg_id = '$m'")))
done
check_eq "SUBMITs refused for signature or time are not in the dedup table" 0 "$traced"
check_eq "the request is the probe's first SUBMIT (msg_id)" "$submit" \
    "$(sql "$db" "select msg_id from requests where id = '$request'")"
check_eq "its urgency is unchanged by the replays (hoog)" hoog \
    "$(sql "$db" "select urgency from requests where id = '$request'")"
check_eq "its summary too" hoog "$(sql "$db" "select summary from requests where id = '$request'" | jq -r .urgency)"
check_eq "its dedup record: processed (code 0), with a 64-hex digest" "0|64" \
    "$(sql "$db" "select code, length(digest) from seen where msg_id = '$submit'")"
read -r once once_code <<< "$(awk '$1 == "#" && $2 == "refused-once" {print $3, $4}' "$NET_DIR/probe.out")"
check_eq "a refused SUBMIT keeps its recorded refusal after a replay ($once_code)" "$once_code" \
    "$(sql "$db" "select code from seen where msg_id = '${once:-none}'")"
log=$NET_DIR/$NET_BROKER.log
check "broker log names the signature refusals" grep -q "signature does not verify" "$log"
check "broker log names the stale timestamp" grep -q "possible replay" "$log"
check "broker log names the message id reused for different content" grep -q "different content" "$log"

# The broker still serves a well-behaved node afterwards, with the same PID.
net_node twente
check "a real node connects after the attack" net_wait_connected twente
check_eq "same broker process" "$broker_pid" "$(net_pid broker)"
check "broker process still alive at the end" kill -0 "$broker_pid"
check "broker log has no crash or assertion" bash -c "! grep -Eiq 'assert|segfault|abort' '$NET_DIR/$NET_BROKER.log'"

test_done
