/*  en_msg - codec and signatures of the EXPN3 wire format.

    Decoding is the first line of defence against hostile or broken peers,
    so it checks everything it can without knowing the command's meaning:
    frame count, protocol and version, command name, id syntax, sender
    name, timestamp, body size and that the body is a JSON object. The
    meaning of body fields is checked by en_vocab and the programs.
    A decode failure fills en_error_t with a protocol error code; it never
    aborts and never touches stored state.
*/
#include "expertnet.h"
#include <sodium.h>
#include <stdarg.h>

static const char *s_body_text (en_msg_t *self);
static json_t *s_body (en_msg_t *self);

struct _en_msg_t {
    char *command;              //  protocol command, e.g. "SUBMIT"
    char *id;                   //  32-hex globally unique message id
    char *sender;               //  name of the origin node or broker
    int64_t timestamp;          //  ms since epoch at the origin
    json_t *body;               //  JSON object, owned (NULL until asked: a BATCH written as text)
    char *body_text;            //  the body's exact wire text, once known
    byte signature [EN_SIGNATURE];      //  as received or as signed
    bool has_signature;         //  frame 6 holds a signature (not empty)
    char digest [65];           //  en_msg_digest, once computed ("" before)
};

typedef struct {
    const char *name;           //  command name
    bool reliable;              //  outboxed, ACKed and deduplicated
    bool transport;             //  sent unsigned: the CURVE connection vouches for it
} s_command_t;

//  ACK, PING and PONG go unsigned (EXPN/3): they only concern the hop,
//  whose CURVE connection already authenticates the peer, and signing and
//  verifying each one was a fifth of a broker's CPU. What changes state
//  beyond the hop stays signed by its sender.
static const s_command_t s_commands [] = {
    { "HELLO", false, false },         //  node -> broker: announce, ask WELCOME
    { "WELCOME", false, false },       //  broker -> node
    { "PING", false, true },    //  node -> broker heartbeat
    { "PONG", false, true },    //  broker -> node heartbeat
    { "ACK", false, true },     //  either way: ref(s) committed
    { "ERROR", false, false },         //  either way: ref refused
    { "SUBMIT", true, false },         //  node -> broker: a consultatieverzoek
    { "AVAILABILITY", true, false },   //  node -> broker: full list of its experts
    { "ACCEPT", true, false },         //  node -> broker: expert accepts an offer
    { "DECLINE", true, false },        //  node -> broker: expert declines an offer
    { "ADVICE", true, false },         //  node -> broker: expert's advice
    { "CLOSE", true, false },          //  node -> broker: origin closes its request
    { "DOSSIER", true, false },        //  both: a dossier sealed to the accepting expert
    { "REPLY", true, false },          //  both: the team's reply to an advice, sealed to the expert
    { "SUMMARY", true, false },        //  node -> broker: a case's anonymized summary (rode draden)
    { "OFFER", true, false },          //  broker -> node: offer to one expert
    { "WITHDRAW", true, false },       //  broker -> node: an offer is no longer open
    { "STATUS", true, false },         //  broker -> node or peer broker: state change of a request
    { "LINK", false, false },          //  broker -> peer broker: open a federation link, ask WELCOME
    { "ADVERT", false, false },        //  broker -> peer broker: what expertise it can serve (seq)
    { "RESYNC", false, false },        //  broker -> peer broker: a gap in ADVERT seqs, send a snapshot
    { "FORWARD", true, false },        //  broker -> peer broker: a node's signed message, carried
    { "RECALL", true, false },         //  broker -> peer broker: drop a request it was handed
    { "TAGS", false, false },          //  broker -> node: the expertise tags the network holds
    { "ANCHOR", true, false },         //  node -> broker, broker -> peer: its access log's head
    { "MESSAGE", true, false },        //  both: a request's conversation, sealed to each participant
    { "RECEIPT", true, false },        //  both: a participant read a message of the conversation
    { "MEMBERS", true, false },        //  broker -> node: the participants of a conversation, their keys
    { "REVIEW", true, false },         //  node -> broker: the origin sets a review date (terug op ET)
    { "REMIND", true, false },         //  broker -> node: a review date came, to an accepting expert
    { "BERAAD", true, false },         //  both: the moreel beraad of a request as a meeting (times, answers)
    { "BATCH", false, false },         //  broker -> node: OFFER/STATUS/WITHDRAW under one signature
    { NULL, false, false }
};

