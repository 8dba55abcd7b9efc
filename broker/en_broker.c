/*  en_broker - the provincial broker.

    One thread, one poll loop over three sockets:
      router   ROUTER, CURVE server, nodes connect here (tcp)
      control  ROUTER on ipc:// in the data directory, for `expertnet`
               operator verbs (file permissions guard it)
      monitor  PAIR fed by libzmq's socket monitor, to log and count
               connections refused by authentication

    Group commit. When the router socket is readable we drain up to
    BATCH_MAX messages, process them all inside one transaction (each
    reliable message in its own savepoint so one bad message cannot undo
    the others), COMMIT once, and only then send the ACKs and flush the
    outbox. One fsync per batch instead of one per message: under load the
    durable ack rate exceeds the one-row-per-transaction commit rate, and
    nothing is acked before it is on disk.

    Receiving. Every message is authenticated first, in one step
    (enrolled key, sender, signature); then a command table says who may
    send each command (a node, a peer broker), whether it needs a session
    and which handler takes it. A reliable message is received exactly
    once through en_inbox (dedup, timestamp window, savepoint, seen
    record, and the answer) and handed to the router; federation's own
    commands (LINK, ADVERT, a peer's PING) go to en_fed.

    Authentication. zauth admits only CURVE keys whose public certificate
    is in <datadir>/enrolled (re-read when the directory changes, so
    enrolling a node needs no restart). The certificate's "name" says
    which node a key is; a message whose sender frame is another name is
    refused, so one node cannot speak for another.

    The dashboard. en_web serves it over HTTP from a thread of its own
    (libmicrohttpd's), but it owns no state: it asks this loop for every
    figure it shows, over a second control socket (inproc, polled here
    with the operator socket), so the store keeps one owner and one
    thread. Verbs only the dashboard may use (an operator's password
    hash, API token lookup) are answered on that socket only.

    Timers. Open offers carry their deadline in the store; the poll
    timeout is the time to the earliest one. After a start the broker
    waits a grace period before expiring anything, so nodes can reconnect
    and deliver answers they queued while the broker was down.
*/
#include "en_broker.h"
#include "en_web.h"
#include "en_fed.h"
#include <sodium.h>
#include <sys/stat.h>
#include <inttypes.h>

//  A batch ends after this many messages or this long, whichever comes
//  first, so replies and acknowledgements never wait behind a flood.
#define BATCH_MAX       512
#define BATCH_MAX_MS    50

typedef struct {
    char *name;                 //  node name (from its enrolled cert)
    char *region;               //  region it announced in HELLO
    bool linked;                //  a peer broker that said LINK
    zframe_t *routing_id;       //  current connection's routing id
    int64_t last_seen;          //  ms of last message from it
    en_clock_t *clock;          //  its clock's offset from ours
} s_peer_t;

typedef struct {
    char *name;                 //  node name from the enrolled certificate
    char *region;               //  the region it was enrolled for (its HELLO must say so)
    unsigned char sign_key [32];        //  its Ed25519 public key
    bool can_sign;              //  the certificate carries a sign-key
} s_enrolled_t;

typedef struct {
    zframe_t *routing_id;       //  where the reply goes
    en_msg_t *msg;              //  the reply
} s_reply_t;

struct _en_broker_t {
    char *name;                 //  broker name (sender of our messages)
    char *endpoint;             //  where nodes connect
    char *datadir;              //  store, keys, enrolled certs, control socket
    int64_t heartbeat_ms;       //  expected node heartbeat interval
    int64_t retry_ms;           //  outbox retransmission interval
    int64_t grace_ms;           //  no expiry this long after start
    int64_t audit_retention_ms; //  access log retention
    int64_t started;            //  ms at start
    int64_t clock_alert_ms;     //  warn when a peer's clock is this far off
    bool drift_logged;          //  the system clock moved away from ours: said so
    zcert_t *cert;              //  our CURVE key pair
    zactor_t *auth;             //  zauth actor (ZAP handler)
    char *enrolled_dir;         //  <datadir>/enrolled
    zhashx_t *key_names;        //  enrolled CURVE public key (z85) -> s_enrolled_t
    char *admitted;             //  the keys zauth admits now, sorted, one string
    char *admit_dir;            //  zauth's current certificate directory, or NULL
    uint64_t admit_generation;  //  numbers zauth's directories
    en_signer_t *signer;        //  our Ed25519 key: every message we send is signed
    unsigned char enrolled_fingerprint [16];    //  of enrolled_dir's files when read
    int64_t enrolled_checked;   //  ms of the last look prompted by a refused handshake
    bool check_revoked;         //  the enrolled keys changed: look for revoked nodes
    int64_t refused_logged;     //  ms of the last refused-connection log line
    int64_t unenrolled_logged;  //  ms of the last "key not enrolled" log line
    uint64_t refused_unlogged;  //  refusals since that line
    zsock_t *router;            //  node-facing socket
    zsock_t *control;           //  operator socket (ipc)
    zsock_t *web_control;       //  the dashboard's control socket (inproc)
    en_web_t *web;              //  the dashboard (its own thread), or NULL
    en_metrics_t *metrics;      //  counters and latency histograms
    zsock_t *monitor;           //  refused-connection events
    zpoller_t *poller;
    zhashx_t *peers;            //  node name -> s_peer_t
    zlistx_t *replies;          //  replies of the current batch
    en_bstore_t *store;
    en_inbox_t *inbox;          //  exactly-once receive of reliable messages
    en_router_t *router_sm;     //  routing state machine
    en_fed_t *fed;              //  links to peer brokers (federation)
    char *store_id;             //  our store's identity (WELCOME carries it)
    char *tags_sent;            //  the TAGS body last sent to the nodes (JSON text)
    bool tags_dirty;            //  the store or a peer changed since TAGS was computed
    int64_t tags_at;            //  ms TAGS was last computed
    int64_t anchor_ms;          //  how often our log's head goes to the peers
    int64_t next_anchor;        //  ms of the next ANCHOR to the peers
    int64_t anchored_seq;       //  head seq last sent to the peers (at start: the head then)
    uint64_t refused;           //  connections refused by authentication
    uint64_t received;          //  messages received
    uint64_t rejected;          //  messages answered with ERROR
    int64_t expire_backoff_ms;  //  offer expiry failed: wait this long, doubling
    int64_t expire_retry_at;    //  ms before which expiry is not tried again
    bool batch_failing;         //  batches fail to commit: said once
};

//  Offer expiry that fails (a full disk) is tried again after a wait
//  that doubles from EXPIRE_BACKOFF_MIN_MS up to EXPIRE_BACKOFF_MAX_MS
#define EXPIRE_BACKOFF_MIN_MS   250
#define EXPIRE_BACKOFF_MAX_MS   (30 * 1000)

static void s_refresh_enrolled (en_broker_t *self);
static void s_flush (en_broker_t *self);
static json_t *s_network_tags (en_broker_t *self);
static void s_changed (en_broker_t *self);

static void
s_peer_destroy (void **item)
{
    s_peer_t *peer = (s_peer_t *) *item;
    free (peer->name);
    free (peer->region);
    zframe_destroy (&peer->routing_id);
    en_clock_destroy (&peer->clock);
    free (peer);
    *item = NULL;
}

static void
s_enrolled_destroy (void **item)
{
    s_enrolled_t *enrolled = (s_enrolled_t *) *item;
    free (enrolled->name);
    free (enrolled->region);
    free (enrolled);
    *item = NULL;
}

static void
s_reply_destroy (void **item)
{
    s_reply_t *reply = (s_reply_t *) *item;
    zframe_destroy (&reply->routing_id);
    en_msg_destroy (&reply->msg);
    free (reply);
    *item = NULL;
}


//  The settings that may change while running (at start and on SIGHUP):
//  timing, deadlines and the province's regions. Name, endpoint and data
//  directory need a restart.
static void
s_apply_config (en_broker_t *self, zconfig_t *config)
{
    self->heartbeat_ms = en_config_ms (config, "broker/heartbeat", "1s");
    self->retry_ms = en_config_ms (config, "broker/retry", "2s");
    self->grace_ms = en_config_ms (config, "routing/grace", "5s");
    self->audit_retention_ms = en_config_ms (config, "broker/audit_retention", "1827d");
    self->anchor_ms = MAX (en_config_ms (config, "broker/anchor_interval", "15m"), 1000);
    self->clock_alert_ms = en_config_ms (config, "broker/clock_alert", "30s");
    for (s_peer_t *peer = self->peers ? (s_peer_t *) zhashx_first (self->peers) : NULL; peer;
         peer = (s_peer_t *) zhashx_next (self->peers))
        en_clock_set_alert (peer->clock, self->clock_alert_ms);
    for (int i = 0; en_vocab_urgency [i]; i++) {
        char key [64];
        snprintf (key, sizeof key, "routing/deadline/%s", en_vocab_urgency [i]);
        const char *dflt = i == 0 ? "10m" : i == 1 ? "4h" : "3d";
        en_router_set_deadline (self->router_sm, en_vocab_urgency [i], en_config_ms (config, key, dflt));
        snprintf (key, sizeof key, "routing/hiaat_retry/%s", en_vocab_urgency [i]);
        dflt = i == 0 ? "2h" : i == 1 ? "8h" : "24h";
        en_router_set_hiaat_retry (self->router_sm, en_vocab_urgency [i], en_config_ms (config, key, dflt));
    }
    en_router_clear_regions (self->router_sm);
    zconfig_t *regions = zconfig_locate (config, "broker/regions");
    for (zconfig_t *region = regions ? zconfig_child (regions) : NULL; region;
         region = zconfig_next (region))
        en_router_add_region (self->router_sm, zconfig_name (region));
}

void
en_broker_reload (en_broker_t *self, zconfig_t *config)
{
    s_apply_config (self, config);
    char err [256];
    if (en_fed_configure (self->fed, config, self->heartbeat_ms, self->retry_ms, err, sizeof err))
        zsys_error ("federation configuration not changed: %s", err);
    zsys_info ("configuration reloaded: deadlines crisis %llds, hoog %llds, regulier %llds",
               (long long) en_router_deadline (self->router_sm, "crisis") / 1000,
               (long long) en_router_deadline (self->router_sm, "hoog") / 1000,
               (long long) en_router_deadline (self->router_sm, "regulier") / 1000);
}

static bool s_peer_enrolled (const char *name, const char *pinned_key, char curve_key [41],
                             unsigned char sign_key [32], void *arg);

