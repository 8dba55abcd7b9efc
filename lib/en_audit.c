/*  en_audit - a hash-chained access log (see en_audit.h, docs/audit.md).

    Each entry's hash is BLAKE2b-256 over the previous entry's hash and a
    canonical encoding of the entry: a version tag, seq and at as 8-byte
    big-endian integers, then each text field as a presence byte (0 for
    NULL, 1 for text) followed, for text, by its length as an 8-byte
    big-endian integer and its bytes. Length prefixes make "ab"+"c" and
    "a"+"bc" different; the presence byte makes NULL and "" different.
    Because seq is inside the hash and seqs have no gaps, moving an entry
    breaks the chain as surely as editing it.

    The chain row (table audit_chain) holds two fixed points:
    * the anchor: the seq, hash and time of the last entry removed by
      retention (seq 0 and 32 zero bytes before any pruning), from which
      the first remaining entry chains;
    * the head: the seq and hash of the newest entry, updated with every
      append, so that deleting entries from the end leaves a head that
      points past the log.
    Verify walks anchor -> entries -> head. When it finds the first fault
    it spends one more pass to name it: an entry whose hash does not
    match may simply be edited, or it may be another entry's contents
    moved here; a gap may be a deleted entry or one moved to another seq.
    The entry that belongs at the bad seq must chain from the last good
    hash, so we look for it among the later rows.

    Appends run inside the caller's transaction when there is one, else
    in their own BEGIN IMMEDIATE: reading the head and writing the next
    entry must not interleave with another writer. Inside a transaction an
    append is two statements, the INSERT and the head's UPDATE (each
    atomic; should the second fail after the first ran, the transaction
    is spoiled and cannot commit), and the head is read from the table
    only for the transaction's first append: the transaction holds the
    write lock, so the head it wrote stays the head until the transaction
    ends or a savepoint is rolled back (en_db_epoch), and is kept in
    memory until then. Pruning runs as a savepoint inside the caller's
    transaction, or in its own.
*/
#include "expertnet.h"
#include "en_audit.h"
#include <inttypes.h>
#include <sodium.h>
#include <strings.h>

#define HASH_SIZE crypto_generichash_BYTES      //  32: BLAKE2b-256
#define HEX_SIZE (2 * HASH_SIZE + 1)            //  64 hex digits and NUL
#define FIELD_COUNT 7                           //  text fields in the hash
#define FIELD_MAX 1024                          //  bytes per field, at most

//  Version tag at the start of every entry's encoding.
#define HASH_TAG "enaudit1"

//  Entry columns in hash order (after seq and at), then the stored hash.
#define COLUMNS "seq, at, event, case_id, actor, on_behalf, action, outcome, detail, hash"

static const char *s_field_names [FIELD_COUNT] = {
    "event", "case_id", "actor", "on_behalf", "action", "outcome", "detail"
};
static const char *s_actions [] = {
    "create", "read", "send", "receive", "accept", "export", "update", "delete", "login", NULL
};
static const char *s_outcomes [] = { "ok", "refused", "error", NULL };

//  One entry as the hash sees it; text points into the caller's memory.
typedef struct {
    int64_t seq;                        //  position in the chain, from 1
    int64_t at;                         //  ms since epoch
    const char *text [FIELD_COUNT];     //  fields in hash order; NULL = SQL NULL
    size_t len [FIELD_COUNT];           //  their lengths in bytes
} fields_t;

//  The chain row, decoded.
typedef struct {
    int64_t anchor_seq;                 //  seq of the last pruned entry (0: none)
    unsigned char anchor_hash [HASH_SIZE];  //  its hash (zeros: genesis)
    int64_t anchor_at;                  //  its time (0: none)
    int64_t head_seq;                   //  seq of the newest entry
    unsigned char head_hash [HASH_SIZE];    //  its hash
} chain_t;

//  What a walk along the chain found.
typedef struct {
    int64_t count;                      //  entries that verified
    int64_t last_seq;                   //  seq of the last one (the anchor's if none)
    int64_t last_at;                    //  its time
    unsigned char last_hash [HASH_SIZE];    //  its hash
    int64_t bad_seq;                    //  first bad entry (0: none, or not an entry)
    char err [256];                     //  what is wrong ("" if nothing)
} walk_t;

