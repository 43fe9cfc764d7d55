/* json_internal.h - the node layout shared by json.c, json_parse.c and
 * json_dump.c. Not part of the public API: include json.h instead. */
#ifndef KN_JSON_INTERNAL_H
#define KN_JSON_INTERNAL_H

#include "json.h"

#include <stdint.h>

typedef struct kn_json_member {
    char *key; /* NUL-terminated; klen bytes (a JSON key may hold \u0000) */
    size_t klen;
    kn_json *val;
} kn_json_member;

struct kn_json {
    kn_json_type type;
    union {
        bool b;
        struct {
            char *text; /* valid JSON number text; NULL for a non-finite double */
            double d;
        } num;
        struct {
            char *s; /* NUL-terminated; len bytes, may hold NULs */
            size_t len;
        } str;
        struct {
            kn_json **items;
            size_t len, cap;
        } arr;
        struct {
            kn_json_member *m;
            size_t len, cap;
            uint32_t *idx; /* open addressing: member index + 1, 0 = empty */
            size_t idxcap; /* 0 while the object is small */
        } obj;
    } u;
};

/* Sets a member whose key has an explicit length (parser keys may hold NULs).
 * Takes ownership of val (frees it on failure). */
int kn_json_setn(kn_json *obj, const char *key, size_t klen, kn_json *val);

#endif
