#!/usr/bin/env bash
# Accounts at the node and the expert's dossier key (issue 9, items 2-3),
# through real processes: accounts of each role; bad roles, unknown
# experts and weak passwords refused; the node's administrator, who has
# no expert's password, gets only ciphertext and cannot open a dossier;
# the expert's password opens it in the `expertnet` process; a password
# change re-wraps the key; the recovery code works once and is replaced;
# a rekey publishes a new box key (and the old dossier stays closed); the
# NEN 7513 export lists, in Dutch, who did what with one client's file.
. "$(dirname "$0")/lib.sh"
test_init
CTL=$NET_ROOT/build/tests/ctl
[ -x "$CTL" ] || { not_ok "build/tests/ctl is built (make unit-bins)"; test_done; }
test_network twente ijsselland
en ijsselland expert add --id se-ij-01 --role superexpert --expertise trauma --capacity 2 >/dev/null
en ijsselland expert add --id se-ij-02 --role superexpert --expertise autisme --capacity 2 >/dev/null
net_until 10 'length == 2' enb --json broker experts || not_ok "experts published"

pw () { printf '%s\n' "$2" > "$NET_DIR/$1"; chmod 600 "$NET_DIR/$1"; echo "$NET_DIR/$1"; }
PW_MW=$(pw pw-mw 'medewerker-wachtwoord-1')
PW_BH=$(pw pw-bh 'beheerder-wachtwoord-1')
PW1=$(pw pw-ex1 'expert-wachtwoord-een')
PW2=$(pw pw-ex2 'expert-wachtwoord-twee')
PW3=$(pw pw-ex3 'expert-wachtwoord-drie')
PW4=$(pw pw-ex4 'expert-wachtwoord-vier')
PWX=$(pw pw-x2 'ander-expert-wachtwoord')
WRONG=$(pw pw-wrong 'niet-het-wachtwoord')
SHORT=$(pw pw-short 'kort')

# --- accounts of each role ------------------------------------------------
MW=$(en twente --json node user-add mw-anna --role medewerker --email anna@example.org \
     --phone "+31 6 0000 0000" --password-file "$PW_MW")
check "a medewerker account is made, with a TOTP secret and URI" \
    jq -e '.role == "medewerker" and (.totp_secret | test("^[A-Z2-7]{32}$")) and (.totp_uri | startswith("otpauth://totp/")) and .recovery_code == null' <<< "$MW"
check "a beheerder account" en twente node user-add bh-ben --role beheerder --password-file "$PW_BH"
EX=$(en ijsselland --json node user-add ex-bram --role expert --expert se-ij-01 --password-file "$PW1")
check "an expert account gets a recovery code (24 base32 characters in groups of four)" \
    jq -e '.expert == "se-ij-01" and (.recovery_code | test("^([A-Z2-7]{4}-){5}[A-Z2-7]{4}$"))' <<< "$EX"
CODE1=$(jq -r .recovery_code <<< "$EX")
check "the plain output shows the codes once, with a warning" bash -c \
    "'$NET_BIN/expertnet' --node '$NET_DIR/ijsselland' node user-add ex-cor --role expert --expert se-ij-02 \
     --password-file '$PWX' | grep -q 'Recovery code (shown once)'"
check_exit "an unknown role is refused (1)" 1 en twente node user-add x-een --role admin --password-file "$PW_MW"
check "the error names the field" grep -q "field 'role'" "$NET_DIR/stderr"
check_exit "an expert account for an expert this node does not have is refused (4)" 4 \
    en ijsselland node user-add x-twee --role expert --expert se-bestaat-niet --password-file "$PW1"
check_exit "role expert without --expert is refused (1)" 1 en ijsselland node user-add x-drie --role expert --password-file "$PW1"
check_exit "--expert with another role is refused (1)" 1 \
    en ijsselland node user-add x-vier --role medewerker --expert se-ij-01 --password-file "$PW1"
check_exit "a second account for the same expert is refused (1)" 1 \
    en ijsselland node user-add x-vijf --role expert --expert se-ij-01 --password-file "$PW1"
check_exit "a name already taken is refused (1)" 1 en twente node user-add mw-anna --role medewerker --password-file "$PW_MW"
check_exit "a short password is refused (1)" 1 en twente node user-add x-zes --role medewerker --password-file "$SHORT"
check_exit "a malformed e-mail address is refused (1)" 1 \
    en twente node user-add x-zeven --role medewerker --email "geen-adres" --password-file "$PW_MW"
