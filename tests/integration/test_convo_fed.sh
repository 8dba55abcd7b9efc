#!/usr/bin/env bash
# A team's conversation and its moreel beraad across two provinces
# (issue 13), real processes on loopback: Overijssel (node twente) and
# Gelderland (node achterhoek), peers. A team of twente has one place
# filled at home (se-tw-01, twente) and one in Gelderland (se-ah-01,
# achterhoek). The team and both experts write many messages (an advice
# among them) while kill -9 hits, in turn, the origin broker, the peer
# broker, the origin node and the peer node, each restarted: afterwards
# every participant's thread (`request thread`, `expert thread`) holds
# every message exactly once, in one order (the same seq everywhere),
# read receipts arrive, every copy is sealed to the participants of its
# node only and no broker's files hold a text in clear. Then a
# moreel-beraad team across the two: a proposal that waited on Gelderland
# down past its time is refused there, and the team hears it (event
# relay-refused); times proposed, answered from both sides, fixed, held:
# every side has the fixed time and the fact it was held (each expert's
# node the date it was held), and the outcome note stays sealed at the
# team's node. An advice of gelderland's expert moves place 2 at both
# brokers and at the team's node alike.
. "$(dirname "$0")/lib.sh"
for tool in jq sqlite3; do
    command -v $tool >/dev/null || { not_ok "$tool is installed (deploy/deps.sh)"; test_done; }
done
CTL=$NET_ROOT/build/tests/ctl
[ -x "$CTL" ] || { not_ok "build/tests/ctl is built (make unit-bins)"; test_done; }
test_init
fed_pair_init
MARK=SYNTHFED4417
start_node () {     # start_node NODE BROKER
    net_on "$2" "$([ "$2" = overijssel ] && echo "$OPORT" || echo "$GPORT")"
    net_node "$1"
}
start_gelderland || { not_ok "gelderland starts"; test_done; }
start_node achterhoek gelderland
start_overijssel || { not_ok "overijssel starts"; test_done; }
start_node twente overijssel
for n in twente achterhoek; do
    net_wait_connected "$n" || { not_ok "$n connects"; test_done; }
done
ok "two brokers, peers, each with its node"
ODB=$NET_DIR/overijssel/broker.db
GDB=$NET_DIR/gelderland/broker.db
bst () { "$NET_BIN/expertnet" --broker "$NET_DIR/$1" --json broker status; }
show () { "$NET_BIN/expertnet" --broker "$NET_DIR/$1" --json broker show "$2"; }
offer_at () { show "$1" "$2" | jq -r ".offers_open[] | select(.place == $3) | .id"; }
accepted_offer () { show "$1" "$2" | jq -r "[.offers[]? // empty | select(.place == $3 and .state == \"accepted\") | .id][0] // empty"; }

en twente expert add --id se-tw-01 --role superexpert --expertise trauma --capacity 20 >/dev/null
en achterhoek expert add --id se-ah-01 --role superexpert --expertise lvb --capacity 20 >/dev/null
check "overijssel's link to gelderland is up" net_until 20 '.links[0].state == "up"' bst overijssel
check "overijssel learns gelderland's free lvb places" net_until 20 '.links[0].advert.free >= 20' bst overijssel

# A team of two submitted by twente (place 1 trauma at home, place 2 lvb
# in Gelderland), each place accepted by its province's expert; its id
# in TEAM, the two accepted offers in TEAM_HOME (overijssel's) and
# TEAM_PEER (gelderland's). team_across TYPE [SUBMIT OPTIONS...]
team_across () {
    local type=$1; shift
    TEAM=$(en twente --json request submit --urgency hoog --type "$type" --age-band 12-17 "$@" \
           --place superexpert:trauma --place superexpert:lvb | jq -r .id)
    check "a $type team of two is submitted" test -n "$TEAM"
    check "$type: place 1 offered at home, place 2 at gelderland" net_until 20 \
        '[.places[] | "\(.state):\(.peer // "-")"] == ["offered:-", "offered:gelderland"]' show overijssel "$TEAM"
    check "$type: gelderland offers place 2 to its expert" \
        net_until 20 '.places[0].offered == "se-ah-01"' show gelderland "$TEAM"
    TEAM_HOME=$(offer_at overijssel "$TEAM" 1)
    TEAM_PEER=$(offer_at gelderland "$TEAM" 2)
    en twente expert accept "$TEAM_HOME" >/dev/null
    en achterhoek expert accept "$TEAM_PEER" >/dev/null
    check "$type: both places filled, the team is accepted at overijssel" \
        net_until 20 '.state == "accepted" and ([.places[].expert] == ["se-tw-01", "se-ah-01"])' show overijssel "$TEAM"
}

