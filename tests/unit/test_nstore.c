/*  test_nstore - the node store's refusals follow the one error
    convention (include/en_error.h): -1 with the code that says which
    refusal it was (409 exists, 404 unknown), and the row left as it was.
    What the stored rows hold is tested by the integration tests, which
    drive a running node. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "expertnet.h"
#include "en_nstore.h"
#include "test_fixture.h"

typedef test_nstore_fixture_t fixture_t;

//  The code a failed call left in error (and forget it for the next)
static int
s_code (en_error_t *error)
{
    int code = error->code;
    assert_true (*error->reason);
    en_error_clear (error);
    return code;
}

static void
test_requests (void **state)
{
    fixture_t *fx = (fixture_t *) *state;
    en_error_t error = { 0 };
    json_t *request = test_json ("{\"id\":\"twente-0001\",\"urgency\":\"hoog\"}");
    assert_int_equal (en_nstore_request_insert (fx->store, request, "m1", &error), 0);
    assert_int_equal (en_nstore_request_insert (fx->store, request, "m2", &error), -1);
    assert_int_equal (s_code (&error), EN_ERR_CONFLICT);
    json_decref (request);

    json_t *status = test_json ("{\"request\":\"twente-0001\",\"state\":\"offered\",\"event\":\"offered\"}");
    assert_int_equal (en_nstore_request_status (fx->store, status, &error), 0);
    json_decref (status);
    status = test_json ("{\"request\":\"twente-0002\",\"state\":\"offered\",\"event\":\"offered\"}");
    assert_int_equal (en_nstore_request_status (fx->store, status, &error), -1);
    assert_int_equal (s_code (&error), EN_ERR_NOT_FOUND);
    assert_null (en_nstore_request (fx->store, "twente-0002"));
    json_decref (status);
}

//  The places at the origin follow the broker's STATUS: a place's own
//  change moves that place; a change of the whole request (a review date:
//  monitoring; a close) moves every place still open, keeping each
//  place's expert; a place closed on its own stays closed
static void
s_status (fixture_t *fx, const char *json)
{
    en_error_t error = { 0 };
    json_t *status = test_json (json);
    assert_int_equal (en_nstore_request_status (fx->store, status, &error), 0);
    json_decref (status);
}

static void
s_assert_place (fixture_t *fx, const char *id, size_t index, const char *state, const char *expert)
{
    json_t *request = en_nstore_request (fx->store, id);
    json_t *place = json_array_get (json_object_get (request, "places"), index);
    assert_non_null (place);
    assert_string_equal (en_json_str (place, "state"), state);
    if (expert)
        assert_string_equal (en_json_str (place, "expert"), expert);
    json_decref (request);
}

static void
test_place_states (void **state)
{
    fixture_t *fx = (fixture_t *) *state;
    en_error_t error = { 0 };
    json_t *team = test_json ("{\"id\":\"twente-0003\",\"urgency\":\"hoog\","
        "\"question_type\":\"consultatie-advies\",\"expertise\":[\"trauma\"],"
        "\"places\":[{\"role\":\"superexpert\",\"expertise\":[\"trauma\"]},"
        "{\"role\":\"superexpert\",\"expertise\":[\"lvb\"]},{\"role\":\"ervaringsdeskundige\",\"expertise\":[]}]}");
    assert_int_equal (en_nstore_request_insert (fx->store, team, "m3", &error), 0);
    json_decref (team);
    s_status (fx, "{\"request\":\"twente-0003\",\"state\":\"offered\",\"place\":1,"
                  "\"place_state\":\"accepted\",\"event\":\"accepted\",\"expert\":\"se-1\"}");
    s_status (fx, "{\"request\":\"twente-0003\",\"state\":\"offered\",\"place\":2,"
                  "\"place_state\":\"closed\",\"event\":\"operator-close\"}");
    s_status (fx, "{\"request\":\"twente-0003\",\"state\":\"advice\",\"place\":3,"
                  "\"place_state\":\"advice\",\"event\":\"advice\",\"expert\":\"ed-1\"}");
    s_status (fx, "{\"request\":\"twente-0003\",\"state\":\"monitoring\",\"event\":\"monitoring\"}");
    s_assert_place (fx, "twente-0003", 0, "monitoring", "se-1");
    s_assert_place (fx, "twente-0003", 1, "closed", NULL);
    s_assert_place (fx, "twente-0003", 2, "monitoring", "ed-1");
    //  a beraad's note moves nothing
    s_status (fx, "{\"request\":\"twente-0003\",\"state\":\"monitoring\",\"event\":\"beraad-proposed\"}");
    s_assert_place (fx, "twente-0003", 0, "monitoring", "se-1");
    s_status (fx, "{\"request\":\"twente-0003\",\"state\":\"closed\",\"event\":\"closed\"}");
    s_assert_place (fx, "twente-0003", 0, "closed", "se-1");
    s_assert_place (fx, "twente-0003", 2, "closed", "ed-1");

    //  One place: the request's monitoring keeps its expert
    json_t *one = test_json ("{\"id\":\"twente-0004\",\"urgency\":\"hoog\","
        "\"question_type\":\"consultatie-advies\",\"expertise\":[\"trauma\"]}");
    assert_int_equal (en_nstore_request_insert (fx->store, one, "m4", &error), 0);
    json_decref (one);
    s_status (fx, "{\"request\":\"twente-0004\",\"state\":\"accepted\",\"place\":1,"
                  "\"place_state\":\"accepted\",\"event\":\"accepted\",\"expert\":\"se-2\"}");
    s_status (fx, "{\"request\":\"twente-0004\",\"state\":\"monitoring\",\"event\":\"monitoring\"}");
    s_assert_place (fx, "twente-0004", 0, "monitoring", "se-2");
}

//  What arrives sealed to an expert is kept only with an offer the
//  expert accepted
static void
test_sealed_needs_accepted_offer (void **state)
{
    fixture_t *fx = (fixture_t *) *state;
    en_error_t error = { 0 };
    json_t *offer = test_json ("{\"offer\":\"ijsselland-0001-o1\",\"request_id\":\"ijsselland-0001\","
                               "\"expert\":\"se-tw-01\",\"kind\":\"offer\",\"deadline\":1700000400000}");
    assert_int_equal (en_nstore_offer_insert (fx->store, offer), 0);
    json_decref (offer);
    assert_int_equal (en_nstore_offer_dossier_put (fx->store, "ijsselland-0001", "se-tw-01", "v1:x", &error), -1);
    assert_int_equal (s_code (&error), EN_ERR_NOT_FOUND);
    assert_int_equal (en_nstore_offer_reply_put (fx->store, "ijsselland-0001", "se-tw-01", "v1:y", &error), -1);
    assert_int_equal (s_code (&error), EN_ERR_NOT_FOUND);

    assert_int_equal (en_nstore_offer_answer (fx->store, "ijsselland-0001-o1", "accept", "m1"), 0);
    assert_int_equal (en_nstore_offer_dossier_put (fx->store, "ijsselland-0001", "se-tw-02", "v1:x", &error), -1);
    assert_int_equal (s_code (&error), EN_ERR_NOT_FOUND);
    assert_int_equal (en_nstore_offer_dossier_put (fx->store, "ijsselland-0001", "se-tw-01", "v1:x", &error), 0);
    assert_int_equal (en_nstore_offer_reply_put (fx->store, "ijsselland-0001", "se-tw-01", "v1:y", NULL), 0);
    char *dossier = en_nstore_offer_dossier (fx->store, "ijsselland-0001-o1");
    assert_string_equal (dossier, "v1:x");
    free (dossier);
    json_t *replies = en_nstore_offer_replies (fx->store, "ijsselland-0001-o1");
    assert_int_equal (json_array_size (replies), 1);
    json_decref (replies);
}

static void
test_users (void **state)
{
    fixture_t *fx = (fixture_t *) *state;
    en_error_t error = { 0 };
    json_t *user = test_json ("{\"name\":\"medewerker-1\",\"role\":\"medewerker\",\"pwhash\":\"$test$\"}");
    assert_int_equal (en_nstore_user_insert (fx->store, user, &error), 0);
    assert_int_equal (en_nstore_user_insert (fx->store, user, &error), -1);
    assert_int_equal (s_code (&error), EN_ERR_CONFLICT);
    json_decref (user);

    //  A TOTP step is used once: the same or an earlier one is a replay
    assert_int_equal (en_nstore_user_login (fx->store, "medewerker-1", 1000, 57, &error), 0);
    assert_int_equal (en_nstore_user_login (fx->store, "medewerker-1", 2000, 57, &error), -1);
    assert_int_equal (s_code (&error), EN_ERR_CONFLICT);
    assert_int_equal (en_nstore_user_login (fx->store, "medewerker-1", 2000, 56, &error), -1);
    assert_int_equal (s_code (&error), EN_ERR_CONFLICT);
    assert_int_equal (en_nstore_user_login (fx->store, "medewerker-1", 3000, 58, &error), 0);
    assert_int_equal (en_nstore_user_login (fx->store, "medewerker-1", 4000, -1, &error), 0);

    assert_int_equal (en_nstore_user_remove (fx->store, "medewerker-1", &error), 0);
    assert_null (en_nstore_user (fx->store, "medewerker-1"));
    assert_int_equal (en_nstore_user_remove (fx->store, "medewerker-1", &error), -1);
    assert_int_equal (s_code (&error), EN_ERR_NOT_FOUND);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_requests, test_nstore_setup, test_nstore_teardown),
        cmocka_unit_test_setup_teardown (test_place_states, test_nstore_setup, test_nstore_teardown),
        cmocka_unit_test_setup_teardown (test_sealed_needs_accepted_offer, test_nstore_setup, test_nstore_teardown),
        cmocka_unit_test_setup_teardown (test_users, test_nstore_setup, test_nstore_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