check_exit "a name that is not a name is refused (1)" 1 en twente node user-add "Anna Jansen" --role medewerker --password-file "$PW_MW"
check_exit "user-add without --role is a usage error (2)" 2 en twente node user-add x-acht --password-file "$PW_MW"
check_exit "a missing password file is a usage error (2)" 2 \
    en twente node user-add x-negen --role medewerker --password-file "$NET_DIR/bestaat-niet"
USERS=$(en twente --json node users)
check "users lists the accounts, without secrets" \
    jq -e 'length == 2 and (map(.name) | sort == ["bh-ben", "mw-anna"]) and all(.[]; has("pwhash") | not) and all(.[]; .totp == true)' <<< "$USERS"
GET=$("$CTL" "$NET_DIR/twente" user-get '{"name": "mw-anna"}')
check "user-get gives the portal the Argon2id hash, the TOTP secret and that TOTP is required" \
    jq -e --arg s "$(jq -r .totp_secret <<< "$MW")" '(.pwhash | startswith("$argon2id$")) and .totp_secret == $s and .totp_required == true and .disabled == false and .email == "anna@example.org"' <<< "$GET"
check "no password or TOTP secret in clear in the node's files" \
    bash -c "! grep -aq 'medewerker-wachtwoord-1\|$(jq -r .totp_secret <<< "$MW")' '$NET_DIR'/twente/node.db*"
check "the expert's key is now only wrapped: the vault-sealed copy is gone" \
    test "$(sql "$NET_DIR/ijsselland/node.db" "select box_secret is null and wrap_password is not null and wrap_recovery is not null from expert_keys where expert = 'se-ij-01'")" = 1
KEY=$("$CTL" "$NET_DIR/ijsselland" expert-key '{"expert": "se-ij-01"}')
check "expert-key gives the public key and the two wraps, with their Argon2id limits" \
    jq -e '(.box_public | length) == 64 and (.wrapped.password | has("salt") and has("nonce") and has("box") and .opslimit > 0 and .memlimit > 0) and (.wrapped.recovery | has("box"))' <<< "$KEY"

# --- the dossier opens for the person, not for the server -------------------
P1=$(en twente --json case add --client-id 222333444 --name "Sem Proefkind" | jq -r .case)
printf 'Dossier %s: synthetische casus; marker DOSSIER-9e2f\n' "$P1" > "$NET_DIR/dossier.txt"
R=$(en twente --json request submit --case "$P1" --urgency hoog --type consultatie-advies --expertise trauma \
    --age-band 12-17 --dossier-file "$NET_DIR/dossier.txt" | jq -r .id)
check "request with dossier offered" wait_state "$R" offered
O="$R-o1"
en ijsselland expert accept "$O" >/dev/null
check "the dossier reaches the expert's node" net_until 10 '.sealed != null' "$CTL" "$NET_DIR/ijsselland" dossier "{\"offer\": \"$O\"}"
SEALED=$("$CTL" "$NET_DIR/ijsselland" dossier "{\"offer\": \"$O\"}")
check "the dossier verb returns only ciphertext and the wraps, never the text" \
    jq -e 'has("sealed") and has("wrapped") and (has("dossier") | not) and .expert == "se-ij-01"' <<< "$SEALED"
check "the marker is not in what the node hands out" bash -c "! grep -q DOSSIER-9e2f <<< '$SEALED'"
check_exit "without the expert's password the dossier does not open (1)" 1 \
    en ijsselland expert dossier "$O" --password-file "$WRONG"
check "and the error says so" grep -q "password does not open the key" "$NET_DIR/stderr"
check "the expert's password opens it, in the expertnet process" bash -c \
    "'$NET_BIN/expertnet' --node '$NET_DIR/ijsselland' expert dossier '$O' --password-file '$PW1' | grep -q DOSSIER-9e2f"
check_exit "another expert's account cannot have it (1)" 1 \
    en ijsselland expert dossier "$O" --expert se-ij-02 --password-file "$PWX"
check "the node's files hold neither the dossier nor the expert's password" \
    bash -c "! grep -aq 'DOSSIER-9e2f\|expert-wachtwoord-een' '$NET_DIR'/ijsselland/node.db*"

# --- password change, recovery, rekey ------------------------------------------
check_exit "an expert's password cannot be reset without the old one (1)" 1 \
    en ijsselland node user-passwd ex-bram --password-file "$PW2" </dev/null
check "the error explains why" grep -q "old_password" "$NET_DIR/stderr"
check_exit "a wrong old password is refused (1)" 1 \
    en ijsselland node user-passwd ex-bram --old-password-file "$WRONG" --password-file "$PW2"
