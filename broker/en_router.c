/*  en_router - routing of consultatieverzoeken.

    States of a request (docs/protocol.md has the diagram):

      submitted -> offered -> accepted -> advice -> closed
                      |  ^
         decline /    |  | next candidate
         expiry       v  |
                  (route again) -> escalated -> accepted ...
                                       |
                                       v
                                     hiaat

    Routing a request ("route"):
      1. candidates: active experts, present (absent_until passed), not yet
         offered this request, with free capacity (accepted cases plus
         open offers below capacity: an open offer reserves a place), whose
         role fits the question type (en_vocab_roles_for) and who hold all
         requested expertise tags; own region first, then least loaded,
         then most free capacity, then id;
      2. none: escalate to a bovenregionale procesregisseur (role
         procesregisseur, bovenregionaal), same ordering, tags not needed;
      3. none: the request becomes a hiaat.
    One offer is open per request at a time. Decline or expiry of that
    offer routes the request again; experts already offered are skipped.
    Load (accepted cases) and reserved places (open offers) are counted
    by store triggers on the offer and request rows themselves, so
    closing, declining or expiry frees capacity without this module
    keeping any counter in step; an expert is never offered more cases
    than they can take.

    A hiaat is not final at once: for a while after it became one (per
    urgency, en_router_set_hiaat_retry) en_router_retry_hiaten routes it
    again, and it moves on (event "rerouted" first) as soon as someone
    appears that it never had: an expert published or back, a place
    freed, a peer's link up or its advert. If still nobody, nothing is
    written: no event, no STATUS, no log line.

    The PII guard. The broker trusts no node, peer or operator to have
    kept personal data out of the text it stores: every free-text field
    it receives (a request's question and tags, whether from its node or
    carried by a peer in a FORWARD; a close outcome, advice, a decline
    reason; an operator's reason) passes en_pii here before anything is
    stored, and a finding refuses the message with 422 naming the field
    and the kind, as the node does. The broker knows no client names (the
    nodes do): it catches every kind but those names.

    Operators (the dashboard, en_router_operator) can move a request on
    by hand, with a reason: re-offer (withdraw the open offer, route
    again: experts whose offer of it expired unanswered are asked again,
    not who declined or whose offer was withdrawn; peers it was recalled
    from too, not those that gave it back; a hiaat for which there is
    still nobody stays as it was and the operator is told), escalate (withdraw, offer to a bovenregionale
    procesregisseur) or close. They use the same transitions as the
    nodes' messages, so the events, STATUS messages, capacity and access
    log stay as consistent as for any other change; the operator is the
    actor in the access log.
*/
#include "en_router.h"
#include <sodium.h>
#include <inttypes.h>

struct _en_router_t {
    en_bstore_t *store;         //  broker store (not owned)
    char *name;                 //  broker name, sender of our messages
    int64_t deadline [3];       //  offer deadline per urgency index, ms
    zlistx_t *regions;          //  regions of this province (strings)
    const char *actor;          //  who caused the transition being handled
    bool by_operator;           //  actor is an operator (dashboard, control socket)
    en_metrics_t *metrics;      //  counters and latencies (not owned), or NULL
    //  Federation
    bool forward;               //  hand requests to peer brokers
    int64_t max_hops;           //  brokers a request may pass beyond its own
    int64_t crisis_local_offers;        //  crisis: local offers before going national (0: no limit)
    en_router_link_fn *link_fn; //  is a peer's link up?
    void *link_arg;
    unsigned char sender_key [32];      //  signing key of the node being handled
    bool has_sender_key;
    //  Routing again
    int64_t hiaat_retry [3];    //  a hiaat is routed again this long after it became one, per urgency (0: never)
    bool again;                 //  an operator's re-offer: who let an offer expire is asked again
    const char *reopen_event;   //  routing a hiaat again: the event recorded before it moves, or NULL
    const char *reopen_detail;  //  that event's detail
    en_pii_t *pii;              //  the guard on every free text received
};

#define PEER_PREFIX "peer:"

