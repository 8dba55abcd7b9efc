/*  en_router - routing of consultatieverzoeken.

    The states of a request and which event may move it where are the
    request state machine's (broker/en_request_sm.c, docs/protocol.md
    "Request states"): every change of state here goes through
    s_transition, which asks the machine first and refuses, logged and
    unwritten, a move it does not declare. This module decides which
    transition a message, a timer or an operator causes:

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
      2. none: a peer broker that advertises room for it (en_fedroute,
         routing with peer brokers, a place at a time; a crisis request
         may go there first);
      3. none: a request from a peer goes back to it; our own is
         escalated to a bovenregionale procesregisseur (role
         procesregisseur, bovenregionaal), same ordering, tags not needed;
      4. none: the request becomes a hiaat.
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
    still nobody stays as it was and the operator is told), escalate
    (withdraw, offer to a bovenregionale procesregisseur), close, or
    recall it from a peer (en_fedroute); one table of actions (s_actions).
    They use the same transitions as the
    nodes' messages, so the events, STATUS messages, capacity and access
    log stay as consistent as for any other change; the operator is the
    actor in the access log.

    Federation. What concerns peer brokers (handing a request over,
    mirroring their STATUS, relaying, RECALL, FORWARD in) is en_fedroute's,
    the federation routing module; it moves requests only through the
    route/transition interface at the end of this file (en_router.h), so
    a state change from a peer passes the same state machine, guard and
    access log as any other. The public federation entry points here
    (en_router_set_federation, en_router_handle_peer, _forward_refused,
    _anchor) only set who acts and hand over to it.
*/
#include "en_router.h"
#include "en_request_sm.h"
#include "en_fedroute.h"
#include "en_convo.h"
#include "en_followup.h"
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
    en_fedroute_t *fed;         //  routing with peer brokers (the federation half of routing)
    en_convo_t *convo;          //  the conversation of each request (MESSAGE, RECEIPT, MEMBERS)
    unsigned char sender_key [32];      //  signing key of the node being handled
    bool has_sender_key;
    //  Routing again
    int64_t hiaat_retry [3];    //  a hiaat is routed again this long after it became one, per urgency (0: never)
    bool again;                 //  an operator's re-offer: who let an offer expire is asked again
    const char *reopen_event;   //  routing a hiaat again: the event recorded before it moves, or NULL
    const char *reopen_detail;  //  that event's detail
    en_pii_t *pii;              //  the guard on every free text received
    en_error_t refused;         //  the state machine's last refusal, until a handler answers with it
};

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
    self->fed = en_fedroute_new (self, store, broker_name);
    self->convo = en_convo_new (self, store, broker_name);
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
        en_fedroute_destroy (&self->fed);
        en_convo_destroy (&self->convo);
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
    en_fedroute_set_metrics (self->fed, metrics);
}

