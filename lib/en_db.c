/*  en_db - SQLite with the durability settings expertnet relies on.

    WAL with synchronous=FULL: a COMMIT returns only after the WAL is
    fsync'd, so anything we ack after a commit survives kill -9 and power
    loss. Throughput comes from group commit in the callers (many messages
    per transaction), not from weakening these settings. A savepoint's
    sub-journal (what undoes one message of a group commit) is kept in
    memory up to 4 MiB instead of a temporary file: it plays no part in
    durability.

    Statements are cached by their SQL text, so store modules can write
    queries inline where they are used and still pay preparation once.

    A damaged store is refused, not used. Opening runs PRAGMA quick_check
    (structure of every b-tree page, O(size), no index cross-check), so
    garbage inside the file stops the daemon at start with the file named
    instead of surfacing later as a lost row. A lost store is refused too:
    each store has an identity (a random id made with the store, table
    store_identity) that the daemon also writes to a marker file next to
    it (en_db_store_check, en_db_store_mark). A marker without its
    database, or with an empty one or another store's, means the store
    was lost or replaced; starting anyway takes an explicit --new-store.

    A full disk. SQLITE_FULL is one condition, not one error per
    statement: the first is logged, the rest are not until a COMMIT
    succeeds again (logged once too), and en_db_full tells callers so
    they can back off and say "disk full" instead of a vague failure.

    Log after commit. en_db_log holds a line until the transaction that
    made the change commits: a rolled-back savepoint drops the lines
    written since it, a rolled-back transaction all of them. So the log
    never reports a transition the store does not hold.

    Fault injection (en_db_fault_countdown) fails the n-th write statement
    with SQLITE_IOERR, the way SQLite's test suite fails the n-th I/O: a
    test walks every n until an operation completes, and checks after each
    failure that nothing half-written stayed. It is compiled in always,
    not behind a build flag, so that the code under test is the code that
    ships; its cost is one integer test per statement, nothing next to a
    sqlite3_step. Only a caller (a test, or a test build's control verb)
    arms it. The failed statement does not run and the transaction stays
    open, as after a statement-level I/O error: callers must roll back.

    A BEGIN that failed would leave the caller's writes to run one by one
    in autocommit, each committed on its own: half of a transition could
    stay. So after a failed en_db_begin a write that would run in
    autocommit fails, until the caller ends the transaction (en_db_commit,
    which then fails too, or en_db_rollback) or begins again; callers need
    not check BEGIN to be safe, only their writes or their COMMIT. Reads,
    and writes inside a transaction someone else opened (the access log
    opens its own), are not affected.
*/
#include "expertnet.h"
#include <stdarg.h>
#include <sys/stat.h>

//  Statement counting, for the benchmarks only (docs/benchmarks.md,
//  "Statements per request"): with this environment variable naming a
//  file, every statement SQLite runs on a connection opened by en_db_new
//  (those of triggers included, as "-- TRIGGER name") is counted by its
//  text, and the counts are appended to the file when the connection is
//  closed, one "COUNT<TAB>SQL" line each. Unset, nothing is installed.
#define S_COUNT_ENV  "EXPERTNET_SQL_COUNT"

//  Bytes of a savepoint's sub-journal kept in memory before SQLite moves
//  it to a temporary file (s_open_checked says why)
#define S_SUBJOURNAL_MEMORY  (4 * 1024 * 1024)

typedef struct {
    int depth;                  //  savepoint depth when written
    char *text;                 //  the line
} s_line_t;

struct _en_db_t {
    sqlite3 *handle;            //  the connection
    bool full;                  //  a write failed with SQLITE_FULL, no commit since
    int depth;                  //  open savepoints in the current transaction
    zlistx_t *pending;          //  s_line_t waiting for COMMIT
    zhashx_t *statements;       //  SQL text -> sqlite3_stmt *, cached
    int fault_countdown;        //  > 0: the fault_countdown-th write fails
    bool fault_fired;           //  the armed fault has failed a statement
    bool begin_failed;          //  BEGIN failed: writes refused until the
                                //  caller ends the transaction
    uint64_t undone;            //  rollbacks and failed commits so far
    uint64_t epoch;             //  transactions ended and savepoints undone
    int spoiled;                //  0, or 1 + the savepoint depth of a write
                                //  that half happened (en_db_spoil)
    void *scratch;              //  en_db_scratch's bytes, or NULL
    zhashx_t *counts;           //  SQL text -> runs (S_COUNT_ENV only), or NULL
};

