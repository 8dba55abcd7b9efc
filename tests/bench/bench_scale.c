/*  bench_scale - broker CPU per request as the number of experts and the
    stored history grow (issue 12, target 1: with 10,000 experts at most
    1.3x the CPU with 100; with 1,000,000 stored requests at most 1.1x
    the CPU with none).

    What runs: the broker's own router (en_router) on a real en_bstore in
    a file on disk (WAL, synchronous=FULL), every message through the
    broker's receive path (en_inbox, then the router, in a transaction
    that commits), as the broker's loop runs it: no sockets, no
    signatures, so the figure is the broker's routing and store work
    alone, the part that could grow with experts or history.

    One request's life, timed in this thread's CPU time
    (CLOCK_THREAD_CPUTIME_ID, so a wait for the disk does not count):
    SUBMIT from the first node (routing: the candidate query, the offer
    and its OFFER and STATUS into the outbox), ACCEPT from the node of
    the expert offered, CLOSE from the first node. The outbox is emptied
    every 50 requests (untimed), as the nodes' ACKs would. Each point
    runs WARMUP requests, then MEASURED timed ones; the figure is the
    median. The baseline is measured beside every point: a third store
    (100 experts, starting empty) gets one request after each of the
    point's, so both see the machine in the same state (a shared machine
    moves CPU figures by 10-20% from minute to minute). Two figures per
    point: SUBMIT alone (routing) and the whole life (per-request broker
    CPU, what the target is about).

    Experts are published through the broker's own path (AVAILABILITY,
    NODE_EXPERTS per node, nodes over REGIONS regions): roles 60%
    superexpert, 30% procesregisseur, 10% ervaringsdeskundige, three of
    TAGS expertise tags each, capacity 2 to 4, one bovenregionale
    procesregisseur per node of the first region. Requests come from the
    first node (region 0), one tag each, the question types in turn, so
    every role is asked for. Points, each a ratio to its interleaved
    baseline (100 experts, a store that starts empty):
      experts  100 -> 1,000 -> 10,000 (nodes published on one store)
      requests 0 -> 100,000 -> 1,000,000 (100 experts, a second store)
    Stored requests are filled in bulk, copying the rows that the
    measured requests left through the broker's path (requests, offers,
    events, seen), each copy under new ids and earlier times: the same
    rows a store grown through the broker would hold, written at the
    speed of SQL (no fsync while filling). The access log (audit) is not
    copied: it grows at its head only and no per-request statement reads
    it back. The 1,000,000 point takes minutes to fill: it runs with
    BENCH_SCALE_FULL=1 (make bench runs 0 and 100,000 otherwise, and
    says so in a note).

    BENCH_SCALE_TRACE=1 prints, per point, the statements that took the
    most time (a per-statement timer, sqlite3_trace_v2; wall time on
    SQLite's millisecond clock, so only sums over many runs mean
    anything) and every statement that scanned a table or sorted, with
    its full-scan steps and sorts: how the candidate query shows itself.

    Usage: bench_scale [BIN_DIR]   (BIN_DIR unused: all in process)
*/
#include "bench_util.h"
#include "en_router.h"

#define WARMUP          30          //  requests per point before timing
#define MEASURED        300         //  timed requests per point
#define NODE_EXPERTS    100         //  experts per node
#define REGIONS         8
#define TAGS            12
#define TARGET_EXPERTS  1.3         //  10,000 experts vs 100
#define TARGET_HISTORY  1.1         //  1,000,000 stored requests vs none

static const char *s_question_types [] = {
    "consultatie-advies", "procesregie", "moreel-beraad", "organiseren-hulp" };

typedef struct {
    en_bstore_t *store;
    en_router_t *router;
    en_inbox_t *inbox;
    int nodes;                  //  nodes published so far
    int requests;               //  requests run so far
    int no_offer;               //  requests that found nobody
    zhashx_t *trace;            //  sql -> s_stmt_t, with BENCH_SCALE_TRACE
} s_broker_t;

