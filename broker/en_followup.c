/*  en_followup - the follow-up of a request after its advice (issue 13,
    procesregie step "monitoren"): "the team does not let go until help
    is in place, and sets when a case comes back to the ET".

    The origin node sends REVIEW with a review date (review_at, ms). The
    request moves to state monitoring (event "monitoring", STATUS with
    review_at), from accepted or advice, and within monitoring to move
    the date; it stays there, still counted on its expert's load, until
    CLOSE ends it as it ends every state. The date is summary data: no
    free text travels with it.

    The reminder is a timer, like the routing of hiaten again: the store
    keeps review_at with a flag review_pending, and en_followup_due reads
    only the armed dates that are due, by a partial index. For each, in
    one savepoint: the event "review-due" (STATUS to the origin, whose
    staff are notified), a REMIND to the node of every expert with an
    accepted offer of the request (a request may have several: never
    assume one), an event "reminded" per expert, and the flag cleared.
    A crash before the commit keeps none of it and the next pass fires;
    after it, the flag is down: exactly once per date. A new date arms it
    again; closing disarms it (a trigger in the store).

    A place a peer broker holds (a request of one place forwarded, or a
    team's place) is followed there, by the one relay CLOSE uses: the
    origin's signed REVIEW goes to the peer in a FORWARD, the peer sets
    the date on its copy, its timer reminds its own expert, and its
    STATUS (monitoring, review-due) is mirrored onto the place here. This
    broker keeps the date too: at it, the origin hears review-due from
    here, once for the whole request (the peer's is an event of its place
    only), and the experts of the places held here get their REMIND.
    BERAAD goes the same way; the peer's expert answers through the peer.

    Moreel beraad as a meeting (BERAAD, at the end of this file): the
    team of a moreel-beraad request proposes times to its participants,
    they answer, the team fixes one and records that it took place; each
    step an event that changes no state, and only dates travel.
*/
#include "en_followup.h"
#include "en_request_sm.h"
#include "en_fedroute.h"

//  The checks of REVIEW on request (NULL: unknown) from node, before
//  anything is written, review_at after now. 0, or -1 with error.
static int
s_review_check (json_t *request, const char *request_id, const char *node, json_t *review_at, int64_t now,
                en_error_t *error)
{
    if (!request)
        return en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s'", request_id ? request_id : "");
    const char *state = en_json_str (request, "state");
    if (!streq (en_json_str (request, "origin"), node))
        return en_error_set (error, EN_ERR_FORBIDDEN, "request '%s' belongs to node '%s'", request_id,
                             en_json_str (request, "origin"));
    if (streq (state, "closed"))
        return en_error_set (error, EN_ERR_CONFLICT, "request '%s' is closed", request_id);
    if (!json_is_integer (review_at) || json_integer_value (review_at) <= now
    ||  json_integer_value (review_at) > now + EN_MAX_REVIEW_AHEAD_MS)
        return en_error_set (error, EN_ERR_INVALID, "field 'review_at' must be a time (ms since epoch) in "
                             "the future, at most 366 days ahead");
    if (!streq (state, "accepted") && !streq (state, "advice") && !streq (state, "monitoring"))
        return en_error_set (error, EN_ERR_CONFLICT, "request '%s' is %s: a review date is set once an "
                             "expert accepted it", request_id, state);
    return 0;
}

//  "2026-12-09T08:00Z": the date in the timeline (UTC, no free text)
static void
s_iso (int64_t ms, char *buf, size_t size)
{
    time_t seconds = (time_t) (ms / 1000);
    struct tm utc;
    gmtime_r (&seconds, &utc);
    strftime (buf, size, "%Y-%m-%dT%H:%MZ", &utc);
}

