/*  en_bstore - the broker's SQLite store.

    This module owns every SQL statement of the broker's database.
    Schema (migration 1):

      nodes     enrolled nodes seen, with their region
      experts   availability published by nodes (full list per node);
                (load and reserved counts are kept by triggers, below)
      requests  one row per consultatieverzoek: summary JSON, state,
                assigned expert
      offers    each offer of a request to one expert, with its deadline;
                open offers and their deadlines ARE the routing timers, so
                a restarted broker resumes them by reading this table
      events    the timeline of every request (append-only)
      hiaten    requests nobody could take, for operators and reports
    Migration 2 adds an index on offers (expert, state); 3 the experts'
    tagset (",tag,tag,") used for matching; 4 the experts' load and
    reserved counts, maintained by triggers on offers and requests (the
    single place they change), so they cannot drift from the rows they
    count; tests/unit/test_router.c recounts them after every test.
      outbox, seen   (en_outbox) reliable delivery and dedup
    Migration 8 adds the dashboard's operators (name and crypto_pwhash
    string: Argon2id, salt and parameters inside) and their API tokens
    (only a BLAKE2b hash of each token is stored: a token is 256 random
    bits, so a fast hash is enough and a stolen database holds no usable
    token), and an index on requests by creation time for the charts.
    Migration 11 gives the store its identity (store_identity, en_db: a
    random id nodes learn from WELCOME, so a lost store is noticed) and
    keeps the access-log heads that nodes and peer brokers anchor here
    (anchors: every ANCHOR received, so a rewritten log at the sender
    fails its check against any head anchored before the rewrite).
    Migration 12 keeps the figures' counters (request_counts by state
    and urgency, store_counts for hiaten) by triggers, as 4 keeps the
    experts' load, so the dashboard and /metrics never count the rows.
    en_bstore_open_readonly opens a second connection on the same file
    for the dashboard's thread (WAL: it reads while the broker writes).
    Migration 13 indexes the candidate order (s_candidate: candidates by
    index, never a scan of every expert; tests/bench/bench_scale.c).
    The team migration (the last) gives every request its places (a team
    of experts, EXPN/3): each place is routed, offered and filled on its
    own, the request's state is derived from theirs, and an expert's load
    counts the places they fill (triggers on places, not on requests).
    The follow-up migration (the last) keeps a request's review date
    ("terug op ET") and whether its reminder is still to go, with indexes
    for the timer and the overdue list (en_followup).
*/
#include "en_bstore.h"
#include <inttypes.h>

struct _en_bstore_t {
    en_db_t *db;                //  the database
    en_outbox_t *outbox;        //  durable outbox in the same database
};

