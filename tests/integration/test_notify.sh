#!/usr/bin/env bash
# Notifications that reach people, through a real SMTP server on loopback
# (Debian's python3-aiosmtpd, each accepted mail a file in a Maildir):
# the expert's contact stays at the node (the broker never sees it); an
# offer's e-mail arrives once, with the portal link and without case
# data; staff hear of advice and of a hiaat; a crisis offer is reminded
# at half its time (and queued for a text message). Then the SMTP server
# goes down, offers keep coming, the node is killed and restarted while
# it is down, the server returns: every notification arrives exactly once;
# and after a SIGHUP the node goes on sending.
. "$(dirname "$0")/lib.sh"
test_init

SMTP_PORT=$(free_port)
MAILDIR=$NET_DIR/maildir
SMS_PORT=$(free_port)
SMS_LOG=$NET_DIR/sms.jsonl
EMAIL=se-tw-01@twente.example
PHONE=+31600000001
STAFF=et-twente@twente.example
NOTIFY=(--set "notify/smtp_url=smtp://127.0.0.1:$SMTP_PORT" --set notify/from=expertnet@twente.example
        --set notify/starttls=off --set notify/retry_min=300ms --set notify/retry_max=1s
        --set "notify/staff_email=$STAFF" --set web/public_url=https://portal.twente.example
        --set "notify/sms_url=http://127.0.0.1:$SMS_PORT/sms" --set notify/sms_token=test-token)

