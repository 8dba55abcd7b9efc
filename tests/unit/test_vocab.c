/*  test_vocab - domain vocabulary and strict validation (include/en_vocab.h)
    and the small helpers of en_util (durations, names, ids).

    Validation is what keeps personal data off the network: an unknown
    field must be refused, and every refusal must name the field so the
    person at the node can fix it.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>

#include "expertnet.h"

static const char *s_full_request =
    "{\"id\":\"twente-0001\",\"region\":\"twente\",\"urgency\":\"crisis\","
    "\"question_type\":\"consultatie-advies\",\"expertise\":[\"trauma\",\"jggz\"],"
    "\"age_band\":\"12-17\",\"leefgebieden\":[\"jeugdhulp\",\"onderwijs\",\"wonen\"],"
    "\"problematiek\":[\"trauma\",\"gedrag\",\"ouders-overbelast\"],\"kader\":\"gedwongen\","
    "\"situatie\":\"residentieel\",\"stuck_on\":[\"inhoud\",\"aanbod-ontbreekt\"],"
    "\"question\":\"Welke behandeling past bij deze combinatie van problemen?\"}";

static const char *s_min_request =
    "{\"id\":\"ijsselland-0042\",\"region\":\"ijsselland\",\"urgency\":\"regulier\","
    "\"question_type\":\"procesregie\",\"expertise\":[\"lvb\"],\"age_band\":\"4-11\"}";

static const char *s_full_expert =
    "{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\","
    "\"expertise\":[\"trauma\",\"jggz\"],\"capacity\":2,\"absent_until\":0,"
    "\"bovenregionaal\":false,\"languages\":[\"nl\",\"en\"]}";

static json_t *
s_load (const char *text)
{
    json_error_t jerr;
    json_t *json = json_loads (text, JSON_DECODE_ANY, &jerr);
    if (!json)
        fail_msg ("fixture is not JSON: %s", jerr.text);
    return json;
}

//  The full request with key set to value (JSON text) or removed (NULL).
static json_t *
s_request_with (const char *key, const char *value)
{
    json_t *request = s_load (s_full_request);
    if (value)
        assert_int_equal (json_object_set_new (request, key, s_load (value)), 0);
    else
        json_object_del (request, key);
    return request;
}

static json_t *
s_expert_with (const char *key, const char *value)
{
    json_t *expert = s_load (s_full_expert);
    if (value)
        assert_int_equal (json_object_set_new (expert, key, s_load (value)), 0);
    else
        json_object_del (expert, key);
    return expert;
}

//  Expect the request to be refused with a message naming word.
static void
s_request_refused (json_t *request, const char *word)
{
    en_error_t error = { 0 };
    assert_int_equal (en_request_validate (request, &error), -1);
    assert_int_equal (error.code, EN_ERR_INVALID);
    if (!strstr (error.reason, word))
        fail_msg ("error '%s' does not name '%s'", error.reason, word);
    json_decref (request);
}

static void
s_expert_refused (json_t *expert, const char *word)
{
    en_error_t error = { 0 };
    assert_int_equal (en_expert_validate (expert, &error), -1);
    if (!strstr (error.reason, word))
        fail_msg ("error '%s' does not name '%s'", error.reason, word);
    json_decref (expert);
}

static void
s_request_accepted (json_t *request)
{
    en_error_t error = { 0 };
    if (en_request_validate (request, &error))
        fail_msg ("valid request refused: %s", error.reason);
    json_decref (request);
}

static void
s_expert_accepted (json_t *expert)
{
    en_error_t error = { 0 };
    if (en_expert_validate (expert, &error))
        fail_msg ("valid expert refused: %s", error.reason);
    json_decref (expert);
}

//  A JSON array text of n distinct tags.
static char *
s_tags (int n)
{
    char *text = (char *) malloc (16 * (size_t) n + 3);
    strcpy (text, "[");
    for (int i = 0; i < n; i++)
        sprintf (text + strlen (text), "%s\"tag-%d\"", i ? "," : "", i);
    strcat (text, "]");
    return text;
}

static void
test_request_valid (void **state)
{
    s_request_accepted (s_load (s_full_request));
    s_request_accepted (s_load (s_min_request));
    //  Every value of every closed vocabulary is accepted
    struct { const char *key; const char **list; } enums [] = {
        { "urgency", en_vocab_urgency }, { "question_type", en_vocab_question_type },
        { "age_band", en_vocab_age_band }, { "kader", en_vocab_kader },
        { "situatie", en_vocab_situatie } };
    for (size_t e = 0; e < sizeof enums / sizeof enums [0]; e++)
        for (const char **value = enums [e].list; *value; value++) {
            json_t *request = s_load (s_full_request);
            json_object_set_new (request, enums [e].key, json_string (*value));
            s_request_accepted (request);
        }
    //  Boundaries: 16 tags, a 2000-byte question, an id with dots
    char *tags = s_tags (EN_MAX_TAGS);
    s_request_accepted (s_request_with ("expertise", tags));
    s_request_accepted (s_request_with ("problematiek", tags));
    free (tags);
    json_t *request = s_load (s_full_request);
    char *question = (char *) malloc (EN_MAX_QUESTION + 1);
    memset (question, 'q', EN_MAX_QUESTION);
    question [EN_MAX_QUESTION] = 0;
    json_object_set_new (request, "question", json_string (question));
    free (question);
    s_request_accepted (request);
    s_request_accepted (s_request_with ("id", "\"twente.2024.0001\""));
    s_request_accepted (s_request_with ("leefgebieden", "[]"));
}

//  A team's places (EXPN/3): 1..8 of {role, expertise}; each problem
//  names its field as places[N].field, N counted from 1
static void
test_request_places (void **state)
{
    s_request_accepted (s_request_with ("places", "[{\"role\":\"superexpert\",\"expertise\":[\"trauma\"]},"
        "{\"role\":\"superexpert\",\"expertise\":[\"lvb\"]},{\"role\":\"ervaringsdeskundige\"}]"));
    s_request_refused (s_request_with ("places", "[]"), "places");
    s_request_refused (s_request_with ("places", "{}"), "places");
    char nine [512] = "[";
    for (int i = 0; i < EN_MAX_PLACES + 1; i++)
        strcat (nine, i ? ",{\"role\":\"superexpert\"}" : "{\"role\":\"superexpert\"}");
    strcat (nine, "]");
    s_request_refused (s_request_with ("places", nine), "1 to 8 places");
    s_request_refused (s_request_with ("places", "[{\"role\":\"superexpert\"},{\"role\":\"tovenaar\"}]"),
                       "field 'places[2].role' must be one of");
    s_request_refused (s_request_with ("places", "[{\"expertise\":[\"lvb\"]}]"), "field 'places[1].role' is required");
    s_request_refused (s_request_with ("places", "[{\"role\":\"superexpert\",\"expertise\":[\"Trauma\"]}]"),
                       "places[1].expertise");
    s_request_refused (s_request_with ("places", "[{\"role\":\"superexpert\",\"naam\":\"synthetic\"}]"),
                       "places[1] has unknown field 'naam'");
    s_request_refused (s_request_with ("places", "[\"superexpert\"]"), "places[1] must be a JSON object");

    //  The places routing works on: as given, or the one place of the Role rules
    json_t *request = s_request_with ("places", "[{\"role\":\"superexpert\",\"expertise\":[\"lvb\"]},"
                                                "{\"role\":\"ervaringsdeskundige\"}]");
    json_t *places = en_request_places (request);
    char *text = json_dumps (places, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal (text, "[{\"expertise\":[\"lvb\"],\"place\":1,\"roles\":[\"superexpert\"]},"
                               "{\"expertise\":[],\"place\":2,\"roles\":[\"ervaringsdeskundige\"]}]");
    free (text);
    json_decref (places);
    json_decref (request);
    request = s_load (s_min_request);
    json_object_set_new (request, "question_type", json_string ("moreel-beraad"));
    places = en_request_places (request);
    assert_int_equal (json_array_size (places), 1);
    text = json_dumps (json_object_get (json_array_get (places, 0), "roles"), JSON_COMPACT);
    assert_string_equal (text, "[\"ervaringsdeskundige\",\"superexpert\"]");
    free (text);
    assert_true (json_equal (json_object_get (json_array_get (places, 0), "expertise"),
                             json_object_get (request, "expertise")));
    json_decref (places);
    json_decref (request);
}

static void
test_request_unknown_field (void **state)
{
    s_request_refused (s_request_with ("naam", "\"synthetic\""), "naam");
    s_request_refused (s_request_with ("geboortedatum", "\"2010-01-01\""), "geboortedatum");
    s_request_refused (s_request_with ("bsn", "0"), "bsn");
    //  Not an object at all
    s_request_refused (s_load ("[\"twente-0001\"]"), "object");
}

static void
test_request_bad_enums (void **state)
{
    s_request_refused (s_request_with ("urgency", "\"spoed\""), "urgency");
    s_request_refused (s_request_with ("urgency", "1"), "urgency");
    s_request_refused (s_request_with ("urgency", NULL), "urgency");
    s_request_refused (s_request_with ("question_type", "\"advies\""), "question_type");
    s_request_refused (s_request_with ("question_type", NULL), "question_type");
    s_request_refused (s_request_with ("age_band", "\"12-18\""), "age_band");
    s_request_refused (s_request_with ("age_band", NULL), "age_band");
    s_request_refused (s_request_with ("kader", "\"ots\""), "kader");
    s_request_refused (s_request_with ("situatie", "\"straat\""), "situatie");
    s_request_refused (s_request_with ("situatie", "[\"thuis\"]"), "situatie");
    s_request_refused (s_request_with ("leefgebieden", "[\"sport\"]"), "leefgebieden");
    s_request_refused (s_request_with ("stuck_on", "[\"geld\"]"), "stuck_on");
    //  The message lists what is allowed
    json_t *request = s_request_with ("urgency", "\"spoed\"");
    en_error_t error = { 0 };
    assert_int_equal (en_request_validate (request, &error), -1);
    assert_non_null (strstr (error.reason, "crisis"));
    assert_non_null (strstr (error.reason, "regulier"));
    json_decref (request);
}

//  Several wrong fields: every one is named, not only the first (a person
//  fixing a submit should not have to try once per field)
static void
test_request_every_problem (void **state)
{
    json_t *request = s_request_with ("urgency", "\"spoed\"");
    json_object_set_new (request, "age_band", json_string ("12-18"));
    json_object_set_new (request, "naam", json_string ("synthetic"));
    en_error_t error = { 0 };
    assert_int_equal (en_request_validate (request, &error), -1);
    assert_int_equal (error.code, EN_ERR_INVALID);
    assert_non_null (strstr (error.reason, "urgency"));
    assert_non_null (strstr (error.reason, "age_band"));
    assert_non_null (strstr (error.reason, "naam"));
    json_decref (request);
    //  More than fit in one reason in full: each field still named
    request = s_load ("{\"id\": \"X\", \"region\": \"Twente\", \"urgency\": \"spoed\", \"question_type\": \"x\","
                      " \"expertise\": [], \"age_band\": \"x\", \"leefgebieden\": [\"x\"], \"kader\": \"x\","
                      " \"situatie\": \"x\", \"stuck_on\": [\"x\"]}");
    en_error_clear (&error);
    assert_int_equal (en_request_validate (request, &error), -1);
    const char *fields [] = { "id", "region", "urgency", "question_type", "expertise", "age_band",
                              "leefgebieden", "kader", "situatie", "stuck_on", NULL };
    for (int i = 0; fields [i]; i++)
        if (!strstr (error.reason, fields [i]))
            fail_msg ("error '%s' does not name '%s'", error.reason, fields [i]);
    json_decref (request);
    //  The expert record and the outcome say every problem too
    json_t *expert = s_load ("{\"id\": \"se-1\", \"region\": \"twente\", \"role\": \"koning\", \"capacity\": 99}");
    en_error_clear (&error);
    assert_int_equal (en_expert_validate (expert, &error), -1);
    assert_non_null (strstr (error.reason, "role"));
    assert_non_null (strstr (error.reason, "capacity"));
    json_decref (expert);
    json_t *outcome = s_load ("{\"passende_hulp\": 1, \"zero\": {\"suicides\": -1}}");
    en_error_clear (&error);
    assert_int_equal (en_outcome_validate (outcome, &error), -1);
    assert_non_null (strstr (error.reason, "passende_hulp"));
    assert_non_null (strstr (error.reason, "suicides"));
    json_decref (outcome);
}

static void
test_request_bad_id_region (void **state)
{
    s_request_refused (s_request_with ("id", NULL), "id");
    s_request_refused (s_request_with ("id", "\"Twente-0001\""), "id");
    s_request_refused (s_request_with ("id", "\"twente/0001\""), "id");
    s_request_refused (s_request_with ("id", "42"), "id");
    //  An id so long that its offer ids ("<id>-oN") would not be valid ids
    char quoted [EN_MAX_REQUEST_ID + 8];
    memset (quoted, '0', sizeof quoted);
    quoted [0] = '"';
    quoted [EN_MAX_REQUEST_ID + 2] = '"';       //  EN_MAX_REQUEST_ID + 1 characters
    quoted [EN_MAX_REQUEST_ID + 3] = 0;
    s_request_refused (s_request_with ("id", quoted), "id");
    s_request_refused (s_request_with ("region", "\"Twente\""), "region");
    s_request_refused (s_request_with ("region", NULL), "region");
}

static void
test_request_bad_tags (void **state)
{
    s_request_refused (s_request_with ("expertise", "[\"Trauma\"]"), "expertise");
    s_request_refused (s_request_with ("expertise", "[\"trauma jggz\"]"), "expertise");
    s_request_refused (s_request_with ("expertise", "[\"-trauma\"]"), "expertise");
    s_request_refused (s_request_with ("expertise", "[\"\"]"), "expertise");
    s_request_refused (s_request_with ("expertise", "[1]"), "expertise");
    s_request_refused (s_request_with ("expertise", "\"trauma\""), "expertise");
    s_request_refused (s_request_with ("problematiek", "[\"Gedrag\"]"), "problematiek");
    //  Duplicate tag
    json_t *request = s_request_with ("expertise", "[\"trauma\",\"jggz\",\"trauma\"]");
    en_error_t error = { 0 };
    assert_int_equal (en_request_validate (request, &error), -1);
    assert_non_null (strstr (error.reason, "expertise"));
    assert_non_null (strstr (error.reason, "twice"));
    json_decref (request);
    s_request_refused (s_request_with ("stuck_on", "[\"inhoud\",\"inhoud\"]"), "stuck_on");
    //  Empty and missing expertise: nothing to match on
    s_request_refused (s_request_with ("expertise", "[]"), "expertise");
    s_request_refused (s_request_with ("expertise", NULL), "expertise");
    //  Too many tags
    char *tags = s_tags (EN_MAX_TAGS + 1);
    s_request_refused (s_request_with ("expertise", tags), "expertise");
    s_request_refused (s_request_with ("problematiek", tags), "problematiek");
    free (tags);
}

static void
test_request_question (void **state)
{
    json_t *request = s_load (s_full_request);
    char *question = (char *) malloc (EN_MAX_QUESTION + 2);
    memset (question, 'q', EN_MAX_QUESTION + 1);
    question [EN_MAX_QUESTION + 1] = 0;
    json_object_set_new (request, "question", json_string (question));
    free (question);
    s_request_refused (request, "question");
    s_request_refused (s_request_with ("question", "42"), "question");
}

static void
test_expert_valid (void **state)
{
    s_expert_accepted (s_load (s_full_expert));
    s_expert_accepted (s_load ("{\"id\":\"pr-ij-01\",\"role\":\"procesregisseur\","
                               "\"region\":\"ijsselland\",\"capacity\":0}"));
    s_expert_accepted (s_expert_with ("bovenregionaal", "true"));
    s_expert_accepted (s_expert_with ("capacity", "50"));
    s_expert_accepted (s_expert_with ("absent_until", "1700000000000"));
    for (const char **role = en_vocab_role; *role; role++) {
        json_t *expert = s_load (s_full_expert);
        json_object_set_new (expert, "role", json_string (*role));
        s_expert_accepted (expert);
    }
}

static void
test_expert_refused (void **state)
{
    s_expert_refused (s_expert_with ("naam", "\"synthetic\""), "naam");
    s_expert_refused (s_expert_with ("capacity", "-1"), "capacity");
    s_expert_refused (s_expert_with ("capacity", "51"), "capacity");
    s_expert_refused (s_expert_with ("capacity", "\"2\""), "capacity");
    s_expert_refused (s_expert_with ("capacity", "2.5"), "capacity");
    s_expert_refused (s_expert_with ("capacity", NULL), "capacity");
    s_expert_refused (s_expert_with ("role", "\"manager\""), "role");
    s_expert_refused (s_expert_with ("role", NULL), "role");
    s_expert_refused (s_expert_with ("bovenregionaal", "\"ja\""), "bovenregionaal");
    s_expert_refused (s_expert_with ("bovenregionaal", "1"), "bovenregionaal");
    s_expert_refused (s_expert_with ("absent_until", "-1"), "absent_until");
    s_expert_refused (s_expert_with ("absent_until", "\"morgen\""), "absent_until");
    s_expert_refused (s_expert_with ("id", "\"SE-TW-01\""), "id");
    s_expert_refused (s_expert_with ("id", NULL), "id");
    s_expert_refused (s_expert_with ("region", "\"twente ijsselland\""), "region");
    s_expert_refused (s_expert_with ("expertise", "[\"trauma\",\"trauma\"]"), "expertise");
    s_expert_refused (s_expert_with ("expertise", "[\"Trauma\"]"), "expertise");
    s_expert_refused (s_expert_with ("languages", "[\"NL\"]"), "languages");
    s_expert_refused (s_load ("\"se-tw-01\""), "object");
}

//  list holds exactly the given roles, in any order.
static void
s_assert_roles (const char **list, int count, ...)
{
    int size = 0;
    while (list [size])
        size++;
    assert_int_equal (size, count);
    va_list args;
    va_start (args, count);
    for (int i = 0; i < count; i++) {
        const char *role = va_arg (args, const char *);
        if (!en_vocab_has (list, role))
            fail_msg ("role %s missing", role);
    }
    va_end (args);
}

static void
test_roles_for (void **state)
{
    s_assert_roles (en_vocab_roles_for ("procesregie"), 1, "procesregisseur");
    s_assert_roles (en_vocab_roles_for ("consultatie-advies"), 1, "superexpert");
    s_assert_roles (en_vocab_roles_for ("moreel-beraad"), 2, "ervaringsdeskundige", "superexpert");
    s_assert_roles (en_vocab_roles_for ("organiseren-hulp"), 2, "procesregisseur", "superexpert");
    s_assert_roles (en_vocab_roles_for ("overbruggingsfinanciering"), 1, "procesregisseur");
    //  Every question type has at least one known role
    for (const char **type = en_vocab_question_type; *type; type++) {
        const char **roles = en_vocab_roles_for (*type);
        assert_non_null (roles [0]);
        for (; *roles; roles++)
            assert_true (en_vocab_has (en_vocab_role, *roles));
    }
}

static void
test_vocab_has_and_urgency (void **state)
{
    assert_true (en_vocab_has (en_vocab_urgency, "crisis"));
    assert_false (en_vocab_has (en_vocab_urgency, "Crisis"));
    assert_false (en_vocab_has (en_vocab_urgency, NULL));
    assert_int_equal (en_vocab_urgency_index ("crisis"), 0);
    assert_int_equal (en_vocab_urgency_index ("hoog"), 1);
    assert_int_equal (en_vocab_urgency_index ("regulier"), 2);
    assert_int_equal (en_vocab_urgency_index ("spoed"), -1);
    assert_int_equal (en_vocab_urgency_index (NULL), -1);
}

static void
test_duration (void **state)
{
    assert_int_equal (en_duration_ms ("90"), 90000);
    assert_int_equal (en_duration_ms ("90s"), 90000);
    assert_int_equal (en_duration_ms ("250ms"), 250);
    assert_int_equal (en_duration_ms ("15m"), 15 * 60 * 1000);
    assert_int_equal (en_duration_ms ("4h"), 4 * 3600 * 1000);
    assert_int_equal (en_duration_ms ("3d"), 3 * 86400 * 1000LL);
    assert_int_equal (en_duration_ms ("0"), 0);
    const char *bad [] = { "", "abc", "-5", "-5m", "5x", "5 m", "m", "1.5h", "15M",
                           "5mss", "9223372036854775807d", "99999999999999999999", NULL };
    for (int i = 0; bad [i]; i++)
        if (en_duration_ms (bad [i]) != -1)
            fail_msg ("'%s' parsed as a duration", bad [i]);
    assert_int_equal (en_duration_ms (NULL), -1);
}

static void
test_names_and_ids (void **state)
{
    char name [82];
    assert_true (en_name_valid ("twente"));
    assert_true (en_name_valid ("se-tw-01"));
    assert_true (en_name_valid ("0ijsselland"));
    assert_false (en_name_valid ("-twente"));
    assert_false (en_name_valid ("Twente"));
    assert_false (en_name_valid ("twente.oost"));
    assert_false (en_name_valid ("twente_oost"));
    assert_false (en_name_valid ("twente oost"));
    assert_false (en_name_valid (""));
    assert_false (en_name_valid (NULL));
    memset (name, 'a', 63);
    name [63] = 0;
    assert_true (en_name_valid (name));
    name [63] = 'a';
    name [64] = 0;
    assert_false (en_name_valid (name));

    assert_true (en_id_valid ("twente-0001"));
    assert_true (en_id_valid ("twente.0001-o2"));
    assert_false (en_id_valid (".twente"));
    assert_false (en_id_valid ("Twente-0001"));
    assert_false (en_id_valid ("twente/0001"));
    assert_false (en_id_valid ("twente 0001"));
    assert_false (en_id_valid (""));
    assert_false (en_id_valid (NULL));
    memset (name, 'a', 80);
    name [80] = 0;
    assert_true (en_id_valid (name));
    name [80] = 'a';
    name [81] = 0;
    assert_false (en_id_valid (name));
}

static void
test_new_id (void **state)
{
    char *a = en_new_id ();
    char *b = en_new_id ();
    assert_int_equal (strlen (a), 32);
    for (const char *p = a; *p; p++)
        assert_true ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
    assert_string_not_equal (a, b);
    free (a);
    free (b);
    char hex [9];
    en_random_hex (hex, 8);
    assert_int_equal (strlen (hex), 8);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logident ("test_vocab");
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_request_valid),
        cmocka_unit_test (test_request_unknown_field),
        cmocka_unit_test (test_request_places),
        cmocka_unit_test (test_request_bad_enums),
        cmocka_unit_test (test_request_every_problem),
        cmocka_unit_test (test_request_bad_id_region),
        cmocka_unit_test (test_request_bad_tags),
        cmocka_unit_test (test_request_question),
        cmocka_unit_test (test_expert_valid),
        cmocka_unit_test (test_expert_refused),
        cmocka_unit_test (test_roles_for),
        cmocka_unit_test (test_vocab_has_and_urgency),
        cmocka_unit_test (test_duration),
        cmocka_unit_test (test_names_and_ids),
        cmocka_unit_test (test_new_id),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
