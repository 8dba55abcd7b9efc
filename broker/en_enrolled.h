/*  en_enrolled - who may connect to the broker: the certificates in
    <datadir>/enrolled, and the zauth actor that admits exactly their
    CURVE keys (see en_enrolled.c for what counts as enrolled). */
#ifndef EN_ENROLLED_H_INCLUDED
#define EN_ENROLLED_H_INCLUDED

#include "expertnet.h"

//  One enrolled node or peer broker, as its certificate says.
typedef struct {
    char *name;                 //  node name from the enrolled certificate
    char *region;               //  the region it was enrolled for (its HELLO must say so)
    unsigned char sign_key [32];        //  its Ed25519 public key
    bool can_sign;              //  the certificate carries a sign-key
} en_enrollment_t;

typedef struct _en_enrolled_t en_enrolled_t;

//  Start zauth and admit the keys enrolled in <datadir>/enrolled (made
//  if missing; a <datadir>/zauth left by an earlier run is removed).
//  NULL with error when the keys cannot be prepared for zauth.
en_enrolled_t *en_enrolled_new (const char *datadir, en_error_t *error);
//  Stops zauth: destroy it after the sockets it guards.
void en_enrolled_destroy (en_enrolled_t **self_p);

//  Read enrolled/ again if any file in it changed, and admit the keys it
//  now holds. true when it was read again (a node may have been revoked).
bool en_enrolled_refresh (en_enrolled_t *self);

//  The enrollment of a CURVE public key (z85, as zauth's User-Id), or
//  NULL. Borrowed: valid until the next en_enrolled_refresh.
en_enrollment_t *en_enrolled_lookup (en_enrolled_t *self, const char *curve_key);

//  Is a node or peer broker of this name enrolled now?
bool en_enrolled_has_name (en_enrolled_t *self, const char *name);

//  The enrolled certificate of that name that can sign (and, when
//  pinned_key is given, holds that CURVE key): its CURVE key (z85) and
//  sign key. 0, or -1 when there is none.
int en_enrolled_peer (en_enrolled_t *self, const char *name, const char *pinned_key,
                      char curve_key [41], unsigned char sign_key [32]);

//  Who may connect: [{name, region, key}], one per enrolled key. Owned
//  by the caller.
json_t *en_enrolled_list (en_enrolled_t *self);

#endif
