/*  en_keys - a party's keys on disk: a CURVE key pair (transport) in
    CZMQ's zcert format and an Ed25519 key pair (message signatures).

    In DIR: NAME.cert (public, safe to copy to the broker for enrollment),
    NAME.cert_secret (CURVE secret, mode 0600) and NAME.sign_secret
    (Ed25519 secret, mode 0600). The certificate's metadata holds "name"
    and "sign-key" (the Ed25519 public key in hex), so one enrolled public
    cert tells the broker which node a CURVE key is and how to verify its
    signatures. */
#ifndef EN_KEYS_H_INCLUDED
#define EN_KEYS_H_INCLUDED

//  Create DIR/NAME.cert, DIR/NAME.cert_secret and DIR/NAME.sign_secret;
//  refuses to overwrite existing keys. 0 or -1 with error.
int en_keys_generate (const char *dir, const char *name, en_error_t *error);

//  Load the secret certificate DIR/NAME.cert_secret. NULL with error.
zcert_t *en_keys_load_secret (const char *dir, const char *name, en_error_t *error);

//  Load a public certificate file (or a _secret one). NULL with error.
zcert_t *en_keys_load_public (const char *path, en_error_t *error);

//  The Ed25519 public key in a certificate's "sign-key" metadata. 0, or
//  -1 if absent or malformed.
int en_keys_sign_key (zcert_t *cert, unsigned char public_key [32]);

//  A signing key (Ed25519 secret key in locked memory).
en_signer_t *en_signer_load (const char *dir, const char *name, en_error_t *error);
void en_signer_destroy (en_signer_t **self_p);
//  Detached signature of data into signature (64 bytes).
void en_signer_sign (en_signer_t *self, const byte *data, size_t size, byte signature [64]);
//  The matching public key (32 bytes, borrowed).
const unsigned char *en_signer_public (en_signer_t *self);

//  Apply CURVE server role to sock with this certificate.
void en_keys_server (zsock_t *sock, zcert_t *cert);

//  Apply CURVE client role: own certificate, server's public key (z85).
void en_keys_client (zsock_t *sock, zcert_t *cert, const char *server_key);

//  A DEALER connected to endpoint as CURVE client of server_key, as the
//  node and the federation links use it: no linger, no queue for absent
//  connections (ZMQ_IMMEDIATE), non-blocking sends, EN_MAX_WIRE, TCP
//  reconnects from 100 ms up to reconnect_max_ms.
zsock_t *en_keys_dealer (zcert_t *cert, const char *server_key, const char *endpoint, int reconnect_max_ms);

#endif
