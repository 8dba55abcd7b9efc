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
    if (rc || en_node_verbs_begin (self, error))
        return NULL;
    en_db_t *db = en_nstore_db (self->store);
    const char *user = en_json_str (args, "_user");
    char *msg_id = en_node_queue (self, "REVIEW", json_pack ("{s:s, s:O}", "request", id, "review_at", review_at),
                                  user, error);
    if (!msg_id) {
        en_db_commit (db);          //  keeps the refusal's access-log entry
        return NULL;
    }
    en_node_audit (self, "request.review", id, user, self->name, "send", "ok", NULL);
    if (en_db_commit (db)) {
        en_db_rollback (db);
        free (msg_id);
        en_error_set (error, EN_ERR_INTERNAL, "could not queue the review date");
        return NULL;
    }
    json_t *result = json_pack ("{s:s, s:O, s:s}", "id", id, "review_at", review_at, "message", msg_id);
    free (msg_id);
    return result;
}

int
en_node_followup_status (en_node_t *self, json_t *status)
{
    const char *request = en_json_str (status, "request");
    const char *event = en_json_str (status, "event");
    json_t *review_at = json_object_get (status, "review_at");
    if (!json_is_integer (review_at) || !event)
        return 0;
    if (en_nstore_request_review (self->store, request, json_integer_value (review_at)))
        return -1;
    if (!streq (event, "review-due"))
        return 0;
    json_t *row = en_nstore_request (self->store, request);
    int rc = en_node_notify_queue (self, "terug-op-et", NULL, request, NULL,
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
