/*  en_audit - the access log, in the spirit of NEN 7513: who did what to
    which case, when, on whose behalf, and with what outcome.

    Entries form a hash chain: each entry's hash covers the previous
    entry's hash and all of its own fields, so en_audit_verify finds an
    edited, deleted, inserted or reordered entry and names the first one.
    A one-row table keeps the chain's head (newest seq and hash) and its
    anchor (where the chain starts after retention pruning), so deleting
    the newest entries is detected too. docs/audit.md describes the hash
    format, what verify detects and what it cannot.

    The log stores its rows through en_db in the caller's database; the
    caller includes EN_AUDIT_SCHEMA in its migrations. Nothing in an entry
    may be personal data: case_id is a pseudonym or request id, actor a
    user, key or node name. */
#ifndef EN_AUDIT_H_INCLUDED
#define EN_AUDIT_H_INCLUDED

//  The tables, one chain row (genesis: seq 0, hash of 32 zero bytes) and
//  guard triggers that refuse UPDATE of entries, DELETE of entries that
//  were not pruned, INSERT anywhere but the head, and moving the chain
//  row backwards. The triggers stop mistakes in our own code; they do not
//  stop anyone who can write the database file (verify does that).
#define EN_AUDIT_SCHEMA \
    "CREATE TABLE audit (" \
    "  seq INTEGER PRIMARY KEY," \
    "  at INTEGER NOT NULL," \
    "  event TEXT NOT NULL," \
    "  case_id TEXT," \
    "  actor TEXT NOT NULL," \
    "  on_behalf TEXT," \
    "  action TEXT NOT NULL," \
    "  outcome TEXT NOT NULL," \
    "  detail TEXT," \
    "  hash TEXT NOT NULL);" \
    "CREATE INDEX audit_case ON audit (case_id, seq);" \
    "CREATE TABLE audit_chain (" \
    "  id INTEGER PRIMARY KEY CHECK (id = 1)," \
    "  anchor_seq INTEGER NOT NULL," \
    "  anchor_hash TEXT NOT NULL," \
    "  anchor_at INTEGER NOT NULL," \
    "  head_seq INTEGER NOT NULL," \
    "  head_hash TEXT NOT NULL);" \
    "INSERT INTO audit_chain VALUES (1, 0," \
    "  '0000000000000000000000000000000000000000000000000000000000000000', 0, 0," \
    "  '0000000000000000000000000000000000000000000000000000000000000000');" \
    "CREATE TRIGGER audit_append BEFORE INSERT ON audit" \
    "  WHEN NEW.seq IS NOT (SELECT head_seq + 1 FROM audit_chain)" \
    "  BEGIN SELECT RAISE (ABORT, 'audit entries are appended at the head only'); END;" \
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit" \
    "  BEGIN SELECT RAISE (ABORT, 'audit entries cannot be changed'); END;" \
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit" \
    "  WHEN OLD.seq > (SELECT anchor_seq FROM audit_chain)" \
    "  BEGIN SELECT RAISE (ABORT, 'audit entries are removed only by pruning'); END;" \
    "CREATE TRIGGER audit_chain_forward BEFORE UPDATE ON audit_chain" \
    "  WHEN NEW.head_seq < OLD.head_seq OR NEW.anchor_seq < OLD.anchor_seq" \
    "    OR NEW.anchor_seq > NEW.head_seq" \
    "  BEGIN SELECT RAISE (ABORT, 'the audit chain only moves forward'); END;" \
    "CREATE TRIGGER audit_chain_keep BEFORE DELETE ON audit_chain" \
    "  BEGIN SELECT RAISE (ABORT, 'the audit chain row cannot be deleted'); END;"

//  Default retention: five years (1827 days, so leap days never shorten
//  it). The caller makes it configurable and prunes with
//  en_audit_prune (db, en_now_ms () - retention_ms).
#define EN_AUDIT_RETENTION_MS ((int64_t) 1827 * 24 * 3600 * 1000)

typedef struct {
    const char *event;      //  what happened, e.g. "request.submit", "offer.accept"
    const char *case_id;    //  case pseudonym or request id (may be NULL)
    const char *actor;      //  who: user or key/node name
    const char *on_behalf;  //  on whose behalf (may be NULL)
    const char *action;     //  create | read | send | receive | accept | export | update | delete | login
    const char *outcome;    //  ok | refused | error
    const char *detail;     //  short, never personal data (may be NULL)
} en_audit_entry_t;

