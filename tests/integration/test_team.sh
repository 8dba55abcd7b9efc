#!/usr/bin/env bash
# A team (issue 13: a request of several places) end to end through real
# processes: a three-place request from the CLI, each place offered in
# parallel to its own expert and accepted, one place a hiaat until an
# expert appears, `request show` naming which places are filled, open or
# a hiaat; then kill -9 of the broker and of a node while a team is being
# filled: afterwards no place filled twice, none lost, every place's
# STATUS at the origin once. Then moreel beraad of teams with kill -9 of
# the broker while the times are proposed and while the experts answer:
# every BERAAD event once, each answer on its expert's place; a team's
# review date (monitoring) and close keep the experts' load right.
. "$(dirname "$0")/lib.sh"
test_init
test_network twente ijsselland
DB=$NET_DIR/overijssel/broker.db

en twente expert add --id se-tw-01 --role superexpert --expertise trauma --capacity 2 >/dev/null
en twente expert add --id ed-tw-01 --role ervaringsdeskundige --expertise trauma --capacity 2 >/dev/null
en ijsselland expert add --id se-ij-01 --role superexpert --expertise trauma,lvb --capacity 2 >/dev/null
check "broker learns the experts" net_until 10 'length == 3' enb --json broker experts

# Three places; the lvb one can only be se-ij-01, who holds trauma too:
# place 1 goes to se-tw-01 (own region), place 2 to se-ij-01
R=$(en twente --json request submit --urgency hoog --type consultatie-advies --age-band 12-17 \
    --place superexpert:trauma --place superexpert:lvb --place ervaringsdeskundige | jq -r .id)
check "a team is submitted from the CLI" test -n "$R"
check "every place is offered at once" \
    net_until 10 '[.places[] | select(.state == "offered")] | length == 3' broker_request "$R"
check_eq "each place its own expert" "se-tw-01 se-ij-01 ed-tw-01" \
    "$(broker_request "$R" | jq -r '[.places[].offered] | join(" ")')"
check_eq "the request is offered while places are open" "offered" "$(broker_request "$R" | jq -r .state)"
check_eq "an offer names its place (expert's node)" "2" \
    "$(en ijsselland --json expert inbox | jq -r ".[] | select(.request_id == \"$R\") | .place")"

offer_of () { broker_request "$1" | jq -r ".offers_open[] | select(.place == $2) | .id"; }
en twente expert accept "$(offer_of "$R" 1)" >/dev/null
en twente expert accept "$(offer_of "$R" 3)" >/dev/null
check "two places filled, one open" \
    net_until 10 '[.places[] | select(.state == "accepted")] | length == 2' broker_request "$R"
en ijsselland expert decline "$(offer_of "$R" 2)" --reason "geen ruimte deze maand" >/dev/null
check "the declined place has nobody left: a hiaat" \
    net_until 10 '.places[1].state == "hiaat" and .state == "hiaat"' broker_request "$R"
check "the origin sees filled, filled, hiaat" \
    net_until 10 '[.places[].state] == ["accepted", "hiaat", "accepted"]' en twente --json request show "$R"
SHOW=$(en twente request show "$R")
check "request show prints the places" grep -q '^places:' <<<"$SHOW"
check "request show: place 1 filled by se-tw-01" grep -qE '^  1 +filled .*' <<<"$SHOW"
check "request show: place 2 a hiaat" grep -qE '^  2 +hiaat ' <<<"$SHOW"
check "request show: the expert of a filled place" grep -q 'expert se-tw-01' <<<"$SHOW"
check "request show: the timeline names the place" grep -qE 'place 2 hiaat' <<<"$SHOW"

# Another lvb expert appears: the hiaat place alone is routed again
en ijsselland expert add --id se-ij-02 --role superexpert --expertise lvb --capacity 2 >/dev/null
check "the hiaat place is offered to the new expert" \
    net_until 15 '.places[1].offered == "se-ij-02"' broker_request "$R"
en ijsselland expert accept "$(offer_of "$R" 2)" >/dev/null
check "every place filled: the team is accepted" wait_state "$R" accepted
check "the origin sees all three filled" \
    net_until 10 '.state == "accepted" and ([.places[] | select(.state == "accepted")] | length == 3)' \
    en twente --json request show "$R"
