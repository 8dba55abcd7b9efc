/*  en_node_verbs - the node's control verbs: what `expertnet` and the
    portal ask of the node, one table.

    A control request is a verb and a JSON object of arguments
    (en_control); the reply is the verb's result, or an error with a
    code and one line of reason (docs/protocol.md's codes). Each verb is
    a row {verb, what it needs, handler}: en_node_verbs here (requests, offers,
    experts, the case register, the access log, status) and
    en_node_account_verbs in en_node_accounts.c (accounts and the experts'
    keys). A verb that queued messages for the broker (EN_VERB_SENDS)
    makes the daemon flush its outbox at once, so a submit leaves when it
    is answered. A failure is answered, not logged; a store that failed
    for want of space says "disk full" instead of "could not ...".

    A verb that changes the store does it in one transaction, with its
    access-log entry and the messages it queues (en_node_queue, behind the
    PII guard); a refusal by the guard is committed on its own, so the
    refusal stays in the access log. Every caller passes "_user", the
    person it acts for; the portal decides who may call what, the node
    trusts its control sockets (0700 in the data directory, inproc).
*/
#include "en_node_int.h"
#include <sodium.h>

//  Open a verb's transaction. 0, or -1 with a 500 when the store cannot.
int
en_node_verbs_begin (en_node_t *self, en_error_t *error)
{
    if (en_db_begin (en_nstore_db (self->store)) == 0)
        return 0;
    return en_error_set (error, EN_ERR_INTERNAL, "could not open a transaction in the node's store");
}

//  --------------------------------------------------------------------
//  Requests (the team's side)

//  The request of a submit, with this node's region and a new id where
//  the caller gave none, validated. NULL with error.
static json_t *
s_submit_request (en_node_t *self, json_t *args, en_error_t *error)
{
    json_t *request = json_deep_copy (json_object_get (args, "request"));
    if (!json_is_object (request)) {
        json_decref (request);
        en_error_set (error, EN_ERR_BAD_REQUEST, "no request given");
        return NULL;
    }
    if (!json_object_get (request, "region"))
        json_object_set_new (request, "region", json_string (self->region));
    if (!json_object_get (request, "id")) {
        char suffix [9], id [96];
        en_random_hex (suffix, 8);
        snprintf (id, sizeof id, "%s-%s", en_json_str (request, "region") ?: self->region, suffix);
        json_object_set_new (request, "id", json_string (id));
    }
    if (en_request_validate (request, error)) {
        json_decref (request);
        return NULL;
    }
    const char *pseudonym = en_json_str (request, "case");
    char *sealed = pseudonym ? en_nstore_case_sealed (self->store, pseudonym) : NULL;
    free (sealed);
    if (pseudonym && !sealed) {
        en_error_set (error, EN_ERR_NOT_FOUND, "no case '%s' in this node's register (expertnet case add)",
                      pseudonym);
        json_decref (request);
        return NULL;
    }
    return request;
}

//  The detailed dossier of a submit: guarded like everything else, kept
//  sealed here, released only to the expert who accepts. 0 with
//  *sealed_p the sealed text (NULL when there is no dossier), or -1.
static int
s_submit_dossier (en_node_t *self, json_t *args, const char *user, char **sealed_p, en_error_t *error)
{
    *sealed_p = NULL;
    const char *dossier = en_json_str (args, "dossier");
    if (!dossier)
        return 0;
    if (strlen (dossier) > EN_MAX_ADVICE)
        return en_error_set (error, EN_ERR_INVALID, "dossier over %d bytes", EN_MAX_ADVICE);
    json_t *wrapped = json_pack ("{s:s}", "dossier", dossier);
    int guarded = en_node_guard (self, NULL, wrapped, user, error);
    json_decref (wrapped);
    if (guarded)
        return -1;
    *sealed_p = en_vault_seal (self->vault, dossier);
    return 0;
}

//  A new request of this region: stored with its sealed dossier and
//  queued as SUBMIT in one transaction.
static json_t *
s_verb_submit (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    json_t *request = s_submit_request (self, args, error);
    if (!request)
        return NULL;
    const char *id = en_json_str (request, "id");
    const char *pseudonym = en_json_str (request, "case");
    const char *user = en_json_str (args, "_user");
    char *dossier_sealed = NULL;
    if (s_submit_dossier (self, args, user, &dossier_sealed, error)) {
        json_decref (request);
        return NULL;
    }
    en_db_t *db = en_nstore_db (self->store);
    if (en_db_begin (db)) {
        //  Outside a transaction the outbox message could stay without
        //  its request
        en_error_set (error, EN_ERR_INTERNAL, "could not store request '%s'", id);
        free (dossier_sealed);
        json_decref (request);
        return NULL;
    }
    //  The team's key for the request's conversation, sent beside the summary
    char team_key [65];
    if (en_node_convo_team_key (self, id, team_key)) {
        en_db_rollback (db);
        en_error_set (error, EN_ERR_INTERNAL, "could not make the team's key for '%s'", id);
        free (dossier_sealed);
        json_decref (request);
        return NULL;
    }
    char *msg_id = en_node_queue (self, "SUBMIT", json_pack ("{s:O, s:s}", "request", request, "team_key", team_key),
                                  user, error);
    if (!msg_id) {
        en_db_commit (db);          //  keeps the refusal's access-log entry
        free (dossier_sealed);
        json_decref (request);
        return NULL;
    }
    int rc = en_nstore_request_insert (self->store, request, msg_id, error);
    free (msg_id);
    bool stored = rc == 0 && !(dossier_sealed && en_nstore_request_dossier_put (self->store, id, dossier_sealed));
    free (dossier_sealed);
    if (stored)
        en_node_audit (self, "request.submit", pseudonym ? pseudonym : id, user, self->name, "send", "ok", id);
    json_t *result = NULL;
    if (!stored || en_db_commit (db)) {
        en_db_rollback (db);
        if (rc == 0)                //  else the insert said why
            en_error_set (error, EN_ERR_INTERNAL, "could not store request '%s'", id);
    }
    else {
        zsys_info ("request %s queued (%s)", id, en_json_str (request, "urgency"));
        result = json_pack ("{s:s, s:s}", "id", id, "state", "queued");
    }
    json_decref (request);
    return result;
}

