/*  en_enrolled - who is enrolled at the broker, and zauth's view of it.

    The broker reads <datadir>/enrolled itself and hands zauth only a
    clean copy: one file per distinct key, in a directory of its own
    (<datadir>/zauth/<generation>), switched whole with zauth's CURVE
    command. zauth's own loader aborts the process on two files holding
    one key (zcertstore_insert asserts), so it must never read a directory
    an operator can leave a stray copy in.

    What counts as enrolled: every regular file below enrolled/ whose
    name does not start with '.' (a file being written, an editor's swap
    file) or end in "_secret", that loads as a certificate with a valid
    name. Files are read in name order; a key met again (a backup copy,
    the same node under two names) is skipped with a log line, as is a
    file that is not a certificate. One name has one key: enrolled/NAME.cert
    (the file `expertnet enroll` writes) wins over any other file naming
    that node; among others, the first in name order. The certificate's
    "region" (written by `expertnet enroll`) is the only region that node
    may speak for; an older enrollment without one is bound to the node's
    own name.

    The broker re-reads it (en_enrolled_refresh) when the tree changes
    (any file's path, inode, size or change time, see s_tree_fingerprint):
    looked at once per batch, so a revocation applies to the next message
    even on an open connection, on the flush timer, and after a refused
    handshake, so a node enrolled a moment ago gets in on its next try.
    Listing and stat'ing every certificate before every batch cost a
    broker with 200 nodes 6% of its CPU, so a look is cheap: a stat of
    enrolled/ and of each directory below it (s_dirs_fingerprint). A file
    added, removed or renamed (revoke, enroll, an editor's save) changes
    its directory, so it is seen at once; the whole tree is fingerprinted
    only when a directory changed or RESCAN_MS has passed, which catches a
    certificate overwritten in place (same name, no directory change)
    within that time.
    The broker sees the enrollments only through this interface: by key
    (who is this connection), by name (is it still enrolled), and as a
    list for the operators.
*/
#include "en_enrolled.h"
#include <sodium.h>
#include <sys/stat.h>

struct _en_enrolled_t {
    char *datadir;              //  the broker's data directory (zauth/ lives there)
    char *dir;                  //  <datadir>/enrolled
    zactor_t *auth;             //  zauth actor (ZAP handler)
    zhashx_t *key_names;        //  enrolled CURVE public key (z85) -> en_enrollment_t
    char *admitted;             //  the keys zauth admits now, sorted, one string
    char *admit_dir;            //  zauth's current certificate directory, or NULL
    uint64_t admit_generation;  //  numbers zauth's directories
    unsigned char fingerprint [16];     //  of dir's files when read
    zlistx_t *dirs;             //  enrolled/ and the directories below it, when read
    unsigned char dirs_fingerprint [16];    //  of those directories when read
    int64_t scanned_at;         //  ms of the last fingerprint of the whole tree
};

//  The whole tree is fingerprinted at least this often (see above)
#define RESCAN_MS  1000

static void
s_enrollment_destroy (void **item)
{
    en_enrollment_t *enrolled = (en_enrollment_t *) *item;
    free (enrolled->name);
    free (enrolled->region);
    free (enrolled);
    *item = NULL;
}

static void
s_remove_tree (const char *path)
{
    zdir_t *dir = zdir_new (path, NULL);
    if (dir)
        zdir_remove (dir, true);
    zdir_destroy (&dir);
}

