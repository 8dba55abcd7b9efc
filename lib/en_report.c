/*  en_report - the rode draden report (see en_report.h, docs/report.md).

    Building a report is three steps, each over plain C tables so that no
    true count is ever written into the JSON unless it may be shown:

    1. Count. Every summary registered in [from, to) (and in the region,
       when one is asked for) is counted once in each table. A table is a
       list of cells and the number of cases it covers (its total). In a
       single-valued table (urgency, kader, a time bucket...) each case
       falls in exactly one cell, "onbekend" included, so the cells add up
       to the total: a partition. In a multi-valued table (problematiek,
       leefgebieden...) a case counts once in each of its tags.

    2. Protect. A reader who knows the total, the shown cells and these
       rules can bound each hidden cell. We model that reader exactly:
       a shown cell is known; a "<N" cell lies in 1..N-1; an "x" cell is
       at least N (zeros and small cells are never chosen as complements)
       and, because complements are taken smallest first, at most the
       smallest cell still shown; the cells add up to between kmin and
       kmax times the total, where kmin and kmax are the fewest and most
       cells one case of this table counts in (1 and 1 for a partition).
       A table is safe when, for every "<N" cell, those facts still allow
       every value 1..N-1: subtraction tells the reader nothing beyond the
       marker. Until the table is safe we hide the smallest non-zero cell
       still shown; when none is left, the whole table is withheld (every
       cell "x", so even the "<N" markers go). A table whose total is
       hidden is withheld too: a table over part of the cases takes its
       total's marker from where that number stands in another table
       (hiaten by expertise and by role: the hiaten's "ja"; the time to a
       full team: team_requests' "team"; places by role: the period's
       total minus team_requests' "onbekend"), so a number hidden in one
       table is hidden in every table that holds it.

    3. Write. Shown values become JSON integers, hidden ones the marker
       strings; medians appear only when the published table itself
       proves the group has at least N cases, so that whether a median is
       shown tells nothing new either.

    The renderers (CSV, HTML) read only the JSON report.
*/
#include "expertnet.h"
#include "en_report.h"
#include "en_text.h"
#include <math.h>
#include <time.h>

#define DAY_MS (24LL * 3600 * 1000)

//  What the reader sees of a cell.
typedef enum {
    CELL_SHOWN,                 //  the true count
    CELL_PRIMARY,               //  "<N": the count is 1..N-1
    CELL_COMPLEMENT,            //  "x": hidden to protect a "<N" cell
    CELL_WITHHELD               //  "x": the whole table is withheld
} cell_state_t;

typedef struct {
    char *key;                  //  category: vocabulary value, tag or bucket
    char *label;                //  Dutch label for the reader
    int64_t count;              //  true count of cases
    cell_state_t state;         //  what the reader sees
    size_t stamp;               //  last case counted here, plus one (dedup)
} cell_t;

typedef struct {
    const char *name;           //  section key in the report
    const char *title;          //  Dutch title
    const char *total_label;    //  what the total counts, in Dutch
    const char *note;           //  explanation under the title, or NULL
    bool multi;                 //  a case may count in several cells
    bool sorted;                //  open set: sort cells by key at the end
    cell_t *cells;              //  the categories, in report order
    size_t size;                //  cells in use
    size_t limit;               //  cells allocated
    int64_t total;              //  cases this table covers
    cell_state_t total_state;   //  how the total is shown
    int64_t kmin;               //  fewest cells one case counted in
    int64_t kmax;               //  most cells one case counted in
    bool withheld;              //  whole table hidden
    bool timed;                 //  a time table: has a median
    int64_t *durations;         //  time tables: one per case with a time
    size_t durations_size;      //  durations in use
    size_t durations_limit;     //  durations allocated
} table_t;

//  The zero goals of BOEG, in report order, with Dutch labels.
static const char *s_goal_keys [] = {
    "gedwongen_afzonderingen", "suicides", "gesloten_plaatsingen", "doorplaatsingen", NULL };
static const char *s_goal_labels [] = {
    "gedwongen afzonderingen", "suïcides", "gesloten plaatsingen", "doorplaatsingen", NULL };
#define GOAL_COUNT 4

typedef struct {
    int64_t events;             //  sum over cases with an outcome
    int64_t cases;              //  cases with at least one event
    cell_state_t state;         //  how the sum is shown
} goal_t;

//  Time buckets, shared by time to assignment and time to close.
static const char *s_bucket_keys [] = { "lt-1d", "1-7d", "1-4w", "gt-4w", NULL };
static const char *s_bucket_labels [] = { "< 1 dag", "1-7 dagen", "1-4 weken", "> 4 weken", NULL };

typedef struct {
    int min_cell;               //  N
    int64_t cases;              //  T: summaries in scope
    int64_t skipped;            //  summaries without a usable registered time
    cell_state_t cases_state;   //  how T is shown
    int64_t with_outcome;       //  cases with an outcome object (zero goals base)
    table_t urgency, question_type, region, age_band, kader, situatie;
    table_t problematiek, leefgebied, stuck_on;
    table_t assignment, close, review, hiaten, expertise, outcome;
    table_t team, places, hiaten_role, team_full, beraad;
    goal_t goals [GOAL_COUNT];
} builder_t;

//  ---------------------------------------------------------------------
//  Step 1: counting

static char *
s_strdup (const char *text)
{
    char *copy = strdup (text);
    assert (copy);
    return copy;
}

static void
s_table_init (table_t *self, const char *name, const char *title, bool multi,
              bool sorted, const char *note)
{
    memset (self, 0, sizeof *self);
    self->name = name;
    self->title = title;
    self->multi = multi;
    self->sorted = sorted;
    self->note = note;
    self->total_label = multi ? "aantal casussen" : "totaal";
    self->kmin = INT64_MAX;
    self->kmax = 0;
}

static void
s_table_fini (table_t *self)
{
    for (size_t i = 0; i < self->size; i++) {
        free (self->cells [i].key);
        free (self->cells [i].label);
    }
    free (self->cells);
    free (self->durations);
}

//  The cell for key, appended (count 0) when it is not there yet.
static cell_t *
s_table_cell (table_t *self, const char *key, const char *label)
{
    for (size_t i = 0; i < self->size; i++)
        if (streq (self->cells [i].key, key))
            return &self->cells [i];
    if (self->size == self->limit) {
        self->limit = self->limit ? self->limit * 2 : 8;
        self->cells = (cell_t *) realloc (self->cells, self->limit * sizeof (cell_t));
        assert (self->cells);
    }
    cell_t *cell = &self->cells [self->size++];
    memset (cell, 0, sizeof *cell);
    cell->key = s_strdup (key);
    cell->label = s_strdup (label ? label : key);
    return cell;
}

