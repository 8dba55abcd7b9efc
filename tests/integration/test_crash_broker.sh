#!/usr/bin/env bash
# kill -9 the broker in the middle of 1,000 submitted requests and start
# it again: every request exists exactly once at the broker, was routed
# exactly once, and nothing is stuck.
. "$(dirname "$0")/lib.sh"
test_init
test_network twente
en twente expert add --id se-tw-01 --role superexpert --expertise trauma --capacity 50 >/dev/null
net_until 10 'length == 1' enb --json broker experts || not_ok "expert published"

N=1000
jq -n --argjson n $N '[range(1; $n + 1) | {id: ("twente-c" + (. | tostring)), urgency: "regulier",
    question_type: "consultatie-advies", expertise: ["trauma"], age_band: "12-17"}]' > "$NET_DIR/requests.json"
en twente request submit --file "$NET_DIR/requests.json" --wait 0 > "$NET_DIR/submit.out" 2>&1 &
SUBMIT=$!

DB=$NET_DIR/overijssel/broker.db
for _ in $(seq 400); do
    n=$(sql "$DB" "select count(*) from requests" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 100 ] && break
    sleep 0.05
done
net_kill broker KILL
AT_KILL=$(sql "$DB" "select count(*) from requests")
check "broker killed mid-stream ($AT_KILL of $N stored)" test "$AT_KILL" -gt 0 -a "$AT_KILL" -lt $N
sleep 1
net_broker
wait $SUBMIT
check_eq "all $N submits accepted by the node" "$N" "$(grep -c ' queued\| submitted\| offered\| escalated\| hiaat' "$NET_DIR/submit.out")"
check "node outbox drains after the restart" net_until 60 '.outbox == 0' en twente --json node status
check_eq "every request exists at the broker" "$N" "$(sql "$DB" "select count(*) from requests")"
check_eq "each exactly once (distinct ids)" "$N" "$(sql "$DB" "select count(distinct id) from requests")"
check_eq "each submitted event exactly once" "$N" "$(sql "$DB" "select count(*) from events where type = 'submitted'")"
check_eq "no request processed twice" "0" \
    "$(sql "$DB" "select count(*) from (select request_id from events where type = 'submitted' group by request_id having count(*) > 1)")"
check_eq "routing resumed: none left unrouted" "0" "$(sql "$DB" "select count(*) from requests where state = 'submitted'")"
check_eq "at most one open offer per request" "0" \
    "$(sql "$DB" "select count(*) from (select request_id from offers where state = 'open' group by request_id having count(*) > 1)")"
check_eq "the expert holds exactly its capacity in open offers" "50" "$(sql "$DB" "select count(*) from offers where state = 'open'")"
check "node learns every outcome (none still queued)" \
    net_until 30 'map(select(.state == "queued" or .state == "submitted")) | length == 0' en twente --json request list
test_done
