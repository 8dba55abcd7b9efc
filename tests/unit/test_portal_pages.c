/*  test_portal_pages - the node portal's HTML (node/en_portal_pages.h)
    without HTTP: every page and panel rendered from synthetic JSON whose
    every string is hostile, and checked for escaping, no inline script
    or style, the CSRF field in every form, errors shown on their field
    with the values kept, the navigation of each role, the countdown
    text, and the Dutch checks behind the forms. The HTTP side (routing,
    sessions) is the portal server's tests.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "expertnet.h"
#include "en_portal_pages.h"

//  What an attacker might put in any field
#define EVIL "<script>alert(1)</script>\"'&x"
#define EVIL_ESCAPED "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;x"
#define TOKEN "csrf-0123456789abcdef"
#define NOW 1800000000000LL

static en_portal_ctx_t
s_ctx (const char *role)
{
    en_portal_ctx_t ctx = {
        .user = "anna", .role = role, .expert = streq (role, "expert") ? "se-tw-01" : NULL,
        .csrf = TOKEN, .node = "twente", .region = "twente", .flash = NULL, .flash_error = false, .now = NOW };
    return ctx;
}

static json_t *
s_json (const char *text)
{
    json_error_t error;
    json_t *json = json_loads (text, 0, &error);
    if (!json)
        fail_msg ("fixture JSON: %s at %d", error.text, error.position);
    return json;
}

//  Replace every string in value (keys stay) by EVIL
static void
s_poison (json_t *value)
{
    const char *key;
    json_t *member;
    size_t index;
    if (json_is_object (value))
        json_object_foreach (value, key, member) {
            if (json_is_string (member))
                json_object_set_new (value, key, json_string (EVIL));
            else
                s_poison (member);
        }
    else
    if (json_is_array (value))
        json_array_foreach (value, index, member) {
            if (json_is_string (member))
                json_array_set_new (value, index, json_string (EVIL));
            else
                s_poison (member);
        }
}

//  Synthetic fixtures, shaped as the node's verbs answer
#define REQUEST_SUMMARY \
    "{\"id\": \"twente-1a2b3c4d\", \"region\": \"twente\", \"urgency\": \"crisis\"," \
    " \"question_type\": \"consultatie-advies\", \"expertise\": [\"trauma\"], \"age_band\": \"12-17\"," \
    " \"leefgebieden\": [\"jeugdhulp\"], \"problematiek\": [\"trauma\"], \"kader\": \"gedwongen\"," \
    " \"situatie\": \"crisis\", \"stuck_on\": [\"inhoud\"], \"question\": \"Wat is een veilige eerste stap?\"," \
    " \"case\": \"p1-00112233445566778899aabbccddeeff\"}"

static const char *s_status =
    "{\"requests_open\": 2, \"experts\": 3, \"offers_waiting\": 1, \"outbox\": 0, \"node\": \"twente\","
    " \"region\": \"twente\", \"connected\": true, \"pii_guard\": {\"checks\": 10, \"refused\": 2,"
    " \"kinds\": {\"bsn\": 1, \"naam\": 1}}}";
static const char *s_requests =
    "[{\"id\": \"twente-1a2b3c4d\", \"summary\": " REQUEST_SUMMARY ", \"state\": \"offered\","
    " \"expert\": \"se-tw-01\", \"created\": 1799999000000, \"updated\": 1799999500000}]";
static const char *s_request =
    "{\"id\": \"twente-1a2b3c4d\", \"summary\": " REQUEST_SUMMARY ", \"state\": \"advice\","
    " \"expert\": \"se-tw-01\", \"advice\": \"Overleg met de school.\", \"error\": \"refused\","
    " \"created\": 1799999000000, \"updated\": 1799999500000, \"events\": ["
    " {\"at\": 1799999000000, \"event\": \"queued\", \"state\": \"queued\"},"
    " {\"at\": 1799999100000, \"event\": \"declined\", \"state\": \"offered\", \"expert\": \"se-tw-02\","
    "  \"detail\": \"geen capaciteit\"}]}";
static const char *s_offers =
    "[{\"id\": \"twente-1a2b3c4d-o1\", \"request_id\": \"twente-1a2b3c4d\", \"expert\": \"se-tw-01\","
    " \"kind\": \"offer\", \"deadline\": 1800000492000, \"request\": " REQUEST_SUMMARY ","
    " \"state\": \"open\", \"received\": 1799999900000}]";
static const char *s_tags =
    "[{\"tag\": \"trauma\", \"available\": true}, {\"tag\": \"eetstoornis\", \"available\": false}]";
static const char *s_cases =
    "[{\"pseudonym\": \"p1-00112233445566778899aabbccddeeff\", \"created\": 1799999000000, \"updated\": 1799999000000,"
    " \"requests\": 1, \"phases\": {\"aanmelding\": 1799999000000}}]";
static const char *s_case_record =
    "{\"pseudonym\": \"p1-00112233445566778899aabbccddeeff\", \"summary\": {\"age_band\": \"12-17\","
    " \"leefgebieden\": [\"jeugdhulp\"], \"kader\": \"vrijwillig\"}, \"phases\": {\"aanmelding\": 1799999000000},"
    " \"outcome\": {\"passende_hulp\": true, \"zero\": {\"suicides\": 0}}}";
static const char *s_expert =
    "{\"id\": \"se-tw-01\", \"role\": \"superexpert\", \"region\": \"twente\", \"expertise\": [\"trauma\"],"
    " \"capacity\": 2, \"absent_until\": 1800086400000, \"email\": \"expert@example.org\", \"phone\": \"+31600000000\"}";
static const char *s_users =
    "[{\"name\": \"anna\", \"role\": \"medewerker\", \"expert\": null, \"email\": \"a@example.org\","
    " \"phone\": \"+31600000001\", \"created\": 1799999000000, \"last_login\": 1799999900000, \"totp\": true}]";
static const char *s_created =
    "{\"name\": \"se-tw-03\", \"role\": \"expert\", \"expert\": \"se-tw-03\", \"recovery_code\": \"ABCD-EFGH\","
    " \"totp_secret\": \"JBSWY3DPEHPK3PXP\", \"totp_uri\": \"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP\"}";
static const char *s_queue =
    "[{\"id\": 1, \"kind\": \"aanbod\", \"urgency\": \"crisis\", \"recipient\": \"expert@example.org\","
    " \"channel\": \"e-mail\", \"state\": \"wacht\", \"attempts\": 2, \"next_try\": 1800000060000,"
    " \"last_error\": \"connection refused\", \"created\": 1799999900000}]";
static const char *s_entries =
    "[{\"seq\": 3, \"at\": 1799999000000, \"event\": \"case.read\", \"actor\": \"anna\","
    " \"on_behalf\": \"twente\", \"action\": \"read\", \"outcome\": \"ok\", \"detail\": \"x\"}]";
static const char *s_values =
    "{\"case\": \"p1-00112233445566778899aabbccddeeff\", \"urgency\": \"crisis\", \"expertise\": [\"trauma\"],"
    " \"question\": \"vraag\", \"dossier\": \"tekst\", \"name\": \"n\", \"client_id\": \"1\", \"reason\": \"r\","
    " \"text\": \"t\", \"outcome\": \"o\", \"capacity\": \"2\", \"email\": \"e\", \"phone\": \"p\", \"role\": \"expert\","
    " \"expert\": \"se-tw-01\", \"recovery_code\": \"c\", \"phase\": \"plan\", \"problematiek_anders\": \"x\"}";
static const char *s_errors =
    "{\"case\": \"fout\", \"urgency\": \"fout\", \"expertise\": \"fout\", \"question\": \"fout\", \"dossier\": \"fout\","
    " \"name\": \"fout\", \"client_id\": \"fout\", \"reason\": \"fout\", \"text\": \"fout\", \"outcome\": \"fout\","
    " \"capacity\": \"fout\", \"email\": \"fout\", \"role\": \"fout\", \"expert\": \"fout\", \"phase\": \"fout\","
    " \"recovery_code\": \"fout\", \"\": \"algemeen\"}";

#define PAGES 31

//  Every page and panel, rendered from the fixtures (poisoned: every
//  string replaced by EVIL, the context's too). Caller frees each.
static void
s_render_all (char *html [PAGES], bool poisoned)
{
    json_t *status = s_json (s_status), *requests = s_json (s_requests), *request = s_json (s_request),
           *offers = s_json (s_offers), *tags = s_json (s_tags), *cases = s_json (s_cases),
           *record = s_json (s_case_record), *expert = s_json (s_expert), *users = s_json (s_users),
           *created = s_json (s_created), *queue = s_json (s_queue), *entries = s_json (s_entries),
           *values = s_json (s_values), *errors = s_json (s_errors);
    json_t *experts = json_pack ("[O]", expert);
    json_t *all [] = { status, requests, request, offers, tags, cases, record, expert, users, created, queue,
                       entries, values, errors, experts };
    if (poisoned)
        for (size_t i = 0; i < sizeof all / sizeof all [0]; i++)
            s_poison (all [i]);
    en_portal_ctx_t med = s_ctx ("medewerker"), exp = s_ctx ("expert"), adm = s_ctx ("beheerder");
    if (poisoned) {
        en_portal_ctx_t *ctxs [] = { &med, &exp, &adm };
        for (int i = 0; i < 3; i++) {
            ctxs [i]->user = ctxs [i]->csrf = ctxs [i]->node = ctxs [i]->region = ctxs [i]->flash = EVIL;
            ctxs [i]->expert = EVIL;
        }
    }
    en_http_login_view_t view = { poisoned ? EVIL : "Onjuist", poisoned ? EVIL : "/aanbod",
                                  poisoned ? EVIL : "anna", false, NULL };
    en_http_login_view_t code = { poisoned ? EVIL : NULL, "/", NULL, true, poisoned ? EVIL : "abc" };
    int n = 0;
    html [n++] = en_portal_page_login (&med, &view);
    html [n++] = en_portal_page_login (&med, &code);
    html [n++] = en_portal_page_recover (&med, values, errors);
    html [n++] = en_portal_page_home (&med, status, requests);
    html [n++] = en_portal_page_home (&exp, status, offers);
    html [n++] = en_portal_page_home (&adm, status, queue);
    html [n++] = en_portal_panel_home (&exp, status, offers);
    html [n++] = en_portal_page_message (&med, poisoned ? EVIL : "Niet gevonden", poisoned ? EVIL : "Weg.");
    html [n++] = en_portal_page_accessibility (&med);
    html [n++] = en_portal_page_cases (&med, cases);
    html [n++] = en_portal_page_case_new (&med, values, errors);
    json_t *registered = json_pack ("{s:O}", "case", json_object_get (record, "pseudonym"));
    html [n++] = en_portal_page_case_registered (&med, registered);
    json_decref (registered);
    html [n++] = en_portal_page_case (&med, record, requests, values, errors);
    html [n++] = en_portal_page_request_new (&med, tags, cases, values, errors);
    html [n++] = en_portal_page_requests (&med, requests, poisoned ? EVIL : NULL);
    html [n++] = en_portal_panel_requests (&med, requests);
    html [n++] = en_portal_page_request (&med, request, values, errors);
    html [n++] = en_portal_panel_request (&med, request);
    html [n++] = en_portal_page_inbox (&exp, offers);
    html [n++] = en_portal_panel_inbox (&exp, offers);
    html [n++] = en_portal_page_offer (&exp, json_array_get (offers, 0), poisoned ? EVIL : "Dossier", values, errors);
    html [n++] = en_portal_page_availability (&exp, expert, tags, values, errors);
    html [n++] = en_portal_page_accounts (&adm, users, experts, values, errors);
    html [n++] = en_portal_page_account_created (&adm, created);
    html [n++] = en_portal_page_experts (&adm, experts);
    html [n++] = en_portal_page_expert_form (&adm, expert, tags, NULL, errors);
    html [n++] = en_portal_page_expert_form (&adm, NULL, tags, values, errors);
    html [n++] = en_portal_page_notifications (&adm, queue);
    html [n++] = en_portal_page_privacy (&adm, status);
    html [n++] = en_portal_page_log (&adm, poisoned ? EVIL : "p1-00112233445566778899aabbccddeeff", entries);
    //  An accepted offer shows the dossier and the advice form
    json_t *accepted = json_deep_copy (json_array_get (offers, 0));
    json_object_set_new (accepted, "answer", json_string ("accept"));
    html [n++] = en_portal_page_offer (&exp, accepted, poisoned ? EVIL : "Dossier", values, errors);
    json_decref (accepted);
    assert_int_equal (n, PAGES);
    for (int i = 0; i < n; i++)
        if (!html [i])
            fail_msg ("page %d rendered nothing", i);
    for (size_t i = 0; i < sizeof all / sizeof all [0]; i++)
        json_decref (all [i]);
}

static void
s_free_all (char *html [PAGES])
{
    for (int i = 0; i < PAGES; i++)
        free (html [i]);
}

static int
s_count (const char *haystack, const char *needle)
{
    int count = 0;
    for (const char *p = strstr (haystack, needle); p; p = strstr (p + 1, needle))
        count++;
    return count;
}

//  The text between the tag that holds marker and its end
static bool
s_has (const char *html, const char *needle)
{
    return strstr (html, needle) != NULL;
}

static void
test_hostile_input_is_escaped_everywhere (void **state)
{
    char *html [PAGES];
    s_render_all (html, true);
    for (int i = 0; i < PAGES; i++) {
        if (s_has (html [i], "<script>alert") || s_has (html [i], "\"'&x"))
            fail_msg ("page %d lets hostile text through:\n%s", i, html [i]);
        //  The hostile text is there, escaped (it was in every field)
        if (!s_has (html [i], EVIL_ESCAPED))
            fail_msg ("page %d does not show the escaped text", i);
    }
    s_free_all (html);
}

static void
test_no_inline_script_or_style (void **state)
{
    char *html [PAGES];
    for (int poisoned = 0; poisoned < 2; poisoned++) {
        s_render_all (html, poisoned);
        for (int i = 0; i < PAGES; i++) {
            const char *page = html [i];
            //  Only <script src=...> is allowed, and no style at all
            for (const char *p = strstr (page, "<script"); p; p = strstr (p + 1, "<script"))
                if (strncmp (p, "<script src=\"/static/portal.js\" defer></script>", 47) != 0
                &&  strncmp (p, "<script src=\"/static/live.js\" defer></script>", 45) != 0)
                    fail_msg ("page %d has an inline script", i);
            assert_false (s_has (page, "<style"));
            assert_false (s_has (page, " style="));
            assert_false (s_has (page, "javascript:"));
            static const char *handlers [] = { " onclick=", " onload=", " onsubmit=", " onchange=",
                                               " onerror=", " oninput=", NULL };
            for (int h = 0; handlers [h]; h++)
                if (s_has (page, handlers [h]))
                    fail_msg ("page %d has an event handler attribute %s", i, handlers [h]);
        }
        s_free_all (html);
    }
    //  The assets themselves are what the CSP allows: no eval, no inline
    assert_false (s_has (en_portal_js, "eval"));
    assert_false (s_has (en_portal_js, "innerHTML = '"));
    assert_false (s_has (en_http_live_js, "eval"));
    assert_false (s_has (en_http_live_js, "innerHTML = '"));
    assert_true (s_has (en_http_live_js, "/api/panel/"));
    assert_true (strlen (en_portal_css) > 1000);
}

static void
test_every_form_has_the_csrf_token (void **state)
{
    char *html [PAGES];
    s_render_all (html, false);
    for (int i = 0; i < PAGES; i++) {
        int forms = s_count (html [i], "method=\"post\"");
        int login = s_count (html [i], "action=\"/login\"");
        int tokens = s_count (html [i], "name=\"csrf\" value=\"" TOKEN "\"");
        if (forms != tokens + login)
            fail_msg ("page %d: %d POST forms, %d with the CSRF token (%d login)", i, forms, tokens, login);
        //  Every form is posted by a real button
        if (forms && s_count (html [i], "<button type=\"submit\"") < forms)
            fail_msg ("page %d has a form without a submit button", i);
    }
    s_free_all (html);
}

static void
test_errors_shown_on_their_field (void **state)
{
    en_portal_ctx_t ctx = s_ctx ("medewerker");
    json_t *tags = s_json (s_tags);
    json_t *values = s_json ("{\"urgency\": \"hoog\", \"question\": \"Meisje met BSN 111222333 <b>\","
                             " \"expertise\": [\"trauma\"], \"leefgebieden\": [\"wonen\", \"onderwijs\"]}");
    //  The PII guard's refusal names the field with its path
    json_t *errors = en_portal_errors_from_node ("field 'request.question' contains a BSN (burgerservicenummer);"
        " nothing was sent (remove it; the summary must not identify the child)");
    const char *message = json_string_value (json_object_get (errors, "question"));
    assert_non_null (message);
    assert_string_equal (message, "Vraag bevat een BSN (burgerservicenummer). Er is niets verstuurd: haal het"
                         " weg, de samenvatting mag het kind niet herkenbaar maken.");
    json_object_set_new (errors, "expertise", json_string ("Kies bij ‘Gevraagde expertise’ minstens 1."));
    char *html = en_portal_page_request_new (&ctx, tags, NULL, values, errors);
    assert_non_null (html);
    //  On the field: the error's id, the control points to it and is invalid
    assert_true (s_has (html, "<p class=\"error\" id=\"question-error\"><span class=\"sr\">Fout: </span>"
                              "Vraag bevat een BSN"));
    assert_true (s_has (html, "<textarea id=\"question\" name=\"question\" aria-describedby=\"question-hint"
                              " question-error\" aria-invalid=\"true\""));
    //  A group: the fieldset is described by its error
    assert_true (s_has (html, "id=\"expertise-group\" aria-describedby=\"expertise-hint expertise-error\""));
    //  The summary at the top links to the fields
    assert_true (s_has (html, "<div class=\"error-summary\" role=\"alert\""));
    assert_true (s_has (html, "<a href=\"#question\">Vraag bevat een BSN"));
    assert_true (s_has (html, "<a href=\"#expertise\">Kies bij ‘Gevraagde expertise’"));
    //  Values kept, escaped
    assert_true (s_has (html, ">Meisje met BSN 111222333 &lt;b&gt;</textarea>"));
    assert_true (s_has (html, "<option value=\"hoog\" selected>"));
    assert_true (s_has (html, "value=\"wonen\" checked"));
    assert_true (s_has (html, "value=\"onderwijs\" checked"));
    assert_false (s_has (html, "value=\"jeugdhulp\" checked"));
    //  A field without an error is not marked
    assert_false (s_has (html, "id=\"urgency\" name=\"urgency\" aria-describedby=\"urgency-hint urgency-error\""));
    assert_false (s_has (html, "id=\"urgency-error\""));
    //  Required fields are marked and announced
    assert_true (s_has (html, "id=\"urgency\" name=\"urgency\" aria-describedby=\"urgency-hint\" required"
                              " aria-required=\"true\""));
    free (html);
    json_decref (errors);

    //  Other refusals of the node, in Dutch, on their field
    struct { const char *err, *field, *starts; } cases [] = {
        { "field 'close.outcome' contains a postcode; nothing was sent", "outcome", "Toelichting bevat een postcode" },
        { "field 'advice.text' contains a client's name; nothing was sent", "text", "Tekst bevat de naam van een cliënt" },
        { "field 'dossier' contains a phone number; nothing was sent", "dossier", "Dossier bevat een telefoonnummer" },
        { "field 'request.expertise[1]' contains an unknown kind; x", "expertise", "Gevraagde expertise bevat persoonsgegevens" },
        { "dossier over 16000 bytes", "dossier", "Dossier is te groot" },
        { "a decline needs a reason (1 to 500 bytes)", "reason", "Geef een reden" },
        { "field 'urgency' is required (one of: crisis, hoog, regulier)", "urgency", "Urgentie is verplicht" },
        { "field 'kader' must be one of: vrijwillig, gedwongen", "kader", "Kader is niet goed ingevuld" },
        { "no case 'p1-00' in this node's register (expertnet case add)", "case", "Zaak (pseudoniem): deze zaak" },
        { "offer 'x' is already answered: accept", "", "Dit aanbod is al beantwoord" },
        { "something else entirely", "", "De node weigerde dit" } };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        json_t *map = en_portal_errors_from_node (cases [i].err);
        const char *text = json_string_value (json_object_get (map, cases [i].field));
        if (!text || strncmp (text, cases [i].starts, strlen (cases [i].starts)) != 0)
            fail_msg ("'%s' -> field '%s': '%s'", cases [i].err, cases [i].field, text ? text : "(none)");
        json_decref (map);
    }
    json_decref (values);
    json_decref (tags);
}

static void
test_field_errors_on_other_forms (void **state)
{
    en_portal_ctx_t ctx = s_ctx ("expert");
    json_t *offers = s_json (s_offers);
    json_t *offer = json_array_get (offers, 0);
    json_t *errors = s_json ("{\"reason\": \"Vul ‘Reden’ in.\"}");
    char *html = en_portal_page_offer (&ctx, offer, NULL, NULL, errors);
    assert_true (s_has (html, "<textarea id=\"reason\" name=\"reason\" aria-describedby=\"reason-hint reason-error\""
                              " aria-invalid=\"true\" required"));
    assert_true (s_has (html, "name=\"action\" value=\"accept\""));
    assert_true (s_has (html, "name=\"action\" value=\"decline\""));
    //  Not accepted: no dossier, no advice form
    assert_false (s_has (html, "value=\"advise\""));
    free (html);
    json_decref (errors);
    json_decref (offers);

    //  An unknown (node) field still reaches the summary
    ctx = s_ctx ("beheerder");
    errors = s_json ("{\"\": \"De node weigerde dit.\", \"password2\": \"Wachtwoord (nogmaals) is niet gelijk.\"}");
    json_t *values = s_json ("{\"name\": \"nieuw\", \"role\": \"medewerker\", \"password\": \"geheim-geheim-1\"}");
    html = en_portal_page_accounts (&ctx, NULL, NULL, values, errors);
    assert_true (s_has (html, "<li>De node weigerde dit.</li>"));
    assert_true (s_has (html, "id=\"password2-error\""));
    //  Passwords are never written back
    assert_false (s_has (html, "geheim-geheim-1"));
    assert_true (s_has (html, "value=\"nieuw\""));
    free (html);
    json_decref (errors);
    json_decref (values);
}

static void
test_navigation_per_role (void **state)
{
    struct { const char *role, *has [5], *not [5]; } roles [] = {
        { "medewerker", { "/zaken", "/verzoeken", "/verzoeken/nieuw", NULL },
                        { "/aanbod\"", "/beschikbaarheid", "/beheer/accounts", NULL } },
        { "expert", { "/aanbod", "/beschikbaarheid", NULL },
                    { "href=\"/zaken\"", "href=\"/verzoeken\"", "/beheer/", NULL } },
        { "beheerder", { "/beheer/accounts", "/beheer/experts", "/beheer/meldingen", "/beheer/privacy", NULL },
                       { "/aanbod\"", "href=\"/verzoeken\"", "/beschikbaarheid", NULL } } };
    for (int r = 0; r < 3; r++) {
        en_portal_ctx_t ctx = s_ctx (roles [r].role);
        char *html = en_portal_page_message (&ctx, "Titel", "Tekst");
        const char *nav = strstr (html, "<nav aria-label=\"Hoofdmenu\">");
        assert_non_null (nav);
        char *end = strstr (nav, "</nav>");
        assert_non_null (end);
        *end = 0;
        for (int i = 0; roles [r].has [i]; i++)
            if (!strstr (nav, roles [r].has [i]))
                fail_msg ("%s navigation lacks %s", roles [r].role, roles [r].has [i]);
        for (int i = 0; roles [r].not [i]; i++)
            if (strstr (nav, roles [r].not [i]))
                fail_msg ("%s navigation shows %s", roles [r].role, roles [r].not [i]);
        assert_false (s_has (nav, "aria-current"));
        free (html);
    }
    //  The page being shown is marked current, once
    en_portal_ctx_t ctx = s_ctx ("expert");
    char *html = en_portal_page_inbox (&ctx, NULL);
    assert_int_equal (s_count (html, "aria-current=\"page\""), 1);
    assert_true (s_has (html, "<a href=\"/aanbod\" aria-current=\"page\">Aanbod</a>"));
    assert_true (s_has (html, "se-tw-01"));
    assert_true (s_has (html, "Er wacht geen aanbod op u."));
    free (html);
    //  The login page links the recovery page only when the server has it
    en_http_login_view_t view = { NULL, "/", NULL, false, NULL };
    ctx = s_ctx ("expert");
    html = en_portal_page_login (&ctx, &view);
    assert_false (s_has (html, "href=\"/herstel\""));
    assert_true (s_has (html, "Vraag de beheerder"));
    free (html);
    ctx.recover = true;
    html = en_portal_page_login (&ctx, &view);
    assert_true (s_has (html, "<a href=\"/herstel\">Wachtwoord vergeten?</a>"));
    free (html);
    //  Nobody logged in: no navigation, no logout
    en_portal_ctx_t anonymous = { .node = "twente", .region = "twente", .now = NOW };
    html = en_portal_page_message (&anonymous, "Niet gevonden", "Weg.");
    assert_false (s_has (html, "<nav"));
    assert_false (s_has (html, "/uitloggen"));
    free (html);
}

static void
test_countdown (void **state)
{
    char buf [48];
    assert_string_equal (en_portal_countdown (8 * 60000 + 12000, buf, sizeof buf), "nog 8 min 12 s");
    assert_string_equal (en_portal_countdown (8 * 60000, buf, sizeof buf), "nog 8 min");
    assert_string_equal (en_portal_countdown (45000, buf, sizeof buf), "nog 45 s");
    assert_string_equal (en_portal_countdown (999, buf, sizeof buf), "nog 0 s");
    assert_string_equal (en_portal_countdown (3 * 3600000 + 5 * 60000 + 30000, buf, sizeof buf), "nog 3 u 5 min");
    assert_string_equal (en_portal_countdown (3 * 3600000, buf, sizeof buf), "nog 3 u");
    assert_string_equal (en_portal_countdown (2 * 86400000LL + 4 * 3600000, buf, sizeof buf), "nog 2 d 4 u");
    assert_string_equal (en_portal_countdown (0, buf, sizeof buf), "verlopen");
    assert_string_equal (en_portal_countdown (-5000, buf, sizeof buf), "verlopen");
    //  The script counts the same way
    assert_true (s_has (en_portal_js, "' min'"));
    assert_true (s_has (en_portal_js, "'verlopen'"));

    //  In the inbox: 8 min 12 s before the deadline, marked as soon
    en_portal_ctx_t ctx = s_ctx ("expert");
    json_t *offers = s_json (s_offers);
    char *html = en_portal_page_inbox (&ctx, offers);
    assert_true (s_has (html, "<span class=\"countdown tick soon\" data-left=\"492000\""));
    assert_true (s_has (html, ">nog 8 min 12 s</span>"));
    //  The full question, the urgency and a way to answer
    assert_true (s_has (html, "Wat is een veilige eerste stap?"));
    assert_true (s_has (html, "<span class=\"badge u-crisis\">crisis</span>"));
    assert_true (s_has (html, "href=\"/aanbod/twente-1a2b3c4d-o1\""));
    free (html);
    //  Past the deadline
    ctx.now = NOW + 600000;
    html = en_portal_panel_inbox (&ctx, offers);
    assert_true (s_has (html, "countdown tick over\" data-left=\"-108000\""));
    assert_true (s_has (html, ">verlopen</span>"));
    free (html);
    json_decref (offers);
}

//  A team (EXPN/3): the request page lists its places, filled (by whom),
//  open or a hiaat; the reply names the place of a filled one; the new
//  request form offers the places; a refusal of a place lands on its field
static void
test_team_pages (void **state)
{
    en_portal_ctx_t ctx = s_ctx ("medewerker");
    json_t *request = s_json (s_request);
    json_object_set_new (request, "places", s_json ("[{\"place\":1,\"roles\":[\"superexpert\"],\"expertise\":[\"trauma\"],"
        "\"state\":\"accepted\",\"expert\":\"se-tw-01\"},{\"place\":2,\"roles\":[\"superexpert\"],\"expertise\":[\"lvb\"],"
        "\"state\":\"hiaat\"},{\"place\":3,\"roles\":[\"ervaringsdeskundige\"],\"expertise\":[],\"state\":\"offered\"}]"));
    json_object_set_new (request, "state", json_string ("hiaat"));
    char *page = en_portal_page_request (&ctx, request, NULL, NULL);
    assert_true (s_has (page, "<caption class=\"sr\">Plaatsen in het team</caption>"));
    assert_true (s_has (page, ">Vervuld</td><td data-label=\"Expert\">se-tw-01</td>"));
    assert_true (s_has (page, "Hiaat: niemand beschikbaar"));
    assert_true (s_has (page, "Open: wordt aangeboden"));
    assert_true (s_has (page, "Voor een plaats in het team kon niemand"));
    assert_true (s_has (page, "<select id=\"place\" name=\"place\""));
    assert_true (s_has (page, "<option value=\"1\">1</option>"));
    assert_false (s_has (page, "<option value=\"2\">"));       //  a hiaat has nobody to reply to
    free (page);
    json_decref (request);
    json_t *tags = s_json (s_tags), *cases = s_json (s_cases);
    json_t *errors = en_portal_errors_from_node ("field 'places[2].role' must be one of: superexpert, "
                                                 "procesregisseur, ervaringsdeskundige");
    assert_string_equal (en_json_str (errors, "place2_role"), "Rol (plaats 2) is niet goed ingevuld.");
    page = en_portal_page_request_new (&ctx, tags, cases, NULL, errors);
    assert_true (s_has (page, "<details class=\"team\" open><summary>Een team vragen"));
    assert_true (s_has (page, "<legend>Plaats 8</legend>"));
    assert_true (s_has (page, "<select id=\"place2_role\" name=\"place2_role\" aria-describedby=\"place2_role-error\""));
    free (page);
    json_decref (errors);
    json_decref (tags);
    json_decref (cases);
    //  The expert's offer says which place it is for
    ctx = s_ctx ("expert");
    json_t *offer = s_json ("{\"id\": \"twente-0001-o2\", \"request_id\": \"twente-0001\", \"expert\": \"se-tw-01\","
        " \"kind\": \"offer\", \"state\": \"open\", \"place\": 2, \"request\": {\"urgency\": \"hoog\","
        " \"expertise\": [\"trauma\", \"lvb\"], \"places\": [{\"role\": \"superexpert\", \"expertise\": [\"trauma\"]},"
        " {\"role\": \"superexpert\", \"expertise\": [\"lvb\"]}, {\"role\": \"ervaringsdeskundige\"}]}}");
    page = en_portal_page_offer (&ctx, offer, NULL, NULL, NULL);
    assert_true (s_has (page, "Het expertteam vraagt een team van 3. Dit aanbod is voor plaats 2: Superexpert voor lvb."));
    free (page);
    //  Accepted, a moreel beraad fixed and then held: the page says when
    //  it was held (Europe/Amsterdam), no longer the fixed time
    json_object_set_new (offer, "answer", json_string ("accept"));
    json_object_set_new (offer, "beraad_times", s_json ("[1796220000000]"));
    json_object_set_new (offer, "beraad_at", json_integer (1796220000000));
    page = en_portal_page_offer (&ctx, offer, NULL, NULL, NULL);
    assert_true (s_has (page, "De tijd staat vast"));
    free (page);
    json_object_set_new (offer, "beraad_held_at", json_integer (1796223600000));     //  2026-12-02 15:00 UTC
    page = en_portal_page_offer (&ctx, offer, NULL, NULL, NULL);
    assert_true (s_has (page, "Moreel beraad gehouden op <strong>02-12-2026 16:00</strong>"));
    assert_false (s_has (page, "De tijd staat vast"));
    free (page);
    json_decref (offer);
}

static void
test_live_panels (void **state)
{
    en_portal_ctx_t ctx = s_ctx ("medewerker");
    json_t *request = s_json (s_request);
    char *page = en_portal_page_request (&ctx, request, NULL, NULL);
    char *panel = en_portal_panel_request (&ctx, request);
    const char *open = "<div class=\"live-panel\" aria-live=\"polite\" data-panel=\"verzoek/twente-1a2b3c4d\">";
    const char *at = strstr (page, open);
    assert_non_null (at);
    //  The page holds exactly what the panel refresh sends
    assert_memory_equal (at + strlen (open), panel, strlen (panel));
    assert_true (s_has (panel, "Overleg met de school."));
    assert_true (s_has (panel, "afgewezen"));               //  the timeline, in Dutch
    assert_true (s_has (panel, "geen capaciteit"));
    assert_true (s_has (panel, "advies ontvangen"));
    //  Advice arrived: the reply form; the request is open: the close form
    assert_true (s_has (page, "name=\"action\" value=\"reply\""));
    assert_true (s_has (page, "name=\"action\" value=\"close\""));
    free (page);
    free (panel);
    //  A peer province refused a message relayed to it: the team sees it
    json_array_append_new (json_object_get (request, "events"),
        json_pack ("{s:I, s:s, s:s, s:s}", "at", (json_int_t) 1799999200000LL, "event", "relay-refused",
                   "state", "advice", "detail", "gelderland refused BERAAD: 409 request is closed"));
    //  ... and a broker's detail in Dutch, as on the dashboard (en_html_detail)
    json_array_append_new (json_object_get (request, "events"),
        json_pack ("{s:I, s:s, s:s, s:s}", "at", (json_int_t) 1799999100000LL, "event", "hiaat",
                   "state", "advice", "detail", "no expert available"));
    panel = en_portal_panel_request (&ctx, request);
    assert_true (s_has (panel, "geen expert beschikbaar"));
    assert_false (s_has (panel, "no expert available"));
    assert_true (s_has (panel, "geweigerd door de andere provincie"));
    //  ... in Dutch: who refused what, and why by its code (not the
    //  broker's English reason)
    assert_true (s_has (panel, "gelderland weigerde het moreel beraad (tijden of uitkomst): het past niet bij de "
                               "toestand daar"));
    assert_false (s_has (panel, "request is closed"));
    free (panel);
    json_object_set_new (request, "state", json_string ("closed"));
    page = en_portal_page_request (&ctx, request, NULL, NULL);
    assert_false (s_has (page, "value=\"close\""));
    assert_false (s_has (page, "value=\"reply\""));
    free (page);
    json_decref (request);

    static const char *names [] = { "aanbod", "meldingen", "privacy", "home", "verzoeken", NULL };
    en_portal_ctx_t exp = s_ctx ("expert"), adm = s_ctx ("beheerder");
    char *pages [] = { en_portal_page_inbox (&exp, NULL), en_portal_page_notifications (&adm, NULL),
                       en_portal_page_privacy (&adm, NULL), en_portal_page_home (&ctx, NULL, NULL),
                       en_portal_page_requests (&ctx, NULL, NULL) };
    for (int i = 0; names [i]; i++) {
        char marker [128];
        snprintf (marker, sizeof marker, "aria-live=\"polite\" data-panel=\"%s\"", names [i]);
        if (!s_has (pages [i], marker))
            fail_msg ("page %d has no live panel %s", i, names [i]);
        free (pages [i]);
    }
}

static void
test_request_form_vocabularies_and_hiaat_warning (void **state)
{
    en_portal_ctx_t ctx = s_ctx ("medewerker");
    json_t *tags = s_json (s_tags);
    json_t *cases = s_json (s_cases);
    char *html = en_portal_page_request_new (&ctx, tags, cases, NULL, NULL);
    //  Every value of every controlled vocabulary is offered
    const char **lists [] = { en_vocab_urgency, en_vocab_question_type, en_vocab_age_band, en_vocab_leefgebied,
                              en_vocab_kader, en_vocab_situatie, en_vocab_stuck_on, NULL };
    for (int l = 0; lists [l]; l++)
        for (int i = 0; lists [l][i]; i++) {
            char option [96];
            snprintf (option, sizeof option, "value=\"%s\"", lists [l][i]);
            if (!s_has (html, option))
                fail_msg ("the form lacks %s", option);
        }
    assert_true (s_has (html, "enctype=\"multipart/form-data\""));
    assert_true (s_has (html, "type=\"file\" id=\"dossier_file\" name=\"dossier_file\""));
    assert_true (s_has (html, "<option value=\"p1-00112233445566778899aabbccddeeff\">"));
    //  The tag nobody holds is marked; the warning waits until it is chosen
    assert_true (s_has (html, "value=\"eetstoornis\" data-unavailable=\"1\""));
    assert_false (s_has (html, "value=\"trauma\" data-unavailable"));
    assert_true (s_has (html, "data-tag-warning hidden>"));
    free (html);
    json_t *values = s_json ("{\"expertise\": [\"eetstoornis\"]}");
    html = en_portal_page_request_new (&ctx, tags, cases, values, NULL);
    assert_true (s_has (html, "data-tag-warning>"));
    free (html);

    //  The check refuses it until "toch indienen" is ticked
    json_t *form = s_json ("{\"urgency\": \"hoog\", \"question_type\": \"consultatie-advies\","
                           " \"expertise\": [\"eetstoornis\"], \"age_band\": \"12-17\"}");
    json_t *errors = en_portal_check ("request", form, tags);
    assert_int_equal (json_object_size (errors), 1);
    assert_true (s_has (json_string_value (json_object_get (errors, "expertise")), "'eetstoornis'"));
    json_decref (errors);
    json_object_set_new (form, "hiaat_ok", json_string ("ja"));
    errors = en_portal_check ("request", form, tags);
    assert_int_equal (json_object_size (errors), 0);
    json_decref (errors);
    json_decref (form);
    json_decref (values);
    json_decref (tags);
    json_decref (cases);
}

//  What the forms check before the node is asked: Dutch, naming the field
static void
test_checks (void **state)
{
    struct { const char *form, *values, *field, *message; } cases [] = {
        { "request", "{}", "urgency", "Maak een keuze bij ‘Urgentie’." },
        { "request", "{}", "question_type", "Maak een keuze bij ‘Soort vraag’." },
        { "request", "{}", "expertise", "Kies bij ‘Gevraagde expertise’ minstens 1." },
        { "request", "{}", "age_band", "Maak een keuze bij ‘Leeftijd’." },
        { "request", "{\"urgency\": \"morgen\"}", "urgency", "Kies bij ‘Urgentie’ een van de gegeven mogelijkheden." },
        { "request", "{\"case\": \"jan\"}", "case", "Zaak (pseudoniem): kies een geregistreerde zaak uit de lijst." },
        { "request", "{\"leefgebieden\": [\"maan\"]}", "leefgebieden",
          "Kies bij ‘Leefgebieden’ alleen uit de gegeven mogelijkheden." },
        { "request", "{\"problematiek_anders\": \"trauma, Hoofd Pijn\"}", "problematiek_anders",
          "Andere problematiek: 'Hoofd Pijn' is geen label; gebruik kleine letters, cijfers en '-'." },
        { "case", "{}", "client_id", "Vul het cliëntnummer in: daaruit maakt de node het pseudoniem." },
        { "case", "{\"client_id\": \"1\", \"birth_date\": \"17-5-2013\"}", "birth_date",
          "Geboortedatum: vul een datum in als dag-maand-jaar (bijvoorbeeld 31-12-2026)." },
        { "decline", "{\"reason\": \"  \"}", "reason", "Vul ‘Reden’ in." },
        { "advise", "{}", "text", "Vul ‘Tekst’ in." },
        { "close", "{}", "passende_hulp", "Maak een keuze bij ‘Passende hulp gerealiseerd’." },
        { "phase", "{\"phase\": \"plan\", \"passende_hulp\": \"ja\"}", "passende_hulp",
          "Passende hulp gerealiseerd: alleen invullen bij de fase Afgesloten." },
        { "phase", "{\"phase\": \"afgesloten\", \"passende_hulp\": \"ja\", \"suicides\": \"-1\"}", "suicides",
          "Suïcides moet een heel getal van 0 tot en met 1000 zijn." },
        { "availability", "{\"capacity\": \"99\"}", "capacity", "Capaciteit moet een heel getal van 0 tot en met 50 zijn." },
        { "account", "{\"name\": \"Anna B\"}", "name", "Naam (inlognaam): gebruik kleine letters, cijfers en '-'." },
        { "account", "{\"role\": \"expert\"}", "expert",
          "Kies bij de rol Expert het expert-id waaraan het account gebonden is." },
        { "account", "{\"password\": \"kort\"}", "password", "Wachtwoord moet minstens 12 tekens hebben." },
        { "account", "{\"password\": \"lang-genoeg-123\", \"password2\": \"anders\"}", "password2",
          "Wachtwoord (nogmaals) is niet gelijk aan het eerste wachtwoord." },
        { "account", "{\"email\": \"geen-adres\"}", "email", "E-mailadres is niet geldig, bijvoorbeeld naam@organisatie.nl." },
        { "account", "{\"phone\": \"12\"}", "phone", "Mobiel nummer is niet geldig, bijvoorbeeld +31612345678." },
        { "recover", "{}", "recovery_code", "Vul de herstelcode in." },
        { "expert", "{\"id\": \"\"}", "id", "Vul het expert-id in." },
        { "expert", "{\"id\": \"Jan Jansen\"}", "id",
          "Expert-id: gebruik kleine letters, cijfers en '-' (een pseudoniem, geen naam)." },
        { "expert", "{}", "role", "Maak een keuze bij ‘Rol’." },
        { "expert", "{}", "capacity", "Vul ‘Capaciteit’ in." },
        { "expert", "{\"email\": \"x\"}", "email", "E-mailadres is niet geldig, bijvoorbeeld naam@organisatie.nl." } };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        json_t *values = s_json (cases [i].values);
        json_t *errors = en_portal_check (cases [i].form, values, NULL);
        const char *text = json_string_value (json_object_get (errors, cases [i].field));
        if (!text || !streq (text, cases [i].message))
            fail_msg ("%s %s: field %s says '%s'", cases [i].form, cases [i].values, cases [i].field,
                      text ? text : "(nothing)");
        json_decref (errors);
        json_decref (values);
    }
    //  Good input passes
    struct { const char *form, *values; } good [] = {
        { "request", "{\"urgency\": \"crisis\", \"question_type\": \"procesregie\", \"expertise\": [\"trauma\"],"
                     " \"age_band\": \"4-11\", \"leefgebieden\": [\"wonen\"], \"problematiek_anders\": \"hechting, lvb\","
                     " \"case\": \"p1-00112233445566778899aabbccddeeff\"}" },
        { "case", "{\"client_id\": \"999\", \"birth_date\": \"2013-05-17\", \"kader\": \"gedwongen\"}" },
        { "account", "{\"name\": \"se-tw-03\", \"role\": \"expert\", \"expert\": \"se-tw-03\", \"email\": \"a@b.nl\","
                     " \"phone\": \"+31 6 1234 5678\", \"password\": \"lang-genoeg-123\", \"password2\": \"lang-genoeg-123\"}" },
        { "availability", "{\"capacity\": \"3\", \"absent_until\": \"\", \"expertise\": [\"trauma\"]}" },
        { "phase", "{\"phase\": \"afgesloten\", \"passende_hulp\": \"nee\", \"suicides\": \"0\"}" },
        { "close", "{\"passende_hulp\": \"ja\", \"outcome\": \"gezinshuis gevonden\"}" },
        { "expert", "{\"id\": \"se-tw-04\", \"role\": \"procesregisseur\", \"capacity\": \"1\","
                    " \"bovenregionaal\": \"ja\", \"email\": \"pr@example.org\"}" },
        { "expert", "{\"role\": \"superexpert\", \"capacity\": \"2\", \"expertise\": [\"trauma\"]}" } };
    json_t *tags = s_json (s_tags);
    for (size_t i = 0; i < sizeof good / sizeof good [0]; i++) {
        json_t *values = s_json (good [i].values);
        json_t *errors = en_portal_check (good [i].form, values, tags);
        if (json_object_size (errors)) {
            char *text = json_dumps (errors, 0);
            fail_msg ("%s %s refused: %s", good [i].form, good [i].values, text);
        }
        json_decref (errors);
        json_decref (values);
    }
    json_decref (tags);
}

static void
test_shown_once_and_case_pages (void **state)
{
    en_portal_ctx_t ctx = s_ctx ("beheerder");
    json_t *created = s_json (s_created);
    char *html = en_portal_page_account_created (&ctx, created);
    assert_true (s_has (html, "Eén keer zichtbaar."));
    assert_true (s_has (html, "id=\"recovery-code\">ABCD-EFGH</p>"));
    assert_true (s_has (html, "id=\"totp-secret\">JBSW Y3DP EHPK 3PXP</p>"));
    assert_true (s_has (html, "href=\"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP\""));
    free (html);
    //  Only an otpauth: URI becomes a link
    json_object_set_new (created, "totp_uri", json_string ("javascript:alert(1)"));
    html = en_portal_page_account_created (&ctx, created);
    assert_false (s_has (html, "javascript:"));
    free (html);
    json_decref (created);

    ctx = s_ctx ("medewerker");
    json_t *result = s_json ("{\"case\": \"p1-00112233445566778899aabbccddeeff\", \"state\": \"registered\"}");
    html = en_portal_page_case_registered (&ctx, result);
    assert_true (s_has (html, "<p class=\"pseudonym\" id=\"pseudonym\">p1-00112233445566778899aabbccddeeff</p>"));
    assert_true (s_has (html, "href=\"/verzoeken/nieuw?zaak=p1-00112233445566778899aabbccddeeff\""));
    free (html);
    json_decref (result);
    //  The identifying fields are in the case form, never in the request form
    html = en_portal_page_case_new (&ctx, NULL, NULL);
    assert_true (s_has (html, "name=\"client_id\""));
    assert_true (s_has (html, "type=\"date\" id=\"birth_date\" name=\"birth_date\""));
    free (html);
    html = en_portal_page_request_new (&ctx, NULL, NULL, NULL, NULL);
    assert_false (s_has (html, "name=\"client_id\""));
    assert_false (s_has (html, "name=\"birth_date\""));
    free (html);
    //  Phases: reached ones with their time, a phase form while open
    json_t *record = s_json (s_case_record);
    html = en_portal_page_case (&ctx, record, NULL, NULL, NULL);
    assert_true (s_has (html, "<li class=\"done\">Aanmelding"));
    assert_true (s_has (html, "<li class=\"todo\">Triage"));
    assert_true (s_has (html, "name=\"action\" value=\"phase\""));
    free (html);
    json_decref (record);
}

static void
test_expert_pages (void **state)
{
    en_portal_ctx_t ctx = s_ctx ("beheerder");
    json_t *expert = s_json (s_expert);
    json_t *experts = json_pack ("[O]", expert);
    char *html = en_portal_page_experts (&ctx, experts);
    assert_true (s_has (html, "<a href=\"/beheer/experts/se-tw-01\">se-tw-01</a>"));
    assert_true (s_has (html, "href=\"/beheer/experts/nieuw\""));
    free (html);
    //  Editing starts from the record; the id is not editable
    html = en_portal_page_expert_form (&ctx, expert, NULL, NULL, NULL);
    assert_true (s_has (html, "action=\"/beheer/experts/se-tw-01\""));
    assert_false (s_has (html, "name=\"id\""));
    assert_true (s_has (html, "<option value=\"superexpert\" selected>"));
    assert_true (s_has (html, "id=\"capacity\" name=\"capacity\" aria-describedby=\"capacity-hint\" required"
                              " aria-required=\"true\" min=\"0\" max=\"50\" inputmode=\"numeric\" value=\"2\""));
    assert_true (s_has (html, "value=\"expert@example.org\""));
    assert_true (s_has (html, "value=\"trauma\" checked"));
    free (html);
    //  A new one asks for the id
    html = en_portal_page_expert_form (&ctx, NULL, NULL, NULL, NULL);
    assert_true (s_has (html, "action=\"/beheer/experts/nieuw\""));
    assert_true (s_has (html, "name=\"id\""));
    free (html);
    json_decref (experts);
    json_decref (expert);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_hostile_input_is_escaped_everywhere),
        cmocka_unit_test (test_no_inline_script_or_style),
        cmocka_unit_test (test_every_form_has_the_csrf_token),
        cmocka_unit_test (test_errors_shown_on_their_field),
        cmocka_unit_test (test_field_errors_on_other_forms),
        cmocka_unit_test (test_navigation_per_role),
        cmocka_unit_test (test_countdown),
        cmocka_unit_test (test_live_panels),
        cmocka_unit_test (test_request_form_vocabularies_and_hiaat_warning),
        cmocka_unit_test (test_checks),
        cmocka_unit_test (test_shown_once_and_case_pages),
        cmocka_unit_test (test_expert_pages),
        cmocka_unit_test (test_team_pages),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