typedef struct {
    double submit_us;           //  median CPU of SUBMIT
    double life_us;             //  median CPU of SUBMIT + ACCEPT + CLOSE
    double base_submit_us;      //  the same on the baseline store,
    double base_life_us;        //  interleaved with these requests
} s_point_t;

//  --------------------------------------------------------------------
//  Per-statement timer (BENCH_SCALE_TRACE=1)

typedef struct {
    int64_t runs, ns, fullscan, sorts;
} s_stmt_t;

static int
s_trace (unsigned type, void *arg, void *p, void *x)
{
    s_broker_t *self = (s_broker_t *) arg;
    if (type != SQLITE_TRACE_PROFILE)
        return 0;
    sqlite3_stmt *stmt = (sqlite3_stmt *) p;
    const char *sql = sqlite3_sql (stmt);
    s_stmt_t *entry = (s_stmt_t *) zhashx_lookup (self->trace, sql);
    if (!entry) {
        entry = (s_stmt_t *) zmalloc (sizeof (s_stmt_t));
        zhashx_insert (self->trace, sql, entry);
    }
    entry->runs++;
    entry->ns += *(sqlite3_int64 *) x;
    entry->fullscan += sqlite3_stmt_status (stmt, SQLITE_STMTSTATUS_FULLSCAN_STEP, 1);
    entry->sorts += sqlite3_stmt_status (stmt, SQLITE_STMTSTATUS_SORT, 1);
    return 0;
}

static void
s_trace_start (s_broker_t *self)
{
    if (!getenv ("BENCH_SCALE_TRACE"))
        return;
    zhashx_destroy (&self->trace);
    self->trace = zhashx_new ();
    zhashx_set_destructor (self->trace, (zhashx_destructor_fn *) zstr_free);
    sqlite3_trace_v2 (en_db_handle (en_bstore_db (self->store)), SQLITE_TRACE_PROFILE, s_trace, self);
}

static int
s_by_time (const void *a, const void *b)
{
    int64_t ns_a = (*(s_stmt_t **) a)->ns, ns_b = (*(s_stmt_t **) b)->ns;
    return ns_a < ns_b ? 1 : ns_a > ns_b ? -1 : 0;
}

//  The eight statements that took the most time since s_trace_start,
//  and every other one that scanned a table or sorted.
static void
s_trace_print (s_broker_t *self, int requests)
{
    if (!self->trace)
        return;
    sqlite3_trace_v2 (en_db_handle (en_bstore_db (self->store)), 0, NULL, NULL);
    size_t count = zhashx_size (self->trace);
    s_stmt_t **entries = (s_stmt_t **) calloc (count + 1, sizeof (s_stmt_t *));
    size_t i = 0;
    for (s_stmt_t *entry = (s_stmt_t *) zhashx_first (self->trace); entry;
         entry = (s_stmt_t *) zhashx_next (self->trace))
        entries [i++] = entry;
    qsort (entries, count, sizeof (s_stmt_t *), s_by_time);
    printf ("    statements by time per request (us, wall), runs, full-scan steps, sorts:\n");
    for (i = 0; i < count; i++) {
        if (i >= 8 && entries [i]->fullscan == 0 && entries [i]->sorts == 0)
            continue;
        const char *sql = NULL;
        for (s_stmt_t *entry = (s_stmt_t *) zhashx_first (self->trace); entry;
             entry = (s_stmt_t *) zhashx_next (self->trace))
            if (entry == entries [i])
                sql = (const char *) zhashx_cursor (self->trace);
        printf ("    %8.1f %6" PRId64 " %9" PRId64 " %5" PRId64 "  %.100s\n",
                entries [i]->ns / 1000.0 / requests, entries [i]->runs, entries [i]->fullscan,
                entries [i]->sorts, sql ? sql : "?");
    }
    free (entries);
    zhashx_destroy (&self->trace);
}

