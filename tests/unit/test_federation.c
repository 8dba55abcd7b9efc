/*  test_federation - requests handed between the brokers of provinces
    (broker/en_router.h federation, broker/en_bstore.h "Federation",
    broker/en_fed.h adverts), on real stores in a temporary directory, no
    sockets.

    Three brokers: A "overijssel" (regions twente, ijsselland), B
    "gelderland" (achterhoek, midden-gelderland) and C "utrecht"
    (utrecht), each with its own store and router. Node messages are
    signed with real keys (en_keys_generate) and handled the way the
    broker does: the node's signing key given to the router, then the
    message through the broker's exactly-once receive (en_inbox, in a
    transaction), rolled back on refusal.

    Between brokers a "pump" plays the link: it takes one broker's outbox
    rows for "peer:<other>" in order, rebuilds each message from the
    stored text (en_msg_restore_text), lets the other broker receive it
    (en_inbox and its router) and acknowledges it on the sender. Adverts
    are what the link would send: a snapshot of en_bstore_advert_own on
    one side, applied with en_bstore_advert_apply on the other.

    After every test each store's load/reserved counters must equal a
    recount (test_counters_drift, and the recount federation needs: a
    request held by a peer names the peer's expert, never ours).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <unistd.h>
#include <ctype.h>

#include "expertnet.h"
#include "en_router.h"
#include "en_followup.h"
#include "test_fixture.h"
#include "en_fed.h"

#define EPOCH_B     "0123456789abcdef"
#define EPOCH_B2    "fedcba9876543210"
#define MAX_LINKS   8

typedef struct {
    char name [32];             //  broker name
    en_bstore_t *store;         //  its store
    en_router_t *router;        //  its router
    int links;                  //  peers known to its link_fn
    char link_peer [MAX_LINKS][32];
    int link_state [MAX_LINKS]; //  1 up, 0 down
} broker_t;

typedef struct {
    char dir [64];              //  temporary directory
    char keys [96];             //  node keys in dir/keys
    broker_t brokers [3];
    broker_t *a;                //  overijssel
    broker_t *b;                //  gelderland
    broker_t *c;                //  utrecht
    int64_t advert_seq;         //  seq of the adverts applied by s_advertise
    en_signer_t *twente;        //  node keys (node name = its region)
    en_signer_t *ijsselland;
    en_signer_t *achterhoek;
    en_signer_t *utrecht;
    en_signer_t *rogue;         //  a key nobody enrolled
} fixture_t;

//  Fail the test at the caller's file and line.
static void
s_fail_at (const char *file, int line, const char *format, ...)
{
    char text [2048];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    print_error ("ERROR: %s\n", text);
    _fail (file, line);
}

//  ---------------------------------------------------------------------
//  Links

static int
s_link (const char *peer, void *arg)
{
    broker_t *broker = (broker_t *) arg;
    for (int i = 0; i < broker->links; i++)
        if (streq (broker->link_peer [i], peer))
            return broker->link_state [i];
    return -1;
}

//  Set the link state of peer as broker's link_fn reports it; -1 removes
//  the peer (no longer configured).
static void
s_set_link (broker_t *broker, const char *peer, int state)
{
    for (int i = 0; i < broker->links; i++)
        if (streq (broker->link_peer [i], peer)) {
            if (state < 0) {
                broker->links--;
                memmove (broker->link_peer [i], broker->link_peer [i + 1],
                         sizeof broker->link_peer [0] * (broker->links - i));
                memmove (&broker->link_state [i], &broker->link_state [i + 1],
                         sizeof broker->link_state [0] * (broker->links - i));
            }
            else
                broker->link_state [i] = state;
            return;
        }
    if (state >= 0) {
        assert_true (broker->links < MAX_LINKS);
        snprintf (broker->link_peer [broker->links], sizeof broker->link_peer [0], "%s", peer);
        broker->link_state [broker->links++] = state;
    }
}

//  ---------------------------------------------------------------------
//  Fixture

static int
s_broker_open (fixture_t *self, broker_t *broker, const char *name, const char *region1,
               const char *region2)
{
    snprintf (broker->name, sizeof broker->name, "%s", name);
    char path [160];
    en_error_t error = { 0 };
    snprintf (path, sizeof path, "%s/%s.db", self->dir, name);
    broker->store = en_bstore_new (path, &error);
    if (!broker->store) {
        fprintf (stderr, "en_bstore_new: %s\n", error.reason);
        return -1;
    }
    broker->router = en_router_new (broker->store, name);
    en_router_add_region (broker->router, region1);
    if (region2)
        en_router_add_region (broker->router, region2);
    en_router_set_federation (broker->router, true, 2, 2, s_link, broker);
    return 0;
}

static en_signer_t *
s_node_key (fixture_t *self, const char *name)
{
    en_error_t error = { 0 };
    if (en_keys_generate (self->keys, name, &error)) {
        fprintf (stderr, "en_keys_generate: %s\n", error.reason);
        return NULL;
    }
    en_signer_t *signer = en_signer_load (self->keys, name, &error);
    if (!signer)
        fprintf (stderr, "en_signer_load: %s\n", error.reason);
    return signer;
}

static int
s_setup (void **state)
{
    fixture_t *self = (fixture_t *) calloc (1, sizeof (fixture_t));
    if (!test_mkdtemp (self->dir, sizeof self->dir, "test_federation"))
        return -1;
    snprintf (self->keys, sizeof self->keys, "%s/keys", self->dir);
    self->a = &self->brokers [0];
    self->b = &self->brokers [1];
    self->c = &self->brokers [2];
    if (s_broker_open (self, self->a, "overijssel", "twente", "ijsselland")
    ||  s_broker_open (self, self->b, "gelderland", "achterhoek", "midden-gelderland")
    ||  s_broker_open (self, self->c, "utrecht", "utrecht", NULL))
        return -1;
    //  Every link up
    s_set_link (self->a, "gelderland", 1);
    s_set_link (self->a, "utrecht", 1);
    s_set_link (self->b, "overijssel", 1);
    s_set_link (self->b, "utrecht", 1);
    s_set_link (self->c, "overijssel", 1);
    s_set_link (self->c, "gelderland", 1);
    self->twente = s_node_key (self, "twente");
    self->ijsselland = s_node_key (self, "ijsselland");
    self->achterhoek = s_node_key (self, "achterhoek");
    self->utrecht = s_node_key (self, "utrecht");
    self->rogue = s_node_key (self, "rogue");
    if (!self->twente || !self->ijsselland || !self->achterhoek || !self->utrecht || !self->rogue)
        return -1;
    *state = self;
    return 0;
}

static void
s_assert_counters (broker_t *broker)
{
    int64_t drifted = test_counters_drift (en_bstore_db (broker->store));
    if (drifted)
        fail_msg ("%s: %lld expert(s) with load/reserved counters that differ from the rows",
                  broker->name, (long long) drifted);
}

static int
s_teardown (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char failure [256] = "";
    for (int i = 0; i < 3; i++) {
        broker_t *broker = &self->brokers [i];
        if (!broker->store)
            continue;
        int64_t drifted = test_counters_drift (en_bstore_db (broker->store));
        if (drifted && !*failure)
            snprintf (failure, sizeof failure, "%s: %lld expert(s) with load/reserved counters that differ"
                      " from the rows", broker->name, (long long) drifted);
        en_router_destroy (&broker->router);
        en_bstore_destroy (&broker->store);
    }
    en_signer_destroy (&self->twente);
    en_signer_destroy (&self->ijsselland);
    en_signer_destroy (&self->achterhoek);
    en_signer_destroy (&self->utrecht);
    en_signer_destroy (&self->rogue);
    test_rmtree (self->dir);
    free (self);
    if (*failure)
        fail_msg ("%s", failure);
    return 0;
}

//  ---------------------------------------------------------------------
//  Messages

static void
s_hex (const unsigned char *key, char hex [65])
{
    sodium_bin2hex (hex, 65, key, 32);
}

//  A message from node, signed with its key. Takes body.
static en_msg_t *
s_signed (const char *node, en_signer_t *signer, const char *command, json_t *body)
{
    en_msg_t *msg = en_msg_new (command, node, body);
    en_msg_sign (msg, signer);
    return msg;
}

//  Handle msg from node (its region has its name) at broker as the broker
//  does: the node's signing key, then its exactly-once receive (en_inbox
//  and the router, in a transaction).
static int
s_node_deliver (broker_t *broker, en_signer_t *signer, en_msg_t *msg, en_error_t *error)
{
    en_router_set_sender_key (broker->router, signer ? en_signer_public (signer) : NULL);
    const char *node = en_msg_sender (msg);
    int rc = test_receive (broker->router, broker->store, node, node, false, msg, error);
    if (rc)
        assert_true (error->code > 0);
    return rc;
}

static void
s_node_deliver_ok (broker_t *broker, en_signer_t *signer, en_msg_t *msg)
{
    en_error_t error;
    if (s_node_deliver (broker, signer, msg, &error))
        fail_msg ("%s: %s from %s refused: %d %s", broker->name, en_msg_command (msg),
                  en_msg_sender (msg), error.code, error.reason);
}

//  A signed message from node, expected to be taken. Takes body.
static void
s_node_ok (broker_t *broker, const char *node, en_signer_t *signer, const char *command, json_t *body)
{
    en_msg_t *msg = s_signed (node, signer, command, body);
    s_node_deliver_ok (broker, signer, msg);
    en_msg_destroy (&msg);
}

//  A signed message from node, expected to be refused with code. Takes body.
static void
s_node_refused_at (const char *file, int line, broker_t *broker, const char *node,
                   en_signer_t *signer, const char *command, json_t *body, int code)
{
    en_msg_t *msg = s_signed (node, signer, command, body);
    en_error_t error;
    if (s_node_deliver (broker, signer, msg, &error) == 0)
        s_fail_at (file, line, "%s: %s from %s was taken, expected %d", broker->name, command, node, code);
    if (error.code != code)
        s_fail_at (file, line, "%s: %s from %s refused with %d (%s), expected %d", broker->name, command, node,
                   error.code, error.reason, code);
    en_msg_destroy (&msg);
}
#define s_node_refused(...) s_node_refused_at (__FILE__, __LINE__, __VA_ARGS__)

//  Handle msg from peer at broker as the broker does (en_inbox and the
//  router, in a transaction; rolled back on refusal).
static int
s_peer_deliver (broker_t *broker, const char *peer, en_msg_t *msg, en_error_t *error)
{
    en_router_set_sender_key (broker->router, NULL);
    int rc = test_receive (broker->router, broker->store, peer, NULL, true, msg, error);
    if (rc) {
        assert_true (error->code > 0);
        assert_true (strlen (error->reason) > 0);
    }
    return rc;
}

//  A message from peer (sender peer), expected to be refused with code.
//  Takes body.
static void
s_peer_refused_at (const char *file, int line, broker_t *broker, const char *peer,
                   const char *command, json_t *body, int code)
{
    en_msg_t *msg = en_msg_new (command, peer, body);
    en_error_t error;
    if (s_peer_deliver (broker, peer, msg, &error) == 0)
        s_fail_at (file, line, "%s: %s from %s was taken, expected %d", broker->name, command, peer, code);
    if (error.code != code)
        s_fail_at (file, line, "%s: %s from %s refused with %d (%s), expected %d", broker->name, command, peer,
                   error.code, error.reason, code);
    en_msg_destroy (&msg);
}
#define s_peer_refused(...) s_peer_refused_at (__FILE__, __LINE__, __VA_ARGS__)

static void
s_peer_ok (broker_t *broker, const char *peer, const char *command, json_t *body)
{
    en_msg_t *msg = en_msg_new (command, peer, body);
    en_error_t error;
    if (s_peer_deliver (broker, peer, msg, &error))
        fail_msg ("%s: %s from %s refused: %d %s", broker->name, command, peer, error.code, error.reason);
    en_msg_destroy (&msg);
}

//  What from has queued for "peer:<to>", as s_pump sends it, oldest
//  first (caller owns): keep it before a pump to deliver it again.
static json_t *
s_link_rows (broker_t *from, broker_t *to)
{
    char dest [64];
    snprintf (dest, sizeof dest, "peer:%s", to->name);
    json_t *rows = en_db_rows (en_db_query (en_bstore_db (from->store),
        "SELECT msg_id, command, sender, ts, body FROM outbox WHERE dest = ? ORDER BY seq", "s", dest));
    assert_non_null (rows);
    return rows;
}

//  The link from -> to: deliver what from has queued for "peer:<to>", in
//  order, from the stored text, and acknowledge each on from. Fails the
//  test on a refusal. Returns how many were delivered.
static int
s_pump (broker_t *from, broker_t *to)
{
    char dest [64];
    snprintf (dest, sizeof dest, "peer:%s", to->name);
    en_db_t *db = en_bstore_db (from->store);
    json_t *rows = s_link_rows (from, to);
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row) {
        assert_string_equal (en_json_str (row, "sender"), from->name);
        en_msg_t *msg = en_msg_restore_text (en_json_str (row, "command"), en_json_str (row, "msg_id"),
                                             en_json_str (row, "sender"), en_json_int (row, "ts", 0),
                                             en_json_str (row, "body"));
        assert_non_null (msg);
        en_error_t error;
        if (s_peer_deliver (to, from->name, msg, &error))
            fail_msg ("%s refused %s %s from %s: %d %s", to->name, en_msg_command (msg), en_msg_id (msg),
                      from->name, error.code, error.reason);
        en_msg_destroy (&msg);
        assert_int_equal (en_db_begin (db), 0);
        assert_int_equal (en_outbox_ack (en_bstore_outbox (from->store), dest, en_json_str (row, "msg_id"), NULL), 0);
        assert_int_equal (en_db_commit (db), 0);
    }
    int count = (int) json_array_size (rows);
    json_decref (rows);
    return count;
}

//  The link from -> to delivering again what s_pump delivered (a resend
//  whose ACK was lost): rows from s_link_rows before the pump. Each must
//  be taken again (answered, as a duplicate, without effect).
static void
s_redeliver (broker_t *from, broker_t *to, json_t *rows)
{
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row) {
        en_msg_t *msg = en_msg_restore_text (en_json_str (row, "command"), en_json_str (row, "msg_id"),
                                             en_json_str (row, "sender"), en_json_int (row, "ts", 0),
                                             en_json_str (row, "body"));
        assert_non_null (msg);
        en_error_t error;
        if (s_peer_deliver (to, from->name, msg, &error))
            fail_msg ("%s refused %s again: %d %s", to->name, en_msg_command (msg), error.code, error.reason);
        en_msg_destroy (&msg);
    }
}

//  What broker has queued for dest (command NULL: any), oldest first:
//  [{msg_id, command, sender, body}] with body parsed. Caller owns.
static json_t *
s_outbox (broker_t *broker, const char *dest, const char *command)
{
    json_t *rows = en_db_rows (en_db_query (en_bstore_db (broker->store),
        "SELECT msg_id, command, sender, body AS body_json FROM outbox"
        " WHERE dest = ?1 AND (?2 IS NULL OR command = ?2) ORDER BY seq", "ss", dest, command));
    assert_non_null (rows);
    return rows;
}

//  The commands broker has queued for dest, oldest first, a carried
//  message as FORWARD:<its command>: e.g. "MEMBERS FORWARD:CLOSE"
static const char *
s_queued (broker_t *broker, const char *dest)
{
    static char text [512];
    text [0] = 0;
    json_t *rows = s_outbox (broker, dest, NULL);
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row) {
        const char *carried = en_json_str (json_object_get (json_object_get (row, "body"), "message"), "command");
        size_t used = strlen (text);
        snprintf (text + used, sizeof text - used, "%s%s%s%s", used ? " " : "", en_json_str (row, "command"),
                  carried ? ":" : "", carried ? carried : "");
    }
    json_decref (rows);
    return text;
}

static int64_t
s_depth (broker_t *broker, const char *dest)
{
    return en_outbox_depth (en_bstore_outbox (broker->store), dest);
}

//  Take what broker queued for a node (as the node would receive it):
//  the rows, acknowledged. Caller owns.
static json_t *
s_take (broker_t *broker, const char *dest)
{
    json_t *rows = s_outbox (broker, dest, NULL);
    en_db_t *db = en_bstore_db (broker->store);
    assert_int_equal (en_db_begin (db), 0);
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row)
        assert_int_equal (en_outbox_ack (en_bstore_outbox (broker->store), dest,
                                         en_json_str (row, "msg_id"), NULL), 0);
    assert_int_equal (en_db_commit (db), 0);
    return rows;
}

//  Rows as text: "COMMAND" each, a STATUS as "STATUS event/state",
//  joined with spaces.
static const char *
s_format (json_t *rows, char *buf, size_t size)
{
    buf [0] = 0;
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row) {
        char item [128];
        json_t *body = json_object_get (row, "body");
        if (streq (en_json_str (row, "command"), "STATUS"))
            snprintf (item, sizeof item, "STATUS %s/%s", en_json_str (body, "event"), en_json_str (body, "state"));
        else
            snprintf (item, sizeof item, "%s", en_json_str (row, "command"));
        if (index)
            strncat (buf, " ", size - strlen (buf) - 1);
        strncat (buf, item, size - strlen (buf) - 1);
    }
    return buf;
}

//  Take what broker queued for dest and check it reads as expected;
//  returns the rows (caller owns).
static json_t *
s_take_expect_at (const char *file, int line, broker_t *broker, const char *dest, const char *expected)
{
    json_t *rows = s_take (broker, dest);
    char buf [1024];
    s_format (rows, buf, sizeof buf);
    if (!streq (buf, expected))
        s_fail_at (file, line, "%s queued for %s: '%s', expected '%s'", broker->name, dest, buf, expected);
    return rows;
}
#define s_take_expect(...) s_take_expect_at (__FILE__, __LINE__, __VA_ARGS__)

//  ---------------------------------------------------------------------
//  Store state

static json_t *
s_request (broker_t *broker, const char *id)
{
    json_t *request = en_bstore_request (broker->store, id);
    if (!request)
        fail_msg ("%s has no request %s", broker->name, id);
    return request;
}

static void
s_assert_state_at (const char *file, int line, broker_t *broker, const char *id, const char *state)
{
    json_t *request = s_request (broker, id);
    if (!streq (en_json_str (request, "state"), state))
        s_fail_at (file, line, "%s: request %s is %s, expected %s", broker->name, id,
                   en_json_str (request, "state"), state);
    json_decref (request);
}
#define s_assert_state(...) s_assert_state_at (__FILE__, __LINE__, __VA_ARGS__)

//  requests.peer of id is peer (NULL: none)
static void
s_assert_peer_at (const char *file, int line, broker_t *broker, const char *id, const char *peer)
{
    json_t *request = s_request (broker, id);
    const char *actual = en_json_str (request, "peer");
    if (peer ? !actual || !streq (actual, peer) : actual != NULL)
        s_fail_at (file, line, "%s: request %s is with peer '%s', expected '%s'", broker->name, id,
                   actual ? actual : "(none)", peer ? peer : "(none)");
    json_decref (request);
}
#define s_assert_peer(...) s_assert_peer_at (__FILE__, __LINE__, __VA_ARGS__)

//  Event types of a request, joined with spaces.
static const char *
s_events (broker_t *broker, const char *id, char *buf, size_t size)
{
    return test_join (en_bstore_events (broker->store, id), "type", buf, size);
}

static void
s_assert_events_at (const char *file, int line, broker_t *broker, const char *id, const char *expected)
{
    char buf [1024];
    s_events (broker, id, buf, sizeof buf);
    if (!streq (buf, expected))
        s_fail_at (file, line, "%s: events of %s are '%s', expected '%s'", broker->name, id, buf, expected);
}
#define s_assert_events(...) s_assert_events_at (__FILE__, __LINE__, __VA_ARGS__)

//  The forwards of a request as "peer/state ...", oldest first (ties by name).
static const char *
s_forwards (broker_t *broker, const char *id, char *buf, size_t size)
{
    json_t *rows = en_db_rows (en_db_query (en_bstore_db (broker->store),
        "SELECT peer, state FROM forwards WHERE request_id = ? ORDER BY at, peer", "s", id));
    buf [0] = 0;
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row) {
        char item [96];
        snprintf (item, sizeof item, "%s%s/%s", index ? " " : "", en_json_str (row, "peer"),
                  en_json_str (row, "state"));
        strncat (buf, item, size - strlen (buf) - 1);
    }
    json_decref (rows);
    return buf;
}

static void
s_assert_forwards_at (const char *file, int line, broker_t *broker, const char *id, const char *expected)
{
    char buf [512];
    s_forwards (broker, id, buf, sizeof buf);
    if (!streq (buf, expected))
        s_fail_at (file, line, "%s: forwards of %s are '%s', expected '%s'", broker->name, id, buf, expected);
}
#define s_assert_forwards(...) s_assert_forwards_at (__FILE__, __LINE__, __VA_ARGS__)

//  The one open offer of a request (caller owns), or NULL.
static json_t *
s_open_offer (broker_t *broker, const char *id)
{
    json_t *open = en_bstore_offers_open (broker->store, id, 0);
    assert_true (json_array_size (open) <= 1);
    json_t *offer = json_incref (json_array_get (open, 0));
    json_decref (open);
    return offer;
}

static void
s_assert_offered_at (const char *file, int line, broker_t *broker, const char *id,
                     const char *expert, const char *kind)
{
    json_t *offer = s_open_offer (broker, id);
    if (!offer)
        s_fail_at (file, line, "%s: request %s has no open offer, expected one to %s", broker->name, id, expert);
    if (!streq (en_json_str (offer, "expert"), expert) || !streq (en_json_str (offer, "kind"), kind))
        s_fail_at (file, line, "%s: request %s offered (%s) to %s, expected (%s) %s", broker->name, id,
                   en_json_str (offer, "kind"), en_json_str (offer, "expert"), kind, expert);
    json_decref (offer);
}
#define s_assert_offered(...) s_assert_offered_at (__FILE__, __LINE__, __VA_ARGS__)

static const char *
s_offer_id (broker_t *broker, const char *id, char *buf, size_t size)
{
    json_t *offer = s_open_offer (broker, id);
    assert_non_null (offer);
    snprintf (buf, size, "%s", en_json_str (offer, "id"));
    json_decref (offer);
    return buf;
}

static int64_t
s_offers_to (broker_t *broker, const char *id, const char *expert)
{
    return en_db_int (en_bstore_db (broker->store),
        "SELECT count(*) FROM offers WHERE request_id = ? AND expert = ?", "ss", id, expert);
}

static int64_t
s_expert_int (broker_t *broker, const char *expert_id, const char *field)
{
    json_t *expert = en_bstore_expert (broker->store, expert_id);
    assert_non_null (expert);
    int64_t value = en_json_int (expert, field, -1);
    json_decref (expert);
    return value;
}

static int64_t
s_rows (broker_t *broker, const char *table)
{
    char sql [128];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM %s", table);
    return en_db_int (en_bstore_db (broker->store), sql, NULL);
}

//  ---------------------------------------------------------------------
//  Experts, requests, adverts

static void
s_publish (broker_t *broker, const char *node, en_signer_t *signer, const char *experts)
{
    s_node_ok (broker, node, signer, "AVAILABILITY", json_pack ("{s:o}", "experts", test_json (experts)));
}

static json_t *
s_submit_body (const char *id, const char *region, const char *urgency,
               const char *question_type, const char *expertise)
{
    return json_pack ("{s:{s:s, s:s, s:s, s:s, s:o, s:s}}", "request",
                      "id", id, "region", region, "urgency", urgency,
                      "question_type", question_type, "expertise", test_json (expertise),
                      "age_band", "12-17");
}

//  Submit from node (its region is its name) at broker; returns the
//  signed SUBMIT (caller destroys).
static en_msg_t *
s_submit (broker_t *broker, const char *node, en_signer_t *signer, const char *id,
          const char *urgency, const char *expertise)
{
    en_msg_t *msg = s_signed (node, signer, "SUBMIT",
                              s_submit_body (id, node, urgency, "consultatie-advies", expertise));
    s_node_deliver_ok (broker, signer, msg);
    return msg;
}

static void
s_submit_only (broker_t *broker, const char *node, en_signer_t *signer, const char *id,
               const char *urgency, const char *expertise)
{
    en_msg_t *msg = s_submit (broker, node, signer, id, urgency, expertise);
    en_msg_destroy (&msg);
}

static void
s_decline_open (broker_t *broker, const char *node, en_signer_t *signer, const char *id)
{
    char offer [128];
    s_offer_id (broker, id, offer, sizeof offer);
    s_node_ok (broker, node, signer, "DECLINE", json_pack ("{s:s, s:s}", "offer", offer, "reason", "geen ruimte"));
}

//  Apply entries (takes them) as a snapshot advert of peer at broker.
static void
s_advert_apply (fixture_t *self, broker_t *broker, const char *peer, json_t *entries)
{
    en_db_t *db = en_bstore_db (broker->store);
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_bstore_advert_apply (broker->store, peer, EPOCH_B, ++self->advert_seq, true, entries), 0);
    assert_int_equal (en_db_commit (db), 0);
    json_decref (entries);
}

//  What from can serve now, applied at to, as the link's snapshot would.
static void
s_advertise (fixture_t *self, broker_t *from, broker_t *to)
{
    json_t *entries = en_bstore_advert_own (from->store, en_now_ms ());
    assert_non_null (entries);
    s_advert_apply (self, to, from->name, entries);
}

//  Free places peer advertises at broker for role and tagset, hops 1.
static int64_t
s_advertised (broker_t *broker, const char *peer, const char *role, const char *tagset)
{
    return en_db_int (en_bstore_db (broker->store),
        "SELECT coalesce (sum (free), 0) FROM peer_adverts WHERE peer = ? AND role = ? AND tagset = ? AND hops = 1",
        "sss", peer, role, tagset);
}

//  The FORWARD body for a carried message.
static json_t *
s_forward_body (en_msg_t *inner, const unsigned char *key, const char *visited)
{
    char hex [65];
    s_hex (key, hex);
    return json_pack ("{s:o, s:s, s:o}", "message", en_msg_export (inner), "sign_key", hex,
                      "visited", test_json (visited));
}

static const char *EXPERTS_A =
    "[{\"id\":\"se-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2},"
    " {\"id\":\"pr-ov-01\",\"role\":\"procesregisseur\",\"region\":\"twente\",\"expertise\":[],"
    "  \"capacity\":1,\"bovenregionaal\":true}]";

//  ---------------------------------------------------------------------
//  1. A request nobody at A can serve goes to B and back

static void
test_forward_lifecycle (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    const char *box_key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    //  The same expert id on both sides: A's se-01 must never be charged
    //  with the case B's se-01 takes
    s_publish (a, "twente", self->twente, EXPERTS_A);
    char experts_b [512];
    snprintf (experts_b, sizeof experts_b,
        "[{\"id\":\"se-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"eetstoornis\"],"
        "\"capacity\":2,\"box_key\":\"%s\"}]", box_key);
    s_publish (b, "achterhoek", self->achterhoek, experts_b);
    s_advertise (self, b, a);
    assert_int_equal (s_advertised (a, "gelderland", "superexpert", ",eetstoornis,"), 2);

    const char *id = "twente-0001";
    en_msg_t *submit = s_submit (a, "twente", self->twente, id, "hoog", "[\"eetstoornis\"]");

    //  A: forwarded, not escalated to its own procesregisseur
    s_assert_state (a, id, "forwarded");
    s_assert_peer (a, id, "gelderland");
    assert_int_equal (en_bstore_offer_count (a->store, id), 0);
    assert_int_equal (s_rows (a, "hiaten"), 0);
    s_assert_events (a, id, "submitted forwarded");
    json_t *events = en_bstore_events (a->store, id);
    assert_string_equal (en_json_str (json_array_get (events, 1), "detail"), "gelderland");
    json_decref (events);
    json_t *forwards = en_bstore_forwards (a->store, id);
    assert_int_equal (json_array_size (forwards), 1);
    json_t *forward = json_array_get (forwards, 0);
    assert_string_equal (en_json_str (forward, "peer"), "gelderland");
    assert_string_equal (en_json_str (forward, "state"), "open");
    char forward_id [33];
    snprintf (forward_id, sizeof forward_id, "%s", en_json_str (forward, "msg_id"));

    //  The FORWARD carries the node's signed SUBMIT exactly, its key and
    //  the brokers passed
    json_t *queued = s_outbox (a, "peer:gelderland", NULL);
    assert_int_equal (json_array_size (queued), 1);
    json_t *row = json_array_get (queued, 0);
    assert_string_equal (en_json_str (row, "command"), "FORWARD");
    assert_string_equal (en_json_str (row, "sender"), "overijssel");
    assert_string_equal (en_json_str (row, "msg_id"), en_json_str (forward, "msg_id"));
    json_t *body = json_object_get (row, "body");
    json_t *exported = en_msg_export (submit);
    assert_true (json_equal (json_object_get (body, "message"), exported));
    json_decref (exported);
    char hex [65];
    s_hex (en_signer_public (self->twente), hex);
    assert_string_equal (en_json_str (body, "sign_key"), hex);
    json_t *visited = test_json ("[\"overijssel\"]");
    assert_true (json_equal (json_object_get (body, "visited"), visited));
    json_decref (visited);
    en_error_t error;
    en_msg_t *inner = en_msg_import (json_object_get (body, "message"), &error);
    assert_non_null (inner);
    assert_true (en_msg_verify (inner, en_signer_public (self->twente)));
    assert_string_equal (en_msg_id (inner), en_msg_id (submit));
    en_msg_destroy (&inner);
    json_decref (queued);
    json_decref (forwards);
    en_msg_destroy (&submit);

    //  The origin was told
    json_t *status = s_take_expect (a, "twente", "STATUS forwarded/forwarded");
    assert_string_equal (en_json_str (json_object_get (json_array_get (status, 0), "body"), "peer"), "gelderland");
    json_decref (status);

    //  B: stored as a request of peer overijssel, offered to its se-01
    assert_int_equal (s_pump (a, b), 1);
    assert_int_equal (s_depth (a, "peer:gelderland"), 0);
    json_t *request = s_request (b, id);
    assert_string_equal (en_json_str (request, "origin"), "peer:overijssel");
    assert_string_equal (en_json_str (request, "origin_node"), "twente");
    assert_string_equal (en_json_str (request, "sign_key"), hex);
    assert_null (en_json_str (request, "peer"));
    visited = test_json ("[\"overijssel\", \"gelderland\"]");
    assert_true (json_equal (json_object_get (request, "visited"), visited));
    json_decref (visited);
    json_decref (request);
    s_assert_state (b, id, "offered");
    s_assert_offered (b, id, "se-01", "offer");
    events = en_bstore_events (b->store, id);
    assert_string_equal (en_json_str (json_array_get (events, 0), "type"), "submitted");
    assert_string_equal (en_json_str (json_array_get (events, 0), "detail"),
                         "from twente of overijssel, through overijssel");
    json_decref (events);
    json_decref (s_take_expect (b, "achterhoek", "OFFER"));
    //  B's STATUS goes to the peer, not to any node
    assert_int_equal (s_depth (b, "twente"), 0);
    assert_int_equal (s_depth (b, "peer:overijssel"), 1);

    //  A mirrors the offer and tells the origin, via gelderland
    assert_int_equal (s_pump (b, a), 1);
    s_assert_state (a, id, "offered");
    s_assert_peer (a, id, "gelderland");
    char offer [128];
    s_offer_id (b, id, offer, sizeof offer);
    status = s_take_expect (a, "twente", "STATUS offered/offered");
    body = json_object_get (json_array_get (status, 0), "body");
    assert_string_equal (en_json_str (body, "expert"), "se-01");
    assert_string_equal (en_json_str (body, "offer"), offer);
    assert_string_equal (en_json_str (body, "via"), "gelderland");
    assert_string_equal (en_json_str (body, "detail"), "via gelderland");
    json_decref (status);
    //  ... and offered nobody of its own
    assert_int_equal (en_bstore_offer_count (a->store, id), 0);
    assert_int_equal (s_expert_int (a, "se-01", "reserved"), 0);

    //  The expert's node accepts and advises at B
    s_node_ok (b, "achterhoek", self->achterhoek, "ACCEPT", json_pack ("{s:s}", "offer", offer));
    s_node_ok (b, "achterhoek", self->achterhoek, "ADVICE",
               json_pack ("{s:s, s:s}", "offer", offer, "text", "Overweeg een gespecialiseerde behandeling."));
    s_assert_state (b, id, "advice");
    assert_int_equal (s_expert_int (b, "se-01", "load"), 1);
    assert_int_equal (s_pump (b, a), 2);
    s_assert_state (a, id, "advice");
    request = s_request (a, id);
    assert_string_equal (en_json_str (request, "expert"), "se-01");
    json_decref (request);
    //  A's own se-01 is not charged with B's case
    assert_int_equal (s_expert_int (a, "se-01", "load"), 0);
    assert_int_equal (s_expert_int (a, "se-01", "reserved"), 0);
    s_assert_counters (a);
    s_assert_counters (b);
    status = s_take_expect (a, "twente", "STATUS accepted/accepted STATUS advice/advice");
    body = json_object_get (json_array_get (status, 0), "body");
    assert_string_equal (en_json_str (body, "expert"), "se-01");
    assert_string_equal (en_json_str (body, "via"), "gelderland");
    assert_string_equal (en_json_str (body, "box_key"), box_key);
    assert_string_equal (en_json_str (body, "offer"), offer);
    body = json_object_get (json_array_get (status, 1), "body");
    assert_string_equal (en_json_str (body, "advice"), "Overweeg een gespecialiseerde behandeling.");
    assert_string_equal (en_json_str (body, "via"), "gelderland");
    json_decref (status);
    s_assert_events (a, id, "submitted forwarded offered accepted advice");

    //  The sealed dossier goes through A to B to the expert's node
    s_node_ok (a, "twente", self->twente, "DOSSIER",
               json_pack ("{s:s, s:s}", "request", id, "sealed", "c2VhbGVkIGRvc3NpZXI="));
    s_assert_events (a, id, "submitted forwarded offered accepted advice relayed");
    queued = s_outbox (a, "peer:gelderland", "FORWARD");
    assert_int_equal (json_array_size (queued), 1);
    json_t *carried = json_object_get (json_object_get (json_array_get (queued, 0), "body"), "message");
    assert_string_equal (en_json_str (carried, "command"), "DOSSIER");
    assert_string_equal (en_json_str (carried, "sender"), "twente");
    json_decref (queued);
    assert_int_equal (s_pump (a, b), 1);
    json_t *dossier = s_take_expect (b, "achterhoek", "DOSSIER");
    body = json_object_get (json_array_get (dossier, 0), "body");
    assert_string_equal (en_json_str (body, "sealed"), "c2VhbGVkIGRvc3NpZXI=");
    assert_string_equal (en_json_str (body, "expert"), "se-01");
    json_decref (dossier);

    //  The origin closes: A relays its signed CLOSE, B closes, A follows
    en_msg_t *close = s_signed ("twente", self->twente, "CLOSE",
                                json_pack ("{s:s, s:s}", "request", id, "outcome", "passende hulp gerealiseerd"));
    s_node_deliver_ok (a, self->twente, close);
    s_assert_state (a, id, "advice");
    s_assert_events (a, id, "submitted forwarded offered accepted advice relayed relayed");
    queued = s_outbox (a, "peer:gelderland", NULL);
    assert_int_equal (json_array_size (queued), 1);
    assert_string_equal (en_json_str (json_array_get (queued, 0), "command"), "FORWARD");
    body = json_object_get (json_array_get (queued, 0), "body");
    exported = en_msg_export (close);
    assert_true (json_equal (json_object_get (body, "message"), exported));
    json_decref (exported);
    assert_string_equal (en_json_str (body, "sign_key"), hex);
    visited = test_json ("[\"overijssel\"]");
    assert_true (json_equal (json_object_get (body, "visited"), visited));
    json_decref (visited);
    json_decref (queued);
    en_msg_destroy (&close);
    //  Nothing for the node yet: B decides
    assert_int_equal (s_depth (a, "twente"), 0);

    assert_int_equal (s_pump (a, b), 1);
    s_assert_state (b, id, "closed");
    assert_int_equal (s_expert_int (b, "se-01", "load"), 0);
    assert_int_equal (s_pump (b, a), 1);
    s_assert_state (a, id, "closed");
    s_assert_peer (a, id, "gelderland");
    s_assert_forwards (a, id, "gelderland/closed");
    status = s_take_expect (a, "twente", "STATUS closed/closed");
    body = json_object_get (json_array_get (status, 0), "body");
    assert_string_equal (en_json_str (body, "detail"), "passende hulp gerealiseerd");
    assert_string_equal (en_json_str (body, "via"), "gelderland");
    json_decref (status);
    s_assert_events (a, id, "submitted forwarded offered accepted advice relayed relayed closed");
    assert_int_equal (s_expert_int (a, "se-01", "load"), 0);
    //  A late refusal of the FORWARD that handed it over changes nothing
    en_db_t *db = en_bstore_db (a->store);
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_forward_refused (a->router, "gelderland", forward_id, 409, "late"), 0);
    assert_int_equal (en_db_commit (db), 0);
    s_assert_state (a, id, "closed");
    s_assert_forwards (a, id, "gelderland/closed");
    s_assert_events (a, id, "submitted forwarded offered accepted advice relayed relayed closed");
    assert_int_equal (s_expert_int (a, "pr-ov-01", "reserved"), 0);
    //  Closed is closed: a second CLOSE is a conflict and relays nothing
    s_node_refused (a, "twente", self->twente, "CLOSE", json_pack ("{s:s}", "request", id), EN_ERR_CONFLICT);
    assert_int_equal (s_depth (a, "peer:gelderland"), 0);
    //  Nothing left in flight anywhere
    assert_int_equal (s_depth (b, "peer:overijssel"), 0);
    assert_int_equal (s_rows (a, "offers"), 0);
}

//  ---------------------------------------------------------------------
//  2. Local first

//  A request's conversation across provinces (docs/protocol.md,
//  "Conversations"): the broker holding the request (B) numbers the
//  messages; the one that handed it over (A) passes MEMBERS, MESSAGE and
//  RECEIPT between the peer and the team's node, unchanged and sealed.
static json_t *
s_convo_message (const char *id, const char *from)
{
    return json_pack ("{s:s, s:s, s:s, s:s, s:{s:s, s:s}}", "request", id, "from", from, "kind", "message",
                      "box", "Ym94LW9mLXRoZS10ZXh0", "sealed", "team", "a2V5LWZvci10ZWFt", "se-01",
                      "a2V5LWZvci1leHBlcnQ=");
}

static int64_t
s_queued_count (broker_t *broker, const char *dest, const char *command)
{
    json_t *rows = s_outbox (broker, dest, command);
    int64_t count = (int64_t) json_array_size (rows);
    json_decref (rows);
    return count;
}

static void
test_conversation_across_provinces (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    const char *team_key = "1111111111111111111111111111111111111111111111111111111111111111";
    s_publish (a, "twente", self->twente, EXPERTS_A);
    s_publish (b, "achterhoek", self->achterhoek,
        "[{\"id\":\"se-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"eetstoornis\"],"
        "\"capacity\":2,\"box_key\":\"2222222222222222222222222222222222222222222222222222222222222222\"}]");
    s_advertise (self, b, a);
    const char *id = "twente-0009";
    json_t *submit = s_submit_body (id, "twente", "hoog", "consultatie-advies", "[\"eetstoornis\"]");
    json_object_set_new (submit, "team_key", json_string (team_key));
    s_node_ok (a, "twente", self->twente, "SUBMIT", submit);
    s_assert_state (a, id, "forwarded");
    assert_int_equal (s_pump (a, b), 1);
    char offer [128];
    s_offer_id (b, id, offer, sizeof offer);
    s_node_ok (b, "achterhoek", self->achterhoek, "ACCEPT", json_pack ("{s:s}", "offer", offer));
    //  B tells its expert's node and, through A, the team who takes part
    assert_int_equal (s_queued_count (b, "achterhoek", "MEMBERS"), 1);
    assert_int_equal (s_queued_count (b, "peer:overijssel", "MEMBERS"), 1);
    assert_true (s_pump (b, a) >= 2);                     //  STATUS offered, accepted, MEMBERS
    json_t *members = s_outbox (a, "twente", "MEMBERS");
    assert_int_equal (json_array_size (members), 1);
    json_t *list = json_object_get (json_object_get (json_array_get (members, 0), "body"), "members");
    assert_string_equal (en_json_str (json_array_get (list, 0), "who"), "se-01");
    assert_string_equal (en_json_str (json_array_get (list, 1), "box_key"), team_key);
    json_decref (members);

    //  The team writes at A: passed to B, numbered there, to the expert's
    //  node with the expert's key only and back to the team with its own
    s_node_ok (a, "twente", self->twente, "MESSAGE", s_convo_message (id, "team"));
    assert_int_equal (s_rows (a, "convo_messages"), 0);
    assert_int_equal (s_pump (a, b), 1);
    json_t *relayed = s_outbox (b, "achterhoek", "MESSAGE");
    json_t *body = json_object_get (json_array_get (relayed, 0), "body");
    assert_int_equal (en_json_int (body, "seq", 0), 1);
    assert_int_equal (json_object_size (json_object_get (body, "sealed")), 1);
    assert_non_null (json_object_get (json_object_get (body, "sealed"), "se-01"));
    json_decref (relayed);
    //  The expert answers at B; both reach the team through A, in order
    s_node_ok (b, "achterhoek", self->achterhoek, "MESSAGE", s_convo_message (id, "se-01"));
    assert_int_equal (s_pump (b, a), 2);
    json_t *at_team = s_outbox (a, "twente", "MESSAGE");
    assert_int_equal (json_array_size (at_team), 2);
    for (size_t index = 0; index < 2; index++) {
        body = json_object_get (json_array_get (at_team, index), "body");
        assert_int_equal (en_json_int (body, "seq", 0), (int64_t) index + 1);
        assert_int_equal (json_object_size (json_object_get (body, "sealed")), 1);
        assert_non_null (json_object_get (json_object_get (body, "sealed"), "team"));
    }
    assert_string_equal (en_json_str (json_object_get (json_array_get (at_team, 1), "body"), "from"), "se-01");
    json_decref (at_team);

    //  The team's receipt goes to B, is kept there and told to everyone
    s_node_ok (a, "twente", self->twente, "RECEIPT", json_pack ("{s:s, s:i, s:s}", "request", id, "seq", 2,
               "reader", "team"));
    assert_int_equal (s_pump (a, b), 1);
    assert_int_equal (s_rows (b, "convo_receipts"), 1);
    assert_int_equal (s_queued_count (b, "achterhoek", "RECEIPT"), 1);
    assert_int_equal (s_pump (b, a), 1);
    assert_int_equal (s_queued_count (a, "twente", "RECEIPT"), 1);

    //  A passes only the team's from the origin; nothing in anyone's name
    s_node_refused (a, "twente", self->twente, "MESSAGE", s_convo_message (id, "se-01"), EN_ERR_FORBIDDEN);
    s_node_refused (a, "ijsselland", self->ijsselland, "MESSAGE", s_convo_message (id, "team"), EN_ERR_FORBIDDEN);
    assert_int_equal (s_rows (b, "convo_messages"), 2);
    assert_int_equal (s_rows (a, "convo_messages"), 0);
}

static void
test_local_first (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    s_publish (a, "twente", self->twente,
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_publish (b, "achterhoek", self->achterhoek,
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"trauma\"],\"capacity\":9}]");
    s_advertise (self, b, a);
    assert_int_equal (s_advertised (a, "gelderland", "superexpert", ",trauma,"), 9);

    s_submit_only (a, "twente", self->twente, "twente-0001", "hoog", "[\"trauma\"]");
    s_assert_state (a, "twente-0001", "offered");
    s_assert_offered (a, "twente-0001", "se-tw-01", "offer");
    s_assert_peer (a, "twente-0001", NULL);
    s_assert_forwards (a, "twente-0001", "");
    assert_int_equal (s_depth (a, "peer:gelderland"), 0);
    assert_int_equal (s_depth (a, "peer:utrecht"), 0);
    json_decref (s_take_expect (a, "twente", "OFFER STATUS offered/offered"));

    //  Only when nobody here is left does it go to the peer
    s_decline_open (a, "twente", self->twente, "twente-0001");
    s_assert_state (a, "twente-0001", "forwarded");
    s_assert_forwards (a, "twente-0001", "gelderland/open");
    assert_int_equal (s_depth (a, "peer:gelderland"), 1);
    s_assert_events (a, "twente-0001", "submitted offered declined forwarded");

    //  A node's request without a known signing key is never forwarded:
    //  nobody could verify it on the way
    en_msg_t *msg = s_signed ("twente", self->twente, "SUBMIT",
        s_submit_body ("twente-0002", "twente", "hoog", "consultatie-advies", "[\"trauma\"]"));
    en_error_t error;
    //  (se-tw-01 declined the first one and would take this one: no room)
    s_node_ok (a, "twente", self->twente, "AVAILABILITY", json_pack ("{s:o}", "experts", test_json (
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":0}]")));
    assert_int_equal (s_node_deliver (a, NULL, msg, &error), 0);
    en_msg_destroy (&msg);
    s_assert_state (a, "twente-0002", "hiaat");
    s_assert_forwards (a, "twente-0002", "");
    assert_int_equal (s_depth (a, "peer:gelderland"), 1);
}

//  ---------------------------------------------------------------------
//  3. Returned: the next peer, else escalation, else hiaat

static void
test_returned_next_peer (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b, *c = self->c;
    s_publish (a, "twente", self->twente, EXPERTS_A);
    //  B's bovenregionale procesregisseur is B's own escalation, not for
    //  requests of other provinces
    s_publish (b, "achterhoek", self->achterhoek,
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"autisme\",\"eetstoornis\"],\"capacity\":3},"
        " {\"id\":\"pr-gl-01\",\"role\":\"procesregisseur\",\"region\":\"achterhoek\",\"expertise\":[],"
        "  \"capacity\":5,\"bovenregionaal\":true}]");
    s_publish (c, "utrecht", self->utrecht,
        "[{\"id\":\"se-ut-01\",\"role\":\"superexpert\",\"region\":\"utrecht\",\"expertise\":[\"eetstoornis\"],\"capacity\":2}]");
    s_advertise (self, b, a);
    s_advertise (self, c, a);

    //  B advertises more free places: first choice
    const char *id = "twente-0001";
    s_submit_only (a, "twente", self->twente, id, "hoog", "[\"eetstoornis\"]");
    s_assert_peer (a, id, "gelderland");
    assert_int_equal (s_depth (a, "peer:utrecht"), 0);
    assert_int_equal (s_pump (a, b), 1);
    s_assert_offered (b, id, "se-ah-01", "offer");

    //  B's only expert declines: B has nobody and gives it back, even
    //  though overijssel (where it came from) advertises places to B: a
    //  request never goes back along its path
    s_advert_apply (self, b, "overijssel", test_json (
        "[{\"role\":\"superexpert\",\"tagset\":\",eetstoornis,\",\"hops\":1,\"free\":9}]"));
    s_decline_open (b, "achterhoek", self->achterhoek, id);
    s_assert_state (b, id, "returned");
    s_assert_events (b, id, "submitted offered declined returned");
    assert_int_equal (s_rows (b, "hiaten"), 0);
    assert_int_equal (s_offers_to (b, id, "pr-gl-01"), 0);
    assert_int_equal (s_expert_int (b, "pr-gl-01", "reserved"), 0);
    json_t *queued = s_outbox (b, "peer:overijssel", NULL);
    char buf [512];
    assert_string_equal (s_format (queued, buf, sizeof buf),
                         "STATUS offered/offered STATUS declined/offered STATUS returned/returned");
    json_decref (queued);
    //  ... and still advertises the freed place
    s_advertise (self, b, a);
    assert_int_equal (s_advertised (a, "gelderland", "superexpert", ",autisme,eetstoornis,"), 3);

    //  A: B is tried, C is next even though B advertises more
    assert_int_equal (s_pump (b, a), 3);
    s_assert_state (a, id, "forwarded");
    s_assert_peer (a, id, "utrecht");
    s_assert_forwards (a, id, "gelderland/returned utrecht/open");
    assert_int_equal (s_depth (a, "peer:gelderland"), 0);
    queued = s_outbox (a, "peer:utrecht", NULL);
    assert_int_equal (json_array_size (queued), 1);
    json_t *visited = test_json ("[\"overijssel\"]");
    assert_true (json_equal (json_object_get (json_object_get (json_array_get (queued, 0), "body"), "visited"),
                             visited));
    json_decref (visited);
    json_decref (queued);
    s_assert_events (a, id, "submitted forwarded offered declined returned forwarded");
    json_t *events = en_bstore_events (a->store, id);
    assert_string_equal (en_json_str (json_array_get (events, 4), "detail"), "gelderland: no expert available");
    json_decref (events);

    //  C has nobody either: A's own bovenregionale procesregisseur
    assert_int_equal (s_pump (a, c), 1);
    s_decline_open (c, "utrecht", self->utrecht, id);
    s_assert_state (c, id, "returned");
    s_advertise (self, c, a);
    assert_int_equal (s_pump (c, a), 3);
    s_assert_state (a, id, "escalated");
    s_assert_peer (a, id, NULL);
    s_assert_offered (a, id, "pr-ov-01", "escalation");
    s_assert_forwards (a, id, "gelderland/returned utrecht/returned");
    assert_int_equal (s_depth (a, "peer:gelderland"), 0);
    assert_int_equal (s_depth (a, "peer:utrecht"), 0);
    s_assert_events (a, id,
        "submitted forwarded offered declined returned forwarded offered declined returned escalated");
    //  What the origin saw, in order
    json_decref (s_take_expect (a, "twente",
        "STATUS forwarded/forwarded STATUS offered/offered STATUS declined/offered STATUS returned/submitted"
        " STATUS forwarded/forwarded STATUS offered/offered STATUS declined/offered STATUS returned/submitted"
        " OFFER STATUS escalated/escalated"));

    //  Only B holds "autisme" and it declines; C does not advertise it and
    //  the procesregisseur is full: a hiaat
    const char *id2 = "twente-0002";
    s_submit_only (a, "twente", self->twente, id2, "hoog", "[\"autisme\"]");
    s_assert_peer (a, id2, "gelderland");
    assert_int_equal (s_pump (a, b), 1);
    s_decline_open (b, "achterhoek", self->achterhoek, id2);
    assert_int_equal (s_pump (b, a), 3);
    s_assert_state (a, id2, "hiaat");
    s_assert_peer (a, id2, NULL);
    s_assert_forwards (a, id2, "gelderland/returned");
    assert_int_equal (s_depth (a, "peer:utrecht"), 0);
    assert_int_equal (s_depth (a, "peer:gelderland"), 0);
    assert_int_equal (en_bstore_offer_count (a->store, id2), 0);
    assert_int_equal (en_db_int (en_bstore_db (a->store),
        "SELECT count(*) FROM hiaten WHERE request_id = ?", "s", id2), 1);
    s_assert_events (a, id2, "submitted forwarded offered declined returned hiaat");

    //  An operator's reoffer of the hiaat does not go back to B either
    //  (it gave it back): there is still nobody, and the operator is told
    //  so (409) instead of "done" with nothing changed
    en_error_t error;
    en_db_t *db = en_bstore_db (a->store);
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_operator (a->router, "marieke", "reoffer", id2, "nog eens proberen", &error), -1);
    assert_int_equal (error.code, EN_ERR_CONFLICT);
    assert_non_null (strstr (error.reason, "stays a hiaat"));
    assert_int_equal (en_db_commit (db), 0);
    s_assert_state (a, id2, "hiaat");
    s_assert_events (a, id2, "submitted forwarded offered declined returned hiaat");
    s_assert_forwards (a, id2, "gelderland/returned");
    assert_int_equal (s_depth (a, "peer:gelderland"), 0);
}

//  ---------------------------------------------------------------------
//  4. Crisis: forwarded after crisis_local_offers local offers

static void
test_crisis_local_offers (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    s_publish (a, "twente", self->twente,
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":3},"
        " {\"id\":\"se-tw-02\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":3}]");
    s_publish (b, "achterhoek", self->achterhoek,
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"trauma\"],\"capacity\":3}]");
    s_advertise (self, b, a);
    en_router_set_federation (a->router, true, 2, 1, s_link, a);

    //  A crisis: the first offer is local; once declined it goes to B
    //  although se-tw-02 is free
    s_submit_only (a, "twente", self->twente, "twente-0001", "crisis", "[\"trauma\"]");
    s_assert_offered (a, "twente-0001", "se-tw-01", "offer");
    s_decline_open (a, "twente", self->twente, "twente-0001");
    s_assert_state (a, "twente-0001", "forwarded");
    s_assert_peer (a, "twente-0001", "gelderland");
    assert_int_equal (s_offers_to (a, "twente-0001", "se-tw-02"), 0);
    assert_int_equal (s_depth (a, "peer:gelderland"), 1);

    //  B gives it back: no other peer, so the next local candidate after all
    assert_int_equal (s_pump (a, b), 1);
    s_decline_open (b, "achterhoek", self->achterhoek, "twente-0001");
    assert_int_equal (s_pump (b, a), 3);
    s_assert_offered (a, "twente-0001", "se-tw-02", "offer");
    s_assert_peer (a, "twente-0001", NULL);
    s_assert_events (a, "twente-0001",
        "submitted offered declined forwarded offered declined returned offered");

    //  Not a crisis: the next local candidate first
    s_submit_only (a, "twente", self->twente, "twente-0002", "hoog", "[\"trauma\"]");
    s_assert_offered (a, "twente-0002", "se-tw-01", "offer");
    s_decline_open (a, "twente", self->twente, "twente-0002");
    s_assert_offered (a, "twente-0002", "se-tw-02", "offer");
    s_assert_forwards (a, "twente-0002", "");

    //  crisis_local_offers 0: no limit, a crisis stays local while it can
    en_router_set_federation (a->router, true, 2, 0, s_link, a);
    s_advertise (self, b, a);
    s_submit_only (a, "twente", self->twente, "twente-0003", "crisis", "[\"trauma\"]");
    s_assert_offered (a, "twente-0003", "se-tw-01", "offer");
    s_decline_open (a, "twente", self->twente, "twente-0003");
    s_assert_offered (a, "twente-0003", "se-tw-02", "offer");
    s_assert_forwards (a, "twente-0003", "");
    assert_int_equal (s_depth (a, "peer:gelderland"), 0);
    //  ... and goes to a peer only when nobody here is left
    s_decline_open (a, "twente", self->twente, "twente-0003");
    s_assert_state (a, "twente-0003", "forwarded");
    s_assert_forwards (a, "twente-0003", "gelderland/open");
}

//  ---------------------------------------------------------------------
//  5. Link state

static void
test_link_state_preference (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a;
    s_publish (a, "twente", self->twente,
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    //  friesland advertises most but is no (longer a) configured peer;
    //  gelderland more than utrecht, but its link is down
    s_advert_apply (self, a, "friesland", test_json (
        "[{\"role\":\"superexpert\",\"tagset\":\",lvb,\",\"hops\":1,\"free\":10}]"));
    s_advert_apply (self, a, "gelderland", test_json (
        "[{\"role\":\"superexpert\",\"tagset\":\",lvb,\",\"hops\":1,\"free\":5}]"));
    s_advert_apply (self, a, "utrecht", test_json (
        "[{\"role\":\"superexpert\",\"tagset\":\",lvb,\",\"hops\":1,\"free\":1}]"));
    s_set_link (a, "gelderland", 0);
    assert_int_equal (s_link ("friesland", a), -1);

    s_submit_only (a, "twente", self->twente, "twente-0001", "hoog", "[\"lvb\"]");
    s_assert_peer (a, "twente-0001", "utrecht");
    assert_int_equal (s_depth (a, "peer:utrecht"), 1);
    assert_int_equal (s_depth (a, "peer:gelderland"), 0);
    assert_int_equal (s_depth (a, "peer:friesland"), 0);

    //  utrecht no longer a peer: the down link is still chosen, and the
    //  FORWARD waits in the outbox
    s_set_link (a, "utrecht", -1);
    s_submit_only (a, "twente", self->twente, "twente-0002", "hoog", "[\"lvb\"]");
    s_assert_state (a, "twente-0002", "forwarded");
    s_assert_peer (a, "twente-0002", "gelderland");
    s_assert_forwards (a, "twente-0002", "gelderland/open");
    json_t *queued = s_outbox (a, "peer:gelderland", "FORWARD");
    assert_int_equal (json_array_size (queued), 1);
    json_decref (queued);

    //  A link that comes up wins again over one that is down
    s_set_link (a, "utrecht", 1);
    s_submit_only (a, "twente", self->twente, "twente-0003", "hoog", "[\"lvb\"]");
    s_assert_peer (a, "twente-0003", "utrecht");

    //  Nobody but friesland, which is not a peer: never chosen
    s_set_link (a, "gelderland", -1);
    s_set_link (a, "utrecht", -1);
    s_submit_only (a, "twente", self->twente, "twente-0004", "hoog", "[\"lvb\"]");
    s_assert_state (a, "twente-0004", "hiaat");
    s_assert_forwards (a, "twente-0004", "");
    assert_int_equal (s_depth (a, "peer:friesland"), 0);
    assert_int_equal (en_db_int (en_bstore_db (a->store),
        "SELECT count(*) FROM forwards WHERE peer = 'friesland'", NULL), 0);

    //  A crisis request is never queued behind a link that is down: with
    //  only gelderland (down) it stays here; with utrecht up it goes there
    s_set_link (a, "gelderland", 0);
    s_advert_apply (self, a, "gelderland", test_json (
        "[{\"role\":\"superexpert\",\"tagset\":\",lvb,\",\"hops\":1,\"free\":5}]"));
    s_submit_only (a, "twente", self->twente, "twente-0007", "crisis", "[\"lvb\"]");
    s_assert_state (a, "twente-0007", "hiaat");
    s_assert_forwards (a, "twente-0007", "");
    assert_int_equal (s_depth (a, "peer:gelderland"), 1);     //  twente-0002's only
    s_set_link (a, "utrecht", 1);
    s_submit_only (a, "twente", self->twente, "twente-0008", "crisis", "[\"lvb\"]");
    s_assert_peer (a, "twente-0008", "utrecht");
    s_assert_forwards (a, "twente-0008", "utrecht/open");
    //  ... while a hoog one still waits for gelderland if it must
    s_set_link (a, "utrecht", -1);
    s_submit_only (a, "twente", self->twente, "twente-0009", "hoog", "[\"lvb\"]");
    s_assert_peer (a, "twente-0009", "gelderland");

    //  Fewer hops before more free places (both up)
    s_set_link (a, "gelderland", 1);
    s_set_link (a, "utrecht", 1);
    s_advert_apply (self, a, "gelderland", test_json (
        "[{\"role\":\"superexpert\",\"tagset\":\",adhd,\",\"hops\":2,\"free\":8}]"));
    s_advert_apply (self, a, "utrecht", test_json (
        "[{\"role\":\"superexpert\",\"tagset\":\",adhd,\",\"hops\":1,\"free\":1}]"));
    s_submit_only (a, "twente", self->twente, "twente-0005", "hoog", "[\"adhd\"]");
    s_assert_peer (a, "twente-0005", "utrecht");

    //  Forwarding switched off: nothing goes out
    en_router_set_federation (a->router, false, 2, 2, s_link, a);
    s_submit_only (a, "twente", self->twente, "twente-0006", "hoog", "[\"adhd\"]");
    s_assert_state (a, "twente-0006", "hiaat");
    s_assert_forwards (a, "twente-0006", "");
}

//  ---------------------------------------------------------------------
//  6. What B refuses

//  B stored nothing at all.
static void
s_assert_untouched (broker_t *broker)
{
    assert_int_equal (s_rows (broker, "requests"), 0);
    assert_int_equal (s_rows (broker, "events"), 0);
    assert_int_equal (s_rows (broker, "offers"), 0);
    assert_int_equal (s_rows (broker, "outbox"), 0);
}

static void
test_refusals (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    s_publish (b, "achterhoek", self->achterhoek,
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"eetstoornis\"],\"capacity\":2}]");
    json_decref (s_take (b, "achterhoek"));
    const unsigned char *twente_key = en_signer_public (self->twente);
    en_msg_t *submit = s_signed ("twente", self->twente, "SUBMIT",
        s_submit_body ("twente-0001", "twente", "hoog", "consultatie-advies", "[\"eetstoornis\"]"));

    //  The carried text changed after signing
    json_t *body = s_forward_body (submit, twente_key, "[\"overijssel\"]");
    json_t *carried = json_object_get (body, "message");
    char *text = strdup (en_json_str (carried, "body"));
    char *urgency = strstr (text, "\"hoog\"");
    assert_non_null (urgency);
    memcpy (urgency, "\"laag\"", 6);
    json_object_set_new (carried, "body", json_string (text));
    free (text);
    s_peer_refused (b, "overijssel", "FORWARD", body, EN_ERR_FORBIDDEN);
    s_assert_untouched (b);
    //  A signature that is not the carried message's
    body = s_forward_body (submit, twente_key, "[\"overijssel\"]");
    carried = json_object_get (body, "message");
    en_msg_t *other = s_signed ("twente", self->twente, "SUBMIT",
        s_submit_body ("twente-0009", "twente", "hoog", "consultatie-advies", "[\"eetstoornis\"]"));
    json_t *other_export = en_msg_export (other);
    json_object_set (carried, "signature", json_object_get (other_export, "signature"));
    json_decref (other_export);
    en_msg_destroy (&other);
    s_peer_refused (b, "overijssel", "FORWARD", body, EN_ERR_FORBIDDEN);
    //  The key is not the signer's
    s_peer_refused (b, "overijssel", "FORWARD",
                    s_forward_body (submit, en_signer_public (self->rogue), "[\"overijssel\"]"), EN_ERR_FORBIDDEN);
    //  ... or not a key at all
    body = s_forward_body (submit, twente_key, "[\"overijssel\"]");
    json_object_set_new (body, "sign_key", json_string ("abcd"));
    s_peer_refused (b, "overijssel", "FORWARD", body, EN_ERR_INVALID);
    s_assert_untouched (b);

    //  A loop: the request passed B already
    s_peer_refused (b, "overijssel", "FORWARD",
                    s_forward_body (submit, twente_key, "[\"gelderland\", \"overijssel\"]"), EN_ERR_CONFLICT);
    //  Beyond the hop limit (2)
    s_peer_refused (b, "overijssel", "FORWARD",
                    s_forward_body (submit, twente_key, "[\"friesland\", \"utrecht\", \"overijssel\"]"),
                    EN_ERR_CONFLICT);
    //  The sending peer is not the last broker passed
    s_peer_refused (b, "overijssel", "FORWARD",
                    s_forward_body (submit, twente_key, "[\"utrecht\"]"), EN_ERR_FORBIDDEN);
    s_peer_refused (b, "overijssel", "FORWARD",
                    s_forward_body (submit, twente_key, "[\"overijssel\", \"utrecht\"]"), EN_ERR_FORBIDDEN);
    //  No brokers, or not names
    s_peer_refused (b, "overijssel", "FORWARD", s_forward_body (submit, twente_key, "[]"), EN_ERR_INVALID);
    s_peer_refused (b, "overijssel", "FORWARD", s_forward_body (submit, twente_key, "[\"Over IJssel\"]"),
                    EN_ERR_INVALID);
    //  Not a carried message
    s_peer_refused (b, "overijssel", "FORWARD", json_pack ("{s:s, s:s, s:[s]}", "message", "SUBMIT",
                    "sign_key", "00", "visited", "overijssel"), EN_ERR_INVALID);
    s_assert_untouched (b);

    //  A carried command other than SUBMIT, CLOSE or DOSSIER
    en_msg_t *accept = s_signed ("twente", self->twente, "ACCEPT", json_pack ("{s:s}", "offer", "twente-0001-o1"));
    s_peer_refused (b, "overijssel", "FORWARD", s_forward_body (accept, twente_key, "[\"overijssel\"]"),
                    EN_ERR_BAD_REQUEST);
    en_msg_destroy (&accept);
    //  A carried SUBMIT dated in the future (an old one is fine: a
    //  request may be forwarded days after it was submitted)
    en_msg_t *old = en_msg_restore ("SUBMIT", "0123456789abcdef0123456789abcdef", "twente",
                                    en_now_ms () + EN_MAX_SKEW_MS + 60000,
                                    s_submit_body ("twente-0001", "twente", "hoog", "consultatie-advies",
                                                   "[\"eetstoornis\"]"));
    en_msg_sign (old, self->twente);
    s_peer_refused (b, "overijssel", "FORWARD", s_forward_body (old, twente_key, "[\"overijssel\"]"),
                    EN_ERR_FORBIDDEN);
    en_msg_destroy (&old);
    //  A summary B does not accept
    en_msg_t *bad = s_signed ("twente", self->twente, "SUBMIT", json_pack ("{s:{s:s, s:s}}", "request",
                              "id", "twente-0001", "region", "twente"));
    s_peer_refused (b, "overijssel", "FORWARD", s_forward_body (bad, twente_key, "[\"overijssel\"]"),
                    EN_ERR_INVALID);
    en_msg_destroy (&bad);
    //  A signed SUBMIT whose question holds personal data (synthetic): B
    //  runs the PII guard itself, whatever the origin and A checked
    json_t *pii_body = s_submit_body ("twente-0001", "twente", "hoog", "consultatie-advies", "[\"eetstoornis\"]");
    json_object_set_new (json_object_get (pii_body, "request"), "question",
                         json_string ("Jongen, BSN 123456782, geboren 14-03-2012."));
    en_msg_t *pii = s_signed ("twente", self->twente, "SUBMIT", pii_body);
    s_peer_refused (b, "overijssel", "FORWARD", s_forward_body (pii, twente_key, "[\"overijssel\"]"),
                    EN_ERR_INVALID);
    en_msg_destroy (&pii);
    s_assert_untouched (b);
    //  Brokers do not send other commands to each other
    s_peer_refused (b, "overijssel", "SUBMIT", s_submit_body ("twente-0001", "twente", "hoog",
                    "consultatie-advies", "[\"eetstoornis\"]"), EN_ERR_BAD_REQUEST);
    s_assert_untouched (b);

    //  The same FORWARD, untouched, is taken: the refusals were for what
    //  was wrong with them
    s_peer_ok (b, "overijssel", "FORWARD", s_forward_body (submit, twente_key, "[\"overijssel\"]"));
    s_assert_offered (b, "twente-0001", "se-ah-01", "offer");
    //  ... once: the place it holds, carried again (a FORWARD of a new id,
    //  so not the inbox's dedup), is taken without a second place or
    //  offer (an error would only make the sender send it again)
    s_peer_ok (b, "overijssel", "FORWARD", s_forward_body (submit, twente_key, "[\"overijssel\"]"));
    json_t *held = en_bstore_places (b->store, "twente-0001");
    assert_int_equal (json_array_size (held), 1);
    json_decref (held);
    assert_int_equal (en_db_int (en_bstore_db (b->store), "SELECT count(*) FROM offers WHERE request_id = ?", "s",
                                 "twente-0001"), 1);
    //  ... and the same request id through another peer: 409
    s_peer_refused (b, "utrecht", "FORWARD", s_forward_body (submit, twente_key, "[\"utrecht\"]"),
                    EN_ERR_CONFLICT);

    //  A CLOSE for it, signed by another node of overijssel
    en_msg_t *close = s_signed ("ijsselland", self->ijsselland, "CLOSE", json_pack ("{s:s}", "request", "twente-0001"));
    s_peer_refused (b, "overijssel", "FORWARD",
                    s_forward_body (close, en_signer_public (self->ijsselland), "[\"overijssel\"]"),
                    EN_ERR_FORBIDDEN);
    en_msg_destroy (&close);
    //  The origin's CLOSE, but carried by a peer it did not come through
    close = s_signed ("twente", self->twente, "CLOSE", json_pack ("{s:s}", "request", "twente-0001"));
    s_peer_refused (b, "utrecht", "FORWARD", s_forward_body (close, twente_key, "[\"utrecht\"]"),
                    EN_ERR_FORBIDDEN);
    //  A DOSSIER before anyone accepted
    en_msg_t *dossier = s_signed ("twente", self->twente, "DOSSIER",
                                  json_pack ("{s:s, s:s}", "request", "twente-0001", "sealed", "c2VhbGVk"));
    s_peer_refused (b, "overijssel", "FORWARD", s_forward_body (dossier, twente_key, "[\"overijssel\"]"),
                    EN_ERR_CONFLICT);
    en_msg_destroy (&dossier);
    //  A CLOSE for a request B does not have
    en_msg_t *unknown = s_signed ("twente", self->twente, "CLOSE", json_pack ("{s:s}", "request", "twente-0404"));
    s_peer_refused (b, "overijssel", "FORWARD", s_forward_body (unknown, twente_key, "[\"overijssel\"]"),
                    EN_ERR_NOT_FOUND);
    en_msg_destroy (&unknown);
    s_assert_state (b, "twente-0001", "offered");
    assert_int_equal (s_offers_to (b, "twente-0001", "se-ah-01"), 1);
    //  The real one closes it
    s_peer_ok (b, "overijssel", "FORWARD", s_forward_body (close, twente_key, "[\"overijssel\"]"));
    s_assert_state (b, "twente-0001", "closed");
    en_msg_destroy (&close);
    en_msg_destroy (&submit);

    //  STATUS at A: only from the peer the request was handed to
    s_publish (a, "twente", self->twente,
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_publish (b, "achterhoek", self->achterhoek,
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"eetstoornis\"],\"capacity\":2}]");
    s_advertise (self, b, a);
    s_submit_only (a, "twente", self->twente, "twente-0002", "hoog", "[\"eetstoornis\"]");
    s_submit_only (a, "twente", self->twente, "twente-0003", "hoog", "[\"trauma\"]");
    s_assert_peer (a, "twente-0002", "gelderland");
    s_assert_peer (a, "twente-0003", NULL);
    json_decref (s_take (a, "twente"));
    char events [512];
    s_events (a, "twente-0002", events, sizeof events);
    s_peer_refused (a, "utrecht", "STATUS", json_pack ("{s:s, s:s, s:s, s:s}", "request", "twente-0002",
                    "state", "accepted", "event", "accepted", "expert", "se-ut-01"), EN_ERR_FORBIDDEN);
    //  ... never for a request that stayed here
    s_peer_refused (a, "gelderland", "STATUS", json_pack ("{s:s, s:s, s:s}", "request", "twente-0003",
                    "state", "closed", "event", "closed"), EN_ERR_FORBIDDEN);
    //  ... with a state a peer reports, about a request we know
    s_peer_refused (a, "gelderland", "STATUS", json_pack ("{s:s, s:s, s:s}", "request", "twente-0002",
                    "state", "hiaat", "event", "hiaat"), EN_ERR_INVALID);
    s_peer_refused (a, "gelderland", "STATUS", json_pack ("{s:s, s:s, s:s}", "request", "twente-0404",
                    "state", "offered", "event", "offered"), EN_ERR_NOT_FOUND);
    s_peer_refused (a, "gelderland", "STATUS", json_pack ("{s:s, s:s, s:s, s:s}", "request", "twente-0002",
                    "state", "offered", "event", "offered", "expert", "Niet Een Naam"), EN_ERR_INVALID);
    s_assert_state (a, "twente-0002", "forwarded");
    s_assert_state (a, "twente-0003", "offered");
    s_assert_events (a, "twente-0002", events);
    assert_int_equal (s_depth (a, "twente"), 0);
}

//  The broker that holds a request from a peer checks the origin's later
//  CLOSE with the key the request came with (migration 10: "its later
//  CLOSE and DOSSIER must verify with the same key"), not with whatever
//  key the carrying peer names this time.
static void
test_relayed_close_needs_origin_key (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *b = self->b;
    s_publish (b, "achterhoek", self->achterhoek,
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"eetstoornis\"],\"capacity\":2}]");
    en_msg_t *submit = s_signed ("twente", self->twente, "SUBMIT",
        s_submit_body ("twente-0001", "twente", "hoog", "consultatie-advies", "[\"eetstoornis\"]"));
    s_peer_ok (b, "overijssel", "FORWARD", s_forward_body (submit, en_signer_public (self->twente), "[\"overijssel\"]"));
    en_msg_destroy (&submit);
    s_assert_state (b, "twente-0001", "offered");

    //  A CLOSE in twente's name, signed with another key, which the
    //  FORWARD names
    en_msg_t *close = s_signed ("twente", self->rogue, "CLOSE", json_pack ("{s:s}", "request", "twente-0001"));
    s_peer_refused (b, "overijssel", "FORWARD",
                    s_forward_body (close, en_signer_public (self->rogue), "[\"overijssel\"]"), EN_ERR_FORBIDDEN);
    en_msg_destroy (&close);
    s_assert_state (b, "twente-0001", "offered");

    //  The origin's key in upper-case hex is the same key
    en_msg_t *real = s_signed ("twente", self->twente, "CLOSE", json_pack ("{s:s}", "request", "twente-0001"));
    json_t *body = s_forward_body (real, en_signer_public (self->twente), "[\"overijssel\"]");
    char upper [65];
    snprintf (upper, sizeof upper, "%s", en_json_str (body, "sign_key"));
    for (char *c = upper; *c; c++)
        *c = (char) toupper ((unsigned char) *c);
    json_object_set_new (body, "sign_key", json_string (upper));
    s_peer_ok (b, "overijssel", "FORWARD", body);
    en_msg_destroy (&real);
    s_assert_state (b, "twente-0001", "closed");

    //  A request forwarded days after it was submitted is taken (no age
    //  limit on the carried SUBMIT: the FORWARD itself is fresh)
    en_msg_t *old = en_msg_restore ("SUBMIT", "00112233445566778899aabbccddeeff", "twente",
                                    en_now_ms () - EN_MAX_AGE_MS - 86400000,
                                    s_submit_body ("twente-0002", "twente", "regulier", "consultatie-advies",
                                                   "[\"eetstoornis\"]"));
    en_msg_sign (old, self->twente);
    s_peer_ok (b, "overijssel", "FORWARD", s_forward_body (old, en_signer_public (self->twente), "[\"overijssel\"]"));
    en_msg_destroy (&old);
    s_assert_state (b, "twente-0002", "offered");
}

//  A node with new keys closes a request that is with a peer: refused at
//  its own broker with a clear reason (the peer would refuse it, and the
//  CLOSE would be lost on the way), nothing relayed.
static void
test_rekeyed_origin_told (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    s_publish (a, "twente", self->twente, EXPERTS_A);
    s_publish (b, "achterhoek", self->achterhoek,
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"eetstoornis\"],\"capacity\":2}]");
    s_advertise (self, b, a);
    s_submit_only (a, "twente", self->twente, "twente-0001", "hoog", "[\"eetstoornis\"]");
    s_assert_state (a, "twente-0001", "forwarded");
    int64_t queued = s_depth (a, "peer:gelderland");
    s_node_refused (a, "twente", self->rogue, "CLOSE", json_pack ("{s:s}", "request", "twente-0001"),
                    EN_ERR_FORBIDDEN);
    assert_int_equal (s_depth (a, "peer:gelderland"), queued);
    s_assert_state (a, "twente-0001", "forwarded");
    //  With the key it was submitted with, it goes
    s_node_ok (a, "twente", self->twente, "CLOSE", json_pack ("{s:s}", "request", "twente-0001"));
    assert_int_equal (s_depth (a, "peer:gelderland"), queued + 1);
}

//  ---------------------------------------------------------------------
//  7. The peer refuses the FORWARD (a final ERROR)

static void
test_forward_refused (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    s_publish (a, "twente", self->twente, EXPERTS_A);
    s_publish (b, "achterhoek", self->achterhoek,
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"eetstoornis\"],\"capacity\":4}]");
    s_advertise (self, b, a);
    s_submit_only (a, "twente", self->twente, "twente-0001", "hoog", "[\"eetstoornis\"]");
    s_assert_state (a, "twente-0001", "forwarded");
    json_t *queued = s_outbox (a, "peer:gelderland", "FORWARD");
    assert_int_equal (json_array_size (queued), 1);
    char msg_id [33];
    snprintf (msg_id, sizeof msg_id, "%s", en_json_str (json_array_get (queued, 0), "msg_id"));
    json_decref (queued);
    json_decref (s_take (a, "twente"));

    en_db_t *db = en_bstore_db (a->store);
    //  Not that peer's message, or no such message: nothing happens
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_forward_refused (a->router, "utrecht", msg_id, 409, "loop"), 0);
    assert_int_equal (en_router_forward_refused (a->router, "gelderland", "ffffffffffffffffffffffffffffffff",
                                                 409, "loop"), 0);
    assert_int_equal (en_db_commit (db), 0);
    s_assert_state (a, "twente-0001", "forwarded");
    s_assert_forwards (a, "twente-0001", "gelderland/open");

    //  The peer's final ERROR: back here and routed on (escalation)
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_forward_refused (a->router, "gelderland", msg_id, 409, "hop limit"), 0);
    assert_int_equal (en_db_commit (db), 0);
    s_assert_forwards (a, "twente-0001", "gelderland/refused");
    s_assert_peer (a, "twente-0001", NULL);
    s_assert_state (a, "twente-0001", "escalated");
    s_assert_offered (a, "twente-0001", "pr-ov-01", "escalation");
    s_assert_events (a, "twente-0001", "submitted forwarded returned escalated");
    json_t *events = en_bstore_events (a->store, "twente-0001");
    assert_string_equal (en_json_str (json_array_get (events, 2), "detail"), "gelderland refused it: 409 hop limit");
    json_decref (events);
    json_decref (s_take_expect (a, "twente", "STATUS returned/submitted OFFER STATUS escalated/escalated"));
    //  Once only: the forward is no longer open
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_forward_refused (a->router, "gelderland", msg_id, 409, "hop limit"), 0);
    assert_int_equal (en_db_commit (db), 0);
    s_assert_events (a, "twente-0001", "submitted forwarded returned escalated");
    assert_int_equal (en_bstore_offer_count (a->store, "twente-0001"), 1);

    //  The procesregisseur is full now: the next refused one is a hiaat,
    //  and gelderland (still advertising) is not tried again
    s_submit_only (a, "twente", self->twente, "twente-0002", "hoog", "[\"eetstoornis\"]");
    queued = s_outbox (a, "peer:gelderland", "FORWARD");
    assert_int_equal (json_array_size (queued), 2);
    snprintf (msg_id, sizeof msg_id, "%s", en_json_str (json_array_get (queued, 1), "msg_id"));
    json_decref (queued);
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_forward_refused (a->router, "gelderland", msg_id, 403, "not verified"), 0);
    assert_int_equal (en_db_commit (db), 0);
    s_assert_state (a, "twente-0002", "hiaat");
    s_assert_forwards (a, "twente-0002", "gelderland/refused");
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM hiaten WHERE request_id = 'twente-0002'", NULL), 1);
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM outbox WHERE dest = 'peer:gelderland'", NULL), 2);
}

//  ---------------------------------------------------------------------
//  8. Operators act on a forwarded request where it is

static void
s_operator_refused_at (const char *file, int line, broker_t *broker, const char *action,
                       const char *id, int code)
{
    en_db_t *db = en_bstore_db (broker->store);
    en_error_t error;
    memset (&error, 0, sizeof error);
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_db_savepoint (db), 0);
    int rc = en_router_operator (broker->router, "marieke", action, id, "handmatig", &error);
    if (rc == 0)
        s_fail_at (file, line, "operator %s of %s was done, expected %d", action, id, code);
    assert_int_equal (en_db_rollback_to (db), 0);
    assert_int_equal (en_db_commit (db), 0);
    if (error.code != code)
        s_fail_at (file, line, "operator %s of %s refused with %d (%s), expected %d", action, id, error.code, error.reason, code);
}
#define s_operator_refused(...) s_operator_refused_at (__FILE__, __LINE__, __VA_ARGS__)

static void
test_operator_forwarded (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    s_publish (a, "twente", self->twente, EXPERTS_A);
    s_publish (b, "achterhoek", self->achterhoek,
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"eetstoornis\"],\"capacity\":4}]");
    s_advertise (self, b, a);
    s_submit_only (a, "twente", self->twente, "twente-0001", "hoog", "[\"eetstoornis\"]");
    json_decref (s_take (a, "twente"));
    const char *actions [] = { "reoffer", "escalate", "close", NULL };
    for (int i = 0; actions [i]; i++)
        s_operator_refused (a, actions [i], "twente-0001", EN_ERR_CONFLICT);
    s_assert_state (a, "twente-0001", "forwarded");
    s_assert_events (a, "twente-0001", "submitted forwarded");
    assert_int_equal (en_bstore_offer_count (a->store, "twente-0001"), 0);
    assert_int_equal (s_depth (a, "twente"), 0);

    //  Also while B has it on offer (A mirrors "offered")
    assert_int_equal (s_pump (a, b), 1);
    assert_int_equal (s_pump (b, a), 1);
    s_assert_state (a, "twente-0001", "offered");
    json_decref (s_take (a, "twente"));
    for (int i = 0; actions [i]; i++)
        s_operator_refused (a, actions [i], "twente-0001", EN_ERR_CONFLICT);
    s_assert_state (a, "twente-0001", "offered");
    s_assert_events (a, "twente-0001", "submitted forwarded offered");
    assert_int_equal (s_expert_int (a, "pr-ov-01", "reserved"), 0);
    assert_int_equal (s_depth (a, "twente"), 0);
    assert_int_equal (s_depth (a, "peer:gelderland"), 0);

    //  At B, where it is, its operators may act: a reoffer finds nobody
    //  else and gives it back
    en_db_t *db = en_bstore_db (b->store);
    en_error_t error;
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_operator (b->router, "henk", "reoffer", "twente-0001", "verkeerd", &error), 0);
    assert_int_equal (en_db_commit (db), 0);
    s_assert_state (b, "twente-0001", "returned");
    assert_int_equal (s_pump (b, a), 3);
    //  Back at A (escalated to its procesregisseur), A's operators act again
    s_assert_state (a, "twente-0001", "escalated");
    s_assert_peer (a, "twente-0001", NULL);
    db = en_bstore_db (a->store);
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_operator (a->router, "marieke", "close", "twente-0001", "elders opgelost", &error), 0);
    assert_int_equal (en_db_commit (db), 0);
    s_assert_state (a, "twente-0001", "closed");
    assert_int_equal (s_expert_int (a, "pr-ov-01", "reserved"), 0);
}

//  ---------------------------------------------------------------------
//  9. Adverts through en_fed

static bool
s_not_enrolled (const char *name, const char *pinned_key, char curve_key [41],
                unsigned char sign_key [32], void *arg)
{
    return false;
}

//  An ADVERT from gelderland into fed as the broker's batch takes it: in
//  the batch's transaction, through the daemon's own en_fed_advert_in
//  (which keeps it in a savepoint of its own). With fault > 0, the
//  fault-th write inside it fails (en_db_fault_countdown; *fired says
//  whether it did). Takes body.
static int
s_advert_in_faulty (en_fed_t *fed, broker_t *broker, json_t *body, int fault, bool *fired,
                    bool *resync, en_error_t *error)
{
    en_msg_t *msg = en_msg_new ("ADVERT", "gelderland", body);
    en_db_t *db = en_bstore_db (broker->store);
    memset (error, 0, sizeof *error);
    *resync = true;             //  must be set either way
    assert_int_equal (en_db_begin (db), 0);
    en_db_fault_countdown (db, fault);
    int rc = en_fed_advert_in (fed, "gelderland", msg, resync, error);
    *fired = en_db_fault_fired (db);
    en_db_fault_countdown (db, 0);
    assert_int_equal (en_db_commit (db), 0);
    en_msg_destroy (&msg);
    return rc;
}

static int
s_advert_in (en_fed_t *fed, broker_t *broker, json_t *body, bool *resync, en_error_t *error)
{
    bool fired;
    return s_advert_in_faulty (fed, broker, body, 0, &fired, resync, error);
}

static json_t *
s_advert_body (const char *epoch, int64_t seq, bool snapshot, const char *entries)
{
    return json_pack ("{s:s, s:I, s:b, s:o}", "epoch", epoch, "seq", (json_int_t) seq,
                      "snapshot", snapshot, "entries", test_json (entries));
}

//  The adverts of gelderland at broker, "role tagset hops free;..."
static const char *
s_adverts (broker_t *broker, char *buf, size_t size)
{
    char *text = en_db_text (en_bstore_db (broker->store),
        "SELECT group_concat (line, ';') FROM (SELECT role || ' ' || tagset || ' ' || hops || ' ' || free AS line"
        " FROM peer_adverts WHERE peer = 'gelderland' ORDER BY role, tagset, hops)", NULL);
    snprintf (buf, size, "%s", text ? text : "");
    free (text);
    return buf;
}

static void
s_assert_adverts_at (const char *file, int line, broker_t *broker, const char *epoch, int64_t seq,
                     const char *expected)
{
    char buf [1024];
    s_adverts (broker, buf, sizeof buf);
    if (!streq (buf, expected))
        s_fail_at (file, line, "adverts of gelderland: '%s', expected '%s'", buf, expected);
    json_t *state = en_bstore_peer_state (broker->store, "gelderland");
    assert_non_null (state);
    assert_string_equal (en_json_str (state, "epoch"), epoch);
    assert_int_equal (en_json_int (state, "seq", -1), seq);
    json_decref (state);
}
#define s_assert_adverts(...) s_assert_adverts_at (__FILE__, __LINE__, __VA_ARGS__)

//  What operators see gelderland claimed (its first link's status)
static void
s_assert_claimed (en_fed_t *fed, int64_t entries, int64_t free_places)
{
    json_t *status = en_fed_status (fed);
    json_t *advert = json_object_get (json_array_get (status, 0), "advert");
    assert_int_equal (en_json_int (advert, "claimed_entries", -1), entries);
    assert_int_equal (en_json_int (advert, "claimed_free", -1), free_places);
    json_decref (status);
}

static bool
s_ping_resync (en_fed_t *fed, const char *epoch, int64_t seq)
{
    en_msg_t *ping = en_msg_new ("PING", "gelderland", json_pack ("{s:s, s:I}", "epoch", epoch, "seq", (json_int_t) seq));
    bool resync = true;
    en_fed_ping_in (fed, "gelderland", ping, &resync);
    en_msg_destroy (&ping);
    return resync;
}

static void
test_fed_adverts (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a;
    zpoller_t *poller = zpoller_new (NULL);
    en_fed_t *fed = en_fed_new ("overijssel", a->store, a->router, NULL, NULL, NULL, poller, s_not_enrolled, NULL);
    assert_non_null (fed);
    zconfig_t *config = zconfig_new ("root", NULL);
    zconfig_put (config, "federation/peers/gelderland/endpoint", "tcp://127.0.0.1:1");
    en_error_t fed_error;
    if (en_fed_configure (fed, config, 1000, 2000, &fed_error))
        fail_msg ("en_fed_configure: %s", fed_error.reason);
    zconfig_destroy (&config);
    assert_true (en_fed_is_peer (fed, "gelderland"));
    assert_false (en_fed_is_peer (fed, "utrecht"));
    //  Configured but never connected (not enrolled here): down
    assert_int_equal (en_fed_link_state ("gelderland", fed), 0);
    assert_int_equal (en_fed_link_state ("utrecht", fed), -1);
    //  Nothing known yet: any PING asks for a snapshot
    assert_true (s_ping_resync (fed, EPOCH_B, 1));

    bool resync;
    en_error_t error;
    //  Snapshot seq 1 applies
    assert_int_equal (s_advert_in (fed, a, s_advert_body (EPOCH_B, 1, true,
        "[{\"role\":\"superexpert\",\"tagset\":\",trauma,\",\"hops\":1,\"free\":2},"
        " {\"role\":\"superexpert\",\"tagset\":\",eetstoornis,\",\"hops\":1,\"free\":1},"
        " {\"role\":\"superexpert\",\"tagset\":\",eetstoornis,\",\"hops\":2,\"free\":4}]"), &resync, &error), 0);
    assert_false (resync);
    s_assert_adverts (a, EPOCH_B, 1,
        "superexpert ,eetstoornis, 1 1;superexpert ,eetstoornis, 2 4;superexpert ,trauma, 1 2");
    json_t *peer_state = en_bstore_peer_state (a->store, "gelderland");
    assert_int_equal (en_json_int (peer_state, "entries", -1), 3);
    assert_int_equal (en_json_int (peer_state, "free", -1), 3);         //  hops 1 only
    json_decref (peer_state);
    assert_false (s_ping_resync (fed, EPOCH_B, 1));

    //  Delta seq 2: free 0 removes a row, others change or add
    assert_int_equal (s_advert_in (fed, a, s_advert_body (EPOCH_B, 2, false,
        "[{\"role\":\"superexpert\",\"tagset\":\",eetstoornis,\",\"hops\":1,\"free\":0},"
        " {\"role\":\"superexpert\",\"tagset\":\",trauma,\",\"hops\":1,\"free\":3},"
        " {\"role\":\"procesregisseur\",\"tagset\":\",,\",\"hops\":1,\"free\":1}]"), &resync, &error), 0);
    assert_false (resync);
    const char *after2 = "procesregisseur ,, 1 1;superexpert ,eetstoornis, 2 4;superexpert ,trauma, 1 3";
    s_assert_adverts (a, EPOCH_B, 2, after2);

    //  A gap (seq 4 after 2): resync, nothing changes
    assert_int_equal (s_advert_in (fed, a, s_advert_body (EPOCH_B, 4, false,
        "[{\"role\":\"superexpert\",\"tagset\":\",trauma,\",\"hops\":1,\"free\":0}]"), &resync, &error), 0);
    assert_true (resync);
    s_assert_adverts (a, EPOCH_B, 2, after2);
    //  An old one (seq 2 again, or 1): ignored, no resync
    assert_int_equal (s_advert_in (fed, a, s_advert_body (EPOCH_B, 2, false,
        "[{\"role\":\"superexpert\",\"tagset\":\",trauma,\",\"hops\":1,\"free\":9}]"), &resync, &error), 0);
    assert_false (resync);
    assert_int_equal (s_advert_in (fed, a, s_advert_body (EPOCH_B, 1, false,
        "[{\"role\":\"superexpert\",\"tagset\":\",adhd,\",\"hops\":1,\"free\":9}]"), &resync, &error), 0);
    assert_false (resync);
    s_assert_adverts (a, EPOCH_B, 2, after2);
    //  A PING naming a seq we have not seen asks for a snapshot; one we
    //  have does not; another epoch does
    assert_false (s_ping_resync (fed, EPOCH_B, 2));
    assert_true (s_ping_resync (fed, EPOCH_B, 3));
    assert_true (s_ping_resync (fed, EPOCH_B2, 1));
    assert_true (s_ping_resync (fed, EPOCH_B2, 2));

    //  The peer restarted (new epoch): a delta is not enough, even seq 1 or 3
    assert_int_equal (s_advert_in (fed, a, s_advert_body (EPOCH_B2, 3, false,
        "[{\"role\":\"superexpert\",\"tagset\":\",adhd,\",\"hops\":1,\"free\":1}]"), &resync, &error), 0);
    assert_true (resync);
    assert_int_equal (s_advert_in (fed, a, s_advert_body (EPOCH_B2, 1, false,
        "[{\"role\":\"superexpert\",\"tagset\":\",adhd,\",\"hops\":1,\"free\":1}]"), &resync, &error), 0);
    assert_true (resync);
    s_assert_adverts (a, EPOCH_B, 2, after2);

    //  A snapshot always applies and replaces everything
    assert_int_equal (s_advert_in (fed, a, s_advert_body (EPOCH_B2, 1, true,
        "[{\"role\":\"ervaringsdeskundige\",\"tagset\":\",lvb,trauma,\",\"hops\":1,\"free\":2}]"), &resync, &error), 0);
    assert_false (resync);
    const char *after_snapshot = "ervaringsdeskundige ,lvb,trauma, 1 2";
    s_assert_adverts (a, EPOCH_B2, 1, after_snapshot);
    //  ... also one with an older seq in the same epoch, and an empty one
    assert_int_equal (s_advert_in (fed, a, s_advert_body (EPOCH_B2, 5, false,
        "[{\"role\":\"superexpert\",\"tagset\":\",adhd,\",\"hops\":1,\"free\":1}]"), &resync, &error), 0);
    assert_true (resync);
    s_assert_adverts (a, EPOCH_B2, 1, after_snapshot);
    assert_int_equal (s_advert_in (fed, a, s_advert_body (EPOCH_B2, 2, false,
        "[{\"role\":\"superexpert\",\"tagset\":\",adhd,\",\"hops\":1,\"free\":1}]"), &resync, &error), 0);
    assert_false (resync);
    s_assert_adverts (a, EPOCH_B2, 2, "ervaringsdeskundige ,lvb,trauma, 1 2;superexpert ,adhd, 1 1");

    //  Invalid adverts are refused (422) and change nothing, even when
    //  the bad entry follows good ones
    const char *after_valid = "ervaringsdeskundige ,lvb,trauma, 1 2;superexpert ,adhd, 1 1";
    const char *invalid [] = {
        "[{\"role\":\"psychiater\",\"tagset\":\",trauma,\",\"hops\":1,\"free\":1}]",
        "[{\"role\":\"superexpert\",\"tagset\":\"trauma\",\"hops\":1,\"free\":1}]",
        "[{\"role\":\"superexpert\",\"tagset\":\",trauma\",\"hops\":1,\"free\":1}]",
        "[{\"role\":\"superexpert\",\"tagset\":\",Trauma X,\",\"hops\":1,\"free\":1}]",
        "[{\"role\":\"superexpert\",\"tagset\":\"\",\"hops\":1,\"free\":1}]",
        "[{\"role\":\"superexpert\",\"tagset\":\",trauma,\",\"hops\":0,\"free\":1}]",
        "[{\"role\":\"superexpert\",\"tagset\":\",trauma,\",\"hops\":17,\"free\":1}]",
        "[{\"role\":\"superexpert\",\"tagset\":\",trauma,\",\"hops\":1,\"free\":-1}]",
        "[{\"role\":\"superexpert\",\"tagset\":\",trauma,\",\"hops\":1,\"free\":1,\"expert\":\"se-01\"}]",
        "[{\"role\":\"superexpert\",\"tagset\":\",trauma,\",\"hops\":1}]",
        "[{\"role\":\"superexpert\",\"tagset\":\",trauma,\",\"hops\":1,\"free\":1},"
        " {\"role\":\"superexpert\",\"tagset\":\",adhd,\",\"hops\":\"1\",\"free\":1}]",
        "[\"superexpert\"]",
        NULL };
    for (int i = 0; invalid [i]; i++)
        for (int snapshot = 0; snapshot < 2; snapshot++) {
            int64_t seq = snapshot ? 1 : 3;
            if (s_advert_in (fed, a, s_advert_body (EPOCH_B2, seq, snapshot, invalid [i]), &resync, &error) == 0)
                fail_msg ("ADVERT %s (snapshot %d) was taken", invalid [i], snapshot);
            if (error.code != EN_ERR_INVALID)
                fail_msg ("ADVERT %s refused with %d, expected 422", invalid [i], error.code);
            assert_false (resync);
            s_assert_adverts (a, EPOCH_B2, 2, after_valid);
        }
    //  The envelope: epoch, seq, snapshot and entries
    json_t *bad_bodies [] = {
        json_pack ("{s:s, s:i, s:b, s:[]}", "epoch", "short", "seq", 3, "snapshot", 0, "entries"),
        json_pack ("{s:s, s:i, s:b, s:[]}", "epoch", EPOCH_B2, "seq", 0, "snapshot", 0, "entries"),
        json_pack ("{s:s, s:i, s:i, s:[]}", "epoch", EPOCH_B2, "seq", 3, "snapshot", 0, "entries"),
        json_pack ("{s:s, s:i, s:b}", "epoch", EPOCH_B2, "seq", 3, "snapshot", 0),
        NULL };
    for (int i = 0; bad_bodies [i]; i++) {
        assert_int_equal (s_advert_in (fed, a, bad_bodies [i], &resync, &error), -1);
        assert_int_equal (error.code, EN_ERR_INVALID);
    }
    s_assert_adverts (a, EPOCH_B2, 2, after_valid);

    //  The router forwards on these adverts through en_fed's link state:
    //  gelderland is down, but the only one: the FORWARD waits on disk
    s_publish (a, "twente", self->twente,
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_submit_only (a, "twente", self->twente, "twente-0001", "hoog", "[\"adhd\"]");
    s_assert_state (a, "twente-0001", "forwarded");
    s_assert_peer (a, "twente-0001", "gelderland");
    assert_int_equal (s_depth (a, "peer:gelderland"), 1);
    json_t *status = en_fed_status (fed);
    assert_int_equal (json_array_size (status), 1);
    assert_string_equal (en_json_str (json_array_get (status, 0), "peer"), "gelderland");
    assert_int_equal (en_json_int (json_array_get (status, 0), "queue", -1), 1);
    json_decref (status);

    //  Deconfigured: utrecht-only config; gelderland is no peer any more
    config = zconfig_new ("root", NULL);
    zconfig_put (config, "federation/peers/utrecht/endpoint", "tcp://127.0.0.1:1");
    assert_int_equal (en_fed_configure (fed, config, 1000, 2000, &fed_error), 0);
    zconfig_destroy (&config);
    assert_int_equal (en_fed_link_state ("gelderland", fed), -1);
    s_submit_only (a, "twente", self->twente, "twente-0002", "hoog", "[\"adhd\"]");
    s_assert_state (a, "twente-0002", "hiaat");
    s_assert_forwards (a, "twente-0002", "");
    //  Bad configurations change nothing
    config = zconfig_new ("root", NULL);
    zconfig_put (config, "federation/peers/overijssel/endpoint", "tcp://127.0.0.1:1");
    assert_int_equal (en_fed_configure (fed, config, 1000, 2000, &fed_error), -1);
    zconfig_destroy (&config);
    config = zconfig_new ("root", NULL);
    zconfig_put (config, "federation/peers/gelderland/endpoint", "ipc://x");
    assert_int_equal (en_fed_configure (fed, config, 1000, 2000, &fed_error), -1);
    zconfig_destroy (&config);
    assert_true (en_fed_is_peer (fed, "utrecht"));
    assert_false (en_fed_is_peer (fed, "gelderland"));

    en_fed_destroy (&fed);
    en_fed_destroy (&fed);
    zpoller_destroy (&poller);
    //  The router must not call into the destroyed en_fed
    en_router_set_federation (a->router, true, 2, 2, s_link, a);
}

//  ---------------------------------------------------------------------
//  10. What a broker advertises

static void
test_advert_own_and_learned (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    char absent [32];
    snprintf (absent, sizeof absent, "%lld", (long long) (en_now_ms () + 3600 * 1000));
    char experts [1024];
    snprintf (experts, sizeof experts,
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"trauma\",\"autisme\"],\"capacity\":2},"
        " {\"id\":\"se-ah-02\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"autisme\",\"trauma\"],\"capacity\":3},"
        " {\"id\":\"se-ah-03\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"lvb\"],\"capacity\":4,\"absent_until\":%s},"
        " {\"id\":\"se-ah-04\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"adhd\"],\"capacity\":0},"
        " {\"id\":\"pr-ah-01\",\"role\":\"procesregisseur\",\"region\":\"achterhoek\",\"expertise\":[],\"capacity\":2},"
        " {\"id\":\"pr-gl-01\",\"role\":\"procesregisseur\",\"region\":\"achterhoek\",\"expertise\":[],\"capacity\":5,\"bovenregionaal\":true}]",
        absent);
    s_publish (b, "achterhoek", self->achterhoek, experts);
    char buf [1024];
    json_t *own = en_bstore_advert_own (b->store, en_now_ms ());
    buf [0] = 0;
    size_t index;
    json_t *entry;
    json_array_foreach (own, index, entry) {
        char item [128];
        snprintf (item, sizeof item, "%s%s %s %lld %lld", index ? ";" : "", en_json_str (entry, "role"),
                  en_json_str (entry, "tagset"), (long long) en_json_int (entry, "hops", 0),
                  (long long) en_json_int (entry, "free", 0));
        strncat (buf, item, sizeof buf - strlen (buf) - 1);
    }
    json_decref (own);
    //  Tags sorted, equal sets summed; absent, full and bovenregionale
    //  experts left out
    assert_string_equal (buf, "procesregisseur ,, 1 2;superexpert ,autisme,trauma, 1 5");
    //  An open offer takes a place
    s_advertise (self, b, a);
    assert_int_equal (s_advertised (a, "gelderland", "superexpert", ",autisme,trauma,"), 5);
    en_msg_t *submit = s_signed ("twente", self->twente, "SUBMIT",
        s_submit_body ("twente-0001", "twente", "hoog", "consultatie-advies", "[\"autisme\"]"));
    s_peer_ok (b, "overijssel", "FORWARD", s_forward_body (submit, en_signer_public (self->twente), "[\"overijssel\"]"));
    en_msg_destroy (&submit);
    s_advertise (self, b, a);
    assert_int_equal (s_advertised (a, "gelderland", "superexpert", ",autisme,trauma,"), 4);

    //  What A passes on: what its peers advertised, one hop further, not
    //  back to the peer it came from, within the hop limit
    s_advert_apply (self, a, "utrecht", test_json (
        "[{\"role\":\"superexpert\",\"tagset\":\",autisme,trauma,\",\"hops\":1,\"free\":1},"
        " {\"role\":\"superexpert\",\"tagset\":\",lvb,\",\"hops\":2,\"free\":7}]"));
    json_t *learned = en_bstore_advert_learned (a->store, "gelderland", 2);
    assert_int_equal (json_array_size (learned), 1);
    entry = json_array_get (learned, 0);
    assert_string_equal (en_json_str (entry, "tagset"), ",autisme,trauma,");
    assert_int_equal (en_json_int (entry, "hops", 0), 2);
    assert_int_equal (en_json_int (entry, "free", 0), 1);
    json_decref (learned);
    //  To a third peer both, summed per role, tag set and hops
    learned = en_bstore_advert_learned (a->store, "friesland", 2);
    assert_int_equal (json_array_size (learned), 2);
    assert_string_equal (en_json_str (json_array_get (learned, 0), "role"), "procesregisseur");
    assert_int_equal (en_json_int (json_array_get (learned, 0), "hops", 0), 2);
    assert_int_equal (en_json_int (json_array_get (learned, 0), "free", 0), 2);
    assert_string_equal (en_json_str (json_array_get (learned, 1), "tagset"), ",autisme,trauma,");
    assert_int_equal (en_json_int (json_array_get (learned, 1), "hops", 0), 2);
    assert_int_equal (en_json_int (json_array_get (learned, 1), "free", 0), 5);
    json_decref (learned);
    //  With three hops utrecht's two-hop lvb goes out as three
    learned = en_bstore_advert_learned (a->store, "gelderland", 3);
    assert_int_equal (json_array_size (learned), 2);
    entry = json_array_get (learned, 1);
    assert_string_equal (en_json_str (entry, "tagset"), ",lvb,");
    assert_int_equal (en_json_int (entry, "hops", 0), 3);
    assert_int_equal (en_json_int (entry, "free", 0), 7);
    json_decref (learned);
    //  A hop limit of one passes nothing on
    learned = en_bstore_advert_learned (a->store, "friesland", 1);
    assert_int_equal (json_array_size (learned), 0);
    json_decref (learned);
}

//  ---------------------------------------------------------------------
//  Through three brokers: B hands it on to C, STATUS comes back via B

static void
test_two_hops (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b, *c = self->c;
    s_publish (c, "utrecht", self->utrecht,
        "[{\"id\":\"se-ut-01\",\"role\":\"superexpert\",\"region\":\"utrecht\",\"expertise\":[\"lvb\"],\"capacity\":2}]");
    //  B knows C's place; A learns it from B as two hops away
    s_advertise (self, c, b);
    json_t *learned = en_bstore_advert_learned (b->store, "overijssel", 2);
    assert_int_equal (json_array_size (learned), 1);
    s_advert_apply (self, a, "gelderland", learned);

    s_submit_only (a, "twente", self->twente, "twente-0001", "hoog", "[\"lvb\"]");
    s_assert_peer (a, "twente-0001", "gelderland");
    assert_int_equal (s_pump (a, b), 1);
    //  B has nobody: on to C, with both brokers passed
    s_assert_state (b, "twente-0001", "forwarded");
    s_assert_peer (b, "twente-0001", "utrecht");
    json_t *queued = s_outbox (b, "peer:utrecht", "FORWARD");
    assert_int_equal (json_array_size (queued), 1);
    json_t *visited = test_json ("[\"overijssel\", \"gelderland\"]");
    assert_true (json_equal (json_object_get (json_object_get (json_array_get (queued, 0), "body"), "visited"),
                             visited));
    json_decref (visited);
    json_decref (queued);
    assert_int_equal (s_pump (b, c), 1);
    json_t *request = s_request (c, "twente-0001");
    assert_string_equal (en_json_str (request, "origin"), "peer:gelderland");
    assert_string_equal (en_json_str (request, "origin_node"), "twente");
    json_decref (request);
    s_assert_offered (c, "twente-0001", "se-ut-01", "offer");
    char offer [128];
    s_offer_id (c, "twente-0001", offer, sizeof offer);
    s_node_ok (c, "utrecht", self->utrecht, "ACCEPT", json_pack ("{s:s}", "offer", offer));

    //  STATUS back through B to A, naming C
    assert_int_equal (s_pump (c, b), 2);
    s_assert_state (b, "twente-0001", "accepted");
    assert_int_equal (s_pump (b, a), 3);
    s_assert_state (a, "twente-0001", "accepted");
    s_assert_peer (a, "twente-0001", "gelderland");
    json_t *status = s_take_expect (a, "twente",
        "STATUS forwarded/forwarded STATUS forwarded/forwarded STATUS offered/offered STATUS accepted/accepted");
    json_t *body = json_object_get (json_array_get (status, 3), "body");
    assert_string_equal (en_json_str (body, "via"), "utrecht");
    assert_string_equal (en_json_str (body, "detail"), "via utrecht");
    assert_string_equal (en_json_str (body, "expert"), "se-ut-01");
    json_decref (status);

    //  The CLOSE goes A -> B -> C, the closed STATUS back
    s_node_ok (a, "twente", self->twente, "CLOSE", json_pack ("{s:s}", "request", "twente-0001"));
    assert_int_equal (s_pump (a, b), 1);
    s_assert_events (b, "twente-0001", "submitted forwarded offered accepted relayed");
    queued = s_outbox (b, "peer:utrecht", "FORWARD");
    assert_int_equal (json_array_size (queued), 1);
    json_t *relayed = json_object_get (json_array_get (queued, 0), "body");
    assert_string_equal (en_json_str (json_object_get (relayed, "message"), "command"), "CLOSE");
    assert_string_equal (en_json_str (json_object_get (relayed, "message"), "sender"), "twente");
    visited = test_json ("[\"overijssel\", \"gelderland\"]");
    assert_true (json_equal (json_object_get (relayed, "visited"), visited));
    json_decref (visited);
    json_decref (queued);
    assert_int_equal (s_pump (b, c), 1);
    s_assert_state (c, "twente-0001", "closed");
    assert_int_equal (s_pump (c, b), 1);
    assert_int_equal (s_pump (b, a), 1);
    s_assert_state (b, "twente-0001", "closed");
    s_assert_state (a, "twente-0001", "closed");
    json_decref (s_take_expect (a, "twente", "STATUS closed/closed"));
}

//  ---------------------------------------------------------------------
//  The hop limit counts the brokers a request passed

static void
test_hop_budget (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    //  A (max_hops 2): a place three hops away is out of reach
    s_advert_apply (self, a, "utrecht", test_json (
        "[{\"role\":\"superexpert\",\"tagset\":\",autisme,\",\"hops\":3,\"free\":9}]"));
    s_submit_only (a, "twente", self->twente, "twente-0001", "hoog", "[\"autisme\"]");
    s_assert_state (a, "twente-0001", "hiaat");
    s_assert_forwards (a, "twente-0001", "");
    assert_int_equal (s_depth (a, "peer:utrecht"), 0);

    //  Two hops away is within reach for A ...
    s_advert_apply (self, a, "gelderland", test_json (
        "[{\"role\":\"superexpert\",\"tagset\":\",lvb,\",\"hops\":2,\"free\":9}]"));
    s_submit_only (a, "twente", self->twente, "twente-0002", "hoog", "[\"lvb\"]");
    s_assert_peer (a, "twente-0002", "gelderland");
    //  ... but at B, one hop further, only B's direct peers are: the two
    //  hops friesland is away from B would make three from A
    s_set_link (b, "friesland", 1);
    s_advert_apply (self, b, "friesland", test_json (
        "[{\"role\":\"superexpert\",\"tagset\":\",lvb,\",\"hops\":2,\"free\":9}]"));
    assert_int_equal (s_pump (a, b), 1);
    s_assert_state (b, "twente-0002", "returned");
    s_assert_forwards (b, "twente-0002", "");
    assert_int_equal (s_depth (b, "peer:friesland"), 0);
    //  A direct peer of B is
    s_advert_apply (self, b, "friesland", test_json (
        "[{\"role\":\"superexpert\",\"tagset\":\",lvb,\",\"hops\":1,\"free\":1}]"));
    s_submit_only (a, "twente", self->twente, "twente-0003", "hoog", "[\"lvb\"]");
    assert_int_equal (s_pump (a, b), 1);
    s_assert_state (b, "twente-0003", "forwarded");
    s_assert_forwards (b, "twente-0003", "friesland/open");
    json_t *queued = s_outbox (b, "peer:friesland", "FORWARD");
    assert_int_equal (json_array_size (queued), 1);
    json_t *visited = test_json ("[\"overijssel\", \"gelderland\"]");
    assert_true (json_equal (json_object_get (json_object_get (json_array_get (queued, 0), "body"), "visited"),
                             visited));
    json_decref (visited);
    json_decref (queued);
    //  With max_hops 1 A keeps even its peers' two-hop places to itself
    en_router_set_federation (a->router, true, 1, 2, s_link, a);
    s_submit_only (a, "twente", self->twente, "twente-0004", "hoog", "[\"lvb\"]");
    s_assert_state (a, "twente-0004", "hiaat");
    s_assert_forwards (a, "twente-0004", "");
}

//  ---------------------------------------------------------------------
//  A closed request stays closed, whatever its peer reports afterwards

static void
test_closed_stays_closed (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    s_publish (a, "twente", self->twente, EXPERTS_A);
    s_publish (b, "achterhoek", self->achterhoek,
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"eetstoornis\"],\"capacity\":4}]");
    s_advertise (self, b, a);
    s_submit_only (a, "twente", self->twente, "twente-0001", "hoog", "[\"eetstoornis\"]");
    assert_int_equal (s_pump (a, b), 1);
    s_node_ok (a, "twente", self->twente, "CLOSE", json_pack ("{s:s}", "request", "twente-0001"));
    assert_int_equal (s_pump (a, b), 1);
    assert_int_equal (s_pump (b, a), 2);
    s_assert_state (a, "twente-0001", "closed");
    json_decref (s_take (a, "twente"));
    char events [512];
    s_events (a, "twente-0001", events, sizeof events);

    //  A late or bogus "returned" from the peer must not bring it back
    en_msg_t *msg = en_msg_new ("STATUS", "gelderland", json_pack ("{s:s, s:s, s:s, s:s}", "request", "twente-0001",
                                "state", "returned", "event", "returned", "detail", "no expert available"));
    en_error_t error;
    s_peer_deliver (a, "gelderland", msg, &error);
    en_msg_destroy (&msg);
    s_assert_state (a, "twente-0001", "closed");
    s_assert_events (a, "twente-0001", events);
    assert_int_equal (s_expert_int (a, "pr-ov-01", "reserved"), 0);
    assert_int_equal (s_depth (a, "twente"), 0);
}

//  ---------------------------------------------------------------------
//  Recall: an operator takes back a request that is with a peer

//  The operator action at broker, expected to succeed.
static void
s_operator_ok (broker_t *broker, const char *action, const char *id)
{
    en_db_t *db = en_bstore_db (broker->store);
    en_error_t error;
    memset (&error, 0, sizeof error);
    assert_int_equal (en_db_begin (db), 0);
    if (en_router_operator (broker->router, "marieke", action, id, "koppeling ligt al uren stil", &error))
        fail_msg ("operator %s of %s refused: %d %s", action, id, error.code, error.reason);
    assert_int_equal (en_db_commit (db), 0);
}

static void
test_recall (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    s_publish (a, "twente", self->twente, EXPERTS_A);
    s_publish (b, "achterhoek", self->achterhoek,
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"eetstoornis\"],\"capacity\":4}]");
    json_decref (s_take (b, "achterhoek"));
    s_advertise (self, b, a);
    s_operator_refused (a, "recall", "twente-0009", EN_ERR_NOT_FOUND);

    //  Forwarded and offered at B; A recalls it: routed again here (the
    //  bovenregionale procesregisseur), B skipped, RECALL queued for B
    s_submit_only (a, "twente", self->twente, "twente-0001", "hoog", "[\"eetstoornis\"]");
    assert_int_equal (s_pump (a, b), 1);
    assert_int_equal (s_pump (b, a), 1);
    s_assert_state (a, "twente-0001", "offered");
    json_decref (s_take (a, "twente"));
    s_operator_ok (a, "recall", "twente-0001");
    s_assert_forwards (a, "twente-0001", "gelderland/recalled");
    s_assert_peer (a, "twente-0001", NULL);
    s_assert_state (a, "twente-0001", "escalated");
    s_assert_offered (a, "twente-0001", "pr-ov-01", "escalation");
    s_assert_events (a, "twente-0001", "submitted forwarded offered operator-recall escalated");
    json_t *recall = s_outbox (a, "peer:gelderland", "RECALL");
    assert_int_equal (json_array_size (recall), 1);
    json_decref (recall);
    //  The origin node hears of it
    json_t *told = s_outbox (a, "twente", "STATUS");
    assert_true (json_array_size (told) >= 1);
    json_decref (told);
    //  B withdraws its offer, ends the request "recalled", tells A nothing
    assert_int_equal (s_pump (a, b), 1);
    s_assert_state (b, "twente-0001", "recalled");
    assert_int_equal (s_expert_int (b, "se-ah-01", "reserved"), 0);
    json_t *withdrawn = s_outbox (b, "achterhoek", "WITHDRAW");
    assert_int_equal (json_array_size (withdrawn), 1);
    json_decref (withdrawn);
    assert_int_equal (s_depth (b, "peer:overijssel"), 0);
    //  A recalled request is not with a peer any more
    s_operator_refused (a, "recall", "twente-0001", EN_ERR_CONFLICT);

    //  Too late: B's expert accepted before the RECALL arrived
    s_submit_only (a, "twente", self->twente, "twente-0002", "hoog", "[\"eetstoornis\"]");
    assert_int_equal (s_pump (a, b), 1);
    char offer [128];
    s_offer_id (b, "twente-0002", offer, sizeof offer);
    s_node_ok (b, "achterhoek", self->achterhoek, "ACCEPT", json_pack ("{s:s}", "offer", offer));
    s_assert_state (b, "twente-0002", "accepted");
    //  A has not heard yet (STATUS still queued at B): it may recall;
    //  nobody is left here, so the request is a hiaat at A
    s_operator_ok (a, "recall", "twente-0002");
    json_t *rows = s_outbox (a, "peer:gelderland", "RECALL");
    assert_int_equal (json_array_size (rows), 1);
    json_t *row = json_array_get (rows, 0);
    en_msg_t *msg = en_msg_restore ("RECALL", en_json_str (row, "msg_id"), "overijssel", en_now_ms (),
                                    json_incref (json_object_get (row, "body")));
    en_error_t error;
    assert_int_equal (s_peer_deliver (b, "overijssel", msg, &error), -1);
    assert_int_equal (error.code, EN_ERR_CONFLICT);
    //  A final ERROR: the link hands it to the router (nothing to do for a
    //  RECALL) and drops the message
    en_db_t *db = en_bstore_db (a->store);
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_forward_refused (a->router, "gelderland", en_msg_id (msg), error.code, error.reason), 0);
    assert_int_equal (en_outbox_ack (en_bstore_outbox (a->store), "peer:gelderland", en_msg_id (msg), NULL), 0);
    assert_int_equal (en_db_commit (db), 0);
    en_msg_destroy (&msg);
    json_decref (rows);
    s_assert_state (b, "twente-0002", "accepted");
    //  B's STATUS accepted reaches A: taken, and recorded for operators,
    //  not applied (the request is being routed here now)
    int64_t a_state_before = s_depth (a, "twente");
    assert_true (s_pump (b, a) >= 1);
    s_assert_state (a, "twente-0002", "hiaat");     //  pr-ov-01 has twente-0001
    char events [512];
    s_events (a, "twente-0002", events, sizeof events);
    assert_non_null (strstr (events, "late-status"));
    assert_int_equal (s_depth (a, "twente"), a_state_before);

    //  Not once A knows an expert there accepted
    s_submit_only (a, "twente", self->twente, "twente-0003", "hoog", "[\"eetstoornis\"]");
    assert_int_equal (s_pump (a, b), 1);
    s_offer_id (b, "twente-0003", offer, sizeof offer);
    s_node_ok (b, "achterhoek", self->achterhoek, "ACCEPT", json_pack ("{s:s}", "offer", offer));
    s_pump (b, a);
    s_assert_state (a, "twente-0003", "accepted");
    s_operator_refused (a, "recall", "twente-0003", EN_ERR_CONFLICT);
}

//  ---------------------------------------------------------------------
//  A peer's adverts are believed within bounds only (issue 10, item 4)

static en_fed_t *
s_fed_new (broker_t *broker, en_metrics_t *metrics, zpoller_t *poller, zconfig_t *config)
{
    en_fed_t *fed = en_fed_new (broker->name, broker->store, broker->router, metrics, NULL, NULL, poller,
                                s_not_enrolled, NULL);
    assert_non_null (fed);
    en_error_t fed_error;
    if (en_fed_configure (fed, config, 1000, 2000, &fed_error))
        fail_msg ("en_fed_configure: %s", fed_error.reason);
    return fed;
}

static void
test_advert_bounds (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a;
    zpoller_t *poller = zpoller_new (NULL);
    en_metrics_t *metrics = en_metrics_new ();
    en_router_set_metrics (a->router, metrics);
    zconfig_t *config = zconfig_new ("root", NULL);
    zconfig_put (config, "federation/peers/gelderland/endpoint", "tcp://127.0.0.1:1");
    zconfig_put (config, "federation/advert_max_free", "20");
    zconfig_put (config, "federation/advert_max_total", "30");
    en_fed_t *fed = s_fed_new (a, metrics, poller, config);

    //  999,999 free places for one tag set: believed 20 (one province's
    //  bound per role and tag set); 500 passed on from beyond: at most 20
    //  for each of the 6 provinces it may stand for
    bool resync;
    en_error_t error;
    assert_int_equal (s_advert_in (fed, a, s_advert_body (EPOCH_B, 1, true,
        "[{\"role\":\"superexpert\",\"tagset\":\",trauma,\",\"hops\":1,\"free\":999999},"
        " {\"role\":\"superexpert\",\"tagset\":\",adhd,\",\"hops\":1,\"free\":5},"
        " {\"role\":\"superexpert\",\"tagset\":\",lvb,\",\"hops\":2,\"free\":500}]"), &resync, &error), 0);
    s_assert_adverts (a, EPOCH_B, 1, "superexpert ,adhd, 1 5;superexpert ,lvb, 2 120;superexpert ,trauma, 1 20");
    //  Operators see what it claimed, what is believed, and that it was cut
    json_t *status = en_fed_status (fed);
    json_t *advert = json_object_get (json_array_get (status, 0), "advert");
    assert_int_equal (en_json_int (advert, "claimed_entries", -1), 3);
    assert_int_equal (en_json_int (advert, "claimed_free", -1), 999999 + 5);
    assert_int_equal (en_json_int (advert, "claimed_free_learned", -1), 500);
    assert_int_equal (en_json_int (advert, "free", -1), 25);
    assert_int_equal (en_json_int (advert, "free_learned", -1), 120);
    assert_int_equal (en_json_int (advert, "clamped", -1), 1);
    json_decref (status);
    assert_int_equal (en_metrics_value (metrics, EN_METRIC_FED_CLAMPED, "gelderland"), 1);

    //  In total: three tag sets of 20 each are within the entry bound, but
    //  60 is more than a province (30): each is scaled down
    assert_int_equal (s_advert_in (fed, a, s_advert_body (EPOCH_B, 2, true,
        "[{\"role\":\"superexpert\",\"tagset\":\",trauma,\",\"hops\":1,\"free\":20},"
        " {\"role\":\"superexpert\",\"tagset\":\",adhd,\",\"hops\":1,\"free\":20},"
        " {\"role\":\"superexpert\",\"tagset\":\",autisme,\",\"hops\":1,\"free\":20}]"), &resync, &error), 0);
    s_assert_adverts (a, EPOCH_B, 2, "superexpert ,adhd, 1 10;superexpert ,autisme, 1 10;superexpert ,trauma, 1 10");
    assert_int_equal (en_metrics_value (metrics, EN_METRIC_FED_CLAMPED, "gelderland"), 2);
    //  Deltas too: the claims follow them, the bounds hold
    assert_int_equal (s_advert_in (fed, a, s_advert_body (EPOCH_B, 3, false,
        "[{\"role\":\"superexpert\",\"tagset\":\",autisme,\",\"hops\":1,\"free\":0},"
        " {\"role\":\"superexpert\",\"tagset\":\",adhd,\",\"hops\":1,\"free\":7}]"), &resync, &error), 0);
    assert_false (resync);
    s_assert_adverts (a, EPOCH_B, 3, "superexpert ,adhd, 1 7;superexpert ,trauma, 1 10");
    s_assert_claimed (fed, 2, 27);
    //  What we pass on to other peers is what we believe
    json_t *learned = en_bstore_advert_learned (a->store, "utrecht", 2);
    assert_int_equal (json_array_size (learned), 2);
    assert_int_equal (en_json_int (json_array_get (learned, 0), "free", -1), 7);
    assert_int_equal (en_json_int (json_array_get (learned, 1), "free", -1), 10);
    json_decref (learned);

    //  The store fails part way through an ADVERT (each write in turn,
    //  until none is left to fail): the batch around it commits, yet
    //  nothing of the ADVERT is written, and what operators see of its
    //  claims stays as it was
    int fault = 1;
    for (; ; fault++) {
        bool fired;
        int rc = s_advert_in_faulty (fed, a, s_advert_body (EPOCH_B, 4, true,
            "[{\"role\":\"superexpert\",\"tagset\":\",lvb,\",\"hops\":1,\"free\":3},"
            " {\"role\":\"superexpert\",\"tagset\":\",adhd,\",\"hops\":1,\"free\":4}]"), fault, &fired, &resync, &error);
        if (!fired) {
            assert_int_equal (rc, 0);
            break;
        }
        assert_int_equal (rc, -1);
        assert_int_equal (error.code, EN_ERR_INTERNAL);
        s_assert_adverts (a, EPOCH_B, 3, "superexpert ,adhd, 1 7;superexpert ,trauma, 1 10");
        s_assert_claimed (fed, 2, 27);
    }
    assert_true (fault > 4);    //  the savepoint, the snapshot's delete, two rows, the state
    s_assert_adverts (a, EPOCH_B, 4, "superexpert ,adhd, 1 4;superexpert ,lvb, 1 3");
    s_assert_claimed (fed, 2, 7);

    //  A peer that advertises room and gives the request back is counted
    s_submit_only (a, "twente", self->twente, "twente-0001", "hoog", "[\"adhd\"]");
    s_assert_peer (a, "twente-0001", "gelderland");
    s_peer_ok (a, "gelderland", "STATUS", json_pack ("{s:s, s:s, s:s, s:s}", "request", "twente-0001",
               "state", "returned", "event", "returned", "detail", "no expert available"));
    s_assert_peer (a, "twente-0001", NULL);
    status = en_fed_status (fed);
    json_t *link = json_array_get (status, 0);
    assert_int_equal (en_json_int (link, "forwards", -1), 1);
    assert_int_equal (en_json_int (link, "forwards_returned", -1), 1);
    json_decref (status);
    assert_int_equal (en_metrics_value (metrics, EN_METRIC_FED_RETURNED, "gelderland"), 1);

    //  Bounds that make no sense stop the configuration
    en_error_t fed_error;
    zconfig_put (config, "federation/advert_max_free", "0");
    assert_int_equal (en_fed_configure (fed, config, 1000, 2000, &fed_error), -1);
    assert_non_null (strstr (fed_error.reason, "advert_max_free"));
    zconfig_put (config, "federation/advert_max_free", "40");
    assert_int_equal (en_fed_configure (fed, config, 1000, 2000, &fed_error), -1);
    assert_non_null (strstr (fed_error.reason, "advert_max_total"));
    zconfig_put (config, "federation/advert_max_free", "tien");
    assert_int_equal (en_fed_configure (fed, config, 1000, 2000, &fed_error), -1);
    zconfig_destroy (&config);
    en_fed_destroy (&fed);
    en_router_set_metrics (a->router, NULL);
    en_metrics_destroy (&metrics);
    zpoller_destroy (&poller);
}

//  ---------------------------------------------------------------------
//  A pause of this broker is not the peer's silence (issue 10, item 11)

typedef struct {
    zcert_t *cert;              //  the fake peer's CURVE key pair
    en_signer_t *signer;        //  its signing key
    zsock_t *sock;              //  ROUTER it listens on
    int port;
    int links;                  //  LINKs it answered
    int heartbeat;              //  ms its WELCOME names (0: 100)
} fake_peer_t;

static bool
s_fake_peer_key (const char *name, const char *pinned_key, char curve_key [41],
                 unsigned char sign_key [32], void *arg)
{
    fake_peer_t *peer = (fake_peer_t *) arg;
    snprintf (curve_key, 41, "%s", zcert_public_txt (peer->cert));
    memcpy (sign_key, en_signer_public (peer->signer), 32);
    return true;
}

//  The peer answers what waits for it: LINK with WELCOME, PING with PONG.
static void
s_fake_peer_serve (fake_peer_t *peer)
{
    while (zsock_events (peer->sock) & ZMQ_POLLIN) {
        zmsg_t *raw = zmsg_recv (peer->sock);
        zframe_t *routing_id = zmsg_pop (raw);
        en_error_t error;
        en_msg_t *msg = en_msg_decode (raw, &error);
        en_msg_t *answer = NULL;
        if (msg && streq (en_msg_command (msg), "LINK")) {
            peer->links++;
            answer = en_msg_new ("WELCOME", "gelderland", json_pack ("{s:s, s:i, s:s}", "broker", "gelderland",
                                 "heartbeat", peer->heartbeat ? peer->heartbeat : 100,
                                 "version", EXPERTNET_VERSION));
        }
        else
        if (msg && streq (en_msg_command (msg), "PING"))
            answer = en_msg_new ("PONG", "gelderland", NULL);
        if (answer)
            assert_int_equal (en_msg_send (answer, peer->sock, routing_id, peer->signer), 0);
        en_msg_destroy (&answer);
        en_msg_destroy (&msg);
        zframe_destroy (&routing_id);
        zmsg_destroy (&raw);
    }
}

//  The broker's loop for ms: poll, handle a link, tick; the peer answers
//  when it is alive.
static void
s_fed_loop (en_fed_t *fed, zpoller_t *poller, fake_peer_t *peer, bool alive, int64_t ms)
{
    int64_t until = en_now_ms () + ms;
    while (en_now_ms () < until) {
        void *which = zpoller_wait (poller, 10);
        if (which)
            en_fed_handle (fed, which);
        en_fed_tick (fed);
        if (alive)
            s_fake_peer_serve (peer);
    }
}

static int64_t
s_up_since (en_fed_t *fed)
{
    json_t *status = en_fed_status (fed);
    int64_t since = en_json_int (json_array_get (status, 0), "up_since", 0);
    json_decref (status);
    return since;
}

//  Broker a's federation with one fake peer, gelderland, whose WELCOME
//  names heartbeat ms, and a's own heartbeat the same: started, its link
//  up, and gelderland's advert of two free trauma places applied.
typedef struct {
    fake_peer_t peer;           //  gelderland
    en_signer_t *signer;        //  a's signing key
    zcert_t *cert;              //  a's CURVE key pair
    zpoller_t *poller;          //  a's loop
    en_fed_t *fed;              //  a's federation
} fed_rig_t;

static void
s_rig_start (fixture_t *self, fed_rig_t *rig, int heartbeat)
{
    broker_t *a = self->a;
    memset (rig, 0, sizeof *rig);
    rig->peer.cert = zcert_new ();
    rig->peer.heartbeat = heartbeat;
    rig->peer.signer = s_node_key (self, "gelderland");
    rig->signer = s_node_key (self, "overijssel");
    rig->cert = zcert_new ();
    assert_non_null (rig->peer.signer);
    assert_non_null (rig->signer);
    rig->peer.sock = zsock_new (ZMQ_ROUTER);
    en_keys_server (rig->peer.sock, rig->peer.cert);
    rig->peer.port = zsock_bind (rig->peer.sock, "tcp://127.0.0.1:*");
    assert_true (rig->peer.port > 0);
    rig->poller = zpoller_new (NULL);
    rig->fed = en_fed_new ("overijssel", a->store, a->router, NULL, rig->cert, rig->signer, rig->poller,
                           s_fake_peer_key, &rig->peer);
    zconfig_t *config = zconfig_new ("root", NULL);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", rig->peer.port);
    zconfig_put (config, "federation/peers/gelderland/endpoint", endpoint);
    en_error_t fed_error;
    if (en_fed_configure (rig->fed, config, heartbeat, 200, &fed_error))
        fail_msg ("en_fed_configure: %s", fed_error.reason);
    zconfig_destroy (&config);
    //  (a LINK sent before the connection was made is lost: the next one
    //  goes a heartbeat later)
    for (int i = 0; i < 1000 && en_fed_link_state ("gelderland", rig->fed) != 1; i++)
        s_fed_loop (rig->fed, rig->poller, &rig->peer, true, 10);
    assert_int_equal (en_fed_link_state ("gelderland", rig->fed), 1);
    s_advert_apply (self, a, "gelderland", test_json (
        "[{\"role\":\"superexpert\",\"tagset\":\",trauma,\",\"hops\":1,\"free\":2}]"));
}

static void
s_rig_stop (fed_rig_t *rig)
{
    en_fed_destroy (&rig->fed);
    zpoller_destroy (&rig->poller);
    zsock_destroy (&rig->peer.sock);
    zcert_destroy (&rig->peer.cert);
    zcert_destroy (&rig->cert);
    en_signer_destroy (&rig->peer.signer);
    en_signer_destroy (&rig->signer);
}

static void
test_link_survives_own_pause (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a;
    //  Heartbeat 100 ms: three of them without a word and a link is lost
    fed_rig_t rig;
    s_rig_start (self, &rig, 100);
    s_fed_loop (rig.fed, rig.poller, &rig.peer, true, 300);
    int64_t up_since = s_up_since (rig.fed);
    assert_true (up_since > 0);
    //  One LINK, or a second one sent a heartbeat later when the machine
    //  was slow to answer the first: what counts is that none follows
    int links = rig.peer.links;
    assert_true (links >= 1 && links <= 2);

    //  This broker does not run for five heartbeats (SIGSTOP, a slow
    //  disk); the peer is alive all along
    zclock_sleep (500);
    //  What the loop does first after the pause may be a node's batch: a
    //  crisis request is forwarded over the link, not skipped for it
    assert_int_equal (en_fed_link_state ("gelderland", rig.fed), 1);
    s_submit_only (a, "twente", self->twente, "twente-0001", "crisis", "[\"trauma\"]");
    s_assert_state (a, "twente-0001", "forwarded");
    s_assert_peer (a, "twente-0001", "gelderland");
    //  ... and the link is not dropped: the same session, no new LINK
    s_fed_loop (rig.fed, rig.poller, &rig.peer, true, 500);
    assert_int_equal (en_fed_link_state ("gelderland", rig.fed), 1);
    assert_int_equal (s_up_since (rig.fed), up_since);
    assert_int_equal (rig.peer.links, links);

    //  A peer that really falls silent is still noticed
    s_fed_loop (rig.fed, rig.poller, &rig.peer, false, 600);
    assert_int_equal (en_fed_link_state ("gelderland", rig.fed), 0);
    s_rig_stop (&rig);
}

//  A peer killed while something waits for it, its link not judged down
//  yet: a flush tries once and returns. (It looked the link up by name
//  while iterating the links, which moved the hash's cursor: en_fed_flush
//  took the same link again and again, and the broker hung until the
//  peer came back. test_convo_fed found it.) An alarm ends a hang.
static void
test_flush_with_peer_gone (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a;
    //  Heartbeat 2 s: the link stays up for 6 s of silence
    fed_rig_t rig;
    s_rig_start (self, &rig, 2000);

    //  The peer is gone; a request is handed to it meanwhile
    zsock_destroy (&rig.peer.sock);
    zclock_sleep (200);                     //  our socket notices the connection is gone
    s_submit_only (a, "twente", self->twente, "twente-0001", "hoog", "[\"trauma\"]");
    s_assert_state (a, "twente-0001", "forwarded");
    assert_int_equal (en_fed_link_state ("gelderland", rig.fed), 1);
    alarm (20);                             //  a hang ends the test (SIGALRM)
    en_fed_flush (rig.fed);
    alarm (0);
    assert_int_equal (s_depth (a, "peer:gelderland"), 1);  //  waits on disk
    //  and the link is judged down when its silence lasts
    for (int i = 0; i < 900 && en_fed_link_state ("gelderland", rig.fed) == 1; i++)
        s_fed_loop (rig.fed, rig.poller, &rig.peer, false, 10);
    assert_int_equal (en_fed_link_state ("gelderland", rig.fed), 0);

    s_rig_stop (&rig);
}

//  ---------------------------------------------------------------------
//  A crisis hiaat is forwarded when the link comes up (item 11)

static int
s_retry (broker_t *broker)
{
    return test_retry_hiaten (broker->router, broker->store);
}

static void
test_hiaat_rerouted_when_link_up (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a;
    s_advert_apply (self, a, "gelderland", test_json (
        "[{\"role\":\"superexpert\",\"tagset\":\",trauma,\",\"hops\":1,\"free\":2}]"));
    //  The link is down: a crisis request does not wait behind it
    s_set_link (a, "gelderland", 0);
    s_submit_only (a, "twente", self->twente, "twente-0001", "crisis", "[\"trauma\"]");
    s_assert_state (a, "twente-0001", "hiaat");
    assert_int_equal (s_retry (a), 0);
    s_assert_events (a, "twente-0001", "submitted hiaat");
    assert_int_equal (s_depth (a, "peer:gelderland"), 0);

    //  The link comes up: the hiaat is forwarded
    s_set_link (a, "gelderland", 1);
    assert_int_equal (s_retry (a), 1);
    s_assert_state (a, "twente-0001", "forwarded");
    s_assert_peer (a, "twente-0001", "gelderland");
    s_assert_events (a, "twente-0001", "submitted hiaat rerouted forwarded");
    assert_int_equal (s_depth (a, "peer:gelderland"), 1);
    json_decref (s_take_expect (a, "twente", "STATUS hiaat/hiaat STATUS rerouted/submitted STATUS forwarded/forwarded"));
    assert_int_equal (s_retry (a), 0);
}

//  ---------------------------------------------------------------------
//  Teams across provinces (EXPN/3): each place of a team is routed on its
//  own, and a place nobody here can take goes to a peer that advertises
//  room for it, as a one-place request there named after its place

//  A team of three at twente: a superexpert for trauma, an
//  ervaringsdeskundige and a superexpert for lvb (only Gelderland has one).
static const char *TEAM_PLACES =
    "[{\"role\":\"superexpert\",\"expertise\":[\"trauma\"]},{\"role\":\"ervaringsdeskundige\"},"
    " {\"role\":\"superexpert\",\"expertise\":[\"lvb\"]}]";

static en_msg_t *
s_team_submit (fixture_t *self, broker_t *broker, const char *id, const char *question_type, const char *places)
{
    json_t *body = s_submit_body (id, "twente", "hoog", question_type, "[\"trauma\",\"lvb\"]");
    json_object_set_new (json_object_get (body, "request"), "places", test_json (places));
    en_msg_t *submit = s_signed ("twente", self->twente, "SUBMIT", body);
    s_node_deliver_ok (broker, self->twente, submit);
    return submit;
}

//  Place place of request id at broker is in state, held by peer (NULL:
//  none), with expert (NULL: none).
static void
s_assert_place_at (const char *file, int line, broker_t *broker, const char *id, int64_t place,
                   const char *state, const char *peer, const char *expert)
{
    json_t *view = en_bstore_request_place (broker->store, id, place);
    if (!view)
        s_fail_at (file, line, "%s: request %s has no place %lld", broker->name, id, (long long) place);
    const char *actual_peer = en_json_str (view, "peer");
    const char *actual_expert = en_json_str (view, "expert");
    if (!streq (en_json_str (view, "state"), state)
    ||  (peer ? !actual_peer || !streq (actual_peer, peer) : actual_peer != NULL)
    ||  (expert ? !actual_expert || !streq (actual_expert, expert) : actual_expert != NULL))
        s_fail_at (file, line, "%s: %s place %lld is %s/%s/%s, expected %s/%s/%s", broker->name, id,
                   (long long) place, en_json_str (view, "state"), actual_peer ? actual_peer : "-",
                   actual_expert ? actual_expert : "-", state, peer ? peer : "-", expert ? expert : "-");
    json_decref (view);
}
#define s_assert_place(...) s_assert_place_at (__FILE__, __LINE__, __VA_ARGS__)

//  The forwards of a request as "place:peer/state ...", by place.
static void
s_assert_place_forwards_at (const char *file, int line, broker_t *broker, const char *id, const char *expected)
{
    json_t *rows = en_db_rows (en_db_query (en_bstore_db (broker->store),
        "SELECT place || ':' || peer || '/' || state AS item FROM forwards WHERE request_id = ?"
        " ORDER BY place, at, peer", "s", id));
    char buf [512];
    test_join (rows, "item", buf, sizeof buf);
    if (!streq (buf, expected))
        s_fail_at (file, line, "%s: forwards of %s are '%s', expected '%s'", broker->name, id, buf, expected);
}
#define s_assert_place_forwards(...) s_assert_place_forwards_at (__FILE__, __LINE__, __VA_ARGS__)

//  The open offer of one place of a request (its id in buf).
static const char *
s_place_offer (broker_t *broker, const char *id, int64_t place, char *buf, size_t size)
{
    json_t *open = en_bstore_place_offers_open (broker->store, id, place);
    assert_int_equal (json_array_size (open), 1);
    snprintf (buf, size, "%s", en_json_str (json_array_get (open, 0), "id"));
    json_decref (open);
    return buf;
}

//  No place was filled twice: per place of id at broker, at most one
//  offer was ever accepted.
static void
s_assert_filled_once (broker_t *broker, const char *id)
{
    assert_int_equal (en_db_int (en_bstore_db (broker->store),
        "SELECT count(*) FROM (SELECT place FROM offers WHERE request_id = ? AND state = 'accepted'"
        " GROUP BY place HAVING count(*) > 1)", "s", id), 0);
}

//  An operator's action on one place (0: the whole request) is done.
static void
s_operator_place_ok (broker_t *broker, const char *action, const char *id, int64_t place)
{
    en_db_t *db = en_bstore_db (broker->store);
    en_error_t error;
    memset (&error, 0, sizeof error);
    assert_int_equal (en_db_begin (db), 0);
    if (en_router_operator_place (broker->router, "marieke", action, id, place, "handmatig", &error))
        fail_msg ("operator %s of %s place %lld refused: %d %s", action, id, (long long) place, error.code,
                  error.reason);
    assert_int_equal (en_db_commit (db), 0);
}

//  The team's common start: A has the first two places' experts, B the
//  third's; submitted at A, places 1 and 2 offered here, place 3 handed
//  to B and offered there, A told.
static en_msg_t *
s_team_started_as (fixture_t *self, const char *id, const char *question_type)
{
    broker_t *a = self->a, *b = self->b;
    s_publish (a, "twente", self->twente,
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2},"
        " {\"id\":\"ed-tw-01\",\"role\":\"ervaringsdeskundige\",\"region\":\"twente\",\"expertise\":[],\"capacity\":2}]");
    s_publish (b, "achterhoek", self->achterhoek,
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"lvb\"],"
        "\"capacity\":3,\"box_key\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}]");
    json_decref (s_take (b, "achterhoek"));
    json_decref (s_take (a, "twente"));
    s_advertise (self, b, a);
    en_msg_t *submit = s_team_submit (self, a, id, question_type, TEAM_PLACES);
    s_assert_place (a, id, 1, "offered", NULL, NULL);
    s_assert_place (a, id, 2, "offered", NULL, NULL);
    s_assert_place (a, id, 3, "forwarded", "gelderland", NULL);
    s_assert_place_forwards (a, id, "3:gelderland/open");
    s_assert_state (a, id, "offered");
    //  The FORWARD names its place
    json_t *queued = s_outbox (a, "peer:gelderland", "FORWARD");
    assert_int_equal (json_array_size (queued), 1);
    assert_int_equal (en_json_int (json_object_get (json_array_get (queued, 0), "body"), "place", 0), 3);
    json_decref (queued);
    //  B: a request of that one place, numbered as at the origin
    assert_int_equal (s_pump (a, b), 1);
    json_t *places = en_bstore_places (b->store, id);
    assert_int_equal (json_array_size (places), 1);
    assert_int_equal (en_json_int (json_array_get (places, 0), "place", 0), 3);
    json_decref (places);
    s_assert_place (b, id, 3, "offered", NULL, NULL);
    s_assert_state (b, id, "offered");
    json_t *offer = s_take_expect (b, "achterhoek", "OFFER");
    assert_int_equal (en_json_int (json_object_get (json_array_get (offer, 0), "body"), "place", 0), 3);
    json_decref (offer);
    //  A mirrors it on place 3 and tells the origin which place
    assert_int_equal (s_pump (b, a), 1);
    s_assert_place (a, id, 3, "offered", "gelderland", NULL);
    json_t *status = s_take (a, "twente");
    json_t *last = json_object_get (json_array_get (status, json_array_size (status) - 1), "body");
    assert_string_equal (en_json_str (last, "event"), "offered");
    assert_int_equal (en_json_int (last, "place", 0), 3);
    assert_string_equal (en_json_str (last, "via"), "gelderland");
    json_decref (status);
    return submit;
}

static en_msg_t *
s_team_started (fixture_t *self, const char *id)
{
    return s_team_started_as (self, id, "consultatie-advies");
}

//  A team with one place filled at a peer, the others at home: accepted,
//  the dossier of that place relayed to the peer's expert, closed at home
//  and, through the relayed CLOSE, at the peer. No place filled twice;
//  the peer's expert never counts on our load.
static void
test_team_place_at_peer (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    const char *id = "twente-0001";
    en_msg_t *submit = s_team_started (self, id);
    en_msg_destroy (&submit);
    char offer [128];
    s_node_ok (a, "twente", self->twente, "ACCEPT", json_pack ("{s:s}", "offer", s_place_offer (a, id, 1, offer, sizeof offer)));
    s_node_ok (a, "twente", self->twente, "ACCEPT", json_pack ("{s:s}", "offer", s_place_offer (a, id, 2, offer, sizeof offer)));
    s_assert_state (a, id, "offered");      //  place 3 still open at B
    s_node_ok (b, "achterhoek", self->achterhoek, "ACCEPT",
               json_pack ("{s:s}", "offer", s_place_offer (b, id, 3, offer, sizeof offer)));
    assert_int_equal (s_pump (b, a), 1);
    s_assert_place (a, id, 1, "accepted", NULL, "se-tw-01");
    s_assert_place (a, id, 2, "accepted", NULL, "ed-tw-01");
    s_assert_place (a, id, 3, "accepted", "gelderland", "se-ah-01");
    s_assert_state (a, id, "accepted");
    assert_int_equal (s_expert_int (a, "se-tw-01", "load"), 1);
    assert_int_equal (s_expert_int (b, "se-ah-01", "load"), 1);
    json_t *status = s_take (a, "twente");
    json_t *last = json_object_get (json_array_get (status, json_array_size (status) - 1), "body");
    assert_int_equal (en_json_int (last, "place", 0), 3);
    assert_string_equal (en_json_str (last, "place_state"), "accepted");
    assert_string_equal (en_json_str (last, "state"), "accepted");
    assert_non_null (en_json_str (last, "box_key"));
    json_decref (status);
    //  The dossier of place 3 goes to B's expert; that of place 1 stays
    s_node_ok (a, "twente", self->twente, "DOSSIER",
               json_pack ("{s:s, s:i, s:s}", "request", id, "place", 3, "sealed", "c2VhbGVkIGRvc3NpZXI="));
    s_node_ok (a, "twente", self->twente, "DOSSIER",
               json_pack ("{s:s, s:i, s:s}", "request", id, "place", 1, "sealed", "b3BlbiBkb3NzaWVy"));
    json_decref (s_take_expect (a, "twente", "DOSSIER"));
    assert_int_equal (s_pump (a, b), 1);
    json_t *dossier = s_take_expect (b, "achterhoek", "DOSSIER");
    assert_string_equal (en_json_str (json_object_get (json_array_get (dossier, 0), "body"), "expert"), "se-ah-01");
    json_decref (dossier);
    //  CLOSE: places 1 and 2 close here, place 3's CLOSE goes to B
    s_node_ok (a, "twente", self->twente, "CLOSE", json_pack ("{s:s, s:s}", "request", id, "outcome", "afgerond"));
    s_assert_place (a, id, 1, "closed", NULL, "se-tw-01");
    s_assert_place (a, id, 3, "accepted", "gelderland", "se-ah-01");
    s_assert_state (a, id, "accepted");
    status = s_take_expect (a, "twente", "STATUS closed/accepted STATUS closed/accepted");
    assert_int_equal (en_json_int (json_object_get (json_array_get (status, 1), "body"), "place", 0), 2);
    json_decref (status);
    assert_int_equal (s_expert_int (a, "se-tw-01", "load"), 0);
    assert_int_equal (s_pump (a, b), 1);
    s_assert_state (b, id, "closed");
    assert_int_equal (s_expert_int (b, "se-ah-01", "load"), 0);
    //  B's close of its whole request names the place it holds (a STATUS
    //  per place to the peer a request came from): A closes that place
    assert_int_equal (s_pump (b, a), 1);
    s_assert_place (a, id, 3, "closed", "gelderland", "se-ah-01");
    s_assert_state (a, id, "closed");
    s_assert_place_forwards (a, id, "3:gelderland/closed");
    status = s_take_expect (a, "twente", "STATUS closed/closed");
    assert_int_equal (en_json_int (json_object_get (json_array_get (status, 0), "body"), "place", 0), 3);
    json_decref (status);
    s_assert_filled_once (a, id);
    s_assert_filled_once (b, id);
    assert_int_equal (s_rows (a, "hiaten"), 0);
}

//  A peer gives a place back: it is routed on here (the next peer), the
//  other places untouched. A FORWARD of a team must name a place it has,
//  and a further place of a request a peer holds is taken only from the
//  same origin with the same signed SUBMIT.
static void
test_team_place_returned (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b, *c = self->c;
    const char *id = "twente-0002";
    s_publish (c, "utrecht", self->utrecht,
        "[{\"id\":\"se-ut-01\",\"role\":\"superexpert\",\"region\":\"utrecht\",\"expertise\":[\"lvb\"],\"capacity\":1}]");
    json_decref (s_take (c, "utrecht"));
    s_advertise (self, c, a);
    en_msg_t *submit = s_team_started (self, id);
    //  B's only expert declines: B gives the place back, A hands it to C
    s_decline_open (b, "achterhoek", self->achterhoek, id);
    s_assert_state (b, id, "returned");
    assert_int_equal (s_pump (b, a), 2);       //  declined, returned
    s_assert_place (a, id, 3, "forwarded", "utrecht", NULL);
    s_assert_place (a, id, 1, "offered", NULL, NULL);
    s_assert_place_forwards (a, id, "3:gelderland/returned 3:utrecht/open");
    assert_int_equal (s_pump (a, c), 1);
    s_assert_place (c, id, 3, "offered", NULL, NULL);
    //  A FORWARD of the team naming no place, or one it does not have: 422
    s_peer_refused (c, "overijssel", "FORWARD",
                    s_forward_body (submit, en_signer_public (self->twente), "[\"overijssel\"]"), EN_ERR_INVALID);
    json_t *body = s_forward_body (submit, en_signer_public (self->twente), "[\"overijssel\"]");
    json_object_set_new (body, "place", json_integer (4));
    s_peer_refused (c, "overijssel", "FORWARD", body, EN_ERR_INVALID);
    //  ... and another place of a request C has, but not the same request:
    //  through another peer, or the team's summary signed anew: 409,
    //  nothing doubled
    body = s_forward_body (submit, en_signer_public (self->twente), "[\"gelderland\"]");
    json_object_set_new (body, "place", json_integer (1));
    s_peer_refused (c, "gelderland", "FORWARD", body, EN_ERR_CONFLICT);
    en_msg_t *again = s_signed ("twente", self->twente, "SUBMIT", json_deep_copy (en_msg_body (submit)));
    body = s_forward_body (again, en_signer_public (self->twente), "[\"overijssel\"]");
    json_object_set_new (body, "place", json_integer (1));
    s_peer_refused (c, "overijssel", "FORWARD", body, EN_ERR_CONFLICT);
    en_msg_destroy (&again);
    json_t *places = en_bstore_places (c->store, id);
    assert_int_equal (json_array_size (places), 1);
    json_decref (places);
    //  A STATUS of C naming a place it was not handed: 403
    s_peer_refused (a, "utrecht", "STATUS", json_pack ("{s:s, s:i, s:s, s:s, s:s}", "request", id, "place", 1,
                    "state", "accepted", "event", "accepted", "expert", "se-ut-01"), EN_ERR_FORBIDDEN);
    s_assert_place (a, id, 1, "offered", NULL, NULL);
    en_msg_destroy (&submit);
    s_assert_filled_once (a, id);
}

//  An operator recalls one place from the peer: RECALL names the place,
//  the peer ends its request, the place is routed again here (a hiaat:
//  nobody else), the other places go on. A late acceptance at the peer
//  is not applied. A place at home can be closed while another is with
//  a peer; the whole team's close cannot (its places with a peer are
//  closed there).
static void
test_team_place_recall (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    const char *id = "twente-0003";
    en_msg_t *submit = s_team_started (self, id);
    en_msg_destroy (&submit);
    s_operator_refused (a, "close", id, EN_ERR_CONFLICT);
    s_operator_place_ok (a, "close", id, 2);
    s_assert_place (a, id, 2, "closed", NULL, NULL);
    s_operator_place_ok (a, "recall", id, 3);
    s_assert_place (a, id, 3, "hiaat", NULL, NULL);
    s_assert_place (a, id, 1, "offered", NULL, NULL);
    s_assert_place_forwards (a, id, "3:gelderland/recalled");
    json_t *queued = s_outbox (a, "peer:gelderland", "RECALL");
    assert_int_equal (json_array_size (queued), 1);
    assert_int_equal (en_json_int (json_object_get (json_array_get (queued, 0), "body"), "place", 0), 3);
    json_decref (queued);
    //  B's expert accepts before the RECALL arrives
    char offer [128];
    s_node_ok (b, "achterhoek", self->achterhoek, "ACCEPT",
               json_pack ("{s:s}", "offer", s_place_offer (b, id, 3, offer, sizeof offer)));
    //  The RECALL is refused there (too late), nothing changes at B;
    //  its STATUS of the acceptance reaches A
    s_peer_refused (b, "overijssel", "RECALL", json_pack ("{s:s, s:i}", "request", id, "place", 3), EN_ERR_CONFLICT);
    s_assert_place (b, id, 3, "accepted", NULL, "se-ah-01");
    assert_int_equal (s_pump (b, a), 1);
    s_assert_place (a, id, 3, "hiaat", NULL, NULL);
    char events [1024];
    s_events (a, id, events, sizeof events);
    assert_non_null (strstr (events, "late-status"));
    s_assert_filled_once (a, id);
    //  A recall of a place at home: 409
    s_operator_refused (a, "recall", id, EN_ERR_CONFLICT);
}

//  A place that is not recalled: the recall reaches the peer, which
//  withdraws its offer and ends the request; nothing comes back.
static void
test_team_place_recall_reaches_peer (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    const char *id = "twente-0004";
    en_msg_t *submit = s_team_started (self, id);
    en_msg_destroy (&submit);
    //  The whole team's recall takes back every place a peer holds
    s_operator_place_ok (a, "recall", id, 0);
    s_assert_place (a, id, 3, "hiaat", NULL, NULL);
    assert_int_equal (s_pump (a, b), 1);
    s_assert_state (b, id, "recalled");
    json_decref (s_take_expect (b, "achterhoek", "WITHDRAW"));
    assert_int_equal (s_depth (b, "peer:overijssel"), 0);
    assert_int_equal (s_expert_int (b, "se-ah-01", "reserved"), 0);
    //  The other places go on as they were
    s_assert_place (a, id, 1, "offered", NULL, NULL);
    s_assert_place (a, id, 2, "offered", NULL, NULL);
    //  A RECALL naming a place the peer's request does not have: 404
    s_peer_refused (b, "overijssel", "RECALL", json_pack ("{s:s, s:i}", "request", id, "place", 2), EN_ERR_NOT_FOUND);
}

//  A hiaat place of a team is routed again on its own, peers included:
//  when a peer advertises room for it, that place goes there, with
//  "rerouted" first; a second hiaat place the same peer can fill goes
//  there too (EXPN/3: a peer may hold several places of a team), each
//  rerouted and forwarded once, and the peer holds both.
static void
test_team_hiaat_place_forwarded (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    const char *id = "twente-0005";
    s_publish (a, "twente", self->twente,
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    en_msg_t *submit = s_team_submit (self, a, id, "consultatie-advies",
        "[{\"role\":\"superexpert\",\"expertise\":[\"trauma\"]},{\"role\":\"superexpert\",\"expertise\":[\"lvb\"]},"
        " {\"role\":\"superexpert\",\"expertise\":[\"adhd\"]}]");
    en_msg_destroy (&submit);
    s_assert_place (a, id, 2, "hiaat", NULL, NULL);
    s_assert_place (a, id, 3, "hiaat", NULL, NULL);
    assert_int_equal (s_retry (a), 0);
    //  B gets an expert holding both lvb and adhd, and one more for adhd:
    //  both places go there
    s_publish (b, "achterhoek", self->achterhoek,
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"lvb\",\"adhd\"],\"capacity\":4},"
        " {\"id\":\"se-ah-02\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"adhd\"],\"capacity\":4}]");
    s_advertise (self, b, a);
    assert_int_equal (s_retry (a), 2);
    s_assert_place (a, id, 2, "forwarded", "gelderland", NULL);
    s_assert_place (a, id, 3, "forwarded", "gelderland", NULL);
    s_assert_place (a, id, 1, "offered", NULL, NULL);
    s_assert_place_forwards (a, id, "2:gelderland/open 3:gelderland/open");
    assert_int_equal (s_retry (a), 0);
    json_t *events = en_bstore_events (a->store, id);
    size_t index;
    json_t *event;
    int rerouted = 0;
    json_array_foreach (events, index, event)
        if (streq (en_json_str (event, "type"), "rerouted")) {
            assert_true (en_json_int (event, "place", 0) == 2 || en_json_int (event, "place", 0) == 3);
            rerouted++;
        }
    json_decref (events);
    assert_int_equal (rerouted, 2);
    assert_int_equal (s_pump (a, b), 2);
    s_assert_place (b, id, 2, "offered", NULL, NULL);
    s_assert_place (b, id, 3, "offered", NULL, NULL);
    json_t *places = en_bstore_places (b->store, id);
    assert_int_equal (json_array_size (places), 2);
    json_decref (places);
    assert_int_equal (s_pump (b, a), 2);
    s_assert_place (a, id, 2, "offered", "gelderland", NULL);
    s_assert_place (a, id, 3, "offered", "gelderland", NULL);
    s_assert_filled_once (a, id);
}

//  ---------------------------------------------------------------------
//  Several places of a team at one peer (EXPN/3): a superexpert for lvb
//  and an ervaringsdeskundige that only Gelderland has. Both go to B, B
//  holds both (one request, two places, its number each), offers them to
//  its two experts and reports each place on its own.

static const char *TEAM_AT_PEER =
    "[{\"role\":\"superexpert\",\"expertise\":[\"lvb\"]},{\"role\":\"ervaringsdeskundige\"}]";
static const char *TEAM_KEY = "1111111111111111111111111111111111111111111111111111111111111111";

//  Submitted at A with a team key, both places handed to B and offered
//  there (se-ah-01 place 1, ed-ah-01 place 2), A told. Returns the SUBMIT.
static en_msg_t *
s_team_at_peer_started (fixture_t *self, const char *id)
{
    broker_t *a = self->a, *b = self->b;
    s_publish (a, "twente", self->twente,
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_publish (b, "achterhoek", self->achterhoek,
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"lvb\"],\"capacity\":3,"
        "\"box_key\":\"2222222222222222222222222222222222222222222222222222222222222222\"},"
        " {\"id\":\"ed-ah-01\",\"role\":\"ervaringsdeskundige\",\"region\":\"achterhoek\",\"expertise\":[],\"capacity\":3,"
        "\"box_key\":\"3333333333333333333333333333333333333333333333333333333333333333\"}]");
    json_decref (s_take (b, "achterhoek"));
    json_decref (s_take (a, "twente"));
    s_advertise (self, b, a);
    json_t *body = s_submit_body (id, "twente", "hoog", "consultatie-advies", "[\"lvb\"]");
    json_object_set_new (json_object_get (body, "request"), "places", test_json (TEAM_AT_PEER));
    json_object_set_new (body, "team_key", json_string (TEAM_KEY));
    en_msg_t *submit = s_signed ("twente", self->twente, "SUBMIT", body);
    s_node_deliver_ok (a, self->twente, submit);
    s_assert_place (a, id, 1, "forwarded", "gelderland", NULL);
    s_assert_place (a, id, 2, "forwarded", "gelderland", NULL);
    s_assert_place_forwards (a, id, "1:gelderland/open 2:gelderland/open");
    s_assert_state (a, id, "forwarded");
    //  Two FORWARDs, one per place
    json_t *queued = s_outbox (a, "peer:gelderland", "FORWARD");
    assert_int_equal (json_array_size (queued), 2);
    assert_int_equal (en_json_int (json_object_get (json_array_get (queued, 0), "body"), "place", 0), 1);
    assert_int_equal (en_json_int (json_object_get (json_array_get (queued, 1), "body"), "place", 0), 2);
    json_decref (queued);
    //  B: one request holding both places, each offered to its own expert
    assert_int_equal (s_pump (a, b), 2);
    json_t *places = en_bstore_places (b->store, id);
    assert_int_equal (json_array_size (places), 2);
    json_decref (places);
    assert_int_equal (en_db_int (en_bstore_db (b->store), "SELECT count(*) FROM requests WHERE id = ?", "s", id), 1);
    s_assert_place (b, id, 1, "offered", NULL, NULL);
    s_assert_place (b, id, 2, "offered", NULL, NULL);
    assert_int_equal (s_offers_to (b, id, "se-ah-01"), 1);
    assert_int_equal (s_offers_to (b, id, "ed-ah-01"), 1);
    assert_int_equal (s_expert_int (b, "se-ah-01", "reserved"), 1);
    assert_int_equal (s_expert_int (b, "ed-ah-01", "reserved"), 1);
    s_assert_state (b, id, "offered");
    json_decref (s_take_expect (b, "achterhoek", "OFFER OFFER"));
    assert_int_equal (s_pump (b, a), 2);
    s_assert_place (a, id, 1, "offered", "gelderland", NULL);
    s_assert_place (a, id, 2, "offered", "gelderland", NULL);
    json_decref (s_take (a, "twente"));
    return submit;
}

//  Accept the open offer of place at B.
static void
s_accept_at_peer (fixture_t *self, const char *id, int64_t place)
{
    char offer [128];
    s_node_ok (self->b, "achterhoek", self->achterhoek, "ACCEPT",
               json_pack ("{s:s}", "offer", s_place_offer (self->b, id, place, offer, sizeof offer)));
}

//  How many FORWARDs carrying command broker queued for peer.
static int64_t
s_carried_count (broker_t *broker, const char *peer, const char *command)
{
    json_t *rows = s_outbox (broker, peer, "FORWARD");
    int64_t count = 0;
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row)
        count += streq (en_json_str (json_object_get (json_object_get (row, "body"), "message"), "command"), command);
    json_decref (rows);
    return count;
}

//  Both places filled at B by different experts, each mirrored as filled
//  at A on its own place; a FORWARD of a place B holds, delivered again,
//  is taken once; each place's dossier goes to its own expert; the team's
//  message reaches both experts; REVIEW and CLOSE go to B once each and
//  move both places there and here.
static void
test_team_two_places_at_peer (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    const char *id = "twente-0010";
    en_msg_t *submit = s_team_at_peer_started (self, id);
    s_accept_at_peer (self, id, 1);
    s_assert_place (b, id, 1, "accepted", NULL, "se-ah-01");
    s_assert_place (b, id, 2, "offered", NULL, NULL);
    s_assert_state (b, id, "offered");
    s_accept_at_peer (self, id, 2);
    s_assert_place (b, id, 2, "accepted", NULL, "ed-ah-01");
    s_assert_state (b, id, "accepted");
    assert_int_equal (s_expert_int (b, "se-ah-01", "load"), 1);
    assert_int_equal (s_expert_int (b, "ed-ah-01", "load"), 1);
    //  Each STATUS names its place and that place's state (B's request
    //  was still offered when place 1 was accepted)
    json_t *statuses = s_outbox (b, "peer:overijssel", "STATUS");
    assert_int_equal (json_array_size (statuses), 2);
    json_t *first = json_object_get (json_array_get (statuses, 0), "body");
    assert_int_equal (en_json_int (first, "place", 0), 1);
    assert_string_equal (en_json_str (first, "place_state"), "accepted");
    assert_string_equal (en_json_str (first, "state"), "offered");
    json_decref (statuses);
    assert_true (s_pump (b, a) >= 2);
    s_assert_place (a, id, 1, "accepted", "gelderland", "se-ah-01");
    s_assert_place (a, id, 2, "accepted", "gelderland", "ed-ah-01");
    s_assert_state (a, id, "accepted");
    assert_int_equal (s_expert_int (a, "se-tw-01", "load"), 0);
    json_t *told = s_outbox (a, "twente", "STATUS");
    assert_int_equal (json_array_size (told), 2);
    assert_int_equal (en_json_int (json_object_get (json_array_get (told, 1), "body"), "place", 0), 2);
    assert_string_equal (en_json_str (json_object_get (json_array_get (told, 1), "body"), "expert"), "ed-ah-01");
    json_decref (told);
    json_decref (s_take (a, "twente"));

    //  Place 2's FORWARD delivered again (a new FORWARD id): taken once
    json_t *body = s_forward_body (submit, en_signer_public (self->twente), "[\"overijssel\"]");
    json_object_set_new (body, "place", json_integer (2));
    s_peer_ok (b, "overijssel", "FORWARD", body);
    json_t *places = en_bstore_places (b->store, id);
    assert_int_equal (json_array_size (places), 2);
    json_decref (places);
    s_assert_place (b, id, 2, "accepted", NULL, "ed-ah-01");
    assert_int_equal (en_db_int (en_bstore_db (b->store), "SELECT count(*) FROM offers WHERE request_id = ?", "s", id),
                      2);
    assert_int_equal (s_depth (b, "peer:overijssel"), 0);
    assert_int_equal (s_expert_int (b, "ed-ah-01", "load"), 1);

    //  Each place's dossier, sealed to its expert, reaches that expert
    json_decref (s_take (b, "achterhoek"));
    for (int place = 2; place >= 1; place--)
        s_node_ok (a, "twente", self->twente, "DOSSIER", json_pack ("{s:s, s:i, s:s}", "request", id, "place", place,
                   "sealed", "c2VhbGVkLWRvc3NpZXI="));
    assert_int_equal (s_carried_count (a, "peer:gelderland", "DOSSIER"), 2);
    assert_string_equal (s_queued (a, "peer:gelderland"), "MEMBERS MEMBERS FORWARD:DOSSIER FORWARD:DOSSIER");
    assert_int_equal (s_pump (a, b), 4);
    //  (after the team's members, as each place was filled, for its experts)
    json_t *dossiers = s_take_expect (b, "achterhoek", "MEMBERS MEMBERS DOSSIER DOSSIER");
    assert_string_equal (en_json_str (json_object_get (json_array_get (dossiers, 2), "body"), "expert"), "ed-ah-01");
    assert_string_equal (en_json_str (json_object_get (json_array_get (dossiers, 3), "body"), "expert"), "se-ah-01");
    json_decref (dossiers);

    //  The team's message reaches both experts at B (one node: both keys)
    s_node_ok (a, "twente", self->twente, "MESSAGE",
               json_pack ("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "request", id, "from", "team", "kind", "message",
                          "box", "Ym94LW9mLXRoZS10ZXh0", "sealed", "team", "a2V5LWZvci10ZWFt",
                          "se-ah-01", "a2V5LWZvci1leHBlcnQ=", "ed-ah-01", "a2V5LWZvci1lZA=="));
    assert_int_equal (s_pump (a, b), 1);
    json_t *relayed = s_outbox (b, "achterhoek", "MESSAGE");
    assert_int_equal (json_array_size (relayed), 1);
    json_t *sealed = json_object_get (json_object_get (json_array_get (relayed, 0), "body"), "sealed");
    assert_int_equal (json_object_size (sealed), 2);
    assert_non_null (json_object_get (sealed, "se-ah-01"));
    assert_non_null (json_object_get (sealed, "ed-ah-01"));
    json_decref (relayed);
    json_decref (s_take (b, "achterhoek"));
    while (s_pump (b, a) > 0)
        ;

    //  REVIEW: one relay to B, which follows up both places (a STATUS
    //  each), both mirrored in monitoring here
    json_decref (s_take (a, "twente"));
    int64_t review_at = en_now_ms () + 7 * 24 * 3600 * 1000LL;
    s_node_ok (a, "twente", self->twente, "REVIEW", json_pack ("{s:s, s:I}", "request", id, "review_at",
                                                             (json_int_t) review_at));
    assert_int_equal (s_carried_count (a, "peer:gelderland", "REVIEW"), 1);
    assert_int_equal (s_pump (a, b), 1);
    s_assert_place (b, id, 1, "monitoring", NULL, "se-ah-01");
    s_assert_place (b, id, 2, "monitoring", NULL, "ed-ah-01");
    assert_int_equal (s_queued_count (b, "peer:overijssel", "STATUS"), 2);
    assert_int_equal (s_pump (b, a), 2);
    s_assert_place (a, id, 1, "monitoring", "gelderland", "se-ah-01");
    s_assert_place (a, id, 2, "monitoring", "gelderland", "ed-ah-01");
    s_assert_state (a, id, "monitoring");
    assert_int_equal (s_expert_int (b, "ed-ah-01", "load"), 1);

    //  CLOSE: one relay to B, which closes both places, a STATUS each
    s_node_ok (a, "twente", self->twente, "CLOSE", json_pack ("{s:s, s:s}", "request", id, "outcome", "afgerond"));
    assert_int_equal (s_carried_count (a, "peer:gelderland", "CLOSE"), 1);
    assert_int_equal (s_pump (a, b), 1);
    s_assert_place (b, id, 1, "closed", NULL, "se-ah-01");
    s_assert_place (b, id, 2, "closed", NULL, "ed-ah-01");
    s_assert_state (b, id, "closed");
    assert_int_equal (s_expert_int (b, "se-ah-01", "load"), 0);
    assert_int_equal (s_expert_int (b, "ed-ah-01", "load"), 0);
    json_t *closes = s_outbox (b, "peer:overijssel", "STATUS");
    assert_int_equal (json_array_size (closes), 2);
    for (size_t index = 0; index < 2; index++) {
        json_t *one = json_object_get (json_array_get (closes, index), "body");
        assert_int_equal (en_json_int (one, "place", 0), (int64_t) index + 1);
        assert_string_equal (en_json_str (one, "place_state"), "closed");
    }
    json_decref (closes);
    assert_true (s_pump (b, a) >= 2);
    s_assert_place (a, id, 1, "closed", "gelderland", "se-ah-01");
    s_assert_place (a, id, 2, "closed", "gelderland", "ed-ah-01");
    s_assert_state (a, id, "closed");
    s_assert_place_forwards (a, id, "1:gelderland/closed 2:gelderland/closed");
    //  (nothing but the members as each place left: a list without them)
    assert_string_equal (s_queued (a, "peer:gelderland"), "MEMBERS MEMBERS");
    s_assert_filled_once (a, id);
    s_assert_filled_once (b, id);
    en_msg_destroy (&submit);
}

//  One of two places at B recalled: B ends that place only (its offer
//  withdrawn), the other stays accepted there and here, and B's request
//  is accepted, not recalled.
static void
test_team_two_places_at_peer_recall (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    const char *id = "twente-0011";
    en_msg_t *submit = s_team_at_peer_started (self, id);
    en_msg_destroy (&submit);
    s_accept_at_peer (self, id, 1);
    assert_true (s_pump (b, a) >= 1);
    s_assert_place (a, id, 1, "accepted", "gelderland", "se-ah-01");
    //  The place accepted there cannot be recalled; the other can
    s_operator_place_ok (a, "recall", id, 2);
    s_assert_place (a, id, 2, "hiaat", NULL, NULL);
    s_assert_place (a, id, 1, "accepted", "gelderland", "se-ah-01");
    s_assert_place_forwards (a, id, "1:gelderland/open 2:gelderland/recalled");
    assert_string_equal (s_queued (a, "peer:gelderland"), "MEMBERS RECALL");
    assert_int_equal (s_pump (a, b), 2);
    s_assert_place (b, id, 2, "recalled", NULL, NULL);
    s_assert_place (b, id, 1, "accepted", NULL, "se-ah-01");
    s_assert_state (b, id, "accepted");
    assert_int_equal (s_expert_int (b, "ed-ah-01", "reserved"), 0);
    assert_int_equal (s_expert_int (b, "se-ah-01", "load"), 1);
    assert_int_equal (s_depth (b, "peer:overijssel"), 0);
    //  The hiaat is not handed back to the peer it was recalled from
    assert_int_equal (s_retry (a), 0);
    s_assert_place (a, id, 2, "hiaat", NULL, NULL);
    s_assert_filled_once (a, id);
}

//  One place of two at B given back (nobody else there) while the other
//  is filled there: routed on here (a hiaat), the other stays accepted
//  at B, whose request is accepted (not returned); a FORWARD of the place
//  given back is refused (409); the origin's CLOSE goes to B once and
//  closes what B holds, with a STATUS for the place B still held only.
static void
test_team_two_places_at_peer_returned (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    const char *id = "twente-0012";
    en_msg_t *submit = s_team_at_peer_started (self, id);
    s_accept_at_peer (self, id, 1);
    char offer [128];
    s_node_ok (b, "achterhoek", self->achterhoek, "DECLINE",
               json_pack ("{s:s, s:s}", "offer", s_place_offer (b, id, 2, offer, sizeof offer), "reason", "geen tijd"));
    s_assert_place (b, id, 2, "returned", NULL, NULL);
    s_assert_place (b, id, 1, "accepted", NULL, "se-ah-01");
    s_assert_state (b, id, "accepted");
    assert_true (s_pump (b, a) >= 3);          //  accepted, declined, returned
    s_assert_place (a, id, 1, "accepted", "gelderland", "se-ah-01");
    s_assert_place (a, id, 2, "hiaat", NULL, NULL);
    s_assert_place_forwards (a, id, "1:gelderland/open 2:gelderland/returned");
    assert_int_equal (s_rows (a, "hiaten"), 1);
    assert_int_equal (s_retry (a), 0);
    //  The place B gave back, carried again: 409, nothing changes there
    json_t *body = s_forward_body (submit, en_signer_public (self->twente), "[\"overijssel\"]");
    json_object_set_new (body, "place", json_integer (2));
    s_peer_refused (b, "overijssel", "FORWARD", body, EN_ERR_CONFLICT);
    s_assert_place (b, id, 2, "returned", NULL, NULL);
    //  CLOSE: place 2 closes here, place 1's CLOSE goes to B once
    json_decref (s_take (a, "twente"));
    s_node_ok (a, "twente", self->twente, "CLOSE", json_pack ("{s:s}", "request", id));
    s_assert_place (a, id, 2, "closed", NULL, NULL);
    assert_int_equal (s_carried_count (a, "peer:gelderland", "CLOSE"), 1);
    assert_string_equal (s_queued (a, "peer:gelderland"), "MEMBERS FORWARD:CLOSE");
    assert_int_equal (s_pump (a, b), 2);
    s_assert_state (b, id, "closed");
    assert_int_equal (s_expert_int (b, "se-ah-01", "load"), 0);
    json_t *closes = s_outbox (b, "peer:overijssel", "STATUS");
    assert_int_equal (json_array_size (closes), 1);
    assert_int_equal (en_json_int (json_object_get (json_array_get (closes, 0), "body"), "place", 0), 1);
    json_decref (closes);
    assert_true (s_pump (b, a) >= 1);
    s_assert_place (a, id, 1, "closed", "gelderland", "se-ah-01");
    s_assert_state (a, id, "closed");
    s_assert_filled_once (a, id);
    s_assert_filled_once (b, id);
    en_msg_destroy (&submit);
}

//  A place of a team two hops away: A hands place 2 to B, B (nobody
//  there) hands it on to C, keeping its number all the way; C's offer,
//  acceptance and close come back through B onto place 2 at A, and the
//  origin's CLOSE is relayed through B to C.
static void
test_team_place_two_hops (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b, *c = self->c;
    const char *id = "twente-0006";
    s_publish (a, "twente", self->twente,
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_publish (c, "utrecht", self->utrecht,
        "[{\"id\":\"se-ut-01\",\"role\":\"superexpert\",\"region\":\"utrecht\",\"expertise\":[\"adhd\"],\"capacity\":2}]");
    json_decref (s_take (c, "utrecht"));
    s_set_link (a, "utrecht", -1);          //  A knows C only through B
    s_advertise (self, c, b);
    s_advert_apply (self, a, "gelderland", test_json (
        "[{\"role\":\"superexpert\",\"tagset\":\",adhd,\",\"hops\":2,\"free\":2}]"));
    en_msg_t *submit = s_team_submit (self, a, id, "consultatie-advies",
        "[{\"role\":\"superexpert\",\"expertise\":[\"trauma\"]},{\"role\":\"superexpert\",\"expertise\":[\"adhd\"]}]");
    en_msg_destroy (&submit);
    s_assert_place (a, id, 2, "forwarded", "gelderland", NULL);
    assert_int_equal (s_pump (a, b), 1);
    s_assert_place (b, id, 2, "forwarded", "utrecht", NULL);
    s_assert_place_forwards (b, id, "2:utrecht/open");
    assert_int_equal (s_pump (b, c), 1);
    s_assert_place (c, id, 2, "offered", NULL, NULL);
    json_t *visited = test_json ("[\"overijssel\", \"gelderland\", \"utrecht\"]");
    json_t *request = s_request (c, id);
    assert_true (json_equal (json_object_get (request, "visited"), visited));
    json_decref (request);
    json_decref (visited);
    char offer [128];
    s_node_ok (c, "utrecht", self->utrecht, "ACCEPT",
               json_pack ("{s:s}", "offer", s_place_offer (c, id, 2, offer, sizeof offer)));
    assert_int_equal (s_pump (c, b), 2);        //  offered, accepted
    s_assert_place (b, id, 2, "accepted", "utrecht", "se-ut-01");
    assert_int_equal (s_pump (b, a), 3);        //  forwarded, offered, accepted (via B)
    s_assert_place (a, id, 2, "accepted", "gelderland", "se-ut-01");
    s_assert_place (a, id, 1, "offered", NULL, NULL);
    //  The origin closes: place 1 here, place 2 through B at C
    s_node_ok (a, "twente", self->twente, "CLOSE", json_pack ("{s:s}", "request", id));
    s_assert_place (a, id, 1, "closed", NULL, NULL);
    assert_int_equal (s_pump (a, b), 1);
    assert_int_equal (s_pump (b, c), 1);
    s_assert_state (c, id, "closed");
    assert_int_equal (s_pump (c, b), 1);
    s_assert_place (b, id, 2, "closed", "utrecht", "se-ut-01");
    assert_int_equal (s_pump (b, a), 1);
    s_assert_place (a, id, 2, "closed", "gelderland", "se-ut-01");
    s_assert_state (a, id, "closed");
    assert_int_equal (s_expert_int (c, "se-ut-01", "load"), 0);
    s_assert_filled_once (a, id);
    s_assert_filled_once (c, id);
}

//  Pump every link of the two-hop path until nothing is left on it.
static void
s_settle (fixture_t *self)
{
    broker_t *a = self->a, *b = self->b, *c = self->c;
    int rounds = 0;
    while (s_pump (a, b) + s_pump (b, c) + s_pump (c, b) + s_pump (b, a) > 0)
        assert_true (++rounds < 20);
}

//  How many events of type broker has for place (0: of the whole request)
static int64_t
s_place_events (broker_t *broker, const char *id, int64_t place, const char *type)
{
    return en_db_int (en_bstore_db (broker->store),
        "SELECT count(*) FROM events WHERE request_id = ? AND coalesce (place, 0) = ? AND type = ?", "sis", id,
        place, type);
}

//  A team of two: place 1 filled at home, place 2 passed over two hops
//  (A -> B -> C: B cannot fill it) and filled at C. The team's message
//  reaches C's expert through B; its advice, numbered at A, moves place
//  2 at all three brokers (none sends it back), once also when delivered
//  again; CLOSE closes it everywhere, exactly once.
static void
test_team_conversation_two_hops (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b, *c = self->c;
    const char *id = "twente-0041";
    s_publish (a, "twente", self->twente,
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2,"
        "  \"box_key\":\"2222222222222222222222222222222222222222222222222222222222222222\"}]");
    s_publish (c, "utrecht", self->utrecht,
        "[{\"id\":\"se-ut-01\",\"role\":\"superexpert\",\"region\":\"utrecht\",\"expertise\":[\"adhd\"],\"capacity\":2,"
        "  \"box_key\":\"4444444444444444444444444444444444444444444444444444444444444444\"}]");
    json_decref (s_take (c, "utrecht"));
    s_set_link (a, "utrecht", -1);          //  A knows C only through B
    s_advertise (self, c, b);
    s_advert_apply (self, a, "gelderland", test_json (
        "[{\"role\":\"superexpert\",\"tagset\":\",adhd,\",\"hops\":2,\"free\":2}]"));
    json_t *body = s_submit_body (id, "twente", "hoog", "consultatie-advies", "[\"trauma\",\"adhd\"]");
    json_object_set_new (json_object_get (body, "request"), "places", test_json (
        "[{\"role\":\"superexpert\",\"expertise\":[\"trauma\"]},{\"role\":\"superexpert\",\"expertise\":[\"adhd\"]}]"));
    json_object_set_new (body, "team_key", json_string (TEAM_KEY));
    s_node_ok (a, "twente", self->twente, "SUBMIT", body);
    s_assert_place (a, id, 2, "forwarded", "gelderland", NULL);
    assert_int_equal (s_pump (a, b), 1);
    s_assert_place (b, id, 2, "forwarded", "utrecht", NULL);
    assert_int_equal (s_pump (b, c), 1);
    s_assert_place (c, id, 2, "offered", NULL, NULL);
    char offer [128];
    s_node_ok (a, "twente", self->twente, "ACCEPT",
               json_pack ("{s:s}", "offer", s_place_offer (a, id, 1, offer, sizeof offer)));
    s_node_ok (c, "utrecht", self->utrecht, "ACCEPT",
               json_pack ("{s:s}", "offer", s_place_offer (c, id, 2, offer, sizeof offer)));
    s_settle (self);
    s_assert_place (b, id, 2, "accepted", "utrecht", "se-ut-01");
    s_assert_place (a, id, 2, "accepted", "gelderland", "se-ut-01");
    s_assert_state (a, id, "accepted");
    //  A holds the conversation: C's expert takes part through B, and
    //  learns the members through B and C
    assert_int_equal (s_rows (b, "convo_members") + s_rows (c, "convo_members"), 0);
    json_t *members = s_outbox (c, "utrecht", "MEMBERS");
    assert_true (json_array_size (members) >= 1);
    json_t *list = json_object_get (json_object_get (json_array_get (members, json_array_size (members) - 1), "body"),
                                    "members");
    assert_int_equal (json_array_size (list), 3);
    assert_string_equal (en_json_str (json_array_get (list, 0), "who"), "se-tw-01");
    assert_string_equal (en_json_str (json_array_get (list, 1), "who"), "se-ut-01");
    json_decref (members);
    json_decref (s_take (c, "utrecht"));
    json_decref (s_take (a, "twente"));

    //  The team's message reaches C's expert with only its copy
    s_node_ok (a, "twente", self->twente, "MESSAGE",
               json_pack ("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "request", id, "from", "team", "kind", "message",
                          "box", "Ym94LW9mLXRoZS10ZXh0", "sealed", "team", "a2V5LXRlYW0=", "se-tw-01", "a2V5LXR3",
                          "se-ut-01", "a2V5LXV0"));
    s_settle (self);
    json_t *down = s_take_expect (c, "utrecht", "MESSAGE");
    body = json_object_get (json_array_get (down, 0), "body");
    assert_int_equal (en_json_int (body, "seq", 0), 1);
    assert_int_equal (json_object_size (json_object_get (body, "sealed")), 1);
    assert_string_equal (en_json_str (json_object_get (body, "sealed"), "se-ut-01"), "a2V5LXV0");
    json_decref (down);

    //  C's expert advises: up through B, numbered at A, its place moved
    //  there; then at B and at C as the numbered message passes down
    s_node_ok (c, "utrecht", self->utrecht, "MESSAGE",
               json_pack ("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "request", id, "from", "se-ut-01", "kind",
                          "advice", "box", "YWR2aWVz", "sealed", "team", "a2V5LXRlYW0=", "se-tw-01", "a2V5LXR3",
                          "se-ut-01", "a2V5LXV0"));
    s_assert_place (c, id, 2, "accepted", NULL, "se-ut-01");
    assert_int_equal (s_pump (c, b), 1);
    s_assert_place (b, id, 2, "accepted", "utrecht", "se-ut-01");
    assert_int_equal (s_pump (b, a), 1);
    s_assert_place (a, id, 2, "advice", "gelderland", "se-ut-01");
    json_t *sent_ab = s_link_rows (a, b);
    assert_int_equal (s_pump (a, b), 1);
    s_assert_place (b, id, 2, "advice", "utrecht", "se-ut-01");
    json_t *sent_bc = s_link_rows (b, c);
    assert_int_equal (s_pump (b, c), 1);
    s_assert_place (c, id, 2, "advice", NULL, "se-ut-01");
    s_assert_place (a, id, 1, "accepted", NULL, "se-tw-01");
    //  Nothing back up: A moved its own place
    assert_int_equal (s_depth (c, "peer:gelderland") + s_depth (b, "peer:overijssel"), 0);
    down = s_take_expect (c, "utrecht", "MESSAGE");
    assert_int_equal (en_json_int (json_object_get (json_array_get (down, 0), "body"), "seq", 0), 2);
    json_decref (down);
    //  Delivered again: no second move anywhere
    s_redeliver (a, b, sent_ab);
    s_redeliver (b, c, sent_bc);
    json_decref (sent_ab);
    json_decref (sent_bc);
    assert_int_equal (s_depth (b, "peer:utrecht") + s_depth (c, "utrecht"), 0);
    assert_int_equal (s_place_events (a, id, 2, "advice"), 1);
    assert_int_equal (s_place_events (b, id, 2, "advice"), 1);
    assert_int_equal (s_place_events (c, id, 2, "advice"), 1);
    assert_int_equal (s_place_events (a, id, 1, "advice"), 0);

    //  CLOSE: place 1 here, place 2 through B at C; closed everywhere once
    s_node_ok (a, "twente", self->twente, "CLOSE", json_pack ("{s:s}", "request", id));
    s_assert_place (a, id, 1, "closed", NULL, "se-tw-01");
    s_settle (self);
    s_assert_state (c, id, "closed");
    s_assert_place (b, id, 2, "closed", "utrecht", "se-ut-01");
    s_assert_place (a, id, 2, "closed", "gelderland", "se-ut-01");
    s_assert_state (b, id, "closed");
    s_assert_state (a, id, "closed");
    assert_int_equal (s_place_events (c, id, 0, "closed") + s_place_events (c, id, 2, "closed"), 1);
    assert_int_equal (s_place_events (b, id, 2, "closed"), 1);
    assert_int_equal (s_place_events (a, id, 2, "closed"), 1);
    assert_int_equal (s_expert_int (c, "se-ut-01", "load"), 0);
    assert_int_equal (s_expert_int (a, "se-tw-01", "load"), 0);
    //  C's expert is told the conversation ended, and can no longer write
    members = s_outbox (c, "utrecht", "MEMBERS");
    assert_true (json_array_size (members) >= 1);
    assert_int_equal (json_array_size (json_object_get (json_object_get (
        json_array_get (members, json_array_size (members) - 1), "body"), "members")), 0);
    json_decref (members);
    s_node_refused (c, "utrecht", self->utrecht, "MESSAGE",
                    json_pack ("{s:s, s:s, s:s, s:s, s:{s:s}}", "request", id, "from", "se-ut-01", "kind", "message",
                               "box", "YWR2aWVz", "sealed", "se-ut-01", "a2V5LXV0"), EN_ERR_CONFLICT);
    s_assert_filled_once (a, id);
    s_assert_filled_once (c, id);
}

//  ---------------------------------------------------------------------
//  Follow-up (REVIEW, REMIND) and moreel beraad (BERAAD) of a place a
//  peer holds: the origin's signed message is relayed as a CLOSE is

//  The timer as the broker runs it (in a transaction): how many fired
static int
s_due (broker_t *broker, int64_t now)
{
    en_db_t *db = en_bstore_db (broker->store);
    assert_int_equal (en_db_begin (db), 0);
    int fired = en_followup_due (broker->router, now);
    assert_int_equal (en_db_commit (db), 0);
    return fired;
}

//  The origin twente sets the review date of id at A
static void
s_review_at_a (fixture_t *self, const char *id, int64_t at)
{
    s_node_ok (self->a, "twente", self->twente, "REVIEW",
               json_pack ("{s:s, s:I}", "request", id, "review_at", (json_int_t) at));
}

//  A moreel-beraad request nobody at A can serve, forwarded to B and
//  accepted there by se-01; both origins' queues drained. Returns the
//  offer id at B in offer.
static void
s_beraad_accepted_at_peer (fixture_t *self, const char *id, char *offer, size_t size)
{
    broker_t *a = self->a, *b = self->b;
    s_publish (a, "twente", self->twente, EXPERTS_A);
    s_publish (b, "achterhoek", self->achterhoek,
        "[{\"id\":\"se-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"eetstoornis\"],"
        "\"capacity\":2,\"box_key\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}]");
    s_advertise (self, b, a);
    en_msg_t *submit = s_signed ("twente", self->twente, "SUBMIT",
                                 s_submit_body (id, "twente", "hoog", "moreel-beraad", "[\"eetstoornis\"]"));
    s_node_deliver_ok (a, self->twente, submit);
    en_msg_destroy (&submit);
    s_assert_state (a, id, "forwarded");
    assert_int_equal (s_pump (a, b), 1);
    s_offer_id (b, id, offer, size);
    s_node_ok (b, "achterhoek", self->achterhoek, "ACCEPT", json_pack ("{s:s}", "offer", offer));
    assert_int_equal (s_pump (b, a), 2);
    s_assert_state (a, id, "accepted");
    json_decref (s_take (a, "twente"));
    json_decref (s_take (b, "achterhoek"));
}

//  A request of one place forwarded to B: the origin's REVIEW goes to B,
//  B's place moves to monitoring (mirrored at A), B's timer reminds its
//  expert exactly once at the date, A's timer reminds nobody (it holds
//  no place) and the origin hears review-due once, from A (B's is an
//  event of the place there). BERAAD: the proposal reaches B's expert,
//  the answer comes back to the origin on place 1, the fixed time
//  reaches the expert; the origin hears each step once.
static void
test_followup_forwarded (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    const char *id = "twente-0001";
    char offer [128];
    s_beraad_accepted_at_peer (self, id, offer, sizeof offer);

    int64_t at = en_now_ms () + 3600 * 1000;
    s_review_at_a (self, id, at);
    //  Relayed, not applied here: the place is B's
    s_assert_place (a, id, 1, "accepted", "gelderland", "se-01");
    s_assert_events (a, id, "submitted forwarded offered accepted relayed");
    json_t *queued = s_outbox (a, "peer:gelderland", "FORWARD");
    assert_int_equal (json_array_size (queued), 1);
    json_t *carried = json_object_get (json_object_get (json_array_get (queued, 0), "body"), "message");
    assert_string_equal (en_json_str (carried, "command"), "REVIEW");
    json_decref (queued);
    assert_int_equal (s_depth (a, "twente"), 0);
    assert_int_equal (s_pump (a, b), 1);
    s_assert_state (b, id, "monitoring");
    assert_int_equal (s_pump (b, a), 1);
    s_assert_place (a, id, 1, "monitoring", "gelderland", "se-01");
    json_t *status = s_take_expect (a, "twente", "STATUS monitoring/monitoring");
    json_t *body = json_object_get (json_array_get (status, 0), "body");
    assert_int_equal (en_json_int (body, "review_at", 0), at);
    assert_int_equal (en_json_int (body, "place", 0), 1);
    json_decref (status);

    //  The date: B reminds its expert once; A has no place to remind
    assert_int_equal (s_due (b, at - 1), 0);
    assert_int_equal (s_depth (b, "achterhoek"), 0);
    assert_int_equal (s_due (b, at), 1);
    json_t *remind = s_take_expect (b, "achterhoek", "REMIND");
    body = json_object_get (json_array_get (remind, 0), "body");
    assert_string_equal (en_json_str (body, "expert"), "se-01");
    assert_string_equal (en_json_str (body, "offer"), offer);
    assert_int_equal (en_json_int (body, "review_at", 0), at);
    json_decref (remind);
    assert_int_equal (s_due (b, at + 60000), 0);
    assert_int_equal (s_depth (b, "achterhoek"), 0);
    assert_int_equal (s_due (a, at), 1);            //  the team's event, no REMIND
    assert_int_equal (s_due (a, at + 60000), 0);
    status = s_take_expect (a, "twente", "STATUS review-due/monitoring");
    assert_int_equal (en_json_int (json_object_get (json_array_get (status, 0), "body"), "review_at", 0), at);
    json_decref (status);
    assert_int_equal (s_pump (b, a), 1);
    s_assert_place (a, id, 1, "monitoring", "gelderland", "se-01");
    assert_int_equal (s_depth (a, "twente"), 0);    //  B's review-due: not again
    assert_int_equal (en_db_int (en_bstore_db (a->store),
        "SELECT count(*) FROM events WHERE request_id = ? AND type = 'review-due'", "s", id), 2);

    //  BERAAD: proposed at the origin, at B's expert
    int64_t day = 86400 * 1000LL;
    int64_t t1 = en_now_ms () + day, t2 = t1 + day;
    s_node_ok (a, "twente", self->twente, "BERAAD",
               json_pack ("{s:s, s:s, s:[I,I]}", "request", id, "action", "propose", "times",
                          (json_int_t) t1, (json_int_t) t2));
    json_decref (s_take_expect (a, "twente", "STATUS beraad-proposed/monitoring"));
    assert_int_equal (s_pump (a, b), 1);
    json_t *beraad = s_take_expect (b, "achterhoek", "BERAAD");
    body = json_object_get (json_array_get (beraad, 0), "body");
    assert_string_equal (en_json_str (body, "action"), "propose");
    assert_string_equal (en_json_str (body, "offer"), offer);
    assert_int_equal (json_array_size (json_object_get (body, "times")), 2);
    json_decref (beraad);
    assert_int_equal (s_pump (b, a), 1);
    assert_int_equal (s_depth (a, "twente"), 0);
    //  The answer goes back through B to the origin, on place 1
    s_node_ok (b, "achterhoek", self->achterhoek, "BERAAD",
               json_pack ("{s:s, s:s, s:[I]}", "action", "answer", "offer", offer, "available", (json_int_t) t2));
    assert_int_equal (s_pump (b, a), 1);
    status = s_take_expect (a, "twente", "STATUS beraad-answer/monitoring");
    body = json_object_get (json_array_get (status, 0), "body");
    assert_int_equal (en_json_int (body, "place", 0), 1);
    assert_string_equal (en_json_str (body, "expert"), "se-01");
    assert_int_equal (json_integer_value (json_array_get (json_object_get (body, "available"), 0)), t2);
    json_decref (status);
    json_t *events = en_bstore_events (a->store, id);
    json_t *last = json_array_get (events, json_array_size (events) - 1);
    assert_string_equal (en_json_str (last, "type"), "beraad-answer");
    assert_string_equal (en_json_str (last, "expert"), "se-01");
    json_decref (events);
    //  Fixed at the origin: at B's expert too
    s_node_ok (a, "twente", self->twente, "BERAAD",
               json_pack ("{s:s, s:s, s:I}", "request", id, "action", "fix", "at", (json_int_t) t2));
    json_decref (s_take_expect (a, "twente", "STATUS beraad-fixed/monitoring"));
    assert_int_equal (s_pump (a, b), 1);
    beraad = s_take_expect (b, "achterhoek", "BERAAD");
    body = json_object_get (json_array_get (beraad, 0), "body");
    assert_string_equal (en_json_str (body, "action"), "fix");
    assert_int_equal (en_json_int (body, "at", 0), t2);
    json_decref (beraad);
    json_t *kept = en_bstore_beraad (b->store, id);
    assert_int_equal (en_json_int (kept, "fixed_at", 0), t2);
    json_decref (kept);
    kept = en_bstore_beraad (a->store, id);
    assert_int_equal (en_json_int (kept, "fixed_at", 0), t2);
    json_decref (kept);
    assert_int_equal (s_pump (b, a), 1);
    assert_int_equal (s_depth (a, "twente"), 0);

    //  A new date that passes while the relayed REVIEW waits on the link:
    //  B checks it against the time the origin signed it, and reminds at
    //  its next pass (late, not lost)
    int64_t soon = en_now_ms () + 300;
    s_review_at_a (self, id, soon);
    zclock_sleep (400);
    assert_int_equal (s_pump (a, b), 1);
    assert_int_equal (s_due (b, en_now_ms ()), 1);
    remind = s_take_expect (b, "achterhoek", "REMIND");
    assert_int_equal (en_json_int (json_object_get (json_array_get (remind, 0), "body"), "review_at", 0), soon);
    json_decref (remind);
}

//  A team with its third place at B: the REVIEW moves places 1 and 2 to
//  monitoring here (a STATUS each) and goes to B for place 3; at the
//  date A reminds its own two experts, B its one: each once, and the
//  origin hears review-due once. A moreel beraad reaches all three;
//  B's expert's answer comes back on place 3.
static void
test_followup_team_place_at_peer (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    const char *id = "twente-0001";
    en_msg_t *submit = s_team_started_as (self, id, "moreel-beraad");
    en_msg_destroy (&submit);
    char offer [128];
    s_node_ok (a, "twente", self->twente, "ACCEPT", json_pack ("{s:s}", "offer", s_place_offer (a, id, 1, offer, sizeof offer)));
    s_node_ok (a, "twente", self->twente, "ACCEPT", json_pack ("{s:s}", "offer", s_place_offer (a, id, 2, offer, sizeof offer)));
    s_node_ok (b, "achterhoek", self->achterhoek, "ACCEPT",
               json_pack ("{s:s}", "offer", s_place_offer (b, id, 3, offer, sizeof offer)));
    assert_int_equal (s_pump (b, a), 1);
    s_assert_state (a, id, "accepted");
    json_decref (s_take (a, "twente"));
    json_decref (s_take (b, "achterhoek"));

    int64_t at = en_now_ms () + 3600 * 1000;
    s_review_at_a (self, id, at);
    s_assert_place (a, id, 1, "monitoring", NULL, "se-tw-01");
    s_assert_place (a, id, 2, "monitoring", NULL, "ed-tw-01");
    s_assert_place (a, id, 3, "accepted", "gelderland", "se-ah-01");
    json_decref (s_take_expect (a, "twente", "STATUS monitoring/accepted STATUS monitoring/accepted"));
    assert_int_equal (s_pump (a, b), 1);
    s_assert_place (b, id, 3, "monitoring", NULL, "se-ah-01");
    assert_int_equal (s_pump (b, a), 1);
    s_assert_place (a, id, 3, "monitoring", "gelderland", "se-ah-01");
    s_assert_state (a, id, "monitoring");
    json_t *status = s_take_expect (a, "twente", "STATUS monitoring/monitoring");
    assert_int_equal (en_json_int (json_object_get (json_array_get (status, 0), "body"), "place", 0), 3);
    json_decref (status);

    //  The date: each broker reminds the experts of the places it holds
    assert_int_equal (s_due (a, at), 1);
    json_t *remind = s_take (a, "twente");
    char buf [256];
    assert_string_equal (s_format (remind, buf, sizeof buf), "STATUS review-due/monitoring REMIND REMIND");
    json_decref (remind);
    assert_int_equal (s_due (b, at), 1);
    remind = s_take_expect (b, "achterhoek", "REMIND");
    assert_string_equal (en_json_str (json_object_get (json_array_get (remind, 0), "body"), "expert"), "se-ah-01");
    json_decref (remind);
    assert_int_equal (s_due (a, at + 60000) + s_due (b, at + 60000), 0);
    assert_int_equal (s_depth (a, "twente") + s_depth (b, "achterhoek"), 0);
    //  B's review-due is an event of place 3 here, not a second STATUS
    assert_int_equal (s_pump (b, a), 1);
    assert_int_equal (s_depth (a, "twente"), 0);
    assert_int_equal (en_db_int (en_bstore_db (a->store),
        "SELECT count(*) FROM events WHERE request_id = ? AND type = 'review-due' AND place = 3", "s", id), 1);

    //  BERAAD: proposed to the participants here and, through B, to B's;
    //  B's expert answers through B, on place 3
    int64_t t1 = en_now_ms () + 86400 * 1000LL;
    s_node_ok (a, "twente", self->twente, "BERAAD",
               json_pack ("{s:s, s:s, s:[I]}", "request", id, "action", "propose", "times", (json_int_t) t1));
    json_decref (s_take_expect (a, "twente", "BERAAD BERAAD STATUS beraad-proposed/monitoring"));
    assert_int_equal (s_pump (a, b), 1);
    json_t *beraad = s_take_expect (b, "achterhoek", "BERAAD");
    assert_string_equal (en_json_str (json_object_get (json_array_get (beraad, 0), "body"), "expert"), "se-ah-01");
    json_decref (beraad);
    assert_int_equal (s_pump (b, a), 1);
    assert_int_equal (s_depth (a, "twente"), 0);
    json_t *accepted = en_bstore_participants (b->store, id);
    s_node_ok (b, "achterhoek", self->achterhoek, "BERAAD",
               json_pack ("{s:s, s:O, s:[I]}", "action", "answer", "offer",
                          json_object_get (json_array_get (accepted, 0), "id"), "available", (json_int_t) t1));
    json_decref (accepted);
    assert_int_equal (s_pump (b, a), 1);
    status = s_take_expect (a, "twente", "STATUS beraad-answer/monitoring");
    json_t *body = json_object_get (json_array_get (status, 0), "body");
    assert_int_equal (en_json_int (body, "place", 0), 3);
    assert_string_equal (en_json_str (body, "expert"), "se-ah-01");
    json_decref (status);
    assert_int_equal (en_db_int (en_bstore_db (a->store),
        "SELECT count(*) FROM events WHERE request_id = ? AND type = 'beraad-answer' AND place = 3"
        " AND expert = 'se-ah-01'", "s", id), 1);
}

//  A team's conversation across provinces (docs/protocol.md,
//  "Conversations", "A team across provinces"): the team's broker (A)
//  numbers it for every place; the expert of the place B holds takes part
//  through B (their box key from B's STATUS accepted), and B passes what
//  comes from A down to its expert's node and what that node writes or
//  reads up to A, keeping no conversation of its own.
static json_t *
s_team_message (const char *id, const char *from, const char *kind)
{
    return json_pack ("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "request", id, "from", from, "kind", kind,
                      "box", "Ym94LW9mLXRoZS10ZXh0", "sealed", "team", "a2V5LXRlYW0=", "se-tw-01", "a2V5LXR3",
                      "ed-tw-01", "a2V5LWVk", "se-ah-01", "a2V5LWFo");
}

static void
test_team_conversation_across_provinces (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    const char *id = "twente-0031";
    const char *key_ah = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    s_publish (a, "twente", self->twente,
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2,"
        "  \"box_key\":\"1111111111111111111111111111111111111111111111111111111111111111\"},"
        " {\"id\":\"ed-tw-01\",\"role\":\"ervaringsdeskundige\",\"region\":\"twente\",\"expertise\":[],\"capacity\":2,"
        "  \"box_key\":\"2222222222222222222222222222222222222222222222222222222222222222\"}]");
    s_publish (b, "achterhoek", self->achterhoek,
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"lvb\"],"
        "\"capacity\":3,\"box_key\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}]");
    s_advertise (self, b, a);
    json_t *body = s_submit_body (id, "twente", "hoog", "consultatie-advies", "[\"trauma\",\"lvb\"]");
    json_object_set_new (json_object_get (body, "request"), "places", test_json (TEAM_PLACES));
    json_object_set_new (body, "team_key", json_string ("3333333333333333333333333333333333333333333333333333333333333333"));
    s_node_ok (a, "twente", self->twente, "SUBMIT", body);
    assert_int_equal (s_pump (a, b), 1);
    char offer [128];
    s_node_ok (a, "twente", self->twente, "ACCEPT", json_pack ("{s:s}", "offer", s_place_offer (a, id, 1, offer, sizeof offer)));
    s_node_ok (a, "twente", self->twente, "ACCEPT", json_pack ("{s:s}", "offer", s_place_offer (a, id, 2, offer, sizeof offer)));
    s_node_ok (b, "achterhoek", self->achterhoek, "ACCEPT",
               json_pack ("{s:s}", "offer", s_place_offer (b, id, 3, offer, sizeof offer)));
    //  B keeps no conversation: no MEMBERS of its own, up or down
    assert_int_equal (s_queued_count (b, "peer:overijssel", "MEMBERS") + s_queued_count (b, "achterhoek", "MEMBERS"), 0);
    assert_int_equal (s_pump (b, a), 2);                    //  STATUS offered, accepted (with the box key)
    s_assert_state (a, id, "accepted");
    //  A: four participants, B's expert through B
    json_t *members = s_outbox (a, "peer:gelderland", "MEMBERS");
    json_t *list = json_object_get (json_object_get (json_array_get (members, json_array_size (members) - 1), "body"),
                                    "members");
    assert_int_equal (json_array_size (list), 4);
    assert_string_equal (en_json_str (json_array_get (list, 0), "who"), "ed-tw-01");
    assert_string_equal (en_json_str (json_array_get (list, 1), "who"), "se-ah-01");
    assert_string_equal (en_json_str (json_array_get (list, 1), "box_key"), key_ah);
    json_decref (members);
    json_decref (s_take (a, "twente"));
    json_decref (s_take (b, "achterhoek"));
    assert_true (s_pump (a, b) >= 1);                       //  MEMBERS, passed down
    json_decref (s_take_expect (b, "achterhoek", "MEMBERS"));

    //  The team writes: numbered at A, to twente with its three copies,
    //  to B with the one of B's expert, passed on unchanged
    s_node_ok (a, "twente", self->twente, "MESSAGE", s_team_message (id, "team", "message"));
    json_t *home = s_take_expect (a, "twente", "MESSAGE");
    assert_int_equal (json_object_size (json_object_get (json_object_get (json_array_get (home, 0), "body"), "sealed")), 3);
    json_decref (home);
    assert_int_equal (s_pump (a, b), 1);
    json_t *down = s_take_expect (b, "achterhoek", "MESSAGE");
    body = json_object_get (json_array_get (down, 0), "body");
    assert_int_equal (en_json_int (body, "seq", 0), 1);
    assert_int_equal (json_object_size (json_object_get (body, "sealed")), 1);
    assert_non_null (json_object_get (json_object_get (body, "sealed"), "se-ah-01"));
    json_decref (down);
    assert_int_equal (s_rows (b, "convo_messages"), 0);
    //  B's expert advises in it: passed up, numbered 2 at A, its place to advice there
    s_node_ok (b, "achterhoek", self->achterhoek, "MESSAGE", s_team_message (id, "se-ah-01", "advice"));
    assert_int_equal (s_pump (b, a), 1);
    assert_int_equal (s_rows (a, "convo_messages"), 2);
    s_assert_place (a, id, 3, "advice", "gelderland", "se-ah-01");
    s_assert_place (b, id, 3, "accepted", NULL, "se-ah-01");     //  not before A took it
    json_decref (s_take_expect (a, "twente", "STATUS advice/accepted MESSAGE"));
    //  A's numbered message is B's confirmation: B's copy moves too, with
    //  no STATUS back (A moved its own); delivered again, nothing changes
    json_t *sent = s_link_rows (a, b);
    assert_int_equal (s_pump (a, b), 1);
    s_assert_place (b, id, 3, "advice", NULL, "se-ah-01");
    s_assert_place (a, id, 3, "advice", "gelderland", "se-ah-01");
    int64_t advised = en_db_int (en_bstore_db (b->store),
        "SELECT count(*) FROM events WHERE request_id = ? AND type = 'advice'", "s", id);
    assert_int_equal (advised, 1);
    assert_int_equal (s_depth (b, "peer:overijssel"), 0);
    s_redeliver (a, b, sent);
    json_decref (sent);
    assert_int_equal (en_db_int (en_bstore_db (b->store),
        "SELECT count(*) FROM events WHERE request_id = ? AND type = 'advice'", "s", id), advised);
    s_assert_place (b, id, 3, "advice", NULL, "se-ah-01");
    assert_int_equal (s_depth (b, "peer:overijssel"), 0);
    down = s_take_expect (b, "achterhoek", "MESSAGE");
    assert_int_equal (en_json_int (json_object_get (json_array_get (down, 0), "body"), "seq", 0), 2);
    json_decref (down);
    //  Its receipt goes up and is kept at A, told to everyone
    s_node_ok (b, "achterhoek", self->achterhoek, "RECEIPT",
               json_pack ("{s:s, s:i, s:s}", "request", id, "seq", 1, "reader", "se-ah-01"));
    assert_int_equal (s_pump (b, a), 1);
    assert_int_equal (s_rows (a, "convo_receipts"), 1);
    assert_int_equal (s_queued_count (a, "peer:gelderland", "RECEIPT"), 1);
    assert_int_equal (s_rows (b, "convo_receipts"), 0);
    //  B passes up only what its expert's node says in its expert's name
    s_node_refused (b, "achterhoek", self->achterhoek, "MESSAGE", s_team_message (id, "se-tw-01", "message"),
                    EN_ERR_FORBIDDEN);
    s_node_refused (b, "achterhoek", self->achterhoek, "MESSAGE", s_team_message (id, "team", "message"),
                    EN_ERR_FORBIDDEN);
    assert_int_equal (s_queued_count (b, "peer:overijssel", "MESSAGE"), 0);
    //  A takes from B only B's expert's, not the team's nor A's experts'
    s_peer_refused (a, "gelderland", "MESSAGE", s_team_message (id, "se-tw-01", "message"), EN_ERR_FORBIDDEN);
    s_peer_refused (a, "gelderland", "MESSAGE", s_team_message (id, "team", "message"), EN_ERR_FORBIDDEN);
    assert_int_equal (s_rows (a, "convo_messages"), 2);

    //  The close ends it: MEMBERS [] reaches B's expert through B, and B
    //  passes nothing up any more
    s_node_ok (a, "twente", self->twente, "CLOSE", json_pack ("{s:s}", "request", id));
    assert_true (s_pump (a, b) >= 2);                       //  RECEIPT, CLOSE, MEMBERS (places 1, 2 left)
    s_assert_state (b, id, "closed");
    assert_true (s_pump (b, a) >= 1);                       //  STATUS closed: the team's request closes
    s_assert_state (a, id, "closed");
    assert_int_equal (s_pump (a, b), 1);                    //  MEMBERS []
    json_t *last = s_outbox (b, "achterhoek", "MEMBERS");
    assert_int_equal (json_array_size (json_object_get (json_object_get (json_array_get (last, json_array_size (last) - 1),
                                                                         "body"), "members")), 0);
    json_decref (last);
    s_node_refused (b, "achterhoek", self->achterhoek, "MESSAGE", s_team_message (id, "se-ah-01", "message"),
                    EN_ERR_CONFLICT);
}

//  The peer refuses a REVIEW or BERAAD relayed to it (a final ERROR for
//  its FORWARD): the place's event relay-refused, in a STATUS to the
//  origin naming the peer, the command and the code; once, and not for
//  another peer's ERROR or one for a message that was not a relay.
static void
test_relay_refused (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    broker_t *a = self->a, *b = self->b;
    const char *id = "twente-0001";
    en_msg_t *submit = s_team_started_as (self, id, "moreel-beraad");
    en_msg_destroy (&submit);
    char offer [128];
    s_node_ok (a, "twente", self->twente, "ACCEPT", json_pack ("{s:s}", "offer", s_place_offer (a, id, 1, offer, sizeof offer)));
    s_node_ok (a, "twente", self->twente, "ACCEPT", json_pack ("{s:s}", "offer", s_place_offer (a, id, 2, offer, sizeof offer)));
    s_node_ok (b, "achterhoek", self->achterhoek, "ACCEPT",
               json_pack ("{s:s}", "offer", s_place_offer (b, id, 3, offer, sizeof offer)));
    assert_int_equal (s_pump (b, a), 1);
    s_assert_state (a, id, "accepted");
    json_decref (s_take (a, "twente"));
    int64_t t1 = en_now_ms () + 86400 * 1000LL;
    s_node_ok (a, "twente", self->twente, "BERAAD",
               json_pack ("{s:s, s:s, s:[I]}", "request", id, "action", "propose", "times", (json_int_t) t1));
    json_decref (s_take (a, "twente"));
    json_t *queued = s_outbox (a, "peer:gelderland", "FORWARD");
    assert_int_equal (json_array_size (queued), 1);
    char msg_id [33];
    snprintf (msg_id, sizeof msg_id, "%s", en_json_str (json_array_get (queued, 0), "msg_id"));
    json_decref (queued);

    en_db_t *db = en_bstore_db (a->store);
    assert_int_equal (en_db_begin (db), 0);
    //  Another peer's ERROR for it, or one for no relay: nothing
    assert_int_equal (en_router_forward_refused (a->router, "utrecht", msg_id, 422, "bad times"), 0);
    assert_int_equal (en_router_forward_refused (a->router, "gelderland", "ffffffffffffffffffffffffffffffff",
                                                 422, "bad times"), 0);
    assert_int_equal (s_depth (a, "twente"), 0);
    //  Gelderland's: the team hears it, on place 3, which does not move
    assert_int_equal (en_router_forward_refused (a->router, "gelderland", msg_id, 422, "bad times"), 0);
    assert_int_equal (en_router_forward_refused (a->router, "gelderland", msg_id, 422, "bad times"), 0);
    assert_int_equal (en_db_commit (db), 0);
    json_t *status = s_take_expect (a, "twente", "STATUS relay-refused/accepted");
    json_t *body = json_object_get (json_array_get (status, 0), "body");
    assert_int_equal (en_json_int (body, "place", 0), 3);
    assert_string_equal (en_json_str (body, "place_state"), "accepted");
    assert_string_equal (en_json_str (body, "peer"), "gelderland");
    assert_string_equal (en_json_str (body, "command"), "BERAAD");
    assert_int_equal (en_json_int (body, "code", 0), 422);
    assert_string_equal (en_json_str (body, "detail"), "gelderland refused BERAAD: 422 bad times");
    json_decref (status);
    s_assert_place (a, id, 3, "accepted", "gelderland", "se-ah-01");
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM events WHERE request_id = ? AND type = 'relay-refused'"
                                     " AND place = 3", "s", id), 1);
    //  A place closed since: no word
    s_node_ok (a, "twente", self->twente, "REVIEW",
               json_pack ("{s:s, s:I}", "request", id, "review_at", (json_int_t) (en_now_ms () + 3600 * 1000LL)));
    queued = s_outbox (a, "peer:gelderland", "FORWARD");
    snprintf (msg_id, sizeof msg_id, "%s", en_json_str (json_array_get (queued, json_array_size (queued) - 1), "msg_id"));
    json_decref (queued);
    s_operator_place_ok (b, "close", id, 0);                //  closed at B, by its operators
    assert_true (s_pump (b, a) >= 1);
    s_assert_place (a, id, 3, "closed", "gelderland", "se-ah-01");
    json_decref (s_take (a, "twente"));
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_forward_refused (a->router, "gelderland", msg_id, 409, "closed"), 0);
    assert_int_equal (en_db_commit (db), 0);
    assert_int_equal (s_depth (a, "twente"), 0);
    //  Relays are forgotten once the peer took them (their FORWARD no
    //  longer queued) and old enough; never while queued
    s_node_ok (a, "twente", self->twente, "REVIEW",
               json_pack ("{s:s, s:I}", "request", id, "review_at", (json_int_t) (en_now_ms () + 7200 * 1000LL)));
    json_t *row = en_db_one (en_db_query (db, "SELECT msg_id FROM outbox LIMIT 1", ""));
    assert_non_null (row);
    assert_int_equal (en_bstore_relay_put (a->store, "gelderland", en_json_str (row, "msg_id"), id, 3, "REVIEW"), 0);
    assert_int_equal (en_bstore_relay_put (a->store, "gelderland", "0123456789abcdef0123456789abcdef", id, 3, "REVIEW"),
                      0);
    const char *count = "SELECT count(*) FROM relays";
    assert_int_equal (en_db_int (db, count, ""), 2);
    assert_int_equal (en_bstore_relays_prune (a->store, en_now_ms () - 3600 * 1000LL), 0);
    assert_int_equal (en_db_int (db, count, ""), 2);                  //  too young
    assert_int_equal (en_bstore_relays_prune (a->store, en_now_ms () + 1000), 0);
    assert_int_equal (en_db_int (db, count, ""), 1);                  //  the one still queued stays
    json_t *kept = en_bstore_relay_by_msg (a->store, "gelderland", en_json_str (row, "msg_id"));
    assert_non_null (kept);
    json_decref (kept);
    json_decref (row);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logident ("test_federation");
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_forward_lifecycle, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_followup_forwarded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_followup_team_place_at_peer, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_team_conversation_across_provinces, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_relay_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_flush_with_peer_gone, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_local_first, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_returned_next_peer, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_crisis_local_offers, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_link_state_preference, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refusals, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_relayed_close_needs_origin_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rekeyed_origin_told, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_recall, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_forward_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_operator_forwarded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_fed_adverts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_advert_own_and_learned, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_two_hops, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_hop_budget, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_closed_stays_closed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_advert_bounds, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_link_survives_own_pause, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_hiaat_rerouted_when_link_up, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_team_place_at_peer, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_team_place_returned, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_team_place_recall, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_team_place_recall_reaches_peer, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_team_hiaat_place_forwarded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_team_place_two_hops, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_team_conversation_two_hops, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_conversation_across_provinces, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_team_two_places_at_peer, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_team_two_places_at_peer_recall, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_team_two_places_at_peer_returned, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
