/*  en_portal_pages - HTML of the node portal (see en_portal_pages.h).

    Each public function opens a memory stream, writes the page top to
    bottom and returns the text. The parts:

    * words: the store keeps states, events and vocabularies in its own
      (partly English) words; small tables here give the Dutch a person
      reads. An unknown word is shown as it is, escaped.
    * frame: <head>, a skip link, the header with the navigation of the
      account's role, <main>, the flash message.
    * form fields: one writer per kind of control. Each writes its label
      (with a required marker), hint and error, and gives the control
      aria-describedby and aria-invalid, so an error the server found is
      read out with its field. Values typed are written back escaped.
    * pages, in the order of the header: everyone, medewerker, expert,
      beheerder; the live panels sit inside the pages that hold them.
    * checks: en_portal_check and en_portal_errors_from_node make the
      error maps the forms show.

    Tables carry data-label on every cell: on a phone the stylesheet
    turns each row into a stacked block with the label before the value,
    so nothing scrolls sideways.
*/
#include "en_portal_pages.h"
#include "en_text.h"
#include <ctype.h>
#include <stdarg.h>

//  --------------------------------------------------------------------
//  Words

static en_words_t s_roles = {
    { "medewerker", "Medewerker expertteam" }, { "expert", "Expert" }, { "beheerder", "Beheerder" },
    { NULL, NULL } };

static en_words_t s_expert_roles = {
    { "superexpert", "Superexpert" }, { "procesregisseur", "Procesregisseur" },
    { "ervaringsdeskundige", "Ervaringsdeskundige" }, { NULL, NULL } };

static en_words_t s_urgencies = {
    { "crisis", "Crisis (binnen uren)" }, { "hoog", "Hoog (binnen dagen)" },
    { "regulier", "Regulier (binnen weken)" }, { NULL, NULL } };

static en_words_t s_question_types = {
    { "consultatie-advies", "Consultatie en advies" }, { "procesregie", "Procesregie" },
    { "moreel-beraad", "Moreel beraad" }, { "organiseren-hulp", "Organiseren van hulp" },
    { "overbruggingsfinanciering", "Overbruggingsfinanciering" }, { NULL, NULL } };

static en_words_t s_age_bands = {
    { "0-3", "0 tot en met 3 jaar" }, { "4-11", "4 tot en met 11 jaar" },
    { "12-17", "12 tot en met 17 jaar" }, { "18-23", "18 tot en met 23 jaar" }, { NULL, NULL } };

static en_words_t s_leefgebieden = {
    { "jeugdhulp", "Jeugdhulp" }, { "onderwijs", "Onderwijs" }, { "wonen", "Wonen" },
    { "financien", "Financiën" }, { "werk-inkomen", "Werk en inkomen" },
    { "gezondheid", "Gezondheid (ook ggz volwassenen)" }, { "veiligheid", "Veiligheid" },
    { "dagbesteding", "Dagbesteding" }, { NULL, NULL } };

//  Problematiek is an open tag set; these are the common ones offered
//  as checkboxes, others go in a text field.
static en_words_t s_problematiek = {
    { "jggz", "Jeugd-ggz" }, { "lvb", "Licht verstandelijke beperking" }, { "verslaving", "Verslaving" },
    { "eetstoornis", "Eetstoornis" }, { "autisme", "Autisme" },
    { "gedrag", "Ernstig externaliserend gedrag" }, { "trauma", "Trauma" },
    { "suicidaliteit", "Suïcidaliteit" }, { "ouders-overbelast", "Ouders overbelast" }, { NULL, NULL } };

static en_words_t s_kaders = {
    { "vrijwillig", "Vrijwillig" }, { "gedwongen", "Gedwongen (jeugdbeschermingsmaatregel)" },
    { NULL, NULL } };

static en_words_t s_situaties = {
    { "thuis", "Thuis" }, { "pleegzorg", "Pleegzorg" }, { "gezinshuis", "Gezinshuis" },
    { "residentieel", "Residentieel" }, { "jeugdzorgplus", "Jeugdzorgplus (gesloten)" },
    { "3-milieu", "3-milieuvoorziening" }, { "crisis", "Crisisopvang" }, { NULL, NULL } };

static en_words_t s_stuck_on = {
    { "inhoud", "Inhoud: niemand weet de oplossing" }, { "samenwerking", "Samenwerking" },
    { "financiering", "Financiering" }, { "wachttijd", "Wachttijd" },
    { "aanbod-ontbreekt", "Passend aanbod ontbreekt" }, { NULL, NULL } };

static en_words_t s_phases = {
    { "aanmelding", "Aanmelding" }, { "triage", "Triage" }, { "plan", "Plan" },
    { "monitoren", "Monitoren" }, { "afgesloten", "Afgesloten" }, { NULL, NULL } };

static en_words_t s_zero_goals = {
    { "gedwongen_afzonderingen", "Gedwongen afzonderingen" }, { "suicides", "Suïcides" },
    { "gesloten_plaatsingen", "Gesloten plaatsingen" }, { "doorplaatsingen", "Doorplaatsingen" },
    { NULL, NULL } };

static en_words_t s_states = {
    { "queued", "wacht op verzending" }, { "submitted", "ingediend" }, { "offered", "aangeboden" },
    { "escalated", "geëscaleerd" }, { "accepted", "geaccepteerd" }, { "advice", "advies ontvangen" },
    { "closed", "gesloten" }, { "hiaat", "hiaat" }, { "rejected", "geweigerd" },
    { "forwarded", "naar andere provincie" }, { "returned", "teruggegeven" },
    { "recalled", "teruggehaald" }, { "monitoring", "monitoren (terug op ET)" }, { NULL, NULL } };

static en_words_t s_events = {
    { "queued", "klaargezet voor verzending" }, { "rejected", "geweigerd door de broker" },
    { "submitted", "ingediend" }, { "offered", "aangeboden aan een expert" },
    { "escalated", "geëscaleerd naar procesregisseur" }, { "accepted", "geaccepteerd" },
    { "declined", "afgewezen" }, { "expired", "verlopen (geen antwoord)" }, { "advice", "advies gegeven" },
    { "closed", "gesloten" }, { "hiaat", "hiaat: niemand beschikbaar" },
    { "dossier", "dossier versleuteld doorgestuurd" }, { "withdrawn", "aanbod ingetrokken" },
    { "operator-reoffer", "operator: opnieuw aangeboden" }, { "operator-escalate", "operator: geëscaleerd" },
    { "operator-close", "operator: gesloten" }, { "forwarded", "doorgestuurd naar andere provincie" },
    { "returned", "teruggegeven: daar niemand" }, { "relayed", "doorgegeven aan andere provincie" },
    { "operator-recall", "operator: teruggehaald" }, { "recalled", "teruggehaald" },
    { "reply", "reactie op advies" }, { "monitoring", "datum terug op ET gezet" },
    { "review-due", "terug op ET: datum bereikt" }, { "beraad-proposed", "moreel beraad: tijden voorgesteld" },
    { "beraad-answer", "moreel beraad: antwoord van deelnemer" }, { "beraad-fixed", "moreel beraad: tijd vastgesteld" },
    { "beraad-held", "moreel beraad: gehouden" }, { "refused", "geweigerd door de broker" },
    { "relay-refused", "geweigerd door de andere provincie" }, { NULL, NULL } };

//  Details the node writes in English
static en_words_t s_offer_kinds = {
    { "offer", "Aanbod" }, { "escalation", "Escalatie" }, { NULL, NULL } };

static en_words_t s_offer_states = {
    { "open", "open" }, { "expired", "verlopen" }, { "withdrawn", "ingetrokken" }, { NULL, NULL } };

static en_words_t s_answers = {
    { "accept", "geaccepteerd" }, { "decline", "afgewezen" }, { "advise", "advies verstuurd" },
    { NULL, NULL } };

static en_words_t s_answer_status = {
    { "queued", "wordt verstuurd" }, { "confirmed", "bevestigd door de broker" },
    { "refused", "geweigerd door de broker" }, { NULL, NULL } };

static en_words_t s_notify_kinds = {
    { "aanbod", "Aanbod" }, { "escalatie", "Escalatie" }, { "advies", "Advies" },
    { "herinnering", "Herinnering" }, { "hiaat", "Hiaat" }, { NULL, NULL } };

static en_words_t s_notify_states = {
    { "wacht", "wacht" }, { "verzonden", "verzonden" }, { "mislukt", "mislukt" }, { NULL, NULL } };

static en_words_t s_pii_kinds = {
    { "bsn", "BSN (burgerservicenummer)" }, { "geboortedatum", "Geboortedatum" },
    { "postcode", "Postcode" }, { "telefoonnummer", "Telefoonnummer" }, { "e-mailadres", "E-mailadres" },
    { "iban", "Bankrekeningnummer (IBAN)" }, { "adres", "Adres" }, { "naam", "Naam van een cliënt" },
    { NULL, NULL } };

//  The PII guard's kinds, as en_pii_kind_text says them, in Dutch
static en_words_t s_pii_texts = {
    { "a BSN (burgerservicenummer)", "een BSN (burgerservicenummer)" },
    { "a date of birth", "een geboortedatum" }, { "a postcode", "een postcode" },
    { "a phone number", "een telefoonnummer" }, { "an e-mail address", "een e-mailadres" },
    { "a bank account number (IBAN)", "een bankrekeningnummer (IBAN)" },
    { "a street address", "een adres" }, { "a client's name", "de naam van een cliënt" },
    { NULL, NULL } };

static en_words_t s_audit_events = {
    { "case.create", "zaak geregistreerd" }, { "case.update", "gegevens van de zaak aangevuld" },
    { "case.read", "identificerende gegevens bekeken" }, { "case.phase", "fase van de zaak gewijzigd" },
    { "case.re-pseudonymize", "nieuw pseudoniem gegeven" }, { "request.submit", "consultatieverzoek ingediend" },
    { "request.close", "verzoek gesloten" }, { "dossier.read", "dossier geopend" },
    { "offer.accept", "aanbod geaccepteerd" }, { "offer.decline", "aanbod afgewezen" },
    { "advice.send", "advies verstuurd" }, { "pii.refused", "bericht tegengehouden (persoonsgegevens)" },
    { "request.view", "verzoek bekeken" }, { "login", "ingelogd" }, { NULL, NULL } };

static en_words_t s_outcomes = {
    { "ok", "gelukt" }, { "refused", "geweigerd" }, { "failed", "mislukt" }, { "locked", "geblokkeerd" },
    { NULL, NULL } };

//  Every form field's label, for error messages and the error summary
static en_words_t s_field_labels = {
    { "client_id", "Cliëntnummer" }, { "name", "Naam" }, { "birth_date", "Geboortedatum" },
    { "address", "Adres" }, { "postcode", "Postcode" }, { "contact", "Telefoon of e-mail" },
    { "school", "School" }, { "case", "Zaak (pseudoniem)" }, { "urgency", "Urgentie" },
    { "question_type", "Soort vraag" }, { "expertise", "Gevraagde expertise" },
    { "age_band", "Leeftijd" }, { "leefgebieden", "Leefgebieden" }, { "problematiek", "Problematiek" },
    { "problematiek_anders", "Andere problematiek" }, { "kader", "Kader" }, { "situatie", "Huidige situatie" },
    { "stuck_on", "Vastgelopen op" }, { "question", "Vraag" }, { "dossier", "Dossier" },
    { "dossier_file", "Dossierbestand" }, { "reason", "Reden" }, { "text", "Tekst" }, { "bericht", "Bericht" },
    { "soort", "Soort" },
    { "advice", "Advies" }, { "outcome", "Toelichting" }, { "passende_hulp", "Passende hulp gerealiseerd" },
    { "phase", "Fase" }, { "capacity", "Capaciteit" }, { "absent_until", "Afwezig tot en met" },
    { "review_date", "Terug op ET" }, { "beraad_tijd_1", "Eerste voorstel" },
    { "beraad_tijd_2", "Tweede voorstel" }, { "beraad_tijd_3", "Derde voorstel" },
    { "beraad_fix", "Vastgestelde tijd" }, { "beraad_held", "Gehouden op" },
    { "beraad_outcome", "Uitkomst (blijft bij het team)" }, { "available", "Tijden die u passen" },
    { "expertise_anders", "Andere expertise" }, { "role", "Rol" }, { "expert", "Expert-id" },
    { "email", "E-mailadres" }, { "phone", "Mobiel nummer" }, { "password", "Wachtwoord" },
    { "password2", "Wachtwoord (nogmaals)" }, { "recovery_code", "Herstelcode" }, { "code", "Code" },
    { "gedwongen_afzonderingen", "Gedwongen afzonderingen" }, { "suicides", "Suïcides" },
    { "gesloten_plaatsingen", "Gesloten plaatsingen" }, { "doorplaatsingen", "Doorplaatsingen" },
    { "hiaat_ok", "Toch indienen" }, { "id", "Expert-id" }, { "bovenregionaal", "Bovenregionaal" },
    { NULL, NULL } };

//  --------------------------------------------------------------------
//  Small writers

static void
s_esc (FILE *out, const char *text)
{
    en_html_escape (out, text);
}

static const char *
s_date (int64_t ms, char *buf, size_t size)
{
    return ms > 0 ? en_time_fmt (ms, "%d-%m-%Y %H:%M", buf, size) : "-";
}

static const char *
s_day (int64_t ms, char *buf, size_t size)
{
    return ms > 0 ? en_time_fmt (ms, "%d-%m-%Y", buf, size) : "-";
}

//  A span as people say it: "45 s", "9 min", "3 u 5 min", "2 d 4 u".
static const char *
s_span (int64_t ms, bool seconds, char *buf, size_t size)
{
    int64_t s = ms < 0 ? 0 : ms / 1000;
    if (s < 60)
        snprintf (buf, size, "%d s", (int) s);
    else
    if (s < 3600) {
        if (seconds && s % 60)
            snprintf (buf, size, "%d min %d s", (int) (s / 60), (int) (s % 60));
        else
            snprintf (buf, size, "%d min", (int) (s / 60));
    }
    else
    if (s < 86400) {
        if ((s / 60) % 60)
            snprintf (buf, size, "%d u %d min", (int) (s / 3600), (int) ((s / 60) % 60));
        else
            snprintf (buf, size, "%d u", (int) (s / 3600));
    }
    else {
        if ((s / 3600) % 24)
            snprintf (buf, size, "%d d %d u", (int) (s / 86400), (int) ((s / 3600) % 24));
        else
            snprintf (buf, size, "%d d", (int) (s / 86400));
    }
    return buf;
}

const char *
en_portal_countdown (int64_t left_ms, char *buf, size_t size)
{
    if (left_ms <= 0) {
        snprintf (buf, size, "verlopen");
        return buf;
    }
    char span [32];
    snprintf (buf, size, "nog %s", s_span (left_ms, true, span, sizeof span));
    return buf;
}

//  A countdown the script keeps current: data-left is the time left
//  when the page was made; the text is right without the script.
static void
s_countdown (FILE *out, int64_t deadline, int64_t now)
{
    char text [48], when [32];
    int64_t left = deadline - now;
    fprintf (out, "<span class=\"countdown tick%s\" data-left=\"%lld\" title=\"deadline %s\">%s</span>",
             left <= 0 ? " over" : left < 10 * 60 * 1000 ? " soon" : "", (long long) left,
             s_date (deadline, when, sizeof when), en_portal_countdown (left, text, sizeof text));
}

static void
s_age (FILE *out, int64_t since, int64_t now)
{
    char span [32];
    fprintf (out, "<span class=\"tick\">%s</span>", s_span (now - since, false, span, sizeof span));
}

static void
s_state (FILE *out, const char *state)
{
    en_html_badge (out, "state s-", state, s_states);
}

static void
s_tags (FILE *out, json_t *array)
{
    if (json_array_size (array) == 0)
        fputs ("-", out);
    size_t index;
    json_t *item;
    json_array_foreach (array, index, item) {
        fputs ("<span class=\"tag\">", out);
        s_esc (out, json_string_value (item));
        fputs ("</span> ", out);
    }
}

//  A term and its description in a <dl class="fields">
static void
s_dt (FILE *out, const char *term)
{
    fputs ("<dt>", out);
    s_esc (out, term);
    fputs ("</dt><dd>", out);
}

static void
s_dd_words (FILE *out, const char *term, json_t *value, en_words_t table)
{
    s_dt (out, term);
    en_html_words (out, value, table);
    fputs ("</dd>", out);
}

//  A table cell with its label for the stacked (phone) layout
static void
s_td (FILE *out, const char *label, const char *class_name)
{
    fprintf (out, "<td data-label=\"%s\"%s%s%s>", label, class_name ? " class=\"" : "",
             class_name ? class_name : "", class_name ? "\"" : "");
}

//  A whole cell holding text, escaped
static void
s_cell (FILE *out, const char *label, const char *class_name, const char *text)
{
    s_td (out, label, class_name);
    s_esc (out, text);
    fputs ("</td>", out);
}

static void
s_table_head (FILE *out, const char *id, const char *caption, const char **columns)
{
    fprintf (out, "<table class=\"stack\" id=\"%s\"><caption class=\"sr\">%s</caption><thead><tr>", id, caption);
    for (int i = 0; columns [i]; i++)
        fprintf (out, "<th scope=\"col\">%s</th>", columns [i]);
    fputs ("</tr></thead><tbody>", out);
}

static void
s_link (FILE *out, const char *prefix, const char *id, const char *text)
{
    fprintf (out, "<a href=\"%s", prefix);
    s_esc (out, id);
    fputs ("\">", out);
    s_esc (out, text ? text : id);
    fputs ("</a>", out);
}

//  A string written through a FILE (en_text); returns NULL when the
//  stream cannot be opened
#define S_OPEN(out, buffer) \
    en_text_t buffer; \
    FILE *out = en_text_open (&buffer); \
    if (!out) return NULL

//  What a live panel holds, written by one function for both the page
//  and /api/panel/<name>
typedef void (s_writer_fn) (FILE *out, const en_portal_ctx_t *ctx, json_t *data);

static char *
s_fragment (s_writer_fn *writer, const en_portal_ctx_t *ctx, json_t *data)
{
    S_OPEN (out, buffer);
    writer (out, ctx, data);
    return en_text_close (out, &buffer);
}

//  --------------------------------------------------------------------
//  Frame

typedef struct {
    const char *role, *key, *href, *label;
} s_nav_t;

static const s_nav_t s_nav [] = {
    { "medewerker", "home", "/", "Start" },
    { "medewerker", "zaken", "/zaken", "Zaken" },
    { "medewerker", "verzoeken", "/verzoeken", "Verzoeken" },
    { "medewerker", "nieuw", "/verzoeken/nieuw", "Nieuw verzoek" },
    { "expert", "home", "/", "Start" },
    { "expert", "aanbod", "/aanbod", "Aanbod" },
    { "expert", "beschikbaarheid", "/beschikbaarheid", "Beschikbaarheid" },
    { "beheerder", "home", "/", "Start" },
    { "beheerder", "accounts", "/beheer/accounts", "Accounts" },
    { "beheerder", "experts", "/beheer/experts", "Experts" },
    { "beheerder", "meldingen", "/beheer/meldingen", "Meldingen" },
    { "beheerder", "privacy", "/beheer/privacy", "Privacy" },
    { "beheerder", "logboek", "/beheer/logboek", "Logboek" },
    { NULL, NULL, NULL, NULL } };

