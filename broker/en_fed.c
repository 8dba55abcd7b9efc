/*  en_fed - federation links to peer brokers (see en_fed.h).

    Link life cycle, as a node's, and by the same engine (en_link): LINK
    every heartbeat until the peer answers WELCOME; then up: snapshot
    ADVERT, the whole outbox again, PING when quiet for a heartbeat (its
    PONG gives the round-trip time). Three heartbeats without a word and
    the link is down. Silence counts only while this broker listened: when
    its own loop did not run for more than a heartbeat (the process
    paused or stopped, a slow disk), that stretch is credited to every
    link, and a link's socket is read before it is declared lost, so
    what waits unread is never blamed on the peer. Once down: the socket is dropped and a fresh one made at once;
    while the peer stays silent, each further fresh socket waits twice as
    long as the last (one heartbeat up to 30 s). ZMQ_IMMEDIATE keeps libzmq from queuing for a connection that
    does not exist: the outbox on disk is the only queue. What is
    federation's own is here, as en_link's actions: the peer's key from
    its enrolled certificate before each fresh socket, the advert epoch
    and seq in each PING, the snapshot and the outbox reset when a link
    comes up, the metrics of what was sent.

    Adverts from a peer are bounded before they are believed: an entry
    of its own (hops 1) to federation/advert_max_free, one it passes on
    to that many times the provinces behind it; its own entries together
    to federation/advert_max_total, those it passes on together to that
    many times the provinces behind it. What is cut is logged, counted
    (expertnet_federation_adverts_clamped_total) and shown with what the
    peer claimed in the link's status.

    States for operators: "connecting" (never welcomed yet), "up",
    "blocked" (up, but messages wait and nothing was acknowledged for
    three retry intervals: connected is not the same as delivering),
    "down" (was up, lost), "refused" (the peer answered that it does not
    accept us: our key not enrolled there), "not-enrolled" (no enrolled
    certificate here for the peer, or not the pinned key: no connection
    is tried, since nothing it sent could be verified). */
#include "en_fed.h"
#include <sodium.h>

#define BACKOFF_MAX_MS  30000
#define ADVERT_MIN_MS   1000        //  deltas at most this often (measured: at
                                    //  200 ms the adverts of 8 brokers under
                                    //  load cost more than they help)
#define ADVERT_EVERY_MS 5000        //  recomputed at least this often
#define ADVERT_PIECE_BYTES 32000    //  an ADVERT's entries stay about this
                                    //  size: far below EN_MAX_BODY
#define ADVERT_MAX_FREE  "250"      //  default: free places one province may have
                                    //  in one role and tag set (25 experts of
                                    //  EN_MAX_CAPACITY / 5 cases)
#define ADVERT_MAX_TOTAL "1000"     //  default: free places one province may
                                    //  have in all
#define PROVINCES_BEYOND 6          //  brokers an entry passed on can stand
                                    //  for: 8 expertisecentra, less ours and
                                    //  the peer's

typedef struct {
    en_fed_t *fed;              //  the federation it belongs to
    char *name;                 //  peer broker name
    char *endpoint;             //  where it listens
    char *pinned_key;           //  public key from the config, or NULL
    char dest [80];             //  outbox destination "peer:<name>"
    unsigned char sign_key [32];        //  its Ed25519 key (enrolled cert)
    en_link_t *link;            //  the engine: socket, LINK/WELCOME, PING, silence, backoff
    en_clock_t *clock;          //  the peer's clock's offset from ours
    int64_t inbound;            //  ms of the last message from the peer on our socket
    int64_t seq;                //  last ADVERT seq sent in this epoch
    zhashx_t *advertised;       //  "role|tagset|hops" -> free (as sent)
    zhashx_t *claimed;          //  "role|tagset|hops" -> free the peer claimed (before bounds)
    uint64_t clamped;           //  its ADVERTs cut to the bounds since start
    int64_t clamp_logged;       //  ms we last logged that (once a minute at most)
} s_link_t;

struct _en_fed_t {
    char *name;                 //  this broker
    char epoch [17];            //  random per process: advert sequences start over
    en_bstore_t *store;
    en_router_t *router;
    en_metrics_t *metrics;
    zcert_t *cert;              //  our CURVE key pair (not owned)
    en_signer_t *signer;        //  our signing key (not owned)
    zpoller_t *poller;          //  the broker's poller (not owned)
    en_fed_enrolled_fn *enrolled_fn;
    void *enrolled_arg;
    zhashx_t *links;            //  peer name -> s_link_t
    int64_t heartbeat_ms;
    int64_t retry_ms;
    int64_t max_hops;
    bool dirty;                 //  capacity may have changed
    int64_t advert_at;          //  ms adverts were last computed
    int64_t advert_max_free;    //  bound of a peer's own entry (hops 1)
    int64_t advert_max_total;   //  bound of a peer's own entries together
    int64_t tick_at;            //  ms of the last tick: when this loop last looked
};

static void s_advert_send (en_fed_t *self, s_link_t *link, bool snapshot, json_t *own);
static void s_link_drain (en_fed_t *self, s_link_t *link);

//  --------------------------------------------------------------------
//  The link engine's actions (en_link_actions_t): what only federation knows

//  The peer's CURVE key before each fresh socket: from its enrolled
//  certificate (checked again at every attempt), with its signing key
static bool
s_link_key (en_link_t *engine, char curve_key [41], void *arg)
{
    s_link_t *link = (s_link_t *) arg;
    en_fed_t *self = link->fed;
    return self->enrolled_fn (link->name, link->pinned_key, curve_key, link->sign_key, self->enrolled_arg);
}

