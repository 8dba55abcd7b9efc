/*  bench_peers - two message brokers from Debian beside expertnet, as
    peers: their durable publish-with-acknowledgement rate against the
    raw SQLite commit rate measured in the same run.

    Baseline A: the raw one-row-per-transaction commit rate (WAL,
    synchronous=FULL), in the same scratch directory as the peers' data,
    before and after the peers run; the ratio uses their mean, as in
    bench_durable (whose broker figure is against the same baseline).

    The peers, each a real daemon on 127.0.0.1 and a free port, with its
    data in the scratch directory, stopped by PID:
    * Mosquitto (Debian's mosquitto) with persistence on. A subscriber
      with a persistent session (clean session off) subscribes at QoS 1
      and goes away, so every message is queued for it (stored, not
      dropped); then a publisher sends QoS 1 PUBLISHes and counts PUBACKs.
    * NATS JetStream (Debian's nats-server -js) with a file-storage
      stream; the publisher sends PUBs with a reply subject and counts
      the stream's publish acknowledgements.
    This program speaks MQTT 3.1.1 and the NATS text protocol itself over
    a TCP socket (Debian ships no NATS C client), keeping WINDOW
    publishes unacknowledged for DURATION seconds like bench_durable's
    fake node, with a payload the size of a request summary.

    Neither peer syncs each message to disk before it acknowledges it
    (the note lines say what each promises); the broker does. The ratios
    say what that promise costs, not which is faster at the same promise.

    Usage: bench_peers [BIN_DIR]   (BIN_DIR unused: the peers are Debian's)
*/
#include "bench_util.h"
#include <arpa/inet.h>
#include <poll.h>
#include <pwd.h>

#define SQLITE_SECONDS  2.0         //  per baseline run
#define DURATION        4.0         //  seconds of publishing to each peer
#define WINDOW          500         //  publishes unacknowledged at most
#define DRAIN_TIMEOUT   20.0        //  seconds to wait for the last acks
#define MOSQUITTO       "/usr/sbin/mosquitto"
#define NATS_SERVER     "/usr/sbin/nats-server"

//  A TCP connection with a read buffer, and a protocol's frame parser.
typedef struct s_conn_t s_conn_t;
//  Parse one frame at the start of buf (len bytes): bytes it takes, 0 if
//  incomplete. Counts acknowledgements in conn->acks.
typedef size_t (s_parse_fn) (s_conn_t *conn, const uint8_t *buf, size_t len);
struct s_conn_t {
    int fd;
    uint8_t in [1 << 16];
    size_t in_len;
    size_t acks;                //  publishes acknowledged
    size_t replies;             //  other answers (CONNACK, SUBACK, API replies)
    s_parse_fn *parse;
    const char *peer;           //  for messages
};

static void
s_write_all (s_conn_t *conn, const void *data, size_t len)
{
    const uint8_t *at = (const uint8_t *) data;
    while (len > 0) {
        ssize_t sent = write (conn->fd, at, len);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0)
            bench_fail ("%s: write: %s", conn->peer, strerror (errno));
        at += sent;
        len -= (size_t) sent;
    }
}

//  Connect to 127.0.0.1:port, retrying for up to 10 s while the daemon starts.
static void
s_connect (s_conn_t *conn, int port, pid_t daemon, const char *log)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (port),
                                .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    int64_t give_up = bench_now_us () + 10000000;
    while (true) {
        conn->fd = socket (AF_INET, SOCK_STREAM, 0);
        if (connect (conn->fd, (struct sockaddr *) &addr, sizeof addr) == 0)
            break;
        close (conn->fd);
        if (!bench_alive (daemon) || bench_now_us () > give_up) {
            bench_log_tail (log);
            bench_fail ("%s did not accept connections on port %d", conn->peer, port);
        }
        usleep (20000);
    }
    conn->in_len = 0;
}

