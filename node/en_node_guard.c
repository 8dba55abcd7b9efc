/*  en_node_guard - what leaves the node: the PII guard and the queue for
    the broker.

    Identifying data lives only at the node, in the case register, sealed
    with the vault's data key; a case is known outside the node only by
    its pseudonym (en_vault). Every outgoing message body passes the PII
    guard (en_pii) in en_node_queue, the one place messages for the broker
    are queued: a refusal names the field and the kind of data and nothing
    is queued. The guard knows this region's client names from the
    register (en_node_guard_register_names at start, en_node_guard_names
    as clients are added). The identifiers the node makes itself (request,
    offer and message ids, pseudonyms, sealed text) are taken out before
    the check: random hex can look like a number the guard refuses.
*/
#include "en_node_int.h"
#include <sodium.h>
#include <ctype.h>

//  Teach the guard one name: the full name and each part of at least
//  three letters that is not a particle (de, van, ...).
static void
s_guard_name (en_node_t *self, const char *name)
{
    if (!name || !*name)
        return;
    en_pii_add_name (self->pii, name);
    static const char *particles [] = { "van", "der", "den", "het", "ter", "ten", "von", NULL };
    char *copy = strdup (name), *save = NULL;
    for (char *part = strtok_r (copy, " ", &save); part; part = strtok_r (NULL, " ", &save))
        if (strlen (part) >= 3 && !en_vocab_has (particles, part))
            en_pii_add_name (self->pii, part);
    sodium_memzero (copy, strlen (name));
    free (copy);
}

//  Teach the guard a client's names and their relatives' names
//  (case add --name, --relatives).
void
en_node_guard_names (en_node_t *self, json_t *identity)
{
    s_guard_name (self, en_json_str (identity, "name"));
    size_t index;
    json_t *relative;
    json_array_foreach (json_object_get (identity, "relatives"), index, relative)
        s_guard_name (self, json_string_value (relative));
}

//  Load every registered client's names into the guard. 0 or -1.
int
en_node_guard_register_names (en_node_t *self)
{
    json_t *cases = en_nstore_cases_sealed (self->store);
    size_t index;
    json_t *row;
    int rc = 0;
    json_array_foreach (cases, index, row) {
        char *text = en_vault_unseal (self->vault, en_json_str (row, "sealed"));
        json_t *identity = text ? json_loads (text, 0, NULL) : NULL;
        if (identity)
            en_node_guard_names (self, identity);
        else
            rc = -1;
        if (text) {
            sodium_memzero (text, strlen (text));
            free (text);
        }
        json_decref (identity);
    }
    json_decref (cases);
    return rc;
}

