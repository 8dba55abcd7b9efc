/*  expertnet-broker - the provincial broker daemon.

    Usage: expertnet-broker [-c CONFIG] [--datadir DIR] [--endpoint EP] [-v]
    Without -c it runs with the embedded defaults (broker "overijssel" on
    tcp://127.0.0.1:7700, data in ./run/overijssel). */
#include "en_broker.h"
#include <sodium.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: expertnet-broker [-c CONFIG] [--datadir DIR] [--endpoint ENDPOINT]\n"
        "\n"
        "Runs a provincial expertnet broker until SIGTERM/SIGINT.\n"
        "  -c, --config FILE   ZPL configuration (see config/overijssel.cfg)\n"
        "  --datadir DIR       override broker/datadir\n"
        "  --endpoint EP       override broker/endpoint\n"
        "  --version           print the version\n"
        "Keys: the broker's key pair must exist as DATADIR/keys/NAME.cert_secret\n"
        "('expertnet keygen --name NAME --dir DATADIR/keys'); nodes are enrolled by\n"
        "copying their public NAME.cert into DATADIR/enrolled/.\n");
}

int
main (int argc, char *argv [])
{
    const char *config_path = NULL, *datadir = NULL, *endpoint = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv [i];
        if ((streq (arg, "-c") || streq (arg, "--config")) && i + 1 < argc)
            config_path = argv [++i];
        else
        if (streq (arg, "--datadir") && i + 1 < argc)
            datadir = argv [++i];
        else
        if (streq (arg, "--endpoint") && i + 1 < argc)
            endpoint = argv [++i];
        else
        if (streq (arg, "-h") || streq (arg, "--help")) {
            s_usage (stdout);
            return 0;
        }
        else
        if (streq (arg, "--version")) {
            printf ("expertnet-broker %s\n", EXPERTNET_VERSION);
            return 0;
        }
        else {
            fprintf (stderr, "expertnet-broker: unknown argument '%s'\n", arg);
            s_usage (stderr);
            return 2;
        }
    }
    if (sodium_init () < 0) {
        fprintf (stderr, "expertnet-broker: libsodium failed to initialise\n");
        return 1;
    }
    zsys_init ();
    zsys_set_logident ("expertnet-broker");
    zconfig_t *config = config_path ? zconfig_load (config_path) : zconfig_new ("root", NULL);
    if (!config) {
        fprintf (stderr, "expertnet-broker: cannot read config %s\n", config_path);
        return 1;
    }
    if (datadir)
        zconfig_put (config, "broker/datadir", datadir);
    if (endpoint)
        zconfig_put (config, "broker/endpoint", endpoint);
    char err [512];
    en_broker_t *broker = en_broker_new (config, err, sizeof err);
    zconfig_destroy (&config);
    if (!broker) {
        fprintf (stderr, "expertnet-broker: %s\n", err);
        return 1;
    }
    int rc = en_broker_run (broker);
    en_broker_destroy (&broker);
    return rc;
}