check_eq "no expert holds two places of it" "0" \
    "$(sql "$DB" "select count(*) from (select expert from offers where request_id = '$R' group by expert having count(distinct place) > 1)")"
check_eq "each filled place counts on its expert's load" "ed-tw-01:1 se-ij-01:0 se-ij-02:1 se-tw-01:1" \
    "$(enb --json broker experts | jq -r '[.[] | "\(.id):\(.load)"] | sort | join(" ")')"
check_exit "a team's reply without --place is refused" 1 en twente request reply "$R" --text "Dank"

en twente request close "$R" --outcome "team samengesteld" >/dev/null
check "close closes every place" net_until 10 '.state == "closed" and ([.places[] | select(.state != "closed")] | length == 0)' \
    broker_request "$R"
check_eq "and frees every load" "0" "$(enb --json broker experts | jq '[.[].load] | add')"

# An operator acts on one place: a place nobody can take is closed, the
# rest of the team goes on; a place the request does not have is refused
R2=$(en twente --json request submit --urgency hoog --type consultatie-advies --age-band 12-17 \
     --place superexpert:trauma --place procesregisseur:wonen | jq -r .id)
check "a place nobody can take is a hiaat" net_until 10 '.places[1].state == "hiaat" and .state == "offered"' \
    broker_request "$R2"
check_exit "the operator closes that place" 0 enb broker close "$R2" --place 2 --reason "niet meer nodig"
check "the place is closed, the team goes on" \
    net_until 10 '.places[1].state == "closed" and .places[0].state == "offered" and .state == "offered"' \
    broker_request "$R2"
check "the origin sees the place closed" net_until 10 '[.places[].state] == ["offered", "closed"]' \
    en twente --json request show "$R2"
check_exit "a place the request does not have: not found" 4 enb broker reoffer "$R2" --place 7 --reason "x"
check_exit "a place that is no number: usage" 2 enb broker reoffer "$R2" --place twee --reason "x"
en twente request close "$R2" >/dev/null
check "the team is closed" wait_state "$R2" closed

# kill -9 while teams are being filled: many teams of three, the broker
# killed while they arrive, then a node killed while its experts accept
en twente expert update se-tw-01 --capacity 50 >/dev/null
en twente expert update ed-tw-01 --capacity 50 >/dev/null
en ijsselland expert update se-ij-01 --capacity 50 >/dev/null
en ijsselland expert update se-ij-02 --capacity 50 >/dev/null
check "capacities published" net_until 10 '[.[].capacity] | add == 200' enb --json broker experts
N=150
jq -n --argjson n $N '[range(1; $n + 1) | {id: ("twente-t" + (. | tostring)), urgency: "regulier",
    question_type: "consultatie-advies", expertise: ["trauma", "lvb"], age_band: "12-17",
    places: [{role: "superexpert", expertise: ["trauma"]}, {role: "superexpert", expertise: ["lvb"]},
             {role: "ervaringsdeskundige", expertise: ["trauma"]}]}]' > "$NET_DIR/teams.json"
en twente request submit --file "$NET_DIR/teams.json" --wait 0 > "$NET_DIR/submit.out" 2>&1 &
SUBMIT=$!
for _ in $(seq 400); do
    n=$(sql "$DB" "select count(*) from requests where id like 'twente-t%'" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 10 ] && break
    sleep 0.05
done
net_kill broker KILL
AT_KILL=$(sql "$DB" "select count(*) from requests where id like 'twente-t%'")
check "broker killed while teams arrive ($AT_KILL of $N stored)" test "$AT_KILL" -gt 0 -a "$AT_KILL" -lt $N
net_broker
wait $SUBMIT
check "the node's outbox drains" net_until 60 '.outbox == 0' en twente --json node status
check_eq "every team exists at the broker once" "$N" "$(sql "$DB" "select count(distinct id) from requests where id like 'twente-t%'")"
check_eq "with three places each" "$((N * 3))" "$(sql "$DB" "select count(*) from places where request_id like 'twente-t%'")"
check_eq "every place routed (none left submitted)" "0" \
    "$(sql "$DB" "select count(*) from places where request_id like 'twente-t%' and state = 'submitted'")"

