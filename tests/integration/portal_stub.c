/*  portal_stub - the node portal (node/en_portal.c) on a port of its own,
    in front of the stand-in node loop of the unit tests
    (tests/unit/test_portal_node.h): synthetic data and three accounts,
    mara (medewerker), eva (expert se-tw-01) and bob (beheerder), each
    with the password "<name> haar wachtwoord". For the portal's browser
    test (tests/integration/test_portal_browser.sh), which needs every
    page filled without a network. Runs until SIGTERM or SIGINT.

    Usage: portal_stub PORT */
#include "expertnet.h"
#include "en_portal.h"
#include <sodium.h>
#include "../unit/test_portal_node.h"

int
main (int argc, char *argv [])
{
    if (argc != 2 || atoi (argv [1]) <= 0 || sodium_init () < 0) {
        fprintf (stderr, "usage: portal_stub PORT\n");
        return 2;
    }
    zsys_init ();
    json_t *hashes = s_node_accounts ();
    if (!hashes)
        return 1;
    zactor_t *node = zactor_new (s_node_actor, hashes);
    zconfig_t *config = zconfig_new ("root", NULL);
    char address [64];
    en_error_t error;
    snprintf (address, sizeof address, "127.0.0.1:%s", argv [1]);
    zconfig_put (config, "web/address", address);
    en_portal_t *portal = en_portal_new (config, TEST_PORTAL_ENDPOINT, "twente", "twente", &error);
    zconfig_destroy (&config);
    if (!portal) {
        fprintf (stderr, "portal_stub: %s\n", error.reason);
        zactor_destroy (&node);
        return 1;
    }
    printf ("ready on http://%s/\n", address);
    fflush (stdout);
    while (!zsys_interrupted)
        zclock_sleep (100);
    en_portal_destroy (&portal);
    zactor_destroy (&node);
    json_decref (hashes);
    return 0;
}
