#!/usr/bin/env bash
# Federation across real separate hosts: three provinces, each in its own
# network namespace, linked by veth pairs in a chain
#
#     en-ov (overijssel) ==veth== en-gld (gelderland) ==veth== en-lim (limburg)
#        twente                      achterhoek                  noord-limburg
#
# so the only path between Overijssel and Gelderland is one link we can
# cut. While Twente's requests flow to Gelderland's expert, the link goes
# down; Overijssel is killed (-9) and restarted during the cut; the link
# heals. Every request must reach Gelderland exactly once and in order,
# be answered, and every answer must reach Twente exactly once. A request
# that only Limburg can serve goes two hops (through Gelderland). Peers
# that are not enrolled, or that are nodes pretending to be brokers, are
# refused.
#
# Needs root (ip netns). Without it the test says so and FAILS: it never
# passes silently.
. "$(dirname "$0")/lib.sh"
test_init

NS_OV=en-ov-$$ NS_GLD=en-gld-$$ NS_LIM=en-lim-$$
OV_IP=10.77.1.1 GLD_IP1=10.77.1.2 GLD_IP2=10.77.2.1 LIM_IP=10.77.2.2
PORT=7700
ns_cleanup () {
    ip netns del "$NS_OV" 2>/dev/null
    ip netns del "$NS_GLD" 2>/dev/null
    ip netns del "$NS_LIM" 2>/dev/null
    return 0
}
trap 'test_cleanup; ns_cleanup' EXIT

if ! ip netns add "$NS_OV" 2>"$NET_DIR/netns.err"; then
    not_ok "network namespaces cannot be created here ($(head -1 "$NET_DIR/netns.err")): this test needs root; it does not pass without running"
    test_done
fi
ip netns add "$NS_GLD" && ip netns add "$NS_LIM" || { not_ok "namespaces"; test_done; }
for ns in "$NS_OV" "$NS_GLD" "$NS_LIM"; do ip -n "$ns" link set lo up; done
# veth pairs, created in the root namespace and moved: ov-gld and gld-lim
ip link add ov-gld-$$ type veth peer name gld-ov-$$ \
 && ip link set ov-gld-$$ netns "$NS_OV" && ip link set gld-ov-$$ netns "$NS_GLD" \
 && ip link add gld-lim-$$ type veth peer name lim-gld-$$ \
 && ip link set gld-lim-$$ netns "$NS_GLD" && ip link set lim-gld-$$ netns "$NS_LIM" \
 && ip -n "$NS_OV" addr add $OV_IP/30 dev ov-gld-$$ && ip -n "$NS_OV" link set ov-gld-$$ up \
 && ip -n "$NS_GLD" addr add $GLD_IP1/30 dev gld-ov-$$ && ip -n "$NS_GLD" link set gld-ov-$$ up \
 && ip -n "$NS_GLD" addr add $GLD_IP2/30 dev gld-lim-$$ && ip -n "$NS_GLD" link set gld-lim-$$ up \
 && ip -n "$NS_LIM" addr add $LIM_IP/30 dev lim-gld-$$ && ip -n "$NS_LIM" link set lim-gld-$$ up \
 || { not_ok "veth links between the namespaces"; test_done; }

# Broker configs: a chain of peers, short timings
broker_cfg () {   # NAME REGIONS PEER=ENDPOINT...
    local name=$1 regions=$2
    shift 2
    {
        printf 'broker\n    name = %s\n    heartbeat = 500ms\n    retry = 1s\n    regions\n' "$name"
        for r in $regions; do printf '        %s\n' "$r"; done
        printf 'routing\n    grace = 1s\nweb\n    address = off\nfederation\n    max_hops = 2\n    peers\n'
        for p in "$@"; do printf '        %s\n            endpoint = %s\n' "${p%%=*}" "${p#*=}"; done
    } > "$NET_DIR/$name.cfg"
}
broker_cfg overijssel "twente ijsselland" "gelderland=tcp://$GLD_IP1:$PORT"
broker_cfg gelderland "achterhoek rivierenland" "overijssel=tcp://$OV_IP:$PORT" "limburg=tcp://$LIM_IP:$PORT"
broker_cfg limburg "noord-limburg" "gelderland=tcp://$GLD_IP2:$PORT"

net_fed_keys overijssel gelderland limburg
NET_BROKER=overijssel net_keys twente
NET_BROKER=gelderland net_keys achterhoek
NET_BROKER=limburg net_keys noord-limburg