static void
s_head (FILE *out, const en_portal_ctx_t *ctx, const char *title)
{
    fputs ("<!DOCTYPE html>\n<html lang=\"nl\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\"><title>", out);
    s_esc (out, title);
    fputs (" - expertnet ", out);
    s_esc (out, ctx->region ? ctx->region : ctx->node);
    fputs ("</title><link rel=\"stylesheet\" href=\"/static/portal.css\">"
           "<script src=\"/static/live.js\" defer></script><script src=\"/static/portal.js\" defer></script>"
           "</head>\n", out);
}

static void
s_flash (FILE *out, const en_portal_ctx_t *ctx)
{
    if (!ctx->flash)
        return;
    fprintf (out, "<p class=\"%s\" role=\"%s\">", ctx->flash_error ? "alert" : "notice",
             ctx->flash_error ? "alert" : "status");
    s_esc (out, ctx->flash);
    fputs ("</p>", out);
}

static void
s_begin (FILE *out, const en_portal_ctx_t *ctx, const char *title, const char *active)
{
    s_head (out, ctx, title);
    fputs ("<body><a class=\"skip\" href=\"#inhoud\">Naar de inhoud</a>"
           "<header><div class=\"brand\"><span class=\"logo\">expertnet</span> <span class=\"where\">", out);
    s_esc (out, ctx->region ? ctx->region : ctx->node);
    fputs ("</span></div>", out);
    if (ctx->user) {
        fputs ("<nav aria-label=\"Hoofdmenu\"><ul>", out);
        for (int i = 0; s_nav [i].role; i++) {
            if (!ctx->role || !streq (ctx->role, s_nav [i].role))
                continue;
            bool current = active && streq (active, s_nav [i].key);
            fprintf (out, "<li><a href=\"%s\"%s>%s</a></li>", s_nav [i].href,
                     current ? " aria-current=\"page\"" : "", s_nav [i].label);
        }
        fputs ("</ul></nav><div class=\"who\"><span>", out);
        s_esc (out, ctx->user);
        fputs (" <span class=\"role\">(", out);
        s_esc (out, en_word (s_roles, ctx->role));
        if (ctx->expert && ctx->role && streq (ctx->role, "expert")) {
            fputs (" ", out);
            s_esc (out, ctx->expert);
        }
        fputs (")</span></span><form method=\"post\" action=\"/uitloggen\">"
               "<input type=\"hidden\" name=\"csrf\" value=\"", out);
        s_esc (out, ctx->csrf);
        fputs ("\"><button type=\"submit\" class=\"link\">Uitloggen</button></form></div>", out);
    }
    fputs ("</header>\n<main id=\"inhoud\" tabindex=\"-1\">", out);
    s_flash (out, ctx);
}

static char *
s_end (FILE *out, en_text_t *buffer)
{
    fputs ("</main><footer><a href=\"/toegankelijkheid\">Toegankelijkheid</a></footer></body></html>\n", out);
    return en_text_close (out, buffer);
}

//  Open a live panel: its content is re-fetched from /api/panel/<name>
static void
s_live_open (FILE *out, const char *name, const char *id_suffix)
{
    fputs ("<div class=\"live-panel\" aria-live=\"polite\" data-panel=\"", out);
    s_esc (out, name);
    if (id_suffix) {
        fputs ("/", out);
        s_esc (out, id_suffix);
    }
    fputs ("\">", out);
}

//  A page that is a heading, an introduction (static HTML) and one live
//  panel (in a white box when boxed)
static char *
s_live_page (const en_portal_ctx_t *ctx, const char *title, const char *active, const char *intro,
             const char *panel, s_writer_fn *writer, json_t *data, bool boxed)
{
    S_OPEN (out, buffer);
    s_begin (out, ctx, title, active);
    fputs (intro, out);
    if (boxed)
        fputs ("<section class=\"panel\">", out);
    s_live_open (out, panel, NULL);
    writer (out, ctx, data);
    fputs (boxed ? "</div></section>" : "</div>", out);
    return s_end (out, &buffer);
}

//  --------------------------------------------------------------------
//  Form fields

//  The error of a field, also when the node named it with a path
//  ("request.question").
static const char *
s_error (json_t *errors, const char *name)
{
    const char *key;
    json_t *value;
    json_object_foreach (errors, key, value) {
        const char *dot = strrchr (key, '.');
        if (streq (key, name) || (dot && streq (dot + 1, name)))
            return json_string_value (value);
    }
    return NULL;
}

static const char *
s_value (json_t *values, const char *name)
{
    json_t *value = json_object_get (values, name);
    if (json_is_array (value))
        value = json_array_get (value, 0);
    return json_string_value (value);       //  numbers come as strings, as a form posts them
}

static bool
s_chosen (json_t *values, const char *name, const char *option)
{
    json_t *value = json_object_get (values, name);
    if (json_is_string (value))
        return streq (json_string_value (value), option);
    size_t index;
    json_t *item;
    json_array_foreach (value, index, item)
        if (json_is_string (item) && streq (json_string_value (item), option))
            return true;
    return false;
}

typedef struct {
    const char *name;           //  field name and id
    const char *label;          //  visible label (NULL: from s_field_labels)
    const char *hint;           //  help text under the label, or NULL
    bool required;              //  marked and announced as required
} s_field_t;

static const char *
s_label_of (const s_field_t *field)
{
    return field->label ? field->label : en_word (s_field_labels, field->name);
}

//  The required marker, the hint and the error of a field, after its
//  label or legend text
static void
s_label_rest (FILE *out, const s_field_t *field, const char *error, const char *close)
{
    if (field->required)
        fputs (" <span class=\"req\" aria-hidden=\"true\">*</span><span class=\"sr\"> (verplicht)</span>", out);
    else
        fputs (" <span class=\"opt\">(niet verplicht)</span>", out);
    fputs (close, out);
    if (field->hint) {
        fprintf (out, "<p class=\"hint\" id=\"%s-hint\">", field->name);
        s_esc (out, field->hint);
        fputs ("</p>", out);
    }
    if (error) {
        fprintf (out, "<p class=\"error\" id=\"%s-error\"><span class=\"sr\">Fout: </span>", field->name);
        s_esc (out, error);
        fputs ("</p>", out);
    }
}

//  Label, hint and error of a field; opens <div class="field">.
static void
s_field_open (FILE *out, const s_field_t *field, json_t *errors)
{
    const char *error = s_error (errors, field->name);
    fprintf (out, "<div class=\"field%s\"><label for=\"%s\">", error ? " invalid" : "", field->name);
    s_esc (out, s_label_of (field));
    s_label_rest (out, field, error, "</label>");
}

//  The ids a control or group is described by: its hint, its error
static void
s_describedby (FILE *out, const s_field_t *field, bool invalid)
{
    if (!field->hint && !invalid)
        return;
    fprintf (out, " aria-describedby=\"");
    if (field->hint)
        fprintf (out, "%s-hint", field->name);
    if (invalid)
        fprintf (out, "%s%s-error", field->hint ? " " : "", field->name);
    fputs ("\"", out);
}

//  id, name and the ARIA attributes of a control
static void
s_control_attrs (FILE *out, const s_field_t *field, json_t *errors)
{
    bool invalid = s_error (errors, field->name) != NULL;
    fprintf (out, " id=\"%s\" name=\"%s\"", field->name, field->name);
    s_describedby (out, field, invalid);
    if (invalid)
        fputs (" aria-invalid=\"true\"", out);
    if (field->required)
        fputs (" required aria-required=\"true\"", out);
}

static void
s_input (FILE *out, const s_field_t *field, const char *type, const char *extra,
         json_t *values, json_t *errors)
{
    s_field_open (out, field, errors);
    fprintf (out, "<input type=\"%s\"", type);
    s_control_attrs (out, field, errors);
    if (extra)
        fprintf (out, " %s", extra);
    const char *value = s_value (values, field->name);
    if (value && !streq (type, "password") && !streq (type, "file")) {
        fputs (" value=\"", out);
        s_esc (out, value);
        fputs ("\"", out);
    }
    fputs ("></div>", out);
}

static void
s_textarea (FILE *out, const s_field_t *field, int rows, int maxlength, json_t *values, json_t *errors)
{
    s_field_open (out, field, errors);
    fputs ("<textarea", out);
    s_control_attrs (out, field, errors);
    fprintf (out, " rows=\"%d\" maxlength=\"%d\">", rows, maxlength);
    s_esc (out, s_value (values, field->name));
    fputs ("</textarea></div>", out);
}

//  A select from a NULL-terminated list, with Dutch labels from table
static void
s_select (FILE *out, const s_field_t *field, const char **options, en_words_t table,
          const char *empty, json_t *values, json_t *errors)
{
    s_field_open (out, field, errors);
    fputs ("<select", out);
    s_control_attrs (out, field, errors);
    fputs (">", out);
    const char *value = s_value (values, field->name);
    fputs ("<option value=\"\">", out);
    s_esc (out, empty ? empty : "Kies...");
    fputs ("</option>", out);
    for (int i = 0; options [i]; i++) {
        fputs ("<option value=\"", out);
        s_esc (out, options [i]);
        fprintf (out, "\"%s>", value && streq (value, options [i]) ? " selected" : "");
        s_esc (out, table ? en_word (table, options [i]) : options [i]);
        fputs ("</option>", out);
    }
    fputs ("</select></div>", out);
}

//  A select whose options are the rows of a JSON array: value row[key],
//  shown with row[detail] (Dutch from table) when detail is given
static void
s_select_rows (FILE *out, const s_field_t *field, json_t *rows, const char *key, const char *detail,
               en_words_t table, const char *empty, json_t *values, json_t *errors)
{
    s_field_open (out, field, errors);
    fputs ("<select", out);
    s_control_attrs (out, field, errors);
    fputs ("><option value=\"\">", out);
    s_esc (out, empty);
    fputs ("</option>", out);
    const char *chosen = s_value (values, field->name);
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row) {
        const char *value = en_json_str (row, key);
        fputs ("<option value=\"", out);
        s_esc (out, value);
        fprintf (out, "\"%s>", chosen && value && streq (chosen, value) ? " selected" : "");
        s_esc (out, value);
        if (detail) {
            fputs (" - ", out);
            s_esc (out, en_word (table, en_json_str (row, detail)));
        }
        fputs ("</option>", out);
    }
    fputs ("</select></div>", out);
}

//  A group of checkboxes (or radios) in a fieldset. The first control
//  has the field's name as id, so the error summary can link to it.
static void
s_group_open (FILE *out, const s_field_t *field, json_t *errors)
{
    const char *error = s_error (errors, field->name);
    fprintf (out, "<fieldset class=\"field group%s\" id=\"%s-group\"", error ? " invalid" : "", field->name);
    s_describedby (out, field, error != NULL);
    fputs ("><legend>", out);
    s_esc (out, s_label_of (field));
    s_label_rest (out, field, error, "</legend>");
    fputs ("<div class=\"options\">", out);
}

static void
s_option (FILE *out, const char *type, const char *name, int index, const char *value, const char *label,
          bool checked, const char *extra, const char *note)
{
    fputs ("<div class=\"option\"><input type=\"", out);
    fputs (type, out);
    fprintf (out, "\" name=\"%s\" id=\"%s", name, name);
    if (index)
        fprintf (out, "-%d", index);
    fputs ("\" value=\"", out);
    s_esc (out, value);
    fprintf (out, "\"%s%s%s><label for=\"%s", checked ? " checked" : "", extra ? " " : "", extra ? extra : "", name);
    if (index)
        fprintf (out, "-%d", index);
    fputs ("\">", out);
    s_esc (out, label);
    if (note) {
        fputs (" <span class=\"note\">", out);
        s_esc (out, note);
        fputs ("</span>", out);
    }
    fputs ("</label></div>", out);
}

//  A group of checkboxes or radio buttons, one per option; required:
//  the first one carries "required" (radios: one must be chosen)
static void
s_choices (FILE *out, const char *type, bool required, const s_field_t *field, const char **options,
           en_words_t table, json_t *values, json_t *errors)
{
    s_group_open (out, field, errors);
    for (int i = 0; options [i]; i++)
        s_option (out, type, field->name, i, options [i], table ? en_word (table, options [i]) : options [i],
                  s_chosen (values, field->name, options [i]), required && i == 0 ? "required" : NULL,
                  NULL);
    fputs ("</div></fieldset>", out);
}

static void
s_checkboxes (FILE *out, const s_field_t *field, const char **options, en_words_t table,
              json_t *values, json_t *errors)
{
    s_choices (out, "checkbox", false, field, options, table, values, errors);
}

static void
s_radios (FILE *out, const s_field_t *field, const char **options, en_words_t table,
          json_t *values, json_t *errors)
{
    s_choices (out, "radio", field->required, field, options, table, values, errors);
}

//  The keys of a words table as an option list (static storage)
static const char **
s_keys (en_words_t table, const char **keys, size_t max)
{
    size_t i = 0;
    for (; table [i][0] && i + 1 < max; i++)
        keys [i] = table [i][0];
    keys [i] = NULL;
    return keys;
}

//  Errors at the top of a form, each a link to its field. Fields in
//  order gives the order of the form; other keys follow.
static void
s_error_summary (FILE *out, json_t *errors, const char **order)
{
    if (json_object_size (errors) == 0)
        return;
    fputs ("<div class=\"error-summary\" role=\"alert\" tabindex=\"-1\" id=\"fouten\">"
           "<h2>Controleer het formulier</h2><ul>", out);
    for (int i = 0; order && order [i]; i++) {
        const char *error = s_error (errors, order [i]);
        if (!error)
            continue;
        fprintf (out, "<li><a href=\"#%s\">", order [i]);
        s_esc (out, error);
        fputs ("</a></li>", out);
    }
    const char *key;
    json_t *value;
    json_object_foreach (errors, key, value) {
        bool listed = false;
        for (int i = 0; order && order [i]; i++) {
            const char *dot = strrchr (key, '.');
            if (streq (key, order [i]) || (dot && streq (dot + 1, order [i])))
                listed = true;
        }
        if (listed)
            continue;
        fputs ("<li>", out);
        s_esc (out, json_string_value (value));
        fputs ("</li>", out);
    }
    fputs ("</ul></div>", out);
}

static void
s_form_open (FILE *out, const en_portal_ctx_t *ctx, const char *action, const char *form_action,
             const char *class_name, bool multipart)
{
    fputs ("<form method=\"post\" novalidate action=\"", out);
    s_esc (out, action);
    fprintf (out, "\" class=\"%s\"%s><input type=\"hidden\" name=\"csrf\" value=\"",
             class_name ? class_name : "form", multipart ? " enctype=\"multipart/form-data\"" : "");
    s_esc (out, ctx->csrf);
    fputs ("\">", out);
    if (form_action)
        fprintf (out, "<input type=\"hidden\" name=\"action\" value=\"%s\">", form_action);
}

static void
s_required_note (FILE *out)
{
    fputs ("<p class=\"hint\">Velden met <span class=\"req\" aria-hidden=\"true\">*</span>"
           " zijn verplicht.</p>", out);
}

static void
s_submit (FILE *out, const char *label, const char *class_name)
{
    fprintf (out, "<div class=\"buttons\"><button type=\"submit\"%s%s%s>%s</button></div></form>",
             class_name ? " class=\"" : "", class_name ? class_name : "", class_name ? "\"" : "", label);
}

//  --------------------------------------------------------------------
//  Everyone

char *
en_portal_page_login (const en_portal_ctx_t *ctx, const en_http_login_view_t *view)
{
    S_OPEN (out, buffer);
    s_head (out, ctx, view->code ? "Code invoeren" : "Inloggen");
    fputs ("<body class=\"login\"><main id=\"inhoud\"><form class=\"login-box\" method=\"post\" action=\"/login\">"
           "<h1><span class=\"logo\">expertnet</span> <span class=\"where\">", out);
    s_esc (out, ctx->region ? ctx->region : ctx->node);
    fputs ("</span></h1><p class=\"muted\">Portaal voor het expertteam en de experts</p>", out);
    if (view->message) {
        fputs ("<p class=\"alert\" role=\"alert\">", out);
        s_esc (out, view->message);
        fputs ("</p>", out);
    }
    fputs ("<input type=\"hidden\" name=\"next\" value=\"", out);
    s_esc (out, view->next ? view->next : "/");
    fputs ("\">", out);
    if (view->code) {
        //  Second step: the password is right; en_http holds it
        fputs ("<input type=\"hidden\" name=\"pending\" value=\"", out);
        s_esc (out, view->pending);
        fputs ("\"><h2>Tweede stap</h2><label for=\"code\">Code uit uw authenticator-app</label>"
               "<p class=\"hint\" id=\"code-hint\">Zes cijfers; de code wisselt elke 30 seconden.</p>"
               "<input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\""
               " pattern=\"[0-9]{6}\" maxlength=\"6\" required autofocus aria-describedby=\"code-hint\">"
               "<button type=\"submit\">Bevestigen</button>"
               "<p class=\"small\"><a href=\"/login\">Opnieuw beginnen</a></p>", out);
    }
    else {
        fputs ("<label for=\"name\">Naam</label><input id=\"name\" name=\"name\" autocomplete=\"username\""
               " autocapitalize=\"none\" spellcheck=\"false\" required value=\"", out);
        s_esc (out, view->name);
        fputs ("\"><label for=\"password\">Wachtwoord</label><input id=\"password\" name=\"password\""
               " type=\"password\" autocomplete=\"current-password\" required>"
               "<button type=\"submit\">Inloggen</button>", out);
        if (ctx->recover)
            fputs ("<p class=\"small\"><a href=\"/herstel\">Wachtwoord vergeten?</a></p>", out);
        else
            fputs ("<p class=\"small\">Wachtwoord vergeten? Vraag de beheerder van uw regio. Als expert houdt u"
                   " met uw herstelcode toegang tot uw dossiers.</p>", out);
    }
    fputs ("</form></main><footer><a href=\"/toegankelijkheid\">Toegankelijkheid</a></footer></body></html>\n",
           out);
    return en_text_close (out, &buffer);
}

