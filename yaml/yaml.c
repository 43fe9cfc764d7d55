/* yaml.c - kn_yaml_parse_docs(): libyaml's event stream composed into kn_json
 * trees, one per document, with anchors copied under a node/byte budget so an
 * alias bomb fails fast instead of exhausting memory. */
#include "yaml/manifest.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "yaml/yaml_scalar.h"
#include "base/grow.h"

#define YAML_DEFAULT_MAX_BYTES (8u * 1024 * 1024)
#define YAML_DEFAULT_MAX_DEPTH 64
#define YAML_HARD_MAX_DEPTH 1000
#define YAML_MAX_NODES 1000000u

typedef struct {
    char *name;
    const kn_json *node; /* lives in the document (or in the graveyard) */
    size_t nodes, bytes;
    int height; /* container levels: 0 for a scalar */
} anchor;

typedef struct {
    kn_json *node;
    bool is_map;
    bool have_key, key_is_merge;
    char *key;
    yaml_mark_t key_mark; /* duplicate keys are reported where the key is */
    kn_json *merges;      /* array of "<<" values, applied at the end of the map */
    char *anchor;
    size_t nodes_at_start, bytes_at_start;
    int height; /* 1 + the tallest child so far */
} frame;

typedef struct {
    kn_json *root;
    frame *stack;
    int depth, max_depth;
    size_t nodes, bytes, max_bytes;
    anchor *anchors;
    size_t nanchors, anchors_cap;
    kn_json *graveyard; /* merge sources that anchors may still point into */
    yaml_mark_t mark;   /* of the event being handled, for messages */
    kn_err *err;
} composer;

