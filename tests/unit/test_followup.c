/*  test_followup - the follow-up of a request (broker/en_followup.c):
    REVIEW's checks (403, 404, 409, 422), the move to monitoring and back
    to a new date, the timer that fires once per date (REMIND to every
    expert with an accepted offer), re-arming, closing, the overdue list
    and the counters kept by triggers. Teams: REVIEW refused while a
    place is open or a hiaat, then every filled place to monitoring, one
    REMIND per expert, none to the expert of a place an operator closed;
    a beraad answer on the member's place, once; the report's input of
    teams (en_bstore_report_cases). Through the broker's
    real receive path (en_inbox, en_router), as test_router does.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "expertnet.h"
#include "en_router.h"
#include "en_followup.h"
#include "test_fixture.h"

#define DAY_MS (86400 * 1000LL)

typedef test_broker_t fixture_t;

static int
s_setup (void **state)
{
    return test_broker_setup (state, "test_followup");
}

//  A message from node through the broker's receive path; the refusal's
//  code, or 0 when it was acknowledged. Takes body.
static int
s_send (fixture_t *self, const char *node, const char *command, json_t *body)
{
    const char *region = streq (node, "node-twente") ? "twente" : "ijsselland";
    en_msg_t *msg = en_msg_new (command, node, body);
    en_error_t error = { 0 };
    int rc = test_receive (self->router, self->store, node, region, false, msg, &error);
    en_msg_destroy (&msg);
    if (rc)
        assert_true (strlen (error.reason) > 0);
    return rc ? error.code : 0;
}

static const char *
s_state (fixture_t *self, const char *request_id, char *buf, size_t size)
{
    json_t *request = en_bstore_request (self->store, request_id);
    snprintf (buf, size, "%s", request ? en_json_str (request, "state") : "(none)");
    json_decref (request);
    return buf;
}

static int64_t
s_count (fixture_t *self, const char *sql, const char *arg)
{
    return en_db_int (en_bstore_db (self->store), sql, "s", arg);
}

//  The timer as the broker runs it: in a transaction
static int
s_due (fixture_t *self, int64_t now)
{
    en_db_t *db = en_bstore_db (self->store);
    assert_int_equal (en_db_begin (db), 0);
    int fired = en_followup_due (self->router, now);
    assert_int_equal (en_db_commit (db), 0);
    return fired;
}

//  Two experts at node-ijsselland; request twente-0001 (from
//  node-twente) offered to one of them and accepted.
static void
s_accepted_request (fixture_t *self)
{
    assert_int_equal (s_send (self, "node-ijsselland", "AVAILABILITY", test_json (
        "{\"experts\":[{\"id\":\"se-ij-01\",\"role\":\"superexpert\",\"region\":\"ijsselland\","
        "\"expertise\":[\"trauma\"],\"capacity\":2}]}")), 0);
    assert_int_equal (s_send (self, "node-twente", "SUBMIT", test_json (
        "{\"request\":{\"id\":\"twente-0001\",\"region\":\"twente\",\"urgency\":\"hoog\","
        "\"question_type\":\"consultatie-advies\",\"expertise\":[\"trauma\"],\"age_band\":\"12-17\"}}")), 0);
    json_t *open = en_bstore_offers_open (self->store, "twente-0001", 0);
    assert_int_equal (json_array_size (open), 1);
    const char *offer = en_json_str (json_array_get (open, 0), "id");
    assert_int_equal (s_send (self, "node-ijsselland", "ACCEPT", json_pack ("{s:s}", "offer", offer)), 0);
    json_decref (open);
}

static json_t *
s_review (const char *request_id, int64_t at)
{
    return json_pack ("{s:s, s:I}", "request", request_id, "review_at", (json_int_t) at);
}

static void
test_review_checks (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char buf [32];
    int64_t week = en_now_ms () + 7 * DAY_MS;
    assert_int_equal (s_send (self, "node-twente", "REVIEW", s_review ("twente-9999", week)), 404);
    assert_int_equal (s_send (self, "node-twente", "REVIEW", s_review ("not an id!", week)), 404);
    assert_int_equal (s_send (self, "node-ijsselland", "AVAILABILITY", test_json ("{\"experts\":[]}")), 0);
    assert_int_equal (s_send (self, "node-twente", "SUBMIT", test_json (
        "{\"request\":{\"id\":\"twente-0002\",\"region\":\"twente\",\"urgency\":\"regulier\","
        "\"question_type\":\"consultatie-advies\",\"expertise\":[\"lvb\"],\"age_band\":\"4-11\"}}")), 0);
    //  A hiaat has no expert: nothing to follow up yet
    assert_string_equal (s_state (self, "twente-0002", buf, sizeof buf), "hiaat");
    assert_int_equal (s_send (self, "node-twente", "REVIEW", s_review ("twente-0002", week)), 409);

    s_accepted_request (self);
    //  Only the origin
    assert_int_equal (s_send (self, "node-ijsselland", "REVIEW", s_review ("twente-0001", week)), 403);
    //  A time in the future, at most a year ahead, an integer
    assert_int_equal (s_send (self, "node-twente", "REVIEW", s_review ("twente-0001", en_now_ms () - 1000)), 422);
    assert_int_equal (s_send (self, "node-twente", "REVIEW", s_review ("twente-0001", en_now_ms () + 400 * DAY_MS)), 422);
    assert_int_equal (s_send (self, "node-twente", "REVIEW",
                              json_pack ("{s:s, s:s}", "request", "twente-0001", "review_at", "2027-01-01")), 422);
    assert_int_equal (s_send (self, "node-twente", "REVIEW", json_pack ("{s:s}", "request", "twente-0001")), 422);
    //  Nothing of the refusals was written
    assert_string_equal (s_state (self, "twente-0001", buf, sizeof buf), "accepted");
    assert_int_equal (s_count (self, "SELECT count(*) FROM requests WHERE id = ? AND review_at IS NOT NULL",
                               "twente-0001"), 0);
    //  (A request a peer broker holds: relayed there, test_federation)
    //  Closed: 409
    assert_int_equal (s_send (self, "node-twente", "CLOSE", json_pack ("{s:s}", "request", "twente-0001")), 0);
    assert_int_equal (s_send (self, "node-twente", "REVIEW", s_review ("twente-0001", week)), 409);
}

static void
test_monitoring_and_reminder_once (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char buf [256];
    s_accepted_request (self);
    json_t *expert = en_bstore_expert (self->store, "se-ij-01");
    assert_int_equal (en_json_int (expert, "load", -1), 1);
    json_decref (expert);
    int64_t at = en_now_ms () + 14 * DAY_MS;
    assert_int_equal (s_send (self, "node-twente", "REVIEW", s_review ("twente-0001", at)), 0);
    assert_string_equal (s_state (self, "twente-0001", buf, sizeof buf), "monitoring");
    //  STATUS monitoring with the date to the origin; the expert keeps the case
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE dest = ? AND command = 'STATUS'"
                               " AND json_extract (body, '$.event') = 'monitoring'"
                               " AND json_extract (body, '$.state') = 'monitoring'"
                               " AND json_extract (body, '$.review_at') > 0", "node-twente"), 1);
    json_t *request = en_bstore_request (self->store, "twente-0001");
    assert_string_equal (en_json_str (request, "expert"), "se-ij-01");
    assert_int_equal (en_json_int (request, "review_at", 0), at);
    json_decref (request);
    expert = en_bstore_expert (self->store, "se-ij-01");
    assert_int_equal (en_json_int (expert, "load", -1), 1);
    json_decref (expert);

    //  Not before the date; then once, however often the timer runs
    assert_int_equal (s_due (self, at - 1), 0);
    assert_int_equal (s_due (self, at), 1);
    assert_int_equal (s_due (self, at + 1000), 0);
    assert_int_equal (s_due (self, at + DAY_MS), 0);
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE dest = ? AND command = 'REMIND'"
                               " AND json_extract (body, '$.expert') = 'se-ij-01'", "node-ijsselland"), 1);
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE dest = ? AND command = 'STATUS'"
                               " AND json_extract (body, '$.event') = 'review-due'", "node-twente"), 1);
    assert_string_equal (s_state (self, "twente-0001", buf, sizeof buf), "monitoring");
    assert_string_equal (test_join (en_bstore_events (self->store, "twente-0001"), "type", buf, sizeof buf),
                         "submitted offered accepted monitoring review-due reminded");

    //  Advice in monitoring leaves it there
    assert_int_equal (s_send (self, "node-ijsselland", "ADVICE",
                              json_pack ("{s:s, s:s}", "offer", "twente-0001-o1", "text", "Vervolgadvies")), 0);
    assert_string_equal (s_state (self, "twente-0001", buf, sizeof buf), "monitoring");

    //  A new date arms it again, once
    int64_t later = en_now_ms () + 30 * DAY_MS;
    assert_int_equal (s_send (self, "node-twente", "REVIEW", s_review ("twente-0001", later)), 0);
    assert_int_equal (s_due (self, later - 1), 0);
    assert_int_equal (s_due (self, later), 1);
    assert_int_equal (s_due (self, later), 0);
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE dest = ? AND command = 'REMIND'",
                               "node-ijsselland"), 2);

    //  Closing ends monitoring and frees the expert's place
    assert_int_equal (s_send (self, "node-twente", "CLOSE",
                              json_pack ("{s:s, s:s}", "request", "twente-0001", "outcome", "hulp gerealiseerd")), 0);
    assert_string_equal (s_state (self, "twente-0001", buf, sizeof buf), "closed");
    expert = en_bstore_expert (self->store, "se-ij-01");
    assert_int_equal (en_json_int (expert, "load", -1), 0);
    json_decref (expert);
}

static void
test_close_disarms_and_overdue (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_accepted_request (self);
    int64_t at = en_now_ms () + DAY_MS;
    assert_int_equal (s_send (self, "node-twente", "REVIEW", s_review ("twente-0001", at)), 0);
    //  Overdue only after the date, most overdue first, with whole days
    json_t *overdue = en_followup_overdue (self->store, at - 1, 50);
    assert_int_equal (json_array_size (overdue), 0);
    json_decref (overdue);
    overdue = en_followup_overdue (self->store, at + 3 * DAY_MS + 5, 50);
    assert_int_equal (json_array_size (overdue), 1);
    json_t *row = json_array_get (overdue, 0);
    assert_string_equal (en_json_str (row, "id"), "twente-0001");
    assert_string_equal (en_json_str (row, "region"), "twente");
    assert_string_equal (en_json_str (row, "urgency"), "hoog");
    assert_int_equal (en_json_int (row, "days_overdue", -1), 3);
    assert_null (json_object_get (row, "summary_json"));       //  no case data
    json_decref (overdue);
    //  The overdue list and the timer read by index, never every request
    char plan [512];
    test_join (en_db_rows (en_db_query (en_bstore_db (self->store),
        "EXPLAIN QUERY PLAN SELECT id FROM requests WHERE review_at IS NOT NULL AND state <> 'closed'"
        " AND review_at <= ? ORDER BY review_at LIMIT 5", "i", at)), "detail", plan, sizeof plan);
    assert_non_null (strstr (plan, "requests_review_open"));
    test_join (en_db_rows (en_db_query (en_bstore_db (self->store),
        "EXPLAIN QUERY PLAN SELECT id, review_at FROM requests WHERE review_pending = 1 AND review_at <= ?"
        " ORDER BY review_at LIMIT 5", "i", at)), "detail", plan, sizeof plan);
    assert_non_null (strstr (plan, "requests_review_armed"));

    //  Closed before the date: no reminder, not overdue
    assert_int_equal (s_send (self, "node-twente", "CLOSE", json_pack ("{s:s}", "request", "twente-0001")), 0);
    assert_int_equal (s_due (self, at + DAY_MS), 0);
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE command = 'REMIND' AND dest = ?",
                               "node-ijsselland"), 0);
    overdue = en_followup_overdue (self->store, at + 3 * DAY_MS, 50);
    assert_int_equal (json_array_size (overdue), 0);
    json_decref (overdue);
}

static json_t *
s_beraad (const char *action, const char *request_id, const char *key, json_t *value)
{
    return json_pack ("{s:s, s:s, s:o}", "action", action, "request", request_id, key, value);
}

//  Moreel beraad: the team proposes times, the participant answers, the
//  team fixes one and records that it took place; only dates travel
static void
test_beraad (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char buf [512];
    int64_t now = en_now_ms ();
    int64_t t1 = now + 2 * DAY_MS, t2 = now + 3 * DAY_MS;
    //  Not a moreel-beraad: 409
    s_accepted_request (self);
    assert_int_equal (s_send (self, "node-twente", "BERAAD",
                              s_beraad ("propose", "twente-0001", "times", json_pack ("[I]", (json_int_t) t1))), 409);
    assert_int_equal (s_send (self, "node-twente", "SUBMIT", test_json (
        "{\"request\":{\"id\":\"twente-0002\",\"region\":\"twente\",\"urgency\":\"regulier\","
        "\"question_type\":\"moreel-beraad\",\"expertise\":[\"trauma\"],\"age_band\":\"12-17\"}}")), 0);
    //  No participant yet: 409
    assert_int_equal (s_send (self, "node-twente", "BERAAD",
                              s_beraad ("propose", "twente-0002", "times", json_pack ("[I]", (json_int_t) t1))), 409);
    assert_int_equal (s_send (self, "node-ijsselland", "ACCEPT", json_pack ("{s:s}", "offer", "twente-0002-o1")), 0);
    //  Only the origin; times ahead, distinct, at most five; an action
    assert_int_equal (s_send (self, "node-ijsselland", "BERAAD",
                              s_beraad ("propose", "twente-0002", "times", json_pack ("[I]", (json_int_t) t1))), 403);
    assert_int_equal (s_send (self, "node-twente", "BERAAD",
                              s_beraad ("propose", "twente-0002", "times", json_pack ("[I]", (json_int_t) (now - 1)))), 422);
    assert_int_equal (s_send (self, "node-twente", "BERAAD",
                              s_beraad ("propose", "twente-0002", "times", json_pack ("[I,I]", (json_int_t) t1,
                                                                                      (json_int_t) t1))), 422);
    assert_int_equal (s_send (self, "node-twente", "BERAAD", s_beraad ("propose", "twente-0002", "times",
        json_pack ("[I,I,I,I,I,I]", (json_int_t) t1, (json_int_t) t1 + 1, (json_int_t) t1 + 2, (json_int_t) t1 + 3,
                   (json_int_t) t1 + 4, (json_int_t) t1 + 5))), 422);
    assert_int_equal (s_send (self, "node-twente", "BERAAD",
                              s_beraad ("plan", "twente-0002", "times", json_pack ("[I]", (json_int_t) t1))), 422);
    //  Nothing to fix or answer yet
    assert_int_equal (s_send (self, "node-twente", "BERAAD",
                              s_beraad ("fix", "twente-0002", "at", json_integer (t1))), 409);
    //  Proposed: the participant's node hears it
    assert_int_equal (s_send (self, "node-twente", "BERAAD", s_beraad ("propose", "twente-0002", "times",
                              json_pack ("[I,I]", (json_int_t) t1, (json_int_t) t2))), 0);
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE dest = ? AND command = 'BERAAD'"
                               " AND json_extract (body, '$.action') = 'propose'"
                               " AND json_extract (body, '$.offer') = 'twente-0002-o1'"
                               " AND json_array_length (json_extract (body, '$.times')) = 2", "node-ijsselland"), 1);
    //  The answer: only the participant's node, only proposed times
    json_t *answer = json_pack ("{s:s, s:s, s:[I]}", "action", "answer", "offer", "twente-0002-o1",
                                "available", (json_int_t) t2);
    assert_int_equal (s_send (self, "node-twente", "BERAAD", json_deep_copy (answer)), 403);
    assert_int_equal (s_send (self, "node-ijsselland", "BERAAD", json_pack ("{s:s, s:s, s:[I]}", "action", "answer",
                              "offer", "twente-0002-o1", "available", (json_int_t) (t2 + 1))), 422);
    assert_int_equal (s_send (self, "node-ijsselland", "BERAAD", answer), 0);
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE dest = ? AND command = 'STATUS'"
                               " AND json_extract (body, '$.event') = 'beraad-answer'"
                               " AND json_extract (body, '$.expert') = 'se-ij-01'"
                               " AND json_extract (body, '$.available[0]') > 0", "node-twente"), 1);
    //  Fixed: one of the proposed times
    assert_int_equal (s_send (self, "node-twente", "BERAAD",
                              s_beraad ("fix", "twente-0002", "at", json_integer (t2 + 60000))), 422);
    assert_int_equal (s_send (self, "node-twente", "BERAAD", s_beraad ("fix", "twente-0002", "at", json_integer (t2))), 0);
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE dest = ? AND command = 'BERAAD'"
                               " AND json_extract (body, '$.action') = 'fix'", "node-ijsselland"), 1);
    //  The team's STATUS names the time fixed (beraad_at; its `at` is when it changed)
    char fixed_sql [200];
    snprintf (fixed_sql, sizeof fixed_sql, "SELECT count(*) FROM outbox WHERE dest = ? AND command = 'STATUS'"
              " AND json_extract (body, '$.event') = 'beraad-fixed' AND json_extract (body, '$.beraad_at') = %lld",
              (long long) t2);
    assert_int_equal (s_count (self, fixed_sql, "node-twente"), 1);
    //  After the fix no more answers; then it took place (not in the future)
    assert_int_equal (s_send (self, "node-ijsselland", "BERAAD", json_pack ("{s:s, s:s, s:[]}", "action", "answer",
                              "offer", "twente-0002-o1", "available")), 409);
    assert_int_equal (s_send (self, "node-twente", "BERAAD",
                              s_beraad ("held", "twente-0002", "at", json_integer (now + DAY_MS))), 422);
    assert_int_equal (s_send (self, "node-twente", "BERAAD",
                              s_beraad ("held", "twente-0002", "at", json_integer (en_now_ms ()))), 0);
    assert_int_equal (s_send (self, "node-twente", "BERAAD", s_beraad ("propose", "twente-0002", "times",
                              json_pack ("[I]", (json_int_t) t1))), 409);
    //  The request did not move; the timeline holds dates, no text
    assert_string_equal (s_state (self, "twente-0002", buf, sizeof buf), "accepted");
    assert_string_equal (test_join (en_bstore_events (self->store, "twente-0002"), "type", buf, sizeof buf),
                         "submitted offered accepted beraad-proposed beraad-answer beraad-fixed beraad-held");
}

//  --------------------------------------------------------------------
//  Teams (EXPN/3): follow-up of a request of several places

//  A superexpert at ijsselland, an ervaringsdeskundige at twente, a
//  procesregisseur at ijsselland (not bovenregionaal: nobody to escalate to)
static void
s_team_experts (fixture_t *self)
{
    assert_int_equal (s_send (self, "node-ijsselland", "AVAILABILITY", test_json (
        "{\"experts\":[{\"id\":\"se-ij-01\",\"role\":\"superexpert\",\"region\":\"ijsselland\","
        "\"expertise\":[\"trauma\"],\"capacity\":3},"
        "{\"id\":\"pr-ij-01\",\"role\":\"procesregisseur\",\"region\":\"ijsselland\",\"capacity\":3}]}")), 0);
    assert_int_equal (s_send (self, "node-twente", "AVAILABILITY", test_json (
        "{\"experts\":[{\"id\":\"ed-tw-01\",\"role\":\"ervaringsdeskundige\",\"region\":\"twente\","
        "\"capacity\":3}]}")), 0);
}

//  SUBMIT of a team from node-twente
static void
s_submit_team (fixture_t *self, const char *id, const char *type, const char *places)
{
    json_t *body = json_pack ("{s:{s:s, s:s, s:s, s:s, s:[s], s:s, s:o}}", "request", "id", id,
        "region", "twente", "urgency", "hoog", "question_type", type, "expertise", "trauma",
        "age_band", "12-17", "places", test_json (places));
    assert_int_equal (s_send (self, "node-twente", "SUBMIT", body), 0);
}

//  The open offer of one place accepted by its expert's node
static void
s_accept_place (fixture_t *self, const char *request_id, int place)
{
    json_t *open = en_bstore_place_offers_open (self->store, request_id, place);
    assert_int_equal (json_array_size (open), 1);
    json_t *offer = json_array_get (open, 0);
    assert_int_equal (s_send (self, en_json_str (offer, "node"), "ACCEPT",
                              json_pack ("{s:s}", "offer", en_json_str (offer, "id"))), 0);
    json_decref (open);
}

//  An operator closes one place, as the broker runs it (a transaction)
static void
s_close_place (fixture_t *self, const char *request_id, int64_t place)
{
    en_db_t *db = en_bstore_db (self->store);
    en_error_t error = { 0 };
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_router_operator_place (self->router, "op-anna", "close", request_id, place,
                                                "niet meer nodig", &error), 0);
    assert_int_equal (en_db_commit (db), 0);
}

static int64_t
s_load (fixture_t *self, const char *expert_id)
{
    json_t *expert = en_bstore_expert (self->store, expert_id);
    int64_t load = en_json_int (expert, "load", -1);
    json_decref (expert);
    return load;
}

static const char *
s_place_states (fixture_t *self, const char *request_id, char *buf, size_t size)
{
    return test_join (en_bstore_places (self->store, request_id), "state", buf, size);
}

static const char *s_team3 =
    "[{\"role\":\"superexpert\",\"expertise\":[\"trauma\"]}, {\"role\":\"ervaringsdeskundige\",\"expertise\":[]},"
    " {\"role\":\"procesregisseur\",\"expertise\":[]}]";

//  Nothing of a refused REVIEW was written: no date, no event, no STATUS
static void
s_assert_review_refused (fixture_t *self, const char *request_id, int64_t at)
{
    int64_t events = s_count (self, "SELECT count(*) FROM events WHERE request_id = ?", request_id);
    int64_t outbox = s_count (self, "SELECT count(*) FROM outbox WHERE dest = ?", "node-twente");
    char before [128], after [128];
    s_place_states (self, request_id, before, sizeof before);
    assert_int_equal (s_send (self, "node-twente", "REVIEW", s_review (request_id, at)), 409);
    assert_int_equal (s_count (self, "SELECT count(*) FROM requests WHERE id = ? AND (review_at IS NOT NULL"
                               " OR review_pending)", request_id), 0);
    assert_int_equal (s_count (self, "SELECT count(*) FROM events WHERE request_id = ?", request_id), events);
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE dest = ?", "node-twente"), outbox);
    assert_string_equal (s_place_states (self, request_id, after, sizeof after), before);
}

//  A REVIEW of a team: refused while a place is open or a hiaat; with
//  every place filled (or closed by an operator) every filled place
//  moves to monitoring, the reminder reaches each accepted expert's node
//  once, the closed place's expert is left out; the load stays counted
//  on places through monitoring and close (checked again at teardown)
static void
test_team_review (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char buf [256];
    int64_t at = en_now_ms () + 14 * DAY_MS;
    s_team_experts (self);
    s_submit_team (self, "twente-0010", "consultatie-advies", s_team3);
    s_accept_place (self, "twente-0010", 1);
    assert_string_equal (s_state (self, "twente-0010", buf, sizeof buf), "offered");
    s_assert_review_refused (self, "twente-0010", at);          //  places open

    //  A team whose lvb place nobody holds: a hiaat, the rest filled
    s_submit_team (self, "twente-0011", "consultatie-advies",
        "[{\"role\":\"superexpert\",\"expertise\":[\"lvb\"]}, {\"role\":\"ervaringsdeskundige\",\"expertise\":[]}]");
    s_accept_place (self, "twente-0011", 2);
    assert_string_equal (s_place_states (self, "twente-0011", buf, sizeof buf), "hiaat accepted");
    assert_string_equal (s_state (self, "twente-0011", buf, sizeof buf), "hiaat");
    s_assert_review_refused (self, "twente-0011", at);          //  a place a hiaat

    //  Every place filled; the operator closes the procesregisseur's
    s_accept_place (self, "twente-0010", 2);
    s_accept_place (self, "twente-0010", 3);
    assert_string_equal (s_state (self, "twente-0010", buf, sizeof buf), "accepted");
    assert_int_equal (s_load (self, "pr-ij-01"), 1);
    s_close_place (self, "twente-0010", 3);
    en_db_t *db = en_bstore_db (self->store);
    assert_int_equal (s_load (self, "pr-ij-01"), 0);
    int64_t monitoring_before = s_count (self, "SELECT count(*) FROM outbox WHERE dest = ? AND command = 'STATUS'"
                                         " AND json_extract (body, '$.event') = 'monitoring'", "node-twente");
    assert_int_equal (monitoring_before, 0);

    assert_int_equal (s_send (self, "node-twente", "REVIEW", s_review ("twente-0010", at)), 0);
    assert_string_equal (s_place_states (self, "twente-0010", buf, sizeof buf), "monitoring monitoring closed");
    assert_string_equal (s_state (self, "twente-0010", buf, sizeof buf), "monitoring");
    //  One STATUS for the request, without a place, and one event
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE dest = ? AND command = 'STATUS'"
                               " AND json_extract (body, '$.event') = 'monitoring'"
                               " AND json_extract (body, '$.state') = 'monitoring'"
                               " AND json_extract (body, '$.place') IS NULL"
                               " AND json_extract (body, '$.review_at') > 0", "node-twente"), 1);
    assert_int_equal (s_count (self, "SELECT count(*) FROM events WHERE request_id = ? AND type = 'monitoring'"
                               " AND place IS NULL", "twente-0010"), 1);
    //  The experts keep their places on their load; the closed one not
    assert_int_equal (s_load (self, "se-ij-01"), 1);
    assert_int_equal (s_load (self, "ed-tw-01"), 2);       //  and its place of twente-0011
    assert_int_equal (s_load (self, "pr-ij-01"), 0);
    assert_int_equal (test_counters_drift (db), 0);

    //  The date: one REMIND per accepted expert of an open place, to its
    //  own node; none to the expert of the closed place
    assert_int_equal (s_due (self, at), 1);
    assert_int_equal (s_due (self, at + DAY_MS), 0);
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE dest = ? AND command = 'REMIND'"
                               " AND json_extract (body, '$.expert') = 'se-ij-01'", "node-ijsselland"), 1);
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE dest = ? AND command = 'REMIND'"
                               " AND json_extract (body, '$.expert') = 'ed-tw-01'", "node-twente"), 1);
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE command = 'REMIND'"
                               " AND json_extract (body, '$.request_id') = ?", "twente-0010"), 2);
    assert_int_equal (s_count (self, "SELECT count(*) FROM events WHERE request_id = ? AND type = 'reminded'",
                               "twente-0010"), 2);
    assert_int_equal (s_count (self, "SELECT count(*) FROM events WHERE request_id = ? AND type = 'reminded'"
                               " AND expert = 'pr-ij-01'", "twente-0010"), 0);
    assert_string_equal (s_place_states (self, "twente-0010", buf, sizeof buf), "monitoring monitoring closed");

    //  A member's advice in monitoring: its place stays there, named
    json_t *offer = en_db_one (en_db_query (db, "SELECT id FROM offers WHERE request_id = ? AND place = 1"
                                                " AND state = 'accepted'", "s", "twente-0010"));
    assert_int_equal (s_send (self, "node-ijsselland", "ADVICE",
                              json_pack ("{s:s, s:s}", "offer", en_json_str (offer, "id"), "text", "Vervolgadvies")), 0);
    json_decref (offer);
    assert_string_equal (s_place_states (self, "twente-0010", buf, sizeof buf), "monitoring monitoring closed");
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE dest = ? AND command = 'STATUS'"
                               " AND json_extract (body, '$.event') = 'advice' AND json_extract (body, '$.place') = 1"
                               " AND json_extract (body, '$.place_state') = 'monitoring'"
                               " AND json_extract (body, '$.state') = 'monitoring'", "node-twente"), 1);
    assert_int_equal (s_load (self, "se-ij-01"), 1);

    //  Closing the team ends monitoring and frees every load
    assert_int_equal (s_send (self, "node-twente", "CLOSE", json_pack ("{s:s}", "request", "twente-0010")), 0);
    assert_string_equal (s_place_states (self, "twente-0010", buf, sizeof buf), "closed closed closed");
    assert_int_equal (s_load (self, "se-ij-01"), 0);
    assert_int_equal (s_load (self, "ed-tw-01"), 1);
    assert_int_equal (test_counters_drift (db), 0);
}

//  Moreel beraad of a team: the proposal reaches every member's node,
//  an answer records on the answering member's place (event and STATUS
//  name it), once, also when its message comes again; the expert of a
//  place an operator closed is no longer asked and cannot answer
static void
test_team_beraad (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char buf [512];
    int64_t t1 = en_now_ms () + 2 * DAY_MS, t2 = en_now_ms () + 3 * DAY_MS;
    s_team_experts (self);
    s_submit_team (self, "twente-0020", "moreel-beraad", s_team3);
    for (int place = 1; place <= 3; place++)
        s_accept_place (self, "twente-0020", place);
    assert_string_equal (s_state (self, "twente-0020", buf, sizeof buf), "accepted");
    s_close_place (self, "twente-0020", 3);
    en_db_t *db = en_bstore_db (self->store);

    assert_int_equal (s_send (self, "node-twente", "BERAAD", s_beraad ("propose", "twente-0020", "times",
                              json_pack ("[I,I]", (json_int_t) t1, (json_int_t) t2))), 0);
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE command = 'BERAAD'"
                               " AND json_extract (body, '$.action') = 'propose'"
                               " AND json_extract (body, '$.request_id') = ?", "twente-0020"), 2);
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE command = 'BERAAD'"
                               " AND json_extract (body, '$.expert') = 'pr-ij-01'"
                               " AND json_extract (body, '$.request_id') = ?", "twente-0020"), 0);
    //  The ervaringsdeskundige (place 2, node-twente) answers; the same
    //  message again is a duplicate, not a second answer
    json_t *offers = en_db_rows (en_db_query (db, "SELECT id, place, state FROM offers WHERE request_id = ?",
                                              "s", "twente-0020"));
    char offer2 [64] = "", offer3 [64] = "";
    size_t index;
    json_t *offer;
    json_array_foreach (offers, index, offer)
        if (streq (en_json_str (offer, "state"), "accepted") && en_json_int (offer, "place", 0) >= 2)
            snprintf (en_json_int (offer, "place", 0) == 2 ? offer2 : offer3, 64, "%s", en_json_str (offer, "id"));
    assert_true (*offer2 && *offer3);
    json_decref (offers);
    json_t *answer = json_pack ("{s:s, s:s, s:[I]}", "action", "answer", "offer", offer2, "available", (json_int_t) t2);
    en_msg_t *msg = en_msg_new ("BERAAD", "node-twente", answer);
    for (int i = 0; i < 2; i++) {
        en_error_t refused = { 0 };
        test_receive (self->router, self->store, "node-twente", "twente", false, msg, &refused);
        assert_int_equal (refused.code, 0);
    }
    en_msg_destroy (&msg);
    assert_int_equal (s_count (self, "SELECT count(*) FROM events WHERE request_id = ? AND type = 'beraad-answer'"
                               " AND place = 2 AND expert = 'ed-tw-01'", "twente-0020"), 1);
    assert_int_equal (s_count (self, "SELECT count(*) FROM events WHERE request_id = ? AND type = 'beraad-answer'",
                               "twente-0020"), 1);
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE dest = ? AND command = 'STATUS'"
                               " AND json_extract (body, '$.event') = 'beraad-answer'"
                               " AND json_extract (body, '$.place') = 2"
                               " AND json_extract (body, '$.place_state') = 'accepted'"
                               " AND json_extract (body, '$.expert') = 'ed-tw-01'", "node-twente"), 1);
    //  The closed place's expert: 409, nothing recorded
    assert_int_equal (s_send (self, "node-ijsselland", "BERAAD", json_pack ("{s:s, s:s, s:[I]}", "action", "answer",
                              "offer", offer3, "available", (json_int_t) t1)), 409);
    assert_int_equal (s_count (self, "SELECT count(*) FROM events WHERE request_id = ? AND type = 'beraad-answer'",
                               "twente-0020"), 1);
    //  Held: every open member's node is told the fact and the date (no
    //  outcome), the closed place's expert not; taken once
    int64_t held_at = en_now_ms () - 60000;
    msg = en_msg_new ("BERAAD", "node-twente", s_beraad ("held", "twente-0020", "at", json_integer (held_at)));
    for (int i = 0; i < 2; i++) {
        en_error_t refused = { 0 };
        test_receive (self->router, self->store, "node-twente", "twente", false, msg, &refused);
        assert_int_equal (refused.code, 0);
    }
    en_msg_destroy (&msg);
    char sql [512];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM outbox WHERE command = 'BERAAD'"
              " AND json_extract (body, '$.action') = 'held' AND json_extract (body, '$.request_id') = ?"
              " AND json_extract (body, '$.at') = %lld AND json_extract (body, '$.outcome') IS NULL"
              " AND json_extract (body, '$.offer') IS NOT NULL"
              " AND dest || '/' || json_extract (body, '$.expert') IN ('node-ijsselland/se-ij-01', 'node-twente/ed-tw-01')",
              (long long) held_at);
    assert_int_equal (s_count (self, sql, "twente-0020"), 2);
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE command = 'BERAAD'"
                               " AND json_extract (body, '$.action') = 'held' AND json_extract (body, '$.request_id') = ?",
                               "twente-0020"), 2);
    assert_int_equal (s_count (self, "SELECT count(*) FROM events WHERE request_id = ? AND type = 'beraad-held'",
                               "twente-0020"), 1);
    //  Places and request did not move
    assert_string_equal (s_place_states (self, "twente-0020", buf, sizeof buf), "accepted accepted closed");
    assert_string_equal (s_state (self, "twente-0020", buf, sizeof buf), "accepted");
}

//  The rode draden report's input of teams (en_bstore_report_cases): per
//  case its request's places with role, tags, ever filled and ever a
//  hiaat; when the team was full; a beraad held. A request of one place
//  that several roles may take has the role of the expert who took it.
static json_t *
s_report_case (json_t *cases, const char *request_id)
{
    size_t index;
    json_t *row;
    json_array_foreach (cases, index, row)
        if (streq (en_json_str (json_object_get (row, "summary"), "id") ?: "", request_id))
            return row;
    fail_msg ("no report case for %s", request_id);
    return NULL;
}

//  A report case's places as sorted JSON text (caller frees)
static char *
s_places_text (json_t *row)
{
    return json_dumps (json_object_get (json_object_get (row, "team"), "places"), JSON_COMPACT | JSON_SORT_KEYS);
}

static void
test_team_report_cases (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_team_experts (self);
    s_submit_team (self, "twente-0030", "consultatie-advies", s_team3);
    for (int place = 1; place <= 3; place++)
        s_accept_place (self, "twente-0030", place);
    s_submit_team (self, "twente-0031", "consultatie-advies",
        "[{\"role\":\"superexpert\",\"expertise\":[\"lvb\"]}, {\"role\":\"ervaringsdeskundige\",\"expertise\":[]}]");
    s_accept_place (self, "twente-0031", 2);
    assert_int_equal (s_send (self, "node-twente", "SUBMIT", test_json (
        "{\"request\":{\"id\":\"twente-0032\",\"region\":\"twente\",\"urgency\":\"regulier\","
        "\"question_type\":\"moreel-beraad\",\"expertise\":[\"trauma\"],\"age_band\":\"12-17\"}}")), 0);
    s_accept_place (self, "twente-0032", 1);
    assert_int_equal (s_send (self, "node-twente", "BERAAD",
                              s_beraad ("held", "twente-0032", "at", json_integer (en_now_ms ()))), 0);

    json_t *cases = en_bstore_report_cases (self->store);
    json_t *row = s_report_case (cases, "twente-0030");
    char *places = s_places_text (row);
    assert_string_equal (places,
        "[{\"expertise\":[\"trauma\"],\"filled\":true,\"hiaat\":false,\"role\":\"superexpert\"},"
        "{\"expertise\":[],\"filled\":true,\"hiaat\":false,\"role\":\"ervaringsdeskundige\"},"
        "{\"expertise\":[],\"filled\":true,\"hiaat\":false,\"role\":\"procesregisseur\"}]");
    free (places);
    assert_int_equal (en_json_int (json_object_get (row, "team"), "team_full", 0), s_count (self,
        "SELECT max (at) FROM events WHERE request_id = ? AND type = 'accepted'", "twente-0030"));
    assert_int_equal (en_json_int (json_object_get (row, "team"), "submitted", 0),
                      s_count (self, "SELECT created FROM requests WHERE id = ?", "twente-0030"));
    assert_int_equal (en_json_int (row, "beraad_held", -1), 0);

    row = s_report_case (cases, "twente-0031");
    places = s_places_text (row);
    assert_string_equal (places,
        "[{\"expertise\":[\"lvb\"],\"filled\":false,\"hiaat\":true,\"role\":\"superexpert\"},"
        "{\"expertise\":[],\"filled\":true,\"hiaat\":false,\"role\":\"ervaringsdeskundige\"}]");
    free (places);
    assert_true (json_is_null (json_object_get (json_object_get (row, "team"), "team_full")));
    assert_int_equal (en_json_int (row, "hiaat", 0), 1);

    row = s_report_case (cases, "twente-0032");
    places = s_places_text (row);
    assert_string_equal (places, "[{\"expertise\":[\"trauma\"],\"filled\":true,\"hiaat\":false,\"role\":\"superexpert\"}]");
    free (places);
    assert_true (json_is_null (json_object_get (json_object_get (row, "team"), "team_full")));
    assert_int_equal (en_json_int (row, "beraad_held", 0), 1);
    json_decref (cases);
}

//  A review day is 09:00 in the Netherlands, summer or winter, whatever
//  the process's time zone
static void
test_dutch_day (void **state)
{
    (void) state;
    char buf [32];
    assert_int_equal (en_nl_day_ms ("2026-12-09", 0, 9), 1796803200000LL);     //  08:00 UTC (CET)
    assert_int_equal (en_nl_day_ms ("2027-07-01", 0, 9), 1814425200000LL);     //  07:00 UTC (CEST)
    assert_int_equal (en_nl_day_ms ("2027-03-28", 0, 9), 1806217200000LL);     //  the day summer time starts
    assert_int_equal (en_nl_day_ms ("2026-12-30", 3, 9), en_nl_day_ms ("2027-01-02", 0, 9));
    assert_string_equal (en_nl_time_str (1814425200000LL, buf, sizeof buf), "2027-07-01 09:00");
    assert_string_equal (en_nl_time_str (1796803200000LL, buf, sizeof buf), "2026-12-09 09:00");
    assert_int_equal (en_nl_day_ms ("2027-02-30", 0, 9), -1);
    assert_int_equal (en_nl_day_ms ("2027-2-3", 0, 9), -1);
    assert_int_equal (en_nl_day_ms ("01-02-2027", 0, 9), -1);
    assert_int_equal (en_nl_day_ms (NULL, 0, 9), -1);
    assert_int_equal (en_nl_time_ms ("2027-07-01 09:30"), 1814425200000LL + 30 * 60000);
    assert_int_equal (en_nl_time_ms ("2027-07-01T09:30"), 1814425200000LL + 30 * 60000);
    assert_int_equal (en_nl_time_ms ("2027-07-01 24:00"), -1);
    assert_int_equal (en_nl_time_ms ("2027-07-01"), -1);
    assert_int_equal (en_nl_time_ms ("2027-07-01 9:30x"), -1);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_review_checks, s_setup, test_broker_teardown),
        cmocka_unit_test_setup_teardown (test_monitoring_and_reminder_once, s_setup, test_broker_teardown),
        cmocka_unit_test_setup_teardown (test_close_disarms_and_overdue, s_setup, test_broker_teardown),
        cmocka_unit_test_setup_teardown (test_beraad, s_setup, test_broker_teardown),
        cmocka_unit_test_setup_teardown (test_team_review, s_setup, test_broker_teardown),
        cmocka_unit_test_setup_teardown (test_team_beraad, s_setup, test_broker_teardown),
        cmocka_unit_test_setup_teardown (test_team_report_cases, s_setup, test_broker_teardown),
        cmocka_unit_test (test_dutch_day),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
