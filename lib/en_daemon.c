/*  en_daemon - shared main() for the two daemons (see en_daemon.h).

    SIGTERM/SIGINT stop the daemon (CZMQ sets zsys_interrupted); SIGHUP
    makes the run loop return EN_DAEMON_RELOAD, and this main re-reads
    the configuration file, hands it to the daemon's reload function and
    runs the loop again. Nothing is lost in between: all state is in the
    daemon object and its store.

    Strict configuration. The configuration (file and --set overrides)
    is checked against the daemon's schema (en_config) before it is used:
    an unknown key or a bad value stops the daemon at start, and on
    SIGHUP is refused with a log line, the old configuration kept.
*/
#include "expertnet.h"
#include <sodium.h>
#include <signal.h>
#include <malloc.h>

//  Set by the SIGHUP handler (a signal flag is necessarily global, like
//  CZMQ's zsys_interrupted).
static volatile sig_atomic_t s_reload = 0;

static void
s_on_sighup (int signal)
{
    s_reload = 1;
}

bool
en_daemon_reload_requested (void)
{
    if (!s_reload)
        return false;
    s_reload = 0;
    return true;
}

static void
s_usage (const en_daemon_t *daemon, FILE *out)
{
    fprintf (out,
        "usage: %s [-c CONFIG] [--datadir DIR] [--endpoint ENDPOINT] [--set PATH=VALUE]...\n"
        "  -c, --config FILE   ZPL configuration file (see config/); without it the\n"
        "                      embedded defaults are used\n"
        "  --datadir DIR       override %s/datadir\n"
        "  --endpoint EP       override broker/endpoint\n"
        "  --set PATH=VALUE    override any setting, e.g.\n"
        "                      --set federation/peers/gelderland/endpoint=tcp://10.0.0.2:7700\n"
        "  --new-store         accept a new, empty store where the data directory says\n"
        "                      one was lost (docs/operations.md, \"A damaged or lost store\")\n"
        "  --version           print the version and exit\n"
        "Stops cleanly on SIGTERM or SIGINT; SIGHUP re-reads the configuration.\n"
        "Logs go to stderr, one line per event.\n"
        "%s", daemon->program, daemon->section, daemon->usage);
}

//  What the command line asked for.
#define MAX_SETTINGS 64
typedef struct {
    const char *config_path;        //  -c FILE, or NULL: embedded defaults
    const char *datadir;            //  --datadir, or NULL
    const char *endpoint;           //  --endpoint, or NULL
    char *settings [MAX_SETTINGS];  //  PATH=VALUE overrides, in order
    int count;                      //  how many
    char new_store [64];            //  the --new-store setting, when given
} args_t;

//  Load the config file (or an empty one), apply command-line overrides
//  and check it against the schema. On failure NULL, error says why.
static zconfig_t *
s_load_config (const en_daemon_t *daemon, const args_t *args, en_error_t *error)
{
    zconfig_t *config = NULL;
    if (args->config_path) {
        if (!zsys_file_exists (args->config_path)) {
            en_error_set (error, EN_ERR_NOT_FOUND, "config file %s does not exist", args->config_path);
            return NULL;
        }
        config = en_zpl_load (args->config_path);
        if (!config) {
            en_error_set (error, EN_ERR_INVALID, "config file %s is not valid ZPL", args->config_path);
            return NULL;
        }
    }
    else
        config = zconfig_new ("root", NULL);
    char path [256];
    if (args->datadir) {
        snprintf (path, sizeof path, "%s/datadir", daemon->section);
        zconfig_put (config, path, args->datadir);
    }
    if (args->endpoint)
        zconfig_put (config, "broker/endpoint", args->endpoint);
    for (int i = 0; i < args->count; i++) {
        char *copy = strdup (args->settings [i]);
        char *equals = strchr (copy, '=');
        *equals = 0;
        zconfig_put (config, copy, equals + 1);
        free (copy);
    }
    if (daemon->schema && en_config_check (config, daemon->schema, args->config_path, error))
        zconfig_destroy (&config);
    return config;
}

