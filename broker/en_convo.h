/*  en_convo - a conversation per request (docs/protocol.md,
    "Conversations"): MESSAGE, RECEIPT and MEMBERS at the broker. Owned by
    the router (en_router), in whose transaction it works; it moves a
    request (an advice) only through en_router_transition. */
#ifndef EN_CONVO_H_INCLUDED
#define EN_CONVO_H_INCLUDED

#include "en_router.h"

typedef struct _en_convo_t en_convo_t;

//  The conversations of router (not owned; it owns us), on store, sending
//  as broker_name. Destroy is safe twice.
en_convo_t *en_convo_new (en_router_t *router, en_bstore_t *store, const char *broker_name);
void en_convo_destroy (en_convo_t **self_p);

//  SUBMIT's `team_key`, if any: 0 when absent or a hex-key, else -1 with
//  422. Checked before the request is stored.
int en_convo_check_team_key (json_t *submit_body, en_error_t *error);
//  Keep the team's key of a stored request (absent: none). 0 or -1.
int en_convo_submitted (en_convo_t *self, const char *request_id, json_t *submit_body);

//  The participants of request may have changed (an accept, a close, an
//  offer taken back): when they did, MEMBERS to the node of everyone who
//  was or is one. Requests handled in another province have none here.
//  0 or -1.
int en_convo_sync (en_convo_t *self, json_t *request);

//  node published its experts again: a participant's box key may have
//  changed (a new key pair), so each conversation they take part in is
//  synced (en_convo_sync). 0 or -1.
int en_convo_experts_published (en_convo_t *self, const char *node);


//  MESSAGE and RECEIPT from node ("peer:<name>" for a peer broker): 0, or
//  -1 with error (403, 404, 409, 422; 500 when the store failed). For a
//  request handed to a peer they are passed on (to the peer, or back to
//  the origin); MEMBERS comes only that way, from the peer holding it.
int en_convo_handle_message (en_convo_t *self, const char *node, en_msg_t *msg, en_error_t *error);
int en_convo_handle_receipt (en_convo_t *self, const char *node, en_msg_t *msg, en_error_t *error);
int en_convo_handle_members (en_convo_t *self, const char *node, en_msg_t *msg, en_error_t *error);

#endif
