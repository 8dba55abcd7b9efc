/*  en_outbox - durable outbox and dedup record (see en_outbox.h).

    When each entry was last sent is kept in memory only: writing it to
    the database would cost an fsync per send. After a restart every
    entry counts as never sent and goes out once more; the receiver's
    dedup makes that harmless.
*/
#include "expertnet.h"

struct _en_outbox_t {
    en_db_t *db;                //  the owner's database (not owned)
    zhashx_t *sent_at;          //  msg_id -> int64_t ms of last send
};

en_outbox_t *
en_outbox_new (en_db_t *db)
{
    en_outbox_t *self = (en_outbox_t *) zmalloc (sizeof (en_outbox_t));
    assert (self);
    self->db = db;
    self->sent_at = zhashx_new ();
    zhashx_set_destructor (self->sent_at, (zhashx_destructor_fn *) zstr_free);
    zhashx_set_duplicator (self->sent_at, NULL);
    return self;
}

void
en_outbox_destroy (en_outbox_t **self_p)
{
    assert (self_p);
    en_outbox_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->sent_at);
        free (self);
        *self_p = NULL;
    }
}

int
en_outbox_put (en_outbox_t *self, const char *dest, en_msg_t *msg)
{
    char *body = en_msg_body_text (msg);
    if (!body || strlen (body) > EN_MAX_BODY) {
        zsys_error ("outbox: %s for %s refused: body over %d bytes", en_msg_command (msg), dest, EN_MAX_BODY);
        free (body);
        return -1;
    }
    int rc = en_db_exec (self->db,
        "INSERT INTO outbox (dest, msg_id, command, sender, ts, body) VALUES (?, ?, ?, ?, ?, ?)",
        "ssssis", dest, en_msg_id (msg), en_msg_command (msg), en_msg_sender (msg),
        en_msg_timestamp (msg), body);
    free (body);
    return rc;
}

int
en_outbox_ack (en_outbox_t *self, const char *dest, const char *msg_id, en_error_t *error)
{
    if (en_db_exec (self->db, "DELETE FROM outbox WHERE msg_id = ? AND dest = ?", "ss", msg_id, dest))
        return en_error_set (error, EN_ERR_INTERNAL, "outbox: %s", en_db_error (self->db));
    if (sqlite3_changes (en_db_handle (self->db)) == 0)
        return en_error_set (error, EN_ERR_NOT_FOUND, "%s is not queued for %s", msg_id, dest);
    zhashx_delete (self->sent_at, msg_id);
    return 0;
}

int
en_outbox_flush (en_outbox_t *self, const char *dest, int64_t retry_ms,
                 int limit, en_outbox_send_fn *send_fn, void *arg)
{
    sqlite3_stmt *stmt = dest
        ? en_db_query (self->db,
            "SELECT dest, msg_id, command, sender, ts, body FROM outbox WHERE dest = ? ORDER BY seq", "s", dest)
        : en_db_query (self->db,
            "SELECT dest, msg_id, command, sender, ts, body FROM outbox ORDER BY seq", NULL);
    if (!stmt)
        return 0;
    int64_t now = en_now_ms ();
    int sent = 0;
    zhashx_t *blocked = zhashx_new ();     //  destinations whose send failed
    while (sent < limit && sqlite3_step (stmt) == SQLITE_ROW) {
        if (zhashx_lookup (blocked, (const char *) sqlite3_column_text (stmt, 0)))
            continue;
        const char *msg_id = (const char *) sqlite3_column_text (stmt, 1);
        int64_t *last = (int64_t *) zhashx_lookup (self->sent_at, msg_id);
        if (last && now - *last < retry_ms)
            continue;
        en_msg_t *msg = en_msg_restore_text ((const char *) sqlite3_column_text (stmt, 2), msg_id,
                                             (const char *) sqlite3_column_text (stmt, 3),
                                             sqlite3_column_int64 (stmt, 4),
                                             (const char *) sqlite3_column_text (stmt, 5));
        if (!msg) {
            zsys_error ("outbox: entry %s is not a JSON object; skipped", msg_id);
            continue;
        }
        if (send_fn ((const char *) sqlite3_column_text (stmt, 0), msg, arg) == 0) {
            if (!last) {
                last = (int64_t *) malloc (sizeof (int64_t));
                zhashx_insert (self->sent_at, msg_id, last);
            }
            *last = now;
            sent++;
        }
        else
            zhashx_insert (blocked, (const char *) sqlite3_column_text (stmt, 0), (void *) 1);
        en_msg_destroy (&msg);
    }
    sqlite3_reset (stmt);
    zhashx_destroy (&blocked);
    return sent;
}

void
en_outbox_reset (en_outbox_t *self, const char *dest)
{
    if (!dest) {
        zhashx_purge (self->sent_at);
        return;
    }
    sqlite3_stmt *stmt = en_db_query (self->db, "SELECT msg_id FROM outbox WHERE dest = ?", "s", dest);
    while (stmt && sqlite3_step (stmt) == SQLITE_ROW)
        zhashx_delete (self->sent_at, (const char *) sqlite3_column_text (stmt, 0));
    if (stmt)
        sqlite3_reset (stmt);
}

int64_t
en_outbox_depth (en_outbox_t *self, const char *dest)
{
    return dest
        ? en_db_int (self->db, "SELECT count(*) FROM outbox WHERE dest = ?", "s", dest)
        : en_db_int (self->db, "SELECT count(*) FROM outbox", NULL);
}

bool
en_seen_lookup (en_db_t *db, en_msg_t *msg, en_error_t *answer, bool *same)
{
    sqlite3_stmt *stmt = en_db_query (db, "SELECT code, reason, digest FROM seen WHERE msg_id = ?",
                                      "s", en_msg_id (msg));
    bool found = false;
    if (stmt && sqlite3_step (stmt) == SQLITE_ROW) {
        found = true;
        if (answer) {
            const char *text = (const char *) sqlite3_column_text (stmt, 1);
            en_error_clear (answer);
            answer->code = sqlite3_column_int (stmt, 0);
            snprintf (answer->reason, sizeof answer->reason, "%s", text ? text : "");
        }
        if (same) {
            const char *stored = (const char *) sqlite3_column_text (stmt, 2);
            char digest [65];
            en_msg_digest (msg, digest);
            *same = !stored || streq (stored, digest);
        }
    }
    if (stmt)
        sqlite3_reset (stmt);
    return found;
}

int
en_seen_put (en_db_t *db, en_msg_t *msg, int code, const char *reason)
{
    char digest [65];
    en_msg_digest (msg, digest);
    return en_db_exec (db,
        "INSERT OR REPLACE INTO seen (msg_id, sender, command, at, code, reason, digest) VALUES (?, ?, ?, ?, ?, ?, ?)",
        "sssiiss", en_msg_id (msg), en_msg_sender (msg), en_msg_command (msg),
        en_now_ms (), (int64_t) code, reason, digest);
}

int64_t
en_seen_prune (en_db_t *db, int64_t before_ms)
{
    if (en_db_exec (db, "DELETE FROM seen WHERE at < ?", "i", before_ms))
        return -1;
    return sqlite3_changes (en_db_handle (db));
}
