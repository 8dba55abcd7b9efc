/*  en_nstore - the node's store: every SQL statement of the region node
    lives in en_nstore.c. Rows come back as jansson objects, owned by the
    caller. */
#ifndef EN_NSTORE_H_INCLUDED
#define EN_NSTORE_H_INCLUDED

#include "expertnet.h"

typedef struct _en_nstore_t en_nstore_t;

en_nstore_t *en_nstore_new (const char *path, en_error_t *error);
void en_nstore_destroy (en_nstore_t **self_p);
en_db_t *en_nstore_db (en_nstore_t *self);
en_outbox_t *en_nstore_outbox (en_nstore_t *self);

//  Requests this node submitted. insert: 0, or -1 with error: 409 the
//  id exists, 500 a store error.
int en_nstore_request_insert (en_nstore_t *self, json_t *summary, const char *msg_id, en_error_t *error);
json_t *en_nstore_request (en_nstore_t *self, const char *id);
json_t *en_nstore_requests (en_nstore_t *self, const char *state, int limit);
//  Requests a broker that lost its store must be handed again: acknowledged
//  and not closed, rejected or being closed: [{id, summary, state}].
json_t *en_nstore_requests_unknown_to_new_store (en_nstore_t *self);
//  Record in the request's timeline that it was re-sent (message msg_id)
//  to the broker's new store store_id. 0 or -1.
int en_nstore_request_resubmitted (en_nstore_t *self, const char *id, const char *msg_id, const char *store_id);
//  The broker's store id as learned from WELCOME: {store_id, learned,
//  previous, changed, resubmitted}, or NULL before the first. Caller owns.
json_t *en_nstore_broker_store (en_nstore_t *self);
//  Learn it: the first time (changed false), or a change (previous kept,
//  with the time; resubmitted -1: the open requests are still to be
//  re-sent). 0 or -1.
int en_nstore_broker_store_set (en_nstore_t *self, const char *store_id, bool changed);
//  The open requests were re-sent to the new store: how many. 0 or -1.
int en_nstore_broker_store_resubmitted (en_nstore_t *self, int64_t count);
//  Apply a STATUS from the broker (state, event, expert, detail, advice):
//  0, or -1 with error: 404 no such request here, 500 a store error.
int en_nstore_request_status (en_nstore_t *self, json_t *status, en_error_t *error);
//  The broker ACKed or refused the message msg_id: update what it was
//  about (a submit, close or an answer to an offer).
int en_nstore_message_result (en_nstore_t *self, const char *msg_id, int code,
                              const char *reason);
int en_nstore_request_closing (en_nstore_t *self, const char *id, const char *msg_id);
//  The id of the request whose SUBMIT was message msg_id (caller frees),
//  or NULL when msg_id was no SUBMIT of ours.
char *en_nstore_request_of_submit (en_nstore_t *self, const char *msg_id);
//  The offer whose answer (ACCEPT, DECLINE, ADVICE) was message msg_id,
//  or NULL. Caller frees.
char *en_nstore_offer_of_answer (en_nstore_t *self, const char *msg_id);

//  Experts of this region
int en_nstore_expert_put (en_nstore_t *self, json_t *expert);
json_t *en_nstore_expert (en_nstore_t *self, const char *id);
json_t *en_nstore_experts (en_nstore_t *self);

//  Offers received for this node's experts
int en_nstore_offer_insert (en_nstore_t *self, json_t *offer);
json_t *en_nstore_offer (en_nstore_t *self, const char *id);
//  Offers; state NULL = those waiting for an answer (open, not answered).
json_t *en_nstore_offers (en_nstore_t *self, const char *expert, bool all);
//  The expert answered: action accept/decline/advise, queued as msg_id.
int en_nstore_offer_answer (en_nstore_t *self, const char *id, const char *action,
                            const char *msg_id);
//  The broker withdrew the offer (expired, closed).
int en_nstore_offer_withdrawn (en_nstore_t *self, const char *id, const char *reason);

//  Case register: identifying data, sealed by the caller (en_vault).
int en_nstore_case_put (en_nstore_t *self, const char *pseudonym, const char *sealed);
//  The sealed data of a case, or NULL. Caller frees.
char *en_nstore_case_sealed (en_nstore_t *self, const char *pseudonym);
//  Cases without their data: pseudonym, created, updated, requests.
json_t *en_nstore_cases (en_nstore_t *self);
//  Every case's pseudonym and sealed data (to load names into the PII guard).
json_t *en_nstore_cases_sealed (en_nstore_t *self);

//  Dossiers: the origin's copy (sealed with the vault) until released...
int en_nstore_request_dossier_put (en_nstore_t *self, const char *id, const char *sealed);
//  ...the unreleased dossier of a request (caller frees) or NULL...
//  (once per place of a team: place 1.. as STATUS accepted named it)
char *en_nstore_request_dossier (en_nstore_t *self, const char *id, int64_t place);
int en_nstore_request_dossier_sent (en_nstore_t *self, const char *id, int64_t place, const char *msg_id);
//  ...and at the expert's node, what arrived sealed to the expert:
//  0, or -1 with error: 404 no accepted offer of that expert for that
//  request, 500 a store error.
int en_nstore_offer_dossier_put (en_nstore_t *self, const char *request_id, const char *expert,
                                 const char *sealed, en_error_t *error);
