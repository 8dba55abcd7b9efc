/*  en_ops - the broker's control verbs, one table.

    Two sockets ask: the operator socket (ipc:// in the data directory,
    for `expertnet broker ...`, guarded by file permissions) and the
    dashboard's (inproc, en_web's thread). Both speak en_control's
    framing: a verb and a JSON object in, "ok" and a result or "error"
    and {error, code} out (docs/protocol.md, "Control socket";
    docs/dashboard.md for the dashboard's verbs).

    Each verb is one row of s_verbs: its name, which socket may use it,
    and its handler. The handler returns the result, or NULL with the
    reason in an en_error_t; en_ops_handle answers. Verbs that hand out a
    secret's hash (an operator's password hash, an API token lookup) are
    the dashboard's only: on the operator socket they do not exist.

    The verbs see the broker only through en_ops_context_t: its store and
    collaborators, its identity, and two callbacks into the server loop
    (the live sessions for the figures; a flush after a verb that queued
    messages). Figures are computed in en_figures.

    Operator actions and password changes write: each in its own
    transaction (or the store's own), then the messages they queued go
    out. A write that failed for want of space says so ("disk full"),
    not "store error".
*/
#include "en_ops.h"
#include "en_figures.h"
#include <sodium.h>

//  Operator passwords: at least this long (docs/dashboard.md)
#define PASSWORD_MIN    12
#define PASSWORD_MAX    1024

struct _en_ops_t {
    en_ops_context_t context;   //  what the verbs work on (pointers borrowed)
};

//  Which socket may use a verb
typedef enum {
    S_ANY,                      //  the operator socket and the dashboard's
    S_DASHBOARD                 //  the dashboard's only (hands out hashes)
} s_socket_t;

//  A verb's handler: the result (owned by the caller), or NULL with error
//  set (NULL with no error is the answer null). verb is the name asked,
//  internal whether the dashboard asked.
typedef json_t *(s_verb_fn) (en_ops_t *self, const char *verb, json_t *args, bool internal,
                            en_error_t *error);

typedef struct {
    const char *name;           //  the verb
    s_socket_t socket;          //  who may use it
    s_verb_fn *handler;
} s_verb_t;

en_ops_t *
en_ops_new (const en_ops_context_t *context)
{
    en_ops_t *self = (en_ops_t *) zmalloc (sizeof (en_ops_t));
    assert (self);
    self->context = *context;
    return self;
}