static void
s_put_u64 (unsigned char *buf, uint64_t value)
{
    for (int i = 7; i >= 0; i--) {
        buf [i] = (unsigned char) (value & 0xff);
        value >>= 8;
    }
}

//  hash = BLAKE2b-256 (prev || encoding of fields); see the top comment.
static void
s_digest (const unsigned char *prev, const fields_t *fields, unsigned char *hash)
{
    crypto_generichash_state state;
    unsigned char number [8];
    crypto_generichash_init (&state, NULL, 0, HASH_SIZE);
    crypto_generichash_update (&state, prev, HASH_SIZE);
    crypto_generichash_update (&state, (const unsigned char *) HASH_TAG, strlen (HASH_TAG));
    s_put_u64 (number, (uint64_t) fields->seq);
    crypto_generichash_update (&state, number, sizeof number);
    s_put_u64 (number, (uint64_t) fields->at);
    crypto_generichash_update (&state, number, sizeof number);
    for (int i = 0; i < FIELD_COUNT; i++) {
        unsigned char present = fields->text [i] ? 1 : 0;
        crypto_generichash_update (&state, &present, 1);
        if (present) {
            s_put_u64 (number, (uint64_t) fields->len [i]);
            crypto_generichash_update (&state, number, sizeof number);
            crypto_generichash_update (&state, (const unsigned char *) fields->text [i],
                                       fields->len [i]);
        }
    }
    crypto_generichash_final (&state, hash, HASH_SIZE);
}

static void
s_to_hex (const unsigned char *hash, char *hex)
{
    sodium_bin2hex (hex, HEX_SIZE, hash, HASH_SIZE);
}

//  Decode exactly 64 lowercase hex digits. 0 or -1.
static int
s_from_hex (const char *hex, unsigned char *hash)
{
    if (!hex || strlen (hex) != HEX_SIZE - 1
    ||  strspn (hex, "0123456789abcdef") != HEX_SIZE - 1)
        return -1;
    size_t len = 0;
    if (sodium_hex2bin (hash, HASH_SIZE, hex, HEX_SIZE - 1, NULL, &len, NULL) != 0
    ||  len != HASH_SIZE)
        return -1;
    return 0;
}

//  Read the current row of a "SELECT " COLUMNS statement into fields
//  (pointers valid until the next step). False when a column has a type
//  our appends never store, which only an edit can cause.
static bool
s_fields_from_row (sqlite3_stmt *stmt, fields_t *fields)
{
    bool typed = sqlite3_column_type (stmt, 0) == SQLITE_INTEGER
              && sqlite3_column_type (stmt, 1) == SQLITE_INTEGER
              && sqlite3_column_type (stmt, 9) == SQLITE_TEXT;
    fields->seq = sqlite3_column_int64 (stmt, 0);
    fields->at = sqlite3_column_int64 (stmt, 1);
    for (int i = 0; i < FIELD_COUNT; i++) {
        int type = sqlite3_column_type (stmt, i + 2);
        if (type == SQLITE_NULL) {
            fields->text [i] = NULL;
            fields->len [i] = 0;
            continue;
        }
        if (type != SQLITE_TEXT)
            typed = false;
        const char *text = (const char *) sqlite3_column_text (stmt, i + 2);
        fields->text [i] = text ? text : "";
        fields->len [i] = (size_t) sqlite3_column_bytes (stmt, i + 2);
    }
    return typed;
}

static const char *
s_stored_hash (sqlite3_stmt *stmt)
{
    const char *hash = (const char *) sqlite3_column_text (stmt, 9);
    return hash ? hash : "";
}

