/*  probe - a hostile EXPN3 client for the integration tests.

        probe --endpoint tcp://127.0.0.1:PORT --server-cert BROKER.cert
              --cert-dir DIR --name NAME [--region REGION] [--seed N]
              SCENARIO

    The probe holds a real enrolled key pair (DIR/NAME.cert_secret, and
    DIR/NAME.sign_secret for signatures) and talks to a running broker
    over CURVE like a node would, except that it writes the frames itself,
    so it can send what no well-behaved node ever sends. Everything it
    sends carries a valid Ed25519 signature over the frames it actually
    sends (unless a check is about the signature), so malformed messages
    reach the check they target rather than the signature check. Each check prints one line, "ok - ..." or "not ok - ...",
    the way tests/integration/lib.sh does; the exit code is 0 when every
    check passed, 1 when one failed, 2 on a usage or setup error.

    Scenarios:
      hostile  HELLO; one of every kind of malformed message, each of
               which must get ERROR with the code docs/protocol.md gives;
               a SUBMIT with a BSN, a date of birth or a relative's name
               in its question (422 from the broker's own PII guard,
               nothing stored); a valid SUBMIT twice under one message id (both ACKed,
               processed once); signatures and replays: a zeroed
               signature, a body or timestamp altered after signing, a
               key pair the broker does not know, a timestamp 8 days old
               or 10 minutes ahead (403, nothing stored), a message id
               reused for different content (409, original unchanged);
               500 randomly damaged messages from a fixed seed, mostly
               seven frames and validly signed; then the broker must still
               answer PING. Last, a frame
               over the transport limit, which makes libzmq drop the
               connection: the broker must still welcome a new one.
               Prints, so the script can compare with the broker's
               database: "# request ID" and "# submit MSGID" for the one
               request it submitted and the message that did;
               "# refused-request ID" for each request in a SUBMIT the
               broker had to refuse; "# refused-submit MSGID" for each
               SUBMIT refused for its signature or time (no trace in the
               broker's dedup table); "# refused-once MSGID CODE" for a
               SUBMIT whose refusal is recorded and must stay so after a
               replay; and "# accepted-submits N" for the number of
               SUBMIT message ids the broker acknowledged.
      hello    HELLO, and wait 3 s for WELCOME: exit 0 if it came (signed
               with the broker's sign-key, as a node requires), 1 if not
               (an unenrolled key, a wrong broker key).

    Replies are matched by the "ref" of ACK and ERROR. Decode failures
    before the id is read carry ref "", so the probe sends one malformed
    message at a time and waits for its answer before the next. OFFER,
    WITHDRAW and STATUS the broker sends to this node are ACKed. Every
    message from the broker is checked against the sign-key in its
    certificate (signature and time window), and counted if it fails.
*/
#include "expertnet.h"
#include <getopt.h>
#include <unistd.h>
#include <errno.h>

#define REPLY_TIMEOUT   3000    //  ms to wait for any one answer
#define GARBAGE_COUNT   500     //  random messages in the hostile scenario
#define DEFAULT_SEED    20250611

typedef struct {
    const char *endpoint;       //  broker endpoint
    const char *name;           //  our node name (the key's name)
    const char *region;         //  region we announce in HELLO
    char *server_key;           //  broker public key (z85)
    zcert_t *cert;              //  our key pair
    en_signer_t *signer;        //  our Ed25519 key (next to the cert)
    unsigned char broker_sign_key [32];     //  the broker's, from its cert
    bool broker_can_sign;       //  its cert has a sign-key
    int broker_messages;        //  messages from the broker decoded
    int broker_unverified;      //  ...of which failed signature or time
    zsock_t *dealer;            //  current connection to the broker
    uint64_t rng;               //  xorshift64* state (fixed seed: repeatable)
    int checks;                 //  checks run
    int failures;               //  checks failed
    int accepted_submits;       //  SUBMIT message ids the broker ACKed
    int garbage_accepted;       //  ...of which damaged ones
    zhashx_t *submits;          //  id of every SUBMIT sent -> "sent" | "acked"
    zhashx_t *garbage_submits;  //  ids of damaged SUBMITs we sent
    int garbage_seven;          //  damaged messages sent with 7 frames
    int garbage_answers [600];  //  answers during the garbage run, by code
                                //  (ERROR code; 0 ACK; 1 PONG; 2 other)
} s_probe_t;

//  --------------------------------------------------------------------
//  Output

