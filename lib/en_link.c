/*  en_link - the client end of a link (see en_link.h).

    Written once for the node's link to its broker and each broker's link
    to a peer broker, which used to carry two copies of the same engine.
    The shape is Malamute's client engine, by hand and without a thread:
    the states and the events that move them are one table (s_transitions);
    the owner's loop drives the link (en_link_tick, and what it tells the
    link it heard), and the link calls its owner back for the actions only
    the owner can take (en_link_actions_t). No thread, because the owner
    handles what arrives in its own database transaction.

    Life cycle (the lazy pirate pattern). A fresh socket says the greeting
    every heartbeat until the server answers WELCOME; then the link is up
    and sends PING when it sent nothing, or heard nothing, for a heartbeat
    (at most one a heartbeat: a link busy with unanswered messages alone
    would otherwise hear nothing and be declared lost). Three heartbeats
    without a word and the link is lost: the socket is dropped and a fresh
    one made at once. While the server stays silent, each further fresh
    socket waits twice as long as the last, from backoff_min up to
    backoff_max. ZMQ_IMMEDIATE (en_keys_dealer) keeps libzmq from queuing
    for a connection that does not exist: the owner's outbox on disk is the
    only queue.

    Silence counts only while the owner listened: when its loop did not
    run for more than a heartbeat (the process paused or stopped, a slow
    disk), that stretch is credited to the link, the link PINGs at once,
    and its socket is read (the drain action) before it is declared lost,
    so what waits unread is never blamed on the server. */
#include "expertnet.h"

#define S_RESUME  -1            //  "the state the link had before it went not-enrolled"

//  The state machine: what each event does in each state. An event not
//  listed for a state leaves it where it is.
static const struct {
    en_link_state_t from;
    en_link_event_t event;
    int to;                     //  en_link_state_t, or S_RESUME
} s_transitions [] = {
    //  A fresh socket greets again, as what the link was
    { EN_LINK_CONNECTING,   EN_LINK_CONNECT,    EN_LINK_CONNECTING },
    { EN_LINK_UP,           EN_LINK_CONNECT,    EN_LINK_LOST },         //  a new endpoint (reload)
    { EN_LINK_LOST,         EN_LINK_CONNECT,    EN_LINK_LOST },
    { EN_LINK_REFUSED,      EN_LINK_CONNECT,    EN_LINK_REFUSED },
    { EN_LINK_NOT_ENROLLED, EN_LINK_CONNECT,    S_RESUME },
    //  No key for the server: no socket, asked again at the next attempt
    { EN_LINK_CONNECTING,   EN_LINK_NO_KEY,     EN_LINK_NOT_ENROLLED },
    { EN_LINK_UP,           EN_LINK_NO_KEY,     EN_LINK_NOT_ENROLLED },
    { EN_LINK_LOST,         EN_LINK_NO_KEY,     EN_LINK_NOT_ENROLLED },
    { EN_LINK_REFUSED,      EN_LINK_NO_KEY,     EN_LINK_NOT_ENROLLED },
    //  WELCOME opens the session, whatever came before
    { EN_LINK_CONNECTING,   EN_LINK_WELCOME,    EN_LINK_UP },
    { EN_LINK_LOST,         EN_LINK_WELCOME,    EN_LINK_UP },
    { EN_LINK_REFUSED,      EN_LINK_WELCOME,    EN_LINK_UP },
    //  Three heartbeats of silence, or a server that forgot the session
    //  (it restarted): greet again
    { EN_LINK_UP,           EN_LINK_SILENCE,    EN_LINK_LOST },
    { EN_LINK_UP,           EN_LINK_NO_SESSION, EN_LINK_LOST },
    //  Refused at connection level: keep greeting (and the outbox) until
    //  the server accepts us
    { EN_LINK_CONNECTING,   EN_LINK_REFUSAL,    EN_LINK_REFUSED },
    { EN_LINK_UP,           EN_LINK_REFUSAL,    EN_LINK_REFUSED },
    { EN_LINK_LOST,         EN_LINK_REFUSAL,    EN_LINK_REFUSED },
};

static const char *s_state_names [] = { "connecting", "up", "lost", "refused", "not-enrolled" };
static const char *s_event_names [] = { "connect", "no-key", "welcome", "silence", "no-session", "refusal" };

