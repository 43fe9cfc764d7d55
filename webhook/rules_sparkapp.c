/* rules_sparkapp.c - admission rules for SparkApplications (v1beta2). */
#include "rules.h"

void kn_rules_sparkapp(const kn_rules_input *in, kn_decision *d)
{
    (void)in;
    (void)d;
}