//  Cells for a closed vocabulary, in its order, so zeros are shown too.
static void
s_table_vocab (table_t *self, const char **vocab, const char *suffix)
{
    for (; *vocab; vocab++) {
        char label [128];
        snprintf (label, sizeof label, "%s%s", *vocab, suffix ? suffix : "");
        s_table_cell (self, *vocab, label);
    }
}

//  One case counted in the cells of keys (count of them), each once.
//  case_no identifies the case for deduplication.
static void
s_table_count (table_t *self, const char **keys, size_t count, size_t case_no)
{
    int64_t cells = 0;
    for (size_t i = 0; i < count; i++) {
        cell_t *cell = s_table_cell (self, keys [i], NULL);
        if (cell->stamp == case_no + 1)
            continue;           //  the same tag twice counts once
        cell->stamp = case_no + 1;
        cell->count++;
        cells++;
    }
    self->total++;
    if (cells < self->kmin)
        self->kmin = cells;
    if (cells > self->kmax)
        self->kmax = cells;
}

//  A single-valued field: its value if it is in vocab (any non-empty
//  string when vocab is NULL), else "onbekend".
static void
s_count_one (table_t *self, json_t *summary, const char *field,
             const char **vocab, size_t case_no)
{
    const char *value = en_json_str (summary, field);
    if (!value || !*value || (vocab && !en_vocab_has (vocab, value)))
        value = "onbekend";
    s_table_count (self, &value, 1, case_no);
}

//  A multi-valued field: each string in vocab (any non-empty string
//  when vocab is NULL); anything else counts once as "overig".
static void
s_count_tags (table_t *self, json_t *summary, const char *field,
              const char **vocab, size_t case_no)
{
    json_t *array = json_object_get (summary, field);
    size_t size = json_is_array (array) ? json_array_size (array) : 0;
    const char **keys = (const char **) calloc (size + 1, sizeof (char *));
    assert (keys);
    size_t count = 0;
    for (size_t i = 0; i < size; i++) {
        const char *value = json_string_value (json_array_get (array, i));
        if (!value || !*value || (vocab && !en_vocab_has (vocab, value)))
            value = "overig";
        keys [count++] = value;
    }
    s_table_count (self, keys, count, case_no);
    free (keys);
}

//  A time from registered to a later moment, or "none" when there is no
//  later moment yet. Times before registration (clock skew) count as 0.
static void
s_count_time (table_t *self, json_t *summary, const char *field,
              int64_t registered, size_t case_no)
{
    json_t *value = json_object_get (summary, field);
    const char *key = "none";
    if (json_is_integer (value)) {
        int64_t span = json_integer_value (value) - registered;
        if (span < 0)
            span = 0;
        key = span < DAY_MS ? "lt-1d"
            : span < 7 * DAY_MS ? "1-7d"
            : span < 28 * DAY_MS ? "1-4w" : "gt-4w";
        if (self->durations_size == self->durations_limit) {
            self->durations_limit = self->durations_limit ? self->durations_limit * 2 : 64;
            self->durations = (int64_t *) realloc (self->durations,
                                                   self->durations_limit * sizeof (int64_t));
            assert (self->durations);
        }
        self->durations [self->durations_size++] = span;
    }
    s_table_count (self, &key, 1, case_no);
}

//  The roles a place can be reported under: the vocabulary, then
//  "onbekend" (a place whose role is missing or not one of them).
#define ROLE_ROWS 8
static size_t
s_role_rows (const char *rows [ROLE_ROWS])
{
    size_t count = 0;
    for (; count < ROLE_ROWS - 1 && en_vocab_role [count]; count++)
        rows [count] = en_vocab_role [count];
    rows [count++] = "onbekend";
    return count;
}

//  The row of a place's role in s_role_rows
static size_t
s_place_role (json_t *place, const char **rows, size_t count)
{
    const char *role = en_json_str (place, "role");
    for (size_t i = 0; role && i < count - 1; i++)
        if (streq (rows [i], role))
            return i;
    return count - 1;
}

//  The places_by_role cell of a role, filled or not ("superexpert:vervuld",
//  "superexpert: vervuld"), added when not there yet; its key in key
static const char *
s_places_cell (table_t *places, const char *role, bool filled, char *key, size_t size)
{
    char label [64];
    snprintf (key, size, "%s:%s", role, filled ? "vervuld" : "niet-vervuld");
    snprintf (label, sizeof label, "%s: %s", role, filled ? "vervuld" : "niet vervuld");
    s_table_cell (places, key, label);
    return key;
}

//  Teams (places): whether the case asked one expert or a team; per
//  role whether its places were filled ("vervuld" when every place of
//  that role was; a case counts once per role, so that every cell is a
//  number of cases, not of places); the time to a full team. A case
//  without places is "onbekend" in team_requests and not in the rest.
static void
s_count_places (builder_t *self, json_t *summary, int64_t registered, size_t case_no)
{
    json_t *places = json_object_get (summary, "places");
    size_t size = json_is_array (places) ? json_array_size (places) : 0;
    const char *kind = size > 1 ? "team" : size == 1 ? "enkel" : "onbekend";
    s_table_count (&self->team, &kind, 1, case_no);

    const char *roles [ROLE_ROWS];
    size_t role_count = s_role_rows (roles);
    bool asked [ROLE_ROWS] = { false }, unfilled [ROLE_ROWS] = { false };
    size_t index;
    json_t *place;
    json_array_foreach (places, index, place) {
        size_t role = s_place_role (place, roles, role_count);
        asked [role] = true;
        if (!json_is_true (json_object_get (place, "filled")))
            unfilled [role] = true;
    }
    char keys [ROLE_ROWS][48];
    const char *rows [ROLE_ROWS];
    size_t count = 0;
    for (size_t role = 0; role < role_count; role++) {
        if (!asked [role])
            continue;
        rows [count] = s_places_cell (&self->places, roles [role], !unfilled [role],
                                      keys [count], sizeof keys [count]);
        count++;
    }
    if (size > 0)               //  only cases with places: see s_builder_protect
        s_table_count (&self->places, rows, count, case_no);
    if (size > 1) {
        json_t *started = json_object_get (summary, "submitted");
        s_count_time (&self->team_full, summary, "team_full",
                      json_is_integer (started) ? json_integer_value (started) : registered, case_no);
    }
}

