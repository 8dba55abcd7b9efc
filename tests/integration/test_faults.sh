#!/usr/bin/env bash
# A running broker whose store fails one write keeps serving, and nothing
# of the failed work is lost, doubled or half-written (issue 10, item 13).
#
# The broker here is the test build build/tests/faults/expertnet-broker
# (en_ops.c with -DEN_FAULTS): its control verb "fault" arms en_db's
# countdown, so the N-th store write from then fails with SQLITE_IOERR. For
# N = 1 .. 12 the test arms it and submits a request: the fault hits the
# batch that stores the SUBMIT (or a PING, an ACK, a timer: whatever writes
# next). Each request must still end up offered exactly once, the broker
# must answer throughout, and at the end the counters, the access log and
# the seen table hold. tests/unit/test_faults.c walks every write of each
# operation; this shows the daemon around them.
. "$(dirname "$0")/lib.sh"
test_init

CTL=$NET_ROOT/build/tests/ctl
FAULT_BROKER=$NET_ROOT/build/tests/faults/expertnet-broker
[ -x "$CTL" ] && [ -x "$FAULT_BROKER" ] \
    || { not_ok "build/tests/ctl and $FAULT_BROKER are built (make unit-bins)"; test_done; }
mkdir -p "$NET_DIR/bin"
ln -s "$NET_ROOT/build/bin/expertnet" "$NET_ROOT/build/bin/expertnet-node" "$NET_DIR/bin/"
ln -s "$FAULT_BROKER" "$NET_DIR/bin/expertnet-broker"
NET_BIN=$NET_DIR/bin

test_network twente
en twente expert add --id se-tw-01 --role superexpert --expertise trauma --capacity 50 >/dev/null
check "broker learns the expert" net_until 10 'length == 1' enb --json broker experts

quiet () { "$@" >/dev/null 2>&1; }
fault () { "$CTL" "$NET_DIR/$NET_BROKER" fault "{\"countdown\": $1}"; }
check "the production broker has no fault verb" \
    sh -c "! strings '$NET_ROOT/build/bin/expertnet-broker' | grep -qx fault"

ids=()
fired=0
for n in $(seq 12); do
    fault "$n" >/dev/null || not_ok "fault $n armed"
    id=$(en twente --json request submit --urgency regulier --type consultatie-advies \
             --expertise trauma --age-band 12-17 | jq -r .id)
    ids+=("$id")
    if ! wait_state "$id" offered 20 >/dev/null; then
        not_ok "request $id (fault at write $n) reaches the broker and is offered"
        continue
    fi
    [ "$(fault 0 | jq -r .fired)" = "true" ] && fired=$((fired + 1))
    enb broker status >/dev/null 2>&1 || not_ok "broker answers after the fault at write $n"
done
ok "12 requests, each submitted with a fault armed, all offered"
check "at least 10 of the 12 faults fired in the running broker ($fired)" test "$fired" -ge 10
check "the broker logged the injected faults" grep -q "injected fault" "$NET_DIR/$NET_BROKER.log"
grep "injected fault" "$NET_DIR/$NET_BROKER.log" | sed 's/.*SQLITE_IOERR) /# failed: /' | cut -c1-90
check "the broker answers status" quiet enb broker status

db=$NET_DIR/$NET_BROKER/broker.db
check_eq "each request stored exactly once" "12" \
    "$(sql "$db" "SELECT count(*) FROM requests WHERE origin = 'twente'")"
check_eq "each request offered exactly once" "12" \
    "$(sql "$db" "SELECT count(*) FROM offers WHERE state = 'open'")"
check_eq "counters equal a recount (load, reserved)" "0" "$(sql "$db" \
    "SELECT count(*) FROM experts e WHERE e.reserved <> (SELECT count(*) FROM offers o WHERE o.expert = e.id AND o.state = 'open')
      OR e.load <> (SELECT count(*) FROM requests r WHERE r.expert = e.id AND r.peer IS NULL AND r.state IN ('accepted', 'advice'))")"
# An operator is added with its access-log entry or not at all: a fault
# at any write of operator-add leaves either both or neither
refused=0
for n in $(seq 6); do
    fault "$n" >/dev/null || not_ok "fault $n armed"
    quiet "$CTL" "$NET_DIR/$NET_BROKER" operator-add "{\"name\": \"op-f$n\", \"password\": \"correct horse battery\"}" \
        || refused=$((refused + 1))
    fault 0 >/dev/null
done
check "some operator-adds were refused by a fault ($refused)" test "$refused" -ge 1
check_eq "every operator added has its access-log entry, and no entry lacks its operator" "0" "$(sql "$db" \
    "SELECT (SELECT count(*) FROM operators o WHERE o.name LIKE 'op-f%' AND NOT EXISTS
              (SELECT 1 FROM audit a WHERE a.event = 'operator.add' AND a.on_behalf = o.name))
          + (SELECT count(*) FROM audit a WHERE a.event = 'operator.add' AND a.on_behalf LIKE 'op-f%' AND NOT EXISTS
              (SELECT 1 FROM operators o WHERE o.name = a.on_behalf))")"
check "the broker's access log verifies" quiet enb audit verify --broker
check_eq "the node holds no unacknowledged SUBMIT" "0" \
    "$(sql "$NET_DIR/twente/node.db" "SELECT count(*) FROM outbox WHERE command = 'SUBMIT'")"
test_done
