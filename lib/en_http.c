/*  en_http - the one web stack (see en_http.h).

    Threads. libmicrohttpd runs one internal thread that accepts, reads
    and answers every connection; all state below the configuration (the
    DEALER to the daemon loop, sessions, pending second steps, failed-login
    counters, counters) is touched by that thread only, so it needs no
    lock. The daemon's own thread calls only new and destroy.

    The daemon loop. An app asks it over one inproc DEALER, one request
    at a time (en_http_call). If it does not answer in time the DEALER is
    dropped and a new one made, so a late answer can never be taken for
    the next question's.

    Authentication. Everything but /login, the static assets and the
    app's public paths needs a session cookie or, when the app takes
    them, a Bearer token (sent to
    the app only as its BLAKE2b hash). Without one an API call gets a JSON
    401, a page 401 and the login form: never data. Passwords are verified
    here, in the web thread, with crypto_pwhash_str_verify against the
    hash the app's account lookup returns (so the daemon loop never spends
    an Argon2 computation on a login); an unknown name is verified against
    a dummy hash so it takes as long. An account with a TOTP secret (or
    one whose role requires it) logs in in two steps: after the password,
    a pending entry (random token, 5 minutes, 5 tries) holds the name and
    the password in sodium_malloc'd memory until the code is checked
    (en_totp: liboath, RFC 6238, 30 s steps, window +-1; each code is
    taken once per name here, and the app may check its step against a
    record that survives restarts), so the login hook still sees the
    password once. Failed logins (password or code) count per name and
    per client address; after `attempts` failures in a row (15
    minutes apart at most) that name or address is locked for `lockout`,
    doubling on each further failure up to 16x, answered 429 with
    Retry-After, and logged.

    Sessions are 256 random bits, in an HttpOnly, SameSite=Strict cookie
    (Secure with TLS or secure_cookie), with an absolute and an idle
    lifetime; every 30 s a session is checked against its account (gone,
    disabled, role or password changed: the session ends). A session may
    hold one app secret (the portal: an expert's unwrapped key), kept in
    sodium_malloc'd memory and freed with sodium_free (which wipes it) at
    logout, expiry or shutdown. Expired sessions are swept at most 10 s
    after they expire, when a request comes in.

    Forms and cookie-authenticated API writes carry the session's CSRF
    token (the app checks it with en_http_request_csrf_ok), and any POST
    whose Origin is another site is refused here, before the app sees it.

    Responses carry Content-Security-Policy default-src 'self' (no inline
    script or style anywhere), X-Frame-Options DENY, nosniff, Cache-Control
    no-store and Referrer-Policy same-origin (with no-referrer, browsers
    send "Origin: null" on our own forms, which the Origin check refuses).

    Reverse proxies. X-Forwarded-For is believed only from the address in
    trusted_proxy; the Origin check compares with the Host header, which
    the proxy must pass on (nginx: proxy_set_header Host $host).
*/
#include "expertnet.h"
#include <microhttpd.h>
#include <sodium.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#define MAX_BODY            "65536"         //  request body limit (bytes), default
#define CALL_TIMEOUT_MS     5000            //  daemon loop's answer
#define SESSION_CHECK_MS    30000           //  re-check a session's account
#define SWEEP_MS            10000           //  drop expired sessions this often
#define MAX_SESSIONS        1000
#define MAX_PENDING         1000
#define PENDING_MS          (5 * 60 * 1000) //  time to type the TOTP code
#define PENDING_TRIES       5
#define MAX_FAILURE_KEYS    10000
#define FAILURE_MEMORY_MS   (15 * 60 * 1000)        //  failures further apart start over
#define TOKEN_HEX           64

typedef struct {
    char *name;                 //  who logged in
    char *role;                 //  their role (account's "role"; "" if none)
    char *extra;                //  account's "expert", or NULL
    char csrf [33];             //  form token of this session
    int64_t created;            //  ms, for the absolute lifetime
    int64_t last_used;          //  ms, for the idle lifetime
    int64_t checked;            //  ms of the last check with the account
    unsigned char fingerprint [16];     //  hash of the password hash at login
    void *secret;               //  app secret (sodium_malloc), or NULL
    size_t secret_size;         //  its size
} s_session_t;

//  Password right, TOTP code still to come
typedef struct {
    char *name;                 //  who
    char *password;             //  sodium_malloc'd, for the login hook
    size_t password_size;       //  its length
    int64_t expires;            //  ms
    int tries;                  //  wrong codes so far
} s_pending_t;

typedef struct {
    int failures;               //  failed logins in a row
    int64_t last;               //  ms of the last failure
    int64_t locked_until;       //  ms; 0 = not locked
} s_failure_t;

typedef struct {
    char *data;                 //  request body so far
    size_t size;                //  its length
    bool too_large;             //  over max_body: refused with 413
} s_upload_t;

typedef struct {
    const char *type;           //  Content-Type
    const char *body;           //  borrowed, outlives the server
} s_asset_t;

struct _en_http_t {
    struct MHD_Daemon *daemon;  //  libmicrohttpd, with its thread
    en_http_app_t app;          //  the app's callbacks
    void *app_arg;              //  passed to each
    char *address;              //  where it listens, as configured
    char *control;              //  the daemon loop's control endpoint
    int64_t session_ms;         //  absolute session lifetime
    int64_t idle_ms;            //  idle session lifetime
    int64_t lockout_ms;         //  first lock after too many failures
    int attempts;               //  failures before a lock
    size_t max_body;            //  request body limit, bytes
    bool tls;                   //  serving HTTPS directly
    bool secure_cookie;         //  add Secure (TLS here or at a proxy)
    char *trusted_proxy;        //  its X-Forwarded-For is believed, or NULL
    char *tls_cert;             //  PEM text, kept while the daemon runs
    char *tls_key;              //  PEM text (wiped at destroy)
    zhashx_t *assets;           //  path -> s_asset_t
    zhashx_t *public;           //  paths the app serves without a login
    //  Web thread only:
    zsock_t *dealer;            //  to the daemon loop, made on first use
    zhashx_t *sessions;         //  session token (hex) -> s_session_t
    zhashx_t *pending;          //  pending token (hex) -> s_pending_t
    zhashx_t *failures;         //  "name:X" / "addr:Y" -> s_failure_t
    zhashx_t *totp_used;        //  name -> int64_t: last TOTP time step taken
    int64_t swept;              //  ms of the last sweep of expired sessions
    char *dummy_hash;           //  crypto_pwhash string for unknown names
    uint64_t logins [3];        //  ok, failed, locked (refused unchecked)
    uint64_t responses [6];     //  by status class 1xx..5xx (index 1..5)
};

//  One HTTP request being answered
struct _en_http_request_t {
    en_http_t *http;
    struct MHD_Connection *conn;
    const char *url;            //  path (no query)
    bool post;                  //  POST (else GET or HEAD)
    s_upload_t *upload;         //  body of a POST
    char addr [INET6_ADDRSTRLEN];       //  client address
    s_session_t *session;       //  cookie session (borrowed), or NULL
    char session_token [TOKEN_HEX + 1]; //  its token
    const char *user;           //  who: session's or token's principal
    const char *role;           //  their role
    char *token_user;           //  owned name when logged in by token
    char *token_role;           //  owned role when logged in by token
    s_session_t *login_session; //  being made, during on_login
    int64_t totp_step;          //  TOTP time step of this login's code, or -1
};

static void
s_session_free (s_session_t *session)
{
    free (session->name);
    free (session->role);
    free (session->extra);
    if (session->secret)
        sodium_free (session->secret);      //  wipes it
    sodium_memzero (session, sizeof *session);
    free (session);
}

static void
s_session_destroy (void **item)
{
    s_session_free ((s_session_t *) *item);
    *item = NULL;
}

static void
s_pending_destroy (void **item)
{
    s_pending_t *pending = (s_pending_t *) *item;
    free (pending->name);
    if (pending->password)
        sodium_free (pending->password);
    free (pending);
    *item = NULL;
}

//  -------------------------------------------------------------------------
//  Talking to the daemon loop

static void
s_drop_dealer (en_http_t *self)
{
    zsock_destroy (&self->dealer);
}

//  The daemon loop did not answer (in time, or at all): NULL, and the
//  error says so
static json_t *
s_no_answer (en_error_t *error)
{
    en_error_set (error, EN_ERR_NO_ANSWER, "the daemon did not answer");
    if (error)
        error->temporary = true;
    return NULL;
}

