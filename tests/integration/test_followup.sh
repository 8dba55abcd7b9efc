#!/usr/bin/env bash
# Follow-up (issue 13 item 3, docs/protocol.md "REVIEW", "REMIND"): the
# team of twente sets a review date ("terug op ET") on a request an
# expert of ijsselland accepted; it is in state monitoring; the CLI
# refuses bad dates; the broker and the expert's node are killed (-9)
# before the date and restarted after it: the team's staff and the expert
# each get one e-mail (no case data), through a real SMTP server; the
# dashboard's JSON lists the request as overdue; another kill -9 of the
# broker does not remind again; closing with an outcome ends it all.
. "$(dirname "$0")/lib.sh"
for tool in curl jq sqlite3; do
    command -v $tool >/dev/null || { not_ok "$tool is installed (deploy/deps.sh)"; test_done; }
done
CTL=$NET_ROOT/build/tests/ctl
[ -x "$CTL" ] || { not_ok "build/tests/ctl is built (make unit-bins)"; test_done; }
test_init

SMTP_PORT=$(free_port)
WEB_PORT=$(free_port)
MAILDIR=$NET_DIR/maildir
STAFF=et-twente@twente.example
EXPERT_MAIL=se-ij-01@ijsselland.example
notify () {     # notify REGION: the node's notification settings
    echo --set "notify/smtp_url=smtp://127.0.0.1:$SMTP_PORT" --set "notify/from=expertnet@$1.example" \
         --set notify/starttls=off --set notify/retry_min=300ms --set notify/retry_max=1s \
         --set "notify/staff_email=et-$1@$1.example" --set "web/public_url=https://portal.$1.example"
}
BROKER_ARGS=(--set "web/address=127.0.0.1:$WEB_PORT" --set routing/grace=1s --set federation/forward=never)

net_smtp "$SMTP_PORT" "$MAILDIR" || { not_ok "SMTP server (aiosmtpd) starts"; test_done; }
net_keys twente ijsselland
net_broker "${BROKER_ARGS[@]}" || { not_ok "broker starts"; test_done; }
# shellcheck disable=SC2046
net_node twente $(notify twente)
# shellcheck disable=SC2046
net_node ijsselland $(notify ijsselland)
for n in twente ijsselland; do net_wait_connected $n || { not_ok "node $n connects"; test_done; }; done
ok "SMTP server, broker (with dashboard) and nodes twente and ijsselland running"

