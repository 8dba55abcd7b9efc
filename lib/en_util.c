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
