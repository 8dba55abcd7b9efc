/*  en_pii - the PII guard of node and broker (see en_pii.h and
    docs/privacy-pii.md).

    Design. The text is first normalized into a scan copy: UTF-8 is
    decoded, accented Latin letters are folded to their base letters
    (é -> e, ß -> ss, ĳ -> ij; case kept), the look-alikes that arrive by
    copy-paste from word processors are made plain (no-break and thin
    spaces -> ' ', en/em dashes -> '-', curly apostrophes -> '\'',
    full-width digits -> digits) and invisible characters (soft hyphen,
    zero-width space, combining accents) are dropped, so "123<ZWSP>456782"
    cannot slip past. Two arrays map every scan character back to the
    byte range of the original it came from, so a finding reports the
    original offset and length. A second, ASCII-lowercased copy serves
    the case-insensitive matchers (cue words, month names, client names).

    Then one pass from left to right tries, at each position, the
    hand-written matchers, anchored at that position, in a fixed order
    (case number, bsn, iban, e-mail, phone, postcode, date, address,
    name, then the forms added later: bsn and phone in words, social
    media, school, initials, a name after a relation). The first hit is
    the finding: the leftmost, and at equal position the matcher first
    in that order. Matchers are small recognisers, not
    regular expressions: each reads digits, separators and words forward
    from its anchor and checks what the kind requires (11-proef for a
    BSN, mod-97 for an IBAN, a valid day and month and a plausible year
    for a date, a street suffix and a house number for an address).
    Numbers are delimited the same way for every kind (s_num_start_ok,
    s_num_end_ok), so "1.123456782" or "123456782-4" are not read as a
    nine-digit number inside a longer one.

    The guard knows no names but those it is given: a name in the text
    is found on that list, or by the word before it (a relation or a
    title: "moeder Fatima", "mevrouw El Idrissi"). Schools, case numbers
    and social media accounts are likewise found by what surrounds them
    (a class, a label, a platform), never by a list of real ones.

    Client names live in a hash of folded, lowercased keys; at each word
    start the matcher looks up the runs of one up to the longest name's
    number of words. Names are wiped from memory when the guard is
    destroyed, as is every scan copy after a check.

    The guard never keeps, logs or returns any part of the text: only
    positions, kinds and counts.
*/
#include "expertnet.h"
#include "en_pii.h"
#include <sodium.h>
#include <time.h>

//  The kinds, in the order matchers are tried at one position.
typedef enum {
    S_BSN, S_IBAN, S_EMAIL, S_PHONE, S_POSTCODE, S_DATE, S_ADDRESS, S_NAME,
    S_CASE_NUMBER, S_SOCIAL, S_SCHOOL, S_INITIALS,
    S_KINDS
} s_kind_t;

static const char *s_kind_names [S_KINDS] = {
    "bsn", "iban", "e-mailadres", "telefoonnummer", "postcode",
    "geboortedatum", "adres", "naam", "zaaknummer", "social-media", "school",
    "initialen" };

#define S_NAME_MAX      255     //  longest client name, bytes
#define S_BIRTH_YEARS   100     //  a full date this many years back can be a birth date

struct _en_pii_t {
    zhashx_t *names;                //  folded lowercase name -> self (a set)
    size_t name_words;              //  most words in one name on the list
    int year_now;                   //  this year: dates after it are not birth dates
    uint64_t checks;                //  calls of en_pii_check / en_pii_check_json
    uint64_t refused;               //  of which refused
    uint64_t refused_kind [S_KINDS];//  refusals per kind
};

//  The scan copy of one text (see the design note above).
typedef struct {
    char *text;                 //  normalized, case kept, NUL-terminated
    char *lower;                //  the same, ASCII-lowercased
    size_t *start;              //  start [i]: offset in the original of text [i]'s source
    size_t *end;                //  end [i]: offset just past that source
    size_t size;                //  characters in text
} s_scan_t;


//  ---------------------------------------------------------------------
//  Character classes, on the scan copy (ASCII after folding). Bytes from
//  other scripts count as letters, so they bound words like letters do.

static bool
s_digit (char c)
{
    return c >= '0' && c <= '9';
}

