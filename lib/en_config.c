/*  en_config - strict configuration checked against a schema table.

    A misspelled key (`endpont`) used to be ignored and its default taken;
    a bad value (`crisis = tien minuten`) logged and replaced by the
    default. Both now stop the daemon with the file, line and key named.
    The schema lists every key a daemon reads, with its type; sections
    are implied by the keys below them (routing/deadline is a section
    because routing/deadline/crisis is a key), "*" stands for any one
    name (the peers under federation/peers, the regions under
    broker/regions).
*/
#include "expertnet.h"
#include <ctype.h>

//  Does pattern (with "*" segments) match path, segment by segment? With
//  prefix, a pattern longer than path counts if path is its beginning.
static bool
s_match (const char *pattern, const char *path, bool prefix)
{
    while (*pattern && *path) {
        const char *pend = strchr (pattern, '/');
        const char *send = strchr (path, '/');
        size_t plen = pend ? (size_t) (pend - pattern) : strlen (pattern);
        size_t slen = send ? (size_t) (send - path) : strlen (path);
        if (!(plen == 1 && *pattern == '*') && (plen != slen || strncmp (pattern, path, plen)))
            return false;
        pattern += plen + (pend ? 1 : 0);
        path += slen + (send ? 1 : 0);
        if (!pend && send)
            return false;           //  path is longer than the pattern
        if (pend && !send)
            return prefix;          //  path ends inside the pattern
    }
    return !*pattern && !*path;
}

static const en_conf_key_t *
s_find (const en_conf_key_t *schema, const char *path)
{
    for (int i = 0; schema [i].path; i++)
        if (s_match (schema [i].path, path, false))
            return &schema [i];
    return NULL;
}

//  A section: a prefix of some key, or a list's item
static bool
s_is_section (const en_conf_key_t *schema, const char *path)
{
    for (int i = 0; schema [i].path; i++)
        if (s_match (schema [i].path, path, true) && !s_match (schema [i].path, path, false))
            return true;
    return false;
}

//  "a list's item": the parent path is an EN_CONF_LIST
static bool
s_is_list_item (const en_conf_key_t *schema, const char *path)
{
    const char *slash = strrchr (path, '/');
    if (!slash)
        return false;
    char parent [256];
    snprintf (parent, sizeof parent, "%.*s", (int) (slash - path), path);
    const en_conf_key_t *key = s_find (schema, parent);
    return key && key->type == EN_CONF_LIST;
}

int
en_config_line (const char *file, const char *path)
{
    FILE *in = file ? fopen (file, "r") : NULL;
    if (!in)
        return 0;
    char stack [16][64] = { { 0 } };
    char line [1024];
    int number = 0, found = 0;
    while (!found && fgets (line, sizeof line, in)) {
        number++;
        int indent = 0;
        while (line [indent] == ' ')
            indent++;
        char *name = line + indent;
        if (!*name || *name == '#' || *name == '\n' || *name == '\r')
            continue;
        size_t len = 0;
        while (name [len] && !isspace ((unsigned char) name [len]) && name [len] != '=' && name [len] != '#')
            len++;
        int level = indent / 4;
        if (level >= 16 || len == 0)
            continue;
        snprintf (stack [level], sizeof stack [level], "%.*s", (int) len, name);
        char full [1024] = "";
        for (int i = 0; i <= level; i++) {
            strncat (full, stack [i], sizeof full - strlen (full) - 2);
            if (i < level)
                strcat (full, "/");
        }
        if (streq (full, path))
            found = number;
    }
    fclose (in);
    return found;
}

static bool
s_count_valid (const char *value)
{
    if (!*value)
        return false;
    for (const char *c = value; *c; c++)
        if (!isdigit ((unsigned char) *c))
            return false;
    return strlen (value) <= 18;
}

static bool
s_choice_valid (const char *choices, const char *value)
{
    size_t len = strlen (value);
    for (const char *c = choices; c && *c; ) {
        const char *bar = strchr (c, '|');
        size_t n = bar ? (size_t) (bar - c) : strlen (c);
        if (n == len && strncmp (c, value, n) == 0)
            return true;
        c = bar ? bar + 1 : NULL;
    }
    return false;
}

