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
    only queue, and it is on disk. The engine is en_link, the same as a
    broker's link to a peer broker; the node's part is its HELLO, the
    resend when the link comes up (s_link_changed) and its log lines.

    Incoming messages are handled in batches inside one transaction, and
    ACKs go out only after COMMIT, as in the broker. Each is checked first
    (signed by the broker, within the timestamp window: what fails is
    ignored, not answered), then goes by command to its handler: what the
    link says (WELCOME, PONG, TAGS, ACK, ERROR), or, exactly once through
    en_inbox, what the broker asks of us (OFFER, WITHDRAW, STATUS,
    DOSSIER, REPLY).

    Privacy. Identifying data lives only here, in the case register,
    sealed with the vault's data key; every outgoing message body passes
    the PII guard (en_node_guard.c). Who did what to which case goes into
    the hash-chained access log (en_audit).

    The control verbs (`expertnet`, the portal) are a table in
    en_node_verbs.c and en_node_accounts.c; this file hands them each
    control request and sends what they queued. The struct they share
    is in en_node_int.h.

    Notifications that reach people (en_notify) are queued in the
    transaction of the event and handed to the sender actor by the loop
    (en_node_notify.c).
*/
#include "en_node_int.h"
#include <sodium.h>

static void
s_msg_destroy (void **item)
{
    en_msg_destroy ((en_msg_t **) item);
}

static void s_process_batch (en_node_t *self);

void
en_node_audit (en_node_t *self, const char *event, const char *case_id, const char *actor,
               const char *on_behalf, const char *action, const char *outcome, const char *detail)
{
    en_audit_entry_t entry = {
        .event = event, .case_id = case_id, .actor = actor ? actor : "unknown",
        .on_behalf = on_behalf, .action = action, .outcome = outcome, .detail = detail };
    if (en_audit_append (en_nstore_db (self->store), &entry))
        zsys_error ("access log: could not record %s", event);
}

//  --------------------------------------------------------------------
//  The link to the broker (en_link): what only the node knows

//  Read what waits from the broker now (the link is about to be judged silent)
static void
s_link_read (en_link_t *link, void *arg)
{
    s_process_batch ((en_node_t *) arg);
}

//  The link came up (a WELCOME to a link that was not up; the broker's
//  federation does the same with its peers): re-publish the experts and
//  send the whole outbox again. A WELCOME is only taken in s_process_batch,
//  so this is written in the batch's transaction, with what the batch
//  received.
static void
s_link_changed (en_link_t *link, en_link_event_t event, en_link_state_t from, void *arg)
{
    en_node_t *self = (en_node_t *) arg;
    if (en_link_state (link) == EN_LINK_UP) {
        en_node_queue_availability (self);
        en_outbox_reset (en_nstore_outbox (self->store), NULL);
    }
    else
    if (event == EN_LINK_SILENCE)
        zsys_warning ("lost contact with broker %s; reconnecting", en_link_endpoint (link));
    else
    if (en_link_state (link) == EN_LINK_REFUSED)
        zsys_warning ("broker refuses this node: %s", en_link_refusal (link));
}

//  HELLO every heartbeat until welcomed; no WELCOME and nothing heard for
//  ten heartbeats: a fresh socket
static void
s_link_timing (en_node_t *self)
{
    en_link_set_timing (self->link, self->heartbeat_ms, 10 * self->heartbeat_ms, 10 * self->heartbeat_ms);
}

//  --------------------------------------------------------------------
//  Construction, in steps

