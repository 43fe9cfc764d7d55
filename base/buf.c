#include "base/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

bool kn_buf_grow(kn_buf *b, size_t n)
{
    size_t limit = b->max ? b->max : SIZE_MAX / 4;
    if (b->failed || n > limit || b->len > limit - n) {
        b->failed = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : 1024;
    while (cap - b->len <= n) /* one byte to spare, for the NUL */
        cap *= 2;
    if (b->max && cap > b->max + 1)
        cap = b->max + 1;
    char *p = realloc(b->p, cap);
    if (p == NULL) {
        b->failed = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

char *kn_buf_extend(kn_buf *b, size_t n)
{
    if (!kn_buf_reserve(b, n))
        return NULL;
    char *at = b->p + b->len;
    b->len += n;
    return at;
}

void kn_buf_printf(kn_buf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < b->cap - b->len) { /* it fitted, with its NUL in the spare byte */
        b->len += (size_t)n;
        return;
    }
    if (!kn_buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *kn_buf_finish(kn_buf *b, size_t *len)
{
    if (!b->failed && b->p == NULL) /* nothing written: "" */
        kn_buf_grow(b, 0);
    char *text = NULL;
    if (!b->failed) {
        b->p[b->len] = '\0'; /* the byte kept spare */
        text = b->p;
    } else {
        free(b->p);
    }
    if (len != NULL)
        *len = text ? b->len : 0;
    *b = (kn_buf){.max = b->max};
    return text;
}

size_t kn_buf_sink(char *data, size_t size, size_t n, void *buf)
{
    kn_buf *b = buf;
    if (size != 0 && n > SIZE_MAX / size)
        return 0;
    size_t add = size * n;
    if (!kn_buf_reserve(b, add))
        return 0;
    kn_buf_put(b, data, add);
    b->p[b->len] = '\0';
    return add;
}

void kn_buf_free(kn_buf *b)
{
    free(b->p);
    *b = (kn_buf){.max = b->max};
}
