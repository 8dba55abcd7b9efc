/*  en_node_accounts - the node's accounts and its experts' keys: the
    account verbs of the control table (en_node_verbs.c).

    Accounts: the people who work at this node (medewerker, expert,
    beheerder). Passwords are kept as Argon2id hashes (crypto_pwhash_str);
    the TOTP secret sealed with the vault (the portal must read it to
    check a code). An expert account holds its expert's box secret key
    wrapped with the person's password and with a recovery code shown
    once (en_keywrap): from then on the node cannot open a dossier sealed
    to that expert, only the person can. These verbs hash and wrap in the
    node loop (a few tenths of a second, only when an account changes);
    a login's hash check happens in the caller (portal), never here.
*/
#include "en_node_int.h"
#include <sodium.h>

static const char *s_roles [] = { "medewerker", "expert", "beheerder", NULL };

//  Settings of the accounts: which roles must use TOTP (web/totp_required,
//  default every role: each sees identifying data or dossiers) and the
//  Argon2id limits of new key wraps (accounts/kdf: interactive or
//  moderate). 0, or -1 with error.
int
en_node_accounts_config (en_node_t *self, zconfig_t *config, en_error_t *error)
{
    const char *roles = zconfig_get (config, "web/totp_required", "medewerker,expert,beheerder");
    char *copy = strdup (roles), *save = NULL;
    int rc = 0;
    for (char *role = strtok_r (copy, ", ", &save); role; role = strtok_r (NULL, ", ", &save))
        if (!en_vocab_has (s_roles, role) && !streq (role, "none"))
            rc = en_error_set (error, EN_ERR_INVALID, "web/totp_required: '%.40s' is not a role (medewerker, "
                               "expert, beheerder or none)", role);
    free (copy);
    const char *kdf = zconfig_get (config, "accounts/kdf", "interactive");
    if (rc == 0 && en_keywrap_limits (kdf, &self->kdf_ops, &self->kdf_mem))
        rc = en_error_set (error, EN_ERR_INVALID, "accounts/kdf must be interactive or moderate");
    if (rc == 0) {
        free (self->totp_required);
        self->totp_required = strdup (roles);
    }
    return rc;
}

//  A password: EN_KEYWRAP_PASSWORD_MIN to 1024 bytes. 0, or -1 with error.
static int
s_password_check (const char *password, const char *field, en_error_t *error)
{
    if (password && strlen (password) >= EN_KEYWRAP_PASSWORD_MIN && strlen (password) <= 1024)
        return 0;
    return en_error_set (error, EN_ERR_INVALID, "field '%s' must be a password of %d to 1024 bytes", field,
                         EN_KEYWRAP_PASSWORD_MIN);
}

//  Optional contact fields, kept only at this node: an e-mail address
//  and a phone number for notifications. 0, or -1 with error.
static int
s_contact_check (json_t *args, en_error_t *error)
{
    const char *email = en_json_str (args, "email");
    const char *phone = en_json_str (args, "phone");
    bool email_ok = !email || (strlen (email) >= 3 && strlen (email) <= 254 && strchr (email, '@')
                               && strchr (email, '@') == strrchr (email, '@') && email [0] != '@'
                               && strchr (email, '@') [1] != 0);
    for (const char *c = email; email_ok && c && *c; c++)
        email_ok = *c > ' ' && *c != '<' && *c != '>' && *c != '"' && *c != 127;
    bool phone_ok = !phone || (strlen (phone) >= 6 && strlen (phone) <= 32);
    for (const char *c = phone; phone_ok && c && *c; c++)
        phone_ok = (*c >= '0' && *c <= '9') || strchr ("+-() ", *c);
    if (email_ok && phone_ok)
        return 0;
    return en_error_set (error, EN_ERR_INVALID, "%s", email_ok
                         ? "field 'phone' must be a phone number (digits, spaces, + - ( ), 6 to 32)"
                         : "field 'email' must be an e-mail address (name@domain)");
}

