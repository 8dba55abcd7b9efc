/*  bench_durable - how many consult requests per second the broker
    accepts durably and routes, against the raw SQLite commit rate.

    Baseline A: one row per transaction into a WAL database with
    synchronous=FULL (the settings en_db uses), in the same scratch
    directory as the broker's data, so on the same filesystem. That is
    the rate a broker would reach if it committed each message on its
    own; the broker groups a whole batch in one COMMIT, so the target is
    an ack rate at least equal to it. Baseline A runs before and after
    the broker, and the ratio uses their mean: on a shared, noisy machine
    the spread between the two says how far to trust the ratio.

    The broker: a real expertnet-broker process. This program plays a
    node over a CURVE DEALER: HELLO, AVAILABILITY with EXPERTS experts,
    then SUBMITs for DURATION seconds with up to WINDOW_SMALL, and in a
    second phase WINDOW, unacknowledged, waiting for the last answers
    after each phase. (The two phases show how the cost of a request
    grows with the number of requests open at the broker.) Every SUBMIT is validated, stored,
    routed (an OFFER to an expert and a STATUS to us, both through the
    broker's durable outbox) and acked after COMMIT. We ACK what the
    broker sends, as a node would, and CLOSE each request as soon as its
    OFFER arrives (the broker then withdraws the offer: WITHDRAW and a
    STATUS). Closing keeps the broker in a steady state: open offers
    reserve expert capacity, so without it every expert would be full
    after EXPERTS * 50 requests and the rest would be hiaten.

    Figures: requests per second (SUBMITs acked, each routed to an
    OFFER), all durable acks per second (SUBMIT and CLOSE), and
    submit->ACK latency at that load. The target is checked on the
    request rate, the stricter of the two.

    Usage: bench_durable [BIN_DIR]   (default build/bin)
*/
#include "bench_util.h"

#define SQLITE_SECONDS  2.0         //  per baseline run
#define DURATION        4.0         //  seconds of submitting to the broker
#define WINDOW          500         //  SUBMITs in flight at most
#define WINDOW_SMALL    50          //  ... in the lighter first phase
#define EXPERTS         40          //  experts published, capacity 50 each
#define DRAIN_TIMEOUT   30.0        //  seconds to wait for the last answers
#define NODE_NAME       "bench-node"
#define REGION          "twente"
#define BROKER_NAME     "overijssel"

//  --------------------------------------------------------------------
//  The fake node

typedef struct {
    int64_t at;                 //  us when sent
    bool submit;                //  SUBMIT (else CLOSE)
} s_pending_t;

typedef struct {
    zsock_t *dealer;            //  CURVE client to the broker
    zhashx_t *inflight;         //  msg id -> s_pending_t, until ACK/ERROR
    double *ack_ms;             //  submit->ACK latencies
    size_t acks, ack_size;      //  SUBMITs acked
    size_t sent;                //  SUBMITs sent
    size_t closes;              //  CLOSEs sent
    size_t close_acks;          //  CLOSEs acked
    size_t submit_errors;       //  SUBMITs answered with ERROR
    size_t errors;              //  ERRORs received in all
    size_t offers;              //  OFFERs received (first delivery)
    size_t hiaten;              //  STATUS "hiaat" received
    size_t received;            //  reliable messages received (first delivery)
    zhashx_t *seen;             //  reliable ids from the broker (dedup)
    size_t duplicates;          //  broker retransmissions seen
    int64_t last_ack;           //  us of the last SUBMIT ACK
    int64_t last_offer;         //  us of the last new OFFER
    char run [9];               //  random run id in request ids
    int phase;                  //  phase number, in request ids
    en_signer_t *signer;        //  the fake node signs like a real one
} s_node_t;

static void
s_send (s_node_t *self, const char *command, json_t *body, char *id_out)
{
    bench_send (self->dealer, NODE_NAME, self->signer, command, body, id_out);
}

//  Send a SUBMIT or CLOSE and remember it until answered.
static void
s_send_tracked (s_node_t *self, const char *command, json_t *body)
{
    char msg_id [33];
    s_send (self, command, body, msg_id);
    s_pending_t *pending = (s_pending_t *) malloc (sizeof (s_pending_t));
    pending->at = bench_now_us ();
    pending->submit = streq (command, "SUBMIT");
    zhashx_insert (self->inflight, msg_id, pending);
}

//  SUBMITs sent and not yet answered.
static size_t
s_submits_inflight (s_node_t *self)
{
    return self->sent - self->acks - self->submit_errors;
}

