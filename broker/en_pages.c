/*  en_pages - HTML of the dashboard (see en_pages.h).

    Rendering reads top to bottom like the page: each function writes one
    part to a FILE (an open_memstream in en_web), taking the JSON the
    broker answered. Words the store keeps in English (states, events,
    roles) are shown in Dutch through small tables here; an unknown word
    is shown as it is, escaped.
*/
#include "en_pages.h"
#include "en_charts.h"
#include "en_text.h"
#include <time.h>

static const char *s_states [][2] = {
    { "submitted", "ingediend" }, { "offered", "aangeboden" }, { "escalated", "geëscaleerd" },
    { "accepted", "geaccepteerd" }, { "advice", "advies gegeven" }, { "closed", "gesloten" },
    { "hiaat", "hiaat" }, { "forwarded", "naar andere provincie" }, { "returned", "teruggegeven" },
    { "recalled", "teruggehaald" }, { "monitoring", "monitoren (terug op ET)" }, { NULL, NULL } };

static const char *s_events [][2] = {
    { "submitted", "ingediend" }, { "offered", "aangeboden aan expert" },
    { "escalated", "geëscaleerd naar procesregisseur" }, { "accepted", "geaccepteerd" },
    { "declined", "afgewezen" }, { "expired", "verlopen (geen antwoord)" },
    { "advice", "advies gegeven" }, { "closed", "gesloten" }, { "hiaat", "hiaat: niemand beschikbaar" },
    { "dossier", "dossier versleuteld doorgestuurd" }, { "withdrawn", "aanbod ingetrokken" },
    { "operator-reoffer", "operator: opnieuw aanbieden" },
    { "operator-escalate", "operator: escaleren" }, { "operator-close", "operator: sluiten" },
    { "forwarded", "doorgestuurd naar andere provincie" }, { "returned", "teruggegeven: daar niemand" },
    { "relayed", "doorgegeven aan andere provincie" }, { "operator-recall", "operator: teruggehaald" },
    { "recalled", "teruggehaald door de andere provincie" },
    { "late-status", "bericht van andere provincie na terughalen" },
    { "message", "bericht in het gesprek (versleuteld doorgegeven)" },
    { "monitoring", "datum terug op ET gezet" }, { "review-due", "terug op ET: datum bereikt" },
    { "reminded", "expert herinnerd (terug op ET)" },
    { NULL, NULL } };

static const char *s_kinds [][2] = {
    { "offer", "aanbod" }, { "escalation", "escalatie" }, { NULL, NULL } };

static const char *s_audit_events [][2] = {
    { "request.view", "bekeken" }, { "request.submitted", "ontvangen" }, { "request.offered", "aangeboden" },
    { "request.escalated", "geëscaleerd" }, { "request.accepted", "geaccepteerd" },
    { "request.declined", "afgewezen" }, { "request.expired", "verlopen" }, { "request.advice", "advies" },
    { "request.closed", "gesloten" }, { "request.hiaat", "hiaat" }, { "request.dossier", "dossier doorgestuurd" },
    { "request.withdrawn", "aanbod ingetrokken" }, { "request.operator-reoffer", "opnieuw aanbieden" },
    { "request.operator-escalate", "escaleren" }, { "request.operator-close", "sluiten" },
    { "request.forwarded", "doorgestuurd" }, { "request.returned", "teruggegeven" },
    { "request.relayed", "doorgegeven" }, { "request.operator-recall", "teruggehaald" },
    { "request.recalled", "teruggehaald" }, { NULL, NULL } };

static const char *s_outcomes [][2] = {
    { "ok", "ok" }, { "denied", "geweigerd" }, { "failed", "mislukt" }, { "error", "fout" }, { NULL, NULL } };

static const char *
s_time (int64_t ms, char *buf, size_t size)
{
    return en_time_fmt (ms, "%d-%m-%Y %H:%M:%S", buf, size);
}

static void
s_state (FILE *out, const char *state)
{
    en_html_badge (out, "state s-", state, s_states);
}

static void
s_request_link (FILE *out, const char *id)
{
    fputs ("<a class=\"req\" href=\"/verzoek/", out);
    en_html_escape (out, id);
    fputs ("\">", out);
    en_html_escape (out, id);
    fputs ("</a>", out);
}

static void
s_tags (FILE *out, json_t *array)
{
    size_t index;
    json_t *item;
    json_array_foreach (array, index, item) {
        fputs ("<span class=\"tag\">", out);
        en_html_escape (out, json_string_value (item));
        fputs ("</span>", out);
    }
}

