/*  en_broker - the provincial broker: the server loop.

    One thread, one poll loop over these sockets:
      router       ROUTER, CURVE server, nodes and peer brokers connect
                   here (tcp)
      control      ROUTER on ipc:// in the data directory, for `expertnet`
                   operator verbs (file permissions guard it)
      web_control  ROUTER on inproc://, the dashboard's questions (only
                   when the dashboard is on)
      monitor      PAIR fed by libzmq's socket monitor, to log and count
                   connections refused by authentication
      federation   one DEALER per peer broker, this broker's links out
                   (en_fed adds them to the poller and handles them)

    This file is the loop and its wiring: the sockets, the batch, the
    timers, and the modules that do the rest. Routing decisions are
    en_router's; storage is en_bstore's; the links to peer brokers are
    en_fed's; who may connect is en_enrolled's; the control verbs and the
    figures they answer with are en_ops's and en_figures's; the dashboard
    is en_web's.

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
    is in <datadir>/enrolled (en_enrolled; re-read when the directory
    changes, so enrolling a node needs no restart). The certificate's
    "name" says which node a key is; a message whose sender frame is
    another name is refused, so one node cannot speak for another.

    The dashboard. en_web serves it over HTTP from a thread of its own
    (libmicrohttpd's), but it owns no state: it asks this loop for every
    figure it shows, over its control socket (inproc, polled here with
    the operator socket), so the store keeps one owner and one thread.
    Verbs only the dashboard may use (an operator's password hash, API
    token lookup) are answered on that socket only (en_ops).

    Timers. Open offers carry their deadline in the store; the poll
    timeout is the time to the earliest one. After a start the broker
    waits a grace period before expiring anything, so nodes can reconnect
    and deliver answers they queued while the broker was down.
*/
#include "en_broker.h"
#include "en_web.h"
#include "en_fed.h"
#include "en_enrolled.h"
#include "en_ops.h"
#include "en_followup.h"
#include <sodium.h>
#include <sys/stat.h>
#include <inttypes.h>

//  A batch ends after this many messages or this long, whichever comes
//  first, so replies and acknowledgements never wait behind a flood.
#define BATCH_MAX       512
#define BATCH_MAX_MS    50
#define VERIFY_PART     64      //  messages read and checked ahead at a time

typedef struct {
    char *name;                 //  node name (from its enrolled cert)
    char *region;               //  region it announced in HELLO
    bool linked;                //  a peer broker that said LINK
    zframe_t *routing_id;       //  current connection's routing id
    int64_t last_seen;          //  ms of last message from it
    en_clock_t *clock;          //  its clock's offset from ours
} s_peer_t;

//  An enrolled node as the receive path sees it (en_enrolled)
typedef en_enrollment_t s_enrolled_t;

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
    zactor_t *verifier;         //  checks signatures on the second core (s_verifier)
    zcert_t *cert;              //  our CURVE key pair
    en_enrolled_t *enrolled;    //  who may connect (and zauth, which admits them)
    en_signer_t *signer;        //  our Ed25519 key: every message we send is signed
    int64_t enrolled_checked;   //  ms of the last look prompted by a refused handshake
    bool check_revoked;         //  the enrolled keys changed: look for revoked nodes
    int64_t refused_logged;     //  ms of the last refused-connection log line
    int64_t unenrolled_logged;  //  ms of the last "key not enrolled" log line
    uint64_t refused_unlogged;  //  refusals since that line
    zsock_t *router;            //  node-facing socket
    zsock_t *control;           //  operator socket (ipc)
    zsock_t *web_control;       //  the dashboard's control socket (inproc)
    en_web_t *web;              //  the dashboard (its own thread), or NULL
    en_ops_t *ops;              //  the control verbs of both control sockets
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
    zlistx_t *batch;            //  en_msg_t gathered for one node's BATCH (s_flush)
    size_t batch_size;          //  octets they add to its body
    bool tags_dirty;            //  the store or a peer changed since TAGS was computed
    int64_t tags_at;            //  ms TAGS was last computed
    int64_t anchor_ms;          //  how often our log's head goes to the peers
    int64_t next_anchor;        //  ms of the next ANCHOR to the peers
    int64_t next_flush;         //  ms of the next flush (outbox, TAGS, enrolled/)
    int64_t next_retry;         //  ms of the next look at the hiaten
    int64_t next_prune;         //  ms of the next pruning of dedup and access log
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
static void s_verifier (zsock_t *pipe, void *args);
static json_t *s_network_tags (en_broker_t *self);
static void s_changed (en_broker_t *self);
static bool s_peer_enrolled (const char *name, const char *pinned_key, char curve_key [41],
                             unsigned char sign_key [32], void *arg);
