#!/usr/bin/env bash
# A team across two provinces (issue 13.1), real processes on loopback:
# Overijssel (node twente) and Gelderland (node achterhoek), peers. A
# team of three places, the third of which (a superexpert for lvb) only
# Gelderland can fill: places 1 and 2 are filled in Overijssel, place 3
# is handed to Gelderland, offered and filled there, and the team closed
# at home and, by the relayed CLOSE, there. (The relayed dossier of a
# place: tests/unit/test_federation.c.) Then many teams at once, with
# kill -9 of Overijssel's broker while they arrive and of Gelderland's
# while its expert accepts the places: afterwards no place filled twice,
# none lost, and every place's state the same at the origin node, the
# origin broker and the peer broker. Between the two: the follow-up of a
# request held by the peer (docs/protocol.md, "REVIEW", "Federation"):
# its review date, relayed to Gelderland, reminds Gelderland's expert
# exactly once, though Gelderland's broker is killed (-9) before the date.
# Last, teams whose two places only Gelderland can fill: both held there
# in one request (EXPN/3), across kill -9 of Gelderland between the two
# places' FORWARDs, while many arrive and while its experts accept.
. "$(dirname "$0")/lib.sh"
test_init
fed_pair_init
start_gelderland || { not_ok "gelderland starts"; test_done; }
net_node achterhoek
start_overijssel || { not_ok "overijssel starts"; test_done; }
net_node twente
for n in twente achterhoek; do
    net_wait_connected "$n" || { not_ok "$n connects"; test_done; }
done
ok "two brokers, peers, each with its node"
CTL=$NET_ROOT/build/tests/ctl
[ -x "$CTL" ] || { not_ok "build/tests/ctl is built (make unit-bins)"; test_done; }
ODB=$NET_DIR/overijssel/broker.db
GDB=$NET_DIR/gelderland/broker.db
TDB=$NET_DIR/twente/node.db
st () { "$NET_BIN/expertnet" --broker "$NET_DIR/overijssel" --json broker status; }
show () { "$NET_BIN/expertnet" --broker "$NET_DIR/$1" --json broker show "$2"; }

en twente expert add --id se-tw-01 --role superexpert --expertise trauma --capacity 50 >/dev/null
en twente expert add --id ed-tw-01 --role ervaringsdeskundige --capacity 50 >/dev/null
en achterhoek expert add --id se-ah-01 --role superexpert --expertise lvb --capacity 50 >/dev/null
check "overijssel's link to gelderland is up" net_until 15 '.links[0].state == "up"' st
check "overijssel learns gelderland's free lvb places" net_until 15 '.links[0].advert.free >= 50' st

# 1. One team: place 3 is filled in Gelderland, the others at home
R=$(en twente --json request submit --urgency hoog --type consultatie-advies --age-band 12-17 \
    --place superexpert:trauma --place ervaringsdeskundige --place superexpert:lvb | jq -r .id)
check "a team of three is submitted" test -n "$R"
check "places 1 and 2 offered at home, place 3 at gelderland" \
    net_until 15 '[.places[] | "\(.state):\(.peer // "-")"] == ["offered:-", "offered:-", "offered:gelderland"]' \
    show overijssel "$R"
check "gelderland holds that one place, numbered 3" \
    net_until 10 '[.places[] | "\(.place):\(.state):\(.offered)"] == ["3:offered:se-ah-01"]' show gelderland "$R"
check_eq "the expert's offer names place 3" "3" \
    "$(en achterhoek --json expert inbox | jq -r ".[] | select(.request_id == \"$R\") | .place")"
offer_at () { show "$1" "$2" | jq -r ".offers_open[] | select(.place == $3) | .id"; }
en twente expert accept "$(offer_at overijssel "$R" 1)" >/dev/null
en twente expert accept "$(offer_at overijssel "$R" 2)" >/dev/null
en achterhoek expert accept "$(offer_at gelderland "$R" 3)" >/dev/null
check "every place filled: the team is accepted at overijssel" \
    net_until 15 '.state == "accepted" and ([.places[].expert] == ["se-tw-01", "ed-tw-01", "se-ah-01"])' \
    show overijssel "$R"
