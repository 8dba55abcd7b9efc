/*  en_node - the region node daemon: keeps the region's requests, experts
    and offers, talks to the broker over one CURVE DEALER connection with
    heartbeats and a durable outbox, and serves the `expertnet` command on
    its control socket and notifications on its notify socket. */
#ifndef EN_NODE_H_INCLUDED
#define EN_NODE_H_INCLUDED

#include "en_nstore.h"

typedef struct _en_node_t en_node_t;

en_node_t *en_node_new (zconfig_t *config, en_error_t *error);
void en_node_destroy (en_node_t **self_p);
//  Serve until SIGINT/SIGTERM (returns 0) or SIGHUP (EN_DAEMON_RELOAD).
int en_node_run (en_node_t *self);
//  Apply a re-read configuration: timing and the broker endpoint.
void en_node_reload (en_node_t *self, zconfig_t *config);

#endif
