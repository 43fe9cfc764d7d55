/* manifest.c - kn_manifest_read_file(): a bounded read of a manifest file (or
 * stdin) into documents, with "kind: List" flattened as kubectl does. */
#include "yaml/manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the whole stream if it holds at most max bytes; NULL otherwise. */
static char *read_bounded(FILE *f, size_t max, size_t *len, kn_err *err)
{
    size_t cap = 64 * 1024, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf != NULL && n == cap) {
            if (cap > max) {
                free(buf);
                kn_err_set(err, "the file is larger than %zu bytes", max);
                return NULL;
            }
            cap = cap * 2 > max + 1 ? max + 1 : cap * 2; /* one byte past max detects "too large" */
            char *nb = realloc(buf, cap);
            if (nb == NULL)
                free(buf);
            buf = nb;
        }
        if (buf == NULL) {
            kn_err_set(err, "out of memory");
            return NULL;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        kn_err_set(err, "cannot read: %s", strerror(errno));
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static bool is_list(const kn_json *doc)
{
    const char *kind = kn_json_get_str(doc, "kind");
    return kind != NULL && strcmp(kind, "List") == 0 && kn_json_is(kn_json_get(doc, "items"), KN_JSON_ARRAY);
}

/* Appends doc (or, for a List, its items, recursively) to out; takes doc. */
static int flatten(kn_json *doc, kn_json ***out, size_t *n, size_t *cap, int depth)
{
    if (!is_list(doc) || depth > 8)
        return kn_docs_push(out, n, cap, doc);
    kn_json *items = kn_json_get(doc, "items");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < kn_json_len(items); i++)
        rc = flatten(kn_json_clone(kn_json_at(items, i)), out, n, cap, depth + 1);
    kn_json_free(doc);
    return rc;
}

static int read_docs(const char *path, bool lists, kn_json ***docs, size_t *n, kn_err *err)
{
    *docs = NULL;
    *n = 0;
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (f == NULL)
        return kn_err_set(err, "%s: %s", path, strerror(errno));
    size_t len = 0;
    char *buf = read_bounded(f, KN_MANIFEST_MAX_BYTES, &len, err);
    if (!is_stdin)
        fclose(f);
    if (buf == NULL)
        return kn_err_prefix(err, "%s", is_stdin ? "stdin" : path);
    kn_json **raw = NULL;
    size_t nraw = 0, cap = 0;
    kn_json_limits lim = {.max_bytes = KN_MANIFEST_MAX_BYTES};
    int rc = kn_yaml_parse_docs(buf, len, &lim, &raw, &nraw, err);
    free(buf);
    if (rc != 0)
        return kn_err_prefix(err, "%s", is_stdin ? "stdin" : path);
    if (lists) {
        *docs = raw;
        *n = nraw;
        return 0;
    }
    for (size_t i = 0; i < nraw && rc == 0; i++) {
        rc = flatten(raw[i], docs, n, &cap, 0);
        raw[i] = NULL;
    }
    kn_yaml_free_docs(raw, nraw);
    if (rc != 0) {
        kn_yaml_free_docs(*docs, *n);
        *docs = NULL;
        *n = 0;
        return kn_err_set(err, "%s: out of memory", is_stdin ? "stdin" : path);
    }
    return 0;
}

int kn_manifest_read_file(const char *path, kn_json ***docs, size_t *n, kn_err *err)
{
    return read_docs(path, false, docs, n, err);
}

int kn_manifest_read_file_lists(const char *path, kn_json ***docs, size_t *n, kn_err *err)
{
    return read_docs(path, true, docs, n, err);
}