char *en_nstore_offer_dossier (en_nstore_t *self, const char *offer_id);
//  Replies of the requesting team to an advice. At the origin: the
//  accepting expert's box key (caller frees, NULL if none) and the reply
//  as an event of the request. At the expert's node: a reply sealed to
//  the expert, stored with the accepted offer (0, or -1 with error as
//  offer_dossier_put), and the replies of an offer [{at, sealed}].
//  (place 1..: that place's accepting expert's, while accepted; 0: the
//  request's last accepting expert's)
char *en_nstore_request_box_key (en_nstore_t *self, const char *id, int64_t place);
int en_nstore_request_reply (en_nstore_t *self, const char *id, const char *text);
int en_nstore_offer_reply_put (en_nstore_t *self, const char *request_id, const char *expert,
                               const char *sealed, en_error_t *error);
json_t *en_nstore_offer_replies (en_nstore_t *self, const char *offer_id);
//  An expert's box key pair (secret sealed by the caller); put keeps an
//  existing pair.
int en_nstore_expert_key_put (en_nstore_t *self, const char *expert, const char *box_public,
                              const char *box_secret);
//  {expert, box_public, box_secret (vault-sealed, or null once wrapped),
//  wrap_password, wrap_recovery (en_keywrap JSON or null)} or NULL.
json_t *en_nstore_expert_key (en_nstore_t *self, const char *expert);
//  Keep an expert's box secret only wrapped by the person: store (or
//  replace) the key pair's public half and its wraps, and drop the
//  vault-sealed copy. wrap_recovery NULL replaces only the password
//  wrap of an already wrapped key with that public key. 0 or -1.
int en_nstore_expert_key_wrap (en_nstore_t *self, const char *expert, const char *box_public,
                               json_t *wrap_password, json_t *wrap_recovery);

//  Accounts. insert takes {name, role, expert, pwhash, totp (sealed),
//  email, phone}: 0, or -1 with error: 409 the name exists, 500 a store
//  error.
int en_nstore_user_insert (en_nstore_t *self, json_t *user, en_error_t *error);
//  {name, role, expert, email, phone, created, last_login, disabled,
//  pwhash, totp (sealed)} or NULL. Caller owns.
json_t *en_nstore_user (en_nstore_t *self, const char *name);
//  The account bound to an expert (caller frees) or NULL.
char *en_nstore_expert_user (en_nstore_t *self, const char *expert);
//  Every account without secrets: name, role, expert, email, phone,
//  created, last_login, disabled, totp (bool).
json_t *en_nstore_users (en_nstore_t *self);
//  0, or -1 with error: 404 no such account, 500 a store error.
int en_nstore_user_remove (en_nstore_t *self, const char *name, en_error_t *error);
int en_nstore_user_password (en_nstore_t *self, const char *name, const char *pwhash);
//  A login at `at`; totp_step (>= 0) the TOTP time step of the code used,
//  or -1. 0 recorded, or -1 with error: 409 refused, that step or a
//  later one was used before (a replayed code), 500 a store error.
int en_nstore_user_login (en_nstore_t *self, const char *name, int64_t at, int64_t totp_step,
                          en_error_t *error);

//  Ids of the requests about a case: those this node submitted for it
//  and those offered to this node's experts.
json_t *en_nstore_case_requests (en_nstore_t *self, const char *pseudonym);

//  A case's summary (NULL keeps it), the time it reached phase, its
//  outcome (NULL keeps it).
int en_nstore_case_phase (en_nstore_t *self, const char *pseudonym, json_t *summary, const char *phase,
                          int64_t at, json_t *outcome);
//  A case without its identifying data: pseudonym, summary, phases, outcome.
json_t *en_nstore_case_record (en_nstore_t *self, const char *pseudonym);

//  Give a case its pseudonym under a newer region secret.
int en_nstore_case_rename (en_nstore_t *self, const char *old_pseudonym, const char *new_pseudonym);

//  Re-seal every value sealed with the vault's data key (case register,
//  dossiers, experts' box secrets, TOTP secrets) with reseal (returns the new sealed
//  text, caller frees; NULL fails). Returns how many, or -1.
typedef char *(en_nstore_reseal_fn) (const char *sealed, void *arg);
int64_t en_nstore_reseal (en_nstore_t *self, en_nstore_reseal_fn *reseal, void *arg);

//  An expert's contact, held only at this node (never published).
//  put: NULL keeps a stored value, "" clears it. contact: {expert,
//  email, phone} or NULL.
int en_nstore_contact_put (en_nstore_t *self, const char *expert, const char *email, const char *phone);
json_t *en_nstore_contact (en_nstore_t *self, const char *expert);
//  Every expert's contact (for the beheerder), by expert id.
json_t *en_nstore_contacts (en_nstore_t *self);