en_broker_t *
en_broker_new (zconfig_t *config, char *err, size_t errlen)
{
    en_broker_t *self = (en_broker_t *) zmalloc (sizeof (en_broker_t));
    assert (self);
    self->name = strdup (zconfig_get (config, "broker/name", "overijssel"));
    self->endpoint = strdup (zconfig_get (config, "broker/endpoint", "tcp://127.0.0.1:7700"));
    self->datadir = strdup (zconfig_get (config, "broker/datadir", "run/overijssel"));
    self->started = en_now_ms ();
    self->peers = zhashx_new ();
    zhashx_set_destructor (self->peers, s_peer_destroy);
    self->replies = zlistx_new ();
    zlistx_set_destructor (self->replies, s_reply_destroy);

    if (!en_name_valid (self->name)) {
        snprintf (err, errlen, "broker/name '%s' is not a valid name", self->name);
        goto failed;
    }
    if (en_mkdir_p (self->datadir, 0700)) {
        snprintf (err, errlen, "cannot create data directory %s", self->datadir);
        goto failed;
    }
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/keys", self->datadir);
    self->cert = en_keys_load_secret (path, self->name, err, errlen);
    if (!self->cert)
        goto failed;
    self->signer = en_signer_load (path, self->name, err, errlen);
    if (!self->signer)
        goto failed;
    snprintf (path, sizeof path, "%s/enrolled", self->datadir);
    en_mkdir_p (path, 0700);
    self->enrolled_dir = strdup (path);
    self->key_names = zhashx_new ();
    zhashx_set_destructor (self->key_names, s_enrolled_destroy);

    //  A damaged store is refused (en_db); so is a lost one: the marker
    //  names the store that lived here
    snprintf (path, sizeof path, "%s/broker.db", self->datadir);
    char marker [PATH_MAX];
    snprintf (marker, sizeof marker, "%s/store.id", self->datadir);
    bool new_store = en_config_bool (config, "broker/new_store", false);
    if (en_db_store_check (path, marker, new_store, err, errlen))
        goto failed;
    self->store = en_bstore_new (path, err, errlen);
    if (!self->store
    ||  en_db_store_mark (en_bstore_db (self->store), path, marker, new_store, err, errlen))
        goto failed;
    self->store_id = en_db_store_id (en_bstore_db (self->store));
    //  The head is anchored at the peers when it moved: one interval in
    json_t *chain = en_audit_chain (en_bstore_db (self->store));
    self->anchored_seq = en_json_int (chain, "head_seq", -1);
    json_decref (chain);
    self->inbox = en_inbox_new (en_bstore_db (self->store), self->name);
    self->router_sm = en_router_new (self->store, self->name);
    self->metrics = en_metrics_new ();
    en_router_set_metrics (self->router_sm, self->metrics);
    s_apply_config (self, config);
    self->next_anchor = en_now_ms () + self->anchor_ms;
    //  Federation settings are checked before anything listens
    self->poller = zpoller_new (NULL);
    self->fed = en_fed_new (self->name, self->store, self->router_sm, self->metrics, self->cert,
                            self->signer, self->poller, s_peer_enrolled, self);
    if (en_fed_configure (self->fed, config, self->heartbeat_ms, self->retry_ms, err, errlen))
        goto failed;

    //  Authentication first, so no connection slips in unauthenticated:
    //  zauth starts with the enrolled keys (and no stale directory of an
    //  earlier run)
    self->auth = zactor_new (zauth, NULL);
    snprintf (path, sizeof path, "%s/zauth", self->datadir);
    zdir_t *stale = zdir_new (path, NULL);
    if (stale)
        zdir_remove (stale, true);
    zdir_destroy (&stale);
    s_refresh_enrolled (self);
    if (!self->admit_dir) {
        snprintf (err, errlen, "cannot prepare the enrolled keys for authentication in %s", path);
        goto failed;
    }

    self->router = zsock_new (ZMQ_ROUTER);
    en_keys_server (self->router, self->cert);
    zsock_set_zap_domain (self->router, "expertnet");
    zsock_set_router_mandatory (self->router, 1);
    zsock_set_maxmsgsize (self->router, EN_MAX_WIRE);
    zsock_set_sndhwm (self->router, 100000);
    zsock_set_rcvhwm (self->router, 100000);
    zsock_set_linger (self->router, 0);
    //  Refused handshakes, to log and count them
    zmq_socket_monitor (zsock_resolve (self->router), "inproc://en-broker-monitor",
                        ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
    self->monitor = zsock_new_pair ("inproc://en-broker-monitor");
    if (zsock_bind (self->router, "%s", self->endpoint) < 0) {
        snprintf (err, errlen, "cannot bind %s: %s", self->endpoint, zmq_strerror (zmq_errno ()));
        goto failed;
    }
    self->control = zsock_new (ZMQ_ROUTER);
    zsock_set_linger (self->control, 0);
    mode_t old = umask (0077);
    int rc = zsock_bind (self->control, "ipc://%s/control.sock", self->datadir);
    umask (old);
    if (rc < 0) {
        snprintf (err, errlen, "cannot bind control socket in %s: %s", self->datadir, zmq_strerror (zmq_errno ()));
        goto failed;
    }
    zpoller_add (self->poller, self->router);
    zpoller_add (self->poller, self->control);
    zpoller_add (self->poller, self->monitor);

    //  The dashboard. It failing to listen is logged and the broker runs
    //  on: routing matters more than the operators' view of it.
    const char *web_address = zconfig_get (config, "web/address", EN_WEB_DEFAULT_ADDRESS);
    if (!streq (web_address, "off")) {
        char endpoint [128];
        snprintf (endpoint, sizeof endpoint, "inproc://en-broker-web-%p", (void *) self);
        self->web_control = zsock_new (ZMQ_ROUTER);
        zsock_set_linger (self->web_control, 0);
        if (zsock_bind (self->web_control, "%s", endpoint) < 0) {
            snprintf (err, errlen, "cannot bind %s", endpoint);
            goto failed;
        }
        zpoller_add (self->poller, self->web_control);
        char web_err [256];
        self->web = en_web_new (config, endpoint, self->name, web_err, sizeof web_err);
        if (!self->web)
            zsys_error ("dashboard not started: %s", web_err);
    }
    return self;
failed:
    en_broker_destroy (&self);
    return NULL;
}

void
en_broker_destroy (en_broker_t **self_p)
{
    assert (self_p);
    en_broker_t *self = *self_p;
    if (self) {
        //  The dashboard first: its thread may be waiting for an answer
        en_web_destroy (&self->web);
        zsock_destroy (&self->web_control);
        en_fed_destroy (&self->fed);
        zpoller_destroy (&self->poller);
        if (self->router)
            zmq_socket_monitor (zsock_resolve (self->router), NULL, 0);
        zsock_destroy (&self->monitor);
        zsock_destroy (&self->control);
        zsock_destroy (&self->router);
        zactor_destroy (&self->auth);
        zhashx_destroy (&self->key_names);
        free (self->enrolled_dir);
        free (self->admitted);
        free (self->admit_dir);
        free (self->tags_sent);
        zcert_destroy (&self->cert);
        en_signer_destroy (&self->signer);
        en_router_destroy (&self->router_sm);
        en_inbox_destroy (&self->inbox);
        en_metrics_destroy (&self->metrics);
        en_bstore_destroy (&self->store);
        zlistx_destroy (&self->replies);
        zhashx_destroy (&self->peers);
        free (self->name);
        free (self->endpoint);
        free (self->store_id);
        free (self->datadir);
        free (self);
        *self_p = NULL;
    }
}

static bool
s_peer_connected (en_broker_t *self, s_peer_t *peer)
{
    return peer && peer->routing_id
        && en_now_ms () - peer->last_seen <= 3 * self->heartbeat_ms;
}

//  Queue a reply for after the batch commits.
static void
s_reply (en_broker_t *self, zframe_t *routing_id, en_msg_t *msg)
{
    s_reply_t *reply = (s_reply_t *) zmalloc (sizeof (s_reply_t));
    reply->routing_id = zframe_dup (routing_id);
    reply->msg = msg;
    zlistx_add_end (self->replies, reply);
}

//  A refusal, counted and logged (once, here).
static void
s_refused (en_broker_t *self, const char *node, en_error_t *error)
{
    self->rejected++;
    char code [16];
    snprintf (code, sizeof code, "%d", error->code);
    en_metrics_count (self->metrics, EN_METRIC_REFUSED, code, 1);
    zsys_warning ("refused message %s from %s: %d %s", error->ref [0] ? error->ref : "(no id)",
                  node ? node : "unknown", error->code, error->reason);
}

//  WELCOME and PONG carry our time and echo the time of what they answer,
//  so the other end measures the offset of our clock from a round trip
//  (docs/protocol.md, "Clocks").
static en_msg_t *
s_answer_timed (en_broker_t *self, const char *command, en_msg_t *asked, json_t *body)
{
    if (!body)
        body = json_object ();
    en_msg_t *answer = en_msg_new (command, self->name, body);
    json_object_set_new (body, "time", json_integer (en_msg_timestamp (answer)));
    json_object_set_new (body, "echo", json_integer (en_msg_timestamp (asked)));
    return answer;
}

//  A fresh message from a node or peer (HELLO, LINK, PING) says what
//  it measured of our clock, or at least when it was made. What it says
//  counts only within a session: before its HELLO to this process, a
//  node may still tell what it measured of a broker process that is gone.
//  A new session (HELLO, LINK) starts a new measurement: what the peer
//  told before may be of another process (its own or ours).
static void
s_clock_sample (en_broker_t *self, s_peer_t *peer, en_msg_t *msg)
{
    const char *command = en_msg_command (msg);
    bool opens = streq (command, "HELLO") || streq (command, "LINK");
    if (opens)
        en_clock_reset (peer->clock);
    if (!opens && !streq (command, "PING"))
        return;
    json_t *body = en_msg_body (msg);
    json_t *offset = json_object_get (body, "offset");
    json_t *rtt = json_object_get (body, "rtt");
    bool session = peer->region || peer->linked;
    if (session && json_is_integer (offset) && json_is_integer (rtt)
    &&  en_clock_told (peer->clock, json_integer_value (offset), json_integer_value (rtt)) == 0)
        return;
    en_clock_one_way (peer->clock, en_msg_timestamp (msg), en_now_ms ());
}

//  Who is enrolled. The broker reads <datadir>/enrolled itself and hands
//  zauth only a clean copy: one file per distinct key, in a directory
//  of its own (<datadir>/zauth/<generation>), switched whole with zauth's
//  CURVE command. zauth's own loader aborts the process on two files
//  holding one key (zcertstore_insert asserts), so it must never read a
//  directory an operator can leave a stray copy in.
//
//  What counts as enrolled: every regular file below enrolled/ whose
//  name does not start with '.' (a file being written, an editor's swap
//  file) or end in "_secret", that loads as a certificate with a valid
//  name. Files are read in name order; a key met again (a backup copy,
//  the same node under two names) is skipped with a log line, as is a
//  file that is not a certificate. One name has one key: enrolled/NAME.cert
//  (the file `expertnet enroll` writes) wins over any other file naming
//  that node; among others, the first in name order. The certificate's "region" (written by
//  `expertnet enroll`) is the only region that node may speak for; an
//  older enrollment without one is bound to the node's own name.
//
//  Re-read when the tree changes (any file's path, inode, size or change
//  time, see s_tree_fingerprint): once per batch, so a revocation applies to the next message
//  even on an open connection, on the flush timer, and after a refused
//  handshake, so a node enrolled a moment ago gets in on its next try.

//  Point zauth at a new directory holding exactly the keys in key_names.
//  Returns 0, or -1 (logged) keeping the previous directory.
static int
s_admit (en_broker_t *self)
{
    char dir [PATH_MAX];
    snprintf (dir, sizeof dir, "%s/zauth/%llu", self->datadir,
              (unsigned long long) ++self->admit_generation);
    if (en_mkdir_p (dir, 0700)) {
        zsys_error ("cannot create %s: %s; admitted keys unchanged", dir, strerror (errno));
        return -1;
    }
    for (s_enrolled_t *enrolled = (s_enrolled_t *) zhashx_first (self->key_names); enrolled;
         enrolled = (s_enrolled_t *) zhashx_next (self->key_names)) {
        const char *key = (const char *) zhashx_cursor (self->key_names);
        unsigned char public_key [32];
        zmq_z85_decode (public_key, key);
        zcert_t *cert = zcert_new_from (public_key, (unsigned char [32]) { 0 });
        char hex [65], path [PATH_MAX + 80];
        sodium_bin2hex (hex, sizeof hex, public_key, sizeof public_key);
        snprintf (path, sizeof path, "%s/%s.cert", dir, hex);
        int rc = zcert_save_public (cert, path);
        zcert_destroy (&cert);
        if (rc) {
            zsys_error ("cannot write %s; admitted keys unchanged", path);
            zdir_t *partial = zdir_new (dir, NULL);
            if (partial)
                zdir_remove (partial, true);
            zdir_destroy (&partial);
            return -1;
        }
    }
    zstr_sendx (self->auth, "CURVE", dir, NULL);
    zsock_wait (self->auth);
    if (self->admit_dir) {
        zdir_t *old = zdir_new (self->admit_dir, NULL);
        if (old)
            zdir_remove (old, true);
        zdir_destroy (&old);
    }
    free (self->admit_dir);
    self->admit_dir = strdup (dir);
    return 0;
}

//  A fingerprint of the tree: each file's path, inode, size and change
//  time in nanoseconds. A certificate renamed into place has a new inode,
//  so even a replacement of the same size within the same second shows.
static void
s_tree_fingerprint (zfile_t **files, unsigned char fingerprint [16])
{
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, 16);
    for (int i = 0; files && files [i]; i++) {
        const char *path = zfile_filename (files [i], NULL);
        struct stat info;
        if (stat (path, &info))
            memset (&info, 0, sizeof info);
        int64_t fields [4] = { (int64_t) info.st_ino, (int64_t) info.st_size,
                               (int64_t) info.st_ctim.tv_sec, (int64_t) info.st_ctim.tv_nsec };
        crypto_generichash_update (&state, (const unsigned char *) path, strlen (path) + 1);
        crypto_generichash_update (&state, (const unsigned char *) fields, sizeof fields);
    }
    crypto_generichash_final (&state, fingerprint, 16);
}

