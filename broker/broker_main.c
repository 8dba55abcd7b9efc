/*  expertnet-broker - the provincial broker daemon (see en_broker.c). */
#include "en_broker.h"

int
main (int argc, char *argv [])
{
    const en_daemon_t daemon = {
        .program = "expertnet-broker",
        .section = "broker",
        .usage =
            "Runs a provincial broker (embedded defaults: 'overijssel' on\n"
            "tcp://127.0.0.1:7700, data in ./run/overijssel).\n"
            "Keys: DATADIR/keys/NAME.cert_secret must exist ('expertnet keygen --name NAME\n"
            "--dir DATADIR/keys'); a node is enrolled by copying its public NAME.cert into\n"
            "DATADIR/enrolled/ ('expertnet enroll'), which takes effect without a restart.\n",
        .new_fn = (en_daemon_new_fn *) en_broker_new,
        .run_fn = (en_daemon_run_fn *) en_broker_run,
        .reload_fn = (en_daemon_reload_fn *) en_broker_reload,
        .destroy_fn = (en_daemon_destroy_fn *) en_broker_destroy,
    };
    return en_daemon_main (&daemon, argc, argv);
}