//  The notification queue (en_notify). put takes a rendered
//  notification {kind, channel, recipient, expert?, offer?, request?,
//  urgency?, deadline?, link, subject, body, message_id} in state
//  'wacht', due now. Call it inside the event's transaction.
int en_nstore_notify_put (en_nstore_t *self, json_t *notification);
//  Rows due for sending (wacht or mislukt-opnieuw, next_try <= now).
json_t *en_nstore_notify_due (en_nstore_t *self, int64_t now, int limit);
json_t *en_nstore_notification (en_nstore_t *self, int64_t id);
//  Record a state (the caller checked the transition, en_notify).
int en_nstore_notify_state (en_nstore_t *self, int64_t id, const char *state, int64_t attempts,
                            int64_t next_try, const char *error);
//  At start: rows left 'bezig' by a stopped node are due again. Returns
//  how many, or -1.
int64_t en_nstore_notify_recover (en_nstore_t *self);
//  The queue for the beheerder (newest first, without bodies); state NULL = all.
json_t *en_nstore_notifications (en_nstore_t *self, const char *state, int limit);
//  {state: count}
json_t *en_nstore_notify_counts (en_nstore_t *self);
//  Open, unanswered offers past half their time, not yet reminded:
//  [{id, request_id, expert, kind, deadline, urgency}].
json_t *en_nstore_offers_to_remind (en_nstore_t *self, int64_t now);
int en_nstore_offer_reminded (en_nstore_t *self, const char *id);

//  Counts for `expertnet node status`.
json_t *en_nstore_counts (en_nstore_t *self);

//  Conversations (en_node_convo). The team's box key pair of a request
//  (secret sealed with the vault): keep it; {box_public, box_secret} or NULL.
int en_nstore_convo_team_key_put (en_nstore_t *self, const char *request_id, const char *box_public,
                                  const char *box_secret);
json_t *en_nstore_convo_team_key (en_nstore_t *self, const char *request_id);
//  The participants the broker last told ([{who, box_key}]): replace, read.
int en_nstore_convo_members_put (en_nstore_t *self, const char *request_id, json_t *members);
json_t *en_nstore_convo_members (en_nstore_t *self, const char *request_id);
//  A MESSAGE body ({request, seq, from, kind, at, box, sealed: {recipient:
//  b64}}) kept once per (request, seq): 1 stored, 0 had it already, -1.
int en_nstore_convo_message_put (en_nstore_t *self, json_t *message);
//  A MESSAGE written here, until the broker takes it (its ACK) or
//  refuses it (en_nstore_message_result keeps why); what sender wrote
//  about request that the broker has not taken: [{message, kind, queued,
//  state ("queued" or "refused"), error}], oldest first.
int en_nstore_convo_sent_put (en_nstore_t *self, const char *msg_id, const char *request_id, const char *sender,
                              const char *kind);
json_t *en_nstore_convo_unsent (en_nstore_t *self, const char *request_id, const char *sender);
//  The conversation as recipient has it (the messages with a copy for
//  them), in order: [{seq, from, kind, at, box, sealed (the text's key
//  sealed to recipient), read_at, read_by: [reader]}].
json_t *en_nstore_convo_thread (en_nstore_t *self, const char *request_id, const char *recipient);
//  recipient read message seq: 1 now, 0 before (or no copy), -1.
int en_nstore_convo_read (en_nstore_t *self, const char *request_id, int64_t seq, const char *recipient, int64_t at);
//  A read receipt (kept once). 0 or -1.
int en_nstore_convo_receipt_put (en_nstore_t *self, const char *request_id, int64_t seq, const char *reader,
                                 int64_t at);
//  The id of expert's accepted (or advised) offer of request, or NULL.
char *en_nstore_accepted_offer (en_nstore_t *self, const char *request_id, const char *expert);
//  Keep the review date (ms) of request id, as the broker confirmed it
//  (STATUS monitoring or review-due). 0 or -1.
int en_nstore_request_review (en_nstore_t *self, const char *id, int64_t review_at);

//  Moreel beraad at an expert's offer: the proposed times (a new
//  proposal clears a fixed time), or (times NULL) the fixed time at. 0 or -1.
int en_nstore_offer_beraad (en_nstore_t *self, const char *offer_id, json_t *times, int64_t at);
//  Moreel beraad at an expert's offer: it was held at held_at. 0 or -1.
int en_nstore_offer_beraad_held (en_nstore_t *self, const char *offer_id, int64_t held_at);
//  The team's own note of a beraad's outcome, sealed (en_vault). 0 or -1.
int en_nstore_request_beraad_outcome (en_nstore_t *self, const char *id, const char *sealed);

//  The team's follow-up message msg_id (REVIEW, BERAAD: what, e.g. "the
//  review date") about request_id: should the broker refuse it, the
//  request gets an event "refused" naming what and why. 0 or -1.
int en_nstore_followup_sent (en_nstore_t *self, const char *msg_id, const char *request_id, const char *what);

#endif