//  Settings that cannot fail, and the empty lists
static en_node_t *
s_node_alloc (zconfig_t *config)
{
    en_node_t *self = (en_node_t *) zmalloc (sizeof (en_node_t));
    assert (self);
    self->name = strdup (zconfig_get (config, "node/name", "twente"));
    self->region = strdup (zconfig_get (config, "node/region", self->name));
    char dflt [PATH_MAX];
    snprintf (dflt, sizeof dflt, "run/%s", self->name);
    self->datadir = strdup (zconfig_get (config, "node/datadir", dflt));
    self->heartbeat_ms = en_config_ms (config, "node/heartbeat", "1s");
    self->retry_ms = en_config_ms (config, "node/retry", "2s");
    self->clock_alert_ms = en_config_ms (config, "node/clock_alert", "30s");
    self->clock = en_clock_new ("broker", self->clock_alert_ms);
    self->replies = zlistx_new ();
    zlistx_set_destructor (self->replies, s_msg_destroy);
    self->notices = zlistx_new ();
    zlistx_set_destructor (self->notices, (zlistx_destructor_fn *) zstr_free);
    self->poller = zpoller_new (NULL);
    return self;
}

//  Our name, data directory and keys
static int
s_node_identity (en_node_t *self, en_error_t *error)
{
    if (!en_name_valid (self->name) || !en_name_valid (self->region))
        return en_error_set (error, EN_ERR_INVALID, "node/name and node/region must be names of [a-z0-9-]");
    if (en_mkdir_p (self->datadir, 0700))
        return en_error_set (error, EN_ERR_INTERNAL, "cannot create data directory %s", self->datadir);
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/keys", self->datadir);
    self->cert = en_keys_load_secret (path, self->name, error);
    if (!self->cert)
        return -1;
    self->signer = en_signer_load (path, self->name, error);
    if (!self->signer)
        return -1;
    return 0;
}

//  The broker's keys: inline (public_key + sign_key), or its public cert.
//  Its CURVE key into *curve_key (freed by the caller).
static int
s_node_broker_keys (en_node_t *self, zconfig_t *config, char **curve_key, en_error_t *error)
{
    const char *key = zconfig_get (config, "broker/public_key", NULL);
    if (key) {
        *curve_key = strdup (key);
        const char *sign = zconfig_get (config, "broker/sign_key", "");
        size_t size = 0;
        if (strlen (sign) != 64 || sodium_hex2bin (self->broker_sign_key, 32, sign, 64, NULL, &size, NULL)
        ||  size != 32)
            return en_error_set (error, EN_ERR_INVALID, "with broker/public_key, broker/sign_key must be the "
                                 "broker's Ed25519 public key (64 hex characters, 'sign-key' in its certificate)");
    }
    else {
        char dflt [PATH_MAX];
        snprintf (dflt, sizeof dflt, "%s/keys/broker.cert", self->datadir);
        const char *cert_path = zconfig_get (config, "broker/cert", dflt);
        zcert_t *broker = en_keys_load_public (cert_path, error);
        if (!broker)
            return -1;
        *curve_key = strdup (zcert_public_txt (broker));
        int rc = en_keys_sign_key (broker, self->broker_sign_key);
        zcert_destroy (&broker);
        if (rc)
            return en_error_set (error, EN_ERR_INVALID, "broker certificate %s has no sign-key (the broker needs "
                                 "new keys from 'expertnet keygen')", cert_path);
    }
    if (strlen (*curve_key) != 40)
        return en_error_set (error, EN_ERR_INVALID, "broker public key must be 40 characters of Z85");
    return 0;
}

//  The link to the broker: made here, connected once the node is ready
static int
s_node_link (en_node_t *self, zconfig_t *config, en_error_t *error)
{
    char *broker_key = NULL;
    if (s_node_broker_keys (self, config, &broker_key, error)) {
        free (broker_key);
        return -1;
    }
    en_link_actions_t actions = { .drain = s_link_read, .changed = s_link_changed };
    self->link = en_link_new ("broker", self->name, self->cert, self->signer, self->poller, &actions, self);
    en_link_set_server (self->link, zconfig_get (config, "broker/endpoint", "tcp://127.0.0.1:7700"), broker_key);
    free (broker_key);
    en_link_set_greeting (self->link, "HELLO", json_pack ("{s:s, s:s, s:s}", "node", self->name,
                                                          "region", self->region, "version", EXPERTNET_VERSION));
    //  (No offset told in HELLO: what we measured may be of a broker
    //  process that is gone; the WELCOME measures afresh)
    en_link_set_clock (self->link, self->clock);
    s_link_timing (self);
    return 0;
}

