/* rules.c - which rule set judges an object, and dispatch to it. */
#include "admission/rules.h"

#include <stdio.h>
#include <string.h>

kn_obj_kind kn_rules_classify(const char *group, const char *version, const char *kind)
{
    if (group == NULL || version == NULL || kind == NULL)
        return KN_OBJ_OTHER;
    if (strcmp(group, "") == 0 && strcmp(version, "v1") == 0 && strcmp(kind, "Pod") == 0)
        return KN_OBJ_POD;
    if (strcmp(group, "sparkoperator.k8s.io") == 0 && strcmp(version, "v1beta2") == 0 &&
        strcmp(kind, "SparkApplication") == 0)
        return KN_OBJ_SPARKAPP;
    return KN_OBJ_OTHER;
}

const char *kn_obj_kind_name(kn_obj_kind k)
{
    switch (k) {
    case KN_OBJ_POD: return "Pod";
    case KN_OBJ_SPARKAPP: return "SparkApplication";
    default: return "other";
    }
}

static bool handled_operation(kn_obj_kind k, const char *op)
{
    if (op == NULL)
        return false;
    if (k == KN_OBJ_POD)
        return strcmp(op, "CREATE") == 0;
    if (k == KN_OBJ_SPARKAPP)
        return strcmp(op, "CREATE") == 0 || strcmp(op, "UPDATE") == 0;
    return false;
}

static void set_subject(const kn_rules_input *in, kn_decision *d)
{
    const char *ns = in->ns, *name = in->name;
    if (ns == NULL || ns[0] == '\0')
        ns = kn_json_str(kn_json_dig(in->object, "metadata", "namespace", NULL));
    if (name == NULL || name[0] == '\0')
        name = kn_json_str(kn_json_dig(in->object, "metadata", "name", NULL));
    if (name == NULL || name[0] == '\0')
        name = kn_json_str(kn_json_dig(in->object, "metadata", "generateName", NULL));
    snprintf(d->subject, sizeof(d->subject), "%s %.120s/%.120s", kn_obj_kind_name(d->kind),
             ns != NULL && ns[0] != '\0' ? ns : "default", name != NULL ? name : "");
}

int kn_rules_evaluate(const kn_rules_input *in, kn_decision *d)
{
    memset(d, 0, sizeof(*d));
    d->allowed = true;
    d->kind = kn_rules_classify(in->group, in->version, in->kind);
    set_subject(in, d);
    if (handled_operation(d->kind, in->operation) && kn_json_is(in->object, KN_JSON_OBJECT)) {
        if (d->kind == KN_OBJ_POD)
            kn_rules_pod(in, d);
        else
            kn_rules_sparkapp(in, d);
    }
    /* A denial or validate mode never carries a patch. */
    if (!d->allowed || in->mode == KN_ADMIT_VALIDATE)
        kn_patch_list_free(&d->ops);
    if (in->patch_ops_only)
        return 0;
    d->patch = kn_patch_json(&d->ops);
    if (d->patch == NULL) {
        d->allowed = false;
        snprintf(d->message, sizeof(d->message), "kubenexus-webhook: out of memory");
        return -1;
    }
    return 0;
}