//  What a verb looked up: the row, or NULL with 404 "no <what> '<id>'
//  at this node" (a lookup of a NULL id finds nothing)
static json_t *
s_found (json_t *row, const char *what, const char *id, en_error_t *error)
{
    if (!row)
        en_error_set (error, EN_ERR_NOT_FOUND, "no %s '%s' at this node", what, id ? id : "");
    return row;
}

static json_t *
s_verb_close (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    const char *id = en_json_str (args, "id");
    json_t *request = s_found (en_nstore_request (self->store, id), "request", id, error);
    if (!request)
        return NULL;
    const char *state = en_json_str (request, "state");
    if (streq (state, "closed") || streq (state, "rejected")) {
        en_error_set (error, EN_ERR_CONFLICT, "request '%s' is %s", id, state);
        json_decref (request);
        return NULL;
    }
    json_decref (request);
    json_t *body = json_pack ("{s:s}", "request", id);
    const char *outcome = en_json_str (args, "outcome");
    if (outcome)
        json_object_set_new (body, "outcome", json_string (outcome));
    if (en_node_verbs_begin (self, error)) {
        json_decref (body);
        return NULL;
    }
    en_db_t *db = en_nstore_db (self->store);
    const char *user = en_json_str (args, "_user");
    char *msg_id = en_node_queue (self, "CLOSE", body, user, error);
    if (!msg_id) {
        en_db_commit (db);          //  keeps the refusal's access-log entry
        return NULL;
    }
    en_node_audit (self, "request.close", id, user, self->name, "send", "ok", NULL);
    if (en_nstore_request_closing (self->store, id, msg_id) || en_db_commit (db)) {
        en_db_rollback (db);
        free (msg_id);
        en_error_set (error, EN_ERR_INTERNAL, "could not queue close");
        return NULL;
    }
    json_t *result = json_pack ("{s:s, s:s}", "id", id, "message", msg_id);
    free (msg_id);
    return result;
}

//  The team replies to an advice: the text is sealed to the accepting
//  expert (as the dossier is) and queued as REPLY; the team's own copy is
//  an event of the request, like the advice it answers.
static json_t *
s_verb_reply (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    const char *id = en_json_str (args, "id");
    const char *text = en_json_str (args, "text");
    json_t *request = id ? en_nstore_request (self->store, id) : NULL;
    //  A team's reply goes to the expert of one place (EXPN/3: `place`)
    int64_t place = en_json_int (args, "place", 0);
    json_t *places = json_object_get (request, "places");
    json_t *at = place > 0 ? json_array_get (places, (size_t) place - 1) : NULL;
    char *box_key = request ? en_nstore_request_box_key (self->store, id, place) : NULL;
    const char *state = at ? en_json_str (at, "state") : request ? en_json_str (request, "state") : NULL;
    json_t *result = NULL;
    char *b64 = NULL;
    if (!request)
        en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s' at this node", id ? id : "");
    else
    if (place < 0 || (place > 0 && !at) || (place == 0 && json_array_size (places) > 1))
        en_error_set (error, EN_ERR_INVALID, "field 'place' must name a place of '%s' (1 to %zu)", id,
                      json_array_size (places));
    else
    if (!text || strlen (text) == 0 || strlen (text) > EN_MAX_ADVICE)
        en_error_set (error, EN_ERR_INVALID, "field 'text' must be text of 1 to %d bytes", EN_MAX_ADVICE);
    else
    if (!streq (state, "accepted") && !streq (state, "advice") && !streq (state, "monitoring"))
        en_error_set (error, EN_ERR_CONFLICT, "request '%s' is %s: a reply goes to an expert who accepted it",
                      id, state);
    else
    if (!(b64 = en_node_seal_to (box_key, text)))
        en_error_set (error, EN_ERR_CONFLICT, "the expert who accepted '%s' has no key to seal a reply to", id);
    else
    if (en_node_verbs_begin (self, error) == 0) {
        en_db_t *db = en_nstore_db (self->store);
        const char *user = en_json_str (args, "_user");
        json_t *body = json_pack ("{s:s, s:s}", "request", id, "sealed", b64);
        if (place > 0)
            json_object_set_new (body, "place", json_integer (place));
        char *msg_id = en_node_queue (self, "REPLY", body, user, error);
        if (msg_id) {
            en_node_audit (self, "reply.send", id, user, en_json_str (request, "expert"), "send", "ok",
                           "sealed to the accepting expert");
            if (en_nstore_request_reply (self->store, id, text) || en_db_commit (db)) {
                en_db_rollback (db);
                en_error_set (error, EN_ERR_INTERNAL, "could not queue the reply");
            }
            else
                result = json_pack ("{s:s, s:s}", "id", id, "message", msg_id);
            free (msg_id);
        }
        else
            en_db_commit (db);      //  keeps the refusal's access-log entry
    }
    free (b64);
    free (box_key);
    json_decref (request);
    return result;
}

//  --------------------------------------------------------------------
//  Experts and their answers to offers