start_broker () {   # NAME NAMESPACE
    net_on "$1" $PORT 0.0.0.0
    NET_EXEC="ip netns exec $2" net_broker
}
start_node () {     # NODE BROKER NAMESPACE
    net_on "$2" $PORT 127.0.0.1
    NET_EXEC="ip netns exec $3" net_node "$1"
}
start_broker overijssel "$NS_OV" && start_broker gelderland "$NS_GLD" && start_broker limburg "$NS_LIM" \
    || { not_ok "three brokers start in their namespaces"; test_done; }
start_node twente overijssel "$NS_OV"
start_node achterhoek gelderland "$NS_GLD"
start_node noord-limburg limburg "$NS_LIM"
for n in twente achterhoek noord-limburg; do
    net_wait_connected "$n" || { not_ok "node $n connects"; test_done; }
done
ok "three brokers, three nodes, each in its own namespace"
tcp_open () {   # NAMESPACE HOST: can a TCP connection to the broker port be made?
    ip netns exec "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$2/$PORT" 2>/dev/null
}
check "overijssel reaches gelderland over its veth" tcp_open "$NS_OV" $GLD_IP1
fails () { ! "$@"; }
check "overijssel cannot reach limburg directly (chain topology)" fails tcp_open "$NS_OV" $LIM_IP

st () { "$NET_BIN/expertnet" --broker "$NET_DIR/$1" --json broker status; }
link_state () { st "$1" | jq -r --arg p "$2" '.links[] | select(.peer == $p) | .state'; }
show () { "$NET_BIN/expertnet" --broker "$NET_DIR/$1" --json broker show "$2"; }
dbq () { sqlite3 "$NET_DIR/$1/broker.db" "$2"; }

for e in 1 2 3; do
    en achterhoek expert add --id se-ah-eet-$e --role superexpert --expertise eetstoornis,jggz --capacity 15 >/dev/null \
        || not_ok "add expert se-ah-eet-$e"
done
en noord-limburg expert add --id se-nl-game --role superexpert --expertise gameverslaving --capacity 5 >/dev/null
en twente expert add --id se-tw-trauma --role superexpert --expertise trauma --capacity 5 >/dev/null

check "overijssel's link to gelderland comes up" \
    net_until 15 '.links[] | select(.peer == "gelderland") | .state == "up"' st overijssel
check "gelderland links to both its peers" \
    net_until 15 '[.links[] | select(.state == "up")] | length == 2' st gelderland
check "overijssel learns gelderland's free places (advert)" \
    net_until 10 '.links[0].advert.free >= 45' st overijssel
check "overijssel learns limburg's places two hops away, through gelderland" \
    net_until 10 '.links[0].advert.entries >= 2' st overijssel

submit () {   # TAG -> prints the request id
    en twente --json request submit --urgency hoog --type consultatie-advies --expertise "$1" \
        --age-band 12-17 | jq -r .id
}

# 1. Local first: trauma stays in Overijssel
R_LOCAL=$(submit trauma)
check "a request Overijssel can serve stays in Overijssel" \
    net_until 10 '.state == "offered" and .peer == null' show overijssel "$R_LOCAL"

# 2. Requests flow; the link is cut in the middle; overijssel restarts
#    during the cut; the link heals
: > "$NET_DIR/ids"
for i in $(seq 1 10); do submit eetstoornis >> "$NET_DIR/ids"; done
check "requests before the cut are forwarded and offered at gelderland" \
    net_until 15 "[.[] | select(.state == \"offered\")] | length >= 10" \
    "$NET_BIN/expertnet" --broker "$NET_DIR/gelderland" --json broker requests
ip -n "$NS_OV" link set ov-gld-$$ down
ok "link overijssel-gelderland cut (veth down)"
for i in $(seq 11 25); do submit eetstoornis >> "$NET_DIR/ids"; done
R_TWO=$(submit gameverslaving)
check "during the cut overijssel says the link is not up" \
    net_until 10 '.links[0].state != "up" and .links[0].state != "blocked"' st overijssel
check "during the cut the forwarded requests wait in overijssel's queue for gelderland" \
    net_until 10 '.links[0].queue >= 16' st overijssel