//  A change of the whole request from its origin (REVIEW, BERAAD, the
//  review date's event): an event alone (state NULL), or a request no
//  peer holds a place of, is one transition of the request (every place
//  not closed to state, one STATUS). A move of places some of which
//  peers hold goes place by place, as CLOSE does: a place held here moves
//  with a STATUS of its own. Either way the origin's signed msg (NULL:
//  none) is relayed once to each peer holding a place: the peer applies
//  it to its copy (every place it holds), and its STATUS per place is
//  mirrored onto each. extra is taken.
//  0, or -1 with error.
static int
s_apply_places (en_router_t *router, json_t *request, en_msg_t *msg, const char *state, const char *event,
                const char *detail, json_t *extra, en_error_t *error)
{
    bool whole = !state || !en_json_str (request, "peer");
    if (whole && en_router_transition_all (router, request, state, event, detail, json_incref (extra))) {
        json_decref (extra);
        return en_router_failed (router, error);
    }
    en_bstore_t *store = en_router_store (router);
    const char *id = en_json_str (request, "id");
    json_t *places = en_json_str (request, "peer") ? en_bstore_places (store, id) : json_array ();
    int rc = 0;
    size_t index;
    json_t *place;
    json_array_foreach (places, index, place) {
        bool peer = en_json_str (place, "peer") != NULL;
        if (rc || streq (en_json_str (place, "state"), "closed") || (peer ? !msg : whole)
        ||  (peer && en_fedroute_relayed_before (places, index)))
            continue;           //  (a peer holding several places: relayed once)
        json_t *view = en_bstore_request_place (store, id, en_json_int (place, "place", 0));
        if (!view)
            rc = en_error_set (error, EN_ERR_INTERNAL, "store error");
        else
        if (peer)
            rc = en_router_relay (router, view, msg, error);
        else
        if (en_router_transition (router, view, state, event, NULL, detail, json_deep_copy (extra)))
            rc = en_router_failed (router, error);
        json_decref (view);
    }
    json_decref (places);
    json_decref (extra);
    return rc ? -1 : 0;
}

int
en_followup_review (en_router_t *router, const char *node, en_msg_t *msg, en_error_t *error)
{
    en_bstore_t *store = en_router_store (router);
    json_t *body = en_msg_body (msg);
    const char *request_id = en_json_str (body, "request");
    json_t *review_at = json_object_get (body, "review_at");
    json_t *request = en_id_valid (request_id) ? en_bstore_request (store, request_id) : NULL;
    //  A REVIEW relayed by the peer it came from is checked against the
    //  time the origin signed it: one that waited on a link down past its
    //  date is reminded at once, not lost
    int64_t now = request && en_fedroute_from_peer (request) ? en_msg_timestamp (msg) : en_now_ms ();
    if (s_review_check (request, request_id, node, review_at, now, error)) {
        json_decref (request);
        return -1;
    }
    int64_t at = json_integer_value (review_at);
    char detail [64], when [32];
    s_iso (at, when, sizeof when);
    snprintf (detail, sizeof detail, "review at %s", when);
    int rc = en_bstore_review_set (store, request_id, at)
           ? en_router_failed (router, error)
           : s_apply_places (router, request, msg, "monitoring", "monitoring", detail,
                             json_pack ("{s:I}", "review_at", (json_int_t) at), error);
    json_decref (request);
    return rc;
}

//  To the node of every expert with an accepted offer of request (there
//  may be several: never assume one), whose place is not closed (an
//  operator may close one place of a team): command with fields (taken) and
//  offer, request_id, expert; with event, also that event per expert in
//  the timeline. 0 or -1.
static int
s_participants_send (en_router_t *router, json_t *request, const char *command, json_t *fields,
                     const char *event)
{
    en_bstore_t *store = en_router_store (router);
    const char *request_id = en_json_str (request, "id");
    json_t *accepted = en_bstore_participants (store, request_id);
    int rc = 0;
    size_t index;
    json_t *offer;
    json_array_foreach (accepted, index, offer) {
        const char *expert = en_json_str (offer, "expert");
        json_t *body = json_deep_copy (fields);
        json_object_set (body, "offer", json_object_get (offer, "id"));
        json_object_set_new (body, "request_id", json_string (request_id));
        json_object_set_new (body, "expert", json_string (expert));
        rc |= en_router_send (router, en_json_str (offer, "node"), command, body)
           || (event && en_router_record (router, request_id, event, expert, NULL));
    }
    json_decref (accepted);
    json_decref (fields);
    return rc ? -1 : 0;
}

