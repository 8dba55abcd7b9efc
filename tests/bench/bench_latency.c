/*  bench_latency - time from `expertnet submit` to the expert's
    notification, at a steady 100 requests per second, against a raw
    libzmq DEALER/ROUTER round trip.

    Baseline B: raw libzmq (no CZMQ, no expertnet code) ping-pong over
    tcp://127.0.0.1 between a DEALER in this thread and an echoing ROUTER
    in another, with messages the shape of an EXPN1 SUBMIT (six frames,
    the same body). Measured plain and with CURVE back to back (round
    trips per second, p50, p99), and with CURVE paced at 500 round trips
    per second: at a steady low rate both ends sleep between messages and
    pay a wake-up on each, as the daemons do at 100 requests/s, so the
    paced figures are the baseline the latency ratios use.

    The system: a real expertnet-broker and expertnet-node with real keys
    on loopback. Four experts are registered at the node through its
    control socket ("expert-add"); a SUB on the node's notify socket
    listens to "expert:" in its own thread and timestamps each offer
    notification the moment it arrives. This thread submits requests
    through en_control_call (what `expertnet submit` does) on a fixed
    10 ms schedule and timestamps each just before the call. The path
    measured: control socket -> node commit -> CURVE to the broker ->
    broker group commit, routing -> OFFER through the broker's outbox ->
    node -> notification. A second of warm-up is left out.

    Steady state. An open offer reserves a place in the expert's
    capacity, so a run that never answers would fill every expert and
    turn the rest into hiaten. A third thread closes each request
    ("close" on the control socket, as `expertnet close` does) as soon as
    its notification arrives, so the broker keeps few open offers, as a
    province whose experts keep up would. Its calls run beside the
    submits and add the CLOSE traffic to the load.

    Memory as the stores grow. The broker's and the node's VmRSS and
    VmHWM (/proc/PID/status) are read after the warm-up, at every tenth
    of the run and at its end; the end over the first reading is the
    growth. A run of the default length says little about it; for a long
    one, BENCH_RATE=<requests/s> and BENCH_SECONDS=<seconds measured>
    (e.g. 300 and 100: 30,000 requests, each with its offer, close,
    events and access-log entries in both stores).

    Usage: bench_latency [BIN_DIR]   (default build/bin)
*/
#include "bench_util.h"

#define RATE            100         //  submits per second (BENCH_RATE)
#define WARMUP_SECONDS  1
#define MEASURE_SECONDS 8           //  (BENCH_SECONDS)
#define MEMORY_SAMPLES  12          //  after warm-up, 10 in the run, at the end
#define SETTLE_SECONDS  5           //  wait for the last notifications
#define TARGET_P99_MS   20.0
#define BROKER_NAME     "overijssel"
#define NODE_NAME       "twente"
#define REGION          "twente"

//  --------------------------------------------------------------------
//  Baseline B: raw libzmq round trip

typedef struct {
    void *ctx;                  //  raw libzmq context (shared, thread-safe)
    bool curve;                 //  use CURVE
    char public_key [41];       //  server key pair (z85)
    char secret_key [41];
} s_echo_args_t;