//  A hiaat: by the roles and tags of the places that were ever one; a
//  case counts once per role and once per tag. When no place says so
//  (no places, or the hiaat was another request of the case) the role
//  is "onbekend" and the tags are the request's.
static void
s_count_hiaat (builder_t *self, json_t *summary, size_t case_no)
{
    const char *roles [ROLE_ROWS];
    size_t role_count = s_role_rows (roles);
    const char *rows [ROLE_ROWS];
    bool seen [ROLE_ROWS] = { false };
    size_t count = 0;
    json_t *tags = json_object ();
    json_t *list = json_array ();
    json_object_set_new (tags, "expertise", list);
    size_t index;
    json_t *place;
    json_array_foreach (json_object_get (summary, "places"), index, place) {
        if (!json_is_true (json_object_get (place, "hiaat")))
            continue;
        size_t role = s_place_role (place, roles, role_count);
        if (!seen [role])
            rows [count++] = roles [role];
        seen [role] = true;
        json_t *expertise = json_object_get (place, "expertise");
        if (json_is_array (expertise))
            json_array_extend (list, expertise);
    }
    bool from_places = count > 0;
    if (!from_places)
        rows [count++] = "onbekend";
    s_table_count (&self->hiaten_role, rows, count, case_no);
    s_count_tags (&self->expertise, from_places ? tags : summary, "expertise", NULL, case_no);
    json_decref (tags);
}

static void
s_count_case (builder_t *self, json_t *summary, int64_t registered, size_t case_no)
{
    self->cases++;
    s_count_one (&self->urgency, summary, "urgency", en_vocab_urgency, case_no);
    s_count_one (&self->question_type, summary, "question_type", en_vocab_question_type, case_no);
    s_count_one (&self->region, summary, "region", NULL, case_no);
    s_count_one (&self->age_band, summary, "age_band", en_vocab_age_band, case_no);
    s_count_one (&self->kader, summary, "kader", en_vocab_kader, case_no);
    s_count_one (&self->situatie, summary, "situatie", en_vocab_situatie, case_no);
    s_count_tags (&self->problematiek, summary, "problematiek", NULL, case_no);
    s_count_tags (&self->leefgebied, summary, "leefgebieden", en_vocab_leefgebied, case_no);
    s_count_tags (&self->stuck_on, summary, "stuck_on", en_vocab_stuck_on, case_no);
    s_count_time (&self->assignment, summary, "first_assignment", registered, case_no);
    s_count_time (&self->close, summary, "closed", registered, case_no);
    s_count_time (&self->review, summary, "first_review", registered, case_no);

    bool hiaat = json_is_true (json_object_get (summary, "hiaat"));
    const char *key = hiaat ? "ja" : "nee";
    s_table_count (&self->hiaten, &key, 1, case_no);
    if (hiaat)
        s_count_hiaat (self, summary, case_no);
    s_count_places (self, summary, registered, case_no);
    key = json_is_true (json_object_get (summary, "beraad_held")) ? "ja" : "nee";
    s_table_count (&self->beraad, &key, 1, case_no);

    json_t *outcome = json_object_get (summary, "outcome");
    json_t *fit = json_object_get (outcome, "passende_hulp");
    key = json_is_true (fit) ? "ja" : json_is_false (fit) ? "nee" : "geen";
    s_table_count (&self->outcome, &key, 1, case_no);
    if (json_is_object (outcome)) {
        self->with_outcome++;
        json_t *zero = json_object_get (outcome, "zero");
        for (int goal = 0; goal < GOAL_COUNT; goal++) {
            json_t *value = json_object_get (zero, s_goal_keys [goal]);
            if (json_is_integer (value) && json_integer_value (value) > 0) {
                self->goals [goal].events += json_integer_value (value);
                self->goals [goal].cases++;
            }
        }
    }
}

static int
s_cell_compare (const void *a, const void *b)
{
    const cell_t *left = (const cell_t *) a;
    const cell_t *right = (const cell_t *) b;
    //  "onbekend" and "overig" go last; the rest alphabetically, never by
    //  count, so the order of rows says nothing about hidden cells.
    bool left_rest = streq (left->key, "onbekend") || streq (left->key, "overig");
    bool right_rest = streq (right->key, "onbekend") || streq (right->key, "overig");
    if (left_rest != right_rest)
        return left_rest ? 1 : -1;
    return strcmp (left->key, right->key);
}

//  ---------------------------------------------------------------------
//  Step 2: protection

//  The range a reader can give cell index from its marker alone.
static void
s_cell_range (table_t *self, size_t index, int min_cell, int64_t *lo, int64_t *hi)
{
    cell_t *cell = &self->cells [index];
    switch (cell->state) {
        case CELL_SHOWN:
            *lo = *hi = cell->count;
            break;
        case CELL_PRIMARY:
            *lo = 1;
            *hi = min_cell - 1;
            break;
        case CELL_COMPLEMENT:
            //  Complements are the smallest non-zero cells, taken in row
            //  order on ties: at most every non-zero cell still shown, and
            //  below those before it.
            *lo = min_cell;
            *hi = self->total;
            for (size_t other = 0; other < self->size; other++) {
                cell_t *shown = &self->cells [other];
                if (shown->state != CELL_SHOWN || shown->count == 0)
                    continue;
                int64_t bound = shown->count - (other < index ? 1 : 0);
                if (bound < *hi)
                    *hi = bound;
            }
            break;
        case CELL_WITHHELD:
            *lo = 0;
            *hi = self->total;
            break;
    }
}

//  True when no "<N" cell can be narrowed below 1..N-1 by what the reader
//  knows (the rules, the total, the shown cells, the markers).
static bool
s_table_safe (table_t *self, int min_cell)
{
    if (self->withheld)
        return true;
    int64_t shown = 0;
    for (size_t i = 0; i < self->size; i++)
        if (self->cells [i].state == CELL_SHOWN)
            shown += self->cells [i].count;
    //  The hidden cells add up to something in [sum_lo, sum_hi].
    int64_t sum_lo = self->kmin * self->total - shown;
    int64_t sum_hi = self->kmax * self->total - shown;
    for (size_t i = 0; i < self->size; i++) {
        if (self->cells [i].state != CELL_PRIMARY)
            continue;
        int64_t others_lo = 0, others_hi = 0;
        for (size_t j = 0; j < self->size; j++) {
            if (j == i || self->cells [j].state == CELL_SHOWN)
                continue;
            int64_t lo = 0, hi = 0;
            s_cell_range (self, j, min_cell, &lo, &hi);
            others_lo += lo;
            others_hi += hi;
        }
        int64_t lo = sum_lo - others_hi > 1 ? sum_lo - others_hi : 1;
        int64_t hi = sum_hi - others_lo < min_cell - 1 ? sum_hi - others_lo : min_cell - 1;
        assert (lo <= self->cells [i].count && self->cells [i].count <= hi);
        if (lo > 1 || hi < min_cell - 1)
            return false;
    }
    return true;
}

