/*  test_dashboard - the broker's side of the operators' dashboard, without
    HTTP: operator actions in the router (broker/en_router.h,
    en_router_operator) on a real store, the operators and API tokens in
    the store, the metrics and their Prometheus text (broker/en_metrics.h)
    and the chart helpers (broker/en_charts.h). The HTTP side is
    tests/integration/test_web.sh and test_browser.sh.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <dirent.h>
#include <unistd.h>

#include "expertnet.h"
#include "en_router.h"
#include "test_fixture.h"
#include "en_charts.h"
#include "en_pages.h"

typedef struct {
    char dir [64];              //  temporary directory
    en_bstore_t *store;         //  broker store in dir
    en_router_t *router;        //  router on store
    en_metrics_t *metrics;      //  counted into by the router
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *self = (fixture_t *) calloc (1, sizeof (fixture_t));
    if (!test_mkdtemp (self->dir, sizeof self->dir, "test_dashboard"))
        return -1;
    char path [128];
    en_error_t error = { 0 };
    snprintf (path, sizeof path, "%s/broker.db", self->dir);
    self->store = en_bstore_new (path, &error);
    if (!self->store) {
        fprintf (stderr, "en_bstore_new: %s\n", error.reason);
        return -1;
    }
    self->router = en_router_new (self->store, "broker-oost");
    self->metrics = en_metrics_new ();
    en_router_set_metrics (self->router, self->metrics);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    //  The triggers' counters still equal a recount of the rows
    assert_int_equal (test_counters_drift (en_bstore_db (self->store)), 0);
    en_router_destroy (&self->router);
    en_metrics_destroy (&self->metrics);
    en_metrics_destroy (&self->metrics);        //  safe twice
    en_bstore_destroy (&self->store);
    test_rmtree (self->dir);
    free (self);
    return 0;
}

//  One message from a node, as the broker runs it (en_inbox and the
//  router, in a transaction)
static void
s_message (fixture_t *self, const char *node, const char *command, json_t *body)
{
    en_msg_t *msg = en_msg_new (command, node, body);
    en_error_t error;
    if (test_receive (self->router, self->store, node, node, false, msg, &error))
        fail_msg ("%s refused: %d %s", command, error.code, error.reason);
    en_msg_destroy (&msg);
}

static void
s_publish (fixture_t *self, const char *node, const char *experts)
{
    s_message (self, node, "AVAILABILITY", json_pack ("{s:o}", "experts", json_loads (experts, 0, NULL)));
}

static void
s_submit (fixture_t *self, const char *id, const char *question_type, const char *tag)
{
    s_message (self, "twente", "SUBMIT", json_pack ("{s:{s:s, s:s, s:s, s:s, s:[s], s:s}}", "request",
        "id", id, "region", "twente", "urgency", "hoog", "question_type", question_type,
        "expertise", tag, "age_band", "12-17"));
}

//  An operator action as the broker runs it: one transaction, rolled back
//  on refusal. Returns 0 or the error code.
static int
s_operator (fixture_t *self, const char *who, const char *action, const char *id, const char *reason)
{
    en_db_t *db = en_bstore_db (self->store);
    en_error_t error;
    assert_int_equal (en_db_begin (db), 0);
    if (en_router_operator (self->router, who, action, id, reason, &error)) {
        assert_int_equal (en_db_rollback (db), 0);
        assert_true (strlen (error.reason) > 0);
        return error.code;
    }
    assert_int_equal (en_db_commit (db), 0);
    return 0;
}

static const char *
s_state (fixture_t *self, const char *id, char *buf, size_t size)
{
    json_t *request = en_bstore_request (self->store, id);
    snprintf (buf, size, "%s", request ? en_json_str (request, "state") : "(none)");
    json_decref (request);
    return buf;
}

static const char *
s_offered (fixture_t *self, const char *id, char *buf, size_t size)
{
    json_t *open = en_bstore_offers_open (self->store, id, 0);
    assert_true (json_array_size (open) <= 1);
    snprintf (buf, size, "%s", json_array_size (open) ? en_json_str (json_array_get (open, 0), "expert") : "");
    json_decref (open);
    return buf;
}

static int64_t
s_count (fixture_t *self, const char *sql, const char *arg)
{
    return en_db_int (en_bstore_db (self->store), sql, arg ? "s" : NULL, arg);
}

#define TWO_SUPEREXPERTS \
    "[{\"id\": \"se-a\", \"region\": \"twente\", \"role\": \"superexpert\", \"expertise\": [\"trauma\"], \"capacity\": 1}," \
    " {\"id\": \"se-b\", \"region\": \"twente\", \"role\": \"superexpert\", \"expertise\": [\"trauma\"], \"capacity\": 1}]"

static void
test_reoffer_moves_to_next_candidate (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char buf [64];
    s_publish (self, "twente", TWO_SUPEREXPERTS);
    s_submit (self, "twente-r1", "consultatie-advies", "trauma");
    assert_string_equal (s_offered (self, "twente-r1", buf, sizeof buf), "se-a");
    int64_t withdraws = s_count (self, "SELECT count(*) FROM outbox WHERE dest = 'twente' AND command = 'WITHDRAW'", NULL);

    assert_int_equal (s_operator (self, "anna", "reoffer", "twente-r1", "se-a is ziek"), 0);
    assert_string_equal (s_offered (self, "twente-r1", buf, sizeof buf), "se-b");
    assert_string_equal (s_state (self, "twente-r1", buf, sizeof buf), "offered");
    //  The withdrawn offer, its message, the events and the access log
    assert_int_equal (s_count (self, "SELECT count(*) FROM offers WHERE request_id = 'twente-r1'"
                                     " AND expert = 'se-a' AND state = 'withdrawn'", NULL), 1);
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE dest = 'twente' AND command = 'WITHDRAW'", NULL),
                      withdraws + 1);
    assert_int_equal (s_count (self, "SELECT count(*) FROM events WHERE request_id = 'twente-r1'"
                                     " AND type = 'operator-reoffer' AND detail = 'anna: se-a is ziek'", NULL), 1);
    assert_int_equal (s_count (self, "SELECT count(*) FROM audit WHERE case_id = 'twente-r1'"
                                     " AND event = 'request.operator-reoffer' AND actor = 'anna' AND detail = 'operator'", NULL), 1);
    assert_int_equal (s_count (self, "SELECT count(*) FROM audit WHERE case_id = 'twente-r1'"
                                     " AND event = 'request.offered' AND actor = 'anna' AND on_behalf = 'se-b'", NULL), 1);
    assert_int_equal (en_metrics_value (self->metrics, EN_METRIC_OPERATOR, "reoffer"), 1);
    assert_int_equal (en_metrics_value (self->metrics, EN_METRIC_OFFER_OUTCOME, "withdrawn"), 1);
    assert_int_equal (en_metrics_value (self->metrics, EN_METRIC_ROUTING, "offer"), 2);

    //  Nobody left: the next re-offer makes it a hiaat (no procesregisseur)
    assert_int_equal (s_operator (self, "anna", "reoffer", "twente-r1", "se-b ook"), 0);
    assert_string_equal (s_state (self, "twente-r1", buf, sizeof buf), "hiaat");
    //  After that the broker acts as itself again
    s_submit (self, "twente-r2", "consultatie-advies", "trauma");
    assert_int_equal (s_count (self, "SELECT count(*) FROM audit WHERE case_id = 'twente-r2' AND actor = 'anna'", NULL), 0);
}

static void
test_reoffer_of_hiaat_finds_new_expert (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char buf [64];
    s_submit (self, "twente-r1", "consultatie-advies", "trauma");
    assert_string_equal (s_state (self, "twente-r1", buf, sizeof buf), "hiaat");
    s_publish (self, "twente", TWO_SUPEREXPERTS);
    assert_int_equal (s_operator (self, "anna", "reoffer", "twente-r1", "er zijn nu experts"), 0);
    assert_string_equal (s_state (self, "twente-r1", buf, sizeof buf), "offered");
    assert_string_equal (s_offered (self, "twente-r1", buf, sizeof buf), "se-a");
}

static void
test_escalate (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char buf [64];
    s_publish (self, "twente", TWO_SUPEREXPERTS);
    s_submit (self, "twente-r1", "consultatie-advies", "trauma");
    //  Nobody to escalate to: refused, and nothing changed
    assert_int_equal (s_operator (self, "anna", "escalate", "twente-r1", "vastgelopen"), EN_ERR_CONFLICT);
    assert_string_equal (s_offered (self, "twente-r1", buf, sizeof buf), "se-a");
    assert_int_equal (s_count (self, "SELECT count(*) FROM events WHERE type LIKE 'operator-%'", NULL), 0);

    s_publish (self, "ec", "[{\"id\": \"pr-x\", \"region\": \"ec\", \"role\": \"procesregisseur\","
                           " \"bovenregionaal\": true, \"capacity\": 1}]");
    assert_int_equal (s_operator (self, "anna", "escalate", "twente-r1", "vastgelopen"), 0);
    assert_string_equal (s_state (self, "twente-r1", buf, sizeof buf), "escalated");
    assert_string_equal (s_offered (self, "twente-r1", buf, sizeof buf), "pr-x");
    assert_int_equal (s_count (self, "SELECT count(*) FROM offers WHERE expert = 'se-a' AND state = 'withdrawn'", NULL), 1);
    assert_int_equal (s_count (self, "SELECT count(*) FROM outbox WHERE dest = 'ec' AND command = 'OFFER'", NULL), 1);
}

static void
test_close_frees_capacity (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    char buf [64];
    s_publish (self, "twente", TWO_SUPEREXPERTS);
    s_submit (self, "twente-r1", "consultatie-advies", "trauma");
    s_message (self, "twente", "ACCEPT", json_pack ("{s:s}", "offer", "twente-r1-o1"));
    assert_int_equal (s_count (self, "SELECT load FROM experts WHERE id = 'se-a'", NULL), 1);
    //  An accepted request cannot be re-offered or escalated, but closed
    assert_int_equal (s_operator (self, "anna", "reoffer", "twente-r1", "x"), EN_ERR_CONFLICT);
    assert_int_equal (s_operator (self, "anna", "escalate", "twente-r1", "x"), EN_ERR_CONFLICT);
    assert_int_equal (s_operator (self, "anna", "close", "twente-r1", "dubbel"), 0);
    assert_string_equal (s_state (self, "twente-r1", buf, sizeof buf), "closed");
    assert_int_equal (s_count (self, "SELECT load FROM experts WHERE id = 'se-a'", NULL), 0);
    assert_int_equal (s_count (self, "SELECT count(*) FROM events WHERE request_id = 'twente-r1'"
                                     " AND type = 'closed' AND detail = 'closed by operator: dubbel'", NULL), 1);
    //  The origin hears of it
    assert_true (s_count (self, "SELECT count(*) FROM outbox WHERE dest = 'twente' AND command = 'STATUS'", NULL) >= 3);
    assert_int_equal (s_operator (self, "anna", "close", "twente-r1", "nog eens"), EN_ERR_CONFLICT);
}

static void
test_operator_refusals (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    s_publish (self, "twente", TWO_SUPEREXPERTS);
    s_submit (self, "twente-r1", "consultatie-advies", "trauma");
    assert_int_equal (s_operator (self, "anna", "reoffer", "twente-nope", "x"), EN_ERR_NOT_FOUND);
    assert_int_equal (s_operator (self, "anna", "reoffer", "twente-r1", ""), EN_ERR_INVALID);
    assert_int_equal (s_operator (self, "anna", "reoffer", "twente-r1", NULL), EN_ERR_INVALID);
    char long_reason [600];
    memset (long_reason, 'x', sizeof long_reason - 1);
    long_reason [sizeof long_reason - 1] = 0;
    assert_int_equal (s_operator (self, "anna", "close", "twente-r1", long_reason), EN_ERR_INVALID);
    assert_int_equal (s_operator (self, "Anna Smit", "close", "twente-r1", "x"), EN_ERR_INVALID);
    assert_int_equal (s_operator (self, "anna", "delete", "twente-r1", "x"), EN_ERR_BAD_REQUEST);
    assert_int_equal (s_count (self, "SELECT count(*) FROM events WHERE type LIKE 'operator-%'", NULL), 0);
}

static void
test_operators_and_tokens (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_error_t error = { 0 };
    assert_int_equal (en_bstore_operator_put (self->store, "anna", "$argon2id$x", false, &error), 0);
    assert_int_equal (en_bstore_operator_put (self->store, "anna", "$argon2id$y", false, &error), -1);
    assert_int_equal (error.code, EN_ERR_CONFLICT);
    assert_int_equal (en_bstore_operator_put (self->store, "bert", "$argon2id$y", true, &error), -1);
    assert_int_equal (error.code, EN_ERR_NOT_FOUND);
    assert_int_equal (en_bstore_operator_put (self->store, "anna", "$argon2id$z", true, NULL), 0);
    json_t *anna = en_bstore_operator (self->store, "anna");
    assert_string_equal (en_json_str (anna, "pwhash"), "$argon2id$z");
    json_decref (anna);
    assert_int_equal (en_bstore_token_add (self->store, "t-1", "anna", "hash1"), 0);
    json_t *token = en_bstore_token_find (self->store, "hash1");
    assert_string_equal (en_json_str (token, "operator"), "anna");
    json_decref (token);
    json_t *list = en_bstore_operators (self->store);
    assert_int_equal (json_array_size (list), 1);
    assert_null (json_object_get (json_array_get (list, 0), "pwhash"));
    assert_int_equal (en_json_int (json_array_get (list, 0), "tokens", 0), 1);
    json_decref (list);
    //  Removing the operator removes its tokens
    assert_int_equal (en_bstore_operator_remove (self->store, "anna", NULL), 0);
    assert_null (en_bstore_token_find (self->store, "hash1"));
    en_error_clear (&error);
    assert_int_equal (en_bstore_operator_remove (self->store, "anna", &error), -1);
    assert_int_equal (error.code, EN_ERR_NOT_FOUND);
    en_error_clear (&error);
    assert_int_equal (en_bstore_token_remove (self->store, "t-1", &error), -1);
    assert_int_equal (error.code, EN_ERR_NOT_FOUND);
    assert_string_equal (error.reason, "no such token");
}

static void
test_metrics_text (void **state)
{
    en_metrics_t *metrics = en_metrics_new ();
    en_metrics_count (metrics, EN_METRIC_RECEIVED, "SUBMIT", 2);
    en_metrics_count (metrics, EN_METRIC_RECEIVED, "ACK", 1);
    en_metrics_count (NULL, EN_METRIC_RECEIVED, "SUBMIT", 1);       //  no metrics: ignored
    en_metrics_observe_ms (metrics, EN_HIST_FIRST_OFFER, 3);        //  0.003 s
    en_metrics_observe_ms (metrics, EN_HIST_FIRST_OFFER, 20000);    //  20 s
    en_metrics_observe_ms (metrics, EN_HIST_FIRST_OFFER, 7200000);  //  beyond the last bucket
    json_t *families = en_metrics_json (metrics);
    json_t *gauge = en_metrics_gauge (families, "expertnet_test", "A \"quoted\" help\nline.");
    en_metrics_sample (gauge, "node", "we\"ird\\name", 1.5);
    char *text = en_metrics_text (families);
    assert_non_null (strstr (text, "# TYPE expertnet_messages_received_total counter\n"));
    assert_non_null (strstr (text, "expertnet_messages_received_total{command=\"ACK\"} 1\n"
                                   "expertnet_messages_received_total{command=\"SUBMIT\"} 2\n"));
    assert_non_null (strstr (text, "expertnet_connections_refused_total 0\n"));
    assert_non_null (strstr (text, "expertnet_time_to_first_offer_seconds_bucket{le=\"0.005\"} 1\n"));
    assert_non_null (strstr (text, "expertnet_time_to_first_offer_seconds_bucket{le=\"10\"} 1\n"));
    assert_non_null (strstr (text, "expertnet_time_to_first_offer_seconds_bucket{le=\"60\"} 2\n"));
    assert_non_null (strstr (text, "expertnet_time_to_first_offer_seconds_bucket{le=\"3600\"} 2\n"));
    assert_non_null (strstr (text, "expertnet_time_to_first_offer_seconds_bucket{le=\"+Inf\"} 3\n"));
    assert_non_null (strstr (text, "expertnet_time_to_first_offer_seconds_sum 7220.003\n"));
    assert_non_null (strstr (text, "expertnet_time_to_first_offer_seconds_count 3\n"));
    assert_non_null (strstr (text, "# HELP expertnet_test A \"quoted\" help\\nline.\n"));
    assert_non_null (strstr (text, "expertnet_test{node=\"we\\\"ird\\\\name\"} 1.5\n"));
    free (text);
    json_decref (families);
    en_metrics_destroy (&metrics);
}

static void
test_charts (void **state)
{
    char buf [32];
    assert_string_equal (en_charts_duration (12, buf, sizeof buf), "12 ms");
    assert_string_equal (en_charts_duration (45000, buf, sizeof buf), "45 s");
    assert_string_equal (en_charts_duration (180000, buf, sizeof buf), "3 min");
    assert_string_equal (en_charts_duration (7500000, buf, sizeof buf), "2 u 5 min");
    assert_string_equal (en_charts_duration (100800000, buf, sizeof buf), "1 d 4 u");
    //  ISO weeks: 30 December 2024 starts week 1 of 2025
    assert_string_equal (en_charts_week_label ("2024-12-30", buf, sizeof buf), "week 1");
    assert_string_equal (en_charts_week_label ("2026-06-01", buf, sizeof buf), "week 23");
    assert_string_equal (en_charts_week_label ("nonsense", buf, sizeof buf), "?");

    json_t *charts = json_pack ("{s:I, s:i, s:[{s:s, s:I, s:I, s:n}], s:[]}", "now", (json_int_t) en_now_ms (),
                                "days", 90, "times", "urgency", "crisis", "created", (json_int_t) 1,
                                "first_offer_ms", (json_int_t) 40, "accepted_ms", "weeks");
    char *svg = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&svg, &size);
    assert_int_equal (en_charts_svg (out, charts, "first-offer"), 0);
    assert_int_equal (en_charts_svg (out, charts, "accept"), 0);
    assert_int_equal (en_charts_svg (out, charts, "weeks"), 0);
    assert_int_equal (en_charts_svg (out, charts, "pie"), -1);
    fclose (out);
    assert_non_null (strstr (svg, "<svg class=\"chart\" id=\"chart-first-offer\""));
    assert_non_null (strstr (svg, "1 verzoeken, laatste 90 dagen; mediaan 40 ms"));
    assert_non_null (strstr (svg, "nog geen verzoeken in de laatste 90 dagen"));
    assert_non_null (strstr (svg, "Verzoeken per week"));
    assert_null (strstr (svg, "style="));
    free (svg);
    json_decref (charts);
}

//  The overview's Federatie panel shows each link as the broker reports
//  it: a blocked link is not shown as connected, a peer's advert as cut
//  to its bounds beside what it claimed, forwards it gave back; names are
//  escaped. A revoked node is shown as such in the nodes panel.
static void
test_federation_panel (void **state)
{
    (void) state;
    int64_t now = en_now_ms ();
    json_t *overview = json_pack ("{s:I, s:[{s:s, s:s, s:b, s:b, s:I, s:I}], s:[], s:[], s:{}, s:[], s:["
        "{s:s, s:s, s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:I, s:I},"
        "{s:s, s:s, s:I, s:n, s:n, s:n}]}",
        "now", (json_int_t) now,
        "nodes", "name", "rogue", "region", "ijsselland", "connected", 0, "enrolled", 0,
        "last_seen", (json_int_t) now, "outbox", (json_int_t) 0,
        "requests_open", "offers", "experts", "hiaten_list", "federation",
        "peer", "gelderland", "state", "blocked", "queue", (json_int_t) 17, "last_contact", (json_int_t) (now - 1000),
        "rtt_ms", (json_int_t) 12, "advert", "free", (json_int_t) 9, "claimed_free", (json_int_t) 1999999,
        "clamped", (json_int_t) 3, "forwards", (json_int_t) 12, "forwards_returned", (json_int_t) 4,
        "peer", "<limburg>", "state", "connecting", "queue", (json_int_t) 0, "last_contact", "rtt_ms", "advert");
    assert_non_null (overview);
    char *html = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&html, &size);
    en_pages_overview (out, overview);
    fclose (out);
    assert_non_null (strstr (html, "<h2>Federatie</h2>"));
    assert_non_null (strstr (html, "gelderland</td><td class=\"nowrap\"><span class=\"dot warn\"></span>geblokkeerd"));
    assert_non_null (strstr (html, "<td class=\"num\">17</td><td class=\"num\">zojuist</td><td class=\"num\">12 ms</td>"
                                   "<td class=\"num\">9 (opgegeven 1999999)</td><td class=\"num\">12 (4 terug)</td>"));
    //  A revoked node says so
    assert_non_null (strstr (html, "<span class=\"dot down\"></span>ingetrokken"));
    assert_non_null (strstr (html, "&lt;limburg&gt;</td><td class=\"nowrap\"><span class=\"dot down\"></span>verbinden..."));
    assert_non_null (strstr (html, "<td class=\"num\">nooit</td><td class=\"num\">-</td>"));
    assert_null (strstr (html, "<limburg>"));
    free (html);
    json_decref (overview);
}

//  The request page of a request held by a peer broker offers only
//  "Terughalen" (the peer's operators act on it there), and none once an
//  expert there accepted it.
static void
test_forwarded_request_page (void **state)
{
    (void) state;
    en_page_t page = { .broker = "overijssel", .operator_name = "marieke", .csrf = "t0ken", .now = en_now_ms () };
    const char *states [] = { "offered", "accepted" };
    for (int i = 0; i < 2; i++) {
        json_t *request = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:{}, s:[], s:[]}",
            "id", "twente-0001", "origin", "twente", "state", states [i], "urgency", "hoog",
            "question_type", "consultatie-advies", "peer", "<gelderland>", "summary", "events", "offers_open");
        char *html = NULL;
        size_t size = 0;
        FILE *out = open_memstream (&html, &size);
        json_t *audit = json_array ();
        en_pages_request (out, &page, request, audit, NULL, false);
        fclose (out);
        json_decref (audit);
        assert_non_null (strstr (html, "In behandeling bij de broker van &lt;gelderland&gt;"));
        assert_null (strstr (html, "Opnieuw aanbieden"));
        assert_null (strstr (html, "Escaleren naar procesregisseur"));
        assert_null (strstr (html, "Verzoek sluiten"));
        if (i == 0)
            assert_non_null (strstr (html, "value=\"recall\""));
        else
            assert_null (strstr (html, "value=\"recall\""));
        free (html);
        json_decref (request);
    }
}

//  A team's request page: each place with its role, expertise, whether it
//  is filled (by whom), open (offered to whom) or a hiaat; the actions
//  can name one place
static void
test_team_request_page (void **state)
{
    (void) state;
    en_page_t page = { .broker = "overijssel", .operator_name = "marieke", .csrf = "t0ken", .now = en_now_ms () };
    json_t *request = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:{}, s:[], s:[], s:i, s:o}",
        "id", "twente-0001", "origin", "twente", "state", "hiaat", "urgency", "hoog",
        "question_type", "consultatie-advies", "summary", "events", "offers_open", "place_count", 3,
        "places", test_json ("[{\"place\":1,\"roles\":[\"superexpert\"],\"expertise\":[\"trauma\"],"
                             "\"state\":\"accepted\",\"expert\":\"se-tw-01\"},"
                             "{\"place\":2,\"roles\":[\"superexpert\"],\"expertise\":[\"lvb\"],\"state\":\"hiaat\"},"
                             "{\"place\":3,\"roles\":[\"ervaringsdeskundige\"],\"expertise\":[],"
                             "\"state\":\"offered\",\"offered\":\"ed-tw-01\"}]"));
    char *html = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&html, &size);
    json_t *audit = json_array ();
    en_pages_request (out, &page, request, audit, NULL, false);
    fclose (out);
    json_decref (audit);
    assert_non_null (strstr (html, "<h2>Plaatsen</h2>"));
    assert_non_null (strstr (html, "<tr class=\"place-vervuld\"><td>1</td><td>superexpert</td><td>trauma</td>"
                                   "<td>vervuld</td><td>se-tw-01</td></tr>"));
    assert_non_null (strstr (html, "<tr class=\"place-hiaat\"><td>2</td>"));
    assert_non_null (strstr (html, "<td>open</td><td>aangeboden aan ed-tw-01</td>"));
    assert_non_null (strstr (html, "<select id=\"place-reoffer\" name=\"place\">"));
    assert_non_null (strstr (html, "<option value=\"3\">Plaats 3</option>"));
    assert_non_null (strstr (html, "Opnieuw aanbieden"));
    assert_null (strstr (html, "place-recall"));
    free (html);
    //  One place at a peer: recall it, and still act on the others here
    json_object_set_new (request, "peer", json_string ("gelderland"));
    out = open_memstream (&html, &size);
    audit = json_array ();
    en_pages_request (out, &page, request, audit, NULL, false);
    fclose (out);
    json_decref (audit);
    assert_non_null (strstr (html, "in behandeling bij de broker van gelderland"));
    assert_non_null (strstr (html, "<select id=\"place-recall\" name=\"place\">"));
    assert_non_null (strstr (html, "<select id=\"place-reoffer\" name=\"place\">"));
    assert_non_null (strstr (html, "<select id=\"place-close\" name=\"place\">"));
    free (html);
    json_decref (request);
}

//  A row as the broker writes a request (state and urgency as given)
static void
s_request_row (en_db_t *db, const char *id, const char *state, const char *urgency)
{
    assert_int_equal (en_db_exec (db,
        "INSERT INTO requests (id, origin, msg_id, region, urgency, question_type, summary, state, created, updated)"
        " VALUES (?1, 'twente', ?1, 'twente', ?2, 'consultatie-advies', '{\"expertise\": [\"trauma\"]}', ?3, ?4, ?4)",
        "sssi", id, urgency, state, en_now_ms ()), 0);
}

//  The figures' counters (migration 12): a store from before them gets
//  them from its rows; then each change keeps them; and the dashboard's
//  read-only connection reads the same figures as the broker's own.
static void
test_figure_counters (void **state)
{
    fixture_t *self = (fixture_t *) *state;
    en_db_t *db = en_bstore_db (self->store);
    //  A store as migration 11 left it, with rows
    assert_int_equal (sqlite3_exec (en_db_handle (db), "DROP TRIGGER requests_count_in; DROP TRIGGER requests_count_move;"
        " DROP TRIGGER requests_count_out; DROP TRIGGER hiaten_count_in; DROP TRIGGER hiaten_count_out;"
        " DROP TABLE request_counts; DROP TABLE store_counts; DROP INDEX hiaten_at;"
        //  (and without migration 13's candidate indexes)
        " DROP INDEX experts_route_region; DROP INDEX experts_route; DROP INDEX experts_escalation;"
        " DROP INDEX experts_node; CREATE INDEX experts_active ON experts (active, role);"
        //  (and without the follow-up migration's review date)
        " DROP TRIGGER requests_review_disarm; DROP INDEX requests_review_armed; DROP INDEX requests_review_open;"
        " ALTER TABLE requests DROP COLUMN review_at; ALTER TABLE requests DROP COLUMN review_pending;"
        " DROP TABLE beraad;"
        //  (and without the team migration's places)
        " DROP TRIGGER places_load; DROP TRIGGER places_unload; DROP TABLE places;"
        " ALTER TABLE offers DROP COLUMN place; ALTER TABLE events DROP COLUMN place;"
        " CREATE TRIGGER requests_unload AFTER UPDATE OF state, expert, peer ON requests"
        "  WHEN OLD.expert IS NOT NULL AND OLD.peer IS NULL AND OLD.state IN ('accepted', 'advice') BEGIN"
        "  UPDATE experts SET load = load - 1 WHERE id = OLD.expert; END;"
        " CREATE TRIGGER requests_load AFTER UPDATE OF state, expert, peer ON requests"
        "  WHEN NEW.expert IS NOT NULL AND NEW.peer IS NULL AND NEW.state IN ('accepted', 'advice') BEGIN"
        "  UPDATE experts SET load = load + 1 WHERE id = NEW.expert; END;"
        " PRAGMA user_version = 11;", NULL, NULL, NULL), SQLITE_OK);
    s_request_row (db, "twente-0001", "closed", "crisis");
    s_request_row (db, "twente-0002", "closed", "regulier");
    s_request_row (db, "twente-0003", "offered", "hoog");
    s_request_row (db, "twente-0004", "hiaat", "hoog");
    assert_int_equal (en_db_exec (db, "INSERT INTO hiaten VALUES ('twente-0004', 1, 'twente', 'hoog',"
                                      " 'consultatie-advies', '[]')", NULL), 0);
    char path [128];
    snprintf (path, sizeof path, "%s/broker.db", self->dir);
    en_router_destroy (&self->router);
    en_bstore_destroy (&self->store);
    en_error_t error = { 0 };
    self->store = en_bstore_new (path, &error);
    assert_non_null (self->store);
    self->router = en_router_new (self->store, "broker-oost");
    db = en_bstore_db (self->store);
    assert_int_equal (test_counters_drift (db), 0);
    json_t *counts = en_bstore_counts (self->store);
    char *text = json_dumps (json_object_get (counts, "requests_by_state"), JSON_COMPACT);
    assert_string_equal (text, "{\"closed\":2,\"hiaat\":1,\"offered\":1}");
    free (text);
    text = json_dumps (json_object_get (counts, "open_by_urgency"), JSON_COMPACT);
    assert_string_equal (text, "{\"hoog\":1}");
    free (text);
    assert_int_equal (en_json_int (counts, "hiaten", -1), 1);
    json_decref (counts);

    //  Changes move the counters: a hiaat offered again, a state
    //  nobody has any more dropped, a hiaat recorded twice counted once
    assert_int_equal (en_db_exec (db, "UPDATE requests SET state = 'offered' WHERE id = 'twente-0004'", NULL), 0);
    assert_int_equal (en_db_exec (db, "UPDATE requests SET state = 'closed' WHERE id = 'twente-0003'", NULL), 0);
    //  (as the router writes them: the place, whose state the request's is)
    assert_int_equal (en_db_exec (db, "UPDATE places SET state = 'offered' WHERE request_id = 'twente-0004'", NULL), 0);
    assert_int_equal (en_db_exec (db, "UPDATE places SET state = 'closed' WHERE request_id = 'twente-0003'", NULL), 0);
    json_t *request = en_bstore_request (self->store, "twente-0004");
    assert_int_equal (en_bstore_hiaat (self->store, request), 0);
    json_decref (request);
    assert_int_equal (test_counters_drift (db), 0);
    counts = en_bstore_counts (self->store);
    text = json_dumps (json_object_get (counts, "requests_by_state"), JSON_COMPACT);
    assert_string_equal (text, "{\"closed\":3,\"offered\":1}");
    free (text);
    assert_int_equal (en_json_int (counts, "hiaten", -1), 1);

    //  The dashboard's own connection reads what the broker's does
    en_bstore_t *reader = en_bstore_open_readonly (path, &error);
    assert_non_null (reader);
    assert_int_equal (en_bstore_snapshot (reader, true), 0);
    json_t *read = en_bstore_counts (reader);
    json_t *open = en_bstore_requests_open (reader, 200);
    assert_int_equal (en_bstore_snapshot (reader, false), 0);
    char *mine = json_dumps (counts, JSON_COMPACT), *theirs = json_dumps (read, JSON_COMPACT);
    assert_string_equal (mine, theirs);
    free (mine);
    free (theirs);
    assert_int_equal (json_array_size (open), 1);
    assert_string_equal (en_json_str (json_array_get (open, 0), "id"), "twente-0004");
    //  ... and cannot write
    assert_int_not_equal (en_db_exec (en_bstore_db (reader), "DELETE FROM requests", NULL), 0);
    json_decref (open);
    json_decref (read);
    json_decref (counts);
    en_bstore_destroy (&reader);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    zsys_init ();
    zsys_set_logstream (NULL);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_reoffer_moves_to_next_candidate, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_reoffer_of_hiaat_finds_new_expert, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_escalate, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_close_frees_capacity, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_operator_refusals, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_operators_and_tokens, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_figure_counters, s_setup, s_teardown),
        cmocka_unit_test (test_metrics_text),
        cmocka_unit_test (test_charts),
        cmocka_unit_test (test_federation_panel),
        cmocka_unit_test (test_forwarded_request_page),
        cmocka_unit_test (test_team_request_page),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