//  Echo server: a raw ROUTER that sends every message back. Tells its
//  endpoint over the pipe, then serves until $TERM.
static void
s_echo_actor (zsock_t *pipe, void *arg)
{
    s_echo_args_t *args = (s_echo_args_t *) arg;
    void *router = zmq_socket (args->ctx, ZMQ_ROUTER);
    int one = 1, zero = 0;
    zmq_setsockopt (router, ZMQ_LINGER, &zero, sizeof zero);
    if (args->curve) {
        zmq_setsockopt (router, ZMQ_CURVE_SERVER, &one, sizeof one);
        zmq_setsockopt (router, ZMQ_CURVE_SECRETKEY, args->secret_key, 40);
    }
    char endpoint [256] = "";
    size_t size = sizeof endpoint;
    if (zmq_bind (router, "tcp://127.0.0.1:*") == 0)
        zmq_getsockopt (router, ZMQ_LAST_ENDPOINT, endpoint, &size);
    zsock_signal (pipe, 0);
    zstr_send (pipe, endpoint);
    zmq_pollitem_t items [] = {
        { router, 0, ZMQ_POLLIN, 0 },
        { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 }
    };
    while (zmq_poll (items, 2, -1) >= 0) {
        if (items [1].revents & ZMQ_POLLIN)
            break;              //  $TERM
        if (items [0].revents & ZMQ_POLLIN) {
            zmq_msg_t frame;
            int more;
            do {
                zmq_msg_init (&frame);
                if (zmq_msg_recv (&frame, router, ZMQ_DONTWAIT) < 0) {
                    zmq_msg_close (&frame);
                    break;
                }
                more = zmq_msg_more (&frame);
                zmq_msg_send (&frame, router, more ? ZMQ_SNDMORE : 0);
            } while (more);
        }
    }
    zmq_close (router);
}

typedef struct {
    double rate;                //  round trips per second
    double p50_us, p99_us;
    size_t count;
} s_rtt_t;

//  Ping-pong for `seconds`; rate 0 = back to back, else paced at rate/s.
static s_rtt_t
s_round_trips (bool curve, double seconds, int rate)
{
    s_echo_args_t args = { .ctx = zmq_ctx_new (), .curve = curve };
    char client_public [41], client_secret [41];
    zmq_curve_keypair (args.public_key, args.secret_key);
    zmq_curve_keypair (client_public, client_secret);
    zactor_t *echo = zactor_new (s_echo_actor, &args);
    char *endpoint = zstr_recv (echo);
    if (!endpoint || !*endpoint)
        bench_fail ("echo server could not bind");

    void *dealer = zmq_socket (args.ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt (dealer, ZMQ_LINGER, &zero, sizeof zero);
    if (curve) {
        zmq_setsockopt (dealer, ZMQ_CURVE_SERVERKEY, args.public_key, 40);
        zmq_setsockopt (dealer, ZMQ_CURVE_PUBLICKEY, client_public, 40);
        zmq_setsockopt (dealer, ZMQ_CURVE_SECRETKEY, client_secret, 40);
    }
    if (zmq_connect (dealer, endpoint))
        bench_fail ("cannot connect to %s", endpoint);
    zstr_free (&endpoint);

    //  The frames of a real SUBMIT
    en_msg_t *msg = en_msg_new ("SUBMIT", NODE_NAME,
        json_pack ("{s:o}", "request", bench_request ("twente-0123456789abcdef", REGION)));
    zmsg_t *frames = en_msg_encode (msg);
    en_msg_destroy (&msg);

    size_t size = 1 << 16, count = 0, warmup = 200;
    double *latency = (double *) malloc (size * sizeof (double));
    int64_t start = 0, stop = 0, now = bench_now_us ();
    for (size_t i = 0; ; i++) {
        if (i == warmup) {
            start = now;
            stop = start + (int64_t) (seconds * 1e6);
        }
        if (i > warmup && now >= stop)
            break;
        if (rate && i >= warmup)
            bench_sleep_until (start + (int64_t) (i - warmup) * 1000000 / rate);
        int64_t sent = bench_now_us ();
        size_t left = zmsg_size (frames);
        for (zframe_t *frame = zmsg_first (frames); frame; frame = zmsg_next (frames))
            zmq_send (dealer, zframe_data (frame), zframe_size (frame), --left ? ZMQ_SNDMORE : 0);
        zmq_msg_t reply;
        int more;
        do {
            zmq_msg_init (&reply);
            if (zmq_msg_recv (&reply, dealer, 0) < 0)
                bench_fail ("round trip failed: %s", zmq_strerror (zmq_errno ()));
            more = zmq_msg_more (&reply);
            zmq_msg_close (&reply);
        } while (more);
        now = bench_now_us ();
        if (i >= warmup) {
            if (count == size) {
                size *= 2;
                latency = (double *) realloc (latency, size * sizeof (double));
            }
            latency [count++] = (double) (now - sent);
        }
    }
    s_rtt_t result = { .count = count, .rate = count / ((now - start) / 1e6) };
    bench_sort (latency, count);
    result.p50_us = bench_percentile (latency, count, 50);
    result.p99_us = bench_percentile (latency, count, 99);
    free (latency);
    zmsg_destroy (&frames);
    zmq_close (dealer);
    zactor_destroy (&echo);
    zmq_ctx_term (args.ctx);
    return result;
}

//  --------------------------------------------------------------------
//  Notifications

#define CLOSER_ENDPOINT "inproc://bench-closer"

//  Closes every request whose id arrives on CLOSER_ENDPOINT; at $TERM
//  sends back how many closes failed.
static void
s_closer_actor (zsock_t *pipe, void *arg)
{
    const char *node_dir = (const char *) arg;
    zsock_t *pull = zsock_new_pull ("@" CLOSER_ENDPOINT);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, pull, NULL);
    int failed = 0;
    while (zpoller_wait (poller, -1) == pull) {
        char *request = zstr_recv (pull);
        json_t *args = json_pack ("{s:s, s:s}", "id", request, "outcome", "benchmark");
        json_t *result = NULL;          //  args is consumed by the call
        if (en_control_call (node_dir, "close", args, 5000, &result, NULL) && failed++ == 0)
            fprintf (stderr, "bench: close %s failed: %s\n", request,
                     en_json_str (result, "error") ?: "no answer");
        json_decref (result);
        zstr_free (&request);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&pull);
    zsock_send (pipe, "i", failed);
}