static const char *s_migrations [] = {
    "CREATE TABLE nodes ("
    "  name TEXT PRIMARY KEY,"
    "  region TEXT NOT NULL,"
    "  first_seen INTEGER NOT NULL,"
    "  last_seen INTEGER NOT NULL);"
    "CREATE TABLE experts ("
    "  id TEXT PRIMARY KEY,"
    "  node TEXT NOT NULL,"
    "  region TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  expertise TEXT NOT NULL,"
    "  capacity INTEGER NOT NULL,"
    "  absent_until INTEGER NOT NULL DEFAULT 0,"
    "  bovenregionaal INTEGER NOT NULL DEFAULT 0,"
    "  active INTEGER NOT NULL DEFAULT 1,"
    "  updated INTEGER NOT NULL);"
    "CREATE TABLE requests ("
    "  id TEXT PRIMARY KEY,"
    "  origin TEXT NOT NULL,"
    "  msg_id TEXT NOT NULL,"
    "  region TEXT NOT NULL,"
    "  urgency TEXT NOT NULL,"
    "  question_type TEXT NOT NULL,"
    "  summary TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  expert TEXT,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL);"
    "CREATE INDEX requests_state ON requests (state, created);"
    "CREATE INDEX requests_expert ON requests (expert, state);"
    "CREATE TABLE offers ("
    "  id TEXT PRIMARY KEY,"
    "  request_id TEXT NOT NULL REFERENCES requests (id),"
    "  expert TEXT NOT NULL,"
    "  node TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  deadline INTEGER NOT NULL,"
    "  answered INTEGER,"
    "  reason TEXT);"
    "CREATE INDEX offers_open ON offers (state, deadline);"
    "CREATE INDEX offers_request ON offers (request_id, expert);"
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY,"
    "  request_id TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  expert TEXT,"
    "  detail TEXT);"
    "CREATE INDEX events_request ON events (request_id, seq);"
    "CREATE TABLE hiaten ("
    "  request_id TEXT PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  region TEXT NOT NULL,"
    "  urgency TEXT NOT NULL,"
    "  question_type TEXT NOT NULL,"
    "  expertise TEXT NOT NULL);"
    EN_OUTBOX_SCHEMA,
    //  2: open offers per expert are counted for every candidate (an open
    //  offer reserves capacity); without this index that count walked all
    //  open offers and dominated routing time (tests/bench)
    "CREATE INDEX offers_expert ON offers (expert, state);",
    //  3: expertise also as ",tag,tag," so matching a request's tags is a
    //  substring test per tag instead of a json_each table per expert
    "ALTER TABLE experts ADD COLUMN tagset TEXT NOT NULL DEFAULT ',';"
    "UPDATE experts SET tagset = ',' || coalesce ((SELECT group_concat (value, ',') FROM json_each (expertise)), '') || ',';",
    //  4: load (accepted cases) and reserved (open offers) kept on the
    //  expert by triggers, so every path that changes an offer or a
    //  request keeps them right and routing reads them instead of counting
    "ALTER TABLE experts ADD COLUMN load INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE experts ADD COLUMN reserved INTEGER NOT NULL DEFAULT 0;"
    "UPDATE experts SET"
    "  load = (SELECT count(*) FROM requests r WHERE r.expert = experts.id AND r.state IN ('accepted', 'advice')),"
    "  reserved = (SELECT count(*) FROM offers o WHERE o.expert = experts.id AND o.state = 'open');"
    "CREATE TRIGGER offers_reserve AFTER INSERT ON offers WHEN NEW.state = 'open' BEGIN"
    "  UPDATE experts SET reserved = reserved + 1 WHERE id = NEW.expert; END;"
    "CREATE TRIGGER offers_release AFTER UPDATE OF state ON offers"
    "  WHEN OLD.state = 'open' AND NEW.state <> 'open' BEGIN"
    "  UPDATE experts SET reserved = reserved - 1 WHERE id = OLD.expert; END;"
    "CREATE TRIGGER requests_unload AFTER UPDATE OF state, expert ON requests"
    "  WHEN OLD.expert IS NOT NULL AND OLD.state IN ('accepted', 'advice') BEGIN"
    "  UPDATE experts SET load = load - 1 WHERE id = OLD.expert; END;"
    "CREATE TRIGGER requests_load AFTER UPDATE OF state, expert ON requests"
    "  WHEN NEW.expert IS NOT NULL AND NEW.state IN ('accepted', 'advice') BEGIN"
    "  UPDATE experts SET load = load + 1 WHERE id = NEW.expert; END;"
    "CREATE INDEX experts_active ON experts (active, role);",
    //  5: digest of each processed message (signed content)
    EN_SEEN_DIGEST_MIGRATION,
    //  6: the access log (en_audit)
    EN_AUDIT_SCHEMA,
    //  7: the expert's public box key, to which dossiers are sealed
    "ALTER TABLE experts ADD COLUMN box_key TEXT;",
    //  8: operators of the web dashboard and their API tokens
    "CREATE TABLE operators ("
    "  name TEXT PRIMARY KEY,"
    "  pwhash TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL);"
    "CREATE TABLE api_tokens ("
    "  id TEXT PRIMARY KEY,"
    "  operator TEXT NOT NULL REFERENCES operators (name) ON DELETE CASCADE,"
    "  hash TEXT NOT NULL UNIQUE,"
    "  created INTEGER NOT NULL);"
    "CREATE INDEX requests_created ON requests (created);",
    //  9: case summaries published by nodes (SUMMARY), for the rode
    //  draden report: anonymized, one row per case (pseudonym per origin)
    "CREATE TABLE summaries ("
    "  origin TEXT NOT NULL,"
    "  pseudonym TEXT NOT NULL,"
    "  region TEXT NOT NULL,"
    "  summary TEXT NOT NULL,"
    "  phases TEXT NOT NULL,"
    "  outcome TEXT,"
    "  updated INTEGER NOT NULL,"
    "  PRIMARY KEY (origin, pseudonym));",
    //  10: federation. A request forwarded to a peer broker names it
    //  (peer); one that came from a peer keeps the origin node's name and
    //  signing key (origin_node, sign_key: its later CLOSE and DOSSIER
    //  must verify with the same key) and the brokers it passed
    //  (visited). forwards: every peer a request was handed to, so a
    //  request returned by one goes to the next. peer_adverts: the
    //  aggregated capacity each peer advertised (role, sorted tagset,
    //  hops away, free places): counts, no person; peer_state: the
    //  advert sequence reached per peer, kept across restarts so routing
    //  can forward (into the durable outbox) while a link is down.
    "ALTER TABLE requests ADD COLUMN peer TEXT;"
    "ALTER TABLE requests ADD COLUMN origin_node TEXT;"
    "ALTER TABLE requests ADD COLUMN sign_key TEXT;"
    "ALTER TABLE requests ADD COLUMN visited TEXT;"
    "ALTER TABLE requests ADD COLUMN submit TEXT;"
    "CREATE TABLE forwards ("
    "  request_id TEXT NOT NULL,"
    "  peer TEXT NOT NULL,"
    "  msg_id TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  state TEXT NOT NULL,"
    "  PRIMARY KEY (request_id, peer)) WITHOUT ROWID;"
    "CREATE INDEX forwards_msg ON forwards (msg_id);"
    //  A request handed to a peer names that peer's expert once accepted:
    //  it is not one of ours and must not count on our experts' load
    "DROP TRIGGER requests_unload;"
    "DROP TRIGGER requests_load;"
    "CREATE TRIGGER requests_unload AFTER UPDATE OF state, expert, peer ON requests"
    "  WHEN OLD.expert IS NOT NULL AND OLD.peer IS NULL AND OLD.state IN ('accepted', 'advice') BEGIN"
    "  UPDATE experts SET load = load - 1 WHERE id = OLD.expert; END;"
    "CREATE TRIGGER requests_load AFTER UPDATE OF state, expert, peer ON requests"
    "  WHEN NEW.expert IS NOT NULL AND NEW.peer IS NULL AND NEW.state IN ('accepted', 'advice') BEGIN"
    "  UPDATE experts SET load = load + 1 WHERE id = NEW.expert; END;"
    "CREATE TABLE peer_adverts ("
    "  peer TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  tagset TEXT NOT NULL,"
    "  hops INTEGER NOT NULL,"
    "  free INTEGER NOT NULL,"
    "  PRIMARY KEY (peer, role, tagset, hops)) WITHOUT ROWID;"
    "CREATE TABLE peer_state ("
    "  peer TEXT PRIMARY KEY,"
    "  epoch TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL);",
    //  11: store identity; access-log heads anchored here (ANCHOR)
    EN_DB_IDENTITY_SCHEMA
    "CREATE TABLE anchors ("
    "  sender TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  hash TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  received INTEGER NOT NULL,"
    "  msg_id TEXT NOT NULL,"
    "  PRIMARY KEY (sender, seq, hash)) WITHOUT ROWID;",
    //  12: the figures' counters (issue 12): requests by state and
    //  urgency, and hiaten, kept by triggers in the transaction of every
    //  change (as the experts' load in 4), so the overview and /metrics
    //  read a handful of rows instead of counting a million; initialised
    //  from the rows there are. The recent hiaten by time, by index.
    "CREATE TABLE request_counts ("
    "  state TEXT NOT NULL,"
    "  urgency TEXT NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  PRIMARY KEY (state, urgency)) WITHOUT ROWID;"
    "INSERT INTO request_counts (state, urgency, n)"
    "  SELECT state, urgency, count(*) FROM requests GROUP BY state, urgency;"
    "CREATE TRIGGER requests_count_in AFTER INSERT ON requests BEGIN"
    "  INSERT INTO request_counts (state, urgency, n) VALUES (NEW.state, NEW.urgency, 1)"
    "  ON CONFLICT (state, urgency) DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER requests_count_move AFTER UPDATE OF state, urgency ON requests"
    "  WHEN OLD.state IS NOT NEW.state OR OLD.urgency IS NOT NEW.urgency BEGIN"
    "  UPDATE request_counts SET n = n - 1 WHERE state = OLD.state AND urgency = OLD.urgency;"
    "  INSERT INTO request_counts (state, urgency, n) VALUES (NEW.state, NEW.urgency, 1)"
    "  ON CONFLICT (state, urgency) DO UPDATE SET n = n + 1; END;"
    "CREATE TRIGGER requests_count_out AFTER DELETE ON requests BEGIN"
    "  UPDATE request_counts SET n = n - 1 WHERE state = OLD.state AND urgency = OLD.urgency; END;"
    "CREATE TABLE store_counts ("
    "  name TEXT PRIMARY KEY,"
    "  n INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT INTO store_counts (name, n) SELECT 'hiaten', count(*) FROM hiaten;"
    "CREATE TRIGGER hiaten_count_in AFTER INSERT ON hiaten BEGIN"
    "  UPDATE store_counts SET n = n + 1 WHERE name = 'hiaten'; END;"
    "CREATE TRIGGER hiaten_count_out AFTER DELETE ON hiaten BEGIN"
    "  UPDATE store_counts SET n = n - 1 WHERE name = 'hiaten'; END;"
    "CREATE INDEX hiaten_at ON hiaten (at);",
    //  13: candidates by index (s_candidate), not by a scan of every
    //  expert and a sort: per role, in the candidate order (least loaded,
    //  then most free capacity, then id), within one region and across
    //  all; bovenregionale procesregisseurs (escalation) apart, a handful.
    //  The (active, role) index had no query left that needed it; one on
    //  node serves AVAILABILITY (a node's experts made inactive first).
    "CREATE INDEX experts_route_region ON experts"
    "  (role, region, load + reserved, load + reserved - capacity, id) WHERE active;"
    "CREATE INDEX experts_route ON experts"
    "  (role, load + reserved, load + reserved - capacity, id) WHERE active;"
    "CREATE INDEX experts_escalation ON experts (id)"
    "  WHERE active AND role = 'procesregisseur' AND bovenregionaal;"
    "DROP INDEX experts_active;"
    "CREATE INDEX experts_node ON experts (node);",
    //  (team) the places of a request (EXPN/3, a team of experts): each
    //  place its roles, tags, state (the request state machine's, per
    //  place), assigned expert and whether that expert is one of ours
    //  (local: a peer's expert, mirrored, never counts on our load). The
    //  request's state is derived from them (en_request_sm_derive). Every
    //  request there is gets its one place; offers and events name their
    //  place; the load triggers move from requests to places.
    "CREATE TABLE places ("
    "  request_id TEXT NOT NULL REFERENCES requests (id),"
    "  place INTEGER NOT NULL,"
    "  roles TEXT NOT NULL,"
    "  expertise TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  expert TEXT,"
    "  local INTEGER NOT NULL DEFAULT 1,"
    "  updated INTEGER NOT NULL,"
    "  PRIMARY KEY (request_id, place)) WITHOUT ROWID;"
    "CREATE INDEX places_state ON places (state);"
    "INSERT INTO places (request_id, place, roles, expertise, state, expert, local, updated)"
    "  SELECT id, 1, CASE question_type WHEN 'procesregie' THEN '[\"procesregisseur\"]'"
    "    WHEN 'moreel-beraad' THEN '[\"ervaringsdeskundige\",\"superexpert\"]'"
    "    WHEN 'organiseren-hulp' THEN '[\"procesregisseur\",\"superexpert\"]'"
    "    WHEN 'overbruggingsfinanciering' THEN '[\"procesregisseur\"]' ELSE '[\"superexpert\"]' END,"
    "    coalesce (json_extract (summary, '$.expertise'), '[]'), state, expert, peer IS NULL, updated"
    "  FROM requests;"
    "ALTER TABLE offers ADD COLUMN place INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE events ADD COLUMN place INTEGER;"
    "DROP TRIGGER requests_unload;"
    "DROP TRIGGER requests_load;"
    "CREATE TRIGGER places_unload AFTER UPDATE OF state, expert, local ON places"
    "  WHEN OLD.expert IS NOT NULL AND OLD.local AND OLD.state IN ('accepted', 'advice') BEGIN"
    "  UPDATE experts SET load = load - 1 WHERE id = OLD.expert; END;"
    "CREATE TRIGGER places_load AFTER UPDATE OF state, expert, local ON places"
    "  WHEN NEW.expert IS NOT NULL AND NEW.local AND NEW.state IN ('accepted', 'advice') BEGIN"
    "  UPDATE experts SET load = load + 1 WHERE id = NEW.expert; END;",
    //  (convo) A conversation per request (en_convo): the requesting
    //  team's box key from SUBMIT; each message's metadata only (seq,
    //  sender, kind, time, digest: never its ciphertext, which stays in
    //  the outbox until delivered); read receipts; and the participants
    //  last told (MEMBERS), to notice when the set changes.
    //  (IF NOT EXISTS: a store set back by hand to an earlier version,
    //  as test_dashboard does, still opens)
    "CREATE TABLE IF NOT EXISTS convo_keys ("
    "  request_id TEXT PRIMARY KEY,"
    "  team_key TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS convo_messages ("
    "  request_id TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  sender TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  digest TEXT NOT NULL,"
    "  msg_id TEXT NOT NULL UNIQUE,"
    "  PRIMARY KEY (request_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS convo_receipts ("
    "  request_id TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  reader TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY (request_id, seq, reader)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS convo_members ("
    "  request_id TEXT PRIMARY KEY,"
    "  members TEXT NOT NULL);",
    //  Follow-up (issue 13, en_followup): a request's review date ("terug
    //  op ET", review_at, ms) and whether its reminder is still to go
    //  (review_pending; cleared in the transaction of the event
    //  review-due, so it fires once per date across restarts). Two
    //  partial indexes: the timer reads armed dates, the dashboard the
    //  dates of requests not closed, neither ever scans the requests.
    //  Closing disarms. An expert in monitoring still holds the case:
    //  the load triggers (on places, since the team migration) count a place
    //  in monitoring as one accepted or advised.
    "ALTER TABLE requests ADD COLUMN review_at INTEGER;"
    "ALTER TABLE requests ADD COLUMN review_pending INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX requests_review_armed ON requests (review_at) WHERE review_pending = 1;"
    "CREATE INDEX requests_review_open ON requests (review_at)"
    "  WHERE review_at IS NOT NULL AND state <> 'closed';"
    "CREATE TRIGGER requests_review_disarm AFTER UPDATE OF state ON requests"
    "  WHEN NEW.state = 'closed' AND NEW.review_pending = 1 BEGIN"
    "  UPDATE requests SET review_pending = 0 WHERE id = NEW.id; END;"
    "DROP TRIGGER places_unload;"
    "DROP TRIGGER places_load;"
    "CREATE TRIGGER places_unload AFTER UPDATE OF state, expert, local ON places"
    "  WHEN OLD.expert IS NOT NULL AND OLD.local AND OLD.state IN ('accepted', 'advice', 'monitoring') BEGIN"
    "  UPDATE experts SET load = load - 1 WHERE id = OLD.expert; END;"
    "CREATE TRIGGER places_load AFTER UPDATE OF state, expert, local ON places"
    "  WHEN NEW.expert IS NOT NULL AND NEW.local AND NEW.state IN ('accepted', 'advice', 'monitoring') BEGIN"
    "  UPDATE experts SET load = load + 1 WHERE id = NEW.expert; END;",
    //  Moreel beraad (issue 13, en_followup): per request the times its
    //  team proposed (JSON array of ms), the one fixed and when it took
    //  place; dates only, never text
    "CREATE TABLE beraad ("
    "  request_id TEXT PRIMARY KEY,"
    "  times TEXT NOT NULL,"
    "  fixed_at INTEGER,"
    "  held_at INTEGER,"
    "  updated INTEGER NOT NULL) WITHOUT ROWID;",
    //  (team federation) a team's places may be filled in other provinces
    //  (EXPN/3): the peer broker holding a place is the place's (peer;
    //  what requests.peer held moves to place 1, the only place a request
    //  had then); requests.peer is derived from them (the first place's
    //  peer, as the request's state is from theirs: for a request of one
    //  place, its place's), and a forward is of one place to one peer
    //  (forwards keyed by place).
    "ALTER TABLE places ADD COLUMN peer TEXT;"
    "UPDATE places SET peer = (SELECT r.peer FROM requests r WHERE r.id = places.request_id) WHERE place = 1;"
    "CREATE TABLE forwards_of_places ("
    "  request_id TEXT NOT NULL,"
    "  place INTEGER NOT NULL,"
    "  peer TEXT NOT NULL,"
    "  msg_id TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  state TEXT NOT NULL,"
    "  PRIMARY KEY (request_id, place, peer)) WITHOUT ROWID;"
    "INSERT INTO forwards_of_places (request_id, place, peer, msg_id, at, state)"
    "  SELECT request_id, 1, peer, msg_id, at, state FROM forwards;"
    "DROP TABLE forwards;"
    "ALTER TABLE forwards_of_places RENAME TO forwards;"
    "CREATE INDEX forwards_msg ON forwards (msg_id);"
    "CREATE INDEX places_peer ON places (peer) WHERE peer IS NOT NULL;",
    //  (team conversation across provinces) the box key of the expert who
    //  accepted a place a peer broker holds, from the peer's STATUS
    //  accepted: the origin broker seals a team's conversation to them too
    //  (en_convo, docs/protocol.md "Conversations")
    "ALTER TABLE places ADD COLUMN box_key TEXT;",
    //  (relay refusals) a node's message (REVIEW, BERAAD, CLOSE, DOSSIER,
    //  REPLY) relayed to the peer broker holding a place, by the id of the
    //  FORWARD that carried it: a final ERROR of the peer for it becomes
    //  the event relay-refused of that place, which the team hears
    //  (en_fedroute; docs/protocol.md "FORWARD"). (IF NOT EXISTS: a store
    //  set back by hand to an earlier version, as test_dashboard does)
    "CREATE TABLE IF NOT EXISTS relays ("
    "  msg_id TEXT NOT NULL,"
    "  peer TEXT NOT NULL,"
    "  request_id TEXT NOT NULL,"
    "  place INTEGER NOT NULL,"
    "  command TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY (peer, msg_id)) WITHOUT ROWID;",
    NULL
};

