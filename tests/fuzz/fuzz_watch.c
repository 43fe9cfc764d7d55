/* fuzz_watch.c - the watch event stream decoder (kn_watch_decoder_feed).
 *
 * The input is fed twice: whole, and in chunks of sizes drawn from the input
 * itself (the API server's chunks split lines anywhere). Invariants: never a
 * crash; both runs deliver the same events (type and object) and end in the
 * same state (ok, or failed with a reason); a line longer than the bound
 * fails the stream instead of growing the buffer. */
#include "fuzz.h"
#include "json/json.h"
#include "kube/client/watch_decoder.h"

#define MAX_LINE 4096
#define MAX_EVENTS 64

typedef struct seen {
    int n;
    kn_watch_type types[MAX_EVENTS];
    char *objects[MAX_EVENTS];
} seen;

static int on_event(void *ctx, kn_watch_type type, const kn_json *object)
{
    seen *s = ctx;
    KN_FUZZ_CHECK(object != NULL);
    if (s->n == MAX_EVENTS)
        return -1;
    s->types[s->n] = type;
    s->objects[s->n] = kn_json_dump(object, NULL);
    KN_FUZZ_CHECK(s->objects[s->n] != NULL);
    s->n++;
    return 0;
}

/* Feeds data in chunks; chunk sizes come from a small PRNG seeded by step
 * (step 0: everything at once). Returns the last feed's result. */
static int feed(const char *data, size_t size, unsigned step, seen *s, char *why, size_t cap)
{
    kn_watch_decoder d;
    kn_watch_decoder_init(&d, MAX_LINE, on_event, s);
    int rc = 0;
    uint32_t x = step * 2654435761u + 1;
    for (size_t off = 0; off < size && rc == 0;) {
        x = x * 1103515245u + 12345u;
        size_t n = step == 0 ? size : 1 + (x >> 16) % 97;
        if (n > size - off)
            n = size - off;
        rc = kn_watch_decoder_feed(&d, data + off, n);
        off += n;
    }
    KN_FUZZ_CHECK(d.len <= MAX_LINE + 1 || rc != 0);
    snprintf(why, cap, "%s", d.err.msg);
    kn_watch_decoder_free(&d);
    return rc;
}

static void seen_free(seen *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->objects[i]);
}

int kn_fuzz_watch(const uint8_t *data, size_t size)
{
    char *buf = kn_fuzz_exact(data, size);
    seen whole = {0}, chunked = {0};
    char why1[KN_ERR_MAX], why2[KN_ERR_MAX];
    int rc1 = feed(buf, size, 0, &whole, why1, sizeof(why1));
    int rc2 = feed(buf, size, (unsigned)size, &chunked, why2, sizeof(why2));
    if (rc1 != rc2 || whole.n != chunked.n)
        fprintf(stderr, "whole: rc %d, %d events (%s); chunked: rc %d, %d events (%s)\n", rc1, whole.n, why1, rc2,
                chunked.n, why2);
    KN_FUZZ_CHECK(rc1 == rc2 && whole.n == chunked.n);
    for (int i = 0; i < whole.n; i++) {
        KN_FUZZ_CHECK(whole.types[i] == chunked.types[i]);
        KN_FUZZ_CHECK(strcmp(whole.objects[i], chunked.objects[i]) == 0);
    }
    KN_FUZZ_CHECK(rc1 == 0 || whole.n == MAX_EVENTS || why1[0] != '\0');
    seen_free(&whole);
    seen_free(&chunked);
    free(buf);
    return 0;
}

KN_FUZZ_TARGET(kn_fuzz_watch)