char *
en_portal_page_recover (const en_portal_ctx_t *ctx, json_t *values, json_t *errors)
{
    S_OPEN (out, buffer);
    s_begin (out, ctx, "Nieuw wachtwoord", NULL);
    static const char *order [] = { "name", "recovery_code", "password", "password2", NULL };
    fputs ("<h1>Nieuw wachtwoord met uw herstelcode</h1><section class=\"panel narrow\">"
           "<p>De herstelcode kreeg u één keer, toen uw account werd gemaakt. Met de code kiest u een nieuw"
           " wachtwoord; als expert houdt u zo ook toegang tot de dossiers die voor u versleuteld zijn.</p>", out);
    s_error_summary (out, errors, order);
    s_form_open (out, ctx, "/herstel", NULL, NULL, false);
    s_required_note (out);
    s_input (out, &(s_field_t) { "name", NULL, NULL, true }, "text",
             "autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\"", values, errors);
    s_input (out, &(s_field_t) { "recovery_code", NULL, "24 tekens in groepjes van 4, bijvoorbeeld ABCD-EFGH-...", true },
             "text", "autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\"", values, errors);
    s_input (out, &(s_field_t) { "password", "Nieuw wachtwoord", "Minstens 12 tekens.", true }, "password",
             "autocomplete=\"new-password\" minlength=\"12\"", values, errors);
    s_input (out, &(s_field_t) { "password2", NULL, NULL, true }, "password",
             "autocomplete=\"new-password\" minlength=\"12\"", values, errors);
    s_submit (out, "Wachtwoord instellen", NULL);
    fputs ("</section>", out);
    return s_end (out, &buffer);
}

char *
en_portal_page_message (const en_portal_ctx_t *ctx, const char *title, const char *message)
{
    S_OPEN (out, buffer);
    s_begin (out, ctx, title, NULL);
    fputs ("<h1>", out);
    s_esc (out, title);
    fputs ("</h1><section class=\"panel\"><p>", out);
    s_esc (out, message);
    fputs ("</p><p><a href=\"/\">Naar de startpagina</a></p></section>", out);
    return s_end (out, &buffer);
}

char *
en_portal_page_accessibility (const en_portal_ctx_t *ctx)
{
    S_OPEN (out, buffer);
    s_begin (out, ctx, "Toegankelijkheid", NULL);
    fputs ("<h1>Toegankelijkheid</h1><section class=\"panel\"><p>Dit portaal en het dashboard van het"
           " expertisecentrum zijn gebouwd voor <strong>WCAG 2.1 niveau AA</strong>. Status: <strong>voldoet"
           " gedeeltelijk</strong>, omdat een onderzoek door een externe partij nog ontbreekt.</p>"
           "<h2>Wat u kunt verwachten</h2><ul>"
           "<li>Alles werkt met het toetsenbord, met een zichtbare focusrand; bovenaan staat de link"
           " <em>Naar de inhoud</em>.</li>"
           "<li>Elk veld heeft een label; een fout staat op het veld zelf en in een overzicht bovenaan,"
           " en wat u invulde blijft staan.</li>"
           "<li>Delen die vanzelf bijwerken, worden door een schermlezer gemeld als er iets verandert.</li>"
           "<li>Het portaal past op een telefoon en op een laptop zonder zijwaarts te schuiven, ook bij"
           " sterk inzoomen; de kleuren hebben voldoende contrast.</li></ul>"
           "<h2>Bekende beperkingen</h2><ul>"
           "<li>Nog niet getest met schermlezers door ervaren gebruikers.</li>"
           "<li>Inloggen vraagt een code uit een authenticator-app; die wisselt elke 30 seconden.</li>"
           "<li>Een aanbod heeft een deadline die het netwerk bepaalt en die u niet kunt verlengen.</li></ul>"
           "<h2>Contact</h2><p>Loopt u vast of is iets niet toegankelijk? Neem contact op met de beheerder"
           " van uw regio.</p></section>", out);
    return s_end (out, &buffer);
}

static void
s_card (FILE *out, const char *label, long long value, const char *note, const char *href, bool warn)
{
    fprintf (out, "<div class=\"card%s\"><p class=\"label\">", warn ? " warn" : "");
    s_esc (out, label);
    fprintf (out, "</p><p class=\"value\">%lld</p><p class=\"note\">", value);
    if (href)
        fprintf (out, "<a href=\"%s\">", href);
    s_esc (out, note);
    if (href)
        fputs ("</a>", out);
    fputs ("</p></div>", out);
}

//  --------------------------------------------------------------------
//  Medewerker: requests

static const char *s_request_columns [] = {
    "Verzoek", "Urgentie", "Vraag", "Zaak", "Status", "Expert", "Leeftijd", NULL };

//  Follow-up: a request not closed whose review date ("terug op ET")
//  passed says so, in words (not by colour alone)
static void
s_review_due (FILE *out, const en_portal_ctx_t *ctx, json_t *request)
{
    int64_t at = en_json_int (request, "review_at", 0);
    const char *state = en_json_str (request, "state") ?: "";
    if (at > 0 && at <= ctx->now && !streq (state, "closed") && !streq (state, "rejected"))
        fputs (" <span class=\"badge warn\">terug op ET verlopen</span>", out);
}

static void
s_requests_table (FILE *out, const en_portal_ctx_t *ctx, json_t *requests)
{
    if (json_array_size (requests) == 0) {
        fputs ("<p class=\"empty\">Geen verzoeken.</p>", out);
        return;
    }
    s_table_head (out, "requests", "Consultatieverzoeken", s_request_columns);
    size_t index;
    json_t *request;
    json_array_foreach (requests, index, request) {
        json_t *summary = json_object_get (request, "summary");
        const char *id = en_json_str (request, "id");
        fputs ("<tr>", out);
        s_td (out, "Verzoek", NULL);
        s_link (out, "/verzoeken/", id, NULL);
        fputs ("</td>", out);
        s_td (out, "Urgentie", NULL);
        en_html_urgency (out, en_json_str (summary, "urgency"));
        fputs ("</td>", out);
        s_td (out, "Vraag", NULL);
        s_esc (out, en_word (s_question_types, en_json_str (summary, "question_type")));
        fputs ("<div class=\"sub\">", out);
        en_html_words (out, json_object_get (summary, "expertise"), NULL);
        fputs ("</div></td>", out);
        s_cell (out, "Zaak", "code", en_json_str (summary, "case") ?: "-");
        s_td (out, "Status", NULL);
        s_state (out, en_json_str (request, "state"));
        s_review_due (out, ctx, request);
        fputs ("</td>", out);
        s_cell (out, "Expert", NULL, en_json_str (request, "expert") ?: "-");
        s_td (out, "Leeftijd", "num");
        s_age (out, en_json_int (request, "created", ctx->now), ctx->now);
        fputs ("</td></tr>", out);
    }
    fputs ("</tbody></table>", out);
}

char *
en_portal_panel_requests (const en_portal_ctx_t *ctx, json_t *requests)
{
    return s_fragment (s_requests_table, ctx, requests);
}

char *
en_portal_page_requests (const en_portal_ctx_t *ctx, json_t *requests, const char *state)
{
    static const char *filters [][2] = {
        { "", "Alle" }, { "submitted", "Ingediend" }, { "offered", "Aangeboden" },
        { "escalated", "Geëscaleerd" }, { "accepted", "Geaccepteerd" }, { "advice", "Advies" },
        { "monitoring", "Monitoren" }, { "hiaat", "Hiaat" }, { "closed", "Gesloten" }, { NULL, NULL } };
    S_OPEN (out, buffer);
    s_begin (out, ctx, "Verzoeken", "verzoeken");
    fputs ("<div class=\"titlebar\"><h1>Consultatieverzoeken</h1>"
           "<a class=\"button\" href=\"/verzoeken/nieuw\">Nieuw verzoek</a></div>"
           "<nav class=\"filters\" aria-label=\"Filter op status\"><ul>", out);
    for (int i = 0; filters [i][0]; i++) {
        bool active = state && *state ? streq (state, filters [i][0]) : !*filters [i][0];
        fprintf (out, "<li><a href=\"/verzoeken%s%s\"%s>%s</a></li>", *filters [i][0] ? "?status=" : "",
                 filters [i][0], active ? " aria-current=\"true\"" : "", filters [i][1]);
    }
    fputs ("</ul></nav><section class=\"panel\">", out);
    s_live_open (out, "verzoeken", NULL);
    s_requests_table (out, ctx, requests);
    fputs ("</div></section>", out);
    return s_end (out, &buffer);
}

//  Summary of a request or an offer's request (DOMAIN.md's fields)
static void
s_summary_fields (FILE *out, json_t *summary)
{
    fputs ("<dl class=\"fields\">", out);
    s_dd_words (out, "Soort vraag", json_object_get (summary, "question_type"), s_question_types);
    s_dd_words (out, "Gevraagde expertise", json_object_get (summary, "expertise"), NULL);
    s_dd_words (out, "Leeftijd", json_object_get (summary, "age_band"), s_age_bands);
    s_dd_words (out, "Leefgebieden", json_object_get (summary, "leefgebieden"), s_leefgebieden);
    s_dd_words (out, "Problematiek", json_object_get (summary, "problematiek"), s_problematiek);
    s_dd_words (out, "Kader", json_object_get (summary, "kader"), s_kaders);
    s_dd_words (out, "Huidige situatie", json_object_get (summary, "situatie"), s_situaties);
    s_dd_words (out, "Vastgelopen op", json_object_get (summary, "stuck_on"), s_stuck_on);
    s_dd_words (out, "Regio", json_object_get (summary, "region"), NULL);
    fputs ("</dl>", out);
    const char *question = en_json_str (summary, "question");
    fputs ("<h3>Vraag</h3>", out);
    if (question && *question) {
        fputs ("<div class=\"text\">", out);
        s_esc (out, question);
        fputs ("</div>", out);
    }
    else
        fputs ("<p class=\"empty\">Geen vraagtekst gegeven.</p>", out);
}

//  A peer province's refusal of the team's message, as the broker wrote
//  it ("<peer> refused <COMMAND>: <code> <reason>"), said in Dutch into
//  buf: what was refused and, by its code, why. NULL for any other event
//  (or a detail of another form: shown as it is).
static const char *
s_relay_refused_detail (json_t *event, char *buf, size_t size)
{
    static en_words_t what = {
        { "REVIEW", "de datum terug op ET" }, { "BERAAD", "het moreel beraad (tijden of uitkomst)" },
        { "CLOSE", "het sluiten van het verzoek" }, { "DOSSIER", "het dossier" },
        { "REPLY", "de reactie op het advies" }, { NULL, NULL } };
    static en_words_t why = {
        { "400", "het bericht was niet geldig" }, { "403", "het kwam daar niet van de juiste afzender" },
        { "404", "het verzoek is daar niet bekend" },
        { "409", "het past niet bij de toestand daar (bijvoorbeeld al gesloten)" },
        { "422", "een waarde was niet geldig (bijvoorbeeld een tijd in het verleden)" }, { NULL, NULL } };
    const char *detail = en_json_str (event, "detail");
    char peer [64], command [16], code [8];
    if (!streq (en_json_str (event, "event") ?: "", "relay-refused") || !detail
    ||  sscanf (detail, "%63s refused %15[A-Z]: %7[0-9]", peer, command, code) != 3)
        return NULL;
    const char *reason = en_word (why, code);
    snprintf (buf, size, "%s weigerde %s: %s. Overleg met het expertisecentrum.", peer, en_word (what, command),
              streq (reason, code) ? "de broker daar gaf een fout" : reason);
    return buf;
}

static void
s_timeline (FILE *out, json_t *events)
{
    static const char *columns [] = { "Tijd", "Gebeurtenis", "Status", "Expert", "Toelichting", NULL };
    if (json_array_size (events) == 0) {
        fputs ("<p class=\"empty\">Nog geen gebeurtenissen.</p>", out);
        return;
    }
    s_table_head (out, "timeline", "Tijdlijn van het verzoek", columns);
    size_t index;
    json_t *event;
    json_array_foreach (events, index, event) {
        char when [32];
        fputs ("<tr>", out);
        s_td (out, "Tijd", "nowrap");
        fprintf (out, "%s</td>", s_date (en_json_int (event, "at", 0), when, sizeof when));
        s_cell (out, "Gebeurtenis", NULL, en_word (s_events, en_json_str (event, "event")));
        s_cell (out, "Status", NULL, en_word (s_states, en_json_str (event, "state")));
        s_cell (out, "Expert", "nowrap", en_json_str (event, "expert") ?: "");
        char said [300];
        const char *refused = s_relay_refused_detail (event, said, sizeof said);
        s_td (out, "Toelichting", NULL);
        if (refused)
            s_esc (out, refused);
        else
            en_html_detail (out, en_json_str (event, "detail"));
        fputs ("</td></tr>", out);
    }
    fputs ("</tbody></table>", out);
}

//  A team's places: each one's role and expertise, and whether it is
//  filled (by whom), still open, or a hiaat
static void
s_places (FILE *out, json_t *places)
{
    static const char *columns [] = { "Plaats", "Rol", "Expertise", "Stand", "Expert", NULL };
    s_table_head (out, "places", "Plaatsen in het team", columns);
    size_t index;
    json_t *place;
    json_array_foreach (places, index, place) {
        const char *state = en_json_str (place, "state") ?: "";
        const char *shown = streq (state, "accepted") || streq (state, "advice") ? "Vervuld"
                          : streq (state, "hiaat") ? "Hiaat: niemand beschikbaar"
                          : streq (state, "closed") ? "Gesloten"
                          : streq (state, "rejected") ? "Geweigerd" : "Open: wordt aangeboden";
        char number [16];
        snprintf (number, sizeof number, "%lld", (long long) en_json_int (place, "place", 0));
        fputs ("<tr>", out);
        s_cell (out, "Plaats", "num", number);
        s_td (out, "Rol", NULL);
        json_t *role;
        size_t r;
        json_array_foreach (json_object_get (place, "roles"), r, role) {
            fputs (r ? ", " : "", out);
            s_esc (out, en_word (s_expert_roles, json_string_value (role)));
        }
        fputs ("</td>", out);
        s_td (out, "Expertise", NULL);
        json_t *tag;
        json_array_foreach (json_object_get (place, "expertise"), r, tag) {
            fputs (r ? ", " : "", out);
            s_esc (out, json_string_value (tag));
        }
        fputs (json_array_size (json_object_get (place, "expertise")) ? "</td>" : "-</td>", out);
        s_cell (out, "Stand", NULL, shown);
        s_cell (out, "Expert", NULL, en_json_str (place, "expert") ?: "-");
        fputs ("</tr>", out);
    }
    fputs ("</tbody></table>", out);
}

static void s_participant_name (FILE *out, const char *who);

//  The newest advice of a conversation that opened here, or NULL
static json_t *
s_last_advice (json_t *thread)
{
    json_t *messages = json_object_get (thread, "messages");
    for (size_t index = json_array_size (messages); index > 0; index--) {
        json_t *message = json_array_get (messages, index - 1);
        if (streq (en_json_str (message, "kind") ?: "", "advice") && en_json_str (message, "text"))
            return message;
    }
    return NULL;
}

//  The live part of a request's page: state, expert, advice, timeline
static void
s_request_live (FILE *out, const en_portal_ctx_t *ctx, json_t *request)
{
    char when [32];
    const char *state = en_json_str (request, "state");
    fputs ("<div class=\"grid\"><section class=\"panel\"><h2>Stand van zaken</h2><dl class=\"fields\">", out);
    s_dt (out, "Status");
    s_state (out, state);
    fputs ("</dd>", out);
    json_t *places = json_object_get (request, "places");
    bool team = json_array_size (places) > 1;
    s_dt (out, team ? "Experts" : "Expert");
    s_esc (out, team ? "zie het team hieronder" : en_json_str (request, "expert") ?: "nog niemand");
    fputs ("</dd>", out);
    s_dt (out, "Ingediend");
    fprintf (out, "%s (", s_date (en_json_int (request, "created", 0), when, sizeof when));
    s_age (out, en_json_int (request, "created", ctx->now), ctx->now);
    fprintf (out, " geleden)</dd>");
    s_dt (out, "Laatste wijziging");
    fprintf (out, "%s</dd>", s_date (en_json_int (request, "updated", 0), when, sizeof when));
    if (en_json_int (request, "review_at", 0) > 0) {
        s_dt (out, "Terug op ET");
        fputs (s_day (en_json_int (request, "review_at", 0), when, sizeof when), out);
        s_review_due (out, ctx, request);
        fputs ("</dd>", out);
    }
    fputs ("</dl>", out);
    if (en_json_str (request, "error")) {
        fputs ("<p class=\"alert\">De broker weigerde dit: ", out);
        s_esc (out, en_json_str (request, "error"));
        fputs ("</p>", out);
    }
    if (state && streq (state, "hiaat"))
        fputs (team ? "<p class=\"alert\">Voor een plaats in het team kon niemand in het netwerk het verzoek"
                      " aannemen: die plaats is als hiaat geregistreerd. De operators van het expertisecentrum zien"
                      " het en kunnen haar opnieuw aanbieden.</p>"
                    : "<p class=\"alert\">Niemand in het netwerk kon dit verzoek aannemen: het is als hiaat"
                      " geregistreerd. De operators van het expertisecentrum zien het en kunnen het opnieuw aanbieden.</p>",
               out);
    if (team) {
        fputs ("<h3>Het team</h3>", out);
        s_places (out, places);
    }
    fputs ("</section><section class=\"panel\"><h2>Advies</h2>", out);
    const char *advice = en_json_str (request, "advice");
    json_t *message = s_last_advice (json_object_get (request, "conversation"));
    if (advice && *advice) {
        fputs ("<div class=\"text advice\">", out);
        s_esc (out, advice);
        fputs ("</div>", out);
    }
    else
    if (message) {
        fputs ("<div class=\"text advice\">", out);
        s_esc (out, en_json_str (message, "text"));
        fputs ("</div><p class=\"small muted\">Van ", out);
        s_participant_name (out, en_json_str (message, "from"));
        fprintf (out, ", bericht #%lld in het gesprek hieronder.</p>", (long long) en_json_int (message, "seq", 0));
    }
    else
    if (state && (streq (state, "advice") || streq (state, "monitoring")))
        fputs ("<p>Het advies staat in het gesprek hieronder.</p>", out);
    else
        fputs ("<p class=\"empty\">Nog geen advies ontvangen. Deze pagina toont het zodra het binnenkomt.</p>", out);
    fputs ("</section></div><section class=\"panel\"><h2>Tijdlijn</h2>", out);
    s_timeline (out, json_object_get (request, "events"));
    fputs ("</section>", out);
}

char *
en_portal_panel_request (const en_portal_ctx_t *ctx, json_t *request)
{
    return s_fragment (s_request_live, ctx, request);
}

//  A team's reply goes to the expert of one filled place: which one
static void
s_reply_place (FILE *out, json_t *places, json_t *values, json_t *errors)
{
    if (json_array_size (places) < 2)
        return;
    const char *options [EN_MAX_PLACES + 1] = { NULL };
    char texts [EN_MAX_PLACES][16];
    size_t count = 0, index;
    json_t *place;
    json_array_foreach (places, index, place) {
        const char *state = en_json_str (place, "state") ?: "";
        if (count < EN_MAX_PLACES && (streq (state, "accepted") || streq (state, "advice"))) {
            snprintf (texts [count], sizeof texts [count], "%lld", (long long) en_json_int (place, "place", 0));
            options [count] = texts [count];
            count++;
        }
    }
    s_select (out, &(s_field_t) { "place", "Aan de expert van plaats",
              "Uw reactie gaat versleuteld naar de expert die deze plaats vervult.", true },
              options, NULL, NULL, values, errors);
}

