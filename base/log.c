#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* The one piece of state: written by main() at start-up, read everywhere. */
static kn_log_level g_threshold = KN_LOG_INFO;

void kn_log_set_level(kn_log_level lvl) { g_threshold = lvl; }

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

void kn_log(kn_log_level lvl, const char *msg, const char *kvfmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (lvl < g_threshold)
        return;
    char line[2048];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s msg=\"",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (int)(tv.tv_usec / 1000), names[lvl]);
    /* msg is quoted: escape quotes and backslashes so lines stay parseable. */
    for (const char *p = msg; *p && n < (int)sizeof(line) - 4; p++) {
        if (*p == '"' || *p == '\\')
            line[n++] = '\\';
        line[n++] = (*p == '\n') ? ' ' : *p;
    }
    line[n++] = '"';
    if (kvfmt && *kvfmt && n < (int)sizeof(line) - 2) {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, kvfmt);
        int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, kvfmt, ap);
        va_end(ap);
        if (m > 0)
            n += m < (int)sizeof(line) - n - 1 ? m : (int)sizeof(line) - n - 2;
    }
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}
