#!/usr/bin/env bash
# SIGHUP re-reads the configuration without a restart: new offer
# deadlines apply to the next offer; the daemons keep running and keep
# their connections.
. "$(dirname "$0")/lib.sh"
test_init
net_keys twente
cp "$NET_ROOT/config/overijssel.cfg" "$NET_DIR/broker.cfg"
NET_BROKER_CONFIG=$NET_DIR/broker.cfg net_broker
net_node twente
net_wait_connected twente || { not_ok "node connects"; test_done; }
en twente expert add --id se-tw-01 --role superexpert --expertise trauma --capacity 5 >/dev/null
net_until 10 'length == 1' enb --json broker experts || not_ok "expert published"
BROKER=$(net_pid broker)

deadline_of () {   # seconds between an open offer's creation and its deadline
    enb --json broker offers | jq -r ".[] | select(.request_id == \"$1\") | ((.deadline - .created) / 1000 | round)"
}
R1=$(en twente --json request submit --urgency hoog --type consultatie-advies --expertise trauma --age-band 4-11 | jq -r .id)
wait_state "$R1" offered
check_eq "hoog deadline from the config (30s)" "30" "$(deadline_of "$R1")"

sed -i 's/^        hoog = 30s/        hoog = 2h/' "$NET_DIR/broker.cfg"
kill -HUP "$BROKER"
kill -HUP "$(net_pid twente)"
check "broker logs the reload" net_until 5 '. == true' bash -c "grep -q 'configuration reloaded' '$NET_DIR/overijssel.log' && echo true"
R2=$(en twente --json request submit --urgency hoog --type consultatie-advies --expertise trauma --age-band 4-11 | jq -r .id)
wait_state "$R2" offered
check_eq "the next offer uses the reloaded deadline (2h)" "7200" "$(deadline_of "$R2")"
check "broker still runs as the same process" kill -0 "$BROKER"
check "node still runs and stays connected" net_wait_connected twente
check "node logs the reload" grep -q "configuration reloaded" "$NET_DIR/twente.log"

# Federation peers follow the config too: the demo config's gelderland
# link (its certificate is not enrolled here), a new endpoint, then none
links () { enb --json broker status | jq -c '[.links[] | {peer, endpoint, state}]'; }
check_eq "the configured peer has a link, refused to start without its enrolled cert" \
    '[{"peer":"gelderland","endpoint":"tcp://127.0.0.1:7710","state":"not-enrolled"}]' "$(links)"
sed -i 's|endpoint = tcp://127.0.0.1:7710|endpoint = tcp://127.0.0.1:7799|' "$NET_DIR/broker.cfg"
kill -HUP "$BROKER"
check "SIGHUP: the changed peer endpoint applies" net_until 5 '.[0].endpoint == "tcp://127.0.0.1:7799"' links
sed -i '/^federation/,$d' "$NET_DIR/broker.cfg"
kill -HUP "$BROKER"
check "SIGHUP: a peer removed from the config loses its link" net_until 5 '. == []' links
printf 'federation\n    forward = sometimes\n' >> "$NET_DIR/broker.cfg"
kill -HUP "$BROKER"
check "a bad federation setting on SIGHUP is refused and logged" \
    net_until 5 '. == true' bash -c "grep -q 'federation configuration not changed' '$NET_DIR/overijssel.log' && echo true"
check "... and the broker runs on" kill -0 "$BROKER"

printf 'broker\n  name = "broken\n' > "$NET_DIR/broker.cfg"
kill -HUP "$BROKER"
check "an invalid config on SIGHUP is refused and logged" \
    net_until 5 '. == true' bash -c "grep -q 'not reloaded' '$NET_DIR/overijssel.log' && echo true"
check "... and the broker runs on" kill -0 "$BROKER"
check "routing still works afterwards" bash -c "'$NET_BIN/expertnet' --broker '$NET_DIR/overijssel' broker status >/dev/null"
test_done
