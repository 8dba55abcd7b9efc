/*  test_enrolled - en_enrolled: what counts as enrolled, zauth's clean
    copy, and when enrolled/ is read again.

    Keys are made with en_keys_generate (as `expertnet keygen` does) and
    copied into a temporary data directory's enrolled/ the way an
    operator would: the canonical NAME.cert, a backup copy in a
    subdirectory, a hidden file, a secret. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>
#include <dirent.h>
#include <sodium.h>

#include "expertnet.h"
#include "en_enrolled.h"
#include "test_fixture.h"

typedef struct {
    char datadir [64];          //  the temporary data directory
    char keys [PATH_MAX];       //  <datadir>/keys: generated key pairs
    char enrolled [PATH_MAX];   //  <datadir>/enrolled
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) calloc (1, sizeof (s_fixture_t));
    assert_non_null (test_mkdtemp (fixture->datadir, sizeof fixture->datadir, "test_enrolled"));
    snprintf (fixture->keys, sizeof fixture->keys, "%s/keys", fixture->datadir);
    snprintf (fixture->enrolled, sizeof fixture->enrolled, "%s/enrolled", fixture->datadir);
    assert_int_equal (en_keys_generate (fixture->keys, "alpha", NULL), 0);
    assert_int_equal (en_keys_generate (fixture->keys, "beta", NULL), 0);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) *state;
    test_rmtree (fixture->datadir);
    free (fixture);
    return 0;
}

//  Copy keys/<name>.cert to enrolled/<as>
static void
s_enroll (s_fixture_t *fixture, const char *name, const char *as)
{
    char from [PATH_MAX + 16], to [PATH_MAX + 64];
    snprintf (from, sizeof from, "%s/%s.cert", fixture->keys, name);
    snprintf (to, sizeof to, "%s/%s", fixture->enrolled, as);
    char *slash = strrchr (to, '/');
    *slash = 0;
    en_mkdir_p (to, 0700);
    *slash = '/';
    zfile_t *file = zfile_new (NULL, from);
    assert_non_null (file);
    assert_int_equal (zfile_input (file), 0);
    zchunk_t *chunk = zfile_read (file, zfile_cursize (file), 0);
    zfile_destroy (&file);
    FILE *out = fopen (to, "w");
    assert_non_null (out);
    fwrite (zchunk_data (chunk), 1, zchunk_size (chunk), out);
    fclose (out);
    zchunk_destroy (&chunk);
}

//  The public key (z85) of keys/<name>.cert
static void
s_key (s_fixture_t *fixture, const char *name, char key [41])
{
    char path [PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/%s.cert", fixture->keys, name);
    zcert_t *cert = en_keys_load_public (path, NULL);
    assert_non_null (cert);
    snprintf (key, 41, "%s", zcert_public_txt (cert));
    zcert_destroy (&cert);
}

//  How many certificates zauth's current directory holds
static int
s_admitted_files (s_fixture_t *fixture)
{
    char path [PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/zauth", fixture->datadir);
    zdir_t *dir = zdir_new (path, NULL);
    int count = dir ? (int) zdir_count (dir) : -1;
    zdir_destroy (&dir);
    return count;
}

static void
test_empty (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) *state;
    en_enrolled_t *enrolled = en_enrolled_new (fixture->datadir, NULL);
    assert_non_null (enrolled);
    json_t *list = en_enrolled_list (enrolled);
    assert_int_equal (json_array_size (list), 0);
    json_decref (list);
    assert_false (en_enrolled_has_name (enrolled, "alpha"));
    assert_null (en_enrolled_lookup (enrolled, NULL));
    assert_int_equal (s_admitted_files (fixture), 0);
    en_enrolled_destroy (&enrolled);
    en_enrolled_destroy (&enrolled);
}

static void
test_enroll_and_revoke (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) *state;
    s_enroll (fixture, "alpha", "alpha.cert");
    en_enrolled_t *enrolled = en_enrolled_new (fixture->datadir, NULL);
    assert_non_null (enrolled);
    char alpha [41], beta [41];
    s_key (fixture, "alpha", alpha);
    s_key (fixture, "beta", beta);
    en_enrollment_t *found = en_enrolled_lookup (enrolled, alpha);
    assert_non_null (found);
    assert_string_equal (found->name, "alpha");
    //  No region in the certificate: bound to its own name
    assert_string_equal (found->region, "alpha");
    assert_true (found->can_sign);
    assert_true (en_enrolled_has_name (enrolled, "alpha"));
    assert_int_equal (s_admitted_files (fixture), 1);
    //  Nothing changed: not read again
    assert_false (en_enrolled_refresh (enrolled));

    //  Enrolled without a restart
    s_enroll (fixture, "beta", "beta.cert");
    assert_true (en_enrolled_refresh (enrolled));
    assert_non_null (en_enrolled_lookup (enrolled, beta));
    json_t *list = en_enrolled_list (enrolled);
    assert_int_equal (json_array_size (list), 2);
    json_decref (list);

    //  Revoked: the file goes, and so does the key
    char path [PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/beta.cert", fixture->enrolled);
    assert_int_equal (unlink (path), 0);
    assert_true (en_enrolled_refresh (enrolled));
    assert_null (en_enrolled_lookup (enrolled, beta));
    assert_false (en_enrolled_has_name (enrolled, "beta"));
    en_enrolled_destroy (&enrolled);
}

//  A look per batch stats the directories only: a file removed below
//  enrolled/ (a revocation, in a subdirectory too) is seen at once; a
//  certificate overwritten in place, which changes no directory, within
//  the rescan interval (a second)
static void
test_cheap_look (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) *state;
    s_enroll (fixture, "alpha", "alpha.cert");
    s_enroll (fixture, "beta", "region/beta-node.cert");
    en_enrolled_t *enrolled = en_enrolled_new (fixture->datadir, NULL);
    assert_non_null (enrolled);
    char alpha [41], beta [41];
    s_key (fixture, "alpha", alpha);
    s_key (fixture, "beta", beta);
    assert_non_null (en_enrolled_lookup (enrolled, beta));
    assert_false (en_enrolled_refresh (enrolled));
    //  Revoked in the subdirectory: gone at the next look
    char path [PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/region/beta-node.cert", fixture->enrolled);
    assert_int_equal (unlink (path), 0);
    assert_true (en_enrolled_refresh (enrolled));
    assert_null (en_enrolled_lookup (enrolled, beta));
    //  alpha.cert overwritten in place with beta's certificate: the same
    //  inode in an unchanged directory; seen by the rescan
    s_enroll (fixture, "beta", "alpha.cert");
    int64_t until = en_now_ms () + 3000;
    while (!en_enrolled_lookup (enrolled, beta) && en_now_ms () < until) {
        en_enrolled_refresh (enrolled);
        zclock_sleep (50);
    }
    assert_non_null (en_enrolled_lookup (enrolled, beta));
    assert_null (en_enrolled_lookup (enrolled, alpha));
    //  Nothing changed since: never read again, however long it waits
    zclock_sleep (1100);
    assert_false (en_enrolled_refresh (enrolled));
    en_enrolled_destroy (&enrolled);
}

//  A backup copy, a hidden file, a secret and a second name for one key
//  are not enrolled twice; the canonical NAME.cert wins
static void
test_strays (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) *state;
    s_enroll (fixture, "alpha", "alpha.cert");
    s_enroll (fixture, "alpha", "backup/alpha-2025.cert");
    s_enroll (fixture, "alpha", "aaa-first-in-name-order.cert");
    s_enroll (fixture, "beta", ".beta.cert");
    s_enroll (fixture, "beta", "beta.cert_secret");
    en_enrolled_t *enrolled = en_enrolled_new (fixture->datadir, NULL);
    assert_non_null (enrolled);
    json_t *list = en_enrolled_list (enrolled);
    assert_int_equal (json_array_size (list), 1);
    assert_string_equal (en_json_str (json_array_get (list, 0), "name"), "alpha");
    json_decref (list);
    assert_false (en_enrolled_has_name (enrolled, "beta"));
    //  zauth's copy holds one file per key
    assert_int_equal (s_admitted_files (fixture), 1);
    en_enrolled_destroy (&enrolled);
}

//  A peer broker's certificate: found by name, and only with the pinned
//  key when one is given
static void
test_peer (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) *state;
    s_enroll (fixture, "alpha", "alpha.cert");
    en_enrolled_t *enrolled = en_enrolled_new (fixture->datadir, NULL);
    char alpha [41], beta [41], curve_key [41];
    unsigned char sign_key [32];
    s_key (fixture, "alpha", alpha);
    s_key (fixture, "beta", beta);
    assert_int_equal (en_enrolled_peer (enrolled, "alpha", NULL, curve_key, sign_key), 0);
    assert_string_equal (curve_key, alpha);
    assert_int_equal (en_enrolled_peer (enrolled, "alpha", alpha, curve_key, sign_key), 0);
    assert_int_equal (en_enrolled_peer (enrolled, "alpha", beta, curve_key, sign_key), -1);
    assert_int_equal (en_enrolled_peer (enrolled, "beta", NULL, curve_key, sign_key), -1);
    en_enrolled_destroy (&enrolled);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logident ("test_enrolled");
    if (sodium_init () < 0)
        return 1;
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_empty, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_enroll_and_revoke, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_strays, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_cheap_look, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_peer, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
