/* send.h - `kubenexus-webhook send --server URL [--cacert F] [--path /mutate] FILE...`
 *
 * Plays the API server (and the Spark Operator) against a RUNNING webhook:
 * every Pod and SparkApplication in the files is wrapped in an AdmissionReview
 * v1 CREATE request, exactly as kube-apiserver sends it (schedulerName
 * defaulted to default-scheduler on pods, userInfo, options CreateOptions), and
 * POSTed over HTTPS (HTTP/2 when offered, the CA verified) to
 * <server><path>?timeout=10s. For an admitted SparkApplication the returned
 * patch is applied, then its driver pod is built and sent as the operator
 * would create it, then its executors (as the driver would create them).
 *
 * Prints per request:
 *   <Kind> <ns>/<name>: ALLOWED | PATCHED | DENIED: <message>
 *     warning: <text>
 *     patch: <decoded JSON Patch>
 * Exit status: 0 all allowed, 1 any denied, 2 bad input, usage or transport error.
 * Useful beyond the demo: smoke-test a deployed webhook through a port-forward. */
#ifndef KN_SEND_H
#define KN_SEND_H

/* argv[0] is "send". */
int kn_send_main(int argc, char **argv);

#endif
