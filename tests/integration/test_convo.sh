#!/usr/bin/env bash
# A request's conversation end to end through real processes: the
# requesting team (twente) and the expert who accepted (ijsselland) write
# to each other from the CLI, sealed to every participant; the broker
# orders the messages and relays ciphertext only; read receipts; an
# advice as a message; kill -9 of the broker and of the expert's node in
# the middle of the conversation: afterwards every message is at both
# participants exactly once, in one order. A node whose expert takes no
# part (ec-overijssel) gets nothing; after the close nobody can write;
# no store or log on the way holds the text.
. "$(dirname "$0")/lib.sh"
test_init
test_network twente ijsselland ec-overijssel
MARK=SYNTHMARK7731
BROKER_DB=$NET_DIR/overijssel/broker.db
# sql_until SECS EXPECTED DB QUERY: until the query answers EXPECTED
sql_until () {
    local end=$(( $(date +%s) + $1 ))
    while [ "$(sql "$3" "$4" 2>/dev/null)" != "$2" ]; do
        [ "$(date +%s)" -lt "$end" ] || { echo "# got '$(sql "$3" "$4" 2>&1)'" >&2; return 1; }
        sleep 0.1
    done
}

en ijsselland expert add --id se-ij-01 --role superexpert --expertise trauma --capacity 2 >/dev/null
en ec-overijssel expert add --id se-ec-01 --role superexpert --expertise autisme --capacity 2 >/dev/null
check "both experts published" net_until 10 'length == 2' enb --json broker experts

printf 'Dossier %s: synthetisch, geen echte gegevens.\n' "$MARK" > "$NET_DIR/dossier.txt"
R=$(en twente --json request submit --urgency hoog --type consultatie-advies --expertise trauma \
    --age-band 12-17 --dossier-file "$NET_DIR/dossier.txt" | jq -r .id)
check "request offered to ijsselland's expert" net_until 10 '.offers_open[0].expert == "se-ij-01"' broker_request "$R"
check_exit "no conversation before an expert accepted" 1 en twente request message "$R" --text "te vroeg"
en ijsselland expert accept "$R-o1" >/dev/null
check "accepted" wait_state "$R" accepted
check "the team learns the participants (MEMBERS)" \
    net_until 10 '.members == ["se-ij-01", "team"]' en twente --json request thread "$R" --no-read
check "the expert's node learns them too" \
    net_until 10 '.members == ["se-ij-01", "team"]' en ijsselland --json expert thread "$R-o1" --no-read
check "the dossier reached the accepting expert, sealed" \
    sql_until 10 1 "$NET_DIR/ijsselland/node.db" "select count(*) from offers where id = '$R-o1' and dossier is not null"

# A conversation from the CLI, both ways; an advice is one of its messages
check_exit "team writes" 0 en twente request message "$R" --text "$MARK t1: welkom, wat heeft u nodig?"
check_exit "expert answers" 0 en ijsselland expert message "$R-o1" --text "$MARK e1: graag het plan van aanpak"
check_exit "expert advises (by request id and --expert)" 0 \
    en ijsselland expert message "$R" --expert se-ij-01 --advice --text "$MARK e2: advies, start met een analyse"
check "the advice moves the request to 'advice'" wait_state "$R" advice
check "the team has three messages" net_until 10 '.messages | length == 3' en twente --json request thread "$R" --no-read
T=$(en twente --json request thread "$R")
check_eq "in one order, opened by the team" "$MARK t1: welkom, wat heeft u nodig?|$MARK e1: graag het plan van aanpak|$MARK e2: advies, start met een analyse" \
    "$(jq -r '[.messages[].text] | join("|")' <<< "$T")"
check_eq "with sender and kind" "team/message se-ij-01/message se-ij-01/advice" \
    "$(jq -r '[.messages[] | "\(.from)/\(.kind)"] | join(" ")' <<< "$T")"
check "the expert's node has the same three" net_until 10 '[.messages[].seq] == [1, 2, 3]' \
    en ijsselland --json expert thread "$R-o1" --no-read
check_eq "the expert opens them (key still with the node's vault)" "$MARK t1: welkom, wat heeft u nodig?" \
    "$(en ijsselland --json expert thread "$R-o1" --no-read | jq -r '.messages[0].text')"

# Read receipts: the team read the expert's two (above, without --no-read)
check "the expert sees that the team read messages 2 and 3" \
    net_until 10 '[.messages[] | select(.read_by == ["team"]) | .seq] == [2, 3]' \
    en ijsselland --json expert thread "$R-o1" --no-read
check_eq "not their own message 1" "[]" \
    "$(en ijsselland --json expert thread "$R-o1" --no-read | jq -c '.messages[0].read_by')"
en ijsselland expert thread "$R-o1" > "$NET_DIR/expert-thread.txt"
check "the team sees the expert read message 1" \
    net_until 10 '.messages[0].read_by == ["se-ij-01"]' en twente --json request thread "$R" --no-read
check "the CLI's thread shows who read what" grep -q "read by: team$" "$NET_DIR/expert-thread.txt"
RECEIPTS=$(sql "$BROKER_DB" "select count(*) from convo_receipts where request_id = '$R'")
en twente request thread "$R" >/dev/null
check_eq "reading again sends no second receipt" "$RECEIPTS" \
    "$(sql "$BROKER_DB" "select count(*) from convo_receipts where request_id = '$R'")"

