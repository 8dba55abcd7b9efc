/*  en_nstore - the region node's SQLite store.

    This module owns every SQL statement of the node's database.
    Schema (migration 1):

      requests        consult requests this node submitted; state mirrors
                      the broker's (via STATUS), plus 'queued' (not yet
                      acknowledged) and 'rejected' (refused by the broker)
      request_events  their timeline as this node learned it
      experts         this region's experts (the node publishes them)
      offers          offers received for this region's experts, with the
                      expert's answer and whether the broker confirmed it
      outbox, seen    (en_outbox) reliable delivery and dedup
      cases           (3) the case register: pseudonym -> identifying data
                      sealed with the vault's data key (en_vault)
      audit           (4) the hash-chained access log (en_audit)
      expert_contacts (7) an expert's e-mail address and phone number:
                      node-local, never in the expert record that is
                      published to the broker
      notifications   (7) the durable notification queue (en_notify):
                      one row per message per recipient, written in the
                      transaction of the event that causes it
      expert_keys     (5, 8) each expert's box key pair: the secret sealed
                      with the vault until the expert has an account, then
                      only wrapped by the person (en_keywrap): once with
                      the password, once with the recovery code
      users           (8) per-person accounts: role, Argon2id password
                      hash, TOTP secret sealed with the vault
      store_identity  (10) this store's random id (en_db)
      broker_store    (10) the broker's store id as learned from WELCOME,
                      and the one before it when it changed: a broker
                      that lost its store is noticed, and is handed again
                      the open requests it no longer knows
*/
#include "en_nstore.h"

struct _en_nstore_t {
    en_db_t *db;                //  the database
    en_outbox_t *outbox;        //  durable outbox in the same database
};

