/*  en_bstore - the broker's store: every SQL statement the broker runs
    lives in en_bstore.c. Rows come back as jansson objects, owned by the
    caller. Writes happen inside the caller's transaction (group commit). */
#ifndef EN_BSTORE_H_INCLUDED
#define EN_BSTORE_H_INCLUDED

#include "expertnet.h"

typedef struct _en_bstore_t en_bstore_t;

//  Open (creating or migrating) the store at path; NULL with error (500)
//  when it cannot be opened or is damaged.
en_bstore_t *en_bstore_new (const char *path, en_error_t *error);

//  The same store read on a connection of its own (read-only, no
//  migrations: en_bstore_new made it), for the dashboard's thread: its
//  figures never wait for the broker's loop nor hold it up. Reads only.
en_bstore_t *en_bstore_open_readonly (const char *path, en_error_t *error);

//  Reads between begin (true) and end (false) see one state of the
//  store, as of the first of them: for figures read on the dashboard's
//  connection while the broker writes. Not for the broker's own
//  connection (it writes in en_db_begin's transactions). 0 or -1.
int en_bstore_snapshot (en_bstore_t *self, bool begin);
void en_bstore_destroy (en_bstore_t **self_p);
en_db_t *en_bstore_db (en_bstore_t *self);
en_outbox_t *en_bstore_outbox (en_bstore_t *self);

//  Nodes
int en_bstore_node_seen (en_bstore_t *self, const char *name, const char *region);
//  Every node that ever said HELLO: {name, region, first_seen, last_seen}.
json_t *en_bstore_nodes (en_bstore_t *self);

//  Access-log heads anchored here by a node or peer broker (ANCHOR):
//  keep one (its seq, hex hash, the sender's time, our message id).
//  conflict gets a line when it cannot follow what the sender anchored
//  before (same seq, other hash; or an earlier seq than anchored), else
//  "". 0 or -1.
int en_bstore_anchor_put (en_bstore_t *self, const char *sender, int64_t seq, const char *hash, int64_t at,
                          const char *msg_id, char *conflict, size_t conflict_len);
//  Every head sender anchored here: [{seq, hash, at, received}], by seq.
json_t *en_bstore_anchors (en_bstore_t *self, const char *sender);
//  Forget anchors received before before_ms (the access-log retention).
int en_bstore_anchors_prune (en_bstore_t *self, int64_t before_ms);

//  Experts: replace the full list published by node. 0, or -1 with
//  error: 409 an id is owned by another node, 500 a store error.
int en_bstore_experts_replace (en_bstore_t *self, const char *node, json_t *experts, en_error_t *error);
//  An expert row with its current load, or NULL.
json_t *en_bstore_expert (en_bstore_t *self, const char *id);
//  All active experts with load, ordered by region, id.
json_t *en_bstore_experts (en_bstore_t *self);

//  The best candidate for a request, or NULL: active, present, not yet offered
//  this request, free capacity (accepted cases plus open offers, which
//  reserve a place, below capacity), role in roles, holding every
//  expertise tag (escalation: bovenregionale procesregisseurs, tags not
//  required).
json_t *en_bstore_candidate (en_bstore_t *self, json_t *request,
                             const char **roles, bool escalation, int64_t now);
//  The same for an operator's re-offer: experts whose offer of it
//  expired unanswered are candidates again (not those who declined it or
//  whose offer was withdrawn).
json_t *en_bstore_candidate_again (en_bstore_t *self, json_t *request, const char **roles,
                                   bool escalation, int64_t now);

//  Requests. insert returns 0, or -1 with error: 409 the id exists, 500
//  a store error. With it, where the request came from (federation): the
//  origin node's signed SUBMIT (en_msg_export), its signing key (hex),
//  the origin node's name, and the brokers it passed (NULL for our own
//  nodes'). only_place: 0, all the summary's places; N, only place N
//  (a place of a team carried by a peer broker).
int en_bstore_request_insert (en_bstore_t *self, const char *origin, const char *msg_id, json_t *summary,
                              json_t *submit, const char *sign_key, const char *origin_node, json_t *visited,
                              int64_t only_place, en_error_t *error);
//  Another place of a request a peer handed over before (EXPN/3: a peer
//  may hold several places of a team): place N of summary, 'submitted'.
//  The caller checks it is the same request and the place is new. 0 or -1.
int en_bstore_place_add (en_bstore_t *self, json_t *summary, int64_t place);
json_t *en_bstore_request (en_bstore_t *self, const char *id);
int en_bstore_request_update (en_bstore_t *self, const char *id,
                              const char *state, const char *expert);
