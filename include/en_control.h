/*  en_control - the local control protocol between the `expertnet`
    command and a daemon (node or broker) on the same host.

    ipc://<datadir>/control.sock, a ROUTER in the daemon. Request frames:
    [verb] [JSON object of arguments]; reply frames: ["ok" | "error"]
    [JSON]. An error reply's JSON is {"error": "...", "code": N}. The
    socket file is created mode 0600 inside the daemon's 0700 data
    directory: filesystem permissions are its access control. */
#ifndef EN_CONTROL_H_INCLUDED
#define EN_CONTROL_H_INCLUDED

//  Daemon side: receive one request. Returns 0 with routing_id, verb and
//  args set (caller owns them), or -1 on a malformed request (already
//  answered with an error).
int en_control_recv (zsock_t *sock, zframe_t **routing_id, char **verb, json_t **args);

//  Daemon side: send a reply; result is consumed. error NULL = "ok".
void en_control_reply (zsock_t *sock, zframe_t *routing_id, json_t *result,
                       int code, const char *error);

//  Client side: call verb on the daemon whose data directory is datadir;
//  args (may be NULL) is consumed.
//  Returns 0 with *result set, or -1 with error: EN_ERR_NO_ANSWER if the
//  daemon did not answer within timeout_ms, else the daemon's error code
//  and reason (and *result is its answer, {"error":.., "code":..}).
int en_control_call (const char *datadir, const char *verb, json_t *args,
                     int timeout_ms, json_t **result, en_error_t *error);

#endif