en_router_t *
en_router_new (en_bstore_t *store, const char *broker_name)
{
    en_router_t *self = (en_router_t *) zmalloc (sizeof (en_router_t));
    assert (self);
    self->store = store;
    self->name = strdup (broker_name);
    self->deadline [0] = 10 * 60 * 1000;            //  crisis: 10 minutes
    self->deadline [1] = 4 * 3600 * 1000;           //  hoog: 4 hours
    self->deadline [2] = 3 * 86400 * 1000LL;        //  regulier: 3 days
    self->hiaat_retry [0] = 2 * 3600 * 1000LL;      //  crisis: 2 hours
    self->hiaat_retry [1] = 8 * 3600 * 1000LL;      //  hoog: 8 hours
    self->hiaat_retry [2] = 24 * 3600 * 1000LL;     //  regulier: 24 hours
    self->regions = zlistx_new ();
    zlistx_set_destructor (self->regions, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_duplicator (self->regions, (zlistx_duplicator_fn *) strdup);
    zlistx_set_comparator (self->regions, (zlistx_comparator_fn *) strcmp);
    self->forward = true;
    self->max_hops = 2;
    self->crisis_local_offers = 2;
    self->pii = en_pii_new ();
    return self;
}

void
en_router_destroy (en_router_t **self_p)
{
    assert (self_p);
    en_router_t *self = *self_p;
    if (self) {
        zlistx_destroy (&self->regions);
        en_pii_destroy (&self->pii);
        free (self->name);
        free (self);
        *self_p = NULL;
    }
}

void
en_router_set_deadline (en_router_t *self, const char *urgency, int64_t ms)
{
    int index = en_vocab_urgency_index (urgency);
    assert (index >= 0);
    self->deadline [index] = ms;
}

int64_t
en_router_deadline (en_router_t *self, const char *urgency)
{
    int index = en_vocab_urgency_index (urgency);
    return index >= 0 ? self->deadline [index] : self->deadline [2];
}

void
en_router_set_hiaat_retry (en_router_t *self, const char *urgency, int64_t ms)
{
    int index = en_vocab_urgency_index (urgency);
    assert (index >= 0 && ms >= 0);
    self->hiaat_retry [index] = ms;
}

void
en_router_set_metrics (en_router_t *self, en_metrics_t *metrics)
{
    self->metrics = metrics;
}

void
en_router_set_federation (en_router_t *self, bool forward, int64_t max_hops, int64_t crisis_local_offers,
                          en_router_link_fn *link_fn, void *link_arg)
{
    self->forward = forward;
    self->max_hops = max_hops;
    self->crisis_local_offers = crisis_local_offers;
    self->link_fn = link_fn;
    self->link_arg = link_arg;
}

void
en_router_set_sender_key (en_router_t *self, const unsigned char *key)
{
    self->has_sender_key = key != NULL;
    if (key)
        memcpy (self->sender_key, key, 32);
}

void
en_router_clear_regions (en_router_t *self)
{
    zlistx_purge (self->regions);
}

void
en_router_add_region (en_router_t *self, const char *region)
{
    if (!zlistx_find (self->regions, (void *) region))
        zlistx_add_end (self->regions, (void *) region);
}

//  Queue a reliable message to a node.
static int
s_send (en_router_t *self, const char *node, const char *command, json_t *body)
{
    en_msg_t *msg = en_msg_new (command, self->name, body);
    int rc = en_outbox_put (en_bstore_outbox (self->store), node, msg);
    en_msg_destroy (&msg);
    return rc;
}

//  The access log: every event of a request, who caused it (the node
//  whose message it was, or this broker for timers), on whose behalf
//  (the expert). Details and advice text are never logged.
static int
s_audit (en_router_t *self, const char *request_id, const char *event, const char *expert)
{
    static const char *actions [][2] = {
        { "submitted", "receive" }, { "offered", "send" }, { "escalated", "send" },
        { "accepted", "accept" }, { "declined", "update" }, { "expired", "update" },
        { "advice", "receive" }, { "closed", "update" }, { "hiaat", "create" },
        { "dossier", "send" }, { "forwarded", "send" }, { "returned", "update" },
        { "relayed", "send" }, { NULL, NULL } };
    const char *action = "update";
    for (int i = 0; actions [i][0]; i++)
        if (streq (actions [i][0], event))
            action = actions [i][1];
    char name [64];
    snprintf (name, sizeof name, "request.%s", event);
    en_audit_entry_t entry = {
        .event = name, .case_id = request_id, .actor = self->actor ? self->actor : self->name,
        .on_behalf = expert, .action = action, .outcome = "ok",
        .detail = self->by_operator ? "operator" : NULL };
    return en_audit_append (en_bstore_db (self->store), &entry);
}

//  The PII guard on what arrived as field (a JSON string, or any value
//  whose strings, keys and numbers are all free text): 0, or -1 with 422
//  naming the field and the kind, never the text.
static int
s_guard (en_router_t *self, const char *field, json_t *value, en_error_t *error)
{
    en_pii_finding_t finding;
    if (en_pii_check_json (self->pii, field, value, &finding) == 0)
        return 0;
    zsys_warning ("PII guard refused a message from %s: %s in field %s; nothing stored",
                  self->actor ? self->actor : "?", finding.kind, finding.field);
    char found [160];
    return en_error_set (error, EN_ERR_INVALID, "%s; nothing was stored (remove it; the summary must not "
                         "identify the child)", en_pii_describe (&finding, found, sizeof found));
}

//  The same for one text (NULL passes).
static int
s_guard_text (en_router_t *self, const char *field, const char *text, en_error_t *error)
{
    json_t *value = text ? json_string (text) : NULL;
    int rc = value ? s_guard (self, field, value, error) : 0;
    json_decref (value);
    return rc;
}

//  A request summary: every field but the ones whose form the validator
//  already fixed and that may look like numbers (id, region, case).
static int
s_guard_request (en_router_t *self, json_t *summary, en_error_t *error)
{
    json_t *checked = json_deep_copy (summary);
    json_object_del (checked, "id");
    json_object_del (checked, "region");
    json_object_del (checked, "case");
    int rc = s_guard (self, "request", checked, error);
    json_decref (checked);
    return rc;
}

//  Record a transition: request state, event, and a STATUS to the origin
//  node (extra fields merged into the STATUS body, reference stolen).
static int
s_transition (en_router_t *self, json_t *request, const char *state, const char *event,
              const char *expert, const char *detail, json_t *extra)
{
    const char *id = en_json_str (request, "id");
    //  The assigned expert: set on accept, kept through advice and close.
    const char *assigned = NULL;
    if (streq (state, "accepted"))
        assigned = expert ? expert : en_json_str (request, "expert");
    else
    if (streq (state, "advice") || streq (state, "closed"))
        assigned = en_json_str (request, "expert");
    int rc = en_bstore_request_update (self->store, id, state, assigned)
          || en_bstore_event (self->store, id, event, expert, detail)
          || s_audit (self, id, event, expert);
    json_t *body = extra ? extra : json_object ();
    json_object_set_new (body, "request", json_string (id));
    json_object_set_new (body, "state", json_string (state));
    json_object_set_new (body, "event", json_string (event));
    json_object_set_new (body, "at", json_integer (en_now_ms ()));
    if (expert)
        json_object_set_new (body, "expert", json_string (expert));
    if (detail)
        json_object_set_new (body, "detail", json_string (detail));
    rc |= s_send (self, en_json_str (request, "origin"), "STATUS", body);
    en_db_log (en_bstore_db (self->store), "request %s: %s%s%s", id, event, expert ? " " : "", expert ? expert : "");
    //  Last: state may point into request's current value
    json_object_set_new (request, "state", json_string (state));
    return rc ? -1 : 0;
}

//  A hiaat routed again found someone: record why it moves (once, just
//  before the transition that moves it, so nothing is written when it
//  finds nobody). Back to "submitted", as a returned request: the origin
//  must not take the STATUS for a second hiaat.
static int
s_reopen (en_router_t *self, json_t *request)
{
    if (!self->reopen_event)
        return 0;
    const char *event = self->reopen_event;
    self->reopen_event = NULL;
    return s_transition (self, request, "submitted", event, NULL, self->reopen_detail, NULL);
}

//  The next candidate: everyone not offered this request before, or, for
//  an operator's re-offer, also who let an earlier offer of it expire.
static json_t *
s_candidate (en_router_t *self, json_t *summary, const char **roles, bool escalation, int64_t now)
{
    return self->again ? en_bstore_candidate_again (self->store, summary, roles, escalation, now)
                       : en_bstore_candidate (self->store, summary, roles, escalation, now);
}

static int
s_offer (en_router_t *self, json_t *request, json_t *expert, const char *kind)
{
    const char *request_id = en_json_str (request, "id");
    int64_t offers_before = en_bstore_offer_count (self->store, request_id);
    char offer_id [128];
    snprintf (offer_id, sizeof offer_id, "%s-o%lld", request_id, (long long) offers_before + 1);
    int64_t deadline = en_now_ms () + en_router_deadline (self, en_json_str (request, "urgency"));
    const char *expert_id = en_json_str (expert, "id");
    const char *node = en_json_str (expert, "node");
    if (en_bstore_offer_insert (self->store, offer_id, request_id, expert_id, node, kind, deadline))
        return -1;
    json_t *body = json_pack ("{s:s, s:s, s:s, s:s, s:I, s:O}",
        "offer", offer_id, "request_id", request_id, "expert", expert_id,
        "kind", kind, "deadline", (json_int_t) deadline,
        "request", json_object_get (request, "summary"));
    if (s_send (self, node, "OFFER", body))
        return -1;
    bool escalation = streq (kind, "escalation");
    en_metrics_count (self->metrics, EN_METRIC_ROUTING, kind, 1);
    if (offers_before == 0)
        en_metrics_observe_ms (self->metrics, EN_HIST_FIRST_OFFER,
                               en_now_ms () - en_json_int (request, "created", en_now_ms ()));
    return s_transition (self, request, escalation ? "escalated" : "offered",
                         escalation ? "escalated" : "offered", expert_id, NULL,
                         json_pack ("{s:s, s:I}", "offer", offer_id, "deadline", (json_int_t) deadline));
}

//  --------------------------------------------------------------------
//  Federation: requests handed to peer brokers and back

//  Did this request come from a peer broker (origin "peer:<name>")?
static bool
s_from_peer (json_t *request)
{
    const char *origin = en_json_str (request, "origin");
    return origin && strncmp (origin, PEER_PREFIX, strlen (PEER_PREFIX)) == 0;
}

//  Queue a reliable message to a peer broker; msg_id (33 bytes, or NULL)
//  gets the message's id.
static int
s_send_peer (en_router_t *self, const char *peer, const char *command, json_t *body, char *msg_id)
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
en_router_anchor (en_router_t *self, const char *peer, json_t *body)
{
    return peer ? s_send_peer (self, peer, "ANCHOR", body, NULL) : (json_decref (body), -1);
}

//  The brokers a request has passed, ending with this one.
static json_t *
s_visited (en_router_t *self, json_t *request)
{
    json_t *visited = json_object_get (request, "visited");
    if (json_is_array (visited) && json_array_size (visited) > 0)
        return json_deep_copy (visited);
    return json_pack ("[s]", self->name);
}

//  Hand request to the best peer that advertises a free place for it
//  (role and every tag): a peer whose link is up before one whose link
//  is down (the FORWARD then waits on disk until the link heals), then
//  fewest hops, most free places. A crisis request is never queued
//  behind a link that is down: it cannot wait for a repair, so it goes
//  to a peer that is up or stays here (escalation). Peers it already passed or was handed
//  to are skipped (loop prevention), and so is every route longer than
//  the hop limit. Returns 1 forwarded, 0 no peer, -1 store error.
static int
s_forward (en_router_t *self, json_t *request)
{
    const char *id = en_json_str (request, "id");
    const char *sign_key = en_json_str (request, "sign_key");
    if (!self->forward || !self->link_fn || !sign_key)
        return 0;
    json_t *visited = s_visited (self, request);
    int64_t budget = self->max_hops - ((int64_t) json_array_size (visited) - 1);
    json_t *rows = budget >= 1
        ? en_bstore_peer_candidates (self->store, json_object_get (request, "summary"),
                                     en_vocab_roles_for (en_json_str (request, "question_type")),
                                     visited, budget, self->again)
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
    int rc = 0;
    json_t *submit = best ? en_bstore_request_submit (self->store, id) : NULL;
    json_t *carried = json_object_get (submit, "submit");
    if (best && json_is_object (carried)) {
        char msg_id [33];
        char peer [64];
        snprintf (peer, sizeof peer, "%s", best);
        rc = s_reopen (self, request)
          || s_send_peer (self, peer, "FORWARD",
                          json_pack ("{s:O, s:s, s:O}", "message", carried, "sign_key", sign_key,
                                     "visited", visited), msg_id)
          || en_bstore_forward (self->store, id, peer, msg_id)
          || s_transition (self, request, "forwarded", "forwarded", NULL, peer,
                           json_pack ("{s:s}", "peer", peer)) ? -1 : 1;
        if (rc == 1)
            en_metrics_count (self->metrics, EN_METRIC_ROUTING, "forwarded", 1);
    }
    json_decref (submit);
    json_decref (rows);
    json_decref (visited);
    return rc;
}

//  A request from a peer that nobody here can take goes back to that
//  peer, which routes it on (another peer, its own escalation, a hiaat).
static int
s_return (en_router_t *self, json_t *request)
{
    en_metrics_count (self->metrics, EN_METRIC_ROUTING, "returned", 1);
    return s_transition (self, request, "returned", "returned", NULL, "no expert available", NULL);
}

//  Find the next candidate for request and offer it; else forward it to
//  a peer broker; else give it back to the peer it came from, or escalate
//  to a bovenregionale procesregisseur; else record a hiaat. A crisis
//  request that had crisis_local_offers local offers already is
//  forwarded before the next local candidate is tried: each offer may
//  take the whole crisis deadline. Returns 0, or -1 on a store error;
//  when routing a hiaat again (reopen_event set), 1 if there is still
//  nobody (and nothing was written).
static int
s_route (en_router_t *self, json_t *request)
{
    json_t *summary = json_object_get (request, "summary");
    int64_t now = en_now_ms ();
    const char **roles = en_vocab_roles_for (en_json_str (request, "question_type"));
    bool national_first = self->crisis_local_offers > 0
        && streq (en_json_str (request, "urgency"), "crisis")
        && en_bstore_offer_count (self->store, en_json_str (request, "id")) >= self->crisis_local_offers;
    int forwarded = national_first ? s_forward (self, request) : 0;
    if (forwarded)
        return forwarded < 0 ? -1 : 0;
    json_t *candidate = s_candidate (self, summary, roles, false, now);
    int rc;
    bool nobody = false;
    if (candidate)
        rc = s_reopen (self, request) || s_offer (self, request, candidate, "offer");
    else
    if (!national_first && (forwarded = s_forward (self, request)) != 0)
        rc = forwarded < 0 ? -1 : 0;
    else
    if (s_from_peer (request))
        rc = s_return (self, request);
    else {
        candidate = s_candidate (self, summary, NULL, true, now);
        if (candidate)
            rc = s_reopen (self, request) || s_offer (self, request, candidate, "escalation");
        else
        if (self->reopen_event) {
            rc = 0;             //  a hiaat routed again: it stays as it was
            nobody = true;
        }
        else {
            en_metrics_count (self->metrics, EN_METRIC_ROUTING, "hiaat", 1);
            rc = en_bstore_hiaat (self->store, request)
              || s_transition (self, request, "hiaat", "hiaat", NULL,
                               "no expert or procesregisseur available", NULL);
        }
    }
    json_decref (candidate);
    return rc ? -1 : nobody ? 1 : 0;
}

//  Store a new request and route it. origin is where its STATUS goes (a
//  node, or "peer:<broker>"); submit the origin node's signed SUBMIT,
//  carried with its key (hex) and the brokers it passed (NULL: submitted
//  here).
static int
s_submit (en_router_t *self, const char *origin, en_msg_t *submit, json_t *summary, const char *sign_key,
          const char *origin_node, json_t *visited, const char *detail, en_error_t *error)
{
    const char *id = en_json_str (summary, "id");
    json_t *carried = en_msg_export (submit);
    int rc = en_bstore_request_insert (self->store, origin, en_msg_id (submit), summary, carried, sign_key,
                                       origin_node, visited);
    json_decref (carried);
    if (rc == 1)
        return en_error_set (error, EN_ERR_CONFLICT, "request id '%s' already exists", id);
    json_t *request = rc ? NULL : en_bstore_request (self->store, id);
    rc = !request
      || en_bstore_event (self->store, id, "submitted", NULL, detail)
      || s_audit (self, id, "submitted", NULL)
      || s_route (self, request);
    json_decref (request);
    return rc ? en_error_set (error, EN_ERR_INTERNAL, "store error") : 0;
}

static int
s_handle_submit (en_router_t *self, const char *node, const char *node_region,
                 en_msg_t *msg, en_error_t *error)
{
    json_t *summary = json_object_get (en_msg_body (msg), "request");
    char err [256];
    if (en_request_validate (summary, err, sizeof err))
        return en_error_set (error, EN_ERR_INVALID, "%s", err);
    if (s_guard_request (self, summary, error))
        return -1;
    const char *region = en_json_str (summary, "region");
    if (zlistx_size (self->regions) && !zlistx_find (self->regions, (void *) region))
        return en_error_set (error, EN_ERR_INVALID, "field 'region': '%s' is not a region of this province", region);
    //  A region's node speaks for its own region only; a node that is not
    //  a region (the expertisecentrum) may submit for any of them.
    bool region_node = zlistx_size (self->regions) ? zlistx_find (self->regions, (void *) node_region) != NULL
                                                    : true;
    if (region_node && !streq (region, node_region))
        return en_error_set (error, EN_ERR_FORBIDDEN, "node of region '%s' cannot submit for region '%s'",
                             node_region, region);
    //  The signed original and its key go with the request: if it is
    //  forwarded, every broker on the way checks the origin's signature
    char key [65] = "";
    if (self->has_sender_key)
        sodium_bin2hex (key, sizeof key, self->sender_key, sizeof self->sender_key);
    return s_submit (self, node, msg, summary, *key ? key : NULL, node, NULL, NULL, error);
}

static int
s_handle_availability (en_router_t *self, const char *node, const char *node_region,
                       en_msg_t *msg, en_error_t *error)
{
    json_t *experts = json_object_get (en_msg_body (msg), "experts");
    if (!json_is_array (experts) || json_array_size (experts) > 1000)
        return en_error_set (error, EN_ERR_INVALID, "field 'experts' must be a list of at most 1000 experts");
    size_t index;
    json_t *expert;
    char err [256];
    json_array_foreach (experts, index, expert) {
        if (en_expert_validate (expert, err, sizeof err))
            return en_error_set (error, EN_ERR_INVALID, "experts[%zu]: %s", index, err);
        if (!streq (en_json_str (expert, "region"), node_region))
            return en_error_set (error, EN_ERR_INVALID, "experts[%zu]: region must be the node's region '%s'",
                                 index, node_region);
    }
    //  A store error is not the node's: 500, so it is sent again
    int rc = en_bstore_experts_replace (self->store, node, experts, err, sizeof err);
    if (rc)
        return en_error_set (error, rc == 1 ? EN_ERR_CONFLICT : EN_ERR_INTERNAL, "%s", err);
    en_db_log (en_bstore_db (self->store), "node %s published %zu experts", node, json_array_size (experts));
    return 0;
}

//  Load the offer named in the body, check it belongs to node and is in
//  one of the states given. Returns the offer or NULL with error.
static json_t *
s_offer_for (en_router_t *self, const char *node, en_msg_t *msg, const char *state,
             en_error_t *error)
{
    const char *offer_id = en_json_str (en_msg_body (msg), "offer");
    if (!en_id_valid (offer_id)) {
        en_error_set (error, EN_ERR_INVALID, "field 'offer' must be an offer id");
        return NULL;
    }
    json_t *offer = en_bstore_offer (self->store, offer_id);
    if (!offer)
        en_error_set (error, EN_ERR_NOT_FOUND, "no offer '%s'", offer_id);
    else
    if (!streq (en_json_str (offer, "node"), node))
        en_error_set (error, EN_ERR_FORBIDDEN, "offer '%s' was not made to an expert of node '%s'", offer_id, node);
    else
    if (!streq (en_json_str (offer, "state"), state))
        en_error_set (error, EN_ERR_CONFLICT, "offer '%s' is %s, not %s", offer_id,
                      en_json_str (offer, "state"), state);
    else
        return offer;
    json_decref (offer);
    return NULL;
}

//  An expert answered an offer: count the outcome and how long it took.
static void
s_count_answer (en_router_t *self, json_t *offer, const char *outcome)
{
    en_metrics_count (self->metrics, EN_METRIC_OFFER_OUTCOME, outcome, 1);
    en_metrics_observe_ms (self->metrics, EN_HIST_OFFER_ANSWER,
                           en_now_ms () - en_json_int (offer, "created", en_now_ms ()));
}

static int
s_handle_accept (en_router_t *self, const char *node, en_msg_t *msg, en_error_t *error)
{
    json_t *offer = s_offer_for (self, node, msg, "open", error);
    if (!offer)
        return -1;
    const char *expert = en_json_str (offer, "expert");
    json_t *record = en_bstore_expert (self->store, expert);
    bool full = record && en_json_int (record, "load", 0) >= en_json_int (record, "capacity", 0);
    //  The origin seals the dossier to this key (it never passes here in clear)
    json_t *accepted = json_pack ("{s:s}", "offer", en_json_str (offer, "id"));
    if (en_json_str (record, "box_key"))
        json_object_set_new (accepted, "box_key", json_string (en_json_str (record, "box_key")));
    json_decref (record);
    if (full) {
        //  Capacity was lowered after the offer was made (expert is
        //  borrowed from offer: the error is set before offer goes)
        en_error_set (error, EN_ERR_CONFLICT, "expert '%s' has no free capacity", expert);
        json_decref (accepted);
        json_decref (offer);
        return -1;
    }
    json_t *request = en_bstore_request (self->store, en_json_str (offer, "request_id"));
    s_count_answer (self, offer, "accepted");
    //  s_transition takes accepted; when it is not reached, accepted goes
    int rc = en_bstore_offer_close (self->store, en_json_str (offer, "id"), "accepted", NULL);
    if (rc)
        json_decref (accepted);
    else
        rc = s_transition (self, request, "accepted", "accepted", expert, NULL, accepted);
    json_decref (request);
    json_decref (offer);
    return rc ? en_error_set (error, EN_ERR_INTERNAL, "store error") : 0;
}

//  A case's anonymized summary from its region's node, for the rode
//  draden report. Closed vocabularies only, the pseudonym, phase times
//  and the outcome: validated strictly, like everything a node publishes.
static int
s_handle_summary (en_router_t *self, const char *node, const char *node_region, en_msg_t *msg,
                  en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    static const char *fields [] = { "case", "region", "summary", "phases", "outcome", NULL };
    char err [256];
    const char *key;
    json_t *value;
    json_object_foreach (body, key, value)
        if (!en_vocab_has (fields, key))
            return en_error_set (error, EN_ERR_INVALID, "summary has unknown field '%.40s'", key);
    if (!en_vocab_pseudonym_valid (en_json_str (body, "case")))
        return en_error_set (error, EN_ERR_INVALID, "field 'case' must be a case pseudonym");
    const char *region = en_json_str (body, "region");
    if (!region || !streq (region, node_region))
        return en_error_set (error, EN_ERR_FORBIDDEN, "a node publishes summaries of its own region ('%s')", node_region);
    json_t *phases = json_object_get (body, "phases");
    if (!json_is_object (phases))
        return en_error_set (error, EN_ERR_INVALID, "field 'phases' must map phases to times");
    json_object_foreach (phases, key, value)
        if (!en_vocab_has (en_vocab_phase, key) || !json_is_integer (value))
            return en_error_set (error, EN_ERR_INVALID, "phases: '%.40s' is not a phase with a time", key);
    json_t *summary = json_object_get (body, "summary");
    if (summary && en_summary_validate (summary, err, sizeof err))
        return en_error_set (error, EN_ERR_INVALID, "%s", err);
    json_t *outcome = json_object_get (body, "outcome");
    if (outcome && en_outcome_validate (outcome, err, sizeof err))
        return en_error_set (error, EN_ERR_INVALID, "%s", err);
    if (en_bstore_summary_put (self->store, node, body))
        return en_error_set (error, EN_ERR_INTERNAL, "store error");
    return 0;
}

//  Pass a node's message about a request that is with a peer broker on
//  to that peer (CLOSE, DOSSIER, REPLY), carried with the origin's signature and
//  key: the broker that holds the request checks both.
static int
s_relay (en_router_t *self, json_t *request, json_t *carried, const char *sign_key, en_error_t *error)
{
    const char *id = en_json_str (request, "id");
    const char *peer = en_json_str (request, "peer");
    char detail [128];
    snprintf (detail, sizeof detail, "%s to %s", en_json_str (carried, "command"), peer);
    int rc = !sign_key
          || s_send_peer (self, peer, "FORWARD", json_pack ("{s:O, s:s, s:o}", "message", carried,
                          "sign_key", sign_key, "visited", s_visited (self, request)), NULL)
          || en_bstore_event (self->store, id, "relayed", NULL, detail)
          || s_audit (self, id, "relayed", NULL);
    if (rc == 0)
        en_db_log (en_bstore_db (self->store), "request %s: %s", id, detail);
    return rc ? en_error_set (error, EN_ERR_INTERNAL, "store error") : 0;
}

//  A node's own message about a request that is with a peer: relay it.
//  The broker holding the request checks it against the key the request
//  was signed with; a node that has new keys since is told here, not
//  lost on the way.
static int
s_relay_own (en_router_t *self, json_t *request, en_msg_t *msg, en_error_t *error)
{
    char key [65];
    sodium_bin2hex (key, sizeof key, self->sender_key, sizeof self->sender_key);
    if (self->has_sender_key && !streq (en_json_str (request, "sign_key") ?: "", key))
        return en_error_set (error, EN_ERR_FORBIDDEN,
                             "request '%s' was signed with an earlier key of this node and is with peer '%s': "
                             "its operators can close it there", en_json_str (request, "id"),
                             en_json_str (request, "peer"));
    json_t *carried = en_msg_export (msg);
    int rc = s_relay (self, request, carried, self->has_sender_key ? key : NULL, error);
    json_decref (carried);
    return rc;
}

//  A dossier from the origin, sealed (crypto_box_seal) to the expert who
//  accepted: the broker checks who may send it to whom and relays the
//  ciphertext; it can neither read it nor keeps it beyond its outbox.
//  DOSSIER or REPLY from the origin: text sealed to the accepting expert
//  (the dossier, or the team's reply to an advice), relayed as it is to
//  the expert's node; the broker cannot read it.
static int
s_handle_sealed (en_router_t *self, const char *node, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    const char *command = en_msg_command (msg);
    bool dossier = streq (command, "DOSSIER");
    const char *request_id = en_json_str (body, "request");
    const char *sealed = en_json_str (body, "sealed");
    json_t *request = en_id_valid (request_id) ? en_bstore_request (self->store, request_id) : NULL;
    int rc = 0;
    if (!request)
        rc = en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s'", request_id ? request_id : "");
    else
    if (!streq (en_json_str (request, "origin"), node))
        rc = en_error_set (error, EN_ERR_FORBIDDEN, "only the origin of '%s' may send its %s", request_id,
                           dossier ? "dossier" : "replies");
    else
    if (!en_json_str (request, "expert")
    ||  (!streq (en_json_str (request, "state"), "accepted") && !streq (en_json_str (request, "state"), "advice")))
        rc = en_error_set (error, EN_ERR_CONFLICT, "request '%s' has no accepting expert", request_id);
    else
    if (!sealed || strlen (sealed) == 0 || strlen (sealed) > EN_MAX_BODY - 1024)
        rc = en_error_set (error, EN_ERR_INVALID, "field 'sealed' must be the sealed %s (base64)",
                           dossier ? "dossier" : "reply");
    else
    if (en_json_str (request, "peer"))
        rc = s_relay_own (self, request, msg, error);
    else {
        json_t *expert = en_bstore_expert (self->store, en_json_str (request, "expert"));
        const char *event = dossier ? "dossier" : "reply";
        rc = s_send (self, en_json_str (expert, "node"), command,
                     json_pack ("{s:s, s:s, s:s}", "request", request_id,
                                "expert", en_json_str (request, "expert"), "sealed", sealed))
          || en_bstore_event (self->store, request_id, event, en_json_str (request, "expert"), NULL)
          || s_audit (self, request_id, event, en_json_str (request, "expert"));
        json_decref (expert);
        if (rc)
            en_error_set (error, EN_ERR_INTERNAL, "store error");
        else
            en_db_log (en_bstore_db (self->store), "request %s: sealed %s relayed to %s", request_id, event,
                       en_json_str (request, "expert"));
    }
    json_decref (request);
    return rc ? -1 : 0;
}

static int
s_handle_decline (en_router_t *self, const char *node, en_msg_t *msg, en_error_t *error)
{
    json_t *offer = s_offer_for (self, node, msg, "open", error);
    if (!offer)
        return -1;
    const char *reason = en_json_str (en_msg_body (msg), "reason");
    if (!reason || strlen (reason) == 0 || strlen (reason) > 500) {
        json_decref (offer);
        return en_error_set (error, EN_ERR_INVALID, "field 'reason' must be text of 1 to 500 bytes");
    }
    if (s_guard_text (self, "decline.reason", reason, error)) {
        json_decref (offer);
        return -1;
    }
    json_t *request = en_bstore_request (self->store, en_json_str (offer, "request_id"));
    s_count_answer (self, offer, "declined");
    int rc = en_bstore_offer_close (self->store, en_json_str (offer, "id"), "declined", reason)
          || s_transition (self, request, en_json_str (request, "state"), "declined",
                           en_json_str (offer, "expert"), reason, NULL)
          || s_route (self, request);
    json_decref (request);
    json_decref (offer);
    return rc ? en_error_set (error, EN_ERR_INTERNAL, "store error") : 0;
}

static int
s_handle_advice (en_router_t *self, const char *node, en_msg_t *msg, en_error_t *error)
{
    json_t *offer = s_offer_for (self, node, msg, "accepted", error);
    if (!offer)
        return -1;
    const char *text = en_json_str (en_msg_body (msg), "text");
    if (!text || strlen (text) == 0 || strlen (text) > EN_MAX_ADVICE) {
        json_decref (offer);
        return en_error_set (error, EN_ERR_INVALID, "field 'text' must be text of 1 to %d bytes", EN_MAX_ADVICE);
    }
    if (s_guard_text (self, "advice.text", text, error)) {
        json_decref (offer);
        return -1;
    }
    json_t *request = en_bstore_request (self->store, en_json_str (offer, "request_id"));
    const char *state = en_json_str (request, "state");
    int rc = 0;
    if (!streq (state, "accepted") && !streq (state, "advice"))
        rc = en_error_set (error, EN_ERR_CONFLICT, "request '%s' is %s", en_json_str (request, "id"), state);
    else
    //  The advice text travels to the origin in the STATUS message and is
    //  kept only in the outbox until the origin acknowledges it.
    if (s_transition (self, request, "advice", "advice", en_json_str (offer, "expert"), NULL,
                      json_pack ("{s:s}", "advice", text)))
        rc = en_error_set (error, EN_ERR_INTERNAL, "store error");
    json_decref (request);
    json_decref (offer);
    return rc;
}

//  Withdraw the open offers of a request (closed, or moved on by an
//  operator): each offer ends "withdrawn" and its expert's node gets
//  WITHDRAW with reason (a fixed word: an operator's text does not
//  travel to other regions). With event set, each withdrawal is also an
//  event of the request, with detail.
static int
s_withdraw_open (en_router_t *self, json_t *request, const char *reason,
                 const char *event, const char *detail)
{
    const char *request_id = en_json_str (request, "id");
    json_t *open = en_bstore_offers_open (self->store, request_id, 0);
    size_t index;
    json_t *offer;
    int rc = 0;
    json_array_foreach (open, index, offer) {
        en_metrics_count (self->metrics, EN_METRIC_OFFER_OUTCOME, "withdrawn", 1);
        rc |= en_bstore_offer_close (self->store, en_json_str (offer, "id"), "withdrawn", reason);
        rc |= s_send (self, en_json_str (offer, "node"), "WITHDRAW",
                      json_pack ("{s:s, s:s, s:s, s:s}", "offer", en_json_str (offer, "id"),
                                 "request_id", request_id, "expert", en_json_str (offer, "expert"),
                                 "reason", reason));
        if (event)
            rc |= s_transition (self, request, en_json_str (request, "state"), event,
                                en_json_str (offer, "expert"), detail, NULL);
    }
    json_decref (open);
    return rc ? -1 : 0;
}

static int
s_handle_close (en_router_t *self, const char *node, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    const char *request_id = en_json_str (body, "request");
    json_t *request = en_id_valid (request_id) ? en_bstore_request (self->store, request_id) : NULL;
    if (!request)
        return en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s'", request_id ? request_id : "");
    int rc = 0;
    json_t *outcome = json_object_get (body, "outcome");
    if (!streq (en_json_str (request, "origin"), node))
        rc = en_error_set (error, EN_ERR_FORBIDDEN, "request '%s' belongs to node '%s'", request_id,
                           en_json_str (request, "origin"));
    else
    if (streq (en_json_str (request, "state"), "closed"))
        rc = en_error_set (error, EN_ERR_CONFLICT, "request '%s' is already closed", request_id);
    else
    if (outcome && (!json_is_string (outcome) || strlen (json_string_value (outcome)) > 500))
        rc = en_error_set (error, EN_ERR_INVALID, "field 'outcome' must be text of at most 500 bytes");
    else
    if (outcome && s_guard (self, "close.outcome", outcome, error))
        rc = -1;
    else
    if (en_json_str (request, "peer"))
        rc = s_relay_own (self, request, msg, error);
    else
    if (s_withdraw_open (self, request, "closed", NULL, NULL)
    ||  s_transition (self, request, "closed", "closed", NULL, json_string_value (outcome), NULL))
        rc = en_error_set (error, EN_ERR_INTERNAL, "store error");
    json_decref (request);
    return rc ? -1 : 0;
}

//  A STATUS from the peer a request was handed to: mirror its state and
//  pass it on to where the request came from. "returned" means the peer
//  found nobody: route it on here.
static int
s_handle_peer_status (en_router_t *self, const char *peer, en_msg_t *msg, en_error_t *error)
{
    static const char *states [] = { "forwarded", "offered", "escalated", "accepted", "advice",
                                     "closed", "returned", NULL };
    static const char *passed [] = { "offer", "deadline", "advice", "box_key", "via", NULL };
    json_t *body = en_msg_body (msg);
    const char *request_id = en_json_str (body, "request");
    const char *state = en_json_str (body, "state");
    const char *event = en_json_str (body, "event");
    const char *expert = en_json_str (body, "expert");
    const char *detail = en_json_str (body, "detail");
    if (!state || !en_vocab_has (states, state))
        return en_error_set (error, EN_ERR_INVALID, "field 'state' must be a request state");
    if (!event || !en_name_valid (event) || (expert && !en_name_valid (expert))
    ||  (detail && strlen (detail) > 600))
        return en_error_set (error, EN_ERR_INVALID, "fields 'event', 'expert' or 'detail' are not valid");
    json_t *request = en_id_valid (request_id) ? en_bstore_request (self->store, request_id) : NULL;
    if (!request)
        return en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s'", request_id ? request_id : "");
    int rc = 0;
    json_t *forward = en_bstore_forward_of (self->store, request_id, peer);
    bool recalled = forward && streq (en_json_str (forward, "state"), "recalled");
    json_decref (forward);
    if (recalled) {
        //  The peer acted before our RECALL reached it: say so where
        //  operators look, and take the message (refusing it would only
        //  make the peer drop it)
        char note [700];
        snprintf (note, sizeof note, "%s after the recall: %s %s%s", peer, event, expert ? expert : "",
                  streq (state, "accepted") || streq (state, "advice") ? " (an expert there has it: settle with them)" : "");
        zsys_warning ("request %s: %s", request_id, note);
        if (en_bstore_event (self->store, request_id, "late-status", expert, note))
            rc = en_error_set (error, EN_ERR_INTERNAL, "store error");
    }
    else
    if (!en_json_str (request, "peer") || !streq (en_json_str (request, "peer"), peer))
        rc = en_error_set (error, EN_ERR_FORBIDDEN, "request '%s' was not handed to '%s'", request_id, peer);
    else
    if (streq (en_json_str (request, "state"), "closed"))
        rc = en_error_set (error, EN_ERR_CONFLICT, "request '%s' is closed", request_id);
    else
    if (streq (state, "returned")) {
        char reason [700];
        snprintf (reason, sizeof reason, "%s: %s", peer, detail ? detail : "no expert available");
        //  It was handed over because the peer advertised room for it
        en_metrics_count (self->metrics, EN_METRIC_FED_RETURNED, peer, 1);
        zsys_warning ("federation: %s gave back request %s although it advertised room for it", peer, request_id);
        if (en_bstore_forward_end (self->store, request_id, peer, "returned")
        ||  s_transition (self, request, "submitted", "returned", NULL, reason, NULL)
        ||  s_route (self, request))
            rc = en_error_set (error, EN_ERR_INTERNAL, "store error");
    }
    else {
        json_t *extra = json_object ();
        for (int i = 0; passed [i]; i++)
            if (json_object_get (body, passed [i]))
                json_object_set (extra, passed [i], json_object_get (body, passed [i]));
        if (!json_object_get (extra, "via"))
            json_object_set_new (extra, "via", json_string (peer));
        char via [100];
        snprintf (via, sizeof via, "via %s", en_json_str (extra, "via"));
        //  s_transition takes extra; when it is not reached, extra goes
        if (streq (state, "closed") && en_bstore_forward_end (self->store, request_id, peer, "closed")) {
            json_decref (extra);
            rc = en_error_set (error, EN_ERR_INTERNAL, "store error");
        }
        else
        if (s_transition (self, request, state, event, expert, detail ? detail : via, extra))
            rc = en_error_set (error, EN_ERR_INTERNAL, "store error");
    }
    json_decref (request);
    return rc;
}

//  A CLOSE, DOSSIER or REPLY of the origin node, carried from a peer: handled
//  here if the request is here, else relayed on to where it went.
static int
s_forwarded_relay (en_router_t *self, const char *peer, const char *origin, en_msg_t *inner,
                   json_t *carried, const char *sign_key, en_error_t *error)
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
    if (en_json_str (request, "peer"))
        rc = s_relay (self, request, carried, sign_key, error);
    else
    if (streq (en_msg_command (inner), "CLOSE"))
        rc = s_handle_close (self, origin, inner, error);
    else
        rc = s_handle_sealed (self, origin, inner, error);
    json_decref (request);
    return rc;
}

