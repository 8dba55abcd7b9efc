/*  expertnet - the command line for people.

    Regional ET staff submit and follow consult requests, experts listen
    for and answer offers, operators look at a broker. Every verb talks to
    a daemon over its local control socket (en_control); nothing here
    touches a database. `--json` prints the daemon's JSON for scripts.

    Exit codes: 0 ok, 1 refused or failed, 2 usage error, 3 daemon not
    reachable, 4 not found.

    Dispatch is one table (at the end of this file): s_groups names each
    command group (request, expert, node, broker, case, audit) or single
    command (report, keygen, enroll, revoke), and each group's sub-table
    holds every command's verb, its handler, its options and its synopsis,
    which `--help` prints. main parses the global options, finds the entry
    and calls its handler; no other code looks at the command's name.
    Handlers are short: build the daemon's arguments, call it (s_call, or
    s_query when the answer is only printed), print.

    `request submit` waits for the broker's answer without polling: it
    subscribes to the node's notify socket (topic "request:") before it
    submits, and the node publishes there when the broker acknowledges or
    refuses the SUBMIT, and on every STATUS (docs/protocol.md).
*/
#include "expertnet.h"
#include <sodium.h>
#include <getopt.h>
#include <errno.h>
#include <pwd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define EXIT_REFUSED     1
#define EXIT_USAGE       2
#define EXIT_UNREACHABLE 3
#define EXIT_NOT_FOUND   4

typedef struct {
    const char *node_dir;       //  node data directory (control socket)
    const char *broker_dir;     //  broker data directory
    bool json;                  //  print JSON
    int timeout_ms;             //  control call timeout
} s_cli_t;

//  A command's handler: the parsed options and arguments (s_parse) and
//  the command's verb (one handler may serve several). Returns the exit
//  code.
typedef int (s_handler_fn) (s_cli_t *cli, json_t *parsed, const char *verb);

//  How a daemon's answer is printed without --json.
typedef void (s_print_fn) (json_t *result);

static const char *s_usage_text =
"usage: expertnet [--node DIR] [--broker DIR] [--json] COMMAND ...\n"
"\n"
"Consult requests (regional expert team, at your node):\n"
"  request submit [--file FILE | fields...]   submit a consultatieverzoek (--place ROLE:TAGS: a team)\n"
"  request list [--state STATE]               requests of this node\n"
"  request show ID                            one request and its timeline\n"
"  request close ID [--outcome TEXT]          close a request\n"
"  request review ID --date D | --in 6w       set the review date (terug op ET)\n"
"  request beraad ID --propose T,T | --fix T | --held T   moreel beraad as a meeting\n"
"  request reply ID --text T | --file F       reply to an advice (sealed to the expert)\n"
"  request message ID --text T | --file F     write in the request's conversation (sealed to all)\n"
"  request thread ID [--no-read]              the conversation in order, with who read what\n"
"Experts (at their region's node):\n"
"  expert add --id ID --role ROLE [...]       register an expert\n"
"  expert update ID [...]                     change availability\n"
"  expert list                                this region's experts\n"
"  expert listen [--expert ID]                print offers as they arrive\n"
"  expert inbox [--expert ID] [--all]         offers waiting for an answer\n"
"  expert accept OFFER                        accept an offer\n"
"  expert decline OFFER --reason TEXT         decline (the next candidate gets it)\n"
"  expert advise OFFER --file FILE            send advice on an accepted case\n"
"  expert dossier OFFER                       open the dossier with the expert's password\n"
"  expert message OFFER --text T [--advice]   write in the conversation of an accepted request\n"
"  expert thread OFFER                        the conversation in order, with who read what\n"
"  expert beraad OFFER [--available T,T]      a moreel beraad's times: show, or answer\n"
"Case register (identifying data stays at the node, encrypted):\n"
"  case add --client-id ID [--name ..] [--relatives A,B]  register a client; prints the pseudonym\n"
"  case show PSEUDONYM | case list            read (logged) / list pseudonyms\n"
"  case phase PSEUDONYM --phase PHASE         triage, plan, monitoren, afgesloten\n"
"Access log (NEN 7513):\n"
"  audit verify [--broker] [--anchors FILE]   check the hash chain (and against the heads a broker holds)\n"
"  audit anchors --node NAME                  (with --broker DIR) the heads NAME anchored at this broker\n"
"  audit show [--case ID] [--broker]          who did what to a case\n"
"  audit export --case PSEUDONYM              every entry about one client, in Dutch\n"
"Node and broker:\n"
"  node status                                connection, queue depth, counts\n"
"  node rotate [--secret] [--data-key]        new region secret / data key\n"
"  node notifications [--state STATE]         e-mail/SMS queue and its delivery state\n"
"  broker status | requests | show ID | hiaten | experts | offers\n"
"Accounts at the node (portal logins; experts' dossier keys):\n"
"  node user-add NAME --role R [--expert ID] [--email E] [--phone P]\n"
"  node users | node user-remove NAME\n"
"  node user-passwd NAME | user-recover NAME | user-rekey NAME   (--password-file F)\n"
"Dashboard (http://127.0.0.1:8080 by default) and operator actions:\n"
"  broker operator-add|operator-passwd NAME [--password-file F]   a dashboard login, a new password\n"
"  broker operators | operator-remove NAME   the logins; remove one (and its tokens)\n"
"  broker token-add NAME | tokens | token-remove ID   API tokens\n"
"  broker reoffer|escalate|close|recall ID --reason TEXT [--place N]   operator actions (logged)\n"
"Rode draden (stuurgroep, against the broker):\n"
"  report --from DATE --to DATE --format html|csv|json [--region R] [--output F]\n"
"Keys:\n"
"  keygen --name NAME --dir DIR               create a CURVE and an Ed25519 key pair\n"
"  enroll CERT --broker DIR                   admit a node's public cert\n"
"  revoke NAME --broker DIR                   remove a node's enrollment\n"
"\n"
"Global options:\n"
"  --node DIR     node data directory (default $EXPERTNET_NODE or run/twente)\n"
"  --broker DIR   broker data directory (default $EXPERTNET_BROKER or run/overijssel)\n"
"  --json         machine-readable output\n"
"  --timeout MS   how long to wait for the daemon (default 5000)\n"
"Every command takes --help. Exit codes: 0 ok, 1 refused, 2 usage,\n"
"3 daemon not reachable, 4 not found.\n";

static int
s_usage_error (const char *format, const char *arg)
{
    fprintf (stderr, "expertnet: ");
    fprintf (stderr, format, arg);
    fprintf (stderr, "\n(see 'expertnet --help')\n");
    return EXIT_USAGE;
}

//  Who is acting, for the access log: the login name (or the user who
//  ran sudo), never anything the caller can pass as an option.
static const char *
s_user (void)
{
    const char *user = getenv ("SUDO_USER");
    if (user && *user)
        return user;
    struct passwd *entry = getpwuid (getuid ());
    return entry ? entry->pw_name : "unknown";
}

//  Call the daemon; on failure print the reason and return an exit code.
static int
s_call (s_cli_t *cli, const char *dir, const char *verb, json_t *args, json_t **result)
{
    if (!args)
        args = json_object ();
    json_object_set_new (args, "_user", json_string (s_user ()));
    en_error_t error = { 0 };
    int rc = en_control_call (dir, verb, args, cli->timeout_ms, result, &error);
    if (rc && error.code == EN_ERR_NO_ANSWER) {
        fprintf (stderr, "expertnet: no daemon answers at %s (is it running? see --node/--broker)\n", dir);
        return EXIT_UNREACHABLE;
    }
    if (rc) {
        int code = (int) en_json_int (*result, "code", 0);
        fprintf (stderr, "expertnet: %s\n", en_json_str (*result, "error") ?: "refused");
        json_decref (*result);
        *result = NULL;
        return code == EN_ERR_NOT_FOUND ? EXIT_NOT_FOUND : EXIT_REFUSED;
    }
    return 0;
}

static void
s_print_json (json_t *value)
{
    char *text = json_dumps (value, JSON_INDENT (2) | JSON_ENCODE_ANY);
    printf ("%s\n", text);
    free (text);
}

//  Call a daemon's verb and print its answer: as JSON with --json, else
//  with print. The exit code.
static int
s_query (s_cli_t *cli, const char *dir, const char *verb, json_t *args, s_print_fn *print)
{
    json_t *result;
    int rc = s_call (cli, dir, verb, args, &result);
    if (rc)
        return rc;
    if (cli->json)
        s_print_json (result);
    else
        print (result);
    json_decref (result);
    return 0;
}

//  A SUB on the node's notify socket (topics in docs/protocol.md), or NULL
//  when the node publishes nothing there (not running).
static zsock_t *
s_notify_sub (s_cli_t *cli, const char *topic)
{
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/notify.sock", cli->node_dir);
    zsock_t *sub = zsys_file_exists (path) ? zsock_new (ZMQ_SUB) : NULL;
    if (sub && zsock_connect (sub, "ipc://%s", path) < 0)
        zsock_destroy (&sub);
    if (sub)
        zsock_set_subscribe (sub, topic);
    return sub;
}

//  A secret (password, recovery code) from the file named by option,
//  else from standard input (one line; prompt and no echo when it is a
//  terminal; with confirm, asked twice there and refused unless both
//  match). Caller wipes and frees; NULL on failure (said why).
static char *
s_read_secret (json_t *parsed, const char *option, const char *prompt, bool confirm)
{
    const char *file = option ? en_json_str (parsed, option) : NULL;
    char *text = NULL;
    if (file) {
        text = en_file_read (file, 1024);
        if (!text)
            fprintf (stderr, "expertnet: cannot read %s: %s\n", file, strerror (errno));
        if (text)
            text [strcspn (text, "\r\n")] = 0;
        return text;
    }
    bool tty = isatty (STDIN_FILENO);
    for (int round = 0; round < (tty && confirm ? 2 : 1); round++) {
        if (tty)
            fprintf (stderr, "%s%s: ", round ? "again, " : "", prompt);
        char buf [1024];
        struct termios old, quiet;
        bool echo_off = tty && tcgetattr (STDIN_FILENO, &old) == 0;
        if (echo_off) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t) ECHO;
            tcsetattr (STDIN_FILENO, TCSANOW, &quiet);
        }
        char *line = fgets (buf, sizeof buf, stdin);
        if (echo_off) {
            tcsetattr (STDIN_FILENO, TCSANOW, &old);
            fprintf (stderr, "\n");
        }
        if (line)
            buf [strcspn (buf, "\r\n")] = 0;
        if (line && round == 0)
            text = strdup (buf);
        else
        if (line && text && sodium_memcmp (text, buf, strlen (text) + 1) != 0) {
            fprintf (stderr, "expertnet: the two entries differ\n");
            sodium_memzero (text, strlen (text));
            free (text);
            text = NULL;
        }
        sodium_memzero (buf, sizeof buf);
        if (!line) {
            if (text) {
                sodium_memzero (text, strlen (text));
                free (text);
                text = NULL;
            }
            break;
        }
    }
    return text;
}

static void
s_secret_free (char **text_p)
{
    if (*text_p) {
        sodium_memzero (*text_p, strlen (*text_p));
        free (*text_p);
        *text_p = NULL;
    }
}

static char *
s_join (json_t *array)
{
    char buf [512] = "";
    size_t index;
    json_t *item;
    json_array_foreach (array, index, item) {
        if (index)
            strncat (buf, ",", sizeof buf - strlen (buf) - 1);
        strncat (buf, json_string_value (item) ?: "", sizeof buf - strlen (buf) - 1);
    }
    return strdup (buf [0] ? buf : "-");
}

//  "a,b,c" -> ["a","b","c"]
static json_t *
s_split (const char *text)
{
    json_t *array = json_array ();
    char *copy = strdup (text), *save = NULL;
    for (char *token = strtok_r (copy, ",", &save); token; token = strtok_r (NULL, ",", &save)) {
        while (*token == ' ')
            token++;
        if (*token)
            json_array_append_new (array, json_string (token));
    }
    free (copy);
    return array;
}

//  Parse "YYYY-MM-DD", "YYYY-MM-DDTHH:MM" or ms since epoch; -1 if bad.
static int64_t
s_parse_time (const char *text)
{
    char *end;
    long long value = strtoll (text, &end, 10);
    if (*end == 0 && value >= 0)
        return value;
    struct tm tm = { 0 };
    const char *rest = strptime (text, "%Y-%m-%dT%H:%M", &tm);
    if (!rest || *rest) {
        memset (&tm, 0, sizeof tm);
        rest = strptime (text, "%Y-%m-%d", &tm);
    }
    if (!rest || *rest)
        return -1;
    tm.tm_isdst = -1;
    return (int64_t) mktime (&tm) * 1000;
}

//  A duration in ms as "42s", "9m", "5h", "3d".
static const char *
s_span (int64_t ms, char *buf, size_t size)
{
    int64_t secs = (ms < 0 ? -ms : ms) / 1000;
    const char *sign = ms < 0 ? "-" : "";
    if (secs < 120)
        snprintf (buf, size, "%s%llds", sign, (long long) secs);
    else
    if (secs < 7200)
        snprintf (buf, size, "%s%lldm", sign, (long long) secs / 60);
    else
    if (secs < 172800)
        snprintf (buf, size, "%s%lldh", sign, (long long) secs / 3600);
    else
        snprintf (buf, size, "%s%lldd", sign, (long long) secs / 86400);
    return buf;
}

//  Time left until a deadline, or "overdue".
static const char *
s_left (int64_t deadline, char *buf, size_t size)
{
    int64_t left = deadline - en_now_ms ();
    return left < 0 ? "overdue" : s_span (left, buf, size);
}

//  How long ago.
static const char *
s_age (int64_t since, char *buf, size_t size)
{
    return s_span (en_now_ms () - since, buf, size);
}

//  ------------------------------------------------------------------
//  Option parsing for sub-commands: a small table-driven getopt_long.

typedef struct {
    const char *name;           //  long option
    bool has_arg;
    const char *help;
} s_opt_t;

//  Options that may be given more than once: parsed as a list of values.
static const char *s_repeatable [] = { "place", NULL };

//  Parse argv (after the sub-command) into a JSON object of option ->
//  string (or true), and positional arguments into "_args". Returns NULL
//  on a usage error (printed) or when --help was printed (*help = true).
static json_t *
s_parse (int argc, char **argv, const s_opt_t *opts, const char *synopsis, bool *help)
{
    json_t *parsed = json_object ();
    json_t *positional = json_array ();
    json_object_set_new (parsed, "_args", positional);
    *help = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv [i];
        if (streq (arg, "--help") || streq (arg, "-h")) {
            printf ("usage: expertnet %s\n", synopsis);
            for (const s_opt_t *opt = opts; opt && opt->name; opt++)
                printf ("  --%-18s %s\n", opt->name, opt->help);
            *help = true;
            json_decref (parsed);
            return NULL;
        }
        if (strncmp (arg, "--", 2) == 0) {
            const s_opt_t *opt = opts;
            for (; opt && opt->name; opt++)
                if (streq (opt->name, arg + 2))
                    break;
            if (!opt || !opt->name) {
                fprintf (stderr, "expertnet: unknown option '%s' for '%s'\n", arg, synopsis);
                json_decref (parsed);
                return NULL;
            }
            if (opt->has_arg) {
                if (i + 1 >= argc) {
                    fprintf (stderr, "expertnet: option '%s' needs a value\n", arg);
                    json_decref (parsed);
                    return NULL;
                }
                if (en_vocab_has (s_repeatable, opt->name)) {
                    if (!json_is_array (json_object_get (parsed, opt->name)))
                        json_object_set_new (parsed, opt->name, json_array ());
                    json_array_append_new (json_object_get (parsed, opt->name), json_string (argv [++i]));
                }
                else
                    json_object_set_new (parsed, opt->name, json_string (argv [++i]));
            }
            else
                json_object_set_new (parsed, opt->name, json_true ());
        }
        else
            json_array_append_new (positional, json_string (arg));
    }
    return parsed;
}

//  An option's value (of a repeatable one, the last given)
static const char *
s_opt (json_t *parsed, const char *name)
{
    json_t *value = json_object_get (parsed, name);
    if (json_is_array (value))
        return json_string_value (json_array_get (value, json_array_size (value) - 1));
    return en_json_str (parsed, name);
}

static const char *
s_arg (json_t *parsed, size_t index)
{
    return json_string_value (json_array_get (json_object_get (parsed, "_args"), index));
}

static size_t
s_arg_count (json_t *parsed)
{
    return json_array_size (json_object_get (parsed, "_args"));
}

static int
s_wait_seconds (json_t *parsed, int dflt)
{
    const char *text = s_opt (parsed, "wait");
    return text ? atoi (text) : dflt;
}

//  ------------------------------------------------------------------
//  request ...