//  Read what has arrived within timeout_ms and parse every whole frame.
static void
s_read (s_conn_t *conn, int timeout_ms)
{
    struct pollfd item = { conn->fd, POLLIN, 0 };
    if (poll (&item, 1, timeout_ms) <= 0)
        return;
    ssize_t got = read (conn->fd, conn->in + conn->in_len, sizeof conn->in - conn->in_len);
    if (got <= 0)
        bench_fail ("%s closed the connection", conn->peer);
    conn->in_len += (size_t) got;
    size_t at = 0, used;
    while (at < conn->in_len && (used = conn->parse (conn, conn->in + at, conn->in_len - at)) > 0)
        at += used;
    memmove (conn->in, conn->in + at, conn->in_len - at);
    conn->in_len -= at;
    if (conn->in_len == sizeof conn->in)
        bench_fail ("%s: a frame larger than the read buffer", conn->peer);
}

//  Read until conn->replies reaches count, for up to 5 s.
static void
s_await_replies (s_conn_t *conn, size_t count, const char *what)
{
    int64_t give_up = bench_now_us () + 5000000;
    while (conn->replies < count && bench_now_us () < give_up)
        s_read (conn, 100);
    if (conn->replies < count)
        bench_fail ("%s: no answer to %s", conn->peer, what);
}

//  Builds one publish frame (number `seq`) into buf; its length.
typedef size_t (s_frame_fn) (uint8_t *buf, size_t size, size_t seq, const char *payload);

typedef struct {
    double rate;                //  publishes acknowledged per second
    size_t acked;
} s_run_t;

//  Keep WINDOW publishes unacknowledged for DURATION s, then wait for the
//  last acknowledgements.
static s_run_t
s_publish (s_conn_t *conn, s_frame_fn *frame, const char *payload)
{
    size_t size = 1 << 20, sent = 0;
    uint8_t *out = (uint8_t *) malloc (size);
    conn->acks = 0;
    int64_t start = bench_now_us ();
    int64_t stop = start + (int64_t) (DURATION * 1e6);
    int64_t give_up = stop + (int64_t) (DRAIN_TIMEOUT * 1e6);
    int64_t last_ack = start;
    while (bench_now_us () < give_up && (bench_now_us () < stop || conn->acks < sent)) {
        size_t len = 0;
        while (bench_now_us () < stop && sent - conn->acks < WINDOW && len + 4096 < size)
            len += frame (out + len, size - len, sent++, payload);
        if (len)
            s_write_all (conn, out, len);
        size_t before = conn->acks;
        s_read (conn, 100);
        if (conn->acks > before)
            last_ack = bench_now_us ();
    }
    free (out);
    if (conn->acks < sent)
        bench_fail ("%s: %zu of %zu publishes were not acknowledged", conn->peer,
                    sent - conn->acks, sent);
    s_run_t run = { .acked = conn->acks, .rate = conn->acks / ((last_ack - start) / 1e6) };
    printf ("  %s: %zu publishes acknowledged in %.2f s = %.0f/s\n", conn->peer,
            run.acked, (last_ack - start) / 1e6, run.rate);
    fflush (stdout);
    return run;
}


static void
s_write_file (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    if (!file || fputs (text, file) < 0 || fclose (file))
        bench_fail ("cannot write %s", path);
}

//  A peer's directory NAME in the scratch directory, with NAME.conf and
//  NAME.log paths in it, and a free port for it.
typedef struct {
    char dir [PATH_MAX], conf [PATH_MAX], log [PATH_MAX];
    char text [PATH_MAX + 256];         //  its configuration
    int port;
} s_peer_t;

static void
s_peer_prepare (s_peer_t *peer, const char *scratch, const char *name)
{
    bench_path (peer->dir, sizeof peer->dir, "%s/%s", scratch, name);
    en_mkdir_p (peer->dir, 0700);
    bench_path (peer->conf, sizeof peer->conf, "%s/%s.conf", peer->dir, name);
    bench_path (peer->log, sizeof peer->log, "%s/%s.log", peer->dir, name);
    peer->port = bench_free_port ();
}

