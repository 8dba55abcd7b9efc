/*  test_portal_node - a stand-in for the node loop, for tests of the
    portal server without a node: an actor with a ROUTER on
    TEST_PORTAL_ENDPOINT that answers the control verbs the portal calls
    with fixed, synthetic JSON (accounts: mara medewerker, eva expert
    se-tw-01, bob beheerder, ida expert without an expert id; their
    pwhash from the json object
    given to the actor), refuses a question holding the BSN 123456782 as
    the PII guard does, and on "CALLS" over its pipe answers every
    "verb:_user" it was asked so far. Used by tests/unit/test_portal.c
    and the browser test's stub (tests/integration/portal_stub.c). */
#ifndef TEST_PORTAL_NODE_H_INCLUDED
#define TEST_PORTAL_NODE_H_INCLUDED

#include <sodium.h>

#define TEST_PORTAL_ENDPOINT "inproc://test-portal-node"

//  The team request's timeline: the events a team sees, a peer
//  province's refusal among them (synthetic)
static json_t *
s_request_events (void)
{
    int64_t at = en_now_ms () - 3600 * 1000LL;
    return json_pack ("[{s:I, s:s, s:s}, {s:I, s:s, s:s, s:s}, {s:I, s:s, s:s, s:s}, {s:I, s:s, s:s, s:s},"
                      " {s:I, s:s, s:s, s:s}, {s:I, s:s, s:s, s:s}]",
                      "at", (json_int_t) at, "event", "submitted", "state", "submitted",
                      "at", (json_int_t) (at + 60000), "event", "offered", "state", "offered", "expert", "se-tw-01",
                      "at", (json_int_t) (at + 120000), "event", "accepted", "state", "accepted", "expert", "se-tw-01",
                      "at", (json_int_t) (at + 180000), "event", "hiaat", "state", "accepted", "detail",
                      "no expert available",
                      "at", (json_int_t) (at + 240000), "event", "relay-refused", "state", "accepted", "detail",
                      "gelderland refused REVIEW: 409 request 'twente-00000001' is closed",
                      "at", (json_int_t) (at + 300000), "event", "advice", "state", "advice", "expert", "se-tw-01");
}

