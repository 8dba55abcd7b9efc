/*  test_http - lib/en_http.c, the web stack, over real HTTP on loopback
    with a small app of its own: the login (Argon2id), an unknown name
    and a wrong password alike, the lockout with Retry-After, the TOTP
    second step (codes made with en_totp), the login hook that sees the
    password once and the session's secret slot, role and extra, CSRF on
    writes, the Origin check, logout, the body limit (413), the security
    headers and static assets. The dashboard's use of it is
    tests/integration/test_web.sh; this is the part the portal shares.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "expertnet.h"

#define TOTP_SECRET "JBSWY3DPEHPK3PXP"      //  base32, a test value

//  The app: two accounts in memory, a dispatcher that shows who is
//  asking, what the session holds, and whether the CSRF check passes
typedef struct {
    char *anna_hash;            //  medewerker, no second factor
    char *erik_hash;            //  expert with TOTP and an expert id
    int hooks;                  //  on_login calls
    char last_password [64];    //  what the hook saw
    int events [3];             //  login events ok, failed, locked
    int64_t totp_step;          //  what the hook saw of the login's TOTP step
} app_t;

static json_t *
s_account (en_http_t *http, void *arg, const char *name, en_error_t *error)
{
    app_t *app = (app_t *) arg;
    if (streq (name, "anna"))
        return json_pack ("{s:s, s:s, s:n, s:b}", "pwhash", app->anna_hash, "role", "medewerker",
                          "totp_secret", "totp_required", false);
    if (streq (name, "erik"))
        return json_pack ("{s:s, s:s, s:s, s:b, s:s}", "pwhash", app->erik_hash, "role", "expert",
                          "totp_secret", TOTP_SECRET, "totp_required", true, "expert", "se-tw-01");
    if (streq (name, "frits"))      //  must use TOTP, has none set up
        return json_pack ("{s:s, s:s, s:n, s:b}", "pwhash", app->anna_hash, "role", "beheerder",
                          "totp_secret", "totp_required", true);
    return NULL;                    //  no such account (error left clear)
}

static void
s_login_page (FILE *out, void *arg, const en_http_login_view_t *view)
{
    fprintf (out, "<form>login message=[%s] next=[%s] code=%d pending=[%s]</form>", view->message ?: "",
             view->next ?: "", view->code, view->pending ?: "");
}

static int
s_on_login (en_http_request_t *req, void *arg, json_t *account, const char *password)
{
    app_t *app = (app_t *) arg;
    app->hooks++;
    snprintf (app->last_password, sizeof app->last_password, "%s", password);
    app->totp_step = en_http_request_totp_step (req);
    //  As the portal does with the unwrapped key
    unsigned char secret [32];
    crypto_generichash (secret, sizeof secret, (const unsigned char *) password, strlen (password), NULL, 0);
    return en_http_request_set_secret (req, secret, sizeof secret);
}

static void
s_login_event (en_http_t *http, void *arg, const char *name, const char *outcome, const char *address)
{
    app_t *app = (app_t *) arg;
    app->events [streq (outcome, "ok") ? 0 : streq (outcome, "failed") ? 1 : 2]++;
}

static int
s_dispatch (en_http_request_t *req, void *arg)
{
    if (streq (en_http_request_path (req), "/velden")) {
        const char *names [] = { "question", "expertise[]", "dossier_file", NULL };
        return en_http_reply_json (req, 200, en_http_request_fields (req, names));
    }
    size_t size = 0;
    en_http_request_secret (req, &size);
    const char *names [] = { "csrf", NULL };
    json_t *fields = en_http_request_fields (req, names);
    bool csrf = en_http_request_csrf_ok (req, en_json_str (fields, "csrf"));
    json_decref (fields);
    return en_http_reply_json (req, 200, json_pack ("{s:s, s:s, s:s?, s:i, s:b, s:s?}",
        "user", en_http_request_user (req), "role", en_http_request_role (req),
        "extra", en_http_request_extra (req), "secret", (int) size, "csrf_ok", csrf,
        "csrf", en_http_request_csrf (req)));
}

static const en_http_app_t s_app = {
    .log_name = "test", .logout_path = "/uitloggen",
    .dispatch = s_dispatch, .account = s_account, .login_page = s_login_page,
    .on_login = s_on_login, .login_event = s_login_event,
};

#include "test_httpc.h"

//  -------------------------------------------------------------------------

typedef struct {
    app_t app;
    en_http_t *http;
} fixture_t;

static char *
s_hash (const char *password)
{
    char hash [crypto_pwhash_STRBYTES];
    assert_int_equal (crypto_pwhash_str (hash, password, strlen (password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                         crypto_pwhash_MEMLIMIT_INTERACTIVE), 0);
    return strdup (hash);
}

//  The server with the test app; extra: more web/ settings, "key=value"
//  pairs, or NULL
static int
s_start (void **state, const char **extra)
{
    fixture_t *self = (fixture_t *) calloc (1, sizeof (fixture_t));
    self->app.anna_hash = s_hash ("anna haar wachtwoord");
    self->app.erik_hash = s_hash ("erik zijn wachtwoord");
    s_port = s_free_port ();
    zconfig_t *config = zconfig_new ("root", NULL);
    char address [64];
    snprintf (address, sizeof address, "127.0.0.1:%d", s_port);
    zconfig_put (config, "web/address", address);
    zconfig_put (config, "web/attempts", "3");
    zconfig_put (config, "web/lockout", "60s");
    for (int i = 0; extra && extra [i]; i++) {
        char key [64];
        const char *eq = strchr (extra [i], '=');
        snprintf (key, sizeof key, "web/%.*s", (int) (eq - extra [i]), extra [i]);
        zconfig_put (config, key, eq + 1);
    }
    en_error_t error;
    self->http = en_http_new (config, "web", "inproc://test-http-none", &s_app, &self->app, &error);
    zconfig_destroy (&config);
    if (!self->http) {
        fprintf (stderr, "en_http_new: %s\n", error.reason);
        return -1;
    }
    en_http_static (self->http, "/static/x.css", "text/css; charset=utf-8", "body { color: black; }\n");
    *state = self;
    return 0;
}

static int
s_setup (void **state)
{
    return s_start (state, NULL);
}

//  Behind a reverse proxy on 127.0.0.1, with a short idle time
static int
s_setup_proxy (void **state)
{
    const char *extra [] = { "trusted_proxy=127.0.0.1", "idle=1s", NULL };
    return s_start (state, extra);
}

static int
s_teardown (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_http_destroy (&self->http);
    en_http_destroy (&self->http);      //  safe twice
    free (self->app.anna_hash);
    free (self->app.erik_hash);
    free (self);
    return 0;
}

static void
test_nothing_without_login (void **state)
{
    response_t r;
    char value [512];
    s_http (&r, "GET", "/zaken", NULL, NULL);
    assert_int_equal (r.status, 401);
    assert_non_null (strstr (r.body, "next=[/zaken]"));
    assert_string_equal (s_header (&r, "X-Frame-Options", value, sizeof value), "DENY");
    assert_string_equal (s_header (&r, "X-Content-Type-Options", value, sizeof value), "nosniff");
    assert_string_equal (s_header (&r, "Cache-Control", value, sizeof value), "no-store");
    assert_non_null (strstr (s_header (&r, "Content-Security-Policy", value, sizeof value), "default-src 'self'"));
    s_http (&r, "GET", "/api/panel/home", NULL, NULL);
    assert_int_equal (r.status, 401);
    assert_non_null (strstr (r.body, "\"code\": 401"));
    s_http (&r, "GET", "/static/x.css", NULL, NULL);
    assert_int_equal (r.status, 200);
    assert_string_equal (s_header (&r, "Content-Type", value, sizeof value), "text/css; charset=utf-8");
    //  What every web face serves without the app asking: the icon and
    //  the live-panel script
    s_http (&r, "GET", "/static/live.js", NULL, NULL);
    assert_int_equal (r.status, 200);
    assert_string_equal (s_header (&r, "Content-Type", value, sizeof value), "text/javascript; charset=utf-8");
    assert_non_null (strstr (r.body, "/api/panel/"));
    s_http (&r, "GET", "/static/icon.svg", NULL, NULL);
    assert_int_equal (r.status, 200);
    s_http (&r, "DELETE", "/zaken", NULL, NULL);
    assert_int_equal (r.status, 405);
}

static void
test_login_session_logout (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    response_t r;
    char cookie [256], value [512];
    s_http (&r, "POST", "/login", NULL, "name=anna&password=anna+haar+wachtwoord&next=%2Fzaken");
    assert_int_equal (r.status, 303);
    assert_string_equal (s_header (&r, "Location", value, sizeof value), "/zaken");
    s_header (&r, "Set-Cookie", value, sizeof value);
    assert_non_null (strstr (value, "HttpOnly; SameSite=Strict"));
    assert_null (strstr (value, "Secure"));             //  plain HTTP, no secure_cookie
    assert_int_equal (self->app.hooks, 1);
    assert_string_equal (self->app.last_password, "anna haar wachtwoord");
    assert_int_equal (self->app.events [0], 1);
    s_cookie_header (&r, cookie, sizeof cookie);

    s_http (&r, "GET", "/zaken", cookie, NULL);
    assert_int_equal (r.status, 200);
    json_t *me = json_loads (r.body, 0, NULL);
    assert_string_equal (en_json_str (me, "user"), "anna");
    assert_string_equal (en_json_str (me, "role"), "medewerker");
    assert_int_equal (en_json_int (me, "secret", 0), 32);        //  the hook's secret is in the session
    assert_false (json_is_true (json_object_get (me, "csrf_ok")));      //  no token sent
    char csrf [64], body [128];
    snprintf (csrf, sizeof csrf, "%s", en_json_str (me, "csrf"));
    json_decref (me);
    assert_int_equal (strlen (csrf), 32);
    assert_int_equal (en_http_sessions (self->http), 1);

    //  A write with the token passes the check; from another site it is refused
    snprintf (body, sizeof body, "csrf=%s", csrf);
    s_http (&r, "POST", "/zaken/nieuw", cookie, body);
    assert_int_equal (r.status, 200);
    assert_non_null (strstr (r.body, "\"csrf_ok\": true"));
    char headers [512];
    snprintf (headers, sizeof headers, "%sOrigin: http://evil.example\r\n", cookie);
    s_http (&r, "POST", "/zaken/nieuw", headers, body);
    assert_int_equal (r.status, 403);
    assert_non_null (strstr (r.body, "andere website"));         //  Dutch for a person

    //  Logout needs the token, then the session is gone (and its secret)
    s_http (&r, "POST", "/uitloggen", cookie, "csrf=wrong");
    assert_int_equal (r.status, 403);
    s_http (&r, "POST", "/uitloggen", cookie, body);
    assert_int_equal (r.status, 303);
    assert_int_equal (en_http_sessions (self->http), 0);
    s_http (&r, "GET", "/zaken", cookie, NULL);
    assert_int_equal (r.status, 401);
}

static void
test_wrong_password_and_lockout (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    response_t r;
    char value [64];
    s_http (&r, "POST", "/login", NULL, "name=nobody&password=whatever-it-is");
    assert_int_equal (r.status, 401);
    assert_non_null (strstr (r.body, "Onjuiste naam of wachtwoord"));
    s_http (&r, "POST", "/login", NULL, "name=anna&password=wrong-1");
    assert_int_equal (r.status, 401);
    s_http (&r, "POST", "/login", NULL, "name=anna&password=wrong-2");
    assert_int_equal (r.status, 401);
    //  Three failures from this address: locked, even with the right password
    s_http (&r, "POST", "/login", NULL, "name=anna&password=anna+haar+wachtwoord");
    assert_int_equal (r.status, 429);
    assert_true (atoi (s_header (&r, "Retry-After", value, sizeof value)) >= 50);
    assert_non_null (strstr (r.body, "Te veel mislukte pogingen"));
    assert_int_equal (self->app.hooks, 0);
    assert_int_equal (self->app.events [1], 3);
    assert_int_equal (self->app.events [2], 1);
    assert_int_equal (en_http_logins (self->http, 2), 1);
}

//  The code of now; returns its time step
static int64_t
s_totp_now (char code [7])
{
    time_t now = time (NULL);
    assert_int_equal (en_totp_code (TOTP_SECRET, now, 6, code), 0);
    return (int64_t) now / 30;
}

static void
test_totp_second_step (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    response_t r;
    char pending [80], body [256], cookie [256];
    //  Password right: the code step, no session yet, the hook not yet run
    s_http (&r, "POST", "/login", NULL, "name=erik&password=erik+zijn+wachtwoord&next=%2Faanbod");
    assert_int_equal (r.status, 200);
    assert_non_null (strstr (r.body, "code=1"));
    assert_null (strstr (r.headers, "Set-Cookie"));
    assert_int_equal (self->app.hooks, 0);
    char *at = strstr (r.body, "pending=[");
    assert_non_null (at);
    snprintf (pending, sizeof pending, "%.64s", at + 9);
    //  A wrong code: asked again, same step
    snprintf (body, sizeof body, "pending=%s&code=000000&next=%%2Faanbod", pending);
    char code [7];
    int64_t code_step = s_totp_now (code);
    if (streq (code, "000000"))
        snprintf (body, sizeof body, "pending=%s&code=111111&next=%%2Faanbod", pending);
    s_http (&r, "POST", "/login", NULL, body);
    assert_int_equal (r.status, 401);
    assert_non_null (strstr (r.body, "Onjuiste code"));
    //  The right code: the session, with role, expert id and the hook's secret
    snprintf (body, sizeof body, "pending=%s&code=%s&next=%%2Faanbod", pending, code);
    s_http (&r, "POST", "/login", NULL, body);
    assert_int_equal (r.status, 303);
    assert_int_equal (self->app.hooks, 1);
    assert_string_equal (self->app.last_password, "erik zijn wachtwoord");
    assert_int_equal (self->app.totp_step, code_step);
    s_cookie_header (&r, cookie, sizeof cookie);
    s_http (&r, "GET", "/aanbod", cookie, NULL);
    json_t *me = json_loads (r.body, 0, NULL);
    assert_string_equal (en_json_str (me, "role"), "expert");
    assert_string_equal (en_json_str (me, "extra"), "se-tw-01");
    assert_int_equal (en_json_int (me, "secret", 0), 32);
    json_decref (me);
    //  The pending step is used up
    s_http (&r, "POST", "/login", NULL, body);
    assert_int_equal (r.status, 401);
    assert_non_null (strstr (r.body, "verlopen"));
    //  The same code does not log in twice (a code seen is spent)
    s_http (&r, "POST", "/login", NULL, "name=erik&password=erik+zijn+wachtwoord");
    at = strstr (r.body, "pending=[");
    assert_non_null (at);
    snprintf (pending, sizeof pending, "%.64s", at + 9);
    snprintf (body, sizeof body, "pending=%s&code=%s", pending, code);
    s_http (&r, "POST", "/login", NULL, body);
    assert_int_equal (r.status, 401);
    //  TOTP required but not set up: refused, in Dutch
    s_http (&r, "POST", "/login", NULL, "name=frits&password=anna+haar+wachtwoord");
    assert_int_equal (r.status, 403);
    assert_non_null (strstr (r.body, "tweede factor"));
}

static void
test_form_fields (void **state)
{
    response_t r;
    char cookie [256];
    s_http (&r, "POST", "/login", NULL, "name=anna&password=anna+haar+wachtwoord");
    s_cookie_header (&r, cookie, sizeof cookie);
    //  URL-encoded: a list field gathers every value, others the first
    s_http (&r, "POST", "/velden", cookie, "expertise=trauma&question=Wat+nu%3F&expertise=lvb&question=x&other=1");
    json_t *fields = json_loads (r.body, 0, NULL);
    assert_string_equal (en_json_str (fields, "question"), "Wat nu?");
    assert_int_equal (json_array_size (json_object_get (fields, "expertise")), 2);
    assert_string_equal (json_string_value (json_array_get (json_object_get (fields, "expertise"), 1)), "lvb");
    assert_null (json_object_get (fields, "other"));
    json_decref (fields);
    //  multipart/form-data, with a file part
    char headers [512];
    snprintf (headers, sizeof headers, "%sContent-Type: multipart/form-data; boundary=XyZ\r\n", cookie);
    const char *body =
        "--XyZ\r\nContent-Disposition: form-data; name=\"question\"\r\n\r\nRegel een\r\nregel twee\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"expertise\"\r\n\r\ntrauma\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"dossier_file\"; filename=\"d.txt\"\r\n"
        "Content-Type: text/plain\r\n\r\nHet dossier.\n\r\n--XyZ--\r\n";
    s_http (&r, "POST", "/velden", headers, body);
    fields = json_loads (r.body, 0, NULL);
    assert_string_equal (en_json_str (fields, "question"), "Regel een\r\nregel twee");
    assert_string_equal (json_string_value (json_array_get (json_object_get (fields, "expertise"), 0)), "trauma");
    assert_string_equal (en_json_str (fields, "dossier_file"), "Het dossier.\n");
    json_decref (fields);
}

//  X-Forwarded-For from the trusted proxy names the client: the lock is
//  per client behind the proxy, not for everyone at once
static void
test_trusted_proxy (void **state)
{
    response_t r;
    for (int i = 0; i < 3; i++) {
        s_http (&r, "POST", "/login", "X-Forwarded-For: 192.0.2.7\r\n", "name=nobody&password=wrong-password");
        assert_int_equal (r.status, 401);
    }
    s_http (&r, "POST", "/login", "X-Forwarded-For: 192.0.2.7\r\n", "name=anna&password=anna+haar+wachtwoord");
    assert_int_equal (r.status, 429);
    //  Another client through the same proxy is not locked
    s_http (&r, "POST", "/login", "X-Forwarded-For: 198.51.100.1, 192.0.2.8\r\n",
            "name=anna&password=anna+haar+wachtwoord");
    assert_int_equal (r.status, 303);
}

//  Without trusted_proxy the header is not believed: the lock is the
//  peer's, whatever the header says
static void
test_forwarded_for_ignored (void **state)
{
    response_t r;
    char header [64];
    for (int i = 0; i < 3; i++) {
        snprintf (header, sizeof header, "X-Forwarded-For: 192.0.2.%d\r\n", i + 1);
        s_http (&r, "POST", "/login", header, "name=nobody&password=wrong-password");
        assert_int_equal (r.status, 401);
    }
    s_http (&r, "POST", "/login", "X-Forwarded-For: 192.0.2.99\r\n", "name=anna&password=anna+haar+wachtwoord");
    assert_int_equal (r.status, 429);
}

//  A session unused for longer than idle ends
static void
test_idle_session_ends (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    response_t r;
    char cookie [256];
    s_http (&r, "POST", "/login", NULL, "name=anna&password=anna+haar+wachtwoord");
    assert_int_equal (r.status, 303);
    s_cookie_header (&r, cookie, sizeof cookie);
    s_http (&r, "GET", "/zaken", cookie, NULL);
    assert_int_equal (r.status, 200);
    zclock_sleep (1200);
    s_http (&r, "GET", "/zaken", cookie, NULL);
    assert_int_equal (r.status, 401);
    assert_int_equal (en_http_sessions (self->http), 0);        //  gone, its secret freed
}

static void
test_body_limit (void **state)
{
    response_t r;
    size_t size = 70 * 1024;
    char *body = (char *) malloc (size + 1);
    memset (body, 'a', size);
    memcpy (body, "name=", 5);
    body [size] = 0;
    s_http (&r, "POST", "/login", NULL, body);
    free (body);
    assert_int_equal (r.status, 413);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    zsys_init ();
    zsys_set_logstream (NULL);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_nothing_without_login, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_login_session_logout, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_wrong_password_and_lockout, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_totp_second_step, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_form_fields, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_body_limit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_trusted_proxy, s_setup_proxy, s_teardown),
        cmocka_unit_test_setup_teardown (test_forwarded_for_ignored, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_idle_session_ends, s_setup_proxy, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
