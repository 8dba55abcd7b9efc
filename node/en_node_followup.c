/*  en_node_followup - the follow-up of a request at the node (issue 13,
    "monitoren"; docs/protocol.md, "REVIEW" and "REMIND").

    The team sets a review date ("terug op ET") with the verb `review`
    (the CLI's `request review`, the portal's form): checked here as the
    broker will check it, then queued as REVIEW. The broker's STATUS
    monitoring confirms it: the date is kept with the request (shown by
    `request show` and the portal). When the date comes the broker sends
    STATUS review-due, and the team's staff are notified (kind
    terug-op-et); an expert of this node who accepted the request gets a
    REMIND, and is notified (kind terug-op-et-expert). Both through the
    notification queue, in the transaction of the message: no case data in
    the text, only the kind, the date, the region and a link.
*/
#include "en_node_int.h"

//  The checks of a review date for request (a row of the store), as the
//  broker makes them. 0, or -1 with error.
static int
s_review_check (json_t *request, const char *id, json_t *review_at, en_error_t *error)
{
    const char *state = en_json_str (request, "state");
    if (streq (state, "closed") || streq (state, "rejected"))
        return en_error_set (error, EN_ERR_CONFLICT, "request '%s' is %s", id, state);
    if (!streq (state, "accepted") && !streq (state, "advice") && !streq (state, "monitoring"))
        return en_error_set (error, EN_ERR_CONFLICT, "request '%s' is %s: a review date is set once an "
                             "expert accepted it", id, state);
    int64_t now = en_now_ms ();
    if (!json_is_integer (review_at) || json_integer_value (review_at) <= now)
        return en_error_set (error, EN_ERR_INVALID, "the review date must be in the future");
    if (json_integer_value (review_at) > now + EN_MAX_REVIEW_AHEAD_MS)
        return en_error_set (error, EN_ERR_INVALID, "the review date must be at most 366 days ahead");
    return 0;
}

//  Queue body (taken) as command in a verb's transaction, logged as
//  event on case_id; with what (the team's messages), a refusal by the
//  broker will be an event of the request naming it; with
//  sealed_outcome, the team's note kept with the request. The result
//  {message}, or NULL with error.
static json_t *
s_queue (en_node_t *self, const char *command, json_t *body, const char *case_id, const char *event,
         const char *what, const char *sealed_outcome, json_t *args, en_error_t *error)
{
    if (en_node_verbs_begin (self, error)) {
        json_decref (body);
        return NULL;
    }
    en_db_t *db = en_nstore_db (self->store);
    const char *user = en_json_str (args, "_user");
    char *msg_id = en_node_queue (self, command, body, user, error);
    if (!msg_id) {
        en_db_commit (db);          //  keeps the refusal's access-log entry
        return NULL;
    }
    en_node_audit (self, event, case_id, user, self->name, "send", "ok", NULL);
    if ((sealed_outcome && en_nstore_request_beraad_outcome (self->store, case_id, sealed_outcome))
    ||  (what && en_nstore_followup_sent (self->store, msg_id, case_id, what))
    ||  en_db_commit (db)) {
        en_db_rollback (db);
        free (msg_id);
        en_error_set (error, EN_ERR_INTERNAL, "could not queue %s", command);
        return NULL;
    }
    json_t *result = json_pack ("{s:s}", "message", msg_id);
    free (msg_id);
    return result;
}

json_t *
en_node_followup_review (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    const char *id = en_json_str (args, "id");
    json_t *review_at = json_object_get (args, "review_at");
    json_t *request = id ? en_nstore_request (self->store, id) : NULL;
    if (!request) {
        en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s'", id ? id : "");
        return NULL;
    }
    int rc = s_review_check (request, id, review_at, error);
    json_decref (request);
    json_t *result = rc ? NULL : s_queue (self, "REVIEW", json_pack ("{s:s, s:O}", "request", id, "review_at",
                                          review_at), id, "request.review", "the review date", NULL, args, error);
    if (result) {
        json_object_set_new (result, "id", json_string (id));
        json_object_set (result, "review_at", review_at);
    }
    return result;
}

int
en_node_followup_status (en_node_t *self, json_t *status)
{
    const char *request = en_json_str (status, "request");
    const char *event = en_json_str (status, "event") ?: "";
    json_t *review_at = json_object_get (status, "review_at");
    if (json_is_integer (review_at) && en_nstore_request_review (self->store, request, json_integer_value (review_at)))
        return -1;
    //  The staff hear when the review date came, and when a participant
    //  answered which times of a moreel beraad suit
    const char *kind = streq (event, "review-due") && json_is_integer (review_at) ? "terug-op-et"
                     : streq (event, "beraad-answer") ? "moreel-beraad-antwoord" : NULL;
    if (!kind)
        return 0;
    json_t *row = en_nstore_request (self->store, request);
    int rc = en_node_notify_queue (self, kind, NULL, request, NULL,
                                   en_json_str (json_object_get (row, "summary"), "urgency"),
                                   json_integer_value (review_at));
    json_decref (row);
    return rc;
}

