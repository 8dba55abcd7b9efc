#!/usr/bin/env bash
# A full disk (issue 10, item 10). The data directories of the broker and
# of a node are small tmpfs file systems made here (root is needed) and
# filled with a file; freeing it lets them write again.
#   - offer expiry that cannot be written backs off (the broker spun at
#     5,000 log lines a second) and says so once, and once when it clears
#   - no transition that was rolled back is logged
#   - the CLI is told "disk full", not "could not store request"
. "$(dirname "$0")/lib.sh"
test_init
MOUNTS=()
unmount_all () {
    local m
    for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
}
trap 'rc=$?; net_stop; unmount_all; (exit $rc); test_cleanup' EXIT
# small_disk DIR MB: DIR (with what it holds) on a tmpfs of MB megabytes
small_disk () {
    local keep=$NET_DIR/keep-$(basename "$1")
    cp -a "$1" "$keep"
    mount -t tmpfs -o size="$2"m tmpfs "$1" || return 1
    MOUNTS+=("$1")
    cp -a "$keep/." "$1/"
}
fill () { dd if=/dev/zero of="$1/fill" bs=64k 2>/dev/null; sync; }
if [ "$(id -u)" -ne 0 ]; then
    not_ok "root, to mount a small tmpfs (run make test as root)"
    test_done
fi
net_keys twente
small_disk "$NET_DIR/overijssel" 16 || { not_ok "a tmpfs for the broker"; test_done; }
small_disk "$NET_DIR/twente" 16 || { not_ok "a tmpfs for the node"; test_done; }
cp "$NET_ROOT/config/overijssel.cfg" "$NET_DIR/broker.cfg"
sed -i 's/^        crisis = 4s/        crisis = 2s/; s/^    grace = 1s/    grace = 0s/' "$NET_DIR/broker.cfg"
NET_BROKER_CONFIG=$NET_DIR/broker.cfg net_broker --set web/address=off || { not_ok "broker starts"; test_done; }
net_node twente
net_wait_connected twente || { not_ok "node connects"; test_done; }
en twente expert add --id se-tw-01 --role superexpert --expertise trauma --capacity 5 >/dev/null
net_until 10 'length == 1' enb --json broker experts || not_ok "expert published"
submit () { en twente --json request submit --urgency "$1" --type consultatie-advies --expertise trauma --age-band 12-17; }

CTL=$NET_ROOT/build/tests/ctl
printf 'lang-genoeg-wachtwoord\n' > "$NET_DIR/pw-mw"
en twente node user-add mw-disk --role medewerker --password-file "$NET_DIR/pw-mw" >/dev/null \
    || not_ok "an account for the login check"

# --- the node's disk: the CLI hears "disk full"
fill "$NET_DIR/twente"
#   A login whose TOTP step cannot be recorded is refused (fail closed:
#   else that code could be used again)
check_exit "a login on a full disk is refused (its TOTP step cannot be recorded)" 1 \
    "$CTL" "$NET_DIR/twente" login-event '{"name": "mw-disk", "outcome": "ok", "totp_step": 59000000}'
out=$(submit regulier 2>&1)
check_eq "a submit on a full disk is refused (exit 1)" 1 "$?"
check "... saying 'disk full' (got: $out)" grep -q "disk full" <<< "$out"
check "... not 'could not store request' alone" bash -c "! grep -q '^expertnet: could not store' <<< '$out'"
rm -f "$NET_DIR/twente/fill"
check "with space again the same TOTP step is accepted (nothing of the refused login was kept)" \
    "$CTL" "$NET_DIR/twente" login-event '{"name": "mw-disk", "outcome": "ok", "totp_step": 59000000}'
check "with space again the submit works" bash -c "$(declare -f submit en); NET_BIN='$NET_BIN' NET_DIR='$NET_DIR'; submit regulier >/dev/null"

# --- the broker's disk: expiry backs off, logs once, logs no rolled-back transition
R=$(submit crisis | jq -r .id)
check "a crisis request is offered" wait_state "$R" offered
fill "$NET_DIR/overijssel"
BEFORE=$(wc -l < "$NET_DIR/overijssel.log")
sleep 5                         # the 2 s deadline passes, the disk stays full
LINES=$(( $(wc -l < "$NET_DIR/overijssel.log") - BEFORE ))
check "the broker does not spin: $LINES log lines in 5 s of a full disk (at most 15)" test "$LINES" -le 15
check_eq "it says once that offers cannot be expired (disk full)" 1 \
    "$(grep -c 'offers could not be expired (disk full)' "$NET_DIR/overijssel.log")"
check "no expiry that was rolled back is logged" lacks "request $R: expired" "$NET_DIR/overijssel.log"
check "the offer is still open in the store" wait_state "$R" offered 1
rm -f "$NET_DIR/overijssel/fill"
check "with space again the offer expires (within the backoff)" \
    net_until 40 '.state != "offered"' broker_request "$R"
check "the broker says once that it works again" \
    net_until 5 '. == true' bash -c "grep -q 'offers expire again' '$NET_DIR/overijssel.log' && echo true"
check_eq "the expiry is logged once, after it committed" 1 "$(grep -c "request $R: expired" "$NET_DIR/overijssel.log")"
test_done
