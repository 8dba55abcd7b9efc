/*  en_fedroute - routing with peer brokers (docs/protocol.md, "Federation").

    The router (en_router.c) routes a request among this broker's own
    experts; when nobody here can take it, this module hands it to a peer
    broker that advertises room for it, follows it there, and takes back
    what peers send about it. It is federation's half of routing, and it
    talks to the local router only through the route/transition interface
    in en_router.h (en_router_transition, en_router_route, ...): every
    change of a request's state still goes through the request state
    machine there. The links themselves (LINK, PING, ADVERT, the outbox
    per peer) are en_fed.c's; this module only queues messages for peers.

    It works on one place of a request at a time (EXPN/3, a team): a
    place nobody here can take goes to a peer on its own, the FORWARD
    names it, and the peer makes a request of that place, keeping its
    number, so what the peer says about it (STATUS, naming the place and
    its place_state) is mirrored onto it here. A request of one place is
    place 1 of the same path. The peer holding a place, and every
    forward, are the place's (en_bstore: places.peer, forwards by
    (request, place, peer)). A peer may hold several places of one
    request: a FORWARD of a further place of a request it holds from the
    same origin (peer, origin node, key, the very same signed SUBMIT)
    adds that place to its request (s_forward_place), one it holds
    already is a redelivery taken once. What concerns the whole request
    (CLOSE, REVIEW, BERAAD) goes once to each peer holding a place
    (en_fedroute_relayed_before); the peer reports a change of its whole
    request with a STATUS per place (en_router.c, s_status_places).

    Outgoing:
      * pick and hand over: the best peer that advertises a free place for
        the place's role and tags, a link that is up first, within the hop
        budget, never one the request passed (en_fedroute_pick,
        en_fedroute_hand_over);
      * give back a peer's request nobody here can take (returned);
      * relay a node's CLOSE, DOSSIER, REPLY, REVIEW or BERAAD about a
        place a peer holds, with the origin's signature (relayed);
      * recall a place from a peer, for an operator (RECALL).
    Incoming (en_router_handle_peer dispatches here):
      * FORWARD: a carried SUBMIT becomes a request of the place it names
        here (origin "peer:<name>"); a carried CLOSE, DOSSIER, REPLY,
        REVIEW or BERAAD is handled here or relayed on, checked end to end against the
        origin's key;
      * STATUS from the peer holding a place: mirrored onto that place and
        passed on to the origin ("returned": routed on here);
      * RECALL from the peer a request came from;
      * a final ERROR for a FORWARD (en_fedroute_forward_refused): as
        "returned"; for a relayed message, the event relay-refused that
        the origin hears.
*/
#include "en_fedroute.h"
#include "en_followup.h"
#include <sodium.h>

struct _en_fedroute_t {
    en_router_t *router;        //  the local router we route through (not owned)
    en_bstore_t *store;         //  broker store (not owned)
    char *name;                 //  broker name, sender of our messages
    en_metrics_t *metrics;      //  counters (not owned), or NULL
    bool forward;               //  hand requests to peer brokers
    int64_t max_hops;           //  brokers a request may pass beyond its own
    int64_t crisis_local_offers;        //  crisis: local offers before going national (0: no limit)
    en_router_link_fn *link_fn; //  is a peer's link up? NULL: no federation
    void *link_arg;             //  link_fn's argument
};

#define PEER_PREFIX "peer:"

en_fedroute_t *
en_fedroute_new (en_router_t *router, en_bstore_t *store, const char *broker_name)
{
    en_fedroute_t *self = (en_fedroute_t *) zmalloc (sizeof (en_fedroute_t));
    assert (self);
    self->router = router;
    self->store = store;
    self->name = strdup (broker_name);
    self->forward = true;
    self->max_hops = 2;
    self->crisis_local_offers = 2;
    return self;
}

void
en_fedroute_destroy (en_fedroute_t **self_p)
{
    assert (self_p);
    en_fedroute_t *self = *self_p;
    if (self) {
        free (self->name);
        free (self);
        *self_p = NULL;
    }
}

void
en_fedroute_configure (en_fedroute_t *self, bool forward, int64_t max_hops, int64_t crisis_local_offers,
                       en_router_link_fn *link_fn, void *link_arg)
{
    self->forward = forward;
    self->max_hops = max_hops;
    self->crisis_local_offers = crisis_local_offers;
    self->link_fn = link_fn;
    self->link_arg = link_arg;
}

void
en_fedroute_set_metrics (en_fedroute_t *self, en_metrics_t *metrics)
{
    self->metrics = metrics;
}

bool
en_fedroute_from_peer (json_t *request)
{
    const char *origin = en_json_str (request, "origin");
    return origin && strncmp (origin, PEER_PREFIX, strlen (PEER_PREFIX)) == 0;
}

