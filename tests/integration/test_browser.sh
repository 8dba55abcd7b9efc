#!/usr/bin/env bash
# The dashboard in a real browser: Debian's headless Chromium, driven by
# playwright-core (tests/browser/dashboard.js), logs in through the form,
# sees a request that a node submits while the page is open appear in
# the open-requests table without a reload, follows it to its timeline,
# and saves a screenshot of the overview (in the test's directory; to
# refresh the README's picture: EN_SCREENSHOT=docs/dashboard.png).
#
# Every dashboard page is also looked at 1280, 1440 and 390 px wide (no
# horizontal overflow, navigation inside the header) and checked with
# axe-core (no serious or critical WCAG 2.1 A/AA violation); screenshots
# of each at 1280 and 390 px land in the test's directory (kept with
# EN_SHOTS_KEEP=DIR).
#
# Needs chromium (deploy/deps.sh installs it), Node.js 18 or later (Debian
# 12's own) with npm, and playwright-core 1.61 (the last for Node.js 18)
# and axe-core in tests/browser/node_modules (installed here from
# tests/browser/package-lock.json when missing or not as locked; see
# browser_ready in lib.sh). A missing tool is installed when we are root,
# else the test fails: it never passes without having run the browser.
. "$(dirname "$0")/lib.sh"
SCREENSHOT=${EN_SCREENSHOT:-}
browser_ready curl jq
CTL=$NET_ROOT/build/tests/ctl
[ -x "$CTL" ] || { not_ok "build/tests/ctl is built (make unit-bins)"; test_done; }

test_init
WEB_PORT=$(free_port)
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
EOF
NET_BROKER_CONFIG=$NET_DIR/broker.cfg
net_keys twente ijsselland ec-overijssel
net_broker || { not_ok "broker starts"; test_done; }
for n in twente ijsselland ec-overijssel; do net_node $n; done
for n in twente ijsselland ec-overijssel; do net_wait_connected $n || { not_ok "$n connects"; test_done; }; done
"$CTL" "$NET_DIR/overijssel" operator-add '{"name": "operator", "password": "dashboard-test-wachtwoord"}' >/dev/null \
    || { not_ok "operator added"; test_done; }

# A province with some life in it, so the screenshot shows every panel
en twente expert add --id se-tw-01 --role superexpert --expertise trauma,jggz --capacity 2 >/dev/null
en twente expert add --id se-tw-02 --role superexpert --expertise autisme,lvb --capacity 1 >/dev/null
en twente expert add --id ed-tw-01 --role ervaringsdeskundige --expertise ouders-overbelast --capacity 1 >/dev/null
en ijsselland expert add --id se-ij-01 --role superexpert --expertise eetstoornis,jggz --capacity 2 >/dev/null
en ijsselland expert add --id se-ij-02 --role superexpert --expertise verslaving,trauma --capacity 1 >/dev/null
en ec-overijssel expert add --id pr-ec-01 --role procesregisseur --bovenregionaal --capacity 1 >/dev/null
net_until 10 'length == 6' enb --json broker experts || not_ok "experts published"
submit () { en "$1" --json request submit "${@:2}" | jq -r .id; }
A=$(submit twente --urgency hoog --type consultatie-advies --expertise trauma --age-band 12-17 --leefgebieden jeugdhulp,onderwijs)
wait_state "$A" offered && en twente expert accept "$A-o1" >/dev/null
B=$(submit ijsselland --urgency regulier --type consultatie-advies --expertise eetstoornis --age-band 12-17)
C=$(submit twente --urgency hoog --type consultatie-advies --expertise gedrag,3-milieu --age-band 12-17)
D=$(submit ijsselland --urgency regulier --type consultatie-advies --expertise verslaving --age-band 18-23)
wait_state "$C" escalated
E=$(submit twente --urgency hoog --type organiseren-hulp --expertise wonen --age-band 18-23)
wait_state "$E" hiaat || not_ok "a hiaat for the picture"
wait_state "$A" accepted || not_ok "an accepted request for the picture"

node_status=0
EN_URL="http://127.0.0.1:$WEB_PORT" EN_NAME=operator EN_PASSWORD=dashboard-test-wachtwoord \
EN_SCREENSHOT="$NET_DIR/dashboard.png" EN_SHOTS="$NET_DIR" \
EN_SUBMIT="'$NET_BIN/expertnet' --node '$NET_DIR/twente' --json request submit --urgency crisis --type consultatie-advies --expertise trauma --age-band 12-17 --situatie crisis" \
    timeout 180 node "$BROWSER_DIR/dashboard.js" || node_status=$?
[ $node_status -eq 0 ] && ok "the browser test passed" || not_ok "the browser test passed (exit $node_status)"
if [ -s "$NET_DIR/dashboard.png" ]; then
    #  A test run changes no tracked file unless asked to
    if [ -n "$SCREENSHOT" ]; then
        mkdir -p "$(dirname "$SCREENSHOT")"
        cp "$NET_DIR/dashboard.png" "$SCREENSHOT"
    fi
    ok "screenshot saved${SCREENSHOT:+ as $SCREENSHOT}"
    if [ -n "${EN_SHOTS_KEEP:-}" ]; then
        mkdir -p "$EN_SHOTS_KEEP" && cp "$NET_DIR"/dashboard-*.png "$EN_SHOTS_KEEP"/
    fi
else
    not_ok "screenshot saved"
fi
test_done