//  Write the peer's configuration (peer->text) and start program -c it.
static pid_t
s_peer_start (s_peer_t *peer, const char *program)
{
    s_write_file (peer->conf, peer->text);
    char *argv [] = { (char *) program, "-c", peer->conf, NULL };
    return bench_spawn (peer->log, argv);
}

//  --------------------------------------------------------------------
//  MQTT 3.1.1 (just what a QoS 1 publisher and a subscriber need)

//  Fixed header: type/flags, then the remaining length as a varint.
static size_t
s_mqtt_header (uint8_t *buf, uint8_t type, size_t remaining)
{
    size_t len = 0;
    buf [len++] = type;
    do {
        uint8_t byte = remaining % 128;
        remaining /= 128;
        buf [len++] = byte | (remaining ? 0x80 : 0);
    } while (remaining);
    return len;
}

static size_t
s_mqtt_string (uint8_t *buf, const char *text)
{
    size_t len = strlen (text);
    buf [0] = (uint8_t) (len >> 8);
    buf [1] = (uint8_t) len;
    memcpy (buf + 2, text, len);
    return len + 2;
}

//  CONNECT with a client id; clean session on or off.
static void
s_mqtt_connect (s_conn_t *conn, const char *client, bool clean)
{
    uint8_t body [256], frame [300];
    size_t len = s_mqtt_string (body, "MQTT");
    body [len++] = 4;                           //  protocol level 3.1.1
    body [len++] = clean ? 0x02 : 0x00;
    body [len++] = 0;
    body [len++] = 60;                          //  keep-alive, s
    len += s_mqtt_string (body + len, client);
    size_t head = s_mqtt_header (frame, 0x10, len);
    memcpy (frame + head, body, len);
    s_write_all (conn, frame, head + len);
    s_await_replies (conn, conn->replies + 1, "CONNECT");
}

static size_t
s_mqtt_parse (s_conn_t *conn, const uint8_t *buf, size_t len)
{
    size_t remaining = 0, at = 1;
    for (int shift = 0; ; shift += 7) {
        if (at >= len)
            return 0;
        remaining |= (size_t) (buf [at] & 0x7f) << shift;
        if (!(buf [at++] & 0x80))
            break;
    }
    if (len < at + remaining)
        return 0;
    uint8_t type = buf [0] >> 4;
    if (type == 4)                              //  PUBACK
        conn->acks++;
    else
    if (type == 2 && remaining >= 2 && buf [at + 1] != 0)
        bench_fail ("mosquitto refused the connection (code %d)", buf [at + 1]);
    else
        conn->replies++;                        //  CONNACK, SUBACK, ...
    return at + remaining;
}

static size_t
s_mqtt_publish (uint8_t *buf, size_t size, size_t seq, const char *payload)
{
    size_t topic = 2 + strlen ("bench/requests"), data = strlen (payload);
    size_t len = s_mqtt_header (buf, 0x32, topic + 2 + data);      //  QoS 1
    len += s_mqtt_string (buf + len, "bench/requests");
    uint16_t id = (uint16_t) (seq % 65535 + 1);
    buf [len++] = (uint8_t) (id >> 8);
    buf [len++] = (uint8_t) id;
    memcpy (buf + len, payload, data);
    return len + data;
}

