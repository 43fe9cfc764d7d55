#include "err.h"

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
    snprintf(e->msg, sizeof(e->msg), "%s: %s", prefix, old);
    return -1;
}
