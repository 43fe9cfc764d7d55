/* watch_decoder.h - the watch event stream decoder.
 *
 * The body of a watch is a stream of JSON objects
 * {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": {...}} separated by
 * newlines (the API server writes one per line, in chunks that split lines
 * anywhere). Lines are bounded (KN_WATCH_MAX_LINE); a longer one, bad JSON, an
 * unknown type or a missing object fails the stream with a reason in d->err. */
#ifndef KN_WATCH_DECODER_H
#define KN_WATCH_DECODER_H

#include <stddef.h>

#include "base/err.h"
#include "json/json.h"

#define KN_WATCH_MAX_LINE (16 * 1024 * 1024)

typedef enum {
    KN_WATCH_ADDED,
    KN_WATCH_MODIFIED,
    KN_WATCH_DELETED,
    KN_WATCH_BOOKMARK,
    KN_WATCH_ERROR
} kn_watch_type;

/* Called with each event; object is borrowed for the call. Return 0 to go on, -1 to stop. */
typedef int (*kn_watch_event_fn)(void *ctx, kn_watch_type type, const kn_json *object);

typedef struct kn_watch_decoder {
    char *line;
    size_t len, cap, max_line;
    kn_watch_event_fn fn;
    void *ctx;
    kn_err err; /* why the stream failed */
} kn_watch_decoder;

void kn_watch_decoder_init(kn_watch_decoder *d, size_t max_line, kn_watch_event_fn fn, void *ctx);
void kn_watch_decoder_reset(kn_watch_decoder *d); /* drops a partial line */
void kn_watch_decoder_free(kn_watch_decoder *d);
/* 0 ok; -1 when the stream must be dropped (d->err says why, or the callback stopped). */
int kn_watch_decoder_feed(kn_watch_decoder *d, const char *data, size_t n);

#endif
