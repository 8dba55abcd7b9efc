/*  fuzz_config - configuration as the daemons read it: a ZPL file parsed
    by CZMQ (zconfig_chunk_load, what zconfig_load does with the file's
    text) and durations read with en_config_ms (lib/en_util.c), which the
    broker and node use for every timer and deadline.

    Input: the text of a config file. Every setting in the tree is read
    as a duration under its own path (as en_broker/en_node read
    broker/heartbeat, routing/deadline/crisis, node/audit_retention ...),
    and each must come out as a non-negative number of milliseconds (a bad
    value falls back to the default). The daemons' own readers
    (s_apply_config in broker/en_broker.c, en_node_new) build a whole
    daemon around the config and are not reached here. */
#include "fuzz.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    fuzz_init ();
    return 0;
}

//  Read every setting below node as a duration; path is node's path.
static void
s_walk (zconfig_t *root, zconfig_t *node, char *path, size_t size, int depth)
{
    if (depth > 32)
        return;
    for (zconfig_t *child = zconfig_child (node); child; child = zconfig_next (child)) {
        size_t len = strlen (path);
        const char *name = zconfig_name (child);
        snprintf (path + len, size - len, "%s%s", len ? "/" : "", name ? name : "");
        int64_t ms = en_config_ms (root, path, "1s");
        assert (ms >= 0);
        int64_t direct = en_duration_ms (zconfig_value (child));
        assert (direct >= -1);
        s_walk (root, child, path, size, depth + 1);
        path [len] = 0;
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        return 0;
    zchunk_t *chunk = zchunk_new (data, size);
    zconfig_t *config = zconfig_chunk_load (chunk);
    zchunk_destroy (&chunk);
    if (!config)
        return 0;
    const char *paths [] = {
        "broker/heartbeat", "broker/retry", "routing/grace", "broker/audit_retention",
        "routing/deadline/crisis", "routing/deadline/hoog", "routing/deadline/regulier",
        "node/heartbeat", "node/retry", "node/audit_retention",
        "notify/retry_min", "notify/retry_max", "notify/timeout", NULL };
    for (int i = 0; paths [i]; i++)
        assert (en_config_ms (config, paths [i], "1s") >= 0);
    char path [1024] = "";
    s_walk (config, config, path, sizeof path, 0);
    zconfig_destroy (&config);
    return 0;
}
