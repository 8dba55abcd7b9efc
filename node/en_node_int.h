/*  en_node_int - what the node daemon's own modules share, not for
    anyone else (the public face is en_node.h).

    The node is one thread and one object, en_node_t; these files work on
    it: en_node.c (the daemon: sockets, the broker link, the receive
    loop), en_node_guard.c (what leaves the node: the PII guard and the
    queue for the broker), en_node_notify.c (notifications that reach
    people) and the control verbs (en_node_verbs.c, with the accounts and
    experts' keys in en_node_accounts.c). The verbs need
    the store, the vault, the guard, the notification settings and, for
    `status`, the link's state, so they see the struct; each field says
    what it holds.
*/
#ifndef EN_NODE_INT_H_INCLUDED
#define EN_NODE_INT_H_INCLUDED

#include "en_node.h"
#include "en_notify.h"
#include "en_portal.h"

struct _en_node_t {
    char *name;                 //  node name (our key's name)
    char *region;               //  jeugdregio this node serves
    char *datadir;              //  store, keys, sockets
    unsigned char broker_sign_key [32];     //  broker's Ed25519 public key
    en_signer_t *signer;        //  our Ed25519 key: every message we send is signed
    en_vault_t *vault;          //  region secret (pseudonyms), data key (register)
    en_pii_t *pii;              //  the guard on everything that leaves
    int64_t audit_retention_ms; //  access log retention
    char *totp_required;        //  roles that must log in with TOTP ("a,b,c")
    unsigned long long kdf_ops; //  Argon2id ops limit for new key wraps
    size_t kdf_mem;             //  Argon2id memory limit for new key wraps
    int64_t heartbeat_ms;       //  heartbeat interval
    int64_t retry_ms;           //  outbox retransmission interval
    zcert_t *cert;              //  our CURVE key pair
    en_link_t *link;            //  to the broker (en_link): socket, HELLO, PING, silence, reconnect
    zsock_t *control;           //  `expertnet` requests
    zsock_t *portal_control;    //  the portal's requests (inproc), or NULL
    en_portal_t *portal;        //  the web portal (its own thread), or NULL
    zsock_t *notify;            //  notifications for listeners
    zpoller_t *poller;          //  dealer, control sockets, notification sender
    en_nstore_t *store;         //  the node's store (requests, offers, register, accounts)
    en_inbox_t *inbox;          //  exactly-once receive of the broker's reliable messages
    zlistx_t *replies;          //  ACKs of the current batch (en_msg_t)
    zlistx_t *notices;          //  notifications of the current batch ("topic\0json")
    json_t *network_tags;       //  [{tag, available}] the broker's last TAGS, or NULL
    int64_t unverified_logged;  //  ms of the last "ignored unverifiable message" line
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
    int64_t next_flush;         //  ms of the next outbox flush (and look at the system clock)
    int64_t next_prune;         //  ms of the next pruning of the seen table and access log
};

//  --------------------------------------------------------------------
//  en_node.c

//  A reliable message from the broker, by its command (OFFER, STATUS,
//  ...): what the node's exactly-once receive (en_inbox, arg the node)
//  hands on, inside the batch's transaction. 0, or -1 with error.
int en_node_handle_reliable (en_msg_t *msg, void *arg, en_error_t *error);

//  One access-log entry (inside the caller's transaction, if any).
void en_node_audit (en_node_t *self, const char *event, const char *case_id, const char *actor,
                    const char *on_behalf, const char *action, const char *outcome, const char *detail);

//  Tell listeners on the notify socket, once the batch has committed:
//  topic "<kind>:<id>;" (kind "request" or "expert"), event a JSON object.
void en_node_publish (en_node_t *self, const char *kind, const char *id, json_t *event);

//  --------------------------------------------------------------------
//  en_node_convo.c: a request's conversation (MEMBERS, MESSAGE, RECEIPT)

//  A receive handler's answers: 422 `invalid message` (final), or 500
//  when the node's store failed (the broker sends it again). -1.
int en_node_invalid (en_error_t *error);
int en_node_store_failed (en_error_t *error);

//  The broker's MEMBERS, MESSAGE and RECEIPT (handlers of the receive
//  table in en_node.c): 0, or -1 with 422 (invalid, final) or 500.
int en_node_convo_on_members (en_node_t *self, en_msg_t *msg, en_error_t *error);
int en_node_convo_on_message (en_node_t *self, en_msg_t *msg, en_error_t *error);
int en_node_convo_on_receipt (en_node_t *self, en_msg_t *msg, en_error_t *error);
//  Make the team's box key pair of a new request (the secret sealed with
//  the vault), public key into public_hex, inside the caller's
//  transaction. 0 or -1.
int en_node_convo_team_key (en_node_t *self, const char *request, char public_hex [65]);
//  The verbs `message` and `thread` (docs/protocol.md, Appendix A).
json_t *en_node_convo_verb_message (en_node_t *self, const char *verb, json_t *args, en_error_t *error);
json_t *en_node_convo_verb_thread (en_node_t *self, const char *verb, json_t *args, en_error_t *error);

//  --------------------------------------------------------------------
//  en_node_notify.c: notifications that reach people (en_notify)

