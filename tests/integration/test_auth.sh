#!/usr/bin/env bash
# test_auth - who may talk to the broker (docs/protocol.md, "Security").
#
#   1. a node whose key is not enrolled is refused at the CURVE handshake,
#      and the broker logs and counts the refusal;
#   2. enrolling its key admits it at its next handshake, without a
#      broker restart;
#   3. revoking it (again without restart) stops the broker from taking
#      anything from it: a request submitted meanwhile stays queued at the
#      node (not rejected) and reaches the broker after re-enrollment;
#   4. a node configured with the wrong broker key never connects;
#   5. a node given a new key pair, enrolled again under its name (the
#      file in enrolled/ is overwritten), connects with the new key, and
#      the old key is refused -- without a broker restart;
#   6. what counts as enrolled (any file below enrolled/ except *_secret
#      and hidden files), for the handshake and the broker's table of
#      names alike (docs/protocol.md, "Enrollment").
. "$(dirname "$0")/lib.sh"
PROBE=$NET_ROOT/build/tests/probe

# connected_within SECS NAME: the node reports connected within SECS.
connected_within () {
    net_until "$1" '.connected == true' en "$2" --timeout 500 --json node status
}

# never_connected SECS NAME: the node does not report connected during SECS.
never_connected () { ! connected_within "$@"; }

# disconnected_within SECS NAME: the node reports not connected within SECS.
disconnected_within () {
    net_until "$1" '.connected == false' en "$2" --timeout 500 --json node status
}

# json_true FILTER: stdin (JSON) satisfies the jq filter.
json_true () { jq -e "$1" >/dev/null 2>&1; }

# probe_hello NAME [SERVER_CERT [KEY_DIR]]: HELLO with NAME's key pair (in
# $NET_DIR/NAME/keys or KEY_DIR); exit 0 on WELCOME.
probe_hello () {
    "$PROBE" --endpoint "tcp://127.0.0.1:$NET_PORT" --cert-dir "${3:-$NET_DIR/$1/keys}" --name "$1" \
        --server-cert "${2:-$NET_DIR/$NET_BROKER/keys/$NET_BROKER.cert}" --region "${PROBE_REGION:-twente}" hello
}

# absent_for SECS ID: the broker does not have request ID at any time
# during SECS seconds.
absent_for () {
    ! net_until "$1" ".id == \"$2\"" broker_request "$2"
}

test_init
net_keys                                # the broker's key pair only
mkdir -p "$NET_DIR/$NET_BROKER/enrolled/extra"     # for part 6
net_broker || exit 1
broker_pid=$(net_pid broker)

# --- 1. not enrolled: refused at the handshake -------------------------
"$NET_BIN/expertnet" keygen --name intruder --dir "$NET_DIR/intruder/keys" >/dev/null
cp "$NET_DIR/$NET_BROKER/keys/$NET_BROKER.cert" "$NET_DIR/intruder/keys/broker.cert"
NET_REGION=twente net_node intruder
check "unenrolled node does not connect within 3 s" never_connected 3 intruder
check_eq "unenrolled node reports connected = false" false \
    "$(en intruder --json node status 2>/dev/null | jq .connected)"
check_exit "probe with the unenrolled key gets no WELCOME" 1 probe_hello intruder
status=$(enb --json broker status 2>/dev/null)
check "broker counts refused connections (connections_refused > 0)" json_true '.connections_refused > 0' <<< "$status"
check "broker does not list the unenrolled node" json_true '[.nodes[] | select(.name == "intruder")] | length == 0' <<< "$status"
check "broker log has a 'refused' line for the handshake" \
    grep -Eq 'refused [0-9]+ connection.*CURVE key not enrolled' "$NET_DIR/$NET_BROKER.log"
check_eq "no node row for the unenrolled key" 0 \
    "$(sql "$NET_DIR/$NET_BROKER/broker.db" "select count(*) from nodes where name = 'intruder'")"

# --- 2. enrollment takes effect without a restart ----------------------
"$NET_BIN/expertnet" enroll "$NET_DIR/intruder/keys/intruder.cert" --broker "$NET_DIR/$NET_BROKER" --region twente --replace >/dev/null
check "enrolled node connects" net_wait_connected intruder
check_eq "broker was not restarted" "$broker_pid" "$(net_pid broker)"
check "broker process still the same and alive" kill -0 "$broker_pid"
check "broker lists the node as connected" \
    net_until 3 '[.nodes[] | select(.name == "intruder" and .connected)] | length == 1' enb --json broker status
check_exit "probe with the enrolled key gets WELCOME" 0 probe_hello intruder

# --- 3. revocation takes effect without a restart ----------------------
"$NET_BIN/expertnet" revoke intruder --broker "$NET_DIR/$NET_BROKER" >/dev/null
check "revoked node reports not connected" disconnected_within 5 intruder
submitted=$(en intruder --json request submit --urgency hoog --type consultatie-advies \
    --expertise trauma --age-band 12-17 --wait 0 2>/dev/null)
request=$(jq -r '.id // empty' <<< "$submitted")
check "request submitted at the revoked node" test -n "$request"
check "broker does not take the request from a revoked node (3 s)" absent_for 3 "$request"
check_eq "revoked node still reports not connected" false \
    "$(en intruder --json node status 2>/dev/null | jq .connected)"
check_eq "request stays queued at the node (not rejected)" queued \
    "$(en intruder --json request show "$request" 2>/dev/null | jq -r .state)"
check "broker no longer counts the revoked node as connected" \
    net_until 3 '[.nodes[] | select(.name == "intruder" and .connected)] | length == 0' enb --json broker status
check_exit "probe with the revoked key gets no WELCOME" 1 probe_hello intruder
check_eq "broker was not restarted" "$broker_pid" "$(net_pid broker)"