//  The store on an open database, or NULL when it did not open
static en_bstore_t *
s_store (en_db_t *db)
{
    if (!db)
        return NULL;
    en_bstore_t *self = (en_bstore_t *) zmalloc (sizeof (en_bstore_t));
    assert (self);
    self->db = db;
    self->outbox = en_outbox_new (db);
    return self;
}

en_bstore_t *
en_bstore_new (const char *path, en_error_t *error)
{
    return s_store (en_db_new (path, s_migrations, error));
}

en_bstore_t *
en_bstore_open_readonly (const char *path, en_error_t *error)
{
    return s_store (en_db_open_readonly (path, error));
}

int
en_bstore_snapshot (en_bstore_t *self, bool begin)
{
    //  A deferred BEGIN: the first read takes the snapshot, and a
    //  read-only connection may open it (en_db_begin writes: IMMEDIATE)
    return sqlite3_exec (en_db_handle (self->db), begin ? "BEGIN DEFERRED" : "COMMIT",
                         NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

void
en_bstore_destroy (en_bstore_t **self_p)
{
    assert (self_p);
    en_bstore_t *self = *self_p;
    if (self) {
        en_outbox_destroy (&self->outbox);
        en_db_destroy (&self->db);
        free (self);
        *self_p = NULL;
    }
}

en_db_t *en_bstore_db (en_bstore_t *self) { return self->db; }
en_outbox_t *en_bstore_outbox (en_bstore_t *self) { return self->outbox; }


int
en_bstore_node_seen (en_bstore_t *self, const char *name, const char *region)
{
    int64_t now = en_now_ms ();
    return en_db_exec (self->db,
        "INSERT INTO nodes (name, region, first_seen, last_seen) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET region = excluded.region, last_seen = excluded.last_seen",
        "ssii", name, region, now, now);
}

int
en_bstore_anchor_put (en_bstore_t *self, const char *sender, int64_t seq, const char *hash, int64_t at,
                      const char *msg_id, char *conflict, size_t conflict_len)
{
    *conflict = 0;
    //  What this sender anchored before that a linear log cannot follow
    //  from: the same seq with another hash, or a head further along
    json_t *before = en_db_one (en_db_query (self->db,
        "SELECT seq, hash FROM anchors WHERE sender = ? AND (seq > ? OR (seq = ? AND hash <> ?))"
        " ORDER BY seq DESC LIMIT 1", "siis", sender, seq, seq, hash));
    if (before) {
        int64_t other = en_json_int (before, "seq", 0);
        if (other == seq)
            snprintf (conflict, conflict_len, "head %" PRId64 " was anchored before with hash %.16s..., now %.16s...",
                      seq, en_json_str (before, "hash") ?: "?", hash);
        else
            snprintf (conflict, conflict_len, "head went back from %" PRId64 " to %" PRId64, other, seq);
        json_decref (before);
    }
    return en_db_exec (self->db,
        "INSERT OR IGNORE INTO anchors (sender, seq, hash, at, received, msg_id) VALUES (?, ?, ?, ?, ?, ?)",
        "sisiis", sender, seq, hash, at, en_now_ms (), msg_id);
}

int
en_bstore_anchors_prune (en_bstore_t *self, int64_t before_ms)
{
    //  Kept as long as the access log: an anchor older than that names
    //  entries the sender has pruned
    return en_db_exec (self->db, "DELETE FROM anchors WHERE received < ?", "i", before_ms);
}

json_t *
en_bstore_anchors (en_bstore_t *self, const char *sender)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT seq, hash, at, received FROM anchors WHERE sender = ? ORDER BY seq, received", "s", sender));
}

json_t *
en_bstore_nodes (en_bstore_t *self)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT name, region, first_seen, last_seen FROM nodes ORDER BY region, name", NULL));
}

int
en_bstore_experts_replace (en_bstore_t *self, const char *node, json_t *experts, en_error_t *error)
{
    int64_t now = en_now_ms ();
    size_t index;
    json_t *expert;
    json_array_foreach (experts, index, expert) {
        const char *id = en_json_str (expert, "id");
        sqlite3_stmt *stmt = en_db_query (self->db, "SELECT node FROM experts WHERE id = ?", "s", id);
        if (stmt && sqlite3_step (stmt) == SQLITE_ROW
        &&  !streq ((const char *) sqlite3_column_text (stmt, 0), node)) {
            en_error_set (error, EN_ERR_CONFLICT, "expert id '%s' is already published by node '%s'",
                          id, (const char *) sqlite3_column_text (stmt, 0));
            sqlite3_reset (stmt);
            return -1;
        }
        if (stmt)
            sqlite3_reset (stmt);
    }
    //  Experts the node no longer lists become inactive (their history and
    //  open assignments stay).
    if (en_db_exec (self->db, "UPDATE experts SET active = 0, updated = ? WHERE node = ?", "is", now, node))
        goto failed;
    json_array_foreach (experts, index, expert) {
        json_t *expertise = json_object_get (expert, "expertise");
        char *tags = expertise ? json_dumps (expertise, JSON_COMPACT) : strdup ("[]");
        int rc = en_db_exec (self->db,
            "INSERT INTO experts (id, node, region, role, expertise, capacity, absent_until, bovenregionaal, active, updated, tagset, box_key)"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9,"
            "  ',' || coalesce ((SELECT group_concat (value, ',') FROM json_each (?5)), '') || ',', ?10)"
            " ON CONFLICT (id) DO UPDATE SET region = excluded.region, role = excluded.role, box_key = excluded.box_key,"
            " expertise = excluded.expertise, tagset = excluded.tagset, capacity = excluded.capacity,"
            " absent_until = excluded.absent_until, bovenregionaal = excluded.bovenregionaal,"
            " active = 1, updated = excluded.updated",
            "sssssiiiis", en_json_str (expert, "id"), node, en_json_str (expert, "region"),
            en_json_str (expert, "role"), tags, en_json_int (expert, "capacity", 0),
            en_json_int (expert, "absent_until", 0),
            (int64_t) json_is_true (json_object_get (expert, "bovenregionaal")), now,
            en_json_str (expert, "box_key"));
        free (tags);
        if (rc)
            goto failed;
    }
    return 0;
failed:
    return en_error_set (error, EN_ERR_INTERNAL, "store error: %s", en_db_error (self->db));
}

#define EXPERT_COLUMNS \
    "e.id, e.node, e.region, e.role, e.expertise AS expertise_json, e.capacity," \
    " e.absent_until, e.bovenregionaal, e.active, e.load, e.reserved, e.box_key"

json_t *
en_bstore_expert (en_bstore_t *self, const char *id)
{
    return en_db_one (en_db_query (self->db,
        "SELECT " EXPERT_COLUMNS " FROM experts e WHERE e.id = ?", "s", id));
}

json_t *
en_bstore_experts (en_bstore_t *self)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT " EXPERT_COLUMNS " FROM experts e WHERE e.active ORDER BY e.region, e.id", NULL));
}

//  What every candidate passes: present, free capacity, all tags
//  (?4, a JSON array), not offered this request (?5) before (again, ?6:
//  unless that offer expired unanswered). Tags match as substrings of
//  the expert's ",tag,tag," set (cheaper than a json_each per expert).
#define CANDIDATE_TERMS \
    " AND e.absent_until <= ?3 AND e.load + e.reserved < e.capacity" \
    " AND NOT EXISTS (SELECT 1 FROM json_each (?4) t WHERE instr (e.tagset, ',' || t.value || ',') = 0)" \
    " AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.request_id = ?5 AND o.expert = e.id" \
    "                 AND (NOT ?6 OR o.state <> 'expired'))"