//  PING from a link carries the epoch and seq of its adverts
static void
s_link_ping (en_link_t *engine, json_t *body, void *arg)
{
    s_link_t *link = (s_link_t *) arg;
    json_object_set_new (body, "epoch", json_string (link->fed->epoch));
    json_object_set_new (body, "seq", json_integer (link->seq));
}

static void
s_link_read (en_link_t *engine, void *arg)
{
    s_link_t *link = (s_link_t *) arg;
    s_link_drain (link->fed, link);
}

static void
s_link_changed (en_link_t *engine, en_link_event_t event, en_link_state_t from, void *arg)
{
    s_link_t *link = (s_link_t *) arg;
    en_link_state_t state = en_link_state (engine);
    if (state == EN_LINK_UP) {
        zsys_info ("federation: link to %s up", link->name);
        //  (Re)connected: a full snapshot, then the whole queue again
        s_advert_send (link->fed, link, true, NULL);
        en_outbox_reset (en_bstore_outbox (link->fed->store), link->dest);
    }
    else
    if (event == EN_LINK_SILENCE)
        zsys_warning ("federation: lost contact with %s; reconnecting", link->name);
    else
    if (state == EN_LINK_REFUSED)
        zsys_warning ("federation: %s refuses this broker: %s", link->name, en_link_refusal (engine));
}

static void
s_link_sent (en_link_t *engine, en_msg_t *msg, void *arg)
{
    s_link_t *link = (s_link_t *) arg;
    en_metrics_count (link->fed->metrics, EN_METRIC_SENT, en_msg_command (msg), 1);
}

static s_link_t *
s_link_new (en_fed_t *self, const char *name, const char *endpoint, const char *key)
{
    s_link_t *link = (s_link_t *) zmalloc (sizeof (s_link_t));
    assert (link);
    link->fed = self;
    link->name = strdup (name);
    link->endpoint = strdup (endpoint);
    link->pinned_key = key ? strdup (key) : NULL;
    snprintf (link->dest, sizeof link->dest, "peer:%s", name);
    char who [80];
    snprintf (who, sizeof who, "peer broker %s", name);
    link->clock = en_clock_new (who, EN_CLOCK_ALERT_MS);
    en_link_actions_t actions = {
        .key = s_link_key, .ping = s_link_ping, .drain = s_link_read, .changed = s_link_changed, .sent = s_link_sent
    };
    link->link = en_link_new (name, self->name, self->cert, self->signer, self->poller, &actions, link);
    en_link_set_server (link->link, endpoint, NULL);
    en_link_set_greeting (link->link, "LINK", json_pack ("{s:s, s:s}", "broker", self->name,
                                                         "version", EXPERTNET_VERSION));
    en_link_set_clock (link->link, link->clock);
    return link;
}

static void
s_link_destroy (void **item)
{
    s_link_t *link = (s_link_t *) *item;
    en_link_destroy (&link->link);
    zhashx_destroy (&link->advertised);
    zhashx_destroy (&link->claimed);
    free (link->name);
    free (link->endpoint);
    free (link->pinned_key);
    en_clock_destroy (&link->clock);
    free (link);
    *item = NULL;
}

en_fed_t *
en_fed_new (const char *name, en_bstore_t *store, en_router_t *router, en_metrics_t *metrics,
            zcert_t *cert, en_signer_t *signer, zpoller_t *poller,
            en_fed_enrolled_fn *enrolled_fn, void *arg)
{
    en_fed_t *self = (en_fed_t *) zmalloc (sizeof (en_fed_t));
    assert (self);
    self->name = strdup (name);
    en_random_hex (self->epoch, 16);
    self->store = store;
    self->router = router;
    self->metrics = metrics;
    self->cert = cert;
    self->signer = signer;
    self->poller = poller;
    self->enrolled_fn = enrolled_fn;
    self->enrolled_arg = arg;
    self->links = zhashx_new ();
    self->heartbeat_ms = 1000;
    self->retry_ms = 2000;
    self->max_hops = 2;
    self->advert_max_free = atoll (ADVERT_MAX_FREE);
    self->advert_max_total = atoll (ADVERT_MAX_TOTAL);
    self->dirty = true;
    return self;
}

void
en_fed_destroy (en_fed_t **self_p)
{
    assert (self_p);
    en_fed_t *self = *self_p;
    if (self) {
        zhashx_set_destructor (self->links, s_link_destroy);
        zhashx_destroy (&self->links);
        free (self->name);
        free (self);
        *self_p = NULL;
    }
}

//  --------------------------------------------------------------------
//  Configuration

//  The routing rules of federation/, checked
typedef struct {
    bool no_candidate;          //  forward = no-candidate (else never)
    int64_t max_hops;
    int64_t crisis;             //  crisis_local_offers
    int64_t max_free;           //  advert_max_free
    int64_t max_total;          //  advert_max_total
} s_rules_t;