static void
s_submit (s_node_t *self)
{
    char request_id [64];
    snprintf (request_id, sizeof request_id, "bench-%s-%d-%zu", self->run, self->phase, self->sent);
    s_send_tracked (self, "SUBMIT", json_pack ("{s:o}", "request", bench_request (request_id, REGION)));
    self->sent++;
}

//  The ACK or ERROR of one message we sent
static void
s_on_answer (s_node_t *self, bool ack, const char *ref, json_t *body, int64_t now)
{
    s_pending_t *pending = ref ? (s_pending_t *) zhashx_lookup (self->inflight, ref) : NULL;
    if (pending && ack && pending->submit) {
        if (self->acks == self->ack_size) {
            self->ack_size = self->ack_size ? self->ack_size * 2 : 4096;
            self->ack_ms = (double *) realloc (self->ack_ms, self->ack_size * sizeof (double));
        }
        self->ack_ms [self->acks++] = (now - pending->at) / 1000.0;
        self->last_ack = now;
    }
    else
    if (pending && ack)
        self->close_acks++;
    if (!ack) {
        if (self->errors++ == 0)
            fprintf (stderr, "bench: broker sent ERROR: %s\n", en_json_str (body, "reason") ?: "?");
        if (pending && pending->submit)
            self->submit_errors++;
    }
    if (pending)
        zhashx_delete (self->inflight, ref);
}

//  OFFER / STATUS / WITHDRAW: act on the first delivery (the caller
//  ACKs every one). True if it was an OFFER.
static bool
s_on_reliable (s_node_t *self, en_msg_t *msg, int64_t now)
{
    const char *command = en_msg_command (msg);
    json_t *body = en_msg_body (msg);
    bool offer = false;
    bool first = zhashx_insert (self->seen, en_msg_id (msg), (void *) 1) == 0;
    if (!first)
        self->duplicates++;
    else {
        self->received++;
        const char *state = en_json_str (body, "state");
        if (streq (command, "OFFER")) {
            offer = true;
            self->offers++;
            self->last_offer = now;
            //  The origin closes its request: frees the expert's place
            const char *request = en_json_str (body, "request_id");
            if (request) {
                s_send_tracked (self, "CLOSE", json_pack ("{s:s, s:s}", "request", request,
                                                          "outcome", "benchmark"));
                self->closes++;
            }
        }
        else
        if (streq (command, "STATUS") && state && streq (state, "hiaat"))
            self->hiaten++;
    }
    return offer;
}

//  Handle one message from the broker. Returns its command (static) or NULL.
static const char *
s_receive (s_node_t *self, char *ref_out)
{
    zmsg_t *raw = zmsg_recv (self->dealer);
    if (!raw)
        return NULL;
    en_error_t error;
    en_msg_t *msg = en_msg_decode (raw, &error);
    zmsg_destroy (&raw);
    if (!msg)
        bench_fail ("undecodable message from the broker: %s", error.reason);
    int64_t now = bench_now_us ();
    const char *command = en_msg_command (msg);
    json_t *body = en_msg_body (msg);
    const char *ref = en_json_str (body, "ref");
    static const char *commands [] = { "ACK", "ERROR", "WELCOME", "OFFER", "OTHER" };
    const char *which = commands [4];
    if (ref_out)
        snprintf (ref_out, 33, "%s", ref ? ref : "");
    if (streq (command, "ACK")) {
        //  Cumulative (EXPN/3): every message of a batch in one ACK
        which = commands [0];
        json_t *refs = en_msg_ack_refs (msg, NULL);
        size_t index;
        json_t *item;
        json_array_foreach (refs, index, item)
            s_on_answer (self, true, json_string_value (item), body, now);
        if (ref_out && json_array_size (refs))
            snprintf (ref_out, 33, "%s", json_string_value (json_array_get (refs, 0)));
        json_decref (refs);
    }
    else
    if (streq (command, "ERROR")) {
        which = commands [1];
        s_on_answer (self, false, ref, body, now);
    }
    else
    if (en_msg_command_reliable (command)) {
        if (s_on_reliable (self, msg, now))
            which = commands [3];
        s_send (self, "ACK", json_pack ("{s:s}", "ref", en_msg_id (msg)), NULL);
    }
    else
    if (streq (command, "BATCH")) {
        //  EXPN/3: the broker's OFFERs and STATUSes under one signature;
        //  each handled as if alone, one cumulative ACK for them all (as
        //  a node answers a batch)
        zlistx_t *msgs = en_msg_unbatch (msg, &error);
        if (!msgs)
            bench_fail ("malformed BATCH from the broker: %s", error.reason);
        json_t *refs = json_array ();
        for (en_msg_t *inner = (en_msg_t *) zlistx_first (msgs); inner; inner = (en_msg_t *) zlistx_next (msgs)) {
            if (s_on_reliable (self, inner, now))
                which = commands [3];
            json_array_append_new (refs, json_string (en_msg_id (inner)));
        }
        s_send (self, "ACK", json_pack ("{s:o}", "refs", refs), NULL);
        zlistx_destroy (&msgs);
    }
    else
    if (streq (command, "WELCOME"))
        which = commands [2];
    en_msg_destroy (&msg);
    return which;
}

