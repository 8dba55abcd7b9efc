/*  test_fixture - what several unit tests share: temporary directories
    (test_tmpdir.h), the broker's load/reserved invariant, routing hiaten
    again, a reliable message through the broker's receive path. Static
    functions in a header: each test program is one translation unit. */
#ifndef TEST_FIXTURE_H_INCLUDED
#define TEST_FIXTURE_H_INCLUDED

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test_drift.h"
#include "test_tmpdir.h"

//  A JSON fixture from text; fails the test if it is not JSON.
static inline json_t *
test_json (const char *text)
{
    json_error_t jerr;
    json_t *json = json_loads (text, 0, &jerr);
    if (!json)
        fail_msg ("fixture is not JSON: %s (%s)", jerr.text, text);
    return json;
}

//  One field of each row, joined with spaces, into buf (e.g. the event
//  types of a request's timeline). Takes rows.
static inline const char *
test_join (json_t *rows, const char *field, char *buf, size_t size)
{
    buf [0] = 0;
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row) {
        if (index)
            strncat (buf, " ", size - strlen (buf) - 1);
        strncat (buf, en_json_str (row, field) ?: "", size - strlen (buf) - 1);
    }
    json_decref (rows);
    return buf;
}


//  Route hiaten again as the broker's loop does (in a transaction);
//  returns how many moved on. For the tests that include en_router.h
//  first.
#ifdef EN_ROUTER_H_INCLUDED
static inline int
test_retry_hiaten (en_router_t *router, en_bstore_t *store)
{
    en_db_t *db = en_bstore_db (store);
    assert_int_equal (en_db_begin (db), 0);
    int routed = en_router_retry_hiaten (router, en_now_ms ());
    assert_int_equal (en_db_commit (db), 0);
    return routed;
}

//  A broker store and its router ("broker-oost") in a new temporary
//  directory ($TMPDIR or /tmp, named after the test): the fixture of the
//  tests that drive the router directly.
typedef struct {
    char dir [256];             //  temporary directory
    en_bstore_t *store;         //  broker store in dir
    en_router_t *router;        //  router on store
} test_broker_t;

//  cmocka setup: *state becomes a new test_broker_t. 0, or -1 (said why).
static inline int
test_broker_setup (void **state, const char *name)
{
    test_broker_t *self = (test_broker_t *) calloc (1, sizeof (test_broker_t));
    *state = self;
    if (!test_mkdtemp (self->dir, sizeof self->dir, name))
        return -1;
    char path [300];
    en_error_t error = { 0 };
    snprintf (path, sizeof path, "%s/broker.db", self->dir);
    self->store = en_bstore_new (path, &error);
    if (!self->store) {
        fprintf (stderr, "en_bstore_new: %s\n", error.reason);
        return -1;
    }
    self->router = en_router_new (self->store, "broker-oost");
    return 0;
}

//  cmocka teardown: the counters the store keeps by triggers must equal
//  a recount after every test (test_counters_drift); then all is removed.
static inline int
test_broker_teardown (void **state)
{
    test_broker_t *self = (test_broker_t *) *state;
    int64_t drifted = self->store ? test_counters_drift (en_bstore_db (self->store)) : 0;
    en_router_destroy (&self->router);
    en_bstore_destroy (&self->store);
    test_rmtree (self->dir);
    free (self);
    if (drifted)
        fail_msg ("%lld counter(s) (load, reserved, figures, hiaten, derived state) differ from the rows",
                  (long long) drifted);
    return 0;
}

//  Who sent a reliable message, for test_route
typedef struct {
    en_router_t *router;        //  the broker's router
    const char *node;           //  the node, or peer broker, that sent it
    const char *region;         //  a node's region (unused for a peer)
    bool is_peer;               //  a peer broker
} test_sender_t;

//  The broker's inbox handler (en_inbox_handler_fn): its router.
static inline int
test_route (en_msg_t *msg, void *arg, en_error_t *error)
{
    test_sender_t *sender = (test_sender_t *) arg;
    return en_router_receive (sender->router, sender->node, sender->region, sender->is_peer, msg, error);
}

//  A reliable message from node (or, when is_peer, a peer broker) into
//  the broker as its batch takes one: in a transaction, exactly once
//  through en_inbox (whose time check the tests leave out) to the
//  router. 0 when it was acknowledged; else -1 with error, also when the
//  commit failed (then nothing of it stays).
static inline int
test_receive (en_router_t *router, en_bstore_t *store, const char *node, const char *region,
              bool is_peer, en_msg_t *msg, en_error_t *error)
{
    en_db_t *db = en_bstore_db (store);
    en_inbox_t *inbox = en_inbox_new (db, "broker");
    test_sender_t sender = { router, node, region, is_peer };
    en_msg_t *answer = NULL;
    if (en_db_begin (db))
        en_error_set (error, EN_ERR_INTERNAL, "cannot begin a transaction");
    else {
        answer = en_inbox_receive (inbox, msg, NULL, test_route, &sender, error);
        if (en_db_commit (db)) {
            en_db_rollback (db);
            en_error_set (error, EN_ERR_INTERNAL, "commit failed: nothing acknowledged");
        }
    }
    en_msg_destroy (&answer);
    en_inbox_destroy (&inbox);
    return error->code ? -1 : 0;
}
#endif

//  A node store in a temporary directory, as a cmocka fixture: setup
//  puts a test_nstore_fixture_t in *state, teardown removes it all. For
//  the tests that include en_nstore.h first.
#ifdef EN_NSTORE_H_INCLUDED
typedef struct {
    char dir [64];              //  temporary directory
    char path [128];            //  node database in it
    en_nstore_t *store;         //  the node's store
} test_nstore_fixture_t;

static inline int
test_nstore_setup (void **state)
{
    test_nstore_fixture_t *fx = (test_nstore_fixture_t *) calloc (1, sizeof (test_nstore_fixture_t));
    assert_non_null (test_mkdtemp (fx->dir, sizeof fx->dir, "test_nstore"));
    snprintf (fx->path, sizeof fx->path, "%s/node.db", fx->dir);
    fx->store = en_nstore_new (fx->path, NULL);
    assert_non_null (fx->store);
    *state = fx;
    return 0;
}

static inline int
test_nstore_teardown (void **state)
{
    test_nstore_fixture_t *fx = (test_nstore_fixture_t *) *state;
    en_nstore_destroy (&fx->store);
    test_rmtree (fx->dir);
    free (fx);
    return 0;
}
#endif

#endif