# kill -9 of the broker, then of the expert's node, while the team writes
SENT=3
: > "$NET_DIR/team-sent.txt"
send_team () {
    local i
    for i in $(seq "$1" "$2"); do
        if en twente request message "$R" --text "$MARK t-$i" >/dev/null 2>&1; then echo "t-$i" >> "$NET_DIR/team-sent.txt"; fi
        sleep 0.1
    done
}
send_team 1 5
net_kill broker KILL
send_team 6 10                                      # queued at twente while the broker is down
check "the team sees what waits for the broker (at least the five written while it was down)" \
    net_until 2 '[.unsent[] | select(.state == "queued")] | length >= 5' en twente --json request thread "$R" --no-read
net_broker
check "twente reconnects after the broker's kill -9" net_wait_connected twente
send_team 11 14 &
SENDER=$!
sleep 0.2
net_kill ijsselland KILL
wait $SENDER
send_team 15 18
check_exit "the expert's node is down: its CLI cannot write" 3 en ijsselland expert message "$R-o1" --text "x"
net_node ijsselland
check "ijsselland reconnects after its kill -9" net_wait_connected ijsselland
check_exit "the expert writes after the restart" 0 en ijsselland expert message "$R-o1" --text "$MARK e-after"
TEAM_SENT=$(wc -l < "$NET_DIR/team-sent.txt")
check_eq "the team's CLI queued all 18 (the team's node stayed up)" "18" "$TEAM_SENT"
N=$((SENT + TEAM_SENT + 1))
check "twente's outbox drains" net_until 30 '.outbox == 0' en twente --json node status
check_eq "... and nothing once it took it" "0" "$(en twente --json request thread "$R" --no-read | jq '.unsent | length')"
check "ijsselland's outbox drains" net_until 30 '.outbox == 0' en ijsselland --json node status
check "the broker numbered $N messages" sql_until 20 "$N|$N|$N" \
    "$BROKER_DB" "select count(*) || '|' || count(distinct msg_id) || '|' || max(seq) from convo_messages where request_id = '$R'"
for node in twente ijsselland; do
    check "$node holds all $N, each once, seq 1..$N" sql_until 20 "$N|$N|1|$N" \
        "$NET_DIR/$node/node.db" "select count(*) || '|' || count(distinct seq) || '|' || min(seq) || '|' || max(seq) from convo_messages where request_id = '$R'"
done
EXPECTED=$(sed "s/^/$MARK /" "$NET_DIR/team-sent.txt" | paste -sd'|')
check_eq "the team's messages in the order written, at the team" "$EXPECTED" \
    "$(en twente --json request thread "$R" --no-read | jq -r '[.messages[] | select(.text | test("t-[0-9]")) | .text] | join("|")')"
check_eq "and in the same order at the expert" "$EXPECTED" \
    "$(en ijsselland --json expert thread "$R-o1" --no-read | jq -r '[.messages[] | select(.text | test("t-[0-9]")) | .text] | join("|")')"
check_eq "both see the same sequence" \
    "$(en twente --json request thread "$R" --no-read | jq -c '[.messages[] | [.seq, .from, .text]]')" \
    "$(en ijsselland --json expert thread "$R-o1" --no-read | jq -c '[.messages[] | [.seq, .from, .text]]')"

# Who takes no part gets nothing
check_eq "ec-overijssel (not a participant) received no message" "0" \
    "$(sql "$NET_DIR/ec-overijssel/node.db" "select count(*) from convo_messages")"
check_exit "nor can its expert write" 1 en ec-overijssel expert message "$R" --expert se-ec-01 --text "hallo"

# After the close nobody writes, and the participants were told
en twente request close "$R" --outcome "afgerond" >/dev/null
check "closed" wait_state "$R" closed
check "the team is told the conversation ended" net_until 10 '.members == []' en twente --json request thread "$R" --no-read
check "so is the expert" net_until 10 '.members == []' en ijsselland --json expert thread "$R-o1" --no-read
check_exit "the team cannot write after the close" 1 en twente request message "$R" --text "na afloop"
check_exit "nor the expert" 1 en ijsselland expert message "$R-o1" --text "na afloop"
check "the conversation stays readable" net_until 5 ".messages | length == $N" en twente --json request thread "$R" --no-read

# With an account the expert's key is wrapped with the password: the
# node cannot open the copies any more, the CLI opens them with it
printf 'het wachtwoord van de expert\n' > "$NET_DIR/pw-expert"
printf 'een ander wachtwoord\n' > "$NET_DIR/pw-wrong"
en ijsselland node user-add ex-ij --role expert --expert se-ij-01 --password-file "$NET_DIR/pw-expert" >/dev/null
check_eq "the node hands out only sealed copies now" "true" \
    "$("$NET_ROOT/build/tests/ctl" "$NET_DIR/ijsselland" thread \
       "{\"offer\": \"$R-o1\", \"read\": false}" | jq '.wrapped != null and (.messages[0].text == null)')"
check_eq "the expert's CLI opens them with the password" "$MARK t1: welkom, wat heeft u nodig?" \
    "$(en ijsselland --json expert thread "$R-o1" --no-read --password-file "$NET_DIR/pw-expert" | jq -r '.messages[0].text')"
check_exit "a wrong password opens nothing" 1 \
    en ijsselland expert thread "$R-o1" --no-read --password-file "$NET_DIR/pw-wrong"

# No plaintext anywhere on the way, nor at rest at the nodes
sleep 1
FILES=("$BROKER_DB" "$NET_DIR/overijssel.log")
for f in "$BROKER_DB-wal" "$NET_DIR"/*/node.db "$NET_DIR"/*/node.db-wal "$NET_DIR"/*.log; do [ -f "$f" ] && FILES+=("$f"); done
check "no store or log holds the text (${#FILES[@]} files)" lacks -a "$MARK" "${FILES[@]}"
check "the broker kept metadata only (no sealed text in its store)" \
    test "$(sql "$BROKER_DB" "select count(*) from pragma_table_info('convo_messages') where name like '%seal%'")" = 0
test_done
