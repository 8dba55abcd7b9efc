#!/usr/bin/env bash
# A node killed with unacknowledged messages in its outbox: after restart
# it delivers every one, exactly once.
. "$(dirname "$0")/lib.sh"
test_init
test_network twente
en twente expert add --id se-tw-01 --role superexpert --expertise trauma --capacity 50 >/dev/null
net_until 10 'length == 1' enb --json broker experts || not_ok "expert published"

# Broker down: requests pile up in the node's durable outbox
net_kill broker TERM
N=300
jq -n --argjson n $N '[range(1; $n + 1) | {id: ("twente-n" + (. | tostring)), urgency: "hoog",
    question_type: "consultatie-advies", expertise: ["trauma"], age_band: "4-11"}]' > "$NET_DIR/requests.json"
en twente request submit --file "$NET_DIR/requests.json" --wait 0 >/dev/null
check_eq "all $N queued at the node" "$N" "$(en twente --json node status | jq .outbox)"
net_kill twente KILL
check "node killed with its outbox full" test "$(sql "$NET_DIR/twente/node.db" "select count(*) from outbox")" -ge $N

net_broker
net_node twente
check "restarted node reconnects" net_wait_connected twente
check "outbox drains" net_until 30 '.outbox == 0' en twente --json node status
DB=$NET_DIR/overijssel/broker.db
check_eq "every request arrived" "$N" "$(sql "$DB" "select count(*) from requests where id like 'twente-n%'")"
check_eq "each processed exactly once" "$N" "$(sql "$DB" "select count(*) from events where type = 'submitted' and request_id like 'twente-n%'")"

# Now kill the node while it is sending (a second batch mid-flush)
jq -n --argjson n $N '[range(1; $n + 1) | {id: ("twente-m" + (. | tostring)), urgency: "hoog",
    question_type: "consultatie-advies", expertise: ["trauma"], age_band: "4-11"}]' > "$NET_DIR/requests2.json"
en twente request submit --file "$NET_DIR/requests2.json" --wait 0 >/dev/null 2>&1 &
SUBMIT=$!
for _ in $(seq 200); do
    n=$(sql "$DB" "select count(*) from requests where id like 'twente-m%'" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 20 ] && break
    sleep 0.05
done
net_kill twente KILL
wait $SUBMIT
STORED=$(sql "$NET_DIR/twente/node.db" "select count(*) from requests where id like 'twente-m%'")
check "node killed mid-submission ($STORED stored locally)" test "$STORED" -gt 0
net_node twente
check "outbox drains after the second restart" net_until 30 '.outbox == 0' en twente --json node status
check_eq "every locally stored request reached the broker once" "$STORED" \
    "$(sql "$DB" "select count(*) from events where type = 'submitted' and request_id like 'twente-m%'")"
test_done