static const s_opt_t s_request_fields [] = {
    { "file", true, "JSON file with the request (or a list of requests)" },
    { "id", true, "request id (default: REGION-random)" },
    { "region", true, "jeugdregio (default: the node's region)" },
    { "urgency", true, "crisis | hoog | regulier" },
    { "type", true, "consultatie-advies | procesregie | moreel-beraad | organiseren-hulp | overbruggingsfinanciering" },
    { "expertise", true, "required expertise tags, comma separated (default with --place: all places' tags)" },
    { "place", true, "a place of a team, ROLE[:TAG,TAG] (repeat: one per expert; e.g. superexpert:trauma)" },
    { "age-band", true, "0-3 | 4-11 | 12-17 | 18-23" },
    { "leefgebieden", true, "life domains, comma separated" },
    { "problematiek", true, "problem tags, comma separated" },
    { "kader", true, "vrijwillig | gedwongen" },
    { "situatie", true, "thuis | pleegzorg | gezinshuis | residentieel | jeugdzorgplus | 3-milieu | crisis" },
    { "stuck-on", true, "inhoud,samenwerking,financiering,wachttijd,aanbod-ontbreekt" },
    { "question", true, "the question, anonymized (no names, dates of birth, addresses)" },
    { "case", true, "the case's pseudonym (from 'expertnet case add')" },
    { "dossier-file", true, "detailed dossier (pseudonymized); released sealed to the expert who accepts" },
    { "wait", true, "seconds to wait for the broker's acknowledgement (default 5; 0: don't)" },
    { NULL, false, NULL }
};

//  --place ROLE[:TAG,TAG] (repeated): the request's places, a team
//  (EXPN/3). Without --expertise the request's tags are all the places'
//  tags. The node checks them (places[N].role ...).
static void
s_places_from_flags (json_t *parsed, json_t *request)
{
    json_t *given = json_object_get (parsed, "place");
    if (!json_is_array (given))
        return;
    json_t *places = json_array ();
    json_t *all = json_array ();
    size_t index;
    json_t *text;
    json_array_foreach (given, index, text) {
        char *role = strdup (json_string_value (text));
        char *colon = strchr (role, ':');
        json_t *place = json_object ();
        if (colon) {
            *colon = 0;
            json_t *tags = s_split (colon + 1);
            size_t t;
            json_t *tag;
            json_array_foreach (tags, t, tag) {
                bool seen = false;
                for (size_t a = 0; a < json_array_size (all); a++)
                    seen = seen || json_equal (json_array_get (all, a), tag);
                if (!seen)
                    json_array_append (all, tag);
            }
            json_object_set_new (place, "expertise", tags);
        }
        json_object_set_new (place, "role", json_string (role));
        json_array_append_new (places, place);
        free (role);
    }
    json_object_set_new (request, "places", places);
    if (!json_object_get (request, "expertise") && json_array_size (all))
        json_object_set (request, "expertise", all);
    json_decref (all);
}

static json_t *
s_request_from_flags (json_t *parsed)
{
    json_t *request = json_object ();
    static const char *scalars [][2] = {
        { "id", "id" }, { "region", "region" }, { "urgency", "urgency" },
        { "type", "question_type" }, { "age-band", "age_band" }, { "kader", "kader" },
        { "situatie", "situatie" }, { "question", "question" }, { "case", "case" }, { NULL, NULL } };
    static const char *lists [][2] = {
        { "expertise", "expertise" }, { "leefgebieden", "leefgebieden" },
        { "problematiek", "problematiek" }, { "stuck-on", "stuck_on" }, { NULL, NULL } };
    for (int i = 0; scalars [i][0]; i++)
        if (s_opt (parsed, scalars [i][0]))
            json_object_set_new (request, scalars [i][1], json_string (s_opt (parsed, scalars [i][0])));
    for (int i = 0; lists [i][0]; i++)
        if (s_opt (parsed, lists [i][0]))
            json_object_set_new (request, lists [i][1], s_split (s_opt (parsed, lists [i][0])));
    s_places_from_flags (parsed, request);
    return request;
}

//  Wait until the node publishes news of kind:id on sub (for a request:
//  the broker acknowledged or refused its SUBMIT, or a STATUS came; for
//  an offer: the broker's verdict on the expert's answer), or until the
//  deadline. Whatever came, the caller reads the state after.
static void
s_wait_for_news (zsock_t *sub, const char *kind, const char *id, int64_t until)
{
    char topic [160];
    snprintf (topic, sizeof topic, "%s:%s;", kind, id);
    zpoller_t *poller = zpoller_new (sub, NULL);
    bool heard = false;
    while (!heard) {
        int64_t left = until - en_now_ms ();
        if (left <= 0 || !zpoller_wait (poller, (int) left))
            break;
        zmsg_t *event = zmsg_recv (sub);
        char *name = event ? zmsg_popstr (event) : NULL;
        heard = name && streq (name, topic);
        zstr_free (&name);
        zmsg_destroy (&event);
    }
    zpoller_destroy (&poller);
}

static int
s_submit_one (s_cli_t *cli, json_t *request, const char *dossier, int wait_s, json_t *results)
{
    //  Listening starts before the submit: the broker's answer can come
    //  before the node's reply to us does. (Were the subscription still on
    //  its way to the node, the news would be missed and only time lost:
    //  the state is read once after the wait either way.)
    zsock_t *sub = wait_s > 0 ? s_notify_sub (cli, "request:") : NULL;
    json_t *result;
    json_t *args = json_pack ("{s:O}", "request", request);
    if (dossier)
        json_object_set_new (args, "dossier", json_string (dossier));
    int rc = s_call (cli, cli->node_dir, "submit", args, &result);
    if (rc) {
        zsock_destroy (&sub);
        return rc;
    }
    const char *id = en_json_str (result, "id");
    //  Wait (briefly) until the broker has the request on disk
    if (sub)
        s_wait_for_news (sub, "request", id, en_now_ms () + wait_s * 1000LL);
    zsock_destroy (&sub);
    const char *state = "queued";
    json_t *shown = NULL;
    if (wait_s > 0
    &&  en_control_call (cli->node_dir, "request", json_pack ("{s:s}", "id", id), cli->timeout_ms, &shown, NULL) == 0)
        state = en_json_str (shown, "state");
    if (shown && streq (state, "rejected")) {
        fprintf (stderr, "expertnet: broker refused request %s: %s\n", id, en_json_str (shown, "error") ?: "");
        rc = EXIT_REFUSED;
    }
    json_object_set_new (result, "state", json_string (state));
    if (!cli->json && rc == 0)
        printf ("%s %s%s\n", id, state,
                streq (state, "queued") ? " (stored at the node; it is sent when the broker is reachable)" : "");
    json_array_append (results, result);
    json_decref (result);
    json_decref (shown);
    return rc;
}

//  The requests in FILE (one object or a list), with the flags given next
//  to --file overriding the file's fields; NULL when it cannot be read
//  (said why).
static json_t *
s_requests_from_file (const char *file, json_t *parsed)
{
    FILE *stream = fopen (file, "r");
    if (!stream) {
        fprintf (stderr, "expertnet: cannot read %s: %s\n", file, strerror (errno));
        return NULL;
    }
    json_error_t jerr;
    json_t *loaded = json_loadf (stream, JSON_REJECT_DUPLICATES, &jerr);
    fclose (stream);
    if (!loaded) {
        fprintf (stderr, "expertnet: %s: line %d: %s\n", file, jerr.line, jerr.text);
        return NULL;
    }
    json_t *requests = json_is_array (loaded) ? loaded : json_pack ("[o]", loaded);
    json_t *flags = s_request_from_flags (parsed);
    size_t index;
    json_t *request;
    json_array_foreach (requests, index, request)
        if (json_is_object (request))
            json_object_update (request, flags);
    json_decref (flags);
    return requests;
}

static int
s_cmd_request_submit (s_cli_t *cli, json_t *parsed, const char *verb)
{
    const char *file = s_opt (parsed, "file");
    json_t *requests = file ? s_requests_from_file (file, parsed)
                            : json_pack ("[o]", s_request_from_flags (parsed));
    if (!requests)
        return EXIT_USAGE;
    int wait_s = s_wait_seconds (parsed, json_array_size (requests) == 1 ? 5 : 0);
    char *dossier = NULL;
    if (s_opt (parsed, "dossier-file")) {
        if (json_array_size (requests) != 1) {
            json_decref (requests);
            return s_usage_error ("%s", "--dossier-file goes with one request, not a list");
        }
        dossier = en_file_read (s_opt (parsed, "dossier-file"), EN_MAX_ADVICE);
        if (!dossier) {
            fprintf (stderr, "expertnet: cannot read %s: %s\n", s_opt (parsed, "dossier-file"),
                     errno == EFBIG ? "larger than the limit of 16000 bytes" : strerror (errno));
            json_decref (requests);
            return EXIT_USAGE;
        }
    }
    json_t *results = json_array ();
    int rc = 0;
    size_t index;
    json_t *request;
    json_array_foreach (requests, index, request) {
        int one = s_submit_one (cli, request, dossier, wait_s, results);
        if (one == EXIT_UNREACHABLE) {
            rc = one;
            break;
        }
        rc = rc ? rc : one;
    }
    free (dossier);
    if (cli->json)
        s_print_json (json_array_size (requests) == 1 && json_array_size (results) == 1
                      ? json_array_get (results, 0) : results);
    json_decref (results);
    json_decref (requests);
    return rc;
}

//  The states of a request at the broker (docs/protocol.md, "Request
//  states"), and the two a node adds before the broker has it.
static const char *s_broker_states [] = {
    "submitted", "offered", "escalated", "forwarded", "accepted", "advice", "hiaat", "closed",
    "returned", "recalled", "monitoring", NULL };
static const char *s_node_states [] = { "queued", "rejected", NULL };

//  Control arguments with the --state filter, if given: one of states (or
//  of also, when not NULL). NULL (said why) for any other state.
static json_t *
s_state_args (json_t *parsed, const char **states, const char **also)
{
    const char *state = s_opt (parsed, "state");
    if (state && !en_vocab_has (states, state) && !(also && en_vocab_has (also, state))) {
        char valid [256] = "";
        const char **lists [] = { also, states };
        for (int l = 0; l < 2; l++)
            for (const char **item = lists [l]; item && *item; item++)
                snprintf (valid + strlen (valid), sizeof valid - strlen (valid), "%s%s", *valid ? ", " : "", *item);
        fprintf (stderr, "expertnet: unknown state '%s' (one of: %s)\n", state, valid);
        return NULL;
    }
    json_t *args = json_object ();
    if (state)
        json_object_set_new (args, "state", json_string (state));
    return args;
}

static void
s_print_requests (json_t *rows)
{
    printf ("%-22s %-9s %-19s %-10s %-24s %s\n", "ID", "URGENCY", "TYPE", "STATE", "EXPERT", "UPDATED");
    size_t index;
    json_t *row;
    json_array_foreach (rows, index, row) {
        json_t *summary = json_object_get (row, "summary");
        char when [32];
        printf ("%-22s %-9s %-19s %-10s %-24s %s\n", en_json_str (row, "id"),
                en_json_str (summary, "urgency"), en_json_str (summary, "question_type"),
                en_json_str (row, "state"), en_json_str (row, "expert") ?: "-",
                en_time_str (en_json_int (row, "updated", 0), when, sizeof when));
    }
    if (json_array_size (rows) == 0)
        printf ("(no requests)\n");
}

static int
s_cmd_request_list (s_cli_t *cli, json_t *parsed, const char *verb)
{
    json_t *args = s_state_args (parsed, s_broker_states, s_node_states);
    return args ? s_query (cli, cli->node_dir, "requests", args, s_print_requests) : EXIT_USAGE;
}

static void
s_print_summary (json_t *summary)
{
    char *expertise = s_join (json_object_get (summary, "expertise"));
    char *domains = s_join (json_object_get (summary, "leefgebieden"));
    char *problems = s_join (json_object_get (summary, "problematiek"));
    char *stuck = s_join (json_object_get (summary, "stuck_on"));
    printf ("  urgency        %s\n  question type  %s\n  expertise      %s\n  region         %s\n"
            "  age band       %s\n  leefgebieden   %s\n  problematiek   %s\n  kader          %s\n"
            "  situatie       %s\n  stuck on       %s\n",
            en_json_str (summary, "urgency"), en_json_str (summary, "question_type"), expertise,
            en_json_str (summary, "region"), en_json_str (summary, "age_band"), domains, problems,
            en_json_str (summary, "kader") ?: "-", en_json_str (summary, "situatie") ?: "-", stuck);
    if (en_json_str (summary, "question"))
        printf ("  question       %s\n", en_json_str (summary, "question"));
    free (expertise);
    free (domains);
    free (problems);
    free (stuck);
}

//  A request's places (a team, EXPN/3): each place's role and tags, and
//  whether it is filled (by whom), open, or a hiaat.
static void
s_print_places (json_t *places)
{
    printf ("places:\n");
    size_t index;
    json_t *place;
    json_array_foreach (places, index, place) {
        const char *state = en_json_str (place, "state");
        const char *shown = streq (state, "accepted") || streq (state, "advice") ? "filled"
                          : streq (state, "hiaat") ? "hiaat"
                          : streq (state, "closed") || streq (state, "rejected") ? state : "open";
        char *roles = s_join (json_object_get (place, "roles"));
        char *tags = s_join (json_object_get (place, "expertise"));
        printf ("  %-3" PRId64 " %-8s %-10s %-34s %s\n", en_json_int (place, "place", 0), shown, state,
                roles, tags);
        if (en_json_str (place, "expert"))
            printf ("      expert %s\n", en_json_str (place, "expert"));
        else
        if (en_json_str (place, "offered"))        //  (the broker's view)
            printf ("      offered to %s\n", en_json_str (place, "offered"));
        free (roles);
        free (tags);
    }
}

//  ------------------------------------------------------------------
//  Follow-up: the review date ("terug op ET"), a day at 09:00 in the
//  Netherlands whatever the machine's time zone

#define S_REVIEW_TZ "Europe/Amsterdam"

//  --date YYYY-MM-DD or --in N(d|w) as the review time in ms; -1 (said
//  why) if it is neither, or not a date.
static int64_t
s_review_option (const char *date, const char *in)
{
    if (date && in)
        return s_usage_error ("%s", "give --date or --in, not both"), -1;
    if (date) {
        int64_t ms = en_nl_day_ms (date, 0, 9);
        if (ms < 0)
            s_usage_error ("--date '%s' is not a date (YYYY-MM-DD)", date);
        return ms;
    }
    if (!in)
        return s_usage_error ("%s", "request review needs --date YYYY-MM-DD or --in N(d|w), e.g. --in 6w"), -1;
    char *end;
    long count = strtol (in, &end, 10);
    int days = (int) count * (streq (end, "w") ? 7 : streq (end, "d") ? 1 : 0);
    if (end == in || count <= 0 || days <= 0 || days > 366)
        return s_usage_error ("--in '%s' must be days or weeks ahead, e.g. 14d or 6w (at most 366 days)", in), -1;
    char today [32];
    en_nl_time_str (en_now_ms (), today, sizeof today);     //  today in the Netherlands
    today [10] = 0;
    return en_nl_day_ms (today, days, 9);
}

static int
s_cmd_request_review (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (s_arg_count (parsed) != 1)
        return s_usage_error ("%s", "request review needs one request id");
    int64_t at = s_review_option (s_opt (parsed, "date"), s_opt (parsed, "in"));
    if (at < 0)
        return EXIT_USAGE;
    char when [32];
    en_nl_time_str (at, when, sizeof when);
    if (at <= en_now_ms ()) {
        fprintf (stderr, "expertnet: the review date %s (%s) is in the past\n", when, S_REVIEW_TZ);
        return EXIT_USAGE;
    }
    json_t *result;
    int rc = s_call (cli, cli->node_dir, "review",
                     json_pack ("{s:s, s:I}", "id", s_arg (parsed, 0), "review_at", (json_int_t) at), &result);
    if (rc)
        return rc;
    if (cli->json)
        s_print_json (result);
    else
        printf ("%s: terug op ET %s (%s), queued for the broker\n", s_arg (parsed, 0), when, S_REVIEW_TZ);
    json_decref (result);
    return 0;
}

//  Times "YYYY-MM-DD HH:MM,..." (Dutch civil time) as an array of ms;
//  NULL (said why) if one is not such a time. "" is no time at all.
static json_t *
s_times_option (const char *option, const char *text)
{
    json_t *times = json_array ();
    char *copy = strdup (text);
    char *rest = copy;
    for (char *item = strsep (&rest, ","); item && *copy; item = strsep (&rest, ",")) {
        while (*item == ' ')
            item++;
        int64_t at = en_nl_time_ms (item);
        if (at < 0) {
            fprintf (stderr, "expertnet: --%s: '%s' is not a time (YYYY-MM-DD HH:MM, Dutch time)\n", option, item);
            json_decref (times);
            times = NULL;
            break;
        }
        json_array_append_new (times, json_integer (at));
    }
    free (copy);
    return times;
}

//  The team's moreel beraad: propose times, fix one, record it was held
static int
s_cmd_request_beraad (s_cli_t *cli, json_t *parsed, const char *verb)
{
    const char *propose = s_opt (parsed, "propose"), *fix = s_opt (parsed, "fix"), *held = s_opt (parsed, "held");
    if (s_arg_count (parsed) != 1 || (!!propose + !!fix + !!held) != 1)
        return s_usage_error ("%s", "request beraad needs one request id and one of --propose, --fix, --held");
    const char *action = propose ? "propose" : fix ? "fix" : "held";
    json_t *args = json_pack ("{s:s, s:s}", "id", s_arg (parsed, 0), "action", action);
    json_t *times = s_times_option (propose ? "propose" : fix ? "fix" : "held",
                                    propose ? propose : fix ? fix : streq (held, "now") ? "" : held);
    if (!times || (!propose && json_array_size (times) > 1)) {
        json_decref (times);
        json_decref (args);
        return times ? s_usage_error ("%s", "--fix and --held take one time") : EXIT_USAGE;
    }
    if (propose)
        json_object_set (args, "times", times);
    else
    if (json_array_size (times))
        json_object_set (args, "at", json_array_get (times, 0));
    else
        json_object_set_new (args, "at", json_integer (en_now_ms ()));
    json_decref (times);
    if (s_opt (parsed, "outcome"))
        json_object_set_new (args, "outcome", json_string (s_opt (parsed, "outcome")));
    json_t *result;
    int rc = s_call (cli, cli->node_dir, "beraad", args, &result);     //  (args consumed)
    if (rc)
        return rc;
    if (cli->json)
        s_print_json (result);
    else
        printf ("%s: moreel beraad %s queued for the broker\n", s_arg (parsed, 0), action);
    json_decref (result);
    return 0;
}