static void
s_table_withhold (table_t *self)
{
    self->withheld = true;
    for (size_t i = 0; i < self->size; i++)
        self->cells [i].state = CELL_WITHHELD;
}

//  Apply primary and complementary suppression. total_state says how the
//  table's total is shown elsewhere in the report.
static void
s_table_protect (table_t *self, int min_cell, cell_state_t total_state)
{
    if (self->kmin == INT64_MAX)
        self->kmin = 0;         //  no cases at all
    self->total_state = total_state;
    if (total_state != CELL_SHOWN) {
        s_table_withhold (self);
        return;
    }
    for (size_t i = 0; i < self->size; i++) {
        cell_t *cell = &self->cells [i];
        cell->state = cell->count >= 1 && cell->count < min_cell ? CELL_PRIMARY : CELL_SHOWN;
    }
    while (!s_table_safe (self, min_cell)) {
        cell_t *smallest = NULL;
        for (size_t i = 0; i < self->size; i++) {
            cell_t *cell = &self->cells [i];
            if (cell->state == CELL_SHOWN && cell->count > 0
            &&  (!smallest || cell->count < smallest->count))
                smallest = cell;
        }
        if (!smallest) {
            s_table_withhold (self);
            break;
        }
        smallest->state = CELL_COMPLEMENT;
    }
}

//  The lower bound on the cases with a time that a reader can read off
//  the published time table (every cell but "none").
static int64_t
s_time_known (table_t *self, int min_cell)
{
    int64_t known = 0;
    for (size_t i = 0; i < self->size; i++) {
        cell_t *cell = &self->cells [i];
        if (streq (cell->key, "none"))
            continue;
        known += cell->state == CELL_SHOWN ? cell->count
               : cell->state == CELL_PRIMARY ? 1
               : cell->state == CELL_COMPLEMENT ? min_cell : 0;
    }
    return known;
}

//  ---------------------------------------------------------------------
//  Step 3: the report

static json_t *
s_value (int64_t count, cell_state_t state, int min_cell)
{
    if (state == CELL_SHOWN)
        return json_integer (count);
    if (state == CELL_PRIMARY) {
        char marker [16];
        snprintf (marker, sizeof marker, "<%d", min_cell);
        return json_string (marker);
    }
    return json_string (EN_REPORT_HIDDEN);
}

static int
s_duration_compare (const void *a, const void *b)
{
    int64_t left = *(const int64_t *) a, right = *(const int64_t *) b;
    return left < right ? -1 : left > right;
}

static json_t *
s_table_json (table_t *self, int min_cell)
{
    json_t *rows = json_array ();
    for (size_t i = 0; i < self->size; i++) {
        cell_t *cell = &self->cells [i];
        json_array_append_new (rows, json_pack ("{s:s, s:s, s:o}",
            "key", cell->key, "label", cell->label,
            "count", s_value (cell->count, cell->state, min_cell)));
    }
    json_t *json = json_pack ("{s:s, s:s, s:o, s:s, s:b, s:o}",
        "title", self->title,
        "kind", self->multi ? "multi" : "partition",
        "total", s_value (self->total, self->total_state, min_cell),
        "total_label", self->total_label,
        "withheld", self->withheld,
        "rows", rows);
    assert (json);
    if (self->note)
        json_object_set_new (json, "note", json_string (self->note));
    if (self->timed) {
        //  The median, in days to one decimal, when the published table
        //  itself shows at least N cases have a time.
        json_t *median = json_string (EN_REPORT_HIDDEN);
        if (self->durations_size > 0 && s_time_known (self, min_cell) >= min_cell) {
            qsort (self->durations, self->durations_size, sizeof (int64_t), s_duration_compare);
            size_t mid = self->durations_size / 2;
            double ms = self->durations_size % 2
                      ? (double) self->durations [mid]
                      : ((double) self->durations [mid - 1] + (double) self->durations [mid]) / 2;
            json_decref (median);
            median = json_real (round (ms / DAY_MS * 10) / 10);
        }
        json_object_set_new (json, "median_days", median);
    }
    return json;
}

//  The tables of teams (issue 13): team or one expert, places by role,
//  hiaten by role, time to a full team, moreel beraad held.
static void
s_builder_init_teams (builder_t *self)
{
    s_table_init (&self->team, "team_requests", "Teamverzoeken en verzoeken om één expert",
        false, false, NULL);
    s_table_cell (&self->team, "team", "teamverzoek (meer dan één plaats)");
    s_table_cell (&self->team, "enkel", "verzoek om één expert");
    s_table_init (&self->places, "places_by_role", "Gevraagde plaatsen per rol: vervuld of niet",
        true, false, "Per casus en rol: vervuld als elke gevraagde plaats van die rol een expert "
        "kreeg. Een casus telt één keer per gevraagde rol, ook met twee plaatsen van die rol.");
    self->places.total_label = "aantal casussen met plaatsen";
    const char *roles [ROLE_ROWS];
    size_t role_count = s_role_rows (roles);
    for (size_t i = 0; i + 1 < role_count; i++) {      //  the roles, not "onbekend"
        char key [48];
        s_places_cell (&self->places, roles [i], true, key, sizeof key);
        s_places_cell (&self->places, roles [i], false, key, sizeof key);
    }
    s_table_init (&self->hiaten_role, "hiaten_by_role", "Hiaten naar rol: plaatsen die niemand kon oppakken",
        true, false, "Per hiaat de rollen van de plaatsen die niemand kon oppakken; "
        "een teamverzoek kan meer dan één zo'n plaats hebben.");
    self->hiaten_role.total_label = "aantal hiaten";
    s_table_vocab (&self->hiaten_role, en_vocab_role, NULL);
    s_table_init (&self->team_full, "time_to_full_team", "Tijd van verzoek tot volledig team",
        false, false, "Alleen teamverzoeken: tot de laatste plaats een expert kreeg. "
        "De mediaan is het midden van de teams die volledig werden.");
    for (int i = 0; s_bucket_keys [i]; i++)
        s_table_cell (&self->team_full, s_bucket_keys [i], s_bucket_labels [i]);
    s_table_cell (&self->team_full, "none", "(nog) niet volledig");
    self->team_full.timed = true;
    self->team_full.total_label = "aantal teamverzoeken";
    s_table_init (&self->beraad, "beraad", "Moreel beraad gehouden", false, false, NULL);
    s_table_cell (&self->beraad, "ja", "moreel beraad gehouden");
    s_table_cell (&self->beraad, "nee", "geen (nog niet)");
}