static void
s_finalize (void **item)
{
    sqlite3_finalize ((sqlite3_stmt *) *item);
    *item = NULL;
}

static int
s_exec_script (sqlite3 *handle, const char *sql, char *problem, size_t size)
{
    char *message = NULL;
    if (sqlite3_exec (handle, sql, NULL, NULL, &message) != SQLITE_OK) {
        snprintf (problem, size, "%s", message ? message : "unknown SQLite error");
        sqlite3_free (message);
        return -1;
    }
    return 0;
}

//  Open the database at path with the settings every store needs, and
//  refuse one that is damaged. The handle, or NULL with error.
static sqlite3 *
s_open_checked (const char *path, en_error_t *error)
{
    //  SQLite's count of the memory it holds takes a global mutex at
    //  every allocation it makes, and nothing here reads it. Only the
    //  first call in a process (before SQLite is initialized) counts;
    //  the later ones are refused, harmlessly.
    sqlite3_config (SQLITE_CONFIG_MEMSTATUS, 0);
    //  A savepoint keeps the pages it changes in a sub-journal, in memory
    //  up to SQLite's default of 64 KiB and then in a temporary file. A
    //  message in a group commit (its own savepoint) changes more than
    //  that, so every batch created, wrote and deleted a file in
    //  /var/tmp (the kernel's writes were 9% of the broker's CPU in
    //  bench_durable). The sub-journal only undoes a savepoint within a
    //  transaction; the WAL alone makes a commit durable, so keeping it
    //  in memory changes nothing on disk. Bounded, so that one huge
    //  savepoint (a migration, a purge) still spills to a file.
    sqlite3_config (SQLITE_CONFIG_STMTJRNL_SPILL, S_SUBJOURNAL_MEMORY);
    sqlite3 *handle = NULL;
    if (sqlite3_open_v2 (path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                         | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        en_error_set (error, EN_ERR_INTERNAL, "cannot open database %s: %s", path,
                      handle ? sqlite3_errmsg (handle) : "out of memory");
        sqlite3_close (handle);
        return NULL;
    }
    sqlite3_busy_timeout (handle, 5000);
    char problem [256] = "";
    if (s_exec_script (handle,
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=FULL;"
            "PRAGMA cache_size=-16384;"
            "PRAGMA foreign_keys=ON;", problem, sizeof problem)) {
        en_error_set (error, EN_ERR_INTERNAL, "database %s is damaged or not a database (%s); "
                      "restore it from a backup or move it away", path, problem);
        sqlite3_close (handle);
        return NULL;
    }
    //  Damage inside the file: quick_check names the first problem
    sqlite3_stmt *check = NULL;
    if (sqlite3_prepare_v2 (handle, "PRAGMA quick_check(1)", -1, &check, NULL) != SQLITE_OK)
        snprintf (problem, sizeof problem, "%s", sqlite3_errmsg (handle));
    else {
        int rc = sqlite3_step (check);
        if (rc == SQLITE_ROW) {
            const char *verdict = (const char *) sqlite3_column_text (check, 0);
            if (!verdict || !streq (verdict, "ok"))
                snprintf (problem, sizeof problem, "quick_check: %s", verdict ? verdict : "no answer");
        }
        else
            snprintf (problem, sizeof problem, "quick_check: %s", sqlite3_errmsg (handle));
    }
    sqlite3_finalize (check);
    if (*problem) {
        en_error_set (error, EN_ERR_INTERNAL, "database %s is damaged (%s); restore it from a backup "
                      "or move it away", path, problem);
        sqlite3_close (handle);
        return NULL;
    }
    return handle;
}

//  Migrations: user_version counts how many have run; run the rest, each
//  in a transaction of its own. 0, or -1 with error.
static int
s_migrate (sqlite3 *handle, const char *path, const char **migrations, en_error_t *error)
{
    sqlite3_stmt *stmt;
    sqlite3_prepare_v2 (handle, "PRAGMA user_version", -1, &stmt, NULL);
    int version = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int (stmt, 0) : 0;
    sqlite3_finalize (stmt);
    int count = 0;
    while (migrations [count])
        count++;
    if (version > count)
        return en_error_set (error, EN_ERR_VERSION, "database %s has schema version %d, newer than "
                             "this program (%d)", path, version, count);
    for (int i = version; i < count; i++) {
        char bump [64];
        char problem [256];
        snprintf (bump, sizeof bump, "PRAGMA user_version=%d;", i + 1);
        if (s_exec_script (handle, "BEGIN IMMEDIATE;", problem, sizeof problem)
        ||  s_exec_script (handle, migrations [i], problem, sizeof problem)
        ||  s_exec_script (handle, bump, problem, sizeof problem)
        ||  s_exec_script (handle, "COMMIT;", problem, sizeof problem)) {
            sqlite3_exec (handle, "ROLLBACK", NULL, NULL, NULL);
            return en_error_set (error, EN_ERR_INTERNAL, "migration %d of %s failed: %s",
                                 i + 1, path, problem);
        }
    }
    return 0;
}

//  SQLite's hooks: a transaction ended, however (explicit, autocommit,
//  or rolled back by SQLite after an error)
static int
s_on_commit (void *arg)
{
    ((en_db_t *) arg)->epoch++;
    return 0;                           //  let it commit
}

static void
s_on_rollback (void *arg)
{
    ((en_db_t *) arg)->epoch++;
}

//  An open connection as an en_db_t, with an empty statement cache
static en_db_t *
s_wrap (sqlite3 *handle)
{
    en_db_t *self = (en_db_t *) zmalloc (sizeof (en_db_t));
    assert (self);
    self->handle = handle;
    self->statements = zhashx_new ();
    zhashx_set_destructor (self->statements, s_finalize);
    //  Plans never depend on a bound value. Without this, a parameter
    //  compared with a constant of a partial index's WHERE (e.role = ?1
    //  against experts_escalation's role = 'procesregisseur') marks the
    //  statement so that every new binding expires it: the cached
    //  statement was parsed and planned again on each run (9% of the
    //  broker's CPU in bench_durable, all of it the candidate query).
    sqlite3_db_config (handle, SQLITE_DBCONFIG_ENABLE_QPSG, 1, NULL);
    sqlite3_commit_hook (handle, s_on_commit, self);
    sqlite3_rollback_hook (handle, s_on_rollback, self);
    return self;
}

//  sqlite3_trace_v2 callback: one more run of the statement's text
static int
s_count (unsigned type, void *arg, void *stmt, void *text)
{
    en_db_t *self = (en_db_t *) arg;
    const char *sql = (const char *) text;
    if (type != SQLITE_TRACE_STMT || !sql)
        return 0;
    uintptr_t runs = (uintptr_t) zhashx_lookup (self->counts, sql);
    if (runs)
        zhashx_update (self->counts, sql, (void *) (runs + 1));
    else
        zhashx_insert (self->counts, sql, (void *) (uintptr_t) 1);
    return 0;
}

//  At close: the counts, appended to the file S_COUNT_ENV names
static void
s_counts_write (en_db_t *self)
{
    const char *path = getenv (S_COUNT_ENV);
    FILE *file = path ? fopen (path, "a") : NULL;
    for (void *runs = zhashx_first (self->counts); runs && file; runs = zhashx_next (self->counts)) {
        char *sql = strdup ((const char *) zhashx_cursor (self->counts));
        for (char *c = sql; *c; c++)
            if (*c == '\n' || *c == '\t')
                *c = ' ';
        fprintf (file, "%lu\t%s\n", (unsigned long) (uintptr_t) runs, sql);
        free (sql);
    }
    if (file)
        fclose (file);
}

en_db_t *
en_db_new (const char *path, const char **migrations, en_error_t *error)
{
    sqlite3 *handle = s_open_checked (path, error);
    if (!handle)
        return NULL;
    if (s_migrate (handle, path, migrations, error)) {
        sqlite3_close (handle);
        return NULL;
    }
    en_db_t *self = s_wrap (handle);
    if (getenv (S_COUNT_ENV)) {
        self->counts = zhashx_new ();
        sqlite3_trace_v2 (handle, SQLITE_TRACE_STMT, s_count, self);
    }
    return self;
}

en_db_t *
en_db_open_readonly (const char *path, en_error_t *error)
{
    //  No migrations, no check: the owner's connection did both
    sqlite3 *handle = NULL;
    if (sqlite3_open_v2 (path, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        en_error_set (error, EN_ERR_INTERNAL, "cannot open database %s to read: %s", path,
                      handle ? sqlite3_errmsg (handle) : "out of memory");
        sqlite3_close (handle);
        return NULL;
    }
    sqlite3_busy_timeout (handle, 5000);
    sqlite3_exec (handle, "PRAGMA cache_size=-16384;", NULL, NULL, NULL);
    return s_wrap (handle);
}

//  The marker's content: the store id, or "" when there is no marker.
static int
s_marker_read (const char *marker, char *id, size_t idlen)
{
    *id = 0;
    FILE *file = fopen (marker, "r");
    if (!file)
        return errno == ENOENT ? 0 : -1;
    if (fgets (id, (int) idlen, file))
        id [strcspn (id, "\r\n")] = 0;
    fclose (file);
    return 0;
}

int
en_db_store_check (const char *path, const char *marker, bool new_store, en_error_t *error)
{
    char known [80];
    if (s_marker_read (marker, known, sizeof known))
        return en_error_set (error, EN_ERR_INTERNAL, "cannot read %s: %s", marker, strerror (errno));
    if (!*known || new_store)
        return 0;
    struct stat info;
    bool missing = stat (path, &info) != 0;
    if (missing || info.st_size == 0)
        return en_error_set (error, EN_ERR_CONFLICT, "database %s is %s, but %s says store %s lived "
                  "here: the store was lost. Restore it from a backup, or start with --new-store to "
                  "begin an empty store (nodes then re-send their open requests)",
                  path, missing ? "missing" : "empty (0 bytes)", marker, known);
    return 0;
}

int
en_db_store_mark (en_db_t *self, const char *path, const char *marker, bool new_store,
                  en_error_t *error)
{
    char known [80];
    //  --new-store: whatever is here is new to the network (an empty
    //  store, or a restored backup that misses what came after it), so it
    //  gets a new identity: nodes then hand it what they hold
    if (new_store && en_db_exec (self, "UPDATE store_identity SET store_id = lower (hex (randomblob (16))), "
                                 "created = ? WHERE id = 1", "i", en_now_ms ()))
        return en_error_set (error, EN_ERR_INTERNAL, "cannot give database %s a new store identity: %s",
                             path, en_db_error (self));
    char *id = en_db_store_id (self);
    int rc = -1;
    if (!id)
        en_error_set (error, EN_ERR_INTERNAL, "database %s has no store identity", path);
    else
    if (s_marker_read (marker, known, sizeof known))
        en_error_set (error, EN_ERR_INTERNAL, "cannot read %s: %s", marker, strerror (errno));
    else
    if (*known && !streq (known, id) && !new_store)
        en_error_set (error, EN_ERR_CONFLICT, "database %s holds store %s, but %s says store %s lived here: the store "
                  "was replaced. Put the right one back, or start with --new-store to accept this one",
                  path, id, marker, known);
    else
    if (streq (known, id))
        rc = 0;
    else {
        //  Write the marker atomically: a torn marker would refuse a good store
        char temp [PATH_MAX];
        snprintf (temp, sizeof temp, "%s.new", marker);
        FILE *file = fopen (temp, "w");
        if (file && fprintf (file, "%s\n", id) > 0 && fflush (file) == 0 && fsync (fileno (file)) == 0
        &&  fclose (file) == 0) {
            file = NULL;
            if (rename (temp, marker) == 0)
                rc = 0;
        }
        if (file)
            fclose (file);
        if (rc)
            en_error_set (error, EN_ERR_INTERNAL, "cannot write %s: %s", marker, strerror (errno));
        else
        if (*known)
            zsys_warning ("store %s at %s replaces store %s (started with --new-store)", id, path, known);
    }
    free (id);
    return rc;
}

char *
en_db_store_id (en_db_t *self)
{
    return en_db_text (self, "SELECT store_id FROM store_identity WHERE id = 1", NULL);
}

void
en_db_destroy (en_db_t **self_p)
{
    assert (self_p);
    en_db_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->statements);
        zlistx_destroy (&self->pending);
        free (self->scratch);
        if (self->counts) {
            sqlite3_trace_v2 (self->handle, 0, NULL, NULL);
            s_counts_write (self);
            zhashx_destroy (&self->counts);
        }
        sqlite3_close (self->handle);
        free (self);
        *self_p = NULL;
    }
}

