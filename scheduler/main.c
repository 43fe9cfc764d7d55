/* kubenexus-scheduler: entry point. Placeholder until the scheduler lands. */
#include <stdio.h>

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "usage: kubenexus-scheduler [--kubeconfig F] [--scheduler-name N]\n"
                    "         [--metrics-bind-address :8080] [--leader-elect]\n"
                    "       kubenexus-scheduler simulate FILE...\n");
    return 2;
}
