/*  pii_corpus - a generated test corpus for the PII guard (en_pii).

    Deterministic (a fixed seed and our own PRNG, not rand ()), so every
    run and every machine sees the same sentences and the figures in
    docs/privacy-pii.md can be reproduced. Everything is synthetic: BSNs
    and IBANs are random numbers made to pass their checks, postcodes
    and phone numbers are random, names come from the invented client
    list below. None of it belongs to a real person except by chance.

    Positives embed one kind of personal data in a Dutch youth-care
    sentence, PII_CORPUS_PER_KIND per kind in the formats the guard must
    recognise (with separators, copy-paste look-alikes such as no-break
    spaces and en dashes, accents). Negatives are ordinary youth-care text
    full of numbers that are not personal data: ages, counts, amounts,
    times, day-and-month dates, years, article and version numbers,
    9-digit numbers that fail the 11-proef, KvK and AGB numbers, years
    followed by abbreviations, words that contain a client's name.

    A few samples are marked hard: forms beyond what the issue lists
    (lowercase postcodes, spelled-out e-mail addresses, English dates,
    streets without a suffix, diminutives of names) and text that is not
    personal data but which the guard refuses by design (a date with a
    year and no event word before it, an organisation's phone number) or
    by chance (an unlabelled 8-digit number passing the 11-proef). The test
    reports figures with and without them.

    This file is #included by test_pii.c (it is not a test_*.c, so the
    Makefile does not build it on its own). To read the corpus:

        cc -DPII_CORPUS_MAIN -o /tmp/pii_corpus tests/unit/pii_corpus.c
        /tmp/pii_corpus | less          # kind <TAB> sentence, one a line

    The corpus is written by the same hand as the guard's rules, so its
    figures measure how completely the rules cover the formats listed
    here and catch regressions; they are not a measure of precision on
    real case texts (see docs/privacy-pii.md).
*/
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PII_CORPUS_SEED         0x5EED2026u
#define PII_CORPUS_PER_KIND     220
#define PII_CORPUS_NEGATIVES    3000
#define PII_CORPUS_TEXT         400

typedef struct {
    char text [PII_CORPUS_TEXT];     //  the sentence
    const char *kind;                //  expected kind, NULL for a negative
    int hard;                        //  a known hard case (see below)
    int category;                    //  index in pii_kinds, -1 for a negative
} pii_sample_t;

typedef struct {
    uint64_t state;
} pii_rng_t;

//  The node's (invented) client names, as the test loads them.
static const char *pii_corpus_names [] = {
    "Daan", "Sem", "Noor", "Lotte", "Zoë", "Chloé", "Inès", "Joël", "Thijs",
    "Mila", "Finn", "Ayşe", "Mohammed", "Fatima", "Søren", "Eva", "Jan",
    "Bram", "Yara", "Liam", "de Vries", "Jansen", "El Amrani", "Yılmaz",
    "Öztürk", "Kowalski", "Nguyen", "van den Berg", "Hendriks",
    "Daan de Vries", "Noor El Amrani", "Ayşe Yılmaz", "Anne-Marie", NULL };

//  How the same names may appear in a text: other case, accents dropped
//  or decomposed (e + U+0301), a possessive.
static const char *pii_corpus_name_forms [] = {
    "Daan", "daan", "DAAN", "Sem", "Noor", "noor", "Noor's", "Lotte",
    "Zoë", "Zoe", "zoe", "Zoe\xcc\x88", "Chloé", "Chloe", "Inès", "Ines",
    "Joël", "Joel", "Thijs", "Mila", "Finn", "Ayşe", "Ayse", "Mohammed",
    "Fatima", "Søren", "Soren", "Eva", "Jan", "Bram", "Yara", "Liam",
    "De Vries", "de vries", "Jansen", "JANSEN", "El Amrani", "el amrani",
    "Yılmaz", "Yilmaz", "Öztürk", "Ozturk", "Kowalski", "Nguyen",
    "Van den Berg", "van den berg", "Hendriks", "Daan de Vries",
    "Noor  El Amrani", "Ayse Yilmaz", "Anne-Marie", "anne-marie" };

static uint32_t
pii_rand (pii_rng_t *rng)
{
    //  splitmix64
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (uint32_t) ((z ^ (z >> 31)) >> 32);
}

//  Uniform in lo..hi inclusive.
static int
pii_range (pii_rng_t *rng, int lo, int hi)
{
    return lo + (int) (pii_rand (rng) % (uint32_t) (hi - lo + 1));
}

#define PII_PICK(rng, array) \
    (array [pii_rand (rng) % (sizeof (array) / sizeof (array [0]))])

static const char *pii_months [] = {
    "januari", "februari", "maart", "april", "mei", "juni", "juli",
    "augustus", "september", "oktober", "november", "december" };
static const char *pii_months_short [] = {
    "jan.", "feb.", "mrt.", "apr.", "mei", "jun.", "jul.", "aug.", "sep.",
    "okt.", "nov.", "dec." };


//  ---------------------------------------------------------------------
//  The personal data

//  9 BSN digits passing the 11-proef; first digit 0 when leading_zero.
static void
pii_bsn_digits (pii_rng_t *rng, char digits [10], int leading_zero)
{
    while (1) {
        int sum = 0, zero = 1;
        for (int k = 0; k < 8; k++) {
            int d = (k == 0 && leading_zero)? 0: pii_range (rng, 0, 9);
            if (k == 0 && !leading_zero && d == 0)
                d = 1;
            digits [k] = (char) ('0' + d);
            sum += (9 - k) * d;
            zero = zero && d == 0;
        }
        int check = sum % 11;
        if (check < 10 && !zero) {
            digits [8] = (char) ('0' + check);
            digits [9] = 0;
            return;
        }
    }
}

static int
pii_bsn (pii_rng_t *rng, char *out, size_t size)
{
    char d [10];
    int form = pii_range (rng, 0, 7);
    pii_bsn_digits (rng, d, form == 6);
    switch (form) {
        case 0: case 1:
            snprintf (out, size, "%s", d); break;
        case 2:
            snprintf (out, size, "%.3s %.3s %.3s", d, d + 3, d + 6); break;
        case 3:
            snprintf (out, size, "%.3s.%.3s.%.3s", d, d + 3, d + 6); break;
        case 4:
            snprintf (out, size, "%.4s.%.2s.%.3s", d, d + 4, d + 6); break;
        case 5:
            snprintf (out, size, "%.3s-%.3s-%.3s", d, d + 3, d + 6); break;
        case 6:     //  old 8-digit form: the leading zero dropped
            snprintf (out, size, "%s", d + 1); break;
        default:    //  a zero-width space pasted in the middle
            snprintf (out, size, "%.4s\xe2\x80\x8b%s", d, d + 4); break;
    }
    return 0;
}

static const char *pii_bsn_templates [] = {
    "Jongere met BSN %s is aangemeld bij het expertteam.",
    "Dossier %s betreft een meisje van 14 met trauma en schooluitval.",
    "Zie registratie %s voor de eerdere jeugdhulp.",
    "%s: moeder overbelast, vader uit beeld.",
    "Burgerservicenummer: %s, kader gedwongen.",
    "De GI vraagt om afstemming over cliënt %s en de OTS.",
    "Aanmelding (%s) via het wijkteam, crisis dreigt.",
    "Bij de aanvraag PGB is nummer %s gebruikt.",
};

