/*  en_http - the one web stack of expertnet: the broker's dashboard and
    the node's portal both run on it.

    What it does for an app: a libmicrohttpd daemon (one internal thread;
    plain HTTP or TLS from PEM files), request bodies up to a limit (413
    beyond), security headers on every response, the login form's POST
    with Argon2id verification in the web thread (a dummy hash for an
    unknown name, so timing does not tell names apart), an optional TOTP
    second factor (liboath, RFC 6238, 30 s, window +-1, each code taken
    once), lockout per name and per client address (429 with
    Retry-After), sessions (256 random bits in an HttpOnly
    SameSite=Strict cookie, Secure with TLS, absolute and idle lifetime,
    re-checked against the account every 30 s), CSRF tokens and the
    Origin check, logout, public paths, static assets (with the tab icon
    and the live-panel script both faces share), JSON replies and one
    control call to the daemon's loop over inproc (the answer, or NULL
    and an en_error_t).

    What the app supplies (en_http_app_t): its route dispatcher, the
    account lookup (name -> pwhash, role, TOTP secret, extra), the login
    form's HTML, and optional hooks: bearer tokens, the login hook that
    sees the plaintext password once (and may attach a secret to the
    session: held in sodium_malloc'd memory, wiped at logout or expiry),
    and login events for an access log.

    Threads: every callback runs in the web thread. Everything an app
    reaches through an en_http_request_t is valid during the callback
    only. The daemon's own thread calls only new and destroy.

    Config (section given to en_http_new, e.g. "web"): address (HOST:PORT
    or [IPV6]:PORT), session (8h), idle (30m), attempts (5), lockout
    (60s), secure_cookie (false; true behind a TLS proxy), tls_cert and
    tls_key (PEM paths: serve HTTPS directly, cookies get Secure),
    trusted_proxy (address of a reverse proxy whose X-Forwarded-For is
    believed for the client address; unset: never believed), max_body
    (request body limit in bytes, 65536; larger: 413). */
#ifndef EN_HTTP_H_INCLUDED
#define EN_HTTP_H_INCLUDED

#include "expertnet.h"
#include <stdio.h>
#include "en_text.h"

typedef struct _en_http_t en_http_t;
typedef struct _en_http_request_t en_http_request_t;

//  Handler results are libmicrohttpd's: EN_HTTP_YES (queued) or
//  EN_HTTP_NO (drop the connection). Every en_http_reply_* returns one.
#define EN_HTTP_YES 1
#define EN_HTTP_NO  0

//  What the login form shows
typedef struct {
    const char *message;        //  Dutch, above the form, or NULL
    const char *next;           //  where to go after login (safe local path)
    const char *name;           //  pre-fills the name field, or NULL
    bool code;                  //  second step: show only the TOTP code field
    const char *pending;        //  second step: hidden field "pending" (token)
} en_http_login_view_t;

