/*  en_node_notify - the node's side of notifications that reach people
    (en_notify): who hears of what, queueing in the event's transaction,
    and the sender actor's rows.

    An offer, an escalation offer, advice for one of our requests, a
    request become hiaat and an offer half its time unanswered each queue
    e-mail (and for crisis a text message) in the transaction of the
    event (en_node_notify_queue). The loop hands due rows to the sender
    actor and writes the results (en_node_notify_tick,
    en_node_notify_result); experts' addresses and numbers are held here
    only, never published (expert_contacts).
*/
#include "en_node_int.h"

//  Read the staff addresses and start the sender when a relay or a
//  gateway is configured (self->notify_config read already). Rows a
//  stopped node left 'bezig' are due again. 0, or -1 with error.
int
en_node_notify_start (en_node_t *self, zconfig_t *config, en_error_t *error)
{
    self->staff = en_notify_staff (config);
    int64_t recovered = en_nstore_notify_recover (self->store);
    if (recovered > 0)
        zsys_info ("notifications: %lld interrupted by a stop are due again", (long long) recovered);
    if (self->notify_config->smtp_url || self->notify_config->sms_url) {
        self->sender = en_notify_sender_new (self->notify_config);
        if (!self->sender)
            return en_error_set (error, EN_ERR_INTERNAL, "cannot start the notification sender (libcurl)");
        if (self->poller)
            zpoller_add (self->poller, en_notify_sender_sock (self->sender));
    }
    return 0;
}

//  The notify settings (section notify) and the sender. 0, or -1 with
//  error.
int
en_node_notify_setup (en_node_t *self, zconfig_t *config, en_error_t *error)
{
    self->notify_config = en_notify_config_new (config, self->region, error);
    if (!self->notify_config)
        return -1;
    return en_node_notify_start (self, config, error);
}

//  Stop the sender; first take the results of rows it still has, so a
//  row the relay accepted is not sent again at the next start.
void
en_node_notify_stop (en_node_t *self)
{
    if (!self->sender)
        return;
    zsock_t *sock = en_notify_sender_sock (self->sender);
    for (int waited = 0; self->inflight > 0 && waited < 60; waited++) {
        zpoller_t *poller = zpoller_new (sock, NULL);
        bool ready = zpoller_wait (poller, 1000) == sock;
        zpoller_destroy (&poller);
        if (ready)
            en_node_notify_result (self);
    }
    if (self->poller)
        zpoller_remove (self->poller, sock);
    en_notify_sender_destroy (&self->sender);
    self->inflight = 0;
}

//  Add {channel, to} unless that address is in the list already.
static void
s_recipient_add (json_t *recipients, const char *channel, const char *to)
{
    size_t index;
    json_t *recipient;
    json_array_foreach (recipients, index, recipient)
        if (streq (en_json_str (recipient, "to"), to) && streq (en_json_str (recipient, "channel"), channel))
            return;
    json_array_append_new (recipients, json_pack ("{s:s, s:s}", "channel", channel, "to", to));
}

//  Who hears of a notification, as [{channel, to}]. The one place that
//  knows where addresses live: for staff (advies, hiaat, a bericht for
//  the team) the configured
//  staff list and every medewerker account with an e-mail address; for
//  an expert the contact registered with the expert, else the address
//  and number of the expert's account.
static json_t *
s_notify_recipients (en_node_t *self, const char *kind, const char *expert, const char *urgency)
{
    json_t *recipients = json_array ();
    bool mail = self->notify_config->smtp_url != NULL;
    bool sms = self->notify_config->sms_url != NULL;
    json_t *users = en_nstore_users (self->store);
    size_t index;
    json_t *item;
    if (streq (kind, "advies") || streq (kind, "hiaat") || streq (kind, "terug-op-et")
    ||  (streq (kind, "bericht") && !expert) || streq (kind, "moreel-beraad-antwoord")) {
        if (mail) {
            json_array_foreach (self->staff, index, item)
                s_recipient_add (recipients, "email", json_string_value (item));
            json_array_foreach (users, index, item)
                if (streq (en_json_str (item, "role"), "medewerker") && en_json_str (item, "email")
                &&  !json_is_true (json_object_get (item, "disabled")))
                    s_recipient_add (recipients, "email", en_json_str (item, "email"));
        }
        json_decref (users);
        return recipients;
    }
    json_t *contact = expert ? en_nstore_contact (self->store, expert) : NULL;
    const char *email = en_json_str (contact, "email");
    const char *phone = en_json_str (contact, "phone");
    json_array_foreach (users, index, item)
        if (expert && streq (en_json_str (item, "expert") ?: "", expert)) {
            email = email ? email : en_json_str (item, "email");
            phone = phone ? phone : en_json_str (item, "phone");
        }
    if (mail && email)
        json_array_append_new (recipients, json_pack ("{s:s, s:s}", "channel", "email", "to", email));
    //  A crisis has minutes: a text message too, where a gateway is set
    if (sms && phone && urgency && streq (urgency, "crisis"))
        json_array_append_new (recipients, json_pack ("{s:s, s:s}", "channel", "sms", "to", phone));
    json_decref (contact);
    json_decref (users);
    return recipients;
}

