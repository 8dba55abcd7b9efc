#!/usr/bin/env bash
# The expertnet command's contract: --help everywhere, documented exit
# codes, clear errors naming the field, --json that parses, and bad
# input that stores nothing.
. "$(dirname "$0")/lib.sh"
test_init
X=$NET_BIN/expertnet

check_exit "expertnet --help" 0 "$X" --help
for cmd in "request submit" "request list" "request show" "request close" "expert add" "expert update" \
           "expert list" "expert listen" "expert inbox" "expert accept" "expert decline" "expert advise" \
           "node status" "broker status" "broker hiaten" "keygen" "enroll" "revoke"; do
    check_exit "expertnet $cmd --help" 0 "$X" $cmd --help
done
check_exit "expertnet-broker --help" 0 "$NET_BIN/expertnet-broker" --help
check_exit "expertnet-node --help" 0 "$NET_BIN/expertnet-node" --help
check_exit "--set without PATH=VALUE: usage error (2)" 2 "$NET_BIN/expertnet-broker" --set nonsense
# A bad federation setting stops the broker before it listens, with the key named
"$X" keygen --name overijssel --dir "$NET_DIR/badfed/keys" >/dev/null
for bad in "federation/max_hops=0:max_hops" "federation/forward=maybe:federation/forward" \
           "federation/peers/overijssel/endpoint=tcp://127.0.0.1:1:not a valid peer name" \
           "federation/peers/gelderland/endpoint=udp://x:endpoint must be tcp" \
           "federation/peers/gelderland/public_key=abc:public_key must be"; do
    setting=${bad%:*}
    want=${bad##*:}
    out=$("$NET_BIN/expertnet-broker" -c "$NET_ROOT/config/overijssel.cfg" --datadir "$NET_DIR/badfed" \
          --endpoint "tcp://127.0.0.1:$NET_PORT" --set web/address=off --set "$setting" 2>&1)
    check_eq "broker refuses --set $setting (exit 1)" 1 "$?"
    check "... and says: $want" grep -q -- "$want" <<< "$out"
done
check_exit "no command: usage error (2)" 2 "$X"
check_exit "unknown command: usage error (2)" 2 "$X" frobnicate
check_exit "unknown sub-command: usage error (2)" 2 "$X" broker frobnicate
check "... listing the group's commands" grep -q "expertnet broker status" "$NET_DIR/stderr"
check_exit "broker --help lists its commands (0)" 0 "$X" broker --help
check "... all of them, the operator verbs too" bash -c "'$X' broker --help | grep -q 'broker token-remove ID'"
check_exit "a group without a command: usage error (2)" 2 "$X" node
# The overview names every command of the table (no command missing from --help)
# (read once: grep -q ends the pipe early, and a help text over one stdio
# buffer then dies of SIGPIPE mid-write, which pipefail counts as a miss)
missing=""
overview=$("$X" --help)
for group in request expert node case audit broker; do
    for verb in $("$X" $group --help | awk 'NR > 1 { print $3 }'); do
        grep -qE "(^|[ |])$verb([ |]|\$)" <<< "$overview" || missing="$missing $group/$verb"
    done
done
check_eq "expertnet --help names every command" "" "$missing"
check_exit "unknown option: usage error (2)" 2 "$X" request list --frob
check_exit "missing id: usage error (2)" 2 "$X" request show
check_exit "node not running: unreachable (3)" 3 "$X" --node "$NET_DIR/nowhere" node status
check_exit "broker not running: unreachable (3)" 3 "$X" --broker "$NET_DIR/nowhere" broker status
check_exit "daemon with a missing config file fails (1)" 1 "$NET_BIN/expertnet-broker" -c "$NET_DIR/none.cfg"
printf 'broker\n  name = "unterminated\n' > "$NET_DIR/bad.cfg"
check_exit "daemon with invalid ZPL fails (1)" 1 "$NET_BIN/expertnet-broker" -c "$NET_DIR/bad.cfg"
check_exit "broker without keys fails with a clear error (1)" 1 "$NET_BIN/expertnet-broker" --datadir "$NET_DIR/nokeys" --endpoint "tcp://127.0.0.1:$NET_PORT"
check "the error says how to create keys" grep -q "expertnet keygen" "$NET_DIR/stderr"

net_keys twente
check_exit "keygen refuses to overwrite a key pair (1)" 1 "$X" keygen --name twente --dir "$NET_DIR/twente/keys"
check_exit "keygen refuses a bad name (1)" 1 "$X" keygen --name "Twente Regio" --dir "$NET_DIR/x"
check "secret key file is private (0600)" test "$(stat -c %a "$NET_DIR/twente/keys/twente.cert_secret")" = 600
net_broker
net_node twente
net_wait_connected twente || not_ok "node connects"

check_exit "invalid urgency refused (1)" 1 en twente request submit --urgency spoed --type consultatie-advies --expertise trauma --age-band 12-17
check "the error names the field" grep -q "urgency" "$NET_DIR/stderr"
check_exit "missing expertise refused (1)" 1 en twente request submit --urgency hoog --type consultatie-advies --age-band 12-17
check "the error names expertise" grep -q "expertise" "$NET_DIR/stderr"
echo '{"urgency":"hoog","question_type":"procesregie","expertise":["lvb"],"age_band":"4-11","naam":"X"}' > "$NET_DIR/pii.json"
check_exit "a field outside the summary (naam) is refused (1)" 1 en twente request submit --file "$NET_DIR/pii.json"
check "the error names the unknown field" grep -q "naam" "$NET_DIR/stderr"
echo '{"urgency": "hoog",' > "$NET_DIR/broken.json"
check_exit "malformed JSON file: usage error (2)" 2 en twente request submit --file "$NET_DIR/broken.json"
check "the error gives the line" grep -q "line" "$NET_DIR/stderr"
check_exit "missing file: usage error (2)" 2 en twente request submit --file "$NET_DIR/absent.json"
check "... saying it cannot read the file and why" grep -q "cannot read .*absent.json: No such file or directory" "$NET_DIR/stderr"
check_exit "several wrong fields refused (1)" 1 en twente request submit --urgency spoed --type consultatie-advies \
    --expertise trauma --age-band 12-18 --kader ots
check "the error names every wrong field, not only the first" \
    bash -c "grep -q urgency '$NET_DIR/stderr' && grep -q age_band '$NET_DIR/stderr' && grep -q kader '$NET_DIR/stderr'"
check_exit "request list --state bogus: usage error (2)" 2 en twente request list --state bogus
check "... naming the state and the valid ones" \
    bash -c "grep -q \"'bogus'\" '$NET_DIR/stderr' && grep -q 'queued' '$NET_DIR/stderr' && grep -q 'hiaat' '$NET_DIR/stderr'"
check_exit "broker requests --state bogus: usage error (2)" 2 enb broker requests --state bogus
check_exit "request list --state hiaat is fine (0)" 0 en twente request list --state hiaat
check_eq "nothing was stored by the refused submits" "0" "$(en twente --json request list | jq length)"
check_eq "nothing reached the broker" "0" "$(enb --json broker requests | jq length)"

check_exit "unknown request: not found (4)" 4 en twente request show twente-doesnotexist
check_exit "unknown offer: not found (4)" 4 en twente expert accept twente-doesnotexist-o1
check_exit "decline without reason: usage error (2)" 2 en twente expert decline twente-x-o1
check_exit "expert with bad role refused (1)" 1 en twente expert add --id se-x --role koning
check "the error names the role" grep -q "role" "$NET_DIR/stderr"
check_exit "expert capacity over 50 refused (1)" 1 en twente expert add --id se-x --role superexpert --capacity 99
check_exit "expert capacity not a number: usage (2)" 2 en twente expert add --id se-x --role superexpert --capacity veel
check_exit "update of an unknown expert: not found (4)" 4 en twente expert update se-nobody --capacity 1
check_eq "no expert was stored" "0" "$(en twente --json expert list | jq length)"

en twente expert add --id se-tw-01 --role superexpert --expertise trauma --capacity 1 >/dev/null
started=$(date +%s%N)
R=$(en twente --json request submit --urgency hoog --type consultatie-advies --expertise trauma --age-band 12-17 | jq -r .id)
took=$(( ($(date +%s%N) - started) / 1000000 ))
check "--json output of submit carries the id" test -n "$R"
check "submit hears the broker's answer on notify.sock, not after its 5 s wait (${took} ms)" test "$took" -lt 4000
check "... and says the broker has it" net_until 1 '.state != "queued"' en twente --json request show "$R"
check "broker show says where the request came from, not a bare 'through'" \
    bash -c "'$X' --broker '$NET_DIR/overijssel' broker show '$R' | grep -q 'from node twente, submitted at this broker'"
check "... and no line ends in 'through'" bash -c "! '$X' --broker '$NET_DIR/overijssel' broker show '$R' | grep -q 'through\$'"
check_exit "expert dossier needs no --expert: the offer names the expert (unknown offer: 4, not a usage error)" 4 \
    en twente expert dossier "$R-o9" --password-file /dev/null
for cmd in "node status" "request list" "request show $R" "expert list" "expert inbox"; do
    check "en --json $cmd parses" bash -c "'$X' --node '$NET_DIR/twente' --json $cmd | jq -e . >/dev/null"
done
for cmd in "broker status" "broker requests" "broker show $R" "broker hiaten" "broker experts" "broker offers"; do
    check "--json $cmd parses" bash -c "'$X' --broker '$NET_DIR/overijssel' --json $cmd | jq -e . >/dev/null"
done
wait_state "$R" offered
# The verdict comes on the node's offer: topic: with --wait 600 the answer
# returns as soon as the broker acknowledged it (were it not published,
# the command would sit out its --wait and the timeout would fail this)
check "accept returns on the broker's verdict, not after --wait" \
    timeout 120 bash -c "'$X' --node '$NET_DIR/twente' expert accept '$R-o1' --wait 600 | grep -q 'confirmed by the broker'"
check_exit "accepting twice is refused (1)" 1 en twente expert accept "$R-o1"
check_exit "advice without text: usage error (2)" 2 en twente expert advise "$R-o1"
check_exit "advice from a missing file: usage error (2)" 2 en twente expert advise "$R-o1" --file "$NET_DIR/none.txt"
en twente request close "$R" >/dev/null
check "close reaches the broker" wait_state "$R" closed
check "the node learns it is closed" net_until 5 '.state == "closed"' en twente --json request show "$R"
check_exit "closing twice is refused (1)" 1 en twente request close "$R"
# Dashboard operators and operator actions from the command line
printf 'een-lang-wachtwoord-42\n' > "$NET_DIR/pw"
check "broker operator-add with a password file" enb broker operator-add anna --password-file "$NET_DIR/pw"
check_eq "operators lists her (no hash shown)" "anna" "$(enb --json broker operators | jq -r '.[0].name')"
check "the password hash is not in the listing" bash -c "! '$X' --broker '$NET_DIR/overijssel' --json broker operators | grep -q argon"
check "operators without --json: a table, not JSON" \
    bash -c "'$X' --broker '$NET_DIR/overijssel' broker operators | grep -qE '^anna +[0-9]' && ! '$X' --broker '$NET_DIR/overijssel' broker operators | grep -q '[{}]'"
check "token-add prints the token once" bash -c "'$X' --broker '$NET_DIR/overijssel' broker token-add anna | grep -qE '^[0-9a-f]{64}$'"
check_eq "tokens --json lists it" "anna" "$(enb --json broker tokens | jq -r '.[0].operator')"
check "tokens without --json: a table, not JSON" \
    bash -c "'$X' --broker '$NET_DIR/overijssel' broker tokens | grep -qE '^[^ ]+ +anna +[0-9]' && ! '$X' --broker '$NET_DIR/overijssel' broker tokens | grep -q '[{}]'"
check_exit "operator action without --reason: usage (2)" 2 enb broker reoffer "$R"
check_exit "operator action on an unknown request: not found (4)" 4 enb broker close twente-nope --reason test
check "no daemon crashed" kill -0 "$(net_pid broker)" "$(net_pid twente)"
test_done
