/*  en_request_sm - the request state machine: which state a
    consultatieverzoek may move to on which event, declared as one table
    (docs/protocol.md, "Transition table", is the same table; the unit
    test tests/unit/test_request_sm.c checks the two are equal).

    The router decides what happens to a request; every change of its
    state goes through en_request_sm_check first, and one the table does
    not declare is refused, never applied. */
#ifndef EN_REQUEST_SM_H_INCLUDED
#define EN_REQUEST_SM_H_INCLUDED

#include "expertnet.h"

//  What a guard may look at: facts about the request and who moves it.
typedef struct {
    bool from_peer;             //  it came from a peer broker (origin "peer:<name>")
    bool with_peer;             //  a peer broker holds it (handed over, not back yet)
    bool by_operator;           //  an operator moves it (dashboard, control socket)
} en_request_sm_context_t;

//  One row of the table, as text (the form docs/protocol.md shows it in).
typedef struct {
    const char *from;           //  the states it applies in, separated by ", ";
                                //  "(new)": the request does not exist yet
    const char *event;          //  the event ("*": whatever event a peer reports)
    const char *guard;          //  a guard's name (en_request_sm_guard), or NULL
    const char *to;             //  the state after it, states separated by ", "
                                //  (one of them), or "same" (unchanged)
} en_request_sm_row_t;

//  0 when the table declares that event moves a request in state from
//  (NULL: a new request) to state to, given context; else -1 with error
//  (409) naming the transition.
int en_request_sm_check (const char *from, const char *event, const char *to,
                         const en_request_sm_context_t *context, en_error_t *error);

//  The declared rows, in order, and how many there are (for the test and
//  for anyone who wants to print the machine). Borrowed, static.
const en_request_sm_row_t *en_request_sm_rows (size_t *count);

//  What a guard means, in one line; NULL for a name that is no guard.
const char *en_request_sm_guard (const char *name);

//  The state of a request whose places are in states (count of them):
//  the first of submitted, escalated, offered, forwarded, hiaat,
//  accepted, advice, monitoring, returned, recalled, (any other state),
//  closed that a place is in (docs/protocol.md, "Places"). Static or one of states;
//  NULL when count is 0.
const char *en_request_sm_derive (const char **states, size_t count);

//  Is state one of the request states?
bool en_request_sm_is_state (const char *state);

#endif
