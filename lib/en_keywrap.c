/*  en_keywrap - a secret key wrapped with a password (see en_keywrap.h).

    Only libsodium's high-level calls: crypto_pwhash (Argon2id 1.3) turns
    the password and a random salt into a crypto_secretbox key, and
    crypto_secretbox_easy seals the 32-byte secret with a random nonce,
    so a wrong password and a changed byte anywhere in the wrap fail the
    same way: the MAC does not verify.

    The derived key lives in sodium_malloc'd memory (guarded, locked,
    wiped on free); so does the plaintext while a wrap is made or opened.
    Limits read from a stored wrap are bounded by libsodium's own range
    and by its SENSITIVE limits, so a crafted wrap cannot make the opener
    spend unbounded memory.
*/
#include "expertnet.h"
#include "en_keywrap.h"
#include <sodium.h>
#include <ctype.h>

struct _en_keywrap_t {
    unsigned char salt [crypto_pwhash_SALTBYTES];           //  Argon2id salt
    unsigned char nonce [crypto_secretbox_NONCEBYTES];      //  secretbox nonce
    unsigned char box [EN_KEYWRAP_KEYBYTES + crypto_secretbox_MACBYTES];   //  sealed key
    unsigned long long opslimit;                            //  Argon2id passes
    size_t memlimit;                                        //  Argon2id memory, bytes
};

static bool
s_limits_valid (unsigned long long opslimit, size_t memlimit)
{
    return opslimit >= crypto_pwhash_OPSLIMIT_MIN && opslimit <= crypto_pwhash_OPSLIMIT_SENSITIVE
        && memlimit >= crypto_pwhash_MEMLIMIT_MIN && memlimit <= crypto_pwhash_MEMLIMIT_SENSITIVE;
}

int
en_keywrap_limits (const char *name, unsigned long long *opslimit, size_t *memlimit)
{
    if (name && streq (name, "interactive")) {
        *opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        *memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
        return 0;
    }
    if (name && streq (name, "moderate")) {
        *opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
        *memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
        return 0;
    }
    return -1;
}

//  The secretbox key for secret under this wrap's salt and limits, in
//  sodium_malloc'd memory (caller sodium_free's), or NULL.
static unsigned char *
s_derive (en_keywrap_t *self, const char *secret)
{
    unsigned char *key = (unsigned char *) sodium_malloc (crypto_secretbox_KEYBYTES);
    if (!key)
        return NULL;
    if (crypto_pwhash (key, crypto_secretbox_KEYBYTES, secret, strlen (secret), self->salt,
                       self->opslimit, self->memlimit, crypto_pwhash_ALG_ARGON2ID13)) {
        sodium_free (key);
        return NULL;
    }
    return key;
}

en_keywrap_t *
en_keywrap_new (const unsigned char *key, const char *secret, unsigned long long opslimit, size_t memlimit)
{
    if (!key || !secret || strlen (secret) < EN_KEYWRAP_PASSWORD_MIN || !s_limits_valid (opslimit, memlimit))
        return NULL;
    en_keywrap_t *self = (en_keywrap_t *) zmalloc (sizeof (en_keywrap_t));
    assert (self);
    self->opslimit = opslimit;
    self->memlimit = memlimit;
    randombytes_buf (self->salt, sizeof self->salt);
    randombytes_buf (self->nonce, sizeof self->nonce);
    unsigned char *derived = s_derive (self, secret);
    if (!derived) {
        en_keywrap_destroy (&self);
        return NULL;
    }
    crypto_secretbox_easy (self->box, key, EN_KEYWRAP_KEYBYTES, self->nonce, derived);
    sodium_free (derived);
    return self;
}

void
en_keywrap_destroy (en_keywrap_t **self_p)
{
    assert (self_p);
    en_keywrap_t *self = *self_p;
    if (self) {
        sodium_memzero (self, sizeof *self);
        free (self);
        *self_p = NULL;
    }
}

int
en_keywrap_open (en_keywrap_t *self, const char *secret, unsigned char *key)
{
    assert (self);
    sodium_memzero (key, EN_KEYWRAP_KEYBYTES);
    if (!secret)
        return -1;
    unsigned char *derived = s_derive (self, secret);
    if (!derived)
        return -1;
    int rc = crypto_secretbox_open_easy (key, self->box, sizeof self->box, self->nonce, derived);
    sodium_free (derived);
    if (rc)
        sodium_memzero (key, EN_KEYWRAP_KEYBYTES);
    return rc ? -1 : 0;
}

static json_t *
s_b64 (const unsigned char *bin, size_t size)
{
    char text [128];
    assert (sodium_base64_ENCODED_LEN (size, sodium_base64_VARIANT_ORIGINAL) <= sizeof text);
    sodium_bin2base64 (text, sizeof text, bin, size, sodium_base64_VARIANT_ORIGINAL);
    return json_string (text);
}

