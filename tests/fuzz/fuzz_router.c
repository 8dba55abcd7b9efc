/*  fuzz_router - the broker's handling of what enrolled parties send it:
    every command a node or a peer broker may send, through the broker's
    exactly-once receive (en_inbox) to the router (en_router), as the
    broker's batch runs them. Whatever arrives, the broker must answer it
    (ACK or ERROR, never a crash) and its store must stay true to itself:
    after every input the counters its triggers keep, the state derived
    from a request's places and the experts' load and reservations must
    equal a recount of the rows (test_drift.h).

    The broker serves twente and ijsselland and is federated with
    gelderland (link up) and utrecht (link down). The store starts, once,
    with experts at two nodes and requests in several states (offered,
    accepted, a team of two places, closed, a moreel-beraad); each input
    runs in a transaction that is rolled back after it, so every input
    meets the same store.

    Input: frames (fuzz.h encoding) in threes, at most S_MAX_MESSAGES:
    [who] [command] [JSON body]. who's first byte: bits 0-1 the sender
    (0 node-twente, 1 node-ijsselland, 2 the peer broker gelderland, 3 a
    clock tick: offers and hiaten due five days from now are handled,
    command and body unused); bit 2 set: the previous message again, the
    same id (a resend); bit 3 set: command and body are a message of
    node-achterhoek (a Gelderland node), signed now with the corpus key
    (fuzz.h), that the sender carries in a FORWARD naming that key, as a
    peer forwards its province's requests. A body that is not a JSON
    object never reaches the router (en_msg_decode refuses it), so it is
    skipped here. FUZZ_ROUTER_TRACE=1 prints each message's answer
    (replaying one). */
#include "fuzz.h"
#include "en_bstore.h"
#include "en_router.h"
#include "test_drift.h"

#define S_MAX_MESSAGES  8
#define TEAM_KEY   "1111111111111111111111111111111111111111111111111111111111111111"
#define EXPERT_KEY "2222222222222222222222222222222222222222222222222222222222222222"

static char s_dir [PATH_MAX];
static en_bstore_t *s_store;
static en_router_t *s_router;
static en_inbox_t *s_inbox;

//  The senders, by the low bits of who
static const struct {
    const char *name;
    const char *region;
    bool is_peer;
} s_senders [3] = {
    { "node-twente",     "twente",     false },
    { "node-ijsselland", "ijsselland", false },
    { "gelderland",      NULL,         true  },
};

typedef struct {
    int sender;                 //  index into s_senders
} s_from_t;

//  The broker's links (en_router_link_fn): gelderland up, utrecht down,
//  any other name not a peer
static int
s_link (const char *peer, void *arg)
{
    return streq (peer, "gelderland") ? 1 : streq (peer, "utrecht") ? 0 : -1;
}

static int
s_route (en_msg_t *msg, void *arg, en_error_t *error)
{
    const s_from_t *from = (const s_from_t *) arg;
    unsigned char key [32];
    memset (key, 0x40 + from->sender, sizeof key);       //  a test key of a repeated byte, as the broker
    en_router_set_sender_key (s_router, key);           //  sets the sender's enrolled one
    return en_router_receive (s_router, s_senders [from->sender].name, s_senders [from->sender].region,
                              s_senders [from->sender].is_peer, msg, error);
}

//  Receive msg from sender inside the open transaction, as the broker's
//  s_on_other does: its answer must be there, ACK or ERROR. Commands
//  that are not reliable (ACK, PING, ...) never reach the inbox.
static void
s_receive (int sender, en_msg_t *msg)
{
    if (!en_msg_command_reliable (en_msg_command (msg)))
        return;
    s_from_t from = { sender };
    en_error_t error = { 0 };
    en_msg_t *answer = en_inbox_receive (s_inbox, msg, NULL, s_route, &from, &error);
    fuzz_require (answer, "an answer");
    const char *command = en_msg_command (answer);
    fuzz_require (streq (command, "ACK") || streq (command, "ERROR"), "an answer is ACK or ERROR");
    fuzz_require (streq (command, "ACK") == (error.code == 0), "ERROR exactly when refused");
    if (getenv ("FUZZ_ROUTER_TRACE"))
        fprintf (stderr, "fuzz_router: %s from %s: %d %s\n", en_msg_command (msg), s_senders [sender].name,
                 error.code, error.code ? error.reason : "ACK");
    en_msg_destroy (&answer);
}

