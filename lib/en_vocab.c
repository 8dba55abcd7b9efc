/*  en_vocab - domain vocabulary and strict validation of published data.

    The lists mirror shared/DOMAIN.md and docs/protocol.md. Expertise and
    problematiek are open tag sets (new specialisms appear), so they are
    checked for syntax only; every other field is a closed vocabulary.

    A validator checks every field and reports every problem (s_problems_t)
    in one en_error_t: a person who got three fields wrong learns of all
    three at once, through the CLI, the portal or the broker's ERROR.
*/
#include "expertnet.h"
#include <stdarg.h>

const char *en_vocab_urgency [] = { "crisis", "hoog", "regulier", NULL };
const char *en_vocab_question_type [] = {
    "consultatie-advies", "procesregie", "moreel-beraad",
    "organiseren-hulp", "overbruggingsfinanciering", NULL };
const char *en_vocab_age_band [] = { "0-3", "4-11", "12-17", "18-23", NULL };
const char *en_vocab_leefgebied [] = {
    "jeugdhulp", "onderwijs", "wonen", "financien", "werk-inkomen",
    "gezondheid", "veiligheid", "dagbesteding", NULL };
const char *en_vocab_kader [] = { "vrijwillig", "gedwongen", NULL };
const char *en_vocab_situatie [] = {
    "thuis", "pleegzorg", "gezinshuis", "residentieel", "jeugdzorgplus",
    "3-milieu", "crisis", NULL };
const char *en_vocab_stuck_on [] = {
    "inhoud", "samenwerking", "financiering", "wachttijd",
    "aanbod-ontbreekt", NULL };
const char *en_vocab_phase [] = {
    "aanmelding", "triage", "plan", "monitoren", "afgesloten", NULL };
static const char *s_zero_goals [] = {
    "gedwongen_afzonderingen", "suicides", "gesloten_plaatsingen", "doorplaatsingen", NULL };
const char *en_vocab_role [] = {
    "superexpert", "procesregisseur", "ervaringsdeskundige", NULL };

//  Role rules: who may be offered which question type.
static const char *s_roles_advice [] = { "superexpert", NULL };
static const char *s_roles_procesregie [] = { "procesregisseur", NULL };
static const char *s_roles_moreel [] = { "ervaringsdeskundige", "superexpert", NULL };
static const char *s_roles_hulp [] = { "procesregisseur", "superexpert", NULL };
static const char *s_roles_financiering [] = { "procesregisseur", NULL };

bool
en_vocab_has (const char **list, const char *value)
{
    if (!value)
        return false;
    for (; *list; list++)
        if (streq (*list, value))
            return true;
    return false;
}