//  places_by_role in a fixed order: the roles' rows first, then those
//  of an unknown role (added as they occur: moved to the end, in a
//  fixed order, whenever they came)
static void
s_places_order (table_t *self)
{
    const char *last [] = { "onbekend:vervuld", "onbekend:niet-vervuld" };
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < self->size; i++)
            if (streq (self->cells [i].key, last [k])) {
                cell_t cell = self->cells [i];
                memmove (&self->cells [i], &self->cells [i + 1], (self->size - i - 1) * sizeof (cell_t));
                self->cells [self->size - 1] = cell;
                break;
            }
}

static void
s_builder_init (builder_t *self, int min_cell)
{
    memset (self, 0, sizeof *self);
    self->min_cell = min_cell;
    s_table_init (&self->urgency, "by_urgency", "Urgentie", false, false, NULL);
    s_table_vocab (&self->urgency, en_vocab_urgency, NULL);
    s_table_init (&self->question_type, "by_question_type", "Soort vraag", false, false, NULL);
    s_table_vocab (&self->question_type, en_vocab_question_type, NULL);
    s_table_init (&self->region, "by_region", "Jeugdregio", false, true, NULL);
    s_table_init (&self->age_band, "by_age_band", "Leeftijd", false, false, NULL);
    s_table_vocab (&self->age_band, en_vocab_age_band, " jaar");
    s_table_init (&self->kader, "by_kader", "Kader", false, false,
        "Gedwongen: er is een jeugdbeschermingsmaatregel (OTS, voogdij).");
    s_table_vocab (&self->kader, en_vocab_kader, NULL);
    s_table_init (&self->situatie, "by_situatie", "Huidige situatie", false, false, NULL);
    s_table_vocab (&self->situatie, en_vocab_situatie, NULL);

    const char *multi_note = "Een casus kan in meer dan een categorie vallen: "
        "de aantallen tellen niet op tot het aantal casussen.";
    s_table_init (&self->problematiek, "by_problematiek", "Problematiek", true, true, multi_note);
    s_table_init (&self->leefgebied, "by_leefgebied", "Leefgebieden", true, false, multi_note);
    s_table_vocab (&self->leefgebied, en_vocab_leefgebied, NULL);
    s_table_init (&self->stuck_on, "by_stuck_on", "Vastgelopen op", true, false, multi_note);
    s_table_vocab (&self->stuck_on, en_vocab_stuck_on, NULL);

    s_table_init (&self->assignment, "time_to_assignment", "Tijd van aanmelding tot eerste toewijzing",
        false, false, "De mediaan is het midden van de toegewezen casussen.");
    s_table_init (&self->close, "time_to_close", "Tijd van aanmelding tot afsluiting",
        false, false, "De mediaan is het midden van de afgesloten casussen.");
    s_table_init (&self->review, "time_to_review", "Tijd van aanmelding tot eerste terugkoppeling (terug op ET)",
        false, false, "Tot de eerste dag waarop het verzoek volgens afspraak terugkwam in het expertteam. "
        "De mediaan is het midden van de casussen die terugkwamen.");
    for (int i = 0; s_bucket_keys [i]; i++) {
        s_table_cell (&self->assignment, s_bucket_keys [i], s_bucket_labels [i]);
        s_table_cell (&self->close, s_bucket_keys [i], s_bucket_labels [i]);
        s_table_cell (&self->review, s_bucket_keys [i], s_bucket_labels [i]);
    }
    s_table_cell (&self->assignment, "none", "nog niet toegewezen");
    s_table_cell (&self->close, "none", "nog niet afgesloten");
    s_table_cell (&self->review, "none", "nog niet terug op ET");
    self->assignment.timed = self->close.timed = self->review.timed = true;

    s_table_init (&self->hiaten, "hiaten", "Hiaten: verzoeken die niemand kon oppakken",
        false, false, NULL);
    s_table_cell (&self->hiaten, "ja", "hiaat (niemand beschikbaar)");
    s_table_cell (&self->hiaten, "nee", "opgepakt");
    s_table_init (&self->expertise, "hiaten_by_expertise", "Hiaten naar gevraagde expertise",
        true, true, "Per hiaat de gevraagde expertise; een verzoek kan om meer dan "
        "een expertise vragen.");
    self->expertise.total_label = "aantal hiaten";
    s_table_init (&self->outcome, "outcome", "Passende hulp gerealiseerd", false, false, NULL);
    s_table_cell (&self->outcome, "ja", "ja");
    s_table_cell (&self->outcome, "nee", "nee");
    s_table_cell (&self->outcome, "geen", "nog geen uitkomst");
    s_builder_init_teams (self);
}

//  Every table of the builder, in report order (the order of the
//  sections in the JSON). Returns how many.
#define BUILDER_TABLES 20
static size_t
s_builder_tables (builder_t *self, table_t *tables [BUILDER_TABLES])
{
    table_t *all [BUILDER_TABLES] = {
        &self->urgency, &self->question_type, &self->region, &self->age_band,
        &self->kader, &self->situatie, &self->problematiek, &self->leefgebied,
        &self->stuck_on, &self->assignment, &self->close, &self->review, &self->hiaten,
        &self->expertise, &self->hiaten_role, &self->team, &self->places, &self->team_full,
        &self->beraad, &self->outcome };
    memcpy (tables, all, sizeof all);
    return BUILDER_TABLES;
}

static void
s_builder_fini (builder_t *self)
{
    table_t *tables [BUILDER_TABLES];
    size_t count = s_builder_tables (self, tables);
    for (size_t i = 0; i < count; i++)
        s_table_fini (tables [i]);
}

//  Count every summary registered in the period (and region), then sort
//  the tables whose cells are not a fixed vocabulary.
static void
s_builder_count (builder_t *self, json_t *summaries, const en_report_options_t *options)
{
    size_t index;
    json_t *summary;
    json_array_foreach (summaries, index, summary) {
        json_t *registered = json_object_get (summary, "registered");
        if (!json_is_integer (registered)) {
            self->skipped++;
            continue;
        }
        int64_t at = json_integer_value (registered);
        if (at < options->from_ms || (options->to_ms > 0 && at >= options->to_ms))
            continue;
        if (options->region) {
            const char *region = en_json_str (summary, "region");
            if (!region || !streq (region, options->region))
                continue;
        }
        s_count_case (self, summary, at, index);
    }
    table_t *open_sets [] = { &self->region, &self->problematiek, &self->expertise };
    for (size_t i = 0; i < sizeof open_sets / sizeof open_sets [0]; i++)
        if (open_sets [i]->size)        //  qsort of a NULL array is undefined, even of none
            qsort (open_sets [i]->cells, open_sets [i]->size, sizeof (cell_t), s_cell_compare);
    s_places_order (&self->places);
}

