/*  test_db_store - what en_db refuses to open (include/en_db.h): a store with
    garbage inside, a file that is no database, and a store that was lost
    or replaced according to its marker (store.id), unless new_store.
    Each refusal is checked for the file it names; each test also opens
    the good case, so a check that always refuses cannot pass.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "expertnet.h"
#include "test_fixture.h"

typedef struct {
    char dir [64];              //  temporary directory
    char path [128];            //  the store in it
    char marker [128];          //  its store.id
} fixture_t;

static const char *s_migrations [] = {
    EN_DB_IDENTITY_SCHEMA,
    "CREATE TABLE work (x TEXT);"
    "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)"
    "  INSERT INTO work SELECT printf ('row %d of the work table, long enough to fill pages', i) FROM n;",
    NULL
};

static int
s_setup (void **state)
{
    fixture_t *self = (fixture_t *) calloc (1, sizeof (fixture_t));
    if (!test_mkdtemp (self->dir, sizeof self->dir, "test_db_store"))
        return -1;
    snprintf (self->path, sizeof self->path, "%s/broker.db", self->dir);
    snprintf (self->marker, sizeof self->marker, "%s/store.id", self->dir);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    test_rmtree (self->dir);
    free (self);
    return 0;
}

//  Open (check, open, mark) as the daemons do; the store id, or NULL with error.
static char *
s_open (fixture_t *self, bool new_store, en_error_t *error)
{
    en_error_clear (error);
    if (en_db_store_check (self->path, self->marker, new_store, error))
        return NULL;
    en_db_t *db = en_db_new (self->path, s_migrations, error);
    if (!db)
        return NULL;
    char *id = en_db_store_mark (db, self->path, self->marker, new_store, error) ? NULL
             : en_db_store_id (db);
    en_db_destroy (&db);
    return id;
}

static void
s_write_at (const char *path, long offset, const char *bytes, size_t size)
{
    FILE *file = fopen (path, "r+b");
    assert_non_null (file);
    assert_int_equal (fseek (file, offset, SEEK_SET), 0);
    assert_int_equal (fwrite (bytes, 1, size, file), size);
    fclose (file);
}

static void
test_damage_refused (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_error_t error = { 0 };
    char *id = s_open (self, false, &error);
    assert_non_null (id);
    free (id);
    //  Garbage over the pages after the first (the schema stays readable)
    char garbage [4096 * 4];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage [i] = (char) (i * 7 + 13);
    s_write_at (self->path, 4096 * 2, garbage, sizeof garbage);
    id = s_open (self, false, &error);
    assert_null (id);
    char expected [256];
    snprintf (expected, sizeof expected, "database %s is damaged", self->path);
    assert_non_null (strstr (error.reason, expected));

    //  Not a database at all: also named
    FILE *file = fopen (self->path, "wb");
    assert_non_null (file);
    fputs ("this is not a database, but a file of 100 bytes or more, which SQLite reads as a header........", file);
    fclose (file);
    id = s_open (self, true, &error);
    assert_null (id);
    assert_non_null (strstr (error.reason, expected));
}

static void
test_lost_store_refused (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_error_t error = { 0 };
    //  First start: no marker yet; it is written with the store's id
    char *first = s_open (self, false, &error);
    assert_non_null (first);
    assert_int_equal (strlen (first), 32);
    char *marked = en_file_read (self->marker, 100);
    assert_non_null (marked);
    assert_non_null (strstr (marked, first));
    free (marked);
    //  Again: the same store, accepted
    char *again = s_open (self, false, &error);
    assert_non_null (again);
    assert_string_equal (again, first);
    free (again);

    //  Emptied: refused, naming the file, the marker and the way out
    FILE *file = fopen (self->path, "wb");
    fclose (file);
    assert_null (s_open (self, false, &error));
    assert_non_null (strstr (error.reason, "is empty (0 bytes)"));
    assert_non_null (strstr (error.reason, self->marker));
    assert_non_null (strstr (error.reason, first));
    assert_non_null (strstr (error.reason, "--new-store"));
    //  Missing: refused too
    unlink (self->path);
    assert_null (s_open (self, false, &error));
    assert_non_null (strstr (error.reason, "is missing"));

    //  --new-store: a new store with a new identity, marked
    char *second = s_open (self, true, &error);
    assert_non_null (second);
    assert_string_not_equal (second, first);
    marked = en_file_read (self->marker, 100);
    assert_non_null (strstr (marked, second));
    free (marked);

    //  Another store put in its place (here: an older marker): refused
    file = fopen (self->marker, "w");
    fprintf (file, "%s\n", first);
    fclose (file);
    assert_null (s_open (self, false, &error));
    assert_non_null (strstr (error.reason, "was replaced"));
    //  ... unless new_store, which gives it a new identity once more
    char *third = s_open (self, true, &error);
    assert_non_null (third);
    assert_string_not_equal (third, second);
    assert_string_not_equal (third, first);
    free (first);
    free (second);
    free (third);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logident ("test_db_store");
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_damage_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_lost_store_refused, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