//  The expert's moreel beraad: show the proposed times, or answer which
//  suit
static int
s_cmd_expert_beraad (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (s_arg_count (parsed) != 1)
        return s_usage_error ("%s", "expert beraad needs one offer id");
    const char *available = s_opt (parsed, "available");
    bool none = json_object_get (parsed, "none") != NULL;
    json_t *result;
    int rc;
    if (!available && !none) {
        rc = s_call (cli, cli->node_dir, "offer", json_pack ("{s:s}", "offer", s_arg (parsed, 0)), &result);
        if (rc)
            return rc;
        json_t *times = json_object_get (result, "beraad_times");
        size_t index;
        json_t *time;
        char when [32];
        if (cli->json) {
            json_t *shown = json_pack ("{s:O?, s:O?, s:O?}", "times", times, "at", json_object_get (result, "beraad_at"),
                                       "held_at", json_object_get (result, "beraad_held_at"));
            s_print_json (shown);
            json_decref (shown);
        }
        else {
            json_array_foreach (times, index, time)
                printf ("proposed   %s (Europe/Amsterdam)\n", en_nl_time_str (json_integer_value (time), when, sizeof when));
            if (en_json_int (result, "beraad_at", 0) > 0)
                printf ("fixed      %s (Europe/Amsterdam)\n",
                        en_nl_time_str (en_json_int (result, "beraad_at", 0), when, sizeof when));
            if (en_json_int (result, "beraad_held_at", 0) > 0)
                printf ("held       %s (Europe/Amsterdam)\n",
                        en_nl_time_str (en_json_int (result, "beraad_held_at", 0), when, sizeof when));
            else
            if (json_array_size (times) == 0)
                printf ("(no moreel beraad proposed for this offer)\n");
        }
        json_decref (result);
        return 0;
    }
    json_t *times = none ? json_array () : s_times_option ("available", available);
    if (!times)
        return EXIT_USAGE;
    rc = s_call (cli, cli->node_dir, "beraad-answer",
                 json_pack ("{s:s, s:o}", "offer", s_arg (parsed, 0), "available", times), &result);
    if (rc)
        return rc;
    if (cli->json)
        s_print_json (result);
    else
        printf ("%s: answer queued for the broker\n", s_arg (parsed, 0));
    json_decref (result);
    return 0;
}

//  The review date of a request, if it has one, and whether it passed
static void
s_print_review (json_t *row)
{
    int64_t at = en_json_int (row, "review_at", 0);
    if (at <= 0)
        return;
    char when [32];
    bool passed = at <= en_now_ms () && !streq (en_json_str (row, "state"), "closed");
    printf ("  terug op ET    %s (%s)%s\n", en_nl_time_str (at, when, sizeof when), S_REVIEW_TZ,
            passed ? ", passed" : "");
}

static int
s_cmd_request_show (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (s_arg_count (parsed) != 1)
        return s_usage_error ("%s", "request show needs one request id");
    json_t *row;
    int rc = s_call (cli, cli->node_dir, "request", json_pack ("{s:s}", "id", s_arg (parsed, 0)), &row);
    if (rc)
        return rc;
    if (cli->json)
        s_print_json (row);
    else {
        printf ("request %s: %s%s%s\n", en_json_str (row, "id"), en_json_str (row, "state"),
                en_json_str (row, "expert") ? ", expert " : "", en_json_str (row, "expert") ?: "");
        if (en_json_str (row, "error"))
            printf ("  error          %s\n", en_json_str (row, "error"));
        s_print_summary (json_object_get (row, "summary"));
        s_print_review (row);
        s_print_places (json_object_get (row, "places"));
        printf ("timeline:\n");
        size_t index;
        json_t *event;
        bool team = json_array_size (json_object_get (row, "places")) > 1;
        json_array_foreach (json_object_get (row, "events"), index, event) {
            char when [32], place [24] = "";
            if (team && en_json_int (event, "place", 0) > 0)      //  a team: which place it was about
                snprintf (place, sizeof place, "place %lld ", (long long) en_json_int (event, "place", 0));
            printf ("  %s  %s%-10s %s%s%s\n", en_time_str (en_json_int (event, "at", 0), when, sizeof when), place,
                    en_json_str (event, "event"), en_json_str (event, "expert") ?: "",
                    en_json_str (event, "detail") ? "  " : "", en_json_str (event, "detail") ?: "");
        }
        if (en_json_str (row, "advice"))
            printf ("advice:\n%s\n", en_json_str (row, "advice"));
    }
    json_decref (row);
    return 0;
}

static int
s_cmd_request_close (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (s_arg_count (parsed) != 1)
        return s_usage_error ("%s", "request close needs one request id");
    json_t *args = json_pack ("{s:s}", "id", s_arg (parsed, 0));
    if (s_opt (parsed, "outcome"))
        json_object_set_new (args, "outcome", json_string (s_opt (parsed, "outcome")));
    json_t *result;
    int rc = s_call (cli, cli->node_dir, "close", args, &result);
    if (rc)
        return rc;
    if (cli->json)
        s_print_json (result);
    else
        printf ("%s closing (queued for the broker)\n", s_arg (parsed, 0));
    json_decref (result);
    return 0;
}

//  The text of --file FILE or --text TEXT (caller frees), or NULL with
//  *rc the exit code, the reason said (what: "request reply").
static char *
s_text_opt (json_t *parsed, const char *what, int *rc)
{
    const char *file = s_opt (parsed, "file");
    char *text = file ? en_file_read (file, EN_MAX_ADVICE) : NULL;
    if (file && !text) {
        fprintf (stderr, "expertnet: cannot read %s: %s\n", file,
                 errno == EFBIG ? "larger than the limit of 16000 bytes" : strerror (errno));
        *rc = EXIT_USAGE;
        return NULL;
    }
    if (!text && s_opt (parsed, "text"))
        text = strdup (s_opt (parsed, "text"));
    if (!text)
        *rc = s_usage_error ("%s needs --text TEXT or --file FILE", what);
    return text;
}

//  The team's reply to an advice, sealed to the expert who gave it.
static int
s_cmd_request_reply (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (s_arg_count (parsed) != 1)
        return s_usage_error ("%s", "request reply needs one request id");
    int rc = 0;
    char *text = s_text_opt (parsed, "request reply", &rc);
    if (!text)
        return rc;
    json_t *args = json_pack ("{s:s, s:s}", "id", s_arg (parsed, 0), "text", text);
    free (text);
    if (s_opt (parsed, "place"))
        json_object_set_new (args, "place", json_integer (atoll (s_opt (parsed, "place"))));
    json_t *result;
    rc = s_call (cli, cli->node_dir, "reply", args, &result);
    if (rc)
        return rc;
    if (cli->json)
        s_print_json (result);
    else
        printf ("reply to %s sealed to the expert and queued for the broker\n", s_arg (parsed, 0));
    json_decref (result);
    return 0;
}

//  ------------------------------------------------------------------
//  expert ...

static const s_opt_t s_expert_fields [] = {
    { "id", true, "pseudonymous expert id (add only)" },
    { "role", true, "superexpert | procesregisseur | ervaringsdeskundige" },
    { "expertise", true, "expertise tags, comma separated" },
    { "capacity", true, "open cases the expert can take (0-50)" },
    { "absent-until", true, "YYYY-MM-DD[THH:MM] or 0 (present)" },
    { "bovenregionaal", false, "a bovenregionale procesregisseur (escalation target)" },
    { "regionaal", false, "not bovenregionaal (update)" },
    { "languages", true, "languages, comma separated" },
    { "email", true, "e-mail address for notifications (kept at this node only; \"\" clears)" },
    { "phone", true, "mobile number for crisis text messages, +31... (kept at this node only)" },
    { NULL, false, NULL }
};

//  expert add / expert update
static int
s_cmd_expert_put (s_cli_t *cli, json_t *parsed, const char *verb)
{
    bool update = streq (verb, "update");
    json_t *expert = json_object ();
    const char *id = update ? s_arg (parsed, 0) : s_opt (parsed, "id");
    if (!id) {
        json_decref (expert);
        return s_usage_error ("%s", update ? "expert update needs an expert id" : "expert add needs --id");
    }
    json_object_set_new (expert, "id", json_string (id));
    if (s_opt (parsed, "role"))
        json_object_set_new (expert, "role", json_string (s_opt (parsed, "role")));
    if (s_opt (parsed, "expertise"))
        json_object_set_new (expert, "expertise", s_split (s_opt (parsed, "expertise")));
    if (s_opt (parsed, "languages"))
        json_object_set_new (expert, "languages", s_split (s_opt (parsed, "languages")));
    if (s_opt (parsed, "capacity")) {
        char *end;
        long capacity = strtol (s_opt (parsed, "capacity"), &end, 10);
        if (*end || end == s_opt (parsed, "capacity")) {
            json_decref (expert);
            return s_usage_error ("--capacity '%s' is not a number", s_opt (parsed, "capacity"));
        }
        json_object_set_new (expert, "capacity", json_integer (capacity));
    }
    if (s_opt (parsed, "absent-until")) {
        int64_t until = s_parse_time (s_opt (parsed, "absent-until"));
        if (until < 0) {
            json_decref (expert);
            return s_usage_error ("--absent-until '%s' is not YYYY-MM-DD[THH:MM] or 0", s_opt (parsed, "absent-until"));
        }
        json_object_set_new (expert, "absent_until", json_integer (until));
    }
    if (json_object_get (parsed, "bovenregionaal"))
        json_object_set_new (expert, "bovenregionaal", json_true ());
    if (json_object_get (parsed, "regionaal"))
        json_object_set_new (expert, "bovenregionaal", json_false ());
    //  Contact details go beside the expert record: the node keeps them
    //  and never publishes them
    json_t *args = json_pack ("{s:o}", "expert", expert);
    if (s_opt (parsed, "email"))
        json_object_set_new (args, "email", json_string (s_opt (parsed, "email")));
    if (s_opt (parsed, "phone"))
        json_object_set_new (args, "phone", json_string (s_opt (parsed, "phone")));
    json_t *result;
    int rc = s_call (cli, cli->node_dir, update ? "expert-update" : "expert-add", args, &result);
    if (rc)
        return rc;
    if (cli->json)
        s_print_json (result);
    else {
        char *tags = s_join (json_object_get (result, "expertise"));
        printf ("expert %s %s: %s, capacity %lld, expertise %s (published to the broker)\n",
                en_json_str (result, "id"), update ? "updated" : "added", en_json_str (result, "role"),
                (long long) en_json_int (result, "capacity", 0), tags);
        if (en_json_str (result, "email") || en_json_str (result, "phone"))
            printf ("  notifications to %s%s%s (kept at this node, never published)\n",
                    en_json_str (result, "email") ?: "", en_json_str (result, "email") && en_json_str (result, "phone") ? ", " : "",
                    en_json_str (result, "phone") ?: "");
        free (tags);
    }
    json_decref (result);
    return 0;
}

static int
s_cmd_expert_list (s_cli_t *cli, json_t *parsed, const char *verb)
{
    json_t *rows;
    int rc = s_call (cli, cli->node_dir, "experts", NULL, &rows);
    if (rc)
        return rc;
    if (cli->json)
        s_print_json (rows);
    else {
        printf ("%-24s %-20s %-8s %-14s %s\n", "ID", "ROLE", "CAPACITY", "ABSENT UNTIL", "EXPERTISE");
        size_t index;
        json_t *row;
        json_array_foreach (rows, index, row) {
            char *tags = s_join (json_object_get (row, "expertise"));
            char when [32];
            int64_t absent = en_json_int (row, "absent_until", 0);
            printf ("%-24s %-20s %-8lld %-14.10s %s\n", en_json_str (row, "id"),
                    json_is_true (json_object_get (row, "bovenregionaal")) ? "procesregisseur (br)"
                                                                          : en_json_str (row, "role"),
                    (long long) en_json_int (row, "capacity", 0),
                    absent > en_now_ms () ? en_time_str (absent, when, sizeof when) : "-", tags);
            free (tags);
        }
    }
    json_decref (rows);
    return 0;
}

static void
s_print_offer_line (json_t *offer)
{
    json_t *request = json_object_get (offer, "request");
    char *tags = s_join (json_object_get (request, "expertise"));
    char when [32], left [32];
    printf ("%s  %s%s for %s: %s %s, expertise %s, age %s, %s; answer within %s (%s)\n",
            en_json_str (offer, "offer") ?: en_json_str (offer, "id"),
            streq (en_json_str (offer, "kind") ?: "", "escalation") ? "ESCALATION " : "",
            "OFFER", en_json_str (offer, "expert"), en_json_str (request, "urgency"),
            en_json_str (request, "question_type"), tags, en_json_str (request, "age_band"),
            en_json_str (request, "region"),
            s_left (en_json_int (offer, "deadline", 0), left, sizeof left),
            en_time_str (en_json_int (offer, "deadline", 0), when, sizeof when));
    free (tags);
    //  A team: which of its places this offer is for
    json_t *places = json_object_get (request, "places");
    int64_t place = en_json_int (offer, "place", 1);
    json_t *this_place = json_array_get (places, (size_t) place - 1);
    if (this_place) {
        char *place_tags = s_join (json_object_get (this_place, "expertise"));
        printf ("    place %" PRId64 " of a team of %zu: %s%s%s\n", place, json_array_size (places),
                en_json_str (this_place, "role"), *place_tags ? ", expertise " : "", place_tags);
        free (place_tags);
    }
}

//  The offer of expert for request (its id goes in a hint), from the node's
//  inbox; "<request>-oN" when the node does not know it. Caller frees.
static char *
s_offer_of (s_cli_t *cli, const char *expert, const char *request)
{
    json_t *rows = NULL;
    char *offer = NULL;
    if (en_control_call (cli->node_dir, "inbox", json_pack ("{s:s, s:b}", "expert", expert, "all", 1),
                         cli->timeout_ms, &rows, NULL) == 0) {
        size_t index;
        json_t *row;
        json_array_foreach (rows, index, row)
            if (!offer && streq (en_json_str (row, "request_id") ?: "", request))
                offer = strdup (en_json_str (row, "id"));
    }
    json_decref (rows);
    return offer ? offer : zsys_sprintf ("%s-oN", request);
}

//  One notification as a line: an offer, a dossier, a withdrawal or a
//  request's status.
static void
s_print_event (s_cli_t *cli, json_t *event)
{
    char now [32];
    const char *type = en_json_str (event, "type") ?: "";
    json_t *offer = json_object_get (event, "offer");
    printf ("[%s] ", en_time_str (en_now_ms (), now, sizeof now));
    if (streq (type, "offer"))
        s_print_offer_line (offer);
    else
    if (streq (type, "dossier")) {
        //  The offer names the expert: the hint needs only its id
        char *id = s_offer_of (cli, en_json_str (offer, "expert"), en_json_str (offer, "request_id"));
        printf ("%s  DOSSIER for %s, sealed to their key (expertnet expert dossier %s)\n",
                en_json_str (offer, "request_id"), en_json_str (offer, "expert"), id);
        free (id);
    }
    else
    if (streq (type, "withdraw"))
        printf ("%s  WITHDRAWN for %s (%s)\n", en_json_str (offer, "offer"), en_json_str (offer, "expert"),
                en_json_str (offer, "reason"));
    else
    if (streq (type, "message"))            //  a request's conversation (sealed: read with thread)
        printf ("%s  MESSAGE #%lld from %s (%s; expertnet expert thread)\n", en_json_str (event, "request"),
                (long long) en_json_int (event, "seq", 0), en_json_str (event, "from"), en_json_str (event, "kind"));
    else
    if (streq (type, "receipt"))
        printf ("%s  message #%lld read by %s\n", en_json_str (event, "request"),
                (long long) en_json_int (event, "seq", 0), en_json_str (event, "reader"));
    else
    if (streq (type, "members")) {
        char *names = s_join (json_object_get (event, "members"));
        printf ("%s  participants now: %s\n", en_json_str (event, "request"), names);
        free (names);
    }
    else
    if (json_object_get (event, "status")) {
        json_t *status = json_object_get (event, "status");
        printf ("%s  %s%s%s\n", en_json_str (status, "request"), en_json_str (status, "event"),
                en_json_str (status, "expert") ? " " : "", en_json_str (status, "expert") ?: "");
    }
    else                                    //  a kind this version does not know: say so, not "(null)"
        printf ("%s  %s\n", en_json_str (event, "request") ?: en_json_str (offer, "request_id") ?: "-", type);
}