static json_t *
s_answer (const char *verb, json_t *args, json_t *hashes, int *code, const char **error)
{
    const char *name = en_json_str (args, "name");
    if (streq (verb, "user-get")) {
        static const char *accounts [][3] = {
            { "mara", "medewerker", NULL }, { "eva", "expert", "se-tw-01" }, { "bob", "beheerder", NULL },
            { "ida", "expert", NULL },      //  (an expert account without its expert id)
            { NULL, NULL, NULL } };
        for (int i = 0; name && accounts [i][0]; i++)
            if (streq (name, accounts [i][0]))
                return json_pack ("{s:s, s:s, s:s, s:s?, s:n, s:b, s:b}", "name", name, "role", accounts [i][1],
                                  "pwhash", en_json_str (hashes, name), "expert", accounts [i][2],
                                  "totp_secret", "totp_required", false, "disabled", false);
        *code = 404;
        *error = "no such user";
        return NULL;
    }
    if (streq (verb, "offer")) {
        const char *id = en_json_str (args, "offer") ?: "";
        const char *expert = streq (id, "twente-00000001-o1") || streq (id, "twente-00000004-o1")
                          || streq (id, "twente-00000005-o1") ? "se-tw-01"
                           : streq (id, "twente-00000002-o1") ? "se-tw-02" : NULL;
        if (!expert) {
            *code = 404;
            *error = "no offer";
            return NULL;
        }
        //  Moreel beraad (EXPN/3): -o4 with times proposed to answer, -o5
        //  held (the date only: the outcome stays with the team)
        if (streq (id, "twente-00000004-o1") || streq (id, "twente-00000005-o1")) {
            int64_t day = 24 * 3600 * 1000LL, now = en_now_ms ();
            json_t *offer = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:{s:s, s:s, s:[s], s:s},"
                " s:[I, I]}",
                "id", id, "request_id", streq (id, "twente-00000004-o1") ? "twente-00000004" : "twente-00000005",
                "expert", expert, "kind", "offer", "state", "open", "answer", "accept",
                "received", (json_int_t) (now - 7 * day), "deadline", (json_int_t) (now - 6 * day), "place", 1, "request",
                "urgency", "regulier", "question_type", "moreel-beraad", "expertise", "trauma",
                "age_band", "12-17", "beraad_times", (json_int_t) (now + 2 * day), (json_int_t) (now + 3 * day));
            if (streq (id, "twente-00000005-o1"))
                json_object_set_new (offer, "beraad_held_at", json_integer (now - day));
            return offer;
        }
        //  For place 1 of a team of two (EXPN/3)
        return json_pack ("{s:s, s:s, s:s, s:s, s:I, s:s, s:i, s:{s:s, s:s, s:[s], s:s, s:s, s:o}}",
                          "id", id, "request_id", "twente-00000001", "expert", expert, "kind", "offer",
                          "deadline", (json_int_t) (en_now_ms () + 600000), "state", "open", "place", 1, "request",
                          "urgency", "crisis", "question_type", "consultatie-advies", "expertise", "trauma",
                          "age_band", "12-17", "question", "Hoe verder na de crisisopname?",
                          "places", json_loads ("[{\"role\":\"superexpert\",\"expertise\":[\"trauma\"]},"
                                                "{\"role\":\"ervaringsdeskundige\"}]", 0, NULL));
    }
    if (streq (verb, "submit")) {
        const char *question = en_json_str (json_object_get (args, "request"), "question") ?: "";
        if (strstr (question, "123456782")) {
            *code = 422;
            *error = "field 'question' contains a BSN (burgerservicenummer); nothing was sent (remove it; "
                     "the summary must not identify the child)";
            return NULL;
        }
        return json_pack ("{s:s, s:s}", "id", "twente-00000003", "state", "queued");
    }
    if (streq (verb, "request"))
        //  A team of three (EXPN/3): one place filled, one a hiaat, one open
        return json_pack ("{s:s, s:s, s:{s:s, s:s, s:[s], s:s}, s:o, s:o}", "id", en_json_str (args, "id") ?: "",
                          "state", "advice", "summary", "urgency", "hoog", "question_type", "consultatie-advies",
                          "expertise", "trauma", "age_band", "12-17", "events", s_request_events (),
                          "places", json_loads ("[{\"place\":1,\"roles\":[\"superexpert\"],\"expertise\":[\"trauma\"],"
                              "\"state\":\"advice\",\"expert\":\"se-tw-01\"},{\"place\":2,\"roles\":[\"superexpert\"],"
                              "\"expertise\":[\"lvb\"],\"state\":\"hiaat\"},{\"place\":3,"
                              "\"roles\":[\"ervaringsdeskundige\"],\"expertise\":[],\"state\":\"offered\"}]", 0, NULL));
    if (streq (verb, "thread"))             //  a request's conversation, opened (synthetic)
        return json_pack ("{s:s, s:s, s:[s, s], s:[{s:i, s:s, s:s, s:I, s:s, s:[s]},"
                          " {s:i, s:s, s:s, s:I, s:s, s:[]}]}",
                          "request", en_json_str (args, "request") ?: "twente-00000001", "reader", "team",
                          "members", "se-tw-01", "team", "messages",
                          "seq", 1, "from", "se-tw-01", "kind", "advice", "at", (json_int_t) (en_now_ms () - 120000),
                          "text", "Advies: begin met een gezamenlijke analyse.", "read_by", "team",
                          "seq", 2, "from", "team", "kind", "message", "at", (json_int_t) (en_now_ms () - 60000),
                          "text", "Dank, wij plannen het overleg.", "read_by");
    if (streq (verb, "tags"))
        return json_pack ("[{s:s, s:b}]", "tag", "trauma", "available", true);
    if (streq (verb, "experts"))
        return json_pack ("[{s:s, s:i, s:[s]}]", "id", "se-tw-01", "capacity", 1, "expertise", "trauma");
    if (streq (verb, "status"))
        return json_pack ("{s:s, s:b, s:{s:i, s:i, s:{s:i}}}", "node", "twente", "connected", true,
                          "pii_guard", "checks", 12, "refused", 1, "kinds", "bsn", 1);
    if (streq (verb, "accept") || streq (verb, "login-event") || streq (verb, "reply") || streq (verb, "message"))
        return json_object ();
    int64_t now = en_now_ms ();
    if (streq (verb, "requests"))
        return json_pack ("[{s:s, s:s, s:I, s:I, s:{s:s, s:s, s:s, s:[s], s:s}},"
                          " {s:s, s:s, s:s, s:I, s:I, s:{s:s, s:s, s:[s], s:s}}]",
                          "id", "twente-00000001", "state", "offered", "created", (json_int_t) (now - 600000),
                          "updated", (json_int_t) (now - 300000), "summary", "case", "P-7Q2M4X", "urgency", "crisis",
                          "question_type", "consultatie-advies", "expertise", "trauma", "age_band", "12-17",
                          "id", "twente-00000002", "state", "advice", "expert", "se-tw-01",
                          "created", (json_int_t) (now - 86400000), "updated", (json_int_t) (now - 3600000),
                          "summary", "urgency", "hoog", "question_type", "procesregie", "expertise", "lvb",
                          "age_band", "4-11");
    if (streq (verb, "inbox"))
        return json_pack ("[{s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:{s:{s:s, s:s, s:[s], s:s, s:s}}}]",
                          "id", "twente-00000001-o1", "request_id", "twente-00000001", "expert", "se-tw-01",
                          "kind", "offer", "deadline", (json_int_t) (now + 540000), "state", "open",
                          "received", (json_int_t) (now - 60000), "request", "summary", "urgency", "crisis",
                          "question_type", "consultatie-advies", "expertise", "trauma", "age_band", "12-17",
                          "question", "Hoe verder na de crisisopname?");
    if (streq (verb, "cases"))
        return json_pack ("[{s:s, s:I, s:I, s:i}]", "pseudonym", "P-7Q2M4X", "created", (json_int_t) (now - 864000000),
                          "updated", (json_int_t) (now - 600000), "requests", 1);
    if (streq (verb, "users"))
        return json_pack ("[{s:s, s:s, s:n, s:I, s:b}, {s:s, s:s, s:s, s:I, s:b}]",
                          "name", "mara", "role", "medewerker", "expert", "created", (json_int_t) (now - 864000000),
                          "totp", true, "name", "eva", "role", "expert", "expert", "se-tw-01",
                          "created", (json_int_t) (now - 864000000), "totp", true);
    if (streq (verb, "notifications"))
        return json_pack ("{s:{s:s}, s:{s:i, s:i}, s:[{s:i, s:s, s:s, s:s, s:s, s:i, s:I}]}",
                          "settings", "starttls", "required", "counts", "wacht", 0, "verzonden", 1,
                          "notifications", "id", 1, "kind", "aanbod", "urgency", "crisis", "channel", "email",
                          "state", "verzonden", "attempts", 1, "created", (json_int_t) (now - 60000));
    if (streq (verb, "audit-show"))
        return json_pack ("[{s:i, s:I, s:s, s:s, s:s, s:s}]", "seq", 1, "at", (json_int_t) (now - 60000),
                          "event", "case.read", "actor", "mara", "action", "read", "outcome", "ok");
    *code = 400;
    *error = "unknown verb";
    return NULL;
}

