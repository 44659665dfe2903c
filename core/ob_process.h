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

/*
 * The pidfile, as FreeBSD's pidfile(3) keeps it: opened and flock()ed
 * BEFORE the ports are bound, so a second instance with the same -P stops
 * there (naming the running pid) and never touches the file; written after
 * binding and daemonizing (ftruncate + pwrite, same inode: the lock stays
 * on the file readers see); held open for the life of the process; removed
 * only by the process that holds the lock, and only if the path still
 * names the inode it locked.
 *
 *   ob_process_pidfile_open   -> bind, daemonized already -> _write
 *   exit or failure           -> _remove
 */
typedef struct ob_pidfile_s {
    const char *path;     /* borrowed: the configuration's */
    int         fd;       /* locked; -1 when none */
    dev_t       dev;      /* what fd is, to tell a replaced file */
    ino_t       ino;
} ob_pidfile_t;

/* Opens and locks `path` (NULL: no pidfile, OB_OK).  OB_ERR with err
 * naming the running pid when another process holds the lock. */
int  ob_process_pidfile_open(ob_pidfile_t *pf, const char *path,
                             ob_err_t *err);
int  ob_process_pidfile_write(ob_pidfile_t *pf, ob_err_t *err);
void ob_process_pidfile_remove(ob_pidfile_t *pf);

/* Looks the user up (for validation before anything starts). */
int  ob_process_find_user(const char *user, uid_t *uid /* OUT */,
                          gid_t *gid /* OUT */, ob_err_t *err);

/* Switches to `user` when running as root; a no-op otherwise, as memcached
 * ignores -u when it is not root. */
int  ob_process_drop_privileges(const char *user, ob_err_t *err);

/* Descriptors kept for listeners, the admin port, the log, data files and
 * the accept guard's spare, above max_connections (Redis keeps 32). */
#define OB_PROCESS_RESERVED_FDS 64

/* Raises RLIMIT_NOFILE so that max_connections sockets plus
 * OB_PROCESS_RESERVED_FDS fit, as far as the hard limit allows; returns the
 * limit in force. */
long ob_process_raise_fd_limit(long max_connections);

#endif /* OB_PROCESS_H */
