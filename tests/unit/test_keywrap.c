/*  test_keywrap - a secret key wrapped with a password or a recovery code
    (include/en_keywrap.h), and the sealed dossier it opens.

    Argon2id runs with libsodium's MIN limits here except where a test is
    about the limits themselves, so the suite stays fast; the limits are
    stored with the wrap, which is what these tests check.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>

#include "expertnet.h"
#include "test_fixture.h"
#include "en_keywrap.h"

#define OPS crypto_pwhash_OPSLIMIT_MIN
#define MEM crypto_pwhash_MEMLIMIT_MIN

static const char *PASSWORD = "correct horse battery";

static void
s_key (unsigned char *key)
{
    randombytes_buf (key, EN_KEYWRAP_KEYBYTES);
}

//  The right password gives the key back; a wrong one fails and leaves
//  the output zeroed.
static void
test_wrap_open (void **state)
{
    unsigned char key [EN_KEYWRAP_KEYBYTES], out [EN_KEYWRAP_KEYBYTES];
    s_key (key);
    en_keywrap_t *wrap = en_keywrap_new (key, PASSWORD, OPS, MEM);
    assert_non_null (wrap);
    assert_int_equal (en_keywrap_open (wrap, PASSWORD, out), 0);
    assert_memory_equal (key, out, sizeof key);
    memset (out, 0xAA, sizeof out);
    assert_int_equal (en_keywrap_open (wrap, "correct horse battery!", out), -1);
    unsigned char zero [EN_KEYWRAP_KEYBYTES] = { 0 };
    assert_memory_equal (out, zero, sizeof out);
    assert_int_equal (en_keywrap_open (wrap, "", out), -1);
    assert_int_equal (en_keywrap_open (wrap, NULL, out), -1);
    en_keywrap_destroy (&wrap);
    en_keywrap_destroy (&wrap);         //  safe twice
    assert_null (wrap);
}

//  Refused up front: short passwords, limits outside libsodium's range.
static void
test_wrap_refuses (void **state)
{
    unsigned char key [EN_KEYWRAP_KEYBYTES];
    s_key (key);
    assert_null (en_keywrap_new (key, "short", OPS, MEM));
    assert_null (en_keywrap_new (key, NULL, OPS, MEM));
    assert_null (en_keywrap_new (key, PASSWORD, 0, MEM));
    assert_null (en_keywrap_new (key, PASSWORD, OPS, 1024));
    assert_null (en_keywrap_new (key, PASSWORD, OPS, (size_t) crypto_pwhash_MEMLIMIT_SENSITIVE * 2));
}

//  JSON round trip: the same key comes back; each wrap of the same key
//  and password differs (fresh salt and nonce).
static void
test_json_roundtrip (void **state)
{
    unsigned char key [EN_KEYWRAP_KEYBYTES], out [EN_KEYWRAP_KEYBYTES];
    s_key (key);
    en_keywrap_t *wrap = en_keywrap_new (key, PASSWORD, OPS, MEM);
    json_t *json = en_keywrap_json (wrap);
    en_keywrap_t *other = en_keywrap_new (key, PASSWORD, OPS, MEM);
    json_t *other_json = en_keywrap_json (other);
    assert_string_not_equal (en_json_str (json, "salt"), en_json_str (other_json, "salt"));
    assert_string_not_equal (en_json_str (json, "box"), en_json_str (other_json, "box"));
    char *text = json_dumps (json, JSON_COMPACT);
    json_t *parsed = test_json (text);
    assert_int_equal (en_keywrap_open_json (parsed, PASSWORD, out), 0);
    assert_memory_equal (key, out, sizeof key);
    //  the key never appears in the JSON
    char hex [EN_KEYWRAP_KEYBYTES * 2 + 1];
    sodium_bin2hex (hex, sizeof hex, key, sizeof key);
    assert_null (strstr (text, hex));
    free (text);
    json_decref (parsed);
    json_decref (json);
    json_decref (other_json);
    en_keywrap_destroy (&wrap);
    en_keywrap_destroy (&other);
}

//  A changed byte in salt, nonce or box: the right password fails.
static void
test_tampered (void **state)
{
    unsigned char key [EN_KEYWRAP_KEYBYTES], out [EN_KEYWRAP_KEYBYTES];
    s_key (key);
    en_keywrap_t *wrap = en_keywrap_new (key, PASSWORD, OPS, MEM);
    json_t *json = en_keywrap_json (wrap);
    const char *fields [] = { "salt", "nonce", "box", NULL };
    for (int f = 0; fields [f]; f++) {
        unsigned char bin [64];
        size_t length = 0;
        const char *b64 = en_json_str (json, fields [f]);
        assert_int_equal (sodium_base642bin (bin, sizeof bin, b64, strlen (b64), NULL, &length, NULL,
                                             sodium_base64_VARIANT_ORIGINAL), 0);
        bin [length / 2] ^= 0x01;
        char changed [128];
        sodium_bin2base64 (changed, sizeof changed, bin, length, sodium_base64_VARIANT_ORIGINAL);
        json_t *copy = json_deep_copy (json);
        json_object_set_new (copy, fields [f], json_string (changed));
        assert_int_equal (en_keywrap_open_json (copy, PASSWORD, out), -1);
        json_decref (copy);
    }
    //  Truncated or missing fields are malformed, not a crash
    en_error_t error = { 0 };
    json_t *copy = json_deep_copy (json);
    json_object_set_new (copy, "box", json_string ("AAAA"));
    assert_null (en_keywrap_from_json (copy, &error));
    assert_non_null (strstr (error.reason, "box"));
    json_object_del (copy, "salt");
    assert_null (en_keywrap_from_json (copy, &error));
    json_decref (copy);
    assert_null (en_keywrap_from_json (NULL, &error));
    //  The untouched wrap still opens
    assert_int_equal (en_keywrap_open_json (json, PASSWORD, out), 0);
    json_decref (json);
    en_keywrap_destroy (&wrap);
}

//  The limits travel with the wrap: a wrap made with INTERACTIVE limits
//  says so and opens with them; changing a stored limit fails the open
//  (the derived key differs); limits beyond SENSITIVE are refused
//  before any work is done.
static void
test_limits (void **state)
{
    unsigned long long ops;
    size_t mem;
    assert_int_equal (en_keywrap_limits ("interactive", &ops, &mem), 0);
    assert_int_equal (ops, crypto_pwhash_OPSLIMIT_INTERACTIVE);
    assert_int_equal (mem, crypto_pwhash_MEMLIMIT_INTERACTIVE);
    assert_int_equal (en_keywrap_limits ("moderate", &ops, &mem), 0);
    assert_int_equal (mem, crypto_pwhash_MEMLIMIT_MODERATE);
    assert_int_equal (en_keywrap_limits ("fast", &ops, &mem), -1);
    assert_int_equal (en_keywrap_limits ("interactive", &ops, &mem), 0);

    unsigned char key [EN_KEYWRAP_KEYBYTES], out [EN_KEYWRAP_KEYBYTES];
    s_key (key);
    en_keywrap_t *wrap = en_keywrap_new (key, PASSWORD, ops, mem);
    assert_int_equal (en_keywrap_opslimit (wrap), ops);
    assert_int_equal (en_keywrap_memlimit (wrap), mem);
    json_t *json = en_keywrap_json (wrap);
    assert_int_equal (en_json_int (json, "opslimit", 0), (json_int_t) ops);
    assert_int_equal (en_json_int (json, "memlimit", 0), (json_int_t) mem);
    assert_int_equal (en_keywrap_open_json (json, PASSWORD, out), 0);
    assert_memory_equal (key, out, sizeof key);

    json_t *copy = json_deep_copy (json);
    json_object_set_new (copy, "opslimit", json_integer ((json_int_t) ops + 1));
    assert_int_equal (en_keywrap_open_json (copy, PASSWORD, out), -1);
    json_object_set_new (copy, "opslimit", json_integer ((json_int_t) ops));
    json_object_set_new (copy, "memlimit", json_integer ((json_int_t) crypto_pwhash_MEMLIMIT_SENSITIVE * 4));
    en_error_t error = { 0 };
    assert_null (en_keywrap_from_json (copy, &error));
    json_object_set_new (copy, "memlimit", json_string ("lots"));
    assert_null (en_keywrap_from_json (copy, &error));
    json_decref (copy);
    json_decref (json);
    en_keywrap_destroy (&wrap);
}

//  Recovery codes: 24 base32 characters in groups of four, different
//  every time; typed loosely they normalize to the same code, which
//  wraps and opens the key like a password.
static void
test_recovery (void **state)
{
    char *code = en_keywrap_recovery_new ();
    char *again = en_keywrap_recovery_new ();
    assert_int_equal (strlen (code), EN_KEYWRAP_RECOVERY_LEN);
    assert_string_not_equal (code, again);
    for (int i = 0; i < EN_KEYWRAP_RECOVERY_LEN; i++)
        if (i % 5 == 4)
            assert_int_equal (code [i], '-');
        else
            assert_non_null (strchr ("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", code [i]));

    //  lowercase, spaces instead of dashes
    char typed [64];
    size_t at = 0;
    for (const char *c = code; *c; c++)
        typed [at++] = *c == '-' ? ' ' : (char) tolower ((unsigned char) *c);
    typed [at] = 0;
    char *normal = en_keywrap_recovery_normalize (typed);
    assert_non_null (normal);
    assert_string_equal (normal, code);
    assert_null (en_keywrap_recovery_normalize ("ABCD-EFGH"));
    assert_null (en_keywrap_recovery_normalize ("ABCD-EFGH-IJKL-MNOP-QRST-UVW1"));    //  1 is not base32
    assert_null (en_keywrap_recovery_normalize ("ABCD-EFGH-IJKL-MNOP-QRST-UVWXY"));   //  25 characters
    assert_null (en_keywrap_recovery_normalize (NULL));

    unsigned char key [EN_KEYWRAP_KEYBYTES], out [EN_KEYWRAP_KEYBYTES];
    s_key (key);
    en_keywrap_t *by_password = en_keywrap_new (key, PASSWORD, OPS, MEM);
    en_keywrap_t *by_code = en_keywrap_new (key, code, OPS, MEM);
    assert_non_null (by_code);
    assert_int_equal (en_keywrap_open (by_code, normal, out), 0);
    assert_memory_equal (key, out, sizeof key);
    assert_int_equal (en_keywrap_open (by_code, again, out), -1);       //  another code
    assert_int_equal (en_keywrap_open (by_code, PASSWORD, out), -1);    //  the password opens its own wrap only
    assert_int_equal (en_keywrap_open (by_password, code, out), -1);
    en_keywrap_destroy (&by_password);
    en_keywrap_destroy (&by_code);
    free (code);
    free (again);
    free (normal);
}

//  The unwrapped key opens a dossier sealed to its public key, and only
//  that key does.
static void
test_box_open (void **state)
{
    unsigned char public_key [crypto_box_PUBLICKEYBYTES], secret_key [crypto_box_SECRETKEYBYTES];
    unsigned char other_public [crypto_box_PUBLICKEYBYTES], other_secret [crypto_box_SECRETKEYBYTES];
    crypto_box_keypair (public_key, secret_key);
    crypto_box_keypair (other_public, other_secret);
    const char *text = "Dossier p1-0000: synthetische casus, marker DOSSIER-77aa";
    unsigned char sealed [256];
    crypto_box_seal (sealed, (const unsigned char *) text, strlen (text), public_key);
    char b64 [512], public_hex [65], other_hex [65];
    sodium_bin2base64 (b64, sizeof b64, sealed, strlen (text) + crypto_box_SEALBYTES, sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2hex (public_hex, sizeof public_hex, public_key, sizeof public_key);
    sodium_bin2hex (other_hex, sizeof other_hex, other_public, sizeof other_public);

    en_keywrap_t *wrap = en_keywrap_new (secret_key, PASSWORD, OPS, MEM);
    unsigned char unwrapped [EN_KEYWRAP_KEYBYTES];
    assert_int_equal (en_keywrap_open (wrap, PASSWORD, unwrapped), 0);
    char *opened = en_keywrap_box_open (b64, public_hex, unwrapped);
    assert_non_null (opened);
    assert_string_equal (opened, text);
    free (opened);
    assert_null (en_keywrap_box_open (b64, other_hex, other_secret));
    assert_null (en_keywrap_box_open (b64, "zz", unwrapped));
    assert_null (en_keywrap_box_open ("not base64!", public_hex, unwrapped));
    assert_null (en_keywrap_box_open ("AAAA", public_hex, unwrapped));
    en_keywrap_destroy (&wrap);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_wrap_open),
        cmocka_unit_test (test_wrap_refuses),
        cmocka_unit_test (test_json_roundtrip),
        cmocka_unit_test (test_tampered),
        cmocka_unit_test (test_limits),
        cmocka_unit_test (test_recovery),
        cmocka_unit_test (test_box_open),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
