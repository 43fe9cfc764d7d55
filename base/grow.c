#include "base/grow.h"

#include <stdint.h>
#include <stdlib.h>

int kn_grow(void **items, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return -1;
        ncap *= 2;
    }
    if (size == 0 || ncap > SIZE_MAX / size)
        return -1;
    void *p = realloc(*items, ncap * size);
    if (p == NULL)
        return -1;
    *items = p;
    *cap = ncap;
    return 0;
}
