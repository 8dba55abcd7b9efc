/*  probe - a hostile EXPN/1 client for the integration tests.

        probe --endpoint tcp://127.0.0.1:PORT --server-cert BROKER.cert
              --cert-dir DIR --name NAME [--region REGION] [--seed N]
              SCENARIO

    The probe holds a real enrolled key pair (DIR/NAME.cert_secret) and
    talks to a running broker over CURVE like a node would, except that it
    writes the frames itself, so it can send what no well-behaved node
    ever sends. Each check prints one line, "ok - ..." or "not ok - ...",
    the way tests/integration/lib.sh does; the exit code is 0 when every
    check passed, 1 when one failed, 2 on a usage or setup error.

    Scenarios:
      hostile  HELLO; one of every kind of malformed message, each of
               which must get ERROR with the code docs/protocol.md gives;
               a valid SUBMIT twice under one message id (both ACKed,
               processed once); 500 randomly damaged messages from a fixed
               seed; then the broker must still answer PING. Last, a frame
               over the transport limit, which makes libzmq drop the
               connection: the broker must still welcome a new one.
               Prints "# request ID" for the one request it submitted
               and "# accepted-submits N" for the number of SUBMITs the
               broker acknowledged, so the script can compare with the
               broker's database.
      hello    HELLO, and wait 3 s for WELCOME: exit 0 if it came, 1 if
               not (an unenrolled key, a wrong broker key).

    Replies are matched by the "ref" of ACK and ERROR. Decode failures
    before the id is read carry ref "", so the probe sends one malformed
    message at a time and waits for its answer before the next. OFFER,
    WITHDRAW and STATUS the broker sends to this node are ACKed.
*/
#include "expertnet.h"
#include <getopt.h>

#define REPLY_TIMEOUT   3000    //  ms to wait for any one answer
#define GARBAGE_COUNT   500     //  random messages in the hostile scenario
#define DEFAULT_SEED    20250611

typedef struct {
    const char *endpoint;       //  broker endpoint
    const char *name;           //  our node name (the key's name)
    const char *region;         //  region we announce in HELLO
    char *server_key;           //  broker public key (z85)
    zcert_t *cert;              //  our key pair
    zsock_t *dealer;            //  current connection to the broker
    uint64_t rng;               //  xorshift64* state (fixed seed: repeatable)
    int checks;                 //  checks run
    int failures;               //  checks failed
    int accepted_submits;       //  SUBMITs the broker ACKed
    zhashx_t *garbage_submits;  //  ids of damaged SUBMITs we sent
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

//  Send six text frames; NULL fields take a valid default (fresh id, our
//  name, now, "{}"). Returns the id used (caller frees).
static char *
s_send6 (s_probe_t *self, const char *protocol, const char *command, const char *id,
         const char *sender, const char *stamp, const char *body)
{
    char *fresh_id = id ? strdup (id) : en_new_id ();
    char *now = s_stamp ();
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, protocol ? protocol : EN_PROTOCOL);
    zmsg_addstr (msg, command);
    zmsg_addstr (msg, fresh_id);
    zmsg_addstr (msg, sender ? sender : self->name);
    zmsg_addstr (msg, stamp ? stamp : now);
    zmsg_addstr (msg, body ? body : "{}");
    zmsg_send (&msg, self->dealer);
    free (now);
    return fresh_id;
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
    en_msg_send (ack, self->dealer, NULL);
    en_msg_destroy (&ack);
}