//  Places (EXPN/3, a team): the request as its place number place sees
//  it: the request's columns with the place's state and expert, and
//  place, roles, expertise, peer (the place's), request_state (the
//  request's) and place_count; NULL if there is no such place. Place 0:
//  the request's first place (a peer's request has one, any number).
//  A request loaded whole names as its peer the first peer holding one
//  of its places (kept by en_bstore_forward and _forward_end).
json_t *en_bstore_request_place (en_bstore_t *self, const char *id, int64_t place);
//  The same view of a request whose summary the caller holds, as it was
//  stored (it has just stored it): summary goes in the view (a
//  reference) instead of the stored text read back and parsed again.
json_t *en_bstore_request_place_held (en_bstore_t *self, json_t *summary, int64_t place);
//  Every place of a request, in order: place, roles, expertise, state,
//  expert (assigned), local, peer (the peer broker holding it), offered
//  (the expert of its open offer).
json_t *en_bstore_places (en_bstore_t *self, const char *id);
//  Set a place's state and assigned expert; local: that expert is one of
//  ours (counts on their load), not a peer broker's.
int en_bstore_place_update (en_bstore_t *self, const char *id, int64_t place, const char *state,
                            const char *expert, bool local);
//  Requests, newest first; state NULL: every request still in play here,
//  i.e. all but those closed, returned or recalled (hiaten included).
json_t *en_bstore_requests (en_bstore_t *self, const char *state, int limit);

//  Events (the request's timeline)
int en_bstore_event (en_bstore_t *self, const char *request_id, const char *type,
                     const char *expert, const char *detail);
//  The same for one place (0: the whole request).
int en_bstore_place_event (en_bstore_t *self, const char *request_id, int64_t place, const char *type,
                           const char *expert, const char *detail);
json_t *en_bstore_events (en_bstore_t *self, const char *request_id);

//  Offers
int en_bstore_offer_insert (en_bstore_t *self, const char *id, const char *request_id, int64_t place,
                            const char *expert, const char *node, const char *kind,
                            int64_t deadline);
json_t *en_bstore_offer (en_bstore_t *self, const char *id);
int en_bstore_offer_close (en_bstore_t *self, const char *id, const char *state,
                           const char *reason);
int64_t en_bstore_offer_count (en_bstore_t *self, const char *request_id);
//  Offers ever made for one place of a request.
int64_t en_bstore_place_offer_count (en_bstore_t *self, const char *request_id, int64_t place);
//  Open offers of one request (request_id) or all open offers past
//  deadline (request_id NULL, due <= now).
json_t *en_bstore_offers_open (en_bstore_t *self, const char *request_id, int64_t due);
//  Open offers of one place of a request.
json_t *en_bstore_place_offers_open (en_bstore_t *self, const char *request_id, int64_t place);
//  Earliest deadline of an open offer, 0 if none.
int64_t en_bstore_next_deadline (en_bstore_t *self);
//  Open offers made to the experts of one node.
json_t *en_bstore_offers_open_of_node (en_bstore_t *self, const char *node);
//  Names of the nodes that have active experts (strings).
json_t *en_bstore_nodes_with_experts (en_bstore_t *self);
//  Open offers with time left, for operators.
json_t *en_bstore_offers_pending (en_bstore_t *self);

//  Hiaten (gaps nobody could take)
int en_bstore_hiaat (en_bstore_t *self, json_t *request);
json_t *en_bstore_hiaten (en_bstore_t *self);

//  Places that are a hiaat now, of requests that became one at or after
//  since [i] for urgency index i (crisis, hoog, regulier): [{request_id,
//  place, urgency, at}], crisis first, then oldest; at most limit.
json_t *en_bstore_hiaten_due (en_bstore_t *self, const int64_t since [3], int limit);
//  The newest limit hiaten, as en_bstore_hiaten.
json_t *en_bstore_hiaten_recent (en_bstore_t *self, int limit);

//  Open requests (not closed, not hiaat), most urgent first, then oldest.
json_t *en_bstore_requests_open (en_bstore_t *self, int limit);

//  Chart data since a time (ms): per request {id, urgency, created,
//  first_offer_ms, accepted_ms} (null when it did not happen), oldest
//  first; and per local week {week (its Monday, YYYY-MM-DD), urgency,
//  requests}.
json_t *en_bstore_chart_times (en_bstore_t *self, int64_t since);
json_t *en_bstore_chart_weeks (en_bstore_t *self, int64_t since);