static int
s_cmd_expert_listen (s_cli_t *cli, json_t *parsed, const char *verb)
{
    char topic [128];
    snprintf (topic, sizeof topic, "expert:%s%s", s_opt (parsed, "expert") ?: "",
              s_opt (parsed, "expert") ? ";" : "");
    zsock_t *sub = s_notify_sub (cli, topic);
    if (!sub) {
        fprintf (stderr, "expertnet: no node notifications at %s/notify.sock (is the node running?)\n",
                 cli->node_dir);
        return EXIT_UNREACHABLE;
    }
    if (json_object_get (parsed, "requests"))
        zsock_set_subscribe (sub, "request:");
    int count = s_opt (parsed, "count") ? atoi (s_opt (parsed, "count")) : 0;
    int64_t until = s_opt (parsed, "timeout") ? en_now_ms () + atoi (s_opt (parsed, "timeout")) * 1000LL : 0;
    if (!cli->json) {
        printf ("listening for %s at %s (Ctrl-C stops)\n",
                s_opt (parsed, "expert") ? s_opt (parsed, "expert") : "all experts", cli->node_dir);
        fflush (stdout);
    }
    zpoller_t *poller = zpoller_new (sub, NULL);
    int seen = 0;
    while (!zsys_interrupted && (!count || seen < count) && (!until || en_now_ms () < until)) {
        if (!zpoller_wait (poller, 200))
            continue;
        char *name = NULL, *text = NULL;
        if (zstr_recvx (sub, &name, &text, NULL) != 2) {
            zstr_free (&name);
            continue;
        }
        json_t *event = json_loads (text, 0, NULL);
        seen++;
        if (cli->json)
            printf ("%s\n", text);
        else
            s_print_event (cli, event);
        fflush (stdout);
        json_decref (event);
        zstr_free (&name);
        zstr_free (&text);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&sub);
    return 0;
}

static int
s_cmd_expert_inbox (s_cli_t *cli, json_t *parsed, const char *verb)
{
    json_t *args = json_object ();
    if (s_opt (parsed, "expert"))
        json_object_set_new (args, "expert", json_string (s_opt (parsed, "expert")));
    if (json_object_get (parsed, "all"))
        json_object_set_new (args, "all", json_true ());
    json_t *rows;
    int rc = s_call (cli, cli->node_dir, "inbox", args, &rows);
    if (rc)
        return rc;
    if (cli->json)
        s_print_json (rows);
    else {
        size_t index;
        json_t *row;
        json_array_foreach (rows, index, row) {
            if (json_object_get (parsed, "all")) {
                char held [48] = "";
                if (en_json_int (row, "beraad_held_at", 0) > 0) {
                    char when [32];
                    snprintf (held, sizeof held, "  beraad held %s",
                              en_nl_time_str (en_json_int (row, "beraad_held_at", 0), when, sizeof when));
                }
                printf ("%-30s %-24s %-10s %s%s%s%s\n", en_json_str (row, "id"), en_json_str (row, "expert"),
                        en_json_str (row, "state"), en_json_str (row, "answer") ?: "",
                        en_json_str (row, "answer_status") ? " " : "", en_json_str (row, "answer_status") ?: "", held);
            }
            else
                s_print_offer_line (row);
        }
        if (json_array_size (rows) == 0)
            printf ("(no offers waiting)\n");
    }
    json_decref (rows);
    return 0;
}

//  Open what the node handed out for an offer (result of its "dossier"
//  verb) with the expert's key: the dossier (if one came) into *text and
//  the team's replies into replies. All sealed to the expert: every one
//  must open, or the read fails as a whole. 0 or -1.
static int
s_dossier_open (json_t *result, const unsigned char *key, char **text, json_t *replies)
{
    const char *box_public = en_json_str (result, "box_public");
    if (en_json_str (result, "sealed")) {
        *text = en_keywrap_box_open (en_json_str (result, "sealed"), box_public, key);
        if (!*text)
            return -1;
    }
    size_t index;
    json_t *reply;
    json_array_foreach (json_object_get (result, "replies"), index, reply) {
        char *plain = en_keywrap_box_open (en_json_str (reply, "sealed"), box_public, key);
        if (!plain)
            return -1;
        json_array_append_new (replies, json_pack ("{s:O, s:s}", "at", json_object_get (reply, "at"),
                                                   "text", plain));
        s_secret_free (&plain);
    }
    return 0;
}

static void
s_print_dossier (s_cli_t *cli, const char *offer, const char *expert, json_t *request, const char *text,
                 json_t *replies)
{
    if (cli->json) {
        json_t *out = json_pack ("{s:s, s:s, s:O, s:s?, s:O}", "offer", offer, "expert", expert,
                                 "request", request, "dossier", text, "replies", replies);
        s_print_json (out);
        json_decref (out);
        return;
    }
    printf ("dossier of %s for %s (this read is recorded in the access log):\n%s\n", offer, expert,
            text ? text : "(no dossier)");
    size_t index;
    json_t *reply;
    json_array_foreach (replies, index, reply) {
        char when [32];
        printf ("reply of the requesting team, %s:\n%s\n",
                en_time_str (en_json_int (reply, "at", 0), when, sizeof when), en_json_str (reply, "text"));
    }
}

//  The dossier of an accepted offer: the node hands out the sealed
//  dossier and the wraps of the expert's key; the expert's password,
//  asked here, unwraps the key in this process and opens the dossier.
//  Neither the key nor the text ever exists at the node in clear. The
//  offer names its expert: --expert only checks that it is that one.
static int
s_cmd_expert_dossier (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (s_arg_count (parsed) != 1)
        return s_usage_error ("%s", "expert dossier needs one offer id (see 'expertnet expert inbox --all')");
    const char *offer = s_arg (parsed, 0);
    json_t *args = json_pack ("{s:s}", "offer", offer);
    if (s_opt (parsed, "expert"))
        json_object_set_new (args, "expert", json_string (s_opt (parsed, "expert")));
    json_t *result;
    int rc = s_call (cli, cli->node_dir, "dossier", args, &result);
    if (rc)
        return rc;
    const char *expert = en_json_str (result, "expert");
    char prompt [128];
    snprintf (prompt, sizeof prompt, "password of expert %s's account", expert);
    char *password = s_read_secret (parsed, "password-file", prompt, false);
    if (!password) {
        json_decref (result);
        return s_usage_error ("%s", "no password (give --password-file FILE or type it)");
    }
    unsigned char *key = (unsigned char *) sodium_malloc (EN_KEYWRAP_KEYBYTES);
    rc = key ? en_keywrap_open_json (json_object_get (json_object_get (result, "wrapped"), "password"),
                                     password, key) : -1;
    s_secret_free (&password);
    if (rc)
        fprintf (stderr, "expertnet: the password does not open the key of expert %s\n", expert);
    char *text = NULL;
    json_t *replies = json_array ();
    bool opened = rc == 0 && s_dossier_open (result, key, &text, replies) == 0;
    if (rc == 0 && !opened)
        fprintf (stderr, "expertnet: the dossier of %s was sealed to another key of %s (made before a "
                 "rekey?) or is damaged; ask the requesting team to send it again\n", offer, expert);
    if (key)
        sodium_free (key);
    if (opened)
        s_print_dossier (cli, offer, expert, json_object_get (result, "request"), text, replies);
    if (text)
        s_secret_free (&text);
    json_decref (replies);
    json_decref (result);
    return opened ? 0 : EXIT_REFUSED;
}

//  ------------------------------------------------------------------
//  A request's conversation (request message/thread, expert message/thread)

//  Who speaks and about what, as the node's message/thread verbs take
//  it: the team of request ID, or (expert) the expert of offer ID, or
//  --expert X about request ID. NULL with *rc on a usage error.
static json_t *
s_convo_args (s_cli_t *cli, json_t *parsed, bool expert, int *rc)
{
    if (s_arg_count (parsed) != 1) {
        *rc = s_usage_error ("%s", expert ? "give one offer id, or a request id with --expert"
                                          : "give one request id");
        return NULL;
    }
    const char *id = s_arg (parsed, 0);
    if (!expert)
        return json_pack ("{s:s}", "request", id);
    //  An offer id, or else a request id (asked quietly: either may be meant)
    json_t *args = json_object ();
    json_t *offer = NULL;
    en_error_t error = { 0 };
    bool is_offer = en_control_call (cli->node_dir, "offer", json_pack ("{s:s, s:s}", "offer", id, "_user",
                                     s_user ()), cli->timeout_ms, &offer, &error) == 0;
    json_decref (offer);
    if (!is_offer && error.code == EN_ERR_NO_ANSWER) {
        json_decref (args);
        fprintf (stderr, "expertnet: no daemon answers at %s (is it running? see --node/--broker)\n", cli->node_dir);
        *rc = EXIT_UNREACHABLE;
        return NULL;
    }
    if (is_offer)
        json_object_set_new (args, "offer", json_string (id));
    else
    if (s_opt (parsed, "expert"))
        json_object_set_new (args, "request", json_string (id));
    else {
        json_decref (args);
        *rc = s_usage_error ("no offer '%s' at this node; for a request id give --expert", id);
        return NULL;
    }
    if (s_opt (parsed, "expert"))
        json_object_set_new (args, "expert", json_string (s_opt (parsed, "expert")));
    return args;
}

static int
s_cmd_convo_message (s_cli_t *cli, json_t *parsed, const char *verb, bool expert)
{
    int rc = 0;
    json_t *args = s_convo_args (cli, parsed, expert, &rc);
    char *text = args ? s_text_opt (parsed, expert ? "expert message" : "request message", &rc) : NULL;
    if (!text) {
        json_decref (args);
        return rc;
    }
    json_object_set_new (args, "text", json_string (text));
    json_object_set_new (args, "kind", json_string (json_object_get (parsed, "advice") ? "advice" : "message"));
    free (text);
    json_t *result;
    rc = s_call (cli, cli->node_dir, "message", args, &result);
    if (rc)
        return rc;
    if (cli->json)
        s_print_json (result);
    else
        printf ("%s about %s sealed to every participant and queued for the broker\n",
                en_json_str (result, "kind"), en_json_str (result, "request"));
    json_decref (result);
    return 0;
}

static int
s_cmd_request_message (s_cli_t *cli, json_t *parsed, const char *verb)
{
    return s_cmd_convo_message (cli, parsed, verb, false);
}

static int
s_cmd_expert_message (s_cli_t *cli, json_t *parsed, const char *verb)
{
    return s_cmd_convo_message (cli, parsed, verb, true);
}

//  Open the copies of a thread that came sealed (an expert's key wrapped
//  with a password): asks the password. 0, or -1 (said why).
static int
s_thread_open (json_t *parsed, json_t *thread)
{
    const char *reader = en_json_str (thread, "reader");
    char prompt [128];
    snprintf (prompt, sizeof prompt, "password of expert %s's account", reader);
    char *password = s_read_secret (parsed, "password-file", prompt, false);
    if (!password) {
        fprintf (stderr, "expertnet: no password (give --password-file FILE or type it)\n");
        return -1;
    }
    unsigned char *key = (unsigned char *) sodium_malloc (EN_KEYWRAP_KEYBYTES);
    int rc = key ? en_keywrap_open_json (json_object_get (json_object_get (thread, "wrapped"), "password"),
                                         password, key) : -1;
    s_secret_free (&password);
    if (rc)
        fprintf (stderr, "expertnet: the password does not open the key of expert %s\n", reader);
    en_keywrap_thread_open (json_object_get (thread, "messages"), en_json_str (thread, "box_public"),
                            rc == 0 ? key : NULL);
    if (key)
        sodium_free (key);
    json_object_del (thread, "wrapped");
    return rc;
}

static void
s_print_thread (json_t *thread)
{
    json_t *messages = json_object_get (thread, "messages");
    char *members = s_join (json_object_get (thread, "members"));
    printf ("conversation about %s, read as %s (participants: %s)\n", en_json_str (thread, "request"),
            en_json_str (thread, "reader"), streq (members, "-") ? "none any more" : members);
    free (members);
    size_t index;
    json_t *row;
    json_array_foreach (messages, index, row) {
        char when [32];
        char *read_by = s_join (json_object_get (row, "read_by"));
        printf ("#%lld %s %s%s:\n%s\n  read by: %s\n", (long long) en_json_int (row, "seq", 0),
                en_time_str (en_json_int (row, "at", 0), when, sizeof when), en_json_str (row, "from"),
                streq (en_json_str (row, "kind") ?: "", "advice") ? " (advice)" : "",
                en_json_str (row, "text") ?: "(cannot be opened with this key)",
                streq (read_by, "-") ? "nobody yet" : read_by);
        free (read_by);
    }
    if (json_array_size (messages) == 0)
        printf ("(no messages yet)\n");
    json_t *unsent;
    json_array_foreach (json_object_get (thread, "unsent"), index, unsent) {
        char when [32];
        if (streq (en_json_str (unsent, "state") ?: "", "refused"))
            printf ("not sent: your %s of %s was refused by the broker: %s\n", en_json_str (unsent, "kind"),
                    en_time_str (en_json_int (unsent, "queued", 0), when, sizeof when), en_json_str (unsent, "error"));
        else
            printf ("waiting for the broker: your %s of %s\n", en_json_str (unsent, "kind"),
                    en_time_str (en_json_int (unsent, "queued", 0), when, sizeof when));
    }
}

static int
s_cmd_convo_thread (s_cli_t *cli, json_t *parsed, const char *verb, bool expert)
{
    int rc = 0;
    json_t *args = s_convo_args (cli, parsed, expert, &rc);
    if (!args)
        return rc;
    //  Marked read (receipts) only once it was opened: asked again then
    json_t *again = json_object_get (parsed, "no-read") ? NULL : json_deep_copy (args);
    json_object_set_new (args, "read", json_false ());
    json_t *thread = NULL;
    rc = s_call (cli, cli->node_dir, "thread", args, &thread);
    if (rc == 0 && json_object_get (thread, "wrapped") && s_thread_open (parsed, thread))
        rc = EXIT_REFUSED;
    json_t *marked = NULL;
    if (rc == 0 && again)
        rc = s_call (cli, cli->node_dir, "thread", json_incref (again), &marked);
    json_decref (marked);
    json_decref (again);
    if (rc == 0 && cli->json)
        s_print_json (thread);
    else
    if (rc == 0)
        s_print_thread (thread);
    json_decref (thread);
    return rc;
}

static int
s_cmd_request_thread (s_cli_t *cli, json_t *parsed, const char *verb)
{
    return s_cmd_convo_thread (cli, parsed, verb, false);
}

static int
s_cmd_expert_thread (s_cli_t *cli, json_t *parsed, const char *verb)
{
    return s_cmd_convo_thread (cli, parsed, verb, true);
}

//  accept / decline / advise: queue at the node, then wait for the
//  broker's verdict (an offer can have expired in the meantime).
static int
s_cmd_expert_answer (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (s_arg_count (parsed) != 1)
        return s_usage_error ("%s", "needs one offer id (see 'expertnet expert inbox')");
    const char *offer = s_arg (parsed, 0);
    json_t *args = json_pack ("{s:s}", "offer", offer);
    if (streq (verb, "decline")) {
        if (!s_opt (parsed, "reason")) {
            json_decref (args);
            return s_usage_error ("%s", "decline needs --reason TEXT");
        }
        json_object_set_new (args, "reason", json_string (s_opt (parsed, "reason")));
    }
    if (streq (verb, "advise")) {
        const char *file = s_opt (parsed, "file");
        char *text = file ? en_file_read (file, EN_MAX_ADVICE) : NULL;
        if (file && !text) {
            json_decref (args);
            fprintf (stderr, "expertnet: cannot read %s: %s\n", file,
                     errno == EFBIG ? "larger than the advice limit of 16000 bytes" : strerror (errno));
            return EXIT_USAGE;
        }
        if (!text && s_opt (parsed, "text"))
            text = strdup (s_opt (parsed, "text"));
        if (!text) {
            json_decref (args);
            return s_usage_error ("%s", "advise needs --file FILE or --text TEXT");
        }
        json_object_set_new (args, "text", json_string (text));
        free (text);
    }
    //  Listening starts before the answer is queued, as for a submit
    int wait_s = s_wait_seconds (parsed, 10);
    zsock_t *sub = wait_s > 0 ? s_notify_sub (cli, "offer:") : NULL;
    json_t *result;
    int rc = s_call (cli, cli->node_dir, verb, args, &result);
    if (rc) {
        zsock_destroy (&sub);
        return rc;
    }
    json_decref (result);
    //  Wait for the broker's verdict, then read the offer once
    if (sub)
        s_wait_for_news (sub, "offer", offer, en_now_ms () + wait_s * 1000LL);
    zsock_destroy (&sub);
    json_t *shown = NULL;
    const char *status = "queued";
    if (en_control_call (cli->node_dir, "offer", json_pack ("{s:s}", "offer", offer), cli->timeout_ms, &shown, NULL) == 0)
        status = en_json_str (shown, "answer_status") ?: "queued";
    if (cli->json)
        s_print_json (shown);
    if (streq (status, "refused")) {
        fprintf (stderr, "expertnet: broker refused: %s\n", en_json_str (shown, "answer_error") ?: "");
        rc = EXIT_REFUSED;
    }
    else
    if (!cli->json) {
        const char *done = streq (verb, "accept") ? "accepted" : streq (verb, "decline") ? "declined" : "advice sent";
        if (streq (status, "confirmed"))
            printf ("%s: %s (confirmed by the broker)\n", offer, done);
        else
            printf ("%s: %s, queued at the node (the broker is not reachable now; it is sent when it is)\n",
                    offer, done);
    }
    json_decref (shown);
    return rc;
}