static const s_command_t *
s_command_lookup (const char *command)
{
    for (const s_command_t *c = s_commands; c->name; c++)
        if (streq (c->name, command))
            return c;
    return NULL;
}

bool
en_msg_command_known (const char *command)
{
    return command && s_command_lookup (command) != NULL;
}

bool
en_msg_command_reliable (const char *command)
{
    const s_command_t *c = command ? s_command_lookup (command) : NULL;
    return c && c->reliable;
}

bool
en_msg_command_unsigned (const char *command)
{
    const s_command_t *c = command ? s_command_lookup (command) : NULL;
    return c && c->transport;
}

en_msg_t *
en_msg_restore (const char *command, const char *id, const char *sender,
                int64_t timestamp, json_t *body)
{
    en_msg_t *self = (en_msg_t *) zmalloc (sizeof (en_msg_t));
    assert (self);
    self->command = strdup (command);
    self->id = strdup (id);
    self->sender = strdup (sender);
    self->timestamp = timestamp;
    self->body = body ? body : json_object ();
    return self;
}

en_msg_t *
en_msg_new (const char *command, const char *sender, json_t *body)
{
    char *id = en_new_id ();
    en_msg_t *self = en_msg_restore (command, id, sender, en_now_ms (), body);
    free (id);
    return self;
}

en_msg_t *
en_msg_dup (en_msg_t *self)
{
    const char *text = s_body_text (self);
    en_msg_t *copy = en_msg_restore (self->command, self->id, self->sender, self->timestamp,
                                     json_incref (s_body (self)));
    copy->body_text = strdup (text);
    copy->has_signature = self->has_signature;
    memcpy (copy->signature, self->signature, EN_SIGNATURE);
    return copy;
}

void
en_msg_destroy (en_msg_t **self_p)
{
    assert (self_p);
    en_msg_t *self = *self_p;
    if (self) {
        free (self->command);
        free (self->id);
        free (self->sender);
        free (self->body_text);
        json_decref (self->body);
        free (self);
        *self_p = NULL;
    }
}

//  Copy a frame into a NUL-terminated string if it is printable ASCII and
//  at most max bytes; else NULL.
static char *
s_frame_text (zframe_t *frame, size_t max)
{
    size_t size = zframe_size (frame);
    if (size == 0 || size > max)
        return NULL;
    const byte *data = zframe_data (frame);
    for (size_t i = 0; i < size; i++)
        if (data [i] < 0x20 || data [i] > 0x7e)
            return NULL;
    return zframe_strdup (frame);
}