//  Answers verbs on TEST_PORTAL_ENDPOINT; "CALLS" on the pipe gets "verb:_user ..."
static void
s_node_actor (zsock_t *pipe, void *args)
{
    json_t *hashes = (json_t *) args;
    zsock_t *router = zsock_new_router (TEST_PORTAL_ENDPOINT);
    if (!router) {
        zsock_signal (pipe, 0);
        return;
    }
    zpoller_t *poller = zpoller_new (pipe, router, NULL);
    char *calls = strdup ("");
    zsock_signal (pipe, 0);
    while (true) {
        zsock_t *which = (zsock_t *) zpoller_wait (poller, -1);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            bool term = !command || streq (command, "$TERM");
            if (command && streq (command, "CALLS"))
                zstr_send (pipe, calls);
            zstr_free (&command);
            if (term)
                break;
        }
        else
        if (which == router) {
            zframe_t *routing_id;
            char *verb;
            json_t *request;
            if (en_control_recv (router, &routing_id, &verb, &request))
                continue;
            int code = 0;
            const char *error = NULL;
            json_t *result = s_answer (verb, request, hashes, &code, &error);
            char *more = NULL;
            if (asprintf (&more, "%s%s:%s", calls, verb, en_json_str (request, "_user") ?: "-") > 0) {
                free (calls);
                calls = more;
                more = NULL;
                if (asprintf (&more, "%s ", calls) > 0) {
                    free (calls);
                    calls = more;
                }
            }
            en_control_reply (router, routing_id, result, code, result ? NULL : error);
            zframe_destroy (&routing_id);
            zstr_free (&verb);
            json_decref (request);
        }
        else
            break;
    }
    free (calls);
    zpoller_destroy (&poller);
    zsock_destroy (&router);
}

//  The accounts' password hashes, {name: pwhash}, each password
//  "<name> haar wachtwoord": what s_node_actor takes. NULL on failure.
static json_t *
s_node_accounts (void)
{
    json_t *hashes = json_object ();
    const char *names [] = { "mara", "eva", "bob", "ida", NULL };
    for (int i = 0; names [i]; i++) {
        char password [64], hash [crypto_pwhash_STRBYTES];
        snprintf (password, sizeof password, "%s haar wachtwoord", names [i]);
        if (crypto_pwhash_str (hash, password, strlen (password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE)) {
            json_decref (hashes);
            return NULL;
        }
        json_object_set_new (hashes, names [i], json_string (hash));
    }
    return hashes;
}

#endif