en_enrolled_t *
en_enrolled_new (const char *datadir, en_error_t *error)
{
    en_enrolled_t *self = (en_enrolled_t *) zmalloc (sizeof (en_enrolled_t));
    assert (self);
    self->datadir = strdup (datadir);
    self->dir = zsys_sprintf ("%s/enrolled", datadir);
    en_mkdir_p (self->dir, 0700);
    self->key_names = zhashx_new ();
    zhashx_set_destructor (self->key_names, s_enrollment_destroy);
    self->dirs = zlistx_new ();
    zlistx_set_destructor (self->dirs, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_duplicator (self->dirs, (zlistx_duplicator_fn *) strdup);
    //  zauth starts with the enrolled keys (and no stale directory of an
    //  earlier run)
    self->auth = zactor_new (zauth, NULL);
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/zauth", datadir);
    s_remove_tree (path);
    en_enrolled_refresh (self);
    if (!self->admit_dir) {
        en_error_set (error, EN_ERR_INTERNAL, "cannot prepare the enrolled keys for authentication in %s", path);
        en_enrolled_destroy (&self);
    }
    return self;
}

void
en_enrolled_destroy (en_enrolled_t **self_p)
{
    assert (self_p);
    en_enrolled_t *self = *self_p;
    if (self) {
        zactor_destroy (&self->auth);
        zhashx_destroy (&self->key_names);
        zlistx_destroy (&self->dirs);
        free (self->admitted);
        free (self->admit_dir);
        free (self->dir);
        free (self->datadir);
        free (self);
        *self_p = NULL;
    }
}

//  Point zauth at a new directory holding exactly the keys in key_names.
//  Returns 0, or -1 (logged) keeping the previous directory.
static int
s_admit (en_enrolled_t *self)
{
    char dir [PATH_MAX];
    snprintf (dir, sizeof dir, "%s/zauth/%llu", self->datadir,
              (unsigned long long) ++self->admit_generation);
    if (en_mkdir_p (dir, 0700)) {
        zsys_error ("cannot create %s: %s; admitted keys unchanged", dir, strerror (errno));
        return -1;
    }
    for (en_enrollment_t *enrolled = (en_enrollment_t *) zhashx_first (self->key_names); enrolled;
         enrolled = (en_enrollment_t *) zhashx_next (self->key_names)) {
        const char *key = (const char *) zhashx_cursor (self->key_names);
        unsigned char public_key [32];
        zmq_z85_decode (public_key, key);
        zcert_t *cert = zcert_new_from (public_key, (unsigned char [32]) { 0 });
        char hex [65], path [PATH_MAX + 80];
        sodium_bin2hex (hex, sizeof hex, public_key, sizeof public_key);
        snprintf (path, sizeof path, "%s/%s.cert", dir, hex);
        int rc = zcert_save_public (cert, path);
        zcert_destroy (&cert);
        if (rc) {
            zsys_error ("cannot write %s; admitted keys unchanged", path);
            s_remove_tree (dir);
            return -1;
        }
    }
    zstr_sendx (self->auth, "CURVE", dir, NULL);
    zsock_wait (self->auth);
    if (self->admit_dir)
        s_remove_tree (self->admit_dir);
    free (self->admit_dir);
    self->admit_dir = strdup (dir);
    return 0;
}

//  A fingerprint of the tree: each file's path, inode, size and change
//  time in nanoseconds. A certificate renamed into place has a new inode,
//  so even a replacement of the same size within the same second shows.
static void
s_tree_fingerprint (zfile_t **files, unsigned char fingerprint [16])
{
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, 16);
    for (int i = 0; files && files [i]; i++) {
        const char *path = zfile_filename (files [i], NULL);
        struct stat info;
        if (stat (path, &info))
            memset (&info, 0, sizeof info);
        int64_t fields [4] = { (int64_t) info.st_ino, (int64_t) info.st_size,
                               (int64_t) info.st_ctim.tv_sec, (int64_t) info.st_ctim.tv_nsec };
        crypto_generichash_update (&state, (const unsigned char *) path, strlen (path) + 1);
        crypto_generichash_update (&state, (const unsigned char *) fields, sizeof fields);
    }
    crypto_generichash_final (&state, fingerprint, 16);
}

//  A fingerprint of the directories in dirs: each one's path, inode and
//  modification and change times in nanoseconds. An entry added, removed
//  or renamed in a directory changes both times.
static void
s_dirs_fingerprint (zlistx_t *dirs, unsigned char fingerprint [16])
{
    crypto_generichash_state state;
    crypto_generichash_init (&state, NULL, 0, 16);
    for (const char *path = (const char *) zlistx_first (dirs); path; path = (const char *) zlistx_next (dirs)) {
        struct stat info;
        if (stat (path, &info))
            memset (&info, 0, sizeof info);
        int64_t fields [5] = { (int64_t) info.st_ino, (int64_t) info.st_mtim.tv_sec, (int64_t) info.st_mtim.tv_nsec,
                               (int64_t) info.st_ctim.tv_sec, (int64_t) info.st_ctim.tv_nsec };
        crypto_generichash_update (&state, (const unsigned char *) path, strlen (path) + 1);
        crypto_generichash_update (&state, (const unsigned char *) fields, sizeof fields);
    }
    crypto_generichash_final (&state, fingerprint, 16);
}

//  enrolled/ and every directory that holds one of files (sorted)
static void
s_collect_dirs (en_enrolled_t *self, zfile_t **files)
{
    zlistx_purge (self->dirs);
    zlistx_set_comparator (self->dirs, (zlistx_comparator_fn *) strcmp);
    zlistx_add_end (self->dirs, self->dir);
    for (int i = 0; files && files [i]; i++) {
        char *path = strdup (zfile_filename (files [i], NULL));
        char *slash = strrchr (path, '/');
        if (slash)
            *slash = 0;
        if (!zlistx_find (self->dirs, path))
            zlistx_add_end (self->dirs, path);
        free (path);
    }
    zlistx_sort (self->dirs);
}