check "with the old password the key is re-wrapped" \
    en ijsselland node user-passwd ex-bram --old-password-file "$PW1" --password-file "$PW2"
check "the new password opens the dossier" bash -c \
    "'$NET_BIN/expertnet' --node '$NET_DIR/ijsselland' expert dossier '$O' --password-file '$PW2' | grep -q DOSSIER-9e2f"
check_exit "the old password no longer does (1)" 1 en ijsselland expert dossier "$O" --password-file "$PW1"
# Whoever made the account saw the first recovery code: the expert replaces it
NEWCODE=$(en ijsselland --json node user-passwd ex-bram --old-password-file "$PW2" --password-file "$PW2" --new-recovery-code)
check "with --new-recovery-code the expert gets a recovery code only they have seen" \
    jq -e --arg old "$CODE1" '.rewrapped == true and (.recovery_code | test("^([A-Z2-7]{4}-){5}[A-Z2-7]{4}$")) and .recovery_code != $old' <<< "$NEWCODE"
check_exit "the first recovery code (the administrator's copy) no longer opens the key (1)" 1 \
    en ijsselland node user-recover ex-bram --recovery-code "$CODE1" --password-file "$PW4"
check "the password still opens the dossier" bash -c \
    "'$NET_BIN/expertnet' --node '$NET_DIR/ijsselland' expert dossier '$O' --password-file '$PW2' | grep -q DOSSIER-9e2f"
CODE1=$(jq -r .recovery_code <<< "$NEWCODE")
check "a medewerker's password is reset by a beheerder without the old one" \
    en twente node user-passwd mw-anna --password-file "$PW_BH" </dev/null
# The recovery code as someone might type it: lowercase, spaces
echo "$CODE1" | tr 'A-Z-' 'a-z ' > "$NET_DIR/code1"
REC=$(en ijsselland --json node user-recover ex-bram --recovery-file "$NET_DIR/code1" --password-file "$PW3")
check "the recovery code sets a new password and gives a NEW recovery code" \
    jq -e --arg old "$CODE1" '.name == "ex-bram" and (.recovery_code | test("^([A-Z2-7]{4}-){5}[A-Z2-7]{4}$")) and .recovery_code != $old' <<< "$REC"
check "after recovery the new password opens the dossier" bash -c \
    "'$NET_BIN/expertnet' --node '$NET_DIR/ijsselland' expert dossier '$O' --password-file '$PW3' | grep -q DOSSIER-9e2f"
check_exit "the recovery code works once: used again it is refused (1)" 1 \
    en ijsselland node user-recover ex-bram --recovery-file "$NET_DIR/code1" --password-file "$PW4"
check_exit "a malformed recovery code is refused (1)" 1 \
    en ijsselland node user-recover ex-bram --recovery-code "ABCD-1234" --password-file "$PW4"
check_exit "a medewerker has no recovery code (1)" 1 \
    en twente node user-recover mw-anna --recovery-code "$CODE1" --password-file "$PW4"
check "the new recovery code works" en ijsselland node user-recover ex-bram \
    --recovery-code "$(jq -r .recovery_code <<< "$REC")" --password-file "$PW3"
OLDPUB=$(jq -r .box_public <<< "$KEY")
REKEY=$(en ijsselland --json node user-rekey ex-bram --password-file "$PW4" --yes)
NEWPUB=$(jq -r .box_public <<< "$REKEY")
check "user-rekey makes a new key pair" test -n "$NEWPUB" -a "$NEWPUB" != "$OLDPUB"
check_eq "the expert's record carries the new box key" "$NEWPUB" \
    "$(en ijsselland --json expert list | jq -r '.[] | select(.id == "se-ij-01") | .box_key')"
check "the broker gets the new box key in the AVAILABILITY" net_until 10 \
    "(.[] | select(.id == \"se-ij-01\") | .box_key) == \"$NEWPUB\"" enb --json broker experts
check_exit "a dossier sealed to the old key cannot be opened any more (1)" 1 \
    en ijsselland expert dossier "$O" --password-file "$PW4"
check "and the error says the team must send it again" grep -q "send it again" "$NET_DIR/stderr"
check_exit "rekey of a medewerker is refused (1)" 1 en twente node user-rekey mw-anna --password-file "$PW4" --yes