# The experts of ijsselland accept their places; the node is killed
# while it sends the answers
OFFERS=$(en ijsselland --json expert inbox | jq -r '.[] | select(.request_id | startswith("twente-t")) | .id')
check "ijsselland's experts hold places of the teams" test -n "$OFFERS"
( for offer in $OFFERS; do en ijsselland expert accept "$offer" --wait 0 >/dev/null 2>&1 || break; done ) &
ACCEPTS=$!
for _ in $(seq 200); do
    n=$(sql "$DB" "select count(*) from offers where request_id like 'twente-t%' and state = 'accepted'" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 3 ] && break
    sleep 0.05
done
net_kill ijsselland KILL
wait $ACCEPTS
net_node ijsselland
check "the restarted node reconnects" net_wait_connected ijsselland
check "its outbox drains" net_until 60 '.outbox == 0' en ijsselland --json node status
# Whatever was accepted locally is accepted at the broker, once
LOCAL=$(sql "$NET_DIR/ijsselland/node.db" "select count(*) from offers where request_id like 'twente-t%' and answer = 'accept' and answer_status = 'confirmed'")
check_eq "every confirmed accept is a filled place at the broker" "$LOCAL" \
    "$(sql "$DB" "select count(*) from places p where p.request_id like 'twente-t%' and p.state = 'accepted' and p.expert like 'se-ij-%'")"
check_eq "no place filled twice (one accepted offer per place)" "0" \
    "$(sql "$DB" "select count(*) from (select request_id, place from offers where state = 'accepted' group by request_id, place having count(*) > 1)")"
check_eq "no expert on two places of one team" "0" \
    "$(sql "$DB" "select count(*) from (select request_id, expert from offers group by request_id, expert having count(distinct place) > 1)")"
check_eq "no place lost: each is filled, offered or a hiaat" "0" \
    "$(sql "$DB" "select count(*) from places where request_id like 'twente-t%' and state not in ('accepted', 'offered', 'escalated', 'hiaat')")"
check_eq "at most one open offer per place" "0" \
    "$(sql "$DB" "select count(*) from (select request_id, place from offers where state = 'open' group by request_id, place having count(*) > 1)")"
check_eq "each filled place once in the origin's timeline" "0" \
    "$(sql "$NET_DIR/twente/node.db" "select count(*) from (select request_id, place from request_events where event = 'accepted' and request_id like 'twente-t%' group by request_id, place having count(*) > 1)")"
# The broker killed while twente's experts accept their places
OFFERS=$(en twente --json expert inbox | jq -r '.[] | select(.request_id | startswith("twente-t")) | .id')
check "twente's experts hold places of the teams" test -n "$OFFERS"
BEFORE=$(sql "$DB" "select count(*) from offers where request_id like 'twente-t%' and state = 'accepted'")
( for offer in $OFFERS; do en twente expert accept "$offer" --wait 0 >/dev/null 2>&1 || true; done ) &
ACCEPTS=$!
for _ in $(seq 200); do
    n=$(sql "$DB" "select count(*) from offers where request_id like 'twente-t%' and state = 'accepted'" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge $((BEFORE + 3)) ] && break
    sleep 0.05
done
net_kill broker KILL
check "broker killed while places are accepted" true
wait $ACCEPTS
net_broker
check "twente's outbox drains after the broker's restart" net_until 60 '.outbox == 0' en twente --json node status
check "the broker's outbox drains" net_until 60 '.outbox == 0' enb --json broker status
CONFIRMED=$(sql "$NET_DIR/twente/node.db" "select count(*) from offers where request_id like 'twente-t%' and answer = 'accept' and answer_status = 'confirmed'")
check_eq "every accept twente confirmed is a filled place at the broker" "$CONFIRMED" \
    "$(sql "$DB" "select count(*) from places p where p.request_id like 'twente-t%' and p.state = 'accepted' and p.expert in ('se-tw-01', 'ed-tw-01')")"
check_eq "still no place filled twice" "0" \
    "$(sql "$DB" "select count(*) from (select request_id, place from offers where state = 'accepted' group by request_id, place having count(*) > 1)")"
check_eq "the store's counters did not drift (load = filled places)" "0" \
    "$(sql "$DB" "select count(*) from experts e where e.load <> (select count(*) from places p where p.expert = e.id and p.local and p.state in ('accepted', 'advice'))")"