check "the origin sees all three filled" \
    net_until 15 '[.places[].state] == ["accepted", "accepted", "accepted"]' en twente --json request show "$R"
check "the origin learns place 3's expert through gelderland" \
    net_until 15 '.places[2].expert == "se-ah-01"' en twente --json request show "$R"
check_eq "gelderland's expert is not charged at overijssel" "ed-tw-01:1 se-tw-01:1" \
    "$(enb --json broker experts | jq -r '[.[] | "\(.id):\(.load)"] | sort | join(" ")')"
en twente request close "$R" --outcome "team samengesteld" >/dev/null
check "close: closed at gelderland" net_until 15 '.state == "closed"' show gelderland "$R"
check "... and every place at overijssel" \
    net_until 15 '.state == "closed" and ([.places[] | select(.state != "closed")] | length == 0)' \
    show overijssel "$R"
check "... and at the origin" net_until 15 '.state == "closed"' en twente --json request show "$R"

# 1b. A request only Gelderland can serve: its review date is relayed
# there, and Gelderland reminds its expert once, across a kill -9
R=$(en twente --json request submit --urgency hoog --type consultatie-advies --expertise lvb \
    --age-band 12-17 | jq -r .id)
check "a request only gelderland can serve is handed there" \
    net_until 15 '[.places[] | "\(.state):\(.peer // "-")"] == ["offered:gelderland"]' show overijssel "$R"
check "and offered to its expert" net_until 10 '.places[0].offered == "se-ah-01"' show gelderland "$R"
en achterhoek expert accept "$(offer_at gelderland "$R" 1)" >/dev/null
check "the origin learns it is accepted" net_until 15 '.state == "accepted"' en twente --json request show "$R"
AT=$(( $(date +%s%3N) + 8000 ))
"$CTL" "$NET_DIR/twente" review "{\"id\": \"$R\", \"review_at\": $AT}" >/dev/null
check "gelderland follows it up: monitoring with the date" \
    net_until 15 ".state == \"monitoring\" and .review_at == $AT" show gelderland "$R"
check "overijssel mirrors the place in monitoring" net_until 15 '.places[0].state == "monitoring"' show overijssel "$R"
check "the origin node has the date" \
    net_until 15 ".state == \"monitoring\" and .review_at == $AT" en twente --json request show "$R"
net_kill broker-gelderland KILL
ok "gelderland killed (-9) before the date"
while [ "$(date +%s%3N)" -le $(( AT + 1000 )) ]; do sleep 0.2; done
reminds () { "$NET_BIN/expertnet" --node "$NET_DIR/achterhoek" --json audit show --case "$R" |
             jq '[.[] | select(.event == "remind.receive")] | length'; }
check_eq "no reminder went before the date" 0 "$(reminds)"
start_gelderland || { not_ok "gelderland restarts"; test_done; }
check "achterhoek reconnects" net_wait_connected achterhoek
check "gelderland's expert is reminded" net_until 20 '. >= 1' reminds
check "the origin node hears review-due (from overijssel, which holds the date too)" \
    net_until 20 '[.events[] | select(.event == "review-due")] | length == 1' en twente --json request show "$R"
net_kill broker-gelderland KILL
start_gelderland || { not_ok "gelderland restarts again"; test_done; }
check "achterhoek reconnects again" net_wait_connected achterhoek
sleep 3
check_eq "the expert was reminded exactly once" 1 "$(reminds)"
check_eq "one reminded event at gelderland" 1 \
    "$(show gelderland "$R" | jq '[.events[] | select(.type == "reminded")] | length')"
check_eq "overijssel reminded nobody itself (it holds no place)" 0 \
    "$(show overijssel "$R" | jq '[.events[] | select(.type == "reminded")] | length')"
check_eq "overijssel has gelderland's review-due as the place's event besides its own" 2 \
    "$(show overijssel "$R" | jq '[.events[] | select(.type == "review-due")] | length')"