# Re-enrolled: the queued request goes out (any state at the broker will do).
"$NET_BIN/expertnet" enroll "$NET_DIR/intruder/keys/intruder.cert" --broker "$NET_DIR/$NET_BROKER" --region twente --replace >/dev/null
check "re-enrolled node connects again" connected_within 10 intruder
check "the queued request reaches the broker after re-enrollment" \
    net_until 10 ".id == \"$request\"" broker_request "$request"
check_eq "the broker has it from the intruder node" intruder \
    "$(broker_request "$request" | jq -r '.origin // empty')"
check "the node learns the broker's state (no longer queued)" \
    net_until 5 '.state != "queued" and .state != "rejected"' en intruder --json request show "$request"
check_eq "broker was not restarted" "$broker_pid" "$(net_pid broker)"

# --- 4. the wrong broker key: never connects ---------------------------
NET_REGION=ijsselland net_keys stranger # enrolled, with the right broker cert...
"$NET_BIN/expertnet" keygen --name overijssel --dir "$NET_DIR/impostor/keys" >/dev/null
cp "$NET_DIR/impostor/keys/overijssel.cert" "$NET_DIR/stranger/keys/broker.cert"   # ...now the wrong one
NET_REGION=ijsselland net_node stranger
check_exit "probe with the wrong broker key gets no WELCOME" 1 \
    probe_hello stranger "$NET_DIR/impostor/keys/overijssel.cert"
check "node with the wrong broker key does not connect within 3 s" never_connected 3 stranger
check "broker does not list the node with the wrong broker key" \
    json_true '[.nodes[] | select(.name == "stranger")] | length == 0' <<< "$(enb --json broker status 2>/dev/null)"
check "the intruder node stays connected meanwhile" connected_within 3 intruder

# --- 5. a new key pair for a node, enrolled under the same name ---------
net_kill intruder
mkdir -p "$NET_DIR/oldkeys"
mv "$NET_DIR/intruder/keys/intruder.cert" "$NET_DIR/intruder/keys/intruder.cert_secret" \
   "$NET_DIR/intruder/keys/intruder.sign_secret" "$NET_DIR/oldkeys/"
"$NET_BIN/expertnet" keygen --name intruder --dir "$NET_DIR/intruder/keys" >/dev/null
"$NET_BIN/expertnet" enroll "$NET_DIR/intruder/keys/intruder.cert" --broker "$NET_DIR/$NET_BROKER" --region twente --replace >/dev/null
NET_REGION=twente net_node intruder
check "node with a new key pair connects after enrolling it again" connected_within 6 intruder
check_exit "probe with the new key gets WELCOME" 0 probe_hello intruder
check_exit "probe with the replaced (old) key gets no WELCOME" 1 \
    probe_hello intruder "$NET_DIR/$NET_BROKER/keys/$NET_BROKER.cert" "$NET_DIR/oldkeys"

# --- 6. what counts as enrolled ------------------------------------------
for name in subdir plainfile; do
    "$NET_BIN/expertnet" keygen --name $name --dir "$NET_DIR/$name/keys" >/dev/null
    cp "$NET_DIR/$NET_BROKER/keys/$NET_BROKER.cert" "$NET_DIR/$name/keys/broker.cert"
done
# The handshake admits exactly the keys in the broker's table of names
# (every file below enrolled/ except *_secret and hidden ones, re-read
# when the tree changes), so whatever passes it is also heard.
cp "$NET_DIR/subdir/keys/subdir.cert" "$NET_DIR/$NET_BROKER/enrolled/extra/subdir.cert"
net_node subdir         # copied by hand: no region recorded, so bound to its name
check "node enrolled in a subdirectory of enrolled/ connects" connected_within 8 subdir
cp "$NET_DIR/plainfile/keys/plainfile.cert" "$NET_DIR/$NET_BROKER/enrolled/plainfile.pub"
net_node plainfile
# (the broker admits a new enrollment within half a retry interval)
check "the broker lists plainfile as enrolled" \
    net_until 5 '[.enrolled[] | select(.name == "plainfile")] | length == 1' enb --json broker status
PROBE_REGION=plainfile check_exit "probe with a key enrolled as plainfile.pub gets WELCOME" 0 probe_hello plainfile
check "node enrolled as plainfile.pub connects" connected_within 8 plainfile
# A secret file dropped into enrolled/ by mistake enrolls nobody
"$NET_BIN/expertnet" keygen --name secretonly --dir "$NET_DIR/secretonly/keys" >/dev/null
cp "$NET_DIR/$NET_BROKER/keys/$NET_BROKER.cert" "$NET_DIR/secretonly/keys/broker.cert"
cp "$NET_DIR/secretonly/keys/secretonly.cert_secret" "$NET_DIR/$NET_BROKER/enrolled/"
net_node secretonly
check "a key present only as *_secret in enrolled/ never connects (3 s)" never_connected 3 secretonly
check "broker does not list it" \
    json_true '[.nodes[] | select(.name == "secretonly")] | length == 0' <<< "$(enb --json broker status 2>/dev/null)"
check_eq "broker was not restarted" "$broker_pid" "$(net_pid broker)"
check "broker process still alive" kill -0 "$broker_pid"

# On failure lib.sh prints the tail of every $NET_DIR/*.log; keep that to
# the broker and intruder so the failed checks stay in sight (tests/run.sh
# shows the last 40 lines). The other nodes' logs stay in $NET_DIR/nodes.
mkdir -p "$NET_DIR/nodes"
mv "$NET_DIR"/{stranger,subdir,plainfile,secretonly}.log "$NET_DIR/nodes/" 2>/dev/null
test_done