//  Give an expert a box key pair for sealed dossiers: the public key is
//  published with the expert's availability; the secret key stays here,
//  sealed with the vault's data key. 0 or -1.
static int
s_expert_box_key (en_node_t *self, json_t *expert)
{
    unsigned char public_key [crypto_box_PUBLICKEYBYTES], secret_key [crypto_box_SECRETKEYBYTES];
    crypto_box_keypair (public_key, secret_key);
    char public_hex [crypto_box_PUBLICKEYBYTES * 2 + 1], secret_hex [crypto_box_SECRETKEYBYTES * 2 + 1];
    sodium_bin2hex (public_hex, sizeof public_hex, public_key, sizeof public_key);
    sodium_bin2hex (secret_hex, sizeof secret_hex, secret_key, sizeof secret_key);
    sodium_memzero (secret_key, sizeof secret_key);
    char *sealed = en_vault_seal (self->vault, secret_hex);
    sodium_memzero (secret_hex, sizeof secret_hex);
    int rc = sealed ? en_nstore_expert_key_put (self->store, en_json_str (expert, "id"), public_hex, sealed) : -1;
    free (sealed);
    if (rc == 0)
        json_object_set_new (expert, "box_key", json_string (public_hex));
    return rc;
}

//  Store an expert (with a box key pair the first time) and its contact,
//  and queue the region's experts for the broker, in one transaction.
//  0 or -1.
static int
s_expert_store (en_node_t *self, json_t *expert, const char *email, const char *phone, const char *user,
                en_error_t *error)
{
    if (en_node_verbs_begin (self, error))
        return -1;
    en_db_t *db = en_nstore_db (self->store);
    const char *id = en_json_str (expert, "id");
    if (!json_object_get (expert, "box_key") && s_expert_box_key (self, expert)) {
        en_db_rollback (db);
        return en_error_set (error, EN_ERR_INTERNAL, "could not make the expert's key pair");
    }
    int rc = en_nstore_expert_put (self->store, expert) || en_node_queue_availability (self);
    if (rc == 0 && (email || phone))
        rc = en_nstore_contact_put (self->store, id, email, phone);
    if (rc == 0 && (email || phone))
        en_node_audit (self, "expert.contact", NULL, user, id, "update", "ok", NULL);
    if (rc || en_db_commit (db)) {
        en_db_rollback (db);
        return en_error_set (error, EN_ERR_INTERNAL, "could not store expert");
    }
    return 0;
}

//  expert-add, expert-update: the expert as published (region, box key,
//  availability), its contact kept here only.
static json_t *
s_verb_expert_put (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    bool update = streq (verb, "expert-update");
    json_t *fields = json_object_get (args, "expert");
    const char *id = en_json_str (fields, "id");
    json_t *existing = id ? en_nstore_expert (self->store, id) : NULL;
    if (update && !existing) {
        en_error_set (error, EN_ERR_NOT_FOUND, "no expert '%s' at this node (add it first)", id ? id : "");
        return NULL;
    }
    if (!update && existing) {
        en_error_set (error, EN_ERR_CONFLICT, "expert '%s' exists (use 'expert update')", id);
        json_decref (existing);
        return NULL;
    }
    //  Contact details stay at this node: taken out of what is published
    const char *email = en_json_str (args, "email") ?: en_json_str (fields, "email");
    const char *phone = en_json_str (args, "phone") ?: en_json_str (fields, "phone");
    if ((email && *email && !en_notify_email_valid (email)) || (phone && *phone && !en_notify_phone_valid (phone))) {
        en_error_set (error, EN_ERR_INVALID, "%s", email && *email && !en_notify_email_valid (email)
                      ? "field 'email' is not an e-mail address"
                      : "field 'phone' must be an international number: + and 8 to 15 digits (e.g. +31612345678)");
        json_decref (existing);
        return NULL;
    }
    char *email_copy = email ? strdup (email) : NULL;
    char *phone_copy = phone ? strdup (phone) : NULL;
    json_object_del (fields, "email");
    json_object_del (fields, "phone");
    json_t *expert = existing ? existing : json_pack ("{s:i, s:b}", "capacity", 1, "bovenregionaal", 0);
    json_object_del (fields, "box_key");       //  ours to make, not the caller's
    json_object_update (expert, fields);
    json_object_set_new (expert, "region", json_string (self->region));
    int rc = en_expert_validate (expert, error)
           ? -1
           : s_expert_store (self, expert, email_copy, phone_copy, en_json_str (args, "_user"), error);
    free (email_copy);
    free (phone_copy);
    if (rc) {
        json_decref (expert);
        return NULL;
    }
    //  The caller (CLI, portal) sees the contact; the broker never does
    json_t *contact = en_nstore_contact (self->store, id);
    if (en_json_str (contact, "email"))
        json_object_set (expert, "email", json_object_get (contact, "email"));
    if (en_json_str (contact, "phone"))
        json_object_set (expert, "phone", json_object_get (contact, "phone"));
    json_decref (contact);
    return expert;
}

//  An expert's answers to an offer: what each sends and logs
typedef struct {
    const char *verb;           //  accept, decline, advise
    const char *command;        //  the message for the broker
    const char *event;          //  the access-log event
    const char *action;         //  the access-log action
} s_answer_t;

static const s_answer_t s_answers [] = {
    { "accept",  "ACCEPT",  "offer.accept",  "accept" },
    { "decline", "DECLINE", "offer.decline", "update" },
    { "advise",  "ADVICE",  "advice.send",   "send" },
};

