/* siphash.c - SipHash-1-3 and the process's secret key (see siphash.h). */
#include "base/siphash.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

/* n <= 8 bytes at p as SipHash reads them: little-endian on every host (on
 * a big-endian one the bytes copied to the top of w end up at the bottom). */
static inline uint64_t load_le(const unsigned char *p, size_t n)
{
    uint64_t w = 0;
    memcpy(&w, p, n);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

/* The last r < 8 bytes as the low bytes of a word. Two loads that may
 * overlap instead of a loop: keys are short, and this runs for every one. */
static inline uint64_t load_tail(const unsigned char *p, size_t r)
{
    if (r >= 4)
        return load_le(p, 4) | load_le(p + r - 4, 4) << (8 * (r - 4));
    if (r == 0)
        return 0;
    return (uint64_t)p[0] | (uint64_t)p[r / 2] << (8 * (r / 2)) | (uint64_t)p[r - 1] << (8 * (r - 1));
}

#define SIPROUND                                                                                                  \
    do {                                                                                                          \
        v0 += v1, v1 = rotl(v1, 13), v1 ^= v0, v0 = rotl(v0, 32);                                                 \
        v2 += v3, v3 = rotl(v3, 16), v3 ^= v2;                                                                    \
        v0 += v3, v3 = rotl(v3, 21), v3 ^= v0;                                                                    \
        v2 += v1, v1 = rotl(v1, 17), v1 ^= v2, v2 = rotl(v2, 32);                                                 \
    } while (0)

/* Inlined into both callers: kn_keyhash runs for every key of a big object. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline uint64_t
siphash13(uint64_t k0, uint64_t k1, const unsigned char *p, size_t n)
{
    uint64_t v0 = k0 ^ 0x736f6d6570736575u, v1 = k1 ^ 0x646f72616e646f6du;
    uint64_t v2 = k0 ^ 0x6c7967656e657261u, v3 = k1 ^ 0x7465646279746573u;
    const unsigned char *end = p + (n & ~(size_t)7);
    for (; p != end; p += 8) {
        uint64_t m = load_le(p, 8);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t m = (uint64_t)n << 56 | load_tail(p, n & 7);
    v3 ^= m;
    SIPROUND;
    v0 ^= m;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t kn_siphash13(const kn_sipkey *key, const void *p, size_t n)
{
    return siphash13(key->k0, key->k1, p, n);
}

/* ---- the process's key ---- */

static kn_sipkey process_key;
static atomic_bool key_ready;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static bool kernel_random(unsigned char *b, size_t n)
{
    size_t got = 0;
    while (got < n) { /* GRND_NONBLOCK: early in boot, /dev/urandom rather than a wait */
        ssize_t r = getrandom(b + got, n - got, GRND_NONBLOCK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got == n)
        return true;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    for (got = 0; got < n;) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    return got == n;
}

/* No kernel randomness (a seccomp filter, no /dev): what differs between
 * processes and runs, spread by SipHash under two fixed keys. Guessable by
 * someone on the machine, but never a reason to stop serving. */
static void weak_key(kn_sipkey *k)
{
    struct {
        struct timespec real, mono;
        pid_t pid;
        const void *stack, *data, *code;
    } mix;
    memset(&mix, 0, sizeof(mix));
    clock_gettime(CLOCK_REALTIME, &mix.real);
    clock_gettime(CLOCK_MONOTONIC, &mix.mono);
    mix.pid = getpid();
    mix.stack = &mix;
    mix.data = &process_key;
    mix.code = (const void *)(uintptr_t)&weak_key;
    k->k0 = siphash13(1, 2, (const unsigned char *)&mix, sizeof(mix));
    k->k1 = siphash13(3, 4, (const unsigned char *)&mix, sizeof(mix));
}

static void draw_key(void)
{
    unsigned char b[16];
    if (kernel_random(b, sizeof(b))) {
        process_key.k0 = load_le(b, 8);
        process_key.k1 = load_le(b + 8, 8);
    } else {
        weak_key(&process_key);
    }
    atomic_store_explicit(&key_ready, true, memory_order_release);
}

uint64_t kn_keyhash(const void *p, size_t n)
{
    if (!atomic_load_explicit(&key_ready, memory_order_acquire))
        pthread_once(&key_once, draw_key);
    /* p may be NULL when n is 0 (an empty label set); NULL + 0 is undefined in C */
    return siphash13(process_key.k0, process_key.k1, n > 0 ? p : "", n);
}
