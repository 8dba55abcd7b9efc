/*  en_keys - CURVE key pairs on disk (zcert format), and socket setup. */
#include "expertnet.h"
#include <errno.h>
#include <sys/stat.h>

int
en_keys_generate (const char *dir, const char *name, char *err, size_t errlen)
{
    if (!en_name_valid (name)) {
        snprintf (err, errlen, "'%s' is not a valid name (lowercase letters, digits, '-')", name);
        return -1;
    }
    if (en_mkdir_p (dir, 0700)) {
        snprintf (err, errlen, "cannot create %s: %s", dir, strerror (errno));
        return -1;
    }
    char path [PATH_MAX], secret [PATH_MAX];
    snprintf (path, sizeof path, "%s/%s.cert", dir, name);
    snprintf (secret, sizeof secret, "%s/%s.cert_secret", dir, name);
    if (zsys_file_exists (path) || zsys_file_exists (secret)) {
        snprintf (err, errlen, "%s already has a key pair for '%s'; refusing to overwrite it", dir, name);
        return -1;
    }
    zcert_t *cert = zcert_new ();
    zcert_set_meta (cert, "name", "%s", name);
    zcert_set_meta (cert, "created-by", "expertnet %s", EXPERTNET_VERSION);
    //  Create the secret file 0600 before zcert writes into it
    mode_t old = umask (0077);
    int rc = zcert_save (cert, path);
    umask (old);
    zcert_destroy (&cert);
    if (rc) {
        snprintf (err, errlen, "cannot write %s: %s", path, strerror (errno));
        return -1;
    }
    chmod (path, 0644);
    chmod (secret, 0600);
    return 0;
}

zcert_t *
en_keys_load_secret (const char *dir, const char *name, char *err, size_t errlen)
{
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/%s.cert_secret", dir, name);
    zcert_t *cert = zsys_file_exists (path) ? zcert_load (path) : NULL;
    if (!cert)
        snprintf (err, errlen, "no key pair at %s (create one with 'expertnet keygen --name %s --dir %s')",
                  path, name, dir);
    return cert;
}

zcert_t *
en_keys_load_public (const char *path, char *err, size_t errlen)
{
    zcert_t *cert = zsys_file_exists (path) ? zcert_load (path) : NULL;
    if (!cert)
        snprintf (err, errlen, "cannot read certificate %s", path);
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
