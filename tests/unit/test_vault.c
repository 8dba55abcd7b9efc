/*  test_vault - region secret, pseudonyms and encryption at rest
    (include/en_vault.h), on real key files in a temporary directory.

    Several tests recompute with libsodium directly what the vault should
    have produced from the key file on disk: that pins the documented
    construction (docs/pseudonyms.md), so a change to it fails here
    before it silently splits every child's history in two.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "expertnet.h"
#include "test_fixture.h"
#include "en_vault.h"

#define KEY_BYTES 32

typedef struct {
    char root [64];             //  temporary directory
    char dir [96];              //  key directory in it (made by the vault)
    char other [96];            //  a second region's key directory
} fixture_t;


static int
s_setup (void **state)
{
    fixture_t *self = (fixture_t *) calloc (1, sizeof (fixture_t));
    if (!test_mkdtemp (self->root, sizeof self->root, "test_vault"))
        return -1;
    snprintf (self->dir, sizeof self->dir, "%s/keys", self->root);
    snprintf (self->other, sizeof self->other, "%s/other-region", self->root);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    test_rmtree (self->root);
    free (self);
    return 0;
}

static en_vault_t *
s_open (const char *dir)
{
    en_error_t error = { 0 };
    en_vault_t *vault = en_vault_new (dir, &error);
    if (!vault)
        fail_msg ("en_vault_new (%s): %s", dir, error.reason);
    return vault;
}

//  The bytes of key file dir/name (exactly KEY_BYTES), into key.
static void
s_read_key (const char *dir, const char *name, unsigned char *key)
{
    char path [256];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen (path, "rb");
    assert_non_null (file);
    assert_int_equal (fread (key, 1, KEY_BYTES, file), KEY_BYTES);
    assert_int_equal (fgetc (file), EOF);
    fclose (file);
}

static mode_t
s_mode (const char *dir, const char *name)
{
    char path [256];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    assert_int_equal (lstat (path, &st), 0);
    return st.st_mode & 07777;
}

static void
s_chmod (const char *dir, const char *name, mode_t mode)
{
    char path [256];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    assert_int_equal (chmod (path, mode), 0);
}

static bool
s_exists (const char *dir, const char *name)
{
    char path [256];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    return access (path, F_OK) == 0;
}

//  True if pseudonym is "p<version>-" and 32 lowercase hex digits.
static bool
s_pseudonym_shaped (const char *pseudonym, int version)
{
    char prefix [16];
    snprintf (prefix, sizeof prefix, "p%d-", version);
    size_t plen = strlen (prefix);
    if (!pseudonym || strncmp (pseudonym, prefix, plen) || strlen (pseudonym) != plen + 32)
        return false;
    for (const char *s = pseudonym + plen; *s; s++)
        if (!strchr ("0123456789abcdef", *s))
            return false;
    return true;
}

//  The 16 hash bytes of a pseudonym.
static void
s_pseudonym_bytes (const char *pseudonym, unsigned char *bytes)
{
    const char *hex = strchr (pseudonym, '-') + 1;
    size_t len;
    assert_int_equal (sodium_hex2bin (bytes, 16, hex, 32, NULL, &len, NULL), 0);
    assert_int_equal (len, 16);
}

static int
s_bits_differ (const unsigned char *a, const unsigned char *b, size_t len)
{
    int bits = 0;
    for (size_t i = 0; i < len; i++)
        bits += __builtin_popcount (a [i] ^ b [i]);
    return bits;
}

//  Decode the base64 after "v<N>:" of a sealed text into box; its length.
static size_t
s_sealed_box (const char *sealed, unsigned char *box, size_t box_max)
{
    const char *b64 = strchr (sealed, ':');
    assert_non_null (b64);
    b64++;
    size_t len;
    assert_int_equal (sodium_base642bin (box, box_max, b64, strlen (b64), NULL, &len, NULL,
                                         sodium_base64_VARIANT_ORIGINAL), 0);
    return len;
}

//  "v<version>:" + base64 of box, as en_vault_seal writes it.
static char *
s_sealed_text (int version, const unsigned char *box, size_t len)
{
    size_t size = 16 + sodium_base64_encoded_len (len, sodium_base64_VARIANT_ORIGINAL);
    char *text = (char *) malloc (size);
    int prefix = snprintf (text, size, "v%d:", version);
    sodium_bin2base64 (text + prefix, size - prefix, box, len, sodium_base64_VARIANT_ORIGINAL);
    return text;
}

//  ---------------------------------------------------------------------
//  Key files

static void
test_first_open_creates_private_keys (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    //  Whatever the umask, key files are 0600 and the directory 0700
    mode_t umasks [] = { 0, 0277 };
    for (size_t i = 0; i < 2; i++) {
        char dir [128];
        snprintf (dir, sizeof dir, "%s/umask-%d", self->root, (int) i);
        //  (a umask that takes the owner's bits needs a directory made before)
        if (umasks [i] & 0700)
            assert_int_equal (mkdir (dir, 0700), 0);
        mode_t old = umask (umasks [i]);
        en_vault_t *vault = s_open (dir);
        umask (old);
        assert_non_null (vault);
        assert_int_equal (en_vault_secret_version (vault), 1);
        assert_int_equal (en_vault_data_key_version (vault), 1);
        en_vault_destroy (&vault);
        assert_null (vault);
        en_vault_destroy (&vault);      //  safe twice

        struct stat st;
        assert_int_equal (stat (dir, &st), 0);
        assert_int_equal (st.st_mode & 07777, 0700);
        assert_int_equal (s_mode (dir, "region-secret.1"), 0600);
        assert_int_equal (s_mode (dir, "data-key.1"), 0600);
        //  Exactly the two key files, no temporary left behind
        int files = 0;
        DIR *handle = opendir (dir);
        struct dirent *entry;
        while ((entry = readdir (handle)))
            if (entry->d_name [0] != '.')
                files++;
        closedir (handle);
        assert_int_equal (files, 2);
    }
    //  Two kinds, two independent random keys; two regions, two secrets
    unsigned char secret [KEY_BYTES], data_key [KEY_BYTES], other [KEY_BYTES];
    char dir0 [128], dir1 [128];
    snprintf (dir0, sizeof dir0, "%s/umask-0", self->root);
    snprintf (dir1, sizeof dir1, "%s/umask-1", self->root);
    s_read_key (dir0, "region-secret.1", secret);
    s_read_key (dir0, "data-key.1", data_key);
    s_read_key (dir1, "region-secret.1", other);
    assert_memory_not_equal (secret, data_key, KEY_BYTES);
    assert_memory_not_equal (secret, other, KEY_BYTES);
}

static void
test_reopen_reuses_keys (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_vault_t *vault = s_open (self->dir);
    unsigned char secret [KEY_BYTES], data_key [KEY_BYTES];
    s_read_key (self->dir, "region-secret.1", secret);
    s_read_key (self->dir, "data-key.1", data_key);
    char *before = en_vault_pseudonym (vault, "123456782");
    char *sealed = en_vault_seal (vault, "Sanne de Boer");
    en_vault_destroy (&vault);

    vault = s_open (self->dir);
    unsigned char again [KEY_BYTES];
    s_read_key (self->dir, "region-secret.1", again);
    assert_memory_equal (secret, again, KEY_BYTES);
    s_read_key (self->dir, "data-key.1", again);
    assert_memory_equal (data_key, again, KEY_BYTES);
    assert_int_equal (en_vault_secret_version (vault), 1);
    assert_int_equal (en_vault_data_key_version (vault), 1);

    //  Stability: the same child, the same pseudonym, after a restart
    char *after = en_vault_pseudonym (vault, "123456782");
    assert_string_equal (before, after);
    char *text = en_vault_unseal (vault, sealed);
    assert_non_null (text);
    assert_string_equal (text, "Sanne de Boer");
    free (before);
    free (after);
    free (sealed);
    free (text);
    en_vault_destroy (&vault);
}

static void
test_loose_key_file_refused (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_vault_t *vault = s_open (self->dir);
    char *pseudonym = en_vault_pseudonym (vault, "123456782");
    en_vault_destroy (&vault);
    unsigned char secret [KEY_BYTES];
    s_read_key (self->dir, "region-secret.1", secret);

    const char *files [] = { "region-secret.1", "data-key.1" };
    mode_t modes [] = { 0644, 0640, 0604, 0620, 0602, 0610, 0601, 0660, 0666 };
    for (size_t f = 0; f < 2; f++) {
        for (size_t m = 0; m < sizeof modes / sizeof modes [0]; m++) {
            s_chmod (self->dir, files [f], modes [m]);
            en_error_t error = { 0 };
            vault = en_vault_new (self->dir, &error);
            assert_null (vault);
            //  A clear message: which file, what mode, what to do
            assert_non_null (strstr (error.reason, files [f]));
            char mode [8];
            snprintf (mode, sizeof mode, "%04o", (unsigned) modes [m]);
            assert_non_null (strstr (error.reason, mode));
            assert_non_null (strstr (error.reason, "chmod 600"));
        }
        s_chmod (self->dir, files [f], 0600);
    }
    //  Refusing did not replace anything: no new version, same secret
    assert_false (s_exists (self->dir, "region-secret.2"));
    assert_false (s_exists (self->dir, "data-key.2"));
    unsigned char again [KEY_BYTES];
    s_read_key (self->dir, "region-secret.1", again);
    assert_memory_equal (secret, again, KEY_BYTES);

    //  Mended, the vault opens with its old secret
    vault = s_open (self->dir);
    char *after = en_vault_pseudonym (vault, "123456782");
    assert_string_equal (pseudonym, after);
    free (pseudonym);
    free (after);
    en_vault_destroy (&vault);
}

static void
test_damaged_key_file_refused (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_vault_t *vault = s_open (self->dir);
    en_vault_destroy (&vault);
    char path [256];
    en_error_t error = { 0 };

    //  Truncated
    snprintf (path, sizeof path, "%s/region-secret.1", self->dir);
    assert_int_equal (truncate (path, KEY_BYTES - 1), 0);
    vault = en_vault_new (self->dir, &error);
    assert_null (vault);
    assert_non_null (strstr (error.reason, "region-secret.1"));
    assert_non_null (strstr (error.reason, "31 bytes"));
    unlink (path);

    //  A symlink (to a perfectly private file elsewhere) is not a key file
    char target [256];
    snprintf (target, sizeof target, "%s/elsewhere", self->root);
    int fd = open (target, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true (fd >= 0);
    unsigned char bytes [KEY_BYTES] = { 0 };
    assert_int_equal (write (fd, bytes, KEY_BYTES), KEY_BYTES);
    close (fd);
    assert_int_equal (symlink (target, path), 0);
    vault = en_vault_new (self->dir, &error);
    assert_null (vault);
    assert_non_null (strstr (error.reason, "region-secret.1"));
    unlink (path);

    //  Neither is a directory
    assert_int_equal (mkdir (path, 0700), 0);
    vault = en_vault_new (self->dir, &error);
    assert_null (vault);
    assert_non_null (strstr (error.reason, "not a regular file"));
    rmdir (path);

    //  Names that are not key files are ignored, not loaded
    const char *strays [] = { "region-secret.01", "region-secret.2.bak", "region-secret.x",
                              "region-secret.", "region-secret.1.0123abcd.tmp" };
    for (size_t i = 0; i < sizeof strays / sizeof strays [0]; i++) {
        snprintf (path, sizeof path, "%s/%s", self->dir, strays [i]);
        fd = open (path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        assert_true (fd >= 0);
        close (fd);
    }
    vault = s_open (self->dir);
    assert_int_equal (en_vault_secret_version (vault), 1);
    en_vault_destroy (&vault);

    assert_null (en_vault_new (NULL, &error));
    assert_null (en_vault_new ("", &error));
}

//  ---------------------------------------------------------------------
//  Pseudonyms

static void
test_pseudonym_construction (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_vault_t *vault = s_open (self->dir);
    char *pseudonym = en_vault_pseudonym (vault, "123456782");
    assert_true (s_pseudonym_shaped (pseudonym, 1));

    //  Keyed BLAKE2b-128 of the normalized id, key = the 32 file bytes
    unsigned char secret [KEY_BYTES], hash [16];
    s_read_key (self->dir, "region-secret.1", secret);
    crypto_generichash (hash, sizeof hash, (const unsigned char *) "123456782", 9, secret, sizeof secret);
    char expected [40] = "p1-";
    sodium_bin2hex (expected + 3, 33, hash, sizeof hash);
    assert_string_equal (pseudonym, expected);

    //  Keyed, not a plain hash anyone could recompute from a BSN list
    crypto_generichash (hash, sizeof hash, (const unsigned char *) "123456782", 9, NULL, 0);
    sodium_bin2hex (expected + 3, 33, hash, sizeof hash);
    assert_string_not_equal (pseudonym, expected);

    //  Same vault, same id: same pseudonym, every time
    for (int i = 0; i < 10; i++) {
        char *again = en_vault_pseudonym (vault, "123456782");
        assert_string_equal (pseudonym, again);
        free (again);
    }
    //  A different child: a different pseudonym
    char *other = en_vault_pseudonym (vault, "123456783");
    assert_true (s_pseudonym_shaped (other, 1));
    assert_string_not_equal (pseudonym, other);
    free (other);
    free (pseudonym);
    en_vault_destroy (&vault);
}

static void
test_normalization (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_vault_t *vault = s_open (self->dir);
    char *bsn = en_vault_pseudonym (vault, "123456782");
    const char *same_bsn [] = {
        "  123.456.782 ",
        "123-456-782",
        "123 456 782",
        "\t123456782\r\n",
        "1.2-3 4\t5\n6.7-8 2",
        "123\xC2\xA0" "456\xC2\xA0" "782",          //  no-break spaces
        "123\xE2\x80\xAF" "456\xE2\x80\x89" "782",  //  narrow no-break, thin space
        "123\xE2\x80\x93" "456\xE2\x80\x91" "782",  //  en dash, non-breaking hyphen
        "\xEF\xBB\xBF" "123456782\xE2\x80\x8B",     //  BOM, zero-width space
        "123\xE2\x88\x92" "456.782",                //  minus sign
    };
    for (size_t i = 0; i < sizeof same_bsn / sizeof same_bsn [0]; i++) {
        char *pseudonym = en_vault_pseudonym (vault, same_bsn [i]);
        if (!pseudonym || strneq (pseudonym, bsn))
            fail_msg ("'%s' should be the same client as 123456782", same_bsn [i]);
        free (pseudonym);
    }
    //  Letters: case does not matter, separators do not either
    char *number = en_vault_pseudonym (vault, "jz20240012");
    const char *same_number [] = { "JZ-2024-0012", " jz 2024.0012 ", "Jz2024-0012" };
    for (size_t i = 0; i < sizeof same_number / sizeof same_number [0]; i++) {
        char *pseudonym = en_vault_pseudonym (vault, same_number [i]);
        assert_non_null (pseudonym);
        assert_string_equal (pseudonym, number);
        free (pseudonym);
    }
    //  Everything else counts: digits, leading zeros, other characters
    const char *different [] = { "123456783", "0123456782", "12345678", "123456782x",
                                 "123/456/782", "123_456_782" };
    for (size_t i = 0; i < sizeof different / sizeof different [0]; i++) {
        char *pseudonym = en_vault_pseudonym (vault, different [i]);
        assert_non_null (pseudonym);
        assert_string_not_equal (pseudonym, bsn);
        free (pseudonym);
    }
    //  Refused: nothing left, control characters, too long
    char longest [EN_VAULT_ID_MAX + 2];
    memset (longest, '7', EN_VAULT_ID_MAX);
    longest [EN_VAULT_ID_MAX] = 0;
    char *pseudonym = en_vault_pseudonym (vault, longest);
    assert_true (s_pseudonym_shaped (pseudonym, 1));
    free (pseudonym);
    strcat (longest, "7");
    const char *refused [] = { "", "   ", " .-. ", "\xC2\xA0", "123\x01" "456782",
                               "123456782\x7f", longest };
    for (size_t i = 0; i < sizeof refused / sizeof refused [0]; i++)
        assert_null (en_vault_pseudonym (vault, refused [i]));
    assert_null (en_vault_pseudonym (vault, NULL));
    //  Separators do not count towards the length
    char padded [EN_VAULT_ID_MAX + 20];
    snprintf (padded, sizeof padded, "  %.*s....  ", EN_VAULT_ID_MAX, longest);
    pseudonym = en_vault_pseudonym (vault, padded);
    assert_true (s_pseudonym_shaped (pseudonym, 1));
    free (pseudonym);

    free (bsn);
    free (number);
    en_vault_destroy (&vault);
}

//  Pseudonyms of n similar ids in a and b must look unrelated: about
//  half their bits differ, and none share a long prefix.
static void
s_assert_unrelated (char **a, char **b, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++) {
        assert_string_not_equal (a [i], b [i]);
        unsigned char x [16], y [16];
        s_pseudonym_bytes (a [i], x);
        s_pseudonym_bytes (b [i], y);
        int bits = s_bits_differ (x, y, 16);
        //  Binomial(128, 1/2): mean 64, sd 5.7; 24..104 is 7 sd
        if (bits < 24 || bits > 104)
            fail_msg ("%s and %s differ in only %d of 128 bits", a [i], b [i], bits);
        total += bits;
        //  Beyond the version prefix, no 8 leading hex digits in common
        const char *hx = strchr (a [i], '-') + 1, *hy = strchr (b [i], '-') + 1;
        if (strncmp (hx, hy, 8) == 0)
            fail_msg ("%s and %s share a prefix", a [i], b [i]);
    }
    //  Mean over n pairs: sd 5.7 / sqrt (n); 58..70 is > 10 sd at n = 200
    double mean = (double) total / n;
    if (mean < 58 || mean > 70)
        fail_msg ("pseudonyms differ in %.1f of 128 bits on average, expected about 64", mean);
}

static void
test_unlinkable_across_regions (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_vault_t *twente = s_open (self->dir);
    en_vault_t *ijsselland = s_open (self->other);
    enum { N = 200 };
    char *here [N], *there [N], *neighbour [N];
    for (int i = 0; i < N; i++) {
        char id [16];
        snprintf (id, sizeof id, "%09d", 100000000 + i);
        here [i] = en_vault_pseudonym (twente, id);
        there [i] = en_vault_pseudonym (ijsselland, id);
        //  Both regions use the same format, and the same version
        assert_true (s_pseudonym_shaped (here [i], 1));
        assert_true (s_pseudonym_shaped (there [i], 1));
        snprintf (id, sizeof id, "%09d", 100000000 + i + 1);
        neighbour [i] = en_vault_pseudonym (twente, id);
    }
    //  Same child in two regions: nothing in common
    s_assert_unrelated (here, there, N);
    //  Neighbouring numbers in one region: nothing in common either
    s_assert_unrelated (here, neighbour, N);
    //  And no collisions within a region
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            assert_string_not_equal (here [i], here [j]);
    for (int i = 0; i < N; i++) {
        free (here [i]);
        free (there [i]);
        free (neighbour [i]);
    }
    en_vault_destroy (&twente);
    en_vault_destroy (&ijsselland);
}

//  ---------------------------------------------------------------------
//  Encryption at rest

static void
test_seal_roundtrip (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_vault_t *vault = s_open (self->dir);
    unsigned char data_key [KEY_BYTES];
    s_read_key (self->dir, "data-key.1", data_key);

    char *long_text = (char *) malloc (10001);
    for (int i = 0; i < 10000; i++)
        long_text [i] = 'a' + i % 26;
    long_text [10000] = 0;
    const char *texts [] = {
        "", "x", "Sanne de Boer", "Zoë Özdemir-Ağaoğlu", "Lindenlaan 12, 7511 AB Enschede",
        "0612345678", "2011-03-14", "OBS De Regenboog",
        "0123456789012345678901234567890",      //  31, 32, 33 bytes: block edges
        "01234567890123456789012345678901",
        "012345678901234567890123456789012",
        "line one\nline \"two\"\t{json: true}",
        long_text,
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts [0]; i++) {
        char *sealed = en_vault_seal (vault, texts [i]);
        assert_non_null (sealed);
        assert_true (strncmp (sealed, "v1:", 3) == 0);
        char *text = en_vault_unseal (vault, sealed);
        assert_non_null (text);
        assert_string_equal (text, texts [i]);
        free (text);

        //  The documented format: nonce || secretbox of the text padded
        //  to 32-byte blocks, under the 32 bytes of data-key.1
        size_t box_max = strlen (sealed);
        unsigned char *box = (unsigned char *) malloc (box_max);
        size_t box_len = s_sealed_box (sealed, box, box_max);
        size_t padded_len = box_len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
        assert_int_equal (padded_len, (strlen (texts [i]) / 32 + 1) * 32);
        unsigned char *plain = (unsigned char *) malloc (padded_len);
        assert_int_equal (crypto_secretbox_open_easy (plain, box + crypto_secretbox_NONCEBYTES,
                                                      box_len - crypto_secretbox_NONCEBYTES,
                                                      box, data_key), 0);
        size_t plain_len;
        assert_int_equal (sodium_unpad (&plain_len, plain, padded_len, 32), 0);
        assert_int_equal (plain_len, strlen (texts [i]));
        assert_memory_equal (plain, texts [i], plain_len);
        free (plain);
        free (box);
        free (sealed);
    }
    assert_null (en_vault_seal (vault, NULL));
    char *huge = (char *) malloc (EN_VAULT_SEAL_MAX + 2);
    memset (huge, 'x', EN_VAULT_SEAL_MAX + 1);
    huge [EN_VAULT_SEAL_MAX + 1] = 0;
    assert_null (en_vault_seal (vault, huge));
    free (huge);
    free (long_text);
    en_vault_destroy (&vault);
}

static void
test_ciphertext_hides_plaintext (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_vault_t *vault = s_open (self->dir);
    const char *name = "Sanne de Boer";
    char *first = en_vault_seal (vault, name);
    char *second = en_vault_seal (vault, name);
    //  Neither the text nor its bytes appear in what is stored
    assert_null (strstr (first, name));
    assert_null (strstr (first, "Sanne"));
    unsigned char box [256];
    size_t box_len = s_sealed_box (first, box, sizeof box);
    assert_null (memmem (box, box_len, "Sanne", 5));
    //  Nor the base64 of the text, as a plain encoding would show
    char b64 [64];
    sodium_bin2base64 (b64, sizeof b64, (const unsigned char *) name, 12, sodium_base64_VARIANT_ORIGINAL);
    b64 [12] = 0;
    assert_null (strstr (first, b64));
    //  Fresh nonce each time: equal names do not look equal in the store
    assert_string_not_equal (first, second);
    unsigned char box2 [256];
    s_sealed_box (second, box2, sizeof box2);
    assert_memory_not_equal (box, box2, crypto_secretbox_NONCEBYTES);
    //  Padding: short names all look the same length
    char *a = en_vault_seal (vault, "Jo");
    char *b = en_vault_seal (vault, "Maximiliaan Alexander van Oranje");
    assert_int_equal (strlen (a), strlen (first));
    assert_int_not_equal (strlen (b), strlen (first));  //  33 bytes: next block
    free (first);
    free (second);
    free (a);
    free (b);
    en_vault_destroy (&vault);
}

static void
test_tampering_detected (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_vault_t *vault = s_open (self->dir);
    char *sealed = en_vault_seal (vault, "BSN 123456782, Lindenlaan 12");
    unsigned char box [256];
    size_t box_len = s_sealed_box (sealed, box, sizeof box);

    //  Every single bit flipped, in nonce, MAC or ciphertext: refused
    for (size_t i = 0; i < box_len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            box [i] ^= (unsigned char) (1 << bit);
            char *tampered = s_sealed_text (1, box, box_len);
            char *text = en_vault_unseal (vault, tampered);
            if (text)
                fail_msg ("flipping bit %d of byte %zu went unnoticed", bit, i);
            free (tampered);
            box [i] ^= (unsigned char) (1 << bit);
        }
    }
    //  The untouched box still opens (the loop above restored it)
    char *intact = s_sealed_text (1, box, box_len);
    char *text = en_vault_unseal (vault, intact);
    assert_non_null (text);
    assert_string_equal (text, "BSN 123456782, Lindenlaan 12");
    free (text);
    free (intact);

    //  Cut short or lengthened: refused
    char *shorter = s_sealed_text (1, box, box_len - 1);
    assert_null (en_vault_unseal (vault, shorter));
    free (shorter);
    shorter = s_sealed_text (1, box, box_len - 32);
    assert_null (en_vault_unseal (vault, shorter));
    free (shorter);
    unsigned char longer [300];
    memcpy (longer, box, box_len);
    memset (longer + box_len, 0, 32);
    char *extended = s_sealed_text (1, longer, box_len + 32);
    assert_null (en_vault_unseal (vault, extended));
    free (extended);

    //  Malformed: refused, never a crash
    char spaced [512];
    snprintf (spaced, sizeof spaced, "%.10s %s", sealed, sealed + 10);
    char noprefix [512];
    snprintf (noprefix, sizeof noprefix, "%s", sealed + 3);
    char zero [512];
    snprintf (zero, sizeof zero, "v01:%s", sealed + 3);
    char unknown [512];
    snprintf (unknown, sizeof unknown, "v2:%s", sealed + 3);
    const char *malformed [] = { "", "v", "v1", "v1:", "v:abc", "vx:abc", "v-1:abc", "v0:abc",
                                 "v1:!!!!", "v1:AAAA", "v9999999999:AAAA", "V1:AAAA",
                                 spaced, noprefix, zero, unknown };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed [0]; i++)
        assert_null (en_vault_unseal (vault, malformed [i]));
    assert_null (en_vault_unseal (vault, NULL));
    free (sealed);
    en_vault_destroy (&vault);
}

//  ---------------------------------------------------------------------
//  Rotation

static void
test_rotate_secret (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_vault_t *vault = s_open (self->dir);
    char *p1 = en_vault_pseudonym (vault, "123456782");
    en_error_t error = { 0 };
    assert_int_equal (en_vault_rotate_secret (vault, &error), 0);
    assert_int_equal (en_vault_secret_version (vault), 2);
    assert_int_equal (en_vault_data_key_version (vault), 1);
    assert_int_equal (s_mode (self->dir, "region-secret.2"), 0600);

    //  New pseudonyms carry the new version and share nothing with the old
    char *p2 = en_vault_pseudonym (vault, "  123.456.782 ");
    assert_true (s_pseudonym_shaped (p2, 2));
    assert_string_not_equal (p1 + 3, p2 + 3);
    //  The old one can still be reproduced, to find the child's old cases
    char *old = en_vault_pseudonym_version (vault, "123.456.782", 1);
    assert_non_null (old);
    assert_string_equal (old, p1);
    char *current = en_vault_pseudonym_version (vault, "123456782", 2);
    assert_string_equal (current, p2);
    assert_null (en_vault_pseudonym_version (vault, "123456782", 3));
    assert_null (en_vault_pseudonym_version (vault, "123456782", 0));
    assert_null (en_vault_pseudonym_version (vault, "123456782", -1));
    free (old);
    free (current);
    en_vault_destroy (&vault);

    //  After a restart: still version 2, version 1 still there
    vault = s_open (self->dir);
    assert_int_equal (en_vault_secret_version (vault), 2);
    char *again = en_vault_pseudonym (vault, "123456782");
    assert_string_equal (again, p2);
    free (again);
    again = en_vault_pseudonym_version (vault, "123456782", 1);
    assert_string_equal (again, p1);
    free (again);

    //  Once more: version 3, and 1 and 2 both still reproducible
    assert_int_equal (en_vault_rotate_secret (vault, &error), 0);
    char *p3 = en_vault_pseudonym (vault, "123456782");
    assert_true (s_pseudonym_shaped (p3, 3));
    again = en_vault_pseudonym_version (vault, "123456782", 2);
    assert_string_equal (again, p2);
    free (again);
    free (p3);
    free (p1);
    free (p2);
    en_vault_destroy (&vault);
}

static void
test_rotate_data_key (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_vault_t *vault = s_open (self->dir);
    char *old = en_vault_seal (vault, "Sanne de Boer");
    en_error_t error = { 0 };
    assert_int_equal (en_vault_rotate_data_key (vault, &error), 0);
    assert_int_equal (en_vault_data_key_version (vault), 2);
    assert_int_equal (en_vault_secret_version (vault), 1);
    assert_int_equal (s_mode (self->dir, "data-key.2"), 0600);

    char *new = en_vault_seal (vault, "Daan Jansen");
    assert_true (strncmp (new, "v2:", 3) == 0);
    char *text = en_vault_unseal (vault, old);
    assert_string_equal (text, "Sanne de Boer");
    free (text);
    text = en_vault_unseal (vault, new);
    assert_string_equal (text, "Daan Jansen");
    free (text);
    //  The version in the text picks the key: relabelled, it fails
    char relabelled [512];
    snprintf (relabelled, sizeof relabelled, "v1:%s", new + 3);
    assert_null (en_vault_unseal (vault, relabelled));
    en_vault_destroy (&vault);

    //  After a restart both still open
    vault = s_open (self->dir);
    assert_int_equal (en_vault_data_key_version (vault), 2);
    text = en_vault_unseal (vault, old);
    assert_string_equal (text, "Sanne de Boer");
    free (text);
    en_vault_destroy (&vault);

    //  Without data-key.1, what it sealed is gone (and nothing else)
    char path [256], moved [256];
    snprintf (path, sizeof path, "%s/data-key.1", self->dir);
    snprintf (moved, sizeof moved, "%s/data-key.1.bak", self->dir);
    assert_int_equal (rename (path, moved), 0);
    vault = s_open (self->dir);
    assert_int_equal (en_vault_data_key_version (vault), 2);
    assert_null (en_vault_unseal (vault, old));
    text = en_vault_unseal (vault, new);
    assert_string_equal (text, "Daan Jansen");
    free (text);
    en_vault_destroy (&vault);
    free (old);
    free (new);
}

static void
test_rotation_never_overwrites (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_vault_t *vault = s_open (self->dir);
    //  Another process rotated meanwhile: region-secret.2 exists already
    char path [256];
    snprintf (path, sizeof path, "%s/region-secret.2", self->dir);
    unsigned char theirs [KEY_BYTES];
    randombytes_buf (theirs, sizeof theirs);
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true (fd >= 0);
    assert_int_equal (write (fd, theirs, sizeof theirs), sizeof theirs);
    close (fd);

    en_error_t error = { 0 };
    assert_int_equal (en_vault_rotate_secret (vault, &error), -1);
    assert_non_null (strstr (error.reason, "already exists"));
    assert_int_equal (en_vault_secret_version (vault), 1);
    unsigned char after [KEY_BYTES];
    s_read_key (self->dir, "region-secret.2", after);
    assert_memory_equal (theirs, after, KEY_BYTES);
    en_vault_destroy (&vault);

    //  A rotation that cannot write leaves the vault as it was
    vault = s_open (self->other);
    assert_int_equal (chmod (self->other, 0500), 0);
    if (access (self->other, W_OK) != 0) {      //  not when running as root
        assert_int_equal (en_vault_rotate_data_key (vault, &error), -1);
        assert_non_null (strstr (error.reason, self->other));
        assert_int_equal (en_vault_data_key_version (vault), 1);
        char *sealed = en_vault_seal (vault, "x");
        assert_true (strncmp (sealed, "v1:", 3) == 0);
        free (sealed);
    }
    assert_int_equal (chmod (self->other, 0700), 0);
    en_vault_destroy (&vault);
}

//  ---------------------------------------------------------------------
//  Key material never leaves the vault

//  The functions en_vault.h declares. Each returns a vault, a number, or
//  a string this file checks for key material. Adding a function means
//  adding it here, after making sure it cannot hand out key bytes.
static const char *s_api [] = {
    "en_vault_t *en_vault_new",
    "void en_vault_destroy",
    "char *en_vault_pseudonym",
    "char *en_vault_pseudonym_version",
    "char *en_vault_seal",
    "char *en_vault_unseal",
    "int en_vault_rotate_secret",
    "int en_vault_rotate_data_key",
    "int en_vault_secret_version",
    "int en_vault_data_key_version",
};

static void
test_header_has_no_key_getter (void **state)
{
    //  Tests run from the repository root (make, tests/run.sh)
    char *header = en_file_read ("include/en_vault.h", 1 << 20);
    if (!header)
        fail_msg ("cannot read include/en_vault.h: run from the repository root");
    size_t api_size = sizeof s_api / sizeof s_api [0];
    size_t found = 0;
    char *line = header;
    while (line && *line) {
        char *end = strchr (line, '\n');
        if (end)
            *end = 0;
        //  A declaration starts at column 0 and names a function
        char *call = strstr (line, "en_vault_");
        if (call && line [0] != ' ' && line [0] != '/' && line [0] != '#'
        &&  strchr (call, '(') && !strstr (line, "typedef")) {
            char *name_end = strchr (call, '(');
            while (name_end > line && name_end [-1] == ' ')
                name_end--;
            *name_end = 0;
            bool known = false;
            for (size_t i = 0; i < api_size; i++)
                if (streq (line, s_api [i]))
                    known = true;
            if (!known)
                fail_msg ("en_vault.h declares '%s': check it cannot return key bytes, "
                          "then add it to s_api", line);
            found++;
        }
        line = end ? end + 1 : NULL;
    }
    assert_int_equal (found, api_size);
    free (header);
}

//  True if any encoding of key appears in text.
static bool
s_shows_key (const char *text, size_t text_len, const unsigned char *key)
{
    if (memmem (text, text_len, key, 8))
        return true;
    char hex [2 * KEY_BYTES + 1];
    sodium_bin2hex (hex, sizeof hex, key, KEY_BYTES);
    //  Any 8 hex digits (32 bits) of the key, lower or upper case
    for (int i = 0; i + 8 <= 2 * KEY_BYTES; i += 2) {
        char piece [9];
        memcpy (piece, hex + i, 8);
        piece [8] = 0;
        if (memmem (text, text_len, piece, 8))
            return true;
        for (int j = 0; j < 8; j++)
            piece [j] = (char) toupper ((unsigned char) piece [j]);
        if (memmem (text, text_len, piece, 8))
            return true;
    }
    int variants [] = { sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_URLSAFE_NO_PADDING };
    for (int v = 0; v < 2; v++) {
        char b64 [64];
        sodium_bin2base64 (b64, sizeof b64, key, KEY_BYTES, variants [v]);
        if (memmem (text, text_len, b64, 12))
            return true;
    }
    char z85 [41];
    zmq_z85_encode (z85, key, KEY_BYTES);
    if (memmem (text, text_len, z85, 10))
        return true;
    return false;
}

static void
test_key_material_never_shown (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    //  Everything the vault prints or logs lands in a capture file
    char capture [128];
    snprintf (capture, sizeof capture, "%s/output", self->root);
    int cfd = open (capture, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true (cfd >= 0);
    fflush (stdout);
    fflush (stderr);
    int saved_out = dup (1), saved_err = dup (2);
    dup2 (cfd, 1);
    dup2 (cfd, 2);

    zlistx_t *outputs = zlistx_new ();
    zlistx_set_destructor (outputs, (zlistx_destructor_fn *) zstr_free);
    en_error_t error = { 0 };
    en_vault_t *vault = en_vault_new (self->dir, &error);
    assert_non_null (vault);
    for (int round = 0; round < 2; round++) {
        zlistx_add_end (outputs, en_vault_pseudonym (vault, "123456782"));
        zlistx_add_end (outputs, en_vault_pseudonym_version (vault, "123456782", 1));
        zlistx_add_end (outputs, en_vault_seal (vault, "Sanne de Boer"));
        zlistx_add_end (outputs, en_vault_seal (vault, ""));
        char *sealed = en_vault_seal (vault, "123456782");
        zlistx_add_end (outputs, en_vault_unseal (vault, sealed));
        zlistx_add_end (outputs, sealed);
        en_error_clear (&error);
        assert_int_equal (en_vault_rotate_secret (vault, &error), 0);
        zlistx_add_end (outputs, strdup (error.reason));
        assert_int_equal (en_vault_rotate_data_key (vault, &error), 0);
        zlistx_add_end (outputs, strdup (error.reason));
    }
    en_vault_destroy (&vault);
    //  All six key files, read before one is damaged below
    const char *keys [] = { "region-secret.1", "region-secret.2", "region-secret.3",
                            "data-key.1", "data-key.2", "data-key.3" };
    size_t nkeys = sizeof keys / sizeof keys [0];
    unsigned char key_bytes [6][KEY_BYTES];
    for (size_t k = 0; k < nkeys; k++)
        s_read_key (self->dir, keys [k], key_bytes [k]);
    //  Refusals name files, never their contents
    s_chmod (self->dir, "region-secret.2", 0644);
    assert_null (en_vault_new (self->dir, &error));
    zlistx_add_end (outputs, strdup (error.reason));
    s_chmod (self->dir, "region-secret.2", 0600);
    char path [256];
    snprintf (path, sizeof path, "%s/data-key.3", self->dir);
    assert_int_equal (truncate (path, 20), 0);
    assert_null (en_vault_new (self->dir, &error));
    zlistx_add_end (outputs, strdup (error.reason));

    fflush (stdout);
    fflush (stderr);
    dup2 (saved_out, 1);
    dup2 (saved_err, 2);
    close (saved_out);
    close (saved_err);
    close (cfd);

    char *log = en_file_read (capture, 1 << 20);
    assert_non_null (log);
    //  The vault did log (creating keys): the check below looks at something
    assert_non_null (strstr (log, "region-secret.1"));
    for (size_t k = 0; k < nkeys; k++) {
        const unsigned char *key = key_bytes [k];
        if (s_shows_key (log, strlen (log), key))
            fail_msg ("the log shows %s", keys [k]);
        const char *output = (const char *) zlistx_first (outputs);
        while (output) {
            if (s_shows_key (output, strlen (output), key))
                fail_msg ("'%s' shows %s", output, keys [k]);
            output = (const char *) zlistx_next (outputs);
        }
    }
    free (log);
    zlistx_destroy (&outputs);
}

//  s_shows_key itself must see a key, or the test above proves nothing.
static void
test_key_detector_works (void **state)
{
    unsigned char key [KEY_BYTES];
    randombytes_buf (key, sizeof key);
    char hex [2 * KEY_BYTES + 1], b64 [64], z85 [41];
    sodium_bin2hex (hex, sizeof hex, key, KEY_BYTES);
    char text [256];
    snprintf (text, sizeof text, "vault: key %.10s...", hex + 20);
    assert_true (s_shows_key (text, strlen (text), key));
    sodium_bin2base64 (b64, sizeof b64, key, KEY_BYTES, sodium_base64_VARIANT_ORIGINAL);
    snprintf (text, sizeof text, "v1:%s", b64);
    assert_true (s_shows_key (text, strlen (text), key));
    zmq_z85_encode (z85, key, KEY_BYTES);
    assert_true (s_shows_key (z85, strlen (z85), key));
    const char *innocent = "p1-00112233445566778899aabbccddeeff";
    assert_false (s_shows_key (innocent, strlen (innocent), key));
}

int
main (void)
{
    zsys_init ();
    zsys_set_logident ("test_vault");
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_first_open_creates_private_keys, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_reopen_reuses_keys, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_loose_key_file_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_damaged_key_file_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_pseudonym_construction, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_normalization, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_unlinkable_across_regions, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_seal_roundtrip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_ciphertext_hides_plaintext, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_tampering_detected, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rotate_secret, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rotate_data_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_rotation_never_overwrites, s_setup, s_teardown),
        cmocka_unit_test (test_header_has_no_key_getter),
        cmocka_unit_test_setup_teardown (test_key_material_never_shown, s_setup, s_teardown),
        cmocka_unit_test (test_key_detector_works),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
