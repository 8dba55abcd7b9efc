#!/usr/bin/env bash
# make demo: two provinces live on 127.0.0.1.
#
# The Overijssel broker (overijssel) with three nodes (twente, ijsselland,
# ec-overijssel), and Gelderland's broker (gelderland, BOEG) with one G7
# node (achterhoek), federated. Their experts, and five consult requests
# that together show every routing path: an accept with advice, a
# decline that moves on to the next candidate, an offer that times out
# and escalates to a bovenregionale procesregisseur, a hiaat, and a
# request no Overijssel expert can serve, routed to a Gelderland
# superexpert and answered; then a flitsteam (two experts on one crisis
# request, filled in parallel) with an advice in its sealed conversation
# and a review date (terug op ET). The experts' notification e-mail goes to a
# real SMTP server on loopback (Debian's aiosmtpd, EXPERTNET_DEMO_SMTP_PORT
# or a free port) and the crisis expert's mail is shown. The script checks
# each outcome and exits non-zero if the network did not do what it shows.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/netlib.sh

PORT=${EXPERTNET_DEMO_PORT:-7700}
GPORT=$((PORT + 10))
net_init "$PWD/run/demo" "$PORT"
# The Gelderland broker, for its own verbs
enbg () { "$NET_BIN/expertnet" --broker "$NET_DIR/gelderland" "$@"; }

