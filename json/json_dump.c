/* json_dump.c - kn_json_dump()/kn_json_dump_pretty() with yajl_gen.
 * Numbers are written from their source text, so they round-trip exactly;
 * strings go through yajl's encoder (control characters and embedded NULs
 * become \uXXXX escapes; '/' is not escaped; invalid UTF-8 becomes U+FFFD). */
#include "json/json_internal.h"
#include "base/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

/* yajl_gen's YAJL_MAX_DEPTH: deeper trees are not dumped (json.h). */
#define KN_JSON_DUMP_MAX_DEPTH 128

/* Strings built in C (a truncated error message, a name from a file) may not
 * be UTF-8; JSON must be. As Go's encoding/json does, each invalid byte
 * becomes U+FFFD, so the output is always valid JSON. */
static yajl_gen_status gen_string(yajl_gen g, const char *str, size_t n)
{
    size_t len;
    char *fixed = kn_utf8_repair(str, n, &len);
    if (fixed == NULL)
        return len == (size_t)-1 ? yajl_gen_in_error_state : yajl_gen_string(g, (const unsigned char *)str, n);
    yajl_gen_status st = yajl_gen_string(g, (const unsigned char *)fixed, len);
    free(fixed);
    return st;
}

static yajl_gen_status gen_value(yajl_gen g, const kn_json *v)
{
    yajl_gen_status st;
    switch (v->type) {
    case KN_JSON_NULL: return yajl_gen_null(g);
    case KN_JSON_BOOL: return yajl_gen_bool(g, v->u.b);
    case KN_JSON_NUMBER:
        if (v->u.num.text == NULL)
            return yajl_gen_null(g); /* NaN/Inf: JSON cannot say it */
        return yajl_gen_number(g, v->u.num.text, strlen(v->u.num.text));
    case KN_JSON_STRING: return gen_string(g, v->u.str.s, v->u.str.len);
    case KN_JSON_ARRAY:
        if ((st = yajl_gen_array_open(g)) != yajl_gen_status_ok)
            return st;
        for (size_t i = 0; i < v->u.arr.len; i++)
            if ((st = gen_value(g, v->u.arr.items[i])) != yajl_gen_status_ok)
                return st;
        return yajl_gen_array_close(g);
    case KN_JSON_OBJECT:
        if ((st = yajl_gen_map_open(g)) != yajl_gen_status_ok)
            return st;
        for (size_t i = 0; i < v->u.obj.len; i++) {
            const kn_json_member *m = &v->u.obj.m[i];
            if ((st = gen_string(g, m->key, m->klen)) != yajl_gen_status_ok ||
                (st = gen_value(g, m->val)) != yajl_gen_status_ok)
                return st;
        }
        return yajl_gen_map_close(g);
    }
    return yajl_gen_invalid_string;
}

/* ---- compact output without yajl_gen ----
 * kn_json_dump() answers every admission review, so it writes runs of plain
 * bytes at once rather than a call per token and per character. This writer
 * produces the same bytes yajl_gen does (same escapes, \u00XX in upper case, '/' kept,
 * the same 128-level depth limit); pretty output still goes through yajl. */

/* Escapes s[*i..end) into o, which has room for six bytes out per byte in
 * (\u00XX) plus three (a UTF-8 sequence may run past end, up to n);
 * escapes as yajl_gen's, invalid UTF-8 as U+FFFD. Returns the new end of o. */
static char *escape_piece(char *o, const unsigned char *s, size_t *pi, size_t end, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i = *pi;
    while (i < end) {
        size_t run = kn_json_plain_end(s, i, end); /* copied in one go */
        memcpy(o, s + i, run - i);
        o += run - i;
        if ((i = run) >= end)
            break;
        unsigned char c = s[i];
        char e = 0;
        switch (c) {
        case '"': e = '"'; break;
        case '\\': e = '\\'; break;
        case '\b': e = 'b'; break;
        case '\f': e = 'f'; break;
        case '\n': e = 'n'; break;
        case '\r': e = 'r'; break;
        case '\t': e = 't'; break;
        default: break;
        }
        if (e != 0) {
            *o++ = '\\';
            *o++ = e;
            i++;
        } else if (c < 0x20) {
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 0xF];
            o += 6;
            i++;
        } else {
            size_t k = kn_utf8_seq(s + i, n - i);
            if (k == 0) {
                memcpy(o, "\xEF\xBF\xBD", 3);
                o += 3;
                i++;
            } else {
                memcpy(o, s + i, k);
                o += k;
                i += k;
            }
        }
    }
    *pi = i;
    return o;
}

/* A quoted JSON string, in pieces of KN_JSON_STRING_PIECE bytes in: each
 * piece reserves room for its worst case at once and is written without a
 * check per byte, and a long string does not reserve six times its size.
 * Most strings are one piece. */
