#!/usr/bin/env bash
# test_enrolled - what an enrolled party can claim, and what enrolled/ may
# hold (docs/protocol.md, "Enrollment" and "Region binding").
#
#   1. a node speaks only for the region it was enrolled for: a HELLO
#      naming another region is refused (403, logged), so its experts and
#      requests never reach the broker; `broker status` shows the binding;
#   2. nothing in enrolled/ crashes the broker: a backup copy of a
#      certificate (two files, one key), a secret file of an enrolled key,
#      garbage and an empty file are skipped with a log line, before and
#      after a restart, and every handshake (even an unenrolled one) is
#      answered;
#   3. `expertnet enroll` refuses to replace a different certificate of the
#      same name unless --replace is given; enrolling the same one again
#      is harmless; one name has one key (a backup of a replaced
#      certificate admits nobody); `revoke` removes every file naming
#      the node;
#   4. revoking a node ends its session, withdraws its experts and routes
#      their open offers again, and status shows it revoked.
. "$(dirname "$0")/lib.sh"
PROBE=$NET_ROOT/build/tests/probe
ENROLLED=

# probe_hello NAME REGION [KEY_DIR]: HELLO with NAME's key claiming REGION;
# exit 0 on WELCOME.
probe_hello () {
    "$PROBE" --endpoint "tcp://127.0.0.1:$NET_PORT" --cert-dir "${3:-$NET_DIR/$1/keys}" --name "$1" \
        --server-cert "$NET_DIR/$NET_BROKER/keys/$NET_BROKER.cert" --region "$2" hello
}
json_true () { jq -e "$1" >/dev/null 2>&1; }
connected_within () { net_until "$1" '.connected == true' en "$2" --timeout 500 --json node status; }
never_connected () { ! connected_within "$@"; }
# logged_within SECS FILE TEXT: TEXT appears in FILE within SECS.
logged_within () {
    local i
    for i in $(seq $(( $1 * 10 ))); do grep -qF -- "$3" "$2" && return 0; sleep 0.1; done
    return 1
}
enrolled_key () { enb --json broker status | jq -r --arg n "$1" '.enrolled[] | select(.name == $n) | .key'; }

test_init
test_network twente ijsselland
ENROLLED=$NET_DIR/$NET_BROKER/enrolled
broker_pid=$(net_pid broker)

# --- 1. the region is bound at enrollment ------------------------------
check_exit "twente's key claiming region ijsselland gets no WELCOME" 1 probe_hello twente ijsselland
check "the broker logs why" \
    grep -q "node 'twente' is enrolled for region 'twente', not 'ijsselland'" "$NET_DIR/$NET_BROKER.log"
check_exit "twente's key claiming its own region gets WELCOME" 0 probe_hello twente twente

"$NET_BIN/expertnet" keygen --name rogue --dir "$NET_DIR/rogue/keys" >/dev/null
cp "$NET_DIR/$NET_BROKER/keys/$NET_BROKER.cert" "$NET_DIR/rogue/keys/broker.cert"
out=$("$NET_BIN/expertnet" enroll "$NET_DIR/rogue/keys/rogue.cert" --broker "$NET_DIR/$NET_BROKER" --region ijsselland)
check "enroll says which region it bound" grep -q "for region ijsselland" <<< "$out"
NET_REGION=twente net_node rogue               # configured as twente, enrolled as ijsselland
net_until 5 '.' en rogue --timeout 500 --json node status
en rogue expert add --id se-rogue-01 --role superexpert --expertise trauma --capacity 1 >/dev/null
check "a node claiming another region than enrolled never connects (3 s)" never_connected 3 rogue
check "its node logs the refusal" logged_within 5 "$NET_DIR/rogue.log" \
    "broker refuses this node: 403 node 'rogue' is enrolled for region 'ijsselland', not 'twente'"
check "its expert is not published" \
    json_true '[.[] | select(.id == "se-rogue-01")] | length == 0' <<< "$(enb --json broker experts)"
status=$(enb --json broker status)
check_eq "broker status shows twente bound to twente" twente \
    "$(jq -r '.enrolled[] | select(.name == "twente") | .region' <<< "$status")"
check_eq "broker status shows rogue bound to ijsselland" ijsselland \
    "$(jq -r '.enrolled[] | select(.name == "rogue") | .region' <<< "$status")"
check "the text status lists enrollments" grep -Eq '^ +rogue +ijsselland$' <<< "$(enb broker status)"
check_exit "a bad --region is a usage error" 2 \
    "$NET_BIN/expertnet" enroll "$NET_DIR/rogue/keys/rogue.cert" --broker "$NET_DIR/$NET_BROKER" --region "Twente!"
net_kill rogue
NET_REGION=ijsselland net_node rogue
check "the same node configured with its enrolled region connects" connected_within 10 rogue
en rogue expert add --id se-rogue-02 --role superexpert --expertise trauma --capacity 1 >/dev/null
check "and publishes its experts" \
    net_until 10 '[.[] | select(.id == "se-rogue-02")] | length == 1' enb --json broker experts