void
en_ops_destroy (en_ops_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

static en_db_t *
s_db (en_ops_t *self)
{
    return en_bstore_db (self->context.store);
}

//  Who did it, for the access log: the dashboard's operator, or the
//  broker itself (the operator socket)
static const char *
s_actor (en_ops_t *self, json_t *args)
{
    return en_json_str (args, "_user") ?: self->context.name;
}

//  --- Figures and what the store holds ----------------------------------

static json_t *
s_verb_status (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    return en_figures_status (&self->context);
}

static json_t *
s_verb_overview (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    return en_figures_overview (&self->context);
}

static json_t *
s_verb_metrics (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    return en_figures_metrics (&self->context);
}

//  What only the loop knows, for the figures the dashboard reads on its
//  own connection to the store (en_figures_live): no request is read
static json_t *
s_verb_live (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    return en_figures_live (&self->context, json_is_true (json_object_get (args, "metrics")));
}

static json_t *
s_verb_requests (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    return en_bstore_requests (self->context.store, en_json_str (args, "state"),
                               (int) en_json_int (args, "limit", 100));
}

//  What a verb looked up: the row, or NULL with 404 "no such <what>"
//  (a lookup of a NULL key finds nothing)
static json_t *
s_found (json_t *row, const char *what, en_error_t *error)
{
    if (!row)
        en_error_set (error, EN_ERR_NOT_FOUND, "no such %s", what);
    return row;
}

//  One request with its events and open offers
static json_t *
s_request_detail (en_ops_t *self, const char *id)
{
    json_t *request = id ? en_bstore_request (self->context.store, id) : NULL;
    if (request) {
        json_object_set_new (request, "events", en_bstore_events (self->context.store, id));
        json_object_set_new (request, "offers_open", en_bstore_offers_open (self->context.store, id, 0));
        json_object_set_new (request, "places", en_bstore_places (self->context.store, id));
    }
    return request;
}

static json_t *
s_verb_request (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    const char *id = en_json_str (args, "id");
    json_t *result = s_found (s_request_detail (self, id), "request", error);
    if (!result)
        return NULL;
    //  An operator looking at a request in the dashboard is an
    //  access to that case: logged with who looked
    const char *viewer = en_json_str (args, "operator");
    if (internal && viewer) {
        en_audit_entry_t entry = { .event = "request.view", .case_id = id, .actor = viewer,
            .action = "read", .outcome = "ok", .detail = "operator" };
        //  An access that cannot be logged is not given (NEN 7513)
        if (en_audit_append (s_db (self), &entry)) {
            json_decref (result);
            en_error_set (error, EN_ERR_INTERNAL, "could not write the access log");
            return NULL;
        }
    }
    return result;
}

//  Aggregated and suppressed here: only the report leaves the broker
static json_t *
s_verb_report (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    en_report_options_t options = {
        .from_ms = en_json_int (args, "from", 0), .to_ms = en_json_int (args, "to", 0),
        .region = en_json_str (args, "region"), .min_cell = (int) en_json_int (args, "min_cell", 5) };
    if (options.min_cell < 3) {
        en_error_set (error, EN_ERR_INVALID, "min_cell must be at least 3 (smaller thresholds protect nobody)");
        return NULL;
    }
    json_t *input = en_figures_report_input (&self->context);
    json_t *result = en_report_build (input, &options);
    json_decref (input);
    return result;
}

static json_t *
s_verb_hiaten (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    return en_bstore_hiaten (self->context.store);
}

static json_t *
s_verb_experts (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    return en_bstore_experts (self->context.store);
}

static json_t *
s_verb_offers (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    return en_bstore_offers_pending (self->context.store);
}

static json_t *
s_verb_charts (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    return en_figures_charts (self->context.store, args);
}

//  --- Operator actions on a request -------------------------------------

//  reoffer, escalate, close, recall: in a transaction of its own, then
//  the messages it queued go out. Answers the request as it is now.
static json_t *
s_verb_action (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    const char *operator_name = en_json_str (args, "operator") ?: en_json_str (args, "_user");
    const char *request_id = en_json_str (args, "request");
    en_db_t *db = s_db (self);
    if (en_db_begin (db)) {
        en_error_set (error, EN_ERR_INTERNAL, "store error");
        return NULL;
    }
    //  One place of a team (EXPN/3), or 0: the whole request
    json_t *place = json_object_get (args, "place");
    if (place && (!json_is_integer (place) || json_integer_value (place) < 1)) {
        en_db_rollback (db);
        en_error_set (error, EN_ERR_INVALID, "field 'place' must be a place number (1, 2, ...)");
        return NULL;
    }
    if (en_router_operator_place (self->context.router, operator_name, verb, request_id,
                                  place ? json_integer_value (place) : 0, en_json_str (args, "reason"), error)) {
        en_db_rollback (db);
        return NULL;
    }
    if (en_db_commit (db)) {
        en_db_rollback (db);
        en_error_set (error, EN_ERR_INTERNAL, "store error");
        return NULL;
    }
    if (self->context.written)
        self->context.written (self->context.arg);
    return s_request_detail (self, request_id);
}

//  --- Operators and API tokens ------------------------------------------

//  A change of the operators or their tokens and its access-log entry in
//  one transaction: both or neither (no change without its entry, and no
//  entry for a change that did not happen). s_begin, the change, then
//  s_finish with the change's result. 0, or -1 with error.
static int
s_begin (en_ops_t *self, en_error_t *error)
{
    return en_db_begin (s_db (self)) ? en_error_set (error, EN_ERR_INTERNAL, "store error") : 0;
}

static int
s_finish (en_ops_t *self, int changed, en_audit_entry_t *entry, en_error_t *error)
{
    en_db_t *db = s_db (self);
    if (changed == 0 && en_audit_append (db, entry))
        changed = en_error_set (error, EN_ERR_INTERNAL, "could not write the access log: nothing changed");
    if (changed == 0 && en_db_commit (db))
        changed = en_error_set (error, EN_ERR_INTERNAL, "store error");
    if (changed) {
        en_db_rollback (db);
        if (!error || !error->code)
            en_error_set (error, EN_ERR_INTERNAL, "store error");
    }
    return changed ? -1 : 0;
}

//  Operators of the dashboard: names as elsewhere, passwords hashed with
//  Argon2id (crypto_pwhash_str, interactive limits: a login costs the
//  web thread about a tenth of a second; this loop hashes only when an
//  operator is added or changes a password).
static json_t *
s_verb_operator_add (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    const char *name = en_json_str (args, "name");
    const char *password = en_json_str (args, "password");
    bool replace = json_is_true (json_object_get (args, "replace"));
    if (!en_name_valid (name)) {
        en_error_set (error, EN_ERR_INVALID, "field 'name' must be a name: 1 to 63 of a-z, 0-9 and '-'");
        return NULL;
    }
    if (!password || strlen (password) < PASSWORD_MIN || strlen (password) > PASSWORD_MAX) {
        en_error_set (error, EN_ERR_INVALID, "field 'password' must be %d to %d bytes", PASSWORD_MIN, PASSWORD_MAX);
        return NULL;
    }
    char hash [crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str (hash, password, strlen (password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                           crypto_pwhash_MEMLIMIT_INTERACTIVE)) {
        en_error_set (error, EN_ERR_INTERNAL, "out of memory hashing the password");
        return NULL;
    }
    en_audit_entry_t entry = { .event = replace ? "operator.password" : "operator.add",
        .actor = s_actor (self, args), .on_behalf = name,
        .action = replace ? "update" : "create", .outcome = "ok" };
    int rc = s_begin (self, error)
          || s_finish (self, en_bstore_operator_put (self->context.store, name, hash, replace, error), &entry, error);
    sodium_memzero (hash, sizeof hash);
    if (rc)
        return NULL;
    zsys_info ("dashboard operator %s %s", name, replace ? "has a new password" : "added");
    json_t *result = en_bstore_operator (self->context.store, name);
    json_object_del (result, "pwhash");
    return result;
}

static json_t *
s_verb_operator_remove (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    const char *name = en_json_str (args, "name");
    en_audit_entry_t entry = { .event = "operator.remove", .actor = s_actor (self, args),
        .on_behalf = name, .action = "delete", .outcome = "ok" };
    if (s_begin (self, error)
    ||  s_finish (self, en_bstore_operator_remove (self->context.store, name, error), &entry, error))
        return NULL;
    zsys_info ("dashboard operator %s removed", name);
    return json_pack ("{s:s}", "name", name);
}

static json_t *
s_verb_operators (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    return en_bstore_operators (self->context.store);
}

//  An operator with its password hash, for the dashboard's login
static json_t *
s_verb_operator_hash (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    return s_found (en_bstore_operator (self->context.store, en_json_str (args, "name")), "operator", error);
}

//  An API token: 256 random bits as 64 hex characters, shown once; the
//  store keeps its BLAKE2b-256 hash.
static json_t *
s_verb_token_add (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    const char *name = en_json_str (args, "operator") ?: en_json_str (args, "name");
    json_t *record = s_found (en_bstore_operator (self->context.store, name), "operator", error);
    if (!record)
        return NULL;
    json_decref (record);
    unsigned char raw [32], digest [32];
    randombytes_buf (raw, sizeof raw);
    char token [65], hash [65], id [16] = "t-";
    sodium_bin2hex (token, sizeof token, raw, sizeof raw);
    crypto_generichash (digest, sizeof digest, (unsigned char *) token, 64, NULL, 0);
    sodium_bin2hex (hash, sizeof hash, digest, sizeof digest);
    en_random_hex (id + 2, 8);
    sodium_memzero (raw, sizeof raw);
    en_audit_entry_t entry = { .event = "operator.token", .actor = s_actor (self, args),
        .on_behalf = name, .action = "create", .outcome = "ok", .detail = id };
    if (s_begin (self, error)
    ||  s_finish (self, en_bstore_token_add (self->context.store, id, name, hash), &entry, error)) {
        sodium_memzero (token, sizeof token);
        return NULL;
    }
    zsys_info ("API token %s added for operator %s", id, name);
    json_t *result = json_pack ("{s:s, s:s, s:s}", "id", id, "operator", name, "token", token);
    sodium_memzero (token, sizeof token);
    return result;
}

static json_t *
s_verb_token_remove (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    const char *id = en_json_str (args, "id");
    en_audit_entry_t entry = { .event = "operator.token-remove", .actor = s_actor (self, args),
        .action = "delete", .outcome = "ok", .detail = id };
    if (s_begin (self, error)
    ||  s_finish (self, en_bstore_token_remove (self->context.store, id, error), &entry, error))
        return NULL;
    return json_pack ("{s:s}", "id", id);
}

static json_t *
s_verb_tokens (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    return en_bstore_tokens (self->context.store);
}

//  The token of that hash, for the dashboard's API login
static json_t *
s_verb_token_check (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    return s_found (en_bstore_token_find (self->context.store, en_json_str (args, "hash")), "token", error);
}

//  --- The access log ----------------------------------------------------

//  With anchors: the heads a peer broker holds of our log
static json_t *
s_verb_audit_verify (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    json_t *result = en_audit_report (s_db (self));
    if (json_is_array (json_object_get (args, "anchors")))
        en_audit_check_anchors (s_db (self), json_object_get (args, "anchors"), result);
    return result;
}

//  The heads a node or peer broker anchored here, for its
//  `audit verify --anchors`
static json_t *
s_verb_audit_anchors (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    const char *sender = en_json_str (args, "node");
    if (!en_name_valid (sender)) {
        en_error_set (error, EN_ERR_INVALID, "field 'node' must be the name of a node or peer broker");
        return NULL;
    }
    return json_pack ("{s:s, s:s, s:s, s:o}", "node", sender, "broker", self->context.name,
                      "store", self->context.store_id, "anchors", en_bstore_anchors (self->context.store, sender));
}

static json_t *
s_verb_audit_show (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    const char *case_id = en_json_str (args, "case");
    return case_id ? en_audit_case (s_db (self), case_id)
                   : en_audit_tail (s_db (self), en_json_int (args, "limit", 50));
}

#ifdef EN_FAULTS
//  Test builds only (build/tests/faults/expertnet-broker, for
//  tests/integration/test_faults.sh): {"countdown": N} makes the N-th
//  store write from now fail (0 disarms); answers whether the fault
//  armed before fired.
static json_t *
s_verb_fault (en_ops_t *self, const char *verb, json_t *args, bool internal, en_error_t *error)
{
    en_db_t *db = s_db (self);
    json_t *result = json_pack ("{s:b}", "fired", en_db_fault_fired (db));
    int64_t countdown = en_json_int (args, "countdown", -1);
    if (countdown >= 0 && countdown <= 1000000)
        en_db_fault_countdown (db, (int) countdown);
    return result;
}
#endif

//  The verbs (docs/protocol.md, "Control socket"; docs/dashboard.md)
static const s_verb_t s_verbs [] = {
    { "status",          S_ANY,       s_verb_status },
    { "requests",        S_ANY,       s_verb_requests },
    { "request",         S_ANY,       s_verb_request },
    { "report",          S_ANY,       s_verb_report },
    { "hiaten",          S_ANY,       s_verb_hiaten },
    { "experts",         S_ANY,       s_verb_experts },
    { "offers",          S_ANY,       s_verb_offers },
    { "overview",        S_ANY,       s_verb_overview },
    { "metrics",         S_ANY,       s_verb_metrics },
    { "charts",          S_ANY,       s_verb_charts },
    { "reoffer",         S_ANY,       s_verb_action },
    { "escalate",        S_ANY,       s_verb_action },
    { "close",           S_ANY,       s_verb_action },
    { "recall",          S_ANY,       s_verb_action },
    { "operator-add",    S_ANY,       s_verb_operator_add },
    { "operator-remove", S_ANY,       s_verb_operator_remove },
    { "operators",       S_ANY,       s_verb_operators },
    { "token-add",       S_ANY,       s_verb_token_add },
    { "token-remove",    S_ANY,       s_verb_token_remove },
    { "tokens",          S_ANY,       s_verb_tokens },
    { "operator-hash",   S_DASHBOARD, s_verb_operator_hash },
    { "token-check",     S_DASHBOARD, s_verb_token_check },
    { "live",            S_DASHBOARD, s_verb_live },
    { "audit-verify",    S_ANY,       s_verb_audit_verify },
    { "audit-anchors",   S_ANY,       s_verb_audit_anchors },
    { "audit-show",      S_ANY,       s_verb_audit_show },
#ifdef EN_FAULTS
    { "fault",           S_ANY,       s_verb_fault },
#endif
};

//  The verb of that name this socket may use, or NULL
static const s_verb_t *
s_verb_find (const char *name, bool internal)
{
    for (size_t i = 0; i < sizeof s_verbs / sizeof s_verbs [0]; i++)
        if (streq (s_verbs [i].name, name))
            return s_verbs [i].socket == S_ANY || internal ? &s_verbs [i] : NULL;
    return NULL;
}

void
en_ops_handle (en_ops_t *self, zsock_t *sock, bool internal)
{
    zframe_t *routing_id;
    char *verb;
    json_t *args;
    if (en_control_recv (sock, &routing_id, &verb, &args))
        return;
    en_error_t error = { 0 };
    json_t *result = NULL;
    const s_verb_t *entry = s_verb_find (verb, internal);
    if (entry)
        result = entry->handler (self, verb, args, internal, &error);
    else
        en_error_set (&error, EN_ERR_BAD_REQUEST, "unknown verb");
    const char *failure = error.code ? error.reason : NULL;
    int code = error.code ? error.code : EN_ERR_BAD_REQUEST;
    //  A store that failed for want of space says so, not "could not ..."
    char full [sizeof error.reason + 128];
    if (!result && en_db_full (s_db (self))) {
        snprintf (full, sizeof full, "disk full: %s (free space in %s)", failure ? failure : "not stored",
                  self->context.datadir);
        failure = full;
        code = EN_ERR_DISK_FULL;
    }
    en_control_reply (sock, routing_id, result, code, failure);
    zframe_destroy (&routing_id);
    zstr_free (&verb);
    json_decref (args);
}
