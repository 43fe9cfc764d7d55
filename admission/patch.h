/* patch.h - building and applying JSON Patch (RFC 6902) as kube-apiserver does.
 *
 * Building: kn_patch_set() writes a value at a path of the object AS SENT
 * (not as already patched): when every step exists it emits `replace`; when a
 * map on the way is missing (metadata.labels, spec.driver.annotations) it
 * emits one `add` of the whole missing map, created with its members, and a
 * later kn_patch_set() under the same missing map is merged into that op, so
 * the patch applies in order. Tokens are escaped with kn_json_pointer_escape.
 * The ops are kept as a list (kn_patch_list) with their values as trees,
 * since a later set may change an earlier op's value; kn_patch_write writes
 * the list as text (what an answer sends), kn_patch_json builds it as a tree.
 *
 * Applying: kn_json_patch_apply() implements add, remove, replace, move, copy
 * and test on a copy of the document; any failing op fails the whole patch
 * (as the API server does) with a message naming the op and path. */
#ifndef KN_PATCH_H
#define KN_PATCH_H

#include "base/err.h"
#include "json/json.h"

#define KN_PATCH_MAX_DEPTH 16
#define KN_PATCH_PATH_MAX 1024

/* A patch being built: its ops in order. Start from (kn_patch_list){0}. */
typedef struct kn_patch_entry {
    const char *op; /* "add", "replace" or "remove" (static) */
    char *path;     /* escaped JSON Pointer, malloc'd */
    kn_json *value; /* owned; NULL for a remove */
} kn_patch_entry;
typedef struct kn_patch_list {
    kn_patch_entry *ops;
    size_t n, cap;
} kn_patch_list;

/* p: the patch being built. root: the object as sent. tokens: the unescaped
 * path steps (n of them, 1..KN_PATCH_MAX_DEPTH). Takes ownership of value.
 * 0 ok, -1 on out-of-memory or a path too long. */
int kn_patch_set(kn_patch_list *p, const kn_json *root, const char *const *tokens, int n, kn_json *value);
/* A `remove` of the member at tokens when the object as sent has it (else
 * nothing). 0 ok, -1 on out-of-memory or a path too long. */
int kn_patch_remove(kn_patch_list *p, const kn_json *root, const char *const *tokens, int n);
/* The patch as JSON text, byte for byte kn_json_dump(kn_patch_json(p)): an
 * admission answer writes it so, without the tree. */
void kn_patch_write(const kn_patch_list *p, kn_json_writer *w);
/* The patch as a new array of op objects (NULL when out of memory). */
kn_json *kn_patch_json(const kn_patch_list *p);
void kn_patch_list_free(kn_patch_list *p);

/* Returns the patched copy of doc (caller frees), or NULL with err set. */
kn_json *kn_json_patch_apply(const kn_json *doc, const kn_json *patch, kn_err *err);
/* The same on doc itself (taken: the patched doc is returned, or NULL with doc
 * freed): member edits are made in place, not on a copy per op. */
kn_json *kn_json_patch_apply_owned(kn_json *doc, const kn_json *patch, kn_err *err);

#endif
