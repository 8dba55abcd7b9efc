/*  en_router - routing of requests and offers: which transition of the
    request state machine (en_request_sm, docs/protocol.md "Request
    states") each message, timer or operator causes. It decides;
    en_bstore remembers. Every transition
    writes its event, its state and the messages it causes (OFFER,
    WITHDRAW, STATUS, queued in the durable outbox) in the caller's
    transaction, so a crash either keeps all of a transition or none. */
#ifndef EN_ROUTER_H_INCLUDED
#define EN_ROUTER_H_INCLUDED

#include "en_bstore.h"
#include "en_metrics.h"

typedef struct _en_router_t en_router_t;

en_router_t *en_router_new (en_bstore_t *store, const char *broker_name);
void en_router_destroy (en_router_t **self_p);

//  Offer deadline for an urgency (crisis, hoog, regulier), in ms.
void en_router_set_deadline (en_router_t *self, const char *urgency, int64_t ms);
int64_t en_router_deadline (en_router_t *self, const char *urgency);

//  Count routing decisions, offer outcomes and latencies into metrics
//  (not owned; NULL: not counted).
void en_router_set_metrics (en_router_t *self, en_metrics_t *metrics);

//  Federation (routing with peers is en_fedroute's; this configures it).
//  link_fn says whether a peer's link is up (1), down (0) or
//  that the name is not a configured peer (-1). forward: hand requests
//  that find nobody here to peers (default on, max_hops 2); a crisis
//  request that had crisis_local_offers local offers (0: no limit;
//  default 2) is forwarded before the next local candidate.
typedef int (en_router_link_fn) (const char *peer, void *arg);
void en_router_set_federation (en_router_t *self, bool forward, int64_t max_hops,
                               int64_t crisis_local_offers, en_router_link_fn *link_fn, void *arg);

//  The signing key (32 bytes) of the node whose message is handled next,
//  kept with its requests so they can be forwarded; NULL: unknown.
void en_router_set_sender_key (en_router_t *self, const unsigned char *key);

//  Handle one reliable message from a peer broker (FORWARD, STATUS,
//  RECALL, ANCHOR), as en_router_handle.
int en_router_handle_peer (en_router_t *self, const char *peer, en_msg_t *msg, en_error_t *error);

//  Peer refused our FORWARD msg_id (a final ERROR): a request handed over
//  with it comes back and is routed on. 0, or -1 on a store error.
int en_router_forward_refused (en_router_t *self, const char *peer, const char *msg_id,
                               int code, const char *reason);

//  Regions of this province. When none are set, any region is accepted
//  (and each node submits for its own region only).
void en_router_add_region (en_router_t *self, const char *region);
void en_router_clear_regions (en_router_t *self);

//  The broker's PII guard counters ({"checks", "refused", "kinds"}, as
//  en_pii_counts): every free text received is checked. Caller owns.
json_t *en_router_pii_counts (en_router_t *self);

//  Handle one reliable message from node (already decoded, deduplicated
//  and inside a savepoint: en_inbox). 0 on success, -1 with error filled in.
int en_router_handle (en_router_t *self, const char *node, const char *node_region,
                      en_msg_t *msg, en_error_t *error);

//  Handle one reliable message from node, or from a peer broker when
//  is_peer (node_region is then unused): en_router_handle_peer or
//  en_router_handle. What the broker's inbox (en_inbox) hands the router,
//  inside the message's savepoint, once per message id.
int en_router_receive (en_router_t *self, const char *node, const char *node_region,
                       bool is_peer, en_msg_t *msg, en_error_t *error);

//  Expire open offers whose deadline is <= now and route their requests
//  onward, each in its own savepoint. Returns how many offers expired,
//  or -1 if one could not be (the others are expired all the same).
int en_router_expire (en_router_t *self, int64_t now);

//  Route hiaten again: every request that is a hiaat and became one
//  within the retry time of its urgency (at most 200 per call, crisis
//  first) is routed once more; one that finds an expert, a peer or an
//  escalation target it never had moves on, with an event "rerouted"
//  first; one that finds nobody stays as it was, nothing written. Call
//  regularly (the broker: every second), in a transaction. Returns how
//  many moved on, or -1 on a store error (what moved before it stays;
//  the pass stops there).
int en_router_retry_hiaten (en_router_t *self, int64_t now);

//  How long after becoming a hiaat a request of urgency is routed again
//  (ms; 0: never). Defaults: crisis 2 h, hoog 8 h, regulier 24 h.
void en_router_set_hiaat_retry (en_router_t *self, const char *urgency, int64_t ms);

//  A node's key was revoked (it is no longer enrolled): its experts leave
//  the candidates, and every offer open with one of them is withdrawn
//  (event "revoked") and its request routed again. Requests its experts
//  had accepted stay as they are, for operators to re-offer. Returns the
//  number of offers routed again, or -1.
int en_router_node_revoked (en_router_t *self, const char *node);

//  An operator's action on a request, with a reason (1..500 bytes), in
//  the caller's transaction:
//    "reoffer"   withdraw the open offer and route the request again (the
//                next candidate, else escalation, else hiaat): experts
//                whose offer of it expired unanswered are candidates
//                again (not who declined, nor whose offer was withdrawn,
//                this one's included); peers it was recalled from too,
//                not those that gave it back or refused it. For a hiaat
//                with still nobody: 409, nothing changes
//    "escalate"  withdraw the open offer and offer the request to a
//                bovenregionale procesregisseur not offered it before
//    "close"     withdraw open offers and close the request with outcome
//                "closed by operator: <reason>"
//  Each records an event "operator-<action>" (detail "<operator>: <reason>")
//  and the transitions it causes, with the operator as actor in the
//  access log, and sends the STATUS and WITHDRAW messages they cause.
//  0, or -1 with error: 404 unknown request, 409 the state does not allow
//  it (reoffer/escalate of an accepted, advice or closed request; close
//  of a closed one), nobody to escalate to, or a re-offered hiaat for
//  which there is still nobody; 422 bad reason or name.
int en_router_operator (en_router_t *self, const char *operator_name, const char *action,
                        const char *request_id, const char *reason, en_error_t *error);