net_kill broker-overijssel KILL
ok "overijssel killed (-9) during the cut"
for i in $(seq 26 30); do submit eetstoornis >> "$NET_DIR/ids"; done
start_broker overijssel "$NS_OV" || not_ok "overijssel restarts"
check "after the restart the queue is still there (on disk)" \
    net_until 10 '.links[0].queue >= 16' st overijssel
check "... and the requests submitted while it was down are queued too" \
    net_until 15 '.links[0].queue >= 21' st overijssel
check_eq "nothing crossed the cut: gelderland has only the first 10" 10 \
    "$(dbq gelderland "SELECT count(*) FROM requests WHERE origin = 'peer:overijssel'")"
ip -n "$NS_OV" link set ov-gld-$$ up
ok "link healed"
check "the link comes back up" net_until 20 '.links[0].state == "up"' st overijssel
check "the queue drains" net_until 20 '.links[0].queue == 0' st overijssel
metric () {   # BROKER FAMILY: the gelderland sample's value
    "$NET_ROOT/build/tests/ctl" "$NET_DIR/$1" metrics \
        | jq --arg f "$2" '.[] | select(.name == $f) | .samples[] | select(.labels.peer == "gelderland") | .value'
}
check_eq "Prometheus sees the link up" 1 "$(metric overijssel expertnet_federation_link_up)"
check_eq "... and its queue empty" 0 "$(metric overijssel expertnet_federation_queue_depth)"

N=$(wc -l < "$NET_DIR/ids")
check_eq "30 requests submitted" 30 "$N"
check "every request reaches gelderland (31 incl. the two-hop one passing through)" \
    net_until 20 'length == 31' \
    bash -c "sqlite3 -json '$NET_DIR/gelderland/broker.db' \"SELECT id FROM requests WHERE origin = 'peer:overijssel'\""
check_eq "each exactly once at gelderland (one 'submitted' event per request)" "" \
    "$(dbq gelderland "SELECT request_id FROM events WHERE type = 'submitted' GROUP BY request_id HAVING count(*) <> 1")"
check_eq "in order over the link: gelderland received them in the order overijssel forwarded them" \
    "$(dbq overijssel "SELECT request_id FROM events WHERE type = 'forwarded' AND detail = 'gelderland' ORDER BY seq")" \
    "$(dbq gelderland "SELECT request_id FROM events WHERE type = 'submitted' ORDER BY seq")"
check "the two-hop request went overijssel -> gelderland -> limburg and was offered there" \
    net_until 20 '.state == "offered" and .visited == ["overijssel", "gelderland", "limburg"]' show limburg "$R_TWO"
check "overijssel shows the two-hop request offered (mirrored through gelderland)" \
    net_until 10 '.state == "offered" and .peer == "gelderland" and .events[-1].expert == "se-nl-game"' show overijssel "$R_TWO"

check "broker show (text) says which province holds it" \
    grep -q "with peer broker gelderland" <<< "$("$NET_BIN/expertnet" --broker "$NET_DIR/overijssel" broker show "$R_TWO")"
check "... and, there, where it came from" \
    grep -q "from node twente, through overijssel gelderland limburg" \
    <<< "$("$NET_BIN/expertnet" --broker "$NET_DIR/limburg" broker show "$R_TWO")"

# 3. Gelderland's expert answers every request; advice flows back
check "all 30 offered at gelderland" \
    net_until 20 "[.[] | select(.expert | startswith(\"se-ah-eet\"))] | length == 30" \
    "$NET_BIN/expertnet" --broker "$NET_DIR/gelderland" --json broker offers
printf 'Advies: behandeling eetstoornis, plan binnen 48 uur.\n' > "$NET_DIR/advice.txt"
answered=0
for offer in $("$NET_BIN/expertnet" --broker "$NET_DIR/gelderland" --json broker offers | jq -r '.[] | select(.expert | startswith("se-ah-eet")) | .id'); do
    en achterhoek expert accept "$offer" >/dev/null 2>&1 \
        && en achterhoek expert advise "$offer" --file "$NET_DIR/advice.txt" >/dev/null 2>&1 \
        && answered=$((answered + 1))
done
check_eq "gelderland's expert accepted and advised all 30" 30 "$answered"
all_advice () {
    local id n=0
    while read -r id; do
        [ "$(en twente --json request show "$id" 2>/dev/null | jq -r .state)" = advice ] && n=$((n + 1))
    done < "$NET_DIR/ids"
    echo "$n"
}
check "every answer reached twente" net_until 30 '. == 30' all_advice
check_eq "each answer arrived exactly once (one advice event per request at twente)" 30 \
    "$(sqlite3 "$NET_DIR/twente/node.db" "SELECT count(*) FROM (SELECT request_id FROM request_events
        WHERE event = 'advice' GROUP BY request_id HAVING count(*) = 1)" 2>&1)"
