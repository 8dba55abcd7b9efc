/*  test_fixture - what several unit tests share: removing a temporary
    directory tree, the broker's load/reserved invariant, routing hiaten
    again. Static
    functions in a header: each test program is one translation unit. */
#ifndef TEST_FIXTURE_H_INCLUDED
#define TEST_FIXTURE_H_INCLUDED

#include <ftw.h>
#include <stdio.h>
#include <string.h>

static inline int
s_test_remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st; (void) flag; (void) ftw;
    remove (path);
    return 0;
}

//  Remove a directory and everything below it (a test's mkdtemp dir).
static inline void
test_rmtree (const char *dir)
{
    nftw (dir, s_test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

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

//  Experts whose load/reserved counters (kept by the broker store's
//  triggers) differ from a recount of requests and offers; 0 when the
//  invariant holds. A request handed to a peer broker (requests.peer)
//  names the peer's expert once accepted: not ours, even with our id.
static inline int64_t
test_counters_drift (en_db_t *db)
{
    return en_db_int (db,
        "SELECT count(*) FROM experts e WHERE"
        " e.load <> (SELECT count(*) FROM requests r WHERE r.expert = e.id AND r.peer IS NULL"
        "            AND r.state IN ('accepted', 'advice'))"
        " OR e.reserved <> (SELECT count(*) FROM offers o WHERE o.expert = e.id AND o.state = 'open')"
        " OR e.load < 0 OR e.reserved < 0", NULL);
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
#endif

#endif
