#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int kn_err_set(kn_err *e, const char *fmt, ...)
{
    if (e == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return -1;
}

int kn_err_prefix(kn_err *e, const char *fmt, ...)
{
    if (e == NULL)
        return -1;
    char prefix[KN_ERR_MAX], old[KN_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof(old));
    old[sizeof(old) - 1] = '\0';
    /* Truncation is intended when the message is long: copy piecewise so
     * -Wformat-truncation has nothing to object to. */
    size_t n = strnlen(prefix, sizeof(e->msg) - 1);
    memcpy(e->msg, prefix, n);
    if (n + 2 < sizeof(e->msg)) {
        e->msg[n++] = ':';
        e->msg[n++] = ' ';
    }
    size_t rest = strnlen(old, sizeof(e->msg) - 1 - n);
    memcpy(e->msg + n, old, rest);
    e->msg[n + rest] = '\0';
    return -1;
}