static bool
s_hidden (const char *path)
{
    const char *base = strrchr (path, '/');
    return (base ? base [1] : path [0]) == '.';
}

static void
s_refresh_enrolled (en_broker_t *self)
{
    zdir_t *dir = zdir_new (self->enrolled_dir, NULL);
    if (!dir)
        return;
    zfile_t **files = zdir_flatten (dir);
    unsigned char fingerprint [16];
    s_tree_fingerprint (files, fingerprint);
    if (self->admitted && sodium_memcmp (fingerprint, self->enrolled_fingerprint, sizeof fingerprint) == 0) {
        zdir_flatten_free (&files);
        zdir_destroy (&dir);
        return;
    }
    memcpy (self->enrolled_fingerprint, fingerprint, sizeof fingerprint);
    zhashx_purge (self->key_names);
    //  Two passes: first the files `expertnet enroll` writes
    //  (enrolled/NAME.cert), so that one counts when another file names
    //  the same node with another key (an old backup must not keep a
    //  replaced key admitted); then every other file.
    size_t prefix = strlen (self->enrolled_dir) + 1;
    for (int pass = 0; pass < 2; pass++)
    for (int i = 0; files && files [i]; i++) {
        const char *filename = zfile_filename (files [i], NULL);
        const char *shown = strlen (filename) > prefix ? filename + prefix : filename;
        if (s_hidden (filename) || (strlen (filename) >= 7 && streq (filename + strlen (filename) - 7, "_secret"))
        ||  !zfile_is_regular (files [i]))
            continue;
        char err [256];
        zcert_t *cert = en_keys_load_public (filename, err, sizeof err);
        const char *name = cert ? zcert_meta (cert, "name") : NULL;
        bool canonical = en_name_valid (name) && strlen (shown) == strlen (name) + 5
                      && strncmp (shown, name, strlen (name)) == 0 && streq (shown + strlen (name), ".cert");
        if (canonical != (pass == 0)) {
            zcert_destroy (&cert);
            continue;
        }
        const char *region = cert ? zcert_meta (cert, "region") : NULL;
        s_enrolled_t *same = cert ? (s_enrolled_t *) zhashx_lookup (self->key_names, zcert_public_txt (cert)) : NULL;
        const char *other_key = NULL;
        for (s_enrolled_t *enrolled = (s_enrolled_t *) zhashx_first (self->key_names); enrolled && name;
             enrolled = (s_enrolled_t *) zhashx_next (self->key_names))
            if (streq (enrolled->name, name))
                other_key = (const char *) zhashx_cursor (self->key_names);
        if (!cert)
            zsys_warning ("enrolled/%s is not a certificate; ignored", shown);
        else
        if (!en_name_valid (name))
            zsys_warning ("enrolled certificate %s has no valid name; ignored", shown);
        else
        if (region && !en_name_valid (region))
            zsys_warning ("enrolled certificate %s has an invalid region; ignored", shown);
        else
        if (same)
            zsys_warning ("enrolled/%s holds the key already enrolled as '%s' (a copy?); ignored", shown, same->name);
        else
        if (other_key)
            zsys_warning ("enrolled/%s holds another key for '%s' than the one enrolled (%s); ignored",
                          shown, name, other_key);
        else {
            s_enrolled_t *enrolled = (s_enrolled_t *) zmalloc (sizeof (s_enrolled_t));
            enrolled->name = strdup (name);
            enrolled->region = strdup (region ? region : name);
            enrolled->can_sign = en_keys_sign_key (cert, enrolled->sign_key) == 0;
            if (!enrolled->can_sign)
                zsys_warning ("enrolled certificate %s has no sign-key: its messages will be refused "
                              "(make new keys with 'expertnet keygen')", shown);
            zhashx_insert (self->key_names, zcert_public_txt (cert), enrolled);
        }
        zcert_destroy (&cert);
    }
    if (files)
        zdir_flatten_free (&files);
    zdir_destroy (&dir);
    //  zauth's directory changes only when the set of keys does
    zlistx_t *keys = zhashx_keys (self->key_names);
    zlistx_set_comparator (keys, (zlistx_comparator_fn *) strcmp);
    zlistx_sort (keys);
    char *admitted = strdup ("");
    for (const char *key = (const char *) zlistx_first (keys); key; key = (const char *) zlistx_next (keys)) {
        char *longer = zsys_sprintf ("%s%s,", admitted, key);
        free (admitted);
        admitted = longer;
    }
    zlistx_destroy (&keys);
    self->check_revoked = true;
    if (self->admitted && streq (admitted, self->admitted))
        free (admitted);
    else
    if (s_admit (self) == 0) {
        free (self->admitted);
        self->admitted = admitted;
        zsys_info ("%zu node key(s) enrolled", zhashx_size (self->key_names));
    }
    else {
        free (admitted);
        //  Try again next time round
        memset (self->enrolled_fingerprint, 0, sizeof self->enrolled_fingerprint);
    }
}

//  Is a node of this name enrolled now?
static bool
s_name_enrolled (en_broker_t *self, const char *name)
{
    for (s_enrolled_t *enrolled = (s_enrolled_t *) zhashx_first (self->key_names); enrolled;
         enrolled = (s_enrolled_t *) zhashx_next (self->key_names))
        if (streq (enrolled->name, name))
            return true;
    return false;
}

//  Revocation takes effect on everything, not only on the next message:
//  a node no longer enrolled (revoked now, or while the broker was down)
//  loses its session, and its experts and their open offers go (the
//  offers' requests are routed again). Runs outside any transaction.
static void
s_withdraw_revoked (en_broker_t *self)
{
    self->check_revoked = false;
    for (s_peer_t *peer = (s_peer_t *) zhashx_first (self->peers); peer;
         peer = (s_peer_t *) zhashx_next (self->peers))
        if (peer->region && !s_name_enrolled (self, peer->name)) {
            zsys_warning ("node %s is no longer enrolled: its session ends", peer->name);
            zstr_free (&peer->region);
            zframe_destroy (&peer->routing_id);
        }
    json_t *nodes = en_bstore_nodes_with_experts (self->store);
    en_db_t *db = en_bstore_db (self->store);
    size_t index;
    json_t *name;
    json_array_foreach (nodes, index, name) {
        const char *node = json_string_value (name);
        if (s_name_enrolled (self, node) || en_fed_is_peer (self->fed, node))
            continue;
        if (en_db_begin (db))
            break;
        if (en_router_node_revoked (self->router_sm, node) < 0 || en_db_commit (db)) {
            en_db_rollback (db);
            self->check_revoked = true;         //  again next time round
        }
        else
            s_changed (self);
    }
    json_decref (nodes);
    s_flush (self);
}

//  Which enrolled node is this connection? The CURVE key (User-Id, set by
//  zauth) names it. Returns the borrowed enrollment or NULL.
static s_enrolled_t *
s_enrolled (en_broker_t *self, zframe_t *frame)
{
    const char *key = zframe_meta (frame, "User-Id");
    return key ? (s_enrolled_t *) zhashx_lookup (self->key_names, key) : NULL;
}

//  The enrolled certificate named like a peer broker (en_fed_enrolled_fn).
static bool
s_peer_enrolled (const char *name, const char *pinned_key, char curve_key [41],
                 unsigned char sign_key [32], void *arg)
{
    en_broker_t *self = (en_broker_t *) arg;
    s_refresh_enrolled (self);
    for (s_enrolled_t *enrolled = (s_enrolled_t *) zhashx_first (self->key_names); enrolled;
         enrolled = (s_enrolled_t *) zhashx_next (self->key_names)) {
        const char *key = (const char *) zhashx_cursor (self->key_names);
        if (streq (enrolled->name, name) && enrolled->can_sign
        &&  (!pinned_key || streq (pinned_key, key))) {
            snprintf (curve_key, 41, "%s", key);
            memcpy (sign_key, enrolled->sign_key, 32);
            return true;
        }
    }
    return false;
}