int
en_node_followup_remind (en_node_t *self, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    const char *offer_id = en_json_str (body, "offer");
    const char *expert = en_json_str (body, "expert");
    json_t *review_at = json_object_get (body, "review_at");
    if (!en_id_valid (offer_id) || !en_name_valid (expert) || !en_id_valid (en_json_str (body, "request_id"))
    ||  !json_is_integer (review_at))
        return en_error_set (error, EN_ERR_INVALID, "invalid message");
    json_t *offer = en_nstore_offer (self->store, offer_id);
    if (!offer || !streq (en_json_str (offer, "expert"), expert)) {
        zsys_warning ("reminder for unknown offer %s ignored", offer_id);
        json_decref (offer);
        return 0;
    }
    json_t *summary = json_object_get (offer, "request");
    int rc = en_node_notify_queue (self, "terug-op-et-expert", offer_id, en_json_str (offer, "request_id"),
                                   expert, en_json_str (summary, "urgency"), json_integer_value (review_at));
    json_decref (offer);
    if (rc)
        return en_error_set (error, EN_ERR_INTERNAL, "store error");
    en_node_audit (self, "remind.receive", en_json_str (body, "request_id"), en_msg_sender (msg), expert,
                   "receive", "ok", offer_id);
    return 0;
}

//  --------------------------------------------------------------------
//  Moreel beraad as a meeting (docs/protocol.md, "BERAAD")

//  Times (ms) a person gave, checked as the broker will: each after now,
//  within a year, distinct, 1..max (0..max when none_ok). 0, or -1 (422).
static int
s_times_check (json_t *times, size_t max, bool none_ok, en_error_t *error)
{
    size_t size = json_array_size (times);
    bool valid = json_is_array (times) && size <= max && (none_ok || size >= 1);
    int64_t now = en_now_ms ();
    for (size_t i = 0; valid && i < size; i++) {
        json_t *time = json_array_get (times, i);
        valid = json_is_integer (time) && json_integer_value (time) > now
             && json_integer_value (time) <= now + EN_MAX_REVIEW_AHEAD_MS;
        for (size_t j = 0; valid && j < i; j++)
            valid = json_integer_value (json_array_get (times, j)) != json_integer_value (time);
    }
    return valid ? 0 : en_error_set (error, EN_ERR_INVALID, "times must be %s distinct times in the future, "
                                     "at most a year ahead", none_ok ? "proposed" : "1 to 5");
}

//  The team's verb `beraad`: id, action propose (times), fix (at), held
//  (at, and an outcome note kept here, sealed)
json_t *
en_node_followup_beraad_verb (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    const char *id = en_json_str (args, "id");
    const char *action = en_json_str (args, "action") ?: "";
    json_t *request = id ? en_nstore_request (self->store, id) : NULL;
    const char *state = en_json_str (request, "state") ?: "";
    json_t *at = json_object_get (args, "at");
    const char *outcome = en_json_str (args, "outcome");
    char *sealed = NULL;
    json_t *body = NULL;
    if (!request)
        en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s'", id ? id : "");
    else
    if (!streq (en_json_str (json_object_get (request, "summary"), "question_type") ?: "", "moreel-beraad"))
        en_error_set (error, EN_ERR_CONFLICT, "request '%s' is not a moreel-beraad", id);
    else
    if (!streq (state, "accepted") && !streq (state, "advice") && !streq (state, "monitoring"))
        en_error_set (error, EN_ERR_CONFLICT, "request '%s' is %s: it has no participants", id, state);
    else
    if (streq (action, "propose")) {
        if (s_times_check (json_object_get (args, "times"), 5, false, error) == 0)
            body = json_pack ("{s:s, s:s, s:O}", "action", action, "request", id, "times",
                              json_object_get (args, "times"));
    }
    else
    if (streq (action, "fix") || streq (action, "held")) {
        if (!json_is_integer (at))
            en_error_set (error, EN_ERR_INVALID, "field 'at' must be a time (ms)");
        else
        if (streq (action, "held") && json_integer_value (at) > en_now_ms ())
            en_error_set (error, EN_ERR_INVALID, "a beraad that took place has a time in the past");
        else
        if (outcome && !streq (action, "held"))
            en_error_set (error, EN_ERR_INVALID, "an outcome goes with held");
        else
        if (outcome && (strlen (outcome) > EN_MAX_ADVICE || !(sealed = en_vault_seal (self->vault, outcome))))
            en_error_set (error, EN_ERR_INVALID, "the outcome must be text of at most %d bytes", EN_MAX_ADVICE);
        else
            body = json_pack ("{s:s, s:s, s:O}", "action", action, "request", id, "at", at);
    }
    else
        en_error_set (error, EN_ERR_INVALID, "field 'action' must be propose, fix or held");
    json_decref (request);
    json_t *result = body ? s_queue (self, "BERAAD", body, id, "request.beraad", "the moreel beraad", sealed,
                                     args, error) : NULL;
    free (sealed);
    if (result)
        json_object_set_new (result, "id", json_string (id));
    return result;
}

