/*  en_node_convo - a request's conversation at the node (docs/protocol.md,
    "Conversations").

    Who speaks: the requesting team ("team", at the request's origin
    node) and every expert who accepted it. The broker tells each
    participant's node who they are and their box keys (MEMBERS); the
    node encrypts each text once with a fresh key and seals that key to
    every one of them, the sender included (en_keywrap_message_seal,
    crypto_box_seal), so a text costs the same whatever the number of
    participants, and sends one MESSAGE. The broker
    gives it the request's next seq and hands each node only its own
    participants' ciphertexts; the node keeps it once per (request, seq),
    so a retransmission or a crash between store and ACK never doubles
    it, and the order is the broker's seq for everyone.

    Texts are opened only when read: the team's with the request's team
    key (made at submit, its secret sealed with the vault's data key),
    an expert's with the expert's key: by the node while that key is
    still sealed with the vault, else by the caller who knows the
    expert's password (the node hands out the ciphertexts and the key's
    wraps, as for the dossier). Reading marks the messages read and
    queues a RECEIPT for each; receipts of the others arrive as RECEIPT.
    Notifications say only that there is a message (en_node_notify).
*/
#include "en_node_int.h"
#include <sodium.h>
#include <inttypes.h>

//  "team" or an expert id
static bool
s_who_valid (const char *who)
{
    return who && (streq (who, "team") || en_name_valid (who));
}

static bool
s_hex_key (const char *text)
{
    return text && strlen (text) == 64 && strspn (text, "0123456789abcdef") == 64;
}

//  Tell listeners (after commit): the request's topic when it is ours,
//  each of our experts' topics among who (a JSON object or array of names).
static void
s_publish (en_node_t *self, const char *request, json_t *who, json_t *event)
{
    json_t *request_row = en_nstore_request (self->store, request);
    if (request_row)
        en_node_publish (self, "request", request, event);
    json_decref (request_row);
    const char *name;
    json_t *value;
    size_t index;
    if (json_is_object (who))
        json_object_foreach (who, name, value)
            if (!streq (name, "team"))
                en_node_publish (self, "expert", name, event);
    if (json_is_array (who))
        json_array_foreach (who, index, value)
            if (json_string_value (value) && !streq (json_string_value (value), "team"))
                en_node_publish (self, "expert", json_string_value (value), event);
}

//  --------------------------------------------------------------------
//  From the broker

int
en_node_convo_on_members (en_node_t *self, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    const char *request = en_json_str (body, "request");
    json_t *members = json_object_get (body, "members");
    if (!en_id_valid (request) || !json_is_array (members))
        return en_node_invalid (error);
    size_t index;
    json_t *member;
    json_t *names = json_array ();
    json_array_foreach (members, index, member) {
        json_array_append (names, json_object_get (member, "who"));
        if (!s_who_valid (en_json_str (member, "who")) || !s_hex_key (en_json_str (member, "box_key"))) {
            json_decref (names);
            return en_node_invalid (error);
        }
    }
    if (en_nstore_convo_members_put (self->store, request, members)) {
        json_decref (names);
        return en_node_store_failed (error);
    }
    json_t *event = json_pack ("{s:s, s:s, s:o}", "type", "members", "request", request, "members", names);
    s_publish (self, request, json_object_get (event, "members"), event);
    json_decref (event);
    return 0;
}

//  The urgency of request as this node knows it (ours, or an offer), for
//  a notification's channel; NULL when unknown.
static char *
s_urgency (en_node_t *self, const char *request, const char *offer)
{
    json_t *row = offer ? en_nstore_offer (self->store, offer) : en_nstore_request (self->store, request);
    json_t *summary = json_object_get (row, offer ? "request" : "summary");
    char *urgency = en_json_str (summary, "urgency") ? strdup (en_json_str (summary, "urgency")) : NULL;
    json_decref (row);
    return urgency;
}

