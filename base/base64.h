/* base64.h - standard base64 (RFC 4648 section 4, with padding), as
 * Kubernetes carries bytes in JSON ([]byte fields such as an admission
 * response's patch). */
#ifndef KN_BASE64_H
#define KN_BASE64_H

#include <stddef.h>

/* Characters kn_base64_encode writes for n bytes (no NUL). */
static inline size_t kn_base64_len(size_t n)
{
    return 4 * ((n + 2) / 3);
}

/* Writes kn_base64_len(n) characters of in[0..n) at out; no NUL. */
void kn_base64_encode(const unsigned char *in, size_t n, char *out);

#endif