//  Protection, in dependency order: the period total T first, then
//  every table over T, then the hiaten by expertise and by role, whose
//  total is the "ja" cell of the hiaten table, and the time to a full
//  team, whose total is the "team" cell of team_requests.
static void
s_builder_protect (builder_t *self)
{
    int min_cell = self->min_cell;
    self->cases_state = self->cases >= 1 && self->cases < min_cell ? CELL_PRIMARY : CELL_SHOWN;
    table_t *tables [BUILDER_TABLES];
    size_t count = s_builder_tables (self, tables);
    for (size_t i = 0; i < count; i++)
        if (tables [i] != &self->expertise && tables [i] != &self->hiaten_role
        &&  tables [i] != &self->team_full && tables [i] != &self->places)
            s_table_protect (tables [i], min_cell, self->cases_state);
    cell_t *hiaat = s_table_cell (&self->hiaten, "ja", NULL);
    assert (hiaat->count == self->expertise.total && hiaat->count == self->hiaten_role.total);
    s_table_protect (&self->expertise, min_cell, hiaat->state);
    s_table_protect (&self->hiaten_role, min_cell, hiaat->state);
    cell_t *team = s_table_cell (&self->team, "team", NULL);
    assert (team->count == self->team_full.total);
    s_table_protect (&self->team_full, min_cell, team->state);
    //  The cases with places are the period's minus team_requests'
    //  "onbekend": shown only when that cell is (a hidden number is
    //  hidden everywhere)
    cell_t *unknown = NULL;
    for (size_t i = 0; i < self->team.size; i++)
        if (streq (self->team.cells [i].key, "onbekend"))
            unknown = &self->team.cells [i];
    assert ((unknown ? unknown->count : 0) + self->places.total == self->team.total);
    cell_state_t with_places = self->cases_state != CELL_SHOWN ? CELL_WITHHELD
                             : self->places.total >= 1 && self->places.total < min_cell ? CELL_PRIMARY
                             : unknown && unknown->state != CELL_SHOWN ? CELL_COMPLEMENT : CELL_SHOWN;
    s_table_protect (&self->places, min_cell, with_places);

    //  Zero goals are sums of events: shown when no case, or at least N
    //  cases, contributed, and at least N (or no) cases with an outcome
    //  did not; never when T is hidden.
    for (int i = 0; i < GOAL_COUNT; i++) {
        goal_t *goal = &self->goals [i];
        int64_t without = self->with_outcome - goal->cases;
        if (self->cases_state != CELL_SHOWN)
            goal->state = CELL_WITHHELD;
        else
        if (goal->cases >= 1 && goal->cases < min_cell)
            goal->state = CELL_PRIMARY;
        else
        if (goal->cases >= 1 && without >= 1 && without < min_cell)
            goal->state = CELL_COMPLEMENT;
        else
            goal->state = CELL_SHOWN;
    }
}

//  The zero goals section: one row of summed events per goal.
static json_t *
s_builder_goals_json (builder_t *self)
{
    json_t *rows = json_array ();
    for (int i = 0; i < GOAL_COUNT; i++) {
        goal_t *goal = &self->goals [i];
        json_array_append_new (rows, json_pack ("{s:s, s:s, s:o}",
            "key", s_goal_keys [i], "label", s_goal_labels [i],
            "count", s_value (goal->events, goal->state, self->min_cell)));
    }
    return json_pack ("{s:s, s:s, s:s, s:o}",
        "title", "Nuldoelen (BOEG): aantal gebeurtenissen",
        "kind", "sums",
        "note", "Opgeteld over de casussen met een uitkomst. Niet getoond als minder "
                "dan de minimale celgrootte aan jongeren het betreft.",
        "rows", rows);
}

//  The report of a counted, protected builder.
static json_t *
s_builder_json (builder_t *self, const en_report_options_t *options)
{
    int min_cell = self->min_cell;
    char marker [16];
    snprintf (marker, sizeof marker, "<%d", min_cell);
    json_t *report = json_pack ("{s:s, s:i, s:{s:I, s:o}, s:o, s:i, s:{s:s, s:s}, s:{s:o, s:o}}",
        "report", "rode-draden",
        "version", 1,
        "period", "from", (json_int_t) options->from_ms,
                  "to", options->to_ms > 0 ? json_integer (options->to_ms) : json_null (),
        "region", options->region ? json_string (options->region) : json_null (),
        "min_cell", min_cell,
        "markers", "primary", marker, "complementary", EN_REPORT_HIDDEN,
        "totals", "cases", s_value (self->cases, self->cases_state, min_cell),
                  "skipped", s_value (self->skipped,
                      self->skipped >= 1 && self->skipped < min_cell ? CELL_PRIMARY : CELL_SHOWN,
                      min_cell));
    assert (report);
    table_t *tables [BUILDER_TABLES];
    size_t count = s_builder_tables (self, tables);
    for (size_t i = 0; i < count; i++)
        json_object_set_new (report, tables [i]->name, s_table_json (tables [i], min_cell));
    json_object_set_new (report, "zero_goals", s_builder_goals_json (self));
    return report;
}

json_t *
en_report_build (json_t *summaries, const en_report_options_t *options)
{
    if (!json_is_array (summaries))
        return NULL;
    en_report_options_t defaults = { 0, 0, NULL, EN_REPORT_MIN_CELL };
    if (!options)
        options = &defaults;
    int min_cell = options->min_cell >= 1 ? options->min_cell : EN_REPORT_MIN_CELL;

    builder_t builder;
    s_builder_init (&builder, min_cell);
    s_builder_count (&builder, summaries, options);
    s_builder_protect (&builder);
    json_t *report = s_builder_json (&builder, options);
    s_builder_fini (&builder);
    return report;
}

//  ---------------------------------------------------------------------
//  Rendering

//  Section keys in report order; both renderers walk this list.
static const char *s_sections [] = {
    "by_urgency", "by_question_type", "by_region", "by_age_band", "by_kader",
    "by_situatie", "by_problematiek", "by_leefgebied", "by_stuck_on",
    "time_to_assignment", "time_to_close", "time_to_review", "hiaten", "hiaten_by_expertise",
    "hiaten_by_role", "team_requests", "places_by_role", "time_to_full_team", "beraad",
    "outcome", "zero_goals", NULL };

static bool
s_is_report (json_t *report)
{
    const char *kind = en_json_str (report, "report");
    return kind && streq (kind, "rode-draden") && json_is_object (json_object_get (report, "totals"));
}