sqlite3 *
en_db_handle (en_db_t *self)
{
    return self->handle;
}

const char *
en_db_error (en_db_t *self)
{
    return sqlite3_errmsg (self->handle);
}

//  The statement for sql, prepared once, with fmt's values bound. Text
//  is copied (SQLITE_TRANSIENT) for a statement the caller steps later;
//  the helpers that step it before they return pass SQLITE_STATIC, which
//  spares a copy of every text value (the bindings are cleared before
//  the statement's next use).
static sqlite3_stmt *
s_prepare (en_db_t *self, const char *sql, const char *fmt, va_list args,
           sqlite3_destructor_type text_kept)
{
    sqlite3_stmt *stmt = (sqlite3_stmt *) zhashx_lookup (self->statements, sql);
    if (stmt) {
        sqlite3_reset (stmt);
        sqlite3_clear_bindings (stmt);
    }
    else {
        if (sqlite3_prepare_v3 (self->handle, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                &stmt, NULL) != SQLITE_OK) {
            zsys_error ("sqlite: cannot prepare: %s (%s)", sqlite3_errmsg (self->handle), sql);
            return NULL;
        }
        zhashx_insert (self->statements, sql, stmt);
    }
    for (int i = 0; fmt && fmt [i]; i++) {
        int rc;
        if (fmt [i] == 's') {
            const char *text = va_arg (args, const char *);
            rc = text ? sqlite3_bind_text (stmt, i + 1, text, -1, text_kept)
                      : sqlite3_bind_null (stmt, i + 1);
        }
        else
        if (fmt [i] == 'i')
            rc = sqlite3_bind_int64 (stmt, i + 1, va_arg (args, int64_t));
        else
        if (fmt [i] == 'd')
            rc = sqlite3_bind_double (stmt, i + 1, va_arg (args, double));
        else {
            zsys_error ("sqlite: bad bind format '%c'", fmt [i]);
            return NULL;
        }
        if (rc != SQLITE_OK) {
            zsys_error ("sqlite: cannot bind %d: %s", i + 1, sqlite3_errmsg (self->handle));
            return NULL;
        }
    }
    return stmt;
}

