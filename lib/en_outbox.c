/*  en_outbox - durable outbox and dedup record (see en_outbox.h).

    The rows (what to send) live in the database, put in the caller's
    transaction. What is due lives in memory: per destination, the
    entries never sent by this process (fresh, in put order) and those
    sent and not yet acknowledged (in flight, in first-send order, with
    when each was last sent and how often). A flush therefore reads only
    the rows it sends, each by its key; it never re-reads the
    unacknowledged rows that are not due. Writing send times to the
    database would cost an fsync per send; after a restart every entry
    counts as never sent and goes out once more, which the receiver's
    dedup makes harmless.

    The memory follows the database: a put adds its entry, an ack removes
    it. When writes were undone (a rollback, a rollback to a savepoint, a
    failed commit: en_db_undone), a put may not have happened or an ack
    may have been taken back, so the next flush re-reads which rows exist
    (ids only) before it sends. A row whose entry is found missing when it
    is read is dropped from memory.

    Retransmission (docs/protocol.md, "Retransmission interval"): the interval
    follows the measured acknowledgement latency of each destination, as
    TCP's retransmission timer does (RFC 6298). A sample is the time from
    a message's only send to its ACK (never from a message sent more than
    once: Karn's rule). srtt and rttvar are the usual moving averages
    (gains 1/8 and 1/4); the interval is srtt + max (floor / 2, 4 rttvar),
    no less than the configured retry (the floor) and no more than
    EN_OUTBOX_BACKOFF_CAP times it. A message re-sent n times waits that
    interval doubled n times, or doubled as often as its destination's
    backoff says, whichever is more (up to the cap). A retransmission
    raises the destination's backoff (at most once per interval, RFC 6298
    5.5), so a peer whose ACKs are all slower than the floor still yields
    samples and is not flooded; a sample clears it, and so does the ACK
    that leaves nothing in flight (after an outage or a refusal with 500,
    when every message was re-sent and none gives a sample).
*/
#include "expertnet.h"
#include <math.h>

//  Messages never sent that a destination keeps in memory for their
//  first send (the rest are read back from their rows)
#define S_KEEP_MAX  1024

//  One queued message, in memory.
typedef struct {
    char *msg_id;               //  key of its row
    struct _s_dest_t *dest;     //  its destination
    int64_t sent_at;            //  ms of last send, 0 = not sent by us
    int tries;                  //  sends by this process
    void *handle;               //  in dest->fresh or dest->inflight
    bool in_flight;             //  which of the two
    uint64_t mark;              //  generation of the last reload seeing it
    en_msg_t *msg;              //  the message as put, until its first send, or NULL
} s_entry_t;

//  One destination: its queue and its acknowledgement latency.
typedef struct _s_dest_t {
    char *name;                 //  destination
    zlistx_t *fresh;            //  s_entry_t never sent, put order
    zlistx_t *inflight;         //  s_entry_t sent, not acked, send order
    bool have_rtt;              //  at least one sample
    double srtt;                //  smoothed ACK latency, ms
    double rttvar;              //  its mean deviation, ms
    int backoff;                //  interval doubled this often since a sample
    int64_t backoff_until;      //  no further doubling before this
    int64_t next_due;           //  earliest retransmission (cache)
    int64_t due_floor;          //  floor the cache was computed for, -1 none
    int64_t due_base;           //  base interval it was computed for
    int due_backoff;            //  and backoff
} s_dest_t;

struct _en_outbox_t {
    en_db_t *db;                //  the owner's database (not owned)
    zhashx_t *entries;          //  msg_id -> s_entry_t (owned)
    zhashx_t *dests;            //  name -> s_dest_t (owned)
    uint64_t undone;            //  en_db_undone when memory last matched
    uint64_t generation;        //  reload counter, for marks
    bool fixed;                 //  fixed interval (the old policy)
    int64_t resends;            //  retransmissions so far
};