//  Tell each of this node's recipients of a new message (not the sender).
//  0 or -1.
static int
s_notify (en_node_t *self, json_t *body)
{
    const char *request = en_json_str (body, "request");
    const char *from = en_json_str (body, "from");
    bool advice = streq (en_json_str (body, "kind"), "advice");
    const char *recipient;
    json_t *sealed;
    int rc = 0;
    json_object_foreach (json_object_get (body, "sealed"), recipient, sealed) {
        if (streq (recipient, from))
            continue;
        bool team = streq (recipient, "team");
        char *offer = team ? NULL : en_nstore_accepted_offer (self->store, request, recipient);
        char *urgency = s_urgency (self, request, offer);
        rc |= en_node_notify_queue (self, team && advice ? "advies" : "bericht", offer, request,
                                    team ? NULL : recipient, urgency, 0);
        free (urgency);
        free (offer);
    }
    return rc;
}

int
en_node_convo_on_message (en_node_t *self, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    const char *request = en_json_str (body, "request");
    const char *kind = en_json_str (body, "kind");
    json_t *sealed = json_object_get (body, "sealed");
    if (!en_id_valid (request) || en_json_int (body, "seq", 0) < 1 || !s_who_valid (en_json_str (body, "from"))
    ||  !kind || (!streq (kind, "message") && !streq (kind, "advice")) || !json_is_object (sealed)
    ||  !en_json_str (body, "box"))
        return en_node_invalid (error);
    const char *recipient;
    json_t *text;
    json_object_foreach (sealed, recipient, text)
        if (!s_who_valid (recipient) || !json_is_string (text))
            return en_node_invalid (error);
    int stored = en_nstore_convo_message_put (self->store, body);
    if (stored < 0)
        return en_node_store_failed (error);
    if (stored == 0)
        return 0;                           //  this (request, seq) came before: kept once
    if (s_notify (self, body))
        return en_node_store_failed (error);
    char detail [48];
    snprintf (detail, sizeof detail, "seq %" PRId64 " %s", en_json_int (body, "seq", 0), kind);
    en_node_audit (self, "message.receive", request, en_msg_sender (msg), en_json_str (body, "from"),
                   "receive", "ok", detail);
    json_t *event = json_pack ("{s:s, s:s, s:I, s:s, s:s}", "type", "message", "request", request,
                               "seq", (json_int_t) en_json_int (body, "seq", 0), "from",
                               en_json_str (body, "from"), "kind", kind);
    s_publish (self, request, sealed, event);
    json_decref (event);
    return 0;
}

int
en_node_convo_on_receipt (en_node_t *self, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    const char *request = en_json_str (body, "request");
    const char *reader = en_json_str (body, "reader");
    int64_t seq = en_json_int (body, "seq", 0);
    if (!en_id_valid (request) || seq < 1 || !s_who_valid (reader))
        return en_node_invalid (error);
    if (en_nstore_convo_receipt_put (self->store, request, seq, reader, en_json_int (body, "at", en_now_ms ())))
        return en_node_store_failed (error);
    json_t *members = en_nstore_convo_members (self->store, request);
    json_t *names = json_array ();
    size_t index;
    json_t *member;
    json_array_foreach (members, index, member)
        json_array_append (names, json_object_get (member, "who"));
    json_t *event = json_pack ("{s:s, s:s, s:I, s:s}", "type", "receipt", "request", request,
                               "seq", (json_int_t) seq, "reader", reader);
    s_publish (self, request, names, event);
    json_decref (event);
    json_decref (names);
    json_decref (members);
    return 0;
}

//  --------------------------------------------------------------------
//  The team's key

int
en_node_convo_team_key (en_node_t *self, const char *request, char public_hex [65])
{
    unsigned char public_key [crypto_box_PUBLICKEYBYTES], secret_key [crypto_box_SECRETKEYBYTES];
    crypto_box_keypair (public_key, secret_key);
    char secret_hex [crypto_box_SECRETKEYBYTES * 2 + 1];
    sodium_bin2hex (public_hex, 65, public_key, sizeof public_key);
    sodium_bin2hex (secret_hex, sizeof secret_hex, secret_key, sizeof secret_key);
    sodium_memzero (secret_key, sizeof secret_key);
    char *sealed = en_vault_seal (self->vault, secret_hex);
    sodium_memzero (secret_hex, sizeof secret_hex);
    int rc = sealed ? en_nstore_convo_team_key_put (self->store, request, public_hex, sealed) : -1;
    free (sealed);
    return rc;
}