static const char *s_migrations [] = {
    "CREATE TABLE requests ("
    "  id TEXT PRIMARY KEY,"
    "  summary TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  expert TEXT,"
    "  advice TEXT,"
    "  error TEXT,"
    "  submit_msg TEXT NOT NULL,"
    "  close_msg TEXT,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL);"
    "CREATE INDEX requests_submit ON requests (submit_msg);"
    "CREATE TABLE request_events ("
    "  seq INTEGER PRIMARY KEY,"
    "  request_id TEXT NOT NULL REFERENCES requests (id),"
    "  at INTEGER NOT NULL,"
    "  event TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  expert TEXT,"
    "  detail TEXT);"
    "CREATE INDEX request_events_id ON request_events (request_id, seq);"
    "CREATE TABLE experts ("
    "  id TEXT PRIMARY KEY,"
    "  record TEXT NOT NULL,"
    "  updated INTEGER NOT NULL);"
    "CREATE TABLE offers ("
    "  id TEXT PRIMARY KEY,"
    "  request_id TEXT NOT NULL,"
    "  expert TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  deadline INTEGER NOT NULL,"
    "  request TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  received INTEGER NOT NULL,"
    "  answer TEXT,"
    "  answer_msg TEXT,"
    "  answer_status TEXT,"
    "  answer_error TEXT,"
    "  updated INTEGER NOT NULL);"
    "CREATE INDEX offers_expert ON offers (expert, state);"
    "CREATE INDEX offers_answer ON offers (answer_msg);"
    EN_OUTBOX_SCHEMA,
    //  2: digest of each processed message (signed content)
    EN_SEEN_DIGEST_MIGRATION,
    //  3: the case register: identifying data sealed with the vault's data
    //  key, found by the case's pseudonym; never in any message
    "CREATE TABLE cases ("
    "  pseudonym TEXT PRIMARY KEY,"
    "  sealed TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL);",
    //  4: the access log (en_audit)
    EN_AUDIT_SCHEMA,
    //  5: dossiers. The origin keeps a request's detailed dossier sealed
    //  with the vault (requests.dossier) until an expert accepts; the
    //  expert's node keeps what it received sealed to the expert
    //  (offers.dossier). Each expert's box key pair: the secret sealed
    //  with the vault.
    "ALTER TABLE requests ADD COLUMN dossier TEXT;"
    "ALTER TABLE requests ADD COLUMN dossier_sent TEXT;"
    "ALTER TABLE offers ADD COLUMN dossier TEXT;"
    "CREATE TABLE expert_keys ("
    "  expert TEXT PRIMARY KEY,"
    "  box_public TEXT NOT NULL,"
    "  box_secret TEXT NOT NULL);",
    //  6: a case's anonymized summary and phases, published to the broker
    //  for the rode draden report
    "ALTER TABLE cases ADD COLUMN summary TEXT NOT NULL DEFAULT '{}';"
    "ALTER TABLE cases ADD COLUMN phases TEXT NOT NULL DEFAULT '{}';"
    "ALTER TABLE cases ADD COLUMN outcome TEXT;",
    //  7: notifications that reach people (en_notify). Contacts live in
    //  their own table so the expert record, which is published, never
    //  holds them. offers.reminded: a reminder was considered (queued or
    //  nobody to tell), so it is never queued twice.
    "CREATE TABLE expert_contacts ("
    "  expert TEXT PRIMARY KEY,"
    "  email TEXT,"
    "  phone TEXT,"
    "  updated INTEGER NOT NULL);"
    "CREATE TABLE notifications ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  channel TEXT NOT NULL,"
    "  recipient TEXT NOT NULL,"
    "  expert TEXT,"
    "  offer TEXT,"
    "  request TEXT,"
    "  urgency TEXT,"
    "  deadline INTEGER,"
    "  link TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  message_id TEXT NOT NULL UNIQUE,"
    "  state TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_try INTEGER NOT NULL,"
    "  last_error TEXT,"
    "  created INTEGER NOT NULL,"
    "  sent INTEGER);"
    "CREATE INDEX notifications_due ON notifications (state, next_try);"
    "ALTER TABLE offers ADD COLUMN reminded INTEGER NOT NULL DEFAULT 0;",
    //  8: per-person accounts (medewerker, expert, beheerder). An expert
    //  account is bound to one expert of this node. The expert's box
    //  secret is then kept only wrapped by that person (en_keywrap JSON,
    //  password and recovery code); box_secret, the vault-sealed copy,
    //  is NULL from then on, so the server cannot open a dossier.
    "CREATE TABLE users ("
    "  name TEXT PRIMARY KEY,"
    "  role TEXT NOT NULL CHECK (role IN ('medewerker', 'expert', 'beheerder')),"
    "  expert TEXT UNIQUE,"
    "  pwhash TEXT NOT NULL,"
    "  totp TEXT,"
    "  email TEXT,"
    "  phone TEXT,"
    "  created INTEGER NOT NULL,"
    "  last_login INTEGER,"
    "  totp_step INTEGER,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  CHECK ((role = 'expert') = (expert IS NOT NULL)));"
    "CREATE TABLE expert_keys_7 ("
    "  expert TEXT PRIMARY KEY,"
    "  box_public TEXT NOT NULL,"
    "  box_secret TEXT,"
    "  wrap_password TEXT,"
    "  wrap_recovery TEXT,"
    "  CHECK (box_secret IS NOT NULL OR (wrap_password IS NOT NULL AND wrap_recovery IS NOT NULL)));"
    "INSERT INTO expert_keys_7 (expert, box_public, box_secret)"
    "  SELECT expert, box_public, box_secret FROM expert_keys;"
    "DROP TABLE expert_keys;"
    "ALTER TABLE expert_keys_7 RENAME TO expert_keys;",
    //  9: a reply of the requesting team to an advice, sealed to the
    //  accepting expert like the dossier. The origin keeps that expert's
    //  box key (from STATUS accepted) to seal to; the expert's node keeps
    //  what arrived, per offer, in order.
    "ALTER TABLE requests ADD COLUMN box_key TEXT;"
    "CREATE TABLE offer_replies ("
    "  seq INTEGER PRIMARY KEY,"
    "  offer_id TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  sealed TEXT NOT NULL);"
    "CREATE INDEX offer_replies_offer ON offer_replies (offer_id, seq);",
    //  10: this store's identity; the broker's, as learned
    EN_DB_IDENTITY_SCHEMA
    "CREATE TABLE broker_store ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  store_id TEXT NOT NULL,"
    "  learned INTEGER NOT NULL,"
    "  previous TEXT,"
    "  changed INTEGER,"
    "  resubmitted INTEGER NOT NULL DEFAULT 0);",
    //  (team) the places of our requests (EXPN/3, a team of experts):
    //  each place's roles and tags, its state and expert as the broker's
    //  STATUS said, the accepting expert's box key, and the DOSSIER sealed
    //  to that expert (once per place). Every request there is gets its
    //  one place; offers and events name their place.
    "CREATE TABLE request_places ("
    "  request_id TEXT NOT NULL REFERENCES requests (id),"
    "  place INTEGER NOT NULL,"
    "  roles TEXT NOT NULL,"
    "  expertise TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  expert TEXT,"
    "  box_key TEXT,"
    "  dossier_sent TEXT,"
    "  updated INTEGER NOT NULL,"
    "  PRIMARY KEY (request_id, place)) WITHOUT ROWID;"
    "INSERT INTO request_places (request_id, place, roles, expertise, state, expert, box_key, dossier_sent, updated)"
    "  SELECT id, 1, CASE json_extract (summary, '$.question_type') WHEN 'procesregie' THEN '[\"procesregisseur\"]'"
    "    WHEN 'moreel-beraad' THEN '[\"ervaringsdeskundige\",\"superexpert\"]'"
    "    WHEN 'organiseren-hulp' THEN '[\"procesregisseur\",\"superexpert\"]'"
    "    WHEN 'overbruggingsfinanciering' THEN '[\"procesregisseur\"]' ELSE '[\"superexpert\"]' END,"
    "    coalesce (json_extract (summary, '$.expertise'), '[]'), state, expert, box_key, dossier_sent, updated"
    "  FROM requests;"
    "ALTER TABLE request_events ADD COLUMN place INTEGER;"
    "ALTER TABLE offers ADD COLUMN place INTEGER NOT NULL DEFAULT 1;",
    //  (convo) A conversation per request (en_node_convo): the team's box
    //  key pair per request (secret sealed with the vault's data key);
    //  the participants and their keys as the broker last told
    //  (MEMBERS); what was written here until the broker took it (or
    //  refused it, and why); each message once per (request, seq) with the
    //  ciphertext of each of this node's recipients, and when that one
    //  read it; read receipts. (The dossier is released once per place:
    //  request_places.dossier_sent.)
    //  (IF NOT EXISTS: a store set back by hand to an earlier version,
    //  as test_dashboard does, still opens)
    "CREATE TABLE IF NOT EXISTS convo_team_keys ("
    "  request_id TEXT PRIMARY KEY,"
    "  box_public TEXT NOT NULL,"
    "  box_secret TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS convo_members ("
    "  request_id TEXT NOT NULL,"
    "  who TEXT NOT NULL,"
    "  box_key TEXT NOT NULL,"
    "  PRIMARY KEY (request_id, who)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS convo_messages ("
    "  request_id TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  sender TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  received INTEGER NOT NULL,"
    "  box TEXT NOT NULL,"
    "  PRIMARY KEY (request_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS convo_copies ("
    "  request_id TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  recipient TEXT NOT NULL,"
    "  sealed TEXT NOT NULL,"
    "  read_at INTEGER,"
    "  PRIMARY KEY (request_id, seq, recipient)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS convo_receipts ("
    "  request_id TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  reader TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY (request_id, seq, reader)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS convo_sent ("
    "  msg_id TEXT PRIMARY KEY,"
    "  request_id TEXT NOT NULL,"
    "  sender TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  queued INTEGER NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'queued',"
    "  error TEXT) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS convo_sent_request ON convo_sent (request_id, state);",
    //  Follow-up (issue 13, en_node_followup): the review date ("terug op
    //  ET", ms) of a request, as the broker confirmed it in STATUS
    //  monitoring; the portal's list of overdue reviews reads it by index.
    "ALTER TABLE requests ADD COLUMN review_at INTEGER;"
    "CREATE INDEX requests_review ON requests (review_at) WHERE review_at IS NOT NULL;",
    //  Moreel beraad (en_node_followup): at an expert's offer the times
    //  the team proposed and the one fixed; at the team's request its own
    //  note of the outcome, sealed with the data key, never sent
    "ALTER TABLE offers ADD COLUMN beraad_times TEXT;"
    "ALTER TABLE offers ADD COLUMN beraad_at INTEGER;"
    "ALTER TABLE requests ADD COLUMN beraad_outcome TEXT;"
    //  The team's REVIEW and BERAAD messages until the broker answers: a
    //  refusal becomes an event of the request, so the team sees it
    "CREATE TABLE followup_msgs ("
    "  msg_id TEXT PRIMARY KEY,"
    "  request_id TEXT NOT NULL,"
    "  what TEXT NOT NULL) WITHOUT ROWID;",
    //  Moreel beraad: when it was held, as the broker told a participant
    //  (BERAAD held), kept with the expert's offer (the fact and the date
    //  only: the outcome stays at the team)
    "ALTER TABLE offers ADD COLUMN beraad_held_at INTEGER;",
    NULL
};

en_nstore_t *
en_nstore_new (const char *path, en_error_t *error)
{
    en_db_t *db = en_db_new (path, s_migrations, error);
    if (!db)
        return NULL;
    en_nstore_t *self = (en_nstore_t *) zmalloc (sizeof (en_nstore_t));
    assert (self);
    self->db = db;
    self->outbox = en_outbox_new (db);
    //  Deleted content is overwritten (a vault-sealed expert key replaced
    //  by its wraps, a removed account's hash)
    sqlite3_exec (en_db_handle (db), "PRAGMA secure_delete = ON", NULL, NULL, NULL);
    return self;
}

void
en_nstore_destroy (en_nstore_t **self_p)
{
    assert (self_p);
    en_nstore_t *self = *self_p;
    if (self) {
        en_outbox_destroy (&self->outbox);
        en_db_destroy (&self->db);
        free (self);
        *self_p = NULL;
    }
}

en_db_t *en_nstore_db (en_nstore_t *self) { return self->db; }
en_outbox_t *en_nstore_outbox (en_nstore_t *self) { return self->outbox; }


