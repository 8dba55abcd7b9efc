#!/usr/bin/env bash
# The portal end to end against a real node, broker and accounts, over
# HTTP as a browser would post its forms: a medewerker logs in with
# password and TOTP code, submits a consultatieverzoek whose question
# holds a BSN (refused on that field, nothing sent), corrects it and
# submits with a dossier; the expert logs in (TOTP), finds the offer,
# accepts, and reads the dossier, opened in the portal with the key the
# expert's password unwrapped at login; another expert cannot open that
# offer; the expert advises and the medewerker's live panel shows the
# advice; a TOTP code is taken once; the access log names the people.
. "$(dirname "$0")/lib.sh"
for tool in curl jq python3; do
    command -v $tool >/dev/null || { not_ok "$tool is installed (deploy/deps.sh)"; test_done; }
done
test_init
WEB_PORT=$(free_port)
WEB=http://127.0.0.1:$WEB_PORT
net_keys twente
net_broker || { not_ok "broker starts"; test_done; }
portal_node twente "$WEB_PORT" || { not_ok "node twente connects"; test_done; }

en twente expert add --id se-tw-01 --role superexpert --expertise trauma,jggz --capacity 2 >/dev/null
en twente expert add --id se-tw-02 --role superexpert --expertise autisme --capacity 2 >/dev/null
net_until 10 'length == 2' enb --json broker experts || not_ok "experts published"
# The request form warns of expertise nobody holds, from the broker's TAGS:
# wait until the node has heard that trauma is held (a slow machine hears
# it after the first submit otherwise)
net_until 15 '[.[] | select(.tag == "trauma" and .available)] | length == 1' \
    "$NET_ROOT/build/tests/ctl" "$NET_DIR/twente" tags '{}' || not_ok "the node learns that trauma is held"