//  ------------------------------------------------------------------
//  node / broker status

static int
s_cmd_node_rotate (s_cli_t *cli, json_t *parsed, const char *verb)
{
    json_t *args = json_pack ("{s:b, s:b}", "secret", json_object_get (parsed, "secret") != NULL,
                              "data_key", json_object_get (parsed, "data-key") != NULL);
    json_t *result;
    int rc = s_call (cli, cli->node_dir, "rotate", args, &result);
    if (rc)
        return rc;
    if (cli->json)
        s_print_json (result);
    else
        printf ("region secret now version %lld, data key version %lld; %lld stored values re-sealed\n"
                "(back up the new key files; see docs/pseudonyms.md before retiring old versions)\n",
                (long long) en_json_int (result, "secret_version", 0), (long long) en_json_int (result, "data_key_version", 0),
                (long long) en_json_int (result, "resealed", 0));
    json_decref (result);
    return 0;
}

static void s_print_counts (const char *label, json_t *object);

//  The notification queue: settings, counts per state, newest rows.
static int
s_cmd_node_notifications (s_cli_t *cli, json_t *parsed, const char *verb)
{
    json_t *result;
    static const char *states [] = { "wacht", "bezig", "verzonden", "mislukt-opnieuw", NULL };
    json_t *args = s_state_args (parsed, states, NULL);
    if (!args)
        return EXIT_USAGE;
    int rc = s_call (cli, cli->node_dir, "notifications", args, &result);
    if (rc)
        return rc;
    if (cli->json) {
        s_print_json (result);
        json_decref (result);
        return 0;
    }
    json_t *settings = json_object_get (result, "settings");
    char *staff = s_join (json_object_get (settings, "staff_email"));
    printf ("e-mail  %s (from %s, starttls %s%s)\nSMS     %s\nstaff   %s\nlinks   %s/...\n",
            en_json_str (settings, "smtp_url") ?: "not configured (notify/smtp_url)",
            en_json_str (settings, "from") ?: "-", en_json_str (settings, "starttls"),
            json_is_true (json_object_get (settings, "auth")) ? ", auth" : "",
            en_json_str (settings, "sms_url") ?: "not configured (notify/sms_url)",
            *staff ? staff : "none (notify/staff_email)", en_json_str (settings, "public_url"));
    free (staff);
    s_print_counts ("queue", json_object_get (result, "counts"));
    printf ("%-6s %-11s %-6s %-30s %-16s %-8s %-19s %s\n", "ID", "KIND", "VIA", "TO", "STATE", "ATTEMPTS",
            "SENT / NEXT TRY", "LAST ERROR");
    size_t index;
    json_t *row;
    json_array_foreach (json_object_get (result, "notifications"), index, row) {
        char when [32];
        const char *state = en_json_str (row, "state");
        int64_t at = streq (state, "verzonden") ? en_json_int (row, "sent", 0) : en_json_int (row, "next_try", 0);
        printf ("%-6lld %-11s %-6s %-30.30s %-16s %-8lld %-19s %s\n", (long long) en_json_int (row, "id", 0),
                en_json_str (row, "kind"), en_json_str (row, "channel"), en_json_str (row, "recipient"), state,
                (long long) en_json_int (row, "attempts", 0), en_time_str (at, when, sizeof when),
                en_json_str (row, "last_error") ?: "");
    }
    json_decref (result);
    return 0;
}

//  ------------------------------------------------------------------
//  node accounts (per person: medewerker, expert, beheerder)

static void
s_print_recovery (const char *code)
{
    printf ("Recovery code (shown once): %s\n"
            "  Give it to the expert on paper, apart from the password. With it the expert sets a new\n"
            "  password without losing the dossiers (expertnet node user-recover). Nobody else can.\n", code);
}

static void
s_print_users (json_t *result)
{
    printf ("%-20s %-10s %-16s %-5s %-19s %s\n", "NAME", "ROLE", "EXPERT", "TOTP", "LAST LOGIN", "E-MAIL");
    size_t index;
    json_t *row;
    char when [32];
    json_array_foreach (result, index, row)
        printf ("%-20s %-10s %-16s %-5s %-19s %s\n", en_json_str (row, "name"), en_json_str (row, "role"),
                en_json_str (row, "expert") ?: "-", json_is_true (json_object_get (row, "totp")) ? "ja" : "nee",
                en_time_str (en_json_int (row, "last_login", 0), when, sizeof when),
                en_json_str (row, "email") ?: "-");
}

static int
s_cmd_node_users (s_cli_t *cli, json_t *parsed, const char *verb)
{
    return s_query (cli, cli->node_dir, "users", NULL, s_print_users);
}

//  user-add: the role and the contact fields. An exit code.
static int
s_user_add_args (json_t *parsed, json_t *args)
{
    if (!s_opt (parsed, "role"))
        return s_usage_error ("%s", "user-add needs --role medewerker|expert|beheerder");
    json_object_set_new (args, "role", json_string (s_opt (parsed, "role")));
    const char *fields [] = { "expert", "email", "phone", NULL };
    for (int f = 0; fields [f]; f++)
        if (s_opt (parsed, fields [f]))
            json_object_set_new (args, fields [f], json_string (s_opt (parsed, fields [f])));
    return 0;
}

//  user-passwd and user-recover: the current password (an expert's
//  re-wraps the key) or the recovery code. An exit code.
static int
s_user_passwd_args (json_t *parsed, const char *verb, json_t *args)
{
    bool passwd = streq (verb, "user-passwd");
    char *old = NULL;
    if (passwd && (s_opt (parsed, "old-password-file") || isatty (STDIN_FILENO))) {
        old = s_read_secret (parsed, "old-password-file", "current password (experts; empty for a reset)", false);
        if (old && !*old)
            s_secret_free (&old);
    }
    if (!passwd) {
        char *code = s_opt (parsed, "recovery-code") ? strdup (s_opt (parsed, "recovery-code"))
                   : s_read_secret (parsed, "recovery-file", "recovery code", false);
        if (!code) {
            s_secret_free (&old);
            return s_usage_error ("%s", "no recovery code (give --recovery-file FILE or type it)");
        }
        json_object_set_new (args, "recovery_code", json_string (code));
        s_secret_free (&code);
    }
    if (old)
        json_object_set_new (args, "old_password", json_string (old));
    s_secret_free (&old);
    if (json_is_true (json_object_get (parsed, "new-recovery-code")))
        json_object_set_new (args, "new_recovery_code", json_true ());
    return 0;
}

//  user-rekey at a terminal: said what it costs, and asked. An exit code.
static int
s_user_rekey_confirm (json_t *parsed, const char *name)
{
    if (!isatty (STDIN_FILENO) || s_opt (parsed, "password-file") || json_is_true (json_object_get (parsed, "yes")))
        return 0;
    fprintf (stderr, "A new key pair for %s's expert: dossiers sealed to the old key can never be opened "
             "again;\nthe requesting teams must send them again. Type 'yes' to go on: ", name);
    char answer [16] = "";
    if (!fgets (answer, sizeof answer, stdin) || strncmp (answer, "yes", 3) != 0) {
        fprintf (stderr, "expertnet: nothing changed\n");
        return EXIT_REFUSED;
    }
    return 0;
}

//  Every account verb but user-remove sets a (new) password. An exit code.
static int
s_user_password (json_t *parsed, const char *verb, json_t *args)
{
    char *password = s_read_secret (parsed, "password-file",
                                    streq (verb, "user-add") ? "password for the account (at least 10 characters)"
                                                             : "new password (at least 10 characters)", true);
    if (!password)
        return s_usage_error ("%s", "no password (give --password-file FILE or type it twice)");
    json_object_set_new (args, "password", json_string (password));
    s_secret_free (&password);
    return 0;
}

static void
s_print_user_result (const char *verb, const char *name, json_t *result)
{
    if (streq (verb, "user-add")) {
        printf ("account %s added (%s%s%s)\n", en_json_str (result, "name"), en_json_str (result, "role"),
                en_json_str (result, "expert") ? ", expert " : "", en_json_str (result, "expert") ?: "");
        printf ("TOTP secret for an authenticator app (shown once): %s\n  %s\n", en_json_str (result, "totp_secret"),
                en_json_str (result, "totp_uri"));
        if (en_json_str (result, "recovery_code"))
            s_print_recovery (en_json_str (result, "recovery_code"));
        if (json_is_true (json_object_get (result, "rekeyed")))
            printf ("The expert's earlier key could not be taken over (its account was removed): a new key pair\n"
                    "was made and published; dossiers sealed to the old key cannot be opened.\n");
        else
        if (en_json_str (result, "expert"))
            printf ("The expert's dossier key is now wrapped with this password and the recovery code;\n"
                    "the node itself can no longer open it.\n");
    }
    else
    if (streq (verb, "user-recover") || streq (verb, "user-rekey") || en_json_str (result, "recovery_code")) {
        bool rekey = streq (verb, "user-rekey");
        printf ("account %s: new password set%s\n", en_json_str (result, "name"),
                rekey ? "; the expert has a NEW key pair (published to the broker)" : "");
        s_print_recovery (en_json_str (result, "recovery_code"));
        printf ("The previous recovery code no longer opens anything.\n");
    }
    else
        printf ("%s %s: done\n", verb, name);
}

//  user-add, user-remove, user-passwd, user-recover, user-rekey NAME
static int
s_cmd_node_user (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (s_arg_count (parsed) != 1)
        return s_usage_error ("%s", "needs the account's name");
    const char *name = s_arg (parsed, 0);
    json_t *args = json_pack ("{s:s}", "name", name);
    int rc = 0;
    if (streq (verb, "user-add"))
        rc = s_user_add_args (parsed, args);
    if (streq (verb, "user-passwd") || streq (verb, "user-recover"))
        rc = s_user_passwd_args (parsed, verb, args);
    if (rc == 0 && streq (verb, "user-rekey"))
        rc = s_user_rekey_confirm (parsed, name);
    if (rc == 0 && !streq (verb, "user-remove"))
        rc = s_user_password (parsed, verb, args);
    if (rc) {
        json_decref (args);
        return rc;
    }
    json_t *result;
    rc = s_call (cli, cli->node_dir, verb, args, &result);
    if (rc)
        return rc;
    if (cli->json)
        s_print_json (result);
    else
        s_print_user_result (verb, name, result);
    json_decref (result);
    return 0;
}

//  "+3600.0s (round-trip, rtt 2ms), ALERT: check NTP" from an en_clock status
static const char *
s_clock_text (json_t *clock, char *buf, size_t size)
{
    if (!json_is_object (clock))
        snprintf (buf, size, "not measured");
    else {
        char rtt [32] = "";
        if (json_is_integer (json_object_get (clock, "rtt_ms")))
            snprintf (rtt, sizeof rtt, ", rtt %lldms", (long long) en_json_int (clock, "rtt_ms", 0));
        snprintf (buf, size, "%+.1fs (%s%s)%s", en_json_int (clock, "offset_ms", 0) / 1000.0,
                  en_json_str (clock, "how") ?: "?", rtt,
                  json_is_true (json_object_get (clock, "alert")) ? ", ALERT: check NTP" : "");
    }
    return buf;
}

static void
s_print_node_status (json_t *status)
{
    char when [32], clock [96];
    printf ("node %s (region %s), expertnet %s\n  broker      %s: %s (last contact %s)\n"
            "  clock       broker's minus ours %s\n"
            "  requests    %lld open\n  experts     %lld\n  offers      %lld waiting for an answer\n"
            "  outbox      %lld message(s) not yet acknowledged\n"
            "  PII guard   %lld checks, %lld refused (the refused text is never kept)\n",
            en_json_str (status, "node"), en_json_str (status, "region"), en_json_str (status, "version"),
            en_json_str (status, "broker"),
            json_is_true (json_object_get (status, "connected")) ? "connected" : "NOT CONNECTED",
            en_time_str (en_json_int (status, "last_contact", 0), when, sizeof when),
            s_clock_text (json_object_get (status, "clock"), clock, sizeof clock),
            (long long) en_json_int (status, "requests_open", 0), (long long) en_json_int (status, "experts", 0),
            (long long) en_json_int (status, "offers_waiting", 0), (long long) en_json_int (status, "outbox", 0),
            (long long) en_json_int (json_object_get (status, "pii_guard"), "checks", 0),
            (long long) en_json_int (json_object_get (status, "pii_guard"), "refused", 0));
    //  The broker's store: said when it changed (it lost or replaced it)
    json_t *store = json_object_get (status, "broker_store");
    if (en_json_str (store, "previous")) {
        int64_t resent = en_json_int (store, "resubmitted", 0);
        printf ("  BROKER STORE CHANGED %s: was %s, now %s; %s\n",
                en_time_str (en_json_int (store, "changed", 0), when, sizeof when),
                en_json_str (store, "previous"), en_json_str (store, "store_id"),
                resent < 0 ? "open requests still to be re-sent" : "open requests re-sent to it");
    }
}

static int
s_cmd_node_status (s_cli_t *cli, json_t *parsed, const char *verb)
{
    return s_query (cli, cli->node_dir, "status", NULL, s_print_node_status);
}

static void
s_print_counts (const char *label, json_t *object)
{
    printf ("  %-14s", label);
    const char *key;
    json_t *value;
    int n = 0;
    json_object_foreach (object, key, value) {
        printf ("%s%s %lld", n++ ? ", " : "", key, (long long) json_integer_value (value));
    }
    printf ("%s\n", n ? "" : "none");
}

//  Federation links of a broker's status: one line each, and what a peer
//  claimed before the bounds and whether it takes what it is handed.
static void
s_print_links (json_t *links)
{
    char when [32], clock [96];
    size_t index;
    json_t *row;
    if (json_array_size (links) > 0)
        printf ("  federation links:\n");
    json_array_foreach (links, index, row) {
        json_t *advert = json_object_get (row, "advert");
        char rtt [32] = "-";
        if (json_is_integer (json_object_get (row, "rtt_ms")))
            snprintf (rtt, sizeof rtt, "%lldms", (long long) en_json_int (row, "rtt_ms", 0));
        printf ("    %-16s %-12s queue %lld, last contact %s, rtt %s, clock %s, advertises %lld free place(s)%s%s\n",
                en_json_str (row, "peer"), en_json_str (row, "state"), (long long) en_json_int (row, "queue", 0),
                json_is_integer (json_object_get (row, "last_contact"))
                    ? en_time_str (en_json_int (row, "last_contact", 0), when, sizeof when) : "never",
                rtt, s_clock_text (json_object_get (row, "clock"), clock, sizeof clock),
                (long long) en_json_int (advert, "free", 0),
                en_json_str (row, "refusal") ? "; refused: " : "", en_json_str (row, "refusal") ?: "");
        //  What it claimed before the bounds, and whether it takes
        //  what it is handed
        if (advert || en_json_int (row, "forwards", 0) > 0)
            printf ("    %-16s claimed %lld free place(s) (%lld passed on) in %lld entries, cut %lld time(s); "
                    "%lld request(s) handed over, %lld given back or refused\n", "",
                    (long long) en_json_int (advert, "claimed_free", 0),
                    (long long) en_json_int (advert, "claimed_free_learned", 0),
                    (long long) en_json_int (advert, "claimed_entries", 0),
                    (long long) en_json_int (advert, "clamped", 0), (long long) en_json_int (row, "forwards", 0),
                    (long long) en_json_int (row, "forwards_returned", 0));
    }
}

static void
s_print_broker_status (json_t *result)
{
    char when [32], clock [96];
    size_t index;
    json_t *row;
    printf ("broker %s on %s, expertnet %s, up since %s\n", en_json_str (result, "broker"),
            en_json_str (result, "endpoint"), en_json_str (result, "version"),
            en_time_str (en_json_int (result, "started", 0), when, sizeof when));
    printf ("  store %s\n", en_json_str (result, "store") ?: "-");
    printf ("  nodes:\n");
    json_array_foreach (json_object_get (result, "nodes"), index, row)
        printf ("    %-16s %-12s %-13s last seen %s, outbox %lld, clock %s\n", en_json_str (row, "name"),
                en_json_str (row, "region") ?: "-",
                json_is_true (json_object_get (row, "connected")) ? "connected"
                : json_is_false (json_object_get (row, "enrolled")) ? "REVOKED" : "DISCONNECTED",
                en_time_str (en_json_int (row, "last_seen", 0), when, sizeof when),
                (long long) en_json_int (row, "outbox", 0),
                s_clock_text (json_object_get (row, "clock"), clock, sizeof clock));
    if (json_array_size (json_object_get (result, "nodes")) == 0)
        printf ("    (none since start)\n");
    printf ("  enrolled:\n");
    json_array_foreach (json_object_get (result, "enrolled"), index, row)
        printf ("    %-16s %s\n", en_json_str (row, "name"), json_is_true (json_object_get (row, "peer_broker"))
                ? "peer broker" : en_json_str (row, "region") ?: "-");
    s_print_links (json_object_get (result, "links"));
    s_print_counts ("experts", json_object_get (result, "experts_by_role"));
    s_print_counts ("open requests", json_object_get (result, "open_by_urgency"));
    s_print_counts ("all requests", json_object_get (result, "requests_by_state"));
    printf ("  offers open    %lld\n  hiaten         %lld\n  outbox         %lld\n"
            "  messages       %lld received, %lld refused; %lld connections refused\n",
            (long long) en_json_int (result, "offers_open", 0), (long long) en_json_int (result, "hiaten", 0),
            (long long) en_json_int (result, "outbox", 0), (long long) en_json_int (result, "messages_received", 0),
            (long long) en_json_int (result, "messages_refused", 0),
            (long long) en_json_int (result, "connections_refused", 0));
}

