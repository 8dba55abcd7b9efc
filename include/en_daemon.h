/*  en_daemon - the common main() of expertnet-broker and expertnet-node:
    arguments, libsodium and CZMQ set-up, configuration with embedded
    defaults, run until SIGTERM/SIGINT. */
#ifndef EN_DAEMON_H_INCLUDED
#define EN_DAEMON_H_INCLUDED

//  Create the daemon from its checked configuration; NULL with error
//  (printed by en_daemon_main) when it cannot start.
typedef void *(en_daemon_new_fn) (zconfig_t *config, en_error_t *error);
//  Serve until SIGTERM/SIGINT (return 0) or SIGHUP (return
//  EN_DAEMON_RELOAD: main re-reads the config, calls reload, runs again).
typedef int (en_daemon_run_fn) (void *self);
typedef void (en_daemon_reload_fn) (void *self, zconfig_t *config);
typedef void (en_daemon_destroy_fn) (void **self_p);

#define EN_DAEMON_RELOAD  (-2)

//  True once after SIGHUP arrived; run loops poll it.
bool en_daemon_reload_requested (void);

typedef struct {
    const char *program;        //  e.g. "expertnet-broker"
    const char *section;        //  config section holding datadir: "broker" / "node"
    const char *usage;          //  text after the common options
    en_daemon_new_fn *new_fn;
    en_daemon_run_fn *run_fn;
    en_daemon_reload_fn *reload_fn;
    en_daemon_destroy_fn *destroy_fn;
    const en_conf_key_t *schema;    //  every key it reads (en_config.h)
} en_daemon_t;

//  Parse argv, load config, create, run (reloading on SIGHUP), destroy.
//  Returns the exit code:
//  0 clean stop, 1 failure to start, 2 usage error.
int en_daemon_main (const en_daemon_t *daemon, int argc, char *argv []);

#endif
