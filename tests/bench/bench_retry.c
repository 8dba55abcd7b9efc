/*  bench_retry - the outbox flush and the retransmission interval
    (issue 12, targets 3 and 4; lib/en_outbox.c).

    (a) Flush cost against queue depth. One destination holds 10 or
        10,000 messages sent and not yet acknowledged (a slow peer); the
        broker keeps putting messages and flushing after each. Timed (the
        median): the flush that sends one new message, which is then
        ACKed; the rounds of the two depths interleaved, so both see the
        same load on the machine. Baseline in the same run: the
        same with 10 unacknowledged. For reference, the query the flush
        used to run (every unacknowledged row of the destination, body
        included) is timed on the same table.
    (b) Retransmissions to a slow-acknowledging peer. A peer that ACKs
        each message 3x the retry interval after it first received it (a
        slow disk: its ACKs queue behind its fsyncs); a message put every
        2 ms for 1.5 s, the outbox flushed every 5 ms. Counted: copies
        sent per message beyond the first. Baseline in the same run: the
        fixed interval (en_outbox_set_fixed, the policy before).

    In-process on a real SQLite file in the scratch directory; the
    transport is a function that records what it was handed.
*/
#include "bench_util.h"

#define FLUSH_ROUNDS    2000        //  timed flushes per depth
#define SCAN_ROUNDS     200         //  timed runs of the old query per depth
#define FLOOR_MS        50          //  configured retry in (b)
#define ACK_DELAY_MS    (3 * FLOOR_MS)
#define PUT_EVERY_MS    2
#define PUT_FOR_MS      1500
#define FLUSH_EVERY_MS  5

static const char *s_migrations [] = { EN_OUTBOX_SCHEMA, EN_SEEN_DIGEST_MIGRATION, NULL };

//  The slow peer: when it first received each message.
typedef struct {
    zhashx_t *first_seen;           //  msg_id -> int64_t * ms
    zlistx_t *order;                //  msg_ids in first-receipt order
    int64_t copies;                 //  every copy handed over
} s_peer_t;

//  Monotonic time in µs with a fraction (a flush takes a few µs).
static double
s_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

static int
s_discard (const char *dest, en_msg_t *msg, void *arg)
{
    return 0;
}

static int
s_peer_receive (const char *dest, en_msg_t *msg, void *arg)
{
    s_peer_t *peer = (s_peer_t *) arg;
    peer->copies++;
    if (!zhashx_lookup (peer->first_seen, en_msg_id (msg))) {
        int64_t *at = (int64_t *) malloc (sizeof (int64_t));
        *at = en_now_ms ();
        zhashx_insert (peer->first_seen, en_msg_id (msg), at);
        zlistx_add_end (peer->order, strdup (en_msg_id (msg)));
    }
    return 0;
}

static en_db_t *
s_open (const char *scratch, const char *name)
{
    char path [PATH_MAX];
    bench_path (path, sizeof path, "%s/%s.db", scratch, name);
    en_error_t error = { 0 };
    en_db_t *db = en_db_new (path, s_migrations, &error);
    if (!db)
        bench_fail ("%s: %s", path, error.reason);
    en_db_exec (db, "PRAGMA synchronous = OFF", NULL);     //  time the CPU, not the disk
    return db;
}

static char *
s_put (en_outbox_t *outbox, int n)
{
    en_msg_t *msg = en_msg_new ("STATUS", "broker-oost",
        json_pack ("{s:s, s:i, s:s}", "request", "twente-0001", "n", n, "status", "matched"));
    char *id = strdup (en_msg_id (msg));
    if (en_outbox_put (outbox, "node-twente", msg))
        bench_fail ("outbox put failed");
    en_msg_destroy (&msg);
    return id;
}

//  (a) One outbox with depth messages sent and not acknowledged.
typedef struct {
    en_db_t *db;
    en_outbox_t *outbox;
    int depth;
    int next;                       //  number of the next message
    double *times;                  //  µs of each timed flush
} s_queue_t;

static void
s_queue_open (s_queue_t *queue, const char *scratch, int depth)
{
    char name [32];
    snprintf (name, sizeof name, "flush-%d", depth);
    queue->db = s_open (scratch, name);
    queue->outbox = en_outbox_new (queue->db);
    queue->depth = queue->next = depth;
    queue->times = (double *) calloc (FLUSH_ROUNDS, sizeof (double));
    en_db_begin (queue->db);
    for (int i = 0; i < depth; i++)
        free (s_put (queue->outbox, i));
    en_db_commit (queue->db);
    en_outbox_flush (queue->outbox, "node-twente", 60000, depth, s_discard, NULL);
}

//  Put one message, time the flush that sends it, ACK it.
static void
s_queue_round (s_queue_t *queue, int round)
{
    char *id = s_put (queue->outbox, queue->next++);
    double start = s_now_us ();
    if (en_outbox_flush (queue->outbox, "node-twente", 60000, 1000, s_discard, NULL) != 1)
        bench_fail ("flush did not send exactly the new message");
    queue->times [round] = s_now_us () - start;
    en_outbox_ack (queue->outbox, "node-twente", id, NULL);
    free (id);
}