//  --------------------------------------------------------------------
//  The broker

static void
s_node_name (int node, char *name, size_t size)
{
    snprintf (name, size, "node-%04d", node);
}

static void
s_region (int node, char *region, size_t size)
{
    snprintf (region, size, "regio-%d", node % REGIONS);
}

//  The broker's inbox handler: its router (node and region from the
//  message's sender, as the broker knows them from the link).
static int
s_route (en_msg_t *msg, void *arg, en_error_t *error)
{
    s_broker_t *self = (s_broker_t *) arg;
    const char *name = en_msg_sender (msg);
    char region [32];
    s_region (atoi (name + strlen ("node-")), region, sizeof region);
    return en_router_receive (self->router, name, region, false, msg, error);
}

//  One reliable message from node into the broker, as its loop takes it:
//  a transaction, exactly once through en_inbox, the router. Takes body.
static void
s_receive (s_broker_t *self, int node, const char *command, json_t *body)
{
    char name [32], region [32];
    s_node_name (node, name, sizeof name);
    s_region (node, region, sizeof region);
    en_db_t *db = en_bstore_db (self->store);
    en_msg_t *msg = en_msg_new (command, name, body);
    en_error_t error = { 0 };
    if (en_db_begin (db))
        bench_fail ("cannot begin a transaction");
    en_msg_t *answer = en_inbox_receive (self->inbox, msg, NULL, s_route, self, &error);
    if (en_db_commit (db))
        bench_fail ("commit failed: %s", en_db_error (db));
    if (error.code)
        bench_fail ("%s from %s refused: %d %s", command, name, error.code, error.reason);
    en_msg_destroy (&answer);
    en_msg_destroy (&msg);
}

static void
s_open (s_broker_t *self, const char *path)
{
    en_error_t error = { 0 };
    self->store = en_bstore_new (path, &error);
    if (!self->store)
        bench_fail ("cannot open %s: %s", path, error.reason);
    self->router = en_router_new (self->store, "bench");
    self->inbox = en_inbox_new (en_bstore_db (self->store), "broker");
}

static void
s_close (s_broker_t *self)
{
    en_inbox_destroy (&self->inbox);
    en_router_destroy (&self->router);
    en_bstore_destroy (&self->store);
    zhashx_destroy (&self->trace);
}

//  Publish nodes until there are `nodes`, NODE_EXPERTS experts each.
static void
s_publish (s_broker_t *self, int nodes)
{
    static const char *tags [TAGS] = {
        "trauma", "autisme", "verslaving", "lvb", "hechting", "eetstoornis",
        "agressie", "schoolverzuim", "psychose", "gezinsgeweld", "rouw", "adhd" };
    for (; self->nodes < nodes; self->nodes++) {
        int node = self->nodes;
        char region [32];
        s_region (node, region, sizeof region);
        json_t *experts = json_array ();
        for (int j = 0; j < NODE_EXPERTS; j++) {
            char id [48];
            snprintf (id, sizeof id, "e-%04d-%03d", node, j);
            int kind = j % 10;
            const char *role = kind < 6 ? "superexpert" : kind < 9 ? "procesregisseur" : "ervaringsdeskundige";
            //  Three different tags: j's own and two at distinct offsets
            int first = j % TAGS;
            int offset = 1 + (j / TAGS + node) % (TAGS - 1);
            int other = 1 + (offset + j % (TAGS - 2)) % (TAGS - 1);
            json_array_append_new (experts, json_pack ("{s:s, s:s, s:s, s:[s,s,s], s:i, s:b}",
                "id", id, "region", region, "role", role, "expertise", tags [first],
                tags [(first + offset) % TAGS], tags [(first + other) % TAGS],
                "capacity", 2 + j % 3, "bovenregionaal", j == 8 && node % REGIONS == 0));
        }
        s_receive (self, node, "AVAILABILITY", json_pack ("{s:o}", "experts", experts));
    }
}

