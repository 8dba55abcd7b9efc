/*  bench_util - what the expertnet benchmarks share: a clock, a scratch
    directory, child processes that are always stopped, key set-up for a
    broker and its nodes, percentiles, and the result lines run.sh turns
    into the summary table.

    The project's rule for speed claims: every figure is printed beside a
    baseline measured in the same run, as a ratio; no benchmark ever
    fails because a figure is slow. A benchmark exits non-zero only when
    it could not run (a daemon did not start, messages went missing).

    Child processes. Daemons are started with fork/exec, their stderr
    going to a log file in the scratch directory. Each child asks the
    kernel for SIGTERM when the benchmark dies (PR_SET_PDEATHSIG), and the
    benchmark stops its children by PID at exit and on SIGINT/SIGTERM/
    SIGHUP. This file is included by each bench_*.c (the Makefile builds
    one binary per file); the process table is the one piece of static
    state, because a signal handler has to reach it.
*/
#ifndef BENCH_UTIL_H_INCLUDED
#define BENCH_UTIL_H_INCLUDED

#include "expertnet.h"
#include <sodium.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_API static __attribute__ ((unused))
#ifndef BENCH_MAX_CHILDREN             //  a benchmark may ask for more
#define BENCH_MAX_CHILDREN 8
#endif

//  Child processes and the scratch directory, for cleanup at exit and
//  from the signal handler.
static struct {
    pid_t pids [BENCH_MAX_CHILDREN];    //  running children, 0 = free slot
    char scratch [PATH_MAX];            //  our own scratch dir, "" if none
    bool own_scratch;                   //  we created it (remove at exit)
} s_bench;

//  Monotonic microseconds.
BENCH_API int64_t
bench_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

//  Sleep until the monotonic time at_us.
BENCH_API void
bench_sleep_until (int64_t at_us)
{
    struct timespec ts = { .tv_sec = at_us / 1000000, .tv_nsec = (at_us % 1000000) * 1000 };
    while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

BENCH_API void
bench_fail (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    fprintf (stderr, "bench: ");
    vfprintf (stderr, format, args);
    fprintf (stderr, "\n");
    va_end (args);
    exit (1);                   //  atexit handler stops the children
}

//  Format a path into buf; a path too long for buf fails the benchmark.
BENCH_API void
bench_path (char *buf, size_t size, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    int len = vsnprintf (buf, size, format, args);
    va_end (args);
    if (len < 0 || (size_t) len >= size)
        bench_fail ("path too long: %s...", buf);
}

//  Wait up to timeout_ms for sock to be readable.
BENCH_API bool
bench_poll (zsock_t *sock, int timeout_ms)
{
    zmq_pollitem_t item = { zsock_resolve (sock), 0, ZMQ_POLLIN, 0 };
    return zmq_poll (&item, 1, timeout_ms) > 0 && (item.revents & ZMQ_POLLIN);
}

//  --------------------------------------------------------------------
//  Children

static void
s_bench_kill_all (int signal)
{
    for (int i = 0; i < BENCH_MAX_CHILDREN; i++)
        if (s_bench.pids [i] > 0)
            kill (s_bench.pids [i], signal);
}

//  Wait for a child started with bench_spawn to end by itself (a program
//  run to completion, not a daemon); its wait status.
BENCH_API int
bench_reap (pid_t pid)
{
    int status = 0;
    while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
        ;
    for (int i = 0; i < BENCH_MAX_CHILDREN; i++)
        if (s_bench.pids [i] == pid)
            s_bench.pids [i] = 0;
    return status;
}

//  Wait up to 5 s for a child that was sent SIGTERM to stop cleanly, then
//  SIGKILL. Its exit status as waitpid gives it, -1 if not ours. (No
//  second SIGTERM: a daemon that is already shutting down has given its
//  handlers back, and a second one would end it by the signal.)
BENCH_API int
bench_stop_signalled (pid_t pid)
{
    int slot = -1;
    for (int i = 0; i < BENCH_MAX_CHILDREN; i++)
        if (s_bench.pids [i] == pid && pid > 0)
            slot = i;
    if (slot < 0)
        return -1;
    int status = 0;
    int64_t give_up = bench_now_us () + 5000000;
    while (waitpid (pid, &status, WNOHANG) == 0) {
        if (bench_now_us () > give_up) {
            fprintf (stderr, "bench: pid %d ignored SIGTERM; killing it\n", (int) pid);
            kill (pid, SIGKILL);
            waitpid (pid, &status, 0);
            break;
        }
        usleep (10000);
    }
    s_bench.pids [slot] = 0;
    return status;
}

//  Stop one child: SIGTERM, up to 5 s for a clean stop, then SIGKILL.
//  Returns its exit status as waitpid gives it, -1 if not ours.
BENCH_API int
bench_stop (pid_t pid)
{
    for (int i = 0; i < BENCH_MAX_CHILDREN; i++)
        if (s_bench.pids [i] == pid && pid > 0) {
            kill (pid, SIGTERM);
            return bench_stop_signalled (pid);
        }
    return -1;
}

//  Is the child still running? (Reaps it if not.)
BENCH_API bool
bench_alive (pid_t pid)
{
    int status;
    if (waitpid (pid, &status, WNOHANG) == 0)
        return true;
    for (int i = 0; i < BENCH_MAX_CHILDREN; i++)
        if (s_bench.pids [i] == pid)
            s_bench.pids [i] = 0;
    return false;
}

static int
s_bench_remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    remove (path);
    return 0;
}

