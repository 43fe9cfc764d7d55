/* log.h - leveled, timestamped key=value logging to stderr, quoted as klog's
 * structured logging (InfoS) quotes: strings always, numbers bare.
 *
 *   kn_log(KN_LOG_INFO, "bound pod", "pod=%s/%s node=%s try=%d", ns, name, node, 2);
 * prints
 *   2026-11-24T10:00:00.123Z level=info msg="bound pod" pod="ns/p" node="n" try=2
 *
 * kvfmt is a printf format of " "-separated key=value pairs (conversions
 * %s %d %i %u %x %c %f %g %e %p, with flags, width, precision, l, ll, z).
 * A value a %s went into is quoted, with quotes, backslashes and control
 * characters escaped as Go's %q does, so one value never reads as two pairs
 * or two lines. Do not quote in the format: write error=%s, not error="%s".
 *
 * The level is set once at start-up (kn_log_set_level) by main(); the only
 * state is that threshold. Thread-safe: each line is written with one write(). */
#ifndef KN_LOG_H
#define KN_LOG_H

typedef enum { KN_LOG_DEBUG, KN_LOG_INFO, KN_LOG_WARN, KN_LOG_ERROR } kn_log_level;

void kn_log_set_level(kn_log_level lvl);
/* Parses "debug", "info", "warn", "error"; -1 if unknown. */
int kn_log_parse_level(const char *s, kn_log_level *out);
void kn_log(kn_log_level lvl, const char *msg, const char *kvfmt, ...) __attribute__((format(printf, 3, 4)));

#endif