static bool
s_hex_id_valid (const char *id)
{
    if (strlen (id) != 32)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

//  A message's frames as decoding checks them, one part at a time
typedef struct {
    char *protocol;             //  frame 0, when printable
    char *command;              //  frame 1
    char *id;                   //  frame 2
    char *sender;               //  frame 3
    char *stamp;                //  frame 4, as text
    long long timestamp;        //  frame 4, parsed
    zframe_t *body;             //  frame 5 (borrowed)
    zframe_t *signature;        //  frame 6 (borrowed)
} s_frames_t;

//  Frame 0 and the frame count: is this our protocol, at our version?
static int
s_decode_envelope (zmsg_t *msg, s_frames_t *frames, en_error_t *error)
{
    size_t count = zmsg_size (msg);
    zframe_t *frame = zmsg_first (msg);
    frames->protocol = frame ? s_frame_text (frame, 16) : NULL;
    if (!frames->protocol || strncmp (frames->protocol, "EXPN", 4) != 0)
        return en_error_set (error, EN_ERR_BAD_REQUEST, "not an expertnet message (frame 0 must be '%s')", EN_PROTOCOL);
    if (!streq (frames->protocol, EN_PROTOCOL))
        return en_error_set (error, EN_ERR_VERSION, "protocol version '%s' not supported, this peer speaks '%s'",
                             frames->protocol, EN_PROTOCOL);
    if (count != EN_FRAMES)
        return en_error_set (error, EN_ERR_BAD_REQUEST, "expected %d frames, got %zu", EN_FRAMES, count);
    return 0;
}

//  Frames 1 to 4: id (first, so later errors can reference the message),
//  command (one of the table above), sender and timestamp.
static int
s_decode_header (zmsg_t *msg, s_frames_t *frames, en_error_t *error)
{
    zmsg_first (msg);
    zmsg_next (msg);
    zframe_t *frame = zmsg_next (msg);
    frames->id = s_frame_text (frame, 32);
    if (!frames->id || !s_hex_id_valid (frames->id))
        return en_error_set (error, EN_ERR_BAD_REQUEST, "message id must be 32 lowercase hex characters");
    if (error)
        strcpy (error->ref, frames->id);

    zmsg_first (msg);
    frame = zmsg_next (msg);
    frames->command = s_frame_text (frame, 32);
    if (!frames->command || !en_msg_command_known (frames->command))
        return en_error_set (error, EN_ERR_BAD_REQUEST, "unknown command");
    zmsg_next (msg);
    frame = zmsg_next (msg);
    frames->sender = s_frame_text (frame, 63);
    if (!frames->sender || !en_name_valid (frames->sender))
        return en_error_set (error, EN_ERR_BAD_REQUEST, "sender must be a name of [a-z0-9-]");
    frame = zmsg_next (msg);
    frames->stamp = s_frame_text (frame, 15);
    bool digits = frames->stamp != NULL;
    for (const char *p = frames->stamp; digits && *p; p++)
        digits = *p >= '0' && *p <= '9';
    frames->timestamp = digits ? strtoll (frames->stamp, NULL, 10) : -1;
    if (!digits || frames->timestamp <= 0)
        return en_error_set (error, EN_ERR_BAD_REQUEST, "timestamp must be decimal milliseconds since the epoch");
    return 0;
}

//  Frames 5 and 6: the signature's size, and a body that is a JSON
//  object within the limit. The parsed body, or NULL with error.
static json_t *
s_decode_body (zmsg_t *msg, s_frames_t *frames, en_error_t *error)
{
    frames->body = zmsg_next (msg);
    frames->signature = zmsg_next (msg);
    zframe_t *frame = frames->body;
    //  Empty: no signature (allowed for transport commands only, which
    //  the receiver judges after decoding: 403)
    size_t signature_size = zframe_size (frames->signature);
    if (signature_size != EN_SIGNATURE && signature_size != 0) {
        en_error_set (error, EN_ERR_BAD_REQUEST, "signature frame must be %d bytes (or empty)", EN_SIGNATURE);
        return NULL;
    }
    if (zframe_size (frame) > EN_MAX_BODY) {
        en_error_set (error, EN_ERR_TOO_LARGE, "body of %zu bytes exceeds the limit of %d", zframe_size (frame), EN_MAX_BODY);
        return NULL;
    }
    //  JSON text never holds a NUL byte (a string escapes it), and the
    //  body is signed and stored as a C string: one in the frame would make
    //  the text verified differ from the text parsed
    if (memchr (zframe_data (frame), 0, zframe_size (frame))) {
        en_error_set (error, EN_ERR_BAD_REQUEST, "body is not a JSON object: it holds a NUL byte");
        return NULL;
    }
    json_error_t jerr;
    json_t *body = json_loadb ((const char *) zframe_data (frame), zframe_size (frame),
                               JSON_REJECT_DUPLICATES, &jerr);
    if (!body || !json_is_object (body)) {
        json_decref (body);
        en_error_set (error, EN_ERR_BAD_REQUEST, "body is not a JSON object%s%s",
                      body ? "" : ": ", body ? "" : jerr.text);
        return NULL;
    }
    return body;
}

en_msg_t *
en_msg_decode (zmsg_t *msg, en_error_t *error)
{
    assert (msg);
    if (error)
        memset (error, 0, sizeof *error);
    s_frames_t frames = { 0 };
    en_msg_t *self = NULL;
    json_t *body = NULL;
    if (s_decode_envelope (msg, &frames, error) == 0
    &&  s_decode_header (msg, &frames, error) == 0
    &&  (body = s_decode_body (msg, &frames, error))) {
        self = en_msg_restore (frames.command, frames.id, frames.sender, frames.timestamp, body);
        size_t size = zframe_size (frames.body);
        self->body_text = (char *) malloc (size + 1);
        memcpy (self->body_text, zframe_data (frames.body), size);
        self->body_text [size] = 0;
        self->has_signature = zframe_size (frames.signature) == EN_SIGNATURE;
        if (self->has_signature)
            memcpy (self->signature, zframe_data (frames.signature), EN_SIGNATURE);
    }
    free (frames.protocol);
    free (frames.command);
    free (frames.id);
    free (frames.sender);
    free (frames.stamp);
    return self;
}

//  The body's wire text (computed once, then fixed: it is what is signed)
static const char *
s_body_text (en_msg_t *self)
{
    if (!self->body_text)
        self->body_text = json_dumps (self->body, JSON_COMPACT);
    return self->body_text ? self->body_text : "{}";
}

//  The body as JSON, read from its text the first time it is asked for
//  when the message was made from its text (en_msg_batch: a flush sends
//  a BATCH without ever looking inside it)
static json_t *
s_body (en_msg_t *self)
{
    if (!self->body) {
        self->body = json_loads (self->body_text, JSON_REJECT_DUPLICATES, NULL);
        assert (json_is_object (self->body));   //  we wrote it
    }
    return self->body;
}

//  The signed content: frames 0-5, each with a 4-byte big-endian length.
static byte *
s_signed_content (en_msg_t *self, size_t *size)
{
    char stamp [24];
    snprintf (stamp, sizeof stamp, "%lld", (long long) self->timestamp);
    const char *parts [6] = { EN_PROTOCOL, self->command, self->id, self->sender, stamp, s_body_text (self) };
    size_t total = 0;
    for (int i = 0; i < 6; i++)
        total += 4 + strlen (parts [i]);
    byte *content = (byte *) malloc (total);
    byte *cursor = content;
    for (int i = 0; i < 6; i++) {
        uint32_t len = (uint32_t) strlen (parts [i]);
        *cursor++ = (byte) (len >> 24);
        *cursor++ = (byte) (len >> 16);
        *cursor++ = (byte) (len >> 8);
        *cursor++ = (byte) len;
        memcpy (cursor, parts [i], len);
        cursor += len;
    }
    *size = total;
    return content;
}

en_msg_t *
en_msg_restore_text (const char *command, const char *id, const char *sender,
                     int64_t timestamp, const char *body_text)
{
    json_t *body = json_loads (body_text, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object (body)) {
        json_decref (body);
        return NULL;
    }
    en_msg_t *self = en_msg_restore (command, id, sender, timestamp, body);
    self->body_text = strdup (body_text);
    return self;
}

void
en_msg_sign (en_msg_t *self, en_signer_t *signer)
{
    size_t size;
    byte *content = s_signed_content (self, &size);
    en_signer_sign (signer, content, size, self->signature);
    self->has_signature = true;
    free (content);
}

bool
en_msg_verify (en_msg_t *self, const unsigned char public_key [32])
{
    if (!self->has_signature)
        return false;
    size_t size;
    byte *content = s_signed_content (self, &size);
    bool valid = crypto_sign_verify_detached (self->signature, content, size, public_key) == 0;
    free (content);
    return valid;
}

bool
en_msg_signed (en_msg_t *self)
{
    return self->has_signature;
}

bool
en_msg_authentic (en_msg_t *self, const unsigned char public_key [32])
{
    if (!self->has_signature)
        return en_msg_command_unsigned (self->command);
    return en_msg_verify (self, public_key);
}

int
en_msg_check_time (en_msg_t *self, int64_t now, en_error_t *error)
{
    int rc = 0;
    if (self->timestamp < now - EN_MAX_AGE_MS)
        rc = en_error_set (error, EN_ERR_FORBIDDEN, "timestamp older than %lld days: refused as a possible replay",
                           EN_MAX_AGE_MS / 86400000);
    else
    if (self->timestamp > now + EN_MAX_SKEW_MS)
        rc = en_error_set (error, EN_ERR_FORBIDDEN, "timestamp more than %lld minutes in the future (clock skew?)",
                           EN_MAX_SKEW_MS / 60000);
    //  A clock can be fixed; the message must not be lost to it
    if (rc && error)
        error->temporary = true;
    return rc;
}

void
en_msg_digest (en_msg_t *self, char digest [65])
{
    //  Frames 0-5 do not change once the body text is fixed, and a
    //  receiver asks twice (dedup lookup, seen record)
    if (*self->digest) {
        memcpy (digest, self->digest, 65);
        return;
    }
    size_t size;
    byte *content = s_signed_content (self, &size);
    byte hash [32];
    crypto_generichash (hash, sizeof hash, content, size, NULL, 0);
    free (content);
    sodium_bin2hex (digest, 65, hash, sizeof hash);
    memcpy (self->digest, digest, 65);
}

zmsg_t *
en_msg_encode (en_msg_t *self)
{
    assert (self);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, EN_PROTOCOL);
    zmsg_addstr (msg, self->command);
    zmsg_addstr (msg, self->id);
    zmsg_addstr (msg, self->sender);
    zmsg_addstrf (msg, "%lld", (long long) self->timestamp);
    zmsg_addstr (msg, s_body_text (self));
    if (self->has_signature || !en_msg_command_unsigned (self->command))
        zmsg_addmem (msg, self->signature, EN_SIGNATURE);
    else
        zmsg_addmem (msg, NULL, 0);
    return msg;
}

