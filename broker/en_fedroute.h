/*  en_fedroute - routing with peer brokers (docs/protocol.md,
    "Federation"): handing a request nobody here can take to a peer that
    advertises room for it, following it there (STATUS, RECALL, relayed
    CLOSE/DOSSIER/REPLY/REVIEW/BERAAD) and taking it back. Owned by the router
    (en_router), for which it works; it reaches the router only through
    the route/transition interface declared in en_router.h. */
#ifndef EN_FEDROUTE_H_INCLUDED
#define EN_FEDROUTE_H_INCLUDED

#include "en_router.h"

typedef struct _en_fedroute_t en_fedroute_t;

//  Create the federation half of router (not owned; it owns us), on the
//  same store, sending as broker_name. Destroy is safe twice.
en_fedroute_t *en_fedroute_new (en_router_t *router, en_bstore_t *store, const char *broker_name);
void en_fedroute_destroy (en_fedroute_t **self_p);

//  As en_router_set_federation and en_router_set_metrics.
void en_fedroute_configure (en_fedroute_t *self, bool forward, int64_t max_hops, int64_t crisis_local_offers,
                            en_router_link_fn *link_fn, void *link_arg);
void en_fedroute_set_metrics (en_fedroute_t *self, en_metrics_t *metrics);

//  --------------------------------------------------------------------
//  For the router's route step

//  Did request come from a peer broker (origin "peer:<name>")?
bool en_fedroute_from_peer (json_t *request);

//  Was the relay for places [index] (en_bstore_places, a place a peer
//  holds) made already, for an earlier place not closed that the same
//  peer holds? A peer holding several places of a request gets a relay
//  of the whole request (CLOSE, REVIEW, BERAAD) once.
bool en_fedroute_relayed_before (json_t *places, size_t index);

//  request below is one place of a request, as en_bstore_request_place
//  gives it (a request of one place: its place 1).

//  Should request go to a peer before the next local candidate? True for
//  a crisis request whose place had crisis_local_offers local offers.
bool en_fedroute_national_first (en_fedroute_t *self, json_t *request);

//  The best peer to hand request to, or NULL (no peer, federation off,
//  or nothing to carry). again: an operator's re-offer, peers it was
//  recalled from are tried again. Caller owns the name.
char *en_fedroute_pick (en_fedroute_t *self, json_t *request, bool again);

//  Hand the place to peer (from en_fedroute_pick): FORWARD with the
//  origin's signed SUBMIT and the place's number, the forward recorded,
//  transition "forwarded".
//  0, or -1 (store error or refused transition).
int en_fedroute_hand_over (en_fedroute_t *self, json_t *request, const char *peer);

//  Give a request from a peer that nobody here can take back to that
//  peer (transition "returned"). 0 or -1.
int en_fedroute_give_back (en_fedroute_t *self, json_t *request);

//  A node's own CLOSE, DOSSIER, REPLY, REVIEW or BERAAD (msg) about a request a peer
//  holds: relay it there, if it is signed with the key the request was
//  (sender_key, 32 bytes; NULL: unknown, not relayed). 0, or -1 with
//  error (403 an earlier key of the node; 500 store).
int en_fedroute_relay_own (en_fedroute_t *self, json_t *request, en_msg_t *msg, const unsigned char *sender_key,
                           en_error_t *error);

//  An operator takes the place back from the peer holding it: RECALL
//  {request, place} to the peer, transition "operator-recall", routed
//  again here. The caller
//  has made the operator the actor. 0, or -1 with error (409 not with a
//  peer, or already accepted there; 500 store).
int en_fedroute_recall (en_fedroute_t *self, const char *operator_name, json_t *request, const char *reason,
                        en_error_t *error);

//  --------------------------------------------------------------------
//  Peer brokers' messages (en_router_handle_peer), in the caller's
//  savepoint: 0, or -1 with error

//  FORWARD: a node's signed SUBMIT, CLOSE, DOSSIER, REPLY, REVIEW or BERAAD carried by peer.
int en_fedroute_handle_forward (en_fedroute_t *self, const char *peer, en_msg_t *msg, en_error_t *error);
//  STATUS from the peer holding a place (the one it names, else the one
//  handed to it): mirrored onto that place, or "returned".
int en_fedroute_handle_status (en_fedroute_t *self, const char *peer, en_msg_t *msg, en_error_t *error);
//  RECALL from the peer a request came from.
int en_fedroute_handle_recall (en_fedroute_t *self, const char *peer, en_msg_t *msg, en_error_t *error);

//  Peer refused our FORWARD msg_id with a final ERROR: the request comes
//  back and is routed on, as en_router_forward_refused. 0 or -1.
int en_fedroute_forward_refused (en_fedroute_t *self, const char *peer, const char *msg_id,
                                 int code, const char *reason);

//  Queue ANCHOR (body taken) for peer. 0 or -1.
int en_fedroute_anchor (en_fedroute_t *self, const char *peer, json_t *body);

#endif