//  Read and check the chain row. 0, or -1 with walk->err.
static int
s_chain_read (en_db_t *db, chain_t *chain, walk_t *walk)
{
    sqlite3_stmt *stmt = en_db_query (db,
        "SELECT anchor_seq, anchor_hash, anchor_at, head_seq, head_hash FROM audit_chain WHERE id = 1",
        NULL);
    if (!stmt) {
        snprintf (walk->err, sizeof walk->err, "database error: %s", en_db_error (db));
        return -1;
    }
    int rc = -1;
    if (sqlite3_step (stmt) != SQLITE_ROW)
        snprintf (walk->err, sizeof walk->err, "bad anchor: the audit chain row is missing");
    else {
        chain->anchor_seq = sqlite3_column_int64 (stmt, 0);
        chain->anchor_at = sqlite3_column_int64 (stmt, 2);
        chain->head_seq = sqlite3_column_int64 (stmt, 3);
        if (s_from_hex ((const char *) sqlite3_column_text (stmt, 1), chain->anchor_hash))
            snprintf (walk->err, sizeof walk->err, "bad anchor: its hash is not 64 hex digits");
        else
        if (chain->anchor_seq < 0 || chain->anchor_seq > chain->head_seq)
            snprintf (walk->err, sizeof walk->err,
                      "bad anchor: anchor seq %" PRId64 " is outside 0..head %" PRId64,
                      chain->anchor_seq, chain->head_seq);
        else
        if (s_from_hex ((const char *) sqlite3_column_text (stmt, 4), chain->head_hash))
            snprintf (walk->err, sizeof walk->err, "head mismatch: the head hash is not 64 hex digits");
        else
            rc = 0;
    }
    sqlite3_reset (stmt);
    return rc;
}

//  The entry that belongs at seq, chaining from prev, is not where it
//  should be: is it stored under a later seq, or are its contents in a
//  later row? stored is the hash now stored at seq (NULL: no row there).
//  Returns the seq of the row holding it, or 0.
static int64_t
s_find_moved (en_db_t *db, int64_t seq, const unsigned char *prev, const char *stored)
{
    sqlite3_stmt *stmt = en_db_query (db,
        "SELECT " COLUMNS " FROM audit WHERE seq > ? ORDER BY seq", "i", seq);
    int64_t found = 0;
    while (stmt && !found && sqlite3_step (stmt) == SQLITE_ROW) {
        fields_t fields;
        s_fields_from_row (stmt, &fields);
        int64_t row_seq = fields.seq;
        fields.seq = seq;
        unsigned char hash [HASH_SIZE];
        char hex [HEX_SIZE];
        s_digest (prev, &fields, hash);
        s_to_hex (hash, hex);
        if (streq (hex, s_stored_hash (stmt)) || (stored && streq (hex, stored)))
            found = row_seq;
    }
    if (stmt)
        sqlite3_reset (stmt);
    return found;
}

//  What the walk found wrong, and where (the details s_walk_explain
//  needs to say it).
typedef enum { GOOD, GAP, MISMATCH, UNTYPED, BEFORE_ANCHOR } fault_t;
typedef struct {
    fault_t fault;
    int64_t next_seq;                   //  seq of the row after a gap
    char stored [HEX_SIZE];             //  hash stored in a mismatching row
} found_t;

//  Put into walk->err what the fault found at walk->bad_seq means: a
//  missing entry may have been moved (reordered), a mismatching one
//  edited, or the anchor be bad. Returns -1 for a fault, 0 for GOOD.
static int
s_walk_explain (en_db_t *db, const chain_t *chain, walk_t *walk, const found_t *found)
{
    int64_t bad = walk->bad_seq;
    int64_t moved;
    switch (found->fault) {
        case GOOD:
            return 0;
        case BEFORE_ANCHOR:
            snprintf (walk->err, sizeof walk->err,
                      "bad anchor: entry %" PRId64 " is at or before the anchor (seq %" PRId64 ")",
                      bad, chain->anchor_seq);
            break;
        case UNTYPED:
            snprintf (walk->err, sizeof walk->err,
                      "entry %" PRId64 " edited: a column holds a value of the wrong type", bad);
            break;
        case GAP:
            moved = s_find_moved (db, bad, walk->last_hash, NULL);
            if (moved)
                snprintf (walk->err, sizeof walk->err,
                          "entry %" PRId64 " reordered: it is stored at seq %" PRId64, bad, moved);
            else
            if (found->next_seq == bad + 1)
                snprintf (walk->err, sizeof walk->err,
                          "entry %" PRId64 " missing (deleted): the log goes from seq %" PRId64
                          " to %" PRId64, bad, walk->last_seq, found->next_seq);
            else
                snprintf (walk->err, sizeof walk->err,
                          "entries %" PRId64 "..%" PRId64 " missing (deleted): the log goes from seq %"
                          PRId64 " to %" PRId64, bad, found->next_seq - 1, walk->last_seq,
                          found->next_seq);
            break;
        case MISMATCH:
            moved = s_find_moved (db, bad, walk->last_hash, found->stored);
            if (moved)
                snprintf (walk->err, sizeof walk->err,
                          "entry %" PRId64 " reordered: the entry that belongs at seq %" PRId64
                          " is stored at seq %" PRId64, bad, bad, moved);
            else
            if (bad == chain->anchor_seq + 1 && chain->anchor_seq > 0)
                snprintf (walk->err, sizeof walk->err,
                          "entry %" PRId64 " edited, or bad anchor (seq %" PRId64 "): "
                          "its hash does not match its contents", bad, chain->anchor_seq);
            else
                snprintf (walk->err, sizeof walk->err,
                          "entry %" PRId64 " edited: its hash does not match its contents", bad);
            break;
    }
    return -1;
}

