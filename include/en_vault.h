/*  en_vault - the node's secrets: regional pseudonyms for clients and
    encryption at rest for the identifying data kept at the node.

    Two kinds of key live in the node's keys directory, each a file of 32
    random bytes, mode 0600, with its version in the name:

        DIR/region-secret.N   keys the pseudonyms (keyed BLAKE2b)
        DIR/data-key.N        encrypts identifying data (secretbox)

    The current key of a kind is the highest N; older versions stay on
    disk so old pseudonyms can still be matched and old data still read.
    No key byte ever leaves this class: no function returns one, nothing
    is logged but file names and versions. See docs/pseudonyms.md for how
    pseudonyms are made, normalized and rotated. */
#ifndef EN_VAULT_H_INCLUDED
#define EN_VAULT_H_INCLUDED

typedef struct _en_vault_t en_vault_t;

//  Longest client identifier after normalization, in bytes.
#define EN_VAULT_ID_MAX 255

//  Longest plaintext en_vault_seal accepts, in bytes.
#define EN_VAULT_SEAL_MAX (1024 * 1024)

//  Open the vault in dir (the node's keys directory; created 0700 if
//  missing). Loads every key file there. A kind with no key file yet gets
//  version 1, created mode 0600 (first start). Refuses, with a message in
//  error, a key file that group or others may read or write, that is not a
//  regular file, or that is not exactly 32 bytes. NULL on failure.
en_vault_t *en_vault_new (const char *dir, en_error_t *error);

//  Wipe all key material and free the vault; nulls the pointer. Safe to
//  call twice.
void en_vault_destroy (en_vault_t **self_p);

//  Pseudonym of a client identifier (BSN or local client number) under
//  the current region secret: "p<version>-" and 32 lowercase hex digits
//  (keyed BLAKE2b-128 of the normalized identifier). Normalization drops
//  every space, dot and dash (ASCII and their common Unicode look-alikes)
//  and lowercases ASCII letters, so "  123.456.782 " and "123456782" are
//  the same client. NULL if client_id is NULL, empty after normalization,
//  longer than EN_VAULT_ID_MAX, or holds a control character. Caller
//  frees.
char *en_vault_pseudonym (en_vault_t *self, const char *client_id);

//  The pseudonym under region secret version `version` ("p<version>-..."),
//  to match a client against cases made before a rotation. NULL if that
//  version is not in the vault, or as en_vault_pseudonym. Caller frees.
char *en_vault_pseudonym_version (en_vault_t *self, const char *client_id, int version);

//  Encrypt text for storage with the current data key:
//  "v<version>:" + base64 (standard alphabet, padded) of the 24-byte
//  nonce followed by crypto_secretbox_easy of the text, padded to a
//  multiple of 32 bytes so the length of a name does not show. Each call
//  draws a fresh nonce: the same text seals differently every time. NULL
//  if plaintext is NULL or longer than EN_VAULT_SEAL_MAX. Caller frees.
char *en_vault_seal (en_vault_t *self, const char *plaintext);

//  Decrypt what en_vault_seal made, under whichever data key version it
//  names. NULL if the text is malformed, tampered with, or sealed under a
//  version not in the vault. Caller frees (the result is identifying data:
//  keep it no longer than needed).
char *en_vault_unseal (en_vault_t *self, const char *sealed);

//  Create region secret version current+1 and make it current. Older
//  versions stay for en_vault_pseudonym_version. 0, or -1 with error.
int en_vault_rotate_secret (en_vault_t *self, en_error_t *error);

//  Create data key version current+1 and make it current: new seals use
//  it, older ones still unseal. 0, or -1 with error.
int en_vault_rotate_data_key (en_vault_t *self, en_error_t *error);

//  Version of the current region secret (>= 1).
int en_vault_secret_version (en_vault_t *self);

//  Version of the current data key (>= 1).
int en_vault_data_key_version (en_vault_t *self);

#endif