check_eq "the origin heard review-due once" 1 \
    "$(en twente --json request show "$R" | jq '[.events[] | select(.event == "review-due")] | length')"
en twente request close "$R" >/dev/null
check "closed at gelderland too" net_until 15 '.state == "closed"' show gelderland "$R"

# 2. Many teams; overijssel killed (-9) while they arrive
N=30
jq -n --argjson n $N '[range(1; $n + 1) | {id: ("twente-pl" + (. | tostring)), urgency: "regulier",
    question_type: "consultatie-advies", expertise: ["trauma", "lvb"], age_band: "12-17",
    places: [{role: "superexpert", expertise: ["trauma"]}, {role: "ervaringsdeskundige"},
             {role: "superexpert", expertise: ["lvb"]}]}]' > "$NET_DIR/teams.json"
en twente request submit --file "$NET_DIR/teams.json" --wait 0 > "$NET_DIR/submit.out" 2>&1 &
SUBMIT=$!
# Wait (at most 20 s) until the count SQL gives in DB reaches N: the
# moment to kill a broker mid-stream
wait_count () {   # DB SQL N
    local n
    for _ in $(seq 400); do
        n=$(sql "$1" "$2" 2>/dev/null || echo 0)
        [ "${n:-0}" -ge "$3" ] && return 0
        sleep 0.05
    done
}
wait_count "$ODB" "select count(*) from requests where id like 'twente-pl%'" 5
net_kill broker-overijssel KILL
AT_KILL=$(sql "$ODB" "select count(*) from requests where id like 'twente-pl%'")
check "overijssel killed while teams arrive ($AT_KILL of $N stored)" test "$AT_KILL" -gt 0 -a "$AT_KILL" -lt $N
start_overijssel || not_ok "overijssel restarts"
wait $SUBMIT
check "twente's outbox drains" net_until 60 '.outbox == 0' en twente --json node status
check_eq "every team exists at overijssel once" "$N" \
    "$(sql "$ODB" "select count(distinct id) from requests where id like 'twente-pl%'")"
check "every third place reaches gelderland" \
    net_until 60 ". == $N" sql "$GDB" "select count(*) from places where request_id like 'twente-pl%' and place = 3"
check_eq "gelderland holds no other place of them" "0" \
    "$(sql "$GDB" "select count(*) from places where request_id like 'twente-pl%' and place <> 3")"

# Gelderland's expert accepts its places; gelderland is killed (-9) meanwhile
OFFERS=$(en achterhoek --json expert inbox | jq -r '.[] | select(.request_id | startswith("twente-pl")) | .id')
check "achterhoek's expert holds places of the teams" test -n "$OFFERS"
# achterhoek accepts the offers OFFERS of the teams PREFIX*; gelderland is
# killed (-9) once N of them are accepted, restarted, and both drain
accept_across_kill () {   # PREFIX N
    ( for offer in $OFFERS; do en achterhoek expert accept "$offer" --wait 0 >/dev/null 2>&1 || true; done ) &
    local accepts=$!
    wait_count "$GDB" "select count(*) from offers where request_id like '$1%' and state = 'accepted'" "$2"
    net_kill broker-gelderland KILL
    ok "gelderland killed (-9) while its experts accept places ($1)"
    wait $accepts
    start_gelderland || not_ok "gelderland restarts"
    check "achterhoek reconnects" net_wait_connected achterhoek
    check "achterhoek's outbox drains" net_until 60 '.outbox == 0' en achterhoek --json node status
    check "gelderland's outbox to overijssel drains" net_until 60 '[.links[].queue] | add == 0' \
        "$NET_BIN/expertnet" --broker "$NET_DIR/gelderland" --json broker status
}
accept_across_kill twente-pl 3
# And twente's experts accept theirs; the origin node is killed (-9) meanwhile
OFFERS=$(en twente --json expert inbox | jq -r '.[] | select(.request_id | startswith("twente-pl")) | .id')
check "twente's experts hold places of the teams" test -n "$OFFERS"
( for offer in $OFFERS; do en twente expert accept "$offer" --wait 0 >/dev/null 2>&1 || break; done ) &
ACCEPTS=$!
wait_count "$ODB" "select count(*) from offers where request_id like 'twente-pl%' and state = 'accepted'" 3
net_kill twente KILL
ok "the origin node killed (-9) while its experts accept places"
wait $ACCEPTS
net_on overijssel "$OPORT"
net_node twente
check "twente reconnects" net_wait_connected twente
check "twente's outbox drains" net_until 60 '.outbox == 0' en twente --json node status