static bool
s_alpha (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
s_upper (char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool
s_word (char c)
{
    return s_alpha (c) || s_digit (c) || (unsigned char) c >= 0x80;
}

static bool
s_space (char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

//  Character at i, or 0 past the end.
static char
s_at (s_scan_t *scan, size_t i)
{
    return i < scan->size ? scan->text [i] : 0;
}


//  ---------------------------------------------------------------------
//  Normalization

//  Latin-1 letters U+00C0..U+00FF and Latin Extended-A U+0100..U+017F to
//  base letters, case kept. '?' marks a code point handled in s_fold (a
//  two-letter fold, or not a letter).
static const char s_latin1 [] =
    "AAAAAA?CEEEEIIII" "DNOOOOO?OUUUUY??" "aaaaaa?ceeeeiiii" "dnooooo?ouuuuy?y";
static const char s_latin_a [] =
    "AaAaAaCcCcCcCcDd" "DdEeEeEeEeEeGgGg" "GgGgHhHhIiIiIiIi" "Ii??JjKkkLlLlLlL"
    "lLlNnNnNnnNnOoOo" "Oo??RrRrRrSsSsSs" "SsTtTtTtUuUuUuUu" "UuUuWwYyYZzZzZzs";

//  What one code point becomes in the scan copy: up to 2 ASCII characters
//  into out, or 0 characters (dropped), or -1: keep the original bytes.
static int
s_fold (uint32_t cp, char *out)
{
    if (cp >= 0xC0 && cp <= 0xFF && s_latin1 [cp - 0xC0] != '?') {
        out [0] = s_latin1 [cp - 0xC0];
        return 1;
    }
    if (cp >= 0x100 && cp <= 0x17F && s_latin_a [cp - 0x100] != '?') {
        out [0] = s_latin_a [cp - 0x100];
        return 1;
    }
    const char *two = NULL;
    switch (cp) {
        case 0xC6:  two = "AE"; break;
        case 0xE6:  two = "ae"; break;
        case 0xDE:  two = "TH"; break;
        case 0xFE:  two = "th"; break;
        case 0xDF:  two = "ss"; break;
        case 0x132: two = "IJ"; break;
        case 0x133: two = "ij"; break;
        case 0x152: two = "OE"; break;
        case 0x153: two = "oe"; break;
        case 0x218: two = "S"; break;       //  Romanian comma-below letters
        case 0x219: two = "s"; break;
        case 0x21A: two = "T"; break;
        case 0x21B: two = "t"; break;
        case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F:
        case 0x205F: case 0x3000:
                    two = " "; break;
        case 0x2212: case 0xFE58: case 0xFE63: case 0xFF0D:
                    two = "-"; break;
        case 0x2018: case 0x2019: case 0x201B: case 0x02BC: case 0xB4:
                    two = "'"; break;
        case 0x201C: case 0x201D: case 0x201E:
                    two = "\""; break;
        case 0xFF0B: two = "+"; break;
        case 0xFF20: case 0xFE6B:
                    two = "@"; break;
        case 0xAD: case 0x200B: case 0x200C: case 0x200D: case 0x2060:
        case 0xFEFF:
                    return 0;
    }
    if (two) {
        size_t len = strlen (two);
        memcpy (out, two, len);
        return (int) len;
    }
    if (cp >= 0x2000 && cp <= 0x200A) {
        out [0] = ' ';
        return 1;
    }
    if (cp >= 0x2010 && cp <= 0x2015) {
        out [0] = '-';
        return 1;
    }
    if (cp >= 0xFF10 && cp <= 0xFF19) {
        out [0] = (char) ('0' + cp - 0xFF10);
        return 1;
    }
    if (cp >= 0x300 && cp <= 0x36F)
        return 0;               //  combining accents (decomposed é = e + U+0301)
    //  Currency signs become '$'; other symbols and punctuation '~', so
    //  that a bullet or a euro sign glued to a number does not hide it.
    if ((cp >= 0xA2 && cp <= 0xA5) || (cp >= 0x20A0 && cp <= 0x20CF)) {
        out [0] = '$';
        return 1;
    }
    if ((cp >= 0xA1 && cp <= 0xBF && cp != 0xAA && cp != 0xB5 && cp != 0xBA)
    ||  cp == 0xD7 || cp == 0xF7
    ||  (cp >= 0x2016 && cp <= 0x205E) || (cp >= 0x20D0 && cp <= 0x2BFF)
    ||  (cp >= 0x3001 && cp <= 0x303F) || (cp >= 0xFF01 && cp <= 0xFF0F)
    ||  (cp >= 0x1F000 && cp <= 0x1FAFF)) {
        out [0] = '~';
        return 1;
    }
    return -1;
}

//  Decode one UTF-8 sequence at s (size bytes left): the code point, and
//  its length in *len; a malformed byte decodes as itself, length 1.
static uint32_t
s_utf8 (const unsigned char *s, size_t size, size_t *len)
{
    *len = 1;
    if (s [0] < 0x80)
        return s [0];
    size_t need = s [0] >= 0xF5? 0: s [0] >= 0xF0? 4: s [0] >= 0xE0? 3: s [0] >= 0xC2? 2: 0;
    if (need == 0 || need > size)
        return s [0] | 0x80000000u;     //  no code point: keep the byte
    uint32_t cp = s [0] & (0x7F >> need);
    for (size_t k = 1; k < need; k++) {
        if ((s [k] & 0xC0) != 0x80)
            return s [0] | 0x80000000u;
        cp = (cp << 6) | (s [k] & 0x3F);
    }
    *len = need;
    return cp;
}

//  Build the scan copy of text (size bytes, may hold NULs: they become
//  spaces). Output never grows: every fold is at most as long as its
//  UTF-8 source.
static void
s_scan_init (s_scan_t *scan, const char *text, size_t size)
{
    scan->text = (char *) zmalloc (size + 1);
    scan->lower = (char *) zmalloc (size + 1);
    scan->start = (size_t *) zmalloc ((size + 1) * sizeof (size_t));
    scan->end = (size_t *) zmalloc ((size + 1) * sizeof (size_t));
    const unsigned char *src = (const unsigned char *) text;
    size_t out = 0;
    for (size_t i = 0; i < size; ) {
        size_t len;
        uint32_t cp = s_utf8 (src + i, size - i, &len);
        char folded [4];
        int count = cp & 0x80000000u? -1: s_fold (cp, folded);
        if (count < 0) {
            //  Keep the bytes: ASCII as is (NUL as space), others as
            //  word bytes.
            for (size_t k = 0; k < len; k++) {
                scan->text [out] = src [i + k]? (char) src [i + k]: ' ';
                scan->start [out] = i;
                scan->end [out] = i + len;
                out++;
            }
        }
        for (int k = 0; k < count; k++) {
            scan->text [out] = folded [k];
            scan->start [out] = i;
            scan->end [out] = i + len;
            out++;
        }
        i += len;
    }
    assert (out <= size);
    scan->size = out;
    scan->start [out] = scan->end [out] = size;
    for (size_t i = 0; i < out; i++) {
        char c = scan->text [i];
        scan->lower [i] = s_upper (c)? (char) (c - 'A' + 'a'): c;
    }
}

//  Wipe and free a scan copy (it may hold personal data).
static void
s_scan_wipe (s_scan_t *scan)
{
    sodium_memzero (scan->text, scan->size);
    sodium_memzero (scan->lower, scan->size);
    free (scan->text);
    free (scan->lower);
    free (scan->start);
    free (scan->end);
    memset (scan, 0, sizeof *scan);
}


//  ---------------------------------------------------------------------
//  Shared pieces: number boundaries, words, small lists

//  A number may start at i: not inside a word, and not continuing a
//  number ("1.2", "3-4", "5/6", "7:8", "+9").
static bool
s_num_start_ok (s_scan_t *scan, size_t i)
{
    if (i == 0)
        return true;
    char prev = scan->text [i - 1];
    if (s_word (prev) || prev == '+')
        return false;
    if (strchr (".,-/:", prev) && i >= 2 && s_digit (scan->text [i - 2]))
        return false;
    return true;
}

//  A number may end at j (exclusive): not followed by a letter or digit,
//  nor by a separator that continues the number ("12.5", "3-4", "7:30").
static bool
s_num_end_ok (s_scan_t *scan, size_t j)
{
    char next = s_at (scan, j);
    if (next == 0)
        return true;
    if (s_word (next))
        return false;
    if (strchr (".,-/:", next) && s_digit (s_at (scan, j + 1)))
        return false;
    return true;
}

//  Read up to max digits at i into value; returns how many were read.
static size_t
s_read_number (s_scan_t *scan, size_t i, size_t max, int *value)
{
    size_t count = 0;
    *value = 0;
    while (count < max && s_digit (s_at (scan, i + count))) {
        *value = *value * 10 + (scan->text [i + count] - '0');
        count++;
    }
    return count;
}

//  True if the lowercase scan copy has word at i, and word ends there
//  (next character not a letter or digit; a word ending in '.' needs no
//  boundary).
static bool
s_word_at (s_scan_t *scan, size_t i, const char *word)
{
    if (i >= scan->size || scan->lower [i] != word [0])
        return false;                           //  most calls end here: lists are long
    size_t len = strlen (word);
    if (i + len > scan->size || memcmp (scan->lower + i, word, len) != 0)
        return false;
    return word [len - 1] == '.' || !s_word (s_at (scan, i + len));
}

//  True if i starts a word (not preceded by a letter or digit).
static bool
s_word_start (s_scan_t *scan, size_t i)
{
    return i == 0 || !s_word (scan->text [i - 1]);
}

//  The word ([a-z-]) just before position i, skipping spaces and simple
//  punctuation (": ", "#", "(", "nr."), lowercased into buf. Used for
//  labels in front of a number ("BSN: ...", "KvK ...").
static const char *
s_word_before (s_scan_t *scan, size_t i, char *buf, size_t size)
{
    size_t j = i;
    while (j > 0 && strchr (" \t:#(.", scan->text [j - 1]))
        j--;
    size_t end = j;
    while (j > 0 && (s_alpha (scan->text [j - 1]) || scan->text [j - 1] == '-'))
        j--;
    size_t len = end - j < size - 1? end - j: size - 1;
    memcpy (buf, scan->lower + j, len);
    buf [len] = 0;
    //  "nr", "nummer" after the real label: look one word further back
    if ((streq (buf, "nr") || streq (buf, "nummer") || streq (buf, "no")) && j > 0) {
        while (j > 0 && strchr (" \t:#(.", scan->text [j - 1]))
            j--;
        end = j;
        while (j > 0 && (s_alpha (scan->text [j - 1]) || scan->text [j - 1] == '-'))
            j--;
        len = end - j < size - 1? end - j: size - 1;
        memcpy (buf, scan->lower + j, len);
        buf [len] = 0;
    }
    return buf;
}

static bool
s_in_list (const char *word, const char **list)
{
    for (; *list; list++)
        if (streq (word, *list))
            return true;
    return false;
}


//  ---------------------------------------------------------------------
//  BSN: 9 digits passing the 11-proef, contiguous or in groups of 2 to 4
//  digits with one kind of separator (123 456 782, 1234.56.782); an
//  8-digit number is an old number whose leading zero was dropped. After
//  a label (BSN, burgerservicenummer, sofinummer) 8 or 9 digits are a
//  BSN whatever their check digit. An 8-digit number after KvK or AGB is
//  a registration number of an organisation, and an amount in euros is
//  money, not a BSN.

static const char *s_bsn_labels [] = {
    "bsn", "bsn-nummer", "burgerservicenummer", "burgerservice-nummer",
    "sofinummer", "sofi-nummer", "sofi", NULL };
static const char *s_org_labels [] = {
    "kvk", "kvk-nummer", "agb", "agb-code", "code", "vestigingsnummer",
    "btw", "btw-nummer", NULL };

//  An amount of money: "€ 125.000.000", "EUR 123456782", "123.456.782
//  euro". Currency signs are '$' in the scan copy.
static bool
s_money (s_scan_t *scan, size_t i, size_t j)
{
    size_t k = i;
    while (k > 0 && scan->text [k - 1] == ' ')
        k--;
    if (k > 0 && scan->text [k - 1] == '$')
        return true;
    char label [32];
    s_word_before (scan, i, label, sizeof label);
    if (streq (label, "eur") || streq (label, "euro"))
        return true;
    k = j;
    while (s_at (scan, k) == ' ')
        k++;
    return s_word_at (scan, k, "euro") || s_word_at (scan, k, "eur")
        || (s_at (scan, j) == ',' && s_at (scan, j + 1) == '-');
}

static bool
s_elfproef (const char digits [9])
{
    int sum = 0;
    bool zero = true;
    for (int k = 0; k < 8; k++) {
        sum += (9 - k) * (digits [k] - '0');
        zero = zero && digits [k] == '0';
    }
    sum -= digits [8] - '0';
    return !zero && sum % 11 == 0;
}

static size_t
s_match_bsn (en_pii_t *self, s_scan_t *scan, size_t i)
{
    if (!s_digit (scan->text [i]) || !s_num_start_ok (scan, i))
        return 0;
    char digits [10];
    size_t total = 0, groups = 0, j = i;
    bool groups_ok = true;
    char sep = 0;
    while (true) {
        size_t len = 0;
        while (s_digit (s_at (scan, j))) {
            if (total == 9)
                return 0;           //  longer than a BSN
            digits [total++] = scan->text [j++];
            len++;
        }
        groups++;
        if (len < 2 || len > 4)
            groups_ok = false;
        if (total == 9 || groups == 4)
            break;
        char c = s_at (scan, j);
        if (!(c == ' ' || c == '.' || c == '-') || !s_digit (s_at (scan, j + 1))
        ||  (sep && c != sep))
            break;
        sep = c;
        j++;
    }
    if (!s_num_end_ok (scan, j))
        return 0;
    char label [32];
    s_word_before (scan, i, label, sizeof label);
    bool labelled = s_in_list (label, s_bsn_labels);
    if (!labelled && s_money (scan, i, j))
        return 0;
    if (total == 9 && (groups == 1 || groups_ok))
        return labelled || s_elfproef (digits)? j - i: 0;
    if (total == 8 && groups == 1) {
        if (labelled)
            return j - i;
        if (s_in_list (label, s_org_labels))
            return 0;
        memmove (digits + 1, digits, 8);
        digits [0] = '0';
        return s_elfproef (digits)? j - i: 0;
    }
    return 0;
}


//  ---------------------------------------------------------------------
//  IBAN: a country code, two check digits and the account, contiguous or
//  in groups with single spaces, of the length the country prescribes,
//  passing mod-97. Countries outside the table are not recognised.

static struct {
    const char *country;
    size_t length;
} s_iban_lengths [] = {
    { "AD", 24 }, { "AT", 20 }, { "BE", 16 }, { "BG", 22 }, { "CH", 21 },
    { "CY", 28 }, { "CZ", 24 }, { "DE", 22 }, { "DK", 18 }, { "EE", 20 },
    { "ES", 24 }, { "FI", 18 }, { "FR", 27 }, { "GB", 22 }, { "GR", 27 },
    { "HR", 21 }, { "HU", 28 }, { "IE", 22 }, { "IS", 26 }, { "IT", 27 },
    { "LI", 21 }, { "LT", 20 }, { "LU", 20 }, { "LV", 21 }, { "MA", 28 },
    { "MT", 31 }, { "NL", 18 }, { "NO", 15 }, { "PL", 28 }, { "PT", 25 },
    { "RO", 24 }, { "SE", 24 }, { "SI", 19 }, { "SK", 24 }, { "TR", 26 },
    { NULL, 0 }
};

static bool
s_iban_valid (const char *iban, size_t length)
{
    //  Move the first four characters to the end, letters become 10..35,
    //  and the whole number mod 97 must be 1.
    unsigned remainder = 0;
    for (size_t k = 0; k < length; k++) {
        char c = iban [(k + 4) % length];
        if (s_digit (c))
            remainder = (remainder * 10 + (unsigned) (c - '0')) % 97;
        else
            remainder = (remainder * 100 + (unsigned) (c - 'A' + 10)) % 97;
    }
    return remainder == 1;
}

static size_t
s_match_iban (en_pii_t *self, s_scan_t *scan, size_t i)
{
    const char *t = scan->lower;
    if (!s_alpha (t [i]) || !s_word_start (scan, i) || !s_alpha (s_at (scan, i + 1))
    ||  !s_digit (s_at (scan, i + 2)) || !s_digit (s_at (scan, i + 3)))
        return 0;
    size_t length = 0;
    for (int k = 0; s_iban_lengths [k].country; k++)
        if (s_iban_lengths [k].country [0] == t [i] - 'a' + 'A'
        &&  s_iban_lengths [k].country [1] == t [i + 1] - 'a' + 'A')
            length = s_iban_lengths [k].length;
    if (length == 0)
        return 0;
    char iban [40];
    size_t count = 0, j = i;
    while (count < length) {
        char c = s_at (scan, j);
        if (s_digit (c) || s_alpha (c)) {
            iban [count++] = s_alpha (c)? (char) (t [j] - 'a' + 'A'): c;
            j++;
        }
        else
        if (c == ' ' && count >= 4 && (s_digit (s_at (scan, j + 1)) || s_alpha (s_at (scan, j + 1)))
             && j > i && scan->text [j - 1] != ' ')
            j++;
        else
            return 0;
    }
    if (s_word (s_at (scan, j)))
        return 0;
    return s_iban_valid (iban, length)? j - i: 0;
}


//  ---------------------------------------------------------------------
//  E-mail address: local part, '@' (or "(at)", "[at]"), and a domain of
//  at least two labels whose last is two or more letters. Spelled out
//  ("sanne.jager at ziggo dot nl") it needs at least one " dot ".

static bool
s_email_local (char c)
{
    return s_alpha (c) || s_digit (c) || (c && strchr ("._%+-'", c));
}

static size_t
s_match_email (en_pii_t *self, s_scan_t *scan, size_t i)
{
    const char *t = scan->text;
    if (!s_email_local (t [i]) || t [i] == '.' || (i > 0 && s_email_local (t [i - 1]))
    ||  (i > 0 && (unsigned char) t [i - 1] >= 0x80))
        return 0;
    size_t j = i;
    while (s_email_local (s_at (scan, j)))
        j++;
    if (j == i)
        return 0;
    //  the '@' or its spelled-out forms: "(at)", "[at]", " at " (the last
    //  only with a domain spelled " dot ", as "at" is also a Dutch word)
    bool spelled = false;
    if (s_at (scan, j) == '@')
        j++;
    else {
        size_t k = j;
        if (s_at (scan, k) == ' ')
            k++;
        if (k + 4 <= scan->size
        &&  (memcmp (scan->lower + k, "(at)", 4) == 0 || memcmp (scan->lower + k, "[at]", 4) == 0))
            k += 4;
        else
        if (k > j && s_word_at (scan, k, "at") && s_at (scan, k + 2) == ' ') {
            k += 2;
            spelled = true;
        }
        else
            return 0;
        if (s_at (scan, k) == ' ')
            k++;
        j = k;
    }
    size_t labels = 0, last_alpha = 0, dots = 0;
    while (true) {
        size_t start = j;
        bool alpha = true;
        while (s_alpha (s_at (scan, j)) || s_digit (s_at (scan, j)) || s_at (scan, j) == '-') {
            alpha = alpha && s_alpha (scan->text [j]);
            j++;
        }
        if (j == start)
            break;
        labels++;
        last_alpha = alpha? j - start: 0;
        if (s_at (scan, j) == '.' && (s_alpha (s_at (scan, j + 1)) || s_digit (s_at (scan, j + 1))))
            j++;
        else
        if (spelled && s_at (scan, j) == ' ' && s_word_at (scan, j + 1, "dot")
             && s_at (scan, j + 4) == ' ' && s_alpha (s_at (scan, j + 5))) {
            j += 5;
            dots++;
        }
        else
            break;
    }
    if (spelled && dots == 0)
        return 0;
    if (labels < 2 || last_alpha < 2 || (unsigned char) s_at (scan, j) >= 0x80)
        return 0;
    return j - i;
}


//  ---------------------------------------------------------------------
//  Postcode: four digits (first not 0), an optional space, two capital
//  letters, not SA, SD or SS (never issued); written together the
//  letters may be lowercase ("7511jk") unless they are a unit ("1500km").
//  A year-like number followed by a common youth-care abbreviation
//  ("sinds 2019 GI", "in 2021 OM", "2024 JZ+") is not a postcode, nor are
//  two capitals starting a compound ("1500 EU-subsidie").

static const char *s_postcode_abbrev [] = {
    "BW", "ET", "EU", "GI", "IQ", "JB", "JR", "JZ", "NL", "OM", "PO", "SO",
    "VO", "VT", "WO", NULL };

static const char *s_postcode_units [] = {
    "km", "hm", "dm", "cm", "mm", "kg", "mg", "gr", "ml", "cl", "dl", "gb",
    "mb", "kb", "tb", "hz", "kw", "pk", "ct", "st", "nd", "rd", "th", "pp",
    "ha", "uu", "ms", "jr", "mn", "md", NULL };

static size_t
s_match_postcode (en_pii_t *self, s_scan_t *scan, size_t i)
{
    const char *t = scan->text;
    int number;
    if (t [i] < '1' || t [i] > '9' || !s_num_start_ok (scan, i)
    ||  s_read_number (scan, i, 5, &number) != 4)
        return 0;
    size_t j = i + 4;
    if (s_at (scan, j) == ' ')
        j++;
    char a = s_at (scan, j), b = s_at (scan, j + 1);
    if (j == i + 4 && s_alpha (a) && s_alpha (b) && !(s_upper (a) && s_upper (b))
    &&  !s_word (s_at (scan, j + 2))) {
        //  written together, lowercase letters are a postcode too, unless
        //  they are a unit ("1500km", "1000mg")
        char unit [3] = { scan->lower [j], scan->lower [j + 1], 0 };
        if (s_in_list (unit, s_postcode_units))
            return 0;
        a = (char) (unit [0] - 'a' + 'A');
        b = (char) (unit [1] - 'a' + 'A');
    }
    if (!s_upper (a) || !s_upper (b) || s_word (s_at (scan, j + 2)))
        return 0;
    if (s_at (scan, j + 2) == '-' && s_alpha (s_at (scan, j + 3)))
        return 0;                               //  "1500 EU-subsidie"
    if (a == 'S' && (b == 'A' || b == 'D' || b == 'S'))
        return 0;
    char letters [3] = { a, b, 0 };
    if (number >= 1900 && number <= 2099 && s_in_list (letters, s_postcode_abbrev))
        return 0;
    return j + 2 - i;
}


//  ---------------------------------------------------------------------
//  Dates. A date is refused as a possible date of birth when
//    - it is a full date: day, month and year (14-03-2012, 14/03/12,
//      14.03.2012, 2012-03-14, 3 maart 2012, 3 mrt. '12, March 3, 2012)
//      whose year lies in the last S_BIRTH_YEARS years up to this year (a
//      two-digit year always does: it can be read as 19jj or 20jj),
//      unless an event word introduces it (sinds, per, vanaf, tot, t/m,
//      op, voor, na, d.d., datum, peildatum, ...) and no birth cue
//      follows within four words ("op 14-03-2012 geboren" is refused);
//    - or it follows a cue word (geb., geboren, geboortedatum, jarig, ...)
//      within four words, in any form: with or without year (geboren op
//      14-03, geboren te Enschede op 3 maart), or month and year (geboren
//      in maart 2012); a bare year only right after the cue or one filler
//      word (geboren in 2012, geboortejaar 2012).
//  Not refused: a day and month alone (overleg op 14-03), a month and a
//  year (sinds maart 2021), a year (OTS sinds 2021), future dates, times,
//  event dates (zitting op 14-03-2025, per 1 januari 2015).

static const struct {
    const char *name;
    int month;
} s_months [] = {
    { "januari", 1 }, { "january", 1 }, { "jan", 1 },
    { "februari", 2 }, { "february", 2 }, { "feb", 2 }, { "febr", 2 },
    { "maart", 3 }, { "march", 3 }, { "mrt", 3 }, { "mar", 3 },
    { "april", 4 }, { "apr", 4 },
    { "mei", 5 }, { "may", 5 },
    { "juni", 6 }, { "june", 6 }, { "jun", 6 },
    { "juli", 7 }, { "july", 7 }, { "jul", 7 },
    { "augustus", 8 }, { "august", 8 }, { "aug", 8 },
    { "september", 9 }, { "sept", 9 }, { "sep", 9 },
    { "oktober", 10 }, { "october", 10 }, { "okt", 10 }, { "oct", 10 },
    { "november", 11 }, { "nov", 11 },
    { "december", 12 }, { "dec", 12 },
    { NULL, 0 }
};

//  Cue words, longest first where one is a prefix of another.
static const char *s_birth_cues [] = {
    "geboortedatum", "geboortedag", "geboortejaar", "geboorte", "geb.datum",
    "geb. datum", "geboren", "geb.", "geb", "d.o.b.", "dob", "date of birth", "born",
    "jarig", "verjaardag", NULL };
static const char *s_birth_fillers [] = {
    "op", "in", "is", "was", "de", "het", "per", "rond", "omstreeks", "circa",
    "ca.", "ca", "d.d.", "dd", "van", "datum", "on", "at", "te", "zijn", "haar",
    "hij", "zij", "ze", NULL };
//  Words that introduce the date of an event, not a birth: "sinds 1 maart
//  2021", "per 1-1-2017", "op 14-03-2025", "d.d. 15-09-2015".
static const char *s_event_words [] = {
    "sinds", "per", "vanaf", "tot", "t/m", "tm", "d.d.", "dd", "peildatum",
    "datum", "voor", "na", "tussen", "uiterlijk", "op", NULL };
//  Nouns that name the event a date belongs to, right before it or with
//  "van" between: "Verslag MDO 14-03-2024", "overleg 12-03-2026",
//  "rapportage van 5 januari 2026", "Kamerbrief van 22 april 2021".
static const char *s_event_nouns [] = {
    "overleg", "mdo", "verslag", "rapportage", "rapport", "brief", "kamerbrief", "gesprek",
    "zitting", "evaluatie", "bespreking", "vergadering", "intake", "afspraak", "melding",
    "beschikking", "uitspraak", "vonnis", "besluit", "notulen", "bijeenkomst", "huisbezoek",
    "plan", "update", "mail", "email", "telefoongesprek", "consult", "consultatie", "triage",
    "aanmelding", "rapportagedatum", "overlegdatum", "zittingsdatum", "startdatum", "einddatum",
    "verslagdatum", "evaluatiedatum", "bericht", "memo", "nieuwsbrief", "versie", "wijziging",
    "ondertekend", "getekend", "verzonden", "ontvangen", "kinderrechter", "rechtbank", NULL };
//  Words before a dotted number that make it a version, not a date.
static const char *s_version_labels [] = {
    "versie", "v", "release", "build", "update", "ip", "nr", "artikel", "art",
    "lid", "paragraaf", "par", "hoofdstuk", "bijlage", "stap", "fase", NULL };

static int s_words_before (s_scan_t *scan, size_t i, char words [][16], int max);

static bool
s_day_month_ok (int day, int month)
{
    static const int days [] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return month >= 1 && month <= 12 && day >= 1 && day <= days [month - 1];
}

//  A month name at i; returns its length (a '.' after an abbreviation
//  included) and sets month, or 0.
static size_t
s_read_month (s_scan_t *scan, size_t i, int *month)
{
    if (!s_word_start (scan, i))
        return 0;
    for (int k = 0; s_months [k].name; k++) {
        size_t len = strlen (s_months [k].name);
        if (s_word_at (scan, i, s_months [k].name)) {
            *month = s_months [k].month;
            if (s_at (scan, i + len) == '.')
                len++;
            return len;
        }
    }
    return 0;
}

//  Skip spaces at j.
static size_t
s_skip_spaces (s_scan_t *scan, size_t j)
{
    while (s_space (s_at (scan, j)))
        j++;
    return j;
}

//  A year at j: four digits, or an apostrophe and two digits ('12). Sets
//  year (four-digit form, or the two digits) and digits (4 or 2).
static size_t
s_read_year (s_scan_t *scan, size_t j, int *year, int *digits)
{
    size_t k = j;
    if (s_at (scan, k) == '\'')
        k++;
    size_t count = s_read_number (scan, k, 5, year);
    if ((k > j && count == 2) || (k == j && count == 4)) {
        *digits = (int) count;
        return k + count - j;
    }
    return 0;
}

typedef struct {
    int day, month, year;       //  0 when absent
    int year_digits;            //  0, 2 or 4
    size_t length;              //  characters read
} s_date_t;

//  Numeric date at i: d-m, d-m-y (y of 2 or 4 digits) with one separator
//  kind of '-', '/', '.'; or y-m-d (ISO). Day and month must be valid.
static bool
s_read_numeric_date (s_scan_t *scan, size_t i, s_date_t *date)
{
    memset (date, 0, sizeof *date);
    if (!s_digit (scan->text [i]) || !s_num_start_ok (scan, i))
        return false;
    int a, b, c;
    size_t la = s_read_number (scan, i, 5, &a);
    char sep = s_at (scan, i + la);
    if (!sep || !strchr ("-/.", sep))
        return false;
    size_t lb = s_read_number (scan, i + la + 1, 3, &b);
    if (lb == 0 || lb > 2)
        return false;
    size_t j = i + la + 1 + lb;
    if (la == 4) {                              //  ISO: y-m-d
        if (s_at (scan, j) != sep)
            return false;
        size_t lc = s_read_number (scan, j + 1, 3, &c);
        if (lc == 0 || lc > 2 || !s_day_month_ok (c, b) || !s_num_end_ok (scan, j + 1 + lc))
            return false;
        *date = (s_date_t) { c, b, a, 4, j + 1 + lc - i };
        return true;
    }
    if (la > 2 || !s_day_month_ok (a, b))
        return false;
    if (s_at (scan, j) == sep && s_digit (s_at (scan, j + 1))) {
        size_t lc = s_read_number (scan, j + 1, 5, &c);
        if ((lc != 2 && lc != 4) || !s_num_end_ok (scan, j + 1 + lc))
            return false;
        if (lc == 2 && sep == '.' && (la != 2 || lb != 2))
            return false;                       //  "2.10.12": a version
        *date = (s_date_t) { a, b, c, (int) lc, j + 1 + lc - i };
        return true;
    }
    if (!s_num_end_ok (scan, j))
        return false;
    *date = (s_date_t) { a, b, 0, 0, j - i };
    return true;
}

//  A written date's day and month, read from i to j, and the year after
//  them when there is one: an optional comma, then one of seps, then
//  the year ("3 maart, 2012", "March 3 2012").
static void
s_date_year (s_scan_t *scan, size_t i, size_t j, const char *seps, int day, int month, s_date_t *date)
{
    *date = (s_date_t) { day, month, 0, 0, j - i };
    size_t k = j;
    if (s_at (scan, k) == ',')
        k++;
    if (s_at (scan, k) && strchr (seps, s_at (scan, k)))
        k++;
    int year, digits;
    size_t ly = s_read_year (scan, k, &year, &digits);
    if (ly && s_num_end_ok (scan, k + ly)) {
        date->year = year;
        date->year_digits = digits;
        date->length = k + ly - i;
    }
}

//  Written date at i: "3 maart", "3 maart 2012", "3 mrt. '12".
static bool
s_read_text_date (s_scan_t *scan, size_t i, s_date_t *date)
{
    memset (date, 0, sizeof *date);
    int day, month;
    size_t ld = s_read_number (scan, i, 3, &day);
    if (ld == 0 || ld > 2 || !s_num_start_ok (scan, i))
        return false;
    size_t j = i + ld;
    if (s_at (scan, j) == '-' || s_at (scan, j) == ' ')
        j++;
    else
        return false;
    size_t lm = s_read_month (scan, j, &month);
    if (lm == 0 || !s_day_month_ok (day, month))
        return false;
    j += lm;
    s_date_year (scan, i, j, " -", day, month, date);
    return true;
}

//  English order at i: "March 3, 2012", "March 3rd 2012", "March 3".
static bool
s_read_english_date (s_scan_t *scan, size_t i, s_date_t *date)
{
    memset (date, 0, sizeof *date);
    int month, day;
    size_t lm = s_read_month (scan, i, &month);
    if (lm == 0 || s_at (scan, i + lm) != ' ')
        return false;
    size_t j = i + lm + 1;
    size_t ld = s_read_number (scan, j, 3, &day);
    if (ld == 0 || ld > 2 || !s_day_month_ok (day, month))
        return false;
    j += ld;
    for (const char **ord = (const char *[]) { "st", "nd", "rd", "th", NULL }; *ord; ord++)
        if (s_word_at (scan, j, *ord))
            j += 2;
    if (s_word (s_at (scan, j)) || (s_at (scan, j) && strchr ("-/.:", s_at (scan, j))
                                    && s_digit (s_at (scan, j + 1))))
        return false;
    s_date_year (scan, i, j, " ", day, month, date);
    return true;
}

static bool
s_year_plausible (en_pii_t *self, s_date_t *date)
{
    if (date->year_digits == 2)
        return true;
    return date->year_digits == 4 && date->year <= self->year_now
        && date->year >= self->year_now - S_BIRTH_YEARS;
}

//  True if the lowercase text just before i (spaces and colons skipped)
//  is one of words, as a whole word.
static bool
s_preceded_by (s_scan_t *scan, size_t i, const char **words)
{
    size_t k = i;
    while (k > 0 && (s_space (scan->text [k - 1]) || scan->text [k - 1] == ':'))
        k--;
    for (; *words; words++) {
        size_t len = strlen (*words);
        if (k >= len && memcmp (scan->lower + k - len, *words, len) == 0
        &&  (k == len || !s_alpha (scan->text [k - len - 1])))
            return true;
    }
    return false;
}

//  True if a birth cue follows j within four words ("op 14-03-2012 in
//  Enschede geboren", "14-03-2012 (geboortedatum)").
static bool
s_birth_cue_after (s_scan_t *scan, size_t j)
{
    for (int words = 0; words < 4; words++) {
        while (s_at (scan, j) && !s_alpha (s_at (scan, j)) && strchr (" \t\r\n(),:", s_at (scan, j)))
            j++;
        for (int k = 0; s_birth_cues [k]; k++)
            if (s_word_start (scan, j) && s_word_at (scan, j, s_birth_cues [k]))
                return true;
        size_t start = j;
        while (s_alpha (s_at (scan, j)))
            j++;
        if (j == start)
            return false;
    }
    return false;
}

//  True if an event noun names the date at i ("MDO 14-03-2024",
//  "brief van 22 april 2021").
static bool
s_event_noun_before (s_scan_t *scan, size_t i)
{
    char words [2][16];
    int count = s_words_before (scan, i, words, 2);
    if (count >= 1 && s_in_list (words [0], s_event_nouns))
        return true;
    return count >= 2 && streq (words [0], "van") && s_in_list (words [1], s_event_nouns);
}

//  A full date with a plausible birth year, anchored at i, unless an
//  event word or noun introduces it and no birth cue follows.
static size_t
s_match_date (en_pii_t *self, s_scan_t *scan, size_t i)
{
    s_date_t date;
    size_t length = 0;
    if (s_alpha (scan->text [i])) {
        if (s_read_english_date (scan, i, &date) && date.year_digits
        &&  s_year_plausible (self, &date))
            length = date.length;
    }
    else
    if (s_digit (scan->text [i])) {
        if (s_read_numeric_date (scan, i, &date) && date.year_digits
        &&  s_year_plausible (self, &date)) {
            char label [32];
            s_word_before (scan, i, label, sizeof label);
            bool dotted = memchr (scan->text + i, '.', date.length) != NULL;
            if (!(dotted && s_in_list (label, s_version_labels)))
                length = date.length;
        }
        if (!length && s_read_text_date (scan, i, &date) && date.year_digits
        &&  s_year_plausible (self, &date))
            length = date.length;
    }
    if (length && (s_preceded_by (scan, i, s_event_words) || s_event_noun_before (scan, i))
    &&  !s_birth_cue_after (scan, i + length))
        return 0;
    return length;
}

//  The first word of list at the word start i: the position after it,
//  or 0 (list longest first where one word is a prefix of another).
static size_t
s_cue_at (s_scan_t *scan, size_t i, const char **list)
{
    if (!s_alpha (scan->text [i]) || !s_word_start (scan, i))
        return 0;
    for (int k = 0; list [k]; k++)
        if (s_word_at (scan, i, list [k]))
            return i + strlen (list [k]);
    return 0;
}

//  A cue word at i followed by a date in any form.
static size_t
s_match_birth_cue (en_pii_t *self, s_scan_t *scan, size_t i)
{
    size_t j = s_cue_at (scan, i, s_birth_cues);
    if (!j)
        return 0;
    //  Up to four words may stand between the cue and the date ("geboren
    //  te Enschede op 3 maart"); a bare year only right after the cue or
    //  one filler ("geboren in 2012", not "geboren in Marokko, in 2015
    //  verhuisd").
    bool only_fillers = true;
    for (int skipped = 0; skipped <= 4; skipped++) {
        while (s_at (scan, j) && strchr (" \t\r\n:,=(", s_at (scan, j)))
            j++;
        s_date_t date;
        int year, month;
        size_t len;
        if (s_read_numeric_date (scan, j, &date)
        ||  s_read_text_date (scan, j, &date)
        ||  s_read_english_date (scan, j, &date))
            return j + date.length - i;
        if ((len = s_read_month (scan, j, &month))) {
            size_t k = s_skip_spaces (scan, j + len);
            int digits;
            size_t ly = s_read_year (scan, k, &year, &digits);
            if (ly && s_num_end_ok (scan, k + ly))
                return k + ly - i;
        }
        if (skipped <= 1 && only_fillers
        &&  s_digit (s_at (scan, j)) && s_num_start_ok (scan, j)
        &&  s_read_number (scan, j, 5, &year) == 4 && s_num_end_ok (scan, j + 4)
        &&  year >= self->year_now - S_BIRTH_YEARS && year <= self->year_now)
            return j + 4 - i;
        //  skip a filler (which may end in '.') or any word
        size_t next = j;
        for (int k = 0; s_birth_fillers [k] && next == j; k++)
            if (s_word_at (scan, j, s_birth_fillers [k]))
                next = j + strlen (s_birth_fillers [k]);
        if (next == j) {
            only_fillers = false;
            while (s_alpha (s_at (scan, next)) || s_at (scan, next) == '-')
                next++;
            if (next == j || s_word (s_at (scan, next)))
                return 0;                       //  not a word: a number, a sentence end
        }
        j = next;
    }
    return 0;
}


//  ---------------------------------------------------------------------
//  Phone number: digits with single separators (space, '-', '.', '/')
//  and parentheses around an area code or "(0)". Accepted when the
//  digits are a Dutch number (0 + 9 digits; +31 or 0031 + 9 digits, a
//  "(0)" after the country code dropped), a service number (0800, 0900,
//  0906, 0909 + 4 to 7 digits), or another country's number (+ or 00,
//  then 8 to 15 digits). The longest acceptable reading wins.

static bool
s_phone_digits_ok (const char *digits, size_t count, bool plus)
{
    if (plus || (count > 2 && digits [0] == '0' && digits [1] == '0')) {
        const char *cc = plus? digits: digits + 2;
        size_t rest = plus? count: count - 2;
        if (rest >= 2 && cc [0] == '3' && cc [1] == '1') {
            const char *national = cc + 2;
            size_t size = rest - 2;
            if (size > 0 && national [0] == '0') {
                national++;
                size--;
            }
            return size == 9 && national [0] != '0';
        }
        return rest >= 8 && rest <= 15 && cc [0] != '0';
    }
    if (count < 8 || digits [0] != '0' || digits [1] == '0')
        return false;
    if (memcmp (digits, "0800", 4) == 0 || memcmp (digits, "0900", 4) == 0
    ||  memcmp (digits, "0906", 4) == 0 || memcmp (digits, "0909", 4) == 0)
        return count >= 8 && count <= 11;
    return count == 10;
}

static size_t
s_match_phone (en_pii_t *self, s_scan_t *scan, size_t i)
{
    const char *t = scan->text;
    bool plus = t [i] == '+';
    if (!(s_digit (t [i]) || plus || t [i] == '(') || !s_num_start_ok (scan, i))
        return 0;
    if (plus && !s_digit (s_at (scan, i + 1)))
        return 0;
    if (t [i] == '(' && s_at (scan, i + 1) != '0')
        return 0;
    if (s_digit (t [i]) && t [i] != '0')
        return 0;
    s_date_t date;
    if (s_digit (t [i]) && s_read_numeric_date (scan, i, &date) && date.year_digits)
        return 0;                               //  "op 06-12-2012 12 jongeren"
    char digits [20];
    size_t count = 0, j = plus? i + 1: i, best = 0;
    while (count < 16) {
        //  a gap of up to three separators and parentheses
        size_t gap = 0;
        while (gap < 3 && s_at (scan, j) && strchr (" -./()", s_at (scan, j))) {
            if (count == 0 && s_at (scan, j) != '(')
                break;
            j++;
            gap++;
        }
        if (!s_digit (s_at (scan, j)))
            break;
        while (s_digit (s_at (scan, j)) && count < 16)
            digits [count++] = t [j++];
        if (s_phone_digits_ok (digits, count, plus)) {
            size_t end = j;
            if (s_at (scan, end) == ')')
                end++;
            if (s_num_end_ok (scan, j))
                best = end;
        }
    }
    return best? best - i: 0;
}


//  ---------------------------------------------------------------------
//  Street address: a word ending in a street suffix, a space, and a
//  house number (1 to 5 digits, first not 0) with an optional addition
//  (12a, 12-2, 12-II, 12 bis, 12 hs). A word that is only the suffix
//  must be capitalized ("Markt 3", not "op straat 3"); common nouns with
//  these endings are listed and pass when written in lowercase
//  ("loopbaan 2", but "Schoolplein 2" is a street); a number followed by
//  a unit ("3 keer", "2 jaar") is not a house number. Without a suffix,
//  up to five capitalized words or particles (van, de, ...) and a house
//  number are an address after a cue: "adres:", "woont aan de",
//  "verhuisd naar de".

static const char *s_street_suffixes [] = {
    "straat", "laan", "weg", "plein", "gracht", "kade", "singel", "dijk",
    "pad", "steeg", "hof", "dreef", "park", "baan", "markt", "wal",
    "plantsoen", "allee", "boulevard", "kwartier", "hoven", "erf", NULL };
static const char *s_street_nouns [] = {
    "loopbaan", "bijbaan", "arbeidsmarkt", "woningmarkt", "zorgmarkt",
    "jeugdzorgmarkt", "zorgpad", "behandelpad", "leerpad", "hulppad",
    "trainingspad", "fietspad", "voetpad", "onderweg", "snelweg", "uitweg",
    "omweg", "zijweg", "halfweg", "gerechtshof", "schoolplein", "speelplein",
    "vakantiepark", "bedrijfspark", "attractiepark", "bederf", "werf",
    "sterf", "speelkwartier", NULL };
static const char *s_units [] = {
    "jaar", "jaren", "keer", "x", "maand", "maanden", "week", "weken", "dag",
    "dagen", "uur", "uren", "minuten", "min", "km", "kilometer", "meter",
    "euro", "eur", "procent", "kinderen", "kind", "personen", "clienten",
    "jongeren", "punten", "plekken", "plaatsen", "bedden", "sessies",
    "gesprekken", "gezinnen", "casussen", "nachten", "trajecten", NULL };
static const char *s_house_additions [] = { "bis", "hs", "huis", "zw", "rd", NULL };

//  The end of the street word at i: letters with inner hyphens and
//  apostrophes (Sint-Jansstraat, 's-Gravenweg).
static size_t
s_street_word_end (s_scan_t *scan, size_t i)
{
    size_t w = i;
    while (s_alpha (s_at (scan, w))
       || ((s_at (scan, w) == '-' || s_at (scan, w) == '\'') && s_alpha (s_at (scan, w + 1))))
        w++;
    return w;
}

//  A house number at j: 1 to 5 digits, first not 0, with an optional
//  addition (12a, 12-2, 12-II, 12 bis, 12 hs). Returns its end, or 0 when
//  it is no house number: a decimal, a time, a percentage, or a count
//  followed by a unit ("3 keer", "2 jaar").
static size_t
s_house_number (s_scan_t *scan, size_t j)
{
    const char *t = scan->text, *lower = scan->lower;
    int number;
    size_t ln = s_read_number (scan, j, 6, &number);
    if (ln == 0 || ln > 5 || t [j] == '0')
        return 0;
    j += ln;
    if (s_alpha (s_at (scan, j)) && !s_word (s_at (scan, j + 1)))
        j++;                                    //  12a
    else
    if (s_at (scan, j) == '-' && s_word (s_at (scan, j + 1))) {
        size_t k = j + 1;                       //  12-2, 12-II, 12-hs
        while (k < j + 6 && s_word (s_at (scan, k)))
            k++;
        if (!s_word (s_at (scan, k)))
            j = k;
    }
    if (s_word (s_at (scan, j)) || s_at (scan, j) == '%'
    ||  (s_at (scan, j) && strchr (".,:/", s_at (scan, j)) && s_digit (s_at (scan, j + 1))))
        return 0;
    //  what follows: a unit makes it a count, an addition belongs to it
    size_t k = s_skip_spaces (scan, j);
    size_t e = k;
    while (s_alpha (s_at (scan, e)))
        e++;
    if (e > k && e - k < 16 && !s_word (s_at (scan, e))) {
        char next [16];
        memcpy (next, lower + k, e - k);
        next [e - k] = 0;
        if (s_in_list (next, s_units))
            return 0;
        if (s_in_list (next, s_house_additions) && k == j + 1)
            j = e;
    }
    return j;
}

//  Up to max words before i (letters only, lowercased, nearest first),
//  skipping spaces and colons between them.
static int
s_words_before (s_scan_t *scan, size_t i, char words [][16], int max)
{
    int count = 0;
    size_t j = i;
    while (count < max) {
        while (j > 0 && (s_space (scan->text [j - 1]) || scan->text [j - 1] == ':'))
            j--;
        size_t end = j;
        while (j > 0 && s_alpha (scan->text [j - 1]))
            j--;
        if (j == end || end - j >= 16)
            break;
        memcpy (words [count], scan->lower + j, end - j);
        words [count][end - j] = 0;
        count++;
    }
    return count;
}

//  The words before i announce an address: "adres:", "woont aan de",
//  "woonachtig op het", "verhuisd naar de".
static bool
s_address_cue (s_scan_t *scan, size_t i)
{
    static const char *labels [] = { "adres", "woonadres", "huisadres", "postadres", NULL };
    static const char *live [] = { "woont", "wonen", "woonde", "wonend", "woonachtig", NULL };
    static const char *move [] = { "verhuisd", "verhuist", "verhuizen", "verhuisde", NULL };
    char words [4][16];
    int count = s_words_before (scan, i, words, 4);
    if (count >= 1 && s_in_list (words [0], labels))
        return true;
    int k = count >= 1 && (streq (words [0], "de") || streq (words [0], "het"))? 1: 0;
    if (count < k + 2)
        return false;
    if ((streq (words [k], "aan") || streq (words [k], "op")) && s_in_list (words [k + 1], live))
        return true;
    return streq (words [k], "naar") && s_in_list (words [k + 1], move);
}

static size_t s_house_number_words (s_scan_t *scan, size_t j);

static size_t
s_match_address (en_pii_t *self, s_scan_t *scan, size_t i)
{
    const char *t = scan->text, *lower = scan->lower;
    if (!s_alpha (t [i]) || !s_word_start (scan, i) || (i > 0 && t [i - 1] == '-'))
        return 0;
    size_t w = s_street_word_end (scan, i);
    if (s_at (scan, w) != ' ' || w - i >= 64)
        return 0;
    //  a street suffix: Kerkstraat, Oude Markt (not "op straat", "loopbaan")
    char word [64];
    size_t len = w - i;
    memcpy (word, lower + i, len);
    word [len] = 0;
    bool suffix = false;
    for (int k = 0; s_street_suffixes [k] && !suffix; k++) {
        size_t sl = strlen (s_street_suffixes [k]);
        if (len >= sl && streq (word + len - sl, s_street_suffixes [k]))
            suffix = len > sl || s_upper (t [i]);
    }
    if (suffix && !(!s_upper (t [i]) && s_in_list (word, s_street_nouns))) {
        size_t end = s_house_number (scan, w + 1);
        if (!end)
            end = s_house_number_words (scan, w + 1);
        if (end)
            return end - i;
    }
    //  any capitalized street name of up to five words (particles
    //  included) after a cue: "woont aan de Plein van de Vrijheid 4"
    if (!s_upper (t [i]) || !s_address_cue (scan, i))
        return 0;
    static const char *particles [] = {
        "van", "de", "der", "den", "het", "ter", "ten", "te", "op", "aan", "'t", NULL };
    for (int words = 1; words <= 5; words++) {
        size_t end = s_house_number (scan, w + 1);
        if (!end)
            end = s_house_number_words (scan, w + 1);
        if (end)
            return end - i;
        size_t next = w + 1;
        w = s_street_word_end (scan, next);
        if (w == next || s_at (scan, w) != ' ' || w - next >= sizeof word)
            return 0;
        memcpy (word, lower + next, w - next);
        word [w - next] = 0;
        if (!s_upper (t [next]) && !s_in_list (word, particles))
            return 0;                           //  "naar de Achterhoek in 2021"
    }
    return 0;
}


//  ---------------------------------------------------------------------
//  Client names: at each word start, look up the runs of 1 up to
//  name_words words (joined by single spaces, hyphens, apostrophes or
//  ". ") in the set of folded names. A single word also matches as a
//  listed name with a diminutive ending (Daantje for Daan).

static bool
s_name_char (char c)
{
    return s_word (c);
}

//  A one-word key that is a listed name with a Dutch diminutive ending:
//  Daantje, Noortje, Evaatje, Bramje.
static bool
s_diminutive (en_pii_t *self, char *key, size_t key_len)
{
    static const char *endings [] = { "etje", "atje", "tje", "pje", "je", NULL };
    bool found = false;
    for (int k = 0; endings [k] && !found; k++) {
        size_t len = strlen (endings [k]);
        if (key_len >= len + 2 && streq (key + key_len - len, endings [k])) {
            char saved = key [key_len - len];
            key [key_len - len] = 0;
            found = zhashx_lookup (self->names, key) != NULL;
            key [key_len - len] = saved;
        }
    }
    return found;
}

static size_t
s_match_name (en_pii_t *self, s_scan_t *scan, size_t i)
{
    const char *lower = scan->lower;
    if (self->name_words == 0 || !s_name_char (lower [i]) || !s_word_start (scan, i))
        return 0;
    char key [S_NAME_MAX + 1];
    size_t key_len = 0, words = 0, j = i, best = 0;
    while (words < self->name_words && key_len < S_NAME_MAX) {
        //  one word
        while (s_name_char (s_at (scan, j)) && key_len < S_NAME_MAX)
            key [key_len++] = lower [j++];
        if (s_name_char (s_at (scan, j)))
            break;                              //  longer than any name
        words++;
        key [key_len] = 0;
        if (zhashx_lookup (self->names, key) || (words == 1 && s_diminutive (self, key, key_len)))
            best = j;
        //  the gap to the next word: whitespace becomes one space
        size_t k = j;
        char gap [4];
        size_t gap_len = 0;
        while (k < scan->size && !s_name_char (lower [k]) && gap_len < 3) {
            char c = lower [k];
            if (s_space (c)) {
                if (gap_len == 0 || gap [gap_len - 1] != ' ')
                    gap [gap_len++] = ' ';
            }
            else
            if (c == '-' || c == '\'' || c == '.')
                gap [gap_len++] = c;
            else
                break;
            k++;
        }
        if (gap_len == 0 || k >= scan->size || !s_name_char (lower [k])
        ||  key_len + gap_len >= S_NAME_MAX)
            break;
        memcpy (key + key_len, gap, gap_len);
        key_len += gap_len;
        j = k;
    }
    sodium_memzero (key, sizeof key);
    return best? best - i: 0;
}


//  ---------------------------------------------------------------------
//  Numbers in words and with the letter O for zero. A BSN or a phone
//  number read aloud and typed ("nul zes twaalf vierendertig ..."), or
//  typed with O for 0 ("O6-12345678"), is still a BSN or a phone number.
//  Number words 0..999 (drieentwintig is drieëntwintig folded) and
//  digit groups in which o/O stands for 0 are read as tokens joined by
//  spaces, '-', '.' or ','; their digits are then checked as a BSN (nine,
//  11-proef) or a Dutch phone number (ten, 0 and not 00). A run of plain
//  digits is left to the matchers above: only a run with a word or an O
//  in it is read here.

static const char *s_unit_words [] = {
    "nul", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", NULL };
static const char *s_teen_words [] = {
    "tien", "elf", "twaalf", "dertien", "veertien", "vijftien", "zestien", "zeventien",
    "achttien", "negentien", NULL };
static const char *s_ten_words [] = {
    "twintig", "dertig", "veertig", "vijftig", "zestig", "zeventig", "tachtig", "negentig", NULL };

//  Index of the word of len characters at p in list, or -1.
static int
s_word_index (const char *p, size_t len, const char **list)
{
    for (int k = 0; list [k]; k++)
        if (list [k][0] == p [0] && strlen (list [k]) == len && memcmp (p, list [k], len) == 0)
            return k;
    return -1;
}

//  A lowercase number word 0..99 ("zeventien", "vierendertig"), or -1.
static int
s_words_to_99 (const char *p, size_t len)
{
    int k;
    if ((k = s_word_index (p, len, s_unit_words)) >= 0)
        return k;
    if ((k = s_word_index (p, len, s_teen_words)) >= 0)
        return 10 + k;
    if ((k = s_word_index (p, len, s_ten_words)) >= 0)
        return 20 + 10 * k;
    for (int unit = 1; s_unit_words [unit]; unit++) {
        size_t ul = strlen (s_unit_words [unit]);
        if (len > ul + 2 && memcmp (p, s_unit_words [unit], ul) == 0 && memcmp (p + ul, "en", 2) == 0
        &&  (k = s_word_index (p + ul + 2, len - ul - 2, s_ten_words)) >= 0)
            return unit + 20 + 10 * k;
    }
    return -1;
}

//  A lowercase number word 0..999 ("honderdvijftien", "tweehonderd"), or -1.
static int
s_number_word (const char *p, size_t len)
{
    int value = s_words_to_99 (p, len);
    if (value >= 0)
        return value;
    const char *hundred = memmem (p, len, "honderd", 7);
    if (!hundred)
        return -1;
    size_t before = (size_t) (hundred - p), after = len - before - 7;
    int hundreds = before ? s_words_to_99 (p, before) : 1;
    int rest = after ? s_words_to_99 (hundred + 7, after) : 0;
    if (hundreds < 1 || hundreds > 9 || (before && hundreds < 2) || rest < 0 || (after && rest == 0))
        return -1;
    return hundreds * 100 + rest;
}

//  The run at i whose digits are a BSN (kind S_BSN) or a phone number
//  (S_PHONE), with at least one number word or letter O in it. A run
//  that reads as a phone number is not a BSN, even when its first nine
//  digits pass the 11-proef.
static size_t
s_match_spelled (s_scan_t *scan, size_t i, s_kind_t kind)
{
    if (!s_word (scan->text [i]) || !s_word_start (scan, i))
        return 0;
    char digits [16];
    size_t count = 0, j = i, bsn = 0, phone = 0;
    bool spelled = false;
    while (true) {
        size_t end = j;
        while (s_word (s_at (scan, end)))
            end++;
        const char *word = scan->lower + j;
        size_t len = end - j;
        char token [16];
        size_t token_len = 0;
        int value = len < 20 ? s_number_word (word, len) : -1;
        if (value >= 0) {
            token_len = (size_t) snprintf (token, sizeof token, "%d", value);
            spelled = true;
        }
        else {
            //  digits, o standing for 0; at least one real digit
            bool digit = false;
            for (size_t k = 0; k < len && k < sizeof token; k++) {
                if (s_digit (word [k]))
                    digit = true;
                else
                if (word [k] != 'o')
                    goto done;
                token [token_len++] = s_digit (word [k]) ? word [k] : '0';
            }
            if (!digit || token_len != len)
                break;
            spelled = spelled || memchr (word, 'o', len);
        }
        if (count + token_len > 12)
            break;
        memcpy (digits + count, token, token_len);
        count += token_len;
        if (spelled && count == 9 && s_elfproef (digits))
            bsn = end;
        if (spelled && count == 10 && digits [0] == '0' && digits [1] != '0')
            phone = end;
        //  up to three separators to the next token
        size_t k = end;
        while (k < end + 3 && s_at (scan, k) && strchr (" -.,", s_at (scan, k)))
            k++;
        if (k == end || !s_word (s_at (scan, k)))
            break;
        j = k;
    }
done:
    if (kind == S_PHONE)
        return phone ? phone - i : 0;
    return bsn && !phone ? bsn - i : 0;
}

static size_t
s_match_spelled_bsn (en_pii_t *self, s_scan_t *scan, size_t i)
{
    return s_match_spelled (scan, i, S_BSN);
}

static size_t
s_match_spelled_phone (en_pii_t *self, s_scan_t *scan, size_t i)
{
    return s_match_spelled (scan, i, S_PHONE);
}


//  ---------------------------------------------------------------------
//  Case numbers of the courts, the Raad voor de Kinderbescherming and
//  Veilig Thuis. They identify a child as surely as a BSN to anyone who
//  can look them up. After a label (zaaknummer, rekestnummer, rolnummer,
//  parketnummer, meldingsnummer, kenmerk, ...) any code with four or more
//  digits; without one, the formats of the courts: C/05/123456 (zaak),
//  JE RK 23-456 or FA RK 23-1234 (rekest), 200.123.456/01 (hof),
//  05/123456-23 (parket); and a number of five or more digits after VT
//  or RvdK (VT-2023-012345).

//  Skip separators (any of seps) and up to max filler words at j ("nr",
//  "van de rechtbank", "account"): the position after them.
static size_t
s_skip_fillers (s_scan_t *scan, size_t j, const char *seps, const char **fillers, int max)
{
    for (int words = 0; words < max; words++) {
        while (s_at (scan, j) && strchr (seps, s_at (scan, j)))
            j++;
        size_t next = j;
        for (int f = 0; fillers [f] && next == j; f++)
            if (s_word_at (scan, j, fillers [f]))
                next = j + strlen (fillers [f]);
        if (next == j)
            break;
        j = next;
    }
    while (s_at (scan, j) && strchr (seps, s_at (scan, j)))
        j++;
    return j;
}

//  The word of letters at j, if it is on list: its end, else 0.
static size_t
s_listed_word (s_scan_t *scan, size_t j, const char **list)
{
    size_t end = j;
    while (s_alpha (s_at (scan, end)))
        end++;
    char word [24];
    if (end == j || end - j >= sizeof word || s_word (s_at (scan, end)))
        return 0;
    memcpy (word, scan->lower + j, end - j);
    word [end - j] = 0;
    return s_in_list (word, list) ? end : 0;
}

static const char *s_case_labels [] = {
    "zaaknummer", "zaaknummers", "zaak-nummer", "zaaknr.", "zaaknr", "zaakkenmerk",
    "rekestnummer", "rekestnr.", "rekestnr", "rekest", "verzoekschriftnummer",
    "rolnummer", "rolnr.", "rolnr", "parketnummer", "parketnr.", "parketnr",
    "meldingsnummer", "meldingnummer", "meldingsnr.", "meldingsnr", "vt-nummer", "vt-nr.",
    "vt-nr", "rvdk-nummer", "raadsnummer", "kenmerk", "procedurenummer", "ecli", NULL };
static const char *s_case_fillers [] = { "nr.", "nr", "nummer", "is", "van", "de", "het", "rechtbank", NULL };

//  A code at j: letters, digits and inner '/', '.', '-', ':' (C/05/123456,
//  23-456, VT-2023-012345). Its end if it holds at least min digits, else 0.
static size_t
s_case_code (s_scan_t *scan, size_t j, int min)
{
    int digits = 0;
    size_t k = j;
    while (s_word (s_at (scan, k))
       || (s_at (scan, k) && strchr ("/.-:", s_at (scan, k)) && s_word (s_at (scan, k + 1)) && k > j)) {
        digits += s_digit (s_at (scan, k));
        k++;
    }
    return digits >= min ? k : 0;
}

//  n digits at j, exactly: not followed by another digit.
static bool
s_digits_at (s_scan_t *scan, size_t j, size_t min, size_t max, size_t *len)
{
    int value;
    *len = s_read_number (scan, j, max + 1, &value);
    return *len >= min && *len <= max;
}

static size_t
s_match_case_number (en_pii_t *self, s_scan_t *scan, size_t i)
{
    const char *t = scan->text;
    if (!s_word (t [i]) || !s_word_start (scan, i))
        return 0;
    size_t len, j;
    //  a label, fillers, then the code
    for (int k = 0; s_case_labels [k]; k++)
        if (s_word_at (scan, i, s_case_labels [k])) {
            j = s_skip_fillers (scan, i + strlen (s_case_labels [k]), " :#=(", s_case_fillers, 4);
            size_t end = s_case_code (scan, j, 4);
            return end ? end - i : 0;
        }
    //  C/05/123456
    if (s_upper (t [i]) && s_at (scan, i + 1) == '/' && s_digits_at (scan, i + 2, 2, 2, &len)
    &&  s_at (scan, i + 4) == '/' && s_digits_at (scan, i + 5, 4, 7, &len) && s_num_end_ok (scan, i + 5 + len))
        return 5 + len;
    //  JE RK 23-456, FA RK 22/1234 (not "ADHD 12-17": two capitals, then two)
    if (s_upper (t [i]) && s_upper (s_at (scan, i + 1)) && !s_alpha (s_at (scan, i + 2))) {
        j = i + 2;
        if (s_at (scan, j) == ' ')
            j++;
        if (s_upper (s_at (scan, j)) && s_upper (s_at (scan, j + 1)) && !s_word (s_at (scan, j + 2))) {
            j += 2;
            if (s_at (scan, j) == ' ')
                j++;
            size_t second;
            if (s_digits_at (scan, j, 2, 2, &len) && s_at (scan, j + 2) && strchr ("-/", s_at (scan, j + 2))
            &&  s_digits_at (scan, j + 3, 2, 7, &second) && s_num_end_ok (scan, j + 3 + second))
                return j + 3 + second - i;
        }
    }
    //  VT-2023-012345, RvdK 2023.12345
    if (s_word_at (scan, i, "vt") || s_word_at (scan, i, "rvdk")) {
        j = i + (s_word_at (scan, i, "vt") ? 2 : 4);
        if (s_at (scan, j) == '-' || s_at (scan, j) == ' ' || s_at (scan, j) == ':')
            j++;
        if (s_at (scan, j) == ' ')
            j++;
        size_t end = s_digit (s_at (scan, j)) ? s_case_code (scan, j, 5) : 0;
        return end ? end - i : 0;
    }
    if (!s_digit (t [i]) || !s_num_start_ok (scan, i))
        return 0;
    //  200.123.456/01 (gerechtshof)
    size_t l1, l2, l3, l4;
    if (s_digits_at (scan, i, 3, 3, &l1) && s_at (scan, i + 3) == '.' && s_digits_at (scan, i + 4, 3, 3, &l2)
    &&  s_at (scan, i + 7) == '.' && s_digits_at (scan, i + 8, 3, 3, &l3) && s_at (scan, i + 11) == '/'
    &&  s_digits_at (scan, i + 12, 2, 2, &l4) && s_num_end_ok (scan, i + 14))
        return 14;
    //  05/123456-23 (parket)
    if (s_digits_at (scan, i, 2, 2, &l1) && s_at (scan, i + 2) == '/' && s_digits_at (scan, i + 3, 6, 6, &l2)
    &&  s_at (scan, i + 9) == '-' && s_digits_at (scan, i + 10, 2, 2, &l3) && s_num_end_ok (scan, i + 12))
        return 12;
    return 0;
}


//  ---------------------------------------------------------------------
//  Social media: a profile link (instagram.com/naam, tiktok.com/@naam),
//  a handle (@naam_2011), or a platform named with an account that looks
//  like one ("snapchat: lisa_2011", "insta lisa.x"): a handle there
//  starts with @ or holds '_', '.' or a digit, since an ordinary word
//  after "snap" or "insta" is too often just a word.

static const char *s_social_domains [] = {
    "instagram.com/", "instagr.am/", "tiktok.com/", "vm.tiktok.com/", "snapchat.com/",
    "facebook.com/", "m.facebook.com/", "fb.com/", "twitter.com/", "x.com/", "youtube.com/",
    "linkedin.com/in/", "t.me/", "wa.me/", "threads.net/", "twitch.tv/", "discord.gg/",
    "pinterest.com/", "reddit.com/user/", "reddit.com/u/", "onlyfans.com/", NULL };
static const char *s_social_cues [] = {
    "instagram", "insta", "ig", "snapchat", "snap", "tiktok", "facebook", "fb", "twitter",
    "youtube", "discord", "telegram", "threads", "twitch", NULL };
static const char *s_social_fillers [] = {
    "account", "naam", "accountnaam", "gebruikersnaam", "is", "als", "heet", "onder", "de", "het",
    "met", "op", NULL };
static const char *s_handle_words [] = {
    "home", "school", "work", "werk", "thuis", "kantoor", "all", "here", "everyone", NULL };

static bool
s_handle_char (char c)
{
    return s_alpha (c) || s_digit (c) || c == '_' || c == '.';
}

//  A handle at j ('@' optional): 2..30 handle characters with a letter,
//  not ending in '.'. Its end, and whether it looks like a handle
//  (an '@', '_', '.', or a digit in it).
static size_t
s_handle (s_scan_t *scan, size_t j, bool *marked)
{
    size_t start = j;
    *marked = false;
    if (s_at (scan, j) == '@') {
        *marked = true;
        j++;
    }
    size_t first = j;
    bool letter = false;
    if (s_at (scan, j) == '.')
        return 0;
    while (s_handle_char (s_at (scan, j)) && j - first < 31) {
        letter = letter || s_alpha (scan->text [j]);
        *marked = *marked || !s_alpha (scan->text [j]);
        j++;
    }
    while (j > first && scan->text [j - 1] == '.')
        j--;
    if (j - first < 2 || !letter || s_word (s_at (scan, j)) || s_at (scan, j) == '@')
        return 0;
    char word [32];
    memcpy (word, scan->lower + first, j - first);
    word [j - first] = 0;
    if (s_in_list (word, s_handle_words))
        return 0;
    return j > start ? j : 0;
}

static size_t
s_match_social (en_pii_t *self, s_scan_t *scan, size_t i)
{
    const char *t = scan->text;
    bool marked;
    size_t end;
    if (t [i] == '@') {
        //  a handle: not the '@' of an e-mail address
        if (i > 0 && (s_email_local (t [i - 1]) || (unsigned char) t [i - 1] >= 0x80))
            return 0;
        end = s_handle (scan, i, &marked);
        return end ? end - i : 0;
    }
    if (!s_alpha (t [i]) || !s_word_start (scan, i))
        return 0;
    size_t j = i;
    if (s_word_at (scan, j, "https") || s_word_at (scan, j, "http")) {
        j += s_word_at (scan, j, "https") ? 5 : 4;
        if (s_at (scan, j) != ':' || s_at (scan, j + 1) != '/' || s_at (scan, j + 2) != '/')
            return 0;
        j += 3;
    }
    if (j + 4 <= scan->size && memcmp (scan->lower + j, "www.", 4) == 0)
        j += 4;
    for (int k = 0; s_social_domains [k]; k++) {
        size_t len = strlen (s_social_domains [k]);
        if (j + len <= scan->size && memcmp (scan->lower + j, s_social_domains [k], len) == 0) {
            size_t path = j + len;
            while (s_handle_char (s_at (scan, path)) || s_at (scan, path) == '@' || s_at (scan, path) == '-'
               ||  (s_at (scan, path) == '/' && s_handle_char (s_at (scan, path + 1))))
                path++;
            while (path > j + len && scan->text [path - 1] == '.')
                path--;
            return path >= j + len + 2 ? path - i : 0;
        }
    }
    for (int k = 0; s_social_cues [k]; k++)
        if (s_word_at (scan, i, s_social_cues [k])) {
            j = i + strlen (s_social_cues [k]);
            if (!s_at (scan, j) || !strchr (" :-", s_at (scan, j)))
                return 0;                       //  "instagram.com" is no account
            j = s_skip_fillers (scan, j, " :-", s_social_fillers, 3);
            end = s_handle (scan, j, &marked);
            int letters = 0;
            for (size_t k = j; k < end; k++)
                letters += s_alpha (scan->text [k]);
            return end && marked && letters >= 2 ? end - i : 0;     //  not "Snapchat 2x"
        }
    return 0;
}


//  ---------------------------------------------------------------------
//  School and class: a class (groep 7, klas 2b, leerjaar 3, brugklas)
//  followed by the school's name ("groep 7 van De Regenboog", "klas 2b
//  op het Bonhoeffer College"), or a kind of school with its name and
//  its town ("basisschool De Regenboog in Hengelo", "Carmel College in
//  Oldenzaal"). A class without a named school ("groep 8 van de
//  basisschool") passes, as does a school without class or town.

static const char *s_school_kinds [] = {
    "basisschool", "school", "obs", "cbs", "rkbs", "pcbs", "sbo", "sbao", "vso", "so", "college",
    "lyceum", "gymnasium", "mavo", "kindcentrum", "ikc", "scholengemeenschap", "praktijkschool",
    "montessorischool", "daltonschool", "jenaplanschool", NULL };
static const char *s_school_grades [] = {
    "havo", "vwo", "vmbo", "mavo", "atheneum", "gymnasium", "tl", "kb", "bb", "gl", "pro",
    "praktijkonderwijs", "jeugdzorg", NULL };
static const char *s_articles [] = { "de", "het", "'t", NULL };

//  A proper name at j: a capital, then at least one lowercase letter
//  (not an abbreviation such as VO or SBO). Its end or 0.
static size_t
s_proper_word (s_scan_t *scan, size_t j)
{
    if (!s_upper (s_at (scan, j)))
        return 0;
    size_t k = j + 1;
    bool lower = false;
    while (s_alpha (s_at (scan, k)) || (s_at (scan, k) == '-' && s_alpha (s_at (scan, k + 1)))) {
        lower = lower || (s_alpha (scan->text [k]) && !s_upper (scan->text [k]));
        k++;
    }
    return lower && !s_word (s_at (scan, k)) ? k : 0;
}

//  An article (any case) and a space at j: the position after, else j.
static size_t
s_skip_article (s_scan_t *scan, size_t j)
{
    for (int k = 0; s_articles [k]; k++)
        if (s_word_at (scan, j, s_articles [k]) && s_at (scan, j + strlen (s_articles [k])) == ' ')
            return j + strlen (s_articles [k]) + 1;
    return j;
}

//  Proper names at j, one or more, joined by single spaces: the end of
//  the last, or 0.
static size_t
s_proper_names (s_scan_t *scan, size_t j)
{
    size_t end = s_proper_word (scan, j), next;
    while (end && s_at (scan, end) == ' ' && (next = s_proper_word (scan, end + 1)))
        end = next;
    return end;
}

//  A class at i ("groep 7", "klas 2b", "klas h3", "groep 7/8", "leerjaar
//  3", "brugklas"): the position after it, or 0.
static size_t
s_school_class (s_scan_t *scan, size_t i)
{
    if (s_word_at (scan, i, "brugklas"))
        return i + 8;
    if (!s_word_at (scan, i, "groep") && !s_word_at (scan, i, "klas") && !s_word_at (scan, i, "leerjaar"))
        return 0;
    size_t j = i + (s_word_at (scan, i, "groep") ? 5 : s_word_at (scan, i, "klas") ? 4 : 8);
    if (s_at (scan, j) != ' ')
        return 0;
    j++;
    if (s_alpha (s_at (scan, j)) && s_digit (s_at (scan, j + 1)))
        j++;                                //  klas h3
    int number;
    size_t len = s_read_number (scan, j, 3, &number);
    if (len == 0 || len > 2)
        return 0;
    j += len;
    if (s_at (scan, j) == '/' && s_digit (s_at (scan, j + 1)))
        j += 2;                             //  groep 7/8
    if (s_alpha (s_at (scan, j)) && !s_word (s_at (scan, j + 1)))
        j++;                                //  klas 2b
    return j;
}

//  After a class ending at j: "klas 3 havo", then "van/op/bij/aan [de|het]
//  Name". The end of the school's name, or 0.
static size_t
s_school_after_class (s_scan_t *scan, size_t j)
{
    size_t grade = s_listed_word (scan, s_skip_spaces (scan, j), s_school_grades);
    if (grade)
        j = grade;
    if (s_at (scan, j) == ',')
        j++;
    if (s_at (scan, j) != ' ')
        return 0;
    j++;
    static const char *links [] = { "van", "op", "bij", "aan", "in", NULL };
    for (int k = 0; links [k]; k++)
        if (s_word_at (scan, j, links [k]) && s_at (scan, j + strlen (links [k])) == ' ') {
            size_t name = s_skip_article (scan, j + strlen (links [k]) + 1);
            //  "in Hengelo" alone is a town, not a school: "in" needs a school kind;
            //  "van de Havo" is a level, not a school
            size_t kind = s_listed_word (scan, name, s_school_kinds);
            if (s_listed_word (scan, name, s_school_grades))
                return 0;
            if (streq (links [k], "in") && !kind)
                return 0;
            size_t end = s_proper_names (scan, name);
            //  "van basisschool De Regenboog"
            if (!end && kind && s_at (scan, kind) == ' ')
                end = s_proper_names (scan, s_skip_article (scan, kind + 1));
            return end;
        }
    return 0;
}

//  A kind of school at i, its name, and "in/te Town". The end of the
//  town, or 0.
static size_t
s_school_in_town (s_scan_t *scan, size_t i)
{
    size_t w = s_listed_word (scan, i, s_school_kinds);
    if (!w || s_at (scan, w) != ' ')
        return 0;
    size_t name = w + 1;
    //  a capitalized kind ends a name only after a capitalized word
    //  ("Carmel College", not "School in Hengelo" opening a sentence)
    bool ends_name = false;
    if (s_upper (scan->text [i]) && i >= 2 && scan->text [i - 1] == ' ') {
        size_t p = i - 1;
        while (p > 0 && s_alpha (scan->text [p - 1]))
            p--;
        ends_name = p < i - 1 && s_proper_word (scan, p) == i - 1;
    }
    if (!ends_name) {
        //  lowercase kind: the name follows ("basisschool De Regenboog")
        name = s_proper_names (scan, s_skip_article (scan, w + 1));
        if (!name || s_at (scan, name) != ' ')
            return 0;
        name++;
    }
    //  capitalized kind ends a name ("Carmel College"): the town follows
    if ((s_word_at (scan, name, "in") && s_at (scan, name + 2) == ' ')
    ||  (s_word_at (scan, name, "te") && s_at (scan, name + 2) == ' '))
        return s_proper_word (scan, name + 3);
    return 0;
}

static size_t
s_match_school (en_pii_t *self, s_scan_t *scan, size_t i)
{
    if (!s_alpha (scan->text [i]) || !s_word_start (scan, i))
        return 0;
    size_t end;
    size_t j = s_school_class (scan, i);
    if (j)
        end = s_school_after_class (scan, j);
    else
        end = s_school_in_town (scan, i);
    return end ? end - i : 0;
}


//  ---------------------------------------------------------------------
//  Initials with a year of birth: "J.K. (2011)", "J.K. 2011", "J. (2011)",
//  "JK 2011", "J.K. ('11)". Two or three capitals written together are
//  often an abbreviation (OTS 2021, GGZ 2024): those on the list pass,
//  a comma after them makes a citation ("NRC, 2017"), and without dots
//  or brackets the year must be one of a youth (the last 30 years).

static const char *s_abbreviations [] = {
    "BW", "ET", "EU", "GI", "IQ", "JB", "JR", "JZ", "NL", "OM", "PO", "SO", "VO", "VT", "WO",
    "OTS", "GGZ", "JGZ", "GGD", "AVG", "PGB", "WMO", "MDO", "RET", "VSO", "SBO", "ISK", "HBO",
    "MBO", "ASS", "LVB", "SDQ", "CJG", "AGB", "BTW", "BSN", "ZZP", "UWV", "SVB", "CAK", "IND",
    "COA", "AZC", "MST", "FFT", "IBT", "CGT", "PMT", "VGZ", "CZ", "DSM", "JJI", "EMB", "WLZ",
    "ZVW", "NB", "TAV", "IVM", "ZSM", "OA", "PS", "BV", "NV", "VVE", "KDV", "BSO", "POH", "AOS",
    "ACT", "FACT", "IHT", "NJI", "VNG", "KVK", "RVDK", "CBS", "OBS", "RK", "FA", "JE", "TV",
    "ICT", "PDF", "CV", "HR", "ID", "OK", "KB", "BB", "TL", "GL", "PRO", "EHBO", "ADHD",
    "NRC", "AD", "NOS", "ANP", "SCP", "CPB", "WRR", "RVS", "VWS", "OCW", "SZW", "BZK", "JZW",
    "NJI", "EZK", "NZA", NULL };

static size_t
s_match_initials (en_pii_t *self, s_scan_t *scan, size_t i)
{
    const char *t = scan->text;
    if (!s_upper (t [i]) || !s_word_start (scan, i) || (i > 0 && t [i - 1] == '.'))
        return 0;                               //  the B of "N.B." is no initial
    size_t j = i, letters = 0;
    char initials [8];
    bool dotted = s_at (scan, i + 1) == '.';
    while (letters < 4 && s_upper (s_at (scan, j))) {
        initials [letters++] = t [j++];
        if (dotted) {
            if (s_at (scan, j) != '.')
                return 0;
            j++;
            if (s_at (scan, j) == ' ' && s_upper (s_at (scan, j + 1)) && s_at (scan, j + 2) == '.')
                j++;
        }
    }
    initials [letters] = 0;
    if (s_word (s_at (scan, j)) || (!dotted && (letters < 2 || letters > 3)))
        return 0;
    if (s_in_list (initials, s_abbreviations))
        return 0;
    size_t k = j;
    if (s_at (scan, k) == ',' && dotted)
        k++;                                    //  "J.K., 2011", not "NRC, 2017" (a citation)
    if (s_at (scan, k) == ' ')
        k++;
    bool bracket = s_at (scan, k) == '(';
    if (bracket)
        k++;
    int year, digits;
    size_t ly = s_read_year (scan, k, &year, &digits);
    if (!ly || !s_num_end_ok (scan, k + ly) || (k == j && !bracket))
        return 0;
    int oldest = self->year_now - (dotted || bracket ? S_BIRTH_YEARS : 30);
    if (digits == 4 && (year > self->year_now || year < oldest))
        return 0;
    if (digits == 2 && !dotted && !bracket)
        return 0;
    k += ly;
    if (bracket) {
        if (s_at (scan, k) != ')')
            return 0;
        k++;
    }
    return k - i;
}


//  ---------------------------------------------------------------------
//  Names after a relation or a title: "moeder Fatima", "vader Jan de
//  Vries", "oma Riet", "juf Anja", "mevrouw El Amrani". The guard knows
//  only the names registered at the node; a relative's name in the text
//  is recognised by the word before it: a relation or title, one space,
//  then (after particles) a capitalized word that is not a nationality
//  or an institution ("moeder Marokkaanse", "vader Veilig Thuis").

static const char *s_relations [] = {
    "moeder", "vader", "mama", "papa", "mam", "pap", "oma", "opa", "tante", "oom", "broer",
    "broertje", "zus", "zusje", "zuster", "neef", "nicht", "nichtje", "neefje", "stiefvader",
    "stiefmoeder", "stiefbroer", "stiefzus", "pleegvader", "pleegmoeder", "pleegouder",
    "pleegbroer", "pleegzus", "halfbroer", "halfzus", "grootmoeder", "grootvader", "schoonmoeder",
    "schoonvader", "partner", "vriend", "vriendin", "vriendje", "ex", "ex-partner", "juf",
    "meester", "mentor", "mevrouw", "meneer", "heer", "mevr.", "mevr", "mw.", "dhr.", "dhr",
    "mr.", NULL };
static const char *s_name_particles [] = {
    "van", "de", "der", "den", "het", "ter", "ten", "te", "el", "al", "bin", "ben", "da", "di",
    "le", "la", "du", "von", NULL };
static const char *s_not_names [] = {
    "marokkaanse", "marokkaans", "turkse", "turks", "nederlandse", "nederlands", "syrische",
    "syrisch", "poolse", "pools", "eritrese", "eritrees", "somalische", "somalisch",
    "surinaamse", "surinaams", "antilliaanse", "antilliaans", "afghaanse", "afghaans", "iraakse",
    "iraanse", "duitse", "belgische", "roemeense", "bulgaarse", "oekraiense", "arabisch",
    "engels", "koerdisch", "berbers", "veilig", "jeugdzorg", "raad", "wmo", "jeugdwet",
    "nederland", "marokko", "turkije", "syrie", "thuis", "en", "of", "is", "heeft", "wil",
    "woont", "zegt", "de", "het", "een",
    //  title case ("Moeder Overbelast", "Oma Zorgt"), a school subject
    //  after "mentor", an occupation after a relation
    "zit", "zorgt", "werkt", "was", "kan", "moet", "gaat", "komt", "wordt", "blijft",
    "krijgt", "mag", "vindt", "overbelast", "afwezig", "onbekend", "ziek",
    "overleden", "gescheiden", "betrokken", "wiskunde", "nederlands", "duits", "frans",
    "geschiedenis", "aardrijkskunde", "biologie", "economie", "gym", "agent", "politie",
    "leerkracht", NULL };

static size_t
s_match_relative (en_pii_t *self, s_scan_t *scan, size_t i)
{
    size_t j = s_cue_at (scan, i, s_relations);
    if (!j || s_at (scan, j) != ' ')
        return 0;
    j++;
    if (s_at (scan, j) == '(')
        j++;                                    //  "moeder (Fatima)"
    //  particles: "vader de Vries", "mevrouw van der Berg"
    for (int words = 0; words < 3; words++) {
        size_t next = j;
        for (int k = 0; s_name_particles [k] && next == j; k++)
            if (s_word_at (scan, j, s_name_particles [k]) && !s_upper (scan->text [j])
            &&  s_at (scan, j + strlen (s_name_particles [k])) == ' ')
                next = j + strlen (s_name_particles [k]) + 1;
        if (next == j)
            break;
        j = next;
    }
    size_t end = s_proper_word (scan, j);
    if (!end || end - j >= 32)
        return 0;
    char word [32];
    memcpy (word, scan->lower + j, end - j);
    word [end - j] = 0;
    return s_in_list (word, s_not_names) ? 0 : end - i;
}


//  ---------------------------------------------------------------------
//  A house number in words after a street ("Dorpsstraat nummer
//  zeventien", "Kerkstraat nr. 12", "Molenweg honderdvijftien"). "een"
//  counts only after "nummer" (it is also the article); a count followed
//  by a unit ("Markt drie keer") is no house number.

static size_t
s_house_number_words (s_scan_t *scan, size_t j)
{
    static const char *labels [] = { "huisnummer", "nummer", "nr.", "nr", "no.", NULL };
    bool label = false;
    for (int k = 0; labels [k] && !label; k++)
        if (s_word_at (scan, j, labels [k])) {
            j = s_skip_spaces (scan, j + strlen (labels [k]));
            label = true;
        }
    if (label && s_digit (s_at (scan, j)))
        return s_house_number (scan, j);
    size_t end = j;
    while (s_alpha (s_at (scan, end)))
        end++;
    if (end == j || end - j > 40 || s_word (s_at (scan, end)))
        return 0;
    int value = s_number_word (scan->lower + j, end - j);
    if (value < 1 || (value == 1 && !label))
        return 0;
    size_t k = s_skip_spaces (scan, end), e = k;
    while (s_alpha (s_at (scan, e)))
        e++;
    if (e > k && e - k < 16 && !s_word (s_at (scan, e))) {
        char next [16];
        memcpy (next, scan->lower + k, e - k);
        next [e - k] = 0;
        if (s_in_list (next, s_units))
            return 0;
    }
    return end;
}


//  ---------------------------------------------------------------------
//  The scan

typedef size_t (s_matcher_fn) (en_pii_t *self, s_scan_t *scan, size_t i);

static struct {
    s_matcher_fn *match;
    s_kind_t kind;
} s_matchers [] = {
    { s_match_case_number, S_CASE_NUMBER },     //  first: 05/123456-23 is no phone number
    { s_match_bsn, S_BSN },
    { s_match_iban, S_IBAN },
    { s_match_email, S_EMAIL },
    { s_match_phone, S_PHONE },
    { s_match_postcode, S_POSTCODE },
    { s_match_date, S_DATE },
    { s_match_birth_cue, S_DATE },
    { s_match_address, S_ADDRESS },
    { s_match_name, S_NAME },
    { s_match_spelled_bsn, S_BSN },
    { s_match_spelled_phone, S_PHONE },
    { s_match_social, S_SOCIAL },
    { s_match_school, S_SCHOOL },
    { s_match_initials, S_INITIALS },
    { s_match_relative, S_NAME },
};

//  Copy field into the finding, truncated to fit.
static void
s_set_field (en_pii_finding_t *finding, const char *field)
{
    size_t len = field? strlen (field): 0;
    if (len > sizeof finding->field - 1)
        len = sizeof finding->field - 1;
    if (len)
        memcpy (finding->field, field, len);
    finding->field [len] = 0;
}

//  Scan size bytes of text. 0 clean, 1 found (finding filled, if given;
//  its field is left to the caller).
static int
s_scan (en_pii_t *self, const char *text, size_t size, en_pii_finding_t *finding)
{
    if (!text || size == 0)
        return 0;
    s_scan_t scan;
    s_scan_init (&scan, text, size);
    int rc = 0;
    for (size_t i = 0; i < scan.size && !rc; i++) {
        if (s_space (scan.text [i]))
            continue;
        for (size_t m = 0; m < sizeof s_matchers / sizeof s_matchers [0]; m++) {
            size_t len = s_matchers [m].match (self, &scan, i);
            if (len) {
                assert (i + len <= scan.size);
                if (finding) {
                    snprintf (finding->kind, sizeof finding->kind, "%s",
                              s_kind_names [s_matchers [m].kind]);
                    finding->offset = scan.start [i];
                    finding->length = scan.end [i + len - 1] - scan.start [i];
                }
                rc = 1;
                break;
            }
        }
    }
    s_scan_wipe (&scan);
    return rc;
}

static void
s_count (en_pii_t *self, int rc, en_pii_finding_t *finding)
{
    self->checks++;
    if (rc == 1) {
        self->refused++;
        for (int k = 0; k < S_KINDS; k++)
            if (streq (finding->kind, s_kind_names [k]))
                self->refused_kind [k]++;
    }
}


//  ---------------------------------------------------------------------
//  Public API

en_pii_t *
en_pii_new (void)
{
    en_pii_t *self = (en_pii_t *) zmalloc (sizeof (en_pii_t));
    assert (self);
    self->names = zhashx_new ();
    assert (self->names);
    time_t now = time (NULL);
    struct tm tm;
    gmtime_r (&now, &tm);
    self->year_now = tm.tm_year + 1900;
    return self;
}

static void
s_name_wipe (void **item)
{
    char *name = (char *) *item;
    if (name) {
        sodium_memzero (name, strlen (name));
        free (name);
        *item = NULL;
    }
}

void
en_pii_destroy (en_pii_t **self_p)
{
    assert (self_p);
    en_pii_t *self = *self_p;
    if (self) {
        zhashx_set_key_destructor (self->names, s_name_wipe);
        zhashx_destroy (&self->names);
        free (self);
        *self_p = NULL;
    }
}

int
en_pii_add_name (en_pii_t *self, const char *name)
{
    assert (self);
    if (!name || strlen (name) > S_NAME_MAX)
        return -1;
    //  Fold the way texts are folded, lowercase, collapse whitespace.
    s_scan_t scan;
    s_scan_init (&scan, name, strlen (name));
    char key [S_NAME_MAX + 1];
    size_t len = 0, letters = 0, words = 0;
    bool in_word = false;
    for (size_t i = 0; i < scan.size; i++) {
        char c = scan.lower [i];
        if (s_space (c)) {
            if (len > 0 && key [len - 1] != ' ')
                key [len++] = ' ';
            in_word = false;
            continue;
        }
        key [len++] = c;
        if (s_name_char (c)) {
            letters++;
            if (!in_word)
                words++;
            in_word = true;
        }
        else
            in_word = false;
    }
    while (len > 0 && key [len - 1] == ' ')
        len--;
    key [len] = 0;
    s_scan_wipe (&scan);
    //  A name must start and end with a letter or digit to be findable
    //  at word boundaries.
    int rc = -1;
    if (letters >= 2 && s_name_char (key [0]) && s_name_char (key [len - 1])) {
        zhashx_update (self->names, key, self);
        if (words > self->name_words)
            self->name_words = words;
        rc = 0;
    }
    sodium_memzero (key, sizeof key);
    return rc;
}

int
en_pii_load_names (en_pii_t *self, const char *path)
{
    assert (self);
    FILE *file = path? fopen (path, "r"): NULL;
    if (!file)
        return -1;
    char *line = NULL;
    size_t size = 0;
    int line_nbr = 0;
    while (getline (&line, &size, file) != -1) {
        line_nbr++;
        char *hash = strchr (line, '#');
        if (hash)
            *hash = 0;
        char *start = line;
        while (s_space (*start))
            start++;
        char *end = start + strlen (start);
        while (end > start && s_space (end [-1]))
            *--end = 0;
        if (*start && en_pii_add_name (self, start))
            zsys_warning ("en_pii: %s line %d: not a usable name (too short or too long), skipped",
                          path, line_nbr);
    }
    bool failed = ferror (file);
    if (line) {
        sodium_memzero (line, size);
        free (line);
    }
    fclose (file);
    return failed? -1: 0;
}

//  Where a check writes its finding: the caller's, or local; cleared
static en_pii_finding_t *
s_finding (en_pii_finding_t *finding, en_pii_finding_t *local)
{
    if (!finding)
        finding = local;
    memset (finding, 0, sizeof *finding);
    return finding;
}

//  A check's end: a finding names its field and is counted
static int
s_checked (en_pii_t *self, int rc, const char *field, en_pii_finding_t *finding)
{
    if (rc)
        s_set_field (finding, field);
    s_count (self, rc, finding);
    return rc;
}

int
en_pii_check (en_pii_t *self, const char *field, const char *text,
              en_pii_finding_t *finding)
{
    assert (self);
    en_pii_finding_t local;
    finding = s_finding (finding, &local);
    int rc = text? s_scan (self, text, strlen (text), finding): 0;
    return s_checked (self, rc, field, finding);
}

//  Walk value; path holds the current field path (path_len used of
//  path_size). 0 clean, 1 found.
static int
s_check_json (en_pii_t *self, char *path, size_t path_len, size_t path_size,
              json_t *value, en_pii_finding_t *finding)
{
    int rc = 0;
    if (json_is_string (value))
        rc = s_scan (self, json_string_value (value), json_string_length (value), finding);
    else
    if (json_is_integer (value)) {
        char number [32];
        snprintf (number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value (value));
        rc = s_scan (self, number, strlen (number), finding);
    }
    else
    if (json_is_array (value)) {
        size_t index;
        json_t *item;
        json_array_foreach (value, index, item) {
            snprintf (path + path_len, path_size - path_len, "[%zu]", index);
            rc = s_check_json (self, path, strlen (path), path_size, item, finding);
            if (rc)
                break;
        }
    }
    else
    if (json_is_object (value)) {
        const char *key;
        json_t *item;
        size_t index = 0;
        json_object_foreach (value, key, item) {
            const char *dot = path_len? ".": "";
            if (s_scan (self, key, strlen (key), finding)) {
                snprintf (path + path_len, path_size - path_len, "%s(key %zu)", dot, index);
                rc = 1;
                break;
            }
            snprintf (path + path_len, path_size - path_len, "%s%s", dot, key);
            rc = s_check_json (self, path, strlen (path), path_size, item, finding);
            if (rc)
                break;
            index++;
        }
    }
    if (!rc)
        path [path_len] = 0;
    return rc;
}

int
en_pii_check_json (en_pii_t *self, const char *prefix, json_t *value,
                   en_pii_finding_t *finding)
{
    assert (self);
    en_pii_finding_t local;
    finding = s_finding (finding, &local);
    char path [256];
    snprintf (path, sizeof path, "%s", prefix? prefix: "");
    int rc = value? s_check_json (self, path, strlen (path), sizeof path, value, finding): 0;
    return s_checked (self, rc, path, finding);
}

const char *
en_pii_kind_text (const char *kind)
{
    static const struct {
        const char *kind, *text;
    } texts [] = {
        { "bsn", "a BSN (burgerservicenummer)" },
        { "geboortedatum", "a date of birth" },
        { "postcode", "a postcode" },
        { "telefoonnummer", "a phone number" },
        { "e-mailadres", "an e-mail address" },
        { "iban", "a bank account number (IBAN)" },
        { "adres", "a street address" },
        { "naam", "a name" },
        { "zaaknummer", "a case number (zaaknummer) of a court, the Raad or Veilig Thuis" },
        { "social-media", "a social media account" },
        { "school", "a school with its class or town" },
        { "initialen", "initials with a year of birth" },
    };
    for (size_t k = 0; kind && k < sizeof texts / sizeof texts [0]; k++)
        if (streq (kind, texts [k].kind))
            return texts [k].text;
    return "personal data";
}

const char *
en_pii_describe (const en_pii_finding_t *finding, char *buf, size_t size)
{
    assert (finding && buf && size);
    snprintf (buf, size, "field '%s' contains %s", finding->field, en_pii_kind_text (finding->kind));
    return buf;
}

json_t *
en_pii_counts (en_pii_t *self)
{
    assert (self);
    json_t *kinds = json_object ();
    for (int k = 0; k < S_KINDS; k++)
        json_object_set_new (kinds, s_kind_names [k], json_integer ((json_int_t) self->refused_kind [k]));
    return json_pack ("{s:I, s:I, s:o}",
                      "checks", (json_int_t) self->checks,
                      "refused", (json_int_t) self->refused,
                      "kinds", kinds);
}