//  Dashboard operators. put stores name with a crypto_pwhash string (a
//  new operator, or with replace a new password for one): 0, or -1 with
//  error: 409 the operator exists and !replace, 404 it does not and
//  replace, 500 a store error. operator returns {name, pwhash, created,
//  updated} or NULL; operators lists them without pwhash, with their
//  token counts. remove (which removes the operator's tokens too): 0,
//  or -1 with error: 404 no such operator, 500.
int en_bstore_operator_put (en_bstore_t *self, const char *name, const char *pwhash, bool replace,
                            en_error_t *error);
json_t *en_bstore_operator (en_bstore_t *self, const char *name);
json_t *en_bstore_operators (en_bstore_t *self);
int en_bstore_operator_remove (en_bstore_t *self, const char *name, en_error_t *error);

//  API tokens, stored as a hash (hex) only. find returns {id, operator,
//  created} or NULL; remove: 0, or -1 with error: 404 no such token, 500.
int en_bstore_token_add (en_bstore_t *self, const char *id, const char *operator_name,
                         const char *hash);
json_t *en_bstore_token_find (en_bstore_t *self, const char *hash);
json_t *en_bstore_tokens (en_bstore_t *self);
int en_bstore_token_remove (en_bstore_t *self, const char *id, en_error_t *error);

//  Counts for operators: nodes, experts by role, requests by state and
//  urgency, open offers, hiaten, outbox depth.
json_t *en_bstore_counts (en_bstore_t *self);

//  Store a node's case summary (SUMMARY body), replacing the previous one.
int en_bstore_summary_put (en_bstore_t *self, const char *origin, json_t *body);

//  Every case known for the rode draden report: region, summary, phases,
//  outcome, question_type, urgency, expertise, first_assignment, hiaat.
json_t *en_bstore_report_cases (en_bstore_t *self);

//  Federation: for routing with peer brokers (en_fedroute) and the links
//  (en_fed). {submit} of a request (as stored by insert), or NULL.
json_t *en_bstore_request_submit (en_bstore_t *self, const char *id);
//  Hand one place of a request to peer (the place names it), or record
//  that the peer gave it back or ended it (forwards.state = state; the
//  place's peer cleared unless state is "closed").
int en_bstore_forward (en_bstore_t *self, const char *request_id, int64_t place, const char *peer,
                       const char *msg_id);
int en_bstore_forward_end (en_bstore_t *self, const char *request_id, int64_t place, const char *peer,
                           const char *state);
//  The peers a request's places were handed to: [{place, peer, msg_id,
//  at, state}], oldest first.
json_t *en_bstore_forwards (en_bstore_t *self, const char *request_id);
//  The forward of place of request_id to peer (place 0: the latest of
//  any place), or NULL.
json_t *en_bstore_forward_of (en_bstore_t *self, const char *request_id, int64_t place, const char *peer);
//  The forward whose FORWARD message to peer had msg_id, or NULL.
json_t *en_bstore_forward_by_msg (en_bstore_t *self, const char *peer, const char *msg_id);
//  A node's message relayed to peer in the FORWARD msg_id, about place
//  of request (relays): keep it; find it ({msg_id, peer, request_id,
//  place, command, at}) or NULL. 0 or -1.
int en_bstore_relay_put (en_bstore_t *self, const char *peer, const char *msg_id, const char *request_id,
                         int64_t place, const char *command);
json_t *en_bstore_relay_by_msg (en_bstore_t *self, const char *peer, const char *msg_id);
//  ... and forget it (its refusal was handled). 0 or -1.
int en_bstore_relay_end (en_bstore_t *self, const char *peer, const char *msg_id);
//  Forget relays the peer took (no longer in the outbox) older than
//  before_ms; those still queued stay, whatever their age
int en_bstore_relays_prune (en_bstore_t *self, int64_t before_ms);
//  Advertised capacity: [{role, tagset (",a,b," sorted), hops, free}].
//  Own experts (hops 1), or what peers other than except_peer advertised,
//  one hop further, up to max_hops.
json_t *en_bstore_advert_own (en_bstore_t *self, int64_t now);
json_t *en_bstore_advert_learned (en_bstore_t *self, const char *except_peer, int64_t max_hops);
//  Apply a peer's ADVERT (a snapshot replaces all its entries; a delta
//  entry with free 0 removes one) and remember its epoch and seq.
int en_bstore_advert_apply (en_bstore_t *self, const char *peer, const char *epoch, int64_t seq,
                            bool snapshot, json_t *entries);