__attribute__((format(printf, 2, 3))) static int fail(composer *c, const char *fmt, ...)
{
    if (c->err == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
    va_end(ap);
    return kn_err_prefix(c->err, "line %zu, column %zu", c->mark.line + 1, c->mark.column + 1);
}

static void composer_reset(composer *c)
{
    for (int i = 0; i < c->depth; i++) {
        free(c->stack[i].key);
        free(c->stack[i].anchor);
        kn_json_free(c->stack[i].merges);
    }
    c->depth = 0;
    for (size_t i = 0; i < c->nanchors; i++)
        free(c->anchors[i].name);
    c->nanchors = 0;
    kn_json_free(c->graveyard);
    c->graveyard = NULL;
    kn_json_free(c->root);
    c->root = NULL;
    /* nodes and bytes are not reset: the budget covers the whole stream, or
     * many small bombs in many documents would add up. */
}

/* Counts a node (or an alias copy of many) against the stream's budget. */
static int charge(composer *c, size_t nodes, size_t bytes)
{
    if (nodes > YAML_MAX_NODES - c->nodes || bytes > 2 * c->max_bytes - c->bytes)
        return fail(c, "%sthe document expands to more than %u nodes or %zu bytes of text (alias bomb?)",
                    nodes > 1 ? "an alias makes " : "", YAML_MAX_NODES, 2 * c->max_bytes);
    c->nodes += nodes;
    c->bytes += bytes;
    return 0;
}

static int remember_anchor(composer *c, const char *name, const kn_json *node, size_t nodes, size_t bytes,
                           int height)
{
    for (size_t i = 0; i < c->nanchors; i++) {
        if (strcmp(c->anchors[i].name, name) == 0) { /* redefinition: the latest wins */
            c->anchors[i] = (anchor){c->anchors[i].name, node, nodes, bytes, height};
            return 0;
        }
    }
    if (kn_grow((void **)&c->anchors, &c->anchors_cap, c->nanchors + 1, sizeof(*c->anchors)) != 0)
        return fail(c, "%s", "out of memory");
    char *copy = strdup(name);
    if (copy == NULL)
        return fail(c, "%s", "out of memory");
    c->anchors[c->nanchors++] = (anchor){copy, node, nodes, bytes, height};
    return 0;
}

/* Hands a finished (or, for containers, just opened) value to its parent. */
static int deliver(composer *c, kn_json *v, int height)
{
    if (c->depth == 0) {
        c->root = v;
        return 0;
    }
    frame *top = &c->stack[c->depth - 1];
    if (top->height < height + 1)
        top->height = height + 1;
    if (!top->is_map)
        return kn_json_append(top->node, v) == 0 ? 0 : fail(c, "%s", "out of memory");
    top->have_key = false;
    bool merge = top->key_is_merge;
    top->key_is_merge = false;
    char *key = top->key;
    top->key = NULL;
    int rc = 0;
    if (merge) {
        if (top->merges == NULL && (top->merges = kn_json_new_array()) == NULL) {
            kn_json_free(v);
            rc = fail(c, "%s", "out of memory");
        } else if (kn_json_append(top->merges, v) != 0) {
            rc = fail(c, "%s", "out of memory");
        }
    } else if (kn_json_get(top->node, key) != NULL) {
        kn_json_free(v);
        c->mark = top->key_mark;
        rc = fail(c, "mapping key \"%s\" is already defined", key);
    } else if (kn_json_set(top->node, key, v) != 0) {
        rc = fail(c, "%s", "out of memory");
    }
    free(key);
    return rc;
}

/* A scalar in key position: its text (plain non-strings as JSON text, so
 * "yes:" is "true" as sigs.k8s.io/yaml makes it). */
static int take_key(composer *c, frame *top, const yaml_event_t *ev)
{
    const char *val = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (memchr(val, '\0', len) != NULL)
        return fail(c, "%s", "a mapping key contains a NUL character");
    top->key_is_merge = kn_yaml_is_merge_key(tag, val, len, plain);
    kn_json *k = plain && tag == NULL ? kn_yaml_scalar(NULL, val, len, true, NULL) : NULL;
    if (k != NULL && !kn_json_is(k, KN_JSON_STRING)) {
        top->key = kn_json_dump(k, &len);
    } else {
        top->key = strndup(val, len);
    }
    kn_json_free(k);
    if (top->key == NULL)
        return fail(c, "%s", "out of memory");
    top->have_key = true;
    top->key_mark = ev->start_mark;
    return charge(c, 0, len);
}

static int on_scalar(composer *c, const yaml_event_t *ev)
{
    frame *top = c->depth > 0 ? &c->stack[c->depth - 1] : NULL;
    if (top != NULL && top->is_map && !top->have_key)
        return take_key(c, top, ev);
    size_t len = ev->data.scalar.length;
    if (charge(c, 1, len) != 0)
        return -1;
    kn_err serr;
    kn_json *v = kn_yaml_scalar((const char *)ev->data.scalar.tag, (const char *)ev->data.scalar.value, len,
                                ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE, &serr);
    if (v == NULL)
        return fail(c, "%s", serr.msg);
    const char *anchor = (const char *)ev->data.scalar.anchor;
    if (anchor != NULL && remember_anchor(c, anchor, v, 1, len, 0) != 0) {
        kn_json_free(v);
        return -1;
    }
    return deliver(c, v, 0);
}

static int on_alias(composer *c, const yaml_event_t *ev)
{
    frame *top = c->depth > 0 ? &c->stack[c->depth - 1] : NULL;
    const char *name = (const char *)ev->data.alias.anchor;
    if (top != NULL && top->is_map && !top->have_key)
        return fail(c, "alias *%s used as a mapping key is not supported", name);
    const anchor *a = NULL;
    for (size_t i = 0; i < c->nanchors; i++)
        if (strcmp(c->anchors[i].name, name) == 0)
            a = &c->anchors[i];
    if (a == NULL)
        return fail(c, "unknown anchor \"%s\" (an alias must follow its anchor)", name);
    if (c->depth + a->height > c->max_depth)
        return fail(c, "alias *%s nests the document too deeply", name);
    if (charge(c, a->nodes, a->bytes) != 0)
        return -1;
    kn_json *copy = kn_json_clone(a->node);
    if (copy == NULL)
        return fail(c, "%s", "out of memory");
    return deliver(c, copy, a->height);
}

static int on_start(composer *c, const yaml_event_t *ev, bool is_map)
{
    frame *top = c->depth > 0 ? &c->stack[c->depth - 1] : NULL;
    if (top != NULL && top->is_map && !top->have_key)
        return fail(c, "%s", "a mapping key must be a scalar, not a mapping or a sequence");
    if (c->depth >= c->max_depth)
        return fail(c, "%s", "nesting too deep");
    if (charge(c, 1, 0) != 0)
        return -1;
    kn_json *v = is_map ? kn_json_new_object() : kn_json_new_array();
    if (v == NULL)
        return fail(c, "%s", "out of memory");
    const yaml_char_t *anchor = is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    char *name = anchor ? strdup((const char *)anchor) : NULL;
    if (anchor != NULL && name == NULL) {
        kn_json_free(v);
        return fail(c, "%s", "out of memory");
    }
    if (deliver(c, v, 1) != 0) { /* linked first: an error later frees it with the root */
        free(name);
        return -1;
    }
    c->stack[c->depth++] = (frame){.node = v,
                                   .is_map = is_map,
                                   .anchor = name,
                                   .nodes_at_start = c->nodes - 1,
                                   .bytes_at_start = c->bytes,
                                   .height = 1};
    return 0;
}

/* "<<" values: each must be a mapping or a list of mappings; keys written in
 * the map itself win, then earlier merged maps over later ones. */
static int apply_merges(composer *c, frame *f)
{
    kn_json *srcs = f->merges;
    for (size_t i = 0; i < kn_json_len(srcs); i++) {
        kn_json *s = kn_json_at(srcs, i);
        size_t n = kn_json_is(s, KN_JSON_ARRAY) ? kn_json_len(s) : 1;
        for (size_t j = 0; j < n; j++) {
            kn_json *m = kn_json_is(s, KN_JSON_ARRAY) ? kn_json_at(s, j) : s;
            if (!kn_json_is(m, KN_JSON_OBJECT))
                return fail(c, "%s", "a merge key (<<) needs a mapping or a list of mappings");
            for (size_t k = 0; k < kn_json_len(m); k++) {
                const char *key = kn_json_key_at(m, k);
                if (kn_json_get(f->node, key) == NULL &&
                    kn_json_set(f->node, key, kn_json_clone(kn_json_value_at(m, k))) != 0)
                    return fail(c, "%s", "out of memory");
            }
        }
    }
    /* Anchors may point into the sources: keep them until the document ends. */
    if (srcs != NULL) {
        if (c->graveyard == NULL && (c->graveyard = kn_json_new_array()) == NULL)
            return fail(c, "%s", "out of memory");
        f->merges = NULL;
        if (kn_json_append(c->graveyard, srcs) != 0)
            return fail(c, "%s", "out of memory");
    }
    return 0;
}

static int on_end(composer *c)
{
    frame *f = &c->stack[c->depth - 1];
    int rc = f->is_map ? apply_merges(c, f) : 0;
    if (rc == 0 && f->anchor != NULL)
        rc = remember_anchor(c, f->anchor, f->node, c->nodes - f->nodes_at_start, c->bytes - f->bytes_at_start,
                             f->height);
    if (rc != 0)
        return -1;
    free(f->anchor);
    free(f->key);
    kn_json_free(f->merges);
    int h = f->height;
    c->depth--;
    if (c->depth > 0 && c->stack[c->depth - 1].height < h + 1)
        c->stack[c->depth - 1].height = h + 1;
    return 0;
}

int kn_docs_push(kn_json ***docs, size_t *n, size_t *cap, kn_json *doc)
{
    if (kn_grow((void **)docs, cap, *n + 1, sizeof(**docs)) != 0) {
        kn_json_free(doc);
        return -1;
    }
    (*docs)[(*n)++] = doc;
    return 0;
}

/* One libyaml event: documents are collected as they end. */
static int on_event(composer *c, const yaml_event_t *ev, kn_json ***docs, size_t *n, size_t *cap)
{
    c->mark = ev->start_mark;
    switch (ev->type) {
    case YAML_SCALAR_EVENT: return on_scalar(c, ev);
    case YAML_ALIAS_EVENT: return on_alias(c, ev);
    case YAML_MAPPING_START_EVENT: return on_start(c, ev, true);
    case YAML_SEQUENCE_START_EVENT: return on_start(c, ev, false);
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT: return on_end(c);
    case YAML_DOCUMENT_END_EVENT: {
        kn_json *doc = c->root;
        c->root = NULL;
        composer_reset(c); /* anchors are per document */
        if (doc == NULL || kn_json_is(doc, KN_JSON_NULL)) {
            kn_json_free(doc); /* "---" alone or only comments */
            return 0;
        }
        return kn_docs_push(docs, n, cap, doc) == 0 ? 0 : fail(c, "%s", "out of memory");
    }
    default: return 0;
    }
    return 0;
}

/* "line L, column C" of a byte offset (1-based). */
static void position(const char *buf, size_t off, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (buf[i] == '\n')
            ++*line, *col = 1;
        else
            ++*col;
    }
}