//  One message of the starting store, committed: it must be taken.
static void
s_setup_one (int sender, const char *command, json_t *body)
{
    en_db_t *db = en_bstore_db (s_store);
    en_msg_t *msg = en_msg_new (command, s_senders [sender].name, body);
    s_from_t from = { sender };
    en_error_t error = { 0 };
    fuzz_require (en_db_begin (db) == 0, "a transaction begins");
    en_msg_t *answer = en_inbox_receive (s_inbox, msg, NULL, s_route, &from, &error);
    if (error.code)
        fprintf (stderr, "fuzz_router: setup %s refused: %s\n", command, error.reason);
    fuzz_require (answer && error.code == 0, "the setup message is taken");
    fuzz_require (en_db_commit (db) == 0, "the setup commits");
    en_msg_destroy (&answer);
    en_msg_destroy (&msg);
}

static json_t *
s_request (const char *id, const char *urgency, const char *expertise)
{
    return json_pack ("{s:{s:s, s:s, s:s, s:s, s:[s], s:s}, s:s}", "request",
                      "id", id, "region", "twente", "urgency", urgency, "question_type", "consultatie-advies",
                      "expertise", expertise, "age_band", "12-17", "team_key", TEAM_KEY);
}

//  The starting store: experts at both nodes, and requests offered
//  (twente-0001), accepted (twente-0002), a team of two places with one
//  accepted (twente-0003), closed (twente-0004) and a moreel-beraad
//  accepted (twente-0005).
static void
s_setup_store (void)
{
    s_setup_one (1, "AVAILABILITY", json_pack ("{s:[{s:s, s:s, s:s, s:i, s:[s], s:s},"
        " {s:s, s:s, s:s, s:i, s:[s], s:s}, {s:s, s:s, s:s, s:i, s:[s], s:s, s:b}]}", "experts",
        "id", "se-a", "region", "ijsselland", "role", "superexpert", "capacity", 5, "expertise", "trauma",
        "box_key", EXPERT_KEY,
        "id", "se-b", "region", "ijsselland", "role", "superexpert", "capacity", 5, "expertise", "lvb",
        "box_key", EXPERT_KEY,
        "id", "pr-a", "region", "ijsselland", "role", "procesregisseur", "capacity", 5, "expertise", "trauma",
        "box_key", EXPERT_KEY, "bovenregionaal", 1));
    s_setup_one (0, "AVAILABILITY", json_pack ("{s:[{s:s, s:s, s:s, s:i, s:[s], s:s}]}", "experts",
        "id", "se-t", "region", "twente", "role", "superexpert", "capacity", 1, "expertise", "hechting",
        "box_key", EXPERT_KEY));
    s_setup_one (0, "SUBMIT", s_request ("twente-0001", "regulier", "trauma"));
    s_setup_one (0, "SUBMIT", s_request ("twente-0002", "hoog", "lvb"));
    s_setup_one (1, "ACCEPT", json_pack ("{s:s}", "offer", "twente-0002-o1"));
    json_t *team = s_request ("twente-0003", "crisis", "trauma");
    json_object_set_new (json_object_get (team, "request"), "places",
        json_pack ("[{s:s, s:[s]}, {s:s, s:[s]}]", "role", "superexpert", "expertise", "trauma",
                   "role", "superexpert", "expertise", "lvb"));
    s_setup_one (0, "SUBMIT", team);
    s_setup_one (1, "ACCEPT", json_pack ("{s:s}", "offer", "twente-0003-o1"));
    s_setup_one (0, "SUBMIT", s_request ("twente-0004", "regulier", "hechting"));
    s_setup_one (0, "CLOSE", json_pack ("{s:s, s:s}", "request", "twente-0004", "outcome", "opgelost"));
    json_t *beraad = s_request ("twente-0005", "regulier", "trauma");
    json_object_set_new (json_object_get (beraad, "request"), "question_type", json_string ("moreel-beraad"));
    s_setup_one (0, "SUBMIT", beraad);
    s_setup_one (1, "ACCEPT", json_pack ("{s:s}", "offer", "twente-0005-o1"));
}