void
en_pages_begin (FILE *out, const en_page_t *page, const char *title, const char *active)
{
    fputs ("<!DOCTYPE html>\n<html lang=\"nl\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\"><title>", out);
    en_html_escape (out, title);
    fputs (" - expertnet ", out);
    en_html_escape (out, page->broker);
    fputs ("</title><link rel=\"stylesheet\" href=\"/static/style.css\">"
           "<script src=\"/static/live.js\" defer></script><script src=\"/static/app.js\" defer></script>"
           "</head>\n<body>"
           "<a class=\"skip\" href=\"#main\">Naar de inhoud</a>"
           "<header><div class=\"brand\"><span class=\"logo\">expertnet</span> <span class=\"where\">"
           "Expertisecentrum ", out);
    en_html_escape (out, page->broker);
    fputs ("</span></div><nav aria-label=\"Hoofdmenu\">", out);
    static const char *nav [][2] = {
        { "overzicht", "/" }, { "verzoeken", "/verzoeken" }, { "experts", "/experts" },
        { "grafieken", "/grafieken" }, { NULL, NULL } };
    static const char *nav_label [] = { "Overzicht", "Verzoeken", "Experts", "Grafieken" };
    for (int i = 0; nav [i][0]; i++)
        fprintf (out, "<a href=\"%s\"%s>%s</a>", nav [i][1],
                 active && streq (active, nav [i][0]) ? " class=\"active\" aria-current=\"page\"" : "",
                 nav_label [i]);
    fputs ("</nav><div class=\"who\">", out);
    if (page->operator_name) {
        fputs ("<span>ingelogd als <b>", out);
        en_html_escape (out, page->operator_name);
        fputs ("</b></span>", out);
        if (page->csrf) {
            fputs ("<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"", out);
            en_html_escape (out, page->csrf);
            fputs ("\"><button type=\"submit\" class=\"link\">Uitloggen</button></form>", out);
        }
    }
    fputs ("</div></header>\n<main id=\"main\">", out);
}

void
en_pages_end (FILE *out)
{
    fputs ("</main></body></html>\n", out);
}

void
en_pages_login (FILE *out, const char *broker, const char *message, const char *next, const char *name)
{
    fputs ("<!DOCTYPE html>\n<html lang=\"nl\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\"><title>Inloggen - expertnet ", out);
    en_html_escape (out, broker);
    fputs ("</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head>\n<body class=\"login\">"
           "<main><form class=\"login-box\" method=\"post\" action=\"/login\">"
           "<h1><span class=\"logo\">expertnet</span></h1><p class=\"muted\">Dashboard van Expertisecentrum ", out);
    en_html_escape (out, broker);
    fputs ("</p>", out);
    if (message) {
        fputs ("<p class=\"alert\" role=\"alert\">", out);
        en_html_escape (out, message);
        fputs ("</p>", out);
    }
    fputs ("<input type=\"hidden\" name=\"next\" value=\"", out);
    en_html_escape (out, next ? next : "/");
    fputs ("\"><label for=\"name\">Naam</label><input id=\"name\" name=\"name\" autocomplete=\"username\""
           " required autofocus value=\"", out);
    en_html_escape (out, name ? name : "");
    fputs ("\"><label for=\"password\">Wachtwoord</label><input id=\"password\" name=\"password\""
           " type=\"password\" autocomplete=\"current-password\" required>"
           "<button type=\"submit\">Inloggen</button></form></main></body></html>\n", out);
}

static void
s_card (FILE *out, const char *label, const char *value, const char *note, const char *class_name)
{
    fprintf (out, "<div class=\"card%s%s\"><div class=\"label\">", class_name ? " " : "", class_name ? class_name : "");
    en_html_escape (out, label);
    fputs ("</div><div class=\"value\">", out);
    en_html_escape (out, value);
    fputs ("</div><div class=\"note\">", out);
    en_html_escape (out, note);
    fputs ("</div></div>", out);
}

//  In an open panel: with no rows, say so (empty) and close the panel.
//  True when there are rows to show.
static bool
s_rows (FILE *out, size_t rows, const char *empty)
{
    if (rows == 0)
        fprintf (out, "<p class=\"empty\">%s</p></section>", empty);
    return rows > 0;
}

//  Open a panel with its title, then as s_rows
static bool
s_panel (FILE *out, const char *title, size_t rows, const char *empty)
{
    fprintf (out, "<section class=\"panel\"><h2>%s</h2>", title);
    return s_rows (out, rows, empty);
}

static void
s_open_requests (FILE *out, json_t *requests, int64_t now)
{
    if (!s_panel (out, "Open verzoeken", json_array_size (requests), "Geen open verzoeken."))
        return;
    fputs ("<table id=\"open-requests\"><thead><tr><th>Verzoek</th><th>Regio</th><th>Urgentie</th>"
           "<th>Vraag</th><th>Status</th><th>Toegewezen</th><th class=\"num\">Leeftijd</th></tr></thead><tbody>", out);
    size_t index;
    json_t *request;
    json_array_foreach (requests, index, request) {
        char age [32];
        fprintf (out, "<tr data-request=\"");
        en_html_escape (out, en_json_str (request, "id"));
        fputs ("\"><td>", out);
        s_request_link (out, en_json_str (request, "id"));
        fputs ("</td><td>", out);
        en_html_escape (out, en_json_str (request, "region"));
        fputs ("</td><td>", out);
        en_html_urgency (out, en_json_str (request, "urgency"));
        fputs ("</td><td>", out);
        en_html_escape (out, en_json_str (request, "question_type"));
        fputs ("<div class=\"sub\">", out);
        en_html_words (out, json_object_get (request, "expertise"), NULL);
        fputs ("</div></td><td>", out);
        s_state (out, en_json_str (request, "state"));
        fputs ("</td><td>", out);
        en_html_escape (out, en_json_str (request, "expert") ?: "-");
        fprintf (out, "</td><td class=\"num\">%s</td></tr>",
                 en_charts_duration (now - en_json_int (request, "created", now), age, sizeof age));
    }
    fputs ("</tbody></table></section>", out);
}

static void
s_offers (FILE *out, json_t *offers)
{
    if (!s_panel (out, "Wachtende aanbiedingen", json_array_size (offers), "Er wacht geen aanbod op antwoord."))
        return;
    fputs ("<table id=\"offers\"><thead><tr><th>Verzoek</th><th>Expert</th><th>Soort</th><th>Urgentie</th>"
           "<th class=\"num\">Resterende tijd</th></tr></thead><tbody>", out);
    size_t index;
    json_t *offer;
    json_array_foreach (offers, index, offer) {
        int64_t left = en_json_int (offer, "left_ms", 0);
        int64_t span = en_json_int (offer, "deadline", 0) - en_json_int (offer, "created", 0);
        bool late = left <= 0 || (span > 0 && left * 4 < span);
        fputs ("<tr><td>", out);
        s_request_link (out, en_json_str (offer, "request_id"));
        fputs ("</td><td>", out);
        en_html_escape (out, en_json_str (offer, "expert"));
        fputs ("<div class=\"sub\">", out);
        en_html_escape (out, en_json_str (offer, "node"));
        fputs ("</div></td><td>", out);
        en_html_escape (out, en_word (s_kinds, en_json_str (offer, "kind")));
        fputs ("</td><td>", out);
        en_html_urgency (out, en_json_str (offer, "urgency"));
        char buf [32];
        fprintf (out, "</td><td class=\"num%s\">%s%s</td></tr>", late ? " late" : "",
                 left <= 0 ? "verlopen" : "nog ", left <= 0 ? "" : en_charts_duration (left, buf, sizeof buf));
    }
    fputs ("</tbody></table></section>", out);
}

static void
s_availability (FILE *out, json_t *experts)
{
    json_t *by_role = json_object_get (experts, "by_role");
    if (!s_panel (out, "Experts beschikbaar", json_object_size (by_role), "Nog geen experts gepubliceerd."))
        return;
    fputs ("<table class=\"compact\"><thead><tr><th>Rol</th><th class=\"num\">Beschikbaar</th>"
           "<th class=\"num\">Totaal</th></tr></thead><tbody>", out);
    const char *key;
    json_t *value;
    json_object_foreach (by_role, key, value) {
        fputs ("<tr><td>", out);
        en_html_escape (out, key);
        fprintf (out, "</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td></tr>",
                 (long long) en_json_int (value, "available", 0), (long long) en_json_int (value, "total", 0));
    }
    fputs ("</tbody></table><h3>Per expertise <span class=\"muted\">(beschikbaar / totaal)</span></h3>"
           "<div class=\"chips\">", out);
    json_object_foreach (json_object_get (experts, "by_tag"), key, value) {
        int64_t available = en_json_int (value, "available", 0);
        fprintf (out, "<span class=\"chip%s\">", available ? "" : " none");
        en_html_escape (out, key);
        fprintf (out, " <b>%lld/%lld</b></span>", (long long) available,
                 (long long) en_json_int (value, "total", 0));
    }
    fputs ("</div></section>", out);
}

//  "zojuist" or "<span> geleden" for a time at, into buffer.
static const char *
s_ago (int64_t now, int64_t at, char *buffer, size_t size)
{
    int64_t silent = now - at;
    if (silent < 10000)
        snprintf (buffer, size, "zojuist");
    else {
        char span [32];
        snprintf (buffer, size, "%s geleden", en_charts_duration (silent, span, sizeof span));
    }
    return buffer;
}

static void
s_nodes (FILE *out, json_t *nodes, int64_t now)
{
    if (!s_panel (out, "Knooppunten", json_array_size (nodes), "Nog geen knooppunt heeft zich gemeld."))
        return;
    fputs ("<table class=\"compact\" id=\"nodes\"><thead><tr><th>Knooppunt</th><th>Regio</th><th>Status</th>"
           "<th class=\"num\">Laatst gehoord</th>"
           "<th class=\"num\" title=\"berichten die nog naar het knooppunt moeten\">Wachtrij</th>"
           "</tr></thead><tbody>", out);
    size_t index;
    json_t *node;
    json_array_foreach (nodes, index, node) {
        bool up = json_is_true (json_object_get (node, "connected"));
        bool revoked = json_is_false (json_object_get (node, "enrolled"));
        char ago [32];
        fputs ("<tr><td>", out);
        en_html_escape (out, en_json_str (node, "name"));
        fputs ("</td><td>", out);
        en_html_escape (out, en_json_str (node, "region"));
        s_ago (now, en_json_int (node, "last_seen", now), ago, sizeof ago);
        fprintf (out, "</td><td class=\"nowrap\"><span class=\"dot %s\"></span>%s</td><td class=\"num\">%s</td>"
                      "<td class=\"num\">%lld</td></tr>",
                 up ? "up" : "down", up ? "verbonden" : revoked ? "ingetrokken" : "niet verbonden", ago,
                 (long long) en_json_int (node, "outbox", 0));
    }
    fputs ("</tbody></table></section>", out);
}

//  Links to the brokers of other provinces: state as the link reports it
//  (connected is not delivering: "geblokkeerd" when messages wait and
//  nothing is acknowledged), queue, last contact, round trip and what
//  the peer advertises.
static void
s_links (FILE *out, json_t *links, int64_t now)
{
    if (!s_panel (out, "Federatie", json_array_size (links),
                  "Geen koppelingen met brokers in andere provincies ingesteld."))
        return;
    static const char *labels [][3] = {
        { "up", "up", "verbonden" }, { "blocked", "warn", "geblokkeerd" }, { "down", "down", "verbroken" },
        { "connecting", "down", "verbinden..." }, { "refused", "down", "geweigerd" },
        { "not-enrolled", "down", "sleutel niet ingeschreven" }, { NULL, NULL, NULL } };
    fputs ("<table class=\"compact\" id=\"links\"><thead><tr><th>Provincie</th><th>Status</th>"
           "<th class=\"num\" title=\"berichten die op de koppeling wachten (op schijf)\">Wachtrij</th>"
           "<th class=\"num\">Laatst gehoord</th><th class=\"num\">Rondgang</th>"
           "<th class=\"num\" title=\"vrije plaatsen die de provincie aanbiedt (begrensd; tussen haakjes wat zij "
           "opgaf als dat meer was)\">Vrij</th>"
           "<th class=\"num\" title=\"verzoeken doorgestuurd naar de provincie, en hoeveel zij terugstuurde of "
           "weigerde\">Doorgestuurd</th>"
           "</tr></thead><tbody>", out);
    size_t index;
    json_t *link;
    json_array_foreach (links, index, link) {
        const char *state = en_json_str (link, "state");
        const char *dot = "down", *label = state;
        for (int i = 0; labels [i][0]; i++)
            if (streq (labels [i][0], state)) {
                dot = labels [i][1];
                label = labels [i][2];
            }
        char ago [32] = "nooit", rtt [32] = "-";
        if (json_is_integer (json_object_get (link, "last_contact")))
            s_ago (now, en_json_int (link, "last_contact", now), ago, sizeof ago);
        if (json_is_integer (json_object_get (link, "rtt_ms")))
            snprintf (rtt, sizeof rtt, "%lld ms", (long long) en_json_int (link, "rtt_ms", 0));
        fputs ("<tr><td>", out);
        en_html_escape (out, en_json_str (link, "peer"));
        fprintf (out, "</td><td class=\"nowrap\"><span class=\"dot %s\"></span>", dot);
        en_html_escape (out, label);
        json_t *advert = json_object_get (link, "advert");
        int64_t free_places = en_json_int (advert, "free", 0);
        int64_t claimed = en_json_int (advert, "claimed_free", free_places);
        char offered [64];
        if (en_json_int (advert, "clamped", 0) > 0 && claimed > free_places)
            snprintf (offered, sizeof offered, "%lld (opgegeven %lld)", (long long) free_places, (long long) claimed);
        else
            snprintf (offered, sizeof offered, "%lld", (long long) free_places);
        fprintf (out, "</td><td class=\"num\">%lld</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
                      "<td class=\"num\">%s</td><td class=\"num\">%lld (%lld terug)</td></tr>",
                 (long long) en_json_int (link, "queue", 0), ago, rtt, offered,
                 (long long) en_json_int (link, "forwards", 0), (long long) en_json_int (link, "forwards_returned", 0));
    }
    fputs ("</tbody></table></section>", out);
}

static void
s_hiaten (FILE *out, json_t *hiaten)
{
    if (!s_panel (out, "Hiaten", json_array_size (hiaten),
                  "Geen hiaten: voor elk verzoek was iemand beschikbaar."))
        return;
    fputs ("<table class=\"compact\" id=\"hiaten\"><thead><tr><th>Verzoek</th><th>Regio</th><th>Urgentie</th>"
           "<th>Vraag en expertise</th><th>Sinds</th><th>Nu</th></tr></thead><tbody>", out);
    size_t index;
    json_t *hiaat;
    json_array_foreach (hiaten, index, hiaat) {
        char when [32];
        if (index >= 20)
            break;
        fputs ("<tr><td>", out);
        s_request_link (out, en_json_str (hiaat, "request_id"));
        fputs ("</td><td>", out);
        en_html_escape (out, en_json_str (hiaat, "region"));
        fputs ("</td><td>", out);
        en_html_urgency (out, en_json_str (hiaat, "urgency"));
        fputs ("</td><td>", out);
        en_html_escape (out, en_json_str (hiaat, "question_type"));
        fputs ("<div class=\"sub\">", out);
        en_html_words (out, json_object_get (hiaat, "expertise"), NULL);
        fprintf (out, "</div></td><td>%s</td><td>", s_time (en_json_int (hiaat, "at", 0), when, sizeof when));
        s_state (out, en_json_str (hiaat, "state"));
        fputs ("</td></tr>", out);
    }
    fputs ("</tbody></table></section>", out);
}

//  Requests whose review date ("terug op ET") passed and that are not
//  closed (en_followup): region, urgency, date, days overdue; no case data
static void
s_reviews_overdue (FILE *out, json_t *overdue)
{
    if (!s_panel (out, "Terug op ET: verlopen", json_array_size (overdue),
                  "Geen verlopen datums: elk gevolgd verzoek is op tijd terug in het expertteam."))
        return;
    fputs ("<table class=\"compact\" id=\"reviews-overdue\"><thead><tr><th>Verzoek</th><th>Regio</th>"
           "<th>Urgentie</th><th>Terug op ET</th><th class=\"num\">Dagen over tijd</th><th>Nu</th></tr></thead><tbody>",
           out);
    size_t index;
    json_t *row;
    json_array_foreach (overdue, index, row) {
        char when [32];
        fputs ("<tr><td>", out);
        s_request_link (out, en_json_str (row, "id"));
        fputs ("</td><td>", out);
        en_html_escape (out, en_json_str (row, "region"));
        fputs ("</td><td>", out);
        en_html_urgency (out, en_json_str (row, "urgency"));
        fprintf (out, "</td><td>%s</td><td class=\"num\">%lld</td><td>",
                 s_time (en_json_int (row, "review_at", 0), when, sizeof when),
                 (long long) en_json_int (row, "days_overdue", 0));
        s_state (out, en_json_str (row, "state"));
        fputs ("</td></tr>", out);
    }
    fputs ("</tbody></table></section>", out);
}

void
en_pages_overview (FILE *out, json_t *overview)
{
    int64_t now = en_json_int (overview, "now", en_now_ms ());
    json_t *nodes = json_object_get (overview, "nodes");
    json_t *requests = json_object_get (overview, "requests_open");
    json_t *by_urgency = json_object_get (overview, "open_by_urgency");
    json_t *experts = json_object_get (overview, "experts");
    char value [64], note [128], when [32];

    fputs ("<div class=\"cards\">", out);
    snprintf (value, sizeof value, "%lld / %zu", (long long) en_json_int (overview, "nodes_connected", 0),
              json_array_size (nodes));
    s_card (out, "Knooppunten verbonden", value, "regio's en expertisecentrum",
            en_json_int (overview, "nodes_connected", 0) < (int64_t) json_array_size (nodes) ? "warn" : NULL);
    snprintf (value, sizeof value, "%zu", json_array_size (requests));
    snprintf (note, sizeof note, "crisis %lld · hoog %lld · regulier %lld",
              (long long) en_json_int (by_urgency, "crisis", 0), (long long) en_json_int (by_urgency, "hoog", 0),
              (long long) en_json_int (by_urgency, "regulier", 0));
    s_card (out, "Open verzoeken", value, note, en_json_int (by_urgency, "crisis", 0) ? "alarm" : NULL);
    snprintf (value, sizeof value, "%zu", json_array_size (json_object_get (overview, "offers")));
    s_card (out, "Wachtende aanbiedingen", value, "wachten op antwoord van een expert", NULL);
    snprintf (value, sizeof value, "%lld / %lld", (long long) en_json_int (experts, "available", 0),
              (long long) en_json_int (experts, "total", 0));
    s_card (out, "Experts beschikbaar", value, "aanwezig en met vrije capaciteit", NULL);
    snprintf (value, sizeof value, "%lld", (long long) en_json_int (overview, "hiaten", 0));
    s_card (out, "Hiaten", value, "verzoeken waarvoor niemand was", en_json_int (overview, "hiaten", 0) ? "warn" : NULL);
    fputs ("</div>", out);

    fputs ("<div class=\"grid two\">", out);
    s_open_requests (out, requests, now);
    s_offers (out, json_object_get (overview, "offers"));
    fputs ("</div><div class=\"grid status\">", out);
    s_availability (out, experts);
    s_nodes (out, nodes, now);
    s_links (out, json_object_get (overview, "federation"), now);
    fputs ("</div>", out);
    s_reviews_overdue (out, json_object_get (overview, "reviews_overdue"));
    s_hiaten (out, json_object_get (overview, "hiaten_list"));
    fprintf (out, "<p class=\"stamp\" id=\"stamp\">Stand van %s</p>", s_time (now, when, sizeof when));
}

void
en_pages_charts (FILE *out, json_t *charts)
{
    fputs ("<div class=\"grid three charts\">", out);
    const char *which [] = { "first-offer", "accept", "weeks", NULL };
    for (int i = 0; which [i]; i++) {
        fputs ("<figure class=\"panel\">", out);
        en_charts_svg (out, charts, which [i]);
        fputs ("</figure>", out);
    }
    fputs ("</div>", out);
}

void
en_pages_requests (FILE *out, json_t *requests, const char *state, int64_t now)
{
    static const char *filters [][2] = {
        { "", "Open" }, { "offered", "Aangeboden" }, { "escalated", "Geëscaleerd" },
        { "accepted", "Geaccepteerd" }, { "advice", "Advies" }, { "monitoring", "Monitoren" },
        { "hiaat", "Hiaat" }, { "closed", "Gesloten" }, { NULL, NULL } };
    fputs ("<h1>Verzoeken</h1><p class=\"filters\">", out);
    for (int i = 0; filters [i][0]; i++) {
        bool active = state ? streq (state, filters [i][0]) : !*filters [i][0];
        fprintf (out, "<a href=\"/verzoeken%s%s\"%s>%s</a>", *filters [i][0] ? "?status=" : "", filters [i][0],
                 active ? " class=\"active\"" : "", filters [i][1]);
    }
    fputs ("</p><section class=\"panel\">", out);
    if (!s_rows (out, json_array_size (requests), "Geen verzoeken."))
        return;
    fputs ("<table id=\"requests\"><thead><tr><th>Verzoek</th><th>Herkomst</th><th>Regio</th><th>Urgentie</th>"
           "<th>Vraag</th><th>Expertise</th><th>Status</th><th>Expert</th><th>Ingediend</th>"
           "<th class=\"num\">Leeftijd</th></tr></thead><tbody>", out);
    size_t index;
    json_t *request;
    json_array_foreach (requests, index, request) {
        char when [32], age [32];
        fputs ("<tr><td>", out);
        s_request_link (out, en_json_str (request, "id"));
        fputs ("</td><td>", out);
        en_html_escape (out, en_json_str (request, "origin"));
        fputs ("</td><td>", out);
        en_html_escape (out, en_json_str (request, "region"));
        fputs ("</td><td>", out);
        en_html_urgency (out, en_json_str (request, "urgency"));
        fputs ("</td><td>", out);
        en_html_escape (out, en_json_str (request, "question_type"));
        fputs ("</td><td>", out);
        en_html_words (out, json_object_get (json_object_get (request, "summary"), "expertise"), NULL);
        fputs ("</td><td>", out);
        s_state (out, en_json_str (request, "state"));
        fputs ("</td><td>", out);
        en_html_escape (out, en_json_str (request, "expert") ?: "-");
        fprintf (out, "</td><td>%s</td><td class=\"num\">%s</td></tr>",
                 s_time (en_json_int (request, "created", 0), when, sizeof when),
                 en_charts_duration (now - en_json_int (request, "created", now), age, sizeof age));
    }
    fputs ("</tbody></table></section>", out);
}

static void
s_field (FILE *out, const char *label, json_t *value)
{
    fputs ("<dt>", out);
    en_html_escape (out, label);
    fputs ("</dt><dd>", out);
    if (json_is_integer (value))
        fprintf (out, "%lld", (long long) json_integer_value (value));
    else
        en_html_words (out, value, NULL);
    fputs ("</dd>", out);
}

//  For a team (more than one place): which place the action is for
static void
s_place_select (FILE *out, const char *action, int64_t places)
{
    if (places < 2)
        return;
    fprintf (out, "<label for=\"place-%s\">Plaats</label><select id=\"place-%s\" name=\"place\">"
                  "<option value=\"\">Het hele verzoek%s</option>", action, action,
             streq (action, "close") ? "" : " (elke open plaats)");
    for (int64_t place = 1; place <= places; place++)
        fprintf (out, "<option value=\"%lld\">Plaats %lld</option>", (long long) place, (long long) place);
    fputs ("</select>", out);
}

static void
s_action_form (FILE *out, const en_page_t *page, const char *id, int64_t places, const char *action,
               const char *title, const char *explanation, const char *button, const char *class_name)
{
    fprintf (out, "<form method=\"post\" class=\"action %s\" action=\"/verzoek/", class_name);
    en_html_escape (out, id);
    fputs ("\"><input type=\"hidden\" name=\"csrf\" value=\"", out);
    en_html_escape (out, page->csrf ? page->csrf : "");
    fprintf (out, "\"><input type=\"hidden\" name=\"action\" value=\"%s\"><h3>%s</h3><p>%s</p>", action, title,
             explanation);
    s_place_select (out, action, places);
    fprintf (out, "<label for=\"reason-%s\">Reden (komt in de tijdlijn en het toegangslog)</label>"
                  "<textarea id=\"reason-%s\" name=\"reason\" rows=\"2\" maxlength=\"500\" required></textarea>"
                  "<button type=\"submit\">%s</button></form>",
             action, action, button);
}

//  The request's heading, with the outcome of an action just taken
static void
s_request_heading (FILE *out, json_t *request, const char *message, bool is_error)
{
    fputs ("<p class=\"crumbs\"><a href=\"/verzoeken\">Verzoeken</a> ›</p><h1>Verzoek ", out);
    en_html_escape (out, en_json_str (request, "id"));
    fputs (" ", out);
    en_html_urgency (out, en_json_str (request, "urgency"));
    fputs (" ", out);
    s_state (out, en_json_str (request, "state"));
    fputs ("</h1>", out);
    if (message) {
        fprintf (out, "<p class=\"%s\" role=\"status\">", is_error ? "alert" : "notice");
        en_html_escape (out, message);
        fputs ("</p>", out);
    }
}

static void
s_request_summary (FILE *out, const en_page_t *page, json_t *request)
{
    json_t *summary = json_object_get (request, "summary");
    char when [32], age [32];
    fputs ("<section class=\"panel\"><h2>Samenvatting</h2><dl class=\"fields\">", out);
    s_field (out, "Regio", json_object_get (request, "region"));
    s_field (out, "Ingediend door", json_object_get (request, "origin"));
    s_field (out, "Vraagtype", json_object_get (request, "question_type"));
    s_field (out, "Gevraagde expertise", json_object_get (summary, "expertise"));
    s_field (out, "Leeftijdscategorie", json_object_get (summary, "age_band"));
    s_field (out, "Leefgebieden", json_object_get (summary, "leefgebieden"));
    s_field (out, "Problematiek", json_object_get (summary, "problematiek"));
    s_field (out, "Kader", json_object_get (summary, "kader"));
    s_field (out, "Situatie", json_object_get (summary, "situatie"));
    s_field (out, "Vastgelopen op", json_object_get (summary, "stuck_on"));
    if (json_object_get (summary, "question"))
        s_field (out, "Vraag", json_object_get (summary, "question"));
    fprintf (out, "<dt>Ingediend</dt><dd>%s (%s geleden)</dd>",
             s_time (en_json_int (request, "created", 0), when, sizeof when),
             en_charts_duration (page->now - en_json_int (request, "created", page->now), age, sizeof age));
    fputs ("<dt>Toegewezen expert</dt><dd>", out);
    en_html_escape (out, en_json_str (request, "expert") ?: "-");
    fputs ("</dd>", out);
    if (en_json_int (request, "review_at", 0) > 0)
        fprintf (out, "<dt>Terug op ET</dt><dd>%s</dd>",
                 s_time (en_json_int (request, "review_at", 0), when, sizeof when));
    fputs ("</dl></section>", out);
}

static void
s_request_offers (FILE *out, json_t *offers)
{
    fputs ("<h2>Open aanbod</h2>", out);
    if (json_array_size (offers) == 0) {
        fputs ("<p class=\"empty\">Geen open aanbod.</p>", out);
        return;
    }
    fputs ("<table class=\"compact\"><thead><tr><th>Aanbod</th><th>Expert</th><th>Soort</th>"
           "<th>Deadline</th></tr></thead><tbody>", out);
    size_t index;
    json_t *offer;
    json_array_foreach (offers, index, offer) {
        char when [32];
        fputs ("<tr><td>", out);
        en_html_escape (out, en_json_str (offer, "id"));
        fputs ("</td><td>", out);
        en_html_escape (out, en_json_str (offer, "expert"));
        fputs ("</td><td>", out);
        en_html_escape (out, en_word (s_kinds, en_json_str (offer, "kind")));
        fprintf (out, "</td><td>%s</td></tr>", s_time (en_json_int (offer, "deadline", 0), when, sizeof when));
    }
    fputs ("</tbody></table>", out);
}

//  Operator actions, where the state allows them. A request with a
//  peer broker is acted on there; here it can only be taken back.
static void
s_request_actions (FILE *out, const en_page_t *page, json_t *request, bool open_offers)
{
    const char *id = en_json_str (request, "id");
    const char *state = en_json_str (request, "state");
    const char *peer = en_json_str (request, "peer");
    if (streq (state, "closed") || !page->csrf)
        return;
    //  A team with a place at a peer: that place can be recalled, the
    //  others are acted on here (below)
    bool team_abroad = peer && en_json_int (request, "place_count", 1) > 1;
    if (peer && !team_abroad) {
        fputs ("<h2>Acties</h2><p>In behandeling bij de broker van ", out);
        en_html_escape (out, peer);
        fputs (": de operators daar kunnen het verzoek opnieuw aanbieden, escaleren of sluiten.</p>", out);
        if (!streq (state, "accepted") && !streq (state, "advice")) {
            fputs ("<div class=\"actions\">", out);
            s_action_form (out, page, id, 1, "recall", "Terughalen",
                           "Haalt het verzoek terug (bijvoorbeeld als de koppeling stil ligt) en zoekt hier opnieuw; "
                           "de andere provincie trekt haar aanbod in zodra de koppeling herstelt.",
                           "Terughalen", "");
            fputs ("</div>", out);
        }
        return;
    }
    bool routable = streq (state, "submitted") || streq (state, "offered")
                 || streq (state, "escalated") || streq (state, "hiaat");
    //  A team: a place can still be moved while the request is not
    int64_t places = en_json_int (request, "place_count", 1);
    json_t *place;
    size_t index;
    json_array_foreach (json_object_get (request, "places"), index, place)
        routable = routable || streq (en_json_str (place, "state"), "offered")
                 || streq (en_json_str (place, "state"), "escalated") || streq (en_json_str (place, "state"), "hiaat");
    fputs ("<h2>Acties</h2>", out);
    if (team_abroad) {
        fputs ("<p>Een plaats van dit team is in behandeling bij de broker van ", out);
        en_html_escape (out, peer);
        fputs (": die plaats kunt u terughalen; de andere plaatsen kunt u hier opnieuw aanbieden, escaleren of"
               " sluiten.</p>", out);
    }
    fputs ("<div class=\"actions\">", out);
    if (team_abroad)
        s_action_form (out, page, id, places, "recall", "Terughalen",
                       "Haalt de plaats die de andere provincie heeft terug en zoekt er hier opnieuw voor.",
                       "Terughalen", "");
    if (routable) {
        s_action_form (out, page, id, places, "reoffer", "Opnieuw aanbieden", open_offers
                       ? "Trekt het open aanbod in en biedt het verzoek aan de volgende kandidaat aan."
                       : "Zoekt opnieuw een kandidaat: er kunnen experts bijgekomen of vrij zijn.",
                       "Opnieuw aanbieden", "");
        s_action_form (out, page, id, places, "escalate", "Escaleren", open_offers
                       ? "Trekt het open aanbod in en biedt het verzoek aan een bovenregionale procesregisseur aan."
                       : "Biedt het verzoek aan een bovenregionale procesregisseur aan.",
                       "Escaleren naar procesregisseur", "");
    }
    s_action_form (out, page, id, places, "close", "Sluiten",
                   "Sluit het verzoek; open aanbod wordt ingetrokken en de regio krijgt bericht.",
                   "Verzoek sluiten", "danger");
    fputs ("</div>", out);
}

static void
s_request_timeline (FILE *out, json_t *events)
{
    fputs ("<section class=\"panel\"><h2>Tijdlijn</h2>"
           "<table id=\"timeline\"><thead><tr><th>Tijd</th><th>Gebeurtenis</th><th>Expert</th><th>Toelichting</th>"
           "</tr></thead><tbody>", out);
    size_t index;
    json_t *event;
    json_array_foreach (events, index, event) {
        char when [32];
        fprintf (out, "<tr class=\"e-%s\"><td>%s</td><td>",
                 strncmp (en_json_str (event, "type") ?: "", "operator", 8) == 0 ? "operator" : "node",
                 s_time (en_json_int (event, "at", 0), when, sizeof when));
        en_html_escape (out, en_word (s_events, en_json_str (event, "type")));
        fputs ("</td><td>", out);
        en_html_escape (out, en_json_str (event, "expert") ?: "");
        fputs ("</td><td>", out);
        en_html_detail (out, en_json_str (event, "detail"));
        fputs ("</td></tr>", out);
    }
    fputs ("</tbody></table></section>", out);
}

//  The access log of the case: who did what with this request
static void
s_request_audit (FILE *out, json_t *audit)
{
    fputs ("<section class=\"panel\"><h2>Toegangslog <span class=\"muted\">(wie deed wat met dit verzoek)</span></h2>"
           "<table class=\"compact\" id=\"audit\"><thead><tr><th>#</th><th>Tijd</th><th>Wat</th><th>Wie</th>"
           "<th>Namens</th><th>Uitkomst</th></tr></thead><tbody>", out);
    size_t index;
    json_t *entry;
    json_array_foreach (audit, index, entry) {
        char when [32];
        fprintf (out, "<tr><td>%lld</td><td>%s</td><td>", (long long) en_json_int (entry, "seq", 0),
                 s_time (en_json_int (entry, "at", 0), when, sizeof when));
        en_html_escape (out, en_word (s_audit_events, en_json_str (entry, "event")));
        fputs ("</td><td>", out);
        en_html_escape (out, en_json_str (entry, "actor"));
        if (en_json_str (entry, "detail") && streq (en_json_str (entry, "detail"), "operator"))
            fputs (" <span class=\"muted\">(operator)</span>", out);
        fputs ("</td><td>", out);
        en_html_escape (out, en_json_str (entry, "on_behalf") ?: "");
        fputs ("</td><td>", out);
        en_html_escape (out, en_word (s_outcomes, en_json_str (entry, "outcome")));
        fputs ("</td></tr>", out);
    }
    fputs ("</tbody></table></section>", out);
}

//  The places of the request (EXPN/3, a team; one for a request of one
//  expert): role, expertise, whether it is filled, open or a hiaat, and
//  by or to whom
static void
s_request_places (FILE *out, json_t *places)
{
    if (json_array_size (places) == 0)
        return;
    fputs ("<h2>Plaatsen</h2><table class=\"compact\" id=\"places\"><thead><tr><th>Plaats</th><th>Rol</th>"
           "<th>Expertise</th><th>Stand</th><th>Expert</th></tr></thead><tbody>", out);
    size_t index;
    json_t *place;
    json_array_foreach (places, index, place) {
        const char *state = en_json_str (place, "state") ?: "";
        const char *shown = streq (state, "accepted") || streq (state, "advice") ? "vervuld"
                          : streq (state, "hiaat") ? "hiaat"
                          : streq (state, "closed") || streq (state, "returned") || streq (state, "recalled")
                          ? "gesloten" : "open";
        fprintf (out, "<tr class=\"place-%s\"><td>%lld</td><td>", shown, (long long) en_json_int (place, "place", 0));
        en_html_words (out, json_object_get (place, "roles"), NULL);
        fputs ("</td><td>", out);
        en_html_words (out, json_object_get (place, "expertise"), NULL);
        fprintf (out, "</td><td>%s</td><td>", shown);
        if (en_json_str (place, "expert"))
            en_html_escape (out, en_json_str (place, "expert"));
        else
        if (en_json_str (place, "offered")) {
            fputs ("aangeboden aan ", out);
            en_html_escape (out, en_json_str (place, "offered"));
        }
        else
            fputs ("-", out);
        fputs ("</td></tr>", out);
    }
    fputs ("</tbody></table>", out);
}

void
en_pages_request (FILE *out, const en_page_t *page, json_t *request, json_t *audit,
                  const char *message, bool is_error)
{
    json_t *offers = json_object_get (request, "offers_open");
    s_request_heading (out, request, message, is_error);
    fputs ("<div class=\"grid two\">", out);
    s_request_summary (out, page, request);
    fputs ("<section class=\"panel\">", out);
    s_request_places (out, json_object_get (request, "places"));
    s_request_offers (out, offers);
    s_request_actions (out, page, request, json_array_size (offers) > 0);
    fputs ("</section></div>", out);
    s_request_timeline (out, json_object_get (request, "events"));
    s_request_audit (out, audit);
}

void
en_pages_experts (FILE *out, json_t *experts, int64_t now)
{
    fputs ("<h1>Experts <span class=\"muted\">en hun belasting</span></h1><section class=\"panel\">", out);
    if (!s_rows (out, json_array_size (experts), "Nog geen experts gepubliceerd."))
        return;
    fputs ("<table id=\"experts\"><thead><tr><th>Expert</th><th>Regio</th><th>Rol</th><th>Expertise</th>"
           "<th class=\"num\">Capaciteit</th><th class=\"num\">In behandeling</th><th class=\"num\">Aangeboden</th>"
           "<th>Belasting</th><th>Beschikbaar</th></tr></thead><tbody>", out);
    size_t index;
    json_t *expert;
    json_array_foreach (experts, index, expert) {
        int64_t capacity = en_json_int (expert, "capacity", 0);
        int64_t load = en_json_int (expert, "load", 0);
        int64_t reserved = en_json_int (expert, "reserved", 0);
        int64_t absent = en_json_int (expert, "absent_until", 0);
        fputs ("<tr><td>", out);
        en_html_escape (out, en_json_str (expert, "id"));
        fputs ("</td><td>", out);
        en_html_escape (out, en_json_str (expert, "region"));
        fputs ("</td><td>", out);
        en_html_escape (out, en_json_str (expert, "role"));
        if (en_json_int (expert, "bovenregionaal", 0))
            fputs ("<div class=\"sub\">bovenregionaal</div>", out);
        fputs ("</td><td>", out);
        s_tags (out, json_object_get (expert, "expertise"));
        fprintf (out, "</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td><td>",
                 (long long) capacity, (long long) load, (long long) reserved);
        //  Load bar: accepted cases, then open offers, of capacity
        double scale = capacity > 0 ? 160.0 / (double) capacity : 0;
        fprintf (out, "<svg class=\"bar\" width=\"160\" height=\"14\" viewBox=\"0 0 160 14\" role=\"img\""
                      " aria-label=\"%lld van %lld in behandeling, %lld aangeboden\">"
                      "<rect width=\"160\" height=\"14\" rx=\"3\" fill=\"#e3e8ee\"/>"
                      "<rect width=\"%.1f\" height=\"14\" rx=\"3\" fill=\"%s\"/>"
                      "<rect x=\"%.1f\" width=\"%.1f\" height=\"14\" fill=\"#9fc5e8\"/></svg>",
                 (long long) load, (long long) capacity, (long long) reserved,
                 MIN (160.0, load * scale), load >= capacity ? "#c0392b" : "#2e86c1",
                 MIN (160.0, load * scale), MAX (0.0, MIN (160.0 - load * scale, reserved * scale)));
        char until [32];
        if (absent > now)
            fprintf (out, "</td><td>afwezig tot %s</td></tr>", s_time (absent, until, sizeof until));
        else
            fprintf (out, "</td><td>%s</td></tr>", load + reserved < capacity ? "ja" : "vol");
    }
    fputs ("</tbody></table></section>", out);
}

void
en_pages_message (FILE *out, const char *title, const char *message)
{
    fputs ("<h1>", out);
    en_html_escape (out, title);
    fputs ("</h1><p>", out);
    en_html_escape (out, message);
    fputs ("</p>", out);
}
