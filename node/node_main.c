/*  expertnet-node - the region node daemon (see en_node.c). */
#include "en_node.h"

int
main (int argc, char *argv [])
{
    const en_daemon_t daemon = {
        .program = "expertnet-node",
        .section = "node",
        .usage =
            "Runs a region node (embedded defaults: node 'twente' for region 'twente',\n"
            "broker tcp://127.0.0.1:7700, data in ./run/twente).\n"
            "Keys: DATADIR/keys/NAME.cert_secret must exist ('expertnet keygen'), and the\n"
            "broker's public cert at DATADIR/keys/broker.cert (or broker/cert in config).\n",
        .new_fn = (en_daemon_new_fn *) en_node_new,
        .run_fn = (en_daemon_run_fn *) en_node_run,
        .reload_fn = (en_daemon_reload_fn *) en_node_reload,
        .destroy_fn = (en_daemon_destroy_fn *) en_node_destroy,
    };
    return en_daemon_main (&daemon, argc, argv);
}
