/*  en_portal - the region's web portal (see en_portal.h).

    The web part (HTTP, TLS, logins with Argon2id and TOTP, lockout,
    sessions, CSRF, headers, bodies) is en_http's; the HTML is
    en_portal_pages.c's. What is here: the accounts (the node's
    "user-get" verb: name -> pwhash, role, expert id, TOTP secret), the
    login events for the access log ("login-event"), the route table that
    says which role may use which page, and for each page the verbs it
    calls and the page function it renders with.

    Roles. A session knows its account's role (en_http re-checks it every
    30 s: a changed role, password or a disabled account ends it). The
    route table is the one place that says who may see what:
      medewerker  /zaken..., /verzoeken...   (this region's cases and requests)
      expert      /aanbod..., /beschikbaarheid   (only their own offers:
                  an offer of another expert answers 404, as if absent)
      beheerder   /beheer/...
      everyone    /, /api/panel/home
    A route of another role answers 403 with a page that says so.

    Every verb carries "_user", the logged-in person, so the node's
    access log names who read or did what, as it does for `expertnet`.

    Forms post back to their own page (POST-redirect-GET on success, with
    ?gedaan=<what> for the message); a refusal re-renders the form with
    the values typed and a Dutch message on the field (en_portal_check
    before asking the node, en_portal_errors_from_node after), status 422.

    Logins. The node records each (login-event, which also refuses a TOTP
    code used before). An expert's box key is unwrapped with the password
    in the login hook, here in the web thread, and kept in the session
    only (en_http_request_set_secret: sodium_malloc'd, wiped at logout or
    expiry); the expert's dossiers and the team's replies are opened with
    it when the offer's page is shown. The node never holds the key in
    clear, so its administrators cannot read a dossier.
*/
#include "en_portal.h"
#include "en_portal_pages.h"
#include <microhttpd.h>
#include <sodium.h>
#include <time.h>
#include <stdarg.h>

#define PORTAL_MAX_BODY     (1024 * 1024)   //  a dossier upload fits

struct _en_portal_t {
    en_http_t *http;            //  the web stack, with its thread
    char *node;                 //  node name, for the pages
    char *region;               //  jeugdregio, for the pages
};

enum {
    R_MEDEWERKER = 1,
    R_EXPERT = 2,
    R_BEHEERDER = 4,
    R_ALL = 7
};

static unsigned
s_role_bit (const char *role)
{
    if (!role)
        return 0;
    return streq (role, "medewerker") ? R_MEDEWERKER
         : streq (role, "expert") ? R_EXPERT
         : streq (role, "beheerder") ? R_BEHEERDER : 0;
}

//  -------------------------------------------------------------------------
//  Helpers

//  What the page functions know about this request
static void
s_ctx (en_portal_t *self, en_http_request_t *req, en_portal_ctx_t *ctx)
{
    static const char *done [][2] = {
        { "ingediend", "Het verzoek is ingediend." }, { "gesloten", "Het verzoek is gesloten." },
        { "geaccepteerd", "U hebt het aanbod geaccepteerd." }, { "afgewezen", "U hebt het aanbod afgewezen." },
        { "advies", "Het advies is verstuurd." }, { "opgeslagen", "Opgeslagen." },
        { "fase", "De fase is bijgewerkt." }, { "reactie", "Uw reactie is versleuteld naar de expert gestuurd." },
        { "bericht", "Uw bericht is versleuteld naar alle deelnemers gestuurd." },
        { "terug-op-et", "De datum terug op ET is naar de broker gestuurd; hij staat hier zodra de broker hem"
                         " bevestigt." },
        { "beraad", "Het moreel beraad is bijgewerkt; de deelnemers krijgen bericht." },
        { "beraad-antwoord", "Uw antwoord is naar het expertteam gestuurd." },
        { NULL, NULL } };
    memset (ctx, 0, sizeof *ctx);
    ctx->user = en_http_request_user (req);
    ctx->role = en_http_request_role (req);
    ctx->expert = en_http_request_extra (req);
    ctx->csrf = en_http_request_csrf (req);
    ctx->node = self->node;
    ctx->region = self->region;
    ctx->recover = true;            //  /herstel is served without a session
    ctx->now = en_now_ms ();
    const char *what = en_http_request_query (req, "gedaan");
    for (int i = 0; what && done [i][0]; i++)
        if (streq (what, done [i][0]))
            ctx->flash = done [i][1];
}

