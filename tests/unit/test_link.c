/*  test_link - the client link engine (include/en_link.h), driven against
    a ROUTER in the test: two links (a node's HELLO and a broker's LINK)
    greet until welcomed, PING with the owner's fields and the clock, are
    declared lost after three heartbeats of silence but not for a pause of
    their own loop, back off while nobody answers, are refused and
    not-enrolled, and tell their owner every change of state.

    Socket traffic is real (CURVE on 127.0.0.1); the timers are driven
    with explicit times where the test needs them exact.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "expertnet.h"

#define HEARTBEAT 100

//  The link's owner: what the link told it
typedef struct {
    int changes;                //  state changes seen
    en_link_event_t event;      //  the last one's event
    en_link_state_t from;       //  and the state it left
    en_link_state_t to;         //  and the state it entered
    bool keyless;               //  the key action finds no key
    char key [41];              //  the server's key, for the key action
    int drains;                 //  drain action called
} owner_t;

typedef struct {
    char dir [PATH_MAX];        //  temp dir with the signing keys
    zcert_t *server_cert;       //  the server's CURVE key pair
    zcert_t *client_cert;       //  ours
    en_signer_t *signer;        //  ours
    en_signer_t *server_signer; //  the server's
    zsock_t *server;            //  ROUTER, CURVE server
    char endpoint [64];         //  where it listens
} fixture_t;

static void
s_changed (en_link_t *link, en_link_event_t event, en_link_state_t from, void *arg)
{
    owner_t *owner = (owner_t *) arg;
    owner->changes++;
    owner->event = event;
    owner->from = from;
    owner->to = en_link_state (link);
}

static void
s_ping (en_link_t *link, json_t *body, void *arg)
{
    json_object_set_new (body, "seq", json_integer (7));
}

static void
s_drain (en_link_t *link, void *arg)
{
    ((owner_t *) arg)->drains++;
}

static bool
s_key (en_link_t *link, char key [41], void *arg)
{
    owner_t *owner = (owner_t *) arg;
    if (owner->keyless)
        return false;
    snprintf (key, 41, "%s", owner->key);
    return true;
}

static int
s_setup (void **state)
{
    fixture_t *self = (fixture_t *) calloc (1, sizeof (fixture_t));
    const char *tmp = getenv ("TMPDIR");
    snprintf (self->dir, sizeof self->dir, "%s/test_link-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    en_error_t error = { 0 };
    if (!mkdtemp (self->dir)
    ||  en_keys_generate (self->dir, "twente", &error)
    ||  en_keys_generate (self->dir, "broker", &error))
        return -1;
    self->signer = en_signer_load (self->dir, "twente", &error);
    self->server_signer = en_signer_load (self->dir, "broker", &error);
    self->server_cert = zcert_new ();
    self->client_cert = zcert_new ();
    self->server = zsock_new (ZMQ_ROUTER);
    zsock_set_linger (self->server, 0);
    en_keys_server (self->server, self->server_cert);
    int port = zsock_bind (self->server, "tcp://127.0.0.1:*");
    if (!self->signer || !self->server_signer || port < 0)
        return -1;
    snprintf (self->endpoint, sizeof self->endpoint, "tcp://127.0.0.1:%d", port);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    zsock_destroy (&self->server);
    zcert_destroy (&self->server_cert);
    zcert_destroy (&self->client_cert);
    en_signer_destroy (&self->signer);
    en_signer_destroy (&self->server_signer);
    const char *names [] = { "twente", "broker", NULL };
    const char *suffixes [] = { "cert", "cert_secret", "sign_secret", NULL };
    for (int i = 0; names [i]; i++)
        for (int j = 0; suffixes [j]; j++) {
            char path [PATH_MAX + 64];
            snprintf (path, sizeof path, "%s/%s.%s", self->dir, names [i], suffixes [j]);
            unlink (path);
        }
    rmdir (self->dir);
    free (self);
    return 0;
}

//  The next message at the server within timeout ms, or NULL; its
//  routing id into *routing_id (caller destroys)
static en_msg_t *
s_server_recv (fixture_t *self, int timeout, zframe_t **routing_id)
{
    zpoller_t *poller = zpoller_new (self->server, NULL);
    zmsg_t *raw = zpoller_wait (poller, timeout) ? zmsg_recv (self->server) : NULL;
    zpoller_destroy (&poller);
    if (!raw)
        return NULL;
    *routing_id = zmsg_pop (raw);
    en_error_t error;
    en_msg_t *msg = en_msg_decode (raw, &error);
    zmsg_destroy (&raw);
    assert_non_null (msg);
    //  Signed by the link, or a PING it sends unsigned (EXPN/3)
    assert_true (en_msg_authentic (msg, en_signer_public (self->signer)));
    assert_true (en_msg_signed (msg) != en_msg_command_unsigned (en_msg_command (msg)));
    return msg;
}

//  Forget what earlier links left at the server
static void
s_server_flush (fixture_t *self)
{
    zclock_sleep (20);
    zframe_t *routing_id = NULL;
    for (en_msg_t *msg = s_server_recv (self, 0, &routing_id); msg; msg = s_server_recv (self, 0, &routing_id)) {
        en_msg_destroy (&msg);
        zframe_destroy (&routing_id);
    }
}

static en_link_t *
s_link_new (fixture_t *self, owner_t *owner, const char *greeting, json_t *body)
{
    s_server_flush (self);
    en_link_actions_t actions = { .ping = s_ping, .drain = s_drain, .changed = s_changed };
    en_link_t *link = en_link_new ("broker", "twente", self->client_cert, self->signer, NULL, &actions, owner);
    en_link_set_server (link, self->endpoint, zcert_public_txt (self->server_cert));
    en_link_set_greeting (link, greeting, body);
    en_link_set_timing (link, HEARTBEAT, HEARTBEAT, 30000);
    return link;
}

//  Tick the link (real time) until the server hears command from it; the
//  routing id of that connection into *routing_id
static en_msg_t *
s_until_heard (fixture_t *self, en_link_t *link, const char *command, zframe_t **routing_id)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        en_link_tick (link, en_now_ms ());
        en_msg_t *msg = s_server_recv (self, 20, routing_id);
        if (msg && streq (en_msg_command (msg), command))
            return msg;
        if (msg)
            zframe_destroy (routing_id);
        en_msg_destroy (&msg);
    }
    fail_msg ("the server never heard %s", command);
    return NULL;
}

static void
s_server_say (fixture_t *self, zframe_t *routing_id, const char *command, json_t *body)
{
    en_msg_t *msg = en_msg_new (command, "broker", body);
    assert_int_equal (en_msg_send (msg, self->server, routing_id, self->server_signer), 0);
    en_msg_destroy (&msg);
}

//  What the link's owner does with what arrives: decode, tell the link
static void
s_client_read (en_link_t *link, const char *expected)
{
    zpoller_t *poller = zpoller_new (en_link_sock (link), NULL);
    bool ready = zpoller_wait (poller, 2000) != NULL;
    zpoller_destroy (&poller);
    assert_true (ready);
    zmsg_t *raw = zmsg_recv (en_link_sock (link));
    en_error_t error;
    en_msg_t *msg = en_msg_decode (raw, &error);
    zmsg_destroy (&raw);
    assert_non_null (msg);
    assert_string_equal (en_msg_command (msg), expected);
    int64_t now = en_now_ms ();
    en_link_heard (link, now);
    if (streq (expected, "WELCOME"))
        en_link_welcome (link, now);
    else
    if (streq (expected, "PONG"))
        en_link_pong (link, now);
    else
    if (streq (expected, "ERROR") && !*(en_json_str (en_msg_body (msg), "ref") ?: ""))
        en_link_refused (link, (int) en_json_int (en_msg_body (msg), "code", 500),
                         en_json_str (en_msg_body (msg), "reason"));
    en_msg_destroy (&msg);
}

//  The server answers the link's greeting with command (real time);
//  the connection's routing id into *routing_id_p, if not NULL
static void
s_answer_greeting (fixture_t *self, en_link_t *link, const char *command, json_t *body, zframe_t **routing_id_p)
{
    if (!en_link_sock (link))
        en_link_connect (link);
    zframe_t *routing_id = NULL;
    en_msg_t *msg = s_until_heard (self, link, "HELLO", &routing_id);
    en_msg_destroy (&msg);
    s_server_say (self, routing_id, command, body);
    s_client_read (link, command);
    if (routing_id_p)
        *routing_id_p = routing_id;
    else
        zframe_destroy (&routing_id);
}

static void
s_bring_up (fixture_t *self, en_link_t *link, zframe_t **routing_id_p)
{
    s_answer_greeting (self, link, "WELCOME", NULL, routing_id_p);
    assert_int_equal (en_link_state (link), EN_LINK_UP);
}

//  Two links, a node's and a broker's: each greets with its own command
//  until the server answers WELCOME, then is up and tells its owner
static void
test_greeting_until_welcome (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    owner_t node = { 0 }, broker = { 0 };
    en_link_t *hello = s_link_new (self, &node, "HELLO", json_pack ("{s:s, s:s}", "node", "twente", "region", "twente"));
    en_link_t *link = s_link_new (self, &broker, "LINK", json_pack ("{s:s}", "broker", "twente"));
    assert_int_equal (en_link_state (hello), EN_LINK_CONNECTING);
    assert_string_equal (en_link_state_name (hello, 0, 1000, en_now_ms ()), "connecting");
    assert_null (en_link_sock (hello));
    en_link_connect (hello);
    en_link_connect (link);
    assert_non_null (en_link_sock (hello));
    assert_int_equal (node.changes, 0);         //  connecting is where it started

    en_link_t *links [2] = { hello, link };
    owner_t *owners [2] = { &node, &broker };
    const char *greetings [2] = { "HELLO", "LINK" };
    for (int i = 0; i < 2; i++) {
        zframe_t *routing_id = NULL;
        en_msg_t *msg = s_until_heard (self, links [i], greetings [i], &routing_id);
        assert_string_equal (en_msg_sender (msg), "twente");
        if (i == 0)
            assert_string_equal (en_json_str (en_msg_body (msg), "region"), "twente");
        en_msg_destroy (&msg);
        assert_false (en_link_up (links [i], en_now_ms ()));
        s_server_say (self, routing_id, "WELCOME", json_pack ("{s:s}", "broker", "broker"));
        s_client_read (links [i], "WELCOME");
        zframe_destroy (&routing_id);
        assert_int_equal (en_link_state (links [i]), EN_LINK_UP);
        assert_true (en_link_up (links [i], en_now_ms ()));
        assert_int_equal (owners [i]->changes, 1);
        assert_int_equal (owners [i]->event, EN_LINK_WELCOME);
        assert_int_equal (owners [i]->from, EN_LINK_CONNECTING);
        assert_true (en_link_up_since (links [i]) > 0);
        assert_string_equal (en_link_state_name (links [i], 0, 1000, en_now_ms ()), "up");
        //  A second WELCOME (to an earlier greeting) changes nothing
        en_link_welcome (links [i], en_now_ms ());
        assert_int_equal (owners [i]->changes, 1);
    }
    assert_true (en_link_sent (hello) >= 1);
    en_link_destroy (&hello);
    en_link_destroy (&link);
    en_link_destroy (&link);            //  safe twice
}

//  Up: PING when quiet for a heartbeat, with the owner's fields and the
//  clock as measured; the PONG gives the round trip
static void
test_ping_pong (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    owner_t owner = { 0 };
    en_link_t *link = s_link_new (self, &owner, "HELLO", NULL);
    en_clock_t *clock = en_clock_new ("broker", 30000);
    int64_t now = en_now_ms ();
    en_clock_round_trip (clock, now - 10, now + 5000, now);
    en_link_set_clock (link, clock);
    s_bring_up (self, link, NULL);
    zframe_t *routing_id = NULL;
    en_msg_t *msg = s_until_heard (self, link, "PING", &routing_id);
    json_t *body = en_msg_body (msg);
    assert_int_equal (en_json_int (body, "seq", 0), 7);
    assert_true (llabs (en_json_int (body, "offset", 0) - 5005) <= 1);
    assert_int_equal (en_json_int (body, "rtt", -1), 10);
    en_msg_destroy (&msg);
    assert_int_equal (en_link_rtt (link), -1);
    s_server_say (self, routing_id, "PONG", NULL);
    s_client_read (link, "PONG");
    zframe_destroy (&routing_id);
    assert_true (en_link_rtt (link) >= 0 && en_link_rtt (link) < 2000);
    en_link_destroy (&link);
    en_clock_destroy (&clock);
}

//  Three heartbeats of silence while the loop listened: lost, a fresh
//  socket, greeting again. A pause of the loop itself is not silence.
static void
test_silence_and_pause (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    owner_t owner = { 0 };
    en_link_t *link = s_link_new (self, &owner, "HELLO", NULL);
    s_bring_up (self, link, NULL);
    int64_t now = en_now_ms ();
    en_link_tick (link, now);
    //  Our loop stopped for ten heartbeats: credited, still up
    now += 10 * HEARTBEAT;
    assert_true (en_link_up (link, now));
    en_link_tick (link, now);
    assert_int_equal (en_link_state (link), EN_LINK_UP);
    //  Then the server stays silent while we listen: lost after three
    //  heartbeats, and the owner hears why
    for (int step = 0; step < 20 && en_link_state (link) == EN_LINK_UP; step++) {
        now += HEARTBEAT / 4;
        en_link_tick (link, now);
    }
    assert_int_equal (en_link_state (link), EN_LINK_LOST);
    assert_int_equal (owner.event, EN_LINK_SILENCE);
    assert_int_equal (owner.from, EN_LINK_UP);
    assert_string_equal (en_link_state_name (link, 0, 1000, now), "down");
    assert_non_null (en_link_sock (link));
    //  The server forgot the session while up: lost too
    s_bring_up (self, link, NULL);
    en_link_refused (link, EN_ERR_NO_SESSION, "send HELLO first");
    assert_int_equal (en_link_state (link), EN_LINK_LOST);
    assert_int_equal (owner.event, EN_LINK_NO_SESSION);
    en_link_destroy (&link);
}

//  Input waiting when the link would be judged silent: the owner reads
//  it first
static void
test_drain_before_judging (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    owner_t owner = { 0 };
    en_link_t *link = s_link_new (self, &owner, "HELLO", NULL);
    zframe_t *routing_id = NULL;
    s_bring_up (self, link, &routing_id);
    s_server_say (self, routing_id, "PONG", NULL);      //  left unread
    zframe_destroy (&routing_id);
    zclock_sleep (100);
    int64_t now = en_now_ms ();
    en_link_tick (link, now);
    for (int step = 0; step < 20 && owner.drains == 0; step++) {
        now += HEARTBEAT / 4;
        en_link_tick (link, now);
    }
    //  The drain action read nothing here, so the link is judged
    assert_int_equal (owner.drains, 1);
    assert_int_equal (en_link_state (link), EN_LINK_LOST);
    en_link_destroy (&link);
}

//  A connection-level refusal: refused until WELCOME, the reason kept;
//  a "no session" does not undo it
static void
test_refused (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    owner_t owner = { 0 };
    en_link_t *link = s_link_new (self, &owner, "HELLO", NULL);
    s_answer_greeting (self, link, "ERROR", json_pack ("{s:s, s:i, s:s}", "ref", "", "code", 403,
                                                      "reason", "key is not enrolled at this broker"), NULL);
    assert_int_equal (en_link_state (link), EN_LINK_REFUSED);
    assert_int_equal (owner.changes, 1);
    assert_string_equal (en_link_refusal (link), "403 key is not enrolled at this broker");
    assert_string_equal (en_link_state_name (link, 0, 1000, en_now_ms ()), "refused");
    //  Refused again: no new change for the owner (it logs once)
    en_link_refused (link, 403, "key is not enrolled at this broker");
    en_link_refused (link, EN_ERR_NO_SESSION, "send HELLO first");
    assert_int_equal (owner.changes, 1);
    assert_int_equal (en_link_state (link), EN_LINK_REFUSED);
    //  Still greeting on the same socket
    s_bring_up (self, link, NULL);
    assert_int_equal (owner.from, EN_LINK_REFUSED);
    en_link_destroy (&link);
}

//  No key for the server: no socket, asked again at every attempt; when
//  one turns up the link is what it was before
static void
test_not_enrolled (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    owner_t owner = { .keyless = true };
    snprintf (owner.key, sizeof owner.key, "%s", zcert_public_txt (self->server_cert));
    en_link_actions_t actions = { .key = s_key, .changed = s_changed };
    en_link_t *link = en_link_new ("gelderland", "twente", self->client_cert, self->signer, NULL, &actions, &owner);
    en_link_set_server (link, self->endpoint, NULL);
    en_link_set_timing (link, HEARTBEAT, HEARTBEAT, 30000);
    int64_t now = en_now_ms ();
    en_link_tick (link, now);
    assert_int_equal (en_link_state (link), EN_LINK_NOT_ENROLLED);
    assert_null (en_link_sock (link));
    assert_string_equal (en_link_state_name (link, 0, 1000, now), "not-enrolled");
    //  The key turns up: a socket at the next attempt, connecting again
    owner.keyless = false;
    now += HEARTBEAT / 2;
    en_link_tick (link, now);
    assert_int_equal (en_link_state (link), EN_LINK_NOT_ENROLLED);     //  not yet due
    now += HEARTBEAT / 2;
    en_link_tick (link, now);
    assert_int_equal (en_link_state (link), EN_LINK_CONNECTING);
    assert_non_null (en_link_sock (link));
    //  Refused, then the key is gone, then back: refused, as before
    en_link_refused (link, 403, "not enrolled");
    owner.keyless = true;
    en_link_connect (link);
    assert_int_equal (en_link_state (link), EN_LINK_NOT_ENROLLED);
    owner.keyless = false;
    en_link_connect (link);
    assert_int_equal (en_link_state (link), EN_LINK_REFUSED);
    en_link_destroy (&link);
}

//  Nobody answers: each fresh socket waits twice as long as the last, up
//  to the maximum; a WELCOME starts over
static void
test_backoff (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    owner_t owner = { 0 };
    en_link_t *link = s_link_new (self, &owner, "HELLO", NULL);
    en_link_set_server (link, "tcp://127.0.0.1:1", NULL);     //  nothing listens there
    en_link_set_timing (link, HEARTBEAT, HEARTBEAT, 5 * HEARTBEAT);
    int64_t now = en_now_ms ();
    en_link_tick (link, now);               //  the first socket
    assert_non_null (en_link_sock (link));
    assert_int_equal (en_link_backoff (link), HEARTBEAT);
    int64_t expected [] = { 2, 4, 5 };
    int64_t last = en_link_backoff (link);
    int seen = 0;
    for (int step = 0; step < 200; step++) {
        now += HEARTBEAT / 4;
        en_link_tick (link, now);
        if (en_link_backoff (link) != last) {
            assert_true (seen < 3);
            assert_int_equal (en_link_backoff (link), expected [seen] * HEARTBEAT);
            last = en_link_backoff (link);
            seen++;
        }
    }
    assert_int_equal (seen, 3);
    assert_int_equal (en_link_backoff (link), 5 * HEARTBEAT);
    assert_int_equal (en_link_state (link), EN_LINK_CONNECTING);
    //  A fixed wait (the node's: ten heartbeats) never grows
    en_link_set_timing (link, HEARTBEAT, 10 * HEARTBEAT, 10 * HEARTBEAT);
    assert_int_equal (en_link_backoff (link), 10 * HEARTBEAT);
    for (int step = 0; step < 100; step++) {
        now += HEARTBEAT / 4;
        en_link_tick (link, now);
    }
    assert_int_equal (en_link_backoff (link), 10 * HEARTBEAT);
    en_link_welcome (link, now);
    assert_int_equal (en_link_state (link), EN_LINK_UP);
    en_link_destroy (&link);
}

//  Up, messages queued and nothing acknowledged for three retry
//  intervals: blocked (connected is not delivering)
static void
test_blocked (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    owner_t owner = { 0 };
    en_link_t *link = s_link_new (self, &owner, "HELLO", NULL);
    en_link_connect (link);
    int64_t now = en_now_ms ();
    en_link_heard (link, now);
    en_link_welcome (link, now);
    assert_string_equal (en_link_state_name (link, 3, 20, now), "up");
    en_link_heard (link, now + 61);
    assert_string_equal (en_link_state_name (link, 3, 20, now + 61), "blocked");
    assert_string_equal (en_link_state_name (link, 0, 20, now + 61), "up");
    en_link_acked (link, now + 61);
    assert_string_equal (en_link_state_name (link, 3, 20, now + 61), "up");
    en_link_destroy (&link);
}

static void
test_names (void **state)
{
    assert_string_equal (en_link_state_text (EN_LINK_CONNECTING), "connecting");
    assert_string_equal (en_link_state_text (EN_LINK_NOT_ENROLLED), "not-enrolled");
    assert_string_equal (en_link_event_text (EN_LINK_SILENCE), "silence");
    assert_string_equal (en_link_event_text (EN_LINK_REFUSAL), "refusal");
}

int
main (void)
{
    zsys_init ();
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_greeting_until_welcome),
        cmocka_unit_test (test_ping_pong),
        cmocka_unit_test (test_silence_and_pause),
        cmocka_unit_test (test_drain_before_judging),
        cmocka_unit_test (test_refused),
        cmocka_unit_test (test_not_enrolled),
        cmocka_unit_test (test_backoff),
        cmocka_unit_test (test_blocked),
        cmocka_unit_test (test_names),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
