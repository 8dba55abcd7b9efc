/*  en_web - the operators' dashboard (see en_web.h), an app on en_http.

    en_http (lib/en_http.c) does the web part every expertnet web face
    shares: libmicrohttpd and TLS, logins with Argon2id verified in the
    web thread, lockout, sessions, CSRF and the Origin check, security
    headers, bodies, static assets, JSON replies and the call to the
    broker loop over its inproc dashboard socket. This file is what is
    the dashboard's own: operators as accounts ("operator-hash"), API
    tokens ("token-check", sent only as their BLAKE2b hash), the pages
    and their routes, the JSON API and /metrics.

    Data. Each page or API call asks the broker loop (one request at a
    time): "requests", "request", "experts", the operator
    actions. An operator looking at a request is an access to that case,
    logged by the broker with the operator. The overview, /metrics and
    the charts, asked for every few seconds by open pages and scrapers,
    are built here instead (s_ask, en_figures): the store read on this
    thread's own read-only connection, and from the loop only what it
    alone knows ("live"), so they never hold up routing.
*/
#include "en_web.h"
#include "en_pages.h"
#include "en_charts.h"
#include "en_metrics.h"
#include "en_figures.h"
#include <microhttpd.h>

struct _en_web_t {
    en_http_t *http;            //  the web stack, with its thread
    char *broker;               //  broker name, for titles
    en_bstore_t *store;         //  the store, read-only, the web thread's
                                //  own connection (NULL: ask the loop)
};

static en_web_t *
s_web (en_http_request_t *req)
{
    return (en_web_t *) en_http_request_app (req);
}

static en_http_t *
s_http (en_http_request_t *req)
{
    return en_http_request_http (req);
}

//  -------------------------------------------------------------------------
//  Asking the broker

//  The overview or the metrics (verb), built here from the store read on
//  the web thread's own connection and what only the loop knows ("live":
//  sessions, enrolment, links, counters; it reads no request), so a
//  figure that reads a large store never holds up routing. Without that
//  connection, the loop's own answer (the same figures).
static json_t *
s_figures (en_http_request_t *req, const char *verb, en_error_t *error)
{
    en_web_t *self = s_web (req);
    if (!self->store)
        return en_http_call (s_http (req), verb, NULL, error);
    bool metrics = streq (verb, "metrics");
    json_t *live = en_http_call (s_http (req), "live", json_pack ("{s:b}", "metrics", metrics), error);
    if (!live)
        return NULL;
    en_bstore_snapshot (self->store, true);
    json_t *figures = metrics ? en_figures_metrics_read (self->store, live)
                              : en_figures_overview_read (self->store, live);
    en_bstore_snapshot (self->store, false);
    json_decref (live);
    return figures;
}

//  A verb's answer: the figures read here, the rest from the loop
static json_t *
s_ask (en_http_request_t *req, const char *verb, json_t *args, en_error_t *error)
{
    json_t *answer = NULL;
    if (streq (verb, "overview") || streq (verb, "metrics"))
        answer = s_figures (req, verb, error);
    else
    if (streq (verb, "charts") && s_web (req)->store) {
        //  From the store alone: all of it read here
        en_bstore_snapshot (s_web (req)->store, true);
        answer = en_figures_charts (s_web (req)->store, args);
        en_bstore_snapshot (s_web (req)->store, false);
    }
    else
        return en_http_call (s_http (req), verb, args, error);
    json_decref (args);
    return answer;
}

//  -------------------------------------------------------------------------
//  The dashboard's accounts: operators, and their API tokens

//  An operator's account; a refusal (no such operator) is no error
static json_t *
s_account (en_http_t *http, void *app, const char *name, en_error_t *error)
{
    json_t *account = en_http_call (http, "operator-hash", json_pack ("{s:s}", "name", name), error);
    if (account)
        json_object_set_new (account, "role", json_string ("operator"));
    else
    if (!en_http_unanswered (error))
        en_error_clear (error);
    return account;
}

static int
s_token_check (en_http_t *http, void *app, const char *hash, char **name, char **role)
{
    json_t *result = en_http_call (http, "token-check", json_pack ("{s:s}", "hash", hash), NULL);
    int rc = -1;
    if (en_json_str (result, "operator")) {
        *name = strdup (en_json_str (result, "operator"));
        *role = strdup ("operator");
        rc = 0;
    }
    json_decref (result);
    return rc;
}

