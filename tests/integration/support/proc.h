/* proc.h - integration-test helpers for running the real binaries.
 *
 * kn_it_spawn starts a program with its stdout and stderr appended to a log
 * file; kn_it_wait_port polls until it accepts TCP connections (or died);
 * kn_it_wait_exit reaps it with a bound. All waits poll, none sleeps blindly. */
#ifndef KN_IT_PROC_H
#define KN_IT_PROC_H

#include <stdbool.h>
#include <sys/types.h>

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int kn_it_free_port(void);
/* argv[0] is a path. Returns the child's pid or -1. */
pid_t kn_it_spawn(char *const argv[], const char *log_path);
/* true once 127.0.0.1:port accepts; false if pid exited or timeout passed. */
bool kn_it_wait_port(int port, pid_t pid, int timeout_ms);
/* Reaps pid; returns its wait status, or -1 if it did not exit in time
 * (it is then killed with SIGKILL and reaped). */
int kn_it_wait_exit(pid_t pid, int timeout_ms);
/* Runs a shell command line; returns its exit status (-1 if it did not run). */
int kn_it_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A fresh directory under $TMPDIR (or /tmp), malloc'd path. */
char *kn_it_tempdir(const char *prefix);
void kn_it_rmtree(const char *dir);
/* Whole file, NUL-terminated, malloc'd; NULL if unreadable. */
char *kn_it_read_file(const char *path, size_t *len);
void kn_it_sleep_ms(int ms);

#endif