int
en_msg_send (en_msg_t *self, zsock_t *sock, zframe_t *routing_id, en_signer_t *signer)
{
    if (signer && !en_msg_command_unsigned (self->command))
        en_msg_sign (self, signer);
    zmsg_t *msg = en_msg_encode (self);
    if (routing_id)
        zmsg_prepend (msg, &(zframe_t *) { zframe_dup (routing_id) });
    int rc = zmsg_send (&msg, sock);
    zmsg_destroy (&msg);
    return rc;
}

json_t *
en_msg_export (en_msg_t *self)
{
    char signature [EN_SIGNATURE * 2 + 1];
    sodium_bin2hex (signature, sizeof signature, self->signature, EN_SIGNATURE);
    return json_pack ("{s:s, s:s, s:s, s:I, s:s, s:s}", "command", self->command, "id", self->id,
                      "sender", self->sender, "timestamp", (json_int_t) self->timestamp,
                      "body", s_body_text (self), "signature", signature);
}

//  The frames of a message as if it came alone (frame 6 as given, or
//  empty), through the decoder: an inner or carried message obeys every
//  rule a received one does.
static en_msg_t *
s_decode_parts (const char *command, const char *id, const char *sender, int64_t timestamp,
                const char *body, const byte *signature, en_error_t *error)
{
    zmsg_t *frames = zmsg_new ();
    zmsg_addstr (frames, EN_PROTOCOL);
    zmsg_addstr (frames, command);
    zmsg_addstr (frames, id);
    zmsg_addstr (frames, sender);
    zmsg_addstrf (frames, "%lld", (long long) timestamp);
    zmsg_addstr (frames, body);
    zmsg_addmem (frames, signature, signature ? EN_SIGNATURE : 0);
    en_msg_t *msg = en_msg_decode (frames, error);
    zmsg_destroy (&frames);
    return msg;
}

