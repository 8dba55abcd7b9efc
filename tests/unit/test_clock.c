/*  test_clock - the daemons' clock and a peer's measured offset
    (include/en_clock.h): round trips, what a peer tells, one-way
    estimates, and the timestamp window judged against the peer's clock.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>

#include "expertnet.h"

static void
test_selftest (void **state)
{
    en_clock_test (false);
}

//  A clock that jumps is not followed: en_now_ms runs on from the anchor
static void
test_anchor (void **state)
{
    int64_t before = en_now_ms ();
    en_clock_anchor ();
    int64_t now = en_now_ms ();
    assert_true (now >= before && now - before < 1000);
    assert_true (llabs (en_clock_drift_ms ()) < 1000);
}

//  An hour's offset: the message is refused against our clock, accepted
//  against the peer's as measured; a refusal is temporary
static void
test_window (void **state)
{
    int64_t now = en_clock_wall_ms ();
    en_msg_t *msg = en_msg_restore ("PING", "0123456789abcdef0123456789abcdef", "twente", now + 3600000, NULL);
    en_error_t error = { 0 };
    assert_int_equal (en_msg_check_time (msg, now, &error), -1);
    assert_int_equal (error.code, EN_ERR_FORBIDDEN);
    assert_true (error.temporary);
    en_clock_t *clock = en_clock_new ("twente", 30000);
    assert_int_equal (en_clock_check (clock, msg, now, &error), -1);
    assert_int_equal (en_clock_round_trip (clock, now - 10, now + 3600000, now), 0);
    assert_true (llabs (en_clock_offset (clock) - 3600005) <= 1);
    assert_int_equal (en_clock_check (clock, msg, now, &error), 0);
    json_t *status = en_clock_status (clock);
    assert_true (json_is_true (json_object_get (status, "alert")));
    assert_string_equal (json_string_value (json_object_get (status, "how")), "round-trip");
    json_decref (status);
    //  Beyond a day it is not corrected for
    en_clock_told (clock, 3 * 86400000LL, 5);
    en_msg_t *late = en_msg_restore ("PING", "0123456789abcdef0123456789abcdee", "twente", now - 3 * 86400000LL, NULL);
    assert_int_equal (en_clock_check (clock, late, now, &error), 0);    //  3 days old: within 7
    en_msg_destroy (&late);
    assert_int_equal (en_clock_check (clock, msg, now, &error), -1);
    //  A new session forgets what was measured
    en_clock_reset (clock);
    assert_false (en_clock_known (clock));
    en_clock_destroy (&clock);
    en_msg_destroy (&msg);
}

int
main (void)
{
    zsys_init ();
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_selftest),
        cmocka_unit_test (test_anchor),
        cmocka_unit_test (test_window),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
