/* kustomize.c - kustomizations rendered for tests (see kustomize.h). */
#include "kustomize.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admission/patch.h"
#include "proc.h"
#include "yaml/manifest.h"

#define MAX_DEPTH 16

/* The kustomizations being built, outermost first: a resource folder that
 * holds one of them is a cycle. */
typedef struct roots {
    const char *dir[MAX_DEPTH];
    int n;
} roots;

static int push(kn_kz_objs *o, kn_json *doc)
{
    return kn_docs_push(&o->docs, &o->n, &o->cap, doc);
}

void kn_kz_free(kn_kz_objs *o)
{
    kn_yaml_free_docs(o->docs, o->n);
    *o = (kn_kz_objs){0};
}

bool kn_kz_cluster_scoped(const char *kind)
{
    static const char *const k[] = {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "CustomResourceDefinition",
        "PriorityClass",
        "StorageClass",
        "PersistentVolume",
        "Node",
        "APIService",
        "CSIDriver",
        "IngressClass",
        "RuntimeClass",
    };
    for (size_t i = 0; i < sizeof(k) / sizeof(*k); i++)
        if (kind != NULL && strcmp(kind, k[i]) == 0)
            return true;
    return false;
}

static const char *name_of(const kn_json *doc)
{
    return kn_json_get_str(kn_json_get(doc, "metadata"), "name");
}

static const char *ns_of(const kn_json *doc)
{
    return kn_json_get_str(kn_json_get(doc, "metadata"), "namespace");
}

const kn_json *kn_kz_find(const kn_kz_objs *o, const char *kind, const char *ns, const char *name)
{
    for (size_t i = 0; i < o->n; i++) {
        const char *k = kn_json_get_str(o->docs[i], "kind"), *n = name_of(o->docs[i]);
        const char *s = ns_of(o->docs[i]);
        if (k && n && strcmp(k, kind) == 0 && strcmp(n, name) == 0 &&
            (ns == NULL || (s != NULL && strcmp(s, ns) == 0)))
            return o->docs[i];
    }
    return NULL;
}

/* ---------------------------------------------------------------- files */

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* root/rel resolved into out; it must lie in or below root (kustomize's
 * default load restriction), unless it is a folder. */
static int resolve(const char *root, const char *rel, char out[PATH_MAX], bool allow_outside, kn_err *err)
{
    char joined[PATH_MAX * 2];
    snprintf(joined, sizeof(joined), "%s/%s", root, rel);
    if (realpath(joined, out) == NULL)
        return kn_err_set(err, "%s: %s does not exist", root, rel);
    size_t n = strlen(root);
    if (!allow_outside && !is_dir(out) && (strncmp(out, root, n) != 0 || out[n] != '/'))
        return kn_err_set(err, "%s: %s is not in or below the kustomization's folder", root, rel);
    return 0;
}

