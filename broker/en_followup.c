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

    A request handed to a peer broker is followed there: REVIEW for it is
    refused (409), since its experts and their offers are the peer's.
*/
#include "en_followup.h"
#include "en_request_sm.h"

//  The checks of REVIEW on request (NULL: unknown) from node, before
//  anything is written. 0, or -1 with error.
static int
s_review_check (json_t *request, const char *request_id, const char *node, json_t *review_at,
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
    if (en_json_str (request, "peer"))
        return en_error_set (error, EN_ERR_CONFLICT, "request '%s' is with peer broker '%s': it is followed "
                             "up there", request_id, en_json_str (request, "peer"));
    int64_t now = en_now_ms ();
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

int
en_followup_review (en_router_t *router, const char *node, en_msg_t *msg, en_error_t *error)
{
    en_bstore_t *store = en_router_store (router);
    json_t *body = en_msg_body (msg);
    const char *request_id = en_json_str (body, "request");
    json_t *review_at = json_object_get (body, "review_at");
    json_t *request = en_id_valid (request_id) ? en_bstore_request (store, request_id) : NULL;
    if (s_review_check (request, request_id, node, review_at, error)) {
        json_decref (request);
        return -1;
    }
    int64_t at = json_integer_value (review_at);
    char detail [64], when [32];
    s_iso (at, when, sizeof when);
    snprintf (detail, sizeof detail, "review at %s", when);
    int rc = 0;
    if (en_bstore_review_set (store, request_id, at)
    ||  en_router_transition (router, request, "monitoring", "monitoring", NULL, detail,
                              json_pack ("{s:I}", "review_at", (json_int_t) at)))
        rc = en_router_failed (router, error);
    json_decref (request);
    return rc;
}

//  Remind every expert with an accepted offer of request: REMIND to the
//  expert's node and an event "reminded". 0 or -1.
static int
s_remind_experts (en_router_t *router, json_t *request, int64_t review_at)
{
    en_bstore_t *store = en_router_store (router);
    const char *request_id = en_json_str (request, "id");
    json_t *accepted = en_bstore_offers_of_request (store, request_id, "accepted");
    int rc = 0;
    size_t index;
    json_t *offer;
    json_array_foreach (accepted, index, offer) {
        const char *expert = en_json_str (offer, "expert");
        rc |= en_router_send (router, en_json_str (offer, "node"), "REMIND",
                              json_pack ("{s:s, s:s, s:s, s:I}", "offer", en_json_str (offer, "id"),
                                         "request_id", request_id, "expert", expert,
                                         "review_at", (json_int_t) review_at))
           || en_router_record (router, request_id, "reminded", expert, NULL);
    }
    json_decref (accepted);
    return rc ? -1 : 0;
}

//  One due review: its event, the reminders, the flag down. A request
//  that left monitoring meanwhile (only closing does, which disarms) is
//  disarmed without an event. 0 or -1.
static int
s_fire (en_router_t *router, json_t *request, int64_t review_at)
{
    en_bstore_t *store = en_router_store (router);
    const char *request_id = en_json_str (request, "id");
    if (!streq (en_json_str (request, "state"), "monitoring") || en_json_str (request, "peer"))
        return en_bstore_review_fired (store, request_id);
    return en_bstore_review_fired (store, request_id)
        || en_router_transition (router, request, "monitoring", "review-due", NULL, NULL,
                                 json_pack ("{s:I}", "review_at", (json_int_t) review_at))
        || s_remind_experts (router, request, review_at) ? -1 : 0;
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