//  Append an entry at the head, stamped now (ms). Runs inside the
//  caller's transaction if one is open, else in its own. Inside one, a
//  failure after the entry was written spoils the transaction
//  (en_db_spoil): the caller rolls it, or its savepoint, back.
//  Refuses (-1, logged) a missing event or actor, an action or outcome
//  not in the lists above, or a log whose chain row is missing. 0 or -1.
int en_audit_append (en_db_t *db, const en_audit_entry_t *entry);

//  Verify the whole chain, from the anchor through every entry to the
//  head. 0 = intact: *count is the number of entries (count may be NULL).
//  -1 = broken: *bad_seq is the seq of the first bad entry (0 when the
//  fault is not in an entry) and error says what (EN_ERR_CONFLICT):
//  "edited", "missing (deleted)", "reordered", "head mismatch", "bad
//  anchor", or (EN_ERR_INTERNAL) a database error. bad_seq and error may
//  be NULL.
int en_audit_verify (en_db_t *db, int64_t *count, int64_t *bad_seq, en_error_t *error);

//  The chain row: {"anchor_seq", "anchor_hash", "anchor_at", "head_seq",
//  "head_hash"}, or NULL when it is missing. verify's caller prints the
//  head so an operator can record it outside this machine. Caller owns.
json_t *en_audit_chain (en_db_t *db);

//  Does the log still hold a head recorded earlier (seq and hex hash, as
//  printed from en_audit_chain)? 0 = yes: the entry at seq (or the
//  anchor, if seq is where pruning stopped) has that hash, so together
//  with a passing en_audit_verify nothing up to seq was rewritten. -1
//  with error: EN_ERR_CONFLICT = no (the reason says why), EN_ERR_NOT_FOUND
//  = cannot tell, that entry was pruned; EN_ERR_INTERNAL = a database
//  error.
int en_audit_check_head (en_db_t *db, int64_t seq, const char *hash, en_error_t *error);

//  Entries for one case, oldest first: a JSON array of objects with seq,
//  at, event, case_id, actor, on_behalf, action, outcome, detail, hash
//  (SQL NULL as JSON null). NULL if case_id is NULL. Caller owns.
json_t *en_audit_case (en_db_t *db, const char *case_id);

//  The last n entries, newest last, as for en_audit_case. Caller owns.
json_t *en_audit_tail (en_db_t *db, int64_t n);

//  Verify and report, for `expertnet audit verify`: the chain's anchor
//  and head (en_audit_chain) plus "intact", "entries" and, when broken,
//  "bad_seq" and "problem". Caller owns.
json_t *en_audit_report (en_db_t *db);

//  Check the log against heads anchored elsewhere (ANCHOR, kept by the
//  broker or a peer broker): anchors is an array of {seq, hash, ...}, as
//  `expertnet audit anchors` prints them. Amends report (from
//  en_audit_report): "anchors_checked", "anchors_pruned", "anchored_to"
//  (the newest seq confirmed) and, at the first anchor the log no longer
//  holds, "intact": false, "bad_seq" and "problem". 0 = every anchor
//  holds (or was pruned), -1 = the log was rewritten.
int en_audit_check_anchors (en_db_t *db, json_t *anchors, json_t *report);

//  One entry in plain Dutch for a client's NEN 7513 overview ("wie
//  heeft wanneer wat met het dossier gedaan"): "DD-MM-YYYY HH:MM:SS
//  <actor> heeft ... (kenmerk <id>), namens <on_behalf>", with " - geweigerd" or
//  " - mislukt" when it did not succeed. Caller frees (zstr_free).
char *en_audit_line_nl (json_t *entry);

//  Retention: remove the oldest entries, up to (not including) the first
//  entry stamped at or after before_ms, and make the last removed entry
//  the chain's anchor (its seq, hash and time). Only a prefix is removed,
//  so an entry stamped early after a clock step waits for its neighbours.
//  Refuses (-1, logged) when the entries it would remove do not verify,
//  so pruning never erases evidence of tampering. Runs inside the
//  caller's transaction if one is open. Returns entries removed or -1.
int64_t en_audit_prune (en_db_t *db, int64_t before_ms);

#endif
