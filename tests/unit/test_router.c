/*  test_router - the routing rules of the broker (broker/en_router.h) on a
    real store (broker/en_bstore.h) in a temporary directory, no sockets.

    Each test publishes a small set of experts with AVAILABILITY, submits
    consult requests and answers offers the way nodes would, each message
    through the broker's receive path (en_inbox, then the router, in a
    transaction), then reads the
    outcome back from the store and the outbox. Expert ids are chosen so
    that the id tie-break would pick a different expert if the rule under
    test broke.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <dirent.h>
#include <unistd.h>

#include "expertnet.h"
#include "en_router.h"
#include "test_fixture.h"

typedef test_broker_t fixture_t;

static int
s_setup (void **state)
{
    return test_broker_setup (state, "test_router");
}

//  After every test, test_broker_teardown checks the counters kept by
//  triggers against a recount; first the router is destroyed twice here
//  (its destructor is safe to call again)
static int
s_teardown (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_router_destroy (&self->router);
    en_router_destroy (&self->router);
    return test_broker_teardown (state);
}

//  Run one message from node as the broker does: through its
//  exactly-once receive (en_inbox) to the router, in a transaction.
//  Takes body.
static int
s_handle (fixture_t *self, const char *node, const char *region, const char *command,
          json_t *body, en_error_t *error)
{
    en_msg_t *msg = en_msg_new (command, node, body);
    int rc = test_receive (self->router, self->store, node, region, false, msg, error);
    en_msg_destroy (&msg);
    return rc;
}

//  The same, expecting success.
static void
s_ok (fixture_t *self, const char *node, const char *region, const char *command, json_t *body)
{
    en_error_t error;
    if (s_handle (self, node, region, command, body, &error))
        fail_msg ("%s from %s refused: %d %s", command, node, error.code, error.reason);
}

//  The same, expecting refusal with code.
static void
s_refused (fixture_t *self, const char *node, const char *region, const char *command,
           json_t *body, int code)
{
    en_error_t error;
    int rc = s_handle (self, node, region, command, body, &error);
    if (rc == 0)
        fail_msg ("%s from %s was accepted, expected %d", command, node, code);
    if (error.code != code)
        fail_msg ("%s from %s refused with %d (%s), expected %d", command, node,
                  error.code, error.reason, code);
    assert_true (strlen (error.reason) > 0);
}

static void
s_publish (fixture_t *self, const char *node, const char *region, const char *experts)
{
    s_ok (self, node, region, "AVAILABILITY", json_pack ("{s:o}", "experts", test_json (experts)));
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

static void
s_submit (fixture_t *self, const char *node, const char *id, const char *region,
          const char *urgency, const char *question_type, const char *expertise)
{
    s_ok (self, node, region, "SUBMIT",
          s_submit_body (id, region, urgency, question_type, expertise));
}

//  The one open offer of a request (caller owns), or NULL if none; fails
//  the test if there is more than one.
static json_t *
s_open_offer (fixture_t *self, const char *request_id)
{
    json_t *open = en_bstore_offers_open (self->store, request_id, 0);
    assert_true (json_array_size (open) <= 1);
    json_t *offer = json_incref (json_array_get (open, 0));
    json_decref (open);
    return offer;
}

//  Expert of the open offer of a request into buf ("" when none).
static const char *
s_offered (fixture_t *self, const char *request_id, char *buf, size_t size)
{
    json_t *offer = s_open_offer (self, request_id);
    snprintf (buf, size, "%s", offer ? en_json_str (offer, "expert") : "");
    json_decref (offer);
    return buf;
}

static void
s_assert_offered (fixture_t *self, const char *request_id, const char *expert)
{
    char buf [64];
    s_offered (self, request_id, buf, sizeof buf);
    if (!streq (buf, expert))
        fail_msg ("request %s offered to '%s', expected '%s'", request_id, buf, expert);
}

//  Id of the open offer into buf.
static const char *
s_offer_id (fixture_t *self, const char *request_id, char *buf, size_t size)
{
    json_t *offer = s_open_offer (self, request_id);
    assert_non_null (offer);
    snprintf (buf, size, "%s", en_json_str (offer, "id"));
    json_decref (offer);
    return buf;
}

static void
s_assert_state (fixture_t *self, const char *request_id, const char *state)
{
    json_t *request = en_bstore_request (self->store, request_id);
    assert_non_null (request);
    if (!streq (en_json_str (request, "state"), state))
        fail_msg ("request %s is %s, expected %s", request_id, en_json_str (request, "state"), state);
    json_decref (request);
}

static int64_t
s_load (fixture_t *self, const char *expert_id)
{
    json_t *expert = en_bstore_expert (self->store, expert_id);
    assert_non_null (expert);
    int64_t load = en_json_int (expert, "load", -1);
    json_decref (expert);
    return load;
}

//  Messages queued for dest with command (and body.offer == offer when
//  given).
static int64_t
s_queued (fixture_t *self, const char *dest, const char *command, const char *offer)
{
    return en_db_int (en_bstore_db (self->store),
        "SELECT count(*) FROM outbox WHERE dest = ? AND command = ?"
        " AND (?3 IS NULL OR json_extract (body, '$.offer') = ?3)",
        "sss", dest, command, offer);
}

//  Offers ever made of a request to an expert.
static int64_t
s_offers_to (fixture_t *self, const char *request_id, const char *expert)
{
    return en_db_int (en_bstore_db (self->store),
        "SELECT count(*) FROM offers WHERE request_id = ? AND expert = ?", "ss", request_id, expert);
}

static void
s_accept (fixture_t *self, const char *node, const char *region, const char *offer_id)
{
    s_ok (self, node, region, "ACCEPT", json_pack ("{s:s}", "offer", offer_id));
}

static void
s_accept_open (fixture_t *self, const char *node, const char *region, const char *request_id)
{
    char offer [128];
    s_accept (self, node, region, s_offer_id (self, request_id, offer, sizeof offer));
}

static void
s_decline_open (fixture_t *self, const char *node, const char *region, const char *request_id)
{
    char offer [128];
    s_offer_id (self, request_id, offer, sizeof offer);
    s_ok (self, node, region, "DECLINE", json_pack ("{s:s, s:s}", "offer", offer, "reason", "geen ruimte"));
}

static void
s_close (fixture_t *self, const char *node, const char *region, const char *request_id)
{
    s_ok (self, node, region, "CLOSE", json_pack ("{s:s, s:s}", "request", request_id,
                                                  "outcome", "passende hulp gerealiseerd"));
}

//  Event types of a request, joined with spaces, into buf.
static const char *
s_events (fixture_t *self, const char *request_id, char *buf, size_t size)
{
    return test_join (en_bstore_events (self->store, request_id), "type", buf, size);
}

//  ---------------------------------------------------------------------

static void
test_match_all_tags (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    //  se-tw-01 holds only one of the two tags and would win the id
    //  tie-break; se-tw-03 holds the other one.
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2},"
        " {\"id\":\"se-tw-02\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"autisme\",\"jggz\",\"trauma\"],\"capacity\":2},"
        " {\"id\":\"se-tw-03\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"jggz\"],\"capacity\":2}]");
    s_submit (self, "node-twente", "twente-0001", "twente", "hoog", "consultatie-advies", "[\"trauma\",\"jggz\"]");
    s_assert_state (self, "twente-0001", "offered");
    s_assert_offered (self, "twente-0001", "se-tw-02");

    //  The OFFER went to the expert's node, with the summary
    char offer_id [128];
    s_offer_id (self, "twente-0001", offer_id, sizeof offer_id);
    assert_string_equal (offer_id, "twente-0001-o1");
    assert_int_equal (s_queued (self, "node-twente", "OFFER", offer_id), 1);
    assert_int_equal (en_db_int (en_bstore_db (self->store),
        "SELECT count(*) FROM outbox WHERE command = 'OFFER'"
        " AND json_extract (body, '$.expert') = 'se-tw-02'"
        " AND json_extract (body, '$.request.region') = 'twente'"
        " AND json_extract (body, '$.kind') = 'offer'", NULL), 1);
    //  ... and the origin was told
    assert_int_equal (s_queued (self, "node-twente", "STATUS", offer_id), 1);

    //  Once se-tw-02 declines nobody else holds both tags: no partial
    //  match is ever offered
    s_decline_open (self, "node-twente", "twente", "twente-0001");
    assert_null (s_open_offer (self, "twente-0001"));
    assert_int_equal (s_offers_to (self, "twente-0001", "se-tw-01"), 0);
    assert_int_equal (s_offers_to (self, "twente-0001", "se-tw-03"), 0);
    assert_int_equal (en_bstore_offer_count (self->store, "twente-0001"), 1);
    s_assert_state (self, "twente-0001", "hiaat");

    //  A request for a tag se-tw-01 holds goes to se-tw-01 (id order)
    s_submit (self, "node-twente", "twente-0002", "twente", "hoog", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0002", "se-tw-01");
}

static void
test_capacity (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    //  se-tw-01 is preferred for twente requests (own region) as long as
    //  it has room
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":1},"
        " {\"id\":\"se-tw-09\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":0}]");
    s_publish (self, "node-ijsselland", "ijsselland",
        "[{\"id\":\"se-ij-01\",\"role\":\"superexpert\",\"region\":\"ijsselland\",\"expertise\":[\"trauma\"],\"capacity\":1}]");

    s_submit (self, "node-twente", "twente-0001", "twente", "hoog", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0001", "se-tw-01");
    //  An open offer is not load
    assert_int_equal (s_load (self, "se-tw-01"), 0);
    s_accept_open (self, "node-twente", "twente", "twente-0001");
    s_assert_state (self, "twente-0001", "accepted");
    assert_int_equal (s_load (self, "se-tw-01"), 1);

    //  Full (load == capacity): skipped in favour of another region;
    //  capacity 0 is never offered
    s_submit (self, "node-twente", "twente-0002", "twente", "hoog", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0002", "se-ij-01");
    assert_int_equal (s_offers_to (self, "twente-0002", "se-tw-01"), 0);
    assert_int_equal (s_offers_to (self, "twente-0002", "se-tw-09"), 0);
    s_accept_open (self, "node-ijsselland", "ijsselland", "twente-0002");
    assert_int_equal (s_load (self, "se-ij-01"), 1);

    //  Everyone full: nobody is offered
    s_submit (self, "node-twente", "twente-0003", "twente", "hoog", "consultatie-advies", "[\"trauma\"]");
    assert_null (s_open_offer (self, "twente-0003"));
    s_assert_state (self, "twente-0003", "hiaat");

    //  Closing frees the capacity
    s_close (self, "node-twente", "twente", "twente-0001");
    s_assert_state (self, "twente-0001", "closed");
    assert_int_equal (s_load (self, "se-tw-01"), 0);
    assert_int_equal (s_load (self, "se-ij-01"), 1);
    s_submit (self, "node-twente", "twente-0004", "twente", "hoog", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0004", "se-tw-01");
}

static void
test_absent_expert_skipped (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char experts [512];
    snprintf (experts, sizeof experts,
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2,\"absent_until\":%lld},"
        " {\"id\":\"se-tw-02\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2,\"absent_until\":%lld}]",
        (long long) (en_now_ms () + 86400000LL), (long long) (en_now_ms () - 1000));
    s_publish (self, "node-twente", "twente", experts);
    s_submit (self, "node-twente", "twente-0001", "twente", "crisis", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0001", "se-tw-02");

    //  An expert the node no longer lists is not offered either
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-03\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_submit (self, "node-twente", "twente-0002", "twente", "crisis", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0002", "se-tw-03");
}

static void
test_region_preference (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    //  "se-ij-01" sorts before "se-tw-0x": only the region rule keeps it
    //  from twente's requests
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":3},"
        " {\"id\":\"se-tw-02\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":3}]");
    s_publish (self, "node-ijsselland", "ijsselland",
        "[{\"id\":\"se-ij-01\",\"role\":\"superexpert\",\"region\":\"ijsselland\",\"expertise\":[\"trauma\"],\"capacity\":3}]");

    //  Own region before an equally loaded other region
    s_submit (self, "node-twente", "twente-0001", "twente", "hoog", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0001", "se-tw-01");
    s_submit (self, "node-ijsselland", "ijsselland-0001", "ijsselland", "hoog", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "ijsselland-0001", "se-ij-01");

    //  Least loaded first within the own region: se-tw-01 now has one
    //  case, so se-tw-02 is offered although its id sorts later
    s_accept_open (self, "node-twente", "twente", "twente-0001");
    assert_int_equal (s_load (self, "se-tw-01"), 1);
    s_submit (self, "node-twente", "twente-0002", "twente", "hoog", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0002", "se-tw-02");

    //  Own region still comes before load: with both twente experts at
    //  load 1 and se-ij-01 at 0, twente's request stays in twente
    s_accept_open (self, "node-twente", "twente", "twente-0002");
    assert_int_equal (s_load (self, "se-tw-02"), 1);
    assert_int_equal (s_load (self, "se-ij-01"), 0);
    s_submit (self, "node-twente", "twente-0003", "twente", "hoog", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0003", "se-tw-01");

    //  When the own region declines, the other region is next
    s_decline_open (self, "node-twente", "twente", "twente-0003");
    s_assert_offered (self, "twente-0003", "se-tw-02");
    s_decline_open (self, "node-twente", "twente", "twente-0003");
    s_assert_offered (self, "twente-0003", "se-ij-01");
}

static void
test_role_rule (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    //  The superexpert sorts first by id and holds the same tags
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2},"
        " {\"id\":\"tw-pr-01\",\"role\":\"procesregisseur\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_submit (self, "node-twente", "twente-0001", "twente", "hoog", "procesregie", "[\"trauma\"]");
    s_assert_offered (self, "twente-0001", "tw-pr-01");
    //  Declined by the procesregisseur: still never to a superexpert
    s_decline_open (self, "node-twente", "twente", "twente-0001");
    assert_int_equal (s_offers_to (self, "twente-0001", "se-tw-01"), 0);
    s_assert_state (self, "twente-0001", "hiaat");

    //  And advice goes to the superexpert, not the procesregisseur
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-09\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2},"
        " {\"id\":\"pr-tw-01\",\"role\":\"procesregisseur\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_submit (self, "node-twente", "twente-0002", "twente", "hoog", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0002", "se-tw-09");
}

static void
test_decline (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2},"
        " {\"id\":\"se-tw-02\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2},"
        " {\"id\":\"se-tw-03\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_submit (self, "node-twente", "twente-0001", "twente", "hoog", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0001", "se-tw-01");
    char first [128];
    s_offer_id (self, "twente-0001", first, sizeof first);

    //  A decline needs a reason
    s_refused (self, "node-twente", "twente", "DECLINE", json_pack ("{s:s}", "offer", first), EN_ERR_INVALID);
    s_assert_offered (self, "twente-0001", "se-tw-01");

    s_decline_open (self, "node-twente", "twente", "twente-0001");
    json_t *offer = en_bstore_offer (self->store, first);
    assert_string_equal (en_json_str (offer, "state"), "declined");
    assert_string_equal (en_json_str (offer, "reason"), "geen ruimte");
    json_decref (offer);
    s_assert_offered (self, "twente-0001", "se-tw-02");
    s_assert_state (self, "twente-0001", "offered");
    //  Declining the same offer again is a conflict
    s_refused (self, "node-twente", "twente", "DECLINE",
               json_pack ("{s:s, s:s}", "offer", first, "reason", "nogmaals"), EN_ERR_CONFLICT);

    //  Republishing availability does not make a declined expert eligible
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":3},"
        " {\"id\":\"se-tw-02\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2},"
        " {\"id\":\"se-tw-03\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_decline_open (self, "node-twente", "twente", "twente-0001");
    s_assert_offered (self, "twente-0001", "se-tw-03");
    s_decline_open (self, "node-twente", "twente", "twente-0001");
    assert_null (s_open_offer (self, "twente-0001"));
    s_assert_state (self, "twente-0001", "hiaat");

    //  Each expert was offered exactly once
    assert_int_equal (s_offers_to (self, "twente-0001", "se-tw-01"), 1);
    assert_int_equal (s_offers_to (self, "twente-0001", "se-tw-02"), 1);
    assert_int_equal (s_offers_to (self, "twente-0001", "se-tw-03"), 1);
    char events [256];
    assert_string_equal (s_events (self, "twente-0001", events, sizeof events),
        "submitted offered declined offered declined offered declined hiaat");

    //  A declined expert remains available for other requests
    s_submit (self, "node-twente", "twente-0002", "twente", "hoog", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0002", "se-tw-01");
}

static void
test_timeout (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_router_set_deadline (self->router, "crisis", 1000);
    assert_int_equal (en_router_deadline (self->router, "crisis"), 1000);
    //  Other urgencies keep their own deadlines
    assert_true (en_router_deadline (self->router, "hoog") > 1000);

    //  No twente expert: the request goes out of region, first to
    //  se-ah-01 (id order), then se-ij-01. Origin, expired expert and next
    //  expert are three different nodes, so each message's destination
    //  can be told apart.
    s_publish (self, "node-achterhoek", "achterhoek",
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_publish (self, "node-ijsselland", "ijsselland",
        "[{\"id\":\"se-ij-01\",\"role\":\"superexpert\",\"region\":\"ijsselland\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_submit (self, "node-twente", "twente-0001", "twente", "crisis", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0001", "se-ah-01");
    json_t *offer = s_open_offer (self, "twente-0001");
    char first [128];
    snprintf (first, sizeof first, "%s", en_json_str (offer, "id"));
    int64_t deadline = en_json_int (offer, "deadline", 0);
    int64_t created = en_json_int (offer, "created", 0);
    assert_true (deadline - created <= 1000 && deadline - created > 500);
    assert_int_equal (en_bstore_next_deadline (self->store), deadline);
    json_decref (offer);

    en_db_t *db = en_bstore_db (self->store);
    //  Not yet due
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_expire (self->router, deadline - 1), 0);
    assert_int_equal (en_db_commit (db), 0);
    s_assert_offered (self, "twente-0001", "se-ah-01");
    assert_int_equal (s_queued (self, "node-achterhoek", "WITHDRAW", NULL), 0);

    //  Due
    int64_t now = en_now_ms ();
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_expire (self->router, now + 2000), 1);
    assert_int_equal (en_db_commit (db), 0);

    offer = en_bstore_offer (self->store, first);
    assert_string_equal (en_json_str (offer, "state"), "expired");
    json_decref (offer);
    s_assert_offered (self, "twente-0001", "se-ij-01");
    s_assert_state (self, "twente-0001", "offered");
    //  WITHDRAW to the expired expert's node only
    assert_int_equal (s_queued (self, "node-achterhoek", "WITHDRAW", first), 1);
    assert_int_equal (en_db_int (db,
        "SELECT count(*) FROM outbox WHERE dest = 'node-achterhoek' AND command = 'WITHDRAW'"
        " AND json_extract (body, '$.reason') = 'expired'"
        " AND json_extract (body, '$.expert') = 'se-ah-01'"
        " AND json_extract (body, '$.request_id') = 'twente-0001'", NULL), 1);
    assert_int_equal (s_queued (self, "node-twente", "WITHDRAW", NULL), 0);
    assert_int_equal (s_queued (self, "node-ijsselland", "WITHDRAW", NULL), 0);
    assert_int_equal (s_queued (self, "node-ijsselland", "OFFER", NULL), 1);
    //  The origin is told of the expiry
    assert_int_equal (en_db_int (db,
        "SELECT count(*) FROM outbox WHERE dest = 'node-twente' AND command = 'STATUS'"
        " AND json_extract (body, '$.event') = 'expired'"
        " AND json_extract (body, '$.expert') = 'se-ah-01'", NULL), 1);
    char events [256];
    assert_string_equal (s_events (self, "twente-0001", events, sizeof events),
                         "submitted offered expired offered");

    //  The expired offer cannot be accepted any more
    s_refused (self, "node-achterhoek", "achterhoek", "ACCEPT", json_pack ("{s:s}", "offer", first),
               EN_ERR_CONFLICT);

    //  When the second offer expires too, the first expert is not asked
    //  again: nobody is left
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_expire (self->router, en_now_ms () + 2000), 1);
    assert_int_equal (en_db_commit (db), 0);
    assert_int_equal (s_offers_to (self, "twente-0001", "se-ah-01"), 1);
    assert_int_equal (s_queued (self, "node-ijsselland", "WITHDRAW", NULL), 1);
    s_assert_state (self, "twente-0001", "hiaat");
    assert_int_equal (en_bstore_next_deadline (self->store), 0);
}

static void
test_escalation (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    //  Nobody holds "eetstoornis". pr-tw-01 is a regional (not
    //  bovenregionale) procesregisseur in the request's own region.
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2},"
        " {\"id\":\"pr-tw-01\",\"role\":\"procesregisseur\",\"region\":\"twente\",\"expertise\":[],\"capacity\":2,\"bovenregionaal\":false}]");
    s_publish (self, "node-ijsselland", "ijsselland",
        "[{\"id\":\"bpr-ij-01\",\"role\":\"procesregisseur\",\"region\":\"ijsselland\",\"capacity\":2,\"bovenregionaal\":true}]");

    s_submit (self, "node-twente", "twente-0001", "twente", "crisis", "consultatie-advies", "[\"eetstoornis\"]");
    s_assert_state (self, "twente-0001", "escalated");
    json_t *offer = s_open_offer (self, "twente-0001");
    assert_non_null (offer);
    assert_string_equal (en_json_str (offer, "expert"), "bpr-ij-01");
    assert_string_equal (en_json_str (offer, "kind"), "escalation");
    assert_string_equal (en_json_str (offer, "node"), "node-ijsselland");
    char offer_id [128];
    snprintf (offer_id, sizeof offer_id, "%s", en_json_str (offer, "id"));
    json_decref (offer);
    assert_int_equal (en_db_int (en_bstore_db (self->store),
        "SELECT count(*) FROM outbox WHERE dest = 'node-ijsselland' AND command = 'OFFER'"
        " AND json_extract (body, '$.kind') = 'escalation'", NULL), 1);
    assert_int_equal (s_offers_to (self, "twente-0001", "pr-tw-01"), 0);
    assert_int_equal (s_offers_to (self, "twente-0001", "se-tw-01"), 0);
    json_t *hiaten = en_bstore_hiaten (self->store);
    assert_int_equal (json_array_size (hiaten), 0);
    json_decref (hiaten);

    //  The bovenregionale procesregisseur accepts
    s_accept (self, "node-ijsselland", "ijsselland", offer_id);
    s_assert_state (self, "twente-0001", "accepted");
    json_t *request = en_bstore_request (self->store, "twente-0001");
    assert_string_equal (en_json_str (request, "expert"), "bpr-ij-01");
    json_decref (request);
    assert_int_equal (s_load (self, "bpr-ij-01"), 1);
    char events [256];
    assert_string_equal (s_events (self, "twente-0001", events, sizeof events),
                         "submitted escalated accepted");
}

static void
test_hiaat (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2},"
        " {\"id\":\"pr-tw-01\",\"role\":\"procesregisseur\",\"region\":\"twente\",\"expertise\":[],\"capacity\":2}]");
    s_submit (self, "node-twente", "twente-0001", "twente", "regulier", "consultatie-advies", "[\"eetstoornis\"]");
    s_assert_state (self, "twente-0001", "hiaat");
    assert_int_equal (en_bstore_offer_count (self->store, "twente-0001"), 0);
    json_t *hiaten = en_bstore_hiaten (self->store);
    assert_int_equal (json_array_size (hiaten), 1);
    json_t *row = json_array_get (hiaten, 0);
    assert_string_equal (en_json_str (row, "request_id"), "twente-0001");
    assert_string_equal (en_json_str (row, "region"), "twente");
    assert_string_equal (en_json_str (row, "urgency"), "regulier");
    assert_string_equal (en_json_str (row, "question_type"), "consultatie-advies");
    assert_string_equal (en_json_str (row, "state"), "hiaat");
    assert_string_equal (json_string_value (json_array_get (json_object_get (row, "expertise"), 0)),
                         "eetstoornis");
    json_decref (hiaten);
    //  The origin hears about it
    assert_int_equal (en_db_int (en_bstore_db (self->store),
        "SELECT count(*) FROM outbox WHERE dest = 'node-twente' AND command = 'STATUS'"
        " AND json_extract (body, '$.state') = 'hiaat'"
        " AND json_extract (body, '$.request') = 'twente-0001'", NULL), 1);

    //  A bovenregionale procesregisseur without free capacity does not help
    s_publish (self, "node-ijsselland", "ijsselland",
        "[{\"id\":\"bpr-ij-01\",\"role\":\"procesregisseur\",\"region\":\"ijsselland\",\"capacity\":0,\"bovenregionaal\":true}]");
    s_submit (self, "node-twente", "twente-0002", "twente", "regulier", "consultatie-advies", "[\"eetstoornis\"]");
    s_assert_state (self, "twente-0002", "hiaat");
    hiaten = en_bstore_hiaten (self->store);
    assert_int_equal (json_array_size (hiaten), 2);
    json_decref (hiaten);

    //  One with room turns the next such request into an escalation
    s_publish (self, "node-ijsselland", "ijsselland",
        "[{\"id\":\"bpr-ij-01\",\"role\":\"procesregisseur\",\"region\":\"ijsselland\",\"capacity\":1,\"bovenregionaal\":true}]");
    s_submit (self, "node-twente", "twente-0003", "twente", "regulier", "consultatie-advies", "[\"eetstoornis\"]");
    s_assert_state (self, "twente-0003", "escalated");
    hiaten = en_bstore_hiaten (self->store);
    assert_int_equal (json_array_size (hiaten), 2);
    json_decref (hiaten);
}

static void
test_lifecycle_advice_close (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_publish (self, "node-ijsselland", "ijsselland",
        "[{\"id\":\"se-ij-01\",\"role\":\"superexpert\",\"region\":\"ijsselland\",\"expertise\":[\"lvb\"],\"capacity\":2}]");
    s_submit (self, "node-twente", "twente-0001", "twente", "hoog", "consultatie-advies", "[\"lvb\"]");
    char offer [128];
    s_offer_id (self, "twente-0001", offer, sizeof offer);
    //  Advice before accepting is refused
    s_refused (self, "node-ijsselland", "ijsselland", "ADVICE",
               json_pack ("{s:s, s:s}", "offer", offer, "text", "te vroeg"), EN_ERR_CONFLICT);
    s_accept (self, "node-ijsselland", "ijsselland", offer);
    //  Accepting twice is a conflict
    s_refused (self, "node-ijsselland", "ijsselland", "ACCEPT", json_pack ("{s:s}", "offer", offer),
               EN_ERR_CONFLICT);
    //  Advice needs text
    s_refused (self, "node-ijsselland", "ijsselland", "ADVICE", json_pack ("{s:s}", "offer", offer),
               EN_ERR_INVALID);
    s_ok (self, "node-ijsselland", "ijsselland", "ADVICE",
          json_pack ("{s:s, s:s}", "offer", offer, "text", "Start met een gezamenlijk plan."));
    s_assert_state (self, "twente-0001", "advice");
    assert_int_equal (s_load (self, "se-ij-01"), 1);
    //  The advice travels to the origin only
    assert_int_equal (en_db_int (en_bstore_db (self->store),
        "SELECT count(*) FROM outbox WHERE dest = 'node-twente' AND command = 'STATUS'"
        " AND json_extract (body, '$.advice') = 'Start met een gezamenlijk plan.'", NULL), 1);
    assert_int_equal (en_db_int (en_bstore_db (self->store),
        "SELECT count(*) FROM outbox WHERE dest <> 'node-twente' AND body LIKE '%gezamenlijk%'", NULL), 0);

    s_close (self, "node-twente", "twente", "twente-0001");
    s_assert_state (self, "twente-0001", "closed");
    json_t *request = en_bstore_request (self->store, "twente-0001");
    assert_string_equal (en_json_str (request, "expert"), "se-ij-01");
    json_decref (request);
    assert_int_equal (s_load (self, "se-ij-01"), 0);
    //  Closing twice, and advice after closing, are conflicts
    s_refused (self, "node-twente", "twente", "CLOSE", json_pack ("{s:s}", "request", "twente-0001"),
               EN_ERR_CONFLICT);
    s_refused (self, "node-ijsselland", "ijsselland", "ADVICE",
               json_pack ("{s:s, s:s}", "offer", offer, "text", "nog iets"), EN_ERR_CONFLICT);
    char events [256];
    assert_string_equal (s_events (self, "twente-0001", events, sizeof events),
                         "submitted offered accepted advice closed");
}

static void
test_close_withdraws_open_offer (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_publish (self, "node-ijsselland", "ijsselland",
        "[{\"id\":\"se-ij-01\",\"role\":\"superexpert\",\"region\":\"ijsselland\",\"expertise\":[\"lvb\"],\"capacity\":2}]");
    s_submit (self, "node-twente", "twente-0001", "twente", "hoog", "consultatie-advies", "[\"lvb\"]");
    char offer [128];
    s_offer_id (self, "twente-0001", offer, sizeof offer);
    s_close (self, "node-twente", "twente", "twente-0001");
    s_assert_state (self, "twente-0001", "closed");
    assert_null (s_open_offer (self, "twente-0001"));
    json_t *row = en_bstore_offer (self->store, offer);
    assert_string_equal (en_json_str (row, "state"), "withdrawn");
    json_decref (row);
    assert_int_equal (s_queued (self, "node-ijsselland", "WITHDRAW", offer), 1);
    //  The withdrawn offer can no longer be accepted
    s_refused (self, "node-ijsselland", "ijsselland", "ACCEPT", json_pack ("{s:s}", "offer", offer),
               EN_ERR_CONFLICT);
}

//  --- refusals ----------------------------------------------------------

static void
test_refuse_accept_other_node (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_submit (self, "node-twente", "twente-0001", "twente", "hoog", "consultatie-advies", "[\"trauma\"]");
    char offer [128];
    s_offer_id (self, "twente-0001", offer, sizeof offer);
    s_refused (self, "node-ijsselland", "ijsselland", "ACCEPT", json_pack ("{s:s}", "offer", offer),
               EN_ERR_FORBIDDEN);
    s_refused (self, "node-ijsselland", "ijsselland", "DECLINE",
               json_pack ("{s:s, s:s}", "offer", offer, "reason", "niet van ons"), EN_ERR_FORBIDDEN);
    //  Nothing changed
    s_assert_state (self, "twente-0001", "offered");
    s_assert_offered (self, "twente-0001", "se-tw-01");
    assert_int_equal (s_load (self, "se-tw-01"), 0);
    //  Unknown and malformed offers
    s_refused (self, "node-twente", "twente", "ACCEPT", json_pack ("{s:s}", "offer", "twente-0001-o9"),
               EN_ERR_NOT_FOUND);
    s_refused (self, "node-twente", "twente", "ACCEPT", json_pack ("{s:s}", "offer", "Bad Offer"),
               EN_ERR_INVALID);
    s_refused (self, "node-twente", "twente", "ACCEPT", json_object (), EN_ERR_INVALID);
}

static void
test_refuse_accept_expired (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_router_set_deadline (self->router, "crisis", 1000);
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_submit (self, "node-twente", "twente-0001", "twente", "crisis", "consultatie-advies", "[\"trauma\"]");
    char offer [128];
    s_offer_id (self, "twente-0001", offer, sizeof offer);
    en_db_t *db = en_bstore_db (self->store);
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_expire (self->router, en_now_ms () + 2000), 1);
    assert_int_equal (en_db_commit (db), 0);
    s_refused (self, "node-twente", "twente", "ACCEPT", json_pack ("{s:s}", "offer", offer),
               EN_ERR_CONFLICT);
    assert_int_equal (s_load (self, "se-tw-01"), 0);
    //  The only candidate expired: nobody left
    s_assert_state (self, "twente-0001", "hiaat");
}

static void
test_refuse_duplicate_request (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_submit (self, "node-twente", "twente-0001", "twente", "hoog", "consultatie-advies", "[\"trauma\"]");
    s_refused (self, "node-twente", "twente", "SUBMIT",
               s_submit_body ("twente-0001", "twente", "crisis", "consultatie-advies", "[\"trauma\"]"),
               EN_ERR_CONFLICT);
    //  The first request is untouched
    json_t *request = en_bstore_request (self->store, "twente-0001");
    assert_string_equal (en_json_str (request, "urgency"), "hoog");
    json_decref (request);
    assert_int_equal (en_bstore_offer_count (self->store, "twente-0001"), 1);
    //  Invalid summaries are refused with 422
    s_refused (self, "node-twente", "twente", "SUBMIT",
               s_submit_body ("twente-0002", "twente", "spoed", "consultatie-advies", "[\"trauma\"]"),
               EN_ERR_INVALID);
    assert_null (en_bstore_request (self->store, "twente-0002"));
}

static void
test_refuse_foreign_region (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_router_add_region (self->router, "twente");
    en_router_add_region (self->router, "ijsselland");
    en_router_add_region (self->router, "twente");      //  twice is harmless
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_refused (self, "node-twente", "twente", "SUBMIT",
               s_submit_body ("achterhoek-0001", "achterhoek", "hoog", "consultatie-advies", "[\"trauma\"]"),
               EN_ERR_INVALID);
    assert_null (en_bstore_request (self->store, "achterhoek-0001"));
    assert_int_equal (en_outbox_depth (en_bstore_outbox (self->store), NULL), 0);
    s_submit (self, "node-twente", "twente-0001", "twente", "hoog", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0001", "se-tw-01");
    s_submit (self, "node-ijsselland", "ijsselland-0001", "ijsselland", "hoog", "consultatie-advies", "[\"trauma\"]");
    s_assert_state (self, "ijsselland-0001", "offered");
}

static void
test_open_offer_reserves_capacity (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    //  se-tw-01 (capacity 1) would win every tie; while its offer for the
    //  first request is open, it must not be offered a second one
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":1},"
        " {\"id\":\"se-tw-02\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":1}]");
    s_submit (self, "node-twente", "twente-0001", "twente", "crisis", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0001", "se-tw-01");
    s_submit (self, "node-twente", "twente-0002", "twente", "crisis", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0002", "se-tw-02");
    //  Both accept: nobody is over capacity
    s_accept_open (self, "node-twente", "twente", "twente-0001");
    s_accept_open (self, "node-twente", "twente", "twente-0002");
    assert_int_equal (s_load (self, "se-tw-01"), 1);
    assert_int_equal (s_load (self, "se-tw-02"), 1);
    //  A declined offer gives the place back
    s_close (self, "node-twente", "twente", "twente-0001");
    s_submit (self, "node-twente", "twente-0003", "twente", "crisis", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0003", "se-tw-01");
    s_decline_open (self, "node-twente", "twente", "twente-0003");
    s_assert_state (self, "twente-0003", "hiaat");
    s_submit (self, "node-twente", "twente-0004", "twente", "crisis", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0004", "se-tw-01");
}

static void
test_refuse_accept_when_full (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":1}]");
    s_submit (self, "node-twente", "twente-0001", "twente", "hoog", "consultatie-advies", "[\"trauma\"]");
    char offer [128];
    s_offer_id (self, "twente-0001", offer, sizeof offer);
    //  The region lowers the expert's capacity to 0 while the offer is open
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":0}]");
    s_refused (self, "node-twente", "twente", "ACCEPT", json_pack ("{s:s}", "offer", offer), EN_ERR_CONFLICT);
    assert_int_equal (s_load (self, "se-tw-01"), 0);
    s_assert_state (self, "twente-0001", "offered");
}

static void
test_refuse_submit_for_other_region (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_router_add_region (self->router, "twente");
    en_router_add_region (self->router, "ijsselland");
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    //  A region's node cannot speak for another region
    s_refused (self, "node-twente", "twente", "SUBMIT",
               s_submit_body ("ijsselland-0001", "ijsselland", "hoog", "consultatie-advies", "[\"trauma\"]"),
               EN_ERR_FORBIDDEN);
    assert_null (en_bstore_request (self->store, "ijsselland-0001"));
    //  The expertisecentrum's node (not a region) may submit for any region
    s_ok (self, "ec-overijssel", "overijssel", "SUBMIT",
          s_submit_body ("twente-0009", "twente", "hoog", "consultatie-advies", "[\"trauma\"]"));
    s_assert_offered (self, "twente-0009", "se-tw-01");
}

static void
test_refuse_close_not_origin (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_submit (self, "node-twente", "twente-0001", "twente", "hoog", "consultatie-advies", "[\"trauma\"]");
    s_accept_open (self, "node-twente", "twente", "twente-0001");
    s_refused (self, "node-ijsselland", "ijsselland", "CLOSE", json_pack ("{s:s}", "request", "twente-0001"),
               EN_ERR_FORBIDDEN);
    s_assert_state (self, "twente-0001", "accepted");
    assert_int_equal (s_load (self, "se-tw-01"), 1);
    s_refused (self, "node-twente", "twente", "CLOSE", json_pack ("{s:s}", "request", "twente-9999"),
               EN_ERR_NOT_FOUND);
    s_refused (self, "node-twente", "twente", "CLOSE",
               json_pack ("{s:s, s:i}", "request", "twente-0001", "outcome", 1), EN_ERR_INVALID);
    s_assert_state (self, "twente-0001", "accepted");
}

static void
test_refuse_expert_of_other_node (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_refused (self, "node-ijsselland", "ijsselland", "AVAILABILITY",
        json_pack ("{s:o}", "experts", test_json (
            "[{\"id\":\"se-ij-01\",\"role\":\"superexpert\",\"region\":\"ijsselland\",\"expertise\":[\"lvb\"],\"capacity\":2},"
            " {\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"ijsselland\",\"expertise\":[\"lvb\"],\"capacity\":9}]")),
        EN_ERR_CONFLICT);
    //  Nothing of the refused list was stored
    json_t *expert = en_bstore_expert (self->store, "se-tw-01");
    assert_string_equal (en_json_str (expert, "node"), "node-twente");
    assert_string_equal (en_json_str (expert, "region"), "twente");
    assert_int_equal (en_json_int (expert, "capacity", -1), 2);
    json_decref (expert);
    assert_null (en_bstore_expert (self->store, "se-ij-01"));

    //  Experts must be of the node's own region, and valid
    s_refused (self, "node-ijsselland", "ijsselland", "AVAILABILITY",
        json_pack ("{s:o}", "experts", test_json (
            "[{\"id\":\"se-ij-02\",\"role\":\"superexpert\",\"region\":\"twente\",\"capacity\":2}]")),
        EN_ERR_INVALID);
    s_refused (self, "node-ijsselland", "ijsselland", "AVAILABILITY",
        json_pack ("{s:o}", "experts", test_json (
            "[{\"id\":\"se-ij-02\",\"role\":\"superexpert\",\"region\":\"ijsselland\",\"capacity\":2,\"naam\":\"x\"}]")),
        EN_ERR_INVALID);
    s_refused (self, "node-ijsselland", "ijsselland", "AVAILABILITY", json_object (), EN_ERR_INVALID);
    assert_null (en_bstore_expert (self->store, "se-ij-02"));
    //  Commands a broker does not take
    s_refused (self, "node-twente", "twente", "OFFER", json_object (), EN_ERR_BAD_REQUEST);
}

//  ---------------------------------------------------------------------
//  A hiaat is routed again when what it lacked appears (issue 10, item 11)

static int
s_retry (fixture_t *self)
{
    return test_retry_hiaten (self->router, self->store);
}

static void
s_assert_events (fixture_t *self, const char *request_id, const char *expected)
{
    char buf [512];
    s_events (self, request_id, buf, sizeof buf);
    if (!streq (buf, expected))
        fail_msg ("events of %s are '%s', expected '%s'", request_id, buf, expected);
}

static int64_t
s_statuses (fixture_t *self, const char *request_id)
{
    return en_db_int (en_bstore_db (self->store),
        "SELECT count(*) FROM outbox WHERE dest = 'node-twente' AND command = 'STATUS'"
        " AND json_extract (body, '$.request') = ?", "s", request_id);
}

static void
test_hiaat_rerouted_when_expert_appears (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_submit (self, "node-twente", "twente-0001", "twente", "regulier", "consultatie-advies", "[\"eetstoornis\"]");
    s_assert_state (self, "twente-0001", "hiaat");
    //  Still nobody: nothing is written, however often it is tried
    int64_t statuses = s_statuses (self, "twente-0001");
    assert_int_equal (s_retry (self), 0);
    assert_int_equal (s_retry (self), 0);
    s_assert_events (self, "twente-0001", "submitted hiaat");
    assert_int_equal (s_statuses (self, "twente-0001"), statuses);

    //  An expert is published: the hiaat is offered to them, and says why
    s_publish (self, "node-achterhoek", "achterhoek",
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"eetstoornis\"],\"capacity\":1}]");
    assert_int_equal (s_retry (self), 1);
    s_assert_state (self, "twente-0001", "offered");
    s_assert_offered (self, "twente-0001", "se-ah-01");
    s_assert_events (self, "twente-0001", "submitted hiaat rerouted offered");
    assert_int_equal (en_db_int (en_bstore_db (self->store),
        "SELECT count(*) FROM outbox WHERE dest = 'node-twente' AND command = 'STATUS'"
        " AND json_extract (body, '$.event') = 'rerouted' AND json_extract (body, '$.state') = 'submitted'"
        " AND json_extract (body, '$.request') = 'twente-0001'", NULL), 1);
    assert_int_equal (s_retry (self), 0);

    //  Capacity frees: the second request (a hiaat while se-ah-01 was
    //  full) is offered when the first is closed
    s_submit (self, "node-twente", "twente-0002", "twente", "regulier", "consultatie-advies", "[\"eetstoornis\"]");
    s_assert_state (self, "twente-0002", "hiaat");
    s_accept_open (self, "node-achterhoek", "achterhoek", "twente-0001");
    assert_int_equal (s_retry (self), 0);
    s_assert_state (self, "twente-0002", "hiaat");
    s_close (self, "node-twente", "twente", "twente-0001");
    assert_int_equal (s_retry (self), 1);
    s_assert_offered (self, "twente-0002", "se-ah-01");
    s_assert_events (self, "twente-0002", "submitted hiaat rerouted offered");

    //  For a bounded time only: a hiaat older than the retry time of its
    //  urgency stays one (and 0 turns retrying off)
    s_submit (self, "node-twente", "twente-0003", "twente", "regulier", "consultatie-advies", "[\"autisme\"]");
    s_submit (self, "node-twente", "twente-0004", "twente", "crisis", "consultatie-advies", "[\"autisme\"]");
    assert_int_equal (en_db_exec (en_bstore_db (self->store),
        "UPDATE hiaten SET at = at - 25 * 3600 * 1000 WHERE request_id = 'twente-0003'", NULL), 0);
    en_router_set_hiaat_retry (self->router, "crisis", 0);
    s_publish (self, "node-achterhoek", "achterhoek",
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"eetstoornis\"],\"capacity\":1},"
        " {\"id\":\"se-ah-02\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"autisme\"],\"capacity\":2}]");
    assert_int_equal (s_retry (self), 0);
    s_assert_state (self, "twente-0003", "hiaat");
    s_assert_state (self, "twente-0004", "hiaat");
    en_router_set_hiaat_retry (self->router, "crisis", 3600 * 1000);
    assert_int_equal (s_retry (self), 1);
    s_assert_offered (self, "twente-0004", "se-ah-02");
    s_assert_state (self, "twente-0003", "hiaat");
}

//  An operator's re-offer of a hiaat asks again who let an offer expire
//  (not who declined), and says so when there is still nobody
static void
test_reoffer_hiaat_asks_again (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_publish (self, "node-achterhoek", "achterhoek",
        "[{\"id\":\"se-ah-01\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"trauma\"],\"capacity\":2},"
        " {\"id\":\"se-ah-02\",\"role\":\"superexpert\",\"region\":\"achterhoek\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    s_submit (self, "node-twente", "twente-0001", "twente", "crisis", "consultatie-advies", "[\"trauma\"]");
    s_assert_offered (self, "twente-0001", "se-ah-01");
    s_decline_open (self, "node-achterhoek", "achterhoek", "twente-0001");
    s_assert_offered (self, "twente-0001", "se-ah-02");
    //  se-ah-02 does not answer in time: nobody is left, a hiaat
    en_db_t *db = en_bstore_db (self->store);
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_expire (self->router, en_now_ms () + 3600 * 1000), 1);
    assert_int_equal (en_db_commit (db), 0);
    s_assert_state (self, "twente-0001", "hiaat");
    assert_int_equal (s_retry (self), 0);

    //  The operator re-offers: se-ah-02 (expired) is asked again, se-ah-01
    //  (declined) is not
    en_error_t error;
    assert_int_equal (en_db_begin (db), 0);
    if (en_router_operator (self->router, "anna", "reoffer", "twente-0001", "se-ah-02 is terug", &error))
        fail_msg ("reoffer refused: %d %s", error.code, error.reason);
    assert_int_equal (en_db_commit (db), 0);
    s_assert_state (self, "twente-0001", "offered");
    s_assert_offered (self, "twente-0001", "se-ah-02");
    assert_int_equal (s_offers_to (self, "twente-0001", "se-ah-02"), 2);
    assert_int_equal (s_offers_to (self, "twente-0001", "se-ah-01"), 1);
    s_assert_events (self, "twente-0001",
                     "submitted offered declined offered expired hiaat operator-reoffer offered");

    //  se-ah-02 declines now: a hiaat again, and a re-offer finds nobody:
    //  409, nothing written
    s_decline_open (self, "node-achterhoek", "achterhoek", "twente-0001");
    s_assert_state (self, "twente-0001", "hiaat");
    char before [512];
    s_events (self, "twente-0001", before, sizeof before);
    int64_t statuses = s_statuses (self, "twente-0001");
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_operator (self->router, "anna", "reoffer", "twente-0001", "nog eens", &error), -1);
    assert_int_equal (en_db_commit (db), 0);
    assert_int_equal (error.code, EN_ERR_CONFLICT);
    assert_non_null (strstr (error.reason, "nobody is available"));
    s_assert_state (self, "twente-0001", "hiaat");
    s_assert_events (self, "twente-0001", before);
    assert_int_equal (s_statuses (self, "twente-0001"), statuses);
}

//  The broker runs the PII guard itself on every free text it receives:
//  refused with 422 naming the field and the kind, and nothing stored.
static void
s_refused_pii (fixture_t *self, const char *node, const char *region, const char *command,
               json_t *body, const char *expected)
{
    en_error_t error;
    if (s_handle (self, node, region, command, body, &error) == 0)
        fail_msg ("%s with personal data was accepted", command);
    assert_int_equal (error.code, EN_ERR_INVALID);
    if (strncmp (error.reason, expected, strlen (expected)) != 0)
        fail_msg ("%s refused with '%s', expected '%s...'", command, error.reason, expected);
}

static json_t *
s_submit_question (const char *id, const char *question)
{
    json_t *body = s_submit_body (id, "twente", "hoog", "consultatie-advies", "[\"lvb\"]");
    json_object_set_new (json_object_get (body, "request"), "question", json_string (question));
    return body;
}

static void
test_pii_guard (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_db_t *db = en_bstore_db (self->store);
    s_publish (self, "node-ijsselland", "ijsselland",
        "[{\"id\":\"se-ij-01\",\"role\":\"superexpert\",\"region\":\"ijsselland\",\"expertise\":[\"lvb\"],\"capacity\":2},"
        " {\"id\":\"pr-ij-01\",\"role\":\"procesregisseur\",\"region\":\"ijsselland\",\"expertise\":[],"
        "  \"capacity\":2,\"bovenregionaal\":true}]");
    int64_t outbox = en_db_int (db, "SELECT count(*) FROM outbox", NULL);

    //  A SUBMIT sent straight to the broker with a BSN, a name and a date
    //  of birth in its question (synthetic data)
    s_refused_pii (self, "node-twente", "twente", "SUBMIT",
        s_submit_question ("twente-0001", "Zoon, BSN 123456782, geboren 14-03-2012, moeder Fatima "
                           "vraagt hulp."),
        "field 'request.question' contains a BSN (burgerservicenummer)");
    s_refused_pii (self, "node-twente", "twente", "SUBMIT",
        s_submit_question ("twente-0001", "Moeder Hanneke vraagt hulp voor haar zoon, BSN 123456782."),
        "field 'request.question' contains a name;");
    s_refused_pii (self, "node-twente", "twente", "SUBMIT",
        s_submit_question ("twente-0001", "Jongen, geboren 14-03-2012, loopt vast."),
        "field 'request.question' contains a date of birth");
    //  ... or in a tag
    json_t *body = s_submit_question ("twente-0001", "Welke behandeling past?");
    json_array_append_new (json_object_get (json_object_get (body, "request"), "expertise"),
                           json_string ("123456782"));
    s_refused_pii (self, "node-twente", "twente", "SUBMIT", body,
                   "field 'request.expertise[1]' contains a BSN");
    //  Nothing of it was stored, nothing queued
    assert_null (en_bstore_request (self->store, "twente-0001"));
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM requests", NULL), 0);
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM events", NULL), 0);
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM outbox", NULL), outbox);

    //  Clean text passes, the request id is not read as a number
    s_ok (self, "node-twente", "twente", "SUBMIT",
          s_submit_question ("twente-12345672", "Overleg op 14-03 met school; OTS sinds 2021."));
    char offer [128];
    s_offer_id (self, "twente-12345672", offer, sizeof offer);
    //  A decline reason, advice and a close outcome are free text too
    s_refused_pii (self, "node-ijsselland", "ijsselland", "DECLINE",
        json_pack ("{s:s, s:s}", "offer", offer, "reason", "ken het gezin, bel 06-12345678"),
        "field 'decline.reason' contains a phone number");
    s_accept (self, "node-ijsselland", "ijsselland", offer);
    s_refused_pii (self, "node-ijsselland", "ijsselland", "ADVICE",
        json_pack ("{s:s, s:s}", "offer", offer, "text", "Meld het gezin aan op de Kerkstraat 12."),
        "field 'advice.text' contains a street address");
    s_refused_pii (self, "node-twente", "twente", "CLOSE",
        json_pack ("{s:s, s:s}", "request", "twente-12345672", "outcome", "geplaatst, rekening NL91ABNA0417164300"),
        "field 'close.outcome' contains a bank account number");
    s_assert_state (self, "twente-12345672", "accepted");

    //  An operator's reason (control socket and dashboard both come here)
    en_error_t error;
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_operator (self->router, "anna", "close", "twente-12345672",
                                          "op verzoek, BSN 123456782", &error), -1);
    assert_int_equal (en_db_rollback (db), 0);
    assert_int_equal (error.code, EN_ERR_INVALID);
    assert_string_equal (error.reason, "field 'reason' contains a BSN (burgerservicenummer); nothing was stored "
                                       "(remove it; the summary must not identify the child)");
    s_assert_state (self, "twente-12345672", "accepted");
    char events [256];
    assert_string_equal (s_events (self, "twente-12345672", events, sizeof events), "submitted offered accepted");
    //  The refused text is nowhere in the store
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM events WHERE detail LIKE '%123456782%'"
                                     " OR detail LIKE '%06-1234%' OR detail LIKE '%NL91%'", NULL), 0);
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM outbox WHERE body LIKE '%Kerkstraat%'"
                                     " OR body LIKE '%123456782%' OR body LIKE '%NL91%'", NULL), 0);
    s_close (self, "node-twente", "twente", "twente-12345672");
}

//  The command table: who may send which command. A node's command from
//  a peer broker, or a peer's from a node, is refused with 400 and the
//  same words as before the table, and nothing is written.
static void
s_refused_from (fixture_t *self, const char *sender, bool is_peer, const char *command,
                const char *reason)
{
    en_msg_t *msg = en_msg_new (command, sender, json_object ());
    en_error_t error = { 0 };
    assert_int_equal (test_receive (self->router, self->store, sender, "twente", is_peer, msg, &error), -1);
    en_msg_destroy (&msg);
    assert_int_equal (error.code, EN_ERR_BAD_REQUEST);
    assert_string_equal (error.reason, reason);
}

static void
test_command_table (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_refused_from (self, "broker-west", true, "SUBMIT", "command SUBMIT is not sent by a peer broker");
    s_refused_from (self, "broker-west", true, "ACCEPT", "command ACCEPT is not sent by a peer broker");
    s_refused_from (self, "node-twente", false, "FORWARD", "command FORWARD is not sent to a broker");
    s_refused_from (self, "node-twente", false, "RECALL", "command RECALL is not sent to a broker");
    s_refused_from (self, "node-twente", false, "OFFER", "command OFFER is not sent to a broker");
    en_db_t *db = en_bstore_db (self->store);
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM requests", NULL), 0);
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM outbox", NULL), 0);
    //  A node's command from its node still reaches its handler
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2}]");
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM experts", NULL), 1);
}


//  ---------------------------------------------------------------------
//  Teams (EXPN/3): a request of several places

static const char *s_team_experts =
    "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":2},"
    " {\"id\":\"se-tw-02\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"lvb\"],\"capacity\":2},"
    " {\"id\":\"se-tw-03\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"lvb\",\"trauma\"],\"capacity\":2},"
    " {\"id\":\"ed-tw-01\",\"role\":\"ervaringsdeskundige\",\"region\":\"twente\",\"capacity\":1}]";

//  Submit a team: superexpert trauma, superexpert lvb, ervaringsdeskundige
static void
s_submit_team (fixture_t *self, const char *id, const char *places)
{
    json_t *body = s_submit_body (id, "twente", "hoog", "consultatie-advies", "[\"trauma\"]");
    json_object_set_new (json_object_get (body, "request"), "places", test_json (places));
    s_ok (self, "node-twente", "twente", "SUBMIT", body);
}

static const char *s_three_places =
    "[{\"role\":\"superexpert\",\"expertise\":[\"trauma\"]},"
    " {\"role\":\"superexpert\",\"expertise\":[\"lvb\"]},"
    " {\"role\":\"ervaringsdeskundige\",\"expertise\":[]}]";

//  The expert of the open offer of one place into buf ("" when none);
//  fails the test when the place has more than one open offer.
static const char *
s_place_offered (fixture_t *self, const char *request_id, int place, char *buf, size_t size)
{
    json_t *open = en_bstore_place_offers_open (self->store, request_id, place);
    assert_true (json_array_size (open) <= 1);
    snprintf (buf, size, "%s", json_array_size (open) ? en_json_str (json_array_get (open, 0), "expert") : "");
    json_decref (open);
    return buf;
}

static void
s_assert_place (fixture_t *self, const char *request_id, int place, const char *state, const char *offered)
{
    json_t *row = en_bstore_request_place (self->store, request_id, place);
    assert_non_null (row);
    char buf [64];
    s_place_offered (self, request_id, place, buf, sizeof buf);
    if (!streq (en_json_str (row, "state"), state) || !streq (buf, offered))
        fail_msg ("%s place %d is %s offered to '%s', expected %s offered to '%s'", request_id, place,
                  en_json_str (row, "state"), buf, state, offered);
    json_decref (row);
}

//  Accept or decline the open offer of one place, as its expert's node
static void
s_answer_place (fixture_t *self, const char *request_id, int place, bool accept)
{
    json_t *open = en_bstore_place_offers_open (self->store, request_id, place);
    assert_int_equal (json_array_size (open), 1);
    const char *offer = en_json_str (json_array_get (open, 0), "id");
    if (accept)
        s_ok (self, "node-twente", "twente", "ACCEPT", json_pack ("{s:s}", "offer", offer));
    else
        s_ok (self, "node-twente", "twente", "DECLINE", json_pack ("{s:s, s:s}", "offer", offer, "reason", "vol"));
    json_decref (open);
}

//  No expert holds two places of one request, ever (any offer state)
static void
s_assert_never_twice (fixture_t *self)
{
    assert_int_equal (en_db_int (en_bstore_db (self->store),
        "SELECT count(*) FROM (SELECT request_id, expert FROM offers GROUP BY request_id, expert"
        " HAVING count(DISTINCT place) > 1)", NULL), 0);
    assert_int_equal (en_db_int (en_bstore_db (self->store),
        "SELECT count(*) FROM (SELECT request_id, place FROM offers WHERE state = 'open'"
        " GROUP BY request_id, place HAVING count(*) > 1)", NULL), 0);
}

//  Three places are offered at once, each to its own expert; each is
//  declined, accepted and routed again on its own; a place nobody can
//  take is a hiaat while the others are filled; the request's state is
//  derived from its places'; the origin hears which place each STATUS
//  is about; load counts every filled place.
static void
test_team_parallel (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_publish (self, "node-twente", "twente", s_team_experts);
    s_submit_team (self, "twente-0001", s_three_places);
    s_assert_place (self, "twente-0001", 1, "offered", "se-tw-01");
    s_assert_place (self, "twente-0001", 2, "offered", "se-tw-02");
    s_assert_place (self, "twente-0001", 3, "offered", "ed-tw-01");
    s_assert_state (self, "twente-0001", "offered");
    //  Each OFFER names its place; each STATUS its place and its state
    en_db_t *db = en_bstore_db (self->store);
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM outbox WHERE command = 'OFFER'"
        " AND json_extract (body, '$.expert') = 'se-tw-02' AND json_extract (body, '$.place') = 2"
        " AND json_array_length (json_extract (body, '$.request.places')) = 3", NULL), 1);
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM outbox WHERE dest = 'node-twente' AND command = 'STATUS'"
        " AND json_extract (body, '$.event') = 'offered' AND json_extract (body, '$.place_state') = 'offered'", NULL), 3);

    //  Place 1 declined: the next trauma expert, se-tw-03; the others untouched
    s_answer_place (self, "twente-0001", 1, false);
    s_assert_place (self, "twente-0001", 1, "offered", "se-tw-03");
    s_assert_place (self, "twente-0001", 2, "offered", "se-tw-02");
    s_answer_place (self, "twente-0001", 1, true);
    s_answer_place (self, "twente-0001", 3, true);
    s_assert_state (self, "twente-0001", "offered");
    assert_int_equal (s_load (self, "se-tw-03"), 1);
    assert_int_equal (s_load (self, "ed-tw-01"), 1);

    //  Place 2 declined: se-tw-03 holds lvb but has place 1; nobody
    //  else: place 2 a hiaat, the request a hiaat (none open)
    s_answer_place (self, "twente-0001", 2, false);
    s_assert_place (self, "twente-0001", 2, "hiaat", "");
    s_assert_place (self, "twente-0001", 1, "accepted", "");
    s_assert_state (self, "twente-0001", "hiaat");
    assert_int_equal (s_offers_to (self, "twente-0001", "se-tw-03"), 1);
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM outbox WHERE command = 'STATUS'"
        " AND json_extract (body, '$.event') = 'hiaat' AND json_extract (body, '$.place') = 2"
        " AND json_extract (body, '$.state') = 'hiaat'", NULL), 1);

    //  A new lvb expert appears: the hiaat place is routed again, alone
    s_publish (self, "node-twente", "twente", "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\","
        "\"expertise\":[\"trauma\"],\"capacity\":2},"
        " {\"id\":\"se-tw-02\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"lvb\"],\"capacity\":2},"
        " {\"id\":\"se-tw-03\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"lvb\",\"trauma\"],\"capacity\":2},"
        " {\"id\":\"ed-tw-01\",\"role\":\"ervaringsdeskundige\",\"region\":\"twente\",\"capacity\":1},"
        " {\"id\":\"se-tw-04\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"lvb\"],\"capacity\":1}]");
    assert_int_equal (test_retry_hiaten (self->router, self->store), 1);
    s_assert_place (self, "twente-0001", 2, "offered", "se-tw-04");
    s_assert_state (self, "twente-0001", "offered");
    s_answer_place (self, "twente-0001", 2, true);
    s_assert_state (self, "twente-0001", "accepted");
    assert_int_equal (s_load (self, "se-tw-04"), 1);

    //  Advice from one: that place advised, the request still accepted
    json_t *offers = en_bstore_place_offers_open (self->store, "twente-0001", 1);
    assert_int_equal (json_array_size (offers), 0);
    json_decref (offers);
    s_ok (self, "node-twente", "twente", "ADVICE", json_pack ("{s:s, s:s}", "offer", "twente-0001-o3",
                                                                "text", "Begin met een gezinsgesprek."));
    s_assert_place (self, "twente-0001", 3, "advice", "");
    s_assert_state (self, "twente-0001", "accepted");

    //  Close: every place closed, every load back
    s_close (self, "node-twente", "twente", "twente-0001");
    s_assert_state (self, "twente-0001", "closed");
    for (int place = 1; place <= 3; place++)
        s_assert_place (self, "twente-0001", place, "closed", "");
    assert_int_equal (s_load (self, "se-tw-03") + s_load (self, "ed-tw-01") + s_load (self, "se-tw-04"), 0);
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM outbox WHERE command = 'STATUS'"
        " AND json_extract (body, '$.event') = 'closed'", NULL), 1);
    s_assert_never_twice (self);
}

//  Two places one expert could fill: the expert is offered one of them,
//  never the other (not even after expiry); an expert at capacity gets
//  no place; a place's expiry routes that place alone.
static void
test_team_never_twice (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_publish (self, "node-twente", "twente",
        "[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":5},"
        " {\"id\":\"se-tw-02\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"],\"capacity\":0}]");
    s_submit_team (self, "twente-0001", "[{\"role\":\"superexpert\",\"expertise\":[\"trauma\"]},"
                                        " {\"role\":\"superexpert\",\"expertise\":[\"trauma\"]}]");
    s_assert_place (self, "twente-0001", 1, "offered", "se-tw-01");
    s_assert_place (self, "twente-0001", 2, "hiaat", "");
    s_assert_state (self, "twente-0001", "offered");
    //  Place 1's offer expires: routed again, se-tw-01 not again: a hiaat
    en_db_t *db = en_bstore_db (self->store);
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_expire (self->router, en_now_ms () + 30 * 86400 * 1000LL), 1);
    assert_int_equal (en_db_commit (db), 0);
    s_assert_place (self, "twente-0001", 1, "hiaat", "");
    s_assert_state (self, "twente-0001", "hiaat");
    assert_int_equal (test_retry_hiaten (self->router, self->store), 0);
    //  An operator's re-offer of every place: se-tw-01 (expired) is asked
    //  again for one place, not for both
    en_error_t error;
    assert_int_equal (en_db_begin (db), 0);
    if (en_router_operator (self->router, "anna", "reoffer", "twente-0001", "se-tw-01 is terug", &error))
        fail_msg ("reoffer refused: %d %s", error.code, error.reason);
    assert_int_equal (en_db_commit (db), 0);
    s_assert_place (self, "twente-0001", 1, "offered", "se-tw-01");
    s_assert_place (self, "twente-0001", 2, "hiaat", "");
    s_assert_never_twice (self);
    //  The operator closes the place nobody can take: the team goes on
    assert_int_equal (en_db_begin (db), 0);
    if (en_router_operator_place (self->router, "anna", "close", "twente-0001", 2, "niet nodig", &error))
        fail_msg ("close of place 2 refused: %d %s", error.code, error.reason);
    assert_int_equal (en_db_commit (db), 0);
    s_assert_place (self, "twente-0001", 2, "closed", "");
    s_assert_state (self, "twente-0001", "offered");
    //  ... once: a second close of that place is refused, naming it
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_operator_place (self->router, "anna", "close", "twente-0001", 2, "nog eens", &error), -1);
    assert_int_equal (en_db_rollback (db), 0);
    assert_int_equal (error.code, EN_ERR_CONFLICT);
    assert_non_null (strstr (error.reason, "place 2 of request 'twente-0001' is already closed"));
    s_answer_place (self, "twente-0001", 1, true);
    s_assert_state (self, "twente-0001", "accepted");
    //  A place it does not have
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_operator_place (self->router, "anna", "reoffer", "twente-0001", 3, "x", &error), -1);
    assert_int_equal (en_db_rollback (db), 0);
    assert_int_equal (error.code, EN_ERR_NOT_FOUND);
}

//  A request without places is the one-place case: one place with the
//  Role rules of its question type and its tags, the same state
static void
test_team_one_place (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_publish (self, "node-twente", "twente", s_team_experts);
    s_submit (self, "node-twente", "twente-0001", "twente", "hoog", "moreel-beraad", "[\"trauma\"]");
    json_t *places = en_bstore_places (self->store, "twente-0001");
    assert_int_equal (json_array_size (places), 1);
    char *roles = json_dumps (json_object_get (json_array_get (places, 0), "roles"), JSON_COMPACT);
    assert_string_equal (roles, "[\"ervaringsdeskundige\",\"superexpert\"]");
    free (roles);
    json_decref (places);
    s_assert_place (self, "twente-0001", 1, "offered", "se-tw-01");
    s_assert_state (self, "twente-0001", "offered");
    s_accept_open (self, "node-twente", "twente", "twente-0001");
    s_assert_state (self, "twente-0001", "accepted");
    //  DOSSIER without a place goes to the one place's expert; a team
    //  must name the place
    s_ok (self, "node-twente", "twente", "DOSSIER", json_pack ("{s:s, s:s}", "request", "twente-0001",
                                                                 "sealed", "c2VhbGVk"));
    s_submit_team (self, "twente-0002", s_three_places);
    s_refused (self, "node-twente", "twente", "DOSSIER", json_pack ("{s:s, s:s}", "request", "twente-0002",
                                                                      "sealed", "c2VhbGVk"), EN_ERR_INVALID);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logident ("test_router");
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_command_table, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_match_all_tags, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_capacity, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_absent_expert_skipped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_region_preference, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_role_rule, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_decline, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_timeout, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_escalation, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_hiaat, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_lifecycle_advice_close, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_close_withdraws_open_offer, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refuse_accept_other_node, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refuse_accept_expired, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refuse_duplicate_request, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refuse_foreign_region, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refuse_close_not_origin, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refuse_expert_of_other_node, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_open_offer_reserves_capacity, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_hiaat_rerouted_when_expert_appears, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_reoffer_hiaat_asks_again, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refuse_accept_when_full, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refuse_submit_for_other_region, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_pii_guard, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_team_parallel, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_team_never_twice, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_team_one_place, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