static int
s_config_rules (zconfig_t *config, s_rules_t *rules, en_error_t *error)
{
    const char *forward = zconfig_get (config, "federation/forward", "no-candidate");
    if (!streq (forward, "no-candidate") && !streq (forward, "never"))
        return en_error_set (error, EN_ERR_INVALID, "federation/forward must be no-candidate or never, not '%s'",
                             forward);
    rules->no_candidate = streq (forward, "no-candidate");
    rules->max_hops = atoll (zconfig_get (config, "federation/max_hops", "2"));
    rules->crisis = atoll (zconfig_get (config, "federation/crisis_local_offers", "2"));
    if (rules->max_hops < 1 || rules->max_hops > 8)
        return en_error_set (error, EN_ERR_INVALID, "federation/max_hops must be 1 to 8");
    if (rules->crisis < 0 || rules->crisis > 100)
        return en_error_set (error, EN_ERR_INVALID, "federation/crisis_local_offers must be 0 (no limit) to 100");
    const char *max_free_text = zconfig_get (config, "federation/advert_max_free", ADVERT_MAX_FREE);
    const char *max_total_text = zconfig_get (config, "federation/advert_max_total", ADVERT_MAX_TOTAL);
    char *end_free, *end_total;
    long long max_free = strtoll (max_free_text, &end_free, 10);
    long long max_total = strtoll (max_total_text, &end_total, 10);
    if (*end_free || max_free < 1 || max_free > 100000)
        return en_error_set (error, EN_ERR_INVALID, "federation/advert_max_free must be 1 to 100000, not '%s'",
                             max_free_text);
    if (*end_total || max_total < max_free || max_total > 100000)
        return en_error_set (error, EN_ERR_INVALID, "federation/advert_max_total must be advert_max_free (%lld) "
                             "to 100000, not '%s'", max_free, max_total_text);
    rules->max_free = max_free;
    rules->max_total = max_total;
    return 0;
}

//  Read and check every peer of federation/peers: a new table of links
//  (none connected yet), or NULL with error.
static zhashx_t *
s_config_peers (en_fed_t *self, zconfig_t *config, en_error_t *error)
{
    zhashx_t *wanted = zhashx_new ();
    zconfig_t *peers = zconfig_locate (config, "federation/peers");
    int rc = 0;
    for (zconfig_t *peer = peers ? zconfig_child (peers) : NULL; peer && rc == 0; peer = zconfig_next (peer)) {
        const char *name = zconfig_name (peer);
        const char *endpoint = zconfig_get (peer, "endpoint", NULL);
        const char *key = zconfig_get (peer, "public_key", NULL);
        uint8_t decoded [32];
        if (!en_name_valid (name) || streq (name, self->name) || zhashx_lookup (wanted, name))
            rc = en_error_set (error, EN_ERR_INVALID, "federation/peers: '%s' is not a valid peer name (or is ours, "
                               "or twice)", name);
        else
        if (!endpoint || strncmp (endpoint, "tcp://", 6))
            rc = en_error_set (error, EN_ERR_INVALID, "federation/peers/%s/endpoint must be tcp://HOST:PORT", name);
        else
        if (key && (strlen (key) != 40 || !zmq_z85_decode (decoded, key)))
            rc = en_error_set (error, EN_ERR_INVALID, "federation/peers/%s/public_key must be a 40-character Z85 key",
                               name);
        else
            zhashx_insert (wanted, name, s_link_new (self, name, endpoint, key));
    }
    if (rc) {
        for (void *link = zhashx_first (wanted); link; link = zhashx_next (wanted))
            s_link_destroy (&link);
        zhashx_destroy (&wanted);
    }
    return wanted;
}

//  Links whose endpoint and pinned key are unchanged go on as they are;
//  new or changed ones start afresh; removed ones close. Takes the links
//  out of wanted.
static void
s_links_replace (en_fed_t *self, zhashx_t *wanted)
{
    zhashx_t *next = zhashx_new ();
    for (s_link_t *fresh = (s_link_t *) zhashx_first (wanted); fresh; fresh = (s_link_t *) zhashx_next (wanted)) {
        s_link_t *old = (s_link_t *) zhashx_lookup (self->links, fresh->name);
        if (old && streq (old->endpoint, fresh->endpoint)
        &&  streq (old->pinned_key ? old->pinned_key : "", fresh->pinned_key ? fresh->pinned_key : "")) {
            zhashx_insert (next, old->name, old);
            zhashx_delete (self->links, old->name);
            void *item = fresh;
            s_link_destroy (&item);
        }
        else {
            zsys_info ("federation: peer %s at %s", fresh->name, fresh->endpoint);
            zhashx_insert (next, fresh->name, fresh);
        }
    }
    for (void *old = zhashx_first (self->links); old; old = zhashx_next (self->links)) {
        zsys_info ("federation: link to %s closed (configuration changed)", ((s_link_t *) old)->name);
        s_link_destroy (&old);
    }
    zhashx_destroy (&self->links);
    zhashx_purge (wanted);
    self->links = next;
}

