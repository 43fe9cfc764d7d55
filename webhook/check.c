/* check.c - the offline `check` subcommand: the admission rules on files. */
#include "webhook/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "yaml/manifest.h"
#include "admission/rules.h"

/* Splits "group/version" (or "v1") into its parts. */
static void split_api_version(const char *av, char *group, size_t gcap, const char **version)
{
    const char *slash = av != NULL ? strchr(av, '/') : NULL;
    group[0] = '\0';
    *version = av != NULL ? av : "";
    if (slash != NULL) {
        snprintf(group, gcap, "%.*s", (int)(slash - av), av);
        *version = slash + 1;
    }
}

/* Prints one object's verdict; returns 1 if denied, else 0. */
static int check_object(const kn_json *obj, const kn_admit_config *cfg)
{
    char group[256];
    const char *version;
    split_api_version(kn_json_get_str(obj, "apiVersion"), group, sizeof(group), &version);
    kn_rules_input in = {.group = group,
                         .version = version,
                         .kind = kn_json_get_str(obj, "kind"),
                         .operation = "CREATE",
                         .object = obj,
                         .mode = KN_ADMIT_MUTATE,
                         .cfg = cfg};
    kn_decision d;
    kn_rules_evaluate(&in, &d);
    int denied = 0;
    if (d.kind == KN_OBJ_OTHER) {
        const char *k = in.kind != NULL ? in.kind : "object";
        printf("%s %s: skipped (not checked)\n", k, strchr(d.subject, ' ') + 1);
    } else if (!d.allowed) {
        /* the message already starts with the subject */
        printf("%s: DENIED: %s\n", d.subject, d.message + strlen(d.subject) + 2);
        denied = 1;
    } else {
        printf("%s: OK\n", d.subject);
    }
    for (int i = 0; i < d.n_warnings; i++)
        printf("  warning: %s\n", d.warnings[i]);
    if (kn_json_len(d.patch) > 0) {
        char *p = kn_json_dump(d.patch, NULL);
        printf("  patch: %s\n", p != NULL ? p : "(out of memory)");
        free(p);
    }
    kn_decision_free(&d);
    return denied;
}

/* Returns 0 all allowed, 1 any denied, 2 unreadable. */
static int check_file(const char *path, const kn_admit_config *cfg)
{
    kn_json **docs = NULL;
    size_t n = 0;
    kn_err err = {{0}};
    if (kn_manifest_read_file(path, &docs, &n, &err) != 0) {
        fprintf(stderr, "check: %s\n", err.msg);
        return 2;
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!kn_json_is(docs[i], KN_JSON_OBJECT)) {
            fprintf(stderr, "check: %s: document %zu is not an object\n", path, i + 1);
            rc = 2;
            continue;
        }
        int r = check_object(docs[i], cfg);
        rc = r > rc ? r : rc;
    }
    kn_yaml_free_docs(docs, n);
    return rc;
}

int kn_check_main(int argc, char **argv)
{
    kn_admit_config cfg = {.scheduler_name = KN_DEFAULT_SCHEDULER_NAME};
    int i = 1, rc = 0, files = 0;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--scheduler-name") == 0 && i + 1 < argc) {
            cfg.scheduler_name = argv[++i];
        } else if (strcmp(argv[i], "--fill-gang-labels") == 0) {
            cfg.fill_gang_labels = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "check: unknown option %s\n", argv[i]);
            return 2;
        } else {
            int r = check_file(argv[i], &cfg);
            rc = r > rc ? r : rc;
            files++;
        }
    }
    if (files == 0) {
        fprintf(stderr, "usage: kubenexus-webhook check [--scheduler-name N] [--fill-gang-labels] FILE...\n");
        return 2;
    }
    return rc;
}