//  Wait up to timeout_ms for a message whose command is `command` (and,
//  if ref is given, refers to ref), handling everything else.
static bool
s_wait_for (s_node_t *self, const char *command, const char *ref, int timeout_ms)
{
    int64_t give_up = bench_now_us () + timeout_ms * 1000LL;
    while (bench_now_us () < give_up) {
        if (!bench_poll (self->dealer, 100))
            continue;
        char got_ref [33];
        const char *got = s_receive (self, got_ref);
        if (got && streq (got, command) && (!ref || streq (got_ref, ref)))
            return true;
    }
    return false;
}

//  --------------------------------------------------------------------
//  One measured phase

typedef struct {
    double request_rate;        //  SUBMITs acked per second
    double durable_rate;        //  SUBMIT + CLOSE acks per second
    double ack_p50, ack_p99;    //  submit->ACK, ms
    double broker_cpu_pct;      //  of one core
    double cpu_us;              //  broker CPU per request
    double node_cpu_us;         //  the fake node's CPU per request
    size_t retransmissions;     //  OFFER/STATUS/WITHDRAW received again
    size_t requests;            //  SUBMITs acked
    bool failed;                //  ERRORs, lost or unrouted requests
} s_phase_t;

//  Keep `window` SUBMITs in flight for DURATION s, then wait for every
//  answer and for the broker's outbox to drain.
static s_phase_t
s_phase (s_node_t *node, pid_t broker, const char *broker_dir, size_t window)
{
    node->phase++;
    node->sent = node->acks = node->closes = node->close_acks = 0;
    node->submit_errors = node->errors = node->offers = node->hiaten = 0;
    node->received = node->duplicates = 0;
    node->last_ack = 0;
    double broker_cpu = bench_cpu_seconds (broker);
    double own_cpu = bench_cpu_seconds (0);
    int64_t start = bench_now_us ();
    int64_t stop_sending = start + (int64_t) (DURATION * 1e6);
    int64_t give_up = stop_sending + (int64_t) (DRAIN_TIMEOUT * 1e6);
    int64_t last_answer = start;        //  us of the last ACK of any kind
    while (true) {
        int64_t now = bench_now_us ();
        if (now >= give_up)
            break;
        while (now < stop_sending && s_submits_inflight (node) < window)
            s_submit (node);
        if (now >= stop_sending && zhashx_size (node->inflight) == 0
        &&  node->offers + node->hiaten >= node->acks)
            break;
        if (bench_poll (node->dealer, 100))
            while (zsock_events (node->dealer) & ZMQ_POLLIN) {
                const char *got = s_receive (node, NULL);
                if (got && streq (got, "ACK"))
                    last_answer = bench_now_us ();
            }
    }
    s_phase_t result = { 0 };
    double ack_seconds = (node->last_ack - start) / 1e6;
    double all_seconds = (last_answer - start) / 1e6;
    size_t missing = zhashx_size (node->inflight);
    broker_cpu = bench_cpu_seconds (broker) - broker_cpu;
    own_cpu = bench_cpu_seconds (0) - own_cpu;

    //  Let the broker's outbox drain (our last ACKs), then read its counts
    int64_t settle = bench_now_us () + 1000000;
    while (bench_now_us () < settle)
        if (bench_poll (node->dealer, 50))
            s_receive (node, NULL);
    json_t *status = NULL;
    en_control_call (broker_dir, "status", NULL, 5000, &status, NULL);
    json_int_t outbox = status ? en_json_int (status, "outbox", -1) : -1;
    json_int_t open_offers = status ? en_json_int (status, "offers_open", -1) : -1;
    json_decref (status);

    result.request_rate = node->acks / ack_seconds;
    result.requests = node->acks;
    result.durable_rate = (node->acks + node->close_acks) / all_seconds;
    bench_sort (node->ack_ms, node->acks);
    result.ack_p50 = bench_percentile (node->ack_ms, node->acks, 50);
    result.ack_p99 = bench_percentile (node->ack_ms, node->acks, 99);
    result.broker_cpu_pct = 100 * broker_cpu / all_seconds;
    result.cpu_us = 1e6 * broker_cpu / node->acks;
    result.node_cpu_us = 1e6 * own_cpu / node->acks;
    result.retransmissions = node->duplicates;
    printf ("  window %zu: %zu SUBMITs acked in %.2f s = %.0f/s (%zu routed to an OFFER, %zu hiaten),"
            " %zu CLOSEs acked; %zu ERRORs, %zu unanswered, %zu retransmissions;"
            " broker CPU %.0f%%, fake node %.0f%%; after: outbox %lld, open offers %lld\n",
            window, node->acks, ack_seconds, result.request_rate, node->offers, node->hiaten,
            node->close_acks, node->errors, missing, node->duplicates, result.broker_cpu_pct,
            100 * own_cpu / all_seconds, (long long) outbox, (long long) open_offers);
    fflush (stdout);
    result.failed = node->errors || missing || node->offers + node->hiaten < node->acks;
    if (result.failed)
        fprintf (stderr, "bench: window %zu did not complete: %zu ERRORs, %zu unanswered, %zu of %zu routed\n",
                 window, node->errors, missing, node->offers + node->hiaten, node->acks);
    return result;
}

