/* kustomize.h - deploy/ rendered as `kubectl kustomize` renders it, for tests
 * (no kubectl needed; where one is installed, tests compare the two).
 *
 * kn_kz_render(dir) builds dir/kustomization.yaml with the part of kustomize
 * (v4.5 and later, as kubectl 1.25+ embeds it) that deploy/ uses:
 *  - resources: manifest files in or below the kustomization's folder, and
 *    folders of other kustomizations (never one holding this folder: kustomize
 *    refuses that cycle, and so does this);
 *  - components: folders of kind Component, applied to what is accumulated so
 *    far (their resources added, then their own fields run on everything);
 *  - configMapGenerator (files, as KEY=PATH or PATH; options.labels) with
 *    generatorOptions.disableNameSuffixHash: true (and its labels);
 *  - patches: JSON 6902 patches, in a file or inline, with a target of kind
 *    and name (a target that selects nothing changes nothing);
 *  - namespace: set on every namespaced object; what refers to a moved Service
 *    (webhooks' clientConfig.service) or ServiceAccount (RBAC subjects) by its
 *    name and old namespace follows it, as kustomize's name references do;
 *  - images: newName and newTag for the containers whose image has that name.
 * In each kustomization: resources, components, generators, then patches,
 * namespace, images (kustomize's order). Any other field, a strategic-merge
 * patch, a hashed generator name or a file outside the folder is an error
 * naming it, so a kustomization that needs more fails its test instead of
 * rendering differently. */
#ifndef KN_IT_KUSTOMIZE_H
#define KN_IT_KUSTOMIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "json/json.h"

typedef struct kn_kz_objs {
    kn_json **docs;
    size_t n, cap;
} kn_kz_objs;

/* Renders dir into *out (start from (kn_kz_objs){0}); 0, or -1 with err
 * naming the kustomization and what it could not do. */
int kn_kz_render(const char *dir, kn_kz_objs *out, kn_err *err);
void kn_kz_free(kn_kz_objs *o);

/* True for the kinds kustomize gives no namespace (of those deploy/ uses and
 * the core cluster-scoped ones). */
bool kn_kz_cluster_scoped(const char *kind);

/* The object of that kind and name (and namespace unless ns is NULL), or NULL. */
const kn_json *kn_kz_find(const kn_kz_objs *o, const char *kind, const char *ns, const char *name);

/* The value of --flag=V or --flag V among a container's args, or NULL. */
const char *kn_kz_arg_value(const kn_json *container, const char *flag);

/* A copy of the source tree's deploy/ in a new temporary folder, with the
 * certificates the README has users make: certs/gen-certs.sh --kustomize
 * into deploy/tls (kube-system) and deploy/overlays/dedicated-namespace/tls
 * (kubenexus-system). The folder (holding deploy/), malloc'd; NULL on failure. */
char *kn_kz_deploy_copy(void);

/* `kubectl kustomize dir` compared with ours (kn_kz_render of dir), object
 * for object and field for field: 1 the same; 0 when kubectl is not
 * installed (why says so); -1 when kubectl failed on dir or rendered
 * something else (why says what, with both versions of the object). */
int kn_kz_same_as_kubectl(const char *dir, const kn_kz_objs *ours, char *why, size_t why_cap);

#endif