//  The store (a damaged or lost one is refused, as at the broker), the
//  access log's anchoring and a resubmission left pending
static int
s_node_store (en_node_t *self, zconfig_t *config, en_error_t *error)
{
    char path [PATH_MAX], marker [PATH_MAX];
    snprintf (path, sizeof path, "%s/node.db", self->datadir);
    snprintf (marker, sizeof marker, "%s/store.id", self->datadir);
    bool new_store = en_config_bool (config, "node/new_store", false);
    if (en_db_store_check (path, marker, new_store, error))
        return -1;
    self->store = en_nstore_new (path, error);
    if (!self->store
    ||  en_db_store_mark (en_nstore_db (self->store), path, marker, new_store, error))
        return -1;
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
    return 0;
}

//  The vault, the PII guard and what it knows, the accounts' settings
static int
s_node_privacy (en_node_t *self, zconfig_t *config, en_error_t *error)
{
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/keys", self->datadir);
    self->vault = en_vault_new (path, error);
    if (!self->vault)
        return -1;
    self->pii = en_pii_new ();
    const char *names = zconfig_get (config, "node/pii_names", NULL);
    if (names && en_pii_load_names (self->pii, names))
        return en_error_set (error, EN_ERR_NOT_FOUND, "cannot read the client names list %s (node/pii_names)", names);
    if (en_node_guard_register_names (self))
        return en_error_set (error, EN_ERR_INTERNAL, "cannot read the case register (data key missing or wrong?)");
    if (en_node_accounts_config (self, config, error))
        return -1;
    self->audit_retention_ms = en_config_ms (config, "node/audit_retention", "1827d");
    if (self->audit_retention_ms < 86400LL * 1000) {
        zsys_warning ("node/audit_retention below one day is not allowed; keeping 1827d");
        self->audit_retention_ms = en_duration_ms ("1827d");
    }
    return 0;
}

//  control.sock and notify.sock, for this user only
static int
s_node_sockets (en_node_t *self, en_error_t *error)
{
    mode_t old = umask (0077);
    self->control = zsock_new (ZMQ_ROUTER);
    zsock_set_linger (self->control, 0);
    int rc = zsock_bind (self->control, "ipc://%s/control.sock", self->datadir);
    self->notify = zsock_new (ZMQ_PUB);
    zsock_set_linger (self->notify, 0);
    if (rc == 0)
        rc = zsock_bind (self->notify, "ipc://%s/notify.sock", self->datadir);
    umask (old);
    if (rc < 0)
        return en_error_set (error, EN_ERR_INTERNAL, "cannot bind sockets in %s: %s", self->datadir,
                             zmq_strerror (zmq_errno ()));
    zpoller_add (self->poller, self->control);
    return 0;
}

//  The portal, when the config has a web section (address = off: none).
//  It failing to listen is logged and the node runs on.
static int
s_node_portal (en_node_t *self, zconfig_t *config, en_error_t *error)
{
    const char *web_address = zconfig_get (config, "web/address", "off");
    if (!zconfig_locate (config, "web") || streq (web_address, "off"))
        return 0;
    char endpoint [128];
    snprintf (endpoint, sizeof endpoint, "inproc://en-node-portal-%p", (void *) self);
    self->portal_control = zsock_new (ZMQ_ROUTER);
    zsock_set_linger (self->portal_control, 0);
    if (zsock_bind (self->portal_control, "%s", endpoint) < 0)
        return en_error_set (error, EN_ERR_INTERNAL, "cannot bind %s", endpoint);
    zpoller_add (self->poller, self->portal_control);
    en_error_t web_err = { 0 };
    self->portal = en_portal_new (config, endpoint, self->name, self->region, &web_err);
    if (!self->portal)
        zsys_error ("portal not started: %s", web_err.reason);
    return 0;
}