//  Candidate order within a region: least loaded (accepted cases plus
//  open offers), then most free capacity, then id. The index
//  experts_route(_region) holds these keys, so the first row that
//  passes is the best one: no sort, no scan past it.
#define CANDIDATE_ORDER \
    " ORDER BY e.load + e.reserved, e.load + e.reserved - e.capacity, e.id LIMIT 1"

//  The best candidate of role ?1 in region ?2 (own), or outside it.
static json_t *
s_candidate_of (en_bstore_t *self, bool own_region, const char *role, const char *region,
                int64_t now, const char *tags, const char *request_id, bool again)
{
    const char *sql = own_region
        ? "SELECT " EXPERT_COLUMNS " FROM experts e WHERE e.active AND e.role = ?1 AND e.region = ?2"
          CANDIDATE_TERMS CANDIDATE_ORDER
        : "SELECT " EXPERT_COLUMNS " FROM experts e WHERE e.active AND e.role = ?1 AND e.region IS NOT ?2"
          CANDIDATE_TERMS CANDIDATE_ORDER;
    return en_db_one (en_db_query (self->db, sql, "ssissi", role, region, now, tags, request_id,
                                   (int64_t) again));
}

//  True when expert a comes before b in the candidate order (same region
//  rank): load + reserved, then most free capacity, then id.
static bool
s_candidate_before (json_t *a, json_t *b)
{
    int64_t taken_a = en_json_int (a, "load", 0) + en_json_int (a, "reserved", 0);
    int64_t taken_b = en_json_int (b, "load", 0) + en_json_int (b, "reserved", 0);
    if (taken_a != taken_b)
        return taken_a < taken_b;
    int64_t free_a = en_json_int (a, "capacity", 0) - taken_a;
    int64_t free_b = en_json_int (b, "capacity", 0) - taken_b;
    if (free_a != free_b)
        return free_a > free_b;
    return strcmp (en_json_str (a, "id"), en_json_str (b, "id")) < 0;
}

//  Escalation: a bovenregionale procesregisseur, tags not needed; own
//  region first, then the candidate order. There are a handful of them
//  (their own partial index), so one sort of those is cheap.
static json_t *
s_candidate_escalation (en_bstore_t *self, const char *region, int64_t now, const char *request_id,
                        bool again)
{
    return en_db_one (en_db_query (self->db,
        "SELECT " EXPERT_COLUMNS " FROM experts e INDEXED BY experts_escalation"
        " WHERE e.active AND e.role = 'procesregisseur' AND e.bovenregionaal"
        CANDIDATE_TERMS
        " ORDER BY (e.region = ?2) DESC, e.load + e.reserved, e.load + e.reserved - e.capacity, e.id LIMIT 1",
        "ssissi", (const char *) NULL, region, now, "[]", request_id, (int64_t) again));
}

//  The best candidate (see en_bstore.h). again: an operator's re-offer,
//  where experts whose offer of it expired unanswered are candidates
//  again; otherwise everyone offered it before is left out. Order: own
//  region first, then least loaded, then most free capacity, then id
//  (deterministic). Each role's best in the own region, else each
//  role's best elsewhere, each one indexed lookup (s_candidate_of); the
//  best of those few is the answer.
static json_t *
s_candidate (en_bstore_t *self, json_t *request, const char **roles, bool escalation, int64_t now,
             bool again)
{
    const char *region = en_json_str (request, "region");
    const char *request_id = en_json_str (request, "id");
    if (escalation)
        return s_candidate_escalation (self, region, now, request_id, again);
    char *tags = json_dumps (json_object_get (request, "expertise"), JSON_COMPACT);
    json_t *best = NULL;
    for (int pass = 0; pass < 2 && !best; pass++)
        for (const char **role = roles; role && *role; role++) {
            json_t *found = s_candidate_of (self, pass == 0, *role, region, now, tags, request_id, again);
            if (found && (!best || s_candidate_before (found, best))) {
                json_decref (best);
                best = found;
            }
            else
                json_decref (found);
        }
    free (tags);
    return best;
}

json_t *
en_bstore_candidate (en_bstore_t *self, json_t *request, const char **roles,
                     bool escalation, int64_t now)
{
    return s_candidate (self, request, roles, escalation, now, false);
}

json_t *
en_bstore_candidate_again (en_bstore_t *self, json_t *request, const char **roles,
                           bool escalation, int64_t now)
{
    return s_candidate (self, request, roles, escalation, now, true);
}

//  The places of summary (one for a request without `places`), all
//  'submitted'; only_place N: only place N (a peer's place of a team).
static int
s_places_insert (en_bstore_t *self, json_t *summary, int64_t only_place, int64_t now)
{
    json_t *places = en_request_places (summary);
    int rc = 0;
    size_t index;
    json_t *place;
    json_array_foreach (places, index, place) {
        if (only_place && en_json_int (place, "place", 0) != only_place)
            continue;           //  a peer's place: only that one is here
        char *roles = json_dumps (json_object_get (place, "roles"), JSON_COMPACT);
        char *tags = json_dumps (json_object_get (place, "expertise"), JSON_COMPACT);
        rc |= en_db_exec (self->db,
            "INSERT INTO places (request_id, place, roles, expertise, state, updated)"
            " VALUES (?, ?, ?, ?, 'submitted', ?)",
            "sissi", en_json_str (summary, "id"), en_json_int (place, "place", 0), roles, tags, now);
        free (roles);
        free (tags);
    }
    json_decref (places);
    return rc ? -1 : 0;
}

int
en_bstore_request_insert (en_bstore_t *self, const char *origin, const char *msg_id, json_t *summary,
                          json_t *submit, const char *sign_key, const char *origin_node, json_t *visited,
                          int64_t only_place, en_error_t *error)
{
    const char *id = en_json_str (summary, "id");
    if (en_db_int (self->db, "SELECT count(*) FROM requests WHERE id = ?", "s", id) > 0)
        return en_error_set (error, EN_ERR_CONFLICT, "request id '%s' already exists", id);
    char *text = json_dumps (summary, JSON_COMPACT | JSON_SORT_KEYS);
    char *submit_text = submit ? json_dumps (submit, JSON_COMPACT) : NULL;
    char *visited_text = visited ? json_dumps (visited, JSON_COMPACT) : NULL;
    int64_t now = en_now_ms ();
    int rc = en_db_exec (self->db,
        "INSERT INTO requests (id, origin, msg_id, region, urgency, question_type, summary, state, created, updated,"
        " submit, sign_key, origin_node, visited)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'submitted', ?, ?, ?, ?, ?, ?)",
        "sssssssiissss", id, origin, msg_id, en_json_str (summary, "region"),
        en_json_str (summary, "urgency"), en_json_str (summary, "question_type"), text, now, now,
        submit_text, sign_key, origin_node, visited_text);
    free (text);
    free (submit_text);
    free (visited_text);
    rc |= s_places_insert (self, summary, only_place, now);
    return rc ? en_error_set (error, EN_ERR_INTERNAL, "store error") : 0;
}

int
en_bstore_place_add (en_bstore_t *self, json_t *summary, int64_t place)
{
    assert (place > 0);
    return s_places_insert (self, summary, place, en_now_ms ());
}

//  States a request does not leave by routing here: done ('closed'),
//  handed back to the peer it came from ('returned', 'recalled'); and
//  with 'hiaat', the ones operators need not watch as open.
#define STATES_DONE     "('closed', 'returned', 'recalled')"
#define STATES_NOT_OPEN "('closed', 'returned', 'recalled', 'hiaat')"
//  ... and the others (en_request_sm's states): still in someone's hands
#define STATES_OPEN "('submitted', 'offered', 'escalated', 'forwarded', 'accepted', 'advice', 'monitoring')"

#define REQUEST_COLUMNS \
    "id, origin, region, urgency, question_type, summary AS summary_json, state, expert, created, updated," \
    " peer, origin_node, sign_key, visited AS visited_json, review_at," \
    " (SELECT count(*) FROM places p WHERE p.request_id = requests.id) AS place_count"

json_t *
en_bstore_request (en_bstore_t *self, const char *id)
{
    return en_db_one (en_db_query (self->db,
        "SELECT " REQUEST_COLUMNS " FROM requests WHERE id = ?", "s", id));
}

//  A request's place with the request's columns; summary the column
//  that gives its summary
#define REQUEST_PLACE_SELECT(summary) \
    "SELECT r.id, r.origin, r.region, r.urgency, r.question_type, " summary ", p.state," \
    " p.expert, r.created, r.updated, p.peer, r.origin_node, r.sign_key, r.visited AS visited_json," \
    " p.place, p.roles AS roles_json, p.expertise AS expertise_json, r.state AS request_state," \
    " (SELECT count(*) FROM places q WHERE q.request_id = r.id) AS place_count" \
    " FROM requests r JOIN places p ON p.request_id = r.id WHERE r.id = ?1" \
    " AND p.place = CASE ?2 WHEN 0 THEN (SELECT min (q.place) FROM places q WHERE q.request_id = r.id) ELSE ?2 END"

json_t *
en_bstore_request_place (en_bstore_t *self, const char *id, int64_t place)
{
    return en_db_one (en_db_query (self->db, REQUEST_PLACE_SELECT ("r.summary AS summary_json"), "si", id, place));
}

json_t *
en_bstore_request_place_held (en_bstore_t *self, json_t *summary, int64_t place)
{
    json_t *view = en_db_one (en_db_query (self->db, REQUEST_PLACE_SELECT ("NULL AS summary"), "si",
                                           en_json_str (summary, "id"), place));
    if (view)
        json_object_set (view, "summary", summary);
    return view;
}

json_t *
en_bstore_places (en_bstore_t *self, const char *id)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT p.place, p.roles AS roles_json, p.expertise AS expertise_json, p.state, p.expert, p.local, p.peer,"
        " (SELECT o.expert FROM offers o INDEXED BY offers_request WHERE o.request_id = p.request_id"
        "  AND o.place = p.place AND o.state = 'open' LIMIT 1) AS offered"
        " FROM places p WHERE p.request_id = ? ORDER BY p.place", "s", id));
}