BENCH_API void
bench_remove_tree (const char *path)
{
    nftw (path, s_bench_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
s_bench_at_exit (void)
{
    for (int i = 0; i < BENCH_MAX_CHILDREN; i++)
        if (s_bench.pids [i] > 0)
            bench_stop (s_bench.pids [i]);
    if (s_bench.own_scratch && *s_bench.scratch)
        bench_remove_tree (s_bench.scratch);
}

static void
s_bench_on_signal (int signal)
{
    s_bench_kill_all (SIGTERM);         //  kill() is async-signal-safe
    struct sigaction action = { .sa_handler = SIG_DFL };
    sigaction (signal, &action, NULL);
    raise (signal);
}

//  Start program with argv (NULL-terminated, argv[0] included), stdout
//  and stderr to log_path. Returns the pid; fails the benchmark if it
//  cannot.
BENCH_API pid_t
bench_spawn (const char *log_path, char *const argv [])
{
    int slot = -1;
    for (int i = 0; i < BENCH_MAX_CHILDREN && slot < 0; i++)
        if (s_bench.pids [i] == 0)
            slot = i;
    if (slot < 0)
        bench_fail ("too many child processes");
    int log = open (log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (log < 0)
        bench_fail ("cannot open %s: %s", log_path, strerror (errno));
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid < 0)
        bench_fail ("fork: %s", strerror (errno));
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGTERM);
        if (getppid () != parent)
            _exit (127);                //  parent died before prctl
        dup2 (log, STDOUT_FILENO);
        dup2 (log, STDERR_FILENO);
        close (log);
        execv (argv [0], argv);
        fprintf (stderr, "bench: cannot run %s: %s\n", argv [0], strerror (errno));
        _exit (127);
    }
    close (log);
    s_bench.pids [slot] = pid;
    return pid;
}

//  Print the last lines of a log, to explain a failure.
BENCH_API void
bench_log_tail (const char *log_path)
{
    char *text = en_file_read (log_path, 16 * 1024 * 1024);
    if (!text)
        return;
    size_t len = strlen (text);
    const char *start = text + (len > 2000 ? len - 2000 : 0);
    fprintf (stderr, "---- last lines of %s ----\n%s\n----\n", log_path, start);
    free (text);
}

//  --------------------------------------------------------------------
//  Set-up

//  Initialise libsodium and CZMQ, take over signal handling, and set up
//  the scratch directory: $BENCH_TMPDIR (made and removed by run.sh) or
//  a new one under build/bench. Returns the scratch directory (borrowed).
BENCH_API const char *
bench_init (const char *name)
{
    if (sodium_init () < 0)
        bench_fail ("libsodium failed to initialise");
    zsys_handler_set (NULL);            //  our handler, not CZMQ's
    zsys_init ();
    zsys_set_logident (name);
    struct sigaction action = { .sa_handler = s_bench_on_signal };
    sigemptyset (&action.sa_mask);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGHUP, &action, NULL);
    signal (SIGPIPE, SIG_IGN);
    atexit (s_bench_at_exit);

    const char *root = getenv ("BENCH_TMPDIR");
    if (root && *root) {
        bench_path (s_bench.scratch, sizeof s_bench.scratch, "%s/%s", root, name);
        if (en_mkdir_p (s_bench.scratch, 0700))
            bench_fail ("cannot create %s", s_bench.scratch);
    }
    else {
        en_mkdir_p ("build/bench", 0755);
        bench_path (s_bench.scratch, sizeof s_bench.scratch, "build/bench/tmp-%s.XXXXXX", name);
        if (!mkdtemp (s_bench.scratch))
            bench_fail ("cannot create a scratch directory: %s", strerror (errno));
        s_bench.own_scratch = true;
    }
    //  Daemons get absolute paths (their ipc:// endpoints too)
    char *absolute = realpath (s_bench.scratch, NULL);
    if (absolute) {
        bench_path (s_bench.scratch, sizeof s_bench.scratch, "%s", absolute);
        free (absolute);
    }
    return s_bench.scratch;
}

