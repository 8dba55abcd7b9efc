/*  bench_federation - cross-province routing: how much a broker hop adds
    to submit -> expert's notification, and the national network (8
    brokers, 42 nodes) against one broker serving the same 42 nodes.

    Part 1, hops. One network of three brokers in a chain, as the
    federation config builds it: overijssel - gelderland - noord
    (overijssel peers with gelderland only, gelderland with both, noord
    with gelderland only; max_hops 2). Node twente (Overijssel, no
    experts) submits every request. Experts: at ijsselland (Overijssel)
    tag "trauma", at achterhoek (Gelderland) "eetstoornis", at groningen
    (Noord) "lvb". So a "trauma" request is served in its own province
    (the baseline, L), an "eetstoornis" request is forwarded once
    (overijssel -> gelderland) and an "lvb" request twice (overijssel ->
    gelderland -> noord, which gelderland advertises to overijssel as two
    hops away). The three kinds are interleaved on one fixed schedule
    (LAT_RATE a second, every third request of each kind), so they share
    the same load and the same moments of noise on a shared machine; the
    figures are the hop kinds' p50/p99 as ratios to the in-province
    kind's. Stamps as in bench_latency: just before the submit call on
    twente's control socket, and when the offer notification arrives on
    the serving node's notify socket (one SUB connected to all three).
    Each serving node has LAT_EXPERTS experts with capacity 50, enough
    places for every request, so nothing is closed: the run measures
    routing only, and every request must end offered.

    Part 2, national. The configuration of config/national (generated
    into the scratch directory by config/national/generate, with the
    brokers' keys, on ports from 61000 up: above the kernel's ephemeral
    range and the integration tests' ports), 8 brokers and 42 nodes as
    processes on this machine. Every region's node has experts (capacity
    50; NAT_EXPERTS or more, so that no province runs out of places)
    with tags "trauma" and "spec-<its broker>". Requests are spread
    evenly over the 42 nodes; in every NAT_CROSS_EVERY-th round over the
    regions they ask for another province's "spec-" tag (each other
    province in turn), so they are forwarded one hop (the mesh is full);
    the others ask for "trauma" and stay in their province. Two phases:
    NAT_PACED requests at NAT_RATE a second (latency, in-province and
    cross-province apart), then a burst of NAT_REQUESTS that
    NAT_SUBMITTERS threads submit as fast as the nodes accept them (each
    thread its own nodes, one call at a time): throughput is requests /
    (last offer notification - first submit). The baseline is the same
    in the same run: one broker (the generator given one expertisecentrum
    with all 42 regions) serving the same 42 nodes, experts and requests.
    Before the phases, one probe request per node and one cross-province
    probe per broker prove every path (and the subscriptions), and 2 s of
    idle show what the daemons cost doing nothing. The brokers' ADVERT
    counts (metrics), federation link losses (their logs) and requests a
    receiving broker forwarded again (a detour) are reported as notes.

    Correctness, not timing: every submit must succeed; every request
    must be notified exactly once, by an expert of the province its tag
    belongs to; at the brokers, the open offers (control verb "offers")
    must name every request exactly once, and no request may be a hiaat
    or escalated. Any of these failing fails the benchmark.

    Usage: bench_federation [BIN_DIR]   (default build/bin)
    BENCH_FED_REQUESTS=N overrides NAT_REQUESTS (e.g. a quick look).
*/
#define BENCH_MAX_CHILDREN 64
#include "bench_util.h"
#include <pthread.h>
#include <stdatomic.h>

//  Part 1
#define LAT_RATE        60          //  submits per second, three kinds interleaved
#define LAT_WARMUP      60          //  first requests left out (1 s)
#define LAT_MEASURED    600         //  200 of each kind
#define LAT_EXPERTS     5           //  per serving node, capacity 50 each
#define SETTLE_SECONDS  10          //  wait for the last notifications

//  Part 2
#define NAT_PACED       900         //  latency phase: at NAT_RATE
#define NAT_RATE        150         //  per second, all nodes together
#define NAT_REQUESTS    3000        //  throughput phase: as fast as accepted
#define NAT_CROSS_EVERY 4           //  every 4th request of a region: another province
#define NAT_SUBMITTERS  6           //  divides 42: each thread owns 7 nodes
#define NAT_EXPERTS     4           //  per node, capacity 50 each
#define NAT_STALL_S     20          //  no new notification for this long: give up
#define NAT_BASE_PORT   61000       //  national brokers listen from here up
#define MAX_BROKERS     16
#define MAX_REGIONS     64

#define CAPACITY        EN_MAX_CAPACITY

//  --------------------------------------------------------------------
//  Requests and their notifications

typedef struct {
    char prefix [40];           //  request ids are "<prefix><index>"
    size_t total;
    int64_t *submitted;         //  us just before the submit call
    _Atomic int64_t *notified;  //  us the (first) offer notification arrived, 0 none
    _Atomic int *served_by;     //  region index from the expert id "e<region>-<n>"
    atomic_size_t received;     //  requests notified
    atomic_size_t duplicates;   //  notifications beyond the first of a request
    atomic_size_t failed;       //  submit calls that failed
} s_track_t;

static s_track_t *
s_track_new (const char *tag, size_t total)
{
    s_track_t *self = (s_track_t *) calloc (1, sizeof (s_track_t));
    char run [9];
    en_random_hex (run, 8);
    snprintf (self->prefix, sizeof self->prefix, "%s-%s-", tag, run);
    self->total = total;
    self->submitted = (int64_t *) calloc (total, sizeof (int64_t));
    self->notified = (_Atomic int64_t *) calloc (total, sizeof (_Atomic int64_t));
    self->served_by = (_Atomic int *) calloc (total, sizeof (_Atomic int));
    return self;
}

static void
s_track_destroy (s_track_t **self_p)
{
    s_track_t *self = *self_p;
    if (self) {
        free (self->submitted);
        free ((void *) self->notified);
        free ((void *) self->served_by);
        free (self);
        *self_p = NULL;
    }
}

//  An offer notification: stamp its request (first one only).
static void
s_track_offer (s_track_t *self, const char *text, int64_t at)
{
    json_t *event = json_loads (text, 0, NULL);
    json_t *offer = json_object_get (event, "offer");
    const char *type = en_json_str (event, "type");
    const char *request = en_json_str (offer, "request_id");
    const char *expert = en_json_str (offer, "expert");
    size_t prefix = strlen (self->prefix);
    int region = -1;
    if (type && streq (type, "offer") && request && expert
    &&  strncmp (request, self->prefix, prefix) == 0 && sscanf (expert, "e%d-", &region) == 1) {
        char *end = NULL;
        unsigned long long index = strtoull (request + prefix, &end, 10);
        if (end && *end == 0 && index < self->total) {
            int64_t none = 0;
            atomic_store (&self->served_by [index], region);
            if (atomic_compare_exchange_strong (&self->notified [index], &none, at))
                atomic_fetch_add (&self->received, 1);
            else
                atomic_fetch_add (&self->duplicates, 1);
        }
    }
    json_decref (event);
}