static void
s_print_broker_requests (json_t *result)
{
    char left [32];
    size_t index;
    json_t *row;
    printf ("%-22s %-9s %-19s %-10s %-12s %-24s %s\n", "ID", "URGENCY", "TYPE", "STATE", "ORIGIN", "EXPERT", "AGE");
    json_array_foreach (result, index, row)
        printf ("%-22s %-9s %-19s %-10s %-12s %-24s %s\n", en_json_str (row, "id"), en_json_str (row, "urgency"),
                en_json_str (row, "question_type"), en_json_str (row, "state"), en_json_str (row, "origin"),
                en_json_str (row, "expert") ?: "-", s_age (en_json_int (row, "created", 0), left, sizeof left));
}

//  Where a request came from: its node, and the brokers it passed when
//  another province handed it over (none: submitted at this broker).
static void
s_print_path (json_t *result)
{
    json_t *visited = json_object_get (result, "visited");
    if (json_array_size (visited) == 0) {
        printf ("  from node %s, submitted at this broker\n", en_json_str (result, "origin_node"));
        return;
    }
    printf ("  from node %s, through", en_json_str (result, "origin_node"));
    size_t index;
    json_t *broker;
    json_array_foreach (visited, index, broker)
        printf (" %s", json_string_value (broker));
    printf ("\n");
}

static void
s_print_broker_request (json_t *result)
{
    char when [32];
    size_t index;
    json_t *row;
    printf ("request %s from %s: %s%s%s\n", en_json_str (result, "id"), en_json_str (result, "origin"),
            en_json_str (result, "state"), en_json_str (result, "expert") ? ", expert " : "",
            en_json_str (result, "expert") ?: "");
    if (en_json_str (result, "peer"))
        printf ("  with peer broker %s (another province handles it; its operators act on it there)\n",
                en_json_str (result, "peer"));
    if (en_json_str (result, "origin_node"))
        s_print_path (result);
    s_print_summary (json_object_get (result, "summary"));
    s_print_places (json_object_get (result, "places"));
    printf ("timeline:\n");
    json_array_foreach (json_object_get (result, "events"), index, row)
        printf ("  %s  %-10s %s%s%s\n", en_time_str (en_json_int (row, "at", 0), when, sizeof when),
                en_json_str (row, "type"), en_json_str (row, "expert") ?: "",
                en_json_str (row, "detail") ? "  " : "", en_json_str (row, "detail") ?: "");
}

static void
s_print_hiaten (json_t *result)
{
    char when [32];
    size_t index;
    json_t *row;
    printf ("%-22s %-19s %-9s %-19s %-12s %s\n", "REQUEST", "AT", "URGENCY", "TYPE", "REGION", "EXPERTISE");
    json_array_foreach (result, index, row) {
        char *tags = s_join (json_object_get (row, "expertise"));
        printf ("%-22s %-19s %-9s %-19s %-12s %s\n", en_json_str (row, "request_id"),
                en_time_str (en_json_int (row, "at", 0), when, sizeof when), en_json_str (row, "urgency"),
                en_json_str (row, "question_type"), en_json_str (row, "region"), tags);
        free (tags);
    }
    if (json_array_size (result) == 0)
        printf ("(no hiaten)\n");
}

static void
s_print_broker_experts (json_t *result)
{
    size_t index;
    json_t *row;
    printf ("%-24s %-14s %-12s %-16s %-9s %s\n", "ID", "NODE", "REGION", "ROLE", "LOAD", "EXPERTISE");
    json_array_foreach (result, index, row) {
        char *tags = s_join (json_object_get (row, "expertise"));
        char load [32];
        snprintf (load, sizeof load, "%lld/%lld", (long long) en_json_int (row, "load", 0),
                  (long long) en_json_int (row, "capacity", 0));
        printf ("%-24s %-14s %-12s %-16s %-9s %s\n", en_json_str (row, "id"), en_json_str (row, "node"),
                en_json_str (row, "region"), en_json_str (row, "role"), load, tags);
        free (tags);
    }
}

static void
s_print_broker_offers (json_t *result)
{
    char left [32];
    size_t index;
    json_t *row;
    printf ("%-30s %-24s %-10s %-9s %s\n", "OFFER", "EXPERT", "KIND", "URGENCY", "TIME LEFT");
    json_array_foreach (result, index, row)
        printf ("%-30s %-24s %-10s %-9s %s\n", en_json_str (row, "id"), en_json_str (row, "expert"),
                en_json_str (row, "kind"), en_json_str (row, "urgency"),
                s_left (en_json_int (row, "deadline", 0), left, sizeof left));
}

static void
s_print_operators (json_t *result)
{
    char created [32], updated [32];
    size_t index;
    json_t *row;
    printf ("%-20s %-19s %-19s %s\n", "NAME", "CREATED", "PASSWORD CHANGED", "TOKENS");
    json_array_foreach (result, index, row)
        printf ("%-20s %-19s %-19s %lld\n", en_json_str (row, "name"),
                en_time_str (en_json_int (row, "created", 0), created, sizeof created),
                en_time_str (en_json_int (row, "updated", 0), updated, sizeof updated),
                (long long) en_json_int (row, "tokens", 0));
    if (json_array_size (result) == 0)
        printf ("(no operators; expertnet broker operator-add NAME)\n");
}

static void
s_print_tokens (json_t *result)
{
    char when [32];
    size_t index;
    json_t *row;
    printf ("%-20s %-20s %s\n", "ID", "OPERATOR", "CREATED");
    json_array_foreach (result, index, row)
        printf ("%-20s %-20s %s\n", en_json_str (row, "id"), en_json_str (row, "operator"),
                en_time_str (en_json_int (row, "created", 0), when, sizeof when));
    if (json_array_size (result) == 0)
        printf ("(no API tokens; expertnet broker token-add OPERATOR)\n");
}

//  The broker's listings: verb is the control verb, each with its printer
//  (broker requests takes --state, broker show an id).
static int
s_cmd_broker_list (s_cli_t *cli, json_t *parsed, const char *verb)
{
    static const struct {
        const char *verb;
        s_print_fn *print;
    } printers [] = {
        { "status", s_print_broker_status }, { "hiaten", s_print_hiaten },
        { "experts", s_print_broker_experts }, { "offers", s_print_broker_offers },
        { "operators", s_print_operators }, { "tokens", s_print_tokens }, { NULL, NULL } };
    int i = 0;
    while (printers [i].verb && !streq (printers [i].verb, verb))
        i++;
    assert (printers [i].verb);
    return s_query (cli, cli->broker_dir, verb, NULL, printers [i].print);
}

static int
s_cmd_broker_requests (s_cli_t *cli, json_t *parsed, const char *verb)
{
    json_t *args = s_state_args (parsed, s_broker_states, NULL);
    return args ? s_query (cli, cli->broker_dir, "requests", args, s_print_broker_requests) : EXIT_USAGE;
}

static int
s_cmd_broker_show (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (s_arg_count (parsed) != 1)
        return s_usage_error ("%s", "broker show needs one request id");
    return s_query (cli, cli->broker_dir, "request", json_pack ("{s:s}", "id", s_arg (parsed, 0)),
                    s_print_broker_request);
}

//  ------------------------------------------------------------------
//  case register and access log

static const s_opt_t s_case_fields [] = {
    { "client-id", true, "the client's identifier in the region (e.g. BSN); only its pseudonym is kept" },
    { "name", true, "name (stays at this node, encrypted)" },
    { "bsn", true, "BSN (stays at this node, encrypted)" },
    { "birth-date", true, "date of birth (stays at this node, encrypted)" },
    { "address", true, "address (stays at this node, encrypted)" },
    { "postcode", true, "postcode (stays at this node, encrypted)" },
    { "contact", true, "phone or e-mail (stays at this node, encrypted)" },
    { "school", true, "school (stays at this node, encrypted)" },
    { "relatives", true, "names of parents and relatives, comma separated (stay here, encrypted; refused in any text)" },
    { "age-band", true, "summary: 0-3 | 4-11 | 12-17 | 18-23 (published, anonymized)" },
    { "leefgebieden", true, "summary: life domains, comma separated" },
    { "problematiek", true, "summary: problem tags, comma separated" },
    { "kader", true, "summary: vrijwillig | gedwongen" },
    { "situatie", true, "summary: thuis | pleegzorg | ... | crisis" },
    { "stuck-on", true, "summary: inhoud,samenwerking,financiering,wachttijd,aanbod-ontbreekt" },
    { NULL, false, NULL }
};

static const s_opt_t s_phase_fields [] = {
    { "phase", true, "aanmelding | triage | plan | monitoren | afgesloten" },
    { "passende-hulp", true, "at afgesloten: ja | nee (was fitting help realised?)" },
    { "zero", true, "at afgesloten: gedwongen_afzonderingen=N,suicides=N,gesloten_plaatsingen=N,doorplaatsingen=N" },
    { NULL, false, NULL }
};

//  The anonymized summary flags of case add, as a JSON object (or NULL).
static json_t *
s_case_summary (json_t *parsed)
{
    json_t *summary = json_object ();
    static const char *scalars [][2] = {
        { "age-band", "age_band" }, { "kader", "kader" }, { "situatie", "situatie" }, { NULL, NULL } };
    static const char *lists [][2] = {
        { "leefgebieden", "leefgebieden" }, { "problematiek", "problematiek" }, { "stuck-on", "stuck_on" },
        { NULL, NULL } };
    for (int i = 0; scalars [i][0]; i++)
        if (s_opt (parsed, scalars [i][0]))
            json_object_set_new (summary, scalars [i][1], json_string (s_opt (parsed, scalars [i][0])));
    for (int i = 0; lists [i][0]; i++)
        if (s_opt (parsed, lists [i][0]))
            json_object_set_new (summary, lists [i][1], s_split (s_opt (parsed, lists [i][0])));
    return summary;
}

static void
s_print_case_added (json_t *result)
{
    printf ("case %s %s (identifying data stays at this node, encrypted; use the pseudonym in requests)\n",
            en_json_str (result, "case"), en_json_str (result, "state"));
}

static int
s_cmd_case_add (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (!s_opt (parsed, "client-id"))
        return s_usage_error ("%s", "case add needs --client-id");
    json_t *identity = json_object ();
    static const char *map [][2] = {
        { "name", "name" }, { "bsn", "bsn" }, { "birth-date", "birth_date" }, { "address", "address" },
        { "postcode", "postcode" }, { "contact", "contact" }, { "school", "school" }, { NULL, NULL } };
    for (int i = 0; map [i][0]; i++)
        if (s_opt (parsed, map [i][0]))
            json_object_set_new (identity, map [i][1], json_string (s_opt (parsed, map [i][0])));
    if (s_opt (parsed, "relatives"))
        json_object_set_new (identity, "relatives", s_split (s_opt (parsed, "relatives")));
    json_t *args = json_pack ("{s:s, s:o, s:o}", "client_id", s_opt (parsed, "client-id"), "identity", identity,
                              "summary", s_case_summary (parsed));
    return s_query (cli, cli->node_dir, "case-add", args, s_print_case_added);
}

static void
s_print_case (json_t *result)
{
    printf ("case %s (this read is recorded in the access log)\n", en_json_str (result, "case"));
    const char *key;
    json_t *value;
    json_object_foreach (result, key, value) {
        if (streq (key, "case"))
            continue;
        printf ("  %-12s ", key);
        if (json_is_array (value)) {
            size_t index;
            json_t *item;
            json_array_foreach (value, index, item)
                printf ("%s%s", index ? ", " : "", json_string_value (item) ?: "");
            printf ("\n");
        }
        else
            printf ("%s\n", json_string_value (value) ?: "");
    }
}

static int
s_cmd_case_show (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (s_arg_count (parsed) != 1)
        return s_usage_error ("%s", "case show needs one pseudonym");
    return s_query (cli, cli->node_dir, "case-show", json_pack ("{s:s}", "case", s_arg (parsed, 0)), s_print_case);
}

//  The outcome of a case closed (--passende-hulp, --zero goal=N,...), into
//  args. An exit code.
static int
s_case_outcome (json_t *parsed, json_t *args)
{
    const char *fit = s_opt (parsed, "passende-hulp");
    if (!fit || !(streq (fit, "ja") || streq (fit, "nee")))
        return s_usage_error ("%s", "--passende-hulp must be ja or nee (and comes with an outcome)");
    json_t *outcome = json_pack ("{s:b}", "passende_hulp", streq (fit, "ja"));
    json_t *zero = json_object ();
    json_t *pairs = s_split (s_opt (parsed, "zero") ?: "");
    size_t index;
    json_t *pair;
    int rc = 0;
    json_array_foreach (pairs, index, pair) {
        const char *text = json_string_value (pair);
        const char *eq = strchr (text, '=');
        if (!eq) {
            rc = s_usage_error ("--zero '%s' is not goal=count", text);
            break;
        }
        char goal [64];
        snprintf (goal, sizeof goal, "%.*s", (int) (eq - text), text);
        json_object_set_new (zero, goal, json_integer (atoi (eq + 1)));
    }
    json_decref (pairs);
    if (s_opt (parsed, "zero"))
        json_object_set (outcome, "zero", zero);
    json_decref (zero);
    if (rc == 0)
        json_object_set (args, "outcome", outcome);
    json_decref (outcome);
    return rc;
}

static int
s_cmd_case_phase (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (s_arg_count (parsed) != 1 || !s_opt (parsed, "phase"))
        return s_usage_error ("%s", "case phase needs a pseudonym and --phase");
    json_t *args = json_pack ("{s:s, s:s}", "case", s_arg (parsed, 0), "phase", s_opt (parsed, "phase"));
    if ((s_opt (parsed, "passende-hulp") || s_opt (parsed, "zero"))) {
        int rc = s_case_outcome (parsed, args);
        if (rc) {
            json_decref (args);
            return rc;
        }
    }
    json_t *result;
    int rc = s_call (cli, cli->node_dir, "case-phase", args, &result);
    if (rc)
        return rc;
    if (cli->json)
        s_print_json (result);
    else
        printf ("case %s: %s (anonymized summary published)\n", s_arg (parsed, 0), s_opt (parsed, "phase"));
    json_decref (result);
    return 0;
}

static void
s_print_cases (json_t *result)
{
    printf ("%-36s %-19s %s\n", "CASE", "REGISTERED", "REQUESTS");
    size_t index;
    json_t *row;
    char when [32];
    json_array_foreach (result, index, row)
        printf ("%-36s %-19s %lld\n", en_json_str (row, "pseudonym"),
                en_time_str (en_json_int (row, "created", 0), when, sizeof when),
                (long long) en_json_int (row, "requests", 0));
}

static int
s_cmd_case_list (s_cli_t *cli, json_t *parsed, const char *verb)
{
    return s_query (cli, cli->node_dir, "cases", NULL, s_print_cases);
}

//  Which access log: the broker's with --broker, else the node's.
static const char *
s_audit_dir (s_cli_t *cli, json_t *parsed)
{
    return json_object_get (parsed, "broker") ? cli->broker_dir : cli->node_dir;
}

//  At the broker: what a node (or peer broker) anchored there; the output
//  is the file `audit verify --anchors` reads
static int
s_cmd_audit_anchors (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (!s_opt (parsed, "node"))
        return s_usage_error ("%s", "audit anchors needs --node NAME (run with --broker DIR)");
    json_t *result;
    int rc = s_call (cli, cli->broker_dir, "audit-anchors", json_pack ("{s:s}", "node", s_opt (parsed, "node")),
                     &result);
    if (rc)
        return rc;
    s_print_json (result);
    json_decref (result);
    return 0;
}

//  The anchors in FILE (from `audit anchors`) as audit-verify's
//  arguments; NULL when it is not an anchors file (said why).
static json_t *
s_anchors_args (const char *path)
{
    char *text = en_file_read (path, 64 * 1024 * 1024);
    json_t *file = text ? json_loads (text, 0, NULL) : NULL;
    free (text);
    json_t *anchors = json_is_array (file) ? file : json_object_get (file, "anchors");
    json_t *args = json_is_array (anchors) ? json_pack ("{s:O}", "anchors", anchors) : NULL;
    if (!args)
        fprintf (stderr, "expertnet: %s is not an anchors file (expertnet --broker DIR audit anchors "
                 "--node NAME > FILE)\n", path);
    json_decref (file);
    return args;
}

static void
s_print_verified (json_t *result, bool anchored)
{
    bool intact = json_is_true (json_object_get (result, "intact"));
    if (intact && anchored)
        printf ("access log intact: %lld entries; head %lld %s; %lld anchored heads match "
                "(newest: entry %lld)%s\n",
                (long long) en_json_int (result, "entries", 0), (long long) en_json_int (result, "head_seq", 0),
                en_json_str (result, "head_hash") ?: "-", (long long) en_json_int (result, "anchors_checked", 0),
                (long long) en_json_int (result, "anchored_to", 0),
                en_json_int (result, "anchors_checked", 0) ? "" : " (no anchors to check against!)");
    else
    if (intact)
        printf ("access log intact: %lld entries; head %lld %s (record this to detect a rewrite later)\n",
                (long long) en_json_int (result, "entries", 0), (long long) en_json_int (result, "head_seq", 0),
                en_json_str (result, "head_hash") ?: "-");
    else
        printf ("ACCESS LOG BROKEN at entry %lld: %s\n", (long long) en_json_int (result, "bad_seq", 0),
                en_json_str (result, "problem") ?: "?");
}

