/*  en_pii - the PII guard: refuses text that holds personal data.

    Every outgoing summary, free-text field and advice passes this guard
    at the node before it is queued, and every free text the broker
    receives passes it again there. The guard looks for twelve kinds of
    identifying data: a BSN (also in words or with O for zero), a
    (possible) date of birth, a postcode, a phone number (also in words),
    an e-mail address, an IBAN, a street address, a name (on the node's
    own list of clients and relatives, or after a relation: "moeder
    Fatima"), a case number of a court, the Raad or Veilig Thuis, a
    social media account, a school with its class or town, and initials
    with a year of birth. The rules, and what is deliberately not refused
    ("12 jaar", "OTS sinds 2021", "overleg op 12-03-2026"), are in
    docs/privacy-pii.md.

    A finding says where (the caller's field path, a byte offset and a
    length) and what kind, never the text itself: callers must not log or
    echo the refused text. Operators see only counts (en_pii_counts).

    Not thread-safe: one guard per actor (the counters are plain fields).
*/
#ifndef EN_PII_H_INCLUDED
#define EN_PII_H_INCLUDED

typedef struct _en_pii_t en_pii_t;

//  What the guard found, and where. Holds no part of the text.
typedef struct {
    char field [64];    //  field path given by the caller, e.g. "question" or "leefgebieden[2]"
    char kind [32];     //  "bsn", "geboortedatum", "postcode", "telefoonnummer",
                        //  "e-mailadres", "iban", "adres", "naam", "zaaknummer",
                        //  "social-media", "school" or "initialen"
    size_t offset;      //  byte offset of the finding in that text
    size_t length;      //  its length in bytes
} en_pii_finding_t;

//  A new guard with an empty list of client names. Never NULL.
en_pii_t *en_pii_new (void);

//  Destroy the guard; the names it held are wiped from memory. Safe to
//  call twice.
void en_pii_destroy (en_pii_t **self_p);

//  Add one of the node's own clients' names (a first name, a surname or a
//  full name). Names match case-insensitively, accent-insensitively (é is
//  e, ß is ss, ĳ is ij) and on word boundaries only, so "Jan" does not
//  match "januari". 0, or -1 when the name has fewer than 2 letters or
//  digits or is longer than 255 bytes.
int en_pii_add_name (en_pii_t *self, const char *name);

//  Add the names in a file: one name per line; '#' starts a comment;
//  blank lines are skipped, names too short are skipped with a warning
//  naming the line number (never the name). 0, or -1 when the file
//  cannot be read.
int en_pii_load_names (en_pii_t *self, const char *path);

//  Check one text. 0 when clean; 1 when it holds PII, with the first
//  finding (lowest offset) in finding (which may be NULL); field (may be
//  NULL) is copied into finding->field, truncated to fit. NULL text is
//  clean.
int en_pii_check (en_pii_t *self, const char *field, const char *text,
                  en_pii_finding_t *finding);

//  Walk a JSON value (object, array, string) and check every string and
//  object key, and every integer as its decimal text. Field paths are
//  built from prefix (may be NULL): "request.question", "stuck_on[1]";
//  a top-level string gets the prefix itself ("" when NULL); a key that
//  itself holds PII is named by position ("request.(key 3)") so the path
//  never repeats it. 0 or 1 as en_pii_check; a NULL value is clean.
int en_pii_check_json (en_pii_t *self, const char *prefix, json_t *value,
                       en_pii_finding_t *finding);

//  Human text for a kind, for error messages: "a BSN (burgerservicenummer)",
//  "a date of birth", ... Borrowed, static; "personal data" for an
//  unknown kind.
const char *en_pii_kind_text (const char *kind);

//  The refusal as users read it, the same at node and broker: "field
//  'request.question' contains a BSN (burgerservicenummer)". The caller
//  says what happened next ("; nothing was sent"). Writes into buf
//  (truncated to size) and returns it.
const char *en_pii_describe (const en_pii_finding_t *finding, char *buf, size_t size);

//  Counters for operators, never text: {"checks": n, "refused": n,
//  "kinds": {"bsn": n, ...}} with every kind present. A check is one call
//  of en_pii_check or en_pii_check_json. Caller owns the JSON.
json_t *en_pii_counts (en_pii_t *self);

#endif