//  True for a request id this node made ("<region>-<8 hex>"); an id
//  typed by a user is checked like any other text.
static bool
s_generated_request_id (const char *id)
{
    const char *dash = strrchr (id, '-');
    if (!dash || strlen (dash + 1) != 8)
        return false;
    for (const char *p = dash + 1; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

//  Remove, at any depth, the identifiers this node generates itself
//  (request, offer and message ids; case pseudonyms): random hex can
//  look like a number the guard refuses, and they carry no client data.
static void
s_strip_generated_ids (json_t *value)
{
    static const char *generated [] = { "case", "offer", "request", "request_id", "ref", "sealed",
                                        "box_key", "team_key", "from", "reader", "box", NULL };
    if (json_is_object (value)) {
        const char *key;
        json_t *member;
        void *tmp;
        json_object_foreach_safe (value, tmp, key, member) {
            if ((json_is_string (member) || streq (key, "sealed"))
            &&  (en_vocab_has (generated, key) || (streq (key, "id") && s_generated_request_id (json_string_value (member)))))
                json_object_del (value, key);
            else
                s_strip_generated_ids (member);
        }
    }
    else
    if (json_is_array (value)) {
        size_t index;
        json_t *member;
        json_array_foreach (value, index, member)
            s_strip_generated_ids (member);
    }
}

//  The PII guard on an outgoing body: 0 if clean; else -1 with the error
//  naming the field and the kind of data (never the data), code 422,
//  and an access-log entry of the refusal.
int
en_node_guard (en_node_t *self, const char *what, json_t *body, const char *user, en_error_t *error)
{
    en_pii_finding_t finding;
    what = what ? what : "";
    json_t *checked = json_deep_copy (body);
    s_strip_generated_ids (checked);
    int found = en_pii_check_json (self->pii, *what ? what : NULL, checked, &finding);
    json_decref (checked);
    if (found == 0)
        return 0;
    char described [160];
    en_error_set (error, EN_ERR_INVALID, "%s; nothing was sent (remove it; the summary must not identify the "
                  "child)", en_pii_describe (&finding, described, sizeof described));
    zsys_warning ("PII guard refused an outgoing message: %s in field %s", finding.kind, finding.field);
    en_node_audit (self, "pii.refused", NULL, user, self->name, "send", "refused", finding.kind);
    return -1;
}

//  Queue a reliable message for the broker (inside a transaction), after
//  the PII guard. Takes body. Returns the message id (caller frees), or
//  NULL with error (422 refused by the guard, 500 store error).
char *
en_node_queue (en_node_t *self, const char *command, json_t *body, const char *user, en_error_t *error)
{
    //  Field paths as users know them: "request.question", "advice.text"
    char what [32];
    snprintf (what, sizeof what, "%s", command);
    for (char *c = what; *c; c++)
        *c = (char) tolower ((unsigned char) *c);
    if (en_node_guard (self, streq (command, "SUBMIT") ? NULL : what, body, user, error)) {
        json_decref (body);
        return NULL;
    }
    en_msg_t *msg = en_msg_new (command, self->name, body);
    char *id = en_outbox_put (en_nstore_outbox (self->store), "broker", msg) ? NULL
             : strdup (en_msg_id (msg));
    en_msg_destroy (&msg);
    if (!id)
        en_error_set (error, EN_ERR_INTERNAL, "could not queue %s", command);
    return id;
}

//  Queue the full list of this region's experts.
int
en_node_queue_availability (en_node_t *self)
{
    en_error_t error = { 0 };
    //  An expert is of the node's region (the one it is enrolled for),
    //  also one registered while the node was configured for another
    json_t *experts = en_nstore_experts (self->store);
    size_t index;
    json_t *expert;
    json_array_foreach (experts, index, expert)
        json_object_set_new (expert, "region", json_string (self->region));
    char *id = en_node_queue (self, "AVAILABILITY", json_pack ("{s:o}", "experts", experts),
                              self->name, &error);
    if (!id)
        zsys_error ("experts not published: %s", error.reason);
    free (id);
    return id ? 0 : -1;
}

//  Seal text to an expert's box key (hex): crypto_box_seal, so only the
//  holder of the expert's secret key can open it; not the broker, not
//  another expert. Base64, caller frees; NULL if the key is not valid.
char *
en_node_seal_to (const char *box_key, const char *text)
{
    unsigned char key [crypto_box_PUBLICKEYBYTES];
    size_t size = 0;
    if (!box_key || sodium_hex2bin (key, sizeof key, box_key, strlen (box_key), NULL, &size, NULL)
    ||  size != sizeof key)
        return NULL;
    size_t length = strlen (text);
    unsigned char *sealed = (unsigned char *) malloc (length + crypto_box_SEALBYTES);
    crypto_box_seal (sealed, (const unsigned char *) text, length, key);
    size_t b64_size = sodium_base64_ENCODED_LEN (length + crypto_box_SEALBYTES, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = (char *) malloc (b64_size);
    sodium_bin2base64 (b64, b64_size, sealed, length + crypto_box_SEALBYTES, sodium_base64_VARIANT_ORIGINAL);
    free (sealed);
    return b64;
}