//  What is wrong with this value for this key, or NULL
static const char *
s_value_problem (const en_conf_key_t *key, const char *value, bool has_children, char *buf, size_t size)
{
    if (key->type == EN_CONF_LIST || key->type == EN_CONF_SECTION)
        return value && *value ? "is a section and takes no value" : NULL;
    if (has_children)
        return "takes a value, not a section";
    value = value ? value : "";
    switch (key->type) {
        case EN_CONF_NAME:
            return en_name_valid (value) ? NULL : "is not a name (a-z, 0-9 and '-', at most 63)";
        case EN_CONF_DURATION:
            return en_duration_ms (value) >= 0 ? NULL : "is not a duration (e.g. 250ms, 90s, 15m, 4h, 3d)";
        case EN_CONF_COUNT:
            return s_count_valid (value) ? NULL : "is not a whole number";
        case EN_CONF_BOOL:
            return streq (value, "true") || streq (value, "false") ? NULL : "must be true or false";
        case EN_CONF_CHOICE:
            if (s_choice_valid (key->choices, value))
                return NULL;
            snprintf (buf, size, "must be one of %s", key->choices);
            return buf;
        default:
            return NULL;
    }
}

//  The known keys under a section, for the message: "name, endpoint, ..."
static void
s_known_under (const en_conf_key_t *schema, const char *section, char *buf, size_t size)
{
    buf [0] = 0;
    size_t prefix = section ? strlen (section) + 1 : 0;
    for (int i = 0; schema [i].path; i++) {
        const char *path = schema [i].path;
        if (section && (strncmp (path, section, prefix - 1) || path [prefix - 1] != '/'))
            continue;
        char item [64];
        const char *rest = path + prefix;
        const char *slash = strchr (rest, '/');
        snprintf (item, sizeof item, "%.*s", (int) (slash ? (size_t) (slash - rest) : strlen (rest)), rest);
        char quoted [70];
        snprintf (quoted, sizeof quoted, "%s, ", item);
        if (!strstr (buf, quoted) && strlen (buf) + strlen (quoted) < size)
            strcat (buf, quoted);
    }
    if (strlen (buf) >= 2)
        buf [strlen (buf) - 2] = 0;
}

static int
s_check (zconfig_t *node, const char *parent, const en_conf_key_t *schema, const char *file,
         en_error_t *error)
{
    for (zconfig_t *child = zconfig_child (node); child; child = zconfig_next (child)) {
        char path [512];
        snprintf (path, sizeof path, "%s%s%s", parent ? parent : "", parent ? "/" : "", zconfig_name (child));
        const en_conf_key_t *key = s_find (schema, path);
        const char *value = zconfig_value (child);
        bool has_children = zconfig_child (child) != NULL;
        const char *problem = NULL;
        char buf [256], known [400];
        if (key)
            problem = s_value_problem (key, value, has_children, buf, sizeof buf);
        else
        if (s_is_list_item (schema, path))
            problem = value && *value ? "is a list item and takes no value" : has_children ? "takes no section" : NULL;
        else
        if (s_is_section (schema, path)) {
            if (value && *value)
                problem = "is a section and takes no value";
            else
            if (s_check (child, path, schema, file, error))
                return -1;
        }
        else {
            s_known_under (schema, parent, known, sizeof known);
            snprintf (buf, sizeof buf, "is not a known %s (known%s%s: %s)", has_children ? "section" : "key",
                      parent ? " in " : "", parent ? parent : "", known);
            problem = buf;
        }
        if (problem) {
            int line = en_config_line (file, path);
            char where [600];
            if (line)
                snprintf (where, sizeof where, "%s:%d", file, line);
            else
                snprintf (where, sizeof where, "%s", file ? "--set (or not found in the file)" : "--set");
            if (value && *value && key)
                return en_error_set (error, EN_ERR_INVALID, "%s: %s = '%s' %s", where, path, value, problem);
            else
                return en_error_set (error, EN_ERR_INVALID, "%s: %s %s", where, path, problem);
        }
    }
    return 0;
}

int
en_config_check (zconfig_t *config, const en_conf_key_t *schema, const char *file,
                 en_error_t *error)
{
    return s_check (config, NULL, schema, file, error);
}