//  FORWARD: a node's signed message carried by a peer broker, with the
//  node's signing key (vouched for by the peer, whose own signature on
//  the FORWARD the broker has checked) and the brokers it passed.
static int
s_handle_forward (en_router_t *self, const char *peer, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    json_t *carried = json_object_get (body, "message");
    json_t *visited = json_object_get (body, "visited");
    const char *key_hex = en_json_str (body, "sign_key");
    if (!json_is_object (carried))
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
    unsigned char key [32];
    size_t size = 0;
    if (!key_hex || strlen (key_hex) != 64
    ||  sodium_hex2bin (key, sizeof key, key_hex, 64, NULL, &size, NULL) || size != 32)
        return en_error_set (error, EN_ERR_INVALID, "field 'sign_key' must be 64 hex digits");
    char canonical [65];        //  lower case, as stored and compared
    sodium_bin2hex (canonical, sizeof canonical, key, sizeof key);
    key_hex = canonical;
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
    //  request id is taken only once here. Only the future is suspect.
    if (en_msg_timestamp (inner) > en_now_ms () + EN_MAX_SKEW_MS)
        rc = en_error_set (error, EN_ERR_FORBIDDEN, "the carried %s is dated in the future (clock skew?)", command);
    else
    if (streq (command, "SUBMIT")) {
        json_t *summary = json_object_get (en_msg_body (inner), "request");
        char err [256];
        if ((int64_t) json_array_size (visited) > self->max_hops)
            rc = en_error_set (error, EN_ERR_CONFLICT, "hop limit: the request passed %zu brokers",
                               json_array_size (visited));
        else
        if (en_request_validate (summary, err, sizeof err))
            rc = en_error_set (error, EN_ERR_INVALID, "%s", err);
        else
        if (s_guard_request (self, summary, error))
            rc = -1;
        else {
            char detail [200];
            snprintf (detail, sizeof detail, "from %s of %s, through %s", en_msg_sender (inner),
                      json_string_value (json_array_get (visited, 0)), peer);
            json_t *path = json_deep_copy (visited);
            json_array_append_new (path, json_string (self->name));
            rc = s_submit (self, origin, inner, summary, key_hex, en_msg_sender (inner), path, detail, error);
            json_decref (path);
        }
    }
    else
    if (streq (command, "CLOSE") || streq (command, "DOSSIER") || streq (command, "REPLY"))
        rc = s_forwarded_relay (self, peer, origin, inner, carried, key_hex, error);
    else
        rc = en_error_set (error, EN_ERR_BAD_REQUEST, "FORWARD carries SUBMIT, CLOSE, DOSSIER or REPLY, not %s", command);
    en_msg_destroy (&inner);
    return rc;
}

