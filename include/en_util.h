/*  en_util - small helpers shared by every program: clock, ids, names,
    durations and time formatting. */
#ifndef EN_UTIL_H_INCLUDED
#define EN_UTIL_H_INCLUDED

//  Milliseconds since the Unix epoch: the wall clock, or in a daemon the
//  wall clock at start plus monotonic time since (en_clock.h); used for
//  timestamps, deadlines and everything stored.
int64_t en_now_ms (void);

//  A new globally unique id: 32 lowercase hex characters (128 random
//  bits from libsodium). Caller owns the string.
char *en_new_id (void);

//  A short random suffix of n hex characters (n <= 32) into buf (n+1).
void en_random_hex (char *buf, size_t n);

//  Wipe a secret string (a password, a key in hex, a TOTP secret) with
//  sodium_memzero, free it and set *text_p to NULL. NULL is fine.
void en_secret_free (char **text_p);

//  True if s is a valid name: 1..63 chars of [a-z0-9-], starting with a
//  letter or digit. Used for node, broker, region, expert and tag names.
bool en_name_valid (const char *s);

//  True if s is a valid object id (request, offer): 1..80 chars of
//  [a-z0-9-.], starting with a letter or digit.
bool en_id_valid (const char *s);

//  Parse a duration: "90", "90s", "15m", "4h", "3d", "250ms". Returns the
//  value in milliseconds, or -1 when the text is not a duration.
int64_t en_duration_ms (const char *text);

//  Format ms since epoch as local "YYYY-MM-DD HH:MM:SS" into buf (>= 20).
//  0 formats as "-".
const char *en_time_str (int64_t ms, char *buf, size_t size);
//  The same with a strftime format.
const char *en_time_fmt (int64_t ms, const char *format, char *buf, size_t size);

//  Dutch civil time (Europe/Amsterdam: CET/CEST by the EU rule), whatever
//  the process's time zone, thread-safe. The day "YYYY-MM-DD" plus days,
//  at hour:00, in ms; -1 if day is not a date (2027-02-30 is not).
int64_t en_nl_day_ms (const char *day, int days, int hour);
//  "YYYY-MM-DD HH:MM" (or with a T) in Dutch civil time, in ms; -1 if not.
int64_t en_nl_time_ms (const char *text);
//  ms as "YYYY-MM-DD HH:MM" in Dutch civil time, into buf (>= 17).
const char *en_nl_time_str (int64_t ms, char *buf, size_t size);

//  Write text to out with HTML's special characters escaped.
void en_html_escape (FILE *out, const char *text);

//  A duration from the config ("90s", "15m", ...) in ms; a value that is
//  not a duration is logged and replaced by dflt.
int64_t en_config_ms (zconfig_t *config, const char *path, const char *dflt);

//  A flag from the config: true/1/yes or false/0/no; absent gives dflt,
//  anything else is logged and gives dflt.
bool en_config_bool (zconfig_t *config, const char *path, bool dflt);

//  Read a whole file into a new string (NUL-terminated); max_size bounds it.
//  Returns NULL and sets errno on failure (EFBIG when over max_size).
char *en_file_read (const char *path, size_t max_size);

//  Load a ZPL file (a config or a certificate, at most 1 MB) as
//  zconfig_load does, or NULL when it cannot be read or is not ZPL. Not
//  zconfig_load: CZMQ 4.2.1's leaks its file handle on text that is not
//  ZPL (found by make test SANITIZE=1).
zconfig_t *en_zpl_load (const char *path);

//  Make a directory and its parents with the given mode. 0 or -1.
int en_mkdir_p (const char *path, mode_t mode);

#endif