bool
en_fedroute_relayed_before (json_t *places, size_t index)
{
    const char *peer = en_json_str (json_array_get (places, index), "peer");
    for (size_t earlier = 0; peer && earlier < index; earlier++) {
        json_t *place = json_array_get (places, earlier);
        if (streq (en_json_str (place, "peer") ?: "", peer) && !streq (en_json_str (place, "state"), "closed"))
            return true;
    }
    return false;
}

bool
en_fedroute_national_first (en_fedroute_t *self, json_t *request)
{
    return self->crisis_local_offers > 0
        && streq (en_json_str (request, "urgency"), "crisis")
        && en_bstore_place_offer_count (self->store, en_json_str (request, "id"), en_json_int (request, "place", 1))
           >= self->crisis_local_offers;
}

//  Queue a reliable message to a peer broker; msg_id (33 bytes, or NULL)
//  gets the message's id.
static int
s_send_peer (en_fedroute_t *self, const char *peer, const char *command, json_t *body, char *msg_id)
{
    char dest [80];
    snprintf (dest, sizeof dest, PEER_PREFIX "%s", peer);
    en_msg_t *msg = en_msg_new (command, self->name, body);
    if (msg_id)
        snprintf (msg_id, 33, "%s", en_msg_id (msg));
    int rc = en_outbox_put (en_bstore_outbox (self->store), dest, msg);
    en_msg_destroy (&msg);
    return rc;
}

int
en_fedroute_anchor (en_fedroute_t *self, const char *peer, json_t *body)
{
    return peer ? s_send_peer (self, peer, "ANCHOR", body, NULL) : (json_decref (body), -1);
}

//  The brokers a request has passed, ending with this one.
static json_t *
s_visited (en_fedroute_t *self, json_t *request)
{
    json_t *visited = json_object_get (request, "visited");
    if (json_is_array (visited) && json_array_size (visited) > 0)
        return json_deep_copy (visited);
    return json_pack ("[s]", self->name);
}

//  The best peer to hand request to (caller owns the name), or NULL: one
//  that advertises a free place for it (role and every tag), a peer whose
//  link is up before one whose link is down (the FORWARD then waits on
//  disk until the link heals), then fewest hops, most free places. A
//  crisis request is never queued behind a link that is down: it cannot
//  wait for a repair, so it goes to a peer that is up or stays here
//  (escalation). Peers it already passed or was handed to are skipped
//  (loop prevention), and so is every route longer than the hop limit.
char *
en_fedroute_pick (en_fedroute_t *self, json_t *request, bool again)
{
    if (!self->forward || !self->link_fn || !en_json_str (request, "sign_key"))
        return NULL;
    json_t *visited = s_visited (self, request);
    int64_t budget = self->max_hops - ((int64_t) json_array_size (visited) - 1);
    //  The place's roles and tags (request is as the place sees it)
    const char *roles [EN_MAX_PLACES + 1] = { NULL };
    json_t *place_roles = json_object_get (request, "roles");
    for (size_t i = 0; i < EN_MAX_PLACES && i < json_array_size (place_roles); i++)
        roles [i] = json_string_value (json_array_get (place_roles, i));
    json_t *rows = budget >= 1
        ? en_bstore_peer_candidates (self->store, request, roles, visited, budget, again)
        : json_array ();
    const char *best = NULL;
    bool best_up = false;
    bool crisis = streq (en_json_str (request, "urgency"), "crisis");
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row) {
        int state = self->link_fn (en_json_str (row, "peer"), self->link_arg);
        if (state < 0 || (crisis && state == 0))
            continue;           //  no longer a configured peer, or down for a crisis
        if (!best || (state == 1 && !best_up)) {
            best = en_json_str (row, "peer");
            best_up = state == 1;
        }
        if (best_up)
            break;
    }
    //  Only a request whose signed SUBMIT we keep can be carried
    json_t *submit = best ? en_bstore_request_submit (self->store, en_json_str (request, "id")) : NULL;
    char *peer = json_is_object (json_object_get (submit, "submit")) ? strdup (best) : NULL;
    json_decref (submit);
    json_decref (rows);
    json_decref (visited);
    return peer;
}