bool
en_msg_command_batchable (const char *command)
{
    return command && (streq (command, "OFFER") || streq (command, "STATUS") || streq (command, "WITHDRAW"));
}

//  The length of text as a JSON string, quotes included, as jansson
//  writes it (JSON_COMPACT): a quote, a backslash and the controls with
//  a short escape take 2, the other controls 6 (\u00XX), the rest 1.
static size_t
s_quoted_size (const char *text)
{
    size_t size = 2;
    for (const unsigned char *c = (const unsigned char *) text; *c; c++)
        if (*c == '"' || *c == '\\' || *c == '\b' || *c == '\f' || *c == '\n' || *c == '\r' || *c == '\t')
            size += 2;
        else
            size += *c < 0x20 ? 6 : 1;
    return size;
}

//  A message as an entry of a BATCH is {"command", "id", "timestamp",
//  "body" (the exact text)} in this order, written compact; its sender is
//  the BATCH's. The size of its text, counted rather than written (a
//  flush asks it of every message it gathers), and one for the comma.
size_t
en_msg_batch_size (en_msg_t *self)
{
    char stamp [24];
    snprintf (stamp, sizeof stamp, "%lld", (long long) self->timestamp);
    return strlen ("{\"command\":,\"id\":,\"timestamp\":,\"body\":}") + s_quoted_size (self->command)
         + s_quoted_size (self->id) + strlen (stamp) + s_quoted_size (s_body_text (self)) + 1;
}

