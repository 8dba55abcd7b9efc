/*  en_util - ids, names, durations, small file helpers.

    Ids come from libsodium's CSPRNG: message ids are the idempotency keys
    of the whole network, so they must never collide, not even across a
    node that was restored from a backup.
*/
#include "expertnet.h"
#include <sodium.h>
#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>
#include <time.h>

void
en_random_hex (char *buf, size_t n)
{
    assert (n <= 32);
    unsigned char raw [16];
    randombytes_buf (raw, sizeof raw);
    char hex [33];
    sodium_bin2hex (hex, sizeof hex, raw, sizeof raw);
    memcpy (buf, hex, n);
    buf [n] = 0;
}

void
en_secret_free (char **text_p)
{
    if (text_p && *text_p) {
        sodium_memzero (*text_p, strlen (*text_p));
        free (*text_p);
        *text_p = NULL;
    }
}

char *
en_new_id (void)
{
    char *id = (char *) malloc (33);
    assert (id);
    en_random_hex (id, 32);
    return id;
}

static bool
s_chars_valid (const char *s, size_t max, const char *extra)
{
    if (!s)
        return false;
    size_t len = strlen (s);
    if (len == 0 || len > max)
        return false;
    if (!(islower ((unsigned char) s [0]) || isdigit ((unsigned char) s [0])))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s [i];
        if (!(islower (c) || isdigit (c) || strchr (extra, c)))
            return false;
    }
    return true;
}

bool
en_name_valid (const char *s)
{
    return s_chars_valid (s, 63, "-");
}

bool
en_id_valid (const char *s)
{
    return s_chars_valid (s, 80, "-.");
}

int64_t
en_duration_ms (const char *text)
{
    if (!text || !*text)
        return -1;
    char *end;
    errno = 0;
    long long value = strtoll (text, &end, 10);
    if (errno || end == text || value < 0)
        return -1;
    int64_t unit = 1000;
    if (streq (end, "") || streq (end, "s"))
        unit = 1000;
    else
    if (streq (end, "ms"))
        unit = 1;
    else
    if (streq (end, "m"))
        unit = 60 * 1000;
    else
    if (streq (end, "h"))
        unit = 3600 * 1000;
    else
    if (streq (end, "d"))
        unit = 86400 * 1000;
    else
        return -1;
    if (value > INT64_MAX / unit)
        return -1;
    return value * unit;
}

const char *
en_time_fmt (int64_t ms, const char *format, char *buf, size_t size)
{
    if (ms <= 0) {
        snprintf (buf, size, "-");
        return buf;
    }
    time_t secs = (time_t) (ms / 1000);
    struct tm tm;
    localtime_r (&secs, &tm);
    strftime (buf, size, format, &tm);
    return buf;
}

//  Dutch civil time without the process's time zone (the portal's thread
//  must not touch TZ): CET, and CEST from the last Sunday of March to the
//  last Sunday of October, each at 01:00 UTC (the EU rule).
static time_t
s_last_sunday (int year, int month)
{
    struct tm tm = { .tm_year = year, .tm_mon = month, .tm_mday = 31, .tm_hour = 1 };
    time_t day31 = timegm (&tm);
    struct tm check;
    gmtime_r (&day31, &check);
    return day31 - (time_t) check.tm_wday * 86400;
}

static int
s_nl_offset (time_t utc)
{
    struct tm tm;
    gmtime_r (&utc, &tm);
    bool summer = utc >= s_last_sunday (tm.tm_year, 2) && utc < s_last_sunday (tm.tm_year, 9);
    return summer ? 7200 : 3600;
}

int64_t
en_nl_day_ms (const char *day, int days, int hour)
{
    struct tm tm = { 0 };
    const char *rest = day && strlen (day) == 10 ? strptime (day, "%Y-%m-%d", &tm) : NULL;
    if (!rest || *rest)
        return -1;
    struct tm given = tm;
    time_t wall = timegm (&tm);         //  normalises: 2027-02-30 becomes March
    if (tm.tm_mday != given.tm_mday || tm.tm_mon != given.tm_mon)
        return -1;
    wall += (time_t) days * 86400 + (time_t) hour * 3600;
    time_t utc = wall - 7200;
    if (s_nl_offset (utc) != 7200)
        utc = wall - 3600;
    return (int64_t) utc * 1000;
}

