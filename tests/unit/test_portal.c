/*  test_portal - the node portal's server (node/en_portal.c) over real
    HTTP, against a stand-in for the node loop: an actor that answers the
    control verbs the portal calls with fixed JSON and remembers who asked
    what. It shows the route table at work (each role sees its own pages,
    403 on the others), an expert who cannot open another expert's offer
    (404, as if absent), every verb carrying the logged-in person as
    "_user", an expert accepting through the form (CSRF token), and the
    node's PII refusal shown on the field, in Dutch, with status 422.
    The real node with the portal is tests/integration/test_portal.sh.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>

#include "expertnet.h"
#include "en_portal.h"
#include "test_httpc.h"

#include "test_portal_node.h"

//  -------------------------------------------------------------------------

typedef struct {
    json_t *hashes;             //  name -> pwhash
    zactor_t *node;             //  the stand-in node loop
    en_portal_t *portal;
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *self = (fixture_t *) calloc (1, sizeof (fixture_t));
    self->hashes = s_node_accounts ();
    if (!self->hashes)
        return -1;
    self->node = zactor_new (s_node_actor, self->hashes);
    s_port = s_free_port ();
    zconfig_t *config = zconfig_new ("root", NULL);
    char address [64];
    en_error_t error;
    snprintf (address, sizeof address, "127.0.0.1:%d", s_port);
    zconfig_put (config, "web/address", address);
    self->portal = en_portal_new (config, TEST_PORTAL_ENDPOINT, "twente", "twente", &error);
    zconfig_destroy (&config);
    if (!self->portal) {
        fprintf (stderr, "en_portal_new: %s\n", error.reason);
        return -1;
    }
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_portal_destroy (&self->portal);
    en_portal_destroy (&self->portal);      //  safe twice
    zactor_destroy (&self->node);
    json_decref (self->hashes);
    free (self);
    return 0;
}

//  Log in as name; the Cookie header into cookie, the CSRF token into csrf
static void
s_login (const char *name, char *cookie, size_t size, char *csrf)
{
    response_t r;
    char body [128];
    snprintf (body, sizeof body, "name=%s&password=%s+haar+wachtwoord", name, name);
    s_http (&r, "POST", "/login", NULL, body);
    assert_int_equal (r.status, 303);
    s_cookie_header (&r, cookie, size);
    //  The token is in every page's logout form
    s_http (&r, "GET", "/", cookie, NULL);
    assert_int_equal (r.status, 200);
    char *at = strstr (r.body, "name=\"csrf\" value=\"");
    assert_non_null (at);
    snprintf (csrf, 33, "%.32s", at + 19);
}

static int
s_get (const char *path, const char *cookie)
{
    response_t r;
    s_http (&r, "GET", path, cookie, NULL);
    return r.status;
}

static void
test_public_pages (void **state)
{
    response_t r;
    s_http (&r, "GET", "/toegankelijkheid", NULL, NULL);
    assert_int_equal (r.status, 200);
    assert_non_null (strstr (r.body, "oegankelijk"));
    s_http (&r, "GET", "/herstel", NULL, NULL);
    assert_int_equal (r.status, 200);
    assert_non_null (strstr (r.body, "recovery_code"));
    //  Not every page: the rest needs a login
    assert_int_equal (s_get ("/zaken", NULL), 401);
    s_http (&r, "GET", "/login", NULL, NULL);
    assert_non_null (strstr (r.body, "/herstel"));
}

static void
test_roles (void **state)
{
    char cookie [256], csrf [33];
    s_login ("mara", cookie, sizeof cookie, csrf);
    assert_int_equal (s_get ("/", cookie), 200);
    assert_int_equal (s_get ("/zaken", cookie), 200);
    assert_int_equal (s_get ("/verzoeken", cookie), 200);
    assert_int_equal (s_get ("/verzoeken/nieuw", cookie), 200);
    assert_int_equal (s_get ("/aanbod", cookie), 403);
    assert_int_equal (s_get ("/aanbod/twente-00000001-o1", cookie), 403);
    assert_int_equal (s_get ("/beheer/accounts", cookie), 403);
    assert_int_equal (s_get ("/api/panel/aanbod", cookie), 404);
    assert_int_equal (s_get ("/nergens", cookie), 404);

    s_login ("bob", cookie, sizeof cookie, csrf);
    assert_int_equal (s_get ("/beheer/accounts", cookie), 200);
    assert_int_equal (s_get ("/beheer/meldingen", cookie), 200);
    assert_int_equal (s_get ("/zaken", cookie), 403);
    assert_int_equal (s_get ("/aanbod", cookie), 403);
}

static void
test_expert_sees_own_offers_only (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char cookie [256], csrf [33], body [128];
    s_login ("eva", cookie, sizeof cookie, csrf);
    assert_int_equal (s_get ("/aanbod", cookie), 200);
    assert_int_equal (s_get ("/api/panel/aanbod", cookie), 200);
    assert_int_equal (s_get ("/beschikbaarheid", cookie), 200);
    response_t r;
    s_http (&r, "GET", "/aanbod/twente-00000001-o1", cookie, NULL);
    assert_int_equal (r.status, 200);
    assert_non_null (strstr (r.body, "Hoe verder na de crisisopname?"));
    //  An expert account without its expert id sees no offers at all
    char other [256], other_csrf [33];
    s_login ("ida", other, sizeof other, other_csrf);
    assert_int_equal (s_get ("/aanbod", other), 403);
    assert_int_equal (s_get ("/aanbod/twente-00000001-o1", other), 403);
    assert_int_equal (s_get ("/api/panel/aanbod", other), 404);
    //  Another expert's offer looks absent
    assert_int_equal (s_get ("/aanbod/twente-00000002-o1", cookie), 404);
    snprintf (body, sizeof body, "csrf=%s&action=accept", csrf);
    s_http (&r, "POST", "/aanbod/twente-00000002-o1", cookie, body);
    assert_int_equal (r.status, 404);
    //  Without the form's token: refused
    s_http (&r, "POST", "/aanbod/twente-00000001-o1", cookie, "action=accept");
    assert_int_equal (r.status, 403);
    //  With it: accepted, as eva
    s_http (&r, "POST", "/aanbod/twente-00000001-o1", cookie, body);
    assert_int_equal (r.status, 303);
    zstr_send (self->node, "CALLS");
    char *calls = zstr_recv (self->node);
    assert_non_null (strstr (calls, "accept:eva "));
    assert_null (strstr (calls, "accept:-"));
    //  Every verb named who asked
    assert_null (strstr (calls, ":- "));
    zstr_free (&calls);
}

//  A reply to an advice goes to the node's reply verb; an empty one is
//  refused on its field with the page kept
static void
test_reply (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char cookie [256], csrf [33], body [256];
    s_login ("mara", cookie, sizeof cookie, csrf);
    response_t r;
    snprintf (body, sizeof body, "csrf=%s&action=reply&text=", csrf);
    s_http (&r, "POST", "/verzoeken/twente-00000001", cookie, body);
    assert_int_equal (r.status, 422);
    assert_non_null (strstr (r.body, "aria-invalid"));
    snprintf (body, sizeof body, "csrf=%s&action=reply&text=Dank+voor+het+advies%%2C+nog+een+vraag", csrf);
    s_http (&r, "POST", "/verzoeken/twente-00000001", cookie, body);
    assert_int_equal (r.status, 303);
    zstr_send (self->node, "CALLS");
    char *calls = zstr_recv (self->node);
    assert_non_null (strstr (calls, "reply:mara "));
    zstr_free (&calls);
}

//  The request's conversation on its page, read by the team (the thread
//  verb, which sends the receipts), and the form that writes in it
static void
test_conversation (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char cookie [256], csrf [33], body [256];
    s_login ("mara", cookie, sizeof cookie, csrf);
    response_t r;
    s_http (&r, "GET", "/verzoeken/twente-00000001", cookie, NULL);
    assert_int_equal (r.status, 200);
    assert_non_null (strstr (r.body, "<h2 id=\"gesprek-kop\">Gesprek</h2>"));
    char *first = strstr (r.body, "Advies: begin met een gezamenlijke analyse.");
    char *second = strstr (r.body, "Dank, wij plannen het overleg.");
    assert_non_null (first);
    assert_non_null (second);
    assert_true (first < second);                       //  in seq order
    assert_non_null (strstr (r.body, "Gelezen door het expertteam"));
    assert_non_null (strstr (r.body, "Gelezen door nog niemand"));
    snprintf (body, sizeof body, "csrf=%s&action=message&bericht=", csrf);
    s_http (&r, "POST", "/verzoeken/twente-00000001", cookie, body);
    assert_int_equal (r.status, 422);
    snprintf (body, sizeof body, "csrf=%s&action=message&bericht=Kunt+u+donderdag+aansluiten%%3F", csrf);
    s_http (&r, "POST", "/verzoeken/twente-00000001", cookie, body);
    assert_int_equal (r.status, 303);
    zstr_send (self->node, "CALLS");
    char *calls = zstr_recv (self->node);
    assert_non_null (strstr (calls, "thread:mara "));
    assert_non_null (strstr (calls, "message:mara "));
    zstr_free (&calls);
}

static void
test_refusal_on_its_field (void **state)
{
    char cookie [256], csrf [33], body [512];
    s_login ("mara", cookie, sizeof cookie, csrf);
    snprintf (body, sizeof body, "csrf=%s&urgency=hoog&question_type=consultatie-advies&expertise=trauma"
              "&age_band=12-17&question=Vastgelopen.+BSN+123456782", csrf);
    response_t r;
    s_http (&r, "POST", "/verzoeken/nieuw", cookie, body);
    assert_int_equal (r.status, 422);
    assert_non_null (strstr (r.body, "BSN"));
    assert_non_null (strstr (r.body, "aria-invalid"));
    //  Corrected: submitted, on to the request's page
    snprintf (body, sizeof body, "csrf=%s&urgency=hoog&question_type=consultatie-advies&expertise=trauma"
              "&age_band=12-17&question=Vastgelopen.", csrf);
    s_http (&r, "POST", "/verzoeken/nieuw", cookie, body);
    assert_int_equal (r.status, 303);
    char location [128];
    assert_string_equal (s_header (&r, "Location", location, sizeof location),
                         "/verzoeken/twente-00000003?gedaan=ingediend");
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    zsys_init ();
    zsys_set_logstream (NULL);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_public_pages, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_roles, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_reply, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_conversation, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_expert_sees_own_offers_only, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refusal_on_its_field, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