static void
s_login_page (FILE *out, void *app, const en_http_login_view_t *view)
{
    en_web_t *self = (en_web_t *) app;
    en_pages_login (out, self->broker, view->message, view->next, view->name);
}

//  -------------------------------------------------------------------------
//  Pages

static void
s_page_frame (en_http_request_t *req, en_page_t *page)
{
    page->broker = s_web (req)->broker;
    page->operator_name = en_http_request_user (req);
    page->csrf = en_http_request_csrf (req);
    page->now = en_now_ms ();
}

//  Open a page in the frame, written to buf: its title, the menu item
//  shown as active (or NULL)
static FILE *
s_page_open (en_http_request_t *req, en_text_t *buf, en_page_t *page, const char *title, const char *active)
{
    s_page_frame (req, page);
    FILE *out = en_text_open (buf);
    assert (out);
    en_pages_begin (out, page, title, active);
    return out;
}

//  Close the frame and reply with the page
static int
s_page_reply (en_http_request_t *req, unsigned int status, FILE *out, en_text_t *buf)
{
    en_pages_end (out);
    return en_http_reply_html (req, status, out, buf);
}

//  The broker's refusals are English (they are its API's); operators
//  read them in Dutch. Known ones by a phrase, the rest by status code.
static const char *s_refusals [][2] = {
    { "is already closed", "Dit verzoek is al gesloten." },
    { "cannot be offered again", "Dit verzoek kan in deze toestand niet opnieuw worden aangeboden." },
    { "cannot be escalated", "Dit verzoek kan in deze toestand niet worden geëscaleerd." },
    { "no bovenregionale procesregisseur", "Er is nu geen bovenregionale procesregisseur beschikbaar." },
    { "is with peer broker", "Dit verzoek ligt bij de broker van een andere provincie: daar handelen ze het af, "
                             "of haal het terug." },
    { "was accepted by", "Een expert in de andere provincie heeft het al geaccepteerd: sluit het in plaats daarvan." },
    { "is not with a peer broker", "Dit verzoek ligt niet bij een andere provincie." },
    { "field 'reason'", "Vul een reden in (hoogstens 500 tekens)." },
    { NULL, NULL } };

static const char *
s_refusal (const en_error_t *error)
{
    if (en_http_unanswered (error))
        return "De broker antwoordt niet; probeer het zo opnieuw.";
    for (int i = 0; s_refusals [i][0]; i++)
        if (strstr (error->reason, s_refusals [i][0]))
            return s_refusals [i][1];
    switch (error->code) {
        case 404: return "Dit verzoek bestaat niet (meer).";
        case 409: return "Dit kan niet in de huidige toestand van het verzoek.";
        case 400: case 422: return "De gegevens zijn niet geldig.";
        default:  return "De broker kon dit niet uitvoeren.";
    }
}

//  A page with a short message, in the frame
static int
s_page_message (en_http_request_t *req, unsigned int status, const char *title, const char *message)
{
    en_page_t page;
    en_text_t buf;
    FILE *out = s_page_open (req, &buf, &page, title, NULL);
    en_pages_message (out, title, message);
    return s_page_reply (req, status, out, &buf);
}

//  A broker call failed: a page saying so (502/404 and the like)
static int
s_page_error (en_http_request_t *req, const en_error_t *error)
{
    unsigned int status = (unsigned int) error->code;
    return s_page_message (req, status, en_http_unanswered (error) ? "De broker antwoordt niet"
                                      : status == 404 ? "Niet gevonden" : "Fout", s_refusal (error));
}

static int
s_page_overview (en_http_request_t *req)
{
    en_error_t error;
    json_t *overview = s_ask (req, "overview", NULL, &error);
    if (!overview)
        return s_page_error (req, &error);
    json_t *charts = s_ask (req, "charts", NULL, NULL);
    en_page_t page;
    en_text_t buf;
    FILE *out = s_page_open (req, &buf, &page, "Overzicht", "overzicht");
    fputs ("<div class=\"livebar\"><h1>Overzicht</h1><span id=\"live-status\" class=\"live\">live</span></div>"
           "<div id=\"live\" data-src=\"/fragment/overview\" data-every=\"2000\" aria-live=\"polite\">", out);
    en_pages_overview (out, overview);
    fputs ("</div><h2>Doorlooptijden</h2><div id=\"charts\" data-src=\"/fragment/charts\" data-every=\"30000\" aria-live=\"polite\">", out);
    en_pages_charts (out, charts);
    fputs ("</div>", out);
    json_decref (charts);
    json_decref (overview);
    return s_page_reply (req, MHD_HTTP_OK, out, &buf);
}

