/*  en_portal_pages - the node portal's HTML, in Dutch, rendered from the
    JSON the node's control verbs return. Pure functions: JSON in, HTML
    out, no I/O, no store; en_portal.c (the server) calls the verbs,
    then one of these, and sends what it returns.

    Every function returns a malloc'd, NUL-terminated string the caller
    frees (NULL only when memory ran out). Functions named _page_ return
    a whole document (frame, navigation for ctx->role, main); _panel_
    return an HTML fragment for /api/panel/<name> - the same markup the
    page holds inside its live element, so the page and its refresh
    cannot drift apart.

    Conventions (as the broker's dashboard, broker/en_pages.c):
    * every value from JSON is HTML-escaped; JSON arguments are borrowed
      (never stolen) and may be NULL (rendered as empty);
    * no inline script or style: the pages are served with
      Content-Security-Policy default-src 'self'; CSS and JS are
      en_portal_css / en_portal_js, served as /static/portal.css and
      /static/portal.js;
    * forms post to the page's own URL with a hidden "csrf" field
      (ctx->csrf) and, where a page has several forms, a hidden
      "action"; they are novalidate: the server checks and answers with
      an error map {field: Dutch message}, which is shown on the field
      (aria-invalid, aria-describedby) and in a summary at the top, with
      the values the user typed kept ("values": {field: string or array
      of strings});
    * live parts carry data-panel="<name>" and aria-live="polite";
      /static/live.js (en_http's, shared with the dashboard) fetches
      /api/panel/<name> every 5 s and swaps the element's content. */
#ifndef EN_PORTAL_PAGES_H_INCLUDED
#define EN_PORTAL_PAGES_H_INCLUDED

#include "expertnet.h"

//  What every page knows about the request it answers. All borrowed.
typedef struct {
    const char *user;           //  logged-in account name (NULL: nobody)
    const char *role;           //  "medewerker", "expert" or "beheerder"
    const char *expert;         //  the expert id of an expert account
    const char *csrf;           //  the session's form token
    const char *node;           //  node name (title, header)
    const char *region;         //  jeugdregio of the node (header)
    const char *flash;          //  message about the last action, or NULL
    bool flash_error;           //  flash tells of a failure
    int64_t now;                //  ms since the epoch: ages and countdowns
    bool recover;               //  the server answers /herstel without a session:
                                //  the login page links it
} en_portal_ctx_t;

//  --------------------------------------------------------------------
//  Everyone

//  Login (en_http's login_page callback: fputs the result to its FILE).
//  Step one posts name, password, next to /login; step two (view->code)
//  posts only pending (hidden), code (TOTP, 6 digits) and next, as
//  en_http holds the password meanwhile. view->message (may be NULL) is
//  shown as an alert.
char *en_portal_page_login (const en_portal_ctx_t *ctx, const en_http_login_view_t *view);

//  New password with the recovery code (/herstel): posts name,
//  recovery_code, password, password2.
char *en_portal_page_recover (const en_portal_ctx_t *ctx, json_t *values, json_t *errors);

//  Home per role. status: the node's "status" verb; items: medewerker:
//  "requests" (open ones), expert: "inbox" of the expert, beheerder:
//  "notifications" (may be NULL).
char *en_portal_page_home (const en_portal_ctx_t *ctx, json_t *status, json_t *items);
char *en_portal_panel_home (const en_portal_ctx_t *ctx, json_t *status, json_t *items);

//  A message page (404, 403, "opgeslagen"): title and text, escaped.
char *en_portal_page_message (const en_portal_ctx_t *ctx, const char *title, const char *message);

//  /toegankelijkheid (linked from every page's footer; public): the
//  accessibility statement in short (docs/toegankelijkheid.md in full).
char *en_portal_page_accessibility (const en_portal_ctx_t *ctx);

//  --------------------------------------------------------------------
//  Medewerker

//  /zaken: the "cases" verb ([{pseudonym, created, updated, requests,
//  phases?}]).
char *en_portal_page_cases (const en_portal_ctx_t *ctx, json_t *cases);

//  /zaken/nieuw: register a client. Fields: client_id (required), name,
//  birth_date (yyyy-mm-dd), address, postcode, contact, school; summary:
//  age_band, leefgebieden[], problematiek[], problematiek_anders, kader,
//  situatie.
char *en_portal_page_case_new (const en_portal_ctx_t *ctx, json_t *values, json_t *errors);

//  After registering: the "case-add" result ({case, state}) - the
//  pseudonym to use from now on.
char *en_portal_page_case_registered (const en_portal_ctx_t *ctx, json_t *result);

//  /zaken/<pseudonym>: record {pseudonym, summary, phases {phase: ms},
//  outcome} (en_nstore_case_record) and the requests of the case. Form:
//  action=phase, phase, passende_hulp (ja|nee, at afgesloten), zero goals
//  gedwongen_afzonderingen, suicides, gesloten_plaatsingen, doorplaatsingen.
char *en_portal_page_case (const en_portal_ctx_t *ctx, json_t *record, json_t *requests,
                           json_t *values, json_t *errors);

//  /verzoeken/nieuw: the consultatieverzoek. tags: [{tag, available}]
//  (expertise the network holds; available false: nobody has it now);
//  cases: the "cases" verb, for the pseudonym select. Fields: case,
//  urgency, question_type, expertise[], age_band, leefgebieden[],
//  problematiek[], problematiek_anders, kader, situatie, stuck_on[],
//  question, dossier (text), dossier_file (upload; the form is
//  multipart/form-data), hiaat_ok ("ja": submit although a chosen tag
//  has nobody).
char *en_portal_page_request_new (const en_portal_ctx_t *ctx, json_t *tags, json_t *cases,
                                  json_t *values, json_t *errors);