//  One due review: its event, the reminders, the flag down. A request
//  that left monitoring meanwhile (only closing does, which disarms) is
//  disarmed without an event. With places at peers the event is this
//  broker's, once for the team (the peers' come back as events of their
//  places, not passed on again), the reminders go to the experts of the
//  places held here: a peer reminds its own, its REVIEW relayed to it.
//  Such a request is monitored while open, whether or not a peer's
//  STATUS monitoring came back yet. 0 or -1.
static int
s_fire (en_router_t *router, json_t *request, int64_t review_at)
{
    en_bstore_t *store = en_router_store (router);
    const char *request_id = en_json_str (request, "id");
    const char *state = en_json_str (request, "state");
    if (en_json_str (request, "peer") ? streq (state, "closed") : !streq (state, "monitoring"))
        return en_bstore_review_fired (store, request_id);
    return en_bstore_review_fired (store, request_id)
        || en_router_transition_all (router, request, NULL, "review-due", NULL,
                                     json_pack ("{s:I}", "review_at", (json_int_t) review_at))
        || s_participants_send (router, request, "REMIND",
                                json_pack ("{s:I}", "review_at", (json_int_t) review_at), "reminded") ? -1 : 0;
}

int
en_followup_due (en_router_t *router, int64_t now)
{
    en_bstore_t *store = en_router_store (router);
    en_db_t *db = en_bstore_db (store);
    json_t *due = en_bstore_reviews_due (store, now, 200);
    en_router_act_as_broker (router);
    int fired = 0;
    size_t index;
    json_t *row;
    json_array_foreach (due, index, row) {
        json_t *request = en_bstore_request (store, en_json_str (row, "id"));
        if (!request || en_db_savepoint (db)) {
            json_decref (request);
            fired = -1;
            break;
        }
        if (s_fire (router, request, en_json_int (row, "review_at", 0))) {
            en_db_rollback_to (db);
            en_router_failed (router, NULL);    //  logged where it arose
            json_decref (request);
            fired = -1;
            break;
        }
        en_db_release (db);
        en_db_log (db, "request %s: review due", en_json_str (request, "id"));
        json_decref (request);
        fired++;
    }
    json_decref (due);
    return fired;
}

json_t *
en_followup_overdue (en_bstore_t *store, int64_t now, int limit)
{
    json_t *rows = en_bstore_reviews_overdue (store, now, limit);
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row) {
        int64_t late = now - en_json_int (row, "review_at", now);
        json_object_set_new (row, "days_overdue", json_integer (late / (86400 * 1000LL)));
    }
    return rows;
}

//  --------------------------------------------------------------------
//  Moreel beraad as a meeting (docs/protocol.md, "BERAAD"): the team of
//  a moreel-beraad request proposes times to its participants (the
//  experts who accepted it), they answer which suit them, the team fixes
//  one and later records that the beraad took place. Only dates travel;
//  what was said stays at the team's node.

#define S_BERAAD_TIMES 5

//  A time (ms) within a year ahead, after now
static bool
s_ahead (json_t *value, int64_t now)
{
    return json_is_integer (value) && json_integer_value (value) > now
        && json_integer_value (value) <= now + EN_MAX_REVIEW_AHEAD_MS;
}

//  Is at one of times?
static bool
s_among (json_t *times, json_t *at)
{
    size_t index;
    json_t *time;
    json_array_foreach (times, index, time)
        if (json_is_integer (at) && json_integer_value (time) == json_integer_value (at))
            return true;
    return false;
}

//  1..S_BERAAD_TIMES distinct times within a year ahead, or, for an
//  answer (proposed set), 0..all of the proposed ones. 0, or -1 (422).
static int
s_times_check (json_t *times, json_t *proposed, en_error_t *error)
{
    size_t size = json_array_size (times);
    bool valid = json_is_array (times) && (proposed ? size <= json_array_size (proposed)
                                                    : size >= 1 && size <= S_BERAAD_TIMES);
    int64_t now = en_now_ms ();
    for (size_t i = 0; valid && i < size; i++) {
        json_t *time = json_array_get (times, i);
        valid = proposed ? s_among (proposed, time) : s_ahead (time, now);
        for (size_t j = 0; valid && j < i; j++)
            valid = json_integer_value (json_array_get (times, j)) != json_integer_value (time);
    }
    if (valid)
        return 0;
    return proposed ? en_error_set (error, EN_ERR_INVALID, "field 'available' must list proposed times only")
                    : en_error_set (error, EN_ERR_INVALID, "field 'times' must be 1 to %d distinct times (ms) "
                                    "in the future, at most 366 days ahead", S_BERAAD_TIMES);
}