static bool
s_hidden (const char *path)
{
    const char *base = strrchr (path, '/');
    return (base ? base [1] : path [0]) == '.';
}

//  The key another file already enrolled for this name, or NULL.
static const char *
s_key_of_name (en_enrolled_t *self, const char *name)
{
    const char *key = NULL;
    for (en_enrollment_t *enrolled = (en_enrollment_t *) zhashx_first (self->key_names); enrolled && name;
         enrolled = (en_enrollment_t *) zhashx_next (self->key_names))
        if (streq (enrolled->name, name))
            key = (const char *) zhashx_cursor (self->key_names);
    return key;
}

//  Enroll the certificate cert (read from enrolled/<shown>), or say why
//  it is ignored.
static void
s_enroll (en_enrolled_t *self, zcert_t *cert, const char *shown)
{
    const char *name = cert ? zcert_meta (cert, "name") : NULL;
    const char *region = cert ? zcert_meta (cert, "region") : NULL;
    en_enrollment_t *same = cert ? (en_enrollment_t *) zhashx_lookup (self->key_names, zcert_public_txt (cert)) : NULL;
    const char *other_key = s_key_of_name (self, name);
    if (!cert)
        zsys_warning ("enrolled/%s is not a certificate; ignored", shown);
    else
    if (!en_name_valid (name))
        zsys_warning ("enrolled certificate %s has no valid name; ignored", shown);
    else
    if (region && !en_name_valid (region))
        zsys_warning ("enrolled certificate %s has an invalid region; ignored", shown);
    else
    if (same)
        zsys_warning ("enrolled/%s holds the key already enrolled as '%s' (a copy?); ignored", shown, same->name);
    else
    if (other_key)
        zsys_warning ("enrolled/%s holds another key for '%s' than the one enrolled (%s); ignored",
                      shown, name, other_key);
    else {
        en_enrollment_t *enrolled = (en_enrollment_t *) zmalloc (sizeof (en_enrollment_t));
        enrolled->name = strdup (name);
        enrolled->region = strdup (region ? region : name);
        enrolled->can_sign = en_keys_sign_key (cert, enrolled->sign_key) == 0;
        if (!enrolled->can_sign)
            zsys_warning ("enrolled certificate %s has no sign-key: its messages will be refused "
                          "(make new keys with 'expertnet keygen')", shown);
        zhashx_insert (self->key_names, zcert_public_txt (cert), enrolled);
    }
}

//  Read every certificate in files into key_names. Two passes: first the
//  files `expertnet enroll` writes (enrolled/NAME.cert), so that one
//  counts when another file names the same node with another key (an old
//  backup must not keep a replaced key admitted); then every other file.
static void
s_read_files (en_enrolled_t *self, zfile_t **files)
{
    zhashx_purge (self->key_names);
    size_t prefix = strlen (self->dir) + 1;
    for (int pass = 0; pass < 2; pass++)
    for (int i = 0; files && files [i]; i++) {
        const char *filename = zfile_filename (files [i], NULL);
        const char *shown = strlen (filename) > prefix ? filename + prefix : filename;
        if (s_hidden (filename) || (strlen (filename) >= 7 && streq (filename + strlen (filename) - 7, "_secret"))
        ||  !zfile_is_regular (files [i]))
            continue;
        zcert_t *cert = en_keys_load_public (filename, NULL);
        const char *name = cert ? zcert_meta (cert, "name") : NULL;
        bool canonical = en_name_valid (name) && strlen (shown) == strlen (name) + 5
                      && strncmp (shown, name, strlen (name)) == 0 && streq (shown + strlen (name), ".cert");
        if (canonical == (pass == 0))
            s_enroll (self, cert, shown);
        zcert_destroy (&cert);
    }
}

//  The enrolled keys, sorted, as one string ("k1,k2,"): zauth's directory
//  changes only when this does.
static char *
s_key_set (en_enrolled_t *self)
{
    zlistx_t *keys = zhashx_keys (self->key_names);
    zlistx_set_comparator (keys, (zlistx_comparator_fn *) strcmp);
    zlistx_sort (keys);
    char *admitted = strdup ("");
    for (const char *key = (const char *) zlistx_first (keys); key; key = (const char *) zlistx_next (keys)) {
        char *longer = zsys_sprintf ("%s%s,", admitted, key);
        free (admitted);
        admitted = longer;
    }
    zlistx_destroy (&keys);
    return admitted;
}

