/*  test_outbox - the durable outbox, the dedup record (include/en_outbox.h)
    and schema migrations of en_db (include/en_db.h), on real SQLite files
    in a temporary directory.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <dirent.h>
#include <unistd.h>

#include "expertnet.h"
#include "test_fixture.h"

typedef struct {
    char dir [64];              //  temporary directory
    char path [128];            //  database file in it
    en_db_t *db;                //  open database
    en_outbox_t *outbox;        //  outbox on db
} fixture_t;

static const char *s_migrations [] = { EN_OUTBOX_SCHEMA, EN_SEEN_DIGEST_MIGRATION, NULL };

//  What a flush handed to the transport.
typedef struct {
    zlistx_t *dests;            //  dest of each send, in order
    zlistx_t *ids;              //  message id of each send, in order
    zlistx_t *bodies;           //  compact body of each send, in order
    int fail_after;             //  refuse sends after this many (-1: never)
    const char *fail_id;        //  refuse just this message id (NULL: none)
} sink_t;

static void
s_sink_init (sink_t *sink)
{
    sink->dests = zlistx_new ();
    sink->ids = zlistx_new ();
    sink->bodies = zlistx_new ();
    zlistx_set_destructor (sink->dests, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_destructor (sink->ids, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_destructor (sink->bodies, (zlistx_destructor_fn *) zstr_free);
    sink->fail_after = -1;
    sink->fail_id = NULL;
}

static void
s_sink_reset (sink_t *sink)
{
    zlistx_purge (sink->dests);
    zlistx_purge (sink->ids);
    zlistx_purge (sink->bodies);
}

static void
s_sink_destroy (sink_t *sink)
{
    zlistx_destroy (&sink->dests);
    zlistx_destroy (&sink->ids);
    zlistx_destroy (&sink->bodies);
}

static int
s_send (const char *dest, en_msg_t *msg, void *arg)
{
    sink_t *sink = (sink_t *) arg;
    if (sink->fail_after >= 0 && (int) zlistx_size (sink->ids) >= sink->fail_after)
        return -1;
    if (sink->fail_id && streq (sink->fail_id, en_msg_id (msg)))
        return -1;
    zlistx_add_end (sink->dests, strdup (dest));
    zlistx_add_end (sink->ids, strdup (en_msg_id (msg)));
    zlistx_add_end (sink->bodies, en_msg_body_text (msg));
    return 0;
}

//  The n-th (0-based) entry of a list of strings.
static const char *
s_nth (zlistx_t *list, int n)
{
    const char *item = (const char *) zlistx_first (list);
    while (item && n-- > 0)
        item = (const char *) zlistx_next (list);
    return item;
}


static int
s_setup (void **state)
{
    fixture_t *self = (fixture_t *) calloc (1, sizeof (fixture_t));
    if (!test_mkdtemp (self->dir, sizeof self->dir, "test_outbox"))
        return -1;
    snprintf (self->path, sizeof self->path, "%s/node.db", self->dir);
    en_error_t error = { 0 };
    self->db = en_db_new (self->path, s_migrations, &error);
    if (!self->db) {
        fprintf (stderr, "en_db_new: %s\n", error.reason);
        return -1;
    }
    self->outbox = en_outbox_new (self->db);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_outbox_destroy (&self->outbox);
    en_outbox_destroy (&self->outbox);      //  safe twice
    en_db_destroy (&self->db);
    en_db_destroy (&self->db);
    test_rmtree (self->dir);
    free (self);
    return 0;
}

//  Queue a STATUS with body {"n": n} for dest; returns a copy of its id.
static char *
s_put (fixture_t *self, const char *dest, int n)
{
    en_msg_t *msg = en_msg_new ("STATUS", "broker-oost", json_pack ("{s:i}", "n", n));
    char *id = strdup (en_msg_id (msg));
    assert_int_equal (en_outbox_put (self->outbox, dest, msg), 0);
    en_msg_destroy (&msg);
    return id;
}

static void
test_flush_order_and_retry (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char *ids [3];
    for (int i = 0; i < 3; i++)
        ids [i] = s_put (self, "node-twente", i);
    char *other = s_put (self, "node-ijsselland", 9);
    sink_t sink;
    s_sink_init (&sink);

    //  First flush: all three of node-twente, in put order, bodies intact
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 60000, 100, s_send, &sink), 3);
    assert_int_equal (zlistx_size (sink.ids), 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal (s_nth (sink.ids, i), ids [i]);
        assert_string_equal (s_nth (sink.dests, i), "node-twente");
        json_t *body = json_loads (s_nth (sink.bodies, i), 0, NULL);
        assert_int_equal (en_json_int (body, "n", -1), i);
        json_decref (body);
    }
    //  Within the retry interval nothing is due
    s_sink_reset (&sink);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 60000, 100, s_send, &sink), 0);
    assert_int_equal (zlistx_size (sink.ids), 0);
    //  A retry interval of 0 makes everything due again
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 0, 100, s_send, &sink), 3);
    s_sink_reset (&sink);
    //  After a reset (reconnect) all are sent again, in order
    en_outbox_reset (self->outbox, "node-twente");
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 60000, 100, s_send, &sink), 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal (s_nth (sink.ids, i), ids [i]);
    s_sink_reset (&sink);

    //  The other destination was never flushed: a flush of all sends it only
    assert_int_equal (en_outbox_flush (self->outbox, NULL, 60000, 100, s_send, &sink), 1);
    assert_string_equal (s_nth (sink.ids, 0), other);
    assert_string_equal (s_nth (sink.dests, 0), "node-ijsselland");
    s_sink_reset (&sink);
    //  Reset of one destination leaves the other's timers alone
    en_outbox_reset (self->outbox, "node-ijsselland");
    assert_int_equal (en_outbox_flush (self->outbox, NULL, 60000, 100, s_send, &sink), 1);
    assert_string_equal (s_nth (sink.ids, 0), other);
    s_sink_reset (&sink);
    //  Reset of all
    en_outbox_reset (self->outbox, NULL);
    assert_int_equal (en_outbox_flush (self->outbox, NULL, 60000, 100, s_send, &sink), 4);

    s_sink_destroy (&sink);
    for (int i = 0; i < 3; i++)
        free (ids [i]);
    free (other);
}

//  Does en_outbox_due name dest (and only the ones it should)?
static bool
s_due (fixture_t *self, const char *dest, int64_t retry_ms)
{
    zlistx_t *due = en_outbox_due (self->outbox, retry_ms);
    bool found = false;
    for (const char *name = (const char *) zlistx_first (due); name; name = (const char *) zlistx_next (due))
        found = found || streq (name, dest);
    zlistx_destroy (&due);
    return found;
}

//  The destinations a broker flushes after a batch: those with something
//  never sent or a retransmission due, not every connected one
static void
test_due_destinations (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    zlistx_t *due = en_outbox_due (self->outbox, 60000);
    assert_int_equal (zlistx_size (due), 0);
    zlistx_destroy (&due);
    char *one = s_put (self, "node-twente", 1);
    char *two = s_put (self, "node-ijsselland", 2);
    assert_true (s_due (self, "node-twente", 60000));
    assert_true (s_due (self, "node-ijsselland", 60000));
    sink_t sink;
    s_sink_init (&sink);
    //  Sent: nothing due within the interval, due again after it
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 60000, 100, s_send, &sink), 1);
    assert_false (s_due (self, "node-twente", 60000));
    assert_true (s_due (self, "node-ijsselland", 60000));
    assert_true (s_due (self, "node-twente", 0));
    //  A new entry makes it due at once
    char *three = s_put (self, "node-twente", 3);
    assert_true (s_due (self, "node-twente", 60000));
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 60000, 100, s_send, &sink), 1);
    assert_false (s_due (self, "node-twente", 60000));
    //  Acknowledged: nothing left, never due
    assert_int_equal (en_outbox_ack (self->outbox, "node-twente", one, NULL), 0);
    assert_int_equal (en_outbox_ack (self->outbox, "node-twente", three, NULL), 0);
    assert_false (s_due (self, "node-twente", 0));
    //  A reset makes what is in flight due again
    assert_int_equal (en_outbox_flush (self->outbox, "node-ijsselland", 60000, 100, s_send, &sink), 1);
    assert_false (s_due (self, "node-ijsselland", 60000));
    en_outbox_reset (self->outbox, "node-ijsselland");
    assert_true (s_due (self, "node-ijsselland", 60000));
    s_sink_destroy (&sink);
    free (one);
    free (two);
    free (three);
}

//  A cumulative ACK removes every id queued for its sender, and only
//  those: another destination's, unknown and repeated ids are left out
static void
test_ack_all (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char *mine [3], *other = s_put (self, "node-ijsselland", 9);
    for (int i = 0; i < 3; i++)
        mine [i] = s_put (self, "node-twente", i);
    sink_t sink;
    s_sink_init (&sink);
    assert_int_equal (en_outbox_flush (self->outbox, NULL, 60000, 100, s_send, &sink), 4);
    json_t *refs = json_pack ("[s, s, s, s, s]", mine [0], mine [2], other, "00000000000000000000000000000000",
                              mine [0]);
    json_t *acked = en_outbox_ack_all (self->outbox, "node-twente", refs, NULL);
    assert_non_null (acked);
    assert_int_equal (json_array_size (acked), 2);
    for (size_t i = 0; i < 2; i++) {
        const char *id = json_string_value (json_array_get (acked, i));
        assert_true (streq (id, mine [0]) || streq (id, mine [2]));
    }
    json_decref (acked);
    assert_int_equal (en_outbox_depth (self->outbox, "node-twente"), 1);
    assert_int_equal (en_outbox_depth (self->outbox, "node-ijsselland"), 1);
    //  Again: nothing left of them to remove
    acked = en_outbox_ack_all (self->outbox, "node-twente", refs, NULL);
    assert_int_equal (json_array_size (acked), 0);
    json_decref (acked);
    json_decref (refs);
    //  Memory follows: the one left is what a retransmission sends
    s_sink_reset (&sink);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 0, 100, s_send, &sink), 1);
    assert_string_equal (s_nth (sink.ids, 0), mine [1]);
    //  A store failure is reported, not taken for "nothing queued"
    refs = json_pack ("[s]", mine [1]);
    en_error_t error = { 0 };
    assert_int_equal (en_db_begin (self->db), 0);
    en_db_fault_countdown (self->db, 1);
    assert_null (en_outbox_ack_all (self->outbox, "node-twente", refs, &error));
    assert_int_equal (error.code, EN_ERR_INTERNAL);
    en_db_rollback (self->db);
    en_db_fault_countdown (self->db, 0);
    assert_int_equal (en_outbox_depth (self->outbox, "node-twente"), 1);
    json_decref (refs);
    s_sink_destroy (&sink);
    for (int i = 0; i < 3; i++)
        free (mine [i]);
    free (other);
}

static void
test_flush_limit_and_failure (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char *ids [3];
    for (int i = 0; i < 3; i++)
        ids [i] = s_put (self, "node-twente", i);
    sink_t sink;
    s_sink_init (&sink);
    //  Limit: the oldest first
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 60000, 2, s_send, &sink), 2);
    assert_string_equal (s_nth (sink.ids, 0), ids [0]);
    assert_string_equal (s_nth (sink.ids, 1), ids [1]);
    s_sink_reset (&sink);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 60000, 2, s_send, &sink), 1);
    assert_string_equal (s_nth (sink.ids, 0), ids [2]);
    s_sink_reset (&sink);

    //  A send the transport refused is not counted and stays due
    en_outbox_reset (self->outbox, NULL);
    sink.fail_after = 1;
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 60000, 100, s_send, &sink), 1);
    sink.fail_after = -1;
    s_sink_reset (&sink);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 60000, 100, s_send, &sink), 2);
    assert_string_equal (s_nth (sink.ids, 0), ids [1]);
    assert_string_equal (s_nth (sink.ids, 1), ids [2]);

    //  Order per destination: when one message cannot be sent, no later
    //  one to the same destination overtakes it
    en_outbox_reset (self->outbox, NULL);
    s_sink_reset (&sink);
    sink.fail_id = ids [1];
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 60000, 100, s_send, &sink), 1);
    assert_int_equal (zlistx_size (sink.ids), 1);
    assert_string_equal (s_nth (sink.ids, 0), ids [0]);
    sink.fail_id = NULL;

    s_sink_destroy (&sink);
    for (int i = 0; i < 3; i++)
        free (ids [i]);
}

//  Writes undone: a put rolled back is never sent; an ACK rolled back
//  (a failed commit, a savepoint undone) puts its message back in line
static void
test_flush_after_rollback (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    sink_t sink;
    s_sink_init (&sink);
    assert_int_equal (en_db_begin (self->db), 0);
    char *lost = s_put (self, "node-twente", 1);
    assert_int_equal (en_db_rollback (self->db), 0);
    char *kept = s_put (self, "node-twente", 2);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 60000, 100, s_send, &sink), 1);
    assert_string_equal (s_nth (sink.ids, 0), kept);
    s_sink_reset (&sink);

    assert_int_equal (en_db_begin (self->db), 0);
    assert_int_equal (en_outbox_ack (self->outbox, "node-twente", kept, NULL), 0);
    assert_int_equal (en_db_rollback (self->db), 0);
    assert_int_equal (en_outbox_depth (self->outbox, "node-twente"), 1);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 60000, 100, s_send, &sink), 1);
    assert_string_equal (s_nth (sink.ids, 0), kept);
    s_sink_reset (&sink);

    assert_int_equal (en_db_begin (self->db), 0);
    assert_int_equal (en_db_savepoint (self->db), 0);
    assert_int_equal (en_outbox_ack (self->outbox, "node-twente", kept, NULL), 0);
    assert_int_equal (en_db_rollback_to (self->db), 0);
    assert_int_equal (en_db_commit (self->db), 0);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 60000, 100, s_send, &sink), 1);
    assert_string_equal (s_nth (sink.ids, 0), kept);
    //  ... and an ACK that stands removes it for good
    assert_int_equal (en_outbox_ack (self->outbox, "node-twente", kept, NULL), 0);
    en_outbox_reset (self->outbox, NULL);
    s_sink_reset (&sink);
    assert_int_equal (en_outbox_flush (self->outbox, NULL, 0, 100, s_send, &sink), 0);
    s_sink_destroy (&sink);
    free (lost);
    free (kept);
}

//  Send id now and have it ACKed after ms: one latency sample.
static void
s_sample (fixture_t *self, sink_t *sink, int ms)
{
    char *id = s_put (self, "node-twente", ms);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 100, 100, s_send, sink), 1);
    zclock_sleep (ms);
    assert_int_equal (en_outbox_ack (self->outbox, "node-twente", id, NULL), 0);
    free (id);
}

//  The interval follows the ACK latency, never under the configured
//  retry nor over EN_OUTBOX_BACKOFF_CAP times it
static void
test_retry_follows_latency (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    sink_t sink;
    s_sink_init (&sink);
    //  Nothing measured: the configured retry
    assert_int_equal (en_outbox_rto (self->outbox, "node-twente", 100), 100);
    //  A peer that ACKs in 150 ms: srtt + 4 rttvar = 3 x 150 at least
    s_sample (self, &sink, 150);
    int64_t rto = en_outbox_rto (self->outbox, "node-twente", 100);
    assert_true (rto >= 450);
    assert_true (rto <= 100 * EN_OUTBOX_BACKOFF_CAP);
    //  ... so a message is not sent again after the 100 ms retry
    s_sink_reset (&sink);
    char *id = s_put (self, "node-twente", 1);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 100, 100, s_send, &sink), 1);
    zclock_sleep (200);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 100, 100, s_send, &sink), 0);
    //  The floor stays the configured retry; the cap holds a huge latency
    assert_int_equal (en_outbox_rto (self->outbox, "node-twente", 10000), 10000);
    assert_true (en_outbox_rto (self->outbox, "node-twente", 10) <= 10 * EN_OUTBOX_BACKOFF_CAP);
    //  The fixed policy: the configured retry whatever was measured
    en_outbox_set_fixed (self->outbox, true);
    assert_int_equal (en_outbox_rto (self->outbox, "node-twente", 100), 100);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 100, 100, s_send, &sink), 1);
    assert_int_equal (en_outbox_resends (self->outbox), 1);
    s_sink_destroy (&sink);
    free (id);
}

//  Each retransmission of a message doubles its interval; a reset
//  (reconnect) sends all at once and starts afresh
static void
test_retry_backoff (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    sink_t sink;
    s_sink_init (&sink);
    char *id = s_put (self, "node-twente", 1);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 100, 100, s_send, &sink), 1);
    zclock_sleep (150);
    //  Due after 100 ms: sent again, the interval doubles (and the
    //  destination's, until an ACK measures it)
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 100, 100, s_send, &sink), 1);
    assert_int_equal (en_outbox_rto (self->outbox, "node-twente", 100), 200);
    zclock_sleep (150);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 100, 100, s_send, &sink), 0);
    assert_int_equal (en_outbox_resends (self->outbox), 1);
    //  A reset sends it at once and clears the doubling
    en_outbox_reset (self->outbox, "node-twente");
    assert_int_equal (en_outbox_rto (self->outbox, "node-twente", 100), 100);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 100, 100, s_send, &sink), 1);
    assert_int_equal (zlistx_size (sink.ids), 3);
    //  An ACK of a message sent more than once is no sample (Karn's
    //  rule): the doubled interval stays while others are in flight...
    zclock_sleep (150);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 100, 100, s_send, &sink), 1);
    char *other = s_put (self, "node-twente", 2);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 100, 100, s_send, &sink), 1);
    assert_int_equal (en_outbox_ack (self->outbox, "node-twente", id, NULL), 0);
    assert_int_equal (en_outbox_rto (self->outbox, "node-twente", 100), 200);
    //  ... until the ACK that leaves nothing in flight
    zclock_sleep (250);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 100, 100, s_send, &sink), 1);
    assert_int_equal (en_outbox_rto (self->outbox, "node-twente", 100), 400);
    assert_int_equal (en_outbox_ack (self->outbox, "node-twente", other, NULL), 0);
    assert_int_equal (en_outbox_rto (self->outbox, "node-twente", 100), 100);
    //  A clean sample clears it too
    char *third = s_put (self, "node-twente", 3);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 100, 100, s_send, &sink), 1);
    zclock_sleep (150);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 100, 100, s_send, &sink), 1);
    assert_int_equal (en_outbox_rto (self->outbox, "node-twente", 100), 200);
    s_sample (self, &sink, 0);
    assert_int_equal (en_outbox_rto (self->outbox, "node-twente", 100), 100);
    s_sink_destroy (&sink);
    free (id);
    free (other);
    free (third);
}

static void
test_ack_and_depth (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char *ids [3];
    for (int i = 0; i < 3; i++)
        ids [i] = s_put (self, "node-twente", i);
    char *other = s_put (self, "node-ijsselland", 9);
    assert_int_equal (en_outbox_depth (self->outbox, "node-twente"), 3);
    assert_int_equal (en_outbox_depth (self->outbox, "node-ijsselland"), 1);
    assert_int_equal (en_outbox_depth (self->outbox, "node-achterhoek"), 0);
    assert_int_equal (en_outbox_depth (self->outbox, NULL), 4);

    //  An ACK from a peer the message was not for removes nothing
    en_error_t error = { 0 };
    assert_int_equal (en_outbox_ack (self->outbox, "node-ijsselland", ids [1], &error), -1);
    assert_int_equal (error.code, EN_ERR_NOT_FOUND);
    assert_int_equal (en_outbox_ack (self->outbox, "node-twente", ids [1], NULL), 0);
    assert_int_equal (en_outbox_ack (self->outbox, "node-twente", ids [1], &error), -1);     //  duplicate ACK
    assert_int_equal (error.code, EN_ERR_NOT_FOUND);
    assert_int_equal (en_outbox_ack (self->outbox, "node-twente", "00000000000000000000000000000000", NULL), -1);
    assert_int_equal (en_outbox_depth (self->outbox, "node-twente"), 2);
    assert_int_equal (en_outbox_depth (self->outbox, NULL), 3);

    //  An acked message is never sent again
    sink_t sink;
    s_sink_init (&sink);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 60000, 100, s_send, &sink), 2);
    assert_string_equal (s_nth (sink.ids, 0), ids [0]);
    assert_string_equal (s_nth (sink.ids, 1), ids [2]);
    //  Acking after a send forgets it; a reset then does not resurrect it
    assert_int_equal (en_outbox_ack (self->outbox, "node-twente", ids [0], NULL), 0);
    en_outbox_reset (self->outbox, NULL);
    s_sink_reset (&sink);
    assert_int_equal (en_outbox_flush (self->outbox, "node-twente", 60000, 100, s_send, &sink), 1);
    assert_string_equal (s_nth (sink.ids, 0), ids [2]);

    assert_int_equal (en_outbox_ack (self->outbox, "node-ijsselland", other, NULL), 0);
    assert_int_equal (en_outbox_depth (self->outbox, "node-ijsselland"), 0);
    s_sink_destroy (&sink);
    for (int i = 0; i < 3; i++)
        free (ids [i]);
    free (other);
}

static void
test_put_is_transactional_and_durable (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    //  A put rolled back with its transaction never happened
    assert_int_equal (en_db_begin (self->db), 0);
    char *lost = s_put (self, "node-twente", 1);
    assert_int_equal (en_outbox_depth (self->outbox, "node-twente"), 1);
    assert_int_equal (en_db_rollback (self->db), 0);
    assert_int_equal (en_outbox_depth (self->outbox, "node-twente"), 0);
    free (lost);

    //  A committed put survives closing the database; the new process
    //  counts it as never sent
    assert_int_equal (en_db_begin (self->db), 0);
    char *kept = s_put (self, "node-twente", 2);
    assert_int_equal (en_db_commit (self->db), 0);
    sink_t sink;
    s_sink_init (&sink);
    assert_int_equal (en_outbox_flush (self->outbox, NULL, 60000, 100, s_send, &sink), 1);
    en_outbox_destroy (&self->outbox);
    en_db_destroy (&self->db);

    en_error_t error = { 0 };
    self->db = en_db_new (self->path, s_migrations, &error);
    assert_non_null (self->db);
    self->outbox = en_outbox_new (self->db);
    assert_int_equal (en_outbox_depth (self->outbox, NULL), 1);
    s_sink_reset (&sink);
    assert_int_equal (en_outbox_flush (self->outbox, NULL, 60000, 100, s_send, &sink), 1);
    assert_string_equal (s_nth (sink.ids, 0), kept);
    s_sink_destroy (&sink);
    free (kept);
}

static void
test_seen (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_msg_t *acked = en_msg_new ("SUBMIT", "node-twente", NULL);
    en_msg_t *refused = en_msg_new ("ACCEPT", "node-ijsselland", NULL);
    en_error_t answer = { .code = -1 };

    assert_false (en_seen_lookup (self->db, acked, &answer, NULL));
    assert_int_equal (answer.code, -1);

    assert_int_equal (en_seen_put (self->db, acked, 0, NULL), 0);
    assert_int_equal (en_seen_put (self->db, refused, EN_ERR_CONFLICT, "offer 'twente-0001-o1' is expired, not open"), 0);

    assert_true (en_seen_lookup (self->db, acked, &answer, NULL));
    assert_int_equal (answer.code, 0);
    assert_string_equal (answer.reason, "");
    assert_true (en_seen_lookup (self->db, refused, &answer, NULL));
    assert_int_equal (answer.code, EN_ERR_CONFLICT);
    assert_string_equal (answer.reason, "offer 'twente-0001-o1' is expired, not open");
    //  The answer is optional
    assert_true (en_seen_lookup (self->db, refused, NULL, NULL));
    //  The same id with the same content is a resend; with other content
    //  (another body, timestamp or sender) it is a reused id
    bool same = false;
    en_msg_t *resend = en_msg_restore (en_msg_command (acked), en_msg_id (acked), en_msg_sender (acked),
                                       en_msg_timestamp (acked), NULL);
    assert_true (en_seen_lookup (self->db, resend, NULL, &same));
    assert_true (same);
    en_msg_t *reused = en_msg_restore (en_msg_command (acked), en_msg_id (acked), en_msg_sender (acked),
                                       en_msg_timestamp (acked), json_pack ("{s:s}", "request", "other"));
    assert_true (en_seen_lookup (self->db, reused, NULL, &same));
    assert_false (same);
    en_msg_destroy (&resend);
    en_msg_destroy (&reused);
    //  Recording again replaces the answer
    assert_int_equal (en_seen_put (self->db, acked, EN_ERR_INVALID, "changed"), 0);
    assert_true (en_seen_lookup (self->db, acked, &answer, NULL));
    assert_int_equal (answer.code, EN_ERR_INVALID);
    assert_string_equal (answer.reason, "changed");

    //  Prune: nothing is older than an hour ago; everything is older than
    //  a second from now
    assert_int_equal (en_seen_prune (self->db, en_now_ms () - 3600 * 1000), 0);
    assert_true (en_seen_lookup (self->db, acked, NULL, NULL));
    assert_int_equal (en_seen_prune (self->db, en_now_ms () + 1000), 2);
    assert_false (en_seen_lookup (self->db, acked, NULL, NULL));
    assert_false (en_seen_lookup (self->db, refused, NULL, NULL));
    assert_int_equal (en_seen_prune (self->db, en_now_ms () + 1000), 0);

    en_msg_destroy (&acked);
    en_msg_destroy (&refused);
}

//  ---------------------------------------------------------------------
//  en_db migrations

static int64_t
s_user_version (en_db_t *db)
{
    return en_db_int (db, "PRAGMA user_version", NULL);
}

static bool
s_table_exists (en_db_t *db, const char *name)
{
    return en_db_int (db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                      "s", name) == 1;
}

static void
test_db_migrations (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char path [160];
    en_error_t error = { 0 };
    snprintf (path, sizeof path, "%s/migrate.db", self->dir);
    const char *two [] = { "CREATE TABLE a (x INTEGER);", "CREATE TABLE b (y TEXT);", NULL };
    const char *three [] = { "CREATE TABLE a (x INTEGER);", "CREATE TABLE b (y TEXT);",
                             "CREATE TABLE c (z TEXT);", NULL };
    const char *one [] = { "CREATE TABLE a (x INTEGER);", NULL };

    en_db_t *db = en_db_new (path, two, &error);
    assert_non_null (db);
    assert_int_equal (s_user_version (db), 2);
    assert_true (s_table_exists (db, "a") && s_table_exists (db, "b"));
    assert_int_equal (en_db_exec (db, "INSERT INTO a (x) VALUES (?)", "i", (int64_t) 7), 0);
    //  The durability settings are in force
    sqlite3_stmt *stmt = en_db_query (db, "PRAGMA journal_mode", NULL);
    json_t *row = en_db_one (stmt);
    assert_string_equal (en_json_str (row, "journal_mode"), "wal");
    json_decref (row);
    assert_int_equal (en_db_int (db, "PRAGMA synchronous", NULL), 2);      //  FULL
    assert_int_equal (en_db_int (db, "PRAGMA foreign_keys", NULL), 1);
    en_db_destroy (&db);

    //  Opening again runs nothing (a re-run CREATE TABLE would fail) and
    //  keeps the data and user_version
    db = en_db_new (path, two, &error);
    if (!db)
        fail_msg ("reopen failed: %s", error.reason);
    assert_int_equal (s_user_version (db), 2);
    assert_int_equal (en_db_int (db, "SELECT x FROM a", NULL), 7);
    en_db_destroy (&db);

    //  A program with one more migration runs only that one
    db = en_db_new (path, three, &error);
    if (!db)
        fail_msg ("upgrade failed: %s", error.reason);
    assert_int_equal (s_user_version (db), 3);
    assert_true (s_table_exists (db, "c"));
    assert_int_equal (en_db_int (db, "SELECT x FROM a", NULL), 7);
    en_db_destroy (&db);

    //  An older program refuses the newer database instead of using it
    en_error_clear (&error);
    db = en_db_new (path, one, &error);
    assert_null (db);
    assert_non_null (strstr (error.reason, "newer"));
    assert_non_null (strstr (error.reason, "3"));
    //  ... and leaves it untouched
    db = en_db_new (path, three, &error);
    assert_non_null (db);
    assert_int_equal (s_user_version (db), 3);
    en_db_destroy (&db);
}

static void
test_db_failed_migration (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char path [160];
    en_error_t error = { 0 };
    snprintf (path, sizeof path, "%s/broken.db", self->dir);
    const char *broken [] = { "CREATE TABLE a (x INTEGER);",
                              "CREATE TABLE b (y TEXT); THIS IS NOT SQL;", NULL };
    const char *fixed [] = { "CREATE TABLE a (x INTEGER);", "CREATE TABLE b (y TEXT);", NULL };
    en_db_t *db = en_db_new (path, broken, &error);
    assert_null (db);
    assert_non_null (strstr (error.reason, "migration 2"));
    //  Migration 1 was committed; migration 2 left nothing behind
    db = en_db_new (path, fixed, &error);
    if (!db)
        fail_msg ("fixed migration failed: %s", error.reason);
    assert_int_equal (s_user_version (db), 2);
    assert_true (s_table_exists (db, "b"));
    en_db_destroy (&db);

    //  An unusable path is reported, not crashed on
    snprintf (path, sizeof path, "%s/no/such/dir/x.db", self->dir);
    db = en_db_new (path, fixed, &error);
    assert_null (db);
    assert_true (strlen (error.reason) > 0);
}

static void
test_db_text (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    assert_int_equal (en_db_exec (self->db, "CREATE TABLE t (k TEXT, v TEXT)", NULL), 0);
    assert_int_equal (en_db_exec (self->db, "INSERT INTO t VALUES ('a', 'alfa'), ('b', NULL)", NULL), 0);
    char *text = en_db_text (self->db, "SELECT v FROM t WHERE k = ?", "s", "a");
    assert_non_null (text);
    assert_string_equal (text, "alfa");
    free (text);
    //  NULL value and no row both give NULL
    assert_null (en_db_text (self->db, "SELECT v FROM t WHERE k = ?", "s", "b"));
    assert_null (en_db_text (self->db, "SELECT v FROM t WHERE k = ?", "s", "c"));
}

static void
test_db_rows_and_savepoints (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_db_t *db = self->db;
    assert_int_equal (en_db_exec (db, "CREATE TABLE t (id TEXT, n INTEGER, r REAL, tags_json TEXT, note TEXT)", NULL), 0);
    assert_int_equal (en_db_exec (db, "INSERT INTO t VALUES (?, ?, ?, ?, ?)", "sidss",
                                  "twente-0001", (int64_t) 3, 1.5, "[\"trauma\",\"jggz\"]", NULL), 0);
    json_t *rows = en_db_rows (en_db_query (db, "SELECT * FROM t", NULL));
    assert_int_equal (json_array_size (rows), 1);
    json_t *row = json_array_get (rows, 0);
    assert_string_equal (en_json_str (row, "id"), "twente-0001");
    assert_int_equal (en_json_int (row, "n", -1), 3);
    assert_true (json_real_value (json_object_get (row, "r")) == 1.5);
    assert_true (json_is_array (json_object_get (row, "tags")));
    assert_string_equal (json_string_value (json_array_get (json_object_get (row, "tags"), 1)), "jggz");
    assert_null (json_object_get (row, "tags_json"));
    assert_true (json_is_null (json_object_get (row, "note")));
    json_decref (rows);
    assert_null (en_db_one (en_db_query (db, "SELECT * FROM t WHERE id = ?", "s", "ijsselland-0001")));
    //  Bad SQL and bad formats fail cleanly
    assert_null (en_db_query (db, "SELEC nothing", NULL));
    assert_int_equal (en_db_exec (db, "INSERT INTO t (id) VALUES (?)", "x", "a"), -1);

    //  A savepoint rolls back one message's writes, not the batch
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_db_exec (db, "INSERT INTO t (id) VALUES (?)", "s", "kept"), 0);
    assert_int_equal (en_db_savepoint (db), 0);
    assert_int_equal (en_db_exec (db, "INSERT INTO t (id) VALUES (?)", "s", "undone"), 0);
    assert_int_equal (en_db_rollback_to (db), 0);
    assert_int_equal (en_db_savepoint (db), 0);
    assert_int_equal (en_db_exec (db, "INSERT INTO t (id) VALUES (?)", "s", "released"), 0);
    assert_int_equal (en_db_release (db), 0);
    assert_int_equal (en_db_commit (db), 0);
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM t WHERE id = ?", "s", "kept"), 1);
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM t WHERE id = ?", "s", "undone"), 0);
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM t WHERE id = ?", "s", "released"), 1);
    //  Rollback outside a transaction is harmless
    assert_int_equal (en_db_rollback (db), 0);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logident ("test_outbox");
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_flush_order_and_retry, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_flush_limit_and_failure, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_due_destinations, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_ack_all, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_ack_and_depth, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_flush_after_rollback, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_retry_follows_latency, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_retry_backoff, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_db_text, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_put_is_transactional_and_durable, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_seen, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_db_migrations, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_db_failed_migration, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_db_rows_and_savepoints, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