int
en_fedroute_hand_over (en_fedroute_t *self, json_t *request, const char *peer)
{
    const char *id = en_json_str (request, "id");
    json_t *submit = en_bstore_request_submit (self->store, id);
    json_t *carried = json_object_get (submit, "submit");
    if (!json_is_object (carried)) {
        json_decref (submit);
        return -1;
    }
    char msg_id [33];
    int64_t place = en_json_int (request, "place", 1);
    //  The place it is for (EXPN/3): the peer takes that place only
    int rc = s_send_peer (self, peer, "FORWARD",
                          json_pack ("{s:O, s:s, s:o, s:I}", "message", carried,
                                     "sign_key", en_json_str (request, "sign_key"),
                                     "visited", s_visited (self, request), "place", (json_int_t) place), msg_id)
          || en_bstore_forward (self->store, id, place, peer, msg_id)
          || en_router_transition (self->router, request, "forwarded", "forwarded", NULL, peer,
                                   json_pack ("{s:s}", "peer", peer)) ? -1 : 0;
    if (rc == 0)
        en_metrics_count (self->metrics, EN_METRIC_ROUTING, "forwarded", 1);
    json_decref (submit);
    return rc;
}

//  A request from a peer that nobody here can take goes back to that
//  peer, which routes it on (another peer, its own escalation, a hiaat).
int
en_fedroute_give_back (en_fedroute_t *self, json_t *request)
{
    en_metrics_count (self->metrics, EN_METRIC_ROUTING, "returned", 1);
    return en_router_transition (self->router, request, "returned", "returned", NULL, "no expert available", NULL);
}

//  Pass a node's message about a request that is with a peer broker on
//  to that peer (CLOSE, DOSSIER, REPLY), carried with the origin's signature and
//  key: the broker that holds the request checks both.
static int
s_relay (en_fedroute_t *self, json_t *request, json_t *carried, const char *sign_key, en_error_t *error)
{
    const char *id = en_json_str (request, "id");
    const char *peer = en_json_str (request, "peer");
    char detail [128], msg_id [33];
    snprintf (detail, sizeof detail, "%s to %s", en_json_str (carried, "command"), peer);
    //  Kept by the FORWARD's id: a refusal there is told to the team
    int rc = !sign_key
          || s_send_peer (self, peer, "FORWARD", json_pack ("{s:O, s:s, s:o}", "message", carried,
                          "sign_key", sign_key, "visited", s_visited (self, request)), msg_id)
          || en_bstore_relay_put (self->store, peer, msg_id, id, en_json_int (request, "place", 1),
                                  en_json_str (carried, "command"))
          || en_router_record (self->router, id, "relayed", NULL, detail);
    if (rc == 0)
        en_db_log (en_bstore_db (self->store), "request %s: %s", id, detail);
    return rc ? en_router_failed (self->router, error) : 0;
}

//  A node's own message about a request that is with a peer: relay it.
//  The broker holding the request checks it against the key the request
//  was signed with; a node that has new keys since is told here, not
//  lost on the way.
int
en_fedroute_relay_own (en_fedroute_t *self, json_t *request, en_msg_t *msg, const unsigned char *sender_key,
                       en_error_t *error)
{
    char key [65] = "";
    if (sender_key)
        sodium_bin2hex (key, sizeof key, sender_key, 32);
    if (sender_key && !streq (en_json_str (request, "sign_key") ?: "", key))
        return en_error_set (error, EN_ERR_FORBIDDEN,
                             "request '%s' was signed with an earlier key of this node and is with peer '%s': "
                             "its operators can close it there", en_json_str (request, "id"),
                             en_json_str (request, "peer"));
    json_t *carried = en_msg_export (msg);
    int rc = s_relay (self, request, carried, sender_key ? key : NULL, error);
    json_decref (carried);
    return rc;
}

//  An operator takes back a request that is with a peer broker (its link
//  dead, or the peer silent): RECALL to the peer (it withdraws its offers
//  when the message arrives), and the request is routed again here, that
//  peer skipped. Not once the peer reported an accepting expert.
int
en_fedroute_recall (en_fedroute_t *self, const char *operator_name, json_t *request, const char *reason,
                    en_error_t *error)
{
    const char *id = en_json_str (request, "id");
    const char *peer = en_json_str (request, "peer");
    const char *state = en_json_str (request, "state");
    if (!peer || streq (state, "closed"))
        return en_error_set (error, EN_ERR_CONFLICT, "request '%s' is not with a peer broker", id);
    if (streq (state, "accepted") || streq (state, "advice") || streq (state, "monitoring"))
        return en_error_set (error, EN_ERR_CONFLICT, "request '%s' was accepted by %s of %s: close it instead",
                             id, en_json_str (request, "expert") ?: "an expert", peer);
    char held [64], detail [600];
    snprintf (held, sizeof held, "%s", peer);
    snprintf (detail, sizeof detail, "%s: %s (recalled from %s)", operator_name, reason, held);
    int64_t place = en_json_int (request, "place", 1);
    int rc = 0;
    if (en_bstore_forward_end (self->store, id, place, held, "recalled")
    ||  s_send_peer (self, held, "RECALL", json_pack ("{s:s, s:I}", "request", id, "place", (json_int_t) place), NULL)
    ||  en_router_transition (self->router, request, "submitted", "operator-recall", NULL, detail, NULL)
    ||  en_router_route (self->router, request))
        rc = en_router_failed (self->router, error);
    else
        en_db_log (en_bstore_db (self->store), "request %s: recalled from %s by operator %s", id, held, operator_name);
    return rc;
}