typedef struct {
    s_track_t *track;
    char endpoints [MAX_REGIONS][PATH_MAX + 16];
    size_t count;
} s_listen_t;

//  One SUB on the notify sockets of all serving nodes, topic "expert:";
//  stamps each offer the moment it arrives.
static void
s_listener_actor (zsock_t *pipe, void *arg)
{
    s_listen_t *args = (s_listen_t *) arg;
    zsock_t *sub = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (sub, 1000000);
    zsock_set_subscribe (sub, "expert:");
    for (size_t i = 0; i < args->count; i++)
        zsock_connect (sub, "%s", args->endpoints [i]);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, sub, NULL);
    while (zpoller_wait (poller, -1) == sub) {
        char *topic = NULL, *text = NULL;
        if (zstr_recvx (sub, &topic, &text, NULL) == 2)
            s_track_offer (args->track, text, bench_now_us ());
        zstr_free (&topic);
        zstr_free (&text);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&sub);
}

static json_t *
s_request_json (const char *id, const char *region, const char *tag)
{
    return json_pack ("{s:s, s:s, s:s, s:s, s:[s], s:s, s:[s,s], s:s, s:s}",
        "id", id, "region", region, "urgency", "regulier",
        "question_type", "consultatie-advies", "expertise", tag,
        "age_band", "12-17", "leefgebieden", "jeugdhulp", "onderwijs",
        "kader", "vrijwillig", "situatie", "thuis");
}

//  Submit request index through the node's control socket (what
//  `expertnet submit` does); stamps it just before the call.
static int
s_submit (s_track_t *track, size_t index, const char *node_dir, const char *region, const char *tag)
{
    char id [64];
    snprintf (id, sizeof id, "%s%zu", track->prefix, index);
    json_t *args = json_pack ("{s:o}", "request", s_request_json (id, region, tag));
    json_t *result = NULL;
    track->submitted [index] = bench_now_us ();
    int rc = en_control_call (node_dir, "submit", args, 10000, &result, NULL);
    if (rc && atomic_fetch_add (&track->failed, 1) == 0)
        fprintf (stderr, "bench: submit %s at %s failed: %s\n", id, region,
                 !result ? "no answer" : en_json_str (result, "error") ?: "?");
    json_decref (result);
    return rc;
}

//  Wait until received reaches want; gives up after stall_s without a
//  new notification. True if all arrived.
static bool
s_track_wait (s_track_t *track, size_t want, int stall_s)
{
    size_t seen = atomic_load (&track->received);
    int64_t progress = bench_now_us ();
    while (seen < want) {
        usleep (5000);
        size_t now = atomic_load (&track->received);
        if (now != seen) {
            seen = now;
            progress = bench_now_us ();
        }
        else
        if (bench_now_us () - progress > stall_s * 1000000LL)
            return false;
    }
    return true;
}

typedef struct {
    double p50, p99, max;
    size_t count;
} s_figures_t;

//  Latency (ms) of the notified requests among [from, to) that filter
//  accepts (NULL: all).
static s_figures_t
s_track_figures (s_track_t *track, size_t from, size_t to, bool (*filter) (size_t, void *), void *arg)
{
    double *latency = (double *) calloc (to - from + 1, sizeof (double));
    size_t count = 0;
    for (size_t i = from; i < to; i++) {
        int64_t at = atomic_load (&track->notified [i]);
        if (at && (!filter || filter (i, arg)))
            latency [count++] = (at - track->submitted [i]) / 1000.0;
    }
    bench_sort (latency, count);
    s_figures_t figures = { bench_percentile (latency, count, 50), bench_percentile (latency, count, 99),
                            count ? latency [count - 1] : NAN, count };
    free (latency);
    return figures;
}

//  --------------------------------------------------------------------
//  Files, keys, daemons

static void
s_write_file (const char *path, const char *format, ...)
{
    FILE *file = fopen (path, "w");
    if (!file)
        bench_fail ("cannot write %s: %s", path, strerror (errno));
    va_list args;
    va_start (args, format);
    vfprintf (file, format, args);
    va_end (args);
    fclose (file);
}

//  A key pair in DIR/keys for name.
static void
s_keygen (const char *dir, const char *name)
{
    char path [PATH_MAX];
    en_error_t error = { 0 };
    bench_path (path, sizeof path, "%s/keys", dir);
    if (en_keys_generate (path, name, &error))
        bench_fail ("%s", error.reason);
}

//  Enroll the public cert of name (made by s_keygen in its_dir) at the
//  broker in broker_dir, as `expertnet enroll` does.
static void
s_enroll (const char *broker_dir, const char *its_dir, const char *name)
{
    char from [PATH_MAX], to [PATH_MAX];
    bench_path (to, sizeof to, "%s/enrolled", broker_dir);
    en_mkdir_p (to, 0700);
    bench_path (from, sizeof from, "%s/keys/%s.cert", its_dir, name);
    bench_path (to, sizeof to, "%s/enrolled/%s.cert", broker_dir, name);
    bench_copy_file (from, to);
}

//  A node's copy of its broker's cert, keys/broker.cert.
static void
s_broker_cert (const char *node_dir, const char *broker_dir, const char *broker)
{
    char from [PATH_MAX], to [PATH_MAX];
    bench_path (from, sizeof from, "%s/keys/%s.cert", broker_dir, broker);
    bench_path (to, sizeof to, "%s/keys/broker.cert", node_dir);
    bench_copy_file (from, to);
}

//  Run a program to its end (not a daemon), output to log; its exit status.
static int
s_run_program (const char *log_path, char *const argv [])
{
    int status = bench_reap (bench_spawn (log_path, argv));
    return WIFEXITED (status) ? WEXITSTATUS (status) : 128;
}

//  Start expertnet-broker or expertnet-node on a config file.
static pid_t
s_start (const char *bin_dir, const char *program, const char *config, const char *log)
{
    char path [PATH_MAX];
    bench_path (path, sizeof path, "%s/%s", bin_dir, program);
    char *argv [] = { path, "-c", (char *) config, NULL };
    return bench_spawn (log, argv);
}


static bool
s_node_connected (json_t *status, void *arg)
{
    return json_is_true (json_object_get (status, "connected"));
}

static bool
s_experts_at_least (json_t *experts, void *arg)
{
    return json_array_size (experts) >= (size_t) *(int *) arg;
}

//  Every link up, and every peer's advert names a free place (hops 1)
//  and at least *arg entries (all hop counts).
static bool
s_links_ready (json_t *status, void *arg)
{
    json_t *links = json_object_get (status, "links");
    size_t index;
    json_t *link;
    json_array_foreach (links, index, link) {
        json_t *advert = json_object_get (link, "advert");
        if (!streq (en_json_str (link, "state") ?: "", "up")
        ||  en_json_int (advert, "free", 0) <= 0 || en_json_int (advert, "entries", 0) < *(int *) arg)
            return false;
    }
    return json_array_size (links) > 0;
}