int
en_fed_configure (en_fed_t *self, zconfig_t *config, int64_t heartbeat_ms, int64_t retry_ms, en_error_t *error)
{
    s_rules_t rules = { 0 };
    if (s_config_rules (config, &rules, error))
        return -1;
    //  Read and check every peer before changing anything
    zhashx_t *wanted = s_config_peers (self, config, error);
    if (!wanted)
        return -1;
    s_links_replace (self, wanted);
    zhashx_destroy (&wanted);
    //  Peer brokers' clocks alert at the threshold of nodes' (broker/clock_alert)
    int64_t clock_alert = en_duration_ms (zconfig_get (config, "broker/clock_alert", "30s"));
    for (s_link_t *link = (s_link_t *) zhashx_first (self->links); link;
         link = (s_link_t *) zhashx_next (self->links)) {
        en_clock_set_alert (link->clock, clock_alert);
        en_link_set_timing (link->link, heartbeat_ms, heartbeat_ms, BACKOFF_MAX_MS);
    }
    self->heartbeat_ms = heartbeat_ms;
    self->retry_ms = retry_ms;
    self->max_hops = rules.max_hops;
    self->advert_max_free = rules.max_free;
    self->advert_max_total = rules.max_total;
    self->dirty = true;
    en_router_set_federation (self->router, rules.no_candidate, rules.max_hops, rules.crisis,
                              en_fed_link_state, self);
    return 0;
}

bool
en_fed_is_peer (en_fed_t *self, const char *name)
{
    return name && zhashx_lookup (self->links, name) != NULL;
}

static bool
s_link_up (en_fed_t *self, s_link_t *link)
{
    return en_link_up (link->link, en_now_ms ());
}

int
en_fed_link_state (const char *peer, void *arg)
{
    en_fed_t *self = (en_fed_t *) arg;
    s_link_t *link = (s_link_t *) zhashx_lookup (self->links, peer);
    return !link ? -1 : s_link_up (self, link) ? 1 : 0;
}

//  --------------------------------------------------------------------
//  Sending on a link

static int
s_link_send (en_fed_t *self, s_link_t *link, en_msg_t *msg)
{
    return en_link_send (link->link, msg);
}

//  Send an unreliable message (ADVERT) now; body stolen.
static void
s_link_say (en_fed_t *self, s_link_t *link, const char *command, json_t *body)
{
    en_link_say (link->link, command, body);
}

//  The outbox's send for one link (arg). Not looked up by dest: a lookup
//  moves the cursor of self->links, and en_fed_flush, iterating them,
//  then took the same link again and again, for as long as its peer was
//  gone but the link not yet judged down (the loop never got back to
//  en_fed_tick): the broker hung until the peer came back.
static int
s_outbox_send (const char *dest, en_msg_t *msg, void *arg)
{
    s_link_t *link = (s_link_t *) arg;
    if (!s_link_up (link->fed, link))
        return -1;
    return s_link_send (link->fed, link, msg);
}

void
en_fed_flush (en_fed_t *self)
{
    en_outbox_t *outbox = en_bstore_outbox (self->store);
    for (s_link_t *link = (s_link_t *) zhashx_first (self->links); link;
         link = (s_link_t *) zhashx_next (self->links))
        if (s_link_up (self, link))
            en_outbox_flush (outbox, link->dest, self->retry_ms, 1000, s_outbox_send, link);
}

//  --------------------------------------------------------------------
//  Adverts

//  What we advertise to link's peer now: key "role|tagset|hops" -> free.
//  own: our own experts' entries (the same for every link: computed once
//  per round by the caller), or NULL to compute them here.
static zhashx_t *
s_advert_view (en_fed_t *self, s_link_t *link, json_t *own)
{
    zhashx_t *view = zhashx_new ();
    zhashx_set_destructor (view, (zhashx_destructor_fn *) zstr_free);
    json_t *lists [2] = { own ? json_incref (own) : en_bstore_advert_own (self->store, en_now_ms ()),
                          en_bstore_advert_learned (self->store, link->name, self->max_hops) };
    for (int i = 0; i < 2; i++) {
        size_t index;
        json_t *row;
        json_array_foreach (lists [i], index, row) {
            char key [2300];
            snprintf (key, sizeof key, "%s|%s|%lld", en_json_str (row, "role"), en_json_str (row, "tagset"),
                      (long long) en_json_int (row, "hops", 1));
            zhashx_update (view, key, zsys_sprintf ("%lld", (long long) en_json_int (row, "free", 0)));
        }
        json_decref (lists [i]);
    }
    return view;
}

static json_t *
s_advert_entry (const char *key, int64_t free_places)
{
    char role [64], tagset [2300];
    long long hops = 1;
    if (sscanf (key, "%63[^|]|%2299[^|]|%lld", role, tagset, &hops) != 3)
        return NULL;
    return json_pack ("{s:s, s:s, s:I, s:I}", "role", role, "tagset", tagset, "hops", (json_int_t) hops,
                      "free", (json_int_t) free_places);
}