struct _en_link_t {
    char *peer;                 //  who is at the other end (logs)
    char *sender;               //  our name, on every message we send
    zcert_t *cert;              //  our CURVE key pair (not owned)
    en_signer_t *signer;        //  our signing key (not owned)
    zpoller_t *poller;          //  the owner's poller (not owned), or NULL
    en_link_actions_t actions;  //  the owner's callbacks
    void *arg;                  //  their argument
    char *endpoint;             //  where the server listens, or NULL
    char server_key [41];       //  its CURVE public key (z85), "" if unknown
    char *greeting;             //  "HELLO" or "LINK"
    json_t *greeting_body;      //  its body (copied for each send)
    en_clock_t *clock;          //  the server's clock (not owned), or NULL
    int64_t heartbeat_ms;       //  heartbeat
    int64_t backoff_min_ms;     //  first wait before a fresh socket
    int64_t backoff_max_ms;     //  longest wait
    en_link_state_t state;      //  see s_transitions
    en_link_state_t resume;     //  state to go back to when a key turns up
    zsock_t *sock;              //  DEALER to the server, or NULL
    char refusal [256];         //  "CODE reason" of the last refusal
    int64_t connect_at;         //  ms the socket was made (or tried)
    int64_t backoff_ms;         //  wait before the next fresh socket
    int64_t tick_at;            //  ms of the last tick: when the owner last looked
    int64_t last_rx;            //  ms we last heard from the server
    int64_t last_tx;            //  ms we last sent
    int64_t last_greeting;      //  ms of the last greeting
    int64_t last_ping;          //  ms of the last PING
    int64_t ping_sent;          //  ms of the PING in flight (round trip), 0 if none
    int64_t rtt_ms;             //  last PING round trip, -1 if unknown
    int64_t up_since;           //  ms the link came up
    int64_t last_ack;           //  ms of the last ACK (or WELCOME)
    uint64_t sent;              //  messages sent
};

en_link_t *
en_link_new (const char *peer, const char *sender, zcert_t *cert, en_signer_t *signer, zpoller_t *poller,
             const en_link_actions_t *actions, void *arg)
{
    assert (peer && sender);
    en_link_t *self = (en_link_t *) zmalloc (sizeof (en_link_t));
    assert (self);
    self->peer = strdup (peer);
    self->sender = strdup (sender);
    self->cert = cert;
    self->signer = signer;
    self->poller = poller;
    if (actions)
        self->actions = *actions;
    self->arg = arg;
    self->greeting = strdup ("HELLO");
    self->greeting_body = json_object ();
    self->heartbeat_ms = 1000;
    self->backoff_min_ms = 1000;
    self->backoff_max_ms = 30000;
    self->state = EN_LINK_CONNECTING;
    self->resume = EN_LINK_CONNECTING;
    self->rtt_ms = -1;
    return self;
}

static void
s_close (en_link_t *self)
{
    if (self->sock) {
        if (self->poller)
            zpoller_remove (self->poller, self->sock);
        zsock_destroy (&self->sock);
    }
    self->ping_sent = 0;
}

void
en_link_destroy (en_link_t **self_p)
{
    assert (self_p);
    en_link_t *self = *self_p;
    if (self) {
        s_close (self);
        free (self->peer);
        free (self->sender);
        free (self->endpoint);
        free (self->greeting);
        json_decref (self->greeting_body);
        free (self);
        *self_p = NULL;
    }
}

void
en_link_set_server (en_link_t *self, const char *endpoint, const char *server_key)
{
    free (self->endpoint);
    self->endpoint = endpoint ? strdup (endpoint) : NULL;
    if (server_key)
        snprintf (self->server_key, sizeof self->server_key, "%s", server_key);
}

void
en_link_set_greeting (en_link_t *self, const char *command, json_t *body)
{
    free (self->greeting);
    json_decref (self->greeting_body);
    self->greeting = strdup (command);
    self->greeting_body = body ? body : json_object ();
}

void
en_link_set_timing (en_link_t *self, int64_t heartbeat_ms, int64_t backoff_min_ms, int64_t backoff_max_ms)
{
    self->heartbeat_ms = MAX (heartbeat_ms, 1);
    self->backoff_min_ms = MAX (backoff_min_ms, 1);
    self->backoff_max_ms = MAX (backoff_max_ms, self->backoff_min_ms);
    if (self->backoff_ms)
        self->backoff_ms = MAX (MIN (self->backoff_ms, backoff_max_ms), backoff_min_ms);
}

void
en_link_set_clock (en_link_t *self, en_clock_t *clock)
{
    self->clock = clock;
}

