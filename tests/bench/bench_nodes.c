/*  bench_nodes - the broker's durable routed requests per second with 3,
    42 and 200 connected nodes: the "connected nodes" axis of the scaling
    table (issue 12), each as a ratio to the figure with 3 nodes.

    For each node count a fresh expertnet-broker (its own data directory)
    with that many nodes enrolled, all for one region. This program plays
    every node over its own CURVE DEALER, with its own keys and signer:
    HELLO, then AVAILABILITY with its share of TOTAL_EXPERTS experts (the
    number of experts stays the same, only the nodes that hold them
    change). Then for DURATION seconds SUBMITs go out from the nodes in
    turn, WINDOW in flight at most in all; the broker stores, routes and
    acks each after COMMIT, and sends an OFFER to the node of the chosen
    expert (least loaded first, so offers spread over all nodes) and a
    STATUS to the origin. Every node ACKs what it receives; the origin
    CLOSEs its request as soon as the OFFER arrives (at whichever node),
    which keeps experts free, as in bench_durable.

    WINDOW is bench_durable's small window: with 500 in flight a slow disk
    pushes acks past the broker's retry interval (issue 12, target 4) and
    retransmissions would blur what the node count costs.

    Figures per node count: requests acked and routed per second, and the
    broker's CPU per request; the 3-node figures are also set against the
    raw SQLite one-row commit rate of the same run (before and after).

    Usage: bench_nodes [BIN_DIR]   (default build/bin)
*/
#define BENCH_MAX_CHILDREN 4
#include "bench_util.h"

#define SQLITE_SECONDS  2.0         //  per baseline run
#define DURATION        4.0         //  seconds of submitting per node count
#define WINDOW          50          //  SUBMITs in flight at most, all nodes
#define TOTAL_EXPERTS   600         //  spread over the nodes
#define DRAIN_TIMEOUT   30.0        //  seconds to wait for the last answers
#define REGION          "twente"
#define BROKER_NAME     "overijssel"
#define MAX_NODES       200

static const int s_counts [] = { 3, 42, 200 };
#define COUNTS (int) (sizeof s_counts / sizeof s_counts [0])

typedef struct {
    char name [16];
    zsock_t *dealer;
    en_signer_t *signer;
} s_node_t;

typedef struct {
    int64_t at;                 //  us when sent
    bool submit;                //  SUBMIT (else CLOSE)
} s_pending_t;

typedef struct {
    s_node_t nodes [MAX_NODES];
    int count;
    zmq_pollitem_t items [MAX_NODES];
    zhashx_t *inflight;         //  msg id -> s_pending_t, until ACK/ERROR
    zhashx_t *seen;             //  reliable ids from the broker (dedup)
    size_t sent, acks, submit_errors, errors, closes, close_acks;
    size_t offers, hiaten, duplicates, welcomed;
    int64_t last_ack;
    char run [9];
} s_net_t;

static void
s_send (s_net_t *self, int node, const char *command, json_t *body, bool tracked)
{
    s_node_t *from = &self->nodes [node];
    char msg_id [33];
    bench_send (from->dealer, from->name, from->signer, command, body, msg_id);
    if (tracked) {
        s_pending_t *pending = (s_pending_t *) malloc (sizeof (s_pending_t));
        pending->at = bench_now_us ();
        pending->submit = streq (command, "SUBMIT");
        zhashx_insert (self->inflight, msg_id, pending);
    }
}