void
en_router_set_federation (en_router_t *self, bool forward, int64_t max_hops, int64_t crisis_local_offers,
                          en_router_link_fn *link_fn, void *link_arg)
{
    en_fedroute_configure (self->fed, forward, max_hops, crisis_local_offers, link_fn, link_arg);
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

//  Does the request state machine (en_request_sm) declare that event
//  moves request from state from (NULL: it is new) to state? 0, or -1
//  with the refusal logged and kept for the handler's answer (s_failed).
static int
s_check (en_router_t *self, json_t *request, const char *from, const char *state, const char *event)
{
    en_request_sm_context_t context = {
        .from_peer = en_fedroute_from_peer (request),
        .with_peer = en_json_str (request, "peer") != NULL,
        .by_operator = self->by_operator };
    if (en_request_sm_check (from, event, state, &context, &self->refused) == 0)
        return 0;
    zsys_error ("request %s: %s; refused, nothing written", en_json_str (request, "id") ?: "?",
                self->refused.reason);
    return -1;
}

//  A handler's chain of writes failed: the answer is the state machine's
//  refusal (409, final) when it refused a transition, else a store error
//  (500: the sender keeps the message and sends it again).
static int
s_failed (en_router_t *self, en_error_t *error)
{
    if (self->refused.code == 0)
        return en_error_set (error, EN_ERR_INTERNAL, "store error");
    en_error_set (error, self->refused.code, "%s", self->refused.reason);
    en_error_clear (&self->refused);
    return -1;
}

//  request as its place sees it: a request loaded whole (en_bstore_request)
//  gets the columns of its first place (for a request of one place, at a
//  peer too: its place, numbered as at the origin). 0, or -1 when it has
//  no places.
static int
s_as_place (en_router_t *self, json_t *request)
{
    if (json_object_get (request, "place"))
        return 0;
    json_t *place = en_bstore_request_place (self->store, en_json_str (request, "id"), 0);
    if (!place)
        return -1;
    static const char *keys [] = { "place", "roles", "expertise", "request_state", "place_count", "peer", NULL };
    for (int i = 0; keys [i]; i++)
        json_object_set (request, keys [i], json_object_get (place, keys [i]));
    json_decref (place);
    return 0;
}

//  The request's own state from its places' states (en_request_sm_derive,
//  count of them) and its expert (the first place's that has one of
//  experts), written to the request row and kept in request as
//  request_state.
static int
s_derive_from (en_router_t *self, json_t *request, const char **states, const char **experts, size_t count)
{
    const char *expert = NULL;
    for (size_t i = 0; i < count && !expert; i++)
        expert = experts [i];
    const char *derived = en_request_sm_derive (states, count);
    int rc = !derived || en_bstore_request_update (self->store, en_json_str (request, "id"), derived, expert);
    if (derived)
        json_object_set_new (request, "request_state", json_string (derived));
    return rc ? -1 : 0;
}

//  The same from the places as stored (en_bstore_places), or as places
//  has them (read before they moved, each moved to state, NULL: stays).
static int
s_derive (en_router_t *self, json_t *request, json_t *places, const char *state)
{
    json_t *stored = places ? NULL : en_bstore_places (self->store, en_json_str (request, "id"));
    const char *states [EN_MAX_PLACES];
    const char *experts [EN_MAX_PLACES];
    size_t count = 0;
    size_t index;
    json_t *place;
    json_array_foreach (places ? places : stored, index, place) {
        if (count == EN_MAX_PLACES)
            break;
        const char *from = en_json_str (place, "state");
        states [count] = state && !streq (from, "closed") ? state : from;
        experts [count++] = en_json_str (place, "expert");
    }
    int rc = s_derive_from (self, request, states, experts, count);
    json_decref (stored);
    return rc;
}

//  Move one place of request (see s_as_place) to state on event, as the
//  request state machine allows: the place's state, the request's derived
//  from it, the event in the timeline and in the access log. Nothing is
//  written for a move the machine does not declare (-1).
static int
s_apply (en_router_t *self, json_t *request, const char *state, const char *event,
         const char *expert, const char *detail)
{
    if (s_as_place (self, request)
    ||  s_check (self, request, en_json_str (request, "state"), state, event))
        return -1;
    const char *id = en_json_str (request, "id");
    int64_t place = en_json_int (request, "place", 1);
    //  The assigned expert: set on accept, kept through advice and close.
    const char *assigned = NULL;
    if (streq (state, "accepted"))
        assigned = expert ? expert : en_json_str (request, "expert");
    else
    if (streq (state, "advice") || streq (state, "closed") || streq (state, "monitoring"))
        assigned = en_json_str (request, "expert");
    //  A peer's expert (mirrored from the peer holding it) is not ours
    bool local = en_json_str (request, "peer") == NULL;
    //  A request of one place (most): its state is that place's, no
    //  need to read it back (place_count is counted in the same read)
    bool alone = json_integer_value (json_object_get (request, "place_count")) == 1;
    return en_bstore_place_update (self->store, id, place, state, assigned, local)
        || (alone ? s_derive_from (self, request, &state, &assigned, 1) : s_derive (self, request, NULL, NULL))
        || en_bstore_place_event (self->store, id, place, event, expert, detail)
        || s_audit (self, id, event, expert) ? -1 : 0;
}

//  Record a transition: request state, event, and a STATUS to the origin
//  node (extra fields merged into the STATUS body, reference stolen).
static int
s_transition (en_router_t *self, json_t *request, const char *state, const char *event,
              const char *expert, const char *detail, json_t *extra)
{
    if (s_apply (self, request, state, event, expert, detail)) {
        json_decref (extra);
        return -1;
    }
    const char *id = en_json_str (request, "id");
    json_t *body = extra ? extra : json_object ();
    json_object_set_new (body, "request", json_string (id));
    //  The request's state; the place's with its number (EXPN/3)
    json_object_set_new (body, "state", json_string (en_json_str (request, "request_state")));
    json_object_set_new (body, "place", json_integer (en_json_int (request, "place", 1)));
    json_object_set_new (body, "place_state", json_string (state));
    json_object_set_new (body, "event", json_string (event));
    json_object_set_new (body, "at", json_integer (en_now_ms ()));
    if (expert)
        json_object_set_new (body, "expert", json_string (expert));
    if (detail)
        json_object_set_new (body, "detail", json_string (detail));
    int rc = s_send (self, en_json_str (request, "origin"), "STATUS", body);
    if (en_json_int (request, "place_count", 1) > 1)
        en_db_log (en_bstore_db (self->store), "request %s place %" PRId64 ": %s%s%s", id,
                   en_json_int (request, "place", 1), event, expert ? " " : "", expert ? expert : "");
    else
        en_db_log (en_bstore_db (self->store), "request %s: %s%s%s", id, event, expert ? " " : "",
                   expert ? expert : "");
    //  Last: state may point into request's current value
    json_object_set_new (request, "state", json_string (state));
    //  Who takes part in its conversation may have changed (accept, close)
    return rc || en_convo_sync (self->convo, request) ? -1 : 0;
}

//  The STATUS of a change of the whole request (body, taken) to a peer it
//  came from: one per place that peer handed over (places as they were
//  before the change), naming it and its state after (EXPN/3: the peer
//  may hold several places, each mirrored onto its own). A place closed
//  before, or given back (returned, recalled: no longer the peer's
//  here), gets none. 0 or -1.
static int
s_status_places (en_router_t *self, json_t *request, json_t *places, const char *state, json_t *body)
{
    int rc = 0;
    size_t index;
    json_t *place;
    json_array_foreach (places, index, place) {
        const char *from = en_json_str (place, "state");
        if (streq (from, "closed") || streq (from, "returned") || streq (from, "recalled"))
            continue;
        json_t *one = json_deep_copy (body);
        json_object_set_new (one, "place", json_integer (en_json_int (place, "place", 1)));
        json_object_set_new (one, "place_state", json_string (state ? state : from));
        rc |= s_send (self, en_json_str (request, "origin"), "STATUS", one);
    }
    json_decref (body);
    return rc ? -1 : 0;
}

//  A transition of the whole request (a close, an operator's note on it):
//  every place not closed yet moves to state (NULL: stays where it is),
//  each as the request state machine allows; then one event and one
//  STATUS for the request, without a place (to a peer it came from: one
//  per place, s_status_places). Nothing is written when the machine
//  refuses any place's move (-1).
static int
s_transition_all (en_router_t *self, json_t *request, const char *state, const char *event,
                  const char *detail, json_t *extra)
{
    const char *id = en_json_str (request, "id");
    json_t *places = en_bstore_places (self->store, id);
    size_t index;
    json_t *place;
    int rc = 0;
    json_array_foreach (places, index, place) {
        const char *from = en_json_str (place, "state");
        if (!streq (from, "closed") && s_check (self, request, from, state ? state : from, event))
            rc = -1;
    }
    json_array_foreach (places, index, place) {
        const char *from = en_json_str (place, "state");
        if (rc == 0 && state && !streq (from, "closed"))
            rc = en_bstore_place_update (self->store, id, en_json_int (place, "place", 0), state,
                                         en_json_str (place, "expert"), en_json_int (place, "local", 1) != 0);
    }
    //  The places as they are now: as read, each not closed moved to state
    if (rc || s_derive (self, request, places, state)
    ||  en_bstore_event (self->store, id, event, NULL, detail) || s_audit (self, id, event, NULL)) {
        json_decref (places);
        json_decref (extra);
        return -1;
    }
    json_t *body = extra ? extra : json_object ();
    json_object_set_new (body, "request", json_string (id));
    json_object_set_new (body, "state", json_string (en_json_str (request, "request_state")));
    json_object_set_new (body, "event", json_string (event));
    json_object_set_new (body, "at", json_integer (en_now_ms ()));
    if (detail)
        json_object_set_new (body, "detail", json_string (detail));
    en_db_log (en_bstore_db (self->store), "request %s: %s", id, event);
    json_object_set_new (request, "state", json_string (en_json_str (request, "request_state")));
    rc = en_fedroute_from_peer (request) ? s_status_places (self, request, places, state, body)
                                         : s_send (self, en_json_str (request, "origin"), "STATUS", body);
    json_decref (places);
    //  A close ends the conversation: its participants are told
    return rc || en_convo_sync (self->convo, request) ? -1 : 0;
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
    int64_t place = en_json_int (request, "place", 1);
    if (en_bstore_offer_insert (self->store, offer_id, request_id, place, expert_id, node, kind, deadline))
        return -1;
    //  The place it is for (EXPN/3): its number in the summary's places
    json_t *body = json_pack ("{s:s, s:s, s:s, s:s, s:I, s:O, s:I}",
        "offer", offer_id, "request_id", request_id, "expert", expert_id,
        "kind", kind, "deadline", (json_int_t) deadline,
        "request", json_object_get (request, "summary"), "place", (json_int_t) place);
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

//  Hand request to a peer broker that advertises room for it, if there
//  is one (en_fedroute): *forwarded says whether it went. 0, or -1 on a
//  store error or refused transition.
static int
s_forward (en_router_t *self, json_t *request, bool *forwarded)
{
    char *peer = en_fedroute_pick (self->fed, request, self->again);
    int rc = peer && (s_reopen (self, request) || en_fedroute_hand_over (self->fed, request, peer)) ? -1 : 0;
    *forwarded = peer && rc == 0;
    free (peer);
    return rc;
}

//  Find the next candidate for request and offer it; else forward it to
//  a peer broker; else give it back to the peer it came from, or escalate
//  to a bovenregionale procesregisseur; else record a hiaat. A crisis
//  request that had crisis_local_offers local offers already is
//  forwarded before the next local candidate is tried: each offer may
//  take the whole crisis deadline. Returns 0, or -1 on a store error.
//  When routing a hiaat again (reopen_event set) and there is still
//  nobody, nothing is written and *nobody (may be NULL) is set.
//  Routing works on one place (s_as_place): its roles and tags, its open
//  offer; every place of a request is routed by the same rules, and a
//  request for one expert is the case of one place. A place goes to a
//  peer broker on its own (the FORWARD names it; en_fedroute).
static int
s_route (en_router_t *self, json_t *request, bool *nobody)
{
    if (s_as_place (self, request))
        return -1;
    //  request has the place's id, region and expertise, as a summary has
    json_t *summary = request;
    int64_t now = en_now_ms ();
    const char *roles [4] = { NULL };
    json_t *place_roles = json_object_get (request, "roles");
    for (size_t i = 0; i < 3 && i < json_array_size (place_roles); i++)
        roles [i] = json_string_value (json_array_get (place_roles, i));
    bool national_first = en_fedroute_national_first (self->fed, request);
    bool forwarded = false;
    if (national_first && s_forward (self, request, &forwarded))
        return -1;
    if (forwarded)
        return 0;
    json_t *candidate = s_candidate (self, summary, roles, false, now);
    int rc = 0;
    if (candidate)
        rc = s_reopen (self, request) || s_offer (self, request, candidate, "offer");
    else
    if (!national_first && (s_forward (self, request, &forwarded) || forwarded))
        rc = forwarded ? 0 : -1;
    else
    if (en_fedroute_from_peer (request))
        rc = en_fedroute_give_back (self->fed, request);
    else {
        candidate = s_candidate (self, summary, NULL, true, now);
        if (candidate)
            rc = s_reopen (self, request) || s_offer (self, request, candidate, "escalation");
        else
        if (self->reopen_event) {
            if (nobody)         //  a hiaat routed again: it stays as it was
                *nobody = true;
        }
        else {
            en_metrics_count (self->metrics, EN_METRIC_ROUTING, "hiaat", 1);
            rc = en_bstore_hiaat (self->store, request)
              || s_transition (self, request, "hiaat", "hiaat", NULL,
                               "no expert or procesregisseur available", NULL);
        }
    }
    json_decref (candidate);
    return rc ? -1 : 0;
}

//  Store a new request and route it. origin is where its STATUS goes (a
//  node, or "peer:<broker>"); submit the origin node's signed SUBMIT,
//  carried with its key (hex) and the brokers it passed (NULL: submitted
//  here).
static int
s_submit (en_router_t *self, const char *origin, en_msg_t *submit, json_t *summary, const char *sign_key,
          const char *origin_node, json_t *visited, int64_t only_place, const char *detail, en_error_t *error)
{
    const char *id = en_json_str (summary, "id");
    json_t *carried = en_msg_export (submit);
    int rc = en_bstore_request_insert (self->store, origin, en_msg_id (submit), summary, carried, sign_key,
                                       origin_node, visited, only_place, error);
    json_decref (carried);
    if (rc)
        return -1;
    //  What the state machine asks of a request just stored: its origin
    //  (it has no peer yet)
    json_t *request = json_pack ("{s:s, s:s}", "id", id, "origin", origin);
    rc = en_convo_submitted (self->convo, id, en_msg_body (submit))
      || s_check (self, request, NULL, "submitted", "submitted")
      || en_bstore_event (self->store, id, "submitted", NULL, detail)
      || s_audit (self, id, "submitted", NULL);
    json_decref (request);
    //  Every place is routed at once: a team is filled in parallel. The
    //  first place's view counts them: most requests have one.
    json_t *view = rc ? NULL : en_bstore_request_place_held (self->store, summary, 0);
    json_t *places = view && en_json_int (view, "place_count", 1) > 1 ? en_bstore_places (self->store, id) : NULL;
    rc = rc || !view || s_route (self, view, NULL);
    json_decref (view);
    size_t index;
    json_t *place;
    json_array_foreach (places, index, place) {
        if (index == 0)
            continue;           //  the first, routed above
        view = rc ? NULL : en_bstore_request_place_held (self->store, summary, en_json_int (place, "place", 0));
        rc = rc || !view || s_route (self, view, NULL);
        json_decref (view);
    }
    json_decref (places);
    return rc ? s_failed (self, error) : 0;
}

//  Another place of a request a peer handed over before: stored, its
//  event, the request's state derived again, and that place routed.
static int
s_submit_place (en_router_t *self, json_t *summary, int64_t place, const char *detail, en_error_t *error)
{
    const char *id = en_json_str (summary, "id");
    if (en_bstore_place_add (self->store, summary, place))
        return s_failed (self, error);
    json_t *view = en_bstore_request_place (self->store, id, place);
    int rc = !view
          || s_check (self, view, NULL, "submitted", "submitted")
          || s_derive (self, view, NULL, NULL)
          || en_bstore_place_event (self->store, id, place, "submitted", NULL, detail)
          || s_audit (self, id, "submitted", NULL)
          || s_route (self, view, NULL);
    json_decref (view);
    return rc ? s_failed (self, error) : 0;
}

static int
s_handle_submit (en_router_t *self, const char *node, const char *node_region,
                 en_msg_t *msg, en_error_t *error)
{
    json_t *summary = json_object_get (en_msg_body (msg), "request");
    if (en_request_validate (summary, error))
        return -1;
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
    if (en_convo_check_team_key (en_msg_body (msg), error))
        return -1;
    //  The signed original and its key go with the request: if it is
    //  forwarded, every broker on the way checks the origin's signature
    char key [65] = "";
    if (self->has_sender_key)
        sodium_bin2hex (key, sizeof key, self->sender_key, sizeof self->sender_key);
    return s_submit (self, node, msg, summary, *key ? key : NULL, node, NULL, 0, NULL, error);
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
    json_array_foreach (experts, index, expert) {
        en_error_t invalid = { 0 };
        if (en_expert_validate (expert, &invalid))
            return en_error_set (error, EN_ERR_INVALID, "experts[%zu]: %s", index, invalid.reason);
        if (!streq (en_json_str (expert, "region"), node_region))
            return en_error_set (error, EN_ERR_INVALID, "experts[%zu]: region must be the node's region '%s'",
                                 index, node_region);
    }
    //  A store error is not the node's: 500, so it is sent again
    if (en_bstore_experts_replace (self->store, node, experts, error))
        return -1;
    if (en_convo_experts_published (self->convo, node))
        return s_failed (self, error);
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

//  The request as the place of offer sees it (s_as_place).
static json_t *
s_offer_place (en_router_t *self, json_t *offer)
{
    return en_bstore_request_place (self->store, en_json_str (offer, "request_id"),
                                    en_json_int (offer, "place", 1));
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
    json_t *request = s_offer_place (self, offer);
    s_count_answer (self, offer, "accepted");
    //  s_transition takes accepted; when it is not reached, accepted goes
    int rc = en_bstore_offer_close (self->store, en_json_str (offer, "id"), "accepted", NULL);
    if (rc)
        json_decref (accepted);
    else
        rc = s_transition (self, request, "accepted", "accepted", expert, NULL, accepted);
    json_decref (request);
    json_decref (offer);
    return rc ? s_failed (self, error) : 0;
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
    if (summary && en_summary_validate (summary, error))
        return -1;
    json_t *outcome = json_object_get (body, "outcome");
    if (outcome && en_outcome_validate (outcome, error))
        return -1;
    if (en_bstore_summary_put (self->store, node, body))
        return s_failed (self, error);
    return 0;
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
    //  Which place's expert it is for (EXPN/3): `place`, which a request
    //  of one place may leave out
    json_t *place = json_object_get (body, "place");
    json_t *view = NULL;
    if (request && (place || en_json_int (request, "place_count", 1) == 1))
        view = en_bstore_request_place (self->store, request_id, place ? json_integer_value (place) : 0);
    if (view) {
        json_decref (request);
        request = view;
    }
    int rc = 0;
    if (!request)
        rc = en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s'", request_id ? request_id : "");
    else
    if (!streq (en_json_str (request, "origin"), node))
        rc = en_error_set (error, EN_ERR_FORBIDDEN, "only the origin of '%s' may send its %s", request_id,
                           dossier ? "dossier" : "replies");
    else
    if (!view)
        rc = en_error_set (error, EN_ERR_INVALID, "field 'place' must name a place of '%s' (1 to %" PRId64 ")",
                           request_id, en_json_int (request, "place_count", 1));
    else
    if (!en_json_str (request, "expert")
    ||  (!streq (en_json_str (request, "state"), "accepted") && !streq (en_json_str (request, "state"), "advice")
         && !streq (en_json_str (request, "state"), "monitoring")))
        rc = en_error_set (error, EN_ERR_CONFLICT, "request '%s' has no accepting expert", request_id);
    else
    if (!sealed || strlen (sealed) == 0 || strlen (sealed) > EN_MAX_BODY - 1024)
        rc = en_error_set (error, EN_ERR_INVALID, "field 'sealed' must be the sealed %s (base64)",
                           dossier ? "dossier" : "reply");
    else
    if (en_json_str (request, "peer"))
        rc = en_fedroute_relay_own (self->fed, request, msg, self->has_sender_key ? self->sender_key : NULL, error);
    else {
        //  To the expert of the place it names (the one place of a request
        //  that has one)
        const char *to = en_json_str (request, "expert");
        json_t *expert = en_bstore_expert (self->store, to);
        const char *event = dossier ? "dossier" : "reply";
        rc = s_send (self, en_json_str (expert, "node"), command,
                     json_pack ("{s:s, s:s, s:s}", "request", request_id, "expert", to, "sealed", sealed))
          || en_bstore_place_event (self->store, request_id, en_json_int (request, "place", 1), event, to, NULL)
          || s_audit (self, request_id, event, to);
        json_decref (expert);
        if (rc)
            s_failed (self, error);
        else
            en_db_log (en_bstore_db (self->store), "request %s: sealed %s relayed to %s", request_id, event, to);
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
    json_t *request = s_offer_place (self, offer);
    s_count_answer (self, offer, "declined");
    int rc = en_bstore_offer_close (self->store, en_json_str (offer, "id"), "declined", reason)
          || s_transition (self, request, en_json_str (request, "state"), "declined",
                           en_json_str (offer, "expert"), reason, NULL)
          || s_route (self, request, NULL);
    json_decref (request);
    json_decref (offer);
    return rc ? s_failed (self, error) : 0;
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
    json_t *request = s_offer_place (self, offer);
    const char *state = en_json_str (request, "state");
    int rc = 0;
    //  Advice on a request in monitoring (follow-up) leaves it there
    bool monitoring = streq (state, "monitoring");
    if (!streq (state, "accepted") && !streq (state, "advice") && !monitoring)
        rc = en_error_set (error, EN_ERR_CONFLICT, "request '%s' is %s", en_json_str (request, "id"),
                           en_json_int (request, "place_count", 1) > 1 ? "not accepted at this place" : state);
    else
    //  The advice text travels to the origin in the STATUS message and is
    //  kept only in the outbox until the origin acknowledges it.
    if (s_transition (self, request, monitoring ? "monitoring" : "advice", "advice", en_json_str (offer, "expert"), NULL,
                      json_pack ("{s:s}", "advice", text)))
        rc = s_failed (self, error);
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
    //  A place's (request as a place sees it), or every place's
    json_t *place = json_object_get (request, "place");
    json_t *open = place ? en_bstore_place_offers_open (self->store, request_id, json_integer_value (place))
                         : en_bstore_offers_open (self->store, request_id, 0);
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

//  CLOSE of a request some of whose places peer brokers hold: the CLOSE
//  is relayed once to each peer holding a place (it closes them there,
//  and its STATUS per place closes each here), each place held here is
//  closed now, one by one (a STATUS per place). For a request of one
//  place: the relay.
static int
s_close_places (en_router_t *self, json_t *request, en_msg_t *msg, const char *outcome, en_error_t *error)
{
    const char *id = en_json_str (request, "id");
    json_t *places = en_bstore_places (self->store, id);
    size_t index;
    json_t *place;
    int rc = 0;
    json_array_foreach (places, index, place) {
        if (rc || streq (en_json_str (place, "state"), "closed"))
            continue;
        json_t *view = en_bstore_request_place (self->store, id, en_json_int (place, "place", 0));
        if (!view)
            rc = en_error_set (error, EN_ERR_INTERNAL, "store error");
        else
        if (en_json_str (view, "peer")) {
            //  once per peer, however many places it holds
            if (!en_fedroute_relayed_before (places, index))
                rc = en_fedroute_relay_own (self->fed, view, msg, self->has_sender_key ? self->sender_key : NULL,
                                            error);
        }
        else
        if (s_withdraw_open (self, view, "closed", NULL, NULL)
        ||  s_transition (self, view, "closed", "closed", NULL, outcome, NULL))
            rc = s_failed (self, error);
        json_decref (view);
    }
    json_decref (places);
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
        rc = s_close_places (self, request, msg, json_string_value (outcome), error);
    else
    if (s_withdraw_open (self, request, "closed", NULL, NULL)
    ||  s_transition_all (self, request, "closed", "closed", json_string_value (outcome), NULL))
        rc = s_failed (self, error);
    json_decref (request);
    return rc ? -1 : 0;
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
        return s_failed (self, error);
    if (*conflict)
        zsys_error ("AUDIT: %s anchored a head that does not follow its earlier ones: %s; "
                    "its access log may have been rewritten", sender, conflict);
    snprintf (detail, sizeof detail, "head %" PRId64 " %s%s%s", (int64_t) json_integer_value (seq), hash,
              *conflict ? "; does not follow: " : "", conflict);
    en_audit_entry_t entry = { .event = "audit.anchor", .actor = sender, .action = "receive",
                               .outcome = *conflict ? "error" : "ok", .detail = detail };
    if (en_audit_append (en_bstore_db (self->store), &entry))
        return s_failed (self, error);
    return 0;
}

//  MESSAGE and RECEIPT, a request's conversation, are en_convo's.
static int
s_handle_message (en_router_t *self, const char *node, en_msg_t *msg, en_error_t *error)
{
    return en_convo_handle_message (self->convo, node, msg, error);
}

static int
s_handle_receipt (en_router_t *self, const char *node, en_msg_t *msg, en_error_t *error)
{
    return en_convo_handle_receipt (self->convo, node, msg, error);
}

//  ... and from a peer broker, for a request handed over (either way)
static int
s_handle_peer_convo (en_router_t *self, const char *peer, en_msg_t *msg, en_error_t *error)
{
    char origin [80];
    snprintf (origin, sizeof origin, "peer:%s", peer);
    const char *command = en_msg_command (msg);
    return streq (command, "MESSAGE") ? en_convo_handle_message (self->convo, origin, msg, error)
         : streq (command, "RECEIPT") ? en_convo_handle_receipt (self->convo, origin, msg, error)
         : en_convo_handle_members (self->convo, origin, msg, error);
}

//  A peer broker's FORWARD, STATUS and RECALL are the federation routing
//  module's (en_fedroute).
static int
s_handle_forward (en_router_t *self, const char *peer, en_msg_t *msg, en_error_t *error)
{
    return en_fedroute_handle_forward (self->fed, peer, msg, error);
}

static int
s_handle_peer_status (en_router_t *self, const char *peer, en_msg_t *msg, en_error_t *error)
{
    return en_fedroute_handle_status (self->fed, peer, msg, error);
}

static int
s_handle_recall (en_router_t *self, const char *peer, en_msg_t *msg, en_error_t *error)
{
    return en_fedroute_handle_recall (self->fed, peer, msg, error);
}

int
en_router_forward_refused (en_router_t *self, const char *peer, const char *msg_id,
                           int code, const char *reason)
{
    self->actor = peer;
    int rc = en_fedroute_forward_refused (self->fed, peer, msg_id, code, reason);
    if (rc)
        s_failed (self, NULL);      //  logged where it arose
    self->actor = self->name;
    return rc;
}

int
en_router_anchor (en_router_t *self, const char *peer, json_t *body)
{
    return en_fedroute_anchor (self->fed, peer, body);
}

//  --------------------------------------------------------------------
//  The route/transition interface, for the federation routing module
//  (en_fedroute): the local router's own steps, nothing more

int
en_router_transition (en_router_t *self, json_t *request, const char *state, const char *event,
                      const char *expert, const char *detail, json_t *extra)
{
    return s_transition (self, request, state, event, expert, detail, extra);
}

int
en_router_transition_all (en_router_t *self, json_t *request, const char *state, const char *event,
                          const char *detail, json_t *extra)
{
    return s_transition_all (self, request, state, event, detail, extra);
}

int
en_router_apply (en_router_t *self, json_t *request, const char *state, const char *event,
                 const char *expert, const char *detail)
{
    return s_apply (self, request, state, event, expert, detail);
}

int
en_router_record (en_router_t *self, const char *request_id, const char *event, const char *expert,
                  const char *detail)
{
    return en_bstore_event (self->store, request_id, event, expert, detail)
        || s_audit (self, request_id, event, expert) ? -1 : 0;
}

int
en_router_route (en_router_t *self, json_t *request)
{
    return s_route (self, request, NULL);
}

int
en_router_submit (en_router_t *self, const char *origin, en_msg_t *submit, json_t *summary,
                  const char *sign_key, const char *origin_node, json_t *visited, int64_t only_place,
                  const char *detail, en_error_t *error)
{
    return s_submit (self, origin, submit, summary, sign_key, origin_node, visited, only_place, detail, error);
}

int
en_router_submit_place (en_router_t *self, json_t *summary, int64_t place, const char *detail,
                        en_error_t *error)
{
    return s_submit_place (self, summary, place, detail, error);
}

int
en_router_guard_request (en_router_t *self, json_t *summary, en_error_t *error)
{
    return s_guard_request (self, summary, error);
}

int
en_router_withdraw_open (en_router_t *self, json_t *request, const char *reason,
                         const char *event, const char *detail)
{
    return s_withdraw_open (self, request, reason, event, detail);
}

int
en_router_close (en_router_t *self, const char *origin, en_msg_t *msg, en_error_t *error)
{
    return s_handle_close (self, origin, msg, error);
}

int
en_router_sealed (en_router_t *self, const char *origin, en_msg_t *msg, en_error_t *error)
{
    return s_handle_sealed (self, origin, msg, error);
}

int
en_router_relay (en_router_t *self, json_t *request, en_msg_t *msg, en_error_t *error)
{
    return en_fedroute_relay_own (self->fed, request, msg, self->has_sender_key ? self->sender_key : NULL, error);
}

int
en_router_failed (en_router_t *self, en_error_t *error)
{
    return s_failed (self, error);
}

en_bstore_t *
en_router_store (en_router_t *self)
{
    return self->store;
}

int
en_router_send (en_router_t *self, const char *node, const char *command, json_t *body)
{
    return s_send (self, node, command, body);
}

void
en_router_act_as_broker (en_router_t *self)
{
    self->actor = self->name;
    self->by_operator = false;
}

json_t *
en_router_pii_counts (en_router_t *self)
{
    assert (self);
    return en_pii_counts (self->pii);
}

//  --------------------------------------------------------------------
//  Reliable messages: one table of {command, who sends it, handler}

typedef enum {
    S_FROM_NODE = 1,            //  a node of this province
    S_FROM_PEER = 2,            //  a peer broker
    S_FROM_ANY = 3
} s_from_t;

//  A handler takes the sender; a node's command that depends on the
//  node's region takes the region too. 0, or -1 with error.
typedef int (s_handler_fn) (en_router_t *self, const char *sender, en_msg_t *msg, en_error_t *error);
typedef int (s_regional_fn) (en_router_t *self, const char *node, const char *node_region,
                             en_msg_t *msg, en_error_t *error);

static const struct {
    const char *command;        //  the command
    s_from_t from;              //  who may send it
    s_handler_fn *handler;      //  what takes it, or
    s_regional_fn *regional;    //  what takes it with the node's region
} s_commands [] = {
    //  command          sent by       handler                regional
    { "SUBMIT",        S_FROM_NODE,  NULL,                  s_handle_submit },
    { "AVAILABILITY",  S_FROM_NODE,  NULL,                  s_handle_availability },
    { "SUMMARY",       S_FROM_NODE,  NULL,                  s_handle_summary },
    { "ACCEPT",        S_FROM_NODE,  s_handle_accept,       NULL },
    { "DECLINE",       S_FROM_NODE,  s_handle_decline,      NULL },
    { "ADVICE",        S_FROM_NODE,  s_handle_advice,       NULL },
    { "CLOSE",         S_FROM_NODE,  s_handle_close,        NULL },
    { "DOSSIER",       S_FROM_NODE,  s_handle_sealed,       NULL },
    { "REPLY",         S_FROM_NODE,  s_handle_sealed,       NULL },
    { "ANCHOR",        S_FROM_ANY,   s_handle_anchor,       NULL },
    { "MESSAGE",       S_FROM_NODE,  s_handle_message,      NULL },
    { "RECEIPT",       S_FROM_NODE,  s_handle_receipt,      NULL },
    { "FORWARD",       S_FROM_PEER,  s_handle_forward,      NULL },
    { "STATUS",        S_FROM_PEER,  s_handle_peer_status,  NULL },
    { "RECALL",        S_FROM_PEER,  s_handle_recall,       NULL },
    { "MESSAGE",       S_FROM_PEER,  s_handle_peer_convo,   NULL },
    { "RECEIPT",       S_FROM_PEER,  s_handle_peer_convo,   NULL },
    { "MEMBERS",       S_FROM_PEER,  s_handle_peer_convo,   NULL },
    { "REVIEW",        S_FROM_NODE,  en_followup_review,    NULL },
    { "BERAAD",        S_FROM_NODE,  en_followup_beraad,    NULL },
};

//  Hand msg from sender (a node in region node_region, or a peer broker)
//  to its command's handler, with the sender as the actor.
static int
s_dispatch (en_router_t *self, const char *sender, const char *node_region, s_from_t from,
            en_msg_t *msg, en_error_t *error)
{
    self->actor = sender;
    const char *command = en_msg_command (msg);
    for (size_t row = 0; row < sizeof s_commands / sizeof s_commands [0]; row++) {
        if (!streq (s_commands [row].command, command) || !(s_commands [row].from & from))
            continue;
        return s_commands [row].handler ? s_commands [row].handler (self, sender, msg, error)
                                        : s_commands [row].regional (self, sender, node_region, msg, error);
    }
    if (from == S_FROM_PEER)
        return en_error_set (error, EN_ERR_BAD_REQUEST, "command %s is not sent by a peer broker", command);
    return en_error_set (error, EN_ERR_BAD_REQUEST, "command %s is not sent to a broker", command);
}

int
en_router_handle (en_router_t *self, const char *node, const char *node_region,
                  en_msg_t *msg, en_error_t *error)
{
    return s_dispatch (self, node, node_region, S_FROM_NODE, msg, error);
}

int
en_router_handle_peer (en_router_t *self, const char *peer, en_msg_t *msg, en_error_t *error)
{
    return s_dispatch (self, peer, NULL, S_FROM_PEER, msg, error);
}

int
en_router_receive (en_router_t *self, const char *node, const char *node_region,
                   bool is_peer, en_msg_t *msg, en_error_t *error)
{
    return s_dispatch (self, node, node_region, is_peer ? S_FROM_PEER : S_FROM_NODE, msg, error);
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
        json_t *request = s_offer_place (self, offer);
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
        ||  s_route (self, request, NULL)
        ||  en_db_release (db)) {
            en_db_rollback_to (db);
            s_failed (self, NULL);      //  logged where it arose
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
        json_t *request = en_bstore_request_place (self->store, en_json_str (row, "request_id"),
                                                   en_json_int (row, "place", 1));
        if (en_db_savepoint (db)) {
            json_decref (request);
            routed = -1;        //  the store fails: the caller's next pass, delayed
            break;
        }
        self->reopen_event = "rerouted";
        self->reopen_detail = "routed again: an expert, a free place or a peer became available";
        bool nobody = false;
        int rc = request ? s_route (self, request, &nobody) : -1;
        self->reopen_event = NULL;
        json_decref (request);
        if (rc < 0) {
            //  The store fails (a full disk?): the rest waits for the
            //  caller's next pass, which it delays
            en_db_rollback_to (db);
            s_failed (self, NULL);      //  logged where it arose
            routed = -1;
            break;
        }
        else {
            en_db_release (db);
            if (!nobody) {
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
    en_error_t error = { 0 };
    json_t *none = json_array ();
    int rc = en_bstore_experts_replace (self->store, node, none, &error);
    json_decref (none);
    if (rc) {
        zsys_error ("node %s revoked: could not withdraw its experts: %s", node, error.reason);
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
        json_t *request = s_offer_place (self, offer);
        en_db_t *db = en_bstore_db (self->store);
        bool saved = en_db_savepoint (db) == 0;
        if (saved)
            en_metrics_count (self->metrics, EN_METRIC_OFFER_OUTCOME, "withdrawn", 1);
        if (!saved || !request
        ||  en_bstore_offer_close (self->store, en_json_str (offer, "id"), "withdrawn", "revoked")
        ||  s_transition (self, request, en_json_str (request, "state"), "revoked",
                          en_json_str (offer, "expert"), detail, NULL)
        ||  s_route (self, request, NULL)
        ||  en_db_release (db)) {
            if (saved)
                en_db_rollback_to (db);
            s_failed (self, NULL);      //  logged where it arose
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

//  --------------------------------------------------------------------
//  Operators' actions

//  One operator's action on one request, as the action functions see it.
typedef struct {
    const char *operator_name;  //  who acts
    const char *request_id;     //  on which request
    const char *reason;         //  why (checked: 1..500 bytes, no personal data)
    char state [16];            //  the request's state before
    char event [32];            //  the event recorded first: "operator-<action>"
    char detail [600];          //  its detail: "<operator>: <reason>"
} s_act_t;

typedef int (s_act_fn) (en_router_t *self, json_t *request, s_act_t *act, en_error_t *error);

//  Close: withdraw open offers, close with outcome "closed by operator:
//  <reason>"; the whole request, or one place of it (request as that
//  place sees it: the others go on being filled).
static int
s_act_close (en_router_t *self, json_t *request, s_act_t *act, en_error_t *error)
{
    char outcome [600];
    snprintf (outcome, sizeof outcome, "closed by operator: %s", act->reason);
    bool one_place = json_object_get (request, "place") && en_json_int (request, "place_count", 1) > 1;
    if (streq (act->state, "closed") && one_place)
        return en_error_set (error, EN_ERR_CONFLICT, "place %" PRId64 " of request '%s' is already closed",
                             en_json_int (request, "place", 0), act->request_id);
    if (streq (act->state, "closed"))
        return en_error_set (error, EN_ERR_CONFLICT, "request '%s' is already closed", act->request_id);
    int rc = 0;
    if (json_object_get (request, "place"))
        rc = s_transition (self, request, act->state, act->event, NULL, act->detail, NULL)
          || s_withdraw_open (self, request, "closed", NULL, NULL)
          || s_transition (self, request, "closed", "closed", NULL, outcome, NULL);
    else
        rc = s_transition_all (self, request, NULL, act->event, act->detail, NULL)
          || s_withdraw_open (self, request, "closed", NULL, NULL)
          || s_transition_all (self, request, "closed", "closed", outcome, NULL);
    return rc ? s_failed (self, error) : 0;
}

//  Re-offer and escalate move only a request that routing can move.
static int
s_act_routable (s_act_t *act, const char *verb, en_error_t *error)
{
    if (streq (act->state, "submitted") || streq (act->state, "offered")
    ||  streq (act->state, "escalated") || streq (act->state, "hiaat"))
        return 0;
    return en_error_set (error, EN_ERR_CONFLICT, "request '%s' is %s: it cannot be %s", act->request_id,
                         act->state, verb);
}

//  Re-offer: withdraw the open offer and route again, with who let an
//  offer of it expire unanswered asked again (not who declined, nor whose
//  offer an operator withdrew: this one's included), and peers it was
//  recalled from. A hiaat has nothing to withdraw: the operator's event
//  goes first only if someone is found, else nothing changes and they
//  hear so.
static int
s_act_reoffer (en_router_t *self, json_t *request, s_act_t *act, en_error_t *error)
{
    if (s_act_routable (act, "offered again", error))
        return -1;
    int rc = 0;
    self->again = true;
    if (streq (act->state, "hiaat")) {
        self->reopen_event = act->event;
        self->reopen_detail = act->detail;
        bool nobody = false;
        if (s_route (self, request, &nobody))
            rc = s_failed (self, error);
        else
        if (nobody)
            rc = en_error_set (error, EN_ERR_CONFLICT, "nobody is available for '%s': it stays a hiaat "
                               "(experts who declined it and peers that gave it back are not asked again)",
                               act->request_id);
        self->reopen_event = NULL;
    }
    else
    if (s_transition (self, request, act->state, act->event, NULL, act->detail, NULL)
    ||  s_withdraw_open (self, request, "withdrawn", "withdrawn", act->detail)
    ||  s_route (self, request, NULL))
        rc = s_failed (self, error);
    self->again = false;
    return rc;
}

//  Escalate: withdraw the open offer and offer the request to a
//  bovenregionale procesregisseur, only when there is one; otherwise
//  nothing changes and the operator is told so.
static int
s_act_escalate (en_router_t *self, json_t *request, s_act_t *act, en_error_t *error)
{
    if (s_act_routable (act, "escalated", error))
        return -1;
    json_t *candidate = en_bstore_candidate (self->store, json_object_get (request, "summary"),
                                             NULL, true, en_now_ms ());
    int rc = 0;
    if (!candidate)
        rc = en_error_set (error, EN_ERR_CONFLICT,
                           "no bovenregionale procesregisseur is available for '%s'", act->request_id);
    else
    if (s_transition (self, request, act->state, act->event, NULL, act->detail, NULL)
    ||  s_withdraw_open (self, request, "withdrawn", "withdrawn", act->detail)
    ||  s_offer (self, request, candidate, "escalation"))
        rc = s_failed (self, error);
    json_decref (candidate);
    return rc;
}

//  Recall: take the place back from the peer holding it (en_fedroute);
//  for the whole request, every place a peer holds (done when one came
//  back, else the last refusal).
static int
s_act_recall (en_router_t *self, json_t *request, s_act_t *act, en_error_t *error)
{
    if (json_object_get (request, "place"))
        return en_fedroute_recall (self->fed, act->operator_name, request, act->reason, error);
    json_t *places = en_bstore_places (self->store, act->request_id);
    size_t index;
    json_t *place;
    int recalled = 0, failed = 0;
    json_array_foreach (places, index, place) {
        if (failed || !en_json_str (place, "peer"))
            continue;
        json_t *view = en_bstore_request_place (self->store, act->request_id, en_json_int (place, "place", 0));
        en_error_clear (error);
        if (!view)
            failed = en_error_set (error, EN_ERR_INTERNAL, "store error");
        else
        if (en_fedroute_recall (self->fed, act->operator_name, view, act->reason, error) == 0)
            recalled++;
        else
        if (error->code != EN_ERR_CONFLICT)
            failed = -1;
        json_decref (view);
    }
    json_decref (places);
    if (recalled && !failed)
        en_error_clear (error);
    else
    if (!failed && error->code == 0)
        en_error_set (error, EN_ERR_CONFLICT, "request '%s' is not with a peer broker", act->request_id);
    return recalled && !failed ? 0 : -1;
}

//  The actions: on a request held here, or (recall) on one a peer holds;
//  recall logs its own line, naming the peer.
static const struct {
    const char *name;           //  the action
    bool with_peer;             //  acts on a request a peer broker holds
    s_act_fn *fn;               //  what it does
} s_actions [] = {
    { "reoffer",  false, s_act_reoffer },
    { "escalate", false, s_act_escalate },
    { "close",    false, s_act_close },
    { "recall",   true,  s_act_recall },
};

//  Check who acts, the action and the reason (the PII guard included):
//  0 with *row the action's row in s_actions, or -1 with error.
static int
s_act_check (en_router_t *self, const char *operator_name, const char *action, const char *reason,
             size_t *row, en_error_t *error)
{
    if (!en_name_valid (operator_name))
        return en_error_set (error, EN_ERR_INVALID, "field 'operator' must be an operator name");
    *row = 0;
    while (*row < sizeof s_actions / sizeof s_actions [0] && !(action && streq (s_actions [*row].name, action)))
        (*row)++;
    if (*row == sizeof s_actions / sizeof s_actions [0])
        return en_error_set (error, EN_ERR_BAD_REQUEST, "action must be reoffer, escalate, close or recall");
    if (!reason || strlen (reason) == 0 || strlen (reason) > 500)
        return en_error_set (error, EN_ERR_INVALID, "field 'reason' must be text of 1 to 500 bytes");
    self->actor = operator_name;
    int refused = s_guard_text (self, "reason", reason, error);
    self->actor = self->name;
    return refused;
}

//  One action on one place (request as that place sees it: its state)
//  or, for close and recall, on the whole request.
static int
s_act_on (en_router_t *self, size_t row, json_t *request, s_act_t *act, en_error_t *error)
{
    snprintf (act->state, sizeof act->state, "%s", en_json_str (request, "state"));
    return s_actions [row].fn (self, request, act, error);
}

//  Re-offer or escalate every place that routing can move (place 0): done
//  when it moved one; a store error stops all; when none moved, the last
//  refusal (or why the request cannot move) is the answer.
static int
s_act_places (en_router_t *self, size_t row, json_t *request, s_act_t *act, en_error_t *error)
{
    json_t *places = en_bstore_places (self->store, act->request_id);
    size_t index;
    json_t *place;
    int moved = 0, failed = 0;
    json_array_foreach (places, index, place) {
        snprintf (act->state, sizeof act->state, "%s", en_json_str (place, "state"));
        en_error_t refused = { 0 };
        if (en_json_str (place, "peer") || s_act_routable (act, "moved", &refused))
            continue;           //  a peer's place is acted on there (or recalled)
        //  Each place in a savepoint: one that is refused leaves nothing
        en_db_t *db = en_bstore_db (self->store);
        json_t *view = en_bstore_request_place (self->store, act->request_id, en_json_int (place, "place", 0));
        int rc = !view || en_db_savepoint (db) ? en_error_set (&refused, EN_ERR_INTERNAL, "store error")
                                               : s_act_on (self, row, view, act, &refused);
        if (view && rc == 0 && en_db_release (db))
            rc = en_error_set (&refused, EN_ERR_INTERNAL, "store error");
        else
        if (view && rc && refused.code == EN_ERR_CONFLICT)
            en_db_rollback_to (db);
        json_decref (view);
        if (rc == 0)
            moved++;
        else
        if (refused.code != EN_ERR_CONFLICT) {
            *error = refused;
            failed = -1;
            break;
        }
        else
            *error = refused;
    }
    json_decref (places);
    if (failed || moved)
        return failed ? -1 : 0;
    if (error->code == 0) {
        snprintf (act->state, sizeof act->state, "%s", en_json_str (request, "state"));
        s_act_routable (act, streq (act->event, "operator-reoffer") ? "offered again" : "escalated", error);
    }
    return -1;
}

//  Operator actions. Each is one event "operator-<action>" with the
//  operator's name and reason, then the transitions it causes, all with
//  the operator as the actor in the access log.
int
en_router_operator (en_router_t *self, const char *operator_name, const char *action,
                    const char *request_id, const char *reason, en_error_t *error)
{
    return en_router_operator_place (self, operator_name, action, request_id, 0, reason, error);
}

int
en_router_operator_place (en_router_t *self, const char *operator_name, const char *action,
                          const char *request_id, int64_t place, const char *reason, en_error_t *error)
{
    size_t row = 0;
    if (s_act_check (self, operator_name, action, reason, &row, error))
        return -1;
    json_t *request = en_id_valid (request_id) ? en_bstore_request (self->store, request_id) : NULL;
    if (!request)
        return en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s'", request_id ? request_id : "");
    json_t *view = place > 0 ? en_bstore_request_place (self->store, request_id, place) : NULL;
    int rc = 0;
    if (place < 0 || (place > 0 && !view))
        rc = en_error_set (error, EN_ERR_NOT_FOUND, "request '%s' has no place %" PRId64, request_id, place);
    else {
        //  A place a peer holds is acted on there; so is a request of
        //  one, and the close of a whole team one of whose places is
        //  with a peer (re-offer and escalate of a team pass its places
        //  a peer holds by)
        json_t *target = view ? view : request;
        bool whole_team = !view && en_json_int (request, "place_count", 1) > 1 && !streq (action, "close");
        if (!s_actions [row].with_peer && !whole_team && en_json_str (target, "peer")
        &&  !streq (en_json_str (target, "state"), "closed"))
            rc = en_error_set (error, EN_ERR_CONFLICT, "request '%s'%s is with peer broker '%s': its operators act on "
                               "it there, or recall it", request_id, view ? " (that place)" : "",
                               en_json_str (target, "peer"));
    }
    if (rc) {
        json_decref (view);
        json_decref (request);
        return -1;
    }
    s_act_t act = { .operator_name = operator_name, .request_id = request_id, .reason = reason };
    snprintf (act.event, sizeof act.event, "operator-%s", action);
    snprintf (act.detail, sizeof act.detail, "%s: %s", operator_name, reason);
    self->actor = operator_name;
    self->by_operator = true;
    //  One place; or, for re-offer and escalate of a team, each open place
    bool each = !view && !s_actions [row].with_peer && !streq (action, "close")
             && en_json_int (request, "place_count", 1) > 1;
    if (view)
        rc = s_act_on (self, row, view, &act, error);
    else
    if (each)
        rc = s_act_places (self, row, request, &act, error);
    else
        rc = s_act_on (self, row, request, &act, error);
    if (rc == 0) {
        en_metrics_count (self->metrics, EN_METRIC_OPERATOR, action, 1);
        if (!s_actions [row].with_peer)
            en_db_log (en_bstore_db (self->store), "request %s: %s by operator %s", request_id, action, operator_name);
    }
    self->by_operator = false;
    self->actor = self->name;
    json_decref (view);
    json_decref (request);
    return rc ? -1 : 0;
}
