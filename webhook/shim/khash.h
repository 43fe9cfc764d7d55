/* khash.h - just enough of klib's khash for <h2o/http2_internal.h>.
 *
 * libh2o's headers name "khash.h" but Debian does not install it (h2o
 * builds it in from its own tree). webhook/bodies.c reads HTTP/2 streams through
 * http2_internal.h and never touches the stream table itself: h2o keeps it
 * behind a pointer, so an incomplete type gives the same layout, and the one
 * inline lookup that uses it (h2o_http2_conn_get_stream) is never called,
 * which kn_khash_not_available() would turn into a link error. */
#ifndef KN_KHASH_SHIM_H
#define KN_KHASH_SHIM_H

#include <stdint.h>

typedef uint32_t khint_t;
typedef khint_t khiter_t;

#define khash_t(name) struct kh_##name##_s
#define KHASH_MAP_INIT_INT64(name, khval_t) struct kh_##name##_s;

/* Declared, never defined: any use fails to link. */
void *kn_khash_not_available(void);
#define kh_get(name, h, k) ((khiter_t)(uintptr_t)kn_khash_not_available())
#define kh_end(h) ((khiter_t)0)
#define kh_val(h, x) ((void *)kn_khash_not_available())

#endif