# --- 2. stray files in enrolled/ -----------------------------------------
cp "$ENROLLED/twente.cert" "$ENROLLED/twente.cert.bak"
cp "$NET_DIR/twente/keys/twente.cert_secret" "$ENROLLED/twente.cert_secret"
head -c 300 /dev/urandom > "$ENROLLED/garbage.cert"
: > "$ENROLLED/empty.cert"
printf 'metadata\n    name = "broken"\ncurve\n    public-key = "not-a-z85-key-at-all-not-a-z85-key-at-a"\n' > "$ENROLLED/broken.cert"
"$NET_BIN/expertnet" keygen --name nobody --dir "$NET_DIR/nobody/keys" >/dev/null
check_exit "an unenrolled handshake after the stray files gets no WELCOME" 1 probe_hello nobody twente
check "the broker is still running" kill -0 "$broker_pid"
check_exit "and still welcomes twente" 0 probe_hello twente twente
check "it logs the copy it skipped" \
    grep -q "enrolled/twente.cert.bak holds the key already enrolled as 'twente' (a copy?); ignored" "$NET_DIR/$NET_BROKER.log"
check "it logs the file that is not a certificate" \
    grep -q "enrolled/garbage.cert is not a certificate; ignored" "$NET_DIR/$NET_BROKER.log"
check "and the undecodable key" grep -q "enrolled/broken.cert is not a certificate; ignored" "$NET_DIR/$NET_BROKER.log"
request=$(en twente --json request submit --urgency regulier --type consultatie-advies --expertise trauma \
          --age-band 12-17 | jq -r ".id // empty")
check "twente's requests still reach the broker" net_until 10 ".id == \"$request\"" broker_request "$request"
net_kill broker
net_broker || not_ok "broker restarts with the stray files in enrolled/"
broker_pid=$(net_pid broker)
check_exit "after a restart an unenrolled handshake gets no WELCOME" 1 probe_hello nobody twente
check "the restarted broker is still running" kill -0 "$broker_pid"
check "twente reconnects to it" net_wait_connected twente

# --- 3. enroll does not silently replace another key ---------------------
old_key=$(enrolled_key twente)
"$NET_BIN/expertnet" keygen --name twente --dir "$NET_DIR/other/keys" >/dev/null
check_exit "enrolling another key under an enrolled name is refused" 1 \
    "$NET_BIN/expertnet" enroll "$NET_DIR/other/keys/twente.cert" --broker "$NET_DIR/$NET_BROKER"
check "the refusal says how to replace it" grep -q "already enrolled at .* with another key .*--replace" "$NET_DIR/stderr"
check_eq "the enrolled key is unchanged" "$old_key" "$(enrolled_key twente)"
check_exit "enrolling the same certificate again is fine" 0 \
    "$NET_BIN/expertnet" enroll "$NET_DIR/twente/keys/twente.cert" --broker "$NET_DIR/$NET_BROKER"
check_exit "--replace replaces it" 0 \
    "$NET_BIN/expertnet" enroll "$NET_DIR/other/keys/twente.cert" --broker "$NET_DIR/$NET_BROKER" --replace
new_key=$(sed -n 's/.*public-key = "\(.*\)"/\1/p' "$NET_DIR/other/keys/twente.cert")
check "the broker now has the new key, once" \
    net_until 5 "[.enrolled[] | select(.name == \"twente\") | .key] == [\"$new_key\"]" enb --json broker status
check_exit "and refuses the old one at the handshake, backup copy or not" 1 probe_hello twente twente
check "it logs that the backup holds another key for twente" \
    grep -q "enrolled/twente.cert.bak holds another key for 'twente' than the one enrolled" "$NET_DIR/$NET_BROKER.log"
cp "$ENROLLED/twente.cert" "$ENROLLED/twente-copy.pub"
out=$("$NET_BIN/expertnet" revoke twente --broker "$NET_DIR/$NET_BROKER")
check "revoke removes every file naming the node (the enrolled one, the backup, a copy)" \
    grep -q "twente revoked (3 certificate files removed)" <<< "$out"
check "no file below enrolled/ names twente any more" \
    bash -c "! grep -rIlq 'name = \"twente\"' '$ENROLLED' --exclude='*_secret'"
check "the broker no longer lists twente as enrolled" \
    net_until 5 '[.enrolled[] | select(.name == "twente")] | length == 0' enb --json broker status

# --- 4. revocation reaches the session, the experts and their offers ----
#   rogue (region ijsselland) holds the only trauma experts; ijsselland
#   asks for trauma: the offer goes to rogue's expert; then rogue is revoked.
request=$(en ijsselland --json request submit --urgency regulier --type consultatie-advies --expertise trauma \
          --age-band 12-17 | jq -r ".id // empty")
check "the trauma request is offered to rogue's expert" \
    net_until 10 '.offers_open[0].expert | startswith("se-rogue-")' broker_request "$request"
"$NET_BIN/expertnet" revoke rogue --broker "$NET_DIR/$NET_BROKER" >/dev/null
check "after the revocation the offer is withdrawn and the request routed again (hiaat: nobody else)" \
    wait_state "$request" hiaat 10
check "its events say why" json_true '[.events[] | select(.type == "revoked")] | length == 1' <<< "$(broker_request "$request")"
check "rogue's experts are no longer listed" \
    json_true '[.[] | select(.id | startswith("se-rogue-"))] | length == 0' <<< "$(enb --json broker experts)"
check_eq "broker status shows rogue as not enrolled" false \
    "$(enb --json broker status | jq -r '.nodes[] | select(.name == "rogue") | .enrolled')"
check "the text status says REVOKED" grep -Eq '^ +rogue +.*REVOKED' <<< "$(enb broker status)"
check "the node learns it is refused" \
    net_until 10 '.connected == false' en rogue --timeout 500 --json node status
check "the broker logs the revocation" grep -Eq "node rogue revoked: its experts withdrawn, [0-9]+ open offer\(s\) routed again" \
    "$NET_DIR/$NET_BROKER.log"
check "the broker is still running at the end" kill -0 "$broker_pid"
test_done
