#!/usr/bin/env bash
# A pause of a broker is not its peer's silence (issue 10, item 11).
# Overijssel's broker is stopped (SIGSTOP) for many heartbeats while
# Gelderland stays up; a crisis request Overijssel cannot serve is
# submitted meanwhile and waits in its socket. When Overijssel runs again
# (SIGCONT) the request is forwarded to Gelderland at once, never a
# hiaat, and the link is not dropped.
. "$(dirname "$0")/lib.sh"
test_init
OPORT=$NET_PORT
GPORT=$(free_port)
net_fed_keys overijssel gelderland
NET_BROKER=overijssel net_keys twente
NET_BROKER=gelderland net_keys achterhoek
net_on gelderland "$GPORT"
net_broker --set web/address=off --set "federation/peers/overijssel/endpoint=tcp://127.0.0.1:$OPORT" \
    || { not_ok "gelderland starts"; test_done; }
net_node achterhoek
net_on overijssel "$OPORT"
net_broker --set web/address=off --set "federation/peers/gelderland/endpoint=tcp://127.0.0.1:$GPORT" \
    || { not_ok "overijssel starts"; test_done; }
net_node twente
for n in twente achterhoek; do
    net_wait_connected "$n" || { not_ok "$n connects"; test_done; }
done
en achterhoek expert add --id se-ah-trauma --role superexpert --expertise trauma --capacity 3 >/dev/null \
    || not_ok "add expert se-ah-trauma"

st () { "$NET_BIN/expertnet" --broker "$NET_DIR/overijssel" --json broker status; }
show () { "$NET_BIN/expertnet" --broker "$NET_DIR/$1" --json broker show "$2"; }
check "overijssel's link to gelderland is up" net_until 15 '.links[0].state == "up"' st
check "overijssel learns gelderland's free places" net_until 10 '.links[0].advert.free >= 3' st
UP_SINCE=$(st | jq -r '.links[0].up_since')

# Overijssel stops for 3 s (six heartbeats of 500 ms); the request is
# submitted at twente meanwhile and waits for the broker
PID=$(net_pid broker-overijssel)
kill -STOP "$PID"
sleep 1
R=$(en twente --json request submit --urgency crisis --type consultatie-advies --expertise trauma \
        --age-band 12-17 | jq -r .id)
[ -n "$R" ] && ok "a crisis request is submitted while overijssel is stopped" \
    || not_ok "a crisis request is submitted while overijssel is stopped"
sleep 2
kill -CONT "$PID"

check "after the pause the crisis request is offered at gelderland" \
    net_until 15 '.state == "offered" and .peer == "gelderland"' show overijssel "$R"
check_eq "it was forwarded at once, never a hiaat" "submitted forwarded" \
    "$(show overijssel "$R" | jq -r '[.events[].type | select(. == "submitted" or . == "forwarded" or . == "hiaat" or . == "rerouted")] | join(" ")')"
check_eq "the link was not dropped (same session)" "$UP_SINCE" "$(st | jq -r '.links[0].up_since')"
check "the pause was noticed as this broker's own" \
    grep -q "this broker did not run for" "$NET_DIR/overijssel.log"
check_eq "no 'lost contact with gelderland'" "0" \
    "$(grep -c 'lost contact with gelderland' "$NET_DIR/overijssel.log")"
test_done