static int
s_page_charts (en_http_request_t *req)
{
    en_error_t error;
    json_t *charts = s_ask (req, "charts", NULL, &error);
    if (!charts)
        return s_page_error (req, &error);
    en_page_t page;
    en_text_t buf;
    FILE *out = s_page_open (req, &buf, &page, "Grafieken", "grafieken");
    fputs ("<div class=\"livebar\"><h1>Grafieken</h1><span id=\"live-status\" class=\"live\">live</span></div>"
           "<p class=\"muted\">Tijden gemeten vanaf het indienen van een verzoek bij de broker; kleuren per urgentie."
           " Ververst elke 30 seconden.</p><div data-src=\"/fragment/charts\" data-every=\"30000\" aria-live=\"polite\">", out);
    en_pages_charts (out, charts);
    fputs ("</div>", out);
    json_decref (charts);
    return s_page_reply (req, MHD_HTTP_OK, out, &buf);
}

//  The live parts: /fragment/overview and /fragment/charts, the markup
//  the pages hold inside their live elements; when the broker does not
//  give it, an empty 502 (the live indicator then says it is down)
typedef void (s_fragment_fn) (FILE *out, json_t *data);

static int
s_fragment (en_http_request_t *req, const char *verb, s_fragment_fn *render)
{
    json_t *data = s_ask (req, verb, NULL, NULL);
    if (!data)
        return en_http_reply (req, MHD_HTTP_BAD_GATEWAY, "text/plain; charset=utf-8", strdup (""), 0);
    en_text_t buf;
    FILE *out = en_text_open (&buf);
    assert (out);
    render (out, data);
    json_decref (data);
    return en_http_reply_html (req, MHD_HTTP_OK, out, &buf);
}

static int
s_fragment_overview (en_http_request_t *req)
{
    return s_fragment (req, "overview", en_pages_overview);
}

static int
s_fragment_charts (en_http_request_t *req)
{
    return s_fragment (req, "charts", en_pages_charts);
}

static bool
s_state_valid (const char *state)
{
    static const char *states [] = { "submitted", "offered", "escalated", "accepted", "advice",
                                     "monitoring", "closed", "hiaat", NULL };
    for (int i = 0; state && states [i]; i++)
        if (streq (state, states [i]))
            return true;
    return false;
}

static int
s_page_requests (en_http_request_t *req)
{
    const char *state = en_http_request_query (req, "status");
    if (state && !*state)
        state = NULL;
    if (state && !s_state_valid (state))
        state = NULL;
    json_t *args = json_pack ("{s:i}", "limit", 500);
    if (state)
        json_object_set_new (args, "state", json_string (state));
    en_error_t error;
    json_t *requests = en_http_call (s_http (req), "requests", args, &error);
    if (!requests)
        return s_page_error (req, &error);
    en_page_t page;
    en_text_t buf;
    FILE *out = s_page_open (req, &buf, &page, "Verzoeken", "verzoeken");
    en_pages_requests (out, requests, state, page.now);
    json_decref (requests);
    return s_page_reply (req, MHD_HTTP_OK, out, &buf);
}

//  A request as the operator sees it (logged in the broker's access
//  log), and in *audit its access log (an empty list when that failed)
static json_t *
s_request_view (en_http_request_t *req, const char *id, json_t **audit, en_error_t *error)
{
    *audit = NULL;
    json_t *request = en_http_call (s_http (req), "request",
                                    json_pack ("{s:s, s:s}", "id", id, "operator", en_http_request_user (req)),
                                    error);
    if (request)
        *audit = en_http_call (s_http (req), "audit-show", json_pack ("{s:s}", "case", id), NULL);
    if (request && !*audit)
        *audit = json_array ();
    return request;
}

static const char *
s_action_done (const char *action)
{
    if (action && streq (action, "reoffer"))
        return "Het verzoek is opnieuw aangeboden.";
    if (action && streq (action, "escalate"))
        return "Het verzoek is geëscaleerd naar een bovenregionale procesregisseur.";
    if (action && streq (action, "close"))
        return "Het verzoek is gesloten.";
    if (action && streq (action, "recall"))
        return "Het verzoek is teruggehaald en wordt hier opnieuw gerouteerd.";
    return NULL;
}