//  Read the notify settings (section notify) and start the sender. 0, or
//  -1 with error.
int en_node_notify_setup (en_node_t *self, zconfig_t *config, en_error_t *error);
//  Read the staff addresses and start the sender when a relay or a
//  gateway is configured (notify_config read already); rows a stopped
//  node left 'bezig' are due again. 0, or -1 with error.
int en_node_notify_start (en_node_t *self, zconfig_t *config, en_error_t *error);
//  Stop the sender, first taking the results of rows it still has.
void en_node_notify_stop (en_node_t *self);
//  Queue a notification for each recipient, inside the caller's
//  transaction. 0, or -1 when the store failed.
int en_node_notify_queue (en_node_t *self, const char *kind, const char *offer, const char *request,
                          const char *expert, const char *urgency, int64_t deadline);
//  The sender reported on a row: record it.
void en_node_notify_result (en_node_t *self);
//  Reminders due, then due rows to the sender.
void en_node_notify_tick (en_node_t *self, int64_t now);

//  --------------------------------------------------------------------
//  en_node_guard.c: what leaves the node

//  Teach the guard a client's names and their relatives' names (an
//  identity as the register holds it).
void en_node_guard_names (en_node_t *self, json_t *identity);
//  Load every registered client's names into the guard. 0 or -1.
int en_node_guard_register_names (en_node_t *self);
//  The PII guard on an outgoing body (what: the field path's first part,
//  or NULL). 0 if clean; -1 with EN_ERR_INVALID naming the field and the
//  kind of data (never the data), and an access-log entry of the refusal.
int en_node_guard (en_node_t *self, const char *what, json_t *body, const char *user, en_error_t *error);
//  Queue a reliable message for the broker (inside a transaction), after
//  the PII guard. Takes body. Returns the message id (caller frees), or
//  NULL with error (EN_ERR_INVALID refused by the guard, EN_ERR_INTERNAL
//  store error).
char *en_node_queue (en_node_t *self, const char *command, json_t *body, const char *user, en_error_t *error);
//  Queue the full list of this region's experts. 0 or -1 (logged).
int en_node_queue_availability (en_node_t *self);
//  Seal text to an expert's box key (hex): only the holder of the
//  expert's secret key can open it. Base64, caller frees; NULL if the
//  key is not valid.
char *en_node_seal_to (const char *box_key, const char *text);

//  --------------------------------------------------------------------
//  The control verbs (en_node_verbs.c, en_node_accounts.c)

//  What a verb needs of the node, besides reading its store
typedef enum {
    EN_VERB_READS,              //  only reads
    EN_VERB_WRITES,             //  changes the store or the access log (one transaction)
    EN_VERB_SENDS               //  also queues messages for the broker: they go out at once
} en_verb_needs_t;

//  A verb's handler: the result (the reply's JSON, caller owns it), or
//  NULL with error; verb is the name it was called by.
typedef json_t *(en_node_verb_fn) (en_node_t *self, const char *verb, json_t *args, en_error_t *error);

typedef struct {
    const char *verb;           //  as the control protocol names it; NULL ends a table
    en_verb_needs_t needs;      //  what it needs of the node
    en_node_verb_fn *handler;   //  answers it
} en_node_verb_t;

//  Open a verb's transaction. 0, or -1 with a 500 when the store cannot.
int en_node_verbs_begin (en_node_t *self, en_error_t *error);

//  Answer one control request from sock (`expertnet`, the portal).
//  Returns true when the verb queued messages for the broker (the
//  caller flushes the outbox), else false.
bool en_node_verbs_handle (en_node_t *self, zsock_t *sock);

//  The verb tables, each ended by a NULL verb: requests, offers, experts,
//  cases, the access log, status (en_node_verbs.c); accounts and the
//  experts' keys (en_node_accounts.c). docs/protocol.md, "Node verbs",
//  lists the same verbs (tests/unit/test_node_verbs.c checks it).
extern const en_node_verb_t en_node_verbs [];
extern const en_node_verb_t en_node_account_verbs [];
//  Apply the accounts' settings (web/totp_required, accounts/kdf).
//  0, or -1 with error (EN_ERR_INVALID) and the settings unchanged.
int en_node_accounts_config (en_node_t *self, zconfig_t *config, en_error_t *error);

//  --------------------------------------------------------------------
//  en_node_followup.c: review dates ("terug op ET") and their reminders

//  The verb `review`: id, review_at (ms): checked, then REVIEW queued.
json_t *en_node_followup_review (en_node_t *self, const char *verb, json_t *args, en_error_t *error);
//  A STATUS of one of our requests (stored already): keep its review_at,
//  and on review-due notify the staff. 0, or -1 when the store failed.
int en_node_followup_status (en_node_t *self, json_t *status);
//  REMIND from the broker (a row of the receive table): notify the
//  expert. 0, or -1 with error.
int en_node_followup_remind (en_node_t *self, en_msg_t *msg, en_error_t *error);
//  Moreel beraad: the team's verb `beraad` (id, action propose/fix/held,
//  times or at, outcome kept here sealed), the expert's verb
//  `beraad-answer` (offer, available), and BERAAD from the broker (a row
//  of the receive table: kept with the offer, the expert notified).
json_t *en_node_followup_beraad_verb (en_node_t *self, const char *verb, json_t *args, en_error_t *error);
json_t *en_node_followup_answer_verb (en_node_t *self, const char *verb, json_t *args, en_error_t *error);
int en_node_followup_beraad (en_node_t *self, en_msg_t *msg, en_error_t *error);

#endif