//  --------------------------------------------------------------------
//  The verbs: who speaks, and about which request

typedef struct {
    char *request;              //  the request id
    char *who;                  //  "team" or the expert's id
} s_speaker_t;

static void
s_speaker_free (s_speaker_t *speaker)
{
    free (speaker->request);
    free (speaker->who);
}

//  Who speaks (or reads) for args: with `offer`, that offer's expert
//  (`expert`, if given, must be it); with `request` and `expert`, that
//  expert of this node; with `request` only, the team of one of our
//  requests. An account that is an expert's speaks only for that expert,
//  any other account only for the team. 0, or -1 with 404/403/400.
static int
s_speaker (en_node_t *self, json_t *args, s_speaker_t *speaker, en_error_t *error)
{
    const char *offer_id = en_json_str (args, "offer");
    const char *request = en_json_str (args, "request");
    const char *expert = en_json_str (args, "expert");
    json_t *offer = offer_id ? en_nstore_offer (self->store, offer_id) : NULL;
    json_t *row = NULL;
    int rc = 0;
    if (offer_id && !offer)
        rc = en_error_set (error, EN_ERR_NOT_FOUND, "no offer '%.80s' at this node", offer_id);
    else
    if (offer && expert && !streq (expert, en_json_str (offer, "expert")))
        rc = en_error_set (error, EN_ERR_FORBIDDEN, "offer '%s' was made to another expert", offer_id);
    else
    if (!offer && !request)
        rc = en_error_set (error, EN_ERR_BAD_REQUEST, "give a request or an offer");
    else
    if (!offer && expert && !(row = en_nstore_expert (self->store, expert)))
        rc = en_error_set (error, EN_ERR_NOT_FOUND, "no expert '%.63s' at this node", expert);
    else
    if (!offer && !expert && !(row = en_nstore_request (self->store, request)))
        rc = en_error_set (error, EN_ERR_NOT_FOUND, "no request '%.80s' at this node", request);
    if (rc == 0) {
        speaker->request = strdup (offer ? en_json_str (offer, "request_id") : request);
        speaker->who = strdup (offer ? en_json_str (offer, "expert") : expert ? expert : "team");
        const char *user = en_json_str (args, "_user");
        json_t *account = user ? en_nstore_user (self->store, user) : NULL;
        const char *own = account && streq (en_json_str (account, "role"), "expert")
                        ? en_json_str (account, "expert") : "team";
        if (account && !streq (own ? own : "", speaker->who))
            rc = en_error_set (error, EN_ERR_FORBIDDEN, "'%.63s' cannot speak or read for '%s'", user, speaker->who);
        json_decref (account);
    }
    json_decref (row);
    json_decref (offer);
    if (rc)
        s_speaker_free (speaker);
    return rc;
}

//  The participants of speaker's request, when speaker is one of them;
//  else NULL with 409.
static json_t *
s_members (en_node_t *self, s_speaker_t *speaker, en_error_t *error)
{
    json_t *members = en_nstore_convo_members (self->store, speaker->request);
    size_t index;
    json_t *member;
    json_array_foreach (members, index, member)
        if (streq (en_json_str (member, "who"), speaker->who))
            return members;
    json_decref (members);
    en_error_set (error, EN_ERR_CONFLICT, "'%s' takes no part in a conversation about '%s' (it starts when an "
                  "expert accepts, and ends when the request is closed)", speaker->who, speaker->request);
    return NULL;
}

//  The text encrypted once (*box_b64, caller frees), its key sealed to
//  every participant: {who: base64}, or NULL.
static json_t *
s_seal_all (json_t *members, const char *text, char **box_b64)
{
    char key_hex [65];
    if (en_keywrap_message_seal (text, box_b64, key_hex))
        return NULL;
    json_t *sealed = json_object ();
    size_t index;
    json_t *member;
    json_array_foreach (members, index, member) {
        char *b64 = en_node_seal_to (en_json_str (member, "box_key"), key_hex);
        if (!b64) {
            json_decref (sealed);
            sealed = NULL;
            break;
        }
        json_object_set_new (sealed, en_json_str (member, "who"), json_string (b64));
        free (b64);
    }
    sodium_memzero (key_hex, sizeof key_hex);
    return sealed;
}