//  RECALL from the peer that handed us a request: it takes the request
//  back (its operator recalled it). Open offers are withdrawn, a request
//  we handed on is recalled from there too, and it ends here "recalled"
//  without a STATUS. Once an expert here accepted it, it cannot be taken
//  back (409): the origin learns that from the STATUS already on its way.
static int
s_handle_recall (en_router_t *self, const char *peer, en_msg_t *msg, en_error_t *error)
{
    const char *request_id = en_json_str (en_msg_body (msg), "request");
    json_t *request = en_id_valid (request_id) ? en_bstore_request (self->store, request_id) : NULL;
    char origin [80];
    snprintf (origin, sizeof origin, PEER_PREFIX "%s", peer);
    int rc = 0;
    if (!request)
        rc = en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s'", request_id ? request_id : "");
    else
    if (!streq (en_json_str (request, "origin"), origin))
        rc = en_error_set (error, EN_ERR_FORBIDDEN, "request '%s' did not come from '%s'", request_id, peer);
    else {
        const char *state = en_json_str (request, "state");
        if (streq (state, "accepted") || streq (state, "advice") || streq (state, "closed"))
            rc = en_error_set (error, EN_ERR_CONFLICT, "request '%s' is %s here: too late to recall", request_id, state);
        else
        if (streq (state, "recalled") || streq (state, "returned"))
            ;                   //  nothing left to do
        else {
            const char *onward = en_json_str (request, "peer");
            char detail [200];
            snprintf (detail, sizeof detail, "%s took it back", peer);
            if ((onward && (en_bstore_forward_end (self->store, request_id, onward, "recalled")
                            || s_send_peer (self, onward, "RECALL", json_pack ("{s:s}", "request", request_id), NULL)))
            ||  s_withdraw_open (self, request, "withdrawn", NULL, NULL)
            ||  en_bstore_request_update (self->store, request_id, "recalled", NULL)
            ||  en_bstore_event (self->store, request_id, "recalled", NULL, detail)
            ||  s_audit (self, request_id, "recalled", NULL))
                rc = en_error_set (error, EN_ERR_INTERNAL, "store error");
            else
                en_db_log (en_bstore_db (self->store), "request %s: recalled by %s", request_id, peer);
        }
    }
    json_decref (request);
    return rc;
}

