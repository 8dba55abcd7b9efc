/*  ctl - one control verb to a daemon, for the integration tests.

        ctl DATADIR VERB [JSON-ARGS]

    Sends VERB with the JSON object JSON-ARGS (default {}) to the control
    socket ipc://DATADIR/control.sock (docs/protocol.md, Appendix A) and
    prints the JSON reply on stdout. Exit 0 for an "ok" reply, 1 for an
    "error" reply (the JSON then holds "error" and "code"), 3 when the
    daemon did not answer within 5 s, 2 on a usage error. Used where the
    `expertnet` command has no verb (yet) for what a test needs, e.g.
    creating a dashboard operator.
*/
#include "expertnet.h"

int
main (int argc, char *argv [])
{
    if (argc < 3 || argc > 4) {
        fprintf (stderr, "usage: ctl DATADIR VERB [JSON-ARGS]\n");
        return 2;
    }
    json_t *args = json_loads (argc == 4 ? argv [3] : "{}", 0, NULL);
    if (!json_is_object (args)) {
        fprintf (stderr, "ctl: arguments must be a JSON object\n");
        json_decref (args);
        return 2;
    }
    zsys_init ();
    zsys_set_logstream (NULL);
    json_t *result = NULL;
    en_error_t error = { 0 };
    int rc = en_control_call (argv [1], argv [2], args, 5000, &result, &error);
    if (rc && error.code == EN_ERR_NO_ANSWER) {
        fprintf (stderr, "ctl: no answer from %s\n", argv [1]);
        return 3;
    }
    char *text = json_dumps (result, JSON_COMPACT | JSON_ENCODE_ANY);
    printf ("%s\n", text ? text : "null");
    free (text);
    json_decref (result);
    return rc == 0 ? 0 : 1;
}