//  Our own log's head, anchored at every peer broker: through the
//  durable outbox, so it arrives when a link heals.
static void
s_anchor_peers (en_broker_t *self)
{
    json_t *chain = en_audit_chain (en_bstore_db (self->store));
    int64_t seq = en_json_int (chain, "head_seq", -1);
    json_t *links = en_fed_status (self->fed);
    if (chain && json_array_size (links) && seq != self->anchored_seq) {
        size_t index;
        json_t *link;
        int failed = 0;
        json_array_foreach (links, index, link)
            failed |= en_router_anchor (self->router_sm, en_json_str (link, "peer"),
                json_pack ("{s:I, s:s, s:I}", "seq", (json_int_t) seq, "hash", en_json_str (chain, "head_hash"),
                           "at", (json_int_t) en_now_ms ()));
        if (failed)
            zsys_error ("could not queue our access log's head for the peer brokers");
        else
            self->anchored_seq = seq;
    }
    json_decref (links);
    json_decref (chain);
}

//  --------------------------------------------------------------------
//  Receiving: one message from a node or a peer broker, in three steps.
//
//  1. Authentication (s_authenticate), the same for every command: it
//     decodes, the connection's key is enrolled, the sender frame names
//     that key's node, the message is signed with the node's enrolled key.
//  2. The sender is heard from (s_heard): its session record, what it
//     says of our clock, the timestamp window of an unreliable message.
//  3. The command table (s_commands) says who may send each command (a
//     node, a peer broker, either), whether it needs a session, and
//     which handler takes it. Reliable commands go through the inbox
//     (en_inbox: exactly once) to the router; LINK, ADVERT and a peer's
//     PING are federation's (en_fed).
//  A refusal is counted, logged and answered in one place (s_refuse;
//  the inbox's own are counted and logged the same way, s_refused).

//  One message as it is handled
typedef struct {
    en_broker_t *broker;        //  where it arrived (for the inbox's handler)
    zframe_t *routing_id;       //  the connection it came on
    en_msg_t *msg;              //  the message, once decoded
    s_enrolled_t *enrolled;     //  the enrollment of the connection's key, or NULL
    const char *node;           //  that enrollment's name, or NULL
    s_peer_t *peer;             //  the sender's session record
    bool is_peer;               //  a peer broker (federation), not a node
    en_error_t error;           //  why it is refused (ref: its id once decoded)
} s_incoming_t;

//  A command's handler: 0, or -1 with error (then refused with it)
typedef int (s_handler_fn) (en_broker_t *self, s_incoming_t *in, en_error_t *error);

typedef enum {
    S_FROM_NODE = 1,            //  a node of this province
    S_FROM_PEER = 2,            //  a peer broker
    S_FROM_ANY = 3
} s_from_t;

typedef struct {
    const char *command;        //  NULL: every other command
    s_from_t from;              //  who may send it
    bool session;               //  it needs a session (a node's HELLO, a peer's LINK)
    s_handler_fn *handler;      //  what takes it
} s_command_t;

//  Refuse in: counted, logged and answered ERROR (en_inbox_answer: the
//  one place an answer is made). Returns -1.
static int
s_refuse (en_broker_t *self, s_incoming_t *in)
{
    s_refused (self, in->node, &in->error);
    s_reply (self, in->routing_id, en_inbox_answer (self->inbox, in->error.ref, &in->error));
    return -1;
}

//  Key removed from enrolled/ after the handshake (revoked). A
//  connection-level error: no ref, so the node keeps its messages. A
//  revoked node keeps trying: answer every time, log once per 10 s.
static int
s_refuse_unenrolled (en_broker_t *self, s_incoming_t *in, const char *key)
{
    en_error_set (&in->error, EN_ERR_FORBIDDEN, "key is not enrolled at this broker");
    int64_t now = en_now_ms ();
    if (now - self->unenrolled_logged >= 10000) {
        zsys_warning ("refused messages from a key that is not enrolled (revoked?): %s", key ?: "?");
        self->unenrolled_logged = now;
    }
    self->rejected++;
    en_metrics_count (self->metrics, EN_METRIC_REFUSED, "403", 1);
    s_reply (self, in->routing_id, en_inbox_answer (self->inbox, "", &in->error));
    return -1;
}

//  Step 1. Which node sent it, and did it? 0, or -1 with the refusal
//  answered. Provenance refusals are final for the message.
static int
s_authenticate (en_broker_t *self, zmsg_t *raw, s_incoming_t *in)
{
    in->enrolled = zmsg_first (raw) ? s_enrolled (self, zmsg_first (raw)) : NULL;
    in->node = in->enrolled ? in->enrolled->name : NULL;
    in->msg = en_msg_decode (raw, &in->error);
    en_metrics_count (self->metrics, EN_METRIC_RECEIVED, in->msg ? en_msg_command (in->msg) : "undecodable", 1);
    if (!in->msg)
        return s_refuse (self, in);
    if (!in->node)
        return s_refuse_unenrolled (self, in, zframe_meta (zmsg_first (raw), "User-Id"));
    if (!streq (en_msg_sender (in->msg), in->node))
        en_error_set (&in->error, EN_ERR_FORBIDDEN, "sender '%s' does not match the key of node '%s'",
                      en_msg_sender (in->msg), in->node);
    else
    if (!in->enrolled->can_sign)
        en_error_set (&in->error, EN_ERR_FORBIDDEN, "the enrolled certificate of '%s' has no sign-key", in->node);
    else
    if (!en_msg_verify (in->msg, in->enrolled->sign_key))
        en_error_set (&in->error, EN_ERR_FORBIDDEN, "signature does not verify with the enrolled key of '%s'",
                      in->node);
    else
        return 0;
    return s_refuse (self, in);
}

//  Step 2. The sender's session record (made at its first message), what
//  it says of our clock, and the timestamp window, judged against the
//  sender's clock as measured: here for an unreliable message; for a
//  reliable one by the inbox, after dedup (a resend of what was processed
//  gets its answer, however old). 0, or -1 with the refusal answered.
static int
s_heard (en_broker_t *self, s_incoming_t *in)
{
    in->peer = (s_peer_t *) zhashx_lookup (self->peers, in->node);
    if (!in->peer) {
        in->peer = (s_peer_t *) zmalloc (sizeof (s_peer_t));
        in->peer->name = strdup (in->node);
        in->peer->clock = en_clock_new (in->node, self->clock_alert_ms);
        zhashx_insert (self->peers, in->node, in->peer);
    }
    s_clock_sample (self, in->peer, in->msg);
    if (!en_msg_command_reliable (en_msg_command (in->msg))
    &&  en_clock_check (in->peer->clock, in->msg, en_now_ms (), &in->error))
        return s_refuse (self, in);
    if (!in->peer->routing_id || !zframe_eq (in->peer->routing_id, in->routing_id)) {
        zframe_destroy (&in->peer->routing_id);
        in->peer->routing_id = zframe_dup (in->routing_id);
    }
    in->peer->last_seen = en_now_ms ();
    in->is_peer = en_fed_is_peer (self->fed, in->node);
    if (in->is_peer)
        en_fed_inbound (self->fed, in->node);
    return 0;
}

//  WELCOME opens a session. store: our store's identity, so the node
//  notices when this broker lost its store and hands it again what it
//  holds.
static void
s_welcome (en_broker_t *self, s_incoming_t *in)
{
    s_reply (self, in->routing_id, s_answer_timed (self, "WELCOME", in->msg,
        json_pack ("{s:s, s:I, s:s, s:s}", "broker", self->name,
                   "heartbeat", (json_int_t) self->heartbeat_ms, "version", EXPERTNET_VERSION,
                   "store", self->store_id)));
}

//  HELLO opens a node's session
static int
s_on_hello (en_broker_t *self, s_incoming_t *in, en_error_t *error)
{
    const char *region = en_json_str (en_msg_body (in->msg), "region");
    if (!en_name_valid (region))
        return en_error_set (error, EN_ERR_INVALID, "field 'region' must be a region name");
    //  A node speaks for the region it was enrolled for, nothing else:
    //  its experts, requests, offers and dossiers follow from it
    if (!streq (region, in->enrolled->region)) {
        en_error_set (error, EN_ERR_FORBIDDEN, "node '%s' is enrolled for region '%s', not '%s'",
                      in->node, in->enrolled->region, region);
        error->ref [0] = 0;
        return -1;
    }
    free (in->peer->region);
    in->peer->region = strdup (region);
    en_bstore_node_seen (self->store, in->node, region);
    en_outbox_reset (en_bstore_outbox (self->store), in->node);
    zsys_info ("node %s (%s) connected", in->node, region);
    s_welcome (self, in);
    //  ...and what expertise the network holds, for its request forms
    s_reply (self, in->routing_id, en_msg_new ("TAGS", self->name, s_network_tags (self)));
    return 0;
}

static int
s_on_hello_from_peer (en_broker_t *self, s_incoming_t *in, en_error_t *error)
{
    return en_error_set (error, EN_ERR_FORBIDDEN, "'%s' is a peer broker: it opens a link with LINK", in->node);
}

//  LINK opens a peer broker's session (federation, en_fed_link_in)
static int
s_on_link (en_broker_t *self, s_incoming_t *in, en_error_t *error)
{
    en_fed_link_in (self->fed, in->node, !in->peer->linked);
    in->peer->linked = true;
    s_welcome (self, in);
    return 0;
}

static int
s_on_link_from_node (en_broker_t *self, s_incoming_t *in, en_error_t *error)
{
    en_error_set (error, EN_ERR_FORBIDDEN, "'%s' is not a peer broker of %s", in->node, self->name);
    error->ref [0] = 0;
    return -1;
}

//  An answer to what we sent: an ACK, or an ERROR, final for that
//  message unless the node could not store it (500): then it stays
//  queued and is sent again.
static int
s_on_answer (en_broker_t *self, s_incoming_t *in, en_error_t *error)
{
    json_t *body = en_msg_body (in->msg);
    const char *ref = en_json_str (body, "ref");
    bool ack = streq (en_msg_command (in->msg), "ACK");
    int code = (int) en_json_int (body, "code", 0);
    if (!ack)
        zsys_warning ("node %s refused %s: %d %s", in->node, ref ? ref : "?", code,
                      en_json_str (body, "reason") ?: "");
    if (ref && (ack || code != EN_ERR_INTERNAL))
        en_outbox_ack (en_bstore_outbox (self->store), in->node, ref);
    return 0;
}

static int
s_on_ping (en_broker_t *self, s_incoming_t *in, en_error_t *error)
{
    s_reply (self, in->routing_id, s_answer_timed (self, "PONG", in->msg, NULL));
    return 0;
}

//  A peer that sent adverts we did not get is asked for a snapshot
static void
s_resync (en_broker_t *self, s_incoming_t *in, bool resync)
{
    if (resync)
        s_reply (self, in->routing_id, en_msg_new ("RESYNC", self->name, NULL));
}

//  A peer's PING also names the last ADVERT it sent (en_fed_ping_in)
static int
s_on_peer_ping (en_broker_t *self, s_incoming_t *in, en_error_t *error)
{
    s_on_ping (self, in, error);
    bool resync = false;
    en_fed_ping_in (self->fed, in->node, in->msg, &resync);
    s_resync (self, in, resync);
    return 0;
}