static double
s_cpu_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

//  Run one message and return the CPU it took (us).
static double
s_timed (s_broker_t *self, int node, const char *command, json_t *body)
{
    double start = s_cpu_us ();
    s_receive (self, node, command, body);
    return s_cpu_us () - start;
}

//  One request's life; its CPU (us) of SUBMIT into *submit_us, of the
//  whole life returned.
static double
s_request (s_broker_t *self, double *submit_us)
{
    static const char *tags [TAGS] = {
        "trauma", "autisme", "verslaving", "lvb", "hechting", "eetstoornis",
        "agressie", "schoolverzuim", "psychose", "gezinsgeweld", "rouw", "adhd" };
    int n = self->requests++;
    char id [48], region [32];
    snprintf (id, sizeof id, "rq-%07d", n);
    s_region (0, region, sizeof region);
    json_t *summary = bench_request (id, region);
    json_object_set_new (summary, "question_type", json_string (s_question_types [n % 4]));
    json_object_set_new (summary, "expertise", json_pack ("[s]", tags [(n / 4) % TAGS]));
    *submit_us = s_timed (self, 0, "SUBMIT", json_pack ("{s:o}", "request", summary));
    double life = *submit_us;
    json_t *offers = en_bstore_offers_open (self->store, id, 0);
    json_t *offer = json_array_get (offers, 0);
    if (offer)
        life += s_timed (self, atoi (en_json_str (offer, "node") + strlen ("node-")), "ACCEPT",
                         json_pack ("{s:s}", "offer", en_json_str (offer, "id")));
    else
        self->no_offer++;
    json_decref (offers);
    life += s_timed (self, 0, "CLOSE",
                     json_pack ("{s:s, s:s}", "request", id, "outcome", "passende hulp gerealiseerd"));
    //  The nodes' ACKs (untimed)
    if (self->requests % 50 == 0)
        en_db_exec (en_bstore_db (self->store), "DELETE FROM outbox", NULL);
    return life;
}

