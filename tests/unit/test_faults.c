/*  test_faults - I/O-error injection into the broker's and the node's
    stores, as SQLite's own test suite does it (en_db_fault_countdown).

    A script of operations runs on a fresh store in a temporary directory.
    For each operation and for n = 1, 2, 3, ... the script is replayed up to
    that operation, the n-th write statement from there on is made to fail
    with SQLITE_IOERR, and the operation runs the way its daemon runs it.
    Until an n at which the operation completes without the fault firing,
    each run must show:
      * the operation reported the failure (never success with a lost write);
      * nothing half-written stayed: every table holds what it held before
        (compared row by row);
      * the store's invariants hold: the broker's load/reserved counters
        equal a recount (test_fixture.h), the access log's chain verifies;
      * the next operation works: the same operation again, then the rest
        of the script, to the expected end state.

    The broker's operations go through the broker's own receive path
    (en_inbox: dedup, savepoint, router, seen record), inside a
    transaction as its batch opens and commits it, and its timer and
    operator paths (en_router_expire, en_router_operator). The node's
    handlers are static in en_node.c and need a running daemon, so the
    node's script drives its store's main operations (en_nstore), each
    with the outbox message or notification the node writes with it, in a
    transaction as the node does. test_faults.sh drives a running broker.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "expertnet.h"
#include "en_router.h"
#include "test_fixture.h"
#include "en_nstore.h"

//  ---------------------------------------------------------------------
//  What a store holds, and its invariants

static int
s_compare (const void *a, const void *b)
{
    return strcmp (*(char * const *) a, *(char * const *) b);
}

//  Every row of every table as text, sorted: two stores with the same
//  content give the same string. Caller frees.
static char *
s_content (en_db_t *db)
{
    sqlite3 *handle = en_db_handle (db);
    sqlite3_stmt *tables;
    assert_int_equal (sqlite3_prepare_v2 (handle,
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", -1, &tables, NULL), SQLITE_OK);
    zchunk_t *out = zchunk_new (NULL, 0);
    while (sqlite3_step (tables) == SQLITE_ROW) {
        const char *table = (const char *) sqlite3_column_text (tables, 0);
        char *sql = zsys_sprintf ("SELECT * FROM \"%s\"", table);
        sqlite3_stmt *rows;
        assert_int_equal (sqlite3_prepare_v2 (handle, sql, -1, &rows, NULL), SQLITE_OK);
        zstr_free (&sql);
        char **lines = NULL;
        size_t count = 0;
        while (sqlite3_step (rows) == SQLITE_ROW) {
            zchunk_t *line = zchunk_new (NULL, 0);
            for (int i = 0; i < sqlite3_column_count (rows); i++) {
                const void *value = sqlite3_column_blob (rows, i);
                zchunk_extend (line, value ? value : "NULL", value ? (size_t) sqlite3_column_bytes (rows, i) : 4);
                zchunk_extend (line, "|", 1);
            }
            zchunk_extend (line, "", 1);
            lines = (char **) realloc (lines, (count + 1) * sizeof *lines);
            lines [count++] = strdup ((char *) zchunk_data (line));
            zchunk_destroy (&line);
        }
        sqlite3_finalize (rows);
        if (count)
            qsort (lines, count, sizeof *lines, s_compare);
        zchunk_extend (out, table, strlen (table));
        zchunk_extend (out, ":\n", 2);
        for (size_t i = 0; i < count; i++) {
            zchunk_extend (out, lines [i], strlen (lines [i]));
            zchunk_extend (out, "\n", 1);
            free (lines [i]);
        }
        free (lines);
    }
    sqlite3_finalize (tables);
    zchunk_extend (out, "", 1);
    char *text = strdup ((char *) zchunk_data (out));
    zchunk_destroy (&out);
    return text;
}

//  The access log's hash chain verifies.
static void
s_assert_audit (en_db_t *db, const char *where)
{
    int64_t count = 0, bad_seq = 0;
    en_error_t error = { 0 };
    if (en_audit_verify (db, &count, &bad_seq, &error))
        fail_msg ("%s: the access log does not verify at entry %lld: %s", where, (long long) bad_seq, error.reason);
}

//  ---------------------------------------------------------------------
//  The walk: every write of every operation fails once

typedef struct _fixture_t fixture_t;

typedef struct {
    const char *name;           //  what the operation is, for messages
    int (*run) (fixture_t *self, int step);     //  0, or -1 when it failed
} s_step_t;

struct _fixture_t {
    char dir [64];              //  temporary directory
    en_bstore_t *bstore;        //  broker store (broker scripts)
    en_router_t *router;        //  router on bstore
    en_nstore_t *nstore;        //  node store (node scripts)
    en_db_t *db;                //  the store's database
    bool broker;                //  which of the two
};

static fixture_t *
s_fixture_new (bool broker)
{
    fixture_t *self = (fixture_t *) calloc (1, sizeof (fixture_t));
    assert_non_null (self);
    assert_non_null (test_mkdtemp (self->dir, sizeof self->dir, "test_faults"));
    char path [128];
    en_error_t error = { 0 };
    self->broker = broker;
    if (broker) {
        snprintf (path, sizeof path, "%s/broker.db", self->dir);
        self->bstore = en_bstore_new (path, &error);
        if (!self->bstore)
            fail_msg ("en_bstore_new: %s", error.reason);
        self->router = en_router_new (self->bstore, "broker-oost");
        self->db = en_bstore_db (self->bstore);
    }
    else {
        snprintf (path, sizeof path, "%s/node.db", self->dir);
        self->nstore = en_nstore_new (path, &error);
        if (!self->nstore)
            fail_msg ("en_nstore_new: %s", error.reason);
        self->db = en_nstore_db (self->nstore);
    }
    return self;
}

static void
s_fixture_destroy (fixture_t **self_p)
{
    fixture_t *self = *self_p;
    en_router_destroy (&self->router);
    en_bstore_destroy (&self->bstore);
    en_nstore_destroy (&self->nstore);
    test_rmtree (self->dir);
    free (self);
    *self_p = NULL;
}

static void
s_assert_invariants (fixture_t *self, const char *where)
{
    if (self->broker) {
        int64_t drifted = test_counters_drift (self->db);
        if (drifted)
            fail_msg ("%s: %lld expert(s) with load/reserved counters that differ from the rows",
                      where, (long long) drifted);
    }
    s_assert_audit (self->db, where);
}

static void
s_run_ok (fixture_t *self, const s_step_t *steps, int step, const char *when)
{
    if (steps [step].run (self, step))
        fail_msg ("%s %s failed without an injected fault", when, steps [step].name);
}

//  Walk every write of every step of the script; check_end checks the
//  state the whole script leaves. Returns the number of faults injected.
static int
s_walk (bool broker, const s_step_t *steps, void (*check_end) (fixture_t *self))
{
    int faults = 0;
    for (int step = 0; steps [step].name; step++) {
        for (int n = 1; ; n++) {
            fixture_t *self = s_fixture_new (broker);
            for (int done = 0; done < step; done++)
                s_run_ok (self, steps, done, "before the fault:");
            char *before = s_content (self->db);
            en_db_fault_countdown (self->db, n);
            int rc = steps [step].run (self, step);
            bool fired = en_db_fault_fired (self->db);
            en_db_fault_countdown (self->db, 0);
            if (!fired) {
                if (rc)
                    fail_msg ("%s failed without an injected fault", steps [step].name);
                free (before);
                s_fixture_destroy (&self);
                break;
            }
            faults++;
            char where [128];
            snprintf (where, sizeof where, "%s with its write %d failed", steps [step].name, n);
            if (rc == 0)
                fail_msg ("%s: reported success", where);
            char *after = s_content (self->db);
            if (!streq (before, after))
                fail_msg ("%s: the store changed (half-written)\n--- before\n%s--- after\n%s",
                          where, before, after);
            free (before);
            free (after);
            s_assert_invariants (self, where);
            //  The next operation works: this one again, then the rest
            for (int next = step; steps [next].name; next++)
                s_run_ok (self, steps, next, "after the fault:");
            s_assert_invariants (self, "the whole script after a fault");
            check_end (self);
            s_fixture_destroy (&self);
        }
    }
    return faults;
}

//  ---------------------------------------------------------------------
//  The broker: its receive path, timer and operator actions

//  A reliable message from node, as the broker's batch takes it: in a
//  transaction, through its exactly-once receive (en_inbox: a
//  retransmission gets the recorded outcome) to the router, commit; a
//  failed commit rolls back and acks nothing. The id is the step's, so a
//  retry is a retransmission.
static int
s_receive (fixture_t *self, int step, const char *node, const char *region,
           const char *command, json_t *body)
{
    char id [33];
    snprintf (id, sizeof id, "%032d", step + 1);
    en_msg_t *msg = en_msg_restore (command, id, node, en_now_ms (), body);
    en_error_t error;
    int rc = test_receive (self->router, self->bstore, node, region, false, msg, &error);
    if (rc && error.code != EN_ERR_INTERNAL)
        fail_msg ("%s refused (%d %s), not by a store error", command, error.code, error.reason);
    en_msg_destroy (&msg);
    return rc;
}

//  The id of the open offer of request into buf.
static const char *
s_open_offer (fixture_t *self, const char *request_id, char *buf, size_t size)
{
    json_t *open = en_bstore_offers_open (self->bstore, request_id, 0);
    assert_int_equal (json_array_size (open), 1);
    snprintf (buf, size, "%s", en_json_str (json_array_get (open, 0), "id"));
    json_decref (open);
    return buf;
}

static int
s_availability (fixture_t *self, int step)
{
    return s_receive (self, step, "node-ijsselland", "ijsselland", "AVAILABILITY", test_json (
        "{\"experts\":["
        "{\"id\":\"se-ij-01\",\"role\":\"superexpert\",\"region\":\"ijsselland\",\"expertise\":[\"trauma\"],\"capacity\":2},"
        "{\"id\":\"se-ij-02\",\"role\":\"superexpert\",\"region\":\"ijsselland\",\"expertise\":[\"trauma\"],\"capacity\":1}]}"));
}

static int
s_submit (fixture_t *self, int step, const char *id)
{
    return s_receive (self, step, "node-twente", "twente", "SUBMIT", json_pack (
        "{s:{s:s, s:s, s:s, s:s, s:[s], s:s}}", "request", "id", id, "region", "twente",
        "urgency", "crisis", "question_type", "consultatie-advies", "expertise", "trauma",
        "age_band", "12-17"));
}

static int s_submit_1 (fixture_t *self, int step) { return s_submit (self, step, "twente-0001"); }
static int s_submit_2 (fixture_t *self, int step) { return s_submit (self, step, "twente-0002"); }

static int
s_decline (fixture_t *self, int step)
{
    char offer [128];
    return s_receive (self, step, "node-ijsselland", "ijsselland", "DECLINE", json_pack ("{s:s, s:s}",
        "offer", s_open_offer (self, "twente-0001", offer, sizeof offer), "reason", "geen ruimte"));
}

static int
s_accept (fixture_t *self, int step)
{
    char offer [128];
    return s_receive (self, step, "node-ijsselland", "ijsselland", "ACCEPT", json_pack ("{s:s}",
        "offer", s_open_offer (self, "twente-0001", offer, sizeof offer)));
}

//  The offer of twente-0001 that was accepted.
static const char *
s_accepted_offer (fixture_t *self, char *buf, size_t size)
{
    char *id = en_db_text (self->db,
        "SELECT id FROM offers WHERE request_id = 'twente-0001' AND state = 'accepted'", NULL);
    assert_non_null (id);
    snprintf (buf, size, "%s", id);
    free (id);
    return buf;
}

static int
s_advice (fixture_t *self, int step)
{
    char offer [128];
    return s_receive (self, step, "node-ijsselland", "ijsselland", "ADVICE", json_pack ("{s:s, s:s}",
        "offer", s_accepted_offer (self, offer, sizeof offer), "text", "Start met een gezamenlijk plan."));
}

static int
s_close (fixture_t *self, int step)
{
    return s_receive (self, step, "node-twente", "twente", "CLOSE", json_pack ("{s:s, s:s}",
        "request", "twente-0001", "outcome", "passende hulp gerealiseerd"));
}

//  The offer timer, as the broker's s_expire: one offer is due.
static int
s_expire (fixture_t *self, int step)
{
    if (en_db_begin (self->db))
        return -1;
    int expired = en_router_expire (self->router, en_now_ms () + 86400000LL);
    if (en_db_commit (self->db)) {
        en_db_rollback (self->db);
        return -1;
    }
    return expired == 1 ? 0 : -1;
}

//  An operator closes twente-0002, as the dashboard's control verb does.
static int
s_operator_close (fixture_t *self, int step)
{
    if (en_db_begin (self->db))
        return -1;
    en_error_t error;
    memset (&error, 0, sizeof error);
    int rc = en_router_operator (self->router, "operator-1", "close", "twente-0002", "dubbel ingediend", &error);
    if (rc || en_db_commit (self->db)) {
        en_db_rollback (self->db);
        return -1;
    }
    return 0;
}

static void
s_broker_end (fixture_t *self)
{
    json_t *request = en_bstore_request (self->bstore, "twente-0001");
    assert_non_null (request);
    assert_string_equal (en_json_str (request, "state"), "closed");
    json_decref (request);
    request = en_bstore_request (self->bstore, "twente-0002");
    assert_non_null (request);
    assert_string_equal (en_json_str (request, "state"), "closed");
    json_decref (request);
    //  Each message processed exactly once: one seen record per step
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM seen", NULL), 7);
    assert_int_equal (en_db_int (self->db,
        "SELECT count(*) FROM events WHERE request_id = 'twente-0001' AND type = 'submitted'", NULL), 1);
    assert_int_equal (en_db_int (self->db,
        "SELECT count(*) FROM outbox WHERE dest = 'node-twente' AND command = 'STATUS'"
        " AND json_extract (body, '$.advice') IS NOT NULL", NULL), 1);
}

static void
test_broker_every_write_fails_once (void **state)
{
    static const s_step_t steps [] = {
        { "AVAILABILITY", s_availability },
        { "SUBMIT twente-0001", s_submit_1 },
        { "DECLINE", s_decline },
        { "ACCEPT", s_accept },
        { "ADVICE", s_advice },
        { "CLOSE", s_close },
        { "SUBMIT twente-0002", s_submit_2 },
        { "offer expiry", s_expire },
        { "operator close", s_operator_close },
        { NULL, NULL } };
    int faults = s_walk (true, steps, s_broker_end);
    print_message ("broker: %d faults injected, none left anything half-written\n", faults);
    assert_true (faults > 40);
}

//  ---------------------------------------------------------------------
//  The node: its store's main operations, as the node composes them

//  Run fn in a transaction; roll back when it or the commit fails.
static int
s_node_tx (fixture_t *self, int (*fn) (fixture_t *self))
{
    if (en_db_begin (self->db))
        return -1;
    if (fn (self) || en_db_commit (self->db)) {
        en_db_rollback (self->db);
        return -1;
    }
    return 0;
}

//  A message to the broker in the node's outbox, its id into msg_id.
static int
s_node_queue (fixture_t *self, const char *command, json_t *body, char *msg_id)
{
    en_msg_t *msg = en_msg_new (command, "twente", body);
    snprintf (msg_id, 33, "%s", en_msg_id (msg));
    int rc = en_outbox_put (en_nstore_outbox (self->nstore), "broker", msg);
    en_msg_destroy (&msg);
    return rc;
}

static int
s_node_expert (fixture_t *self)
{
    json_t *expert = test_json ("{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\","
                                "\"expertise\":[\"trauma\"],\"capacity\":2}");
    int rc = en_nstore_expert_put (self->nstore, expert);
    json_decref (expert);
    return rc;
}

static int
s_node_submit (fixture_t *self)
{
    json_t *request = test_json ("{\"id\":\"twente-0001\",\"region\":\"twente\",\"urgency\":\"hoog\","
                                 "\"question_type\":\"consultatie-advies\",\"expertise\":[\"trauma\"],"
                                 "\"age_band\":\"12-17\"}");
    char msg_id [33];
    int rc = s_node_queue (self, "SUBMIT", json_pack ("{s:O}", "request", request), msg_id)
          || en_nstore_request_insert (self->nstore, request, msg_id, NULL);
    json_decref (request);
    return rc ? -1 : 0;
}

static int
s_node_status (fixture_t *self)
{
    json_t *status = test_json ("{\"request\":\"twente-0001\",\"state\":\"offered\",\"event\":\"offered\","
                                "\"expert\":\"se-ij-01\"}");
    int rc = en_nstore_request_status (self->nstore, status, NULL);
    json_decref (status);
    return rc;
}

static int
s_node_offer (fixture_t *self)
{
    json_t *offer = test_json ("{\"offer\":\"ijsselland-0001-o1\",\"request_id\":\"ijsselland-0001\","
                               "\"expert\":\"se-tw-01\",\"kind\":\"offer\",\"deadline\":1700000400000,"
                               "\"request\":{\"urgency\":\"hoog\"}}");
    json_t *notice = test_json ("{\"kind\":\"offer\",\"channel\":\"email\",\"recipient\":\"se-tw-01@example.org\","
                                "\"expert\":\"se-tw-01\",\"offer\":\"ijsselland-0001-o1\","
                                "\"request\":\"ijsselland-0001\",\"urgency\":\"hoog\",\"link\":\"http://127.0.0.1/o\",\"subject\":\"s\",\"body\":\"b\",\"message_id\":\"<n1@twente.example>\"}");
    int rc = en_nstore_offer_insert (self->nstore, offer) || en_nstore_notify_put (self->nstore, notice);
    json_decref (offer);
    json_decref (notice);
    return rc ? -1 : 0;
}

static int
s_node_accept (fixture_t *self)
{
    char msg_id [33];
    return s_node_queue (self, "ACCEPT", json_pack ("{s:s}", "offer", "ijsselland-0001-o1"), msg_id)
        || en_nstore_offer_answer (self->nstore, "ijsselland-0001-o1", "accept", msg_id) ? -1 : 0;
}

static int
s_node_case (fixture_t *self)
{
    return en_nstore_case_put (self->nstore, "p1-0123456789abcdef0123456789abcdef", "v1:sealed-test-value");
}

static int
s_node_close (fixture_t *self)
{
    char msg_id [33];
    return s_node_queue (self, "CLOSE", json_pack ("{s:s, s:s}", "request", "twente-0001",
                                                   "outcome", "passende hulp"), msg_id)
        || en_nstore_request_closing (self->nstore, "twente-0001", msg_id) ? -1 : 0;
}

static int
s_node_user (fixture_t *self)
{
    json_t *user = test_json ("{\"name\":\"medewerker-1\",\"role\":\"medewerker\",\"pwhash\":\"$test$\"}");
    int rc = en_nstore_user_insert (self->nstore, user, NULL);
    json_decref (user);
    return rc;
}

#define NODE_STEP(name) \
    static int s_step_##name (fixture_t *self, int step) { return s_node_tx (self, s_node_##name); }
NODE_STEP (expert)
NODE_STEP (submit)
NODE_STEP (status)
NODE_STEP (offer)
NODE_STEP (accept)
NODE_STEP (case)
NODE_STEP (close)
NODE_STEP (user)

static void
s_node_end (fixture_t *self)
{
    json_t *request = en_nstore_request (self->nstore, "twente-0001");
    assert_non_null (request);
    json_decref (request);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM outbox", NULL), 3);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM offers", NULL), 1);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM notifications", NULL), 1);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM cases", NULL), 1);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM users", NULL), 1);
}

static void
test_node_every_write_fails_once (void **state)
{
    static const s_step_t steps [] = {
        { "expert put", s_step_expert },
        { "request submit", s_step_submit },
        { "STATUS applied", s_step_status },
        { "OFFER stored with its notification", s_step_offer },
        { "offer accepted", s_step_accept },
        { "case registered", s_step_case },
        { "request closing", s_step_close },
        { "user added", s_step_user },
        { NULL, NULL } };
    int faults = s_walk (false, steps, s_node_end);
    print_message ("node: %d faults injected, none left anything half-written\n", faults);
    assert_true (faults > 10);
}

//  ---------------------------------------------------------------------
//  The hook itself

static void
test_countdown_fails_the_nth_write_only (void **state)
{
    fixture_t *self = s_fixture_new (true);
    en_db_fault_countdown (self->db, 2);
    assert_int_equal (en_db_begin (self->db), 0);                 //  write 1
    assert_false (en_db_fault_fired (self->db));
    assert_int_equal (en_db_exec (self->db, "DELETE FROM seen", NULL), -1);     //  write 2 fails
    assert_true (en_db_fault_fired (self->db));
    assert_int_equal (en_db_commit (self->db), 0);                //  after it: runs again
    //  Rollbacks are never failed
    en_db_fault_countdown (self->db, 1);
    assert_int_equal (en_db_begin (self->db), -1);
    assert_int_equal (en_db_rollback (self->db), 0);
    en_db_fault_countdown (self->db, 0);
    assert_false (en_db_fault_fired (self->db));
    s_fixture_destroy (&self);
}

//  A caller that does not check BEGIN must not write in autocommit: after
//  a failed BEGIN, writes and the commit fail until the transaction ends.
static void
test_failed_begin_refuses_writes (void **state)
{
    fixture_t *self = s_fixture_new (true);
    en_db_fault_countdown (self->db, 1);
    assert_int_equal (en_db_begin (self->db), -1);
    assert_int_equal (en_db_exec (self->db,
        "INSERT INTO nodes (name, region, first_seen, last_seen) VALUES ('n', 'r', 0, 0)", NULL), -1);
    assert_int_equal (en_db_commit (self->db), -1);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM nodes", NULL), 0);
    //  Ended: the store works again
    assert_int_equal (en_db_begin (self->db), 0);
    assert_int_equal (en_db_exec (self->db,
        "INSERT INTO nodes (name, region, first_seen, last_seen) VALUES ('n', 'r', 0, 0)", NULL), 0);
    assert_int_equal (en_db_commit (self->db), 0);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM nodes", NULL), 1);
    s_fixture_destroy (&self);
}

int
main (void)
{
    zsys_init ();
    //  Every injected fault logs an error: shown with TEST_FAULTS_VERBOSE=1
    if (!getenv ("TEST_FAULTS_VERBOSE"))
        zsys_set_logstream (NULL);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_countdown_fails_the_nth_write_only),
        cmocka_unit_test (test_failed_begin_refuses_writes),
        cmocka_unit_test (test_broker_every_write_fails_once),
        cmocka_unit_test (test_node_every_write_fails_once),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