//  Mosquitto with persistence, a stored subscription, then the publisher.
static s_run_t
s_mosquitto (const char *scratch, const char *payload)
{
    s_peer_t peer;
    s_peer_prepare (&peer, scratch, "mosquitto");
    //  Persistence on with its defaults (autosave every 1800 s); no
    //  limit on the messages queued for the subscriber. Started as root,
    //  mosquitto would switch to its own user, who cannot write to our
    //  scratch directory: it stays who we are.
    struct passwd *user = getpwuid (getuid ());
    snprintf (peer.text, sizeof peer.text,
              "listener %d 127.0.0.1\nallow_anonymous true\npersistence true\n"
              "persistence_location %s/\nmax_queued_messages 0\nlog_dest stderr\nuser %s\n",
              peer.port, peer.dir, user ? user->pw_name : "mosquitto");
    pid_t daemon = s_peer_start (&peer, MOSQUITTO);

    s_conn_t *conn = (s_conn_t *) calloc (1, sizeof (s_conn_t));
    conn->parse = s_mqtt_parse;
    conn->peer = "mosquitto";
    s_connect (conn, peer.port, daemon, peer.log);
    s_mqtt_connect (conn, "bench-subscriber", false);
    uint8_t subscribe [64];
    size_t len = s_mqtt_header (subscribe, 0x82, 2 + 2 + strlen ("bench/requests") + 1);
    subscribe [len++] = 0;
    subscribe [len++] = 1;                      //  packet id
    len += s_mqtt_string (subscribe + len, "bench/requests");
    subscribe [len++] = 1;                      //  QoS 1
    s_write_all (conn, subscribe, len);
    s_await_replies (conn, conn->replies + 1, "SUBSCRIBE");
    s_write_all (conn, "\xe0\x00", 2);          //  DISCONNECT: the session stays
    close (conn->fd);

    s_connect (conn, peer.port, daemon, peer.log);
    s_mqtt_connect (conn, "bench-publisher", true);
    s_run_t run = s_publish (conn, s_mqtt_publish, payload);
    s_write_all (conn, "\xe0\x00", 2);
    close (conn->fd);
    free (conn);
    bench_stop (daemon);                        //  writes mosquitto.db at exit
    struct stat st;
    bench_path (peer.text, sizeof peer.text, "%s/mosquitto.db", peer.dir);
    printf ("  mosquitto: mosquitto.db %lld bytes after a clean stop\n",
            stat (peer.text, &st) == 0 ? (long long) st.st_size : -1LL);
    return run;
}

//  --------------------------------------------------------------------
//  NATS text protocol with JetStream

static size_t
s_nats_parse (s_conn_t *conn, const uint8_t *buf, size_t len)
{
    const uint8_t *end = memmem (buf, len, "\r\n", 2);
    if (!end)
        return 0;
    size_t line = (size_t) (end - buf) + 2;
    if (len >= 4 && memcmp (buf, "MSG ", 4) == 0) {
        //  MSG <subject> <sid> [reply] <bytes>: the payload follows
        const uint8_t *space = end;
        while (space > buf && space [-1] != ' ')
            space--;
        size_t bytes = strtoul ((const char *) space, NULL, 10);
        if (len < line + bytes + 2)
            return 0;
        const char *subject = (const char *) buf + 4;
        bool ack = strncmp (subject, "_INBOX.bench.p.", 15) == 0;
        if (memmem (buf + line, bytes, "\"error\"", 7))
            bench_fail ("nats-server: %.*s", (int) bytes, buf + line);
        if (ack)
            conn->acks++;
        else
            conn->replies++;
        return line + bytes + 2;
    }
    if (len >= 4 && memcmp (buf, "PING", 4) == 0)
        s_write_all (conn, "PONG\r\n", 6);
    else
    if (len >= 4 && memcmp (buf, "-ERR", 4) == 0)
        bench_fail ("nats-server: %.*s", (int) (line - 2), buf);
    else
    if (len >= 4 && memcmp (buf, "INFO", 4) == 0)
        conn->replies++;
    return line;                                //  +OK, PONG
}

static size_t
s_nats_publish (uint8_t *buf, size_t size, size_t seq, const char *payload)
{
    size_t data = strlen (payload);
    int len = snprintf ((char *) buf, size, "PUB bench.requests _INBOX.bench.p.%zu %zu\r\n%s\r\n",
                        seq, data, payload);
    return (size_t) len;
}

