#!/usr/bin/env bash
# The node portal's pages in a real browser: headless Chromium driven by
# playwright-core (tests/browser/portal.js) against the portal server in
# front of a stand-in node loop with synthetic data
# (build/tests/portal_stub). Each role logs in through the form; every
# page of every role, and the public ones, is checked at 1280 and 390 px
# with axe-core (no serious or critical WCAG 2.1 A/AA violation) and for
# horizontal overflow. Screenshots land in the test's directory
# (EN_SHOTS_KEEP=DIR keeps them). What the pages do against a real node
# is tests/integration/test_portal.sh and the unit tests.
. "$(dirname "$0")/lib.sh"
browser_ready
STUB=$NET_ROOT/build/tests/portal_stub
[ -x "$STUB" ] || { not_ok "build/tests/portal_stub is built (make unit-bins)"; test_done; }
test_init
# (a port free when picked may be taken before the stub binds it: try three)
for try in 1 2 3; do
    PORT=$(free_port)
    "$STUB" "$PORT" > "$NET_DIR/portal_stub.log" 2>&1 &
    STUB_PID=$!
    for i in $(seq 100); do grep -q '^ready on' "$NET_DIR/portal_stub.log" && break; sleep 0.1; done
    grep -q '^ready on' "$NET_DIR/portal_stub.log" && break
    kill $STUB_PID 2>/dev/null
    wait $STUB_PID 2>/dev/null
done
net_track portal_stub $STUB_PID
check "the portal stub runs" grep -q '^ready on' "$NET_DIR/portal_stub.log"
status=0
EN_URL="http://127.0.0.1:$PORT" EN_SHOTS="$NET_DIR" timeout 180 node "$BROWSER_DIR/portal.js" || status=$?
[ $status -eq 0 ] && ok "the portal's browser test passed" || not_ok "the portal's browser test passed (exit $status)"
if [ -n "${EN_SHOTS_KEEP:-}" ]; then
    mkdir -p "$EN_SHOTS_KEEP" && cp "$NET_DIR"/portal-*.png "$EN_SHOTS_KEEP"/ 2>/dev/null
fi
test_done
