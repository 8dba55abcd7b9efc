#!/usr/bin/env bash
# The node's portal server (node/en_portal.c on lib/en_http): started by
# the node when its config has a web section, on the configured port;
# the login form in Dutch, nothing but the login form without a session
# (401 on every page, JSON 401 on the panels), its own assets, the same
# security headers as the dashboard, a failed login for a name the node
# does not know, and no portal at all with address = off.
. "$(dirname "$0")/lib.sh"
for tool in curl jq; do
    command -v $tool >/dev/null || { not_ok "$tool is installed (deploy/deps.sh)"; test_done; }
done
test_init
WEB_PORT=$(free_port)
net_keys twente
net_broker || { not_ok "broker starts"; test_done; }
portal_node twente "$WEB_PORT" || { not_ok "node twente connects"; test_done; }
WEB=http://127.0.0.1:$WEB_PORT
http () {
    local method=$1 path=$2
    shift 2
    curl -s -X "$method" -o "$NET_DIR/body" -D "$NET_DIR/headers" -w '%{http_code}' "$@" "$WEB$path"
}
check "the node log says where the portal is" grep -q "portal on http://127.0.0.1:$WEB_PORT/" "$NET_DIR/twente.log"
check_eq "the login form" "200" "$(http GET /login)"
check "... in Dutch" grep -q 'Wachtwoord' "$NET_DIR/body"
check "... with the security headers" grep -qi "^Content-Security-Policy: default-src 'self'" "$NET_DIR/headers"
codes=""
for p in / /zaken /zaken/nieuw /verzoeken /verzoeken/nieuw /aanbod /beschikbaarheid /beheer/accounts \
         /beheer/experts /beheer/meldingen /beheer/privacy "/beheer/logboek?zaak=x"; do
    code=$(http GET "$p")
    [ "$code" = "401" ] && grep -q 'name="password"' "$NET_DIR/body" || codes="$codes $p:$code"
done
check_eq "every page without a session: 401 and the login form" "" "$codes"
check_eq "the accessibility statement needs no login" "200" "$(http GET /toegankelijkheid)"
check_eq "nor does a new password with the recovery code" "200" "$(http GET /herstel)"
check_eq "a live panel without a session: JSON 401" "401" "$(http GET /api/panel/home)"
check "... as JSON" jq -e '.code == 401' "$NET_DIR/body"
check_eq "a form post without a session: 401" "401" "$(http POST /zaken/nieuw -d client_id=x)"
check_eq "its stylesheet" "200" "$(http GET /static/portal.css)"
check_eq "its script" "200" "$(http GET /static/portal.js)"
check_eq "its icon" "200" "$(http GET /static/icon.svg)"
check_eq "a name the node does not know: 401" "401" "$(http POST /login -d name=niemand -d password=een-wachtwoord)"
check "... with a Dutch message" grep -q 'Onjuiste naam of wachtwoord' "$NET_DIR/body"
check "... logged" grep -q "portal: failed login for niemand from 127.0.0.1" "$NET_DIR/twente.log"
check_eq "a post from another site is refused" "403" \
    "$(http POST /login -H 'Origin: http://evil.example' -d name=niemand -d password=x)"

# address = off: no portal, the node runs as before
net_kill twente
portal_node twente "$WEB_PORT" off || not_ok "node twente connects again"
check "with address = off nothing listens on the port" bash -c "! curl -s --max-time 3 -o /dev/null '$WEB/login'"
check "the node did not crash" kill -0 "$(net_pid twente)"
test_done