check_eq "overijssel's requests all in state advice, answered by gelderland's experts" 30 \
    "$(dbq overijssel "SELECT count(*) FROM requests WHERE state = 'advice' AND expert LIKE 'se-ah-eet-%' AND peer = 'gelderland'")"
check_eq "overijssel's own experts carry no load for gelderland's cases" 0 \
    "$(dbq overijssel "SELECT coalesce (sum (load), 0) FROM experts")"

# 4. Closing travels with the origin's signature: twente closes one
R_FIRST=$(head -1 "$NET_DIR/ids")
en twente request close "$R_FIRST" --outcome "hulp gerealiseerd" >/dev/null
check "twente's close is relayed and closes the request at gelderland" \
    net_until 15 '.state == "closed"' show gelderland "$R_FIRST"
check "... and the closed state comes back to overijssel" \
    net_until 15 '.state == "closed"' show overijssel "$R_FIRST"

# 4b. The team's reply to the advice, sealed to gelderland's expert,
#     travels the same way (carried with twente's signature)
R_SECOND=$(sed -n 2p "$NET_DIR/ids")
en twente request reply "$R_SECOND" --text "Dank voor het advies; vraag REPLY-fed-5c" >/dev/null
check "the reply is relayed through overijssel to gelderland" \
    net_until 15 '[.events[].type] | index("reply") != null' show gelderland "$R_SECOND"
check "achterhoek's node holds it for its expert, sealed" \
    net_until 15 '. == 1' bash -c "sqlite3 '$NET_DIR/achterhoek/node.db' \"SELECT count(*) FROM offer_replies WHERE offer_id LIKE '$R_SECOND-%'\""
check "no broker on the way holds it in clear" \
    bash -c "! grep -aq 'REPLY-fed-5c' '$NET_DIR'/overijssel/broker.db* '$NET_DIR'/gelderland/broker.db* '$NET_DIR'/achterhoek/node.db*"

# 4c. The request's conversation across provinces (EXPN/3): the team at
#     twente and gelderland's expert write to each other, each text sealed
#     to both; gelderland numbers the messages, overijssel passes them on
OFFER2=$(en achterhoek --json expert inbox --all | jq -r --arg r "$R_SECOND" \
    '[.[] | select(.request_id == $r and (.answer == "accept" or .answer == "advise")) | .id][0] // empty')
check "the team learns through overijssel who takes part" \
    net_until 15 '.members | length == 2' en twente --json request thread "$R_SECOND" --no-read
check "so does the expert's node" \
    net_until 15 '.members | length == 2' en achterhoek --json expert thread "$OFFER2" --no-read
check_exit "the team writes" 0 en twente request message "$R_SECOND" --text "CONVO-fed-7d vraag van het team"
check "it reaches gelderland's expert, opened there" \
    net_until 15 '[.messages[].text] == ["CONVO-fed-7d vraag van het team"]' \
    en achterhoek --json expert thread "$OFFER2" --no-read
check_exit "the expert answers" 0 en achterhoek expert message "$OFFER2" --text "CONVO-fed-7d antwoord van de expert"
check "the team has both, in gelderland's order" \
    net_until 15 '[.messages[] | "\(.seq) \(.text)"] == ["1 CONVO-fed-7d vraag van het team", "2 CONVO-fed-7d antwoord van de expert"]' \
    en twente --json request thread "$R_SECOND"
check "the expert sees the team read the answer (a receipt through overijssel)" \
    net_until 15 '.messages[1].read_by == ["team"]' en achterhoek --json expert thread "$OFFER2" --no-read
check_eq "gelderland numbered them; overijssel only passed them on" "2 0" \
    "$(dbq gelderland "select count(*) from convo_messages where request_id = '$R_SECOND'") $(dbq overijssel "select count(*) from convo_messages")"
check "no broker on the way holds the text" \
    bash -c "! grep -aq 'CONVO-fed-7d' '$NET_DIR'/overijssel/broker.db* '$NET_DIR'/gelderland/broker.db* '$NET_DIR'/*.log"

