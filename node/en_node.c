/*  en_node - the region node daemon.

    Sockets:
      dealer   DEALER, CURVE client pinned to the broker's public key
      control  ROUTER on ipc://<datadir>/control.sock for `expertnet`
      notify   PUB on ipc://<datadir>/notify.sock; topics
               "expert:<id>;" (offers, withdrawals) and "request:<id>;"
               (status of this region's requests)

    Connection life cycle. The node sends HELLO every heartbeat until the
    broker answers WELCOME; then it is connected: it re-publishes its
    experts (AVAILABILITY), sends everything in its outbox, and sends PING
    when it has been quiet for a heartbeat. Three heartbeats without
    hearing from the broker and the node drops the socket and starts over
    with a fresh one (the lazy pirate pattern), so a restarted broker or a
    broken path heals by itself. ZMQ_IMMEDIATE keeps libzmq from queuing
    messages for a connection that does not exist; the outbox is the
    only queue, and it is on disk.

    Incoming messages are handled in batches inside one transaction, and
    ACKs go out only after COMMIT, as in the broker. Each is checked first
    (signed by the broker, within the timestamp window: what fails is
    ignored, not answered), then goes by command to its handler: what the
    link says (WELCOME, PONG, TAGS, ACK, ERROR), or, exactly once through
    en_inbox, what the broker asks of us (OFFER, WITHDRAW, STATUS,
    DOSSIER, REPLY).

    Privacy. Identifying data lives only here, in the case register,
    sealed with the vault's data key; a case is known outside the node
    only by its pseudonym (en_vault). Every outgoing message body passes
    the PII guard (en_pii) in s_queue, the one place messages are queued:
    a refusal names the field and the kind of data and nothing is
    queued. The guard knows this region's client names from the register.
    Who did what to which case goes into the hash-chained access log
    (en_audit).

    Notifications that reach people (en_notify). An offer, an escalation
    offer, advice for one of our requests, a request become hiaat and an
    offer half its time unanswered each queue e-mail (and for crisis a
    text message) in the transaction of the event. The loop hands due
    rows to the sender actor and writes the results; experts' addresses
    and numbers are held here only, never published (expert_contacts).
*/
#include "en_node.h"
#include "en_portal.h"
#include "en_notify.h"
#include <sodium.h>
#include <ctype.h>

struct _en_node_t {
    char *name;                 //  node name (our key's name)
    char *region;               //  jeugdregio this node serves
    char *datadir;              //  store, keys, sockets
    char *endpoint;             //  broker endpoint
    char *broker_key;           //  broker's public key (z85)
    unsigned char broker_sign_key [32];     //  broker's Ed25519 public key
    en_signer_t *signer;        //  our Ed25519 key: every message we send is signed
    en_vault_t *vault;          //  region secret (pseudonyms), data key (register)
    en_pii_t *pii;              //  the guard on everything that leaves
    int64_t audit_retention_ms; //  access log retention
    char *totp_required;        //  roles that must log in with TOTP ("a,b,c")
    unsigned long long kdf_ops; //  Argon2id limits for new key wraps
    size_t kdf_mem;
    int64_t heartbeat_ms;       //  heartbeat interval
    int64_t retry_ms;           //  outbox retransmission interval
    zcert_t *cert;              //  our CURVE key pair
    zsock_t *dealer;            //  to the broker
    zsock_t *control;           //  `expertnet` requests
    zsock_t *portal_control;    //  the portal's requests (inproc), or NULL
    en_portal_t *portal;        //  the web portal (its own thread), or NULL
    zsock_t *notify;            //  notifications for listeners
    zpoller_t *poller;
    en_nstore_t *store;
    en_inbox_t *inbox;          //  exactly-once receive of the broker's reliable messages
    zlistx_t *replies;          //  ACKs of the current batch (en_msg_t)
    zlistx_t *notices;          //  notifications of the current batch ("topic\0json")
    bool connected;             //  broker answered WELCOME, still alive
    json_t *network_tags;       //  [{tag, available}] the broker's last TAGS, or NULL
    bool refusal_logged;        //  a connection-level refusal was logged
    int64_t unverified_logged;  //  ms of the last "ignored unverifiable message" line
    int64_t last_rx;            //  ms we last heard from the broker
    int64_t last_tx;            //  ms we last sent to the broker
    int64_t last_hello;         //  ms we last sent HELLO
    int64_t connect_at;         //  ms the current socket was created
    en_notify_config_t *notify_config;  //  section notify (+ web/public_url)
    json_t *staff;              //  staff e-mail addresses (notify/staff_email)
    en_notify_sender_t *sender; //  delivery actor; NULL when nothing is configured
    int inflight;               //  rows handed to the sender, result pending
    int64_t next_remind;        //  ms of the next look for offers to remind
    int64_t anchor_ms;          //  how often our access log's head goes to the broker
    int64_t next_anchor;        //  ms of the next ANCHOR
    int64_t anchored_seq;       //  head seq last queued as ANCHOR (at start: the head then)
    int64_t resubmit_delay_ms;  //  wait after a new broker store before re-sending
    int64_t resubmit_at;        //  ms to re-send open requests to a new broker store (0: none due)
    en_clock_t *clock;          //  the broker's clock's offset from ours
    int64_t clock_alert_ms;     //  node/clock_alert: warn beyond this
    char held_ref [33];         //  the message whose timestamp refusal we logged
                                //  ("" when none): said once until it is accepted
    bool drift_logged;          //  the system clock moved away from ours: said so
};


static void
s_msg_destroy (void **item)
{
    en_msg_destroy ((en_msg_t **) item);
}

static void
s_connect (en_node_t *self)
{
    if (self->dealer) {
        zpoller_remove (self->poller, self->dealer);
        zsock_destroy (&self->dealer);
    }
    self->dealer = en_keys_dealer (self->cert, self->broker_key, self->endpoint, (int) self->heartbeat_ms);
    zpoller_add (self->poller, self->dealer);
    self->connected = false;
    self->last_hello = 0;
    self->connect_at = en_now_ms ();
}

//  Teach the guard one name: the full name and each part of at least
//  three letters that is not a particle (de, van, ...).
static void
s_guard_name (en_node_t *self, const char *name)
{
    if (!name || !*name)
        return;
    en_pii_add_name (self->pii, name);
    static const char *particles [] = { "van", "der", "den", "het", "ter", "ten", "von", NULL };
    char *copy = strdup (name), *save = NULL;
    for (char *part = strtok_r (copy, " ", &save); part; part = strtok_r (NULL, " ", &save))
        if (strlen (part) >= 3 && !en_vocab_has (particles, part))
            en_pii_add_name (self->pii, part);
    sodium_memzero (copy, strlen (name));
    free (copy);
}

//  Teach the guard a client's names and their relatives' names
//  (case add --name, --relatives).
static void
s_guard_names (en_node_t *self, json_t *identity)
{
    s_guard_name (self, en_json_str (identity, "name"));
    size_t index;
    json_t *relative;
    json_array_foreach (json_object_get (identity, "relatives"), index, relative)
        s_guard_name (self, json_string_value (relative));
}

//  Load every registered client's names into the guard. 0 or -1.
static int
s_guard_register_names (en_node_t *self)
{
    json_t *cases = en_nstore_cases_sealed (self->store);
    size_t index;
    json_t *row;
    int rc = 0;
    json_array_foreach (cases, index, row) {
        char *text = en_vault_unseal (self->vault, en_json_str (row, "sealed"));
        json_t *identity = text ? json_loads (text, 0, NULL) : NULL;
        if (identity)
            s_guard_names (self, identity);
        else
            rc = -1;
        if (text) {
            sodium_memzero (text, strlen (text));
            free (text);
        }
        json_decref (identity);
    }
    json_decref (cases);
    return rc;
}

//  One access-log entry (inside the caller's transaction, if any).
static void
s_audit (en_node_t *self, const char *event, const char *case_id, const char *actor,
         const char *on_behalf, const char *action, const char *outcome, const char *detail)
{
    en_audit_entry_t entry = {
        .event = event, .case_id = case_id, .actor = actor ? actor : "unknown",
        .on_behalf = on_behalf, .action = action, .outcome = outcome, .detail = detail };
    if (en_audit_append (en_nstore_db (self->store), &entry))
        zsys_error ("access log: could not record %s", event);
}

//  --------------------------------------------------------------------
//  Notifications (en_notify): recipients, queueing, the sender

//  Read the notify settings and start the sender when a relay or a
//  gateway is configured. Rows a stopped node left 'bezig' are due again.
static int
s_notify_setup_sender (en_node_t *self, zconfig_t *config, char *err, size_t errlen)
{
    self->staff = en_notify_staff (config);
    int64_t recovered = en_nstore_notify_recover (self->store);
    if (recovered > 0)
        zsys_info ("notifications: %lld interrupted by a stop are due again", (long long) recovered);
    if (self->notify_config->smtp_url || self->notify_config->sms_url) {
        self->sender = en_notify_sender_new (self->notify_config);
        if (!self->sender) {
            snprintf (err, errlen, "cannot start the notification sender (libcurl)");
            return -1;
        }
        if (self->poller)
            zpoller_add (self->poller, en_notify_sender_sock (self->sender));
    }
    return 0;
}

static int
s_notify_setup (en_node_t *self, zconfig_t *config, char *err, size_t errlen)
{
    self->notify_config = en_notify_config_new (config, self->region, err, errlen);
    if (!self->notify_config)
        return -1;
    return s_notify_setup_sender (self, config, err, errlen);
}

static void s_notify_result (en_node_t *self);