//  What 1x of baseline A leaves the broker, on this machine: every core
//  for baseline-A's interval per request, less what the fake node spends
//  and the two end-to-end signature checks any design keeping provenance
//  must make (SUBMIT and CLOSE). Printed against what the broker spends
//  on everything else now: the cut that 1x would take.
static void
s_budget (const s_phase_t *phase, double baseline, double verify_us)
{
    long cores = sysconf (_SC_NPROCESSORS_ONLN);
    double interval_us = 1e6 / baseline;
    double room_us = cores * interval_us - phase->node_cpu_us - 2 * verify_us;
    double rest_us = phase->cpu_us - 2 * verify_us;
    bench_result ("Ed25519 verify of a SUBMIT", verify_us, "us",
                  "SQLite 1-row commit interval (us)", interval_us, "-", "-");
    bench_result ("broker CPU/request besides 2 verifies", rest_us, "us",
                  "room for it at 1x (us)", room_us, "<= 1.0x", rest_us <= room_us ? "yes" : "no");
    bench_note ("budget at 1x of baseline A: %ld cores x %.0f us = %.0f us of CPU per request for broker and"
                " fake node together; the fake node spends %.0f us, the broker's two end-to-end verifies %.0f us,"
                " leaving %.0f us for the rest of the broker's work, which takes %.0f us now",
                cores, interval_us, cores * interval_us, phase->node_cpu_us, 2 * verify_us,
                room_us, rest_us);
}

//  The end-to-end signature check a request costs the broker at least:
//  a SUBMIT as this node sends it, signed, verified again and again for
//  VERIFY_SECONDS. Microseconds per verify.
#define VERIFY_SECONDS  0.5

static double
s_verify_us (en_signer_t *signer)
{
    json_t *body = json_pack ("{s:o}", "request", bench_request ("bench-verify-0", REGION));
    en_msg_t *msg = en_msg_new ("SUBMIT", NODE_NAME, body);
    en_msg_sign (msg, signer);
    size_t count = 0;
    int64_t start = bench_now_us (), end = start + (int64_t) (VERIFY_SECONDS * 1e6), now = start;
    while (now < end) {
        for (int i = 0; i < 64; i++, count++)
            if (!en_msg_verify (msg, en_signer_public (signer)))
                bench_fail ("a SUBMIT the bench signed does not verify");
        now = bench_now_us ();
    }
    en_msg_destroy (&msg);
    return (double) (now - start) / count;
}