//  The body of an answer to the offer, if the offer may have it now:
//  advice after an accept, accept or decline (with a reason) of an open
//  offer not answered yet. NULL with error.
static json_t *
s_answer_body (json_t *offer, const char *id, const char *verb, json_t *args, en_error_t *error)
{
    const char *state = en_json_str (offer, "state");
    const char *answer = en_json_str (offer, "answer");
    const char *status = en_json_str (offer, "answer_status");
    bool accepted = answer && streq (answer, "accept") && status && !streq (status, "refused");
    if (streq (verb, "advise")) {
        const char *text = en_json_str (args, "text");
        if (!accepted)
            en_error_set (error, EN_ERR_CONFLICT, "offer '%s' has not been accepted", id);
        else
        if (!text || !*text || strlen (text) > EN_MAX_ADVICE)
            en_error_set (error, EN_ERR_INVALID, "advice text must be 1 to %d bytes", EN_MAX_ADVICE);
        else
            return json_pack ("{s:s, s:s}", "offer", id, "text", text);
        return NULL;
    }
    if (!streq (state, "open") || (answer && !streq (status, "refused"))) {
        en_error_set (error, EN_ERR_CONFLICT, "offer '%s' is %s%s", id, answer ? "already answered: " : "",
                      answer ? answer : state);
        return NULL;
    }
    if (streq (verb, "accept"))
        return json_pack ("{s:s}", "offer", id);
    const char *reason = en_json_str (args, "reason");
    if (!reason || !*reason || strlen (reason) > 500) {
        en_error_set (error, EN_ERR_INVALID, "a decline needs a reason (1 to 500 bytes)");
        return NULL;
    }
    return json_pack ("{s:s, s:s}", "offer", id, "reason", reason);
}

//  accept, decline, advise: an expert's answer to an offer, queued for
//  the broker with the offer's new state in one transaction.
static json_t *
s_verb_answer (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    const s_answer_t *kind = NULL;
    for (size_t index = 0; index < sizeof s_answers / sizeof s_answers [0]; index++)
        if (streq (s_answers [index].verb, verb))
            kind = &s_answers [index];
    assert (kind);
    const char *id = en_json_str (args, "offer");
    json_t *offer = s_found (en_nstore_offer (self->store, id), "offer", id, error);
    if (!offer)
        return NULL;
    json_t *body = s_answer_body (offer, id, verb, args, error);
    if (!body || en_node_verbs_begin (self, error)) {
        json_decref (body);
        json_decref (offer);
        return NULL;
    }
    en_db_t *db = en_nstore_db (self->store);
    const char *user = en_json_str (args, "_user");
    char *msg_id = en_node_queue (self, kind->command, body, user, error);
    json_t *result = NULL;
    if (!msg_id)
        en_db_commit (db);          //  keeps the refusal's access-log entry
    else {
        en_node_audit (self, kind->event, en_json_str (offer, "request_id"), user, en_json_str (offer, "expert"),
                       kind->action, "ok", id);
        if (en_nstore_offer_answer (self->store, id, verb, msg_id) || en_db_commit (db)) {
            en_db_rollback (db);
            en_error_set (error, EN_ERR_INTERNAL, "could not queue answer");
        }
        else
            result = json_pack ("{s:s, s:s, s:s}", "offer", id, "answer", verb, "message", msg_id);
        free (msg_id);
    }
    json_decref (offer);
    return result;
}

//  --------------------------------------------------------------------
//  The case register: identifying data, sealed, only here

//  Publish a case's anonymized summary (SUMMARY) after a change: what the
//  broker aggregates for the rode draden report. Never identifying data:
//  only the closed vocabularies of en_summary_validate, the phases'
//  times, the outcome, and the pseudonym. Inside the caller's
//  transaction. 0 or -1 with error.
static int
s_publish_summary (en_node_t *self, const char *pseudonym, const char *user, en_error_t *error)
{
    json_t *record = en_nstore_case_record (self->store, pseudonym);
    if (!record) {
        en_error_set (error, EN_ERR_NOT_FOUND, "no case '%s'", pseudonym);
        return -1;
    }
    json_t *body = json_pack ("{s:s, s:s, s:O, s:O}", "case", pseudonym, "region", self->region,
                              "summary", json_object_get (record, "summary"),
                              "phases", json_object_get (record, "phases"));
    if (json_is_object (json_object_get (record, "outcome")))
        json_object_set (body, "outcome", json_object_get (record, "outcome"));
    json_decref (record);
    char *msg_id = en_node_queue (self, "SUMMARY", body, user, error);
    free (msg_id);
    return msg_id ? 0 : -1;
}

//  The identifying fields of a case-add (args.identity): name, bsn,
//  birth_date, address, postcode, contact, school and relatives. NULL
//  with error when a field is not one of them or too long.
static json_t *
s_case_identity (json_t *args, en_error_t *error)
{
    static const char *fields [] = { "name", "bsn", "birth_date", "address", "postcode", "contact",
                                     "school", NULL };
    #define S_MAX_RELATIVES 20
    json_t *identity = json_object ();
    const char *key;
    json_t *value;
    json_object_foreach (json_object_get (args, "identity"), key, value) {
        if (streq (key, "relatives")) {
            //  parents' and relatives' names: kept sealed with the rest,
            //  and taught to the guard like the client's name
            bool valid = json_is_array (value) && json_array_size (value) <= S_MAX_RELATIVES;
            size_t index;
            json_t *relative;
            json_array_foreach (value, index, relative)
                valid = valid && json_is_string (relative) && json_string_length (relative) > 0
                     && json_string_length (relative) <= 200;
            if (!valid) {
                en_error_set (error, EN_ERR_INVALID, "identifying field 'relatives' must list up to %d names of "
                              "up to 200 bytes", S_MAX_RELATIVES);
                json_decref (identity);
                return NULL;
            }
        }
        else
        if (!en_vocab_has (fields, key) || !json_is_string (value) || strlen (json_string_value (value)) > 500) {
            en_error_set (error, EN_ERR_INVALID, "identifying field '%.40s' is not one of name, bsn, birth_date, "
                          "address, postcode, contact, school (text up to 500 bytes), relatives", key);
            json_decref (identity);
            return NULL;
        }
        json_object_set (identity, key, value);
    }
    return identity;
}

