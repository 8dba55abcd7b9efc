/*  expertnet-broker - the provincial broker daemon (see en_broker.c). */
#include "en_broker.h"

//  Every key the broker reads (en_broker.c, en_fed.c, en_web.c), with its
//  type: anything else in its configuration stops it (en_config.h).
static const en_conf_key_t s_schema [] = {
    { "broker/name",                    EN_CONF_NAME, NULL },
    { "broker/endpoint",                EN_CONF_STRING, NULL },
    { "broker/datadir",                 EN_CONF_STRING, NULL },
    { "broker/heartbeat",               EN_CONF_DURATION, NULL },
    { "broker/retry",                   EN_CONF_DURATION, NULL },
    { "broker/audit_retention",         EN_CONF_DURATION, NULL },
    { "broker/clock_alert",             EN_CONF_DURATION, NULL },
    { "broker/anchor_interval",         EN_CONF_DURATION, NULL },
    { "broker/new_store",               EN_CONF_BOOL, NULL },
    { "broker/regions",                 EN_CONF_LIST, NULL },
    { "routing/grace",                  EN_CONF_DURATION, NULL },
    { "routing/deadline/crisis",        EN_CONF_DURATION, NULL },
    { "routing/deadline/hoog",          EN_CONF_DURATION, NULL },
    { "routing/deadline/regulier",      EN_CONF_DURATION, NULL },
    { "routing/hiaat_retry/crisis",     EN_CONF_DURATION, NULL },
    { "routing/hiaat_retry/hoog",       EN_CONF_DURATION, NULL },
    { "routing/hiaat_retry/regulier",   EN_CONF_DURATION, NULL },
    { "web/address",                    EN_CONF_STRING, NULL },
    { "web/session",                    EN_CONF_DURATION, NULL },
    { "web/idle",                       EN_CONF_DURATION, NULL },
    { "web/lockout",                    EN_CONF_DURATION, NULL },
    { "web/attempts",                   EN_CONF_COUNT, NULL },
    { "web/secure_cookie",              EN_CONF_BOOL, NULL },
    { "web/tls_cert",                   EN_CONF_STRING, NULL },
    { "web/tls_key",                    EN_CONF_STRING, NULL },
    { "web/max_body",                   EN_CONF_COUNT, NULL },
    { "web/trusted_proxy",              EN_CONF_STRING, NULL },
    //  en_fed checks these further, with its own messages
    { "federation/forward",             EN_CONF_STRING, NULL },
    { "federation/max_hops",            EN_CONF_COUNT, NULL },
    { "federation/crisis_local_offers", EN_CONF_COUNT, NULL },
    { "federation/advert_max_free",     EN_CONF_COUNT, NULL },
    { "federation/advert_max_total",    EN_CONF_COUNT, NULL },
    { "federation/peers/*/endpoint",    EN_CONF_STRING, NULL },
    { "federation/peers/*/public_key",  EN_CONF_STRING, NULL },
    { NULL, 0, NULL }
};

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
        .schema = s_schema,
    };
    return en_daemon_main (&daemon, argc, argv);
}