//  A TCP port on 127.0.0.1 that was free a moment ago.
BENCH_API int
bench_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    if (fd < 0 || bind (fd, (struct sockaddr *) &addr, sizeof addr)
    ||  getsockname (fd, (struct sockaddr *) &addr, &len))
        bench_fail ("cannot find a free port: %s", strerror (errno));
    close (fd);
    return ntohs (addr.sin_port);
}

BENCH_API void
bench_copy_file (const char *from, const char *to)
{
    char *text = en_file_read (from, 1024 * 1024);
    FILE *file = text ? fopen (to, "w") : NULL;
    if (!file)
        bench_fail ("cannot copy %s to %s", from, to);
    fputs (text, file);
    fclose (file);
    free (text);
}

//  A broker data directory with its key pair and the public certs of
//  the given nodes enrolled; each node's key pair is made in
//  NODEDIR/keys with the broker's public cert beside it as broker.cert.
//  node_dirs [i] is the data directory of node_names [i].
BENCH_API void
bench_make_keys (const char *broker_dir, const char *broker_name,
                 const char **node_names, const char **node_dirs, int nodes)
{
    char path [PATH_MAX], to [PATH_MAX];
    en_error_t error = { 0 };
    bench_path (path, sizeof path, "%s/keys", broker_dir);
    if (en_keys_generate (path, broker_name, &error))
        bench_fail ("%s", error.reason);
    bench_path (path, sizeof path, "%s/enrolled", broker_dir);
    en_mkdir_p (path, 0700);
    for (int i = 0; i < nodes; i++) {
        bench_path (path, sizeof path, "%s/keys", node_dirs [i]);
        if (en_keys_generate (path, node_names [i], &error))
            bench_fail ("%s", error.reason);
        bench_path (path, sizeof path, "%s/keys/%s.cert", node_dirs [i], node_names [i]);
        bench_path (to, sizeof to, "%s/enrolled/%s.cert", broker_dir, node_names [i]);
        bench_copy_file (path, to);
        bench_path (path, sizeof path, "%s/keys/%s.cert", broker_dir, broker_name);
        bench_path (to, sizeof to, "%s/keys/broker.cert", node_dirs [i]);
        bench_copy_file (path, to);
    }
}

//  Bind the enrolled node node_name to region (as `expertnet enroll
//  --region` does; without it a node may speak only for its own name).
BENCH_API void
bench_enroll_region (const char *broker_dir, const char *node_name, const char *region)
{
    char path [PATH_MAX];
    bench_path (path, sizeof path, "%s/enrolled/%s.cert", broker_dir, node_name);
    zcert_t *cert = zcert_load (path);
    if (!cert)
        bench_fail ("cannot load %s", path);
    zcert_set_meta (cert, "region", "%s", region);
    if (zcert_save_public (cert, path))
        bench_fail ("cannot write %s", path);
    zcert_destroy (&cert);
}

//  Start expertnet-broker on datadir and endpoint; wait until its control
//  socket answers "status". Returns the pid.
BENCH_API pid_t
bench_start_broker (const char *bin_dir, const char *datadir, const char *endpoint)
{
    char program [PATH_MAX], log [PATH_MAX];
    bench_path (program, sizeof program, "%s/expertnet-broker", bin_dir);
    bench_path (log, sizeof log, "%s/broker.log", datadir);
    char *argv [] = { program, "--datadir", (char *) datadir, "--endpoint", (char *) endpoint, NULL };
    pid_t pid = bench_spawn (log, argv);
    int64_t give_up = bench_now_us () + 10000000;
    while (bench_now_us () < give_up) {
        if (!bench_alive (pid)) {
            bench_log_tail (log);
            bench_fail ("expertnet-broker exited during start-up");
        }
        json_t *result = NULL;
        int rc = en_control_call (datadir, "status", NULL, 500, &result, NULL);
        json_decref (result);
        if (rc == 0)
            return pid;
        usleep (20000);
    }
    bench_log_tail (log);
    bench_fail ("expertnet-broker did not answer on its control socket within 10 s");
    return -1;
}