static void
s_entry_free (void **item)
{
    s_entry_t *entry = (s_entry_t *) *item;
    if (entry) {
        free (entry->msg_id);
        en_msg_destroy (&entry->msg);
        free (entry);
        *item = NULL;
    }
}

static void
s_dest_free (void **item)
{
    s_dest_t *dest = (s_dest_t *) *item;
    if (dest) {
        zlistx_destroy (&dest->fresh);
        zlistx_destroy (&dest->inflight);
        free (dest->name);
        free (dest);
        *item = NULL;
    }
}

static s_dest_t *
s_dest (en_outbox_t *self, const char *name)
{
    s_dest_t *dest = (s_dest_t *) zhashx_lookup (self->dests, name);
    if (!dest) {
        dest = (s_dest_t *) zmalloc (sizeof (s_dest_t));
        assert (dest);
        dest->name = strdup (name);
        dest->fresh = zlistx_new ();
        dest->inflight = zlistx_new ();
        dest->due_floor = -1;
        zhashx_insert (self->dests, name, dest);
    }
    return dest;
}

//  Take entry out of whichever list holds it.
static void
s_unlink (s_entry_t *entry)
{
    if (entry->handle)
        zlistx_delete (entry->in_flight ? entry->dest->inflight : entry->dest->fresh, entry->handle);
    entry->handle = NULL;
}

//  Append entry to its destination's fresh or in-flight list.
static void
s_link (s_entry_t *entry, bool in_flight)
{
    s_unlink (entry);
    entry->in_flight = in_flight;
    entry->handle = zlistx_add_end (in_flight ? entry->dest->inflight : entry->dest->fresh, entry);
}

static void
s_forget (en_outbox_t *self, s_entry_t *entry)
{
    s_unlink (entry);
    zhashx_delete (self->entries, entry->msg_id);
}

//  Rebuild memory from the rows of dest (NULL: all), in seq order. With
//  keep, entries already known keep when they were sent; without, all
//  count as never sent (a reset). Entries without a row are dropped.
static void
s_reload (en_outbox_t *self, const char *dest, bool keep)
{
    uint64_t mark = ++self->generation;
    for (s_dest_t *d = (s_dest_t *) zhashx_first (self->dests); d; d = (s_dest_t *) zhashx_next (self->dests))
        if (!dest || streq (d->name, dest)) {
            for (s_entry_t *e = (s_entry_t *) zlistx_first (d->fresh); e; e = (s_entry_t *) zlistx_next (d->fresh))
                e->handle = NULL;
            for (s_entry_t *e = (s_entry_t *) zlistx_first (d->inflight); e; e = (s_entry_t *) zlistx_next (d->inflight))
                e->handle = NULL;
            zlistx_purge (d->fresh);
            zlistx_purge (d->inflight);
            d->due_floor = -1;
        }
    sqlite3_stmt *stmt = dest
        ? en_db_query (self->db, "SELECT dest, msg_id FROM outbox WHERE dest = ? ORDER BY seq", "s", dest)
        : en_db_query (self->db, "SELECT dest, msg_id FROM outbox ORDER BY seq", NULL);
    while (stmt && sqlite3_step (stmt) == SQLITE_ROW) {
        const char *msg_id = (const char *) sqlite3_column_text (stmt, 1);
        s_entry_t *entry = (s_entry_t *) zhashx_lookup (self->entries, msg_id);
        if (!entry) {
            entry = (s_entry_t *) zmalloc (sizeof (s_entry_t));
            assert (entry);
            entry->msg_id = strdup (msg_id);
            zhashx_insert (self->entries, msg_id, entry);
        }
        entry->dest = s_dest (self, (const char *) sqlite3_column_text (stmt, 0));
        entry->handle = NULL;
        if (!keep)
            entry->sent_at = entry->tries = 0;
        entry->mark = mark;
        s_link (entry, entry->tries > 0);
    }
    if (stmt)
        sqlite3_reset (stmt);
    //  What memory held for these destinations and the rows no longer do
    zlistx_t *gone = zlistx_new ();
    for (s_entry_t *e = (s_entry_t *) zhashx_first (self->entries); e; e = (s_entry_t *) zhashx_next (self->entries))
        if (e->mark != mark && (!dest || streq (e->dest->name, dest)))
            zlistx_add_end (gone, e->msg_id);
    for (char *id = (char *) zlistx_first (gone); id; id = (char *) zlistx_next (gone))
        zhashx_delete (self->entries, id);
    zlistx_destroy (&gone);
}

