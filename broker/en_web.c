/*  en_web - the operators' dashboard (see en_web.h).

    Threads. libmicrohttpd runs one internal thread that accepts, reads
    and answers every connection; all of this file's state below the
    configuration (the DEALER to the broker, sessions, failed-login
    counters) is touched by that thread only, so it needs no lock. The
    broker's own thread never calls in here except to create and destroy.

    Data. Each page or API call asks the broker loop over its inproc
    dashboard socket (one DEALER, one request at a time): "overview",
    "requests", "request", "experts", "charts", "metrics", the operator
    actions. If the broker does not answer in time the DEALER is dropped
    and a new one made, so a late answer can never be taken for the next
    question's.

    Authentication. Everything but /login and /static/ needs either a
    session cookie or an API token (Authorization: Bearer). Without one
    an API call gets 401 and a JSON error, a page 401 and the login form:
    never data. Passwords are verified here, in the web thread, with
    crypto_pwhash_str_verify against the hash the broker keeps (so the
    broker loop never spends an Argon2 computation on a login attempt);
    an unknown name is verified against a dummy hash so it takes as long.
    Failed logins count per name and per client address; after `attempts`
    failures in a row (15 minutes apart at most) that name or address is
    locked for `lockout`, doubling on each further failure up to 16x,
    answered 429 with Retry-After, and logged. Sessions are 256 random
    bits, in an HttpOnly, SameSite=Strict cookie, with an absolute and an
    idle lifetime; every 30 s a session is checked against the broker
    (operator removed or password changed: the session ends). Forms and
    cookie-authenticated API writes carry the session's CSRF token, and
    a POST whose Origin is another site is refused. API tokens are sent
    to the broker only as their BLAKE2b hash.

    Responses carry Content-Security-Policy default-src 'self' (no inline
    script or style anywhere), X-Frame-Options DENY, nosniff, Cache-Control
    no-store and Referrer-Policy same-origin (with no-referrer, browsers
    send "Origin: null" on our own forms, which the Origin check refuses).
*/
#include "en_web.h"
#include "en_pages.h"
#include "en_charts.h"
#include "en_metrics.h"
#include <microhttpd.h>
#include <sodium.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#define MAX_BODY            (64 * 1024)     //  request body limit
#define CALL_TIMEOUT_MS     5000            //  broker answer
#define SESSION_CHECK_MS    30000           //  re-check a session's operator
#define MAX_SESSIONS        1000
#define MAX_FAILURE_KEYS    10000
#define FAILURE_MEMORY_MS   (15 * 60 * 1000)        //  failures further apart start over
#define TOKEN_HEX           64

typedef struct {
    char *operator_name;        //  who logged in
    char csrf [33];             //  form token of this session
    int64_t created;            //  ms, for the absolute lifetime
    int64_t last_used;          //  ms, for the idle lifetime
    int64_t checked;            //  ms of the last check with the broker
    unsigned char fingerprint [16];     //  hash of the password hash at login
} s_session_t;

typedef struct {
    int failures;               //  failed logins in a row
    int64_t last;               //  ms of the last failure
    int64_t locked_until;       //  ms; 0 = not locked
} s_failure_t;

typedef struct {
    char *data;                 //  request body so far
    size_t size;                //  its length
    bool too_large;             //  over MAX_BODY: refused with 413
} s_upload_t;

struct _en_web_t {
    struct MHD_Daemon *daemon;  //  libmicrohttpd, with its thread
    char *address;              //  where it listens, as configured
    char *control;              //  the broker's dashboard control endpoint
    char *broker;               //  broker name, for titles
    int64_t session_ms;         //  absolute session lifetime
    int64_t idle_ms;            //  idle session lifetime
    int64_t lockout_ms;         //  first lock after too many failures
    int attempts;               //  failures before a lock
    bool secure_cookie;         //  add Secure (served behind TLS)
    //  Web thread only:
    zsock_t *dealer;            //  to the broker, made on first use
    zhashx_t *sessions;         //  session token (hex) -> s_session_t
    zhashx_t *failures;         //  "name:X" / "addr:Y" -> s_failure_t
    char *dummy_hash;           //  crypto_pwhash string for unknown names
    uint64_t logins [3];        //  ok, failed, locked (refused unchecked)
    uint64_t responses [6];     //  by status class 1xx..5xx (index 1..5)
};

//  One HTTP request being answered
typedef struct {
    en_web_t *web;
    struct MHD_Connection *conn;
    const char *url;            //  path (no query)
    bool post;                  //  POST (else GET or HEAD)
    s_upload_t *upload;         //  body of a POST
    char addr [INET6_ADDRSTRLEN];       //  client address
    s_session_t *session;       //  cookie session (borrowed), or NULL
    const char *session_token;  //  its token (borrowed from the request)
    const char *operator_name;  //  who: session's or token's operator
    char *token_operator;       //  owned name when logged in by token
} s_request_t;

static void
s_session_destroy (void **item)
{
    s_session_t *session = (s_session_t *) *item;
    free (session->operator_name);
    sodium_memzero (session, sizeof *session);
    free (session);
    *item = NULL;
}

static int64_t
s_config_ms (zconfig_t *config, const char *path, const char *dflt)
{
    int64_t ms = en_duration_ms (zconfig_get (config, path, dflt));
    if (ms <= 0) {
        zsys_warning ("config %s: '%s' is not a duration, using %s", path, zconfig_get (config, path, dflt), dflt);
        ms = en_duration_ms (dflt);
    }
    return ms;
}

//  -------------------------------------------------------------------------
//  Talking to the broker

static void
s_drop_dealer (en_web_t *self)
{
    zsock_destroy (&self->dealer);
}