//  Listens on the node's notify socket; for every offer sends
//  [request_id][arrival time in us] to the pipe, and the request id to
//  the closer.
static void
s_listener_actor (zsock_t *pipe, void *arg)
{
    const char *endpoint = (const char *) arg;
    zsock_t *sub = zsock_new_sub (endpoint, "expert:");
    zsock_t *closer = zsock_new_push (">" CLOSER_ENDPOINT);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, sub, NULL);
    while (true) {
        zsock_t *which = (zsock_t *) zpoller_wait (poller, -1);
        if (which != sub)
            break;              //  $TERM or interrupted
        char *topic = NULL, *text = NULL;
        if (zstr_recvx (sub, &topic, &text, NULL) == 2) {
            int64_t at = bench_now_us ();
            json_t *event = json_loads (text, 0, NULL);
            const char *type = en_json_str (event, "type");
            const char *request = en_json_str (json_object_get (event, "offer"), "request_id");
            if (type && streq (type, "offer") && request) {
                char stamp [32];
                snprintf (stamp, sizeof stamp, "%lld", (long long) at);
                zstr_sendx (pipe, request, stamp, NULL);
                zstr_send (closer, request);
            }
            json_decref (event);
        }
        zstr_free (&topic);
        zstr_free (&text);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&closer);
    zsock_destroy (&sub);
}

typedef struct {
    char run [9];               //  random run id, part of request ids
    int64_t *submitted;         //  us before each submit call, by index
    int64_t *notified;          //  us of its notification, 0 = none yet
    double *call_ms;            //  duration of each submit call
    size_t total;               //  requests planned
    size_t received;            //  notifications matched
    size_t failed;              //  submit calls that failed
} s_run_t;

//  Take every notification waiting on the listener's pipe.
static void
s_collect (s_run_t *self, zactor_t *listener)
{
    zsock_t *pipe = zactor_sock (listener);
    while (zsock_events (pipe) & ZMQ_POLLIN) {
        char *request = NULL, *stamp = NULL;
        if (zstr_recvx (listener, &request, &stamp, NULL) == 2) {
            char run [16] = "";
            size_t index = 0;
            if (sscanf (request, "lat-%8[0-9a-f]-%zu", run, &index) == 2
            &&  streq (run, self->run) && index < self->total && !self->notified [index]) {
                self->notified [index] = atoll (stamp);
                self->received++;
            }
        }
        zstr_free (&request);
        zstr_free (&stamp);
    }
}