//  The expert's verb `beraad-answer`: offer, available (the proposed
//  times that suit; the broker checks they were proposed)
json_t *
en_node_followup_answer_verb (en_node_t *self, const char *verb, json_t *args, en_error_t *error)
{
    const char *offer_id = en_json_str (args, "offer");
    json_t *offer = offer_id ? en_nstore_offer (self->store, offer_id) : NULL;
    json_t *available = json_object_get (args, "available");
    json_t *body = NULL;
    if (!offer)
        en_error_set (error, EN_ERR_NOT_FOUND, "no offer '%s'", offer_id ? offer_id : "");
    else
    if (!streq (en_json_str (offer, "answer") ?: "", "accept")
    ||  streq (en_json_str (offer, "answer_status") ?: "refused", "refused")
    ||  !json_is_array (json_object_get (offer, "beraad_times")))
        en_error_set (error, EN_ERR_CONFLICT, "offer '%s' has no beraad to answer (accepted, times proposed)",
                      offer_id);
    else
    if (s_times_check (available, json_array_size (json_object_get (offer, "beraad_times")), true, error) == 0)
        body = json_pack ("{s:s, s:s, s:O}", "action", "answer", "offer", offer_id, "available", available);
    const char *request_id = en_json_str (offer, "request_id");
    json_t *result = body ? s_queue (self, "BERAAD", body, request_id, "offer.beraad", NULL, NULL, args, error)
                          : NULL;
    if (result)
        json_object_set_new (result, "offer", json_string (offer_id));
    json_decref (offer);
    return result;
}

//  BERAAD from the broker: the team proposed times, or fixed one, for a
//  beraad an expert of ours takes part in; kept with the offer and the
//  expert notified. Or it was held (the date only): kept with the offer,
//  shown on it, no notification
int
en_node_followup_beraad (en_node_t *self, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    const char *offer_id = en_json_str (body, "offer");
    const char *expert = en_json_str (body, "expert");
    const char *action = en_json_str (body, "action") ?: "";
    json_t *times = json_object_get (body, "times");
    json_t *at = json_object_get (body, "at");
    bool propose = streq (action, "propose") && json_is_array (times) && json_array_size (times) > 0
                && json_is_integer (json_array_get (times, 0));
    bool fix = streq (action, "fix") && json_is_integer (at);
    bool held = streq (action, "held") && json_is_integer (at) && json_integer_value (at) > 0;
    if (!en_id_valid (offer_id) || !en_name_valid (expert) || !(propose || fix || held))
        return en_error_set (error, EN_ERR_INVALID, "invalid message");
    json_t *offer = en_nstore_offer (self->store, offer_id);
    if (!offer || !streq (en_json_str (offer, "expert"), expert)) {
        zsys_warning ("beraad for unknown offer %s ignored", offer_id);
        json_decref (offer);
        return 0;
    }
    const char *urgency = en_json_str (json_object_get (offer, "request"), "urgency");
    int64_t when = propose ? json_integer_value (json_array_get (times, 0)) : json_integer_value (at);
    int rc = held ? en_nstore_offer_beraad_held (self->store, offer_id, when)
           : (en_nstore_offer_beraad (self->store, offer_id, propose ? times : NULL, when)
              || en_node_notify_queue (self, propose ? "moreel-beraad" : "moreel-beraad-tijd", offer_id,
                                       en_json_str (offer, "request_id"), expert, urgency, when));
    if (rc == 0)
        en_node_audit (self, "beraad.receive", en_json_str (offer, "request_id"), en_msg_sender (msg), expert,
                       "receive", "ok", offer_id);
    json_decref (offer);
    return rc ? en_error_set (error, EN_ERR_INTERNAL, "store error") : 0;
}