//  "review at"-style text of times, for the timeline
static void
s_times_text (json_t *times, char *buf, size_t size)
{
    buf [0] = 0;
    size_t index;
    json_t *time;
    json_array_foreach (times, index, time) {
        char when [32];
        s_iso (json_integer_value (time), when, sizeof when);
        snprintf (buf + strlen (buf), size - strlen (buf), "%s%s", index ? ", " : "", when);
    }
}

//  The request of a BERAAD from its origin, checked: the origin's, not
//  closed, here, moreel-beraad, with participants. Caller owns; NULL
//  with error.
static json_t *
s_beraad_request (en_bstore_t *store, const char *node, const char *request_id, en_error_t *error)
{
    json_t *request = en_id_valid (request_id) ? en_bstore_request (store, request_id) : NULL;
    const char *state = en_json_str (request, "state");
    if (!request)
        en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s'", request_id ? request_id : "");
    else
    if (!streq (en_json_str (request, "origin"), node))
        en_error_set (error, EN_ERR_FORBIDDEN, "request '%s' belongs to node '%s'", request_id,
                      en_json_str (request, "origin"));
    else
    if (streq (state, "closed"))
        en_error_set (error, EN_ERR_CONFLICT, "request '%s' is closed", request_id);
    else
    if (!streq (en_json_str (request, "question_type"), "moreel-beraad"))
        en_error_set (error, EN_ERR_CONFLICT, "request '%s' is not a moreel-beraad", request_id);
    else
    if (!streq (state, "accepted") && !streq (state, "advice") && !streq (state, "monitoring"))
        en_error_set (error, EN_ERR_CONFLICT, "request '%s' is %s: it has no participants yet", request_id, state);
    else
        return request;
    json_decref (request);
    return NULL;
}

//  propose: times (replacing any proposed before, until it took place)
static int
s_beraad_propose (en_router_t *router, json_t *request, json_t *beraad, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    json_t *times = json_object_get (body, "times");
    if (s_times_check (times, NULL, error))
        return -1;
    if (en_json_int (beraad, "held_at", 0))
        return en_error_set (error, EN_ERR_CONFLICT, "the beraad of '%s' took place", en_json_str (request, "id"));
    char detail [200];
    s_times_text (times, detail, sizeof detail);
    if (en_bstore_beraad_put (en_router_store (router), en_json_str (request, "id"), times, 0, 0)
    ||  s_participants_send (router, request, "BERAAD",
                             json_pack ("{s:s, s:O}", "action", "propose", "times", times), NULL))
        return en_router_failed (router, error);
    return s_apply_places (router, request, msg, NULL, "beraad-proposed", detail,
                           json_pack ("{s:O}", "times", times), error);
}

//  fix: one of the proposed times
static int
s_beraad_fix (en_router_t *router, json_t *request, json_t *beraad, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    json_t *at = json_object_get (body, "at");
    json_t *times = json_object_get (beraad, "times");
    if (!beraad || en_json_int (beraad, "held_at", 0))
        return en_error_set (error, EN_ERR_CONFLICT, "the beraad of '%s' %s", en_json_str (request, "id"),
                             beraad ? "took place" : "has no proposed times");
    if (!s_among (times, at))
        return en_error_set (error, EN_ERR_INVALID, "field 'at' must be one of the proposed times");
    char detail [64];
    s_iso (json_integer_value (at), detail, sizeof detail);
    if (en_bstore_beraad_put (en_router_store (router), en_json_str (request, "id"), times,
                              json_integer_value (at), 0)
    ||  s_participants_send (router, request, "BERAAD", json_pack ("{s:s, s:O}", "action", "fix", "at", at), NULL))
        return en_router_failed (router, error);
    return s_apply_places (router, request, msg, NULL, "beraad-fixed", detail, json_pack ("{s:O}", "beraad_at", at), error);
}

