/* json.h - a small owned JSON tree: parse (strict reader, yajl for the rest), build, look up, serialize.
 *
 * Contract:
 *  - kn_json_parse() never aborts on bad input: it returns NULL and an error
 *    with the byte offset ("offset 123: ..."). Input size and nesting depth are
 *    bounded by kn_json_limits (defaults: 8 MiB, depth 64).
 *  - Every node owns its children; kn_json_free() frees a whole subtree.
 *    A node added to a container is owned by the container afterwards.
 *    A parsed document's nodes and strings live in one arena that goes with
 *    its root: kn_json_free() on a subtree of it (kn_json_remove, a replaced
 *    member) frees only what was malloc'd, the rest when the root is freed.
 *  - Object member order is kept (serialization is stable), duplicate keys in
 *    parsed input keep the last value (as Go's encoding/json does).
 *  - Lookups on objects are O(1) on average (hashed past a few members).
 *  - Numbers keep their source text, so an integer such as 9007199254740993
 *    round-trips exactly; kn_json_int() fails for non-integers or overflow.
 *  - Accessors are NULL-tolerant: kn_json_get(NULL, "x") is NULL, so chains
 *    like kn_json_dig(root, "spec", "driver", "labels", NULL) need no checks.
 *  - Builders are NULL-tolerant too: kn_json_set()/kn_json_append() free val
 *    on failure and fail on a NULL val, so kn_json_set(o, "k",
 *    kn_json_new_string(s)) never leaks.
 *  - Parse errors: "offset N: <yajl message>" (also "nesting too deep",
 *    trailing garbage, empty input). max_depth is capped at 1000; dumping a
 *    tree nested deeper than 128 (yajl_gen's limit) returns NULL.
 *  - kn_json_dump() always emits valid UTF-8: bytes of a built string that
 *    are not UTF-8 become U+FFFD (as Go's encoding/json does).
 *  - kn_json_equal() compares objects regardless of member order and numbers
 *    by value (1.0 equals 1).
 */
#ifndef KN_JSON_H
#define KN_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

typedef enum {
    KN_JSON_NULL,
    KN_JSON_BOOL,
    KN_JSON_NUMBER,
    KN_JSON_STRING,
    KN_JSON_ARRAY,
    KN_JSON_OBJECT,
} kn_json_type;

typedef struct kn_json kn_json;

typedef struct kn_json_limits {
    size_t max_bytes; /* 0 = default 8 MiB */
    int max_depth;    /* 0 = default 64 */
} kn_json_limits;

/* ---- parsing and serializing ---- */
kn_json *kn_json_parse(const char *buf, size_t len, const kn_json_limits *lim, kn_err *err);
/* Compact JSON, malloc'd, NUL-terminated; *len (if non-NULL) gets its length. */
char *kn_json_dump(const kn_json *v, size_t *len);
/* Indented JSON (2 spaces) for people. */
char *kn_json_dump_pretty(const kn_json *v, size_t *len);

/* Compact JSON written piece by piece into a kn_buf, byte for byte what
 * kn_json_dump() writes for the same tree, without building one (an
 * admission answer is written this way). Start from KN_BUF_INIT, end with
 * kn_buf_finish(); a failure (out of memory, a tree too deep) sticks. */
typedef kn_buf kn_json_writer;
void kn_json_write_raw(kn_json_writer *w, const char *s, size_t n);    /* as is: punctuation, literals */
void kn_json_write_string(kn_json_writer *w, const char *s, size_t n); /* quoted and escaped */
void kn_json_write_value(kn_json_writer *w, const kn_json *v);         /* a whole tree (NULL fails) */
void kn_json_free(kn_json *v);
kn_json *kn_json_clone(const kn_json *v);
bool kn_json_equal(const kn_json *a, const kn_json *b);

/* ---- inspecting ---- */
kn_json_type kn_json_typeof(const kn_json *v); /* KN_JSON_NULL for NULL */
const char *kn_json_type_name(kn_json_type t); /* "string", "object", ... */
bool kn_json_is(const kn_json *v, kn_json_type t);
kn_json *kn_json_get(const kn_json *obj, const char *key);        /* NULL if absent or not an object */
kn_json *kn_json_dig(const kn_json *v, ...);                      /* keys, NULL-terminated */
const char *kn_json_str(const kn_json *v);                        /* NULL if not a string */
size_t kn_json_strlen(const kn_json *v);                          /* string length (may hold NULs) */
const char *kn_json_get_str(const kn_json *obj, const char *key); /* kn_json_str(kn_json_get(...)) */
bool kn_json_bool(const kn_json *v, bool dflt);                   /* dflt unless a bool */
int kn_json_int(const kn_json *v, int64_t *out);                  /* 0 ok; -1 not an integer number */
int kn_json_double(const kn_json *v, double *out);                /* 0 ok; -1 not a number */
const char *kn_json_number_text(const kn_json *v);                /* source text of a number */
size_t kn_json_len(const kn_json *v);                             /* members of array or object, else 0 */
kn_json *kn_json_at(const kn_json *arr, size_t i);                /* array element or NULL */
/* i-th member of an object, in order (for iteration); NULL past the end. */
const char *kn_json_key_at(const kn_json *obj, size_t i);
kn_json *kn_json_value_at(const kn_json *obj, size_t i);

/* ---- building ---- (return NULL only on out-of-memory) */
kn_json *kn_json_new_null(void);
kn_json *kn_json_new_bool(bool b);
kn_json *kn_json_new_int(int64_t i);
kn_json *kn_json_new_double(double d); /* NaN/Inf are dumped as null */
/* A number from its JSON text (e.g. "9007199254740993"); NULL if the text is
 * not a valid JSON number (or out of memory). */
kn_json *kn_json_new_number(const char *text, size_t n);
bool kn_json_number_text_valid(const char *text, size_t n);
kn_json *kn_json_new_string(const char *s);
kn_json *kn_json_new_stringn(const char *s, size_t n);
kn_json *kn_json_new_array(void);
kn_json *kn_json_new_object(void);
/* Takes ownership of val; replaces an existing member of the same key. 0 ok. */
int kn_json_set(kn_json *obj, const char *key, kn_json *val);
int kn_json_set_str(kn_json *obj, const char *key, const char *s);
int kn_json_append(kn_json *arr, kn_json *val);
/* Removes and frees a member; 0 if removed, -1 if absent. */
int kn_json_remove(kn_json *obj, const char *key);

/* ---- JSON Pointer (RFC 6901) ---- */
/* Appends one escaped reference token ('~' -> "~0", '/' -> "~1") to the
 * NUL-terminated string already in buf (start with buf[0] = '\0' to get the
 * token alone), e.g. "/metadata/labels/" + "a/b" -> "/metadata/labels/a~1b".
 * Returns the number of bytes appended (excluding NUL), or -1 with buf
 * unchanged if the result does not fit in cap bytes. */
int kn_json_pointer_escape(const char *token, char *buf, size_t cap);
/* Resolves a pointer such as "/metadata/labels/app~1name"; NULL if absent.
 * "" is the root; array tokens are decimal indexes ("-" is never present);
 * a malformed escape ("~2", trailing "~") resolves to NULL. */
kn_json *kn_json_pointer_get(const kn_json *root, const char *pointer);

#endif
