/* buf.h - one growable byte buffer for every text built piece by piece
 * (curl's dynbuf): answers, patches, JSON, HTTP bodies read from a socket.
 *
 *   kn_buf b = KN_BUF_INIT;            or KN_BUF_MAX(1 << 20): at most 1 MiB
 *   kn_buf_puts(&b, "pod ");
 *   kn_buf_printf(&b, "%s/%s", ns, name);
 *   char *text = kn_buf_finish(&b, &len);   NUL-terminated, malloc'd; NULL if anything failed
 *
 * A failure (out of memory, past max) sticks: later appends do nothing and
 * kn_buf_finish() frees what was written and returns NULL, so a caller checks
 * once at the end. p[0..len) is the text so far (no NUL until finished). */
#ifndef KN_BUF_H
#define KN_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct kn_buf {
    char *p;
    size_t len, cap;
    size_t max; /* most bytes it may hold (0: no limit but memory) */
    bool failed;
} kn_buf;

#define KN_BUF_INIT ((kn_buf){0})
#define KN_BUF_MAX(n) ((kn_buf){.max = (n)})

/* Out of line: the growth (doubling from 1 KiB) and the limit. */
bool kn_buf_grow(kn_buf *b, size_t n);

/* Room for n more bytes; false (and failed) when there cannot be. */
static inline bool kn_buf_reserve(kn_buf *b, size_t n)
{
    if (b->failed)
        return false;
    return n < b->cap - b->len || kn_buf_grow(b, n); /* <: a byte stays spare for a NUL */
}

static inline void kn_buf_put(kn_buf *b, const void *s, size_t n)
{
    if (kn_buf_reserve(b, n)) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
    }
}

static inline void kn_buf_puts(kn_buf *b, const char *s)
{
    kn_buf_put(b, s, strlen(s));
}

static inline void kn_buf_putc(kn_buf *b, char c)
{
    kn_buf_put(b, &c, 1);
}

/* n bytes at the end for the caller to fill; NULL once failed. */
char *kn_buf_extend(kn_buf *b, size_t n);
void kn_buf_printf(kn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text, NUL-terminated (malloc'd, the caller frees) and its length
 * (len may be NULL); NULL if anything failed. b is empty afterwards. */
char *kn_buf_finish(kn_buf *b, size_t *len);
/* A write callback for libcurl (CURLOPT_WRITEFUNCTION, CURLOPT_WRITEDATA a
 * kn_buf *): appends size * n bytes and keeps p NUL-terminated past len.
 * Returns what it took; 0, which makes curl abort the transfer, past max
 * (a bounded response) or out of memory. */
size_t kn_buf_sink(char *data, size_t size, size_t n, void *buf);
/* Empties b (keeps max), freeing what it held. */
void kn_buf_free(kn_buf *b);

#endif