account () {        # account NAME PASSWORD ROLE [EXPERT]: prints its TOTP secret
    printf '%s\n' "$2" > "$NET_DIR/pw-$1"
    en twente --json node user-add "$1" --role "$3" ${4:+--expert "$4"} --password-file "$NET_DIR/pw-$1" \
        | jq -r .totp_secret
}
MW_SECRET=$(account mw-mara "mara haar wachtwoord" medewerker)
EX_SECRET=$(account ex-eva "eva haar wachtwoord" expert se-tw-01)
EX2_SECRET=$(account ex-bob "bob zijn wachtwoord" expert se-tw-02)
check "three accounts with TOTP secrets" test ${#MW_SECRET} -eq 32 -a ${#EX_SECRET} -eq 32 -a ${#EX2_SECRET} -eq 32

# RFC 6238 code of a base32 secret, now (test side; the portal uses liboath)
totp () {
    python3 -c 'import base64,hashlib,hmac,struct,sys,time
k = base64.b32decode(sys.argv[1] + "=" * (-len(sys.argv[1]) % 8))
h = hmac.new(k, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
o = h[-1] & 15
print("%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7fffffff) % 1000000))' "$1"
}
# http JAR METHOD PATH [CURL-ARGS...]: the status; body in $NET_DIR/body
http () {
    local jar=$NET_DIR/jar-$1 method=$2 path=$3
    shift 3
    curl -s -b "$jar" -c "$jar" -X "$method" -o "$NET_DIR/body" -D "$NET_DIR/headers" -w '%{http_code}' \
         -H "Origin: $WEB" "$@" "$WEB$path"
}
field () { grep -o "name=\"$1\" value=\"[0-9a-f]*\"" "$NET_DIR/body" | head -1 | sed 's/.*value="\([0-9a-f]*\)"/\1/'; }
location () { grep -i '^Location:' "$NET_DIR/headers" | tr -d '\r' | cut -d' ' -f2; }
# login NAME PASSWORD SECRET: password, then the code step; prints the
# final status (the code used is kept in $NET_DIR/code-NAME)
login () {
    local code
    code=$(http "$1" POST /login --data-urlencode "name=$1" --data-urlencode "password=$2")
    [ "$code" = 200 ] || { echo "password step: $code"; return; }
    local pending
    pending=$(field pending)
    totp "$3" > "$NET_DIR/code-$1"          # (kept: the replay check below)
    http "$1" POST /login -d "pending=$pending" -d "code=$(cat "$NET_DIR/code-$1")"
}

check_eq "the medewerker logs in with password and TOTP code" "303" \
    "$(login mw-mara 'mara haar wachtwoord' "$MW_SECRET")"
check_eq "... and sees the request form" "200" "$(http mw-mara GET /verzoeken/nieuw)"
CSRF=$(field csrf)
form=(-d "csrf=$CSRF" -d urgency=hoog -d question_type=consultatie-advies -d expertise=trauma -d age_band=12-17
      --data-urlencode "dossier=Dossier: vastgelopen na de tweede plaatsing; school wil meedenken.")
check_eq "a question holding a BSN is refused (422)" "422" \
    "$(http mw-mara POST /verzoeken/nieuw "${form[@]}" --data-urlencode 'question=Wat nu? BSN 123456782')"
check "... on that field, in Dutch" grep -q 'BSN' "$NET_DIR/body"
check "... and nothing was sent" net_until 2 'length == 0' en twente --json request list
check_eq "corrected, it is submitted (303 to its page)" "303" \
    "$(http mw-mara POST /verzoeken/nieuw "${form[@]}" --data-urlencode 'question=Hoe verder na de tweede plaatsing?')"
R=$(location | sed 's#^/verzoeken/\([^?]*\).*#\1#')
check "... which names the request" test -n "$R"
check "the request is offered to se-tw-01" net_until 15 '.offers_open[0].expert == "se-tw-01"' broker_request "$R"
check "the access log names the medewerker as submitter" \
    net_until 5 'any(.[]; .actor == "mw-mara")' en twente --json audit show --case "$R"

check_eq "the expert logs in with password and TOTP code" "303" \
    "$(login ex-eva 'eva haar wachtwoord' "$EX_SECRET")"
check "the offer is in the expert's inbox" \
    bash -c "[ \"\$(curl -s -b '$NET_DIR/jar-ex-eva' '$WEB/aanbod' | grep -c '$R-o1')\" -ge 1 ]"
check_eq "the offer page shows the question" "200" "$(http ex-eva GET "/aanbod/$R-o1")"
check "... in full" grep -q 'Hoe verder na de tweede plaatsing?' "$NET_DIR/body"
CSRF_EX=$(field csrf)
check_eq "the expert accepts through the form" "303" \
    "$(http ex-eva POST "/aanbod/$R-o1" -d "csrf=$CSRF_EX" -d action=accept)"
check "the request is accepted" wait_state "$R" accepted
dossier_shown () { curl -s -b "$NET_DIR/jar-ex-eva" "$WEB/aanbod/$R-o1" | grep -q 'vastgelopen na de tweede plaatsing'; }
check "the dossier opens in the portal with the key of the expert's password" \
    bash -c "for i in \$(seq 50); do curl -s -b '$NET_DIR/jar-ex-eva' '$WEB/aanbod/$R-o1' \
             | grep -q 'vastgelopen na de tweede plaatsing' && exit 0; sleep 0.2; done; exit 1"
check "the node logged the expert reading the dossier" \
    net_until 5 'any(.[]; .event == "dossier.read" and .actor == "ex-eva")' en twente --json audit show --case "$R"

check_eq "another expert logs in" "303" "$(login ex-bob 'bob zijn wachtwoord' "$EX2_SECRET")"
check_eq "... and cannot open that offer (404)" "404" "$(http ex-bob GET "/aanbod/$R-o1")"
check "... nor see the dossier" lacks 'vastgelopen' "$NET_DIR/body"
check_eq "... nor a medewerker's page (403)" "403" "$(http ex-bob GET /verzoeken)"

check_eq "the expert advises through the form" "303" \
    "$(http ex-eva POST "/aanbod/$R-o1" -d "csrf=$CSRF_EX" -d action=advise --data-urlencode 'text=Advies: plan een gezamenlijk overleg met school.')"
check "the medewerker's live panel shows the advice" \
    bash -c "for i in \$(seq 75); do curl -s -b '$NET_DIR/jar-mw-mara' '$WEB/api/panel/verzoek/$R' \
             | grep -q 'plan een gezamenlijk overleg' && exit 0; sleep 0.2; done; exit 1"

# The request's conversation in the portal: the expert writes (sealed to
# every participant), the medewerker reads it on the request page (the
# node opens the team's copy) and answers; the expert reads that with the
# key of the password (the node cannot); each sees the other read it
check_eq "the expert writes in the conversation" "303" \
    "$(http ex-eva POST "/aanbod/$R-o1" -d "csrf=$CSRF_EX" -d action=message -d soort=bericht \
       --data-urlencode 'bericht=Kunt u donderdag aansluiten bij het overleg?')"
check "the medewerker reads it on the request page" \
    bash -c "for i in \$(seq 75); do curl -s -b '$NET_DIR/jar-mw-mara' '$WEB/verzoeken/$R' \
             | grep -q 'donderdag aansluiten' && exit 0; sleep 0.2; done; exit 1"
check_eq "the medewerker answers in the conversation" "303" \
    "$(http mw-mara POST "/verzoeken/$R" -d "csrf=$CSRF" -d action=message --data-urlencode 'bericht=Ja, om tien uur.')"
check "the expert reads the answer, opened with the key of the password" \
    bash -c "for i in \$(seq 75); do curl -s -b '$NET_DIR/jar-ex-eva' '$WEB/aanbod/$R-o1' \
             | grep -q 'Ja, om tien uur.' && exit 0; sleep 0.2; done; exit 1"
check "the expert sees the team read their message" \
    bash -c "for i in \$(seq 75); do curl -s -b '$NET_DIR/jar-ex-eva' '$WEB/aanbod/$R-o1' \
             | grep -q 'Gelezen door het expertteam' && exit 0; sleep 0.2; done; exit 1"
# Follow-up: the medewerker sets the date the case comes back to the ET
check_eq "the request page offers 'Terug op ET'" "200" "$(http mw-mara GET "/verzoeken/$R")"
check "... a date picker, labelled" grep -q 'id="review_date"[^>]*type="date"\|type="date"[^>]*id="review_date"\|<label for="review_date">Terug op ET' "$NET_DIR/body"
CSRF=$(field csrf)
check_eq "a date in the past is refused on the form (422)" "422" \
    "$(http mw-mara POST "/verzoeken/$R" -d "csrf=$CSRF" -d action=review -d review_date=2020-01-01)"
check "... in Dutch" grep -q 'kies een dag in de toekomst' "$NET_DIR/body"
check_eq "no date is refused too (422)" "422" "$(http mw-mara POST "/verzoeken/$R" -d "csrf=$CSRF" -d action=review)"
REVIEW_DAY=$(date -d '+21 days' +%Y-%m-%d)
check_eq "a date in three weeks is taken (303)" "303" \
    "$(http mw-mara POST "/verzoeken/$R" -d "csrf=$CSRF" -d action=review -d "review_date=$REVIEW_DAY")"
check "the broker has the request in monitoring" wait_state "$R" monitoring
check "the request page shows the date" \
    bash -c "for i in \$(seq 50); do curl -s -b '$NET_DIR/jar-mw-mara' '$WEB/verzoeken/$R' \
             | grep -q \"$(date -d "$REVIEW_DAY" +%d-%m-%Y)\" && exit 0; sleep 0.2; done; exit 1"
check_eq "the list filters on Monitoren" "200" "$(http mw-mara GET '/verzoeken?status=monitoring')"
check "... and lists it" grep -q "$R" "$NET_DIR/body"
check "... as the filter chosen (not all requests)" grep -q 'aria-current="true">Monitoren<' "$NET_DIR/body"
check_eq "the Advies filter no longer lists it" 0 "$(http mw-mara GET '/verzoeken?status=advice' >/dev/null; grep -c "/verzoeken/$R\"" "$NET_DIR/body")"

# Moreel beraad as a meeting, in the portal: the team proposes a time, the
# expert ticks it, the team fixes it and records that it was held
check_eq "a moreel-beraad request is submitted" "303" \
    "$(http mw-mara POST /verzoeken/nieuw -d "csrf=$CSRF" -d urgency=regulier -d question_type=moreel-beraad \
        -d expertise=trauma -d age_band=12-17)"
R3=$(location | sed 's#^/verzoeken/\([^?]*\).*#\1#')
check "... offered to se-tw-01" net_until 15 '.offers_open[0].expert == "se-tw-01"' broker_request "$R3"
check_eq "the expert accepts it" "303" "$(http ex-eva POST "/aanbod/$R3-o1" -d "csrf=$CSRF_EX" -d action=accept)"
check "... accepted at the team's node" net_until 15 '.state == "accepted"' en twente --json request show "$R3"
check_eq "the request page offers 'Moreel beraad'" "200" "$(http mw-mara GET "/verzoeken/$R3")"
check "... with times to propose" grep -q 'name="beraad_tijd_1"' "$NET_DIR/body"
check_eq "no time is refused (422)" "422" "$(http mw-mara POST "/verzoeken/$R3" -d "csrf=$CSRF" -d action=beraad-propose)"
T1=$(TZ=Europe/Amsterdam date -d '+2 days' '+%Y-%m-%dT14:00')
check_eq "a time is proposed (303)" "303" \
    "$(http mw-mara POST "/verzoeken/$R3" -d "csrf=$CSRF" -d action=beraad-propose -d "beraad_tijd_1=$T1")"
check "the expert's offer page shows it to tick" \
    bash -c "for i in \$(seq 50); do curl -s -b '$NET_DIR/jar-ex-eva' '$WEB/aanbod/$R3-o1' \
             | grep -q 'name=\"available\"' && exit 0; sleep 0.2; done; exit 1"
http ex-eva GET "/aanbod/$R3-o1" >/dev/null
AT=$(grep -o 'name="available" id="available" value="[0-9]*"' "$NET_DIR/body" | grep -o '[0-9]*"$' | tr -d '"')
check_eq "the expert says it suits (303)" "303" \
    "$(http ex-eva POST "/aanbod/$R3-o1" -d "csrf=$CSRF_EX" -d action=beraad-answer -d "available=$AT")"
check "the team's timeline has the answer" \
    net_until 10 '[.events[] | select(.event == "beraad-answer" and .expert == "se-tw-01")] | length == 1' \
    en twente --json request show "$R3"
check_eq "the team fixes the time (303)" "303" \
    "$(http mw-mara POST "/verzoeken/$R3" -d "csrf=$CSRF" -d action=beraad-fix -d "beraad_fix=$T1")"
check "the expert's page says the time is fixed" \
    bash -c "for i in \$(seq 50); do curl -s -b '$NET_DIR/jar-ex-eva' '$WEB/aanbod/$R3-o1' \
             | grep -q 'De tijd staat vast' && exit 0; sleep 0.2; done; exit 1"
check_eq "a time held in the future is refused (422)" "422" \
    "$(http mw-mara POST "/verzoeken/$R3" -d "csrf=$CSRF" -d action=beraad-held -d "beraad_held=$T1")"
check_eq "held, with a note (303)" "303" \
    "$(http mw-mara POST "/verzoeken/$R3" -d "csrf=$CSRF" -d action=beraad-held \
        -d "beraad_held=$(TZ=Europe/Amsterdam date '+%Y-%m-%dT%H:%M')" --data-urlencode 'beraad_outcome=Kwx-besluit')"
check "the broker has it held" net_until 10 '[.events[] | select(.type == "beraad-held")] | length == 1' \
    broker_request "$R3"
check_eq "the note is not at the broker" 0 "$(sqlite3 -readonly "$NET_DIR/overijssel/broker.db" .dump | grep -c 'Kwx-besluit')"
check "the expert's page says it was held, with the date" \
    bash -c "for i in \$(seq 50); do curl -s -b '$NET_DIR/jar-ex-eva' '$WEB/aanbod/$R3-o1' \
             | grep -q 'Moreel beraad gehouden op <strong>[0-9]' && exit 0; sleep 0.2; done; exit 1"
http ex-eva GET "/aanbod/$R3-o1" >/dev/null
check_eq "... and not the note" 0 "$(grep -c 'Kwx-besluit' "$NET_DIR/body")"

# A TOTP code is taken once: the medewerker's code does not log in again
http mw-mara POST /login --data-urlencode "name=mw-mara" --data-urlencode "password=mara haar wachtwoord" >/dev/null
PENDING=$(field pending)
check_eq "a TOTP code used before does not log in again" "401" \
    "$(http mw-mara-2 POST /login -d "pending=$PENDING" -d "code=$(cat "$NET_DIR/code-mw-mara")")"
check_eq "logout ends the expert's session" "303" "$(http ex-eva POST /uitloggen -d "csrf=$CSRF_EX")"
check_eq "... after which the offer page asks for a login" "401" "$(http ex-eva GET "/aanbod/$R-o1")"
# The beheerder adds an expert in the portal; the contact stays at the node
BH_SECRET=$(account bh-ben "ben zijn wachtwoord" beheerder)
check_eq "the beheerder logs in" "303" "$(login bh-ben 'ben zijn wachtwoord' "$BH_SECRET")"
check_eq "... and opens the form for a new expert" "200" "$(http bh-ben GET /beheer/experts/nieuw)"
CSRF_BH=$(field csrf)
check_eq "a new expert without capacity or role is refused on the form (422)" "422" \
    "$(http bh-ben POST /beheer/experts/nieuw -d "csrf=$CSRF_BH" -d id=se-tw-03)"
check_eq "the beheerder adds expert se-tw-03" "303" \
    "$(http bh-ben POST /beheer/experts/nieuw -d "csrf=$CSRF_BH" -d id=se-tw-03 -d role=superexpert \
        -d capacity=2 -d expertise=trauma -d expertise=lvb -d email=se-tw-03@example.org)"
check "... the node has it, with its tags" \
    net_until 5 'any(.[]; .id == "se-tw-03" and .capacity == 2 and (.expertise | index("lvb") != null))' \
    en twente --json expert list
check "... and the broker learns it (without the e-mail address)" \
    net_until 10 'any(.[]; .id == "se-tw-03") and (tostring | contains("example.org") | not)' enb --json broker experts
check_eq "the beheerder changes its capacity" "303" \
    "$(http bh-ben POST /beheer/experts/se-tw-03 -d "csrf=$CSRF_BH" -d role=superexpert -d capacity=1 \
        -d expertise=trauma -d email=se-tw-03@example.org)"
check "... the node follows" net_until 5 'any(.[]; .id == "se-tw-03" and .capacity == 1)' en twente --json expert list
check_eq "a medewerker cannot reach that form (403)" "403" "$(http mw-mara GET /beheer/experts/nieuw)"
check "the node did not crash" kill -0 "$(net_pid twente)"
test_done
