/* promql.c - the series selectors and groupings of a PromQL expression (see promql.h). */
#include "promql.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 32

typedef struct frame {
    char name[128]; /* function or aggregation; "" for plain parentheses */
    int group;      /* its kn_pq_group, or -1 */
} frame;

typedef struct parser {
    const char *e;
    size_t i;
    kn_pq *o;
    kn_err *err;
} parser;

static int fail(parser *p, const char *what)
{
    return kn_err_set(p->err, "at %zu of \"%s\": %s", p->i, p->e, what);
}

static void skip_space(parser *p)
{
    while (isspace((unsigned char)p->e[p->i]))
        p->i++;
}

static bool ident_start(char c)
{
    return isalpha((unsigned char)c) || c == '_' || c == ':';
}

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == ':';
}

/* An identifier into buf (cut to cap); the caller checked ident_start. */
static void read_ident(parser *p, char *buf, size_t cap)
{
    size_t n = 0;
    while (ident_char(p->e[p->i])) {
        if (n + 1 < cap)
            buf[n++] = p->e[p->i];
        p->i++;
    }
    buf[n] = '\0';
}

/* A quoted string (", ' or `) into buf, escapes resolved; -1 if unterminated. */
static int read_string(parser *p, char *buf, size_t cap)
{
    char q = p->e[p->i++];
    size_t n = 0;
    while (p->e[p->i] && p->e[p->i] != q) {
        if (p->e[p->i] == '\\' && q != '`' && p->e[p->i + 1])
            p->i++;
        if (buf && n + 1 < cap)
            buf[n++] = p->e[p->i];
        p->i++;
    }
    if (buf)
        buf[n] = '\0';
    if (p->e[p->i] != q)
        return fail(p, "unterminated string");
    p->i++;
    return 0;
}

static bool is_one_of(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(w, *list) == 0)
            return true;
    return false;
}

static const char *const AGGREGATIONS[] = {"sum",          "min",      "max",   "avg",  "group",
                                           "stddev",       "stdvar",   "count", "topk", "bottomk",
                                           "count_values", "quantile", NULL};

/* The next word, without consuming it. */
static void peek_word(const parser *p, char *buf, size_t cap)
{
    parser q = *p;
    skip_space(&q);
    buf[0] = '\0';
    if (ident_start(q.e[q.i]))
        read_ident(&q, buf, cap);
}

/* "(a, b)" after by/without. */
static int read_labels(parser *p, kn_pq_group *g)
{
    skip_space(p);
    if (p->e[p->i] != '(')
        return fail(p, "by/without without a label list");
    p->i++;
    for (;;) {
        skip_space(p);
        if (p->e[p->i] == ')') {
            p->i++;
            return 0;
        }
        if (p->e[p->i] == ',') {
            p->i++;
            continue;
        }
        if (!ident_start(p->e[p->i]) || g->n_labels == KN_PQ_MAX_LABELS)
            return fail(p, "not a label list");
        read_ident(p, g->labels[g->n_labels++], sizeof(g->labels[0]));
    }
}

/* {label op "value", ...} of ref. */
static int read_matchers(parser *p, kn_pq_ref *r)
{
    p->i++; /* { */
    for (;;) {
        skip_space(p);
        char c = p->e[p->i];
        if (c == '}') {
            p->i++;
            return 0;
        }
        if (c == ',') {
            p->i++;
            continue;
        }
        if (!ident_start(c) || r->n_m == KN_PQ_MAX_MATCHERS)
            return fail(p, "not a label matcher");
        kn_pq_matcher *m = &r->m[r->n_m++];
        read_ident(p, m->label, sizeof(m->label));
        skip_space(p);
        const char *ops[] = {"=~", "!~", "!=", "="};
        bool found = false;
        for (int k = 0; k < 4 && !found; k++)
            if (strncmp(p->e + p->i, ops[k], strlen(ops[k])) == 0) {
                snprintf(m->op, sizeof(m->op), "%s", ops[k]);
                p->i += strlen(ops[k]);
                found = true;
            }
        skip_space(p);
        if (!found || (p->e[p->i] != '"' && p->e[p->i] != '\'' && p->e[p->i] != '`'))
            return fail(p, "a matcher needs an operator and a quoted value");
        if (read_string(p, m->value, sizeof(m->value)) != 0)
            return -1;
        if (strcmp(m->label, "__name__") == 0)
            return fail(p, "a metric named by __name__ is not read here");
    }
}

static void skip_number(parser *p)
{
    while (
        isalnum((unsigned char)p->e[p->i]) || p->e[p->i] == '.' ||
        ((p->e[p->i] == '+' || p->e[p->i] == '-') && p->i > 0 && (p->e[p->i - 1] == 'e' || p->e[p->i - 1] == 'E')))
        p->i++;
}