CONFIRMED=$(sql "$NET_DIR/achterhoek/node.db" "select count(*) from offers where request_id like 'twente-pl%' and answer = 'accept' and answer_status = 'confirmed'")
check_eq "every accept achterhoek confirmed is a filled place at gelderland" "$CONFIRMED" \
    "$(sql "$GDB" "select count(*) from places where request_id like 'twente-pl%' and state = 'accepted'")"
for db in "$ODB" "$GDB"; do
    check_eq "no place filled twice ($(basename "$(dirname "$db")"))" "0" \
        "$(sql "$db" "select count(*) from (select request_id, place from offers where state = 'accepted' group by request_id, place having count(*) > 1)")"
done
check_eq "no place lost: each team has its three places at overijssel" "$((N * 3))" \
    "$(sql "$ODB" "select count(*) from places where request_id like 'twente-pl%' and state in ('accepted', 'offered', 'forwarded')")"
check_eq "overijssel never offered a third place itself" "0" \
    "$(sql "$ODB" "select count(*) from offers where request_id like 'twente-pl%' and place = 3")"
check_eq "overijssel's load counts only its own experts' places" "0" \
    "$(sql "$ODB" "select count(*) from experts e where e.load <> (select count(*) from places p where p.expert = e.id and p.peer is null and p.state in ('accepted', 'advice'))")"