//  Parse argv into args. Returns -1 to go on and start the daemon, or
//  the exit code: 0 after --help or --version, 2 for a usage error.
static int
s_parse_args (const en_daemon_t *daemon, int argc, char *argv [], args_t *args)
{
    memset (args, 0, sizeof *args);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv [i];
        if ((streq (arg, "-c") || streq (arg, "--config")) && i + 1 < argc)
            args->config_path = argv [++i];
        else
        if (streq (arg, "--datadir") && i + 1 < argc)
            args->datadir = argv [++i];
        else
        if (streq (arg, "--endpoint") && i + 1 < argc)
            args->endpoint = argv [++i];
        else
        if (streq (arg, "--set") && i + 1 < argc) {
            const char *setting = argv [++i];
            const char *equals = strchr (setting, '=');
            if (!equals || equals == setting || setting [0] == '/' || args->count == MAX_SETTINGS) {
                fprintf (stderr, "%s: --set needs PATH=VALUE (at most 64 of them), not '%s'\n",
                         daemon->program, setting);
                return 2;
            }
            args->settings [args->count++] = (char *) setting;
        }
        else
        if (streq (arg, "--new-store")) {
            if (args->count == MAX_SETTINGS) {
                fprintf (stderr, "%s: too many settings\n", daemon->program);
                return 2;
            }
            //  The section's new_store flag (broker/new_store, node/new_store)
            snprintf (args->new_store, sizeof args->new_store, "%s/new_store=true", daemon->section);
            args->settings [args->count++] = args->new_store;
        }
        else
        if (streq (arg, "-h") || streq (arg, "--help")) {
            s_usage (daemon, stdout);
            return 0;
        }
        else
        if (streq (arg, "--version")) {
            printf ("%s %s\n", daemon->program, EXPERTNET_VERSION);
            return 0;
        }
        else {
            fprintf (stderr, "%s: unknown or incomplete argument '%s'\n", daemon->program, arg);
            s_usage (daemon, stderr);
            return 2;
        }
    }
    return -1;
}

//  The process-wide set-up every daemon needs: libsodium, malloc tuning,
//  the monotonic clock, CZMQ and its log, the SIGHUP handler. 0 or -1.
static int
s_process_setup (const en_daemon_t *daemon)
{
    if (sodium_init () < 0) {
        fprintf (stderr, "%s: libsodium failed to initialise\n", daemon->program);
        return -1;
    }
#ifdef M_TRIM_THRESHOLD
    //  Keep freed memory instead of returning it to the kernel after every
    //  query and faulting it back in on the next (measured: page faults
    //  were a fifth of the broker's CPU under load, tests/bench)
    mallopt (M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    mallopt (M_MMAP_THRESHOLD, 8 * 1024 * 1024);
#endif
    //  Timers and deadlines from here on run on the monotonic clock
    en_clock_anchor ();
    zsys_init ();
    zsys_set_logident (daemon->program);
    zsys_set_logstream (stderr);
    struct sigaction action = { .sa_handler = s_on_sighup };
    sigemptyset (&action.sa_mask);
    sigaction (SIGHUP, &action, NULL);
    return 0;
}

int
en_daemon_main (const en_daemon_t *daemon, int argc, char *argv [])
{
    args_t args;
    int rc = s_parse_args (daemon, argc, argv, &args);
    if (rc >= 0)
        return rc;
    if (s_process_setup (daemon))
        return 1;

    en_error_t error = { 0 };
    zconfig_t *config = s_load_config (daemon, &args, &error);
    if (!config) {
        fprintf (stderr, "%s: %s\n", daemon->program, error.reason);
        return 1;
    }
    void *self = daemon->new_fn (config, &error);
    zconfig_destroy (&config);
    if (!self) {
        fprintf (stderr, "%s: %s\n", daemon->program, error.reason);
        return 1;
    }
    while ((rc = daemon->run_fn (self)) == EN_DAEMON_RELOAD) {
        en_error_clear (&error);
        config = s_load_config (daemon, &args, &error);
        if (config) {
            daemon->reload_fn (self, config);
            zconfig_destroy (&config);
        }
        else
            zsys_error ("SIGHUP: configuration not reloaded, running on with the old one: %s", error.reason);
    }
    daemon->destroy_fn (&self);
    return rc;
}
