/*  fuzz_vault - opening sealed identifying data (en_vault_unseal,
    lib/en_vault.c): "v<version>:<base64 of nonce, box>" as stored in the
    node's cases table. A damaged or forged value must come back NULL,
    never as text and never as a crash.

    The vault's keys directory is made once per run with fixed test keys
    (data-key.1 and .2, region-secret.1: 32 bytes of a repeated byte, no
    secret), the same gen_corpus.c seals its seeds with, so the fuzzer
    starts from values that open. Input: the sealed text. Unsealed text
    must be NUL-free and seal again to a value that opens to itself; the
    input is also pseudonymized as a client id. */
#include "fuzz.h"

static en_vault_t *s_vault;
static char s_dir [PATH_MAX];

static void
s_cleanup (void)
{
    en_vault_destroy (&s_vault);
    fuzz_vault_keys_remove (s_dir);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    fuzz_init ();
    fuzz_mkdtemp (s_dir, "expertnet-fuzz-vault");
    fuzz_vault_keys_write (s_dir, true);
    en_error_t error = { 0 };
    s_vault = en_vault_new (s_dir, &error);
    if (!s_vault) {
        fprintf (stderr, "fuzz_vault: %s\n", error.reason);
        abort ();
    }
    atexit (s_cleanup);
    return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    char *sealed = fuzz_text (data, size);
    char *text = en_vault_unseal (s_vault, sealed);
    if (text) {
        char *again = en_vault_seal (s_vault, text);
        assert (again);
        char *opened = en_vault_unseal (s_vault, again);
        assert (opened && streq (opened, text));
        free (opened);
        free (again);
        free (text);
    }
    char *pseudonym = en_vault_pseudonym (s_vault, sealed);
    if (pseudonym)
        assert (en_vocab_pseudonym_valid (pseudonym));
    free (pseudonym);
    free (sealed);
    return 0;
}