static int read_docs(const char *path, kn_kz_objs *into, kn_err *err)
{
    kn_json **docs = NULL;
    size_t n = 0;
    if (kn_manifest_read_file(path, &docs, &n, err) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (rc == 0 && push(into, docs[i]) != 0)
            rc = kn_err_set(err, "out of memory");
        else if (rc != 0)
            kn_json_free(docs[i]);
    free(docs);
    return rc;
}

/* ---------------------------------------------------------------- fields */

static int check_fields(const kn_json *k, const char *root, kn_err *err)
{
    static const char *const known[] = {"apiVersion",      "kind",    "namespace", "resources",
                                        "components",      "patches", "images",    "configMapGenerator",
                                        "generatorOptions"};
    for (size_t i = 0; i < kn_json_len(k); i++) {
        const char *key = kn_json_key_at(k, i);
        bool ok = false;
        for (size_t j = 0; j < sizeof(known) / sizeof(*known) && !ok; j++)
            ok = strcmp(key, known[j]) == 0;
        if (!ok)
            return kn_err_set(err, "%s: field %s is not rendered by tests/integration/support/kustomize.c", root,
                              key);
    }
    return 0;
}

static int generate_configmaps(const kn_json *k, const char *root, kn_kz_objs *acc, kn_err *err)
{
    const kn_json *gens = kn_json_get(k, "configMapGenerator");
    if (kn_json_len(gens) == 0)
        return 0;
    const kn_json *gopt = kn_json_get(k, "generatorOptions");
    if (!kn_json_bool(kn_json_get(gopt, "disableNameSuffixHash"), false))
        return kn_err_set(err, "%s: configMapGenerator needs generatorOptions.disableNameSuffixHash: true here",
                          root);
    for (size_t i = 0; i < kn_json_len(gens); i++) {
        const kn_json *g = kn_json_at(gens, i);
        for (size_t j = 0; j < kn_json_len(g); j++) {
            const char *key = kn_json_key_at(g, j);
            if (strcmp(key, "name") != 0 && strcmp(key, "files") != 0 && strcmp(key, "options") != 0)
                return kn_err_set(err, "%s: configMapGenerator field %s is not rendered here", root, key);
        }
        kn_json *cm = kn_json_new_object(), *meta = kn_json_new_object(), *data = kn_json_new_object();
        kn_json *labels = kn_json_new_object();
        kn_json_set_str(cm, "apiVersion", "v1");
        kn_json_set_str(cm, "kind", "ConfigMap");
        kn_json_set_str(meta, "name", kn_json_get_str(g, "name"));
        const kn_json *sets[] = {kn_json_get(gopt, "labels"), kn_json_dig(g, "options", "labels", NULL)};
        for (int s = 0; s < 2; s++)
            for (size_t j = 0; j < kn_json_len(sets[s]); j++)
                kn_json_set(labels, kn_json_key_at(sets[s], j), kn_json_clone(kn_json_value_at(sets[s], j)));
        if (kn_json_len(labels) > 0)
            kn_json_set(meta, "labels", labels);
        else
            kn_json_free(labels);
        kn_json_set(cm, "metadata", meta);
        const kn_json *files = kn_json_get(g, "files");
        for (size_t j = 0; j < kn_json_len(files); j++) {
            const char *spec = kn_json_str(kn_json_at(files, j)) ?: "", *eq = strchr(spec, '=');
            char key[256], path[PATH_MAX];
            if (resolve(root, eq ? eq + 1 : spec, path, false, err) != 0) {
                kn_json_free(cm);
                kn_json_free(data);
                return -1;
            }
            if (eq)
                snprintf(key, sizeof(key), "%.*s", (int)(eq - spec), spec);
            else
                snprintf(key, sizeof(key), "%s", strrchr(path, '/') + 1);
            size_t len = 0;
            char *text = kn_it_read_file(path, &len);
            kn_json_set(data, key, kn_json_new_stringn(text ? text : "", len));
            free(text);
        }
        kn_json_set(cm, "data", data);
        if (push(acc, cm) != 0)
            return kn_err_set(err, "out of memory");
    }
    return 0;
}

static bool target_matches(const kn_json *target, const kn_json *doc)
{
    for (size_t i = 0; i < kn_json_len(target); i++) {
        const char *key = kn_json_key_at(target, i), *want = kn_json_str(kn_json_value_at(target, i));
        const char *have = strcmp(key, "kind") == 0        ? kn_json_get_str(doc, "kind")
                           : strcmp(key, "name") == 0      ? name_of(doc)
                           : strcmp(key, "namespace") == 0 ? ns_of(doc)
                                                           : NULL;
        if (want == NULL || have == NULL || strcmp(want, have) != 0)
            return false;
    }
    return true;
}

static int apply_patches(const kn_json *k, const char *root, kn_kz_objs *acc, kn_err *err)
{
    const kn_json *patches = kn_json_get(k, "patches");
    for (size_t i = 0; i < kn_json_len(patches); i++) {
        const kn_json *p = kn_json_at(patches, i), *target = kn_json_get(p, "target");
        for (size_t j = 0; j < kn_json_len(target); j++) {
            const char *key = kn_json_key_at(target, j);
            if (strcmp(key, "kind") != 0 && strcmp(key, "name") != 0 && strcmp(key, "namespace") != 0)
                return kn_err_set(err, "%s: patch target field %s is not rendered here", root, key);
        }
        if (kn_json_len(target) == 0)
            return kn_err_set(err, "%s: a patch without a target (strategic merge) is not rendered here", root);
        kn_kz_objs ops = {0};
        const char *path = kn_json_get_str(p, "path"), *inline_text = kn_json_get_str(p, "patch");
        char full[PATH_MAX];
        if (path != NULL) {
            if (resolve(root, path, full, false, err) != 0 || read_docs(full, &ops, err) != 0)
                return -1;
        } else if (inline_text != NULL) {
            if (kn_yaml_parse_docs(inline_text, strlen(inline_text), NULL, &ops.docs, &ops.n, err) != 0)
                return -1;
            ops.cap = ops.n;
        }
        if (ops.n != 1 || !kn_json_is(ops.docs[0], KN_JSON_ARRAY)) {
            kn_kz_free(&ops);
            return kn_err_set(err, "%s: patch %zu is not a JSON 6902 patch (a list of operations)", root, i);
        }
        for (size_t d = 0; d < acc->n; d++) {
            if (!target_matches(target, acc->docs[d]))
                continue;
            kn_json *patched = kn_json_patch_apply(acc->docs[d], ops.docs[0], err);
            if (patched == NULL) {
                kn_kz_free(&ops);
                return kn_err_set(err, "%s: patch %zu on %s %s: %s", root, i,
                                  kn_json_get_str(acc->docs[d], "kind"), name_of(acc->docs[d]), err->msg);
            }
            kn_json_free(acc->docs[d]);
            acc->docs[d] = patched;
        }
        kn_kz_free(&ops);
    }
    return 0;
}

/* A Service or ServiceAccount that moved: what named it in its old namespace follows. */
typedef struct moved {
    const char *kind, *name;
    char *from;
} moved;

static const moved *find_moved(const moved *m, size_t n, const char *kind, const char *name, const char *from)
{
    for (size_t i = 0; i < n; i++)
        if (name && from && strcmp(m[i].kind, kind) == 0 && strcmp(m[i].name, name) == 0 &&
            strcmp(m[i].from, from) == 0)
            return &m[i];
    return NULL;
}

static void follow_references(kn_json *doc, const moved *m, size_t n, const char *ns)
{
    const char *kind = kn_json_get_str(doc, "kind");
    if (kind && (strcmp(kind, "MutatingWebhookConfiguration") == 0 ||
                 strcmp(kind, "ValidatingWebhookConfiguration") == 0)) {
        const kn_json *hooks = kn_json_get(doc, "webhooks");
        for (size_t i = 0; i < kn_json_len(hooks); i++) {
            kn_json *svc = kn_json_dig(kn_json_at(hooks, i), "clientConfig", "service", NULL);
            if (find_moved(m, n, "Service", kn_json_get_str(svc, "name"), kn_json_get_str(svc, "namespace")))
                kn_json_set_str(svc, "namespace", ns);
        }
    } else if (kind && (strcmp(kind, "RoleBinding") == 0 || strcmp(kind, "ClusterRoleBinding") == 0)) {
        const kn_json *subjects = kn_json_get(doc, "subjects");
        for (size_t i = 0; i < kn_json_len(subjects); i++) {
            kn_json *s = kn_json_at(subjects, i);
            const char *name = kn_json_get_str(s, "name");
            if (strcmp(kn_json_get_str(s, "kind") ?: "", "ServiceAccount") != 0)
                continue;
            if (strcmp(name ?: "", "default") == 0 ||
                find_moved(m, n, "ServiceAccount", name, kn_json_get_str(s, "namespace")))
                kn_json_set_str(s, "namespace", ns);
        }
    }
}

static int set_namespace(kn_kz_objs *acc, const char *ns, kn_err *err)
{
    moved *m = calloc(acc->n + 1, sizeof(*m));
    size_t n = 0;
    if (m == NULL)
        return kn_err_set(err, "out of memory");
    for (size_t i = 0; i < acc->n; i++) {
        kn_json *doc = acc->docs[i];
        const char *kind = kn_json_get_str(doc, "kind"), *old = ns_of(doc);
        if (kn_kz_cluster_scoped(kind))
            continue;
        if (old && strcmp(old, ns) != 0 &&
            (strcmp(kind ?: "", "Service") == 0 || strcmp(kind ?: "", "ServiceAccount") == 0))
            m[n++] = (moved){kind, name_of(doc), strdup(old)};
        kn_json *meta = kn_json_get(doc, "metadata");
        if (meta == NULL) {
            meta = kn_json_new_object();
            kn_json_set(doc, "metadata", meta);
        }
        kn_json_set_str(meta, "namespace", ns);
    }
    for (size_t i = 0; i < acc->n; i++)
        follow_references(acc->docs[i], m, n, ns);
    for (size_t i = 0; i < n; i++)
        free(m[i].from);
    free(m);
    return 0;
}

/* "registry/repo:tag" or "repo@sha256:..." without its tag or digest. */
static size_t image_name_len(const char *image)
{
    const char *at = strchr(image, '@'), *slash = strrchr(image, '/');
    size_t end = at ? (size_t)(at - image) : strlen(image);
    const char *colon = memchr(slash ? slash : image, ':', end - (size_t)((slash ? slash : image) - image));
    return colon ? (size_t)(colon - image) : end;
}

static int set_images(const kn_json *k, const char *root, kn_kz_objs *acc, kn_err *err)
{
    const kn_json *images = kn_json_get(k, "images");
    for (size_t i = 0; i < kn_json_len(images); i++) {
        const kn_json *im = kn_json_at(images, i);
        const char *name = kn_json_get_str(im, "name"), *new_name = kn_json_get_str(im, "newName");
        const char *tag = kn_json_get_str(im, "newTag");
        if (name == NULL || kn_json_get(im, "digest") != NULL)
            return kn_err_set(err, "%s: images entry %zu: only name, newName and newTag are rendered here", root,
                              i);
        for (size_t d = 0; d < acc->n; d++) {
            const char *lists[] = {"containers", "initContainers"};
            for (int l = 0; l < 2; l++) {
                kn_json *cs = kn_json_dig(acc->docs[d], "spec", "template", "spec", lists[l], NULL);
                for (size_t c = 0; c < kn_json_len(cs); c++) {
                    const char *image = kn_json_get_str(kn_json_at(cs, c), "image");
                    if (image == NULL || image_name_len(image) != strlen(name) ||
                        strncmp(image, name, strlen(name)) != 0)
                        continue;
                    char out[1024];
                    const char *rest = image + strlen(name);
                    snprintf(out, sizeof(out), "%s%s%s", new_name ? new_name : name, tag ? ":" : "",
                             tag ? tag : rest);
                    kn_json_set_str(kn_json_at(cs, c), "image", out);
                }
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- build */

static int build(const char *dir, kn_kz_objs *acc, bool component, roots *seen, kn_err *err);

static int add_resources(const kn_json *k, const char *root, kn_kz_objs *acc, roots *seen, kn_err *err)
{
    const kn_json *res = kn_json_get(k, "resources");
    for (size_t i = 0; i < kn_json_len(res); i++) {
        const char *rel = kn_json_str(kn_json_at(res, i));
        char path[PATH_MAX];
        if (rel == NULL)
            return kn_err_set(err, "%s: resources entry %zu is not a string", root, i);
        if (resolve(root, rel, path, true, err) != 0)
            return -1;
        if (!is_dir(path)) {
            if (resolve(root, rel, path, false, err) != 0 || read_docs(path, acc, err) != 0)
                return -1;
            continue;
        }
        kn_kz_objs sub = {0};
        if (build(path, &sub, false, seen, err) != 0) {
            kn_kz_free(&sub);
            return -1;
        }
        for (size_t d = 0; d < sub.n; d++)
            if (push(acc, sub.docs[d]) != 0)
                return kn_err_set(err, "out of memory");
        free(sub.docs);
    }
    const kn_json *comps = kn_json_get(k, "components");
    for (size_t i = 0; i < kn_json_len(comps); i++) {
        char path[PATH_MAX];
        if (resolve(root, kn_json_str(kn_json_at(comps, i)) ?: "", path, true, err) != 0 ||
            build(path, acc, true, seen, err) != 0)
            return -1;
    }
    return 0;
}

static int build(const char *dir, kn_kz_objs *acc, bool component, roots *seen, kn_err *err)
{
    char root[PATH_MAX], file[PATH_MAX + 32];
    if (realpath(dir, root) == NULL)
        return kn_err_set(err, "%s does not exist", dir);
    size_t rl = strlen(root);
    for (int i = 0; i < seen->n; i++)
        if (strncmp(seen->dir[i], root, rl) == 0 && (seen->dir[i][rl] == '/' || seen->dir[i][rl] == '\0'))
            return kn_err_set(err, "%s: cycle: it holds the kustomization %s that refers to it", root,
                              seen->dir[i]);
    if (seen->n == MAX_DEPTH)
        return kn_err_set(err, "%s: kustomizations nested too deep", root);
    snprintf(file, sizeof(file), "%s/kustomization.yaml", root);
    kn_kz_objs k = {0};
    if (read_docs(file, &k, err) != 0)
        return -1;
    int rc = -1;
    const char *kind = kn_json_get_str(k.docs[0], "kind");
    const char *want = component ? "Component" : "Kustomization";
    if (k.n != 1 || !kn_json_is(k.docs[0], KN_JSON_OBJECT))
        kn_err_set(err, "%s: not one kustomization", file);
    else if ((kind || component) && strcmp(kind ?: "", want) != 0)
        kn_err_set(err, "%s: kind %s, want %s", file, kind ?: "(none)", want);
    else if (check_fields(k.docs[0], root, err) == 0) {
        char *mine = strdup(root);
        seen->dir[seen->n++] = mine;
        const char *ns = kn_json_get_str(k.docs[0], "namespace");
        rc = add_resources(k.docs[0], root, acc, seen, err) == 0 &&
                     generate_configmaps(k.docs[0], root, acc, err) == 0 &&
                     apply_patches(k.docs[0], root, acc, err) == 0 &&
                     (ns == NULL || set_namespace(acc, ns, err) == 0) && set_images(k.docs[0], root, acc, err) == 0
                 ? 0
                 : -1;
        seen->n--;
        free(mine);
    }
    kn_kz_free(&k);
    return rc;
}

int kn_kz_render(const char *dir, kn_kz_objs *out, kn_err *err)
{
    roots seen = {0};
    return build(dir, out, false, &seen, err);
}

const char *kn_kz_arg_value(const kn_json *container, const char *flag)
{
    const kn_json *args = kn_json_get(container, "args");
    size_t fl = strlen(flag);
    for (size_t i = 0; i < kn_json_len(args); i++) {
        const char *a = kn_json_str(kn_json_at(args, i));
        if (a != NULL && strncmp(a, flag, fl) == 0 && a[fl] == '=')
            return a + fl + 1;
        if (a != NULL && strcmp(a, flag) == 0)
            return kn_json_str(kn_json_at(args, i + 1));
    }
    return NULL;
}

char *kn_kz_deploy_copy(void)
{
    char *tmp = kn_it_tempdir("kn-deploy");
    if (tmp == NULL)
        return NULL;
    if (kn_it_sh("cp -r '%s/deploy' '%s/deploy'", KN_SOURCE_DIR, tmp) != 0 ||
        kn_it_sh("bash '%s/certs/gen-certs.sh' --kustomize '%s/deploy/tls' 2>/dev/null", KN_SOURCE_DIR, tmp) !=
            0 ||
        kn_it_sh("bash '%s/certs/gen-certs.sh' --namespace kubenexus-system --kustomize "
                 "'%s/deploy/overlays/dedicated-namespace/tls' 2>/dev/null",
                 KN_SOURCE_DIR, tmp) != 0) {
        kn_it_rmtree(tmp);
        free(tmp);
        return NULL;
    }
    return tmp;
}

/* `kubectl kustomize dir` into *out: 1, 0 (no kubectl) or -1, as below. */
static int kubectl_render(const char *dir, kn_kz_objs *out, char *why, size_t why_cap)
{
    if (kn_it_sh("kubectl version --client >/dev/null 2>&1") != 0) {
        snprintf(why, why_cap, "kubectl is not installed");
        return 0;
    }
    char *tmp = kn_it_tempdir("kn-kustomize");
    if (tmp == NULL) {
        snprintf(why, why_cap, "no temporary folder");
        return -1;
    }
    int rc = 1;
    if (kn_it_sh("kubectl kustomize '%s' > '%s/out.yaml' 2> '%s/err.txt'", dir, tmp, tmp) != 0) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/err.txt", tmp);
        char *text = kn_it_read_file(path, NULL);
        snprintf(why, why_cap, "kubectl kustomize %s: %s", dir, text ? text : "failed");
        free(text);
        rc = -1;
    } else {
        char path[PATH_MAX];
        kn_err err = {{0}};
        snprintf(path, sizeof(path), "%s/out.yaml", tmp);
        if (read_docs(path, out, &err) != 0) {
            snprintf(why, why_cap, "%s", err.msg);
            rc = -1;
        }
    }
    kn_it_rmtree(tmp);
    free(tmp);
    return rc;
}

int kn_kz_same_as_kubectl(const char *dir, const kn_kz_objs *ours, char *why, size_t why_cap)
{
    kn_kz_objs theirs = {0};
    int rc = kubectl_render(dir, &theirs, why, why_cap);
    if (rc == 1 && theirs.n != ours->n) {
        snprintf(why, why_cap, "kubectl kustomize %s renders %zu objects, ours %zu", dir, theirs.n, ours->n);
        rc = -1;
    }
    for (size_t i = 0; rc == 1 && i < theirs.n; i++) {
        const kn_json *t = theirs.docs[i];
        const kn_json *o = kn_kz_find(ours, kn_json_get_str(t, "kind") ?: "", ns_of(t), name_of(t) ?: "");
        if (o != NULL && kn_json_equal(o, t))
            continue;
        char *a = o ? kn_json_dump(o, NULL) : NULL, *b = kn_json_dump(t, NULL);
        snprintf(why, why_cap, "%s %s differs:\n ours:    %s\n kubectl: %s", kn_json_get_str(t, "kind"),
                 name_of(t), a ? a : "(missing)", b ? b : "?");
        free(a);
        free(b);
        rc = -1;
    }
    kn_kz_free(&theirs);
    return rc;
}
