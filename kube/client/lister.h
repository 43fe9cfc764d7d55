/* lister.h - one resource read once, whole, without a watch (what a one-shot
 * reader such as `simulate --kubeconfig` needs; the scheduler's informers
 * list and then watch).
 *
 * GET in pages (limit, continue; KN_LIST_PAGE as the informer lists). The pages are
 * held until the last one has come and only then handed over, item by item,
 * so a list whose continue token expires (410 Expired: the snapshot it pages
 * through was compacted) is started over rather than handed over in part;
 * after KN_LIST_RESTARTS such restarts it fails. All pages together are
 * bounded as one response is (KN_API_LIST_MAX_RESPONSE). Blocking; nothing is
 * ever written to the server. */
#ifndef KN_LISTER_H
#define KN_LISTER_H

#include "base/err.h"
#include "json/json.h"
#include "kube/client/apiclient.h"

#define KN_LIST_PAGE 500
#define KN_LIST_RESTARTS 3

/* Called for each item of the list, in order; a non-zero return (err set)
 * stops it. */
typedef int (*kn_list_item_fn)(void *ctx, const kn_json *item, kn_err *err);

/* path: the collection ("/api/v1/pods"); limit: items per page. 0: listed, fn called for every item;
 * 1: the resource does not exist (404: its CRD is not installed); -1: an
 * error, with a message naming the path and the server's answer. */
int kn_list_all(kn_api *api, const char *path, int limit, kn_list_item_fn fn, void *ctx, kn_err *err);

#endif
