/*  test_notify - the notification queue: backoff schedule, the declared
    states and the store's transitions (including a node stopped
    mid-send), reminder timing, what a rendered mail may say (never the
    question or the summary), the mail's wire form, address checks and
    the sender actor reporting a relay that is down.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "expertnet.h"
#include "en_nstore.h"
#include "en_notify.h"
#include "test_fixture.h"

typedef test_nstore_fixture_t fixture_t;

//  An OFFER body as the broker sends it: the summary holds the question.
static json_t *
s_offer (const char *id, const char *kind, const char *urgency, int64_t deadline)
{
    return json_pack ("{s:s, s:s, s:s, s:s, s:I, s:{s:s, s:s, s:s, s:[s], s:s, s:[s,s], s:s}}",
        "offer", id, "request_id", "twente-0a1b2c3d", "expert", "se-tw-01", "kind", kind,
        "deadline", (json_int_t) deadline,
        "request", "id", "twente-0a1b2c3d", "urgency", urgency,
        "question", "Kwx-vraag: welke behandeling na drie crisisplaatsingen?",
        "expertise", "trauma", "age_band", "12-17", "leefgebieden", "jeugdhulp", "onderwijs",
        "situatie", "pleegzorg");
}

//  A rendered, queueable row for an offer (as the node queues it).
static json_t *
s_row (const char *offer, const char *recipient)
{
    json_t *body = s_offer (offer, "offer", "hoog", en_now_ms () + 60000);
    json_t *event = en_notify_offer_event (body);
    char *link = en_notify_link ("https://portal.twente.example", "aanbod", offer, NULL);
    char *subject, *text;
    assert_int_equal (en_notify_render ("aanbod", "email", en_json_str (event, "urgency"),
                                        en_json_int (event, "deadline", 0), link, "twente", &subject, &text), 0);
    char *unique = en_new_id ();
    char message_id [96];
    snprintf (message_id, sizeof message_id, "<%s@twente.expertnet>", unique);
    json_t *row = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s}",
        "kind", "aanbod", "channel", "email", "recipient", recipient, "expert", "se-tw-01",
        "offer", offer, "request", "twente-0a1b2c3d", "urgency", "hoog",
        "deadline", (json_int_t) en_json_int (event, "deadline", 0), "link", link,
        "subject", subject, "body", text, "message_id", message_id);
    free (unique);
    free (subject);
    free (text);
    free (link);
    json_decref (event);
    json_decref (body);
    return row;
}

static void
test_backoff_schedule (void **state)
{
    int64_t s = 1000;
    assert_int_equal (en_notify_backoff_ms (1, 30 * s, 3600 * s), 30 * s);
    assert_int_equal (en_notify_backoff_ms (2, 30 * s, 3600 * s), 60 * s);
    assert_int_equal (en_notify_backoff_ms (3, 30 * s, 3600 * s), 120 * s);
    assert_int_equal (en_notify_backoff_ms (7, 30 * s, 3600 * s), 1920 * s);
    assert_int_equal (en_notify_backoff_ms (8, 30 * s, 3600 * s), 3600 * s);     //  capped
    assert_int_equal (en_notify_backoff_ms (1000000, 30 * s, 3600 * s), 3600 * s); //  no overflow
    //  Never shrinks from one attempt to the next
    for (int64_t attempts = 1; attempts < 80; attempts++)
        assert_true (en_notify_backoff_ms (attempts + 1, 300, 1000) >= en_notify_backoff_ms (attempts, 300, 1000));
}

static void
test_transitions_declared (void **state)
{
    assert_true (en_notify_transition_valid ("wacht", "bezig"));
    assert_true (en_notify_transition_valid ("bezig", "verzonden"));
    assert_true (en_notify_transition_valid ("bezig", "mislukt-opnieuw"));
    assert_true (en_notify_transition_valid ("mislukt-opnieuw", "bezig"));
    assert_true (en_notify_transition_valid ("bezig", "wacht"));
    //  Sent is final; nothing is sent without being marked bezig first
    assert_false (en_notify_transition_valid ("verzonden", "bezig"));
    assert_false (en_notify_transition_valid ("verzonden", "wacht"));
    assert_false (en_notify_transition_valid ("wacht", "verzonden"));
    assert_false (en_notify_transition_valid ("mislukt-opnieuw", "verzonden"));
}

//  The store's queue through its states: due, marked bezig (not due
//  twice), failed with backoff (due only later), recovered after a stop
//  mid-send, sent (never due again).
static void
test_queue_states (void **state)
{
    fixture_t *fx = (fixture_t *) *state;
    json_t *row = s_row ("twente-0a1b2c3d-o1", "se-tw-01@twente.example");
    assert_int_equal (en_nstore_notify_put (fx->store, row), 0);
    json_decref (row);
    int64_t now = en_now_ms ();
    json_t *due = en_nstore_notify_due (fx->store, now + 1, 10);
    assert_int_equal (json_array_size (due), 1);
    json_t *first = json_array_get (due, 0);
    int64_t id = en_json_int (first, "id", 0);
    assert_string_equal (en_json_str (first, "state"), "wacht");
    assert_int_equal (en_json_int (first, "attempts", -1), 0);
    json_decref (due);

    //  Handed to the sender: not due again while bezig
    assert_int_equal (en_nstore_notify_state (fx->store, id, "bezig", 0, now, NULL), 0);
    due = en_nstore_notify_due (fx->store, now + 1, 10);
    assert_int_equal (json_array_size (due), 0);
    json_decref (due);

    //  The relay was down: due again after the backoff, not before
    int64_t next = now + en_notify_backoff_ms (1, 30000, 3600000);
    assert_int_equal (en_nstore_notify_state (fx->store, id, "mislukt-opnieuw", 1, next, "Couldn't connect"), 0);
    due = en_nstore_notify_due (fx->store, next - 1, 10);
    assert_int_equal (json_array_size (due), 0);
    json_decref (due);
    due = en_nstore_notify_due (fx->store, next, 10);
    assert_int_equal (json_array_size (due), 1);
    assert_string_equal (en_json_str (json_array_get (due, 0), "last_error"), "Couldn't connect");
    json_decref (due);

    //  Marked bezig, then the node stopped (or was killed): reopened, the
    //  store hands it out again (at most once more; see en_notify.c)
    assert_int_equal (en_nstore_notify_state (fx->store, id, "bezig", 1, next, NULL), 0);
    en_nstore_destroy (&fx->store);
    fx->store = en_nstore_new (fx->path, NULL);
    assert_non_null (fx->store);
    assert_int_equal (en_nstore_notify_recover (fx->store), 1);
    due = en_nstore_notify_due (fx->store, next, 10);
    assert_int_equal (json_array_size (due), 1);
    assert_string_equal (en_json_str (json_array_get (due, 0), "state"), "wacht");
    assert_int_equal (en_json_int (json_array_get (due, 0), "attempts", -1), 1);
    json_decref (due);

    //  Sent: final, never due again, kept for the beheerder with its time
    assert_int_equal (en_nstore_notify_state (fx->store, id, "verzonden", 2, next, NULL), 0);
    due = en_nstore_notify_due (fx->store, next + 86400000LL, 10);
    assert_int_equal (json_array_size (due), 0);
    json_decref (due);
    json_t *listed = en_nstore_notifications (fx->store, NULL, 10);
    assert_int_equal (json_array_size (listed), 1);
    assert_string_equal (en_json_str (json_array_get (listed, 0), "state"), "verzonden");
    assert_true (en_json_int (json_array_get (listed, 0), "sent", 0) > 0);
    assert_null (json_object_get (json_array_get (listed, 0), "body"));  //  the list carries no bodies
    json_decref (listed);
    json_t *counts = en_nstore_notify_counts (fx->store);
    assert_int_equal (en_json_int (counts, "verzonden", 0), 1);
    json_decref (counts);
    assert_int_equal (en_nstore_notify_recover (fx->store), 0);
}

//  Queued in the event's transaction: rolled back with it
static void
test_queue_is_transactional (void **state)
{
    fixture_t *fx = (fixture_t *) *state;
    en_db_t *db = en_nstore_db (fx->store);
    assert_int_equal (en_db_begin (db), 0);
    json_t *offer = s_offer ("twente-0a1b2c3d-o2", "offer", "hoog", en_now_ms () + 60000);
    assert_int_equal (en_nstore_offer_insert (fx->store, offer), 0);
    json_t *row = s_row ("twente-0a1b2c3d-o2", "se-tw-01@twente.example");
    assert_int_equal (en_nstore_notify_put (fx->store, row), 0);
    assert_int_equal (en_db_rollback (db), 0);
    json_t *due = en_nstore_notify_due (fx->store, en_now_ms () + 1, 10);
    assert_int_equal (json_array_size (due), 0);
    json_decref (due);
    assert_null (en_nstore_offer (fx->store, "twente-0a1b2c3d-o2"));
    json_decref (row);
    json_decref (offer);
}

//  A reminder at half the offer's time, only while it is open and
//  unanswered, before the deadline, and once.
static void
test_reminder_timing (void **state)
{
    fixture_t *fx = (fixture_t *) *state;
    assert_int_equal (en_notify_reminder_at (1000, 11000), 6000);
    assert_int_equal (en_notify_reminder_at (0, 600000), 300000);   //  crisis: 10 min -> after 5

    int64_t now = en_now_ms ();
    json_t *offer = s_offer ("twente-0a1b2c3d-o3", "offer", "crisis", now + 10000);
    assert_int_equal (en_nstore_offer_insert (fx->store, offer), 0);
    json_decref (offer);
    offer = s_offer ("twente-0a1b2c3d-o4", "offer", "crisis", now + 10000);
    assert_int_equal (en_nstore_offer_insert (fx->store, offer), 0);
    json_decref (offer);
    json_t *offers = en_nstore_offers_to_remind (fx->store, now + 1000);
    assert_int_equal (json_array_size (offers), 0);                 //  not yet half
    json_decref (offers);
    offers = en_nstore_offers_to_remind (fx->store, now + 6000);
    assert_int_equal (json_array_size (offers), 2);
    assert_string_equal (en_json_str (json_array_get (offers, 0), "urgency"), "crisis");
    json_decref (offers);
    //  Answered offers are not reminded; a reminded one not twice
    assert_int_equal (en_nstore_offer_answer (fx->store, "twente-0a1b2c3d-o4", "accept", "m1"), 0);
    offers = en_nstore_offers_to_remind (fx->store, now + 6000);
    assert_int_equal (json_array_size (offers), 1);
    assert_string_equal (en_json_str (json_array_get (offers, 0), "id"), "twente-0a1b2c3d-o3");
    json_decref (offers);
    assert_int_equal (en_nstore_offer_reminded (fx->store, "twente-0a1b2c3d-o3"), 0);
    offers = en_nstore_offers_to_remind (fx->store, now + 6000);
    assert_int_equal (json_array_size (offers), 0);
    json_decref (offers);
    //  Past the deadline: too late for a reminder
    offer = s_offer ("twente-0a1b2c3d-o5", "offer", "hoog", now + 2000);
    assert_int_equal (en_nstore_offer_insert (fx->store, offer), 0);
    json_decref (offer);
    offers = en_nstore_offers_to_remind (fx->store, now + 3000);
    assert_int_equal (json_array_size (offers), 0);
    json_decref (offers);
}

//  No case data: from an OFFER whose summary holds a question, tags, an
//  age band, life domains and a situation, the event and every rendered
//  text (each kind, each channel) hold none of them.
static void
test_no_case_data (void **state)
{
    static const char *leaks [] = { "Kwx-vraag", "crisisplaatsingen", "trauma", "12-17", "jeugdhulp",
                                    "onderwijs", "pleegzorg", NULL };
    static const char *kinds [] = { "aanbod", "escalatie", "herinnering", "advies", "hiaat", NULL };
    static const char *channels [] = { "email", "sms", NULL };
    json_t *offer = s_offer ("twente-0a1b2c3d-o1", "escalation", "crisis", en_now_ms () + 600000);
    json_t *event = en_notify_offer_event (offer);
    assert_string_equal (en_json_str (event, "kind"), "escalatie");
    assert_string_equal (en_json_str (event, "urgency"), "crisis");
    char *text = json_dumps (event, 0);
    for (int l = 0; leaks [l]; l++)
        assert_null (strstr (text, leaks [l]));
    free (text);
    for (int k = 0; kinds [k]; k++)
        for (int c = 0; channels [c]; c++) {
            char *link = en_notify_link ("https://portal.twente.example", kinds [k], en_json_str (event, "offer"),
                                         en_json_str (event, "request"));
            char *subject = NULL, *body = NULL;
            assert_int_equal (en_notify_render (kinds [k], channels [c], en_json_str (event, "urgency"),
                                                en_json_int (event, "deadline", 0), link, "twente", &subject,
                                                &body), 0);
            for (int l = 0; leaks [l]; l++) {
                assert_null (strstr (subject, leaks [l]));
                assert_null (strstr (body, leaks [l]));
            }
            assert_non_null (strstr (body, link));          //  the way to the question
            assert_non_null (strstr (body, "crisis"));      //  urgency
            if (streq (channels [c], "email")) {
                assert_non_null (strstr (body, "Soort melding:"));
                assert_non_null (strstr (body, kinds [k]));
                assert_non_null (strstr (body, "Reageer voor:"));
            }
            else
                assert_true (strlen (body) <= 160);         //  one SMS
            free (subject);
            free (body);
            free (link);
        }
    char *link = en_notify_link ("https://p.example", "hiaat", "x-o1", "twente-0a1b2c3d");
    assert_string_equal (link, "https://p.example/verzoeken/twente-0a1b2c3d");
    free (link);
    link = en_notify_link ("https://p.example", "herinnering", "twente-0a1b2c3d-o1", "twente-0a1b2c3d");
    assert_string_equal (link, "https://p.example/aanbod/twente-0a1b2c3d-o1");
    free (link);
    char *subject, *body;
    assert_int_equal (en_notify_render ("onbekend", "email", NULL, 0, "x", "twente", &subject, &body), -1);
    //  An urgency outside the vocabulary never reaches the Subject header
    assert_int_equal (en_notify_render ("aanbod", "email", "hoog\r\nBcc: x@y.example", 0, "x", "twente",
                                        &subject, &body), 0);
    assert_null (strchr (subject, '\n'));
    assert_null (strstr (body, "Bcc"));
    free (subject);
    free (body);
    json_decref (event);
    json_decref (offer);
}

static void
test_dutch_time (void **state)
{
    setenv ("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);         //  Europe/Amsterdam, without tzdata
    tzset ();
    char buf [80];
    //  2026-12-02 04:12 UTC is 05:12 in Amsterdam (CET), a Wednesday
    assert_string_equal (en_notify_dutch_time (1796184720000LL, buf, sizeof buf),
                         "woensdag 2 december 2026 om 05:12");
    //  2026-07-05 10:00 UTC: 12:00 CEST, a Sunday
    assert_string_equal (en_notify_dutch_time (1783245600000LL, buf, sizeof buf),
                         "zondag 5 juli 2026 om 12:00");
}

//  The wire form: CRLF lines, the headers a relay and a reader need, a
//  subject that is not plain ASCII encoded (RFC 2047).
static void
test_mail_form (void **state)
{
    json_t *row = json_pack ("{s:s, s:s, s:s, s:s, s:I}", "recipient", "se-tw-01@twente.example",
                             "subject", "Advies ontvangen", "body", "Regel een\nRegel twee\n",
                             "message_id", "<abc@twente.expertnet>", "created", (json_int_t) 1796184720000LL);
    char *mail = en_notify_mail (row, "expertnet@twente.example");
    assert_non_null (strstr (mail, "Date: Wed, 02 Dec 2026 04:12:00 +0000\r\n"));
    assert_non_null (strstr (mail, "From: expertnet <expertnet@twente.example>\r\n"));
    assert_non_null (strstr (mail, "To: <se-tw-01@twente.example>\r\n"));
    assert_non_null (strstr (mail, "Message-ID: <abc@twente.expertnet>\r\n"));
    assert_non_null (strstr (mail, "Subject: Advies ontvangen\r\n"));
    assert_non_null (strstr (mail, "charset=UTF-8\r\n"));
    assert_non_null (strstr (mail, "\r\n\r\nRegel een\r\nRegel twee\r\n"));
    for (const char *p = mail; *p; p++)
        if (*p == '\n')
            assert_true (p > mail && p [-1] == '\r');
    free (mail);
    json_object_set_new (row, "subject", json_string ("Één melding"));
    mail = en_notify_mail (row, "expertnet@twente.example");
    assert_non_null (strstr (mail, "Subject: =?UTF-8?B?"));
    free (mail);
    json_decref (row);
}

static void
test_address_checks (void **state)
{
    assert_true (en_notify_email_valid ("se-tw-01@twente.example"));
    assert_false (en_notify_email_valid ("se tw@twente.example"));
    assert_false (en_notify_email_valid ("a@b.example\r\nBcc: x@y.example"));   //  header injection
    assert_false (en_notify_email_valid ("<a@b.example>"));
    assert_false (en_notify_email_valid ("a@@b.example"));
    assert_false (en_notify_email_valid ("geen-adres"));
    assert_false (en_notify_email_valid (NULL));
    assert_true (en_notify_phone_valid ("+31612345678"));
    assert_false (en_notify_phone_valid ("0612345678"));
    assert_false (en_notify_phone_valid ("+31 6 1234"));
    assert_false (en_notify_phone_valid ("+123"));
}

static void
test_config (void **state)
{
    en_error_t error = { 0 };
    zconfig_t *config = zconfig_new ("root", NULL);
    en_notify_config_t *settings = en_notify_config_new (config, "twente", &error);
    assert_non_null (settings);
    assert_null (settings->smtp_url);                               //  nothing configured: no sender
    assert_string_equal (settings->starttls, "try");
    en_notify_config_destroy (&settings);
    zconfig_put (config, "web/address", "127.0.0.1:8443");
    settings = en_notify_config_new (config, "twente", &error);
    assert_string_equal (settings->public_url, "http://127.0.0.1:8443");    //  derived
    en_notify_config_destroy (&settings);
    zconfig_put (config, "web/public_url", "https://portal.twente.example/");
    zconfig_put (config, "notify/smtp_url", "smtp://relay.twente.example:587");
    zconfig_put (config, "notify/from", "expertnet@twente.example");
    zconfig_put (config, "notify/staff_email", "et@twente.example, geen-adres ,pr@twente.example");
    settings = en_notify_config_new (config, "twente", &error);
    assert_non_null (settings);
    assert_string_equal (settings->public_url, "https://portal.twente.example");
    en_notify_config_destroy (&settings);
    json_t *staff = en_notify_staff (config);
    assert_int_equal (json_array_size (staff), 2);
    json_decref (staff);
    zconfig_put (config, "notify/starttls", "maybe");
    assert_null (en_notify_config_new (config, "twente", &error));
    assert_non_null (strstr (error.reason, "starttls"));
    zconfig_put (config, "notify/starttls", "required");
    zconfig_put (config, "notify/smtp_url", "http://relay.example");
    assert_null (en_notify_config_new (config, "twente", &error));
    assert_non_null (strstr (error.reason, "smtp_url"));
    zconfig_destroy (&config);
}

//  The sender reports a relay that never answers, and a gateway that is
//  down, while its caller goes on: the relay here accepts the TCP
//  connection (the kernel's backlog) and never says a word.
static void
test_sender_reports_failure (void **state)
{
    int silent = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t length = sizeof address;
    assert_int_equal (bind (silent, (struct sockaddr *) &address, sizeof address), 0);
    assert_int_equal (listen (silent, 4), 0);
    assert_int_equal (getsockname (silent, (struct sockaddr *) &address, &length), 0);
    char url [64];
    snprintf (url, sizeof url, "smtp://127.0.0.1:%d", ntohs (address.sin_port));

    en_error_t error = { 0 };
    zconfig_t *config = zconfig_new ("root", NULL);
    zconfig_put (config, "notify/smtp_url", url);
    zconfig_put (config, "notify/from", "expertnet@twente.example");
    zconfig_put (config, "notify/starttls", "off");
    //  Port 1 on loopback: nobody listens, connect is refused at once
    zconfig_put (config, "notify/sms_url", "http://127.0.0.1:1/sms");
    zconfig_put (config, "notify/timeout", "1s");
    en_notify_config_t *settings = en_notify_config_new (config, "twente", &error);
    assert_non_null (settings);
    en_notify_sender_t *sender = en_notify_sender_new (settings);
    assert_non_null (sender);
    json_t *row = s_row ("twente-0a1b2c3d-o1", "se-tw-01@twente.example");
    json_object_set_new (row, "id", json_integer (41));
    assert_int_equal (en_notify_sender_send (sender, row), 0);
    json_object_set_new (row, "id", json_integer (42));
    json_object_set_new (row, "channel", json_string ("sms"));
    json_object_set_new (row, "recipient", json_string ("+31600000001"));
    assert_int_equal (en_notify_sender_send (sender, row), 0);
    //  Handed over; the caller is free while the relay stays silent
    zpoller_t *poller = zpoller_new (en_notify_sender_sock (sender), NULL);
    assert_null (zpoller_wait (poller, 300));
    for (int64_t expect = 41; expect <= 42; expect++) {
        assert_non_null (zpoller_wait (poller, 10000));
        int64_t id = 0;
        char *error = NULL;
        assert_int_equal (en_notify_sender_recv (sender, &id, &error), 0);
        assert_int_equal (id, expect);
        assert_non_null (error);                                    //  not accepted: retried later
        free (error);
    }
    zpoller_destroy (&poller);
    json_decref (row);
    en_notify_sender_destroy (&sender);
    en_notify_config_destroy (&settings);
    zconfig_destroy (&config);
    close (silent);
}

int
main (void)
{
    zsys_init ();
    zsys_set_logstream (NULL);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_backoff_schedule),
        cmocka_unit_test (test_transitions_declared),
        cmocka_unit_test_setup_teardown (test_queue_states, test_nstore_setup, test_nstore_teardown),
        cmocka_unit_test_setup_teardown (test_queue_is_transactional, test_nstore_setup, test_nstore_teardown),
        cmocka_unit_test_setup_teardown (test_reminder_timing, test_nstore_setup, test_nstore_teardown),
        cmocka_unit_test (test_no_case_data),
        cmocka_unit_test (test_dutch_time),
        cmocka_unit_test (test_mail_form),
        cmocka_unit_test (test_address_checks),
        cmocka_unit_test (test_config),
        cmocka_unit_test (test_sender_reports_failure),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
