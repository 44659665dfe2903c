/*
 * ob_err.c: filling an ob_err_t.  One function, shared by every start-up
 * path that reports a reason to a person.
 */
#include "ob_core.h"

#include <stdarg.h>
#include <stdio.h>


int
ob_err_set(ob_err_t *err, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL) {
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return OB_ERR;
}