static int
s_page_request (en_http_request_t *req, const char *id, const char *message, bool is_error, unsigned int status)
{
    json_t *audit;
    en_error_t error;
    json_t *request = s_request_view (req, id, &audit, &error);
    if (!request)
        return s_page_error (req, &error);
    if (!message)
        message = s_action_done (en_http_request_query (req, "gedaan"));
    en_page_t page;
    en_text_t buf;
    FILE *out = s_page_open (req, &buf, &page, id, "verzoeken");
    en_pages_request (out, &page, request, audit, message, is_error);
    json_decref (request);
    json_decref (audit);
    return s_page_reply (req, status, out, &buf);
}

static bool
s_action_valid (const char *action)
{
    return action && (streq (action, "reoffer") || streq (action, "escalate") || streq (action, "close")
                      || streq (action, "recall"));
}

//  An operator action from the request page's forms
static int
s_page_action (en_http_request_t *req, const char *id)
{
    const char *names [] = { "csrf", "action", "reason", "place", NULL };
    json_t *fields = en_http_request_fields (req, names);
    if (!en_http_request_csrf_ok (req, en_json_str (fields, "csrf"))) {
        json_decref (fields);
        return s_page_request (req, id, "Het formulier is verlopen; probeer het opnieuw.", true, MHD_HTTP_FORBIDDEN);
    }
    const char *action = en_json_str (fields, "action");
    const char *reason = en_json_str (fields, "reason");
    if (!s_action_valid (action) || !reason || !*reason) {
        json_decref (fields);
        return s_page_request (req, id, "Kies een actie en vul een reden in.", true, MHD_HTTP_UNPROCESSABLE_CONTENT);
    }
    en_error_t error;
    json_t *args = json_pack ("{s:s, s:s, s:s}", "request", id, "reason", reason, "operator", en_http_request_user (req));
    //  One place of a team (empty: the whole request)
    const char *place = en_json_str (fields, "place");
    if (place && *place)
        json_object_set_new (args, "place", json_integer (atoll (place)));
    json_t *result = en_http_call (s_http (req), action, args, &error);
    int answer;
    if (result) {
        char location [160];
        snprintf (location, sizeof location, "/verzoek/%s?gedaan=%s", id, action);
        answer = en_http_redirect (req, location);
    }
    else {
        char message [400];
        snprintf (message, sizeof message, "Niet gelukt: %s", s_refusal (&error));
        answer = s_page_request (req, id, message, true, (unsigned int) error.code);
    }
    json_decref (result);
    json_decref (fields);
    return answer;
}

static int
s_page_experts (en_http_request_t *req)
{
    en_error_t error;
    json_t *experts = en_http_call (s_http (req), "experts", NULL, &error);
    if (!experts)
        return s_page_error (req, &error);
    en_page_t page;
    en_text_t buf;
    FILE *out = s_page_open (req, &buf, &page, "Experts", "experts");
    en_pages_experts (out, experts, page.now);
    json_decref (experts);
    return s_page_reply (req, MHD_HTTP_OK, out, &buf);
}

//  -------------------------------------------------------------------------
//  JSON API and metrics

//  Call the broker and pass its answer on
static int
s_api_call (en_http_request_t *req, const char *verb, json_t *args)
{
    en_error_t error;
    json_t *answer = s_ask (req, verb, args, &error);
    return en_http_reply_answer (req, answer, &error);
}

//  POST /api/requests/<id>/<action>: an operator action
static int
s_api_action (en_http_request_t *req, const char *path)
{
    char id [96], action [16];
    if (sscanf (path, "/requests/%95[a-z0-9.-]/%15[a-z]", id, action) != 2 || !s_action_valid (action))
        return en_http_reply_error (req, MHD_HTTP_NOT_FOUND, "no such API path");
    if (!en_http_request_csrf_ok (req, NULL))
        return en_http_reply_error (req, MHD_HTTP_FORBIDDEN, "X-CSRF-Token header required with a session cookie");
    const char *names [] = { "reason", "place", NULL };
    json_t *fields = en_http_request_fields (req, names);
    if (!fields)
        return en_http_reply_error (req, MHD_HTTP_BAD_REQUEST, "body must be a JSON object or a form");
    json_t *args = json_pack ("{s:s, s:s, s:s?}", "request", id, "operator", en_http_request_user (req),
                              "reason", en_json_str (fields, "reason"));
    //  One place of a team: a number (in a form, its text)
    json_t *place = json_object_get (fields, "place");
    if (json_is_string (place))
        json_object_set_new (args, "place", json_integer (atoll (json_string_value (place))));
    else
    if (place)
        json_object_set (args, "place", place);
    json_decref (fields);
    return s_api_call (req, action, args);
}