//  {epoch, seq, updated, entries, free, free_learned} of what peer
//  advertised (free: its own places, hops 1; free_learned: those it
//  passes on), or NULL.
json_t *en_bstore_peer_state (en_bstore_t *self, const char *peer);
//  Bound the free places peer advertised, its own (hops 1) or those it
//  passes on (learned), to max_total together: when they exceed it each
//  entry is scaled down (entries that reach 0 go). Returns the total
//  before, or -1 on a store error.
int64_t en_bstore_advert_bound (en_bstore_t *self, const char *peer, bool learned, int64_t max_total);
//  {forwards, returned}: requests ever handed to peer, and how many of
//  them it gave back or refused.
json_t *en_bstore_peer_forwards (en_bstore_t *self, const char *peer);
//  Peers that advertise a free place for request (one place of it, as
//  en_bstore_request_place: role in roles, every tag of its expertise),
//  within max_hops, not in exclude (names), not yet tried for that place
//  (again: an operator's re-offer, only peers that gave it back or
//  refused it are left out); a peer holding another place of the
//  request is asked too: [{peer, hops, free}], fewest hops, most free first.
json_t *en_bstore_peer_candidates (en_bstore_t *self, json_t *request, const char **roles,
                                   json_t *exclude, int64_t max_hops, bool again);

//  Conversations (en_convo). The team's box key from SUBMIT. 0 or -1.
int en_bstore_convo_key_put (en_bstore_t *self, const char *request_id, const char *team_key);
//  The participants of request now: [{who, node, box_key}], "team" (the
//  origin) and every expert whose offer of it is accepted, by who; []
//  once it is closed. The expert of a place a peer holds (EXPN/3, a
//  team) takes part through that peer (node "peer:<name>") once the
//  peer's STATUS accepted gave their box key.
json_t *en_bstore_convo_participants (en_bstore_t *self, const char *request_id);
//  Keep the box key of the expert who accepted place, which a peer
//  holds (its STATUS accepted). 0 or -1.
int en_bstore_place_box_key_put (en_bstore_t *self, const char *request_id, int64_t place, const char *box_key);
//  The experts who accepted the places of request held here, closed or
//  not: [{who, node}], by who (a team's place held for a peer broker).
json_t *en_bstore_convo_place_experts (en_bstore_t *self, const char *request_id);
//  Requests with a conversation in which an expert of node takes part:
//  [{id}].
json_t *en_bstore_convo_of_node (en_bstore_t *self, const char *node);
//  The participants last told (MEMBERS), [] if never; and to keep them.
json_t *en_bstore_convo_members (en_bstore_t *self, const char *request_id);
int en_bstore_convo_members_put (en_bstore_t *self, const char *request_id, json_t *members);
//  Record a message's metadata (never its text) as the request's next
//  seq. Returns the seq, or -1 (a store error, or msg_id known).
int64_t en_bstore_convo_append (en_bstore_t *self, const char *request_id, const char *sender, const char *kind,
                                int64_t at, const char *digest, const char *msg_id);
//  Its messages' metadata by seq: [{seq, sender, kind, at, digest}]; one.
json_t *en_bstore_convo_messages (en_bstore_t *self, const char *request_id);
json_t *en_bstore_convo_message (en_bstore_t *self, const char *request_id, int64_t seq);
//  A read receipt; fresh says whether it is new. 0 or -1.
int en_bstore_convo_receipt_put (en_bstore_t *self, const char *request_id, int64_t seq, const char *reader,
                                 int64_t at, bool *fresh);
//  Follow-up (en_followup). Set a request's review date (ms) and arm its
//  reminder. 0 or -1.
int en_bstore_review_set (en_bstore_t *self, const char *request_id, int64_t review_at);
//  Armed review dates at or before now: [{id, review_at}], earliest
//  first, at most limit (by index).
json_t *en_bstore_reviews_due (en_bstore_t *self, int64_t now, int limit);
//  The reminder of request_id went (in the transaction of its event).
int en_bstore_review_fired (en_bstore_t *self, const char *request_id);
//  Requests not closed whose review date is at or before now: [{id,
//  region, urgency, question_type, state, review_at}], most overdue
//  first, at most limit (by index).
json_t *en_bstore_reviews_overdue (en_bstore_t *self, int64_t now, int limit);
//  The participants of a request: the accepted offers of its places not
//  closed (a place an operator closed keeps its accepted offer, but its
//  expert no longer takes part), oldest first.
json_t *en_bstore_participants (en_bstore_t *self, const char *request_id);

//  Moreel beraad: a request's {request_id, times (array of ms), fixed_at,
//  held_at} or NULL; and writing it (0 for fixed_at or held_at: none).
json_t *en_bstore_beraad (en_bstore_t *self, const char *request_id);
int en_bstore_beraad_put (en_bstore_t *self, const char *request_id, json_t *times, int64_t fixed_at,
                          int64_t held_at);

#endif