static int parser_error(const yaml_parser_t *p, const char *buf, kn_err *err)
{
    size_t line = p->problem_mark.line + 1, col = p->problem_mark.column + 1;
    if (p->error == YAML_READER_ERROR) /* reader errors carry a byte offset only */
        position(buf, p->problem_offset, &line, &col);
    const char *ctx = p->context ? p->context : "";
    return kn_err_set(err, "line %zu, column %zu: %s%s%s", line, col, ctx, *ctx ? ", " : "",
                      p->problem ? p->problem : "invalid YAML");
}

static int parse_yaml(const char *buf, size_t len, composer *c, kn_json ***docs, size_t *n)
{
    yaml_parser_t p;
    size_t cap = 0;
    if (!yaml_parser_initialize(&p))
        return kn_err_set(c->err, "out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    int rc = 0;
    for (bool done = false; !done && rc == 0;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            rc = parser_error(&p, buf, c->err);
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        rc = on_event(c, &ev, docs, n, &cap);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return rc;
}

/* "line L, column C" of a byte offset, for JSON errors in a manifest. */
static void json_error_position(const char *buf, size_t len, kn_err *err)
{
    size_t off = 0, line, col;
    if (sscanf(err->msg, "offset %zu:", &off) != 1)
        return;
    position(buf, off < len ? off : len, &line, &col);
    kn_err_prefix(err, "line %zu, column %zu", line, col);
}

static bool looks_like_json(const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", buf[i]) != NULL && buf[i] != '\0')
        i++;
    return i < len && (buf[i] == '{' || buf[i] == '[');
}

static int yaml_stream(const char *buf, size_t len, size_t max_bytes, int max_depth, kn_json ***docs,
                       size_t *ndocs, kn_err *err)
{
    composer c = {.max_depth = max_depth, .max_bytes = max_bytes, .err = err};
    c.stack = malloc((size_t)max_depth * sizeof(*c.stack));
    int rc = c.stack ? parse_yaml(buf, len, &c, docs, ndocs) : kn_err_set(err, "out of memory");
    composer_reset(&c);
    free(c.anchors);
    free(c.stack);
    if (rc != 0) {
        kn_yaml_free_docs(*docs, *ndocs);
        *docs = NULL;
        *ndocs = 0;
    }
    return rc;
}

int kn_yaml_parse_docs(const char *buf, size_t len, const kn_json_limits *lim, kn_json ***docs, size_t *ndocs,
                       kn_err *err)
{
    *docs = NULL;
    *ndocs = 0;
    size_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : YAML_DEFAULT_MAX_BYTES;
    int max_depth = lim && lim->max_depth > 0 ? lim->max_depth : YAML_DEFAULT_MAX_DEPTH;
    if (max_depth > YAML_HARD_MAX_DEPTH)
        max_depth = YAML_HARD_MAX_DEPTH;
    if (len > max_bytes)
        return kn_err_set(err, "the input is %zu bytes, more than the limit of %zu bytes", len, max_bytes);
    if (buf == NULL)
        buf = "", len = 0;
    if (!looks_like_json(buf, len))
        return yaml_stream(buf, len, max_bytes, max_depth, docs, ndocs, err);
    kn_json_limits jl = {max_bytes, max_depth};
    kn_err jerr;
    kn_json *doc = kn_json_parse(buf, len, &jl, &jerr);
    if (doc != NULL) {
        size_t cap = 0;
        return kn_docs_push(docs, ndocs, &cap, doc) == 0 ? 0 : kn_err_set(err, "out of memory");
    }
    /* Not JSON: flow-style YAML ({a: 1}) or several documents. YAML decides;
     * when YAML fails too, the parser that got further explains it better. */
    kn_err yerr;
    if (yaml_stream(buf, len, max_bytes, max_depth, docs, ndocs, &yerr) == 0)
        return 0;
    json_error_position(buf, len, &jerr);
    size_t jl_line = 0, jl_col = 0, y_line = 0, y_col = 0;
    sscanf(jerr.msg, "line %zu, column %zu", &jl_line, &jl_col);
    sscanf(yerr.msg, "line %zu, column %zu", &y_line, &y_col);
    bool yaml_further = y_line > jl_line || (y_line == jl_line && y_col > jl_col);
    if (err != NULL)
        *err = yaml_further ? yerr : jerr;
    return -1;
}

void kn_yaml_free_docs(kn_json **docs, size_t n)
{
    for (size_t i = 0; docs != NULL && i < n; i++)
        kn_json_free(docs[i]);
    free(docs);
}