static int
s_api_me (en_http_request_t *req)
{
    return en_http_reply_json (req, MHD_HTTP_OK, json_pack ("{s:s, s:s, s:s?}", "operator", en_http_request_user (req),
                                                            "via", en_http_request_via_session (req) ? "session" : "token",
                                                            "csrf", en_http_request_csrf (req)));
}

//  The nodes: the overview's list
static int
s_api_nodes (en_http_request_t *req)
{
    en_error_t error;
    json_t *overview = s_ask (req, "overview", NULL, &error);
    json_t *nodes = overview ? json_incref (json_object_get (overview, "nodes")) : NULL;
    json_decref (overview);
    return en_http_reply_answer (req, overview ? (nodes ? nodes : json_null ()) : NULL, &error);
}

static int
s_api_charts (en_http_request_t *req)
{
    const char *days = en_http_request_query (req, "days");
    json_t *args = json_object ();
    if (days && atoi (days) > 0)
        json_object_set_new (args, "days", json_integer (atoi (days)));
    return s_api_call (req, "charts", args);
}

static int
s_api_requests (en_http_request_t *req)
{
    const char *state = en_http_request_query (req, "state");
    const char *limit = en_http_request_query (req, "limit");
    if (state && !s_state_valid (state))
        return en_http_reply_error (req, MHD_HTTP_BAD_REQUEST, "state must be a request state");
    json_t *args = json_pack ("{s:i}", "limit", limit && atoi (limit) > 0 ? MIN (atoi (limit), 5000) : 100);
    if (state)
        json_object_set_new (args, "state", json_string (state));
    return s_api_call (req, "requests", args);
}

//  One request with its access log (logged as the operator's view)
static int
s_api_request (en_http_request_t *req, const char *id)
{
    if (!en_id_valid (id))
        return en_http_reply_error (req, MHD_HTTP_NOT_FOUND, "no such request");
    json_t *audit;
    en_error_t error;
    json_t *request = s_request_view (req, id, &audit, &error);
    if (request)
        json_object_set_new (request, "audit", audit);
    return en_http_reply_answer (req, request, &error);
}

//  GET /api/...: a path passed on as one broker verb, or its own handler
static const struct {
    const char *path;           //  after "/api"
    const char *verb;           //  the broker verb it passes on, or NULL
    int (*handler) (en_http_request_t *req);    //  else this
} s_api_routes [] = {
    { "/me",        NULL,           s_api_me },
    { "/overview",  "overview",     NULL },
    { "/status",    "status",       NULL },
    { "/experts",   "experts",      NULL },
    { "/offers",    "offers",       NULL },
    { "/hiaten",    "hiaten",       NULL },
    { "/nodes",     NULL,           s_api_nodes },
    { "/charts",    NULL,           s_api_charts },
    { "/requests",  NULL,           s_api_requests },
    { NULL, NULL, NULL }
};

static int
s_api (en_http_request_t *req)
{
    const char *path = en_http_request_path (req) + 4;            //  after "/api"
    if (en_http_request_post (req))
        return s_api_action (req, path);
    for (int i = 0; s_api_routes [i].path; i++)
        if (streq (path, s_api_routes [i].path))
            return s_api_routes [i].verb ? s_api_call (req, s_api_routes [i].verb, NULL)
                                         : s_api_routes [i].handler (req);
    if (strncmp (path, "/requests/", 10) == 0)
        return s_api_request (req, path + 10);
    return en_http_reply_error (req, MHD_HTTP_NOT_FOUND, "no such API path");
}

