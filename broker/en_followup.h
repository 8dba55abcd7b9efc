/*  en_followup - what follows a request after its advice (issue 13,
    "monitoren"): the team sets a review date ("terug op ET", REVIEW), the
    request stays open in state monitoring until it is closed, and when
    the date comes the origin hears STATUS review-due and every expert
    with an accepted offer of it a REMIND (docs/protocol.md, "REVIEW",
    "REMIND"). Works for the router (en_router), through its
    route/transition interface, in the caller's transaction. */
#ifndef EN_FOLLOWUP_H_INCLUDED
#define EN_FOLLOWUP_H_INCLUDED

#include "en_router.h"

//  REVIEW from node: set or move the review date of one of its requests
//  (a row of the router's command table). 0, or -1 with error: 404
//  unknown request, 403 not its origin, 409 closed or no expert accepted
//  it yet, 422 review_at not a time within a year ahead. A place a peer
//  broker holds gets the origin's signed REVIEW relayed to that peer (it
//  reminds its own expert); node is "peer:<name>" for one carried here.
int en_followup_review (en_router_t *router, const char *node, en_msg_t *msg, en_error_t *error);

//  The timer: every request whose armed review date is at or before now
//  (at most 200 per pass, earliest first) gets its event review-due
//  (STATUS to the origin) and a REMIND to the node of each expert with an
//  accepted offer, each request in its own savepoint together with
//  disarming it: once per date. Call in a transaction (the broker: with
//  the hiaten, every second). Returns how many fired, or -1 on a store
//  error (what fired before stays).
int en_followup_due (en_router_t *router, int64_t now);

//  BERAAD from node (a row of the router's command table): the moreel
//  beraad of a request as a meeting. From the origin: action "propose"
//  (times: 1..5 ms ahead), "fix" (at: one of them), "held" (at: when it
//  took place); from a participant's node: "answer" (offer, available:
//  the proposed times that suit). Each is an event of the request
//  (STATUS to the origin); propose and fix go on to every participant as
//  BERAAD; to a place a peer broker holds the origin's signed BERAAD is
//  relayed instead (its expert answers through that peer, whose STATUS
//  beraad-answer is mirrored onto the place). 0, or -1 with error: 404, 403, 409 (not a moreel-beraad, no
//  participants, nothing proposed, already fixed or held, closed), 422.
int en_followup_beraad (en_router_t *router, const char *node, en_msg_t *msg, en_error_t *error);

//  Requests not closed whose review date passed, for the dashboard:
//  [{id, region, urgency, question_type, state, review_at, days_overdue}],
//  most overdue first, at most limit. Caller owns.
json_t *en_followup_overdue (en_bstore_t *store, int64_t now, int limit);

#endif
