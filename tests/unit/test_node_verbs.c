/*  test_node_verbs - the node's control verb tables (node/en_node_verbs.c,
    node/en_node_accounts.c) against the spec's list of node verbs
    (docs/protocol.md, Appendix A, "Node verbs"): every verb the spec
    names has a row, every row is in the spec, no verb has two rows, and
    every row has a handler. What each verb does is tested by the
    integration tests (test_cli, test_accounts, test_privacy, ...), which
    drive a running node. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "expertnet.h"
#include "en_node_int.h"

//  The verbs of the spec's table: the backquoted names in the first
//  column of each row of the first table under "### Node verbs", as a
//  zlist of strings.
static zlist_t *
s_spec_verbs (void)
{
    FILE *file = fopen ("docs/protocol.md", "r");
    assert_non_null (file);
    zlist_t *verbs = zlist_new ();
    zlist_autofree (verbs);
    char line [4096];
    bool inside = false;
    while (fgets (line, sizeof line, file)) {
        if (strncmp (line, "### ", 4) == 0) {
            inside = strncmp (line, "### Node verbs", 14) == 0;
            continue;
        }
        if (inside && zlist_size (verbs) > 0 && line [0] != '|')
            inside = false;         //  the table ended (the notify topics follow)
        if (!inside || strncmp (line, "| `", 3) != 0)
            continue;
        //  "| `accept`, `decline`, `advise` | ..." names three
        char *end = strchr (line + 1, '|');
        assert_non_null (end);
        *end = 0;
        for (char *tick = strchr (line, '`'); tick; ) {
            char *close = strchr (tick + 1, '`');
            assert_non_null (close);
            *close = 0;
            zlist_append (verbs, tick + 1);
            tick = strchr (close + 1, '`');
        }
    }
    fclose (file);
    return verbs;
}

static size_t
s_rows (const char *verb)
{
    size_t rows = 0;
    const en_node_verb_t *tables [] = { en_node_verbs, en_node_account_verbs };
    for (size_t index = 0; index < 2; index++)
        for (const en_node_verb_t *row = tables [index]; row->verb; row++)
            rows += streq (row->verb, verb);
    return rows;
}

static void
test_spec_verbs_have_one_row (void **state)
{
    zlist_t *verbs = s_spec_verbs ();
    assert_true (zlist_size (verbs) >= 30);
    for (const char *verb = (const char *) zlist_first (verbs); verb; verb = (const char *) zlist_next (verbs)) {
        if (s_rows (verb) != 1)
            fail_msg ("verb '%s' of docs/protocol.md has %zu rows in the node's tables", verb, s_rows (verb));
    }
    zlist_destroy (&verbs);
}

static void
test_rows_are_in_the_spec (void **state)
{
    zlist_t *verbs = s_spec_verbs ();
    const en_node_verb_t *tables [] = { en_node_verbs, en_node_account_verbs };
    for (size_t index = 0; index < 2; index++)
        for (const en_node_verb_t *row = tables [index]; row->verb; row++) {
            assert_non_null (row->handler);
            assert_true (row->needs == EN_VERB_READS || row->needs == EN_VERB_WRITES
                      || row->needs == EN_VERB_SENDS);
            bool listed = false;
            for (const char *verb = (const char *) zlist_first (verbs); verb;
                 verb = (const char *) zlist_next (verbs))
                listed |= streq (verb, row->verb);
            if (!listed)
                fail_msg ("the node's verb '%s' is not in docs/protocol.md's node verbs", row->verb);
        }
    zlist_destroy (&verbs);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_spec_verbs_have_one_row),
        cmocka_unit_test (test_rows_are_in_the_spec),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
