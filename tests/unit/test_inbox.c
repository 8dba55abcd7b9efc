/*  test_inbox - exactly-once receive (include/en_inbox.h) on a real
    SQLite file in a temporary directory: dedup, the timestamp window,
    the savepoint and the seen record, and the answer made of each.

    The handler writes one row per message it processes into a table of
    its own, so a test sees both how often it ran and whether its writes
    stayed. Every message is received in a transaction, as the daemons'
    batches do it.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "expertnet.h"
#include "test_fixture.h"

static const char *s_migrations [] = {
    EN_OUTBOX_SCHEMA, EN_SEEN_DIGEST_MIGRATION, "CREATE TABLE handled (msg_id TEXT NOT NULL);", NULL
};

typedef struct {
    char dir [64];              //  temporary directory
    en_db_t *db;                //  database in dir
    en_inbox_t *inbox;          //  inbox on db
    int calls;                  //  times the handler ran
    int refuse;                 //  the handler's refusal code (0: it takes the message)
    bool mute;                  //  the handler fails without saying why
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *self = (fixture_t *) calloc (1, sizeof (fixture_t));
    if (!test_mkdtemp (self->dir, sizeof self->dir, "test_inbox"))
        return -1;
    char path [128];
    en_error_t error = { 0 };
    snprintf (path, sizeof path, "%s/inbox.db", self->dir);
    self->db = en_db_new (path, s_migrations, &error);
    if (!self->db) {
        fprintf (stderr, "en_db_new: %s\n", error.reason);
        return -1;
    }
    self->inbox = en_inbox_new (self->db, "broker-oost");
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_inbox_destroy (&self->inbox);
    en_inbox_destroy (&self->inbox);        //  safe twice
    en_db_destroy (&self->db);
    test_rmtree (self->dir);
    free (self);
    return 0;
}

//  The handler: writes its row, then takes or refuses the message.
static int
s_handler (en_msg_t *msg, void *arg, en_error_t *error)
{
    fixture_t *self = (fixture_t *) arg;
    self->calls++;
    if (en_db_exec (self->db, "INSERT INTO handled (msg_id) VALUES (?)", "s", en_msg_id (msg)))
        return en_error_set (error, EN_ERR_INTERNAL, "store error");
    if (self->refuse)
        return en_error_set (error, self->refuse, "refused by the handler");
    return self->mute ? -1 : 0;
}

//  Receive msg in a transaction; returns the answer (caller destroys).
static en_msg_t *
s_receive (fixture_t *self, en_msg_t *msg, en_clock_t *clock, en_error_t *error)
{
    assert_int_equal (en_db_begin (self->db), 0);
    en_msg_t *answer = en_inbox_receive (self->inbox, msg, clock, s_handler, self, error);
    assert_int_equal (en_db_commit (self->db), 0);
    assert_non_null (answer);
    assert_string_equal (en_msg_sender (answer), "broker-oost");
    assert_string_equal (en_json_str (en_msg_body (answer), "ref"), en_msg_id (msg));
    return answer;
}

//  Expect an ACK (and no error).
static void
s_expect_ack (fixture_t *self, en_msg_t *msg, en_clock_t *clock)
{
    en_error_t error;
    en_msg_t *answer = s_receive (self, msg, clock, &error);
    assert_string_equal (en_msg_command (answer), "ACK");
    assert_int_equal (error.code, 0);
    en_msg_destroy (&answer);
}

//  Expect an ERROR with code; its body must say what error says.
static void
s_expect_error (fixture_t *self, en_msg_t *msg, en_clock_t *clock, int code, bool temporary)
{
    en_error_t error;
    en_msg_t *answer = s_receive (self, msg, clock, &error);
    json_t *body = en_msg_body (answer);
    assert_string_equal (en_msg_command (answer), "ERROR");
    assert_int_equal (error.code, code);
    assert_int_equal (en_json_int (body, "code", 0), code);
    assert_string_equal (en_json_str (body, "reason"), error.reason);
    assert_true (strlen (error.reason) > 0);
    assert_string_equal (error.ref, en_msg_id (msg));
    assert_int_equal (json_is_true (json_object_get (body, "temporary")), temporary);
    assert_int_equal (error.temporary, temporary);
    en_msg_destroy (&answer);
}

static int64_t
s_handled (fixture_t *self)
{
    return en_db_int (self->db, "SELECT count(*) FROM handled", NULL);
}

static int64_t
s_seen_code (fixture_t *self, en_msg_t *msg)
{
    return en_db_int (self->db, "SELECT coalesce ((SELECT code FROM seen WHERE msg_id = ?), -1)", "s",
                      en_msg_id (msg));
}

//  Processed once; a resend gets the ACK again without being processed
static void
test_once (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_msg_t *msg = en_msg_new ("SUBMIT", "twente", json_pack ("{s:s}", "request", "twente-0001"));
    assert_false (en_inbox_resend (self->inbox, msg));
    s_expect_ack (self, msg, NULL);
    assert_true (en_inbox_resend (self->inbox, msg));
    s_expect_ack (self, msg, NULL);
    assert_int_equal (self->calls, 1);
    assert_int_equal (s_handled (self), 1);
    assert_int_equal (s_seen_code (self, msg), 0);
    en_msg_destroy (&msg);
}

//  A refusal is final: its writes go, its record stays, a resend gets
//  the same answer without being processed
static void
test_refusal_recorded (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_msg_t *msg = en_msg_new ("ACCEPT", "twente", json_pack ("{s:s}", "offer", "twente-0001-o1"));
    self->refuse = EN_ERR_CONFLICT;
    s_expect_error (self, msg, NULL, EN_ERR_CONFLICT, false);
    assert_int_equal (s_handled (self), 0);
    assert_int_equal (s_seen_code (self, msg), EN_ERR_CONFLICT);
    self->refuse = 0;
    s_expect_error (self, msg, NULL, EN_ERR_CONFLICT, false);
    assert_int_equal (self->calls, 1);
    en_error_t error;
    en_msg_t *answer = s_receive (self, msg, NULL, &error);
    assert_string_equal (error.reason, "refused by the handler");
    en_msg_destroy (&answer);
    en_msg_destroy (&msg);
}

//  A store failure (500) leaves nothing: the resend is processed afresh
static void
test_store_failure_not_recorded (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_msg_t *msg = en_msg_new ("OFFER", "broker-oost", json_pack ("{s:s}", "offer", "twente-0001-o1"));
    self->refuse = EN_ERR_INTERNAL;
    s_expect_error (self, msg, NULL, EN_ERR_INTERNAL, false);
    assert_int_equal (s_handled (self), 0);
    assert_int_equal (s_seen_code (self, msg), -1);
    //  So is a failure the handler does not explain
    self->refuse = 0;
    self->mute = true;
    s_expect_error (self, msg, NULL, EN_ERR_INTERNAL, false);
    assert_int_equal (s_seen_code (self, msg), -1);
    self->mute = false;
    s_expect_ack (self, msg, NULL);
    assert_int_equal (self->calls, 3);
    assert_int_equal (s_handled (self), 1);

    //  The inbox's own writes failing (savepoint, seen record, release)
    //  are store failures too, and leave nothing either
    for (int n = 1; n <= 3; n++) {
        en_msg_t *other = en_msg_new ("OFFER", "broker-oost", json_pack ("{s:i}", "n", n));
        en_error_t error;
        assert_int_equal (en_db_begin (self->db), 0);
        en_db_fault_countdown (self->db, n == 1 ? 1 : n + 1);      //  savepoint; seen; release
        en_msg_t *answer = en_inbox_receive (self->inbox, other, NULL, s_handler, self, &error);
        assert_true (en_db_fault_fired (self->db));
        en_db_fault_countdown (self->db, 0);
        assert_int_equal (en_db_commit (self->db), 0);
        assert_string_equal (en_msg_command (answer), "ERROR");
        assert_int_equal (error.code, EN_ERR_INTERNAL);
        assert_int_equal (s_seen_code (self, other), -1);
        assert_int_equal (s_handled (self), 1);
        en_msg_destroy (&answer);
        en_msg_destroy (&other);
    }
    en_msg_destroy (&msg);
}

//  An id reused for other content: 409, not processed, the first record
//  kept (the original's resend still gets its ACK)
static void
test_id_reused (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_msg_t *msg = en_msg_new ("SUBMIT", "twente", json_pack ("{s:s}", "request", "twente-0001"));
    s_expect_ack (self, msg, NULL);
    en_msg_t *reused = en_msg_restore ("SUBMIT", en_msg_id (msg), "twente", en_msg_timestamp (msg),
                                       json_pack ("{s:s}", "request", "twente-0002"));
    s_expect_error (self, reused, NULL, EN_ERR_CONFLICT, false);
    assert_false (en_inbox_resend (self->inbox, reused));
    assert_int_equal (self->calls, 1);
    assert_int_equal (s_seen_code (self, msg), 0);
    s_expect_ack (self, msg, NULL);
    en_msg_destroy (&reused);
    en_msg_destroy (&msg);
}

//  The window: a message not processed before and out of it is refused,
//  temporarily and unrecorded; a resend of one processed is answered
//  however old; without a clock the caller has judged the time
static void
test_timestamp_window (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_clock_t *clock = en_clock_new ("twente", 30000);
    int64_t old = en_now_ms () - 8 * 86400000LL;
    en_msg_t *stale = en_msg_restore ("SUBMIT", "0123456789abcdef0123456789abcdef", "twente", old,
                                      json_pack ("{s:s}", "request", "twente-0001"));
    s_expect_error (self, stale, clock, EN_ERR_FORBIDDEN, true);
    assert_int_equal (self->calls, 0);
    assert_int_equal (s_seen_code (self, stale), -1);
    en_msg_t *ahead = en_msg_restore ("SUBMIT", "0123456789abcdef0123456789abcde0", "twente",
                                      en_now_ms () + 3600000, json_pack ("{}"));
    s_expect_error (self, ahead, clock, EN_ERR_FORBIDDEN, true);
    assert_int_equal (self->calls, 0);

    //  Processed when it was fresh (no clock here: judged by the caller),
    //  its resend a week later still gets its ACK
    s_expect_ack (self, stale, NULL);
    s_expect_ack (self, stale, clock);
    assert_int_equal (self->calls, 1);
    en_msg_destroy (&ahead);
    en_msg_destroy (&stale);
    en_clock_destroy (&clock);
}

//  The answers themselves, also for refusals made outside the inbox
static void
test_answer (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_msg_t *ack = en_inbox_answer (self->inbox, "0123456789abcdef0123456789abcdef", NULL);
    assert_string_equal (en_msg_command (ack), "ACK");
    assert_int_equal (json_object_size (en_msg_body (ack)), 1);
    en_msg_destroy (&ack);

    en_error_t error = { 0 };
    en_error_set (&error, EN_ERR_NO_SESSION, "send HELLO first");
    en_msg_t *refusal = en_inbox_answer (self->inbox, "", &error);
    assert_string_equal (en_msg_command (refusal), "ERROR");
    char *text = en_msg_body_text (refusal);
    assert_string_equal (text, "{\"ref\":\"\",\"code\":401,\"reason\":\"send HELLO first\"}");
    free (text);
    en_msg_destroy (&refusal);

    error.temporary = true;
    refusal = en_inbox_answer (self->inbox, "0123456789abcdef0123456789abcdef", &error);
    assert_true (json_is_true (json_object_get (en_msg_body (refusal), "temporary")));
    en_msg_destroy (&refusal);
}

//  The messages of a BATCH are received exactly as if they came alone:
//  each once, and a resend of one alone (or in another BATCH) gets the
//  answer it got, without being processed again; a refusal stays its own
static void
test_batch_inner (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    zlistx_t *sent = zlistx_new ();
    for (int i = 0; i < 3; i++)
        zlistx_add_end (sent, en_msg_new (i == 1 ? "OFFER" : "STATUS", "broker-oost", json_pack ("{s:i}", "n", i)));
    en_msg_t *batch = en_msg_batch ("broker-oost", sent);
    zmsg_t *wire = en_msg_encode (batch);
    en_msg_t *received = en_msg_decode (wire, NULL);
    zlistx_t *inner = en_msg_unbatch (received, NULL);
    assert_non_null (inner);
    //  The second is refused by the handler, the others taken
    int index = 0;
    for (en_msg_t *msg = (en_msg_t *) zlistx_first (inner); msg; msg = (en_msg_t *) zlistx_next (inner), index++) {
        self->refuse = index == 1 ? EN_ERR_INVALID : 0;
        if (index == 1)
            s_expect_error (self, msg, NULL, EN_ERR_INVALID, false);
        else
            s_expect_ack (self, msg, NULL);
    }
    assert_int_equal (self->calls, 3);
    assert_int_equal (s_handled (self), 2);
    //  Alone, as the sender's outbox would re-send them: answered, not
    //  processed again
    self->refuse = 0;
    index = 0;
    for (en_msg_t *msg = (en_msg_t *) zlistx_first (sent); msg; msg = (en_msg_t *) zlistx_next (sent), index++) {
        if (index == 1)
            s_expect_error (self, msg, NULL, EN_ERR_INVALID, false);
        else
            s_expect_ack (self, msg, NULL);
    }
    assert_int_equal (self->calls, 3);
    //  The same BATCH again: the same
    zlistx_t *again = en_msg_unbatch (received, NULL);
    for (en_msg_t *msg = (en_msg_t *) zlistx_first (again); msg; msg = (en_msg_t *) zlistx_next (again))
        en_msg_destroy (&(en_msg_t *) { s_receive (self, msg, NULL, &(en_error_t) { 0 }) });
    assert_int_equal (self->calls, 3);
    assert_int_equal (s_handled (self), 2);
    zlistx_destroy (&again);
    zlistx_destroy (&inner);
    en_msg_destroy (&received);
    zmsg_destroy (&wire);
    en_msg_destroy (&batch);
    for (en_msg_t *msg = (en_msg_t *) zlistx_first (sent); msg; msg = (en_msg_t *) zlistx_next (sent))
        en_msg_destroy (&msg);
    zlistx_destroy (&sent);
}

static void
s_msg_free (void **item)
{
    en_msg_destroy ((en_msg_t **) item);
}

//  A batch's answers to one peer: its ACKs become cumulative ones after
//  its other answers, EN_MAX_REFS at most each, every ref exactly once
static void
test_coalesce (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    int sizes [] = { 0, 1, 3, EN_MAX_REFS, EN_MAX_REFS + 1, 2 * EN_MAX_REFS + 5 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes [0]; s++) {
        zlistx_t *answers = zlistx_new ();
        zlistx_set_destructor (answers, s_msg_free);
        zhashx_t *refs = zhashx_new ();         //  what must be acknowledged
        en_error_t refusal = { 0 };
        en_error_set (&refusal, EN_ERR_INVALID, "no");
        for (int i = 0; i < sizes [s]; i++) {
            char *ref = en_new_id ();
            zhashx_insert (refs, ref, "todo");
            zlistx_add_end (answers, en_inbox_answer (self->inbox, ref, NULL));
            if (i % 100 == 0)
                zlistx_add_end (answers, en_inbox_answer (self->inbox, ref, &refusal));
            free (ref);
        }
        size_t errors = zlistx_size (answers) - (size_t) sizes [s];
        int made = en_inbox_coalesce (self->inbox, answers);
        assert_int_equal (made, (sizes [s] + EN_MAX_REFS - 1) / EN_MAX_REFS);
        assert_int_equal (zlistx_size (answers), errors + (size_t) made);
        size_t index = 0;
        for (en_msg_t *answer = (en_msg_t *) zlistx_first (answers); answer;
             answer = (en_msg_t *) zlistx_next (answers), index++) {
            //  The ERRORs first, in their order; then the ACKs
            assert_string_equal (en_msg_command (answer), index < errors ? "ERROR" : "ACK");
            if (index < errors)
                continue;
            json_t *acked = en_msg_ack_refs (answer, NULL);
            assert_non_null (acked);
            assert_true (json_array_size (acked) >= 1 && json_array_size (acked) <= EN_MAX_REFS);
            //  One ref goes as `ref`, as before EXPN/3
            assert_true ((json_array_size (acked) == 1) == (json_object_get (en_msg_body (answer), "ref") != NULL));
            size_t i;
            json_t *ref;
            json_array_foreach (acked, i, ref) {
                assert_non_null (zhashx_lookup (refs, json_string_value (ref)));
                zhashx_delete (refs, json_string_value (ref));
            }
            json_decref (acked);
        }
        assert_int_equal (zhashx_size (refs), 0);
        zhashx_destroy (&refs);
        zlistx_destroy (&answers);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refusal_recorded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_store_failure_not_recorded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_id_reused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_timestamp_window, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_answer, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_coalesce, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_batch_inner, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