//  Move the state machine; tells the owner when the state changed.
static void
s_event (en_link_t *self, en_link_event_t event)
{
    en_link_state_t from = self->state;
    size_t count = sizeof s_transitions / sizeof s_transitions [0];
    size_t index;
    for (index = 0; index < count; index++)
        if (s_transitions [index].from == from && s_transitions [index].event == event)
            break;
    if (index == count)
        return;                 //  nothing to do in this state
    int to = s_transitions [index].to;
    if (to == S_RESUME)
        to = self->resume;
    if (to == EN_LINK_NOT_ENROLLED && from != EN_LINK_NOT_ENROLLED)
        self->resume = from == EN_LINK_UP ? EN_LINK_LOST : from;
    self->state = (en_link_state_t) to;
    if (self->state != from && self->actions.changed)
        self->actions.changed (self, event, from, self->arg);
}

static void
s_connect (en_link_t *self, int64_t now)
{
    s_close (self);
    self->connect_at = now;
    self->last_greeting = 0;
    char key [41];
    snprintf (key, sizeof key, "%s", self->server_key);
    bool known = self->actions.key ? self->actions.key (self, key, self->arg) : *key != 0;
    if (!known || !self->endpoint) {
        s_event (self, EN_LINK_NO_KEY);
        return;
    }
    assert (self->cert);
    self->sock = en_keys_dealer (self->cert, key, self->endpoint, (int) self->heartbeat_ms);
    if (self->poller)
        zpoller_add (self->poller, self->sock);
    s_event (self, EN_LINK_CONNECT);
}

void
en_link_connect (en_link_t *self)
{
    s_connect (self, en_now_ms ());
}

int
en_link_send (en_link_t *self, en_msg_t *msg)
{
    if (!self->sock || en_msg_send (msg, self->sock, NULL, self->signer))
        return -1;
    self->last_tx = en_now_ms ();
    self->sent++;
    if (self->actions.sent)
        self->actions.sent (self, msg, self->arg);
    return 0;
}

int
en_link_say (en_link_t *self, const char *command, json_t *body)
{
    en_msg_t *msg = en_msg_new (command, self->sender, body);
    int rc = en_link_send (self, msg);
    en_msg_destroy (&msg);
    return rc;
}

//  PING, with the owner's fields and what we measured of the server's
//  clock (so it can judge our timestamps and show the offset)
static void
s_ping (en_link_t *self, int64_t now)
{
    self->last_ping = now;
    if (!self->ping_sent || now - self->ping_sent > 3 * self->heartbeat_ms)
        self->ping_sent = now;          //  (a PONG lost: measure this one)
    json_t *body = json_object ();
    if (self->actions.ping)
        self->actions.ping (self, body, self->arg);
    if (self->clock && en_clock_rtt (self->clock) >= 0) {
        json_object_set_new (body, "offset", json_integer (en_clock_offset (self->clock)));
        json_object_set_new (body, "rtt", json_integer (en_clock_rtt (self->clock)));
    }
    en_link_say (self, "PING", body);
}

//  The owner's loop did not run for more than a heartbeat: nobody
//  listened, so that silence is not the server's. Credit it, and PING at
//  once to hear from it again.
static void
s_credit_pause (en_link_t *self, int64_t now)
{
    int64_t away = self->tick_at ? now - self->tick_at : 0;
    self->tick_at = now;
    if (away > self->heartbeat_ms) {
        self->last_rx = MIN (self->last_rx + away, now);
        self->last_ack = MIN (self->last_ack + away, now);
        self->last_ping = 0;
        self->ping_sent = 0;
    }
}

