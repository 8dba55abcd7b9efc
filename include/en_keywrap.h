/*  en_keywrap - a 32-byte secret key wrapped with a password, so that
    only the person who knows the password can unwrap it.

    An expert's crypto_box secret key (the key their dossiers are sealed
    to) is kept at the node only in wrapped form: once under a key
    derived from the expert's password and once under a key derived from
    a recovery code shown to the expert once. The node stores both
    wraps; it cannot open either. The caller that holds the password (the
    `expertnet` command, the portal's login) unwraps the key and opens
    the dossier itself.

    A wrap is Argon2id (crypto_pwhash) of the password with a random
    salt, giving a crypto_secretbox key; the secret key is sealed with
    crypto_secretbox_easy under a random nonce. The wrap carries its own
    Argon2id limits, so stronger limits can be chosen later without
    breaking the wraps made before. As JSON:

        {"salt": b64, "nonce": b64, "box": b64,
         "opslimit": N, "memlimit": N}

    (base64 standard alphabet, padded). Every derived key and unwrapped
    secret is wiped (sodium_memzero) before its memory is given back. */
#ifndef EN_KEYWRAP_H_INCLUDED
#define EN_KEYWRAP_H_INCLUDED

typedef struct _en_keywrap_t en_keywrap_t;

//  Length of the key a wrap holds (crypto_box_SECRETKEYBYTES).
#define EN_KEYWRAP_KEYBYTES 32

//  Length of a recovery code as shown: 24 base32 characters in six
//  groups of four, joined by '-' (120 random bits).
#define EN_KEYWRAP_RECOVERY_LEN 29

//  Passwords shorter than this are refused by en_keywrap_new.
#define EN_KEYWRAP_PASSWORD_MIN 10

//  Argon2id limits by name: "interactive" (libsodium's INTERACTIVE,
//  64 MiB, about 0.1 s) or "moderate" (256 MiB, about 0.7 s). 0, or -1
//  for an unknown name.
int en_keywrap_limits (const char *name, unsigned long long *opslimit, size_t *memlimit);

//  Wrap key (EN_KEYWRAP_KEYBYTES) under a key derived from secret (a
//  password, or a recovery code in the canonical form that
//  en_keywrap_recovery_normalize gives) with the given Argon2id limits.
//  NULL if
//  secret is NULL or shorter than EN_KEYWRAP_PASSWORD_MIN bytes, the
//  limits are out of libsodium's range, or memory ran out.
en_keywrap_t *en_keywrap_new (const unsigned char *key, const char *secret,
                              unsigned long long opslimit, size_t memlimit);

//  Free the wrap; nulls the pointer; safe to call twice.
void en_keywrap_destroy (en_keywrap_t **self_p);

//  Unwrap into key (EN_KEYWRAP_KEYBYTES, caller's buffer; sodium_malloc
//  it if it lives long). 0, or -1 for a wrong secret or a tampered wrap
//  (key is then zeroed).
int en_keywrap_open (en_keywrap_t *self, const char *secret, unsigned char *key);

//  The wrap as JSON (above). Caller owns.
json_t *en_keywrap_json (en_keywrap_t *self);

//  Read a wrap from JSON. NULL with error for a missing or malformed field,
//  or limits outside libsodium's range (a stored wrap cannot make the
//  opener spend more than crypto_pwhash's SENSITIVE limits).
en_keywrap_t *en_keywrap_from_json (json_t *json, en_error_t *error);

//  The wrap's Argon2id limits.
unsigned long long en_keywrap_opslimit (en_keywrap_t *self);
size_t en_keywrap_memlimit (en_keywrap_t *self);

//  Convenience: unwrap a wrap given as JSON. 0 or -1 (as open).
int en_keywrap_open_json (json_t *json, const char *secret, unsigned char *key);

//  A new recovery code: 24 random base32 characters (RFC 4648 alphabet)
//  in groups of four, "ABCD-EFGH-...". Shown once; caller wipes and frees.
char *en_keywrap_recovery_new (void);

//  A recovery code as typed (any case, spaces or dashes anywhere) in its
//  canonical form, or NULL if it is not 24 base32 characters. Wrapping
//  and opening with a recovery code both use this form. Caller wipes and
//  frees.
char *en_keywrap_recovery_normalize (const char *typed);

//  Open a dossier sealed (crypto_box_seal, base64 standard) to the key
//  pair (box_public as 64 hex characters, secret_key as unwrapped).
//  Returns the text (NUL-terminated; caller wipes and frees) or NULL when
//  it was sealed to another key or is damaged.
char *en_keywrap_box_open (const char *sealed_b64, const char *box_public_hex,
                           const unsigned char *secret_key);

//  A conversation's message (docs/protocol.md, "Conversations"): the text
//  encrypted once with a fresh key (crypto_secretbox, the nonce first),
//  and that key sealed (crypto_box_seal, as hex text) to each recipient.
//  Seal: *box_b64 (caller frees) and *key_hex (65 bytes, caller wipes);
//  0 or -1. Open: the text (caller wipes and frees) from box_b64 and the
//  recipient's sealed key, with the recipient's key pair, or NULL.
int en_keywrap_message_seal (const char *text, char **box_b64, char key_hex [65]);
char *en_keywrap_message_open (const char *box_b64, const char *sealed_key_b64, const char *box_public_hex,
                               const unsigned char *secret_key);
//  Open, in place, each message of a conversation as the node's `thread`
//  verb lists them ([{..., box, sealed}]): `text`, or `unreadable: true`
//  when it does not open with this key pair (secret_key NULL: none
//  opens); `box` and `sealed` removed.
void en_keywrap_thread_open (json_t *messages, const char *box_public_hex, const unsigned char *secret_key);

#endif