//  Walk the entries in seq order from the anchor, checking that seqs
//  follow on and each hash matches. With until, stop (without judging it)
//  at the first entry stamped at or after before_ms. 0 if every entry
//  walked is good, else -1 with walk->bad_seq and walk->err.
static int
s_walk (en_db_t *db, const chain_t *chain, bool until, int64_t before_ms, walk_t *walk)
{
    walk->count = 0;
    walk->last_seq = chain->anchor_seq;
    walk->last_at = chain->anchor_at;
    memcpy (walk->last_hash, chain->anchor_hash, HASH_SIZE);
    walk->bad_seq = 0;
    walk->err [0] = 0;

    sqlite3_stmt *stmt = en_db_query (db, "SELECT " COLUMNS " FROM audit ORDER BY seq", NULL);
    if (!stmt) {
        snprintf (walk->err, sizeof walk->err, "database error: %s", en_db_error (db));
        return -1;
    }
    found_t found = { GOOD, 0, "" };
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        fields_t fields;
        bool typed = s_fields_from_row (stmt, &fields);
        if (until && fields.at >= before_ms)
            break;
        if (fields.seq <= walk->last_seq) {
            found.fault = BEFORE_ANCHOR;
            walk->bad_seq = fields.seq;
            break;
        }
        if (fields.seq > walk->last_seq + 1) {
            found.fault = GAP;
            walk->bad_seq = walk->last_seq + 1;
            found.next_seq = fields.seq;
            break;
        }
        unsigned char hash [HASH_SIZE];
        char hex [HEX_SIZE];
        s_digest (walk->last_hash, &fields, hash);
        s_to_hex (hash, hex);
        if (!typed || !streq (hex, s_stored_hash (stmt))) {
            found.fault = typed ? MISMATCH : UNTYPED;
            walk->bad_seq = fields.seq;
            snprintf (found.stored, sizeof found.stored, "%s", s_stored_hash (stmt));
            break;
        }
        walk->count++;
        walk->last_seq = fields.seq;
        walk->last_at = fields.at;
        memcpy (walk->last_hash, hash, HASH_SIZE);
    }
    sqlite3_reset (stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        snprintf (walk->err, sizeof walk->err, "database error: %s", en_db_error (db));
        return -1;
    }
    return s_walk_explain (db, chain, walk, &found);
}

//  Start a unit of work: a savepoint inside the caller's transaction, or
//  a write transaction of our own (*own). 0 or -1.
static int
s_begin (en_db_t *db, bool *own)
{
    *own = sqlite3_get_autocommit (en_db_handle (db)) != 0;
    return en_db_exec (db, *own ? "BEGIN IMMEDIATE" : "SAVEPOINT audit", NULL);
}

//  Finish it: keep the work if ok, else undo it. Returns 0 if kept.
static int
s_end (en_db_t *db, bool own, bool ok)
{
    if (ok && en_db_exec (db, own ? "COMMIT" : "RELEASE audit", NULL) == 0)
        return 0;
    if (own)
        en_db_rollback (db);
    else {
        en_db_exec (db, "ROLLBACK TO audit", NULL);
        en_db_exec (db, "RELEASE audit", NULL);
    }
    return -1;
}

