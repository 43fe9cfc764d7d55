/* rules_pod.c - admission rules for v1 Pods (gang members). */
#include "rules.h"

void kn_rules_pod(const kn_rules_input *in, kn_decision *d)
{
    (void)in;
    (void)d;
}
