/* check.h - `kubenexus-webhook check [--scheduler-name N] FILE...`
 *
 * Runs the admission rules offline (as /mutate would, operation CREATE) on
 * every SparkApplication and Pod in the files ("-" = stdin; YAML or JSON,
 * several documents, `kind: List` items too) and prints, per object:
 *   <Kind> <ns>/<name>: OK            or   <Kind> <ns>/<name>: DENIED: <message>
 *     warning: <text>                      (one line per warning)
 *     patch: <JSON Patch>                  (when the webhook would change it)
 * Other kinds are listed as "<Kind> <ns>/<name>: skipped (not checked)".
 * Exit status: 0 all allowed, 1 any denied, 2 unreadable input or bad usage. */
#ifndef KN_CHECK_H
#define KN_CHECK_H

/* argv[0] is "check". Writes results to stdout, errors to stderr. */
int kn_check_main(int argc, char **argv);

#endif