#define KN_JSON_STRING_PIECE 4096
static void out_string(kn_buf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    do {
        size_t end = n - i > KN_JSON_STRING_PIECE ? i + KN_JSON_STRING_PIECE : n;
        if (!kn_buf_reserve(b, 6 * (end - i) + 3 + 2)) /* + a sequence's overrun + the quotes */
            return;
        char *o = b->p + b->len;
        if (i == 0)
            *o++ = '"';
        o = escape_piece(o, s, &i, end, n);
        if (i >= n)
            *o++ = '"';
        b->len = (size_t)(o - b->p);
    } while (i < n);
}

/* depth: containers around v (yajl_gen refuses the 128th level). */
static void out_value(kn_buf *b, const kn_json *v, int depth)
{
    switch (v->type) {
    case KN_JSON_NULL: kn_buf_put(b, "null", 4); return;
    case KN_JSON_BOOL: v->u.b ? kn_buf_put(b, "true", 4) : kn_buf_put(b, "false", 5); return;
    case KN_JSON_NUMBER:
        if (v->u.num.text == NULL)
            kn_buf_put(b, "null", 4); /* NaN/Inf: JSON cannot say it */
        else
            kn_buf_put(b, v->u.num.text, strlen(v->u.num.text));
        return;
    case KN_JSON_STRING: out_string(b, v->u.str.s, v->u.str.len); return;
    case KN_JSON_ARRAY:
    case KN_JSON_OBJECT: break;
    }
    if (depth + 1 >= KN_JSON_DUMP_MAX_DEPTH) {
        b->failed = true;
        return;
    }
    bool obj = v->type == KN_JSON_OBJECT;
    kn_buf_put(b, obj ? "{" : "[", 1);
    size_t n = obj ? v->u.obj.len : v->u.arr.len;
    for (size_t i = 0; i < n && !b->failed; i++) {
        if (i > 0)
            kn_buf_put(b, ",", 1);
        if (obj) {
            out_string(b, v->u.obj.m[i].key, v->u.obj.m[i].klen);
            kn_buf_put(b, ":", 1);
        }
        out_value(b, obj ? v->u.obj.m[i].val : v->u.arr.items[i], depth + 1);
    }
    kn_buf_put(b, obj ? "}" : "]", 1);
}

void kn_json_write_raw(kn_json_writer *w, const char *s, size_t n)
{
    kn_buf_put(w, s, n);
}

void kn_json_write_string(kn_json_writer *w, const char *s, size_t n)
{
    out_string(w, s, n);
}

void kn_json_write_value(kn_json_writer *w, const kn_json *v)
{
    if (v == NULL)
        w->failed = true;
    else
        out_value(w, v, 0);
}

static char *dump_compact(const kn_json *v, size_t *len)
{
    kn_buf b = KN_BUF_INIT;
    out_value(&b, v, 0);
    return kn_buf_finish(&b, len);
}

/* yajl beautifies an empty container as "{\n<indent>\n<indent>}"; make it
 * "{}". Raw newlines only occur between tokens (strings escape them), so
 * this cannot touch string contents. Works in place; returns the new length. */
static size_t collapse_empty(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if ((s[i] == '{' || s[i] == '[') && i + 1 < n && s[i + 1] == '\n') {
            size_t j = i + 2;
            while (j < n && s[j] == ' ')
                j++;
            if (j < n && s[j] == '\n') {
                j++;
                while (j < n && s[j] == ' ')
                    j++;
                if (j < n && s[j] == (s[i] == '{' ? '}' : ']')) {
                    s[o++] = s[i];
                    s[o++] = s[j];
                    i = j + 1;
                    continue;
                }
            }
        }
        s[o++] = s[i++];
    }
    s[o] = '\0';
    return o;
}

static char *dump(const kn_json *v, size_t *len, bool pretty)
{
    if (len != NULL)
        *len = 0;
    if (v == NULL)
        return NULL;
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g == NULL)
        return NULL;
    if (pretty) {
        yajl_gen_config(g, yajl_gen_beautify, 1);
        yajl_gen_config(g, yajl_gen_indent_string, "  ");
    }
    char *out = NULL;
    const unsigned char *buf;
    size_t n;
    if (gen_value(g, v) == yajl_gen_status_ok && yajl_gen_get_buf(g, &buf, &n) == yajl_gen_status_ok) {
        while (pretty && n > 0 && buf[n - 1] == '\n')
            n--; /* yajl ends beautified output with a newline; callers add their own */
        out = malloc(n + 1);
        if (out != NULL) {
            memcpy(out, buf, n);
            out[n] = '\0';
            if (pretty)
                n = collapse_empty(out, n);
            if (len != NULL)
                *len = n;
        }
    }
    yajl_gen_free(g);
    return out;
}

char *kn_json_dump(const kn_json *v, size_t *len)
{
    if (len != NULL)
        *len = 0;
    return v != NULL ? dump_compact(v, len) : NULL;
}

char *kn_json_dump_pretty(const kn_json *v, size_t *len)
{
    return dump(v, len, true);
}
