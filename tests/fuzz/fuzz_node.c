/*  fuzz_node - a region node's handling of what its broker sends it: every
    reliable command (OFFER, WITHDRAW, STATUS, DOSSIER, REPLY, MEMBERS,
    MESSAGE, RECEIPT, REMIND, BERAAD) and BATCHes of them, through the
    node's exactly-once receive (en_inbox) to its handlers, as the node's
    batch runs them after the broker's signature and the time have been
    checked. The broker is an enrolled party like any other: whatever it
    sends, the node must answer (ACK or ERROR) and never crash.

    The node is a real en_node_t (its own keys, store, vault and sockets
    in a temporary directory; its broker link points at an ipc endpoint
    nobody serves, so nothing is sent anywhere). Its store starts, once,
    with two experts and two requests (one of a team); each input runs in
    a transaction that is rolled back after it, so every input meets the
    same store.

    Input: frames (fuzz.h encoding) in pairs, at most S_MAX_MESSAGES:
    [command] [JSON body]. A BATCH's messages are taken one by one, as
    the node does (en_msg_unbatch). A body that is not a JSON object
    never reaches the handlers (en_msg_decode refuses it), so it is
    skipped here. FUZZ_NODE_TRACE=1 prints each message's answer. */
#include "fuzz.h"
#include "en_node_int.h"
#include "en_nstore.h"

#define S_MAX_MESSAGES  8
#define S_NODE          "node-twente"
#define S_BROKER        "overijssel"
#define TEAM_KEY        "1111111111111111111111111111111111111111111111111111111111111111"

static char s_dir [PATH_MAX];
static en_node_t *s_node;

//  One message from the broker inside the open transaction: its answer
//  must be there, ACK or ERROR. Unreliable commands never reach the inbox.
static void
s_receive (en_msg_t *msg)
{
    if (!en_msg_command_reliable (en_msg_command (msg)))
        return;
    en_error_t error = { 0 };
    en_msg_t *answer = en_inbox_receive (s_node->inbox, msg, NULL, en_node_handle_reliable, s_node, &error);
    fuzz_require (answer, "an answer");
    const char *command = en_msg_command (answer);
    fuzz_require (streq (command, "ACK") || streq (command, "ERROR"), "an answer is ACK or ERROR");
    fuzz_require (streq (command, "ACK") == (error.code == 0), "ERROR exactly when refused");
    if (getenv ("FUZZ_NODE_TRACE"))
        fprintf (stderr, "fuzz_node: %s: %d %s\n", en_msg_command (msg), error.code,
                 error.code ? error.reason : "ACK");
    en_msg_destroy (&answer);
}

//  A BATCH: each of its messages as if it came alone; a malformed one is
//  dropped whole, as the node drops it.
static void
s_receive_batch (en_msg_t *batch)
{
    en_error_t error = { 0 };
    zlistx_t *msgs = en_msg_unbatch (batch, &error);
    if (!msgs && getenv ("FUZZ_NODE_TRACE"))
        fprintf (stderr, "fuzz_node: BATCH dropped: %d %s\n", error.code, error.reason);
    for (en_msg_t *msg = msgs ? (en_msg_t *) zlistx_first (msgs) : NULL; msg; msg = (en_msg_t *) zlistx_next (msgs))
        s_receive (msg);
    zlistx_destroy (&msgs);
}

static void
s_cleanup (void)
{
    en_node_destroy (&s_node);
    if (*s_dir)
        test_rmtree (s_dir);
}

//  Our keys, and the broker's public certificate beside them
static void
s_make_keys (void)
{
    char keys [PATH_MAX + 16], broker [PATH_MAX + 16], from [PATH_MAX + 48], to [PATH_MAX + 48];
    snprintf (keys, sizeof keys, "%s/keys", s_dir);
    snprintf (broker, sizeof broker, "%s/broker-keys", s_dir);
    fuzz_require (en_keys_generate (keys, S_NODE, NULL) == 0, "the node's keys");
    fuzz_require (en_keys_generate (broker, S_BROKER, NULL) == 0, "the broker's keys");
    snprintf (from, sizeof from, "%s/%s.cert", broker, S_BROKER);
    snprintf (to, sizeof to, "%s/broker.cert", keys);
    char *text = en_file_read (from, 65536);
    fuzz_require (text, "the broker's certificate is read");
    FILE *file = fopen (to, "w");
    fuzz_require (file && fputs (text, file) >= 0, "broker.cert is written");
    fclose (file);
    free (text);
}

