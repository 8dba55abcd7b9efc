#!/usr/bin/env bash
# The dashboard over TLS served by the broker itself (web/tls_cert and
# web/tls_key: libmicrohttpd with GnuTLS): a throwaway self-signed
# certificate made here, HTTPS that curl trusts only through that
# certificate, plain HTTP refused on that port, the session cookie
# marked Secure, and a broker that refuses to start its dashboard on
# a key that does not load (and says so) while it keeps routing.
. "$(dirname "$0")/lib.sh"
for tool in curl openssl jq; do
    command -v $tool >/dev/null || { not_ok "$tool is installed (deploy/deps.sh)"; test_done; }
done
CTL=$NET_ROOT/build/tests/ctl
[ -x "$CTL" ] || { not_ok "build/tests/ctl is built (make unit-bins)"; test_done; }
test_init
WEB_PORT=$(free_port)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$NET_DIR/web.key" -out "$NET_DIR/web.crt" >/dev/null 2>&1 \
    || { not_ok "openssl makes a self-signed certificate"; test_done; }
chmod 600 "$NET_DIR/web.key"
s_config () {
    cat <<CFG
broker
    name = overijssel
    heartbeat = 500ms
    regions
        twente
web
    address = 127.0.0.1:$WEB_PORT
    tls_cert = $NET_DIR/web.crt
    tls_key = $1
CFG
}
s_config "$NET_DIR/web.key" > "$NET_DIR/broker.cfg"
NET_BROKER_CONFIG=$NET_DIR/broker.cfg
test_network twente
WEB=https://127.0.0.1:$WEB_PORT
check "the broker log says the dashboard is on https" \
    grep -q "dashboard on https://127.0.0.1:$WEB_PORT/" "$NET_DIR/overijssel.log"
check_eq "HTTPS with the certificate as CA: the login form" "200" \
    "$(curl -s --cacert "$NET_DIR/web.crt" -o "$NET_DIR/body" -w '%{http_code}' "$WEB/login")"
check "... which is the dashboard's" grep -q 'name="password"' "$NET_DIR/body"
check "HTTPS without trusting the certificate fails" \
    bash -c "! curl -s -o /dev/null '$WEB/login'"
check "plain HTTP on the TLS port gets no page" \
    bash -c "! curl -s --max-time 5 -o '$NET_DIR/plain' 'http://127.0.0.1:$WEB_PORT/login' || ! grep -q password '$NET_DIR/plain'"
"$CTL" "$NET_DIR/overijssel" operator-add '{"name": "anna", "password": "correct horse battery"}' >/dev/null
code=$(curl -s --cacert "$NET_DIR/web.crt" -o /dev/null -D "$NET_DIR/headers" -w '%{http_code}' \
       -d name=anna --data-urlencode 'password=correct horse battery' "$WEB/login")
check_eq "login over HTTPS" "303" "$code"
check "the session cookie is Secure, HttpOnly, SameSite=Strict" \
    bash -c "grep -i '^Set-Cookie: en_session=' '$NET_DIR/headers' | grep -q 'HttpOnly; SameSite=Strict.*; Secure'"
cookie=$(grep -i '^Set-Cookie: en_session=' "$NET_DIR/headers" | sed 's/.*en_session=\([0-9a-f]*\).*/\1/')
check_eq "the session works over HTTPS" "anna" \
    "$(curl -s --cacert "$NET_DIR/web.crt" -b "en_session=$cookie" "$WEB/api/me" | jq -r .operator)"
check "security headers over HTTPS too" \
    bash -c "curl -s --cacert '$NET_DIR/web.crt' -D - -o /dev/null '$WEB/login' | grep -qi \"^Content-Security-Policy: default-src 'self'\""

# A key that does not load: no dashboard, said in the log; the broker runs on
net_kill broker
echo "not a key" > "$NET_DIR/bad.key"
s_config "$NET_DIR/bad.key" > "$NET_DIR/broker.cfg"
net_broker || not_ok "the broker starts with a bad TLS key"
check "... and logs that the dashboard did not start" \
    grep -q "dashboard not started: cannot listen on 127.0.0.1:$WEB_PORT.*TLS" "$NET_DIR/overijssel.log"
check "... nothing listens on the web port" \
    bash -c "! curl -s --max-time 3 --cacert '$NET_DIR/web.crt' -o /dev/null '$WEB/login'"
test_done
