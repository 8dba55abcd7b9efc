/*  en_convo - a conversation per request, at the broker.

    The participants of a request are its requesting team (its origin
    node, with the box key the node made for the request and sent with
    SUBMIT as `team_key`) and every expert whose offer of it is accepted
    (one today, one per place when a request has several), each with the
    box key of their latest AVAILABILITY record. The store answers that
    set (en_bstore_convo_participants); nothing here assumes one expert.
    A conversation exists once an expert accepted; a closed request has
    none left.

    MESSAGE: a participant's node sends a text encrypted once (`box`)
    with a key sealed (crypto_box_seal) to every participant, the sender
    included, one sealed key per participant. The broker checks who may speak, gives the message the
    request's next seq (the order every participant sees), keeps only its
    metadata (seq, sender, kind, time, digest) and queues to each
    participant's node a MESSAGE with only the ciphertexts of that node's
    participants. It never sees the text: the ciphertext stays in its
    outbox until the node acknowledged it. An advice (kind "advice", from
    an expert) also moves the request to "advice" through the router's
    transition, so the state machine, STATUS and access log stay as for
    ADVICE, without the text.

    RECEIPT: a participant read a message; recorded once and relayed to
    every participant's node.

    MEMBERS: whenever the participants change (an accept, a close, an
    offer taken back), the node of everyone who was or is one gets the
    new list with the keys to seal to; one who left is no longer in it,
    and gets nothing further. Every write is in the caller's transaction
    (the message's savepoint), with the messages it queues.

    Across provinces. The broker that holds a request (its experts are
    there) numbers its messages. For a request that came from a peer
    broker the team's node is that peer ("peer:<name>"): MEMBERS, MESSAGE
    and RECEIPT for the team go into the peer's outbox and what the team
    writes comes from it. A broker that handed a request on passes these
    through unchanged: from the peer holding it back to the origin (its
    node, or the peer before it), and the team's from the origin to the
    peer. The text stays sealed all the way; each broker checks only who
    may pass what (the team's, from the origin; the rest, from the peer).

    A team across provinces (places filled by peers) is the other way
    round: the team's broker holds the conversation of all its places,
    and the expert of a place a peer holds is a participant whose node is
    that peer (their box key from the peer's STATUS accepted, kept with
    the place). The peer holding such a place keeps none: it passes what
    the team's broker sends down to its expert's node, and what that node
    writes or reads up (s_where tells the three cases apart). An advice
    moves the place at the team's broker when it takes the message; the
    numbered message it then sends down is the confirmation on which each
    broker below moves its copy of the place (s_advice_confirmed), with
    no STATUS back: the team's broker moved its own already.
*/
#include "en_convo.h"
#include <inttypes.h>

struct _en_convo_t {
    en_router_t *router;        //  the router that owns us (transitions)
    en_bstore_t *store;         //  broker store (not owned)
    char *name;                 //  broker name, sender of our messages
};

en_convo_t *
en_convo_new (en_router_t *router, en_bstore_t *store, const char *broker_name)
{
    en_convo_t *self = (en_convo_t *) zmalloc (sizeof (en_convo_t));
    assert (self);
    self->router = router;
    self->store = store;
    self->name = strdup (broker_name);
    return self;
}

void
en_convo_destroy (en_convo_t **self_p)
{
    assert (self_p);
    en_convo_t *self = *self_p;
    if (self) {
        free (self->name);
        free (self);
        *self_p = NULL;
    }
}

//  Queue a reliable message (body taken) to a node. 0 or -1.
static int
s_queue (en_convo_t *self, const char *node, const char *command, json_t *body)
{
    en_msg_t *msg = en_msg_new (command, self->name, body);
    int rc = en_outbox_put (en_bstore_outbox (self->store), node, msg);
    en_msg_destroy (&msg);
    return rc;
}

static bool
s_hex_key (const char *text)
{
    return text && strlen (text) == 64 && strspn (text, "0123456789abcdef") == 64;
}

int
en_convo_check_team_key (json_t *submit_body, en_error_t *error)
{
    json_t *key = json_object_get (submit_body, "team_key");
    if (key && !s_hex_key (json_string_value (key)))
        return en_error_set (error, EN_ERR_INVALID,
                             "field 'team_key' must be the team's X25519 public key (64 hex characters)");
    return 0;
}