//  Write text as a JSON string at cursor, as s_quoted_size counts it
//  (and jansson writes it); returns the end
static char *
s_quote_into (char *cursor, const char *text)
{
    *cursor++ = '"';
    for (const unsigned char *c = (const unsigned char *) text; *c; c++) {
        const char *escape = *c == '"' ? "\\\"" : *c == '\\' ? "\\\\" : *c == '\b' ? "\\b"
                           : *c == '\f' ? "\\f" : *c == '\n' ? "\\n" : *c == '\r' ? "\\r"
                           : *c == '\t' ? "\\t" : NULL;
        if (escape) {
            memcpy (cursor, escape, 2);
            cursor += 2;
        }
        else
        if (*c < 0x20)
            cursor += sprintf (cursor, "\\u%04X", *c);
        else
            *cursor++ = (char) *c;
    }
    *cursor++ = '"';
    return cursor;
}

//  A BATCH's body is written as text, entry by entry, in the form
//  en_msg_batch_size counts, as jansson would write it: a flush builds one
//  per destination, and making a JSON tree of every body's text only to
//  write it out again cost more than the BATCH saved (perf,
//  bench_durable). The tree is read from the text if ever asked for.
en_msg_t *
en_msg_batch (const char *sender, zlistx_t *msgs)
{
    assert (zlistx_size (msgs) >= 1 && zlistx_size (msgs) <= EN_BATCH_MAX);
    size_t total = strlen ("{\"messages\":[]}") + 1;
    for (en_msg_t *msg = (en_msg_t *) zlistx_first (msgs); msg; msg = (en_msg_t *) zlistx_next (msgs)) {
        assert (streq (msg->sender, sender) && en_msg_command_batchable (msg->command));
        total += en_msg_batch_size (msg);           //  its comma included
    }
    char *text = (char *) malloc (total);
    assert (text);
    char *cursor = text + sprintf (text, "{\"messages\":[");
    for (en_msg_t *msg = (en_msg_t *) zlistx_first (msgs); msg; msg = (en_msg_t *) zlistx_next (msgs)) {
        if (cursor [-1] == '}')
            *cursor++ = ',';                        //  after the entry before
        cursor = s_quote_into (cursor + sprintf (cursor, "{\"command\":"), msg->command);
        cursor = s_quote_into (cursor + sprintf (cursor, ",\"id\":"), msg->id);
        cursor += sprintf (cursor, ",\"timestamp\":%lld,\"body\":", (long long) msg->timestamp);
        cursor = s_quote_into (cursor, s_body_text (msg));
        *cursor++ = '}';
    }
    cursor += sprintf (cursor, "]}");
    assert ((size_t) (cursor - text) < total);
    char *id = en_new_id ();
    en_msg_t *self = en_msg_restore ("BATCH", id, sender, en_now_ms (), NULL);
    free (id);
    json_decref (self->body);
    self->body = NULL;
    self->body_text = text;
    return self;
}

static void
s_msg_free (void **item)
{
    en_msg_destroy ((en_msg_t **) item);
}

//  Entry index of a BATCH as a message, decoded by the rules of
//  en_msg_decode; NULL with error (400, naming the entry).
static en_msg_t *
s_unbatch_entry (en_msg_t *self, size_t index, json_t *entry, zhashx_t *ids, en_error_t *error)
{
    const char *command = en_json_str (entry, "command");
    const char *id = en_json_str (entry, "id");
    const char *body = en_json_str (entry, "body");
    if (!json_is_object (entry) || !command || !id || !body
    ||  !json_is_integer (json_object_get (entry, "timestamp"))) {
        en_error_set (error, EN_ERR_BAD_REQUEST, "BATCH message %zu: needs command, id, body (text) "
                      "and timestamp (a number)", index);
        return NULL;
    }
    if (!en_msg_command_batchable (command)) {
        en_error_set (error, EN_ERR_BAD_REQUEST, "BATCH message %zu: %.32s may not be batched", index, command);
        return NULL;
    }
    en_error_t inner = { 0 };
    en_msg_t *msg = s_decode_parts (command, id, self->sender, en_json_int (entry, "timestamp", 0), body,
                                    NULL, &inner);
    if (!msg) {
        en_error_set (error, EN_ERR_BAD_REQUEST, "BATCH message %zu: %s", index, inner.reason);
        return NULL;
    }
    if (zhashx_insert (ids, id, (void *) 1)) {
        en_error_set (error, EN_ERR_BAD_REQUEST, "BATCH message %zu: id %s repeated", index, id);
        en_msg_destroy (&msg);
    }
    return msg;
}