void
en_link_tick (en_link_t *self, int64_t now)
{
    s_credit_pause (self, now);
    if (!self->backoff_ms)
        self->backoff_ms = self->backoff_min_ms;
    bool silent = self->state == EN_LINK_UP && now - self->last_rx > 3 * self->heartbeat_ms;
    //  Read what waits before judging: the owner's poller hands over one
    //  socket per turn, and the answer may be there already
    if (silent && self->sock && (zsock_events (self->sock) & ZMQ_POLLIN) && self->actions.drain) {
        self->actions.drain (self, self->arg);
        silent = self->state == EN_LINK_UP && now - self->last_rx > 3 * self->heartbeat_ms;
    }
    if (silent) {
        s_event (self, EN_LINK_SILENCE);
        s_connect (self, now);
    }
    else
    if (self->state != EN_LINK_UP && now - self->connect_at >= self->backoff_ms
    &&  now - self->last_rx > self->backoff_ms) {
        //  Not welcomed for a while (or never connected): a fresh socket,
        //  and a longer wait before the next
        if (self->sock)
            self->backoff_ms = MIN (self->backoff_ms * 2, self->backoff_max_ms);
        s_connect (self, now);
    }
    if (!self->sock)
        return;
    if (self->state != EN_LINK_UP && now - self->last_greeting >= self->heartbeat_ms) {
        en_link_say (self, self->greeting, json_deep_copy (self->greeting_body));
        self->last_greeting = now;
    }
    else
    if (self->state == EN_LINK_UP && now - self->last_ping >= self->heartbeat_ms
    &&  (now - self->last_tx >= self->heartbeat_ms || now - self->last_rx >= self->heartbeat_ms))
        s_ping (self, now);
}

void
en_link_heard (en_link_t *self, int64_t now)
{
    self->last_rx = now;
}

void
en_link_welcome (en_link_t *self, int64_t now)
{
    if (self->state != EN_LINK_UP) {
        self->up_since = now;
        self->last_ack = now;
        self->backoff_ms = self->backoff_min_ms;
    }
    s_event (self, EN_LINK_WELCOME);
}

void
en_link_refused (en_link_t *self, int code, const char *reason)
{
    if (code == EN_ERR_NO_SESSION)
        s_event (self, EN_LINK_NO_SESSION);
    else {
        snprintf (self->refusal, sizeof self->refusal, "%d %s", code, reason ? reason : "");
        s_event (self, EN_LINK_REFUSAL);
    }
}

void
en_link_pong (en_link_t *self, int64_t now)
{
    if (self->ping_sent) {
        self->rtt_ms = now - self->ping_sent;
        self->ping_sent = 0;
    }
}

void
en_link_acked (en_link_t *self, int64_t now)
{
    self->last_ack = now;
}

en_link_state_t
en_link_state (en_link_t *self)
{
    return self->state;
}

//  How long the link has been silent while the owner listened. Until the
//  next tick credits it, a stretch of more than a heartbeat since the
//  last one (the loop did not run) does not count: messages may wait
//  unread in the socket.
static int64_t
s_silence (en_link_t *self, int64_t now)
{
    int64_t away = self->tick_at ? now - self->tick_at : 0;
    return now - self->last_rx - (away > self->heartbeat_ms ? away : 0);
}

bool
en_link_up (en_link_t *self, int64_t now)
{
    return self->state == EN_LINK_UP && s_silence (self, now) <= 3 * self->heartbeat_ms;
}

const char *
en_link_state_name (en_link_t *self, int64_t queued, int64_t retry_ms, int64_t now)
{
    if (self->state == EN_LINK_NOT_ENROLLED)
        return "not-enrolled";
    if (en_link_up (self, now))
        //  Connected is not the same as delivering
        return queued > 0 && now - self->last_ack > 3 * retry_ms ? "blocked" : "up";
    return self->state == EN_LINK_REFUSED ? "refused"
         : self->state == EN_LINK_CONNECTING ? "connecting" : "down";
}

const char *
en_link_state_text (en_link_state_t state)
{
    return (unsigned) state <= EN_LINK_NOT_ENROLLED ? s_state_names [state] : "?";
}

const char *
en_link_event_text (en_link_event_t event)
{
    return (unsigned) event <= EN_LINK_REFUSAL ? s_event_names [event] : "?";
}

zsock_t *
en_link_sock (en_link_t *self)
{
    return self->sock;
}

const char *
en_link_peer (en_link_t *self)
{
    return self->peer;
}

const char *
en_link_endpoint (en_link_t *self)
{
    return self->endpoint ? self->endpoint : "";
}

const char *
en_link_refusal (en_link_t *self)
{
    return self->refusal;
}

int64_t
en_link_heard_at (en_link_t *self)
{
    return self->last_rx;
}

int64_t
en_link_up_since (en_link_t *self)
{
    return self->state == EN_LINK_UP ? self->up_since : 0;
}

int64_t
en_link_rtt (en_link_t *self)
{
    return self->rtt_ms;
}

uint64_t
en_link_sent (en_link_t *self)
{
    return self->sent;
}

int64_t
en_link_backoff (en_link_t *self)
{
    return self->backoff_ms ? self->backoff_ms : self->backoff_min_ms;
}