int
en_convo_submitted (en_convo_t *self, const char *request_id, json_t *submit_body)
{
    //  (a SUBMIT carried from a peer was checked where it was submitted)
    const char *key = en_json_str (submit_body, "team_key");
    return s_hex_key (key) ? en_bstore_convo_key_put (self->store, request_id, key) : 0;
}

//  Where the conversation of request is held (EXPN/3). A request of one
//  place handed to a peer broker: there (S_AT_PEER). A team's place a
//  peer broker handed here: at the broker the team came from, which
//  numbers the messages of all its places (S_AT_ORIGIN); this broker
//  passes on what concerns the experts of that place. Else here: a
//  team's broker holds its conversation also when peers fill places.
typedef enum { S_HERE, S_AT_PEER, S_AT_ORIGIN } s_where_t;

static s_where_t
s_where (json_t *request)
{
    bool team = json_array_size (json_object_get (json_object_get (request, "summary"), "places")) > 1;
    if (team)
        return strncmp (en_json_str (request, "origin") ?: "", "peer:", 5) == 0 ? S_AT_ORIGIN : S_HERE;
    return en_json_str (request, "peer") ? S_AT_PEER : S_HERE;
}

//  The participants of request now ([{who, node, box_key}]): none until
//  an expert accepted, none without the team's key (a node that does not
//  speak EXPN/3), and none here for a request handed to a peer.
static json_t *
s_participants (en_convo_t *self, json_t *request)
{
    json_t *all = s_where (request) != S_HERE ? json_array ()
                : en_bstore_convo_participants (self->store, en_json_str (request, "id"));
    bool team = false, expert = false;
    size_t index;
    json_t *one;
    json_array_foreach (all, index, one) {
        bool is_team = streq (en_json_str (one, "who"), "team");
        team |= is_team;
        expert |= !is_team;
    }
    if (!team || !expert)
        json_array_clear (all);
    return all;
}

//  The distinct nodes of one or two participant lists, as a set (zhash).
static zhashx_t *
s_nodes (json_t *first, json_t *second)
{
    zhashx_t *nodes = zhashx_new ();
    json_t *lists [] = { first, second };
    for (int list = 0; list < 2; list++) {
        size_t index;
        json_t *one;
        json_array_foreach (lists [list], index, one)
            if (en_json_str (one, "node"))
                zhashx_insert (nodes, en_json_str (one, "node"), (void *) "");
    }
    return nodes;
}

int
en_convo_sync (en_convo_t *self, json_t *request)
{
    const char *id = en_json_str (request, "id");
    json_t *now = s_participants (self, request);
    json_t *before = en_bstore_convo_members (self->store, id);
    int rc = 0;
    if (!json_equal (now, before)) {
        rc = en_bstore_convo_members_put (self->store, id, now);
        json_t *members = json_array ();
        size_t index;
        json_t *one;
        json_array_foreach (now, index, one)
            json_array_append_new (members, json_pack ("{s:O, s:O}", "who", json_object_get (one, "who"),
                                                       "box_key", json_object_get (one, "box_key")));
        zhashx_t *nodes = s_nodes (now, before);
        for (void *item = zhashx_first (nodes); item && rc == 0; item = zhashx_next (nodes))
            rc = s_queue (self, (const char *) zhashx_cursor (nodes), "MEMBERS",
                          json_pack ("{s:s, s:O, s:I}", "request", id, "members", members,
                                     "at", (json_int_t) en_now_ms ()));
        zhashx_destroy (&nodes);
        json_decref (members);
        if (rc == 0)
            en_db_log (en_bstore_db (self->store), "request %s: %zu participants in its conversation", id,
                       json_array_size (now));
    }
    json_decref (now);
    json_decref (before);
    return rc;
}

int
en_convo_experts_published (en_convo_t *self, const char *node)
{
    json_t *ids = en_bstore_convo_of_node (self->store, node);
    size_t index;
    json_t *one;
    int rc = 0;
    json_array_foreach (ids, index, one) {
        json_t *request = en_bstore_request (self->store, en_json_str (one, "id"));
        rc |= request ? en_convo_sync (self, request) : 0;
        json_decref (request);
    }
    json_decref (ids);
    return rc ? -1 : 0;
}