sqlite3_stmt *
en_db_query (en_db_t *self, const char *sql, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    sqlite3_stmt *stmt = s_prepare (self, sql, fmt, args, SQLITE_TRANSIENT);
    va_end (args);
    return stmt;
}

void
en_db_fault_countdown (en_db_t *self, int n)
{
    assert (n >= 0);
    self->fault_countdown = n;
    self->fault_fired = false;
}

bool
en_db_fault_fired (en_db_t *self)
{
    return self->fault_fired;
}

//  Step stmt to completion; 0 or -1 (logged). An armed fault fails it
//  before it runs, unless may_fail is false (rollbacks).
static int
s_step (en_db_t *self, sqlite3_stmt *stmt, const char *sql, bool may_fail)
{
    if (self->begin_failed && may_fail && !sqlite3_stmt_readonly (stmt)
    &&  sqlite3_get_autocommit (self->handle)) {
        zsys_error ("sqlite: not run, the transaction could not begin (%s)", sql);
        return -1;
    }
    if (self->fault_countdown > 0 && may_fail && --self->fault_countdown == 0) {
        self->fault_fired = true;
        zsys_error ("sqlite: disk I/O error (injected fault, SQLITE_IOERR) (%s)", sql);
        return -1;
    }
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        ;
    sqlite3_reset (stmt);
    if (rc != SQLITE_DONE) {
        if ((rc & 0xff) == SQLITE_FULL) {
            if (!self->full)
                zsys_error ("sqlite: disk full (%s): writes fail until space is freed", sql);
            self->full = true;
        }
        else
            zsys_error ("sqlite: %s (%s)", sqlite3_errmsg (self->handle), sql);
        return -1;
    }
    return 0;
}