//  ANCHOR from a node or a peer broker: the head of its access log, kept
//  here and logged in our own chain, so a sender that rewrites its whole
//  log later fails `audit verify --anchors` (docs/audit.md).
static int
s_handle_anchor (en_router_t *self, const char *sender, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    json_t *seq = json_object_get (body, "seq");
    const char *hash = en_json_str (body, "hash");
    bool hex = hash && strlen (hash) == 64 && strspn (hash, "0123456789abcdef") == 64;
    if (!json_is_integer (seq) || json_integer_value (seq) < 0 || !hex)
        return en_error_set (error, EN_ERR_INVALID, "ANCHOR needs 'seq' (integer >= 0) and 'hash' (64 lowercase hex)");
    char conflict [256], detail [300];
    int64_t at = en_json_int (body, "at", en_msg_timestamp (msg));
    if (en_bstore_anchor_put (self->store, sender, json_integer_value (seq), hash, at, en_msg_id (msg),
                              conflict, sizeof conflict))
        return en_error_set (error, EN_ERR_INTERNAL, "store error");
    if (*conflict)
        zsys_error ("AUDIT: %s anchored a head that does not follow its earlier ones: %s; "
                    "its access log may have been rewritten", sender, conflict);
    snprintf (detail, sizeof detail, "head %" PRId64 " %s%s%s", (int64_t) json_integer_value (seq), hash,
              *conflict ? "; does not follow: " : "", conflict);
    en_audit_entry_t entry = { .event = "audit.anchor", .actor = sender, .action = "receive",
                               .outcome = *conflict ? "error" : "ok", .detail = detail };
    if (en_audit_append (en_bstore_db (self->store), &entry))
        return en_error_set (error, EN_ERR_INTERNAL, "store error");
    return 0;
}