//  Register count experts "e<region_index>-<n>" at a node, superexperts
//  with capacity CAPACITY and the given tags.
static void
s_add_experts (const char *node_dir, int region_index, int count, const char **tags)
{
    for (int n = 0; n < count; n++) {
        char id [32];
        snprintf (id, sizeof id, "e%d-%d", region_index, n);
        json_t *expertise = json_array ();
        for (int t = 0; tags [t]; t++)
            json_array_append_new (expertise, json_string (tags [t]));
        json_t *args = json_pack ("{s:{s:s, s:s, s:o, s:i}}", "expert", "id", id, "role", "superexpert",
                                  "expertise", expertise, "capacity", CAPACITY);
        json_t *result = NULL;
        int rc = en_control_call (node_dir, "expert-add", args, 10000, &result, NULL);
        if (rc)
            bench_fail ("expert-add at %s failed: %s", node_dir,
                        !result ? "no answer" : en_json_str (result, "error") ?: "?");
        json_decref (result);
    }
}

//  Stop a group of daemons: all asked at once, then each waited for.
//  Returns how many did not exit cleanly.
static int
s_stop_group (pid_t *pids, int count)
{
    for (int i = 0; i < count; i++)
        if (pids [i] > 0)
            kill (pids [i], SIGTERM);
    int unclean = 0;
    for (int i = 0; i < count; i++)
        if (pids [i] > 0) {
            int status = bench_stop_signalled (pids [i]);   //  TERM sent above
            if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
                unclean++;
                if (WIFSIGNALED (status))
                    fprintf (stderr, "bench: daemon %d ended by signal %d\n", (int) i, WTERMSIG (status));
                else
                    fprintf (stderr, "bench: daemon %d exited with %d\n", (int) i, WEXITSTATUS (status));
            }
            pids [i] = 0;
        }
    return unclean;
}

static double
s_cpu_group (pid_t *pids, int count)
{
    double total = 0;
    for (int i = 0; i < count; i++)
        total += bench_cpu_seconds (pids [i]);
    return total;
}

//  --------------------------------------------------------------------
//  Part 1: one and two hops against in-province

#define LAT_BROKERS 3
#define LAT_NODES   4

typedef struct {
    s_figures_t kind [3];       //  in-province, one hop, two hops
    size_t missing;
} s_hops_t;

static const char *s_lat_brokers [LAT_BROKERS] = { "overijssel", "gelderland", "noord" };
//  Nodes: name (= region), broker index, expertise of its experts (NULL: none)
static const struct { const char *name; int broker; const char *tag; } s_lat_nodes [LAT_NODES] = {
    { "twente", 0, NULL }, { "ijsselland", 0, "trauma" },
    { "achterhoek", 1, "eetstoornis" }, { "groningen", 2, "lvb" } };
//  What each kind of request asks for, and which node's experts serve it
static const char *s_lat_tag [3] = { "trauma", "eetstoornis", "lvb" };
static const int s_lat_server [3] = { 1, 2, 3 };

static bool
s_of_kind (size_t index, void *arg)
{
    return index % 3 == (size_t) *(int *) arg;
}

