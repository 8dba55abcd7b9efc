/*  en_vault - region secret, pseudonyms, and encryption at rest.

    A node knows who a child is; the network must not. The vault is where
    that line is drawn. It holds two kinds of key, each a list of versions:

    * The region secret keys a BLAKE2b hash of the client identifier
      (crypto_generichash, 16-byte output). The same child always gets the
      same pseudonym in its region; without the secret nobody can compute
      it, so pseudonyms of two regions cannot be linked, and a BSN cannot
      be found by hashing all 10^9 candidates (which an unkeyed hash would
      allow in seconds). The secret is the whole protection: it is never
      transmitted, never logged, and no function returns it.
    * The data key seals identifying data for the node's store
      (crypto_secretbox_easy, random nonce per seal). Plaintext is padded
      (sodium_pad, 32-byte blocks) so a sealed name does not reveal its
      length to whoever copies the database.

    Versions make rotation possible without losing the past: the current
    key is the highest version; older ones are kept to match old
    pseudonyms (p1-... vs p2-...) and to open old sealed data (v1:...).

    Key files are 32 raw bytes, named KIND.N, mode 0600. They are written
    to a temporary name with O_CREAT|O_EXCL, fchmod'ed (umask can't widen
    or narrow them), fsync'ed, then hard-linked to their final name: link
    fails rather than overwrites, so two processes opening a fresh
    directory at once can never replace a secret the other already uses;
    the loser loads the winner's file. A key file group or others can
    read or write is refused, not repaired: someone made it so, and the
    operator should know.

    In memory each key sits in its own sodium_malloc region (guard pages,
    mlock'ed, wiped by sodium_free) that is PROT_NONE except during the
    one libsodium call that uses it. That makes the vault single-threaded,
    as every CZMQ class is: one owner, no sharing.
*/
#include "expertnet.h"
#include "en_vault.h"
#include <sodium.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_BYTES       32          //  both kinds of key
#define HASH_BYTES      16          //  pseudonym: BLAKE2b-128
#define PAD_BLOCK       32          //  sealed plaintext padded to this
#define VERSION_MAX     999999999   //  at most 9 digits in a file name

_Static_assert (KEY_BYTES == crypto_generichash_KEYBYTES, "region secret is a BLAKE2b key");
_Static_assert (KEY_BYTES == crypto_secretbox_KEYBYTES, "data key is a secretbox key");
_Static_assert (HASH_BYTES >= crypto_generichash_BYTES_MIN, "BLAKE2b output length");

//  One version of one kind of key.
typedef struct {
    int version;                //  from the file name, >= 1
    unsigned char *bytes;       //  KEY_BYTES, sodium_malloc'ed, PROT_NONE at rest
} s_key_t;

//  All versions of one kind of key.
typedef struct {
    const char *stem;           //  file name before ".N"
    const char *label;          //  what to call it in messages
    s_key_t *keys;              //  ascending by version
    size_t count;               //  entries in keys
} s_keyring_t;

struct _en_vault_t {
    char *dir;                  //  keys directory
    s_keyring_t secrets;        //  region secrets (pseudonyms)
    s_keyring_t data_keys;      //  data keys (seal/unseal)
};

//  Parse 1..9 decimal digits without a leading zero at s, ending at `end`
//  (a character that must follow). Returns the version, or -1.
static int
s_parse_version (const char *s, char end, const char **rest)
{
    if (*s < '1' || *s > '9')
        return -1;
    int version = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9') {
        if (++digits > 9)
            return -1;
        version = version * 10 + (*s++ - '0');
    }
    if (*s != end)
        return -1;
    if (rest)
        *rest = s;
    return version;
}

//  ---------------------------------------------------------------------
//  Keyrings

static s_key_t *
s_keyring_find (s_keyring_t *ring, int version)
{
    for (size_t i = 0; i < ring->count; i++)
        if (ring->keys [i].version == version)
            return &ring->keys [i];
    return NULL;
}

static s_key_t *
s_keyring_current (s_keyring_t *ring)
{
    assert (ring->count > 0);
    return &ring->keys [ring->count - 1];
}

//  Take ownership of bytes (sodium_malloc'ed) as version `version`; keeps
//  the ring sorted. The bytes are locked away from here on.
static void
s_keyring_add (s_keyring_t *ring, int version, unsigned char *bytes)
{
    assert (!s_keyring_find (ring, version));
    s_key_t *keys = (s_key_t *) realloc (ring->keys, (ring->count + 1) * sizeof (s_key_t));
    assert (keys);
    ring->keys = keys;
    size_t at = ring->count;
    while (at > 0 && keys [at - 1].version > version) {
        keys [at] = keys [at - 1];
        at--;
    }
    keys [at].version = version;
    keys [at].bytes = bytes;
    ring->count++;
    sodium_mprotect_noaccess (bytes);
}