//  Send link's peer what changed since the last ADVERT (everything, when
//  snapshot): the next seq of this epoch.
static void
s_advert_send (en_fed_t *self, s_link_t *link, bool snapshot, json_t *own)
{
    zhashx_t *view = s_advert_view (self, link, own);
    json_t *entries = json_array ();
    for (char *value = (char *) zhashx_first (view); value; value = (char *) zhashx_next (view)) {
        const char *key = (const char *) zhashx_cursor (view);
        char *was = link->advertised ? (char *) zhashx_lookup (link->advertised, key) : NULL;
        if (snapshot || !was || !streq (was, value)) {
            json_t *entry = s_advert_entry (key, atoll (value));
            if (entry)
                json_array_append_new (entries, entry);
        }
    }
    if (!snapshot && link->advertised)
        for (char *was = (char *) zhashx_first (link->advertised); was;
             was = (char *) zhashx_next (link->advertised)) {
            const char *key = (const char *) zhashx_cursor (link->advertised);
            if (!zhashx_lookup (view, key)) {
                json_t *entry = s_advert_entry (key, 0);
                if (entry)
                    json_array_append_new (entries, entry);
            }
        }
    if (snapshot || json_array_size (entries) > 0) {
        //  In pieces that stay far below the body limit: a snapshot's
        //  first piece replaces, the rest follow as deltas with the next
        //  seqs (a receiver missing one asks for a new snapshot)
        size_t total = json_array_size (entries);
        size_t start = 0, next = 0;
        do {
            json_t *piece = json_array ();
            size_t bytes = 0;
            for (next = start; next < total && bytes < ADVERT_PIECE_BYTES; next++) {
                json_t *entry = json_array_get (entries, next);
                bytes += strlen (en_json_str (entry, "tagset")) + 80;
                json_array_append (piece, entry);
            }
            link->seq++;
            s_link_say (self, link, "ADVERT", json_pack ("{s:s, s:I, s:b, s:o}", "epoch", self->epoch,
                        "seq", (json_int_t) link->seq, "snapshot", snapshot && start == 0, "entries", piece));
            start = next;
        } while (start < total);
        json_decref (entries);
        zhashx_destroy (&link->advertised);
        link->advertised = view;
    }
    else {
        json_decref (entries);
        zhashx_destroy (&view);
    }
}

void
en_fed_dirty (en_fed_t *self)
{
    self->dirty = true;
}

//  Check an advert entry: a role, a tag set ",tag,...,", hops, free.
static int
s_entry_valid (json_t *entry)
{
    const char *role = en_json_str (entry, "role");
    const char *tagset = en_json_str (entry, "tagset");
    int64_t hops = en_json_int (entry, "hops", 0);
    int64_t free_places = en_json_int (entry, "free", -1);
    if (!role || !en_vocab_has (en_vocab_role, role) || !tagset || strlen (tagset) > 2048
    ||  tagset [0] != ',' || tagset [strlen (tagset) - 1] != ',' || hops < 1 || hops > 16
    ||  free_places < 0 || free_places > 1000000 || json_object_size (entry) != 4)
        return -1;
    char *copy = strdup (tagset + 1);
    int rc = 0;
    for (char *tag = strtok (copy, ","); tag; tag = strtok (NULL, ","))
        if (!en_name_valid (tag))
            rc = -1;
    free (copy);
    return rc;
}

//  A peer's ADVERT was cut to the bounds: cut places over the bound per
//  role and tag set, own and learned its totals after the cut. Counted
//  every time, said at most once a minute per peer.
static void
s_advert_clamped (en_fed_t *self, const char *peer, s_link_t *link, int64_t cut, int64_t own, int64_t learned)
{
    en_metrics_count (self->metrics, EN_METRIC_FED_CLAMPED, peer, 1);
    int64_t now = en_now_ms ();
    if (!link || !link->clamp_logged || now - link->clamp_logged >= 60000)
        zsys_warning ("federation: %s advertised more than a province can have: %lld place(s) over the "
                      "bound per role and tag set (%lld), %lld of its own in all (bound %lld), %lld passed "
                      "on (bound %lld); believed only up to the bounds", peer, (long long) cut,
                      (long long) self->advert_max_free, (long long) own, (long long) self->advert_max_total,
                      (long long) learned, (long long) self->advert_max_total * PROVINCES_BEYOND);
    if (link) {
        if (!link->clamp_logged || now - link->clamp_logged >= 60000)
            link->clamp_logged = now;
        link->clamped++;
    }
}

//  Check an ADVERT's body: 0, or -1 with error.
static int
s_advert_check (json_t *body, en_error_t *error)
{
    const char *epoch = en_json_str (body, "epoch");
    json_t *entries = json_object_get (body, "entries");
    if (!epoch || strlen (epoch) != 16 || en_json_int (body, "seq", -1) < 1
    ||  !json_is_boolean (json_object_get (body, "snapshot"))
    ||  !json_is_array (entries) || json_array_size (entries) > 10000)
        return en_error_set (error, EN_ERR_INVALID, "ADVERT needs epoch, seq, snapshot and at most 10000 entries");
    size_t index;
    json_t *entry;
    json_array_foreach (entries, index, entry)
        if (s_entry_valid (entry))
            return en_error_set (error, EN_ERR_INVALID, "entries[%zu] is not {role, tagset, hops, free}", index);
    return 0;
}

//  What the peer claimed, before the cut, kept for operators (once the
//  advert is stored): a snapshot replaces it, a delta updates it.
static void
s_advert_claimed (s_link_t *link, bool snapshot, json_t *entries)
{
    if (snapshot || !link->claimed) {
        zhashx_destroy (&link->claimed);
        link->claimed = zhashx_new ();
        zhashx_set_destructor (link->claimed, (zhashx_destructor_fn *) zstr_free);
    }
    size_t index;
    json_t *entry;
    json_array_foreach (entries, index, entry) {
        int64_t free_places = en_json_int (entry, "free", 0);
        char key [2300];
        snprintf (key, sizeof key, "%s|%s|%lld", en_json_str (entry, "role"), en_json_str (entry, "tagset"),
                  (long long) en_json_int (entry, "hops", 1));
        if (free_places > 0)
            zhashx_update (link->claimed, key, zsys_sprintf ("%lld", (long long) free_places));
        else
            zhashx_delete (link->claimed, key);
    }
}