static bool
s_in_list (const char *value, const char **list)
{
    for (int i = 0; value && list [i]; i++)
        if (streq (value, list [i]))
            return true;
    return false;
}

//  An entry we are willing to log? Logs why not.
static bool
s_entry_valid (const en_audit_entry_t *entry, fields_t *fields)
{
    const char *text [FIELD_COUNT] = {
        entry->event, entry->case_id, entry->actor, entry->on_behalf,
        entry->action, entry->outcome, entry->detail
    };
    for (int i = 0; i < FIELD_COUNT; i++) {
        fields->text [i] = text [i];
        fields->len [i] = text [i] ? strlen (text [i]) : 0;
        if (fields->len [i] > FIELD_MAX) {
            zsys_error ("audit: %s is over %d bytes", s_field_names [i], FIELD_MAX);
            return false;
        }
    }
    if (!entry->event || !*entry->event) {
        zsys_error ("audit: entry without an event");
        return false;
    }
    if (!entry->actor || !*entry->actor) {
        zsys_error ("audit: %s entry without an actor", entry->event);
        return false;
    }
    if (!s_in_list (entry->action, s_actions)) {
        zsys_error ("audit: %s entry has unknown action '%s'", entry->event,
                    entry->action ? entry->action : "(null)");
        return false;
    }
    if (!s_in_list (entry->outcome, s_outcomes)) {
        zsys_error ("audit: %s entry has unknown outcome '%s'", entry->event,
                    entry->outcome ? entry->outcome : "(null)");
        return false;
    }
    return true;
}

//  Write the entry after the head (seq, hash): the INSERT, then the
//  head's UPDATE. Each statement is atomic on its own; if the INSERT ran
//  and the UPDATE did not, the transaction is spoiled (en_db_spoil) so
//  that it cannot commit an entry past the head. On success, *seq and
//  hash are the new head. 0 or -1.
static int
s_write (en_db_t *db, const en_audit_entry_t *entry, fields_t *fields,
         int64_t *seq, unsigned char *hash)
{
    fields->seq = *seq + 1;
    fields->at = en_now_ms ();
    unsigned char next [HASH_SIZE];
    char hex [HEX_SIZE];
    s_digest (hash, fields, next);
    s_to_hex (next, hex);
    if (en_db_exec (db,
            "INSERT INTO audit (" COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "iissssssss", fields->seq, fields->at, entry->event, entry->case_id,
            entry->actor, entry->on_behalf, entry->action, entry->outcome,
            entry->detail, hex))
        return -1;
    if (en_db_exec (db, "UPDATE audit_chain SET head_seq = ?, head_hash = ? WHERE id = 1",
                    "is", fields->seq, hex)) {
        en_db_spoil (db);
        return -1;
    }
    *seq = fields->seq;
    memcpy (hash, next, HASH_SIZE);
    return 0;
}

//  The head this connection wrote last, in memory for the rest of the
//  transaction it was written in (en_db_scratch): while the transaction
//  holds the write lock no one else can move it, and en_db_epoch changes
//  when the transaction ends or a savepoint is rolled back.
typedef struct {
    bool known;                         //  seq and hash hold at epoch
    uint64_t epoch;                     //  en_db_epoch when they were written
    int64_t seq;                        //  the head's seq
    unsigned char hash [HASH_SIZE];     //  and hash
} memo_t;

//  Append inside the caller's transaction: the head from memory when
//  this transaction wrote it, else read. 0 or -1.
static int
s_append_within (en_db_t *db, const en_audit_entry_t *entry, fields_t *fields)
{
    memo_t *memo = (memo_t *) en_db_scratch (db, sizeof (memo_t));
    if (!memo->known || memo->epoch != en_db_epoch (db)) {
        chain_t chain;
        walk_t walk;
        memo->known = false;
        if (s_chain_read (db, &chain, &walk)) {
            zsys_error ("audit: cannot append %s: %s", entry->event, walk.err);
            return -1;
        }
        memo->seq = chain.head_seq;
        memcpy (memo->hash, chain.head_hash, HASH_SIZE);
    }
    memo->known = s_write (db, entry, fields, &memo->seq, memo->hash) == 0;
    memo->epoch = en_db_epoch (db);
    return memo->known ? 0 : -1;
}