static int
s_event (en_nstore_t *self, const char *request_id, int64_t at, const char *event,
         const char *state, const char *expert, const char *detail)
{
    return en_db_exec (self->db,
        "INSERT INTO request_events (request_id, at, event, state, expert, detail) VALUES (?, ?, ?, ?, ?, ?)",
        "sissss", request_id, at, event, state, expert, detail);
}

//  Whether the last write changed a row
static bool
s_changed (en_nstore_t *self)
{
    return sqlite3_changes (en_db_handle (self->db)) > 0;
}

int
en_nstore_request_insert (en_nstore_t *self, json_t *summary, const char *msg_id, en_error_t *error)
{
    const char *id = en_json_str (summary, "id");
    if (en_db_int (self->db, "SELECT count(*) FROM requests WHERE id = ?", "s", id))
        return en_error_set (error, EN_ERR_CONFLICT, "request id '%s' already exists", id);
    char *text = json_dumps (summary, JSON_COMPACT | JSON_SORT_KEYS);
    int64_t now = en_now_ms ();
    int rc = en_db_exec (self->db,
        "INSERT INTO requests (id, summary, state, submit_msg, created, updated) VALUES (?, ?, 'queued', ?, ?, ?)",
        "sssii", id, text, msg_id, now, now)
        || s_event (self, id, now, "queued", "queued", NULL, NULL);
    free (text);
    json_t *places = en_request_places (summary);
    size_t index;
    json_t *place;
    json_array_foreach (places, index, place) {
        char *roles = json_dumps (json_object_get (place, "roles"), JSON_COMPACT);
        char *tags = json_dumps (json_object_get (place, "expertise"), JSON_COMPACT);
        rc |= en_db_exec (self->db,
            "INSERT INTO request_places (request_id, place, roles, expertise, state, updated)"
            " VALUES (?, ?, ?, ?, 'queued', ?)", "sissi", id, en_json_int (place, "place", 0), roles, tags, now);
        free (roles);
        free (tags);
    }
    json_decref (places);
    return rc ? en_error_set (error, EN_ERR_INTERNAL, "could not store request '%s'", id) : 0;
}

#define REQUEST_COLUMNS "id, summary AS summary_json, state, expert, advice, error, created, updated, review_at"

json_t *
en_nstore_request (en_nstore_t *self, const char *id)
{
    json_t *request = en_db_one (en_db_query (self->db,
        "SELECT " REQUEST_COLUMNS " FROM requests WHERE id = ?", "s", id));
    if (request)
        json_object_set_new (request, "events", en_db_rows (en_db_query (self->db,
            "SELECT at, event, state, expert, detail, place FROM request_events WHERE request_id = ? ORDER BY seq",
            "s", id)));
    if (request)
        json_object_set_new (request, "places", en_db_rows (en_db_query (self->db,
            "SELECT place, roles AS roles_json, expertise AS expertise_json, state, expert, updated"
            " FROM request_places WHERE request_id = ? ORDER BY place", "s", id)));
    return request;
}

json_t *
en_nstore_requests (en_nstore_t *self, const char *state, int limit)
{
    if (state)
        return en_db_rows (en_db_query (self->db,
            "SELECT " REQUEST_COLUMNS " FROM requests WHERE state = ? ORDER BY created DESC LIMIT ?",
            "si", state, (int64_t) limit));
    return en_db_rows (en_db_query (self->db,
        "SELECT " REQUEST_COLUMNS " FROM requests ORDER BY created DESC LIMIT ?", "i", (int64_t) limit));
}

json_t *
en_nstore_requests_unknown_to_new_store (en_nstore_t *self)
{
    //  Queued ones are still in the outbox (re-sent whole after WELCOME);
    //  closed, rejected and closing ones must not be opened again
    return en_db_rows (en_db_query (self->db,
        "SELECT id, summary AS summary_json, state FROM requests"
        " WHERE state NOT IN ('queued', 'closed', 'rejected') AND close_msg IS NULL ORDER BY created", NULL));
}

int
en_nstore_request_resubmitted (en_nstore_t *self, const char *id, const char *msg_id, const char *store_id)
{
    char detail [128];
    snprintf (detail, sizeof detail, "re-sent to the broker's new store %.32s (message %.32s)", store_id, msg_id);
    const char *state = NULL;
    char *current = en_db_text (self->db, "SELECT state FROM requests WHERE id = ?", "s", id);
    state = current ? current : "submitted";
    int rc = s_event (self, id, en_now_ms (), "resubmitted", state, NULL, detail);
    free (current);
    return rc;
}

json_t *
en_nstore_broker_store (en_nstore_t *self)
{
    return en_db_one (en_db_query (self->db,
        "SELECT store_id, learned, previous, changed, resubmitted FROM broker_store WHERE id = 1", NULL));
}

int
en_nstore_broker_store_set (en_nstore_t *self, const char *store_id, bool changed)
{
    int64_t now = en_now_ms ();
    if (!changed)
        return en_db_exec (self->db,
            "INSERT INTO broker_store (id, store_id, learned) VALUES (1, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET store_id = excluded.store_id", "si", store_id, now);
    return en_db_exec (self->db,
        "UPDATE broker_store SET previous = store_id, store_id = ?, learned = ?, changed = ?, resubmitted = -1"
        " WHERE id = 1", "sii", store_id, now, now);
}

int
en_nstore_broker_store_resubmitted (en_nstore_t *self, int64_t count)
{
    return en_db_exec (self->db, "UPDATE broker_store SET resubmitted = ? WHERE id = 1", "i", count);
}

//  What a STATUS says of a place: the place it names (EXPN/3) moves to
//  place_state, its expert kept from acceptance on; a STATUS without a
//  place (a change of the whole request: a close, a review) moves the
//  one place of a one-place request, and every place of a team still
//  open when the request is closed or in monitoring.
static int
s_place_status (en_nstore_t *self, json_t *status, int64_t at)
{
    const char *id = en_json_str (status, "request");
    const char *state = en_json_str (status, "place_state") ?: en_json_str (status, "state");
    int64_t place = en_json_int (status, "place", 0);
    if (place == 0 && en_db_int (self->db, "SELECT count(*) FROM request_places WHERE request_id = ?", "s", id) == 1)
        place = 1;
    //  A change of a team as a whole (a close, a review date) moves every
    //  place still open to it; the others (a beraad's note) move none
    const char *whole = en_json_str (status, "state");
    if (place == 0)
        return streq (whole, "closed") || streq (whole, "monitoring")
             ? en_db_exec (self->db, "UPDATE request_places SET state = ?, updated = ?"
                                     " WHERE request_id = ? AND state <> 'closed'", "sis", whole, at, id) : 0;
    return en_db_exec (self->db,
        "UPDATE request_places SET state = ?1, updated = ?2,"
        " expert = CASE WHEN ?1 IN ('accepted', 'advice', 'monitoring', 'closed') THEN coalesce (?3, expert) ELSE NULL END,"
        " box_key = CASE WHEN ?1 = 'accepted' THEN coalesce (?4, box_key) ELSE box_key END"
        " WHERE request_id = ?5 AND place = ?6",
        "sisssi", state, at, en_json_str (status, "expert"), en_json_str (status, "box_key"), id, place);
}

