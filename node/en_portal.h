/*  en_portal - the region's web portal, served by the node: ET staff
    (medewerker), experts and beheerders log in with their own account
    (and a TOTP code where the config asks for it) and do in a browser
    what the `expertnet` command does. An app on lib/en_http (the same web
    stack as the broker's dashboard); the pages are en_portal_pages.c.

    The web thread holds no node state: every figure and every action is
    a control verb to the node loop over the node's portal socket
    (inproc), carrying "_user" (the logged-in person) for the access log,
    as `expertnet` does. Which routes a role may use is one table in
    en_portal.c. */
#ifndef EN_PORTAL_H_INCLUDED
#define EN_PORTAL_H_INCLUDED

#include "expertnet.h"

typedef struct _en_portal_t en_portal_t;

//  Start the portal as configured in the node config's "web" section
//  (address, TLS, session and lockout settings: see en_http.h and
//  docs/dashboard.md), asking the node loop through control_endpoint.
//  node and region name the portal in its pages. NULL with error set
//  when the address or TLS files are bad or the port cannot be bound.
en_portal_t *en_portal_new (zconfig_t *config, const char *control_endpoint, const char *node,
                            const char *region, en_error_t *error);

//  Stop serving (waits for the request in progress), wipe sessions, free.
void en_portal_destroy (en_portal_t **self_p);

#endif
