/*  test_drift - the broker store's invariants as one recount: what the
    router's unit tests check after every test and the router's fuzz
    harness after every input. Needs only en_db (no cmocka). */
#ifndef TEST_DRIFT_H_INCLUDED
#define TEST_DRIFT_H_INCLUDED

//  Experts whose load/reserved counters (kept by the broker store's
//  triggers) differ from a recount of requests and offers; 0 when the
//  invariant holds. A place handed to a peer broker (places.peer) names
//  the peer's expert once accepted: not ours, even with our id.
//  Also counted as drift: a request whose state is not the one derived
//  from its places, a (state, urgency) whose figure counter
//  (request_counts, migration 12) differs from a recount of the
//  requests, and a hiaten counter that differs from the hiaten rows.
static inline int64_t
test_counters_drift (en_db_t *db)
{
    int64_t figures = en_db_int (db,
        "SELECT count(*) FROM (SELECT state, urgency, count(*) AS n FROM requests GROUP BY state, urgency) r"
        " FULL JOIN (SELECT state, urgency, n FROM request_counts WHERE n <> 0) c USING (state, urgency)"
        " WHERE r.n IS NOT c.n", NULL)
        + en_db_int (db, "SELECT (SELECT n FROM store_counts WHERE name = 'hiaten')"
                         " IS NOT (SELECT count(*) FROM hiaten)", NULL);
    //  A request's state is the one derived from its places' (the first
    //  of en_request_sm_derive's order a place is in), and it has places
    figures += en_db_int (db,
        "SELECT count(*) FROM requests r WHERE r.state IS NOT (SELECT p.state FROM places p"
        " WHERE p.request_id = r.id ORDER BY CASE p.state WHEN 'closed' THEN 1000000 ELSE coalesce (nullif ("
        " instr (',submitted,escalated,offered,forwarded,hiaat,accepted,advice,monitoring,returned,recalled,',"
        " ',' || p.state || ','), 0), 999999) END LIMIT 1)", NULL);
    return figures + en_db_int (db,
        "SELECT count(*) FROM experts e WHERE"
        " e.load <> (SELECT count(*) FROM places p JOIN requests r ON r.id = p.request_id"
        "            WHERE p.expert = e.id AND p.peer IS NULL AND p.state IN ('accepted', 'advice', 'monitoring'))"
        " OR e.reserved <> (SELECT count(*) FROM offers o WHERE o.expert = e.id AND o.state = 'open')"
        " OR e.load < 0 OR e.reserved < 0", NULL);
}

#endif