net_smtp "$SMTP_PORT" "$MAILDIR" || { not_ok "SMTP server (aiosmtpd) starts"; test_done; }
# An SMS provider's API for the test: records each POST (body and
# Authorization header) as one JSON line and answers 201
/usr/bin/python3 - "$SMS_PORT" "$SMS_LOG" >> "$NET_DIR/sms.log" 2>&1 <<'PY' &
import http.server, json, sys
port, log = int(sys.argv[1]), sys.argv[2]
class Gateway(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(log, "a") as out:
            out.write(json.dumps({"path": self.path, "authorization": self.headers.get("Authorization"),
                                  "type": self.headers.get("Content-Type"), "body": json.loads(body)}) + "\n")
        self.send_response(201)
        self.end_headers()
http.server.HTTPServer(("127.0.0.1", port), Gateway).serve_forever()
PY
net_track sms $!
net_keys twente
net_broker --set web/address=off --set federation/forward=never || { not_ok "broker starts"; test_done; }
net_node twente "${NOTIFY[@]}"
net_wait_connected twente || { not_ok "node connects"; test_done; }
ok "SMTP server, broker and node twente running"

queue () { en twente --json node notifications; }

# --- Contacts stay at the node
en twente expert add --id se-tw-01 --role superexpert --expertise trauma --capacity 5 \
    --email "$EMAIL" --phone "$PHONE" >/dev/null
check "the broker learns the expert" net_until 10 'length == 1' enb --json broker experts
en twente expert update se-tw-01 --capacity 4 >/dev/null
check "an update keeps the contact at the node" \
    net_until 5 '.email == "se-tw-01@twente.example"' en twente --json expert update se-tw-01 --languages nl
check "the update is published" net_until 5 '.[0].capacity == 4' enb --json broker experts
check "the broker's view of the expert has no e-mail or phone" \
    net_until 2 '.[0] | (has("email") or has("phone")) | not' enb --json broker experts
BROKER_DUMP=$(sqlite3 -readonly "$NET_DIR/overijssel/broker.db" .dump)
check_eq "the broker's database never holds the e-mail address" 0 "$(grep -cF "$EMAIL" <<< "$BROKER_DUMP")"
check_eq "the broker's database never holds the phone number" 0 "$(grep -cF "${PHONE#+}" <<< "$BROKER_DUMP")"
check_eq "the broker's log never holds them" 0 "$(grep -cF -e "$EMAIL" -e "${PHONE#+}" "$NET_DIR/overijssel.log")"
check_eq "the node's published expert record has no contact" "false" \
    "$(en twente --json expert list | jq '.[0] | has("email") or has("phone")')"
# The control verbs the portal uses: email and phone beside the expert
CTL=$NET_ROOT/build/tests/ctl
"$CTL" "$NET_DIR/twente" expert-add \
    '{"expert": {"id": "pr-tw-02", "role": "procesregisseur", "capacity": 0}, "email": "pr-tw-02@twente.example"}' >/dev/null
check_eq "expert-contacts lists both experts' contacts (node-local verb)" \
    "pr-tw-02@twente.example se-tw-01@twente.example $PHONE" \
    "$("$CTL" "$NET_DIR/twente" expert-contacts | jq -r '[.[] | .email, .phone // empty] | join(" ")')"
check "the broker learns the second expert" net_until 10 'length == 2' enb --json broker experts
check_eq "and not its address" 0 "$(sqlite3 -readonly "$NET_DIR/overijssel/broker.db" .dump | grep -cF 'pr-tw-02@')"
check_exit "an invalid e-mail address is refused (exit 1)" 1 en twente expert update se-tw-01 --email "a b@x"
check_exit "a phone number that is not +digits is refused (exit 1)" 1 en twente expert update se-tw-01 --phone 0612

# --- An offer: one e-mail, the link, no case data
QUESTION="Welke aanpak past na drie mislukte plaatsingen kwx-vraagtekst"
R1=$(en twente --json request submit --urgency hoog --type consultatie-advies --expertise trauma \
     --age-band 12-17 --leefgebieden jeugdhulp,onderwijs --situatie pleegzorg --question "$QUESTION" | jq -r .id)
check "request is offered" wait_state "$R1" offered
LINK1="https://portal.twente.example/aanbod/$R1-o1"
check "the expert's e-mail arrives with the portal link" wait_mails "$LINK1" 1 15
sleep 1
check_eq "it arrives once" 1 "$(mails_with "$LINK1")"
M1=$(grep -lF -- "$LINK1" "$MAILDIR"/new/* | head -1)
check "addressed to the expert" grep -q "^To: <$EMAIL>" "$M1"
check "Dutch subject with kind and urgency" grep -q "^Subject: Nieuw consultatieverzoek voor u (urgentie: hoog)" "$M1"
check "the deadline in Dutch" grep -qE "^Reageer voor: +[a-z]+dag [0-9]+ [a-z]+ 20[0-9]{2} om [0-9]{2}:[0-9]{2}" "$M1"
check "a Message-ID for deduplication" grep -qE "^Message-ID: <[0-9a-f]{32}@twente\.expertnet>" "$M1"
check_eq "no question text in the mail" 0 "$(grep -cF 'kwx-vraagtekst' "$M1")"
check_eq "no expertise, age band, life domains or situation in the mail" 0 \
    "$(grep -ciE 'trauma|12-17|jeugdhulp|onderwijs|pleegzorg' "$M1")"
check_eq "no SMS for a hoog offer" 0 "$(queue | jq '[.notifications[] | select(.channel == "sms")] | length')"
check "the queue shows it verzonden with one attempt" \
    net_until 5 "[.notifications[] | select(.offer == \"$R1-o1\" and .state == \"verzonden\" and .attempts == 1)] | length == 1" queue

# --- Staff: advice arrived (to the configured list and to medewerker accounts)
printf 'een-lang-wachtwoord-01\n' > "$NET_DIR/pw-mw"
en twente node user-add mw-01 --role medewerker --email medewerker-01@twente.example \
    --password-file "$NET_DIR/pw-mw" >/dev/null
en twente expert accept "$R1-o1" >/dev/null
check "accepted" wait_state "$R1" accepted
printf 'Advies: eerst stabiliseren.\n' > "$NET_DIR/advice.txt"
en twente expert advise "$R1-o1" --file "$NET_DIR/advice.txt" >/dev/null
LINK1S="https://portal.twente.example/verzoeken/$R1"
check "staff get an advies e-mail with the request's link" wait_mails "$LINK1S" 1 15
M1S=$(grep -lF -- "$LINK1S" "$MAILDIR"/new/* | head -1)
check "to the staff address" grep -q "^To: <$STAFF>" "$M1S"
check "subject says advice arrived" grep -q "^Subject: Advies ontvangen" "$M1S"
mail_to_with () { grep -lF -- "$2" $(grep -lF -- "To: <$1>" "$MAILDIR"/new/* 2>/dev/null) /dev/null 2>/dev/null | grep -c new/; }
check "the medewerker account's address gets it too" net_until 15 '. == 1' mail_to_with medewerker-01@twente.example "$LINK1S"
check_eq "the advice text is not in the mail" 0 "$(grep -cF 'stabiliseren' "$M1S")"

# --- Crisis: reminder at half the deadline (4s in this config), SMS queued, then hiaat
R2=$(en twente --json request submit --urgency crisis --type consultatie-advies --expertise trauma \
     --age-band 12-17 | jq -r .id)
check "crisis request offered" wait_state "$R2" offered
check "a crisis offer mail arrives" wait_mails "https://portal.twente.example/aanbod/$R2-o1" 1 10
check "a reminder mail arrives before the deadline" wait_mails "Subject: Herinnering" 1 10
check_eq "one reminder, for that offer" "1" \
    "$(grep -lF 'Subject: Herinnering' "$MAILDIR"/new/* | xargs grep -lF "/aanbod/$R2-o1" | wc -l)"
check "crisis offer and reminder are queued as text messages to the expert's phone" \
    net_until 5 "[.notifications[] | select(.channel == \"sms\" and .recipient == \"$PHONE\" and .offer == \"$R2-o1\")] | length == 2" queue
check "both text messages reach the gateway" \
    net_until 10 "[.notifications[] | select(.channel == \"sms\" and .state == \"verzonden\")] | length == 2" queue
check_eq "posted as JSON {to, text} with the bearer token" "2 /sms Bearer test-token application/json $PHONE" \
    "$(jq -rs '"\(length) \(.[0].path) \(.[0].authorization) \(.[0].type) \(.[0].body.to)"' "$SMS_LOG")"
check "the text message holds kind, urgency and link" \
    grep -qE "nieuw consultatieverzoek voor u \(crisis\), reageer voor [0-9]+-[0-9]+ [0-9]{2}:[0-9]{2}\. https://portal\.twente\.example/aanbod/$R2-o1\"" "$SMS_LOG"
check_eq "and no case data" 0 "$(grep -ciE 'trauma|12-17' "$SMS_LOG")"
check "unanswered, escalated to nobody: hiaat" wait_state "$R2" hiaat 20
check "staff get a hiaat e-mail" wait_mails "Subject: Hiaat" 1 15

# --- The SMTP server goes down; offers keep coming; the node is killed and restarted
net_kill smtp
R3=$(en twente --json request submit --urgency hoog --type consultatie-advies --expertise trauma --age-band 4-11 | jq -r .id)
R4=$(en twente --json request submit --urgency regulier --type consultatie-advies --expertise trauma --age-band 4-11 | jq -r .id)
check "both offered" net_until 10 '.state == "offered"' broker_request "$R4"
check "with the relay down the offers' mails wait to be retried" \
    net_until 10 "[.notifications[] | select(.channel == \"email\" and (.offer == \"$R3-o1\" or .offer == \"$R4-o1\") and .state == \"mislukt-opnieuw\" and .attempts >= 1 and (.last_error | length) > 0)] | length == 2" queue
net_kill twente KILL
net_node twente "${NOTIFY[@]}"
net_wait_connected twente || not_ok "node reconnects after the kill"
check "after the restart the mails are still queued, not lost" \
    net_until 5 "[.notifications[] | select(.channel == \"email\" and (.offer == \"$R3-o1\" or .offer == \"$R4-o1\"))] | length == 2" queue
sleep 1
net_smtp "$SMTP_PORT" "$MAILDIR" || not_ok "SMTP server starts again"
check "every e-mail is delivered once the relay is back" \
    net_until 20 '[.notifications[] | select(.channel == "email" and .state != "verzonden")] | length == 0' queue
sleep 1
check_eq "the offers' mails arrived once each" "1 1" \
    "$(mails_with "/aanbod/$R3-o1") $(mails_with "/aanbod/$R4-o1")"
ROWS=$(queue | jq '[.notifications[] | select(.channel == "email")] | length')
check_eq "as many mails as e-mail notifications (nothing lost, nothing doubled)" "$ROWS" "$(ls "$MAILDIR"/new | wc -l)"
DUPS=$(grep -h '^Message-ID:' "$MAILDIR"/new/* | sort | uniq -d | wc -l)
check_eq "no Message-ID arrived twice" 0 "$DUPS"
check_eq "no mail holds a question or case field" 0 \
    "$(grep -liE 'kwx-vraagtekst|trauma|12-17|4-11|jeugdhulp|pleegzorg' "$MAILDIR"/new/* | wc -l)"
# SIGHUP: the sender is started anew with the re-read settings and goes on
kill -HUP "$(net_pid twente)"
check "the node reloads its configuration" bash -c "for i in \$(seq 50); do grep -q 'configuration reloaded' '$NET_DIR/twente.log' && exit 0; sleep 0.1; done; exit 1"
R5=$(en twente --json request submit --urgency hoog --type consultatie-advies --expertise trauma --age-band 4-11 | jq -r .id)
check "after a reload the next offer's mail arrives" wait_mails "/aanbod/$R5-o1" 1 15
sleep 0.5
check_eq "once" 1 "$(mails_with "/aanbod/$R5-o1")"
check "node notifications prints the queue" bash -c "'$NET_BIN/expertnet' --node '$NET_DIR/twente' node notifications | grep -q verzonden"
test_done
