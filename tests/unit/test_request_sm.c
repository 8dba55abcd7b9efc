/*  test_request_sm - the request state machine (broker/en_request_sm.h)
    against its spec and in the router.

    The spec, docs/protocol.md ("Transition table"), shows the machine as a
    Markdown table; the code declares it in en_request_sm.c. This test
    reads the table from the document (tests run from the repository root)
    and checks both say the same, both ways: each row is unfolded into
    one line per from-state and to-state ("from event guard to"), and the
    two sets of lines must be equal. Then it checks that the machine
    refuses what it does not declare, on its own and where it counts: in
    the router, which must write nothing for a refused transition.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "expertnet.h"
#include "en_router.h"
#include "en_request_sm.h"
#include "test_fixture.h"

#define SPEC "docs/protocol.md"

//  Trim spaces and backticks from both ends of text, in place.
static char *
s_trim (char *text)
{
    while (*text == ' ' || *text == '`')
        text++;
    size_t length = strlen (text);
    while (length && (text [length - 1] == ' ' || text [length - 1] == '`' || text [length - 1] == '\n'))
        text [--length] = 0;
    return text;
}

//  Unfold one row (from and to lists, ", "-separated, backticks allowed)
//  into lines "from|event|guard|to" added to set.
static void
s_unfold (zhashx_t *set, const char *from, const char *event, const char *guard, const char *to)
{
    char froms [512], tos [512];
    snprintf (froms, sizeof froms, "%s", from);
    for (char *f = strtok (froms, ","); f; f = strtok (NULL, ",")) {
        char *state = s_trim (f);
        snprintf (tos, sizeof tos, "%s", to);
        char *rest = tos;
        for (char *t = strsep (&rest, ","); t; t = strsep (&rest, ",")) {
            char line [256];
            snprintf (line, sizeof line, "%s|%s|%s|%s", state, event, guard ? guard : "-", s_trim (t));
            if (zhashx_insert (set, line, (void *) "") != 0)
                fail_msg ("transition declared twice: %s", line);
        }
    }
}

//  The code's table, unfolded.
static zhashx_t *
s_code_table (void)
{
    zhashx_t *set = zhashx_new ();
    size_t count;
    const en_request_sm_row_t *rows = en_request_sm_rows (&count);
    assert_true (count > 10);
    for (size_t i = 0; i < count; i++)
        s_unfold (set, rows [i].from, rows [i].event, rows [i].guard, rows [i].to);
    return set;
}

//  The spec's table, unfolded: the Markdown table after the heading
//  "### Transition table", columns from, event, guard, to (the fifth,
//  the cause, is prose).
static zhashx_t *
s_spec_table (void)
{
    FILE *file = fopen (SPEC, "r");
    if (!file)
        fail_msg ("cannot open %s (run from the repository root)", SPEC);
    zhashx_t *set = zhashx_new ();
    char line [4096];
    bool section = false, table = false;
    int rows = 0;
    while (fgets (line, sizeof line, file)) {
        if (!section) {
            section = strncmp (line, "### Transition table", 20) == 0;
            continue;
        }
        if (!table) {
            table = strncmp (line, "| from | event | guard | to |", 29) == 0;
            if (table && fgets (line, sizeof line, file))
                assert_true (strncmp (line, "|---", 4) == 0);
            continue;
        }
        if (line [0] != '|')
            break;
        char *cells [6] = { NULL };
        int n = 0;
        char *rest = line + 1;
        for (char *cell = strsep (&rest, "|"); cell && n < 6; cell = strsep (&rest, "|"))
            cells [n++] = s_trim (cell);
        if (n < 5)
            fail_msg ("%s: a transition row needs from, event, guard, to and cause: %s", SPEC, line);
        const char *guard = streq (cells [2], "—") ? NULL : cells [2];
        if (guard && !en_request_sm_guard (guard))
            fail_msg ("%s: '%s' is not a guard of the request state machine", SPEC, guard);
        s_unfold (set, cells [0], cells [1], guard, cells [3]);
        rows++;
    }
    fclose (file);
    if (!section || !table || rows == 0)
        fail_msg ("%s has no \"### Transition table\" with a from | event | guard | to table", SPEC);
    return set;
}

//  Lines of one set missing from the other, printed; how many.
static int
s_missing (zhashx_t *from, zhashx_t *in, const char *what)
{
    int missing = 0;
    for (void *item = zhashx_first (from); item; item = zhashx_next (from)) {
        const char *line = (const char *) zhashx_cursor (from);
        if (!zhashx_lookup (in, line)) {
            print_message ("%s: %s\n", what, line);
            missing++;
        }
    }
    return missing;
}

static void
test_spec_equals_code (void **state)
{
    (void) state;
    zhashx_t *code = s_code_table ();
    zhashx_t *spec = s_spec_table ();
    int missing = s_missing (code, spec, "in the code, not in " SPEC)
                + s_missing (spec, code, "in " SPEC ", not in the code");
    if (missing)
        fail_msg ("%d transition(s) differ between %s and broker/en_request_sm.c", missing, SPEC);
    assert_int_equal (zhashx_size (code), zhashx_size (spec));
    zhashx_destroy (&code);
    zhashx_destroy (&spec);
}

//  Every state named in the table is a request state, and every state
//  is named (none unreachable).
static void
test_states_in_table (void **state)
{
    (void) state;
    static const char *states [] = { "submitted", "offered", "escalated", "forwarded", "accepted",
                                     "advice", "hiaat", "returned", "recalled", "closed", NULL };
    zhashx_t *code = s_code_table ();
    for (int i = 0; states [i]; i++) {
        assert_true (en_request_sm_is_state (states [i]));
        bool reached = false;
        for (void *item = zhashx_first (code); item; item = zhashx_next (code)) {
            const char *line = (const char *) zhashx_cursor (code);
            const char *to = strrchr (line, '|') + 1;
            reached |= streq (to, states [i]);
        }
        if (!reached)
            fail_msg ("no transition leads to state %s", states [i]);
    }
    for (void *item = zhashx_first (code); item; item = zhashx_next (code)) {
        char line [256];
        snprintf (line, sizeof line, "%s", (const char *) zhashx_cursor (code));
        const char *from = strtok (line, "|");
        strtok (NULL, "|");
        strtok (NULL, "|");
        const char *to = strtok (NULL, "|");
        if (!streq (from, "(new)") && !en_request_sm_is_state (from))
            fail_msg ("'%s' is not a request state", from);
        if (!streq (to, "same") && !en_request_sm_is_state (to))
            fail_msg ("'%s' is not a request state", to);
    }
    assert_false (en_request_sm_is_state ("bogus"));
    assert_false (en_request_sm_is_state (NULL));
    zhashx_destroy (&code);
}

static void
test_check (void **state)
{
    (void) state;
    en_request_sm_context_t own = { false, false, false };
    en_request_sm_context_t operator = { false, false, true };
    en_request_sm_context_t from_peer = { true, false, false };
    en_request_sm_context_t with_peer = { false, true, false };
    en_error_t error = { 0 };
    //  Declared
    assert_int_equal (en_request_sm_check (NULL, "submitted", "submitted", &own, &error), 0);
    assert_int_equal (en_request_sm_check ("offered", "declined", "offered", &own, &error), 0);
    assert_int_equal (en_request_sm_check ("escalated", "accepted", "accepted", &own, &error), 0);
    assert_int_equal (en_request_sm_check ("hiaat", "escalated", "escalated", &operator, &error), 0);
    assert_int_equal (en_request_sm_check ("accepted", "closed", "closed", &own, &error), 0);
    assert_int_equal (en_request_sm_check ("offered", "expired", "offered", &own, &error), 0);
    assert_int_equal (en_request_sm_check ("forwarded", "accepted", "accepted", &with_peer, &error), 0);
    assert_int_equal (error.code, 0);
    //  Not declared: refused with 409 naming the transition
    assert_int_equal (en_request_sm_check ("closed", "closed", "closed", &own, &error), -1);
    assert_int_equal (error.code, EN_ERR_CONFLICT);
    assert_non_null (strstr (error.reason, "closed --closed--> closed"));
    en_error_clear (&error);
    assert_int_equal (en_request_sm_check ("accepted", "offered", "offered", &own, &error), -1);
    assert_int_equal (en_request_sm_check ("offered", "declined", "hiaat", &own, &error), -1);
    assert_int_equal (en_request_sm_check ("advice", "accepted", "accepted", &own, &error), -1);
    assert_int_equal (en_request_sm_check ("closed", "operator-close", "closed", &operator, &error), -1);
    assert_int_equal (en_request_sm_check (NULL, "offered", "offered", &own, &error), -1);
    assert_int_equal (en_request_sm_check ("offered", "no-such-event", "offered", &own, &error), -1);
    //  Guards
    assert_int_equal (en_request_sm_check ("hiaat", "escalated", "escalated", &own, &error), -1);
    assert_int_equal (en_request_sm_check ("offered", "hiaat", "hiaat", &from_peer, &error), -1);
    assert_int_equal (en_request_sm_check ("offered", "returned", "returned", &own, &error), -1);
    assert_int_equal (en_request_sm_check ("offered", "returned", "returned", &from_peer, &error), 0);
    assert_int_equal (en_request_sm_check ("accepted", "closed", "closed", &with_peer, &error), 0);
    assert_int_equal (en_request_sm_check ("accepted", "advice", "offered", &with_peer, &error), 0);
    assert_int_equal (en_request_sm_check ("accepted", "advice", "hiaat", &with_peer, &error), -1);
    assert_int_equal (en_request_sm_check ("offered", "withdrawn", "offered", &own, &error), -1);
    //  Guards are what the table names, nothing else
    assert_non_null (en_request_sm_guard ("with-peer"));
    assert_null (en_request_sm_guard ("anyone"));
}

//  In the router: a request whose stored state the machine does not
//  allow for what arrives (here: an offer still open although the request
//  is already accepted, as a bug or a hand-edited store could leave it)
//  is refused with 409 and nothing of the message is written.
//  A request's state from its places' (docs/protocol.md, "Places"): the
//  first of the documented order a place is in; one place: its own
static void
test_derive (void **state)
{
    const char *one [] = { "hiaat" };
    assert_string_equal (en_request_sm_derive (one, 1), "hiaat");
    const char *open [] = { "accepted", "hiaat", "offered" };
    assert_string_equal (en_request_sm_derive (open, 3), "offered");
    const char *gap [] = { "accepted", "hiaat", "advice" };
    assert_string_equal (en_request_sm_derive (gap, 3), "hiaat");
    const char *filled [] = { "advice", "accepted", "closed" };
    assert_string_equal (en_request_sm_derive (filled, 3), "accepted");
    const char *advised [] = { "advice", "closed", "advice" };
    assert_string_equal (en_request_sm_derive (advised, 3), "advice");
    const char *escalated [] = { "offered", "escalated" };
    assert_string_equal (en_request_sm_derive (escalated, 2), "escalated");
    const char *closed [] = { "closed", "closed" };
    assert_string_equal (en_request_sm_derive (closed, 2), "closed");
    const char *later [] = { "closed", "monitoring" };
    assert_string_equal (en_request_sm_derive (later, 2), "monitoring");
    const char *followed [] = { "monitoring", "advice" };
    assert_string_equal (en_request_sm_derive (followed, 2), "advice");
    //  A peer's copy holding two places of a team: one given back, the
    //  other filled there is the request's state; given back only when
    //  no place is held any more
    const char *held [] = { "returned", "accepted" };
    assert_string_equal (en_request_sm_derive (held, 2), "accepted");
    const char *followed_held [] = { "recalled", "monitoring" };
    assert_string_equal (en_request_sm_derive (followed_held, 2), "monitoring");
    const char *routing [] = { "returned", "offered" };
    assert_string_equal (en_request_sm_derive (routing, 2), "offered");
    const char *gone [] = { "returned", "closed", "recalled" };
    assert_string_equal (en_request_sm_derive (gone, 3), "returned");
    assert_null (en_request_sm_derive (one, 0));
    //  Every state of one place is its own request state
    size_t count;
    const en_request_sm_row_t *rows = en_request_sm_rows (&count);
    for (size_t i = 0; i < count; i++)
        if (en_request_sm_is_state (rows [i].to)) {
            const char *single [] = { rows [i].to };
            assert_string_equal (en_request_sm_derive (single, 1), rows [i].to);
        }
}

static void
test_router_refuses (void **state)
{
    (void) state;
    char dir [128];
    assert_non_null (test_mkdtemp (dir, sizeof dir, "test_request_sm"));
    char path [160];
    snprintf (path, sizeof path, "%s/broker.db", dir);
    en_bstore_t *store = en_bstore_new (path, NULL);
    assert_non_null (store);
    en_router_t *router = en_router_new (store, "broker-oost");
    en_db_t *db = en_bstore_db (store);

    const char *bodies [][2] = {
        { "AVAILABILITY", "{\"experts\":[{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\","
                          "\"expertise\":[\"trauma\"],\"capacity\":2}]}" },
        { "SUBMIT", "{\"request\":{\"id\":\"twente-0001\",\"region\":\"twente\",\"urgency\":\"hoog\","
                    "\"question_type\":\"consultatie-advies\",\"expertise\":[\"trauma\"],\"age_band\":\"12-17\"}}" } };
    for (int i = 0; i < 2; i++) {
        en_msg_t *msg = en_msg_new (bodies [i][0], "node-twente", test_json (bodies [i][1]));
        en_error_t error = { 0 };
        assert_int_equal (en_db_begin (db), 0);
        assert_int_equal (en_router_handle (router, "node-twente", "twente", msg, &error), 0);
        assert_int_equal (en_db_commit (db), 0);
        en_msg_destroy (&msg);
    }
    json_t *request = en_bstore_request (store, "twente-0001");
    assert_string_equal (en_json_str (request, "state"), "offered");
    json_decref (request);
    int64_t events = en_db_int (db, "SELECT count(*) FROM events WHERE request_id = 'twente-0001'", NULL);
    int64_t queued = en_db_int (db, "SELECT count(*) FROM outbox", NULL);
    assert_true (events > 0 && queued > 0);

    //  Corrupt: the request (its one place, whose state the machine
    //  moves) is accepted while its offer is still open
    assert_int_equal (en_db_exec (db, "UPDATE requests SET state = 'accepted' WHERE id = 'twente-0001'", NULL), 0);
    assert_int_equal (en_db_exec (db, "UPDATE places SET state = 'accepted' WHERE request_id = 'twente-0001'",
                                  NULL), 0);
    en_msg_t *msg = en_msg_new ("DECLINE", "node-twente",
                                json_pack ("{s:s, s:s}", "offer", "twente-0001-o1", "reason", "geen ruimte"));
    en_error_t error = { 0 };
    assert_int_equal (en_db_begin (db), 0);
    assert_int_equal (en_db_savepoint (db), 0);
    assert_int_equal (en_router_handle (router, "node-twente", "twente", msg, &error), -1);
    assert_int_equal (en_db_rollback_to (db), 0);
    assert_int_equal (en_db_commit (db), 0);
    en_msg_destroy (&msg);
    assert_int_equal (error.code, EN_ERR_CONFLICT);
    assert_non_null (strstr (error.reason, "accepted --declined--> accepted"));
    //  Nothing written: no event, no STATUS, the offer still open
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM events WHERE request_id = 'twente-0001'", NULL), events);
    assert_int_equal (en_db_int (db, "SELECT count(*) FROM outbox", NULL), queued);
    json_t *offer = en_bstore_offer (store, "twente-0001-o1");
    assert_string_equal (en_json_str (offer, "state"), "open");
    json_decref (offer);

    en_router_destroy (&router);
    en_bstore_destroy (&store);
    test_rmtree (dir);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_spec_equals_code),
        cmocka_unit_test (test_states_in_table),
        cmocka_unit_test (test_check),
        cmocka_unit_test (test_derive),
        cmocka_unit_test (test_router_refuses),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
