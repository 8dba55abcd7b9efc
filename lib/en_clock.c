/*  en_clock - the daemons' clock, and the measured offset of a peer's.

    Why an anchor. Offer deadlines, heartbeats and retries are compared
    with "now". If now is the wall clock, a step of the system clock
    while the broker runs expires every open offer at once (forward) or
    stretches a ten-minute crisis deadline by the size of the step
    (backward). So a daemon reads the wall clock once, at start, and from
    then on adds CLOCK_MONOTONIC's elapsed time. Everything it stores and
    stamps stays in that one time frame, consistent with itself; peers
    measure the frame's offset from theirs and allow for it. The price: a
    daemon started with a wrong clock keeps it until restarted, even after
    NTP fixes the system clock; en_clock_drift_ms () shows how far apart
    the two are, and the daemons log it (see en_broker.c, en_node.c).

    The anchor is written once, before any thread starts, and only read
    afterwards; it is the one piece of process state here, like CZMQ's
    zsys_init.

    Offsets. A round trip gives offset = peer_time - (sent + received) / 2,
    accurate to half the round trip. The broker's node links are measured
    at the node (HELLO/PING -> WELCOME/PONG) and told to the broker in the
    next PING; a peer that sends no times (an older version) is estimated
    one way from the timestamps of its fresh messages, off by the one-way
    delay, which matters little against a five-minute window.
*/
#include "expertnet.h"
#include <time.h>

static int64_t s_anchor_wall = 0;   //  wall ms at the anchor, 0 if none
static int64_t s_anchor_mono = 0;   //  monotonic ms at the anchor

static int64_t
s_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
en_clock_wall_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
en_clock_anchor (void)
{
    s_anchor_mono = s_mono_ms ();
    s_anchor_wall = en_clock_wall_ms ();
}

int64_t
en_now_ms (void)
{
    if (!s_anchor_wall)
        return en_clock_wall_ms ();
    return s_anchor_wall + (s_mono_ms () - s_anchor_mono);
}

int64_t
en_clock_drift_ms (void)
{
    return s_anchor_wall ? en_clock_wall_ms () - en_now_ms () : 0;
}

void
en_clock_drift_warn (int64_t alert_ms, bool *said, const char *who, const char *kept)
{
    bool drifted = llabs (en_clock_drift_ms ()) > alert_ms;
    if (drifted && !*said)
        zsys_warning ("the system clock moved %+.1f s since this %s started; %s keep the clock of the start "
                      "(restart the %s to take the new time)", en_clock_drift_ms () / 1000.0, who, kept, who);
    *said = drifted;
}

//  --------------------------------------------------------------------
//  One peer's clock

typedef enum { S_NONE, S_ONE_WAY, S_TOLD, S_ROUND_TRIP } s_how_t;

struct _en_clock_t {
    char *peer;                 //  who, for log lines
    int64_t alert_ms;           //  warn when |offset| exceeds this
    s_how_t how;                //  where the offset came from
    int64_t offset;             //  peer's clock minus ours, ms
    int64_t rtt;                //  its round trip, -1 if not measured here
    int64_t at;                 //  our ms of the measurement
    bool alerted;               //  the warning is out, not yet cleared
};

en_clock_t *
en_clock_new (const char *peer, int64_t alert_ms)
{
    en_clock_t *self = (en_clock_t *) zmalloc (sizeof (en_clock_t));
    assert (self);
    self->peer = strdup (peer);
    self->alert_ms = alert_ms > 0 ? alert_ms : EN_CLOCK_ALERT_MS;
    self->rtt = -1;
    return self;
}

void
en_clock_destroy (en_clock_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free ((*self_p)->peer);
        free (*self_p);
        *self_p = NULL;
    }
}

void
en_clock_set_alert (en_clock_t *self, int64_t alert_ms)
{
    self->alert_ms = alert_ms > 0 ? alert_ms : EN_CLOCK_ALERT_MS;
}