static int
s_cmd_audit_verify (s_cli_t *cli, json_t *parsed, const char *verb)
{
    json_t *args = NULL;
    if (s_opt (parsed, "anchors") && !(args = s_anchors_args (s_opt (parsed, "anchors"))))
        return EXIT_USAGE;
    bool anchored = args != NULL;
    json_t *result;
    int rc = s_call (cli, s_audit_dir (cli, parsed), "audit-verify", args, &result);
    if (rc)
        return rc;
    bool intact = json_is_true (json_object_get (result, "intact"));
    if (cli->json)
        s_print_json (result);
    else
        s_print_verified (result, anchored);
    json_decref (result);
    return intact ? 0 : EXIT_REFUSED;
}

//  Control arguments with the --case filter, if given.
static json_t *
s_case_args (json_t *parsed)
{
    json_t *args = json_object ();
    if (s_opt (parsed, "case"))
        json_object_set_new (args, "case", json_string (s_opt (parsed, "case")));
    return args;
}

static void
s_print_audit_export (json_t *result)
{
    printf ("Logboek van cliënt %s bij %s (NEN 7513): wie heeft wanneer wat met het dossier gedaan.\n",
            en_json_str (result, "case"), en_json_str (result, "node"));
    size_t index;
    json_t *line;
    json_array_foreach (json_object_get (result, "lines"), index, line)
        printf ("%s\n", json_string_value (line));
    printf ("%lld regels. Deze export is zelf ook vastgelegd in het logboek.\n",
            (long long) en_json_int (result, "entries", 0));
}

static int
s_cmd_audit_export (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (!s_opt (parsed, "case") || json_object_get (parsed, "broker"))
        return s_usage_error ("%s", "audit export needs --case PSEUDONYM (at a node)");
    return s_query (cli, cli->node_dir, "audit-export", s_case_args (parsed), s_print_audit_export);
}

static void
s_print_audit (json_t *result)
{
    printf ("%-6s %-19s %-18s %-8s %-16s %-18s %-8s %s\n", "SEQ", "AT", "EVENT", "ACTION", "WHO",
            "ON BEHALF OF", "OUTCOME", "CASE");
    size_t index;
    json_t *row;
    char when [32];
    json_array_foreach (result, index, row)
        printf ("%-6lld %-19s %-18s %-8s %-16s %-18s %-8s %s\n", (long long) en_json_int (row, "seq", 0),
                en_time_str (en_json_int (row, "at", 0), when, sizeof when), en_json_str (row, "event"),
                en_json_str (row, "action"), en_json_str (row, "actor"), en_json_str (row, "on_behalf") ?: "-",
                en_json_str (row, "outcome"), en_json_str (row, "case_id") ?: "-");
}

static int
s_cmd_audit_show (s_cli_t *cli, json_t *parsed, const char *verb)
{
    return s_query (cli, s_audit_dir (cli, parsed), "audit-show", s_case_args (parsed), s_print_audit);
}

//  ------------------------------------------------------------------
//  dashboard operators and operator actions

//  Print a broker's answer to an operator verb: the new token once, else
//  that it is done.
static int
s_operator_call (s_cli_t *cli, const char *verb, json_t *args, const char *said)
{
    json_t *result;
    int rc = s_call (cli, cli->broker_dir, verb, args, &result);
    if (rc)
        return rc;
    if (cli->json)
        s_print_json (result);
    else
    if (streq (verb, "token-add"))
        printf ("API token %s for %s (shown once; send as 'Authorization: Bearer TOKEN'):\n%s\n",
                en_json_str (result, "id"), en_json_str (result, "operator"), en_json_str (result, "token"));
    else
        printf ("%s: done\n", said);
    json_decref (result);
    return 0;
}

//  operator-add / operator-passwd NAME: a dashboard login and its
//  password (from --password-file, else standard input)
static int
s_cmd_operator_add (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (s_arg_count (parsed) != 1)
        return s_usage_error ("%s", "needs the operator's name");
    char *password = s_read_secret (parsed, "password-file", "password (at least 12 characters)", false);
    if (!password)
        return s_usage_error ("%s", "no password (give --password-file FILE or type it on standard input)");
    json_t *args = json_pack ("{s:s, s:s, s:b}", "name", s_arg (parsed, 0), "password", password,
                              "replace", streq (verb, "operator-passwd"));
    s_secret_free (&password);
    return s_operator_call (cli, "operator-add", args, verb);
}

//  operator-remove NAME, token-add OPERATOR, token-remove ID
static int
s_cmd_operator_one (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (s_arg_count (parsed) != 1)
        return s_usage_error ("%s", "needs one name or id");
    const char *key = streq (verb, "operator-remove") ? "name" : streq (verb, "token-add") ? "operator" : "id";
    return s_operator_call (cli, verb, json_pack ("{s:s}", key, s_arg (parsed, 0)), verb);
}

//  reoffer / escalate / close / recall a request, with a reason
static int
s_cmd_operator_action (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (s_arg_count (parsed) != 1 || !s_opt (parsed, "reason"))
        return s_usage_error ("%s", "needs a request id and --reason TEXT");
    json_t *args = json_pack ("{s:s, s:s}", "request", s_arg (parsed, 0), "reason", s_opt (parsed, "reason"));
    if (s_opt (parsed, "operator"))
        json_object_set_new (args, "operator", json_string (s_opt (parsed, "operator")));
    if (s_opt (parsed, "place")) {
        char *end = NULL;
        long long place = strtoll (s_opt (parsed, "place"), &end, 10);
        if (!end || *end || place < 1) {
            json_decref (args);
            return s_usage_error ("%s", "--place must be a place number (1, 2, ...)");
        }
        json_object_set_new (args, "place", json_integer (place));
    }
    return s_operator_call (cli, verb, args, verb);
}

//  ------------------------------------------------------------------
//  rode draden report

//  "YYYY-MM-DD" at local midnight, in ms; -1 if not a date.
static int64_t
s_parse_day (const char *text)
{
    struct tm tm = { 0 };
    const char *rest = strptime (text, "%Y-%m-%d", &tm);
    if (!rest || *rest)
        return -1;
    tm.tm_isdst = -1;
    return (int64_t) mktime (&tm) * 1000;
}

static int
s_cmd_report (s_cli_t *cli, json_t *parsed, const char *verb)
{
    const char *format = s_opt (parsed, "format") ?: "html";
    if (!streq (format, "html") && !streq (format, "csv") && !streq (format, "json"))
        return s_usage_error ("--format '%s' must be html, csv or json", format);
    int64_t from = s_opt (parsed, "from") ? s_parse_day (s_opt (parsed, "from")) : 0;
    int64_t to = s_opt (parsed, "to") ? s_parse_day (s_opt (parsed, "to")) : 0;
    if (from < 0 || to < 0)
        return s_usage_error ("%s", "--from and --to are dates YYYY-MM-DD (--to is exclusive)");
    json_t *args = json_pack ("{s:I, s:I}", "from", (json_int_t) from, "to", (json_int_t) to);
    if (s_opt (parsed, "region"))
        json_object_set_new (args, "region", json_string (s_opt (parsed, "region")));
    if (s_opt (parsed, "min-cell"))
        json_object_set_new (args, "min_cell", json_integer (atoi (s_opt (parsed, "min-cell"))));
    json_t *report;
    int rc = s_call (cli, cli->broker_dir, "report", args, &report);
    if (rc)
        return rc;
    //  The broker applied small-cell suppression; rendering is local
    char *text = streq (format, "json") || cli->json ? json_dumps (report, JSON_INDENT (2))
               : streq (format, "csv") ? en_report_csv (report) : en_report_html (report);
    json_decref (report);
    if (!text) {
        fprintf (stderr, "expertnet: the broker's answer is not a report\n");
        return EXIT_REFUSED;
    }
    const char *out = s_opt (parsed, "output");
    FILE *file = out ? fopen (out, "w") : stdout;
    if (!file) {
        fprintf (stderr, "expertnet: cannot write %s: %s\n", out, strerror (errno));
        free (text);
        return EXIT_REFUSED;
    }
    fputs (text, file);
    if (out) {
        fclose (file);
        fprintf (stderr, "report written to %s\n", out);
    }
    free (text);
    return 0;
}

//  ------------------------------------------------------------------
//  keys

static int
s_cmd_keygen (s_cli_t *cli, json_t *parsed, const char *verb)
{
    const char *name = s_opt (parsed, "name"), *dir = s_opt (parsed, "dir");
    if (!name || !dir)
        return s_usage_error ("%s", "keygen needs --name NAME --dir DIR");
    en_error_t error = { 0 };
    if (en_keys_generate (dir, name, &error)) {
        fprintf (stderr, "expertnet: %s\n", error.reason);
        return EXIT_REFUSED;
    }
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/%s.cert", dir, name);
    zcert_t *cert = zcert_load (path);
    if (cli->json)
        printf ("{\"name\": \"%s\", \"public_key\": \"%s\", \"cert\": \"%s\"}\n", name, zcert_public_txt (cert), path);
    else
        printf ("key pair for %s: %s (public, give to the broker to enroll) and %s_secret (keep private)\n"
                "public key %s\n", name, path, path, zcert_public_txt (cert));
    zcert_destroy (&cert);
    return 0;
}

//  Remove every certificate below dir (enrolled/) that names node, so no
//  backup copy keeps a revoked key admitted. How many were removed.
static int
s_remove_certs (const char *dir, const char *node)
{
    int removed = 0;
    zdir_t *tree = zdir_new (dir, NULL);
    zfile_t **files = tree ? zdir_flatten (tree) : NULL;
    for (int i = 0; files && files [i]; i++) {
        //  What the broker counts as enrolled: not *_secret, not hidden
        const char *path = zfile_filename (files [i], NULL);
        const char *base = strrchr (path, '/') ? strrchr (path, '/') + 1 : path;
        size_t length = strlen (path);
        bool counts = zfile_is_regular (files [i]) && base [0] != '.'
                   && !(length >= 7 && streq (path + length - 7, "_secret"));
        zcert_t *cert = counts ? en_keys_load_public (path, NULL) : NULL;
        if (cert && zcert_meta (cert, "name") && streq (zcert_meta (cert, "name"), node)) {
            if (remove (path) == 0)
                removed++;
            else
                fprintf (stderr, "expertnet: cannot remove %s: %s\n", path, strerror (errno));
        }
        zcert_destroy (&cert);
    }
    if (files)
        zdir_flatten_free (&files);
    zdir_destroy (&tree);
    return removed;
}

static int
s_cmd_revoke (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (s_arg_count (parsed) != 1)
        return s_usage_error ("%s", "revoke needs a node name");
    const char *name = s_arg (parsed, 0);
    if (!en_name_valid (name))
        return s_usage_error ("'%s' is not a node name", name);
    char enrolled [PATH_MAX];
    snprintf (enrolled, sizeof enrolled, "%s/enrolled", cli->broker_dir);
    int removed = s_remove_certs (enrolled, name);
    if (!removed) {
        fprintf (stderr, "expertnet: %s is not enrolled at %s\n", name, cli->broker_dir);
        return EXIT_NOT_FOUND;
    }
    printf ("%s revoked (%d certificate file%s removed): the broker refuses its key from now on\n",
            name, removed, removed == 1 ? "" : "s");
    return 0;
}

//  Write cert as enrolled/NAME.cert. Another key under this name is a
//  different party (a re-keyed node, or a peer broker of that name):
//  replaced only when asked to. An exit code.
static int
s_enroll_write (s_cli_t *cli, zcert_t *cert, const char *name, bool replace)
{
    char enrolled [PATH_MAX], target [PATH_MAX + 80];
    snprintf (enrolled, sizeof enrolled, "%s/enrolled", cli->broker_dir);
    en_mkdir_p (enrolled, 0700);
    snprintf (target, sizeof target, "%s/%s.cert", enrolled, name);
    zcert_t *current = en_keys_load_public (target, NULL);
    if (current && !streq (zcert_public_txt (current), zcert_public_txt (cert)) && !replace) {
        fprintf (stderr, "expertnet: %s is already enrolled at %s with another key (%s); "
                 "use --replace to replace it\n", name, cli->broker_dir, zcert_public_txt (current));
        zcert_destroy (&current);
        return EXIT_REFUSED;
    }
    zcert_destroy (&current);
    //  Write aside, then rename: the broker never reads a half-written
    //  certificate (it skips names starting with '.'), and the rename
    //  changes the directory, which tells a running broker to re-read.
    char partial [PATH_MAX + 96];
    snprintf (partial, sizeof partial, "%s/.%s.cert.partial", enrolled, name);
    if (zcert_save_public (cert, partial) || rename (partial, target)) {
        fprintf (stderr, "expertnet: cannot write %s: %s\n", target, strerror (errno));
        remove (partial);
        return EXIT_REFUSED;
    }
    return 0;
}

static int
s_cmd_enroll (s_cli_t *cli, json_t *parsed, const char *verb)
{
    if (s_arg_count (parsed) != 1)
        return s_usage_error ("%s", "enroll needs a public cert file");
    en_error_t error = { 0 };
    zcert_t *cert = en_keys_load_public (s_arg (parsed, 0), &error);
    const char *name = cert ? zcert_meta (cert, "name") : NULL;
    if (!cert || !en_name_valid (name)) {
        fprintf (stderr, "expertnet: %s\n", cert ? "certificate has no valid 'name' (make it with expertnet keygen)" : error.reason);
        zcert_destroy (&cert);
        return EXIT_REFUSED;
    }
    //  The region is bound here, by whoever enrolls: the broker refuses a
    //  HELLO, and so every expert, request and dossier, for another one
    const char *region = s_opt (parsed, "region") ?: name;
    if (!en_name_valid (region)) {
        zcert_destroy (&cert);
        return s_usage_error ("'%s' is not a region name", region);
    }
    zcert_set_meta (cert, "region", "%s", region);
    int rc = s_enroll_write (cli, cert, name, json_object_get (parsed, "replace") != NULL);
    if (rc == 0)
        printf ("%s enrolled at %s for region %s (key %s)\n", name, cli->broker_dir, region,
                zcert_public_txt (cert));
    zcert_destroy (&cert);
    return rc;
}

//  ------------------------------------------------------------------
//  The command table: options, then each group's commands, then groups.

static const s_opt_t no_opts [] = { { NULL, false, NULL } };
static const s_opt_t state_opts [] = { { "state", true, "only requests in this state" }, { NULL, false, NULL } };
static const s_opt_t notification_opts [] = {
    { "state", true, "only notifications in this state (wacht, bezig, verzonden, mislukt-opnieuw)" },
    { NULL, false, NULL } };
static const s_opt_t reply_opts [] = {
    { "text", true, "the reply (sealed to the expert who advised)" },
    { "file", true, "the reply from a file" },
    { "place", true, "for a team: the place whose expert gets it (see 'request show')" }, { NULL, false, NULL } };
static const s_opt_t message_opts [] = {
    { "text", true, "the message (sealed to every participant)" },
    { "file", true, "the message from a file" },
    { "expert", true, "expert: who speaks (with a request id; with an offer id a check)" },
    { "advice", false, "expert: this message is an advice (the request becomes 'advice')" }, { NULL, false, NULL } };
static const s_opt_t thread_opts [] = {
    { "expert", true, "expert: whose conversation (with a request id; with an offer id a check)" },
    { "no-read", false, "do not mark the messages read (no read receipts)" },
    { "password-file", true, "expert: the password from this file (else asked, when the node cannot open)" },
    { NULL, false, NULL } };
static const s_opt_t review_opts [] = {
    { "date", true, "the review day, YYYY-MM-DD (09:00 Europe/Amsterdam)" },
    { "in", true, "or days or weeks from today: 14d, 6w (at most 366 days)" }, { NULL, false, NULL } };
static const s_opt_t beraad_opts [] = {
    { "propose", true, "times \"YYYY-MM-DD HH:MM,...\" (1 to 5, Dutch time) for the participants" },
    { "fix", true, "the time agreed, one of those proposed" },
    { "held", true, "when it took place (\"YYYY-MM-DD HH:MM\" or now)" },
    { "outcome", true, "with --held: the team's note, kept at this node sealed, never sent" }, { NULL, false, NULL } };
static const s_opt_t expert_beraad_opts [] = {
    { "available", true, "the proposed times that suit you, \"YYYY-MM-DD HH:MM,...\"" },
    { "none", false, "none of the proposed times suits you" }, { NULL, false, NULL } };
static const s_opt_t close_opts [] = { { "outcome", true, "outcome text (no personal data)" }, { NULL, false, NULL } };
static const s_opt_t listen_opts [] = {
    { "expert", true, "only this expert's notifications" },
    { "requests", false, "also print status changes of this node's requests" },
    { "count", true, "stop after N notifications" },
    { "timeout", true, "stop after N seconds" }, { NULL, false, NULL } };
static const s_opt_t inbox_opts [] = {
    { "expert", true, "only this expert's offers" },
    { "all", false, "also answered, expired and withdrawn offers" }, { NULL, false, NULL } };
