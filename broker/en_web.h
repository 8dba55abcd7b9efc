/*  en_web - the operators' dashboard: HTTP (libmicrohttpd, one internal
    thread), login and sessions, the pages, the JSON API and /metrics.

    The web thread holds no broker state. It asks the broker loop over
    the broker's dashboard control socket (inproc), so the store keeps a
    single writer; the overview and /metrics it reads itself, on a
    read-only connection to the store at store_path (WAL: it reads while
    the loop writes), with what only the loop knows asked of it. What it keeps itself: sessions and
    failed-login counters, in memory, lost at restart (operators log in
    again). */
#ifndef EN_WEB_H_INCLUDED
#define EN_WEB_H_INCLUDED

#include "expertnet.h"

#define EN_WEB_DEFAULT_ADDRESS "127.0.0.1:8080"

typedef struct _en_web_t en_web_t;

//  Start the dashboard as configured (section "web": address, session,
//  idle, attempts, lockout, secure_cookie; see deploy/etc/broker.cfg),
//  asking the broker through control_endpoint. NULL with error set when
//  the address does not parse or cannot be bound.
en_web_t *en_web_new (zconfig_t *config, const char *control_endpoint, const char *broker_name,
                      const char *store_path, en_error_t *error);

//  Stop serving (waits for the request in progress) and free.
void en_web_destroy (en_web_t **self_p);

#endif
