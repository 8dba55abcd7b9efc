/*  gen_corpus - writes the seed corpora of the fuzz harnesses into
    tests/fuzz/corpus/<harness>/ (`make fuzz-corpus`; the output is
    committed). Every seed is synthetic: made-up ids and names, example
    numbers (the 11-proef test BSN 111222333, the documentation IBAN
    NL91ABNA0417164300), no personal data.

    Messages are signed with the Ed25519 key from the fixed seed that
    fuzz_msg.c verifies with; sealed values use the fixed test keys of
    fuzz_vault.c. Both are test keys and protect nothing. */
#include "fuzz.h"
#include <sodium.h>
#include <sys/stat.h>

static const char *s_root;

static void
s_write (const char *harness, const char *name, const void *data, size_t size)
{
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/%s", s_root, harness);
    en_mkdir_p (path, 0755);
    snprintf (path, sizeof path, "%s/%s/%s", s_root, harness, name);
    FILE *file = fopen (path, "wb");
    assert (file);
    assert (fwrite (data, 1, size, file) == size);
    fclose (file);
}

static void
s_text (const char *harness, const char *name, const char *text)
{
    s_write (harness, name, text, strlen (text));
}

//  Frames in the fuzz.h encoding, with a leading byte when lead >= 0.
static void
s_frames (const char *harness, const char *name, int lead, zmsg_t *msg)
{
    zchunk_t *out = zchunk_new (NULL, 0);
    if (lead >= 0) {
        byte b = (byte) lead;
        zchunk_extend (out, &b, 1);
    }
    for (zframe_t *frame = zmsg_first (msg); frame; frame = zmsg_next (msg)) {
        byte len [2] = { (byte) (zframe_size (frame) >> 8), (byte) zframe_size (frame) };
        zchunk_extend (out, len, 2);
        zchunk_extend (out, zframe_data (frame), zframe_size (frame));
    }
    s_write (harness, name, zchunk_data (out), zchunk_size (out));
    zchunk_destroy (&out);
}

static zmsg_t *
s_message (const char *command, const char *body, bool sign)
{
    en_msg_t *msg = en_msg_restore_text (command, "0123456789abcdef0123456789abcdef", "twente",
                                         1700000000000LL, body);
    assert (msg);
    zmsg_t *frames = en_msg_encode (msg);
    en_msg_destroy (&msg);
    if (sign)
        fuzz_sign (frames);
    return frames;
}

#define REQUEST "{\"id\":\"twente-0001\",\"region\":\"twente\",\"urgency\":\"crisis\"," \
    "\"question_type\":\"consultatie-advies\",\"expertise\":[\"trauma\",\"jggz\"],\"age_band\":\"12-17\"," \
    "\"leefgebieden\":[\"jeugdhulp\",\"onderwijs\"],\"kader\":\"gedwongen\",\"situatie\":\"crisis\"," \
    "\"stuck_on\":[\"inhoud\"],\"question\":\"Hoe verder na de derde breakdown in de pleegzorg?\"," \
    "\"case\":\"p1-0123456789abcdef0123456789abcdef\"}"
#define EXPERT "{\"id\":\"se-tw-01\",\"role\":\"superexpert\",\"region\":\"twente\",\"expertise\":[\"trauma\"]," \
    "\"capacity\":2,\"bovenregionaal\":false,\"languages\":[\"nl\"],\"absent_until\":0}"
#define SUMMARY "{\"age_band\":\"12-17\",\"leefgebieden\":[\"wonen\"],\"problematiek\":[\"hechting\"]," \
    "\"kader\":\"vrijwillig\",\"situatie\":\"thuis\",\"stuck_on\":[\"wachttijd\"]," \
    "\"question_type\":\"procesregie\",\"urgency\":\"hoog\",\"expertise\":[\"lvb\"]}"