static void
s_keyring_destroy (s_keyring_t *ring)
{
    //  sodium_free makes the region writable, wipes it, and unmaps it
    for (size_t i = 0; i < ring->count; i++)
        sodium_free (ring->keys [i].bytes);
    free (ring->keys);
    ring->keys = NULL;
    ring->count = 0;
}

//  Key bytes are readable only between these two calls.
static const unsigned char *
s_key_open (s_key_t *key)
{
    sodium_mprotect_readonly (key->bytes);
    return key->bytes;
}

static void
s_key_close (s_key_t *key)
{
    sodium_mprotect_noaccess (key->bytes);
}

//  ---------------------------------------------------------------------
//  Key files

//  Read one key file into a new sodium_malloc region. NULL with error.
static unsigned char *
s_key_file_read (const char *path, en_error_t *error)
{
    int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        en_error_set (error, EN_ERR_INTERNAL, "cannot open key file %s: %s", path, strerror (errno));
        return NULL;
    }
    struct stat st;
    if (fstat (fd, &st)) {
        en_error_set (error, EN_ERR_INTERNAL, "cannot stat key file %s: %s", path, strerror (errno));
        close (fd);
        return NULL;
    }
    if (!S_ISREG (st.st_mode)) {
        en_error_set (error, EN_ERR_INVALID, "key file %s is not a regular file", path);
        close (fd);
        return NULL;
    }
    if (st.st_mode & 077) {
        en_error_set (error, EN_ERR_FORBIDDEN, "key file %s has mode %04o: group and others must have no access "
                      "(refusing to use it; check who could have read it, then 'chmod 600 %s')",
                      path, (unsigned) (st.st_mode & 07777), path);
        close (fd);
        return NULL;
    }
    if (st.st_size != KEY_BYTES) {
        en_error_set (error, EN_ERR_INVALID, "key file %s has %lld bytes, expected %d (damaged? restore it from backup)",
                      path, (long long) st.st_size, KEY_BYTES);
        close (fd);
        return NULL;
    }
    unsigned char *bytes = (unsigned char *) sodium_malloc (KEY_BYTES);
    if (!bytes) {
        en_error_set (error, EN_ERR_INTERNAL, "cannot allocate secure memory for %s", path);
        close (fd);
        return NULL;
    }
    size_t got = 0;
    while (got < KEY_BYTES) {
        ssize_t rc = read (fd, bytes + got, KEY_BYTES - got);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0) {
            en_error_set (error, EN_ERR_INTERNAL, "cannot read key file %s: %s", path, rc ? strerror (errno) : "short file");
            sodium_free (bytes);
            close (fd);
            return NULL;
        }
        got += (size_t) rc;
    }
    close (fd);
    return bytes;
}

static void
s_fsync_dir (const char *dir)
{
    int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync (fd);
        close (fd);
    }
}