static s_hops_t
s_hops (const char *bin_dir, const char *scratch)
{
    char root [PATH_MAX], bdir [LAT_BROKERS][PATH_MAX], ndir [LAT_NODES][PATH_MAX];
    char path [PATH_MAX], log [PATH_MAX];
    int port [LAT_BROKERS];
    bench_path (root, sizeof root, "%s/hops", scratch);
    en_mkdir_p (root, 0700);
    for (int b = 0; b < LAT_BROKERS; b++) {
        bench_path (bdir [b], sizeof bdir [b], "%s/%s", root, s_lat_brokers [b]);
        s_keygen (bdir [b], s_lat_brokers [b]);
        port [b] = bench_free_port ();
    }
    //  The chain: each broker enrolls its neighbours
    for (int b = 0; b < LAT_BROKERS; b++)
        for (int o = 0; o < LAT_BROKERS; o++)
            if (o == b - 1 || o == b + 1)
                s_enroll (bdir [b], bdir [o], s_lat_brokers [o]);
    for (int n = 0; n < LAT_NODES; n++) {
        int b = s_lat_nodes [n].broker;
        bench_path (ndir [n], sizeof ndir [n], "%s/%s", root, s_lat_nodes [n].name);
        s_keygen (ndir [n], s_lat_nodes [n].name);
        s_enroll (bdir [b], ndir [n], s_lat_nodes [n].name);
        s_broker_cert (ndir [n], bdir [b], s_lat_brokers [b]);
    }
    //  Broker configs, federation as in config/overijssel.cfg
    pid_t pids [LAT_BROKERS + LAT_NODES] = { 0 };
    for (int b = 0; b < LAT_BROKERS; b++) {
        char regions [256] = "", peers [512] = "";
        for (int n = 0; n < LAT_NODES; n++)
            if (s_lat_nodes [n].broker == b)
                snprintf (regions + strlen (regions), sizeof regions - strlen (regions),
                          "        %s\n", s_lat_nodes [n].name);
        for (int o = 0; o < LAT_BROKERS; o++)
            if (o == b - 1 || o == b + 1)
                snprintf (peers + strlen (peers), sizeof peers - strlen (peers),
                          "        %s\n            endpoint = \"tcp://127.0.0.1:%d\"\n",
                          s_lat_brokers [o], port [o]);
        bench_path (path, sizeof path, "%s/%s.cfg", root, s_lat_brokers [b]);
        s_write_file (path,
            "broker\n    name = %s\n    endpoint = \"tcp://127.0.0.1:%d\"\n    datadir = \"%s\"\n"
            "    heartbeat = 500ms\n    retry = 1s\n    regions\n%s"
            "web\n    address = off\n"
            "federation\n    forward = no-candidate\n    max_hops = 2\n    crisis_local_offers = 2\n"
            "    peers\n%s",
            s_lat_brokers [b], port [b], bdir [b], regions, peers);
        bench_path (log, sizeof log, "%s/%s.log", root, s_lat_brokers [b]);
        pids [b] = s_start (bin_dir, "expertnet-broker", path, log);
    }
    for (int b = 0; b < LAT_BROKERS; b++)
        if (!bench_wait_control (bdir [b], "status", NULL, NULL, 10000)) {
            bench_path (log, sizeof log, "%s/%s.log", root, s_lat_brokers [b]);
            bench_log_tail (log);
            bench_fail ("broker %s did not answer on its control socket within 10 s", s_lat_brokers [b]);
        }
    for (int n = 0; n < LAT_NODES; n++) {
        int b = s_lat_nodes [n].broker;
        bench_path (path, sizeof path, "%s/%s.cfg", root, s_lat_nodes [n].name);
        s_write_file (path,
            "node\n    name = %s\n    region = %s\n    datadir = \"%s\"\n    heartbeat = 500ms\n    retry = 1s\n"
            "broker\n    endpoint = \"tcp://127.0.0.1:%d\"\n",
            s_lat_nodes [n].name, s_lat_nodes [n].name, ndir [n], port [b]);
        bench_path (log, sizeof log, "%s/%s.log", root, s_lat_nodes [n].name);
        pids [LAT_BROKERS + n] = s_start (bin_dir, "expertnet-node", path, log);
    }
    for (int n = 0; n < LAT_NODES; n++)
        if (!bench_wait_control (ndir [n], "status", s_node_connected, NULL, 15000)) {
            bench_path (log, sizeof log, "%s/%s.log", root, s_lat_nodes [n].name);
            bench_log_tail (log);
            bench_fail ("node %s did not connect to its broker within 15 s", s_lat_nodes [n].name);
        }
    for (int n = 0; n < LAT_NODES; n++)
        if (s_lat_nodes [n].tag) {
            const char *tags [] = { s_lat_nodes [n].tag, NULL };
            s_add_experts (ndir [n], n, LAT_EXPERTS, tags);
            int want = LAT_EXPERTS;
            if (!bench_wait_control (bdir [s_lat_nodes [n].broker], "experts", s_experts_at_least, &want, 10000))
                bench_fail ("broker %s did not learn %s's experts within 10 s",
                            s_lat_brokers [s_lat_nodes [n].broker], s_lat_nodes [n].name);
        }
    //  Links up and adverts in: overijssel must see gelderland's own
    //  place and noord's, two hops away
    int64_t links_start = bench_now_us ();
    for (int b = 0; b < LAT_BROKERS; b++) {
        int entries = b == 0 ? 2 : 1;
        if (!bench_wait_control (bdir [b], "status", s_links_ready, &entries, 20000)) {
            json_t *status = NULL;
            en_control_call (bdir [b], "status", NULL, 1000, &status, NULL);
            char *text = json_dumps (json_object_get (status, "links"), JSON_INDENT (2));
            fprintf (stderr, "bench: links of %s: %s\n", s_lat_brokers [b], text ? text : "?");
            free (text);
            json_decref (status);
            bench_fail ("broker %s: links not up with adverts within 20 s", s_lat_brokers [b]);
        }
    }
    printf ("  chain overijssel-gelderland-noord up, adverts in (%.1f s)\n",
            (bench_now_us () - links_start) / 1e6);

    size_t total = 3 + LAT_WARMUP + LAT_MEASURED;
    s_track_t *track = s_track_new ("hop", total);
    s_listen_t *listen = (s_listen_t *) calloc (1, sizeof (s_listen_t));
    listen->track = track;
    for (int kind = 0; kind < 3; kind++)
        bench_path (listen->endpoints [listen->count++], sizeof listen->endpoints [0], "ipc://%s/notify.sock",
                    ndir [s_lat_server [kind]]);
    zactor_t *listener = zactor_new (s_listener_actor, listen);

    //  Probes 0..2 (one of each kind) prove every path and the subscriptions
    for (size_t i = 0; i < 3; i++) {
        s_submit (track, i, ndir [0], "twente", s_lat_tag [i]);
        int64_t give_up = bench_now_us () + 15000000;
        while (!atomic_load (&track->notified [i]) && bench_now_us () < give_up)
            usleep (5000);
        if (!atomic_load (&track->notified [i])) {
            for (int b = 0; b < LAT_BROKERS; b++) {
                bench_path (log, sizeof log, "%s/%s.log", root, s_lat_brokers [b]);
                bench_log_tail (log);
            }
            bench_fail ("the first %s request did not reach its expert within 15 s", s_lat_tag [i]);
        }
    }
    //  The paced run, kinds interleaved
    double cpu = s_cpu_group (pids, LAT_BROKERS + LAT_NODES);
    int64_t start = bench_now_us () + 10000;
    for (size_t i = 3; i < total; i++) {
        bench_sleep_until (start + (int64_t) (i - 3) * 1000000 / LAT_RATE);
        s_submit (track, i, ndir [0], "twente", s_lat_tag [i % 3]);
    }
    bool complete = s_track_wait (track, total - atomic_load (&track->failed), SETTLE_SECONDS);
    double seconds = (bench_now_us () - start) / 1e6;
    cpu = s_cpu_group (pids, LAT_BROKERS + LAT_NODES) - cpu;
    zactor_destroy (&listener);

    s_hops_t result = { .missing = total - atomic_load (&track->received) };
    size_t first = 3 + LAT_WARMUP;
    for (int kind = 0; kind < 3; kind++)
        result.kind [kind] = s_track_figures (track, first, total, s_of_kind, &kind);
    size_t misrouted = 0;
    for (size_t i = 0; i < total; i++)
        if (atomic_load (&track->notified [i]) && atomic_load (&track->served_by [i]) != s_lat_server [i % 3])
            misrouted++;
    size_t duplicates = atomic_load (&track->duplicates), failed = atomic_load (&track->failed);
    int unclean = s_stop_group (pids, LAT_BROKERS + LAT_NODES);
    if (unclean)
        fprintf (stderr, "bench: %d daemon(s) of the chain did not stop cleanly\n", unclean);
    printf ("  %zu requests measured at %d/s (after 3 probes and %d warm-up): %zu missing, %zu duplicates,"
            " %zu served by the wrong expert, %zu submit failures; CPU of the 7 daemons %.0f%% of one core\n",
            total - first, LAT_RATE, LAT_WARMUP, result.missing, duplicates, misrouted, failed,
            100 * cpu / seconds);
    if (!complete || result.missing || duplicates || misrouted || failed)
        bench_fail ("the hop run did not complete: %zu missing, %zu duplicate, %zu misrouted, %zu failed",
                    result.missing, duplicates, misrouted, failed);
    free (listen);
    s_track_destroy (&track);
    return result;
}

//  --------------------------------------------------------------------
//  Part 2: national

typedef struct {
    int brokers, regions;
    char broker [MAX_BROKERS][64];
    char region [MAX_REGIONS][64];
    int province [MAX_REGIONS];     //  broker index of each region
} s_layout_t;

//  The expertisecentra and their regions from config/national/regions.txt.
static void
s_layout_load (s_layout_t *self, const char *path)
{
    memset (self, 0, sizeof *self);
    FILE *file = fopen (path, "r");
    if (!file)
        bench_fail ("cannot read %s (run from the top of the tree)", path);
    char line [512], kind [16], name [64];
    while (fgets (line, sizeof line, file))
        if (sscanf (line, " %15s %63s", kind, name) == 2 && kind [0] != '#') {
            if (streq (kind, "broker") && self->brokers < MAX_BROKERS)
                snprintf (self->broker [self->brokers++], 64, "%s", name);
            else
            if (streq (kind, "region") && self->brokers > 0 && self->regions < MAX_REGIONS) {
                self->province [self->regions] = self->brokers - 1;
                snprintf (self->region [self->regions++], 64, "%s", name);
            }
        }
    fclose (file);
    if (self->brokers < 2 || self->regions < self->brokers || self->regions % NAT_SUBMITTERS)
        bench_fail ("%s: expected several brokers and a multiple of %d regions, got %d and %d",
                    path, NAT_SUBMITTERS, self->brokers, self->regions);
}