# Every place of the teams in the same state at the broker and the origin
places_agree () {
    local here there
    here=$(sql "$DB" "select request_id || ':' || place || ':' || state from places
                      where request_id like 'twente-t%' order by 1")
    there=$(sql "$NET_DIR/twente/node.db" "select request_id || ':' || place || ':' || state from request_places
                                           where request_id like 'twente-t%' order by 1")
    [ -n "$here" ] && [ "$here" == "$there" ] && echo true || echo false
}
check "the origin holds every place in the broker's state (none lost, none doubled)" \
    net_until 30 '. == true' places_agree
origin_filled () {
    sql "$NET_DIR/twente/node.db" "select count(*) from request_places where request_id like 'twente-t%' and state = 'accepted'"
}
FILLED=$(sql "$DB" "select count(*) from places where request_id like 'twente-t%' and state = 'accepted'")
check "the origin learns every filled place ($FILLED)" net_until 30 ". == $FILLED" origin_filled
# Moreel beraad of teams (issue 13 items 3 and 4): the broker is killed
# while the teams propose times and again while the experts answer;
# afterwards every BERAAD event is recorded once, none lost, each answer
# on its expert's place. Own experts and tags, so the teams above do not
# mix in: a superexpert at twente, an ervaringsdeskundige at ijsselland.
# (The teams above ask for an ervaringsdeskundige for trauma: one of any
# expertise would match this one too, and their places still a hiaat
# would fill its capacity as it is published, before the beraad teams.)
en twente expert add --id se-tw-09 --role superexpert --expertise hechting --capacity 50 >/dev/null
en ijsselland expert add --id ed-ij-09 --role ervaringsdeskundige --expertise verslaving --capacity 50 >/dev/null
check "the beraad experts are published" net_until 10 '[.[] | select(.id == "se-tw-09" or .id == "ed-ij-09")] | length == 2' \
    enb --json broker experts
# (ids twente-beraad-N: a random request id, <region>-<8 hex>, never starts so)
M=20
jq -n --argjson n $M '[range(1; $n + 1) | {id: ("twente-beraad-" + (. | tostring)), urgency: "regulier",
    question_type: "moreel-beraad", expertise: ["hechting"], age_band: "12-17",
    places: [{role: "superexpert", expertise: ["hechting"]}, {role: "ervaringsdeskundige", expertise: ["verslaving"]}]}]' \
    > "$NET_DIR/beraad.json"
en twente request submit --file "$NET_DIR/beraad.json" --wait 0 >/dev/null 2>&1
beraad_count () { sql "$DB" "select count(*) from $1 where request_id like 'twente-beraad-%' $2"; }
check "both places of every beraad team offered" net_until 30 ". == $((M * 2))" beraad_count offers "and state = 'open'"
for node in twente ijsselland; do
    for offer in $(en $node --json expert inbox | jq -r '.[] | select(.request_id | startswith("twente-beraad-")) | .id'); do
        en $node expert accept "$offer" >/dev/null 2>&1
    done
done
check "every beraad team filled" net_until 30 ". == $M" sql "$DB" "select count(*) from requests where id like 'twente-beraad-%' and state = 'accepted'"
T1=$(TZ=Europe/Amsterdam date -d '+2 days' '+%Y-%m-%d 14:00')
T2=$(TZ=Europe/Amsterdam date -d '+3 days' '+%Y-%m-%d 10:30')
( for i in $(seq 1 $M); do en twente request beraad "twente-beraad-$i" --propose "$T1,$T2" >/dev/null || echo "propose $i failed"; done ) \
    > "$NET_DIR/propose.out" 2>&1 &
PROPOSE=$!
# kill -9 the broker once it recorded 3 events of type $1 (or after 10 s)
# while job $2 queues $4 of them (what failed to queue it wrote to file
# $3), then wait for the job and start the broker again
kill_broker_during () {
    for _ in $(seq 200); do
        [ "$(beraad_count events "and type = '$1'" 2>/dev/null || echo 0)" -ge 3 ] && break
        sleep 0.05
    done
    net_kill broker KILL
    local recorded
    recorded=$(beraad_count events "and type = '$1'")
    check "broker killed while the $1 events come in ($recorded of $4 recorded)" test "$recorded" -lt "$4"
    wait "$2"
    check_eq "every $1 queued at the nodes" "" "$(cat "$3")"
    net_broker
}
kill_broker_during beraad-proposed $PROPOSE "$NET_DIR/propose.out" $M
check "twente's outbox drains" net_until 60 '.outbox == 0' en twente --json node status
check "the broker's outbox drains (the proposals reach the experts' nodes)" net_until 60 '.outbox == 0' \
    enb --json broker status