//  Queue MESSAGE: text checked by the PII guard, sealed to every member.
//  The message id (caller frees), or NULL with error.
static char *
s_send (en_node_t *self, s_speaker_t *speaker, json_t *members, const char *kind, const char *text,
        const char *user, en_error_t *error)
{
    json_t *checked = json_pack ("{s:s}", "text", text);
    json_t *sealed = NULL;
    char *box = NULL;
    char *msg_id = NULL;
    en_db_t *db = en_nstore_db (self->store);
    if (en_node_verbs_begin (self, error))
        ;
    else
    if (en_node_guard (self, "message", checked, user, error))
        en_db_commit (db);                  //  keeps the refusal's access-log entry
    else
    if (!(sealed = s_seal_all (members, text, &box))) {
        en_db_rollback (db);
        en_error_set (error, EN_ERR_INTERNAL, "a participant's key is not usable");
    }
    else
    if ((msg_id = en_node_queue (self, "MESSAGE", json_pack ("{s:s, s:s, s:s, s:s, s:O}", "request", speaker->request,
                                 "from", speaker->who, "kind", kind, "box", box, "sealed", sealed), user, error))) {
        en_node_audit (self, "message.send", speaker->request, user, speaker->who, "send", "ok", kind);
        if (en_nstore_convo_sent_put (self->store, msg_id, speaker->request, speaker->who, kind) || en_db_commit (db)) {
            en_db_rollback (db);
            free (msg_id);
            msg_id = NULL;
            en_error_set (error, EN_ERR_INTERNAL, "could not queue the message");
        }
    }
    else
        en_db_commit (db);
    json_decref (sealed);
    json_decref (checked);
    free (box);
    return msg_id;
}

json_t *
en_node_convo_verb_message (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    const char *text = en_json_str (args, "text");
    const char *kind = en_json_str (args, "kind") ?: "message";
    if (!text || strlen (text) == 0 || strlen (text) > EN_MAX_ADVICE) {
        en_error_set (error, EN_ERR_INVALID, "field 'text' must be text of 1 to %d bytes", EN_MAX_ADVICE);
        return NULL;
    }
    if (!streq (kind, "message") && !streq (kind, "advice")) {
        en_error_set (error, EN_ERR_INVALID, "field 'kind' must be message or advice");
        return NULL;
    }
    s_speaker_t speaker = { 0 };
    if (s_speaker (self, args, &speaker, error))
        return NULL;
    json_t *result = NULL;
    json_t *members = NULL;
    if (streq (kind, "advice") && streq (speaker.who, "team"))
        en_error_set (error, EN_ERR_INVALID, "an advice comes from an expert (give --expert)");
    else
    if ((members = s_members (self, &speaker, error))) {
        char *msg_id = s_send (self, &speaker, members, kind, text, en_json_str (args, "_user"), error);
        if (msg_id)
            result = json_pack ("{s:s, s:s, s:s, s:s}", "request", speaker.request, "from", speaker.who,
                                "kind", kind, "message", msg_id);
        free (msg_id);
    }
    json_decref (members);
    s_speaker_free (&speaker);
    return result;
}