//  Registered under an older region secret? Move the case to the current
//  pseudonym first (the rotation's re-pseudonymization, at next entry).
//  0, or -1 when the store cannot open a transaction.
static int
s_case_repseudonymize (en_node_t *self, const char *client_id, const char *pseudonym, const char *user)
{
    char *current = en_nstore_case_sealed (self->store, pseudonym);
    if (current || en_vault_secret_version (self->vault) <= 1) {
        free (current);
        return 0;
    }
    if (en_db_begin (en_nstore_db (self->store)))
        return -1;
    for (int version = en_vault_secret_version (self->vault) - 1; !current && version >= 1; version--) {
        char *older = en_vault_pseudonym_version (self->vault, client_id, version);
        current = older ? en_nstore_case_sealed (self->store, older) : NULL;
        if (current && en_nstore_case_rename (self->store, older, pseudonym) == 0)
            en_node_audit (self, "case.re-pseudonymize", pseudonym, user, self->name, "update", "ok", older);
        free (older);
    }
    en_db_commit (en_nstore_db (self->store));
    free (current);
    return 0;
}

//  Adding details to a registered client keeps the details given
//  before: the identity merged over what the register holds. Takes
//  identity; returns the merged one.
static json_t *
s_case_merge (en_node_t *self, const char *pseudonym, json_t *identity)
{
    char *previous = en_nstore_case_sealed (self->store, pseudonym);
    char *previous_text = previous ? en_vault_unseal (self->vault, previous) : NULL;
    json_t *merged = previous_text ? json_loads (previous_text, 0, NULL) : NULL;
    if (json_is_object (merged)) {
        json_object_update (merged, identity);
        json_decref (identity);
        identity = merged;
    }
    else
        json_decref (merged);
    en_secret_free (&previous_text);
    free (previous);
    return identity;
}

//  Store a case's sealed identity; a new case starts in phase aanmelding
//  (with args.summary) and its summary is queued; one transaction.
//  0, or -1 with error.
static int
s_case_store (en_node_t *self, const char *pseudonym, const char *sealed, json_t *args, bool *existed,
              en_error_t *error)
{
    const char *user = en_json_str (args, "_user");
    if (en_node_verbs_begin (self, error))
        return -1;
    en_db_t *db = en_nstore_db (self->store);
    char *existing = en_nstore_case_sealed (self->store, pseudonym);
    *existed = existing != NULL;
    free (existing);
    int rc = sealed ? en_nstore_case_put (self->store, pseudonym, sealed) : -1;
    json_t *summary = json_object_get (args, "summary");
    if (rc == 0 && summary && en_summary_validate (summary, error)) {
        en_db_rollback (db);
        return -1;
    }
    if (rc == 0 && !*existed)
        rc = en_nstore_case_phase (self->store, pseudonym, summary, "aanmelding", en_now_ms (), NULL)
          || s_publish_summary (self, pseudonym, user, NULL);
    if (rc == 0)
        en_node_audit (self, *existed ? "case.update" : "case.create", pseudonym, user, self->name,
                       *existed ? "update" : "create", "ok", NULL);
    if (rc || en_db_commit (db)) {
        en_db_rollback (db);
        return en_error_set (error, EN_ERR_INTERNAL, "could not store the case");
    }
    return 0;
}

//  Register a client: the pseudonym from the client id (keyed by the
//  region secret), the identifying data sealed in the register. The
//  client id itself is not stored.
static json_t *
s_verb_case_add (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    const char *client_id = en_json_str (args, "client_id");
    char *pseudonym = client_id ? en_vault_pseudonym (self->vault, client_id) : NULL;
    if (!pseudonym) {
        en_error_set (error, EN_ERR_INVALID, "a case needs --client-id (the identifier used in the region, e.g. "
                      "the BSN)");
        return NULL;
    }
    json_t *identity = s_case_identity (args, error);
    if (!identity || s_case_repseudonymize (self, client_id, pseudonym, en_json_str (args, "_user"))) {
        if (identity)
            en_error_set (error, EN_ERR_INTERNAL, "could not store the case");
        json_decref (identity);
        free (pseudonym);
        return NULL;
    }
    identity = s_case_merge (self, pseudonym, identity);
    char *text = json_dumps (identity, JSON_COMPACT);
    char *sealed = en_vault_seal (self->vault, text);
    en_secret_free (&text);
    bool existed = false;
    json_t *result = NULL;
    if (s_case_store (self, pseudonym, sealed, args, &existed, error) == 0) {
        en_node_guard_names (self, identity);
        result = json_pack ("{s:s, s:s}", "case", pseudonym, "state", existed ? "updated" : "registered");
    }
    json_decref (identity);
    free (sealed);
    free (pseudonym);
    return result;
}