//  A full date, or a cue word with a date in any form.
static int
pii_date (pii_rng_t *rng, char *out, size_t size)
{
    static const char *english [] = { "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December" };
    int day = pii_range (rng, 1, 28), month = pii_range (rng, 1, 12);
    int year = pii_range (rng, 1960, 2025);
    if (pii_range (rng, 0, 29) == 0) {          //  hard: English order
        snprintf (out, size, "%s %d, %d", english [month - 1], day, year);
        return 1;
    }
    switch (pii_range (rng, 0, 14)) {
        case 0: snprintf (out, size, "%02d-%02d-%d", day, month, year); break;
        case 1: snprintf (out, size, "%d-%d-%d", day, month, year); break;
        case 2: snprintf (out, size, "%02d/%02d/%d", day, month, year); break;
        case 3: snprintf (out, size, "%02d/%02d/%02d", day, month, year % 100); break;
        case 4: snprintf (out, size, "%02d.%02d.%d", day, month, year); break;
        case 5: snprintf (out, size, "%d-%02d-%02d", year, month, day); break;
        case 6: snprintf (out, size, "%d %s %d", day, pii_months [month - 1], year); break;
        case 7: snprintf (out, size, "%d %s %d", day, pii_months_short [month - 1], year); break;
        case 8: snprintf (out, size, "geboren op %02d-%02d", day, month); break;
        case 9: snprintf (out, size, "geb. %d %s", day, pii_months [month - 1]); break;
        case 10: snprintf (out, size, "geboortedatum: %d/%d", day, month); break;
        case 11: snprintf (out, size, "jarig op %d %s", day, pii_months [month - 1]); break;
        case 12: snprintf (out, size, "geboren in %s %d", pii_months [month - 1], year); break;
        case 13: snprintf (out, size, "op %02d-%02d-%d geboren", day, month, year); break;
        default: snprintf (out, size, "geboren in %d", year); break;
    }
    return 0;
}

static const char *pii_date_templates [] = {
    "Betreft jongere %s, zie dossier.",
    "Moeder (%s) is overbelast en heeft zelf een GGZ-verleden.",
    "Intake gedaan voor meisje, %s, met LVB.",
    "Gegevens: jongen, %s, regio Twente.",
    "Kind %s is sinds de zomer in crisisopvang.",
    "Vader, %s, heeft een verslaving en is uit beeld.",
    "Aanmelding jongere (%s) door de huisarts.",
};

static int
pii_postcode (pii_rng_t *rng, char *out, size_t size)
{
    char a, b;
    do {
        a = (char) ('A' + pii_range (rng, 0, 25));
        b = (char) ('A' + pii_range (rng, 0, 25));
    } while (a == 'S' && (b == 'A' || b == 'D' || b == 'S'));
    int form = pii_range (rng, 0, 3);
    int hard = pii_range (rng, 0, 24) == 0;     //  hard: lowercase letters
    if (hard) {
        a = (char) (a - 'A' + 'a');
        b = (char) (b - 'A' + 'a');
    }
    snprintf (out, size, form == 3? "%d%c%c": "%d %c%c", pii_range (rng, 1000, 9999), a, b);
    return hard;
}

static const char *pii_postcode_templates [] = {
    "Gezin woont in %s Enschede en heeft schulden.",
    "Adresgegevens: %s Deventer.",
    "Jongere verblijft bij oma (%s).",
    "Postcode %s valt net buiten de regio.",
    "Moeder is verhuisd naar %s, school is nog niet bekend.",
    "Het gezinshuis ligt in %s Zwolle, dicht bij de school.",
};

static int
pii_phone (pii_rng_t *rng, char *out, size_t size)
{
    int a = pii_range (rng, 10000000, 99999999);
    int area = PII_PICK (rng, ((int []) { 20, 10, 30, 40, 50, 53, 38, 55, 74, 26, 70 }));
    int local = pii_range (rng, 1000000, 9999999);
    switch (pii_range (rng, 0, 15)) {
        case 0: snprintf (out, size, "06-%d", a); break;
        case 1: snprintf (out, size, "06 %04d %04d", a / 10000, a % 10000); break;
        case 2: snprintf (out, size, "06%d", a); break;
        case 3: snprintf (out, size, "+31 6 %d", a); break;
        case 4: snprintf (out, size, "+316%d", a); break;
        case 5: snprintf (out, size, "0031 6 %d", a); break;
        case 6: snprintf (out, size, "+31 (0)6 %d", a); break;
        case 7: snprintf (out, size, "0%d-%d", area, local); break;
        case 8: snprintf (out, size, "(0%d) %03d %04d", area, local / 10000, local % 10000); break;
        case 9: snprintf (out, size, "0%d %03d %02d %02d", area, local / 10000, local / 100 % 100, local % 100); break;
        case 10: snprintf (out, size, "0800-%04d", a % 10000); break;
        case 11: snprintf (out, size, "0900-%d", local); break;
        case 12: snprintf (out, size, "+32 470 %02d %02d %02d", a % 100, a / 100 % 100, a / 10000 % 100); break;
        case 13: snprintf (out, size, "06\xc2\xa0%d", a); break;                //  no-break space
        case 14: snprintf (out, size, "06\xe2\x80\x93%d", a); break;            //  en dash
        default: snprintf (out, size, "06 - %02d %02d %02d %02d", a / 1000000, a / 10000 % 100, a / 100 % 100, a % 100); break;
    }
    return 0;
}

static const char *pii_phone_templates [] = {
    "Moeder is bereikbaar op %s.",
    "Bel de voogd via %s voor overleg over de plaatsing.",
    "Contact: %s (vader).",
    "Graag terugbellen op %s na 17:00 uur.",
    "De jongere belt vaak vanaf %s naar de crisisdienst.",
    "Oma wil meedenken, tel. %s.",
};

static int
pii_email (pii_rng_t *rng, char *out, size_t size)
{
    static const char *first [] = { "sanne", "k", "m.bos", "j", "pietje", "mam", "gezin", "r.de.wit", "family", "x" };
    static const char *second [] = { "jager", "vos", "meerman", "kool", "sterk", "berendsen", "tuin", "plas" };
    static const char *domain [] = { "gmail.com", "hotmail.com", "outlook.com", "ziggo.nl", "kpnmail.nl", "live.nl", "planet.nl", "home.nl", "zorgaanbieder-oost.nl", "school.nl" };
    const char *at = pii_range (rng, 0, 9) == 0? " (at) ": "@";
    if (pii_range (rng, 0, 24) == 0) {         //  hard: spelled out
        snprintf (out, size, "%s.%s at %s dot nl", PII_PICK (rng, first), PII_PICK (rng, second),
                  PII_PICK (rng, ((const char *[]) { "ziggo", "kpnmail", "live", "home" })));
        return 1;
    }
    switch (pii_range (rng, 0, 3)) {
        case 0: snprintf (out, size, "%s.%s%s%s", PII_PICK (rng, first), PII_PICK (rng, second), at, PII_PICK (rng, domain)); break;
        case 1: snprintf (out, size, "%s%d%s%s", PII_PICK (rng, second), pii_range (rng, 1, 99), at, PII_PICK (rng, domain)); break;
        case 2: snprintf (out, size, "%s_%s%s%s", PII_PICK (rng, first), PII_PICK (rng, second), at, PII_PICK (rng, domain)); break;
        default: snprintf (out, size, "%s+jeugd%s%s", PII_PICK (rng, second), at, PII_PICK (rng, domain)); break;
    }
    return 0;
}