//  What one request is: from which region, for which province's expert
//  (target; another province's when cross).
typedef struct {
    int region;
    int target;
    bool cross;
} s_plan_t;

//  The requests of a run: probes (one per region, then one cross-province
//  per broker), then the paced phase, then the burst. In each phase
//  request m comes from region m % regions; every NAT_CROSS_EVERY-th
//  round over the regions asks for another province, each in turn.
static s_plan_t *
s_plan_new (const s_layout_t *layout, size_t probes, size_t paced, size_t burst)
{
    s_plan_t *plan = (s_plan_t *) calloc (probes + paced + burst, sizeof (s_plan_t));
    for (size_t p = 0; p < probes; p++) {
        if (p < (size_t) layout->regions)
            plan [p] = (s_plan_t) { (int) p, layout->province [p], false };
        else {
            int own = (int) p - layout->regions, region = 0;
            while (layout->province [region] != own)
                region++;
            plan [p] = (s_plan_t) { region, (own + 1) % layout->brokers, true };
        }
    }
    for (int phase = 0; phase < 2; phase++) {
        size_t first = phase ? probes + paced : probes, count = phase ? burst : paced;
        for (size_t m = 0; m < count; m++) {
            int region = (int) (m % layout->regions), own = layout->province [region];
            size_t round = m / layout->regions;
            bool cross = round % NAT_CROSS_EVERY == NAT_CROSS_EVERY - 1;
            int target = cross ? (int) ((own + 1 + (round / NAT_CROSS_EVERY) % (layout->brokers - 1))
                                        % layout->brokers)
                               : own;
            plan [first + m] = (s_plan_t) { region, target, cross };
        }
    }
    return plan;
}

typedef struct {
    const s_layout_t *layout;
    const s_plan_t *plan;
    s_track_t *track;
    char (*node_dir) [PATH_MAX];
    size_t from, to;            //  requests [from, to)
    int rate;                   //  per second, all threads together; 0: as fast as accepted
    int64_t start;              //  us of the schedule's request from
    int thread;
} s_submitter_t;

//  One submitter: requests from + thread, from + thread + NAT_SUBMITTERS,
//  ...; the regions are a multiple of NAT_SUBMITTERS, so each thread has
//  its own nodes. Paced: each at its time on one schedule for all
//  threads (absolute, so a slow call does not shift the rest).
static void *
s_submitter (void *arg)
{
    s_submitter_t *self = (s_submitter_t *) arg;
    for (size_t i = self->from + (size_t) self->thread; i < self->to; i += NAT_SUBMITTERS) {
        const s_plan_t *plan = &self->plan [i];
        char tag [80] = "trauma";
        if (plan->cross)
            snprintf (tag, sizeof tag, "spec-%s", self->layout->broker [plan->target]);
        if (self->rate)
            bench_sleep_until (self->start + (int64_t) (i - self->from) * 1000000 / self->rate);
        s_submit (self->track, i, self->node_dir [plan->region], self->layout->region [plan->region], tag);
    }
    return NULL;
}

//  Submit requests [from, to) from NAT_SUBMITTERS threads; returns the
//  us the first was due.
static int64_t
s_submit_all (const s_layout_t *layout, const s_plan_t *plan, s_track_t *track, char (*node_dir) [PATH_MAX],
              size_t from, size_t to, int rate)
{
    pthread_t threads [NAT_SUBMITTERS];
    s_submitter_t submitters [NAT_SUBMITTERS];
    int64_t start = bench_now_us () + 10000;
    for (int t = 0; t < NAT_SUBMITTERS; t++) {
        submitters [t] = (s_submitter_t) { layout, plan, track, node_dir, from, to, rate, start, t };
        if (pthread_create (&threads [t], NULL, s_submitter, &submitters [t]))
            bench_fail ("cannot start a submitter thread");
    }
    for (int t = 0; t < NAT_SUBMITTERS; t++)
        pthread_join (threads [t], NULL);
    return start;
}

typedef struct {
    const s_plan_t *plan;
    bool cross;
} s_filter_t;

static bool
s_plan_cross (size_t index, void *arg)
{
    s_filter_t *filter = (s_filter_t *) arg;
    return filter->plan [index].cross == filter->cross;
}

typedef struct {
    int brokers;
    double startup;             //  seconds from start to every link up with adverts
    s_figures_t paced_local, paced_cross;       //  latency at NAT_RATE
    double paced_rate;          //  achieved submit rate
    double seconds;             //  burst: first submit -> last notification
    double rate;                //  burst: requests routed per second
    double submit_rate;         //  burst: submit calls per second
    s_figures_t burst;          //  latency in the burst (queueing included)
    double broker_cpu, node_cpu;        //  CPU seconds during the burst
    double idle_broker_cpu, idle_node_cpu;      //  CPU share (of one core) when idle
    double adverts;             //  ADVERT messages the brokers sent during the burst
    size_t forwarded;           //  requests handed to a peer
    size_t detours;             //  ... and handed on again (a second hop)
    size_t link_losses;         //  "lost contact" in the brokers' logs
    int experts;                //  per node
} s_national_t;

