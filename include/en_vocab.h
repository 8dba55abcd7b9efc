/*  en_vocab - the domain vocabulary (shared/DOMAIN.md) and validation of
    the two things nodes publish: a consult request's anonymized summary
    and an expert's availability.

    Validation is strict: unknown fields are refused, so nothing a node did
    not mean to publish (a name, a date of birth) can ride along in an
    extra field. Both node (before queuing) and broker (on receipt) call
    these; the error names every wrong field and what is allowed. */
#ifndef EN_VOCAB_H_INCLUDED
#define EN_VOCAB_H_INCLUDED

//  NULL-terminated lists of allowed values.
extern const char *en_vocab_urgency [];         //  crisis, hoog, regulier
extern const char *en_vocab_question_type [];
extern const char *en_vocab_age_band [];
extern const char *en_vocab_leefgebied [];
extern const char *en_vocab_kader [];
extern const char *en_vocab_situatie [];
extern const char *en_vocab_stuck_on [];
extern const char *en_vocab_role [];

//  True if value is one of list.
bool en_vocab_has (const char **list, const char *value);

//  Validate a consult request summary (JSON object). 0 when valid, else -1
//  with EN_ERR_INVALID and a reason naming every wrong field (each with
//  what is allowed while that fits in one reason; error may be NULL).
int en_request_validate (json_t *request, en_error_t *error);

//  The places of a valid request (EXPN/3): an array of {place (1..),
//  roles (the roles it may be offered to), expertise (tags it needs)}:
//  its `places` member, each with its one role, or else one place with
//  the Role rules of its question type and its `expertise`. New reference.
json_t *en_request_places (json_t *request);

//  Validate one expert's availability record. 0, or -1 with error as above.
int en_expert_validate (json_t *expert, en_error_t *error);

//  Which roles may be offered a request of this question type. The
//  returned list is NULL-terminated and static.
const char **en_vocab_roles_for (const char *question_type);

//  Phases of a case (VNG procesregie steps), in order.
extern const char *en_vocab_phase [];

//  Validate a case's anonymized summary (the fields of DOMAIN.md that a
//  report counts; all optional, closed vocabularies; no free text).
int en_summary_validate (json_t *summary, en_error_t *error);

//  Validate a case outcome: {"passende_hulp": bool, "zero": {goal: count}}.
int en_outcome_validate (json_t *outcome, en_error_t *error);

//  True if text is a case pseudonym: "p<version>-<32 lowercase hex>".
bool en_vocab_pseudonym_valid (const char *text);

//  Index of urgency in en_vocab_urgency (0 crisis .. 2 regulier), -1 if none.
int en_vocab_urgency_index (const char *urgency);

//  Offer ids are "<request id>-o<n>" and must stay valid ids (<= 80).
#define EN_MAX_REQUEST_ID   64
#define EN_MAX_TAGS         16
#define EN_MAX_PLACES       8
#define EN_MAX_QUESTION     2000
#define EN_MAX_ADVICE       16000
#define EN_MAX_CAPACITY     50
//  A review date ("terug op ET", REVIEW) is at most this far ahead
#define EN_MAX_REVIEW_AHEAD_MS  (366LL * 86400 * 1000)

#endif