//  Call a verb on the broker (args consumed). 0 with *result, 1 with
//  *result the broker's {"error", "code"}, -1 when it did not answer.
static int
s_call (en_web_t *self, const char *verb, json_t *args, json_t **result)
{
    *result = NULL;
    char *text = args ? json_dumps (args, JSON_COMPACT) : strdup ("{}");
    json_decref (args);
    if (!self->dealer) {
        self->dealer = zsock_new (ZMQ_DEALER);
        zsock_set_linger (self->dealer, 0);
        zsock_set_sndtimeo (self->dealer, CALL_TIMEOUT_MS);
        if (zsock_connect (self->dealer, "%s", self->control) < 0) {
            s_drop_dealer (self);
            free (text);
            return -1;
        }
    }
    int rc = zstr_sendx (self->dealer, verb, text, NULL);
    free (text);
    if (rc) {
        s_drop_dealer (self);
        return -1;
    }
    //  Wait in slices, so a broker that is stopping is not waited for
    zmq_pollitem_t item = { zsock_resolve (self->dealer), 0, ZMQ_POLLIN, 0 };
    int64_t until = en_now_ms () + CALL_TIMEOUT_MS;
    while (true) {
        if (zmq_poll (&item, 1, 100) > 0)
            break;
        if (zsys_interrupted || en_now_ms () >= until) {
            zsys_warning ("dashboard: the broker did not answer '%s' in time", verb);
            s_drop_dealer (self);
            return -1;
        }
    }
    char *status = NULL, *reply = NULL;
    if (zstr_recvx (self->dealer, &status, &reply, NULL) != 2) {
        zstr_free (&status);
        zstr_free (&reply);
        s_drop_dealer (self);
        return -1;
    }
    *result = json_loads (reply, JSON_DECODE_ANY, NULL);
    rc = streq (status, "ok") ? 0 : 1;
    zstr_free (&status);
    zstr_free (&reply);
    return *result ? rc : -1;
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

static enum MHD_Result
s_queue (s_request_t *req, unsigned int status, struct MHD_Response *response)
{
    if (status / 100 < 6)
        req->web->responses [status / 100]++;
    enum MHD_Result rc = MHD_queue_response (req->conn, status, response);
    MHD_destroy_response (response);
    return rc;
}

static enum MHD_Result
s_reply (s_request_t *req, unsigned int status, const char *type, char *body, size_t size)
{
    return s_queue (req, status, s_response (body, size, type));
}

//  JSON (consumed)
static enum MHD_Result
s_json (s_request_t *req, unsigned int status, json_t *json)
{
    char *text = json_dumps (json ? json : json_null (), JSON_INDENT (1) | JSON_ENCODE_ANY);
    json_decref (json);
    size_t size = strlen (text);
    return s_reply (req, status, "application/json; charset=utf-8", text, size);
}

static enum MHD_Result
s_json_error (s_request_t *req, unsigned int status, const char *message)
{
    return s_json (req, status, json_pack ("{s:s, s:i}", "error", message, "code", (int) status));
}

static enum MHD_Result
s_redirect (s_request_t *req, const char *location, const char *cookie)
{
    struct MHD_Response *response = s_response (strdup (""), 0, "text/plain; charset=utf-8");
    MHD_add_response_header (response, "Location", location);
    if (cookie)
        MHD_add_response_header (response, "Set-Cookie", cookie);
    return s_queue (req, MHD_HTTP_SEE_OTHER, response);
}

//  A page being written
typedef struct {
    char *data;
    size_t size;
    FILE *out;
} s_buf_t;

static FILE *
s_buf_open (s_buf_t *buf)
{
    buf->data = NULL;
    buf->size = 0;
    buf->out = open_memstream (&buf->data, &buf->size);
    assert (buf->out);
    return buf->out;
}

static enum MHD_Result
s_buf_html (s_request_t *req, unsigned int status, s_buf_t *buf)
{
    fclose (buf->out);
    return s_reply (req, status, "text/html; charset=utf-8", buf->data, buf->size);
}

//  Where to go after login: a local path only
static const char *
s_safe_next (const char *next)
{
    if (!next || next [0] != '/' || next [1] == '/' || strlen (next) > 200)
        return "/";
    for (const char *c = next; *c; c++)
        if (*c == '\\' || (unsigned char) *c < 0x20 || *c == '"' || *c == '<' || *c == '>')
            return "/";
    return next;
}

static enum MHD_Result
s_login_page (s_request_t *req, unsigned int status, const char *message, const char *next,
              const char *name, int retry_after)
{
    s_buf_t buf;
    en_pages_login (s_buf_open (&buf), req->web->broker, message, s_safe_next (next), name);
    fclose (buf.out);
    struct MHD_Response *response = s_response (buf.data, buf.size, "text/html; charset=utf-8");
    if (retry_after > 0) {
        char seconds [16];
        snprintf (seconds, sizeof seconds, "%d", retry_after);
        MHD_add_response_header (response, "Retry-After", seconds);
    }
    return s_queue (req, status, response);
}

//  Not logged in: an API call gets a JSON 401, a page the login form
//  (with 401), a live fragment a bare 401 the script turns into a
//  redirect. No data in any of them.
static enum MHD_Result
s_unauthorized (s_request_t *req)
{
    if (strncmp (req->url, "/api/", 5) == 0 || streq (req->url, "/metrics")) {
        char *text = strdup ("{\"error\": \"login required: a session cookie or an API token"
                             " (Authorization: Bearer)\", \"code\": 401}\n");
        struct MHD_Response *response = s_response (text, strlen (text), "application/json; charset=utf-8");
        MHD_add_response_header (response, "WWW-Authenticate", "Bearer realm=\"expertnet\"");
        return s_queue (req, MHD_HTTP_UNAUTHORIZED, response);
    }
    if (strncmp (req->url, "/fragment/", 10) == 0 || req->post)
        return s_reply (req, MHD_HTTP_UNAUTHORIZED, "text/plain; charset=utf-8", strdup ("niet ingelogd\n"), 14);
    return s_login_page (req, MHD_HTTP_UNAUTHORIZED, NULL, req->url, NULL, 0);
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

//  A field of an application/x-www-form-urlencoded body, decoded; NULL
//  when absent. Caller frees.
static char *
s_form_field (const char *body, size_t size, const char *name)
{
    size_t name_len = strlen (name);
    const char *end = body + size;
    for (const char *p = body; p && p < end; ) {
        const char *amp = memchr (p, '&', (size_t) (end - p));
        const char *stop = amp ? amp : end;
        if ((size_t) (stop - p) > name_len && strncmp (p, name, name_len) == 0 && p [name_len] == '=') {
            const char *v = p + name_len + 1;
            char *value = (char *) malloc ((size_t) (stop - v) + 1);
            size_t n = 0;
            while (v < stop) {
                if (*v == '+')
                    value [n++] = ' ';
                else
                if (*v == '%' && stop - v >= 3 && s_hex_value (v [1]) >= 0 && s_hex_value (v [2]) >= 0) {
                    value [n++] = (char) (s_hex_value (v [1]) * 16 + s_hex_value (v [2]));
                    v += 2;
                }
                else
                    value [n++] = *v;
                v++;
            }
            value [n] = 0;
            if (strlen (value) != n) {      //  an encoded NUL: refuse the field
                free (value);
                return NULL;
            }
            return value;
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

static bool
s_is_json (s_request_t *req)
{
    const char *type = MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, "Content-Type");
    return type && strncasecmp (type, "application/json", 16) == 0;
}

//  The body as a JSON object (JSON) or its form fields (form), as JSON
//  strings either way. Caller owns; NULL when neither parses.
static json_t *
s_body_fields (s_request_t *req, const char **names)
{
    const char *data = req->upload && req->upload->data ? req->upload->data : "";
    size_t size = req->upload ? req->upload->size : 0;
    if (s_is_json (req)) {
        json_t *json = json_loadb (data, size, 0, NULL);
        if (!json_is_object (json)) {
            json_decref (json);
            return NULL;
        }
        return json;
    }
    json_t *fields = json_object ();
    for (int i = 0; names [i]; i++) {
        char *value = s_form_field (data, size, names [i]);
        if (value)
            json_object_set_new (fields, names [i], json_string (value));
        if (value)
            sodium_memzero (value, strlen (value));
        free (value);
    }
    return fields;
}

static const char *
s_query (s_request_t *req, const char *name)
{
    return MHD_lookup_connection_value (req->conn, MHD_GET_ARGUMENT_KIND, name);
}

//  -------------------------------------------------------------------------
//  Sessions and logins

static void
s_fingerprint (const char *pwhash, unsigned char fingerprint [16])
{
    crypto_generichash (fingerprint, 16, (const unsigned char *) pwhash, strlen (pwhash), NULL, 0);
}

//  Check the session's operator with the broker now and then: removed, or
//  a new password since the login, ends the session.
static bool
s_session_still_valid (en_web_t *self, s_session_t *session, int64_t now)
{
    if (now - session->checked < SESSION_CHECK_MS)
        return true;
    json_t *result;
    int rc = s_call (self, "operator-hash", json_pack ("{s:s}", "name", session->operator_name), &result);
    bool valid = true;
    if (rc == 1)
        valid = false;              //  no such operator any more
    else
    if (rc == 0) {
        unsigned char fingerprint [16];
        s_fingerprint (en_json_str (result, "pwhash") ?: "", fingerprint);
        valid = sodium_memcmp (fingerprint, session->fingerprint, 16) == 0;
    }
    //  rc -1 (broker busy): keep the session until the next check
    json_decref (result);
    session->checked = now;
    return valid;
}

static void
s_sessions_expire (en_web_t *self, int64_t now)
{
    zlistx_t *keys = zhashx_keys (self->sessions);
    for (const char *key = (const char *) zlistx_first (keys); key; key = (const char *) zlistx_next (keys)) {
        s_session_t *session = (s_session_t *) zhashx_lookup (self->sessions, key);
        if (now - session->created > self->session_ms || now - session->last_used > self->idle_ms)
            zhashx_delete (self->sessions, key);
    }
    zlistx_destroy (&keys);
}

//  Who is asking: a valid session cookie or API token sets operator_name.
static void
s_authenticate (s_request_t *req)
{
    en_web_t *self = req->web;
    int64_t now = en_now_ms ();
    const char *authorization = MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, "Authorization");
    if (authorization && strncasecmp (authorization, "Bearer ", 7) == 0) {
        const char *token = authorization + 7;
        while (*token == ' ')
            token++;
        if (strlen (token) != TOKEN_HEX || strspn (token, "0123456789abcdef") != TOKEN_HEX)
            return;
        unsigned char digest [32];
        char hash [65];
        crypto_generichash (digest, sizeof digest, (const unsigned char *) token, TOKEN_HEX, NULL, 0);
        sodium_bin2hex (hash, sizeof hash, digest, sizeof digest);
        json_t *result;
        if (s_call (self, "token-check", json_pack ("{s:s}", "hash", hash), &result) == 0
        &&  en_json_str (result, "operator")) {
            req->token_operator = strdup (en_json_str (result, "operator"));
            req->operator_name = req->token_operator;
        }
        json_decref (result);
        return;
    }
    const char *cookie = MHD_lookup_connection_value (req->conn, MHD_COOKIE_KIND, "en_session");
    if (!cookie || strlen (cookie) != TOKEN_HEX)
        return;
    s_session_t *session = (s_session_t *) zhashx_lookup (self->sessions, cookie);
    if (!session)
        return;
    if (now - session->created > self->session_ms || now - session->last_used > self->idle_ms
    ||  !s_session_still_valid (self, session, now)) {
        zhashx_delete (self->sessions, cookie);
        return;
    }
    session->last_used = now;
    req->session = session;
    req->session_token = cookie;
    req->operator_name = session->operator_name;
}

//  Milliseconds a failure key is still locked for (0 = not locked)
static int64_t
s_locked (en_web_t *self, const char *key, int64_t now)
{
    s_failure_t *failure = (s_failure_t *) zhashx_lookup (self->failures, key);
    return failure && failure->locked_until > now ? failure->locked_until - now : 0;
}

static int
s_failed (en_web_t *self, const char *key, int64_t now)
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
s_dummy_hash (en_web_t *self)
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

static enum MHD_Result
s_login (s_request_t *req)
{
    en_web_t *self = req->web;
    int64_t now = en_now_ms ();
    bool api = s_is_json (req);
    const char *names [] = { "name", "password", "next", NULL };
    json_t *fields = s_body_fields (req, names);
    const char *name = en_json_str (fields, "name");
    const char *password = en_json_str (fields, "password");
    const char *next = en_json_str (fields, "next");
    if (!name || !password) {
        enum MHD_Result rc = api ? s_json_error (req, MHD_HTTP_BAD_REQUEST, "name and password required")
                                 : s_login_page (req, MHD_HTTP_BAD_REQUEST, "Vul naam en wachtwoord in.", next, NULL, 0);
        json_decref (fields);
        return rc;
    }
    //  Typed names are logged only when they are names (a password typed
    //  into the name field must not end up in the log)
    bool name_valid = en_name_valid (name);
    const char *shown = name_valid ? name : "(no valid name)";
    char name_key [80], addr_key [80];
    snprintf (name_key, sizeof name_key, "name:%s", name_valid ? name : "?");
    snprintf (addr_key, sizeof addr_key, "addr:%s", req->addr);
    int64_t locked_name = name_valid ? s_locked (self, name_key, now) : 0;
    int64_t locked_addr = s_locked (self, addr_key, now);
    int64_t locked = MAX (locked_name, locked_addr);
    if (locked) {
        self->logins [2]++;
        int seconds = (int) ((locked + 999) / 1000);
        zsys_warning ("dashboard: login for %s from %s refused: locked for %d s after failed attempts",
                      shown, req->addr, seconds);
        enum MHD_Result rc;
        if (api) {
            struct MHD_Response *response;
            char *text = NULL;
            json_t *error = json_pack ("{s:s, s:i, s:i}", "error", "too many failed logins; try again later",
                                       "code", 429, "retry_after", seconds);
            text = json_dumps (error, JSON_COMPACT);
            json_decref (error);
            response = s_response (text, strlen (text), "application/json; charset=utf-8");
            char retry [16];
            snprintf (retry, sizeof retry, "%d", seconds);
            MHD_add_response_header (response, "Retry-After", retry);
            rc = s_queue (req, 429, response);
        }
        else {
            char message [160];
            snprintf (message, sizeof message,
                      "Te veel mislukte pogingen. Probeer het over %d seconden opnieuw.", seconds);
            rc = s_login_page (req, 429, message, next, name_valid ? name : NULL, seconds);
        }
        json_decref (fields);
        return rc;
    }
    json_t *record = NULL;
    if (name_valid && s_call (self, "operator-hash", json_pack ("{s:s}", "name", name), &record) != 0) {
        json_decref (record);
        record = NULL;
    }
    const char *pwhash = en_json_str (record, "pwhash");
    //  Verify even for an unknown name, so timing does not tell names apart
    bool verified = crypto_pwhash_str_verify (pwhash ? pwhash : s_dummy_hash (self), password,
                                              strlen (password)) == 0 && pwhash;
    if (!verified) {
        self->logins [1]++;
        int failures = s_failed (self, addr_key, now);
        if (name_valid) {
            int by_name = s_failed (self, name_key, now);
            failures = MAX (failures, by_name);
        }
        zsys_warning ("dashboard: failed login for %s from %s (%d in a row)", shown, req->addr, failures);
        enum MHD_Result rc = api ? s_json_error (req, MHD_HTTP_UNAUTHORIZED, "wrong name or password")
                                 : s_login_page (req, MHD_HTTP_UNAUTHORIZED, "Onjuiste naam of wachtwoord.", next,
                                                 name_valid ? name : NULL, 0);
        json_decref (record);
        json_decref (fields);
        return rc;
    }
    self->logins [0]++;
    zhashx_delete (self->failures, name_key);
    zhashx_delete (self->failures, addr_key);
    s_sessions_expire (self, now);
    if (zhashx_size (self->sessions) >= MAX_SESSIONS) {
        zsys_error ("dashboard: %d sessions open; login of %s refused", MAX_SESSIONS, name);
        enum MHD_Result rc = api ? s_json_error (req, MHD_HTTP_SERVICE_UNAVAILABLE, "too many sessions")
                                 : s_login_page (req, MHD_HTTP_SERVICE_UNAVAILABLE,
                                                 "Te veel sessies open; probeer het later.", next, name, 0);
        json_decref (record);
        json_decref (fields);
        return rc;
    }
    s_session_t *session = (s_session_t *) zmalloc (sizeof (s_session_t));
    session->operator_name = strdup (name);
    session->created = session->last_used = session->checked = now;
    s_fingerprint (pwhash, session->fingerprint);
    en_random_hex (session->csrf, 32);
    unsigned char raw [32];
    char token [TOKEN_HEX + 1];
    randombytes_buf (raw, sizeof raw);
    sodium_bin2hex (token, sizeof token, raw, sizeof raw);
    zhashx_insert (self->sessions, token, session);
    zsys_info ("dashboard: %s logged in from %s", name, req->addr);
    char cookie [256];
    snprintf (cookie, sizeof cookie, "en_session=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%lld%s",
              token, (long long) (self->session_ms / 1000), self->secure_cookie ? "; Secure" : "");
    sodium_memzero (token, sizeof token);
    sodium_memzero (raw, sizeof raw);
    enum MHD_Result rc;
    if (api) {
        struct MHD_Response *response;
        json_t *json = json_pack ("{s:s, s:s}", "operator", name, "csrf", session->csrf);
        char *text = json_dumps (json, JSON_COMPACT);
        json_decref (json);
        response = s_response (text, strlen (text), "application/json; charset=utf-8");
        MHD_add_response_header (response, "Set-Cookie", cookie);
        rc = s_queue (req, MHD_HTTP_OK, response);
    }
    else
        rc = s_redirect (req, s_safe_next (next), cookie);
    sodium_memzero (cookie, sizeof cookie);
    json_decref (record);
    json_decref (fields);
    return rc;
}

//  A cookie-authenticated write must carry the session's CSRF token (form
//  field csrf or header X-CSRF-Token); a token login needs none.
static bool
s_csrf_ok (s_request_t *req, const char *form_token)
{
    if (!req->session)
        return req->operator_name != NULL;
    const char *token = form_token ? form_token
                      : MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, "X-CSRF-Token");
    return token && strlen (token) == 32 && sodium_memcmp (token, req->session->csrf, 32) == 0;
}

//  A POST from a page of another site is refused whatever it carries.
//  Without Origin (curl, scripts) the session's CSRF token or an API
//  token is what protects it.
static bool
s_same_origin (s_request_t *req)
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

//  -------------------------------------------------------------------------
//  Pages

static void
s_page_frame (s_request_t *req, en_page_t *page)
{
    page->broker = req->web->broker;
    page->operator_name = req->operator_name;
    page->csrf = req->session ? req->session->csrf : NULL;
    page->now = en_now_ms ();
}

//  A broker call failed: a page saying so (502/404 and the like)
static enum MHD_Result
s_page_error (s_request_t *req, int rc, json_t *result)
{
    unsigned int status = rc < 0 ? MHD_HTTP_BAD_GATEWAY
                        : (unsigned int) en_json_int (result, "code", 500);
    en_page_t page;
    s_page_frame (req, &page);
    s_buf_t buf;
    FILE *out = s_buf_open (&buf);
    en_pages_begin (out, &page, "Fout", NULL);
    if (rc < 0)
        en_pages_message (out, "De broker antwoordt niet", "Probeer het zo opnieuw.");
    else
    if (status == 404)
        en_pages_message (out, "Niet gevonden", en_json_str (result, "error") ?: "");
    else
        en_pages_message (out, "Fout", en_json_str (result, "error") ?: "");
    en_pages_end (out);
    json_decref (result);
    return s_buf_html (req, status, &buf);
}

static enum MHD_Result
s_page_overview (s_request_t *req, bool fragment)
{
    json_t *overview;
    int rc = s_call (req->web, "overview", NULL, &overview);
    if (rc)
        return fragment ? s_reply (req, MHD_HTTP_BAD_GATEWAY, "text/plain; charset=utf-8", strdup (""), 0)
                        : s_page_error (req, rc, overview);
    s_buf_t buf;
    FILE *out = s_buf_open (&buf);
    if (fragment)
        en_pages_overview (out, overview);
    else {
        json_t *charts = NULL;
        s_call (req->web, "charts", NULL, &charts);
        en_page_t page;
        s_page_frame (req, &page);
        en_pages_begin (out, &page, "Overzicht", "overzicht");
        fputs ("<div class=\"livebar\"><h1>Overzicht</h1><span id=\"live-status\" class=\"live\">live</span></div>"
               "<div id=\"live\" data-src=\"/fragment/overview\" data-every=\"2000\">", out);
        en_pages_overview (out, overview);
        fputs ("</div><h2>Doorlooptijden</h2><div id=\"charts\" data-src=\"/fragment/charts\" data-every=\"30000\">", out);
        en_pages_charts (out, charts);
        fputs ("</div>", out);
        en_pages_end (out);
        json_decref (charts);
    }
    json_decref (overview);
    return s_buf_html (req, MHD_HTTP_OK, &buf);
}

static enum MHD_Result
s_page_charts (s_request_t *req, bool fragment)
{
    json_t *charts;
    int rc = s_call (req->web, "charts", NULL, &charts);
    if (rc)
        return fragment ? s_reply (req, MHD_HTTP_BAD_GATEWAY, "text/plain; charset=utf-8", strdup (""), 0)
                        : s_page_error (req, rc, charts);
    s_buf_t buf;
    FILE *out = s_buf_open (&buf);
    if (fragment)
        en_pages_charts (out, charts);
    else {
        en_page_t page;
        s_page_frame (req, &page);
        en_pages_begin (out, &page, "Grafieken", "grafieken");
        fputs ("<div class=\"livebar\"><h1>Grafieken</h1><span id=\"live-status\" class=\"live\">live</span></div>"
               "<p class=\"muted\">Tijden gemeten vanaf het indienen van een verzoek bij de broker; kleuren per urgentie."
               " Ververst elke 30 seconden.</p><div data-src=\"/fragment/charts\" data-every=\"30000\">", out);
        en_pages_charts (out, charts);
        fputs ("</div>", out);
        en_pages_end (out);
    }
    json_decref (charts);
    return s_buf_html (req, MHD_HTTP_OK, &buf);
}

static bool
s_state_valid (const char *state)
{
    static const char *states [] = { "submitted", "offered", "escalated", "accepted", "advice",
                                     "closed", "hiaat", NULL };
    for (int i = 0; state && states [i]; i++)
        if (streq (state, states [i]))
            return true;
    return false;
}

static enum MHD_Result
s_page_requests (s_request_t *req)
{
    const char *state = s_query (req, "status");
    if (state && !*state)
        state = NULL;
    if (state && !s_state_valid (state))
        state = NULL;
    json_t *args = json_pack ("{s:i}", "limit", 500);
    if (state)
        json_object_set_new (args, "state", json_string (state));
    json_t *requests;
    int rc = s_call (req->web, "requests", args, &requests);
    if (rc)
        return s_page_error (req, rc, requests);
    en_page_t page;
    s_page_frame (req, &page);
    s_buf_t buf;
    FILE *out = s_buf_open (&buf);
    en_pages_begin (out, &page, "Verzoeken", "verzoeken");
    en_pages_requests (out, requests, state, page.now);
    en_pages_end (out);
    json_decref (requests);
    return s_buf_html (req, MHD_HTTP_OK, &buf);
}

//  A request as the operator sees it (logged in the broker's access log)
static int
s_request_view (s_request_t *req, const char *id, json_t **request, json_t **audit)
{
    *audit = NULL;
    int rc = s_call (req->web, "request", json_pack ("{s:s, s:s}", "id", id, "operator", req->operator_name),
                     request);
    if (rc == 0 && s_call (req->web, "audit-show", json_pack ("{s:s}", "case", id), audit) != 0) {
        json_decref (*audit);
        *audit = json_array ();
    }
    return rc;
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

static enum MHD_Result
s_page_request (s_request_t *req, const char *id, const char *message, bool is_error, unsigned int status)
{
    json_t *request, *audit;
    int rc = s_request_view (req, id, &request, &audit);
    if (rc)
        return s_page_error (req, rc, request);
    if (!message)
        message = s_action_done (s_query (req, "gedaan"));
    en_page_t page;
    s_page_frame (req, &page);
    s_buf_t buf;
    FILE *out = s_buf_open (&buf);
    en_pages_begin (out, &page, id, "verzoeken");
    en_pages_request (out, &page, request, audit, message, is_error);
    en_pages_end (out);
    json_decref (request);
    json_decref (audit);
    return s_buf_html (req, status, &buf);
}

static bool
s_action_valid (const char *action)
{
    return action && (streq (action, "reoffer") || streq (action, "escalate") || streq (action, "close")
                      || streq (action, "recall"));
}

//  An operator action from the request page's forms
static enum MHD_Result
s_page_action (s_request_t *req, const char *id)
{
    const char *names [] = { "csrf", "action", "reason", NULL };
    json_t *fields = s_body_fields (req, names);
    if (!s_csrf_ok (req, en_json_str (fields, "csrf"))) {
        json_decref (fields);
        return s_page_request (req, id, "Het formulier is verlopen; probeer het opnieuw.", true, MHD_HTTP_FORBIDDEN);
    }
    const char *action = en_json_str (fields, "action");
    const char *reason = en_json_str (fields, "reason");
    if (!s_action_valid (action) || !reason || !*reason) {
        json_decref (fields);
        return s_page_request (req, id, "Kies een actie en vul een reden in.", true, MHD_HTTP_UNPROCESSABLE_CONTENT);
    }
    json_t *result;
    int rc = s_call (req->web, action, json_pack ("{s:s, s:s, s:s}", "request", id, "reason", reason,
                                                  "operator", req->operator_name), &result);
    enum MHD_Result answer;
    if (rc == 0) {
        char location [160];
        snprintf (location, sizeof location, "/verzoek/%s?gedaan=%s", id, action);
        answer = s_redirect (req, location, NULL);
    }
    else {
        char message [400];
        snprintf (message, sizeof message, "Niet gelukt: %s",
                  rc < 0 ? "de broker antwoordt niet" : en_json_str (result, "error") ?: "?");
        answer = s_page_request (req, id, message, true,
                                 rc < 0 ? MHD_HTTP_BAD_GATEWAY : (unsigned int) en_json_int (result, "code", 500));
    }
    json_decref (result);
    json_decref (fields);
    return answer;
}

static enum MHD_Result
s_page_experts (s_request_t *req)
{
    json_t *experts;
    int rc = s_call (req->web, "experts", NULL, &experts);
    if (rc)
        return s_page_error (req, rc, experts);
    en_page_t page;
    s_page_frame (req, &page);
    s_buf_t buf;
    FILE *out = s_buf_open (&buf);
    en_pages_begin (out, &page, "Experts", "experts");
    en_pages_experts (out, experts, page.now);
    en_pages_end (out);
    json_decref (experts);
    return s_buf_html (req, MHD_HTTP_OK, &buf);
}

//  -------------------------------------------------------------------------
//  JSON API and metrics

//  Pass a broker answer on: its data (200) or its error with its code.
static enum MHD_Result
s_api_result (s_request_t *req, int rc, json_t *result)
{
    if (rc < 0) {
        json_decref (result);
        return s_json_error (req, MHD_HTTP_BAD_GATEWAY, "the broker did not answer");
    }
    if (rc == 1) {
        unsigned int status = (unsigned int) en_json_int (result, "code", 500);
        return s_json (req, status >= 400 && status < 600 ? status : 500, result);
    }
    return s_json (req, MHD_HTTP_OK, result);
}

//  Call the broker and pass its answer on
static enum MHD_Result
s_api_call (s_request_t *req, const char *verb, json_t *args)
{
    json_t *result;
    int rc = s_call (req->web, verb, args, &result);
    return s_api_result (req, rc, result);
}

static enum MHD_Result
s_api (s_request_t *req)
{
    en_web_t *self = req->web;
    const char *path = req->url + 4;            //  after "/api"
    json_t *result = NULL;
    if (req->post) {
        //  POST /api/requests/<id>/<action>
        char id [96], action [16];
        if (sscanf (path, "/requests/%95[a-z0-9.-]/%15[a-z]", id, action) != 2 || !s_action_valid (action))
            return s_json_error (req, MHD_HTTP_NOT_FOUND, "no such API path");
        if (!s_csrf_ok (req, NULL))
            return s_json_error (req, MHD_HTTP_FORBIDDEN, "X-CSRF-Token header required with a session cookie");
        const char *names [] = { "reason", NULL };
        json_t *fields = s_body_fields (req, names);
        if (!fields)
            return s_json_error (req, MHD_HTTP_BAD_REQUEST, "body must be a JSON object or a form");
        json_t *args = json_pack ("{s:s, s:s, s:s?}", "request", id, "operator", req->operator_name,
                                  "reason", en_json_str (fields, "reason"));
        json_decref (fields);
        int rc = s_call (self, action, args, &result);
        return s_api_result (req, rc, result);
    }
    if (streq (path, "/me"))
        return s_json (req, MHD_HTTP_OK, json_pack ("{s:s, s:s, s:s?}", "operator", req->operator_name,
                                                    "via", req->session ? "session" : "token",
                                                    "csrf", req->session ? req->session->csrf : NULL));
    if (streq (path, "/overview"))
        return s_api_call (req, "overview", NULL);
    if (streq (path, "/status"))
        return s_api_call (req, "status", NULL);
    if (streq (path, "/experts"))
        return s_api_call (req, "experts", NULL);
    if (streq (path, "/offers"))
        return s_api_call (req, "offers", NULL);
    if (streq (path, "/hiaten"))
        return s_api_call (req, "hiaten", NULL);
    if (streq (path, "/nodes")) {
        int rc = s_call (self, "overview", NULL, &result);
        if (rc == 0) {
            json_t *nodes = json_incref (json_object_get (result, "nodes"));
            json_decref (result);
            result = nodes;
        }
        return s_api_result (req, rc, result);
    }
    if (streq (path, "/charts")) {
        const char *days = s_query (req, "days");
        json_t *args = json_object ();
        if (days && atoi (days) > 0)
            json_object_set_new (args, "days", json_integer (atoi (days)));
        return s_api_call (req, "charts", args);
    }
    if (streq (path, "/requests")) {
        const char *state = s_query (req, "state");
        const char *limit = s_query (req, "limit");
        if (state && !s_state_valid (state))
            return s_json_error (req, MHD_HTTP_BAD_REQUEST, "state must be a request state");
        json_t *args = json_pack ("{s:i}", "limit", limit && atoi (limit) > 0 ? MIN (atoi (limit), 5000) : 100);
        if (state)
            json_object_set_new (args, "state", json_string (state));
        return s_api_call (req, "requests", args);
    }
    if (strncmp (path, "/requests/", 10) == 0) {
        const char *id = path + 10;
        if (!en_id_valid (id))
            return s_json_error (req, MHD_HTTP_NOT_FOUND, "no such request");
        json_t *audit;
        int rc = s_request_view (req, id, &result, &audit);
        if (rc == 0)
            json_object_set_new (result, "audit", audit);
        return s_api_result (req, rc, result);
    }
    return s_json_error (req, MHD_HTTP_NOT_FOUND, "no such API path");
}

static enum MHD_Result
s_metrics (s_request_t *req)
{
    en_web_t *self = req->web;
    json_t *families;
    int rc = s_call (self, "metrics", NULL, &families);
    if (rc) {
        json_decref (families);
        return s_reply (req, MHD_HTTP_BAD_GATEWAY, "text/plain; charset=utf-8",
                        strdup ("the broker did not answer\n"), 26);
    }
    json_t *family = en_metrics_gauge (families, "expertnet_web_sessions", "Dashboard sessions open.");
    en_metrics_sample (family, NULL, NULL, (double) zhashx_size (self->sessions));
    family = json_pack ("{s:s, s:s, s:s, s:[]}", "name", "expertnet_web_logins_total", "type", "counter",
                        "help", "Dashboard login attempts: ok, failed (wrong name or password), locked (refused unchecked).",
                        "samples");
    const char *outcomes [] = { "ok", "failed", "locked" };
    for (int i = 0; i < 3; i++)
        en_metrics_sample (family, "outcome", outcomes [i], (double) self->logins [i]);
    json_array_append_new (families, family);
    family = json_pack ("{s:s, s:s, s:s, s:[]}", "name", "expertnet_web_responses_total", "type", "counter",
                        "help", "Dashboard HTTP responses, by status class.", "samples");
    for (int i = 1; i <= 5; i++) {
        char label [4];
        snprintf (label, sizeof label, "%dxx", i);
        en_metrics_sample (family, "class", label, (double) self->responses [i]);
    }
    json_array_append_new (families, family);
    char *text = en_metrics_text (families);
    json_decref (families);
    return s_reply (req, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, strlen (text));
}

//  -------------------------------------------------------------------------
//  Dispatch

static enum MHD_Result
s_dispatch (s_request_t *req)
{
    const char *url = req->url;
    //  Public: the assets and the login form
    if (!req->post && streq (url, "/static/style.css"))
        return s_reply (req, MHD_HTTP_OK, "text/css; charset=utf-8", strdup (en_web_css), strlen (en_web_css));
    if (!req->post && streq (url, "/static/app.js"))
        return s_reply (req, MHD_HTTP_OK, "text/javascript; charset=utf-8", strdup (en_web_js), strlen (en_web_js));
    if (!req->post && streq (url, "/static/icon.svg"))
        return s_reply (req, MHD_HTTP_OK, "image/svg+xml", strdup (en_web_icon), strlen (en_web_icon));
    if (req->post && !s_same_origin (req))
        return s_json_error (req, MHD_HTTP_FORBIDDEN, "cross-site request refused");
    if (streq (url, "/login")) {
        if (req->post)
            return s_login (req);
        s_authenticate (req);
        if (req->operator_name)
            return s_redirect (req, s_safe_next (s_query (req, "next")), NULL);
        return s_login_page (req, MHD_HTTP_OK, NULL, s_query (req, "next"), NULL, 0);
    }
    s_authenticate (req);
    if (!req->operator_name)
        return s_unauthorized (req);

    if (streq (url, "/logout") && req->post) {
        const char *names [] = { "csrf", NULL };
        json_t *fields = s_body_fields (req, names);
        bool ok = s_csrf_ok (req, en_json_str (fields, "csrf"));
        json_decref (fields);
        if (!ok)
            return s_json_error (req, MHD_HTTP_FORBIDDEN, "csrf token required");
        if (req->session) {
            zsys_info ("dashboard: %s logged out", req->operator_name);
            zhashx_delete (req->web->sessions, req->session_token);
            req->session = NULL;
        }
        return s_redirect (req, "/login", "en_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    }
    if (strncmp (url, "/api/", 5) == 0)
        return s_api (req);
    if (streq (url, "/metrics") && !req->post)
        return s_metrics (req);
    if (strncmp (url, "/verzoek/", 9) == 0) {
        const char *id = url + 9;
        if (!en_id_valid (id))
            return s_page_error (req, 1, json_pack ("{s:s, s:i}", "error", "Dit verzoek bestaat niet.", "code", 404));
        return req->post ? s_page_action (req, id) : s_page_request (req, id, NULL, false, MHD_HTTP_OK);
    }
    if (req->post)
        return s_json_error (req, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed here");
    if (streq (url, "/"))
        return s_page_overview (req, false);
    if (streq (url, "/fragment/overview"))
        return s_page_overview (req, true);
    if (streq (url, "/fragment/charts"))
        return s_page_charts (req, true);
    if (streq (url, "/grafieken"))
        return s_page_charts (req, false);
    if (streq (url, "/verzoeken"))
        return s_page_requests (req);
    if (streq (url, "/experts"))
        return s_page_experts (req);
    return s_page_error (req, 1, json_pack ("{s:s, s:i}", "error", "Deze pagina bestaat niet.", "code", 404));
}

static enum MHD_Result
s_handler (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    en_web_t *self = (en_web_t *) cls;
    s_upload_t *upload = (s_upload_t *) *con_cls;
    if (!upload) {
        //  First call: headers only
        *con_cls = zmalloc (sizeof (s_upload_t));
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!upload->too_large && upload->size + *upload_data_size <= MAX_BODY) {
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
    s_request_t req = { .web = self, .conn = connection, .url = url, .upload = upload };
    const union MHD_ConnectionInfo *info = MHD_get_connection_info (connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    strcpy (req.addr, "?");
    if (info && info->client_addr) {
        const struct sockaddr *sa = info->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop (AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, req.addr, sizeof req.addr);
        else
        if (sa->sa_family == AF_INET6)
            inet_ntop (AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, req.addr, sizeof req.addr);
    }
    enum MHD_Result rc;
    if (streq (method, "POST"))
        req.post = true;
    if (!streq (method, "GET") && !streq (method, "HEAD") && !streq (method, "POST")) {
        struct MHD_Response *response = s_response (strdup ("method not allowed\n"), 19, "text/plain; charset=utf-8");
        MHD_add_response_header (response, "Allow", "GET, HEAD, POST");
        rc = s_queue (&req, MHD_HTTP_METHOD_NOT_ALLOWED, response);
    }
    else
    if (upload->too_large)
        rc = s_json_error (&req, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
    else
        rc = s_dispatch (&req);
    free (req.token_operator);
    return rc;
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
    char line [512];
    vsnprintf (line, sizeof line, format, ap);
    size_t len = strlen (line);
    while (len && (line [len - 1] == '\n' || line [len - 1] == '\r'))
        line [--len] = 0;
    zsys_warning ("dashboard (libmicrohttpd): %s", line);
}

//  -------------------------------------------------------------------------
//  Life cycle

en_web_t *
en_web_new (zconfig_t *config, const char *control_endpoint, const char *broker_name,
            char *err, size_t errlen)
{
    const char *address = zconfig_get (config, "web/address", EN_WEB_DEFAULT_ADDRESS);
    //  HOST:PORT, or [IPV6]:PORT
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
        snprintf (err, errlen, "web/address '%s' is not HOST:PORT (or 'off')", address);
        return NULL;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *found = NULL;
    int gai = getaddrinfo (host, port, &hints, &found);
    if (gai || !found) {
        snprintf (err, errlen, "web/address '%s': %s", address, gai_strerror (gai));
        return NULL;
    }
    en_web_t *self = (en_web_t *) zmalloc (sizeof (en_web_t));
    assert (self);
    self->address = strdup (address);
    self->control = strdup (control_endpoint);
    self->broker = strdup (broker_name);
    self->session_ms = s_config_ms (config, "web/session", "8h");
    self->idle_ms = s_config_ms (config, "web/idle", "30m");
    self->lockout_ms = s_config_ms (config, "web/lockout", "60s");
    self->attempts = atoi (zconfig_get (config, "web/attempts", "5"));
    if (self->attempts < 1)
        self->attempts = 5;
    self->secure_cookie = streq (zconfig_get (config, "web/secure_cookie", "false"), "true");
    self->sessions = zhashx_new ();
    zhashx_set_destructor (self->sessions, s_session_destroy);
    self->failures = zhashx_new ();
    zhashx_set_destructor (self->failures, (zhashx_destructor_fn *) zstr_free);

    unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (found->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    self->daemon = MHD_start_daemon (flags, 0, NULL, NULL, s_handler, self,
        MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, self,
        MHD_OPTION_SOCK_ADDR, found->ai_addr,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, self,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 64,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int) 32,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 30,
        MHD_OPTION_END);
    freeaddrinfo (found);
    if (!self->daemon) {
        snprintf (err, errlen, "cannot listen on %s (in use, or not an address of this host)", address);
        en_web_destroy (&self);
        return NULL;
    }
    zsys_info ("dashboard on http://%s/ (operators: 'expertnet broker operator-add NAME')", address);
    return self;
}

void
en_web_destroy (en_web_t **self_p)
{
    assert (self_p);
    en_web_t *self = *self_p;
    if (self) {
        //  Joins the web thread: after this, its state is ours to free
        if (self->daemon)
            MHD_stop_daemon (self->daemon);
        s_drop_dealer (self);
        zhashx_destroy (&self->sessions);
        zhashx_destroy (&self->failures);
        free (self->dummy_hash);
        free (self->address);
        free (self->control);
        free (self->broker);
        free (self);
        *self_p = NULL;
    }
}
