/* err.h - errors as values.
 *
 * Every fallible function in kubenexus takes a `kn_err *` (which may be NULL)
 * and returns -1 (or NULL) after writing a message a user can read, e.g.
 * "spec.driver.memory: \"4Gi\" is not a Spark size (Spark wants 4g)".
 * Messages are complete sentences without a trailing newline. */
#ifndef KN_ERR_H
#define KN_ERR_H

#include <stddef.h>

#define KN_ERR_MAX 512

typedef struct kn_err {
    char msg[KN_ERR_MAX];
} kn_err;

/* Formats the message into e (if non-NULL) and returns -1, so a caller can
 * write `return kn_err_set(err, "...", ...);`. */
int kn_err_set(kn_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepends "prefix: " to an existing message (for adding context such as a
 * field path or a file name as the error travels up). Returns -1. */
int kn_err_prefix(kn_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