# --- logins, removal -----------------------------------------------------------
check "a login is recorded" "$CTL" "$NET_DIR/twente" login-event '{"name": "mw-anna", "outcome": "ok", "address": "127.0.0.1"}'
check "a failed login is recorded" "$CTL" "$NET_DIR/twente" login-event '{"name": "mw-anna", "outcome": "failed", "address": "127.0.0.1"}'
check_exit "a login event with a bad outcome is refused" 1 "$CTL" "$NET_DIR/twente" login-event '{"name": "mw-anna", "outcome": "maybe"}'
check "a login with TOTP records the code's time step" \
    "$CTL" "$NET_DIR/twente" login-event '{"name": "mw-anna", "outcome": "ok", "totp_step": 59000000}'
check_exit "the same TOTP code again is a replay: refused (1)" 1 \
    "$CTL" "$NET_DIR/twente" login-event '{"name": "mw-anna", "outcome": "ok", "totp_step": 59000000}'
check "the next code is accepted" \
    "$CTL" "$NET_DIR/twente" login-event '{"name": "mw-anna", "outcome": "ok", "totp_step": 59000001}'
check "the replay is in the access log as a refused login" bash -c \
    "'$NET_BIN/expertnet' --node '$NET_DIR/twente' --json audit show | jq -e 'any(.[]; .event == \"user.login\" and .outcome == \"refused\" and (.detail | startswith(\"totp code used before\")))' >/dev/null"
check "last_login is set" jq -e '.[] | select(.name == "mw-anna") | .last_login > 0' <<< "$(en twente --json node users)"
check "an account is removed" en twente node user-remove bh-ben
check_exit "removing it again: not found (4)" 4 en twente node user-remove bh-ben

# --- the access log: every step with the person, and the NEN 7513 export --------
LOG=$(en twente --json audit show)
check "account changes are in the access log, the acting person as actor" \
    jq -e '[.[] | select(.event | startswith("user.")) | .event] | (index("user.add") != null) and (index("user.passwd") != null) and (index("user.remove") != null) and (index("user.login") != null)' <<< "$LOG"
check "the person who ran the command is the actor of user.add" \
    jq -e --arg me "$(id -un)" '[.[] | select(.event == "user.add") | .actor] | length == 2 and all(.[]; . == $me)' <<< "$LOG"
check "logins name the person and the outcome" \
    jq -e '[.[] | select(.event == "user.login") | [.actor, .outcome]] | any(.[]; . == ["mw-anna", "ok"]) and any(.[]; . == ["mw-anna", "refused"])' <<< "$LOG"
check "the expert's node logged the recovery and the rekey" bash -c \
    "'$NET_BIN/expertnet' --node '$NET_DIR/ijsselland' --json audit show | jq -e '[.[].event] | index(\"user.recover\") != null and index(\"user.rekey\") != null' >/dev/null"
EXPORT=$(en twente audit export --case "$P1")
check "audit export prints the client's file history in Dutch" grep -q "wie heeft wanneer wat met het dossier gedaan" <<< "$EXPORT"
check "it names the registration and the request" bash -c \
    "grep -q 'heeft de cliënt ingeschreven in het casusregister' <<< \"\$1\" && grep -q 'heeft een consultatieverzoek ingediend' <<< \"\$1\" && grep -q 'dossier versleuteld vrijgegeven' <<< \"\$1\"" _ "$EXPORT"
EXPORT_IJ=$(en ijsselland audit export --case "$P1")
check "at the expert's node it lists the offer, the accept and the dossier reads (and the refused one)" bash -c \
    "grep -q 'heeft het aanbod geaccepteerd' <<< \"\$1\" && grep -q 'dossier opgevraagd' <<< \"\$1\" && grep -q 'geweigerd' <<< \"\$1\"" _ "$EXPORT_IJ"
check "the control verb gives the portal the same lines" \
    jq -e '.entries > 0 and (.lines | length) == .entries and (.lines[0] | test("^[0-9]{2}-[0-9]{2}-[0-9]{4} "))' <<< "$("$CTL" "$NET_DIR/twente" audit-export "{\"case\": \"$P1\"}")"
check "the export itself is logged" bash -c \
    "'$NET_BIN/expertnet' --node '$NET_DIR/twente' --json audit show --case '$P1' | jq -e '[.[].event] | index(\"audit.export\") != null' >/dev/null"
check_exit "audit export without --case is a usage error (2)" 2 en twente audit export
check_exit "audit export of an unknown case: not found (4)" 4 en twente audit export --case p1-00000000000000000000000000000000
check "the node's access log is intact" en twente audit verify
check "the expert's node's access log is intact" en ijsselland audit verify
test_done