static void
s_msg_corpus (void)
{
    struct { const char *command, *body; } seeds [] = {
        { "SUBMIT", "{\"request\":" REQUEST "}" },
        { "AVAILABILITY", "{\"experts\":[" EXPERT "]}" },
        { "HELLO", "{\"region\":\"twente\",\"version\":2}" },
        { "ACK", "{\"ref\":\"fedcba9876543210fedcba9876543210\",\"refs\":[\"0123456789abcdef0123456789abcdef\"]}" },
        { "ERROR", "{\"ref\":\"fedcba9876543210fedcba9876543210\",\"code\":422,\"reason\":\"x\"}" },
        { "SUMMARY", "{\"case\":\"p1-0123456789abcdef0123456789abcdef\",\"summary\":" SUMMARY "}" },
        { "OFFER", "{\"offer\":\"twente-0001-o1\",\"expert\":\"se-tw-01\",\"deadline\":1700000400000}" },
        { "BATCH", "{\"messages\":[{\"command\":\"OFFER\",\"id\":\"fedcba9876543210fedcba9876543210\","
                   "\"timestamp\":1700000000000,\"body\":\"{\\\"offer\\\":\\\"twente-0001-o1\\\"}\"},"
                   "{\"command\":\"STATUS\",\"id\":\"0123456789abcdef0123456789abcdef\","
                   "\"timestamp\":1700000000000,\"body\":\"{}\"}]}" },
        { NULL, NULL } };
    for (int i = 0; seeds [i].command; i++) {
        zmsg_t *frames = s_message (seeds [i].command, seeds [i].body, true);
        char name [64];
        snprintf (name, sizeof name, "signed-%s", seeds [i].command);
        s_frames ("msg", name, 0, frames);
        //  the same message carried inside a FORWARD
        zmsg_t *copy = zmsg_dup (frames);
        en_error_t error;
        en_msg_t *msg = en_msg_decode (copy, &error);
        assert (msg);
        unsigned char public [32], secret [crypto_sign_SECRETKEYBYTES];
        fuzz_keypair (public, secret);
        if (!en_msg_verify (msg, public)) {
            fprintf (stderr, "gen_corpus: %s seed does not verify\n", seeds [i].command);
            exit (1);
        }
        json_t *carried = en_msg_export (msg);
        char *text = json_dumps (carried, JSON_COMPACT);
        char *lead = zsys_sprintf ("%c%s", 1, text);
        snprintf (name, sizeof name, "carried-%s", seeds [i].command);
        s_text ("msg", name, lead);
        zstr_free (&lead);
        free (text);
        json_decref (carried);
        en_msg_destroy (&msg);
        zmsg_destroy (&copy);
        zmsg_destroy (&frames);
    }
    zmsg_t *frames = s_message ("PING", "{}", false);
    s_frames ("msg", "unsigned-PING", 0, frames);
    zframe_t *first = zmsg_first (frames);
    zframe_reset (first, "EXPN1", 5);
    s_frames ("msg", "old-version", 0, frames);
    zmsg_t *six = zmsg_dup (frames);
    zframe_t *last = zmsg_last (six);
    zmsg_remove (six, last);
    zframe_destroy (&last);
    s_frames ("msg", "six-frames", 0, six);
    zmsg_destroy (&six);
    zmsg_destroy (&frames);
}

static void
s_vocab_corpus (void)
{
    s_text ("vocab", "request", REQUEST);
    s_text ("vocab", "request-minimal", "{\"id\":\"a\",\"region\":\"b\",\"urgency\":\"regulier\","
            "\"question_type\":\"procesregie\",\"expertise\":[\"x\"],\"age_band\":\"0-3\"}");
    s_text ("vocab", "request-extra-field", "{\"id\":\"a\",\"region\":\"b\",\"naam\":\"Testkind\"}");
    s_text ("vocab", "expert", EXPERT);
    s_text ("vocab", "expert-boxkey", "{\"id\":\"se-tw-02\",\"role\":\"procesregisseur\",\"region\":\"twente\","
            "\"capacity\":50,\"box_key\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}");
    s_text ("vocab", "availability", "{\"experts\":[" EXPERT "," EXPERT "]}");
    s_text ("vocab", "summary", SUMMARY);
    s_text ("vocab", "outcome", "{\"passende_hulp\":true,\"zero\":{\"suicides\":0,\"doorplaatsingen\":2}}");
    s_text ("vocab", "pseudonym", "p12-0123456789abcdef0123456789abcdef");
    s_text ("vocab", "not-object", "[1,2,\"crisis\"]");
}