//  The participant who of participants, or NULL.
static json_t *
s_participant (json_t *participants, const char *who)
{
    size_t index;
    json_t *one;
    json_array_foreach (participants, index, one)
        if (who && streq (en_json_str (one, "who"), who))
            return one;
    return NULL;
}

//  The request named in body, open for a conversation in which who, of
//  node, takes part: its participants (request into *request_p), or NULL
//  with error (404 unknown, 409 closed or elsewhere, 403 not a
//  participant of that node).
static json_t *
s_conversation (en_convo_t *self, const char *node, json_t *body, const char *who, json_t **request_p,
                en_error_t *error)
{
    const char *id = en_json_str (body, "request");
    json_t *request = en_id_valid (id) ? en_bstore_request (self->store, id) : NULL;
    json_t *participants = NULL;
    if (!request)
        en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s'", id ? id : "");
    else
    if (streq (en_json_str (request, "state"), "closed"))
        en_error_set (error, EN_ERR_CONFLICT, "request '%s' is closed: its conversation has ended", id);
    else {
        participants = s_participants (self, request);
        json_t *one = s_participant (participants, who);
        if (!one || !streq (en_json_str (one, "node"), node)) {
            en_error_set (error, EN_ERR_FORBIDDEN, "'%.63s' of node '%s' is not a participant in the conversation "
                          "of '%s'", who ? who : "", node, id);
            json_decref (participants);
            participants = NULL;
        }
    }
    if (participants)
        *request_p = request;
    else
        json_decref (request);
    return participants;
}

//  Check that sealed holds a ciphertext for every participant: 0, or -1
//  with 422 (not an object of strings) or 409 (one is missing: the
//  participants changed since the sender learned them).
static int
s_check_sealed (json_t *sealed, json_t *participants, const char *request_id, en_error_t *error)
{
    const char *who;
    json_t *text;
    if (!json_is_object (sealed) || json_object_size (sealed) == 0)
        return en_error_set (error, EN_ERR_INVALID, "field 'sealed' must map each participant to the text "
                             "sealed to them (base64)");
    json_object_foreach (sealed, who, text)
        if (!json_is_string (text) || json_string_length (text) == 0)
            return en_error_set (error, EN_ERR_INVALID, "field 'sealed': '%.63s' must be base64 text", who);
    size_t index;
    json_t *one;
    json_array_foreach (participants, index, one)
        if (!json_object_get (sealed, en_json_str (one, "who")))
            return en_error_set (error, EN_ERR_CONFLICT, "the participants of '%s' changed: nothing sealed to "
                                 "'%s'; seal to the current ones (MEMBERS) and send again", request_id,
                                 en_json_str (one, "who"));
    return 0;
}

//  Queue the message to each participant's node, with only the
//  ciphertexts of that node's participants. 0 or -1.
static int
s_relay (en_convo_t *self, json_t *participants, json_t *head, json_t *sealed)
{
    zhashx_t *nodes = s_nodes (participants, NULL);
    int rc = 0;
    for (void *item = zhashx_first (nodes); item && rc == 0; item = zhashx_next (nodes)) {
        const char *node = (const char *) zhashx_cursor (nodes);
        json_t *body = json_deep_copy (head);
        json_t *mine = json_object ();
        size_t index;
        json_t *one;
        json_array_foreach (participants, index, one)
            if (streq (en_json_str (one, "node"), node))
                json_object_set (mine, en_json_str (one, "who"),
                                 json_object_get (sealed, en_json_str (one, "who")));
        json_object_set_new (body, "sealed", mine);
        rc = s_queue (self, node, "MESSAGE", body);
    }
    zhashx_destroy (&nodes);
    return rc;
}