//  ACK or ERROR for something a node sent (body: its own reference).
static void
s_on_answer (s_net_t *self, bool ack, json_t *body_owned)
{
    json_t *body = body_owned;
    const char *ref = en_json_str (body, "ref");
    s_pending_t *pending = ref ? (s_pending_t *) zhashx_lookup (self->inflight, ref) : NULL;
    if (pending && ack && pending->submit) {
        self->acks++;
        self->last_ack = bench_now_us ();
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
    json_decref (body_owned);
}

//  OFFER / STATUS / WITHDRAW to node: ACK every delivery, act on the
//  first. The origin (its index is in the request id) closes on OFFER.
static void
s_on_reliable (s_net_t *self, int node, en_msg_t *msg, bool ack)
{
    json_t *body = en_msg_body (msg);
    const char *command = en_msg_command (msg);
    if (zhashx_insert (self->seen, en_msg_id (msg), (void *) 1))
        self->duplicates++;
    else
    if (streq (command, "OFFER")) {
        self->offers++;
        const char *request = en_json_str (body, "request_id");
        int origin = -1;
        if (request && sscanf (request, "bench-%*8s-%d-", &origin) == 1
        &&  origin >= 0 && origin < self->count) {
            s_send (self, origin, "CLOSE", json_pack ("{s:s, s:s}", "request", request,
                                                      "outcome", "benchmark"), true);
            self->closes++;
        }
    }
    else
    if (streq (command, "STATUS") && streq (en_json_str (body, "state") ?: "", "hiaat"))
        self->hiaten++;
    if (ack)
        s_send (self, node, "ACK", json_pack ("{s:s}", "ref", en_msg_id (msg)), false);
}

//  EXPN/3: a BATCH of OFFERs and STATUSes, each handled as if alone, one
//  cumulative ACK for them all (as a node answers a batch)
static void
s_on_batch (s_net_t *self, int node, en_msg_t *batch)
{
    en_error_t error = { 0 };
    zlistx_t *msgs = en_msg_unbatch (batch, &error);
    if (!msgs)
        bench_fail ("malformed BATCH from the broker: %s", error.reason);
    json_t *refs = json_array ();
    for (en_msg_t *msg = (en_msg_t *) zlistx_first (msgs); msg; msg = (en_msg_t *) zlistx_next (msgs)) {
        s_on_reliable (self, node, msg, false);
        json_array_append_new (refs, json_string (en_msg_id (msg)));
    }
    s_send (self, node, "ACK", json_pack ("{s:o}", "refs", refs), false);
    zlistx_destroy (&msgs);
}

//  Handle every message waiting at node.
static void
s_receive (s_net_t *self, int node)
{
    zsock_t *dealer = self->nodes [node].dealer;
    while (zsock_events (dealer) & ZMQ_POLLIN) {
        zmsg_t *raw = zmsg_recv (dealer);
        en_error_t error;
        en_msg_t *msg = raw ? en_msg_decode (raw, &error) : NULL;
        zmsg_destroy (&raw);
        if (!msg)
            bench_fail ("undecodable message from the broker");
        const char *command = en_msg_command (msg);
        if (streq (command, "ACK")) {
            //  Cumulative (EXPN/3): one answer per message it names
            json_t *refs = en_msg_ack_refs (msg, NULL);
            size_t index;
            json_t *item;
            json_array_foreach (refs, index, item)
                s_on_answer (self, true, json_pack ("{s:O}", "ref", item));
            json_decref (refs);
        }
        else
        if (streq (command, "ERROR"))
            s_on_answer (self, false, json_incref (en_msg_body (msg)));
        else
        if (en_msg_command_reliable (command))
            s_on_reliable (self, node, msg, true);
        else
        if (streq (command, "BATCH"))
            s_on_batch (self, node, msg);
        else
        if (streq (command, "WELCOME"))
            self->welcomed++;
        en_msg_destroy (&msg);
    }
}

//  Wait up to timeout_ms for messages at any node and handle them.
static void
s_poll (s_net_t *self, int timeout_ms)
{
    if (zmq_poll (self->items, self->count, timeout_ms) <= 0)
        return;
    for (int i = 0; i < self->count; i++)
        if (self->items [i].revents & ZMQ_POLLIN)
            s_receive (self, i);
}

//  Keys for count nodes "n000".."nNNN" enrolled at a new broker in dir,
//  all for REGION; each node's DEALER connected to endpoint.
static void
s_net_open (s_net_t *self, const char *dir, int count, const char *endpoint)
{
    char broker_dir [PATH_MAX], node_dirs [MAX_NODES][PATH_MAX], path [PATH_MAX];
    const char *names [MAX_NODES], *dirs [MAX_NODES];
    self->count = count;
    for (int i = 0; i < count; i++) {
        snprintf (self->nodes [i].name, sizeof self->nodes [i].name, "n%03d", i);
        bench_path (node_dirs [i], sizeof node_dirs [i], "%s/%s", dir, self->nodes [i].name);
        names [i] = self->nodes [i].name;
        dirs [i] = node_dirs [i];
    }
    bench_path (broker_dir, sizeof broker_dir, "%s/broker", dir);
    bench_make_keys (broker_dir, BROKER_NAME, names, dirs, count);
    for (int i = 0; i < count; i++)
        bench_enroll_region (broker_dir, names [i], REGION);
    for (int i = 0; i < count; i++) {
        s_node_t *node = &self->nodes [i];
        en_error_t error = { 0 };
        bench_path (path, sizeof path, "%s/keys", node_dirs [i]);
        zcert_t *cert = en_keys_load_secret (path, node->name, &error);
        node->signer = cert ? en_signer_load (path, node->name, &error) : NULL;
        bench_path (path, sizeof path, "%s/keys/broker.cert", node_dirs [i]);
        zcert_t *server = node->signer ? en_keys_load_public (path, &error) : NULL;
        if (!server)
            bench_fail ("%s", error.reason);
        node->dealer = zsock_new (ZMQ_DEALER);
        en_keys_client (node->dealer, cert, zcert_public_txt (server));
        zsock_set_linger (node->dealer, 0);
        zsock_set_sndhwm (node->dealer, 100000);
        zsock_set_rcvhwm (node->dealer, 100000);
        zsock_set_maxmsgsize (node->dealer, EN_MAX_WIRE);
        if (zsock_connect (node->dealer, "%s", endpoint))
            bench_fail ("cannot connect to %s", endpoint);
        self->items [i] = (zmq_pollitem_t) { zsock_resolve (node->dealer), 0, ZMQ_POLLIN, 0 };
        zcert_destroy (&cert);
        zcert_destroy (&server);
    }
    self->inflight = zhashx_new ();
    zhashx_set_destructor (self->inflight, bench_free_item);
    self->seen = zhashx_new ();
    en_random_hex (self->run, 8);
}

static void
s_net_close (s_net_t *self)
{
    for (int i = 0; i < self->count; i++) {
        zsock_destroy (&self->nodes [i].dealer);
        en_signer_destroy (&self->nodes [i].signer);
    }
    zhashx_destroy (&self->inflight);
    zhashx_destroy (&self->seen);
}

//  HELLO from every node until each has its WELCOME, then each node's
//  experts, until every AVAILABILITY is acked.
static void
s_net_join (s_net_t *self)
{
    int64_t give_up = bench_now_us () + 20000000;
    for (int attempt = 0; self->welcomed < (size_t) self->count && bench_now_us () < give_up; attempt++) {
        self->welcomed = 0;
        for (int i = 0; i < self->count; i++)
            s_send (self, i, "HELLO", json_pack ("{s:s, s:s, s:s}", "node", self->nodes [i].name,
                    "region", REGION, "version", EXPERTNET_VERSION), false);
        int64_t wait = bench_now_us () + 2000000;
        while (self->welcomed < (size_t) self->count && bench_now_us () < wait)
            s_poll (self, 100);
    }
    if (self->welcomed < (size_t) self->count)
        bench_fail ("%zu of %d nodes welcomed", self->welcomed, self->count);
    int per_node = TOTAL_EXPERTS / self->count;
    for (int i = 0; i < self->count; i++) {
        json_t *experts = json_array ();
        for (int e = 0; e < per_node; e++) {
            char id [32];
            snprintf (id, sizeof id, "x%03d-%d", i, e);
            json_array_append_new (experts, json_pack ("{s:s, s:s, s:s, s:[s,s], s:i, s:b}",
                "id", id, "role", "superexpert", "region", REGION,
                "expertise", "trauma", "hechting", "capacity", EN_MAX_CAPACITY, "bovenregionaal", 0));
        }
        s_send (self, i, "AVAILABILITY", json_pack ("{s:o}", "experts", experts), true);
    }
    int64_t wait = bench_now_us () + 20000000;
    while (zhashx_size (self->inflight) > 0 && self->errors == 0 && bench_now_us () < wait)
        s_poll (self, 100);
    if (zhashx_size (self->inflight) > 0 || self->errors)
        bench_fail ("%zu AVAILABILITY messages not acknowledged", zhashx_size (self->inflight));
    self->close_acks = 0;               //  counted the AVAILABILITY acks
}

typedef struct {
    double rate;                //  SUBMITs acked (and routed) per second
    double cpu_us;              //  broker CPU per request
    bool failed;
} s_figures_t;

static void
s_submit (s_net_t *self)
{
    int origin = (int) (self->sent % (size_t) self->count);
    char id [64];
    snprintf (id, sizeof id, "bench-%s-%d-%zu", self->run, origin, self->sent);
    s_send (self, origin, "SUBMIT", json_pack ("{s:o}", "request", bench_request (id, REGION)), true);
    self->sent++;
}

//  Keep WINDOW SUBMITs in flight for DURATION s, then wait for every
//  answer and every OFFER.
static s_figures_t
s_measure (s_net_t *self, pid_t broker)
{
    double broker_cpu = bench_cpu_seconds (broker);
    int64_t start = bench_now_us ();
    int64_t stop_sending = start + (int64_t) (DURATION * 1e6);
    int64_t give_up = stop_sending + (int64_t) (DRAIN_TIMEOUT * 1e6);
    while (bench_now_us () < give_up) {
        int64_t now = bench_now_us ();
        while (now < stop_sending && self->sent - self->acks - self->submit_errors < WINDOW)
            s_submit (self);
        if (now >= stop_sending && zhashx_size (self->inflight) == 0
        &&  self->offers + self->hiaten >= self->acks)
            break;
        s_poll (self, 100);
    }
    broker_cpu = bench_cpu_seconds (broker) - broker_cpu;
    size_t missing = zhashx_size (self->inflight);
    s_figures_t figures = {
        .rate = self->acks / ((self->last_ack - start) / 1e6),
        .cpu_us = 1e6 * broker_cpu / (self->acks ? self->acks : 1),
        .failed = self->errors || missing || self->offers + self->hiaten < self->acks
    };
    printf ("  %d nodes: %zu SUBMITs acked in %.2f s = %.0f/s (%zu routed to an OFFER, %zu hiaten),"
            " %zu CLOSEs acked; %zu ERRORs, %zu unanswered, %zu retransmissions;"
            " broker CPU %.0f us per request\n", self->count, self->acks,
            (self->last_ack - start) / 1e6, figures.rate, self->offers, self->hiaten,
            self->close_acks, self->errors, missing, self->duplicates, figures.cpu_us);
    fflush (stdout);
    return figures;
}

//  One node count: a fresh broker, the nodes joined, one measurement.
static s_figures_t
s_run (const char *bin_dir, const char *scratch, int count)
{
    char dir [PATH_MAX], broker_dir [PATH_MAX], endpoint [64];
    bench_path (dir, sizeof dir, "%s/nodes-%d", scratch, count);
    bench_path (broker_dir, sizeof broker_dir, "%s/broker", dir);
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", bench_free_port ());
    s_net_t *net = (s_net_t *) calloc (1, sizeof (s_net_t));
    s_net_open (net, dir, count, endpoint);
    pid_t broker = bench_start_broker (bin_dir, broker_dir, endpoint);
    s_net_join (net);
    s_figures_t figures = s_measure (net, broker);
    s_net_close (net);
    free (net);
    int status = bench_stop (broker);
    if (figures.failed) {
        char log [PATH_MAX];
        bench_path (log, sizeof log, "%s/broker.log", broker_dir);
        bench_log_tail (log);
        bench_fail ("the run with %d nodes did not complete (see above)", count);
    }
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        fprintf (stderr, "bench: expertnet-broker did not stop cleanly (status %d)\n", status);
    return figures;
}

int
main (int argc, char *argv [])
{
    const char *bin_dir = argc > 1 ? argv [1] : "build/bin";
    const char *scratch = bench_init ("bench_nodes");
    char path [PATH_MAX];
    printf ("bench_nodes: durable routed requests/s with 3, 42 and 200 connected nodes\n");
    bench_path (path, sizeof path, "%s/baseline-1.db", scratch);
    bench_sqlite_t before = bench_sqlite_commits (path, SQLITE_SECONDS);
    printf ("  baseline A (before): %.0f commits/s\n", before.rate);
    s_figures_t figures [COUNTS];
    for (int i = 0; i < COUNTS; i++)
        figures [i] = s_run (bin_dir, scratch, s_counts [i]);
    bench_path (path, sizeof path, "%s/baseline-2.db", scratch);
    bench_sqlite_t after = bench_sqlite_commits (path, SQLITE_SECONDS);
    printf ("  baseline A (after):  %.0f commits/s\n", after.rate);

    double baseline = (before.rate + after.rate) / 2;
    char metric [96], base [96];
    snprintf (metric, sizeof metric, "routed requests/s, %d connected nodes", s_counts [0]);
    bench_result (metric, figures [0].rate, "/s", "SQLite 1-row commits/s", baseline, "-", "-");
    snprintf (base, sizeof base, "routed requests/s, %d connected nodes", s_counts [0]);
    for (int i = 1; i < COUNTS; i++) {
        snprintf (metric, sizeof metric, "routed requests/s, %d connected nodes", s_counts [i]);
        bench_result (metric, figures [i].rate, "/s", base, figures [0].rate, "-", "-");
    }
    snprintf (base, sizeof base, "broker CPU/request, %d connected nodes", s_counts [0]);
    for (int i = 1; i < COUNTS; i++) {
        snprintf (metric, sizeof metric, "broker CPU/request, %d connected nodes", s_counts [i]);
        bench_result (metric, figures [i].cpu_us, "us", base, figures [0].cpu_us, "-", "-");
    }
    bench_note ("nodes: window %d, %d experts spread over the nodes; baseline A %.0f commits/s before,"
                " %.0f after (spread %.0f%%)", WINDOW, TOTAL_EXPERTS, before.rate, after.rate,
                100.0 * fabs (before.rate - after.rate) / baseline);
    return 0;
}
