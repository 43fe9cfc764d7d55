/* kubenexus-webhook: entry point. Placeholder until the server lands. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "usage: kubenexus-webhook --tls-cert-file F --tls-key-file F [--port 8443]\n"
                    "         [--bind-address 0.0.0.0] [--scheduler-name kubenexus-scheduler]\n"
                    "       kubenexus-webhook check [--scheduler-name N] FILE...\n");
    return 2;
}