int
en_nstore_request_status (en_nstore_t *self, json_t *status, en_error_t *error)
{
    const char *id = en_json_str (status, "request");
    const char *state = en_json_str (status, "state");
    const char *expert = en_json_str (status, "expert");
    const char *advice = en_json_str (status, "advice");
    int64_t at = en_json_int (status, "at", en_now_ms ());
    if (!en_db_int (self->db, "SELECT count(*) FROM requests WHERE id = ?", "s", id))
        return en_error_set (error, EN_ERR_NOT_FOUND, "unknown request '%s'", id);
    int rc = s_place_status (self, status, at);
    rc = rc || en_db_exec (self->db,
        "UPDATE requests SET state = ?, updated = ?,"
        " expert = CASE WHEN ? IN ('accepted', 'advice', 'monitoring', 'closed') THEN coalesce (?, expert) ELSE NULL END,"
        " box_key = CASE WHEN ? = 'accepted' THEN coalesce (?, box_key) ELSE box_key END,"
        " advice = coalesce (?, advice) WHERE id = ?",
        "sissssss", state, at, state, expert, state, en_json_str (status, "box_key"), advice, id)
        || s_event (self, id, at, en_json_str (status, "event"), state, expert,
                    advice ? "advice received" : en_json_str (status, "detail"))
        || en_db_exec (self->db, "UPDATE request_events SET place = nullif (?, 0) WHERE seq = last_insert_rowid ()",
                       "i", en_json_int (status, "place", 0)) ? -1 : 0;
    return rc ? en_error_set (error, EN_ERR_INTERNAL, "could not store the status of request '%s'", id) : 0;
}

char *
en_nstore_request_of_submit (en_nstore_t *self, const char *msg_id)
{
    return en_db_text (self->db, "SELECT id FROM requests WHERE submit_msg = ?", "s", msg_id);
}

char *
en_nstore_offer_of_answer (en_nstore_t *self, const char *msg_id)
{
    return en_db_text (self->db, "SELECT id FROM offers WHERE answer_msg = ?", "s", msg_id);
}

//  A follow-up message (en_nstore_followup_sent) answered: refused, an
//  event "refused" of its request saying what and why
static int
s_followup_result (en_nstore_t *self, const char *msg_id, int code, const char *reason, int64_t now)
{
    json_t *row = en_db_one (en_db_query (self->db,
        "SELECT f.request_id, f.what, r.state FROM followup_msgs f JOIN requests r ON r.id = f.request_id"
        " WHERE f.msg_id = ?", "s", msg_id));
    if (!row)
        return 0;
    char detail [600];
    snprintf (detail, sizeof detail, "%s refused by the broker: %s", en_json_str (row, "what"), reason ?: "");
    int rc = (code && s_event (self, en_json_str (row, "request_id"), now, "refused", en_json_str (row, "state"),
                               NULL, detail))
          || en_db_exec (self->db, "DELETE FROM followup_msgs WHERE msg_id = ?", "s", msg_id);
    json_decref (row);
    return rc ? -1 : 0;
}

int
en_nstore_message_result (en_nstore_t *self, const char *msg_id, int code, const char *reason)
{
    int64_t now = en_now_ms ();
    int rc = 0;
    if (code == 0) {
        rc |= en_db_exec (self->db,
            "UPDATE request_places SET state = 'submitted', updated = ?1 WHERE state = 'queued'"
            " AND request_id IN (SELECT id FROM requests WHERE submit_msg = ?2 AND state = 'queued')",
            "is", now, msg_id);
        rc |= en_db_exec (self->db,
            "UPDATE requests SET state = 'submitted', updated = ? WHERE submit_msg = ? AND state = 'queued'",
            "is", now, msg_id);
    }
    else {
        char *id = en_db_text (self->db, "SELECT id FROM requests WHERE submit_msg = ?", "s", msg_id);
        if (id) {
            rc |= en_db_exec (self->db,
                "UPDATE requests SET state = 'rejected', error = ?, updated = ? WHERE id = ?",
                "sis", reason, now, id);
            rc |= en_db_exec (self->db, "UPDATE request_places SET state = 'rejected', updated = ? WHERE request_id = ?",
                              "is", now, id);
            rc |= s_event (self, id, now, "rejected", "rejected", NULL, reason);
            free (id);
        }
        rc |= en_db_exec (self->db,
            "UPDATE requests SET error = ?, updated = ? WHERE close_msg = ?", "sis", reason, now, msg_id);
    }
    rc |= en_db_exec (self->db,
        "UPDATE offers SET answer_status = ?, answer_error = ?, updated = ? WHERE answer_msg = ?",
        "ssis", code == 0 ? "confirmed" : "refused", reason, now, msg_id);
    rc |= en_db_exec (self->db, "UPDATE convo_sent SET state = ?, error = ? WHERE msg_id = ?",
                      "sss", code == 0 ? "sent" : "refused", code == 0 ? NULL : reason, msg_id);
    rc |= s_followup_result (self, msg_id, code, reason, now);
    return rc ? -1 : 0;
}

int
en_nstore_request_closing (en_nstore_t *self, const char *id, const char *msg_id)
{
    return en_db_exec (self->db, "UPDATE requests SET close_msg = ?, updated = ? WHERE id = ?",
                       "sis", msg_id, en_now_ms (), id);
}

int
en_nstore_expert_put (en_nstore_t *self, json_t *expert)
{
    char *text = json_dumps (expert, JSON_COMPACT | JSON_SORT_KEYS);
    int rc = en_db_exec (self->db,
        "INSERT INTO experts (id, record, updated) VALUES (?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET record = excluded.record, updated = excluded.updated",
        "ssi", en_json_str (expert, "id"), text, en_now_ms ());
    free (text);
    return rc;
}

json_t *
en_nstore_expert (en_nstore_t *self, const char *id)
{
    json_t *row = en_db_one (en_db_query (self->db, "SELECT record AS record_json FROM experts WHERE id = ?", "s", id));
    json_t *record = row ? json_incref (json_object_get (row, "record")) : NULL;
    json_decref (row);
    return record;
}

//  One column of rows as an array of its values. Takes rows.
static json_t *
s_column (json_t *rows, const char *column)
{
    json_t *values = json_array ();
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row)
        json_array_append (values, json_object_get (row, column));
    json_decref (rows);
    return values;
}

json_t *
en_nstore_experts (en_nstore_t *self)
{
    return s_column (en_db_rows (en_db_query (self->db,
        "SELECT record AS record_json FROM experts ORDER BY id", NULL)), "record");
}

int
en_nstore_offer_insert (en_nstore_t *self, json_t *offer)
{
    char *request = json_dumps (json_object_get (offer, "request"), JSON_COMPACT | JSON_SORT_KEYS);
    int64_t now = en_now_ms ();
    int rc = en_db_exec (self->db,
        "INSERT OR IGNORE INTO offers (id, request_id, expert, kind, deadline, request, state, received, updated,"
        " place) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
        "ssssisiii", en_json_str (offer, "offer"), en_json_str (offer, "request_id"),
        en_json_str (offer, "expert"), en_json_str (offer, "kind"),
        en_json_int (offer, "deadline", 0), request ? request : "{}", now, now, en_json_int (offer, "place", 1));
    free (request);
    return rc;
}