//  The entries as routing believes them: each cut to its bound. Adds
//  what was cut to *cut. Caller owns.
static json_t *
s_advert_bounded (en_fed_t *self, json_t *entries, int64_t *cut)
{
    json_t *bounded = json_array ();
    size_t index;
    json_t *entry;
    json_array_foreach (entries, index, entry) {
        int64_t free_places = en_json_int (entry, "free", 0);
        int64_t bound = self->advert_max_free * (en_json_int (entry, "hops", 1) > 1 ? PROVINCES_BEYOND : 1);
        json_t *copy = json_copy (entry);
        if (free_places > bound) {
            *cut += free_places - bound;
            json_object_set_new (copy, "free", json_integer (bound));
        }
        json_array_append_new (bounded, copy);
    }
    return bounded;
}

//  What storing an ADVERT found, for what follows once it stands
typedef struct {
    bool stored;                //  applied (not old, no gap)
    int64_t cut;                //  places cut to the bound per entry
    int64_t own;                //  the peer's own places believed in all
    int64_t learned;            //  places it passed on believed in all
} s_advert_t;

//  The ADVERT, in the caller's savepoint: an old one is ignored, one
//  after a gap asks for a snapshot, the next one (or a snapshot) is
//  stored within bounds (entry by entry, then together: en_bstore).
//  0, or -1 with error.
static int
s_advert_store (en_fed_t *self, const char *peer, json_t *body, bool *resync, s_advert_t *found,
                en_error_t *error)
{
    const char *epoch = en_json_str (body, "epoch");
    int64_t seq = en_json_int (body, "seq", -1);
    bool snapshot = json_is_true (json_object_get (body, "snapshot"));
    json_t *state = en_bstore_peer_state (self->store, peer);
    bool same_epoch = state && streq (en_json_str (state, "epoch"), epoch);
    int64_t last = same_epoch ? en_json_int (state, "seq", 0) : 0;
    json_decref (state);
    if (!snapshot) {
        if (same_epoch && seq <= last)
            return 0;                   //  an old one: already applied
        if (!same_epoch || seq != last + 1) {
            *resync = true;             //  a gap: only a snapshot helps
            return 0;
        }
    }
    json_t *bounded = s_advert_bounded (self, json_object_get (body, "entries"), &found->cut);
    int rc = en_bstore_advert_apply (self->store, peer, epoch, seq, snapshot, bounded);
    json_decref (bounded);
    found->own = rc ? -1 : en_bstore_advert_bound (self->store, peer, false, self->advert_max_total);
    found->learned = found->own < 0 ? -1 : en_bstore_advert_bound (self->store, peer, true,
                                                                    self->advert_max_total * PROVINCES_BEYOND);
    if (rc || found->own < 0 || found->learned < 0)
        return en_error_set (error, EN_ERR_INTERNAL, "store error");
    found->stored = true;
    return 0;
}

//  In a savepoint of its own (as en_inbox does for a reliable message):
//  an ADVERT the store fails part way leaves nothing of it written when
//  the batch around it commits, and nothing of it in memory either.
//  Believed only within bounds: what the peer claimed is kept for
//  operators, what routing sees is cut.
int
en_fed_advert_in (en_fed_t *self, const char *peer, en_msg_t *msg, bool *resync, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    *resync = false;
    if (s_advert_check (body, error))
        return -1;
    en_db_t *db = en_bstore_db (self->store);
    if (en_db_savepoint (db))
        return en_error_set (error, EN_ERR_INTERNAL, "store error");
    s_advert_t found = { .stored = false };
    int rc = s_advert_store (self, peer, body, resync, &found, error);
    if (rc == 0 && en_db_release (db))
        rc = en_error_set (error, EN_ERR_INTERNAL, "store error");
    if (rc) {
        en_db_rollback_to (db);
        return -1;
    }
    if (!found.stored)
        return 0;
    s_link_t *link = (s_link_t *) zhashx_lookup (self->links, peer);
    if (link)
        s_advert_claimed (link, json_is_true (json_object_get (body, "snapshot")),
                          json_object_get (body, "entries"));
    if (found.cut > 0 || found.own > self->advert_max_total
    ||  found.learned > self->advert_max_total * PROVINCES_BEYOND)
        s_advert_clamped (self, peer, link, found.cut, found.own, found.learned);
    self->dirty = true;                 //  what we pass on to other peers changed
    return 0;
}

void
en_fed_ping_in (en_fed_t *self, const char *peer, en_msg_t *msg, bool *resync)
{
    json_t *body = en_msg_body (msg);
    const char *epoch = en_json_str (body, "epoch");
    int64_t seq = en_json_int (body, "seq", 0);
    *resync = false;
    if (!epoch || seq < 1)
        return;
    json_t *state = en_bstore_peer_state (self->store, peer);
    //  The peer sent adverts we did not get (the last delta was lost)
    *resync = !state || !streq (en_json_str (state, "epoch"), epoch) || en_json_int (state, "seq", 0) < seq;
    json_decref (state);
}

void
en_fed_inbound (en_fed_t *self, const char *peer)
{
    s_link_t *link = (s_link_t *) zhashx_lookup (self->links, peer);
    if (link)
        link->inbound = en_now_ms ();
}

//  --------------------------------------------------------------------
//  Receiving on a link (answers to what we sent)

//  What a link hears, by command: each handler gets the peer's message
//  (signed by it, decoded) and the time it arrived.
typedef void (s_answer_fn) (en_fed_t *self, s_link_t *link, json_t *body, const char *ref, int64_t now);