static const char *s_yes_no [] = { "ja", "nee", NULL };
static en_words_t s_yes_no_words = { { "ja", "Ja" }, { "nee", "Nee" }, { NULL, NULL } };

//  --------------------------------------------------------------------
//  A request's conversation (the team's request page, the expert's
//  accepted offer): its messages in order, who read them, and a form.

static const char *s_message_kinds [] = { "bericht", "advies", NULL };
static en_words_t s_message_kind_words = { { "bericht", "Bericht" }, { "advies", "Advies" }, { NULL, NULL } };

//  Who wrote or read, as people read it
static void
s_participant_name (FILE *out, const char *who)
{
    if (who && streq (who, "team"))
        fputs ("het expertteam", out);
    else {
        fputs ("expert <span class=\"code\">", out);
        s_esc (out, who);
        fputs ("</span>", out);
    }
}

static void
s_participant_list (FILE *out, json_t *names, const char *none)
{
    size_t index;
    json_t *name;
    json_array_foreach (names, index, name) {
        if (index)
            fputs (index + 1 == json_array_size (names) ? " en " : ", ", out);
        s_participant_name (out, json_string_value (name));
    }
    if (json_array_size (names) == 0)
        fputs (none, out);
}

static void
s_conversation_messages (FILE *out, json_t *thread)
{
    json_t *messages = json_object_get (thread, "messages");
    if (json_array_size (messages) == 0) {
        fputs ("<p class=\"empty\">Nog geen berichten.</p>", out);
        return;
    }
    fputs ("<ol class=\"gesprek\">", out);
    size_t index;
    json_t *message;
    json_array_foreach (messages, index, message) {
        char when [32];
        fprintf (out, "<li><p class=\"small\"><strong>#%lld ", (long long) en_json_int (message, "seq", 0));
        s_participant_name (out, en_json_str (message, "from"));
        fprintf (out, "</strong>, %s", s_date (en_json_int (message, "at", 0), when, sizeof when));
        if (streq (en_json_str (message, "kind") ?: "", "advice"))
            fputs (" <span class=\"badge\">advies</span>", out);
        fputs ("</p><div class=\"text\">", out);
        if (en_json_str (message, "text"))
            s_esc (out, en_json_str (message, "text"));
        else
            fputs ("<em>Dit bericht opent niet met uw sleutel.</em>", out);
        fputs ("</div><p class=\"small muted\">Gelezen door ", out);
        s_participant_list (out, json_object_get (message, "read_by"), "nog niemand");
        fputs ("</p></li>", out);
    }
    fputs ("</ol>", out);
}

static void
s_conversation (FILE *out, const en_portal_ctx_t *ctx, json_t *thread, const char *action, bool expert,
                json_t *values, json_t *errors)
{
    if (!thread)
        return;
    json_t *members = json_object_get (thread, "members");
    fputs ("<section class=\"panel\" aria-labelledby=\"gesprek-kop\"><h2 id=\"gesprek-kop\">Gesprek</h2>"
           "<p class=\"small muted\">Deelnemers: ", out);
    s_participant_list (out, members, "niemand meer (het verzoek is gesloten)");
    fputs (". Elk bericht is versleuteld voor de deelnemers; de broker en de nodes onderweg kunnen het niet"
           " lezen.</p>", out);
    s_conversation_messages (out, thread);
    size_t index;
    json_t *unsent;
    json_array_foreach (json_object_get (thread, "unsent"), index, unsent) {
        char when [32];
        s_date (en_json_int (unsent, "queued", 0), when, sizeof when);
        if (streq (en_json_str (unsent, "state") ?: "", "refused")) {
            fprintf (out, "<p class=\"error\">Uw bericht van %s is niet afgeleverd: de deelnemers waren intussen"
                     " veranderd of het verzoek is gesloten. Schrijf het zo nodig opnieuw.</p>", when);
        }
        else
            fprintf (out, "<p class=\"small muted\">Uw bericht van %s wacht nog op verzending.</p>", when);
    }
    if (json_array_size (members) > 0) {
        s_form_open (out, ctx, action, "message", NULL, false);
        s_textarea (out, &(s_field_t) { "bericht", "Uw bericht",
                    "Gaat naar alle deelnemers. Geen namen of andere gegevens die het kind herkenbaar maken.",
                    true }, 5, EN_MAX_ADVICE, values, errors);
        if (expert)
            s_radios (out, &(s_field_t) { "soort", "Soort", "Een advies zet het verzoek op 'advies'.", false },
                      s_message_kinds, s_message_kind_words, values, errors);
        s_submit (out, "Bericht versturen", NULL);
    }
    fputs ("</section>", out);
}

//  Moreel beraad at the team's request: propose times to the participants
//  (the experts who accepted), fix the one agreed (their answers are in
//  the timeline), record that it took place; the outcome stays here
static void
s_request_beraad (FILE *out, const en_portal_ctx_t *ctx, const char *action, json_t *values, json_t *errors)
{
    fputs ("<section class=\"panel\"><h2>Moreel beraad</h2><p>Stel tijden voor aan de deelnemers (de experts die"
           " het verzoek aannamen). Hun antwoorden verschijnen in de tijdlijn.</p>", out);
    s_form_open (out, ctx, action, "beraad-propose", NULL, false);
    const char *names [] = { "beraad_tijd_1", "beraad_tijd_2", "beraad_tijd_3", NULL };
    for (int i = 0; names [i]; i++)
        s_input (out, &(s_field_t) { names [i], NULL, i ? NULL : "Datum en tijd (Nederlandse tijd).", i == 0 },
                 "datetime-local", NULL, values, errors);
    s_submit (out, "Tijden voorstellen", NULL);
    s_form_open (out, ctx, action, "beraad-fix", NULL, false);
    s_input (out, &(s_field_t) { "beraad_fix", NULL, "Een van de voorgestelde tijden.", true },
             "datetime-local", NULL, values, errors);
    s_submit (out, "Tijd vaststellen", NULL);
    s_form_open (out, ctx, action, "beraad-held", NULL, false);
    s_input (out, &(s_field_t) { "beraad_held", NULL, NULL, true }, "datetime-local", NULL, values, errors);
    s_textarea (out, &(s_field_t) { "beraad_outcome", NULL, "Blijft versleuteld bij deze node; gaat nergens heen.",
                false }, 3, 2000, values, errors);
    s_submit (out, "Beraad gehouden", NULL);
    fputs ("</section>", out);
}

char *
en_portal_page_request (const en_portal_ctx_t *ctx, json_t *request, json_t *values, json_t *errors)
{
    const char *id = en_json_str (request, "id");
    const char *state = en_json_str (request, "state") ?: "";
    json_t *summary = json_object_get (request, "summary");
    char title [128], action [160];
    snprintf (title, sizeof title, "Verzoek %s", id ? id : "");
    S_OPEN (out, buffer);
    s_begin (out, ctx, title, "verzoeken");
    fputs ("<p class=\"crumbs\"><a href=\"/verzoeken\">Verzoeken</a> <span aria-hidden=\"true\">›</span></p>"
           "<h1>Verzoek <span class=\"code\">", out);
    s_esc (out, id);
    fputs ("</span> ", out);
    en_html_urgency (out, en_json_str (summary, "urgency"));
    fputs ("</h1>", out);
    static const char *order [] = { "text", "bericht", "review_date", "beraad_tijd_1", "beraad_tijd_2",
                                    "beraad_tijd_3", "beraad_fix", "beraad_held", "beraad_outcome", "passende_hulp",
                                    "outcome", NULL };
    s_error_summary (out, errors, order);
    s_live_open (out, "verzoek", id);
    s_request_live (out, ctx, request);
    fputs ("</div><section class=\"panel\"><h2>Samenvatting</h2>", out);
    if (en_json_str (summary, "case")) {
        fputs ("<p>Zaak: ", out);
        s_link (out, "/zaken/", en_json_str (summary, "case"), NULL);
        fputs ("</p>", out);
    }
    s_summary_fields (out, summary);
    fputs ("</section>", out);
    snprintf (action, sizeof action, "/verzoeken/%s", id ? id : "");
    json_t *conversation = json_object_get (request, "conversation");
    s_conversation (out, ctx, conversation, action, false, values, errors);
    fputs ("<div class=\"grid\">", out);
    bool open = !streq (state, "closed") && !streq (state, "rejected");
    //  The conversation is where the team answers an advice; the reply of
    //  old (sealed to one expert) only for a request without one (made
    //  before conversations), or to show a refused reply's errors
    bool talking = json_array_size (json_object_get (conversation, "members")) > 0;
    bool replying = streq (en_json_str (values, "action") ?: "", "reply");
    if (open && (!talking || replying) && (streq (state, "advice") || en_json_str (request, "advice"))) {
        fputs ("<section class=\"panel\"><h2>Reageren op het advies</h2>", out);
        s_form_open (out, ctx, action, "reply", NULL, false);
        s_reply_place (out, json_object_get (request, "places"), values, errors);
        s_textarea (out, &(s_field_t) { "text", "Uw reactie",
                    "Een vervolgvraag of wat u met het advies doet. Geen namen of andere gegevens die het kind"
                    " herkenbaar maken.", true }, 5, EN_MAX_ADVICE, values, errors);
        s_submit (out, "Reactie versturen", NULL);
        fputs ("</section>", out);
    }
    if (open && (streq (state, "accepted") || streq (state, "advice") || streq (state, "monitoring"))) {
        fputs ("<section class=\"panel\"><h2>Terug op ET</h2><p>Kies de dag waarop het expertteam het verzoek"
               " opnieuw bespreekt. Het verzoek blijft open tot u het sluit; op die dag krijgen u en de expert"
               " een herinnering.</p>", out);
        s_form_open (out, ctx, action, "review", NULL, false);
        s_input (out, &(s_field_t) { "review_date", NULL, "Binnen een jaar; de herinnering komt om 09:00.", true },
                 "date", NULL, values, errors);
        s_submit (out, en_json_int (request, "review_at", 0) > 0 ? "Nieuwe datum opslaan" : "Datum opslaan", NULL);
        fputs ("</section>", out);
    }
    if (open && streq (en_json_str (summary, "question_type") ?: "", "moreel-beraad")
    &&  (streq (state, "accepted") || streq (state, "advice") || streq (state, "monitoring")))
        s_request_beraad (out, ctx, action, values, errors);
    if (open) {
        fputs ("<section class=\"panel\"><h2>Verzoek sluiten</h2><p>Sluit het verzoek als de vraag beantwoord"
               " is of niet meer speelt. Open aanbod wordt ingetrokken en de capaciteit van de expert komt vrij.</p>",
               out);
        s_form_open (out, ctx, action, "close", NULL, false);
        s_radios (out, &(s_field_t) { "passende_hulp", NULL, "Is er passende hulp voor het kind gekomen?", true },
                  s_yes_no, s_yes_no_words, values, errors);
        s_textarea (out, &(s_field_t) { "outcome", NULL, "Kort, zonder namen: wat is er bereikt?", false },
                    3, 500, values, errors);
        s_submit (out, "Verzoek sluiten", "danger");
        fputs ("</section>", out);
    }
    fputs ("</div>", out);
    return s_end (out, &buffer);
}

//  --------------------------------------------------------------------
//  Medewerker: the consultatieverzoek

//  Expertise checkboxes from [{tag, available}]; a tag nobody holds is
//  marked, and the warning below the group tells what that means.
static void
s_expertise (FILE *out, const char *name, const char *label, json_t *tags, bool warn_missing,
             bool required, json_t *values, json_t *errors)
{
    s_field_t field = { name, label,
        warn_missing ? "Kies de expertise die de vraag nodig heeft. Het netwerk zoekt een expert die haar heeft."
                     : "De expertise waarvoor u aanbod wilt krijgen.", required };
    s_group_open (out, &field, errors);
    size_t index;
    json_t *tag;
    bool missing_chosen = false;
    json_array_foreach (tags, index, tag) {
        const char *text = en_json_str (tag, "tag");
        bool available = !json_is_false (json_object_get (tag, "available"));
        bool chosen = s_chosen (values, name, text);
        if (!available && chosen)
            missing_chosen = true;
        s_option (out, "checkbox", name, (int) index, text, text, chosen,
                  warn_missing && !available ? "data-unavailable=\"1\"" : NULL,
                  warn_missing && !available ? "(niemand beschikbaar)" : NULL);
    }
    if (json_array_size (tags) == 0)
        fputs ("<p class=\"empty\">Het netwerk heeft nog geen expertise gemeld.</p>", out);
    fputs ("</div>", out);
    if (warn_missing) {
        fprintf (out, "<div class=\"warning\" id=\"tag-warning\" data-tag-warning%s>"
                 "<p><strong>Let op:</strong> voor een gekozen expertise is nu niemand in het netwerk beschikbaar."
                 " Het verzoek wordt dan waarschijnlijk een <em>hiaat</em>: de operators zien het, maar er komt"
                 " geen aanbod. Kies zo mogelijk een andere expertise.</p>",
                 missing_chosen ? "" : " hidden");
        s_option (out, "checkbox", "hiaat_ok", 0, "ja", "Ik weet het; toch indienen",
                  s_chosen (values, "hiaat_ok", "ja"), NULL, NULL);
        fputs ("</div>", out);
    }
    fputs ("</fieldset>", out);
}

//  Problematiek: checkboxes for the common tags, a text field for others
static void
s_problematiek_fields (FILE *out, json_t *values, json_t *errors)
{
    const char *keys [16];
    s_checkboxes (out, &(s_field_t) { "problematiek", NULL, NULL, false },
                  s_keys (s_problematiek, keys, 16), s_problematiek, values, errors);
    s_input (out, &(s_field_t) { "problematiek_anders", NULL,
             "Andere problematiek als korte labels, gescheiden door komma's (kleine letters, cijfers en '-').",
             false }, "text", "maxlength=\"200\" spellcheck=\"false\"", values, errors);
}

//  The anonymized summary fields shared by the case and request forms
static void
s_summary_inputs (FILE *out, bool request, json_t *values, json_t *errors)
{
    s_select (out, &(s_field_t) { "age_band", NULL, NULL, request }, en_vocab_age_band, s_age_bands, NULL,
              values, errors);
    s_checkboxes (out, &(s_field_t) { "leefgebieden", NULL, "Op welke leefgebieden spelen de problemen?", false },
                  en_vocab_leefgebied, s_leefgebieden, values, errors);
    s_problematiek_fields (out, values, errors);
    s_select (out, &(s_field_t) { "kader", NULL, NULL, false }, en_vocab_kader, s_kaders, NULL, values, errors);
    s_select (out, &(s_field_t) { "situatie", NULL, "Waar verblijft het kind nu?", false }, en_vocab_situatie,
              s_situaties, NULL, values, errors);
}

//  A team (EXPN/3): up to EN_MAX_PLACES places, each a role and its own
//  expertise, each offered to its own expert. Folded away when unused: a
//  request for one expert needs none of it.
static void
s_team_inputs (FILE *out, json_t *values, json_t *errors)
{
    bool used = false;
    for (int place = 1; place <= EN_MAX_PLACES; place++) {
        char name [32];
        snprintf (name, sizeof name, "place%d_role", place);
        used = used || s_value (values, name) || s_error (errors, name);
        snprintf (name, sizeof name, "place%d_expertise", place);
        used = used || s_error (errors, name);
    }
    fprintf (out, "<details class=\"team\"%s><summary>Een team vragen: meerdere experts tegelijk</summary>"
             "<p>Vraag bijvoorbeeld een superexpert trauma, een superexpert lvb en een ervaringsdeskundige."
             " Elke plaats wordt apart aan een expert aangeboden; niemand krijgt twee plaatsen. Laat de rol leeg"
             " voor een plaats die u niet nodig hebt.</p>", used ? " open" : "");
    for (int place = 1; place <= EN_MAX_PLACES; place++) {
        char role [32], tags [32], role_label [32], tags_label [48];
        snprintf (role, sizeof role, "place%d_role", place);
        snprintf (tags, sizeof tags, "place%d_expertise", place);
        snprintf (role_label, sizeof role_label, "Rol (plaats %d)", place);
        snprintf (tags_label, sizeof tags_label, "Expertise (plaats %d)", place);
        fprintf (out, "<fieldset class=\"place\"><legend>Plaats %d</legend>", place);
        s_select (out, &(s_field_t) { role, role_label, NULL, false }, en_vocab_role, s_expert_roles, "Geen",
                  values, errors);
        s_input (out, &(s_field_t) { tags, tags_label, place == 1
                 ? "Labels gescheiden door komma's, bijvoorbeeld: trauma, lvb. Leeg: elke expert met die rol." : NULL,
                 false }, "text", "maxlength=\"300\" spellcheck=\"false\"", values, errors);
        fputs ("</fieldset>", out);
    }
    fputs ("</details>", out);
}

char *
en_portal_page_request_new (const en_portal_ctx_t *ctx, json_t *tags, json_t *cases,
                            json_t *values, json_t *errors)
{
    static const char *order [] = {
        "urgency", "question_type", "expertise", "hiaat_ok", "stuck_on", "question", "case", "age_band",
        "leefgebieden", "problematiek", "problematiek_anders", "kader", "situatie", "dossier", "dossier_file",
        NULL };
    S_OPEN (out, buffer);
    s_begin (out, ctx, "Nieuw consultatieverzoek", "nieuw");
    fputs ("<h1>Nieuw consultatieverzoek</h1>", out);
    s_error_summary (out, errors, order);
    fputs ("<p class=\"lead\">Het netwerk krijgt alleen een anonieme samenvatting. Noem geen namen, geboortedata,"
           " adressen, BSN of andere gegevens die het kind herkenbaar maken: de privacycontrole houdt zulke"
           " gegevens tegen en zegt in welk veld ze staan.</p>", out);
    s_form_open (out, ctx, "/verzoeken/nieuw", NULL, "form request-form", true);
    s_required_note (out);
    fputs ("<section class=\"panel\"><h2>De vraag</h2>", out);
    s_select (out, &(s_field_t) { "urgency", NULL,
              "Crisis: een expert heeft minuten tot uren; hoog: dagen; regulier: weken.", true },
              en_vocab_urgency, s_urgencies, NULL, values, errors);
    s_select (out, &(s_field_t) { "question_type", NULL, NULL, true }, en_vocab_question_type, s_question_types,
              NULL, values, errors);
    s_expertise (out, "expertise", NULL, tags, true, true, values, errors);
    s_team_inputs (out, values, errors);
    s_checkboxes (out, &(s_field_t) { "stuck_on", NULL, "Waarop loopt de hulp vast?", false },
                  en_vocab_stuck_on, s_stuck_on, values, errors);
    s_textarea (out, &(s_field_t) { "question", NULL,
                "Wat wilt u van de expert weten? Zonder namen of andere herkenbare gegevens; de expert leest"
                " dit vóór het accepteren.", false }, 6, EN_MAX_QUESTION, values, errors);
    fputs ("</section><section class=\"panel\"><h2>De zaak</h2>", out);
    //  The case: a select of registered pseudonyms
    s_select_rows (out, &(s_field_t) { "case", NULL,
                   "Het pseudoniem van de geregistreerde cliënt. Nog niet geregistreerd? Registreer eerst een zaak.",
                   false }, cases, "pseudonym", NULL, NULL, "Geen zaak koppelen", values, errors);
    fputs ("<p class=\"small\"><a href=\"/zaken/nieuw\">Zaak registreren</a></p>", out);
    s_summary_inputs (out, true, values, errors);
    fputs ("</section><section class=\"panel\"><h2>Dossier</h2><p>Het dossier blijft versleuteld bij deze node"
           " en gaat alleen naar de expert die het verzoek accepteert, versleuteld voor die expert.</p>", out);
    s_textarea (out, &(s_field_t) { "dossier", "Dossiertekst",
                "Typ of plak de tekst, of kies hieronder een tekstbestand.", false }, 8, EN_MAX_ADVICE,
                values, errors);
    s_input (out, &(s_field_t) { "dossier_file", NULL, "Een tekstbestand (.txt), hoogstens 16 kB.", false },
             "file", "accept=\".txt,text/plain\"", values, errors);
    fputs ("</section>", out);
    s_submit (out, "Verzoek indienen", NULL);
    return s_end (out, &buffer);
}

