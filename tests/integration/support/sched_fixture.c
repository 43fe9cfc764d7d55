/* sched_fixture.c - see sched_fixture.h. */
#include "sched_fixture.h"

#include <stdio.h>

void kn_it_dump_log(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[2048];
    fprintf(stderr, "---- %s\n", path);
    while (fgets(line, sizeof line, f))
        fputs(line, stderr);
    fclose(f);
}

const char *kn_it_gang_labels(char *buf, size_t cap, const char *gang, int min)
{
    snprintf(buf, cap,
             "{\"pod-group.scheduling.kubenexus.io/name\":\"%s\","
             "\"pod-group.scheduling.kubenexus.io/min-available\":\"%d\"}",
             gang, min);
    return buf;
}