int
en_db_exec (en_db_t *self, const char *sql, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    sqlite3_stmt *stmt = s_prepare (self, sql, fmt, args, SQLITE_STATIC);
    va_end (args);
    //  A rollback is how a caller recovers: never failed
    return stmt ? s_step (self, stmt, sql, strncmp (sql, "ROLLBACK", 8) != 0) : -1;
}

char *
en_db_text (en_db_t *self, const char *sql, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    sqlite3_stmt *stmt = s_prepare (self, sql, fmt, args, SQLITE_STATIC);
    va_end (args);
    char *text = NULL;
    if (stmt && sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
        text = strdup ((const char *) sqlite3_column_text (stmt, 0));
    if (stmt)
        sqlite3_reset (stmt);
    return text;
}

int64_t
en_db_int (en_db_t *self, const char *sql, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    sqlite3_stmt *stmt = s_prepare (self, sql, fmt, args, SQLITE_STATIC);
    va_end (args);
    int64_t value = 0;
    if (stmt && sqlite3_step (stmt) == SQLITE_ROW)
        value = sqlite3_column_int64 (stmt, 0);
    if (stmt)
        sqlite3_reset (stmt);
    return value;
}

static int
s_simple (en_db_t *self, const char *sql)
{
    return en_db_exec (self, sql, NULL);
}

static void
s_line_destroy (void **item)
{
    s_line_t *line = (s_line_t *) *item;
    free (line->text);
    free (line);
    *item = NULL;
}

//  Drop the held lines written at savepoint depth >= depth
static void
s_drop_lines (en_db_t *self, int depth)
{
    if (!self->pending)
        return;
    zlistx_t *kept = zlistx_new ();
    zlistx_set_destructor (kept, s_line_destroy);
    s_line_t *line;
    while ((line = (s_line_t *) zlistx_detach (self->pending, NULL))) {
        if (line->depth >= depth) {
            void *item = line;
            s_line_destroy (&item);
        }
        else
            zlistx_add_end (kept, line);
    }
    zlistx_destroy (&self->pending);
    self->pending = kept;
}

//  A rollback: never failed by an injected fault.
static int
s_rollback (en_db_t *self, const char *sql)
{
    sqlite3_stmt *stmt = en_db_query (self, sql, NULL);
    return stmt ? s_step (self, stmt, sql, false) : -1;
}

int
en_db_begin (en_db_t *self)
{
    self->depth = 0;
    s_drop_lines (self, 0);
    self->spoiled = 0;
    self->begin_failed = false;
    self->begin_failed = s_simple (self, "BEGIN IMMEDIATE") != 0;
    return self->begin_failed ? -1 : 0;
}

int
en_db_commit (en_db_t *self)
{
    if (self->begin_failed) {
        self->begin_failed = false;
        self->undone++;
        return -1;
    }
    if (self->spoiled) {
        zsys_error ("sqlite: not committed, a write in the transaction half happened");
        en_db_rollback (self);
        return -1;
    }
    if (s_simple (self, "COMMIT")) {
        self->undone++;
        if ((sqlite3_extended_errcode (self->handle) & 0xff) == SQLITE_FULL)
            self->full = true;
        return -1;
    }
    if (self->full)
        zsys_notice ("sqlite: writes succeed again (disk space freed)");
    self->full = false;
    for (s_line_t *line = self->pending ? (s_line_t *) zlistx_first (self->pending) : NULL; line;
         line = (s_line_t *) zlistx_next (self->pending))
        zsys_info ("%s", line->text);
    if (self->pending)
        zlistx_purge (self->pending);
    self->depth = 0;
    return 0;
}

int
en_db_savepoint (en_db_t *self)
{
    self->depth++;
    return s_simple (self, "SAVEPOINT msg");
}

int
en_db_release (en_db_t *self)
{
    //  What the savepoint wrote now stands or falls with the one around it
    self->depth = MAX (0, self->depth - 1);
    for (s_line_t *line = self->pending ? (s_line_t *) zlistx_first (self->pending) : NULL; line;
         line = (s_line_t *) zlistx_next (self->pending))
        line->depth = MIN (line->depth, self->depth);
    if (self->spoiled)
        self->spoiled = MIN (self->spoiled, self->depth + 1);
    return s_simple (self, "RELEASE msg");
}

int
en_db_rollback (en_db_t *self)
{
    if (!sqlite3_get_autocommit (self->handle))
        self->undone++;
    s_drop_lines (self, 0);
    self->depth = 0;
    self->spoiled = 0;
    self->begin_failed = false;
    return sqlite3_get_autocommit (self->handle) ? 0 : s_rollback (self, "ROLLBACK");
}

int
en_db_rollback_to (en_db_t *self)
{
    self->undone++;
    self->epoch++;
    s_drop_lines (self, self->depth);
    if (self->spoiled && self->spoiled - 1 >= self->depth)
        self->spoiled = 0;              //  the half-done write is undone
    self->depth = MAX (0, self->depth - 1);
    return s_rollback (self, "ROLLBACK TO msg") || s_rollback (self, "RELEASE msg") ? -1 : 0;
}

uint64_t
en_db_undone (en_db_t *self)
{
    return self->undone;
}

uint64_t
en_db_epoch (en_db_t *self)
{
    return self->epoch;
}

void
en_db_spoil (en_db_t *self)
{
    if (!sqlite3_get_autocommit (self->handle) && !self->spoiled)
        self->spoiled = self->depth + 1;
}

void *
en_db_scratch (en_db_t *self, size_t size)
{
    if (!self->scratch)
        self->scratch = zmalloc (size);
    return self->scratch;
}

bool
en_db_full (en_db_t *self)
{
    return self->full;
}

void
en_db_log (en_db_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *text = zsys_vprintf (format, args);
    va_end (args);
    if (sqlite3_get_autocommit (self->handle)) {
        zsys_info ("%s", text);                 //  no transaction: nothing to wait for
        free (text);
        return;
    }
    if (!self->pending) {
        self->pending = zlistx_new ();
        zlistx_set_destructor (self->pending, s_line_destroy);
    }
    s_line_t *line = (s_line_t *) zmalloc (sizeof (s_line_t));
    line->depth = self->depth;
    line->text = text;
    zlistx_add_end (self->pending, line);
}

//  Turn the current row of stmt into a JSON object.
static json_t *
s_row (sqlite3_stmt *stmt)
{
    json_t *row = json_object ();
    for (int i = 0; i < sqlite3_column_count (stmt); i++) {
        const char *name = sqlite3_column_name (stmt, i);
        size_t len = strlen (name);
        json_t *value;
        switch (sqlite3_column_type (stmt, i)) {
            case SQLITE_INTEGER:
                value = json_integer (sqlite3_column_int64 (stmt, i));
                break;
            case SQLITE_FLOAT:
                value = json_real (sqlite3_column_double (stmt, i));
                break;
            case SQLITE_NULL:
                value = json_null ();
                break;
            default:
                if (len > 5 && streq (name + len - 5, "_json")) {
                    value = json_loads ((const char *) sqlite3_column_text (stmt, i), 0, NULL);
                    char key [64];
                    snprintf (key, sizeof key, "%.*s", (int) (len - 5), name);
                    json_object_set_new (row, key, value ? value : json_null ());
                    continue;
                }
                value = json_string ((const char *) sqlite3_column_text (stmt, i));
        }
        json_object_set_new (row, name, value);
    }
    return row;
}

json_t *
en_db_rows (sqlite3_stmt *stmt)
{
    json_t *rows = json_array ();
    while (stmt && sqlite3_step (stmt) == SQLITE_ROW)
        json_array_append_new (rows, s_row (stmt));
    if (stmt)
        sqlite3_reset (stmt);
    return rows;
}

json_t *
en_db_one (sqlite3_stmt *stmt)
{
    json_t *row = NULL;
    if (stmt && sqlite3_step (stmt) == SQLITE_ROW)
        row = s_row (stmt);
    if (stmt)
        sqlite3_reset (stmt);
    return row;
}