json_t *
en_keywrap_json (en_keywrap_t *self)
{
    assert (self);
    return json_pack ("{s:o, s:o, s:o, s:I, s:I}",
        "salt", s_b64 (self->salt, sizeof self->salt),
        "nonce", s_b64 (self->nonce, sizeof self->nonce),
        "box", s_b64 (self->box, sizeof self->box),
        "opslimit", (json_int_t) self->opslimit,
        "memlimit", (json_int_t) self->memlimit);
}

//  Decode field name of json (base64) into exactly size bytes. 0 or -1.
static int
s_unb64 (json_t *json, const char *name, unsigned char *bin, size_t size)
{
    const char *text = en_json_str (json, name);
    size_t length = 0;
    if (!text || sodium_base642bin (bin, size, text, strlen (text), NULL, &length, NULL,
                                    sodium_base64_VARIANT_ORIGINAL))
        return -1;
    return length == size ? 0 : -1;
}

en_keywrap_t *
en_keywrap_from_json (json_t *json, en_error_t *error)
{
    if (!json_is_object (json)) {
        en_error_set (error, EN_ERR_INVALID, "a key wrap must be a JSON object");
        return NULL;
    }
    en_keywrap_t *self = (en_keywrap_t *) zmalloc (sizeof (en_keywrap_t));
    assert (self);
    json_t *ops = json_object_get (json, "opslimit");
    json_t *mem = json_object_get (json, "memlimit");
    const char *bad = NULL;
    if (s_unb64 (json, "salt", self->salt, sizeof self->salt))
        bad = "salt";
    else
    if (s_unb64 (json, "nonce", self->nonce, sizeof self->nonce))
        bad = "nonce";
    else
    if (s_unb64 (json, "box", self->box, sizeof self->box))
        bad = "box";
    else
    if (!json_is_integer (ops) || json_integer_value (ops) <= 0
    ||  !json_is_integer (mem) || json_integer_value (mem) <= 0
    ||  !s_limits_valid ((unsigned long long) json_integer_value (ops), (size_t) json_integer_value (mem)))
        bad = "opslimit/memlimit";
    if (bad) {
        en_error_set (error, EN_ERR_INVALID, "key wrap field '%s' is missing or malformed", bad);
        en_keywrap_destroy (&self);
        return NULL;
    }
    self->opslimit = (unsigned long long) json_integer_value (ops);
    self->memlimit = (size_t) json_integer_value (mem);
    return self;
}

unsigned long long en_keywrap_opslimit (en_keywrap_t *self) { return self->opslimit; }
size_t en_keywrap_memlimit (en_keywrap_t *self) { return self->memlimit; }

int
en_keywrap_open_json (json_t *json, const char *secret, unsigned char *key)
{
    en_keywrap_t *wrap = en_keywrap_from_json (json, NULL);
    if (!wrap) {
        sodium_memzero (key, EN_KEYWRAP_KEYBYTES);
        return -1;
    }
    int rc = en_keywrap_open (wrap, secret, key);
    en_keywrap_destroy (&wrap);
    return rc;
}

static const char s_base32 [] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

char *
en_keywrap_recovery_new (void)
{
    char *code = (char *) zmalloc (EN_KEYWRAP_RECOVERY_LEN + 1);
    assert (code);
    size_t at = 0;
    for (int i = 0; i < 24; i++) {
        if (i && i % 4 == 0)
            code [at++] = '-';
        code [at++] = s_base32 [randombytes_uniform (32)];
    }
    assert (at == EN_KEYWRAP_RECOVERY_LEN);
    return code;
}

char *
en_keywrap_recovery_normalize (const char *typed)
{
    if (!typed)
        return NULL;
    char *code = (char *) zmalloc (EN_KEYWRAP_RECOVERY_LEN + 1);
    assert (code);
    size_t at = 0, count = 0;
    for (const char *p = typed; *p; p++) {
        if (*p == '-' || *p == ' ' || *p == '\t')
            continue;
        char c = (char) toupper ((unsigned char) *p);
        if (count == 24 || !strchr (s_base32, c) || c == 0) {
            sodium_memzero (code, EN_KEYWRAP_RECOVERY_LEN + 1);
            free (code);
            return NULL;
        }
        if (count && count % 4 == 0)
            code [at++] = '-';
        code [at++] = c;
        count++;
    }
    if (count != 24) {
        sodium_memzero (code, EN_KEYWRAP_RECOVERY_LEN + 1);
        free (code);
        return NULL;
    }
    return code;
}