# --- A team of two: place 1 at home, place 2 in Gelderland
team_across consultatie-advies
R=$TEAM OT=$TEAM_HOME OA=$TEAM_PEER
MEMBERS='["se-ah-01", "se-tw-01", "team"]'
check "the team learns all three participants (MEMBERS)" \
    net_until 20 ".members == $MEMBERS" en twente --json request thread "$R" --no-read
check "twente's expert does" net_until 20 ".members == $MEMBERS" en twente --json expert thread "$OT" --no-read
check "gelderland's expert does, through gelderland" \
    net_until 20 ".members == $MEMBERS" en achterhoek --json expert thread "$OA" --no-read
check_eq "gelderland keeps no conversation of its own for the place" 0 \
    "$(sql "$GDB" "select count(*) from convo_messages")"

# --- Writers: each CLI call that succeeded is recorded; one that failed
# (its node was down, or killed under it) may or may not have been taken
: > "$NET_DIR/sent"; : > "$NET_DIR/tried"
write () {          # write WHO N: one message of WHO, numbered N
    local text="$MARK $1-$2" rc
    case $1 in
        team) en twente request message "$R" --text "$text" >/dev/null 2>&1 ;;
        tw)   en twente expert message "$OT" --text "$text" >/dev/null 2>&1 ;;
        ah)   en achterhoek expert message "$OA" --text "$text" >/dev/null 2>&1 ;;
    esac
    rc=$?
    echo "$text" >> "$NET_DIR/tried"
    [ $rc -eq 0 ] && echo "$text" >> "$NET_DIR/sent"
    return 0
}
writers () {        # writers FROM TO: each of the three writes FROM..TO
    local i who
    for i in $(seq "$1" "$2"); do
        for who in team tw ah; do write $who "$i"; done
    done
}
numbered () { sql "$ODB" "select count(*) from convo_messages where request_id = '$R'" 2>/dev/null || echo 0; }

writers 1 2
check_exit "twente's expert advises in the conversation" 0 \
    en twente expert message "$OT" --advice --text "$MARK tw-advies: begin met een analyse"
echo "$MARK tw-advies: begin met een analyse" >> "$NET_DIR/sent"
echo "$MARK tw-advies: begin met een analyse" >> "$NET_DIR/tried"
check "the advice moves place 1 to advice" net_until 20 '.places[0].state == "advice"' show overijssel "$R"
AH_ADVICE="$MARK ah-advies: betrek de school"
check_exit "gelderland's expert advises in the conversation" 0 en achterhoek expert message "$OA" --advice --text "$AH_ADVICE"
echo "$AH_ADVICE" >> "$NET_DIR/sent"
echo "$AH_ADVICE" >> "$NET_DIR/tried"
check "overijssel moves place 2 to advice" net_until 20 '.places[1].state == "advice"' show overijssel "$R"
check "gelderland's copy of place 2 moves to advice once overijssel took it" \
    net_until 20 '[.places[] | select(.place == 2) | .state] == ["advice"]' show gelderland "$R"
check "the team's node sees place 2 in advice" net_until 20 '.places[1].state == "advice"' en twente --json request show "$R"
place2 () {         # place 2 as gelderland, overijssel and twente see it
    echo "$(show gelderland "$R" | jq -r '.places[] | select(.place == 2) | .state')|$(show overijssel "$R" |
        jq -r '.places[1].state')|$(en twente --json request show "$R" | jq -r '.places[1].state')"
}
check_eq "the three views of place 2 agree" "advice|advice|advice" "$(place2)"
check "the first seven are numbered at overijssel" net_until 30 '. >= 7' numbered

# kill -9 of each in turn, the writers going on meanwhile
BASE=3
for victim in broker-overijssel broker-gelderland twente achterhoek; do
    writers $BASE $((BASE + 3)) &
    WRITERS=$!
    before=$(numbered)
    net_until 30 ". >= $((before + 2))" numbered || true
    net_kill "$victim" KILL
    ok "$victim killed (-9) while the conversation goes on"
    case $victim in
        broker-overijssel) start_overijssel || not_ok "overijssel restarts" ;;
        broker-gelderland) start_gelderland || not_ok "gelderland restarts" ;;
        twente) start_node twente overijssel ;;
        achterhoek) start_node achterhoek gelderland ;;
    esac
    wait $WRITERS
    for n in twente achterhoek; do
        net_wait_connected "$n" >/dev/null 2>&1 || not_ok "$n connected after the kill of $victim"
    done
    BASE=$((BASE + 4))