# 5. Recall: a request waits for a dead link; overijssel's operator takes
#    it back. When the link heals, gelderland gets the FORWARD and then the
#    RECALL, in that order: it withdraws its offer; nothing comes back.
ip -n "$NS_OV" link set ov-gld-$$ down
check "link cut again" net_until 10 '.links[0].state != "up"' st overijssel
R_BACK=$(submit eetstoornis)
check "a new request waits for gelderland" net_until 10 '.state == "forwarded"' show overijssel "$R_BACK"
check_exit "the operator recalls it" 0 "$NET_BIN/expertnet" --broker "$NET_DIR/overijssel" broker recall "$R_BACK" \
    --reason "koppeling met Gelderland ligt stil"
check "it is routed again here (nobody: hiaat), gelderland skipped" \
    net_until 10 '.state == "hiaat" and .peer == null and ([.events[].type] | index("operator-recall") != null)' \
    show overijssel "$R_BACK"
check "twente is told" net_until 10 '[.events[].event] | index("operator-recall") != null' \
    en twente --json request show "$R_BACK"
ip -n "$NS_OV" link set ov-gld-$$ up
check "after the heal gelderland received it and then the recall" \
    net_until 20 '.state == "recalled" and ([.events[].type] | index("offered") != null)' show gelderland "$R_BACK"
check "gelderland's offer for it was withdrawn" \
    net_until 10 "[.[] | select(.request_id == \"$R_BACK\")] | length == 0" \
    "$NET_BIN/expertnet" --broker "$NET_DIR/gelderland" --json broker offers
check_eq "overijssel's request stays as it was (no late status)" hiaat "$(show overijssel "$R_BACK" | jq -r .state)"

# 6. Refused peers. A broker whose key is not enrolled at overijssel,
#    calling itself gelderland: the CURVE handshake is refused.
"$NET_BIN/expertnet" keygen --name gelderland --dir "$NET_DIR/rogue/keys" >/dev/null
refused_before=$(st overijssel | jq .connections_refused)
ip netns exec "$NS_OV" "$NET_BIN/expertnet-broker" -c "$NET_DIR/gelderland.cfg" --datadir "$NET_DIR/rogue" \
    --endpoint tcp://127.0.0.1:$((PORT + 1)) \
    --set federation/peers/overijssel/endpoint=tcp://127.0.0.1:$PORT >> "$NET_DIR/rogue.log" 2>&1 &
net_track rogue $!
"$NET_BIN/expertnet" enroll "$NET_DIR/overijssel/keys/overijssel.cert" --broker "$NET_DIR/rogue" >/dev/null
check "an unenrolled broker's connections are refused by overijssel" \
    net_until 15 ".connections_refused > $refused_before" st overijssel
check "... and its link never comes up" \
    bash -c "sleep 2; [ \"\$('$NET_BIN/expertnet' --broker '$NET_DIR/rogue' --json broker status | jq -r '.links[0].state')\" != up ]"
net_kill rogue
# A node's enrolled key posing as a peer broker: refused at LINK
mkdir -p "$NET_DIR/fake/keys"
cp "$NET_DIR"/twente/keys/twente.* "$NET_DIR/fake/keys/"
cat > "$NET_DIR/fake.cfg" <<EOF
broker
    name = twente
    heartbeat = 500ms
web
    address = off
federation
    peers
        overijssel
            endpoint = tcp://127.0.0.1:$PORT
EOF
ip netns exec "$NS_OV" "$NET_BIN/expertnet-broker" -c "$NET_DIR/fake.cfg" --datadir "$NET_DIR/fake" \
    --endpoint tcp://127.0.0.1:$((PORT + 2)) >> "$NET_DIR/fake.log" 2>&1 &
net_track fake $!
"$NET_BIN/expertnet" enroll "$NET_DIR/overijssel/keys/overijssel.cert" --broker "$NET_DIR/fake" >/dev/null
check "a node posing as a peer broker is refused (state refused, 403)" \
    net_until 15 '.links[0].state == "refused" and (.links[0].refusal | test("403"))' \
    "$NET_BIN/expertnet" --broker "$NET_DIR/fake" --json broker status
net_kill fake
check "overijssel's real link is still up after the impostors" \
    net_until 10 '.links[0].state == "up"' st overijssel
for b in overijssel gelderland limburg; do
    check "broker $b still running" kill -0 "$(net_pid broker-$b)"
done

test_done
