#include "base/quote.h"

#include <stdio.h>
#include <string.h>

/* Escaped form of one byte into out (at most 4 chars + NUL); returns its length. */
static size_t escape_byte(unsigned char c, char out[5])
{
    switch (c) {
    case '"': return (size_t)snprintf(out, 5, "\\\"");
    case '\\': return (size_t)snprintf(out, 5, "\\\\");
    case '\n': return (size_t)snprintf(out, 5, "\\n");
    case '\t': return (size_t)snprintf(out, 5, "\\t");
    default:
        if (c < 0x20 || c == 0x7f)
            return (size_t)snprintf(out, 5, "\\x%02x", c);
        out[0] = (char)c;
        out[1] = '\0';
        return 1;
    }
}

const char *kn_quote(const char *s, char *buf, size_t cap)
{
    if (cap < 8) {
        if (cap > 0)
            buf[0] = '\0';
        return buf;
    }
    size_t n = 0;
    buf[n++] = '"';
    /* Room kept at the end for `..."` and the NUL. */
    size_t limit = cap - 5;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        char e[5];
        size_t k = escape_byte(*p, e);
        if (n + k > limit) {
            memcpy(buf + n, "...", 3);
            n += 3;
            break;
        }
        memcpy(buf + n, e, k);
        n += k;
    }
    buf[n++] = '"';
    buf[n] = '\0';
    return buf;
}

const char *kn_article(const char *word)
{
    return word != NULL && word[0] != '\0' && strchr("aeiouAEIOU", word[0]) != NULL ? "an" : "a";
}
