#!/usr/bin/env bash
# A damaged or lost store is noticed (issue 10, item 9):
# * garbage inside broker.db: the broker refuses to start, naming the file;
# * broker.db emptied: refused unless started with --new-store (the data
#   directory's store.id says a store lived there);
# * with --new-store the node sees the broker's new store identity, says
#   so, and re-sends its open requests, which reach the new store once
#   each; a closed request is not opened again;
# * garbage inside node.db: the node refuses to start, naming the file.
. "$(dirname "$0")/lib.sh"
test_init
net_keys twente
net_broker || { not_ok "broker starts"; test_done; }
net_node twente --set node/resubmit_delay=1s
net_wait_connected twente || { not_ok "node connects"; test_done; }
en twente expert add --id se-tw-01 --role superexpert --expertise trauma --capacity 50 >/dev/null
net_until 10 'length == 1' enb --json broker experts || not_ok "expert published"

BDIR=$NET_DIR/$NET_BROKER
DB=$BDIR/broker.db
check "the broker wrote its store's identity next to the store" test -s "$BDIR/store.id"
STORE1=$(enb --json broker status | jq -r .store)
check_eq "status shows the store id of store.id" "$(cat "$BDIR/store.id")" "$STORE1"
check "the node learned it from WELCOME" \
    net_until 5 ".broker_store.store_id == \"$STORE1\"" en twente --json node status

N=12
jq -n --argjson n $N '[range(1; $n + 1) | {id: ("twente-s" + (. | tostring)), urgency: "regulier",
    question_type: "consultatie-advies", expertise: ["trauma"], age_band: "4-11"}]' > "$NET_DIR/requests.json"
en twente request submit --file "$NET_DIR/requests.json" >/dev/null
check "all $N requests offered" net_until 15 "[.[] | select(.state == \"offered\")] | length == $N" \
    enb --json broker requests
en twente request close twente-s1 --outcome "niet meer nodig" >/dev/null
check "one request closed" wait_state twente-s1 closed
check "... and the node knows" net_until 5 '.state == "closed"' en twente --json request show twente-s1

# A broker start that is expected to be refused: it must exit by itself
start_refused () {
    timeout 10 "$NET_BIN/expertnet-broker" -c "$NET_ROOT/config/$NET_BROKER.cfg" --datadir "$BDIR" \
        --endpoint "tcp://127.0.0.1:$NET_PORT" "$@" > "$NET_DIR/refused.log" 2>&1
}

# 1. Garbage inside the file
net_kill broker TERM
cp "$DB" "$NET_DIR/broker.db.good"
PAGES=$(( $(stat -c %s "$DB") / 4096 ))
check "the store has pages to damage ($PAGES)" test "$PAGES" -ge 8
dd if=/dev/urandom of="$DB" bs=4096 seek=2 count=$(( PAGES - 4 )) conv=notrunc status=none
start_refused
RC=$?
check_eq "garbage in broker.db: the broker refuses to start" 1 "$RC"
check "... naming the file and the damage" grep -q "database $DB is damaged" "$NET_DIR/refused.log"

# 2. The good store back: starts as before, same identity
cp "$NET_DIR/broker.db.good" "$DB"
net_broker || not_ok "broker starts on its restored store"
check_eq "same store identity" "$STORE1" "$(enb --json broker status | jq -r .store)"
check "the node reconnects" net_wait_connected twente

# 3. Emptied: refused without --new-store
net_kill broker TERM
: > "$DB"
rm -f "$DB-wal" "$DB-shm"
start_refused
RC=$?
check_eq "broker.db emptied: the broker refuses to start" 1 "$RC"
check "... naming the file and the way out" \
    grep -q "database $DB is empty (0 bytes), but $BDIR/store.id says store $STORE1 lived here.*--new-store" \
    "$NET_DIR/refused.log"
rm -f "$DB"
start_refused
check "broker.db missing: refused too" grep -q "database $DB is missing" "$NET_DIR/refused.log"