//  An advice in the conversation moves the expert's place (a team has
//  several: the one the expert accepted) to "advice" as ADVICE does
//  (STATUS without the text); a place in monitoring stays there. The
//  expert of a team's place a peer holds (EXPN/3) moves that place here;
//  the peer moves its copy when the numbered message reaches it
//  (s_advice_confirmed). 0, or -1 with error.
static int
s_advice (en_convo_t *self, json_t *request, const char *expert, en_error_t *error)
{
    const char *id = en_json_str (request, "id");
    json_t *places = en_bstore_places (self->store, id);
    int64_t place = 0;
    size_t index;
    json_t *one;
    json_array_foreach (places, index, one)
        if (expert && streq (en_json_str (one, "expert") ?: "", expert) && !streq (en_json_str (one, "state"), "closed"))
            place = en_json_int (one, "place", 1);
    json_decref (places);
    json_t *view = place ? en_bstore_request_place (self->store, id, place) : NULL;
    const char *state = view ? en_json_str (view, "state") : en_json_str (request, "state");
    int rc = 0;
    if (!view || (!streq (state, "accepted") && !streq (state, "advice") && !streq (state, "monitoring")))
        rc = en_error_set (error, EN_ERR_CONFLICT, "request '%s' is %s: no advice now", id, state);
    else
    if (en_router_transition (self->router, view, streq (state, "monitoring") ? "monitoring" : "advice", "advice",
                              expert, NULL, NULL))
        rc = en_router_failed (self->router, error);
    json_decref (view);
    return rc;
}

//  The request named in body if it is handed to a peer broker (the
//  conversation is held there), else NULL.
static json_t *
s_handed_over (en_convo_t *self, json_t *body)
{
    const char *id = en_json_str (body, "request");
    json_t *request = en_id_valid (id) ? en_bstore_request (self->store, id) : NULL;
    if (request && s_where (request) == S_HERE) {
        json_decref (request);
        request = NULL;
    }
    return request;
}

//  Pass msg about a request handed to a peer on: from that peer back to
//  the origin (who: NULL), or the team's (who: "team", the writer or
//  reader) from the origin to the peer. 0, or -1 with 403/409.
static int
s_pass (en_convo_t *self, json_t *request, const char *node, en_msg_t *msg, const char *who, en_error_t *error)
{
    const char *id = en_json_str (request, "id");
    const char *origin = en_json_str (request, "origin");
    char peer [80];
    snprintf (peer, sizeof peer, "peer:%s", en_json_str (request, "peer"));
    bool back = streq (node, peer);
    if (!back && !(streq (node, origin) && who && streq (who, "team")))
        return en_error_set (error, EN_ERR_FORBIDDEN, "'%s' may not pass %s about '%s' (it is with %s)", node,
                             en_msg_command (msg), id, peer);
    if (!back && streq (en_json_str (request, "state"), "closed"))
        return en_error_set (error, EN_ERR_CONFLICT, "request '%s' is closed: its conversation has ended", id);
    char detail [128];
    snprintf (detail, sizeof detail, "%s to %s", en_msg_command (msg), back ? origin : peer);
    if (s_queue (self, back ? origin : peer, en_msg_command (msg), json_deep_copy (en_msg_body (msg)))
    ||  en_router_record (self->router, id, "relayed", NULL, detail))
        return en_router_failed (self->router, error);
    en_db_log (en_bstore_db (self->store), "request %s: %s", id, detail);
    return 0;
}

//  The nodes below a team's place held here for the broker its team
//  came from: the peer it was handed on to, or the nodes of the experts
//  who accepted it ([{who, node}]; who NULL for a peer).
static json_t *
s_below (en_convo_t *self, json_t *request)
{
    const char *onward = en_json_str (request, "peer");
    if (!onward)
        return en_bstore_convo_place_experts (self->store, en_json_str (request, "id"));
    char peer [80];
    snprintf (peer, sizeof peer, "peer:%s", onward);
    return json_pack ("[{s:s}]", "node", peer);
}

//  An advice the team's broker numbered (a MESSAGE passed down: it took
//  it and moved the place there) moves the place here whose expert wrote
//  it, held here or handed on, as it did there: the three views agree.
//  No STATUS: the team's broker moved its place itself. The message is
//  taken once (en_inbox), so is the move. 0 or -1.
static int
s_advice_confirmed (en_convo_t *self, json_t *request, json_t *body)
{
    const char *id = en_json_str (request, "id");
    const char *expert = en_json_str (body, "from");
    if (!expert || !streq (en_json_str (body, "kind") ?: "", "advice"))
        return 0;
    json_t *places = en_bstore_places (self->store, id);
    int rc = 0;
    size_t index;
    json_t *one;
    json_array_foreach (places, index, one) {
        const char *state = en_json_str (one, "state");
        if (!streq (en_json_str (one, "expert") ?: "", expert)
        ||  (!streq (state, "accepted") && !streq (state, "advice") && !streq (state, "monitoring")))
            continue;
        char detail [64];
        snprintf (detail, sizeof detail, "seq %" PRId64 " at %s", en_json_int (body, "seq", 0),
                  en_json_str (request, "origin"));
        json_t *view = en_bstore_request_place (self->store, id, en_json_int (one, "place", 1));
        rc |= !view || en_router_apply (self->router, view, streq (state, "monitoring") ? "monitoring" : "advice",
                                        "advice", expert, detail);
        json_decref (view);
    }
    json_decref (places);
    return rc ? -1 : 0;
}