int
en_bstore_place_update (en_bstore_t *self, const char *id, int64_t place, const char *state,
                        const char *expert, bool local)
{
    return en_db_exec (self->db,
        "UPDATE places SET state = ?, expert = ?, local = ?, updated = ? WHERE request_id = ? AND place = ?",
        "ssiisi", state, expert, (int64_t) local, en_now_ms (), id, place);
}

int
en_bstore_request_update (en_bstore_t *self, const char *id, const char *state, const char *expert)
{
    return en_db_exec (self->db,
        "UPDATE requests SET state = ?, expert = ?, updated = ? WHERE id = ?",
        "ssis", state, expert, en_now_ms (), id);
}

json_t *
en_bstore_requests (en_bstore_t *self, const char *state, int limit)
{
    if (state)
        return en_db_rows (en_db_query (self->db,
            "SELECT " REQUEST_COLUMNS " FROM requests WHERE state = ? ORDER BY created DESC LIMIT ?",
            "si", state, (int64_t) limit));
    return en_db_rows (en_db_query (self->db,
        "SELECT " REQUEST_COLUMNS " FROM requests WHERE state NOT IN " STATES_DONE " ORDER BY created DESC LIMIT ?",
        "i", (int64_t) limit));
}

int
en_bstore_event (en_bstore_t *self, const char *request_id, const char *type,
                 const char *expert, const char *detail)
{
    return en_bstore_place_event (self, request_id, 0, type, expert, detail);
}

int
en_bstore_place_event (en_bstore_t *self, const char *request_id, int64_t place, const char *type,
                       const char *expert, const char *detail)
{
    return en_db_exec (self->db,
        "INSERT INTO events (request_id, at, type, expert, detail, place) VALUES (?, ?, ?, ?, ?, nullif (?, 0))",
        "sisssi", request_id, en_now_ms (), type, expert, detail, place);
}

json_t *
en_bstore_events (en_bstore_t *self, const char *request_id)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT at, type, expert, detail, place FROM events WHERE request_id = ? ORDER BY seq",
        "s", request_id));
}

int
en_bstore_offer_insert (en_bstore_t *self, const char *id, const char *request_id, int64_t place,
                        const char *expert, const char *node, const char *kind, int64_t deadline)
{
    return en_db_exec (self->db,
        "INSERT INTO offers (id, request_id, place, expert, node, kind, state, created, deadline)"
        " VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?)",
        "ssisssii", id, request_id, place, expert, node, kind, en_now_ms (), deadline);
}

#define OFFER_COLUMNS "id, request_id, place, expert, node, kind, state, created, deadline, answered, reason"

json_t *
en_bstore_offer (en_bstore_t *self, const char *id)
{
    return en_db_one (en_db_query (self->db, "SELECT " OFFER_COLUMNS " FROM offers WHERE id = ?", "s", id));
}

int
en_bstore_offer_close (en_bstore_t *self, const char *id, const char *state, const char *reason)
{
    return en_db_exec (self->db,
        "UPDATE offers SET state = ?, answered = ?, reason = ? WHERE id = ? AND state = 'open'",
        "siss", state, en_now_ms (), reason, id);
}

int64_t
en_bstore_offer_count (en_bstore_t *self, const char *request_id)
{
    return en_db_int (self->db, "SELECT count(*) FROM offers WHERE request_id = ?", "s", request_id);
}

int64_t
en_bstore_place_offer_count (en_bstore_t *self, const char *request_id, int64_t place)
{
    return en_db_int (self->db, "SELECT count(*) FROM offers WHERE request_id = ? AND place = ?",
                      "si", request_id, place);
}

json_t *
en_bstore_offers_open (en_bstore_t *self, const char *request_id, int64_t due)
{
    if (request_id)
        return en_db_rows (en_db_query (self->db,
            "SELECT " OFFER_COLUMNS " FROM offers INDEXED BY offers_request WHERE state = 'open' AND request_id = ?",
            "s", request_id));
    return en_db_rows (en_db_query (self->db,
        "SELECT " OFFER_COLUMNS " FROM offers WHERE state = 'open' AND deadline <= ? ORDER BY deadline LIMIT 500",
        "i", due));
}

json_t *
en_bstore_place_offers_open (en_bstore_t *self, const char *request_id, int64_t place)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT " OFFER_COLUMNS " FROM offers INDEXED BY offers_request"
        " WHERE state = 'open' AND request_id = ? AND place = ?",
        "si", request_id, place));
}

json_t *
en_bstore_offers_open_of_node (en_bstore_t *self, const char *node)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT " OFFER_COLUMNS " FROM offers WHERE state = 'open' AND node = ? ORDER BY created", "s", node));
}

json_t *
en_bstore_nodes_with_experts (en_bstore_t *self)
{
    json_t *rows = en_db_rows (en_db_query (self->db,
        "SELECT DISTINCT node FROM experts WHERE active = 1 ORDER BY node", NULL));
    json_t *names = json_array ();
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row)
        json_array_append (names, json_object_get (row, "node"));
    json_decref (rows);
    return names;
}

int64_t
en_bstore_next_deadline (en_bstore_t *self)
{
    return en_db_int (self->db, "SELECT coalesce (min (deadline), 0) FROM offers WHERE state = 'open'", NULL);
}

json_t *
en_bstore_offers_pending (en_bstore_t *self)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT o.id, o.request_id, o.expert, o.node, o.kind, o.created, o.deadline, r.urgency"
        " FROM offers o JOIN requests r ON r.id = o.request_id"
        " WHERE o.state = 'open' ORDER BY o.deadline", NULL));
}

int
en_bstore_hiaat (en_bstore_t *self, json_t *request)
{
    //  The tags of the place that found nobody (a request's, for one place)
    json_t *tags_json = json_object_get (request, "expertise");
    if (!tags_json)
        tags_json = json_object_get (json_object_get (request, "summary"), "expertise");
    char *tags = json_dumps (tags_json, JSON_COMPACT);
    int rc = en_db_exec (self->db,
        //  An upsert, not INSERT OR REPLACE: a replace deletes without
        //  firing the delete trigger, and the count (migration 12) drifts
        "INSERT INTO hiaten (request_id, at, region, urgency, question_type, expertise)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (request_id) DO UPDATE SET at = excluded.at,"
        " region = excluded.region, urgency = excluded.urgency, question_type = excluded.question_type,"
        " expertise = excluded.expertise",
        "sissss", en_json_str (request, "id"), en_now_ms (), en_json_str (request, "region"),
        en_json_str (request, "urgency"), en_json_str (request, "question_type"), tags);
    free (tags);
    return rc;
}

json_t *
en_bstore_hiaten (en_bstore_t *self)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT h.request_id, h.at, h.region, h.urgency, h.question_type, h.expertise AS expertise_json,"
        " r.state FROM hiaten h JOIN requests r ON r.id = h.request_id ORDER BY h.at DESC", NULL));
}

json_t *
en_bstore_hiaten_due (en_bstore_t *self, const int64_t since [3], int limit)
{
    //  Through the requests' state index: the hiaten table keeps every
    //  request that ever was one
    return en_db_rows (en_db_query (self->db,
        "SELECT r.id AS request_id, p.place, r.urgency, h.at FROM places p"
        " JOIN requests r ON r.id = p.request_id JOIN hiaten h ON h.request_id = r.id"
        " WHERE p.state = 'hiaat' AND p.peer IS NULL"
        " AND h.at >= CASE r.urgency WHEN 'crisis' THEN ?1 WHEN 'hoog' THEN ?2 ELSE ?3 END"
        " ORDER BY CASE r.urgency WHEN 'crisis' THEN 0 WHEN 'hoog' THEN 1 ELSE 2 END, h.at, p.place LIMIT ?4",
        "iiii", since [0], since [1], since [2], (int64_t) limit));
}

json_t *
en_bstore_hiaten_recent (en_bstore_t *self, int limit)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT h.request_id, h.at, h.region, h.urgency, h.question_type, h.expertise AS expertise_json,"
        " r.state FROM hiaten h JOIN requests r ON r.id = h.request_id ORDER BY h.at DESC LIMIT ?",
        "i", (int64_t) limit));
}

//  Rows of (key, count) as an object, in the rows' order
static json_t *
s_counted (sqlite3_stmt *stmt)
{
    json_t *counted = json_object ();
    while (stmt && sqlite3_step (stmt) == SQLITE_ROW)
        json_object_set_new (counted, (const char *) sqlite3_column_text (stmt, 0),
                             json_integer (sqlite3_column_int64 (stmt, 1)));
    if (stmt)
        sqlite3_reset (stmt);
    return counted;
}

json_t *
en_bstore_counts (en_bstore_t *self)
{
    //  From the counters (migration 12), not from the rows they count:
    //  a dozen rows read whatever the store holds. A state or urgency
    //  that no request has now is left out, as a count of rows would.
    json_t *counts = json_object ();
    json_object_set_new (counts, "requests_by_state", s_counted (en_db_query (self->db,
        "SELECT state, sum (n) FROM request_counts GROUP BY state HAVING sum (n) > 0 ORDER BY state", NULL)));
    json_object_set_new (counts, "open_by_urgency", s_counted (en_db_query (self->db,
        "SELECT urgency, sum (n) FROM request_counts WHERE state NOT IN " STATES_NOT_OPEN
        " GROUP BY urgency HAVING sum (n) > 0 ORDER BY urgency", NULL)));
    json_object_set_new (counts, "experts_by_role", s_counted (en_db_query (self->db,
        "SELECT role, count(*) FROM experts WHERE active GROUP BY role", NULL)));
    json_object_set_new (counts, "offers_open",
        json_integer (en_db_int (self->db, "SELECT count(*) FROM offers WHERE state = 'open'", NULL)));
    json_object_set_new (counts, "hiaten",
        json_integer (en_db_int (self->db, "SELECT n FROM store_counts WHERE name = 'hiaten'", NULL)));
    json_object_set_new (counts, "outbox",
        json_integer (en_outbox_depth (self->outbox, NULL)));
    return counts;
}