check_eq "each team's proposal recorded once" "$M 0" \
    "$(sql "$DB" "select count(distinct request_id) || ' ' || (select count(*) from (select request_id from events
                  where request_id like 'twente-beraad-%' and type = 'beraad-proposed' group by request_id having count(*) > 1))
                  from events where request_id like 'twente-beraad-%' and type = 'beraad-proposed'")"
proposals_at () { sql "$NET_DIR/$1/node.db" "select count(*) from offers where request_id like 'twente-beraad-%'
                                            and json_array_length (beraad_times) = 2"; }
check "every member's node holds the proposal (twente)" net_until 30 ". == $M" proposals_at twente
check "every member's node holds the proposal (ijsselland)" net_until 30 ". == $M" proposals_at ijsselland
# The answers from both nodes; the broker killed while they come in
( for node in twente ijsselland; do
      for offer in $(sql "$NET_DIR/$node/node.db" "select id from offers where request_id like 'twente-beraad-%' order by id"); do
          en $node expert beraad "$offer" --available "$T2" >/dev/null || echo "answer $offer failed"
      done
  done ) > "$NET_DIR/answer.out" 2>&1 &
kill_broker_during beraad-answer $! "$NET_DIR/answer.out" $((M * 2))
check "twente's outbox drains after the restart" net_until 60 '.outbox == 0' en twente --json node status
check "ijsselland's outbox drains after the restart" net_until 60 '.outbox == 0' en ijsselland --json node status
check_eq "every answer recorded, none lost" "$((M * 2))" "$(beraad_count events "and type = 'beraad-answer'")"
check_eq "none recorded twice" "0" \
    "$(sql "$DB" "select count(*) from (select request_id, expert from events where request_id like 'twente-beraad-%'
                  and type = 'beraad-answer' group by request_id, expert having count(*) > 1)")"
check_eq "each answer on its expert's place" "0" \
    "$(sql "$DB" "select count(*) from events e where e.request_id like 'twente-beraad-%' and e.type = 'beraad-answer'
                  and not exists (select 1 from places p where p.request_id = e.request_id and p.place = e.place
                                  and p.expert = e.expert)")"
check_eq "no BERAAD event twice at the broker" "0" \
    "$(sql "$DB" "select count(*) from (select request_id, type, expert, place from events where request_id like 'twente-beraad-%'
                  and type like 'beraad-%' group by 1, 2, 3, 4 having count(*) > 1)")"
origin_answers () {
    sql "$NET_DIR/twente/node.db" "select json_array (count(*), count(distinct request_id || ':' || expert)) from request_events
                                   where request_id like 'twente-beraad-%' and event = 'beraad-answer'"
}
check "the origin hears each answer once" net_until 30 ". == [$((M * 2)), $((M * 2))]" origin_answers
# A review date for one team: both filled places to monitoring, still on
# their experts' load; closing frees them
en twente request review twente-beraad-1 --in 2w >/dev/null
check "a team's review moves every filled place to monitoring" \
    net_until 10 '.state == "monitoring" and ([.places[].state] == ["monitoring", "monitoring"])' broker_request twente-beraad-1
check_eq "the experts keep the team on their load" "$M $M" \
    "$(enb --json broker experts | jq -r '[.[] | select(.id == "se-tw-09" or .id == "ed-ij-09") | .load] | join(" ")')"
en twente request close twente-beraad-1 --outcome "beraad gehouden" >/dev/null
check "the team in monitoring closes" wait_state twente-beraad-1 closed
check_eq "and frees both places" "$((M - 1)) $((M - 1))" \
    "$(enb --json broker experts | jq -r '[.[] | select(.id == "se-tw-09" or .id == "ed-ij-09") | .load] | join(" ")')"
check_eq "the experts' load counts their places (monitoring too)" "0" \
    "$(sql "$DB" "select count(*) from experts e where e.load <> (select count(*) from places p where p.expert = e.id
                  and p.local and p.state in ('accepted', 'advice', 'monitoring'))")"
test_done