int64_t
en_nl_time_ms (const char *text)
{
    char day [11];
    int hour, minute;
    char sep, rest;
    if (!text || strlen (text) != 16 || sscanf (text, "%10s", day) != 1)
        return -1;
    day [10] = 0;
    if (sscanf (text + 10, "%c%2d:%2d%c", &sep, &hour, &minute, &rest) != 3 || (sep != ' ' && sep != 'T')
    ||  hour < 0 || hour > 23 || minute < 0 || minute > 59)
        return -1;
    int64_t at = en_nl_day_ms (day, 0, hour);
    return at < 0 ? -1 : at + minute * 60000LL;
}

const char *
en_nl_time_str (int64_t ms, char *buf, size_t size)
{
    time_t utc = (time_t) (ms / 1000);
    time_t wall = utc + s_nl_offset (utc);
    struct tm tm;
    gmtime_r (&wall, &tm);
    strftime (buf, size, "%Y-%m-%d %H:%M", &tm);
    return buf;
}

const char *
en_time_str (int64_t ms, char *buf, size_t size)
{
    return en_time_fmt (ms, "%Y-%m-%d %H:%M:%S", buf, size);
}

void
en_html_escape (FILE *out, const char *text)
{
    for (; text && *text; text++)
        switch (*text) {
            case '<': fputs ("&lt;", out); break;
            case '>': fputs ("&gt;", out); break;
            case '&': fputs ("&amp;", out); break;
            case '"': fputs ("&quot;", out); break;
            case '\'': fputs ("&#39;", out); break;
            default: fputc (*text, out);
        }
}

int64_t
en_config_ms (zconfig_t *config, const char *path, const char *dflt)
{
    const char *text = zconfig_get (config, path, dflt);
    int64_t ms = en_duration_ms (text);
    if (ms < 0) {
        zsys_warning ("config %s: '%s' is not a duration, using %s", path, text, dflt);
        ms = en_duration_ms (dflt);
    }
    return ms;
}

bool
en_config_bool (zconfig_t *config, const char *path, bool dflt)
{
    const char *text = zconfig_get (config, path, NULL);
    if (!text)
        return dflt;
    if (streq (text, "true") || streq (text, "1") || streq (text, "yes"))
        return true;
    if (streq (text, "false") || streq (text, "0") || streq (text, "no"))
        return false;
    zsys_warning ("config %s: '%s' is not true or false, using %s", path, text, dflt ? "true" : "false");
    return dflt;
}

char *
en_file_read (const char *path, size_t max_size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    size_t cap = 4096, len = 0;
    char *data = (char *) malloc (cap);
    while (data) {
        size_t got = fread (data + len, 1, cap - len - 1, file);
        len += got;
        if (len > max_size) {
            free (data);
            fclose (file);
            errno = EFBIG;
            return NULL;
        }
        if (got == 0)
            break;
        if (cap - len - 1 == 0) {
            char *bigger = (char *) realloc (data, cap * 2);
            if (!bigger) {
                free (data);
                data = NULL;
                break;
            }
            data = bigger;
            cap *= 2;
        }
    }
    int failed = ferror (file);
    fclose (file);
    if (!data || failed) {
        free (data);
        errno = failed ? EIO : ENOMEM;
        return NULL;
    }
    data [len] = 0;
    return data;
}

zconfig_t *
en_zpl_load (const char *path)
{
    char *text = en_file_read (path, 1024 * 1024);
    if (!text)
        return NULL;
    zchunk_t *chunk = zchunk_new (text, strlen (text));
    free (text);
    zconfig_t *config = chunk ? zconfig_chunk_load (chunk) : NULL;
    zchunk_destroy (&chunk);
    return config;
}

int
en_mkdir_p (const char *path, mode_t mode)
{
    char buf [PATH_MAX];
    if (strlen (path) >= sizeof buf)
        return -1;
    strcpy (buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir (buf, mode) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir (buf, mode) && errno != EEXIST)
        return -1;
    return 0;
}
