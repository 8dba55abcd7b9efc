/*  en_text - text built through stdio, shared by the broker's dashboard,
    the node's portal, reports and TOTP: a string written with a FILE
    (open_memstream), word tables (key -> Dutch label) and the HTML of a
    list of words. */
#ifndef EN_TEXT_H_INCLUDED
#define EN_TEXT_H_INCLUDED

#include <stdio.h>
#include <jansson.h>

//  The string behind an en_text_open stream
typedef struct {
    char *data;
    size_t size;
} en_text_t;

//  A FILE that writes into a new string, or NULL
FILE *en_text_open (en_text_t *text);

//  Close the stream and give its string (caller frees), or NULL when
//  writing failed (the string is then freed).
char *en_text_close (FILE *out, en_text_t *text);

//  A word table: { key, label } pairs ending in { NULL, NULL }
typedef const char *en_words_t [][2];

//  The label of key in table; key itself when the table lacks it, ""
//  for NULL.
const char *en_word (en_words_t table, const char *key);

//  A JSON array of words (or one string) as HTML "a, b" ("-" when
//  empty), each word's label from table (NULL: the words as they are).
void en_html_words (FILE *out, json_t *value, en_words_t table);

//  A badge the style sheet colours by its key: <span class="CLASSES KEY">
//  with key's label from table (NULL: key itself), both escaped; e.g.
//  classes "state s-" and key "offered".
void en_html_badge (FILE *out, const char *classes, const char *key, en_words_t table);

//  An event's detail as the broker stores it (English: it travels between
//  brokers and goes into logs) in Dutch, HTML-escaped: whole phrases and
//  fixed parts of composed details; what someone typed stays as typed.
//  Nothing for NULL.
void en_html_detail (FILE *out, const char *detail);

//  An urgency's badge, the same on both faces ("badge u-crisis")
void en_html_urgency (FILE *out, const char *urgency);

#endif