static const char *pii_email_templates [] = {
    "Moeder mailt vanaf %s met vragen over de plaatsing.",
    "Stuur het plan naar %s.",
    "Contact via e-mail: %s",
    "De mentor (%s) wil aansluiten bij het overleg.",
    "Vader gebruikt %s, reageert wisselend.",
};

//  An IBAN: country, check digits, account; check digits computed.
static unsigned
pii_mod97 (const char *s)
{
    unsigned r = 0;
    for (; *s; s++)
        if (*s >= '0' && *s <= '9')
            r = (r * 10 + (unsigned) (*s - '0')) % 97;
        else
            r = (r * 100 + (unsigned) (*s - 'A' + 10)) % 97;
    return r;
}

static int
pii_iban (pii_rng_t *rng, char *out, size_t size)
{
    static const char *banks [] = { "ABNA", "INGB", "RABO", "TRIO", "SNSB", "ASNB", "KNAB", "BUNQ" };
    char bban [32], country [3];
    int kind = pii_range (rng, 0, 9);
    if (kind < 7) {
        snprintf (country, sizeof country, "NL");
        snprintf (bban, sizeof bban, "%s%05d%05d", PII_PICK (rng, banks),
                  pii_range (rng, 0, 99999), pii_range (rng, 0, 99999));
    }
    else
    if (kind < 9) {
        snprintf (country, sizeof country, "BE");
        snprintf (bban, sizeof bban, "%06d%06d", pii_range (rng, 0, 999999), pii_range (rng, 0, 999999));
    }
    else {
        snprintf (country, sizeof country, "DE");
        snprintf (bban, sizeof bban, "%06d%06d%06d", pii_range (rng, 0, 999999),
                  pii_range (rng, 0, 999999), pii_range (rng, 0, 999999));
    }
    char check [64];
    snprintf (check, sizeof check, "%s%c%c00", bban, country [0], country [1]);
    //  country letters as numbers: pii_mod97 handles letters
    char iban [40];
    snprintf (iban, sizeof iban, "%s%02u%s", country, 98 - pii_mod97 (check), bban);
    int form = pii_range (rng, 0, 3);
    if (form == 0)
        snprintf (out, size, "%s", iban);
    else
    if (form == 1) {                            //  lowercase
        size_t k;
        for (k = 0; iban [k] && k < size - 1; k++)
            out [k] = (char) (iban [k] >= 'A' && iban [k] <= 'Z'? iban [k] - 'A' + 'a': iban [k]);
        out [k] = 0;
    }
    else {                                      //  groups of four
        size_t o = 0;
        for (size_t k = 0; iban [k] && o < size - 2; k++) {
            if (k && k % 4 == 0)
                out [o++] = ' ';
            out [o++] = iban [k];
        }
        out [o] = 0;
    }
    return 0;
}

static const char *pii_iban_templates [] = {
    "Bewindvoerder maakt het leefgeld over naar %s.",
    "Rekeningnummer moeder: %s.",
    "De toeslag wordt gestort op %s, vader heeft geen inzicht.",
    "Overbruggingsfinanciering graag naar rekening %s van de ouders.",
    "PGB-budget komt binnen op %s",
};

static int
pii_address (pii_rng_t *rng, char *out, size_t size)
{
    static const char *stems [] = {
        "Kerk", "Dorps", "Molen", "School", "Hengelose", "Oldenzaalse",
        "Deventer", "Zwolse", "Berg", "Beuken", "Eiken", "Lindeboom",
        "Wilhelmina", "Juliana", "Oranje", "Prins Hendrik", "Burgemeester van Roijen",
        "Sint-Jans", "Van Heek", "Oude", "Nieuwe", "Hoog", "Brug", "Haven" };
    static const char *suffixes [] = {
        "straat", "laan", "weg", "plein", "gracht", "kade", "singel", "dijk",
        "pad", "steeg", "hof", "dreef", "park", "baan", "markt", "wal" };
    static const char *additions [] = { "", "", "", "a", "B", "-2", "-II", " bis", " hs", "-1" };
    const char *stem = PII_PICK (rng, stems);
    const char *suffix = PII_PICK (rng, suffixes);
    int number = pii_range (rng, 1, 250);
    const char *addition = PII_PICK (rng, additions);
    if (pii_range (rng, 0, 19) == 0) {          //  hard: a street without a suffix
        static const char *plain [] = { "Brink", "Boddenkamp", "Rietveld", "Esrand",
                                        "Hogeland", "Oosterbrink", "Veldkamp", "Zuiderval" };
        snprintf (out, size, "%s %d%s", PII_PICK (rng, plain), number, addition);
        return 1;
    }
    if (strcmp (stem, "Oude") == 0 || strcmp (stem, "Nieuwe") == 0)
        //  "Oude Markt 3"
        snprintf (out, size, "%s %c%s %d%s", stem, (char) (suffix [0] - 'a' + 'A'),
                  suffix + 1, number, addition);
    else
        snprintf (out, size, "%s%s %d%s", stem, suffix, number, addition);
    return 0;
}

static const char *pii_address_templates [] = {
    "Gezin woont aan de %s in Hengelo.",
    "Jongere verblijft bij tante op de %s.",
    "Huisbezoek gepland op de %s, moeder is akkoord.",
    "Adres: %s, Enschede.",
    "Vader is verhuisd naar de %s en ziet de kinderen weinig.",
    "Het gezin is bekend op %s bij de wijkagent.",
};

static int
pii_name (pii_rng_t *rng, char *out, size_t size)
{
    if (pii_range (rng, 0, 19) == 0) {          //  hard: a diminutive, not on the list
        static const char *diminutives [] = { "Daantje", "Noortje", "Semmie", "Evaatje", "Bramje", "Lotje" };
        snprintf (out, size, "%s", PII_PICK (rng, diminutives));
        return 1;
    }
    snprintf (out, size, "%s", PII_PICK (rng, pii_corpus_name_forms));
    return 0;
}

static const char *pii_name_templates [] = {
    "Gesprek met %s en moeder op school.",
    "%s is sinds de zomer weer thuis.",
    "Vader van %s wil meer betrokken worden.",
    "In overleg met %s is besloten de plaatsing te verlengen.",
    "De mentor ziet dat %s zich terugtrekt in de klas.",
    "Crisisplaatsing voor %s, de GI is betrokken.",
    "Zus van %s woont in een gezinshuis.",
};


//  ---------------------------------------------------------------------
//  What youth-care text identifies people by beyond the eight kinds
//  (issue 10, item 6): case numbers, social media, school and class,
//  relatives' names, initials with a birth year, BSN and phone numbers
//  in words or with O for zero, house numbers in words. All invented.