static int
s_on_advert (en_broker_t *self, s_incoming_t *in, en_error_t *error)
{
    bool resync = false;
    if (en_fed_advert_in (self->fed, in->node, in->msg, &resync, error))
        return -1;
    s_resync (self, in, resync);
    return 0;
}

//  The inbox's handler (en_inbox_handler_fn): the router, for the sender
//  of in (a node in its region, or a peer broker).
static int
s_route (en_msg_t *msg, void *arg, en_error_t *error)
{
    s_incoming_t *in = (s_incoming_t *) arg;
    en_router_t *router = in->broker->router_sm;
    en_router_set_sender_key (router, in->enrolled->sign_key);
    return en_router_receive (router, in->node, in->peer->region, in->is_peer, msg, error);
}

//  Every other command. A reliable one is received exactly once through
//  the inbox, whose answer it gets (the router refuses, finally, what is
//  not sent to a broker); an unreliable one is not for a broker.
static int
s_on_other (en_broker_t *self, s_incoming_t *in, en_error_t *error)
{
    const char *command = en_msg_command (in->msg);
    if (!en_msg_command_reliable (command))
        return en_error_set (error, EN_ERR_BAD_REQUEST, "command %s is not sent to a broker", command);
    en_msg_t *answer = en_inbox_receive (self->inbox, in->msg, in->peer->clock, s_route, in, error);
    if (error->code)
        s_refused (self, in->node, error);
    s_reply (self, in->routing_id, answer);
    return 0;
}

//  Step 3: the first entry for the command and the kind of sender.
static const s_command_t s_commands [] = {
    //  command   sent by       session  handler
    { "HELLO",  S_FROM_NODE,  false,   s_on_hello },
    { "HELLO",  S_FROM_PEER,  false,   s_on_hello_from_peer },
    { "LINK",   S_FROM_PEER,  false,   s_on_link },
    { "LINK",   S_FROM_NODE,  false,   s_on_link_from_node },
    { "ACK",    S_FROM_ANY,   false,   s_on_answer },
    { "ERROR",  S_FROM_ANY,   false,   s_on_answer },
    { "PING",   S_FROM_NODE,  true,    s_on_ping },
    { "PING",   S_FROM_PEER,  true,    s_on_peer_ping },
    { "ADVERT", S_FROM_PEER,  true,    s_on_advert },
    { NULL,     S_FROM_ANY,   true,    s_on_other }
};

static const s_command_t *
s_command (const char *command, bool is_peer)
{
    s_from_t from = is_peer ? S_FROM_PEER : S_FROM_NODE;
    const s_command_t *entry = s_commands;
    while (entry->command && !(streq (entry->command, command) && (entry->from & from)))
        entry++;
    return entry;
}

static void
s_dispatch (en_broker_t *self, s_incoming_t *in)
{
    const s_command_t *entry = s_command (en_msg_command (in->msg), in->is_peer);
    if (entry->session && !in->peer->region && !in->peer->linked) {
        //  A session starts with HELLO to this broker process; after a
        //  broker restart the node's socket reconnects silently, so this
        //  tells it to say HELLO (and re-publish its experts) again.
        en_error_set (&in->error, EN_ERR_NO_SESSION, "send HELLO first");
        in->error.ref [0] = 0;
        s_refuse (self, in);
    }
    else
    if (entry->handler (self, in, &in->error))
        s_refuse (self, in);
}

//  Handle one message (inside the batch transaction).
static void
s_handle_message (en_broker_t *self, zmsg_t *raw)
{
    s_incoming_t in = { .broker = self, .routing_id = zmsg_pop (raw) };
    self->received++;
    if (s_authenticate (self, raw, &in) == 0 && s_heard (self, &in) == 0)
        s_dispatch (self, &in);
    en_msg_destroy (&in.msg);
    zframe_destroy (&in.routing_id);
}

static int
s_send_to_node (const char *dest, en_msg_t *msg, void *arg)
{
    en_broker_t *self = (en_broker_t *) arg;
    s_peer_t *peer = (s_peer_t *) zhashx_lookup (self->peers, dest);
    if (!s_peer_connected (self, peer))
        return -1;
    if (en_msg_send (msg, self->router, peer->routing_id, self->signer)) {
        //  Gone (EHOSTUNREACH) or full: forget the connection, retry later
        zframe_destroy (&peer->routing_id);
        return -1;
    }
    en_metrics_count (self->metrics, EN_METRIC_SENT, en_msg_command (msg), 1);
    return 0;
}

//  What we serve may have changed (a batch, an expiry, a revocation, a
//  hiaat routed again, an operator's action, a peer's message): our
//  advert to peers and the nodes' TAGS are computed again.
static void
s_changed (en_broker_t *self)
{
    en_fed_dirty (self->fed);
    self->tags_dirty = true;
}

//  The expertise tags the network holds, for the nodes' request forms:
//  {tags: [{tag, available}]}, a tag held by an active expert of this
//  province or advertised by a peer province; available when one of them
//  has a free place now. (A request needs one expert holding all its
//  tags: per tag this is a hint, never a promise.)
static json_t *
s_network_tags (en_broker_t *self)
{
    json_t *seen = json_object ();
    int64_t now = en_now_ms ();
    json_t *experts = en_bstore_experts (self->store);
    size_t index, i;
    json_t *row, *tag;
    json_array_foreach (experts, index, row) {
        bool free_now = en_json_int (row, "capacity", 0) > en_json_int (row, "load", 0)
                     && en_json_int (row, "absent_until", 0) <= now;
        json_array_foreach (json_object_get (row, "expertise"), i, tag)
            if (json_is_string (tag))
                json_object_set_new (seen, json_string_value (tag), json_boolean (free_now
                    || json_is_true (json_object_get (seen, json_string_value (tag)))));
    }
    json_decref (experts);
    json_t *learned = en_bstore_advert_learned (self->store, NULL, 64);
    json_array_foreach (learned, index, row) {
        //  tagset ",a,b,": every tag of an entry with free places
        char *tagset = strdup (en_json_str (row, "tagset") ?: "");
        char *save = NULL;
        for (char *name = strtok_r (tagset, ",", &save); name; name = strtok_r (NULL, ",", &save))
            if (en_name_valid (name))
                json_object_set_new (seen, name, json_boolean (en_json_int (row, "free", 0) > 0
                    || json_is_true (json_object_get (seen, name))));
        free (tagset);
    }
    json_decref (learned);
    json_t *tags = json_array ();
    const char *name;
    json_t *available;
    json_object_foreach (seen, name, available)
        json_array_append_new (tags, json_pack ("{s:s, s:O}", "tag", name, "available", available));
    json_decref (seen);
    return json_pack ("{s:o}", "tags", tags);
}

//  Tell every connected node when the network's tags changed (an expert
//  published, withdrawn, full or free again; a peer's advert). TAGS is
//  unreliable: a node that missed one gets the set again at its next
//  HELLO or change.
static void
s_send_tags (en_broker_t *self)
{
    //  Computed (a scan of the experts and the peers' adverts) only after
    //  a change, and once a minute for what time alone changes (an expert
    //  back from absence): not on every timer tick of the routing loop
    int64_t now = en_now_ms ();
    if (!self->tags_dirty && now - self->tags_at < 60000)
        return;
    self->tags_dirty = false;
    self->tags_at = now;
    json_t *body = s_network_tags (self);
    char *text = json_dumps (body, JSON_COMPACT | JSON_SORT_KEYS);
    if (text && (!self->tags_sent || !streq (text, self->tags_sent))) {
        for (s_peer_t *peer = (s_peer_t *) zhashx_first (self->peers); peer;
             peer = (s_peer_t *) zhashx_next (self->peers))
            if (s_peer_connected (self, peer) && !en_fed_is_peer (self->fed, peer->name)) {
                en_msg_t *msg = en_msg_new ("TAGS", self->name, json_incref (body));
                if (en_msg_send (msg, self->router, peer->routing_id, self->signer) == 0)
                    en_metrics_count (self->metrics, EN_METRIC_SENT, "TAGS", 1);
                en_msg_destroy (&msg);
            }
        free (self->tags_sent);
        self->tags_sent = text;
        text = NULL;
    }
    free (text);
    json_decref (body);
}

static void
s_flush (en_broker_t *self)
{
    en_fed_flush (self->fed);
    en_outbox_t *outbox = en_bstore_outbox (self->store);
    for (s_peer_t *peer = (s_peer_t *) zhashx_first (self->peers); peer;
         peer = (s_peer_t *) zhashx_next (self->peers))
        if (s_peer_connected (self, peer))
            en_outbox_flush (outbox, peer->name, self->retry_ms, 1000, s_send_to_node, self);
}

static void
s_send_replies (en_broker_t *self)
{
    for (s_reply_t *reply = (s_reply_t *) zlistx_first (self->replies); reply;
         reply = (s_reply_t *) zlistx_next (self->replies))
        if (en_msg_send (reply->msg, self->router, reply->routing_id, self->signer) == 0)
            en_metrics_count (self->metrics, EN_METRIC_SENT, en_msg_command (reply->msg), 1);
        //  else lost: the peer retries
    zlistx_purge (self->replies);
}

static void
s_process_batch (en_broker_t *self)
{
    en_db_t *db = en_bstore_db (self->store);
    s_refresh_enrolled (self);
    if (en_db_begin (db)) {
        zsys_error ("cannot begin transaction: %s", en_db_error (db));
        return;
    }
    int64_t batch_start = en_now_ms ();
    int64_t batch_end = batch_start + BATCH_MAX_MS;
    for (int count = 0; count < BATCH_MAX && en_now_ms () < batch_end; count++) {
        if (!(zsock_events (self->router) & ZMQ_POLLIN))
            break;
        zmsg_t *raw = zmsg_recv (self->router);
        if (!raw)
            break;
        if (zmsg_size (raw) >= 2)
            s_handle_message (self, raw);
        zmsg_destroy (&raw);
    }
    if (en_db_commit (db)) {
        //  Nothing of this batch is acked; senders retransmit it (said
        //  once while it lasts: every retry of every node would repeat it)
        if (!self->batch_failing)
            zsys_error ("commit failed, messages not acknowledged until it works again (senders retry): %s",
                        en_db_full (db) ? "disk full" : en_db_error (db));
        self->batch_failing = true;
        en_db_rollback (db);
        zlistx_purge (self->replies);
        return;
    }
    if (self->batch_failing)
        zsys_notice ("commits work again: messages are acknowledged");
    self->batch_failing = false;
    en_metrics_observe_ms (self->metrics, EN_HIST_BATCH, en_now_ms () - batch_start);
    s_changed (self);
    s_send_replies (self);
    s_flush (self);
}