//  Argon2id hash of a password for the login (interactive limits).
static int
s_pwhash (const char *password, char hash [crypto_pwhash_STRBYTES])
{
    return crypto_pwhash_str (hash, password, strlen (password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

//  Wrap an expert's secret key with the password and, if recovery is
//  given, with the recovery code; store the wraps in place of the
//  vault-sealed copy (recovery NULL keeps the stored recovery wrap).
//  Inside the caller's transaction. 0 or -1.
static int
s_expert_key_wrap (en_node_t *self, const char *expert, const char *public_hex, const unsigned char *secret_key,
                   const char *password, const char *recovery)
{
    en_keywrap_t *by_password = en_keywrap_new (secret_key, password, self->kdf_ops, self->kdf_mem);
    en_keywrap_t *by_recovery = recovery ? en_keywrap_new (secret_key, recovery, self->kdf_ops, self->kdf_mem)
                                         : NULL;
    int rc = -1;
    if (by_password && (by_recovery || !recovery)) {
        json_t *password_json = en_keywrap_json (by_password);
        json_t *recovery_json = by_recovery ? en_keywrap_json (by_recovery) : NULL;
        rc = en_nstore_expert_key_wrap (self->store, expert, public_hex, password_json, recovery_json);
        json_decref (password_json);
        json_decref (recovery_json);
    }
    en_keywrap_destroy (&by_password);
    en_keywrap_destroy (&by_recovery);
    return rc;
}

//  A new box key pair for an expert, wrapped for the person; the
//  expert's record gets the new public key and is published again, so
//  dossiers from now on are sealed to it. Inside the caller's
//  transaction. 0 or -1; public_hex gets the new public key.
static int
s_expert_rekey (en_node_t *self, const char *expert, const char *password, const char *recovery,
                char public_hex [crypto_box_PUBLICKEYBYTES * 2 + 1])
{
    unsigned char public_key [crypto_box_PUBLICKEYBYTES];
    unsigned char *secret_key = (unsigned char *) sodium_malloc (crypto_box_SECRETKEYBYTES);
    if (!secret_key)
        return -1;
    crypto_box_keypair (public_key, secret_key);
    sodium_bin2hex (public_hex, crypto_box_PUBLICKEYBYTES * 2 + 1, public_key, sizeof public_key);
    int rc = s_expert_key_wrap (self, expert, public_hex, secret_key, password, recovery);
    sodium_free (secret_key);
    json_t *record = rc == 0 ? en_nstore_expert (self->store, expert) : NULL;
    if (!record)
        return -1;
    json_object_set_new (record, "box_key", json_string (public_hex));
    rc = en_nstore_expert_put (self->store, record) || en_node_queue_availability (self) ? -1 : 0;
    json_decref (record);
    return rc;
}

//  The expert's secret key from its vault-sealed copy (before the expert
//  had an account), into secret_key. 0, or -1 when there is none.
static int
s_expert_key_unseal (en_node_t *self, json_t *keys, unsigned char *secret_key)
{
    const char *sealed = en_json_str (keys, "box_secret");
    char *hex = sealed ? en_vault_unseal (self->vault, sealed) : NULL;
    size_t size = 0;
    int rc = hex && sodium_hex2bin (secret_key, crypto_box_SECRETKEYBYTES, hex, strlen (hex), NULL, &size, NULL) == 0
             && size == crypto_box_SECRETKEYBYTES ? 0 : -1;
    en_secret_free (&hex);
    return rc;
}

//  An account by name, or NULL with a 404 in error.
static json_t *
s_user_find (en_node_t *self, json_t *args, en_error_t *error)
{
    const char *name = en_json_str (args, "name");
    json_t *user = name && strlen (name) <= 63 ? en_nstore_user (self->store, name) : NULL;
    if (!user) {
        en_error_set (error, EN_ERR_NOT_FOUND, "no account '%.63s' at this node (expertnet node users)", name ? name : "");
    }
    return user;
}

//  What a user-add must have: a name not taken, a role, for role expert
//  an expert of this node without an account, a password, and valid
//  contact fields. 0, or -1 with error.
static int
s_user_add_check (en_node_t *self, json_t *args, en_error_t *error)
{
    const char *name = en_json_str (args, "name");
    const char *role = en_json_str (args, "role");
    const char *expert = en_json_str (args, "expert");
    if (!en_name_valid (name))
        return en_error_set (error, EN_ERR_INVALID, "field 'name' must be a name: 1 to 63 of a-z, 0-9 and '-'");
    if (!en_vocab_has (s_roles, role))
        return en_error_set (error, EN_ERR_INVALID, "field 'role' must be medewerker, expert or beheerder");
    if (streq (role, "expert") != (expert != NULL))
        return en_error_set (error, EN_ERR_INVALID, "%s", streq (role, "expert")
                             ? "an account of role expert needs field 'expert' (the expert's id)"
                             : "field 'expert' goes only with role expert");
    if (s_password_check (en_json_str (args, "password"), "password", error) || s_contact_check (args, error))
        return -1;
    json_t *record = expert ? en_nstore_expert (self->store, expert) : NULL;
    json_decref (record);
    if (expert && !record)
        return en_error_set (error, EN_ERR_NOT_FOUND, "no expert '%.63s' at this node (expertnet expert add first)",
                             expert);
    char *holder = expert ? en_nstore_expert_user (self->store, expert) : NULL;
    if (holder) {
        en_error_set (error, EN_ERR_CONFLICT, "expert '%.63s' already has an account ('%.63s')", expert, holder);
        free (holder);
        return -1;
    }
    json_t *existing = en_nstore_user (self->store, name);
    json_decref (existing);
    if (existing)
        return en_error_set (error, EN_ERR_CONFLICT, "account '%s' exists", name);
    return 0;
}

//  The expert's key pair made at expert add, until now sealed with the
//  vault, is wrapped for the person; with none to take over (an earlier
//  account's wraps) a new pair is made and published (*rekeyed). Inside
//  the caller's transaction. 0 or -1; public_hex gets the public key.
static int
s_user_add_key (en_node_t *self, const char *expert, const char *password, const char *recovery,
                char public_hex [crypto_box_PUBLICKEYBYTES * 2 + 1], bool *rekeyed)
{
    unsigned char *secret_key = (unsigned char *) sodium_malloc (crypto_box_SECRETKEYBYTES);
    if (!secret_key)
        return -1;
    int rc;
    json_t *keys = en_nstore_expert_key (self->store, expert);
    if (keys && s_expert_key_unseal (self, keys, secret_key) == 0) {
        snprintf (public_hex, crypto_box_PUBLICKEYBYTES * 2 + 1, "%s", en_json_str (keys, "box_public"));
        rc = s_expert_key_wrap (self, expert, public_hex, secret_key, password, recovery);
    }
    else {
        *rekeyed = true;
        rc = s_expert_rekey (self, expert, password, recovery, public_hex);
    }
    json_decref (keys);
    sodium_free (secret_key);
    return rc;
}

//  Store a new account (args: name, role, expert, password, email,
//  phone) with its sealed TOTP secret, and for an expert the key wrapped
//  for the person, in one transaction. 0, or -1 with error.
static int
s_user_add_store (en_node_t *self, json_t *args, const char *totp_sealed, const char *recovery,
                  char public_hex [crypto_box_PUBLICKEYBYTES * 2 + 1], bool *rekeyed, en_error_t *error)
{
    const char *name = en_json_str (args, "name");
    const char *role = en_json_str (args, "role");
    const char *expert = en_json_str (args, "expert");
    const char *password = en_json_str (args, "password");
    char hash [crypto_pwhash_STRBYTES];
    if (!totp_sealed || s_pwhash (password, hash))
        return en_error_set (error, EN_ERR_INTERNAL, "could not store account '%s'", name);
    if (en_node_verbs_begin (self, error)) {
        sodium_memzero (hash, sizeof hash);
        return -1;
    }
    en_db_t *db = en_nstore_db (self->store);
    json_t *user = json_pack ("{s:s, s:s, s:s?, s:s, s:s, s:s?, s:s?}", "name", name, "role", role,
                              "expert", expert, "pwhash", hash, "totp", totp_sealed,
                              "email", en_json_str (args, "email"), "phone", en_json_str (args, "phone"));
    int rc = en_nstore_user_insert (self->store, user, error);
    json_decref (user);
    sodium_memzero (hash, sizeof hash);
    bool stored = rc == 0 && !(expert && s_user_add_key (self, expert, password, recovery, public_hex, rekeyed));
    if (stored)
        en_node_audit (self, "user.add", NULL, en_json_str (args, "_user"), name, "create", "ok", role);
    if (!stored || en_db_commit (db)) {
        en_db_rollback (db);
        //  A refused insert said why
        return rc ? -1 : en_error_set (error, EN_ERR_INTERNAL, "could not store account '%s'", name);
    }
    return 0;
}

//  A new account: its TOTP secret (and URI) and, for an expert, the
//  recovery code are in the reply, shown once.
static json_t *
s_verb_user_add (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    if (s_user_add_check (self, args, error))
        return NULL;
    const char *name = en_json_str (args, "name");
    const char *role = en_json_str (args, "role");
    const char *expert = en_json_str (args, "expert");
    char *totp = en_totp_secret_new ();
    char *totp_sealed = totp ? en_vault_seal (self->vault, totp) : NULL;
    char *recovery = expert ? en_keywrap_recovery_new () : NULL;
    char public_hex [crypto_box_PUBLICKEYBYTES * 2 + 1] = "";
    bool rekeyed = false;
    json_t *result = NULL;
    if (s_user_add_store (self, args, totp_sealed, recovery, public_hex, &rekeyed, error) == 0) {
        char issuer [96];
        snprintf (issuer, sizeof issuer, "expertnet %s", self->name);
        char *uri = en_totp_uri (totp, issuer, name);
        result = json_pack ("{s:s, s:s, s:s?, s:s, s:s, s:s?}", "name", name, "role", role, "expert", expert,
                            "totp_secret", totp, "totp_uri", uri, "recovery_code", recovery);
        if (expert)
            json_object_set_new (result, "box_public", json_string (public_hex));
        if (rekeyed)
            json_object_set_new (result, "rekeyed", json_true ());
        free (uri);
        zsys_info ("account %s (%s%s%s) added%s", name, role, expert ? " " : "", expert ? expert : "",
                   rekeyed ? "; the expert has a new box key" : "");
    }
    en_secret_free (&totp);
    en_secret_free (&recovery);
    free (totp_sealed);
    return result;
}

//  For the portal's login: the account with its password hash and its
//  TOTP secret in clear, and whether its role must use TOTP. Not for
//  display.
static json_t *
s_verb_user_get (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    json_t *user = s_user_find (self, args, error);
    if (!user)
        return NULL;
    const char *sealed = en_json_str (user, "totp");
    char *totp = sealed ? en_vault_unseal (self->vault, sealed) : NULL;
    json_object_set_new (user, "totp_secret", totp ? json_string (totp) : json_null ());
    en_secret_free (&totp);
    json_object_del (user, "totp");
    json_t *roles = json_array ();
    char *copy = strdup (self->totp_required), *save = NULL;
    for (char *role = strtok_r (copy, ", ", &save); role; role = strtok_r (NULL, ", ", &save))
        json_array_append_new (roles, json_string (role));
    free (copy);
    bool required = false;
    size_t index;
    json_t *role;
    json_array_foreach (roles, index, role)
        required |= streq (json_string_value (role), en_json_str (user, "role"));
    json_decref (roles);
    json_object_set_new (user, "totp_required", json_boolean (required));
    return user;
}

static json_t *
s_verb_users (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    return en_nstore_users (self->store);
}

static json_t *
s_verb_user_remove (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    json_t *user = s_user_find (self, args, error);
    if (!user)
        return NULL;
    const char *name = en_json_str (user, "name");
    if (en_node_verbs_begin (self, error)) {
        json_decref (user);
        return NULL;
    }
    en_db_t *db = en_nstore_db (self->store);
    int rc = en_nstore_user_remove (self->store, name, error);
    if (rc == 0)
        en_node_audit (self, "user.remove", NULL, en_json_str (args, "_user"), name, "delete", "ok",
                       en_json_str (user, "role"));
    if (rc || en_db_commit (db)) {
        en_db_rollback (db);
        if (rc == 0)                //  else the remove said why
            en_error_set (error, EN_ERR_INTERNAL, "could not remove account '%s'", name);
        json_decref (user);
        return NULL;
    }
    json_t *result = json_pack ("{s:s, s:b}", "name", name, "removed", 1);
    json_decref (user);
    return result;
}

//  The expert's secret key, unwrapped with the password or the recovery
//  code (which = "password" or "recovery"), into secret_key. 0, or -1.
static int
s_expert_key_open (en_node_t *self, const char *expert, const char *which, const char *secret,
                   unsigned char *secret_key, char public_hex [crypto_box_PUBLICKEYBYTES * 2 + 1])
{
    json_t *keys = en_nstore_expert_key (self->store, expert);
    char field [32];
    snprintf (field, sizeof field, "wrap_%s", which);
    int rc = keys ? en_keywrap_open_json (json_object_get (keys, field), secret, secret_key) : -1;
    if (rc == 0)
        snprintf (public_hex, crypto_box_PUBLICKEYBYTES * 2 + 1, "%s", en_json_str (keys, "box_public"));
    json_decref (keys);
    return rc;
}

//  The account a password-changing verb is about, after checking the
//  new password (field 'password'); NULL with error.
static json_t *
s_user_with_password (en_node_t *self, json_t *args, en_error_t *error)
{
    if (s_password_check (en_json_str (args, "password"), "password", error))
        return NULL;
    return s_user_find (self, args, error);
}

//  Give an account a new password in one transaction, audited as event
//  (detail may be NULL). For an expert the key is wrapped again: the
//  secret_key given (opened by the caller with the old password or the
//  recovery code; recovery NULL keeps the recovery wrap), or, when
//  secret_key is NULL, a new key pair (public_hex gets its public key).
//  0, or -1 with error.
static int
s_user_set_password (en_node_t *self, json_t *user, json_t *args, const unsigned char *secret_key,
                     char public_hex [crypto_box_PUBLICKEYBYTES * 2 + 1], const char *recovery,
                     const char *event, const char *detail, en_error_t *error)
{
    const char *name = en_json_str (user, "name");
    const char *expert = en_json_str (user, "expert");
    const char *password = en_json_str (args, "password");
    char hash [crypto_pwhash_STRBYTES];
    if (s_pwhash (password, hash))
        return en_error_set (error, EN_ERR_INTERNAL, "out of memory hashing the password");
    if (en_node_verbs_begin (self, error)) {
        sodium_memzero (hash, sizeof hash);
        return -1;
    }
    en_db_t *db = en_nstore_db (self->store);
    int rc = en_nstore_user_password (self->store, name, hash);
    sodium_memzero (hash, sizeof hash);
    if (rc == 0 && expert)
        rc = secret_key ? s_expert_key_wrap (self, expert, public_hex, secret_key, password, recovery)
                        : s_expert_rekey (self, expert, password, recovery, public_hex);
    if (rc == 0)
        en_node_audit (self, event, NULL, en_json_str (args, "_user"), name, "update", "ok", detail);
    if (rc || en_db_commit (db)) {
        en_db_rollback (db);
        en_error_set (error, EN_ERR_INTERNAL, "could not store the new password of '%s'", name);
        return -1;
    }
    return 0;
}

//  A refusal of a password-changing verb, in the access log.
static void
s_user_refused (en_node_t *self, json_t *user, json_t *args, const char *event, const char *detail)
{
    en_db_t *db = en_nstore_db (self->store);
    if (en_db_begin (db)) {
        zsys_error ("access log: could not record %s (refused)", event);
        return;
    }
    en_node_audit (self, event, NULL, en_json_str (args, "_user"), en_json_str (user, "name"), "update", "refused",
                   detail);
    en_db_commit (db);
}

//  A new password. For an expert the key is re-wrapped, which needs the
//  key: the old password opens it (the node cannot); with
//  new_recovery_code the recovery wrap is replaced too and the new code
//  returned. Other roles may be given a new password by a beheerder
//  without the old one.
static json_t *
s_verb_user_passwd (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    json_t *user = s_user_with_password (self, args, error);
    if (!user)
        return NULL;
    const char *name = en_json_str (user, "name");
    const char *expert = en_json_str (user, "expert");
    const char *old = en_json_str (args, "old_password");
    //  The first password and recovery code were seen by whoever made the
    //  account: the expert replaces both, with a code only they see
    char *fresh = expert && json_is_true (json_object_get (args, "new_recovery_code"))
                ? en_keywrap_recovery_new () : NULL;
    unsigned char *secret_key = (unsigned char *) sodium_malloc (crypto_box_SECRETKEYBYTES);
    char public_hex [crypto_box_PUBLICKEYBYTES * 2 + 1];
    json_t *result = NULL;
    if (!secret_key)
        en_error_set (error, EN_ERR_INTERNAL, "out of memory");
    else
    if (expert && !old)
        en_error_set (error, EN_ERR_INVALID, "an expert's password is changed with the old one (field "
                      "'old_password'), or with the recovery code (user-recover): the node cannot open the "
                      "expert's key");
    else
    if ((expert && s_expert_key_open (self, expert, "password", old, secret_key, public_hex))
    ||  (!expert && old && crypto_pwhash_str_verify (en_json_str (user, "pwhash"), old, strlen (old)))) {
        en_error_set (error, EN_ERR_FORBIDDEN, "the old password of '%s' is wrong", name);
        s_user_refused (self, user, args, "user.passwd", "wrong old password");
    }
    else
    if (s_user_set_password (self, user, args, secret_key, public_hex, fresh, "user.passwd",
                             fresh ? "new recovery code" : NULL, error) == 0) {
        result = json_pack ("{s:s, s:b}", "name", name, "rewrapped", expert != NULL);
        if (fresh)
            json_object_set_new (result, "recovery_code", json_string (fresh));
    }
    if (secret_key)
        sodium_free (secret_key);
    en_secret_free (&fresh);
    json_decref (user);
    return result;
}

//  A forgotten password: the recovery code opens the expert's key, which
//  is wrapped again with the new password and with a NEW recovery code
//  (the used one no longer opens anything).
static json_t *
s_verb_user_recover (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    json_t *user = s_user_with_password (self, args, error);
    if (!user)
        return NULL;
    const char *name = en_json_str (user, "name");
    const char *expert = en_json_str (user, "expert");
    char *typed = en_keywrap_recovery_normalize (en_json_str (args, "recovery_code"));
    char *fresh = en_keywrap_recovery_new ();
    unsigned char *secret_key = (unsigned char *) sodium_malloc (crypto_box_SECRETKEYBYTES);
    char public_hex [crypto_box_PUBLICKEYBYTES * 2 + 1];
    json_t *result = NULL;
    if (!expert) {
        en_error_set (error, EN_ERR_CONFLICT, "only an expert's account has a recovery code; a beheerder gives '%s' a new "
                  "password (user-passwd)", name);
    }
    else
    if (!typed) {
        en_error_set (error, EN_ERR_INVALID, "field 'recovery_code' must be 24 letters and digits 2-7 (groups of four)");
    }
    else
    if (!secret_key || s_expert_key_open (self, expert, "recovery", typed, secret_key, public_hex)) {
        en_error_set (error, EN_ERR_FORBIDDEN, "the recovery code does not open the key of '%s' (used before, or mistyped)", name);
        s_user_refused (self, user, args, "user.recover", NULL);
    }
    else
    if (s_user_set_password (self, user, args, secret_key, public_hex, fresh, "user.recover",
                             "new recovery code", error) == 0)
        result = json_pack ("{s:s, s:s, s:s}", "name", name, "expert", expert, "recovery_code", fresh);
    if (secret_key)
        sodium_free (secret_key);
    en_secret_free (&typed);
    en_secret_free (&fresh);
    json_decref (user);
    return result;
}

//  Password and recovery code both lost: a new key pair for the expert,
//  wrapped with a new password and a new recovery code, published. What
//  was sealed to the old key cannot be opened by anyone any more.
static json_t *
s_verb_user_rekey (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    json_t *user = s_user_with_password (self, args, error);
    if (!user)
        return NULL;
    const char *name = en_json_str (user, "name");
    const char *expert = en_json_str (user, "expert");
    char public_hex [crypto_box_PUBLICKEYBYTES * 2 + 1] = "";
    char *recovery = en_keywrap_recovery_new ();
    json_t *result = NULL;
    if (!expert) {
        en_error_set (error, EN_ERR_CONFLICT, "'%s' is not an expert's account: it has no key", name);
    }
    else
    if (s_user_set_password (self, user, args, NULL, public_hex, recovery, "user.rekey",
                             "new box key; what was sealed to the old one cannot be opened", error) == 0) {
        result = json_pack ("{s:s, s:s, s:s, s:s}", "name", name, "expert", expert, "box_public", public_hex,
                            "recovery_code", recovery);
        zsys_notice ("expert %s has a new box key (account %s); dossiers sealed to the old key cannot be "
                     "opened", expert, name);
    }
    en_secret_free (&recovery);
    json_decref (user);
    return result;
}

//  The portal tells the node of a login (it checks the password and the
//  TOTP code itself, before it lets the person in): an access-log entry
//  with the person as actor. With totp_step (from en_totp_verify_step) a
//  successful login is refused (409) if that code's step was used before.
static json_t *
s_verb_login_event (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    static const char *outcomes [] = { "ok", "failed", "locked", NULL };
    const char *name = en_json_str (args, "name");
    const char *outcome = en_json_str (args, "outcome");
    const char *address = en_json_str (args, "address");
    if (!name || !*name || strlen (name) > 63 || !en_vocab_has (outcomes, outcome)
    ||  (address && strlen (address) > 64)) {
        en_error_set (error, EN_ERR_INVALID, "login-event needs name (up to 63 bytes), outcome ok|failed|locked "
                      "and optionally address (up to 64 bytes)");
        return NULL;
    }
    json_t *step = json_object_get (args, "totp_step");
    if (step && (!json_is_integer (step) || json_integer_value (step) < 0)) {
        en_error_set (error, EN_ERR_INVALID, "field 'totp_step' must be the TOTP time step of the code "
                      "(en_totp_verify_step)");
        return NULL;
    }
    //  A name nobody has is recorded, but not as typed: it may be a
    //  password typed in the wrong field
    if (en_node_verbs_begin (self, error))
        return NULL;
    en_db_t *db = en_nstore_db (self->store);
    json_t *user = en_nstore_user (self->store, name);
    const char *actor = user ? name : "unknown-account";
    //  A successful login records its TOTP step; a code of a step used
    //  before is a replay (409) and turns the login into a refusal
    en_error_t login = { 0 };
    if (user && streq (outcome, "ok"))
        en_nstore_user_login (self->store, name, en_now_ms (), step ? json_integer_value (step) : -1, &login);
    bool replay = login.code == EN_ERR_CONFLICT;
    const char *why = replay ? "totp code used before" : streq (outcome, "locked") ? "locked" : "";
    char detail [128];
    snprintf (detail, sizeof detail, "%s%s%s", why, address ? (*why ? " from " : "from ") : "", address ? address : "");
    en_node_audit (self, "user.login", NULL, actor, NULL, "login",
                   streq (outcome, "ok") && login.code == 0 ? "ok" : "refused", *detail ? detail : NULL);
    if (en_db_commit (db)) {
        en_db_rollback (db);
        if (!login.code)
            en_error_set (&login, EN_ERR_INTERNAL, "could not record the login");
    }
    json_decref (user);
    //  Fail closed: a login whose TOTP step could not be recorded would
    //  leave that code open to a replay
    if (login.code) {
        en_error_set (error, login.code, "%s", login.reason);
        return NULL;
    }
    return json_pack ("{s:s, s:s}", "name", name, "outcome", outcome);
}

//  An expert's box key as the node holds it: the public key and the
//  wraps of the secret key (never the secret key itself). 409 when the
//  expert has no account yet (the key is still sealed with the vault).
static json_t *
s_expert_key_public (en_node_t *self, const char *expert, en_error_t *error)
{
    json_t *keys = expert ? en_nstore_expert_key (self->store, expert) : NULL;
    if (!keys) {
        en_error_set (error, EN_ERR_NOT_FOUND, "no expert '%.63s' with a key at this node", expert ? expert : "");
        return NULL;
    }
    if (!json_is_object (json_object_get (keys, "wrap_password"))) {
        en_error_set (error, EN_ERR_CONFLICT, "expert '%.63s' has no account yet, so nobody can open its key: make one "
                  "(expertnet node user-add NAME --role expert --expert %.63s)", expert, expert);
        json_decref (keys);
        return NULL;
    }
    json_t *result = json_pack ("{s:s, s:s, s:{s:O, s:O}}", "expert", expert,
                                "box_public", en_json_str (keys, "box_public"), "wrapped",
                                "password", json_object_get (keys, "wrap_password"),
                                "recovery", json_object_get (keys, "wrap_recovery"));
    json_decref (keys);
    return result;
}

static json_t *
s_verb_expert_key (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    return s_expert_key_public (self, en_json_str (args, "expert"), error);
}

//  The dossier of an accepted offer, still sealed to the expert's key,
//  with that key's wraps: the caller who knows the expert's password (the
//  `expertnet` command, the portal) unwraps the key and opens the
//  dossier. The node cannot. args: offer, and optionally expert (must be
//  the offer's). A caller acting as an expert's account gets only that
//  expert's dossiers.
static json_t *
s_verb_dossier (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    const char *offer_id = en_json_str (args, "offer");
    const char *asked = en_json_str (args, "expert");
    const char *user_arg = en_json_str (args, "_user");
    json_t *offer = offer_id ? en_nstore_offer (self->store, offer_id) : NULL;
    char *sealed = offer ? en_nstore_offer_dossier (self->store, offer_id) : NULL;
    json_t *replies = offer ? en_nstore_offer_replies (self->store, offer_id) : NULL;
    bool something = sealed || json_array_size (replies) > 0;
    const char *expert = offer ? en_json_str (offer, "expert") : NULL;
    json_t *account = user_arg ? en_nstore_user (self->store, user_arg) : NULL;
    json_t *result = NULL;
    if (!offer || !something)
        en_error_set (error, EN_ERR_NOT_FOUND, "no dossier for offer '%.80s' at this node (yet)",
                      offer_id ? offer_id : "");
    else
    if ((asked && !streq (asked, expert))
    ||  (account && !streq (en_json_str (account, "role"), "expert"))
    ||  (account && !streq (en_json_str (account, "expert") ?: "", expert)))
        en_error_set (error, EN_ERR_FORBIDDEN, "the dossier of '%s' is sealed to another expert; '%.63s' cannot "
                      "open it", offer_id, account ? en_json_str (account, "name") : asked);
    else {
        result = s_expert_key_public (self, expert, error);
        if (result) {
            json_object_set_new (result, "offer", json_string (offer_id));
            json_object_set (result, "request", json_object_get (offer, "request_id"));
            json_object_set_new (result, "sealed", sealed ? json_string (sealed) : json_null ());
            json_object_set (result, "replies", replies);
        }
    }
    json_decref (replies);
    //  Every look, given or refused, is in the access log; one that
    //  cannot be logged is not given
    if (offer && something && en_node_verbs_begin (self, error) == 0) {
        en_node_audit (self, "dossier.read", en_json_str (offer, "request_id"), user_arg, asked ? asked : expert,
                       "read", result ? "ok" : "refused", offer_id);
        en_db_commit (en_nstore_db (self->store));
    }
    else
    if (offer && something) {
        json_decref (result);
        result = NULL;
    }
    free (sealed);
    json_decref (account);
    json_decref (offer);
    return result;
}

//  --------------------------------------------------------------------
//  The accounts' rows of the control table (en_node_verbs.c)

const en_node_verb_t en_node_account_verbs [] = {
    //  verb              needs            handler
    { "user-add",         EN_VERB_SENDS,   s_verb_user_add },       //  an expert's key may be new
    { "user-get",         EN_VERB_READS,   s_verb_user_get },       //  for the portal's login
    { "users",            EN_VERB_READS,   s_verb_users },
    { "user-remove",      EN_VERB_WRITES,  s_verb_user_remove },
    { "user-passwd",      EN_VERB_WRITES,  s_verb_user_passwd },
    { "user-recover",     EN_VERB_WRITES,  s_verb_user_recover },
    { "user-rekey",       EN_VERB_SENDS,   s_verb_user_rekey },     //  the new key is published
    { "login-event",      EN_VERB_WRITES,  s_verb_login_event },
    { "expert-key",       EN_VERB_READS,   s_verb_expert_key },
    { "dossier",          EN_VERB_WRITES,  s_verb_dossier },        //  the read is logged
    { NULL, 0, NULL }
};
