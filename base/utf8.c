#include "base/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t kn_utf8_seq(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t len = s[0] >= 0xC2 && s[0] <= 0xDF   ? 2
                 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
                 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4
                                                : 0;
    if (len == 0 || len > n)
        return 0;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (s[0] == 0xE0)
        lo = 0xA0; /* overlong */
    else if (s[0] == 0xED)
        hi = 0x9F; /* surrogates */
    else if (s[0] == 0xF0)
        lo = 0x90; /* overlong */
    else if (s[0] == 0xF4)
        hi = 0x8F; /* past U+10FFFF */
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

char *kn_utf8_repair(const char *str, size_t n, size_t *out_len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t bad = 0, i = 0;
    /* Eight ASCII bytes at a time first: every parsed string and key comes
     * through here, and nearly all of them are ASCII. */
    for (uint64_t w; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        if (w & UINT64_C(0x8080808080808080))
            break;
    }
    for (size_t k; i < n; i += k ? k : 1) {
        k = s[i] < 0x80 ? 1 : kn_utf8_seq(s + i, n - i);
        bad += k == 0;
    }
    *out_len = n;
    if (bad == 0)
        return NULL;
    char *fixed = malloc(n + 2 * bad + 1);
    if (fixed == NULL) {
        *out_len = (size_t)-1;
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = kn_utf8_seq(s + i, n - i);
        if (k == 0) {
            memcpy(fixed + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(fixed + o, s + i, k);
            o += k;
            i += k;
        }
    }
    fixed[o] = '\0';
    *out_len = o;
    return fixed;
}
