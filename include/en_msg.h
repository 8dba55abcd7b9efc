/*  en_msg - the expertnet wire format (docs/protocol.md, "EXPN1").

    Every message is six ZeroMQ frames:
        0  protocol   "EXPN1"
        1  command    e.g. "SUBMIT"
        2  id         32 lowercase hex chars, globally unique (idempotency key)
        3  sender     node or broker name
        4  timestamp  decimal ms since the Unix epoch
        5  body       a JSON object, at most EN_MAX_BODY bytes
    A ROUTER socket adds the routing id in front; callers strip it first.
*/
#ifndef EN_MSG_H_INCLUDED
#define EN_MSG_H_INCLUDED

#define EN_PROTOCOL     "EXPN1"
#define EN_FRAMES       6
#define EN_MAX_BODY     (64 * 1024)
//  Transport limit per message (all frames); larger ones are dropped by
//  libzmq before they reach us.
#define EN_MAX_WIRE     (EN_MAX_BODY + 1024)

//  Error codes (docs/protocol.md, "Error codes")
#define EN_ERR_BAD_REQUEST   400
#define EN_ERR_NO_SESSION    401    //  no HELLO in this broker session
#define EN_ERR_FORBIDDEN     403
#define EN_ERR_NOT_FOUND     404
#define EN_ERR_CONFLICT      409
#define EN_ERR_TOO_LARGE     413
#define EN_ERR_INVALID       422
#define EN_ERR_INTERNAL      500
#define EN_ERR_VERSION       505

typedef struct {
    int code;                   //  0 when no error
    char ref [33];              //  id of the offending message, "" if unknown
    char reason [256];          //  one line for humans and logs
} en_error_t;

//  Record an error (printf-style reason). Returns -1 for convenience.
int en_error_set (en_error_t *error, int code, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Create a message with a fresh id and the current time. Takes ownership
//  of body (NULL means an empty object).
en_msg_t *en_msg_new (const char *command, const char *sender, json_t *body);

//  Create a message with explicit id and timestamp (when re-sending from a
//  durable store). Takes ownership of body.
en_msg_t *en_msg_restore (const char *command, const char *id,
                          const char *sender, int64_t timestamp, json_t *body);

void en_msg_destroy (en_msg_t **self_p);

//  Decode the frames of msg (routing id already removed). Returns a new
//  message or NULL with error filled in; msg is not modified.
en_msg_t *en_msg_decode (zmsg_t *msg, en_error_t *error);

//  Encode to frames; caller owns the result.
zmsg_t *en_msg_encode (en_msg_t *self);

//  Send on sock; when routing_id is given (ROUTER) it is prepended (not
//  consumed). Returns 0 or -1 (errno from libzmq, e.g. EHOSTUNREACH).
int en_msg_send (en_msg_t *self, zsock_t *sock, zframe_t *routing_id);

const char *en_msg_command (en_msg_t *self);
const char *en_msg_id (en_msg_t *self);
const char *en_msg_sender (en_msg_t *self);
int64_t en_msg_timestamp (en_msg_t *self);
//  Borrowed; never NULL.
json_t *en_msg_body (en_msg_t *self);
//  Body as compact JSON; caller frees.
char *en_msg_body_text (en_msg_t *self);

//  True if command is part of the protocol.
bool en_msg_command_known (const char *command);
//  True if command is delivered reliably (outbox, ACK, dedup).
bool en_msg_command_reliable (const char *command);

//  Helpers to read body fields: borrowed string or NULL, integer or dflt.
const char *en_json_str (json_t *obj, const char *key);
int64_t en_json_int (json_t *obj, const char *key, int64_t dflt);

#endif
