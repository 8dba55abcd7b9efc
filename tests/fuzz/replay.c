/*  replay - main() for a fuzz harness built with the normal compiler:
    feeds each file of its corpus to LLVMFuzzerTestOneInput once.

    With no arguments it replays the committed corpus FUZZ_CORPUS (set by
    the Makefile, tests/fuzz/corpus/NAME, relative to the repository root
    where tests/run.sh runs); arguments name other files or directories,
    e.g. a crash artifact from `make fuzz`. A crash, a sanitizer report
    (make test SANITIZE=1) or an empty corpus fails the run. */
#include "fuzz.h"
#include <dirent.h>
#include <sys/stat.h>

static int
s_replay_file (const char *path)
{
    char *data = en_file_read (path, FUZZ_MAX_INPUT);
    if (!data) {
        fprintf (stderr, "replay: cannot read %s: %s\n", path, strerror (errno));
        return -1;
    }
    //  en_file_read stops at no NUL: the size is the file's
    struct stat st;
    size_t size = stat (path, &st) == 0 ? (size_t) st.st_size : strlen (data);
    LLVMFuzzerTestOneInput ((const uint8_t *) data, size);
    free (data);
    return 0;
}

static int
s_compare (const void *a, const void *b)
{
    return strcmp (*(char * const *) a, *(char * const *) b);
}

//  Replay path (a file or every file in a directory, in name order).
//  Returns the number of inputs replayed, -1 on a read error.
static int
s_replay (const char *path)
{
    struct stat st;
    if (stat (path, &st)) {
        fprintf (stderr, "replay: %s: %s\n", path, strerror (errno));
        return -1;
    }
    if (!S_ISDIR (st.st_mode))
        return s_replay_file (path) ? -1 : 1;
    DIR *dir = opendir (path);
    if (!dir) {
        fprintf (stderr, "replay: cannot open %s: %s\n", path, strerror (errno));
        return -1;
    }
    char **names = NULL;
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        if (entry->d_name [0] == '.')
            continue;
        names = (char **) realloc (names, (count + 1) * sizeof *names);
        assert (names);
        names [count++] = strdup (entry->d_name);
    }
    closedir (dir);
    if (count)
        qsort (names, count, sizeof *names, s_compare);
    int replayed = 0;
    for (size_t i = 0; i < count; i++) {
        char file [PATH_MAX];
        snprintf (file, sizeof file, "%s/%s", path, names [i]);
        if (replayed >= 0)
            replayed = s_replay_file (file) ? -1 : replayed + 1;
        free (names [i]);
    }
    free (names);
    return replayed;
}

int
main (int argc, char *argv [])
{
    LLVMFuzzerInitialize (&argc, &argv);
    const char *dflt [] = { FUZZ_CORPUS };
    const char **paths = argc > 1 ? (const char **) argv + 1 : dflt;
    int count = argc > 1 ? argc - 1 : 1;
    for (int i = 0; i < count; i++) {
        int replayed = s_replay (paths [i]);
        if (replayed <= 0) {
            fprintf (stderr, "replay: no inputs replayed from %s\n", paths [i]);
            return 1;
        }
        printf ("ok - %d inputs from %s\n", replayed, paths [i]);
    }
    return 0;
}