int
en_audit_append (en_db_t *db, const en_audit_entry_t *entry)
{
    assert (db);
    assert (entry);
    fields_t fields;
    if (!s_entry_valid (entry, &fields))
        return -1;
    if (!sqlite3_get_autocommit (en_db_handle (db)))
        return s_append_within (db, entry, &fields);
    //  No transaction: one of our own, reading the head inside it
    if (en_db_exec (db, "BEGIN IMMEDIATE", NULL))
        return -1;
    chain_t chain;
    walk_t walk;
    bool ok = false;
    if (s_chain_read (db, &chain, &walk))
        zsys_error ("audit: cannot append %s: %s", entry->event, walk.err);
    else
        ok = s_write (db, entry, &fields, &chain.head_seq, chain.head_hash) == 0;
    return s_end (db, true, ok);
}

int
en_audit_verify (en_db_t *db, int64_t *count, int64_t *bad_seq, en_error_t *error)
{
    assert (db);
    //  One read transaction, so an append by the daemon while the
    //  command verifies cannot look like an entry past the head.
    bool own = sqlite3_get_autocommit (en_db_handle (db)) != 0;
    walk_t walk = { 0 };
    chain_t chain;
    int rc = -1;
    if (own && en_db_exec (db, "BEGIN", NULL))
        snprintf (walk.err, sizeof walk.err, "database error: %s", en_db_error (db));
    else
    if (s_chain_read (db, &chain, &walk) == 0
    &&  s_walk (db, &chain, false, 0, &walk) == 0) {
        if (walk.last_seq < chain.head_seq) {
            walk.bad_seq = walk.last_seq + 1;
            snprintf (walk.err, sizeof walk.err,
                      "head mismatch: the log ends at seq %" PRId64 " but the head records seq %"
                      PRId64 ": entries deleted from the end", walk.last_seq, chain.head_seq);
        }
        else
        if (walk.last_seq > chain.head_seq) {
            walk.bad_seq = chain.head_seq + 1;
            snprintf (walk.err, sizeof walk.err,
                      "head mismatch: the log goes on to seq %" PRId64 ", past the head at seq %"
                      PRId64 ": entries added behind en_audit_append", walk.last_seq, chain.head_seq);
        }
        else
        if (sodium_memcmp (walk.last_hash, chain.head_hash, HASH_SIZE) != 0) {
            walk.bad_seq = walk.last_seq;
            snprintf (walk.err, sizeof walk.err,
                      "head mismatch: entry %" PRId64 " does not have the hash the head records",
                      walk.last_seq);
        }
        else
            rc = 0;
    }
    if (own)
        en_db_rollback (db);            //  read only: nothing to keep
    if (count)
        *count = rc == 0 ? walk.count : 0;
    if (bad_seq)
        *bad_seq = rc == 0 ? 0 : walk.bad_seq;
    if (rc)
        en_error_set (error, strncmp (walk.err, "database error", 14) ? EN_ERR_CONFLICT : EN_ERR_INTERNAL,
                      "%s", walk.err);
    return rc;
}

json_t *
en_audit_chain (en_db_t *db)
{
    return en_db_one (en_db_query (db,
        "SELECT anchor_seq, anchor_hash, anchor_at, head_seq, head_hash FROM audit_chain WHERE id = 1",
        NULL));
}