//  nats-server with JetStream, a file-storage stream, then the publisher.
static s_run_t
s_jetstream (const char *scratch, const char *payload)
{
    s_peer_t peer;
    s_peer_prepare (&peer, scratch, "nats");
    //  JetStream with its defaults; its store in the scratch directory
    snprintf (peer.text, sizeof peer.text, "listen: \"127.0.0.1:%d\"\njetstream {\n  store_dir: \"%s/js\"\n}\n",
              peer.port, peer.dir);
    pid_t daemon = s_peer_start (&peer, NATS_SERVER);

    s_conn_t *conn = (s_conn_t *) calloc (1, sizeof (s_conn_t));
    conn->parse = s_nats_parse;
    conn->peer = "nats-server";
    //  JetStream may not be ready when the peer.port is: retry the stream
    s_connect (conn, peer.port, daemon, peer.log);
    s_await_replies (conn, 1, "the connection (INFO)");
    const char *create =
        "{\"name\":\"BENCH\",\"subjects\":[\"bench.>\"],\"storage\":\"file\",\"retention\":\"limits\"}";
    snprintf (peer.text, sizeof peer.text,
              "CONNECT {\"verbose\":false,\"pedantic\":false}\r\nSUB _INBOX.bench.> 1\r\n"
              "PUB $JS.API.STREAM.CREATE.BENCH _INBOX.bench.create %zu\r\n%s\r\nPING\r\n",
              strlen (create), create);
    s_write_all (conn, peer.text, strlen (peer.text));
    s_await_replies (conn, 2, "the stream's creation");
    s_run_t run = s_publish (conn, s_nats_publish, payload);
    close (conn->fd);
    free (conn);
    bench_stop (daemon);
    return run;
}

int
main (int argc, char *argv [])
{
    const char *scratch = bench_init ("bench_peers");
    char path [PATH_MAX];
    printf ("bench_peers: Mosquitto and NATS JetStream publish-with-ack rates vs raw SQLite commit rate\n");
    if (access (MOSQUITTO, X_OK) || access (NATS_SERVER, X_OK))
        bench_fail ("needs Debian's mosquitto and nats-server: deploy/deps.sh bench");
    json_t *request = bench_request ("twente-0123456789abcdef", "twente");
    char *payload = json_dumps (request, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (request);

    bench_path (path, sizeof path, "%s/baseline-1.db", scratch);
    bench_sqlite_t before = bench_sqlite_commits (path, SQLITE_SECONDS);
    printf ("  baseline A (before): %.0f commits/s\n", before.rate);
    s_run_t mosquitto = s_mosquitto (scratch, payload);
    s_run_t jetstream = s_jetstream (scratch, payload);
    bench_path (path, sizeof path, "%s/baseline-2.db", scratch);
    bench_sqlite_t after = bench_sqlite_commits (path, SQLITE_SECONDS);
    printf ("  baseline A (after):  %.0f commits/s\n", after.rate);
    free (payload);

    double baseline = (before.rate + after.rate) / 2;
    bench_result ("peer: Mosquitto QoS 1 publishes acked/s", mosquitto.rate, "/s",
                  "SQLite 1-row commits/s", baseline, "-", "-");
    bench_result ("peer: JetStream file publishes acked/s", jetstream.rate, "/s",
                  "SQLite 1-row commits/s", baseline, "-", "-");
    bench_note ("peers' sync to disk: Mosquitto 2.0 (persistence on) keeps messages in memory and"
                " writes its database at autosave_interval (default 1800 s) and at exit, so a PUBACK"
                " promises no disk; JetStream 2.9 (file storage) writes to the page cache and fsyncs"
                " on a timer (2 min by default; per-write sync, sync_interval always, only from 2.10),"
                " so its ack does not either; expertnet acks after an fsynced COMMIT");
    bench_note ("peers' baseline A: %.0f commits/s before, %.0f after (spread %.0f%%)",
                before.rate, after.rate, 100.0 * fabs (before.rate - after.rate) / baseline);
    return 0;
}