//  Median µs of the query the flush ran before, on this queue's table.
static double
s_queue_old_query (s_queue_t *queue)
{
    for (int round = 0; round < SCAN_ROUNDS; round++) {
        double start = s_now_us ();
        sqlite3_stmt *stmt = en_db_query (queue->db,
            "SELECT dest, msg_id, command, sender, ts, body FROM outbox WHERE dest = ? ORDER BY seq",
            "s", "node-twente");
        while (stmt && sqlite3_step (stmt) == SQLITE_ROW)
            (void) sqlite3_column_text (stmt, 5);
        if (stmt)
            sqlite3_reset (stmt);
        queue->times [round] = s_now_us () - start;
    }
    bench_sort (queue->times, SCAN_ROUNDS);
    return bench_percentile (queue->times, SCAN_ROUNDS, 50);
}

static void
s_queue_close (s_queue_t *queue)
{
    free (queue->times);
    en_outbox_destroy (&queue->outbox);
    en_db_destroy (&queue->db);
}

//  Median flush µs with 10 and with 10,000 unacknowledged, the rounds
//  of the two interleaved so both see the same load on the machine; and
//  the old query's median on each.
static void
s_flush_cost (const char *scratch, double *small, double *large, double *old_small, double *old_large)
{
    s_queue_t a, b;
    s_queue_open (&a, scratch, 10);
    s_queue_open (&b, scratch, 10000);
    for (int round = 0; round < FLUSH_ROUNDS; round++) {
        s_queue_round (&a, round);
        s_queue_round (&b, round);
    }
    bench_sort (a.times, FLUSH_ROUNDS);
    bench_sort (b.times, FLUSH_ROUNDS);
    *small = bench_percentile (a.times, FLUSH_ROUNDS, 50);
    *large = bench_percentile (b.times, FLUSH_ROUNDS, 50);
    *old_small = s_queue_old_query (&a);
    *old_large = s_queue_old_query (&b);
    s_queue_close (&a);
    s_queue_close (&b);
}

//  ACK what the peer has held for ACK_DELAY_MS.
static void
s_peer_ack (s_peer_t *peer, en_outbox_t *outbox, int64_t now, int64_t *acked)
{
    char *id;
    while ((id = (char *) zlistx_first (peer->order))) {
        int64_t *at = (int64_t *) zhashx_lookup (peer->first_seen, id);
        if (now - *at < ACK_DELAY_MS)
            break;
        if (en_outbox_ack (outbox, "node-twente", id, NULL) == 0)
            (*acked)++;
        zlistx_delete (peer->order, zlistx_cursor (peer->order));
    }
}

//  (b) Copies beyond the first per message, fixed or adaptive interval.
static double
s_resends (const char *scratch, bool fixed, int64_t *rto_ms)
{
    en_db_t *db = s_open (scratch, fixed ? "slow-fixed" : "slow-adaptive");
    en_outbox_t *outbox = en_outbox_new (db);
    en_outbox_set_fixed (outbox, fixed);
    s_peer_t peer = { zhashx_new (), zlistx_new (), 0 };
    zhashx_set_destructor (peer.first_seen, (zhashx_destructor_fn *) zstr_free);
    zlistx_set_destructor (peer.order, (zlistx_destructor_fn *) zstr_free);
    int64_t start = en_now_ms (), next_put = start, put = 0, acked = 0;
    while (put == 0 || acked < put) {
        int64_t now = en_now_ms ();
        if (now - start > 30000)
            bench_fail ("slow peer: %" PRId64 " of %" PRId64 " acknowledged after 30 s", acked, put);
        while (now - start < PUT_FOR_MS && now >= next_put) {
            free (s_put (outbox, (int) put++));
            next_put += PUT_EVERY_MS;
        }
        en_outbox_flush (outbox, "node-twente", FLOOR_MS, 1000, s_peer_receive, &peer);
        s_peer_ack (&peer, outbox, en_now_ms (), &acked);
        zclock_sleep (FLUSH_EVERY_MS);
    }
    *rto_ms = en_outbox_rto (outbox, "node-twente", FLOOR_MS);
    double per_message = (double) (peer.copies - put) / put;
    zhashx_destroy (&peer.first_seen);
    zlistx_destroy (&peer.order);
    en_outbox_destroy (&outbox);
    en_db_destroy (&db);
    return per_message;
}

int
main (int argc, char *argv [])
{
    const char *scratch = bench_init ("bench_retry");
    printf ("bench_retry: outbox flush cost against depth; resends to a slow peer\n");

    double small, large, scan_small, scan_large;
    s_flush_cost (scratch, &small, &large, &scan_small, &scan_large);
    bench_result ("flush p50, 10,000 unacked", large, "us", "flush p50, 10 unacked", small,
                  "<= 1.3x", large <= 1.3 * small ? "yes" : "no");
    bench_result ("old flush query p50, 10,000 unacked", scan_large, "us", "old flush query p50, 10 unacked",
                  scan_small, "-", "-");

    int64_t rto_fixed, rto_adaptive;
    double fixed = s_resends (scratch, true, &rto_fixed);
    double adaptive = s_resends (scratch, false, &rto_adaptive);
    bench_result ("resends/msg, ACK after 3x retry, adaptive", adaptive, "", "same, fixed 1x retry interval",
                  fixed, "< 0.25x", adaptive < 0.25 * fixed ? "yes" : "no");
    bench_note ("bench_retry: slow peer ACKs %d ms after receipt, retry %d ms; interval at the end: "
                "adaptive %" PRId64 " ms, fixed %" PRId64 " ms", ACK_DELAY_MS, FLOOR_MS,
                rto_adaptive, rto_fixed);
    return 0;
}