int
en_audit_check_head (en_db_t *db, int64_t seq, const char *hash, en_error_t *error)
{
    assert (db);
    char message [256] = "";
    int rc = -1;
    int code = EN_ERR_CONFLICT;         //  the log no longer holds the head
    chain_t chain;
    walk_t walk;
    if (!hash)
        hash = "";
    if (s_chain_read (db, &chain, &walk))
        snprintf (message, sizeof message, "%s", walk.err);
    else
    if (seq < chain.anchor_seq) {
        snprintf (message, sizeof message,
                  "entry %" PRId64 " was pruned: the log now starts after seq %" PRId64,
                  seq, chain.anchor_seq);
        code = EN_ERR_NOT_FOUND;
    }
    else
    if (seq == chain.anchor_seq) {
        char hex [HEX_SIZE];
        s_to_hex (chain.anchor_hash, hex);
        if (strcasecmp (hex, hash) == 0)
            rc = 0;
        else
            snprintf (message, sizeof message,
                      "the anchor at seq %" PRId64 " has hash %s, not the recorded %.64s",
                      seq, hex, hash);
    }
    else {
        sqlite3_stmt *stmt = en_db_query (db, "SELECT hash FROM audit WHERE seq = ?", "i", seq);
        if (!stmt) {
            snprintf (message, sizeof message, "database error: %s", en_db_error (db));
            code = EN_ERR_INTERNAL;
        }
        else
        if (sqlite3_step (stmt) != SQLITE_ROW)
            snprintf (message, sizeof message,
                      "entry %" PRId64 " is missing: the log no longer holds the recorded head", seq);
        else {
            const char *stored = (const char *) sqlite3_column_text (stmt, 0);
            if (stored && strcasecmp (stored, hash) == 0)
                rc = 0;
            else
                snprintf (message, sizeof message,
                          "entry %" PRId64 " has hash %.64s, not the recorded %.64s: the log was rewritten",
                          seq, stored ? stored : "(null)", hash);
        }
        if (stmt)
            sqlite3_reset (stmt);
    }
    if (rc)
        en_error_set (error, code, "%s", message);
    return rc;
}

json_t *
en_audit_case (en_db_t *db, const char *case_id)
{
    if (!case_id)
        return NULL;
    return en_db_rows (en_db_query (db,
        "SELECT " COLUMNS " FROM audit WHERE case_id = ? ORDER BY seq", "s", case_id));
}

json_t *
en_audit_tail (en_db_t *db, int64_t n)
{
    return en_db_rows (en_db_query (db,
        "SELECT * FROM (SELECT " COLUMNS " FROM audit ORDER BY seq DESC LIMIT ?) ORDER BY seq",
        "i", n < 0 ? (int64_t) 0 : n));
}

int64_t
en_audit_prune (en_db_t *db, int64_t before_ms)
{
    assert (db);
    bool own;
    if (s_begin (db, &own))
        return -1;
    chain_t chain;
    walk_t walk;
    int64_t removed = -1;
    if (s_chain_read (db, &chain, &walk) || s_walk (db, &chain, true, before_ms, &walk))
        zsys_error ("audit: prune refused, the entries it would remove do not verify: %s", walk.err);
    else
    if (walk.count == 0)
        removed = 0;
    else {
        char hex [HEX_SIZE];
        s_to_hex (walk.last_hash, hex);
        //  Anchor first: the delete guard lets only entries at or before
        //  the anchor go.
        if (en_db_exec (db,
                "UPDATE audit_chain SET anchor_seq = ?, anchor_hash = ?, anchor_at = ? WHERE id = 1",
                "isi", walk.last_seq, hex, walk.last_at) == 0
        &&  en_db_exec (db, "DELETE FROM audit WHERE seq <= ?", "i", walk.last_seq) == 0) {
            removed = sqlite3_changes (en_db_handle (db));
            if (removed != walk.count) {
                zsys_error ("audit: prune removed %" PRId64 " entries, expected %" PRId64,
                            removed, walk.count);
                removed = -1;
            }
        }
    }
    if (s_end (db, own, removed >= 0))
        return -1;
    return removed;
}

json_t *
en_audit_report (en_db_t *db)
{
    int64_t count = 0, bad_seq = 0;
    en_error_t why = { 0 };
    int rc = en_audit_verify (db, &count, &bad_seq, &why);
    json_t *report = en_audit_chain (db);
    if (!report)
        report = json_object ();
    json_object_set_new (report, "intact", json_boolean (rc == 0));
    json_object_set_new (report, "entries", json_integer (count));
    if (rc) {
        json_object_set_new (report, "bad_seq", json_integer (bad_seq));
        json_object_set_new (report, "problem", json_string (why.reason));
    }
    return report;
}