//  Write bytes as a new key file at path, never replacing one. 0, or -1
//  with error: EN_ERR_CONFLICT if path already exists (someone else made
//  that version).
static int
s_key_file_write (const char *dir, const char *path, const unsigned char *bytes,
                  en_error_t *error)
{
    char suffix [9];
    en_random_hex (suffix, 8);
    char tmp [PATH_MAX];
    if (snprintf (tmp, sizeof tmp, "%s.%s.tmp", path, suffix) >= (int) sizeof tmp)
        return en_error_set (error, EN_ERR_INTERNAL, "key directory path too long: %s", dir);

    int fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return en_error_set (error, EN_ERR_INTERNAL, "cannot create %s: %s", tmp, strerror (errno));
    int rc = fchmod (fd, 0600);
    size_t done = 0;
    while (rc == 0 && done < KEY_BYTES) {
        ssize_t n = write (fd, bytes + done, KEY_BYTES - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = -1;
        else
            done += (size_t) n;
    }
    if (rc == 0)
        rc = fsync (fd);
    int saved = errno;
    if (close (fd) && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc) {
        unlink (tmp);
        return en_error_set (error, EN_ERR_INTERNAL, "cannot write %s: %s", tmp, strerror (saved));
    }
    rc = link (tmp, path);
    saved = errno;
    unlink (tmp);
    if (rc) {
        if (saved == EEXIST)
            return en_error_set (error, EN_ERR_CONFLICT, "%s already exists", path);
        return en_error_set (error, EN_ERR_INTERNAL, "cannot create %s: %s", path, strerror (saved));
    }
    s_fsync_dir (dir);
    return 0;
}

//  Load every version of ring's kind from the vault's directory.
static int
s_keyring_load (en_vault_t *self, s_keyring_t *ring, en_error_t *error)
{
    DIR *handle = opendir (self->dir);
    if (!handle)
        return en_error_set (error, EN_ERR_INTERNAL, "cannot read key directory %s: %s", self->dir, strerror (errno));
    size_t stem_len = strlen (ring->stem);
    int rc = 0;
    struct dirent *entry;
    while (rc == 0 && (entry = readdir (handle))) {
        const char *name = entry->d_name;
        if (strncmp (name, ring->stem, stem_len) || name [stem_len] != '.')
            continue;
        int version = s_parse_version (name + stem_len + 1, 0, NULL);
        if (version < 0 || s_keyring_find (ring, version))
            continue;           //  not a key file (temp file, backup copy)
        char path [PATH_MAX];
        snprintf (path, sizeof path, "%s/%s", self->dir, name);
        unsigned char *bytes = s_key_file_read (path, error);
        if (bytes)
            s_keyring_add (ring, version, bytes);
        else
            rc = -1;
    }
    closedir (handle);
    return rc;
}

//  Create version `version` of ring's kind: fresh random bytes, on disk
//  first, then in the ring. 0, or -1 with error (EN_ERR_CONFLICT: the
//  file exists).
static int
s_keyring_create (en_vault_t *self, s_keyring_t *ring, int version, en_error_t *error)
{
    char path [PATH_MAX];
    if (snprintf (path, sizeof path, "%s/%s.%d", self->dir, ring->stem, version) >= (int) sizeof path)
        return en_error_set (error, EN_ERR_INTERNAL, "key directory path too long: %s", self->dir);
    unsigned char *bytes = (unsigned char *) sodium_malloc (KEY_BYTES);
    if (!bytes)
        return en_error_set (error, EN_ERR_INTERNAL, "cannot allocate secure memory for a new %s", ring->label);
    randombytes_buf (bytes, KEY_BYTES);
    if (s_key_file_write (self->dir, path, bytes, error)) {
        sodium_free (bytes);
        return -1;
    }
    s_keyring_add (ring, version, bytes);
    zsys_notice ("vault: created %s version %d at %s (back it up)", ring->label, version, path);
    return 0;
}

//  Load a kind; on first start, create its version 1. Another process
//  may create it at the same moment: then use theirs.
static int
s_keyring_open (en_vault_t *self, s_keyring_t *ring, en_error_t *error)
{
    if (s_keyring_load (self, ring, error))
        return -1;
    if (ring->count > 0)
        return 0;
    en_error_t created = { 0 };
    int rc = s_keyring_create (self, ring, 1, &created);
    if (rc && created.code == EN_ERR_CONFLICT)
        rc = s_keyring_load (self, ring, error);
    else
    if (rc && error)
        *error = created;
    if (rc == 0 && ring->count == 0)
        rc = en_error_set (error, EN_ERR_INTERNAL, "%s version 1 in %s vanished while being created", ring->label, self->dir);
    return rc;
}

static int
s_keyring_rotate (en_vault_t *self, s_keyring_t *ring, en_error_t *error)
{
    int version = s_keyring_current (ring)->version;
    if (version >= VERSION_MAX)
        return en_error_set (error, EN_ERR_CONFLICT, "%s version %d is the last one possible", ring->label, version);
    en_error_t created = { 0 };
    if (s_keyring_create (self, ring, version + 1, &created) == 0)
        return 0;
    if (created.code == EN_ERR_CONFLICT)
        return en_error_set (error, EN_ERR_CONFLICT, "%s version %d already exists in %s (rotated by "
                             "another process? restart to load it)", ring->label, version + 1, self->dir);
    if (error)
        *error = created;
    return -1;
}

//  ---------------------------------------------------------------------
//  Vault

en_vault_t *
en_vault_new (const char *dir, en_error_t *error)
{
    if (!dir || !*dir) {
        en_error_set (error, EN_ERR_INVALID, "no key directory given");
        return NULL;
    }
    if (sodium_init () < 0) {
        en_error_set (error, EN_ERR_INTERNAL, "libsodium failed to initialize");
        return NULL;
    }
    if (en_mkdir_p (dir, 0700)) {
        en_error_set (error, EN_ERR_INTERNAL, "cannot create key directory %s: %s", dir, strerror (errno));
        return NULL;
    }
    en_vault_t *self = (en_vault_t *) zmalloc (sizeof (en_vault_t));
    assert (self);
    self->dir = strdup (dir);
    assert (self->dir);
    self->secrets.stem = "region-secret";
    self->secrets.label = "region secret";
    self->data_keys.stem = "data-key";
    self->data_keys.label = "data key";
    if (s_keyring_open (self, &self->secrets, error)
    ||  s_keyring_open (self, &self->data_keys, error))
        en_vault_destroy (&self);
    return self;
}

void
en_vault_destroy (en_vault_t **self_p)
{
    assert (self_p);
    en_vault_t *self = *self_p;
    if (self) {
        s_keyring_destroy (&self->secrets);
        s_keyring_destroy (&self->data_keys);
        free (self->dir);
        free (self);
        *self_p = NULL;
    }
}

//  ---------------------------------------------------------------------
//  Pseudonyms

//  Length of a separator at s (one the normalization drops), or 0:
//  ASCII whitespace, '.', '-', and what copy-paste from documents brings
//  in their place: no-break, thin and zero-width spaces (U+00A0,
//  U+2000..U+200B, U+202F, U+FEFF), hyphens and dashes (U+2010..U+2015),
//  minus (U+2212). s is NUL-terminated, so each test stops at the end.
static size_t
s_separator (const unsigned char *s)
{
    if (s [0] && strchr (" \t\n\v\f\r.-", s [0]))
        return 1;
    if (s [0] == 0xC2 && s [1] == 0xA0)
        return 2;
    if (s [0] == 0xE2 && s [1] == 0x80
    && ((s [2] >= 0x80 && s [2] <= 0x8B) || (s [2] >= 0x90 && s [2] <= 0x95) || s [2] == 0xAF))
        return 3;
    if (s [0] == 0xE2 && s [1] == 0x88 && s [2] == 0x92)
        return 3;
    if (s [0] == 0xEF && s [1] == 0xBB && s [2] == 0xBF)
        return 3;
    return 0;
}

//  Normalize client_id into out (EN_VAULT_ID_MAX + 1 bytes): drop
//  separators, lowercase ASCII letters, keep every other byte as is.
//  Returns the length, or 0 if nothing is left or the id is refused.
static size_t
s_normalize (const char *client_id, char *out)
{
    if (!client_id)
        return 0;
    const unsigned char *s = (const unsigned char *) client_id;
    size_t len = 0;
    while (*s) {
        size_t skip = s_separator (s);
        if (skip) {
            s += skip;
            continue;
        }
        unsigned char c = *s++;
        if (c < 0x20 || c == 0x7F || len == EN_VAULT_ID_MAX)
            return 0;
        out [len++] = (char) ((c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c);
    }
    out [len] = 0;
    return len;
}

char *
en_vault_pseudonym_version (en_vault_t *self, const char *client_id, int version)
{
    assert (self);
    s_key_t *key = s_keyring_find (&self->secrets, version);
    if (!key)
        return NULL;
    //  The normalized id is a BSN more often than not: wipe it after use
    char normal [EN_VAULT_ID_MAX + 1];
    size_t len = s_normalize (client_id, normal);
    if (len == 0) {
        sodium_memzero (normal, sizeof normal);
        return NULL;
    }
    unsigned char hash [HASH_BYTES];
    crypto_generichash (hash, sizeof hash, (const unsigned char *) normal, len,
                        s_key_open (key), KEY_BYTES);
    s_key_close (key);
    sodium_memzero (normal, sizeof normal);

    char hex [HASH_BYTES * 2 + 1];
    sodium_bin2hex (hex, sizeof hex, hash, sizeof hash);
    size_t size = 1 + 10 + 1 + sizeof hex;      //  "p" version "-" hex NUL
    char *pseudonym = (char *) malloc (size);
    assert (pseudonym);
    snprintf (pseudonym, size, "p%d-%s", version, hex);
    return pseudonym;
}

char *
en_vault_pseudonym (en_vault_t *self, const char *client_id)
{
    assert (self);
    return en_vault_pseudonym_version (self, client_id, s_keyring_current (&self->secrets)->version);
}

//  ---------------------------------------------------------------------
//  Encryption at rest

char *
en_vault_seal (en_vault_t *self, const char *plaintext)
{
    assert (self);
    if (!plaintext)
        return NULL;
    size_t text_len = strlen (plaintext);
    if (text_len > EN_VAULT_SEAL_MAX)
        return NULL;
    s_key_t *key = s_keyring_current (&self->data_keys);

    //  box = nonce || MAC || ciphertext of the padded text
    size_t padded_max = (text_len / PAD_BLOCK + 1) * PAD_BLOCK;
    unsigned char *padded = (unsigned char *) malloc (padded_max);
    unsigned char *box = (unsigned char *) malloc (crypto_secretbox_NONCEBYTES
                                                  + crypto_secretbox_MACBYTES + padded_max);
    assert (padded && box);
    memcpy (padded, plaintext, text_len);
    size_t padded_len;
    int rc = sodium_pad (&padded_len, padded, text_len, PAD_BLOCK, padded_max);
    assert (rc == 0 && padded_len == padded_max);
    randombytes_buf (box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy (box + crypto_secretbox_NONCEBYTES, padded, padded_len, box,
                           s_key_open (key));
    s_key_close (key);
    sodium_memzero (padded, padded_max);
    free (padded);

    size_t box_len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + padded_len;
    size_t b64_size = sodium_base64_encoded_len (box_len, sodium_base64_VARIANT_ORIGINAL);
    size_t size = 1 + 10 + 1 + b64_size;        //  "v" version ":" base64 NUL
    char *sealed = (char *) malloc (size);
    assert (sealed);
    int prefix = snprintf (sealed, size, "v%d:", key->version);
    sodium_bin2base64 (sealed + prefix, size - prefix, box, box_len, sodium_base64_VARIANT_ORIGINAL);
    free (box);
    return sealed;
}

char *
en_vault_unseal (en_vault_t *self, const char *sealed)
{
    assert (self);
    if (!sealed || sealed [0] != 'v')
        return NULL;
    const char *b64;
    int version = s_parse_version (sealed + 1, ':', &b64);
    s_key_t *key = version > 0 ? s_keyring_find (&self->data_keys, version) : NULL;
    if (!key)
        return NULL;
    b64++;
    size_t b64_len = strlen (b64);
    if (b64_len > sodium_base64_encoded_len (crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES
                                             + EN_VAULT_SEAL_MAX + PAD_BLOCK,
                                             sodium_base64_VARIANT_ORIGINAL))
        return NULL;
    size_t box_max = b64_len / 4 * 3 + 3;
    unsigned char *box = (unsigned char *) malloc (box_max);
    assert (box);
    size_t box_len;
    //  Strict: the standard alphabet, padding, nothing ignored, nothing left over
    if (sodium_base642bin (box, box_max, b64, b64_len, NULL, &box_len, NULL,
                           sodium_base64_VARIANT_ORIGINAL)
    ||  box_len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + PAD_BLOCK
    ||  (box_len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES) % PAD_BLOCK) {
        free (box);
        return NULL;
    }
    size_t padded_len = box_len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    unsigned char *text = (unsigned char *) malloc (padded_len + 1);
    assert (text);
    int rc = crypto_secretbox_open_easy (text, box + crypto_secretbox_NONCEBYTES,
                                         box_len - crypto_secretbox_NONCEBYTES, box,
                                         s_key_open (key));
    s_key_close (key);
    free (box);
    size_t text_len = 0;
    if (rc == 0)
        rc = sodium_unpad (&text_len, text, padded_len, PAD_BLOCK);
    if (rc == 0 && memchr (text, 0, text_len))
        rc = -1;                //  en_vault_seal never seals a NUL
    if (rc) {
        sodium_memzero (text, padded_len + 1);
        free (text);
        return NULL;
    }
    //  Wipe the padding; the caller owns and wipes the text itself
    sodium_memzero (text + text_len, padded_len + 1 - text_len);
    return (char *) text;
}

//  ---------------------------------------------------------------------
//  Rotation and versions

int
en_vault_rotate_secret (en_vault_t *self, en_error_t *error)
{
    assert (self);
    return s_keyring_rotate (self, &self->secrets, error);
}

int
en_vault_rotate_data_key (en_vault_t *self, en_error_t *error)
{
    assert (self);
    return s_keyring_rotate (self, &self->data_keys, error);
}

int
en_vault_secret_version (en_vault_t *self)
{
    assert (self);
    return s_keyring_current (&self->secrets)->version;
}

int
en_vault_data_key_version (en_vault_t *self)
{
    assert (self);
    return s_keyring_current (&self->data_keys)->version;
}