#define OFFER_COLUMNS \
    "id, request_id, expert, kind, deadline, request AS request_json, state, received," \
    " answer, answer_status, answer_error, updated, place, beraad_times AS beraad_times_json, beraad_at," \
    " beraad_held_at"

json_t *
en_nstore_offer (en_nstore_t *self, const char *id)
{
    return en_db_one (en_db_query (self->db, "SELECT " OFFER_COLUMNS " FROM offers WHERE id = ?", "s", id));
}

json_t *
en_nstore_offers (en_nstore_t *self, const char *expert, bool all)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT " OFFER_COLUMNS " FROM offers"
        " WHERE (? IS NULL OR expert = ?) AND (? OR (state = 'open' AND answer IS NULL))"
        " ORDER BY received DESC LIMIT 500",
        "ssi", expert, expert, (int64_t) all));
}

int
en_nstore_offer_answer (en_nstore_t *self, const char *id, const char *action, const char *msg_id)
{
    return en_db_exec (self->db,
        "UPDATE offers SET answer = ?, answer_msg = ?, answer_status = 'queued', answer_error = NULL,"
        " updated = ? WHERE id = ?",
        "ssis", action, msg_id, en_now_ms (), id);
}

int
en_nstore_offer_withdrawn (en_nstore_t *self, const char *id, const char *reason)
{
    return en_db_exec (self->db,
        "UPDATE offers SET state = ?, updated = ? WHERE id = ? AND (answer IS NULL OR answer_status = 'refused')",
        "sis", reason && streq (reason, "expired") ? "expired" : "withdrawn", en_now_ms (), id);
}

json_t *
en_nstore_counts (en_nstore_t *self)
{
    return json_pack ("{s:I, s:I, s:I, s:I}",
        "requests_open", (json_int_t) en_db_int (self->db,
            "SELECT count(*) FROM requests WHERE state NOT IN ('closed', 'rejected')", NULL),
        "experts", (json_int_t) en_db_int (self->db, "SELECT count(*) FROM experts", NULL),
        "offers_waiting", (json_int_t) en_db_int (self->db,
            "SELECT count(*) FROM offers WHERE state = 'open' AND answer IS NULL", NULL),
        "outbox", (json_int_t) en_outbox_depth (self->outbox, NULL));
}

int
en_nstore_case_put (en_nstore_t *self, const char *pseudonym, const char *sealed)
{
    int64_t now = en_now_ms ();
    return en_db_exec (self->db,
        "INSERT INTO cases (pseudonym, sealed, created, updated) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (pseudonym) DO UPDATE SET sealed = excluded.sealed, updated = excluded.updated",
        "ssii", pseudonym, sealed, now, now);
}

char *
en_nstore_case_sealed (en_nstore_t *self, const char *pseudonym)
{
    return en_db_text (self->db, "SELECT sealed FROM cases WHERE pseudonym = ?", "s", pseudonym);
}

json_t *
en_nstore_cases (en_nstore_t *self)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT c.pseudonym, c.created, c.updated,"
        " (SELECT count(*) FROM requests r WHERE json_extract (r.summary, '$.case') = c.pseudonym) AS requests"
        " FROM cases c ORDER BY c.created DESC", NULL));
}

json_t *
en_nstore_cases_sealed (en_nstore_t *self)
{
    return en_db_rows (en_db_query (self->db, "SELECT pseudonym, sealed FROM cases", NULL));
}

int
en_nstore_request_dossier_put (en_nstore_t *self, const char *id, const char *sealed)
{
    return en_db_exec (self->db, "UPDATE requests SET dossier = ? WHERE id = ?", "ss", sealed, id);
}

char *
en_nstore_request_dossier (en_nstore_t *self, const char *id, int64_t place)
{
    return en_db_text (self->db,
        "SELECT r.dossier FROM requests r JOIN request_places p ON p.request_id = r.id"
        " WHERE r.id = ? AND p.place = ? AND r.dossier IS NOT NULL AND p.dossier_sent IS NULL", "si", id, place);
}

int
en_nstore_request_dossier_sent (en_nstore_t *self, const char *id, int64_t place, const char *msg_id)
{
    return en_db_exec (self->db, "UPDATE requests SET dossier_sent = ? WHERE id = ?", "ss", msg_id, id)
        || en_db_exec (self->db, "UPDATE request_places SET dossier_sent = ? WHERE request_id = ? AND place = ?",
                       "ssi", msg_id, id, place) ? -1 : 0;
}

//  No accepted offer of expert for request_id: -1 with error (404)
static int
s_no_accepted_offer (const char *request_id, const char *expert, en_error_t *error)
{
    return en_error_set (error, EN_ERR_NOT_FOUND, "no accepted offer of expert '%s' for request '%s'",
                         expert, request_id);
}

int
en_nstore_offer_dossier_put (en_nstore_t *self, const char *request_id, const char *expert, const char *sealed,
                             en_error_t *error)
{
    if (en_db_exec (self->db,
            "UPDATE offers SET dossier = ?, updated = ? WHERE request_id = ? AND expert = ? AND answer IN ('accept', 'advise')",
            "siss", sealed, en_now_ms (), request_id, expert))
        return en_error_set (error, EN_ERR_INTERNAL, "could not store the dossier of request '%s'", request_id);
    return s_changed (self) ? 0 : s_no_accepted_offer (request_id, expert, error);
}

int
en_nstore_request_reply (en_nstore_t *self, const char *id, const char *text)
{
    return en_db_exec (self->db,
        "INSERT INTO request_events (request_id, at, event, state, expert, detail)"
        " SELECT id, ?, 'reply', state, expert, ? FROM requests WHERE id = ?",
        "iss", en_now_ms (), text, id);
}

char *
en_nstore_request_box_key (en_nstore_t *self, const char *id, int64_t place)
{
    if (place > 0)
        return en_db_text (self->db, "SELECT box_key FROM request_places WHERE request_id = ? AND place = ?"
                           " AND box_key IS NOT NULL AND state IN ('accepted', 'advice')", "si", id, place);
    return en_db_text (self->db, "SELECT box_key FROM requests WHERE id = ? AND box_key IS NOT NULL", "s", id);
}

int
en_nstore_offer_reply_put (en_nstore_t *self, const char *request_id, const char *expert, const char *sealed,
                           en_error_t *error)
{
    char *offer_id = en_db_text (self->db,
        "SELECT id FROM offers WHERE request_id = ? AND expert = ? AND answer IN ('accept', 'advise')", "ss", request_id, expert);
    if (!offer_id)
        return s_no_accepted_offer (request_id, expert, error);
    int rc = en_db_exec (self->db, "INSERT INTO offer_replies (offer_id, at, sealed) VALUES (?, ?, ?)",
                         "sis", offer_id, en_now_ms (), sealed);
    free (offer_id);
    return rc ? en_error_set (error, EN_ERR_INTERNAL, "could not store a reply about request '%s'", request_id) : 0;
}

