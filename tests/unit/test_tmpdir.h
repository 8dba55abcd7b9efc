/*  test_tmpdir - a test's temporary directory under $TMPDIR, and its
    removal: for the unit tests (test_fixture.h), the fuzz harnesses
    (tests/fuzz/fuzz.h) and the corpus generator. No cmocka. */
#ifndef TEST_TMPDIR_H_INCLUDED
#define TEST_TMPDIR_H_INCLUDED

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int
s_test_remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st; (void) flag; (void) ftw;
    remove (path);
    return 0;
}

//  Remove a directory and everything below it (a test's mkdtemp dir).
static inline void
test_rmtree (const char *dir)
{
    nftw (dir, s_test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

//  A new temporary directory "$TMPDIR/name.XXXXXX" (/tmp without
//  TMPDIR) into dir, of size bytes: dir, or NULL (said why).
static inline char *
test_mkdtemp (char *dir, size_t size, const char *name)
{
    const char *tmp = getenv ("TMPDIR");
    int length = snprintf (dir, size, "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    if (length < 0 || (size_t) length >= size) {
        fprintf (stderr, "temporary directory for %s: $TMPDIR is too long\n", name);
        return NULL;
    }
    if (!mkdtemp (dir)) {
        fprintf (stderr, "mkdtemp %s: %s\n", dir, strerror (errno));
        return NULL;
    }
    return dir;
}

#endif
