/* lister.c - a paged list read whole (see lister.h). */
#include "kube/client/lister.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"

#define LIST_TIMEOUT_S 120

typedef struct pages {
    kn_json **p;
    size_t n, cap;
    size_t bytes;
} pages;

static void pages_clear(pages *pg)
{
    for (size_t i = 0; i < pg->n; i++)
        kn_json_free(pg->p[i]);
    pg->n = 0;
    pg->bytes = 0;
}

/* One page: 0 with *page (the caller's) and its size in *len, 1 on 404, 2 on
 * 410 (start over), -1 error. */
static int get_page(kn_api *api, const char *path, int limit, const char *cont, size_t budget, kn_json **page,
                    size_t *len, kn_err *err)
{
    char url[4096], page_size[16];
    snprintf(url, sizeof(url), "%s", path);
    snprintf(page_size, sizeof(page_size), "%d", limit > 0 ? limit : KN_LIST_PAGE);
    if (kn_api_path_append(url, sizeof(url), "limit", page_size) != 0 ||
        (cont != NULL && kn_api_path_append(url, sizeof(url), "continue", cont) != 0))
        return kn_err_set(err, "list %s: path too long", path);
    kn_api_req *req = kn_api_req_new(api, "GET", url, NULL, "list", LIST_TIMEOUT_S, err);
    if (req == NULL)
        return kn_err_prefix(err, "list %s", path);
    req->max_response = budget;
    int rc = kn_api_perform(req, err);
    char why[256];
    if (rc != 0)
        kn_err_prefix(err, "list %s", path);
    else if (req->status == 404)
        rc = 1;
    else if (req->status == 410 && cont != NULL)
        rc = 2;
    else if (req->status != 200)
        rc = kn_err_set(err, "list %s: HTTP %ld: %s", path, req->status, kn_api_req_error(req, why, sizeof(why)));
    else if ((*page = kn_api_req_json(req, err)) == NULL)
        rc = kn_err_prefix(err, "list %s", path);
    if (rc == 0 && *page != NULL) {
        const kn_json *items = kn_json_get(*page, "items");
        if (items != NULL && !kn_json_is(items, KN_JSON_ARRAY)) {
            kn_json_free(*page);
            *page = NULL;
            rc = kn_err_set(err, "list %s: items is not an array", path);
        }
    }
    *len = req->resp.len;
    kn_api_req_free(req);
    return rc;
}

int kn_list_all(kn_api *api, const char *path, int limit, kn_list_item_fn fn, void *ctx, kn_err *err)
{
    pages pg = {0};
    int rc = 0;
    for (int attempt = 0; attempt <= KN_LIST_RESTARTS; attempt++) {
        char *cont = NULL;
        pages_clear(&pg);
        rc = 0;
        do {
            kn_json *page = NULL;
            size_t len = 0;
            rc = get_page(api, path, limit, cont, KN_API_LIST_MAX_RESPONSE - pg.bytes, &page, &len, err);
            free(cont);
            cont = NULL;
            if (rc != 0)
                break;
            if (kn_grow((void **)&pg.p, &pg.cap, pg.n + 1, sizeof(*pg.p)) != 0) {
                kn_json_free(page);
                rc = kn_err_set(err, "out of memory");
                break;
            }
            pg.p[pg.n++] = page;
            pg.bytes += len;
            if (pg.bytes >= KN_API_LIST_MAX_RESPONSE) {
                rc = kn_err_set(err, "list %s: more than %d MiB in all", path, KN_API_LIST_MAX_RESPONSE >> 20);
                break;
            }
            const char *next = kn_json_get_str(kn_json_get(page, "metadata"), "continue");
            if (next != NULL && *next != '\0' && (cont = strdup(next)) == NULL)
                rc = kn_err_set(err, "out of memory");
        } while (rc == 0 && cont != NULL);
        free(cont);
        if (rc != 2)
            break;
        rc = kn_err_set(err, "list %s: the list expired (410) %d times while it was paged through", path,
                        attempt + 1);
    }
    for (size_t i = 0; rc == 0 && i < pg.n; i++) {
        const kn_json *items = kn_json_get(pg.p[i], "items");
        for (size_t j = 0; rc == 0 && j < kn_json_len(items); j++)
            rc = fn(ctx, kn_json_at(items, j), err) != 0 ? -1 : 0;
    }
    pages_clear(&pg);
    free(pg.p);
    return rc;
}