done
writers $BASE $((BASE + 1))

SENT=$(sort -u "$NET_DIR/sent" | wc -l)
check "most writes were taken ($SENT of $(wc -l < "$NET_DIR/tried"))" test "$SENT" -ge 40
for n in twente achterhoek; do
    check "$n's outbox drains" net_until 60 '.outbox == 0' en $n --json node status
done
for b in overijssel gelderland; do
    check "$b's links drain" net_until 60 '[.links[].queue] | add == 0' bst $b
done
check_eq "the three views of place 2 still agree after the kills" "advice|advice|advice" "$(place2)"
check_eq "gelderland moved place 2 to advice exactly once" "1" \
    "$(sql "$GDB" "select count(*) from events where request_id = '$R' and type = 'advice'")"
check_eq "overijssel heard no advice back from gelderland (one advice event per place)" "1|1" \
    "$(sql "$ODB" "select group_concat (n, '|') from (select count(*) as n from events where request_id = '$R' and type = 'advice' group by place order by place)")"
# Every write taken is numbered once; a write whose CLI failed at most once
N=$(numbered)
check_eq "overijssel numbered each message once, seq 1..N" "$N|$N|$N" \
    "$(sql "$ODB" "select count(*) || '|' || count(distinct msg_id) || '|' || max(seq) from convo_messages where request_id = '$R'")"
thread () {         # the thread a participant sees: [[seq, from, kind, text]]
    case $1 in
        team) en twente --json request thread "$R" --no-read ;;
        tw)   en twente --json expert thread "$OT" --no-read ;;
        ah)   en achterhoek --json expert thread "$OA" --no-read ;;
    esac | jq -c '[.messages[] | [.seq, .from, .kind, .text]]'
}
for who in team tw ah; do
    check "$who's thread holds all $N messages, seq 1..$N" \
        net_until 60 "length == $N and ([.[][0]] == [range(1; $N + 1)])" thread $who
done
TEAM_THREAD=$(thread team)
check_eq "twente's expert sees the same thread (seq, writer, kind, text)" "$TEAM_THREAD" "$(thread tw)"
check_eq "gelderland's expert sees the same thread" "$TEAM_THREAD" "$(thread ah)"
check_eq "no text twice" "$N" "$(jq -r '.[][3]' <<< "$TEAM_THREAD" | sort -u | wc -l)"
MISSING=$(jq -r '.[][3]' <<< "$TEAM_THREAD" | sort | comm -23 <(sort -u "$NET_DIR/sent") -)
check_eq "every write the CLI confirmed is in the thread (none lost)" "" "$MISSING"
STRAY=$(jq -r '.[][3]' <<< "$TEAM_THREAD" | sort | comm -13 <(sort -u "$NET_DIR/tried") -)
check_eq "nothing in the thread that nobody wrote" "" "$STRAY"
for who in team tw ah; do
    check_eq "$who's messages in the order its node took them" "true" \
        "$(jq --arg p "$MARK $who-" '[.[] | .[3] | select(test("^" + $p + "[0-9]+$")) | ltrimstr($p) | tonumber] | . == sort' <<< "$TEAM_THREAD")"
done
check_eq "each under its writer's name" "0" \
    "$(jq --arg m "$MARK" '[.[] | select((.[3] | startswith($m + " team-")) != (.[1] == "team")
                                    or (.[3] | startswith($m + " ah-")) != (.[1] == "se-ah-01"))] | length' <<< "$TEAM_THREAD")"
check_eq "the advice is one message of kind advice from se-tw-01" "1" \
    "$(jq '[.[] | select(.[2] == "advice" and .[1] == "se-tw-01")] | length' <<< "$TEAM_THREAD")"
for db in "$NET_DIR/twente/node.db" "$NET_DIR/achterhoek/node.db"; do
    check_eq "$(basename "$(dirname "$db")") stores each message once" "$N|$N" \
        "$(sql "$db" "select count(*) || '|' || count(distinct seq) from convo_messages where request_id = '$R'")"