//  Expire due offers. When that fails (a full disk), wait before the
//  next try, twice as long each time up to EXPIRE_BACKOFF_MAX_MS, and say
//  so once, and once when it works again: a due offer must not spin the
//  loop (it did, at 5,000 log lines a second).
static void
s_expire (en_broker_t *self)
{
    en_db_t *db = en_bstore_db (self->store);
    int rc = en_db_begin (db);
    if (rc == 0) {
        rc = en_router_expire (self->router_sm, en_now_ms ()) < 0 ? -1 : 0;
        if (en_db_commit (db)) {
            en_db_rollback (db);
            rc = -1;
        }
    }
    if (rc) {
        if (!self->expire_backoff_ms)
            zsys_error ("offers could not be expired (%s): trying again after %d ms, waiting longer each "
                        "time up to %d s", en_db_full (db) ? "disk full" : en_db_error (db),
                        EXPIRE_BACKOFF_MIN_MS, EXPIRE_BACKOFF_MAX_MS / 1000);
        self->expire_backoff_ms = self->expire_backoff_ms
                                ? MIN (self->expire_backoff_ms * 2, EXPIRE_BACKOFF_MAX_MS) : EXPIRE_BACKOFF_MIN_MS;
        self->expire_retry_at = en_now_ms () + self->expire_backoff_ms;
        return;
    }
    if (self->expire_backoff_ms)
        zsys_notice ("offers expire again");
    self->expire_backoff_ms = 0;
    self->expire_retry_at = 0;
    s_changed (self);
    s_flush (self);
}

//  Hiaten that something may help now are routed again
//  (en_router_retry_hiaten). 0, or -1 when the store failed (logged).
static int
s_retry_hiaten (en_broker_t *self)
{
    en_db_t *db = en_bstore_db (self->store);
    if (en_db_begin (db))
        return -1;
    int routed = en_router_retry_hiaten (self->router_sm, en_now_ms ());
    if (en_db_commit (db)) {
        en_db_rollback (db);
        routed = -1;
    }
    if (routed < 0) {
        zsys_error ("could not route hiaten again (store: %s); next try in 30 s", en_db_error (db));
        return -1;
    }
    if (routed > 0) {
        s_changed (self);
        s_flush (self);
    }
    return 0;
}

static void
s_handle_monitor (en_broker_t *self)
{
    zmsg_t *event = zmsg_recv (self->monitor);
    if (!event)
        return;
    zframe_t *header = zmsg_first (event);
    zframe_t *address = zmsg_next (event);
    if (header && zframe_size (header) >= 6) {
        uint16_t id;
        memcpy (&id, zframe_data (header), 2);
        self->refused++;
        self->refused_unlogged++;
        //  Perhaps enrolled a moment ago: admit it for its next try (a
        //  look at enrolled/ at most every 250 ms, however many refusals)
        if (en_now_ms () - self->enrolled_checked >= 250) {
            self->enrolled_checked = en_now_ms ();
            s_refresh_enrolled (self);
        }
        en_metrics_count (self->metrics, EN_METRIC_CONN_REFUSED, NULL, 1);
        //  A refused node retries every second or so: one line per 10 s
        int64_t now = en_now_ms ();
        if (now - self->refused_logged >= 10000) {
            char *where = address ? zframe_strdup (address) : strdup ("?");
            zsys_warning ("refused %llu connection(s) on %s: %s", (unsigned long long) self->refused_unlogged,
                          where, id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                          ? "CURVE key not enrolled" : "security handshake failed");
            free (where);
            self->refused_logged = now;
            self->refused_unlogged = 0;
        }
    }
    zmsg_destroy (&event);
}

//  Operator status: nodes with liveness and queue depth, and counts.
static json_t *
s_status (en_broker_t *self)
{
    json_t *nodes = json_array ();
    for (s_peer_t *peer = (s_peer_t *) zhashx_first (self->peers); peer;
         peer = (s_peer_t *) zhashx_next (self->peers))
        if (!en_fed_is_peer (self->fed, peer->name))
            json_array_append_new (nodes, json_pack ("{s:s, s:s?, s:b, s:b, s:I, s:I, s:o}",
            "name", peer->name, "region", peer->region,
            "connected", s_peer_connected (self, peer), "enrolled", s_name_enrolled (self, peer->name),
            "last_seen", (json_int_t) peer->last_seen,
            "outbox", (json_int_t) en_outbox_depth (en_bstore_outbox (self->store), peer->name),
            "clock", en_clock_status (peer->clock)));
    //  Who may connect, and the region each node is bound to
    json_t *enrolled_list = json_array ();
    for (s_enrolled_t *enrolled = (s_enrolled_t *) zhashx_first (self->key_names); enrolled;
         enrolled = (s_enrolled_t *) zhashx_next (self->key_names)) {
        bool is_peer = en_fed_is_peer (self->fed, enrolled->name);
        json_array_append_new (enrolled_list, json_pack ("{s:s, s:s?, s:s, s:b}",
            "name", enrolled->name, "region", is_peer ? NULL : enrolled->region,
            "key", (const char *) zhashx_cursor (self->key_names), "peer_broker", is_peer));
    }
    json_t *status = en_bstore_counts (self->store);
    json_object_set_new (status, "enrolled", enrolled_list);
    json_object_set_new (status, "broker", json_string (self->name));
    json_object_set_new (status, "store", json_string (self->store_id));
    json_object_set_new (status, "endpoint", json_string (self->endpoint));
    json_object_set_new (status, "version", json_string (EXPERTNET_VERSION));
    json_object_set_new (status, "started", json_integer (self->started));
    json_object_set_new (status, "nodes", nodes);
    json_object_set_new (status, "links", en_fed_status (self->fed));
    json_object_set_new (status, "messages_received", json_integer ((json_int_t) self->received));
    json_object_set_new (status, "messages_refused", json_integer ((json_int_t) self->rejected));
    json_object_set_new (status, "connections_refused", json_integer ((json_int_t) self->refused));
    json_object_set_new (status, "pii_guard", en_router_pii_counts (self->router_sm));
    return status;
}

//  Nodes known to the store, with liveness from this run's connections.
static json_t *
s_nodes (en_broker_t *self, int64_t *connected)
{
    json_t *nodes = en_bstore_nodes (self->store);
    size_t index;
    json_t *node;
    *connected = 0;
    json_array_foreach (nodes, index, node) {
        s_peer_t *peer = (s_peer_t *) zhashx_lookup (self->peers, en_json_str (node, "name"));
        bool up = s_peer_connected (self, peer);
        *connected += up;
        json_object_set_new (node, "connected", json_boolean (up));
        json_object_set_new (node, "enrolled", json_boolean (s_name_enrolled (self, en_json_str (node, "name"))));
        json_object_set_new (node, "outbox", json_integer (
            en_outbox_depth (en_bstore_outbox (self->store), en_json_str (node, "name"))));
        if (peer && peer->last_seen)
            json_object_set_new (node, "last_seen", json_integer (peer->last_seen));
        if (peer && en_clock_known (peer->clock))
            json_object_set_new (node, "clock_offset_ms", json_integer (en_clock_offset (peer->clock)));
    }
    return nodes;
}

//  Experts available now (present, with a free place) and in total, by
//  role and by expertise tag.
static json_t *
s_experts_available (json_t *experts, int64_t now)
{
    json_t *by_role = json_object ();
    json_t *by_tag = json_object ();
    int64_t total = 0, available = 0;
    size_t index;
    json_t *expert;
    json_array_foreach (experts, index, expert) {
        bool free_now = en_json_int (expert, "absent_until", 0) <= now
            && en_json_int (expert, "load", 0) + en_json_int (expert, "reserved", 0)
               < en_json_int (expert, "capacity", 0);
        total++;
        available += free_now;
        json_t *counts [2] = { by_role, by_tag };
        const char *role = en_json_str (expert, "role");
        json_t *tags = json_object_get (expert, "expertise");
        for (size_t k = 0; k <= json_array_size (tags); k++) {
            //  k == 0: the role; then each tag
            const char *key = k == 0 ? role : json_string_value (json_array_get (tags, k - 1));
            json_t *table = counts [k == 0 ? 0 : 1];
            if (!key)
                continue;
            json_t *entry = json_object_get (table, key);
            if (!entry) {
                entry = json_pack ("{s:i, s:i}", "total", 0, "available", 0);
                json_object_set_new (table, key, entry);
            }
            json_object_set_new (entry, "total", json_integer (en_json_int (entry, "total", 0) + 1));
            json_object_set_new (entry, "available",
                                 json_integer (en_json_int (entry, "available", 0) + free_now));
        }
    }
    return json_pack ("{s:I, s:I, s:o, s:o}", "total", (json_int_t) total,
                      "available", (json_int_t) available, "by_role", by_role, "by_tag", by_tag);
}

//  Everything the dashboard's overview shows, in one answer.
static json_t *
s_overview (en_broker_t *self)
{
    int64_t now = en_now_ms ();
    int64_t connected = 0;
    json_t *overview = en_bstore_counts (self->store);
    json_t *nodes = s_nodes (self, &connected);
    json_object_set_new (overview, "now", json_integer (now));
    json_object_set_new (overview, "broker", json_string (self->name));
    json_object_set_new (overview, "version", json_string (EXPERTNET_VERSION));
    json_object_set_new (overview, "started", json_integer (self->started));
    json_object_set_new (overview, "nodes_connected", json_integer (connected));
    json_object_set_new (overview, "nodes", nodes);

    json_t *requests = en_bstore_requests_open (self->store, 200);
    size_t index;
    json_t *request;
    json_array_foreach (requests, index, request) {
        json_t *summary = json_object_get (request, "summary");
        json_object_set (request, "expertise", json_object_get (summary, "expertise"));
        json_object_del (request, "summary");
        json_object_set_new (request, "age_ms", json_integer (now - en_json_int (request, "created", now)));
    }
    json_object_set_new (overview, "requests_open", requests);

    json_t *offers = en_bstore_offers_pending (self->store);
    json_t *offer;
    json_array_foreach (offers, index, offer)
        json_object_set_new (offer, "left_ms", json_integer (en_json_int (offer, "deadline", now) - now));
    json_object_set_new (overview, "offers", offers);
    json_object_set_new (overview, "hiaten_list", en_bstore_hiaten_recent (self->store, 20));
    json_t *experts = en_bstore_experts (self->store);
    json_object_set_new (overview, "experts", s_experts_available (experts, now));
    json_decref (experts);
    //  Links to the brokers of other provinces (en_fed)
    json_object_set_new (overview, "federation", en_fed_status (self->fed));
    return overview;
}