//  held: the beraad took place at (not in the future, not before the
//  request); the fact and the date, nothing else, also to each
//  participant's node (a peer tells its own, the BERAAD relayed to it)
static int
s_beraad_held (en_router_t *router, json_t *request, json_t *beraad, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    json_t *at = json_object_get (body, "at");
    if (!json_is_integer (at) || json_integer_value (at) > en_now_ms () + EN_MAX_SKEW_MS
    ||  json_integer_value (at) < en_json_int (request, "created", 0) - 60000)     //  people give minutes
        return en_error_set (error, EN_ERR_INVALID, "field 'at' must be the time (ms) it took place: "
                             "not in the future, not before the request");
    json_t *none = json_array ();
    char detail [64];
    s_iso (json_integer_value (at), detail, sizeof detail);
    int rc = en_bstore_beraad_put (en_router_store (router), en_json_str (request, "id"),
                                   beraad ? json_object_get (beraad, "times") : none,
                                   en_json_int (beraad, "fixed_at", 0), json_integer_value (at))
          || s_participants_send (router, request, "BERAAD", json_pack ("{s:s, s:O}", "action", "held", "at", at),
                                  NULL)
           ? en_router_failed (router, error)
           : s_apply_places (router, request, msg, NULL, "beraad-held", detail, json_pack ("{s:O}", "beraad_at", at), error);
    json_decref (none);
    return rc;
}

//  answer, from a participant's node: which proposed times suit the
//  expert of offer
static int
s_beraad_answer (en_router_t *router, const char *node, json_t *body, en_error_t *error)
{
    en_bstore_t *store = en_router_store (router);
    const char *offer_id = en_json_str (body, "offer");
    json_t *offer = en_id_valid (offer_id) ? en_bstore_offer (store, offer_id) : NULL;
    //  The answering expert's place (a team has several)
    json_t *request = offer ? en_bstore_request_place (store, en_json_str (offer, "request_id"),
                                                       en_json_int (offer, "place", 1)) : NULL;
    json_t *beraad = offer ? en_bstore_beraad (store, en_json_str (offer, "request_id")) : NULL;
    json_t *available = json_object_get (body, "available");
    int rc = -1;
    if (!offer || !request)
        en_error_set (error, EN_ERR_NOT_FOUND, "no offer '%s'", offer_id ? offer_id : "");
    else
    if (!streq (en_json_str (offer, "node"), node))
        en_error_set (error, EN_ERR_FORBIDDEN, "offer '%s' was made to an expert of another node", offer_id);
    else
    if (!streq (en_json_str (offer, "state"), "accepted") || streq (en_json_str (request, "state"), "closed"))
        en_error_set (error, EN_ERR_CONFLICT, "offer '%s' is not a participant's (accepted, request open)", offer_id);
    else
    if (!beraad || en_json_int (beraad, "fixed_at", 0) || en_json_int (beraad, "held_at", 0))
        en_error_set (error, EN_ERR_CONFLICT, "the beraad of '%s' %s", en_json_str (request, "id"),
                      !beraad ? "has no proposed times" : "has its time fixed");
    else
    if (s_times_check (available, json_object_get (beraad, "times"), error) == 0) {
        char detail [200];
        s_times_text (available, detail, sizeof detail);
        rc = en_router_transition (router, request, en_json_str (request, "state"), "beraad-answer",
                                   en_json_str (offer, "expert"), *detail ? detail : "none of the times",
                                   json_pack ("{s:O}", "available", available));
        if (rc)
            en_router_failed (router, error);
    }
    json_decref (beraad);
    json_decref (request);
    json_decref (offer);
    return rc;
}

int
en_followup_beraad (en_router_t *router, const char *node, en_msg_t *msg, en_error_t *error)
{
    static const struct {
        const char *action;
        int (*fn) (en_router_t *, json_t *, json_t *, en_msg_t *, en_error_t *);
    } actions [] = {
        { "propose", s_beraad_propose }, { "fix", s_beraad_fix }, { "held", s_beraad_held }, { NULL, NULL } };
    json_t *body = en_msg_body (msg);
    const char *action = en_json_str (body, "action");
    if (action && streq (action, "answer"))
        return s_beraad_answer (router, node, body, error);
    int row = 0;
    while (actions [row].action && !(action && streq (actions [row].action, action)))
        row++;
    if (!actions [row].action)
        return en_error_set (error, EN_ERR_INVALID, "field 'action' must be propose, answer, fix or held");
    en_bstore_t *store = en_router_store (router);
    json_t *request = s_beraad_request (store, node, en_json_str (body, "request"), error);
    if (!request)
        return -1;
    json_t *beraad = en_bstore_beraad (store, en_json_str (request, "id"));
    int rc = actions [row].fn (router, request, beraad, msg, error);
    json_decref (beraad);
    json_decref (request);
    return rc;
}