json_t *
en_nstore_offer_replies (en_nstore_t *self, const char *offer_id)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT at, sealed FROM offer_replies WHERE offer_id = ? ORDER BY seq", "s", offer_id));
}

char *
en_nstore_offer_dossier (en_nstore_t *self, const char *offer_id)
{
    return en_db_text (self->db, "SELECT dossier FROM offers WHERE id = ? AND dossier IS NOT NULL", "s", offer_id);
}

int
en_nstore_expert_key_put (en_nstore_t *self, const char *expert, const char *box_public, const char *box_secret)
{
    return en_db_exec (self->db,
        "INSERT OR IGNORE INTO expert_keys (expert, box_public, box_secret) VALUES (?, ?, ?)",
        "sss", expert, box_public, box_secret);
}

json_t *
en_nstore_expert_key (en_nstore_t *self, const char *expert)
{
    return en_db_one (en_db_query (self->db,
        "SELECT expert, box_public, box_secret, wrap_password AS wrap_password_json,"
        " wrap_recovery AS wrap_recovery_json FROM expert_keys WHERE expert = ?", "s", expert));
}

int
en_nstore_expert_key_wrap (en_nstore_t *self, const char *expert, const char *box_public,
                           json_t *wrap_password, json_t *wrap_recovery)
{
    char *password = json_dumps (wrap_password, JSON_COMPACT | JSON_SORT_KEYS);
    char *recovery = wrap_recovery ? json_dumps (wrap_recovery, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    int rc = -1;
    if (password && recovery)
        rc = en_db_exec (self->db,
            "INSERT INTO expert_keys (expert, box_public, box_secret, wrap_password, wrap_recovery)"
            " VALUES (?, ?, NULL, ?, ?)"
            " ON CONFLICT (expert) DO UPDATE SET box_public = excluded.box_public, box_secret = NULL,"
            " wrap_password = excluded.wrap_password, wrap_recovery = excluded.wrap_recovery",
            "ssss", expert, box_public, password, recovery);
    else
    if (password)
        rc = en_db_exec (self->db,
            "UPDATE expert_keys SET wrap_password = ? WHERE expert = ? AND box_public = ?"
            " AND wrap_recovery IS NOT NULL", "sss", password, expert, box_public);
    if (rc == 0 && !recovery && sqlite3_changes (en_db_handle (self->db)) != 1)
        rc = -1;
    free (password);
    free (recovery);
    return rc;
}

#define USER_COLUMNS \
    "name, role, expert, email, phone, created, last_login, disabled = 1 AS disabled_bool"

int
en_nstore_user_insert (en_nstore_t *self, json_t *user, en_error_t *error)
{
    const char *name = en_json_str (user, "name");
    if (en_db_int (self->db, "SELECT count(*) FROM users WHERE name = ?", "s", name))
        return en_error_set (error, EN_ERR_CONFLICT, "account '%s' exists", name);
    if (en_db_exec (self->db,
            "INSERT INTO users (name, role, expert, pwhash, totp, email, phone, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            "sssssssi", name, en_json_str (user, "role"), en_json_str (user, "expert"),
            en_json_str (user, "pwhash"), en_json_str (user, "totp"), en_json_str (user, "email"),
            en_json_str (user, "phone"), en_now_ms ()))
        return en_error_set (error, EN_ERR_INTERNAL, "could not store account '%s'", name);
    return 0;
}

json_t *
en_nstore_user (en_nstore_t *self, const char *name)
{
    json_t *user = en_db_one (en_db_query (self->db,
        "SELECT " USER_COLUMNS ", pwhash, totp FROM users WHERE name = ?", "s", name));
    if (user)
        json_object_set_new (user, "disabled",
                             json_boolean (en_json_int (user, "disabled_bool", 0)));
    if (user)
        json_object_del (user, "disabled_bool");
    return user;
}

char *
en_nstore_expert_user (en_nstore_t *self, const char *expert)
{
    return en_db_text (self->db, "SELECT name FROM users WHERE expert = ?", "s", expert);
}

json_t *
en_nstore_users (en_nstore_t *self)
{
    json_t *users = en_db_rows (en_db_query (self->db,
        "SELECT " USER_COLUMNS ", totp IS NOT NULL AS totp_bool FROM users ORDER BY name", NULL));
    size_t index;
    json_t *user;
    json_array_foreach (users, index, user) {
        json_object_set_new (user, "disabled", json_boolean (en_json_int (user, "disabled_bool", 0)));
        json_object_set_new (user, "totp", json_boolean (en_json_int (user, "totp_bool", 0)));
        json_object_del (user, "disabled_bool");
        json_object_del (user, "totp_bool");
    }
    return users;
}

int
en_nstore_user_remove (en_nstore_t *self, const char *name, en_error_t *error)
{
    if (en_db_exec (self->db, "DELETE FROM users WHERE name = ?", "s", name))
        return en_error_set (error, EN_ERR_INTERNAL, "could not remove account '%s'", name);
    return s_changed (self) ? 0 : en_error_set (error, EN_ERR_NOT_FOUND, "no account '%s' at this node", name);
}

int
en_nstore_user_password (en_nstore_t *self, const char *name, const char *pwhash)
{
    return en_db_exec (self->db, "UPDATE users SET pwhash = ? WHERE name = ?", "ss", pwhash, name);
}

int
en_nstore_user_login (en_nstore_t *self, const char *name, int64_t at, int64_t totp_step, en_error_t *error)
{
    if (en_db_exec (self->db,
            "UPDATE users SET last_login = ?, totp_step = CASE WHEN ? >= 0 THEN ? ELSE totp_step END"
            " WHERE name = ? AND (? < 0 OR totp_step IS NULL OR totp_step < ?)",
            "iiisii", at, totp_step, totp_step, name, totp_step, totp_step))
        return en_error_set (error, EN_ERR_INTERNAL, "could not record the login of '%s'", name);
    //  No row changed: that step or a later one was used before (or no
    //  such account: the caller looked it up first)
    return s_changed (self) ? 0 : en_error_set (error, EN_ERR_CONFLICT,
                                                "this TOTP code was used before: wait for the next one");
}

json_t *
en_nstore_case_requests (en_nstore_t *self, const char *pseudonym)
{
    return s_column (en_db_rows (en_db_query (self->db,
        "SELECT id FROM requests WHERE json_extract (summary, '$.case') = ?"
        " UNION SELECT request_id AS id FROM offers WHERE json_extract (request, '$.case') = ?",
        "ss", pseudonym, pseudonym)), "id");
}

int
en_nstore_case_phase (en_nstore_t *self, const char *pseudonym, json_t *summary, const char *phase,
                      int64_t at, json_t *outcome)
{
    char *summary_text = summary ? json_dumps (summary, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *outcome_text = outcome ? json_dumps (outcome, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char path [32];
    snprintf (path, sizeof path, "$.%s", phase);
    int rc = en_db_exec (self->db,
        "UPDATE cases SET summary = coalesce (?, summary), phases = json_set (phases, ?, ?),"
        " outcome = coalesce (?, outcome), updated = ? WHERE pseudonym = ?",
        "ssisis", summary_text, path, at, outcome_text, en_now_ms (), pseudonym);
    free (summary_text);
    free (outcome_text);
    return rc;
}

json_t *
en_nstore_case_record (en_nstore_t *self, const char *pseudonym)
{
    return en_db_one (en_db_query (self->db,
        "SELECT pseudonym, summary AS summary_json, phases AS phases_json, outcome AS outcome_json"
        " FROM cases WHERE pseudonym = ?", "s", pseudonym));
}

int
en_nstore_case_rename (en_nstore_t *self, const char *old_pseudonym, const char *new_pseudonym)
{
    return en_db_exec (self->db, "UPDATE cases SET pseudonym = ?, updated = ? WHERE pseudonym = ?",
                       "sis", new_pseudonym, en_now_ms (), old_pseudonym);
}

int64_t
en_nstore_reseal (en_nstore_t *self, en_nstore_reseal_fn *reseal, void *arg)
{
    //  Every value sealed with the vault's data key
    static const char *columns [][3] = {
        { "cases", "pseudonym", "sealed" },
        { "requests", "id", "dossier" },
        { "requests", "id", "beraad_outcome" },
        { "expert_keys", "expert", "box_secret" },
        { "convo_team_keys", "request_id", "box_secret" },
        { "users", "name", "totp" },
        { NULL, NULL, NULL } };
    int64_t count = 0;
    for (int i = 0; columns [i][0]; i++) {
        char select [160], update [160];
        snprintf (select, sizeof select, "SELECT %s, %s FROM %s WHERE %s IS NOT NULL",
                  columns [i][1], columns [i][2], columns [i][0], columns [i][2]);
        snprintf (update, sizeof update, "UPDATE %s SET %s = ? WHERE %s = ?",
                  columns [i][0], columns [i][2], columns [i][1]);
        json_t *rows = en_db_rows (en_db_query (self->db, select, NULL));
        size_t index;
        json_t *row;
        json_array_foreach (rows, index, row) {
            char *fresh = reseal (en_json_str (row, columns [i][2]), arg);
            int rc = fresh ? en_db_exec (self->db, update, "ss", fresh, en_json_str (row, columns [i][1])) : -1;
            free (fresh);
            if (rc) {
                json_decref (rows);
                return -1;
            }
            count++;
        }
        json_decref (rows);
    }
    return count;
}

//  --------------------------------------------------------------------
//  Expert contacts and the notification queue (en_notify)

int
en_nstore_contact_put (en_nstore_t *self, const char *expert, const char *email, const char *phone)
{
    //  NULL keeps the stored value, "" clears it
    return en_db_exec (self->db,
        "INSERT INTO expert_contacts (expert, email, phone, updated) VALUES (?, nullif (?, ''), nullif (?, ''), ?)"
        " ON CONFLICT (expert) DO UPDATE SET"
        "  email = CASE WHEN ?2 IS NULL THEN email ELSE nullif (?2, '') END,"
        "  phone = CASE WHEN ?3 IS NULL THEN phone ELSE nullif (?3, '') END,"
        "  updated = excluded.updated",
        "sssi", expert, email, phone, en_now_ms ());
}

json_t *
en_nstore_contact (en_nstore_t *self, const char *expert)
{
    return en_db_one (en_db_query (self->db,
        "SELECT expert, email, phone FROM expert_contacts WHERE expert = ?", "s", expert));
}

json_t *
en_nstore_contacts (en_nstore_t *self)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT expert, email, phone, updated FROM expert_contacts ORDER BY expert", NULL));
}

int
en_nstore_notify_put (en_nstore_t *self, json_t *n)
{
    int64_t now = en_now_ms ();
    return en_db_exec (self->db,
        "INSERT INTO notifications (kind, channel, recipient, expert, offer, request, urgency, deadline,"
        " link, subject, body, message_id, state, attempts, next_try, created)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, nullif (?, 0), ?, ?, ?, ?, 'wacht', 0, ?, ?)",
        "sssssssissssii", en_json_str (n, "kind"), en_json_str (n, "channel"), en_json_str (n, "recipient"),
        en_json_str (n, "expert"), en_json_str (n, "offer"), en_json_str (n, "request"),
        en_json_str (n, "urgency"), en_json_int (n, "deadline", 0), en_json_str (n, "link"),
        en_json_str (n, "subject"), en_json_str (n, "body"), en_json_str (n, "message_id"), now, now);
}

#define NOTIFY_COLUMNS \
    "id, kind, channel, recipient, expert, offer, request, urgency, deadline, link, subject, body," \
    " message_id, state, attempts, next_try, last_error, created, sent"

json_t *
en_nstore_notify_due (en_nstore_t *self, int64_t now, int limit)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT " NOTIFY_COLUMNS " FROM notifications"
        " WHERE state IN ('wacht', 'mislukt-opnieuw') AND next_try <= ? ORDER BY next_try, id LIMIT ?",
        "ii", now, (int64_t) limit));
}