//  CPU seconds (user + system) a process has used so far, from
//  /proc/PID/stat; pid 0 is this process (all its threads).
BENCH_API double
bench_cpu_seconds (pid_t pid)
{
    char path [64];
    snprintf (path, sizeof path, "/proc/%d/stat", pid ? (int) pid : (int) getpid ());
    char *text = en_file_read (path, 65536);
    //  Fields after the command name, which is in parentheses
    char *fields = text ? strrchr (text, ')') : NULL;
    unsigned long long utime = 0, stime = 0;
    if (fields)
        sscanf (fields + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                &utime, &stime);
    free (text);
    return (double) (utime + stime) / (double) sysconf (_SC_CLK_TCK);
}

//  A process's resident memory from /proc/PID/status, in KiB: VmRSS
//  (now) and VmHWM (its peak so far). 0 for a value not found.
BENCH_API void
bench_memory_kb (pid_t pid, long *rss_kb, long *hwm_kb)
{
    char path [64];
    snprintf (path, sizeof path, "/proc/%d/status", pid ? (int) pid : (int) getpid ());
    char *text = en_file_read (path, 65536);
    char *rss = text ? strstr (text, "\nVmRSS:") : NULL;
    char *hwm = text ? strstr (text, "\nVmHWM:") : NULL;
    *rss_kb = rss ? atol (rss + 7) : 0;
    *hwm_kb = hwm ? atol (hwm + 7) : 0;
    free (text);
}

//  --------------------------------------------------------------------
//  Figures

static int
s_bench_compare (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y ? 1 : 0;
}

//  Sort values in place (for bench_percentile).
BENCH_API void
bench_sort (double *values, size_t count)
{
    qsort (values, count, sizeof (double), s_bench_compare);
}

//  Nearest-rank percentile (0 < p <= 100) of sorted values.
BENCH_API double
bench_percentile (const double *sorted, size_t count, double p)
{
    if (count == 0)
        return NAN;
    size_t rank = (size_t) ceil (p / 100.0 * (double) count);
    return sorted [rank > 0 ? rank - 1 : 0];
}

//  One line of the summary table, printed now and appended to
//  $BENCH_RESULTS for run.sh: metric, value, unit, baseline name,
//  baseline value, ratio, target, and whether it is met ("yes", "no",
//  or "-" when the figure has no target).
BENCH_API void
bench_result (const char *metric, double value, const char *unit,
              const char *baseline, double baseline_value,
              const char *target, const char *met)
{
    double ratio = baseline_value > 0 ? value / baseline_value : NAN;
    printf ("  %-40s %10.2f %-6s | %-32s %10.2f | ratio %8.2fx | target %-14s %s\n",
            metric, value, unit, baseline, baseline_value, ratio, target, met);
    fflush (stdout);
    const char *path = getenv ("BENCH_RESULTS");
    FILE *file = path && *path ? fopen (path, "a") : NULL;
    if (file) {
        fprintf (file, "%s\t%.2f\t%s\t%s\t%.2f\t%.2f\t%s\t%s\n",
                 metric, value, unit, baseline, baseline_value, ratio, target, met);
        fclose (file);
    }
}

//  A free-form note for the report (written to $BENCH_RESULTS as "#").
BENCH_API void
bench_note (const char *format, ...)
{
    char text [1024];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    printf ("  note: %s\n", text);
    fflush (stdout);
    const char *path = getenv ("BENCH_RESULTS");
    FILE *file = path && *path ? fopen (path, "a") : NULL;
    if (file) {
        fprintf (file, "#\t%s\n", text);
        fclose (file);
    }
}

//  A request summary as a node publishes it.
BENCH_API json_t *
bench_request (const char *id, const char *region)
{
    return json_pack ("{s:s, s:s, s:s, s:s, s:[s], s:s, s:[s,s], s:s, s:s}",
        "id", id, "region", region, "urgency", "regulier",
        "question_type", "consultatie-advies", "expertise", "trauma",
        "age_band", "12-17", "leefgebieden", "jeugdhulp", "onderwijs",
        "kader", "vrijwillig", "situatie", "thuis");
}

//  Baseline A of every benchmark that compares with a commit rate: one
//  row per transaction into a WAL database with synchronous=FULL (the
//  settings en_db uses), for `seconds`, at path (a new file; put it on the
//  filesystem the measured daemon writes to).
typedef struct {
    double rate;                //  commits per second
    double p50_ms;              //  commit latency
    double p99_ms;
    size_t commits;
} bench_sqlite_t;