typedef struct {
    //  Name in logs ("dashboard", "portal")
    const char *log_name;
    //  Where logout is POSTed (with field csrf): "/logout", "/uitloggen"
    const char *logout_path;
    //  Address when the config has none (e.g. "127.0.0.1:8080"), or NULL
    const char *default_address;
    //  Body limit in bytes when the config has no max_body (0: 65536)
    size_t max_body;
    //  Key of the name in the JSON login answer {<key>, role, csrf}
    //  (NULL: "name"; the dashboard's API says "operator")
    const char *name_key;

    //  Route a logged-in request (and any path not handled by en_http).
    //  Reply with en_http_reply_* and return its result.
    int (*dispatch) (en_http_request_t *req, void *app);

    //  Look an account up: a JSON object {pwhash, role, totp_secret
    //  (base32) or null, totp_required bool, disabled bool, expert (any
    //  extra, optional)}, caller (en_http) owns it; or NULL: with error
    //  left clear (code 0) when there is no such account, set when it
    //  could not ask (daemon busy). Used at login and every 30 s per
    //  session (a changed pwhash, gone or disabled: session ends).
    json_t *(*account) (en_http_t *http, void *app, const char *name, en_error_t *error);

    //  Write the login page (a whole HTML document).
    void (*login_page) (FILE *out, void *app, const en_http_login_view_t *view);

    //  Optional. A Bearer token's BLAKE2b-256 hash (hex) -> the principal:
    //  0 with *name and *role (strdup'd, en_http frees), else -1.
    int (*token_check) (en_http_t *http, void *app, const char *hash, char **name, char **role);

    //  Optional. Called once after password (and TOTP) succeeded, before
    //  the session is handed out, with the plaintext password; may call
    //  en_http_request_set_secret. Return -1 to refuse the login (the
    //  user sees "Inloggen is nu niet mogelijk.").
    int (*on_login) (en_http_request_t *req, void *app, json_t *account, const char *password);

    //  Optional. Every login outcome: "ok", "failed", "locked" (name is
    //  NULL when what was typed is not a valid name).
    void (*login_event) (en_http_t *http, void *app, const char *name, const char *outcome,
                         const char *address);
} en_http_app_t;

//  Start serving as configured in section (e.g. "web") of config. The
//  control endpoint is the daemon loop's inproc ROUTER (en_http_call).
//  app is copied; app_arg is passed to every callback. NULL with error
//  set when the address or TLS files are bad or the port cannot be bound.
en_http_t *en_http_new (zconfig_t *config, const char *section, const char *control_endpoint,
                        const en_http_app_t *app, void *app_arg, en_error_t *error);

//  Stop (joins the web thread), wipe and free every session. Safe twice.
void en_http_destroy (en_http_t **self_p);

//  Serve a static asset at path (GET only, public). body is borrowed and
//  must outlive self (a string constant). Call before traffic arrives
//  (right after en_http_new).
void en_http_static (en_http_t *self, const char *path, const char *type, const char *body);

//  Let path (exact) reach the app's dispatch without a login (the
//  request's user is then NULL, or the session's when there is one): a
//  page everyone may read, or a form before login (password recovery).
//  A public POST still passes the Origin check; it has no CSRF token
//  unless a session exists. Call before traffic arrives.
void en_http_public (en_http_t *self, const char *path);

//  What every web face serves itself (en_http_new registers both): the
//  tab icon at /static/icon.svg and the live-panel script at
//  /static/live.js. The script re-fetches each element with data-src
//  (a URL) or data-panel (/api/panel/<name>) every data-every ms (5000
//  when not given) and replaces its content when it changed (ignoring
//  spans of class "tick"); each poll's outcome reaches the page's own
//  script as a bubbling "en-live" event, detail {ok, changed}.
extern const char en_http_live_js [];

//  "https" or "http", for the log line and links
const char *en_http_scheme (en_http_t *self);

//  Call a verb on the daemon loop (args consumed, may be NULL). Its
//  answer (caller owns), or NULL with error set: the daemon's refusal
//  (its code and reason), or EN_ERR_NO_ANSWER (temporary) when it did
//  not answer in time. Web thread only.
json_t *en_http_call (en_http_t *self, const char *verb, json_t *args, en_error_t *error);

//  Whether error is a call the daemon loop did not answer
bool en_http_unanswered (const en_error_t *error);

//  Counters, web thread only (for /metrics): open sessions; logins by
//  outcome 0 ok, 1 failed, 2 locked; responses by status class 1..5.
size_t en_http_sessions (en_http_t *self);
uint64_t en_http_logins (en_http_t *self, int outcome);
uint64_t en_http_responses (en_http_t *self, int status_class);

//  -------------------------------------------------------------------------
//  The request being answered (borrowed strings; valid in the callback)