static bool
s_check (s_probe_t *self, bool passed, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

static bool
s_check (s_probe_t *self, bool passed, const char *format, ...)
{
    char text [512];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    self->checks++;
    if (!passed)
        self->failures++;
    printf ("%s - probe: %s\n", passed ? "ok" : "not ok", text);
    fflush (stdout);
    return passed;
}

//  --------------------------------------------------------------------
//  Connection

static void
s_connect (s_probe_t *self)
{
    zsock_destroy (&self->dealer);
    self->dealer = zsock_new (ZMQ_DEALER);
    assert (self->dealer);
    en_keys_client (self->dealer, self->cert, self->server_key);
    zsock_set_linger (self->dealer, 0);
    zsock_set_rcvhwm (self->dealer, 100000);
    zsock_set_sndhwm (self->dealer, 100000);
    zsock_connect (self->dealer, "%s", self->endpoint);
}

static char *
s_stamp (void)
{
    return zsys_sprintf ("%lld", (long long) en_now_ms ());
}

static char *
s_stamp_at (int64_t offset_ms)
{
    return zsys_sprintf ("%lld", (long long) (en_now_ms () + offset_ms));
}

//  Sign frames the way lib/en_msg.c (s_signed_content) builds the signed
//  content: each frame preceded by its length, 4 bytes big-endian, in
//  order. Given frames 0-5 as sent, this is the signature a peer expects.
static void
s_sign_parts (en_signer_t *signer, size_t count, const byte **data, const size_t *sizes,
              byte signature [EN_SIGNATURE])
{
    size_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += 4 + sizes [i];
    byte *content = (byte *) malloc (total ? total : 1);
    assert (content);
    byte *cursor = content;
    for (size_t i = 0; i < count; i++) {
        uint32_t len = (uint32_t) sizes [i];
        *cursor++ = (byte) (len >> 24);
        *cursor++ = (byte) (len >> 16);
        *cursor++ = (byte) (len >> 8);
        *cursor++ = (byte) len;
        if (sizes [i])
            memcpy (cursor, data [i], sizes [i]);
        cursor += sizes [i];
    }
    en_signer_sign (signer, content, total, signature);
    free (content);
}

//  The same over the first count frames of a frame array.
static void
s_sign_frames (en_signer_t *signer, zframe_t **frames, size_t count, byte signature [EN_SIGNATURE])
{
    const byte *data [16];
    size_t sizes [16];
    assert (count <= 16);
    for (size_t i = 0; i < count; i++) {
        data [i] = zframe_data (frames [i]);
        sizes [i] = zframe_size (frames [i]);
    }
    s_sign_parts (signer, count, data, sizes, signature);
}

//  How to sign a message in s_send_signed
typedef struct {
    en_signer_t *signer;        //  NULL: 64 zero bytes
    const char *signed_stamp;   //  sign this timestamp, send the real one
    const char *signed_body;    //  sign this body, send the real one
} s_signing_t;

//  Send six text frames and a signature (see s_signing_t); NULL fields
//  take a valid default (fresh id, our name, now, "{}"). A SUBMIT's id is
//  remembered, to count the broker's ACKs. Returns the id used (caller
//  frees).
static char *
s_send_signed (s_probe_t *self, s_signing_t signing, const char *protocol, const char *command,
               const char *id, const char *sender, const char *stamp, const char *body)
{
    char *fresh_id = id ? strdup (id) : en_new_id ();
    char *now = s_stamp ();
    const char *parts [6] = { protocol ? protocol : EN_PROTOCOL, command, fresh_id,
                              sender ? sender : self->name, stamp ? stamp : now, body ? body : "{}" };
    zmsg_t *msg = zmsg_new ();
    for (int i = 0; i < 6; i++)
        zmsg_addstr (msg, parts [i]);
    byte signature [EN_SIGNATURE] = { 0 };
    if (signing.signer) {
        if (signing.signed_stamp)
            parts [4] = signing.signed_stamp;
        if (signing.signed_body)
            parts [5] = signing.signed_body;
        const byte *data [6];
        size_t sizes [6];
        for (int i = 0; i < 6; i++) {
            data [i] = (const byte *) parts [i];
            sizes [i] = strlen (parts [i]);
        }
        s_sign_parts (signing.signer, 6, data, sizes, signature);
    }
    zmsg_addmem (msg, signature, EN_SIGNATURE);
    if (streq (command, "SUBMIT") && !zhashx_lookup (self->submits, fresh_id))
        zhashx_insert (self->submits, fresh_id, (void *) "sent");
    zmsg_send (&msg, self->dealer);
    free (now);
    return fresh_id;
}

//  The same, validly signed with our key.
static char *
s_send6 (s_probe_t *self, const char *protocol, const char *command, const char *id,
         const char *sender, const char *stamp, const char *body)
{
    return s_send_signed (self, (s_signing_t) { self->signer, NULL, NULL },
                          protocol, command, id, sender, stamp, body);
}

//  Send a well-formed message with a JSON body (reference stolen).
static char *
s_send_json (s_probe_t *self, const char *command, const char *id, json_t *body)
{
    char *text = json_dumps (body, JSON_COMPACT);
    json_decref (body);
    char *used = s_send6 (self, NULL, command, id, NULL, NULL, text);
    free (text);
    return used;
}

//  ACK a reliable message the broker sent us, as a node would.
static void
s_ack (s_probe_t *self, en_msg_t *msg)
{
    en_msg_t *ack = en_msg_new ("ACK", self->name, json_pack ("{s:s}", "ref", en_msg_id (msg)));
    en_msg_send (ack, self->dealer, NULL, self->signer);
    en_msg_destroy (&ack);
}

//  Count the broker's ACKs of our SUBMITs (each message id once), and
//  note an ACK of one of the damaged SUBMITs of the garbage run.
static void
s_note_ack (s_probe_t *self, const char *ref)
{
    const char *state = (const char *) zhashx_lookup (self->submits, ref);
    if (state && streq (state, "sent")) {
        zhashx_update (self->submits, ref, (void *) "acked");
        self->accepted_submits++;
        if (self->garbage_submits && zhashx_lookup (self->garbage_submits, ref)) {
            self->garbage_accepted++;
            printf ("# garbage SUBMIT %s was accepted\n", ref);
        }
    }
}

//  The refs of an ACK (cumulative in EXPN/3: one ACK per batch), each
//  noted; true if want_ref is one of them
static bool
s_note_answer (s_probe_t *self, en_msg_t *msg, const char *want_ref)
{
    json_t *refs = streq (en_msg_command (msg), "ACK") ? en_msg_ack_refs (msg, NULL) : NULL;
    bool wanted = false;
    size_t index;
    json_t *ref;
    json_array_foreach (refs, index, ref) {
        s_note_ack (self, json_string_value (ref));
        wanted = wanted || (want_ref && streq (want_ref, json_string_value (ref)));
    }
    json_decref (refs);
    return wanted;
}

//  Check a message from the broker: signed with its sign-key, in time.
static void
s_check_broker (s_probe_t *self, en_msg_t *msg)
{
    self->broker_messages++;
    if (!self->broker_can_sign)
        return;
    en_error_t error = { 0 };
    if (!en_msg_authentic (msg, self->broker_sign_key))
        en_error_set (&error, EN_ERR_FORBIDDEN, "signature does not verify with the broker's sign-key");
    else
        en_msg_check_time (msg, en_now_ms (), &error);
    if (error.code) {
        self->broker_unverified++;
        printf ("# %s %s from the broker: %s\n", en_msg_command (msg), en_msg_id (msg), error.reason);
    }
}

//  Wait for the answer we expect: with want_ref, the ACK or ERROR whose
//  ref is want_ref ("" matches a connection-level ERROR); with
//  want_command (WELCOME, PONG), that command; for WELCOME also an ERROR
//  with ref "" (the broker refusing the connection).
//  Reliable messages from the broker are ACKed on the way. Returns the
//  answer (caller destroys) or NULL after timeout_ms.
static en_msg_t *
s_await (s_probe_t *self, const char *want_ref, const char *want_command, int timeout_ms)
{
    int64_t until = en_now_ms () + timeout_ms;
    zpoller_t *poller = zpoller_new (self->dealer, NULL);
    en_msg_t *found = NULL;
    while (!found) {
        int64_t left = until - en_now_ms ();
        if (left <= 0 || !zpoller_wait (poller, (int) left))
            break;
        zmsg_t *raw = zmsg_recv (self->dealer);
        if (!raw)
            break;
        en_error_t error;
        en_msg_t *msg = en_msg_decode (raw, &error);
        zmsg_destroy (&raw);
        if (!msg) {
            printf ("# undecodable message from the broker: %d %s\n", error.code, error.reason);
            self->broker_messages++;
            self->broker_unverified++;
            continue;
        }
        s_check_broker (self, msg);
        const char *command = en_msg_command (msg);
        const char *ref = en_json_str (en_msg_body (msg), "ref");
        if (self->garbage_submits) {
            int code = streq (command, "ERROR") ? (int) en_json_int (en_msg_body (msg), "code", 2)
                     : streq (command, "ACK") ? 0 : streq (command, "PONG") ? 1 : 2;
            //  A cumulative ACK answers each message it names
            json_t *refs = code == 0 ? en_msg_ack_refs (msg, NULL) : NULL;
            self->garbage_answers [code >= 0 && code < 600 ? code : 2] += refs ? json_array_size (refs) : 1;
            json_decref (refs);
        }
        if (en_msg_command_reliable (command))
            s_ack (self, msg);
        else
        if (streq (command, "BATCH")) {
            //  EXPN/3: the broker's OFFERs and STATUSes under one signature
            zlistx_t *inner = en_msg_unbatch (msg, &error);
            if (!inner) {
                printf ("# malformed BATCH from the broker: %s\n", error.reason);
                self->broker_unverified++;
            }
            for (en_msg_t *one = inner ? (en_msg_t *) zlistx_first (inner) : NULL; one;
                 one = (en_msg_t *) zlistx_next (inner))
                s_ack (self, one);
            zlistx_destroy (&inner);
        }
        else
        if (streq (command, "ACK") || streq (command, "ERROR")) {
            if (s_note_answer (self, msg, want_ref) && !ref) {
                //  Found in a cumulative ACK: the answer as if it came alone
                en_msg_t *one = en_msg_restore ("ACK", en_msg_id (msg), en_msg_sender (msg),
                                                en_msg_timestamp (msg), json_pack ("{s:s}", "ref", want_ref));
                en_msg_destroy (&msg);
                msg = one;
                found = msg;
            }
            else
            if (want_ref && ref && streq (ref, want_ref))
                found = msg;
            else
            if (want_command && streq (want_command, "WELCOME") && streq (command, "ERROR")
            &&  ref && !*ref)
                found = msg;            //  refused as a connection (e.g. not enrolled)
        }
        else
        if (want_command && streq (command, want_command))
            found = msg;
        if (msg != found)
            en_msg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    return found;
}

//  Describe an answer for a check line.
static const char *
s_describe (en_msg_t *msg, char *buf, size_t size)
{
    if (!msg)
        snprintf (buf, size, "no answer");
    else
    if (streq (en_msg_command (msg), "ERROR"))
        snprintf (buf, size, "ERROR %lld '%s'", (long long) en_json_int (en_msg_body (msg), "code", 0),
                  en_json_str (en_msg_body (msg), "reason") ?: "");
    else
        snprintf (buf, size, "%s", en_msg_command (msg));
    return buf;
}

//  Check that the answer to ref is ERROR code (and, if given, that the
//  reason contains needle).
static void
s_expect_error (s_probe_t *self, const char *what, const char *ref, int code, const char *needle)
{
    en_msg_t *reply = s_await (self, ref, NULL, REPLY_TIMEOUT);
    char got [320];
    s_describe (reply, got, sizeof got);
    bool passed = reply && streq (en_msg_command (reply), "ERROR")
               && en_json_int (en_msg_body (reply), "code", 0) == code;
    const char *reason = reply ? en_json_str (en_msg_body (reply), "reason") : NULL;
    if (passed && needle)
        passed = reason && strstr (reason, needle);
    s_check (self, passed, "%s -> ERROR %d%s%s%s (got %s)", what, code,
             needle ? " naming '" : "", needle ? needle : "", needle ? "'" : "", got);
    en_msg_destroy (&reply);
}

static void
s_expect_ack (s_probe_t *self, const char *what, const char *ref)
{
    en_msg_t *reply = s_await (self, ref, NULL, REPLY_TIMEOUT);
    char got [320];
    s_check (self, reply && streq (en_msg_command (reply), "ACK"), "%s -> ACK (got %s)", what,
             s_describe (reply, got, sizeof got));
    en_msg_destroy (&reply);
}

static bool
s_expect_command (s_probe_t *self, const char *what, const char *command, int timeout_ms)
{
    en_msg_t *reply = s_await (self, NULL, command, timeout_ms);
    char got [320];
    bool passed = s_check (self, reply && streq (en_msg_command (reply), command), "%s -> %s (got %s)",
                           what, command, s_describe (reply, got, sizeof got));
    en_msg_destroy (&reply);
    return passed;
}

static void
s_send_hello (s_probe_t *self)
{
    char *id = s_send_json (self, "HELLO", NULL, json_pack ("{s:s, s:s, s:s}",
                            "node", self->name, "region", self->region, "version", "probe"));
    free (id);
}

static void
s_send_ping (s_probe_t *self)
{
    char *id = s_send6 (self, NULL, "PING", NULL, NULL, NULL, "{}");
    free (id);
}

//  Send raw frames (sizes given; data may hold any bytes).
static void
s_send_raw (s_probe_t *self, int count, const char **data, const size_t *sizes)
{
    zmsg_t *msg = zmsg_new ();
    for (int i = 0; i < count; i++)
        zmsg_addmem (msg, data [i], sizes [i]);
    zmsg_send (&msg, self->dealer);
}

//  A valid request summary for our region.
static json_t *
s_summary (const char *id, const char *region)
{
    return json_pack ("{s:s, s:s, s:s, s:s, s:[s], s:s}",
        "id", id, "region", region, "urgency", "hoog",
        "question_type", "consultatie-advies", "expertise", "trauma", "age_band", "12-17");
}

//  A SUBMIT body as text (summary stolen; caller frees).
static char *
s_submit_body (json_t *summary)
{
    json_t *body = json_pack ("{s:o}", "request", summary);
    char *text = json_dumps (body, JSON_COMPACT);
    json_decref (body);
    return text;
}

//  --------------------------------------------------------------------
//  Random damage (xorshift64*, fixed seed: the same 500 messages every run)

static uint64_t
s_random (s_probe_t *self)
{
    self->rng ^= self->rng >> 12;
    self->rng ^= self->rng << 25;
    self->rng ^= self->rng >> 27;
    return self->rng * 2685821657736338717ULL;
}

static size_t
s_below (s_probe_t *self, size_t n)
{
    return n ? (size_t) (s_random (self) % n) : 0;
}

static const char *s_commands [] = {
    "HELLO", "WELCOME", "PING", "PONG", "ACK", "ERROR", "SUBMIT", "AVAILABILITY", "BATCH",
    "ACCEPT", "DECLINE", "ADVICE", "CLOSE", "OFFER", "WITHDRAW", "STATUS",
    "FROB", "hello", "", NULL };

//  Bodies that reach the per-command checks. None is a valid request
//  summary or expert list, so the broker must store nothing from them.
static const char *s_bodies [] = {
    "{}", "[]", "null", "\"x\"", "{\"a\":1,\"a\":2}", "{\"region\":\"\"}",
    "{\"region\":\"twente\",\"node\":\"twente\"}",
    "{\"request\":{}}", "{\"request\":[]}", "{\"request\":\"twente-1\"}",
    "{\"request\":{\"id\":\"twente-g\",\"region\":\"twente\",\"urgency\":\"crisis\","
        "\"question_type\":\"procesregie\",\"expertise\":[\"lvb\"],\"age_band\":\"4-11\","
        "\"naam\":\"Jan de Vries\"}}",
    "{\"request\":{\"id\":\"twente-h\",\"region\":\"twente\",\"urgency\":\"crisis\","
        "\"question_type\":\"procesregie\",\"expertise\":[],\"age_band\":\"4-11\"}}",
    "{\"request\":{\"id\":\"TWENTE\",\"region\":\"twente\",\"urgency\":\"crisis\","
        "\"question_type\":\"procesregie\",\"expertise\":[\"a\"],\"age_band\":\"4-11\"}}",
    "{\"experts\":{}}", "{\"experts\":[{}]}", "{\"experts\":[null,1,\"x\"]}",
    "{\"experts\":[{\"id\":\"e1\",\"region\":\"twente\",\"role\":\"superexpert\",\"capacity\":99}]}",
    "{\"offer\":\"\"}", "{\"offer\":\"no-such-offer-o1\"}", "{\"offer\":\"../../etc\"}",
    "{\"offer\":\"x-o1\",\"reason\":\"\"}", "{\"offer\":\"x-o1\",\"text\":123}",
    "{\"request\":\"nope\",\"outcome\":[]}",
    "{\"ref\":\"\"}", "{\"ref\":\"00000000000000000000000000000000\",\"code\":\"x\"}",
    "{\"ref\":null,\"code\":500}", "{\"\\u0000\":1}", "{\"a\":\"\\ud800\"}",
    "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
    "{\"a\":1e999999}", "{\"a\":-9223372036854775809}", "{", "}", "\xff\xfe", "",
    NULL };

static size_t
s_count (const char **list)
{
    size_t n = 0;
    while (list [n])
        n++;
    return n;
}

//  Random bytes into a new frame of up to max bytes.
static zframe_t *
s_random_frame (s_probe_t *self, size_t max)
{
    size_t size = s_below (self, max + 1);
    zframe_t *frame = zframe_new (NULL, size);
    byte *data = zframe_data (frame);
    for (size_t i = 0; i < size; i++)
        data [i] = (byte) s_random (self);
    return frame;
}

static zframe_t *
s_text_frame (const char *text)
{
    return zframe_new (text, strlen (text));
}

//  One damaged message: a plausible message (from the pools above, with a
//  timestamp mostly inside the broker's window) with zero to three
//  mutations of its six content frames (flip a byte, replace, truncate,
//  drop, add or duplicate a frame, put a large one in its place), then a
//  signature: mostly a valid one over the frames as damaged, so that the
//  damage (not the signature) is what the broker refuses; sometimes one
//  over the frames before the damage, zeros, random bytes or a frame of
//  the wrong size, and rarely an extra frame after it. Most messages have
//  seven frames. Returns the id if the message is still a seven-frame
//  SUBMIT with its id frame untouched (caller frees), so an ACK for it can
//  be noticed.
#define GARBAGE_FRAMES 12

static char *
s_garbage (s_probe_t *self)
{
    //  Mostly valid frames, so that many messages reach the body checks
    static const char *protocols [] = { EN_PROTOCOL, EN_PROTOCOL, EN_PROTOCOL, EN_PROTOCOL, EN_PROTOCOL,
                                        EN_PROTOCOL, EN_PROTOCOL, "EXPN1", "EXPN2", "ZMTP", NULL };
    const char *senders [] = { self->name, self->name, self->name, self->name, self->name,
                               "ijsselland", "Twente", "-", NULL };
    const char *command = s_commands [s_below (self, s_count (s_commands))];
    char id [33];
    for (int i = 0; i < 32; i++)
        id [i] = "0123456789abcdef" [s_below (self, 16)];
    id [32] = 0;
    //  Inside the window (up to 6 days old or 4 minutes ahead) 9 times in
    //  10; else too old or too far ahead
    const int64_t minute = 60000, day = 86400000;
    int64_t now = en_now_ms (), when;
    size_t pick = s_below (self, 20);
    if (pick < 18)
        when = pick % 3 == 2 ? now + (int64_t) s_below (self, 4 * minute)
                             : now - (int64_t) s_below (self, 6 * day);
    else
    if (pick == 18)
        when = now - 8 * day - (int64_t) s_below (self, 1000 * day);
    else
        when = now + 6 * minute + (int64_t) s_below (self, 1000 * day);
    char stamp [24];
    snprintf (stamp, sizeof stamp, "%lld", (long long) when);

    zframe_t *frames [GARBAGE_FRAMES + 2];
    size_t count = 0;
    frames [count++] = s_text_frame (protocols [s_below (self, s_count (protocols))]);
    frames [count++] = s_text_frame (command);
    frames [count++] = s_text_frame (id);
    frames [count++] = s_text_frame (senders [s_below (self, s_count (senders))]);
    frames [count++] = s_text_frame (stamp);
    frames [count++] = s_text_frame (s_bodies [s_below (self, s_count (s_bodies))]);
    //  The signature of the undamaged message, for some
    byte undamaged [EN_SIGNATURE];
    s_sign_frames (self->signer, frames, count, undamaged);

    bool id_damaged = false;
    int mutations = (int) s_below (self, 4);
    for (int m = 0; m < mutations; m++) {
        int kind = (int) s_below (self, 9);
        //  Kinds 7 and 8 flip a byte of the body (frame 5, else the last)
        size_t index = kind >= 7 ? (count > 5 ? 5 : count - 1) : s_below (self, count);
        zframe_t *frame = frames [index];
        size_t size = zframe_size (frame);
        if (index <= 2 && kind <= 3)
            id_damaged = true;          //  the id frame changed or moved
        switch (kind) {
            case 0:                     //  flip one byte
            case 7:
            case 8:
                if (size)
                    zframe_data (frame) [s_below (self, size)] ^= (byte) (1 + s_below (self, 255));
                break;
            case 1:                     //  replace with random bytes
                zframe_destroy (&frames [index]);
                frames [index] = s_random_frame (self, 64);
                break;
            case 2:                     //  truncate
                frames [index] = zframe_new (zframe_data (frame), s_below (self, size + 1));
                zframe_destroy (&frame);
                break;
            case 3:                     //  drop
                if (count > 1) {
                    zframe_destroy (&frames [index]);
                    memmove (frames + index, frames + index + 1, (count - index - 1) * sizeof (zframe_t *));
                    count--;
                }
                break;
            case 4:                     //  add a random frame
                if (count < GARBAGE_FRAMES)
                    frames [count++] = s_random_frame (self, 2000);
                break;
            case 5:                     //  duplicate a frame at the end
                if (count < GARBAGE_FRAMES)
                    frames [count++] = zframe_dup (frame);
                break;
            default:                    //  a large random frame in its place
                zframe_destroy (&frames [index]);
                frames [index] = s_random_frame (self, EN_MAX_BODY + 16);
                if (index <= 2)
                    id_damaged = true;
                break;
        }
    }
    //  The signature frame
    byte signature [2 * EN_SIGNATURE] = { 0 };  //  room for kind 19's wrong size
    size_t kind = s_below (self, 20);
    if (kind < 16)                      //  valid for what is sent
        s_sign_frames (self->signer, frames, count < 6 ? count : 6, signature);
    else
    if (kind == 16)                     //  valid before the damage
        memcpy (signature, undamaged, EN_SIGNATURE);
    else
    if (kind == 17)
        memset (signature, 0, EN_SIGNATURE);
    else
        for (size_t i = 0; i < EN_SIGNATURE; i++)
            signature [i] = (byte) s_random (self);
    if (kind == 19)                     //  the wrong size
        frames [count++] = zframe_new (signature, s_below (self, 2 * EN_SIGNATURE + 1));
    else
        frames [count++] = zframe_new (signature, EN_SIGNATURE);
    if (s_below (self, 40) == 0)        //  rarely: a frame after the signature
        frames [count++] = s_random_frame (self, 100);

    if (count == EN_FRAMES)
        self->garbage_seven++;
    zmsg_t *msg = zmsg_new ();
    for (size_t i = 0; i < count; i++)
        zmsg_append (msg, &frames [i]);
    zmsg_send (&msg, self->dealer);
    return streq (command, "SUBMIT") && count == EN_FRAMES && !id_damaged ? strdup (id) : NULL;
}

//  --------------------------------------------------------------------
//  Scenarios

static int
s_scenario_hello (s_probe_t *self)
{
    int64_t start = en_now_ms ();
    int unverified = self->broker_unverified;
    s_send_hello (self);
    en_msg_t *reply = s_await (self, NULL, "WELCOME", 3000);
    int rc = 1;
    if (reply && streq (en_msg_command (reply), "WELCOME") && self->broker_unverified > unverified)
        printf ("# hello: a WELCOME came, but not signed with the broker's sign-key: refused as a node would\n");
    else
    if (reply && streq (en_msg_command (reply), "WELCOME")) {
        printf ("# hello: WELCOME from %s after %lld ms\n",
                en_json_str (en_msg_body (reply), "broker") ?: "?", (long long) (en_now_ms () - start));
        rc = 0;
    }
    else {
        char got [320];
        printf ("# hello: no WELCOME within 3 s (%s)\n", s_describe (reply, got, sizeof got));
    }
    en_msg_destroy (&reply);
    return rc;
}

//  The broker does not have request (CLOSE of it is 404 "no request"),
//  and the script is told to look for it too.
static void
s_expect_not_stored (s_probe_t *self, const char *what, const char *request, const char *msg_id)
{
    //  A message refused for its signature or time leaves no trace
    if (msg_id)
        printf ("# refused-submit %s\n", msg_id);
    char *id = s_send_json (self, "CLOSE", NULL, json_pack ("{s:s}", "request", request));
    char text [256];
    snprintf (text, sizeof text, "%s: request not stored (CLOSE of it)", what);
    s_expect_error (self, text, id, EN_ERR_NOT_FOUND, "no request");
    free (id);
    printf ("# refused-request %s\n", request);
}

//  A SUBMIT body for a fresh request of ours: "<region>-probe-<suffix>-<tag>"
static char *
s_fresh_submit (s_probe_t *self, const char *suffix, const char *tag, char *request, size_t size)
{
    snprintf (request, size, "%s-probe-%s-%s", self->region, suffix, tag);
    return s_submit_body (s_summary (request, self->region));
}

//  Remove a key directory made by en_keys_generate.
static void
s_remove_keys (const char *dir, const char *name)
{
    const char *suffixes [] = { "cert", "cert_secret", "sign_secret", NULL };
    for (int i = 0; suffixes [i]; i++) {
        char path [PATH_MAX + 128];
        snprintf (path, sizeof path, "%s/%s.%s", dir, name, suffixes [i]);
        unlink (path);
    }
    rmdir (dir);
}

static int
s_scenario_hostile (s_probe_t *self)
{
    //  (a) a proper HELLO first, so refusals are about the messages
    s_send_hello (self);
    if (!s_expect_command (self, "HELLO", "WELCOME", 5000))
        return 1;

    //  Frame-level damage: the id is not read, so ref is ""
    const char *one [] = { EN_PROTOCOL };
    s_send_raw (self, 1, one, (size_t []) { strlen (EN_PROTOCOL) });
    s_expect_error (self, "1 frame", "", EN_ERR_BAD_REQUEST, "frames");
    char *id = en_new_id ();
    char *stamp = s_stamp ();
    const char *parts [6] = { EN_PROTOCOL, "PING", id, self->name, stamp, "{}" };
    size_t sizes [6];
    for (int i = 0; i < 6; i++)
        sizes [i] = strlen (parts [i]);
    byte signature [EN_SIGNATURE];
    s_sign_parts (self->signer, 6, (const byte **) parts, sizes, signature);
    //  Five frames; six (the EXPN1 shape: no signature, though in EXPN3)
    s_send_raw (self, 5, parts, sizes);
    s_expect_error (self, "5 frames", "", EN_ERR_BAD_REQUEST, "frames");
    s_send_raw (self, 6, parts, sizes);
    s_expect_error (self, "6 frames (no signature frame)", "", EN_ERR_BAD_REQUEST, "frames");
    //  Eight: a signed message and one frame more
    const char *eight [8] = { parts [0], parts [1], parts [2], parts [3], parts [4], parts [5],
                              (const char *) signature, "{}" };
    s_send_raw (self, 8, eight, (size_t []) { sizes [0], sizes [1], sizes [2], sizes [3], sizes [4],
                                              sizes [5], EN_SIGNATURE, 2 });
    s_expect_error (self, "8 frames (a frame after the signature)", "", EN_ERR_BAD_REQUEST, "frames");
    //  The same seven, correctly: the broker answers (so the framing above
    //  was the only thing wrong)
    const char *seven [7] = { parts [0], parts [1], parts [2], parts [3], parts [4], parts [5],
                              (const char *) signature };
    s_send_raw (self, 7, seven, (size_t []) { sizes [0], sizes [1], sizes [2], sizes [3], sizes [4],
                                              sizes [5], EN_SIGNATURE });
    s_expect_command (self, "the same PING in 7 frames, signed by hand", "PONG", REPLY_TIMEOUT);
    free (id);
    free (stamp);
    free (s_send6 (self, "NOPE", "PING", NULL, NULL, NULL, NULL));
    s_expect_error (self, "frame 0 'NOPE'", "", EN_ERR_BAD_REQUEST, NULL);
    free (s_send6 (self, "EXPN1", "PING", NULL, NULL, NULL, NULL));
    s_expect_error (self, "frame 0 'EXPN1' (7 frames)", "", EN_ERR_VERSION, "EXPN1");
    //  An EXPN1 node as it was: six frames, no signature
    id = en_new_id ();
    stamp = s_stamp ();
    const char *expn1 [6] = { "EXPN1", "PING", id, self->name, stamp, "{}" };
    s_send_raw (self, 6, expn1, (size_t []) { 5, 4, 32, strlen (self->name), strlen (stamp), 2 });
    s_expect_error (self, "an EXPN1 message (6 frames)", "", EN_ERR_VERSION, "EXPN1");
    free (id);
    free (stamp);
    free (s_send6 (self, "EXPN9", "PING", NULL, NULL, NULL, NULL));
    s_expect_error (self, "frame 0 'EXPN9'", "", EN_ERR_VERSION, "EXPN9");
    free (s_send6 (self, NULL, "PING", "0123456789abcdef", NULL, NULL, NULL));
    s_expect_error (self, "short message id", "", EN_ERR_BAD_REQUEST, "id");
    free (s_send6 (self, NULL, "PING", "0123456789ABCDEF0123456789ABCDEF", NULL, NULL, NULL));
    s_expect_error (self, "uppercase message id", "", EN_ERR_BAD_REQUEST, "id");

    //  From here the id is read: errors name the message
    id = en_new_id ();
    stamp = s_stamp ();
    const char *short_signature [7] = { EN_PROTOCOL, "PING", id, self->name, stamp, "{}",
                                        (const char *) signature };
    s_send_raw (self, 7, short_signature, (size_t []) { strlen (EN_PROTOCOL), 4, 32, strlen (self->name),
                                                        strlen (stamp), 2, EN_SIGNATURE - 1 });
    s_expect_error (self, "signature frame of 63 octets", id, EN_ERR_BAD_REQUEST, "signature");
    free (id);
    free (stamp);
    //  EXPN/3: an empty frame 6 on PING (a transport command) is vouched
    //  for by the CURVE connection; on anything else it is refused 403
    id = en_new_id ();
    stamp = s_stamp ();
    const char *unsigned_ping [7] = { EN_PROTOCOL, "PING", id, self->name, stamp, "{}", "" };
    s_send_raw (self, 7, unsigned_ping, (size_t []) { strlen (EN_PROTOCOL), 4, 32, strlen (self->name),
                                                      strlen (stamp), 2, 0 });
    s_expect_command (self, "an unsigned PING (empty frame 6)", "PONG", REPLY_TIMEOUT);
    free (id);
    const char *bodies [] = { "SUBMIT", "{\"request\":{}}", "HELLO", "{\"region\":\"twente\"}", NULL };
    for (int i = 0; bodies [i]; i += 2) {
        id = en_new_id ();
        const char *unsigned_msg [7] = { EN_PROTOCOL, bodies [i], id, self->name, stamp, bodies [i + 1], "" };
        s_send_raw (self, 7, unsigned_msg, (size_t []) { strlen (EN_PROTOCOL), strlen (bodies [i]), 32,
                                                         strlen (self->name), strlen (stamp),
                                                         strlen (bodies [i + 1]), 0 });
        char what [64];
        snprintf (what, sizeof what, "an unsigned %s (empty frame 6)", bodies [i]);
        s_expect_error (self, what, id, EN_ERR_FORBIDDEN, "carries no signature");
        free (id);
    }
    free (stamp);
    free (s_send6 (self, "EXPN2", "PING", NULL, NULL, NULL, NULL));
    s_expect_error (self, "frame 0 'EXPN2' (the version before this one)", "", EN_ERR_VERSION, "EXPN2");
    id = s_send6 (self, NULL, "FROB", NULL, NULL, NULL, NULL);
    s_expect_error (self, "unknown command FROB", id, EN_ERR_BAD_REQUEST, "unknown command");
    free (id);
    id = s_send6 (self, NULL, "", NULL, NULL, NULL, NULL);
    s_expect_error (self, "empty command frame", id, EN_ERR_BAD_REQUEST, NULL);
    free (id);
    id = s_send6 (self, NULL, "PING", NULL, "Twente", NULL, NULL);
    s_expect_error (self, "sender not a name", id, EN_ERR_BAD_REQUEST, "sender");
    free (id);
    id = s_send6 (self, NULL, "PING", NULL, NULL, "abc", NULL);
    s_expect_error (self, "timestamp 'abc'", id, EN_ERR_BAD_REQUEST, "timestamp");
    free (id);
    id = s_send6 (self, NULL, "PING", NULL, NULL, "0", NULL);
    s_expect_error (self, "timestamp '0'", id, EN_ERR_BAD_REQUEST, "timestamp");
    free (id);
    id = s_send6 (self, NULL, "PING", NULL, NULL, "1234567890123456", NULL);
    s_expect_error (self, "timestamp of 16 digits", id, EN_ERR_BAD_REQUEST, "timestamp");
    free (id);
    id = s_send6 (self, NULL, "PING", NULL, NULL, NULL, "this is not json");
    s_expect_error (self, "body not JSON", id, EN_ERR_BAD_REQUEST, "JSON");
    free (id);
    id = s_send6 (self, NULL, "PING", NULL, NULL, NULL, "[1,2,3]");
    s_expect_error (self, "body a JSON array", id, EN_ERR_BAD_REQUEST, "JSON");
    free (id);
    id = s_send6 (self, NULL, "PING", NULL, NULL, NULL, "{\"a\":1,\"a\":2}");
    s_expect_error (self, "body with a duplicate member", id, EN_ERR_BAD_REQUEST, NULL);
    free (id);
    //  A BATCH (EXPN/3) goes from a broker to its nodes only: at the
    //  broker it is refused whole, well-formed or not, and nothing in it
    //  is processed
    char *inner_id = en_new_id ();
    char batch [512];
    snprintf (batch, sizeof batch, "{\"messages\":[{\"command\":\"STATUS\",\"id\":\"%s\","
              "\"timestamp\":%lld,\"body\":\"{}\"}]}", inner_id, (long long) en_now_ms ());
    id = s_send6 (self, NULL, "BATCH", NULL, NULL, NULL, batch);
    s_expect_error (self, "a BATCH sent to the broker", id, EN_ERR_BAD_REQUEST, "not sent to a broker");
    free (id);
    id = s_send6 (self, NULL, "BATCH", NULL, NULL, NULL, "{\"messages\":[{\"command\":\"SUBMIT\"}]}");
    s_expect_error (self, "a malformed BATCH sent to the broker", id, EN_ERR_BAD_REQUEST, "not sent to a broker");
    free (id);
    free (inner_id);

    //  Body size: exactly the limit is read, one more octet is 413. Both
    //  frames stay under the transport limit EN_MAX_WIRE.
    assert (EN_MAX_BODY + 1 < EN_MAX_WIRE);
    char *big = (char *) malloc (EN_MAX_BODY + 2);
    memset (big, 'x', EN_MAX_BODY + 1);
    big [EN_MAX_BODY + 1] = 0;
    memcpy (big, "{\"pad\":\"", 8);
    memcpy (big + EN_MAX_BODY + 1 - 2, "\"}", 2);
    id = s_send6 (self, NULL, "SUBMIT", NULL, NULL, NULL, big);
    s_expect_error (self, "body of 64 KiB + 1 octets", id, EN_ERR_TOO_LARGE, NULL);
    free (id);
    memcpy (big + EN_MAX_BODY - 2, "\"}", 3);
    assert (strlen (big) == EN_MAX_BODY);
    free (s_send6 (self, NULL, "PING", NULL, NULL, NULL, big));
    s_expect_command (self, "PING with a body of exactly 64 KiB", "PONG", REPLY_TIMEOUT);
    free (big);

    //  Identity and direction
    char request_id [64], other_id [64];
    char suffix [9];
    en_random_hex (suffix, 8);
    snprintf (request_id, sizeof request_id, "%s-probe-%s", self->region, suffix);
    snprintf (other_id, sizeof other_id, "%s-probe-%s-x", self->region, suffix);
    char *body = s_submit_body (s_summary (other_id, self->region));
    id = s_send6 (self, NULL, "SUBMIT", NULL, "ijsselland", NULL, body);
    s_expect_error (self, "SUBMIT with sender 'ijsselland' on our key", id, EN_ERR_FORBIDDEN, "does not match");
    free (id);
    free (body);
    id = s_send_json (self, "STATUS", NULL, json_pack ("{s:s, s:s, s:s}",
                      "request", other_id, "state", "closed", "event", "closed"));
    s_expect_error (self, "STATUS sent to the broker", id, EN_ERR_BAD_REQUEST, NULL);
    free (id);
    id = s_send_json (self, "WELCOME", NULL, json_object ());
    s_expect_error (self, "WELCOME sent to the broker", id, EN_ERR_BAD_REQUEST, NULL);
    free (id);
    id = s_send_json (self, "HELLO", NULL, json_pack ("{s:s}", "node", self->name));
    s_expect_error (self, "HELLO without region", id, EN_ERR_INVALID, "region");
    free (id);

    //  Body semantics
    json_t *summary = s_summary (other_id, self->region);
    json_object_set_new (summary, "urgency", json_string ("spoed"));
    char *spoed_body = s_submit_body (summary);
    char *spoed_stamp = s_stamp ();
    char *spoed = s_send6 (self, NULL, "SUBMIT", NULL, NULL, spoed_stamp, spoed_body);
    s_expect_error (self, "SUBMIT with urgency 'spoed'", spoed, EN_ERR_INVALID, "urgency");
    summary = s_summary (other_id, self->region);
    json_object_set_new (summary, "naam", json_string ("Jan de Vries"));
    id = s_send_json (self, "SUBMIT", NULL, json_pack ("{s:o}", "request", summary));
    s_expect_error (self, "SUBMIT with unknown field 'naam'", id, EN_ERR_INVALID, "naam");
    free (id);
    id = s_send_json (self, "SUBMIT", NULL, json_object ());
    s_expect_error (self, "SUBMIT without a request", id, EN_ERR_INVALID, NULL);
    free (id);
    //  Personal data in the question (synthetic): the broker's own PII
    //  guard refuses it, naming the field and the kind, and stores nothing
    char pii_request [80];
    snprintf (pii_request, sizeof pii_request, "%s-probe-%s-pii", self->region, suffix);
    summary = s_summary (pii_request, self->region);
    json_object_set_new (summary, "question", json_string (
        "Jongen, BSN 111222333, geboren 17-05-2013, moeder Hanneke vraagt hulp."));
    id = s_send_json (self, "SUBMIT", NULL, json_pack ("{s:o}", "request", summary));
    s_expect_error (self, "SUBMIT with a BSN, a date of birth and a name in its question", id, EN_ERR_INVALID,
                    "field 'request.question' contains a BSN");
    free (id);
    s_expect_not_stored (self, "the SUBMIT with personal data", pii_request, NULL);
    summary = s_summary (pii_request, self->region);
    json_object_set_new (summary, "question", json_string ("Jongen, geboren 17-05-2013, moeder Hanneke."));
    id = s_send_json (self, "SUBMIT", NULL, json_pack ("{s:o}", "request", summary));
    s_expect_error (self, "SUBMIT with a date of birth in its question", id, EN_ERR_INVALID, "a date of birth");
    free (id);
    summary = s_summary (pii_request, self->region);
    json_object_set_new (summary, "question", json_string ("Gesprek met moeder Hanneke."));
    id = s_send_json (self, "SUBMIT", NULL, json_pack ("{s:o}", "request", summary));
    s_expect_error (self, "SUBMIT with a relative's name in its question", id, EN_ERR_INVALID, "a name");
    free (id);
    id = s_send_json (self, "ACCEPT", NULL, json_pack ("{s:s}", "offer", "twente-nosuch-o1"));
    s_expect_error (self, "ACCEPT of an unknown offer", id, EN_ERR_NOT_FOUND, NULL);
    free (id);
    id = s_send_json (self, "ACCEPT", NULL, json_pack ("{s:s}", "offer", "../etc/passwd"));
    s_expect_error (self, "ACCEPT of an invalid offer id", id, EN_ERR_INVALID, "offer");
    free (id);
    id = s_send_json (self, "CLOSE", NULL, json_pack ("{s:s}", "request", "twente-nosuch"));
    s_expect_error (self, "CLOSE of an unknown request", id, EN_ERR_NOT_FOUND, NULL);
    free (id);

    //  A refused reliable message keeps its answer when sent again as it
    //  was; under the same id with other content it is a replay (409)
    free (s_send6 (self, NULL, "SUBMIT", spoed, NULL, spoed_stamp, spoed_body));
    s_expect_error (self, "exact resend of the 'spoed' SUBMIT", spoed, EN_ERR_INVALID, "urgency");
    printf ("# refused-once %s %d\n", spoed, EN_ERR_INVALID);
    body = s_submit_body (s_summary (other_id, self->region));
    free (s_send6 (self, NULL, "SUBMIT", spoed, NULL, spoed_stamp, body));
    s_expect_error (self, "the 'spoed' SUBMIT's id with a valid body (correctly signed)", spoed,
                    EN_ERR_CONFLICT, "different content");
    s_expect_not_stored (self, "the valid body under the refused id", other_id, NULL);
    free (body);
    free (spoed_body);
    free (spoed_stamp);
    free (spoed);

    //  Signatures: each SUBMIT below is valid but for its signature or
    //  time, and carries a request of its own; none may be stored
    char forged [80];
    body = s_fresh_submit (self, suffix, "s0", forged, sizeof forged);
    id = s_send_signed (self, (s_signing_t) { NULL, NULL, NULL }, NULL, "SUBMIT", NULL, NULL, NULL, body);
    s_expect_error (self, "SUBMIT with a zeroed signature", id, EN_ERR_FORBIDDEN, "signature");
    s_expect_not_stored (self, "zeroed signature", forged, id);
    free (id);
    free (body);

    body = s_fresh_submit (self, suffix, "s1", forged, sizeof forged);
    json_t *altered = s_summary (forged, self->region);
    json_object_set_new (altered, "urgency", json_string ("crisis"));
    char *altered_body = s_submit_body (altered);
    id = s_send_signed (self, (s_signing_t) { self->signer, NULL, body }, NULL, "SUBMIT", NULL, NULL,
                        NULL, altered_body);
    s_expect_error (self, "SUBMIT whose body was altered after signing (hoog -> crisis)", id,
                    EN_ERR_FORBIDDEN, "signature");
    s_expect_not_stored (self, "body altered after signing", forged, id);
    free (id);
    free (altered_body);
    free (body);

    body = s_fresh_submit (self, suffix, "s2", forged, sizeof forged);
    char *signed_stamp = s_stamp_at (-1000);
    id = s_send_signed (self, (s_signing_t) { self->signer, signed_stamp, NULL }, NULL, "SUBMIT", NULL, NULL,
                        NULL, body);
    s_expect_error (self, "SUBMIT whose timestamp was altered after signing (1 s)", id,
                    EN_ERR_FORBIDDEN, "signature");
    s_expect_not_stored (self, "timestamp altered after signing", forged, id);
    free (signed_stamp);
    free (id);
    free (body);

    //  A key pair the broker does not know, under our name
    char key_dir [PATH_MAX];
    const char *tmp = getenv ("TMPDIR");
    snprintf (key_dir, sizeof key_dir, "%s/probe-keys-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    en_signer_t *stranger = NULL;
    en_error_t error = { 0 };
    if (mkdtemp (key_dir)) {
        if (en_keys_generate (key_dir, self->name, &error) == 0)
            stranger = en_signer_load (key_dir, self->name, &error);
        s_remove_keys (key_dir, self->name);
    }
    else
        en_error_set (&error, EN_ERR_INTERNAL, "(mkdtemp: %s)", strerror (errno));
    if (s_check (self, stranger != NULL, "a second key pair for '%s' made in a temp dir%s%s", self->name,
                 stranger ? "" : ": ", stranger ? "" : error.reason)) {
        s_check (self, memcmp (en_signer_public (stranger), en_signer_public (self->signer), 32) != 0,
                 "the second key pair is not ours");
        body = s_fresh_submit (self, suffix, "s3", forged, sizeof forged);
        id = s_send_signed (self, (s_signing_t) { stranger, NULL, NULL }, NULL, "SUBMIT", NULL, NULL, NULL, body);
        s_expect_error (self, "SUBMIT signed with a key pair the broker does not know", id,
                        EN_ERR_FORBIDDEN, "signature");
        s_expect_not_stored (self, "unknown key pair", forged, id);
        free (id);
        free (body);
        id = s_send_signed (self, (s_signing_t) { stranger, NULL, NULL }, NULL, "PING", NULL, NULL, NULL, NULL);
        s_expect_error (self, "PING signed with that key pair (no PONG)", id, EN_ERR_FORBIDDEN, "signature");
        free (id);
        en_signer_destroy (&stranger);
    }

    //  Time: correctly signed, outside [now - 7 days, now + 5 minutes]
    body = s_fresh_submit (self, suffix, "t1", forged, sizeof forged);
    stamp = s_stamp_at (-8LL * 86400 * 1000);
    id = s_send6 (self, NULL, "SUBMIT", NULL, NULL, stamp, body);
    s_expect_error (self, "SUBMIT with a timestamp 8 days old (correctly signed)", id,
                    EN_ERR_FORBIDDEN, "replay");
    s_expect_not_stored (self, "8 days old", forged, id);
    free (stamp);
    free (id);
    free (body);
    body = s_fresh_submit (self, suffix, "t2", forged, sizeof forged);
    stamp = s_stamp_at (10LL * 60 * 1000);
    id = s_send6 (self, NULL, "SUBMIT", NULL, NULL, stamp, body);
    s_expect_error (self, "SUBMIT with a timestamp 10 minutes ahead (correctly signed)", id,
                    EN_ERR_FORBIDDEN, "future");
    s_expect_not_stored (self, "10 minutes ahead", forged, id);
    free (stamp);
    free (id);
    free (body);
    //  Inside the window: 6 days old is accepted (here a PING)
    stamp = s_stamp_at (-6LL * 86400 * 1000);
    free (s_send6 (self, NULL, "PING", NULL, NULL, stamp, NULL));
    s_expect_command (self, "PING with a timestamp 6 days old", "PONG", REPLY_TIMEOUT);
    free (stamp);

    //  Exactly once: the same SUBMIT twice is ACKed twice, stored once
    body = s_submit_body (s_summary (request_id, self->region));
    char *submit_stamp = s_stamp ();
    char *submit = s_send6 (self, NULL, "SUBMIT", NULL, NULL, submit_stamp, body);
    en_msg_t *first = s_await (self, submit, NULL, REPLY_TIMEOUT);
    char got [320];
    s_check (self, first && streq (en_msg_command (first), "ACK"), "valid SUBMIT -> ACK (got %s)",
             s_describe (first, got, sizeof got));
    printf ("# request %s\n", request_id);
    printf ("# submit %s\n", submit);
    free (s_send6 (self, NULL, "SUBMIT", submit, NULL, submit_stamp, body));
    en_msg_t *again = s_await (self, submit, NULL, REPLY_TIMEOUT);
    s_check (self, first && again && streq (en_msg_command (again), "ACK")
                && json_equal (en_msg_body (again), en_msg_body (first)),
             "exact resend of the SUBMIT (same id, time, body) -> the same ACK (got %s)",
             s_describe (again, got, sizeof got));
    en_msg_destroy (&first);
    en_msg_destroy (&again);
    //  The same id with other content, correctly signed: a replay, refused
    //  without touching the original (a new time; another urgency for the
    //  same request; another request)
    stamp = s_stamp_at (1000);
    free (s_send6 (self, NULL, "SUBMIT", submit, NULL, stamp, body));
    s_expect_error (self, "the SUBMIT's id with a new timestamp", submit, EN_ERR_CONFLICT, "different content");
    free (stamp);
    summary = s_summary (request_id, self->region);
    json_object_set_new (summary, "urgency", json_string ("crisis"));
    char *other_body = s_submit_body (summary);
    free (s_send6 (self, NULL, "SUBMIT", submit, NULL, submit_stamp, other_body));
    s_expect_error (self, "the SUBMIT's id with urgency 'crisis' for the same request", submit,
                    EN_ERR_CONFLICT, "different content");
    free (other_body);
    other_body = s_fresh_submit (self, suffix, "r1", forged, sizeof forged);
    free (s_send6 (self, NULL, "SUBMIT", submit, NULL, submit_stamp, other_body));
    s_expect_error (self, "the SUBMIT's id with another request", submit, EN_ERR_CONFLICT, "different content");
    s_expect_not_stored (self, "another request under a used message id", forged, NULL);
    free (other_body);
    //  ...and the original is still there, answered as before
    free (s_send6 (self, NULL, "SUBMIT", submit, NULL, submit_stamp, body));
    s_expect_ack (self, "exact resend after the replays", submit);
    id = s_send6 (self, NULL, "SUBMIT", NULL, NULL, NULL, body);
    s_expect_error (self, "same request under a new message id", id, EN_ERR_CONFLICT, request_id);
    free (id);
    free (submit_stamp);
    free (submit);
    free (body);

    //  500 damaged messages, then (b) the broker must still answer
    self->garbage_submits = zhashx_new ();
    for (int i = 0; i < GARBAGE_COUNT; i++) {
        char *submit_id = s_garbage (self);
        if (submit_id)
            zhashx_update (self->garbage_submits, submit_id, (void *) "SUBMIT");
        free (submit_id);
    }
    //  The broker answers in order: once the answer to this marker is
    //  here, every answer to the damaged messages (PONGs too) is in
    id = s_send_json (self, "ACCEPT", NULL, json_pack ("{s:s}", "offer", "twente-marker-o1"));
    en_msg_t *marker = s_await (self, id, NULL, 15000);
    s_check (self, marker && en_json_int (en_msg_body (marker), "code", 0) == EN_ERR_NOT_FOUND,
             "a message after the damaged ones is answered in order (ACCEPT -> 404)");
    en_msg_destroy (&marker);
    free (id);
    s_send_ping (self);
    s_expect_command (self, "PING after 500 damaged messages", "PONG", REPLY_TIMEOUT);
    s_check (self, self->garbage_accepted == 0, "no damaged SUBMIT was accepted (%d accepted, of %zu)",
             self->garbage_accepted, zhashx_size (self->garbage_submits));
    //  What the damage met: mostly the checks it targets, not the
    //  signature check (the marker's 404 is in the tally too)
    int *tally = self->garbage_answers;
    printf ("# answers to the damaged messages: ACK %d, PONG %d, 400 %d, 401 %d, 403 %d, 404 %d, "
            "409 %d, 413 %d, 422 %d, 505 %d, other %d\n", tally [0], tally [1], tally [400], tally [401],
            tally [403], tally [404] - 1, tally [409], tally [413], tally [422], tally [505], tally [2]);
    s_check (self, self->garbage_seven > GARBAGE_COUNT / 2, "most damaged messages had 7 frames (%d of %d)",
             self->garbage_seven, GARBAGE_COUNT);
    s_check (self, tally [1] + tally [404] - 1 + tally [409] + tally [422] > 0 && tally [403] < GARBAGE_COUNT / 4,
             "damaged but signed messages get past the signature check to the body checks "
             "(%d answered PONG/404/409/422, %d 403)", tally [1] + tally [404] - 1 + tally [409] + tally [422],
             tally [403]);
    zhashx_destroy (&self->garbage_submits);

    //  A frame over the transport limit: libzmq drops the connection and
    //  nothing answers; the broker must welcome a fresh connection.
    size_t huge = EN_MAX_WIRE + 4096;
    char *oversize = (char *) malloc (huge + 1);
    memset (oversize, ' ', huge);
    oversize [0] = '{';
    oversize [huge - 1] = '}';
    oversize [huge] = 0;
    zmq_socket_monitor (zsock_resolve (self->dealer), "inproc://probe-monitor", ZMQ_EVENT_DISCONNECTED);
    zsock_t *monitor = zsock_new_pair ("inproc://probe-monitor");
    id = s_send6 (self, NULL, "PING", NULL, NULL, NULL, oversize);
    free (oversize);
    en_msg_t *reply = s_await (self, id, "PONG", 1500);
    s_check (self, reply == NULL, "frame of %zu octets gets no answer (got %s)", huge,
             s_describe (reply, got, sizeof got));
    en_msg_destroy (&reply);
    free (id);
    zsock_set_rcvtimeo (monitor, 1000);
    zmsg_t *event = zmsg_recv (monitor);
    s_check (self, event != NULL, "the broker closed the connection that carried it");
    zmsg_destroy (&event);
    zmq_socket_monitor (zsock_resolve (self->dealer), NULL, 0);
    zsock_destroy (&monitor);
    s_connect (self);
    s_send_hello (self);
    s_expect_command (self, "HELLO on a fresh connection after the oversize frame", "WELCOME", 5000);
    s_send_ping (self);
    s_expect_command (self, "PING on the fresh connection", "PONG", REPLY_TIMEOUT);

    s_check (self, self->accepted_submits == 1, "exactly one SUBMIT message id was acknowledged (%d)",
             self->accepted_submits);
    s_check (self, self->broker_can_sign, "the broker's certificate has a sign-key");
    s_check (self, self->broker_messages > 0 && self->broker_unverified == 0,
             "every message from the broker verifies with its sign-key, in time (%d of %d did not)",
             self->broker_unverified, self->broker_messages);
    printf ("# accepted-submits %d\n", self->accepted_submits);
    printf ("# %d checks, %d failed\n", self->checks, self->failures);
    return self->failures ? 1 : 0;
}

//  --------------------------------------------------------------------

static void
s_usage (void)
{
    fprintf (stderr,
        "usage: probe --endpoint ENDPOINT --server-cert BROKER.cert --cert-dir DIR --name NAME\n"
        "             [--region REGION] [--seed N] hostile|hello\n");
}

int
main (int argc, char *argv [])
{
    s_probe_t probe = { .rng = DEFAULT_SEED };
    s_probe_t *self = &probe;
    const char *server_cert = NULL, *cert_dir = NULL;
    static struct option options [] = {
        { "endpoint", required_argument, NULL, 'e' },
        { "server-cert", required_argument, NULL, 's' },
        { "cert-dir", required_argument, NULL, 'd' },
        { "name", required_argument, NULL, 'n' },
        { "region", required_argument, NULL, 'r' },
        { "seed", required_argument, NULL, 'S' },
        { NULL, 0, NULL, 0 } };
    int option;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (option) {
            case 'e': self->endpoint = optarg; break;
            case 's': server_cert = optarg; break;
            case 'd': cert_dir = optarg; break;
            case 'n': self->name = optarg; break;
            case 'r': self->region = optarg; break;
            case 'S': self->rng = strtoull (optarg, NULL, 10) ?: DEFAULT_SEED; break;
            default: s_usage (); return 2;
        }
    }
    if (!self->endpoint || !server_cert || !cert_dir || !self->name || optind != argc - 1) {
        s_usage ();
        return 2;
    }
    const char *scenario = argv [optind];
    if (!self->region)
        self->region = self->name;
    zsys_init ();
    zsys_set_logstream (stderr);
    en_error_t error = { 0 };
    self->cert = en_keys_load_secret (cert_dir, self->name, &error);
    self->signer = self->cert ? en_signer_load (cert_dir, self->name, &error) : NULL;
    zcert_t *server = self->signer ? en_keys_load_public (server_cert, &error) : NULL;
    if (!server) {
        fprintf (stderr, "probe: %s\n", error.reason);
        zcert_destroy (&self->cert);
        en_signer_destroy (&self->signer);
        return 2;
    }
    self->server_key = strdup (zcert_public_txt (server));
    self->broker_can_sign = en_keys_sign_key (server, self->broker_sign_key) == 0;
    if (!self->broker_can_sign)
        printf ("# %s has no sign-key: the broker's messages are not verified\n", server_cert);
    zcert_destroy (&server);
    self->submits = zhashx_new ();
    s_connect (self);

    int rc;
    if (streq (scenario, "hostile"))
        rc = s_scenario_hostile (self);
    else
    if (streq (scenario, "hello"))
        rc = s_scenario_hello (self);
    else {
        s_usage ();
        rc = 2;
    }
    zsock_destroy (&self->dealer);
    zcert_destroy (&self->cert);
    en_signer_destroy (&self->signer);
    zhashx_destroy (&self->submits);
    free (self->server_key);
    return rc;
}