# 4. --new-store: a new identity; the node notices and re-sends its open requests
net_broker --new-store || not_ok "broker starts with --new-store"
STORE2=$(enb --json broker status | jq -r .store)
check "the new store has a new identity" test -n "$STORE2" -a "$STORE2" != "$STORE1"
check_eq "store.id names the new store" "$STORE2" "$(cat "$BDIR/store.id")"
check "the node records the change" \
    net_until 10 ".broker_store.store_id == \"$STORE2\" and .broker_store.previous == \"$STORE1\"" \
    en twente --json node status
check "... and says it loudly" grep -q "BROKER STORE CHANGED" "$NET_DIR/twente.log"
OPEN=$((N - 1))
check "the $OPEN open requests reach the new store" \
    net_until 20 "[.[] | select(.id | startswith(\"twente-s\"))] | length == $OPEN" enb --json broker requests
check "... and are offered again" \
    net_until 15 "[.[] | select(.state == \"offered\")] | length == $OPEN" enb --json broker requests
check "the node counts what it re-sent" net_until 5 ".broker_store.resubmitted == $OPEN" en twente --json node status
check "node status says so" grep -q "BROKER STORE CHANGED .*was $STORE1, now $STORE2; open requests re-sent" \
    <<< "$(en twente node status)"
check "broker status shows the store" grep -q "^  store $STORE2" <<< "$(enb broker status)"
# A restart of the node does not send them again
net_kill twente TERM
net_node twente --set node/resubmit_delay=1s
check "the node reconnects" net_wait_connected twente
sleep 3
check_eq "each open request reached the new store once" "$OPEN" \
    "$(sql "$DB" "select count(*) from events where type = 'submitted' and request_id like 'twente-s%'")"
check_eq "... as one request each" "$OPEN" "$(sql "$DB" "select count(distinct request_id) from events where type = 'submitted'")"
check_eq "the closed request was not opened again" 0 \
    "$(sql "$DB" "select count(*) from requests where id = 'twente-s1'")"
check "the node's timeline of a request shows the re-send" \
    net_until 5 '[.events[].event] | index("resubmitted") != null' en twente --json request show twente-s2

# 5. A restored backup, started with --new-store: a new identity too, so
#    the node re-sends; the broker knew those requests and takes none twice
net_kill broker TERM
cp "$NET_DIR/broker.db.good" "$DB"
rm -f "$DB-wal" "$DB-shm"
net_broker --new-store || not_ok "broker starts on the restored store with --new-store"
STORE3=$(enb --json broker status | jq -r .store)
check "the restored store gets a new identity" test "$STORE3" != "$STORE1" -a "$STORE3" != "$STORE2"
check "the node re-sends its open requests to it" \
    net_until 15 ".broker_store.store_id == \"$STORE3\" and .broker_store.resubmitted == $OPEN" \
    en twente --json node status
sleep 2
check_eq "the restored store answers each re-send with 409 (it knows them)" "$OPEN" \
    "$(grep -c "broker refused [0-9a-f]*: 409 request id 'twente-s" "$NET_DIR/twente.log")"
check_eq "... and took none of them twice" "$N" \
    "$(sql "$DB" "select count(*) from events where type = 'submitted' and request_id like 'twente-s%'")"
check_eq "the node still has them open (a 409 to a re-send rejects nothing)" 0 \
    "$(en twente --json request list --state rejected | jq length)"

# 6. The node's own store: garbage inside is refused too
net_kill twente TERM
NDB=$NET_DIR/twente/node.db
NPAGES=$(( $(stat -c %s "$NDB") / 4096 ))
dd if=/dev/urandom of="$NDB" bs=4096 seek=2 count=$(( NPAGES - 4 )) conv=notrunc status=none
timeout 10 "$NET_BIN/expertnet-node" -c "$NET_ROOT/config/twente.cfg" --datadir "$NET_DIR/twente" \
    --endpoint "tcp://127.0.0.1:$NET_PORT" > "$NET_DIR/refused-node.log" 2>&1
RC=$?
check_eq "garbage in node.db: the node refuses to start" 1 "$RC"
check "... naming the file" grep -q "database $NDB is damaged" "$NET_DIR/refused-node.log"
test_done