json_t *
en_bstore_requests_open (en_bstore_t *self, int limit)
{
    //  Most urgent first, then oldest first: what an operator must look at
    return en_db_rows (en_db_query (self->db,
        //  The open states by name (the complement of STATES_NOT_OPEN),
        //  so the state index finds them instead of a scan of all
        "SELECT " REQUEST_COLUMNS " FROM requests WHERE state IN " STATES_OPEN
        " ORDER BY CASE urgency WHEN 'crisis' THEN 0 WHEN 'hoog' THEN 1 ELSE 2 END, created LIMIT ?",
        "i", (int64_t) limit));
}

json_t *
en_bstore_chart_times (en_bstore_t *self, int64_t since)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT r.id, r.urgency, r.created,"
        " (SELECT min (e.at) FROM events e WHERE e.request_id = r.id"
        "   AND e.type IN ('offered', 'escalated')) - r.created AS first_offer_ms,"
        " (SELECT min (e.at) FROM events e WHERE e.request_id = r.id"
        "   AND e.type = 'accepted') - r.created AS accepted_ms"
        " FROM requests r WHERE r.created >= ? ORDER BY r.created LIMIT 5000",
        "i", since));
}

json_t *
en_bstore_chart_weeks (en_bstore_t *self, int64_t since)
{
    //  The Monday that starts each request's week, in local time (an ISO
    //  week runs Monday to Sunday: 'weekday 0' moves to the week's Sunday)
    return en_db_rows (en_db_query (self->db,
        "SELECT date (created / 1000, 'unixepoch', 'localtime', 'weekday 0', '-6 days') AS week,"
        " urgency, count(*) AS requests FROM requests WHERE created >= ?"
        " GROUP BY week, urgency ORDER BY week",
        "i", since));
}

int
en_bstore_operator_put (en_bstore_t *self, const char *name, const char *pwhash, bool replace, en_error_t *error)
{
    bool exists = en_db_int (self->db, "SELECT count(*) FROM operators WHERE name = ?", "s", name) > 0;
    if (exists && !replace)
        return en_error_set (error, EN_ERR_CONFLICT, "operator exists (give replace to set a new password)");
    if (!exists && replace)
        return en_error_set (error, EN_ERR_NOT_FOUND, "no such operator");
    int64_t now = en_now_ms ();
    if (en_db_exec (self->db,
            "INSERT INTO operators (name, pwhash, created, updated) VALUES (?1, ?2, ?3, ?3)"
            " ON CONFLICT (name) DO UPDATE SET pwhash = excluded.pwhash, updated = excluded.updated",
            "ssi", name, pwhash, now))
        return en_error_set (error, EN_ERR_INTERNAL, "store error");
    return 0;
}

json_t *
en_bstore_operator (en_bstore_t *self, const char *name)
{
    return en_db_one (en_db_query (self->db,
        "SELECT name, pwhash, created, updated FROM operators WHERE name = ?", "s", name));
}

json_t *
en_bstore_operators (en_bstore_t *self)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT o.name, o.created, o.updated,"
        " (SELECT count(*) FROM api_tokens t WHERE t.operator = o.name) AS tokens"
        " FROM operators o ORDER BY o.name", NULL));
}

//  Delete the one row sql names by key: 0, or -1 with error (404
//  `missing` when there was none, 500 a store error)
static int
s_delete_one (en_bstore_t *self, const char *sql, const char *key, const char *missing, en_error_t *error)
{
    if (en_db_exec (self->db, sql, "s", key))
        return en_error_set (error, EN_ERR_INTERNAL, "store error");
    if (sqlite3_changes (en_db_handle (self->db)) == 0)
        return en_error_set (error, EN_ERR_NOT_FOUND, "%s", missing);
    return 0;
}

int
en_bstore_operator_remove (en_bstore_t *self, const char *name, en_error_t *error)
{
    //  Its tokens go with it (ON DELETE CASCADE)
    return s_delete_one (self, "DELETE FROM operators WHERE name = ?", name, "no such operator", error);
}

int
en_bstore_token_add (en_bstore_t *self, const char *id, const char *operator_name, const char *hash)
{
    return en_db_exec (self->db,
        "INSERT INTO api_tokens (id, operator, hash, created) VALUES (?, ?, ?, ?)",
        "sssi", id, operator_name, hash, en_now_ms ());
}

json_t *
en_bstore_token_find (en_bstore_t *self, const char *hash)
{
    return en_db_one (en_db_query (self->db,
        "SELECT id, operator, created FROM api_tokens WHERE hash = ?", "s", hash));
}

json_t *
en_bstore_tokens (en_bstore_t *self)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT id, operator, created FROM api_tokens ORDER BY operator, created", NULL));
}

int
en_bstore_token_remove (en_bstore_t *self, const char *id, en_error_t *error)
{
    return s_delete_one (self, "DELETE FROM api_tokens WHERE id = ?", id, "no such token", error);
}

int
en_bstore_summary_put (en_bstore_t *self, const char *origin, json_t *body)
{
    char *summary = json_dumps (json_object_get (body, "summary") ?: json_object (), JSON_COMPACT | JSON_SORT_KEYS);
    char *phases = json_dumps (json_object_get (body, "phases"), JSON_COMPACT | JSON_SORT_KEYS);
    json_t *outcome_json = json_object_get (body, "outcome");
    char *outcome = outcome_json ? json_dumps (outcome_json, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    int rc = en_db_exec (self->db,
        "INSERT INTO summaries (origin, pseudonym, region, summary, phases, outcome, updated)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (origin, pseudonym) DO UPDATE SET region = excluded.region, summary = excluded.summary,"
        " phases = excluded.phases, outcome = excluded.outcome, updated = excluded.updated",
        "ssssssi", origin, en_json_str (body, "case"), en_json_str (body, "region"), summary, phases,
        outcome, en_now_ms ());
    free (summary);
    free (phases);
    free (outcome);
    return rc;
}

//  The report's view of a place (en_bstore_report_cases): its role (a
//  place of several allowed roles, a request of one place, is reported
//  under the role of the expert who took it, if any), and whether one of
//  its events was of the given types (events before the team migration
//  name no place: they are of place 1, the only one there was)
#define REPORT_PLACE_ROLE \
    "CASE json_array_length (p.roles) WHEN 1 THEN json_extract (p.roles, '$[0]')" \
    " ELSE (SELECT x.role FROM experts x WHERE x.id = p.expert) END"
#define REPORT_EVENT_OF_PLACE "(e.place = p.place OR (e.place IS NULL AND p.place = 1))"
//  A request's team for the report: {places, team_full, submitted}
#define REPORT_TEAM "json_object ('places', json (places_json), 'team_full', team_full, 'submitted', created)"
#define REPORT_PLACE_EVENT(types) \
    "EXISTS (SELECT 1 FROM events e WHERE e.request_id = r.id AND " REPORT_EVENT_OF_PLACE \
    " AND e.type IN (" types "))"

json_t *
en_bstore_report_cases (en_bstore_t *self)
{
    //  A case is a published summary, joined with the requests about it
    //  (first one's type, urgency and expertise; first accept; any
    //  hiaat); a request about no published case counts as a case of its own.
    return en_db_rows (en_db_query (self->db,
        "WITH first_accept AS (SELECT request_id, min (at) AS at FROM events WHERE type = 'accepted' GROUP BY request_id),"
        " req AS (SELECT r.*, json_extract (r.summary, '$.case') AS pseudonym, fa.at AS accepted_at,"
        "   EXISTS (SELECT 1 FROM hiaten h WHERE h.request_id = r.id) AS was_hiaat,"
        "   (SELECT min (e.at) FROM events e WHERE e.request_id = r.id AND e.type = 'closed') AS closed_at,"
        //  Follow-up: the first time it came back to the ET (review-due)
        "   (SELECT min (e.at) FROM events e WHERE e.request_id = r.id AND e.type = 'review-due') AS review_due_at,"
        //  Teams: each place's role, tags, whether it was ever filled and
        //  ever a hiaat; when the last place was first filled (NULL until
        //  every place was); whether a moreel beraad was held
        "   (SELECT json_group_array (json_object ('role', " REPORT_PLACE_ROLE ", 'expertise', json (p.expertise),"
        "       'filled', json (CASE WHEN " REPORT_PLACE_EVENT ("'accepted', 'advice'") " THEN 'true' ELSE 'false' END),"
        "       'hiaat', json (CASE WHEN " REPORT_PLACE_EVENT ("'hiaat'") " THEN 'true' ELSE 'false' END)))"
        "     FROM places p WHERE p.request_id = r.id) AS places_json,"
        "   (SELECT CASE WHEN count (*) > 1 AND count (f.at) = count (*) THEN max (f.at) END FROM"
        "     (SELECT (SELECT min (e.at) FROM events e WHERE e.request_id = r.id AND " REPORT_EVENT_OF_PLACE
        "       AND e.type IN ('accepted', 'advice')) AS at FROM places p WHERE p.request_id = r.id) f) AS team_full,"
        "   EXISTS (SELECT 1 FROM beraad b WHERE b.request_id = r.id AND b.held_at IS NOT NULL) AS beraad_held"
        "   FROM requests r LEFT JOIN first_accept fa ON fa.request_id = r.id"
        //  A request from another province is a case of that province's report
        "   WHERE r.origin NOT LIKE 'peer:%')"
        " SELECT s.region, s.summary AS summary_json, s.phases AS phases_json, s.outcome AS outcome_json,"
        "   (SELECT question_type FROM req WHERE req.pseudonym = s.pseudonym ORDER BY created LIMIT 1) AS question_type,"
        "   (SELECT urgency FROM req WHERE req.pseudonym = s.pseudonym ORDER BY created LIMIT 1) AS urgency,"
        "   (SELECT json_extract (summary, '$.expertise') FROM req WHERE req.pseudonym = s.pseudonym"
        "     ORDER BY created LIMIT 1) AS expertise_json,"
        "   (SELECT min (accepted_at) FROM req WHERE req.pseudonym = s.pseudonym) AS first_assignment,"
        "   (SELECT max (was_hiaat) FROM req WHERE req.pseudonym = s.pseudonym) AS hiaat,"
        "   (SELECT min (review_due_at) FROM req WHERE req.pseudonym = s.pseudonym) AS first_review,"
        //  The first request's places and times, in one look-up
        "   (SELECT " REPORT_TEAM " FROM req WHERE req.pseudonym = s.pseudonym ORDER BY created LIMIT 1) AS team_json,"
        "   (SELECT max (beraad_held) FROM req WHERE req.pseudonym = s.pseudonym) AS beraad_held"
        " FROM summaries s"
        " UNION ALL"
        " SELECT region, summary AS summary_json, json_object ('aanmelding', created, 'afgesloten', closed_at) AS phases_json,"
        "   NULL AS outcome_json, question_type, urgency, json_extract (summary, '$.expertise') AS expertise_json,"
        "   accepted_at AS first_assignment, was_hiaat AS hiaat, review_due_at AS first_review,"
        "   " REPORT_TEAM " AS team_json, beraad_held"
        " FROM req WHERE pseudonym IS NULL"
        "   OR NOT EXISTS (SELECT 1 FROM summaries s WHERE s.pseudonym = req.pseudonym AND s.origin = req.origin)",
        NULL));
}


//  --------------------------------------------------------------------
//  Federation: what routing with peer brokers (en_fedroute) and the
//  links (en_fed) keep; the SQL stays here with the rest of the broker's

json_t *
en_bstore_request_submit (en_bstore_t *self, const char *id)
{
    return en_db_one (en_db_query (self->db, "SELECT submit AS submit_json FROM requests WHERE id = ?", "s", id));
}

//  The request's peer, derived from its places': the first place's that
//  a peer holds (a request of one place: its place's), or NULL.
static int
s_request_peer (en_bstore_t *self, const char *request_id)
{
    return en_db_exec (self->db,
        "UPDATE requests SET peer = (SELECT p.peer FROM places p WHERE p.request_id = ?1 AND p.peer IS NOT NULL"
        " ORDER BY p.place LIMIT 1), updated = ?2 WHERE id = ?1", "si", request_id, en_now_ms ());
}

int
en_bstore_forward (en_bstore_t *self, const char *request_id, int64_t place, const char *peer, const char *msg_id)
{
    int64_t now = en_now_ms ();
    return en_db_exec (self->db,
        "INSERT INTO forwards (request_id, place, peer, msg_id, at, state) VALUES (?, ?, ?, ?, ?, 'open')"
        " ON CONFLICT (request_id, place, peer) DO UPDATE SET msg_id = excluded.msg_id, at = excluded.at,"
        " state = 'open'",
        "sissi", request_id, place, peer, msg_id, now)
        || en_db_exec (self->db, "UPDATE places SET peer = ?, expert = NULL, updated = ?"
                                 " WHERE request_id = ? AND place = ?", "sisi", peer, now, request_id, place)
        || s_request_peer (self, request_id);
}

int
en_bstore_forward_end (en_bstore_t *self, const char *request_id, int64_t place, const char *peer,
                       const char *state)
{
    return en_db_exec (self->db, "UPDATE forwards SET state = ? WHERE request_id = ? AND place = ? AND peer = ?",
                       "ssis", state, request_id, place, peer)
        //  A place the peer closed stays named after it; one it gave
        //  back (or refused, or that was recalled) is ours to route again
        || en_db_exec (self->db, "UPDATE places SET peer = NULL, updated = ?"
                                 " WHERE request_id = ? AND place = ? AND peer = ? AND ? <> 'closed'",
                       "isiss", en_now_ms (), request_id, place, peer, state)
        || s_request_peer (self, request_id);
}

json_t *
en_bstore_forwards (en_bstore_t *self, const char *request_id)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT place, peer, msg_id, at, state FROM forwards WHERE request_id = ? ORDER BY at, place",
        "s", request_id));
}

