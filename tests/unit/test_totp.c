/*  test_totp - RFC 6238 one-time passwords (include/en_totp.h) against
    the RFC's own test vectors (Appendix B, HMAC-SHA1, secret
    "12345678901234567890"), the ±1 step window, and the otpauth URI. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>

#include "expertnet.h"
#include "en_totp.h"

//  base32 of the ASCII secret "12345678901234567890"
#define RFC_SECRET "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

static const struct {
    time_t at;
    const char *code;           //  8 digits, as in RFC 6238 appendix B
} s_vectors [] = {
    { 59, "94287082" }, { 1111111109, "07081804" }, { 1111111111, "14050471" },
    { 1234567890, "89005924" }, { 2000000000, "69279037" }, { 20000000000LL, "65353130" },
    { 0, NULL } };

static void
test_rfc6238_vectors (void **state)
{
    for (int i = 0; s_vectors [i].code; i++) {
        char code [9];
        assert_int_equal (en_totp_code (RFC_SECRET, s_vectors [i].at, 8, code), 0);
        assert_string_equal (code, s_vectors [i].code);
        //  6 digits are the last six (mod 10^6) and verify at that time
        assert_int_equal (en_totp_code (RFC_SECRET, s_vectors [i].at, 6, code), 0);
        assert_string_equal (code, s_vectors [i].code + 2);
        assert_int_equal (en_totp_verify (RFC_SECRET, s_vectors [i].code + 2, s_vectors [i].at), 0);
    }
}

//  One step either side is accepted, two are not.
static void
test_window (void **state)
{
    const time_t at = 1111111109;
    const char *code = "081804";
    assert_int_equal (en_totp_verify (RFC_SECRET, code, at + 30), 0);
    assert_int_equal (en_totp_verify (RFC_SECRET, code, at - 30), 0);
    assert_int_equal (en_totp_verify (RFC_SECRET, code, at + 90), -1);
    assert_int_equal (en_totp_verify (RFC_SECRET, code, at - 90), -1);
    //  The step is that of the code, not of the clock
    int64_t step = 0;
    assert_int_equal (en_totp_verify_step (RFC_SECRET, code, at + 30, &step), 0);
    assert_int_equal (step, at / 30);
    assert_int_equal (en_totp_verify_step (RFC_SECRET, code, at - 30, &step), 0);
    assert_int_equal (step, at / 30);
}

static void
test_refuses (void **state)
{
    const time_t at = 59;
    assert_int_equal (en_totp_verify (RFC_SECRET, "287083", at), -1);     //  wrong
    assert_int_equal (en_totp_verify (RFC_SECRET, "28708", at), -1);      //  short
    assert_int_equal (en_totp_verify (RFC_SECRET, "94287082", at), -1);   //  8 digits
    assert_int_equal (en_totp_verify (RFC_SECRET, "28708a", at), -1);
    assert_int_equal (en_totp_verify (RFC_SECRET, NULL, at), -1);
    assert_int_equal (en_totp_verify ("!!!", "287082", at), -1);
    assert_int_equal (en_totp_verify (NULL, "287082", at), -1);
    char code [9];
    assert_int_equal (en_totp_code (RFC_SECRET, at, 5, code), -1);
}

//  New secrets: 32 base32 characters, random, usable at once.
static void
test_secret_new (void **state)
{
    char *one = en_totp_secret_new ();
    char *two = en_totp_secret_new ();
    assert_int_equal (strlen (one), EN_TOTP_SECRET_LEN);
    assert_string_not_equal (one, two);
    for (const char *c = one; *c; c++)
        assert_non_null (strchr ("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", *c));
    char code [7];
    time_t now = time (NULL);
    assert_int_equal (en_totp_code (one, now, 6, code), 0);
    assert_int_equal (en_totp_verify (one, code, now), 0);
    free (one);
    free (two);
}

static void
test_uri (void **state)
{
    char *uri = en_totp_uri (RFC_SECRET, "expertnet twente", "anna");
    assert_string_equal (uri, "otpauth://totp/expertnet%20twente:anna?secret=" RFC_SECRET
                              "&issuer=expertnet%20twente&algorithm=SHA1&digits=6&period=30");
    free (uri);
    assert_null (en_totp_uri (NULL, "x", "y"));
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_rfc6238_vectors),
        cmocka_unit_test (test_window),
        cmocka_unit_test (test_refuses),
        cmocka_unit_test (test_secret_new),
        cmocka_unit_test (test_uri),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