//  BEGIN IMMEDIATE; INSERT one row; COMMIT - for seconds.
BENCH_API bench_sqlite_t
bench_sqlite_commits (const char *path, double seconds)
{
    bench_sqlite_t result = { 0 };
    sqlite3 *db;
    if (sqlite3_open (path, &db) != SQLITE_OK)
        bench_fail ("cannot open %s", path);
    char *error = NULL;
    if (sqlite3_exec (db,
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
            "CREATE TABLE requests (id TEXT PRIMARY KEY, origin TEXT NOT NULL,"
            "  summary TEXT NOT NULL, created INTEGER NOT NULL);",
            NULL, NULL, &error) != SQLITE_OK)
        bench_fail ("sqlite baseline: %s", error);
    sqlite3_stmt *begin, *insert, *commit;
    sqlite3_prepare_v2 (db, "BEGIN IMMEDIATE", -1, &begin, NULL);
    sqlite3_prepare_v2 (db, "INSERT INTO requests (id, origin, summary, created) VALUES (?, ?, ?, ?)",
                        -1, &insert, NULL);
    sqlite3_prepare_v2 (db, "COMMIT", -1, &commit, NULL);
    //  A row the size of a stored request summary
    json_t *request = bench_request ("twente-0123456789abcdef", "twente");
    char *summary = json_dumps (request, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref (request);

    size_t size = 1 << 16;
    double *latency = (double *) malloc (size * sizeof (double));
    int64_t start = bench_now_us ();
    int64_t stop = start + (int64_t) (seconds * 1e6);
    int64_t now = start;
    while (now < stop) {
        char id [40];
        snprintf (id, sizeof id, "row-%zu", result.commits);
        int64_t t0 = bench_now_us ();
        sqlite3_bind_text (insert, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text (insert, 2, "bench-node", -1, SQLITE_STATIC);
        sqlite3_bind_text (insert, 3, summary, -1, SQLITE_STATIC);
        sqlite3_bind_int64 (insert, 4, en_now_ms ());
        if (sqlite3_step (begin) != SQLITE_DONE || sqlite3_step (insert) != SQLITE_DONE
        ||  sqlite3_step (commit) != SQLITE_DONE)
            bench_fail ("sqlite baseline: %s", sqlite3_errmsg (db));
        sqlite3_reset (begin);
        sqlite3_reset (insert);
        sqlite3_reset (commit);
        now = bench_now_us ();
        if (result.commits == size) {
            size *= 2;
            latency = (double *) realloc (latency, size * sizeof (double));
        }
        latency [result.commits++] = (now - t0) / 1000.0;
    }
    result.rate = result.commits / ((now - start) / 1e6);
    bench_sort (latency, result.commits);
    result.p50_ms = bench_percentile (latency, result.commits, 50);
    result.p99_ms = bench_percentile (latency, result.commits, 99);
    free (latency);
    free (summary);
    sqlite3_finalize (begin);
    sqlite3_finalize (insert);
    sqlite3_finalize (commit);
    sqlite3_close (db);
    return result;
}

//  Send command with body (taken) from sender over dealer, signed by
//  signer, as a node does; the message id into id_out (33 bytes) if given.
BENCH_API void
bench_send (zsock_t *dealer, const char *sender, en_signer_t *signer,
            const char *command, json_t *body, char *id_out)
{
    en_msg_t *msg = en_msg_new (command, sender, body);
    if (id_out)
        strcpy (id_out, en_msg_id (msg));
    if (en_msg_send (msg, dealer, NULL, signer))
        bench_fail ("cannot send %s: %s", command, zmq_strerror (zmq_errno ()));
    en_msg_destroy (&msg);
}

//  A zhashx destructor for items made with malloc.
BENCH_API void
bench_free_item (void **item)
{
    free (*item);
    *item = NULL;
}

//  Ask a daemon (control socket in dir) for verb until check (NULL: any
//  answer) accepts the result, for at most timeout_ms.
static inline bool
bench_wait_control (const char *dir, const char *verb, bool (*check) (json_t *, void *), void *arg,
                int timeout_ms)
{
    int64_t give_up = bench_now_us () + timeout_ms * 1000LL;
    while (bench_now_us () < give_up) {
        json_t *result = NULL;
        bool done = en_control_call (dir, verb, NULL, 1000, &result, NULL) == 0 && (!check || check (result, arg));
        json_decref (result);
        if (done)
            return true;
        usleep (50000);
    }
    return false;
}

#endif