//  --------------------------------------------------------------------
//  Medewerker: cases

char *
en_portal_page_cases (const en_portal_ctx_t *ctx, json_t *cases)
{
    static const char *columns [] = { "Zaak (pseudoniem)", "Fase", "Geregistreerd", "Verzoeken", NULL };
    S_OPEN (out, buffer);
    s_begin (out, ctx, "Zaken", "zaken");
    fputs ("<div class=\"titlebar\"><h1>Zaken</h1><a class=\"button\" href=\"/zaken/nieuw\">Zaak registreren</a>"
           "</div><section class=\"panel\"><p>Cliënten zijn buiten deze node alleen bekend onder hun pseudoniem."
           " De identificerende gegevens staan versleuteld bij de node.</p>", out);
    if (json_array_size (cases) == 0)
        fputs ("<p class=\"empty\">Nog geen zaken geregistreerd.</p>", out);
    else {
        s_table_head (out, "cases", "Geregistreerde zaken", columns);
        size_t index;
        json_t *item;
        json_array_foreach (cases, index, item) {
            char when [32];
            fputs ("<tr>", out);
            s_td (out, "Zaak", "code");
            s_link (out, "/zaken/", en_json_str (item, "pseudonym"), NULL);
            fputs ("</td>", out);
            s_td (out, "Fase", NULL);
            //  The latest phase reached, when the list carries phases
            const char *phase = en_json_str (item, "phase");
            json_t *phases = json_object_get (item, "phases");
            for (int i = 0; en_vocab_phase [i]; i++)
                if (json_object_get (phases, en_vocab_phase [i]))
                    phase = en_vocab_phase [i];
            s_esc (out, phase ? en_word (s_phases, phase) : "-");
            fputs ("</td>", out);
            s_td (out, "Geregistreerd", NULL);
            fprintf (out, "%s</td>", s_day (en_json_int (item, "created", 0), when, sizeof when));
            s_td (out, "Verzoeken", "num");
            fprintf (out, "%lld</td></tr>", (long long) en_json_int (item, "requests", 0));
        }
        fputs ("</tbody></table>", out);
    }
    fputs ("</section>", out);
    return s_end (out, &buffer);
}

char *
en_portal_page_case_new (const en_portal_ctx_t *ctx, json_t *values, json_t *errors)
{
    static const char *order [] = {
        "client_id", "name", "birth_date", "address", "postcode", "contact", "school", "age_band",
        "leefgebieden", "problematiek", "problematiek_anders", "kader", "situatie", NULL };
    S_OPEN (out, buffer);
    s_begin (out, ctx, "Zaak registreren", "zaken");
    fputs ("<p class=\"crumbs\"><a href=\"/zaken\">Zaken</a> <span aria-hidden=\"true\">›</span></p>"
           "<h1>Zaak registreren</h1>", out);
    s_error_summary (out, errors, order);
    s_form_open (out, ctx, "/zaken/nieuw", NULL, NULL, false);
    s_required_note (out);
    fputs ("<section class=\"panel\"><h2>Identificerende gegevens</h2><p>Deze gegevens blijven versleuteld bij"
           " deze node en gaan nooit naar het netwerk. Uit het cliëntnummer maakt de node een pseudoniem;"
           " dat gebruikt u in verzoeken.</p>", out);
    s_input (out, &(s_field_t) { "client_id", NULL,
             "Het nummer waaronder de regio de cliënt kent, bijvoorbeeld het BSN. Dezelfde cliënt geeft altijd"
             " hetzelfde pseudoniem.", true }, "text", "autocomplete=\"off\" spellcheck=\"false\" maxlength=\"64\"",
             values, errors);
    s_input (out, &(s_field_t) { "name", NULL, NULL, false }, "text", "autocomplete=\"off\" maxlength=\"200\"",
             values, errors);
    s_input (out, &(s_field_t) { "birth_date", NULL, NULL, false }, "date", "autocomplete=\"off\"", values, errors);
    s_input (out, &(s_field_t) { "address", NULL, NULL, false }, "text", "autocomplete=\"off\" maxlength=\"200\"",
             values, errors);
    s_input (out, &(s_field_t) { "postcode", NULL, NULL, false }, "text", "autocomplete=\"off\" maxlength=\"10\"",
             values, errors);
    s_input (out, &(s_field_t) { "contact", NULL, NULL, false }, "text", "autocomplete=\"off\" maxlength=\"200\"",
             values, errors);
    s_input (out, &(s_field_t) { "school", NULL, NULL, false }, "text", "autocomplete=\"off\" maxlength=\"200\"",
             values, errors);
    fputs ("</section><section class=\"panel\"><h2>Anonieme samenvatting</h2><p>Voor de rode draden van de"
           " regio en het land; alleen deze keuzes, zonder vrije tekst.</p>", out);
    s_summary_inputs (out, false, values, errors);
    fputs ("</section>", out);
    s_submit (out, "Zaak registreren", NULL);
    return s_end (out, &buffer);
}

char *
en_portal_page_case_registered (const en_portal_ctx_t *ctx, json_t *result)
{
    const char *pseudonym = en_json_str (result, "case");
    bool updated = en_json_str (result, "state") && streq (en_json_str (result, "state"), "updated");
    S_OPEN (out, buffer);
    s_begin (out, ctx, "Zaak geregistreerd", "zaken");
    fprintf (out, "<h1>%s</h1><section class=\"panel\"><p>", updated ? "Zaak bijgewerkt" : "Zaak geregistreerd");
    fputs (updated ? "Deze cliënt was al geregistreerd; de nieuwe gegevens zijn toegevoegd."
                   : "De identificerende gegevens staan versleuteld bij deze node.", out);
    fputs (" Gebruik in verzoeken dit pseudoniem:</p><p class=\"pseudonym\" id=\"pseudonym\">", out);
    s_esc (out, pseudonym);
    fputs ("</p><p class=\"buttons\"><a class=\"button\" href=\"/verzoeken/nieuw?zaak=", out);
    s_esc (out, pseudonym);
    fputs ("\">Consultatieverzoek voor deze zaak</a> ", out);
    s_link (out, "/zaken/", pseudonym, "Naar de zaak");
    fputs ("</p></section>", out);
    return s_end (out, &buffer);
}

//  The phases a case went through, and its outcome once closed; the
//  phase the case is in (NULL: none yet)
static const char *
s_case_phases (FILE *out, json_t *phases, json_t *outcome)
{
    fputs ("<section class=\"panel\"><h2>Fasen</h2><ol class=\"phases\">", out);
    const char *current = NULL;
    for (int i = 0; en_vocab_phase [i]; i++) {
        json_t *at = json_object_get (phases, en_vocab_phase [i]);
        char when [32];
        if (at)
            current = en_vocab_phase [i];
        fprintf (out, "<li class=\"%s\">%s <span class=\"muted\">%s</span></li>", at ? "done" : "todo",
                 en_word (s_phases, en_vocab_phase [i]),
                 at ? s_date ((int64_t) json_integer_value (at), when, sizeof when) : "nog niet");
    }
    fputs ("</ol>", out);
    if (json_is_object (outcome)) {
        fputs ("<h3>Uitkomst</h3><dl class=\"fields\">", out);
        s_dt (out, "Passende hulp gerealiseerd");
        fprintf (out, "%s</dd>", json_is_true (json_object_get (outcome, "passende_hulp")) ? "ja" : "nee");
        const char *key;
        json_t *value;
        json_object_foreach (json_object_get (outcome, "zero"), key, value) {
            s_dt (out, en_word (s_zero_goals, key));
            fprintf (out, "%lld</dd>", (long long) json_integer_value (value));
        }
        fputs ("</dl>", out);
    }
    fputs ("</section>", out);
    return current;
}

//  The form that moves a case to its next phase (with the outcome when
//  it closes)
static void
s_case_phase_form (FILE *out, const en_portal_ctx_t *ctx, const char *action, json_t *values, json_t *errors)
{
    fputs ("<section class=\"panel\"><h2>Fase wijzigen</h2>", out);
    s_form_open (out, ctx, action, "phase", NULL, false);
    s_required_note (out);
    s_select (out, &(s_field_t) { "phase", "Nieuwe fase", NULL, true }, en_vocab_phase, s_phases, NULL,
              values, errors);
    fputs ("<fieldset class=\"field group\"><legend>Bij afsluiten</legend><p class=\"hint\">Alleen invullen"
           " bij de fase Afgesloten.</p>", out);
    s_radios (out, &(s_field_t) { "passende_hulp", NULL, NULL, false }, s_yes_no, s_yes_no_words,
              values, errors);
    fputs ("<p class=\"hint\">De nuldoelen: hoe vaak gebeurde dit tijdens de zaak?</p><div class=\"row\">", out);
    for (int i = 0; s_zero_goals [i][0]; i++)
        s_input (out, &(s_field_t) { s_zero_goals [i][0], NULL, NULL, false }, "number",
                 "min=\"0\" max=\"1000\" inputmode=\"numeric\"", values, errors);
    fputs ("</div></fieldset>", out);
    s_submit (out, "Fase opslaan", NULL);
    fputs ("</section>", out);
}

char *
en_portal_page_case (const en_portal_ctx_t *ctx, json_t *record, json_t *requests,
                     json_t *values, json_t *errors)
{
    static const char *order [] = {
        "phase", "passende_hulp", "gedwongen_afzonderingen", "suicides", "gesloten_plaatsingen",
        "doorplaatsingen", NULL };
    const char *pseudonym = en_json_str (record, "pseudonym");
    json_t *summary = json_object_get (record, "summary");
    char title [96], action [128];
    snprintf (title, sizeof title, "Zaak %s", pseudonym ? pseudonym : "");
    S_OPEN (out, buffer);
    s_begin (out, ctx, title, "zaken");
    fputs ("<p class=\"crumbs\"><a href=\"/zaken\">Zaken</a> <span aria-hidden=\"true\">›</span></p>"
           "<h1>Zaak <span class=\"code\">", out);
    s_esc (out, pseudonym);
    fputs ("</span></h1>", out);
    s_error_summary (out, errors, order);
    fputs ("<div class=\"grid\">", out);
    const char *current = s_case_phases (out, json_object_get (record, "phases"),
                                         json_object_get (record, "outcome"));
    fputs ("<section class=\"panel\"><h2>Anonieme samenvatting</h2><dl class=\"fields\">", out);
    s_dd_words (out, "Leeftijd", json_object_get (summary, "age_band"), s_age_bands);
    s_dd_words (out, "Leefgebieden", json_object_get (summary, "leefgebieden"), s_leefgebieden);
    s_dd_words (out, "Problematiek", json_object_get (summary, "problematiek"), s_problematiek);
    s_dd_words (out, "Kader", json_object_get (summary, "kader"), s_kaders);
    s_dd_words (out, "Huidige situatie", json_object_get (summary, "situatie"), s_situaties);
    fputs ("</dl></section></div>", out);
    snprintf (action, sizeof action, "/zaken/%s", pseudonym ? pseudonym : "");
    if (!current || !streq (current, "afgesloten"))
        s_case_phase_form (out, ctx, action, values, errors);
    fputs ("<section class=\"panel\"><div class=\"titlebar\"><h2>Verzoeken voor deze zaak</h2>"
           "<a class=\"button\" href=\"/verzoeken/nieuw?zaak=", out);
    s_esc (out, pseudonym);
    fputs ("\">Nieuw verzoek</a></div>", out);
    s_requests_table (out, ctx, requests);
    fputs ("</section>", out);
    return s_end (out, &buffer);
}

//  --------------------------------------------------------------------
//  Expert

//  One offer in the inbox: what the expert needs to decide, and a
//  countdown to the deadline.
static void
s_offer_card (FILE *out, const en_portal_ctx_t *ctx, json_t *offer)
{
    json_t *request = json_object_get (offer, "request");
    const char *id = en_json_str (offer, "id");
    const char *answer = en_json_str (offer, "answer");
    const char *state = en_json_str (offer, "state") ?: "open";
    fputs ("<article class=\"offer\"><header><h2>", out);
    s_esc (out, en_word (s_offer_kinds, en_json_str (offer, "kind")));
    fputs (": ", out);
    s_esc (out, en_word (s_question_types, en_json_str (request, "question_type")));
    fputs ("</h2><p class=\"meta\">", out);
    en_html_urgency (out, en_json_str (request, "urgency"));
    fputs (" ", out);
    if (answer) {
        fputs ("<span class=\"state\">", out);
        s_esc (out, en_word (s_answers, answer));
        fputs ("</span>", out);
    }
    else
    if (!streq (state, "open")) {
        fputs ("<span class=\"state\">", out);
        s_esc (out, en_word (s_offer_states, state));
        fputs ("</span>", out);
    }
    else {
        fputs ("Antwoord vóór deadline: ", out);
        s_countdown (out, en_json_int (offer, "deadline", 0), ctx->now);
    }
    fputs ("</p></header><dl class=\"fields\">", out);
    s_dd_words (out, "Expertise", json_object_get (request, "expertise"), NULL);
    s_dd_words (out, "Leeftijd", json_object_get (request, "age_band"), s_age_bands);
    s_dd_words (out, "Leefgebieden", json_object_get (request, "leefgebieden"), s_leefgebieden);
    s_dd_words (out, "Problematiek", json_object_get (request, "problematiek"), s_problematiek);
    s_dd_words (out, "Kader", json_object_get (request, "kader"), s_kaders);
    s_dd_words (out, "Situatie", json_object_get (request, "situatie"), s_situaties);
    s_dd_words (out, "Vastgelopen op", json_object_get (request, "stuck_on"), s_stuck_on);
    s_dd_words (out, "Regio", json_object_get (request, "region"), NULL);
    fputs ("</dl>", out);
    const char *question = en_json_str (request, "question");
    if (question && *question) {
        fputs ("<h3>Vraag</h3><div class=\"text\">", out);
        s_esc (out, question);
        fputs ("</div>", out);
    }
    fputs ("<p class=\"buttons\"><a class=\"button\" href=\"/aanbod/", out);
    s_esc (out, id);
    fputs ("\">", out);
    fputs (!answer && streq (state, "open") ? "Accepteren of afwijzen" : "Openen", out);
    fputs ("<span class=\"sr\"> (aanbod ", out);
    s_esc (out, id);
    fputs (")</span></a></p></article>", out);
}

static void
s_inbox (FILE *out, const en_portal_ctx_t *ctx, json_t *offers)
{
    if (json_array_size (offers) == 0) {
        fputs ("<p class=\"empty\">Er wacht geen aanbod op u. U krijgt een e-mail (of sms) als er een komt;"
               " deze pagina ververst zichzelf.</p>", out);
        return;
    }
    size_t index;
    json_t *offer;
    json_array_foreach (offers, index, offer)
        s_offer_card (out, ctx, offer);
}

char *
en_portal_panel_inbox (const en_portal_ctx_t *ctx, json_t *offers)
{
    return s_fragment (s_inbox, ctx, offers);
}

char *
en_portal_page_inbox (const en_portal_ctx_t *ctx, json_t *offers)
{
    return s_live_page (ctx, "Aanbod", "aanbod",
        "<h1>Aanbod voor u</h1><p class=\"lead\">Lees de vraag en antwoord vóór de deadline; zonder antwoord"
        " gaat het verzoek naar de volgende expert.</p>",
        "aanbod", s_inbox, offers, false);
}

//  The offer's standing: received, deadline, the answer and its fate
static void
s_offer_state (FILE *out, const en_portal_ctx_t *ctx, json_t *offer, bool can_answer, bool accepted)
{
    const char *state = en_json_str (offer, "state") ?: "open";
    const char *answer = en_json_str (offer, "answer");
    const char *status = en_json_str (offer, "answer_status");
    bool refused = status && streq (status, "refused");
    char when [32];
    fputs ("<section class=\"panel\"><h2>Stand</h2><dl class=\"fields\">", out);
    s_dt (out, "Ontvangen");
    fprintf (out, "%s</dd>", s_date (en_json_int (offer, "received", 0), when, sizeof when));
    s_dt (out, "Deadline");
    fprintf (out, "%s ", s_date (en_json_int (offer, "deadline", 0), when, sizeof when));
    if (can_answer)
        s_countdown (out, en_json_int (offer, "deadline", 0), ctx->now);
    fputs ("</dd>", out);
    s_dt (out, "Uw antwoord");
    s_esc (out, answer ? en_word (s_answers, answer) : streq (state, "open") ? "nog niet" : en_word (s_offer_states, state));
    if (status) {
        fputs (" <span class=\"muted\">(", out);
        s_esc (out, en_word (s_answer_status, status));
        fputs (")</span>", out);
    }
    fputs ("</dd></dl>", out);
    if (refused && en_json_str (offer, "answer_error")) {
        fputs ("<p class=\"alert\">De broker weigerde uw antwoord: ", out);
        s_esc (out, en_json_str (offer, "answer_error"));
        fputs ("</p>", out);
    }
    if (!streq (state, "open") && !accepted)
        fputs ("<p class=\"notice\">Dit aanbod is niet meer open: het verzoek is bij een ander of gesloten.</p>",
               out);
    fputs ("</section>", out);
}

//  Accept or decline, side by side
static void
s_offer_answer_forms (FILE *out, const en_portal_ctx_t *ctx, const char *action, json_t *values, json_t *errors)
{
    fputs ("<div class=\"grid\"><section class=\"panel\"><h2>Accepteren</h2><p>U neemt de vraag aan. Het dossier"
           " komt daarna versleuteld voor u alleen; u opent het met uw wachtwoord.</p>", out);
    s_form_open (out, ctx, action, "accept", NULL, false);
    s_submit (out, "Aanbod accepteren", NULL);
    fputs ("</section><section class=\"panel\"><h2>Afwijzen</h2><p>Het verzoek gaat direct naar de volgende"
           " kandidaat.</p>", out);
    s_form_open (out, ctx, action, "decline", NULL, false);
    s_textarea (out, &(s_field_t) { "reason", NULL,
                "Waarom niet? Bijvoorbeeld: geen capaciteit, andere expertise nodig. Komt in de tijdlijn.",
                true }, 3, 500, values, errors);
    s_submit (out, "Aanbod afwijzen", "secondary");
    fputs ("</section></div>", out);
}