//  Counters and histograms of this run, and gauges read now.
static json_t *
s_metrics (en_broker_t *self)
{
    json_t *families = en_metrics_json (self->metrics);
    json_t *counts = en_bstore_counts (self->store);
    const char *key;
    json_t *value;

    json_t *gauge = en_metrics_gauge (families, "expertnet_requests",
                                      "Requests in the store, by state.");
    json_object_foreach (json_object_get (counts, "requests_by_state"), key, value)
        en_metrics_sample (gauge, "state", key, (double) json_integer_value (value));
    gauge = en_metrics_gauge (families, "expertnet_requests_open",
                              "Requests not closed and not a hiaat, by urgency.");
    for (int i = 0; en_vocab_urgency [i]; i++)
        en_metrics_sample (gauge, "urgency", en_vocab_urgency [i], (double) en_json_int (
            json_object_get (counts, "open_by_urgency"), en_vocab_urgency [i], 0));
    gauge = en_metrics_gauge (families, "expertnet_offers_open", "Offers waiting for an answer.");
    en_metrics_sample (gauge, NULL, NULL, (double) en_json_int (counts, "offers_open", 0));
    gauge = en_metrics_gauge (families, "expertnet_hiaten", "Requests recorded as a hiaat (nobody could take them).");
    en_metrics_sample (gauge, NULL, NULL, (double) en_json_int (counts, "hiaten", 0));
    gauge = en_metrics_gauge (families, "expertnet_experts_active", "Experts published by the nodes, by role.");
    json_object_foreach (json_object_get (counts, "experts_by_role"), key, value)
        en_metrics_sample (gauge, "role", key, (double) json_integer_value (value));

    int64_t connected = 0;
    json_t *nodes = s_nodes (self, &connected);
    gauge = en_metrics_gauge (families, "expertnet_nodes_connected", "Nodes heard from within three heartbeats.");
    en_metrics_sample (gauge, NULL, NULL, (double) connected);
    gauge = en_metrics_gauge (families, "expertnet_nodes_known", "Nodes that ever said HELLO to this broker.");
    en_metrics_sample (gauge, NULL, NULL, (double) json_array_size (nodes));
    gauge = en_metrics_gauge (families, "expertnet_outbox_depth",
                              "Messages queued for a node and not yet acknowledged, by node.");
    size_t index;
    json_t *node;
    json_array_foreach (nodes, index, node)
        en_metrics_sample (gauge, "node", en_json_str (node, "name"), (double) en_json_int (node, "outbox", 0));
    json_t *offsets = en_metrics_gauge (families, "expertnet_clock_offset_seconds",
                                        "Measured clock offset of a node or peer broker (its clock minus ours), by peer.");
    json_array_foreach (nodes, index, node)
        if (json_is_integer (json_object_get (node, "clock_offset_ms")))
            en_metrics_sample (offsets, "peer", en_json_str (node, "name"), en_json_int (node, "clock_offset_ms", 0) / 1000.0);
    json_decref (nodes);

    //  Federation links: up (and delivering), queue, round trip
    json_t *links = en_fed_status (self->fed);
    json_t *up = en_metrics_gauge (families, "expertnet_federation_link_up",
                                   "1 when the link to a peer broker is up and not blocked, by peer.");
    json_t *queue = en_metrics_gauge (families, "expertnet_federation_queue_depth",
                                      "Messages queued on disk for a peer broker, by peer.");
    json_t *rtt = en_metrics_gauge (families, "expertnet_federation_rtt_seconds",
                                    "Last PING round trip to a peer broker, by peer.");
    json_t *link;
    json_array_foreach (links, index, link) {
        const char *peer = en_json_str (link, "peer");
        en_metrics_sample (up, "peer", peer, streq (en_json_str (link, "state"), "up") ? 1 : 0);
        en_metrics_sample (queue, "peer", peer, (double) en_json_int (link, "queue", 0));
        if (json_is_integer (json_object_get (link, "rtt_ms")))
            en_metrics_sample (rtt, "peer", peer, en_json_int (link, "rtt_ms", 0) / 1000.0);
        json_t *clock = json_object_get (link, "clock");
        if (json_is_object (clock))
            en_metrics_sample (offsets, "peer", peer, en_json_int (clock, "offset_ms", 0) / 1000.0);
    }
    json_decref (links);

    //  Store size: the database and its write-ahead log
    double bytes = 0;
    const char *suffixes [] = { "", "-wal", NULL };
    for (int i = 0; suffixes [i]; i++) {
        char path [PATH_MAX];
        struct stat info;
        snprintf (path, sizeof path, "%s/broker.db%s", self->datadir, suffixes [i]);
        if (stat (path, &info) == 0)
            bytes += (double) info.st_size;
    }
    gauge = en_metrics_gauge (families, "expertnet_store_bytes", "Size of the broker's database and its write-ahead log.");
    en_metrics_sample (gauge, NULL, NULL, bytes);
    gauge = en_metrics_gauge (families, "expertnet_start_time_seconds", "When this broker process started (Unix time).");
    en_metrics_sample (gauge, NULL, NULL, self->started / 1000.0);
    json_decref (counts);
    return families;
}

//  Operator actions and password changes write: each in its own
//  transaction, then the messages they queued go out.
static json_t *
s_operator_action (en_broker_t *self, const char *action, json_t *args, int *code, const char **failure,
                   char *reason_buf, size_t reason_size)
{
    const char *operator_name = en_json_str (args, "operator") ?: en_json_str (args, "_user");
    en_db_t *db = en_bstore_db (self->store);
    en_error_t error;
    if (en_db_begin (db)) {
        *code = EN_ERR_INTERNAL;
        *failure = "store error";
        return NULL;
    }
    if (en_router_operator (self->router_sm, operator_name, action, en_json_str (args, "request"),
                            en_json_str (args, "reason"), &error)) {
        en_db_rollback (db);
        *code = error.code;
        snprintf (reason_buf, reason_size, "%s", error.reason);
        *failure = reason_buf;
        return NULL;
    }
    if (en_db_commit (db)) {
        en_db_rollback (db);
        *code = EN_ERR_INTERNAL;
        *failure = "store error";
        return NULL;
    }
    s_flush (self);
    json_t *request = en_bstore_request (self->store, en_json_str (args, "request"));
    json_object_set_new (request, "events", en_bstore_events (self->store, en_json_str (args, "request")));
    json_object_set_new (request, "offers_open", en_bstore_offers_open (self->store, en_json_str (args, "request"), 0));
    return request;
}