bool
en_vocab_pseudonym_valid (const char *text)
{
    if (!text || text [0] != 'p')
        return false;
    const char *dash = strchr (text, '-');
    if (!dash || dash == text + 1 || dash - text > 10 || strlen (dash + 1) != 32)
        return false;
    for (const char *p = text + 1; p < dash; p++)
        if (*p < '0' || *p > '9')
            return false;
    for (const char *p = dash + 1; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int
en_vocab_urgency_index (const char *urgency)
{
    for (int i = 0; urgency && en_vocab_urgency [i]; i++)
        if (streq (en_vocab_urgency [i], urgency))
            return i;
    return -1;
}

const char **
en_vocab_roles_for (const char *question_type)
{
    if (question_type && streq (question_type, "procesregie"))
        return s_roles_procesregie;
    if (question_type && streq (question_type, "moreel-beraad"))
        return s_roles_moreel;
    if (question_type && streq (question_type, "organiseren-hulp"))
        return s_roles_hulp;
    if (question_type && streq (question_type, "overbruggingsfinanciering"))
        return s_roles_financiering;
    return s_roles_advice;
}

static bool
s_hex_valid (const char *text, size_t size)
{
    if (strlen (text) != size)
        return false;
    for (const char *p = text; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

//  The problems found in one record. Validation goes on after the first
//  one, so a person who got several fields wrong hears of all of them at
//  once instead of one per attempt.
typedef struct {
    int count;                  //  problems found so far
    char first [256];           //  the first problem, in full
    char text [1024];           //  every problem, "; " between them
    char fields [200];          //  the wrong fields' names, ", " between
} s_problems_t;

//  Record one problem with field (printf-style text). Returns -1.
static int
s_fail (s_problems_t *problems, const char *field, const char *format, ...)
{
    char line [256];
    va_list args;
    va_start (args, format);
    vsnprintf (line, sizeof line, format, args);
    va_end (args);
    if (problems->count++ == 0)
        snprintf (problems->first, sizeof problems->first, "%s", line);
    size_t used = strlen (problems->text);
    snprintf (problems->text + used, sizeof problems->text - used, "%s%s", used ? "; " : "", line);
    used = strlen (problems->fields);
    snprintf (problems->fields + used, sizeof problems->fields - used, "%s'%.40s'", used ? ", " : "", field);
    return -1;
}

//  0 when nothing was wrong, else -1 with every problem in error: in
//  full when they fit in one reason, else every field named and the
//  first problem in full.
static int
s_verdict (s_problems_t *problems, en_error_t *error)
{
    if (problems->count == 0)
        return 0;
    if (problems->count == 1 || strlen (problems->text) < sizeof error->reason)
        return en_error_set (error, EN_ERR_INVALID, "%s", problems->text);
    return en_error_set (error, EN_ERR_INVALID, "%d fields are wrong: %s; first: %s", problems->count,
                         problems->fields, problems->first);
}

static void
s_list_text (const char **list, char *buf, size_t size)
{
    buf [0] = 0;
    for (; *list; list++) {
        strncat (buf, *list, size - strlen (buf) - 1);
        if (list [1])
            strncat (buf, ", ", size - strlen (buf) - 1);
    }
}

//  A string field from a closed vocabulary.
static int
s_check_enum (json_t *obj, const char *key, const char **list, bool required, s_problems_t *problems)
{
    json_t *value = json_object_get (obj, key);
    char allowed [256];
    s_list_text (list, allowed, sizeof allowed);
    if (!value)
        return required ? s_fail (problems, key, "field '%s' is required (one of: %s)", key, allowed) : 0;
    if (!json_is_string (value) || !en_vocab_has (list, json_string_value (value)))
        return s_fail (problems, key, "field '%s' must be one of: %s", key, allowed);
    return 0;
}

//  One entry of a list field: from list (or any valid tag when list is
//  NULL), not a repeat of an earlier entry.
static int
s_check_item (json_t *array, size_t i, const char *key, const char **list, s_problems_t *problems)
{
    const char *item = json_string_value (json_array_get (array, i));
    if (!item)
        return s_fail (problems, key, "field '%s' must hold strings", key);
    if (list && !en_vocab_has (list, item)) {
        char allowed [256];
        s_list_text (list, allowed, sizeof allowed);
        return s_fail (problems, key, "field '%s': '%.40s' is not one of: %s", key, item, allowed);
    }
    if (!list && !en_name_valid (item))
        return s_fail (problems, key, "field '%s': '%.40s' is not a tag (lowercase letters, digits and '-')",
                       key, item);
    for (size_t j = 0; j < i; j++)
        if (streq (item, json_string_value (json_array_get (array, j))))
            return s_fail (problems, key, "field '%s': '%.40s' appears twice", key, item);
    return 0;
}

//  An array of strings, each from list (or any valid tag when list is
//  NULL), no duplicates, min..max entries. One problem per field.
static int
s_check_array (json_t *obj, const char *key, const char **list, size_t min, size_t max, s_problems_t *problems)
{
    json_t *value = json_object_get (obj, key);
    if (!value) {
        if (min > 0)
            return s_fail (problems, key, "field '%s' is required (a list of at least %zu)", key, min);
        return 0;
    }
    if (!json_is_array (value))
        return s_fail (problems, key, "field '%s' must be a list", key);
    size_t size = json_array_size (value);
    if (size < min || size > max)
        return s_fail (problems, key, "field '%s' must hold %zu to %zu entries, not %zu", key, min, max, size);
    for (size_t i = 0; i < size; i++)
        if (s_check_item (value, i, key, list, problems))
            return -1;
    return 0;
}

//  obj is an object with no field outside allowed (each unknown one is
//  a problem). -1 when obj is not an object at all: nothing more to check.
static int
s_check_fields (json_t *obj, const char **allowed, const char *what, s_problems_t *problems)
{
    if (!json_is_object (obj))
        return s_fail (problems, what, "%s must be a JSON object", what);
    const char *key;
    json_t *value;
    json_object_foreach (obj, key, value) {
        if (!en_vocab_has (allowed, key))
            s_fail (problems, key, "%s has unknown field '%.40s' (refused so nothing unintended is published)",
                    what, key);
    }
    return 0;
}

//  The anonymized client profile a request and a case summary share (age
//  band required in a request, optional in a summary).
static void
s_check_profile (json_t *obj, bool age_required, s_problems_t *problems)
{
    s_check_enum (obj, "age_band", en_vocab_age_band, age_required, problems);
    s_check_array (obj, "leefgebieden", en_vocab_leefgebied, 0, 8, problems);
    s_check_array (obj, "problematiek", NULL, 0, EN_MAX_TAGS, problems);
    s_check_enum (obj, "kader", en_vocab_kader, false, problems);
    s_check_enum (obj, "situatie", en_vocab_situatie, false, problems);
    s_check_array (obj, "stuck_on", en_vocab_stuck_on, 0, 5, problems);
}

//  A request's places (EXPN/3): 1..EN_MAX_PLACES objects {role, expertise},
//  each role an expert role, each expertise 0..16 distinct tags. Places
//  are numbered from 1, and a problem names its field as places[N].role.
static void
s_check_places (json_t *places, s_problems_t *problems)
{
    static const char *fields [] = { "role", "expertise", NULL };
    if (!places)
        return;
    if (!json_is_array (places) || json_array_size (places) < 1 || json_array_size (places) > EN_MAX_PLACES) {
        s_fail (problems, "places", "field 'places' must be a list of 1 to %d places {role, expertise}",
                EN_MAX_PLACES);
        return;
    }
    size_t index;
    json_t *place;
    json_array_foreach (places, index, place) {
        char field [64], what [32];
        snprintf (what, sizeof what, "places[%zu]", index + 1);
        s_problems_t inner = { 0 };
        if (s_check_fields (place, fields, what, &inner) == 0) {
            s_check_enum (place, "role", en_vocab_role, true, &inner);
            s_check_array (place, "expertise", NULL, 0, EN_MAX_TAGS, &inner);
        }
        if (inner.count == 0)
            continue;
        //  The inner reason with its field named in full: "field 'role' ..."
        //  becomes "field 'places[2].role' ..."
        const char *rest = inner.first;
        char name [16] = "";
        if (strncmp (rest, "field '", 7) == 0 && strchr (rest + 7, '\'')) {
            size_t length = strchr (rest + 7, '\'') - (rest + 7);
            snprintf (name, sizeof name, "%.*s", (int) (length < 15 ? length : 15), rest + 7);
            rest += 7 + length + 1;
        }
        snprintf (field, sizeof field, "%s%s%s", what, *name ? "." : "", name);
        if (*name)
            s_fail (problems, field, "field '%s'%s", field, rest);
        else
            s_fail (problems, what, "%s", rest);
    }
}

int
en_request_validate (json_t *request, en_error_t *error)
{
    static const char *fields [] = {
        "id", "region", "urgency", "question_type", "expertise", "age_band",
        "leefgebieden", "problematiek", "kader", "situatie", "stuck_on",
        "question", "case", "places", NULL };
    s_problems_t problems = { 0 };
    if (s_check_fields (request, fields, "request", &problems))
        return s_verdict (&problems, error);
    const char *id = en_json_str (request, "id");
    if (!en_id_valid (id) || strlen (id) > EN_MAX_REQUEST_ID)
        s_fail (&problems, "id", "field 'id' must be an id of [a-z0-9-.], at most %d characters", EN_MAX_REQUEST_ID);
    if (!en_name_valid (en_json_str (request, "region")))
        s_fail (&problems, "region", "field 'region' must be a jeugdregio name, e.g. twente");
    s_check_enum (request, "urgency", en_vocab_urgency, true, &problems);
    s_check_enum (request, "question_type", en_vocab_question_type, true, &problems);
    s_check_array (request, "expertise", NULL, 1, EN_MAX_TAGS, &problems);
    s_check_profile (request, true, &problems);
    json_t *pseudonym = json_object_get (request, "case");
    if (pseudonym && !en_vocab_pseudonym_valid (json_string_value (pseudonym)))
        s_fail (&problems, "case", "field 'case' must be a case pseudonym (p<version>-<32 hex>)");
    json_t *question = json_object_get (request, "question");
    if (question && (!json_is_string (question)
                     || strlen (json_string_value (question)) > EN_MAX_QUESTION))
        s_fail (&problems, "question", "field 'question' must be text of at most %d bytes", EN_MAX_QUESTION);
    s_check_places (json_object_get (request, "places"), &problems);
    return s_verdict (&problems, error);
}

json_t *
en_request_places (json_t *request)
{
    json_t *places = json_array ();
    json_t *asked = json_object_get (request, "places");
    if (json_is_array (asked) && json_array_size (asked) > 0) {
        size_t index;
        json_t *place;
        json_array_foreach (asked, index, place)
        {
            json_t *tags = json_object_get (place, "expertise");
            json_array_append_new (places, json_pack ("{s:I, s:[O], s:o}", "place", (json_int_t) index + 1,
                "roles", json_object_get (place, "role"), "expertise", tags ? json_incref (tags) : json_array ()));
        }
        return places;
    }
    //  One place: the Role rules of the question type, the request's tags
    json_t *roles = json_array ();
    for (const char **role = en_vocab_roles_for (en_json_str (request, "question_type")); *role; role++)
        json_array_append_new (roles, json_string (*role));
    json_t *tags = json_object_get (request, "expertise");
    json_array_append_new (places, json_pack ("{s:i, s:o, s:o}", "place", 1, "roles", roles,
                                              "expertise", tags ? json_incref (tags) : json_array ()));
    return places;
}

int
en_expert_validate (json_t *expert, en_error_t *error)
{
    static const char *fields [] = {
        "id", "role", "region", "expertise", "capacity", "absent_until",
        "bovenregionaal", "languages", "box_key", NULL };
    s_problems_t problems = { 0 };
    if (s_check_fields (expert, fields, "expert", &problems))
        return s_verdict (&problems, error);
    if (!en_name_valid (en_json_str (expert, "id")))
        s_fail (&problems, "id", "field 'id' must be a pseudonymous id of [a-z0-9-]");
    if (!en_name_valid (en_json_str (expert, "region")))
        s_fail (&problems, "region", "field 'region' must be a jeugdregio name");
    s_check_enum (expert, "role", en_vocab_role, true, &problems);
    s_check_array (expert, "expertise", NULL, 0, 32, &problems);
    s_check_array (expert, "languages", NULL, 0, 8, &problems);
    json_t *capacity = json_object_get (expert, "capacity");
    if (!json_is_integer (capacity) || json_integer_value (capacity) < 0
    ||  json_integer_value (capacity) > EN_MAX_CAPACITY)
        s_fail (&problems, "capacity", "field 'capacity' must be a whole number from 0 to %d", EN_MAX_CAPACITY);
    json_t *absent = json_object_get (expert, "absent_until");
    if (absent && (!json_is_integer (absent) || json_integer_value (absent) < 0))
        s_fail (&problems, "absent_until", "field 'absent_until' must be ms since the epoch (0: present)");
    const char *box_key = en_json_str (expert, "box_key");
    if (json_object_get (expert, "box_key") && (!box_key || !s_hex_valid (box_key, 64)))
        s_fail (&problems, "box_key", "field 'box_key' must be the expert's X25519 public key (64 hex characters)");
    json_t *boven = json_object_get (expert, "bovenregionaal");
    if (boven && !json_is_boolean (boven))
        s_fail (&problems, "bovenregionaal", "field 'bovenregionaal' must be true or false");
    return s_verdict (&problems, error);
}

int
en_summary_validate (json_t *summary, en_error_t *error)
{
    static const char *fields [] = {
        "age_band", "leefgebieden", "problematiek", "kader", "situatie", "stuck_on", "question_type",
        "urgency", "expertise", NULL };
    s_problems_t problems = { 0 };
    if (s_check_fields (summary, fields, "summary", &problems))
        return s_verdict (&problems, error);
    s_check_profile (summary, false, &problems);
    s_check_enum (summary, "question_type", en_vocab_question_type, false, &problems);
    s_check_enum (summary, "urgency", en_vocab_urgency, false, &problems);
    s_check_array (summary, "expertise", NULL, 0, EN_MAX_TAGS, &problems);
    return s_verdict (&problems, error);
}

int
en_outcome_validate (json_t *outcome, en_error_t *error)
{
    static const char *fields [] = { "passende_hulp", "zero", NULL };
    s_problems_t problems = { 0 };
    if (s_check_fields (outcome, fields, "outcome", &problems))
        return s_verdict (&problems, error);
    json_t *fit = json_object_get (outcome, "passende_hulp");
    if (!json_is_boolean (fit))
        s_fail (&problems, "passende_hulp", "field 'passende_hulp' must be true or false");
    json_t *zero = json_object_get (outcome, "zero");
    if (zero && s_check_fields (zero, s_zero_goals, "zero", &problems) == 0) {
        const char *key;
        json_t *value;
        json_object_foreach (zero, key, value)
            if (!json_is_integer (value) || json_integer_value (value) < 0 || json_integer_value (value) > 1000)
                s_fail (&problems, key, "zero goal '%s' must be a count from 0 to 1000", key);
    }
    return s_verdict (&problems, error);
}
