/*  expertnet-node - the region node daemon (see en_node.c). */
#include "en_node.h"

//  Every key the node reads (en_node.c, en_notify.c, the portal), with
//  its type: anything else in its configuration stops it (en_config.h).
static const en_conf_key_t s_schema [] = {
    { "node/name",                      EN_CONF_NAME, NULL },
    { "node/region",                    EN_CONF_NAME, NULL },
    { "node/datadir",                   EN_CONF_STRING, NULL },
    { "node/heartbeat",                 EN_CONF_DURATION, NULL },
    { "node/retry",                     EN_CONF_DURATION, NULL },
    { "node/audit_retention",           EN_CONF_DURATION, NULL },
    { "node/clock_alert",               EN_CONF_DURATION, NULL },
    { "node/anchor_interval",           EN_CONF_DURATION, NULL },
    { "node/resubmit_delay",            EN_CONF_DURATION, NULL },
    { "node/new_store",                 EN_CONF_BOOL, NULL },
    { "node/pii_names",                 EN_CONF_STRING, NULL },
    { "broker/endpoint",                EN_CONF_STRING, NULL },
    { "broker/cert",                    EN_CONF_STRING, NULL },
    { "broker/public_key",              EN_CONF_STRING, NULL },
    { "broker/sign_key",                EN_CONF_STRING, NULL },
    { "accounts/kdf",                   EN_CONF_CHOICE, "interactive|moderate" },
    { "notify/smtp_url",                EN_CONF_STRING, NULL },
    { "notify/from",                    EN_CONF_STRING, NULL },
    { "notify/starttls",                EN_CONF_CHOICE, "off|try|required" },
    { "notify/username",                EN_CONF_STRING, NULL },
    { "notify/password",                EN_CONF_STRING, NULL },
    { "notify/sms_url",                 EN_CONF_STRING, NULL },
    { "notify/sms_token",               EN_CONF_STRING, NULL },
    { "notify/retry_min",               EN_CONF_DURATION, NULL },
    { "notify/retry_max",               EN_CONF_DURATION, NULL },
    { "notify/timeout",                 EN_CONF_DURATION, NULL },
    { "notify/staff_email",             EN_CONF_STRING, NULL },
    //  The portal (web branch)
    { "web/address",                    EN_CONF_STRING, NULL },
    { "web/tls_cert",                   EN_CONF_STRING, NULL },
    { "web/tls_key",                    EN_CONF_STRING, NULL },
    { "web/session",                    EN_CONF_DURATION, NULL },
    { "web/idle",                       EN_CONF_DURATION, NULL },
    { "web/attempts",                   EN_CONF_COUNT, NULL },
    { "web/lockout",                    EN_CONF_DURATION, NULL },
    { "web/secure_cookie",              EN_CONF_BOOL, NULL },
    { "web/max_body",                   EN_CONF_COUNT, NULL },
    { "web/public_url",                 EN_CONF_STRING, NULL },
    { "web/totp_required",              EN_CONF_STRING, NULL },
    { "web/trusted_proxy",              EN_CONF_STRING, NULL },
    { NULL, 0, NULL }
};

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
        .schema = s_schema,
    };
    return en_daemon_main (&daemon, argc, argv);
}
