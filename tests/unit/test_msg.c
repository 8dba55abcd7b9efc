/*  test_msg - the EXPN1 codec (include/en_msg.h, lib/en_msg.c).

    The decoder is the first line of defence against broken or hostile
    peers, so every refusal path is tested with its protocol error code,
    and a deterministic mutation loop throws damaged frames at it: it must
    never crash, and must either produce a message that is valid in every
    field or refuse with 400, 413 or 505.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>

#include "expertnet.h"

#define VALID_ID     "0123456789abcdef0123456789abcdef"
#define VALID_STAMP  "1700000000000"
#define VALID_BODY   "{\"request\":{\"id\":\"twente-0001\",\"region\":\"twente\"}}"

//  Build a message from n text frames (NULL entries are skipped).
static zmsg_t *
s_frames (int n, ...)
{
    zmsg_t *msg = zmsg_new ();
    va_list args;
    va_start (args, n);
    for (int i = 0; i < n; i++) {
        const char *text = va_arg (args, const char *);
        if (text)
            zmsg_addstr (msg, text);
    }
    va_end (args);
    return msg;
}

//  A well-formed message with one frame replaced by text.
static zmsg_t *
s_valid_with (int index, const char *text)
{
    const char *frames [EN_FRAMES] = {
        EN_PROTOCOL, "SUBMIT", VALID_ID, "node-twente", VALID_STAMP, VALID_BODY };
    frames [index] = text;
    return s_frames (EN_FRAMES, frames [0], frames [1], frames [2], frames [3],
                     frames [4], frames [5]);
}

//  Decode msg, expect failure with code; returns nothing, asserts all.
static void
s_expect_error (zmsg_t *msg, int code, const char *ref)
{
    en_error_t error;
    //  Garbage first: decode must clear stale fields itself
    memset (&error, 'x', sizeof error);
    en_msg_t *decoded = en_msg_decode (msg, &error);
    assert_null (decoded);
    assert_int_equal (error.code, code);
    assert_true (strlen (error.reason) > 0);
    assert_string_equal (error.ref, ref);
}

static void
test_round_trip (void **state)
{
    json_t *body = json_pack ("{s:{s:s, s:s, s:[s, s]}, s:i, s:b}",
        "request", "id", "twente-0001", "region", "twente", "expertise", "trauma", "jggz",
        "n", 42, "flag", 1);
    json_t *copy = json_deep_copy (body);
    en_msg_t *msg = en_msg_new ("SUBMIT", "node-twente", body);
    assert_non_null (msg);
    assert_string_equal (en_msg_command (msg), "SUBMIT");
    assert_string_equal (en_msg_sender (msg), "node-twente");
    assert_int_equal (strlen (en_msg_id (msg)), 32);
    int64_t now = en_now_ms ();
    assert_true (en_msg_timestamp (msg) <= now && en_msg_timestamp (msg) > now - 10000);

    zmsg_t *wire = en_msg_encode (msg);
    assert_int_equal (zmsg_size (wire), EN_FRAMES);
    char *frame = zmsg_popstr (wire);
    assert_string_equal (frame, EN_PROTOCOL);
    zstr_free (&frame);
    zmsg_destroy (&wire);

    wire = en_msg_encode (msg);
    en_error_t error;
    en_msg_t *decoded = en_msg_decode (wire, &error);
    assert_non_null (decoded);
    assert_int_equal (error.code, 0);
    //  Decoding leaves the frames alone
    assert_int_equal (zmsg_size (wire), EN_FRAMES);
    assert_string_equal (en_msg_command (decoded), "SUBMIT");
    assert_string_equal (en_msg_id (decoded), en_msg_id (msg));
    assert_string_equal (en_msg_sender (decoded), "node-twente");
    assert_int_equal (en_msg_timestamp (decoded), en_msg_timestamp (msg));
    assert_true (json_equal (en_msg_body (decoded), copy));
    assert_string_equal (en_json_str (json_object_get (en_msg_body (decoded), "request"), "region"),
                         "twente");
    assert_int_equal (en_json_int (en_msg_body (decoded), "n", -1), 42);
    assert_int_equal (en_json_int (en_msg_body (decoded), "missing", -1), -1);

    char *text = en_msg_body_text (decoded);
    json_t *reparsed = json_loads (text, 0, NULL);
    assert_true (json_equal (reparsed, copy));
    json_decref (reparsed);
    free (text);

    en_msg_destroy (&decoded);
    assert_null (decoded);
    en_msg_destroy (&decoded);          //  safe twice
    zmsg_destroy (&wire);
    en_msg_destroy (&msg);
    json_decref (copy);
}

static void
test_restore_round_trip (void **state)
{
    en_msg_t *msg = en_msg_restore ("OFFER", VALID_ID, "broker-oost", 1700000000123LL, NULL);
    assert_true (json_is_object (en_msg_body (msg)));
    assert_int_equal (json_object_size (en_msg_body (msg)), 0);
    zmsg_t *wire = en_msg_encode (msg);
    en_error_t error;
    en_msg_t *decoded = en_msg_decode (wire, &error);
    assert_non_null (decoded);
    assert_string_equal (en_msg_id (decoded), VALID_ID);
    assert_string_equal (en_msg_command (decoded), "OFFER");
    assert_string_equal (en_msg_sender (decoded), "broker-oost");
    assert_int_equal (en_msg_timestamp (decoded), 1700000000123LL);
    assert_int_equal (json_object_size (en_msg_body (decoded)), 0);
    en_msg_destroy (&decoded);
    zmsg_destroy (&wire);
    en_msg_destroy (&msg);
}

static void
test_new_ids_unique (void **state)
{
    en_msg_t *a = en_msg_new ("PING", "node-twente", NULL);
    en_msg_t *b = en_msg_new ("PING", "node-twente", NULL);
    assert_string_not_equal (en_msg_id (a), en_msg_id (b));
    en_msg_destroy (&a);
    en_msg_destroy (&b);
}

static void
test_valid_frames_decode (void **state)
{
    zmsg_t *msg = s_valid_with (0, EN_PROTOCOL);
    en_error_t error;
    en_msg_t *decoded = en_msg_decode (msg, &error);
    assert_non_null (decoded);
    assert_string_equal (en_msg_id (decoded), VALID_ID);
    assert_int_equal (en_msg_timestamp (decoded), 1700000000000LL);
    en_msg_destroy (&decoded);
    zmsg_destroy (&msg);
    //  NULL error pointer is allowed
    msg = s_valid_with (1, "FOO");
    assert_null (en_msg_decode (msg, NULL));
    zmsg_destroy (&msg);
}

static void
test_wrong_frame_count (void **state)
{
    zmsg_t *msg = zmsg_new ();
    s_expect_error (msg, EN_ERR_BAD_REQUEST, "");
    zmsg_destroy (&msg);

    msg = s_frames (5, EN_PROTOCOL, "SUBMIT", VALID_ID, "node-twente", VALID_STAMP);
    s_expect_error (msg, EN_ERR_BAD_REQUEST, "");
    zmsg_destroy (&msg);

    msg = s_frames (7, EN_PROTOCOL, "SUBMIT", VALID_ID, "node-twente", VALID_STAMP,
                    VALID_BODY, "extra");
    s_expect_error (msg, EN_ERR_BAD_REQUEST, "");
    zmsg_destroy (&msg);

    msg = s_frames (1, EN_PROTOCOL);
    s_expect_error (msg, EN_ERR_BAD_REQUEST, "");
    zmsg_destroy (&msg);
}

static void
test_not_expn (void **state)
{
    const char *bad [] = { "FOO", "expn1", "EXP", "HTTP/1.1", " EXPN1", NULL };
    for (int i = 0; bad [i]; i++) {
        zmsg_t *msg = s_valid_with (0, bad [i]);
        s_expect_error (msg, EN_ERR_BAD_REQUEST, "");
        zmsg_destroy (&msg);
    }
    //  Empty and binary protocol frames
    zmsg_t *msg = s_valid_with (0, NULL);
    zmsg_pushmem (msg, "", 0);
    assert_int_equal (zmsg_size (msg), EN_FRAMES);
    s_expect_error (msg, EN_ERR_BAD_REQUEST, "");
    zmsg_destroy (&msg);

    msg = s_valid_with (0, NULL);
    zmsg_pushmem (msg, "EXPN1\0", 6);
    s_expect_error (msg, EN_ERR_BAD_REQUEST, "");
    zmsg_destroy (&msg);

    msg = s_valid_with (0, NULL);
    zmsg_pushmem (msg, "\xff\xfe\x00\x01", 4);
    s_expect_error (msg, EN_ERR_BAD_REQUEST, "");
    zmsg_destroy (&msg);
}

static void
test_other_version (void **state)
{
    zmsg_t *msg = s_valid_with (0, "EXPN2");
    s_expect_error (msg, EN_ERR_VERSION, "");
    zmsg_destroy (&msg);
    //  A newer version is reported as such even when its framing differs
    msg = s_frames (3, "EXPN2", "SUBMIT", VALID_ID);
    s_expect_error (msg, EN_ERR_VERSION, "");
    zmsg_destroy (&msg);
}

static void
test_unknown_command (void **state)
{
    const char *bad [] = { "FOO", "submit", "SUBMIT ", "HELLO\x01", NULL };
    for (int i = 0; bad [i]; i++) {
        zmsg_t *msg = s_valid_with (1, bad [i]);
        s_expect_error (msg, EN_ERR_BAD_REQUEST, VALID_ID);
        zmsg_destroy (&msg);
    }
    zframe_t *frame = zframe_new ("", 0);
    zmsg_t *fixed = zmsg_new ();
    zmsg_addstr (fixed, EN_PROTOCOL);
    zmsg_append (fixed, &frame);
    zmsg_addstr (fixed, VALID_ID);
    zmsg_addstr (fixed, "node-twente");
    zmsg_addstr (fixed, VALID_STAMP);
    zmsg_addstr (fixed, VALID_BODY);
    s_expect_error (fixed, EN_ERR_BAD_REQUEST, VALID_ID);
    zmsg_destroy (&fixed);
}

static void
test_bad_id (void **state)
{
    const char *bad [] = {
        "0123456789ABCDEF0123456789ABCDEF",     //  uppercase
        "0123456789abcdef0123456789abcde",      //  31
        "0123456789abcdef0123456789abcdef0",    //  33
        "0123456789abcdef0123456789abcdeg",     //  not hex
        "twente-0001",
        "0123456789abcdef 123456789abcdef",
        NULL };
    for (int i = 0; bad [i]; i++) {
        zmsg_t *msg = s_valid_with (2, bad [i]);
        s_expect_error (msg, EN_ERR_BAD_REQUEST, "");
        zmsg_destroy (&msg);
    }
}

static void
test_bad_sender (void **state)
{
    char long_name [65];
    memset (long_name, 'a', 64);
    long_name [64] = 0;
    const char *bad [] = { "Node-Twente", "-twente", "node twente", "node_twente",
                           "node.twente", long_name, NULL };
    for (int i = 0; bad [i]; i++) {
        zmsg_t *msg = s_valid_with (3, bad [i]);
        s_expect_error (msg, EN_ERR_BAD_REQUEST, VALID_ID);
        zmsg_destroy (&msg);
    }
    //  63 characters is still a name
    long_name [63] = 0;
    zmsg_t *msg = s_valid_with (3, long_name);
    en_error_t error;
    en_msg_t *decoded = en_msg_decode (msg, &error);
    assert_non_null (decoded);
    assert_string_equal (en_msg_sender (decoded), long_name);
    en_msg_destroy (&decoded);
    zmsg_destroy (&msg);
}

static void
test_bad_timestamp (void **state)
{
    const char *bad [] = { "abc", "0", "-5", "12x", "1.5", "1234567890123456", "", NULL };
    for (int i = 0; bad [i]; i++) {
        zmsg_t *msg = s_valid_with (4, bad [i]);
        if (!*bad [i]) {
            //  zmsg_addstr of "" adds an empty frame: still six frames
            assert_int_equal (zmsg_size (msg), EN_FRAMES);
        }
        s_expect_error (msg, EN_ERR_BAD_REQUEST, VALID_ID);
        zmsg_destroy (&msg);
    }
}

static void
test_oversize_body (void **state)
{
    //  A valid JSON object of exactly EN_MAX_BODY bytes is accepted...
    size_t size = EN_MAX_BODY;
    char *text = (char *) malloc (size + 2);
    strcpy (text, "{\"a\":\"");
    size_t head = strlen (text);
    memset (text + head, 'x', size - head - 2);
    strcpy (text + size - 2, "\"}");
    assert_int_equal (strlen (text), EN_MAX_BODY);
    zmsg_t *msg = s_valid_with (5, text);
    en_error_t error;
    en_msg_t *decoded = en_msg_decode (msg, &error);
    assert_non_null (decoded);
    en_msg_destroy (&decoded);
    zmsg_destroy (&msg);

    //  ...one byte more is refused with 413 even though it is valid JSON
    strcpy (text + size - 2, "x\"}");
    assert_int_equal (strlen (text), EN_MAX_BODY + 1);
    msg = s_valid_with (5, text);
    s_expect_error (msg, EN_ERR_TOO_LARGE, VALID_ID);
    zmsg_destroy (&msg);
    free (text);
}

static void
test_bad_body (void **state)
{
    const char *bad [] = {
        "[1,2,3]", "\"text\"", "42", "null", "true",
        "{\"a\":", "{bad}", "not json", "{\"a\":1} trailing",
        "{\"a\":1,\"a\":2}",                        //  duplicate keys
        "{\"r\":{\"id\":\"x\",\"id\":\"y\"}}",      //  duplicate keys, nested
        "{\"a\":\"\\u0000\"}",                      //  NUL inside a string
        "", NULL };
    for (int i = 0; bad [i]; i++) {
        zmsg_t *msg = s_valid_with (5, bad [i]);
        s_expect_error (msg, EN_ERR_BAD_REQUEST, VALID_ID);
        zmsg_destroy (&msg);
    }
    //  Binary garbage body
    zmsg_t *msg = s_frames (5, EN_PROTOCOL, "SUBMIT", VALID_ID, "node-twente", VALID_STAMP);
    static const char invalid_utf8 [] = "{\"a\":\"\xff\xfe\"}";
    zmsg_addmem (msg, invalid_utf8, sizeof invalid_utf8 - 1);
    s_expect_error (msg, EN_ERR_BAD_REQUEST, VALID_ID);
    zmsg_destroy (&msg);
    msg = s_frames (5, EN_PROTOCOL, "SUBMIT", VALID_ID, "node-twente", VALID_STAMP);
    zmsg_addmem (msg, "{}\0{}", 5);
    s_expect_error (msg, EN_ERR_BAD_REQUEST, VALID_ID);
    zmsg_destroy (&msg);
}

static void
test_error_ref_not_stale (void **state)
{
    //  One error struct reused: a failure before the id parses must not
    //  keep the ref of an earlier message
    en_error_t error;
    zmsg_t *msg = s_valid_with (1, "FOO");
    assert_null (en_msg_decode (msg, &error));
    assert_string_equal (error.ref, VALID_ID);
    zmsg_destroy (&msg);
    msg = s_valid_with (2, "nothex");
    assert_null (en_msg_decode (msg, &error));
    assert_int_equal (error.code, EN_ERR_BAD_REQUEST);
    assert_string_equal (error.ref, "");
    zmsg_destroy (&msg);
    //  And a success clears the code
    msg = s_valid_with (0, EN_PROTOCOL);
    en_msg_t *decoded = en_msg_decode (msg, &error);
    assert_non_null (decoded);
    assert_int_equal (error.code, 0);
    en_msg_destroy (&decoded);
    zmsg_destroy (&msg);
}

static void
test_error_set (void **state)
{
    en_error_t error = { 0 };
    assert_int_equal (en_error_set (&error, EN_ERR_CONFLICT, "request %s exists", "twente-0001"), -1);
    assert_int_equal (error.code, EN_ERR_CONFLICT);
    assert_string_equal (error.reason, "request twente-0001 exists");
    assert_int_equal (en_error_set (NULL, 400, "x"), -1);
    //  Long reasons are truncated, not overflowed
    char big [1000];
    memset (big, 'r', sizeof big - 1);
    big [sizeof big - 1] = 0;
    en_error_set (&error, 400, "%s", big);
    assert_int_equal (strlen (error.reason), sizeof error.reason - 1);
}

static void
test_commands (void **state)
{
    const char *reliable [] = { "SUBMIT", "AVAILABILITY", "ACCEPT", "DECLINE",
                                "ADVICE", "CLOSE", "OFFER", "WITHDRAW", "STATUS", NULL };
    const char *unreliable [] = { "HELLO", "WELCOME", "PING", "PONG", "ACK", "ERROR", NULL };
    for (int i = 0; reliable [i]; i++) {
        assert_true (en_msg_command_known (reliable [i]));
        assert_true (en_msg_command_reliable (reliable [i]));
    }
    for (int i = 0; unreliable [i]; i++) {
        assert_true (en_msg_command_known (unreliable [i]));
        assert_false (en_msg_command_reliable (unreliable [i]));
    }
    assert_false (en_msg_command_known ("FOO"));
    assert_false (en_msg_command_known ("submit"));
    assert_false (en_msg_command_known (""));
    assert_false (en_msg_command_known (NULL));
    assert_false (en_msg_command_reliable ("FOO"));
    assert_false (en_msg_command_reliable (NULL));
}

//  -------------------------------------------------------------------------
//  Hostile frames: deterministic random mutations of a valid message

#define MAX_FRAMES 12

typedef struct {
    size_t count;
    size_t size [MAX_FRAMES];
    byte *data [MAX_FRAMES];
} s_frames_t;

static byte *
s_bytes (const void *data, size_t size)
{
    byte *copy = (byte *) malloc (size ? size : 1);
    assert_non_null (copy);
    if (size)
        memcpy (copy, data, size);
    return copy;
}

static void
s_garbage (byte *data, size_t size)
{
    for (size_t i = 0; i < size; i++)
        data [i] = (byte) (rand () & 0xff);
}

static void
s_mutate (s_frames_t *f)
{
    int op = rand () % 9;
    size_t at = f->count ? (size_t) rand () % f->count : 0;
    switch (op) {
        case 0:     //  truncate a frame
            if (f->count)
                f->size [at] = f->size [at] ? (size_t) rand () % f->size [at] : 0;
            break;
        case 1:     //  flip a few bytes
            if (f->count && f->size [at])
                for (int n = 1 + rand () % 4; n > 0; n--)
                    f->data [at][rand () % f->size [at]] ^= (byte) (1 + rand () % 255);
            break;
        case 2:     //  printable substitution, keeps frames "text-like"
            if (f->count && f->size [at])
                f->data [at][rand () % f->size [at]] = (byte) (0x20 + rand () % 95);
            break;
        case 3:     //  add a frame of garbage
            if (f->count < MAX_FRAMES) {
                size_t pos = (size_t) rand () % (f->count + 1);
                size_t size = (size_t) rand () % 40;
                byte *data = (byte *) malloc (size ? size : 1);
                s_garbage (data, size);
                memmove (&f->data [pos + 1], &f->data [pos], (f->count - pos) * sizeof (byte *));
                memmove (&f->size [pos + 1], &f->size [pos], (f->count - pos) * sizeof (size_t));
                f->data [pos] = data;
                f->size [pos] = size;
                f->count++;
            }
            break;
        case 4:     //  remove a frame
            if (f->count) {
                free (f->data [at]);
                memmove (&f->data [at], &f->data [at + 1], (f->count - at - 1) * sizeof (byte *));
                memmove (&f->size [at], &f->size [at + 1], (f->count - at - 1) * sizeof (size_t));
                f->count--;
            }
            break;
        case 5:     //  replace a frame with binary garbage
            if (f->count) {
                size_t size = (size_t) rand () % 64;
                free (f->data [at]);
                f->data [at] = (byte *) malloc (size ? size : 1);
                s_garbage (f->data [at], size);
                f->size [at] = size;
            }
            break;
        case 6:     //  swap two frames
            if (f->count > 1) {
                size_t other = (size_t) rand () % f->count;
                byte *data = f->data [at];
                size_t size = f->size [at];
                f->data [at] = f->data [other];
                f->size [at] = f->size [other];
                f->data [other] = data;
                f->size [other] = size;
            }
            break;
        case 7:     //  duplicate a frame in place of another
            if (f->count > 1) {
                size_t other = (size_t) rand () % f->count;
                if (other == at)
                    break;
                free (f->data [other]);
                f->data [other] = s_bytes (f->data [at], f->size [at]);
                f->size [other] = f->size [at];
            }
            break;
        case 8:     //  rarely: an oversize last frame
            if (f->count && rand () % 8 == 0) {
                size_t size = EN_MAX_BODY + 1 + (size_t) rand () % 100;
                free (f->data [f->count - 1]);
                f->data [f->count - 1] = (byte *) malloc (size);
                memset (f->data [f->count - 1], '{', size);
                f->size [f->count - 1] = size;
            }
            break;
    }
}

static bool
s_hex32 (const char *id)
{
    if (strlen (id) != 32)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static void
test_hostile_frames (void **state)
{
    srand (42);
    json_t *body = json_pack ("{s:{s:s, s:s, s:s, s:[s, s], s:s}}",
        "request", "id", "twente-0001", "region", "twente", "urgency", "crisis",
        "expertise", "trauma", "jggz", "question", "Welke aanpak past hier?");
    en_msg_t *base = en_msg_restore ("SUBMIT", VALID_ID, "node-twente", 1700000000000LL, body);
    zmsg_t *wire = en_msg_encode (base);
    s_frames_t original = { 0 };
    for (zframe_t *frame = zmsg_first (wire); frame; frame = zmsg_next (wire)) {
        original.data [original.count] = s_bytes (zframe_data (frame), zframe_size (frame));
        original.size [original.count] = zframe_size (frame);
        original.count++;
    }
    zmsg_destroy (&wire);

    int decoded_count = 0, refused = 0;
    int by_code [3] = { 0, 0, 0 };
    for (int round = 0; round < 2000; round++) {
        s_frames_t f = { .count = original.count };
        for (size_t i = 0; i < original.count; i++) {
            f.data [i] = s_bytes (original.data [i], original.size [i]);
            f.size [i] = original.size [i];
        }
        for (int n = 1 + rand () % 3; n > 0; n--)
            s_mutate (&f);
        zmsg_t *msg = zmsg_new ();
        for (size_t i = 0; i < f.count; i++)
            zmsg_addmem (msg, f.data [i], f.size [i]);

        en_error_t error;
        en_msg_t *decoded = en_msg_decode (msg, &error);
        if (decoded) {
            decoded_count++;
            assert_int_equal (error.code, 0);
            assert_true (en_msg_command_known (en_msg_command (decoded)));
            assert_true (s_hex32 (en_msg_id (decoded)));
            assert_true (en_name_valid (en_msg_sender (decoded)));
            assert_true (en_msg_timestamp (decoded) > 0);
            assert_true (json_is_object (en_msg_body (decoded)));
            //  What decodes re-encodes and decodes to the same message
            zmsg_t *again = en_msg_encode (decoded);
            en_msg_t *twice = en_msg_decode (again, &error);
            assert_non_null (twice);
            assert_string_equal (en_msg_id (twice), en_msg_id (decoded));
            assert_string_equal (en_msg_command (twice), en_msg_command (decoded));
            assert_true (json_equal (en_msg_body (twice), en_msg_body (decoded)));
            en_msg_destroy (&twice);
            zmsg_destroy (&again);
            en_msg_destroy (&decoded);
        }
        else {
            refused++;
            assert_true (error.code == EN_ERR_BAD_REQUEST || error.code == EN_ERR_TOO_LARGE
                      || error.code == EN_ERR_VERSION);
            by_code [error.code == EN_ERR_BAD_REQUEST ? 0 : error.code == EN_ERR_TOO_LARGE ? 1 : 2]++;
            assert_true (strlen (error.reason) > 0);
            assert_true (strlen (error.ref) == 0 || s_hex32 (error.ref));
        }
        zmsg_destroy (&msg);
        for (size_t i = 0; i < f.count; i++)
            free (f.data [i]);
    }
    //  The loop exercised both outcomes (else the mutations test nothing)
    assert_int_equal (decoded_count + refused, 2000);
    assert_true (decoded_count > 0);
    assert_true (refused > 0);
    assert_true (by_code [0] > 0);
    for (size_t i = 0; i < original.count; i++)
        free (original.data [i]);
    en_msg_destroy (&base);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logident ("test_msg");
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_round_trip),
        cmocka_unit_test (test_restore_round_trip),
        cmocka_unit_test (test_new_ids_unique),
        cmocka_unit_test (test_valid_frames_decode),
        cmocka_unit_test (test_wrong_frame_count),
        cmocka_unit_test (test_not_expn),
        cmocka_unit_test (test_other_version),
        cmocka_unit_test (test_unknown_command),
        cmocka_unit_test (test_bad_id),
        cmocka_unit_test (test_bad_sender),
        cmocka_unit_test (test_bad_timestamp),
        cmocka_unit_test (test_oversize_body),
        cmocka_unit_test (test_bad_body),
        cmocka_unit_test (test_error_ref_not_stale),
        cmocka_unit_test (test_error_set),
        cmocka_unit_test (test_commands),
        cmocka_unit_test (test_hostile_frames),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