//  BENCH_SQL_COUNT=1: the statements the broker ran (en_db counts them
//  into path, see lib/en_db.c), per routed request, and the most run
static void
s_sql_report (const char *path, size_t requests)
{
    FILE *file = fopen (path, "r");
    if (!file || !requests) {
        bench_note ("statements per request: not counted (%s)", path);
        if (file)
            fclose (file);
        return;
    }
    zlistx_t *lines = zlistx_new ();
    zlistx_set_destructor (lines, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_comparator (lines, (zlistx_comparator_fn *) strcmp);
    char line [4096];
    unsigned long total = 0;
    while (fgets (line, sizeof line, file)) {
        total += strtoul (line, NULL, 10);
        line [strcspn (line, "\n")] = 0;
        char *tab = strchr (line, '\t');
        zlistx_add_end (lines, zsys_sprintf ("%012lu %.100s", strtoul (line, NULL, 10), tab ? tab + 1 : ""));
    }
    fclose (file);
    zlistx_sort (lines);
    //  Distinct texts: SQL built per call (a list spliced in, say) would
    //  make this grow with the requests, and each text costs a prepare
    //  and a place in en_db's statement cache
    bench_note ("statements per request: %.1f (%lu statements, %zu distinct texts, %zu requests); most run:",
                (double) total / requests, total, zlistx_size (lines), requests);
    int shown = 0;
    for (char *entry = (char *) zlistx_last (lines); entry && shown < 25; entry = (char *) zlistx_prev (lines), shown++)
        printf ("    %6.2f  %s\n", strtod (entry, NULL) / requests, entry + 13);
    zlistx_destroy (&lines);
}

int
main (int argc, char *argv [])
{
    const char *bin_dir = argc > 1 ? argv [1] : "build/bin";
    const char *scratch = bench_init ("bench_durable");
    char path [PATH_MAX], broker_dir [PATH_MAX], node_dir [PATH_MAX], endpoint [64];

    printf ("bench_durable: broker durable ack rate vs raw SQLite commit rate\n");
    bench_path (path, sizeof path, "%s/baseline-1.db", scratch);
    bench_sqlite_t before = bench_sqlite_commits (path, SQLITE_SECONDS);
    printf ("  baseline A (before): %.0f commits/s, commit p50 %.3f ms p99 %.3f ms (%zu commits)\n",
            before.rate, before.p50_ms, before.p99_ms, before.commits);

    //  Broker with our fake node enrolled
    bench_path (broker_dir, sizeof broker_dir, "%s/broker", scratch);
    bench_path (node_dir, sizeof node_dir, "%s/node", scratch);
    const char *names [] = { NODE_NAME }, *dirs [] = { node_dir };
    bench_make_keys (broker_dir, BROKER_NAME, names, dirs, 1);
    bench_enroll_region (broker_dir, NODE_NAME, REGION);
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", bench_free_port ());
    char sql_count [PATH_MAX] = "";
    if (getenv ("BENCH_SQL_COUNT")) {
        bench_path (sql_count, sizeof sql_count, "%s/sql-count.tsv", scratch);
        setenv ("EXPERTNET_SQL_COUNT", sql_count, 1);
    }
    pid_t broker = bench_start_broker (bin_dir, broker_dir, endpoint);
    unsetenv ("EXPERTNET_SQL_COUNT");

    en_error_t error = { 0 };
    bench_path (path, sizeof path, "%s/keys", node_dir);
    zcert_t *cert = en_keys_load_secret (path, NODE_NAME, &error);
    bench_path (path, sizeof path, "%s/keys/broker.cert", node_dir);
    zcert_t *server = en_keys_load_public (path, &error);
    if (!cert || !server)
        bench_fail ("%s", error.reason);

    s_node_t node = { 0 };
    bench_path (path, sizeof path, "%s/keys", node_dir);
    node.signer = en_signer_load (path, NODE_NAME, &error);
    if (!node.signer)
        bench_fail ("%s", error.reason);
    node.inflight = zhashx_new ();
    zhashx_set_destructor (node.inflight, bench_free_item);
    node.seen = zhashx_new ();
    en_random_hex (node.run, 8);
    node.dealer = zsock_new (ZMQ_DEALER);
    en_keys_client (node.dealer, cert, zcert_public_txt (server));
    zsock_set_linger (node.dealer, 0);
    zsock_set_sndhwm (node.dealer, 100000);
    zsock_set_rcvhwm (node.dealer, 100000);
    zsock_set_maxmsgsize (node.dealer, EN_MAX_WIRE);
    if (zsock_connect (node.dealer, "%s", endpoint))
        bench_fail ("cannot connect to %s", endpoint);

    //  HELLO until WELCOME
    bool welcomed = false;
    for (int attempt = 0; attempt < 10 && !welcomed; attempt++) {
        s_send (&node, "HELLO", json_pack ("{s:s, s:s, s:s}", "node", NODE_NAME,
                "region", REGION, "version", EXPERTNET_VERSION), NULL);
        welcomed = s_wait_for (&node, "WELCOME", NULL, 1000);
    }
    if (!welcomed) {
        bench_path (path, sizeof path, "%s/broker.log", broker_dir);
        bench_log_tail (path);
        bench_fail ("no WELCOME from the broker");
    }
    json_t *experts = json_array ();
    for (int i = 0; i < EXPERTS; i++) {
        char id [32];
        snprintf (id, sizeof id, "expert-%d", i);
        json_array_append_new (experts, json_pack ("{s:s, s:s, s:s, s:[s,s], s:i, s:b}",
            "id", id, "role", "superexpert", "region", REGION,
            "expertise", "trauma", "hechting", "capacity", EN_MAX_CAPACITY, "bovenregionaal", 0));
    }
    char availability [33];
    s_send (&node, "AVAILABILITY", json_pack ("{s:o}", "experts", experts), availability);
    if (!s_wait_for (&node, "ACK", availability, 5000))
        bench_fail ("AVAILABILITY was not acknowledged");

    s_phase_t small = s_phase (&node, broker, broker_dir, WINDOW_SMALL);
    s_phase_t large = s_phase (&node, broker, broker_dir, WINDOW);

    double verify_us = s_verify_us (node.signer);
    zsock_destroy (&node.dealer);
    zcert_destroy (&cert);
    zcert_destroy (&server);
    zhashx_destroy (&node.inflight);
    en_signer_destroy (&node.signer);
    zhashx_destroy (&node.seen);
    free (node.ack_ms);
    int exit_status = bench_stop (broker);
    if (*sql_count)
        s_sql_report (sql_count, small.requests + large.requests);

    bench_path (path, sizeof path, "%s/baseline-2.db", scratch);
    bench_sqlite_t after = bench_sqlite_commits (path, SQLITE_SECONDS);
    printf ("  baseline A (after):  %.0f commits/s, commit p50 %.3f ms p99 %.3f ms (%zu commits)\n",
            after.rate, after.p50_ms, after.p99_ms, after.commits);

    double baseline = (before.rate + after.rate) / 2;
    bench_result ("requests accepted+routed/s, window 500", large.request_rate, "/s",
                  "SQLite 1-row commits/s", baseline, ">= 1.0x",
                  large.request_rate >= baseline ? "yes" : "no");
    bench_result ("durable acks/s (SUBMIT+CLOSE), window 500", large.durable_rate, "/s",
                  "SQLite 1-row commits/s", baseline, "-", "-");
    bench_result ("submit->ACK p50, window 500", large.ack_p50, "ms",
                  "SQLite 1-row commit p50", (before.p50_ms + after.p50_ms) / 2, "-", "-");
    bench_result ("requests accepted+routed/s, window 50", small.request_rate, "/s",
                  "SQLite 1-row commits/s", baseline, "-", "-");
    bench_result ("submit->ACK p50, window 50", small.ack_p50, "ms",
                  "SQLite 1-row commit p50", (before.p50_ms + after.p50_ms) / 2, "-", "-");
    bench_result ("submit->ACK p99, window 50", small.ack_p99, "ms",
                  "SQLite 1-row commit p99", (before.p99_ms + after.p99_ms) / 2, "-", "-");
    bench_note ("broker CPU: %.0f%% of one core at window 500 (%.0f us per request), %.0f%% at window 50"
                " (%.0f us); %zu and %zu broker retransmissions",
                large.broker_cpu_pct, large.cpu_us, small.broker_cpu_pct, small.cpu_us,
                large.retransmissions, small.retransmissions);
    s_budget (&large, baseline, verify_us);
    bench_note ("baseline A: %.0f commits/s before, %.0f after the broker runs (spread %.0f%%)",
                before.rate, after.rate, 100.0 * fabs (before.rate - after.rate) / baseline);
    if (small.failed || large.failed) {
        bench_path (path, sizeof path, "%s/broker.log", broker_dir);
        bench_log_tail (path);
        bench_fail ("a run did not complete (see above)");
    }
    if (!WIFEXITED (exit_status) || WEXITSTATUS (exit_status) != 0)
        fprintf (stderr, "bench: expertnet-broker did not stop cleanly (status %d)\n", exit_status);
    return 0;
}