json_t *
en_bstore_forward_of (en_bstore_t *self, const char *request_id, int64_t place, const char *peer)
{
    return en_db_one (en_db_query (self->db,
        "SELECT request_id, place, peer, msg_id, at, state FROM forwards"
        " WHERE request_id = ?1 AND peer = ?3 AND (?2 = 0 OR place = ?2) ORDER BY at DESC, place LIMIT 1",
        "sis", request_id, place, peer));
}

json_t *
en_bstore_forward_by_msg (en_bstore_t *self, const char *peer, const char *msg_id)
{
    return en_db_one (en_db_query (self->db,
        "SELECT request_id, place, peer, msg_id, at, state FROM forwards WHERE msg_id = ? AND peer = ?",
        "ss", msg_id, peer));
}

int
en_bstore_relay_put (en_bstore_t *self, const char *peer, const char *msg_id, const char *request_id,
                     int64_t place, const char *command)
{
    return en_db_exec (self->db,
        "INSERT INTO relays (msg_id, peer, request_id, place, command, at) VALUES (?, ?, ?, ?, ?, ?)",
        "sssisi", msg_id, peer, request_id, place, command, en_now_ms ());
}

json_t *
en_bstore_relay_by_msg (en_bstore_t *self, const char *peer, const char *msg_id)
{
    return en_db_one (en_db_query (self->db,
        "SELECT msg_id, peer, request_id, place, command, at FROM relays WHERE peer = ? AND msg_id = ?",
        "ss", peer, msg_id));
}

int
en_bstore_relay_end (en_bstore_t *self, const char *peer, const char *msg_id)
{
    return en_db_exec (self->db, "DELETE FROM relays WHERE peer = ? AND msg_id = ?", "ss", peer, msg_id);
}

//  A relay matters while the peer may still refuse it: while its FORWARD
//  is in the outbox (a refusal comes as the answer to it). One the peer
//  took, older than before_ms, is done with.
int
en_bstore_relays_prune (en_bstore_t *self, int64_t before_ms)
{
    return en_db_exec (self->db,
        "DELETE FROM relays WHERE at < ? AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.msg_id = relays.msg_id)",
        "i", before_ms);
}

//  What this broker can serve itself: free places of present experts,
//  by role and sorted tag set. Bovenregionale procesregisseurs are left
//  out: they are their own province's escalation, not a national pool.
json_t *
en_bstore_advert_own (en_bstore_t *self, int64_t now)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT role, tagset, 1 AS hops, sum (free) AS free FROM ("
        "  SELECT e.role, ',' || coalesce ((SELECT group_concat (value, ',') FROM"
        "     (SELECT value FROM json_each (e.expertise) ORDER BY value)), '') || ',' AS tagset,"
        "    e.capacity - e.load - e.reserved AS free"
        "  FROM experts e WHERE e.active AND e.absent_until <= ?1 AND e.load + e.reserved < e.capacity"
        "  AND NOT (e.role = 'procesregisseur' AND e.bovenregionaal))"
        " GROUP BY role, tagset ORDER BY role, tagset", "i", now));
}

json_t *
en_bstore_advert_learned (en_bstore_t *self, const char *except_peer, int64_t max_hops)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT role, tagset, hops + 1 AS hops, sum (free) AS free FROM peer_adverts"
        " WHERE peer <> ?1 AND hops + 1 <= ?2 AND free > 0"
        " GROUP BY role, tagset, hops ORDER BY role, tagset, hops", "si", except_peer, max_hops));
}

int
en_bstore_advert_apply (en_bstore_t *self, const char *peer, const char *epoch, int64_t seq,
                        bool snapshot, json_t *entries)
{
    int rc = 0;
    if (snapshot)
        rc |= en_db_exec (self->db, "DELETE FROM peer_adverts WHERE peer = ?", "s", peer);
    size_t index;
    json_t *entry;
    json_array_foreach (entries, index, entry) {
        int64_t free_places = en_json_int (entry, "free", 0);
        if (free_places > 0)
            rc |= en_db_exec (self->db,
                "INSERT OR REPLACE INTO peer_adverts (peer, role, tagset, hops, free) VALUES (?, ?, ?, ?, ?)",
                "sssii", peer, en_json_str (entry, "role"), en_json_str (entry, "tagset"),
                en_json_int (entry, "hops", 1), free_places);
        else
            rc |= en_db_exec (self->db,
                "DELETE FROM peer_adverts WHERE peer = ? AND role = ? AND tagset = ? AND hops = ?",
                "sssi", peer, en_json_str (entry, "role"), en_json_str (entry, "tagset"),
                en_json_int (entry, "hops", 1));
    }
    rc |= en_db_exec (self->db,
        "INSERT INTO peer_state (peer, epoch, seq, updated) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (peer) DO UPDATE SET epoch = excluded.epoch, seq = excluded.seq, updated = excluded.updated",
        "ssii", peer, epoch, seq, en_now_ms ());
    return rc ? -1 : 0;
}

json_t *
en_bstore_peer_state (en_bstore_t *self, const char *peer)
{
    return en_db_one (en_db_query (self->db,
        "SELECT s.epoch, s.seq, s.updated,"
        "  (SELECT count(*) FROM peer_adverts a WHERE a.peer = s.peer) AS entries,"
        "  (SELECT coalesce (sum (free), 0) FROM peer_adverts a WHERE a.peer = s.peer AND a.hops = 1) AS free,"
        "  (SELECT coalesce (sum (free), 0) FROM peer_adverts a WHERE a.peer = s.peer AND a.hops > 1) AS free_learned"
        " FROM peer_state s WHERE s.peer = ?", "s", peer));
}

int64_t
en_bstore_advert_bound (en_bstore_t *self, const char *peer, bool learned, int64_t max_total)
{
    int64_t total = en_db_int (self->db,
        "SELECT coalesce (sum (free), 0) FROM peer_adverts WHERE peer = ? AND (hops > 1) = ?",
        "si", peer, (int64_t) learned);
    if (total > max_total
    &&  (en_db_exec (self->db, "UPDATE peer_adverts SET free = free * ?3 / ?4 WHERE peer = ?1 AND (hops > 1) = ?2",
                     "siii", peer, (int64_t) learned, max_total, total)
      || en_db_exec (self->db, "DELETE FROM peer_adverts WHERE peer = ? AND free <= 0", "s", peer)))
        return -1;
    return total;
}

