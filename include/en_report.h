/*  en_report - the "rode draden" report (DOMAIN.md, ET function 3,
    signaleren): what the cases of a period had in common, where help got
    stuck and which requests found nobody (hiaten), with small-cell
    suppression applied before anything leaves this class.

    en_report_build aggregates case summaries into a report (JSON) in which
    every count under the minimum cell size is already hidden, and every
    cell that could give a hidden one away by subtraction is hidden too.
    The renderers only lay that report out, as CSV for a spreadsheet or as
    one self-contained HTML file with SVG bar charts; they never see a
    true count that was hidden. docs/report.md states the rules exactly.

    Input: a JSON array of case summaries, each an object with
        region, urgency, question_type, age_band, kader, situatie (strings),
        leefgebieden, problematiek, stuck_on, expertise (arrays of strings),
        registered (ms since epoch; required: a summary without it is
            skipped), first_assignment, closed (ms or null),
        hiaat (bool),
        places ([{"role", "expertise", "filled", "hiaat"}]), submitted,
            team_full (ms or null), beraad_held (bool): teams,
        outcome ({"passende_hulp": bool, "zero": {"gedwongen_afzonderingen":
            n, "suicides": n, "gesloten_plaatsingen": n, "doorplaatsingen":
            n}} or null).
    Missing or unknown values are counted as "onbekend", never dropped, so
    that the categories of a single-valued field add up to the total. */
#ifndef EN_REPORT_H_INCLUDED
#define EN_REPORT_H_INCLUDED

//  Default minimum cell size: counts from 1 to 4 are not shown.
#define EN_REPORT_MIN_CELL 5

//  The complementary marker: a cell hidden so that another hidden cell
//  cannot be worked out by subtraction, or a cell of a table that had to
//  be withheld as a whole. (The primary marker is "<N", N = min_cell.)
#define EN_REPORT_HIDDEN "x"

typedef struct {
    int64_t from_ms, to_ms;     //  cases registered in [from, to); to_ms 0: no end
    const char *region;         //  only this jeugdregio; NULL = all
    int min_cell;               //  suppression threshold; < 1 means the default (5)
} en_report_options_t;

//  Aggregate summaries (a JSON array, borrowed) into a report with all
//  suppression applied. options may be NULL (everything, all regions,
//  min_cell 5). Sections: totals, by_urgency, by_question_type, by_region,
//  by_age_band, by_kader, by_situatie, by_problematiek, by_leefgebied,
//  by_stuck_on, time_to_assignment, time_to_close, time_to_review,
//  hiaten, hiaten_by_expertise, hiaten_by_role, team_requests,
//  places_by_role, time_to_full_team, beraad, outcome, zero_goals (see
//  docs/report.md for the
//  layout). A shown value is a JSON integer; a hidden one is the string
//  "<N" (primary: the count is 1..N-1) or "x" (complementary). Returns
//  NULL when summaries is not an array. Caller owns the result.
json_t *en_report_build (json_t *summaries, const en_report_options_t *options);

//  Render a report from en_report_build as CSV: header "sectie;categorie;
//  waarde", one row per cell, semicolon-separated, CRLF line ends, fields
//  quoted per RFC 4180 when needed, decimal comma. Returns a new string
//  (caller frees) or NULL when report is not a report.
char *en_report_csv (json_t *report);

//  Render a report as one self-contained HTML document: inline CSS, an
//  inline SVG bar chart per table, no scripts and no external references,
//  Dutch labels, print-friendly. Returns a new string (caller frees) or
//  NULL when report is not a report.
char *en_report_html (json_t *report);

#endif
