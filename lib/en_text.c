/*  en_text - text built through stdio (see en_text.h) */
#include "expertnet.h"
#include "en_text.h"

FILE *
en_text_open (en_text_t *text)
{
    *text = (en_text_t) { NULL, 0 };
    return open_memstream (&text->data, &text->size);
}

//  Only after fclose is the string final (open_memstream)
char *
en_text_close (FILE *out, en_text_t *text)
{
    if (fclose (out)) {
        free (text->data);
        return NULL;
    }
    return text->data;
}

const char *
en_word (en_words_t table, const char *key)
{
    for (int i = 0; key && table [i][0]; i++)
        if (streq (table [i][0], key))
            return table [i][1];
    return key ? key : "";
}

void
en_html_words (FILE *out, json_t *value, en_words_t table)
{
    if (json_is_string (value)) {
        const char *text = json_string_value (value);
        en_html_escape (out, table ? en_word (table, text) : text);
        return;
    }
    if (json_array_size (value) == 0) {
        fputs ("-", out);
        return;
    }
    size_t index;
    json_t *item;
    json_array_foreach (value, index, item) {
        if (index)
            fputs (", ", out);
        const char *text = json_string_value (item);
        en_html_escape (out, table ? en_word (table, text) : text);
    }
}

void
en_html_badge (FILE *out, const char *classes, const char *key, en_words_t table)
{
    fprintf (out, "<span class=\"%s", classes);
    en_html_escape (out, key);
    fputs ("\">", out);
    en_html_escape (out, table ? en_word (table, key) : key);
    fputs ("</span>", out);
}

void
en_html_urgency (FILE *out, const char *urgency)
{
    en_html_badge (out, "badge u-", urgency, NULL);
}