int kn_pq_parse(const char *expr, kn_pq *o, kn_err *err)
{
    parser P = {expr, 0, o, err}, *p = &P;
    memset(o, 0, sizeof(*o));
    frame st[MAX_DEPTH];
    int depth = 0;
    char pending[128] = ""; /* a function or aggregation waiting for its "(" */
    bool pending_agg = false;
    kn_pq_group prefix = {0}; /* sum by (x) (...): the by written before the "(" */
    bool has_prefix = false;
    int closed = -1;   /* the aggregation a ")" just closed: sum (...) by (x) */
    int last_ref = -1; /* the selector just read, for { and [ */
    while (expr[p->i]) {
        char c = expr[p->i];
        if (isspace((unsigned char)c)) {
            p->i++;
            continue;
        }
        if (c == '$') { /* a Grafana variable */
            p->i++;
            while (ident_char(expr[p->i]) || expr[p->i] == '{' || expr[p->i] == '}')
                p->i++;
            continue;
        }
        if (c == '"' || c == '\'' || c == '`') {
            if (read_string(p, NULL, 0) != 0)
                return -1;
            closed = last_ref = -1;
            continue;
        }
        if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)expr[p->i + 1]))) {
            skip_number(p);
            closed = last_ref = -1;
            continue;
        }
        if (c == '[') { /* a range or subquery: [5m], [$__rate_interval], [1h:5m] */
            const char *end = strchr(expr + p->i, ']');
            if (end == NULL)
                return fail(p, "unterminated [");
            if (last_ref >= 0)
                o->refs[last_ref].range = true;
            p->i = (size_t)(end - expr) + 1;
            continue;
        }
        if (c == '{') {
            if (last_ref < 0)
                return fail(p, "a selector without a metric name is not read here");
            if (read_matchers(p, &o->refs[last_ref]) != 0)
                return -1;
            continue;
        }
        if (c == '(') {
            if (depth == MAX_DEPTH)
                return fail(p, "nested too deep");
            frame *f = &st[depth++];
            snprintf(f->name, sizeof(f->name), "%s", pending);
            f->group = -1;
            if (pending_agg) {
                if (o->n_groups == KN_PQ_MAX_GROUPS)
                    return fail(p, "too many aggregations");
                kn_pq_group *g = &o->groups[o->n_groups];
                *g = has_prefix ? prefix : (kn_pq_group){0};
                snprintf(g->op, sizeof(g->op), "%s", pending);
                g->first = g->end = o->n_refs;
                f->group = o->n_groups++;
            }
            pending[0] = '\0';
            pending_agg = has_prefix = false;
            closed = last_ref = -1;
            p->i++;
            continue;
        }
        if (c == ')') {
            if (depth == 0)
                return fail(p, "unbalanced )");
            frame *f = &st[--depth];
            closed = f->group;
            if (f->group >= 0)
                o->groups[f->group].end = o->n_refs;
            last_ref = -1;
            p->i++;
            continue;
        }
        if (ident_start(c)) {
            char w[128], next[32];
            read_ident(p, w, sizeof(w));
            skip_space(p);
            char nc = expr[p->i];
            if (strcmp(w, "by") == 0 || strcmp(w, "without") == 0) {
                kn_pq_group labels = {.without = w[0] == 'w'};
                if (read_labels(p, &labels) != 0)
                    return -1;
                if (pending_agg) {
                    prefix = labels;
                    has_prefix = true;
                } else if (closed >= 0) {
                    kn_pq_group *g = &o->groups[closed];
                    memcpy(g->labels, labels.labels, sizeof(g->labels));
                    g->n_labels = labels.n_labels;
                    g->without = labels.without;
                } else {
                    return fail(p, "by/without outside an aggregation");
                }
                closed = -1;
                continue;
            }
            static const char *const matching[] = {"on", "ignoring", "group_left", "group_right", NULL};
            static const char *const binary[] = {"and", "or", "unless", "bool", "atan2", NULL};
            static const char *const literals[] = {"inf", "Inf", "nan", "NaN", NULL};
            if (is_one_of(w, matching))
                return fail(p, "vector matching (on, ignoring, group_left/right) is not read here");
            if (is_one_of(w, binary) || is_one_of(w, literals)) {
                closed = last_ref = -1;
                continue;
            }
            if (strcmp(w, "offset") == 0) {
                skip_space(p);
                skip_number(p);
                continue;
            }
            peek_word(p, next, sizeof(next));
            if (is_one_of(w, AGGREGATIONS) &&
                (nc == '(' || strcmp(next, "by") == 0 || strcmp(next, "without") == 0)) {
                snprintf(pending, sizeof(pending), "%s", w);
                pending_agg = true;
                continue;
            }
            if (nc == '(') {
                snprintf(pending, sizeof(pending), "%s", w);
                pending_agg = false;
                continue;
            }
            if (o->n_refs == KN_PQ_MAX_REFS)
                return fail(p, "too many selectors");
            kn_pq_ref *r = &o->refs[o->n_refs];
            snprintf(r->metric, sizeof(r->metric), "%s", w);
            snprintf(r->func, sizeof(r->func), "%s", depth > 0 ? st[depth - 1].name : "");
            last_ref = o->n_refs++;
            closed = -1;
            continue;
        }
        if (strchr("+-*/%^=!<>,", c) == NULL)
            return fail(p, "unexpected character");
        closed = last_ref = -1;
        p->i++;
    }
    if (depth != 0)
        return fail(p, "unbalanced (");
    if (pending[0])
        return fail(p, "a function without its arguments");
    return 0;
}