# Every place in the same state at the origin node, the origin broker and the peer
origin_agrees () {
    local broker node
    broker=$(sql "$ODB" "select request_id || ':' || place || ':' || state from places where request_id like 'twente-pl%' order by 1")
    node=$(sql "$TDB" "select request_id || ':' || place || ':' || state from request_places where request_id like 'twente-pl%' order by 1")
    [ -n "$broker" ] && [ "$broker" == "$node" ] && echo true || echo false
}
peer_agrees () {
    local here there
    here=$(sql "$ODB" "select request_id || ':' || place || ':' || state || ':' || coalesce (expert, '') from places
                       where request_id like 'twente-pl%' and peer = 'gelderland' order by 1")
    there=$(sql "$GDB" "select request_id || ':' || place || ':' || state || ':' || coalesce (expert, '') from places
                        where request_id like 'twente-pl%' order by 1")
    [ -n "$here" ] && [ "$here" == "$there" ] && echo true || echo false
}
check "every place at overijssel as at the origin node" net_until 30 '. == true' origin_agrees
check "every third place at overijssel as at gelderland" net_until 30 '. == true' peer_agrees
check_eq "each third place arrived at gelderland once (one 'submitted' each)" "$N" \
    "$(sql "$GDB" "select count(*) from (select request_id from events where type = 'submitted' and request_id like 'twente-pl%' group by request_id having count(*) = 1)")"
check_eq "each place's acceptance once in the origin's timeline" "0" \
    "$(sql "$TDB" "select count(*) from (select request_id, place from request_events where event = 'accepted' and request_id like 'twente-pl%' group by request_id, place having count(*) > 1)")"

# 3. Two places of a team that only Gelderland can fill (EXPN/3: a peer
# holds several places of one request). First one team, its place 1 at
# Gelderland while place 2 is a hiaat (Gelderland has nobody for it yet);
# Gelderland is killed (-9) between the two FORWARDs, gets an
# ervaringsdeskundige for lvb, and the hiaat place follows into its
# request; both filled there by two experts, mirrored place by place;
# the team's CLOSE goes to Gelderland once and closes both.
R=$(en twente --json request submit --urgency hoog --type consultatie-advies --age-band 12-17 \
    --place superexpert:lvb --place ervaringsdeskundige:lvb | jq -r .id)
check "a team of two only gelderland can fill is submitted" test -n "$R"
check "place 1 handed to gelderland, place 2 a hiaat" \
    net_until 15 '[.places[] | "\(.state):\(.peer // "-")"] == ["offered:gelderland", "hiaat:-"]' show overijssel "$R"
check "gelderland holds place 1" \
    net_until 10 '[.places[] | "\(.place):\(.state):\(.offered)"] == ["1:offered:se-ah-01"]' show gelderland "$R"
net_kill broker-gelderland KILL
ok "gelderland killed (-9) between the FORWARDs of the team's two places"
start_gelderland || { not_ok "gelderland restarts"; test_done; }
check "achterhoek reconnects" net_wait_connected achterhoek
en achterhoek expert add --id ed-ah-01 --role ervaringsdeskundige --expertise lvb --capacity 50 >/dev/null
check "place 2 is handed to gelderland too" \
    net_until 30 '[.places[] | "\(.state):\(.peer // "-")"] == ["offered:gelderland", "offered:gelderland"]' \
    show overijssel "$R"
check "gelderland holds both places in its one request, each offered to its expert" \
    net_until 10 '[.places[] | "\(.place):\(.state):\(.offered)"] == ["1:offered:se-ah-01", "2:offered:ed-ah-01"]' \
    show gelderland "$R"
check_eq "one request at gelderland, its place 1 taken once" "1:1" \
    "$(sql "$GDB" "select count(*) from requests where id = '$R'"):$(sql "$GDB" "select count(*) from offers where request_id = '$R' and place = 1")"
en achterhoek expert accept "$(offer_at gelderland "$R" 1)" >/dev/null
en achterhoek expert accept "$(offer_at gelderland "$R" 2)" >/dev/null
check "both filled at gelderland by its two experts" \
    net_until 15 '.state == "accepted" and ([.places[].expert] == ["se-ah-01", "ed-ah-01"])' show gelderland "$R"
check "overijssel mirrors each place with its expert" \
    net_until 15 '.state == "accepted" and ([.places[] | "\(.state):\(.expert):\(.peer)"] == ["accepted:se-ah-01:gelderland", "accepted:ed-ah-01:gelderland"])' \
    show overijssel "$R"
check "the origin sees both filled" \
    net_until 15 '[.places[] | "\(.state):\(.expert)"] == ["accepted:se-ah-01", "accepted:ed-ah-01"]' \
    en twente --json request show "$R"
en twente request close "$R" --outcome "team samengesteld" >/dev/null
check "close: both places closed at gelderland" \
    net_until 15 '.state == "closed" and ([.places[].state] == ["closed", "closed"])' show gelderland "$R"
check "... and at overijssel" \
    net_until 15 '.state == "closed" and ([.places[].state] == ["closed", "closed"])' show overijssel "$R"
check "... and at the origin" net_until 15 '.state == "closed"' en twente --json request show "$R"
check_eq "the CLOSE went to gelderland once" 1 \
    "$(sql "$ODB" "select count(*) from events where request_id = '$R' and type = 'relayed' and detail like 'CLOSE%'")"

# Then many such teams at once, gelderland killed (-9) while their
# FORWARDs arrive: every team's two places at gelderland once, in one
# request, and every place alike at origin node, origin broker and peer
M=20
jq -n --argjson n $M '[range(1; $n + 1) | {id: ("twente-gl" + (. | tostring)), urgency: "regulier",
    question_type: "consultatie-advies", expertise: ["lvb"], age_band: "12-17",
    places: [{role: "superexpert", expertise: ["lvb"]}, {role: "ervaringsdeskundige", expertise: ["lvb"]}]}]' \
    > "$NET_DIR/teams-gl.json"