int
en_router_handle_peer (en_router_t *self, const char *peer, en_msg_t *msg, en_error_t *error)
{
    self->actor = peer;
    const char *command = en_msg_command (msg);
    if (streq (command, "FORWARD"))
        return s_handle_forward (self, peer, msg, error);
    if (streq (command, "STATUS"))
        return s_handle_peer_status (self, peer, msg, error);
    if (streq (command, "RECALL"))
        return s_handle_recall (self, peer, msg, error);
    if (streq (command, "ANCHOR"))
        return s_handle_anchor (self, peer, msg, error);
    return en_error_set (error, EN_ERR_BAD_REQUEST, "command %s is not sent by a peer broker", command);
}

int
en_router_forward_refused (en_router_t *self, const char *peer, const char *msg_id,
                           int code, const char *reason)
{
    json_t *forward = en_bstore_forward_by_msg (self->store, peer, msg_id);
    json_t *request = forward ? en_bstore_request (self->store, en_json_str (forward, "request_id")) : NULL;
    int rc = 0;
    if (request && streq (en_json_str (forward, "state"), "open")
    &&  streq (en_json_str (request, "peer") ?: "", peer)) {
        self->actor = peer;
        char detail [400];
        snprintf (detail, sizeof detail, "%s refused it: %d %s", peer, code, reason ? reason : "");
        en_metrics_count (self->metrics, EN_METRIC_FED_RETURNED, peer, 1);
        rc = en_bstore_forward_end (self->store, en_json_str (request, "id"), peer, "refused")
          || s_transition (self, request, "submitted", "returned", NULL, detail, NULL)
          || s_route (self, request) ? -1 : 0;
        self->actor = self->name;
    }
    json_decref (request);
    json_decref (forward);
    return rc;
}

