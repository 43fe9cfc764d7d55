/* priority.c - PriorityClasses and the Priority admission plugin (see priority.h). */
#include "sim/priority.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/grow.h"

static const kn_sim_class system_classes[] = {
    {"system-cluster-critical", 2000000000, false, false},
    {"system-node-critical", 2000001000, false, false},
};

/* kube-scheduler's HighestUserDefinablePriority: above it are the system classes. */
#define HIGHEST_USER_PRIORITY 1000000000

void kn_sim_priorities_init(kn_sim_priorities *p)
{
    memset(p, 0, sizeof(*p));
    kn_strmap_init(&p->by_name);
}

void kn_sim_priorities_free(kn_sim_priorities *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->classes[i].name);
    free(p->classes);
    kn_strmap_free(&p->by_name);
    memset(p, 0, sizeof(*p));
}

int kn_sim_priority_add(kn_sim_priorities *p, const kn_json *pc, kn_err *err)
{
    const char *name = kn_json_str(kn_json_dig(pc, "metadata", "name", NULL));
    if (name == NULL || *name == '\0')
        return kn_err_set(err, "PriorityClass: metadata.name is missing");
    int64_t value;
    if (kn_json_int(kn_json_get(pc, "value"), &value) != 0 || value < INT32_MIN || value > HIGHEST_USER_PRIORITY)
        return kn_err_set(err, "PriorityClass %s: value: want an integer of at most %d", name,
                          HIGHEST_USER_PRIORITY);
    for (size_t i = 0; i < sizeof(system_classes) / sizeof(system_classes[0]); i++)
        if (strcmp(name, system_classes[i].name) == 0)
            return kn_err_set(err, "PriorityClass %s: the name is reserved for system use", name);
    const kn_json *pol = kn_json_get(pc, "preemptionPolicy");
    const char *policy = kn_json_str(pol);
    if (pol != NULL && !kn_json_is(pol, KN_JSON_NULL) &&
        (policy == NULL || (strcmp(policy, "Never") != 0 && strcmp(policy, "PreemptLowerPriority") != 0)))
        return kn_err_set(err, "PriorityClass %s: preemptionPolicy: want Never or PreemptLowerPriority", name);
    kn_sim_class c = {.value = (int32_t)value,
                      .never = policy && strcmp(policy, "Never") == 0,
                      .global_default = kn_json_bool(kn_json_get(pc, "globalDefault"), false)};
    int at = kn_strmap_get(&p->by_name, name);
    if (at >= 0) {
        c.name = p->classes[at].name;
        p->classes[at] = c;
        return 0;
    }
    if (kn_grow((void **)&p->classes, &p->cap, p->n + 1, sizeof(*p->classes)) != 0 ||
        (c.name = strdup(name)) == NULL)
        return kn_err_set(err, "out of memory");
    if (kn_strmap_put(&p->by_name, c.name, (int)p->n) != 0) {
        free(c.name);
        return kn_err_set(err, "out of memory");
    }
    p->classes[p->n++] = c;
    return 0;
}

static const kn_sim_class *find(const kn_sim_priorities *p, const char *name)
{
    for (size_t i = 0; i < sizeof(system_classes) / sizeof(system_classes[0]); i++)
        if (strcmp(name, system_classes[i].name) == 0)
            return &system_classes[i];
    int at = kn_strmap_get(&p->by_name, name);
    return at >= 0 ? &p->classes[at] : NULL;
}

/* The global default of the lowest value (several: a race the plugin settles so). */
static const kn_sim_class *global_default(const kn_sim_priorities *p)
{
    const kn_sim_class *d = NULL;
    for (size_t i = 0; i < p->n; i++)
        if (p->classes[i].global_default && (d == NULL || p->classes[i].value < d->value))
            d = &p->classes[i];
    return d;
}

/* 1 with *denial as kube-apiserver words an admission plugin's refusal. */
static int refuse(char **denial, const char *pod, const char *why)
{
    size_t n = strlen(pod) + strlen(why) + 40;
    if ((*denial = malloc(n)) == NULL)
        return -1;
    snprintf(*denial, n, "pods \"%s\" is forbidden: %s", pod, why);
    return 1;
}

int kn_sim_priority_admit(const kn_sim_priorities *p, kn_json *pod, char **denial)
{
    *denial = NULL;
    kn_json *spec = kn_json_get(pod, "spec");
    const char *pod_name = kn_json_str(kn_json_dig(pod, "metadata", "name", NULL));
    pod_name = pod_name ? pod_name : "";
    if (!kn_json_is(spec, KN_JSON_OBJECT))
        return 0;
    const char *name = kn_json_get_str(spec, "priorityClassName");
    const kn_sim_class *c = NULL;
    if (name != NULL && *name != '\0') {
        if ((c = find(p, name)) == NULL) {
            char why[400];
            snprintf(why, sizeof(why), "no PriorityClass with name %.300s was found", name);
            return refuse(denial, pod_name, why);
        }
    } else if ((c = global_default(p)) != NULL) {
        if (kn_json_set_str(spec, "priorityClassName", c->name) != 0)
            return -1;
    } else {
        return 0;
    }
    int64_t have;
    char why[400];
    if (kn_json_int(kn_json_get(spec, "priority"), &have) == 0 && have != c->value) {
        snprintf(why, sizeof(why),
                 "the integer value of priority (%lld) must not be provided in pod spec; priority admission "
                 "controller computed %d from the given PriorityClass name",
                 (long long)have, c->value);
        return refuse(denial, pod_name, why);
    }
    const char *policy = c->never ? "Never" : "PreemptLowerPriority";
    const char *pod_policy = kn_json_get_str(spec, "preemptionPolicy");
    if (pod_policy != NULL && strcmp(pod_policy, policy) != 0) {
        snprintf(
            why, sizeof(why),
            "the string value of PreemptionPolicy (%.40s) must not be provided in pod spec; priority admission "
            "controller computed %s from the given PriorityClass name",
            pod_policy, policy);
        return refuse(denial, pod_name, why);
    }
    if (kn_json_set(spec, "priority", kn_json_new_int(c->value)) != 0 ||
        kn_json_set_str(spec, "preemptionPolicy", policy) != 0)
        return -1;
    return 0;
}