//  /verzoeken: the "requests" verb; state: filter shown as active (NULL:
//  all).
char *en_portal_page_requests (const en_portal_ctx_t *ctx, json_t *requests, const char *state);
char *en_portal_panel_requests (const en_portal_ctx_t *ctx, json_t *requests);

//  /verzoeken/<id>: the "request" verb ({id, summary, state, expert,
//  advice, error, created, updated, events [{at, event, state, expert,
//  detail}]}). Forms: action=reply (text), action=close (passende_hulp
//  ja|nee, outcome text). Live panel "verzoek/<id>": state, advice,
//  timeline.
char *en_portal_page_request (const en_portal_ctx_t *ctx, json_t *request, json_t *values,
                              json_t *errors);
char *en_portal_panel_request (const en_portal_ctx_t *ctx, json_t *request);

//  --------------------------------------------------------------------
//  Expert

//  /aanbod: the "inbox" verb for ctx->expert ([{id, request_id, expert,
//  kind, deadline, request {summary}, state, received, answer,
//  answer_status, answer_error}]), with the full question and a
//  countdown to each deadline. Live panel "aanbod".
char *en_portal_page_inbox (const en_portal_ctx_t *ctx, json_t *offers);
char *en_portal_panel_inbox (const en_portal_ctx_t *ctx, json_t *offers);

//  /aanbod/<offer-id>: the "offer" verb; dossier: the opened dossier
//  text (NULL: none or not accepted). Forms: action=accept,
//  action=decline (reason, required), action=advise (text).
char *en_portal_page_offer (const en_portal_ctx_t *ctx, json_t *offer, const char *dossier,
                            json_t *values, json_t *errors);

//  /beschikbaarheid: the expert's record (from "experts"); tags: known
//  tags as for the request form. Fields: capacity, absent_until
//  (yyyy-mm-dd, empty: present), expertise[], expertise_anders.
char *en_portal_page_availability (const en_portal_ctx_t *ctx, json_t *expert, json_t *tags,
                                   json_t *values, json_t *errors);

//  --------------------------------------------------------------------
//  Beheerder

//  /beheer/accounts: the "users" verb and the add form (name, role,
//  expert (select from experts, role expert), email, phone, password,
//  password2); experts: the "experts" verb.
char *en_portal_page_accounts (const en_portal_ctx_t *ctx, json_t *users, json_t *experts,
                               json_t *values, json_t *errors);

//  After user-add: the "user-add" result, shown once (recovery code,
//  TOTP secret and otpauth URI).
char *en_portal_page_account_created (const en_portal_ctx_t *ctx, json_t *result);

//  /beheer/experts: the "experts" verb (with email/phone when the node
//  keeps them).
char *en_portal_page_experts (const en_portal_ctx_t *ctx, json_t *experts);

//  /beheer/experts/nieuw (expert NULL) and /beheer/experts/<id> (the
//  record from "experts"): add or change an expert, posting to the same
//  URL. Fields: id (new only), role, bovenregionaal ("ja"), capacity,
//  absent_until, expertise[], expertise_anders, email, phone -> verbs
//  expert-add / expert-update {expert: {...}}. tags as for the request
//  form. Without values the form starts from the record.
char *en_portal_page_expert_form (const en_portal_ctx_t *ctx, json_t *expert, json_t *tags,
                                  json_t *values, json_t *errors);

//  /beheer/meldingen: the "notifications" verb ([{id, kind, urgency,
//  recipient, channel, state wacht|verzonden|mislukt, attempts, next_try,
//  last_error, created, sent}]). Live panel "meldingen".
char *en_portal_page_notifications (const en_portal_ctx_t *ctx, json_t *queue);
char *en_portal_panel_notifications (const en_portal_ctx_t *ctx, json_t *queue);

//  /beheer/privacy: the "status" verb's pii_guard ({checks, refused,
//  kinds {kind: n}}). Live panel "privacy".
char *en_portal_page_privacy (const en_portal_ctx_t *ctx, json_t *status);
char *en_portal_panel_privacy (const en_portal_ctx_t *ctx, json_t *status);

//  /beheer/logboek?zaak=<pseudonym>: NEN 7513 entries about one client
//  ("audit-show" with case), in plain Dutch. pseudonym NULL: the form only.
char *en_portal_page_log (const en_portal_ctx_t *ctx, const char *pseudonym, json_t *entries);

//  --------------------------------------------------------------------
//  Helpers for the server

//  Turn a node verb's refusal into the error map the forms show, e.g.
//  "field 'question' contains a BSN (burgerservicenummer); nothing was
//  sent ..." -> {"question": "Vraag bevat een BSN ... Er is niets
//  verstuurd."}. A message that names no field goes under "" (shown in
//  the summary only). Caller owns the result.
json_t *en_portal_errors_from_node (const char *err);

//  Check a form's values before calling the node; returns an error map
//  (empty object: nothing wrong), Dutch, naming the field. form:
//  "request" (tags as for the page, for the hiaat warning), "case",
//  "phase", "decline", "advise", "reply", "close", "availability",
//  "expert", "account", "recover".
json_t *en_portal_check (const char *form, json_t *values, json_t *tags);

//  Countdown text for a deadline: "nog 9 min 12 s", "nog 3 u 5 min",
//  "nog 2 d 4 u", "verlopen". Into buf, returned.
const char *en_portal_countdown (int64_t left_ms, char *buf, size_t size);

//  Static assets (en_portal_assets.c): /static/portal.css, /static/portal.js
//  (/static/icon.svg and /static/live.js are en_http's, shared with the
//  dashboard)
extern const char en_portal_css [];
extern const char en_portal_js [];

#endif