static const char *pii_digit_words [] = {
    "nul", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen" };
static const char *pii_teen_words [] = {
    "tien", "elf", "twaalf", "dertien", "veertien", "vijftien", "zestien", "zeventien",
    "achttien", "negentien" };
static const char *pii_ten_words [] = {
    "", "", "twintig", "dertig", "veertig", "vijftig", "zestig", "zeventig", "tachtig", "negentig" };

//  A number 0..999 in Dutch words into out ("drieëntwintig", "honderdvijftien").
static void
pii_number_words (int n, char *out, size_t size)
{
    char rest [64] = "";
    int r = n % 100;
    if (r < 10)
        snprintf (rest, sizeof rest, "%s", n >= 100 && r == 0 ? "" : pii_digit_words [r]);
    else
    if (r < 20)
        snprintf (rest, sizeof rest, "%s", pii_teen_words [r - 10]);
    else
    if (r % 10 == 0)
        snprintf (rest, sizeof rest, "%s", pii_ten_words [r / 10]);
    else {
        //  "ën" after a word ending in e: tweeëntwintig, drieëntwintig
        const char *unit = pii_digit_words [r % 10];
        const char *en = unit [strlen (unit) - 1] == 'e' ? "\xc3\xab" "n" : "en";
        snprintf (rest, sizeof rest, "%s%s%s", unit, en, pii_ten_words [r / 10]);
    }
    if (n >= 100)
        snprintf (out, size, "%shonderd%s", n >= 200 ? pii_digit_words [n / 100] : "", rest);
    else
        snprintf (out, size, "%s", rest);
}

//  Digits read aloud and typed: one word per digit, or pairs ("twaalf"),
//  a pair starting with 0 as two words; separated by spaces or dashes.
static void
pii_digits_in_words (pii_rng_t *rng, const char *digits, char *out, size_t size)
{
    int pairs = pii_range (rng, 0, 1);
    const char *sep = pii_range (rng, 0, 3) == 0 ? "-" : " ";
    size_t o = 0;
    out [0] = 0;
    for (size_t k = 0; digits [k]; ) {
        char word [64];
        if (pairs && digits [k + 1] && digits [k] != '0') {
            pii_number_words ((digits [k] - '0') * 10 + digits [k + 1] - '0', word, sizeof word);
            k += 2;
        }
        else
            snprintf (word, sizeof word, "%s", pii_digit_words [digits [k++] - '0']);
        o += (size_t) snprintf (out + o, size - o, "%s%s", o ? sep : "", word);
        if (o >= size)
            break;
    }
}

//  Letter O for every zero; 0 when there is no zero to replace.
static int
pii_o_for_zero (const char *digits, char *out, size_t size)
{
    int zeros = 0;
    size_t k;
    for (k = 0; digits [k] && k < size - 1; k++) {
        out [k] = digits [k] == '0' ? 'O' : digits [k];
        zeros += digits [k] == '0';
    }
    out [k] = 0;
    return zeros;
}

static int
pii_bsn_spelled (pii_rng_t *rng, char *out, size_t size)
{
    char d [10];
    pii_bsn_digits (rng, d, 0);
    char o [16];
    if (pii_range (rng, 0, 2) == 0 && pii_o_for_zero (d, o, sizeof o))
        snprintf (out, size, "%s", o);
    else
        pii_digits_in_words (rng, d, out, size);
    return 0;
}

static const char *pii_bsn_spelled_templates [] = {
    "Moeder las het BSN voor: %s.",
    "Burgerservicenummer %s, staat op de beschikking.",
    "Het nummer %s hoort bij de jongere.",
    "Bij de aanmelding noemde vader %s als nummer.",
};

static int
pii_phone_spelled (pii_rng_t *rng, char *out, size_t size)
{
    char d [12];
    snprintf (d, sizeof d, "06%08d", pii_range (rng, 10000000, 99999999));
    if (pii_range (rng, 0, 9) == 0)
        snprintf (d, sizeof d, "053%07d", pii_range (rng, 1000000, 9999999));
    char o [16];
    switch (pii_range (rng, 0, 4)) {
        case 0: case 1:
            pii_digits_in_words (rng, d, out, size); break;
        case 2:
            pii_o_for_zero (d, o, sizeof o);
            snprintf (out, size, "%.2s-%s", o, o + 2); break;
        case 3:
            pii_o_for_zero (d, o, sizeof o);
            snprintf (out, size, "%s", o); break;
        default:
            snprintf (out, size, "nul zes %s", d + 2); break;
    }
    return 0;
}

static const char *pii_phone_spelled_templates [] = {
    "Moeder is bereikbaar op %s.",
    "Bel de voogd via %s.",
    "Zijn nummer is %s, graag na 17 uur.",
    "Oma gaf haar nummer door: %s.",
};

static int
pii_address_spelled (pii_rng_t *rng, char *out, size_t size)
{
    static const char *stems [] = { "Dorps", "Kerk", "Molen", "School", "Beuken", "Linden", "Wilhelmina" };
    static const char *suffixes [] = { "straat", "laan", "weg", "plein", "singel", "dijk", "hof" };
    static const char *labels [] = { " nummer ", " nr. ", " huisnummer ", " " };
    char number [64];
    pii_number_words (pii_range (rng, 2, 180), number, sizeof number);
    snprintf (out, size, "%s%s%s%s", PII_PICK (rng, stems), PII_PICK (rng, suffixes),
              PII_PICK (rng, labels), number);
    return 0;
}

static int
pii_case_number (pii_rng_t *rng, char *out, size_t size)
{
    int court = pii_range (rng, 1, 19), nr = pii_range (rng, 100000, 999999);
    int yy = pii_range (rng, 15, 26), rk = pii_range (rng, 100, 9999);
    switch (pii_range (rng, 0, 13)) {
        case 0: snprintf (out, size, "C/%02d/%d / JE RK %02d-%d", court, nr, yy, rk); break;
        case 1: snprintf (out, size, "C/%02d/%d", court, nr); break;
        case 2: snprintf (out, size, "JE RK %02d-%d", yy, rk); break;
        case 3: snprintf (out, size, "FA RK %02d-%d", yy, rk); break;
        case 4: snprintf (out, size, "zaaknummer %d", nr); break;
        case 5: snprintf (out, size, "rekestnummer %02d-%d", yy, rk); break;
        case 6: snprintf (out, size, "meldingsnummer %d", pii_range (rng, 10000, 9999999)); break;
        case 7: snprintf (out, size, "VT-20%02d-%06d", yy, pii_range (rng, 1, 999999)); break;
        case 8: snprintf (out, size, "parketnummer %02d/%06d-%02d", court, nr, yy); break;
        case 9: snprintf (out, size, "200.%03d.%03d/01", pii_range (rng, 100, 999), pii_range (rng, 0, 999)); break;
        case 10: snprintf (out, size, "kenmerk RvdK %d", pii_range (rng, 10000, 9999999)); break;
        case 11: snprintf (out, size, "Raad voor de Kinderbescherming, zaaknr. 20%02d.%05d", yy, pii_range (rng, 0, 99999)); break;
        case 12: snprintf (out, size, "rolnummer %d", pii_range (rng, 10000, 999999)); break;
        default:    //  hard: a number without a label or a court's format
            snprintf (out, size, "de Raad onder nummer %d", pii_range (rng, 1000000, 9999999));
            return 1;
    }
    return 0;
}

static const char *pii_case_number_templates [] = {
    "De kinderrechter heeft de OTS verlengd, %s.",
    "Verzoek tot uithuisplaatsing (%s) ligt bij de rechtbank.",
    "Zie %s voor het raadsonderzoek.",
    "Veilig Thuis registreerde de melding: %s.",
    "Het raadsrapport, %s, is besproken in het overleg.",
    "Beschikking %s is ontvangen door de GI.",
};

static const char *pii_handle_bases [] = {
    "sanne", "lisa", "mo", "jayden", "noa", "tygo", "fenna", "ilse", "kees", "yasmina" };

static int
pii_social (pii_rng_t *rng, char *out, size_t size)
{
    char handle [64];
    const char *base = PII_PICK (rng, pii_handle_bases);
    switch (pii_range (rng, 0, 3)) {
        case 0: snprintf (handle, sizeof handle, "%s_%d", base, pii_range (rng, 2005, 2015)); break;
        case 1: snprintf (handle, sizeof handle, "%s.%s", base, PII_PICK (rng, ((const char *[]) { "x", "xo", "official", "tw" }))); break;
        case 2: snprintf (handle, sizeof handle, "xx%sxx%d", base, pii_range (rng, 1, 99)); break;
        default: snprintf (handle, sizeof handle, "%s_%s", base, PII_PICK (rng, ((const char *[]) { "053", "tw", "vlog" }))); break;
    }
    switch (pii_range (rng, 0, 10)) {
        case 0: case 1: snprintf (out, size, "@%s", handle); break;
        case 2: snprintf (out, size, "instagram.com/%s", handle); break;
        case 3: snprintf (out, size, "https://www.instagram.com/%s/", handle); break;
        case 4: snprintf (out, size, "tiktok.com/@%s", handle); break;
        case 5: snprintf (out, size, "snapchat: %s", handle); break;
        case 6: snprintf (out, size, "insta @%s", handle); break;
        case 7: snprintf (out, size, "facebook.com/%s", handle); break;
        case 8: snprintf (out, size, "Snap %s", handle); break;
        case 9: snprintf (out, size, "TikTok-account %s", handle); break;
        default:    //  hard: an account name that is only a word
            snprintf (out, size, "op snapchat heet ze %s", base);
            return 1;
    }
    return 0;
}

static const char *pii_social_templates [] = {
    "Jongere is actief op %s en deelt daar veel.",
    "Contact met onbekende volwassenen via %s.",
    "School maakt zich zorgen over de berichten (%s).",
    "Filmpjes geplaatst, %s, politie is ingelicht.",
    "Sexting via %s, de zedenpolitie is betrokken.",
};

static const char *pii_school_names [] = {
    "Regenboog", "Wegwijzer", "Zonnewijzer", "Vlinder", "Klimop", "Kameleon", "Linde", "Sterrenkijker" };
static const char *pii_college_names [] = {
    "Twents Carmel", "Bonhoeffer", "Stedelijk", "Greijdanus", "Ichthus", "Noordik" };
static const char *pii_towns [] = {
    "Hengelo", "Enschede", "Oldenzaal", "Deventer", "Zwolle", "Almelo", "Raalte", "Kampen" };

static int
pii_school (pii_rng_t *rng, char *out, size_t size)
{
    const char *name = PII_PICK (rng, pii_school_names), *college = PII_PICK (rng, pii_college_names);
    const char *town = PII_PICK (rng, pii_towns);
    int group = pii_range (rng, 1, 8), klas = pii_range (rng, 1, 4);
    switch (pii_range (rng, 0, 9)) {
        case 0: snprintf (out, size, "groep %d van De %s", group, name); break;
        case 1: snprintf (out, size, "groep %d van basisschool De %s in %s", group, name, town); break;
        case 2: snprintf (out, size, "klas %d%c van het %s College", klas, 'a' + pii_range (rng, 0, 3), college); break;
        case 3: snprintf (out, size, "klas %d havo op het %s Lyceum", klas, college); break;
        case 4: snprintf (out, size, "basisschool De %s in %s", name, town); break;
        case 5: snprintf (out, size, "obs De %s te %s", name, town); break;
        case 6: snprintf (out, size, "het %s College in %s", college, town); break;
        case 7: snprintf (out, size, "de brugklas van het %s College", college); break;
        case 8: snprintf (out, size, "groep %d op de %s", group, name); break;
        default:    //  hard: the school alone, without class or town
            snprintf (out, size, "De %s", name);
            return 1;
    }
    return 0;
}

static const char *pii_school_templates [] = {
    "Jongere zit in %s en verzuimt veel.",
    "Sinds de zomer naar %s, daar gaat het beter.",
    "Leerplicht is betrokken, %s.",
    "Gesprek met de intern begeleider van %s over passend onderwijs.",
};

static int
pii_initials (pii_rng_t *rng, char *out, size_t size)
{
    static const char letters [] = "ADFHJLMRSWY";
    static const char *abbreviations [] = { "JR", "FA", "HR", "ASS", "DSM", "JA", "RSW" };
    char initials [4];
    int count = pii_range (rng, 1, 3);
    while (true) {
        for (int k = 0; k < count; k++)
            initials [k] = letters [pii_rand (rng) % (sizeof letters - 1)];
        initials [count] = 0;
        bool listed = false;
        for (size_t k = 0; k < sizeof abbreviations / sizeof abbreviations [0]; k++)
            listed = listed || strcmp (initials, abbreviations [k]) == 0;
        if (!listed)
            break;
    }
    char dotted [16];
    size_t o = 0;
    for (int k = 0; k < count; k++) {
        dotted [o++] = initials [k];
        dotted [o++] = '.';
    }
    dotted [o] = 0;
    int year = pii_range (rng, 2004, 2024);
    switch (pii_range (rng, 0, 4)) {
        case 0: snprintf (out, size, "%s (%d)", dotted, year); break;
        case 1: snprintf (out, size, "%s %d", dotted, year); break;
        case 2: snprintf (out, size, "%s, %d", dotted, year); break;
        case 3: snprintf (out, size, "%s ('%02d)", dotted, year % 100); break;
        default:
            if (count == 1)
                snprintf (out, size, "%s (%d)", dotted, year);
            else
                snprintf (out, size, "%s %d", initials, year);
            break;
    }
    return 0;
}

static const char *pii_initials_templates [] = {
    "Betreft %s, aangemeld door het wijkteam.",
    "Casus %s: vastgelopen op wonen en school.",
    "Jongere %s verblijft in de crisisopvang.",
    "Overleg over %s met de GI en school.",
};

static const char *pii_relatives [] = {
    "moeder", "vader", "oma", "opa", "tante", "oom", "broer", "zus", "stiefvader", "pleegmoeder",
    "Moeder", "Vader", "mevrouw", "meneer", "juf", "halfzus" };
static const char *pii_relative_names [] = {
    "Fatima", "Riet", "Els", "Mark", "Ahmed", "Sanne", "Anja", "Henk", "Karin", "Youssef",
    "Marieke", "Kees", "Ingrid", "Bilal", "Petra", "Wim", "Jan de Vries", "van Dijk", "El Idrissi",
    "Kaya", "de Graaf", "Gert-Jan", "Ömer", "Zeynep" };

static int
pii_relative (pii_rng_t *rng, char *out, size_t size)
{
    const char *relative = PII_PICK (rng, pii_relatives), *name = PII_PICK (rng, pii_relative_names);
    if (pii_range (rng, 0, 19) == 0) {          //  hard: the name before the relation
        snprintf (out, size, "%s (%s)", name [0] >= 'a' && name [0] <= 'z' ? "Fatima" : name, relative);
        return 1;
    }
    snprintf (out, size, "%s %s", relative, name);
    return 0;
}

static const char *pii_relative_templates [] = {
    "Gesprek met %s over de thuissituatie.",
    "Sinds de scheiding wil %s de zorg overnemen.",
    "Contact met %s verloopt moeizaam.",
    "De jongere logeert vaak bij %s.",
    "Volgens %s is er thuis veel spanning.",
};


//  ---------------------------------------------------------------------
//  Ordinary youth-care text

//  A 9-digit number failing the 11-proef.
static void
pii_not_bsn (pii_rng_t *rng, char *out, size_t size)
{
    while (1) {
        int sum = 0;
        char d [10];
        for (int k = 0; k < 9; k++) {
            int v = pii_range (rng, k == 0? 1: 0, 9);
            d [k] = (char) ('0' + v);
            sum += k < 8? (9 - k) * v: -v;
        }
        d [9] = 0;
        if (sum % 11 != 0) {
            snprintf (out, size, "%s", d);
            return;
        }
    }
}

static int
pii_negative (pii_rng_t *rng, char *out, size_t size)
{
    char nr [32];
    int a = pii_range (rng, 1, 28), b = pii_range (rng, 1, 12);
    int year = pii_range (rng, 2010, 2026);
    //  hard cases: not personal data, but refused by design or by chance
    int hard = pii_range (rng, 0, 199);
    if (hard < 2) {         //  an event date named by its event: not hard any more
        snprintf (out, size, "Verslag MDO %02d-%02d-%d: afspraken over school.", a, b, pii_range (rng, 2019, 2025));
        return 0;
    }
    if (hard < 4)           //  a date in a table cell
        snprintf (out, size, "%d %s %d", a, pii_months [b - 1], pii_range (rng, 2015, 2025));
    else
    if (hard < 8)           //  an unlabelled 8-digit number (1 in 11 passes the 11-proef)
        snprintf (out, size, "Dossiernummer %08d is aangemaakt.", pii_range (rng, 10000000, 99999999));
    else
    if (hard < 9)           //  an organisation's phone number
        snprintf (out, size, "Jongere kan de Kindertelefoon bellen: 0800-0432.");
    if (hard < 9)
        return 1;
    switch (pii_range (rng, 0, 110)) {
        case 0: snprintf (out, size, "Jongere van %d jaar met LVB en trauma.", pii_range (rng, 4, 23)); break;
        case 1: snprintf (out, size, "Plaatsing in een 3-milieu voorziening wordt onderzocht."); break;
        case 2: snprintf (out, size, "OTS sinds %d, verlengd door de kinderrechter.", year); break;
        case 3: snprintf (out, size, "Overleg op %02d-%02d met school en GI.", a, b); break;
        case 4: snprintf (out, size, "PGB van %d euro per maand is onvoldoende.", pii_range (rng, 200, 4000)); break;
        case 5: snprintf (out, size, "Zit in groep %d van de basisschool, daarna VO.", pii_range (rng, 1, 8)); break;
        case 6: snprintf (out, size, "%d keer per week dagbesteding op de zorgboerderij.", pii_range (rng, 1, 5)); break;
        case 7: snprintf (out, size, "Gesprek om %d:%02d uur op kantoor van het wijkteam.", pii_range (rng, 8, 20), pii_range (rng, 0, 59)); break;
        case 8: snprintf (out, size, "%d%% van de casussen gaat over wonen.", pii_range (rng, 1, 99)); break;
        case 9: snprintf (out, size, "In %d casussen dit jaar was er een wachttijd van meer dan %d weken.", pii_range (rng, 2, 600), pii_range (rng, 4, 52)); break;
        case 10: snprintf (out, size, "IQ %d, passend onderwijs is nodig.", pii_range (rng, 50, 130)); break;
        case 11: snprintf (out, size, "Zie artikel 1:%d BW over het gezag.", pii_range (rng, 200, 380)); break;
        case 12: snprintf (out, size, "Score %d/20 op de vragenlijst, %d/40 op de SDQ.", pii_range (rng, 1, 20), pii_range (rng, 1, 40)); break;
        case 13: snprintf (out, size, "Versie %d.%d.%d van het plan van aanpak.", pii_range (rng, 1, 12), pii_range (rng, 0, 12), pii_range (rng, 0, 30)); break;
        case 14: pii_not_bsn (rng, nr, sizeof nr); snprintf (out, size, "Registratie %s bij de gemeente.", nr); break;
        case 15: pii_not_bsn (rng, nr, sizeof nr); snprintf (out, size, "Referentie %.3s %.3s %.3s van de gemeente.", nr, nr + 3, nr + 6); break;
        case 16: snprintf (out, size, "KvK %08d van de zorgaanbieder is gecontroleerd.", pii_range (rng, 10000000, 99999999)); break;
        case 17: snprintf (out, size, "AGB-code %08d staat op de beschikking.", pii_range (rng, 10000000, 99999999)); break;
        case 18: snprintf (out, size, "Jeugdwet artikel 2.%d regelt de toegang.", pii_range (rng, 1, 12)); break;
        case 19: snprintf (out, size, "In januari is er een evaluatie gepland met alle partijen."); break;
        case 20: snprintf (out, size, "Het semester begon slecht, %d absenties.", pii_range (rng, 3, 60)); break;
        case 21: snprintf (out, size, "Noordelijke gemeenten en Noord-Veluwe hebben geen plek."); break;
        case 22: snprintf (out, size, "Financien en wonen zijn de grootste knelpunten."); break;
        case 23: snprintf (out, size, "Sinds maart %d geen school meer, leerplicht is ingeschakeld.", year); break;
        case 24: snprintf (out, size, "Wachttijd van %d weken voor de GGZ, %d jongeren op de lijst.", pii_range (rng, 2, 40), pii_range (rng, 5, 300)); break;
        case 25: snprintf (out, size, "Leeftijd 12-17 jaar, kader gedwongen, situatie residentieel."); break;
        case 26: snprintf (out, size, "Crisisplaatsing voor %d nachten, daarna terug naar huis.", pii_range (rng, 1, 30)); break;
        case 27: snprintf (out, size, "Sinds %d GI betrokken, ouders werken wisselend mee.", year); break;
        case 28: snprintf (out, size, "In %d OM-zaak geseponeerd, nu HALT-traject.", year); break;
        case 29: snprintf (out, size, "Ouders hebben %d kinderen, waarvan %d thuis wonen.", pii_range (rng, 2, 8), pii_range (rng, 1, 2)); break;
        case 30: snprintf (out, size, "Schuld van %d.%03d euro bij de gemeente.", pii_range (rng, 1, 90), pii_range (rng, 0, 999)); break;
        case 31: snprintf (out, size, "Regionaal budget van %d.%03d.%03d euro is op.", pii_range (rng, 100, 999), pii_range (rng, 0, 999), pii_range (rng, 0, 999)); break;
        case 32: snprintf (out, size, "Budget: \xe2\x82\xac %d.%03d.%03d voor de hele regio.", pii_range (rng, 100, 999), pii_range (rng, 0, 999), pii_range (rng, 0, 999)); break;
        case 33: snprintf (out, size, "Het ET kwam %d keer bijeen in %d.", pii_range (rng, 2, 40), year); break;
        case 34: snprintf (out, size, "Jongere scoort %d,%d SD onder het gemiddelde.", pii_range (rng, 1, 3), pii_range (rng, 0, 9)); break;
        case 35: snprintf (out, size, "Plaatsing 24/7 nodig, %d-%d begeleiding.", 1, pii_range (rng, 1, 3)); break;
        case 36: snprintf (out, size, "Op straat %d keer aangehouden door de politie.", pii_range (rng, 2, 9)); break;
        case 37: snprintf (out, size, "De loopbaan %d jaar stilgelegd, geen bijbaan meer.", pii_range (rng, 1, 3)); break;
        case 38: snprintf (out, size, "Melding Veilig Thuis op %d-%d, onderzoek loopt.", a, b); break;
        case 39: snprintf (out, size, "Evaluatie na %d maanden, zie plan %d-%d.", pii_range (rng, 2, 12), year, year + 1); break;
        case 40: snprintf (out, size, "Team van %d gedragswetenschappers, %d procesregisseurs.", pii_range (rng, 2, 12), pii_range (rng, 1, 5)); break;
        case 41: snprintf (out, size, "Dossier %d-%04d staat in het registratiesysteem.", year, pii_range (rng, 1, 9999)); break;
        case 42: snprintf (out, size, "Periode %d-%d: %d aanmeldingen bij het expertisecentrum.", year - 2, year, pii_range (rng, 20, 900)); break;
        case 43: snprintf (out, size, "Wachttijd %d-%d weken, crisis binnen %d uur.", pii_range (rng, 2, 6), pii_range (rng, 7, 12), pii_range (rng, 2, 48)); break;
        case 44: snprintf (out, size, "Per %d %s gaat de nieuwe werkwijze in.", a, pii_months [b - 1]); break;
        case 45: snprintf (out, size, "Zitting op %d %s om %d.%02d uur.", a, pii_months [b - 1], pii_range (rng, 9, 16), pii_range (rng, 0, 59)); break;
        case 46: snprintf (out, size, "Bijna %d.%03d jongeren in de regio krijgen jeugdhulp.", pii_range (rng, 1, 30), pii_range (rng, 0, 999)); break;
        case 47: snprintf (out, size, "Ratio 1:%d begeleiding in de groep van %d.", pii_range (rng, 2, 8), pii_range (rng, 4, 12)); break;
        case 48: snprintf (out, size, "Jongere heeft %d diagnoses: ADHD, ASS en PTSS.", pii_range (rng, 2, 4)); break;
        case 49: snprintf (out, size, "Sinds %d JZ+ geplaatst, %d doorplaatsingen.", year, pii_range (rng, 1, 6)); break;
        case 50: snprintf (out, size, "Kwartaal %d: %d gesloten plaatsingen, %d afzonderingen.", pii_range (rng, 1, 4), pii_range (rng, 0, 9), pii_range (rng, 0, 9)); break;
        case 51: snprintf (out, size, "Afgelopen %d jaar %d keer van school gewisseld.", pii_range (rng, 2, 6), pii_range (rng, 2, 6)); break;
        case 52: snprintf (out, size, "Jongere is %d weken zwanger, verloskundige betrokken.", pii_range (rng, 6, 30)); break;
        case 53: snprintf (out, size, "Casus %d van %d besproken in het moreel beraad.", pii_range (rng, 1, 9), pii_range (rng, 10, 20)); break;
        case 54: snprintf (out, size, "Telefonisch overleg van %d minuten met de voogd.", pii_range (rng, 10, 90)); break;
        case 55: snprintf (out, size, "Gezinshuis heeft %d plekken, %d bezet.", pii_range (rng, 3, 6), pii_range (rng, 1, 3)); break;
        case 56: snprintf (out, size, "Fase %d van het plan: terug naar school.", pii_range (rng, 1, 4)); break;
        case 57: snprintf (out, size, "Onderzoek volgens richtlijn %d.%d, uitslag in %s.", pii_range (rng, 1, 9), pii_range (rng, 1, 9), pii_months [b - 1]); break;
        case 58: snprintf (out, size, "Medicatie %d mg per dag, dosis %d keer verhoogd.", pii_range (rng, 5, 60), pii_range (rng, 1, 4)); break;
        case 59: snprintf (out, size, "Bereikbaar 0-24 uur via de crisisdienst van de GI."); break;
        case 60: snprintf (out, size, "Aanmelding in week %d, triage in week %d.", pii_range (rng, 1, 26), pii_range (rng, 27, 52)); break;
        case 61: snprintf (out, size, "Vanaf 18 jaar overgang naar de Wmo, %d maanden voorbereiding.", pii_range (rng, 3, 12)); break;
        case 62: snprintf (out, size, "Reistijd %d km naar school, leerlingenvervoer %d x per dag.", pii_range (rng, 5, 80), 2); break;
        case 63: snprintf (out, size, "Inzet %d uur per week ambulant, %d uur dagbehandeling.", pii_range (rng, 2, 16), pii_range (rng, 4, 32)); break;
        case 64: snprintf (out, size, "%d van de %d leefgebieden zijn betrokken.", pii_range (rng, 2, 8), 8); break;
        case 65: snprintf (out, size, "Ouders wonen sinds %d gescheiden, co-ouderschap %d/%d.", year, 50, 50); break;
        case 66: snprintf (out, size, "Het budget voor %d is met %d%% verhoogd.", year, pii_range (rng, 2, 15)); break;
        case 67: snprintf (out, size, "Brief van %02d-%02d ontvangen, reactie volgt binnen %d dagen.", a, b, pii_range (rng, 5, 14)); break;
        case 68: snprintf (out, size, "Gemeente vraagt %d%% eigen bijdrage, maximaal %d euro.", pii_range (rng, 5, 50), pii_range (rng, 50, 900)); break;
        case 70: snprintf (out, size, "Gezin is verhuisd naar de Achterhoek in %d, school blijft.", year); break;
        case 71: snprintf (out, size, "Moeder woont aan de Veluwe met %d kinderen.", pii_range (rng, 2, 6)); break;
        case 72: snprintf (out, size, "Vader woont aan de Kerkstraat sinds %d, contact is beperkt.", year); break;
        case 73: snprintf (out, size, "In juni %d aanmeldingen, in juli %d.", pii_range (rng, 2, 30), pii_range (rng, 2, 30)); break;
        case 74: snprintf (out, size, "Reisafstand %dkm, medicatie %dmg per dag.", pii_range (rng, 1000, 2500), pii_range (rng, 1000, 3000)); break;
        case 75: snprintf (out, size, "Adres: zie het dossier bij de GI, %d contactmomenten.", pii_range (rng, 2, 20)); break;
        case 76: snprintf (out, size, "Sinds %d %s %d in pleegzorg, daarvoor thuis.", a, pii_months [b - 1], pii_range (rng, 2015, 2025)); break;
        case 77: snprintf (out, size, "De zitting was op %02d-%02d-%d, de OTS is verlengd.", a, b, pii_range (rng, 2019, 2025)); break;
        case 78: snprintf (out, size, "Per 1 januari %d is de Jeugdwet gewijzigd.", pii_range (rng, 2015, 2025)); break;
        case 79: snprintf (out, size, "Brief d.d. %d-%d-%d, peildatum %02d-%02d-%d.", a, b, pii_range (rng, 2015, 2025), a, b, pii_range (rng, 2015, 2025)); break;
        //  meeting and report dates (allowed), relatives without names,
        //  classes without a named school, platforms without accounts,
        //  abbreviations with years, numbers in words that are counts
        case 81: snprintf (out, size, "Overleg op %02d-%02d-%d met school en GI.", a, b, year); break;
        case 82: snprintf (out, size, "Rapportage d.d. %d %s %d is verstuurd.", a, pii_months [b - 1], year); break;
        case 83: snprintf (out, size, "Rapportage van %d %s %d besproken met ouders.", a, pii_months [b - 1], year); break;
        case 84: snprintf (out, size, "Overleg %02d-%02d-%d: plan vastgesteld.", a, b, year); break;
        case 85: snprintf (out, size, "Kamerbrief van %d %s %d over de jeugdzorg.", a, pii_months [b - 1], year); break;
        case 86: snprintf (out, size, "Evaluatie %02d-%02d-%d gepland met alle partijen.", a, b, year); break;
        case 87: snprintf (out, size, "Brief van %d %s %d ontvangen van de gemeente.", a, pii_months [b - 1], year); break;
        case 88: snprintf (out, size, "MDO-verslag %d-%d-%d ligt bij de procesregisseur.", a, b, year); break;
        case 89: snprintf (out, size, "Moeder is overbelast, vader uit beeld, oma helpt %d dagen.", pii_range (rng, 1, 4)); break;
        case 90: snprintf (out, size, "Vader heeft een Marokkaanse achtergrond, moeder een Nederlandse."); break;
        case 91: snprintf (out, size, "Oma en opa bieden logeeropvang, tante denkt mee."); break;
        case 92: snprintf (out, size, "Klas %d van het VO, veel verzuim sinds %d.", pii_range (rng, 1, 4), year); break;
        case 93: snprintf (out, size, "In groep %d in Hengelo gestart, leerplicht betrokken.", pii_range (rng, 1, 8)); break;
        case 94: snprintf (out, size, "De basisschool in de wijk heeft geen plek voor groep %d.", pii_range (rng, 1, 8)); break;
        case 95: snprintf (out, size, "Jongere zit veel op snapchat en tiktok, %d uur per dag.", pii_range (rng, 2, 9)); break;
        case 96: snprintf (out, size, "Zorgen over instagram-gebruik en sexting, %d meldingen.", pii_range (rng, 2, 9)); break;
        case 97: snprintf (out, size, "OTS %d verlengd, GGZ %d gestart, MDO %d gepland.", year - 2, year - 1, year); break;
        case 98: snprintf (out, size, "VT %d: %d meldingen in de regio.", year, pii_range (rng, 20, 900)); break;
        case 99: snprintf (out, size, "Twee keer per week, drie uur per dag, zes tot acht weken."); break;
        case 100: snprintf (out, size, "Op de Markt twee keer aangesproken door de wijkagent."); break;
        case 101: snprintf (out, size, "Vader woont aan de Kerkstraat sinds twee jaar."); break;
        case 102: snprintf (out, size, "De moeder van de jongere wil meer regie, de GI ook."); break;
        case 103: snprintf (out, size, "Melding bij Veilig Thuis op %d-%d, onderzoek door de Raad.", a, b); break;
        case 104: snprintf (out, size, "Zaak ligt bij de rechtbank, zitting in %s.", pii_months [b - 1]); break;
        case 105: snprintf (out, size, "Afspraak @ school om %d uur, juf sluit aan.", pii_range (rng, 8, 15)); break;
        case 106: snprintf (out, size, "Plan %d-%d: een of twee gesprekken per week.", year, year + 1); break;
        case 107: snprintf (out, size, "Jongere (%d) woont bij moeder, groep %d.", pii_range (rng, 6, 17), pii_range (rng, 3, 8)); break;
        case 108: snprintf (out, size, "Besproken in het MDO van %d %s %d.", a, pii_months [b - 1], year); break;
        case 109: snprintf (out, size, "Mentor en intern begeleider van de school in Enschede denken mee."); break;
        default: snprintf (out, size, "Wachtlijst %d jongeren, gemiddeld %d,%d maanden.", pii_range (rng, 5, 300), pii_range (rng, 1, 9), pii_range (rng, 0, 9)); break;
    }
    return 0;
}


//  ---------------------------------------------------------------------
//  The corpus

//  Writes one item into out; returns 1 for a known hard case.
typedef int (pii_item_fn) (pii_rng_t *rng, char *out, size_t size);

//  The kinds the guard reports.
static const char *pii_kind_names [] = {
    "bsn", "geboortedatum", "postcode", "telefoonnummer", "e-mailadres", "iban", "adres", "naam",
    "zaaknummer", "social-media", "school", "initialen" };
#define PII_CORPUS_KINDS (sizeof (pii_kind_names) / sizeof (pii_kind_names [0]))

//  The positive categories: a kind, and how its data is written. The
//  first eight are the original corpus; the rest were added for issue
//  10, item 6 (figures before and after in docs/privacy-pii.md).
static const struct {
    const char *label;
    const char *kind;
    pii_item_fn *item;
    const char **templates;
    size_t templates_size;
} pii_kinds [] = {
#define PII_KIND(label, kind, item, templates) \
    { label, kind, item, templates, sizeof (templates) / sizeof (templates [0]) }
    PII_KIND ("bsn", "bsn", pii_bsn, pii_bsn_templates),
    PII_KIND ("geboortedatum", "geboortedatum", pii_date, pii_date_templates),
    PII_KIND ("postcode", "postcode", pii_postcode, pii_postcode_templates),
    PII_KIND ("telefoonnummer", "telefoonnummer", pii_phone, pii_phone_templates),
    PII_KIND ("e-mailadres", "e-mailadres", pii_email, pii_email_templates),
    PII_KIND ("iban", "iban", pii_iban, pii_iban_templates),
    PII_KIND ("adres", "adres", pii_address, pii_address_templates),
    PII_KIND ("naam", "naam", pii_name, pii_name_templates),
    PII_KIND ("zaaknummer", "zaaknummer", pii_case_number, pii_case_number_templates),
    PII_KIND ("social-media", "social-media", pii_social, pii_social_templates),
    PII_KIND ("school", "school", pii_school, pii_school_templates),
    PII_KIND ("initialen", "initialen", pii_initials, pii_initials_templates),
    PII_KIND ("naam familielid", "naam", pii_relative, pii_relative_templates),
    PII_KIND ("bsn in woorden/O", "bsn", pii_bsn_spelled, pii_bsn_spelled_templates),
    PII_KIND ("telefoon in woorden/O", "telefoonnummer", pii_phone_spelled, pii_phone_spelled_templates),
    PII_KIND ("adres nummer in woorden", "adres", pii_address_spelled, pii_address_templates),
};
#define PII_CORPUS_CATEGORIES (sizeof (pii_kinds) / sizeof (pii_kinds [0]))

//  Generate the corpus: positives first, then negatives. Caller frees
//  *samples_p.
static size_t
pii_corpus_generate (pii_sample_t **samples_p)
{
    size_t count = PII_CORPUS_CATEGORIES * PII_CORPUS_PER_KIND + PII_CORPUS_NEGATIVES;
    pii_sample_t *samples = (pii_sample_t *) calloc (count, sizeof (pii_sample_t));
    pii_rng_t rng = { PII_CORPUS_SEED };
    size_t n = 0;
    for (size_t k = 0; k < PII_CORPUS_CATEGORIES; k++)
        for (int i = 0; i < PII_CORPUS_PER_KIND; i++) {
            char item [128];
            samples [n].hard = pii_kinds [k].item (&rng, item, sizeof item);
            const char *template = pii_kinds [k].templates [pii_rand (&rng) % pii_kinds [k].templates_size];
            snprintf (samples [n].text, PII_CORPUS_TEXT, template, item);
            samples [n].kind = pii_kinds [k].kind;
            samples [n].category = (int) k;
            n++;
        }
    for (int i = 0; i < PII_CORPUS_NEGATIVES; i++) {
        samples [n].hard = pii_negative (&rng, samples [n].text, PII_CORPUS_TEXT);
        samples [n].kind = NULL;
        samples [n].category = -1;
        n++;
    }
    *samples_p = samples;
    return n;
}

#ifdef PII_CORPUS_MAIN
int
main (void)
{
    pii_sample_t *samples;
    size_t count = pii_corpus_generate (&samples);
    (void) pii_kind_names;
    printf ("# client names:");
    for (int k = 0; pii_corpus_names [k]; k++)
        printf (" %s%s", pii_corpus_names [k], pii_corpus_names [k + 1]? ",": "\n");
    for (size_t i = 0; i < count; i++)
        printf ("%s%s\t%s\n", samples [i].kind? pii_kinds [samples [i].category].label: "-",
                samples [i].hard? " (hard)": "", samples [i].text);
    free (samples);
    return 0;
}
#endif
