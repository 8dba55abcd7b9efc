/*  en_keys - CURVE key pairs on disk in CZMQ's zcert format.

    A key pair NAME lives in DIR as NAME.cert (public, safe to copy to the
    broker for enrollment) and NAME.cert_secret (mode 0600, never copied).
    The certificate's metadata holds "name", so an enrolled public cert
    tells the broker which node a key belongs to. */
#ifndef EN_KEYS_H_INCLUDED
#define EN_KEYS_H_INCLUDED

//  Create DIR/NAME.cert and DIR/NAME.cert_secret; refuses to overwrite an
//  existing pair. 0 or -1 with err.
int en_keys_generate (const char *dir, const char *name, char *err, size_t errlen);

//  Load the secret certificate DIR/NAME.cert_secret. NULL with err.
zcert_t *en_keys_load_secret (const char *dir, const char *name, char *err, size_t errlen);

//  Load a public certificate file (or a _secret one). NULL with err.
zcert_t *en_keys_load_public (const char *path, char *err, size_t errlen);

//  Apply CURVE server role to sock with this certificate.
void en_keys_server (zsock_t *sock, zcert_t *cert);

//  Apply CURVE client role: own certificate, server's public key (z85).
void en_keys_client (zsock_t *sock, zcert_t *cert, const char *server_key);

#endif