//  A CLOSE, DOSSIER, REPLY, REVIEW or BERAAD of the origin node, carried
//  from a peer: handled as the origin's, by the same handlers, place by
//  place: a place held here here, a place handed on by a relay to its
//  peer (once per peer for what concerns the whole request), with the
//  origin's key (sign_key).
static int
s_forwarded_relay (en_fedroute_t *self, const char *peer, const char *origin, en_msg_t *inner,
                   const char *sign_key, en_error_t *error)
{
    const char *request_id = en_json_str (en_msg_body (inner), "request");
    json_t *request = en_id_valid (request_id) ? en_bstore_request (self->store, request_id) : NULL;
    int rc = 0;
    if (!request)
        rc = en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s'", request_id ? request_id : "");
    else
    if (!streq (en_json_str (request, "origin"), origin)
    ||  !streq (en_json_str (request, "origin_node") ?: "", en_msg_sender (inner)))
        rc = en_error_set (error, EN_ERR_FORBIDDEN, "request '%s' did not come from %s through '%s'",
                           request_id, en_msg_sender (inner), peer);
    else
    //  End to end: signed with the key the request itself was signed
    //  with, not merely one a broker on the way vouches for
    if (!streq (en_json_str (request, "sign_key") ?: "", sign_key))
        rc = en_error_set (error, EN_ERR_FORBIDDEN, "%s for '%s' is not signed with the key of its origin %s",
                           en_msg_command (inner), request_id, en_msg_sender (inner));
    else
    //  Handled as the origin's own, place by place: what this broker
    //  holds here, and a relay (with the origin's key, checked above) to
    //  each further peer holding a place of it
    if (streq (en_msg_command (inner), "CLOSE"))
        rc = en_router_close (self->router, origin, inner, error);
    else
    if (streq (en_msg_command (inner), "REVIEW"))
        rc = en_followup_review (self->router, origin, inner, error);
    else
    if (streq (en_msg_command (inner), "BERAAD"))
        rc = en_followup_beraad (self->router, origin, inner, error);
    else
        rc = en_router_sealed (self->router, origin, inner, error);
    json_decref (request);
    return rc;
}

//  Check a FORWARD's envelope: the brokers it passed (no loop, the
//  sending peer last) and the origin's key, which goes into key (32
//  bytes) and, lower case as stored and compared, into key_hex (65).
static int
s_forward_envelope (en_fedroute_t *self, const char *peer, json_t *body, unsigned char *key, char *key_hex,
                    en_error_t *error)
{
    json_t *visited = json_object_get (body, "visited");
    const char *given = en_json_str (body, "sign_key");
    if (!json_is_object (json_object_get (body, "message")))
        return en_error_set (error, EN_ERR_INVALID, "field 'message' must be the carried message");
    if (!json_is_array (visited) || json_array_size (visited) == 0 || json_array_size (visited) > 16)
        return en_error_set (error, EN_ERR_INVALID, "field 'visited' must list 1 to 16 brokers");
    size_t index;
    json_t *name;
    json_array_foreach (visited, index, name) {
        if (!en_name_valid (json_string_value (name)))
            return en_error_set (error, EN_ERR_INVALID, "visited[%zu] is not a broker name", index);
        if (streq (json_string_value (name), self->name))
            return en_error_set (error, EN_ERR_CONFLICT, "loop: the request already passed broker '%s'",
                                 self->name);
    }
    if (!streq (json_string_value (json_array_get (visited, json_array_size (visited) - 1)), peer))
        return en_error_set (error, EN_ERR_FORBIDDEN, "the forwarding broker must be the last in 'visited'");
    size_t size = 0;
    if (!given || strlen (given) != 64
    ||  sodium_hex2bin (key, 32, given, 64, NULL, &size, NULL) || size != 32)
        return en_error_set (error, EN_ERR_INVALID, "field 'sign_key' must be 64 hex digits");
    sodium_bin2hex (key_hex, 65, key, 32);
    return 0;
}