//  Has a directory of the tree changed since it was read, or is a look
//  at every file due? (See the header: the cheap look of every batch.)
static bool
s_look_again (en_enrolled_t *self)
{
    if (!self->admitted || en_now_ms () - self->scanned_at >= RESCAN_MS)
        return true;
    unsigned char fingerprint [16];
    s_dirs_fingerprint (self->dirs, fingerprint);
    return sodium_memcmp (fingerprint, self->dirs_fingerprint, sizeof fingerprint) != 0;
}

bool
en_enrolled_refresh (en_enrolled_t *self)
{
    if (!s_look_again (self))
        return false;
    //  The directories as they are before the listing, so that a change
    //  made while it is read is seen next time (when the set of
    //  directories changed, they are looked at after it, and the rescan
    //  catches what slips between)
    zlistx_t *before = zlistx_dup (self->dirs);
    unsigned char dirs_fingerprint [16];
    s_dirs_fingerprint (before, dirs_fingerprint);
    zdir_t *dir = zdir_new (self->dir, NULL);
    if (!dir) {
        zlistx_destroy (&before);
        return false;
    }
    zfile_t **files = zdir_flatten (dir);
    s_collect_dirs (self, files);
    bool same_dirs = zlistx_size (before) == zlistx_size (self->dirs);
    for (const char *a = (const char *) zlistx_first (before), *b = (const char *) zlistx_first (self->dirs);
         same_dirs && a && b; a = (const char *) zlistx_next (before), b = (const char *) zlistx_next (self->dirs))
        same_dirs = streq (a, b);
    zlistx_destroy (&before);
    if (same_dirs)
        memcpy (self->dirs_fingerprint, dirs_fingerprint, sizeof dirs_fingerprint);
    else
        s_dirs_fingerprint (self->dirs, self->dirs_fingerprint);
    self->scanned_at = en_now_ms ();
    unsigned char fingerprint [16];
    s_tree_fingerprint (files, fingerprint);
    bool same_tree = self->admitted
                  && sodium_memcmp (fingerprint, self->fingerprint, sizeof fingerprint) == 0;
    if (!same_tree) {
        memcpy (self->fingerprint, fingerprint, sizeof fingerprint);
        s_read_files (self, files);
    }
    if (files)
        zdir_flatten_free (&files);
    zdir_destroy (&dir);
    if (same_tree)
        return false;

    char *admitted = s_key_set (self);
    if (self->admitted && streq (admitted, self->admitted))
        free (admitted);
    else
    if (s_admit (self) == 0) {
        free (self->admitted);
        self->admitted = admitted;
        zsys_info ("%zu node key(s) enrolled", zhashx_size (self->key_names));
    }
    else {
        free (admitted);
        //  Try again next time round
        memset (self->fingerprint, 0, sizeof self->fingerprint);
    }
    return true;
}

en_enrollment_t *
en_enrolled_lookup (en_enrolled_t *self, const char *curve_key)
{
    return curve_key ? (en_enrollment_t *) zhashx_lookup (self->key_names, curve_key) : NULL;
}

bool
en_enrolled_has_name (en_enrolled_t *self, const char *name)
{
    for (en_enrollment_t *enrolled = (en_enrollment_t *) zhashx_first (self->key_names); enrolled;
         enrolled = (en_enrollment_t *) zhashx_next (self->key_names))
        if (streq (enrolled->name, name))
            return true;
    return false;
}

int
en_enrolled_peer (en_enrolled_t *self, const char *name, const char *pinned_key,
                  char curve_key [41], unsigned char sign_key [32])
{
    for (en_enrollment_t *enrolled = (en_enrollment_t *) zhashx_first (self->key_names); enrolled;
         enrolled = (en_enrollment_t *) zhashx_next (self->key_names)) {
        const char *key = (const char *) zhashx_cursor (self->key_names);
        if (streq (enrolled->name, name) && enrolled->can_sign
        &&  (!pinned_key || streq (pinned_key, key))) {
            snprintf (curve_key, 41, "%s", key);
            memcpy (sign_key, enrolled->sign_key, 32);
            return 0;
        }
    }
    return -1;
}

json_t *
en_enrolled_list (en_enrolled_t *self)
{
    json_t *list = json_array ();
    for (en_enrollment_t *enrolled = (en_enrollment_t *) zhashx_first (self->key_names); enrolled;
         enrolled = (en_enrollment_t *) zhashx_next (self->key_names))
        json_array_append_new (list, json_pack ("{s:s, s:s, s:s}", "name", enrolled->name,
            "region", enrolled->region, "key", (const char *) zhashx_cursor (self->key_names)));
    return list;
}