en_outbox_t *
en_outbox_new (en_db_t *db)
{
    en_outbox_t *self = (en_outbox_t *) zmalloc (sizeof (en_outbox_t));
    assert (self);
    self->db = db;
    self->entries = zhashx_new ();
    zhashx_set_destructor (self->entries, s_entry_free);
    self->dests = zhashx_new ();
    zhashx_set_destructor (self->dests, s_dest_free);
    self->undone = en_db_undone (db);
    s_reload (self, NULL, false);
    return self;
}

void
en_outbox_destroy (en_outbox_t **self_p)
{
    assert (self_p);
    en_outbox_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->entries);
        zhashx_destroy (&self->dests);
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
    if (rc == 0 && !zhashx_lookup (self->entries, en_msg_id (msg))) {
        s_entry_t *entry = (s_entry_t *) zmalloc (sizeof (s_entry_t));
        assert (entry);
        entry->msg_id = strdup (en_msg_id (msg));
        entry->dest = s_dest (self, dest);
        //  Kept for its first send, so that it is not read back: most
        //  messages are sent once, in the flush after their commit (not
        //  for a destination that is away with much waiting: memory)
        if (zlistx_size (entry->dest->fresh) < S_KEEP_MAX)
            entry->msg = en_msg_dup (msg);
        zhashx_insert (self->entries, entry->msg_id, entry);
        s_link (entry, false);
    }
    return rc;
}

//  Fold one ACK latency sample into dest's estimate (RFC 6298 2.2, 2.3).
static void
s_sample (s_dest_t *dest, double rtt)
{
    if (!dest->have_rtt) {
        dest->srtt = rtt;
        dest->rttvar = rtt / 2;
        dest->have_rtt = true;
    }
    else {
        dest->rttvar = 0.75 * dest->rttvar + 0.25 * fabs (dest->srtt - rtt);
        dest->srtt = 0.875 * dest->srtt + 0.125 * rtt;
    }
    dest->backoff = dest->backoff_until = 0;
}

//  msg_id's row is gone: its entry goes, and its latency is a sample
static void
s_acked (en_outbox_t *self, const char *msg_id)
{
    s_entry_t *entry = (s_entry_t *) zhashx_lookup (self->entries, msg_id);
    if (entry) {
        s_dest_t *d = entry->dest;
        if (entry->tries == 1)
            s_sample (d, (double) (en_now_ms () - entry->sent_at));
        s_forget (self, entry);
        if (zlistx_size (d->inflight) == 0)
            d->backoff = d->backoff_until = 0;  //  all answered: nothing to back off from
    }
}

int
en_outbox_ack (en_outbox_t *self, const char *dest, const char *msg_id, en_error_t *error)
{
    if (en_db_exec (self->db, "DELETE FROM outbox WHERE msg_id = ? AND dest = ?", "ss", msg_id, dest))
        return en_error_set (error, EN_ERR_INTERNAL, "outbox: %s", en_db_error (self->db));
    if (sqlite3_changes (en_db_handle (self->db)) == 0)
        return en_error_set (error, EN_ERR_NOT_FOUND, "%s is not queued for %s", msg_id, dest);
    s_acked (self, msg_id);
    return 0;
}

