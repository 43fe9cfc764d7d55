/* watch_decoder.c - newline-delimited watch events (see watch_decoder.h). */
#include "kube/client/watch_decoder.h"

#include <stdlib.h>
#include <string.h>

void kn_watch_decoder_init(kn_watch_decoder *d, size_t max_line, kn_watch_event_fn fn, void *ctx)
{
    memset(d, 0, sizeof *d);
    d->max_line = max_line ? max_line : KN_WATCH_MAX_LINE;
    d->fn = fn;
    d->ctx = ctx;
}

void kn_watch_decoder_reset(kn_watch_decoder *d)
{
    d->len = 0;
    d->err.msg[0] = '\0';
}

void kn_watch_decoder_free(kn_watch_decoder *d)
{
    free(d->line);
    d->line = NULL;
    d->len = d->cap = 0;
}

static int parse_type(const char *t, kn_watch_type *out)
{
    static const char *names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};
    for (int i = 0; i < 5; i++)
        if (t && strcmp(t, names[i]) == 0) {
            *out = (kn_watch_type)i;
            return 0;
        }
    return -1;
}

static int decode_line(kn_watch_decoder *d, const char *line, size_t n)
{
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
        n--;
    if (n == 0)
        return 0;
    kn_json_limits lim = {.max_bytes = d->max_line, .max_depth = 64};
    kn_json *ev = kn_json_parse(line, n, &lim, &d->err);
    if (!ev)
        return kn_err_prefix(&d->err, "watch event");
    kn_watch_type type;
    const kn_json *obj = kn_json_get(ev, "object");
    int rc;
    if (parse_type(kn_json_get_str(ev, "type"), &type) < 0)
        rc = kn_err_set(&d->err, "watch event: unknown type \"%s\"",
                        kn_json_get_str(ev, "type") ? kn_json_get_str(ev, "type") : "(none)");
    else if (!kn_json_is(obj, KN_JSON_OBJECT))
        rc = kn_err_set(&d->err, "watch event: %s without an object", kn_json_get_str(ev, "type"));
    else
        rc = d->fn(d->ctx, type, obj);
    kn_json_free(ev);
    return rc;
}

int kn_watch_decoder_feed(kn_watch_decoder *d, const char *data, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t take = nl ? (size_t)(nl - data) : n;
        if (d->len == 0 && nl) { /* whole line in the input: no copy */
            if (take > d->max_line)
                return kn_err_set(&d->err, "watch event longer than %zu bytes", d->max_line);
            if (decode_line(d, data, take) < 0)
                return -1;
        } else {
            if (d->len + take > d->max_line)
                return kn_err_set(&d->err, "watch event longer than %zu bytes", d->max_line);
            if (d->len + take + 1 > d->cap) {
                size_t cap = d->cap ? d->cap : 4096;
                while (cap < d->len + take + 1)
                    cap *= 2;
                char *p = realloc(d->line, cap);
                if (!p)
                    return kn_err_set(&d->err, "out of memory");
                d->line = p;
                d->cap = cap;
            }
            memcpy(d->line + d->len, data, take);
            d->len += take;
            if (nl) {
                size_t len = d->len;
                d->len = 0;
                if (decode_line(d, d->line, len) < 0)
                    return -1;
            }
        }
        if (!nl)
            break;
        data += take + 1;
        n -= take + 1;
    }
    return 0;
}