static const s_opt_t answer_opts [] = {
    { "reason", true, "why (decline)" }, { "file", true, "advice text file (advise)" },
    { "text", true, "advice text (advise)" },
    { "wait", true, "seconds to wait for the broker's confirmation (default 10)" }, { NULL, false, NULL } };
static const s_opt_t rotate_opts [] = {
    { "secret", false, "new region secret: new pseudonyms from now on (docs/pseudonyms.md)" },
    { "data-key", false, "new data key: everything sealed is re-sealed with it" }, { NULL, false, NULL } };
static const s_opt_t password_opts [] = {
    { "password-file", true, "read the password from this file (else standard input)" }, { NULL, false, NULL } };
static const s_opt_t action_opts [] = {
    { "reason", true, "why (recorded in the timeline and the access log)" },
    { "operator", true, "operator name for the record (default: your login name)" },
    { "place", true, "one place of a team (default: the whole request; reoffer/escalate: every open place)" },
    { NULL, false, NULL } };
static const s_opt_t report_opts [] = {
    { "from", true, "first day, YYYY-MM-DD (cases registered from then)" },
    { "to", true, "day after the last, YYYY-MM-DD" },
    { "format", true, "html (default) | csv | json" },
    { "region", true, "one jeugdregio only" },
    { "min-cell", true, "small-cell threshold (default 5): smaller counts show as <5" },
    { "output", true, "write to this file instead of standard output" }, { NULL, false, NULL } };
static const s_opt_t dossier_opts [] = {
    { "expert", true, "check that the offer is this expert's (the offer names its expert)" },
    { "password-file", true, "the expert's password from this file (else asked)" }, { NULL, false, NULL } };
static const s_opt_t user_add_opts [] = {
    { "role", true, "medewerker | expert | beheerder" },
    { "expert", true, "role expert: the expert id this person is (expertnet expert list)" },
    { "email", true, "e-mail address for notifications (kept at this node only)" },
    { "phone", true, "phone number for text messages (kept at this node only)" },
    { "password-file", true, "read the password from this file (else asked twice)" }, { NULL, false, NULL } };
static const s_opt_t user_passwd_opts [] = {
    { "password-file", true, "the new password from this file (else asked twice)" },
    { "old-password-file", true, "the current password (needed for an expert: it re-wraps the key)" },
    { "new-recovery-code", false, "expert: also a new recovery code (first use: replace what the administrator saw)" },
    { NULL, false, NULL } };
static const s_opt_t user_recover_opts [] = {
    { "recovery-code", true, "the recovery code shown when the account was made" },
    { "recovery-file", true, "read the recovery code from this file" },
    { "password-file", true, "the new password from this file (else asked twice)" }, { NULL, false, NULL } };
static const s_opt_t user_rekey_opts [] = {
    { "password-file", true, "the new password from this file (else asked twice)" },
    { "yes", false, "do not ask for confirmation" }, { NULL, false, NULL } };
static const s_opt_t audit_opts [] = {
    { "case", true, "only entries of this case (pseudonym or request id)" },
    { "anchors", true, "verify: also against the heads in FILE (from 'audit anchors' at the broker)" },
    { "node", true, "anchors: the node or peer broker whose anchored heads to list" },
    { "broker", false, "[DIR] the broker's log (default: the node's)" }, { NULL, false, NULL } };
static const s_opt_t keygen_opts [] = {
    { "name", true, "node or broker name" }, { "dir", true, "directory for the key files" }, { NULL, false, NULL } };
static const s_opt_t enroll_opts [] = {
    { "region", true, "the region this node may speak for (default: its name)" },
    { "replace", false, "replace a different certificate enrolled under the same name" }, { NULL, false, NULL } };

typedef struct {
    const char *verb;           //  sub-command; NULL for a group of one command
    s_handler_fn *handler;
    const s_opt_t *opts;        //  its options (--help lists them)
    const char *synopsis;       //  "request list [--state STATE]"
} s_command_t;

static const s_command_t s_request_commands [] = {
    { "submit", s_cmd_request_submit, s_request_fields,
      "request submit [--file FILE] [--urgency U --type T --expertise A,B --age-band B "
      "--place ROLE:TAG,TAG --place ROLE ...]" },
    { "list", s_cmd_request_list, state_opts, "request list [--state STATE]" },
    { "show", s_cmd_request_show, no_opts, "request show ID" },
    { "close", s_cmd_request_close, close_opts, "request close ID [--outcome TEXT]" },
    { "review", s_cmd_request_review, review_opts, "request review ID --date YYYY-MM-DD | --in 6w" },
    { "beraad", s_cmd_request_beraad, beraad_opts,
      "request beraad ID --propose \"T1,T2\" | --fix T | --held T|now [--outcome TEXT]" },
    { "reply", s_cmd_request_reply, reply_opts, "request reply ID --text TEXT | --file FILE [--place N]" },
    { "message", s_cmd_request_message, message_opts, "request message ID --text TEXT | --file FILE" },
    { "thread", s_cmd_request_thread, thread_opts, "request thread ID [--no-read]" },
    { NULL } };

static const s_command_t s_expert_commands [] = {
    { "add", s_cmd_expert_put, s_expert_fields, "expert add --id ID --role ROLE [--expertise A,B] [--capacity N] ..." },
    { "update", s_cmd_expert_put, s_expert_fields, "expert update ID [--capacity N] [--absent-until DATE] ..." },
    { "list", s_cmd_expert_list, no_opts, "expert list" },
    { "listen", s_cmd_expert_listen, listen_opts, "expert listen [--expert ID] [--count N] [--timeout S]" },
    { "inbox", s_cmd_expert_inbox, inbox_opts, "expert inbox [--expert ID] [--all]" },
    { "accept", s_cmd_expert_answer, answer_opts, "expert accept OFFER" },
    { "decline", s_cmd_expert_answer, answer_opts, "expert decline OFFER --reason TEXT" },
    { "advise", s_cmd_expert_answer, answer_opts, "expert advise OFFER --file FILE" },
    { "dossier", s_cmd_expert_dossier, dossier_opts, "expert dossier OFFER [--password-file F]" },
    { "message", s_cmd_expert_message, message_opts,
      "expert message OFFER | REQ --expert X (--text TEXT | --file FILE) [--advice]" },
    { "thread", s_cmd_expert_thread, thread_opts, "expert thread OFFER | REQ --expert X [--no-read] [--password-file F]" },
    { "beraad", s_cmd_expert_beraad, expert_beraad_opts, "expert beraad OFFER [--available \"T1,T2\" | --none]" },
    { NULL } };

static const s_command_t s_node_commands [] = {
    { "status", s_cmd_node_status, no_opts, "node status" },
    { "rotate", s_cmd_node_rotate, rotate_opts, "node rotate [--secret] [--data-key]" },
    { "notifications", s_cmd_node_notifications, notification_opts, "node notifications [--state STATE]" },
    { "user-add", s_cmd_node_user, user_add_opts,
      "node user-add NAME --role R [--expert ID] [--email E] [--phone P] [--password-file F]" },
    { "users", s_cmd_node_users, no_opts, "node users" },
    { "user-remove", s_cmd_node_user, no_opts, "node user-remove NAME" },
    { "user-passwd", s_cmd_node_user, user_passwd_opts,
      "node user-passwd NAME [--password-file F] [--old-password-file F] [--new-recovery-code]" },
    { "user-recover", s_cmd_node_user, user_recover_opts,
      "node user-recover NAME [--recovery-code C | --recovery-file F] [--password-file F]" },
    { "user-rekey", s_cmd_node_user, user_rekey_opts, "node user-rekey NAME [--password-file F] [--yes]" },
    { NULL } };

static const s_command_t s_case_commands [] = {
    { "add", s_cmd_case_add, s_case_fields, "case add --client-id ID [--name N] [--bsn B] [--birth-date D] ..." },
    { "show", s_cmd_case_show, no_opts, "case show PSEUDONYM" },
    { "list", s_cmd_case_list, no_opts, "case list" },
    { "phase", s_cmd_case_phase, s_phase_fields,
      "case phase PSEUDONYM --phase PHASE [--passende-hulp ja|nee] [--zero goal=N,...]" },
    { NULL } };

static const s_command_t s_audit_commands [] = {
    { "verify", s_cmd_audit_verify, audit_opts, "audit verify [--broker] [--anchors FILE]" },
    { "anchors", s_cmd_audit_anchors, audit_opts, "audit anchors --node NAME" },
    { "show", s_cmd_audit_show, audit_opts, "audit show [--case ID] [--broker]" },
    { "export", s_cmd_audit_export, audit_opts, "audit export --case PSEUDONYM" },
    { NULL } };

static const s_command_t s_broker_commands [] = {
    { "status", s_cmd_broker_list, no_opts, "broker status" },
    { "requests", s_cmd_broker_requests, state_opts, "broker requests [--state STATE]" },
    { "show", s_cmd_broker_show, no_opts, "broker show ID" },
    { "hiaten", s_cmd_broker_list, no_opts, "broker hiaten" },
    { "experts", s_cmd_broker_list, no_opts, "broker experts" },
    { "offers", s_cmd_broker_list, no_opts, "broker offers" },
    { "operator-add", s_cmd_operator_add, password_opts, "broker operator-add NAME [--password-file F]" },
    { "operator-passwd", s_cmd_operator_add, password_opts, "broker operator-passwd NAME [--password-file F]" },
    { "operator-remove", s_cmd_operator_one, no_opts, "broker operator-remove NAME" },
    { "operators", s_cmd_broker_list, no_opts, "broker operators" },
    { "token-add", s_cmd_operator_one, no_opts, "broker token-add NAME" },
    { "token-remove", s_cmd_operator_one, no_opts, "broker token-remove ID" },
    { "tokens", s_cmd_broker_list, no_opts, "broker tokens" },
    { "reoffer", s_cmd_operator_action, action_opts, "broker reoffer ID --reason TEXT" },
    { "escalate", s_cmd_operator_action, action_opts, "broker escalate ID --reason TEXT" },
    { "close", s_cmd_operator_action, action_opts, "broker close ID --reason TEXT" },
    { "recall", s_cmd_operator_action, action_opts, "broker recall ID --reason TEXT" },
    { NULL } };

static const s_command_t s_report_command [] = {
    { NULL, s_cmd_report, report_opts, "report --from DATE --to DATE --format html|csv|json [--region R]" } };
static const s_command_t s_keygen_command [] = {
    { NULL, s_cmd_keygen, keygen_opts, "keygen --name NAME --dir DIR" } };
static const s_command_t s_enroll_command [] = {
    { NULL, s_cmd_enroll, enroll_opts, "enroll CERT --broker DIR [--region R] [--replace]" } };
static const s_command_t s_revoke_command [] = {
    { NULL, s_cmd_revoke, no_opts, "revoke NAME --broker DIR" } };

//  Where a command takes the broker's directory after its name.
typedef enum {
    S_BROKER_GLOBAL,            //  only as the global --broker DIR
    S_BROKER_OPTIONAL,          //  --broker [DIR]: a flag, the directory optional (audit)
    S_BROKER_DIR                //  --broker DIR (enroll, revoke)
} s_broker_arg_t;

typedef struct {
    const char *noun;
    const s_command_t *commands;    //  its sub-commands, or one with verb NULL
    s_broker_arg_t broker_arg;
} s_group_t;

static const s_group_t s_groups [] = {
    { "request", s_request_commands, S_BROKER_GLOBAL },
    { "expert", s_expert_commands, S_BROKER_GLOBAL },
    { "node", s_node_commands, S_BROKER_GLOBAL },
    { "case", s_case_commands, S_BROKER_GLOBAL },
    { "audit", s_audit_commands, S_BROKER_OPTIONAL },
    { "broker", s_broker_commands, S_BROKER_GLOBAL },
    { "report", s_report_command, S_BROKER_GLOBAL },
    { "keygen", s_keygen_command, S_BROKER_GLOBAL },
    { "enroll", s_enroll_command, S_BROKER_DIR },
    { "revoke", s_revoke_command, S_BROKER_DIR },
    { NULL } };

//  ------------------------------------------------------------------
//  Dispatch

//  The global options before the command (--node, --broker, --json,
//  --timeout; --help and --version answer at once). Sets *index to the
//  command's position; -1 to go on, else the exit code.
static int
s_parse_globals (s_cli_t *cli, int argc, char **argv, int *index)
{
    int i = 1;
    for (; i < argc && strncmp (argv [i], "-", 1) == 0; i++) {
        if (streq (argv [i], "--node") && i + 1 < argc)
            cli->node_dir = argv [++i];
        else
        if (streq (argv [i], "--broker") && i + 1 < argc)
            cli->broker_dir = argv [++i];
        else
        if (streq (argv [i], "--json"))
            cli->json = true;
        else
        if (streq (argv [i], "--timeout") && i + 1 < argc)
            cli->timeout_ms = atoi (argv [++i]);
        else
        if (streq (argv [i], "--help") || streq (argv [i], "-h")) {
            fputs (s_usage_text, stdout);
            return 0;
        }
        else
        if (streq (argv [i], "--version")) {
            printf ("expertnet %s\n", EXPERTNET_VERSION);
            return 0;
        }
        else
            return s_usage_error ("unknown option '%s'", argv [i]);
    }
    if (i >= argc) {
        fputs (s_usage_text, stderr);
        return EXIT_USAGE;
    }
    *index = i;
    return -1;
}

//  Take an option without value out of argv[from..]; true if it was there.
static bool
s_take_flag (int *argc, char **argv, int from, const char *flag)
{
    bool found = false;
    for (int j = from; j < *argc; j++)
        if (streq (argv [j], flag)) {
            memmove (&argv [j], &argv [j + 1], (*argc - j - 1) * sizeof (char *));
            (*argc)--;
            j--;
            found = true;
        }
    return found;
}

//  The broker's directory given after the command (see s_broker_arg_t),
//  taken out of argv[from..] into cli.
static void
s_take_broker_dir (s_cli_t *cli, s_broker_arg_t how, int *argc, char **argv, int from)
{
    for (int j = from; how != S_BROKER_GLOBAL && j + 1 < *argc; j++) {
        if (!streq (argv [j], "--broker"))
            continue;
        if (how == S_BROKER_OPTIONAL && argv [j + 1][0] == '-')
            continue;
        cli->broker_dir = argv [j + 1];
        //  audit keeps --broker as its flag; enroll/revoke drop it too
        int drop = how == S_BROKER_OPTIONAL ? 1 : 2;
        int at = j + 2 - drop;
        memmove (&argv [at], &argv [j + 2], (*argc - j - 2) * sizeof (char *));
        *argc -= drop;
        j -= drop - 1;
    }
}

static const s_group_t *
s_group_find (const char *noun)
{
    for (const s_group_t *group = s_groups; group->noun; group++)
        if (streq (group->noun, noun))
            return group;
    return NULL;
}

static const s_command_t *
s_command_find (const s_group_t *group, const char *verb)
{
    for (const s_command_t *command = group->commands; command->handler; command++)
        if (!command->verb || (verb && streq (command->verb, verb)))
            return command;
    return NULL;
}

static void
s_group_help (const s_group_t *group, FILE *out)
{
    fprintf (out, "commands for '%s':\n", group->noun);
    for (const s_command_t *command = group->commands; command->handler && command->verb; command++)
        fprintf (out, "  expertnet %s\n", command->synopsis);
}

//  No command for noun and verb: the group's commands when it was asked
//  for (--help; none given is a usage error), else an error naming it.
static int
s_unknown_command (const char *noun, const char *verb)
{
    const s_group_t *group = s_group_find (noun);
    if (group && (!verb || streq (verb, "--help") || streq (verb, "-h"))) {
        s_group_help (group, stdout);
        return verb ? 0 : EXIT_USAGE;
    }
    fprintf (stderr, "expertnet: unknown command '%s%s%s'\n", noun, verb ? " " : "", verb ? verb : "");
    if (group)
        s_group_help (group, stderr);
    else
        fprintf (stderr, "(see 'expertnet --help')\n");
    return EXIT_USAGE;
}

int
main (int argc, char *argv [])
{
    s_cli_t cli = {
        .node_dir = getenv ("EXPERTNET_NODE") ?: "run/twente",
        .broker_dir = getenv ("EXPERTNET_BROKER") ?: "run/overijssel",
        .timeout_ms = 5000,
    };
    int i;
    int rc = s_parse_globals (&cli, argc, argv, &i);
    if (rc >= 0)
        return rc;
    if (sodium_init () < 0)
        return EXIT_REFUSED;
    zsys_init ();
    zsys_set_logstream (stderr);
    zsys_handler_set (NULL);            //  let Ctrl-C end `listen` at once
    const char *noun = argv [i++];
    //  --json may also follow the command
    if (s_take_flag (&argc, argv, i, "--json"))
        cli.json = true;
    const char *verb = i < argc ? argv [i] : NULL;
    const s_group_t *group = s_group_find (noun);
    const s_command_t *command = group ? s_command_find (group, verb) : NULL;
    if (!command)
        return s_unknown_command (noun, verb);
    if (command->verb)
        i++;
    s_take_broker_dir (&cli, group->broker_arg, &argc, argv, i);
    bool help;
    json_t *parsed = s_parse (argc - i, argv + i, command->opts, command->synopsis, &help);
    if (!parsed)
        return help ? 0 : EXIT_USAGE;
    rc = command->handler (&cli, parsed, command->verb ? command->verb : noun);
    json_decref (parsed);
    return rc;
}
