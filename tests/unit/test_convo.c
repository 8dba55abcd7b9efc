/*  test_convo - a request's conversation (broker/en_convo.c through the
    router's receive path; node/en_nstore.c's conversation tables) on real
    stores in a temporary directory, no sockets.

    The broker side: who may write (403, 404, 409, 422), the order (seq),
    what each node gets (only its own participants' ciphertexts), MEMBERS
    when the participants change, an advice as a message, receipts,
    exactly-once by message id, a participant who left gets nothing, and
    the ciphertext is nowhere in the store but the outbox. The node side:
    a message kept once per (request, seq), the thread in seq order.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <unistd.h>

#include "expertnet.h"
#include "en_router.h"
#include "en_nstore.h"
#include "test_fixture.h"

#define TEAM_KEY   "1111111111111111111111111111111111111111111111111111111111111111"
#define EXPERT_KEY "2222222222222222222222222222222222222222222222222222222222222222"
#define SEALED     "U0VBTEVES0VZLW1hcmtlcg=="               //  stands for a sealed key; a marker
#define BOX        "RU5DUllQVEVEVEVYVC1tYXJrZXI="            //  stands for the encrypted text; a marker

typedef test_broker_t fixture_t;

static int
s_setup (void **state)
{
    return test_broker_setup (state, "test_convo");
}

//  One message from node through the broker's exactly-once receive.
//  Takes body. 0, or -1 with error.
static int
s_handle (fixture_t *self, const char *node, const char *command, json_t *body, en_error_t *error)
{
    en_msg_t *msg = en_msg_new (command, node, body);
    const char *region = streq (node, "node-twente") ? "twente" : "ijsselland";
    int rc = test_receive (self->router, self->store, node, region, false, msg, error);
    en_msg_destroy (&msg);
    return rc;
}

static void
s_ok (fixture_t *self, const char *node, const char *command, json_t *body)
{
    en_error_t error = { 0 };
    if (s_handle (self, node, command, body, &error))
        fail_msg ("%s from %s refused: %d %s", command, node, error.code, error.reason);
}

static void
s_refused (fixture_t *self, const char *node, const char *command, json_t *body, int code)
{
    en_error_t error = { 0 };
    if (s_handle (self, node, command, body, &error) == 0)
        fail_msg ("%s from %s was accepted, expected %d", command, node, code);
    if (error.code != code)
        fail_msg ("%s from %s refused with %d (%s), expected %d", command, node, error.code, error.reason, code);
}

static int64_t
s_count (fixture_t *self, const char *sql)
{
    return en_db_int (en_bstore_db (self->store), sql, NULL);
}

//  Messages queued for dest with command
static int64_t
s_queued (fixture_t *self, const char *dest, const char *command)
{
    return en_db_int (en_bstore_db (self->store),
        "SELECT count(*) FROM outbox WHERE dest = ? AND command = ?", "ss", dest, command);
}

//  The body of the last message queued for dest with command (caller owns)
static json_t *
s_last (fixture_t *self, const char *dest, const char *command)
{
    char *text = en_db_text (en_bstore_db (self->store),
        "SELECT body FROM outbox WHERE dest = ? AND command = ? ORDER BY rowid DESC LIMIT 1", "ss", dest, command);
    json_t *body = text ? json_loads (text, 0, NULL) : NULL;
    free (text);
    assert_non_null (body);
    return body;
}

//  Expert se-a at node-ijsselland (with a box key), a request of
//  node-twente with the team's key, offered to se-a; accepted when asked.
static void
s_scene (fixture_t *self, bool accept)
{
    s_ok (self, "node-ijsselland", "AVAILABILITY", json_pack ("{s:[{s:s, s:s, s:s, s:i, s:[s], s:s}]}", "experts",
          "id", "se-a", "region", "ijsselland", "role", "superexpert", "capacity", 3, "expertise", "trauma",
          "box_key", EXPERT_KEY));
    s_ok (self, "node-twente", "SUBMIT", json_pack ("{s:{s:s, s:s, s:s, s:s, s:[s], s:s}, s:s}", "request",
          "id", "twente-r1", "region", "twente", "urgency", "hoog", "question_type", "consultatie-advies",
          "expertise", "trauma", "age_band", "12-17", "team_key", TEAM_KEY));
    if (accept)
        s_ok (self, "node-ijsselland", "ACCEPT", json_pack ("{s:s}", "offer", "twente-r1-o1"));
}

static json_t *
s_message (const char *from, const char *kind, bool with_expert)
{
    json_t *body = json_pack ("{s:s, s:s, s:s, s:s, s:{s:s}}", "request", "twente-r1", "from", from, "kind", kind,
                              "box", BOX, "sealed", "team", SEALED);
    if (with_expert)
        json_object_set_new (json_object_get (body, "sealed"), "se-a", json_string (SEALED));
    return body;
}

static void
test_team_key_checked (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_refused (self, "node-twente", "SUBMIT", json_pack ("{s:{s:s, s:s, s:s, s:s, s:[s], s:s}, s:s}", "request",
               "id", "twente-r9", "region", "twente", "urgency", "hoog", "question_type", "consultatie-advies",
               "expertise", "trauma", "age_band", "12-17", "team_key", "not-a-key"), EN_ERR_INVALID);
    assert_int_equal (s_count (self, "SELECT count(*) FROM requests"), 0);
}

static void
test_members_follow_accept_and_close (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_scene (self, false);
    assert_int_equal (s_queued (self, "node-twente", "MEMBERS"), 0);       //  no expert yet: no conversation
    s_ok (self, "node-ijsselland", "ACCEPT", json_pack ("{s:s}", "offer", "twente-r1-o1"));
    assert_int_equal (s_queued (self, "node-twente", "MEMBERS"), 1);
    assert_int_equal (s_queued (self, "node-ijsselland", "MEMBERS"), 1);
    json_t *members = s_last (self, "node-twente", "MEMBERS");
    char *text = json_dumps (json_object_get (members, "members"), JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal (text, "[{\"box_key\":\"" EXPERT_KEY "\",\"who\":\"se-a\"},"
                               "{\"box_key\":\"" TEAM_KEY "\",\"who\":\"team\"}]");
    free (text);
    json_decref (members);
    s_ok (self, "node-twente", "CLOSE", json_pack ("{s:s}", "request", "twente-r1"));
    assert_int_equal (s_queued (self, "node-ijsselland", "MEMBERS"), 2);
    members = s_last (self, "node-ijsselland", "MEMBERS");
    assert_int_equal (json_array_size (json_object_get (members, "members")), 0);
    json_decref (members);
}

//  A participant's new key (a new key pair, published again) reaches
//  every participant's node; publishing the same again sends nothing
static void
test_members_follow_a_new_key (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_scene (self, true);
    const char *experts = "{s:[{s:s, s:s, s:s, s:i, s:[s], s:s}]}";
    s_ok (self, "node-ijsselland", "AVAILABILITY", json_pack (experts, "experts", "id", "se-a", "region", "ijsselland",
          "role", "superexpert", "capacity", 3, "expertise", "trauma", "box_key", EXPERT_KEY));
    assert_int_equal (s_queued (self, "node-twente", "MEMBERS"), 1);
    const char *fresh = "3333333333333333333333333333333333333333333333333333333333333333";
    s_ok (self, "node-ijsselland", "AVAILABILITY", json_pack (experts, "experts", "id", "se-a", "region", "ijsselland",
          "role", "superexpert", "capacity", 3, "expertise", "trauma", "box_key", fresh));
    assert_int_equal (s_queued (self, "node-twente", "MEMBERS"), 2);
    assert_int_equal (s_queued (self, "node-ijsselland", "MEMBERS"), 2);
    json_t *members = s_last (self, "node-twente", "MEMBERS");
    assert_string_equal (en_json_str (json_array_get (json_object_get (members, "members"), 0), "box_key"), fresh);
    json_decref (members);
}

static void
test_who_may_write (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_scene (self, false);
    s_refused (self, "node-twente", "MESSAGE", s_message ("team", "message", true), EN_ERR_FORBIDDEN);  //  nobody accepted
    s_ok (self, "node-ijsselland", "ACCEPT", json_pack ("{s:s}", "offer", "twente-r1-o1"));
    json_t *unknown = s_message ("team", "message", true);
    json_object_set_new (unknown, "request", json_string ("twente-nope"));
    s_refused (self, "node-twente", "MESSAGE", unknown, EN_ERR_NOT_FOUND);
    s_refused (self, "node-twente", "MESSAGE", s_message ("se-a", "message", true), EN_ERR_FORBIDDEN);
    s_refused (self, "node-ijsselland", "MESSAGE", s_message ("team", "message", true), EN_ERR_FORBIDDEN);
    s_refused (self, "node-ijsselland", "MESSAGE", s_message ("se-zz", "message", true), EN_ERR_FORBIDDEN);
    s_refused (self, "node-twente", "MESSAGE", s_message ("team", "message", false), EN_ERR_CONFLICT);
    s_refused (self, "node-twente", "MESSAGE", s_message ("team", "chat", true), EN_ERR_INVALID);
    s_refused (self, "node-twente", "MESSAGE", s_message ("team", "advice", true), EN_ERR_INVALID);
    json_t *boxless = s_message ("team", "message", true);
    json_object_del (boxless, "box");
    s_refused (self, "node-twente", "MESSAGE", boxless, EN_ERR_INVALID);
    json_t *flat = s_message ("team", "message", true);
    json_object_set_new (flat, "sealed", json_string (SEALED));
    s_refused (self, "node-twente", "MESSAGE", flat, EN_ERR_INVALID);
    assert_int_equal (s_count (self, "SELECT count(*) FROM convo_messages"), 0);
    assert_int_equal (s_queued (self, "node-twente", "MESSAGE") + s_queued (self, "node-ijsselland", "MESSAGE"), 0);
    s_ok (self, "node-twente", "CLOSE", json_pack ("{s:s}", "request", "twente-r1"));
    s_refused (self, "node-twente", "MESSAGE", s_message ("team", "message", true), EN_ERR_CONFLICT);
}

static void
test_ordered_and_relayed_per_node (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_scene (self, true);
    json_t *first = s_message ("team", "message", true);
    json_object_set_new (json_object_get (first, "sealed"), "se-x", json_string ("bm90LWZvci15b3U="));
    s_ok (self, "node-twente", "MESSAGE", first);
    s_ok (self, "node-ijsselland", "MESSAGE", s_message ("se-a", "message", true));
    s_ok (self, "node-twente", "MESSAGE", s_message ("team", "message", true));
    json_t *rows = en_bstore_convo_messages (self->store, "twente-r1");
    char joined [64];
    assert_string_equal (test_join (json_incref (rows), "sender", joined, sizeof joined), "team se-a team");
    for (size_t index = 0; index < 3; index++)
        assert_int_equal (en_json_int (json_array_get (rows, index), "seq", 0), (int64_t) index + 1);
    json_decref (rows);
    //  Each node gets every message, with only its own participants' copies
    assert_int_equal (s_queued (self, "node-twente", "MESSAGE"), 3);
    assert_int_equal (s_queued (self, "node-ijsselland", "MESSAGE"), 3);
    json_t *mine = s_last (self, "node-twente", "MESSAGE");
    assert_int_equal (en_json_int (mine, "seq", 0), 3);
    assert_int_equal (json_object_size (json_object_get (mine, "sealed")), 1);
    assert_non_null (json_object_get (json_object_get (mine, "sealed"), "team"));
    json_decref (mine);
    mine = s_last (self, "node-ijsselland", "MESSAGE");
    assert_int_equal (json_object_size (json_object_get (mine, "sealed")), 1);
    assert_non_null (json_object_get (json_object_get (mine, "sealed"), "se-a"));
    json_decref (mine);
    //  Not a participant: sealed to, but never sent
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE body LIKE '%bm90LWZvci15b3U=%'"), 0);
}

static void
test_exactly_once_by_id (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_scene (self, true);
    en_msg_t *msg = en_msg_new ("MESSAGE", "node-twente", s_message ("team", "message", true));
    for (int round = 0; round < 3; round++) {
        en_error_t error = { 0 };
        assert_int_equal (test_receive (self->router, self->store, "node-twente", "twente", false, msg, &error), 0);
    }
    en_msg_destroy (&msg);
    assert_int_equal (s_count (self, "SELECT count(*) FROM convo_messages"), 1);
    assert_int_equal (s_queued (self, "node-ijsselland", "MESSAGE"), 1);
}

static void
test_ciphertext_only_in_outbox (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_scene (self, true);
    s_ok (self, "node-twente", "MESSAGE", s_message ("team", "message", true));
    en_db_t *db = en_bstore_db (self->store);
    assert_true (s_count (self, "SELECT count(*) FROM outbox WHERE body LIKE '%" SEALED "%'") > 0);
    assert_true (s_count (self, "SELECT count(*) FROM outbox WHERE body LIKE '%" BOX "%'") > 0);
    json_t *tables = en_db_rows (en_db_query (db,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('outbox')", NULL));
    size_t index;
    json_t *table;
    json_array_foreach (tables, index, table) {
        char sql [160];
        snprintf (sql, sizeof sql, "SELECT * FROM \"%s\"", en_json_str (table, "name"));
        json_t *rows = en_db_rows (en_db_query (db, sql, NULL));
        char *text = json_dumps (rows, JSON_COMPACT);
        if (text && (strstr (text, SEALED) || strstr (text, BOX)))
            fail_msg ("table %s holds the ciphertext", en_json_str (table, "name"));
        free (text);
        json_decref (rows);
    }
    json_decref (tables);
}

static void
test_advice_is_a_message (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_scene (self, true);
    s_ok (self, "node-ijsselland", "MESSAGE", s_message ("se-a", "advice", true));
    json_t *request = en_bstore_request (self->store, "twente-r1");
    assert_string_equal (en_json_str (request, "state"), "advice");
    json_decref (request);
    json_t *status = s_last (self, "node-twente", "STATUS");
    assert_string_equal (en_json_str (status, "event"), "advice");
    assert_null (json_object_get (status, "advice"));                    //  the text is not in it
    json_decref (status);
    assert_int_equal (s_count (self, "SELECT count(*) FROM convo_messages WHERE kind = 'advice'"), 1);
}

//  In a team, an advice moves the place of the expert who gave it, not
//  the first place; the request is "advice" once every place advised
static void
test_team_advice_on_its_place (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_ok (self, "node-ijsselland", "AVAILABILITY", json_pack ("{s:[{s:s, s:s, s:s, s:i, s:[s], s:s},"
          " {s:s, s:s, s:s, s:i, s:[s], s:s}]}", "experts",
          "id", "se-a", "region", "ijsselland", "role", "superexpert", "capacity", 3, "expertise", "trauma",
          "box_key", EXPERT_KEY,
          "id", "se-b", "region", "ijsselland", "role", "superexpert", "capacity", 3, "expertise", "lvb",
          "box_key", EXPERT_KEY));
    s_ok (self, "node-twente", "SUBMIT", json_pack ("{s:{s:s, s:s, s:s, s:s, s:[s, s], s:s,"
          " s:[{s:s, s:[s]}, {s:s, s:[s]}]}, s:s}", "request",
          "id", "twente-r1", "region", "twente", "urgency", "hoog", "question_type", "consultatie-advies",
          "expertise", "trauma", "lvb", "age_band", "12-17",
          "places", "role", "superexpert", "expertise", "trauma", "role", "superexpert", "expertise", "lvb",
          "team_key", TEAM_KEY));
    json_t *one = en_bstore_request_place (self->store, "twente-r1", 1);
    json_t *two = en_bstore_request_place (self->store, "twente-r1", 2);
    assert_string_equal (en_json_str (one, "state"), "offered");
    assert_string_equal (en_json_str (two, "state"), "offered");
    json_decref (one);
    json_decref (two);
    s_ok (self, "node-ijsselland", "ACCEPT", json_pack ("{s:s}", "offer", "twente-r1-o1"));
    s_ok (self, "node-ijsselland", "ACCEPT", json_pack ("{s:s}", "offer", "twente-r1-o2"));
    json_t *body = s_message ("se-b", "advice", true);
    json_object_set_new (json_object_get (body, "sealed"), "se-b", json_string (SEALED));
    s_ok (self, "node-ijsselland", "MESSAGE", body);
    one = en_bstore_request_place (self->store, "twente-r1", 1);
    two = en_bstore_request_place (self->store, "twente-r1", 2);
    assert_string_equal (en_json_str (one, "state"), "accepted");
    assert_string_equal (en_json_str (two, "state"), "advice");
    assert_string_equal (en_json_str (two, "expert"), "se-b");
    json_decref (one);
    json_decref (two);
    json_t *request = en_bstore_request (self->store, "twente-r1");
    assert_string_equal (en_json_str (request, "state"), "accepted");      //  not every place advised yet
    json_decref (request);
    body = s_message ("se-a", "advice", true);
    json_object_set_new (json_object_get (body, "sealed"), "se-b", json_string (SEALED));
    s_ok (self, "node-ijsselland", "MESSAGE", body);
    request = en_bstore_request (self->store, "twente-r1");
    assert_string_equal (en_json_str (request, "state"), "advice");
    json_decref (request);
    //  An operator closes se-b's place: se-b leaves the conversation
    en_error_t error = { 0 };
    assert_int_equal (en_router_operator_place (self->router, "op", "close", "twente-r1", 2, "niet meer nodig",
                                                &error), 0);
    json_t *members = s_last (self, "node-twente", "MEMBERS");
    char *text = json_dumps (json_object_get (members, "members"), JSON_COMPACT);
    assert_null (strstr (text, "se-b"));
    assert_non_null (strstr (text, "se-a"));
    free (text);
    json_decref (members);
    body = s_message ("se-b", "message", true);
    json_object_set_new (json_object_get (body, "sealed"), "se-b", json_string (SEALED));
    s_refused (self, "node-ijsselland", "MESSAGE", body, EN_ERR_FORBIDDEN);
}

static void
test_receipts (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_scene (self, true);
    s_ok (self, "node-ijsselland", "MESSAGE", s_message ("se-a", "message", true));
    s_ok (self, "node-twente", "RECEIPT", json_pack ("{s:s, s:i, s:s}", "request", "twente-r1", "seq", 1, "reader", "team"));
    assert_int_equal (s_queued (self, "node-ijsselland", "RECEIPT"), 1);
    assert_int_equal (s_queued (self, "node-twente", "RECEIPT"), 1);
    //  The same reader again (another message): recorded once, not relayed again
    s_ok (self, "node-twente", "RECEIPT", json_pack ("{s:s, s:i, s:s}", "request", "twente-r1", "seq", 1, "reader", "team"));
    assert_int_equal (s_queued (self, "node-ijsselland", "RECEIPT"), 1);
    s_refused (self, "node-twente", "RECEIPT", json_pack ("{s:s, s:i, s:s}", "request", "twente-r1", "seq", 9,
               "reader", "team"), EN_ERR_NOT_FOUND);
    s_refused (self, "node-twente", "RECEIPT", json_pack ("{s:s, s:i, s:s}", "request", "twente-r1", "seq", 1,
               "reader", "se-a"), EN_ERR_FORBIDDEN);
    s_refused (self, "node-twente", "RECEIPT", json_pack ("{s:s, s:s, s:s}", "request", "twente-r1", "seq", "1",
               "reader", "team"), EN_ERR_INVALID);
}

static void
test_who_left_gets_nothing (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_scene (self, true);
    s_ok (self, "node-twente", "MESSAGE", s_message ("team", "message", true));
    //  The expert's place ends (as an offer taken back would end it)
    assert_int_equal (en_db_exec (en_bstore_db (self->store),
        "UPDATE offers SET state = 'withdrawn' WHERE id = 'twente-r1-o1'", NULL), 0);
    json_t *participants = en_bstore_convo_participants (self->store, "twente-r1");
    char joined [64];
    assert_string_equal (test_join (participants, "who", joined, sizeof joined), "team");
    int64_t before = s_queued (self, "node-ijsselland", "MESSAGE");
    s_refused (self, "node-twente", "MESSAGE", s_message ("team", "message", true), EN_ERR_FORBIDDEN);
    s_refused (self, "node-ijsselland", "MESSAGE", s_message ("se-a", "message", true), EN_ERR_FORBIDDEN);
    assert_int_equal (s_queued (self, "node-ijsselland", "MESSAGE"), before);
}

//  A DOSSIER goes to the expert of the place it is for (one place here):
//  an `expert` it names is not followed, whoever it names
static void
test_dossier_to_the_places_expert (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_scene (self, true);
    s_ok (self, "node-twente", "DOSSIER", json_pack ("{s:s, s:s, s:s}", "request", "twente-r1", "expert", "se-a",
          "sealed", SEALED));
    json_t *dossier = s_last (self, "node-ijsselland", "DOSSIER");
    assert_string_equal (en_json_str (dossier, "expert"), "se-a");
    json_decref (dossier);
    //  Naming an expert who did not accept changes nothing
    s_ok (self, "node-twente", "DOSSIER", json_pack ("{s:s, s:s, s:s}", "request", "twente-r1", "expert", "se-zz",
          "sealed", SEALED));
    dossier = s_last (self, "node-ijsselland", "DOSSIER");
    assert_string_equal (en_json_str (dossier, "expert"), "se-a");
    json_decref (dossier);
}

//  --------------------------------------------------------------------
//  The node's store

static json_t *
s_arrived (int64_t seq, const char *from, const char *sealed)
{
    return json_pack ("{s:s, s:I, s:s, s:s, s:I, s:s, s:{s:s}}", "request", "twente-r1", "seq", (json_int_t) seq,
                      "from", from, "kind", "message", "at", (json_int_t) (1000 + seq), "box", "b", "sealed", "team",
                      sealed);
}

static void
test_node_keeps_each_seq_once (void **state)
{
    test_nstore_fixture_t *fx = (test_nstore_fixture_t *) *state;
    json_t *three = s_arrived (3, "se-a", "c3");
    json_t *one = s_arrived (1, "team", "c1");
    json_t *again = s_arrived (1, "se-a", "other");
    json_t *two = s_arrived (2, "se-a", "c2");
    assert_int_equal (en_nstore_convo_message_put (fx->store, three), 1);
    assert_int_equal (en_nstore_convo_message_put (fx->store, one), 1);
    assert_int_equal (en_nstore_convo_message_put (fx->store, again), 0);   //  (request, seq) known: kept once
    assert_int_equal (en_nstore_convo_message_put (fx->store, two), 1);
    json_t *thread = en_nstore_convo_thread (fx->store, "twente-r1", "team");
    char joined [64];
    assert_string_equal (test_join (json_incref (thread), "sealed", joined, sizeof joined), "c1 c2 c3");
    assert_string_equal (test_join (thread, "from", joined, sizeof joined), "team se-a se-a");
    //  Read once; a receipt kept once
    assert_int_equal (en_nstore_convo_read (fx->store, "twente-r1", 2, "team", 5000), 1);
    assert_int_equal (en_nstore_convo_read (fx->store, "twente-r1", 2, "team", 6000), 0);
    assert_int_equal (en_nstore_convo_receipt_put (fx->store, "twente-r1", 2, "se-a", 7000), 0);
    assert_int_equal (en_nstore_convo_receipt_put (fx->store, "twente-r1", 2, "se-a", 7001), 0);
    thread = en_nstore_convo_thread (fx->store, "twente-r1", "team");
    json_t *second = json_array_get (thread, 1);
    assert_int_equal (en_json_int (second, "read_at", 0), 5000);
    assert_int_equal (json_array_size (json_object_get (second, "read_by")), 1);
    json_decref (thread);
    json_decref (one);
    json_decref (two);
    json_decref (three);
    json_decref (again);
}

//  The message format itself: one box, a key sealed to each recipient;
//  each opens it with their own key pair only.
static void
test_message_sealing (void **state)
{
    unsigned char public_a [crypto_box_PUBLICKEYBYTES], secret_a [crypto_box_SECRETKEYBYTES];
    unsigned char public_b [crypto_box_PUBLICKEYBYTES], secret_b [crypto_box_SECRETKEYBYTES];
    crypto_box_keypair (public_a, secret_a);
    crypto_box_keypair (public_b, secret_b);
    char hex_a [65], hex_b [65], key_hex [65];
    sodium_bin2hex (hex_a, sizeof hex_a, public_a, sizeof public_a);
    sodium_bin2hex (hex_b, sizeof hex_b, public_b, sizeof public_b);
    char *box = NULL;
    assert_int_equal (en_keywrap_message_seal ("Synthetisch bericht", &box, key_hex), 0);
    assert_null (strstr (box, "Synthetisch"));
    unsigned char sealed_key [crypto_box_SEALBYTES + 64];
    crypto_box_seal (sealed_key, (const unsigned char *) key_hex, 64, public_a);
    char b64 [sodium_base64_ENCODED_LEN (sizeof sealed_key, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64 (b64, sizeof b64, sealed_key, sizeof sealed_key, sodium_base64_VARIANT_ORIGINAL);
    char *text = en_keywrap_message_open (box, b64, hex_a, secret_a);
    assert_non_null (text);
    assert_string_equal (text, "Synthetisch bericht");
    free (text);
    assert_null (en_keywrap_message_open (box, b64, hex_b, secret_b));      //  not sealed to b
    box [strlen (box) / 2] = box [strlen (box) / 2] == 'A' ? 'B' : 'A';
    assert_null (en_keywrap_message_open (box, b64, hex_a, secret_a));      //  tampered
    free (box);
    (void) state;
}

//  What was written here waits for the broker's answer; refused, it says why
static void
test_node_unsent (void **state)
{
    test_nstore_fixture_t *fx = (test_nstore_fixture_t *) *state;
    assert_int_equal (en_nstore_convo_sent_put (fx->store, "m1", "twente-r1", "team", "message"), 0);
    assert_int_equal (en_nstore_convo_sent_put (fx->store, "m2", "twente-r1", "team", "message"), 0);
    assert_int_equal (en_nstore_convo_sent_put (fx->store, "m3", "twente-r1", "se-a", "advice"), 0);
    json_t *unsent = en_nstore_convo_unsent (fx->store, "twente-r1", "team");
    assert_int_equal (json_array_size (unsent), 2);
    json_decref (unsent);
    assert_int_equal (en_nstore_message_result (fx->store, "m1", 0, NULL), 0);
    assert_int_equal (en_nstore_message_result (fx->store, "m2", 409, "the participants changed"), 0);
    unsent = en_nstore_convo_unsent (fx->store, "twente-r1", "team");
    assert_int_equal (json_array_size (unsent), 1);
    assert_string_equal (en_json_str (json_array_get (unsent, 0), "message"), "m2");
    assert_string_equal (en_json_str (json_array_get (unsent, 0), "state"), "refused");
    assert_string_equal (en_json_str (json_array_get (unsent, 0), "error"), "the participants changed");
    json_decref (unsent);
}

static void
test_node_members_replaced (void **state)
{
    test_nstore_fixture_t *fx = (test_nstore_fixture_t *) *state;
    json_t *both = test_json ("[{\"who\": \"team\", \"box_key\": \"" TEAM_KEY "\"},"
                              " {\"who\": \"se-a\", \"box_key\": \"" EXPERT_KEY "\"}]");
    assert_int_equal (en_nstore_convo_members_put (fx->store, "twente-r1", both), 0);
    json_t *members = en_nstore_convo_members (fx->store, "twente-r1");
    assert_int_equal (json_array_size (members), 2);
    json_decref (members);
    json_t *none = json_array ();
    assert_int_equal (en_nstore_convo_members_put (fx->store, "twente-r1", none), 0);
    members = en_nstore_convo_members (fx->store, "twente-r1");
    assert_int_equal (json_array_size (members), 0);
    json_decref (members);
    json_decref (none);
    json_decref (both);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_team_key_checked, s_setup, test_broker_teardown),
        cmocka_unit_test_setup_teardown (test_members_follow_accept_and_close, s_setup, test_broker_teardown),
        cmocka_unit_test_setup_teardown (test_members_follow_a_new_key, s_setup, test_broker_teardown),
        cmocka_unit_test_setup_teardown (test_who_may_write, s_setup, test_broker_teardown),
        cmocka_unit_test_setup_teardown (test_ordered_and_relayed_per_node, s_setup, test_broker_teardown),
        cmocka_unit_test_setup_teardown (test_exactly_once_by_id, s_setup, test_broker_teardown),
        cmocka_unit_test_setup_teardown (test_ciphertext_only_in_outbox, s_setup, test_broker_teardown),
        cmocka_unit_test_setup_teardown (test_advice_is_a_message, s_setup, test_broker_teardown),
        cmocka_unit_test_setup_teardown (test_team_advice_on_its_place, s_setup, test_broker_teardown),
        cmocka_unit_test_setup_teardown (test_receipts, s_setup, test_broker_teardown),
        cmocka_unit_test_setup_teardown (test_who_left_gets_nothing, s_setup, test_broker_teardown),
        cmocka_unit_test_setup_teardown (test_dossier_to_the_places_expert, s_setup, test_broker_teardown),
        cmocka_unit_test_setup_teardown (test_node_keeps_each_seq_once, test_nstore_setup, test_nstore_teardown),
        cmocka_unit_test_setup_teardown (test_node_members_replaced, test_nstore_setup, test_nstore_teardown),
        cmocka_unit_test_setup_teardown (test_node_unsent, test_nstore_setup, test_nstore_teardown),
        cmocka_unit_test (test_message_sealing),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
