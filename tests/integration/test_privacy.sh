#!/usr/bin/env bash
# Privacy by construction (issue 3), through real processes:
# pseudonyms stable inside a region and unlinkable across regions;
# identifying data encrypted at rest and never sent; the PII guard
# refusing with the field and the kind and sending nothing; the sealed
# dossier readable by the accepting expert only and absent in clear from
# the broker's files; the access log verified, tampering detected.
. "$(dirname "$0")/lib.sh"
test_init
test_network twente ijsselland
en ijsselland expert add --id se-ij-01 --role superexpert --expertise trauma --capacity 2 >/dev/null
en ijsselland expert add --id se-ij-02 --role superexpert --expertise autisme --capacity 2 >/dev/null
net_until 10 'length == 2' enb --json broker experts || not_ok "experts published"
# Each expert's account: their password opens their dossier key (test_accounts.sh)
printf 'wachtwoord-se-ij-01\n' > "$NET_DIR/pw-se-ij-01"
printf 'wachtwoord-se-ij-02\n' > "$NET_DIR/pw-se-ij-02"
en ijsselland node user-add ex-ij-01 --role expert --expert se-ij-01 --password-file "$NET_DIR/pw-se-ij-01" >/dev/null
en ijsselland node user-add ex-ij-02 --role expert --expert se-ij-02 --password-file "$NET_DIR/pw-se-ij-02" >/dev/null

# --- pseudonyms ---------------------------------------------------------
# Synthetic client (BSN 111222333 passes the 11-proef; not a real person)
P1=$(en twente --json case add --client-id 111222333 --name "Noor Testkind" --bsn 111222333 \
     --birth-date 2013-05-17 --address "Proefstraat 12" --school "Basisschool Het Testveld" \
     --relatives "Hanneke Testmoeder, Riet Testoma" | jq -r .case)
P2=$(en twente --json case add --client-id " 111.222.333 " --name "Noor Testkind" | jq -r .case)
P3=$(en ijsselland --json case add --client-id 111222333 --name "Noor Testkind" | jq -r .case)
check "a case gets a versioned pseudonym" grep -qE '^p1-[0-9a-f]{32}$' <<< "$P1"
check_eq "same client, same region: same pseudonym (normalized id)" "$P1" "$P2"
check "same client, other region: another pseudonym (unlinkable)" test "$P1" != "$P3"
check "region secret is private (0600)" test "$(stat -c %a "$NET_DIR"/twente/keys/region-secret.1)" = 600
check "identifying data is not stored in clear" bash -c "! grep -aq 'Testkind\|Proefstraat\|Testveld\|111222333\|Testmoeder' '$NET_DIR'/twente/node.db*"
check_eq "the register shows it to the node's user" "Noor Testkind" "$(en twente --json case show "$P1" | jq -r .name)"
check_eq "relatives are registered with the client (and kept when details are added)" "Hanneke Testmoeder,Riet Testoma" \
    "$(en twente --json case show "$P1" | jq -r '.relatives | join(",")')"

