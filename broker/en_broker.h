/*  en_broker - the provincial broker server: sockets, event loop, group
    commit, heartbeats and timers, wiring the modules that do the rest.
    Routing decisions are en_router's; storage is en_bstore's; the
    control verbs are en_ops's; who may connect is en_enrolled's. */
#ifndef EN_BROKER_H_INCLUDED
#define EN_BROKER_H_INCLUDED

#include "en_router.h"

typedef struct _en_broker_t en_broker_t;

//  Create a broker from its configuration (see config/overijssel.cfg).
//  Binds its sockets. NULL with err on failure.
en_broker_t *en_broker_new (zconfig_t *config, en_error_t *error);
void en_broker_destroy (en_broker_t **self_p);

//  Serve until SIGINT/SIGTERM (returns 0) or SIGHUP (EN_DAEMON_RELOAD).
int en_broker_run (en_broker_t *self);

//  Apply a re-read configuration: timing, deadlines, regions.
void en_broker_reload (en_broker_t *self, zconfig_t *config);

#endif
