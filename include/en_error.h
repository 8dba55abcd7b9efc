/*  =========================================================================
    en_error - the one error convention of expertnet

    Every function that can fail says so the same way:
    * a verb returns 0 on success and -1 on failure; a constructor or a
      lookup returns the object, or NULL (for a lookup, NULL with no error
      set, i.e. error->code == 0, means "not there");
    * what went wrong, for a person, goes in an en_error_t the caller
      passes last (`en_error_t *error`; NULL when the caller does not want
      it): an EN_ERR_* code (the protocol's codes, docs/protocol.md) and one
      line of reason;
    * the failure is logged once, by whoever handles it, not where it arose.
    en_error_set returns -1, so a failing path reads
        return en_error_set (error, EN_ERR_INVALID, "field '%s' ...", name);
    =========================================================================
*/
#ifndef EN_ERROR_H_INCLUDED
#define EN_ERROR_H_INCLUDED

#include <stdbool.h>

//  Error codes (docs/protocol.md, "Error codes")
#define EN_ERR_BAD_REQUEST   400
#define EN_ERR_NO_SESSION    401    //  no HELLO in this broker session
#define EN_ERR_FORBIDDEN     403
#define EN_ERR_NOT_FOUND     404
#define EN_ERR_CONFLICT      409
#define EN_ERR_TOO_LARGE     413
#define EN_ERR_INVALID       422
#define EN_ERR_INTERNAL      500
#define EN_ERR_VERSION       505

//  Local codes, never on the wire
#define EN_ERR_NO_ANSWER     504    //  a daemon did not answer a control call
                                    //  (not running, or not within the timeout)
#define EN_ERR_DISK_FULL     507    //  a verb failed because the daemon's disk is
                                    //  full (its store answered SQLITE_FULL)

typedef struct {
    int code;                   //  0 when no error
    char ref [33];              //  id of the offending message, "" if unknown
    char reason [1024];         //  one line for humans and logs (room for
                                //  a start-up error naming two paths)
    bool temporary;             //  the sender should keep the message and
                                //  retry (a timestamp refusal: clocks heal)
} en_error_t;

//  Record an error (printf-style reason); error may be NULL. Returns -1.
int en_error_set (en_error_t *error, int code, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Forget a recorded error (code 0, empty reason and ref).
void en_error_clear (en_error_t *error);

#endif
