/*  en_outbox - the two halves of exactly-once delivery, shared by node and
    broker:

    * en_outbox: a durable queue of reliable messages per destination.
      A message is put in the same transaction as the state change that
      caused it, sent when the destination is reachable, re-sent after a
      retransmission interval that follows the destination's measured
      ACK latency, until the destination ACKs (or ERRORs) it, and only
      then removed. Delivery order per destination is put order.
    * en_seen: the receiver's record of message ids it has processed and
      what it answered, so a retransmission gets the same answer and is
      never processed twice.

    Both store their rows through en_db in the caller's database; the
    caller includes EN_OUTBOX_SCHEMA in its migrations. */
#ifndef EN_OUTBOX_H_INCLUDED
#define EN_OUTBOX_H_INCLUDED

#define EN_OUTBOX_SCHEMA \
    "CREATE TABLE outbox (" \
    "  seq INTEGER PRIMARY KEY," \
    "  dest TEXT NOT NULL," \
    "  msg_id TEXT NOT NULL UNIQUE," \
    "  command TEXT NOT NULL," \
    "  sender TEXT NOT NULL," \
    "  ts INTEGER NOT NULL," \
    "  body TEXT NOT NULL);" \
    "CREATE INDEX outbox_dest ON outbox (dest, seq);" \
    "CREATE TABLE seen (" \
    "  msg_id TEXT PRIMARY KEY," \
    "  sender TEXT NOT NULL," \
    "  command TEXT NOT NULL," \
    "  at INTEGER NOT NULL," \
    "  code INTEGER NOT NULL," \
    "  reason TEXT) WITHOUT ROWID;" \
    "CREATE INDEX seen_at ON seen (at);"

//  A later migration of both stores: the digest of each processed message,
//  so an id reused for different content is told apart from a resend.
#define EN_SEEN_DIGEST_MIGRATION "ALTER TABLE seen ADD COLUMN digest TEXT;"

typedef struct _en_outbox_t en_outbox_t;

//  The retransmission interval never exceeds this many times the
//  configured retry (16 s for the usual 1 s).
#define EN_OUTBOX_BACKOFF_CAP 16

//  Send one message to dest; return 0 if handed to the transport.
typedef int (en_outbox_send_fn) (const char *dest, en_msg_t *msg, void *arg);

en_outbox_t *en_outbox_new (en_db_t *db);
void en_outbox_destroy (en_outbox_t **self_p);

//  Queue msg for dest (inside the caller's transaction). 0 or -1; a body
//  over EN_MAX_BODY is refused here, never sent.
int en_outbox_put (en_outbox_t *self, const char *dest, en_msg_t *msg);

//  Destination dest acknowledged msg_id: remove it. 0 if it was queued
//  for dest; -1 with EN_ERR_NOT_FOUND if unknown there (a duplicate ACK,
//  or an ACK from a peer the message was not for), with EN_ERR_INTERNAL
//  on a store error.
int en_outbox_ack (en_outbox_t *self, const char *dest, const char *msg_id, en_error_t *error);

//  A cumulative ACK: remove every id in refs (a JSON array of strings)
//  that was queued for dest, in one statement. Returns the ids removed (a
//  new array, those not queued for dest left out), or NULL with error
//  (EN_ERR_INTERNAL) on a store error.
json_t *en_outbox_ack_all (en_outbox_t *self, const char *dest, json_t *refs, en_error_t *error);

//  Send what is due for dest (NULL: every destination): entries never
//  sent by this process, then entries whose retransmission interval has
//  passed; at most limit. The interval follows dest's measured ACK
//  latency, never under retry_ms (the floor; 0 makes all due) nor over
//  EN_OUTBOX_BACKOFF_CAP times it, and doubles with each retransmission
//  of a message (see en_outbox.c and docs/protocol.md). Only due rows
//  are read. A failed send ends the flush of that destination, so
//  nothing overtakes an earlier message. Returns how many were sent.
int en_outbox_flush (en_outbox_t *self, const char *dest, int64_t retry_ms,
                     int limit, en_outbox_send_fn *send_fn, void *arg);

//  The destinations with something to send now (an entry never sent, or
//  a retransmission due for the floor retry_ms), from memory only: the
//  ones a flush would not find idle. A list of names; caller destroys.
zlistx_t *en_outbox_due (en_outbox_t *self, int64_t retry_ms);

//  Forget when entries for dest (NULL: all) were sent, so the next flush
//  sends them all at once, in put order (after a reconnect).
void en_outbox_reset (en_outbox_t *self, const char *dest);

//  Entries queued for dest (NULL: all).
int64_t en_outbox_depth (en_outbox_t *self, const char *dest);

//  The current retransmission interval of dest for a message sent once,
//  given the floor retry_ms (figures, tests, benchmarks).
int64_t en_outbox_rto (en_outbox_t *self, const char *dest, int64_t retry_ms);

//  Retransmissions since the outbox was made (sends after the first of a
//  message; a reset starts a message afresh).
int64_t en_outbox_resends (en_outbox_t *self);

//  Use the fixed interval retry_ms for every retransmission, the policy
//  before latency tracking (benchmarks compare the two). Default false.
void en_outbox_set_fixed (en_outbox_t *self, bool fixed);

//  Has msg's id been processed? If so returns true, fills answer (may be
//  NULL) with the answer it got (code 0 = it was ACKed, else the ERROR's
//  code and reason), and sets *same (may be NULL) to whether it had the
//  same content (digest) as msg: false means the id was reused.
bool en_seen_lookup (en_db_t *db, en_msg_t *msg, en_error_t *answer, bool *same);

//  Record that msg_id was processed with this answer (code 0 = ACK).
int en_seen_put (en_db_t *db, en_msg_t *msg, int code, const char *reason);

//  Drop dedup records older than before_ms. Returns rows removed.
int64_t en_seen_prune (en_db_t *db, int64_t before_ms);

#endif