//  The same on one place of a request (EXPN/3, a team): place 1.. acts on
//  that place alone (close included: the other places go on; "recall"
//  takes that place back from the peer broker holding it); place 0 as
//  en_router_operator: close the whole request (409 while a peer holds
//  one of its places), recall every place a peer holds, re-offer and
//  escalate every place that routing can move, passing by the places a
//  peer holds (done when one moved, else the refusal). 404 for a place
//  the request does not have; 409 for an action other than recall on a
//  place a peer holds.
int en_router_operator_place (en_router_t *self, const char *operator_name, const char *action,
                              const char *request_id, int64_t place, const char *reason, en_error_t *error);

//  Queue ANCHOR (our access log's head, body taken) for a peer broker,
//  through the peer's durable outbox. 0 or -1.
int en_router_anchor (en_router_t *self, const char *peer, json_t *body);

//  --------------------------------------------------------------------
//  The route/transition interface: what the federation routing module
//  (en_fedroute, routing with peer brokers) may ask of the local router,
//  and nothing else. All in the caller's transaction; the request state
//  machine (en_request_sm) checks every change of state.

//  Move request (a row of en_bstore_request) to state on event: its
//  state, the event in its timeline and the access log, and a STATUS to
//  its origin (extra fields merged in; extra is taken). 0, or -1: a store
//  error, or the state machine refused (logged; en_router_failed answers).
int en_router_transition (en_router_t *self, json_t *request, const char *state, const char *event,
                          const char *expert, const char *detail, json_t *extra);

//  A transition of the whole request (a team's review date, its moreel
//  beraad, a close): every place not closed moves to state (NULL: stays
//  where it is), each as the state machine allows, or none does (-1);
//  then one event and one STATUS without a place (extra merged in, taken).
int en_router_transition_all (en_router_t *self, json_t *request, const char *state, const char *event,
                              const char *detail, json_t *extra);

//  The same without a STATUS (for a RECALL: the peer that sent it knows).
int en_router_apply (en_router_t *self, json_t *request, const char *state, const char *event,
                     const char *expert, const char *detail);

//  Record an event that changes no state (timeline and access log). 0 or -1.
int en_router_record (en_router_t *self, const char *request_id, const char *event, const char *expert,
                      const char *detail);

//  Route request: the next local candidate, a peer, back to the peer it
//  came from, escalation or a hiaat (docs/protocol.md, "Routing"). 0 or -1.
int en_router_route (en_router_t *self, json_t *request);

//  Create a request and route it: origin is where its STATUS goes (a
//  node, or "peer:<broker>"), submit the origin node's signed SUBMIT
//  carried with its key (hex), the origin node and the brokers it
//  passed; only_place: 0, every place of summary; N, only place N (a
//  place of a team a peer handed over); detail for the "submitted"
//  event. 0, or -1 with error (409 the id exists; 500 store).
int en_router_submit (en_router_t *self, const char *origin, en_msg_t *submit, json_t *summary,
                      const char *sign_key, const char *origin_node, json_t *visited, int64_t only_place,
                      const char *detail, en_error_t *error);

//  Add place (a place of a team) to a request a peer handed over before
//  from the same origin (the caller checked that, and that the place is
//  new here), and route that place; detail for its "submitted" event.
//  0, or -1 with error (500 store, 409 refused by the machine).
int en_router_submit_place (en_router_t *self, json_t *summary, int64_t place, const char *detail,
                            en_error_t *error);

//  The PII guard on a request summary that arrived: 0, or -1 with 422.
int en_router_guard_request (en_router_t *self, json_t *summary, en_error_t *error);

//  Withdraw request's open offers: WITHDRAW with reason to each expert's
//  node; with event, also an event (and STATUS) per offer. 0 or -1.
int en_router_withdraw_open (en_router_t *self, json_t *request, const char *reason,
                             const char *event, const char *detail);

//  Handle a CLOSE, or a DOSSIER or REPLY, of request's origin (a node,
//  or "peer:<broker>" for one carried by a peer) as if it sent it here.
int en_router_close (en_router_t *self, const char *origin, en_msg_t *msg, en_error_t *error);
int en_router_sealed (en_router_t *self, const char *origin, en_msg_t *msg, en_error_t *error);

//  Relay the node's msg (REVIEW, BERAAD) about a place a peer broker
//  holds (request: that place's view) to that peer, carried with the
//  origin's signature as for a CLOSE. 0, or -1 with error.
int en_router_relay (en_router_t *self, json_t *request, en_msg_t *msg, en_error_t *error);

//  A chain of the calls above failed: set error to the state machine's
//  refusal (409) if it refused, else to a store error (500). Returns -1.
int en_router_failed (en_router_t *self, en_error_t *error);

//  The store (for en_followup, which moves requests through this
//  interface and reads its own rows).
en_bstore_t *en_router_store (en_router_t *self);

//  Queue a reliable message (body taken) to a node. 0 or -1.
int en_router_send (en_router_t *self, const char *node, const char *command, json_t *body);

//  A timer pass acts: the broker itself is the actor in the access log.
void en_router_act_as_broker (en_router_t *self);

#endif
