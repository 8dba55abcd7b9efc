/*  bench_figures - what the dashboard's figures cost as history grows,
    and whether reading them holds up routing (issue 12, target 2).

    The system: a real expertnet-broker with its dashboard on a free
    port, an operator and an API token made through its control socket,
    and this program playing a node over CURVE (HELLO, AVAILABILITY with
    a few experts) as bench_durable does.

    Store sizes. The broker starts on an empty store; this program then
    grows it to 100,000 and to 1,000,000 stored requests while the
    broker runs, on a connection of its own (WAL: as a second writer,
    in transactions of 10,000 rows so the broker never waits long),
    with rows the broker's own path writes for a request that ran its
    course: the request (summary as a node publishes it, urgency and
    question type spread over the vocabulary, created over two years),
    closed, one in a hundred with the hiaten row of a hiaat it once
    was. At every size the store also holds the same working set made
    before the first point: 100 open requests and 25 recent hiaten, so
    the overview shows the same lists at each size and only history
    grows. BENCH_FIGURES_MAX=100000 stops at 100,000 (the 1,000,000
    point takes about a minute to fill on a fast disk; the whole run
    about two).

    Figures. At each size: GET /api/overview and GET /metrics (with
    the token, over loopback, one at a time), median and p90 of
    REPEAT calls; the baseline is the same call at 0 stored requests,
    in the same run; target: at most 2x at 1,000,000. Then, at the
    largest size, routing: SUBMIT->ACK time (each SUBMIT stored,
    routed to an OFFER and acked after COMMIT; one at a time, every
    ROUTE_GAP_MS), first with nobody looking at the dashboard (the
    baseline), then while another thread scrapes /api/overview and
    /metrics in turn every SCRAPE_GAP_MS (far more often than a
    dashboard or Prometheus asks); target: p99 at most 2x.

    Usage: bench_figures [BIN_DIR]   (default build/bin)
*/
#include "bench_util.h"
#include <arpa/inet.h>
#include <pthread.h>

#define BROKER_NAME     "overijssel"
#define NODE_NAME       "twente"
#define REGION          "twente"
#define OPERATOR        "bench-operator"
#define EXPERTS         8           //  published by the node, capacity 50 each
#define WORKING_SET     125         //  requests now: 100 open, 25 hiaten
#define REPEAT          15          //  calls per figure and store size
#define FILL_CHUNK      50000       //  rows per transaction when growing the store
#define ROUTE_SECONDS   4.0         //  per routing phase
#define ROUTE_GAP_MS    5           //  between one ACK and the next SUBMIT
#define SCRAPE_GAP_MS   100         //  between two scrapes

//  --------------------------------------------------------------------
//  HTTP: a GET over loopback with the API token; the time it took in
//  ms, or -1 when the answer was not 200.

typedef struct {
    int port;                   //  dashboard port on 127.0.0.1
    char token [65];            //  API token
} s_web_t;

static double
s_get (const s_web_t *web, const char *path, size_t *bytes)
{
    int64_t start = bench_now_us ();
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) web->port),
                                .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    if (fd < 0 || connect (fd, (struct sockaddr *) &addr, sizeof addr)) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    char request [512];
    int len = snprintf (request, sizeof request, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                        "Authorization: Bearer %s\r\nConnection: close\r\n\r\n", path, web->port, web->token);
    if (write (fd, request, (size_t) len) != len) {
        close (fd);
        return -1;
    }
    char buffer [65536], status [16] = "";
    size_t total = 0;
    ssize_t got;
    while ((got = read (fd, buffer, sizeof buffer)) > 0) {
        if (total == 0)
            snprintf (status, sizeof status, "%.12s", buffer);
        total += (size_t) got;
    }
    close (fd);
    if (bytes)
        *bytes = total;
    return strncmp (status, "HTTP/1.1 200", 12) == 0 ? (bench_now_us () - start) / 1000.0 : -1;
}