json_t *
en_router_pii_counts (en_router_t *self)
{
    assert (self);
    return en_pii_counts (self->pii);
}

int
en_router_handle (en_router_t *self, const char *node, const char *node_region,
                  en_msg_t *msg, en_error_t *error)
{
    self->actor = node;
    const char *command = en_msg_command (msg);
    if (streq (command, "SUBMIT"))
        return s_handle_submit (self, node, node_region, msg, error);
    if (streq (command, "ANCHOR"))
        return s_handle_anchor (self, node, msg, error);
    if (streq (command, "AVAILABILITY"))
        return s_handle_availability (self, node, node_region, msg, error);
    if (streq (command, "ACCEPT"))
        return s_handle_accept (self, node, msg, error);
    if (streq (command, "DECLINE"))
        return s_handle_decline (self, node, msg, error);
    if (streq (command, "ADVICE"))
        return s_handle_advice (self, node, msg, error);
    if (streq (command, "CLOSE"))
        return s_handle_close (self, node, msg, error);
    if (streq (command, "SUMMARY"))
        return s_handle_summary (self, node, node_region, msg, error);
    if (streq (command, "DOSSIER") || streq (command, "REPLY"))
        return s_handle_sealed (self, node, msg, error);
    return en_error_set (error, EN_ERR_BAD_REQUEST, "command %s is not sent to a broker", command);
}

int
en_router_receive (en_router_t *self, const char *node, const char *node_region,
                   bool is_peer, en_msg_t *msg, en_error_t *error)
{
    return is_peer ? en_router_handle_peer (self, node, msg, error)
                   : en_router_handle (self, node, node_region, msg, error);
}

int
en_router_expire (en_router_t *self, int64_t now)
{
    self->actor = self->name;
    json_t *due = en_bstore_offers_open (self->store, NULL, now);
    size_t index;
    json_t *offer;
    int expired = 0, failed = 0;
    json_array_foreach (due, index, offer) {
        const char *offer_id = en_json_str (offer, "id");
        json_t *request = en_bstore_request (self->store, en_json_str (offer, "request_id"));
        en_db_t *db = en_bstore_db (self->store);
        if (en_db_savepoint (db)) {
            //  Without a savepoint a failure could not be undone alone
            zsys_error ("request %s: could not expire offer %s", en_json_str (request, "id"), offer_id);
            json_decref (request);
            continue;
        }
        en_metrics_count (self->metrics, EN_METRIC_OFFER_OUTCOME, "expired", 1);
        if (en_bstore_offer_close (self->store, offer_id, "expired", "no answer before deadline")
        ||  s_transition (self, request, en_json_str (request, "state"), "expired",
                          en_json_str (offer, "expert"), "no answer before deadline", NULL)
        ||  s_send (self, en_json_str (offer, "node"), "WITHDRAW",
                    json_pack ("{s:s, s:s, s:s, s:s}", "offer", offer_id,
                               "request_id", en_json_str (request, "id"),
                               "expert", en_json_str (offer, "expert"), "reason", "expired"))
        ||  s_route (self, request)
        ||  en_db_release (db)) {
            en_db_rollback_to (db);
            //  A full disk is one condition, said once by en_db and the broker
            if (!en_db_full (db))
                zsys_error ("request %s: could not expire offer %s", en_json_str (request, "id"), offer_id);
            failed++;
        }
        else
            expired++;
        json_decref (request);
    }
    json_decref (due);
    return failed ? -1 : expired;
}

int
en_router_retry_hiaten (en_router_t *self, int64_t now)
{
    int64_t since [3];
    for (int i = 0; i < 3; i++)
        since [i] = self->hiaat_retry [i] > 0 ? now - self->hiaat_retry [i] : INT64_MAX;
    json_t *due = en_bstore_hiaten_due (self->store, since, 200);
    en_db_t *db = en_bstore_db (self->store);
    self->actor = self->name;
    size_t index;
    json_t *row;
    int routed = 0;
    json_array_foreach (due, index, row) {
        json_t *request = en_bstore_request (self->store, en_json_str (row, "request_id"));
        en_db_savepoint (db);
        self->reopen_event = "rerouted";
        self->reopen_detail = "routed again: an expert, a free place or a peer became available";
        int rc = request ? s_route (self, request) : -1;
        self->reopen_event = NULL;
        json_decref (request);
        if (rc < 0) {
            //  The store fails (a full disk?): the rest waits for the
            //  caller's next pass, which it delays
            en_db_rollback_to (db);
            routed = -1;
            break;
        }
        else {
            en_db_release (db);
            if (rc == 0) {
                en_metrics_count (self->metrics, EN_METRIC_ROUTING, "rerouted", 1);
                routed++;
            }
        }
    }
    json_decref (due);
    return routed;
}