json_t *
en_nstore_notification (en_nstore_t *self, int64_t id)
{
    return en_db_one (en_db_query (self->db,
        "SELECT " NOTIFY_COLUMNS " FROM notifications WHERE id = ?", "i", id));
}

int
en_nstore_notify_state (en_nstore_t *self, int64_t id, const char *state, int64_t attempts,
                        int64_t next_try, const char *error)
{
    int64_t now = en_now_ms ();
    return en_db_exec (self->db,
        "UPDATE notifications SET state = ?, attempts = ?, next_try = ?, last_error = ?,"
        " sent = CASE WHEN ? = 'verzonden' THEN ? ELSE sent END WHERE id = ?",
        "siissii", state, attempts, next_try, error, state, now, id);
}

int64_t
en_nstore_notify_recover (en_nstore_t *self)
{
    if (en_db_exec (self->db, "UPDATE notifications SET state = 'wacht' WHERE state = 'bezig'", NULL))
        return -1;
    return sqlite3_changes (en_db_handle (self->db));
}

json_t *
en_nstore_notifications (en_nstore_t *self, const char *state, int limit)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT id, kind, channel, recipient, expert, offer, request, urgency, deadline, link, subject,"
        " message_id, state, attempts, next_try, last_error, created, sent FROM notifications"
        " WHERE (? IS NULL OR state = ?) ORDER BY id DESC LIMIT ?",
        "ssi", state, state, (int64_t) limit));
}

json_t *
en_nstore_notify_counts (en_nstore_t *self)
{
    json_t *counts = json_object ();
    sqlite3_stmt *stmt = en_db_query (self->db, "SELECT state, count(*) FROM notifications GROUP BY state", NULL);
    while (stmt && sqlite3_step (stmt) == SQLITE_ROW)
        json_object_set_new (counts, (const char *) sqlite3_column_text (stmt, 0),
                             json_integer (sqlite3_column_int64 (stmt, 1)));
    if (stmt)
        sqlite3_reset (stmt);
    return counts;
}

