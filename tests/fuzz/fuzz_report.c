/*  fuzz_report - the "rode draden" report (lib/en_report.c): aggregation
    of case summaries with small-cell suppression, and its CSV and HTML
    renderers. Summaries come from nodes (SUMMARY) through the broker's
    store, so every field may be of the wrong type or out of range.

    Input: JSON. Built twice (everything with the default cell size; one
    region from a fixed window with cell size 3) and rendered. A report
    exists exactly when the input is an array, and renders. */
#include "fuzz.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    fuzz_init ();
    return 0;
}

static void
s_build (json_t *summaries, const en_report_options_t *options)
{
    json_t *report = en_report_build (summaries, options);
    assert (!report == !json_is_array (summaries));
    if (!report)
        return;
    char *csv = en_report_csv (report);
    char *html = en_report_html (report);
    assert (csv && html);
    free (csv);
    free (html);
    json_decref (report);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    json_t *json = json_loadb ((const char *) data, size, JSON_DECODE_ANY, NULL);
    if (!json)
        return 0;
    s_build (json, NULL);
    en_report_options_t options = {
        .from_ms = 1700000000000LL, .to_ms = 1800000000000LL, .region = "twente", .min_cell = 3 };
    s_build (json, &options);
    json_decref (json);
    return 0;
}
