/*  =========================================================================
    en_link - the client end of a link: a node's to its broker, a broker's
    to a peer broker (docs/protocol.md, "Connection and heartbeating" and
    "Federation / Links")

    One engine for both: a DEALER socket (CURVE client pinned to the
    server's key), the greeting (HELLO for a node, LINK for a broker) every
    heartbeat until the server answers WELCOME, PING when the link has been
    quiet for a heartbeat, the link declared lost after three heartbeats of
    silence, and fresh sockets with backoff while nobody answers (the lazy
    pirate pattern).

    States (en_link_state_t) and what moves them (en_link_event_t) are
    declared in one table in en_link.c:

        connecting   greeting, never welcomed since start
        up           welcomed, and heard within three heartbeats
        lost         was up, then silence or "no session": greeting again
        refused      the server refused us at connection level (reason kept)
        not-enrolled no key for the server: no socket is made

    "blocked" is a view of up, not a state: up, messages queued, and
    nothing acknowledged for three retry intervals (en_link_state_name).

    The engine does not read its socket: the owner does (it decodes,
    verifies and handles in its own transaction) and tells the link what
    it heard (en_link_heard, en_link_welcome, en_link_refused, en_link_pong,
    en_link_acked). The link calls its owner back (en_link_actions_t) for
    what only the owner knows: the server's key before each fresh socket,
    the owner's PING fields, "read what waits now" before the link is
    judged silent, and every change of state, so the owner can resend its
    outbox when the link comes up and log in its own words.
    =========================================================================
*/
#ifndef EN_LINK_H_INCLUDED
#define EN_LINK_H_INCLUDED

typedef struct _en_link_t en_link_t;

typedef enum {
    EN_LINK_CONNECTING,         //  greeting, never welcomed since start
    EN_LINK_UP,                 //  welcomed, heard within three heartbeats
    EN_LINK_LOST,               //  was up; greeting again ("down" to operators)
    EN_LINK_REFUSED,            //  the server refuses us (connection-level ERROR)
    EN_LINK_NOT_ENROLLED        //  no key for the server: no socket
} en_link_state_t;

typedef enum {
    EN_LINK_CONNECT,            //  a fresh socket was made (the key is known)
    EN_LINK_NO_KEY,             //  a fresh socket was due, but there is no key
    EN_LINK_WELCOME,            //  the server answered the greeting
    EN_LINK_SILENCE,            //  nothing heard for three heartbeats while up
    EN_LINK_NO_SESSION,         //  ERROR 401 with ref "": the server forgot us
    EN_LINK_REFUSAL             //  any other ERROR with ref ""
} en_link_event_t;

//  What the link asks of its owner; every member may be NULL. arg is
//  the one given to en_link_new.
typedef struct {
    //  The server's CURVE public key (z85) before each fresh socket; false
    //  if there is none (the link goes not-enrolled and asks again at the
    //  next attempt). NULL: the key given to en_link_set_server.
    bool (*key) (en_link_t *link, char server_key [41], void *arg);
    //  Add the owner's fields to a PING body.
    void (*ping) (en_link_t *link, json_t *body, void *arg);
    //  Read what waits on the socket now: the link is about to be judged
    //  silent, and the answer may be there already.
    void (*drain) (en_link_t *link, void *arg);
    //  The state changed (event moved it from `from` to en_link_state).
    void (*changed) (en_link_t *link, en_link_event_t event, en_link_state_t from, void *arg);
    //  A message went out on the socket (for counting).
    void (*sent) (en_link_t *link, en_msg_t *msg, void *arg);
} en_link_actions_t;

//  A link to `peer` (a name for logs and clocks). Messages go out as
//  `sender`, signed with signer (not owned), over a CURVE socket made with
//  cert (not owned; may be NULL while the key action finds no key); each
//  fresh socket is added to poller (not owned, may be NULL). The link
//  makes no socket until en_link_connect or a tick.
en_link_t *en_link_new (const char *peer, const char *sender, zcert_t *cert, en_signer_t *signer,
                        zpoller_t *poller, const en_link_actions_t *actions, void *arg);
//  Close the socket (removed from the poller) and free.
void en_link_destroy (en_link_t **self_p);

//  Where the server listens and its key (NULL: the one given before, or
//  the key action's). Takes effect at the next fresh socket.
void en_link_set_server (en_link_t *self, const char *endpoint, const char *server_key);
//  The greeting said until welcomed: command and body (stolen; a copy
//  goes out each time).
void en_link_set_greeting (en_link_t *self, const char *command, json_t *body);
//  Heartbeat; the wait before a fresh socket while not welcomed starts at
//  backoff_min_ms and doubles, while the server stays silent, up to
//  backoff_max_ms (equal: a fixed wait).
void en_link_set_timing (en_link_t *self, int64_t heartbeat_ms, int64_t backoff_min_ms, int64_t backoff_max_ms);
//  The server's clock as measured (not owned): each PING tells the server
//  the offset and round trip, once one is known.
void en_link_set_clock (en_link_t *self, en_clock_t *clock);

//  Drop the socket and make a fresh one now (or go not-enrolled).
void en_link_connect (en_link_t *self);
//  Timers, at least every quarter heartbeat: credit a pause of our own
//  loop, judge silence, fresh sockets with backoff, greeting, PING.
void en_link_tick (en_link_t *self, int64_t now);

//  Send msg now (signed). 0, or -1 when there is no socket or no
//  connection to take it (the caller's outbox keeps it).
int en_link_send (en_link_t *self, en_msg_t *msg);
//  Send an unreliable message (body stolen). 0 or -1 as en_link_send.
int en_link_say (en_link_t *self, const char *command, json_t *body);

//  What the owner heard on the socket (at now, our clock): a message that
//  decoded and verified; the WELCOME; a connection-level ERROR; the PONG
//  to our PING (round trip); an ACK that removed a queued message.
void en_link_heard (en_link_t *self, int64_t now);
void en_link_welcome (en_link_t *self, int64_t now);
void en_link_refused (en_link_t *self, int code, const char *reason);
void en_link_pong (en_link_t *self, int64_t now);
void en_link_acked (en_link_t *self, int64_t now);

en_link_state_t en_link_state (en_link_t *self);
//  Up: welcomed, and silent for at most three heartbeats while this
//  loop listened.
bool en_link_up (en_link_t *self, int64_t now);
//  For operators: "connecting", "up", "blocked" (up, queued > 0, nothing
//  acknowledged for three times retry_ms), "down" (lost), "refused",
//  "not-enrolled".
const char *en_link_state_name (en_link_t *self, int64_t queued, int64_t retry_ms, int64_t now);
//  The names of states and events, for logs and tests.
const char *en_link_state_text (en_link_state_t state);
const char *en_link_event_text (en_link_event_t event);

//  The socket (to tell it apart in a poller), or NULL.
zsock_t *en_link_sock (en_link_t *self);
const char *en_link_peer (en_link_t *self);
const char *en_link_endpoint (en_link_t *self);
//  "CODE reason" of the last refusal ("" if none).
const char *en_link_refusal (en_link_t *self);
//  ms we last heard from the server (0 never), the link came up (0 if not
//  up), the last PING round trip (-1 unknown), messages sent, the wait
//  before the next fresh socket.
int64_t en_link_heard_at (en_link_t *self);
int64_t en_link_up_since (en_link_t *self);
int64_t en_link_rtt (en_link_t *self);
uint64_t en_link_sent (en_link_t *self);
int64_t en_link_backoff (en_link_t *self);

#endif