static int
s_submit (s_run_t *self, const char *node_dir, size_t index)
{
    char id [64];
    snprintf (id, sizeof id, "lat-%s-%zu", self->run, index);
    json_t *args = json_pack ("{s:o}", "request", bench_request (id, REGION));
    json_t *result = NULL;
    int64_t start = bench_now_us ();
    self->submitted [index] = start;
    int rc = en_control_call (node_dir, "submit", args, 5000, &result, NULL);
    self->call_ms [index] = (bench_now_us () - start) / 1000.0;
    if (rc) {
        if (self->failed++ == 0)
            fprintf (stderr, "bench: submit failed: %s\n",
                     !result ? "no answer" : en_json_str (result, "error") ?: "?");
    }
    json_decref (result);
    return rc;
}


//  Resident memory of both daemons at one moment.
typedef struct {
    size_t requests;            //  submitted so far
    long broker_rss, broker_hwm, node_rss, node_hwm;    //  KiB
} s_memory_t;

static void
s_memory_sample (s_memory_t *sample, size_t requests, pid_t broker, pid_t node)
{
    sample->requests = requests;
    bench_memory_kb (broker, &sample->broker_rss, &sample->broker_hwm);
    bench_memory_kb (node, &sample->node_rss, &sample->node_hwm);
}

//  The samples as a series, and the growth from the first to the last.
static void
s_memory_report (const s_memory_t *samples, size_t count)
{
    char series [2][600] = { "", "" };
    for (size_t i = 0; i < count; i++) {
        size_t used = strlen (series [0]);
        snprintf (series [0] + used, sizeof series [0] - used, "%s%zu:%.1f", i ? " " : "",
                  samples [i].requests, samples [i].broker_rss / 1024.0);
        used = strlen (series [1]);
        snprintf (series [1] + used, sizeof series [1] - used, "%s%zu:%.1f", i ? " " : "",
                  samples [i].requests, samples [i].node_rss / 1024.0);
    }
    bench_note ("broker VmRSS MiB by requests submitted: %s", series [0]);
    bench_note ("node VmRSS MiB by requests submitted: %s", series [1]);
    //  The page caches fill in the first part of a long run (SQLite's is
    //  capped at 16 MiB a connection, en_db.c); growth after half-way
    //  is what would go on with the store
    const s_memory_t *first = &samples [0], *last = &samples [count - 1];
    const s_memory_t *middle = &samples [count / 2];
    bench_result ("broker VmRSS growth, second half", last->broker_rss / 1024.0, "MiB",
                  "broker VmRSS half-way", middle->broker_rss / 1024.0, "flat", "-");
    bench_result ("node VmRSS growth, second half", last->node_rss / 1024.0, "MiB",
                  "node VmRSS half-way", middle->node_rss / 1024.0, "flat", "-");
    bench_result ("broker VmRSS at the end", last->broker_rss / 1024.0, "MiB",
                  "broker VmRSS after warm-up", first->broker_rss / 1024.0, "flat", "-");
    bench_result ("broker VmHWM at the end", last->broker_hwm / 1024.0, "MiB",
                  "broker VmHWM after warm-up", first->broker_hwm / 1024.0, "flat", "-");
    bench_result ("node VmRSS at the end", last->node_rss / 1024.0, "MiB",
                  "node VmRSS after warm-up", first->node_rss / 1024.0, "flat", "-");
    bench_result ("node VmHWM at the end", last->node_hwm / 1024.0, "MiB",
                  "node VmHWM after warm-up", first->node_hwm / 1024.0, "flat", "-");
}