//  text (a buffer of length + 1) as a string when it was opened, else
//  wiped and freed: NULL.
static char *
s_opened (char *text, size_t length, bool opened)
{
    if (text && opened) {
        text [length] = 0;
        return text;
    }
    if (text)
        sodium_memzero (text, length + 1);
    free (text);
    return NULL;
}

//  The bytes of standard base64 (caller frees, *size their count), or NULL.
static unsigned char *
s_base64_decode (const char *b64, size_t *size)
{
    size_t length = b64 ? strlen (b64) : 0;
    unsigned char *bytes = b64 ? (unsigned char *) malloc (length + 1) : NULL;
    if (bytes && sodium_base642bin (bytes, length + 1, b64, length, NULL, size, NULL,
                                    sodium_base64_VARIANT_ORIGINAL) == 0)
        return bytes;
    free (bytes);
    return NULL;
}

char *
en_keywrap_box_open (const char *sealed_b64, const char *box_public_hex, const unsigned char *secret_key)
{
    unsigned char public_key [crypto_box_PUBLICKEYBYTES];
    size_t size = 0;
    if (!sealed_b64 || !box_public_hex || !secret_key
    ||  sodium_hex2bin (public_key, sizeof public_key, box_public_hex, strlen (box_public_hex), NULL, &size, NULL)
    ||  size != sizeof public_key)
        return NULL;
    size_t sealed_size = 0;
    unsigned char *sealed = s_base64_decode (sealed_b64, &sealed_size);
    char *text = NULL;
    if (sealed && sealed_size >= crypto_box_SEALBYTES) {
        size_t length = sealed_size - crypto_box_SEALBYTES;
        text = (char *) malloc (length + 1);
        bool opened = text && crypto_box_seal_open ((unsigned char *) text, sealed, sealed_size, public_key,
                                                    secret_key) == 0;
        text = s_opened (text, length, opened);
    }
    free (sealed);
    return text;
}

int
en_keywrap_message_seal (const char *text, char **box_b64, char key_hex [65])
{
    unsigned char key [crypto_secretbox_KEYBYTES];
    crypto_secretbox_keygen (key);
    size_t length = strlen (text);
    size_t size = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + length;
    unsigned char *box = (unsigned char *) malloc (size);
    if (!box)
        return -1;
    randombytes_buf (box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy (box + crypto_secretbox_NONCEBYTES, (const unsigned char *) text, length, box, key);
    size_t b64_size = sodium_base64_ENCODED_LEN (size, sodium_base64_VARIANT_ORIGINAL);
    *box_b64 = (char *) malloc (b64_size);
    if (*box_b64)
        sodium_bin2base64 (*box_b64, b64_size, box, size, sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2hex (key_hex, 65, key, sizeof key);
    sodium_memzero (key, sizeof key);
    free (box);
    return *box_b64 ? 0 : -1;
}

char *
en_keywrap_message_open (const char *box_b64, const char *sealed_key_b64, const char *box_public_hex,
                         const unsigned char *secret_key)
{
    char *key_hex = en_keywrap_box_open (sealed_key_b64, box_public_hex, secret_key);
    unsigned char key [crypto_secretbox_KEYBYTES];
    size_t key_size = 0;
    bool keyed = key_hex && sodium_hex2bin (key, sizeof key, key_hex, strlen (key_hex), NULL, &key_size, NULL) == 0
              && key_size == sizeof key;
    if (key_hex) {
        sodium_memzero (key_hex, strlen (key_hex));
        free (key_hex);
    }
    size_t size = 0;
    unsigned char *box = keyed ? s_base64_decode (box_b64, &size) : NULL;
    char *text = NULL;
    if (box && size >= crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
        size_t length = size - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
        text = (char *) malloc (length + 1);
        bool opened = text && crypto_secretbox_open_easy ((unsigned char *) text, box + crypto_secretbox_NONCEBYTES,
                                                          size - crypto_secretbox_NONCEBYTES, box, key) == 0;
        text = s_opened (text, length, opened);
    }
    sodium_memzero (key, sizeof key);
    free (box);
    return text;
}

void
en_keywrap_thread_open (json_t *messages, const char *box_public_hex, const unsigned char *secret_key)
{
    size_t index;
    json_t *row;
    json_array_foreach (messages, index, row) {
        const char *sealed = en_json_str (row, "sealed");
        char *text = sealed && secret_key
                   ? en_keywrap_message_open (en_json_str (row, "box"), sealed, box_public_hex, secret_key) : NULL;
        if (text) {
            json_object_set_new (row, "text", json_string (text));
            sodium_memzero (text, strlen (text));
            free (text);
        }
        else
            json_object_set_new (row, "unreadable", json_true ());
        json_object_del (row, "sealed");
        json_object_del (row, "box");
    }
}