# --- PII guard ----------------------------------------------------------
submit () { en twente request submit --case "$P1" --urgency hoog --type consultatie-advies --expertise trauma --age-band 12-17 "$@"; }
check_exit "a question with the client's name is refused (1)" 1 submit --question "Noor heeft veel meegemaakt"
check "the error names the field and the kind" grep -q "request.question.*name" "$NET_DIR/stderr"
check "the error does not repeat the data" lacks Noor "$NET_DIR/stderr"
check_exit "a registered relative's name is refused (1)" 1 submit --question "Gesprek met Hanneke Testmoeder gepland"
check "the error names a name" grep -q "request.question.*a name" "$NET_DIR/stderr"
check_exit "a relative's first name alone too (1)" 1 submit --question "Riet belt dagelijks"
check_exit "a BSN in the question is refused (1)" 1 submit --question "bsn 111 222 333 bekend bij GI"
check "the error says BSN" grep -qi "bsn" "$NET_DIR/stderr"
check_exit "a date of birth is refused (1)" 1 submit --question "geboren 17-05-2013"
check_exit "a phone number is refused (1)" 1 submit --question "moeder bereikbaar op 06-12345678"
check_exit "a postcode is refused (1)" 1 submit --question "woont in 7511 AB"
check_eq "nothing was queued or sent" "0" "$(en twente --json request list | jq length)"
check_eq "nothing reached the broker" "0" "$(enb --json broker requests | jq length)"
check "refusals are counted for the operator" net_until 2 '.pii_guard.refused >= 6 and .pii_guard.checks > .pii_guard.refused' en twente --json node status
check "ordinary youth-care text passes" submit --question "Jongere van 12 jaar, OTS sinds 2021, 3-milieu voorziening; overleg op 14-03"
check "the log never holds the refused text" lacks 'Noor\|111 222 333\|06-12345678' "$NET_DIR"/*.log

# --- sealed dossier -----------------------------------------------------
printf 'Dossier %s: casus met traumaproblematiek; marker DOSSIER-4c1d\n' "$P1" > "$NET_DIR/dossier.txt"
printf 'Dossier: contact via noor@example.org\n' > "$NET_DIR/dossier-pii.txt"
check_exit "a dossier with an e-mail address is refused (1)" 1 submit --dossier-file "$NET_DIR/dossier-pii.txt"
R=$(submit --json --dossier-file "$NET_DIR/dossier.txt" | jq -r .id)
check "request with dossier offered" wait_state "$R" offered
en ijsselland expert accept "$R-o1" >/dev/null
check "the dossier is released after the accept" net_until 10 '[.events[].type] | index("dossier") != null' broker_request "$R"
check "the expert's node receives it" net_until 10 '. == true' bash -c \
    "'$NET_BIN/expertnet' --node '$NET_DIR/ijsselland' expert dossier '$R-o1' --expert se-ij-01 --password-file '$NET_DIR/pw-se-ij-01' >/dev/null 2>&1 && echo true"
check "the accepting expert can read it" bash -c \
    "'$NET_BIN/expertnet' --node '$NET_DIR/ijsselland' expert dossier '$R-o1' --expert se-ij-01 --password-file '$NET_DIR/pw-se-ij-01' | grep -q DOSSIER-4c1d"
# The broker checks operators' text itself (issue 10, item 5)
check_exit "an operator's reason with a BSN is refused at the broker (1)" 1 enb broker close "$R" --reason "op verzoek, bsn 111222333"
check "the refusal names the field and the kind" grep -q "field 'reason' contains a BSN" "$NET_DIR/stderr"
check_eq "the broker counts its own refusals" "true" \
    "$(enb --json broker status | jq '.pii_guard.refused >= 1 and .pii_guard.kinds.bsn >= 1')"
check_eq "and the request is not closed" "accepted" "$(broker_request "$R" | jq -r .state)"
check_exit "a different expert cannot read it (1)" 1 en ijsselland expert dossier "$R-o1" --expert se-ij-02 --password-file "$NET_DIR/pw-se-ij-02"
check "the broker's files hold no plaintext of it" bash -c "! grep -aq 'DOSSIER-4c1d' '$NET_DIR'/overijssel/broker.db*"
check "the broker's files hold no identifying data" bash -c "! grep -aq 'Testkind\|111222333\|Proefstraat' '$NET_DIR'/overijssel/broker.db*"
check "the broker holds the pseudonym, not the client id" bash -c "grep -aq '$P1' '$NET_DIR'/overijssel/broker.db*"

# --- the team's reply to an advice, sealed like the dossier ------------
check_exit "no reply before the expert has advised or accepted something else (unknown request: 4)" 4 \
    en twente request reply twente-00000000 --text "dank"
en ijsselland expert advise "$R-o1" --text "Advies: start met traumabehandeling" >/dev/null
check "the advice reaches the team" net_until 10 '.state == "advice"' en twente --json request show "$R"
check "the team replies" en twente request reply "$R" --text "Dank; vraag over dosering REPLY-7e2a"
check "the reply is on the team's timeline" \
    net_until 5 '[.events[] | select(.event == "reply")] | length == 1' en twente --json request show "$R"
check "the broker relays it" net_until 10 '[.events[].type] | index("reply") != null' broker_request "$R"
check "the expert opens it with the password" net_until 10 '. == true' bash -c \
    "'$NET_BIN/expertnet' --node '$NET_DIR/ijsselland' expert dossier '$R-o1' --expert se-ij-01 --password-file '$NET_DIR/pw-se-ij-01' 2>/dev/null | grep -q REPLY-7e2a && echo true"
check_exit "a different expert cannot read it (1)" 1 en ijsselland expert dossier "$R-o1" --expert se-ij-02 --password-file "$NET_DIR/pw-se-ij-02"
check "the broker's files hold no plaintext of the reply" bash -c "! grep -aq 'REPLY-7e2a' '$NET_DIR'/overijssel/broker.db*"
check "the expert's node holds no plaintext of it" bash -c "! grep -aq 'REPLY-7e2a' '$NET_DIR'/ijsselland/node.db*"
check_exit "an empty reply is refused (2)" 2 en twente request reply "$R"

# --- rotation -----------------------------------------------------------
ROTATED=$(en twente --json node rotate --data-key)
check "rotating the data key re-seals everything (case register, dossier)" \
    jq -e '.data_key_version == 2 and .resealed >= 2' <<< "$ROTATED"
check_eq "the register still opens after the data key rotation" "Noor Testkind" "$(en twente --json case show "$P1" | jq -r .name)"
check "the old data key could now be retired: nothing sealed with v1 is left" \
    bash -c "! sqlite3 '$NET_DIR/twente/node.db' 'select sealed from cases' | grep -q '^v1:'"
check_eq "rotating the region secret" "2" "$(en twente --json node rotate --secret | jq .secret_version)"
P4=$(en twente --json case add --client-id 111222333 | jq -r .case)
check "the same client now gets a p2 pseudonym" grep -qE '^p2-[0-9a-f]{32}$' <<< "$P4"
check_eq "and keeps its registered details (moved, not duplicated)" "Noor Testkind" "$(en twente --json case show "$P4" | jq -r .name)"
check_eq "one case in the register" "1" "$(en twente --json case list | jq length)"

# --- access log ---------------------------------------------------------
check "the node's log is intact" en twente audit verify
check "the broker's log is intact" enb audit verify --broker
check "audit show --case lists the case's creation, submission and release at the origin" \
    bash -c "'$NET_BIN/expertnet' --node '$NET_DIR/twente' --json audit show --case '$P1' | jq -e '[.[].event] | index(\"case.create\") != null and index(\"case.read\") != null and index(\"request.submit\") != null' >/dev/null"
check "the move to the new pseudonym is in the access log" \
    bash -c "'$NET_BIN/expertnet' --node '$NET_DIR/twente' --json audit show --case '$P4' | jq -e '[.[].event] | index(\"case.re-pseudonymize\") != null' >/dev/null"
check "the expert's node logged the dossier reads: allowed ones and the two refused ones" \
    bash -c "'$NET_BIN/expertnet' --node '$NET_DIR/ijsselland' --json audit show --case '$R' | jq -e '[.[] | select(.event == \"dossier.read\") | .outcome] | (index(\"ok\") != null) and (map(select(. == \"refused\")) | length == 2)' >/dev/null"
check "the broker logged who accepted the request" \
    bash -c "'$NET_BIN/expertnet' --broker '$NET_DIR/overijssel' --json audit show --broker --case '$R' | jq -e '.[] | select(.event == \"request.accepted\" and .actor == \"ijsselland\" and .on_behalf == \"se-ij-01\")' >/dev/null"
# Tamper with a stopped node's log: edit one entry (past the guard triggers)
net_kill twente TERM
DB=$NET_DIR/twente/node.db
SEQ=$(sqlite3 "$DB" "select seq from audit where event = 'case.read' limit 1")
sqlite3 "$DB" "drop trigger if exists audit_no_update; pragma writable_schema = 0;" 2>/dev/null
for t in $(sqlite3 "$DB" "select name from sqlite_master where type = 'trigger' and tbl_name like 'audit%'"); do
    sqlite3 "$DB" "drop trigger $t"
done
sqlite3 "$DB" "update audit set actor = 'iemand-anders' where seq = $SEQ"
net_node twente
net_wait_connected twente || not_ok "node restarts"
check_exit "an edited entry breaks verification (1)" 1 en twente audit verify
check "and the report says where" bash -c "'$NET_BIN/expertnet' --node '$NET_DIR/twente' audit verify | grep -q 'entry $SEQ'"
# The restarted node loaded the relatives' names from its register
check_exit "after a restart a relative's name is still refused (1)" 1 en twente request submit --urgency hoog \
    --type consultatie-advies --expertise trauma --age-band 12-17 --question "Riet Testoma belt dagelijks"
check "... as a name" grep -q "request.question.*a name" "$NET_DIR/stderr"
test_done
