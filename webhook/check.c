/* check.c - the offline `check` subcommand: the admission rules on files. */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "rules.h"

#define KN_CHECK_MAX_FILE (8u << 20)

static char *read_stream(FILE *f, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) {
            if (ferror(f))
                break;
            *len = n;
            return buf;
        }
        if (cap >= KN_CHECK_MAX_FILE)
            break;
        char *nb = realloc(buf, cap * 2);
        if (nb == NULL)
            break;
        buf = nb;
        cap *= 2;
    }
    free(buf);
    return NULL;
}

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
    kn_rules_input in = {.group = group, .version = version, .kind = kn_json_get_str(obj, "kind"),
                         .operation = "CREATE", .object = obj, .mode = KN_ADMIT_MUTATE, .cfg = cfg};
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
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "check: %s: cannot open\n", path);
        return 2;
    }
    size_t len = 0;
    char *buf = read_stream(f, &len);
    if (f != stdin)
        fclose(f);
    if (buf == NULL) {
        fprintf(stderr, "check: %s: cannot read (or larger than 8 MiB)\n", path);
        return 2;
    }
    kn_err err = {{0}};
    kn_json *doc = kn_json_parse(buf, len, NULL, &err);
    free(buf);
    if (doc == NULL) {
        fprintf(stderr, "check: %s: %s\n", path, err.msg);
        return 2;
    }
    int rc = 0;
    if (kn_json_is(kn_json_get(doc, "items"), KN_JSON_ARRAY)) {
        const kn_json *items = kn_json_get(doc, "items");
        for (size_t i = 0; i < kn_json_len(items); i++)
            rc |= check_object(kn_json_at(items, i), cfg);
    } else {
        rc = check_object(doc, cfg);
    }
    kn_json_free(doc);
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
