/*  en_totp - RFC 6238 one-time passwords through liboath (en_totp.h).

    liboath does the HMAC and the window; we do the base32 secret (from
    libsodium's random bytes), the otpauth URI and input checks, and keep
    the decoded secret only as long as a call needs it. oath_init is
    cheap and idempotent; we call it before each use rather than keep
    global state. */
#include "expertnet.h"
#include "en_totp.h"
#include "en_text.h"
#include <sodium.h>
#include <liboath/oath.h>

#define SECRET_BYTES 20

char *
en_totp_secret_new (void)
{
    unsigned char raw [SECRET_BYTES];
    randombytes_buf (raw, sizeof raw);
    char *text = NULL;
    size_t length = 0;
    oath_init ();
    int rc = oath_base32_encode ((const char *) raw, sizeof raw, &text, &length);
    sodium_memzero (raw, sizeof raw);
    if (rc != OATH_OK)
        return NULL;
    assert (length == EN_TOTP_SECRET_LEN);
    return text;
}

//  Decode a base32 secret (spaces and lowercase allowed). Caller wipes
//  and frees *raw. 0 or -1.
static int
s_decode (const char *secret, char **raw, size_t *length)
{
    *raw = NULL;
    if (!secret || !*secret || strlen (secret) > 128)
        return -1;
    oath_init ();
    if (oath_base32_decode (secret, strlen (secret), raw, length) != OATH_OK || *length == 0) {
        free (*raw);
        *raw = NULL;
        return -1;
    }
    return 0;
}

int
en_totp_code (const char *secret, time_t now, unsigned digits, char *code)
{
    char *raw;
    size_t length;
    if (digits < 6 || digits > 8 || s_decode (secret, &raw, &length))
        return -1;
    int rc = oath_totp_generate (raw, length, now, OATH_TOTP_DEFAULT_TIME_STEP_SIZE,
                                 OATH_TOTP_DEFAULT_START_TIME, digits, code);
    sodium_memzero (raw, length);
    free (raw);
    return rc == OATH_OK ? 0 : -1;
}

int
en_totp_verify (const char *secret, const char *code, time_t now)
{
    int64_t step;
    return en_totp_verify_step (secret, code, now, &step);
}

int
en_totp_verify_step (const char *secret, const char *code, time_t now, int64_t *step)
{
    if (!code || strlen (code) != EN_TOTP_DIGITS)
        return -1;
    for (const char *c = code; *c; c++)
        if (*c < '0' || *c > '9')
            return -1;
    char *raw;
    size_t length;
    if (s_decode (secret, &raw, &length))
        return -1;
    //  Returns the matching step's distance (>= 0) or a negative error;
    //  counter is the matching step
    int position = 0;
    uint64_t counter = 0;
    int rc = oath_totp_validate3 (raw, length, now, OATH_TOTP_DEFAULT_TIME_STEP_SIZE,
                                  OATH_TOTP_DEFAULT_START_TIME, 1, &position, &counter, code);
    sodium_memzero (raw, length);
    free (raw);
    if (rc < 0)
        return -1;
    *step = (int64_t) counter;
    return 0;
}

//  Percent-encode text for a URI path or query value into out.
static void
s_uri_escape (FILE *out, const char *text)
{
    for (const unsigned char *c = (const unsigned char *) text; *c; c++)
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
        ||  *c == '-' || *c == '.' || *c == '_' || *c == '~')
            fputc (*c, out);
        else
            fprintf (out, "%%%02X", *c);
}

char *
en_totp_uri (const char *secret, const char *issuer, const char *account)
{
    if (!secret || !issuer || !account)
        return NULL;
    en_text_t uri;
    FILE *out = en_text_open (&uri);
    if (!out)
        return NULL;
    fputs ("otpauth://totp/", out);
    s_uri_escape (out, issuer);
    fputc (':', out);
    s_uri_escape (out, account);
    fprintf (out, "?secret=%s&issuer=", secret);
    s_uri_escape (out, issuer);
    fprintf (out, "&algorithm=SHA1&digits=%d&period=%d", EN_TOTP_DIGITS, OATH_TOTP_DEFAULT_TIME_STEP_SIZE);
    return en_text_close (out, &uri);
}
