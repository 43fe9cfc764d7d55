#include "base/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The one piece of state: written by main() at start-up, read everywhere. */
static kn_log_level g_threshold = KN_LOG_INFO;

void kn_log_set_level(kn_log_level lvl)
{
    g_threshold = lvl;
}

int kn_log_parse_level(const char *s, kn_log_level *out)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (s && strcmp(s, names[i]) == 0) {
            *out = (kn_log_level)i;
            return 0;
        }
    }
    return -1;
}

/* A line being written; what does not fit is cut. */
typedef struct line {
    char b[2048];
    size_t n;
} line;

static void put(line *l, const char *s, size_t len)
{
    size_t room = sizeof(l->b) - 2 - l->n; /* the newline always fits */
    if (len > room)
        len = room;
    memcpy(l->b + l->n, s, len);
    l->n += len;
}

/* s quoted as Go's %q would, so that a value with blanks, quotes or new lines
 * stays one value of one line. */
static void put_quoted(line *l, const char *s, size_t len)
{
    put(l, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c;
            put(l, esc, 2);
        } else if (c == '\n') {
            put(l, "\\n", 2);
        } else if (c == '\t') {
            put(l, "\\t", 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof(esc), "\\x%02x", c);
            put(l, esc, 4);
        } else {
            put(l, (const char *)&s[i], 1);
        }
    }
    put(l, "\"", 1);
}

/* One printf conversion of fmt (at '%'), its argument taken from ap, appended
 * to v. Returns the length of the conversion spec, and whether it was a %s. */
static size_t convert(const char *fmt, va_list *ap, line *v, bool *is_str)
{
    size_t k = 1;
    while (strchr("-+ #0", fmt[k]) && fmt[k])
        k++;
    while ((fmt[k] >= '0' && fmt[k] <= '9') || fmt[k] == '.')
        k++;
    int longs = 0, size = 0;
    for (; fmt[k] == 'l' || fmt[k] == 'z' || fmt[k] == 'h'; k++)
        longs += fmt[k] == 'l', size |= fmt[k] == 'z';
    char spec[32], out[512];
    size_t len = k + 1 < sizeof(spec) ? k + 1 : sizeof(spec) - 1;
    memcpy(spec, fmt, len);
    spec[len] = '\0';
    int n = 0;
    switch (fmt[k]) {
    case 's': {
        const char *a = va_arg(*ap, const char *);
        *is_str = true;
        put(v, a ? a : "(null)", a ? strlen(a) : 6);
        return k + 1;
    }
    case 'd':
    case 'i':
    case 'u':
    case 'x':
    case 'c':
        if (size)
            n = snprintf(out, sizeof(out), spec, va_arg(*ap, size_t));
        else if (longs >= 2)
            n = snprintf(out, sizeof(out), spec, va_arg(*ap, long long));
        else if (longs == 1)
            n = snprintf(out, sizeof(out), spec, va_arg(*ap, long));
        else
            n = snprintf(out, sizeof(out), spec, va_arg(*ap, int));
        break;
    case 'f':
    case 'g':
    case 'e': n = snprintf(out, sizeof(out), spec, va_arg(*ap, double)); break;
    case 'p': n = snprintf(out, sizeof(out), spec, va_arg(*ap, void *)); break;
    case '%': out[0] = '%', n = 1; break;
    default: /* not a conversion kn_log knows: written as it stands */
        put(v, fmt, k + (fmt[k] != '\0'));
        return k + (fmt[k] != '\0');
    }
    if (n > 0)
        put(v, out, (size_t)n < sizeof(out) ? (size_t)n : sizeof(out) - 1);
    return k + 1;
}

/* At fmt: " key=" (a new key=value pair begins)? */
static bool pair_starts(const char *fmt)
{
    if (fmt[0] != ' ')
        return false;
    const char *p = fmt + 1;
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'))
        return false;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
           *p == '.' || *p == '-')
        p++;
    return *p == '=';
}

/* The pairs of kvfmt: each value is formatted, then quoted when a string
 * went into it (klog writes strings quoted, numbers bare). Pairs are told
 * apart by the format, never by the values, so a value holding " k=v" stays
 * one value. */
static void put_pairs(line *l, const char *kvfmt, va_list *ap)
{
    const char *f = kvfmt;
    while (*f) {
        while (*f && *f != '=') /* the key, as written */
            put(l, f++, 1);
        if (*f == '\0')
            return;
        put(l, f++, 1);
        line v = {.n = 0};
        bool is_str = false;
        while (*f && !pair_starts(f)) {
            if (*f == '%')
                f += convert(f, ap, &v, &is_str);
            else
                put(&v, f++, 1);
        }
        if (is_str)
            put_quoted(l, v.b, v.n);
        else
            put(l, v.b, v.n);
        if (*f)
            put(l, f++, 1);
    }
}

void kn_log(kn_log_level lvl, const char *msg, const char *kvfmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (lvl < g_threshold)
        return;
    line l = {.n = 0};
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char head[64];
    int n = snprintf(head, sizeof(head), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s msg=", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000),
                     names[lvl]);
    put(&l, head, (size_t)n);
    put_quoted(&l, msg, strlen(msg));
    if (kvfmt && *kvfmt) {
        put(&l, " ", 1);
        va_list ap;
        va_start(ap, kvfmt);
        put_pairs(&l, kvfmt, &ap);
        va_end(ap);
    }
    l.b[l.n++] = '\n';
    ssize_t w = write(STDERR_FILENO, l.b, l.n);
    (void)w;
}
