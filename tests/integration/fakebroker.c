/*  fakebroker - a broker that sends a real node hostile BATCHes, for
    tests/integration/test_batch_node.sh.

    It binds the broker's CURVE ROUTER with the broker's keys, welcomes the
    node (signed WELCOME), answers its PINGs and ACKs what it sends, and
    then sends BATCHes (EXPN/3, docs/protocol.md "BATCH"): a valid one,
    whose messages must each be answered (ACK or ERROR naming them), and
    malformed ones (a repeated id, an entry without a body, an id that is
    no id, 129 messages, a body over 64 KiB, a forged signature), none of
    whose messages may be answered: a malformed BATCH is refused whole.
    Last, the message of a refused BATCH sent alone must be answered (it
    was not recorded). Prints "ok - ..." / "not ok - ..." lines; exits 0
    only if every check passed.

    Usage: fakebroker --cert-dir DIR --name BROKER --endpoint tcp://... */
#include "expertnet.h"
#include <sodium.h>

typedef struct {
    zsock_t *router;            //  where the node connects
    zframe_t *node;             //  its routing id, once it said HELLO
    char *name;                 //  our (the broker's) name
    en_signer_t *signer;        //  our signing key
    zhashx_t *answered;         //  message ids the node answered
    int fails;                  //  checks that failed
} s_fake_t;

static void
s_check (s_fake_t *self, bool passed, const char *what)
{
    printf ("%s - %s\n", passed ? "ok" : "not ok", what);
    if (!passed)
        self->fails++;
}

static void
s_send (s_fake_t *self, en_msg_t *msg, en_signer_t *signer)
{
    en_msg_send (msg, self->router, self->node, signer);
}

//  Handle what the node sent for up to ms: WELCOME its HELLO, PONG its
//  PING, ACK its reliable messages, and note every id it answered.
static void
s_listen (s_fake_t *self, int ms)
{
    int64_t until = en_now_ms () + ms;
    zpoller_t *poller = zpoller_new (self->router, NULL);
    while (en_now_ms () < until) {
        if (!zpoller_wait (poller, (int) MAX (1, until - en_now_ms ())))
            continue;
        zmsg_t *raw = zmsg_recv (self->router);
        zframe_t *routing = raw ? zmsg_pop (raw) : NULL;
        en_msg_t *msg = raw ? en_msg_decode (raw, NULL) : NULL;
        zmsg_destroy (&raw);
        const char *command = msg ? en_msg_command (msg) : "";
        if (streq (command, "HELLO") || streq (command, "PING")) {
            zframe_destroy (&self->node);
            self->node = zframe_dup (routing);
            json_t *body = streq (command, "HELLO")
                ? json_pack ("{s:s, s:i, s:s, s:s}", "broker", self->name, "heartbeat", 500,
                             "version", "fake", "store", "00000000000000000000000000000000")
                : json_object ();
            en_msg_t *answer = en_msg_new (streq (command, "HELLO") ? "WELCOME" : "PONG", self->name, body);
            json_object_set_new (body, "time", json_integer (en_msg_timestamp (answer)));
            json_object_set_new (body, "echo", json_integer (en_msg_timestamp (msg)));
            s_send (self, answer, self->signer);
            en_msg_destroy (&answer);
        }
        else
        if (en_msg_command_reliable (command)) {
            en_msg_t *ack = en_msg_new ("ACK", self->name, json_pack ("{s:s}", "ref", en_msg_id (msg)));
            s_send (self, ack, NULL);
            en_msg_destroy (&ack);
        }
        else
        if (streq (command, "ACK") || streq (command, "ERROR")) {
            json_t *refs = streq (command, "ACK") ? en_msg_ack_refs (msg, NULL)
                                                  : json_pack ("[s]", en_json_str (en_msg_body (msg), "ref") ?: "");
            size_t index;
            json_t *ref;
            json_array_foreach (refs, index, ref)
                zhashx_update (self->answered, json_string_value (ref), (void *) "yes");
            json_decref (refs);
        }
        en_msg_destroy (&msg);
        zframe_destroy (&routing);
    }
    zpoller_destroy (&poller);
}

//  An entry of a BATCH: a STATUS about a request the node does not know
//  (it answers it all the same: ACK or ERROR), with id
static json_t *
s_entry (const char *id, const char *body)
{
    return json_pack ("{s:s, s:s, s:I, s:s}", "command", "STATUS", "id", id,
                      "timestamp", (json_int_t) en_now_ms (), "body",
                      body ? body : "{\"request\":\"nope-1\",\"state\":\"offered\",\"event\":\"offered\",\"at\":1}");
}

//  Send a BATCH of entries (taken), signed by signer (NULL: a forged
//  signature), wait, and tell how many of ids the node answered
static int
s_batch (s_fake_t *self, json_t *entries, en_signer_t *signer, const char **ids, int count)
{
    en_msg_t *batch = en_msg_new ("BATCH", self->name, json_pack ("{s:o}", "messages", entries));
    if (signer)
        s_send (self, batch, signer);
    else {
        en_msg_sign (batch, self->signer);
        zmsg_t *wire = en_msg_encode (batch);
        zframe_t *signature = zmsg_last (wire);
        zframe_data (signature) [0] ^= 0x01;
        zmsg_prepend (wire, &(zframe_t *) { zframe_dup (self->node) });
        zmsg_send (&wire, self->router);
    }
    en_msg_destroy (&batch);
    s_listen (self, 1500);
    int answered = 0;
    for (int i = 0; i < count; i++)
        answered += zhashx_lookup (self->answered, ids [i]) != NULL;
    return answered;
}

