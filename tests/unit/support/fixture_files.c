/* fixture_files.c - JSON documents read from files (contracts in
 * fixture_files.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "support/fixture_files.h"

kn_json *read_json_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    kn_err err = {{0}};
    kn_json *v = kn_json_parse(buf, n, NULL, &err);
    if (v == NULL)
        fail_msg("%s: %s", path, err.msg);
    return v;
}

kn_json *fixture_json(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s/%s", KN_FIXTURES, dir, name);
    return read_json_file(path);
}