//  Queue a notification for each recipient, inside the caller's
//  transaction. No case data goes in: kind, urgency, deadline, link.
//  0, or -1 when the store failed.
int
en_node_notify_queue (en_node_t *self, const char *kind, const char *offer, const char *request,
                      const char *expert, const char *urgency, int64_t deadline)
{
    json_t *recipients = s_notify_recipients (self, kind, expert, urgency);
    char *link = en_notify_link (self->notify_config->public_url, kind, offer, request);
    int rc = 0;
    size_t index;
    json_t *recipient;
    json_array_foreach (recipients, index, recipient) {
        const char *channel = en_json_str (recipient, "channel");
        char *subject = NULL, *body = NULL;
        if (en_notify_render (kind, channel, urgency, deadline, link, self->region, &subject, &body)) {
            rc = -1;
            break;
        }
        char *unique = en_new_id ();
        char *message_id = zsys_sprintf ("<%s@%s.expertnet>", unique, self->name);
        json_t *row = json_pack ("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:I, s:s, s:s, s:s, s:s}",
            "kind", kind, "channel", channel, "recipient", en_json_str (recipient, "to"),
            "expert", expert, "offer", offer, "request", request, "urgency", urgency,
            "deadline", (json_int_t) deadline, "link", link, "subject", subject, "body", body,
            "message_id", message_id);
        rc |= en_nstore_notify_put (self->store, row);
        json_decref (row);
        free (message_id);
        free (unique);
        free (subject);
        free (body);
    }
    if (rc == 0 && json_array_size (recipients) > 0)
        zsys_info ("notification %s queued for %zu recipient(s)", kind, json_array_size (recipients));
    free (link);
    json_decref (recipients);
    return rc ? -1 : 0;
}

//  The sender reported on a row: sent, or failed and due again later.
void
en_node_notify_result (en_node_t *self)
{
    int64_t id = 0;
    char *error = NULL;
    if (en_notify_sender_recv (self->sender, &id, &error))
        return;
    if (self->inflight > 0)
        self->inflight--;
    json_t *row = en_nstore_notification (self->store, id);
    const char *state = row ? en_json_str (row, "state") : NULL;
    const char *next = error ? "mislukt-opnieuw" : "verzonden";
    if (!state || !en_notify_transition_valid (state, next)) {
        zsys_warning ("notification %lld: result for a row in state %s ignored", (long long) id,
                      state ? state : "(none)");
        json_decref (row);
        free (error);
        return;
    }
    int64_t attempts = en_json_int (row, "attempts", 0) + 1;
    int64_t next_try = error ? en_now_ms () + en_notify_backoff_ms (attempts, self->notify_config->retry_min_ms,
                                                                   self->notify_config->retry_max_ms)
                             : en_json_int (row, "next_try", 0);
    if (en_nstore_notify_state (self->store, id, next, attempts, next_try, error))
        zsys_error ("notification %lld: could not record state %s", (long long) id, next);
    else
    if (error)
        zsys_warning ("notification %lld (%s) not delivered, attempt %lld: %s", (long long) id,
                      en_json_str (row, "kind"), (long long) attempts, error);
    else
        zsys_info ("notification %lld (%s, %s) delivered", (long long) id, en_json_str (row, "kind"),
                   en_json_str (row, "channel"));
    json_decref (row);
    free (error);
}

//  Reminders for offers half their time unanswered, then hand due rows
//  to the sender (a few at a time; marked 'bezig' and committed first).
void
en_node_notify_tick (en_node_t *self, int64_t now)
{
    en_db_t *db = en_nstore_db (self->store);
    if (now >= self->next_remind) {
        self->next_remind = now + 500;
        json_t *offers = en_nstore_offers_to_remind (self->store, now);
        if (json_array_size (offers) > 0 && en_db_begin (db) == 0) {
            int rc = 0;
            size_t index;
            json_t *offer;
            json_array_foreach (offers, index, offer)
                rc |= en_node_notify_queue (self, "herinnering", en_json_str (offer, "id"),
                                            en_json_str (offer, "request_id"), en_json_str (offer, "expert"),
                                            en_json_str (offer, "urgency"), en_json_int (offer, "deadline", 0))
                   || en_nstore_offer_reminded (self->store, en_json_str (offer, "id"));
            if (rc || en_db_commit (db))
                en_db_rollback (db);
        }
        json_decref (offers);
    }
    if (!self->sender || self->inflight > 0)
        return;
    json_t *due = en_nstore_notify_due (self->store, now, 4);
    if (json_array_size (due) == 0 || en_db_begin (db)) {
        json_decref (due);
        return;
    }
    int rc = 0;
    size_t index;
    json_t *row;
    json_array_foreach (due, index, row) {
        assert (en_notify_transition_valid (en_json_str (row, "state"), "bezig"));
        rc |= en_nstore_notify_state (self->store, en_json_int (row, "id", 0), "bezig",
                                      en_json_int (row, "attempts", 0), en_json_int (row, "next_try", 0),
                                      en_json_str (row, "last_error"));
    }
    if (rc || en_db_commit (db)) {
        en_db_rollback (db);
        json_decref (due);
        return;
    }
    json_array_foreach (due, index, row)
        if (en_notify_sender_send (self->sender, row) == 0)
            self->inflight++;
    json_decref (due);
}