//  A port base whose brokers' ports (base + 10 i) are all free now.
static int
s_port_base (int brokers, int from)
{
    for (int base = from; base + 10 * brokers < 65535; base += 10 * brokers + 10) {
        bool free_all = true;
        for (int i = 0; i < brokers && free_all; i++) {
            int fd = socket (AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (base + 10 * i),
                                        .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
            free_all = fd >= 0 && bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0;
            if (fd >= 0)
                close (fd);
        }
        if (free_all)
            return base;
    }
    bench_fail ("no free ports for %d brokers from %d up", brokers, from);
    return -1;
}

//  Messages of one command the broker has sent (its metrics).
static double
s_sent (const char *broker_dir, const char *command)
{
    json_t *families = NULL;
    double total = 0;
    if (en_control_call (broker_dir, "metrics", NULL, 5000, &families, NULL) == 0) {
        size_t index, i;
        json_t *family, *sample;
        json_array_foreach (families, index, family)
            if (streq (en_json_str (family, "name") ?: "", "expertnet_messages_sent_total"))
                json_array_foreach (json_object_get (family, "samples"), i, sample)
                    if (streq (en_json_str (json_object_get (sample, "labels"), "command") ?: "", command))
                        total += json_real_value (json_object_get (sample, "value"));
    }
    json_decref (families);
    return total;
}

//  How often a broker's log says a link was lost.
static size_t
s_count_in_log (const char *log_path, const char *text)
{
    char *log = en_file_read (log_path, 64 * 1024 * 1024);
    size_t count = 0;
    for (const char *at = log; at && (at = strstr (at, text)); at += strlen (text))
        count++;
    free (log);
    return count;
}

//  The national network (federated: the brokers of regions.txt; else one
//  broker for all regions) with every region's node and its experts;
//  then the probes, the paced phase and the burst.
static s_national_t
s_national (const char *bin_dir, const char *scratch, const s_layout_t *layout, bool federated,
            size_t paced, size_t count, int port_from)
{
    s_national_t result = { .brokers = federated ? layout->brokers : 1 };
    int64_t setup_start = bench_now_us ();
    char root [PATH_MAX], path [PATH_MAX], log [PATH_MAX], certs [PATH_MAX], regions_file [PATH_MAX];
    bench_path (root, sizeof root, "%s/%s", scratch, federated ? "fed" : "one");
    bench_path (certs, sizeof certs, "%s/certs", root);
    en_mkdir_p (certs, 0700);
    size_t probes = layout->regions + layout->brokers, total = probes + paced + count;
    s_plan_t *plan = s_plan_new (layout, probes, paced, count);
    //  Enough places that no province runs out: half again what its
    //  experts are asked for, at least NAT_EXPERTS per node
    result.experts = NAT_EXPERTS;
    for (int b = 0; b < layout->brokers; b++) {
        size_t asked = 0;
        int regions = 0;
        for (size_t i = 0; i < total; i++)
            asked += plan [i].target == b;
        for (int r = 0; r < layout->regions; r++)
            regions += layout->province [r] == b;
        int need = (int) ((asked * 3 / 2 + (size_t) regions * CAPACITY - 1) / ((size_t) regions * CAPACITY));
        result.experts = MAX (result.experts, need);
    }
    //  Brokers: the layout's, or one for the whole country
    int brokers = result.brokers;
    char (*bname) [64] = (char (*) [64]) calloc (brokers, 64);
    char (*bdir) [PATH_MAX] = (char (*) [PATH_MAX]) calloc (brokers, PATH_MAX);
    char (*ndir) [PATH_MAX] = (char (*) [PATH_MAX]) calloc (layout->regions, PATH_MAX);
    for (int b = 0; b < brokers; b++) {
        snprintf (bname [b], 64, "%s", federated ? layout->broker [b] : "nederland");
        bench_path (bdir [b], PATH_MAX, "%s/%s", root, bname [b]);
        s_keygen (bdir [b], bname [b]);
        char from [PATH_MAX];
        bench_path (from, sizeof from, "%s/keys/%s.cert", bdir [b], bname [b]);
        bench_path (path, sizeof path, "%s/%s.cert", certs, bname [b]);
        bench_copy_file (from, path);
    }
    for (int b = 0; b < brokers; b++)
        for (int o = 0; o < brokers; o++)
            if (o != b)
                s_enroll (bdir [b], bdir [o], bname [o]);
    for (int r = 0; r < layout->regions; r++) {
        int b = federated ? layout->province [r] : 0;
        bench_path (ndir [r], PATH_MAX, "%s/%s", root, layout->region [r]);
        s_keygen (ndir [r], layout->region [r]);
        s_enroll (bdir [b], ndir [r], layout->region [r]);
        s_broker_cert (ndir [r], bdir [b], bname [b]);
    }
    //  The configs, from the project's generator
    char generator [] = "config/national/generate";
    char out [PATH_MAX], base [16];
    bench_path (out, sizeof out, "%s/cfg", root);
    snprintf (base, sizeof base, "%d", s_port_base (brokers, port_from));
    if (federated)
        bench_path (regions_file, sizeof regions_file, "config/national/regions.txt");
    else {
        bench_path (regions_file, sizeof regions_file, "%s/regions.txt", root);
        FILE *file = fopen (regions_file, "w");
        if (!file)
            bench_fail ("cannot write %s", regions_file);
        fprintf (file, "broker nederland One broker for the whole country (benchmark baseline)\n");
        for (int r = 0; r < layout->regions; r++)
            fprintf (file, "region %s\n", layout->region [r]);
        fclose (file);
    }
    char *gen_argv [] = { generator, "--out", out, "--base-port", base, "--datadir", root,
                          "--keys", certs, "--regions", regions_file, NULL };
    bench_path (log, sizeof log, "%s/generate.log", root);
    if (s_run_program (log, gen_argv)) {
        bench_log_tail (log);
        bench_fail ("config/national/generate failed");
    }
    //  Brokers, then nodes
    int daemons = brokers + layout->regions;
    pid_t *pids = (pid_t *) calloc (daemons, sizeof (pid_t));
    for (int b = 0; b < brokers; b++) {
        bench_path (path, sizeof path, "%s/brokers/%s.cfg", out, bname [b]);
        bench_path (log, sizeof log, "%s/%s.log", root, bname [b]);
        pids [b] = s_start (bin_dir, "expertnet-broker", path, log);
    }
    for (int b = 0; b < brokers; b++)
        if (!bench_wait_control (bdir [b], "status", NULL, NULL, 20000)) {
            bench_path (log, sizeof log, "%s/%s.log", root, bname [b]);
            bench_log_tail (log);
            bench_fail ("broker %s did not answer on its control socket within 20 s", bname [b]);
        }
    for (int r = 0; r < layout->regions; r++) {
        bench_path (path, sizeof path, "%s/nodes/%s.cfg", out, layout->region [r]);
        bench_path (log, sizeof log, "%s/%s.log", root, layout->region [r]);
        pids [brokers + r] = s_start (bin_dir, "expertnet-node", path, log);
    }
    for (int r = 0; r < layout->regions; r++)
        if (!bench_wait_control (ndir [r], "status", s_node_connected, NULL, 30000)) {
            bench_path (log, sizeof log, "%s/%s.log", root, layout->region [r]);
            bench_log_tail (log);
            bench_fail ("node %s did not connect within 30 s", layout->region [r]);
        }
    //  Experts: every region "trauma" and its province's speciality
    for (int r = 0; r < layout->regions; r++) {
        char spec [80];
        snprintf (spec, sizeof spec, "spec-%s", layout->broker [layout->province [r]]);
        const char *tags [] = { "trauma", spec, NULL };
        s_add_experts (ndir [r], r, result.experts, tags);
    }
    for (int b = 0; b < brokers; b++) {
        int want = 0;
        for (int r = 0; r < layout->regions; r++)
            want += (!federated || layout->province [r] == b) ? result.experts : 0;
        if (!bench_wait_control (bdir [b], "experts", s_experts_at_least, &want, 20000))
            bench_fail ("broker %s did not learn its %d experts within 20 s", bname [b], want);
    }
    if (federated)
        for (int b = 0; b < brokers; b++) {
            int entries = 1;
            if (!bench_wait_control (bdir [b], "status", s_links_ready, &entries, 30000))
                bench_fail ("broker %s: links not all up with adverts within 30 s", bname [b]);
        }
    result.startup = (bench_now_us () - setup_start) / 1e6;

    //  Listener and probes
    s_track_t *track = s_track_new (federated ? "fed" : "one", total);
    s_listen_t *listen = (s_listen_t *) calloc (1, sizeof (s_listen_t));
    listen->track = track;
    for (int r = 0; r < layout->regions; r++)
        bench_path (listen->endpoints [listen->count++], sizeof listen->endpoints [0], "ipc://%s/notify.sock",
                    ndir [r]);
    zactor_t *listener = zactor_new (s_listener_actor, listen);
    s_submit_all (layout, plan, track, ndir, 0, probes, 0);
    if (!s_track_wait (track, probes, 15)) {
        for (size_t p = 0; p < probes; p++)
            if (!atomic_load (&track->notified [p]))
                fprintf (stderr, "bench: probe %zu from %s not notified\n", p, layout->region [plan [p].region]);
        bench_fail ("%s: the probe requests did not all reach an expert within 15 s",
                    federated ? "national" : "single broker");
    }
    //  Idle: what the daemons cost doing nothing (heartbeats, timers)
    double broker_cpu = s_cpu_group (pids, brokers), node_cpu = s_cpu_group (pids + brokers, layout->regions);
    int64_t idle_start = bench_now_us ();
    usleep (2000000);
    double idle_seconds = (bench_now_us () - idle_start) / 1e6;
    result.idle_broker_cpu = (s_cpu_group (pids, brokers) - broker_cpu) / idle_seconds;
    result.idle_node_cpu = (s_cpu_group (pids + brokers, layout->regions) - node_cpu) / idle_seconds;

    //  Paced: latency at a rate both layouts sustain
    int64_t start = s_submit_all (layout, plan, track, ndir, probes, probes + paced, NAT_RATE);
    int64_t last_submit = 0;
    for (size_t i = probes; i < probes + paced; i++)
        last_submit = MAX (last_submit, track->submitted [i]);
    result.paced_rate = paced > 1 ? (paced - 1) / ((last_submit - start) / 1e6) : NAN;
    bool complete = s_track_wait (track, probes + paced - atomic_load (&track->failed), NAT_STALL_S);
    s_filter_t local_filter = { plan, false }, cross_filter = { plan, true };
    result.paced_local = s_track_figures (track, probes, probes + paced, s_plan_cross, &local_filter);
    result.paced_cross = s_track_figures (track, probes, probes + paced, s_plan_cross, &cross_filter);

    //  The burst: throughput
    double adverts = 0;
    for (int b = 0; b < brokers; b++)
        adverts -= s_sent (bdir [b], "ADVERT");
    broker_cpu = s_cpu_group (pids, brokers);
    node_cpu = s_cpu_group (pids + brokers, layout->regions);
    start = s_submit_all (layout, plan, track, ndir, probes + paced, total, 0);
    int64_t submitted = bench_now_us ();
    complete = complete && s_track_wait (track, total - atomic_load (&track->failed), NAT_STALL_S);
    int64_t last = 0;
    for (size_t i = probes + paced; i < total; i++)
        last = MAX (last, atomic_load (&track->notified [i]));
    result.broker_cpu = s_cpu_group (pids, brokers) - broker_cpu;
    result.node_cpu = s_cpu_group (pids + brokers, layout->regions) - node_cpu;
    for (int b = 0; b < brokers; b++)
        adverts += s_sent (bdir [b], "ADVERT");
    result.adverts = adverts;
    zactor_destroy (&listener);
    result.seconds = ((last ? last : bench_now_us ()) - start) / 1e6;
    result.rate = count / result.seconds;
    result.submit_rate = count / ((submitted - start) / 1e6);
    result.burst = s_track_figures (track, probes + paced, total, NULL, NULL);

    //  Correctness: the notifications ...
    size_t missing = 0, misrouted = 0;
    for (size_t i = 0; i < total; i++) {
        if (!atomic_load (&track->notified [i]))
            missing++;
        else {
            int served = atomic_load (&track->served_by [i]);
            if (served < 0 || served >= layout->regions || layout->province [served] != plan [i].target)
                misrouted++;
        }
    }
    //  ... and the brokers: every request one open offer, somewhere
    zhashx_t *offers = zhashx_new ();
    size_t offered = 0, repeated = 0, hiaten = 0, escalated = 0;
    for (int b = 0; b < brokers; b++) {
        json_t *rows = NULL, *status = NULL;
        if (en_control_call (bdir [b], "offers", NULL, 10000, &rows, NULL)
        ||  en_control_call (bdir [b], "status", NULL, 10000, &status, NULL))
            bench_fail ("broker %s did not answer 'offers' and 'status'", bname [b]);
        size_t index;
        json_t *row;
        json_array_foreach (rows, index, row) {
            const char *id = en_json_str (row, "request_id");
            if (!id || strncmp (id, track->prefix, strlen (track->prefix)))
                continue;
            if (zhashx_lookup (offers, id))
                repeated++;
            else {
                zhashx_insert (offers, id, (void *) 1);
                offered++;
            }
        }
        json_t *states = json_object_get (status, "requests_by_state");
        hiaten += en_json_int (states, "hiaat", 0);
        escalated += en_json_int (states, "escalated", 0);
        json_decref (rows);
        json_decref (status);
    }
    zhashx_destroy (&offers);
    //  Where requests went to a peer: the origin brokers' mirrored copies
    //  (their STATUS may still be on its way: a short wait), and those
    //  that a peer handed on again (a detour: the mesh is full)
    if (federated) {
        int64_t give_up = bench_now_us () + 5000000;
        size_t pending;
        do {
            result.forwarded = result.detours = pending = 0;
            for (int b = 0; b < brokers; b++) {
                json_t *rows = NULL;
                json_t *args = json_pack ("{s:s, s:i}", "state", "offered", "limit", 1000000);
                if (en_control_call (bdir [b], "requests", args, 10000, &rows, NULL) == 0) {
                    size_t index;
                    json_t *row;
                    json_array_foreach (rows, index, row) {
                        const char *id = en_json_str (row, "id") ?: "";
                        if (!en_json_str (row, "peer") || strncmp (id, track->prefix, strlen (track->prefix)))
                            continue;
                        if (strncmp (en_json_str (row, "origin") ?: "", "peer:", 5) == 0)
                            result.detours++;
                        else
                            result.forwarded++;
                    }
                }
                json_decref (rows);
                json_t *status = NULL;
                if (en_control_call (bdir [b], "status", NULL, 10000, &status, NULL) == 0)
                    pending += en_json_int (json_object_get (status, "requests_by_state"), "forwarded", 0);
                json_decref (status);
            }
            if (pending)
                usleep (200000);
        } while (pending && bench_now_us () < give_up);
    }
    int unclean = s_stop_group (pids, daemons);
    if (unclean)
        fprintf (stderr, "bench: %d daemon(s) did not stop cleanly\n", unclean);
    for (int b = 0; b < brokers; b++) {
        bench_path (log, sizeof log, "%s/%s.log", root, bname [b]);
        result.link_losses += s_count_in_log (log, "lost contact with");
    }
    size_t duplicates = atomic_load (&track->duplicates), failed = atomic_load (&track->failed);
    printf ("  %s: %d broker(s), %d nodes with %d experts each, set-up %.1f s; idle CPU brokers %.0f%%,"
            " nodes %.0f%% of one core\n",
            federated ? "national" : "single broker", brokers, layout->regions, result.experts, result.startup,
            100 * result.idle_broker_cpu, 100 * result.idle_node_cpu);
    printf ("    paced: %zu requests at %.0f/s: in-province p50 %.2f p99 %.2f ms, cross-province p50 %.2f p99 %.2f ms\n",
            paced, result.paced_rate, result.paced_local.p50, result.paced_local.p99,
            result.paced_cross.p50, result.paced_cross.p99);
    printf ("    burst: %zu requests submitted at %.0f/s, all offered after %.2f s (%.0f/s): p50 %.1f p99 %.1f ms;"
            " %.0f ADVERTs sent\n",
            count, result.submit_rate, result.seconds, result.rate, result.burst.p50, result.burst.p99,
            result.adverts);
    printf ("    %zu + %zu probes: %zu missing, %zu duplicates, %zu in the wrong province, %zu submit failures;"
            " at the brokers %zu offered (%zu twice), %zu hiaten, %zu escalated; %zu forwarded, %zu of them"
            " again (detours), %zu link losses logged\n",
            paced + count, probes, missing, duplicates, misrouted, failed, offered, repeated, hiaten, escalated,
            result.forwarded, result.detours, result.link_losses);
    fflush (stdout);
    if (!complete || missing || duplicates || misrouted || failed
    ||  offered != total || repeated || hiaten || escalated)
        bench_fail ("%s run: requests lost, repeated or misrouted (see above)",
                    federated ? "national" : "single-broker");
    free (listen);
    s_track_destroy (&track);
    free (plan);
    free (pids);
    free (bname);
    free (bdir);
    free (ndir);
    return result;
}

int
main (int argc, char *argv [])
{
    const char *bin_dir = argc > 1 ? argv [1] : "build/bin";
    const char *scratch = bench_init ("bench_federation");
    size_t requests = NAT_REQUESTS;
    const char *env = getenv ("BENCH_FED_REQUESTS");
    if (env && atoll (env) > 0)
        requests = (size_t) atoll (env);
    printf ("bench_federation: one and two broker hops vs in-province at %d/s; national"
            " (8 brokers, 42 nodes) vs one broker: %d requests at %d/s, then %zu at once\n",
            LAT_RATE, NAT_PACED, NAT_RATE, requests);

    //  Part 1
    s_hops_t hops = s_hops (bin_dir, scratch);
    static const char *names [3] = { "in-province", "1 hop", "2 hops" };
    for (int kind = 0; kind < 3; kind++)
        printf ("  %-12s (%zu): p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms\n", names [kind],
                hops.kind [kind].count, hops.kind [kind].p50, hops.kind [kind].p99, hops.kind [kind].max);

    //  Part 2: the baseline (one broker) first, then the federation
    s_layout_t layout;
    s_layout_load (&layout, "config/national/regions.txt");
    s_national_t one = s_national (bin_dir, scratch, &layout, false, NAT_PACED, requests, NAT_BASE_PORT);
    s_national_t fed = s_national (bin_dir, scratch, &layout, true, NAT_PACED, requests, NAT_BASE_PORT + 100);

    s_figures_t *local = &hops.kind [0];
    bench_result ("fed: in-province submit->offer p50", local->p50, "ms",
                  "(baseline L itself)", local->p50, "-", "-");
    bench_result ("fed: in-province submit->offer p99", local->p99, "ms",
                  "(baseline L itself)", local->p99, "-", "-");
    bench_result ("fed: 1 hop submit->offer p50", hops.kind [1].p50, "ms",
                  "in-province p50, same run", local->p50, "-", "-");
    bench_result ("fed: 1 hop submit->offer p99", hops.kind [1].p99, "ms",
                  "in-province p99, same run", local->p99, "-", "-");
    bench_result ("fed: 2 hops submit->offer p50", hops.kind [2].p50, "ms",
                  "in-province p50, same run", local->p50, "-", "-");
    bench_result ("fed: 2 hops submit->offer p99", hops.kind [2].p99, "ms",
                  "in-province p99, same run", local->p99, "-", "-");
    bench_result ("national: in-province p50 @150/s", fed.paced_local.p50, "ms",
                  "1 broker, same requests p50", one.paced_local.p50, "-", "-");
    bench_result ("national: in-province p99 @150/s", fed.paced_local.p99, "ms",
                  "1 broker, same requests p99", one.paced_local.p99, "-", "-");
    bench_result ("national: cross-province p50 @150/s", fed.paced_cross.p50, "ms",
                  "1 broker, same requests p50", one.paced_cross.p50, "-", "-");
    bench_result ("national: cross-province p99 @150/s", fed.paced_cross.p99, "ms",
                  "1 broker, same requests p99", one.paced_cross.p99, "-", "-");
    bench_result ("national: requests routed/s (burst)", fed.rate, "/s",
                  "1 broker, same 42 nodes: /s", one.rate, "-", "-");
    bench_result ("national: broker CPU per request (burst)", 1e6 * fed.broker_cpu / requests, "us",
                  "1 broker: CPU per request", 1e6 * one.broker_cpu / requests, "-", "-");
    bench_note ("federation hops: chain overijssel-gelderland-noord, %d/s with the three kinds interleaved,"
                " %d of each measured; max in-province %.1f ms, 1 hop %.1f ms, 2 hops %.1f ms",
                LAT_RATE, LAT_MEASURED / 3, local->max, hops.kind [1].max, hops.kind [2].max);
    bench_note ("national: 42 nodes, %d experts each; 1 in %d requests to another province (%zu forwarded,"
                " %zu forwarded again by the receiving broker); %d submitter threads; burst of %zu: 8 brokers"
                " %.2f s (submits at %.0f/s, p50/p99 %.0f/%.0f ms), 1 broker %.2f s (submits at %.0f/s, p50/p99"
                " %.0f/%.0f ms); burst latency is queueing: it follows how far submits outrun routing",
                fed.experts, NAT_CROSS_EVERY, fed.forwarded, fed.detours, NAT_SUBMITTERS, requests,
                fed.seconds, fed.submit_rate, fed.burst.p50, fed.burst.p99,
                one.seconds, one.submit_rate, one.burst.p50, one.burst.p99);
    bench_note ("national CPU: idle, brokers %.0f%% (8) vs %.0f%% (1) of one core, nodes %.0f%% vs %.0f%%;"
                " burst, brokers %.1f s vs %.1f s, nodes %.1f s vs %.1f s; %.0f ADVERTs sent in the burst;"
                " federation links lost and re-made: %zu",
                100 * fed.idle_broker_cpu, 100 * one.idle_broker_cpu, 100 * fed.idle_node_cpu,
                100 * one.idle_node_cpu, fed.broker_cpu, one.broker_cpu, fed.node_cpu, one.node_cpu,
                fed.adverts, fed.link_losses);
    return 0;
}