//  Note an answer to one of the damaged SUBMITs of the garbage run.
static void
s_note_answer (s_probe_t *self, en_msg_t *msg)
{
    const char *ref = en_json_str (en_msg_body (msg), "ref");
    if (ref && streq (en_msg_command (msg), "ACK") && self->garbage_submits
    &&  zhashx_lookup (self->garbage_submits, ref)) {
        self->accepted_submits++;
        printf ("# garbage SUBMIT %s was accepted\n", ref);
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
            continue;
        }
        const char *command = en_msg_command (msg);
        const char *ref = en_json_str (en_msg_body (msg), "ref");
        if (en_msg_command_reliable (command))
            s_ack (self, msg);
        else
        if (streq (command, "ACK") || streq (command, "ERROR")) {
            s_note_answer (self, msg);
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
    "HELLO", "WELCOME", "PING", "PONG", "ACK", "ERROR", "SUBMIT", "AVAILABILITY",
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

//  One damaged message: a plausible six-frame message (from the pools
//  above) with zero to three mutations (flip a byte, replace, truncate,
//  drop, add or duplicate a frame, put a large one in its place). Returns the id if the message is still a
//  six-frame SUBMIT with its id frame untouched (caller frees), so an ACK
//  for it can be noticed.
#define GARBAGE_FRAMES 12

static char *
s_garbage (s_probe_t *self)
{
    //  Mostly valid frames, so that many messages reach the body checks
    static const char *protocols [] = { EN_PROTOCOL, EN_PROTOCOL, EN_PROTOCOL, EN_PROTOCOL, EN_PROTOCOL,
                                        EN_PROTOCOL, "EXPN2", "ZMTP", NULL };
    const char *senders [] = { self->name, self->name, self->name, self->name, self->name,
                               "ijsselland", "Twente", "-", NULL };
    const char *command = s_commands [s_below (self, s_count (s_commands))];
    char id [33];
    for (int i = 0; i < 32; i++)
        id [i] = "0123456789abcdef" [s_below (self, 16)];
    id [32] = 0;
    char stamp [24];
    snprintf (stamp, sizeof stamp, "%llu",
              (unsigned long long) (1700000000000ULL + s_below (self, 100000000000ULL)));

    zframe_t *frames [GARBAGE_FRAMES];
    size_t count = 0;
    frames [count++] = s_text_frame (protocols [s_below (self, s_count (protocols))]);
    frames [count++] = s_text_frame (command);
    frames [count++] = s_text_frame (id);
    frames [count++] = s_text_frame (senders [s_below (self, s_count (senders))]);
    frames [count++] = s_text_frame (stamp);
    frames [count++] = s_text_frame (s_bodies [s_below (self, s_count (s_bodies))]);

    bool id_damaged = false;
    int mutations = (int) s_below (self, 4);
    for (int m = 0; m < mutations; m++) {
        int kind = (int) s_below (self, 9);
        //  Kinds 7 and 8 flip a byte of the last frame (the body, mostly)
        size_t index = kind >= 7 ? count - 1 : s_below (self, count);
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
    s_send_hello (self);
    en_msg_t *reply = s_await (self, NULL, "WELCOME", 3000);
    int rc = 1;
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

static int
s_scenario_hostile (s_probe_t *self)
{
    //  (a) a proper HELLO first, so refusals are about the messages
    s_send_hello (self);
    if (!s_expect_command (self, "HELLO", "WELCOME", 5000))
        return 1;

    //  Frame-level damage: the id is not read, so ref is ""
    const char *one [] = { EN_PROTOCOL };
    s_send_raw (self, 1, one, (size_t []) { 5 });
    s_expect_error (self, "1 frame", "", EN_ERR_BAD_REQUEST, "frames");
    char *id = en_new_id ();
    char *stamp = s_stamp ();
    const char *five [] = { EN_PROTOCOL, "PING", id, self->name, stamp };
    s_send_raw (self, 5, five, (size_t []) { 5, 4, 32, strlen (self->name), strlen (stamp) });
    s_expect_error (self, "5 frames", "", EN_ERR_BAD_REQUEST, "frames");
    const char *seven [] = { EN_PROTOCOL, "PING", id, self->name, stamp, "{}", "{}" };
    s_send_raw (self, 7, seven, (size_t []) { 5, 4, 32, strlen (self->name), strlen (stamp), 2, 2 });
    s_expect_error (self, "7 frames", "", EN_ERR_BAD_REQUEST, "frames");
    free (id);
    free (stamp);
    free (s_send6 (self, "NOPE", "PING", NULL, NULL, NULL, NULL));
    s_expect_error (self, "frame 0 'NOPE'", "", EN_ERR_BAD_REQUEST, NULL);
    free (s_send6 (self, "EXPN9", "PING", NULL, NULL, NULL, NULL));
    s_expect_error (self, "frame 0 'EXPN9'", "", EN_ERR_VERSION, "EXPN9");
    free (s_send6 (self, NULL, "PING", "0123456789abcdef", NULL, NULL, NULL));
    s_expect_error (self, "short message id", "", EN_ERR_BAD_REQUEST, "id");
    free (s_send6 (self, NULL, "PING", "0123456789ABCDEF0123456789ABCDEF", NULL, NULL, NULL));
    s_expect_error (self, "uppercase message id", "", EN_ERR_BAD_REQUEST, "id");

    //  From here the id is read: errors name the message
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
    char *spoed = s_send_json (self, "SUBMIT", NULL, json_pack ("{s:o}", "request", summary));
    s_expect_error (self, "SUBMIT with urgency 'spoed'", spoed, EN_ERR_INVALID, "urgency");
    summary = s_summary (other_id, self->region);
    json_object_set_new (summary, "naam", json_string ("Jan de Vries"));
    id = s_send_json (self, "SUBMIT", NULL, json_pack ("{s:o}", "request", summary));
    s_expect_error (self, "SUBMIT with unknown field 'naam'", id, EN_ERR_INVALID, "naam");
    free (id);
    id = s_send_json (self, "SUBMIT", NULL, json_object ());
    s_expect_error (self, "SUBMIT without a request", id, EN_ERR_INVALID, NULL);
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

    //  A refused reliable message keeps its answer
    body = s_submit_body (s_summary (other_id, self->region));
    free (s_send6 (self, NULL, "SUBMIT", spoed, NULL, NULL, body));
    s_expect_error (self, "retransmitted 'spoed' SUBMIT (now with a valid body)", spoed,
                    EN_ERR_INVALID, "urgency");
    free (body);
    free (spoed);

    //  Exactly once: the same SUBMIT twice is ACKed twice, stored once
    body = s_submit_body (s_summary (request_id, self->region));
    char *submit = s_send6 (self, NULL, "SUBMIT", NULL, NULL, NULL, body);
    s_expect_ack (self, "valid SUBMIT", submit);
    free (s_send6 (self, NULL, "SUBMIT", submit, NULL, NULL, body));
    s_expect_ack (self, "same SUBMIT again (same message id)", submit);
    self->accepted_submits++;
    printf ("# request %s\n", request_id);
    id = s_send6 (self, NULL, "SUBMIT", NULL, NULL, NULL, body);
    s_expect_error (self, "same request under a new message id", id, EN_ERR_CONFLICT, request_id);
    free (id);
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
    s_check (self, self->accepted_submits == 1, "no damaged SUBMIT was accepted (%d accepted)",
             self->accepted_submits - 1);
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
    char got [320];
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
    char err [512];
    self->cert = en_keys_load_secret (cert_dir, self->name, err, sizeof err);
    zcert_t *server = self->cert ? en_keys_load_public (server_cert, err, sizeof err) : NULL;
    if (!server) {
        fprintf (stderr, "probe: %s\n", err);
        zcert_destroy (&self->cert);
        return 2;
    }
    self->server_key = strdup (zcert_public_txt (server));
    zcert_destroy (&server);
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
    free (self->server_key);
    return rc;
}