json_t *
en_http_call (en_http_t *self, const char *verb, json_t *args, en_error_t *error)
{
    en_error_clear (error);
    char *text = args ? json_dumps (args, JSON_COMPACT) : strdup ("{}");
    json_decref (args);
    if (!self->dealer) {
        self->dealer = zsock_new (ZMQ_DEALER);
        zsock_set_linger (self->dealer, 0);
        zsock_set_sndtimeo (self->dealer, CALL_TIMEOUT_MS);
        if (zsock_connect (self->dealer, "%s", self->control) < 0) {
            s_drop_dealer (self);
            free (text);
            return s_no_answer (error);
        }
    }
    int rc = zstr_sendx (self->dealer, verb, text, NULL);
    sodium_memzero (text, strlen (text));       //  may hold a password
    free (text);
    if (rc) {
        s_drop_dealer (self);
        return s_no_answer (error);
    }
    //  Wait in slices, so a daemon that is stopping is not waited for
    zmq_pollitem_t item = { zsock_resolve (self->dealer), 0, ZMQ_POLLIN, 0 };
    int64_t until = en_now_ms () + CALL_TIMEOUT_MS;
    while (true) {
        if (zmq_poll (&item, 1, 100) > 0)
            break;
        if (zsys_interrupted || en_now_ms () >= until) {
            zsys_warning ("%s: no answer to '%s' in time", self->app.log_name, verb);
            s_drop_dealer (self);
            return s_no_answer (error);
        }
    }
    char *status = NULL, *reply = NULL;
    if (zstr_recvx (self->dealer, &status, &reply, NULL) != 2) {
        zstr_free (&status);
        zstr_free (&reply);
        s_drop_dealer (self);
        return s_no_answer (error);
    }
    json_t *answer = json_loads (reply, JSON_DECODE_ANY, NULL);
    bool ok = streq (status, "ok");
    zstr_free (&status);
    zstr_free (&reply);
    if (!answer)
        return s_no_answer (error);
    if (!ok) {
        //  A refusal: {"error": reason, "code": code} (en_control_reply)
        int code = (int) en_json_int (answer, "code", EN_ERR_INTERNAL);
        en_error_set (error, code ? code : EN_ERR_INTERNAL, "%s", en_json_str (answer, "error") ?: "refused");
        json_decref (answer);
        return NULL;
    }
    return answer;
}

bool
en_http_unanswered (const en_error_t *error)
{
    return error && error->code == EN_ERR_NO_ANSWER;
}

//  -------------------------------------------------------------------------
//  Responses

