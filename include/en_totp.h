/*  en_totp - time-based one-time passwords (RFC 6238) for the second
    factor of a login at the node's portal, through liboath (Debian's
    OATH Toolkit), not our own HMAC code.

    Parameters are the ones every authenticator app assumes: HMAC-SHA1,
    30-second steps from the Unix epoch, 6 digits. A secret is 20 random
    bytes (RFC 4226's recommended length), handed around in base32
    (RFC 4648, no padding: 32 characters) as apps expect it. A code is
    accepted in the current step and one step either side (clock skew
    of up to 30 s). */
#ifndef EN_TOTP_H_INCLUDED
#define EN_TOTP_H_INCLUDED

//  Length of a secret in base32 (20 bytes).
#define EN_TOTP_SECRET_LEN 32

//  Digits of a code.
#define EN_TOTP_DIGITS 6

//  A new random secret in base32. Caller wipes and frees.
char *en_totp_secret_new (void);

//  The otpauth:// URI an authenticator app reads (as a QR code or
//  typed): otpauth://totp/ISSUER:ACCOUNT?secret=S&issuer=ISSUER&
//  algorithm=SHA1&digits=6&period=30, issuer and account percent-encoded.
//  NULL if an argument is NULL. Caller frees.
char *en_totp_uri (const char *secret, const char *issuer, const char *account);

//  The code of secret (base32) at time now with digits digits (6..8)
//  into code (digits + 1 bytes). 0, or -1 for a malformed secret.
int en_totp_code (const char *secret, time_t now, unsigned digits, char *code);

//  Is code (EN_TOTP_DIGITS digits) valid for secret at now, within one
//  step either side? 0 yes, -1 no (wrong code, malformed secret or
//  code).
int en_totp_verify (const char *secret, const char *code, time_t now);

//  As en_totp_verify, and on success *step is the time step the code
//  belongs to (seconds since the epoch / 30). A login keeps the last step
//  used per account and refuses a code of that step or an earlier one,
//  so a code seen over someone's shoulder cannot be used again
//  (RFC 6238 section 5.2; the node's login-event verb does this).
int en_totp_verify_step (const char *secret, const char *code, time_t now, int64_t *step);

#endif