//  Move a case to a phase (aanmelding, triage, plan, monitoren,
//  afgesloten) and publish its summary; at afgesloten an outcome may be
//  given.
static json_t *
s_verb_case_phase (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    const char *pseudonym = en_json_str (args, "case");
    const char *phase = en_json_str (args, "phase");
    json_t *outcome = json_object_get (args, "outcome");
    json_t *summary = json_object_get (args, "summary");
    char *sealed = pseudonym ? en_nstore_case_sealed (self->store, pseudonym) : NULL;
    free (sealed);
    if (!sealed) {
        en_error_set (error, EN_ERR_NOT_FOUND, "no case '%s' in this node's register", pseudonym ? pseudonym : "");
        return NULL;
    }
    if (!en_vocab_has (en_vocab_phase, phase)) {
        en_error_set (error, EN_ERR_INVALID, "phase must be one of aanmelding, triage, plan, monitoren, afgesloten");
        return NULL;
    }
    if ((summary && en_summary_validate (summary, error))
    ||  (outcome && en_outcome_validate (outcome, error)))
        return NULL;
    if (outcome && !streq (phase, "afgesloten")) {
        en_error_set (error, EN_ERR_INVALID, "an outcome goes with phase afgesloten");
        return NULL;
    }
    const char *user = en_json_str (args, "_user");
    if (en_node_verbs_begin (self, error))
        return NULL;
    en_db_t *db = en_nstore_db (self->store);
    if (en_nstore_case_phase (self->store, pseudonym, summary, phase, en_now_ms (), outcome)
    ||  s_publish_summary (self, pseudonym, user, error)) {
        en_db_rollback (db);
        if (!error->code)
            en_error_set (error, EN_ERR_INTERNAL, "could not store the phase");
        return NULL;
    }
    en_node_audit (self, "case.phase", pseudonym, user, self->name, "update", "ok", phase);
    en_db_commit (db);
    return en_nstore_case_record (self->store, pseudonym);
}

//  Read a client's identifying data (local only; logged as a read).
static json_t *
s_verb_case_show (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    const char *pseudonym = en_json_str (args, "case");
    char *sealed = pseudonym ? en_nstore_case_sealed (self->store, pseudonym) : NULL;
    if (!sealed) {
        en_error_set (error, EN_ERR_NOT_FOUND, "no case '%s' in this node's register", pseudonym ? pseudonym : "");
        return NULL;
    }
    char *text = en_vault_unseal (self->vault, sealed);
    free (sealed);
    json_t *identity = text ? json_loads (text, 0, NULL) : NULL;
    en_secret_free (&text);
    if (!identity) {
        en_error_set (error, EN_ERR_INTERNAL, "the case's data cannot be opened (data key missing or wrong?)");
        return NULL;
    }
    //  No read that is not in the access log
    if (en_node_verbs_begin (self, error)) {
        json_decref (identity);
        return NULL;
    }
    en_node_audit (self, "case.read", pseudonym, en_json_str (args, "_user"), self->name, "read", "ok", NULL);
    en_db_commit (en_nstore_db (self->store));
    json_object_set_new (identity, "case", json_string (pseudonym));
    return identity;
}

//  --------------------------------------------------------------------
//  The access log, the vault, the node

//  The access log: verify the chain, or show entries (of one case).
static json_t *
s_verb_audit (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    en_db_t *db = en_nstore_db (self->store);
    if (streq (verb, "audit-show")) {
        const char *case_id = en_json_str (args, "case");
        return case_id ? en_audit_case (db, case_id) : en_audit_tail (db, en_json_int (args, "limit", 50));
    }
    json_t *report = en_audit_report (db);
    if (json_is_array (json_object_get (args, "anchors")))
        en_audit_check_anchors (db, json_object_get (args, "anchors"), report);
    return report;
}

//  A sealed value sealed again with the vault's current data key
//  (en_nstore_reseal's callback); NULL when it cannot be opened.
static char *
s_reseal (const char *sealed, void *arg)
{
    en_vault_t *vault = (en_vault_t *) arg;
    char *plain = en_vault_unseal (vault, sealed);
    if (!plain)
        return NULL;
    char *fresh = en_vault_seal (vault, plain);
    en_secret_free (&plain);
    return fresh;
}

//  Rotate the region secret and/or the data key (docs/pseudonyms.md). A
//  new data key re-seals everything in one transaction, so the old key
//  can be retired at once; a new secret gives new pseudonyms from now on,
//  and a registered client moves to the new one when next entered.
static json_t *
s_verb_rotate (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    bool secret = json_is_true (json_object_get (args, "secret"));
    bool data_key = json_is_true (json_object_get (args, "data_key"));
    if (!secret && !data_key) {
        en_error_set (error, EN_ERR_INVALID, "rotate what: --secret and/or --data-key");
        return NULL;
    }
    const char *user = en_json_str (args, "_user");
    if (en_node_verbs_begin (self, error))
        return NULL;
    en_db_t *db = en_nstore_db (self->store);
    if (secret && en_vault_rotate_secret (self->vault, error)) {
        en_db_rollback (db);
        return NULL;
    }
    int64_t resealed = 0;
    if (data_key) {
        if (en_vault_rotate_data_key (self->vault, error)
        ||  (resealed = en_nstore_reseal (self->store, s_reseal, self->vault)) < 0) {
            en_db_rollback (db);
            if (!error || !error->code)
                en_error_set (error, EN_ERR_INTERNAL, "could not re-seal the stored data");
            return NULL;
        }
    }
    char detail [96];
    snprintf (detail, sizeof detail, "secret v%d, data key v%d, %lld values re-sealed",
              en_vault_secret_version (self->vault), en_vault_data_key_version (self->vault), (long long) resealed);
    en_node_audit (self, "vault.rotate", NULL, user, self->name, "update", "ok", detail);
    en_db_commit (db);
    zsys_notice ("vault rotated: %s", detail);
    return json_pack ("{s:i, s:i, s:I}", "secret_version", en_vault_secret_version (self->vault),
                      "data_key_version", en_vault_data_key_version (self->vault), "resealed", (json_int_t) resealed);
}

