/*  en_keys - keys on disk (CURVE in zcert format, Ed25519 for
    signatures), and socket setup.

    Secret files are created with O_EXCL and mode 0600 so no other user
    can read them even for an instant, and are never overwritten: a key
    rotation makes a new pair (docs/operations.md). */
#include "expertnet.h"
#include <sodium.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

struct _en_signer_t {
    unsigned char *secret;      //  Ed25519 secret key, 64 bytes, sodium_malloc'd
    unsigned char public_key [32];
};

//  Write data to a new file of mode 0600 (never an existing one).
static int
s_write_secret (const char *path, const char *data)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -1;
    size_t size = strlen (data);
    int rc = fchmod (fd, 0600) == 0 && write (fd, data, size) == (ssize_t) size && fsync (fd) == 0 ? 0 : -1;
    close (fd);
    return rc;
}

int
en_keys_generate (const char *dir, const char *name, en_error_t *error)
{
    if (!en_name_valid (name)) {
        en_error_set (error, EN_ERR_INVALID, "'%s' is not a valid name (lowercase letters, digits, '-')", name);
        return -1;
    }
    if (en_mkdir_p (dir, 0700)) {
        en_error_set (error, EN_ERR_INTERNAL, "cannot create %s: %s", dir, strerror (errno));
        return -1;
    }
    char path [PATH_MAX], secret [PATH_MAX], sign [PATH_MAX];
    snprintf (path, sizeof path, "%s/%s.cert", dir, name);
    snprintf (secret, sizeof secret, "%s/%s.cert_secret", dir, name);
    snprintf (sign, sizeof sign, "%s/%s.sign_secret", dir, name);
    if (zsys_file_exists (path) || zsys_file_exists (secret) || zsys_file_exists (sign)) {
        en_error_set (error, EN_ERR_CONFLICT, "%s already has keys for '%s'; refusing to overwrite them", dir, name);
        return -1;
    }
    //  Ed25519 key pair for signatures; the secret goes to its own file
    unsigned char sign_public [crypto_sign_PUBLICKEYBYTES];
    unsigned char *sign_secret = (unsigned char *) sodium_malloc (crypto_sign_SECRETKEYBYTES);
    char *sign_hex = (char *) sodium_malloc (crypto_sign_SECRETKEYBYTES * 2 + 2);
    crypto_sign_keypair (sign_public, sign_secret);
    sodium_bin2hex (sign_hex, crypto_sign_SECRETKEYBYTES * 2 + 1, sign_secret, crypto_sign_SECRETKEYBYTES);
    strcat (sign_hex, "\n");
    int written = s_write_secret (sign, sign_hex);
    sodium_free (sign_hex);
    sodium_free (sign_secret);
    if (written) {
        en_error_set (error, EN_ERR_INTERNAL, "cannot write %s: %s", sign, strerror (errno));
        return -1;
    }
    char public_hex [crypto_sign_PUBLICKEYBYTES * 2 + 1];
    sodium_bin2hex (public_hex, sizeof public_hex, sign_public, sizeof sign_public);

    zcert_t *cert = zcert_new ();
    zcert_set_meta (cert, "name", "%s", name);
    zcert_set_meta (cert, "sign-key", "%s", public_hex);
    zcert_set_meta (cert, "created-by", "expertnet %s", EXPERTNET_VERSION);
    //  Create the secret file 0600 before zcert writes into it
    mode_t old = umask (0077);
    int rc = zcert_save (cert, path);
    umask (old);
    zcert_destroy (&cert);
    if (rc) {
        en_error_set (error, EN_ERR_INTERNAL, "cannot write %s: %s", path, strerror (errno));
        return -1;
    }
    chmod (path, 0644);
    chmod (secret, 0600);
    return 0;
}

zcert_t *
en_keys_load_secret (const char *dir, const char *name, en_error_t *error)
{
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/%s.cert_secret", dir, name);
    zcert_t *cert = zsys_file_exists (path) ? zcert_load (path) : NULL;
    if (!cert)
        en_error_set (error, EN_ERR_NOT_FOUND, "no key pair at %s (create one with 'expertnet keygen --name %s --dir %s')",
                      path, name, dir);
    return cert;
}