int
en_audit_check_anchors (en_db_t *db, json_t *anchors, json_t *report)
{
    assert (db);
    assert (report);
    int64_t checked = 0, pruned = 0, latest = -1;
    int rc = 0;
    size_t index;
    json_t *anchor;
    json_array_foreach (anchors, index, anchor) {
        int64_t seq = en_json_int (anchor, "seq", -1);
        const char *hash = en_json_str (anchor, "hash");
        en_error_t why = { 0 };
        int found = seq < 0 || !hash ? en_error_set (&why, EN_ERR_INVALID, "anchor %zu has no seq or hash", index)
                                     : en_audit_check_head (db, seq, hash, &why);
        if (found && why.code == EN_ERR_NOT_FOUND)
            pruned++;
        else
        if (found == 0) {
            checked++;
            latest = MAX (latest, seq);
        }
        else {
            char problem [sizeof why.reason + 128];
            snprintf (problem, sizeof problem, "anchored head %" PRId64 " (anchored at %" PRId64 "): %s",
                      seq, en_json_int (anchor, "received", en_json_int (anchor, "at", 0)), why.reason);
            json_object_set_new (report, "intact", json_false ());
            json_object_set_new (report, "bad_seq", json_integer (seq > 0 ? seq : 0));
            json_object_set_new (report, "problem", json_string (problem));
            rc = -1;
            break;
        }
    }
    json_object_set_new (report, "anchors_checked", json_integer (checked));
    json_object_set_new (report, "anchors_pruned", json_integer (pruned));
    if (latest >= 0)
        json_object_set_new (report, "anchored_to", json_integer (latest));
    return rc;
}

//  What an event means, in Dutch, as "heeft ..." completes it.
static const char *s_events_nl [][2] = {
    { "case.create", "heeft de cliënt ingeschreven in het casusregister" },
    { "case.update", "heeft de identificerende gegevens van de cliënt bijgewerkt" },
    { "case.read", "heeft de identificerende gegevens van de cliënt ingezien" },
    { "case.phase", "heeft de fase van de casus vastgelegd" },
    { "case.re-pseudonymize", "heeft de casus een nieuw pseudoniem gegeven" },
    { "request.submit", "heeft een consultatieverzoek ingediend" },
    { "request.close", "heeft het consultatieverzoek gesloten" },
    { "offer.receive", "heeft een aanbod voor een expert afgeleverd" },
    { "offer.accept", "heeft het aanbod geaccepteerd" },
    { "offer.decline", "heeft het aanbod afgewezen" },
    { "advice.send", "heeft een advies verstuurd" },
    { "dossier.release", "heeft het dossier versleuteld vrijgegeven aan de expert die accepteerde" },
    { "dossier.receive", "heeft het versleutelde dossier afgeleverd" },
    { "dossier.read", "heeft het versleutelde dossier opgevraagd om het te openen" },
    { "pii.refused", "werd tegengehouden door de privacycontrole" },
    { "audit.export", "heeft het logboek van deze cliënt geëxporteerd" },
    { NULL, NULL } };

char *
en_audit_line_nl (json_t *entry)
{
    const char *event = en_json_str (entry, "event") ?: "?";
    const char *meaning = NULL;
    for (int i = 0; s_events_nl [i][0]; i++)
        if (streq (s_events_nl [i][0], event))
            meaning = s_events_nl [i][1];
    char when [32], other [96];
    en_time_fmt (en_json_int (entry, "at", 0), "%d-%m-%Y %H:%M:%S", when, sizeof when);
    if (!meaning) {
        snprintf (other, sizeof other, "heeft een handeling verricht (%s, %s)", event,
                  en_json_str (entry, "action") ?: "?");
        meaning = other;
    }
    const char *outcome = en_json_str (entry, "outcome") ?: "";
    const char *on_behalf = en_json_str (entry, "on_behalf");
    //  A detail that is one word (a request or offer id, a phase) says
    //  which; longer details are English notes for administrators
    const char *detail = en_json_str (entry, "detail");
    bool reference = detail && *detail && !strchr (detail, ' ');
    return zsys_sprintf ("%s  %s %s%s%s%s%s%s%s", when, en_json_str (entry, "actor") ?: "onbekend", meaning,
                         reference ? " (kenmerk " : "", reference ? detail : "", reference ? ")" : "",
                         on_behalf ? ", namens " : "", on_behalf ? on_behalf : "",
                         streq (outcome, "ok") ? "" : streq (outcome, "refused") ? " - geweigerd" : " - mislukt");
}