static void
s_scenario (s_fake_t *self)
{
    char *a = en_new_id (), *b = en_new_id (), *c = en_new_id (), *d = en_new_id ();
    //  Valid: each message answered
    const char *valid [] = { a, b };
    s_check (self, s_batch (self, json_pack ("[o, o]", s_entry (a, NULL), s_entry (b, NULL)), self->signer,
                            valid, 2) == 2, "a valid BATCH: each of its 2 messages answered");
    //  Malformed: refused whole, nothing answered
    const char *cd [] = { c, d };
    s_check (self, s_batch (self, json_pack ("[o, o, o]", s_entry (c, NULL), s_entry (d, NULL), s_entry (c, NULL)),
                            self->signer, cd, 2) == 0, "a BATCH repeating an id: none of it answered");
    json_t *truncated = s_entry (d, NULL);
    json_object_del (truncated, "body");
    s_check (self, s_batch (self, json_pack ("[o, o]", s_entry (c, NULL), truncated), self->signer, cd, 2) == 0,
             "a BATCH with an entry without a body: none of it answered");
    s_check (self, s_batch (self, json_pack ("[o, o]", s_entry (c, NULL), s_entry ("NOT-AN-ID", NULL)),
                            self->signer, cd, 1) == 0, "a BATCH with an id that is no id: none of it answered");
    json_t *many = json_array ();
    for (int i = 0; i <= EN_BATCH_MAX; i++) {
        char *id = i ? en_new_id () : strdup (c);
        json_array_append_new (many, s_entry (id, NULL));
        free (id);
    }
    s_check (self, s_batch (self, many, self->signer, cd, 1) == 0, "a BATCH of 129 messages: none of it answered");
    char *pad = (char *) malloc (EN_MAX_BODY + 16);
    memset (pad, 'x', EN_MAX_BODY + 15);
    pad [EN_MAX_BODY + 15] = 0;
    memcpy (pad, "{\"p\":\"", 6);
    memcpy (pad + EN_MAX_BODY + 13, "\"}", 2);
    s_check (self, s_batch (self, json_pack ("[o]", s_entry (c, pad)), self->signer, cd, 1) == 0,
             "a BATCH over 64 KiB: none of it answered");
    free (pad);
    s_check (self, s_batch (self, json_pack ("[o]", s_entry (c, NULL)), NULL, cd, 1) == 0,
             "a BATCH with a forged signature: none of it answered");
    //  What the refused BATCHes held was not recorded: alone, it is answered
    en_msg_t *alone = en_msg_restore ("STATUS", c, self->name, en_now_ms (),
                                      json_pack ("{s:s, s:s, s:s, s:i}", "request", "nope-1", "state", "offered",
                                                 "event", "offered", "at", 1));
    s_send (self, alone, self->signer);
    en_msg_destroy (&alone);
    s_listen (self, 1500);
    s_check (self, zhashx_lookup (self->answered, c) != NULL,
             "the message of the refused BATCHes, sent alone: answered");
    free (a);
    free (b);
    free (c);
    free (d);
}

int
main (int argc, char *argv [])
{
    const char *dir = NULL, *name = NULL, *endpoint = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (streq (argv [i], "--cert-dir"))
            dir = argv [i + 1];
        else
        if (streq (argv [i], "--name"))
            name = argv [i + 1];
        else
        if (streq (argv [i], "--endpoint"))
            endpoint = argv [i + 1];
    }
    if (!dir || !name || !endpoint) {
        fprintf (stderr, "usage: fakebroker --cert-dir DIR --name BROKER --endpoint ENDPOINT\n");
        return 2;
    }
    zsys_init ();
    en_error_t error = { 0 };
    zcert_t *cert = en_keys_load_secret (dir, name, &error);
    s_fake_t self = { .name = strdup (name), .answered = zhashx_new () };
    self.signer = cert ? en_signer_load (dir, name, &error) : NULL;
    if (!self.signer) {
        fprintf (stderr, "fakebroker: %s\n", error.reason);
        return 2;
    }
    self.router = zsock_new (ZMQ_ROUTER);
    en_keys_server (self.router, cert);
    zsock_set_maxmsgsize (self.router, EN_MAX_WIRE);
    if (zsock_bind (self.router, "%s", endpoint) < 0) {
        fprintf (stderr, "fakebroker: cannot bind %s\n", endpoint);
        return 2;
    }
    //  The node says HELLO, gets WELCOME, publishes its experts
    for (int i = 0; i < 20 && !self.node; i++)
        s_listen (&self, 500);
    s_check (&self, self.node != NULL, "the node said HELLO to the fake broker");
    if (self.node) {
        s_listen (&self, 1000);
        s_scenario (&self);
    }
    zframe_destroy (&self.node);
    zsock_destroy (&self.router);
    zhashx_destroy (&self.answered);
    en_signer_destroy (&self.signer);
    zcert_destroy (&cert);
    free (self.name);
    return self.fails ? 1 : 0;
}
