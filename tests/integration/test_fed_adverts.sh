#!/usr/bin/env bash
# Federation adverts at size: a province whose experts have many distinct
# expertise sets advertises far more than one message may carry (64 KiB).
# The snapshot goes in pieces; the peer gets every entry, and again, under
# a new epoch, after the advertising broker restarts.
. "$(dirname "$0")/lib.sh"
test_init
OPORT=$NET_PORT
GPORT=$(free_port)
net_fed_keys overijssel gelderland
NET_BROKER=gelderland net_keys achterhoek foodvalley rivierenland
start_gelderland () {
    net_on gelderland "$GPORT"
    net_broker --set "federation/peers/overijssel/endpoint=tcp://127.0.0.1:$OPORT"
}
net_on overijssel "$OPORT"
net_broker --set web/address=off --set "federation/peers/gelderland/endpoint=tcp://127.0.0.1:$GPORT" \
    || { not_ok "overijssel starts"; test_done; }
start_gelderland || { not_ok "gelderland starts"; test_done; }
for n in achterhoek foodvalley rivierenland; do net_node "$n"; done
for n in achterhoek foodvalley rivierenland; do
    net_wait_connected "$n" || { not_ok "$n connects"; test_done; }
done

# 3 nodes x 40 experts, each with its own set of 32 long tags: about
# 1.3 KB per advert entry, 120 entries
tags=""
for t in $(seq 1 31); do tags="$tags,\"een-lange-expertise-tag-nummer-$t\""; done
added=0
for n in achterhoek foodvalley rivierenland; do
    for i in $(seq 1 40); do
        "$NET_ROOT/build/tests/ctl" "$NET_DIR/$n" expert-add \
            "{\"expert\":{\"id\":\"se-$n-$i\",\"role\":\"superexpert\",\"expertise\":[\"eigen-$n-$i\"$tags],\"capacity\":1}}" \
            >/dev/null && added=$((added + 1))
    done
done
check_eq "120 experts with distinct expertise sets" 120 "$added"

advert () { "$NET_BIN/expertnet" --broker "$NET_DIR/overijssel" --json broker status | jq -c '.links[0].advert'; }
check "overijssel receives all 120 entries (over 150 KB of adverts, in pieces)" \
    net_until 15 '.entries == 120 and .free == 120' advert
EPOCH=$(advert | jq -r .epoch)
net_kill broker-gelderland
start_gelderland || not_ok "gelderland restarts"
check "after gelderland restarts, its new snapshot (new epoch) arrives whole" \
    net_until 20 ".epoch != \"$EPOCH\" and .entries == 120" advert
check "the link is up" net_until 10 '.links[0].state == "up"' \
    "$NET_BIN/expertnet" --broker "$NET_DIR/overijssel" --json broker status
test_done