json_t *
en_outbox_ack_all (en_outbox_t *self, const char *dest, json_t *refs, en_error_t *error)
{
    //  Two statements for a cumulative ACK, not one per id: which of them
    //  are queued for dest, then their removal (a write through en_db_exec,
    //  like every write: fault injection, the failed-BEGIN guard). Each id
    //  is looked up by its unique index: "+dest" keeps the planner off
    //  outbox_dest, which walked every message queued for dest per ACK.
    char *list = json_dumps (refs, JSON_COMPACT);
    sqlite3_stmt *stmt = en_db_query (self->db,
        "SELECT msg_id FROM outbox WHERE +dest = ? AND msg_id IN (SELECT value FROM json_each (?))",
        "ss", dest, list ? list : "[]");
    json_t *acked = json_array ();
    int rc = stmt ? sqlite3_step (stmt) : SQLITE_ERROR;
    for (; rc == SQLITE_ROW; rc = sqlite3_step (stmt))
        json_array_append_new (acked, json_string ((const char *) sqlite3_column_text (stmt, 0)));
    if (stmt)
        sqlite3_reset (stmt);
    if (rc != SQLITE_DONE
    ||  (json_array_size (acked) > 0
         && en_db_exec (self->db, "DELETE FROM outbox WHERE +dest = ? AND msg_id IN (SELECT value FROM json_each (?))",
                        "ss", dest, list ? list : "[]"))) {
        free (list);
        json_decref (acked);
        en_error_set (error, EN_ERR_INTERNAL, "outbox: %s", en_db_error (self->db));
        return NULL;
    }
    free (list);
    size_t index;
    json_t *id;
    json_array_foreach (acked, index, id)
        s_acked (self, json_string_value (id));
    return acked;
}

//  The retransmission interval of dest measured from its ACKs, given the
//  configured floor, before any doubling: see the head of this file.
static int64_t
s_base (en_outbox_t *self, s_dest_t *dest, int64_t floor)
{
    if (self->fixed || floor <= 0)
        return MAX (floor, 0);
    int64_t base = floor;
    if (dest->have_rtt)
        base = MAX (floor, (int64_t) (dest->srtt + MAX ((double) floor / 2, 4 * dest->rttvar)));
    return MIN (base, floor * EN_OUTBOX_BACKOFF_CAP);
}

//  base doubled shift times, no more than the cap.
static int64_t
s_doubled (en_outbox_t *self, int64_t base, int shift, int64_t floor)
{
    int64_t cap = floor * EN_OUTBOX_BACKOFF_CAP;
    for (int i = 0; i < shift && !self->fixed && base < cap; i++)
        base *= 2;
    return self->fixed ? base : MIN (base, MAX (cap, 0));
}

//  The interval of dest for a message sent once (its backoff included).
static int64_t
s_rto (en_outbox_t *self, s_dest_t *dest, int64_t floor)
{
    return s_doubled (self, s_base (self, dest, floor), dest->backoff, floor);
}

//  When entry is next due: base doubled once per earlier retransmission
//  of it, or as often as its destination's backoff says, whichever is more.
static int64_t
s_due_at (en_outbox_t *self, s_entry_t *entry, int64_t base, int backoff, int64_t floor)
{
    return entry->sent_at + s_doubled (self, base, MAX (entry->tries - 1, backoff), floor);
}

