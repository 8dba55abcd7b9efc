/*  en_control - local control protocol (see en_control.h). */
#include "expertnet.h"

int
en_control_recv (zsock_t *sock, zframe_t **routing_id, char **verb, json_t **args)
{
    zmsg_t *msg = zmsg_recv (sock);
    if (!msg)
        return -1;
    *routing_id = zmsg_pop (msg);
    *verb = NULL;
    *args = NULL;
    if (zmsg_size (msg) == 2) {
        *verb = zmsg_popstr (msg);
        char *text = zmsg_popstr (msg);
        *args = text ? json_loads (text, 0, NULL) : NULL;
        free (text);
    }
    zmsg_destroy (&msg);
    if (*routing_id && *verb && json_is_object (*args))
        return 0;
    if (*routing_id)
        en_control_reply (sock, *routing_id, NULL, EN_ERR_BAD_REQUEST, "malformed control request");
    zframe_destroy (routing_id);
    zstr_free (verb);
    json_decref (*args);
    *args = NULL;
    return -1;
}

void
en_control_reply (zsock_t *sock, zframe_t *routing_id, json_t *result, int code,
                  const char *error)
{
    zmsg_t *reply = zmsg_new ();
    zmsg_append (reply, &(zframe_t *) { zframe_dup (routing_id) });
    zmsg_addstr (reply, error ? "error" : "ok");
    if (error) {
        json_decref (result);
        result = json_pack ("{s:s, s:i}", "error", error, "code", code);
    }
    char *text = json_dumps (result ? result : json_null (), JSON_COMPACT | JSON_ENCODE_ANY);
    zmsg_addstr (reply, text ? text : "null");
    free (text);
    json_decref (result);
    zmsg_send (&reply, sock);
}

int
en_control_call (const char *datadir, const char *verb, json_t *args,
                 int timeout_ms, json_t **result, en_error_t *error)
{
    *result = NULL;
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    zsock_set_linger (sock, 0);
    zsock_set_rcvtimeo (sock, timeout_ms);
    zsock_set_sndtimeo (sock, timeout_ms);
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/control.sock", datadir);
    if (!zsys_file_exists (path) || zsock_connect (sock, "ipc://%s", path) < 0) {
        json_decref (args);
        zsock_destroy (&sock);
        return en_error_set (error, EN_ERR_NO_ANSWER, "no daemon answers at %s", datadir);
    }
    char *text = args ? json_dumps (args, JSON_COMPACT) : strdup ("{}");
    json_decref (args);
    int rc = zstr_sendx (sock, verb, text, NULL);
    free (text);
    char *status = NULL, *reply = NULL;
    if (rc == 0)
        rc = zstr_recvx (sock, &status, &reply, NULL) == 2 ? 0 : -1;
    if (rc)
        en_error_set (error, EN_ERR_NO_ANSWER, "no answer from the daemon at %s within %d ms",
                      datadir, timeout_ms);
    else {
        *result = json_loads (reply, JSON_DECODE_ANY, NULL);
        if (!streq (status, "ok"))
            rc = en_error_set (error, (int) en_json_int (*result, "code", EN_ERR_INTERNAL), "%s",
                               en_json_str (*result, "error") ?: "refused");
    }
    zstr_free (&status);
    zstr_free (&reply);
    zsock_destroy (&sock);
    return rc;
}