//  Once accepted: the dossier (opened by the server) and the advice form
static void
s_offer_dossier (FILE *out, const en_portal_ctx_t *ctx, const char *action, const char *dossier,
                 bool advise_form, json_t *values, json_t *errors)
{
    fputs ("<section class=\"panel\"><h2>Dossier</h2>", out);
    if (dossier) {
        fputs ("<div class=\"text dossier\" tabindex=\"0\" aria-label=\"Dossier\">", out);
        s_esc (out, dossier);
        fputs ("</div><p class=\"small muted\">U opende dit dossier; dat staat in het toegangslog.</p>", out);
    }
    else
        fputs ("<p class=\"empty\">Nog geen dossier: de regio stuurt het na uw acceptatie, versleuteld voor u."
               " Ververs de pagina over een ogenblik.</p>", out);
    fputs ("</section>", out);
    if (!advise_form)
        return;
    fputs ("<section class=\"panel\"><h2>Advies geven</h2>", out);
    s_form_open (out, ctx, action, "advise", NULL, false);
    s_textarea (out, &(s_field_t) { "text", "Uw advies",
                "Het advies gaat naar het expertteam dat de vraag stelde. Geen namen of andere herkenbare"
                " gegevens.", true }, 10, EN_MAX_ADVICE, values, errors);
    s_submit (out, "Advies versturen", NULL);
    fputs ("</section>", out);
}

//  A team's offer: which place it is for (its role and expertise) and
//  who else the team asks
static void
s_offer_place (FILE *out, json_t *offer)
{
    json_t *places = json_object_get (json_object_get (offer, "request"), "places");
    int64_t number = en_json_int (offer, "place", 1);
    json_t *place = json_array_get (places, (size_t) number - 1);
    if (json_array_size (places) < 2 || !place)
        return;
    fprintf (out, "<section class=\"panel\"><h2>Uw plaats in het team</h2><p>Het expertteam vraagt een team van"
                  " %zu. Dit aanbod is voor plaats %lld: ", json_array_size (places), (long long) number);
    s_esc (out, en_word (s_expert_roles, en_json_str (place, "role")));
    json_t *tags = json_object_get (place, "expertise");
    size_t index;
    json_t *tag;
    json_array_foreach (tags, index, tag) {
        fputs (index ? ", " : " voor ", out);
        s_esc (out, json_string_value (tag));
    }
    fputs (".</p></section>", out);
}

//  "ma 4-12-2026 14:00" of ms (Dutch civil time)
static const char *
s_nl_time (int64_t ms, char *buf, size_t size)
{
    char iso [32];
    en_nl_time_str (ms, iso, sizeof iso);          //  YYYY-MM-DD HH:MM
    snprintf (buf, size, "%.2s-%.2s-%.4s %s", iso + 8, iso + 5, iso, iso + 11);
    return buf;
}

//  Moreel beraad at the expert's offer: the times the team proposed, to
//  tick the ones that suit; or the time it fixed; or that it was held
static void
s_offer_beraad (FILE *out, const en_portal_ctx_t *ctx, const char *action, json_t *offer,
                json_t *values, json_t *errors)
{
    json_t *times = json_object_get (offer, "beraad_times");
    int64_t fixed = en_json_int (offer, "beraad_at", 0);
    int64_t held = en_json_int (offer, "beraad_held_at", 0);
    char when [40];
    if (held > 0) {
        fprintf (out, "<section class=\"panel\"><h2>Moreel beraad</h2><p>Moreel beraad gehouden op <strong>%s"
                 "</strong>. De uitkomst blijft bij het expertteam.</p></section>", s_nl_time (held, when, sizeof when));
        return;
    }
    if (json_array_size (times) == 0)
        return;
    fputs ("<section class=\"panel\"><h2>Moreel beraad</h2>", out);
    if (fixed > 0) {
        fprintf (out, "<p>De tijd staat vast: <strong>%s</strong>.</p></section>", s_nl_time (fixed, when, sizeof when));
        return;
    }
    fputs ("<p>Het expertteam stelt deze tijden voor. Vink aan welke u passen; het team kiest daarna een tijd.</p>", out);
    s_form_open (out, ctx, action, "beraad-answer", NULL, false);
    s_group_open (out, &(s_field_t) { "available", NULL, "Geen enkele? Verstuur zonder vinkje.", false }, errors);
    size_t index;
    json_t *time;
    json_array_foreach (times, index, time) {
        char value [24];
        snprintf (value, sizeof value, "%" JSON_INTEGER_FORMAT, json_integer_value (time));
        s_option (out, "checkbox", "available", (int) index, value,
                  s_nl_time (json_integer_value (time), when, sizeof when),
                  s_chosen (values, "available", value), NULL, NULL);
    }
    fputs ("</div></fieldset>", out);
    s_submit (out, "Antwoord versturen", NULL);
    fputs ("</section>", out);
}

char *
en_portal_page_offer (const en_portal_ctx_t *ctx, json_t *offer, const char *dossier,
                      json_t *values, json_t *errors)
{
    const char *id = en_json_str (offer, "id");
    const char *state = en_json_str (offer, "state") ?: "open";
    const char *answer = en_json_str (offer, "answer");
    const char *status = en_json_str (offer, "answer_status");
    bool refused = status && streq (status, "refused");
    bool can_answer = streq (state, "open") && (!answer || refused);
    bool accepted = answer && (streq (answer, "accept") || streq (answer, "advise")) && !refused;
    json_t *request = json_object_get (offer, "request");
    char title [128], action [160];
    snprintf (title, sizeof title, "Aanbod %s", id ? id : "");
    snprintf (action, sizeof action, "/aanbod/%s", id ? id : "");
    S_OPEN (out, buffer);
    s_begin (out, ctx, title, "aanbod");
    fputs ("<p class=\"crumbs\"><a href=\"/aanbod\">Aanbod</a> <span aria-hidden=\"true\">›</span></p><h1>", out);
    s_esc (out, en_word (s_offer_kinds, en_json_str (offer, "kind")));
    fputs (" <span class=\"code\">", out);
    s_esc (out, en_json_str (offer, "request_id"));
    fputs ("</span> ", out);
    en_html_urgency (out, en_json_str (request, "urgency"));
    fputs ("</h1>", out);
    static const char *order [] = { "reason", "text", "bericht", "soort", NULL };
    s_error_summary (out, errors, order);
    s_offer_state (out, ctx, offer, can_answer, accepted);
    s_offer_place (out, offer);
    fputs ("<section class=\"panel\"><h2>De vraag</h2>", out);
    s_summary_fields (out, request);
    fputs ("</section>", out);
    if (can_answer)
        s_offer_answer_forms (out, ctx, action, values, errors);
    if (accepted)
        s_offer_beraad (out, ctx, action, offer, values, errors);
    //  Advice is a message of the conversation (kind Advies); the form of
    //  old only without one (an offer from before conversations), or to
    //  show a refused advice's errors
    json_t *conversation = json_object_get (offer, "conversation");
    bool advise_form = json_array_size (json_object_get (conversation, "members")) == 0
                    || streq (en_json_str (values, "action") ?: "", "advise");
    if (accepted)
        s_offer_dossier (out, ctx, action, dossier, advise_form, values, errors);
    if (accepted)
        s_conversation (out, ctx, conversation, action, true, values, errors);
    return s_end (out, &buffer);
}

//  A date field's value from ms (yyyy-mm-dd), 0: empty
static void
s_date_value (json_t *values, const char *name, int64_t ms, int64_t now)
{
    if (json_object_get (values, name) || ms <= now)
        return;
    char day [16];
    json_object_set_new (values, name, json_string (en_time_fmt (ms, "%Y-%m-%d", day, sizeof day)));
}

//  An expert's form starts from the record (capacity, absence, tags and,
//  for the beheerder, role and contact); what the user typed wins. The
//  expert's own tags join the known ones even if nobody else has them.
//  Returns the values to show; *all the tags to offer. Caller owns both.
static json_t *
s_expert_shown (const en_portal_ctx_t *ctx, json_t *expert, json_t *tags, json_t *values, json_t **all)
{
    json_t *shown = values ? json_deep_copy (values) : json_object ();
    if (expert && !values) {
        char number [24];
        snprintf (number, sizeof number, "%lld", (long long) en_json_int (expert, "capacity", 0));
        json_object_set_new (shown, "capacity", json_string (number));
        s_date_value (shown, "absent_until", en_json_int (expert, "absent_until", 0), ctx->now);
        static const char *copied [] = { "expertise", "role", "email", "phone", NULL };
        for (int i = 0; copied [i]; i++)
            if (json_object_get (expert, copied [i]))
                json_object_set (shown, copied [i], json_object_get (expert, copied [i]));
        if (json_is_true (json_object_get (expert, "bovenregionaal")))
            json_object_set_new (shown, "bovenregionaal", json_string ("ja"));
    }
    *all = json_is_array (tags) ? json_deep_copy (tags) : json_array ();
    size_t index;
    json_t *item;
    json_array_foreach (json_object_get (expert, "expertise"), index, item) {
        bool known = false;
        size_t j;
        json_t *tag;
        json_array_foreach (*all, j, tag)
            if (json_is_string (item) && en_json_str (tag, "tag")
            &&  streq (en_json_str (tag, "tag"), json_string_value (item)))
                known = true;
        if (!known && json_is_string (item))
            json_array_append_new (*all, json_pack ("{s:O, s:b}", "tag", item, "available", 1));
    }
    return shown;
}

char *
en_portal_page_availability (const en_portal_ctx_t *ctx, json_t *expert, json_t *tags,
                             json_t *values, json_t *errors)
{
    static const char *order [] = { "capacity", "absent_until", "expertise", "expertise_anders", NULL };
    json_t *all = NULL;
    json_t *shown = s_expert_shown (ctx, expert, tags, values, &all);
    int64_t load = en_json_int (expert, "load", -1);
    char day [32];
    S_OPEN (out, buffer);
    s_begin (out, ctx, "Beschikbaarheid", "beschikbaarheid");
    fputs ("<h1>Uw beschikbaarheid</h1>", out);
    s_error_summary (out, errors, order);
    fputs ("<section class=\"panel\"><dl class=\"fields\">", out);
    s_dt (out, "Expert-id");
    s_esc (out, en_json_str (expert, "id"));
    fputs ("</dd>", out);
    s_dt (out, "Rol");
    s_esc (out, en_word (s_expert_roles, en_json_str (expert, "role")));
    if (json_is_true (json_object_get (expert, "bovenregionaal")))
        fputs (", bovenregionaal", out);
    fputs ("</dd>", out);
    if (load >= 0) {
        s_dt (out, "In behandeling");
        fprintf (out, "%lld</dd>", (long long) load);
    }
    s_dt (out, "Nu");
    int64_t absent = en_json_int (expert, "absent_until", 0);
    if (absent > ctx->now)
        fprintf (out, "afwezig tot en met %s</dd>", s_day (absent, day, sizeof day));
    else
        fputs ("aanwezig</dd>", out);
    fputs ("</dl></section><section class=\"panel\"><h2>Wijzigen</h2><p>Het netwerk biedt u alleen vragen aan"
           " als u aanwezig bent en ruimte hebt.</p>", out);
    s_form_open (out, ctx, "/beschikbaarheid", NULL, NULL, false);
    s_required_note (out);
    s_input (out, &(s_field_t) { "capacity", NULL, "Hoeveel zaken kunt u tegelijk aannemen? 0 tot en met 50.", true },
             "number", "min=\"0\" max=\"50\" inputmode=\"numeric\"", shown, errors);
    s_input (out, &(s_field_t) { "absent_until", NULL, "Leeg laten als u aanwezig bent.", false }, "date", NULL,
             shown, errors);
    s_expertise (out, "expertise", "Uw expertise", all, false, false, shown, errors);
    s_input (out, &(s_field_t) { "expertise_anders", NULL,
             "Expertise die hierboven niet staat, als korte labels gescheiden door komma's.", false },
             "text", "maxlength=\"200\" spellcheck=\"false\"", shown, errors);
    s_submit (out, "Opslaan", NULL);
    fputs ("</section>", out);
    json_decref (shown);
    json_decref (all);
    return s_end (out, &buffer);
}

//  --------------------------------------------------------------------
//  Home

static void
s_home (FILE *out, const en_portal_ctx_t *ctx, json_t *status, json_t *items)
{
    const char *role = ctx->role ?: "";
    bool connected = json_is_true (json_object_get (status, "connected"));
    fputs ("<div class=\"cards\">", out);
    if (streq (role, "medewerker")) {
        s_card (out, "Open verzoeken", (long long) en_json_int (status, "requests_open", 0),
                "naar de verzoeken", "/verzoeken", false);
        s_card (out, "Experts in de regio", (long long) en_json_int (status, "experts", 0), "gemeld bij de node",
                NULL, false);
    }
    else
    if (streq (role, "expert"))
        s_card (out, "Aanbod voor u", (long long) json_array_size (items), "naar het aanbod", "/aanbod",
                json_array_size (items) > 0);
    else {
        s_card (out, "Aanbod wacht op antwoord", (long long) en_json_int (status, "offers_waiting", 0),
                "bij experts van deze regio", NULL, false);
        s_card (out, "Berichten in de wachtrij", (long long) en_json_int (status, "outbox", 0),
                "nog naar de broker", NULL, en_json_int (status, "outbox", 0) > 0 && !connected);
        s_card (out, "Tegengehouden door privacycontrole",
                (long long) en_json_int (json_object_get (status, "pii_guard"), "refused", 0),
                "naar de privacycijfers", "/beheer/privacy", false);
        long long waiting = 0, failed = 0;
        size_t index;
        json_t *item;
        json_array_foreach (items, index, item) {
            const char *state = en_json_str (item, "state") ?: "";
            waiting += streq (state, "wacht");
            failed += streq (state, "mislukt");
        }
        s_card (out, "Meldingen mislukt", failed, "naar de meldingen", "/beheer/meldingen", failed > 0);
        s_card (out, "Meldingen wachten", waiting, "worden opnieuw geprobeerd", NULL, false);
    }
    fputs ("</div>", out);
    fprintf (out, "<p class=\"connection %s\"><span class=\"dot\" aria-hidden=\"true\"></span>%s</p>",
             connected ? "up" : "down",
             connected ? "Verbonden met het netwerk." : "Geen verbinding met de broker: berichten wachten veilig"
                                                        " op de node en gaan vanzelf zodra die er weer is.");
    if (streq (role, "medewerker")) {
        fputs ("<section class=\"panel\"><h2>Open verzoeken</h2>", out);
        s_requests_table (out, ctx, items);
        fputs ("</section>", out);
    }
    else
    if (streq (role, "expert")) {
        fputs ("<section class=\"panel\"><h2>Aanbod</h2>", out);
        s_inbox (out, ctx, items);
        fputs ("</section>", out);
    }
}

char *
en_portal_panel_home (const en_portal_ctx_t *ctx, json_t *status, json_t *items)
{
    S_OPEN (out, buffer);
    s_home (out, ctx, status, items);
    return en_text_close (out, &buffer);
}

char *
en_portal_page_home (const en_portal_ctx_t *ctx, json_t *status, json_t *items)
{
    S_OPEN (out, buffer);
    s_begin (out, ctx, "Start", "home");
    fputs ("<h1>Welkom", out);
    if (ctx->user) {
        fputs (", ", out);
        s_esc (out, ctx->user);
    }
    fputs ("</h1>", out);
    s_live_open (out, "home", NULL);
    s_home (out, ctx, status, items);
    fputs ("</div>", out);
    if (ctx->role && streq (ctx->role, "medewerker"))
        fputs ("<p class=\"buttons\"><a class=\"button\" href=\"/verzoeken/nieuw\">Nieuw consultatieverzoek</a>"
               " <a class=\"button secondary\" href=\"/zaken/nieuw\">Zaak registreren</a></p>", out);
    return s_end (out, &buffer);
}

//  --------------------------------------------------------------------
//  Beheerder

static const char *s_account_roles [] = { "medewerker", "expert", "beheerder", NULL };

char *
en_portal_page_accounts (const en_portal_ctx_t *ctx, json_t *users, json_t *experts,
                         json_t *values, json_t *errors)
{
    static const char *columns [] = {
        "Naam", "Rol", "Expert-id", "E-mail", "Telefoon", "Tweede factor", "Laatst ingelogd", NULL };
    static const char *order [] = { "name", "role", "expert", "email", "phone", "password", "password2", NULL };
    S_OPEN (out, buffer);
    s_begin (out, ctx, "Accounts", "accounts");
    fputs ("<h1>Accounts</h1>", out);
    s_error_summary (out, errors, order);
    fputs ("<section class=\"panel\">", out);
    if (json_array_size (users) == 0)
        fputs ("<p class=\"empty\">Nog geen accounts.</p>", out);
    else {
        s_table_head (out, "accounts", "Accounts van deze node", columns);
        size_t index;
        json_t *user;
        json_array_foreach (users, index, user) {
            char when [32];
            fputs ("<tr>", out);
            s_cell (out, "Naam", NULL, en_json_str (user, "name"));
            s_cell (out, "Rol", NULL, en_word (s_roles, en_json_str (user, "role")));
            s_cell (out, "Expert-id", NULL, en_json_str (user, "expert") ?: "-");
            s_cell (out, "E-mail", "break", en_json_str (user, "email") ?: "-");
            s_cell (out, "Telefoon", NULL, en_json_str (user, "phone") ?: "-");
            s_td (out, "Tweede factor", NULL);
            fputs (json_is_true (json_object_get (user, "totp")) ? "ingesteld" : "geen", out);
            fputs ("</td>", out);
            s_td (out, "Laatst ingelogd", NULL);
            fprintf (out, "%s</td></tr>", s_date (en_json_int (user, "last_login", 0), when, sizeof when));
        }
        fputs ("</tbody></table>", out);
    }
    fputs ("</section><section class=\"panel\"><h2>Account toevoegen</h2><p>Het wachtwoord, de herstelcode en"
           " de gegevens voor de authenticator-app ziet u één keer, na het toevoegen. Geef ze persoonlijk door.</p>",
           out);
    s_form_open (out, ctx, "/beheer/accounts", "add", NULL, false);
    s_required_note (out);
    s_input (out, &(s_field_t) { "name", "Naam (inlognaam)", "Kleine letters, cijfers en '-', bijvoorbeeld"
             " j-devries.", true }, "text", "autocomplete=\"off\" autocapitalize=\"none\" spellcheck=\"false\""
             " maxlength=\"63\"", values, errors);
    s_select (out, &(s_field_t) { "role", NULL, NULL, true }, s_account_roles, s_roles, NULL, values, errors);
    //  The expert id: from the experts this node knows
    s_select_rows (out, &(s_field_t) { "expert", NULL,
                   "Alleen bij de rol Expert: aan welke expert is het account gebonden?", false },
                   experts, "id", "role", s_expert_roles, "Geen (geen expert)", values, errors);
    s_input (out, &(s_field_t) { "email", NULL, "Voor meldingen van nieuw aanbod; blijft bij deze node.", false },
             "email", "autocomplete=\"off\" maxlength=\"200\" spellcheck=\"false\"", values, errors);
    s_input (out, &(s_field_t) { "phone", NULL, "Voor sms bij crisis, bijvoorbeeld +31612345678.", false },
             "tel", "autocomplete=\"off\" maxlength=\"20\"", values, errors);
    s_input (out, &(s_field_t) { "password", "Eerste wachtwoord", "Minstens 12 tekens.", true }, "password",
             "autocomplete=\"new-password\" minlength=\"12\"", values, errors);
    s_input (out, &(s_field_t) { "password2", NULL, NULL, true }, "password",
             "autocomplete=\"new-password\" minlength=\"12\"", values, errors);
    s_submit (out, "Account toevoegen", NULL);
    fputs ("</section>", out);
    return s_end (out, &buffer);
}