static json_t *s_live (void *arg);
static void s_written (void *arg);

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
s_msg_free (void **item)
{
    en_msg_destroy ((en_msg_t **) item);
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
    en_error_t error;
    if (en_fed_configure (self->fed, config, self->heartbeat_ms, self->retry_ms, &error))
        zsys_error ("federation configuration not changed: %s", error.reason);
    zsys_info ("configuration reloaded: deadlines crisis %llds, hoog %llds, regulier %llds",
               (long long) en_router_deadline (self->router_sm, "crisis") / 1000,
               (long long) en_router_deadline (self->router_sm, "hoog") / 1000,
               (long long) en_router_deadline (self->router_sm, "regulier") / 1000);
}


//  Our name, data directory and keys.
static int
s_load_identity (en_broker_t *self, en_error_t *error)
{
    if (!en_name_valid (self->name)) {
        return en_error_set (error, EN_ERR_INVALID, "broker/name '%s' is not a valid name", self->name);
    }
    if (en_mkdir_p (self->datadir, 0700)) {
        return en_error_set (error, EN_ERR_INTERNAL, "cannot create data directory %s", self->datadir);
    }
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/keys", self->datadir);
    self->cert = en_keys_load_secret (path, self->name, error);
    if (!self->cert)
        return -1;
    self->signer = en_signer_load (path, self->name, error);
    return self->signer ? 0 : -1;
}

//  The store. A damaged store is refused (en_db); so is a lost one: the
//  marker names the store that lived here
static int
s_open_store (en_broker_t *self, zconfig_t *config, en_error_t *error)
{
    char path [PATH_MAX], marker [PATH_MAX];
    snprintf (path, sizeof path, "%s/broker.db", self->datadir);
    snprintf (marker, sizeof marker, "%s/store.id", self->datadir);
    bool new_store = en_config_bool (config, "broker/new_store", false);
    if (en_db_store_check (path, marker, new_store, error))
        return -1;
    self->store = en_bstore_new (path, error);
    if (!self->store
    ||  en_db_store_mark (en_bstore_db (self->store), path, marker, new_store, error))
        return -1;
    self->store_id = en_db_store_id (en_bstore_db (self->store));
    //  The head is anchored at the peers when it moved: one interval in
    json_t *chain = en_audit_chain (en_bstore_db (self->store));
    self->anchored_seq = en_json_int (chain, "head_seq", -1);
    json_decref (chain);
    self->inbox = en_inbox_new (en_bstore_db (self->store), self->name);
    return 0;
}

//  Routing, its settings, and federation (whose settings are checked
//  before anything listens).
static int
s_start_routing (en_broker_t *self, zconfig_t *config, en_error_t *error)
{
    self->router_sm = en_router_new (self->store, self->name);
    self->metrics = en_metrics_new ();
    self->verifier = zactor_new (s_verifier, NULL);
    en_router_set_metrics (self->router_sm, self->metrics);
    s_apply_config (self, config);
    self->next_anchor = en_now_ms () + self->anchor_ms;
    self->poller = zpoller_new (NULL);
    self->fed = en_fed_new (self->name, self->store, self->router_sm, self->metrics, self->cert,
                            self->signer, self->poller, s_peer_enrolled, self);
    return en_fed_configure (self->fed, config, self->heartbeat_ms, self->retry_ms, error);
}

//  Authentication first, so no connection slips in unauthenticated:
//  zauth starts with the enrolled keys.
static int
s_start_auth (en_broker_t *self, en_error_t *error)
{
    self->enrolled = en_enrolled_new (self->datadir, error);
    return self->enrolled ? 0 : -1;
}

//  The node-facing socket, and the monitor of its refused handshakes.
static int
s_bind_router (en_broker_t *self, en_error_t *error)
{
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
        return en_error_set (error, EN_ERR_INTERNAL, "cannot bind %s: %s", self->endpoint, zmq_strerror (zmq_errno ()));
    }
    return 0;
}

