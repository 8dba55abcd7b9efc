/*  fuzz_http - the form parser of the web stack (lib/en_http.c,
    en_http_fields_parse), which reads every login, request form and
    dossier upload of the dashboard and the portal before anything else
    looks at it: application/x-www-form-urlencoded and multipart/form-data
    (boundaries, part headers, file parts).

    Input: the first line is the Content-Type ("" for urlencoded), the
    rest the body. The parse must give an object whose keys are only the
    asked names (a name ending in "[]" as an array of strings, any other
    as a string), all of them valid UTF-8 without NUL. */
#include "fuzz.h"

static const char *s_names [] = {
    "name", "password", "csrf", "question", "dossier", "dossier_file", "expertise[]", "leefgebieden[]", NULL };

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    fuzz_init ();
    return 0;
}

static bool
s_asked (const char *key, bool *is_array)
{
    for (int i = 0; s_names [i]; i++) {
        size_t len = strlen (s_names [i]);
        bool array = len > 2 && streq (s_names [i] + len - 2, "[]");
        if (strlen (key) == (array ? len - 2 : len) && strncmp (key, s_names [i], strlen (key)) == 0) {
            *is_array = array;
            return true;
        }
    }
    return false;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    const char *text = (const char *) data;
    const char *newline = memchr (text, '\n', size);
    size_t type_len = newline ? (size_t) (newline - text) : 0;
    char *type = type_len ? strndup (text, type_len) : NULL;
    const char *body = newline ? newline + 1 : text;
    size_t body_size = size - (size_t) (body - text);
    json_t *fields = en_http_fields_parse (type, body, body_size, s_names);
    assert (json_is_object (fields));
    const char *key;
    json_t *value;
    json_object_foreach (fields, key, value) {
        bool is_array = false;
        assert (s_asked (key, &is_array));
        if (is_array) {
            assert (json_is_array (value));
            size_t index;
            json_t *item;
            json_array_foreach (value, index, item)
                assert (json_is_string (item) && strlen (json_string_value (item)) == json_string_length (item));
        }
        else
            assert (json_is_string (value) && strlen (json_string_value (value)) == json_string_length (value));
    }
    json_decref (fields);
    free (type);
    return 0;
}