//  A SUBMIT carried by a peer for a request held here already (held): a
//  place of a team whose other place that peer handed over before. The
//  same request (from the same peer, origin node and key, the very same
//  signed SUBMIT) gets the place and routes it; the place it has already
//  is a FORWARD delivered again, taken once (0, nothing written), unless
//  it was given back or recalled here (409: the sender routes it on, as
//  for a refusal). Any other request of that id is refused (409).
static int
s_forward_place (en_fedroute_t *self, const char *origin, en_msg_t *inner, json_t *held, int64_t number,
                 const char *key_hex, const char *detail, en_error_t *error)
{
    const char *id = en_json_str (held, "id");
    json_t *stored = en_bstore_request_submit (self->store, id);
    json_t *carried = en_msg_export (inner);
    bool same = streq (en_json_str (held, "origin"), origin)
             && streq (en_json_str (held, "origin_node") ?: "", en_msg_sender (inner))
             && streq (en_json_str (held, "sign_key") ?: "", key_hex)
             && json_equal (json_object_get (stored, "submit"), carried);
    json_decref (carried);
    json_decref (stored);
    if (!same)
        return en_error_set (error, EN_ERR_CONFLICT, "request id '%s' already exists", id);
    json_t *place = en_bstore_request_place (self->store, id, number);
    const char *state = place ? en_json_str (place, "state") : NULL;
    int rc = 0;
    if (state && (streq (state, "returned") || streq (state, "recalled")))
        rc = en_error_set (error, EN_ERR_CONFLICT, "place %lld of request '%s' was %s here",
                           (long long) number, id, state);
    else
    if (state)
        zsys_info ("request %s: place %lld from %s again, held already (%s): taken once", id, (long long) number,
                   origin, state);
    else
        rc = en_router_submit_place (self->router, json_object_get (en_msg_body (inner), "request"), number,
                                     detail, error);
    json_decref (place);
    return rc;
}

//  A SUBMIT carried by a peer: the request is created here, with origin
//  "peer:<peer>" and the brokers it passed plus this one, and routed; a
//  further place of a request held here already is added to it
//  (s_forward_place).
static int
s_forward_submit (en_fedroute_t *self, const char *peer, const char *origin, en_msg_t *inner,
                  json_t *visited, json_t *place, const char *key_hex, en_error_t *error)
{
    json_t *summary = json_object_get (en_msg_body (inner), "request");
    if ((int64_t) json_array_size (visited) > self->max_hops)
        return en_error_set (error, EN_ERR_CONFLICT, "hop limit: the request passed %zu brokers",
                             json_array_size (visited));
    if (en_request_validate (summary, error))
        return -1;
    //  One place of it comes here (EXPN/3): the one `place` names, with
    //  the role and tags the origin signed; a request of one place may
    //  leave it out
    int64_t places = (int64_t) json_array_size (json_object_get (summary, "places"));
    int64_t number = place ? json_integer_value (place) : 1;
    if ((place && !json_is_integer (place)) || number < 1 || number > (places > 1 ? places : 1)
    ||  (!place && places > 1))
        return en_error_set (error, EN_ERR_INVALID, "field 'place' must name a place of request '%s' (1 to %lld)",
                             en_json_str (summary, "id"), (long long) (places > 1 ? places : 1));
    if (en_router_guard_request (self->router, summary, error))
        return -1;
    char detail [200];
    snprintf (detail, sizeof detail, "from %s of %s, through %s", en_msg_sender (inner),
              json_string_value (json_array_get (visited, 0)), peer);
    json_t *held = en_bstore_request (self->store, en_json_str (summary, "id"));
    if (held) {
        int rc = s_forward_place (self, origin, inner, held, number, key_hex, detail, error);
        json_decref (held);
        return rc;
    }
    json_t *path = json_deep_copy (visited);
    json_array_append_new (path, json_string (self->name));
    int rc = en_router_submit (self->router, origin, inner, summary, key_hex, en_msg_sender (inner), path, number,
                               detail, error);
    json_decref (path);
    return rc;
}

