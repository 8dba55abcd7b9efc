/*  en_clock - the daemons' clock, and what each end of a link knows of
    the other's.

    Time in a daemon runs on the monotonic clock from a wall-clock anchor
    taken at start (en_clock_anchor): en_now_ms () is then "the wall clock
    as it was at start, plus the time elapsed since". A jump of the system
    clock while the daemon runs (a bad NTP step, an operator's `date -s`)
    moves no deadline and no timer: offers do not all expire at once, a
    crisis offer does not get a two-hour deadline. A restart re-anchors.
    Outside a daemon (the CLI, tests) nothing is anchored and en_now_ms ()
    is the wall clock.

    en_clock_t is one link's view of the peer's clock: the offset (peer
    minus us, ms) measured from a round trip (HELLO/WELCOME, PING/PONG,
    LINK/WELCOME carry the times, see docs/protocol.md "Clocks"), or told
    by the peer, or, from an older peer, estimated one way from its
    timestamps. Message timestamps from the peer are judged against the
    peer's clock as measured, so two ends whose clocks differ by an hour
    still accept each other's messages, and the replay window keeps its
    meaning (see en_clock_check). An offset beyond the alert threshold is
    logged once as a warning, and once more when it is back within.
*/
#ifndef EN_CLOCK_H_INCLUDED
#define EN_CLOCK_H_INCLUDED

//  Offsets larger than this are not corrected for: such a clock is
//  broken, and the timestamp window applies as if nothing were measured.
//  (Bounded well under the 30-day dedup memory minus the 7-day window, so
//  a corrected window can never admit a replay from beyond that memory.)
#define EN_CLOCK_MAX_CORRECTION_MS  (86400LL * 1000)
//  Round trips longer than this give no usable offset.
#define EN_CLOCK_MAX_RTT_MS         (10LL * 1000)
//  Default alert threshold (config node/clock_alert, broker/clock_alert).
#define EN_CLOCK_ALERT_MS           (30LL * 1000)

//  Anchor en_now_ms () to the monotonic clock (daemons, once at start).
void en_clock_anchor (void);
//  The system's wall clock, unanchored (ms since the epoch).
int64_t en_clock_wall_ms (void);
//  How far the system clock has moved from this process's clock since
//  the anchor (wall minus en_now_ms (), ms); 0 when not anchored.
int64_t en_clock_drift_ms (void);
//  Say once (a warning) that the system clock moved more than alert_ms
//  from this process's clock; *said holds whether it is said (cleared
//  when the clock comes back within, so a new move is said again). who names the daemon ("broker"),
//  kept what keeps the clock of the start ("deadlines and timestamps").
void en_clock_drift_warn (int64_t alert_ms, bool *said, const char *who, const char *kept);

typedef struct _en_clock_t en_clock_t;

//  The view of one peer's clock; peer names it in log lines.
en_clock_t *en_clock_new (const char *peer, int64_t alert_ms);
void en_clock_destroy (en_clock_t **self_p);
void en_clock_set_alert (en_clock_t *self, int64_t alert_ms);

//  A round trip: we sent at `sent` (our clock), the peer answered stamped
//  `peer_time` (its clock), we received at `received`. Returns 0 if used,
//  -1 if the round trip was implausible (negative or too long).
int en_clock_round_trip (en_clock_t *self, int64_t sent, int64_t peer_time, int64_t received);
//  The peer told us what it measured of OUR clock (our offset from it,
//  its round trip); stored negated. Returns 0, or -1 if implausible.
int en_clock_told (en_clock_t *self, int64_t our_offset, int64_t rtt);
//  A one-way estimate from a message the peer just created (HELLO,
//  PING): used only while no round trip of the last minute is known.
void en_clock_one_way (en_clock_t *self, int64_t peer_time, int64_t received);

//  Forget the measurement (a new session: the peer may be another
//  process now). The alert state is kept, so a lasting offset is not
//  logged again.
void en_clock_reset (en_clock_t *self);

bool en_clock_known (en_clock_t *self);
//  Peer's clock minus ours, ms (0 while unknown).
int64_t en_clock_offset (en_clock_t *self);
//  The round trip the offset came from, ms; -1 if none (one way, told).
int64_t en_clock_rtt (en_clock_t *self);

//  The timestamp window (en_msg_check_time) judged against the peer's
//  clock as measured: now + offset, when known and within
//  EN_CLOCK_MAX_CORRECTION_MS. 0 or -1 with error set (403).
int en_clock_check (en_clock_t *self, en_msg_t *msg, int64_t now, en_error_t *error);

//  {offset_ms, rtt_ms, how: "round-trip"|"told"|"one-way", at, alert}
//  or null while nothing is measured. Caller owns it.
json_t *en_clock_status (en_clock_t *self);

//  Selftest
void en_clock_test (bool verbose);

#endif
