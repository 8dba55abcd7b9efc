/*  test_db - what en_db does about failures (include/en_db.h): a full
    store is one condition (en_db_full, logged once), and en_db_log holds
    a line until its transaction commits, dropping it with a rolled-back
    savepoint or transaction. A full store is made with SQLite's
    max_page_count. en_db_epoch and en_db_spoil, on which the access
    log's head in memory relies. A cached statement runs again without
    being prepared again, whatever is bound. A savepoint's sub-journal
    stays in memory.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>
#include <dirent.h>
#include <limits.h>

#include "expertnet.h"
#include "test_fixture.h"

static const char *s_migrations [] = {
    "CREATE TABLE t (v BLOB);",
    NULL
};

typedef struct {
    char dir [64];
    char path [128];
    char log [128];
    FILE *logfile;
    en_db_t *db;
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *self = (s_fixture_t *) calloc (1, sizeof (s_fixture_t));
    assert_non_null (test_mkdtemp (self->dir, sizeof self->dir, "test_db"));
    snprintf (self->path, sizeof self->path, "%s/t.db", self->dir);
    snprintf (self->log, sizeof self->log, "%s/log", self->dir);
    en_error_t error = { 0 };
    self->db = en_db_new (self->path, s_migrations, &error);
    assert_non_null (self->db);
    self->logfile = fopen (self->log, "w+");
    zsys_set_logstream (self->logfile);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *self = (s_fixture_t *) *state;
    zsys_set_logstream (stderr);
    fclose (self->logfile);
    en_db_destroy (&self->db);
    char cmd [160];
    snprintf (cmd, sizeof cmd, "rm -rf %s", self->dir);
    assert_int_equal (system (cmd), 0);
    free (self);
    return 0;
}

//  How many log lines contain text
static int
s_count (s_fixture_t *self, const char *text)
{
    fflush (self->logfile);
    FILE *in = fopen (self->log, "r");
    char line [1024];
    int count = 0;
    while (fgets (line, sizeof line, in))
        count += strstr (line, text) != NULL;
    fclose (in);
    return count;
}

static void
test_log_after_commit (void **state)
{
    s_fixture_t *self = (s_fixture_t *) *state;
    assert_int_equal (en_db_begin (self->db), 0);
    en_db_savepoint (self->db);
    en_db_log (self->db, "line %s", "rolled-back");
    en_db_rollback_to (self->db);
    en_db_savepoint (self->db);
    en_db_log (self->db, "line %s", "released");
    en_db_release (self->db);
    assert_int_equal (s_count (self, "line released"), 0);     //  not before COMMIT
    assert_int_equal (en_db_commit (self->db), 0);
    assert_int_equal (s_count (self, "line released"), 1);
    assert_int_equal (s_count (self, "line rolled-back"), 0);
    //  A rolled-back transaction logs nothing
    assert_int_equal (en_db_begin (self->db), 0);
    en_db_log (self->db, "line %s", "of-a-rollback");
    en_db_rollback (self->db);
    assert_int_equal (en_db_begin (self->db), 0);
    assert_int_equal (en_db_commit (self->db), 0);
    assert_int_equal (s_count (self, "of-a-rollback"), 0);
    //  Outside a transaction: at once
    en_db_log (self->db, "line %s", "at-once");
    assert_int_equal (s_count (self, "line at-once"), 1);
}

//  en_db_epoch moves whenever a transaction ends (however) or a savepoint
//  is rolled back, and only then; en_db_spoil keeps a transaction from
//  committing until the savepoint around the spoiled write is undone.
static void
test_epoch_and_spoil (void **state)
{
    s_fixture_t *self = (s_fixture_t *) *state;
    en_db_t *db = self->db;
    uint64_t epoch = en_db_epoch (db);
    assert_int_equal (en_db_exec (db, "INSERT INTO t VALUES ('autocommit')", NULL), 0);
    assert_true (en_db_epoch (db) != epoch);
    epoch = en_db_epoch (db);
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_db_exec (db, "INSERT INTO t VALUES ('a')", NULL), 0);
    assert_int_equal (en_db_savepoint (db), 0);
    assert_int_equal (en_db_exec (db, "INSERT INTO t VALUES ('b')", NULL), 0);
    assert_int_equal (en_db_release (db), 0);
    assert_true (en_db_epoch (db) == epoch);       //  nothing ended or undone
    assert_int_equal (en_db_savepoint (db), 0);
    assert_int_equal (en_db_rollback_to (db), 0);
    assert_true (en_db_epoch (db) != epoch);
    epoch = en_db_epoch (db);
    assert_int_equal (en_db_commit (db), 0);
    assert_true (en_db_epoch (db) != epoch);
    epoch = en_db_epoch (db);
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_db_rollback (db), 0);
    assert_true (en_db_epoch (db) != epoch);

    //  Spoiled inside a savepoint that is then released: the whole
    //  transaction cannot commit
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_db_exec (db, "INSERT INTO t VALUES ('spoiled')", NULL), 0);
    assert_int_equal (en_db_savepoint (db), 0);
    en_db_spoil (db);
    assert_int_equal (en_db_release (db), 0);
    assert_int_equal (en_db_commit (db), -1);
    assert_true (sqlite3_get_autocommit (en_db_handle (db)));
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM t WHERE v = 'spoiled'", NULL), 0);
    //  Spoiled inside a savepoint rolled back: the rest commits
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_db_exec (db, "INSERT INTO t VALUES ('kept')", NULL), 0);
    assert_int_equal (en_db_savepoint (db), 0);
    en_db_spoil (db);
    assert_int_equal (en_db_rollback_to (db), 0);
    assert_int_equal (en_db_commit (db), 0);
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM t WHERE v = 'kept'", NULL), 1);
    //  Outside a transaction spoiling has no effect; a new one starts clean
    en_db_spoil (db);
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_db_commit (db), 0);
}

static void
test_full_once (void **state)
{
    s_fixture_t *self = (s_fixture_t *) *state;
    sqlite3 *handle = en_db_handle (self->db);
    assert_int_equal (sqlite3_exec (handle, "PRAGMA max_page_count = 8", NULL, NULL, NULL), SQLITE_OK);
    assert_false (en_db_full (self->db));
    int failures = 0;
    for (int i = 0; i < 20; i++) {
        assert_int_equal (en_db_begin (self->db), 0);
        if (en_db_exec (self->db, "INSERT INTO t (v) VALUES (zeroblob (4000))", NULL) || en_db_commit (self->db)) {
            failures++;
            en_db_rollback (self->db);
        }
    }
    assert_true (failures > 10);
    assert_true (en_db_full (self->db));
    assert_int_equal (s_count (self, "disk full"), 1);          //  one condition, one line
    assert_int_equal (sqlite3_exec (handle, "PRAGMA max_page_count = 100000", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal (en_db_begin (self->db), 0);
    assert_int_equal (en_db_exec (self->db, "INSERT INTO t (v) VALUES (zeroblob (4000))", NULL), 0);
    assert_int_equal (en_db_commit (self->db), 0);
    assert_false (en_db_full (self->db));
    assert_int_equal (s_count (self, "writes succeed again"), 1);
}

//  A parameter compared with a partial index's constant used to expire
//  the cached statement at every binding: parsed and planned per run.
static void
test_no_reprepare (void **state)
{
    s_fixture_t *self = (s_fixture_t *) *state;
    sqlite3 *handle = en_db_handle (self->db);
    assert_int_equal (sqlite3_exec (handle, "CREATE TABLE k (role TEXT, n INTEGER);"
        "CREATE INDEX k_role ON k (role, n); CREATE INDEX k_special ON k (n) WHERE role = 'special';"
        "INSERT INTO k VALUES ('special', 1), ('plain', 2);", NULL, NULL, NULL), SQLITE_OK);
    const char *sql = "SELECT n FROM k WHERE role = ?1 ORDER BY n LIMIT 1";
    const char *roles [] = { "special", "plain", "special", "plain" };
    int64_t expected [] = { 1, 2, 1, 2 };
    for (int i = 0; i < 4; i++)
        assert_int_equal (en_db_int (self->db, sql, "s", roles [i]), expected [i]);
    sqlite3_stmt *stmt = en_db_query (self->db, sql, "s", "plain");
    assert_non_null (stmt);
    assert_int_equal (sqlite3_step (stmt), SQLITE_ROW);
    sqlite3_reset (stmt);
    assert_int_equal (sqlite3_stmt_status (stmt, SQLITE_STMTSTATUS_REPREPARE, 0), 0);
}

//  Whether this process has one of SQLite's temporary files open
//  (deleted files named etilqs_*, in /var/tmp or $SQLITE_TMPDIR)
static bool
s_temp_file_open (void)
{
    DIR *dir = opendir ("/proc/self/fd");
    assert_non_null (dir);
    bool found = false;
    struct dirent *entry;
    while ((entry = readdir (dir)) && !found) {
        char link [PATH_MAX], target [PATH_MAX];
        snprintf (link, sizeof link, "/proc/self/fd/%s", entry->d_name);
        ssize_t size = readlink (link, target, sizeof target - 1);
        if (size > 0) {
            target [size] = 0;
            found = strstr (target, "etilqs_") != NULL;
        }
    }
    closedir (dir);
    return found;
}

static void
test_savepoint_in_memory (void **state)
{
    //  A savepoint that changes 1 MiB (a message of a group commit changes
    //  far less) keeps its sub-journal in memory: no temporary file per
    //  batch. Rolling it back still undoes exactly its changes.
    s_fixture_t *self = (s_fixture_t *) *state;
    char value [1024];
    memset (value, 'v', sizeof value - 1);
    value [sizeof value - 1] = 0;
    assert_int_equal (en_db_begin (self->db), 0);
    for (int i = 0; i < 1024; i++)
        assert_int_equal (en_db_exec (self->db, "INSERT INTO t (v) VALUES (?)", "s", value), 0);
    assert_int_equal (en_db_commit (self->db), 0);
    assert_int_equal (en_db_begin (self->db), 0);
    assert_int_equal (en_db_savepoint (self->db), 0);
    assert_int_equal (en_db_exec (self->db, "UPDATE t SET v = 'changed'", ""), 0);
    assert_int_equal (en_db_exec (self->db, "INSERT INTO t (v) VALUES ('new')", ""), 0);
    assert_false (s_temp_file_open ());
    assert_int_equal (en_db_rollback_to (self->db), 0);
    assert_int_equal (en_db_commit (self->db), 0);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM t", ""), 1024);
    assert_int_equal (en_db_int (self->db, "SELECT count(*) FROM t WHERE v = ?", "s", value), 1024);
}

int
main (void)
{
    zsys_init ();
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_log_after_commit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_full_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_epoch_and_spoil, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_no_reprepare, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_savepoint_in_memory, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