static void
s_cleanup (void)
{
    en_inbox_destroy (&s_inbox);
    en_router_destroy (&s_router);
    en_bstore_destroy (&s_store);
    if (*s_dir)
        test_rmtree (s_dir);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    fuzz_init ();
    fuzz_mkdtemp (s_dir, "fuzz_router");
    atexit (s_cleanup);
    char path [PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/broker.db", s_dir);
    s_store = en_bstore_new (path, NULL);
    fuzz_require (s_store, "the broker store opens");
    s_router = en_router_new (s_store, "overijssel");
    s_inbox = en_inbox_new (en_bstore_db (s_store), "overijssel");
    en_router_add_region (s_router, "twente");
    en_router_add_region (s_router, "ijsselland");
    en_router_set_federation (s_router, true, 2, 2, s_link, NULL);
    fuzz_require (s_router && s_inbox, "router and inbox");
    s_setup_store ();
    fuzz_require (test_counters_drift (en_bstore_db (s_store)) == 0, "the starting store recounts");
    return 0;
}

//  A clock tick: what the broker's timers do, five days on
static void
s_tick (void)
{
    int64_t later = en_now_ms () + 5 * 86400 * 1000LL;
    en_router_expire (s_router, later);
    en_router_retry_hiaten (s_router, later);
}

//  A FORWARD from sender carrying node-achterhoek's command with body,
//  signed now (a carried message's time is checked), or NULL when the
//  command and body do not make a message.
static en_msg_t *
s_forward (int sender, const char *command, const char *body)
{
    en_msg_t *carried = en_msg_restore_text (command, "00112233445566778899aabbccddeeff", "node-achterhoek",
                                             en_now_ms (), body);
    zmsg_t *frames = carried ? en_msg_encode (carried) : NULL;
    en_msg_destroy (&carried);
    if (!frames)
        return NULL;
    fuzz_sign (frames);
    carried = en_msg_decode (frames, NULL);
    zmsg_destroy (&frames);
    if (!carried)
        return NULL;
    unsigned char public_key [crypto_sign_PUBLICKEYBYTES], secret_key [crypto_sign_SECRETKEYBYTES];
    fuzz_keypair (public_key, secret_key);
    char key [65];
    sodium_bin2hex (key, sizeof key, public_key, sizeof public_key);
    json_t *forward = json_pack ("{s:o, s:s, s:[s]}", "message", en_msg_export (carried), "sign_key", key,
                                 "visited", s_senders [sender].name);
    en_msg_destroy (&carried);
    return en_msg_new ("FORWARD", s_senders [sender].name, forward);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    en_db_t *db = en_bstore_db (s_store);
    zmsg_t *frames = fuzz_frames (data, size);
    fuzz_require (en_db_begin (db) == 0, "a transaction begins");
    en_msg_t *previous = NULL;
    int previous_sender = 0;
    for (int count = 0; count < S_MAX_MESSAGES && zmsg_size (frames) >= 3; count++) {
        zframe_t *who = zmsg_pop (frames);
        char *command = zmsg_popstr (frames);
        zframe_t *body_frame = zmsg_pop (frames);
        int selector = zframe_size (who) ? zframe_data (who) [0] : 0;
        int sender = selector & 3;
        if (sender == 3)
            s_tick ();
        else
        if ((selector & 4) && previous)
            s_receive (previous_sender, previous);
        else
        if ((selector & 8) && *command) {
            char *body = fuzz_text (zframe_data (body_frame), zframe_size (body_frame));
            en_msg_t *forward = s_forward (sender, command, body);
            if (forward) {
                en_msg_destroy (&previous);
                previous = forward;
                previous_sender = sender;
                s_receive (sender, previous);
            }
            free (body);
        }
        else {
            json_t *body = json_loadb ((const char *) zframe_data (body_frame), zframe_size (body_frame),
                                       JSON_REJECT_DUPLICATES, NULL);
            if (json_is_object (body) && *command) {
                en_msg_destroy (&previous);
                previous = en_msg_new (command, s_senders [sender].name, json_incref (body));
                previous_sender = sender;
                s_receive (sender, previous);
            }
            json_decref (body);
        }
        zframe_destroy (&who);
        zstr_free (&command);
        zframe_destroy (&body_frame);
    }
    en_msg_destroy (&previous);
    zmsg_destroy (&frames);
    int64_t drift = test_counters_drift (db);
    if (drift)
        fprintf (stderr, "fuzz_router: %lld counter(s) differ from a recount of the rows\n", (long long) drift);
    fuzz_require (drift == 0, "counters equal a recount of the rows");
    en_db_rollback (db);
    return 0;
}