static void
s_control_corpus (void)
{
    struct { const char *name, *verb, *args; } seeds [] = {
        { "status", "status", "{}" },
        { "request-submit", "request-submit", "{\"request\":" REQUEST "}" },
        { "expert-add", "expert-add", EXPERT },
        { "args-array", "status", "[1,2]" },
        { "args-broken", "status", "{\"a\":" },
        { NULL, NULL, NULL } };
    for (int i = 0; seeds [i].name; i++) {
        zmsg_t *msg = zmsg_new ();
        zmsg_addstr (msg, seeds [i].verb);
        zmsg_addstr (msg, seeds [i].args);
        s_frames ("control", seeds [i].name, -1, msg);
        zmsg_destroy (&msg);
    }
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "status");
    s_frames ("control", "one-frame", -1, msg);
    zmsg_addstr (msg, "{}");
    zmsg_addstr (msg, "{}");
    s_frames ("control", "three-frames", -1, msg);
    zmsg_destroy (&msg);
}

static void
s_pii_corpus (void)
{
    s_text ("pii", "clean", "Jongen van 12 jaar, OTS sinds 2021, overleg op 14-03 met school.");
    s_text ("pii", "bsn", "Client 111222333 zit vast in de wachttijd.");
    s_text ("pii", "birth-date", "geboren op 17-05-2013 in Enschede");
    s_text ("pii", "postcode", "woont in 7511 AB");
    s_text ("pii", "phone", "bel moeder op 06-12345678 of +31 6 1234 5678");
    s_text ("pii", "email", "mail naar voorbeeld.ouder@example.org");
    s_text ("pii", "iban", "betaling op NL91ABNA0417164300");
    s_text ("pii", "address", "Voorbeeldstraat 12, Hengelo");
    s_text ("pii", "name", "Testkind Voorbeeld is weggelopen.");
    s_text ("pii", "name-accent", "gesprek met zoe VAN DER fictief");
    s_text ("pii", "name-line", "name:Zoë Fictief\nZoe Fictief gaat naar school.");
    s_text ("pii", "json", "{\"question\":\"bel 0612345678\",\"leefgebieden\":[\"wonen\"],\"age\":111222333}");
    s_text ("pii", "utf8", "\xc3\xa9\xc3\x9f\xc4\xb3 \xe2\x80\x94 caf\xc3\xa9");
}

static void
s_report_corpus (void)
{
    char *one = "{\"region\":\"twente\",\"urgency\":\"crisis\",\"question_type\":\"consultatie-advies\","
        "\"age_band\":\"12-17\",\"kader\":\"gedwongen\",\"situatie\":\"thuis\",\"leefgebieden\":[\"wonen\"],"
        "\"problematiek\":[\"hechting\"],\"stuck_on\":[\"inhoud\"],\"expertise\":[\"trauma\"],"
        "\"registered\":1750000000000,\"first_assignment\":1750000600000,\"closed\":1751000000000,"
        "\"hiaat\":false,\"outcome\":{\"passende_hulp\":true,\"zero\":{\"suicides\":0}}}";
    char *two = "{\"region\":\"ijsselland\",\"urgency\":\"regulier\",\"registered\":1760000000000,"
        "\"hiaat\":true,\"expertise\":[\"lvb\"],\"closed\":null,\"outcome\":null}";
    char *many = zsys_sprintf ("[%s,%s,%s,%s,%s,%s,%s,%s]", one, one, one, one, one, one, two, two);
    s_text ("report", "mixed", many);
    zstr_free (&many);
    s_text ("report", "empty", "[]");
    s_text ("report", "wrong-types", "[{\"registered\":\"gisteren\",\"region\":7,\"leefgebieden\":\"wonen\"},{}]");
    s_text ("report", "not-array", "{\"region\":\"twente\"}");
}

