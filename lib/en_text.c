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

//  The broker stores event details in English (they travel between
//  brokers and go into logs); shown here in Dutch. Whole phrases and
//  fixed parts of composed details; what an operator or expert typed
//  (a reason) is shown as typed.
static const char *s_detail_phrases [][2] = {
    { "advice received", "advies ontvangen" },
    { "no expert or procesregisseur available", "geen expert of procesregisseur beschikbaar" },
    { "no expert available", "geen expert beschikbaar" },
    { "no answer before deadline", "geen antwoord voor de deadline" },
    { "closed by operator: ", "gesloten door operator: " },
    { " (an expert there has it: settle with them)", " (een expert daar heeft het: regel het met hen)" },
    { " after the recall: ", " na het terughalen: " },
    { " (recalled from ", " (teruggehaald van " },
    { " took it back", " heeft het teruggehaald" },
    { " refused it: ", " weigerde het: " },
    { NULL, NULL } };

void
en_html_detail (FILE *out, const char *detail)
{
    if (!detail)
        return;
    if (streq (detail, "expired")) {
        fputs ("verlopen", out);
        return;
    }
    //  "from NODE of ORIGIN, through PEER": a request another province sent
    if (strncmp (detail, "from ", 5) == 0 && strstr (detail, ", through ")) {
        const char *of = strstr (detail, " of ");
        const char *through = strstr (detail, ", through ");
        if (of && of < through) {
            fputs ("van ", out);
            fwrite (detail + 5, 1, (size_t) (of - detail - 5), out);
            fputs (" uit ", out);
            fwrite (of + 4, 1, (size_t) (through - of - 4), out);
            fputs (", via ", out);
            detail = through + 10;
        }
    }
    //  "CLOSE to PEER": a message relayed on
    size_t caps = strspn (detail, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
    if (caps > 0 && strncmp (detail + caps, " to ", 4) == 0) {
        fwrite (detail, 1, caps, out);
        fputs (" naar ", out);
        detail += caps + 4;
    }
    char *text = strdup (detail);
    for (int i = 0; s_detail_phrases [i][0]; i++) {
        char *at;
        while ((at = strstr (text, s_detail_phrases [i][0]))) {
            size_t before = (size_t) (at - text), from = strlen (s_detail_phrases [i][0]);
            char *next = NULL;
            if (asprintf (&next, "%.*s%s%s", (int) before, text, s_detail_phrases [i][1], at + from) < 0)
                break;
            free (text);
            text = next;
            //  replacements hold no English phrase, so this ends
        }
    }
    en_html_escape (out, text);
    free (text);
}
