/*  en_pages - the dashboard's HTML, rendered by the broker from the JSON
    its control verbs return: the layout, the login form, the overview
    (whose live part is re-fetched every two seconds by /static/live.js),
    the requests list, a request's timeline with the operator actions,
    the experts' load and the charts. Labels are Dutch; every value from
    the store is HTML-escaped; no inline script or style (the pages are
    served with Content-Security-Policy default-src 'self'). */
#ifndef EN_PAGES_H_INCLUDED
#define EN_PAGES_H_INCLUDED

#include "expertnet.h"
#include <stdio.h>

typedef struct {
    const char *broker;         //  broker name, in the title
    const char *operator_name;  //  who is logged in
    const char *csrf;           //  the session's form token (NULL: token login)
    int64_t now;                //  ms, for ages and time left
} en_page_t;

//  Page frame: <head>, header with navigation (active: "overzicht",
//  "verzoeken", "experts", "grafieken"), <main>; and its end.
void en_pages_begin (FILE *out, const en_page_t *page, const char *title, const char *active);
void en_pages_end (FILE *out);

//  The login page; message (may be NULL) is shown above the form; next
//  is where to go after logging in; name pre-fills the name field.
void en_pages_login (FILE *out, const char *broker, const char *message, const char *next,
                     const char *name);

//  The overview page's live part, from the "overview" verb.
void en_pages_overview (FILE *out, json_t *overview);

//  The three charts, from the "charts" verb.
void en_pages_charts (FILE *out, json_t *charts);

//  Requests list (state filter as given, NULL = open ones).
void en_pages_requests (FILE *out, json_t *requests, const char *state, int64_t now);

//  One request: summary, open offers, timeline, operator actions and the
//  access log of the case. message (may be NULL) is the outcome of an
//  action just taken, is_error whether it failed.
void en_pages_request (FILE *out, const en_page_t *page, json_t *request, json_t *audit,
                       const char *message, bool is_error);

//  Experts with their load.
void en_pages_experts (FILE *out, json_t *experts, int64_t now);

//  A short message page body (e.g. 404).
void en_pages_message (FILE *out, const char *title, const char *message);



//  The static assets (en_web_assets.c)
extern const char en_web_css [];
extern const char en_web_js [];

#endif
