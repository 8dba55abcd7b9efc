/*  en_request_sm - the request state machine.

    A consultatieverzoek lives at a broker in one of eleven states (s_states).
    Since EXPN/3 a request has places (a team: several experts), and this
    is the machine of one place; the request's own state is derived from
    its places' states by one rule (en_request_sm_derive). A request for
    one expert has one place, whose state is the request's.
    What moves it is an event: a node's message (ACCEPT, DECLINE, ADVICE,
    CLOSE, REVIEW, BERAAD), a routing step the router takes (offered, escalated,
    forwarded, hiaat, returned), a timer (expired, rerouted, review-due), an operator
    (operator-*), a peer broker (its STATUS, RECALL, refusal) or the
    broker's own enrolment (revoked). The event's name is the one recorded
    in the request's timeline and sent in its STATUS.

    s_table declares every move: {from states, event, guard, to}. A guard
    is a fact about the request or who moves it that the move requires
    (s_guards); the router (broker/en_router.c, s_transition) checks every
    change against the table before it writes anything, and refuses one
    the table does not declare: the state column cannot drift from the
    machine by a handler that writes a string it should not.

    The table is also in docs/protocol.md ("Transition table"), in the
    same order and words, and tests/unit/test_request_sm.c reads it there
    and checks the two are equal both ways: change one, change the other.

    Why rows with lists of states: most events apply alike in several
    states (a decline in offered or escalated), and a row per pair would
    hide that; "same" says the event is recorded without a change of
    state (the route step that follows, if any, is a transition of its
    own). The one wildcard is the mirror of a peer's STATUS: the broker
    that handed a request over copies whatever state and event the peer
    reports, within the states a request there can be in.
*/
#include "en_request_sm.h"

//  The request states, in the order a request usually passes them.
static const char *s_states [] = {
    "submitted", "offered", "escalated", "forwarded", "accepted", "advice",
    "hiaat", "returned", "recalled", "monitoring", "closed", NULL };

//  The guards: name and meaning.
static const char *s_guards [][2] = {
    { "own",       "the request came from one of this broker's nodes" },
    { "from-peer", "the request came from a peer broker" },
    { "with-peer", "a peer broker holds the request" },
    { "here",      "no peer broker holds the request" },
    { "operator",  "an operator moves the request" },
    { NULL, NULL } };

//  The machine. Keep it equal to docs/protocol.md, "Transition table".
#define ROUTABLE   "submitted, offered, escalated"
#define OPEN_OFFER "offered, escalated"
#define MIRRORED   "forwarded, offered, escalated, accepted, advice"
#define NOT_CLOSED "submitted, offered, escalated, accepted, advice, hiaat, returned, recalled, monitoring"

static const en_request_sm_row_t s_table [] = {
    { "(new)",       "submitted",         NULL,        "submitted" },
    { ROUTABLE,      "offered",           NULL,        "offered" },
    { ROUTABLE,      "escalated",         NULL,        "escalated" },
    { "hiaat",       "escalated",         "operator",  "escalated" },
    { ROUTABLE,      "forwarded",         NULL,        "forwarded" },
    { ROUTABLE,      "hiaat",             "own",       "hiaat" },
    { ROUTABLE,      "returned",          "from-peer", "returned" },
    { OPEN_OFFER,    "declined",          NULL,        "same" },
    { OPEN_OFFER,    "expired",           NULL,        "same" },
    { OPEN_OFFER,    "revoked",           NULL,        "same" },
    { OPEN_OFFER,    "withdrawn",         "operator",  "same" },
    { OPEN_OFFER,    "accepted",          NULL,        "accepted" },
    { "accepted, advice", "advice",       NULL,        "advice" },
    { "hiaat",       "rerouted",          NULL,        "submitted" },
    { "hiaat",       "operator-reoffer",  "operator",  "submitted" },
    { ROUTABLE,      "operator-reoffer",  "operator",  "same" },
    { ROUTABLE ", hiaat", "operator-escalate", "operator", "same" },
    { NOT_CLOSED,    "operator-close",    "operator",  "same" },
    { NOT_CLOSED,    "closed",            "here",      "closed" },
    { MIRRORED,      "returned",          "with-peer", "submitted" },
    { "forwarded, offered, escalated", "operator-recall", "with-peer", "submitted" },
    { ROUTABLE ", forwarded", "recalled", "from-peer", "recalled" },
    //  (a place in monitoring at the peer, EXPN/3: its review-due, its
    //  beraad events, its close)
    { MIRRORED ", monitoring", "*",       "with-peer", MIRRORED ", monitoring, closed" },
    //  (the peer refused a node's message relayed to it: the team hears it)
    { MIRRORED ", monitoring", "relay-refused", "with-peer", "same" },
    //  Follow-up (en_followup): a review date ("terug op ET") keeps the
    //  request open in monitoring until it is closed
    { "accepted, advice, monitoring", "monitoring", "here", "monitoring" },
    //  (an event of the whole request: also with places at peers, EXPN/3)
    { "monitoring",  "review-due",        NULL,        "same" },
    { "monitoring",  "advice",            NULL,        "same" },
    //  Moreel beraad (en_followup): its participants agree a time; the
    //  request does not move
    { "accepted, advice, monitoring", "beraad-proposed", NULL,   "same" },
    { "accepted, advice, monitoring", "beraad-answer",   "here", "same" },
    { "accepted, advice, monitoring", "beraad-fixed",    NULL,   "same" },
    { "accepted, advice, monitoring", "beraad-held",     NULL,   "same" },
};

