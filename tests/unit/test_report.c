/*  test_report - the rode draden report (include/en_report.h,
    docs/report.md).

    A deterministic generator (fixed seed) makes 400 case summaries over
    six regions and six months, with rare categories so that small cells
    occur, and a few deliberately awkward records (no registration time,
    a time before registration, a duplicate tag, values outside the
    vocabulary). The test keeps the summaries as plain C structs and
    counts the truth from those with its own code, so every report can be
    checked against it: each shown cell equals the true count, each true
    count below the minimum is hidden, and no hidden cell can be narrowed
    by a reader who knows the total, the shown cells and the rules.
    Small hand-made data sets pin each suppression rule to its expected
    markers; CSV and HTML are parsed and checked for shape.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <inttypes.h>
#include <math.h>

#include "expertnet.h"
#include "en_report.h"

#define BASE_MS INT64_C (1704067200000)        //  2024-01-01T00:00:00Z
#define DAY INT64_C (86400000)
#define MONTH (30 * DAY)
#define MONTHS 6
#define CASE_COUNT 400
#define GOALS 4

//  The test's own copy of the vocabularies: if the library counted
//  against a different list, the checks below would see it.
static const char *s_regions [] = {
    "twente", "ijsselland", "achterhoek", "rivierenland", "noord-veluwe", "midden-limburg", NULL };
static const int s_region_weights [] = { 30, 25, 20, 15, 9, 1 };
static const char *s_urgencies [] = { "crisis", "hoog", "regulier", NULL };
static const int s_urgency_weights [] = { 6, 30, 64 };
static const char *s_question_types [] = {
    "consultatie-advies", "procesregie", "moreel-beraad", "organiseren-hulp",
    "overbruggingsfinanciering", NULL };
static const int s_question_weights [] = { 40, 30, 5, 22, 3 };
static const char *s_age_bands [] = { "0-3", "4-11", "12-17", "18-23", NULL };
static const int s_age_weights [] = { 5, 30, 50, 15 };
static const char *s_kaders [] = { "vrijwillig", "gedwongen", NULL };
static const int s_kader_weights [] = { 60, 36 };
static const char *s_situaties [] = {
    "thuis", "pleegzorg", "gezinshuis", "residentieel", "jeugdzorgplus", "3-milieu", "crisis", NULL };
static const int s_situatie_weights [] = { 40, 12, 8, 20, 8, 2, 6 };
static const char *s_leefgebieden [] = {
    "jeugdhulp", "onderwijs", "wonen", "financien", "werk-inkomen", "gezondheid",
    "veiligheid", "dagbesteding", NULL };
static const int s_leefgebied_pct [] = { 90, 50, 30, 25, 8, 35, 20, 3 };
static const char *s_stuck [] = {
    "inhoud", "samenwerking", "financiering", "wachttijd", "aanbod-ontbreekt", NULL };
static const int s_stuck_pct [] = { 40, 35, 20, 25, 15 };
static const char *s_problems [] = {
    "autisme", "eetstoornis", "gedrag", "jggz", "lvb", "ouders-overbelast",
    "suicidaliteit", "trauma", "verslaving", NULL };
static const int s_problem_pct [] = { 25, 3, 35, 45, 20, 15, 2, 40, 8 };
static const char *s_expertises [] = {
    "autisme", "eetstoornis", "forensisch", "jggz", "lvb", "trauma", "verslaving", NULL };
static const char *s_goals [] = {
    "gedwongen_afzonderingen", "suicides", "gesloten_plaatsingen", "doorplaatsingen", NULL };
static const int s_goal_pct [] = { 6, 1, 8, 12 };

//  The sections that are tables (zero_goals is checked on its own).
static const char *s_tables [] = {
    "by_urgency", "by_question_type", "by_region", "by_age_band", "by_kader",
    "by_situatie", "by_problematiek", "by_leefgebied", "by_stuck_on",
    "time_to_assignment", "time_to_close", "time_to_review", "hiaten", "hiaten_by_expertise",
    "hiaten_by_role", "team_requests", "places_by_role", "time_to_full_team", "beraad",
    "outcome", NULL };

//  Teams: the roles of places (the test's own copy) and the keys a case
//  counts under in places_by_role, per role and filled or not
#define PLACES 4
static const char *s_roles [] = { "superexpert", "procesregisseur", "ervaringsdeskundige", "onbekend", NULL };
static const char *s_place_keys [][2] = {
    { "superexpert:vervuld", "superexpert:niet-vervuld" },
    { "procesregisseur:vervuld", "procesregisseur:niet-vervuld" },
    { "ervaringsdeskundige:vervuld", "ervaringsdeskundige:niet-vervuld" },
    { "onbekend:vervuld", "onbekend:niet-vervuld" } };

#define MISSING -1                      //  field left out
#define INVALID -2                      //  field holds a value outside the vocabulary

typedef struct {
    bool no_registered;                 //  summary without registered: skipped
    const char *region;                 //  jeugdregio
    int urgency, question_type, age_band, kader, situatie;  //  index, MISSING or INVALID
    unsigned leefgebieden;              //  bit i: s_leefgebieden [i]
    unsigned stuck_on;                  //  bit i: s_stuck [i]
    unsigned problematiek;              //  bit i: s_problems [i]
    unsigned expertise;                 //  bit i: s_expertises [i]
    bool unknown_leefgebied;            //  also lists "ruimte" (not a leefgebied)
    bool duplicate_tag;                 //  lists its first problematiek twice
    int64_t registered;                 //  ms
    int64_t first_assignment;           //  ms, or -1: none
    int64_t closed;                     //  ms, or -1: none
    int64_t first_review;               //  ms of the first review-due (terug op ET), or -1: none
    bool hiaat;                         //  nobody could take it
    int outcome;                        //  -1 none, 0 nee, 1 ja
    int zero [GOALS];                   //  events per zero goal
    int place_count;                    //  0: no places given; 1: one expert; more: a team
    int place_role [PLACES];            //  index in s_roles (3: a role outside the vocabulary)
    bool place_filled [PLACES];         //  the place got an expert
    bool place_hiaat [PLACES];          //  the place was a hiaat at some time
    unsigned place_expertise [PLACES];  //  bit i: s_expertises [i]
    int64_t submitted;                  //  ms the request was submitted, or -1: not given
    int64_t team_full;                  //  ms the last place was filled, or -1: none
    bool beraad_held;                   //  a moreel beraad took place
} gcase_t;

typedef struct {
    int64_t from, to;                   //  [from, to)
    const char *region;                 //  NULL: all
} filter_t;

//  ---------------------------------------------------------------------
//  The generator

static uint64_t
s_next (uint64_t *state)
{
    //  splitmix64: small, fast, and the same everywhere
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int64_t
s_below (uint64_t *state, int64_t limit)
{
    return (int64_t) (s_next (state) % (uint64_t) limit);
}

static int
s_pick (uint64_t *state, const int *weights, int count)
{
    int sum = 0;
    for (int i = 0; i < count; i++)
        sum += weights [i];
    int roll = (int) s_below (state, sum);
    for (int i = 0; i < count; i++) {
        if (roll < weights [i])
            return i;
        roll -= weights [i];
    }
    return count - 1;
}

static unsigned
s_mask (uint64_t *state, const int *pct, int count)
{
    unsigned mask = 0;
    for (int i = 0; i < count; i++)
        if (s_below (state, 100) < pct [i])
            mask |= 1u << i;
    return mask;
}

//  A case's places: none given (8%), one expert, or a team of 2 to 4;
//  some filled, some of a hiaat a hiaat themselves (others of a hiaat
//  filled: partly a hiaat), a full team's time, a beraad now and then
static void
s_generate_places (gcase_t *c, uint64_t *state)
{
    int64_t roll = s_below (state, 100);
    c->place_count = roll < 8 ? 0 : roll < 62 ? 1 : 2 + (int) s_below (state, 3);
    c->submitted = s_below (state, 2) ? c->registered + s_below (state, 2 * DAY) : -1;
    for (int p = 0; p < c->place_count; p++) {
        c->place_role [p] = s_below (state, 100) < 3 ? 3 : s_pick (state, (const int []) { 60, 25, 15 }, 3);
        c->place_expertise [p] = s_mask (state, (const int []) { 20, 5, 10, 30, 25, 35, 10 }, 7);
        if (c->hiaat) {
            c->place_filled [p] = c->place_count > 1 && s_below (state, 100) < 40;
            c->place_hiaat [p] = !c->place_filled [p] && s_below (state, 100) < 80;
        }
        else {
            c->place_filled [p] = c->first_assignment >= 0 && s_below (state, 100) < 90;
            c->place_hiaat [p] = false;
        }
    }
    bool full = c->place_count > 1;
    for (int p = 0; p < c->place_count; p++)
        full &= c->place_filled [p];
    int64_t start = c->submitted >= 0 ? c->submitted : c->registered;
    c->team_full = full ? start + s_below (state, 40 * DAY) : -1;
    c->beraad_held = s_below (state, 100) < 12;
}

static void
s_generate (gcase_t *cases, size_t count, uint64_t seed)
{
    uint64_t state = seed;
    for (size_t i = 0; i < count; i++) {
        gcase_t *c = &cases [i];
        memset (c, 0, sizeof *c);
        c->region = s_regions [s_pick (&state, s_region_weights, 6)];
        c->urgency = s_pick (&state, s_urgency_weights, 3);
        c->question_type = s_pick (&state, s_question_weights, 5);
        c->age_band = s_pick (&state, s_age_weights, 4);
        c->kader = s_below (&state, 100) < 4 ? MISSING : s_pick (&state, s_kader_weights, 2);
        c->situatie = s_below (&state, 100) < 4 ? MISSING : s_pick (&state, s_situatie_weights, 7);
        c->leefgebieden = s_mask (&state, s_leefgebied_pct, 8);
        c->stuck_on = s_mask (&state, s_stuck_pct, 5);
        c->problematiek = s_mask (&state, s_problem_pct, 9);
        c->registered = BASE_MS + s_below (&state, MONTHS * MONTH);
        c->hiaat = s_below (&state, 100) < 9;
        c->first_assignment = -1;
        if (!c->hiaat && s_below (&state, 100) < 85) {
            int64_t roll = s_below (&state, 100);
            int64_t delay = roll < 30 ? s_below (&state, DAY)
                          : roll < 70 ? DAY + s_below (&state, 6 * DAY)
                          : roll < 90 ? 7 * DAY + s_below (&state, 21 * DAY)
                          : 28 * DAY + s_below (&state, 60 * DAY);
            c->first_assignment = c->registered + delay;
        }
        c->expertise = 0;
        while (!c->expertise)
            c->expertise = s_mask (&state, (const int []) { 20, 5, 10, 30, 25, 35, 10 }, 7);
        c->closed = -1;
        c->outcome = -1;
        if (s_below (&state, 100) < 55) {
            c->closed = c->registered + 2 * DAY + s_below (&state, 100 * DAY);
            if (s_below (&state, 100) < 90) {
                c->outcome = s_below (&state, 100) < 75;
                for (int g = 0; g < GOALS; g++)
                    if (s_below (&state, 100) < s_goal_pct [g])
                        c->zero [g] = 1 + (int) s_below (&state, 3);
            }
        }
    }
    //  Follow-up: two of three assigned cases came back to the ET (no
    //  draw of its own, so the other fields stay as they were)
    for (size_t i = 0; i < count; i++) {
        gcase_t *c = &cases [i];
        c->first_review = c->first_assignment >= 0 && c->registered % 3
                        ? c->first_assignment + 14 * DAY + c->registered % (40 * DAY) : -1;
    }
    //  Teams, from a draw of their own (the fields above stay as they were)
    uint64_t teams = seed ^ UINT64_C (0x7465616d);
    for (size_t i = 0; i < count; i++)
        s_generate_places (&cases [i], &teams);
    //  The awkward ones, at fixed places.
    cases [0].no_registered = true;
    cases [1].no_registered = true;
    cases [2].registered = BASE_MS + MONTH;         //  exactly on a month boundary
    cases [3].hiaat = false;
    cases [3].first_assignment = cases [3].registered - 1000;   //  clock skew
    cases [4].problematiek |= 1u << 3;
    cases [4].duplicate_tag = true;
    cases [5].unknown_leefgebied = true;
    cases [6].kader = MISSING;
    cases [6].situatie = INVALID;
    cases [7].urgency = INVALID;
}

static json_t *
s_strings (const char **names, unsigned mask)
{
    json_t *array = json_array ();
    for (int i = 0; names [i]; i++)
        if (mask & (1u << i))
            json_array_append_new (array, json_string (names [i]));
    return array;
}

static void
s_set_enum (json_t *json, const char *key, const char **names, int index)
{
    if (index >= 0)
        json_object_set_new (json, key, json_string (names [index]));
    else
    if (index == INVALID)
        json_object_set_new (json, key, json_string ("onzin"));
}

static json_t *
s_case_json (const gcase_t *c)
{
    json_t *json = json_object ();
    json_object_set_new (json, "region", json_string (c->region));
    s_set_enum (json, "urgency", s_urgencies, c->urgency);
    s_set_enum (json, "question_type", s_question_types, c->question_type);
    s_set_enum (json, "age_band", s_age_bands, c->age_band);
    s_set_enum (json, "kader", s_kaders, c->kader);
    s_set_enum (json, "situatie", s_situaties, c->situatie);
    json_t *leefgebieden = s_strings (s_leefgebieden, c->leefgebieden);
    if (c->unknown_leefgebied)
        json_array_append_new (leefgebieden, json_string ("ruimte"));
    json_object_set_new (json, "leefgebieden", leefgebieden);
    json_t *problematiek = s_strings (s_problems, c->problematiek);
    if (c->duplicate_tag && json_array_size (problematiek))
        json_array_append (problematiek, json_array_get (problematiek, 0));
    json_object_set_new (json, "problematiek", problematiek);
    json_object_set_new (json, "stuck_on", s_strings (s_stuck, c->stuck_on));
    json_object_set_new (json, "expertise", s_strings (s_expertises, c->expertise));
    if (!c->no_registered)
        json_object_set_new (json, "registered", json_integer (c->registered));
    json_object_set_new (json, "first_assignment",
        c->first_assignment >= 0 ? json_integer (c->first_assignment) : json_null ());
    json_object_set_new (json, "closed", c->closed >= 0 ? json_integer (c->closed) : json_null ());
    if (c->first_review >= 0)
        json_object_set_new (json, "first_review", json_integer (c->first_review));
    json_object_set_new (json, "hiaat", json_boolean (c->hiaat));
    if (c->place_count > 0) {
        json_t *places = json_array ();
        for (int p = 0; p < c->place_count; p++)
            json_array_append_new (places, json_pack ("{s:s, s:o, s:b, s:b}",
                "role", c->place_role [p] == 3 ? "onzin" : s_roles [c->place_role [p]],
                "expertise", s_strings (s_expertises, c->place_expertise [p]),
                "filled", c->place_filled [p], "hiaat", c->place_hiaat [p]));
        json_object_set_new (json, "places", places);
    }
    if (c->submitted >= 0)
        json_object_set_new (json, "submitted", json_integer (c->submitted));
    json_object_set_new (json, "team_full", c->team_full >= 0 ? json_integer (c->team_full) : json_null ());
    json_object_set_new (json, "beraad_held", json_boolean (c->beraad_held));
    if (c->outcome >= 0) {
        json_t *zero = json_object ();
        for (int g = 0; g < GOALS; g++)
            json_object_set_new (zero, s_goals [g], json_integer (c->zero [g]));
        json_object_set_new (json, "outcome", json_pack ("{s:b, s:o}",
            "passende_hulp", c->outcome == 1, "zero", zero));
    }
    else
        json_object_set_new (json, "outcome", json_null ());
    return json;
}

static json_t *
s_cases_json (const gcase_t *cases, size_t count)
{
    json_t *array = json_array ();
    for (size_t i = 0; i < count; i++)
        json_array_append_new (array, s_case_json (&cases [i]));
    return array;
}

//  ---------------------------------------------------------------------
//  The truth, counted from the structs

static bool
s_in_scope (const gcase_t *c, const filter_t *filter)
{
    return !c->no_registered
        && c->registered >= filter->from && c->registered < filter->to
        && (!filter->region || streq (c->region, filter->region));
}

static const char *
s_bucket (int64_t from, int64_t to)
{
    if (to < 0)
        return "none";
    int64_t span = to - from < 0 ? 0 : to - from;
    return span < DAY ? "lt-1d" : span < 7 * DAY ? "1-7d" : span < 28 * DAY ? "1-4w" : "gt-4w";
}

static const char *
s_enum (const char **names, int index)
{
    return index >= 0 ? names [index] : "onbekend";
}

static size_t
s_add_mask (const char **keys, size_t count, const char **names, unsigned mask)
{
    for (int i = 0; names [i]; i++)
        if (mask & (1u << i))
            keys [count++] = names [i];
    return count;
}

//  The keys case c counts under in section; false when the section does
//  not cover c at all.
static bool
s_truth_keys (const gcase_t *c, const char *section, const char **keys, size_t *count)
{
    *count = 0;
    if (streq (section, "by_urgency"))
        keys [(*count)++] = s_enum (s_urgencies, c->urgency);
    else if (streq (section, "by_question_type"))
        keys [(*count)++] = s_enum (s_question_types, c->question_type);
    else if (streq (section, "by_region"))
        keys [(*count)++] = c->region;
    else if (streq (section, "by_age_band"))
        keys [(*count)++] = s_enum (s_age_bands, c->age_band);
    else if (streq (section, "by_kader"))
        keys [(*count)++] = s_enum (s_kaders, c->kader);
    else if (streq (section, "by_situatie"))
        keys [(*count)++] = s_enum (s_situaties, c->situatie);
    else if (streq (section, "by_problematiek"))
        *count = s_add_mask (keys, 0, s_problems, c->problematiek);
    else if (streq (section, "by_leefgebied")) {
        *count = s_add_mask (keys, 0, s_leefgebieden, c->leefgebieden);
        if (c->unknown_leefgebied)
            keys [(*count)++] = "overig";
    }
    else if (streq (section, "by_stuck_on"))
        *count = s_add_mask (keys, 0, s_stuck, c->stuck_on);
    else if (streq (section, "time_to_assignment"))
        keys [(*count)++] = s_bucket (c->registered, c->first_assignment);
    else if (streq (section, "time_to_close"))
        keys [(*count)++] = s_bucket (c->registered, c->closed);
    else if (streq (section, "time_to_review"))
        keys [(*count)++] = s_bucket (c->registered, c->first_review);
    else if (streq (section, "hiaten"))
        keys [(*count)++] = c->hiaat ? "ja" : "nee";
    else if (streq (section, "hiaten_by_expertise")) {
        if (!c->hiaat)
            return false;
        unsigned places = 0;
        bool any = false;
        for (int p = 0; p < c->place_count; p++)
            if (c->place_hiaat [p]) {
                places |= c->place_expertise [p];
                any = true;
            }
        *count = s_add_mask (keys, 0, s_expertises, any ? places : c->expertise);
    }
    else if (streq (section, "hiaten_by_role")) {
        if (!c->hiaat)
            return false;
        unsigned roles = 0;
        for (int p = 0; p < c->place_count; p++)
            if (c->place_hiaat [p])
                roles |= 1u << c->place_role [p];
        *count = s_add_mask (keys, 0, s_roles, roles ? roles : 1u << 3);
    }
    else if (streq (section, "team_requests"))
        keys [(*count)++] = c->place_count == 0 ? "onbekend" : c->place_count == 1 ? "enkel" : "team";
    else if (streq (section, "places_by_role")) {
        if (c->place_count == 0)
            return false;
        for (int r = 0; r < 4; r++) {
            bool asked = false, unfilled = false;
            for (int p = 0; p < c->place_count; p++)
                if (c->place_role [p] == r) {
                    asked = true;
                    unfilled |= !c->place_filled [p];
                }
            if (asked)
                keys [(*count)++] = s_place_keys [r][unfilled];
        }
    }
    else if (streq (section, "time_to_full_team")) {
        if (c->place_count < 2)
            return false;
        keys [(*count)++] = s_bucket (c->submitted >= 0 ? c->submitted : c->registered, c->team_full);
    }
    else if (streq (section, "beraad"))
        keys [(*count)++] = c->beraad_held ? "ja" : "nee";
    else if (streq (section, "outcome"))
        keys [(*count)++] = c->outcome == 1 ? "ja" : c->outcome == 0 ? "nee" : "geen";
    else
        fail_msg ("no truth for section %s", section);
    return true;
}

typedef struct {
    const char *key;
    int64_t count;
} tcell_t;

typedef struct {
    tcell_t cells [32];                 //  categories with their true counts
    size_t size;
    int64_t total;                      //  cases the table covers
    int64_t kmin, kmax;                 //  fewest and most keys per case
} ttable_t;

static void
s_truth_table (const gcase_t *cases, size_t count, const filter_t *filter,
               const char *section, ttable_t *table)
{
    memset (table, 0, sizeof *table);
    table->kmin = INT64_MAX;
    for (size_t i = 0; i < count; i++) {
        const char *keys [16];
        size_t size;
        if (!s_in_scope (&cases [i], filter) || !s_truth_keys (&cases [i], section, keys, &size))
            continue;
        table->total++;
        table->kmin = (int64_t) size < table->kmin ? (int64_t) size : table->kmin;
        table->kmax = (int64_t) size > table->kmax ? (int64_t) size : table->kmax;
        for (size_t k = 0; k < size; k++) {
            size_t j;
            for (j = 0; j < table->size; j++)
                if (streq (table->cells [j].key, keys [k]))
                    break;
            if (j == table->size) {
                assert_true (table->size < 32);
                table->cells [table->size++] = (tcell_t) { keys [k], 0 };
            }
            table->cells [j].count++;
        }
    }
    if (table->kmin == INT64_MAX)
        table->kmin = 0;
}

static int64_t
s_truth_count (const ttable_t *table, const char *key)
{
    for (size_t i = 0; i < table->size; i++)
        if (streq (table->cells [i].key, key))
            return table->cells [i].count;
    return 0;
}

static int64_t
s_truth_cases (const gcase_t *cases, size_t count, const filter_t *filter)
{
    int64_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += s_in_scope (&cases [i], filter);
    return total;
}

static int
s_cmp64 (const void *a, const void *b)
{
    int64_t left = *(const int64_t *) a, right = *(const int64_t *) b;
    return left < right ? -1 : left > right;
}

//  True median of the time in days (one decimal); sets *size.
static double
s_truth_median (const gcase_t *cases, size_t count, const filter_t *filter,
                const char *section, size_t *size)
{
    int64_t spans [CASE_COUNT + 16];
    *size = 0;
    for (size_t i = 0; i < count; i++) {
        const gcase_t *c = &cases [i];
        int64_t at = streq (section, "time_to_close") ? c->closed
                   : streq (section, "time_to_review") ? c->first_review
                   : streq (section, "time_to_full_team") ? c->team_full : c->first_assignment;
        int64_t from = streq (section, "time_to_full_team") && c->submitted >= 0 ? c->submitted : c->registered;
        if (s_in_scope (c, filter) && at >= 0)
            spans [(*size)++] = at - from < 0 ? 0 : at - from;
    }
    if (*size == 0)
        return 0;
    qsort (spans, *size, sizeof (int64_t), s_cmp64);
    double mid = *size % 2 ? (double) spans [*size / 2]
               : ((double) spans [*size / 2 - 1] + (double) spans [*size / 2]) / 2;
    return round (mid / DAY * 10) / 10;
}

//  ---------------------------------------------------------------------
//  Checks against the truth

typedef struct {
    int primary;                        //  "<N" cells seen
    int complement;                     //  "x" cells in tables not withheld
    int withheld;                       //  tables withheld as a whole
    int second_complement;              //  tables that needed two or more "x"
    int medians_shown;
    int medians_hidden;
} stats_t;

static bool
s_marker_is (json_t *value, const char *marker)
{
    return json_is_string (value) && streq (json_string_value (value), marker);
}

//  The reader: knows the total, the shown cells, what each marker means
//  and how complements are chosen (smallest first), and how many cells a
//  case counts in at least and at most. Every "<N" cell must still be
//  able to take every value 1..N-1.
static void
s_reader_audit (json_t *table, const char *section, int m, int64_t kmin, int64_t kmax,
                stats_t *stats)
{
    json_t *rows = json_object_get (table, "rows");
    json_t *total = json_object_get (table, "total");
    size_t size = json_array_size (rows);
    bool withheld = json_is_true (json_object_get (table, "withheld"));
    char primary [16];
    snprintf (primary, sizeof primary, "<%d", m);
    if (!json_is_integer (total) || withheld) {
        //  Nothing to subtract from, or nothing but "x": all hidden.
        if (!json_is_integer (total))
            assert_true (withheld);
        for (size_t i = 0; i < size; i++)
            if (!s_marker_is (json_object_get (json_array_get (rows, i), "count"), EN_REPORT_HIDDEN))
                fail_msg ("%s: a withheld table shows row %zu", section, i);
        return;
    }
    int64_t t = json_integer_value (total);
    int64_t shown = 0;
    int hidden = 0, primaries = 0, complements = 0;
    for (size_t i = 0; i < size; i++) {
        json_t *value = json_object_get (json_array_get (rows, i), "count");
        if (json_is_integer (value))
            shown += json_integer_value (value);
        else {
            hidden++;
            primaries += s_marker_is (value, primary);
            complements += s_marker_is (value, EN_REPORT_HIDDEN);
        }
    }
    assert_int_equal (hidden, primaries + complements);
    if (complements >= 2)
        stats->second_complement++;
    //  The simple rule: in a partition with a shown total, one hidden
    //  cell alone would be the total minus the others.
    if (streq (json_string_value (json_object_get (table, "kind")), "partition") && hidden == 1)
        fail_msg ("%s: exactly one hidden cell in a table with a shown total", section);
    for (size_t i = 0; i < size; i++) {
        if (!s_marker_is (json_object_get (json_array_get (rows, i), "count"), primary))
            continue;
        int64_t others_lo = 0, others_hi = 0;
        for (size_t j = 0; j < size; j++) {
            json_t *value = json_object_get (json_array_get (rows, j), "count");
            if (j == i || json_is_integer (value))
                continue;
            if (s_marker_is (value, primary)) {
                others_lo += 1;
                others_hi += m - 1;
                continue;
            }
            int64_t hi = t;
            for (size_t k = 0; k < size; k++) {
                json_t *other = json_object_get (json_array_get (rows, k), "count");
                if (json_is_integer (other) && json_integer_value (other) > 0) {
                    int64_t bound = json_integer_value (other) - (k < j ? 1 : 0);
                    hi = bound < hi ? bound : hi;
                }
            }
            others_lo += m;
            others_hi += hi;
        }
        //  Every value v in 1..m-1 must fit: v + others within the sum.
        for (int64_t v = 1; v < m; v++) {
            int64_t lo = v + others_lo, hi = v + others_hi;
            if (hi < kmin * t - shown || lo > kmax * t - shown)
                fail_msg ("%s: row %zu (\"<%d\") cannot be %" PRId64 ", so a reader narrows it",
                          section, i, m, v);
        }
    }
}

//  Check one report against the truth for filter.
static void
s_check_report (json_t *report, const gcase_t *cases, size_t count,
                const filter_t *filter, int m, stats_t *stats)
{
    char primary [16];
    snprintf (primary, sizeof primary, "<%d", m);
    assert_int_equal (json_integer_value (json_object_get (report, "min_cell")), m);
    assert_true (s_marker_is (json_object_get (json_object_get (report, "markers"), "primary"), primary));

    int64_t cases_total = s_truth_cases (cases, count, filter);
    json_t *shown_total = json_object_get (json_object_get (report, "totals"), "cases");
    if (cases_total >= 1 && cases_total < m)
        assert_true (s_marker_is (shown_total, primary));
    else
        assert_int_equal (json_integer_value (shown_total), cases_total);

    for (int s = 0; s_tables [s]; s++) {
        const char *section = s_tables [s];
        json_t *table = json_object_get (report, section);
        if (!table)
            fail_msg ("report lacks %s", section);
        ttable_t truth;
        s_truth_table (cases, count, filter, section, &truth);
        json_t *total = json_object_get (table, "total");
        if (json_is_integer (total))
            assert_int_equal (json_integer_value (total), truth.total);
        else
        if (truth.total >= m)
            assert_true (s_marker_is (total, EN_REPORT_HIDDEN));  //  hidden elsewhere
        bool withheld = json_is_true (json_object_get (table, "withheld"));
        stats->withheld += withheld;

        json_t *rows = json_object_get (table, "rows");
        size_t index;
        json_t *row;
        json_array_foreach (rows, index, row) {
            const char *key = json_string_value (json_object_get (row, "key"));
            json_t *value = json_object_get (row, "count");
            int64_t true_count = s_truth_count (&truth, key);
            if (json_is_integer (value)) {
                if (json_integer_value (value) != true_count)
                    fail_msg ("%s/%s shows %" PRId64 ", true count %" PRId64, section, key,
                              (int64_t) json_integer_value (value), true_count);
            }
            else
            if (s_marker_is (value, primary)) {
                stats->primary++;
                if (true_count < 1 || true_count >= m)
                    fail_msg ("%s/%s marked %s but is %" PRId64, section, key, primary, true_count);
            }
            else
            if (s_marker_is (value, EN_REPORT_HIDDEN)) {
                //  Outside a withheld table "x" is a non-zero cell of at
                //  least N: never a small one in disguise, never a zero.
                if (!withheld) {
                    stats->complement++;
                    if (true_count < m)
                        fail_msg ("%s/%s is a complement but only %" PRId64, section, key, true_count);
                }
            }
            else
                fail_msg ("%s/%s: unexpected value", section, key);
            if (true_count >= 1 && true_count < m && json_is_integer (value))
                fail_msg ("%s/%s: small count %" PRId64 " shown", section, key, true_count);
        }
        //  Every category with cases has a row.
        for (size_t i = 0; i < truth.size; i++) {
            bool found = false;
            json_array_foreach (rows, index, row)
                found |= streq (json_string_value (json_object_get (row, "key")), truth.cells [i].key);
            if (!found)
                fail_msg ("%s: no row for %s (%" PRId64 " cases)", section, truth.cells [i].key,
                          truth.cells [i].count);
        }
        bool multi = streq (json_string_value (json_object_get (table, "kind")), "multi");
        assert_true (multi == (streq (section, "by_problematiek") || streq (section, "by_leefgebied")
                               || streq (section, "by_stuck_on") || streq (section, "hiaten_by_expertise")
                               || streq (section, "hiaten_by_role") || streq (section, "places_by_role")));
        s_reader_audit (table, section, m, multi ? truth.kmin : 1, multi ? truth.kmax : 1, stats);

        json_t *median = json_object_get (table, "median_days");
        if (streq (section, "time_to_assignment") || streq (section, "time_to_close")
        ||  streq (section, "time_to_review") || streq (section, "time_to_full_team")) {
            size_t size;
            double expected = s_truth_median (cases, count, filter, section, &size);
            if (json_is_real (median)) {
                stats->medians_shown++;
                assert_true ((int64_t) size >= m);
                assert_true (fabs (json_real_value (median) - expected) < 1e-9);
            }
            else {
                stats->medians_hidden++;
                assert_true (s_marker_is (median, EN_REPORT_HIDDEN));
            }
        }
        else
            assert_null (median);
    }

    //  Zero goals: sums over cases with an outcome.
    json_t *goals = json_object_get (json_object_get (report, "zero_goals"), "rows");
    assert_int_equal (json_array_size (goals), GOALS);
    for (int g = 0; g < GOALS; g++) {
        json_t *row = json_array_get (goals, g);
        assert_string_equal (json_string_value (json_object_get (row, "key")), s_goals [g]);
        int64_t events = 0, concerned = 0, with_outcome = 0;
        for (size_t i = 0; i < count; i++)
            if (s_in_scope (&cases [i], filter) && cases [i].outcome >= 0) {
                with_outcome++;
                events += cases [i].zero [g];
                concerned += cases [i].zero [g] > 0;
            }
        json_t *value = json_object_get (row, "count");
        if (json_is_integer (value)) {
            assert_int_equal (json_integer_value (value), events);
            assert_true (concerned == 0 || concerned >= m);
            assert_true (concerned == 0 || concerned == with_outcome || with_outcome - concerned >= m);
        }
        else
            assert_true ((concerned >= 1 && concerned < m)
                      || (with_outcome - concerned >= 1 && with_outcome - concerned < m)
                      || !json_is_integer (shown_total));
    }
}

static json_t *
s_report (json_t *summaries, const filter_t *filter, int m)
{
    en_report_options_t options = { filter->from, filter->to, filter->region, m };
    json_t *report = en_report_build (summaries, &options);
    assert_non_null (report);
    return report;
}

//  ---------------------------------------------------------------------
//  Tests over the generated data set

typedef struct {
    gcase_t cases [CASE_COUNT];
    json_t *summaries;
} dataset_t;

static int
s_setup (void **state)
{
    dataset_t *self = (dataset_t *) calloc (1, sizeof *self);
    assert_non_null (self);
    s_generate (self->cases, CASE_COUNT, 20240101);
    self->summaries = s_cases_json (self->cases, CASE_COUNT);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    dataset_t *self = (dataset_t *) *state;
    json_decref (self->summaries);
    free (self);
    return 0;
}

static const filter_t s_everything = { BASE_MS, BASE_MS + MONTHS * MONTH, NULL };

//  The whole data set: every shown number is the truth, every small one
//  is hidden, and the data really exercise the rules.
static void
test_counts_match_truth (void **state)
{
    dataset_t *self = (dataset_t *) *state;
    stats_t stats = { 0 };
    json_t *report = s_report (self->summaries, &s_everything, 5);
    s_check_report (report, self->cases, CASE_COUNT, &s_everything, 5, &stats);
    //  Two summaries had no registration time: skipped, and 2 is "<5".
    assert_true (s_marker_is (json_object_get (json_object_get (report, "totals"), "skipped"), "<5"));
    assert_int_equal (json_integer_value (json_object_get (json_object_get (report, "totals"), "cases")),
                      CASE_COUNT - 2);
    assert_true (stats.primary > 0);        //  e.g. midden-limburg
    assert_true (stats.complement > 0);
    assert_true (stats.medians_shown == 4);       //  assignment, close, review, full team
    json_decref (report);
}

//  Every region and every month, alone and together: 49 reports, each
//  checked against the truth and the reader.
static void
test_no_recovery_by_subtraction (void **state)
{
    dataset_t *self = (dataset_t *) *state;
    stats_t stats = { 0 };
    for (int r = -1; r < 6; r++) {
        for (int month = -1; month < MONTHS; month++) {
            filter_t filter = {
                month < 0 ? BASE_MS : BASE_MS + month * MONTH,
                month < 0 ? BASE_MS + MONTHS * MONTH : BASE_MS + (month + 1) * MONTH,
                r < 0 ? NULL : s_regions [r] };
            json_t *report = s_report (self->summaries, &filter, 5);
            s_check_report (report, self->cases, CASE_COUNT, &filter, 5, &stats);
            json_decref (report);
        }
    }
    //  The data must reach every rule, or this test proves nothing.
    assert_true (stats.primary > 50);
    assert_true (stats.complement > 20);
    assert_true (stats.second_complement > 0);
    assert_true (stats.withheld > 0);
    assert_true (stats.medians_shown > 0);
    assert_true (stats.medians_hidden > 0);
}

static void
test_region_filter (void **state)
{
    dataset_t *self = (dataset_t *) *state;
    stats_t stats = { 0 };
    filter_t filter = { BASE_MS, BASE_MS + MONTHS * MONTH, "twente" };
    json_t *report = s_report (self->summaries, &filter, 5);
    s_check_report (report, self->cases, CASE_COUNT, &filter, 5, &stats);
    assert_string_equal (json_string_value (json_object_get (report, "region")), "twente");
    json_t *rows = json_object_get (json_object_get (report, "by_region"), "rows");
    assert_int_equal (json_array_size (rows), 1);
    assert_string_equal (json_string_value (json_object_get (json_array_get (rows, 0), "key")), "twente");
    int64_t twente = s_truth_cases (self->cases, CASE_COUNT, &filter);
    assert_true (twente > 50 && twente < CASE_COUNT / 2);
    assert_int_equal (json_integer_value (json_object_get (json_array_get (rows, 0), "count")), twente);
    json_decref (report);

    //  A region nobody registered in: an empty report, zeros shown.
    filter.region = "zeeland";
    report = s_report (self->summaries, &filter, 5);
    assert_int_equal (json_integer_value (json_object_get (json_object_get (report, "totals"), "cases")), 0);
    json_t *crisis = json_array_get (json_object_get (json_object_get (report, "by_urgency"), "rows"), 0);
    assert_int_equal (json_integer_value (json_object_get (crisis, "count")), 0);
    json_decref (report);

    //  midden-limburg has a handful of cases: total "<5", all withheld.
    filter.region = "midden-limburg";
    int64_t few = s_truth_cases (self->cases, CASE_COUNT, &filter);
    assert_true (few >= 1 && few < 5);
    report = s_report (self->summaries, &filter, 5);
    s_check_report (report, self->cases, CASE_COUNT, &filter, 5, &stats);
    assert_true (s_marker_is (json_object_get (json_object_get (report, "totals"), "cases"), "<5"));
    for (int s = 0; s_tables [s]; s++)
        assert_true (json_is_true (json_object_get (json_object_get (report, s_tables [s]), "withheld")));
    json_decref (report);
}

static void
test_period_filter (void **state)
{
    dataset_t *self = (dataset_t *) *state;
    stats_t stats = { 0 };
    //  Case 2 sits exactly on the start of the second month: in month 2,
    //  not in month 1.
    filter_t first = { BASE_MS, BASE_MS + MONTH, NULL };
    filter_t second = { BASE_MS + MONTH, BASE_MS + 2 * MONTH, NULL };
    json_t *one = s_report (self->summaries, &first, 5);
    json_t *two = s_report (self->summaries, &second, 5);
    s_check_report (one, self->cases, CASE_COUNT, &first, 5, &stats);
    s_check_report (two, self->cases, CASE_COUNT, &second, 5, &stats);
    int64_t a = json_integer_value (json_object_get (json_object_get (one, "totals"), "cases"));
    int64_t b = json_integer_value (json_object_get (json_object_get (two, "totals"), "cases"));
    assert_int_equal (a, s_truth_cases (self->cases, CASE_COUNT, &first));
    assert_int_equal (b, s_truth_cases (self->cases, CASE_COUNT, &second));
    assert_true (a > 30 && b > 30);
    assert_true (s_in_scope (&self->cases [2], &second) && !s_in_scope (&self->cases [2], &first));
    json_decref (one);
    json_decref (two);

    //  Open end: to 0 means no end.
    filter_t open = { BASE_MS + 5 * MONTH, 0, NULL };
    en_report_options_t options = { open.from, 0, NULL, 5 };
    json_t *report = en_report_build (self->summaries, &options);
    open.to = INT64_MAX;
    s_check_report (report, self->cases, CASE_COUNT, &open, 5, &stats);
    assert_true (json_is_null (json_object_get (json_object_get (report, "period"), "to")));
    json_decref (report);

    //  An empty period.
    filter_t none = { BASE_MS - MONTH, BASE_MS, NULL };
    report = s_report (self->summaries, &none, 5);
    assert_int_equal (json_integer_value (json_object_get (json_object_get (report, "totals"), "cases")), 0);
    json_decref (report);
}

static void
test_min_cell_configurable (void **state)
{
    dataset_t *self = (dataset_t *) *state;
    stats_t stats = { 0 };
    for (int r = -1; r < 3; r++) {
        filter_t filter = { BASE_MS, BASE_MS + MONTHS * MONTH, r < 0 ? NULL : s_regions [r] };
        json_t *report = s_report (self->summaries, &filter, 10);
        s_check_report (report, self->cases, CASE_COUNT, &filter, 10, &stats);
        assert_string_equal (json_string_value (json_object_get (json_object_get (report, "markers"), "primary")), "<10");
        char *text = json_dumps (report, 0);
        assert_null (strstr (text, "\"<5\""));
        free (text);
        json_decref (report);
    }
    assert_true (stats.primary > 10);

    //  0 (or less) means the default.
    en_report_options_t options = { BASE_MS, 0, NULL, 0 };
    json_t *report = en_report_build (self->summaries, &options);
    assert_int_equal (json_integer_value (json_object_get (report, "min_cell")), EN_REPORT_MIN_CELL);
    s_check_report (report, self->cases, CASE_COUNT,
                    &(filter_t) { BASE_MS, INT64_MAX, NULL }, EN_REPORT_MIN_CELL, &stats);
    json_decref (report);
    //  NULL options: everything, defaults.
    report = en_report_build (self->summaries, NULL);
    s_check_report (report, self->cases, CASE_COUNT,
                    &(filter_t) { INT64_MIN, INT64_MAX, NULL }, EN_REPORT_MIN_CELL, &stats);
    json_decref (report);
    //  min_cell 1: nothing is hidden.
    report = s_report (self->summaries, &s_everything, 1);
    s_check_report (report, self->cases, CASE_COUNT, &s_everything, 1, &stats);
    json_object_del (report, "markers");
    char *text = json_dumps (report, 0);
    assert_null (strstr (text, "\"x\""));
    assert_null (strstr (text, "\"<1\""));
    free (text);
    json_decref (report);
}

//  ---------------------------------------------------------------------
//  The rules, one small data set each

//  Append count summaries like template (JSON text), registered at BASE_MS.
static void
s_add (json_t *summaries, int count, const char *template)
{
    json_error_t jerr;
    for (int i = 0; i < count; i++) {
        json_t *summary = json_loads (template, 0, &jerr);
        if (!summary)
            fail_msg ("bad template: %s", jerr.text);
        if (!json_object_get (summary, "registered"))
            json_object_set_new (summary, "registered", json_integer (BASE_MS));
        json_array_append_new (summaries, summary);
    }
}

static json_t *
s_build (json_t *summaries)
{
    json_t *report = en_report_build (summaries, &(en_report_options_t) { BASE_MS, 0, NULL, 5 });
    assert_non_null (report);
    json_decref (summaries);
    return report;
}

//  The value of row key in section, as JSON text ("12", "\"<5\"").
static char *
s_cell (json_t *report, const char *section, const char *key)
{
    json_t *table = json_object_get (report, section);
    size_t index;
    json_t *row;
    json_array_foreach (json_object_get (table, "rows"), index, row)
        if (streq (json_string_value (json_object_get (row, "key")), key))
            return json_dumps (json_object_get (row, "count"), JSON_ENCODE_ANY);
    if (streq (key, "total"))
        return json_dumps (json_object_get (table, "total"), JSON_ENCODE_ANY);
    if (streq (key, "median"))
        return json_dumps (json_object_get (table, "median_days"), JSON_ENCODE_ANY);
    fail_msg ("%s has no row %s", section, key);
    return NULL;
}

#define assert_cell(report, section, key, expected) do { \
    char *value_ = s_cell (report, section, key); \
    if (!streq (value_, expected)) \
        fail_msg ("%s/%s is %s, expected %s", section, key, value_, expected); \
    free (value_); \
} while (0)

static void
test_primary_and_complement (void **state)
{
    //  One small cell: it and the next smallest are hidden. Here the next
    //  smallest is 5, so "x" >= 5 would give crisis = 6 - 5 = 1: the
    //  third cell goes too.
    json_t *summaries = json_array ();
    s_add (summaries, 1, "{\"urgency\":\"crisis\"}");
    s_add (summaries, 5, "{\"urgency\":\"hoog\"}");
    s_add (summaries, 394, "{\"urgency\":\"regulier\"}");
    json_t *report = s_build (summaries);
    assert_cell (report, "by_urgency", "crisis", "\"<5\"");
    assert_cell (report, "by_urgency", "hoog", "\"x\"");
    assert_cell (report, "by_urgency", "regulier", "\"x\"");
    assert_cell (report, "by_urgency", "total", "400");
    json_decref (report);

    //  With a comfortable next smallest, one complement is enough.
    summaries = json_array ();
    s_add (summaries, 2, "{\"urgency\":\"crisis\"}");
    s_add (summaries, 50, "{\"urgency\":\"hoog\"}");
    s_add (summaries, 348, "{\"urgency\":\"regulier\"}");
    report = s_build (summaries);
    assert_cell (report, "by_urgency", "crisis", "\"<5\"");
    assert_cell (report, "by_urgency", "hoog", "\"x\"");
    assert_cell (report, "by_urgency", "regulier", "348");
    json_decref (report);

    //  Zeros are shown and never chosen as complements; two small cells
    //  protect each other when their sum (5) leaves each one 1..4.
    summaries = json_array ();
    s_add (summaries, 2, "{\"urgency\":\"crisis\"}");
    s_add (summaries, 3, "{\"urgency\":\"hoog\"}");
    s_add (summaries, 95, "{\"urgency\":\"regulier\"}");
    s_add (summaries, 100, "{\"urgency\":\"regulier\", \"question_type\":\"procesregie\"}");
    report = s_build (summaries);
    assert_cell (report, "by_urgency", "crisis", "\"<5\"");
    assert_cell (report, "by_urgency", "hoog", "\"<5\"");
    assert_cell (report, "by_urgency", "regulier", "195");
    assert_cell (report, "by_question_type", "moreel-beraad", "0");
    assert_cell (report, "by_question_type", "procesregie", "100");
    assert_cell (report, "by_question_type", "onbekend", "100");
    json_decref (report);

    //  But 3 + 4 = 7 tells the reader each is at least 3: the large cell
    //  is hidden too.
    summaries = json_array ();
    s_add (summaries, 3, "{\"urgency\":\"crisis\"}");
    s_add (summaries, 4, "{\"urgency\":\"hoog\"}");
    s_add (summaries, 193, "{\"urgency\":\"regulier\"}");
    report = s_build (summaries);
    assert_cell (report, "by_urgency", "crisis", "\"<5\"");
    assert_cell (report, "by_urgency", "hoog", "\"<5\"");
    assert_cell (report, "by_urgency", "regulier", "\"x\"");
    json_decref (report);

    //  Two small cells whose sum pins them: 4 + 4 = 8 with the total 8
    //  means both are 4. Nothing else to hide: the table is withheld.
    summaries = json_array ();
    s_add (summaries, 4, "{\"kader\":\"vrijwillig\"}");
    s_add (summaries, 4, "{\"kader\":\"gedwongen\"}");
    report = s_build (summaries);
    assert_cell (report, "by_kader", "vrijwillig", "\"x\"");
    assert_cell (report, "by_kader", "gedwongen", "\"x\"");
    assert_cell (report, "by_kader", "total", "8");
    assert_true (json_is_true (json_object_get (json_object_get (report, "by_kader"), "withheld")));
    json_decref (report);

    //  Missing and unknown values are counted as "onbekend", so the
    //  partition still adds up.
    summaries = json_array ();
    s_add (summaries, 10, "{\"situatie\":\"thuis\"}");
    s_add (summaries, 10, "{\"situatie\":\"ergens\"}");
    s_add (summaries, 10, "{}");
    report = s_build (summaries);
    assert_cell (report, "by_situatie", "thuis", "10");
    assert_cell (report, "by_situatie", "onbekend", "20");
    json_decref (report);
}

static void
test_small_total (void **state)
{
    //  Three cases: the total itself is "<5" and every table is withheld.
    json_t *summaries = json_array ();
    s_add (summaries, 3, "{\"urgency\":\"crisis\", \"first_assignment\":1704070800000, "
                         "\"outcome\":{\"passende_hulp\":true,\"zero\":{\"suicides\":0}}}");
    json_t *report = s_build (summaries);
    assert_true (s_marker_is (json_object_get (json_object_get (report, "totals"), "cases"), "<5"));
    for (int s = 0; s_tables [s]; s++) {
        json_t *table = json_object_get (report, s_tables [s]);
        assert_true (json_is_true (json_object_get (table, "withheld")));
        assert_true (json_is_string (json_object_get (table, "total")));
    }
    assert_cell (report, "by_urgency", "crisis", "\"x\"");
    assert_cell (report, "by_urgency", "hoog", "\"x\"");
    assert_cell (report, "time_to_assignment", "median", "\"x\"");
    json_t *goal = json_array_get (json_object_get (json_object_get (report, "zero_goals"), "rows"), 1);
    assert_true (s_marker_is (json_object_get (goal, "count"), "x"));
    json_decref (report);

    //  No cases: zeros everywhere, no markers.
    report = s_build (json_array ());
    json_t *markers = json_deep_copy (json_object_get (report, "markers"));
    json_object_del (report, "markers");
    char *text = json_dumps (report, 0);
    json_object_set_new (report, "markers", markers);
    assert_null (strstr (text, "\"<5\""));
    free (text);
    assert_cell (report, "by_urgency", "crisis", "0");
    assert_cell (report, "by_urgency", "total", "0");
    assert_cell (report, "time_to_close", "none", "0");
    assert_cell (report, "time_to_close", "median", "\"x\"");
    json_decref (report);

    //  Not an array: no report.
    json_t *object = json_object ();
    assert_null (en_report_build (object, NULL));
    json_decref (object);
}

static void
test_multi_valued (void **state)
{
    //  Several tags per case, a varying number: the tags add up to no
    //  known number, so a small tag is hidden alone.
    json_t *summaries = json_array ();
    s_add (summaries, 2, "{\"problematiek\":[\"jggz\",\"trauma\",\"lvb\"]}");
    s_add (summaries, 18, "{\"problematiek\":[\"jggz\",\"trauma\"]}");
    json_t *report = s_build (summaries);
    assert_cell (report, "by_problematiek", "lvb", "\"<5\"");
    assert_cell (report, "by_problematiek", "jggz", "20");
    assert_cell (report, "by_problematiek", "trauma", "20");
    assert_cell (report, "by_problematiek", "total", "20");
    json_decref (report);

    //  Exactly two tags on every case: the tags add up to 40, so lvb =
    //  40 - 20 - 18 unless another tag is hidden too.
    summaries = json_array ();
    s_add (summaries, 2, "{\"problematiek\":[\"jggz\",\"lvb\"]}");
    s_add (summaries, 18, "{\"problematiek\":[\"jggz\",\"trauma\"]}");
    report = s_build (summaries);
    assert_cell (report, "by_problematiek", "lvb", "\"<5\"");
    assert_cell (report, "by_problematiek", "trauma", "\"x\"");
    assert_cell (report, "by_problematiek", "jggz", "20");
    json_decref (report);

    //  One tag per case is a partition in disguise.
    summaries = json_array ();
    s_add (summaries, 2, "{\"leefgebieden\":[\"wonen\"]}");
    s_add (summaries, 18, "{\"leefgebieden\":[\"jeugdhulp\"]}");
    report = s_build (summaries);
    assert_cell (report, "by_leefgebied", "wonen", "\"<5\"");
    assert_cell (report, "by_leefgebied", "jeugdhulp", "\"x\"");
    assert_cell (report, "by_leefgebied", "onderwijs", "0");
    json_decref (report);

    //  A tag listed twice counts once; unknown values are "overig".
    summaries = json_array ();
    s_add (summaries, 6, "{\"problematiek\":[\"jggz\",\"jggz\"], \"leefgebieden\":[\"ruimte\"]}");
    report = s_build (summaries);
    assert_cell (report, "by_problematiek", "jggz", "6");
    assert_cell (report, "by_leefgebied", "overig", "6");
    json_decref (report);
}

static void
test_hiaten (void **state)
{
    //  Three hiaten out of 50: the hiaten table hides both cells, and the
    //  table by expertise, whose total is that hidden 3, is withheld.
    json_t *summaries = json_array ();
    s_add (summaries, 3, "{\"hiaat\":true, \"expertise\":[\"trauma\"]}");
    s_add (summaries, 47, "{\"hiaat\":false, \"expertise\":[\"jggz\"]}");
    json_t *report = s_build (summaries);
    assert_cell (report, "hiaten", "ja", "\"<5\"");
    assert_cell (report, "hiaten", "nee", "\"x\"");
    assert_cell (report, "hiaten_by_expertise", "total", "\"<5\"");
    assert_cell (report, "hiaten_by_expertise", "trauma", "\"x\"");
    json_decref (report);

    //  Twelve hiaten: shown, by expertise (only theirs), a rare one hidden.
    summaries = json_array ();
    s_add (summaries, 10, "{\"hiaat\":true, \"expertise\":[\"trauma\",\"jggz\"]}");
    s_add (summaries, 2, "{\"hiaat\":true, \"expertise\":[\"eetstoornis\",\"jggz\",\"trauma\"]}");
    s_add (summaries, 38, "{\"hiaat\":false, \"expertise\":[\"lvb\"]}");
    report = s_build (summaries);
    assert_cell (report, "hiaten", "ja", "12");
    assert_cell (report, "hiaten_by_expertise", "total", "12");
    assert_cell (report, "hiaten_by_expertise", "jggz", "12");
    assert_cell (report, "hiaten_by_expertise", "trauma", "12");
    assert_cell (report, "hiaten_by_expertise", "eetstoornis", "\"<5\"");
    json_t *rows = json_object_get (json_object_get (report, "hiaten_by_expertise"), "rows");
    assert_int_equal (json_array_size (rows), 3);   //  no lvb: not a hiaat
    json_decref (report);
}

//  Teams (issue 13): team or one expert, places by role (a case once
//  per role), hiaten by the role and tags of the places that were one,
//  the time from submit to a full team, beraad held; exact figures,
//  then the small cells.
#define FILLED_TEAM "{\"submitted\":%" PRId64 ", \"team_full\":%" PRId64 ", \"beraad_held\":%s," \
    " \"places\":[{\"role\":\"superexpert\",\"expertise\":[\"trauma\"],\"filled\":true}," \
    "{\"role\":\"ervaringsdeskundige\",\"expertise\":[],\"filled\":true}]}"
static void
test_teams (void **state)
{
    char text [512];
    json_t *summaries = json_array ();
    //  Ten full teams, submitted a day after registration, full two days
    //  later (half held a moreel beraad)
    snprintf (text, sizeof text, FILLED_TEAM, BASE_MS + DAY, BASE_MS + 3 * DAY, "true");
    s_add (summaries, 5, text);
    snprintf (text, sizeof text, FILLED_TEAM, BASE_MS + DAY, BASE_MS + 3 * DAY, "false");
    s_add (summaries, 5, text);
    //  Six teams partly a hiaat: of two superexpert places one found
    //  nobody (lvb); the request's own tags are not the place's
    s_add (summaries, 6, "{\"hiaat\":true, \"expertise\":[\"jggz\"], \"team_full\":null, \"places\":["
        "{\"role\":\"superexpert\",\"expertise\":[\"trauma\"],\"filled\":true},"
        "{\"role\":\"superexpert\",\"expertise\":[\"lvb\"],\"filled\":false,\"hiaat\":true},"
        "{\"role\":\"procesregisseur\",\"expertise\":[],\"filled\":true}]}");
    //  Thirty requests of one expert, filled; five whose hiaat was another
    //  request of the case (no place says so: role onbekend, the
    //  request's tags); ten cases without places
    s_add (summaries, 30, "{\"places\":[{\"role\":\"superexpert\",\"expertise\":[],\"filled\":true}]}");
    s_add (summaries, 5, "{\"hiaat\":true, \"expertise\":[\"adhd\"], \"places\":["
        "{\"role\":\"superexpert\",\"expertise\":[\"adhd\"],\"filled\":false}]}");
    s_add (summaries, 10, "{\"expertise\":[\"lvb\"]}");
    json_t *report = s_build (summaries);
    assert_cell (report, "team_requests", "team", "16");
    assert_cell (report, "team_requests", "enkel", "35");
    assert_cell (report, "team_requests", "onbekend", "10");
    assert_cell (report, "team_requests", "total", "61");
    assert_cell (report, "places_by_role", "total", "51");
    assert_cell (report, "places_by_role", "superexpert:vervuld", "40");
    assert_cell (report, "places_by_role", "superexpert:niet-vervuld", "11");
    assert_cell (report, "places_by_role", "ervaringsdeskundige:vervuld", "10");
    assert_cell (report, "places_by_role", "ervaringsdeskundige:niet-vervuld", "0");
    assert_cell (report, "places_by_role", "procesregisseur:vervuld", "6");
    assert_cell (report, "places_by_role", "procesregisseur:niet-vervuld", "0");
    assert_int_equal (json_array_size (json_object_get (json_object_get (report, "places_by_role"), "rows")), 6);
    assert_cell (report, "hiaten", "ja", "11");
    assert_cell (report, "hiaten_by_role", "total", "11");
    assert_cell (report, "hiaten_by_role", "superexpert", "6");
    assert_cell (report, "hiaten_by_role", "procesregisseur", "0");
    assert_cell (report, "hiaten_by_role", "onbekend", "5");
    assert_cell (report, "hiaten_by_expertise", "lvb", "6");
    assert_cell (report, "hiaten_by_expertise", "adhd", "5");
    assert_int_equal (json_array_size (json_object_get (json_object_get (report, "hiaten_by_expertise"), "rows")), 2);
    assert_cell (report, "time_to_full_team", "total", "16");
    assert_cell (report, "time_to_full_team", "1-7d", "10");
    assert_cell (report, "time_to_full_team", "none", "6");
    assert_cell (report, "time_to_full_team", "median", "2.0");    //  from submit, not registration (3.0)
    assert_cell (report, "beraad", "ja", "5");
    assert_cell (report, "beraad", "nee", "56");
    stats_t stats = { 0 };
    s_reader_audit (json_object_get (report, "places_by_role"), "places_by_role", 5, 1, 3, &stats);
    json_decref (report);

    //  Three teams among fifty: "<5" with its complement; the time to a
    //  full team, whose total is that cell, is withheld; the role only
    //  the teams asked is "<5"
    summaries = json_array ();
    snprintf (text, sizeof text, FILLED_TEAM, BASE_MS, BASE_MS + DAY, "false");
    s_add (summaries, 3, text);
    s_add (summaries, 50, "{\"places\":[{\"role\":\"superexpert\",\"expertise\":[],\"filled\":true}]}");
    report = s_build (summaries);
    assert_cell (report, "team_requests", "team", "\"<5\"");
    assert_cell (report, "team_requests", "enkel", "\"x\"");
    assert_cell (report, "time_to_full_team", "total", "\"<5\"");
    assert_cell (report, "time_to_full_team", "1-7d", "\"x\"");
    assert_cell (report, "time_to_full_team", "none", "\"x\"");
    assert_cell (report, "time_to_full_team", "median", "\"x\"");
    assert_true (json_is_true (json_object_get (json_object_get (report, "time_to_full_team"), "withheld")));
    assert_cell (report, "places_by_role", "total", "53");
    assert_cell (report, "places_by_role", "ervaringsdeskundige:vervuld", "\"<5\"");
    s_reader_audit (json_object_get (report, "places_by_role"), "places_by_role", 5, 1, 2, &stats);
    json_decref (report);

    //  Three cases without places: "<5" in team_requests, so the cases
    //  with places (the total minus them) is hidden, and its table withheld
    summaries = json_array ();
    s_add (summaries, 3, "{}");
    s_add (summaries, 50, "{\"places\":[{\"role\":\"superexpert\",\"expertise\":[],\"filled\":true}]}");
    report = s_build (summaries);
    assert_cell (report, "team_requests", "onbekend", "\"<5\"");
    assert_cell (report, "team_requests", "enkel", "\"x\"");
    assert_cell (report, "places_by_role", "total", "\"x\"");
    assert_cell (report, "places_by_role", "superexpert:vervuld", "\"x\"");
    assert_true (json_is_true (json_object_get (json_object_get (report, "places_by_role"), "withheld")));
    json_decref (report);
}

static void
test_zero_goals_and_outcome (void **state)
{
    json_t *summaries = json_array ();
    //  One youth with 12 afzonderingen: a big sum, one person: hidden.
    s_add (summaries, 1, "{\"outcome\":{\"passende_hulp\":false,\"zero\":{\"gedwongen_afzonderingen\":12,"
                         "\"gesloten_plaatsingen\":1}}}");
    //  Six youths, one doorplaatsing each: shown.
    s_add (summaries, 6, "{\"outcome\":{\"passende_hulp\":true,\"zero\":{\"doorplaatsingen\":1,"
                         "\"gesloten_plaatsingen\":1}}}");
    //  Nearly everyone had a gesloten plaatsing: 3 did not, so hidden.
    s_add (summaries, 40, "{\"outcome\":{\"passende_hulp\":true,\"zero\":{\"gesloten_plaatsingen\":2}}}");
    s_add (summaries, 3, "{\"outcome\":{\"passende_hulp\":true,\"zero\":{}}}");
    s_add (summaries, 20, "{\"outcome\":null}");
    json_t *report = s_build (summaries);
    json_t *rows = json_object_get (json_object_get (report, "zero_goals"), "rows");
    assert_true (s_marker_is (json_object_get (json_array_get (rows, 0), "count"), "<5"));
    assert_int_equal (json_integer_value (json_object_get (json_array_get (rows, 1), "count")), 0);
    assert_true (s_marker_is (json_object_get (json_array_get (rows, 2), "count"), "x"));
    assert_int_equal (json_integer_value (json_object_get (json_array_get (rows, 3), "count")), 6);
    assert_cell (report, "outcome", "ja", "49");
    assert_cell (report, "outcome", "nee", "\"<5\"");
    assert_cell (report, "outcome", "geen", "\"x\"");
    json_decref (report);
}

static void
test_medians (void **state)
{
    //  Five assigned after 1..5 days, 20 not yet: median 3.0 days.
    json_t *summaries = json_array ();
    for (int day = 1; day <= 5; day++) {
        char text [128];
        snprintf (text, sizeof text, "{\"first_assignment\":%" PRId64 "}", BASE_MS + day * DAY);
        s_add (summaries, 1, text);
    }
    s_add (summaries, 20, "{}");
    json_t *report = s_build (summaries);
    assert_cell (report, "time_to_assignment", "1-7d", "5");
    assert_cell (report, "time_to_assignment", "none", "20");
    assert_cell (report, "time_to_assignment", "median", "3.0");
    json_decref (report);

    //  Four assigned: too few for a median; "1-7d" is "<5", "none" "x".
    summaries = json_array ();
    for (int day = 1; day <= 4; day++) {
        char text [128];
        snprintf (text, sizeof text, "{\"first_assignment\":%" PRId64 "}", BASE_MS + day * DAY);
        s_add (summaries, 1, text);
    }
    s_add (summaries, 20, "{}");
    report = s_build (summaries);
    assert_cell (report, "time_to_assignment", "1-7d", "\"<5\"");
    assert_cell (report, "time_to_assignment", "none", "\"x\"");
    assert_cell (report, "time_to_assignment", "median", "\"x\"");
    json_decref (report);

    //  Buckets: boundaries at 1, 7 and 28 days; a time before the
    //  registration (clock skew) counts as 0.
    summaries = json_array ();
    int64_t spans [] = { -1000, DAY - 1, DAY, 7 * DAY - 1, 7 * DAY, 28 * DAY - 1, 28 * DAY, 90 * DAY };
    const char *buckets [] = { "lt-1d", "lt-1d", "1-7d", "1-7d", "1-4w", "1-4w", "gt-4w", "gt-4w" };
    for (int i = 0; i < 8; i++) {
        char text [128];
        snprintf (text, sizeof text, "{\"closed\":%" PRId64 "}", BASE_MS + spans [i]);
        s_add (summaries, 5, text);
    }
    report = s_build (summaries);
    for (int i = 0; i < 8; i += 2)
        assert_cell (report, "time_to_close", buckets [i], "10");
    assert_cell (report, "time_to_close", "none", "0");
    json_decref (report);
}

//  ---------------------------------------------------------------------
//  Renderers

//  Parse CSV (';', RFC 4180 quotes, CRLF) into rows of fields; returns
//  the number of rows or -1 when it is not well-formed.
static int
s_csv_parse (const char *text, char fields [][3][128], int max_rows)
{
    int rows = 0, field = 0;
    size_t length = 0;
    const char *p = text;
    while (*p) {
        if (rows >= max_rows || field >= 3)
            return -1;
        char *out = fields [rows][field];
        length = 0;
        if (*p == '"') {
            p++;
            while (true) {
                if (!*p)
                    return -1;
                if (*p == '"' && p [1] == '"')
                    p++;
                else
                if (*p == '"') {
                    p++;
                    break;
                }
                if (length < 127)
                    out [length++] = *p;
                p++;
            }
        }
        else
            while (*p && *p != ';' && *p != '\r' && *p != '\n') {
                if (*p == '"')
                    return -1;
                if (length < 127)
                    out [length++] = *p;
                p++;
            }
        out [length] = 0;
        if (*p == ';') {
            p++;
            field++;
        }
        else
        if (p [0] == '\r' && p [1] == '\n') {
            p += 2;
            if (field != 2)
                return -1;
            rows++;
            field = 0;
        }
        else
            return -1;
    }
    return field == 0 ? rows : -1;
}

static void
test_csv (void **state)
{
    dataset_t *self = (dataset_t *) *state;
    json_t *report = s_report (self->summaries, &s_everything, 5);
    char *csv = en_report_csv (report);
    assert_non_null (csv);
    static char fields [400][3][128];
    int rows = s_csv_parse (csv, fields, 400);
    assert_true (rows > 0);
    assert_string_equal (fields [0][0], "sectie");
    assert_string_equal (fields [0][1], "categorie");
    assert_string_equal (fields [0][2], "waarde");
    //  A row per cell: every table row, total and median, and every zero
    //  goal appear, with the value as in the JSON.
    int expected = 1 + 4 + 2;       //  header, report metadata, totals
    for (int s = 0; s_tables [s]; s++) {
        json_t *table = json_object_get (report, s_tables [s]);
        json_t *table_rows = json_object_get (table, "rows");
        expected += (int) json_array_size (table_rows) + 1 + (json_object_get (table, "median_days") ? 1 : 0);
        size_t index;
        json_t *row;
        json_array_foreach (table_rows, index, row) {
            char value [64];
            json_t *count = json_object_get (row, "count");
            if (json_is_integer (count))
                snprintf (value, sizeof value, "%" JSON_INTEGER_FORMAT, json_integer_value (count));
            else
                snprintf (value, sizeof value, "%s", json_string_value (count));
            bool found = false;
            for (int r = 1; r < rows; r++)
                found |= streq (fields [r][0], s_tables [s])
                      && streq (fields [r][1], json_string_value (json_object_get (row, "label")))
                      && streq (fields [r][2], value);
            if (!found)
                fail_msg ("CSV lacks %s;%s;%s", s_tables [s],
                          json_string_value (json_object_get (row, "label")), value);
        }
    }
    expected += GOALS + 0;          //  zero goals have no total
    assert_int_equal (rows, expected);
    //  Medians with a decimal comma, age bands that no spreadsheet reads
    //  as dates.
    bool median = false, age = false;
    for (int r = 1; r < rows; r++) {
        median |= streq (fields [r][1], "mediaan (dagen)") && strchr (fields [r][2], ',');
        age |= streq (fields [r][1], "12-17 jaar");
    }
    assert_true (median && age);
    assert_non_null (strstr (csv, "\r\n"));
    free (csv);
    json_decref (report);

    //  Quoting: a separator and quotes in a value survive, and a value a
    //  spreadsheet would run as a formula is defused.
    json_t *summaries = json_array ();
    s_add (summaries, 6, "{\"region\":\"a;\\\"b\\\"\"}");
    s_add (summaries, 6, "{\"region\":\"=cmd|' /C calc'!A0\"}");
    report = s_build (summaries);
    csv = en_report_csv (report);
    rows = s_csv_parse (csv, fields, 400);
    assert_true (rows > 0);
    bool quoted = false, defused = false;
    for (int r = 1; r < rows; r++) {
        quoted |= streq (fields [r][1], "a;\"b\"") && streq (fields [r][2], "6");
        defused |= streq (fields [r][1], "'=cmd|' /C calc'!A0");
    }
    assert_true (quoted && defused);
    free (csv);
    json_decref (report);

    json_t *object = json_object ();
    assert_null (en_report_csv (object));
    assert_null (en_report_html (object));
    json_decref (object);
}

static int
s_occurrences (const char *text, const char *word)
{
    int count = 0;
    for (const char *p = strstr (text, word); p; p = strstr (p + 1, word))
        count++;
    return count;
}

static void
test_html (void **state)
{
    dataset_t *self = (dataset_t *) *state;
    json_t *report = s_report (self->summaries, &s_everything, 5);
    char *html = en_report_html (report);
    assert_non_null (html);
    //  A complete document.
    assert_true (strncmp (html, "<!DOCTYPE html>\n<html lang=\"nl\">", 31) == 0);
    assert_non_null (strstr (html, "<meta charset=\"utf-8\">"));
    assert_non_null (strstr (html, "<title>"));
    assert_non_null (strstr (html, "</body>"));
    size_t length = strlen (html);
    assert_true (length > 8 && streq (html + length - 8, "</html>\n"));
    //  An SVG chart per table and one for the zero goals.
    int sections = s_occurrences (html, "<section id=");
    assert_int_equal (sections, 21);
    assert_int_equal (s_occurrences (html, "<svg "), sections);
    assert_int_equal (s_occurrences (html, "</svg>"), sections);
    assert_true (s_occurrences (html, "<rect ") > 50);
    //  Self-contained, no scripts, printable.
    char *lower = strdup (html);
    for (char *p = lower; *p; p++)
        *p = (char) tolower ((unsigned char) *p);
    assert_null (strstr (lower, "<script"));
    assert_null (strstr (lower, "javascript:"));
    //  No event handlers (onload=...) inside any tag.
    for (char *tag = strchr (lower, '<'); tag; tag = strchr (tag + 1, '<')) {
        char *close = strchr (tag, '>');
        assert_non_null (close);
        *close = 0;
        if (strstr (tag, " on"))
            fail_msg ("tag with an event handler: <%s>", tag + 1);
        *close = '>';
    }
    assert_null (strstr (lower, "http"));
    assert_null (strstr (lower, "src="));
    assert_null (strstr (lower, "<link"));
    assert_null (strstr (lower, "@import"));
    free (lower);
    assert_non_null (strstr (html, "@media print"));
    assert_non_null (strstr (html, "<style>"));
    //  Dutch labels and the markers explained.
    assert_non_null (strstr (html, "Rode draden"));
    assert_non_null (strstr (html, "Urgentie"));
    assert_non_null (strstr (html, "&lt;5"));
    free (html);
    json_decref (report);

    //  Text from the data is escaped.
    json_t *summaries = json_array ();
    s_add (summaries, 6, "{\"region\":\"<b onclick=alert(1)>&\"}");
    report = s_build (summaries);
    html = en_report_html (report);
    assert_null (strstr (html, "<b "));
    assert_non_null (strstr (html, "&lt;b onclick=alert(1)&gt;&amp;"));
    free (html);
    json_decref (report);
}

//  A short sample for a reader of the test log.
static void
test_sample (void **state)
{
    dataset_t *self = (dataset_t *) *state;
    filter_t filter = { BASE_MS, BASE_MS + 3 * MONTH, "ijsselland" };
    json_t *report = s_report (self->summaries, &filter, 5);
    char *csv = en_report_csv (report);
    assert_non_null (csv);
    //  The first few sections only.
    char *end = strstr (csv, "by_situatie;");
    if (end)
        *end = 0;
    printf ("--- sample: ijsselland, first quarter of 2024 (CSV, first sections) ---\n%s", csv);
    free (csv);
    json_decref (report);
}

int
main (void)
{
    setenv ("TZ", "UTC", 1);      //  dates in the sample read as the generator meant them
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_counts_match_truth, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_no_recovery_by_subtraction, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_region_filter, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_period_filter, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_min_cell_configurable, s_setup, s_teardown),
        cmocka_unit_test (test_primary_and_complement),
        cmocka_unit_test (test_small_total),
        cmocka_unit_test (test_multi_valued),
        cmocka_unit_test (test_hiaten),
        cmocka_unit_test (test_zero_goals_and_outcome),
        cmocka_unit_test (test_medians),
        cmocka_unit_test (test_teams),
        cmocka_unit_test_setup_teardown (test_csv, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_html, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_sample, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
