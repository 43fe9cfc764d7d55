/* utf8.h - strict UTF-8 checks and repair, as Go's encoding/json applies them.
 *
 * Valid means: no overlong forms, no surrogates (U+D800..U+DFFF), nothing past
 * U+10FFFF. Repair replaces each invalid byte with U+FFFD, so a string read
 * from the network and written back out is always the same valid JSON. */
#ifndef KN_UTF8_H
#define KN_UTF8_H

#include <stddef.h>

/* Length of the valid sequence starting at s (n > 0 bytes left), 0 if invalid. */
size_t kn_utf8_seq(const unsigned char *s, size_t n);

/* NULL when s[0..n) is already valid (use s as it is). Otherwise a malloc'd,
 * NUL-terminated repaired copy, its length in *out_len; also NULL with
 * *out_len == (size_t)-1 when out of memory. */
char *kn_utf8_repair(const char *s, size_t n, size_t *out_len);

#endif
