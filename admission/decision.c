/* decision.c - what a rule set writes into a decision: a denial, warnings,
 * and the scheduler name it injects (see rules.h). */
#include "admission/rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *kn_rules_scheduler_name(const kn_admit_config *cfg)
{
    if (cfg != NULL && cfg->scheduler_name != NULL && cfg->scheduler_name[0] != '\0')
        return cfg->scheduler_name;
    return KN_DEFAULT_SCHEDULER_NAME;
}

void kn_decision_free(kn_decision *d)
{
    kn_patch_list_free(&d->ops);
    kn_json_free(d->patch);
    d->patch = NULL;
}

void kn_decision_deny(kn_decision *d, const char *fmt, ...)
{
    size_t n = strlen(d->message), cap = sizeof(d->message);
    if (d->allowed) { /* the first problem: "<Kind> <ns>/<name>: " before it */
        d->allowed = false;
        int k = snprintf(d->message, cap, "%s: ", d->subject);
        n = k < 0 ? 0 : (size_t)k < cap ? (size_t)k : cap - 1;
    } else if (n + 2 < cap) { /* every further one after "; ", as field errors are listed */
        memcpy(d->message + n, "; ", 3);
        n += 2;
    }
    if (n + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(d->message + n, cap - n, fmt, ap);
    va_end(ap);
    if (k > 0 && n + (size_t)k >= cap && cap > 4) /* cut: say so */
        memcpy(d->message + cap - 4, "...", 4);
}

void kn_decision_warn(kn_decision *d, const char *fmt, ...)
{
    if (d->n_warnings >= KN_MAX_WARNINGS)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    char *w = d->warnings[d->n_warnings++];
    if ((size_t)n > KN_WARNING_MAX) {
        /* Shorten with a visible ellipsis rather than letting the API server cut it. */
        memcpy(w, buf, KN_WARNING_MAX - 3);
        memcpy(w + KN_WARNING_MAX - 3, "...", 4);
    } else {
        memcpy(w, buf, (size_t)n + 1);
    }
}
