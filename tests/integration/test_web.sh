#!/usr/bin/env bash
# The operators' dashboard over real HTTP against a running broker:
# nothing without a login (401 and no data, on every page, API path and
# /metrics), login with a hashed password, HttpOnly/SameSite session
# cookie, failed logins locked out (429), API tokens, JSON that matches
# the broker's own view, operator actions (re-offer, escalate, close)
# with a reason that change the request and are recorded as events and
# in the access log, and /metrics that passes `promtool check metrics`
# and moves with traffic.
. "$(dirname "$0")/lib.sh"
for tool in curl promtool jq; do
    command -v $tool >/dev/null || { not_ok "$tool is installed (deploy/deps.sh)"; test_done; }
done
CTL=$NET_ROOT/build/tests/ctl
[ -x "$CTL" ] || { not_ok "build/tests/ctl is built (make unit-bins)"; test_done; }
test_init
WEB_PORT=$(free_port)
WEB=http://127.0.0.1:$WEB_PORT
# Long deadlines: offers stay open while the test looks at them
cat > "$NET_DIR/broker.cfg" <<EOF
broker
    name = overijssel
    heartbeat = 500ms
    retry = 1s
    regions
        twente
        ijsselland
routing
    grace = 1s
    deadline
        crisis = 10m
        hoog = 4h
        regulier = 3d
web
    address = 127.0.0.1:$WEB_PORT
    attempts = 5
    lockout = 60s
EOF
NET_BROKER_CONFIG=$NET_DIR/broker.cfg
test_network twente ijsselland