//  The starting store: two experts, a request and a team's request
static void
s_setup_store (void)
{
    en_db_t *db = en_nstore_db (s_node->store);
    fuzz_require (en_db_begin (db) == 0, "a transaction begins");
    const char *experts [] = { "se-t", "pr-t" };
    for (int i = 0; i < 2; i++) {
        json_t *expert = json_pack ("{s:s, s:s, s:s, s:i, s:[s]}", "id", experts [i], "region", "twente",
                                    "role", i ? "procesregisseur" : "superexpert", "capacity", 3,
                                    "expertise", "trauma");
        fuzz_require (en_nstore_expert_put (s_node->store, expert) == 0, "an expert stored");
        json_decref (expert);
    }
    json_t *one = json_pack ("{s:s, s:s, s:s, s:s, s:[s], s:s}", "id", "twente-0001", "region", "twente",
                             "urgency", "hoog", "question_type", "consultatie-advies", "expertise", "trauma",
                             "age_band", "12-17");
    json_t *team = json_pack ("{s:s, s:s, s:s, s:s, s:[s], s:s, s:[{s:s}, {s:s}]}", "id", "twente-0002",
                              "region", "twente", "urgency", "crisis", "question_type", "moreel-beraad",
                              "expertise", "trauma", "age_band", "4-11", "places", "role", "superexpert",
                              "role", "procesregisseur");
    fuzz_require (en_nstore_request_insert (s_node->store, one, "fuzz-submit-1", NULL) == 0, "a request");
    fuzz_require (en_nstore_request_insert (s_node->store, team, "fuzz-submit-2", NULL) == 0, "a team's");
    json_decref (one);
    json_decref (team);
    fuzz_require (en_db_commit (db) == 0, "the setup commits");
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    fuzz_init ();
    fuzz_mkdtemp (s_dir, "fuzz_node");
    atexit (s_cleanup);
    s_make_keys ();
    char endpoint [PATH_MAX + 32];
    snprintf (endpoint, sizeof endpoint, "ipc://%s/no-broker.sock", s_dir);
    zconfig_t *config = zconfig_new ("root", NULL);
    zconfig_put (config, "node/name", S_NODE);
    zconfig_put (config, "node/region", "twente");
    zconfig_put (config, "node/datadir", s_dir);
    zconfig_put (config, "broker/endpoint", endpoint);
    en_error_t error = { 0 };
    s_node = en_node_new (config, &error);
    if (!s_node)
        fprintf (stderr, "fuzz_node: cannot start a node: %s\n", error.reason);
    fuzz_require (s_node, "the node starts");
    zconfig_destroy (&config);
    s_setup_store ();
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    en_db_t *db = en_nstore_db (s_node->store);
    zmsg_t *frames = fuzz_frames (data, size);
    fuzz_require (en_db_begin (db) == 0, "a transaction begins");
    for (int count = 0; count < S_MAX_MESSAGES && zmsg_size (frames) >= 2; count++) {
        char *command = zmsg_popstr (frames);
        zframe_t *body_frame = zmsg_pop (frames);
        json_t *body = json_loadb ((const char *) zframe_data (body_frame), zframe_size (body_frame),
                                   JSON_REJECT_DUPLICATES, NULL);
        if (json_is_object (body) && *command) {
            en_msg_t *msg = en_msg_new (command, S_BROKER, json_incref (body));
            if (streq (command, "BATCH"))
                s_receive_batch (msg);
            else
                s_receive (msg);
            en_msg_destroy (&msg);
        }
        json_decref (body);
        zstr_free (&command);
        zframe_destroy (&body_frame);
    }
    zmsg_destroy (&frames);
    //  What the batch would have sent and published goes with it
    zlistx_purge (s_node->replies);
    zlistx_purge (s_node->notices);
    en_db_rollback (db);
    return 0;
}