zcert_t *
en_keys_load_public (const char *path, en_error_t *error)
{
    //  Not zcert_load: it reads PATH_secret instead when that exists (so
    //  a stray secret file beside a certificate would decide its key), and
    //  takes a public-key it cannot decode as all zeros.
    zconfig_t *root = zsys_file_exists (path) ? en_zpl_load (path) : NULL;
    const char *text = root ? zconfig_get (root, "/curve/public-key", NULL) : NULL;
    unsigned char public_key [32];
    zcert_t *cert = NULL;
    if (text && strlen (text) == 40 && zmq_z85_decode (public_key, text)
    &&  !sodium_is_zero (public_key, sizeof public_key)) {
        cert = zcert_new_from (public_key, (unsigned char [32]) { 0 });
        zconfig_t *metadata = zconfig_locate (root, "/metadata");
        for (zconfig_t *item = metadata ? zconfig_child (metadata) : NULL; item; item = zconfig_next (item))
            zcert_set_meta (cert, zconfig_name (item), "%s", zconfig_value (item) ?: "");
    }
    zconfig_destroy (&root);
    if (!cert)
        en_error_set (error, EN_ERR_NOT_FOUND, "cannot read certificate %s", path);
    return cert;
}

void
en_keys_server (zsock_t *sock, zcert_t *cert)
{
    zcert_apply (cert, sock);
    zsock_set_curve_server (sock, 1);
}

void
en_keys_client (zsock_t *sock, zcert_t *cert, const char *server_key)
{
    zcert_apply (cert, sock);
    zsock_set_curve_serverkey (sock, server_key);
}

zsock_t *
en_keys_dealer (zcert_t *cert, const char *server_key, const char *endpoint, int reconnect_max_ms)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    assert (sock);
    en_keys_client (sock, cert, server_key);
    zsock_set_linger (sock, 0);
    //  No queue for a connection that does not exist: the caller's
    //  durable outbox is the only queue
    zsock_set_immediate (sock, 1);
    zsock_set_sndtimeo (sock, 0);
    zsock_set_sndhwm (sock, 100000);
    zsock_set_maxmsgsize (sock, EN_MAX_WIRE);
    zsock_set_reconnect_ivl (sock, 100);
    zsock_set_reconnect_ivl_max (sock, reconnect_max_ms);
    zsock_connect (sock, "%s", endpoint);
    return sock;
}

int
en_keys_sign_key (zcert_t *cert, unsigned char public_key [32])
{
    const char *hex = cert ? zcert_meta (cert, "sign-key") : NULL;
    size_t size = 0;
    if (!hex || strlen (hex) != 64
    ||  sodium_hex2bin (public_key, 32, hex, 64, NULL, &size, NULL) || size != 32)
        return -1;
    return 0;
}

en_signer_t *
en_signer_load (const char *dir, const char *name, en_error_t *error)
{
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/%s.sign_secret", dir, name);
    struct stat info;
    if (stat (path, &info)) {
        en_error_set (error, EN_ERR_NOT_FOUND, "no signing key at %s (keys made before signatures existed: "
                      "make new ones with 'expertnet keygen' and enroll them)", path);
        return NULL;
    }
    if (info.st_mode & 077) {
        en_error_set (error, EN_ERR_FORBIDDEN, "%s is readable by others (mode %o); refusing to use it (chmod 600)",
                      path, info.st_mode & 0777);
        return NULL;
    }
    char *hex = en_file_read (path, 256);
    en_signer_t *self = (en_signer_t *) zmalloc (sizeof (en_signer_t));
    self->secret = (unsigned char *) sodium_malloc (crypto_sign_SECRETKEYBYTES);
    size_t size = 0;
    int rc = hex ? sodium_hex2bin (self->secret, crypto_sign_SECRETKEYBYTES, hex, strlen (hex),
                                   " \n", &size, NULL) : -1;
    if (hex) {
        sodium_memzero (hex, strlen (hex));
        free (hex);
    }
    if (rc || size != crypto_sign_SECRETKEYBYTES) {
        en_error_set (error, EN_ERR_INVALID, "%s is not an Ed25519 secret key", path);
        en_signer_destroy (&self);
        return NULL;
    }
    crypto_sign_ed25519_sk_to_pk (self->public_key, self->secret);
    return self;
}

void
en_signer_destroy (en_signer_t **self_p)
{
    assert (self_p);
    en_signer_t *self = *self_p;
    if (self) {
        sodium_free (self->secret);         //  zeroes it
        free (self);
        *self_p = NULL;
    }
}

void
en_signer_sign (en_signer_t *self, const byte *data, size_t size, byte signature [64])
{
    crypto_sign_detached (signature, NULL, data, size, self->secret);
}

const unsigned char *
en_signer_public (en_signer_t *self)
{
    return self->public_key;
}