//  Reply with a page function's result (owned)
static int
s_html (en_http_request_t *req, unsigned int status, char *html)
{
    if (!html)
        return en_http_reply_error (req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    return en_http_reply (req, status, "text/html; charset=utf-8", html, strlen (html));
}

static int
s_message (en_portal_t *self, en_http_request_t *req, unsigned int status, const char *title, const char *text)
{
    en_portal_ctx_t ctx;
    s_ctx (self, req, &ctx);
    return s_html (req, status, en_portal_page_message (&ctx, title, text));
}

//  A verb on the node, as the logged-in person (args consumed, may be
//  NULL): its answer, or NULL with error set (error may be NULL)
static json_t *
s_call (en_portal_t *self, en_http_request_t *req, const char *verb, json_t *args, en_error_t *error)
{
    if (!args)
        args = json_object ();
    if (!json_object_get (args, "_user"))
        json_object_set_new (args, "_user", json_string (en_http_request_user (req) ?: "portal"));
    return en_http_call (self->http, verb, args, error);
}

//  The node refused or did not answer: a page saying so, in Dutch
static int
s_failed (en_portal_t *self, en_http_request_t *req, const en_error_t *error)
{
    if (en_http_unanswered (error))
        return s_message (self, req, MHD_HTTP_BAD_GATEWAY, "De node antwoordt niet", "Probeer het zo opnieuw.");
    unsigned int status = (unsigned int) error->code;
    json_t *errors = en_portal_errors_from_node (error->reason);
    const char *text = NULL;
    const char *key;
    json_t *value;
    json_object_foreach (errors, key, value) {
        text = json_string_value (value);
        break;
    }
    int answer = s_message (self, req, status >= 400 && status < 600 ? status : 500,
                            status == 404 ? "Niet gevonden" : "Niet gelukt", text ? text : "De node weigerde dit.");
    json_decref (errors);
    return answer;
}

//  Ask the node to do what a form asks (args consumed): its answer
//  (caller owns), or NULL: refused, with *errors replaced by the Dutch
//  error map for the form (the PII guard's refusal lands on its field;
//  nothing was sent), or not answered, with *errors left as it was and
//  the page saying so queued in *answer.
static json_t *
s_form_call (en_portal_t *self, en_http_request_t *req, const char *verb, json_t *args,
             json_t **errors, int *answer)
{
    en_error_t error;
    json_t *result = s_call (self, req, verb, args, &error);
    if (result)
        return result;
    if (en_http_unanswered (&error))
        *answer = s_failed (self, req, &error);
    else {
        json_decref (*errors);
        *errors = en_portal_errors_from_node (error.reason);
    }
    return NULL;
}

//  A form value: the string, NULL when absent or empty
static const char *
s_value (json_t *values, const char *name)
{
    const char *value = en_json_str (values, name);
    return value && *value ? value : NULL;
}

//  Copy a non-empty string value into target under name
static void
s_copy (json_t *target, json_t *values, const char *name)
{
    if (s_value (values, name))
        json_object_set_new (target, name, json_string (s_value (values, name)));
}

//  A list value (array of non-empty strings) into target, with extra
//  comma-separated items from the "<name>_anders" field
static void
s_copy_list (json_t *target, json_t *values, const char *name)
{
    json_t *list = json_array ();
    size_t index;
    json_t *item;
    json_array_foreach (json_object_get (values, name), index, item)
        if (json_string_length (item))
            json_array_append (list, item);
    char other [64];
    snprintf (other, sizeof other, "%s_anders", name);
    if (s_value (values, other)) {
        char *copy = strdup (s_value (values, other)), *save = NULL;
        for (char *part = strtok_r (copy, ",", &save); part; part = strtok_r (NULL, ",", &save)) {
            while (*part == ' ')
                part++;
            size_t len = strlen (part);
            while (len && part [len - 1] == ' ')
                part [--len] = 0;
            if (len)
                json_array_append_new (list, json_string (part));
        }
        free (copy);
    }
    if (json_array_size (list))
        json_object_set_new (target, name, list);
    else
        json_decref (list);
}

//  A team's places from the form (place<N>_role, place<N>_expertise: a
//  role, and tags separated by commas); none when no role was chosen.
//  The node checks them (errors name places[N].role ...).
static void
s_copy_places (json_t *target, json_t *values)
{
    json_t *places = json_array ();
    for (int place = 1; place <= EN_MAX_PLACES; place++) {
        char role [32], tags [32], other [48];
        snprintf (role, sizeof role, "place%d_role", place);
        snprintf (tags, sizeof tags, "place%d_expertise", place);
        if (!s_value (values, role))
            continue;
        json_t *item = json_pack ("{s:s}", "role", s_value (values, role));
        //  s_copy_list reads the comma-separated "<name>_anders" field
        json_t *typed = json_object ();
        snprintf (other, sizeof other, "%s_anders", tags);
        if (s_value (values, tags))
            json_object_set_new (typed, other, json_string (s_value (values, tags)));
        s_copy_list (item, typed, tags);
        json_decref (typed);
        json_t *list = json_object_get (item, tags);
        if (list)
            json_object_set (item, "expertise", list);
        json_object_del (item, tags);
        json_array_append_new (places, item);
    }
    if (json_array_size (places))
        json_object_set_new (target, "places", places);
    else
        json_decref (places);
}

//  The form's fields, after its CSRF token is checked; NULL (and the
//  answer already queued in *answer) when the token is wrong
static json_t *
s_form (en_portal_t *self, en_http_request_t *req, const char **names, int *answer)
{
    json_t *values = en_http_request_fields (req, names);
    const char *csrf [] = { "csrf", NULL };
    json_t *token = en_http_request_fields (req, csrf);
    bool ok = en_http_request_csrf_ok (req, en_json_str (token, "csrf"));
    json_decref (token);
    if (!ok || !values) {
        json_decref (values);
        *answer = s_message (self, req, MHD_HTTP_FORBIDDEN, "Formulier verlopen",
                             "Het formulier is verlopen. Laad de pagina opnieuw en probeer het nog eens.");
        return NULL;
    }
    return values;
}

//  The row of array (the last) whose key is value, or NULL (caller owns)
static json_t *
s_row (json_t *array, const char *key, const char *value)
{
    json_t *found = NULL;
    size_t index;
    json_t *row;
    json_array_foreach (array, index, row)
        if (streq (en_json_str (row, key) ?: "", value))
            found = row;
    return json_incref (found);
}

static bool
s_has_errors (json_t *errors)
{
    return json_object_size (errors) > 0;
}

//  yyyy-mm-dd -> ms at the start of the next day (local time); 0 for
//  empty, -1 when it is not a date
static int64_t
s_date_end_ms (const char *date)
{
    if (!date || !*date)
        return 0;
    struct tm tm = { 0 };
    if (sscanf (date, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_mday += 1;
    tm.tm_isdst = -1;
    time_t t = mktime (&tm);
    return t == (time_t) -1 ? -1 : (int64_t) t * 1000;
}

//  303 to a local path made like printf (after a form was done)
static int
s_redirect (en_http_request_t *req, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static int
s_redirect (en_http_request_t *req, const char *format, ...)
{
    char location [200];
    va_list args;
    va_start (args, format);
    vsnprintf (location, sizeof location, format, args);
    va_end (args);
    return en_http_redirect (req, location);
}

//  The form's "absent_until" as ms (0: present); a value that is no
//  date (which the checks let through) is an error on its field
static int64_t
s_absent_until (json_t *values, json_t *errors)
{
    int64_t until = s_date_end_ms (s_value (values, "absent_until"));
    if (!s_has_errors (errors) && until < 0)
        json_object_set_new (errors, "absent_until", json_string ("Afwezig tot: vul een datum in (jjjj-mm-dd)."));
    return until;
}

//  -------------------------------------------------------------------------
//  Everyone

static json_t *
s_home_items (en_portal_t *self, en_http_request_t *req)
{
    unsigned role = s_role_bit (en_http_request_role (req));
    if (role == R_MEDEWERKER)
        return s_call (self, req, "requests", json_pack ("{s:i}", "limit", 50), NULL);
    if (role == R_EXPERT && en_http_request_extra (req))
        return s_call (self, req, "inbox", json_pack ("{s:s}", "expert", en_http_request_extra (req)), NULL);
    if (role == R_EXPERT)
        return NULL;
    return s_call (self, req, "notifications", NULL, NULL);
}

static int
s_get_home (en_portal_t *self, en_http_request_t *req, const char *rest)
{
    json_t *status = s_call (self, req, "status", NULL, NULL);
    json_t *items = s_home_items (self, req);
    en_portal_ctx_t ctx;
    s_ctx (self, req, &ctx);
    int answer = s_html (req, MHD_HTTP_OK, en_portal_page_home (&ctx, status, items));
    json_decref (status);
    json_decref (items);
    return answer;
}

//  -------------------------------------------------------------------------
//  Medewerker: cases and requests

static int
s_get_cases (en_portal_t *self, en_http_request_t *req, const char *rest)
{
    en_error_t error;
    json_t *cases = s_call (self, req, "cases", NULL, &error);
    if (!cases)
        return s_failed (self, req, &error);
    en_portal_ctx_t ctx;
    s_ctx (self, req, &ctx);
    int answer = s_html (req, MHD_HTTP_OK, en_portal_page_cases (&ctx, cases));
    json_decref (cases);
    return answer;
}

static const char *s_case_fields [] = {
    "client_id", "name", "birth_date", "address", "postcode", "contact", "school", "age_band",
    "leefgebieden[]", "problematiek[]", "problematiek_anders", "kader", "situatie", NULL };

static int
s_get_case_new (en_portal_t *self, en_http_request_t *req, const char *rest)
{
    en_portal_ctx_t ctx;
    s_ctx (self, req, &ctx);
    return s_html (req, MHD_HTTP_OK, en_portal_page_case_new (&ctx, NULL, NULL));
}

static int
s_post_case_new (en_portal_t *self, en_http_request_t *req, const char *rest)
{
    int answer;
    json_t *values = s_form (self, req, s_case_fields, &answer);
    if (!values)
        return answer;
    en_portal_ctx_t ctx;
    s_ctx (self, req, &ctx);
    json_t *errors = en_portal_check ("case", values, NULL);
    if (!s_has_errors (errors)) {
        json_t *identity = json_object ();
        const char *identifying [] = { "name", "birth_date", "address", "postcode", "contact", "school", NULL };
        for (int i = 0; identifying [i]; i++)
            s_copy (identity, values, identifying [i]);
        json_t *summary = json_object ();
        s_copy (summary, values, "age_band");
        s_copy_list (summary, values, "leefgebieden");
        s_copy_list (summary, values, "problematiek");
        s_copy (summary, values, "kader");
        s_copy (summary, values, "situatie");
        json_t *args = json_pack ("{s:s?, s:o, s:o}", "client_id", s_value (values, "client_id"),
                                  "identity", identity, "summary", summary);
        json_t *result = s_form_call (self, req, "case-add", args, &errors, &answer);
        if (result)
            answer = s_html (req, MHD_HTTP_OK, en_portal_page_case_registered (&ctx, result));
        json_decref (result);
        if (!s_has_errors (errors))      //  done, or no answer (page queued)
            goto done;
    }
    answer = s_html (req, MHD_HTTP_UNPROCESSABLE_CONTENT, en_portal_page_case_new (&ctx, values, errors));
done:
    json_decref (errors);
    json_decref (values);
    return answer;
}

//  The requests of one case (the node's requests, filtered)
static json_t *
s_case_requests (en_portal_t *self, en_http_request_t *req, const char *pseudonym)
{
    json_t *all = s_call (self, req, "requests", json_pack ("{s:i}", "limit", 1000), NULL);
    json_t *mine = json_array ();
    size_t index;
    json_t *row;
    json_array_foreach (all, index, row) {
        const char *of = en_json_str (json_object_get (row, "summary"), "case");
        if (!of)
            of = en_json_str (row, "case");
        if (of && streq (of, pseudonym))
            json_array_append (mine, row);
    }
    json_decref (all);
    return mine;
}

static int
s_case_page (en_portal_t *self, en_http_request_t *req, const char *pseudonym, json_t *values,
             json_t *errors, unsigned int status)
{
    en_error_t error;
    json_t *cases = s_call (self, req, "cases", NULL, &error);
    if (!cases)
        return s_failed (self, req, &error);
    json_t *record = s_row (cases, "pseudonym", pseudonym);
    json_decref (cases);
    if (!record)
        return s_message (self, req, MHD_HTTP_NOT_FOUND, "Niet gevonden", "Deze zaak bestaat niet.");
    json_t *requests = s_case_requests (self, req, pseudonym);
    en_portal_ctx_t ctx;
    s_ctx (self, req, &ctx);
    int answer = s_html (req, status, en_portal_page_case (&ctx, record, requests, values, errors));
    json_decref (record);
    json_decref (requests);
    return answer;
}

static int
s_get_case (en_portal_t *self, en_http_request_t *req, const char *pseudonym)
{
    return s_case_page (self, req, pseudonym, NULL, NULL, MHD_HTTP_OK);
}

static int
s_post_case (en_portal_t *self, en_http_request_t *req, const char *pseudonym)
{
    const char *names [] = { "action", "phase", "passende_hulp", "gedwongen_afzonderingen", "suicides",
                             "gesloten_plaatsingen", "doorplaatsingen", NULL };
    int answer;
    json_t *values = s_form (self, req, names, &answer);
    if (!values)
        return answer;
    json_t *errors = en_portal_check ("phase", values, NULL);
    if (!s_has_errors (errors)) {
        json_t *args = json_pack ("{s:s, s:s?}", "case", pseudonym, "phase", s_value (values, "phase"));
        if (s_value (values, "phase") && streq (s_value (values, "phase"), "afgesloten")) {
            json_t *outcome = json_object ();
            if (s_value (values, "passende_hulp"))
                json_object_set_new (outcome, "passende_hulp",
                                     json_boolean (streq (s_value (values, "passende_hulp"), "ja")));
            const char *counts [] = { "gedwongen_afzonderingen", "suicides", "gesloten_plaatsingen",
                                      "doorplaatsingen", NULL };
            for (int i = 0; counts [i]; i++)
                if (s_value (values, counts [i]))
                    json_object_set_new (outcome, counts [i], json_integer (atoi (s_value (values, counts [i]))));
            json_object_set_new (args, "outcome", outcome);
        }
        json_t *result = s_form_call (self, req, "case-phase", args, &errors, &answer);
        if (result)
            answer = s_redirect (req, "/zaken/%s?gedaan=fase", pseudonym);
        json_decref (result);
        if (!s_has_errors (errors))      //  done, or no answer (page queued)
            goto done;
    }
    answer = s_case_page (self, req, pseudonym, values, errors, MHD_HTTP_UNPROCESSABLE_CONTENT);
done:
    json_decref (errors);
    json_decref (values);
    return answer;
}

static bool
s_state_valid (const char *state)
{
    static const char *states [] = { "queued", "sent", "submitted", "offered", "escalated", "accepted",
                                     "advice", "monitoring", "closed", "hiaat", "rejected", NULL };
    return state && en_vocab_has (states, state);
}

static int
s_get_requests (en_portal_t *self, en_http_request_t *req, const char *rest)
{
    const char *state = en_http_request_query (req, "status");
    if (!s_state_valid (state))
        state = NULL;
    en_error_t error;
    json_t *requests = s_call (self, req, "requests", json_pack ("{s:i, s:s?}", "limit", 500, "state", state), &error);
    if (!requests)
        return s_failed (self, req, &error);
    en_portal_ctx_t ctx;
    s_ctx (self, req, &ctx);
    int answer = s_html (req, MHD_HTTP_OK, en_portal_page_requests (&ctx, requests, state));
    json_decref (requests);
    return answer;
}

//  The expertise tags a request may ask for, each with whether someone
//  holds it now: the node's "tags" verb (what the network holds, as the
//  broker says, and this node's own experts). None when the node does not
//  answer: the form then warns for every tag chosen.
static json_t *
s_tags (en_portal_t *self, en_http_request_t *req)
{
    json_t *tags = s_call (self, req, "tags", NULL, NULL);
    if (json_is_array (tags))
        return tags;
    json_decref (tags);
    return json_array ();
}

static int
s_request_new_page (en_portal_t *self, en_http_request_t *req, json_t *values, json_t *errors,
                    unsigned int status)
{
    json_t *tags = s_tags (self, req);
    json_t *cases = s_call (self, req, "cases", NULL, NULL);
    if (!cases)
        cases = json_array ();
    en_portal_ctx_t ctx;
    s_ctx (self, req, &ctx);
    int answer = s_html (req, status, en_portal_page_request_new (&ctx, tags, cases, values, errors));
    json_decref (tags);
    json_decref (cases);
    return answer;
}

static int
s_get_request_new (en_portal_t *self, en_http_request_t *req, const char *rest)
{
    //  From a case's page: the case chosen already
    const char *pseudonym = en_http_request_query (req, "zaak");
    json_t *values = pseudonym && *pseudonym ? json_pack ("{s:s}", "case", pseudonym) : NULL;
    int answer = s_request_new_page (self, req, values, NULL, MHD_HTTP_OK);
    json_decref (values);
    return answer;
}

static int
s_post_request_new (en_portal_t *self, en_http_request_t *req, const char *rest)
{
    const char *names [] = { "case", "urgency", "question_type", "expertise[]", "age_band", "leefgebieden[]",
                             "problematiek[]", "problematiek_anders", "kader", "situatie", "stuck_on[]",
                             "question", "dossier", "dossier_file", "hiaat_ok",
                             "place1_role", "place1_expertise", "place2_role", "place2_expertise",
                             "place3_role", "place3_expertise", "place4_role", "place4_expertise",
                             "place5_role", "place5_expertise", "place6_role", "place6_expertise",
                             "place7_role", "place7_expertise", "place8_role", "place8_expertise", NULL };
    int answer;
    json_t *values = s_form (self, req, names, &answer);
    if (!values)
        return answer;
    json_t *tags = s_tags (self, req);
    json_t *errors = en_portal_check ("request", values, tags);
    json_decref (tags);
    if (!s_has_errors (errors)) {
        json_t *request = json_object ();
        s_copy (request, values, "case");
        s_copy (request, values, "urgency");
        s_copy (request, values, "question_type");
        s_copy_list (request, values, "expertise");
        s_copy (request, values, "age_band");
        s_copy_list (request, values, "leefgebieden");
        s_copy_list (request, values, "problematiek");
        s_copy (request, values, "kader");
        s_copy (request, values, "situatie");
        s_copy_list (request, values, "stuck_on");
        s_copy (request, values, "question");
        s_copy_places (request, values);
        const char *dossier = s_value (values, "dossier_file") ?: s_value (values, "dossier");
        json_t *result = s_form_call (self, req, "submit",
                                      json_pack ("{s:o, s:s?}", "request", request, "dossier", dossier),
                                      &errors, &answer);
        if (result)
            answer = s_redirect (req, "/verzoeken/%s?gedaan=ingediend", en_json_str (result, "id") ?: "");
        json_decref (result);
        if (!s_has_errors (errors))      //  done, or no answer (page queued)
            goto done;
    }
    answer = s_request_new_page (self, req, values, errors, MHD_HTTP_UNPROCESSABLE_CONTENT);
done:
    json_decref (errors);
    json_decref (values);
    return answer;
}

static int
s_request_page (en_portal_t *self, en_http_request_t *req, const char *id, json_t *values, json_t *errors,
                unsigned int status)
{
    en_error_t error;
    json_t *request = s_call (self, req, "request", json_pack ("{s:s}", "id", id), &error);
    if (!request)
        return s_failed (self, req, &error);
    //  Its conversation, read by the team (the node sends the receipts)
    json_t *thread = s_call (self, req, "thread", json_pack ("{s:s}", "request", id), NULL);
    if (thread && json_array_size (json_object_get (thread, "members")) + json_array_size (json_object_get (thread, "messages")))
        json_object_set (request, "conversation", thread);
    json_decref (thread);
    en_portal_ctx_t ctx;
    s_ctx (self, req, &ctx);
    int answer = s_html (req, status, en_portal_page_request (&ctx, request, values, errors));
    json_decref (request);
    return answer;
}

static int
s_get_request (en_portal_t *self, en_http_request_t *req, const char *id)
{
    if (!en_id_valid (id))
        return s_message (self, req, MHD_HTTP_NOT_FOUND, "Niet gevonden", "Dit verzoek bestaat niet.");
    return s_request_page (self, req, id, NULL, NULL, MHD_HTTP_OK);
}

//  The review date ("terug op ET"): the day at 09:00 in the Netherlands,
//  to the node's verb review, which checks it as the broker will. Takes
//  values.
static int
s_post_review (en_portal_t *self, en_http_request_t *req, const char *id, json_t *values)
{
    json_t *errors = en_portal_check ("review", values, NULL);
    int answer = 0;
    if (!s_has_errors (errors)) {
        int64_t at = en_nl_day_ms (s_value (values, "review_date"), 0, 9);
        if (at <= en_now_ms ())
            json_object_set_new (errors, "review_date", json_string ("Terug op ET: kies een dag in de toekomst."));
        else
        if (at > en_now_ms () + EN_MAX_REVIEW_AHEAD_MS)
            json_object_set_new (errors, "review_date", json_string ("Terug op ET: kies een dag binnen een jaar."));
        else {
            json_t *result = s_form_call (self, req, "review", json_pack ("{s:s, s:I}", "id", id,
                                          "review_at", (json_int_t) at), &errors, &answer);
            if (result)
                answer = s_redirect (req, "/verzoeken/%s?gedaan=terug-op-et", id);
            json_decref (result);
        }
    }
    if (s_has_errors (errors) || !answer)
        answer = s_request_page (self, req, id, values, errors, MHD_HTTP_UNPROCESSABLE_CONTENT);
    json_decref (errors);
    json_decref (values);
    return answer;
}

//  A datetime-local field (Dutch time) as ms onto args[key] (or appended
//  when key is NULL and args an array); an error on the field if it is
//  not a time. Empty: nothing, or an error when required.
static void
s_time_field (json_t *values, const char *field, bool required, json_t *args, const char *key, json_t *errors)
{
    const char *text = s_value (values, field);
    int64_t at = text ? en_nl_time_ms (text) : -1;
    if (at >= 0)
        key ? json_object_set_new (args, key, json_integer (at)) : json_array_append_new (args, json_integer (at));
    else
    if (text || required)
        json_object_set_new (errors, field, json_string ("Vul een datum en tijd in (dd-mm-jjjj uu:mm)."));
}

//  Moreel beraad (the team): propose times, fix one, record it was held
//  (with a note that stays at this node). Takes values.
static int
s_post_beraad (en_portal_t *self, en_http_request_t *req, const char *id, json_t *values)
{
    const char *action = s_value (values, "action") + 7;
    json_t *errors = json_object ();
    json_t *args = json_pack ("{s:s, s:s}", "id", id, "action", action);
    if (streq (action, "propose")) {
        json_t *times = json_array ();
        s_time_field (values, "beraad_tijd_1", true, times, NULL, errors);
        s_time_field (values, "beraad_tijd_2", false, times, NULL, errors);
        s_time_field (values, "beraad_tijd_3", false, times, NULL, errors);
        json_object_set_new (args, "times", times);
    }
    else
    if (streq (action, "fix"))
        s_time_field (values, "beraad_fix", true, args, "at", errors);
    else
    if (streq (action, "held")) {
        s_time_field (values, "beraad_held", true, args, "at", errors);
        if (s_value (values, "beraad_outcome"))
            json_object_set_new (args, "outcome", json_string (s_value (values, "beraad_outcome")));
    }
    else
        json_object_set_new (errors, "", json_string ("Kies voorstellen, vaststellen of gehouden."));
    int answer = 0;
    if (!s_has_errors (errors)) {
        json_t *result = s_form_call (self, req, "beraad", json_incref (args), &errors, &answer);
        if (result)
            answer = s_redirect (req, "/verzoeken/%s?gedaan=beraad", id);
        json_decref (result);
    }
    if (s_has_errors (errors) || !answer)
        answer = s_request_page (self, req, id, values, errors, MHD_HTTP_UNPROCESSABLE_CONTENT);
    json_decref (args);
    json_decref (errors);
    json_decref (values);
    return answer;
}

static int
s_post_request (en_portal_t *self, en_http_request_t *req, const char *id)
{
    if (!en_id_valid (id))
        return s_message (self, req, MHD_HTTP_NOT_FOUND, "Niet gevonden", "Dit verzoek bestaat niet.");
    const char *names [] = { "action", "text", "passende_hulp", "outcome", "place", "bericht", "review_date",
                             "beraad_tijd_1", "beraad_tijd_2", "beraad_tijd_3", "beraad_fix", "beraad_held",
                             "beraad_outcome", NULL };
    int answer;
    json_t *values = s_form (self, req, names, &answer);
    if (!values)
        return answer;
    if (streq (s_value (values, "action") ?: "", "review"))
        return s_post_review (self, req, id, values);
    if (strncmp (s_value (values, "action") ?: "", "beraad-", 7) == 0)
        return s_post_beraad (self, req, id, values);
    //  close (with the outcome), reply to an advice (the node seals the
    //  reply to the expert who gave it), or write in the conversation
    const char *action = s_value (values, "action") ?: "";
    bool reply = streq (action, "reply");
    bool message = streq (action, "message");
    json_t *errors = reply || message || streq (action, "close") ? en_portal_check (action, values, NULL)
                   : json_pack ("{s:s}", "", "Kies sluiten, reageren of een bericht.");
    if (!s_has_errors (errors)) {
        json_t *args;
        if (message)
            args = json_pack ("{s:s, s:s}", "request", id, "text", s_value (values, "bericht") ?: "");
        else
        if (reply) {
            args = json_pack ("{s:s, s:s}", "id", id, "text", s_value (values, "text") ?: "");
            //  A team: the place whose expert gets it
            if (s_value (values, "place"))
                json_object_set_new (args, "place", json_integer (atoll (s_value (values, "place"))));
        }
        else {
            char outcome [1200];
            const char *help = s_value (values, "passende_hulp");
            snprintf (outcome, sizeof outcome, "%s%s%s",
                      help ? (streq (help, "ja") ? "passende hulp: ja" : "passende hulp: nee") : "",
                      help && s_value (values, "outcome") ? "; " : "", s_value (values, "outcome") ?: "");
            args = json_pack ("{s:s, s:s}", "id", id, "outcome", outcome);
        }
        json_t *result = s_form_call (self, req, message ? "message" : reply ? "reply" : "close", args, &errors,
                                      &answer);
        if (result)
            answer = s_redirect (req, "/verzoeken/%s?gedaan=%s", id,
                                 message ? "bericht" : reply ? "reactie" : "gesloten");
        json_decref (result);
        if (!s_has_errors (errors))      //  done, or no answer (page queued)
            goto done;
    }
    answer = s_request_page (self, req, id, values, errors, MHD_HTTP_UNPROCESSABLE_CONTENT);
done:
    json_decref (errors);
    json_decref (values);
    return answer;
}

//  -------------------------------------------------------------------------
//  Expert: own offers and availability

static int
s_get_inbox (en_portal_t *self, en_http_request_t *req, const char *rest)
{
    en_error_t error;
    json_t *offers = s_call (self, req, "inbox", json_pack ("{s:s?}", "expert", en_http_request_extra (req)), &error);
    if (!offers)
        return s_failed (self, req, &error);
    en_portal_ctx_t ctx;
    s_ctx (self, req, &ctx);
    int answer = s_html (req, MHD_HTTP_OK, en_portal_page_inbox (&ctx, offers));
    json_decref (offers);
    return answer;
}

//  The offer if it is this expert's; else NULL and the 404 is queued
//  (another expert's offer looks absent)
static json_t *
s_own_offer (en_portal_t *self, en_http_request_t *req, const char *id, int *answer)
{
    const char *expert = en_http_request_extra (req);
    en_error_t error;
    en_error_clear (&error);
    json_t *offer = en_id_valid (id) ? s_call (self, req, "offer", json_pack ("{s:s}", "offer", id), &error) : NULL;
    if (en_http_unanswered (&error)) {
        *answer = s_failed (self, req, &error);
        return NULL;
    }
    if (!offer || !expert || !streq (en_json_str (offer, "expert") ?: "", expert)) {
        json_decref (offer);
        *answer = s_message (self, req, MHD_HTTP_NOT_FOUND, "Niet gevonden", "Dit aanbod bestaat niet.");
        return NULL;
    }
    return offer;
}

//  The dossier of an accepted offer and the team's replies, opened with
//  the session's key, as one text (caller wipes and frees); NULL when
//  there is none yet. When it cannot be opened, a Dutch line saying why.
static char *
s_dossier_open (en_portal_t *self, en_http_request_t *req, const char *offer_id)
{
    json_t *result = s_call (self, req, "dossier", json_pack ("{s:s}", "offer", offer_id), NULL);
    if (!result)
        return NULL;
    size_t size = 0;
    const unsigned char *key = (const unsigned char *) en_http_request_secret (req, &size);
    const char *box_public = en_json_str (result, "box_public");
    char *text = NULL;
    size_t text_size = 0;
    FILE *out = open_memstream (&text, &text_size);
    bool opened = key && size == EN_KEYWRAP_KEYBYTES;
    if (opened && en_json_str (result, "sealed")) {
        char *plain = en_keywrap_box_open (en_json_str (result, "sealed"), box_public, key);
        if (plain) {
            fputs (plain, out);
            sodium_memzero (plain, strlen (plain));
            free (plain);
        }
        else
            opened = false;
    }
    size_t index;
    json_t *reply;
    json_array_foreach (opened ? json_object_get (result, "replies") : NULL, index, reply) {
        char *plain = en_keywrap_box_open (en_json_str (reply, "sealed"), box_public, key);
        if (!plain) {
            opened = false;
            break;
        }
        char when [32];
        fprintf (out, "\n\n--- Reactie van het expertteam, %s ---\n%s",
                 en_time_fmt (en_json_int (reply, "at", 0), "%d-%m-%Y %H:%M", when, sizeof when), plain);
        sodium_memzero (plain, strlen (plain));
        free (plain);
    }
    fclose (out);
    json_decref (result);
    if (!opened) {
        sodium_memzero (text, text_size);
        free (text);
        return strdup (key ? "Het dossier is versleuteld voor een andere sleutel (van voor een nieuwe sleutel?)"
                             " of beschadigd. Vraag het expertteam het opnieuw te sturen."
                           : "Het dossier opent alleen met uw wachtwoord: log uit en opnieuw in om het te lezen.");
    }
    return text;
}

//  The conversation of an accepted offer, its messages opened with the
//  key this person's password unwrapped at login (or by the node, while
//  the expert's key is still sealed with its vault); NULL if none.
static json_t *
s_offer_thread (en_portal_t *self, en_http_request_t *req, const char *offer_id)
{
    json_t *thread = s_call (self, req, "thread", json_pack ("{s:s}", "offer", offer_id), NULL);
    if (!thread || !json_object_get (thread, "wrapped"))
        return thread;
    size_t size = 0;
    const unsigned char *key = (const unsigned char *) en_http_request_secret (req, &size);
    en_keywrap_thread_open (json_object_get (thread, "messages"), en_json_str (thread, "box_public"),
                            size == EN_KEYWRAP_KEYBYTES ? key : NULL);
    json_object_del (thread, "wrapped");
    return thread;
}

static int
s_offer_page (en_portal_t *self, en_http_request_t *req, json_t *offer, json_t *values, json_t *errors,
              unsigned int status)
{
    //  The dossier, once accepted: sealed to the expert's key, opened here
    //  with the key this person's password unwrapped at login (the node
    //  logs the read, and cannot open it itself)
    char *dossier = NULL;
    //  (an offer the expert advised on stays accepted: its answer is "advise")
    const char *given = en_json_str (offer, "answer") ?: "";
    if (streq (given, "accept") || streq (given, "advise")) {
        dossier = s_dossier_open (self, req, en_json_str (offer, "id"));
        json_t *thread = s_offer_thread (self, req, en_json_str (offer, "id"));
        if (thread && json_array_size (json_object_get (thread, "members"))
                      + json_array_size (json_object_get (thread, "messages")))
            json_object_set (offer, "conversation", thread);
        json_decref (thread);
    }
    en_portal_ctx_t ctx;
    s_ctx (self, req, &ctx);
    int answer = s_html (req, status, en_portal_page_offer (&ctx, offer, dossier, values, errors));
    if (dossier) {
        sodium_memzero (dossier, strlen (dossier));
        free (dossier);
    }
    return answer;
}

static int
s_get_offer (en_portal_t *self, en_http_request_t *req, const char *id)
{
    int answer;
    json_t *offer = s_own_offer (self, req, id, &answer);
    if (!offer)
        return answer;
    answer = s_offer_page (self, req, offer, NULL, NULL, MHD_HTTP_OK);
    json_decref (offer);
    return answer;
}

//  Moreel beraad (the expert): the proposed times that suit. Takes values.
static int
s_post_beraad_answer (en_portal_t *self, en_http_request_t *req, const char *id, json_t *values)
{
    json_t *available = json_array ();
    size_t index;
    json_t *item;
    json_array_foreach (json_object_get (values, "available"), index, item)
        if (json_is_string (item))
            json_array_append_new (available, json_integer (strtoll (json_string_value (item), NULL, 10)));
    json_t *errors = json_object ();
    int answer = 0;
    json_t *result = s_form_call (self, req, "beraad-answer",
                                  json_pack ("{s:s, s:o}", "offer", id, "available", available), &errors, &answer);
    if (result)
        answer = s_redirect (req, "/aanbod/%s?gedaan=beraad-antwoord", id);
    json_decref (result);
    if (s_has_errors (errors) || !answer) {
        json_t *offer = s_own_offer (self, req, id, &answer);
        if (offer)
            answer = s_offer_page (self, req, offer, values, errors, MHD_HTTP_UNPROCESSABLE_CONTENT);
        json_decref (offer);
    }
    json_decref (errors);
    json_decref (values);
    return answer;
}

static int
s_post_offer (en_portal_t *self, en_http_request_t *req, const char *id)
{
    int answer;
    json_t *offer = s_own_offer (self, req, id, &answer);
    if (!offer)
        return answer;
    const char *names [] = { "action", "reason", "text", "bericht", "soort", "available[]", NULL };
    json_t *values = s_form (self, req, names, &answer);
    if (!values) {
        json_decref (offer);
        return answer;
    }
    if (streq (s_value (values, "action") ?: "", "beraad-answer")) {
        json_decref (offer);
        return s_post_beraad_answer (self, req, id, values);
    }
    //  The form's action is the node's verb; done, the page says so
    static const char *answers [][2] = {
        { "accept", "geaccepteerd" }, { "decline", "afgewezen" }, { "advise", "advies" },
        { "message", "bericht" }, { NULL, NULL } };
    const char *action = s_value (values, "action") ?: "";
    const char *verb = NULL, *done_word = NULL;
    for (int i = 0; answers [i][0]; i++)
        if (streq (action, answers [i][0])) {
            verb = answers [i][0];
            done_word = answers [i][1];
        }
    json_t *errors = verb ? en_portal_check (action, values, NULL)
                          : json_pack ("{s:s}", "", "Kies accepteren, afwijzen of advies geven.");
    if (!s_has_errors (errors)) {
        json_t *args = json_pack ("{s:s}", "offer", id);
        if (streq (verb, "decline"))
            json_object_set_new (args, "reason", json_string (s_value (values, "reason") ?: ""));
        if (streq (verb, "advise"))
            json_object_set_new (args, "text", json_string (s_value (values, "text") ?: ""));
        if (streq (verb, "message")) {
            json_object_set_new (args, "text", json_string (s_value (values, "bericht") ?: ""));
            json_object_set_new (args, "kind", json_string (streq (s_value (values, "soort") ?: "", "advies")
                                                            ? "advice" : "message"));
        }
        json_t *result = s_form_call (self, req, verb, args, &errors, &answer);
        if (result)
            answer = s_redirect (req, "/aanbod/%s?gedaan=%s", id, done_word);
        json_decref (result);
        if (!s_has_errors (errors))      //  done, or no answer (page queued)
            goto done;
    }
    answer = s_offer_page (self, req, offer, values, errors, MHD_HTTP_UNPROCESSABLE_CONTENT);
done:
    json_decref (errors);
    json_decref (values);
    json_decref (offer);
    return answer;
}

static json_t *s_expert_record (en_portal_t *self, en_http_request_t *req, const char *id);

//  This expert's record from "experts"
static json_t *
s_own_expert (en_portal_t *self, en_http_request_t *req)
{
    const char *id = en_http_request_extra (req);
    return id ? s_expert_record (self, req, id) : NULL;
}

static int
s_availability_page (en_portal_t *self, en_http_request_t *req, json_t *values, json_t *errors,
                     unsigned int status)
{
    json_t *expert = s_own_expert (self, req);
    if (!expert)
        return s_message (self, req, MHD_HTTP_NOT_FOUND, "Niet gevonden",
                          "Uw account is niet (meer) aan een expert van deze regio gekoppeld.");
    json_t *tags = s_tags (self, req);
    en_portal_ctx_t ctx;
    s_ctx (self, req, &ctx);
    int answer = s_html (req, status, en_portal_page_availability (&ctx, expert, tags, values, errors));
    json_decref (tags);
    json_decref (expert);
    return answer;
}

static int
s_get_availability (en_portal_t *self, en_http_request_t *req, const char *rest)
{
    return s_availability_page (self, req, NULL, NULL, MHD_HTTP_OK);
}

static int
s_post_availability (en_portal_t *self, en_http_request_t *req, const char *rest)
{
    const char *names [] = { "capacity", "absent_until", "expertise[]", "expertise_anders", NULL };
    int answer;
    json_t *values = s_form (self, req, names, &answer);
    if (!values)
        return answer;
    json_t *errors = en_portal_check ("availability", values, NULL);
    int64_t until = s_absent_until (values, errors);
    if (!s_has_errors (errors)) {
        json_t *expert = json_pack ("{s:s, s:i, s:I}", "id", en_http_request_extra (req),
                                    "capacity", atoi (s_value (values, "capacity") ?: "0"),
                                    "absent_until", (json_int_t) until);
        s_copy_list (expert, values, "expertise");
        json_t *result = s_form_call (self, req, "expert-update", json_pack ("{s:o}", "expert", expert),
                                      &errors, &answer);
        if (result)
            answer = en_http_redirect (req, "/beschikbaarheid?gedaan=opgeslagen");
        json_decref (result);
        if (!s_has_errors (errors))      //  done, or no answer (page queued)
            goto done;
    }
    answer = s_availability_page (self, req, values, errors, MHD_HTTP_UNPROCESSABLE_CONTENT);
done:
    json_decref (errors);
    json_decref (values);
    return answer;
}

//  -------------------------------------------------------------------------
//  Beheerder

static int
s_accounts_page (en_portal_t *self, en_http_request_t *req, json_t *values, json_t *errors, unsigned int status)
{
    en_error_t error;
    json_t *users = s_call (self, req, "users", NULL, &error);
    if (!users)
        return s_failed (self, req, &error);
    json_t *experts = s_call (self, req, "experts", NULL, NULL);
    if (!experts)
        experts = json_array ();
    en_portal_ctx_t ctx;
    s_ctx (self, req, &ctx);
    int answer = s_html (req, status, en_portal_page_accounts (&ctx, users, experts, values, errors));
    json_decref (users);
    json_decref (experts);
    return answer;
}

static int
s_get_accounts (en_portal_t *self, en_http_request_t *req, const char *rest)
{
    return s_accounts_page (self, req, NULL, NULL, MHD_HTTP_OK);
}

static int
s_post_accounts (en_portal_t *self, en_http_request_t *req, const char *rest)
{
    const char *names [] = { "name", "role", "expert", "email", "phone", "password", "password2", NULL };
    int answer;
    json_t *values = s_form (self, req, names, &answer);
    if (!values)
        return answer;
    json_t *errors = en_portal_check ("account", values, NULL);
    if (!s_has_errors (errors)) {
        json_t *args = json_object ();
        const char *copied [] = { "name", "role", "email", "phone", "password", NULL };
        for (int i = 0; copied [i]; i++)
            s_copy (args, values, copied [i]);
        if (s_value (values, "role") && streq (s_value (values, "role"), "expert"))
            s_copy (args, values, "expert");
        json_t *result = s_form_call (self, req, "user-add", args, &errors, &answer);
        if (result) {
            //  The recovery code and TOTP secret, shown this once
            en_portal_ctx_t ctx;
            s_ctx (self, req, &ctx);
            answer = s_html (req, MHD_HTTP_OK, en_portal_page_account_created (&ctx, result));
        }
        json_decref (result);
        if (!s_has_errors (errors))      //  done, or no answer (page queued)
            goto done;
    }
    //  The passwords are not sent back into the form
    json_object_del (values, "password");
    json_object_del (values, "password2");
    answer = s_accounts_page (self, req, values, errors, MHD_HTTP_UNPROCESSABLE_CONTENT);
done:
    json_decref (errors);
    json_decref (values);
    return answer;
}

//  A page from one verb and one page function (no form)
typedef char *(s_render_fn) (const en_portal_ctx_t *ctx, json_t *data);

static int
s_simple (en_portal_t *self, en_http_request_t *req, const char *verb, s_render_fn *render)
{
    en_error_t error;
    json_t *data = s_call (self, req, verb, NULL, &error);
    if (!data)
        return s_failed (self, req, &error);
    en_portal_ctx_t ctx;
    s_ctx (self, req, &ctx);
    int answer = s_html (req, MHD_HTTP_OK, render (&ctx, data));
    json_decref (data);
    return answer;
}

static int
s_get_experts (en_portal_t *self, en_http_request_t *req, const char *rest)
{
    return s_simple (self, req, "experts", en_portal_page_experts);
}

//  /beheer/experts/nieuw and /beheer/experts/<id>: add or change an
//  expert (contact details stay at the node: expert-add/-update keep them
//  out of what is published)
static json_t *
s_expert_record (en_portal_t *self, en_http_request_t *req, const char *id)
{
    json_t *experts = s_call (self, req, "experts", NULL, NULL);
    json_t *found = s_row (experts, "id", id);
    json_decref (experts);
    return found;
}

static int
s_expert_form_page (en_portal_t *self, en_http_request_t *req, const char *id, json_t *values, json_t *errors,
                    unsigned int status)
{
    json_t *expert = NULL;
    if (id && !(expert = s_expert_record (self, req, id)))
        return s_message (self, req, MHD_HTTP_NOT_FOUND, "Niet gevonden", "Deze expert bestaat niet in deze regio.");
    json_t *tags = s_tags (self, req);
    en_portal_ctx_t ctx;
    s_ctx (self, req, &ctx);
    int answer = s_html (req, status, en_portal_page_expert_form (&ctx, expert, tags, values, errors));
    json_decref (tags);
    json_decref (expert);
    return answer;
}

static int
s_get_expert (en_portal_t *self, en_http_request_t *req, const char *rest)
{
    return s_expert_form_page (self, req, streq (rest, "nieuw") ? NULL : rest, NULL, NULL, MHD_HTTP_OK);
}

static int
s_post_expert (en_portal_t *self, en_http_request_t *req, const char *rest)
{
    bool adding = streq (rest, "nieuw");
    const char *names [] = { "id", "role", "bovenregionaal", "capacity", "absent_until", "expertise[]",
                             "expertise_anders", "email", "phone", NULL };
    int answer;
    json_t *values = s_form (self, req, names, &answer);
    if (!values)
        return answer;
    json_t *existing = adding ? NULL : s_expert_record (self, req, rest);
    if (!adding && !existing) {
        json_decref (values);
        return s_message (self, req, MHD_HTTP_NOT_FOUND, "Niet gevonden", "Deze expert bestaat niet in deze regio.");
    }
    json_decref (existing);
    json_t *errors = en_portal_check ("expert", values, NULL);
    int64_t until = s_absent_until (values, errors);
    if (!s_has_errors (errors)) {
        json_t *expert = json_pack ("{s:s?, s:i, s:I, s:b}", "id", adding ? s_value (values, "id") : rest,
                                    "capacity", atoi (s_value (values, "capacity") ?: "0"),
                                    "absent_until", (json_int_t) until,
                                    "bovenregionaal", streq (s_value (values, "bovenregionaal") ?: "", "ja"));
        s_copy (expert, values, "role");
        s_copy_list (expert, values, "expertise");
        json_t *args = json_pack ("{s:o, s:s, s:s}", "expert", expert, "email", s_value (values, "email") ?: "",
                                  "phone", s_value (values, "phone") ?: "");
        json_t *result = s_form_call (self, req, adding ? "expert-add" : "expert-update", args,
                                      &errors, &answer);
        if (result)
            answer = s_redirect (req, "/beheer/experts/%s?gedaan=opgeslagen",
                                 en_json_str (result, "id") ?: (adding ? s_value (values, "id") : rest));
        json_decref (result);
        if (!s_has_errors (errors))      //  done, or no answer (page queued)
            goto done;
    }
    answer = s_expert_form_page (self, req, adding ? NULL : rest, values, errors, MHD_HTTP_UNPROCESSABLE_CONTENT);
done:
    json_decref (errors);
    json_decref (values);
    return answer;
}

static int
s_get_notifications (en_portal_t *self, en_http_request_t *req, const char *rest)
{
    return s_simple (self, req, "notifications", en_portal_page_notifications);
}

static int
s_get_privacy (en_portal_t *self, en_http_request_t *req, const char *rest)
{
    return s_simple (self, req, "status", en_portal_page_privacy);
}

static int
s_get_log (en_portal_t *self, en_http_request_t *req, const char *rest)
{
    const char *pseudonym = en_http_request_query (req, "zaak");
    if (pseudonym && !*pseudonym)
        pseudonym = NULL;
    json_t *entries = NULL;
    en_error_t error;
    if (pseudonym && !(entries = s_call (self, req, "audit-show", json_pack ("{s:s}", "case", pseudonym), &error)))
        return s_failed (self, req, &error);
    en_portal_ctx_t ctx;
    s_ctx (self, req, &ctx);
    int answer = s_html (req, MHD_HTTP_OK, en_portal_page_log (&ctx, pseudonym, entries));
    json_decref (entries);
    return answer;
}

//  -------------------------------------------------------------------------
//  Public: the accessibility statement, and a new password with the
//  recovery code (before login, so without a session)

static const char *s_recover_fields [] = { "name", "recovery_code", "password", "password2", NULL };

static int
s_recover (en_portal_t *self, en_http_request_t *req)
{
    en_portal_ctx_t ctx;
    s_ctx (self, req, &ctx);
    if (!en_http_request_post (req))
        return s_html (req, MHD_HTTP_OK, en_portal_page_recover (&ctx, NULL, NULL));
    json_t *values = en_http_request_fields (req, s_recover_fields);
    if (!values)
        values = json_object ();
    int answer = 0;
    json_t *errors = en_portal_check ("recover", values, NULL);
    if (!s_has_errors (errors)) {
        json_t *result = s_form_call (self, req, "user-recover",
                                      json_pack ("{s:s?, s:s?, s:s?, s:s?}", "name", s_value (values, "name"),
                                                 "recovery_code", s_value (values, "recovery_code"),
                                                 "password", s_value (values, "password"),
                                                 "_user", s_value (values, "name")), &errors, &answer);
        if (result) {
            zsys_info ("portal: %s set a new password with the recovery code, from %s",
                       s_value (values, "name"), en_http_request_address (req));
            answer = s_html (req, MHD_HTTP_OK, en_portal_page_message (&ctx, "Nieuw wachtwoord ingesteld",
                             "Uw wachtwoord is gewijzigd. Log in met het nieuwe wachtwoord."));
        }
        else
        if (s_has_errors (errors))
            zsys_warning ("portal: recovery for %s from %s refused", s_value (values, "name") ?: "?",
                          en_http_request_address (req));
        json_decref (result);
        if (!s_has_errors (errors))      //  done, or no answer (page queued)
            goto done;
    }
    //  Neither the passwords nor the code go back into the form
    json_object_del (values, "password");
    json_object_del (values, "password2");
    json_object_del (values, "recovery_code");
    answer = s_html (req, MHD_HTTP_UNPROCESSABLE_CONTENT, en_portal_page_recover (&ctx, values, errors));
done:
    json_decref (errors);
    json_decref (values);
    return answer;
}

//  -------------------------------------------------------------------------
//  Live panels: /api/panel/<name>, the same markup as in the page

//  The home panel: the node's status and the role's list
static int
s_panel_home (en_portal_t *self, en_http_request_t *req)
{
    en_portal_ctx_t ctx;
    s_ctx (self, req, &ctx);
    json_t *status = s_call (self, req, "status", NULL, NULL);
    json_t *items = s_home_items (self, req);
    char *html = en_portal_panel_home (&ctx, status, items);
    json_decref (status);
    json_decref (items);
    return s_html (req, MHD_HTTP_OK, html);
}

//  A panel's arguments to its verb (rest: what follows a prefix name)
typedef json_t *(s_panel_args_fn) (en_http_request_t *req, const char *rest);

static json_t *
s_panel_requests_args (en_http_request_t *req, const char *rest)
{
    return json_pack ("{s:i}", "limit", 500);
}

static json_t *
s_panel_request_args (en_http_request_t *req, const char *rest)
{
    return json_pack ("{s:s}", "id", rest);
}

static json_t *
s_panel_inbox_args (en_http_request_t *req, const char *rest)
{
    return json_pack ("{s:s?}", "expert", en_http_request_extra (req));
}

//  A request's live panel also shows an advice that came as a message of
//  its conversation: the thread, not marked read (the panel shows only
//  the advice; the page that shows every message marks them)
static void
s_panel_request_more (en_portal_t *self, en_http_request_t *req, const char *rest, json_t *data)
{
    json_t *thread = s_call (self, req, "thread", json_pack ("{s:s, s:b}", "request", rest, "read", false), NULL);
    if (thread)
        json_object_set_new (data, "conversation", thread);
}

typedef void (s_panel_more_fn) (en_portal_t *self, en_http_request_t *req, const char *rest, json_t *data);

//  The other panels: one verb, one page function each
static const struct {
    const char *name;           //  /api/panel/<name>; ending in '/': a prefix, the rest a request id
    unsigned roles;             //  R_* bits allowed
    const char *verb;           //  what it asks the node
    s_panel_args_fn *args;      //  with these arguments (NULL: none)
    s_panel_more_fn *more;      //  and what else it adds (NULL: nothing)
    s_render_fn *render;        //  the markup
} s_panels [] = {
    { "verzoeken",  R_MEDEWERKER,   "requests",      s_panel_requests_args, NULL,                 en_portal_panel_requests },
    { "verzoek/",   R_MEDEWERKER,   "request",       s_panel_request_args,  s_panel_request_more, en_portal_panel_request },
    { "aanbod",     R_EXPERT,       "inbox",         s_panel_inbox_args,    NULL,                 en_portal_panel_inbox },
    { "meldingen",  R_BEHEERDER,    "notifications", NULL,                  NULL,                 en_portal_panel_notifications },
    { "privacy",    R_BEHEERDER,    "status",        NULL,                  NULL,                 en_portal_panel_privacy },
    { NULL, 0, NULL, NULL, NULL, NULL }
};

static int
s_panel (en_portal_t *self, en_http_request_t *req, const char *name)
{
    if (streq (name, "home"))
        return s_panel_home (self, req);
    unsigned role = s_role_bit (en_http_request_role (req));
    for (int i = 0; s_panels [i].name; i++) {
        size_t len = strlen (s_panels [i].name);
        bool prefix = s_panels [i].name [len - 1] == '/';
        const char *rest = name + len;
        if (prefix ? strncmp (name, s_panels [i].name, len) != 0 || !en_id_valid (rest)
                   : !streq (name, s_panels [i].name))
            continue;
        //  Another role's panel, or an expert's without an expert id: absent
        if (!(s_panels [i].roles & role) || (role == R_EXPERT && !en_http_request_extra (req)))
            break;
        json_t *args = s_panels [i].args ? s_panels [i].args (req, rest) : NULL;
        json_t *data = s_call (self, req, s_panels [i].verb, args, NULL);
        if (!data)
            return en_http_reply (req, MHD_HTTP_BAD_GATEWAY, "text/plain; charset=utf-8", strdup (""), 0);
        if (s_panels [i].more)
            s_panels [i].more (self, req, rest, data);
        en_portal_ctx_t ctx;
        s_ctx (self, req, &ctx);
        char *html = s_panels [i].render (&ctx, data);
        json_decref (data);
        return s_html (req, MHD_HTTP_OK, html);
    }
    return en_http_reply_error (req, MHD_HTTP_NOT_FOUND, "no such panel");
}

//  -------------------------------------------------------------------------
//  Routes: who may use what

typedef int (s_route_fn) (en_portal_t *self, en_http_request_t *req, const char *rest);

typedef struct {
    const char *path;           //  exact path, or prefix when it ends in '/'
    unsigned roles;             //  R_* bits allowed
    s_route_fn *get;            //  GET handler (rest: what follows a prefix)
    s_route_fn *post;           //  POST handler, or NULL
} s_route_t;

static const s_route_t s_routes [] = {
    { "/",                  R_ALL,          s_get_home,             NULL },
    { "/zaken",             R_MEDEWERKER,   s_get_cases,            NULL },
    { "/zaken/nieuw",       R_MEDEWERKER,   s_get_case_new,         s_post_case_new },
    { "/zaken/",            R_MEDEWERKER,   s_get_case,             s_post_case },
    { "/verzoeken",         R_MEDEWERKER,   s_get_requests,         NULL },
    { "/verzoeken/nieuw",   R_MEDEWERKER,   s_get_request_new,      s_post_request_new },
    { "/verzoeken/",        R_MEDEWERKER,   s_get_request,          s_post_request },
    { "/aanbod",            R_EXPERT,       s_get_inbox,            NULL },
    { "/aanbod/",           R_EXPERT,       s_get_offer,            s_post_offer },
    { "/beschikbaarheid",   R_EXPERT,       s_get_availability,     s_post_availability },
    { "/beheer/accounts",   R_BEHEERDER,    s_get_accounts,         s_post_accounts },
    { "/beheer/experts",    R_BEHEERDER,    s_get_experts,          NULL },
    { "/beheer/experts/",   R_BEHEERDER,    s_get_expert,           s_post_expert },
    { "/beheer/meldingen",  R_BEHEERDER,    s_get_notifications,    NULL },
    { "/beheer/privacy",    R_BEHEERDER,    s_get_privacy,          NULL },
    { "/beheer/logboek",    R_BEHEERDER,    s_get_log,              NULL },
    { NULL, 0, NULL, NULL }
};

//  The route for path: an exact match first, else the longest prefix
static const s_route_t *
s_route (const char *path, const char **rest)
{
    const s_route_t *best = NULL;
    for (const s_route_t *route = s_routes; route->path; route++) {
        size_t len = strlen (route->path);
        if (streq (route->path, path)) {
            *rest = "";
            return route;
        }
        if (len > 1 && route->path [len - 1] == '/' && strncmp (path, route->path, len) == 0 && path [len]
        &&  !strchr (path + len, '/') && (!best || len > strlen (best->path))) {
            best = route;
            *rest = path + len;
        }
    }
    return best;
}

static int
s_dispatch (en_http_request_t *req, void *app)
{
    en_portal_t *self = (en_portal_t *) app;
    const char *path = en_http_request_path (req);
    bool post = en_http_request_post (req);
    if (streq (path, "/toegankelijkheid") && !post) {
        en_portal_ctx_t ctx;
        s_ctx (self, req, &ctx);
        return s_html (req, MHD_HTTP_OK, en_portal_page_accessibility (&ctx));
    }
    if (streq (path, "/herstel"))
        return s_recover (self, req);
    if (strncmp (path, "/api/panel/", 11) == 0 && !post)
        return s_panel (self, req, path + 11);
    if (strncmp (path, "/api/", 5) == 0)
        return en_http_reply_error (req, MHD_HTTP_NOT_FOUND, "no such API path");
    const char *rest = NULL;
    const s_route_t *route = s_route (path, &rest);
    if (!route)
        return s_message (self, req, MHD_HTTP_NOT_FOUND, "Niet gevonden", "Deze pagina bestaat niet.");
    if (!(route->roles & s_role_bit (en_http_request_role (req))))
        return s_message (self, req, MHD_HTTP_FORBIDDEN, "Geen toegang",
                          "Deze pagina is niet voor uw rol. Kies een pagina in het menu.");
    //  An expert's pages are about their own expert id: an account without
    //  one sees none (never everyone's offers)
    if (route->roles == R_EXPERT && !en_http_request_extra (req))
        return s_message (self, req, MHD_HTTP_FORBIDDEN, "Geen toegang",
                          "Uw account is niet aan een expert gekoppeld. Vraag de beheerder.");
    if (post && !route->post)
        return s_message (self, req, MHD_HTTP_METHOD_NOT_ALLOWED, "Niet mogelijk",
                          "Op deze pagina kunt u niets versturen.");
    return post ? route->post (self, req, rest) : route->get (self, req, rest);
}

//  -------------------------------------------------------------------------
//  Accounts and logins

//  An account by name ("user-get"); a refusal (no such account) is no
//  error
static json_t *
s_account (en_http_t *http, void *app, const char *name, en_error_t *error)
{
    json_t *account = en_http_call (http, "user-get", json_pack ("{s:s, s:s}", "name", name, "_user", name), error);
    if (!account && !en_http_unanswered (error))
        en_error_clear (error);
    return account;
}

static void
s_login_page (FILE *out, void *app, const en_http_login_view_t *view)
{
    en_portal_t *self = (en_portal_t *) app;
    en_portal_ctx_t ctx = { .node = self->node, .region = self->region, .now = en_now_ms (), .recover = true };
    char *html = en_portal_page_login (&ctx, view);
    if (html)
        fputs (html, out);
    free (html);
}

//  Failed and locked logins into the node's access log (a successful
//  one is recorded by s_on_login, before the session is handed out)
static void
s_login_event (en_http_t *http, void *app, const char *name, const char *outcome, const char *address)
{
    if (streq (outcome, "ok"))
        return;
    json_t *result = en_http_call (http, "login-event",
                                   json_pack ("{s:s, s:s, s:s, s:s}", "name", name ? name : "unknown-account",
                                              "outcome", outcome, "address", address,
                                              "_user", name ? name : "unknown-account"), NULL);
    json_decref (result);
}

//  Password and code are right. The node records the login and refuses a
//  TOTP code whose step was used before (it keeps the last step per
//  account, across restarts). An expert's box key is unwrapped here with
//  the password, in the web thread, and kept in the session only: the
//  node never sees it and its administrators cannot open the dossiers.
static int
s_on_login (en_http_request_t *req, void *app, json_t *account, const char *password)
{
    en_http_t *http = en_http_request_http (req);
    const char *name = en_json_str (account, "name");
    int64_t step = en_http_request_totp_step (req);
    json_t *args = json_pack ("{s:s, s:s, s:s, s:s}", "name", name ? name : "", "outcome", "ok",
                              "address", en_http_request_address (req), "_user", name ? name : "");
    if (step >= 0)
        json_object_set_new (args, "totp_step", json_integer (step));
    en_error_t error;
    json_t *result = en_http_call (http, "login-event", args, &error);
    bool recorded = result != NULL;
    json_decref (result);
    if (!recorded) {
        zsys_warning ("portal: login of %s refused by the node (%s)", name ? name : "?",
                      en_http_unanswered (&error) ? "no answer" : error.reason);
        return -1;
    }
    const char *expert = en_json_str (account, "expert");
    if (!expert || !streq (en_json_str (account, "role") ?: "", "expert"))
        return 0;
    result = en_http_call (http, "expert-key", json_pack ("{s:s, s:s?}", "expert", expert, "_user", name), NULL);
    unsigned char *key = (unsigned char *) sodium_malloc (EN_KEYWRAP_KEYBYTES);
    if (result && key
    &&  en_keywrap_open_json (json_object_get (json_object_get (result, "wrapped"), "password"), password, key) == 0)
        en_http_request_set_secret (req, key, EN_KEYWRAP_KEYBYTES);
    else
        zsys_warning ("portal: the key of expert %s did not open with %s's password; dossiers stay closed",
                      expert, name ? name : "?");
    if (key)
        sodium_free (key);
    json_decref (result);
    return 0;
}

//  -------------------------------------------------------------------------
//  Life cycle

en_portal_t *
en_portal_new (zconfig_t *config, const char *control_endpoint, const char *node, const char *region,
               en_error_t *error)
{
    en_portal_t *self = (en_portal_t *) zmalloc (sizeof (en_portal_t));
    assert (self);
    self->node = strdup (node);
    self->region = strdup (region);
    static const en_http_app_t app = {
        .log_name = "portal",
        .logout_path = "/uitloggen",
        .dispatch = s_dispatch,
        .account = s_account,
        .login_page = s_login_page,
        .login_event = s_login_event,
        .on_login = s_on_login,
        .max_body = PORTAL_MAX_BODY,
    };
    self->http = en_http_new (config, "web", control_endpoint, &app, self, error);
    if (!self->http) {
        en_portal_destroy (&self);
        return NULL;
    }
    en_http_static (self->http, "/static/portal.css", "text/css; charset=utf-8", en_portal_css);
    en_http_static (self->http, "/static/portal.js", "text/javascript; charset=utf-8", en_portal_js);
    en_http_public (self->http, "/toegankelijkheid");
    en_http_public (self->http, "/herstel");
    zsys_info ("portal on %s://%s/ (accounts: 'expertnet node user-add')", en_http_scheme (self->http),
               zconfig_get (config, "web/address", ""));
    return self;
}

void
en_portal_destroy (en_portal_t **self_p)
{
    assert (self_p);
    en_portal_t *self = *self_p;
    if (self) {
        en_http_destroy (&self->http);
        free (self->node);
        free (self->region);
        free (self);
        *self_p = NULL;
    }
}
