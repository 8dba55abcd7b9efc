/*  fuzz_control - the daemon side of the local control protocol
    (lib/en_control.c), driven the way a daemon meets it: a DEALER (the
    `expertnet` command's end) sends the input's frames over inproc to a
    ROUTER, and en_control_recv reads them from the socket as the daemons
    do. A request en_control_recv accepts is answered "ok" with its own
    arguments; one it refuses must already have been answered "error".
    Either way the DEALER must get exactly one reply.

    Input: frames (fuzz.h encoding), normally [verb] [JSON arguments].
    The verb tables of the daemons (what each verb does) are not fuzzed
    here: they need a running node or broker behind them. */
#include "fuzz.h"

static zsock_t *s_router;       //  the daemon's end
static zsock_t *s_dealer;       //  the command's end

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    fuzz_init ();
    s_router = zsock_new_router ("inproc://fuzz-control");
    s_dealer = zsock_new_dealer (">inproc://fuzz-control");
    assert (s_router && s_dealer);
    zsock_set_rcvtimeo (s_router, 2000);
    zsock_set_rcvtimeo (s_dealer, 2000);
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    zmsg_t *request = fuzz_frames (data, size);
    if (zmsg_size (request) == 0)
        zmsg_addmem (request, "", 0);       //  a message has at least one frame
    int rc = zmsg_send (&request, s_dealer);
    assert (rc == 0);

    zframe_t *routing_id = NULL;
    char *verb = NULL;
    json_t *args = NULL;
    rc = en_control_recv (s_router, &routing_id, &verb, &args);
    if (rc == 0) {
        assert (routing_id && verb && json_is_object (args));
        en_control_reply (s_router, routing_id, args, 0, NULL);
        zframe_destroy (&routing_id);
        zstr_free (&verb);
    }
    else
        assert (!routing_id && !verb && !args);

    char *status = NULL, *reply = NULL;
    int frames = zstr_recvx (s_dealer, &status, &reply, NULL);
    assert (frames == 2);
    assert (streq (status, rc == 0 ? "ok" : "error"));
    json_t *result = json_loads (reply, JSON_DECODE_ANY, NULL);
    assert (result);
    json_decref (result);
    zstr_free (&status);
    zstr_free (&reply);
    return 0;
}