//  Base32 secrets and recovery codes in groups of four, easier to type
static void
s_grouped (FILE *out, const char *text)
{
    int n = 0;
    for (const char *c = text; c && *c; c++) {
        if (*c == ' ' || *c == '-')
            continue;
        if (n && n % 4 == 0)
            fputc (' ', out);
        char one [2] = { *c, 0 };
        s_esc (out, one);
        n++;
    }
}

char *
en_portal_page_account_created (const en_portal_ctx_t *ctx, json_t *result)
{
    S_OPEN (out, buffer);
    s_begin (out, ctx, "Account aangemaakt", "accounts");
    fputs ("<h1>Account aangemaakt</h1><div class=\"warning\" role=\"alert\"><p><strong>Eén keer zichtbaar.</strong>"
           " Deze gegevens staan nergens anders in leesbare vorm. Geef ze persoonlijk aan de eigenaar van het"
           " account en sluit daarna deze pagina.</p></div><section class=\"panel\"><dl class=\"fields\">", out);
    s_dt (out, "Naam");
    s_esc (out, en_json_str (result, "name"));
    fputs ("</dd>", out);
    s_dt (out, "Rol");
    s_esc (out, en_word (s_roles, en_json_str (result, "role")));
    fputs ("</dd>", out);
    if (en_json_str (result, "expert")) {
        s_dt (out, "Expert-id");
        s_esc (out, en_json_str (result, "expert"));
        fputs ("</dd>", out);
    }
    fputs ("</dl>", out);
    if (en_json_str (result, "recovery_code")) {
        fputs ("<h2>Herstelcode</h2><p>Hiermee kiest de expert een nieuw wachtwoord zonder de toegang tot de"
               " dossiers te verliezen. Bewaar hem op papier, niet bij het wachtwoord.</p>"
               "<p class=\"secret\" id=\"recovery-code\">", out);
        s_esc (out, en_json_str (result, "recovery_code"));
        fputs ("</p>", out);
    }
    if (en_json_str (result, "totp_secret")) {
        fputs ("<h2>Authenticator-app (tweede factor)</h2><p>Voeg in de app (bijvoorbeeld FreeOTP, Google of"
               " Microsoft Authenticator) handmatig een account toe met deze sleutel, tijdgebaseerd, 6 cijfers,"
               " 30 seconden:</p><p class=\"secret\" id=\"totp-secret\">", out);
        s_grouped (out, en_json_str (result, "totp_secret"));
        fputs ("</p>", out);
        const char *uri = en_json_str (result, "totp_uri");
        if (uri && strncmp (uri, "otpauth://", 10) == 0) {
            fputs ("<p>Of open deze link op de telefoon met de app:</p><p class=\"break\"><a id=\"totp-uri\" href=\"",
                   out);
            s_esc (out, en_json_str (result, "totp_uri"));
            fputs ("\">", out);
            s_esc (out, en_json_str (result, "totp_uri"));
            fputs ("</a></p>", out);
        }
    }
    fputs ("<p class=\"buttons\"><a class=\"button\" href=\"/beheer/accounts\">Klaar, terug naar de accounts</a>"
           "</p></section>", out);
    return s_end (out, &buffer);
}

char *
en_portal_page_experts (const en_portal_ctx_t *ctx, json_t *experts)
{
    static const char *columns [] = {
        "Expert-id", "Rol", "Expertise", "Capaciteit", "Aanwezig", "E-mail", "Telefoon", NULL };
    S_OPEN (out, buffer);
    s_begin (out, ctx, "Experts", "experts");
    fputs ("<div class=\"titlebar\"><h1>Experts van deze regio</h1>"
           "<a class=\"button\" href=\"/beheer/experts/nieuw\">Expert toevoegen</a></div>"
           "<section class=\"panel\"><p>Het netwerk kent experts alleen onder hun id; e-mailadres en telefoonnummer"
           " blijven bij deze node en dienen alleen voor meldingen.</p>", out);
    if (json_array_size (experts) == 0)
        fputs ("<p class=\"empty\">Nog geen experts.</p>", out);
    else {
        s_table_head (out, "experts", "Experts", columns);
        size_t index;
        json_t *expert;
        json_array_foreach (experts, index, expert) {
            char day [32];
            int64_t absent = en_json_int (expert, "absent_until", 0);
            fputs ("<tr>", out);
            s_td (out, "Expert-id", "code");
            s_link (out, "/beheer/experts/", en_json_str (expert, "id"), NULL);
            fputs ("</td>", out);
            s_td (out, "Rol", NULL);
            s_esc (out, en_word (s_expert_roles, en_json_str (expert, "role")));
            if (json_is_true (json_object_get (expert, "bovenregionaal")))
                fputs ("<div class=\"sub\">bovenregionaal</div>", out);
            fputs ("</td>", out);
            s_td (out, "Expertise", NULL);
            s_tags (out, json_object_get (expert, "expertise"));
            fputs ("</td>", out);
            s_td (out, "Capaciteit", "num");
            fprintf (out, "%lld</td>", (long long) en_json_int (expert, "capacity", 0));
            s_td (out, "Aanwezig", NULL);
            if (absent > ctx->now)
                fprintf (out, "afwezig t/m %s</td>", s_day (absent, day, sizeof day));
            else
                fputs ("ja</td>", out);
            s_cell (out, "E-mail", "break", en_json_str (expert, "email") ?: "-");
            s_cell (out, "Telefoon", NULL, en_json_str (expert, "phone") ?: "-");
            fputs ("</tr>", out);
        }
        fputs ("</tbody></table>", out);
    }
    fputs ("</section>", out);
    return s_end (out, &buffer);
}

char *
en_portal_page_expert_form (const en_portal_ctx_t *ctx, json_t *expert, json_t *tags,
                            json_t *values, json_t *errors)
{
    static const char *order [] = {
        "id", "role", "bovenregionaal", "capacity", "absent_until", "expertise", "expertise_anders",
        "email", "phone", NULL };
    const char *id = en_json_str (expert, "id");
    json_t *all = NULL;
    json_t *shown = s_expert_shown (ctx, expert, tags, values, &all);
    char action [128];
    snprintf (action, sizeof action, "/beheer/experts/%s", id ? id : "nieuw");
    S_OPEN (out, buffer);
    s_begin (out, ctx, id ? "Expert wijzigen" : "Expert toevoegen", "experts");
    fputs ("<p class=\"crumbs\"><a href=\"/beheer/experts\">Experts</a> <span aria-hidden=\"true\">›</span></p><h1>",
           out);
    if (id) {
        fputs ("Expert <span class=\"code\">", out);
        s_esc (out, id);
        fputs ("</span> wijzigen", out);
    }
    else
        fputs ("Expert toevoegen", out);
    fputs ("</h1>", out);
    s_error_summary (out, errors, order);
    fputs ("<section class=\"panel\"><p>Het netwerk kent de expert alleen onder het expert-id, met rol,"
           " expertise, capaciteit en afwezigheid. E-mailadres en telefoonnummer blijven bij deze node en dienen"
           " alleen voor meldingen van nieuw aanbod.</p>", out);
    s_form_open (out, ctx, action, NULL, NULL, false);
    s_required_note (out);
    if (!id)
        s_input (out, &(s_field_t) { "id", "Expert-id", "Pseudoniem, geen naam: kleine letters, cijfers en '-',"
                 " bijvoorbeeld se-tw-04.", true }, "text",
                 "autocomplete=\"off\" autocapitalize=\"none\" spellcheck=\"false\" maxlength=\"63\"", shown, errors);
    s_select (out, &(s_field_t) { "role", "Rol in het netwerk", NULL, true }, en_vocab_role, s_expert_roles, NULL,
              shown, errors);
    s_group_open (out, &(s_field_t) { "bovenregionaal", "Bovenregionaal",
                  "Een bovenregionale procesregisseur krijgt de escalaties.", false }, errors);
    s_option (out, "checkbox", "bovenregionaal", 0, "ja", "Bovenregionaal inzetbaar",
              s_chosen (shown, "bovenregionaal", "ja"), NULL, NULL);
    fputs ("</div></fieldset>", out);
    s_input (out, &(s_field_t) { "capacity", NULL, "Hoeveel zaken tegelijk? 0 tot en met 50.", true },
             "number", "min=\"0\" max=\"50\" inputmode=\"numeric\"", shown, errors);
    s_input (out, &(s_field_t) { "absent_until", NULL, "Leeg laten als de expert aanwezig is.", false }, "date",
             NULL, shown, errors);
    s_expertise (out, "expertise", NULL, all, false, false, shown, errors);
    s_input (out, &(s_field_t) { "expertise_anders", NULL,
             "Expertise die hierboven niet staat, als korte labels gescheiden door komma's.", false },
             "text", "maxlength=\"200\" spellcheck=\"false\"", shown, errors);
    s_input (out, &(s_field_t) { "email", NULL, "Voor meldingen; blijft bij deze node.", false },
             "email", "autocomplete=\"off\" maxlength=\"200\" spellcheck=\"false\"", shown, errors);
    s_input (out, &(s_field_t) { "phone", NULL, "Voor een sms bij crisis, bijvoorbeeld +31612345678.", false },
             "tel", "autocomplete=\"off\" maxlength=\"20\"", shown, errors);
    s_submit (out, id ? "Opslaan" : "Expert toevoegen", NULL);
    fputs ("</section>", out);
    json_decref (shown);
    json_decref (all);
    return s_end (out, &buffer);
}

static void
s_notifications (FILE *out, const en_portal_ctx_t *ctx, json_t *queue)
{
    static const char *columns [] = {
        "Soort", "Urgentie", "Aan", "Status", "Pogingen", "Volgende poging", "Laatste fout", "Aangemaakt", NULL };
    long long counts [3] = { 0, 0, 0 };
    size_t index;
    json_t *item;
    json_array_foreach (queue, index, item) {
        const char *state = en_json_str (item, "state") ?: "";
        counts [streq (state, "wacht") ? 0 : streq (state, "verzonden") ? 1 : 2]++;
    }
    fputs ("<div class=\"cards\">", out);
    s_card (out, "Wachten", counts [0], "worden opnieuw geprobeerd", NULL, false);
    s_card (out, "Verzonden", counts [1], "door de mailserver aangenomen", NULL, false);
    s_card (out, "Mislukt", counts [2], "opgegeven na alle pogingen", NULL, counts [2] > 0);
    fputs ("</div>", out);
    if (json_array_size (queue) == 0) {
        fputs ("<p class=\"empty\">Geen meldingen.</p>", out);
        return;
    }
    s_table_head (out, "notifications", "Meldingen en hun bezorging", columns);
    json_array_foreach (queue, index, item) {
        char when [32], next [32];
        const char *state = en_json_str (item, "state");
        fputs ("<tr>", out);
        s_cell (out, "Soort", NULL, en_word (s_notify_kinds, en_json_str (item, "kind")));
        s_td (out, "Urgentie", NULL);
        if (en_json_str (item, "urgency"))
            en_html_urgency (out, en_json_str (item, "urgency"));
        fputs ("</td>", out);
        s_td (out, "Aan", "break");
        s_esc (out, en_json_str (item, "recipient") ?: "-");
        if (en_json_str (item, "channel")) {
            fputs (" <span class=\"sub\">(", out);
            s_esc (out, en_json_str (item, "channel"));
            fputs (")</span>", out);
        }
        fputs ("</td>", out);
        s_td (out, "Status", NULL);
        en_html_badge (out, "state n-", state, s_notify_states);
        fputs ("</td>", out);
        s_td (out, "Pogingen", "num");
        fprintf (out, "%lld</td>", (long long) en_json_int (item, "attempts", 0));
        s_td (out, "Volgende poging", NULL);
        fprintf (out, "%s</td>", state && streq (state, "wacht")
                 ? s_date (en_json_int (item, "next_try", 0), next, sizeof next) : "-");
        s_cell (out, "Laatste fout", "break", en_json_str (item, "last_error") ?: "-");
        s_td (out, "Aangemaakt", NULL);
        fprintf (out, "%s</td></tr>", s_date (en_json_int (item, "created", 0), when, sizeof when));
    }
    fputs ("</tbody></table>", out);
}

char *
en_portal_panel_notifications (const en_portal_ctx_t *ctx, json_t *queue)
{
    return s_fragment (s_notifications, ctx, queue);
}

char *
en_portal_page_notifications (const en_portal_ctx_t *ctx, json_t *queue)
{
    return s_live_page (ctx, "Meldingen", "meldingen",
        "<h1>Meldingen</h1><p class=\"lead\">E-mail en sms aan experts en het expertteam. Een melding bevat"
        " geen zaakgegevens: alleen de soort, urgentie, deadline en een link naar dit portaal.</p>",
        "meldingen", s_notifications, queue, true);
}

static void
s_privacy (FILE *out, const en_portal_ctx_t *ctx, json_t *status)
{
    json_t *guard = json_object_get (status, "pii_guard");
    json_t *kinds = json_object_get (guard, "kinds");
    fputs ("<div class=\"cards\">", out);
    s_card (out, "Gecontroleerde berichten", (long long) en_json_int (guard, "checks", 0),
            "sinds de start van de node", NULL, false);
    s_card (out, "Tegengehouden", (long long) en_json_int (guard, "refused", 0),
            "niets daarvan is verstuurd", NULL, false);
    fputs ("</div>", out);
    static const char *columns [] = { "Soort gegeven", "Keer gevonden", NULL };
    s_table_head (out, "pii-kinds", "Tegengehouden per soort gegeven", columns);
    for (int i = 0; s_pii_kinds [i][0]; i++) {
        fputs ("<tr>", out);
        s_cell (out, "Soort gegeven", NULL, s_pii_kinds [i][1]);
        s_td (out, "Keer gevonden", "num");
        fprintf (out, "%lld</td></tr>", (long long) en_json_int (kinds, s_pii_kinds [i][0], 0));
    }
    fputs ("</tbody></table>", out);
}

char *
en_portal_panel_privacy (const en_portal_ctx_t *ctx, json_t *status)
{
    return s_fragment (s_privacy, ctx, status);
}

char *
en_portal_page_privacy (const en_portal_ctx_t *ctx, json_t *status)
{
    return s_live_page (ctx, "Privacy", "privacy",
        "<h1>Privacycontrole</h1><p class=\"lead\">Alles wat deze node naar het netwerk stuurt, gaat eerst"
        " door de privacycontrole. Vindt die een BSN, naam, geboortedatum, adres, postcode, telefoonnummer,"
        " e-mailadres of IBAN, dan wordt niets verstuurd en ziet de medewerker in welk veld het staat.</p>",
        "privacy", s_privacy, status, true);
}

char *
en_portal_page_log (const en_portal_ctx_t *ctx, const char *pseudonym, json_t *entries)
{
    static const char *columns [] = { "#", "Wanneer", "Wat", "Wie", "Namens", "Uitkomst", NULL };
    S_OPEN (out, buffer);
    s_begin (out, ctx, "Logboek", "logboek");
    fputs ("<h1>Wie zag het dossier? <span class=\"muted\">(logboek, NEN 7513)</span></h1>"
           "<section class=\"panel\"><p>Een cliënt mag vragen wie zijn gegevens heeft ingezien of gewijzigd."
           " Vul het pseudoniem van de zaak in.</p>"
           "<form method=\"get\" action=\"/beheer/logboek\" class=\"inline\"><div class=\"field\">"
           "<label for=\"zaak\">Zaak (pseudoniem)</label><input id=\"zaak\" name=\"zaak\" spellcheck=\"false\""
           " autocomplete=\"off\" value=\"", out);
    s_esc (out, pseudonym);
    fputs ("\"></div><div class=\"buttons\"><button type=\"submit\">Tonen</button></div></form></section>", out);
    if (pseudonym) {
        fputs ("<section class=\"panel\"><h2>Toegang tot zaak <span class=\"code\">", out);
        s_esc (out, pseudonym);
        fputs ("</span></h2>", out);
        if (json_array_size (entries) == 0)
            fputs ("<p class=\"empty\">Niemand heeft deze zaak ingezien of gewijzigd, of de zaak bestaat niet.</p>",
                   out);
        else {
            s_table_head (out, "log", "Logboek van de zaak", columns);
            size_t index;
            json_t *entry;
            json_array_foreach (entries, index, entry) {
                char when [32];
                fputs ("<tr>", out);
                s_td (out, "#", "num");
                fprintf (out, "%lld</td>", (long long) en_json_int (entry, "seq", 0));
                s_td (out, "Wanneer", "nowrap");
                fprintf (out, "%s</td>", s_date (en_json_int (entry, "at", 0), when, sizeof when));
                s_cell (out, "Wat", NULL, en_word (s_audit_events, en_json_str (entry, "event")));
                s_cell (out, "Wie", NULL, en_json_str (entry, "actor") ?: "-");
                s_cell (out, "Namens", NULL, en_json_str (entry, "on_behalf") ?: "-");
                s_cell (out, "Uitkomst", NULL, en_word (s_outcomes, en_json_str (entry, "outcome")));
                fputs ("</tr>", out);
            }
            fputs ("</tbody></table>", out);
        }
        fputs ("</section>", out);
    }
    return s_end (out, &buffer);
}

//  --------------------------------------------------------------------
//  Checks