static struct MHD_Response *
s_response (char *body, size_t size, const char *type)
{
    struct MHD_Response *response = MHD_create_response_from_buffer (size, body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header (response, "Content-Type", type);
    MHD_add_response_header (response, "Content-Security-Policy",
                             "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    MHD_add_response_header (response, "X-Frame-Options", "DENY");
    MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header (response, "Referrer-Policy", "same-origin");
    MHD_add_response_header (response, "Cache-Control", "no-store");
    return response;
}

static int
s_queue (en_http_request_t *req, unsigned int status, struct MHD_Response *response)
{
    if (status / 100 < 6)
        req->http->responses [status / 100]++;
    enum MHD_Result rc = MHD_queue_response (req->conn, status, response);
    MHD_destroy_response (response);
    return rc == MHD_YES ? EN_HTTP_YES : EN_HTTP_NO;
}

int
en_http_reply_with (en_http_request_t *req, unsigned int status, const char *type, char *body,
                    size_t size, const char *header, const char *value)
{
    struct MHD_Response *response = s_response (body, size, type);
    if (header && value)
        MHD_add_response_header (response, header, value);
    return s_queue (req, status, response);
}

int
en_http_reply (en_http_request_t *req, unsigned int status, const char *type, char *body, size_t size)
{
    return en_http_reply_with (req, status, type, body, size, NULL, NULL);
}

int
en_http_reply_json (en_http_request_t *req, unsigned int status, json_t *json)
{
    char *text = json_dumps (json ? json : json_null (), JSON_INDENT (1) | JSON_ENCODE_ANY);
    json_decref (json);
    return en_http_reply (req, status, "application/json; charset=utf-8", text, strlen (text));
}

int
en_http_reply_error (en_http_request_t *req, unsigned int status, const char *message)
{
    return en_http_reply_json (req, status, json_pack ("{s:s, s:i}", "error", message, "code", (int) status));
}

static int
s_redirect_cookie (en_http_request_t *req, const char *location, const char *cookie)
{
    struct MHD_Response *response = s_response (strdup (""), 0, "text/plain; charset=utf-8");
    MHD_add_response_header (response, "Location", location);
    if (cookie)
        MHD_add_response_header (response, "Set-Cookie", cookie);
    return s_queue (req, MHD_HTTP_SEE_OTHER, response);
}

int
en_http_redirect (en_http_request_t *req, const char *location)
{
    return s_redirect_cookie (req, location, NULL);
}

int
en_http_reply_answer (en_http_request_t *req, json_t *answer, const en_error_t *error)
{
    if (answer)
        return en_http_reply_json (req, MHD_HTTP_OK, answer);
    assert (error);
    unsigned int status = error->code >= 400 && error->code < 600 ? (unsigned int) error->code : 500;
    return en_http_reply_json (req, status, json_pack ("{s:s, s:i}", "error", error->reason, "code", error->code));
}

int
en_http_reply_html (en_http_request_t *req, unsigned int status, FILE *out, en_text_t *text)
{
    if (!en_text_close (out, text))
        return en_http_reply_error (req, MHD_HTTP_INTERNAL_SERVER_ERROR, "the page could not be written");
    return en_http_reply (req, status, "text/html; charset=utf-8", text->data, text->size);
}

const char *
en_http_safe_next (const char *next)
{
    if (!next || next [0] != '/' || next [1] == '/' || strlen (next) > 200)
        return "/";
    for (const char *c = next; *c; c++)
        if (*c == '\\' || (unsigned char) *c < 0x20 || *c == '"' || *c == '<' || *c == '>')
            return "/";
    return next;
}

static int
s_login_page (en_http_request_t *req, unsigned int status, const en_http_login_view_t *view, int retry_after)
{
    en_http_t *self = req->http;
    en_http_login_view_t shown = *view;
    shown.next = en_http_safe_next (view->next);
    en_text_t page;
    FILE *out = en_text_open (&page);
    assert (out);
    self->app.login_page (out, self->app_arg, &shown);
    if (!en_text_close (out, &page))
        return en_http_reply_error (req, MHD_HTTP_INTERNAL_SERVER_ERROR, "the page could not be written");
    char seconds [16];
    snprintf (seconds, sizeof seconds, "%d", retry_after);
    return en_http_reply_with (req, status, "text/html; charset=utf-8", page.data, page.size,
                               retry_after > 0 ? "Retry-After" : NULL, seconds);
}

//  Not logged in: an API call gets a JSON 401, a page the login form
//  (with 401), a live fragment or a POST a bare 401 (the dashboard's
//  script turns it into a redirect). No data in any of them.
static int
s_unauthorized (en_http_request_t *req)
{
    if (strncmp (req->url, "/api/", 5) == 0 || streq (req->url, "/metrics")) {
        char *text = strdup ("{\"error\": \"login required: a session cookie or an API token"
                             " (Authorization: Bearer)\", \"code\": 401}\n");
        return en_http_reply_with (req, MHD_HTTP_UNAUTHORIZED, "application/json; charset=utf-8",
                                   text, strlen (text), "WWW-Authenticate", "Bearer realm=\"expertnet\"");
    }
    if (strncmp (req->url, "/fragment/", 10) == 0 || req->post)
        return en_http_reply (req, MHD_HTTP_UNAUTHORIZED, "text/plain; charset=utf-8", strdup ("niet ingelogd\n"), 14);
    en_http_login_view_t view = { .next = req->url };
    return s_login_page (req, MHD_HTTP_UNAUTHORIZED, &view, 0);
}

//  -------------------------------------------------------------------------
//  Request parsing

static int
s_hex_value (char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

//  Percent-decode n bytes of a form body ('+' is a space); NULL when it
//  holds an encoded NUL. Caller frees.
static char *
s_form_decode (const char *v, size_t n)
{
    const char *stop = v + n;
    char *value = (char *) malloc (n + 1);
    size_t len = 0;
    while (v < stop) {
        if (*v == '+')
            value [len++] = ' ';
        else
        if (*v == '%' && stop - v >= 3 && s_hex_value (v [1]) >= 0 && s_hex_value (v [2]) >= 0) {
            value [len++] = (char) (s_hex_value (v [1]) * 16 + s_hex_value (v [2]));
            v += 2;
        }
        else
            value [len++] = *v;
        v++;
    }
    value [len] = 0;
    if (strlen (value) != len) {
        sodium_memzero (value, len);
        free (value);
        return NULL;
    }
    return value;
}

bool
en_http_request_is_json (en_http_request_t *req)
{
    const char *type = MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, "Content-Type");
    return type && strncasecmp (type, "application/json", 16) == 0;
}

//  Add value under key: a string, or (is_array) one more array element
static void
s_field_add (json_t *fields, const char *key, bool is_array, const char *value, size_t size)
{
    //  jansson keeps a NUL inside a string; everything after it would be
    //  out of sight of whatever reads the value as C text (the PII guard)
    //  yet travel on in the JSON: such a value is no field at all
    if (memchr (value, 0, size))
        return;
    json_t *string = json_stringn (value, size);
    if (!string)
        return;                     //  not UTF-8: not a field
    if (!is_array) {
        if (!json_object_get (fields, key))
            json_object_set_new (fields, key, string);
        else
            json_decref (string);   //  the first one counts
        return;
    }
    json_t *array = json_object_get (fields, key);
    if (!json_is_array (array)) {
        array = json_array ();
        json_object_set_new (fields, key, array);
    }
    json_array_append_new (array, string);
}

//  multipart/form-data: each part named in names, by its name="..."
//  (a file part's content is its value, as text)
static void
s_multipart (json_t *fields, const char *type, const char *data, size_t size, const char **names)
{
    const char *b = strcasestr (type, "boundary=");
    if (!b)
        return;
    b += 9;
    char boundary [200];
    size_t blen = strcspn (b, "; \t");
    if (*b == '"') {
        b++;
        blen = strcspn (b, "\"");
    }
    if (blen == 0 || blen > sizeof boundary - 5)
        return;
    snprintf (boundary, sizeof boundary, "\r\n--%.*s", (int) blen, b);
    size_t delim = strlen (boundary);
    //  The first boundary has no CRLF before it
    const char *p = memmem (data, size, boundary + 2, delim - 2);
    const char *end = data + size;
    while (p) {
        p += delim - 2;
        if (end - p >= 2 && p [0] == '-' && p [1] == '-')
            break;                  //  closing boundary
        const char *head_end = memmem (p, (size_t) (end - p), "\r\n\r\n", 4);
        if (!head_end)
            break;
        const char *content = head_end + 4;
        const char *next = memmem (content, (size_t) (end - content), boundary, delim);
        if (!next)
            break;
        //  name="..." in the part's headers
        char head [1024];
        snprintf (head, sizeof head, "%.*s", (int) MIN ((size_t) (head_end - p), sizeof head - 1), p);
        const char *n = strstr (head, " name=\"");
        if (!n)
            n = strstr (head, ";name=\"");
        if (n) {
            n += 7;
            size_t nlen = strcspn (n, "\"");
            for (int i = 0; names [i]; i++) {
                size_t len = strlen (names [i]);
                bool is_array = len > 2 && streq (names [i] + len - 2, "[]");
                size_t key_len = is_array ? len - 2 : len;
                if (nlen == key_len && strncmp (n, names [i], key_len) == 0) {
                    char key [128];
                    snprintf (key, sizeof key, "%.*s", (int) key_len, names [i]);
                    s_field_add (fields, key, is_array, content, (size_t) (next - content));
                    break;
                }
            }
        }
        p = next + 2;               //  at "--boundary"
    }
}

json_t *
en_http_request_fields (en_http_request_t *req, const char **names)
{
    const char *data = req->upload && req->upload->data ? req->upload->data : "";
    size_t size = req->upload ? req->upload->size : 0;
    if (en_http_request_is_json (req)) {
        json_t *json = json_loadb (data, size, 0, NULL);
        if (!json_is_object (json)) {
            json_decref (json);
            return NULL;
        }
        return json;
    }
    return en_http_fields_parse (MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, "Content-Type"),
                                 data, size, names);
}

json_t *
en_http_fields_parse (const char *type, const char *data, size_t size, const char **names)
{
    json_t *fields = json_object ();
    if (type && strncasecmp (type, "multipart/form-data", 19) == 0) {
        s_multipart (fields, type, data, size, names);
        return fields;
    }
    //  application/x-www-form-urlencoded: name=value&..., in order
    const char *end = data + size;
    for (const char *p = data; p < end; ) {
        const char *amp = memchr (p, '&', (size_t) (end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr (p, '=', (size_t) (stop - p));
        char *key = eq ? s_form_decode (p, (size_t) (eq - p)) : NULL;
        for (int i = 0; key && names [i]; i++) {
            size_t len = strlen (names [i]);
            bool is_array = len > 2 && streq (names [i] + len - 2, "[]");
            if (strlen (key) == (is_array ? len - 2 : len) && strncmp (key, names [i], strlen (key)) == 0) {
                char *value = s_form_decode (eq + 1, (size_t) (stop - eq - 1));
                if (value) {
                    s_field_add (fields, key, is_array, value, strlen (value));
                    sodium_memzero (value, strlen (value));
                    free (value);
                }
                break;
            }
        }
        free (key);
        p = stop + 1;
    }
    return fields;
}

const char *
en_http_request_body (en_http_request_t *req, size_t *size)
{
    *size = req->upload ? req->upload->size : 0;
    return req->upload && req->upload->data ? req->upload->data : "";
}

en_http_t *en_http_request_http (en_http_request_t *req) { return req->http; }
void *en_http_request_app (en_http_request_t *req) { return req->http->app_arg; }
const char *en_http_request_path (en_http_request_t *req) { return req->url; }
bool en_http_request_post (en_http_request_t *req) { return req->post; }
const char *en_http_request_address (en_http_request_t *req) { return req->addr; }
const char *en_http_request_user (en_http_request_t *req) { return req->user; }
const char *en_http_request_role (en_http_request_t *req) { return req->role; }
bool en_http_request_via_session (en_http_request_t *req) { return req->session != NULL; }
int64_t en_http_request_totp_step (en_http_request_t *req) { return req->totp_step; }

const char *
en_http_request_query (en_http_request_t *req, const char *name)
{
    return MHD_lookup_connection_value (req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
en_http_request_header (en_http_request_t *req, const char *name)
{
    return MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, name);
}

const char *
en_http_request_extra (en_http_request_t *req)
{
    s_session_t *session = req->login_session ? req->login_session : req->session;
    return session ? session->extra : NULL;
}

const char *
en_http_request_csrf (en_http_request_t *req)
{
    return req->session ? req->session->csrf : NULL;
}

const void *
en_http_request_secret (en_http_request_t *req, size_t *size)
{
    s_session_t *session = req->login_session ? req->login_session : req->session;
    if (size)
        *size = session && session->secret ? session->secret_size : 0;
    return session ? session->secret : NULL;
}

int
en_http_request_set_secret (en_http_request_t *req, const void *secret, size_t size)
{
    s_session_t *session = req->login_session ? req->login_session : req->session;
    if (!session || !secret || !size)
        return -1;
    void *copy = sodium_malloc (size);
    if (!copy)
        return -1;
    memcpy (copy, secret, size);
    if (session->secret)
        sodium_free (session->secret);
    session->secret = copy;
    session->secret_size = size;
    return 0;
}

//  -------------------------------------------------------------------------
//  Sessions and logins

static void
s_fingerprint (const char *pwhash, unsigned char fingerprint [16])
{
    crypto_generichash (fingerprint, 16, (const unsigned char *) pwhash, strlen (pwhash), NULL, 0);
}

//  The app's account lookup: the account, or NULL with error->code 0
//  (no such account) or set (could not ask)
static json_t *
s_account (en_http_t *self, const char *name, en_error_t *error)
{
    en_error_clear (error);
    json_t *account = self->app.account (self, self->app_arg, name, error);
    if (account && !json_is_object (account)) {
        json_decref (account);
        account = NULL;
    }
    return account;
}

static bool
s_account_disabled (json_t *account)
{
    return json_is_true (json_object_get (account, "disabled"));
}

//  Check the session's account now and then: removed, disabled, another
//  role or a new password since the login ends the session.
static bool
s_session_still_valid (en_http_t *self, s_session_t *session, int64_t now)
{
    if (now - session->checked < SESSION_CHECK_MS)
        return true;
    en_error_t error;
    json_t *account = s_account (self, session->name, &error);
    bool valid = true;
    if (account) {
        unsigned char fingerprint [16];
        s_fingerprint (en_json_str (account, "pwhash") ?: "", fingerprint);
        valid = sodium_memcmp (fingerprint, session->fingerprint, 16) == 0
             && !s_account_disabled (account)
             && streq (en_json_str (account, "role") ?: "", session->role);
    }
    else
    if (!error.code)
        valid = false;              //  no such account any more
    //  not asked (daemon busy): keep the session until the next check
    json_decref (account);
    session->checked = now;
    return valid;
}

static bool
s_session_expired (en_http_t *self, s_session_t *session, int64_t now)
{
    return now - session->created > self->session_ms || now - session->last_used > self->idle_ms;
}

//  Drop expired sessions and pending second steps (wiping their secrets)
static void
s_sweep (en_http_t *self, int64_t now)
{
    self->swept = now;
    zlistx_t *keys = zhashx_keys (self->sessions);
    for (const char *key = (const char *) zlistx_first (keys); key; key = (const char *) zlistx_next (keys))
        if (s_session_expired (self, (s_session_t *) zhashx_lookup (self->sessions, key), now))
            zhashx_delete (self->sessions, key);
    zlistx_destroy (&keys);
    keys = zhashx_keys (self->pending);
    for (const char *key = (const char *) zlistx_first (keys); key; key = (const char *) zlistx_next (keys))
        if (((s_pending_t *) zhashx_lookup (self->pending, key))->expires <= now)
            zhashx_delete (self->pending, key);
    zlistx_destroy (&keys);
}

//  Who is asking: a valid session cookie or API token sets user and role.
static void
s_authenticate (en_http_request_t *req)
{
    en_http_t *self = req->http;
    int64_t now = en_now_ms ();
    if (now - self->swept >= SWEEP_MS)
        s_sweep (self, now);
    const char *authorization = MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, "Authorization");
    if (authorization && strncasecmp (authorization, "Bearer ", 7) == 0) {
        if (!self->app.token_check)
            return;
        const char *token = authorization + 7;
        while (*token == ' ')
            token++;
        if (strlen (token) != TOKEN_HEX || strspn (token, "0123456789abcdef") != TOKEN_HEX)
            return;
        unsigned char digest [32];
        char hash [65];
        crypto_generichash (digest, sizeof digest, (const unsigned char *) token, TOKEN_HEX, NULL, 0);
        sodium_bin2hex (hash, sizeof hash, digest, sizeof digest);
        char *name = NULL, *role = NULL;
        if (self->app.token_check (self, self->app_arg, hash, &name, &role) == 0 && name) {
            req->token_user = name;
            req->token_role = role ? role : strdup ("");
            req->user = req->token_user;
            req->role = req->token_role;
        }
        else {
            free (name);
            free (role);
        }
        return;
    }
    const char *cookie = MHD_lookup_connection_value (req->conn, MHD_COOKIE_KIND, "en_session");
    if (!cookie || strlen (cookie) != TOKEN_HEX)
        return;
    s_session_t *session = (s_session_t *) zhashx_lookup (self->sessions, cookie);
    if (!session)
        return;
    if (s_session_expired (self, session, now) || !s_session_still_valid (self, session, now)) {
        zhashx_delete (self->sessions, cookie);
        return;
    }
    session->last_used = now;
    req->session = session;
    snprintf (req->session_token, sizeof req->session_token, "%s", cookie);
    req->user = session->name;
    req->role = session->role;
}

int
en_http_request_logout (en_http_request_t *req)
{
    if (!req->session)
        return -1;
    zsys_info ("%s: %s logged out", req->http->app.log_name, req->user);
    zhashx_delete (req->http->sessions, req->session_token);
    req->session = NULL;
    req->user = req->role = NULL;
    return 0;
}

//  Milliseconds a failure key is still locked for (0 = not locked)
static int64_t
s_locked (en_http_t *self, const char *key, int64_t now)
{
    s_failure_t *failure = (s_failure_t *) zhashx_lookup (self->failures, key);
    return failure && failure->locked_until > now ? failure->locked_until - now : 0;
}

static int
s_failed (en_http_t *self, const char *key, int64_t now)
{
    s_failure_t *failure = (s_failure_t *) zhashx_lookup (self->failures, key);
    if (!failure) {
        if (zhashx_size (self->failures) >= MAX_FAILURE_KEYS) {
            //  Forget the stale ones; if all are recent, the oldest locks go
            zlistx_t *keys = zhashx_keys (self->failures);
            for (const char *k = (const char *) zlistx_first (keys); k; k = (const char *) zlistx_next (keys)) {
                s_failure_t *other = (s_failure_t *) zhashx_lookup (self->failures, k);
                if (now - other->last > FAILURE_MEMORY_MS && other->locked_until <= now)
                    zhashx_delete (self->failures, k);
            }
            zlistx_destroy (&keys);
            if (zhashx_size (self->failures) >= MAX_FAILURE_KEYS)
                zhashx_purge (self->failures);
        }
        failure = (s_failure_t *) zmalloc (sizeof (s_failure_t));
        zhashx_insert (self->failures, key, failure);
    }
    if (now - failure->last > FAILURE_MEMORY_MS && failure->locked_until <= now)
        failure->failures = 0;
    failure->failures++;
    failure->last = now;
    if (failure->failures >= self->attempts) {
        int doublings = MIN (failure->failures - self->attempts, 4);
        failure->locked_until = now + (self->lockout_ms << doublings);
    }
    return failure->failures;
}

static const char *
s_dummy_hash (en_http_t *self)
{
    if (!self->dummy_hash) {
        //  Made once, of a random password nobody knows
        char password [33], hash [crypto_pwhash_STRBYTES];
        en_random_hex (password, 32);
        if (crypto_pwhash_str (hash, password, 32, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0)
            self->dummy_hash = strdup (hash);
    }
    return self->dummy_hash ? self->dummy_hash : "";
}

//  A 6-digit code against a base32 secret, now, window +-1 step; each
//  code is taken once per name (RFC 6238 5.2: a code seen over a
//  shoulder or in a proxy log must not log in a second time)
static bool
s_totp_valid (en_http_t *self, en_http_request_t *req, const char *name, const char *secret_b32,
              const char *code)
{
    int64_t step = 0;
    if (!name || !secret_b32 || en_totp_verify_step (secret_b32, code, time (NULL), &step))
        return false;
    int64_t *last = (int64_t *) zhashx_lookup (self->totp_used, name);
    if (last && step <= *last)
        return false;               //  this code (or a later one) was used already
    if (!last) {
        if (zhashx_size (self->totp_used) >= MAX_FAILURE_KEYS)
            zhashx_purge (self->totp_used);     //  old steps are past the window anyway
        last = (int64_t *) zmalloc (sizeof (int64_t));
        zhashx_insert (self->totp_used, name, last);
    }
    *last = step;
    req->totp_step = step;
    return true;
}

//  Login answers: JSON for an API client, else the login page
typedef struct {
    bool api;                   //  JSON body: answer JSON
    const char *next;           //  where to go after
    const char *name;           //  valid name typed, or NULL
} s_login_t;

static int
s_login_refused (en_http_request_t *req, s_login_t *login, unsigned int status, const char *api_error,
                 const char *message, int retry_after)
{
    if (login->api) {
        json_t *error = json_pack ("{s:s, s:i}", "error", api_error, "code", (int) status);
        if (retry_after > 0)
            json_object_set_new (error, "retry_after", json_integer (retry_after));
        char *text = json_dumps (error, JSON_COMPACT);
        json_decref (error);
        char seconds [16];
        snprintf (seconds, sizeof seconds, "%d", retry_after);
        return en_http_reply_with (req, status, "application/json; charset=utf-8", text, strlen (text),
                                   retry_after > 0 ? "Retry-After" : NULL, seconds);
    }
    en_http_login_view_t view = { .message = message, .next = login->next, .name = login->name };
    return s_login_page (req, status, &view, retry_after);
}

static void
s_login_event (en_http_t *self, const char *name, const char *outcome, const char *addr)
{
    if (self->app.login_event)
        self->app.login_event (self, self->app_arg, name, outcome, addr);
}

//  Count a failure against the name and the address; the answer
static int
s_login_failed (en_http_request_t *req, s_login_t *login, const char *why)
{
    en_http_t *self = req->http;
    int64_t now = en_now_ms ();
    char key [300];
    self->logins [1]++;
    snprintf (key, sizeof key, "addr:%s", req->addr);
    int failures = s_failed (self, key, now);
    if (login->name) {
        snprintf (key, sizeof key, "name:%s", login->name);
        int by_name = s_failed (self, key, now);      //  (MAX evaluates twice)
        failures = MAX (failures, by_name);
    }
    zsys_warning ("%s: failed login for %s from %s (%s, %d in a row)", self->app.log_name,
                  login->name ? login->name : "(no valid name)", req->addr, why, failures);
    s_login_event (self, login->name, "failed", req->addr);
    if (streq (why, "code"))
        return s_login_refused (req, login, MHD_HTTP_UNAUTHORIZED, "wrong code",
                                "Onjuiste code. Log opnieuw in.", 0);
    return s_login_refused (req, login, MHD_HTTP_UNAUTHORIZED, "wrong name or password",
                            "Onjuiste naam of wachtwoord.", 0);
}

//  Is the name or the address locked? Then the answer (429 with
//  Retry-After, nothing checked) is queued in *answer.
static bool
s_login_locked (en_http_request_t *req, s_login_t *login, int *answer)
{
    en_http_t *self = req->http;
    int64_t now = en_now_ms ();
    char key [300];
    snprintf (key, sizeof key, "addr:%s", req->addr);
    int64_t locked = s_locked (self, key, now);
    if (login->name) {
        snprintf (key, sizeof key, "name:%s", login->name);
        int64_t by_name = s_locked (self, key, now);
        locked = MAX (locked, by_name);
    }
    if (!locked)
        return false;
    self->logins [2]++;
    int seconds = (int) ((locked + 999) / 1000);
    zsys_warning ("%s: login for %s from %s refused: locked for %d s after failed attempts",
                  self->app.log_name, login->name ? login->name : "(no valid name)", req->addr, seconds);
    s_login_event (self, login->name, "locked", req->addr);
    char message [160];
    snprintf (message, sizeof message, "Te veel mislukte pogingen. Probeer het over %d seconden opnieuw.", seconds);
    *answer = s_login_refused (req, login, 429, "too many failed logins; try again later", message, seconds);
    return true;
}

//  Password (and code) right: make the session, run the hook, hand it out
static int
s_login_done (en_http_request_t *req, s_login_t *login, json_t *account, const char *password)
{
    en_http_t *self = req->http;
    int64_t now = en_now_ms ();
    char key [300];
    snprintf (key, sizeof key, "name:%s", login->name);
    zhashx_delete (self->failures, key);
    snprintf (key, sizeof key, "addr:%s", req->addr);
    zhashx_delete (self->failures, key);
    s_sweep (self, now);
    if (zhashx_size (self->sessions) >= MAX_SESSIONS) {
        zsys_error ("%s: %d sessions open; login of %s refused", self->app.log_name, MAX_SESSIONS, login->name);
        return s_login_refused (req, login, MHD_HTTP_SERVICE_UNAVAILABLE, "too many sessions",
                                "Te veel sessies open; probeer het later.", 0);
    }
    s_session_t *session = (s_session_t *) zmalloc (sizeof (s_session_t));
    session->name = strdup (login->name);
    session->role = strdup (en_json_str (account, "role") ?: "");
    session->extra = en_json_str (account, "expert") ? strdup (en_json_str (account, "expert")) : NULL;
    session->created = session->last_used = session->checked = now;
    s_fingerprint (en_json_str (account, "pwhash") ?: "", session->fingerprint);
    en_random_hex (session->csrf, 32);
    if (self->app.on_login) {
        req->login_session = session;
        int rc = self->app.on_login (req, self->app_arg, account, password);
        req->login_session = NULL;
        if (rc) {
            s_session_free (session);
            zsys_warning ("%s: login of %s refused by the app", self->app.log_name, login->name);
            return s_login_refused (req, login, MHD_HTTP_SERVICE_UNAVAILABLE, "login not possible now",
                                    "Inloggen is nu niet mogelijk.", 0);
        }
    }
    self->logins [0]++;
    unsigned char raw [32];
    char token [TOKEN_HEX + 1];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2hex (token, sizeof token, raw, sizeof raw);
    zhashx_insert (self->sessions, token, session);
    zsys_info ("%s: %s logged in from %s", self->app.log_name, login->name, req->addr);
    s_login_event (self, login->name, "ok", req->addr);
    char cookie [256];
    snprintf (cookie, sizeof cookie, "en_session=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%lld%s",
              token, (long long) (self->session_ms / 1000), self->secure_cookie ? "; Secure" : "");
    sodium_memzero (token, sizeof token);
    sodium_memzero (raw, sizeof raw);
    int rc;
    if (login->api) {
        json_t *json = json_pack ("{s:s, s:s, s:s}", self->app.name_key ? self->app.name_key : "name",
                                  session->name, "role", session->role, "csrf", session->csrf);
        char *text = json_dumps (json, JSON_COMPACT);
        json_decref (json);
        rc = en_http_reply_with (req, MHD_HTTP_OK, "application/json; charset=utf-8", text, strlen (text),
                                 "Set-Cookie", cookie);
    }
    else
        rc = s_redirect_cookie (req, en_http_safe_next (login->next), cookie);
    sodium_memzero (cookie, sizeof cookie);
    return rc;
}

//  Does this account need a second factor?
static bool
s_needs_totp (json_t *account)
{
    const char *secret = en_json_str (account, "totp_secret");
    return (secret && *secret) || json_is_true (json_object_get (account, "totp_required"));
}

//  Second step: the pending token and the code
static int
s_login_code (en_http_request_t *req, s_login_t *login, const char *token, const char *code)
{
    en_http_t *self = req->http;
    int64_t now = en_now_ms ();
    s_pending_t *pending = (s_pending_t *) zhashx_lookup (self->pending, token);
    if (!pending || pending->expires <= now) {
        if (pending)
            zhashx_delete (self->pending, token);
        return s_login_refused (req, login, MHD_HTTP_UNAUTHORIZED, "login expired; start again",
                                "De inlogpoging is verlopen. Log opnieuw in.", 0);
    }
    login->name = pending->name;
    int rc;
    if (s_login_locked (req, login, &rc)) {
        zhashx_delete (self->pending, token);
        return rc;
    }
    json_t *account = s_account (self, pending->name, NULL);
    if (!account
    ||  s_account_disabled (account)
    ||  !s_totp_valid (self, req, pending->name, en_json_str (account, "totp_secret"), code)) {
        json_decref (account);
        if (++pending->tries < PENDING_TRIES) {
            //  Another try at the code, same pending step
            self->logins [1]++;
            char key [300];
            snprintf (key, sizeof key, "addr:%s", req->addr);
            s_failed (self, key, now);
            snprintf (key, sizeof key, "name:%s", pending->name);
            int failures = s_failed (self, key, now);
            zsys_warning ("%s: failed login for %s from %s (code, %d in a row)", self->app.log_name,
                          pending->name, req->addr, failures);
            s_login_event (self, pending->name, "failed", req->addr);
            en_http_login_view_t view = { .message = "Onjuiste code. Probeer het opnieuw.",
                                          .next = login->next, .name = pending->name,
                                          .code = true, .pending = token };
            if (login->api)
                return s_login_refused (req, login, MHD_HTTP_UNAUTHORIZED, "wrong code", NULL, 0);
            return s_login_page (req, MHD_HTTP_UNAUTHORIZED, &view, 0);
        }
        char *name = strdup (pending->name);
        zhashx_delete (self->pending, token);
        login->name = name;
        rc = s_login_failed (req, login, "code");
        free (name);
        return rc;
    }
    char *name = strdup (pending->name);
    char *password = (char *) sodium_malloc (pending->password_size + 1);
    memcpy (password, pending->password, pending->password_size + 1);
    zhashx_delete (self->pending, token);
    login->name = name;
    rc = s_login_done (req, login, account, password);
    sodium_free (password);
    json_decref (account);
    free (name);
    return rc;
}

//  Right password, code still to come: keep name and password (for the
//  login hook) under a pending token, and ask for the code
static int
s_login_ask_code (en_http_request_t *req, s_login_t *login, const char *password)
{
    en_http_t *self = req->http;
    if (zhashx_size (self->pending) >= MAX_PENDING)
        s_sweep (self, en_now_ms ());
    if (zhashx_size (self->pending) >= MAX_PENDING)
        zhashx_purge (self->pending);
    s_pending_t *entry = (s_pending_t *) zmalloc (sizeof (s_pending_t));
    entry->name = strdup (login->name);
    entry->password_size = strlen (password);
    entry->password = (char *) sodium_malloc (entry->password_size + 1);
    memcpy (entry->password, password, entry->password_size + 1);
    entry->expires = en_now_ms () + PENDING_MS;
    unsigned char raw [32];
    char token [TOKEN_HEX + 1];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2hex (token, sizeof token, raw, sizeof raw);
    sodium_memzero (raw, sizeof raw);
    zhashx_insert (self->pending, token, entry);
    int rc;
    if (login->api)
        rc = en_http_reply_json (req, MHD_HTTP_UNAUTHORIZED,
                                 json_pack ("{s:s, s:i, s:s}", "error", "code required", "code", 401,
                                            "pending", token));
    else {
        en_http_login_view_t view = { .next = login->next, .name = login->name, .code = true, .pending = token };
        rc = s_login_page (req, MHD_HTTP_OK, &view, 0);
    }
    sodium_memzero (token, sizeof token);
    return rc;
}

//  First step: name and password (and, from API clients and scripts,
//  the code at once)
static int
s_login_password (en_http_request_t *req, s_login_t *login, const char *name, const char *password,
                  const char *code)
{
    en_http_t *self = req->http;
    //  Typed names are logged only when they are names (a password typed
    //  into the name field must not end up in the log)
    login->name = en_name_valid (name) ? name : NULL;
    int rc;
    if (s_login_locked (req, login, &rc))
        return rc;
    json_t *account = login->name ? s_account (self, login->name, NULL) : NULL;
    const char *pwhash = en_json_str (account, "pwhash");
    const char *secret = en_json_str (account, "totp_secret");
    //  Verify even for an unknown name, so timing does not tell names apart
    bool verified = crypto_pwhash_str_verify (pwhash ? pwhash : s_dummy_hash (self), password,
                                              strlen (password)) == 0 && pwhash;
    if (!verified || s_account_disabled (account))
        rc = s_login_failed (req, login, verified ? "disabled" : "password");
    else
    if (!s_needs_totp (account))
        rc = s_login_done (req, login, account, password);
    else
    if (!secret || !*secret) {
        zsys_warning ("%s: login of %s refused: second factor required but not set up", self->app.log_name,
                      login->name);
        rc = s_login_refused (req, login, MHD_HTTP_FORBIDDEN, "second factor required but not set up",
                              "Een tweede factor is verplicht maar niet ingesteld; vraag de beheerder.", 0);
    }
    else
    if (code && *code)
        rc = s_totp_valid (self, req, login->name, secret, code) ? s_login_done (req, login, account, password)
                                                                  : s_login_failed (req, login, "code");
    else
        rc = s_login_ask_code (req, login, password);
    json_decref (account);
    return rc;
}

//  POST /login: the second step (pending token and code) or the first
static int
s_login (en_http_request_t *req)
{
    const char *names [] = { "name", "password", "next", "pending", "code", NULL };
    json_t *fields = en_http_request_fields (req, names);
    s_login_t login = { .api = en_http_request_is_json (req), .next = en_json_str (fields, "next") };
    const char *name = en_json_str (fields, "name");
    const char *password = en_json_str (fields, "password");
    const char *pending = en_json_str (fields, "pending");
    const char *code = en_json_str (fields, "code");
    int rc;
    if (pending && code && strlen (pending) == TOKEN_HEX)
        rc = s_login_code (req, &login, pending, code);
    else
    if (!name || !password || !*name || !*password)
        rc = s_login_refused (req, &login, MHD_HTTP_BAD_REQUEST, "name and password required",
                              "Vul naam en wachtwoord in.", 0);
    else
        rc = s_login_password (req, &login, name, password, code);
    json_decref (fields);
    return rc;
}

bool
en_http_request_csrf_ok (en_http_request_t *req, const char *form_token)
{
    if (!req->session)
        return req->user != NULL;
    const char *token = form_token ? form_token
                      : MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, "X-CSRF-Token");
    return token && strlen (token) == 32 && sodium_memcmp (token, req->session->csrf, 32) == 0;
}

//  A POST from a page of another site is refused whatever it carries.
//  Without Origin (curl, scripts) the session's CSRF token or an API
//  token is what protects it.
static bool
s_same_origin (en_http_request_t *req)
{
    const char *site = MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
    if (site && (streq (site, "cross-site") || streq (site, "same-site")))
        return false;
    const char *origin = MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, "Origin");
    if (!origin)
        return true;
    const char *host = MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, "Host");
    const char *rest = strncmp (origin, "http://", 7) == 0 ? origin + 7
                     : strncmp (origin, "https://", 8) == 0 ? origin + 8 : NULL;
    return rest && host && streq (rest, host);      //  "null" (opaque) is refused too
}

//  A refusal by en_http itself: English JSON for API clients, a line of
//  Dutch for a person at a browser
static int
s_refuse (en_http_request_t *req, unsigned int status, const char *api_message, const char *message)
{
    if (strncmp (req->url, "/api/", 5) == 0 || en_http_request_is_json (req))
        return en_http_reply_error (req, status, api_message);
    char *text = NULL;
    if (asprintf (&text, "%s\n", message) < 0)
        return EN_HTTP_NO;
    return en_http_reply (req, status, "text/plain; charset=utf-8", text, strlen (text));
}

//  -------------------------------------------------------------------------
//  Dispatch

static int
s_dispatch (en_http_request_t *req)
{
    en_http_t *self = req->http;
    const char *url = req->url;
    //  Public: the assets and the login form
    if (!req->post) {
        s_asset_t *asset = (s_asset_t *) zhashx_lookup (self->assets, url);
        if (asset)
            return en_http_reply (req, MHD_HTTP_OK, asset->type, strdup (asset->body), strlen (asset->body));
    }
    if (req->post && !s_same_origin (req))
        return s_refuse (req, MHD_HTTP_FORBIDDEN, "cross-site request refused",
                         "Geweigerd: dit verzoek kwam van een andere website.");
    if (streq (url, "/login")) {
        if (req->post)
            return s_login (req);
        s_authenticate (req);
        if (req->user)
            return en_http_redirect (req, en_http_safe_next (en_http_request_query (req, "next")));
        en_http_login_view_t view = { .next = en_http_request_query (req, "next") };
        return s_login_page (req, MHD_HTTP_OK, &view, 0);
    }
    s_authenticate (req);
    if (zhashx_lookup (self->public, url))
        return self->app.dispatch (req, self->app_arg);
    if (!req->user)
        return s_unauthorized (req);
    if (req->post && streq (url, self->app.logout_path)) {
        const char *names [] = { "csrf", NULL };
        json_t *fields = en_http_request_fields (req, names);
        bool ok = en_http_request_csrf_ok (req, en_json_str (fields, "csrf"));
        json_decref (fields);
        if (!ok)
            return s_refuse (req, MHD_HTTP_FORBIDDEN, "csrf token required",
                             "Het formulier is verlopen; laad de pagina opnieuw en probeer het nog eens.");
        en_http_request_logout (req);
        return s_redirect_cookie (req, "/login", "en_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    }
    return self->app.dispatch (req, self->app_arg);
}

//  The client's address: the peer's, or the last X-Forwarded-For entry
//  when the peer is the configured proxy
static void
s_client_address (en_http_t *self, struct MHD_Connection *connection, char *addr, size_t size)
{
    snprintf (addr, size, "?");
    const union MHD_ConnectionInfo *info = MHD_get_connection_info (connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info && info->client_addr) {
        const struct sockaddr *sa = info->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop (AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, addr, (socklen_t) size);
        else
        if (sa->sa_family == AF_INET6)
            inet_ntop (AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, addr, (socklen_t) size);
    }
    if (self->trusted_proxy && streq (addr, self->trusted_proxy)) {
        const char *forwarded = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "X-Forwarded-For");
        if (forwarded) {
            const char *last = strrchr (forwarded, ',');
            last = last ? last + 1 : forwarded;
            while (*last == ' ')
                last++;
            unsigned char probe [sizeof (struct in6_addr)];
            if (inet_pton (AF_INET, last, probe) == 1 || inet_pton (AF_INET6, last, probe) == 1)
                snprintf (addr, size, "%s", last);
        }
    }
}

static enum MHD_Result
s_handler (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    en_http_t *self = (en_http_t *) cls;
    s_upload_t *upload = (s_upload_t *) *con_cls;
    if (!upload) {
        //  First call: headers only
        *con_cls = zmalloc (sizeof (s_upload_t));
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!upload->too_large && upload->size + *upload_data_size <= self->max_body) {
            upload->data = (char *) realloc (upload->data, upload->size + *upload_data_size + 1);
            memcpy (upload->data + upload->size, upload_data, *upload_data_size);
            upload->size += *upload_data_size;
            upload->data [upload->size] = 0;
        }
        else
            upload->too_large = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    en_http_request_t req = { .http = self, .conn = connection, .url = url, .upload = upload,
                              .totp_step = -1 };
    s_client_address (self, connection, req.addr, sizeof req.addr);
    int rc;
    if (streq (method, "POST"))
        req.post = true;
    if (!streq (method, "GET") && !streq (method, "HEAD") && !streq (method, "POST")) {
        const char *text = "method not allowed / methode niet toegestaan\n";
        rc = en_http_reply_with (&req, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                                 strdup (text), strlen (text), "Allow", "GET, HEAD, POST");
    }
    else
    if (upload->too_large)
        rc = s_refuse (&req, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large",
                       "Te groot: wat u verstuurde is groter dan toegestaan.");
    else
        rc = s_dispatch (&req);
    free (req.token_user);
    free (req.token_role);
    sodium_memzero (req.session_token, sizeof req.session_token);
    return rc == EN_HTTP_YES ? MHD_YES : MHD_NO;
}

static void
s_completed (void *cls, struct MHD_Connection *connection, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    s_upload_t *upload = (s_upload_t *) *con_cls;
    if (upload) {
        if (upload->data)
            sodium_memzero (upload->data, upload->size);   //  may hold a password
        free (upload->data);
        free (upload);
        *con_cls = NULL;
    }
}

static void
s_mhd_log (void *cls, const char *format, va_list ap)
{
    en_http_t *self = (en_http_t *) cls;
    char line [512];
    vsnprintf (line, sizeof line, format, ap);
    size_t len = strlen (line);
    while (len && (line [len - 1] == '\n' || line [len - 1] == '\r'))
        line [--len] = 0;
    zsys_warning ("%s (libmicrohttpd): %s", self->app.log_name, line);
}

//  -------------------------------------------------------------------------
//  Assets every web face serves (registered by en_http_new)

//  The tab icon: a node in a network, in the header's blue
static const char s_icon [] =
"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">"
"<rect width=\"32\" height=\"32\" rx=\"6\" fill=\"#1d4e89\"/>"
"<g stroke=\"#fff\" stroke-width=\"2\"><line x1=\"16\" y1=\"16\" x2=\"7\" y2=\"8\"/>"
"<line x1=\"16\" y1=\"16\" x2=\"25\" y2=\"9\"/><line x1=\"16\" y1=\"16\" x2=\"16\" y2=\"26\"/></g>"
"<g fill=\"#fff\"><circle cx=\"16\" cy=\"16\" r=\"4\"/><circle cx=\"7\" cy=\"8\" r=\"3\"/>"
"<circle cx=\"25\" cy=\"9\" r=\"3\"/><circle cx=\"16\" cy=\"26\" r=\"3\"/></g></svg>\n";

//  The live parts of a page, the dashboard's and the portal's alike.
//  Every element with data-src (a URL) or data-panel (a name: the URL
//  is /api/panel/<name>) is fetched once at load and then every
//  data-every ms (5000 when not given), and its content replaced only
//  when it changed apart from ages and countdowns (spans of class
//  "tick"), so aria-live announces news, not every poll; the first
//  answer only sets what counts as unchanged. Not while the page is
//  hidden or the keyboard focus is inside the element (it would be
//  lost); a 401 goes to the login page. Each poll's outcome is told to
//  the page's own script as a bubbling "en-live" event, detail
//  {ok, changed}: the dashboard shows it in its live indicator, the
//  portal restarts its countdowns. The HTML comes escaped from the
//  server's own renderer, the code that made the first page.
const char en_http_live_js [] =
"/* expertnet: live parts of a page are re-fetched in place (dashboard and portal). */\n"
"(function () {\n"
"  'use strict';\n"
"  /* what changes by itself (ages, countdowns) is no news for aria-live */\n"
"  var TICKING = /<span class=\"[^\"]*\\btick\\b[^\"]*\"[^>]*>[^<]*<\\/span>/g;\n"
"  function told (el, ok, changed) {\n"
"    el.dispatchEvent (new CustomEvent ('en-live', { bubbles: true, detail: { ok: ok, changed: changed } }));\n"
"  }\n"
"  function refresh (el) {\n"
"    if (document.hidden || el.dataset.busy) return;\n"
"    if (el.contains (document.activeElement) && document.activeElement !== document.body) return;\n"
"    el.dataset.busy = '1';\n"
"    fetch (el.dataset.src || '/api/panel/' + el.dataset.panel,\n"
"           { credentials: 'same-origin', cache: 'no-store', headers: { 'Accept': 'text/html' } })\n"
"      .then (function (response) {\n"
"        if (response.status === 401) {\n"
"          window.location.href = '/login?next=' + encodeURIComponent (window.location.pathname);\n"
"          return null;\n"
"        }\n"
"        if (!response.ok) throw new Error ('HTTP ' + response.status);\n"
"        return response.text ();\n"
"      })\n"
"      .then (function (html) {\n"
"        if (html === null) return;\n"
"        var key = html.replace (TICKING, '');\n"
"        var changed = key !== el.enLast;\n"
"        if (changed) {\n"
"          if (el.enLast !== undefined) el.innerHTML = html;\n"
"          el.enLast = key;\n"
"        }\n"
"        told (el, true, changed);\n"
"      })\n"
"      .catch (function () { told (el, false, false); })\n"
"      .then (function () { delete el.dataset.busy; });\n"
"  }\n"
"  document.querySelectorAll ('[data-src], [data-panel]').forEach (function (el) {\n"
"    refresh (el);\n"
"    setInterval (function () { refresh (el); }, parseInt (el.dataset.every || '5000', 10));\n"
"  });\n"
"}) ();\n";

//  -------------------------------------------------------------------------
//  Life cycle

//  A whole (small) file, or NULL
static char *
s_read_file (const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    char chunk [4096];
    size_t n;
    while ((n = fread (chunk, 1, sizeof chunk, file)) > 0 && size < 1024 * 1024)
        fwrite (chunk, 1, n, out);
    fclose (file);
    fclose (out);
    sodium_memzero (chunk, sizeof chunk);
    return text;
}

//  A setting of section (e.g. "web/address"), or dflt
static const char *
s_setting (zconfig_t *config, const char *section, const char *key, const char *dflt)
{
    char path [128];
    snprintf (path, sizeof path, "%s/%s", section, key);
    return zconfig_get (config, path, dflt);
}

static bool
s_has_setting (zconfig_t *config, const char *section, const char *key)
{
    char path [128];
    snprintf (path, sizeof path, "%s/%s", section, key);
    return zconfig_locate (config, path) != NULL;
}

//  A duration setting in ms; a bad one is warned about and dflt used
static int64_t
s_setting_ms (zconfig_t *config, const char *section, const char *key, const char *dflt)
{
    const char *value = s_setting (config, section, key, dflt);
    int64_t ms = en_duration_ms (value);
    if (ms <= 0) {
        zsys_warning ("config %s/%s: '%s' is not a duration, using %s", section, key, value, dflt);
        ms = en_duration_ms (dflt);
    }
    return ms;
}

//  HOST:PORT or [IPV6]:PORT as a passive socket address (caller frees
//  with freeaddrinfo), or NULL
static struct addrinfo *
s_listen_address (const char *section, const char *address, en_error_t *error)
{
    char host [256];
    const char *port = NULL;
    if (address [0] == '[') {
        const char *close = strchr (address, ']');
        if (close && close [1] == ':' && (size_t) (close - address - 1) < sizeof host) {
            memcpy (host, address + 1, (size_t) (close - address - 1));
            host [close - address - 1] = 0;
            port = close + 2;
        }
    }
    else {
        const char *colon = strrchr (address, ':');
        if (colon && (size_t) (colon - address) < sizeof host && colon > address) {
            memcpy (host, address, (size_t) (colon - address));
            host [colon - address] = 0;
            port = colon + 1;
        }
    }
    if (!port || atoi (port) <= 0 || atoi (port) > 65535) {
        en_error_set (error, EN_ERR_INVALID, "%s/address '%s' is not HOST:PORT (or 'off')", section, address);
        return NULL;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *found = NULL;
    int gai = getaddrinfo (host, port, &hints, &found);
    if (gai || !found) {
        en_error_set (error, EN_ERR_INVALID, "%s/address '%s': %s", section, address, gai_strerror (gai));
        return NULL;
    }
    return found;
}

//  The TLS settings: both PEM paths (set in *cert_path, *key_path) or
//  neither (NULL, NULL)
static int
s_tls_paths (zconfig_t *config, const char *section, const char **cert_path, const char **key_path,
             en_error_t *error)
{
    *cert_path = s_setting (config, section, "tls_cert", NULL);
    *key_path = s_setting (config, section, "tls_key", NULL);
    if (*cert_path && !**cert_path)
        *cert_path = NULL;
    if (*key_path && !**key_path)
        *key_path = NULL;
    if ((*cert_path != NULL) != (*key_path != NULL))
        return en_error_set (error, EN_ERR_INVALID,
                             "%s/tls_cert and %s/tls_key go together (both PEM paths, or neither)",
                             section, section);
    if (*cert_path && MHD_is_feature_supported (MHD_FEATURE_TLS) != MHD_YES)
        return en_error_set (error, EN_ERR_INVALID, "%s/tls_cert: this libmicrohttpd is built without TLS",
                             section);
    return 0;
}

//  Lifetimes, lockout, body limit, cookies and the trusted proxy
static void
s_configure (en_http_t *self, zconfig_t *config, const char *section)
{
    self->session_ms = s_setting_ms (config, section, "session", "8h");
    self->idle_ms = s_setting_ms (config, section, "idle", "30m");
    self->lockout_ms = s_setting_ms (config, section, "lockout", "60s");
    long long max_body = atoll (s_setting (config, section, "max_body", MAX_BODY));
    if (!s_has_setting (config, section, "max_body") && self->app.max_body)
        max_body = (long long) self->app.max_body;
    self->max_body = max_body >= 1024 && max_body <= 64 * 1024 * 1024 ? (size_t) max_body : (size_t) atoll (MAX_BODY);
    self->attempts = atoi (s_setting (config, section, "attempts", "5"));
    if (self->attempts < 1)
        self->attempts = 5;
    self->secure_cookie = streq (s_setting (config, section, "secure_cookie", "false"), "true");
    const char *proxy = s_setting (config, section, "trusted_proxy", NULL);
    self->trusted_proxy = proxy && *proxy ? strdup (proxy) : NULL;
}

//  The web thread's tables, and the assets every face serves
static void
s_tables (en_http_t *self)
{
    self->sessions = zhashx_new ();
    zhashx_set_destructor (self->sessions, s_session_destroy);
    self->pending = zhashx_new ();
    zhashx_set_destructor (self->pending, s_pending_destroy);
    self->failures = zhashx_new ();
    zhashx_set_destructor (self->failures, (zhashx_destructor_fn *) zstr_free);
    self->totp_used = zhashx_new ();
    zhashx_set_destructor (self->totp_used, (zhashx_destructor_fn *) zstr_free);
    self->assets = zhashx_new ();
    zhashx_set_destructor (self->assets, (zhashx_destructor_fn *) zstr_free);
    self->public = zhashx_new ();
    en_http_static (self, "/static/icon.svg", "image/svg+xml", s_icon);
    en_http_static (self, "/static/live.js", "text/javascript; charset=utf-8", en_http_live_js);
}

//  Read the certificate and key (kept while the daemon runs)
static int
s_tls_load (en_http_t *self, const char *section, const char *cert_path, const char *key_path,
            en_error_t *error)
{
    self->tls_cert = s_read_file (cert_path);
    self->tls_key = s_read_file (key_path);
    if (!self->tls_cert || !self->tls_key)
        return en_error_set (error, EN_ERR_INVALID, "cannot read %s/%s: %s", section,
                             self->tls_cert ? "tls_key" : "tls_cert", strerror (errno));
    self->tls = true;
    self->secure_cookie = true;
    return 0;
}

//  Start libmicrohttpd (its thread) on the address
static int
s_start (en_http_t *self, const struct addrinfo *found, en_error_t *error)
{
    unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (found->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem tls_options [] = {
        { MHD_OPTION_HTTPS_MEM_CERT, 0, self->tls_cert },
        { MHD_OPTION_HTTPS_MEM_KEY, 0, self->tls_key },
        { MHD_OPTION_END, 0, NULL } };
    if (self->tls)
        flags |= MHD_USE_TLS;
    self->daemon = MHD_start_daemon (flags, 0, NULL, NULL, s_handler, self,
        MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, self,
        MHD_OPTION_SOCK_ADDR, found->ai_addr,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, self,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 64,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int) 32,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 30,
        MHD_OPTION_ARRAY, self->tls ? tls_options : tls_options + 2,
        MHD_OPTION_END);
    if (!self->daemon)
        return en_error_set (error, EN_ERR_INTERNAL,
                             self->tls ? "cannot listen on %s (in use, not an address of this host,"
                                         " or the TLS certificate and key do not load)"
                                       : "cannot listen on %s (in use, or not an address of this host)",
                             self->address);
    return 0;
}

en_http_t *
en_http_new (zconfig_t *config, const char *section, const char *control_endpoint,
             const en_http_app_t *app, void *app_arg, en_error_t *error)
{
    assert (app && app->dispatch && app->account && app->login_page);
    const char *address = s_setting (config, section, "address",
                                     app->default_address ? app->default_address : "");
    const char *cert_path, *key_path;
    struct addrinfo *found = s_listen_address (section, address, error);
    if (!found)
        return NULL;
    if (s_tls_paths (config, section, &cert_path, &key_path, error)) {
        freeaddrinfo (found);
        return NULL;
    }
    en_http_t *self = (en_http_t *) zmalloc (sizeof (en_http_t));
    assert (self);
    self->app = *app;
    if (!self->app.log_name)
        self->app.log_name = "web";
    if (!self->app.logout_path)
        self->app.logout_path = "/logout";
    self->app_arg = app_arg;
    self->address = strdup (address);
    self->control = strdup (control_endpoint);
    s_configure (self, config, section);
    s_tables (self);
    if ((cert_path && s_tls_load (self, section, cert_path, key_path, error))
    ||  s_start (self, found, error))
        en_http_destroy (&self);
    freeaddrinfo (found);
    return self;
}

void
en_http_destroy (en_http_t **self_p)
{
    assert (self_p);
    en_http_t *self = *self_p;
    if (self) {
        //  Joins the web thread: after this, its state is ours to free
        if (self->daemon)
            MHD_stop_daemon (self->daemon);
        s_drop_dealer (self);
        zhashx_destroy (&self->sessions);
        zhashx_destroy (&self->pending);
        zhashx_destroy (&self->failures);
        zhashx_destroy (&self->totp_used);
        zhashx_destroy (&self->assets);
        zhashx_destroy (&self->public);
        if (self->tls_key)
            sodium_memzero (self->tls_key, strlen (self->tls_key));
        free (self->tls_key);
        free (self->tls_cert);
        free (self->dummy_hash);
        free (self->trusted_proxy);
        free (self->address);
        free (self->control);
        free (self);
        *self_p = NULL;
    }
}

void
en_http_static (en_http_t *self, const char *path, const char *type, const char *body)
{
    s_asset_t *asset = (s_asset_t *) zmalloc (sizeof (s_asset_t));
    asset->type = type;
    asset->body = body;
    zhashx_update (self->assets, path, asset);
}

void
en_http_public (en_http_t *self, const char *path)
{
    zhashx_update (self->public, path, (void *) "public");
}

const char *
en_http_scheme (en_http_t *self)
{
    return self->tls ? "https" : "http";
}

size_t
en_http_sessions (en_http_t *self)
{
    return zhashx_size (self->sessions);
}

uint64_t
en_http_logins (en_http_t *self, int outcome)
{
    return outcome >= 0 && outcome < 3 ? self->logins [outcome] : 0;
}

uint64_t
en_http_responses (en_http_t *self, int status_class)
{
    return status_class >= 1 && status_class <= 5 ? self->responses [status_class] : 0;
}