ctlb () { "$CTL" "$NET_DIR/overijssel" "$@"; }
# http METHOD PATH [CURL-ARGS...]: prints the status; body and headers in files
http () {
    local method=$1 path=$2
    shift 2
    curl -s -X "$method" -o "$NET_DIR/body" -D "$NET_DIR/headers" -w '%{http_code}' "$@" "$WEB$path"
}
body () { cat "$NET_DIR/body"; }
# jqb FILTER: the last body matches
jqb () { jq -e "$@" "$NET_DIR/body" >/dev/null; }
# The broker's request and access log match a jq filter
request_has () { broker_request "$1" | jq -e "$2" >/dev/null; }
audit_has () { enb --json audit show --broker --case "$1" | jq -e "$2" >/dev/null; }
header () { grep -i "^$1:" "$NET_DIR/headers" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
COOKIES=$NET_DIR/cookies

check_eq "the dashboard serves its login form" "200" "$(http GET /login)"
check "the broker log says where the dashboard is" grep -q "dashboard on http://127.0.0.1:$WEB_PORT/" "$NET_DIR/overijssel.log"

en twente expert add --id se-tw-01 --role superexpert --expertise trauma,jggz --capacity 2 >/dev/null
en twente expert add --id se-tw-02 --role superexpert --expertise trauma --capacity 2 >/dev/null
en ijsselland expert add --id pr-ij-01 --role procesregisseur --bovenregionaal --expertise trauma --capacity 2 >/dev/null
net_until 10 'length == 3' enb --json broker experts || not_ok "experts published"
R1=$(en twente --json request submit --urgency hoog --type consultatie-advies --expertise trauma --age-band 12-17 | jq -r .id)
wait_state "$R1" offered || not_ok "request $R1 offered"

# --- Nothing without a login -------------------------------------------
paths="/ /verzoeken /experts /grafieken /verzoek/$R1 /fragment/overview /fragment/charts /api/me
       /api/overview /api/status /api/requests /api/requests/$R1 /api/experts /api/offers /api/hiaten
       /api/nodes /api/charts /metrics /nonexistent"
leaks=""
codes=""
for p in $paths; do
    code=$(http GET "$p")
    [ "$code" = "401" ] || codes="$codes $p:$code"
    # (a page's login form carries the path asked for back as "next")
    sed 's/name="next" value="[^"]*"//' "$NET_DIR/body" |
        grep -qE "$R1|se-tw-0|pr-ij-01|ijsselland|expertnet_|aangeboden|offered" && leaks="$leaks $p"
done
check_eq "every page, API path and /metrics answers 401 without a login" "" "$codes"
check_eq "... and none of them shows any data" "" "$leaks"
http GET /api/overview >/dev/null
check "an API 401 is JSON and says how to authenticate" \
    bash -c "jq -e '.code == 401' '$NET_DIR/body' >/dev/null && grep -qi '^WWW-Authenticate: Bearer' '$NET_DIR/headers'"
http GET / >/dev/null
check "a page 401 is the login form" grep -q 'name="password"' "$NET_DIR/body"
check_eq "an unauthenticated operator action is refused (401)" "401" \
    "$(http POST "/api/requests/$R1/close" -H 'Content-Type: application/json' -d '{"reason": "test"}')"
check_eq "... and changes nothing" "offered" "$(broker_request "$R1" | jq -r .state)"
check_eq "a made-up session cookie is not a login" "401" \
    "$(http GET /api/overview -b "en_session=$(printf '%064d' 0)")"
check_eq "a made-up API token is not a login" "401" \
    "$(http GET /api/overview -H "Authorization: Bearer $(printf '%064d' 7)")"
check_eq "the stylesheet needs no login" "200" "$(http GET /static/style.css)"
check_eq "the script needs no login" "200" "$(http GET /static/app.js)"
http GET /login >/dev/null
check "Content-Security-Policy default-src 'self'" bash -c "grep -qi \"^Content-Security-Policy: default-src 'self'\" '$NET_DIR/headers'"
check_eq "X-Frame-Options DENY" "DENY" "$(header X-Frame-Options)"
check_eq "methods other than GET, HEAD and POST get 405" "405" "$(http DELETE /api/overview)"

# --- Operators ----------------------------------------------------------
check "an operator is added through the control socket" \
    bash -c "'$CTL' '$NET_DIR/overijssel' operator-add '{\"name\": \"anna\", \"password\": \"correct horse battery\"}' >/dev/null"
check_exit "a second operator with the same name is refused" 1 ctlb operator-add '{"name": "anna", "password": "another password"}'
check_exit "a short password is refused" 1 ctlb operator-add '{"name": "bert", "password": "kort"}'
check_exit "a password of 11 bytes is refused (12 is the minimum)" 1 ctlb operator-add '{"name": "bert", "password": "elf-tekens!"}'
check_exit "a password of 12 bytes is taken" 0 ctlb operator-add '{"name": "dirk", "password": "twaalf-teken"}'
ctlb operator-remove '{"name": "dirk"}' >/dev/null
ctlb operator-add '{"name": "bert", "password": "bert his password"}' >/dev/null
check "only a crypto_pwhash (Argon2id) string is stored" \
    bash -c "sqlite3 -readonly '$NET_DIR/overijssel/broker.db' \"SELECT pwhash FROM operators WHERE name = 'anna'\" | grep -q '^\\\$argon2id\\\$'"
check_eq "no password in clear in the database" "0" \
    "$(sqlite3 -readonly "$NET_DIR/overijssel/broker.db" .dump | grep -c 'correct horse battery')"
check_exit "the password hash is not handed out on the operator socket" 1 ctlb operator-hash '{"name": "anna"}'

check_eq "a wrong password gets 401" "401" "$(http POST /login -d name=anna -d password=wrong-password)"
check "... with the login form and a message" grep -q 'Onjuiste naam of wachtwoord' "$NET_DIR/body"
check_eq "an unknown name gets the same 401" "401" "$(http POST /login -d name=nobody -d password=wrong-password)"
check_eq "the right password logs in (303 to the overview)" "303" \
    "$(http POST /login -c "$COOKIES" -d name=anna --data-urlencode 'password=correct horse battery')"
cookie=$(header Set-Cookie)
check "the session cookie is HttpOnly" bash -c "echo '$cookie' | grep -q 'HttpOnly'"
check "the session cookie is SameSite=Strict" bash -c "echo '$cookie' | grep -q 'SameSite=Strict'"
check "the session is 256 random bits" bash -c "echo '$cookie' | grep -qE '^en_session=[0-9a-f]{64};'"
check_eq "the session knows who is logged in" "anna" "$(http GET /api/me -b "$COOKIES" >/dev/null; body | jq -r .operator)"
CSRF=$(body | jq -r .csrf)
check_eq "a JSON login answers 200" "200" \
    "$(http POST /login -H 'Content-Type: application/json' -d '{"name": "anna", "password": "correct horse battery"}')"
check "... with the operator and a CSRF token" jqb '.operator == "anna" and (.csrf | length) == 32'

# --- The API shows the broker's state -------------------------------------
check_eq "/api/overview answers" "200" "$(http GET /api/overview -b "$COOKIES")"
check "/api/overview lists the open request with its age" \
    jqb --arg id "$R1" '.requests_open[] | select(.id == $id) | .urgency == "hoog" and .age_ms >= 0'
check "/api/overview lists its waiting offer with time left" \
    jqb --arg id "$R1" '.offers[] | select(.request_id == $id) | .expert == "se-tw-01" and .left_ms > 3600000'
check "/api/overview counts experts available by role and tag" \
    jqb '.experts.by_role.superexpert.total == 2 and .experts.by_tag.trauma.total == 3'
check "/api/overview shows both nodes connected" jqb '.nodes_connected == 2 and (.nodes | length) == 2'
check "/api/overview has the federation links (none yet)" jqb '.federation == []'

R2=$(en twente --json request submit --urgency crisis --type consultatie-advies --expertise trauma --age-band 4-11 | jq -r .id)
wait_state "$R2" offered || not_ok "request $R2 offered"
http GET /api/requests -b "$COOKIES" >/dev/null
check_eq "/api/requests holds what the broker holds" \
    "$(enb --json broker requests | jq -c '[.[].id] | sort')" "$(body | jq -c '[.[].id] | sort')"
check "a request submitted at a node is in /api/requests" jqb --arg id "$R2" 'any(.[]; .id == $id)'
http GET "/api/requests/$R2" -b "$COOKIES" >/dev/null
check_eq "/api/requests/ID matches the broker's request" \
    "$(broker_request "$R2" | jq -c '[.state, .urgency, .offers_open[0].expert, [.events[].type]]')" \
    "$(body | jq -c '[.state, .urgency, .offers_open[0].expert, [.events[].type]]')"
check "/api/requests/ID holds the access log, with this view by anna" \
    jqb '.audit | any(.event == "request.view" and .actor == "anna")'
check_eq "/api/requests/UNKNOWN is 404" "404" "$(http GET /api/requests/twente-00000000 -b "$COOKIES")"
http GET /api/experts -b "$COOKIES" >/dev/null
check_eq "/api/experts matches the broker's experts and load" \
    "$(enb --json broker experts | jq -c '[.[] | [.id, .load, .reserved]] | sort')" "$(body | jq -c '[.[] | [.id, .load, .reserved]] | sort')"
http GET /api/offers -b "$COOKIES" >/dev/null
check_eq "/api/offers matches the broker's open offers" \
    "$(enb --json broker offers | jq -c '[.[].id] | sort')" "$(body | jq -c '[.[].id] | sort')"
check_eq "/api/hiaten answers a list" "array" "$(http GET /api/hiaten -b "$COOKIES" >/dev/null; body | jq -r type)"
check_eq "/api/nodes lists the nodes" '["ijsselland","twente"]' "$(http GET /api/nodes -b "$COOKIES" >/dev/null; body | jq -c '[.[].name] | sort')"
check_eq "/api/status is the broker's status" "overijssel" "$(http GET /api/status -b "$COOKIES" >/dev/null; body | jq -r .broker)"
http GET /api/charts -b "$COOKIES" >/dev/null
check "/api/charts has the time to first offer of both requests" \
    jqb --arg a "$R1" --arg b "$R2" '[.times[] | select(.id == $a or .id == $b) | .first_offer_ms >= 0] == [true, true]'
check "/api/charts counts requests per week by urgency" \
    jqb '[.weeks[] | .requests] | add >= 2'

# --- Pages ---------------------------------------------------------------
check_eq "the overview page answers" "200" "$(http GET / -b "$COOKIES")"
check "the overview shows the open request, in Dutch" \
    bash -c "grep -q '$R2' '$NET_DIR/body' && grep -q 'Open verzoeken' '$NET_DIR/body' && grep -q 'Wachtende aanbiedingen' '$NET_DIR/body'"
check_eq "the overview draws three inline SVG charts" "3" "$(grep -o '<svg class="chart"' "$NET_DIR/body" | wc -l)"
check "no inline script or style on the page" lacks -E '<script>|<style|style="|onclick=' "$NET_DIR/body"
check_eq "the live fragment answers" "200" "$(http GET /fragment/overview -b "$COOKIES")"
check_eq "a request's page answers with its timeline" "200" "$(http GET "/verzoek/$R1" -b "$COOKIES")"
check "... which shows the events in Dutch" bash -c "grep -q 'Tijdlijn' '$NET_DIR/body' && grep -q 'aangeboden aan expert' '$NET_DIR/body'"
check_eq "the experts page answers" "200" "$(http GET /experts -b "$COOKIES")"
check "... with each expert's load" bash -c "grep -q 'se-tw-02' '$NET_DIR/body' && grep -q 'svg class=\"bar\"' '$NET_DIR/body'"
check_eq "the charts page answers" "200" "$(http GET /grafieken -b "$COOKIES")"
check_eq "an unknown page is 404" "404" "$(http GET /niets -b "$COOKIES")"

# --- Operator actions ------------------------------------------------------
check_eq "a cookie-authenticated action without the CSRF token is refused (403)" "403" \
    "$(http POST "/api/requests/$R1/reoffer" -b "$COOKIES" -H 'Content-Type: application/json' -d '{"reason": "x"}')"
check_eq "a POST from another site is refused (403)" "403" \
    "$(http POST "/api/requests/$R1/reoffer" -b "$COOKIES" -H "X-CSRF-Token: $CSRF" -H 'Origin: http://evil.example' \
        -H 'Content-Type: application/json' -d '{"reason": "x"}')"
check_eq "an action without a reason is refused (422)" "422" \
    "$(http POST "/api/requests/$R1/reoffer" -b "$COOKIES" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' -d '{}')"
check_eq "... and nothing changed" "se-tw-01" "$(broker_request "$R1" | jq -r '.offers_open[0].expert')"
# The broker's PII guard reads operators' reasons too (issue 10, item 5)
check_eq "a reason with a BSN is refused (422)" "422" \
    "$(http POST "/api/requests/$R1/reoffer" -b "$COOKIES" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' \
        -d '{"reason": "op verzoek van moeder, bsn 111222333"}')"
check "... naming the field and the kind, not the text" bash -c \
    "grep -q \"field 'reason' contains a BSN\" '$NET_DIR/body' && ! grep -q 111222333 '$NET_DIR/body'"
check_eq "... and nothing changed" "se-tw-01" "$(broker_request "$R1" | jq -r '.offers_open[0].expert')"

check_eq "re-offer with a reason" "200" \
    "$(http POST "/api/requests/$R1/reoffer" -b "$COOKIES" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' \
        -d '{"reason": "se-tw-01 is met verlof"}')"
check_eq "re-offer withdraws the open offer and offers it to the next expert" "offered se-tw-02" \
    "$(broker_request "$R1" | jq -r '"\(.state) \(.offers_open[0].expert)"')"
check "re-offer is an event with the operator and the reason" request_has "$R1" \
    '.events | any(.type == "operator-reoffer" and .detail == "anna: se-tw-01 is met verlof") and any(.type == "withdrawn" and .expert == "se-tw-01")'
check "re-offer is in the access log with anna as actor" audit_has "$R1" \
    'any(.[]; .event == "request.operator-reoffer" and .actor == "anna" and .detail == "operator")'

check "the origin node hears of it (STATUS)" \
    net_until 5 '.events | any(.event == "operator-reoffer")' en twente --json request show "$R1"

check_eq "escalate with a reason" "200" \
    "$(http POST "/api/requests/$R1/escalate" -b "$COOKIES" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' \
        -d '{"reason": "al twee keer vastgelopen"}')"
check_eq "escalate offers the request to the bovenregionale procesregisseur" "escalated pr-ij-01 escalation" \
    "$(broker_request "$R1" | jq -r '"\(.state) \(.offers_open[0].expert) \(.offers_open[0].kind)"')"
check_eq "escalating again with nobody left is refused (409)" "409" \
    "$(http POST "/api/requests/$R1/escalate" -b "$COOKIES" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' \
        -d '{"reason": "nog eens"}')"
check_eq "... and leaves the request as it was" "escalated pr-ij-01" \
    "$(broker_request "$R1" | jq -r '"\(.state) \(.offers_open[0].expert)"')"

# Close through the page's form (as a browser sends it)
check_eq "close through the request page's form (303 back to the page)" "303" \
    "$(http POST "/verzoek/$R1" -b "$COOKIES" -H "Origin: $WEB" -d "csrf=$CSRF" -d action=close \
        --data-urlencode 'reason=dubbel ingediend')"
check_eq "close: the request is closed" "closed" "$(broker_request "$R1" | jq -r .state)"
check_eq "close: its outcome names the operator's reason" "closed by operator: dubbel ingediend" \
    "$(broker_request "$R1" | jq -r '[.events[] | select(.type == "closed")][0].detail')"
check_eq "close: the open offer was withdrawn" "0" "$(broker_request "$R1" | jq '.offers_open | length')"
check "close: in the access log with anna as actor" audit_has "$R1" \
    'any(.[]; .event == "request.closed" and .actor == "anna")'
check "close: the origin node mirrors the closed state" net_until 5 '.state == "closed"' en twente --json request show "$R1"
check_eq "an action on a closed request is refused (409)" "409" \
    "$(http POST "/api/requests/$R1/reoffer" -b "$COOKIES" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' \
        -d '{"reason": "toch"}')"
check_eq "the page's form without its CSRF token is refused (403)" "403" \
    "$(http POST "/verzoek/$R2" -b "$COOKIES" -d action=close -d reason=x)"
check_eq "... and the request stays open" "offered" "$(broker_request "$R2" | jq -r .state)"

# --- API tokens ----------------------------------------------------------
TOKEN=$(ctlb token-add '{"operator": "bert"}' | jq -r .token)
check "an API token is 256 random bits" bash -c "[[ '$TOKEN' =~ ^[0-9a-f]{64}$ ]]"
check_eq "only a hash of the token is stored" "0" \
    "$(sqlite3 -readonly "$NET_DIR/overijssel/broker.db" .dump | grep -c "$TOKEN")"
check_eq "a bearer token reads the API" "bert" \
    "$(http GET /api/me -H "Authorization: Bearer $TOKEN" >/dev/null; body | jq -r .operator)"
check_eq "a bearer token acts without a CSRF token" "200" \
    "$(http POST "/api/requests/$R2/reoffer" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d '{"reason": "via de API"}')"
check "... recorded with the token's operator as actor" audit_has "$R2" \
    'any(.[]; .event == "request.operator-reoffer" and .actor == "bert")'

# --- Metrics -------------------------------------------------------------
check_eq "/metrics answers with a token" "200" "$(http GET /metrics -H "Authorization: Bearer $TOKEN")"
cp "$NET_DIR/body" "$NET_DIR/metrics1"
check "/metrics passes promtool check metrics" bash -c "promtool check metrics < '$NET_DIR/metrics1' > '$NET_DIR/promtool.out' 2>&1"
[ -s "$NET_DIR/promtool.out" ] && sed 's/^/# promtool: /' "$NET_DIR/promtool.out"
metric () { awk -v m="$1" '$1 == m {print $2}' "$2"; }
check "/metrics has every family the issue asks for" bash -c "
    for m in expertnet_messages_received_total expertnet_messages_sent_total expertnet_routing_decisions_total \
             expertnet_offer_outcomes_total expertnet_outbox_depth expertnet_time_to_first_offer_seconds \
             expertnet_offer_answer_seconds expertnet_batch_seconds expertnet_store_bytes \
             expertnet_connections_refused_total expertnet_operator_actions_total; do
        grep -q \"^# TYPE \$m \" '$NET_DIR/metrics1' || { echo missing \$m; exit 1; }
    done"
check_eq "operator actions are counted" "1 1 2" \
    "$(for a in close escalate reoffer; do metric "expertnet_operator_actions_total{action=\"$a\"}" "$NET_DIR/metrics1"; done | xargs)"
submits1=$(metric 'expertnet_messages_received_total{command="SUBMIT"}' "$NET_DIR/metrics1")
first1=$(metric expertnet_time_to_first_offer_seconds_count "$NET_DIR/metrics1")
R3=$(en ijsselland --json request submit --urgency regulier --type consultatie-advies --expertise trauma --age-band 18-23 | jq -r .id)
wait_state "$R3" offered || not_ok "request $R3 offered"
http GET /metrics -H "Authorization: Bearer $TOKEN" >/dev/null
cp "$NET_DIR/body" "$NET_DIR/metrics2"
check_eq "a submit moves the SUBMIT counter by one" "$((submits1 + 1))" \
    "$(metric 'expertnet_messages_received_total{command="SUBMIT"}' "$NET_DIR/metrics2")"
check_eq "... and the time-to-first-offer histogram by one" "$((first1 + 1))" \
    "$(metric expertnet_time_to_first_offer_seconds_count "$NET_DIR/metrics2")"
check "the store size is reported" bash -c "[ \"\$(awk '\$1 == \"expertnet_store_bytes\" {print int(\$2)}' '$NET_DIR/metrics2')\" -gt 0 ]"

# --- Sessions end; failed logins lock ------------------------------------
check_exit "removing an operator removes its tokens" 0 ctlb operator-remove '{"name": "bert"}'
check_eq "... so the token no longer works" "401" "$(http GET /api/me -H "Authorization: Bearer $TOKEN")"
check_eq "logout (with the form's CSRF token)" "303" "$(http POST /logout -b "$COOKIES" -d "csrf=$CSRF")"
check_eq "after logout the session cookie is no login" "401" "$(http GET /api/me -b "$COOKIES")"

ctlb operator-add '{"name": "carla", "password": "carla her password"}' >/dev/null
codes=""
for i in 1 2 3 4 5; do codes="$codes $(http POST /login -d name=carla -d password=wrong-$i)"; done
check_eq "five wrong passwords: 401 each" " 401 401 401 401 401" "$codes"
check_eq "then even the right password is refused: locked (429)" "429" \
    "$(http POST /login -d name=carla --data-urlencode 'password=carla her password')"
check "... with Retry-After" bash -c "[ \"\$(grep -i '^Retry-After:' '$NET_DIR/headers' | tr -dc 0-9)\" -ge 50 ]"
check "... and a message in Dutch" grep -q 'Te veel mislukte pogingen' "$NET_DIR/body"
check "failed logins are logged, without the password" \
    bash -c "grep -q 'failed login for carla from 127.0.0.1' '$NET_DIR/overijssel.log' && ! grep -q 'wrong-3' '$NET_DIR/overijssel.log'"
check_eq "the client address is locked too (another name, same address: 429)" "429" \
    "$(http POST /login -d name=anna --data-urlencode 'password=correct horse battery')"
check_eq "login attempts are counted in /metrics" "1" \
    "$(ctlb token-add '{"operator": "anna"}' | jq -r .token > "$NET_DIR/token"; http GET /metrics -H "Authorization: Bearer $(cat "$NET_DIR/token")" >/dev/null
       awk '$1 == "expertnet_web_logins_total{outcome=\"locked\"}" {print ($2 >= 2)}' "$NET_DIR/body")"

check "the broker's access log chain is intact" net_until 5 '.intact == true' enb --json audit verify --broker
check "the broker did not crash" kill -0 "$(net_pid broker)"
test_done
