/*  en_fed - federation: this broker's links to the brokers of other
    provinces (docs/protocol.md, "Federation").

    One link per configured peer: a DEALER socket, CURVE client pinned to
    the peer's public key, that this broker opens to the peer's endpoint.
    The peer does the same the other way, so each direction of a pair has
    its own connection, authenticated both ways (we pin its key; its zauth
    admits only enrolled keys, ours among them). What this broker sends a
    peer (ADVERT, FORWARD, STATUS) goes over its own link and is answered
    there; what the peer sends arrives on the broker's ROUTER like a
    node's message and is handed to en_fed_inbound / en_router.

    Store and forward: reliable messages to a peer wait in the durable
    outbox under the destination "peer:<name>", are sent in order when
    the link is up and removed only when the peer ACKs them.

    Adverts: on every (re)connect the link sends a full snapshot of what
    this broker can serve (free places by role and tag set: own experts,
    and what other peers advertised, one hop further, never back to the
    peer it came from), then deltas when it changes; each with the next
    sequence number of this link's epoch. A receiver that sees a gap
    (or a PING naming a later seq) asks for a snapshot (RESYNC). */
#ifndef EN_FED_H_INCLUDED
#define EN_FED_H_INCLUDED

#include "en_router.h"

typedef struct _en_fed_t en_fed_t;

//  The enrolled certificate of a peer: its CURVE public key (z85, 41
//  bytes; pinned_key when given must match it) and Ed25519 key. true if
//  a certificate with that name (and key) is enrolled.
typedef bool (en_fed_enrolled_fn) (const char *name, const char *pinned_key, char curve_key [41],
                                   unsigned char sign_key [32], void *arg);

en_fed_t *en_fed_new (const char *name, en_bstore_t *store, en_router_t *router, en_metrics_t *metrics,
                      zcert_t *cert, en_signer_t *signer, zpoller_t *poller,
                      en_fed_enrolled_fn *enrolled_fn, void *arg);
void en_fed_destroy (en_fed_t **self_p);

//  Read federation/ from config (at start and on SIGHUP): routing rules
//  and the peers; links whose peer, endpoint or key changed start over.
//  0, or -1 with error (config left as it was).
int en_fed_configure (en_fed_t *self, zconfig_t *config, int64_t heartbeat_ms, int64_t retry_ms,
                      en_error_t *error);

//  Is name a configured peer broker?
bool en_fed_is_peer (en_fed_t *self, const char *name);

//  The link to peer: 1 up, 0 not up, -1 not a peer (en_router_link_fn).
int en_fed_link_state (const char *peer, void *self);

//  If sock is one of the links, handle what it received (in a
//  transaction of its own) and return true.
bool en_fed_handle (en_fed_t *self, void *sock);

//  Timers: LINK until welcomed, PING, reconnect with backoff, adverts,
//  outbox. Call at least every 250 ms.
void en_fed_tick (en_fed_t *self);

//  Something that may change the advertised capacity was committed.
void en_fed_dirty (en_fed_t *self);

//  Send what is due in the peers' outboxes.
void en_fed_flush (en_fed_t *self);

//  A message from peer arrived on the broker's socket (for last contact).
void en_fed_inbound (en_fed_t *self, const char *peer);

//  A LINK from peer on the broker's socket: its session with us starts
//  (first: it had none in this process), and what waits for it is sent
//  again from the start. The broker answers WELCOME.
void en_fed_link_in (en_fed_t *self, const char *peer, bool first);

//  An ADVERT or PING from peer, inside the broker's batch transaction.
//  ADVERT: 0 applied or ignored, -1 with error (invalid, or a store
//  error: then nothing of it is written, in its own savepoint). Sets *resync
//  when the peer should send a snapshot (a gap, or a PING naming a seq we
//  have not seen).
int en_fed_advert_in (en_fed_t *self, const char *peer, en_msg_t *msg, bool *resync, en_error_t *error);
void en_fed_ping_in (en_fed_t *self, const char *peer, en_msg_t *msg, bool *resync);

//  Every link for operators: [{peer, endpoint, state, queue, last_contact,
//  rtt_ms, since, advert: {...}, ...}].
json_t *en_fed_status (en_fed_t *self);

#endif