//  Pass msg about a team's place held here on (S_AT_ORIGIN): what the
//  broker of the team sends (numbered messages, receipts, members) down
//  to the place's experts' nodes, what they write or read (who: writer
//  or reader, one of theirs) up to it, unchanged; an advice passed down
//  moves its place here too. 0, or -1 with 403/409.
static int
s_pass_place (en_convo_t *self, json_t *request, const char *node, en_msg_t *msg, const char *who,
              en_error_t *error)
{
    const char *id = en_json_str (request, "id");
    const char *origin = en_json_str (request, "origin");
    bool down = streq (node, origin);
    json_t *below = s_below (self, request);
    bool theirs = false;
    size_t index;
    json_t *one;
    json_array_foreach (below, index, one)
        theirs |= streq (en_json_str (one, "node"), node)
               && (!en_json_str (one, "who") || (who && streq (who, en_json_str (one, "who"))));
    int rc = 0;
    if (!down && (!theirs || streq (en_msg_command (msg), "MEMBERS")))
        rc = en_error_set (error, EN_ERR_FORBIDDEN, "'%s' may not pass %s about '%s' (its conversation is "
                           "held by %s)", node, en_msg_command (msg), id, origin);
    else
    if (!down && streq (en_json_str (request, "state"), "closed"))
        rc = en_error_set (error, EN_ERR_CONFLICT, "request '%s' is closed: its conversation has ended", id);
    zhashx_t *nodes = down ? s_nodes (below, NULL) : zhashx_new ();
    if (!down)
        zhashx_insert (nodes, origin, (void *) "");
    for (void *item = zhashx_first (nodes); item && rc == 0; item = zhashx_next (nodes)) {
        const char *to = (const char *) zhashx_cursor (nodes);
        char detail [128];
        snprintf (detail, sizeof detail, "%s to %s", en_msg_command (msg), to);
        if (s_queue (self, to, en_msg_command (msg), json_deep_copy (en_msg_body (msg)))
        ||  en_router_record (self->router, id, "relayed", NULL, detail))
            rc = en_router_failed (self->router, error);
    }
    if (rc == 0 && down && streq (en_msg_command (msg), "MESSAGE")
    &&  s_advice_confirmed (self, request, en_msg_body (msg)))
        rc = en_router_failed (self->router, error);
    zhashx_destroy (&nodes);
    json_decref (below);
    return rc;
}

//  When msg is about a request whose conversation is held elsewhere:
//  pass it on (who: the writer or reader it names), *passed true, and
//  its result; else 0.
static int
s_pass_handed (en_convo_t *self, const char *node, en_msg_t *msg, const char *who, bool *passed, en_error_t *error)
{
    json_t *handed = s_handed_over (self, en_msg_body (msg));
    *passed = handed != NULL;
    int rc = !handed ? 0
           : s_where (handed) == S_AT_ORIGIN ? s_pass_place (self, handed, node, msg, who, error)
           : s_pass (self, handed, node, msg, who, error);
    json_decref (handed);
    return rc;
}

int
en_convo_handle_members (en_convo_t *self, const char *node, en_msg_t *msg, en_error_t *error)
{
    bool passed;
    int rc = s_pass_handed (self, node, msg, NULL, &passed, error);
    return passed ? rc
                  : en_error_set (error, EN_ERR_NOT_FOUND, "no request '%s' handed to a peer here",
                                  en_json_str (en_msg_body (msg), "request") ?: "");
}

