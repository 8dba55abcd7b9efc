/*  en_msg - the expertnet wire format (docs/protocol.md, "EXPN3").

    Every message is seven ZeroMQ frames:
        0  protocol   "EXPN3"
        1  command    e.g. "SUBMIT"
        2  id         32 lowercase hex chars, globally unique (idempotency key)
        3  sender     node or broker name
        4  timestamp  decimal ms since the Unix epoch
        5  body       a JSON object, at most EN_MAX_BODY bytes
        6  signature  64 bytes: Ed25519 by the sender over frames 0-5, each
                      preceded by its length as 4 bytes big-endian; empty
                      for ACK, PING and PONG (the CURVE hop vouches)
    A ROUTER socket adds the routing id in front; callers strip it first.
*/
#ifndef EN_MSG_H_INCLUDED
#define EN_MSG_H_INCLUDED

#define EN_PROTOCOL     "EXPN3"
#define EN_FRAMES       7
#define EN_SIGNATURE    64
//  Accepted timestamps: at most this old (a message may wait in a durable
//  outbox while its peer is down) or this far in the future (clock skew).
//  Older ones could be replays from beyond the dedup memory (30 days).
#define EN_MAX_AGE_MS   (7LL * 86400 * 1000)
#define EN_MAX_SKEW_MS  (5LL * 60 * 1000)
#define EN_MAX_BODY     (64 * 1024)
//  Message ids one cumulative ACK may acknowledge (its `refs`)
#define EN_MAX_REFS     512
//  Messages one BATCH may carry
#define EN_BATCH_MAX    128
//  Transport limit per message (all frames); larger ones are dropped by
//  libzmq before they reach us.
#define EN_MAX_WIRE     (EN_MAX_BODY + 1024)

//  Create a message with a fresh id and the current time. Takes ownership
//  of body (NULL means an empty object).
en_msg_t *en_msg_new (const char *command, const char *sender, json_t *body);

//  Create a message with explicit id and timestamp (when re-sending from a
//  durable store). Takes ownership of body.
en_msg_t *en_msg_restore (const char *command, const char *id,
                          const char *sender, int64_t timestamp, json_t *body);

void en_msg_destroy (en_msg_t **self_p);

//  A copy of msg with the same frames (its body text fixed, its body
//  object shared: neither may be changed afterwards). Caller owns.
en_msg_t *en_msg_dup (en_msg_t *self);

//  Decode the frames of msg (routing id already removed). Returns a new
//  message or NULL with error filled in; msg is not modified.
en_msg_t *en_msg_decode (zmsg_t *msg, en_error_t *error);

//  Restore with the exact body text that was signed or stored (from an
//  outbox). NULL if body_text is not a JSON object.
en_msg_t *en_msg_restore_text (const char *command, const char *id, const char *sender,
                               int64_t timestamp, const char *body_text);

//  Sign with the sender's key (before sending).
void en_msg_sign (en_msg_t *self, en_signer_t *signer);

//  True if the signature verifies with the sender's public key (false
//  when the message has none).
bool en_msg_verify (en_msg_t *self, const unsigned char public_key [32]);

//  True if frame 6 held (or signing put) a signature.
bool en_msg_signed (en_msg_t *self);

//  What a receiver accepts from a peer on a CURVE connection bound to
//  public_key's owner: a signature that verifies with public_key, or no
//  signature at all on a transport command (ACK, PING, PONG).
bool en_msg_authentic (en_msg_t *self, const unsigned char public_key [32]);

//  0 if the timestamp is within [now - EN_MAX_AGE_MS, now + EN_MAX_SKEW_MS],
//  else -1 with error (403).
int en_msg_check_time (en_msg_t *self, int64_t now, en_error_t *error);
//  (Its refusals are temporary: error->temporary is set.)

//  Digest of the signed content (frames 0-5), hex into digest (65 bytes):
//  the same message resent has the same digest, whoever signs it.
void en_msg_digest (en_msg_t *self, char digest [65]);

//  Encode to frames (signature as signed; if unsigned, an empty frame 6
//  for a transport command, else zeros); caller owns.
zmsg_t *en_msg_encode (en_msg_t *self);

//  Sign with signer (if not NULL, and the command is not a transport
//  command, which goes unsigned) and send on sock; when routing_id is
//  given (ROUTER) it is prepended (not consumed). Returns 0 or -1 (errno
//  from libzmq, e.g. EHOSTUNREACH).
int en_msg_send (en_msg_t *self, zsock_t *sock, zframe_t *routing_id, en_signer_t *signer);

//  A signed message as one JSON object, to be carried inside another
//  message (FORWARD): {command, id, sender, timestamp, body (the exact
//  signed text), signature (hex)}. Caller owns.
json_t *en_msg_export (en_msg_t *self);

//  The message carried in such an object, decoded by the rules of
//  en_msg_decode (its signature is not checked here). NULL with error.
en_msg_t *en_msg_import (json_t *carried, en_error_t *error);

const char *en_msg_command (en_msg_t *self);
const char *en_msg_id (en_msg_t *self);
const char *en_msg_sender (en_msg_t *self);
int64_t en_msg_timestamp (en_msg_t *self);
//  Borrowed; never NULL.
json_t *en_msg_body (en_msg_t *self);
//  Body as compact JSON (the exact text signed/sent); caller frees.
char *en_msg_body_text (en_msg_t *self);

//  True if command is part of the protocol.
bool en_msg_command_known (const char *command);
//  True if command is delivered reliably (outbox, ACK, dedup).
bool en_msg_command_reliable (const char *command);
//  True if command goes unsigned (ACK, PING, PONG: transport only).
bool en_msg_command_unsigned (const char *command);

//  The message ids an ACK acknowledges: its `ref` and each of its `refs`
//  (a cumulative ACK, at most EN_MAX_REFS), as a new array of strings
//  (maybe empty). NULL with error (400) when `refs` is malformed.
json_t *en_msg_ack_refs (en_msg_t *self, en_error_t *error);

//  BATCH (EXPN/3): a sender's hop-by-hop reliable messages (OFFER,
//  STATUS, WITHDRAW: en_msg_command_batchable) under one signature, the
//  envelope's. Each is received as if it came alone (dedup, digest,
//  answer); the envelope itself is unreliable and never stored.
bool en_msg_command_batchable (const char *command);
//  Octets msg adds to a BATCH's body (keep the sum under EN_MAX_BODY).
size_t en_msg_batch_size (en_msg_t *msg);
//  A BATCH of msgs (1..EN_BATCH_MAX en_msg_t, each made by sender and
//  batchable; not taken). Sign and send it like any message.
en_msg_t *en_msg_batch (const char *sender, zlistx_t *msgs);
//  The messages of a BATCH (a list of en_msg_t that frees them; their
//  sender the BATCH's, no signature of their own), each decoded by the
//  rules of en_msg_decode; NULL with error (400) when any is malformed,
//  repeats an id or may not be batched: the BATCH is refused whole.
zlistx_t *en_msg_unbatch (en_msg_t *self, en_error_t *error);

//  Helpers to read body fields: borrowed string or NULL, integer or dflt.
const char *en_json_str (json_t *obj, const char *key);
int64_t en_json_int (json_t *obj, const char *key, int64_t dflt);

#endif
