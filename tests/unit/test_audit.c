/*  test_audit - the hash-chained access log (include/en_audit.h) on real
    SQLite files in a temporary directory.

    Every tampering test changes the database behind the library's back
    with raw SQL, as someone with the database file would (first dropping
    the guard triggers, which such a person can also do), then checks that
    verify fails at the right entry and names the right fault; where it
    can, it undoes the change and checks that verify passes again, so a
    verify that always fails cannot pass these tests.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <unistd.h>

#include "expertnet.h"
#include "test_fixture.h"
#include "en_audit.h"

typedef struct {
    char dir [64];              //  temporary directory
    char path [128];            //  database file in it
    en_db_t *db;                //  open database
} fixture_t;

//  The audit schema plus a table standing for the caller's own state.
static const char *s_migrations [] = { EN_AUDIT_SCHEMA, "CREATE TABLE work (x TEXT);", NULL };


static int
s_setup (void **state)
{
    fixture_t *self = (fixture_t *) calloc (1, sizeof (fixture_t));
    if (!test_mkdtemp (self->dir, sizeof self->dir, "test_audit"))
        return -1;
    snprintf (self->path, sizeof self->path, "%s/node.db", self->dir);
    en_error_t error = { 0 };
    self->db = en_db_new (self->path, s_migrations, &error);
    if (!self->db) {
        fprintf (stderr, "en_db_new: %s\n", error.reason);
        return -1;
    }
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_db_destroy (&self->db);
    test_rmtree (self->dir);
    free (self);
    return 0;
}

//  Append entry number n (its detail says "n=N", so entries differ).
static void
s_append (en_db_t *db, int n, const char *case_id)
{
    char detail [32];
    snprintf (detail, sizeof detail, "n=%d", n);
    en_audit_entry_t entry = {
        .event = "request.submit", .case_id = case_id, .actor = "procesregisseur-tw-3",
        .on_behalf = "et-twente", .action = "create", .outcome = "ok", .detail = detail
    };
    assert_int_equal (en_audit_append (db, &entry), 0);
}

static void
s_append_many (en_db_t *db, int from, int to)
{
    for (int n = from; n <= to; n++)
        s_append (db, n, n % 2 ? "twente-0001" : "twente-0002");
}

//  Change the database as an attacker with the file would: without the
//  guard triggers. The triggers stay dropped for the rest of the test.
static void
s_tamper (en_db_t *db, const char *sql)
{
    char *message = NULL;
    int rc = sqlite3_exec (en_db_handle (db),
        "DROP TRIGGER IF EXISTS audit_append;"
        "DROP TRIGGER IF EXISTS audit_no_update;"
        "DROP TRIGGER IF EXISTS audit_no_delete;"
        "DROP TRIGGER IF EXISTS audit_chain_forward;"
        "DROP TRIGGER IF EXISTS audit_chain_keep;", NULL, NULL, &message);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec (en_db_handle (db), sql, NULL, NULL, &message);
    if (rc != SQLITE_OK)
        fail_msg ("tamper '%s': %s", sql, message);
    sqlite3_free (message);
}

static void
s_tamperf (en_db_t *db, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *sql = sqlite3_vmprintf (format, args);
    va_end (args);
    s_tamper (db, sql);
    sqlite3_free (sql);
}

static void
s_verify_ok (en_db_t *db, int64_t expect_count)
{
    int64_t count = -1, bad = -1;
    en_error_t error = { 0 };
    int rc = en_audit_verify (db, &count, &bad, &error);
    if (rc != 0)
        fail_msg ("verify failed at %" PRId64 ": %s", bad, error.reason);
    assert_int_equal (count, expect_count);
    assert_int_equal (bad, 0);
    assert_int_equal (error.code, 0);
}

//  Verify must fail at bad_seq, with every given phrase in its message.
static void
s_verify_fails (en_db_t *db, int64_t expect_bad, const char *phrase, const char *phrase2)
{
    int64_t count = -1, bad = -1;
    en_error_t error = { 0 };
    assert_int_equal (en_audit_verify (db, &count, &bad, &error), -1);
    if (bad != expect_bad || !strstr (error.reason, phrase) || (phrase2 && !strstr (error.reason, phrase2)))
        fail_msg ("expected failure at %" PRId64 " saying '%s'%s%s, got %" PRId64 ": %s",
                  expect_bad, phrase, phrase2 ? " and " : "", phrase2 ? phrase2 : "", bad, error.reason);
    assert_int_equal (count, 0);
}

static char *
s_text (en_db_t *db, const char *sql, int64_t seq)
{
    sqlite3_stmt *stmt = en_db_query (db, sql, "i", seq);
    assert_non_null (stmt);
    char *text = NULL;
    if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
        text = strdup ((const char *) sqlite3_column_text (stmt, 0));
    sqlite3_reset (stmt);
    return text;
}

static char *
s_hash_of (en_db_t *db, int64_t seq)
{
    return s_text (db, "SELECT hash FROM audit WHERE seq = ?", seq);
}

//  ---------------------------------------------------------------------
//  An independent implementation of the hash as docs/audit.md states it:
//  BLAKE2b-256 over prev (32 bytes) || "enaudit1" || seq (u64 BE) ||
//  at (u64 BE) || per field: 0x00 for NULL, or 0x01 || length (u64 BE)
//  || bytes, fields in the order event, case_id, actor, on_behalf,
//  action, outcome, detail.

static size_t
s_be64 (unsigned char *buf, uint64_t value)
{
    for (int i = 7; i >= 0; i--, value >>= 8)
        buf [i] = (unsigned char) value;
    return 8;
}

static void
s_doc_hash (const unsigned char *prev, int64_t seq, int64_t at,
            const char *fields [7], unsigned char *hash)
{
    unsigned char buf [8192];
    size_t len = 0;
    memcpy (buf, prev, 32);
    len += 32;
    memcpy (buf + len, "enaudit1", 8);
    len += 8;
    len += s_be64 (buf + len, (uint64_t) seq);
    len += s_be64 (buf + len, (uint64_t) at);
    for (int i = 0; i < 7; i++) {
        if (!fields [i])
            buf [len++] = 0;
        else {
            buf [len++] = 1;
            size_t size = strlen (fields [i]);
            assert_true (len + 8 + size < sizeof buf);
            len += s_be64 (buf + len, size);
            memcpy (buf + len, fields [i], size);
            len += size;
        }
    }
    assert_int_equal (crypto_generichash (hash, 32, buf, len, NULL, 0), 0);
}

static const char *
s_field (json_t *row, const char *name)
{
    return json_string_value (json_object_get (row, name));      //  NULL for JSON null
}

static void
s_row_fields (json_t *row, const char *fields [7])
{
    static const char *names [7] = {
        "event", "case_id", "actor", "on_behalf", "action", "outcome", "detail"
    };
    for (int i = 0; i < 7; i++)
        fields [i] = s_field (row, names [i]);
}

//  Write entry seq's hash, computed the documented way from prev, into hex.
static void
s_forge_hash (en_db_t *db, int64_t seq, const unsigned char *prev, char *hex)
{
    sqlite3_stmt *stmt = en_db_query (db,
        "SELECT seq, at, event, case_id, actor, on_behalf, action, outcome, detail, hash "
        "FROM audit WHERE seq = ?", "i", seq);
    json_t *row = en_db_one (stmt);
    assert_non_null (row);
    const char *fields [7];
    s_row_fields (row, fields);
    unsigned char hash [32];
    s_doc_hash (prev, seq, json_integer_value (json_object_get (row, "at")), fields, hash);
    sodium_bin2hex (hex, 65, hash, 32);
    json_decref (row);
}

//  ---------------------------------------------------------------------

static void
test_append_and_verify (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    //  An empty log verifies, with the genesis head
    s_verify_ok (self->db, 0);
    json_t *chain = en_audit_chain (self->db);
    assert_non_null (chain);
    assert_int_equal (json_integer_value (json_object_get (chain, "head_seq")), 0);
    assert_string_equal (s_field (chain, "head_hash"),
        "0000000000000000000000000000000000000000000000000000000000000000");
    json_decref (chain);

    int64_t before = en_now_ms ();
    s_append_many (self->db, 1, 10);
    int64_t after = en_now_ms ();
    s_verify_ok (self->db, 10);
    //  count, bad_seq and error are optional
    assert_int_equal (en_audit_verify (self->db, NULL, NULL, NULL), 0);

    //  seqs 1..10, no gaps, stamped now; the head is entry 10
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM audit", NULL), 10);
    assert_int_equal (en_db_int (self->db, "SELECT min(seq) FROM audit", NULL), 1);
    assert_int_equal (en_db_int (self->db, "SELECT max(seq) FROM audit", NULL), 10);
    assert_true (en_db_int (self->db, "SELECT min(at) FROM audit", NULL) >= before);
    assert_true (en_db_int (self->db, "SELECT max(at) FROM audit", NULL) <= after);
    chain = en_audit_chain (self->db);
    assert_int_equal (json_integer_value (json_object_get (chain, "head_seq")), 10);
    char *hash10 = s_hash_of (self->db, 10);
    assert_string_equal (s_field (chain, "head_hash"), hash10);
    assert_int_equal (json_integer_value (json_object_get (chain, "anchor_seq")), 0);
    json_decref (chain);

    //  tail: the last n, newest last
    json_t *tail = en_audit_tail (self->db, 3);
    assert_int_equal (json_array_size (tail), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal (json_integer_value (json_object_get (json_array_get (tail, i), "seq")), 8 + i);
    json_t *last = json_array_get (tail, 2);
    assert_string_equal (s_field (last, "event"), "request.submit");
    assert_string_equal (s_field (last, "case_id"), "twente-0002");
    assert_string_equal (s_field (last, "actor"), "procesregisseur-tw-3");
    assert_string_equal (s_field (last, "on_behalf"), "et-twente");
    assert_string_equal (s_field (last, "action"), "create");
    assert_string_equal (s_field (last, "outcome"), "ok");
    assert_string_equal (s_field (last, "detail"), "n=10");
    assert_string_equal (s_field (last, "hash"), hash10);
    json_decref (tail);
    tail = en_audit_tail (self->db, 100);
    assert_int_equal (json_array_size (tail), 10);
    json_decref (tail);
    tail = en_audit_tail (self->db, 0);
    assert_int_equal (json_array_size (tail), 0);
    json_decref (tail);

    //  The log survives closing and reopening, and appends continue it
    en_db_destroy (&self->db);
    en_error_t error = { 0 };
    self->db = en_db_new (self->path, s_migrations, &error);
    assert_non_null (self->db);
    s_verify_ok (self->db, 10);
    s_append (self->db, 11, NULL);
    s_verify_ok (self->db, 11);
    free (hash10);
}

//  The stored hashes are exactly the documented construction, so anyone
//  can check an exported log without our code.
static void
test_hash_format (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_append_many (self->db, 1, 4);
    en_audit_entry_t sparse = {
        .event = "dossier.release", .actor = "twente", .action = "export", .outcome = "refused"
    };
    assert_int_equal (en_audit_append (self->db, &sparse), 0);
    json_t *rows = en_audit_tail (self->db, 100);
    assert_int_equal (json_array_size (rows), 5);
    unsigned char prev [32] = { 0 };
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row) {
        const char *fields [7];
        s_row_fields (row, fields);
        unsigned char hash [32];
        s_doc_hash (prev, json_integer_value (json_object_get (row, "seq")),
                    json_integer_value (json_object_get (row, "at")), fields, hash);
        char hex [65];
        sodium_bin2hex (hex, sizeof hex, hash, 32);
        assert_string_equal (hex, s_field (row, "hash"));
        memcpy (prev, hash, 32);
    }
    //  The sparse entry's NULLs are stored as NULL
    row = json_array_get (rows, 4);
    assert_true (json_is_null (json_object_get (row, "case_id")));
    assert_true (json_is_null (json_object_get (row, "on_behalf")));
    assert_true (json_is_null (json_object_get (row, "detail")));
    json_decref (rows);
}

static void
test_edit_detected (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_append_many (self->db, 1, 10);
    //  Each column of entry 6, changed and changed back
    static const struct {
        const char *column;         //  column to edit
        const char *value;          //  SQL for its new value
    } edits [] = {
        { "at", "at + 1" },
        { "event", "'request.read'" },
        { "case_id", "'twente-0003'" },
        { "case_id", "NULL" },
        { "actor", "'someone-else'" },
        { "on_behalf", "NULL" },
        { "action", "'read'" },
        { "outcome", "'refused'" },
        { "detail", "'n=66'" },
        { "detail", "NULL" },
        { "hash", "'0000000000000000000000000000000000000000000000000000000000000000'" },
        { "hash", "upper (hash)" },
        { "at", "at + 0.5" },           //  REAL: reads back as the same integer
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits [0]; i++) {
        sqlite3_stmt *stmt = en_db_query (self->db,
            "SELECT quote (at), quote (event), quote (case_id), quote (actor), quote (on_behalf),"
            " quote (action), quote (outcome), quote (detail), quote (hash) FROM audit WHERE seq = 6", NULL);
        assert_true (sqlite3_step (stmt) == SQLITE_ROW);
        char *restore = sqlite3_mprintf (
            "UPDATE audit SET at = %s, event = %s, case_id = %s, actor = %s, on_behalf = %s,"
            " action = %s, outcome = %s, detail = %s, hash = %s WHERE seq = 6",
            sqlite3_column_text (stmt, 0), sqlite3_column_text (stmt, 1), sqlite3_column_text (stmt, 2),
            sqlite3_column_text (stmt, 3), sqlite3_column_text (stmt, 4), sqlite3_column_text (stmt, 5),
            sqlite3_column_text (stmt, 6), sqlite3_column_text (stmt, 7), sqlite3_column_text (stmt, 8));
        sqlite3_reset (stmt);

        s_tamperf (self->db, "UPDATE audit SET %s = %s WHERE seq = 6", edits [i].column, edits [i].value);
        if (streq (edits [i].column, "at") && streq (edits [i].value, "at + 0.5"))
            s_verify_fails (self->db, 6, "edited", "wrong type");
        else
            s_verify_fails (self->db, 6, "entry 6 edited", NULL);
        s_tamper (self->db, restore);
        s_verify_ok (self->db, 10);
        sqlite3_free (restore);
    }
    //  The first and the last entry are covered too
    s_tamper (self->db, "UPDATE audit SET actor = 'x' WHERE seq = 1");
    s_verify_fails (self->db, 1, "entry 1 edited", NULL);
    s_tamper (self->db, "UPDATE audit SET actor = 'procesregisseur-tw-3' WHERE seq = 1");
    s_tamper (self->db, "UPDATE audit SET outcome = 'error' WHERE seq = 10");
    s_verify_fails (self->db, 10, "entry 10 edited", NULL);
    s_tamper (self->db, "UPDATE audit SET outcome = 'ok' WHERE seq = 10");
    s_verify_ok (self->db, 10);
    //  Two edits: the first one is reported
    s_tamper (self->db, "UPDATE audit SET detail = 'x' WHERE seq IN (4, 8)");
    s_verify_fails (self->db, 4, "entry 4 edited", NULL);
}

//  NULL and "" hash differently, and so do "ab"+"c" and "a"+"bc".
static void
test_field_encoding (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_audit_entry_t entry = {
        .event = "a", .case_id = "bc", .actor = "twente", .on_behalf = NULL,
        .action = "read", .outcome = "ok", .detail = ""
    };
    assert_int_equal (en_audit_append (self->db, &entry), 0);
    s_verify_ok (self->db, 1);
    //  NULL -> ""
    s_tamper (self->db, "UPDATE audit SET on_behalf = '' WHERE seq = 1");
    s_verify_fails (self->db, 1, "edited", NULL);
    s_tamper (self->db, "UPDATE audit SET on_behalf = NULL WHERE seq = 1");
    s_verify_ok (self->db, 1);
    //  "" -> NULL
    s_tamper (self->db, "UPDATE audit SET detail = NULL WHERE seq = 1");
    s_verify_fails (self->db, 1, "edited", NULL);
    s_tamper (self->db, "UPDATE audit SET detail = '' WHERE seq = 1");
    s_verify_ok (self->db, 1);
    //  A boundary moved between adjacent fields
    s_tamper (self->db, "UPDATE audit SET event = 'ab', case_id = 'c' WHERE seq = 1");
    s_verify_fails (self->db, 1, "edited", NULL);
    s_tamper (self->db, "UPDATE audit SET event = 'a', case_id = 'bc' WHERE seq = 1");
    s_verify_ok (self->db, 1);
    //  A field's text moved to its empty neighbour
    s_tamper (self->db, "UPDATE audit SET outcome = '', detail = 'ok' WHERE seq = 1");
    s_verify_fails (self->db, 1, "edited", NULL);

    //  Without length prefixes, a separator byte inside a field would let
    //  its end move into the next one
    en_audit_entry_t control = {
        .event = "x\001", .case_id = "y", .actor = "twente", .action = "read", .outcome = "ok"
    };
    assert_int_equal (en_audit_append (self->db, &control), 0);
    s_tamper (self->db, "UPDATE audit SET event = 'x', case_id = char (1) || 'y' WHERE seq = 2");
    s_verify_fails (self->db, 1, "edited", NULL);       //  entry 1 is still edited
    s_tamper (self->db, "UPDATE audit SET outcome = 'ok', detail = '' WHERE seq = 1");
    s_verify_fails (self->db, 2, "entry 2 edited", NULL);
    s_tamper (self->db, "UPDATE audit SET event = 'x' || char (1), case_id = 'y' WHERE seq = 2");
    s_verify_ok (self->db, 2);

    //  Without a NULL marker, fields could shift across a NULL:
    //  (NULL, "abc", "x") and ("abc", "x", NULL) would encode alike
    en_audit_entry_t shift = {
        .event = "e", .case_id = NULL, .actor = "abc", .on_behalf = "x",
        .action = "read", .outcome = "ok"
    };
    assert_int_equal (en_audit_append (self->db, &shift), 0);
    s_verify_ok (self->db, 3);
    s_tamper (self->db, "UPDATE audit SET case_id = 'abc', actor = 'x', on_behalf = NULL WHERE seq = 3");
    s_verify_fails (self->db, 3, "entry 3 edited", NULL);
}

static void
test_delete_detected (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_append_many (self->db, 1, 10);
    char *saved = s_text (self->db,
        "SELECT 'INSERT INTO audit VALUES (' || seq || ',' || at || ',' || quote (event) || ','"
        " || quote (case_id) || ',' || quote (actor) || ',' || quote (on_behalf) || ','"
        " || quote (action) || ',' || quote (outcome) || ',' || quote (detail) || ','"
        " || quote (hash) || ')' FROM audit WHERE seq = ?", 5);
    s_tamper (self->db, "DELETE FROM audit WHERE seq = 5");
    s_verify_fails (self->db, 5, "entry 5 missing (deleted)", NULL);
    //  Put back, verify passes again
    s_tamper (self->db, saved);
    s_verify_ok (self->db, 10);
    //  Several in a row
    s_tamper (self->db, "DELETE FROM audit WHERE seq IN (5, 6, 7)");
    s_verify_fails (self->db, 5, "entries 5..7 missing", NULL);
    s_tamper (self->db, "DELETE FROM audit WHERE seq = 2");
    s_verify_fails (self->db, 2, "entry 2 missing", NULL);
    //  The first entry (and 2, already gone)
    s_tamper (self->db, "DELETE FROM audit WHERE seq = 1");
    s_verify_fails (self->db, 1, "entries 1..2 missing", NULL);
    free (saved);
}

//  Deleting from the end leaves the chain itself intact: the head catches it.
static void
test_delete_tail_detected (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_append_many (self->db, 1, 10);
    s_tamper (self->db, "DELETE FROM audit WHERE seq = 10");
    s_verify_fails (self->db, 10, "head mismatch", "ends at seq 9");
    s_tamper (self->db, "DELETE FROM audit WHERE seq >= 7");
    s_verify_fails (self->db, 7, "head mismatch", "ends at seq 6");
    s_tamper (self->db, "DELETE FROM audit");
    s_verify_fails (self->db, 1, "head mismatch", "ends at seq 0");
}

//  An entry slipped in past the head, and a head that does not match.
static void
test_head_checked (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_append_many (self->db, 1, 10);
    //  Entry 11, correctly chained, but written without moving the head
    s_tamper (self->db,
        "INSERT INTO audit SELECT 11, at + 1, event, case_id, actor, on_behalf, action, outcome,"
        " 'forged', 'x' FROM audit WHERE seq = 10");
    unsigned char prev [32];
    char *hash10 = s_hash_of (self->db, 10);
    assert_int_equal (sodium_hex2bin (prev, 32, hash10, 64, NULL, NULL, NULL), 0);
    char hex [65];
    s_forge_hash (self->db, 11, prev, hex);
    s_tamperf (self->db, "UPDATE audit SET hash = %Q WHERE seq = 11", hex);
    s_verify_fails (self->db, 11, "head mismatch", "past the head");
    //  Moving the head as well makes the forgery consistent: that is the
    //  documented limit, and why the head is recorded elsewhere
    s_tamperf (self->db, "UPDATE audit_chain SET head_seq = 11, head_hash = %Q", hex);
    s_verify_ok (self->db, 11);
    s_tamper (self->db, "DELETE FROM audit WHERE seq = 11");
    s_tamperf (self->db, "UPDATE audit_chain SET head_seq = 10, head_hash = %Q", hash10);
    s_verify_ok (self->db, 10);
    //  A head hash that is not entry 10's
    s_tamper (self->db, "UPDATE audit_chain SET head_hash = "
                        "'1111111111111111111111111111111111111111111111111111111111111111'");
    s_verify_fails (self->db, 10, "head mismatch", "does not have the hash");
    s_tamper (self->db, "UPDATE audit_chain SET head_hash = 'not hex'");
    s_verify_fails (self->db, 0, "head mismatch", "not 64 hex");
    free (hash10);
}

//  Heads anchored elsewhere catch what verify alone cannot: the whole
//  chain rewritten from entry 3 on, with fresh hashes and head
static void
test_anchors_checked (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_append_many (self->db, 1, 10);
    char *hash5 = s_hash_of (self->db, 5);
    char *hash10 = s_hash_of (self->db, 10);
    json_t *anchors = json_pack ("[{s:i, s:s}, {s:i, s:s}]", "seq", 5, "hash", hash5, "seq", 10, "hash", hash10);
    json_t *report = en_audit_report (self->db);
    assert_int_equal (en_audit_check_anchors (self->db, anchors, report), 0);
    assert_true (json_is_true (json_object_get (report, "intact")));
    assert_int_equal (en_json_int (report, "anchors_checked", 0), 2);
    assert_int_equal (en_json_int (report, "anchored_to", 0), 10);
    json_decref (report);

    //  The rewrite: entry 3 edited, 3..10 re-hashed, the head moved along
    s_tamper (self->db, "UPDATE audit SET detail = 'rewritten' WHERE seq = 3");
    char *hash2 = s_hash_of (self->db, 2);
    unsigned char prev [32];
    assert_int_equal (sodium_hex2bin (prev, 32, hash2, 64, NULL, NULL, NULL), 0);
    char hex [65];
    for (int seq = 3; seq <= 10; seq++) {
        s_forge_hash (self->db, seq, prev, hex);
        s_tamperf (self->db, "UPDATE audit SET hash = %Q WHERE seq = %d", hex, seq);
        assert_int_equal (sodium_hex2bin (prev, 32, hex, 64, NULL, NULL, NULL), 0);
    }
    s_tamperf (self->db, "UPDATE audit_chain SET head_hash = %Q", hex);
    s_verify_ok (self->db, 10);
    report = en_audit_report (self->db);
    assert_int_equal (en_audit_check_anchors (self->db, anchors, report), -1);
    assert_false (json_is_true (json_object_get (report, "intact")));
    assert_int_equal (en_json_int (report, "bad_seq", 0), 5);
    assert_non_null (strstr (en_json_str (report, "problem"), "anchored head 5"));
    assert_non_null (strstr (en_json_str (report, "problem"), "the log was rewritten"));
    json_decref (report);

    //  An anchor without a hash is a fault of the file, said as such
    json_t *broken = json_pack ("[{s:i}]", "seq", 4);
    report = en_audit_report (self->db);
    assert_int_equal (en_audit_check_anchors (self->db, broken, report), -1);
    assert_non_null (strstr (en_json_str (report, "problem"), "no seq or hash"));
    json_decref (report);
    json_decref (broken);
    json_decref (anchors);
    free (hash2);
    free (hash5);
    free (hash10);
}

static void
test_reorder_detected (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_append_many (self->db, 1, 10);
    //  Swap every column of entries 3 and 7, hashes included
    s_tamper (self->db,
        "CREATE TEMP TABLE keep AS SELECT * FROM audit WHERE seq IN (3, 7);"
        "DELETE FROM audit WHERE seq IN (3, 7);"
        "INSERT INTO audit SELECT CASE seq WHEN 3 THEN 7 ELSE 3 END, at, event, case_id, actor,"
        " on_behalf, action, outcome, detail, hash FROM keep;");
    s_verify_fails (self->db, 3, "entry 3 reordered", "stored at seq 7");
    //  Swap back
    s_tamper (self->db,
        "DELETE FROM audit WHERE seq IN (3, 7);"
        "INSERT INTO audit SELECT * FROM keep; DROP TABLE keep;");
    s_verify_ok (self->db, 10);

    //  Swap the contents but leave each row's hash where it was
    s_tamper (self->db,
        "CREATE TEMP TABLE keep AS SELECT * FROM audit WHERE seq IN (3, 7);"
        "UPDATE audit SET (at, event, case_id, actor, on_behalf, action, outcome, detail) ="
        " (SELECT at, event, case_id, actor, on_behalf, action, outcome, detail FROM keep"
        "  WHERE keep.seq = CASE audit.seq WHEN 3 THEN 7 ELSE 3 END) WHERE seq IN (3, 7);");
    s_verify_fails (self->db, 3, "entry 3 reordered", "stored at seq 7");
    s_tamper (self->db,
        "DELETE FROM audit WHERE seq IN (3, 7);"
        "INSERT INTO audit SELECT * FROM keep; DROP TABLE keep;");
    s_verify_ok (self->db, 10);

    //  Swap two neighbours
    s_tamper (self->db,
        "UPDATE audit SET seq = -4 WHERE seq = 4;"
        "UPDATE audit SET seq = 4 WHERE seq = 5;"
        "UPDATE audit SET seq = 5 WHERE seq = -4;");
    s_verify_fails (self->db, 4, "entry 4 reordered", "stored at seq 5");
    s_tamper (self->db,
        "UPDATE audit SET seq = -4 WHERE seq = 4;"
        "UPDATE audit SET seq = 4 WHERE seq = 5;"
        "UPDATE audit SET seq = 5 WHERE seq = -4;");
    s_verify_ok (self->db, 10);

    //  Move one entry to the end by changing its seq
    s_tamper (self->db, "UPDATE audit SET seq = 11 WHERE seq = 2");
    s_verify_fails (self->db, 2, "entry 2 reordered", "stored at seq 11");
    s_tamper (self->db, "UPDATE audit SET seq = 2 WHERE seq = 11");
    s_verify_ok (self->db, 10);

    //  Renumber everything down by one after deleting entry 1: no gap,
    //  but every seq is inside the hash
    s_tamper (self->db, "DELETE FROM audit WHERE seq = 1; UPDATE audit SET seq = seq - 1;");
    s_verify_fails (self->db, 1, "entry 1", NULL);
}

static void
test_prune (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_append_many (self->db, 1, 5);
    zclock_sleep (5);
    int64_t cutoff = en_now_ms ();
    zclock_sleep (5);
    s_append_many (self->db, 6, 10);
    char *hash5 = s_hash_of (self->db, 5);
    char *hash3 = s_hash_of (self->db, 3);
    int64_t at5 = en_db_int (self->db, "SELECT at FROM audit WHERE seq = 5", NULL);

    //  Nothing is older than the first entry
    assert_int_equal (en_audit_prune (self->db, 0), 0);
    s_verify_ok (self->db, 10);
    //  Entries before the cutoff go; the last one removed is the anchor
    assert_int_equal (en_audit_prune (self->db, cutoff), 5);
    s_verify_ok (self->db, 5);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM audit WHERE at < ?", "i", cutoff), 0);
    assert_int_equal (en_db_int (self->db, "SELECT min(seq) FROM audit", NULL), 6);
    json_t *chain = en_audit_chain (self->db);
    assert_int_equal (json_integer_value (json_object_get (chain, "anchor_seq")), 5);
    assert_string_equal (s_field (chain, "anchor_hash"), hash5);
    assert_int_equal (json_integer_value (json_object_get (chain, "anchor_at")), at5);
    assert_int_equal (json_integer_value (json_object_get (chain, "head_seq")), 10);
    json_decref (chain);
    json_t *rows = en_audit_case (self->db, "twente-0001");
    assert_int_equal (json_array_size (rows), 2);       //  7 and 9
    json_decref (rows);
    //  Pruning again removes nothing
    assert_int_equal (en_audit_prune (self->db, cutoff), 0);
    //  A recorded head: the anchor still checks, a pruned one cannot
    en_error_t error = { 0 };
    assert_int_equal (en_audit_check_head (self->db, 5, hash5, &error), 0);
    assert_int_equal (en_audit_check_head (self->db, 3, hash3, &error), -1);
    assert_int_equal (error.code, EN_ERR_NOT_FOUND);
    assert_non_null (strstr (error.reason, "pruned"));

    //  Tampering after a prune is still found
    s_tamper (self->db, "UPDATE audit SET detail = 'x' WHERE seq = 8");
    s_verify_fails (self->db, 8, "entry 8 edited", NULL);
    s_tamper (self->db, "UPDATE audit SET detail = 'n=8' WHERE seq = 8");
    s_verify_ok (self->db, 5);
    //  ... the first entry after the anchor
    s_tamper (self->db, "UPDATE audit SET actor = 'x' WHERE seq = 6");
    s_verify_fails (self->db, 6, "entry 6 edited", NULL);
    s_tamper (self->db, "UPDATE audit SET actor = 'procesregisseur-tw-3' WHERE seq = 6");
    s_verify_ok (self->db, 5);
    //  ... an altered anchor hash
    s_tamper (self->db, "UPDATE audit_chain SET anchor_hash = "
                        "'2222222222222222222222222222222222222222222222222222222222222222'");
    s_verify_fails (self->db, 6, "bad anchor", NULL);
    s_tamperf (self->db, "UPDATE audit_chain SET anchor_hash = %Q", hash5);
    s_verify_ok (self->db, 5);
    //  ... an anchor moved back, or forward over a live entry
    s_tamper (self->db, "UPDATE audit_chain SET anchor_seq = 4");
    s_verify_fails (self->db, 5, "entry 5 missing", NULL);
    s_tamper (self->db, "UPDATE audit_chain SET anchor_seq = 6");
    s_verify_fails (self->db, 6, "bad anchor", "at or before the anchor");
    s_tamper (self->db, "UPDATE audit_chain SET anchor_seq = 5");
    s_verify_ok (self->db, 5);
    //  ... an anchor that is not hex
    s_tamper (self->db, "UPDATE audit_chain SET anchor_hash = 'zz'");
    s_verify_fails (self->db, 0, "bad anchor", NULL);
    s_tamperf (self->db, "UPDATE audit_chain SET anchor_hash = %Q", hash5);
    //  ... the entry right after the anchor deleted
    s_tamper (self->db, "DELETE FROM audit WHERE seq = 6");
    s_verify_fails (self->db, 6, "entry 6 missing", NULL);
    free (hash5);
    free (hash3);
}

//  Pruning everything leaves an empty, verifiable log that appends continue.
static void
test_prune_all (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_append_many (self->db, 1, 4);
    char *hash4 = s_hash_of (self->db, 4);
    assert_int_equal (en_audit_prune (self->db, en_now_ms () + 1000), 4);
    s_verify_ok (self->db, 0);
    json_t *chain = en_audit_chain (self->db);
    assert_int_equal (json_integer_value (json_object_get (chain, "anchor_seq")), 4);
    assert_int_equal (json_integer_value (json_object_get (chain, "head_seq")), 4);
    assert_string_equal (s_field (chain, "anchor_hash"), hash4);
    assert_string_equal (s_field (chain, "head_hash"), hash4);
    json_decref (chain);
    s_append_many (self->db, 5, 6);
    s_verify_ok (self->db, 2);
    assert_int_equal (en_db_int (self->db, "SELECT min(seq) FROM audit", NULL), 5);
    //  Entry 5 chains from the anchor
    unsigned char prev [32];
    assert_int_equal (sodium_hex2bin (prev, 32, hash4, 64, NULL, NULL, NULL), 0);
    char hex [65];
    s_forge_hash (self->db, 5, prev, hex);
    char *hash5 = s_hash_of (self->db, 5);
    assert_string_equal (hex, hash5);
    free (hash4);
    free (hash5);
}

//  Retention must not erase the evidence: a tampered prefix is kept.
static void
test_prune_refuses_tampered (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_append_many (self->db, 1, 10);
    s_tamper (self->db, "UPDATE audit SET event = 'nothing.happened' WHERE seq = 2");
    assert_int_equal (en_audit_prune (self->db, en_now_ms () + 1000), -1);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM audit", NULL), 10);
    assert_int_equal (en_db_int (self->db, "SELECT anchor_seq FROM audit_chain", NULL), 0);
    s_verify_fails (self->db, 2, "entry 2 edited", NULL);
    //  A deleted entry likewise
    s_tamper (self->db, "UPDATE audit SET event = 'request.submit' WHERE seq = 2;"
                        "DELETE FROM audit WHERE seq = 3");
    assert_int_equal (en_audit_prune (self->db, en_now_ms () + 1000), -1);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM audit", NULL), 9);
    //  Inside the caller's transaction the refusal leaves its work alone
    assert_int_equal (en_db_begin (self->db), 0);
    assert_int_equal (en_db_exec (self->db, "INSERT INTO work VALUES ('kept')", NULL), 0);
    assert_int_equal (en_audit_prune (self->db, en_now_ms () + 1000), -1);
    assert_int_equal (en_db_commit (self->db), 0);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM work", NULL), 1);
}

static void
test_case_entries (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    static const struct {
        const char *case_id;
        const char *actor;
        const char *action;
    } plan [] = {
        { "twente-0001", "procesregisseur-tw-3", "create" },
        { "twente-0002", "procesregisseur-tw-3", "create" },
        { NULL, "broker-overijssel", "receive" },
        { "twente-0001", "se-tw-01", "read" },
        { "twente-00011", "se-tw-02", "read" },
        { "twente-0001", "se-tw-01", "accept" },
        { "", "se-tw-09", "read" },
    };
    for (size_t i = 0; i < sizeof plan / sizeof plan [0]; i++) {
        en_audit_entry_t entry = {
            .event = "case.event", .case_id = plan [i].case_id, .actor = plan [i].actor,
            .on_behalf = i == 3 ? "procesregisseur-tw-3" : NULL,
            .action = plan [i].action, .outcome = "ok"
        };
        assert_int_equal (en_audit_append (self->db, &entry), 0);
    }
    json_t *rows = en_audit_case (self->db, "twente-0001");
    assert_non_null (rows);
    assert_int_equal (json_array_size (rows), 3);
    static const int64_t seqs [] = { 1, 4, 6 };
    static const char *actors [] = { "procesregisseur-tw-3", "se-tw-01", "se-tw-01" };
    static const char *actions [] = { "create", "read", "accept" };
    for (int i = 0; i < 3; i++) {
        json_t *row = json_array_get (rows, i);
        assert_int_equal (json_integer_value (json_object_get (row, "seq")), seqs [i]);
        assert_string_equal (s_field (row, "case_id"), "twente-0001");
        assert_string_equal (s_field (row, "actor"), actors [i]);
        assert_string_equal (s_field (row, "action"), actions [i]);
        assert_true (json_is_integer (json_object_get (row, "at")));
        assert_int_equal (strlen (s_field (row, "hash")), 64);
        assert_true (json_is_null (json_object_get (row, "detail")));
    }
    assert_string_equal (s_field (json_array_get (rows, 1), "on_behalf"), "procesregisseur-tw-3");
    assert_true (json_is_null (json_object_get (json_array_get (rows, 0), "on_behalf")));
    json_decref (rows);
    //  An unknown case has no entries; no case is not a query
    rows = en_audit_case (self->db, "twente-9999");
    assert_int_equal (json_array_size (rows), 0);
    json_decref (rows);
    assert_null (en_audit_case (self->db, NULL));
    rows = en_audit_case (self->db, "");
    assert_int_equal (json_array_size (rows), 1);
    assert_int_equal (json_integer_value (json_object_get (json_array_get (rows, 0), "seq")), 7);
    json_decref (rows);
}

static void
test_append_refuses (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_audit_entry_t good = {
        .event = "offer.accept", .case_id = "twente-0001-o1", .actor = "se-tw-01",
        .action = "accept", .outcome = "ok"
    };
    en_audit_entry_t entry = good;
    entry.event = NULL;
    assert_int_equal (en_audit_append (self->db, &entry), -1);
    entry = good;
    entry.event = "";
    assert_int_equal (en_audit_append (self->db, &entry), -1);
    entry = good;
    entry.actor = NULL;
    assert_int_equal (en_audit_append (self->db, &entry), -1);
    entry = good;
    entry.action = "peek";
    assert_int_equal (en_audit_append (self->db, &entry), -1);
    entry = good;
    entry.action = NULL;
    assert_int_equal (en_audit_append (self->db, &entry), -1);
    entry = good;
    entry.outcome = "maybe";
    assert_int_equal (en_audit_append (self->db, &entry), -1);
    char long_detail [1100];
    memset (long_detail, 'x', sizeof long_detail - 1);
    long_detail [sizeof long_detail - 1] = 0;
    entry = good;
    entry.detail = long_detail;
    assert_int_equal (en_audit_append (self->db, &entry), -1);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM audit", NULL), 0);
    //  Every listed action and outcome is accepted
    static const char *actions [] = {
        "create", "read", "send", "receive", "accept", "export", "update", "delete"
    };
    static const char *outcomes [] = { "ok", "refused", "error" };
    for (int i = 0; i < 8; i++) {
        entry = good;
        entry.action = actions [i];
        entry.outcome = outcomes [i % 3];
        assert_int_equal (en_audit_append (self->db, &entry), 0);
    }
    s_verify_ok (self->db, 8);
    //  With the chain row gone, appends refuse and verify says why
    s_tamper (self->db, "DELETE FROM audit_chain");
    assert_int_equal (en_audit_append (self->db, &good), -1);
    s_verify_fails (self->db, 0, "bad anchor", "chain row is missing");
    assert_int_equal (en_audit_prune (self->db, en_now_ms ()), -1);
}

//  Appends are part of the caller's transaction: undone with it, and a
//  failed append does not undo the caller's own work.
static void
test_transactions (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_append_many (self->db, 1, 3);
    assert_int_equal (en_db_begin (self->db), 0);
    assert_int_equal (en_db_exec (self->db, "INSERT INTO work VALUES ('undone')", NULL), 0);
    s_append (self->db, 4, "twente-0001");
    s_append (self->db, 5, "twente-0001");
    assert_int_equal (en_db_rollback (self->db), 0);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM audit", NULL), 3);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM work", NULL), 0);
    s_verify_ok (self->db, 3);       //  the head went back with the rollback

    assert_int_equal (en_db_begin (self->db), 0);
    assert_int_equal (en_db_exec (self->db, "INSERT INTO work VALUES ('kept')", NULL), 0);
    s_append (self->db, 4, "twente-0001");
    assert_int_equal (en_db_commit (self->db), 0);
    s_verify_ok (self->db, 4);

    //  Verify works inside a caller's transaction and leaves it open
    assert_int_equal (en_db_begin (self->db), 0);
    s_append (self->db, 5, NULL);
    s_verify_ok (self->db, 5);
    assert_false (sqlite3_get_autocommit (en_db_handle (self->db)));
    assert_int_equal (en_db_commit (self->db), 0);

    //  A row squatting on the next seq makes the append fail; the
    //  caller's transaction goes on and commits its own work
    s_tamper (self->db,
        "INSERT INTO audit SELECT 6, at, event, case_id, actor, on_behalf, action, outcome,"
        " detail, hash FROM audit WHERE seq = 5");
    assert_int_equal (en_db_begin (self->db), 0);
    assert_int_equal (en_db_exec (self->db, "INSERT INTO work VALUES ('also kept')", NULL), 0);
    en_audit_entry_t entry = {
        .event = "request.read", .actor = "twente", .action = "read", .outcome = "ok"
    };
    assert_int_equal (en_audit_append (self->db, &entry), -1);
    assert_int_equal (en_db_commit (self->db), 0);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM work", NULL), 2);
    assert_int_equal (en_db_int (self->db, "SELECT head_seq FROM audit_chain", NULL), 5);
    s_verify_fails (self->db, 6, "entry 6 edited", NULL);
}

//  Inside a transaction the head is kept in memory after the first
//  append. It must never be stale: not after a savepoint is rolled back,
//  not after the transaction rolls back, not after another connection
//  appended between two of our transactions; and an append whose INSERT
//  ran but whose head UPDATE failed must keep the transaction from
//  committing an entry past the head.
static void
test_head_in_memory (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    //  Many appends in one transaction, a savepoint rolled back between
    assert_int_equal (en_db_begin (self->db), 0);
    s_append_many (self->db, 1, 3);
    assert_int_equal (en_db_savepoint (self->db), 0);
    s_append (self->db, 4, "twente-0001");
    assert_int_equal (en_db_rollback_to (self->db), 0);
    s_append (self->db, 5, "twente-0002");
    assert_int_equal (en_db_savepoint (self->db), 0);
    s_append (self->db, 6, "twente-0001");
    assert_int_equal (en_db_release (self->db), 0);
    assert_int_equal (en_db_commit (self->db), 0);
    s_verify_ok (self->db, 5);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM audit WHERE detail = 'n=4'", NULL), 0);

    //  A transaction rolled back after its appends
    assert_int_equal (en_db_begin (self->db), 0);
    s_append (self->db, 7, NULL);
    assert_int_equal (en_db_rollback (self->db), 0);
    assert_int_equal (en_db_begin (self->db), 0);
    s_append (self->db, 8, NULL);
    assert_int_equal (en_db_commit (self->db), 0);
    s_verify_ok (self->db, 6);

    //  Another connection (another process, say) appends in between
    en_error_t error = { 0 };
    en_db_t *other = en_db_new (self->path, s_migrations, &error);
    assert_non_null (other);
    s_append (other, 9, NULL);
    assert_int_equal (en_db_begin (other), 0);
    s_append (other, 10, NULL);
    assert_int_equal (en_db_commit (other), 0);
    assert_int_equal (en_db_begin (self->db), 0);
    s_append (self->db, 11, NULL);
    s_append (self->db, 12, NULL);
    assert_int_equal (en_db_commit (self->db), 0);
    s_append (other, 13, NULL);
    en_db_destroy (&other);
    s_verify_ok (self->db, 11);

    //  The INSERT runs, the head's UPDATE fails: the transaction cannot
    //  commit (its own work goes too), unless the savepoint around the
    //  append is rolled back first
    en_audit_entry_t entry = {
        .event = "request.read", .actor = "twente", .action = "read", .outcome = "ok"
    };
    assert_int_equal (en_db_begin (self->db), 0);
    assert_int_equal (en_db_exec (self->db, "INSERT INTO work VALUES ('spoiled')", NULL), 0);
    en_db_fault_countdown (self->db, 2);
    assert_int_equal (en_audit_append (self->db, &entry), -1);
    assert_true (en_db_fault_fired (self->db));
    assert_int_equal (en_db_commit (self->db), -1);
    assert_true (sqlite3_get_autocommit (en_db_handle (self->db)));
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM work", NULL), 0);
    s_verify_ok (self->db, 11);

    assert_int_equal (en_db_begin (self->db), 0);
    assert_int_equal (en_db_exec (self->db, "INSERT INTO work VALUES ('kept')", NULL), 0);
    assert_int_equal (en_db_savepoint (self->db), 0);
    en_db_fault_countdown (self->db, 2);
    assert_int_equal (en_audit_append (self->db, &entry), -1);
    assert_int_equal (en_db_rollback_to (self->db), 0);
    s_append (self->db, 14, NULL);
    assert_int_equal (en_db_commit (self->db), 0);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM work", NULL), 1);
    s_verify_ok (self->db, 12);
}

//  The guard triggers stop our own code from changing the log by mistake.
static void
test_guards (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_append_many (self->db, 1, 5);
    sqlite3 *handle = en_db_handle (self->db);
    static const char *refused [] = {
        "UPDATE audit SET detail = 'x' WHERE seq = 2",
        "DELETE FROM audit WHERE seq = 5",
        "DELETE FROM audit",
        "INSERT INTO audit SELECT 9, at, event, case_id, actor, on_behalf, action, outcome, detail,"
        " hash FROM audit WHERE seq = 5",
        "INSERT INTO audit SELECT 3, at, event, case_id, actor, on_behalf, action, outcome, detail,"
        " hash FROM audit WHERE seq = 5",
        "UPDATE audit_chain SET head_seq = 4",
        "UPDATE audit_chain SET anchor_seq = 6",
        "DELETE FROM audit_chain",
        "INSERT INTO audit_chain VALUES (2, 0, '', 0, 0, '')",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused [0]; i++) {
        char *message = NULL;
        if (sqlite3_exec (handle, refused [i], NULL, NULL, &message) == SQLITE_OK)
            fail_msg ("guard let through: %s", refused [i]);
        sqlite3_free (message);
    }
    s_verify_ok (self->db, 5);
    //  Pruning is allowed to delete what it anchors past
    assert_int_equal (en_audit_prune (self->db, en_now_ms () + 1000), 5);
    s_verify_ok (self->db, 0);
}

//  A head recorded elsewhere catches a consistent rewrite of the log,
//  which verify alone cannot.
static void
test_recorded_head (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_append_many (self->db, 1, 6);
    json_t *chain = en_audit_chain (self->db);
    int64_t head_seq = json_integer_value (json_object_get (chain, "head_seq"));
    char *head_hash = strdup (s_field (chain, "head_hash"));
    json_decref (chain);
    assert_int_equal (head_seq, 6);
    en_error_t error = { 0 };
    assert_int_equal (en_audit_check_head (self->db, head_seq, head_hash, &error), 0);
    //  Hex case does not matter to an operator pasting it back
    char upper [65];
    for (int i = 0; i < 65; i++)
        upper [i] = (char) toupper ((unsigned char) head_hash [i]);
    assert_int_equal (en_audit_check_head (self->db, head_seq, upper, &error), 0);
    s_append_many (self->db, 7, 8);
    assert_int_equal (en_audit_check_head (self->db, head_seq, head_hash, &error), 0);
    assert_int_equal (en_audit_check_head (self->db, 0,
        "0000000000000000000000000000000000000000000000000000000000000000", &error), 0);
    assert_int_equal (en_audit_check_head (self->db, head_seq, upper + 1, &error), -1);
    assert_int_equal (en_audit_check_head (self->db, 99, head_hash, &error), -1);
    assert_non_null (strstr (error.reason, "missing"));

    //  Rewrite entry 4 and re-chain everything after it, head included:
    //  the chain verifies, the recorded head does not
    s_tamper (self->db, "UPDATE audit SET actor = 'someone-else' WHERE seq = 4");
    unsigned char prev [32];
    char *hash3 = s_hash_of (self->db, 3);
    assert_int_equal (sodium_hex2bin (prev, 32, hash3, 64, NULL, NULL, NULL), 0);
    char hex [65];
    for (int64_t seq = 4; seq <= 8; seq++) {
        s_forge_hash (self->db, seq, prev, hex);
        s_tamperf (self->db, "UPDATE audit SET hash = %Q WHERE seq = %lld", hex, (long long) seq);
        assert_int_equal (sodium_hex2bin (prev, 32, hex, 64, NULL, NULL, NULL), 0);
    }
    s_tamperf (self->db, "UPDATE audit_chain SET head_hash = %Q", hex);
    s_verify_ok (self->db, 8);
    assert_int_equal (en_audit_check_head (self->db, head_seq, head_hash, &error), -1);
    assert_non_null (strstr (error.reason, "rewritten"));
    free (hash3);
    free (head_hash);
}

//  The NEN 7513 line of an entry: time, actor, the Dutch meaning of the
//  event, a one-word detail as its reference, on whose behalf, and a
//  refusal said as such; an unknown event still gives a line. A login
//  is an action the log accepts.
static void
test_line_nl (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    json_t *entry = test_json ("{\"at\": 0, \"event\": \"dossier.read\", \"actor\": \"anna\","
                               " \"on_behalf\": \"se-tw-01\", \"action\": \"read\", \"outcome\": \"refused\","
                               " \"detail\": \"twente-1a2b3c4d-o1\"}");
    json_object_set_new (entry, "at", json_integer (1767225600000LL));
    char when [32], expected [256];
    en_time_fmt (1767225600000LL, "%d-%m-%Y %H:%M:%S", when, sizeof when);
    snprintf (expected, sizeof expected, "%s  anna heeft het versleutelde dossier opgevraagd om het te openen "
              "(kenmerk twente-1a2b3c4d-o1), namens se-tw-01 - geweigerd", when);
    char *line = en_audit_line_nl (entry);
    assert_string_equal (line, expected);
    zstr_free (&line);

    json_object_set_new (entry, "event", json_string ("case.create"));
    json_object_set_new (entry, "outcome", json_string ("ok"));
    json_object_set_new (entry, "detail", json_string ("a note with spaces"));
    json_object_del (entry, "on_behalf");
    snprintf (expected, sizeof expected, "%s  anna heeft de cliënt ingeschreven in het casusregister", when);
    line = en_audit_line_nl (entry);
    assert_string_equal (line, expected);
    zstr_free (&line);

    json_object_set_new (entry, "event", json_string ("iets.nieuws"));
    line = en_audit_line_nl (entry);
    assert_non_null (strstr (line, "heeft een handeling verricht (iets.nieuws, read)"));
    zstr_free (&line);
    json_decref (entry);

    en_audit_entry_t login = { .event = "user.login", .actor = "anna", .action = "login", .outcome = "ok" };
    assert_int_equal (en_audit_append (self->db, &login), 0);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logident ("test_audit");
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_append_and_verify, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_hash_format, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_edit_detected, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_field_encoding, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_delete_detected, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_delete_tail_detected, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_head_checked, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_anchors_checked, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_reorder_detected, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_prune, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_prune_all, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_prune_refuses_tampered, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_case_entries, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_append_refuses, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_transactions, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_head_in_memory, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_guards, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_recorded_head, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_line_nl, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