//  Read entry's row and hand it to send_fn. 0 sent, -1 the transport
//  refused, 1 the row is gone or unreadable (entry forgotten, freed).
static int
s_send (en_outbox_t *self, s_entry_t *entry, en_outbox_send_fn *send_fn, void *arg)
{
    if (entry->msg) {
        //  Its first send, as put (a put undone is gone from memory by
        //  now: s_sync at the start of the flush)
        if (send_fn (entry->dest->name, entry->msg, arg))
            return -1;
        en_msg_destroy (&entry->msg);
        return 0;
    }
    sqlite3_stmt *stmt = en_db_query (self->db,
        "SELECT command, sender, ts, body FROM outbox WHERE msg_id = ? AND dest = ?",
        "ss", entry->msg_id, entry->dest->name);
    if (!stmt || sqlite3_step (stmt) != SQLITE_ROW) {
        if (stmt)
            sqlite3_reset (stmt);
        s_forget (self, entry);     //  acked, or its put was undone
        return 1;
    }
    en_msg_t *msg = en_msg_restore_text ((const char *) sqlite3_column_text (stmt, 0), entry->msg_id,
                                         (const char *) sqlite3_column_text (stmt, 1),
                                         sqlite3_column_int64 (stmt, 2),
                                         (const char *) sqlite3_column_text (stmt, 3));
    sqlite3_reset (stmt);
    if (!msg) {
        zsys_error ("outbox: entry %s is not a JSON object; skipped", entry->msg_id);
        s_forget (self, entry);     //  the row stays, never sent
        return 1;
    }
    int rc = send_fn (entry->dest->name, msg, arg);
    en_msg_destroy (&msg);
    return rc == 0 ? 0 : -1;
}

//  Retransmit what is due in dest's in-flight list, in order. Returns
//  sent, or -1 - sent when the transport refused one (the flush of dest
//  ends there).
static int
s_flush_inflight (en_outbox_t *self, s_dest_t *dest, int64_t now, int64_t floor, int limit,
                  en_outbox_send_fn *send_fn, void *arg)
{
    //  The cache of the earliest due time holds while no interval has
    //  shrunk (a longer one only makes it early, never late)
    int64_t base = s_base (self, dest, floor);
    int backoff = dest->backoff;
    if (dest->due_floor == floor && base >= dest->due_base && backoff >= dest->due_backoff
    &&  now < dest->next_due)
        return 0;               //  nothing due: not even a walk through memory
    int sent = 0;
    int64_t next_due = INT64_MAX;
    s_entry_t *entry = (s_entry_t *) zlistx_first (dest->inflight);
    while (entry) {
        s_entry_t *next = (s_entry_t *) zlistx_next (dest->inflight);
        int64_t due_at = s_due_at (self, entry, base, backoff, floor);
        if (due_at <= now && sent >= limit)
            next_due = now;
        else
        if (due_at <= now) {
            int rc = s_send (self, entry, send_fn, arg);
            if (rc < 0) {
                dest->due_floor = -1;
                return -1 - sent;
            }
            if (rc == 0) {
                entry->sent_at = now;
                entry->tries++;
                sent++;
                self->resends++;
                if (!self->fixed && now >= dest->backoff_until && dest->backoff < 16) {
                    dest->backoff++;        //  RFC 6298 5.5, once per interval
                    dest->backoff_until = now + s_rto (self, dest, floor);
                }
                next_due = MIN (next_due, s_due_at (self, entry, base, backoff, floor));
            }
        }
        else
            next_due = MIN (next_due, due_at);
        entry = next;
    }
    dest->next_due = next_due;
    dest->due_floor = floor;
    dest->due_base = base;
    dest->due_backoff = backoff;
    return sent;
}

//  Send dest's fresh entries in put order. Returns sent, or -1 - sent
//  when the transport refused one.
static int
s_flush_fresh (en_outbox_t *self, s_dest_t *dest, int64_t now, int64_t floor, int limit,
               en_outbox_send_fn *send_fn, void *arg)
{
    int sent = 0;
    s_entry_t *entry;
    while (sent < limit && (entry = (s_entry_t *) zlistx_first (dest->fresh))) {
        int rc = s_send (self, entry, send_fn, arg);
        if (rc < 0)
            return -1 - sent;
        if (rc > 0)
            continue;           //  entry forgotten
        entry->sent_at = now;
        entry->tries = 1;
        s_link (entry, true);
        dest->next_due = MIN (dest->next_due, s_due_at (self, entry, dest->due_base, dest->due_backoff, floor));
        sent++;
    }
    return sent;
}