done
check_eq "achterhoek holds copies sealed to its expert only" "se-ah-01" \
    "$(sql "$NET_DIR/achterhoek/node.db" "select group_concat (distinct recipient) from convo_copies where request_id = '$R'")"
check_eq "twente holds copies for the team and its expert only" "se-tw-01,team" \
    "$(sql "$NET_DIR/twente/node.db" "select group_concat (recipient) from (select distinct recipient from convo_copies where request_id = '$R' order by 1)")"

# --- Read receipts across the two provinces
en twente request thread "$R" >/dev/null
en achterhoek expert thread "$OA" >/dev/null
check "gelderland's expert sees the team read every message of others" \
    net_until 30 '[.messages[] | select(.from != "team") | .read_by | index("team")] | all' \
    en achterhoek --json expert thread "$OA" --no-read
check "the team sees gelderland's expert read every message of others" \
    net_until 30 '[.messages[] | select(.from != "se-ah-01") | .read_by | index("se-ah-01")] | all' \
    en twente --json request thread "$R" --no-read
check "twente's expert sees both read receipts on its own messages" \
    net_until 30 '[.messages[] | select(.from == "se-tw-01") | (.read_by | sort)] | all(. == ["se-ah-01", "team"])' \
    en twente --json expert thread "$OT" --no-read
check_eq "overijssel keeps each receipt once" "0" \
    "$(sql "$ODB" "select count(*) from (select seq, reader from convo_receipts where request_id = '$R' group by 1, 2 having count(*) > 1)")"

# --- The close ends it everywhere
en twente request close "$R" --outcome "afgerond" >/dev/null
check "closed at gelderland" net_until 20 '.state == "closed"' show gelderland "$R"
check "gelderland's expert is told the conversation ended" \
    net_until 20 '.members == []' en achterhoek --json expert thread "$OA" --no-read
check_exit "gelderland's expert cannot write after the close" 1 \
    en achterhoek expert message "$OA" --text "na afloop"
check "the conversation stays readable there" net_until 5 ".messages | length == $N" \
    en achterhoek --json expert thread "$OA" --no-read

# --- Moreel beraad across the two provinces
team_across moreel-beraad --question "Kwx-dilemma over een gesloten plaatsing"
R2=$TEAM BT=$TEAM_HOME BA=$TEAM_PEER
check "the team knows" net_until 20 '.state == "accepted"' en twente --json request show "$R2"

# A proposal that waits on gelderland down past its time is refused
# there (422): the team hears it
net_kill broker-gelderland KILL
SOON=$(( ($(date +%s) + 8) * 1000 ))
"$CTL" "$NET_DIR/twente" beraad "{\"id\": \"$R2\", \"action\": \"propose\", \"times\": [$SOON]}" >/dev/null
check "overijssel takes it and relays it to gelderland" \
    net_until 20 '[.events[] | select(.type == "relayed" and (.detail | startswith("BERAAD to gelderland")))] | length == 1' \
    show overijssel "$R2"
while [ "$(date +%s%3N)" -le $(( SOON + 1000 )) ]; do sleep 0.2; done
start_gelderland || { not_ok "gelderland restarts"; test_done; }
check "overijssel records that gelderland refused it" \
    net_until 30 '[.events[] | select(.type == "relay-refused" and .place == 2 and (.detail | test("gelderland refused BERAAD: 422")))] | length == 1' \
    show overijssel "$R2"
check "the team sees the refusal as an event of place 2" \
    net_until 30 '[.events[] | select(.event == "relay-refused" and .place == 2 and (.detail | test("^gelderland refused BERAAD")))] | length == 1' \
    en twente --json request show "$R2"
check_eq "the place did not move" "accepted accepted" \
    "$(show overijssel "$R2" | jq -r '[.places[].state] | join(" ")')"
check "achterhoek reconnects" net_wait_connected achterhoek

T1=$(TZ=Europe/Amsterdam date -d '+2 days' '+%Y-%m-%d 14:00')
T2=$(TZ=Europe/Amsterdam date -d '+3 days' '+%Y-%m-%d 10:30')
T1MS=$(( $(TZ=Europe/Amsterdam date -d "$T1" +%s) * 1000 ))
T2MS=$(( $(TZ=Europe/Amsterdam date -d "$T2" +%s) * 1000 ))
check_exit "the team proposes two times" 0 en twente request beraad "$R2" --propose "$T1,$T2"
beraad_of () { en "$1" --json expert beraad "$2"; }
check "twente's expert has both times" net_until 20 ".times == [$T1MS, $T2MS]" beraad_of twente "$BT"
check "gelderland's expert has both times, through gelderland" \
    net_until 30 ".times == [$T1MS, $T2MS]" beraad_of achterhoek "$BA"