//  Operators of the dashboard: names as elsewhere, passwords hashed with
//  Argon2id (crypto_pwhash_str, interactive limits: a login costs the
//  web thread about a tenth of a second; this loop hashes only when an
//  operator is added or changes a password).
static json_t *
s_operator_add (en_broker_t *self, json_t *args, int *code, const char **failure)
{
    const char *name = en_json_str (args, "name");
    const char *password = en_json_str (args, "password");
    bool replace = json_is_true (json_object_get (args, "replace"));
    if (!en_name_valid (name)) {
        *code = EN_ERR_INVALID;
        *failure = "field 'name' must be a name: 1 to 63 of a-z, 0-9 and '-'";
        return NULL;
    }
    if (!password || strlen (password) < 10 || strlen (password) > 1024) {
        *code = EN_ERR_INVALID;
        *failure = "field 'password' must be 10 to 1024 bytes";
        return NULL;
    }
    char hash [crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str (hash, password, strlen (password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                           crypto_pwhash_MEMLIMIT_INTERACTIVE)) {
        *code = EN_ERR_INTERNAL;
        *failure = "out of memory hashing the password";
        return NULL;
    }
    int rc = en_bstore_operator_put (self->store, name, hash, replace);
    sodium_memzero (hash, sizeof hash);
    if (rc == 1) {
        *code = replace ? EN_ERR_NOT_FOUND : EN_ERR_CONFLICT;
        *failure = replace ? "no such operator" : "operator exists (give replace to set a new password)";
        return NULL;
    }
    if (rc) {
        *code = EN_ERR_INTERNAL;
        *failure = "store error";
        return NULL;
    }
    en_audit_entry_t entry = { .event = replace ? "operator.password" : "operator.add",
        .actor = en_json_str (args, "_user") ?: self->name, .on_behalf = name,
        .action = replace ? "update" : "create", .outcome = "ok" };
    en_audit_append (en_bstore_db (self->store), &entry);
    zsys_info ("dashboard operator %s %s", name, replace ? "has a new password" : "added");
    json_t *result = en_bstore_operator (self->store, name);
    json_object_del (result, "pwhash");
    return result;
}

//  An API token: 256 random bits as 64 hex characters, shown once; the
//  store keeps its BLAKE2b-256 hash.
static json_t *
s_token_add (en_broker_t *self, json_t *args, int *code, const char **failure)
{
    const char *name = en_json_str (args, "operator") ?: en_json_str (args, "name");
    json_t *record = name ? en_bstore_operator (self->store, name) : NULL;
    if (!record) {
        *code = EN_ERR_NOT_FOUND;
        *failure = "no such operator";
        return NULL;
    }
    json_decref (record);
    unsigned char raw [32], digest [32];
    randombytes_buf (raw, sizeof raw);
    char token [65], hash [65], id [16] = "t-";
    sodium_bin2hex (token, sizeof token, raw, sizeof raw);
    crypto_generichash (digest, sizeof digest, (unsigned char *) token, 64, NULL, 0);
    sodium_bin2hex (hash, sizeof hash, digest, sizeof digest);
    en_random_hex (id + 2, 8);
    sodium_memzero (raw, sizeof raw);
    if (en_bstore_token_add (self->store, id, name, hash)) {
        sodium_memzero (token, sizeof token);
        *code = EN_ERR_INTERNAL;
        *failure = "store error";
        return NULL;
    }
    en_audit_entry_t entry = { .event = "operator.token", .actor = en_json_str (args, "_user") ?: self->name,
        .on_behalf = name, .action = "create", .outcome = "ok", .detail = id };
    en_audit_append (en_bstore_db (self->store), &entry);
    zsys_info ("API token %s added for operator %s", id, name);
    json_t *result = json_pack ("{s:s, s:s, s:s}", "id", id, "operator", name, "token", token);
    sodium_memzero (token, sizeof token);
    return result;
}

static void
s_handle_control (en_broker_t *self, zsock_t *sock)
{
    //  The dashboard's socket may use the verbs that hand out secrets'
    //  hashes; the operator socket may not need them and does not get them
    bool internal = sock == self->web_control;
    zframe_t *routing_id;
    char *verb;
    json_t *args;
    if (en_control_recv (sock, &routing_id, &verb, &args))
        return;
    json_t *result = NULL;
    const char *failure = NULL;
    char reason [300];
    int code = EN_ERR_BAD_REQUEST;
    if (streq (verb, "status"))
        result = s_status (self);
    else
    if (streq (verb, "requests"))
        result = en_bstore_requests (self->store, en_json_str (args, "state"),
                                     (int) en_json_int (args, "limit", 100));
    else
    if (streq (verb, "request")) {
        const char *id = en_json_str (args, "id");
        result = id ? en_bstore_request (self->store, id) : NULL;
        if (result) {
            json_object_set_new (result, "events", en_bstore_events (self->store, id));
            json_object_set_new (result, "offers_open", en_bstore_offers_open (self->store, id, 0));
            //  An operator looking at a request in the dashboard is an
            //  access to that case: logged with who looked
            const char *viewer = en_json_str (args, "operator");
            if (internal && viewer) {
                en_audit_entry_t entry = { .event = "request.view", .case_id = id, .actor = viewer,
                    .action = "read", .outcome = "ok", .detail = "operator" };
                en_audit_append (en_bstore_db (self->store), &entry);
            }
        }
        else {
            failure = "no such request";
            code = EN_ERR_NOT_FOUND;
        }
    }
    else
    if (streq (verb, "report")) {
        //  Aggregated and suppressed here: only the report leaves the broker
        json_t *cases = en_bstore_report_cases (self->store);
        json_t *input = json_array ();
        size_t index;
        json_t *row;
        json_array_foreach (cases, index, row) {
            json_t *phases = json_object_get (row, "phases");
            json_t *summary = json_object_get (row, "summary");
            json_t *item = json_is_object (summary) ? json_deep_copy (summary) : json_object ();
            json_object_set (item, "region", json_object_get (row, "region"));
            json_object_set (item, "urgency", json_object_get (row, "urgency"));
            json_object_set (item, "question_type", json_object_get (row, "question_type"));
            json_object_set (item, "expertise", json_object_get (row, "expertise"));
            json_object_set (item, "registered", json_object_get (phases, "aanmelding"));
            json_object_set (item, "first_assignment", json_object_get (row, "first_assignment"));
            json_object_set (item, "closed", json_object_get (phases, "afgesloten"));
            json_object_set_new (item, "hiaat", json_boolean (en_json_int (row, "hiaat", 0)));
            json_object_set (item, "outcome", json_object_get (row, "outcome"));
            json_array_append_new (input, item);
        }
        json_decref (cases);
        en_report_options_t options = {
            .from_ms = en_json_int (args, "from", 0), .to_ms = en_json_int (args, "to", 0),
            .region = en_json_str (args, "region"), .min_cell = (int) en_json_int (args, "min_cell", 5) };
        if (options.min_cell < 3) {
            failure = "min_cell must be at least 3 (smaller thresholds protect nobody)";
            code = EN_ERR_INVALID;
        }
        else
            result = en_report_build (input, &options);
        json_decref (input);
    }
    else
    if (streq (verb, "hiaten"))
        result = en_bstore_hiaten (self->store);
    else
    if (streq (verb, "experts"))
        result = en_bstore_experts (self->store);
    else
    if (streq (verb, "offers"))
        result = en_bstore_offers_pending (self->store);
    else
    if (streq (verb, "overview"))
        result = s_overview (self);
    else
    if (streq (verb, "metrics"))
        result = s_metrics (self);
    else
    if (streq (verb, "charts")) {
        int64_t days = en_json_int (args, "days", 90);
        days = MAX (1, MIN (days, 3660));
        int64_t since = en_now_ms () - days * 86400 * 1000;
        result = json_pack ("{s:I, s:I, s:o, s:o}", "now", (json_int_t) en_now_ms (), "days", (json_int_t) days,
                            "times", en_bstore_chart_times (self->store, since),
                            "weeks", en_bstore_chart_weeks (self->store, since));
    }
    else
    if (streq (verb, "reoffer") || streq (verb, "escalate") || streq (verb, "close") || streq (verb, "recall"))
        result = s_operator_action (self, verb, args, &code, &failure, reason, sizeof reason);
    else
    if (streq (verb, "operator-add"))
        result = s_operator_add (self, args, &code, &failure);
    else
    if (streq (verb, "operator-remove")) {
        const char *name = en_json_str (args, "name");
        int rc = name ? en_bstore_operator_remove (self->store, name) : 1;
        if (rc) {
            code = rc == 1 ? EN_ERR_NOT_FOUND : EN_ERR_INTERNAL;
            failure = rc == 1 ? "no such operator" : "store error";
        }
        else {
            en_audit_entry_t entry = { .event = "operator.remove", .actor = en_json_str (args, "_user") ?: self->name,
                .on_behalf = name, .action = "delete", .outcome = "ok" };
            en_audit_append (en_bstore_db (self->store), &entry);
            zsys_info ("dashboard operator %s removed", name);
            result = json_pack ("{s:s}", "name", name);
        }
    }
    else
    if (streq (verb, "operators"))
        result = en_bstore_operators (self->store);
    else
    if (streq (verb, "token-add"))
        result = s_token_add (self, args, &code, &failure);
    else
    if (streq (verb, "token-remove")) {
        const char *id = en_json_str (args, "id");
        int rc = id ? en_bstore_token_remove (self->store, id) : 1;
        if (rc) {
            code = rc == 1 ? EN_ERR_NOT_FOUND : EN_ERR_INTERNAL;
            failure = rc == 1 ? "no such token" : "store error";
        }
        else {
            en_audit_entry_t entry = { .event = "operator.token-remove", .actor = en_json_str (args, "_user") ?: self->name,
                .action = "delete", .outcome = "ok", .detail = id };
            en_audit_append (en_bstore_db (self->store), &entry);
            result = json_pack ("{s:s}", "id", id);
        }
    }
    else
    if (streq (verb, "tokens"))
        result = en_bstore_tokens (self->store);
    else
    if (streq (verb, "operator-hash") && internal) {
        const char *name = en_json_str (args, "name");
        result = name ? en_bstore_operator (self->store, name) : NULL;
        if (!result) {
            code = EN_ERR_NOT_FOUND;
            failure = "no such operator";
        }
    }
    else
    if (streq (verb, "token-check") && internal) {
        const char *hash = en_json_str (args, "hash");
        result = hash ? en_bstore_token_find (self->store, hash) : NULL;
        if (!result) {
            code = EN_ERR_NOT_FOUND;
            failure = "no such token";
        }
    }
    else
    if (streq (verb, "audit-verify")) {
        //  With anchors: the heads a peer broker holds of our log
        result = en_audit_report (en_bstore_db (self->store));
        if (json_is_array (json_object_get (args, "anchors")))
            en_audit_check_anchors (en_bstore_db (self->store), json_object_get (args, "anchors"), result);
    }
    else
    if (streq (verb, "audit-anchors")) {
        //  The heads a node or peer broker anchored here, for its
        //  `audit verify --anchors`
        const char *sender = en_json_str (args, "node");
        if (!en_name_valid (sender)) {
            code = EN_ERR_INVALID;
            failure = "field 'node' must be the name of a node or peer broker";
        }
        else
            result = json_pack ("{s:s, s:s, s:s, s:o}", "node", sender, "broker", self->name,
                                "store", self->store_id, "anchors", en_bstore_anchors (self->store, sender));
    }
    else
    if (streq (verb, "audit-show")) {
        const char *case_id = en_json_str (args, "case");
        result = case_id ? en_audit_case (en_bstore_db (self->store), case_id)
                         : en_audit_tail (en_bstore_db (self->store), en_json_int (args, "limit", 50));
    }
#ifdef EN_FAULTS
    //  Test builds only (build/tests/faults/expertnet-broker, for
    //  tests/integration/test_faults.sh): {"countdown": N} makes the N-th
    //  store write from now fail (0 disarms); answers whether the fault
    //  armed before fired.
    else
    if (streq (verb, "fault")) {
        en_db_t *db = en_bstore_db (self->store);
        result = json_pack ("{s:b}", "fired", en_db_fault_fired (db));
        int64_t countdown = en_json_int (args, "countdown", -1);
        if (countdown >= 0 && countdown <= 1000000)
            en_db_fault_countdown (db, (int) countdown);
    }
#endif
    else
        failure = "unknown verb";
    //  A store that failed for want of space says so, not "could not ..."
    char full [400];
    if (!result && en_db_full (en_bstore_db (self->store))) {
        snprintf (full, sizeof full, "disk full: %s (free space in %s)", failure ? failure : "not stored",
                  self->datadir);
        failure = full;
        code = EN_ERR_DISK_FULL;
    }
    en_control_reply (sock, routing_id, result, code, failure);
    zframe_destroy (&routing_id);
    zstr_free (&verb);
    json_decref (args);
}

int
en_broker_run (en_broker_t *self)
{
    zsys_info ("broker %s ready on %s (data in %s)", self->name, self->endpoint, self->datadir);
    int64_t next_flush = en_now_ms () + self->retry_ms;
    int64_t next_prune = en_now_ms ();
    int64_t next_retry = en_now_ms ();
    while (!zsys_interrupted) {
        int64_t now = en_now_ms ();
        int64_t wake = next_flush;
        int64_t deadline = en_bstore_next_deadline (self->store);
        int64_t earliest = MAX (self->started + self->grace_ms, self->expire_retry_at);
        if (deadline > 0)
            wake = MIN (wake, MAX (deadline, earliest));
        int timeout = (int) MAX (0, MIN (wake - now, 250));
        zsock_t *which = (zsock_t *) zpoller_wait (self->poller, timeout);
        if (en_daemon_reload_requested ())
            return EN_DAEMON_RELOAD;
        if (zsys_interrupted)
            break;
        if (which == self->router)
            s_process_batch (self);
        else
        if (which && en_fed_handle (self->fed, which))
            self->tags_dirty = true;
        else
        if (which == self->control || (which && which == self->web_control)) {
            s_handle_control (self, which);
            self->tags_dirty = true;        //  an operator may have moved a request
        }
        else
        if (which == self->monitor)
            s_handle_monitor (self);
        if (self->check_revoked)
            s_withdraw_revoked (self);
        en_fed_tick (self->fed);
        now = en_now_ms ();
        if (deadline > 0 && deadline <= now && now >= earliest)
            s_expire (self);
        //  What a hiaat lacked may have appeared (a link up, an advert, an
        //  expert published or back, a place freed): look every second
        if (now >= next_retry && now >= earliest)
            next_retry = now + (s_retry_hiaten (self) ? 30000 : 1000);
        if (now >= next_flush) {
            //  Our clock is the one we started with (en_clock): say once
            //  when the system's has moved away from it
            bool drifted = llabs (en_clock_drift_ms ()) > self->clock_alert_ms;
            if (drifted && !self->drift_logged)
                zsys_warning ("the system clock moved %+.1f s since this broker started; deadlines and timestamps "
                              "keep the clock of the start (restart the broker to take the new time)",
                              en_clock_drift_ms () / 1000.0);
            self->drift_logged = drifted;
            s_refresh_enrolled (self);
            s_send_tags (self);
            s_flush (self);
            next_flush = now + self->retry_ms / 2;
        }
        if (now >= self->next_anchor && now >= earliest) {
            s_anchor_peers (self);
            self->next_anchor = now + self->anchor_ms;
        }
        if (now >= next_prune) {
            //  Dedup records outlive any retransmission by far
            en_seen_prune (en_bstore_db (self->store), now - 30LL * 86400 * 1000);
            en_audit_prune (en_bstore_db (self->store), now - self->audit_retention_ms);
            en_bstore_anchors_prune (self->store, now - self->audit_retention_ms);
            next_prune = now + 3600 * 1000;
        }
    }
    //  A last head for the peers: queued on disk, sent now if a link is up
    s_anchor_peers (self);
    en_fed_flush (self->fed);
    zsys_info ("broker %s stopping", self->name);
    return 0;
}