//  The control verbs, and the operator socket that asks them.
static int
s_bind_control (en_broker_t *self, en_error_t *error)
{
    en_ops_context_t context = {
        .name = self->name, .store_id = self->store_id, .endpoint = self->endpoint,
        .datadir = self->datadir, .started = self->started, .store = self->store,
        .router = self->router_sm, .fed = self->fed, .enrolled = self->enrolled,
        .metrics = self->metrics, .live = s_live, .written = s_written, .arg = self };
    self->ops = en_ops_new (&context);
    self->control = zsock_new (ZMQ_ROUTER);
    zsock_set_linger (self->control, 0);
    mode_t old = umask (0077);
    int rc = zsock_bind (self->control, "ipc://%s/control.sock", self->datadir);
    umask (old);
    if (rc < 0) {
        return en_error_set (error, EN_ERR_INTERNAL, "cannot bind control socket in %s: %s", self->datadir, zmq_strerror (zmq_errno ()));
    }
    return 0;
}

//  What the loop waits on (en_fed adds its links itself)
static int
s_poll (en_broker_t *self)
{
    zpoller_add (self->poller, self->router);
    zpoller_add (self->poller, self->control);
    zpoller_add (self->poller, self->monitor);
    return 0;
}

//  The dashboard. It failing to listen is logged and the broker runs
//  on: routing matters more than the operators' view of it.
static int
s_start_dashboard (en_broker_t *self, zconfig_t *config, en_error_t *error)
{
    const char *web_address = zconfig_get (config, "web/address", EN_WEB_DEFAULT_ADDRESS);
    if (streq (web_address, "off"))
        return 0;
    char endpoint [128];
    snprintf (endpoint, sizeof endpoint, "inproc://en-broker-web-%p", (void *) self);
    self->web_control = zsock_new (ZMQ_ROUTER);
    zsock_set_linger (self->web_control, 0);
    if (zsock_bind (self->web_control, "%s", endpoint) < 0)
        return en_error_set (error, EN_ERR_INTERNAL, "cannot bind %s", endpoint);
    zpoller_add (self->poller, self->web_control);
    en_error_t web_err = { 0 };
    char store_path [PATH_MAX];
    snprintf (store_path, sizeof store_path, "%s/broker.db", self->datadir);
    self->web = en_web_new (config, endpoint, self->name, store_path, &web_err);
    if (!self->web)
        zsys_error ("dashboard not started: %s", web_err.reason);
    return 0;
}

en_broker_t *
en_broker_new (zconfig_t *config, en_error_t *error)
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
    self->batch = zlistx_new ();
    zlistx_set_destructor (self->batch, s_msg_free);
    if (s_load_identity (self, error)
    ||  s_open_store (self, config, error)
    ||  s_start_routing (self, config, error)
    ||  s_start_auth (self, error)
    ||  s_bind_router (self, error)
    ||  s_bind_control (self, error)
    ||  s_poll (self)
    ||  s_start_dashboard (self, config, error))
        en_broker_destroy (&self);
    return self;
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
        en_ops_destroy (&self->ops);
        zsock_destroy (&self->router);
        //  zauth after the socket it guards
        en_enrolled_destroy (&self->enrolled);
        free (self->tags_sent);
        zcert_destroy (&self->cert);
        en_signer_destroy (&self->signer);
        en_router_destroy (&self->router_sm);
        en_inbox_destroy (&self->inbox);
        en_metrics_destroy (&self->metrics);
        zactor_destroy (&self->verifier);
        en_bstore_destroy (&self->store);
        zlistx_destroy (&self->replies);
        zlistx_destroy (&self->batch);
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

