/*  fuzz_vocab - validation of what nodes publish (lib/en_vocab.c): a
    consult request's summary, an expert's availability record, a case's
    anonymized summary and its outcome, and the pseudonym syntax. The broker
    runs these on every SUBMIT, AVAILABILITY and SUMMARY it receives.

    Input: JSON text (any value); each validator sees it, and so does each
    expert of an AVAILABILITY-shaped {"experts": [...]} list. A validator
    must answer 0, or -1 with a message; an accepted request must name an
    urgency of the vocabulary and a question type with roles. */
#include "fuzz.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    fuzz_init ();
    return 0;
}

static void
s_check (int rc, const en_error_t *error)
{
    assert (rc == 0 || rc == -1);
    assert (rc == 0 || (error->code == EN_ERR_INVALID && error->reason [0]));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    char *text = fuzz_text (data, size);
    en_vocab_pseudonym_valid (text);
    en_vocab_urgency_index (text);
    en_vocab_roles_for (text);
    free (text);

    json_t *json = json_loadb ((const char *) data, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (!json)
        return 0;
    en_error_t error = { 0 };
    int rc = en_request_validate (json, &error);
    s_check (rc, &error);
    if (rc == 0) {
        assert (en_vocab_urgency_index (en_json_str (json, "urgency")) >= 0);
        assert (en_vocab_roles_for (en_json_str (json, "question_type")));
    }
    en_error_clear (&error);
    s_check (en_expert_validate (json, &error), &error);
    en_error_clear (&error);
    s_check (en_summary_validate (json, &error), &error);
    en_error_clear (&error);
    s_check (en_outcome_validate (json, &error), &error);
    size_t index;
    json_t *expert;
    json_array_foreach (json_object_get (json, "experts"), index, expert) {
        en_error_clear (&error);
        s_check (en_expert_validate (expert, &error), &error);
    }
    json_decref (json);
    return 0;
}