int
en_router_node_revoked (en_router_t *self, const char *node)
{
    self->actor = self->name;
    char err [256];
    json_t *none = json_array ();
    int rc = en_bstore_experts_replace (self->store, node, none, err, sizeof err);
    json_decref (none);
    if (rc) {
        zsys_error ("node %s revoked: could not withdraw its experts: %s", node, err);
        return -1;
    }
    //  No WITHDRAW to the node: it is no longer heard, nor spoken to
    json_t *open = en_bstore_offers_open_of_node (self->store, node);
    char detail [128];
    snprintf (detail, sizeof detail, "node %s is no longer enrolled", node);
    size_t index;
    json_t *offer;
    int routed = 0;
    json_array_foreach (open, index, offer) {
        json_t *request = en_bstore_request (self->store, en_json_str (offer, "request_id"));
        en_db_t *db = en_bstore_db (self->store);
        bool saved = en_db_savepoint (db) == 0;
        if (saved)
            en_metrics_count (self->metrics, EN_METRIC_OFFER_OUTCOME, "withdrawn", 1);
        if (!saved || !request
        ||  en_bstore_offer_close (self->store, en_json_str (offer, "id"), "withdrawn", "revoked")
        ||  s_transition (self, request, en_json_str (request, "state"), "revoked",
                          en_json_str (offer, "expert"), detail, NULL)
        ||  s_route (self, request)
        ||  en_db_release (db)) {
            if (saved)
                en_db_rollback_to (db);
            zsys_error ("node %s revoked: could not route offer %s again", node, en_json_str (offer, "id"));
            rc = -1;
        }
        else
            routed++;
        json_decref (request);
    }
    json_decref (open);
    zsys_warning ("node %s revoked: its experts withdrawn, %d open offer(s) routed again", node, routed);
    return rc ? -1 : routed;
}

//  An operator takes back a request that is with a peer broker (its link
//  dead, or the peer silent): RECALL to the peer (it withdraws its offers
//  when the message arrives), and the request is routed again here, that
//  peer skipped. Not once the peer reported an accepting expert.
static int
s_recall (en_router_t *self, const char *operator_name, json_t *request, const char *reason, en_error_t *error)
{
    const char *id = en_json_str (request, "id");
    const char *peer = en_json_str (request, "peer");
    const char *state = en_json_str (request, "state");
    if (!peer || streq (state, "closed"))
        return en_error_set (error, EN_ERR_CONFLICT, "request '%s' is not with a peer broker", id);
    if (streq (state, "accepted") || streq (state, "advice"))
        return en_error_set (error, EN_ERR_CONFLICT, "request '%s' was accepted by %s of %s: close it instead",
                             id, en_json_str (request, "expert") ?: "an expert", peer);
    char held [64], detail [600];
    snprintf (held, sizeof held, "%s", peer);
    snprintf (detail, sizeof detail, "%s: %s (recalled from %s)", operator_name, reason, held);
    self->actor = operator_name;
    self->by_operator = true;
    int rc = 0;
    if (en_bstore_forward_end (self->store, id, held, "recalled")
    ||  s_send_peer (self, held, "RECALL", json_pack ("{s:s}", "request", id), NULL)
    ||  s_transition (self, request, "submitted", "operator-recall", NULL, detail, NULL)
    ||  s_route (self, request))
        rc = en_error_set (error, EN_ERR_INTERNAL, "store error");
    else {
        en_metrics_count (self->metrics, EN_METRIC_OPERATOR, "recall", 1);
        en_db_log (en_bstore_db (self->store), "request %s: recalled from %s by operator %s", id, held, operator_name);
    }
    self->by_operator = false;
    self->actor = self->name;
    return rc;
}

//  Operator actions. Each is one event "operator-<action>" with the
//  operator's name and reason, then the transitions it causes, all with
//  the operator as the actor in the access log.
int
en_router_operator (en_router_t *self, const char *operator_name, const char *action,
                    const char *request_id, const char *reason, en_error_t *error)
{
    if (!en_name_valid (operator_name))
        return en_error_set (error, EN_ERR_INVALID, "field 'operator' must be an operator name");
    if (!action || (!streq (action, "reoffer") && !streq (action, "escalate") && !streq (action, "close")
                 && !streq (action, "recall")))
        return en_error_set (error, EN_ERR_BAD_REQUEST, "action must be reoffer, escalate, close or recall");
    if (!reason || strlen (reason) == 0 || strlen (reason) > 500)
        return en_error_set (error, EN_ERR_INVALID, "field 'reason' must be text of 1 to 500 bytes");
    self->actor = operator_name;
    int refused = s_guard_text (self, "reason", reason, error);
    self->actor = self->name;
    if (refused)
        return -1;
    json_t *request = en_id_valid (request_id) ? en_bstore_request (self->store, request_id) : NULL;
    if (!request)
        return en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s'", request_id ? request_id : "");
    if (streq (action, "recall")) {
        int rc = s_recall (self, operator_name, request, reason, error);
        json_decref (request);
        return rc;
    }
    if (en_json_str (request, "peer") && !streq (en_json_str (request, "state"), "closed")) {
        en_error_set (error, EN_ERR_CONFLICT, "request '%s' is with peer broker '%s': its operators act on it "
                      "there, or recall it", request_id, en_json_str (request, "peer"));
        json_decref (request);
        return -1;
    }
    self->actor = operator_name;
    self->by_operator = true;
    const char *state = en_json_str (request, "state");
    bool routable = streq (state, "submitted") || streq (state, "offered")
                 || streq (state, "escalated") || streq (state, "hiaat");
    char event [32], detail [600];
    snprintf (event, sizeof event, "operator-%s", action);
    snprintf (detail, sizeof detail, "%s: %s", operator_name, reason);
    int rc = 0;
    if (streq (action, "close")) {
        char outcome [600];
        snprintf (outcome, sizeof outcome, "closed by operator: %s", reason);
        if (streq (state, "closed"))
            rc = en_error_set (error, EN_ERR_CONFLICT, "request '%s' is already closed", request_id);
        else
        if (s_transition (self, request, state, event, NULL, detail, NULL)
        ||  s_withdraw_open (self, request, "closed", NULL, NULL)
        ||  s_transition (self, request, "closed", "closed", NULL, outcome, NULL))
            rc = en_error_set (error, EN_ERR_INTERNAL, "store error");
    }
    else
    if (!routable)
        rc = en_error_set (error, EN_ERR_CONFLICT, "request '%s' is %s: it cannot be %s", request_id, state,
                           streq (action, "reoffer") ? "offered again" : "escalated");
    else
    if (streq (action, "reoffer")) {
        //  Who let an offer of it expire unanswered is asked again (not
        //  who declined, nor whose offer an operator withdrew: this one's
        //  included), and so are peers it was recalled from
        self->again = true;
        if (streq (state, "hiaat")) {
            //  Nothing to withdraw: the operator's event goes first only
            //  if someone is found, else nothing changes and they hear so
            self->reopen_event = event;
            self->reopen_detail = detail;
            int routed = s_route (self, request);
            self->reopen_event = NULL;
            if (routed < 0)
                rc = en_error_set (error, EN_ERR_INTERNAL, "store error");
            else
            if (routed == 1)
                rc = en_error_set (error, EN_ERR_CONFLICT, "nobody is available for '%s': it stays a hiaat "
                                   "(experts who declined it and peers that gave it back are not asked again)",
                                   request_id);
        }
        else
        if (s_transition (self, request, state, event, NULL, detail, NULL)
        ||  s_withdraw_open (self, request, "withdrawn", "withdrawn", detail)
        ||  s_route (self, request))
            rc = en_error_set (error, EN_ERR_INTERNAL, "store error");
        self->again = false;
    }
    else {
        //  Escalate only when there is someone to escalate to; otherwise
        //  nothing changes and the operator is told so
        json_t *candidate = en_bstore_candidate (self->store, json_object_get (request, "summary"),
                                                 NULL, true, en_now_ms ());
        if (!candidate)
            rc = en_error_set (error, EN_ERR_CONFLICT,
                               "no bovenregionale procesregisseur is available for '%s'", request_id);
        else
        if (s_transition (self, request, state, event, NULL, detail, NULL)
        ||  s_withdraw_open (self, request, "withdrawn", "withdrawn", detail)
        ||  s_offer (self, request, candidate, "escalation"))
            rc = en_error_set (error, EN_ERR_INTERNAL, "store error");
        json_decref (candidate);
    }
    if (rc == 0) {
        en_metrics_count (self->metrics, EN_METRIC_OPERATOR, action, 1);
        en_db_log (en_bstore_db (self->store), "request %s: %s by operator %s", request_id, action, operator_name);
    }
    self->by_operator = false;
    self->actor = self->name;
    json_decref (request);
    return rc ? -1 : 0;
}
