/*  en_inbox - exactly-once receive (see en_inbox.h).

    Why the steps come in this order. Dedup first: a resend must get the
    answer it got the first time, even when it is older than the
    timestamp window (a SUBMIT whose ACK was lost, re-sent after a week
    of disconnection). The window only guards what would be processed
    now. The seen record is written in the message's savepoint, so the
    message's effects and its record commit together or not at all; a
    refusal's record is written after the rollback, outside it, so that
    it stays although the message's changes go.

    The inbox holds no state of its own besides its database: what was
    processed is the seen table (en_outbox.h), written by en_seen_put. */
#include "expertnet.h"

struct _en_inbox_t {
    en_db_t *db;                //  the owner's database (not owned)
    char *name;                 //  sender of the answers
};

en_inbox_t *
en_inbox_new (en_db_t *db, const char *name)
{
    assert (db);
    assert (name);
    en_inbox_t *self = (en_inbox_t *) zmalloc (sizeof (en_inbox_t));
    assert (self);
    self->db = db;
    self->name = strdup (name);
    return self;
}

void
en_inbox_destroy (en_inbox_t **self_p)
{
    assert (self_p);
    en_inbox_t *self = *self_p;
    if (self) {
        free (self->name);
        free (self);
        *self_p = NULL;
    }
}

en_msg_t *
en_inbox_answer (en_inbox_t *self, const char *ref, en_error_t *error)
{
    assert (self);
    if (!error || !error->code)
        return en_msg_new ("ACK", self->name, json_pack ("{s:s}", "ref", ref));
    json_t *body = json_pack ("{s:s, s:i, s:s}", "ref", ref, "code", error->code, "reason", error->reason);
    //  Not final: keep it and send it again (a clock that is off)
    if (error->temporary)
        json_object_set_new (body, "temporary", json_true ());
    return en_msg_new ("ERROR", self->name, body);
}

en_msg_t *
en_inbox_ack (en_inbox_t *self, json_t *refs)
{
    assert (self);
    assert (json_is_array (refs) && json_array_size (refs) > 0 && json_array_size (refs) <= EN_MAX_REFS);
    json_t *body = json_array_size (refs) == 1
                 ? json_pack ("{s:O}", "ref", json_array_get (refs, 0))
                 : json_pack ("{s:O}", "refs", refs);
    json_decref (refs);
    return en_msg_new ("ACK", self->name, body);
}

int
en_inbox_coalesce (en_inbox_t *self, zlistx_t *answers)
{
    assert (self);
    zlistx_t *acks = zlistx_new ();             //  handles of the ACKs in answers
    for (en_msg_t *answer = (en_msg_t *) zlistx_first (answers); answer;
         answer = (en_msg_t *) zlistx_next (answers))
        if (streq (en_msg_command (answer), "ACK"))
            zlistx_add_end (acks, zlistx_cursor (answers));
    int made = 0;
    json_t *refs = NULL;
    for (void *handle = zlistx_first (acks); handle; handle = zlistx_next (acks)) {
        en_msg_t *ack = (en_msg_t *) zlistx_detach (answers, handle);
        json_t *mine = en_msg_ack_refs (ack, NULL);
        size_t index;
        json_t *ref;
        json_array_foreach (mine, index, ref) {
            if (!refs)
                refs = json_array ();
            json_array_append (refs, ref);
            if (json_array_size (refs) == EN_MAX_REFS) {
                zlistx_add_end (answers, en_inbox_ack (self, refs));
                refs = NULL;
                made++;
            }
        }
        json_decref (mine);
        en_msg_destroy (&ack);
    }
    if (refs) {
        zlistx_add_end (answers, en_inbox_ack (self, refs));
        made++;
    }
    zlistx_destroy (&acks);
    return made;
}

bool
en_inbox_resend (en_inbox_t *self, en_msg_t *msg)
{
    assert (self);
    bool same = false;
    return en_seen_lookup (self->db, msg, NULL, &same) && same;
}

//  Step 3: in a savepoint, handled and recorded as seen; on a refusal
//  nothing of it stays but, unless the store failed, its seen record.
static int
s_process (en_inbox_t *self, en_msg_t *msg, en_inbox_handler_fn *handler, void *arg,
           en_error_t *error)
{
    if (en_db_savepoint (self->db))
        return en_error_set (error, EN_ERR_INTERNAL, "store error");
    int rc = handler (msg, arg, error);
    //  A handler that failed without saying why: not final (the sender
    //  retries), as for a store failure
    if (rc && !error->code)
        en_error_set (error, EN_ERR_INTERNAL, "store error");
    if (rc == 0 && (en_seen_put (self->db, msg, 0, NULL) || en_db_release (self->db)))
        rc = en_error_set (error, EN_ERR_INTERNAL, "store error");
    if (rc == 0)
        return 0;
    en_db_rollback_to (self->db);
    //  (If this record cannot be written, the refusal is answered all
    //  the same; en_db has logged why.)
    if (error->code != EN_ERR_INTERNAL)
        en_seen_put (self->db, msg, error->code, error->reason);
    return -1;
}

en_msg_t *
en_inbox_receive (en_inbox_t *self, en_msg_t *msg, en_clock_t *clock,
                  en_inbox_handler_fn *handler, void *arg, en_error_t *error)
{
    assert (self);
    assert (handler);
    assert (error);
    en_error_clear (error);
    bool same = true;
    if (en_seen_lookup (self->db, msg, error, &same)) {
        //  Step 1: processed before: the answer it got, unless the id was reused
        if (!same)
            en_error_set (error, EN_ERR_CONFLICT, "message id already used for different content (replay?)");
    }
    else
    //  Step 2 (unless the caller judged the time), then 3
    if (!clock || en_clock_check (clock, msg, en_now_ms (), error) == 0)
        s_process (self, msg, handler, arg, error);
    if (!error->code)
        en_error_clear (error);
    else
        snprintf (error->ref, sizeof error->ref, "%s", en_msg_id (msg));
    return en_inbox_answer (self, en_msg_id (msg), error);
}