json_t *
en_nstore_offers_to_remind (en_nstore_t *self, int64_t now)
{
    //  Half the time between arrival and deadline has passed, the offer
    //  is open and unanswered, and the deadline is still ahead
    return en_db_rows (en_db_query (self->db,
        "SELECT id, request_id, expert, kind, deadline, json_extract (request, '$.urgency') AS urgency"
        " FROM offers WHERE state = 'open' AND answer IS NULL AND reminded = 0"
        " AND received + (deadline - received) / 2 <= ? AND deadline > ? LIMIT 100",
        "ii", now, now));
}

int
en_nstore_offer_reminded (en_nstore_t *self, const char *id)
{
    return en_db_exec (self->db, "UPDATE offers SET reminded = 1 WHERE id = ?", "s", id);
}

//  --------------------------------------------------------------------
//  Conversations (en_node_convo)

int
en_nstore_convo_team_key_put (en_nstore_t *self, const char *request_id, const char *box_public,
                              const char *box_secret)
{
    return en_db_exec (self->db,
        "INSERT INTO convo_team_keys (request_id, box_public, box_secret) VALUES (?, ?, ?)",
        "sss", request_id, box_public, box_secret);
}

json_t *
en_nstore_convo_team_key (en_nstore_t *self, const char *request_id)
{
    return en_db_one (en_db_query (self->db,
        "SELECT box_public, box_secret FROM convo_team_keys WHERE request_id = ?", "s", request_id));
}

int
en_nstore_convo_members_put (en_nstore_t *self, const char *request_id, json_t *members)
{
    int rc = en_db_exec (self->db, "DELETE FROM convo_members WHERE request_id = ?", "s", request_id);
    size_t index;
    json_t *member;
    json_array_foreach (members, index, member)
        rc = rc || en_db_exec (self->db,
            "INSERT OR REPLACE INTO convo_members (request_id, who, box_key) VALUES (?, ?, ?)",
            "sss", request_id, en_json_str (member, "who"), en_json_str (member, "box_key"));
    return rc ? -1 : 0;
}

json_t *
en_nstore_convo_members (en_nstore_t *self, const char *request_id)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT who, box_key FROM convo_members WHERE request_id = ? ORDER BY who", "s", request_id));
}

int
en_nstore_convo_message_put (en_nstore_t *self, json_t *message)
{
    const char *id = en_json_str (message, "request");
    int64_t seq = en_json_int (message, "seq", 0);
    if (en_db_exec (self->db,
            "INSERT OR IGNORE INTO convo_messages (request_id, seq, sender, kind, at, received, box)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            "sissiis", id, seq, en_json_str (message, "from"), en_json_str (message, "kind"),
            en_json_int (message, "at", 0), en_now_ms (), en_json_str (message, "box")))
        return -1;
    if (!s_changed (self))
        return 0;                           //  this (request, seq) is here already
    const char *recipient;
    json_t *sealed;
    json_object_foreach (json_object_get (message, "sealed"), recipient, sealed)
        if (en_db_exec (self->db,
                "INSERT INTO convo_copies (request_id, seq, recipient, sealed) VALUES (?, ?, ?, ?)",
                "siss", id, seq, recipient, json_string_value (sealed)))
            return -1;
    return 1;
}

int
en_nstore_convo_sent_put (en_nstore_t *self, const char *msg_id, const char *request_id, const char *sender,
                          const char *kind)
{
    return en_db_exec (self->db,
        "INSERT INTO convo_sent (msg_id, request_id, sender, kind, queued) VALUES (?, ?, ?, ?, ?)",
        "ssssi", msg_id, request_id, sender, kind, en_now_ms ());
}

json_t *
en_nstore_convo_unsent (en_nstore_t *self, const char *request_id, const char *sender)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT msg_id AS message, kind, queued, state, error FROM convo_sent"
        " WHERE request_id = ? AND sender = ? AND state != 'sent' ORDER BY queued", "ss", request_id, sender));
}

json_t *
en_nstore_convo_thread (en_nstore_t *self, const char *request_id, const char *recipient)
{
    return en_db_rows (en_db_query (self->db,
        "SELECT m.seq, m.sender AS \"from\", m.kind, m.at, m.box, c.sealed, c.read_at,"
        "  (SELECT json_group_array (reader) FROM (SELECT reader FROM convo_receipts r"
        "    WHERE r.request_id = m.request_id AND r.seq = m.seq ORDER BY reader)) AS read_by_json"
        " FROM convo_messages m JOIN convo_copies c"
        "  ON c.request_id = m.request_id AND c.seq = m.seq AND c.recipient = ?2"
        " WHERE m.request_id = ?1 ORDER BY m.seq", "ss", request_id, recipient));
}

int
en_nstore_convo_read (en_nstore_t *self, const char *request_id, int64_t seq, const char *recipient, int64_t at)
{
    if (en_db_exec (self->db,
            "UPDATE convo_copies SET read_at = ? WHERE request_id = ? AND seq = ? AND recipient = ? AND read_at IS NULL",
            "isis", at, request_id, seq, recipient))
        return -1;
    return s_changed (self) ? 1 : 0;
}

int
en_nstore_convo_receipt_put (en_nstore_t *self, const char *request_id, int64_t seq, const char *reader, int64_t at)
{
    return en_db_exec (self->db,
        "INSERT OR IGNORE INTO convo_receipts (request_id, seq, reader, at) VALUES (?, ?, ?, ?)",
        "sisi", request_id, seq, reader, at);
}

char *
en_nstore_accepted_offer (en_nstore_t *self, const char *request_id, const char *expert)
{
    return en_db_text (self->db,
        "SELECT id FROM offers WHERE request_id = ? AND expert = ? AND answer IN ('accept', 'advise')",
        "ss", request_id, expert);
}

//  Follow-up (en_node_followup)

int
en_nstore_request_review (en_nstore_t *self, const char *id, int64_t review_at)
{
    return en_db_exec (self->db, "UPDATE requests SET review_at = ? WHERE id = ?", "is", review_at, id);
}

int
en_nstore_offer_beraad (en_nstore_t *self, const char *offer_id, json_t *times, int64_t at)
{
    char *text = times ? json_dumps (times, JSON_COMPACT) : NULL;
    int rc = en_db_exec (self->db,
        "UPDATE offers SET beraad_times = coalesce (?1, beraad_times),"
        " beraad_at = CASE WHEN ?1 IS NOT NULL THEN NULL ELSE ?2 END, updated = ?3 WHERE id = ?4",
        "siis", text, at, en_now_ms (), offer_id);
    free (text);
    return rc;
}

int
en_nstore_offer_beraad_held (en_nstore_t *self, const char *offer_id, int64_t held_at)
{
    return en_db_exec (self->db, "UPDATE offers SET beraad_held_at = ?, updated = ? WHERE id = ?", "iis",
                       held_at, en_now_ms (), offer_id);
}

int
en_nstore_request_beraad_outcome (en_nstore_t *self, const char *id, const char *sealed)
{
    return en_db_exec (self->db, "UPDATE requests SET beraad_outcome = ? WHERE id = ?", "ss", sealed, id);
}

int
en_nstore_followup_sent (en_nstore_t *self, const char *msg_id, const char *request_id, const char *what)
{
    return en_db_exec (self->db, "INSERT INTO followup_msgs (msg_id, request_id, what) VALUES (?, ?, ?)",
                       "sss", msg_id, request_id, what);
}