//  FORWARD: a node's signed message carried by a peer broker, with the
//  node's signing key (vouched for by the peer, whose own signature on
//  the FORWARD the broker has checked) and the brokers it passed.
int
en_fedroute_handle_forward (en_fedroute_t *self, const char *peer, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    unsigned char key [32];
    char key_hex [65];
    if (s_forward_envelope (self, peer, body, key, key_hex, error))
        return -1;
    json_t *carried = json_object_get (body, "message");
    en_msg_t *inner = en_msg_import (carried, error);
    if (!inner)
        return -1;
    char origin [80];
    snprintf (origin, sizeof origin, PEER_PREFIX "%s", peer);
    const char *command = en_msg_command (inner);
    int rc = 0;
    if (!en_msg_verify (inner, key))
        rc = en_error_set (error, EN_ERR_FORBIDDEN, "the origin signature of %s %s does not verify",
                           command, en_msg_id (inner));
    else
    //  No age limit for the carried message: a request may rightly be
    //  forwarded days after it was submitted (expiries, an operator's
    //  re-offer), the FORWARD around it passed the time check, and a
    //  place of a request is taken only once here. Only the future is
    //  suspect.
    if (en_msg_timestamp (inner) > en_now_ms () + EN_MAX_SKEW_MS)
        rc = en_error_set (error, EN_ERR_FORBIDDEN, "the carried %s is dated in the future (clock skew?)", command);
    else
    if (streq (command, "SUBMIT"))
        rc = s_forward_submit (self, peer, origin, inner, json_object_get (body, "visited"),
                               json_object_get (body, "place"), key_hex, error);
    else
    if (streq (command, "CLOSE") || streq (command, "DOSSIER") || streq (command, "REPLY")
    ||  streq (command, "REVIEW") || streq (command, "BERAAD")) {
        //  The node whose message is handled is the origin: its key is
        //  the one relays on to further peers are checked against
        en_router_set_sender_key (self->router, key);
        rc = s_forwarded_relay (self, peer, origin, inner, key_hex, error);
        en_router_set_sender_key (self->router, NULL);
    }
    else
        rc = en_error_set (error, EN_ERR_BAD_REQUEST, "FORWARD carries SUBMIT, CLOSE, DOSSIER, REPLY, REVIEW or "
                           "BERAAD, not %s", command);
    en_msg_destroy (&inner);
    return rc;
}

//  The state a peer's STATUS reports for the place it is about: its
//  `place_state` (EXPN/3: the peer's request, whose state is `state`, may
//  hold other places of it too), else `state`.
static const char *
s_status_state (json_t *body)
{
    return en_json_str (body, "place_state") ?: en_json_str (body, "state");
}

//  A STATUS from a peer we recalled the request from: the peer acted
//  before our RECALL reached it. Say so where operators look, and take
//  the message (refusing it would only make the peer drop it).
static int
s_status_late (en_fedroute_t *self, const char *peer, json_t *body, en_error_t *error)
{
    const char *state = s_status_state (body);
    const char *expert = en_json_str (body, "expert");
    char note [700];
    snprintf (note, sizeof note, "%s after the recall: %s %s%s", peer, en_json_str (body, "event"),
              expert ? expert : "",
              streq (state, "accepted") || streq (state, "advice") ? " (an expert there has it: settle with them)" : "");
    zsys_warning ("request %s: %s", en_json_str (body, "request"), note);
    if (en_bstore_event (self->store, en_json_str (body, "request"), "late-status", expert, note))
        return en_router_failed (self->router, error);
    return 0;
}

//  The peer found nobody and gave the request back: route it on here.
static int
s_status_returned (en_fedroute_t *self, const char *peer, json_t *request, json_t *body, en_error_t *error)
{
    const char *request_id = en_json_str (request, "id");
    const char *detail = en_json_str (body, "detail");
    char reason [700];
    snprintf (reason, sizeof reason, "%s: %s", peer, detail ? detail : "no expert available");
    //  It was handed over because the peer advertised room for it
    en_metrics_count (self->metrics, EN_METRIC_FED_RETURNED, peer, 1);
    zsys_warning ("federation: %s gave back request %s although it advertised room for it", peer, request_id);
    if (en_bstore_forward_end (self->store, request_id, en_json_int (request, "place", 1), peer, "returned")
    ||  en_router_transition (self->router, request, "submitted", "returned", NULL, reason, NULL)
    ||  en_router_route (self->router, request))
        return en_router_failed (self->router, error);
    return 0;
}

//  Mirror the peer's state and event, and pass them on to the origin
//  with what the peer said and through whom ("via"). The echo of what
//  the origin's broker did for the whole request itself (a review date's
//  event, a beraad's proposal, fixed time, meeting: relayed to the peer,
//  EXPN/3) is an event of the place only: the origin heard it once.
static int
s_status_mirror (en_fedroute_t *self, const char *peer, json_t *request, json_t *body, en_error_t *error)
{
    static const char *echoes [] = { "review-due", "beraad-proposed", "beraad-fixed", "beraad-held", NULL };
    if (en_vocab_has (echoes, en_json_str (body, "event")))
        return en_router_apply (self->router, request, s_status_state (body), en_json_str (body, "event"),
                                en_json_str (body, "expert"), en_json_str (body, "detail"))
             ? en_router_failed (self->router, error) : 0;
    //  and what follow-up events carry: a review date, beraad times
    static const char *passed [] = { "offer", "deadline", "advice", "box_key", "via", "review_at", "times",
                                     "available", NULL };
    const char *state = s_status_state (body);
    const char *detail = en_json_str (body, "detail");
    json_t *extra = json_object ();
    for (int i = 0; passed [i]; i++)
        if (json_object_get (body, passed [i]))
            json_object_set (extra, passed [i], json_object_get (body, passed [i]));
    if (!json_object_get (extra, "via"))
        json_object_set_new (extra, "via", json_string (peer));
    char via [100];
    snprintf (via, sizeof via, "via %s", en_json_str (extra, "via"));
    //  en_router_transition takes extra; when it is not reached, extra goes
    //  The box key of a team's expert there: they take part in the
    //  conversation held here (en_convo)
    const char *box_key = en_json_str (body, "box_key");
    bool keyed = box_key && streq (en_json_str (body, "event") ?: "", "accepted")
              && strlen (box_key) == 64 && strspn (box_key, "0123456789abcdef") == 64;
    if ((keyed && en_bstore_place_box_key_put (self->store, en_json_str (request, "id"),
                                               en_json_int (request, "place", 1), box_key))
    ||  (streq (state, "closed")
    &&  en_bstore_forward_end (self->store, en_json_str (request, "id"), en_json_int (request, "place", 1), peer,
                               "closed"))) {
        json_decref (extra);
        return en_router_failed (self->router, error);
    }
    if (en_router_transition (self->router, request, state, en_json_str (body, "event"), en_json_str (body, "expert"),
                              detail ? detail : via, extra))
        return en_router_failed (self->router, error);
    return 0;
}

