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
    ACKs go out only after COMMIT, as in the broker.

    Privacy. Identifying data lives only here, in the case register,
    sealed with the vault's data key; a case is known outside the node
    only by its pseudonym (en_vault). Every outgoing message body passes
    the PII guard (en_pii) in s_queue, the one place messages are queued:
    a refusal names the field and the kind of data and nothing is
    queued. The guard knows this region's client names from the register.
    Who did what to which case goes into the hash-chained access log
    (en_audit).
*/
#include "en_node.h"
#include "en_portal.h"
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
    zlistx_t *replies;          //  ACKs of the current batch (en_msg_t)
    zlistx_t *notices;          //  notifications of the current batch ("topic\0json")
    bool connected;             //  broker answered WELCOME, still alive
    bool refusal_logged;        //  a connection-level refusal was logged
    int64_t unverified_logged;  //  ms of the last "ignored unverifiable message" line
    int64_t last_rx;            //  ms we last heard from the broker
    int64_t last_tx;            //  ms we last sent to the broker
    int64_t last_hello;         //  ms we last sent HELLO
    int64_t connect_at;         //  ms the current socket was created
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

//  Teach the guard a client's names: the full name and each part of at
//  least three letters that is not a particle (de, van, ...).
static void
s_guard_names (en_node_t *self, json_t *identity)
{
    const char *name = en_json_str (identity, "name");
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
    snprintf (path, sizeof path, "%s/node.db", self->datadir);
    self->store = en_nstore_new (path, err, errlen);
    if (!self->store)
        goto failed;
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
    self->audit_retention_ms = en_config_ms (config, "node/audit_retention", "1827d");
    if (self->audit_retention_ms < 86400LL * 1000) {
        zsys_warning ("node/audit_retention below one day is not allowed; keeping 1827d");
        self->audit_retention_ms = en_duration_ms ("1827d");
    }

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
        zpoller_destroy (&self->poller);
        zsock_destroy (&self->dealer);
        zsock_destroy (&self->control);
        zsock_destroy (&self->notify);
        zcert_destroy (&self->cert);
        en_signer_destroy (&self->signer);
        en_nstore_destroy (&self->store);
        en_vault_destroy (&self->vault);
        en_pii_destroy (&self->pii);
        zlistx_destroy (&self->replies);
        zlistx_destroy (&self->notices);
        free (self->name);
        free (self->region);
        free (self->datadir);
        free (self->endpoint);
        free (self->broker_key);
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
    snprintf (err, errlen, "field '%s' contains %s; nothing was sent (remove it; the summary must not "
              "identify the child)", finding.field, en_pii_kind_text (finding.kind));
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
    char *id = s_queue (self, "AVAILABILITY", json_pack ("{s:o}", "experts", en_nstore_experts (self->store)),
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
    unsigned char key [crypto_box_PUBLICKEYBYTES];
    size_t size = 0;
    if (!box_key || sodium_hex2bin (key, sizeof key, box_key, strlen (box_key), NULL, &size, NULL)
    ||  size != sizeof key) {
        zsys_warning ("request %s: accepting expert has no box key; dossier not released", request);
        free (stored);
        return 0;
    }
    char *text = en_vault_unseal (self->vault, stored);
    free (stored);
    if (!text)
        return -1;
    size_t length = strlen (text);
    unsigned char *sealed = (unsigned char *) malloc (length + crypto_box_SEALBYTES);
    crypto_box_seal (sealed, (const unsigned char *) text, length, key);
    sodium_memzero (text, length);
    free (text);
    size_t b64_size = sodium_base64_ENCODED_LEN (length + crypto_box_SEALBYTES, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = (char *) malloc (b64_size);
    sodium_bin2base64 (b64, b64_size, sealed, length + crypto_box_SEALBYTES, sodium_base64_VARIANT_ORIGINAL);
    free (sealed);
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

//  Handle one reliable message from the broker (exactly once). Returns 0,
//  EN_ERR_INVALID for a message we can never process, or EN_ERR_INTERNAL
//  when our store failed (the broker then sends it again).
static int
s_handle_reliable (en_node_t *self, en_msg_t *msg)
{
    const char *command = en_msg_command (msg);
    json_t *body = en_msg_body (msg);
    if (streq (command, "OFFER")) {
        if (!en_id_valid (en_json_str (body, "offer")) || !en_name_valid (en_json_str (body, "expert"))
        ||  !en_id_valid (en_json_str (body, "request_id")))
            return EN_ERR_INVALID;
        if (en_nstore_offer_insert (self->store, body))
            return EN_ERR_INTERNAL;
        json_t *event = json_pack ("{s:s, s:O}", "type", "offer", "offer", body);
        s_publish (self, "expert", en_json_str (body, "expert"), event);
        json_decref (event);
        s_audit (self, "offer.receive", en_json_str (body, "request_id"), en_msg_sender (msg),
                 en_json_str (body, "expert"), "receive", "ok", en_json_str (body, "offer"));
        zsys_info ("offer %s for expert %s", en_json_str (body, "offer"), en_json_str (body, "expert"));
    }
    else
    if (streq (command, "WITHDRAW")) {
        const char *offer = en_json_str (body, "offer");
        if (!en_id_valid (offer))
            return EN_ERR_INVALID;
        if (en_nstore_offer_withdrawn (self->store, offer, en_json_str (body, "reason")))
            return EN_ERR_INTERNAL;
        json_t *event = json_pack ("{s:s, s:O}", "type", "withdraw", "offer", body);
        s_publish (self, "expert", en_json_str (body, "expert"), event);
        json_decref (event);
    }
    else
    if (streq (command, "STATUS")) {
        const char *request = en_json_str (body, "request");
        if (!en_id_valid (request) || !en_json_str (body, "state"))
            return EN_ERR_INVALID;
        int rc = en_nstore_request_status (self->store, body);
        if (rc < 0)
            return EN_ERR_INTERNAL;
        if (rc == 1)
            zsys_warning ("status for unknown request %s ignored", request);
        if (rc == 0 && streq (en_json_str (body, "state"), "accepted") && s_release_dossier (self, body))
            return EN_ERR_INTERNAL;
        json_t *event = json_pack ("{s:s, s:O}", "type", "status", "status", body);
        s_publish (self, "request", request, event);
        json_decref (event);
    }
    else
    if (streq (command, "DOSSIER")) {
        const char *request = en_json_str (body, "request");
        const char *expert = en_json_str (body, "expert");
        const char *sealed = en_json_str (body, "sealed");
        if (!en_id_valid (request) || !en_name_valid (expert) || !sealed)
            return EN_ERR_INVALID;
        int rc = en_nstore_offer_dossier_put (self->store, request, expert, sealed);
        if (rc < 0)
            return EN_ERR_INTERNAL;
        if (rc == 1)
            return EN_ERR_INVALID;          //  no accepted offer of that expert here
        s_audit (self, "dossier.receive", request, en_msg_sender (msg), expert, "receive", "ok", NULL);
        json_t *event = json_pack ("{s:s, s:{s:s, s:s}}", "type", "dossier", "offer",
                                   "request_id", request, "expert", expert);
        s_publish (self, "expert", expert, event);
        json_decref (event);
    }
    else
        return EN_ERR_INVALID;
    return 0;
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
    //  Provenance: only what the broker signed, and no replays. No answer:
    //  the cause is usually here (a stale broker certificate, a wrong
    //  clock), so the broker keeps the message and resends it until the
    //  operator has fixed it; a final ERROR would make it drop the message.
    bool verified = en_msg_verify (msg, self->broker_sign_key);
    //  A resend of a reliable message already processed is answered from
    //  the seen table however old it is (its first ACK may have been lost)
    bool resend = false;
    if (verified && en_msg_command_reliable (en_msg_command (msg))) {
        bool same = false;
        resend = en_seen_lookup (en_nstore_db (self->store), msg, NULL, NULL, 0, &same) && same;
    }
    if (!verified || (!resend && en_msg_check_time (msg, en_now_ms (), &error))) {
        if (!verified)
            en_error_set (&error, EN_ERR_FORBIDDEN, "signature does not verify with the broker's key "
                          "(is keys/broker.cert current?)");
        int64_t now = en_now_ms ();
        if (now - self->unverified_logged >= 10000) {
            zsys_warning ("ignored %s %s from broker: %s", en_msg_command (msg), en_msg_id (msg), error.reason);
            self->unverified_logged = now;
        }
        en_msg_destroy (&msg);
        return;
    }
    self->last_rx = en_now_ms ();
    const char *command = en_msg_command (msg);
    json_t *body = en_msg_body (msg);
    const char *ref = en_json_str (body, "ref");
    if (streq (command, "WELCOME")) {
        if (!self->connected)
            zsys_info ("connected to broker %s", en_json_str (body, "broker") ?: "?");
        self->connected = true;
        self->refusal_logged = false;
        *welcomed = true;
    }
    else
    if (streq (command, "PONG"))
        ;
    else
    if (streq (command, "ACK")) {
        if (ref && en_outbox_ack (en_nstore_outbox (self->store), "broker", ref) == 1)
            en_nstore_message_result (self->store, ref, 0, NULL);
    }
    else
    if (streq (command, "ERROR")) {
        int code = (int) en_json_int (body, "code", EN_ERR_INTERNAL);
        const char *reason = en_json_str (body, "reason") ?: "";
        if (!ref || !*ref) {
            //  Connection-level (not enrolled, HELLO needed): keep every
            //  queued message and say HELLO again until welcomed
            if (code == EN_ERR_NO_SESSION)
                zsys_info ("broker has no session for this node (restarted?); saying HELLO again");
            else {
                if (self->connected || !self->refusal_logged)
                    zsys_warning ("broker refuses this node: %d %s", code, reason);
                self->refusal_logged = true;
            }
            self->connected = false;
        }
        else {
            zsys_warning ("broker refused %s: %d %s", ref, code, reason);
            //  Final unless the broker could not store it (500: resend)
            if (code != EN_ERR_INTERNAL
            &&  en_outbox_ack (en_nstore_outbox (self->store), "broker", ref) == 1)
                en_nstore_message_result (self->store, ref, code, reason);
        }
    }
    else
    if (en_msg_command_reliable (command)) {
        int code = 0;
        bool same = true;
        bool seen = en_seen_lookup (en_nstore_db (self->store), msg, &code, NULL, 0, &same);
        if (seen && !same) {
            zsys_warning ("refused %s %s from broker: id reused for different content", en_msg_command (msg),
                          en_msg_id (msg));
            code = EN_ERR_CONFLICT;
        }
        else
        if (!seen) {
            en_db_t *db = en_nstore_db (self->store);
            en_db_savepoint (db);
            size_t notices = zlistx_size (self->notices);
            code = s_handle_reliable (self, msg);
            if (code) {
                en_db_rollback_to (db);
                s_publish_forget (self, notices);
            }
            else
                en_db_release (db);
            if (code != EN_ERR_INTERNAL)
                en_seen_put (db, msg, code, code ? "invalid message" : NULL);
            if (code)
                zsys_warning ("%s %s from broker not processed (%d)", en_msg_command (msg), en_msg_id (msg), code);
        }
        en_msg_t *reply = code
            ? en_msg_new ("ERROR", self->name, json_pack ("{s:s, s:i, s:s}", "ref", en_msg_id (msg), "code", code,
                                                          "reason", code == EN_ERR_INTERNAL ? "node store error"
                                                                  : code == EN_ERR_CONFLICT ? "message id already used for different content"
                                                                                            : "invalid message"))
            : en_msg_new ("ACK", self->name, json_pack ("{s:s}", "ref", en_msg_id (msg)));
        zlistx_add_end (self->replies, reply);
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
    en_db_begin (db);
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

//  Open the dossier of an offer with the key of the expert named in the
//  request (the CLI's --expert). Only the accepting expert's key opens it.
static json_t *
s_verb_dossier (en_node_t *self, json_t *args, int *code, char *err, size_t errlen)
{
    const char *offer_id = en_json_str (args, "offer");
    const char *expert = en_json_str (args, "expert");
    json_t *offer = offer_id ? en_nstore_offer (self->store, offer_id) : NULL;
    char *b64 = offer ? en_nstore_offer_dossier (self->store, offer_id) : NULL;
    json_t *keys = expert ? en_nstore_expert_key (self->store, expert) : NULL;
    char *secret_hex = keys ? en_vault_unseal (self->vault, en_json_str (keys, "box_secret")) : NULL;
    json_t *result = NULL;
    unsigned char public_key [crypto_box_PUBLICKEYBYTES], secret_key [crypto_box_SECRETKEYBYTES];
    size_t size = 0, sealed_size = 0;
    unsigned char *sealed = b64 ? (unsigned char *) malloc (strlen (b64)) : NULL;
    if (!offer || !b64) {
        *code = EN_ERR_NOT_FOUND;
        snprintf (err, errlen, "no dossier for offer '%s' at this node (yet)", offer_id ? offer_id : "");
    }
    else
    if (!secret_hex) {
        *code = EN_ERR_NOT_FOUND;
        snprintf (err, errlen, "no expert '%s' with a key at this node (give --expert)", expert ? expert : "");
    }
    else
    if (sodium_hex2bin (secret_key, sizeof secret_key, secret_hex, strlen (secret_hex), NULL, &size, NULL)
    ||  sodium_hex2bin (public_key, sizeof public_key, en_json_str (keys, "box_public"), 64, NULL, &size, NULL)
    ||  sodium_base642bin (sealed, strlen (b64), b64, strlen (b64), NULL, &sealed_size, NULL,
                           sodium_base64_VARIANT_ORIGINAL)
    ||  sealed_size < crypto_box_SEALBYTES) {
        *code = EN_ERR_INTERNAL;
        snprintf (err, errlen, "the dossier or the expert's key is damaged");
    }
    else {
        size_t length = sealed_size - crypto_box_SEALBYTES;
        char *text = (char *) malloc (length + 1);
        if (crypto_box_seal_open ((unsigned char *) text, sealed, sealed_size, public_key, secret_key) == 0) {
            text [length] = 0;
            result = json_pack ("{s:s, s:s, s:s}", "offer", offer_id, "expert", expert, "dossier", text);
            sodium_memzero (text, length);
        }
        else {
            *code = EN_ERR_FORBIDDEN;
            snprintf (err, errlen, "the dossier of '%s' is sealed to another expert; '%s' cannot open it",
                      offer_id, expert);
        }
        free (text);
        en_db_t *db = en_nstore_db (self->store);
        en_db_begin (db);
        s_audit (self, "dossier.read", en_json_str (offer, "request_id"), en_json_str (args, "_user"), expert,
                 "read", result ? "ok" : "refused", offer_id);
        en_db_commit (db);
    }
    sodium_memzero (secret_key, sizeof secret_key);
    if (secret_hex) {
        sodium_memzero (secret_hex, strlen (secret_hex));
        free (secret_hex);
    }
    free (sealed);
    free (b64);
    json_decref (keys);
    json_decref (offer);
    return result;
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
    json_t *expert = existing ? existing : json_pack ("{s:i, s:b}", "capacity", 1, "bovenregionaal", 0);
    json_object_del (fields, "box_key");       //  ours to make, not the caller's
    json_object_update (expert, fields);
    json_object_set_new (expert, "region", json_string (self->region));
    if (en_expert_validate (expert, err, errlen)) {
        *code = EN_ERR_INVALID;
        json_decref (expert);
        return NULL;
    }
    en_db_t *db = en_nstore_db (self->store);
    en_db_begin (db);
    if (!json_object_get (expert, "box_key") && s_expert_box_key (self, expert)) {
        en_db_rollback (db);
        *code = EN_ERR_INTERNAL;
        snprintf (err, errlen, "could not make the expert's key pair");
        json_decref (expert);
        return NULL;
    }
    if (en_nstore_expert_put (self->store, expert) || s_queue_availability (self) || en_db_commit (db)) {
        en_db_rollback (db);
        *code = EN_ERR_INTERNAL;
        snprintf (err, errlen, "could not store expert");
        json_decref (expert);
        return NULL;
    }
    s_flush (self);
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
        if (!en_vocab_has (fields, key) || !json_is_string (value) || strlen (json_string_value (value)) > 500) {
            *code = EN_ERR_INVALID;
            snprintf (err, errlen, "identifying field '%.40s' is not one of name, bsn, birth_date, address, "
                      "postcode, contact, school (text up to 500 bytes)", key);
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
    return en_audit_report (db);
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
    json_object_set_new (status, "version", json_string (EXPERTNET_VERSION));
    json_object_set_new (status, "pii_guard", en_pii_counts (self->pii));
    return status;
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
    if (streq (verb, "expert-add") || streq (verb, "expert-update"))
        result = s_verb_expert_put (self, args, streq (verb, "expert-update"), &code, err, sizeof err);
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
        snprintf (err, sizeof err, "unknown verb '%s'", verb);
    en_control_reply (sock, routing_id, result, code, result ? NULL : err);
    zframe_destroy (&routing_id);
    zstr_free (&verb);
    json_decref (args);
}

void
en_node_reload (en_node_t *self, zconfig_t *config)
{
    self->heartbeat_ms = en_config_ms (config, "node/heartbeat", "1s");
    self->retry_ms = en_config_ms (config, "node/retry", "2s");
    const char *endpoint = zconfig_get (config, "broker/endpoint", "tcp://127.0.0.1:7700");
    if (!streq (endpoint, self->endpoint)) {
        free (self->endpoint);
        self->endpoint = strdup (endpoint);
        s_connect (self);
    }
    zsys_info ("configuration reloaded: broker %s, heartbeat %lldms", self->endpoint,
               (long long) self->heartbeat_ms);
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
        int64_t now = en_now_ms ();
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
            en_msg_t *hello = en_msg_new ("HELLO", self->name,
                json_pack ("{s:s, s:s, s:s}", "node", self->name, "region", self->region,
                           "version", EXPERTNET_VERSION));
            s_send (self, hello);
            en_msg_destroy (&hello);
            self->last_hello = now;
        }
        else
        if (self->connected && now - self->last_tx >= self->heartbeat_ms) {
            en_msg_t *ping = en_msg_new ("PING", self->name, NULL);
            s_send (self, ping);
            en_msg_destroy (&ping);
        }
        if (self->connected && now >= next_flush) {
            s_flush (self);
            next_flush = now + self->retry_ms / 2;
        }
        if (now >= next_prune) {
            en_seen_prune (en_nstore_db (self->store), now - 30LL * 86400 * 1000);
            en_audit_prune (en_nstore_db (self->store), now - self->audit_retention_ms);
            next_prune = now + 3600 * 1000;
        }
    }
    zsys_info ("node %s stopping", self->name);
    return 0;
}