//  If writes were undone since memory last matched the rows, match again.
static void
s_sync (en_outbox_t *self)
{
    uint64_t undone = en_db_undone (self->db);
    if (undone != self->undone) {
        s_reload (self, NULL, true);
        self->undone = undone;
    }
}

int
en_outbox_flush (en_outbox_t *self, const char *dest, int64_t retry_ms,
                 int limit, en_outbox_send_fn *send_fn, void *arg)
{
    s_sync (self);
    int64_t now = en_now_ms ();
    int sent = 0;
    zlistx_t *names = zlistx_new ();
    if (dest)
        zlistx_add_end (names, (void *) dest);
    else
        for (s_dest_t *d = (s_dest_t *) zhashx_first (self->dests); d; d = (s_dest_t *) zhashx_next (self->dests))
            zlistx_add_end (names, d->name);
    for (const char *name = (const char *) zlistx_first (names); name && sent < limit;
         name = (const char *) zlistx_next (names)) {
        s_dest_t *d = (s_dest_t *) zhashx_lookup (self->dests, name);
        if (!d)
            continue;
        int rc = s_flush_inflight (self, d, now, retry_ms, limit - sent, send_fn, arg);
        sent += rc < 0 ? -1 - rc : rc;
        if (rc >= 0) {
            rc = s_flush_fresh (self, d, now, retry_ms, limit - sent, send_fn, arg);
            sent += rc < 0 ? -1 - rc : rc;
        }
    }
    zlistx_destroy (&names);
    return sent;
}

//  Is anything of dest due at now: an entry never sent, or a
//  retransmission whose time has come (the cached earliest due time,
//  unless the cache no longer holds; then look, to be safe)?
static bool
s_dest_due (en_outbox_t *self, s_dest_t *dest, int64_t now, int64_t floor)
{
    if (zlistx_size (dest->fresh) > 0)
        return true;
    if (zlistx_size (dest->inflight) == 0)
        return false;
    bool cached = dest->due_floor == floor && s_base (self, dest, floor) >= dest->due_base
               && dest->backoff >= dest->due_backoff;
    return !cached || now >= dest->next_due;
}

zlistx_t *
en_outbox_due (en_outbox_t *self, int64_t retry_ms)
{
    s_sync (self);
    int64_t now = en_now_ms ();
    zlistx_t *names = zlistx_new ();
    zlistx_set_destructor (names, (zlistx_destructor_fn *) zstr_free);
    for (s_dest_t *d = (s_dest_t *) zhashx_first (self->dests); d; d = (s_dest_t *) zhashx_next (self->dests))
        if (s_dest_due (self, d, now, retry_ms))
            zlistx_add_end (names, strdup (d->name));
    return names;
}

void
en_outbox_reset (en_outbox_t *self, const char *dest)
{
    s_sync (self);
    s_reload (self, dest, false);
    for (s_dest_t *d = (s_dest_t *) zhashx_first (self->dests); d; d = (s_dest_t *) zhashx_next (self->dests))
        if (!dest || streq (d->name, dest)) {
            d->backoff = 0;     //  a new connection: what it costs is measured afresh
            d->backoff_until = 0;
        }
}

int64_t
en_outbox_depth (en_outbox_t *self, const char *dest)
{
    return dest
        ? en_db_int (self->db, "SELECT count(*) FROM outbox WHERE dest = ?", "s", dest)
        : en_db_int (self->db, "SELECT count(*) FROM outbox", NULL);
}

int64_t
en_outbox_rto (en_outbox_t *self, const char *dest, int64_t retry_ms)
{
    s_dest_t *d = (s_dest_t *) zhashx_lookup (self->dests, dest);
    return d ? s_rto (self, d, retry_ms) : retry_ms;
}

int64_t
en_outbox_resends (en_outbox_t *self)
{
    return self->resends;
}

void
en_outbox_set_fixed (en_outbox_t *self, bool fixed)
{
    self->fixed = fixed;
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
