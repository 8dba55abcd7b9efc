/*  fuzz_msg - the EXPN3 decoder and signature check (lib/en_msg.c), as a
    broker or node meets a message from the network.

    Input: frames (fuzz.h encoding). The first byte chooses the path: even,
    the frames are decoded as received on a socket; odd, the rest is a
    carried message (FORWARD's JSON object) for en_msg_import. A decoded
    message is verified against the corpus key (gen_corpus.c signs its
    seeds with it, so the fuzzer starts from messages that verify), its
    time checked, digested, and encoded again: the re-encoded frames must
    decode to the same fields and body text, and a signature that
    verified must still verify. A BATCH is unpacked (en_msg_unbatch) and
    each message in it goes through the same; an ACK's refs are read. */
#include "fuzz.h"
#include <sodium.h>

//  The corpus signer: Ed25519 from a fixed seed (test key, no secret).
static unsigned char s_public [crypto_sign_PUBLICKEYBYTES];

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    fuzz_init ();
    if (sodium_init () < 0)
        abort ();
    unsigned char secret [crypto_sign_SECRETKEYBYTES];
    fuzz_keypair (s_public, secret);
    return 0;
}

static void
s_exercise (en_msg_t *msg)
{
    bool verified = en_msg_verify (msg, s_public);
    en_error_t error;
    en_msg_check_time (msg, en_now_ms (), &error);
    char digest [65];
    en_msg_digest (msg, digest);
    assert (strlen (digest) == 64);

    zmsg_t *frames = en_msg_encode (msg);
    en_msg_t *again = en_msg_decode (frames, &error);
    zmsg_destroy (&frames);
    assert (again);
    assert (streq (en_msg_command (again), en_msg_command (msg)));
    assert (streq (en_msg_id (again), en_msg_id (msg)));
    assert (streq (en_msg_sender (again), en_msg_sender (msg)));
    assert (en_msg_timestamp (again) == en_msg_timestamp (msg));
    char *text = en_msg_body_text (msg), *text_again = en_msg_body_text (again);
    assert (streq (text, text_again));
    assert (!verified || en_msg_verify (again, s_public));
    free (text);
    free (text_again);

    json_t *carried = en_msg_export (msg);
    en_msg_t *imported = en_msg_import (carried, &error);
    assert (imported);
    en_msg_destroy (&imported);
    json_decref (carried);
    en_msg_destroy (&again);

    //  EXPN/3: what a node does with a BATCH, and a peer with an ACK
    if (streq (en_msg_command (msg), "BATCH")) {
        zlistx_t *inner = en_msg_unbatch (msg, &error);
        assert (inner || error.code == EN_ERR_BAD_REQUEST);
        for (en_msg_t *one = inner ? (en_msg_t *) zlistx_first (inner) : NULL; one;
             one = (en_msg_t *) zlistx_next (inner)) {
            assert (en_msg_command_batchable (en_msg_command (one)));
            assert (!en_msg_signed (one));
            s_exercise (one);
        }
        zlistx_destroy (&inner);
    }
    if (streq (en_msg_command (msg), "ACK"))
        json_decref (en_msg_ack_refs (msg, &error));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1 || size > FUZZ_MAX_INPUT)
        return 0;
    en_error_t error;
    en_msg_t *msg = NULL;
    if (data [0] % 2 == 0) {
        zmsg_t *frames = fuzz_frames (data + 1, size - 1);
        msg = en_msg_decode (frames, &error);
        assert (msg || error.code);
        zmsg_destroy (&frames);
    }
    else {
        json_t *carried = json_loadb ((const char *) data + 1, size - 1, 0, NULL);
        if (carried) {
            msg = en_msg_import (carried, &error);
            json_decref (carried);
        }
    }
    if (msg)
        s_exercise (msg);
    en_msg_destroy (&msg);
    return 0;
}