//  A new offset: log once when it crosses the threshold, once when back
static void
s_update (en_clock_t *self, s_how_t how, int64_t offset, int64_t rtt, int64_t now)
{
    self->how = how;
    self->offset = offset;
    self->rtt = rtt;
    self->at = now;
    bool over = llabs (offset) > self->alert_ms;
    if (over && !self->alerted) {
        char method [64];
        if (how == S_ONE_WAY)
            snprintf (method, sizeof method, "estimated one way");
        else
            snprintf (method, sizeof method, "%sround trip %lld ms", how == S_TOLD ? "its " : "",
                      (long long) rtt);
        zsys_warning ("clock of %s is %+.1f s off ours (%s), more than the %lld s alert threshold: "
                      "check NTP on both; its timestamps are judged against the measured offset",
                      self->peer, offset / 1000.0, method, (long long) self->alert_ms / 1000);
    }
    else
    if (!over && self->alerted)
        zsys_info ("clock of %s is back within %lld s of ours (%+.1f s)", self->peer,
                   (long long) self->alert_ms / 1000, offset / 1000.0);
    self->alerted = over;
}

int
en_clock_round_trip (en_clock_t *self, int64_t sent, int64_t peer_time, int64_t received)
{
    int64_t rtt = received - sent;
    if (sent <= 0 || peer_time <= 0 || rtt < 0 || rtt > EN_CLOCK_MAX_RTT_MS)
        return -1;
    s_update (self, S_ROUND_TRIP, peer_time - (sent + rtt / 2), rtt, received);
    return 0;
}

int
en_clock_told (en_clock_t *self, int64_t our_offset, int64_t rtt)
{
    if (rtt < 0 || rtt > EN_CLOCK_MAX_RTT_MS)
        return -1;
    s_update (self, S_TOLD, -our_offset, rtt, en_now_ms ());
    return 0;
}

void
en_clock_one_way (en_clock_t *self, int64_t peer_time, int64_t received)
{
    if ((self->how == S_ROUND_TRIP || self->how == S_TOLD) && received - self->at < 60 * 1000)
        return;
    s_update (self, S_ONE_WAY, peer_time - received, -1, received);
}

void
en_clock_reset (en_clock_t *self)
{
    self->how = S_NONE;
    self->rtt = -1;
}

bool
en_clock_known (en_clock_t *self)
{
    return self->how != S_NONE;
}

int64_t
en_clock_offset (en_clock_t *self)
{
    return self->how != S_NONE ? self->offset : 0;
}

int64_t
en_clock_rtt (en_clock_t *self)
{
    return self->rtt;
}

int
en_clock_check (en_clock_t *self, en_msg_t *msg, int64_t now, en_error_t *error)
{
    int64_t offset = self ? en_clock_offset (self) : 0;
    if (llabs (offset) > EN_CLOCK_MAX_CORRECTION_MS)
        offset = 0;
    return en_msg_check_time (msg, now + offset, error);
}

json_t *
en_clock_status (en_clock_t *self)
{
    if (!self || self->how == S_NONE)
        return json_null ();
    static const char *hows [] = { "none", "one-way", "told", "round-trip" };
    json_t *status = json_pack ("{s:I, s:s, s:I, s:b}", "offset_ms", (json_int_t) self->offset,
                                "how", hows [self->how], "at", (json_int_t) self->at,
                                "alert", self->alerted);
    json_object_set_new (status, "rtt_ms", self->rtt >= 0 ? json_integer (self->rtt) : json_null ());
    return status;
}

void
en_clock_test (bool verbose)
{
    en_clock_t *clock = en_clock_new ("test", 30000);
    assert (!en_clock_known (clock));
    //  Peer an hour ahead, 20 ms round trip
    assert (en_clock_round_trip (clock, 1000000, 1000010 + 3600000, 1000020) == 0);
    assert (en_clock_offset (clock) == 3600000);
    assert (en_clock_rtt (clock) == 20);
    assert (en_clock_round_trip (clock, 1000000, 5, 999999) == -1);
    //  A one-way estimate does not replace a fresh round trip
    en_clock_one_way (clock, 1000030, 1000030);
    assert (en_clock_offset (clock) == 3600000);
    en_clock_told (clock, 7200000, 4);
    assert (en_clock_offset (clock) == -7200000);
    en_clock_destroy (&clock);
    en_clock_destroy (&clock);
}
