/*  fuzz - what the libFuzzer harnesses in tests/fuzz share.

    Each harness fuzz_NAME.c defines LLVMFuzzerTestOneInput (and, when it
    needs setup done once, LLVMFuzzerInitialize) for one decoder. It is
    built twice: by `make fuzz` with clang and libFuzzer (coverage-guided,
    ASan + UBSan), and by `make unit-bins` with the normal compiler and
    replay.c as main, which feeds it every file of its committed corpus
    (tests/fuzz/corpus/NAME) so `make test` needs no clang.

    Inputs that hold several ZeroMQ frames use one encoding throughout:
    each frame is a 2-byte big-endian length followed by that many bytes;
    a length running past the end takes what is left. gen_corpus.c writes
    the seed corpora in this encoding.

    Static functions in a header: each harness is one translation unit. */
#ifndef FUZZ_H_INCLUDED
#define FUZZ_H_INCLUDED

#include "expertnet.h"
#include <stdint.h>
#include <sys/stat.h>
#include "../unit/test_tmpdir.h"
#include <sodium.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

//  Largest input a harness looks at: the wire limit of one message.
#define FUZZ_MAX_INPUT  (EN_MAX_WIRE + 1024)

//  Once per process: CZMQ up, its log quiet (decoders log what they
//  refuse; a fuzzer makes them refuse millions of times).
static inline void
fuzz_init (void)
{
    zsys_init ();
    zsys_set_logstream (NULL);
}

//  The vault keys of fuzz_vault and gen_corpus: test keys of a repeated
//  byte, mode 0600, no secret. data-key.2 is written only when
//  with_second, so gen_corpus can seal with version 1 first.
static const char *fuzz_vault_keys [] = { "data-key.1", "region-secret.1", "data-key.2" };
static const int fuzz_vault_fills [] = { 0x11, 0x33, 0x22 };

static inline void
fuzz_vault_keys_write (const char *dir, bool with_second)
{
    for (int i = 0; i < (with_second ? 3 : 2); i++) {
        char path [PATH_MAX + 32];
        snprintf (path, sizeof path, "%s/%s", dir, fuzz_vault_keys [i]);
        unsigned char key [32];
        memset (key, fuzz_vault_fills [i], sizeof key);
        FILE *file = fopen (path, "wb");
        assert (file);
        assert (fwrite (key, 1, sizeof key, file) == sizeof key);
        fclose (file);
        chmod (path, 0600);
    }
}

//  Remove the key files and the directory.
static inline void
fuzz_vault_keys_remove (const char *dir)
{
    for (int i = 0; i < 3; i++) {
        char path [PATH_MAX + 32];
        snprintf (path, sizeof path, "%s/%s", dir, fuzz_vault_keys [i]);
        remove (path);
    }
    rmdir (dir);
}

//  The input as a NUL-terminated string (it may hold NULs of its own,
//  which end the text early, as they would for a C caller). Caller frees.
static inline char *
fuzz_text (const uint8_t *data, size_t size)
{
    char *text = (char *) malloc (size + 1);
    assert (text);
    memcpy (text, data, size);
    text [size] = 0;
    return text;
}

//  Abort (a crash the fuzzer reports) unless ok: a harness's checks and
//  its setup steps, kept when NDEBUG would drop an assert and its call.
static inline void
fuzz_require (bool ok, const char *what)
{
    if (!ok) {
        fprintf (stderr, "fuzz: failed: %s\n", what);
        abort ();
    }
}

//  A new temporary directory "$TMPDIR/name.XXXXXX" into dir (PATH_MAX
//  bytes), for a harness's store and keys (test_tmpdir.h); remove it
//  with test_rmtree.
static inline void
fuzz_mkdtemp (char *dir, const char *name)
{
    fuzz_require (test_mkdtemp (dir, PATH_MAX, name) != NULL, "a temporary directory");
}

//  The corpus's signing key pair: Ed25519 from a fixed seed (0x5a
//  repeated). A test key; it protects nothing.
static inline void
fuzz_keypair (unsigned char public_key [crypto_sign_PUBLICKEYBYTES],
              unsigned char secret_key [crypto_sign_SECRETKEYBYTES])
{
    unsigned char seed [crypto_sign_SEEDBYTES];
    memset (seed, 0x5a, sizeof seed);
    crypto_sign_seed_keypair (public_key, secret_key, seed);
}

//  Sign frames 0-5 of an encoded message (frame 6 replaced) with the
//  corpus key, as en_msg signs: each frame as a 4-byte big-endian length
//  and its bytes.
static inline void
fuzz_sign (zmsg_t *msg)
{
    unsigned char public_key [crypto_sign_PUBLICKEYBYTES], secret_key [crypto_sign_SECRETKEYBYTES];
    fuzz_keypair (public_key, secret_key);
    zchunk_t *content = zchunk_new (NULL, 0);
    zframe_t *frame = zmsg_first (msg);
    for (int i = 0; i < 6 && frame; i++, frame = zmsg_next (msg)) {
        uint32_t size = (uint32_t) zframe_size (frame);
        byte len [4] = { (byte) (size >> 24), (byte) (size >> 16), (byte) (size >> 8), (byte) size };
        zchunk_extend (content, len, 4);
        zchunk_extend (content, zframe_data (frame), size);
    }
    byte signature [64];
    crypto_sign_detached (signature, NULL, zchunk_data (content), zchunk_size (content), secret_key);
    zchunk_destroy (&content);
    zframe_t *last = zmsg_last (msg);
    zmsg_remove (msg, last);
    zframe_destroy (&last);
    zmsg_addmem (msg, signature, sizeof signature);
}

//  The input as frames (see above), appended to a new zmsg_t.
static inline zmsg_t *
fuzz_frames (const uint8_t *data, size_t size)
{
    zmsg_t *msg = zmsg_new ();
    size_t at = 0;
    while (at + 2 <= size) {
        size_t len = ((size_t) data [at] << 8) | data [at + 1];
        at += 2;
        if (len > size - at)
            len = size - at;
        zmsg_addmem (msg, data + at, len);
        at += len;
    }
    return msg;
}

#endif
