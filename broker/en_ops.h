/*  en_ops - the broker's control verbs: what `expertnet broker ...` and
    the dashboard ask of the broker over its control sockets (status and
    figures, requests, reports, operator actions, operators and API
    tokens, the access log). One table of verbs; see en_ops.c. */
#ifndef EN_OPS_H_INCLUDED
#define EN_OPS_H_INCLUDED

#include "en_router.h"
#include "en_fed.h"
#include "en_enrolled.h"

//  What only the server loop knows, read when a verb needs it (status,
//  overview, metrics): {sessions: {NAME: {region (absent before HELLO),
//  connected, last_seen, clock (en_clock_status), clock_offset_ms (when
//  measured)}}, received, rejected, refused}, sessions in the loop's
//  order. Owned by the caller.
typedef json_t *(en_ops_live_fn) (void *arg);

//  A verb wrote to the store and queued messages: send them now.
typedef void (en_ops_written_fn) (void *arg);

//  What the verbs work on: the broker's collaborators (borrowed, they
//  outlive the ops) and its identity.
typedef struct {
    const char *name;           //  the broker's name (reports, audit actor)
    const char *store_id;       //  our store's identity
    const char *endpoint;       //  where nodes connect
    const char *datadir;        //  data directory (store size, disk-full reason)
    int64_t started;            //  ms at start
    en_bstore_t *store;         //  the store
    en_router_t *router;        //  the routing state machine (operator actions)
    en_fed_t *fed;              //  links to peer brokers
    en_enrolled_t *enrolled;    //  who may connect
    en_metrics_t *metrics;      //  counters and histograms of this run
    en_ops_live_fn *live;       //  the server loop's sessions and counters
    en_ops_written_fn *written; //  flush what a verb queued
    void *arg;                  //  for live and written
} en_ops_context_t;

typedef struct _en_ops_t en_ops_t;

//  The verbs, working on what context names (copied; its pointers are
//  borrowed).
en_ops_t *en_ops_new (const en_ops_context_t *context);
void en_ops_destroy (en_ops_t **self_p);

//  Answer one control request waiting on sock (en_control framing).
//  internal: the dashboard's socket, which may also use the verbs that
//  hand out secrets' hashes (an operator's password hash, a token lookup).
void en_ops_handle (en_ops_t *self, zsock_t *sock, bool internal);

#endif