static void
s_fail (json_t *errors, const char *field, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_fail (json_t *errors, const char *field, const char *format, ...)
{
    if (json_object_get (errors, field))
        return;                 //  the first problem of a field is enough
    char text [400];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    json_object_set_new (errors, field, json_string (text));
}

static const char *
s_text (json_t *values, const char *name)
{
    const char *value = s_value (values, name);
    return value ? value : "";
}

static bool
s_blank (const char *text)
{
    for (; text && *text; text++)
        if (!isspace ((unsigned char) *text))
            return false;
    return true;
}

//  A closed-vocabulary choice: required or empty, else one of list
static void
s_check_choice (json_t *errors, json_t *values, const char *name, const char **list, bool required)
{
    const char *value = s_text (values, name);
    const char *label = en_word (s_field_labels, name);
    if (!*value) {
        if (required)
            s_fail (errors, name, "Maak een keuze bij ‘%s’.", label);
        return;
    }
    if (!en_vocab_has (list, value))
        s_fail (errors, name, "Kies bij ‘%s’ een van de gegeven mogelijkheden.", label);
}

static void
s_check_multi (json_t *errors, json_t *values, const char *name, const char **list, size_t min, size_t max)
{
    json_t *value = json_object_get (values, name);
    size_t count = json_is_array (value) ? json_array_size (value) : json_is_string (value) ? 1 : 0;
    const char *label = en_word (s_field_labels, name);
    if (count < min)
        s_fail (errors, name, "Kies bij ‘%s’ minstens %zu.", label, min);
    else
    if (count > max)
        s_fail (errors, name, "Kies bij ‘%s’ hoogstens %zu.", label, max);
    for (size_t i = 0; i < count; i++) {
        const char *item = json_is_array (value) ? json_string_value (json_array_get (value, i))
                                                 : json_string_value (value);
        if (list ? !en_vocab_has (list, item) : !en_name_valid (item))
            s_fail (errors, name, "Kies bij ‘%s’ alleen uit de gegeven mogelijkheden.", label);
    }
}

static void
s_check_length (json_t *errors, json_t *values, const char *name, size_t max, bool required)
{
    const char *value = s_text (values, name);
    const char *label = en_word (s_field_labels, name);
    if (required && s_blank (value))
        s_fail (errors, name, "Vul ‘%s’ in.", label);
    else
    if (strlen (value) > max)
        s_fail (errors, name, "%s is te lang: hoogstens %zu tekens, nu %zu.", label, max, strlen (value));
}

//  Comma-separated tags ("a, b-c")
static void
s_check_tag_list (json_t *errors, json_t *values, const char *name)
{
    char *copy = strdup (s_text (values, name));
    char *save = NULL;
    for (char *part = strtok_r (copy, ",", &save); part; part = strtok_r (NULL, ",", &save)) {
        while (isspace ((unsigned char) *part))
            part++;
        char *end = part + strlen (part);
        while (end > part && isspace ((unsigned char) end [-1]))
            *--end = 0;
        if (*part && !en_name_valid (part)) {
            s_fail (errors, name, "%s: '%.40s' is geen label; gebruik kleine letters, cijfers en '-'.",
                    en_word (s_field_labels, name), part);
            break;
        }
    }
    free (copy);
}

static void
s_check_date (json_t *errors, json_t *values, const char *name)
{
    const char *value = s_text (values, name);
    int year, month, day;
    char rest;
    if (*value && (sscanf (value, "%4d-%2d-%2d%c", &year, &month, &day, &rest) != 3
               || month < 1 || month > 12 || day < 1 || day > 31 || year < 1900 || year > 2200))
        s_fail (errors, name, "%s: vul een datum in als dag-maand-jaar (bijvoorbeeld 31-12-2026).",
                en_word (s_field_labels, name));
}

static void
s_check_count (json_t *errors, json_t *values, const char *name, long min, long max, bool required)
{
    const char *value = s_text (values, name);
    const char *label = en_word (s_field_labels, name);
    char *end = NULL;
    long number = strtol (value, &end, 10);
    if (!*value) {
        if (required)
            s_fail (errors, name, "Vul ‘%s’ in.", label);
    }
    else
    if (*end || number < min || number > max)
        s_fail (errors, name, "%s moet een heel getal van %ld tot en met %ld zijn.", label, min, max);
}

static void
s_check_passwords (json_t *errors, json_t *values)
{
    const char *password = s_text (values, "password");
    if (strlen (password) < 12)
        s_fail (errors, "password", "Wachtwoord moet minstens 12 tekens hebben.");
    if (!streq (password, s_text (values, "password2")))
        s_fail (errors, "password2", "Wachtwoord (nogmaals) is niet gelijk aan het eerste wachtwoord.");
}

//  E-mail address and mobile number, both optional
static void
s_check_contact (json_t *errors, json_t *values)
{
    const char *email = s_text (values, "email");
    if (*email && (!strchr (email, '@') || strchr (email, ' ') || strlen (email) > 200))
        s_fail (errors, "email", "E-mailadres is niet geldig, bijvoorbeeld naam@organisatie.nl.");
    const char *phone = s_text (values, "phone");
    size_t digits = 0;
    for (const char *c = phone; *c; c++) {
        if (isdigit ((unsigned char) *c))
            digits++;
        else
        if (!strchr ("+ -", *c)) {
            digits = 0;
            break;
        }
    }
    if (*phone && (digits < 8 || digits > 15))
        s_fail (errors, "phone", "Mobiel nummer is niet geldig, bijvoorbeeld +31612345678.");
}

//  A chosen expertise tag nobody holds, without the "toch indienen"
static void
s_check_hiaat (json_t *errors, json_t *values, json_t *tags)
{
    if (s_chosen (values, "hiaat_ok", "ja"))
        return;
    json_t *chosen = json_object_get (values, "expertise");
    size_t index;
    json_t *item;
    json_array_foreach (chosen, index, item) {
        const char *tag = json_string_value (item);
        bool held = false;
        size_t j;
        json_t *known;
        json_array_foreach (tags, j, known)
            if (tag && en_json_str (known, "tag") && streq (en_json_str (known, "tag"), tag)
            &&  !json_is_false (json_object_get (known, "available")))
                held = true;
        if (tag && !held) {
            s_fail (errors, "expertise", "Gevraagde expertise: voor '%.40s' is nu niemand in het netwerk"
                    " beschikbaar. Kies een andere expertise, of vink 'toch indienen' aan (het verzoek wordt dan"
                    " waarschijnlijk een hiaat).", tag);
            return;
        }
    }
}

//  One checker per form: the error map gets a Dutch message per field
//  that is wrong
static void
s_check_request (json_t *errors, json_t *values, json_t *tags)
{
    const char *pseudonym = s_text (values, "case");
    if (*pseudonym && !en_vocab_pseudonym_valid (pseudonym))
        s_fail (errors, "case", "Zaak (pseudoniem): kies een geregistreerde zaak uit de lijst.");
    s_check_choice (errors, values, "urgency", en_vocab_urgency, true);
    s_check_choice (errors, values, "question_type", en_vocab_question_type, true);
    s_check_multi (errors, values, "expertise", NULL, 1, EN_MAX_TAGS);
    s_check_choice (errors, values, "age_band", en_vocab_age_band, true);
    s_check_multi (errors, values, "leefgebieden", en_vocab_leefgebied, 0, 8);
    s_check_multi (errors, values, "problematiek", NULL, 0, EN_MAX_TAGS);
    s_check_tag_list (errors, values, "problematiek_anders");
    s_check_choice (errors, values, "kader", en_vocab_kader, false);
    s_check_choice (errors, values, "situatie", en_vocab_situatie, false);
    s_check_multi (errors, values, "stuck_on", en_vocab_stuck_on, 0, 5);
    s_check_length (errors, values, "question", EN_MAX_QUESTION, false);
    s_check_length (errors, values, "dossier", EN_MAX_ADVICE, false);
    if (!json_object_get (errors, "expertise"))
        s_check_hiaat (errors, values, tags);
}

static void
s_check_case (json_t *errors, json_t *values, json_t *tags)
{
    if (s_blank (s_text (values, "client_id")))
        s_fail (errors, "client_id", "Vul het cliëntnummer in: daaruit maakt de node het pseudoniem.");
    s_check_length (errors, values, "client_id", 64, true);
    static const char *identity [] = { "name", "address", "postcode", "contact", "school", NULL };
    for (int i = 0; identity [i]; i++)
        s_check_length (errors, values, identity [i], 200, false);
    s_check_date (errors, values, "birth_date");
    s_check_choice (errors, values, "age_band", en_vocab_age_band, false);
    s_check_multi (errors, values, "leefgebieden", en_vocab_leefgebied, 0, 8);
    s_check_multi (errors, values, "problematiek", NULL, 0, EN_MAX_TAGS);
    s_check_tag_list (errors, values, "problematiek_anders");
    s_check_choice (errors, values, "kader", en_vocab_kader, false);
    s_check_choice (errors, values, "situatie", en_vocab_situatie, false);
}

static void
s_check_phase (json_t *errors, json_t *values, json_t *tags)
{
    s_check_choice (errors, values, "phase", en_vocab_phase, true);
    bool closing = streq (s_text (values, "phase"), "afgesloten");
    if (closing)
        s_check_choice (errors, values, "passende_hulp", s_yes_no, true);
    else
    if (*s_text (values, "passende_hulp"))
        s_fail (errors, "passende_hulp", "Passende hulp gerealiseerd: alleen invullen bij de fase Afgesloten.");
    for (int i = 0; s_zero_goals [i][0]; i++)
        s_check_count (errors, values, s_zero_goals [i][0], 0, 1000, false);
}

static void
s_check_decline (json_t *errors, json_t *values, json_t *tags)
{
    s_check_length (errors, values, "reason", 500, true);
}

//  An advice, or the team's reply to one
static void
s_check_advice_text (json_t *errors, json_t *values, json_t *tags)
{
    s_check_length (errors, values, "text", EN_MAX_ADVICE, true);
}

static void
s_check_message (json_t *errors, json_t *values, json_t *tags)
{
    s_check_length (errors, values, "bericht", EN_MAX_ADVICE, true);
    s_check_choice (errors, values, "soort", s_message_kinds, false);
}

static void
s_check_close (json_t *errors, json_t *values, json_t *tags)
{
    s_check_choice (errors, values, "passende_hulp", s_yes_no, true);
    s_check_length (errors, values, "outcome", 500, false);
}

static void
s_check_review (json_t *errors, json_t *values, json_t *tags)
{
    if (!*s_text (values, "review_date"))
        s_fail (errors, "review_date", "Kies de dag waarop het verzoek terugkomt in het expertteam.");
    else
        s_check_date (errors, values, "review_date");
}

static void
s_check_availability (json_t *errors, json_t *values, json_t *tags)
{
    s_check_count (errors, values, "capacity", 0, EN_MAX_CAPACITY, true);
    s_check_date (errors, values, "absent_until");
    s_check_multi (errors, values, "expertise", NULL, 0, 32);
    s_check_tag_list (errors, values, "expertise_anders");
}

static void
s_check_expert (json_t *errors, json_t *values, json_t *tags)
{
    const char *id = s_text (values, "id");
    if (json_object_get (values, "id") && !en_name_valid (id))
        s_fail (errors, "id", *id ? "Expert-id: gebruik kleine letters, cijfers en '-' (een pseudoniem, geen naam)."
                                  : "Vul het expert-id in.");
    s_check_choice (errors, values, "role", en_vocab_role, true);
    s_check_count (errors, values, "capacity", 0, EN_MAX_CAPACITY, true);
    s_check_date (errors, values, "absent_until");
    s_check_multi (errors, values, "expertise", NULL, 0, 32);
    s_check_tag_list (errors, values, "expertise_anders");
    s_check_contact (errors, values);
}

static void
s_check_account (json_t *errors, json_t *values, json_t *tags)
{
    const char *name = s_text (values, "name");
    if (!*name)
        s_fail (errors, "name", "Vul de naam (inlognaam) in.");
    else
    if (!en_name_valid (name))
        s_fail (errors, "name", "Naam (inlognaam): gebruik kleine letters, cijfers en '-'.");
    s_check_choice (errors, values, "role", s_account_roles, true);
    if (streq (s_text (values, "role"), "expert") && !*s_text (values, "expert"))
        s_fail (errors, "expert", "Kies bij de rol Expert het expert-id waaraan het account gebonden is.");
    if (!streq (s_text (values, "role"), "expert") && *s_text (values, "expert"))
        s_fail (errors, "expert", "Expert-id hoort alleen bij de rol Expert.");
    s_check_contact (errors, values);
    s_check_passwords (errors, values);
}

static void
s_check_recover (json_t *errors, json_t *values, json_t *tags)
{
    if (!*s_text (values, "name"))
        s_fail (errors, "name", "Vul uw naam (inlognaam) in.");
    if (s_blank (s_text (values, "recovery_code")))
        s_fail (errors, "recovery_code", "Vul de herstelcode in.");
    s_check_passwords (errors, values);
}

typedef void (s_check_fn) (json_t *errors, json_t *values, json_t *tags);

static const struct {
    const char *form;           //  en_portal_check's form name
    s_check_fn *check;          //  its checker
} s_checks [] = {
    { "request",        s_check_request },
    { "case",           s_check_case },
    { "phase",          s_check_phase },
    { "decline",        s_check_decline },
    { "advise",         s_check_advice_text },
    { "reply",          s_check_advice_text },
    { "message",        s_check_message },
    { "close",          s_check_close },
    { "review",         s_check_review },
    { "availability",   s_check_availability },
    { "expert",         s_check_expert },
    { "account",        s_check_account },
    { "recover",        s_check_recover },
    { NULL, NULL }
};

json_t *
en_portal_check (const char *form, json_t *values, json_t *tags)
{
    json_t *errors = json_object ();
    for (int i = 0; form && s_checks [i].form; i++)
        if (streq (s_checks [i].form, form))
            s_checks [i].check (errors, values, tags);
    return errors;
}

//  Refusals of the node that name no field of their own: a phrase in
//  the (English) refusal, the form field it belongs on ("": the summary
//  only) and the Dutch for it (%d: EN_MAX_ADVICE). Looked at in order.
typedef struct {
    const char *phrase;         //  found anywhere in the refusal (a prefix when it ends in "'")
    const char *field;          //  where the message goes
    const char *dutch;          //  what it says
} s_refusal_t;

//  Before the field-named ones (these may name a field too)
static const s_refusal_t s_refusals_first [] = {
    { "dossier over", "dossier", "Dossier is te groot: hoogstens %d tekens." },
    { "decline needs a reason", "reason", "Geef een reden voor het afwijzen (hoogstens 500 tekens)." },
    { "advice text must be", "text", "Vul het advies in (hoogstens %d tekens)." },
    { "no case '", "case", "Zaak (pseudoniem): deze zaak is niet geregistreerd bij deze node." },
    { "review date must be", "review_date", "Terug op ET: kies een dag in de toekomst, binnen een jaar." },
    { "a review date is set once", "", "Een datum terug op ET kiest u nadat een expert het verzoek heeft aangenomen." },
    { "times must be 1 to 5", "beraad_tijd_1", "Kies tijden in de toekomst, binnen een jaar, elk maar een keer." },
    { "times must be proposed", "available", "Kies alleen uit de voorgestelde tijden." },
    { "took place has a time in the past", "beraad_held", "Gehouden op: een tijd in het verleden." },
    { "field 'at' must be", "beraad_fix", "Vul een datum en tijd in." },
    { "has no beraad to answer", "", "Voor dit aanbod staan geen tijden voor een moreel beraad open." },
    { NULL, NULL, NULL } };

//  When no field is named
static const s_refusal_t s_refusals_last [] = {
    { "has not been accepted", "", "Dit aanbod is nog niet geaccepteerd." },
    { "already answered", "", "Dit aanbod is al beantwoord of niet meer open." },
    { "is expired", "", "Dit aanbod is al beantwoord of niet meer open." },
    { "is withdrawn", "", "Dit aanbod is al beantwoord of niet meer open." },
    { NULL, NULL, NULL } };

//  The first refusal of table that err matches, onto errors; false if none
static bool
s_refusal_known (json_t *errors, const s_refusal_t *table, const char *err)
{
    for (int i = 0; table [i].phrase; i++) {
        size_t len = strlen (table [i].phrase);
        bool prefix = table [i].phrase [len - 1] == '\'';
        if (prefix ? strncmp (err, table [i].phrase, len) == 0 : strstr (err, table [i].phrase) != NULL) {
            s_fail (errors, table [i].field, table [i].dutch, EN_MAX_ADVICE);
            return true;
        }
    }
    return false;
}

//  The form field a refusal names ("field 'request.expertise[0]' ..."
//  -> "expertise"; an advice's is "text"), into field; "" when none
static const char *
s_refusal_field (const char *err, char *field, size_t size)
{
    field [0] = 0;
    const char *start = strstr (err, "field '");
    if (start) {
        start += 7;
        const char *end = strchr (start, '\'');
        if (end && (size_t) (end - start) < size) {
            memcpy (field, start, end - start);
            field [end - start] = 0;
        }
    }
    //  A team's place (EXPN/3): "places[2].role" is the form's place2_role
    int place = 0;
    char part [16] = "";
    if (sscanf (field, "places[%d].%15[a-z]", &place, part) == 2 && place >= 1 && place <= EN_MAX_PLACES) {
        snprintf (field, size, "place%d_%s", place, part);
        return field;
    }
    char *bracket = strchr (field, '[');
    if (bracket)
        *bracket = 0;
    const char *name = strrchr (field, '.') ? strrchr (field, '.') + 1 : field;
    return streq (name, "advice") || streq (name, "text") ? "text" : name;
}

//  The Dutch label of a field, a team's place fields included
static const char *
s_label_for (const char *name, char *buffer, size_t size)
{
    int place = 0;
    char part [16] = "";
    if (sscanf (name, "place%d_%15[a-z]", &place, part) == 2) {
        snprintf (buffer, size, "%s (plaats %d)", streq (part, "role") ? "Rol" : "Expertise", place);
        return buffer;
    }
    return en_word (s_field_labels, name);
}

//  "field 'question' contains a BSN ...; nothing was sent" and the
//  vocabulary's "field 'x' ..." messages, in Dutch on their field.
json_t *
en_portal_errors_from_node (const char *err)
{
    json_t *errors = json_object ();
    if (!err)
        return errors;
    char field [64];
    const char *name = s_refusal_field (err, field, sizeof field);
    char place_label [48];
    const char *label = *name ? s_label_for (name, place_label, sizeof place_label) : "";
    const char *contains = strstr (err, " contains ");
    if (*name && contains) {
        //  The PII guard's: "... contains <kind>; nothing was sent"
        char kind [64] = "";
        const char *what = contains + 10;
        const char *stop = strchr (what, ';');
        size_t length = stop ? (size_t) (stop - what) : strlen (what);
        if (length < sizeof kind) {
            memcpy (kind, what, length);
            kind [length] = 0;
        }
        const char *dutch = en_word (s_pii_texts, kind);
        if (streq (dutch, kind))
            dutch = "persoonsgegevens";
        s_fail (errors, name, "%s bevat %s. Er is niets verstuurd: haal het weg, de samenvatting mag het kind"
                " niet herkenbaar maken.", label, dutch);
    }
    else
    if (s_refusal_known (errors, s_refusals_first, err))
        ;
    else
    if (*name && strstr (err, "is required"))
        s_fail (errors, name, "%s is verplicht.", label);
    else
    if (*name)
        s_fail (errors, name, "%s is niet goed ingevuld.", label);
    else
    if (!s_refusal_known (errors, s_refusals_last, err))
        s_fail (errors, "", "De node weigerde dit. Probeer het opnieuw of vraag de beheerder.");
    return errors;
}
