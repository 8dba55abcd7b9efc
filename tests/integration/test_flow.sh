#!/usr/bin/env bash
# A consult request end to end through real processes: submit (file and
# flags), offer to the own region first, notification to the listening
# expert, accept (capacity taken), advice back to the origin, close
# (capacity freed); experts re-published when the broker lost its state.
. "$(dirname "$0")/lib.sh"
test_init
test_network twente ijsselland

en twente expert add --id se-tw-01 --role superexpert --expertise trauma,jggz --capacity 1 >/dev/null
en ijsselland expert add --id se-ij-01 --role superexpert --expertise trauma,jggz --capacity 1 >/dev/null
check "broker learns both regions' experts" net_until 10 'length == 2' enb --json broker experts

# The network's expertise tags reach every node (TAGS), for the portal's
# request form: a tag only IJsselland holds is offered at Twente too
en ijsselland expert add --id se-ij-02 --role superexpert --expertise eetstoornis --capacity 1 >/dev/null
CTL=$NET_ROOT/build/tests/ctl
tags () { "$CTL" "$NET_DIR/$1" tags; }
check "twente learns a tag only ijsselland's expert holds, available" \
    net_until 10 '[.[] | select(.tag == "eetstoornis" and .available)] | length == 1' tags twente
check "a tag nobody holds is not offered" net_until 2 '[.[] | select(.tag == "wonen")] | length == 0' tags twente
en ijsselland expert update se-ij-02 --capacity 0 >/dev/null
check "a tag whose only expert is full is shown as not available" \
    net_until 10 '[.[] | select(.tag == "eetstoornis" and (.available | not))] | length == 1' tags twente
en ijsselland expert update se-ij-02 --capacity 1 >/dev/null

# An expert listening at twente, the request's own region, where the offer goes first
CLIENTS=$(unix_clients "$NET_DIR/twente/notify.sock")
en twente expert listen --count 1 --timeout 15 --json > "$NET_DIR/twente-listen.out" &
LISTEN=$!
check "the listener is connected to twente's notifications" wait_notify_client twente "$CLIENTS"

cat > "$NET_DIR/request.json" <<'JSON'
{"urgency": "hoog", "question_type": "consultatie-advies", "expertise": ["trauma"],
 "age_band": "12-17", "leefgebieden": ["jeugdhulp", "onderwijs"], "kader": "vrijwillig",
 "situatie": "thuis", "stuck_on": ["inhoud"]}
JSON
R1=$(en twente --json request submit --file "$NET_DIR/request.json" | jq -r .id)
check "submit from a JSON file returns an id" test -n "$R1"
check "request is offered" wait_state "$R1" offered
check_eq "own region first: offered to Twente's expert" "se-tw-01" "$(broker_request "$R1" | jq -r '.offers_open[0].expert')"
wait $LISTEN
check_eq "the listening expert was notified of that offer" "$R1" "$(jq -r '.offer.request_id' "$NET_DIR/twente-listen.out" 2>/dev/null)"
check_eq "inbox lists the pending offer" "$R1-o1" "$(en twente --json expert inbox | jq -r '.[0].id')"

en twente expert accept "$R1-o1" >/dev/null
check "accept is confirmed: request accepted" wait_state "$R1" accepted
check_eq "accepting takes capacity (load 1/1)" "1" "$(enb --json broker experts | jq '.[] | select(.id=="se-tw-01") | .load')"
check_eq "the accepted offer left the inbox" "0" "$(en twente --json expert inbox | jq length)"

# Second request: Twente's expert is full, so IJsselland's is offered
R2=$(en twente --json request submit --urgency hoog --type consultatie-advies --expertise trauma --age-band 4-11 | jq -r .id)
check "full expert skipped: offered to the rest of the province" \
    net_until 10 '.offers_open[0].expert == "se-ij-01"' broker_request "$R2"

printf 'Advies: start met een gezamenlijke analyse.\n' > "$NET_DIR/advice.txt"
en twente expert advise "$R1-o1" --file "$NET_DIR/advice.txt" >/dev/null
check "advice moves the request to 'advice'" wait_state "$R1" advice
check "the origin node receives the advice text" \
    net_until 5 '.advice | startswith("Advies: start")' en twente --json request show "$R1"
check "the origin's timeline holds offered, accepted, advice" \
    net_until 5 '[.events[].event] | (index("offered") != null and index("accepted") != null and index("advice") != null)' \
    en twente --json request show "$R1"

en twente request close "$R1" --outcome "passende hulp gerealiseerd" >/dev/null
check "close reaches the broker" wait_state "$R1" closed
check_eq "closing frees capacity (load 0)" "0" "$(enb --json broker experts | jq '.[] | select(.id=="se-tw-01") | .load')"
check "node mirrors the closed state" net_until 5 '.state == "closed"' en twente --json request show "$R1"

en twente expert update se-tw-01 --capacity 3 --expertise trauma,jggz,autisme >/dev/null
check "expert update is re-published" \
    net_until 5 '.[] | select(.id=="se-tw-01") | .capacity == 3 and (.expertise | index("autisme") != null)' enb --json broker experts

# The broker loses its store: started on an empty one with --new-store
# (without it, it refuses: test_store_integrity.sh), nodes re-publish
# their experts on reconnect
net_kill broker KILL
rm -f "$NET_DIR"/overijssel/broker.db*
net_broker --new-store
check "experts re-published after the broker lost its state" net_until 15 'length == 3' enb --json broker experts
test_done
