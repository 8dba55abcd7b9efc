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

    Operators (the dashboard, en_router_operator) can move a request on
    by hand, with a reason: re-offer (withdraw the open offer, route
    again), escalate (withdraw, offer to a bovenregionale
    procesregisseur) or close. They use the same transitions as the
    nodes' messages, so the events, STATUS messages, capacity and access
    log stay as consistent as for any other change; the operator is the
    actor in the access log.
*/
#include "en_router.h"

struct _en_router_t {
    en_bstore_t *store;         //  broker store (not owned)
    char *name;                 //  broker name, sender of our messages
    int64_t deadline [3];       //  offer deadline per urgency index, ms
    zlistx_t *regions;          //  regions of this province (strings)
    const char *actor;          //  who caused the transition being handled
    bool by_operator;           //  actor is an operator (dashboard, control socket)
    en_metrics_t *metrics;      //  counters and latencies (not owned), or NULL
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
    self->regions = zlistx_new ();
    zlistx_set_destructor (self->regions, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_duplicator (self->regions, (zlistx_duplicator_fn *) strdup);
    zlistx_set_comparator (self->regions, (zlistx_comparator_fn *) strcmp);
    return self;
}

void
en_router_destroy (en_router_t **self_p)
{
    assert (self_p);
    en_router_t *self = *self_p;
    if (self) {
        zlistx_destroy (&self->regions);
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
en_router_set_metrics (en_router_t *self, en_metrics_t *metrics)
{
    self->metrics = metrics;
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
        { "dossier", "send" }, { NULL, NULL } };
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
    zsys_info ("request %s: %s%s%s", id, event, expert ? " " : "", expert ? expert : "");
    //  Last: state may point into request's current value
    json_object_set_new (request, "state", json_string (state));
    return rc ? -1 : 0;
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

//  Find the next candidate for request and offer it; else escalate; else
//  record a hiaat.
static int
s_route (en_router_t *self, json_t *request)
{
    json_t *summary = json_object_get (request, "summary");
    int64_t now = en_now_ms ();
    const char **roles = en_vocab_roles_for (en_json_str (request, "question_type"));
    json_t *candidate = en_bstore_candidate (self->store, summary, roles, false, now);
    int rc;
    if (candidate)
        rc = s_offer (self, request, candidate, "offer");
    else {
        candidate = en_bstore_candidate (self->store, summary, NULL, true, now);
        if (candidate)
            rc = s_offer (self, request, candidate, "escalation");
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

static int
s_handle_submit (en_router_t *self, const char *node, const char *node_region,
                 en_msg_t *msg, en_error_t *error)
{
    json_t *summary = json_object_get (en_msg_body (msg), "request");
    char err [256];
    if (en_request_validate (summary, err, sizeof err))
        return en_error_set (error, EN_ERR_INVALID, "%s", err);
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
    int rc = en_bstore_request_insert (self->store, node, en_msg_id (msg), summary);
    if (rc == 1)
        return en_error_set (error, EN_ERR_CONFLICT, "request id '%s' already exists", en_json_str (summary, "id"));
    if (rc)
        return en_error_set (error, EN_ERR_INTERNAL, "store error");
    json_t *request = en_bstore_request (self->store, en_json_str (summary, "id"));
    rc = en_bstore_event (self->store, en_json_str (request, "id"), "submitted", NULL, NULL)
      || s_audit (self, en_json_str (request, "id"), "submitted", NULL)
      || s_route (self, request);
    json_decref (request);
    return rc ? en_error_set (error, EN_ERR_INTERNAL, "store error") : 0;
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
    if (en_bstore_experts_replace (self->store, node, experts, err, sizeof err))
        return en_error_set (error, EN_ERR_CONFLICT, "%s", err);
    zsys_info ("node %s published %zu experts", node, json_array_size (experts));
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
        json_decref (accepted);
        //  Capacity was lowered after the offer was made
        json_decref (offer);
        return en_error_set (error, EN_ERR_CONFLICT, "expert '%s' has no free capacity", expert);
    }
    json_t *request = en_bstore_request (self->store, en_json_str (offer, "request_id"));
    s_count_answer (self, offer, "accepted");
    int rc = en_bstore_offer_close (self->store, en_json_str (offer, "id"), "accepted", NULL)
          || s_transition (self, request, "accepted", "accepted", expert, NULL, accepted);
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

//  A dossier from the origin, sealed (crypto_box_seal) to the expert who
//  accepted: the broker checks who may send it to whom and relays the
//  ciphertext; it can neither read it nor keeps it beyond its outbox.
static int
s_handle_dossier (en_router_t *self, const char *node, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    const char *request_id = en_json_str (body, "request");
    const char *sealed = en_json_str (body, "sealed");
    json_t *request = en_id_valid (request_id) ? en_bstore_request (self->store, request_id) : NULL;
    int rc = 0;
    if (!request)
        rc = en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s'", request_id ? request_id : "");
    else
    if (!streq (en_json_str (request, "origin"), node))
        rc = en_error_set (error, EN_ERR_FORBIDDEN, "only the origin of '%s' may send its dossier", request_id);
    else
    if (!en_json_str (request, "expert")
    ||  (!streq (en_json_str (request, "state"), "accepted") && !streq (en_json_str (request, "state"), "advice")))
        rc = en_error_set (error, EN_ERR_CONFLICT, "request '%s' has no accepting expert", request_id);
    else
    if (!sealed || strlen (sealed) == 0 || strlen (sealed) > EN_MAX_BODY - 1024)
        rc = en_error_set (error, EN_ERR_INVALID, "field 'sealed' must be the sealed dossier (base64)");
    else {
        json_t *expert = en_bstore_expert (self->store, en_json_str (request, "expert"));
        rc = s_send (self, en_json_str (expert, "node"), "DOSSIER",
                     json_pack ("{s:s, s:s, s:s}", "request", request_id,
                                "expert", en_json_str (request, "expert"), "sealed", sealed))
          || en_bstore_event (self->store, request_id, "dossier", en_json_str (request, "expert"), NULL)
          || s_audit (self, request_id, "dossier", en_json_str (request, "expert"));
        json_decref (expert);
        if (rc)
            en_error_set (error, EN_ERR_INTERNAL, "store error");
        else
            zsys_info ("request %s: sealed dossier relayed to %s", request_id, en_json_str (request, "expert"));
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
    if (s_withdraw_open (self, request, "closed", NULL, NULL)
    ||  s_transition (self, request, "closed", "closed", NULL, json_string_value (outcome), NULL))
        rc = en_error_set (error, EN_ERR_INTERNAL, "store error");
    json_decref (request);
    return rc ? -1 : 0;
}

int
en_router_handle (en_router_t *self, const char *node, const char *node_region,
                  en_msg_t *msg, en_error_t *error)
{
    self->actor = node;
    const char *command = en_msg_command (msg);
    if (streq (command, "SUBMIT"))
        return s_handle_submit (self, node, node_region, msg, error);
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
    if (streq (command, "DOSSIER"))
        return s_handle_dossier (self, node, msg, error);
    return en_error_set (error, EN_ERR_BAD_REQUEST, "command %s is not sent to a broker", command);
}

int
en_router_expire (en_router_t *self, int64_t now)
{
    self->actor = self->name;
    json_t *due = en_bstore_offers_open (self->store, NULL, now);
    size_t index;
    json_t *offer;
    int expired = 0;
    json_array_foreach (due, index, offer) {
        const char *offer_id = en_json_str (offer, "id");
        json_t *request = en_bstore_request (self->store, en_json_str (offer, "request_id"));
        en_db_t *db = en_bstore_db (self->store);
        en_db_savepoint (db);
        en_metrics_count (self->metrics, EN_METRIC_OFFER_OUTCOME, "expired", 1);
        if (en_bstore_offer_close (self->store, offer_id, "expired", "no answer before deadline")
        ||  s_transition (self, request, en_json_str (request, "state"), "expired",
                          en_json_str (offer, "expert"), "no answer before deadline", NULL)
        ||  s_send (self, en_json_str (offer, "node"), "WITHDRAW",
                    json_pack ("{s:s, s:s, s:s, s:s}", "offer", offer_id,
                               "request_id", en_json_str (request, "id"),
                               "expert", en_json_str (offer, "expert"), "reason", "expired"))
        ||  s_route (self, request)) {
            en_db_rollback_to (db);
            zsys_error ("request %s: could not expire offer %s", en_json_str (request, "id"), offer_id);
        }
        else {
            en_db_release (db);
            expired++;
        }
        json_decref (request);
    }
    json_decref (due);
    return expired;
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
    if (!action || (!streq (action, "reoffer") && !streq (action, "escalate") && !streq (action, "close")))
        return en_error_set (error, EN_ERR_BAD_REQUEST, "action must be reoffer, escalate or close");
    if (!reason || strlen (reason) == 0 || strlen (reason) > 500)
        return en_error_set (error, EN_ERR_INVALID, "field 'reason' must be text of 1 to 500 bytes");
    json_t *request = en_id_valid (request_id) ? en_bstore_request (self->store, request_id) : NULL;
    if (!request)
        return en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s'", request_id ? request_id : "");
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
        if (s_transition (self, request, state, event, NULL, detail, NULL)
        ||  s_withdraw_open (self, request, "withdrawn", "withdrawn", detail)
        ||  s_route (self, request))
            rc = en_error_set (error, EN_ERR_INTERNAL, "store error");
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
        zsys_info ("request %s: %s by operator %s", request_id, action, operator_name);
    }
    self->by_operator = false;
    self->actor = self->name;
    json_decref (request);
    return rc ? -1 : 0;
}
