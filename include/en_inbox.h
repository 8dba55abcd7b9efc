/*  en_inbox - exactly-once receive of reliable messages, the receiving
    half of en_outbox, shared by the broker and the node.

    A reliable message (SUBMIT, OFFER, STATUS, ...) is re-sent by its
    sender until it is answered with ACK or a final ERROR, so it can
    arrive any number of times; the inbox makes it count once. For each
    message, inside the caller's (batch) transaction:

      1. dedup: an id in the seen table (en_seen_lookup) with the same
         content gets the answer recorded the first time, however old the
         message is (its first answer may have been lost); an id recorded
         with other content is refused 409 and not recorded again;
      2. the timestamp window, judged against the sender's clock as
         measured (en_clock_check), for what was not processed before;
         a refusal there is temporary (a clock can be fixed) and not
         recorded;
      3. a savepoint; the caller's handler; the seen record (code 0);
         release. A refusal rolls back to the savepoint and, unless it is
         a store failure (500: the sender keeps the message and sends it
         again), is recorded with its code and reason, so that it is
         final and a resend gets the same answer.

    The answer (ACK, or ERROR with ref, code, reason and temporary) is
    made here only (en_inbox_answer): both daemons queue it and send it
    after the transaction commits, so nothing is acknowledged before it
    is on disk. Logging and counting a refusal is the caller's. */
#ifndef EN_INBOX_H_INCLUDED
#define EN_INBOX_H_INCLUDED

typedef struct _en_inbox_t en_inbox_t;

//  Process one reliable message not seen before, inside the inbox's
//  savepoint: 0, or -1 with error (EN_ERR_INTERNAL for a store failure,
//  which the sender retries; any other code is final for the message).
typedef int (en_inbox_handler_fn) (en_msg_t *msg, void *arg, en_error_t *error);

//  An inbox on db (not owned; its schema includes EN_OUTBOX_SCHEMA and
//  EN_SEEN_DIGEST_MIGRATION); name is the sender of its answers.
en_inbox_t *en_inbox_new (en_db_t *db, const char *name);
void en_inbox_destroy (en_inbox_t **self_p);

//  Receive msg exactly once (steps 1 to 3 above), in the caller's
//  transaction. clock: the sender's clock as measured, to judge the
//  timestamp with (step 2); NULL when the caller judged it already.
//  Returns the answer to send once the transaction commits (ACK or
//  ERROR; caller owns it). When it is an ERROR, error holds the refusal
//  (error->code != 0, ref the message's id); else error is cleared.
en_msg_t *en_inbox_receive (en_inbox_t *self, en_msg_t *msg, en_clock_t *clock,
                            en_inbox_handler_fn *handler, void *arg, en_error_t *error);

//  Is msg a resend of one processed before, with the same content? Its
//  answer is then known whatever its timestamp says.
bool en_inbox_resend (en_inbox_t *self, en_msg_t *msg);

//  The answer to the message ref: ACK when error is NULL or holds no
//  error, else ERROR {ref, code, reason, temporary when set}. ref "" is a
//  connection-level refusal (no message of the sender's is refused).
en_msg_t *en_inbox_answer (en_inbox_t *self, const char *ref, en_error_t *error);

//  A cumulative ACK (EXPN/3) for refs (1..EN_MAX_REFS message ids; takes
//  ownership): {ref} for one, else {refs}. Caller owns the message.
en_msg_t *en_inbox_ack (en_inbox_t *self, json_t *refs);

//  Answers (a list of en_msg_t *) to one peer, after a batch: its ACKs
//  replaced by cumulative ones at the end of the list, EN_MAX_REFS refs
//  at most each, so the peer gets one ACK per batch instead of one per
//  message. The list's destructor must free en_msg_t (or it has none and
//  the caller frees what remains). Returns the cumulative ACKs made.
int en_inbox_coalesce (en_inbox_t *self, zlistx_t *answers);

#endif