//  A positive whole number from the environment, or fallback.
static long
s_env_long (const char *name, long fallback)
{
    const char *text = getenv (name);
    long value = text ? atol (text) : 0;
    return value > 0 ? value : fallback;
}

static bool
s_node_connected (json_t *status, void *arg)
{
    return json_is_true (json_object_get (status, "connected"));
}

static bool
s_four_experts (json_t *experts, void *arg)
{
    return json_array_size (experts) == 4;
}

int
main (int argc, char *argv [])
{
    const char *bin_dir = argc > 1 ? argv [1] : "build/bin";
    const char *scratch = bench_init ("bench_latency");
    long rate = s_env_long ("BENCH_RATE", RATE);
    long measure_seconds = s_env_long ("BENCH_SECONDS", MEASURE_SECONDS);
    printf ("bench_latency: submit -> expert notification at %ld/s vs raw libzmq round trip\n", rate);

    s_rtt_t plain = s_round_trips (false, 1.5, 0);
    s_rtt_t curve = s_round_trips (true, 1.5, 0);
    s_rtt_t paced = s_round_trips (true, 2.0, 500);
    printf ("  baseline B plain:          %8.0f rt/s  p50 %7.1f us  p99 %7.1f us\n", plain.rate, plain.p50_us, plain.p99_us);
    printf ("  baseline B CURVE:          %8.0f rt/s  p50 %7.1f us  p99 %7.1f us\n", curve.rate, curve.p50_us, curve.p99_us);
    printf ("  baseline B CURVE @500/s:   %8.0f rt/s  p50 %7.1f us  p99 %7.1f us\n", paced.rate, paced.p50_us, paced.p99_us);

    //  Broker and node, keys, node config
    char broker_dir [PATH_MAX], node_dir [PATH_MAX], path [PATH_MAX], endpoint [64];
    bench_path (broker_dir, sizeof broker_dir, "%s/broker", scratch);
    bench_path (node_dir, sizeof node_dir, "%s/node", scratch);
    const char *names [] = { NODE_NAME }, *dirs [] = { node_dir };
    bench_make_keys (broker_dir, BROKER_NAME, names, dirs, 1);
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", bench_free_port ());
    pid_t broker = bench_start_broker (bin_dir, broker_dir, endpoint);

    bench_path (path, sizeof path, "%s/node.cfg", scratch);
    FILE *config = fopen (path, "w");
    if (!config)
        bench_fail ("cannot write %s", path);
    fprintf (config, "node\n    name = \"%s\"\n    region = \"%s\"\n    datadir = \"%s\"\n"
                     "broker\n    endpoint = \"%s\"\n", NODE_NAME, REGION, node_dir, endpoint);
    fclose (config);
    char program [PATH_MAX], node_log [PATH_MAX], broker_log [PATH_MAX];
    bench_path (program, sizeof program, "%s/expertnet-node", bin_dir);
    bench_path (node_log, sizeof node_log, "%s/node.log", scratch);
    bench_path (broker_log, sizeof broker_log, "%s/broker.log", broker_dir);
    char *node_argv [] = { program, "-c", path, NULL };
    pid_t node = bench_spawn (node_log, node_argv);
    if (!bench_wait_control (node_dir, "status", s_node_connected, NULL, 15000)) {
        bench_log_tail (node_log);
        bench_log_tail (broker_log);
        bench_fail ("expertnet-node did not connect to the broker within 15 s");
    }
    for (int i = 0; i < 4; i++) {
        char id [32];
        snprintf (id, sizeof id, "expert-%d", i);
        json_t *args = json_pack ("{s:{s:s, s:s, s:[s,s], s:i}}", "expert", "id", id,
                                  "role", "superexpert", "expertise", "trauma", "hechting",
                                  "capacity", EN_MAX_CAPACITY);
        json_t *result = NULL;
        int rc = en_control_call (node_dir, "expert-add", args, 5000, &result, NULL);
        if (rc)
            bench_fail ("expert-add failed: %s", !result ? "no answer" : en_json_str (result, "error") ?: "?");
        json_decref (result);
    }
    if (!bench_wait_control (broker_dir, "experts", s_four_experts, NULL, 10000))
        bench_fail ("the broker did not learn the node's experts within 10 s");

    char notify [PATH_MAX + 16];
    bench_path (notify, sizeof notify, "ipc://%s/notify.sock", node_dir);
    zactor_t *closer = zactor_new (s_closer_actor, node_dir);
    zactor_t *listener = zactor_new (s_listener_actor, notify);

    s_run_t run = { 0 };
    en_random_hex (run.run, 8);
    run.total = 1 + (size_t) ((WARMUP_SECONDS + measure_seconds) * rate);
    run.submitted = (int64_t *) calloc (run.total, sizeof (int64_t));
    run.notified = (int64_t *) calloc (run.total, sizeof (int64_t));
    run.call_ms = (double *) calloc (run.total, sizeof (double));

    //  Request 0 proves the whole path, subscription included
    int64_t give_up = bench_now_us () + 10000000;
    s_submit (&run, node_dir, 0);
    while (!run.notified [0] && bench_now_us () < give_up) {
        usleep (10000);
        s_collect (&run, listener);
    }
    if (!run.notified [0]) {
        bench_log_tail (node_log);
        bench_log_tail (broker_log);
        bench_fail ("the first request did not reach the expert within 10 s");
    }

    //  The paced run
    double broker_cpu = bench_cpu_seconds (broker), node_cpu = bench_cpu_seconds (node);
    int64_t start = bench_now_us () + 10000;
    size_t first = 1 + WARMUP_SECONDS * (size_t) rate;
    s_memory_t memory [MEMORY_SAMPLES];
    size_t samples = 0, step = MAX ((run.total - first) / (MEMORY_SAMPLES - 2), (size_t) 1);
    for (size_t i = 1; i < run.total; i++) {
        bench_sleep_until (start + (int64_t) (i - 1) * 1000000 / rate);
        s_submit (&run, node_dir, i);
        s_collect (&run, listener);
        if (i >= first && (i - first) % step == 0 && samples < MEMORY_SAMPLES - 1)
            s_memory_sample (&memory [samples++], i, broker, node);
    }
    int64_t last_submit = run.submitted [run.total - 1];
    give_up = bench_now_us () + SETTLE_SECONDS * 1000000LL;
    while (run.received < run.total - run.failed && bench_now_us () < give_up) {
        usleep (5000);
        s_collect (&run, listener);
    }
    double seconds = (bench_now_us () - start) / 1e6;
    s_memory_sample (&memory [samples++], run.total - 1, broker, node);
    broker_cpu = bench_cpu_seconds (broker) - broker_cpu;
    node_cpu = bench_cpu_seconds (node) - node_cpu;
    zactor_destroy (&listener);
    //  Ask the closer to stop and say how many closes failed
    zstr_send (closer, "$TERM");
    int close_failures = 0;
    if (zsock_recv (closer, "i", &close_failures) != 0)
        close_failures = -1;
    zactor_destroy (&closer);

    //  Figures for the measured part (after the warm-up)
    size_t measured = run.total - first, count = 0, missing = 0;
    double *latency = (double *) calloc (measured, sizeof (double));
    double *calls = (double *) calloc (measured, sizeof (double));
    for (size_t i = first; i < run.total; i++) {
        calls [i - first] = run.call_ms [i];
        if (run.notified [i])
            latency [count++] = (run.notified [i] - run.submitted [i]) / 1000.0;
        else
            missing++;
    }
    //  First and second half apart: does latency drift as the stores grow?
    double halves [2][2];
    for (int half = 0; half < 2; half++) {
        size_t from = half ? count / 2 : 0, to = half ? count : count / 2;
        double *part = (double *) malloc ((to - from + 1) * sizeof (double));
        memcpy (part, latency + from, (to - from) * sizeof (double));
        bench_sort (part, to - from);
        halves [half][0] = bench_percentile (part, to - from, 50);
        halves [half][1] = bench_percentile (part, to - from, 99);
        free (part);
    }
    bench_sort (latency, count);
    bench_sort (calls, measured);
    double p50 = bench_percentile (latency, count, 50);
    double p99 = bench_percentile (latency, count, 99);
    double max = count ? latency [count - 1] : NAN;
    double achieved = (measured - 1) / ((last_submit - run.submitted [first]) / 1e6);

    int broker_status = bench_stop (broker);
    int node_status = bench_stop (node);

    printf ("  %zu requests measured at %.1f/s (after %zu warm-up), %zu notified, %zu missing,"
            " %zu submit failures, %d close failures\n",
            measured, achieved, first - 1, count, missing, run.failed, close_failures);
    char label [3][64];
    snprintf (label [0], sizeof label [0], "submit->notification p50 @%ld/s", rate);
    snprintf (label [1], sizeof label [1], "submit->notification p99 @%ld/s", rate);
    snprintf (label [2], sizeof label [2], "submit->notification max @%ld/s", rate);
    bench_result (label [0], p50, "ms", "zmq CURVE RTT p50 @500/s", paced.p50_us / 1000, "-", "-");
    bench_result (label [1], p99, "ms", "zmq CURVE RTT p99 @500/s", paced.p99_us / 1000,
                  rate == RATE ? "< 20 ms" : "-", rate != RATE ? "-" : p99 < TARGET_P99_MS ? "yes" : "no");
    bench_result (label [2], max, "ms", "zmq CURVE RTT p99 @500/s", paced.p99_us / 1000, "-", "-");
    bench_result ("submit call (node commit) p50", bench_percentile (calls, measured, 50), "ms",
                  "zmq CURVE RTT p50 @500/s", paced.p50_us / 1000, "-", "-");
    bench_result ("submit call (node commit) p99", bench_percentile (calls, measured, 99), "ms",
                  "zmq CURVE RTT p99 @500/s", paced.p99_us / 1000, "-", "-");
    bench_result ("zmq plain RTT round trips/s", plain.rate, "/s", "(baseline B itself)", plain.rate, "-", "-");
    bench_result ("zmq CURVE RTT round trips/s", curve.rate, "/s", "zmq plain RTT round trips/s", plain.rate, "-", "-");
    bench_note ("baseline B back to back: plain p50 %.1f us p99 %.1f us; CURVE p50 %.1f us p99 %.1f us;"
                " CURVE paced at 500/s p50 %.1f us p99 %.1f us",
                plain.p50_us, plain.p99_us, curve.p50_us, curve.p99_us, paced.p50_us, paced.p99_us);
    bench_note ("submit->notification p50/p99: first half of the run %.2f/%.2f ms, second half %.2f/%.2f ms",
                halves [0][0], halves [0][1], halves [1][0], halves [1][1]);
    bench_note ("CPU during the %ld/s run: broker %.1f%% of one core, node %.1f%%",
                rate, 100 * broker_cpu / seconds, 100 * node_cpu / seconds);
    s_memory_report (memory, samples);

    free (latency);
    free (calls);
    free (run.submitted);
    free (run.notified);
    free (run.call_ms);
    if (missing || run.failed) {
        bench_log_tail (node_log);
        bench_fail ("the run did not complete: %zu notifications missing, %zu submits failed",
                    missing, run.failed);
    }
    if (!WIFEXITED (broker_status) || WEXITSTATUS (broker_status) != 0
    ||  !WIFEXITED (node_status) || WEXITSTATUS (node_status) != 0)
        fprintf (stderr, "bench: a daemon did not stop cleanly (broker %d, node %d)\n",
                 broker_status, node_status);
    return 0;
}