bold=$(tput bold 2>/dev/null || true); off=$(tput sgr0 2>/dev/null || true)
step () { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
say () { printf '   $ expertnet %s\n' "$*"; }
fail () { echo "DEMO FAILED: $*" >&2; tail -n 20 "$NET_DIR"/*.log >&2; exit 1; }

# Wait for a request (at the broker) to reach a state.
wait_state () {
    net_until "${3:-10}" ".state == \"$2\"" enb --json broker show "$1" \
        || fail "request $1 did not reach state $2"
}
# The open offer of a request (at the broker).
open_offer () {
    enb --json broker show "$1" | jq -r '.offers_open[0].id // empty'
}

step "An SMTP server on loopback for the nodes' notification e-mail (Debian's aiosmtpd)"
SMTP_PORT=${EXPERTNET_DEMO_SMTP_PORT:-$(net_free_port)}
MAILDIR=$NET_DIR/mail
net_smtp "$SMTP_PORT" "$MAILDIR" || fail "the SMTP server did not start on 127.0.0.1:$SMTP_PORT"
echo "   smtp://127.0.0.1:$SMTP_PORT, each accepted mail a file in $MAILDIR/new"
# Each node sends through it (config section notify); staff addresses synthetic
notify () {
    echo --set "notify/smtp_url=smtp://127.0.0.1:$SMTP_PORT" --set notify/starttls=off \
         --set notify/retry_min=1s --set notify/retry_max=5s \
         --set "notify/from=expertnet@$1.example" --set "notify/staff_email=expertteam@$1.example"
}
# Each node's portal (docs/portal.md) on a free port (twente's on
# EXPERTNET_DEMO_PORTAL_PORT when set); the notification mails link there
declare -A PORTAL
portal () { echo --set "web/address=127.0.0.1:${PORTAL[$1]}"; }
# The mail (a file in the Maildir) holding a text, once it arrived
mail_with () {
    local i f
    for i in $(seq 100); do
        f=$(grep -lF -- "$1" "$MAILDIR"/new/* 2>/dev/null | head -1)
        [ -n "$f" ] && { echo "$f"; return 0; }
        sleep 0.1
    done
    return 1
}

step "Keys: a CURVE key pair per process; nodes enrolled at their broker, the brokers at each other"
net_keys twente ijsselland ec-overijssel
net_fed_keys overijssel gelderland
NET_BROKER=gelderland net_keys achterhoek
ls "$NET_DIR/overijssel/enrolled" | sed 's/^/   enrolled at overijssel: /'
ls "$NET_DIR/gelderland/enrolled" | sed 's/^/   enrolled at gelderland: /'

step "Starting broker 'overijssel' (nodes twente, ijsselland, ec-overijssel) on tcp://127.0.0.1:$PORT"
step "     and broker 'gelderland' (node achterhoek) on tcp://127.0.0.1:$GPORT, federated"
# The dashboard on EXPERTNET_DEMO_WEB_PORT or a free port, so two demos
# (or a demo beside the tests) never collide
WEB_PORT=${EXPERTNET_DEMO_WEB_PORT:-$(net_free_port)}
net_broker --set "federation/peers/gelderland/endpoint=tcp://127.0.0.1:$GPORT" \
    --set "web/address=127.0.0.1:$WEB_PORT" || fail "overijssel did not start"
for n in twente ijsselland ec-overijssel achterhoek; do PORTAL[$n]=$(net_free_port); done
PORTAL[twente]=${EXPERTNET_DEMO_PORTAL_PORT:-${PORTAL[twente]}}
for n in twente ijsselland ec-overijssel; do net_node "$n" $(notify "$n") $(portal "$n"); done
net_on gelderland "$GPORT"
net_broker --set "federation/peers/overijssel/endpoint=tcp://127.0.0.1:$PORT" || fail "gelderland did not start"
net_node achterhoek $(notify achterhoek) $(portal achterhoek)
net_on overijssel "$PORT"
for n in twente ijsselland ec-overijssel achterhoek; do net_wait_connected "$n" || fail "$n did not connect"; done
echo "   all nodes connected (CurveZMQ, enrolled keys only)"
enb --json broker status | jq -r '.enrolled[] | select(.peer_broker | not) | "   \(.name) may speak only for region \(.region) (bound at enrollment)"'
net_until 15 '.links[0].state == "up"' enb --json broker status || fail "the federation link did not come up"
echo "   federation link overijssel <-> gelderland up (CurveZMQ both ways, enrolled keys only)"

step "Regions publish their experts (pseudonymous ids; e-mail addresses stay at the node)"
say "expert add --id se-tw-trauma ... --email se-tw-trauma@twente.example   (synthetic)"
en twente expert add --id se-tw-trauma --role superexpert --expertise trauma,jggz,suicidaliteit --capacity 2 \
    --email se-tw-trauma@twente.example
en twente expert add --id se-tw-autisme --role superexpert --expertise autisme,lvb --capacity 1 \
    --email se-tw-autisme@twente.example
en ijsselland expert add --id se-ij-autisme --role superexpert --expertise autisme,lvb,gedrag --capacity 2
en ijsselland expert add --id se-ij-verslaving --role superexpert --expertise verslaving,jggz --capacity 1
en ec-overijssel expert add --id pr-ec-01 --role procesregisseur --bovenregionaal --capacity 1 \
    --email pr-ec-01@ec-overijssel.example
en ec-overijssel expert add --id pr-ec-02 --role procesregisseur --bovenregionaal --capacity 1 \
    --email pr-ec-02@ec-overijssel.example
net_until 10 'length == 6' enb --json broker experts || fail "broker did not learn all experts"
enb --json broker experts | grep -q '@twente.example' && fail "an e-mail address reached the broker"
echo "   the broker knows the experts; their e-mail addresses never left the node"
en achterhoek expert add --id se-ah-eetstoornis --role superexpert --expertise eetstoornis,jggz --capacity 2
net_until 10 '.links[0].advert.free >= 2' enb --json broker status \
    || fail "overijssel did not learn what gelderland can serve"
echo "   gelderland advertises its free places to overijssel (counts by role and expertise, no names)"

step "Experts get their own accounts: their password (not the server) opens their dossier key"
# Demo passwords in files (a person types them; never use these elsewhere)
for x in se-tw-trauma se-tw-autisme se-ah-eetstoornis; do
    printf 'demo-%s-wachtwoord\n' "$x" > "$NET_DIR/pw-$x"
    chmod 600 "$NET_DIR/pw-$x"
done
say "node user-add anna --role expert --expert se-tw-trauma   (asks the password twice)"
ANNA=$(en twente --json node user-add anna --role expert --expert se-tw-trauma --password-file "$NET_DIR/pw-se-tw-trauma")
ANNA_TOTP=$(jq -r .totp_secret <<< "$ANNA")
jq -r '"   recovery code (shown once): \(.recovery_code)\n   TOTP: \(.totp_uri)"' <<< "$ANNA"
BRAM_TOTP=$(en twente --json node user-add bram --role expert --expert se-tw-autisme \
    --password-file "$NET_DIR/pw-se-tw-autisme" | jq -r .totp_secret)
CHRIS_TOTP=$(en achterhoek --json node user-add chris --role expert --expert se-ah-eetstoornis \
    --password-file "$NET_DIR/pw-se-ah-eetstoornis" | jq -r .totp_secret)
en twente node users | sed 's/^/   /'

step "Experts listen for assignment notifications"
for n in twente ijsselland ec-overijssel achterhoek; do
    "$NET_BIN/expertnet" --node "$NET_DIR/$n" expert listen > "$NET_DIR/listen-$n.out" 2>&1 &
    net_track "listen-$n" $!
    #   tail ends when the listener does, so nothing outlives the demo
    tail -n +1 -f --pid=$! "$NET_DIR/listen-$n.out" | sed -u "s/^/   [$n experts] /" &
done
sleep 0.5

step "Privacy: Twente registers the client; only a pseudonym leaves the region"
say "case add --client-id 111222333 --name 'Noor Testkind' ...   (synthetic client)"
CASE=$(en twente --json case add --client-id 111222333 --name "Noor Testkind" --bsn 111222333 \
       --birth-date 2013-05-17 --school "Basisschool Het Testveld" | jq -r .case)
echo "   case pseudonym: $CASE (name, BSN, date of birth stay at the node, encrypted)"
say "request submit --case $CASE --question 'Noor (geb. 17-05-2013) ...'"
if en twente request submit --case "$CASE" --urgency crisis --type consultatie-advies --expertise trauma \
       --age-band 12-17 --question "Noor (geb. 17-05-2013) zit vast na drie crisisplaatsingen" 2> "$NET_DIR/refused.txt"; then
    fail "the PII guard let a name through"
fi
sed 's/^/   REFUSED: /' "$NET_DIR/refused.txt"
echo "   nothing was sent; the operator sees only the count:"
en twente node status | grep "PII guard"

step "1. Twente submits a CRISIS request from a JSON file, with a dossier; own region first"
printf 'Dossier bij %s: drie crisisplaatsingen sinds 2024, GI betrokken, school en GGZ in beeld.\nVraag: welke traumabehandeling past bij de veiligheidssituatie?\n' "$CASE" > "$NET_DIR/dossier.txt"
say "request submit --file config/demo/crisis-twente.json --case $CASE --dossier-file dossier.txt"
R1=$(en twente --json request submit --file config/demo/crisis-twente.json --case "$CASE" \
     --dossier-file "$NET_DIR/dossier.txt" | jq -r .id)
echo "   submitted $R1 (signed by twente, verified by the broker)"
wait_state "$R1" offered
O1=$(open_offer "$R1")
sleep 0.3
say "expert accept $O1"
en twente expert accept "$O1"
wait_state "$R1" accepted
MAIL1=$(mail_with "/aanbod/$O1") || fail "the expert's notification e-mail for $O1 did not arrive"
echo "   se-tw-trauma was told by e-mail (queued with the offer, sent through smtp://127.0.0.1:$SMTP_PORT):"
sed -n -e '/^\(To\|Subject\|Message-ID\):/p' -e '/^\r\?$/,$p' "$MAIL1" | tr -d '\r' | sed 's/^/   | /'
grep -qF "$(jq -r .question config/demo/crisis-twente.json | cut -c1-30)" "$MAIL1" \
    && fail "the notification e-mail holds the question"
sed '1,/^\r\?$/d' "$MAIL1" | grep -qiE 'trauma|jggz|12-17|gedwongen|veiligheid' \
    && fail "the notification e-mail holds case data"
echo "   (no question, no summary: the link leads into the node's portal, where the expert logs in)"
net_until 10 '[.events[].type] | index("dossier") != null' enb --json broker show "$R1" || fail "dossier not released"
echo "   the dossier was sealed to se-tw-trauma's key and relayed; the broker saw only ciphertext."
echo "   The node hands out ciphertext only; the expert's password opens it in the expertnet process:"
say "expert dossier $O1 --expert se-tw-trauma   (asks anna's password)"
en twente expert dossier "$O1" --expert se-tw-trauma --password-file "$NET_DIR/pw-se-tw-trauma" | sed 's/^/   /'
say "expert dossier $O1 --expert se-tw-autisme   (another expert)"
en twente expert dossier "$O1" --expert se-tw-autisme --password-file "$NET_DIR/pw-se-tw-autisme" 2>&1 | sed 's/^/   /' || true
printf 'Advies: stabilisatie eerst; gezamenlijk plan met GI, school en GGZ binnen 48 uur.\n' > "$NET_DIR/advice.txt"
say "expert advise $O1 --file advice.txt"
en twente expert advise "$O1" --file "$NET_DIR/advice.txt"
wait_state "$R1" advice

step "2. A regulier request for autisme + lvb: Twente's expert declines, IJsselland's gets it"
R2=$(en twente --json request submit --urgency regulier --type consultatie-advies \
     --expertise autisme,lvb --age-band 4-11 --leefgebieden jeugdhulp,onderwijs \
     --kader vrijwillig --situatie thuis --stuck-on samenwerking | jq -r .id)
wait_state "$R2" offered
O2=$(open_offer "$R2")
sleep 0.3
say "expert decline $O2 --reason 'geen capaciteit deze maand'"
en twente expert decline "$O2" --reason "geen capaciteit deze maand"
net_until 10 '.offers_open[0].expert == "se-ij-autisme"' enb --json broker show "$R2" \
    || fail "decline did not move $R2 to the next candidate"
O2b=$(open_offer "$R2")
sleep 0.3
en ijsselland expert accept "$O2b"
wait_state "$R2" accepted

step "3. A crisis request for verslaving: the offer is not answered in time (deadline 4s in the demo)"
R3=$(en ijsselland --json request submit --urgency crisis --type consultatie-advies \
     --expertise verslaving --age-band 18-23 --leefgebieden gezondheid,wonen \
     --situatie crisis --stuck-on inhoud,wachttijd | jq -r .id)
wait_state "$R3" offered
echo "   offered to $(enb --json broker show "$R3" | jq -r '.offers_open[0].expert'); nobody answers..."
wait_state "$R3" escalated 15
echo "   timed out; escalated to a bovenregionale procesregisseur:"
O3=$(open_offer "$R3")
sleep 0.3
en ec-overijssel expert accept "$O3"
wait_state "$R3" accepted
MAIL3=$(mail_with "/aanbod/$O3") || fail "the procesregisseur's escalation e-mail did not arrive"
echo "   the procesregisseur was told by e-mail: $(grep -m1 '^Subject:' "$MAIL3" | tr -d '\r')"

step "4. A hoog request for eetstoornis + lvb: nobody in the country has both; the escalation is declined -> hiaat"
R4=$(en twente --json request submit --urgency hoog --type consultatie-advies \
     --expertise eetstoornis,lvb --age-band 12-17 --leefgebieden gezondheid \
     --stuck-on aanbod-ontbreekt | jq -r .id)
wait_state "$R4" escalated
O4=$(open_offer "$R4")
sleep 0.3
en ec-overijssel expert decline "$O4" --reason "geen expertise eetstoornissen"
wait_state "$R4" hiaat

step "5. A hoog request for eetstoornis: no Overijssel expert has it; Gelderland's superexpert does"
printf 'Dossier bij %s: eetstoornis, twee opnames, school meldt verzuim.\n' "$CASE" > "$NET_DIR/dossier5.txt"
R5=$(en twente --json request submit --urgency hoog --type consultatie-advies --case "$CASE" \
     --expertise eetstoornis --age-band 12-17 --leefgebieden gezondheid,onderwijs \
     --stuck-on inhoud --dossier-file "$NET_DIR/dossier5.txt" | jq -r .id)
net_until 10 '.state == "offered" and .peer == "gelderland"' enb --json broker show "$R5" \
    || fail "$R5 was not forwarded to gelderland"
echo "   overijssel forwarded $R5 to gelderland, with Twente's signed request (verified there):"
enb --json broker show "$R5" | jq -r '.events[] | "     overijssel: \(.type) \(.expert // "") \(.detail // "")"'
O5=$(enbg --json broker show "$R5" | jq -r '.offers_open[0].id // empty')
[ -n "$O5" ] || fail "gelderland did not offer $R5"
sleep 0.3
say "--node achterhoek expert accept $O5"
en achterhoek expert accept "$O5"
net_until 10 '[.events[].type] | index("dossier") != null' enbg --json broker show "$R5" \
    || fail "the dossier did not reach gelderland's expert"
echo "   the dossier went twente -> overijssel -> gelderland -> achterhoek, sealed to the expert's key:"
en achterhoek expert dossier "$O5" --expert se-ah-eetstoornis --password-file "$NET_DIR/pw-se-ah-eetstoornis" \
    | sed 's/^/   /'
printf 'Advies: gespecialiseerde eetstoornisbehandeling, start binnen twee weken; school betrekken.\n' > "$NET_DIR/advice5.txt"
en achterhoek expert advise "$O5" --file "$NET_DIR/advice5.txt"
net_until 10 '.state == "advice"' en twente --json request show "$R5" || fail "the advice did not reach twente"
echo "   Twente has the advice from Gelderland:"
en twente request show "$R5" | sed 's/^/   /'
en twente request close "$R5" --outcome "behandeling gestart in Gelderland"
net_until 10 '.state == "closed"' enbg --json broker show "$R5" || fail "close did not reach gelderland"

step "Twente follows its crisis request"
say "request show $R1"
en twente request show "$R1"
en twente request close "$R1" --outcome "passende hulp gerealiseerd"
wait_state "$R1" closed

step "6. A flitsteam: a crisis request for two experts at once (trauma + autisme), filled in parallel"
say "request submit --urgency crisis --place superexpert:trauma --place superexpert:autisme ..."
R6=$(en twente --json request submit --urgency crisis --type consultatie-advies --age-band 12-17 \
     --place superexpert:trauma --place superexpert:autisme --stuck-on samenwerking | jq -r .id)
net_until 10 '.offers_open | length == 2' enb --json broker show "$R6" || fail "the team $R6 was not offered twice"
for o in $(enb --json broker show "$R6" | jq -r '.offers_open[].id'); do
    sleep 0.3
    en twente expert accept "$o" >/dev/null
done
wait_state "$R6" accepted
say "request show $R6   (its places)"
en twente request show "$R6" | sed -n '/^places:/,/^timeline:/p' | sed '$d; s/^/   /'
team_offer () {   # EXPERT: its offer of R6 at twente
    en twente --json expert inbox --expert "$1" --all | jq -r --arg r "$R6" '[.[] | select(.request_id == $r)][0].id // empty'
}
O6=$(team_offer se-tw-trauma); O6b=$(team_offer se-tw-autisme)
[ -n "$O6" ] && [ -n "$O6b" ] || fail "the team's offers are not at twente"
say "expert message $O6 --advice --text '...'   (sealed to the team and the other expert)"
en twente expert message "$O6" --advice --text "Advies: eerst veiligheid en stabilisatie; samen een plan met school." >/dev/null
en twente expert message "$O6b" --advice --text "Advies: voorspelbaarheid thuis en op school; ik sluit aan bij het overleg." >/dev/null
wait_state "$R6" advice     # every place advised
say "request thread $R6   (the team reads it; the broker relayed only ciphertext)"
en twente request thread "$R6" | sed 's/^/   /'
say "request review $R6 --in 6w   (terug op ET: the request stays open, in monitoring)"
en twente request review "$R6" --in 6w | sed 's/^/   /'
wait_state "$R6" monitoring
en twente request close "$R6" --outcome "passende hulp gerealiseerd" >/dev/null
wait_state "$R6" closed

step "Notifications: every e-mail the nodes queued was accepted by the SMTP server"
for n in twente ijsselland ec-overijssel achterhoek; do
    net_until 15 '[.notifications[] | select(.state != "verzonden")] | length == 0' en "$n" --json node notifications \
        || fail "$n did not deliver all its notifications"
done
say "node notifications   (at Twente: offers to its experts, advice and the hiaat for its staff)"
en twente node notifications | sed 's/^/   /'
echo "   $(ls "$MAILDIR/new" | wc -l) mails in $MAILDIR/new"

step "Access logs: who saw which case"
say "audit show --case $CASE   (at Twente)"
en twente audit show --case "$CASE"
say "audit export --case $CASE   (NEN 7513: what a client may ask for, in Dutch)"
en twente audit export --case "$CASE"
say "audit verify --broker"
enb audit verify --broker

step "Operator view of the broker"
say "broker status"
enb broker status
say "broker hiaten"
enb broker hiaten
say "broker experts"
enb broker experts

if [ -n "${EXPERTNET_DEMO_KEEP:-}" ]; then
    step "The network keeps running: dashboard on http://127.0.0.1:$WEB_PORT"
    printf 'demo-wachtwoord-2026\n' > "$NET_DIR/operator.pw"
    enb broker operator-add demo --password-file "$NET_DIR/operator.pw" >/dev/null
    echo "   log in as 'demo' with password 'demo-wachtwoord-2026' (a demo login: never use it elsewhere)"
    echo "   The regions' portals (demo logins: never use them elsewhere; every login asks a TOTP code)."
    echo "   Every demo path can be walked there: a team submits, the expert is mailed, accepts or"
    echo "   declines (the next candidate is mailed), a procesregisseur takes an escalation, Gelderland"
    echo "   answers what Overijssel cannot:"
    #  node login role [expert]: everyone the demo paths need
    logins=("twente mw-twente medewerker" "twente beheer-twente beheerder" "ijsselland mw-ijsselland medewerker"
            "ijsselland dirk expert se-ij-autisme" "ijsselland eva expert se-ij-verslaving"
            "ec-overijssel fenna expert pr-ec-01" "ec-overijssel gijs expert pr-ec-02"
            "achterhoek mw-achterhoek medewerker")
    shown=
    for entry in "${logins[@]}"; do
        read -r n login role expert <<< "$entry"
        printf 'demo-%s-wachtwoord\n' "$login" > "$NET_DIR/pw-$login"
        created=$(en "$n" --json node user-add "$login" --role "$role" ${expert:+--expert "$expert"} \
                  --password-file "$NET_DIR/pw-$login") || fail "demo login $login at $n"
        printf '%s %s %s %s %s\n' "$n" "$login" "$role${expert:+ $expert}" "demo-$login-wachtwoord" \
            "$(jq -r .totp_secret <<< "$created")" >> "$NET_DIR/logins"
    done
    printf '%s %s %s %s %s\n' twente anna "expert se-tw-trauma" demo-se-tw-trauma-wachtwoord "$ANNA_TOTP" \
        twente bram "expert se-tw-autisme" demo-se-tw-autisme-wachtwoord \
        "$BRAM_TOTP" \
        achterhoek chris "expert se-ah-eetstoornis" demo-se-ah-eetstoornis-wachtwoord "$CHRIS_TOTP" >> "$NET_DIR/logins"
    for n in twente ijsselland ec-overijssel achterhoek; do
        echo "     $n  http://127.0.0.1:${PORTAL[$n]}/"
        awk -v n="$n" '$1 == n { role = $3; if (NF == 6) role = $3 " (" $4 ")"; printf "       %-14s %-28s %-32s TOTP %s\n", $2, role, $(NF-1), $NF }' \
            "$NET_DIR/logins"
    done
    echo "     (name, role, password, TOTP secret; the list is in $NET_DIR/logins)"
    echo "   a TOTP code for a secret S (or add the secret to an authenticator app):"
    echo "     python3 -c 'import base64,hashlib,hmac,struct,sys,time; k=base64.b32decode(sys.argv[1]); h=hmac.new(k,struct.pack(\">Q\",int(time.time())//30),hashlib.sha1).digest(); o=h[-1]&15; print(\"%06d\"%((struct.unpack(\">I\",h[o:o+4])[0]&0x7fffffff)%1000000))' S"
    echo "   try: expertnet --node $NET_DIR/twente request submit --urgency hoog --type consultatie-advies --expertise trauma --age-band 12-17"
    echo "   the nodes' notification e-mail: smtp://127.0.0.1:$SMTP_PORT, one file per mail in $MAILDIR/new"
    echo "   Ctrl-C stops every process"
    while sleep 1; do :; done
fi

step "Demo complete: every routing path shown; stopping all processes"
net_stop
echo "   logs and data were in $NET_DIR"