static int
s_metrics (en_http_request_t *req)
{
    en_web_t *self = s_web (req);
    json_t *families = s_ask (req, "metrics", NULL, NULL);
    if (!families)
        return en_http_reply (req, MHD_HTTP_BAD_GATEWAY, "text/plain; charset=utf-8",
                              strdup ("the broker did not answer\n"), 26);
    json_t *family = en_metrics_gauge (families, "expertnet_web_sessions", "Dashboard sessions open.");
    en_metrics_sample (family, NULL, NULL, (double) en_http_sessions (self->http));
    family = json_pack ("{s:s, s:s, s:s, s:[]}", "name", "expertnet_web_logins_total", "type", "counter",
                        "help", "Dashboard login attempts: ok, failed (wrong name or password), locked (refused unchecked).",
                        "samples");
    const char *outcomes [] = { "ok", "failed", "locked" };
    for (int i = 0; i < 3; i++)
        en_metrics_sample (family, "outcome", outcomes [i], (double) en_http_logins (self->http, i));
    json_array_append_new (families, family);
    family = json_pack ("{s:s, s:s, s:s, s:[]}", "name", "expertnet_web_responses_total", "type", "counter",
                        "help", "Dashboard HTTP responses, by status class.", "samples");
    for (int i = 1; i <= 5; i++) {
        char label [4];
        snprintf (label, sizeof label, "%dxx", i);
        en_metrics_sample (family, "class", label, (double) en_http_responses (self->http, i));
    }
    json_array_append_new (families, family);
    char *text = en_metrics_text (families);
    json_decref (families);
    return en_http_reply (req, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, strlen (text));
}

//  -------------------------------------------------------------------------
//  Dispatch

//  The pages an operator GETs, by exact path
static const struct {
    const char *path;
    int (*handler) (en_http_request_t *req);
} s_pages [] = {
    { "/",                  s_page_overview },
    { "/fragment/overview", s_fragment_overview },
    { "/fragment/charts",   s_fragment_charts },
    { "/grafieken",         s_page_charts },
    { "/verzoeken",         s_page_requests },
    { "/experts",           s_page_experts },
    { "/metrics",           s_metrics },
    { NULL, NULL }
};

static int
s_dispatch (en_http_request_t *req, void *app)
{
    const char *url = en_http_request_path (req);
    bool post = en_http_request_post (req);
    if (strncmp (url, "/api/", 5) == 0)
        return s_api (req);
    if (strncmp (url, "/verzoek/", 9) == 0) {
        const char *id = url + 9;
        if (!en_id_valid (id))
            return s_page_message (req, MHD_HTTP_NOT_FOUND, "Niet gevonden", "Dit verzoek bestaat niet.");
        return post ? s_page_action (req, id) : s_page_request (req, id, NULL, false, MHD_HTTP_OK);
    }
    if (post)
        return en_http_reply_error (req, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed here");
    for (int i = 0; s_pages [i].path; i++)
        if (streq (url, s_pages [i].path))
            return s_pages [i].handler (req);
    return s_page_message (req, MHD_HTTP_NOT_FOUND, "Niet gevonden", "Deze pagina bestaat niet.");
}

//  -------------------------------------------------------------------------
//  Life cycle

en_web_t *
en_web_new (zconfig_t *config, const char *control_endpoint, const char *broker_name,
            const char *store_path, en_error_t *error)
{
    en_web_t *self = (en_web_t *) zmalloc (sizeof (en_web_t));
    assert (self);
    self->broker = strdup (broker_name);
    en_error_t store_error = { 0 };
    self->store = store_path ? en_bstore_open_readonly (store_path, &store_error) : NULL;
    if (store_path && !self->store)
        zsys_warning ("dashboard reads its figures through the broker's loop: %s", store_error.reason);
    static const en_http_app_t app = {
        .log_name = "dashboard",
        .logout_path = "/logout",
        .default_address = EN_WEB_DEFAULT_ADDRESS,
        .name_key = "operator",
        .dispatch = s_dispatch,
        .account = s_account,
        .login_page = s_login_page,
        .token_check = s_token_check,
    };
    self->http = en_http_new (config, "web", control_endpoint, &app, self, error);
    if (!self->http) {
        en_web_destroy (&self);
        return NULL;
    }
    en_http_static (self->http, "/static/style.css", "text/css; charset=utf-8", en_web_css);
    en_http_static (self->http, "/static/app.js", "text/javascript; charset=utf-8", en_web_js);
    zsys_info ("dashboard on %s://%s/ (operators: 'expertnet broker operator-add NAME')",
               en_http_scheme (self->http), zconfig_get (config, "web/address", EN_WEB_DEFAULT_ADDRESS));
    return self;
}

void
en_web_destroy (en_web_t **self_p)
{
    assert (self_p);
    en_web_t *self = *self_p;
    if (self) {
        en_http_destroy (&self->http);
        en_bstore_destroy (&self->store);
        free (self->broker);
        free (self);
        *self_p = NULL;
    }
}