check "overijssel learns gelderland's free ervaringsdeskundige places" \
    net_until 15 '. >= 40' sql "$ODB" "select coalesce (sum (free), 0) from peer_adverts where peer = 'gelderland' and role = 'ervaringsdeskundige'"
en twente request submit --file "$NET_DIR/teams-gl.json" --wait 0 > "$NET_DIR/submit-gl.out" 2>&1 &
SUBMIT=$!
wait_count "$GDB" "select count(*) from places where request_id like 'twente-gl%'" 2
net_kill broker-gelderland KILL
ok "gelderland killed (-9) while the teams' places arrive ($(sql "$GDB" "select count(*) from places where request_id like 'twente-gl%'") of $((M * 2)) stored, $(sql "$GDB" "select count(*) from (select request_id from places where request_id like 'twente-gl%' group by request_id having count(*) = 1)") team(s) with one place of two)"
start_gelderland || not_ok "gelderland restarts"
wait $SUBMIT
check "achterhoek reconnects" net_wait_connected achterhoek
check "twente's outbox drains" net_until 60 '.outbox == 0' en twente --json node status
check "every place of every team reaches gelderland" \
    net_until 60 ". == $((M * 2))" sql "$GDB" "select count(*) from places where request_id like 'twente-gl%'"
check_eq "one request per team at gelderland" "$M" \
    "$(sql "$GDB" "select count(*) from requests where id like 'twente-gl%'")"
check_eq "each place arrived once (one 'submitted' per place)" "0" \
    "$(sql "$GDB" "select count(*) from (select request_id, place from events where type = 'submitted' and request_id like 'twente-gl%' group by request_id, place having count(*) <> 1)")"
gl_offers () { en achterhoek --json expert inbox | jq -r '.[] | select(.request_id | startswith("twente-gl")) | .id'; }
gl_offer_count () { gl_offers | grep -c .; }
check "achterhoek's experts hold an offer for every place" net_until 30 ". == $((M * 2))" gl_offer_count
OFFERS=$(gl_offers)
accept_across_kill twente-gl 5
CONFIRMED=$(sql "$NET_DIR/achterhoek/node.db" "select count(*) from offers where request_id like 'twente-gl%' and answer = 'accept' and answer_status = 'confirmed'")
check_eq "every accept achterhoek confirmed is a filled place at gelderland" "$CONFIRMED" \
    "$(sql "$GDB" "select count(*) from places where request_id like 'twente-gl%' and state = 'accepted'")"
check_eq "no place of them filled twice at gelderland" "0" \
    "$(sql "$GDB" "select count(*) from (select request_id, place from offers where state = 'accepted' and request_id like 'twente-gl%' group by request_id, place having count(*) > 1)")"
check_eq "no place lost: every place at overijssel is with gelderland" "$((M * 2))" \
    "$(sql "$ODB" "select count(*) from places where request_id like 'twente-gl%' and peer = 'gelderland' and state in ('accepted', 'offered', 'forwarded')")"
check_eq "gelderland's load is its places' (two experts, both charged)" "0" \
    "$(sql "$GDB" "select count(*) from experts e where e.load <> (select count(*) from places p where p.expert = e.id and p.peer is null and p.state in ('accepted', 'advice', 'monitoring'))")"
team_agrees () {
    local origin node peer
    origin=$(sql "$ODB" "select request_id || ':' || place || ':' || state || ':' || coalesce (expert, '') from places
                         where request_id like 'twente-gl%' order by 1")
    node=$(sql "$TDB" "select request_id || ':' || place || ':' || state || ':' || coalesce (expert, '') from request_places
                       where request_id like 'twente-gl%' order by 1")
    peer=$(sql "$GDB" "select request_id || ':' || place || ':' || state || ':' || coalesce (expert, '') from places
                       where request_id like 'twente-gl%' order by 1")
    [ -n "$origin" ] && [ "$origin" == "$node" ] && [ "$origin" == "$peer" ] && echo true || echo false
}
check "every place alike at the origin node, overijssel and gelderland" net_until 30 '. == true' team_agrees
test_done
