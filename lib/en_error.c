/*  =========================================================================
    en_error - the one error convention of expertnet (see en_error.h)
    =========================================================================
*/
#include "expertnet.h"
#include <stdarg.h>

int
en_error_set (en_error_t *error, int code, const char *format, ...)
{
    if (!error)
        return -1;
    error->code = code;
    error->temporary = false;
    va_list args;
    va_start (args, format);
    vsnprintf (error->reason, sizeof error->reason, format, args);
    va_end (args);
    return -1;
}

void
en_error_clear (en_error_t *error)
{
    if (error)
        memset (error, 0, sizeof *error);
}