en_http_t *en_http_request_http (en_http_request_t *req);
void *en_http_request_app (en_http_request_t *req);               //  app_arg of en_http_new
const char *en_http_request_path (en_http_request_t *req);        //  no query
bool en_http_request_post (en_http_request_t *req);               //  else GET/HEAD
const char *en_http_request_query (en_http_request_t *req, const char *name);
const char *en_http_request_header (en_http_request_t *req, const char *name);
const char *en_http_request_address (en_http_request_t *req);     //  client address
bool en_http_request_is_json (en_http_request_t *req);            //  Content-Type JSON

//  Who: the logged-in principal's name, role and the account's "expert"
//  (NULL if none); csrf is the session's form token (NULL when logged in
//  by Bearer token, which needs none); via_session false for a token.
const char *en_http_request_user (en_http_request_t *req);
const char *en_http_request_role (en_http_request_t *req);
const char *en_http_request_extra (en_http_request_t *req);
const char *en_http_request_csrf (en_http_request_t *req);
bool en_http_request_via_session (en_http_request_t *req);

//  In on_login: the TOTP time step of the code this login used (for a
//  replay check that survives restarts, e.g. the node's login-event),
//  or -1 when the login had no second factor.
int64_t en_http_request_totp_step (en_http_request_t *req);

//  The session's app secret (borrowed, NULL if none) and its size; set
//  copies size bytes into sodium_malloc'd memory (replacing any earlier
//  one, which is wiped). Set works in on_login and in a session request.
const void *en_http_request_secret (en_http_request_t *req, size_t *size);
int en_http_request_set_secret (en_http_request_t *req, const void *secret, size_t size);

//  The body as a JSON object (JSON body) or the named fields of a form
//  (application/x-www-form-urlencoded or multipart/form-data, where a
//  file's content is the field's value, as text): a name ending in "[]"
//  (e.g. "expertise[]", sent as "expertise") gives a JSON array of every
//  value sent, any other name a JSON string (the first). Values that are
//  not UTF-8 are left out. Caller owns; NULL when a JSON body does not parse.
json_t *en_http_request_fields (en_http_request_t *req, const char **names);

//  The same for a form body of Content-Type type (NULL: urlencoded), as a
//  pure function of its bytes (what the fuzz harness drives). Caller owns.
json_t *en_http_fields_parse (const char *type, const char *data, size_t size, const char **names);
//  The raw body (borrowed) and its size (0 for none)
const char *en_http_request_body (en_http_request_t *req, size_t *size);

//  A session's write must carry its CSRF token (form_token, or header
//  X-CSRF-Token when form_token is NULL); a token login needs none.
bool en_http_request_csrf_ok (en_http_request_t *req, const char *form_token);

//  End this request's session (logout from app code); 0 or -1 if none.
int en_http_request_logout (en_http_request_t *req);

//  -------------------------------------------------------------------------
//  Replies (each queues the response with the security headers)

//  body is malloc'd and consumed
int en_http_reply (en_http_request_t *req, unsigned int status, const char *type, char *body, size_t size);
//  With one extra header (e.g. Retry-After, Content-Disposition)
int en_http_reply_with (en_http_request_t *req, unsigned int status, const char *type, char *body,
                        size_t size, const char *header, const char *value);
//  JSON (consumed), and {"error": message, "code": status}
int en_http_reply_json (en_http_request_t *req, unsigned int status, json_t *json);
int en_http_reply_error (en_http_request_t *req, unsigned int status, const char *message);
//  303 See Other to a local path
int en_http_redirect (en_http_request_t *req, const char *location);
//  A daemon answer passed on (answer consumed, as en_http_call returned
//  it): 200 with it, else {"error": reason, "code": code} with the
//  error's code (502 when the daemon did not answer)
int en_http_reply_answer (en_http_request_t *req, json_t *answer, const en_error_t *error);

//  Close out, an HTML page written through en_text_open (text), and
//  reply with it as text/html (500 when writing it failed)
int en_http_reply_html (en_http_request_t *req, unsigned int status, FILE *out, en_text_t *text);

//  A local path to go to after login: next if it is one, else "/"
const char *en_http_safe_next (const char *next);

#endif