zlistx_t *
en_msg_unbatch (en_msg_t *self, en_error_t *error)
{
    json_t *entries = json_object_get (s_body (self), "messages");
    if (!streq (self->command, "BATCH") || !json_is_array (entries)
    ||  json_array_size (entries) < 1 || json_array_size (entries) > EN_BATCH_MAX) {
        en_error_set (error, EN_ERR_BAD_REQUEST, "BATCH: field 'messages' must be a list of 1 to %d messages",
                      EN_BATCH_MAX);
        return NULL;
    }
    zlistx_t *msgs = zlistx_new ();
    zlistx_set_destructor (msgs, s_msg_free);
    zhashx_t *ids = zhashx_new ();
    size_t index;
    json_t *entry;
    json_array_foreach (entries, index, entry) {
        en_msg_t *msg = s_unbatch_entry (self, index, entry, ids, error);
        if (!msg) {
            zlistx_destroy (&msgs);         //  refused whole
            break;
        }
        zlistx_add_end (msgs, msg);
    }
    zhashx_destroy (&ids);
    return msgs;
}

en_msg_t *
en_msg_import (json_t *carried, en_error_t *error)
{
    const char *fields [] = { "command", "id", "sender", "body", "signature" };
    for (size_t i = 0; i < sizeof fields / sizeof fields [0]; i++)
        if (!json_is_string (json_object_get (carried, fields [i]))) {
            en_error_set (error, EN_ERR_BAD_REQUEST, "carried message: field '%s' must be text", fields [i]);
            return NULL;
        }
    if (!json_is_integer (json_object_get (carried, "timestamp"))) {
        en_error_set (error, EN_ERR_BAD_REQUEST, "carried message: field 'timestamp' must be a number");
        return NULL;
    }
    byte signature [EN_SIGNATURE];
    size_t size = 0;
    const char *hex = en_json_str (carried, "signature");
    if (strlen (hex) != EN_SIGNATURE * 2
    ||  sodium_hex2bin (signature, sizeof signature, hex, strlen (hex), NULL, &size, NULL) || size != EN_SIGNATURE) {
        en_error_set (error, EN_ERR_BAD_REQUEST, "carried message: field 'signature' must be 128 hex digits");
        return NULL;
    }
    return s_decode_parts (en_json_str (carried, "command"), en_json_str (carried, "id"),
                           en_json_str (carried, "sender"),
                           json_integer_value (json_object_get (carried, "timestamp")),
                           en_json_str (carried, "body"), signature, error);
}

const char *en_msg_command (en_msg_t *self) { return self->command; }
const char *en_msg_id (en_msg_t *self) { return self->id; }
const char *en_msg_sender (en_msg_t *self) { return self->sender; }
int64_t en_msg_timestamp (en_msg_t *self) { return self->timestamp; }
json_t *en_msg_body (en_msg_t *self) { return s_body (self); }

char *
en_msg_body_text (en_msg_t *self)
{
    return strdup (s_body_text (self));
}

json_t *
en_msg_ack_refs (en_msg_t *self, en_error_t *error)
{
    json_t *refs = json_array ();
    const char *ref = en_json_str (s_body (self), "ref");
    if (ref)
        json_array_append_new (refs, json_string (ref));
    json_t *many = json_object_get (s_body (self), "refs");
    if (many && (!json_is_array (many) || json_array_size (many) > EN_MAX_REFS)) {
        json_decref (refs);
        en_error_set (error, EN_ERR_BAD_REQUEST, "field 'refs' must be a list of at most %d message ids",
                      EN_MAX_REFS);
        return NULL;
    }
    size_t index;
    json_t *item;
    json_array_foreach (many, index, item) {
        if (!json_is_string (item)) {
            json_decref (refs);
            en_error_set (error, EN_ERR_BAD_REQUEST, "field 'refs' must be a list of at most %d message ids",
                          EN_MAX_REFS);
            return NULL;
        }
        json_array_append (refs, item);
    }
    return refs;
}

const char *
en_json_str (json_t *obj, const char *key)
{
    return json_string_value (json_object_get (obj, key));
}

int64_t
en_json_int (json_t *obj, const char *key, int64_t dflt)
{
    json_t *value = json_object_get (obj, key);
    return json_is_integer (value) ? (int64_t) json_integer_value (value) : dflt;
}
