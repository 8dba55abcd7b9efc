/*  fuzz_pii - the PII guard (lib/en_pii.c), which reads every free-text
    field before it leaves a node: arbitrary bytes (not only UTF-8), long
    digit runs, names, and JSON walked field by field.

    Input: text. Checked as one text by a guard that knows two synthetic
    client names; if the input is JSON it is also walked as a request's
    fields. When the first line starts with "name:", the rest of that line
    is added to a fresh guard as a client name and the remaining text
    checked against it (the name matcher's normalization). A finding must
    lie inside the text and name a kind. */
#include "fuzz.h"

static en_pii_t *s_guard;       //  knows the synthetic names below

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    fuzz_init ();
    s_guard = en_pii_new ();
    //  Synthetic names (no one's), with the accents and particles the
    //  matcher normalizes
    en_pii_add_name (s_guard, "Testkind Voorbeeld");
    en_pii_add_name (s_guard, "Zoë van der Fictief");
    return 0;
}

static void
s_check_finding (int rc, const en_pii_finding_t *finding, const char *text)
{
    assert (rc == 0 || rc == 1);
    if (rc == 1) {
        assert (finding->kind [0]);
        assert (en_pii_kind_text (finding->kind));
        if (text)
            assert (finding->offset + finding->length <= strlen (text));
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    char *text = fuzz_text (data, size);
    en_pii_finding_t finding;
    s_check_finding (en_pii_check (s_guard, "question", text, &finding), &finding, text);

    if (strncmp (text, "name:", 5) == 0) {
        char *line_end = strchr (text, '\n');
        if (line_end) {
            *line_end = 0;
            en_pii_t *guard = en_pii_new ();
            if (en_pii_add_name (guard, text + 5) == 0)
                s_check_finding (en_pii_check (guard, "question", line_end + 1, &finding),
                                 &finding, line_end + 1);
            en_pii_destroy (&guard);
        }
    }
    free (text);

    json_t *json = json_loadb ((const char *) data, size, JSON_DECODE_ANY, NULL);
    if (json) {
        s_check_finding (en_pii_check_json (s_guard, "request", json, &finding), &finding, NULL);
        json_decref (json);
    }
    json_t *counts = en_pii_counts (s_guard);
    assert (counts);
    json_decref (counts);
    return 0;
}
