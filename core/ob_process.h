/*
 * ob_process.h: what a Unix daemon does for itself: go to the background,
 * write and remove a pidfile, drop root privileges, raise its descriptor
 * limit.  memcached's -d, -P, -u and -c behave as these functions do.
 */
#ifndef OB_PROCESS_H
#define OB_PROCESS_H

#include <sys/types.h>
#include "ob_core.h"

/*
 * Forks into the background.  The parent does not return: it waits until
 * the child calls ob_process_ready() and then exits with the status the
 * child reported (0 once the server listens, the child's exit status if it
 * dies first), so `onebox -d` returns only when the server is usable and
 * start-up errors still reach the terminal.  In the child, returns OB_OK
 * with *ready_fd set to the pipe to report on.
 */
int  ob_process_daemonize(int *ready_fd /* OUT */, ob_err_t *err);

/* The child reports start-up success (status 0) or failure to the waiting
 * parent.  On success it then points stdin and stdout, and stderr unless
 * keep_stderr, at /dev/null: a daemon has no terminal.  A no-op when
 * ready_fd < 0. */
void ob_process_ready(int ready_fd, int status, int keep_stderr);

/* Writes the process id to `path` (atomically: a temporary file renamed). */
int  ob_process_write_pidfile(const char *path, ob_err_t *err);
void ob_process_remove_pidfile(const char *path);

/* Looks the user up (for validation before anything starts). */
int  ob_process_find_user(const char *user, uid_t *uid /* OUT */,
                          gid_t *gid /* OUT */, ob_err_t *err);

/* Switches to `user` when running as root; a no-op otherwise, as memcached
 * ignores -u when it is not root. */
int  ob_process_drop_privileges(const char *user, ob_err_t *err);

/* Raises RLIMIT_NOFILE so that max_connections sockets (plus the process's
 * own files) fit; returns the limit in force. */
long ob_process_raise_fd_limit(long max_connections);

#endif /* OB_PROCESS_H */