int
en_convo_handle_message (en_convo_t *self, const char *node, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    bool passed;
    int passing = s_pass_handed (self, node, msg, en_json_str (body, "from"), &passed, error);
    if (passed)
        return passing;
    const char *from = en_json_str (body, "from");
    const char *kind = en_json_str (body, "kind");
    if (!kind || (!streq (kind, "message") && !streq (kind, "advice")))
        return en_error_set (error, EN_ERR_INVALID, "field 'kind' must be message or advice");
    if (from && streq (kind, "advice") && streq (from, "team"))
        return en_error_set (error, EN_ERR_INVALID, "an advice comes from an expert, not from the team");
    json_t *request = NULL;
    json_t *participants = s_conversation (self, node, body, from, &request, error);
    if (!participants)
        return -1;
    const char *id = en_json_str (request, "id");
    json_t *sealed = json_object_get (body, "sealed");
    const char *box = en_json_str (body, "box");
    int rc = !box || !*box || strlen (box) > EN_MAX_BODY - 1024
           ? en_error_set (error, EN_ERR_INVALID, "field 'box' must be the encrypted text (base64)")
           : s_check_sealed (sealed, participants, id, error);
    if (rc == 0 && streq (kind, "advice"))
        rc = s_advice (self, request, from, error);
    if (rc == 0) {
        char digest [65];
        en_msg_digest (msg, digest);
        int64_t at = en_now_ms ();
        int64_t seq = en_bstore_convo_append (self->store, id, from, kind, at, digest, en_msg_id (msg));
        json_t *head = json_pack ("{s:s, s:I, s:s, s:s, s:I, s:s}", "request", id, "seq", (json_int_t) seq,
                                  "from", from, "kind", kind, "at", (json_int_t) at, "box", box);
        char detail [32];
        snprintf (detail, sizeof detail, "seq %" PRId64, seq);
        if (seq < 0 || s_relay (self, participants, head, sealed)
        ||  en_router_record (self->router, id, "message", streq (from, "team") ? NULL : from, detail))
            rc = en_router_failed (self->router, error);
        else
            en_db_log (en_bstore_db (self->store), "request %s: message %" PRId64 " (%s) from %s relayed",
                       id, seq, kind, from);
        json_decref (head);
    }
    json_decref (participants);
    json_decref (request);
    return rc;
}

int
en_convo_handle_receipt (en_convo_t *self, const char *node, en_msg_t *msg, en_error_t *error)
{
    json_t *body = en_msg_body (msg);
    bool passed;
    int passing = s_pass_handed (self, node, msg, en_json_str (body, "reader"), &passed, error);
    if (passed)
        return passing;
    const char *reader = en_json_str (body, "reader");
    json_t *seq_value = json_object_get (body, "seq");
    if (!json_is_integer (seq_value) || json_integer_value (seq_value) < 1)
        return en_error_set (error, EN_ERR_INVALID, "field 'seq' must be a message's seq (integer >= 1)");
    int64_t seq = json_integer_value (seq_value);
    json_t *request = NULL;
    json_t *participants = s_conversation (self, node, body, reader, &request, error);
    if (!participants)
        return -1;
    const char *id = en_json_str (request, "id");
    json_t *message = en_bstore_convo_message (self->store, id, seq);
    bool fresh = false;
    int rc = 0;
    int64_t at = en_now_ms ();
    if (!message)
        rc = en_error_set (error, EN_ERR_NOT_FOUND, "no message %" PRId64 " in the conversation of '%s'", seq, id);
    else
    if (en_bstore_convo_receipt_put (self->store, id, seq, reader, at, &fresh))
        rc = en_router_failed (self->router, error);
    else
    if (fresh) {
        zhashx_t *nodes = s_nodes (participants, NULL);
        for (void *item = zhashx_first (nodes); item && rc == 0; item = zhashx_next (nodes))
            rc = s_queue (self, (const char *) zhashx_cursor (nodes), "RECEIPT",
                          json_pack ("{s:s, s:I, s:s, s:I}", "request", id, "seq", (json_int_t) seq,
                                     "reader", reader, "at", (json_int_t) at));
        zhashx_destroy (&nodes);
        if (rc)
            rc = en_router_failed (self->router, error);
    }
    json_decref (message);
    json_decref (participants);
    json_decref (request);
    return rc;
}