static int
s_by_value (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double
s_median (double *values, size_t count)
{
    qsort (values, count, sizeof (double), s_by_value);
    return values [count / 2];
}

//  WARMUP requests, then MEASURED timed ones, each followed by one on
//  the baseline store (base), so both see the machine in the same state:
//  the medians of both.
static s_point_t
s_measure (s_broker_t *self, s_broker_t *base, const char *label)
{
    double submit [MEASURED], life [MEASURED], base_submit [MEASURED], base_life [MEASURED], ignored;
    for (int i = 0; i < WARMUP; i++) {
        s_request (self, &ignored);
        s_request (base, &ignored);
    }
    s_trace_start (self);
    int no_offer = self->no_offer + base->no_offer;
    for (int i = 0; i < MEASURED; i++) {
        life [i] = s_request (self, &submit [i]);
        base_life [i] = s_request (base, &base_submit [i]);
    }
    s_point_t point = { s_median (submit, MEASURED), s_median (life, MEASURED),
                        s_median (base_submit, MEASURED), s_median (base_life, MEASURED) };
    printf ("  %-26s submit %7.1f us  life %7.1f us | baseline %7.1f / %7.1f us (%d found nobody)\n",
            label, point.submit_us, point.life_us, point.base_submit_us, point.base_life_us,
            self->no_offer + base->no_offer - no_offer);
    fflush (stdout);
    s_trace_print (self, MEASURED);
    return point;
}

//  --------------------------------------------------------------------
//  Stored requests in bulk

//  Copies from..to of the rows the requests run so far left (ids rq-*),
//  under new ids (f<k>-...) and earlier times, in one transaction.
static int
s_copy (en_db_t *db, int64_t from, int64_t to)
{
    #define COPIES "WITH RECURSIVE n (k) AS (SELECT ?1 UNION ALL SELECT k + 1 FROM n WHERE k < ?2) "
    #define NEW(x) "'f' || k || '-' || " x
    return en_db_begin (db)
        || en_db_exec (db, COPIES
            "INSERT INTO requests (id, origin, msg_id, region, urgency, question_type, summary, state, expert,"
            " created, updated, peer, origin_node, sign_key, visited, submit)"
            " SELECT " NEW ("r.id") ", r.origin, " NEW ("r.msg_id") ", r.region, r.urgency, r.question_type,"
            " json_set (r.summary, '$.id', " NEW ("r.id") "), r.state, r.expert, r.created - k * 600000,"
            " r.updated - k * 600000, r.peer, r.origin_node, r.sign_key, r.visited, r.submit"
            " FROM n, requests r WHERE r.id GLOB 'rq-*'", "ii", from, to)
        || en_db_exec (db, COPIES
            "INSERT INTO offers (id, request_id, expert, node, kind, state, created, deadline, answered, reason)"
            " SELECT " NEW ("o.id") ", " NEW ("o.request_id") ", o.expert, o.node, o.kind, o.state,"
            " o.created - k * 600000, o.deadline - k * 600000, o.answered - k * 600000, o.reason"
            " FROM n, offers o WHERE o.request_id GLOB 'rq-*' AND o.state <> 'open'", "ii", from, to)
        || en_db_exec (db, COPIES
            "INSERT INTO events (request_id, at, type, expert, detail)"
            " SELECT " NEW ("e.request_id") ", e.at - k * 600000, e.type, e.expert, e.detail"
            " FROM n, events e WHERE e.request_id GLOB 'rq-*'", "ii", from, to)
        || en_db_exec (db, COPIES
            "INSERT INTO seen (msg_id, sender, command, at, code, reason, digest)"
            " SELECT " NEW ("s.msg_id") ", s.sender, s.command, s.at - k * 600000, s.code, s.reason, s.digest"
            " FROM n, seen s WHERE s.command IN ('SUBMIT', 'ACCEPT', 'CLOSE')"
            " AND s.msg_id NOT GLOB 'f*'", "ii", from, to)
        || en_db_commit (db);
    #undef NEW
    #undef COPIES
}

//  Copy until the store holds `target` requests, about 50,000 a
//  transaction, with a larger page cache and no fsync while filling (the
//  broker's own settings again for the measurement) and the WAL
//  checkpointed after, as the broker's checkpoints would have kept it.
static void
s_fill (s_broker_t *self, int64_t target, int *copies)
{
    en_db_t *db = en_bstore_db (self->store);
    int64_t have = en_db_int (db, "SELECT count(*) FROM requests", NULL);
    int64_t each = en_db_int (db, "SELECT count(*) FROM requests WHERE id GLOB 'rq-*'", NULL);
    if (have >= target || each == 0)
        return;
    int64_t cache = en_db_int (db, "PRAGMA cache_size", NULL);
    int64_t synchronous = en_db_int (db, "PRAGMA synchronous", NULL);
    en_db_exec (db, "PRAGMA cache_size = -1048576", NULL);
    en_db_exec (db, "PRAGMA synchronous = OFF", NULL);
    int64_t last = *copies + (target - have + each - 1) / each;
    int64_t chunk = 50000 / each + 1;
    for (int64_t from = *copies + 1; from <= last; from += chunk)
        if (s_copy (db, from, from + chunk - 1 < last ? from + chunk - 1 : last))
            bench_fail ("filling the store failed: %s", en_db_error (db));
    *copies = (int) last;
    char pragma [64], pragma_sync [64];
    snprintf (pragma, sizeof pragma, "PRAGMA cache_size = %" PRId64, cache);
    snprintf (pragma_sync, sizeof pragma_sync, "PRAGMA synchronous = %" PRId64, synchronous);
    if (en_db_exec (db, pragma, NULL)
    ||  en_db_exec (db, pragma_sync, NULL)
    ||  en_db_exec (db, "PRAGMA wal_checkpoint (TRUNCATE)", NULL))
        bench_fail ("cannot checkpoint after filling: %s", en_db_error (db));
}

//  --------------------------------------------------------------------

static void
s_result (const char *metric, double value, const char *baseline, double baseline_value,
          double target)
{
    char target_text [32] = "-";
    const char *met = "-";
    if (target > 0) {
        snprintf (target_text, sizeof target_text, "<= %.1fx", target);
        met = value / baseline_value <= target ? "yes" : "NO";
    }
    bench_result (metric, value, "us", baseline, baseline_value, target_text, met);
}

//  The two result rows of a point: routing (SUBMIT) and the whole life.
static void
s_results (const char *what, s_point_t point, double target)
{
    const char *base_name = "100 experts, empty (interleaved)";
    char metric [64];
    snprintf (metric, sizeof metric, "routing CPU/request, %s", what);
    s_result (metric, point.submit_us, base_name, point.base_submit_us, 0);
    snprintf (metric, sizeof metric, "broker CPU/request, %s", what);
    s_result (metric, point.life_us, base_name, point.base_life_us, target);
}

static void
s_open_published (s_broker_t *self, const char *scratch, const char *name)
{
    char path [PATH_MAX];
    bench_path (path, sizeof path, "%s/%s.db", scratch, name);
    s_open (self, path);
    s_publish (self, 1);
}

int
main (int argc, char *argv [])
{
    (void) argc; (void) argv;
    const char *scratch = bench_init ("bench_scale");
    zsys_set_logstream (NULL);          //  no line per routed request
    bool full = getenv ("BENCH_SCALE_FULL") && streq (getenv ("BENCH_SCALE_FULL"), "1");
    printf ("bench_scale: broker CPU per request (median of %d; thread CPU time)\n", MEASURED);
    s_broker_t base = { 0 }, experts = { 0 }, history = { 0 };
    s_open_published (&base, scratch, "base");

    //  Experts: 100, 1,000, 10,000 on one store
    s_open_published (&experts, scratch, "experts");
    s_measure (&experts, &base, "100 experts");
    s_publish (&experts, 10);
    s_point_t thousand = s_measure (&experts, &base, "1,000 experts");
    s_publish (&experts, 100);
    s_point_t ten_thousand = s_measure (&experts, &base, "10,000 experts");
    s_close (&experts);

    //  Stored requests: 0, 100,000, 1,000,000 with 100 experts
    s_open_published (&history, scratch, "history");
    s_measure (&history, &base, "0 stored requests");
    int copies = 0;
    int64_t start = bench_now_us ();
    s_fill (&history, 100000, &copies);
    printf ("    (filled to 100,000 requests in %.1f s)\n", (bench_now_us () - start) / 1e6);
    s_point_t hundred_k = s_measure (&history, &base, "100,000 stored requests");
    s_point_t million = { 0 };
    if (full) {
        start = bench_now_us ();
        s_fill (&history, 1000000, &copies);
        printf ("    (filled to 1,000,000 requests in %.1f s)\n", (bench_now_us () - start) / 1e6);
        million = s_measure (&history, &base, "1,000,000 stored requests");
    }
    s_close (&history);
    s_close (&base);

    printf ("\n");
    s_results ("1,000 experts", thousand, 0);
    s_results ("10,000 experts", ten_thousand, TARGET_EXPERTS);
    s_results ("100,000 requests", hundred_k, 0);
    if (full)
        s_results ("1,000,000 requests", million, TARGET_HISTORY);
    else
        bench_note ("bench_scale: the 1,000,000 stored requests point runs with BENCH_SCALE_FULL=1"
                    " (its fill takes minutes); this run went to 100,000");
    return 0;
}