//  The node at a glance: counts, the link, the clock, the guard, the
//  notification queue, the broker's store.
static json_t *
s_verb_status (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    json_t *status = en_nstore_counts (self->store);
    json_object_set_new (status, "node", json_string (self->name));
    json_object_set_new (status, "region", json_string (self->region));
    json_object_set_new (status, "broker", json_string (en_link_endpoint (self->link)));
    json_object_set_new (status, "connected", json_boolean (en_link_up (self->link, en_now_ms ())));
    json_object_set_new (status, "last_contact", json_integer (en_link_heard_at (self->link)));
    json_object_set_new (status, "clock", en_clock_status (self->clock));
    json_object_set_new (status, "clock_drift_ms", json_integer (en_clock_drift_ms ()));
    json_object_set_new (status, "version", json_string (EXPERTNET_VERSION));
    json_object_set_new (status, "pii_guard", en_pii_counts (self->pii));
    json_object_set_new (status, "notifications", en_nstore_notify_counts (self->store));
    //  The broker's store as learned from WELCOME; "previous" and
    //  "changed" when it lost or replaced its store
    json_t *store = en_nstore_broker_store (self->store);
    json_object_set_new (status, "broker_store", store ? store : json_null ());
    return status;
}

//  The notification queue for the beheerder: settings (no secrets),
//  counts per state and the newest rows (without their bodies).
static json_t *
s_verb_notifications (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    en_notify_config_t *config = self->notify_config;
    return json_pack ("{s:{s:s?, s:s?, s:s, s:b, s:s?, s:O, s:s, s:I, s:I}, s:o, s:o}",
        "settings",
            "smtp_url", config->smtp_url, "from", config->from, "starttls", config->starttls,
            "auth", config->username != NULL, "sms_url", config->sms_url, "staff_email", self->staff,
            "public_url", config->public_url, "retry_min_ms", (json_int_t) config->retry_min_ms,
            "retry_max_ms", (json_int_t) config->retry_max_ms,
        "counts", en_nstore_notify_counts (self->store),
        "notifications", en_nstore_notifications (self->store, en_json_str (args, "state"),
                                                  (int) en_json_int (args, "limit", 100)));
}

//  The entries as lines in plain Dutch, oldest first across the case and
//  its requests.
static json_t *
s_audit_lines (json_t *entries)
{
    size_t count = json_array_size (entries);
    json_t **sorted = (json_t **) calloc (count ? count : 1, sizeof (json_t *));
    size_t index;
    json_t *entry;
    json_array_foreach (entries, index, entry)
        sorted [index] = entry;
    for (size_t i = 1; i < count; i++)
        for (size_t j = i; j > 0 && en_json_int (sorted [j - 1], "seq", 0) > en_json_int (sorted [j], "seq", 0); j--) {
            json_t *swap = sorted [j];
            sorted [j] = sorted [j - 1];
            sorted [j - 1] = swap;
        }
    json_t *lines = json_array ();
    for (size_t i = 0; i < count; i++) {
        char *line = en_audit_line_nl (sorted [i]);
        json_array_append_new (lines, json_string (line));
        zstr_free (&line);
    }
    free (sorted);
    return lines;
}

//  NEN 7513: every access-log entry about one client, in plain Dutch:
//  entries under the case's pseudonym and under the requests about it.
//  The export itself is logged.
static json_t *
s_verb_audit_export (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    const char *pseudonym = en_json_str (args, "case");
    if (!pseudonym || !en_id_valid (pseudonym)) {
        en_error_set (error, EN_ERR_INVALID, "audit-export needs field 'case' (the client's pseudonym)");
        return NULL;
    }
    en_db_t *db = en_nstore_db (self->store);
    json_t *entries = en_audit_case (db, pseudonym);
    json_t *ids = en_nstore_case_requests (self->store, pseudonym);
    size_t index;
    json_t *id;
    json_array_foreach (ids, index, id) {
        json_t *more = en_audit_case (db, json_string_value (id));
        json_array_extend (entries, more);
        json_decref (more);
    }
    json_decref (ids);
    char *sealed = en_nstore_case_sealed (self->store, pseudonym);
    bool known = sealed != NULL || json_array_size (entries) > 0;
    free (sealed);
    if (!known)
        en_error_set (error, EN_ERR_NOT_FOUND, "no case '%s' and no log entries about it at this node", pseudonym);
    if (!known || en_node_verbs_begin (self, error)) {
        json_decref (entries);
        return NULL;
    }
    size_t count = json_array_size (entries);
    json_t *lines = s_audit_lines (entries);
    json_decref (entries);
    en_node_audit (self, "audit.export", pseudonym, en_json_str (args, "_user"), self->name, "export", "ok", NULL);
    en_db_commit (db);
    return json_pack ("{s:s, s:s, s:I, s:o}", "case", pseudonym, "node", self->name,
                      "entries", (json_int_t) count, "lines", lines);
}

//  The expertise tags a request may ask for: [{tag, available}], sorted,
//  from what the broker said the network holds (TAGS) and this node's own
//  experts (available: one of them, or someone in the network, has a free
//  place now).
static json_t *
s_verb_tags (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    json_t *seen = json_object ();
    size_t index, i;
    json_t *entry, *tag;
    json_array_foreach (self->network_tags, index, entry)
        json_object_set (seen, en_json_str (entry, "tag"), json_object_get (entry, "available"));
    json_t *experts = en_nstore_experts (self->store);
    json_array_foreach (experts, index, entry)
        json_array_foreach (json_object_get (entry, "expertise"), i, tag)
            if (json_is_string (tag) && !json_object_get (seen, json_string_value (tag)))
                json_object_set_new (seen, json_string_value (tag), json_false ());
    json_decref (experts);
    zlistx_t *names = zlistx_new ();
    zlistx_set_comparator (names, (zlistx_comparator_fn *) strcmp);
    const char *name;
    json_t *available;
    json_object_foreach (seen, name, available)
        zlistx_add_end (names, (void *) name);
    zlistx_sort (names);
    json_t *tags = json_array ();
    for (const char *item = (const char *) zlistx_first (names); item; item = (const char *) zlistx_next (names))
        json_array_append_new (tags, json_pack ("{s:s, s:O}", "tag", item, "available", json_object_get (seen, item)));
    zlistx_destroy (&names);
    json_decref (seen);
    return tags;
}