json_t *
en_bstore_peer_forwards (en_bstore_t *self, const char *peer)
{
    return en_db_one (en_db_query (self->db,
        "SELECT count(*) AS forwards,"
        "  coalesce (sum (state IN ('returned', 'refused')), 0) AS returned"
        " FROM forwards WHERE peer = ?", "s", peer));
}

json_t *
en_bstore_peer_candidates (en_bstore_t *self, json_t *request, const char **roles,
                           json_t *exclude, int64_t max_hops, bool again)
{
    char *tags = json_dumps (json_object_get (request, "expertise"), JSON_COMPACT);
    json_t *role_list = json_array ();
    for (; roles && *roles; roles++)
        json_array_append_new (role_list, json_string (*roles));
    char *role_text = json_dumps (role_list, JSON_COMPACT);
    char *exclude_text = json_dumps (exclude, JSON_COMPACT);
    json_decref (role_list);
    json_t *rows = en_db_rows (en_db_query (self->db,
        "SELECT peer, min (hops) AS hops, sum (free) AS free FROM peer_adverts a"
        " WHERE free > 0 AND hops <= ?1 AND role IN (SELECT value FROM json_each (?2))"
        " AND NOT EXISTS (SELECT 1 FROM json_each (?3) t WHERE instr (a.tagset, ',' || t.value || ',') = 0)"
        " AND peer NOT IN (SELECT value FROM json_each (?4))"
        //  Tried for this place before (per place: a peer holding another
        //  place of the request takes this one too, EXPN/3)
        " AND peer NOT IN (SELECT peer FROM forwards WHERE request_id = ?5 AND place = ?7"
        "                  AND (NOT ?6 OR state IN ('returned', 'refused')))"
        " GROUP BY peer ORDER BY min (hops), sum (free) DESC, peer",
        "issssii", max_hops, role_text, tags, exclude_text, en_json_str (request, "id"), (int64_t) again,
        en_json_int (request, "place", 1)));
    free (tags);
    free (role_text);
    free (exclude_text);
    return rows;
}

//  --------------------------------------------------------------------
//  Conversations (en_convo)

int
en_bstore_convo_key_put (en_bstore_t *self, const char *request_id, const char *team_key)
{
    return en_db_exec (self->db, "INSERT OR REPLACE INTO convo_keys (request_id, team_key) VALUES (?, ?)",
                       "ss", request_id, team_key);
}

json_t *
en_bstore_convo_participants (en_bstore_t *self, const char *request_id)
{
    //  The team (the origin, with its key from SUBMIT) and every expert
    //  whose offer of the request was accepted, as long as that place is
    //  theirs and not closed (an operator may close one place: its expert
    //  leaves, as en_bstore_participants says); none once it is closed
    return en_db_rows (en_db_query (self->db,
        "SELECT 'team' AS who, r.origin AS node, k.team_key AS box_key FROM requests r"
        "  JOIN convo_keys k ON k.request_id = r.id WHERE r.id = ?1 AND r.state != 'closed'"
        " UNION ALL"
        " SELECT o.expert AS who, o.node AS node, e.box_key AS box_key FROM offers o"
        "  JOIN requests r ON r.id = o.request_id LEFT JOIN experts e ON e.id = o.expert"
        "  JOIN places p ON p.request_id = o.request_id AND p.place = o.place"
        "  WHERE o.request_id = ?1 AND o.state = 'accepted' AND r.state != 'closed' AND e.box_key IS NOT NULL"
        "  AND p.state <> 'closed' AND p.expert = o.expert"
        " UNION ALL"
        " SELECT p.expert AS who, 'peer:' || p.peer AS node, p.box_key AS box_key FROM places p"
        "  JOIN requests r ON r.id = p.request_id"
        "  WHERE p.request_id = ?1 AND p.peer IS NOT NULL AND p.expert IS NOT NULL AND p.box_key IS NOT NULL"
        "  AND p.state IN ('accepted', 'advice', 'monitoring') AND r.state != 'closed'"
        " ORDER BY who", "s", request_id));
}

int
en_bstore_place_box_key_put (en_bstore_t *self, const char *request_id, int64_t place, const char *box_key)
{
    return en_db_exec (self->db, "UPDATE places SET box_key = ? WHERE request_id = ? AND place = ?", "ssi",
                       box_key, request_id, place);
}

json_t *
en_bstore_convo_place_experts (en_bstore_t *self, const char *request_id)
{
    //  Closed or not: the end of a conversation (MEMBERS []) reaches them
    return en_db_rows (en_db_query (self->db,
        "SELECT DISTINCT o.expert AS who, o.node AS node FROM offers o"
        " JOIN places p ON p.request_id = o.request_id AND p.place = o.place"
        " WHERE o.request_id = ? AND o.state = 'accepted' AND p.expert = o.expert ORDER BY who", "s", request_id));
}

json_t *
en_bstore_convo_of_node (en_bstore_t *self, const char *node)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT DISTINCT o.request_id AS id FROM offers o JOIN convo_members m ON m.request_id = o.request_id"
        " WHERE o.node = ? AND o.state = 'accepted' AND m.members != '[]'", "s", node));
}

json_t *
en_bstore_convo_members (en_bstore_t *self, const char *request_id)
{
    char *text = en_db_text (self->db, "SELECT members FROM convo_members WHERE request_id = ?", "s", request_id);
    json_t *members = text ? json_loads (text, 0, NULL) : NULL;
    free (text);
    return members ? members : json_array ();
}

int
en_bstore_convo_members_put (en_bstore_t *self, const char *request_id, json_t *members)
{
    char *text = json_dumps (members, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = text ? en_db_exec (self->db,
        "INSERT OR REPLACE INTO convo_members (request_id, members) VALUES (?, ?)", "ss", request_id, text) : -1;
    free (text);
    return rc;
}

int64_t
en_bstore_convo_append (en_bstore_t *self, const char *request_id, const char *sender, const char *kind,
                        int64_t at, const char *digest, const char *msg_id)
{
    int64_t seq = en_db_int (self->db,
        "SELECT coalesce (max (seq), 0) + 1 FROM convo_messages WHERE request_id = ?", "s", request_id);
    if (en_db_exec (self->db,
            "INSERT INTO convo_messages (request_id, seq, sender, kind, at, digest, msg_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            "sississ", request_id, seq, sender, kind, at, digest, msg_id))
        return -1;
    return seq;
}

json_t *
en_bstore_convo_messages (en_bstore_t *self, const char *request_id)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT seq, sender, kind, at, digest FROM convo_messages WHERE request_id = ? ORDER BY seq",
        "s", request_id));
}

json_t *
en_bstore_convo_message (en_bstore_t *self, const char *request_id, int64_t seq)
{
    return en_db_one (en_db_query (self->db,
        "SELECT seq, sender, kind, at FROM convo_messages WHERE request_id = ? AND seq = ?", "si",
        request_id, seq));
}

int
en_bstore_convo_receipt_put (en_bstore_t *self, const char *request_id, int64_t seq, const char *reader,
                             int64_t at, bool *fresh)
{
    int rc = en_db_exec (self->db,
        "INSERT OR IGNORE INTO convo_receipts (request_id, seq, reader, at) VALUES (?, ?, ?, ?)",
        "sisi", request_id, seq, reader, at);
    *fresh = rc == 0 && sqlite3_changes (en_db_handle (self->db)) > 0;
    return rc;
}

//  Follow-up (en_followup): review dates, by the partial indexes of the
//  follow-up migration

int
en_bstore_review_set (en_bstore_t *self, const char *request_id, int64_t review_at)
{
    return en_db_exec (self->db,
        "UPDATE requests SET review_at = ?, review_pending = 1, updated = ? WHERE id = ?",
        "iis", review_at, en_now_ms (), request_id);
}

json_t *
en_bstore_reviews_due (en_bstore_t *self, int64_t now, int limit)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT id, review_at FROM requests WHERE review_pending = 1 AND review_at <= ?"
        " ORDER BY review_at LIMIT ?", "ii", now, (int64_t) limit));
}

int
en_bstore_review_fired (en_bstore_t *self, const char *request_id)
{
    return en_db_exec (self->db,
        "UPDATE requests SET review_pending = 0 WHERE id = ? AND review_pending = 1", "s", request_id);
}

json_t *
en_bstore_reviews_overdue (en_bstore_t *self, int64_t now, int limit)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT id, region, urgency, question_type, state, review_at FROM requests"
        " WHERE review_at IS NOT NULL AND state <> 'closed' AND review_at <= ?"
        " ORDER BY review_at LIMIT ?", "ii", now, (int64_t) limit));
}

json_t *
en_bstore_participants (en_bstore_t *self, const char *request_id)
{
    //  An accepted offer stays accepted when an operator closes its
    //  place: the place says whether its expert still takes part
    return en_db_rows (en_db_query (self->db,
        "SELECT o.id, o.request_id, o.place, o.expert, o.node, o.kind, o.state, o.created, o.deadline,"
        " o.answered, o.reason FROM offers o INDEXED BY offers_request"
        " JOIN places p ON p.request_id = o.request_id AND p.place = o.place"
        " WHERE o.request_id = ? AND o.state = 'accepted' AND p.state <> 'closed' AND p.expert = o.expert"
        " ORDER BY o.created", "s", request_id));
}

json_t *
en_bstore_beraad (en_bstore_t *self, const char *request_id)
{
    return en_db_one (en_db_query (self->db,
        "SELECT request_id, times AS times_json, fixed_at, held_at, updated FROM beraad WHERE request_id = ?",
        "s", request_id));
}

int
en_bstore_beraad_put (en_bstore_t *self, const char *request_id, json_t *times, int64_t fixed_at,
                      int64_t held_at)
{
    char *text = json_dumps (times, JSON_COMPACT);
    int rc = en_db_exec (self->db,
        "INSERT INTO beraad (request_id, times, fixed_at, held_at, updated)"
        " VALUES (?1, ?2, nullif (?3, 0), nullif (?4, 0), ?5)"
        " ON CONFLICT (request_id) DO UPDATE SET times = excluded.times, fixed_at = excluded.fixed_at,"
        " held_at = excluded.held_at, updated = excluded.updated",
        "ssiii", request_id, text, fixed_at, held_at, en_now_ms ());
    free (text);
    return rc;
}