//  A period boundary as local "YYYY-MM-DD", with the time when it is not
//  midnight; none when there is no boundary.
static const char *
s_date (json_t *value, const char *none, char *buf, size_t size)
{
    if (!json_is_integer (value) || json_integer_value (value) <= 0) {
        snprintf (buf, size, "%s", none);
        return buf;
    }
    time_t secs = (time_t) (json_integer_value (value) / 1000);
    struct tm tm;
    localtime_r (&secs, &tm);
    if (tm.tm_hour || tm.tm_min || tm.tm_sec)
        strftime (buf, size, "%Y-%m-%d %H:%M", &tm);
    else
        strftime (buf, size, "%Y-%m-%d", &tm);
    return buf;
}

//  A value as text: a count, a marker, or a median with decimal comma.
static const char *
s_value_text (json_t *value, char *buf, size_t size)
{
    if (json_is_integer (value))
        snprintf (buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value (value));
    else
    if (json_is_real (value)) {
        snprintf (buf, size, "%.1f", json_real_value (value));
        char *dot = strchr (buf, '.');
        if (dot)
            *dot = ',';
    }
    else
    if (json_is_string (value))
        snprintf (buf, size, "%s", json_string_value (value));
    else
        snprintf (buf, size, "-");
    return buf;
}

//  One CSV field: quoted when it holds a separator, quote or line break
//  (RFC 4180, quotes doubled), and prefixed with ' when a spreadsheet
//  would read it as a formula.
static void
s_csv_field (FILE *out, const char *text)
{
    bool formula = text [0] && strchr ("=+-@\t\r", text [0]);
    bool quote = formula || strpbrk (text, ";\"\r\n") != NULL
              || text [0] == ' ' || (text [0] && text [strlen (text) - 1] == ' ');
    if (!quote) {
        fputs (text, out);
        return;
    }
    fputc ('"', out);
    if (formula)
        fputc ('\'', out);
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            fputc ('"', out);
        fputc (*p, out);
    }
    fputc ('"', out);
}

static void
s_csv_row (FILE *out, const char *section, const char *category, const char *value)
{
    s_csv_field (out, section);
    fputc (';', out);
    s_csv_field (out, category);
    fputc (';', out);
    s_csv_field (out, value);
    fputs ("\r\n", out);
}

//  A report's text, written by writer, or NULL when report is not one
typedef void (s_writer_fn) (FILE *out, json_t *report);

static char *
s_report_text (json_t *report, s_writer_fn *writer)
{
    if (!s_is_report (report))
        return NULL;
    en_text_t text;
    FILE *out = en_text_open (&text);
    if (!out)
        return NULL;
    writer (out, report);
    return en_text_close (out, &text);
}

//  The report as CSV rows (s_report_text)
static void
s_csv (FILE *out, json_t *report)
{
    char buf [64];
    s_csv_row (out, "sectie", "categorie", "waarde");
    json_t *period = json_object_get (report, "period");
    s_csv_row (out, "report", "van", s_date (json_object_get (period, "from"), "begin", buf, sizeof buf));
    s_csv_row (out, "report", "tot", s_date (json_object_get (period, "to"), "heden", buf, sizeof buf));
    const char *region = en_json_str (report, "region");
    s_csv_row (out, "report", "regio", region ? region : "alle regio's");
    s_csv_row (out, "report", "minimale celgrootte",
               s_value_text (json_object_get (report, "min_cell"), buf, sizeof buf));
    json_t *totals = json_object_get (report, "totals");
    s_csv_row (out, "totals", "aanmeldingen",
               s_value_text (json_object_get (totals, "cases"), buf, sizeof buf));
    s_csv_row (out, "totals", "overgeslagen (onleesbaar)",
               s_value_text (json_object_get (totals, "skipped"), buf, sizeof buf));
    for (int i = 0; s_sections [i]; i++) {
        json_t *table = json_object_get (report, s_sections [i]);
        size_t index;
        json_t *row;
        json_array_foreach (json_object_get (table, "rows"), index, row)
            s_csv_row (out, s_sections [i], en_json_str (row, "label"),
                       s_value_text (json_object_get (row, "count"), buf, sizeof buf));
        if (json_object_get (table, "total"))
            s_csv_row (out, s_sections [i], en_json_str (table, "total_label"),
                       s_value_text (json_object_get (table, "total"), buf, sizeof buf));
        if (json_object_get (table, "median_days"))
            s_csv_row (out, s_sections [i], "mediaan (dagen)",
                       s_value_text (json_object_get (table, "median_days"), buf, sizeof buf));
    }
}

char *
en_report_csv (json_t *report)
{
    return s_report_text (report, s_csv);
}


#define CHART_WIDTH 560
#define CHART_LABEL 190         //  width of the label column
#define CHART_BARS 270          //  width of the longest bar
#define CHART_ROW 22            //  height of one row

//  A horizontal bar chart of the rows: a bar per shown count, the marker
//  in place of the bar for a hidden one.
static void
s_html_chart (FILE *out, json_t *table)
{
    json_t *rows = json_object_get (table, "rows");
    size_t count = json_array_size (rows);
    bool withheld = json_is_true (json_object_get (table, "withheld"));
    json_int_t largest = 0;
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row) {
        json_t *value = json_object_get (row, "count");
        if (json_is_integer (value) && json_integer_value (value) > largest)
            largest = json_integer_value (value);
    }
    json_t *total = json_object_get (table, "total");
    json_int_t base = json_is_integer (total) ? json_integer_value (total) : 0;
    size_t lines = count + (withheld || count == 0 ? 1 : 0);
    int height = (int) lines * CHART_ROW + 8;
    fprintf (out, "<svg class=\"chart\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
             CHART_WIDTH, height, CHART_WIDTH, height);
    en_html_escape (out, en_json_str (table, "title"));
    fputs ("\">\n", out);
    int y = 4;
    if (count == 0) {
        fprintf (out, "<text x=\"%d\" y=\"%d\" class=\"hidden\">geen gegevens in deze periode</text>\n",
                 CHART_LABEL + 6, y + 15);
        y += CHART_ROW;
    }
    if (withheld) {
        fprintf (out, "<text x=\"%d\" y=\"%d\" class=\"hidden\">tabel niet getoond: te weinig "
                 "casussen om de aantallen te beschermen</text>\n", CHART_LABEL + 6, y + 15);
        y += CHART_ROW;
    }
    json_array_foreach (rows, index, row) {
        json_t *value = json_object_get (row, "count");
        fprintf (out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", CHART_LABEL, y + 15);
        en_html_escape (out, en_json_str (row, "label"));
        fputs ("</text>\n", out);
        if (json_is_integer (value)) {
            json_int_t n = json_integer_value (value);
            int width = largest > 0 ? (int) (n * CHART_BARS / largest) : 0;
            if (n > 0 && width < 1)
                width = 1;
            fprintf (out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\" class=\"bar\"/>\n",
                     CHART_LABEL + 6, y + 3, width);
            fprintf (out, "<text x=\"%d\" y=\"%d\">%" JSON_INTEGER_FORMAT, CHART_LABEL + 12 + width, y + 15, n);
            if (base > 0)
                fprintf (out, " (%" JSON_INTEGER_FORMAT "%%)", (n * 100 + base / 2) / base);
            fputs ("</text>\n", out);
        }
        else {
            fprintf (out, "<rect x=\"%d\" y=\"%d\" width=\"24\" height=\"16\" class=\"gap\"/>\n",
                     CHART_LABEL + 6, y + 3);
            fprintf (out, "<text x=\"%d\" y=\"%d\" class=\"hidden\">", CHART_LABEL + 36, y + 15);
            en_html_escape (out, json_string_value (value));
            fputs ("</text>\n", out);
        }
        y += CHART_ROW;
    }
    fputs ("</svg>\n", out);
}