# Reminders (subject "Terug op ET") holding a link
reminders_with () { grep -lF 'Subject: Terug op ET' "$MAILDIR"/new/* 2>/dev/null | xargs -r grep -lF -- "$1" | wc -l; }
ctlb () { "$CTL" "$NET_DIR/overijssel" "$@"; }
events_of () { broker_request "$1" | jq -r "[.events[] | select(.type == \"$2\")] | length"; }

# --- A request of twente, accepted by an expert of ijsselland
en ijsselland expert add --id se-ij-01 --role superexpert --expertise trauma --capacity 3 \
    --email "$EXPERT_MAIL" >/dev/null
check "the broker learns the expert" net_until 10 'length == 1' enb --json broker experts
R=$(en twente --json request submit --urgency hoog --type consultatie-advies --expertise trauma \
    --age-band 12-17 --question "Kwx-casusvraag na drie plaatsingen" | jq -r .id)
check "request is offered" wait_state "$R" offered
en ijsselland expert accept "$R-o1" >/dev/null
check "and accepted" wait_state "$R" accepted
check "the team's node knows it is accepted" net_until 10 '.state == "accepted"' en twente --json request show "$R"

# --- The CLI refuses what is not a review date
check_exit "a date in the past is refused (exit 2)" 2 en twente request review "$R" --date 2020-01-01
check_exit "a date that does not exist is refused (exit 2)" 2 en twente request review "$R" --date 2027-02-30
check_exit "a date in another format is refused (exit 2)" 2 en twente request review "$R" --date 01-02-2027
check_exit "--in without d or w is refused (exit 2)" 2 en twente request review "$R" --in 6x
check_exit "--in more than a year is refused (exit 2)" 2 en twente request review "$R" --in 60w
check_exit "neither --date nor --in is refused (exit 2)" 2 en twente request review "$R"
check_exit "an unknown request is not found (exit 4)" 4 en twente request review twente-00000000 --in 2w
check "the refusal says why" bash -c "'$NET_BIN/expertnet' --node '$NET_DIR/twente' request review '$R' --date 2020-01-01 2>&1 | grep -q 'in the past'"
check_eq "nothing was sent: the request is still accepted" accepted "$(broker_request "$R" | jq -r .state)"

# --- A date in six weeks, through the CLI: monitoring, the date shown
en twente request review "$R" --in 6w >/dev/null
check "the request is in monitoring at the broker" wait_state "$R" monitoring
check "the node keeps the review date (STATUS monitoring)" \
    net_until 10 '.state == "monitoring" and .review_at > (now * 1000 + 41 * 86400000)' en twente --json request show "$R"
check "request show prints it, at 09:00 in the Netherlands" \
    bash -c "'$NET_BIN/expertnet' --node '$NET_DIR/twente' request show '$R' | grep -qE 'terug op ET +20[0-9-]+ 09:00 \(Europe/Amsterdam\)'"
check "request list --state monitoring lists it" \
    bash -c "'$NET_BIN/expertnet' --node '$NET_DIR/twente' request list --state monitoring | grep -q '$R'"
check_eq "the expert keeps the case on their load" 1 "$(enb --json broker experts | jq '.[0].load')"

# --- A date a few seconds ahead (the control verb takes ms), then kill -9
AT=$(( $(date +%s%3N) + 6000 ))
"$CTL" "$NET_DIR/twente" review "{\"id\": \"$R\", \"review_at\": $AT}" >/dev/null
check "the broker moved the date" net_until 10 ".review_at == $AT" broker_request "$R"
check "the node has the new date" net_until 10 ".review_at == $AT" en twente --json request show "$R"
net_kill broker KILL
net_kill ijsselland KILL
ok "broker and the expert's node killed (-9) before the date"
while [ "$(date +%s%3N)" -le $(( AT + 1000 )) ]; do sleep 0.2; done
check_eq "no reminder went before the kill" 0 "$(mails_with 'Subject: Terug op ET')"
net_broker "${BROKER_ARGS[@]}" || { not_ok "broker restarts"; test_done; }
# shellcheck disable=SC2046
net_node ijsselland $(notify ijsselland)
net_wait_connected ijsselland || not_ok "the expert's node reconnects"

LINK_TEAM="https://portal.twente.example/verzoeken/$R"
LINK_EXPERT="https://portal.ijsselland.example/aanbod/$R-o1"
check "the team's staff get the terug-op-ET e-mail" net_until 20 '. >= 1' reminders_with "$LINK_TEAM"
check "the expert gets the reminder e-mail" net_until 20 '. >= 1' reminders_with "$LINK_EXPERT"
MT=$(grep -lF 'Subject: Terug op ET' "$MAILDIR"/new/* | xargs grep -lF -- "$LINK_TEAM" | head -1)
ME=$(grep -lF 'Subject: Terug op ET' "$MAILDIR"/new/* | xargs grep -lF -- "$LINK_EXPERT" | head -1)
check "the team's mail goes to the staff address" grep -q "^To: <$STAFF>" "$MT"
check "with a Dutch subject" grep -q "^Subject: Terug op ET: een consultatieverzoek komt terug" "$MT"
check "and the date" grep -qE "^Terug op ET: +[a-z]+dag [0-9]+ [a-z]+ 20[0-9]{2} om [0-9]{2}:[0-9]{2}" "$MT"
check "the expert's mail goes to the expert" grep -q "^To: <$EXPERT_MAIL>" "$ME"
check "with its own subject" grep -q "^Subject: Terug op ET: een verzoek waaraan u meewerkt" "$ME"
check_eq "no case data in either mail" 0 "$(grep -ciE 'kwx-casusvraag|trauma|12-17' "$MT" "$ME" | awk -F: '{ s += $2 } END { print s }')"

# --- Exactly once: another kill -9 of the broker changes nothing
net_kill broker KILL
net_broker "${BROKER_ARGS[@]}" || { not_ok "broker restarts again"; test_done; }
net_wait_connected twente || not_ok "the team's node reconnects"
sleep 3
check_eq "the team's reminder arrived once" 1 "$(reminders_with "$LINK_TEAM")"
check_eq "the expert's reminder arrived once" 1 "$(reminders_with "$LINK_EXPERT")"
check_eq "two reminders in all (nothing doubled)" 2 "$(grep -lF 'Subject: Terug op ET' "$MAILDIR"/new/* | wc -l)"
check_eq "one review-due event at the broker" 1 "$(events_of "$R" review-due)"
check_eq "one reminded event at the broker" 1 "$(events_of "$R" reminded)"
check "the team's node has the review-due event" \
    net_until 5 '[.events[] | select(.event == "review-due")] | length == 1' en twente --json request show "$R"
check_eq "the request is still in monitoring" monitoring "$(broker_request "$R" | jq -r .state)"

# --- The dashboard lists it as overdue (the control verb and the JSON API)
check "overview lists it in reviews_overdue" \
    net_until 5 ".reviews_overdue | map(select(.id == \"$R\" and .region == \"twente\" and .urgency == \"hoog\" and .days_overdue == 0)) | length == 1" ctlb overview
check_eq "without case data" "null null" "$(ctlb overview | jq -r ".reviews_overdue[] | select(.id == \"$R\") | \"\(.summary) \(.question)\"")"
TOKEN=$(ctlb operator-add '{"name": "anna", "password": "een-lang-wachtwoord"}' >/dev/null; ctlb token-add '{"operator": "anna"}' | jq -r .token)
check "/api/overview lists it" bash -c "curl -sf -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$WEB_PORT/api/overview | jq -e '.reviews_overdue[0].id == \"$R\"' >/dev/null"
check "the overview page shows the panel" bash -c "curl -sf -H 'Authorization: Bearer $TOKEN' http://127.0.0.1:$WEB_PORT/ | grep -q 'Terug op ET: verlopen'"
check "the dashboard's request page shows the review date" bash -c "curl -sf -H 'Authorization: Bearer $TOKEN' 'http://127.0.0.1:$WEB_PORT/verzoek/$R' | grep -q '<dt>Terug op ET</dt>'"
check "the dashboard's Monitoren filter lists it" bash -c "curl -sf -H 'Authorization: Bearer $TOKEN' 'http://127.0.0.1:$WEB_PORT/verzoeken?status=monitoring' | grep -q '$R'"
check "/api/requests?state=monitoring lists it" bash -c "curl -sf -H 'Authorization: Bearer $TOKEN' 'http://127.0.0.1:$WEB_PORT/api/requests?state=monitoring' | jq -e 'length == 1 and .[0].id == \"$R\"' >/dev/null"

# --- Closed with an outcome: out of monitoring, off the list, no new date
en twente request close "$R" --outcome "passende hulp gerealiseerd" >/dev/null
check "closed" wait_state "$R" closed
check "no longer overdue" net_until 5 ".reviews_overdue | map(select(.id == \"$R\")) | length == 0" ctlb overview
check_eq "the expert's place is free again" 0 "$(enb --json broker experts | jq '.[0].load')"
check "the node knows it is closed" net_until 10 '.state == "closed"' en twente --json request show "$R"
check_exit "a review date for a closed request is refused (exit 1)" 1 en twente request review "$R" --in 2w

# --- Moreel beraad as a meeting (issue 13 item 4): times proposed, answered, fixed, held
R2=$(en twente --json request submit --urgency regulier --type moreel-beraad --expertise trauma \
     --age-band 12-17 --question "Kwx-dilemma over gesloten plaatsing" | jq -r .id)
check "the moreel-beraad request is offered" wait_state "$R2" offered
en ijsselland expert accept "$R2-o1" >/dev/null
check "and accepted: se-ij-01 takes part" wait_state "$R2" accepted
check "the team's node knows" net_until 10 '.state == "accepted"' en twente --json request show "$R2"
T1=$(TZ=Europe/Amsterdam date -d '+2 days' '+%Y-%m-%d 14:00')
T2=$(TZ=Europe/Amsterdam date -d '+3 days' '+%Y-%m-%d 10:30')
check_exit "a time that is not one is refused (exit 2)" 2 en twente request beraad "$R2" --propose "morgen 14:00"
check_exit "a beraad for a request that is no moreel-beraad is refused (exit 1)" 1 \
    en twente request beraad "$R" --propose "$T1"
en twente request beraad "$R2" --propose "$T1,$T2" >/dev/null
LINK_BERAAD="https://portal.ijsselland.example/aanbod/$R2-o1"
beraad_mails () { grep -lF "Subject: $1" "$MAILDIR"/new/* 2>/dev/null | xargs -r grep -lF -- "$LINK_BERAAD" | wc -l; }
check "the participant is asked by e-mail" net_until 20 '. == 1' beraad_mails "Moreel beraad: kies de tijden"
check "the expert's node shows both times" \
    bash -c "'$NET_BIN/expertnet' --node '$NET_DIR/ijsselland' expert beraad '$R2-o1' | grep -c '^proposed' | grep -qx 2"
check_exit "the expert answers which time suits" 0 en ijsselland expert beraad "$R2-o1" --available "$T2"
check "the team's staff are told a participant answered" \
    net_until 20 '. == 1' bash -c "grep -lF 'Subject: Moreel beraad: een deelnemer heeft geantwoord' '$MAILDIR'/new/* 2>/dev/null | xargs -r grep -lF 'https://portal.twente.example/verzoeken/$R2' | wc -l"
check "the team sees the answer, with the expert" \
    net_until 10 '[.events[] | select(.event == "beraad-answer" and .expert == "se-ij-01")] | length == 1' \
    en twente --json request show "$R2"
T3=$(TZ=Europe/Amsterdam date -d '+4 days' '+%Y-%m-%d 09:00')
en twente request beraad "$R2" --fix "$T3" >/dev/null
check "a time that was not proposed, refused by the broker, is an event the team sees" \
    net_until 10 '[.events[] | select(.event == "refused" and (.detail | contains("one of the proposed times")))] | length == 1' \
    en twente --json request show "$R2"
en twente request beraad "$R2" --fix "$T2" >/dev/null
check "the participant hears the fixed time" net_until 20 '. == 1' beraad_mails "Moreel beraad: de tijd staat vast"
check "and sees it at the node" \
    bash -c "'$NET_BIN/expertnet' --node '$NET_DIR/ijsselland' expert beraad '$R2-o1' | grep -q '^fixed *$T2'"
en twente request beraad "$R2" --held now --outcome "Kwx-uitkomst: besloten tot vervolgberaad" >/dev/null
check "the broker records that it was held" net_until 10 '[.events[] | select(.type == "beraad-held")] | length == 1' \
    broker_request "$R2"
check_eq "the events, in order" "beraad-proposed beraad-answer beraad-fixed beraad-held" \
    "$(broker_request "$R2" | jq -r '[.events[] | select(.type | startswith("beraad")) | .type] | join(" ")')"
check_eq "the outcome note is nowhere at the broker" 0 \
    "$(sqlite3 -readonly "$NET_DIR/overijssel/broker.db" .dump | grep -c 'Kwx-uitkomst')"
check_eq "the team's node keeps the note" 1 \
    "$(sqlite3 -readonly "$NET_DIR/twente/node.db" "SELECT count(*) FROM requests WHERE id = '$R2' AND beraad_outcome IS NOT NULL")"
check_eq "nor in clear at the team's node (sealed)" 0 \
    "$(sqlite3 -readonly "$NET_DIR/twente/node.db" .dump 2>/dev/null | grep -c 'Kwx-uitkomst')"
check_eq "no case data in the beraad mails" 0 \
    "$(grep -lF 'Subject: Moreel beraad' "$MAILDIR"/new/* | xargs grep -ciE 'kwx-dilemma|trauma|12-17' | awk -F: '{ s += $NF } END { print s + 0 }')"
check_eq "the request did not move" accepted "$(broker_request "$R2" | jq -r .state)"
test_done