//  The key pair that opens speaker's copies: the request's team key, or
//  the expert's key while it is sealed with the vault (the node opens);
//  else the wraps of the expert's key into *wrapped (the caller opens).
//  *box_public (caller frees) and secret_key filled when the node opens.
//  1 the node opens, 0 the caller does, -1 with error.
static int
s_key (en_node_t *self, s_speaker_t *speaker, char **box_public, unsigned char *secret_key, json_t **wrapped,
       en_error_t *error)
{
    bool team = streq (speaker->who, "team");
    json_t *keys = team ? en_nstore_convo_team_key (self->store, speaker->request)
                        : en_nstore_expert_key (self->store, speaker->who);
    if (!keys) {
        en_error_set (error, EN_ERR_CONFLICT, "'%s' has no key for this conversation here", speaker->who);
        return -1;
    }
    *box_public = strdup (en_json_str (keys, "box_public"));
    int rc = 0;
    if (en_json_str (keys, "box_secret")) {
        char *hex = en_vault_unseal (self->vault, en_json_str (keys, "box_secret"));
        size_t size = 0;
        rc = hex && sodium_hex2bin (secret_key, crypto_box_SECRETKEYBYTES, hex, strlen (hex), NULL, &size, NULL) == 0
             && size == crypto_box_SECRETKEYBYTES ? 1 : -1;
        en_secret_free (&hex);
        if (rc < 0)
            en_error_set (error, EN_ERR_INTERNAL, "the key of '%s' cannot be opened (data key missing or wrong?)",
                          speaker->who);
    }
    else
        *wrapped = json_pack ("{s:O, s:O}", "password", json_object_get (keys, "wrap_password"),
                              "recovery", json_object_get (keys, "wrap_recovery"));
    json_decref (keys);
    return rc;
}

//  Mark what speaker read (not their own) and queue a RECEIPT for each,
//  with the read in the access log, in one transaction. 0 or -1.
static int
s_mark_read (en_node_t *self, s_speaker_t *speaker, json_t *rows, const char *user, en_error_t *error)
{
    if (en_node_verbs_begin (self, error))
        return -1;
    int64_t now = en_now_ms ();
    int rc = 0;
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row) {
        int64_t seq = en_json_int (row, "seq", 0);
        if (rc || streq (en_json_str (row, "from"), speaker->who) || json_is_null (json_object_get (row, "sealed")))
            continue;
        int fresh = en_nstore_convo_read (self->store, speaker->request, seq, speaker->who, now);
        char *msg_id = fresh == 1 ? en_node_queue (self, "RECEIPT", json_pack ("{s:s, s:I, s:s}", "request",
                                    speaker->request, "seq", (json_int_t) seq, "reader", speaker->who), user, error)
                     : NULL;
        rc = fresh < 0 || (fresh == 1 && !msg_id) ? -1 : 0;
        free (msg_id);
    }
    en_node_audit (self, "message.read", speaker->request, user, speaker->who, "read", "ok", NULL);
    if (rc || en_db_commit (en_nstore_db (self->store))) {
        en_db_rollback (en_nstore_db (self->store));
        return en_error_set (error, EN_ERR_INTERNAL, "could not record the read");
    }
    return 0;
}

json_t *
en_node_convo_verb_thread (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    s_speaker_t speaker = { 0 };
    if (s_speaker (self, args, &speaker, error))
        return NULL;
    json_t *rows = en_nstore_convo_thread (self->store, speaker.request, speaker.who);
    json_t *members = en_nstore_convo_members (self->store, speaker.request);
    char *box_public = NULL;
    json_t *wrapped = NULL;
    unsigned char *secret_key = (unsigned char *) sodium_malloc (crypto_box_SECRETKEYBYTES);
    int opens = json_array_size (rows) ? s_key (self, &speaker, &box_public, secret_key, &wrapped, error) : 0;
    const char *user = en_json_str (args, "_user");
    json_t *result = NULL;
    //  (nothing to read: no receipts, no access-log entry)
    if (opens >= 0 && (json_array_size (rows) == 0 || json_is_false (json_object_get (args, "read"))
                       || s_mark_read (self, &speaker, rows, user, error) == 0)) {
        if (opens == 1)
            en_keywrap_thread_open (rows, box_public, secret_key);
        json_t *names = json_array ();
        size_t index;
        json_t *member;
        json_array_foreach (members, index, member)
            json_array_append (names, json_object_get (member, "who"));
        result = json_pack ("{s:s, s:s, s:o, s:O, s:o}", "request", speaker.request, "reader", speaker.who,
                            "members", names, "messages", rows, "unsent",
                            en_nstore_convo_unsent (self->store, speaker.request, speaker.who));
        if (wrapped)
            json_object_set_new (result, "box_public", json_string (box_public));
        if (wrapped)
            json_object_set (result, "wrapped", wrapped);
    }
    sodium_free (secret_key);
    free (box_public);
    json_decref (wrapped);
    json_decref (members);
    json_decref (rows);
    s_speaker_free (&speaker);
    return result;
}