typedef struct {
    double p50, p90;            //  ms
    size_t bytes;               //  size of the last answer
} s_timing_t;

static s_timing_t
s_time_figure (const s_web_t *web, const char *path)
{
    double times [REPEAT];
    s_timing_t timing = { 0 };
    s_get (web, path, NULL);                //  warm: statements prepared
    for (int i = 0; i < REPEAT; i++) {
        times [i] = s_get (web, path, &timing.bytes);
        if (times [i] < 0)
            bench_fail ("GET %s did not answer 200", path);
    }
    bench_sort (times, REPEAT);
    timing.p50 = bench_percentile (times, REPEAT, 50);
    timing.p90 = bench_percentile (times, REPEAT, 90);
    return timing;
}

//  --------------------------------------------------------------------
//  Growing the store as the broker's path would have

static void
s_grow (const char *db_path, int64_t from, int64_t to)
{
    sqlite3 *db;
    if (sqlite3_open (db_path, &db) != SQLITE_OK)
        bench_fail ("cannot open %s", db_path);
    sqlite3_busy_timeout (db, 10000);
    //  This connection's own settings: its rows are test data, the
    //  broker's connection keeps synchronous=FULL for what it writes
    sqlite3_exec (db, "PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;", NULL, NULL, NULL);
    char *summary = json_dumps (bench_request ("x", REGION), JSON_COMPACT);
    sqlite3_stmt *request, *hiaat;
    sqlite3_prepare_v2 (db,
        "INSERT INTO requests (id, origin, msg_id, region, urgency, question_type, summary, state,"
        " expert, created, updated) VALUES (?1, ?2, lower (hex (randomblob (16))), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9 + 3600000)",
        -1, &request, NULL);
    sqlite3_prepare_v2 (db,
        "INSERT INTO hiaten (request_id, at, region, urgency, question_type, expertise)"
        " VALUES (?1, ?2, ?3, ?4, ?5, '[\"trauma\"]')", -1, &hiaat, NULL);
    int64_t now = en_now_ms ();
    int64_t span = 2LL * 365 * 86400 * 1000;
    for (int64_t i = from; i < to; i++) {
        if ((i - from) % FILL_CHUNK == 0)
            sqlite3_exec (db, i == from ? "BEGIN" : "COMMIT; BEGIN", NULL, NULL, NULL);
        //  History: closed, one in a hundred a hiaat once (its hiaten
        //  row stays). The working set (i < 0): open, or a hiaat now.
        bool working = i < 0;
        int64_t k = working ? -i : i;
        char id [32], expert [32];
        snprintf (id, sizeof id, working ? "open-%04" PRId64 : "fill-%08" PRId64, k);
        snprintf (expert, sizeof expert, "expert-%d", (int) (k % EXPERTS));
        const char *urgency = en_vocab_urgency [k % 3];
        const char *question = en_vocab_question_type [k % 5];
        const char *state = working && k % 5 ? "escalated" : "closed";
        bool was_hiaat = working ? k % 5 == 0 : k % 100 == 7;
        int64_t created = working ? now - k * 1000 : now - span + (span * (i - from)) / (to - from);
        sqlite3_bind_text (request, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text (request, 2, NODE_NAME, -1, SQLITE_STATIC);
        sqlite3_bind_text (request, 3, REGION, -1, SQLITE_STATIC);
        sqlite3_bind_text (request, 4, urgency, -1, SQLITE_STATIC);
        sqlite3_bind_text (request, 5, question, -1, SQLITE_STATIC);
        sqlite3_bind_text (request, 6, summary, -1, SQLITE_STATIC);
        sqlite3_bind_text (request, 7, state, -1, SQLITE_STATIC);
        if (streq (state, "closed") && !working)
            sqlite3_bind_text (request, 8, expert, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null (request, 8);
        sqlite3_bind_int64 (request, 9, created);
        if (sqlite3_step (request) != SQLITE_DONE)
            bench_fail ("growing the store: %s", sqlite3_errmsg (db));
        sqlite3_reset (request);
        if (was_hiaat) {
            sqlite3_bind_text (hiaat, 1, id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64 (hiaat, 2, created + 1000);
            sqlite3_bind_text (hiaat, 3, REGION, -1, SQLITE_STATIC);
            sqlite3_bind_text (hiaat, 4, urgency, -1, SQLITE_STATIC);
            sqlite3_bind_text (hiaat, 5, question, -1, SQLITE_STATIC);
            if (sqlite3_step (hiaat) != SQLITE_DONE)
                bench_fail ("growing the store: %s", sqlite3_errmsg (db));
            sqlite3_reset (hiaat);
        }
    }
    sqlite3_exec (db, "COMMIT", NULL, NULL, NULL);
    sqlite3_finalize (request);
    sqlite3_finalize (hiaat);
    sqlite3_close (db);
    free (summary);
}

//  --------------------------------------------------------------------
//  The node: SUBMIT one at a time and time its ACK

typedef struct {
    zsock_t *dealer;            //  CURVE client to the broker
    en_signer_t *signer;        //  signs as a node does
    char run [9];               //  random run id in request ids
    size_t sent;                //  SUBMITs sent
} s_node_t;

static void
s_send (s_node_t *self, const char *command, json_t *body, char *id_out)
{
    en_msg_t *msg = en_msg_new (command, NODE_NAME, body);
    if (id_out)
        strcpy (id_out, en_msg_id (msg));
    if (en_msg_send (msg, self->dealer, NULL, self->signer))
        bench_fail ("cannot send %s: %s", command, zmq_strerror (zmq_errno ()));
    en_msg_destroy (&msg);
}

//  A reliable message from the broker: an OFFER's request is closed at
//  once (the steady state), and every one is ACKed
static void
s_on_reliable (s_node_t *self, en_msg_t *msg)
{
    json_t *body = en_msg_body (msg);
    if (streq (en_msg_command (msg), "OFFER") && en_json_str (body, "request_id"))
        s_send (self, "CLOSE", json_pack ("{s:s, s:s}", "request", en_json_str (body, "request_id"),
                                          "outcome", "benchmark"), NULL);
    s_send (self, "ACK", json_pack ("{s:s}", "ref", en_msg_id (msg)), NULL);
}

//  Wait up to timeout_ms for command (with ref, when given), ACKing what
//  the broker sends reliably and closing each request offered (so the
//  experts keep their places). True when it came.
static bool
s_wait_for (s_node_t *self, const char *command, const char *ref, int timeout_ms)
{
    int64_t give_up = bench_now_us () + timeout_ms * 1000LL;
    bool found = false;
    int64_t now;
    while (!found && (now = bench_now_us ()) < give_up) {
        if (!bench_poll (self->dealer, (int) MIN (50, (give_up - now + 999) / 1000)))
            continue;
        zmsg_t *raw = zmsg_recv (self->dealer);
        en_msg_t *msg = raw ? en_msg_decode (raw, NULL) : NULL;
        zmsg_destroy (&raw);
        if (!msg)
            continue;
        const char *got = en_msg_command (msg);
        json_t *body = en_msg_body (msg);
        if (streq (got, command) && (!ref || streq (en_json_str (body, "ref") ?: "", ref)))
            found = true;
        //  A cumulative ACK (EXPN/3) names every message of a batch
        json_t *refs = ref && streq (got, "ACK") && streq (command, "ACK") ? en_msg_ack_refs (msg, NULL) : NULL;
        size_t index;
        json_t *item;
        json_array_foreach (refs, index, item)
            found = found || streq (json_string_value (item), ref);
        json_decref (refs);
        if (streq (got, "ERROR"))
            bench_fail ("broker sent ERROR: %s", en_json_str (body, "reason") ?: "?");
        //  EXPN/3: a BATCH holds OFFERs and STATUSes, each as if alone
        zlistx_t *inner = streq (got, "BATCH") ? en_msg_unbatch (msg, NULL) : NULL;
        if (inner)
            for (en_msg_t *one = (en_msg_t *) zlistx_first (inner); one; one = (en_msg_t *) zlistx_next (inner))
                s_on_reliable (self, one);
        zlistx_destroy (&inner);
        if (en_msg_command_reliable (got))
            s_on_reliable (self, msg);
        en_msg_destroy (&msg);
    }
    return found;
}

typedef struct {
    double p50, p99, max;       //  SUBMIT->ACK, ms
    size_t count;
} s_route_t;

static s_route_t
s_route (s_node_t *self, double seconds)
{
    size_t size = 4096, count = 0;
    double *times = (double *) malloc (size * sizeof (double));
    int64_t stop = bench_now_us () + (int64_t) (seconds * 1e6);
    while (bench_now_us () < stop) {
        char request_id [64], msg_id [33];
        snprintf (request_id, sizeof request_id, "bench-%s-%zu", self->run, self->sent++);
        int64_t start = bench_now_us ();
        s_send (self, "SUBMIT", json_pack ("{s:o}", "request", bench_request (request_id, REGION)), msg_id);
        if (!s_wait_for (self, "ACK", msg_id, 10000))
            bench_fail ("SUBMIT %s was not acknowledged within 10 s", request_id);
        if (count == size)
            times = (double *) realloc (times, (size *= 2) * sizeof (double));
        times [count++] = (bench_now_us () - start) / 1000.0;
        s_wait_for (self, "-", NULL, ROUTE_GAP_MS);     //  handle OFFER and STATUS meanwhile
    }
    bench_sort (times, count);
    s_route_t route = { bench_percentile (times, count, 50), bench_percentile (times, count, 99),
                        times [count - 1], count };
    free (times);
    return route;
}

//  The scraper: /api/overview and /metrics in turn until told to stop
typedef struct {
    const s_web_t *web;
    volatile bool stop;
    size_t scrapes;
} s_scraper_t;

static void *
s_scraper (void *arg)
{
    s_scraper_t *self = (s_scraper_t *) arg;
    while (!self->stop) {
        s_get (self->web, self->scrapes % 2 ? "/metrics" : "/api/overview", NULL);
        self->scrapes++;
        usleep (SCRAPE_GAP_MS * 1000);
    }
    return NULL;
}

//  --------------------------------------------------------------------
//  Set-up

static void
s_write_file (const char *path, const char *format, ...)
{
    FILE *file = fopen (path, "w");
    if (!file)
        bench_fail ("cannot write %s", path);
    va_list args;
    va_start (args, format);
    vfprintf (file, format, args);
    va_end (args);
    fclose (file);
}

//  The broker with its dashboard on web->port, and an API token
static pid_t
s_start (const char *bin_dir, const char *scratch, const char *broker_dir, const char *endpoint, s_web_t *web)
{
    char config [PATH_MAX], program [PATH_MAX], log [PATH_MAX];
    web->port = bench_free_port ();
    bench_path (config, sizeof config, "%s/broker.cfg", scratch);
    s_write_file (config, "broker\n    name = %s\n    endpoint = \"%s\"\n    datadir = \"%s\"\n"
                  "web\n    address = \"127.0.0.1:%d\"\n", BROKER_NAME, endpoint, broker_dir, web->port);
    bench_path (program, sizeof program, "%s/expertnet-broker", bin_dir);
    bench_path (log, sizeof log, "%s/broker.log", broker_dir);
    char *argv [] = { program, "-c", config, NULL };
    pid_t pid = bench_spawn (log, argv);
    if (!bench_wait_control (broker_dir, "status", NULL, NULL, 10000)) {
        bench_log_tail (log);
        bench_fail ("expertnet-broker did not answer on its control socket within 10 s");
    }
    json_t *result = NULL;
    en_control_call (broker_dir, "operator-add", json_pack ("{s:s, s:s}", "name", OPERATOR,
                     "password", "bench-password-long"), 10000, &result, NULL);
    json_decref (result);
    result = NULL;
    if (en_control_call (broker_dir, "token-add", json_pack ("{s:s}", "operator", OPERATOR), 5000, &result, NULL)
    ||  !en_json_str (result, "token"))
        bench_fail ("no API token from the broker");
    snprintf (web->token, sizeof web->token, "%s", en_json_str (result, "token"));
    json_decref (result);
    return pid;
}

static void
s_node_start (s_node_t *node, const char *node_dir, const char *endpoint)
{
    en_error_t error = { 0 };
    char path [PATH_MAX];
    bench_path (path, sizeof path, "%s/keys", node_dir);
    zcert_t *cert = en_keys_load_secret (path, NODE_NAME, &error);
    node->signer = en_signer_load (path, NODE_NAME, &error);
    bench_path (path, sizeof path, "%s/keys/broker.cert", node_dir);
    zcert_t *server = en_keys_load_public (path, &error);
    if (!cert || !server || !node->signer)
        bench_fail ("%s", error.reason);
    en_random_hex (node->run, 8);
    node->dealer = zsock_new (ZMQ_DEALER);
    en_keys_client (node->dealer, cert, zcert_public_txt (server));
    zsock_set_linger (node->dealer, 0);
    zsock_set_maxmsgsize (node->dealer, EN_MAX_WIRE);
    if (zsock_connect (node->dealer, "%s", endpoint))
        bench_fail ("cannot connect to %s", endpoint);
    zcert_destroy (&cert);
    zcert_destroy (&server);
    bool welcomed = false;
    for (int attempt = 0; attempt < 10 && !welcomed; attempt++) {
        s_send (node, "HELLO", json_pack ("{s:s, s:s, s:s}", "node", NODE_NAME,
                "region", REGION, "version", EXPERTNET_VERSION), NULL);
        welcomed = s_wait_for (node, "WELCOME", NULL, 1000);
    }
    if (!welcomed)
        bench_fail ("no WELCOME from the broker");
    json_t *experts = json_array ();
    for (int i = 0; i < EXPERTS; i++) {
        char id [32];
        snprintf (id, sizeof id, "expert-%d", i);
        json_array_append_new (experts, json_pack ("{s:s, s:s, s:s, s:[s,s], s:i, s:b}",
            "id", id, "role", "superexpert", "region", REGION,
            "expertise", "trauma", "hechting", "capacity", EN_MAX_CAPACITY, "bovenregionaal", 0));
    }
    char availability [33];
    s_send (node, "AVAILABILITY", json_pack ("{s:o}", "experts", experts), availability);
    if (!s_wait_for (node, "ACK", availability, 5000))
        bench_fail ("AVAILABILITY was not acknowledged");
}

//  --------------------------------------------------------------------

static void
s_figure_results (const char *what, int64_t size, s_timing_t now, s_timing_t empty)
{
    char metric [96];
    snprintf (metric, sizeof metric, "%s p50, %" PRId64 " stored requests", what, size);
    bool check = size >= 1000000;
    bench_result (metric, now.p50, "ms", "the same with 0 stored", empty.p50,
                  check ? "<= 2.0x" : "-", check ? (now.p50 <= 2.0 * empty.p50 ? "yes" : "no") : "-");
}

int
main (int argc, char *argv [])
{
    const char *bin_dir = argc > 1 ? argv [1] : "build/bin";
    const char *scratch = bench_init ("bench_figures");
    const char *max_text = getenv ("BENCH_FIGURES_MAX");
    int64_t max = max_text && atoll (max_text) > 0 ? atoll (max_text) : 1000000;
    char path [PATH_MAX], broker_dir [PATH_MAX], node_dir [PATH_MAX], endpoint [64];
    printf ("bench_figures: /api/overview and /metrics as the store grows; routing while scraped\n");

    bench_path (broker_dir, sizeof broker_dir, "%s/broker", scratch);
    bench_path (node_dir, sizeof node_dir, "%s/node", scratch);
    const char *names [] = { NODE_NAME }, *dirs [] = { node_dir };
    bench_make_keys (broker_dir, BROKER_NAME, names, dirs, 1);
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", bench_free_port ());
    s_web_t web = { 0 };
    pid_t broker = s_start (bin_dir, scratch, broker_dir, endpoint, &web);
    s_node_t node = { 0 };
    s_node_start (&node, node_dir, endpoint);

    const int64_t sizes [] = { 0, 100000, 1000000 };
    s_timing_t overview [3], metrics [3];
    int points = 0;
    bench_path (path, sizeof path, "%s/broker.db", broker_dir);
    s_grow (path, -WORKING_SET, 0);
    for (int i = 0; i < 3 && sizes [i] <= max; i++, points++) {
        if (i > 0) {
            int64_t start = bench_now_us ();
            s_grow (path, sizes [i - 1], sizes [i]);
            printf ("  store grown to %" PRId64 " requests in %.1f s\n", sizes [i], (bench_now_us () - start) / 1e6);
        }
        overview [i] = s_time_figure (&web, "/api/overview");
        metrics [i] = s_time_figure (&web, "/metrics");
        printf ("  %8" PRId64 " stored: /api/overview p50 %.2f ms p90 %.2f ms (%zu bytes);"
                " /metrics p50 %.2f ms p90 %.2f ms (%zu bytes)\n", sizes [i], overview [i].p50, overview [i].p90,
                overview [i].bytes, metrics [i].p50, metrics [i].p90, metrics [i].bytes);
    }
    for (int i = 1; i < points; i++) {
        s_figure_results ("/api/overview", sizes [i], overview [i], overview [0]);
        s_figure_results ("/metrics", sizes [i], metrics [i], metrics [0]);
    }

    //  Routing at the largest size: alone, then while scraped
    s_route_t quiet = s_route (&node, ROUTE_SECONDS);
    s_scraper_t scraper = { .web = &web };
    pthread_t thread;
    pthread_create (&thread, NULL, s_scraper, &scraper);
    s_route_t scraped = s_route (&node, ROUTE_SECONDS);
    scraper.stop = true;
    pthread_join (thread, NULL);
    printf ("  routing at %" PRId64 " stored: SUBMIT->ACK p50 %.2f p99 %.2f max %.2f ms (%zu) alone;"
            " p50 %.2f p99 %.2f max %.2f ms (%zu) with %zu scrapes\n", sizes [points - 1],
            quiet.p50, quiet.p99, quiet.max, quiet.count, scraped.p50, scraped.p99, scraped.max,
            scraped.count, scraper.scrapes);
    char metric [96];
    snprintf (metric, sizeof metric, "SUBMIT->ACK p99 while scraped, %" PRId64 " stored", sizes [points - 1]);
    bench_result (metric, scraped.p99, "ms", "the same, not scraped", quiet.p99, "<= 2.0x",
                  scraped.p99 <= 2.0 * quiet.p99 ? "yes" : "no");
    snprintf (metric, sizeof metric, "SUBMIT->ACK max while scraped, %" PRId64 " stored", sizes [points - 1]);
    bench_result (metric, scraped.max, "ms", "the same, not scraped", quiet.max, "-", "-");
    if (max < 1000000)
        bench_note ("bench_figures stopped at %" PRId64 " stored requests (BENCH_FIGURES_MAX)", max);

    zsock_destroy (&node.dealer);
    en_signer_destroy (&node.signer);
    return bench_stop (broker) ? 1 : 0;
}