//  Is item one of the ", "-separated names in list?
static bool
s_listed (const char *list, const char *item)
{
    size_t length = strlen (item);
    const char *at = list;
    while (at && *at) {
        size_t span = strcspn (at, ",");
        if (span == length && strncmp (at, item, length) == 0)
            return true;
        at += span;
        at += strspn (at, ", ");
    }
    return false;
}

static bool
s_guard_holds (const char *guard, const en_request_sm_context_t *context)
{
    if (!guard)
        return true;
    if (streq (guard, "own"))
        return !context->from_peer;
    if (streq (guard, "from-peer"))
        return context->from_peer;
    if (streq (guard, "with-peer"))
        return context->with_peer;
    if (streq (guard, "here"))
        return !context->with_peer;
    if (streq (guard, "operator"))
        return context->by_operator;
    assert (false);             //  every guard in s_table is one of s_guards
    return false;
}

int
en_request_sm_check (const char *from, const char *event, const char *to,
                     const en_request_sm_context_t *context, en_error_t *error)
{
    assert (event && to && context);
    const char *source = from ? from : "(new)";
    for (size_t i = 0; i < sizeof s_table / sizeof s_table [0]; i++) {
        const en_request_sm_row_t *row = &s_table [i];
        if (!s_listed (row->from, source))
            continue;
        if (!streq (row->event, "*") && !streq (row->event, event))
            continue;
        bool lands = streq (row->to, "same") ? from && streq (to, from) : s_listed (row->to, to);
        if (lands && s_guard_holds (row->guard, context))
            return 0;
    }
    return en_error_set (error, EN_ERR_CONFLICT, "the request state machine has no transition %s --%s--> %s%s%s%s",
                         source, event, to, context->from_peer ? " (from a peer)" : "",
                         context->with_peer ? " (with a peer)" : "", context->by_operator ? " (by an operator)" : "");
}

const en_request_sm_row_t *
en_request_sm_rows (size_t *count)
{
    *count = sizeof s_table / sizeof s_table [0];
    return s_table;
}

const char *
en_request_sm_guard (const char *name)
{
    for (int i = 0; name && s_guards [i][0]; i++)
        if (streq (s_guards [i][0], name))
            return s_guards [i][1];
    return NULL;
}

//  The request's own state, derived from its places' (EXPN/3): the first
//  state of this list that one of its places is in. Still being routed
//  before hiaat, hiaat before filled, filled before advised, advised
//  before followed up; given back (a peer's copy holding several places
//  of a team: one it gave back while another is filled there) only when
//  no place is held any more, closed only when every place is. For one
//  place: that place's state. A state the list does not name (one added
//  to the machine later) ranks just before closed.
static const char *s_derived_order [] = {
    "submitted", "escalated", "offered", "forwarded", "hiaat", "accepted", "advice", "monitoring",
    "returned", "recalled", NULL };

const char *
en_request_sm_derive (const char **states, size_t count)
{
    for (const char **state = s_derived_order; *state; state++)
        for (size_t i = 0; i < count; i++)
            if (states [i] && streq (states [i], *state))
                return *state;
    for (size_t i = 0; i < count; i++)
        if (states [i] && !streq (states [i], "closed"))
            return states [i];
    return count && states [0] ? "closed" : NULL;
}

bool
en_request_sm_is_state (const char *state)
{
    return state && en_vocab_has (s_states, state);
}