//  --------------------------------------------------------------------
//  What the store answers as it is

static json_t *
s_verb_requests (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    return en_nstore_requests (self->store, en_json_str (args, "state"), (int) en_json_int (args, "limit", 100));
}

static json_t *
s_verb_request (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    const char *id = en_json_str (args, "id");
    return s_found (en_nstore_request (self->store, id), "request", id, error);
}

static json_t *
s_verb_experts (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    return en_nstore_experts (self->store);
}

//  Node-local: never published
static json_t *
s_verb_expert_contacts (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    return en_nstore_contacts (self->store);
}

static json_t *
s_verb_inbox (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    return en_nstore_offers (self->store, en_json_str (args, "expert"), json_is_true (json_object_get (args, "all")));
}

static json_t *
s_verb_offer (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    const char *id = en_json_str (args, "offer");
    return s_found (en_nstore_offer (self->store, id), "offer", id, error);
}

static json_t *
s_verb_cases (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    return en_nstore_cases (self->store);
}

//  --------------------------------------------------------------------
//  The table and the dispatch

const en_node_verb_t en_node_verbs [] = {
    //  verb              needs            handler
    { "status",           EN_VERB_READS,   s_verb_status },
    { "submit",           EN_VERB_SENDS,   s_verb_submit },
    { "requests",         EN_VERB_READS,   s_verb_requests },
    { "request",          EN_VERB_READS,   s_verb_request },
    { "close",            EN_VERB_SENDS,   s_verb_close },
    { "reply",            EN_VERB_SENDS,   s_verb_reply },
    { "message",          EN_VERB_SENDS,   en_node_convo_verb_message },
    { "thread",           EN_VERB_SENDS,   en_node_convo_verb_thread },      //  reading sends receipts
    { "review",           EN_VERB_SENDS,   en_node_followup_review },
    { "beraad",           EN_VERB_SENDS,   en_node_followup_beraad_verb },
    { "beraad-answer",    EN_VERB_SENDS,   en_node_followup_answer_verb },
    { "expert-add",       EN_VERB_SENDS,   s_verb_expert_put },
    { "expert-update",    EN_VERB_SENDS,   s_verb_expert_put },
    { "tags",             EN_VERB_READS,   s_verb_tags },
    { "experts",          EN_VERB_READS,   s_verb_experts },
    { "expert-contacts",  EN_VERB_READS,   s_verb_expert_contacts },
    { "inbox",            EN_VERB_READS,   s_verb_inbox },
    { "offer",            EN_VERB_READS,   s_verb_offer },
    { "accept",           EN_VERB_SENDS,   s_verb_answer },
    { "decline",          EN_VERB_SENDS,   s_verb_answer },
    { "advise",           EN_VERB_SENDS,   s_verb_answer },
    { "case-add",         EN_VERB_SENDS,   s_verb_case_add },
    { "case-show",        EN_VERB_WRITES,  s_verb_case_show },       //  the read is logged
    { "case-phase",       EN_VERB_SENDS,   s_verb_case_phase },
    { "cases",            EN_VERB_READS,   s_verb_cases },
    { "rotate",           EN_VERB_WRITES,  s_verb_rotate },
    { "audit-verify",     EN_VERB_READS,   s_verb_audit },
    { "audit-show",       EN_VERB_READS,   s_verb_audit },
    { "audit-export",     EN_VERB_WRITES,  s_verb_audit_export },    //  the export is logged
    { "notifications",    EN_VERB_READS,   s_verb_notifications },
    { NULL, 0, NULL }
};

static const en_node_verb_t *
s_verb_find (const en_node_verb_t *table, const char *verb)
{
    for (; table->verb; table++)
        if (streq (table->verb, verb))
            return table;
    return NULL;
}

//  The reply: the result, or the error (a verb that fails with no
//  reason set answers 400 with an empty one). A store that failed for
//  want of space says so, not "could not ...".
static void
s_reply (en_node_t *self, zsock_t *sock, zframe_t *routing_id, json_t *result, en_error_t *error)
{
    if (result) {
        en_control_reply (sock, routing_id, result, 0, NULL);
        return;
    }
    int code = error->code ? error->code : EN_ERR_BAD_REQUEST;
    char full [sizeof error->reason + 128];
    snprintf (full, sizeof full, "%s", error->reason);
    if (en_db_full (en_nstore_db (self->store))) {
        snprintf (full, sizeof full, "disk full: %s (free space in %s)", error->reason, self->datadir);
        code = EN_ERR_DISK_FULL;
    }
    en_control_reply (sock, routing_id, NULL, code, full);
}

bool
en_node_verbs_handle (en_node_t *self, zsock_t *sock)
{
    zframe_t *routing_id;
    char *verb;
    json_t *args;
    if (en_control_recv (sock, &routing_id, &verb, &args))
        return false;
    const en_node_verb_t *entry = s_verb_find (en_node_verbs, verb);
    if (!entry)
        entry = s_verb_find (en_node_account_verbs, verb);
    en_error_t error = { 0 };
    json_t *result = NULL;
    if (entry)
        result = entry->handler (self, verb, args, &error);
    else
        en_error_set (&error, EN_ERR_BAD_REQUEST, "unknown verb '%s'", verb);
    bool sent = result && entry->needs == EN_VERB_SENDS;
    s_reply (self, sock, routing_id, result, &error);
    zframe_destroy (&routing_id);
    zstr_free (&verb);
    json_decref (args);
    return sent;
}
