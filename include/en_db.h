/*  en_db - a SQLite database handle with the settings every expertnet
    store needs (WAL, synchronous=FULL, foreign keys, busy timeout),
    schema migrations by PRAGMA user_version, and a statement cache.
    The program's store module owns the SQL; en_db only runs it. */
#ifndef EN_DB_H_INCLUDED
#define EN_DB_H_INCLUDED

//  Open (creating) the database at path and bring its schema up to date
//  by running migrations [user_version .. count-1], each in a
//  transaction. migrations is NULL-terminated. Returns NULL on failure,
//  with error saying why.
en_db_t *en_db_new (const char *path, const char **migrations, en_error_t *error);
void en_db_destroy (en_db_t **self_p);

//  A second, read-only connection to the database at path, which another
//  connection (en_db_new) made and keeps up to date: for a thread that
//  only reads (WAL: it reads while the owner writes, neither waits).
//  Use it from one thread at a time. NULL with error when it cannot open.
en_db_t *en_db_open_readonly (const char *path, en_error_t *error);

//  A store's identity: a random id (32 hex) made when the store is made,
//  in one row. Add as one migration of the store. Nodes and peers learn
//  it (WELCOME), so a broker that lost its store is noticed.
#define EN_DB_IDENTITY_SCHEMA \
    "CREATE TABLE store_identity (" \
    "  id INTEGER PRIMARY KEY CHECK (id = 1)," \
    "  store_id TEXT NOT NULL," \
    "  created INTEGER NOT NULL);" \
    "INSERT INTO store_identity VALUES (1, lower (hex (randomblob (16)))," \
    "  CAST ((julianday ('now') - 2440587.5) * 86400000 AS INTEGER));"

//  The store's id (caller frees), or NULL when the store has none.
char *en_db_store_id (en_db_t *self);

//  Before opening the store at path: refuse (-1, error names both files)
//  when marker names a store but path is missing or empty (0 bytes): the
//  store was lost. new_store (--new-store) allows it. 0 = go ahead.
int en_db_store_check (const char *path, const char *marker, bool new_store,
                       en_error_t *error);

//  After opening: refuse (-1 with error) when marker names another store than the
//  one opened (replaced), unless new_store; else write the marker with
//  this store's id (atomically). With new_store the store first gets a
//  new identity (also a restored one: it misses what came after the
//  backup, and nodes hand that again to a new identity). 0 = ok.
int en_db_store_mark (en_db_t *self, const char *path, const char *marker, bool new_store,
                      en_error_t *error);

//  The raw handle, for sqlite3_* calls the store modules make.
sqlite3 *en_db_handle (en_db_t *self);

//  Prepare (cached) and bind a statement. fmt has one letter per
//  parameter: 's' const char * (NULL binds NULL), 'i' int64_t, 'd' double.
//  Returns the statement ready to step, or NULL (logged). The statement
//  stays valid until the same SQL is queried again.
sqlite3_stmt *en_db_query (en_db_t *self, const char *sql, const char *fmt, ...);

//  Prepare, bind and step to completion. Returns 0 or -1 (logged).
int en_db_exec (en_db_t *self, const char *sql, const char *fmt, ...);

//  The first column of the first row as a new string (caller frees), or
//  NULL when there is no row or the value is NULL.
char *en_db_text (en_db_t *self, const char *sql, const char *fmt, ...);

//  A single integer from the first row, or 0 when there is no row.
int64_t en_db_int (en_db_t *self, const char *sql, const char *fmt, ...);

//  Transactions. begin/commit/rollback return 0 or -1. Savepoints let one
//  message of a group-commit batch fail without undoing the others.
//  After a failed begin, a write that would run in autocommit (and the
//  commit) fails until the caller commits, rolls back or begins again:
//  nothing meant for a transaction is committed piecemeal.
int en_db_begin (en_db_t *self);
int en_db_commit (en_db_t *self);
int en_db_rollback (en_db_t *self);
int en_db_savepoint (en_db_t *self);
int en_db_release (en_db_t *self);
int en_db_rollback_to (en_db_t *self);

//  How often writes were undone on this connection (rollbacks, rollbacks
//  to a savepoint, failed commits): what caches rows in memory compares
//  to know when to read them again (en_outbox).
uint64_t en_db_undone (en_db_t *self);

//  A number that changes whenever a transaction on this connection ends
//  (committed or rolled back: by the caller, in autocommit, or by SQLite
//  after an error) or a savepoint is rolled back (en_db_rollback_to).
//  What a module remembered of its rows at one epoch holds at that epoch
//  only (en_audit keeps the chain head it wrote for the rest of the
//  transaction).
uint64_t en_db_epoch (en_db_t *self);

//  A write of the open transaction half happened (one statement of a pair
//  that belongs together ran, the other failed): the transaction must not
//  commit. en_db_commit then fails and rolls back, unless the caller
//  first rolls back a savepoint (en_db_rollback_to) opened before the
//  write. No effect outside a transaction.
void en_db_spoil (en_db_t *self);

//  size bytes of per-connection memory for one lib module (en_audit),
//  zeroed when first asked for, freed with the connection.
void *en_db_scratch (en_db_t *self, size_t size);

//  Rows as JSON: each column by name; TEXT columns named "x_json" are
//  parsed and stored as "x". en_db_rows returns every row of stmt as an
//  array, en_db_one the first row or NULL; both reset stmt.
json_t *en_db_rows (sqlite3_stmt *stmt);
json_t *en_db_one (sqlite3_stmt *stmt);

//  Last error text (borrowed).
const char *en_db_error (en_db_t *self);

//  True while the disk is full: a write failed with SQLITE_FULL and no
//  COMMIT has succeeded since. (The first such failure is logged, the
//  others not; the first COMMIT after is logged too.)
bool en_db_full (en_db_t *self);

//  An info line about a change made in the current transaction, logged
//  when it commits and dropped when it (or the savepoint it was written
//  in) rolls back. Outside a transaction: logged at once.
void en_db_log (en_db_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Fault injection, as SQLite's own tests do it: arm a countdown so that
//  the n-th write statement from now (en_db_exec, which also runs BEGIN,
//  COMMIT, SAVEPOINT and RELEASE) fails with SQLITE_IOERR without running,
//  as a full or failing disk would make it fail. n = 0 disarms. ROLLBACK
//  and ROLLBACK TO are never failed: they are how callers recover. Reads
//  (en_db_query and the helpers on it) are not failed: they have no
//  error channel yet. For tests; compiled in always (one integer test per
//  statement), armed only by a caller.
void en_db_fault_countdown (en_db_t *self, int n);

//  True once an armed fault has fired (the statement failed); re-arming
//  clears it. A test walks n = 1, 2, ... until an operation completes with
//  the fault not fired.
bool en_db_fault_fired (en_db_t *self);

#endif