static void
s_on_welcome (en_fed_t *self, s_link_t *link, json_t *body, const char *ref, int64_t now)
{
    en_link_welcome (link->link, now);      //  on the way up: snapshot, outbox again (s_link_changed)
}

static void
s_on_pong (en_fed_t *self, s_link_t *link, json_t *body, const char *ref, int64_t now)
{
    en_link_pong (link->link, now);
}

static void
s_on_resync (en_fed_t *self, s_link_t *link, json_t *body, const char *ref, int64_t now)
{
    s_advert_send (self, link, true, NULL);
}

static void
s_on_ack (en_fed_t *self, s_link_t *link, json_t *body, const char *ref, int64_t now)
{
    if (ref && en_outbox_ack (en_bstore_outbox (self->store), link->dest, ref, NULL) == 0)
        en_link_acked (link->link, now);
}

static void
s_on_error (en_fed_t *self, s_link_t *link, json_t *body, const char *ref, int64_t now)
{
    int code = (int) en_json_int (body, "code", EN_ERR_INTERNAL);
    const char *reason = en_json_str (body, "reason") ?: "";
    if (!ref || !*ref)
        //  Connection-level: no session (the peer restarted) or we are
        //  not accepted there
        en_link_refused (link->link, code, reason);
    else
    if (code != EN_ERR_INTERNAL) {
        //  Final for that message: a request handed over with it comes
        //  back here and is routed on
        zsys_warning ("federation: %s refused %s: %d %s", link->name, ref, code, reason);
        en_router_forward_refused (self->router, link->name, ref, code, reason);
        s_on_ack (self, link, body, ref, now);
    }
}

static const struct {
    const char *command;
    s_answer_fn *handler;
} s_answers [] = {
    { "WELCOME", s_on_welcome },
    { "PONG",    s_on_pong },
    { "RESYNC",  s_on_resync },
    { "ACK",     s_on_ack },
    { "ERROR",   s_on_error },
};

static void
s_link_message (en_fed_t *self, s_link_t *link, zmsg_t *raw)
{
    en_error_t error;
    en_msg_t *msg = en_msg_decode (raw, &error);
    if (!msg) {
        zsys_warning ("federation: undecodable message from %s: %s", link->name, error.reason);
        return;
    }
    //  Only what the peer signed, or a transport command (ACK, PONG) on
    //  this CURVE connection to the peer's pinned key: anything else is
    //  ignored (and our messages stay queued until an ACK comes)
    if (!streq (en_msg_sender (msg), link->name) || !en_msg_authentic (msg, link->sign_key)) {
        zsys_warning ("federation: ignored %s from %s: not signed by its enrolled key", en_msg_command (msg),
                      link->name);
        en_msg_destroy (&msg);
        return;
    }
    int64_t now = en_now_ms ();
    en_link_heard (link->link, now);
    const char *command = en_msg_command (msg);
    json_t *body = en_msg_body (msg);
    //  WELCOME and PONG echo the time of our LINK or PING and carry the
    //  peer's: a round trip for its clock's offset
    if ((streq (command, "WELCOME") || streq (command, "PONG"))
    &&  json_is_integer (json_object_get (body, "echo")) && json_is_integer (json_object_get (body, "time")))
        en_clock_round_trip (link->clock, en_json_int (body, "echo", 0), en_json_int (body, "time", 0), now);
    //  A cumulative ACK names many messages
    json_t *refs = streq (command, "ACK") ? en_msg_ack_refs (msg, NULL) : NULL;
    for (size_t index = 0; index < sizeof s_answers / sizeof s_answers [0]; index++)
        if (refs && streq (command, s_answers [index].command)) {
            size_t i;
            json_t *ref;
            json_array_foreach (refs, i, ref)
                s_answers [index].handler (self, link, body, json_string_value (ref), now);
        }
        else
        if (streq (command, s_answers [index].command))
            s_answers [index].handler (self, link, body, en_json_str (body, "ref"), now);
    json_decref (refs);
    en_msg_destroy (&msg);
}

//  Handle what link's socket holds, in a transaction of its own.
static void
s_link_drain (en_fed_t *self, s_link_t *link)
{
    en_db_t *db = en_bstore_db (self->store);
    if (en_db_begin (db))
        return;
    for (int count = 0; count < 512; count++) {
        zsock_t *sock = en_link_sock (link->link);
        if (!sock || !(zsock_events (sock) & ZMQ_POLLIN))
            break;
        zmsg_t *raw = zmsg_recv (sock);
        if (!raw)
            break;
        s_link_message (self, link, raw);
        zmsg_destroy (&raw);
    }
    if (en_db_commit (db)) {
        zsys_error ("federation: commit failed: %s", en_db_error (db));
        en_db_rollback (db);
    }
}

bool
en_fed_handle (en_fed_t *self, void *sock)
{
    s_link_t *link;
    for (link = (s_link_t *) zhashx_first (self->links); link; link = (s_link_t *) zhashx_next (self->links))
        if (en_link_sock (link->link) && (void *) en_link_sock (link->link) == sock)
            break;
    if (!link)
        return false;
    s_link_drain (self, link);
    en_fed_flush (self);
    return true;
}

//  --------------------------------------------------------------------
//  Timers