//  Stop the sender; first take the results of rows it still has, so a
//  row the relay accepted is not sent again at the next start.
static void
s_notify_stop (en_node_t *self)
{
    if (!self->sender)
        return;
    zsock_t *sock = en_notify_sender_sock (self->sender);
    for (int waited = 0; self->inflight > 0 && waited < 60; waited++) {
        zpoller_t *poller = zpoller_new (sock, NULL);
        bool ready = zpoller_wait (poller, 1000) == sock;
        zpoller_destroy (&poller);
        if (ready)
            s_notify_result (self);
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
//  knows where addresses live: for staff (advies, hiaat) the configured
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
    if (streq (kind, "advies") || streq (kind, "hiaat")) {
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
static int
s_notify_queue (en_node_t *self, const char *kind, const char *offer, const char *request,
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
static void
s_notify_result (en_node_t *self)
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
static void
s_notify_tick (en_node_t *self, int64_t now)
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
                rc |= s_notify_queue (self, "herinnering", en_json_str (offer, "id"),
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

static const char *s_roles [] = { "medewerker", "expert", "beheerder", NULL };

//  Settings of the accounts: which roles must use TOTP (web/totp_required,
//  default every role: each sees identifying data or dossiers) and the
//  Argon2id limits of new key wraps (accounts/kdf: interactive or
//  moderate). 0, or -1 with err.
static int
s_accounts_config (en_node_t *self, zconfig_t *config, char *err, size_t errlen)
{
    const char *roles = zconfig_get (config, "web/totp_required", "medewerker,expert,beheerder");
    char *copy = strdup (roles), *save = NULL;
    int rc = 0;
    for (char *role = strtok_r (copy, ", ", &save); role; role = strtok_r (NULL, ", ", &save))
        if (!en_vocab_has (s_roles, role) && !streq (role, "none")) {
            snprintf (err, errlen, "web/totp_required: '%.40s' is not a role (medewerker, expert, beheerder "
                      "or none)", role);
            rc = -1;
        }
    free (copy);
    const char *kdf = zconfig_get (config, "accounts/kdf", "interactive");
    if (rc == 0 && en_keywrap_limits (kdf, &self->kdf_ops, &self->kdf_mem)) {
        snprintf (err, errlen, "accounts/kdf must be interactive or moderate");
        rc = -1;
    }
    if (rc == 0) {
        free (self->totp_required);
        self->totp_required = strdup (roles);
    }
    return rc;
}

en_node_t *
en_node_new (zconfig_t *config, char *err, size_t errlen)
{
    en_node_t *self = (en_node_t *) zmalloc (sizeof (en_node_t));
    assert (self);
    self->name = strdup (zconfig_get (config, "node/name", "twente"));
    self->region = strdup (zconfig_get (config, "node/region", self->name));
    char dflt [PATH_MAX];
    snprintf (dflt, sizeof dflt, "run/%s", self->name);
    self->datadir = strdup (zconfig_get (config, "node/datadir", dflt));
    self->endpoint = strdup (zconfig_get (config, "broker/endpoint", "tcp://127.0.0.1:7700"));
    self->heartbeat_ms = en_config_ms (config, "node/heartbeat", "1s");
    self->retry_ms = en_config_ms (config, "node/retry", "2s");
    self->clock_alert_ms = en_config_ms (config, "node/clock_alert", "30s");
    self->clock = en_clock_new ("broker", self->clock_alert_ms);
    self->replies = zlistx_new ();
    zlistx_set_destructor (self->replies, s_msg_destroy);
    self->notices = zlistx_new ();
    zlistx_set_destructor (self->notices, (zlistx_destructor_fn *) zstr_free);

    if (!en_name_valid (self->name) || !en_name_valid (self->region)) {
        snprintf (err, errlen, "node/name and node/region must be names of [a-z0-9-]");
        goto failed;
    }
    if (en_mkdir_p (self->datadir, 0700)) {
        snprintf (err, errlen, "cannot create data directory %s", self->datadir);
        goto failed;
    }
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/keys", self->datadir);
    self->cert = en_keys_load_secret (path, self->name, err, errlen);
    if (!self->cert)
        goto failed;
    self->signer = en_signer_load (path, self->name, err, errlen);
    if (!self->signer)
        goto failed;
    //  The broker's keys: inline (public_key + sign_key), or its public cert
    const char *key = zconfig_get (config, "broker/public_key", NULL);
    if (key) {
        self->broker_key = strdup (key);
        const char *sign = zconfig_get (config, "broker/sign_key", "");
        size_t size = 0;
        if (strlen (sign) != 64 || sodium_hex2bin (self->broker_sign_key, 32, sign, 64, NULL, &size, NULL)
        ||  size != 32) {
            snprintf (err, errlen, "with broker/public_key, broker/sign_key must be the broker's "
                      "Ed25519 public key (64 hex characters, 'sign-key' in its certificate)");
            goto failed;
        }
    }
    else {
        snprintf (dflt, sizeof dflt, "%s/keys/broker.cert", self->datadir);
        const char *cert_path = zconfig_get (config, "broker/cert", dflt);
        zcert_t *broker = en_keys_load_public (cert_path, err, errlen);
        if (!broker)
            goto failed;
        self->broker_key = strdup (zcert_public_txt (broker));
        int rc = en_keys_sign_key (broker, self->broker_sign_key);
        zcert_destroy (&broker);
        if (rc) {
            snprintf (err, errlen, "broker certificate %s has no sign-key (the broker needs new keys "
                      "from 'expertnet keygen')", cert_path);
            goto failed;
        }
    }
    if (strlen (self->broker_key) != 40) {
        snprintf (err, errlen, "broker public key must be 40 characters of Z85");
        goto failed;
    }
    //  A damaged or lost store is refused (en_db), as at the broker
    snprintf (path, sizeof path, "%s/node.db", self->datadir);
    char marker [PATH_MAX];
    snprintf (marker, sizeof marker, "%s/store.id", self->datadir);
    bool new_store = en_config_bool (config, "node/new_store", false);
    if (en_db_store_check (path, marker, new_store, err, errlen))
        goto failed;
    self->store = en_nstore_new (path, err, errlen);
    if (!self->store
    ||  en_db_store_mark (en_nstore_db (self->store), path, marker, new_store, err, errlen))
        goto failed;
    self->inbox = en_inbox_new (en_nstore_db (self->store), self->name);
    //  The head is anchored when it moved: the first one, one interval in
    self->anchor_ms = MAX (en_config_ms (config, "node/anchor_interval", "15m"), 1000);
    json_t *chain = en_audit_chain (en_nstore_db (self->store));
    self->anchored_seq = en_json_int (chain, "head_seq", -1);
    self->next_anchor = en_now_ms () + self->anchor_ms;
    json_decref (chain);
    self->resubmit_delay_ms = en_config_ms (config, "node/resubmit_delay", "10s");
    json_t *known = en_nstore_broker_store (self->store);
    if (en_json_int (known, "resubmitted", 0) < 0)
        self->resubmit_at = en_now_ms () + self->resubmit_delay_ms;    //  left pending by the last run
    json_decref (known);
    snprintf (path, sizeof path, "%s/keys", self->datadir);
    self->vault = en_vault_new (path, err, errlen);
    if (!self->vault)
        goto failed;
    self->pii = en_pii_new ();
    const char *names = zconfig_get (config, "node/pii_names", NULL);
    if (names && en_pii_load_names (self->pii, names)) {
        snprintf (err, errlen, "cannot read the client names list %s (node/pii_names)", names);
        goto failed;
    }
    if (s_guard_register_names (self)) {
        snprintf (err, errlen, "cannot read the case register (data key missing or wrong?)");
        goto failed;
    }
    if (s_accounts_config (self, config, err, errlen))
        goto failed;
    self->audit_retention_ms = en_config_ms (config, "node/audit_retention", "1827d");
    if (self->audit_retention_ms < 86400LL * 1000) {
        zsys_warning ("node/audit_retention below one day is not allowed; keeping 1827d");
        self->audit_retention_ms = en_duration_ms ("1827d");
    }

    if (s_notify_setup (self, config, err, errlen))
        goto failed;

    mode_t old = umask (0077);
    self->control = zsock_new (ZMQ_ROUTER);
    zsock_set_linger (self->control, 0);
    int rc = zsock_bind (self->control, "ipc://%s/control.sock", self->datadir);
    self->notify = zsock_new (ZMQ_PUB);
    zsock_set_linger (self->notify, 0);
    if (rc == 0)
        rc = zsock_bind (self->notify, "ipc://%s/notify.sock", self->datadir);
    umask (old);
    if (rc < 0) {
        snprintf (err, errlen, "cannot bind sockets in %s: %s", self->datadir, zmq_strerror (zmq_errno ()));
        goto failed;
    }
    self->poller = zpoller_new (self->control, NULL);
    if (self->sender)
        zpoller_add (self->poller, en_notify_sender_sock (self->sender));

    //  The portal, when the config has a web section (address = off: none).
    //  It failing to listen is logged and the node runs on.
    const char *web_address = zconfig_get (config, "web/address", "off");
    if (zconfig_locate (config, "web") && !streq (web_address, "off")) {
        char endpoint [128];
        snprintf (endpoint, sizeof endpoint, "inproc://en-node-portal-%p", (void *) self);
        self->portal_control = zsock_new (ZMQ_ROUTER);
        zsock_set_linger (self->portal_control, 0);
        if (zsock_bind (self->portal_control, "%s", endpoint) < 0) {
            snprintf (err, errlen, "cannot bind %s", endpoint);
            goto failed;
        }
        zpoller_add (self->poller, self->portal_control);
        char web_err [256];
        self->portal = en_portal_new (config, endpoint, self->name, self->region, web_err, sizeof web_err);
        if (!self->portal)
            zsys_error ("portal not started: %s", web_err);
    }
    s_connect (self);
    return self;
failed:
    en_node_destroy (&self);
    return NULL;
}

void
en_node_destroy (en_node_t **self_p)
{
    assert (self_p);
    en_node_t *self = *self_p;
    if (self) {
        //  The portal first: its thread may be waiting for an answer
        en_portal_destroy (&self->portal);
        zsock_destroy (&self->portal_control);
        s_notify_stop (self);
        en_notify_config_destroy (&self->notify_config);
        json_decref (self->staff);
        json_decref (self->network_tags);
        zpoller_destroy (&self->poller);
        zsock_destroy (&self->dealer);
        zsock_destroy (&self->control);
        zsock_destroy (&self->notify);
        zcert_destroy (&self->cert);
        en_signer_destroy (&self->signer);
        en_inbox_destroy (&self->inbox);
        en_nstore_destroy (&self->store);
        en_vault_destroy (&self->vault);
        en_pii_destroy (&self->pii);
        zlistx_destroy (&self->replies);
        zlistx_destroy (&self->notices);
        en_clock_destroy (&self->clock);
        free (self->name);
        free (self->region);
        free (self->datadir);
        free (self->endpoint);
        free (self->broker_key);
        free (self->totp_required);
        free (self);
        *self_p = NULL;
    }
}

static int
s_send (en_node_t *self, en_msg_t *msg)
{
    int rc = en_msg_send (msg, self->dealer, NULL, self->signer);
    if (rc == 0)
        self->last_tx = en_now_ms ();
    return rc;
}

static int
s_send_outbox (const char *dest, en_msg_t *msg, void *arg)
{
    en_node_t *self = (en_node_t *) arg;
    return self->connected ? s_send (self, msg) : -1;
}

static void
s_flush (en_node_t *self)
{
    if (self->connected)
        en_outbox_flush (en_nstore_outbox (self->store), "broker", self->retry_ms, 2000,
                         s_send_outbox, self);
}

//  The PII guard on an outgoing body: 0 if clean; else -1 with err
//  naming the field and the kind of data (never the data), code 422,
//  and an access-log entry of the refusal.
//  True for a request id this node made ("<region>-<8 hex>"); an id
//  typed by a user is checked like any other text.
static bool
s_generated_request_id (const char *id)
{
    const char *dash = strrchr (id, '-');
    if (!dash || strlen (dash + 1) != 8)
        return false;
    for (const char *p = dash + 1; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

//  Remove, at any depth, the identifiers this node generates itself
//  (request, offer and message ids; case pseudonyms): random hex can
//  look like a number the guard refuses, and they carry no client data.
static void
s_strip_generated_ids (json_t *value)
{
    static const char *generated [] = { "case", "offer", "request", "request_id", "ref", "sealed",
                                        "box_key", NULL };
    if (json_is_object (value)) {
        const char *key;
        json_t *member;
        void *tmp;
        json_object_foreach_safe (value, tmp, key, member) {
            if (json_is_string (member)
            &&  (en_vocab_has (generated, key) || (streq (key, "id") && s_generated_request_id (json_string_value (member)))))
                json_object_del (value, key);
            else
                s_strip_generated_ids (member);
        }
    }
    else
    if (json_is_array (value)) {
        size_t index;
        json_t *member;
        json_array_foreach (value, index, member)
            s_strip_generated_ids (member);
    }
}

static int
s_guard (en_node_t *self, const char *what, json_t *body, const char *user, int *code,
         char *err, size_t errlen)
{
    en_pii_finding_t finding;
    what = what ? what : "";
    json_t *checked = json_deep_copy (body);
    s_strip_generated_ids (checked);
    int found = en_pii_check_json (self->pii, *what ? what : NULL, checked, &finding);
    json_decref (checked);
    if (found == 0)
        return 0;
    *code = EN_ERR_INVALID;
    char described [160];
    snprintf (err, errlen, "%s; nothing was sent (remove it; the summary must not identify the child)",
              en_pii_describe (&finding, described, sizeof described));
    zsys_warning ("PII guard refused an outgoing message: %s in field %s", finding.kind, finding.field);
    s_audit (self, "pii.refused", NULL, user, self->name, "send", "refused", finding.kind);
    return -1;
}

//  Queue a reliable message for the broker (inside a transaction), after
//  the PII guard. Takes body. Returns the message id (caller frees), or
//  NULL with err and code (422 refused by the guard, 500 store error).
static char *
s_queue (en_node_t *self, const char *command, json_t *body, const char *user, int *code,
         char *err, size_t errlen)
{
    //  Field paths as users know them: "request.question", "advice.text"
    char what [32];
    snprintf (what, sizeof what, "%s", command);
    for (char *c = what; *c; c++)
        *c = (char) tolower ((unsigned char) *c);
    if (s_guard (self, streq (command, "SUBMIT") ? NULL : what, body, user, code, err, errlen)) {
        json_decref (body);
        return NULL;
    }
    en_msg_t *msg = en_msg_new (command, self->name, body);
    char *id = en_outbox_put (en_nstore_outbox (self->store), "broker", msg) ? NULL
             : strdup (en_msg_id (msg));
    en_msg_destroy (&msg);
    if (!id) {
        *code = EN_ERR_INTERNAL;
        snprintf (err, errlen, "could not queue %s", command);
    }
    return id;
}

//  Queue the full list of this region's experts.
static int
s_queue_availability (en_node_t *self)
{
    int code;
    char err [256];
    //  An expert is of the node's region (the one it is enrolled for),
    //  also one registered while the node was configured for another
    json_t *experts = en_nstore_experts (self->store);
    size_t index;
    json_t *expert;
    json_array_foreach (experts, index, expert)
        json_object_set_new (expert, "region", json_string (self->region));
    char *id = s_queue (self, "AVAILABILITY", json_pack ("{s:o}", "experts", experts),
                        self->name, &code, err, sizeof err);
    if (!id)
        zsys_error ("experts not published: %s", err);
    free (id);
    return id ? 0 : -1;
}

//  Queue a notification for listeners; it is published only after the
//  batch that caused it has committed, so nobody is told about an offer
//  that is not on disk, or told twice when a commit fails.
static void
s_publish (en_node_t *self, const char *kind, const char *id, json_t *event)
{
    char *text = json_dumps (event, JSON_COMPACT);
    char *notice = zsys_sprintf ("%s:%s;%c%s", kind, id ? id : "", 0, text ? text : "{}");
    free (text);
    zlistx_add_end (self->notices, notice);
}

static void
s_publish_committed (en_node_t *self)
{
    for (char *notice = (char *) zlistx_first (self->notices); notice;
         notice = (char *) zlistx_next (self->notices))
        zstr_sendx (self->notify, notice, notice + strlen (notice) + 1, NULL);
    zlistx_purge (self->notices);
}

//  Drop notifications queued after the first keep ones (a message whose
//  changes were rolled back).
static void
s_publish_forget (en_node_t *self, size_t keep)
{
    while (zlistx_size (self->notices) > keep) {
        zlistx_last (self->notices);
        zlistx_delete (self->notices, zlistx_cursor (self->notices));
    }
}

//  Seal text to an expert's box key (hex): crypto_box_seal, so only the
//  holder of the expert's secret key can open it; not the broker, not
//  another expert. Base64, caller frees; NULL if the key is not valid.
static char *
s_seal_to (const char *box_key, const char *text)
{
    unsigned char key [crypto_box_PUBLICKEYBYTES];
    size_t size = 0;
    if (!box_key || sodium_hex2bin (key, sizeof key, box_key, strlen (box_key), NULL, &size, NULL)
    ||  size != sizeof key)
        return NULL;
    size_t length = strlen (text);
    unsigned char *sealed = (unsigned char *) malloc (length + crypto_box_SEALBYTES);
    crypto_box_seal (sealed, (const unsigned char *) text, length, key);
    size_t b64_size = sodium_base64_ENCODED_LEN (length + crypto_box_SEALBYTES, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = (char *) malloc (b64_size);
    sodium_bin2base64 (b64, b64_size, sealed, length + crypto_box_SEALBYTES, sodium_base64_VARIANT_ORIGINAL);
    free (sealed);
    return b64;
}

//  An expert accepted one of our requests: if the request has a dossier,
//  seal it to that expert's box key (crypto_box_seal: only the holder of
//  the expert's secret key can open it; not the broker, not another
//  expert) and queue it. 0, or -1 when it could not be queued.
static int
s_release_dossier (en_node_t *self, json_t *status)
{
    const char *request = en_json_str (status, "request");
    char *stored = en_nstore_request_dossier (self->store, request);
    if (!stored)
        return 0;                           //  no dossier, or already released
    const char *box_key = en_json_str (status, "box_key");
    char *text = en_vault_unseal (self->vault, stored);
    free (stored);
    if (!text)
        return -1;
    char *b64 = s_seal_to (box_key, text);
    sodium_memzero (text, strlen (text));
    free (text);
    if (!b64) {
        zsys_warning ("request %s: accepting expert has no box key; dossier not released", request);
        return 0;
    }
    int code;
    char err [256];
    char *msg_id = s_queue (self, "DOSSIER", json_pack ("{s:s, s:s}", "request", request, "sealed", b64),
                            self->name, &code, err, sizeof err);
    free (b64);
    if (!msg_id) {
        zsys_error ("request %s: dossier not queued: %s", request, err);
        return -1;
    }
    s_audit (self, "dossier.release", request, self->name, en_json_str (status, "expert"), "export", "ok",
             "sealed to the accepting expert");
    int rc = en_nstore_request_dossier_sent (self->store, request, msg_id);
    free (msg_id);
    zsys_info ("request %s: dossier sealed to %s and queued", request, en_json_str (status, "expert"));
    return rc;
}

//  --------------------------------------------------------------------
//  What the broker asks of this node, exactly once (reliable commands,
//  received through en_inbox; see s_receive). Each handler runs inside
//  the message's savepoint and returns 0, or -1 with EN_ERR_INVALID for a
//  message we can never process (final, recorded) or EN_ERR_INTERNAL
//  when our store failed (the broker sends it again).

static int
s_invalid (en_error_t *error)
{
    return en_error_set (error, EN_ERR_INVALID, "invalid message");
}

static int
s_store_failed (en_error_t *error)
{
    return en_error_set (error, EN_ERR_INTERNAL, "node store error");
}

//  OFFER: one of our experts is offered a request
static int
s_on_offer (en_node_t *self, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    if (!en_id_valid (en_json_str (body, "offer")) || !en_name_valid (en_json_str (body, "expert"))
    ||  !en_id_valid (en_json_str (body, "request_id")))
        return s_invalid (error);
    //  The deadline is on the broker's clock: kept here on ours, so a
    //  broker two hours ahead does not give a crisis offer two hours
    //  (the broker's own figure is kept as broker_deadline)
    json_t *deadline = json_object_get (body, "deadline");
    if (json_is_integer (deadline) && en_clock_known (self->clock)
    &&  llabs (en_clock_offset (self->clock)) <= EN_CLOCK_MAX_CORRECTION_MS) {
        json_object_set (body, "broker_deadline", deadline);
        json_object_set_new (body, "deadline",
            json_integer (json_integer_value (deadline) - en_clock_offset (self->clock)));
    }
    if (en_nstore_offer_insert (self->store, body))
        return s_store_failed (error);
    json_t *notice = en_notify_offer_event (body);
    int queued = s_notify_queue (self, en_json_str (notice, "kind"), en_json_str (notice, "offer"),
                                 en_json_str (notice, "request"), en_json_str (notice, "expert"),
                                 en_json_str (notice, "urgency"), en_json_int (notice, "deadline", 0));
    json_decref (notice);
    if (queued)
        return s_store_failed (error);
    json_t *event = json_pack ("{s:s, s:O}", "type", "offer", "offer", body);
    s_publish (self, "expert", en_json_str (body, "expert"), event);
    json_decref (event);
    s_audit (self, "offer.receive", en_json_str (body, "request_id"), en_msg_sender (msg),
             en_json_str (body, "expert"), "receive", "ok", en_json_str (body, "offer"));
    zsys_info ("offer %s for expert %s", en_json_str (body, "offer"), en_json_str (body, "expert"));
    return 0;
}

//  WITHDRAW: an offer to one of our experts is no longer open
static int
s_on_withdraw (en_node_t *self, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    const char *offer = en_json_str (body, "offer");
    if (!en_id_valid (offer))
        return s_invalid (error);
    if (en_nstore_offer_withdrawn (self->store, offer, en_json_str (body, "reason")))
        return s_store_failed (error);
    json_t *event = json_pack ("{s:s, s:O}", "type", "withdraw", "offer", body);
    s_publish (self, "expert", en_json_str (body, "expert"), event);
    json_decref (event);
    return 0;
}

//  STATUS: one of our requests changed state
static int
s_on_status (en_node_t *self, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    const char *request = en_json_str (body, "request");
    if (!en_id_valid (request) || !en_json_str (body, "state"))
        return s_invalid (error);
    int rc = en_nstore_request_status (self->store, body);
    if (rc < 0)
        return s_store_failed (error);
    if (rc == 1)
        zsys_warning ("status for unknown request %s ignored", request);
    if (rc == 0 && streq (en_json_str (body, "state"), "accepted") && s_release_dossier (self, body))
        return s_store_failed (error);
    //  Staff hear of advice and of a request becoming a hiaat (the
    //  event, not the state: an operator's note on a hiaat is no news)
    const char *event_name = en_json_str (body, "event");
    const char *staff_kind = en_json_str (body, "advice") ? "advies"
                           : event_name && streq (event_name, "hiaat") ? "hiaat" : NULL;
    if (rc == 0 && staff_kind) {
        json_t *row = en_nstore_request (self->store, request);
        int queued = s_notify_queue (self, staff_kind, NULL, request, NULL,
                                     en_json_str (json_object_get (row, "summary"), "urgency"), 0);
        json_decref (row);
        if (queued)
            return s_store_failed (error);
    }
    json_t *event = json_pack ("{s:s, s:O}", "type", "status", "status", body);
    s_publish (self, "request", request, event);
    json_decref (event);
    return 0;
}

//  DOSSIER, REPLY: sealed to one of our experts, kept with the accepted offer
static int
s_on_sealed (en_node_t *self, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    bool dossier = streq (en_msg_command (msg), "DOSSIER");
    const char *request = en_json_str (body, "request");
    const char *expert = en_json_str (body, "expert");
    const char *sealed = en_json_str (body, "sealed");
    if (!en_id_valid (request) || !en_name_valid (expert) || !sealed)
        return s_invalid (error);
    int rc = dossier ? en_nstore_offer_dossier_put (self->store, request, expert, sealed)
                     : en_nstore_offer_reply_put (self->store, request, expert, sealed);
    if (rc < 0)
        return s_store_failed (error);
    if (rc == 1)
        return s_invalid (error);           //  no accepted offer of that expert here
    s_audit (self, dossier ? "dossier.receive" : "reply.receive", request, en_msg_sender (msg), expert,
             "receive", "ok", NULL);
    json_t *event = json_pack ("{s:s, s:{s:s, s:s}}", "type", dossier ? "dossier" : "reply", "offer",
                               "request_id", request, "expert", expert);
    s_publish (self, "expert", expert, event);
    json_decref (event);
    return 0;
}

typedef int (s_reliable_fn) (en_node_t *self, en_msg_t *msg, en_error_t *error);

typedef struct {
    const char *command;
    s_reliable_fn *handler;
} s_reliable_t;

static const s_reliable_t s_reliables [] = {
    { "OFFER",    s_on_offer },
    { "WITHDRAW", s_on_withdraw },
    { "STATUS",   s_on_status },
    { "DOSSIER",  s_on_sealed },
    { "REPLY",    s_on_sealed },
    { NULL, NULL }
};

//  The inbox's handler (en_inbox_handler_fn): the table above; any other
//  reliable command is not for a node.
static int
s_handle_reliable (en_msg_t *msg, void *arg, en_error_t *error)
{
    en_node_t *self = (en_node_t *) arg;
    for (const s_reliable_t *entry = s_reliables; entry->command; entry++)
        if (streq (entry->command, en_msg_command (msg)))
            return entry->handler (self, msg, error);
    return s_invalid (error);
}

//  The broker's store identity, from WELCOME (inside the batch's
//  transaction). A new one means the broker lost or replaced its store:
//  said loudly, recorded (status shows it), and the open requests it no
//  longer knows are re-sent after resubmit_delay, so that the nodes of
//  the province have re-published their experts by then.
static void
s_broker_store (en_node_t *self, const char *store_id)
{
    if (!store_id || !en_id_valid (store_id))
        return;                     //  a broker that does not say
    json_t *known = en_nstore_broker_store (self->store);
    const char *before = en_json_str (known, "store_id");
    if (!before)
        en_nstore_broker_store_set (self->store, store_id, false);
    else
    if (!streq (before, store_id)) {
        zsys_error ("BROKER STORE CHANGED: the broker's store was %s and is now %s: the broker lost or "
                    "replaced its store; re-sending the open requests of this node in %llds",
                    before, store_id, (long long) (self->resubmit_delay_ms / 1000));
        s_audit (self, "broker.store-changed", NULL, self->name, NULL, "update", "error", store_id);
        if (en_nstore_broker_store_set (self->store, store_id, true) == 0)
            self->resubmit_at = en_now_ms () + self->resubmit_delay_ms;
    }
    json_decref (known);
}

//  Hand a broker's new store the open requests it no longer knows: a new
//  SUBMIT (new id: the old id may be older than the broker's timestamp
//  window) for every acknowledged request not closed; the broker answers
//  one it knows after all with 409, which changes nothing here (the
//  request's submit_msg stays the original). Queued requests are still in
//  the outbox; closed, rejected and closing ones are never opened again.
static void
s_resubmit (en_node_t *self)
{
    en_db_t *db = en_nstore_db (self->store);
    json_t *known = en_nstore_broker_store (self->store);
    const char *store_id = en_json_str (known, "store_id") ?: "?";
    if (en_db_begin (db)) {
        json_decref (known);
        return;
    }
    json_t *requests = en_nstore_requests_unknown_to_new_store (self->store);
    int64_t count = 0;
    int rc = 0;
    size_t index;
    json_t *request;
    json_array_foreach (requests, index, request) {
        int code;
        char err [256];
        const char *id = en_json_str (request, "id");
        char *msg_id = s_queue (self, "SUBMIT", json_pack ("{s:O}", "request", json_object_get (request, "summary")),
                                self->name, &code, err, sizeof err);
        if (!msg_id) {
            zsys_warning ("request %s not re-sent to the broker's new store: %s", id, err);
            continue;
        }
        rc |= en_nstore_request_resubmitted (self->store, id, msg_id, store_id);
        free (msg_id);
        count++;
    }
    rc |= en_nstore_broker_store_resubmitted (self->store, count);
    if (rc || en_db_commit (db)) {
        zsys_error ("could not queue the open requests for the broker's new store; trying again");
        en_db_rollback (db);
        self->resubmit_at = en_now_ms () + self->retry_ms;
    }
    else {
        zsys_warning ("re-sent %lld open requests to the broker's new store %s", (long long) count, store_id);
        self->resubmit_at = 0;
        en_outbox_reset (en_nstore_outbox (self->store), NULL);
        s_flush (self);
    }
    json_decref (requests);
    json_decref (known);
}

//  Our access log's head, anchored at the broker (ANCHOR), so a rewrite
//  of the whole log here is caught by `audit verify --anchors`. Queued
//  on disk like any reliable message, when the head moved. The body is
//  numbers and a hash: nothing for the PII guard.
static void
s_anchor (en_node_t *self)
{
    json_t *chain = en_audit_chain (en_nstore_db (self->store));
    int64_t seq = en_json_int (chain, "head_seq", -1);
    if (chain && seq != self->anchored_seq) {
        en_msg_t *msg = en_msg_new ("ANCHOR", self->name,
            json_pack ("{s:I, s:s, s:I}", "seq", (json_int_t) seq, "hash", en_json_str (chain, "head_hash"),
                       "at", (json_int_t) en_now_ms ()));
        if (en_outbox_put (en_nstore_outbox (self->store), "broker", msg))
            zsys_error ("could not queue our access log's head for the broker");
        else
            self->anchored_seq = seq;
        en_msg_destroy (&msg);
    }
    json_decref (chain);
}

//  A refusal the broker marks temporary, or (from a broker that does
//  not mark them) one of its timestamp refusals: a clock can be fixed,
//  so the message stays queued and is never lost to it.
static bool
s_refusal_temporary (json_t *body)
{
    if (json_is_true (json_object_get (body, "temporary")))
        return true;
    const char *reason = en_json_str (body, "reason");
    return en_json_int (body, "code", 0) == EN_ERR_FORBIDDEN && reason
        && (strncmp (reason, "timestamp older than", 20) == 0
        ||  strncmp (reason, "timestamp more than", 19) == 0);
}

//  The link to the broker: WELCOME opens the session
static void
s_link_welcome (en_node_t *self, json_t *body, bool *welcomed)
{
    if (!self->connected)
        zsys_info ("connected to broker %s", en_json_str (body, "broker") ?: "?");
    s_broker_store (self, en_json_str (body, "store"));
    self->connected = true;
    self->refusal_logged = false;
    *welcomed = true;
}

//  The link to the broker: a connection-level ERROR (not enrolled, HELLO
//  needed): keep every queued message and say HELLO again until welcomed
static void
s_link_refused (en_node_t *self, int code, const char *reason)
{
    if (code == EN_ERR_NO_SESSION)
        zsys_info ("broker has no session for this node (restarted?); saying HELLO again");
    else {
        if (self->connected || !self->refusal_logged)
            zsys_warning ("broker refuses this node: %d %s", code, reason);
        self->refusal_logged = true;
    }
    self->connected = false;
}

//  --------------------------------------------------------------------
//  What the link to the broker says (unreliable commands), each taken
//  once as it comes

static void
s_on_welcome (en_node_t *self, en_msg_t *msg, bool *welcomed)
{
    s_link_welcome (self, en_msg_body (msg), welcomed);
}

//  PONG: nothing more; s_admitted measured the broker's clock with it
static void
s_on_pong (en_node_t *self, en_msg_t *msg, bool *welcomed)
{
}

//  What the network holds, for the portal's request form: kept if every
//  entry is a tag name with a true/false
static void
s_on_tags (en_node_t *self, en_msg_t *msg, bool *welcomed)
{
    json_t *tags = json_object_get (en_msg_body (msg), "tags");
    size_t index;
    json_t *entry;
    bool valid = json_is_array (tags) && json_array_size (tags) <= 5000;
    json_array_foreach (valid ? tags : NULL, index, entry)
        valid &= en_name_valid (en_json_str (entry, "tag")) && json_is_boolean (json_object_get (entry, "available"));
    if (valid) {
        json_decref (self->network_tags);
        self->network_tags = json_incref (tags);
    }
    else
        zsys_warning ("ignored TAGS %s from broker: not a list of tags", en_msg_id (msg));
}

static void
s_on_ack (en_node_t *self, en_msg_t *msg, bool *welcomed)
{
    const char *ref = en_json_str (en_msg_body (msg), "ref");
    if (ref && en_outbox_ack (en_nstore_outbox (self->store), "broker", ref) == 1) {
        en_nstore_message_result (self->store, ref, 0, NULL);
        if (self->held_ref [0] && (streq (ref, self->held_ref)
        ||  en_outbox_depth (en_nstore_outbox (self->store), "broker") == 0)) {
            zsys_info ("broker accepts the messages it refused for their timestamp");
            self->held_ref [0] = 0;
        }
    }
}

static void
s_on_error (en_node_t *self, en_msg_t *msg, bool *welcomed)
{
    json_t *body = en_msg_body (msg);
    const char *ref = en_json_str (body, "ref");
    int code = (int) en_json_int (body, "code", EN_ERR_INTERNAL);
    const char *reason = en_json_str (body, "reason") ?: "";
    if (!ref || !*ref)
        s_link_refused (self, code, reason);
    else
    if (code == EN_ERR_INTERNAL || s_refusal_temporary (body)) {
        //  Not final: the broker could not store it (500), or our
        //  clocks disagree (a timestamp refusal). Kept and sent again
        //  every retry; said once until something is accepted again.
        if (code == EN_ERR_INTERNAL)
            zsys_warning ("broker refused %s: %d %s (sent again)", ref, code, reason);
        else
        if (!self->held_ref [0]) {
            zsys_warning ("broker refused %s: %d %s; kept, and sent again every retry until the clocks "
                          "agree (offset to the broker %+.1f s)", ref, code, reason,
                          en_clock_offset (self->clock) / 1000.0);
            snprintf (self->held_ref, sizeof self->held_ref, "%s", ref);
        }
    }
    else {
        zsys_warning ("broker refused %s: %d %s", ref, code, reason);
        if (en_outbox_ack (en_nstore_outbox (self->store), "broker", ref) == 1)
            en_nstore_message_result (self->store, ref, code, reason);
    }
}

typedef void (s_unreliable_fn) (en_node_t *self, en_msg_t *msg, bool *welcomed);

typedef struct {
    const char *command;
    s_unreliable_fn *handler;
} s_unreliable_t;

//  Any other unreliable command is not sent to a node: ignored
static const s_unreliable_t s_unreliables [] = {
    { "WELCOME", s_on_welcome },
    { "PONG",    s_on_pong },
    { "TAGS",    s_on_tags },
    { "ACK",     s_on_ack },
    { "ERROR",   s_on_error },
    { NULL, NULL }
};

static const s_unreliable_t *
s_unreliable (const char *command)
{
    for (const s_unreliable_t *entry = s_unreliables; entry->command; entry++)
        if (streq (entry->command, command))
            return entry;
    return NULL;
}

//  --------------------------------------------------------------------
//  Receiving from the broker

//  A WELCOME or PONG that echoes the time of a HELLO or PING we sent
//  within a round trip is fresh whatever the broker's clock says; it
//  measures that clock.
static bool
s_fresh (en_node_t *self, en_msg_t *msg, int64_t received)
{
    const char *command = en_msg_command (msg);
    json_t *echo = json_object_get (en_msg_body (msg), "echo");
    json_t *peer_time = json_object_get (en_msg_body (msg), "time");
    return (streq (command, "WELCOME") || streq (command, "PONG"))
        && json_is_integer (echo) && json_is_integer (peer_time)
        && en_clock_round_trip (self->clock, json_integer_value (echo), json_integer_value (peer_time),
                                received) == 0;
}

//  Provenance: only what the broker signed, and no replays. What fails is
//  ignored, not answered: the cause is usually here (a stale broker
//  certificate, a wrong clock), so the broker keeps the message and
//  resends it until the operator has fixed it; a final ERROR would make
//  it drop the message. A resend of a reliable message already processed
//  is answered from the seen table however old it is (its first ACK may
//  have been lost); every other message is judged against the broker's
//  clock as measured (en_clock), unless it is fresh (s_fresh).
static bool
s_admitted (en_node_t *self, en_msg_t *msg)
{
    en_error_t error = { 0 };
    int64_t received = en_now_ms ();
    if (!en_msg_verify (msg, self->broker_sign_key))
        en_error_set (&error, EN_ERR_FORBIDDEN, "signature does not verify with the broker's key "
                      "(is keys/broker.cert current?)");
    else
    if ((en_msg_command_reliable (en_msg_command (msg)) && en_inbox_resend (self->inbox, msg))
    ||  s_fresh (self, msg, received) || en_clock_check (self->clock, msg, received, &error) == 0)
        return true;
    int64_t now = en_now_ms ();
    if (now - self->unverified_logged >= 10000) {
        zsys_warning ("ignored %s %s from broker: %s", en_msg_command (msg), en_msg_id (msg), error.reason);
        self->unverified_logged = now;
    }
    return false;
}

//  A reliable message, exactly once (en_inbox; its time was judged in
//  s_admitted). A refusal's notifications go with its rolled-back
//  changes; the answer goes out after the batch commits.
static void
s_receive (en_node_t *self, en_msg_t *msg)
{
    en_error_t error;
    size_t notices = zlistx_size (self->notices);
    en_msg_t *answer = en_inbox_receive (self->inbox, msg, NULL, s_handle_reliable, self, &error);
    if (error.code) {
        s_publish_forget (self, notices);
        zsys_warning ("refused %s %s from broker: %d %s", en_msg_command (msg), en_msg_id (msg),
                      error.code, error.reason);
    }
    zlistx_add_end (self->replies, answer);
}

static void
s_handle_broker (en_node_t *self, zmsg_t *raw, bool *welcomed)
{
    en_error_t error;
    en_msg_t *msg = en_msg_decode (raw, &error);
    if (!msg) {
        zsys_warning ("undecodable message from broker: %d %s", error.code, error.reason);
        return;
    }
    if (s_admitted (self, msg)) {
        self->last_rx = en_now_ms ();
        const char *command = en_msg_command (msg);
        const s_unreliable_t *entry = s_unreliable (command);
        if (en_msg_command_reliable (command))
            s_receive (self, msg);
        else
        if (entry)
            entry->handler (self, msg, welcomed);
    }
    en_msg_destroy (&msg);
}

static void
s_process_batch (en_node_t *self)
{
    en_db_t *db = en_nstore_db (self->store);
    if (en_db_begin (db))
        return;
    bool welcomed = false;
    for (int count = 0; count < 512; count++) {
        if (!(zsock_events (self->dealer) & ZMQ_POLLIN))
            break;
        zmsg_t *raw = zmsg_recv (self->dealer);
        if (!raw)
            break;
        s_handle_broker (self, raw, &welcomed);
        zmsg_destroy (&raw);
    }
    if (welcomed) {
        //  (Re)connected: re-publish experts, resend the whole outbox
        s_queue_availability (self);
        en_outbox_reset (en_nstore_outbox (self->store), NULL);
    }
    if (en_db_commit (db)) {
        zsys_error ("commit failed: %s", en_db_error (db));
        en_db_rollback (db);
        zlistx_purge (self->replies);
        zlistx_purge (self->notices);
        return;
    }
    s_publish_committed (self);
    for (en_msg_t *reply = (en_msg_t *) zlistx_first (self->replies); reply;
         reply = (en_msg_t *) zlistx_next (self->replies))
        s_send (self, reply);
    zlistx_purge (self->replies);
    s_flush (self);
}

//  --------------------------------------------------------------------
//  Control verbs (the `expertnet` command)

static json_t *
s_verb_submit (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    json_t *request = json_deep_copy (json_object_get (args, "request"));
    if (!json_is_object (request)) {
        json_decref (request);
        snprintf (err, errlen, "no request given");
        return NULL;
    }
    if (!json_object_get (request, "region"))
        json_object_set_new (request, "region", json_string (self->region));
    if (!json_object_get (request, "id")) {
        char suffix [9], id [96];
        en_random_hex (suffix, 8);
        snprintf (id, sizeof id, "%s-%s", en_json_str (request, "region") ?: self->region, suffix);
        json_object_set_new (request, "id", json_string (id));
    }
    if (en_request_validate (request, err, errlen)) {
        *code = EN_ERR_INVALID;
        json_decref (request);
        return NULL;
    }
    const char *pseudonym = en_json_str (request, "case");
    char *sealed = pseudonym ? en_nstore_case_sealed (self->store, pseudonym) : NULL;
    free (sealed);
    if (pseudonym && !sealed) {
        *code = EN_ERR_NOT_FOUND;
        snprintf (err, errlen, "no case '%s' in this node's register (expertnet case add)", pseudonym);
        json_decref (request);
        return NULL;
    }
    const char *user = en_json_str (args, "_user");
    //  The detailed dossier: guarded like everything else, kept sealed
    //  here, released only to the expert who accepts
    const char *dossier = en_json_str (args, "dossier");
    char *dossier_sealed = NULL;
    if (dossier) {
        json_t *wrapped = json_pack ("{s:s}", "dossier", dossier);
        int guarded = strlen (dossier) > EN_MAX_ADVICE
                    ? (*code = EN_ERR_INVALID, snprintf (err, errlen, "dossier over %d bytes", EN_MAX_ADVICE), -1)
                    : s_guard (self, NULL, wrapped, user, code, err, errlen);
        json_decref (wrapped);
        if (guarded) {
            json_decref (request);
            return NULL;
        }
        dossier_sealed = en_vault_seal (self->vault, dossier);
    }
    en_db_t *db = en_nstore_db (self->store);
    if (en_db_begin (db)) {
        //  Outside a transaction the outbox message could stay without
        //  its request
        *code = EN_ERR_INTERNAL;
        snprintf (err, errlen, "could not store request '%s'", en_json_str (request, "id"));
        free (dossier_sealed);
        json_decref (request);
        return NULL;
    }
    char *msg_id = s_queue (self, "SUBMIT", json_pack ("{s:O}", "request", request), user, code, err, errlen);
    if (!msg_id)
        free (dossier_sealed);
    if (!msg_id) {
        en_db_commit (db);          //  keeps the refusal's access-log entry
        json_decref (request);
        return NULL;
    }
    int rc = en_nstore_request_insert (self->store, request, msg_id);
    free (msg_id);
    if (rc == 0 && dossier_sealed)
        rc = en_nstore_request_dossier_put (self->store, en_json_str (request, "id"), dossier_sealed);
    free (dossier_sealed);
    if (rc == 0)
        s_audit (self, "request.submit", pseudonym ? pseudonym : en_json_str (request, "id"), user,
                 self->name, "send", "ok", en_json_str (request, "id"));
    if (rc || en_db_commit (db)) {
        en_db_rollback (db);
        *code = rc == 1 ? EN_ERR_CONFLICT : EN_ERR_INTERNAL;
        snprintf (err, errlen, rc == 1 ? "request id '%s' already exists" : "could not store request '%s'",
                  en_json_str (request, "id"));
        json_decref (request);
        return NULL;
    }
    zsys_info ("request %s queued (%s)", en_json_str (request, "id"), en_json_str (request, "urgency"));
    s_flush (self);
    json_t *result = json_pack ("{s:s, s:s}", "id", en_json_str (request, "id"), "state", "queued");
    json_decref (request);
    return result;
}

static json_t *
s_verb_close (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    const char *id = en_json_str (args, "id");
    json_t *request = id ? en_nstore_request (self->store, id) : NULL;
    if (!request) {
        *code = EN_ERR_NOT_FOUND;
        snprintf (err, errlen, "no request '%s' at this node", id ? id : "");
        return NULL;
    }
    const char *state = en_json_str (request, "state");
    if (streq (state, "closed") || streq (state, "rejected")) {
        *code = EN_ERR_CONFLICT;
        snprintf (err, errlen, "request '%s' is %s", id, state);
        json_decref (request);
        return NULL;
    }
    json_decref (request);
    json_t *body = json_pack ("{s:s}", "request", id);
    const char *outcome = en_json_str (args, "outcome");
    if (outcome)
        json_object_set_new (body, "outcome", json_string (outcome));
    en_db_t *db = en_nstore_db (self->store);
    en_db_begin (db);
    const char *user = en_json_str (args, "_user");
    char *msg_id = s_queue (self, "CLOSE", body, user, code, err, errlen);
    if (!msg_id) {
        en_db_commit (db);          //  keeps the refusal's access-log entry
        return NULL;
    }
    s_audit (self, "request.close", id, user, self->name, "send", "ok", NULL);
    if (en_nstore_request_closing (self->store, id, msg_id) || en_db_commit (db)) {
        en_db_rollback (db);
        free (msg_id);
        *code = EN_ERR_INTERNAL;
        snprintf (err, errlen, "could not queue close");
        return NULL;
    }
    s_flush (self);
    json_t *result = json_pack ("{s:s, s:s}", "id", id, "message", msg_id);
    free (msg_id);
    return result;
}

//  The team replies to an advice: the text is sealed to the accepting
//  expert (as the dossier is) and queued as REPLY; the team's own copy is
//  an event of the request, like the advice it answers.
static json_t *
s_verb_reply (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    const char *id = en_json_str (args, "id");
    const char *text = en_json_str (args, "text");
    json_t *request = id ? en_nstore_request (self->store, id) : NULL;
    char *box_key = request ? en_nstore_request_box_key (self->store, id) : NULL;
    const char *state = request ? en_json_str (request, "state") : NULL;
    json_t *result = NULL;
    char *b64 = NULL;
    *code = EN_ERR_CONFLICT;
    if (!request) {
        *code = EN_ERR_NOT_FOUND;
        snprintf (err, errlen, "no request '%s' at this node", id ? id : "");
    }
    else
    if (!text || strlen (text) == 0 || strlen (text) > EN_MAX_ADVICE) {
        *code = EN_ERR_INVALID;
        snprintf (err, errlen, "field 'text' must be text of 1 to %d bytes", EN_MAX_ADVICE);
    }
    else
    if (!streq (state, "accepted") && !streq (state, "advice"))
        snprintf (err, errlen, "request '%s' is %s: a reply goes to an expert who accepted it", id, state);
    else
    if (!(b64 = s_seal_to (box_key, text)))
        snprintf (err, errlen, "the expert who accepted '%s' has no key to seal a reply to", id);
    else {
        en_db_t *db = en_nstore_db (self->store);
        en_db_begin (db);
        const char *user = en_json_str (args, "_user");
        char *msg_id = s_queue (self, "REPLY", json_pack ("{s:s, s:s}", "request", id, "sealed", b64),
                                user, code, err, errlen);
        if (msg_id) {
            s_audit (self, "reply.send", id, user, en_json_str (request, "expert"), "send", "ok",
                     "sealed to the accepting expert");
            if (en_nstore_request_reply (self->store, id, text) || en_db_commit (db)) {
                en_db_rollback (db);
                *code = EN_ERR_INTERNAL;
                snprintf (err, errlen, "could not queue the reply");
            }
            else {
                s_flush (self);
                result = json_pack ("{s:s, s:s}", "id", id, "message", msg_id);
            }
            free (msg_id);
        }
        else
            en_db_commit (db);      //  keeps the refusal's access-log entry
    }
    free (b64);
    free (box_key);
    json_decref (request);
    return result;
}

//  Give an expert a box key pair for sealed dossiers: the public key is
//  published with the expert's availability; the secret key stays here,
//  sealed with the vault's data key. 0 or -1.
static int
s_expert_box_key (en_node_t *self, json_t *expert)
{
    unsigned char public_key [crypto_box_PUBLICKEYBYTES], secret_key [crypto_box_SECRETKEYBYTES];
    crypto_box_keypair (public_key, secret_key);
    char public_hex [crypto_box_PUBLICKEYBYTES * 2 + 1], secret_hex [crypto_box_SECRETKEYBYTES * 2 + 1];
    sodium_bin2hex (public_hex, sizeof public_hex, public_key, sizeof public_key);
    sodium_bin2hex (secret_hex, sizeof secret_hex, secret_key, sizeof secret_key);
    sodium_memzero (secret_key, sizeof secret_key);
    char *sealed = en_vault_seal (self->vault, secret_hex);
    sodium_memzero (secret_hex, sizeof secret_hex);
    int rc = sealed ? en_nstore_expert_key_put (self->store, en_json_str (expert, "id"), public_hex, sealed) : -1;
    free (sealed);
    if (rc == 0)
        json_object_set_new (expert, "box_key", json_string (public_hex));
    return rc;
}

static json_t *
s_verb_expert_put (en_node_t *self, json_t *args, bool update, int *code, char *err, size_t errlen)
{
    json_t *fields = json_object_get (args, "expert");
    const char *id = en_json_str (fields, "id");
    json_t *existing = id ? en_nstore_expert (self->store, id) : NULL;
    if (update && !existing) {
        *code = EN_ERR_NOT_FOUND;
        snprintf (err, errlen, "no expert '%s' at this node (add it first)", id ? id : "");
        return NULL;
    }
    if (!update && existing) {
        *code = EN_ERR_CONFLICT;
        snprintf (err, errlen, "expert '%s' exists (use 'expert update')", id);
        json_decref (existing);
        return NULL;
    }
    //  Contact details stay at this node: taken out of what is published
    const char *email = en_json_str (args, "email") ?: en_json_str (fields, "email");
    const char *phone = en_json_str (args, "phone") ?: en_json_str (fields, "phone");
    if ((email && *email && !en_notify_email_valid (email)) || (phone && *phone && !en_notify_phone_valid (phone))) {
        *code = EN_ERR_INVALID;
        snprintf (err, errlen, email && *email && !en_notify_email_valid (email)
                  ? "field 'email' is not an e-mail address"
                  : "field 'phone' must be an international number: + and 8 to 15 digits (e.g. +31612345678)");
        json_decref (existing);
        return NULL;
    }
    char *email_copy = email ? strdup (email) : NULL;
    char *phone_copy = phone ? strdup (phone) : NULL;
    json_object_del (fields, "email");
    json_object_del (fields, "phone");
    json_t *expert = existing ? existing : json_pack ("{s:i, s:b}", "capacity", 1, "bovenregionaal", 0);
    json_object_del (fields, "box_key");       //  ours to make, not the caller's
    json_object_update (expert, fields);
    json_object_set_new (expert, "region", json_string (self->region));
    if (en_expert_validate (expert, err, errlen)) {
        *code = EN_ERR_INVALID;
        json_decref (expert);
        free (email_copy);
        free (phone_copy);
        return NULL;
    }
    en_db_t *db = en_nstore_db (self->store);
    en_db_begin (db);
    if (!json_object_get (expert, "box_key") && s_expert_box_key (self, expert)) {
        en_db_rollback (db);
        *code = EN_ERR_INTERNAL;
        snprintf (err, errlen, "could not make the expert's key pair");
        json_decref (expert);
        free (email_copy);
        free (phone_copy);
        return NULL;
    }
    int rc = en_nstore_expert_put (self->store, expert) || s_queue_availability (self);
    if (rc == 0 && (email_copy || phone_copy))
        rc = en_nstore_contact_put (self->store, id, email_copy, phone_copy);
    if (rc == 0 && (email_copy || phone_copy))
        s_audit (self, "expert.contact", NULL, en_json_str (args, "_user"), id, "update", "ok", NULL);
    free (email_copy);
    free (phone_copy);
    if (rc || en_db_commit (db)) {
        en_db_rollback (db);
        *code = EN_ERR_INTERNAL;
        snprintf (err, errlen, "could not store expert");
        json_decref (expert);
        return NULL;
    }
    s_flush (self);
    //  The caller (CLI, portal) sees the contact; the broker never does
    json_t *contact = en_nstore_contact (self->store, id);
    if (en_json_str (contact, "email"))
        json_object_set (expert, "email", json_object_get (contact, "email"));
    if (en_json_str (contact, "phone"))
        json_object_set (expert, "phone", json_object_get (contact, "phone"));
    json_decref (contact);
    return expert;
}

static json_t *
s_verb_answer (en_node_t *self, const char *verb, json_t *args, int *code, char *err, size_t errlen)
{
    const char *id = en_json_str (args, "offer");
    json_t *offer = id ? en_nstore_offer (self->store, id) : NULL;
    if (!offer) {
        *code = EN_ERR_NOT_FOUND;
        snprintf (err, errlen, "no offer '%s' at this node", id ? id : "");
        return NULL;
    }
    const char *state = en_json_str (offer, "state");
    const char *answer = en_json_str (offer, "answer");
    const char *status = en_json_str (offer, "answer_status");
    bool accepted = answer && streq (answer, "accept") && status && !streq (status, "refused");
    json_t *body = json_pack ("{s:s}", "offer", id);
    const char *command;
    if (streq (verb, "advise")) {
        command = "ADVICE";
        const char *text = en_json_str (args, "text");
        if (!accepted) {
            *code = EN_ERR_CONFLICT;
            snprintf (err, errlen, "offer '%s' has not been accepted", id);
            goto refused;
        }
        if (!text || !*text || strlen (text) > EN_MAX_ADVICE) {
            *code = EN_ERR_INVALID;
            snprintf (err, errlen, "advice text must be 1 to %d bytes", EN_MAX_ADVICE);
            goto refused;
        }
        json_object_set_new (body, "text", json_string (text));
    }
    else {
        command = streq (verb, "accept") ? "ACCEPT" : "DECLINE";
        if (!streq (state, "open") || (answer && !streq (status, "refused"))) {
            *code = EN_ERR_CONFLICT;
            snprintf (err, errlen, "offer '%s' is %s%s", id, answer ? "already answered: " : "",
                      answer ? answer : state);
            goto refused;
        }
        if (streq (command, "DECLINE")) {
            const char *reason = en_json_str (args, "reason");
            if (!reason || !*reason || strlen (reason) > 500) {
                *code = EN_ERR_INVALID;
                snprintf (err, errlen, "a decline needs a reason (1 to 500 bytes)");
                goto refused;
            }
            json_object_set_new (body, "reason", json_string (reason));
        }
    }
    en_db_t *db = en_nstore_db (self->store);
    en_db_begin (db);
    const char *user = en_json_str (args, "_user");
    char *msg_id = s_queue (self, command, body, user, code, err, errlen);
    body = NULL;
    if (!msg_id) {
        en_db_commit (db);          //  keeps the refusal's access-log entry
        json_decref (offer);
        return NULL;
    }
    s_audit (self, streq (verb, "accept") ? "offer.accept" : streq (verb, "decline") ? "offer.decline" : "advice.send",
             en_json_str (offer, "request_id"), user, en_json_str (offer, "expert"),
             streq (verb, "accept") ? "accept" : streq (verb, "decline") ? "update" : "send", "ok", id);
    if (en_nstore_offer_answer (self->store, id, verb, msg_id) || en_db_commit (db)) {
        en_db_rollback (db);
        free (msg_id);
        *code = EN_ERR_INTERNAL;
        snprintf (err, errlen, "could not queue answer");
        json_decref (offer);
        return NULL;
    }
    s_flush (self);
    json_t *result = json_pack ("{s:s, s:s, s:s}", "offer", id, "answer", verb, "message", msg_id);
    free (msg_id);
    json_decref (offer);
    return result;
refused:
    json_decref (body);
    json_decref (offer);
    return NULL;
}

//  Publish a case's anonymized summary (SUMMARY) after a change: what the
//  broker aggregates for the rode draden report. Never identifying data:
//  only the closed vocabularies of en_summary_validate, the phases'
//  times, the outcome, and the pseudonym. Inside the caller's
//  transaction. 0 or -1 with err.
static int
s_publish_summary (en_node_t *self, const char *pseudonym, const char *user, int *code, char *err,
                   size_t errlen)
{
    json_t *record = en_nstore_case_record (self->store, pseudonym);
    if (!record) {
        *code = EN_ERR_NOT_FOUND;
        snprintf (err, errlen, "no case '%s'", pseudonym);
        return -1;
    }
    json_t *body = json_pack ("{s:s, s:s, s:O, s:O}", "case", pseudonym, "region", self->region,
                              "summary", json_object_get (record, "summary"),
                              "phases", json_object_get (record, "phases"));
    if (json_is_object (json_object_get (record, "outcome")))
        json_object_set (body, "outcome", json_object_get (record, "outcome"));
    json_decref (record);
    char *msg_id = s_queue (self, "SUMMARY", body, user, code, err, errlen);
    free (msg_id);
    return msg_id ? 0 : -1;
}

static char *
s_reseal (const char *sealed, void *arg)
{
    en_vault_t *vault = (en_vault_t *) arg;
    char *plain = en_vault_unseal (vault, sealed);
    if (!plain)
        return NULL;
    char *fresh = en_vault_seal (vault, plain);
    sodium_memzero (plain, strlen (plain));
    free (plain);
    return fresh;
}

//  Rotate the region secret and/or the data key (docs/pseudonyms.md). A
//  new data key re-seals everything in one transaction, so the old key
//  can be retired at once; a new secret gives new pseudonyms from now on,
//  and a registered client moves to the new one when next entered.
static json_t *
s_verb_rotate (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    bool secret = json_is_true (json_object_get (args, "secret"));
    bool data_key = json_is_true (json_object_get (args, "data_key"));
    if (!secret && !data_key) {
        *code = EN_ERR_INVALID;
        snprintf (err, errlen, "rotate what: --secret and/or --data-key");
        return NULL;
    }
    const char *user = en_json_str (args, "_user");
    if (secret && en_vault_rotate_secret (self->vault, err, errlen)) {
        *code = EN_ERR_INTERNAL;
        return NULL;
    }
    int64_t resealed = 0;
    en_db_t *db = en_nstore_db (self->store);
    en_db_begin (db);
    if (data_key) {
        if (en_vault_rotate_data_key (self->vault, err, errlen)
        ||  (resealed = en_nstore_reseal (self->store, s_reseal, self->vault)) < 0) {
            en_db_rollback (db);
            *code = EN_ERR_INTERNAL;
            if (!*err)
                snprintf (err, errlen, "could not re-seal the stored data");
            return NULL;
        }
    }
    char detail [96];
    snprintf (detail, sizeof detail, "secret v%d, data key v%d, %lld values re-sealed",
              en_vault_secret_version (self->vault), en_vault_data_key_version (self->vault), (long long) resealed);
    s_audit (self, "vault.rotate", NULL, user, self->name, "update", "ok", detail);
    en_db_commit (db);
    zsys_notice ("vault rotated: %s", detail);
    return json_pack ("{s:i, s:i, s:I}", "secret_version", en_vault_secret_version (self->vault),
                      "data_key_version", en_vault_data_key_version (self->vault), "resealed", (json_int_t) resealed);
}

//  Register a client: the pseudonym from the client id (keyed by the
//  region secret), the identifying data sealed in the register. The
//  client id itself is not stored.
static json_t *
s_verb_case_add (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    static const char *fields [] = { "name", "bsn", "birth_date", "address", "postcode", "contact",
                                     "school", NULL };
    #define S_MAX_RELATIVES 20
    const char *client_id = en_json_str (args, "client_id");
    char *pseudonym = client_id ? en_vault_pseudonym (self->vault, client_id) : NULL;
    if (!pseudonym) {
        *code = EN_ERR_INVALID;
        snprintf (err, errlen, "a case needs --client-id (the identifier used in the region, e.g. the BSN)");
        return NULL;
    }
    json_t *identity = json_object ();
    json_t *given = json_object_get (args, "identity");
    const char *key;
    json_t *value;
    json_object_foreach (given, key, value) {
        if (streq (key, "relatives")) {
            //  parents' and relatives' names: kept sealed with the rest,
            //  and taught to the guard like the client's name
            bool valid = json_is_array (value) && json_array_size (value) <= S_MAX_RELATIVES;
            size_t index;
            json_t *relative;
            json_array_foreach (value, index, relative)
                valid = valid && json_is_string (relative) && json_string_length (relative) > 0
                     && json_string_length (relative) <= 200;
            if (!valid) {
                *code = EN_ERR_INVALID;
                snprintf (err, errlen, "identifying field 'relatives' must list up to %d names of up to 200 bytes",
                          S_MAX_RELATIVES);
                json_decref (identity);
                free (pseudonym);
                return NULL;
            }
            json_object_set (identity, key, value);
            continue;
        }
        if (!en_vocab_has (fields, key) || !json_is_string (value) || strlen (json_string_value (value)) > 500) {
            *code = EN_ERR_INVALID;
            snprintf (err, errlen, "identifying field '%.40s' is not one of name, bsn, birth_date, address, "
                      "postcode, contact, school (text up to 500 bytes), relatives", key);
            json_decref (identity);
            free (pseudonym);
            return NULL;
        }
        json_object_set (identity, key, value);
    }
    //  Registered under an older region secret? Move it to the current
    //  pseudonym first (the rotation's re-pseudonymization, at next entry)
    char *current = en_nstore_case_sealed (self->store, pseudonym);
    if (!current && en_vault_secret_version (self->vault) > 1) {
        en_db_begin (en_nstore_db (self->store));
        for (int version = en_vault_secret_version (self->vault) - 1; !current && version >= 1; version--) {
            char *older = en_vault_pseudonym_version (self->vault, client_id, version);
            current = older ? en_nstore_case_sealed (self->store, older) : NULL;
            if (current && en_nstore_case_rename (self->store, older, pseudonym) == 0)
                s_audit (self, "case.re-pseudonymize", pseudonym, en_json_str (args, "_user"), self->name,
                         "update", "ok", older);
            free (older);
        }
        en_db_commit (en_nstore_db (self->store));
    }
    free (current);
    //  Adding details to a registered client keeps the details given before
    char *previous = en_nstore_case_sealed (self->store, pseudonym);
    char *previous_text = previous ? en_vault_unseal (self->vault, previous) : NULL;
    json_t *merged = previous_text ? json_loads (previous_text, 0, NULL) : NULL;
    if (json_is_object (merged)) {
        json_object_update (merged, identity);
        json_decref (identity);
        identity = merged;
    }
    else
        json_decref (merged);
    if (previous_text) {
        sodium_memzero (previous_text, strlen (previous_text));
        free (previous_text);
    }
    free (previous);
    char *text = json_dumps (identity, JSON_COMPACT);
    char *sealed = en_vault_seal (self->vault, text);
    sodium_memzero (text, strlen (text));
    free (text);
    const char *user = en_json_str (args, "_user");
    en_db_t *db = en_nstore_db (self->store);
    en_db_begin (db);
    char *existing = en_nstore_case_sealed (self->store, pseudonym);
    int rc = sealed ? en_nstore_case_put (self->store, pseudonym, sealed) : -1;
    json_t *summary = json_object_get (args, "summary");
    char why [256] = "";
    if (rc == 0 && summary && en_summary_validate (summary, why, sizeof why)) {
        en_db_rollback (db);
        *code = EN_ERR_INVALID;
        snprintf (err, errlen, "%s", why);
        json_decref (identity);
        free (existing);
        free (sealed);
        free (pseudonym);
        return NULL;
    }
    if (rc == 0 && !existing)
        rc = en_nstore_case_phase (self->store, pseudonym, summary, "aanmelding", en_now_ms (), NULL)
          || s_publish_summary (self, pseudonym, user, code, why, sizeof why);
    if (rc == 0)
        s_audit (self, existing ? "case.update" : "case.create", pseudonym, user, self->name,
                 existing ? "update" : "create", "ok", NULL);
    if (rc || en_db_commit (db)) {
        en_db_rollback (db);
        *code = EN_ERR_INTERNAL;
        snprintf (err, errlen, "could not store the case");
        json_decref (identity);
        free (existing);
        free (sealed);
        free (pseudonym);
        return NULL;
    }
    s_guard_names (self, identity);
    json_t *result = json_pack ("{s:s, s:s}", "case", pseudonym, "state", existing ? "updated" : "registered");
    json_decref (identity);
    free (existing);
    free (sealed);
    free (pseudonym);
    return result;
}

//  Move a case to a phase (aanmelding, triage, plan, monitoren,
//  afgesloten) and publish its summary; at afgesloten an outcome may be
//  given.
static json_t *
s_verb_case_phase (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    const char *pseudonym = en_json_str (args, "case");
    const char *phase = en_json_str (args, "phase");
    json_t *outcome = json_object_get (args, "outcome");
    json_t *summary = json_object_get (args, "summary");
    char *sealed = pseudonym ? en_nstore_case_sealed (self->store, pseudonym) : NULL;
    free (sealed);
    if (!sealed) {
        *code = EN_ERR_NOT_FOUND;
        snprintf (err, errlen, "no case '%s' in this node's register", pseudonym ? pseudonym : "");
        return NULL;
    }
    if (!en_vocab_has (en_vocab_phase, phase)) {
        *code = EN_ERR_INVALID;
        snprintf (err, errlen, "phase must be one of aanmelding, triage, plan, monitoren, afgesloten");
        return NULL;
    }
    if ((summary && en_summary_validate (summary, err, errlen))
    ||  (outcome && en_outcome_validate (outcome, err, errlen))) {
        *code = EN_ERR_INVALID;
        return NULL;
    }
    if (outcome && !streq (phase, "afgesloten")) {
        *code = EN_ERR_INVALID;
        snprintf (err, errlen, "an outcome goes with phase afgesloten");
        return NULL;
    }
    const char *user = en_json_str (args, "_user");
    en_db_t *db = en_nstore_db (self->store);
    en_db_begin (db);
    if (en_nstore_case_phase (self->store, pseudonym, summary, phase, en_now_ms (), outcome)
    ||  s_publish_summary (self, pseudonym, user, code, err, errlen)) {
        en_db_rollback (db);
        if (!*err) {
            *code = EN_ERR_INTERNAL;
            snprintf (err, errlen, "could not store the phase");
        }
        return NULL;
    }
    s_audit (self, "case.phase", pseudonym, user, self->name, "update", "ok", phase);
    en_db_commit (db);
    s_flush (self);
    return en_nstore_case_record (self->store, pseudonym);
}

//  Read a client's identifying data (local only; logged as a read).
static json_t *
s_verb_case_show (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    const char *pseudonym = en_json_str (args, "case");
    char *sealed = pseudonym ? en_nstore_case_sealed (self->store, pseudonym) : NULL;
    if (!sealed) {
        *code = EN_ERR_NOT_FOUND;
        snprintf (err, errlen, "no case '%s' in this node's register", pseudonym ? pseudonym : "");
        return NULL;
    }
    char *text = en_vault_unseal (self->vault, sealed);
    free (sealed);
    json_t *identity = text ? json_loads (text, 0, NULL) : NULL;
    if (text) {
        sodium_memzero (text, strlen (text));
        free (text);
    }
    if (!identity) {
        *code = EN_ERR_INTERNAL;
        snprintf (err, errlen, "the case's data cannot be opened (data key missing or wrong?)");
        return NULL;
    }
    en_db_t *db = en_nstore_db (self->store);
    en_db_begin (db);
    s_audit (self, "case.read", pseudonym, en_json_str (args, "_user"), self->name, "read", "ok", NULL);
    en_db_commit (db);
    json_object_set_new (identity, "case", json_string (pseudonym));
    return identity;
}

//  The access log: verify the chain, or show entries (of one case).
static json_t *
s_verb_audit (en_node_t *self, const char *verb, json_t *args, int *code, char *err, size_t errlen)
{
    en_db_t *db = en_nstore_db (self->store);
    if (streq (verb, "audit-show")) {
        const char *case_id = en_json_str (args, "case");
        return case_id ? en_audit_case (db, case_id) : en_audit_tail (db, en_json_int (args, "limit", 50));
    }
    json_t *report = en_audit_report (db);
    if (json_is_array (json_object_get (args, "anchors")))
        en_audit_check_anchors (db, json_object_get (args, "anchors"), report);
    return report;
}

static json_t *
s_verb_status (en_node_t *self)
{
    json_t *status = en_nstore_counts (self->store);
    json_object_set_new (status, "node", json_string (self->name));
    json_object_set_new (status, "region", json_string (self->region));
    json_object_set_new (status, "broker", json_string (self->endpoint));
    json_object_set_new (status, "connected", json_boolean (self->connected));
    json_object_set_new (status, "last_contact", json_integer (self->last_rx));
    json_object_set_new (status, "clock", en_clock_status (self->clock));
    json_object_set_new (status, "clock_drift_ms", json_integer (en_clock_drift_ms ()));
    json_object_set_new (status, "version", json_string (EXPERTNET_VERSION));
    json_object_set_new (status, "pii_guard", en_pii_counts (self->pii));
    json_object_set_new (status, "notifications", en_nstore_notify_counts (self->store));
    //  The broker's store as learned from WELCOME; "previous" and
    //  "changed" when it lost or replaced its store
    json_t *store = en_nstore_broker_store (self->store);
    json_object_set_new (status, "broker_store", store ? store : json_null ());
    return status;
}

//  The notification queue for the beheerder: settings (no secrets),
//  counts per state and the newest rows (without their bodies).
static json_t *
s_verb_notifications (en_node_t *self, json_t *args)
{
    en_notify_config_t *config = self->notify_config;
    return json_pack ("{s:{s:s?, s:s?, s:s, s:b, s:s?, s:O, s:s, s:I, s:I}, s:o, s:o}",
        "settings",
            "smtp_url", config->smtp_url, "from", config->from, "starttls", config->starttls,
            "auth", config->username != NULL, "sms_url", config->sms_url, "staff_email", self->staff,
            "public_url", config->public_url, "retry_min_ms", (json_int_t) config->retry_min_ms,
            "retry_max_ms", (json_int_t) config->retry_max_ms,
        "counts", en_nstore_notify_counts (self->store),
        "notifications", en_nstore_notifications (self->store, en_json_str (args, "state"),
                                                  (int) en_json_int (args, "limit", 100)));
}

//  --------------------------------------------------------------------
//  Accounts: the people who work at this node (medewerker, expert,
//  beheerder). Passwords are kept as Argon2id hashes (crypto_pwhash_str);
//  the TOTP secret sealed with the vault (the portal must read it to
//  check a code). An expert account holds its expert's box secret key
//  wrapped with the person's password and with a recovery code shown
//  once (en_keywrap): from then on the node cannot open a dossier sealed
//  to that expert, only the person can. These verbs hash and wrap in the
//  node loop (a few tenths of a second, only when an account changes);
//  a login's hash check happens in the caller (portal), never here.

//  A password: EN_KEYWRAP_PASSWORD_MIN to 1024 bytes. 0, or -1 with err.
static int
s_password_check (const char *password, const char *field, int *code, char *err, size_t errlen)
{
    if (password && strlen (password) >= EN_KEYWRAP_PASSWORD_MIN && strlen (password) <= 1024)
        return 0;
    *code = EN_ERR_INVALID;
    snprintf (err, errlen, "field '%s' must be a password of %d to 1024 bytes", field, EN_KEYWRAP_PASSWORD_MIN);
    return -1;
}

//  Optional contact fields, kept only at this node: an e-mail address
//  and a phone number for notifications. 0, or -1 with err.
static int
s_contact_check (json_t *args, int *code, char *err, size_t errlen)
{
    const char *email = en_json_str (args, "email");
    const char *phone = en_json_str (args, "phone");
    bool email_ok = !email || (strlen (email) >= 3 && strlen (email) <= 254 && strchr (email, '@')
                               && strchr (email, '@') == strrchr (email, '@') && email [0] != '@'
                               && strchr (email, '@') [1] != 0);
    for (const char *c = email; email_ok && c && *c; c++)
        email_ok = *c > ' ' && *c != '<' && *c != '>' && *c != '"' && *c != 127;
    bool phone_ok = !phone || (strlen (phone) >= 6 && strlen (phone) <= 32);
    for (const char *c = phone; phone_ok && c && *c; c++)
        phone_ok = (*c >= '0' && *c <= '9') || strchr ("+-() ", *c);
    if (email_ok && phone_ok)
        return 0;
    *code = EN_ERR_INVALID;
    snprintf (err, errlen, email_ok ? "field 'phone' must be a phone number (digits, spaces, + - ( ), 6 to 32)"
                                    : "field 'email' must be an e-mail address (name@domain)");
    return -1;
}

//  Argon2id hash of a password for the login (interactive limits).
static int
s_pwhash (const char *password, char hash [crypto_pwhash_STRBYTES])
{
    return crypto_pwhash_str (hash, password, strlen (password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

//  Wrap an expert's secret key with the password and, if recovery is
//  given, with the recovery code; store the wraps in place of the
//  vault-sealed copy (recovery NULL keeps the stored recovery wrap).
//  Inside the caller's transaction. 0 or -1.
static int
s_expert_key_wrap (en_node_t *self, const char *expert, const char *public_hex, const unsigned char *secret_key,
                   const char *password, const char *recovery)
{
    en_keywrap_t *by_password = en_keywrap_new (secret_key, password, self->kdf_ops, self->kdf_mem);
    en_keywrap_t *by_recovery = recovery ? en_keywrap_new (secret_key, recovery, self->kdf_ops, self->kdf_mem)
                                         : NULL;
    int rc = -1;
    if (by_password && (by_recovery || !recovery)) {
        json_t *password_json = en_keywrap_json (by_password);
        json_t *recovery_json = by_recovery ? en_keywrap_json (by_recovery) : NULL;
        rc = en_nstore_expert_key_wrap (self->store, expert, public_hex, password_json, recovery_json);
        json_decref (password_json);
        json_decref (recovery_json);
    }
    en_keywrap_destroy (&by_password);
    en_keywrap_destroy (&by_recovery);
    return rc;
}

//  A new box key pair for an expert, wrapped for the person; the
//  expert's record gets the new public key and is published again, so
//  dossiers from now on are sealed to it. Inside the caller's
//  transaction. 0 or -1; public_hex gets the new public key.
static int
s_expert_rekey (en_node_t *self, const char *expert, const char *password, const char *recovery,
                char public_hex [crypto_box_PUBLICKEYBYTES * 2 + 1])
{
    unsigned char public_key [crypto_box_PUBLICKEYBYTES];
    unsigned char *secret_key = (unsigned char *) sodium_malloc (crypto_box_SECRETKEYBYTES);
    if (!secret_key)
        return -1;
    crypto_box_keypair (public_key, secret_key);
    sodium_bin2hex (public_hex, crypto_box_PUBLICKEYBYTES * 2 + 1, public_key, sizeof public_key);
    int rc = s_expert_key_wrap (self, expert, public_hex, secret_key, password, recovery);
    sodium_free (secret_key);
    json_t *record = rc == 0 ? en_nstore_expert (self->store, expert) : NULL;
    if (!record)
        return -1;
    json_object_set_new (record, "box_key", json_string (public_hex));
    rc = en_nstore_expert_put (self->store, record) || s_queue_availability (self) ? -1 : 0;
    json_decref (record);
    return rc;
}

//  The expert's secret key from its vault-sealed copy (before the expert
//  had an account), into secret_key. 0, or -1 when there is none.
static int
s_expert_key_unseal (en_node_t *self, json_t *keys, unsigned char *secret_key)
{
    const char *sealed = en_json_str (keys, "box_secret");
    char *hex = sealed ? en_vault_unseal (self->vault, sealed) : NULL;
    size_t size = 0;
    int rc = hex && sodium_hex2bin (secret_key, crypto_box_SECRETKEYBYTES, hex, strlen (hex), NULL, &size, NULL) == 0
             && size == crypto_box_SECRETKEYBYTES ? 0 : -1;
    if (hex) {
        sodium_memzero (hex, strlen (hex));
        free (hex);
    }
    return rc;
}

//  An account by name, or NULL with a 404 in err.
static json_t *
s_user_find (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    const char *name = en_json_str (args, "name");
    json_t *user = name && strlen (name) <= 63 ? en_nstore_user (self->store, name) : NULL;
    if (!user) {
        *code = EN_ERR_NOT_FOUND;
        snprintf (err, errlen, "no account '%.63s' at this node (expertnet node users)", name ? name : "");
    }
    return user;
}

static json_t *
s_verb_user_add (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    const char *name = en_json_str (args, "name");
    const char *role = en_json_str (args, "role");
    const char *expert = en_json_str (args, "expert");
    const char *password = en_json_str (args, "password");
    *code = EN_ERR_INVALID;
    if (!en_name_valid (name)) {
        snprintf (err, errlen, "field 'name' must be a name: 1 to 63 of a-z, 0-9 and '-'");
        return NULL;
    }
    if (!en_vocab_has (s_roles, role)) {
        snprintf (err, errlen, "field 'role' must be medewerker, expert or beheerder");
        return NULL;
    }
    if (streq (role, "expert") != (expert != NULL)) {
        snprintf (err, errlen, streq (role, "expert") ? "an account of role expert needs field 'expert' (the expert's id)"
                                                      : "field 'expert' goes only with role expert");
        return NULL;
    }
    if (s_password_check (password, "password", code, err, errlen) || s_contact_check (args, code, err, errlen))
        return NULL;
    json_t *record = expert ? en_nstore_expert (self->store, expert) : NULL;
    json_decref (record);
    if (expert && !record) {
        *code = EN_ERR_NOT_FOUND;
        snprintf (err, errlen, "no expert '%.63s' at this node (expertnet expert add first)", expert);
        return NULL;
    }
    char *holder = expert ? en_nstore_expert_user (self->store, expert) : NULL;
    if (holder) {
        *code = EN_ERR_CONFLICT;
        snprintf (err, errlen, "expert '%.63s' already has an account ('%.63s')", expert, holder);
        free (holder);
        return NULL;
    }
    json_t *existing = en_nstore_user (self->store, name);
    json_decref (existing);
    if (existing) {
        *code = EN_ERR_CONFLICT;
        snprintf (err, errlen, "account '%s' exists", name);
        return NULL;
    }
    char hash [crypto_pwhash_STRBYTES];
    char *totp = en_totp_secret_new ();
    char *totp_sealed = totp ? en_vault_seal (self->vault, totp) : NULL;
    char *recovery = expert ? en_keywrap_recovery_new () : NULL;
    unsigned char *secret_key = (unsigned char *) sodium_malloc (crypto_box_SECRETKEYBYTES);
    char public_hex [crypto_box_PUBLICKEYBYTES * 2 + 1] = "";
    bool rekeyed = false;
    int rc = totp_sealed && secret_key && s_pwhash (password, hash) == 0 ? 0 : -1;
    en_db_t *db = en_nstore_db (self->store);
    en_db_begin (db);
    if (rc == 0) {
        json_t *user = json_pack ("{s:s, s:s, s:s?, s:s, s:s, s:s?, s:s?}", "name", name, "role", role,
                                  "expert", expert, "pwhash", hash, "totp", totp_sealed,
                                  "email", en_json_str (args, "email"), "phone", en_json_str (args, "phone"));
        rc = en_nstore_user_insert (self->store, user);
        json_decref (user);
    }
    if (rc == 0 && expert) {
        //  The expert's key pair made at expert add, until now sealed with
        //  the vault, is wrapped for the person; with none to take over (an
        //  earlier account's wraps) a new pair is made and published
        json_t *keys = en_nstore_expert_key (self->store, expert);
        if (keys && s_expert_key_unseal (self, keys, secret_key) == 0) {
            snprintf (public_hex, sizeof public_hex, "%s", en_json_str (keys, "box_public"));
            rc = s_expert_key_wrap (self, expert, public_hex, secret_key, password, recovery);
        }
        else {
            rekeyed = true;
            rc = s_expert_rekey (self, expert, password, recovery, public_hex);
        }
        json_decref (keys);
    }
    if (rc == 0)
        s_audit (self, "user.add", NULL, en_json_str (args, "_user"), name, "create", "ok", role);
    if (rc || en_db_commit (db)) {
        en_db_rollback (db);
        *code = rc == 1 ? EN_ERR_CONFLICT : EN_ERR_INTERNAL;
        snprintf (err, errlen, rc == 1 ? "account '%s' exists" : "could not store account '%s'", name);
    }
    sodium_memzero (hash, sizeof hash);
    if (secret_key)
        sodium_free (secret_key);
    json_t *result = NULL;
    if (rc == 0) {
        char issuer [96];
        snprintf (issuer, sizeof issuer, "expertnet %s", self->name);
        char *uri = en_totp_uri (totp, issuer, name);
        result = json_pack ("{s:s, s:s, s:s?, s:s, s:s, s:s?}", "name", name, "role", role, "expert", expert,
                            "totp_secret", totp, "totp_uri", uri, "recovery_code", recovery);
        if (expert)
            json_object_set_new (result, "box_public", json_string (public_hex));
        if (rekeyed)
            json_object_set_new (result, "rekeyed", json_true ());
        free (uri);
        zsys_info ("account %s (%s%s%s) added%s", name, role, expert ? " " : "", expert ? expert : "",
                   rekeyed ? "; the expert has a new box key" : "");
        if (expert)
            s_flush (self);
    }
    if (totp) {
        sodium_memzero (totp, strlen (totp));
        free (totp);
    }
    if (recovery) {
        sodium_memzero (recovery, strlen (recovery));
        free (recovery);
    }
    free (totp_sealed);
    return result;
}

//  For the portal's login: the account with its password hash and its
//  TOTP secret in clear, and whether its role must use TOTP. Not for
//  display.
static json_t *
s_verb_user_get (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    json_t *user = s_user_find (self, args, code, err, errlen);
    if (!user)
        return NULL;
    const char *sealed = en_json_str (user, "totp");
    char *totp = sealed ? en_vault_unseal (self->vault, sealed) : NULL;
    json_object_set_new (user, "totp_secret", totp ? json_string (totp) : json_null ());
    if (totp) {
        sodium_memzero (totp, strlen (totp));
        free (totp);
    }
    json_object_del (user, "totp");
    json_t *roles = json_array ();
    char *copy = strdup (self->totp_required), *save = NULL;
    for (char *role = strtok_r (copy, ", ", &save); role; role = strtok_r (NULL, ", ", &save))
        json_array_append_new (roles, json_string (role));
    free (copy);
    bool required = false;
    size_t index;
    json_t *role;
    json_array_foreach (roles, index, role)
        required |= streq (json_string_value (role), en_json_str (user, "role"));
    json_decref (roles);
    json_object_set_new (user, "totp_required", json_boolean (required));
    return user;
}

static json_t *
s_verb_user_remove (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    json_t *user = s_user_find (self, args, code, err, errlen);
    if (!user)
        return NULL;
    const char *name = en_json_str (user, "name");
    en_db_t *db = en_nstore_db (self->store);
    en_db_begin (db);
    int rc = en_nstore_user_remove (self->store, name);
    if (rc == 0)
        s_audit (self, "user.remove", NULL, en_json_str (args, "_user"), name, "delete", "ok",
                 en_json_str (user, "role"));
    if (rc || en_db_commit (db)) {
        en_db_rollback (db);
        *code = EN_ERR_INTERNAL;
        snprintf (err, errlen, "could not remove account '%s'", name);
        json_decref (user);
        return NULL;
    }
    json_t *result = json_pack ("{s:s, s:b}", "name", name, "removed", 1);
    json_decref (user);
    return result;
}

//  The expert's secret key, unwrapped with the password or the recovery
//  code (which = "password" or "recovery"), into secret_key. 0, or -1.
static int
s_expert_key_open (en_node_t *self, const char *expert, const char *which, const char *secret,
                   unsigned char *secret_key, char public_hex [crypto_box_PUBLICKEYBYTES * 2 + 1])
{
    json_t *keys = en_nstore_expert_key (self->store, expert);
    char field [32];
    snprintf (field, sizeof field, "wrap_%s", which);
    int rc = keys ? en_keywrap_open_json (json_object_get (keys, field), secret, secret_key) : -1;
    if (rc == 0)
        snprintf (public_hex, crypto_box_PUBLICKEYBYTES * 2 + 1, "%s", en_json_str (keys, "box_public"));
    json_decref (keys);
    return rc;
}

//  The account a password-changing verb is about, after checking the
//  new password (field 'password'); NULL with err.
static json_t *
s_user_with_password (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    if (s_password_check (en_json_str (args, "password"), "password", code, err, errlen))
        return NULL;
    return s_user_find (self, args, code, err, errlen);
}

//  Give an account a new password in one transaction, audited as event
//  (detail may be NULL). For an expert the key is wrapped again: the
//  secret_key given (opened by the caller with the old password or the
//  recovery code; recovery NULL keeps the recovery wrap), or, when
//  secret_key is NULL, a new key pair (public_hex gets its public key).
//  0, or -1 with err.
static int
s_user_set_password (en_node_t *self, json_t *user, json_t *args, const unsigned char *secret_key,
                     char public_hex [crypto_box_PUBLICKEYBYTES * 2 + 1], const char *recovery,
                     const char *event, const char *detail, int *code, char *err, size_t errlen)
{
    const char *name = en_json_str (user, "name");
    const char *expert = en_json_str (user, "expert");
    const char *password = en_json_str (args, "password");
    char hash [crypto_pwhash_STRBYTES];
    if (s_pwhash (password, hash)) {
        *code = EN_ERR_INTERNAL;
        snprintf (err, errlen, "out of memory hashing the password");
        return -1;
    }
    en_db_t *db = en_nstore_db (self->store);
    en_db_begin (db);
    int rc = en_nstore_user_password (self->store, name, hash);
    sodium_memzero (hash, sizeof hash);
    if (rc == 0 && expert)
        rc = secret_key ? s_expert_key_wrap (self, expert, public_hex, secret_key, password, recovery)
                        : s_expert_rekey (self, expert, password, recovery, public_hex);
    if (rc == 0)
        s_audit (self, event, NULL, en_json_str (args, "_user"), name, "update", "ok", detail);
    if (rc || en_db_commit (db)) {
        en_db_rollback (db);
        *code = EN_ERR_INTERNAL;
        snprintf (err, errlen, "could not store the new password of '%s'", name);
        return -1;
    }
    return 0;
}

//  A refusal of a password-changing verb, in the access log.
static void
s_user_refused (en_node_t *self, json_t *user, json_t *args, const char *event, const char *detail)
{
    en_db_t *db = en_nstore_db (self->store);
    en_db_begin (db);
    s_audit (self, event, NULL, en_json_str (args, "_user"), en_json_str (user, "name"), "update", "refused", detail);
    en_db_commit (db);
}

//  A new password. For an expert the key is re-wrapped, which needs the
//  key: the old password opens it (the node cannot); with
//  new_recovery_code the recovery wrap is replaced too and the new code
//  returned. Other roles may be given a new password by a beheerder
//  without the old one.
static json_t *
s_verb_user_passwd (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    json_t *user = s_user_with_password (self, args, code, err, errlen);
    if (!user)
        return NULL;
    const char *name = en_json_str (user, "name");
    const char *expert = en_json_str (user, "expert");
    const char *old = en_json_str (args, "old_password");
    //  The first password and recovery code were seen by whoever made the
    //  account: the expert replaces both, with a code only they see
    char *fresh = expert && json_is_true (json_object_get (args, "new_recovery_code"))
                ? en_keywrap_recovery_new () : NULL;
    unsigned char *secret_key = (unsigned char *) sodium_malloc (crypto_box_SECRETKEYBYTES);
    char public_hex [crypto_box_PUBLICKEYBYTES * 2 + 1];
    json_t *result = NULL;
    if (!secret_key) {
        *code = EN_ERR_INTERNAL;
        snprintf (err, errlen, "out of memory");
    }
    else
    if (expert && !old) {
        *code = EN_ERR_INVALID;
        snprintf (err, errlen, "an expert's password is changed with the old one (field 'old_password'), or "
                  "with the recovery code (user-recover): the node cannot open the expert's key");
    }
    else
    if ((expert && s_expert_key_open (self, expert, "password", old, secret_key, public_hex))
    ||  (!expert && old && crypto_pwhash_str_verify (en_json_str (user, "pwhash"), old, strlen (old)))) {
        *code = EN_ERR_FORBIDDEN;
        snprintf (err, errlen, "the old password of '%s' is wrong", name);
        s_user_refused (self, user, args, "user.passwd", "wrong old password");
    }
    else
    if (s_user_set_password (self, user, args, secret_key, public_hex, fresh, "user.passwd",
                             fresh ? "new recovery code" : NULL, code, err, errlen) == 0) {
        result = json_pack ("{s:s, s:b}", "name", name, "rewrapped", expert != NULL);
        if (fresh)
            json_object_set_new (result, "recovery_code", json_string (fresh));
    }
    if (secret_key)
        sodium_free (secret_key);
    if (fresh) {
        sodium_memzero (fresh, strlen (fresh));
        free (fresh);
    }
    json_decref (user);
    return result;
}

//  A forgotten password: the recovery code opens the expert's key, which
//  is wrapped again with the new password and with a NEW recovery code
//  (the used one no longer opens anything).
static json_t *
s_verb_user_recover (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    json_t *user = s_user_with_password (self, args, code, err, errlen);
    if (!user)
        return NULL;
    const char *name = en_json_str (user, "name");
    const char *expert = en_json_str (user, "expert");
    char *typed = en_keywrap_recovery_normalize (en_json_str (args, "recovery_code"));
    char *fresh = en_keywrap_recovery_new ();
    unsigned char *secret_key = (unsigned char *) sodium_malloc (crypto_box_SECRETKEYBYTES);
    char public_hex [crypto_box_PUBLICKEYBYTES * 2 + 1];
    json_t *result = NULL;
    if (!expert) {
        *code = EN_ERR_CONFLICT;
        snprintf (err, errlen, "only an expert's account has a recovery code; a beheerder gives '%s' a new "
                  "password (user-passwd)", name);
    }
    else
    if (!typed) {
        *code = EN_ERR_INVALID;
        snprintf (err, errlen, "field 'recovery_code' must be 24 letters and digits 2-7 (groups of four)");
    }
    else
    if (!secret_key || s_expert_key_open (self, expert, "recovery", typed, secret_key, public_hex)) {
        *code = EN_ERR_FORBIDDEN;
        snprintf (err, errlen, "the recovery code does not open the key of '%s' (used before, or mistyped)", name);
        s_user_refused (self, user, args, "user.recover", NULL);
    }
    else
    if (s_user_set_password (self, user, args, secret_key, public_hex, fresh, "user.recover",
                             "new recovery code", code, err, errlen) == 0)
        result = json_pack ("{s:s, s:s, s:s}", "name", name, "expert", expert, "recovery_code", fresh);
    if (secret_key)
        sodium_free (secret_key);
    if (typed) {
        sodium_memzero (typed, strlen (typed));
        free (typed);
    }
    sodium_memzero (fresh, strlen (fresh));
    free (fresh);
    json_decref (user);
    return result;
}

//  Password and recovery code both lost: a new key pair for the expert,
//  wrapped with a new password and a new recovery code, published. What
//  was sealed to the old key cannot be opened by anyone any more.
static json_t *
s_verb_user_rekey (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    json_t *user = s_user_with_password (self, args, code, err, errlen);
    if (!user)
        return NULL;
    const char *name = en_json_str (user, "name");
    const char *expert = en_json_str (user, "expert");
    char public_hex [crypto_box_PUBLICKEYBYTES * 2 + 1] = "";
    char *recovery = en_keywrap_recovery_new ();
    json_t *result = NULL;
    if (!expert) {
        *code = EN_ERR_CONFLICT;
        snprintf (err, errlen, "'%s' is not an expert's account: it has no key", name);
    }
    else
    if (s_user_set_password (self, user, args, NULL, public_hex, recovery, "user.rekey",
                             "new box key; what was sealed to the old one cannot be opened", code, err, errlen) == 0) {
        result = json_pack ("{s:s, s:s, s:s, s:s}", "name", name, "expert", expert, "box_public", public_hex,
                            "recovery_code", recovery);
        zsys_notice ("expert %s has a new box key (account %s); dossiers sealed to the old key cannot be "
                     "opened", expert, name);
        s_flush (self);
    }
    sodium_memzero (recovery, strlen (recovery));
    free (recovery);
    json_decref (user);
    return result;
}

//  The portal tells the node of a login (it checks the password and the
//  TOTP code itself, before it lets the person in): an access-log entry
//  with the person as actor. With totp_step (from en_totp_verify_step) a
//  successful login is refused (409) if that code's step was used before.
static json_t *
s_verb_login_event (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    static const char *outcomes [] = { "ok", "failed", "locked", NULL };
    const char *name = en_json_str (args, "name");
    const char *outcome = en_json_str (args, "outcome");
    const char *address = en_json_str (args, "address");
    if (!name || !*name || strlen (name) > 63 || !en_vocab_has (outcomes, outcome)
    ||  (address && strlen (address) > 64)) {
        *code = EN_ERR_INVALID;
        snprintf (err, errlen, "login-event needs name (up to 63 bytes), outcome ok|failed|locked and "
                  "optionally address (up to 64 bytes)");
        return NULL;
    }
    json_t *step = json_object_get (args, "totp_step");
    if (step && (!json_is_integer (step) || json_integer_value (step) < 0)) {
        *code = EN_ERR_INVALID;
        snprintf (err, errlen, "field 'totp_step' must be the TOTP time step of the code (en_totp_verify_step)");
        return NULL;
    }
    //  A name nobody has is recorded, but not as typed: it may be a
    //  password typed in the wrong field
    json_t *user = en_nstore_user (self->store, name);
    const char *actor = user ? name : "unknown-account";
    en_db_t *db = en_nstore_db (self->store);
    en_db_begin (db);
    //  A successful login records its TOTP step; a code of a step used
    //  before is a replay and turns the login into a refusal
    int replay = user && streq (outcome, "ok")
               ? en_nstore_user_login (self->store, name, en_now_ms (), step ? json_integer_value (step) : -1) : 0;
    const char *why = replay == 1 ? "totp code used before" : streq (outcome, "locked") ? "locked" : "";
    char detail [128];
    snprintf (detail, sizeof detail, "%s%s%s", why, address ? (*why ? " from " : "from ") : "", address ? address : "");
    s_audit (self, "user.login", NULL, actor, NULL, "login", streq (outcome, "ok") && replay == 0 ? "ok" : "refused",
             *detail ? detail : NULL);
    en_db_commit (db);
    json_decref (user);
    if (replay == 1) {
        *code = EN_ERR_CONFLICT;
        snprintf (err, errlen, "this TOTP code was used before: wait for the next one");
        return NULL;
    }
    return json_pack ("{s:s, s:s}", "name", name, "outcome", outcome);
}

//  An expert's box key as the node holds it: the public key and the
//  wraps of the secret key (never the secret key itself). 409 when the
//  expert has no account yet (the key is still sealed with the vault).
static json_t *
s_expert_key_public (en_node_t *self, const char *expert, int *code, char *err, size_t errlen)
{
    json_t *keys = expert ? en_nstore_expert_key (self->store, expert) : NULL;
    if (!keys) {
        *code = EN_ERR_NOT_FOUND;
        snprintf (err, errlen, "no expert '%.63s' with a key at this node", expert ? expert : "");
        return NULL;
    }
    if (!json_is_object (json_object_get (keys, "wrap_password"))) {
        *code = EN_ERR_CONFLICT;
        snprintf (err, errlen, "expert '%.63s' has no account yet, so nobody can open its key: make one "
                  "(expertnet node user-add NAME --role expert --expert %.63s)", expert, expert);
        json_decref (keys);
        return NULL;
    }
    json_t *result = json_pack ("{s:s, s:s, s:{s:O, s:O}}", "expert", expert,
                                "box_public", en_json_str (keys, "box_public"), "wrapped",
                                "password", json_object_get (keys, "wrap_password"),
                                "recovery", json_object_get (keys, "wrap_recovery"));
    json_decref (keys);
    return result;
}

static json_t *
s_verb_expert_key (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    return s_expert_key_public (self, en_json_str (args, "expert"), code, err, errlen);
}

//  The dossier of an accepted offer, still sealed to the expert's key,
//  with that key's wraps: the caller who knows the expert's password (the
//  `expertnet` command, the portal) unwraps the key and opens the
//  dossier. The node cannot. args: offer, and optionally expert (must be
//  the offer's). A caller acting as an expert's account gets only that
//  expert's dossiers.
static json_t *
s_verb_dossier (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    const char *offer_id = en_json_str (args, "offer");
    const char *asked = en_json_str (args, "expert");
    const char *user_arg = en_json_str (args, "_user");
    json_t *offer = offer_id ? en_nstore_offer (self->store, offer_id) : NULL;
    char *sealed = offer ? en_nstore_offer_dossier (self->store, offer_id) : NULL;
    json_t *replies = offer ? en_nstore_offer_replies (self->store, offer_id) : NULL;
    bool something = sealed || json_array_size (replies) > 0;
    const char *expert = offer ? en_json_str (offer, "expert") : NULL;
    json_t *account = user_arg ? en_nstore_user (self->store, user_arg) : NULL;
    json_t *result = NULL;
    if (!offer || !something) {
        *code = EN_ERR_NOT_FOUND;
        snprintf (err, errlen, "no dossier for offer '%.80s' at this node (yet)", offer_id ? offer_id : "");
    }
    else
    if ((asked && !streq (asked, expert))
    ||  (account && !streq (en_json_str (account, "role"), "expert"))
    ||  (account && !streq (en_json_str (account, "expert") ?: "", expert))) {
        *code = EN_ERR_FORBIDDEN;
        snprintf (err, errlen, "the dossier of '%s' is sealed to another expert; '%.63s' cannot open it",
                  offer_id, account ? en_json_str (account, "name") : asked);
    }
    else {
        result = s_expert_key_public (self, expert, code, err, errlen);
        if (result) {
            json_object_set_new (result, "offer", json_string (offer_id));
            json_object_set (result, "request", json_object_get (offer, "request_id"));
            json_object_set_new (result, "sealed", sealed ? json_string (sealed) : json_null ());
            json_object_set (result, "replies", replies);
        }
    }
    json_decref (replies);
    if (offer && something) {
        en_db_t *db = en_nstore_db (self->store);
        en_db_begin (db);
        s_audit (self, "dossier.read", en_json_str (offer, "request_id"), user_arg, asked ? asked : expert,
                 "read", result ? "ok" : "refused", offer_id);
        en_db_commit (db);
    }
    free (sealed);
    json_decref (account);
    json_decref (offer);
    return result;
}

//  NEN 7513: every access-log entry about one client, in plain Dutch:
//  entries under the case's pseudonym and under the requests about it.
//  The export itself is logged.
static json_t *
s_verb_audit_export (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    const char *pseudonym = en_json_str (args, "case");
    if (!pseudonym || !en_id_valid (pseudonym)) {
        *code = EN_ERR_INVALID;
        snprintf (err, errlen, "audit-export needs field 'case' (the client's pseudonym)");
        return NULL;
    }
    en_db_t *db = en_nstore_db (self->store);
    json_t *entries = en_audit_case (db, pseudonym);
    json_t *ids = en_nstore_case_requests (self->store, pseudonym);
    size_t index;
    json_t *id;
    json_array_foreach (ids, index, id) {
        json_t *more = en_audit_case (db, json_string_value (id));
        json_array_extend (entries, more);
        json_decref (more);
    }
    json_decref (ids);
    char *known = en_nstore_case_sealed (self->store, pseudonym);
    free (known);
    if (!known && json_array_size (entries) == 0) {
        json_decref (entries);
        *code = EN_ERR_NOT_FOUND;
        snprintf (err, errlen, "no case '%s' and no log entries about it at this node", pseudonym);
        return NULL;
    }
    //  Oldest first across the case and its requests
    size_t count = json_array_size (entries);
    json_t **sorted = (json_t **) calloc (count ? count : 1, sizeof (json_t *));
    json_t *entry;
    json_array_foreach (entries, index, entry)
        sorted [index] = entry;
    for (size_t i = 1; i < count; i++)
        for (size_t j = i; j > 0 && en_json_int (sorted [j - 1], "seq", 0) > en_json_int (sorted [j], "seq", 0); j--) {
            json_t *swap = sorted [j];
            sorted [j] = sorted [j - 1];
            sorted [j - 1] = swap;
        }
    json_t *lines = json_array ();
    for (size_t i = 0; i < count; i++) {
        char *line = en_audit_line_nl (sorted [i]);
        json_array_append_new (lines, json_string (line));
        zstr_free (&line);
    }
    free (sorted);
    json_decref (entries);
    en_db_begin (db);
    s_audit (self, "audit.export", pseudonym, en_json_str (args, "_user"), self->name, "export", "ok", NULL);
    en_db_commit (db);
    return json_pack ("{s:s, s:s, s:I, s:o}", "case", pseudonym, "node", self->name,
                      "entries", (json_int_t) count, "lines", lines);
}

//  The expertise tags a request may ask for: [{tag, available}], sorted,
//  from what the broker said the network holds (TAGS) and this node's own
//  experts (available: one of them, or someone in the network, has a free
//  place now).
static json_t *
s_verb_tags (en_node_t *self)
{
    json_t *seen = json_object ();
    size_t index, i;
    json_t *entry, *tag;
    json_array_foreach (self->network_tags, index, entry)
        json_object_set (seen, en_json_str (entry, "tag"), json_object_get (entry, "available"));
    json_t *experts = en_nstore_experts (self->store);
    json_array_foreach (experts, index, entry)
        json_array_foreach (json_object_get (entry, "expertise"), i, tag)
            if (json_is_string (tag) && !json_object_get (seen, json_string_value (tag)))
                json_object_set_new (seen, json_string_value (tag), json_false ());
    json_decref (experts);
    zlistx_t *names = zlistx_new ();
    zlistx_set_comparator (names, (zlistx_comparator_fn *) strcmp);
    const char *name;
    json_t *available;
    json_object_foreach (seen, name, available)
        zlistx_add_end (names, (void *) name);
    zlistx_sort (names);
    json_t *tags = json_array ();
    for (const char *item = (const char *) zlistx_first (names); item; item = (const char *) zlistx_next (names))
        json_array_append_new (tags, json_pack ("{s:s, s:O}", "tag", item, "available", json_object_get (seen, item)));
    zlistx_destroy (&names);
    json_decref (seen);
    return tags;
}

static void
s_handle_control (en_node_t *self, zsock_t *sock)
{
    zframe_t *routing_id;
    char *verb;
    json_t *args;
    if (en_control_recv (sock, &routing_id, &verb, &args))
        return;
    json_t *result = NULL;
    int code = EN_ERR_BAD_REQUEST;
    char err [256] = "";
    if (streq (verb, "status"))
        result = s_verb_status (self);
    else
    if (streq (verb, "submit"))
        result = s_verb_submit (self, args, &code, err, sizeof err);
    else
    if (streq (verb, "requests"))
        result = en_nstore_requests (self->store, en_json_str (args, "state"),
                                     (int) en_json_int (args, "limit", 100));
    else
    if (streq (verb, "request")) {
        const char *id = en_json_str (args, "id");
        result = id ? en_nstore_request (self->store, id) : NULL;
        if (!result) {
            code = EN_ERR_NOT_FOUND;
            snprintf (err, sizeof err, "no request '%s' at this node", id ? id : "");
        }
    }
    else
    if (streq (verb, "close"))
        result = s_verb_close (self, args, &code, err, sizeof err);
    else
    if (streq (verb, "reply"))
        result = s_verb_reply (self, args, &code, err, sizeof err);
    else
    if (streq (verb, "expert-add") || streq (verb, "expert-update"))
        result = s_verb_expert_put (self, args, streq (verb, "expert-update"), &code, err, sizeof err);
    else
    if (streq (verb, "tags"))
        result = s_verb_tags (self);
    else
    if (streq (verb, "experts"))
        result = en_nstore_experts (self->store);
    else
    if (streq (verb, "inbox"))
        result = en_nstore_offers (self->store, en_json_str (args, "expert"),
                                   json_is_true (json_object_get (args, "all")));
    else
    if (streq (verb, "offer")) {
        const char *id = en_json_str (args, "offer");
        result = id ? en_nstore_offer (self->store, id) : NULL;
        if (!result) {
            code = EN_ERR_NOT_FOUND;
            snprintf (err, sizeof err, "no offer '%s' at this node", id ? id : "");
        }
    }
    else
    if (streq (verb, "dossier"))
        result = s_verb_dossier (self, args, &code, err, sizeof err);
    else
    if (streq (verb, "case-add"))
        result = s_verb_case_add (self, args, &code, err, sizeof err);
    else
    if (streq (verb, "case-show"))
        result = s_verb_case_show (self, args, &code, err, sizeof err);
    else
    if (streq (verb, "rotate"))
        result = s_verb_rotate (self, args, &code, err, sizeof err);
    else
    if (streq (verb, "case-phase"))
        result = s_verb_case_phase (self, args, &code, err, sizeof err);
    else
    if (streq (verb, "cases"))
        result = en_nstore_cases (self->store);
    else
    if (streq (verb, "audit-verify") || streq (verb, "audit-show"))
        result = s_verb_audit (self, verb, args, &code, err, sizeof err);
    else
    if (streq (verb, "accept") || streq (verb, "decline") || streq (verb, "advise"))
        result = s_verb_answer (self, verb, args, &code, err, sizeof err);
    else
    if (streq (verb, "notifications"))
        result = s_verb_notifications (self, args);
    else
    if (streq (verb, "expert-contacts"))
        result = en_nstore_contacts (self->store);         //  node-local: never published
    else
    if (streq (verb, "user-add"))
        result = s_verb_user_add (self, args, &code, err, sizeof err);
    else
    if (streq (verb, "user-get"))
        result = s_verb_user_get (self, args, &code, err, sizeof err);
    else
    if (streq (verb, "users"))
        result = en_nstore_users (self->store);
    else
    if (streq (verb, "user-remove"))
        result = s_verb_user_remove (self, args, &code, err, sizeof err);
    else
    if (streq (verb, "user-passwd"))
        result = s_verb_user_passwd (self, args, &code, err, sizeof err);
    else
    if (streq (verb, "user-recover"))
        result = s_verb_user_recover (self, args, &code, err, sizeof err);
    else
    if (streq (verb, "user-rekey"))
        result = s_verb_user_rekey (self, args, &code, err, sizeof err);
    else
    if (streq (verb, "login-event"))
        result = s_verb_login_event (self, args, &code, err, sizeof err);
    else
    if (streq (verb, "expert-key"))
        result = s_verb_expert_key (self, args, &code, err, sizeof err);
    else
    if (streq (verb, "audit-export"))
        result = s_verb_audit_export (self, args, &code, err, sizeof err);
    else
        snprintf (err, sizeof err, "unknown verb '%s'", verb);
    //  A store that failed for want of space says so, not "could not ..."
    char full [600];
    snprintf (full, sizeof full, "%s", err);
    if (!result && en_db_full (en_nstore_db (self->store))) {
        snprintf (full, sizeof full, "disk full: %s (free space in %s)", err, self->datadir);
        code = EN_ERR_DISK_FULL;
    }
    en_control_reply (sock, routing_id, result, code, result ? NULL : full);
    zframe_destroy (&routing_id);
    zstr_free (&verb);
    json_decref (args);
}

void
en_node_reload (en_node_t *self, zconfig_t *config)
{
    self->heartbeat_ms = en_config_ms (config, "node/heartbeat", "1s");
    self->retry_ms = en_config_ms (config, "node/retry", "2s");
    self->clock_alert_ms = en_config_ms (config, "node/clock_alert", "30s");
    en_clock_set_alert (self->clock, self->clock_alert_ms);
    char err [256];
    if (s_accounts_config (self, config, err, sizeof err))
        zsys_warning ("%s; keeping the account settings", err);
    const char *endpoint = zconfig_get (config, "broker/endpoint", "tcp://127.0.0.1:7700");
    if (!streq (endpoint, self->endpoint)) {
        free (self->endpoint);
        self->endpoint = strdup (endpoint);
        s_connect (self);
    }
    //  Notification settings: a new sender with the new settings
    err [0] = 0;
    en_notify_config_t *notify = en_notify_config_new (config, self->region, err, sizeof err);
    if (notify) {
        s_notify_stop (self);
        en_notify_config_destroy (&self->notify_config);
        json_decref (self->staff);
        self->notify_config = notify;
        self->staff = NULL;
        if (s_notify_setup_sender (self, config, err, sizeof err))
            zsys_error ("notifications: %s", err);
    }
    else
        zsys_error ("notify settings not reloaded: %s", err);
    zsys_info ("configuration reloaded: broker %s, heartbeat %lldms", self->endpoint,
               (long long) self->heartbeat_ms);
}

//  PING tells the broker what we measured of its clock, so it
//  can judge our timestamps and show the offset (docs/protocol.md, "Clocks")
static json_t *
s_clock_told (en_node_t *self, json_t *body)
{
    if (en_clock_rtt (self->clock) >= 0) {
        json_object_set_new (body, "offset", json_integer (en_clock_offset (self->clock)));
        json_object_set_new (body, "rtt", json_integer (en_clock_rtt (self->clock)));
    }
    return body;
}

int
en_node_run (en_node_t *self)
{
    zsys_info ("node %s (region %s) ready; broker %s", self->name, self->region, self->endpoint);
    int64_t next_flush = 0;
    int64_t next_prune = 0;
    while (!zsys_interrupted) {
        zsock_t *which = (zsock_t *) zpoller_wait (self->poller, (int) MIN (self->heartbeat_ms / 4, 250));
        if (en_daemon_reload_requested ())
            return EN_DAEMON_RELOAD;
        if (zsys_interrupted)
            break;
        if (which == self->dealer)
            s_process_batch (self);
        else
        if (which == self->control || (which && which == self->portal_control))
            s_handle_control (self, which);
        else
        if (self->sender && which == en_notify_sender_sock (self->sender))
            s_notify_result (self);
        int64_t now = en_now_ms ();
        s_notify_tick (self, now);
        if (self->connected && now - self->last_rx > 3 * self->heartbeat_ms) {
            zsys_warning ("lost contact with broker %s; reconnecting", self->endpoint);
            s_connect (self);
        }
        else
        if (!self->connected && self->last_hello && now - self->connect_at > 10 * self->heartbeat_ms
        &&  now - self->last_rx > 10 * self->heartbeat_ms) {
            //  No WELCOME for a long while: start over with a fresh socket
            s_connect (self);
        }
        if (!self->connected && now - self->last_hello >= self->heartbeat_ms) {
            //  (No offset told here: what we measured may be of a broker
            //  process that is gone; the WELCOME measures afresh)
            en_msg_t *hello = en_msg_new ("HELLO", self->name,
                json_pack ("{s:s, s:s, s:s}", "node", self->name, "region", self->region,
                           "version", EXPERTNET_VERSION));
            s_send (self, hello);
            en_msg_destroy (&hello);
            self->last_hello = now;
        }
        else
        if (self->connected && now - self->last_tx >= self->heartbeat_ms) {
            en_msg_t *ping = en_msg_new ("PING", self->name, s_clock_told (self, json_object ()));
            s_send (self, ping);
            en_msg_destroy (&ping);
        }
        if (now >= next_flush) {
            //  Our clock is the one we started with (en_clock)
            bool drifted = llabs (en_clock_drift_ms ()) > self->clock_alert_ms;
            if (drifted && !self->drift_logged)
                zsys_warning ("the system clock moved %+.1f s since this node started; timers and timestamps "
                              "keep the clock of the start (restart the node to take the new time)",
                              en_clock_drift_ms () / 1000.0);
            self->drift_logged = drifted;
        }
        if (self->connected && now >= next_flush) {
            s_flush (self);
            next_flush = now + self->retry_ms / 2;
        }
        if (self->connected && self->resubmit_at && now >= self->resubmit_at)
            s_resubmit (self);
        if (now >= self->next_anchor) {
            s_anchor (self);
            s_flush (self);
            self->next_anchor = now + self->anchor_ms;
        }
        if (now >= next_prune) {
            en_seen_prune (en_nstore_db (self->store), now - 30LL * 86400 * 1000);
            en_audit_prune (en_nstore_db (self->store), now - self->audit_retention_ms);
            next_prune = now + 3600 * 1000;
        }
    }
    //  A last head for the broker: queued on disk, sent now if connected
    s_anchor (self);
    s_flush (self);
    zsys_info ("node %s stopping", self->name);
    return 0;
}