//  A STATUS from the peer a request was handed to: mirror its state and
//  pass it on to where the request came from. "returned" means the peer
//  found nobody: route it on here.
int
en_fedroute_handle_status (en_fedroute_t *self, const char *peer, en_msg_t *msg, en_error_t *error)
{
    static const char *states [] = { "forwarded", "offered", "escalated", "accepted", "advice",
                                     "monitoring", "closed", "returned", NULL };
    json_t *body = en_msg_body (msg);
    const char *request_id = en_json_str (body, "request");
    const char *state = s_status_state (body);
    const char *event = en_json_str (body, "event");
    const char *expert = en_json_str (body, "expert");
    const char *detail = en_json_str (body, "detail");
    if (!state || !en_vocab_has (states, state))
        return en_error_set (error, EN_ERR_INVALID, "field 'state' must be a request state");
    if (!event || !en_name_valid (event) || (expert && !en_name_valid (expert))
    ||  (detail && strlen (detail) > 600))
        return en_error_set (error, EN_ERR_INVALID, "fields 'event', 'expert' or 'detail' are not valid");
    json_t *given = json_object_get (body, "place");
    if (given && (!json_is_integer (given) || json_integer_value (given) < 1
                  || json_integer_value (given) > EN_MAX_PLACES))
        return en_error_set (error, EN_ERR_INVALID, "field 'place' must be a place number (1 to %d)", EN_MAX_PLACES);
    //  The place it is about: the one it names; a change of the whole
    //  request there (a close) names none: the place handed to that peer
    json_t *forward = en_id_valid (request_id)
        ? en_bstore_forward_of (self->store, request_id, given ? json_integer_value (given) : 0, peer) : NULL;
    int64_t place = given ? json_integer_value (given) : en_json_int (forward, "place", 1);
    json_t *request = en_id_valid (request_id) ? en_bstore_request_place (self->store, request_id, place) : NULL;
    bool recalled = forward && streq (en_json_str (forward, "state"), "recalled");
    json_decref (forward);
    int rc;
    if (!request)
        rc = en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s' with place %lld", request_id ? request_id : "",
                           (long long) place);
    else
    if (recalled)
        rc = s_status_late (self, peer, body, error);
    else
    if (!en_json_str (request, "peer") || !streq (en_json_str (request, "peer"), peer))
        rc = en_error_set (error, EN_ERR_FORBIDDEN, "request '%s' (place %lld) was not handed to '%s'", request_id,
                           (long long) place, peer);
    else
    if (streq (en_json_str (request, "state"), "closed"))
        rc = en_error_set (error, EN_ERR_CONFLICT, "request '%s' is closed", request_id);
    else
    if (streq (state, "returned"))
        rc = s_status_returned (self, peer, request, body, error);
    else
        rc = s_status_mirror (self, peer, request, body, error);
    json_decref (request);
    return rc;
}