en_node_t *
en_node_new (zconfig_t *config, en_error_t *error)
{
    en_node_t *self = s_node_alloc (config);
    if (s_node_identity (self, error)
    ||  s_node_link (self, config, error)
    ||  s_node_store (self, config, error)
    ||  s_node_privacy (self, config, error)
    ||  en_node_notify_setup (self, config, error)
    ||  s_node_sockets (self, error)
    ||  s_node_portal (self, config, error)) {
        en_node_destroy (&self);
        return NULL;
    }
    en_link_connect (self->link);
    return self;
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
        en_node_notify_stop (self);
        en_notify_config_destroy (&self->notify_config);
        json_decref (self->staff);
        json_decref (self->network_tags);
        en_link_destroy (&self->link);      //  (its socket leaves the poller)
        zpoller_destroy (&self->poller);
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
        free (self->totp_required);
        free (self);
        *self_p = NULL;
    }
}

static int
s_send (en_node_t *self, en_msg_t *msg)
{
    return en_link_send (self->link, msg);
}

static int
s_send_outbox (const char *dest, en_msg_t *msg, void *arg)
{
    en_node_t *self = (en_node_t *) arg;
    return en_link_up (self->link, en_now_ms ()) ? s_send (self, msg) : -1;
}

static void
s_flush (en_node_t *self)
{
    if (en_link_up (self->link, en_now_ms ()))
        en_outbox_flush (en_nstore_outbox (self->store), "broker", self->retry_ms, 2000,
                         s_send_outbox, self);
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

void
en_node_publish (en_node_t *self, const char *kind, const char *id, json_t *event)
{
    s_publish (self, kind, id, event);
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

//  The broker's verdict on an expert's answer (ACCEPT, DECLINE, ADVICE),
//  told on the offer's topic: `expertnet expert accept` (and decline,
//  advise) waits for it there.
static void
s_answer_result (en_node_t *self, const char *ref)
{
    char *offer = en_nstore_offer_of_answer (self->store, ref);
    json_t *row = offer ? en_nstore_offer (self->store, offer) : NULL;
    if (row) {
        json_t *event = json_pack ("{s:s, s:{s:s, s:s?, s:s?, s:s?}}", "type", "answer", "offer",
                                   "offer", offer, "expert", en_json_str (row, "expert"),
                                   "answer_status", en_json_str (row, "answer_status"),
                                   "answer_error", en_json_str (row, "answer_error"));
        s_publish (self, "offer", offer, event);
        json_decref (event);
    }
    json_decref (row);
    free (offer);
}

//  The broker's verdict on one of our messages, recorded; for a SUBMIT
//  also told on the request's topic, as a STATUS is (`expertnet request
//  submit` waits for it there instead of asking the node again and again),
//  and for an expert's answer on the offer's.
static void
s_message_result (en_node_t *self, const char *ref, int code, const char *reason)
{
    en_nstore_message_result (self->store, ref, code, reason);
    char *request = en_nstore_request_of_submit (self->store, ref);
    if (!request) {
        s_answer_result (self, ref);
        return;
    }
    json_t *row = en_nstore_request (self->store, request);
    json_t *event = json_pack ("{s:s, s:{s:s, s:s, s:s, s:I, s:s?}}", "type", "status", "status",
                               "request", request, "state", en_json_str (row, "state") ?: "submitted",
                               "event", code ? "rejected" : "submitted", "at", (json_int_t) en_now_ms (),
                               "detail", code ? reason : NULL);
    s_publish (self, "request", request, event);
    json_decref (event);
    json_decref (row);
    free (request);
}

//  An expert accepted one of our requests: if the request has a dossier,
//  seal it to that expert's box key (crypto_box_seal: only the holder of
//  the expert's secret key can open it; not the broker, not another
//  expert) and queue it, once per accepting expert (a request with
//  several places has several). 0, or -1 when it could not be queued.
static int
s_release_dossier (en_node_t *self, json_t *status)
{
    const char *request = en_json_str (status, "request");
    //  Once per place: each accepting expert of a team gets it sealed to them
    int64_t place = en_json_int (status, "place", 1);
    char *stored = en_nstore_request_dossier (self->store, request, place);
    if (!stored)
        return 0;                           //  no dossier, or already released to this expert
    const char *box_key = en_json_str (status, "box_key");
    char *text = en_vault_unseal (self->vault, stored);
    free (stored);
    if (!text)
        return -1;
    char *b64 = en_node_seal_to (box_key, text);
    sodium_memzero (text, strlen (text));
    free (text);
    if (!b64) {
        zsys_warning ("request %s: accepting expert has no box key; dossier not released", request);
        return 0;
    }
    en_error_t error = { 0 };
    json_t *body = json_pack ("{s:s, s:s}", "request", request, "sealed", b64);
    if (json_object_get (status, "place"))
        json_object_set_new (body, "place", json_integer (place));
    char *msg_id = en_node_queue (self, "DOSSIER", body, self->name, &error);
    free (b64);
    if (!msg_id) {
        zsys_error ("request %s: dossier not queued: %s", request, error.reason);
        return -1;
    }
    en_node_audit (self, "dossier.release", request, self->name, en_json_str (status, "expert"), "export", "ok",
             "sealed to the accepting expert");
    int rc = en_nstore_request_dossier_sent (self->store, request, place, msg_id);
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

int
en_node_invalid (en_error_t *error)
{
    return s_invalid (error);
}

int
en_node_store_failed (en_error_t *error)
{
    return s_store_failed (error);
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
    int queued = en_node_notify_queue (self, en_json_str (notice, "kind"), en_json_str (notice, "offer"),
                                 en_json_str (notice, "request"), en_json_str (notice, "expert"),
                                 en_json_str (notice, "urgency"), en_json_int (notice, "deadline", 0));
    json_decref (notice);
    if (queued)
        return s_store_failed (error);
    json_t *event = json_pack ("{s:s, s:O}", "type", "offer", "offer", body);
    s_publish (self, "expert", en_json_str (body, "expert"), event);
    json_decref (event);
    en_node_audit (self, "offer.receive", en_json_str (body, "request_id"), en_msg_sender (msg),
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
    en_error_t stored = { 0 };
    int rc = en_nstore_request_status (self->store, body, &stored);
    if (rc && stored.code != EN_ERR_NOT_FOUND)
        return s_store_failed (error);
    if (rc)                                 //  not ours (or lost): acknowledged
        zsys_warning ("status for unknown request %s ignored", request);
    if (rc == 0 && streq (en_json_str (body, "state"), "accepted") && s_release_dossier (self, body))
        return s_store_failed (error);
    if (rc == 0 && en_node_followup_status (self, body))
        return s_store_failed (error);
    //  Staff hear of advice and of a request becoming a hiaat (the
    //  event, not the state: an operator's note on a hiaat is no news)
    const char *event_name = en_json_str (body, "event");
    const char *staff_kind = en_json_str (body, "advice") ? "advies"
                           : event_name && streq (event_name, "hiaat") ? "hiaat" : NULL;
    if (rc == 0 && staff_kind) {
        json_t *row = en_nstore_request (self->store, request);
        int queued = en_node_notify_queue (self, staff_kind, NULL, request, NULL,
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
    en_error_t stored = { 0 };
    int rc = dossier ? en_nstore_offer_dossier_put (self->store, request, expert, sealed, &stored)
                     : en_nstore_offer_reply_put (self->store, request, expert, sealed, &stored);
    if (rc)                                 //  404: no accepted offer of that expert here
        return stored.code == EN_ERR_NOT_FOUND ? s_invalid (error) : s_store_failed (error);
    en_node_audit (self, dossier ? "dossier.receive" : "reply.receive", request, en_msg_sender (msg), expert,
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
    { "MEMBERS",  en_node_convo_on_members },
    { "MESSAGE",  en_node_convo_on_message },
    { "RECEIPT",  en_node_convo_on_receipt },
    { "REMIND",   en_node_followup_remind },
    { "BERAAD",   en_node_followup_beraad },
    { NULL, NULL }
};

//  The inbox's handler (en_inbox_handler_fn): the table above; any other
//  reliable command is not for a node.
int
en_node_handle_reliable (en_msg_t *msg, void *arg, en_error_t *error)
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
        en_node_audit (self, "broker.store-changed", NULL, self->name, NULL, "update", "error", store_id);
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
        en_error_t error = { 0 };
        const char *id = en_json_str (request, "id");
        char *msg_id = en_node_queue (self, "SUBMIT", json_pack ("{s:O}", "request", json_object_get (request, "summary")),
                                      self->name, &error);
        if (!msg_id) {
            zsys_warning ("request %s not re-sent to the broker's new store: %s", id, error.reason);
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

//  The link to the broker: WELCOME opens the session (and the link, on
//  its way up, has the experts and the outbox sent again: s_link_changed)
static void
s_link_welcome (en_node_t *self, json_t *body)
{
    if (en_link_state (self->link) != EN_LINK_UP)
        zsys_info ("connected to broker %s", en_json_str (body, "broker") ?: "?");
    s_broker_store (self, en_json_str (body, "store"));
    en_link_welcome (self->link, en_now_ms ());
}

//  The link to the broker: a connection-level ERROR (not enrolled, HELLO
//  needed): keep every queued message and say HELLO again until welcomed
static void
s_link_refused (en_node_t *self, int code, const char *reason)
{
    if (code == EN_ERR_NO_SESSION)
        zsys_info ("broker has no session for this node (restarted?); saying HELLO again");
    en_link_refused (self->link, code, reason);     //  a refusal is logged once (s_link_changed)
}

//  --------------------------------------------------------------------
//  What the link to the broker says (unreliable commands), each taken
//  once as it comes

static void
s_on_welcome (en_node_t *self, en_msg_t *msg)
{
    s_link_welcome (self, en_msg_body (msg));
}

//  PONG: nothing more; s_admitted measured the broker's clock with it
static void
s_on_pong (en_node_t *self, en_msg_t *msg)
{
}

//  What the network holds, for the portal's request form: kept if every
//  entry is a tag name with a true/false
static void
s_on_tags (en_node_t *self, en_msg_t *msg)
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

//  An ACK names one message (ref) or, cumulative, many (refs)
static void
s_on_ack (en_node_t *self, en_msg_t *msg)
{
    en_error_t error = { 0 };
    json_t *refs = en_msg_ack_refs (msg, &error);
    if (!refs)
        zsys_warning ("ignored ACK %s from broker: %s", en_msg_id (msg), error.reason);
    json_t *acked = refs ? en_outbox_ack_all (en_nstore_outbox (self->store), "broker", refs, NULL) : NULL;
    size_t index;
    json_t *item;
    json_array_foreach (acked, index, item) {
        const char *ref = json_string_value (item);
        s_message_result (self, ref, 0, NULL);
        if (self->held_ref [0] && (streq (ref, self->held_ref)
        ||  en_outbox_depth (en_nstore_outbox (self->store), "broker") == 0)) {
            zsys_info ("broker accepts the messages it refused for their timestamp");
            self->held_ref [0] = 0;
        }
    }
    json_decref (acked);
    json_decref (refs);
}

static void
s_on_error (en_node_t *self, en_msg_t *msg)
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
            zsys_warning ("broker refused %s: %d %s; kept, and sent again until the clocks "
                          "agree (offset to the broker %+.1f s)", ref, code, reason,
                          en_clock_offset (self->clock) / 1000.0);
            snprintf (self->held_ref, sizeof self->held_ref, "%s", ref);
        }
    }
    else {
        zsys_warning ("broker refused %s: %d %s", ref, code, reason);
        if (en_outbox_ack (en_nstore_outbox (self->store), "broker", ref, NULL) == 0)
            s_message_result (self, ref, code, reason);
    }
}

typedef void (s_unreliable_fn) (en_node_t *self, en_msg_t *msg);

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
//  vouched: msg came in a BATCH whose signature verified (its own
//  provenance), so only its time is judged.
static bool
s_admitted (en_node_t *self, en_msg_t *msg, bool vouched)
{
    en_error_t error = { 0 };
    int64_t received = en_now_ms ();
    //  Signed by the broker, or a transport command (ACK, PONG) on our
    //  CURVE connection to the broker's server key
    if (!vouched && !en_msg_authentic (msg, self->broker_sign_key))
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
    en_msg_t *answer = en_inbox_receive (self->inbox, msg, NULL, en_node_handle_reliable, self, &error);
    if (error.code) {
        s_publish_forget (self, notices);
        zsys_warning ("refused %s %s from broker: %d %s", en_msg_command (msg), en_msg_id (msg),
                      error.code, error.reason);
    }
    zlistx_add_end (self->replies, answer);
}

//  A BATCH whose signature verified: each of its messages received as if
//  it came alone (its time judged, exactly once, answered in the batch's
//  cumulative ACK). A malformed BATCH is dropped whole, unanswered, like
//  an undecodable message: the broker sends its messages again. Returns
//  how many messages it held.
static int
s_unbatch (en_node_t *self, en_msg_t *batch)
{
    en_error_t error = { 0 };
    zlistx_t *msgs = en_msg_unbatch (batch, &error);
    if (!msgs) {
        zsys_warning ("undecodable BATCH %s from broker: %d %s", en_msg_id (batch), error.code, error.reason);
        return 1;
    }
    int count = (int) zlistx_size (msgs);
    for (en_msg_t *msg = (en_msg_t *) zlistx_first (msgs); msg; msg = (en_msg_t *) zlistx_next (msgs))
        if (s_admitted (self, msg, true))
            s_receive (self, msg);
    zlistx_destroy (&msgs);
    return count;
}

//  One message from the broker; returns how many it held (a BATCH more
//  than one), for the batch's budget.
static int
s_handle_broker (en_node_t *self, zmsg_t *raw)
{
    en_error_t error;
    en_msg_t *msg = en_msg_decode (raw, &error);
    if (!msg) {
        zsys_warning ("undecodable message from broker: %d %s", error.code, error.reason);
        return 1;
    }
    int count = 1;
    if (streq (en_msg_command (msg), "BATCH")) {
        if (s_admitted (self, msg, false)) {
            en_link_heard (self->link, en_now_ms ());
            count = s_unbatch (self, msg);
        }
    }
    else
    if (s_admitted (self, msg, false)) {
        en_link_heard (self->link, en_now_ms ());
        const char *command = en_msg_command (msg);
        const s_unreliable_t *entry = s_unreliable (command);
        if (en_msg_command_reliable (command))
            s_receive (self, msg);
        else
        if (entry)
            entry->handler (self, msg);
    }
    en_msg_destroy (&msg);
    return count;
}

static void
s_process_batch (en_node_t *self)
{
    en_db_t *db = en_nstore_db (self->store);
    if (en_db_begin (db))
        return;
    //  512 messages at most, those in a BATCH counted one by one
    for (int count = 0; count < 512; ) {
        if (!(zsock_events (en_link_sock (self->link)) & ZMQ_POLLIN))
            break;
        zmsg_t *raw = zmsg_recv (en_link_sock (self->link));
        if (!raw)
            break;
        count += s_handle_broker (self, raw);
        zmsg_destroy (&raw);
    }
    if (en_db_commit (db)) {
        zsys_error ("commit failed: %s", en_db_error (db));
        en_db_rollback (db);
        zlistx_purge (self->replies);
        zlistx_purge (self->notices);
        return;
    }
    s_publish_committed (self);
    en_inbox_coalesce (self->inbox, self->replies);
    for (en_msg_t *reply = (en_msg_t *) zlistx_first (self->replies); reply;
         reply = (en_msg_t *) zlistx_next (self->replies))
        s_send (self, reply);
    zlistx_purge (self->replies);
    s_flush (self);
}

//  One control request (`expertnet`, the portal), answered by the verbs
//  (en_node_verbs.c); what a verb queued for the broker goes out at once.
static void
s_handle_control (en_node_t *self, zsock_t *sock)
{
    if (en_node_verbs_handle (self, sock))
        s_flush (self);
}

void
en_node_reload (en_node_t *self, zconfig_t *config)
{
    self->heartbeat_ms = en_config_ms (config, "node/heartbeat", "1s");
    self->retry_ms = en_config_ms (config, "node/retry", "2s");
    self->clock_alert_ms = en_config_ms (config, "node/clock_alert", "30s");
    en_clock_set_alert (self->clock, self->clock_alert_ms);
    s_link_timing (self);
    en_error_t error = { 0 };
    if (en_node_accounts_config (self, config, &error))
        zsys_warning ("%s; keeping the account settings", error.reason);
    const char *endpoint = zconfig_get (config, "broker/endpoint", "tcp://127.0.0.1:7700");
    if (!streq (endpoint, en_link_endpoint (self->link))) {
        en_link_set_server (self->link, endpoint, NULL);
        en_link_connect (self->link);
    }
    //  Notification settings: a new sender with the new settings
    en_error_clear (&error);
    en_notify_config_t *notify = en_notify_config_new (config, self->region, &error);
    if (notify) {
        en_node_notify_stop (self);
        en_notify_config_destroy (&self->notify_config);
        json_decref (self->staff);
        self->notify_config = notify;
        self->staff = NULL;
        if (en_node_notify_start (self, config, &error))
            zsys_error ("notifications: %s", error.reason);
    }
    else
        zsys_error ("notify settings not reloaded: %s", error.reason);
    zsys_info ("configuration reloaded: broker %s, heartbeat %lldms", en_link_endpoint (self->link),
               (long long) self->heartbeat_ms);
}

//  --------------------------------------------------------------------
//  The loop

//  What one of our sockets holds
static void
s_node_handle (en_node_t *self, zsock_t *which)
{
    if (!which)
        return;
    if (which == en_link_sock (self->link))
        s_process_batch (self);
    else
    if (which == self->control || which == self->portal_control)
        s_handle_control (self, which);
    else
    if (self->sender && which == en_notify_sender_sock (self->sender))
        en_node_notify_result (self);
}

//  Our clock is the one we started with (en_clock): say once that the
//  system clock moved away from it
static void
s_node_drift (en_node_t *self)
{
    en_clock_drift_warn (self->clock_alert_ms, &self->drift_logged, "node", "timers and timestamps");
}

//  The timers, once per turn of the loop
static void
s_node_timers (en_node_t *self, int64_t now)
{
    en_node_notify_tick (self, now);
    en_link_tick (self->link, now);
    bool up = en_link_up (self->link, now);
    if (now >= self->next_flush)
        s_node_drift (self);
    if (up && now >= self->next_flush) {
        s_flush (self);
        self->next_flush = now + self->retry_ms / 2;
    }
    if (up && self->resubmit_at && now >= self->resubmit_at)
        s_resubmit (self);
    if (now >= self->next_anchor) {
        s_anchor (self);
        s_flush (self);
        self->next_anchor = now + self->anchor_ms;
    }
    if (now >= self->next_prune) {
        en_seen_prune (en_nstore_db (self->store), now - 30LL * 86400 * 1000);
        en_audit_prune (en_nstore_db (self->store), now - self->audit_retention_ms);
        self->next_prune = now + 3600 * 1000;
    }
}

int
en_node_run (en_node_t *self)
{
    zsys_info ("node %s (region %s) ready; broker %s", self->name, self->region, en_link_endpoint (self->link));
    self->next_flush = 0;
    self->next_prune = 0;
    while (!zsys_interrupted) {
        zsock_t *which = (zsock_t *) zpoller_wait (self->poller, (int) MIN (self->heartbeat_ms / 4, 250));
        if (en_daemon_reload_requested ())
            return EN_DAEMON_RELOAD;
        if (zsys_interrupted)
            break;
        s_node_handle (self, which);
        s_node_timers (self, en_now_ms ());
    }
    //  A last head for the broker: queued on disk, sent now if connected
    s_anchor (self);
    s_flush (self);
    zsys_info ("node %s stopping", self->name);
    return 0;
}