void
en_fed_tick (en_fed_t *self)
{
    int64_t now = en_now_ms ();
    bool adverts = self->dirty ? now - self->advert_at >= ADVERT_MIN_MS : now - self->advert_at >= ADVERT_EVERY_MS;
    json_t *own = adverts && zhashx_size (self->links) ? en_bstore_advert_own (self->store, now) : NULL;
    //  This loop did not run for more than a heartbeat (paused, stopped,
    //  a slow disk): nobody listened, so that silence is not the peers'.
    //  Each link credits it and PINGs at once (en_link_tick).
    int64_t away = self->tick_at ? now - self->tick_at : 0;
    self->tick_at = now;
    if (away > self->heartbeat_ms)
        zsys_info ("federation: this broker did not run for %lld ms; links judged from now on", (long long) away);
    //  Over a copy: what a tick reads may route, and routing looks links
    //  up (en_fed_link_state), which moves the hash's cursor
    zlistx_t *links = zlistx_new ();         //  (not zhashx_values: its list owns the links)
    for (void *one = zhashx_first (self->links); one; one = zhashx_next (self->links))
        zlistx_add_end (links, one);
    for (s_link_t *link = (s_link_t *) zlistx_first (links); link; link = (s_link_t *) zlistx_next (links)) {
        en_link_tick (link->link, now);
        if (adverts && s_link_up (self, link))
            s_advert_send (self, link, false, own);
    }
    zlistx_destroy (&links);
    json_decref (own);
    if (adverts) {
        self->advert_at = now;
        self->dirty = false;
    }
}

//  --------------------------------------------------------------------
//  Status

//  What the peer claimed in its adverts, before the bounds cut it
static void
s_status_claimed (s_link_t *link, json_t *advert)
{
    int64_t claimed_own = 0, claimed_learned = 0;
    for (char *value = link->claimed ? (char *) zhashx_first (link->claimed) : NULL; value;
         value = (char *) zhashx_next (link->claimed)) {
        const char *key = (const char *) zhashx_cursor (link->claimed);
        bool learned = !streq (strrchr (key, '|'), "|1");
        *(learned ? &claimed_learned : &claimed_own) += atoll (value);
    }
    json_object_set_new (advert, "claimed_entries",
                         json_integer (link->claimed ? (json_int_t) zhashx_size (link->claimed) : 0));
    json_object_set_new (advert, "claimed_free", json_integer (claimed_own));
    json_object_set_new (advert, "claimed_free_learned", json_integer (claimed_learned));
    json_object_set_new (advert, "clamped", json_integer ((json_int_t) link->clamped));
}

static json_t *
s_status_link (en_fed_t *self, s_link_t *link, int64_t now)
{
    int64_t depth = en_outbox_depth (en_bstore_outbox (self->store), link->dest);
    bool up = s_link_up (self, link);
    const char *state = en_link_state_name (link->link, depth, self->retry_ms, now);
    int64_t contact = MAX (en_link_heard_at (link->link), link->inbound);
    json_t *advert = en_bstore_peer_state (self->store, link->name);
    json_t *entry = json_pack ("{s:s, s:s, s:s, s:I, s:I, s:I}", "peer", link->name, "endpoint", link->endpoint,
                               "state", state, "queue", (json_int_t) depth,
                               "advert_seq_out", (json_int_t) link->seq,
                               "messages_sent", (json_int_t) en_link_sent (link->link));
    json_object_set_new (entry, "last_contact", contact ? json_integer (contact) : json_null ());
    json_object_set_new (entry, "rtt_ms", en_link_rtt (link->link) >= 0 ? json_integer (en_link_rtt (link->link))
                                                                        : json_null ());
    json_object_set_new (entry, "up_since", up ? json_integer (en_link_up_since (link->link)) : json_null ());
    json_object_set_new (entry, "inbound", json_boolean (link->inbound && now - link->inbound <= 3 * self->heartbeat_ms));
    if (advert)
        s_status_claimed (link, advert);
    json_object_set_new (entry, "advert", advert ? advert : json_null ());
    json_object_set_new (entry, "clock", en_clock_status (link->clock));
    //  Requests handed to the peer, and those it gave back or refused
    //  although it advertised room for them
    json_t *forwards = en_bstore_peer_forwards (self->store, link->name);
    json_object_set_new (entry, "forwards", json_integer (en_json_int (forwards, "forwards", 0)));
    json_object_set_new (entry, "forwards_returned", json_integer (en_json_int (forwards, "returned", 0)));
    json_decref (forwards);
    if (en_link_state (link->link) == EN_LINK_REFUSED && !up)
        json_object_set_new (entry, "refusal", json_string (en_link_refusal (link->link)));
    return entry;
}

json_t *
en_fed_status (en_fed_t *self)
{
    json_t *links = json_array ();
    int64_t now = en_now_ms ();
    zlistx_t *names = zhashx_keys (self->links);
    zlistx_set_comparator (names, (zlistx_comparator_fn *) strcmp);
    zlistx_sort (names);
    for (const char *name = (const char *) zlistx_first (names); name; name = (const char *) zlistx_next (names))
        json_array_append_new (links, s_status_link (self, (s_link_t *) zhashx_lookup (self->links, name), now));
    zlistx_destroy (&names);
    return links;
}

//  --------------------------------------------------------------------
//  Receiving on the broker's socket (what a peer's own link sends us)

void
en_fed_link_in (en_fed_t *self, const char *peer, bool first)
{
    if (first)
        zsys_info ("federation: peer %s linked to us", peer);
    en_outbox_reset (en_bstore_outbox (self->store), peer);
}