static void
s_config_corpus (void)
{
    const char *files [] = { "overijssel", "twente", NULL };
    for (int i = 0; files [i]; i++) {
        char path [PATH_MAX];
        snprintf (path, sizeof path, "config/%s.cfg", files [i]);
        char *text = en_file_read (path, 65536);
        if (text)
            s_text ("config", files [i], text);
        free (text);
    }
    s_text ("config", "durations", "broker\n    heartbeat = 250ms\n    retry = 9223372036854775807d\n"
            "routing\n    deadline\n        crisis = tien minuten\n        hoog = -5s\n");
    s_text ("config", "quoted", "web\n    address = \"127.0.0.1:8080\"  # comment\n    x = 'a'\n");
}

static void
s_vault_corpus (void)
{
    char dir [PATH_MAX];
    fuzz_mkdtemp (dir, "expertnet-gen-vault");
    //  version 1 only first, then version 2 as the current key
    fuzz_vault_keys_write (dir, false);
    en_error_t error = { 0 };
    en_vault_t *vault = en_vault_new (dir, &error);
    assert (vault);
    char *sealed = en_vault_seal (vault, "{\"client_id\":\"111222333\",\"name\":\"Testkind Voorbeeld\"}");
    s_text ("vault", "sealed-v1", sealed);
    free (sealed);
    en_vault_destroy (&vault);
    fuzz_vault_keys_write (dir, true);
    vault = en_vault_new (dir, &error);
    assert (vault);
    sealed = en_vault_seal (vault, "Zoë van der Fictief");
    s_text ("vault", "sealed-v2", sealed);
    free (sealed);
    sealed = en_vault_seal (vault, "");
    s_text ("vault", "sealed-empty", sealed);
    free (sealed);
    en_vault_destroy (&vault);
    s_text ("vault", "no-key", "v9:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    s_text ("vault", "bad-base64", "v1:!!!!");
    s_text ("vault", "client-id", "1112 22 333");
    fuzz_vault_keys_remove (dir);
}

//  fuzz_router: messages to the broker in threes [who] [command] [body],
//  against the store fuzz_router.c starts with (its ids: twente-0001
//  offered, -0002 accepted, -0003 a team, -0004 closed, -0005 a
//  moreel-beraad accepted). Times are in 2027: a REVIEW or BERAAD seed
//  is refused as past once that is, and still seeds the refusal. who: 0
//  node-twente, 1 node-ijsselland, 2 the peer broker, 3 a clock tick;
//  +4 the previous message again; +8 the body is a node's message that
//  the harness signs and the sender carries in a FORWARD (":" is 2 + 8).
static void
s_router_seed (const char *name, const char *const *triples)
{
    zmsg_t *msg = zmsg_new ();
    for (int i = 0; triples [i]; i += 3) {
        byte who = (byte) (triples [i][0] - '0');
        zmsg_addmem (msg, &who, 1);
        zmsg_addstr (msg, triples [i + 1]);
        zmsg_addstr (msg, triples [i + 2]);
    }
    s_frames ("router", name, -1, msg);
    zmsg_destroy (&msg);
}

#define R_TEAM_KEY "1111111111111111111111111111111111111111111111111111111111111111"
#define R_SEALED   "U0VBTEVES0VZLW1hcmtlcg=="
#define R_BOX      "RU5DUllQVEVEVEVYVC1tYXJrZXI="

static void
s_router_corpus (void)
{
    static const char *submit [] = {
        "0", "SUBMIT", "{\"request\":{\"id\":\"twente-0100\",\"region\":\"twente\",\"urgency\":\"crisis\","
        "\"question_type\":\"consultatie-advies\",\"expertise\":[\"trauma\"],\"age_band\":\"12-17\"},"
        "\"team_key\":\"" R_TEAM_KEY "\"}",
        "4", "", "", NULL };
    static const char *team [] = {
        "0", "SUBMIT", "{\"request\":{\"id\":\"twente-0101\",\"region\":\"twente\",\"urgency\":\"hoog\","
        "\"question_type\":\"consultatie-advies\",\"expertise\":[\"trauma\",\"lvb\"],\"age_band\":\"4-11\","
        "\"places\":[{\"role\":\"superexpert\",\"expertise\":[\"trauma\"]},{\"role\":\"procesregisseur\"}]},"
        "\"team_key\":\"" R_TEAM_KEY "\"}",
        "1", "ACCEPT", "{\"offer\":\"twente-0101-o1\"}",
        "1", "DECLINE", "{\"offer\":\"twente-0101-o2\",\"reason\":\"geen ruimte\"}", NULL };
    static const char *answers [] = {
        "1", "ACCEPT", "{\"offer\":\"twente-0001-o1\"}",
        "1", "ADVICE", "{\"offer\":\"twente-0002-o1\",\"text\":\"Start met een gezamenlijk plan.\"}",
        "0", "CLOSE", "{\"request\":\"twente-0002\",\"outcome\":\"opgelost\"}", NULL };
    static const char *decline [] = {
        "1", "DECLINE", "{\"offer\":\"twente-0001-o1\",\"reason\":\"vol\"}",
        "3", "", "",
        "0", "CLOSE", "{\"request\":\"twente-0001\"}", NULL };
    static const char *convo [] = {
        "0", "MESSAGE", "{\"request\":\"twente-0003\",\"from\":\"team\",\"kind\":\"message\",\"box\":\"" R_BOX "\","
        "\"sealed\":{\"team\":\"" R_SEALED "\",\"se-a\":\"" R_SEALED "\"}}",
        "1", "RECEIPT", "{\"request\":\"twente-0003\",\"seq\":1,\"reader\":\"se-a\"}",
        "1", "MESSAGE", "{\"request\":\"twente-0003\",\"from\":\"se-a\",\"kind\":\"advice\",\"box\":\"" R_BOX "\","
        "\"sealed\":{\"team\":\"" R_SEALED "\",\"se-a\":\"" R_SEALED "\"}}", NULL };
    static const char *sealed [] = {
        "0", "DOSSIER", "{\"request\":\"twente-0002\",\"sealed\":\"" R_SEALED "\"}",
        "0", "REPLY", "{\"request\":\"twente-0002\",\"sealed\":\"" R_SEALED "\"}", NULL };
    static const char *followup [] = {
        "0", "REVIEW", "{\"request\":\"twente-0002\",\"review_at\":1800000000000}",
        "0", "BERAAD", "{\"action\":\"propose\",\"request\":\"twente-0005\",\"times\":[1800000000000,1800086400000]}",
        "1", "BERAAD", "{\"action\":\"answer\",\"offer\":\"twente-0005-o1\",\"available\":[1800000000000]}",
        "0", "BERAAD", "{\"action\":\"fix\",\"request\":\"twente-0005\",\"at\":1800000000000}", NULL };
    static const char *published [] = {
        "1", "AVAILABILITY", "{\"experts\":[{\"id\":\"se-a\",\"region\":\"ijsselland\",\"role\":\"superexpert\","
        "\"capacity\":0,\"expertise\":[\"trauma\"]}]}",
        "0", "SUMMARY", "{\"case\":\"p1-0123456789abcdef0123456789abcdef\",\"region\":\"twente\",\"summary\":{},\"phases\":{}}",
        "0", "ANCHOR", "{\"seq\":3,\"hash\":\"" R_TEAM_KEY "\",\"at\":1764633600000}", NULL };
    static const char *peer [] = {
        "2", "STATUS", "{\"request\":\"twente-0001\",\"state\":\"accepted\",\"event\":\"accepted\",\"at\":1764633600000}",
        "2", "RECALL", "{\"request\":\"twente-0001\"}",
        "2", "FORWARD", "{\"message\":{\"command\":\"SUBMIT\"},\"sign_key\":\"" R_TEAM_KEY "\",\"visited\":[\"utrecht\"]}",
        "2", "MEMBERS", "{\"request\":\"twente-0003\",\"members\":[{\"who\":\"team\",\"box_key\":\"" R_TEAM_KEY "\"}]}",
        NULL };
    //  A Gelderland node's SUBMIT, signed by the harness, carried in a
    //  FORWARD from the peer; then the peer recalls it
    static const char *federation [] = {
        ":", "SUBMIT", "{\"request\":{\"id\":\"achterhoek-0001\",\"region\":\"achterhoek\","
        "\"urgency\":\"hoog\",\"question_type\":\"consultatie-advies\",\"expertise\":[\"trauma\"],"
        "\"age_band\":\"12-17\"}}",
        "2", "RECALL", "{\"request\":\"achterhoek-0001\"}", NULL };
    s_router_seed ("forward-recall", federation);
    s_router_seed ("submit-resend", submit);
    s_router_seed ("team", team);
    s_router_seed ("answers", answers);
    s_router_seed ("decline-tick-close", decline);
    s_router_seed ("conversation", convo);
    s_router_seed ("sealed", sealed);
    s_router_seed ("followup", followup);
    s_router_seed ("published", published);
    s_router_seed ("peer", peer);
}

//  fuzz_node: messages from the broker in pairs [command] [body], against
//  the store fuzz_node.c starts with (experts se-t and pr-t; requests
//  twente-0001 and twente-0002, a team's moreel-beraad).
static void
s_node_seed (const char *name, const char *const *pairs)
{
    zmsg_t *msg = zmsg_new ();
    for (int i = 0; pairs [i]; i += 2) {
        zmsg_addstr (msg, pairs [i]);
        zmsg_addstr (msg, pairs [i + 1]);
    }
    s_frames ("node", name, -1, msg);
    zmsg_destroy (&msg);
}

#define N_SUMMARY "{\"id\":\"twente-0009\",\"region\":\"ijsselland\",\"urgency\":\"crisis\"," \
                  "\"question_type\":\"consultatie-advies\",\"expertise\":[\"trauma\"],\"age_band\":\"12-17\"}"

static void
s_node_corpus (void)
{
    static const char *offer [] = {
        "OFFER", "{\"offer\":\"twente-0009-o1\",\"request_id\":\"twente-0009\",\"expert\":\"se-t\",\"kind\":\"offer\","
        "\"deadline\":1800000000000,\"request\":" N_SUMMARY "}",
        "DOSSIER", "{\"request\":\"twente-0009\",\"expert\":\"se-t\",\"sealed\":\"" R_SEALED "\"}",
        "WITHDRAW", "{\"offer\":\"twente-0009-o1\",\"request_id\":\"twente-0009\",\"expert\":\"se-t\",\"reason\":\"expired\"}",
        NULL };
    static const char *status [] = {
        "STATUS", "{\"request\":\"twente-0001\",\"state\":\"offered\",\"event\":\"offered\",\"at\":1764633600000,"
        "\"offer\":\"twente-0001-o1\",\"deadline\":1800000000000}",
        "STATUS", "{\"request\":\"twente-0001\",\"state\":\"accepted\",\"event\":\"accepted\",\"at\":1764633600000,"
        "\"expert\":\"se-a\",\"box_key\":\"" R_TEAM_KEY "\"}",
        "STATUS", "{\"request\":\"twente-0001\",\"state\":\"advice\",\"event\":\"advice\",\"at\":1764633600000,"
        "\"expert\":\"se-a\",\"advice\":\"Start met een gezamenlijk plan.\"}",
        "REPLY", "{\"request\":\"twente-0001\",\"expert\":\"se-a\",\"sealed\":\"" R_SEALED "\"}",
        "STATUS", "{\"request\":\"twente-0001\",\"state\":\"hiaat\",\"event\":\"hiaat\",\"at\":1764633600000,"
        "\"detail\":\"no expert available\"}", NULL };
    static const char *convo [] = {
        "MEMBERS", "{\"request\":\"twente-0002\",\"members\":[{\"who\":\"team\",\"box_key\":\"" R_TEAM_KEY "\"},"
        "{\"who\":\"se-a\",\"box_key\":\"" R_TEAM_KEY "\"}],\"at\":1764633600000}",
        "MESSAGE", "{\"request\":\"twente-0002\",\"from\":\"se-a\",\"kind\":\"message\",\"box\":\"" R_BOX "\","
        "\"sealed\":{\"team\":\"" R_SEALED "\",\"se-a\":\"" R_SEALED "\"},\"seq\":1,\"at\":1764633600000}",
        "RECEIPT", "{\"request\":\"twente-0002\",\"seq\":1,\"reader\":\"se-a\",\"at\":1764633600000}", NULL };
    static const char *followup [] = {
        "REMIND", "{\"offer\":\"twente-0009-o1\",\"request_id\":\"twente-0009\",\"expert\":\"se-t\","
        "\"review_at\":1800000000000}",
        "BERAAD", "{\"action\":\"propose\",\"request\":\"twente-0002\",\"offer\":\"twente-0002-o1\",\"expert\":\"se-t\","
        "\"times\":[1800000000000,1800086400000]}",
        "BERAAD", "{\"action\":\"fix\",\"request\":\"twente-0002\",\"at\":1800000000000}", NULL };
    s_node_seed ("offer", offer);
    s_node_seed ("status", status);
    s_node_seed ("conversation", convo);
    s_node_seed ("followup", followup);
    //  A BATCH carries each message's body as its text
    json_t *entries = json_pack ("[{s:s, s:s, s:I, s:s}, {s:s, s:s, s:I, s:s}]",
        "command", "OFFER", "id", "0123456789abcdef0123456789abcdef", "timestamp", (json_int_t) 1764633600000,
        "body", "{\"offer\":\"twente-0009-o1\",\"request_id\":\"twente-0009\",\"expert\":\"pr-t\","
                "\"kind\":\"escalation\",\"deadline\":1800000000000,\"request\":" N_SUMMARY "}",
        "command", "STATUS", "id", "fedcba9876543210fedcba9876543210", "timestamp", (json_int_t) 1764633600000,
        "body", "{\"request\":\"twente-0001\",\"state\":\"closed\",\"event\":\"closed\",\"at\":1764633600000}");
    json_t *body = json_pack ("{s:o}", "messages", entries);
    char *text = json_dumps (body, JSON_COMPACT);
    const char *batch [] = { "BATCH", text, NULL };
    s_node_seed ("batch", batch);
    free (text);
    json_decref (body);
}

int
main (int argc, char *argv [])
{
    zsys_init ();
    if (sodium_init () < 0)
        return 1;
    s_root = argc > 1 ? argv [1] : "tests/fuzz/corpus";
    s_msg_corpus ();
    s_vocab_corpus ();
    s_control_corpus ();
    s_pii_corpus ();
    s_report_corpus ();
    s_config_corpus ();
    s_vault_corpus ();
    s_router_corpus ();
    s_node_corpus ();
    printf ("seed corpora written to %s\n", s_root);
    return 0;
}