static void
s_html_table (FILE *out, json_t *table)
{
    char buf [64];
    fputs ("<table>\n<thead><tr><th>categorie</th><th>aantal</th></tr></thead>\n<tbody>\n", out);
    size_t index;
    json_t *row;
    json_array_foreach (json_object_get (table, "rows"), index, row) {
        fputs ("<tr><td>", out);
        en_html_escape (out, en_json_str (row, "label"));
        fputs ("</td><td>", out);
        en_html_escape (out, s_value_text (json_object_get (row, "count"), buf, sizeof buf));
        fputs ("</td></tr>\n", out);
    }
    fputs ("</tbody>\n", out);
    if (json_object_get (table, "total")) {
        fputs ("<tfoot><tr><td>", out);
        en_html_escape (out, en_json_str (table, "total_label"));
        fputs ("</td><td>", out);
        en_html_escape (out, s_value_text (json_object_get (table, "total"), buf, sizeof buf));
        fputs ("</td></tr>", out);
        if (json_object_get (table, "median_days")) {
            fputs ("<tr><td>mediaan (dagen)</td><td>", out);
            en_html_escape (out, s_value_text (json_object_get (table, "median_days"), buf, sizeof buf));
            fputs ("</td></tr>", out);
        }
        fputs ("</tfoot>\n", out);
    }
    fputs ("</table>\n", out);
}

static const char *s_css =
    "body{font-family:Helvetica,Arial,sans-serif;color:#1a1a1a;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.4}\n"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.15em;margin:1.6em 0 .3em;border-bottom:1px solid #999}\n"
    ".meta{color:#444}.note{color:#444;font-size:.9em;margin:.2em 0 .5em}\n"
    ".legend{border:1px solid #bbb;padding:.5em 1em;font-size:.9em;background:#f6f6f6}\n"
    ".figure{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}\n"
    "svg.chart{display:block;max-width:100%;height:auto;font-size:12px}\n"
    "svg .bar{fill:#2f5f8a}svg .gap{fill:none;stroke:#999;stroke-dasharray:3 2}svg .hidden{fill:#666;font-style:italic}\n"
    "table{border-collapse:collapse;font-size:.9em;margin:.5em 0 0}td,th{border:1px solid #ccc;padding:.15em .6em;text-align:left}\n"
    "td+td{text-align:right}tfoot td{font-weight:bold}\n"
    "section{break-inside:avoid;page-break-inside:avoid}\n"
    "@media print{body{margin:0;max-width:none;font-size:10pt}.legend{background:none}"
    "svg .bar{-webkit-print-color-adjust:exact;print-color-adjust:exact}h2{break-after:avoid}}\n";

//  The report as an HTML page (s_report_text)
static void
s_html (FILE *out, json_t *report)
{
    char from [32], to [32], buf [64];
    json_t *period = json_object_get (report, "period");
    s_date (json_object_get (period, "from"), "het begin", from, sizeof from);
    s_date (json_object_get (period, "to"), "heden", to, sizeof to);
    const char *region = en_json_str (report, "region");
    json_t *markers = json_object_get (report, "markers");

    fputs ("<!DOCTYPE html>\n<html lang=\"nl\">\n<head>\n<meta charset=\"utf-8\">\n<title>Rode draden ", out);
    en_html_escape (out, from);
    fputs (" tot ", out);
    en_html_escape (out, to);
    fputs ("</title>\n<style>\n", out);
    fputs (s_css, out);
    fputs ("</style>\n</head>\n<body>\n<header>\n<h1>Rode draden</h1>\n<p class=\"meta\">Aangemeld van ", out);
    en_html_escape (out, from);
    fputs (" tot ", out);
    en_html_escape (out, to);
    fputs (" &middot; Regio: ", out);
    en_html_escape (out, region ? region : "alle regio's");
    fputs (" &middot; Aantal aanmeldingen: <strong>", out);
    en_html_escape (out, s_value_text (json_object_get (json_object_get (report, "totals"), "cases"), buf, sizeof buf));
    fputs ("</strong></p>\n</header>\n<section class=\"legend\">\n<p><strong>Privacy.</strong> "
           "Aantallen kleiner dan ", out);
    en_html_escape (out, s_value_text (json_object_get (report, "min_cell"), buf, sizeof buf));
    fputs (" worden niet getoond maar als <strong>", out);
    en_html_escape (out, en_json_str (markers, "primary"));
    fputs ("</strong> weergegeven. Met <strong>", out);
    en_html_escape (out, en_json_str (markers, "complementary"));
    fputs ("</strong> is een aantal verborgen zodat een verborgen klein aantal niet door "
           "aftrekken van het totaal te achterhalen is. Een mediaan staat er alleen als de "
           "tabel zelf laat zien dat het om voldoende casussen gaat.</p>\n</section>\n", out);

    for (int i = 0; s_sections [i]; i++) {
        json_t *table = json_object_get (report, s_sections [i]);
        if (!table)
            continue;
        fprintf (out, "<section id=\"%s\">\n<h2>", s_sections [i]);
        en_html_escape (out, en_json_str (table, "title"));
        fputs ("</h2>\n", out);
        if (en_json_str (table, "note")) {
            fputs ("<p class=\"note\">", out);
            en_html_escape (out, en_json_str (table, "note"));
            fputs ("</p>\n", out);
        }
        fputs ("<div class=\"figure\">\n", out);
        s_html_chart (out, table);
        s_html_table (out, table);
        fputs ("</div>\n</section>\n", out);
    }
    fputs ("</body>\n</html>\n", out);
}

char *
en_report_html (json_t *report)
{
    return s_report_text (report, s_html);
}
