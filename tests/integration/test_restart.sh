#!/usr/bin/env bash
# A restarted broker resumes every offer timer where it was, after a
# grace period in which nodes can deliver answers they queued while the
# broker was down. (config/overijssel.cfg: crisis deadline 4s, grace 1s.)
. "$(dirname "$0")/lib.sh"
test_init
test_network twente
en twente expert add --id se-tw-01 --role superexpert --expertise trauma --capacity 5 >/dev/null
en twente expert add --id se-tw-02 --role superexpert --expertise trauma --capacity 5 >/dev/null
net_until 10 'length == 2' enb --json broker experts || not_ok "experts published"

submit () {
    en twente --json request submit --urgency crisis --type consultatie-advies --expertise trauma \
        --age-band 12-17 | jq -r .id
}

# 1. Timer resumes: the offer's deadline passes while the broker is down
R1=$(submit)
check "crisis request offered" wait_state "$R1" offered
FIRST=$(broker_request "$R1" | jq -r '.offers_open[0].expert')
net_kill broker KILL
sleep 5
net_broker
check "after restart the overdue offer expires and the next candidate is offered" \
    net_until 10 ".offers_open[0].expert != null and .offers_open[0].expert != \"$FIRST\"" broker_request "$R1"
check "the expiry is in the timeline" net_until 5 '[.events[].type] | index("expired") != null' broker_request "$R1"
check_eq "the expired expert's node got the offer withdrawn" "expired" \
    "$(en twente --json expert inbox --all | jq -r ".[] | select(.id == \"$R1-o1\") | .state")"

# 2. An accept queued at the node while the broker is down counts
R2=$(submit)
check "second crisis request offered" wait_state "$R2" offered
O2=$(open_offer "$R2")
net_kill broker KILL
OUT=$(en twente expert accept "$O2" --wait 1 2>&1)
check "accept while the broker is down is queued at the node" grep -q "queued at the node" <<< "$OUT"
net_broker
check "the queued accept is delivered and honoured" wait_state "$R2" accepted
check "the node sees the accept confirmed" \
    net_until 5 "map(select(.id == \"$O2\"))[0].answer_status == \"confirmed\"" en twente --json expert inbox --all
test_done