check_exit "twente's expert answers" 0 en twente expert beraad "$BT" --available "$T1,$T2"
check_exit "gelderland's expert answers" 0 en achterhoek expert beraad "$BA" --available "$T2"
check "the team sees both answers, each with its expert" \
    net_until 30 '[.events[] | select(.event == "beraad-answer") | .expert] | sort == ["se-ah-01", "se-tw-01"]' \
    en twente --json request show "$R2"
check_exit "the team fixes the time that suits both" 0 en twente request beraad "$R2" --fix "$T2"
check "twente's expert has the fixed time" net_until 20 ".at == $T2MS" beraad_of twente "$BT"
check "gelderland's expert has the fixed time" net_until 30 ".at == $T2MS" beraad_of achterhoek "$BA"
check "gelderland recorded it fixed" \
    net_until 30 '[.events[] | select(.type == "beraad-fixed")] | length == 1' show gelderland "$R2"
check_exit "the team records that it was held, with its note" 0 \
    en twente request beraad "$R2" --held now --outcome "Kwx-uitkomst: vervolgberaad afgesproken"
check "gelderland records that it was held" \
    net_until 30 '[.events[] | select(.type == "beraad-held")] | length == 1' show gelderland "$R2"
check "overijssel has it for the team, and gelderland's echo on place 2" \
    net_until 30 '[.events[] | select(.type == "beraad-held") | .place // 0] | sort == [0, 2]' show overijssel "$R2"
FIXED_UTC=$(date -u -d "@$((T2MS / 1000))" '+%Y-%m-%dT%H:%MZ')
check "the team heard fixed once, with the time fixed (beraad_at)" \
    net_until 20 "[.events[] | select(.event == \"beraad-fixed\") | .detail] == [\"$FIXED_UTC\"]" \
    en twente --json request show "$R2"
check "and held once" net_until 20 '[.events[] | select(.event == "beraad-held")] | length == 1' \
    en twente --json request show "$R2"
check "twente's expert is told it was held" net_until 20 '.held_at > 0' beraad_of twente "$BT"
check "gelderland's expert is told, through gelderland" net_until 30 '.held_at > 0' beraad_of achterhoek "$BA"
HELD_MS=$(beraad_of twente "$BT" | jq .held_at)
check_eq "both with the date the team recorded" "$HELD_MS|$(date -u -d "@$((HELD_MS / 1000))" '+%Y-%m-%dT%H:%MZ')" \
    "$(beraad_of achterhoek "$BA" | jq .held_at)|$(en twente --json request show "$R2" |
        jq -r '[.events[] | select(.event == "beraad-held") | .detail][0]')"
check "gelderland's expert's inbox shows it held" \
    net_until 5 "[.[] | select(.id == \"$BA\") | .beraad_held_at] == [$HELD_MS]" en achterhoek --json expert inbox --all
check_eq "and says so in words" 1 "$(en achterhoek expert inbox --all | grep "$BA" | grep -c 'beraad held')"
check_eq "the request did not move" "accepted" "$(show overijssel "$R2" | jq -r .state)"
check_eq "the outcome note is at neither broker" 0 \
    "$(for db in "$ODB" "$GDB"; do sqlite3 -readonly "$db" .dump; done | grep -c 'Kwx-uitkomst')"
check_eq "the team's node keeps it sealed only, and no expert's node has it" 0 \
    "$(for n in twente achterhoek; do sqlite3 -readonly "$NET_DIR/$n/node.db" .dump; done | grep -c 'Kwx-uitkomst')"
check_eq "... but keeps it" 1 \
    "$(sql "$NET_DIR/twente/node.db" "select count(*) from requests where id = '$R2' and beraad_outcome is not null")"

# --- No text in clear in either broker's files (nor the nodes' stores)
FILES=()
for f in "$ODB" "$ODB-wal" "$GDB" "$GDB-wal" "$NET_DIR"/overijssel.log "$NET_DIR"/gelderland.log \
         "$NET_DIR"/*/node.db "$NET_DIR"/*/node.db-wal; do
    [ -f "$f" ] && FILES+=("$f")
done
check "no broker's store or log, nor a node's store, holds a text (${#FILES[@]} files)" lacks -a "$MARK" "${FILES[@]}"
test_done