//  Who is enrolled: en_enrolled reads <datadir>/enrolled and keeps zauth
//  admitting exactly those keys. Re-read once per batch (a revocation
//  applies to the next message even on an open connection), on the flush
//  timer, and after a refused handshake (a node enrolled a moment ago
//  gets in on its next try); when it was re-read, look for revoked nodes.
static void
s_refresh_enrolled (en_broker_t *self)
{
    if (en_enrolled_refresh (self->enrolled))
        self->check_revoked = true;
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
        if (peer->region && !en_enrolled_has_name (self->enrolled, peer->name)) {
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
        if (en_enrolled_has_name (self->enrolled, node) || en_fed_is_peer (self->fed, node))
            continue;
        if (en_db_begin (db)) {
            self->check_revoked = true;         //  again next time round
            break;
        }
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
    return en_enrolled_lookup (self->enrolled, zframe_meta (frame, "User-Id"));
}

//  The enrolled certificate named like a peer broker (en_fed_enrolled_fn).
static bool
s_peer_enrolled (const char *name, const char *pinned_key, char curve_key [41],
                 unsigned char sign_key [32], void *arg)
{
    en_broker_t *self = (en_broker_t *) arg;
    s_refresh_enrolled (self);
    return en_enrolled_peer (self->enrolled, name, pinned_key, curve_key, sign_key) == 0;
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
    zmsg_t *raw;                //  its frames (routing id taken off)
    int verdict;                //  its signature checked ahead: 1 verifies, 0 not, -1 unchecked
    unsigned char checked_key [32];     //  the key it was checked with
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

//  Does in's signature verify with its enrollment's key (or is it a
//  transport command, unsigned)? Checked ahead if it was (s_verify_start)
//  with the key enrolled now.
static bool
s_authentic (s_incoming_t *in)
{
    if (in->verdict >= 0 && memcmp (in->checked_key, in->enrolled->sign_key, 32) == 0)
        return in->verdict == 1;
    return en_msg_authentic (in->msg, in->enrolled->sign_key);
}

//  Step 0, for every message of a batch before any is handled: its
//  frames decoded (a failure is refused in step 1).
static void
s_decode (en_broker_t *self, zmsg_t *raw, s_incoming_t *in)
{
    memset (in, 0, sizeof *in);
    in->broker = self;
    in->routing_id = zmsg_pop (raw);
    in->raw = raw;
    in->verdict = -1;
    in->msg = en_msg_decode (raw, &in->error);
    en_metrics_count (self->metrics, EN_METRIC_RECEIVED, in->msg ? en_msg_command (in->msg) : "undecodable", 1);
}

//  Step 1. Which node sent it, and did it? 0, or -1 with the refusal
//  answered. Provenance refusals are final for the message.
static int
s_authenticate (en_broker_t *self, s_incoming_t *in)
{
    zmsg_t *raw = in->raw;
    in->enrolled = zmsg_first (raw) ? s_enrolled (self, zmsg_first (raw)) : NULL;
    in->node = in->enrolled ? in->enrolled->name : NULL;
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
    if (!en_msg_signed (in->msg) && !en_msg_command_unsigned (en_msg_command (in->msg)))
        en_error_set (&in->error, EN_ERR_FORBIDDEN, "%s carries no signature: only ACK, PING and PONG "
                      "may be sent unsigned", en_msg_command (in->msg));
    else
    //  Signed, or a transport command the CURVE connection vouches for
    if (!s_authentic (in))
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

//  An answer to what we sent: an ACK (cumulative: every id it names),
//  or an ERROR, final for that message unless the node could not store
//  it (500): then it stays queued and is sent again. Only what was queued
//  for the sender leaves the outbox (en_outbox_ack).
static int
s_on_answer (en_broker_t *self, s_incoming_t *in, en_error_t *error)
{
    json_t *body = en_msg_body (in->msg);
    en_outbox_t *outbox = en_bstore_outbox (self->store);
    if (streq (en_msg_command (in->msg), "ACK")) {
        json_t *refs = en_msg_ack_refs (in->msg, error);
        if (!refs)
            return -1;
        json_decref (en_outbox_ack_all (outbox, in->node, refs, NULL));
        json_decref (refs);
        return 0;
    }
    const char *ref = en_json_str (body, "ref");
    int code = (int) en_json_int (body, "code", 0);
    zsys_warning ("node %s refused %s: %d %s", in->node, ref ? ref : "?", code,
                  en_json_str (body, "reason") ?: "");
    if (ref && code != EN_ERR_INTERNAL)
        en_outbox_ack (outbox, in->node, ref, NULL);
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

//  Handle one message, decoded (s_decode), inside the batch transaction.
static void
s_handle_message (en_broker_t *self, s_incoming_t *in)
{
    self->received++;
    if (s_authenticate (self, in) == 0 && s_heard (self, in) == 0)
        s_dispatch (self, in);
    en_msg_destroy (&in->msg);
    zframe_destroy (&in->routing_id);
    zmsg_destroy (&in->raw);
}

//  Signature checks on the second core. A part of a batch has its
//  signatures checked at once, with the keys enrolled then: the first
//  part of a batch half here and half by this actor, every later part by
//  the actor alone while this loop handles the part before it
//  (s_verify_start, s_verify_end). A message's handling uses the verdict
//  only if its enrollment still has that key. The actor reads the
//  messages it is given and writes only its range of the verdicts; the
//  loop waits for its signal before it reads them, and touches none of
//  those messages until then.
typedef struct {
    en_msg_t *msgs [VERIFY_PART];               //  the messages (borrowed)
    const unsigned char *keys [VERIFY_PART];    //  each one's key (borrowed)
    int verdicts [VERIFY_PART];                 //  each one's verdict
    size_t index [VERIFY_PART];                 //  each one's place in its part
    size_t from, to;            //  the actor's range; [0, from) is the loop's
    bool sent;                  //  the actor has it: s_verify_end waits
} s_verify_job_t;

static void
s_verifier (zsock_t *pipe, void *args)
{
    zsock_signal (pipe, 0);
    while (true) {
        zmsg_t *request = zmsg_recv (pipe);
        if (!request)
            break;
        char *command = zmsg_popstr (request);
        zframe_t *frame = zmsg_pop (request);
        bool term = !command || streq (command, "$TERM");
        if (!term && frame && zframe_size (frame) == sizeof (void *)) {
            s_verify_job_t *job = *(s_verify_job_t **) zframe_data (frame);
            for (size_t i = job->from; i < job->to; i++)
                job->verdicts [i] = en_msg_verify (job->msgs [i], job->keys [i]) ? 1 : 0;
            zsock_signal (pipe, 0);
        }
        zframe_destroy (&frame);
        free (command);
        zmsg_destroy (&request);
        if (term)
            break;
    }
}

//  Fewer signatures than this are checked as they come
#define VERIFY_AHEAD_MIN  8

//  Gather the signatures of a part of count messages into job and hand
//  the actor its share of them: all (alone), or half (else this loop
//  checks the other half in s_verify_end). Too few, or no actor: each is
//  checked as it comes.
static void
s_verify_start (en_broker_t *self, s_verify_job_t *job, s_incoming_t *ins, size_t count, bool alone)
{
    assert (count <= VERIFY_PART);
    size_t jobs = 0;
    for (size_t i = 0; i < count; i++) {
        s_incoming_t *in = &ins [i];
        s_enrolled_t *enrolled = in->msg && zmsg_first (in->raw) ? s_enrolled (self, zmsg_first (in->raw)) : NULL;
        if (enrolled && enrolled->can_sign && en_msg_signed (in->msg)
        &&  streq (en_msg_sender (in->msg), enrolled->name)) {
            memcpy (in->checked_key, enrolled->sign_key, 32);
            job->msgs [jobs] = in->msg;
            job->keys [jobs] = in->checked_key;
            job->index [jobs++] = i;
        }
    }
    job->from = alone ? 0 : jobs / 2;
    job->to = jobs;
    job->sent = false;
    if (jobs < VERIFY_AHEAD_MIN || !self->verifier)
        return;
    s_verify_job_t *pointer = job;
    zmsg_t *request = zmsg_new ();
    zmsg_addstr (request, "VERIFY");
    zmsg_addmem (request, &pointer, sizeof pointer);
    job->sent = zmsg_send (&request, self->verifier) == 0;
    zmsg_destroy (&request);            //  not sent: checked as they come
}

//  This loop's share of job, then the actor's verdicts: into the part
static void
s_verify_end (en_broker_t *self, s_verify_job_t *job, s_incoming_t *ins)
{
    if (!job->sent)
        return;
    for (size_t i = 0; i < job->from; i++)
        job->verdicts [i] = en_msg_verify (job->msgs [i], job->keys [i]) ? 1 : 0;
    zsock_wait (self->verifier);
    job->sent = false;
    for (size_t i = 0; i < job->to; i++)
        ins [job->index [i]].verdict = job->verdicts [i];
}

//  Sign and send msg to peer. 0, or -1 (the connection is forgotten).
static int
s_send_signed (en_broker_t *self, s_peer_t *peer, en_msg_t *msg)
{
    if (en_msg_send (msg, self->router, peer->routing_id, self->signer)) {
        //  Gone (EHOSTUNREACH) or full: forget the connection, retry later
        zframe_destroy (&peer->routing_id);
        return -1;
    }
    en_metrics_count (self->metrics, EN_METRIC_SENT, en_msg_command (msg), 1);
    return 0;
}

//  Send what s_send_to_node gathered for peer: one message alone, more
//  as one BATCH (one signature for all). 0, or -1 when it could not be
//  sent: the outbox counts them sent and sends them again after their
//  retransmission interval, as if they were lost in transit.
static int
s_send_batch (en_broker_t *self, s_peer_t *peer)
{
    size_t count = zlistx_size (self->batch);
    int rc = 0;
    if (count > 0 && !s_peer_connected (self, peer))
        rc = -1;
    else
    if (count == 1)
        rc = s_send_signed (self, peer, (en_msg_t *) zlistx_first (self->batch));
    else
    if (count > 1) {
        en_msg_t *batch = en_msg_batch (self->name, self->batch);
        //  s_send_to_node keeps it within the limit; should a body ever
        //  come out larger, its messages go alone (a BATCH refused for
        //  its size would be refused again at every retransmission)
        char *text = en_msg_body_text (batch);
        bool fits = text && strlen (text) <= EN_MAX_BODY;
        free (text);
        if (fits)
            rc = s_send_signed (self, peer, batch);
        for (en_msg_t *msg = (en_msg_t *) zlistx_first (self->batch); msg && !fits && rc == 0;
             msg = (en_msg_t *) zlistx_next (self->batch))
            rc = s_send_signed (self, peer, msg);
        en_msg_destroy (&batch);
        for (en_msg_t *msg = (en_msg_t *) zlistx_first (self->batch); msg && fits && rc == 0;
             msg = (en_msg_t *) zlistx_next (self->batch))
            en_metrics_count (self->metrics, EN_METRIC_SENT, en_msg_command (msg), 1);
    }
    zlistx_purge (self->batch);
    self->batch_size = 0;
    return rc;
}

//  The outbox's send function: OFFER, STATUS and WITHDRAW are gathered
//  for a BATCH (sent by s_flush, or here when the next would not fit),
//  anything else is sent alone after what was gathered, in queue order.
static int
s_send_to_node (const char *dest, en_msg_t *msg, void *arg)
{
    en_broker_t *self = (en_broker_t *) arg;
    s_peer_t *peer = (s_peer_t *) zhashx_lookup (self->peers, dest);
    if (!s_peer_connected (self, peer))
        return -1;
    if (!en_msg_command_batchable (en_msg_command (msg)))
        return s_send_batch (self, peer) || !s_peer_connected (self, peer) ? -1 : s_send_signed (self, peer, msg);
    size_t size = en_msg_batch_size (msg);
    if ((zlistx_size (self->batch) == EN_BATCH_MAX || self->batch_size + size > EN_MAX_BODY - 64)
    &&  s_send_batch (self, peer))
        return -1;
    zlistx_add_end (self->batch, en_msg_dup (msg));
    self->batch_size += size;
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

//  Send what is due to connected nodes: only the destinations the outbox
//  says have something due (en_outbox_due, from memory), not every
//  connected node after every batch (with 200 nodes most had nothing);
//  their OFFERs, STATUSes and WITHDRAWs in BATCHes (s_send_to_node).
static void
s_flush (en_broker_t *self)
{
    en_fed_flush (self->fed);
    en_outbox_t *outbox = en_bstore_outbox (self->store);
    zlistx_t *due = en_outbox_due (outbox, self->retry_ms);
    for (const char *name = (const char *) zlistx_first (due); name; name = (const char *) zlistx_next (due)) {
        s_peer_t *peer = (s_peer_t *) zhashx_lookup (self->peers, name);
        if (s_peer_connected (self, peer)) {
            en_outbox_flush (outbox, peer->name, self->retry_ms, 1000, s_send_to_node, self);
            s_send_batch (self, peer);
        }
    }
    zlistx_destroy (&due);
}

//  The batch's answers, after its commit, per connection in the order
//  they were made, except that a connection's ACKs go as cumulative ACKs
//  after its other answers (en_inbox_coalesce): one ACK per peer per
//  batch instead of one per message.
static void
s_send_replies (en_broker_t *self)
{
    zhashx_t *connections = zhashx_new ();      //  routing id (hex) -> zlistx of en_msg_t
    zhashx_set_destructor (connections, (zhashx_destructor_fn *) zlistx_destroy);
    zlistx_t *order = zlistx_new ();            //  routing ids in order of first answer
    zlistx_set_destructor (order, (zlistx_destructor_fn *) zframe_destroy);
    for (s_reply_t *reply = (s_reply_t *) zlistx_first (self->replies); reply;
         reply = (s_reply_t *) zlistx_next (self->replies)) {
        char *key = zframe_strhex (reply->routing_id);
        zlistx_t *answers = (zlistx_t *) zhashx_lookup (connections, key);
        if (!answers) {
            answers = zlistx_new ();
            zhashx_insert (connections, key, answers);
            zlistx_add_end (order, zframe_dup (reply->routing_id));
        }
        zlistx_add_end (answers, reply->msg);
        reply->msg = NULL;
        free (key);
    }
    zlistx_purge (self->replies);
    for (zframe_t *routing_id = (zframe_t *) zlistx_first (order); routing_id;
         routing_id = (zframe_t *) zlistx_next (order)) {
        char *key = zframe_strhex (routing_id);
        zlistx_t *answers = (zlistx_t *) zhashx_lookup (connections, key);
        en_inbox_coalesce (self->inbox, answers);
        for (en_msg_t *msg = (en_msg_t *) zlistx_first (answers); msg; msg = (en_msg_t *) zlistx_next (answers)) {
            if (en_msg_send (msg, self->router, routing_id, self->signer) == 0)
                en_metrics_count (self->metrics, EN_METRIC_SENT, en_msg_command (msg), 1);
            //  else lost: the peer retries
            en_msg_destroy (&msg);
        }
        free (key);
    }
    zlistx_destroy (&order);
    zhashx_destroy (&connections);
}

//  Read and decode the next part of a batch into ins: up to VERIFY_PART
//  messages, as many as are waiting. The count.
static size_t
s_read_part (en_broker_t *self, s_incoming_t *ins, int room)
{
    size_t count = 0;
    while (count < VERIFY_PART && (int) count < room && (zsock_events (self->router) & ZMQ_POLLIN)) {
        zmsg_t *raw = zmsg_recv (self->router);
        if (!raw)
            break;
        if (zmsg_size (raw) >= 2)
            s_decode (self, raw, &ins [count++]);
        else
            zmsg_destroy (&raw);
    }
    return count;
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
    //  In parts of VERIFY_PART: read and decoded, their signatures
    //  checked (s_verify_start), then handled one by one in arrival
    //  order; the next part is read and checked by the actor meanwhile
    s_incoming_t *parts = (s_incoming_t *) zmalloc (2 * VERIFY_PART * sizeof (s_incoming_t));
    s_verify_job_t *jobs = (s_verify_job_t *) zmalloc (2 * sizeof (s_verify_job_t));
    size_t count = s_read_part (self, parts, BATCH_MAX);
    int total = (int) count;
    s_verify_start (self, &jobs [0], parts, count, false);
    s_verify_end (self, &jobs [0], parts);
    for (int k = 0; count > 0; k ^= 1) {
        s_incoming_t *part = parts + k * VERIFY_PART, *next = parts + (k ^ 1) * VERIFY_PART;
        bool more = count == VERIFY_PART && total < BATCH_MAX && en_now_ms () < batch_end;
        size_t next_count = more ? s_read_part (self, next, BATCH_MAX - total) : 0;
        s_verify_start (self, &jobs [k ^ 1], next, next_count, true);
        for (size_t i = 0; i < count; i++)
            s_handle_message (self, &part [i]);
        s_verify_end (self, &jobs [k ^ 1], next);
        total += (int) next_count;
        count = next_count;
    }
    free (jobs);
    free (parts);
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
    //  Review dates due (en_followup): in the same pass, each once
    int reviewed = routed < 0 ? 0 : en_followup_due (self->router_sm, en_now_ms ());
    routed = reviewed < 0 ? -1 : routed + reviewed;
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

//  The live sessions and counters, for en_figures (en_ops_live_fn)
static json_t *
s_live (void *arg)
{
    en_broker_t *self = (en_broker_t *) arg;
    json_t *sessions = json_object ();
    for (s_peer_t *peer = (s_peer_t *) zhashx_first (self->peers); peer;
         peer = (s_peer_t *) zhashx_next (self->peers)) {
        json_t *session = json_object ();
        if (peer->region)
            json_object_set_new (session, "region", json_string (peer->region));
        json_object_set_new (session, "connected", json_boolean (s_peer_connected (self, peer)));
        json_object_set_new (session, "last_seen", json_integer (peer->last_seen));
        json_object_set_new (session, "clock", en_clock_status (peer->clock));
        if (en_clock_known (peer->clock))
            json_object_set_new (session, "clock_offset_ms", json_integer (en_clock_offset (peer->clock)));
        json_object_set_new (sessions, peer->name, session);
    }
    return json_pack ("{s:o, s:I, s:I, s:I}", "sessions", sessions, "received", (json_int_t) self->received,
                      "rejected", (json_int_t) self->rejected, "refused", (json_int_t) self->refused);
}

//  An operator's action queued messages: out they go (en_ops_written_fn)
static void
s_written (void *arg)
{
    s_flush ((en_broker_t *) arg);
}

//  One socket is readable: the batch, a federation link, a control
//  request, or a refused handshake.
static void
s_handle_socket (en_broker_t *self, zsock_t *which)
{
    if (which == self->router)
        s_process_batch (self);
    else
    if (en_fed_handle (self->fed, which))
        self->tags_dirty = true;
    else
    if (which == self->control || which == self->web_control) {
        en_ops_handle (self->ops, which, which == self->web_control);
        self->tags_dirty = true;        //  an operator may have moved a request
    }
    else
    if (which == self->monitor)
        s_handle_monitor (self);
}

//  Our clock is the one we started with (en_clock): say once when the
//  system's has moved away from it
static void
s_check_drift (en_broker_t *self)
{
    en_clock_drift_warn (self->clock_alert_ms, &self->drift_logged, "broker", "deadlines and timestamps");
}

//  What is due now: offers to expire (deadline, 0 if none), hiaten to
//  route again, the flush, our log's head for the peers, pruning. Nothing
//  expires or is routed again before earliest (the grace after a start,
//  or the backoff of a failing expiry).
static void
s_timers (en_broker_t *self, int64_t deadline, int64_t earliest)
{
    int64_t now = en_now_ms ();
    if (deadline > 0 && deadline <= now && now >= earliest)
        s_expire (self);
    //  What a hiaat lacked may have appeared (a link up, an advert, an
    //  expert published or back, a place freed): look every second
    if (now >= self->next_retry && now >= earliest)
        self->next_retry = now + (s_retry_hiaten (self) ? 30000 : 1000);
    if (now >= self->next_flush) {
        s_check_drift (self);
        s_refresh_enrolled (self);
        s_send_tags (self);
        s_flush (self);
        self->next_flush = now + self->retry_ms / 2;
    }
    if (now >= self->next_anchor && now >= earliest) {
        s_anchor_peers (self);
        self->next_anchor = now + self->anchor_ms;
    }
    if (now >= self->next_prune) {
        //  Dedup records outlive any retransmission by far
        en_seen_prune (en_bstore_db (self->store), now - 30LL * 86400 * 1000);
        en_audit_prune (en_bstore_db (self->store), now - self->audit_retention_ms);
        en_bstore_anchors_prune (self->store, now - self->audit_retention_ms);
        en_bstore_relays_prune (self->store, now - 30LL * 86400 * 1000);
        self->next_prune = now + 3600 * 1000;
    }
}

int
en_broker_run (en_broker_t *self)
{
    zsys_info ("broker %s ready on %s (data in %s)", self->name, self->endpoint, self->datadir);
    self->next_flush = en_now_ms () + self->retry_ms;
    self->next_prune = en_now_ms ();
    self->next_retry = en_now_ms ();
    while (!zsys_interrupted) {
        //  Wake for the next timer or the earliest offer deadline, at
        //  least every 250 ms
        int64_t now = en_now_ms ();
        int64_t wake = self->next_flush;
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
        if (which)
            s_handle_socket (self, which);
        if (self->check_revoked)
            s_withdraw_revoked (self);
        en_fed_tick (self->fed);
        s_timers (self, deadline, earliest);
    }
    //  A last head for the peers: queued on disk, sent now if a link is up
    s_anchor_peers (self);
    en_fed_flush (self->fed);
    zsys_info ("broker %s stopping", self->name);
    return 0;
}