//  RECALL from the peer that handed us a request: it takes the request
//  back (its operator recalled it). Open offers are withdrawn, a request
//  we handed on is recalled from there too, and it ends here "recalled"
//  without a STATUS. Once an expert here accepted it, it cannot be taken
//  back (409): the origin learns that from the STATUS already on its way.
int
en_fedroute_handle_recall (en_fedroute_t *self, const char *peer, en_msg_t *msg, en_error_t *error)
{
    const char *request_id = en_json_str (en_msg_body (msg), "request");
    //  The place it names (EXPN/3; the peer's request may hold several
    //  here); none: a request of one place, its first
    json_t *given = json_object_get (en_msg_body (msg), "place");
    int64_t place = json_is_integer (given) ? json_integer_value (given) : 0;
    json_t *request = en_id_valid (request_id) && (!given || place > 0)
                    ? en_bstore_request_place (self->store, request_id, place) : NULL;
    char origin [80];
    snprintf (origin, sizeof origin, PEER_PREFIX "%s", peer);
    int rc = 0;
    if (!request)
        rc = en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s'%s", request_id ? request_id : "",
                           given ? " with that place" : "");
    else
    if (!streq (en_json_str (request, "origin"), origin))
        rc = en_error_set (error, EN_ERR_FORBIDDEN, "request '%s' did not come from '%s'", request_id, peer);
    else {
        const char *state = en_json_str (request, "state");
        if (streq (state, "accepted") || streq (state, "advice") || streq (state, "monitoring")
        ||  streq (state, "closed"))
            rc = en_error_set (error, EN_ERR_CONFLICT, "request '%s' is %s here: too late to recall", request_id, state);
        else
        if (streq (state, "recalled") || streq (state, "returned"))
            ;                   //  nothing left to do
        else {
            const char *onward = en_json_str (request, "peer");
            int64_t held = en_json_int (request, "place", 1);
            char detail [200];
            snprintf (detail, sizeof detail, "%s took it back", peer);
            if ((onward && (en_bstore_forward_end (self->store, request_id, held, onward, "recalled")
                            || s_send_peer (self, onward, "RECALL", json_pack ("{s:s, s:I}", "request", request_id,
                                                                              "place", (json_int_t) held), NULL)))
            ||  en_router_withdraw_open (self->router, request, "withdrawn", NULL, NULL)
            ||  en_router_apply (self->router, request, "recalled", "recalled", NULL, detail))
                rc = en_router_failed (self->router, error);
            else
                en_db_log (en_bstore_db (self->store), "request %s: recalled by %s", request_id, peer);
        }
    }
    json_decref (request);
    return rc;
}

//  The peer refused a node's message we relayed to it (REVIEW, BERAAD,
//  CLOSE, DOSSIER, REPLY; a final ERROR for its FORWARD): nothing
//  happened there, and the team must hear it. The event relay-refused on
//  the place (its state unchanged), in the STATUS to the origin with the
//  peer, the command and why. A place closed since needs no word.
static int
s_relay_refused (en_fedroute_t *self, const char *peer, const char *msg_id, int code, const char *reason)
{
    json_t *relay = en_bstore_relay_by_msg (self->store, peer, msg_id);
    json_t *request = relay ? en_bstore_request_place (self->store, en_json_str (relay, "request_id"),
                                                       en_json_int (relay, "place", 1)) : NULL;
    //  Once: the peer's ERROR may come again before our ACK of it is sent
    int rc = relay ? en_bstore_relay_end (self->store, peer, msg_id) : 0;
    if (rc == 0 && request && !streq (en_json_str (request, "state"), "closed")
    &&  streq (en_json_str (request, "peer") ?: "", peer)) {
        const char *command = en_json_str (relay, "command");
        char detail [400];
        snprintf (detail, sizeof detail, "%s refused %s: %d %s", peer, command, code, reason ? reason : "");
        rc = en_router_transition (self->router, request, en_json_str (request, "state"), "relay-refused", NULL,
                                   detail, json_pack ("{s:s, s:s, s:i}", "peer", peer, "command", command,
                                                      "code", code));
        if (rc == 0)
            zsys_warning ("request %s: %s", en_json_str (request, "id"), detail);
    }
    json_decref (request);
    json_decref (relay);
    return rc;
}

int
en_fedroute_forward_refused (en_fedroute_t *self, const char *peer, const char *msg_id,
                             int code, const char *reason)
{
    json_t *forward = en_bstore_forward_by_msg (self->store, peer, msg_id);
    if (!forward)
        return s_relay_refused (self, peer, msg_id, code, reason);
    json_t *request = forward ? en_bstore_request_place (self->store, en_json_str (forward, "request_id"),
                                                         en_json_int (forward, "place", 1)) : NULL;
    int rc = 0;
    if (request && streq (en_json_str (forward, "state"), "open")
    &&  streq (en_json_str (request, "peer") ?: "", peer)) {
        char detail [400];
        snprintf (detail, sizeof detail, "%s refused it: %d %s", peer, code, reason ? reason : "");
        en_metrics_count (self->metrics, EN_METRIC_FED_RETURNED, peer, 1);
        rc = en_bstore_forward_end (self->store, en_json_str (request, "id"), en_json_int (request, "place", 1), peer,
                                    "refused")
          || en_router_transition (self->router, request, "submitted", "returned", NULL, detail, NULL)
          || en_router_route (self->router, request) ? -1 : 0;
    }
    json_decref (request);
    json_decref (forward);
    return rc;
}

