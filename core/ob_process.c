/*
 * ob_process.c: daemonizing, pidfiles, privileges and descriptor limits.
 *
 * Daemonizing uses a pipe so that the foreground process can wait for the
 * outcome of start-up:
 *
 *   parent: fork -> read(pipe) -> exit(status the child wrote, or its
 *           exit status if the pipe closed first)
 *   child:  setsid -> ... bind, load ... -> ob_process_ready(fd, 0)
 *
 * This is what makes `onebox -d -P FILE` safe to script: when it returns 0
 * the pidfile exists and the ports accept connections.
 *
 * The pidfile is taken in the daemon itself (after the fork), so the lock
 * never belongs to the parent that exits; a child forked later (a snapshot)
 * shares the open file and its lock, and its exit does not drop it.
 */
#include "ob_process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Tries at opening a pidfile that is replaced under us, and at reading the
 * pid of a holder that has not written it yet (pidfile(3): 3 x 5 ms). */
#define OB_PIDFILE_TRIES     3
#define OB_PIDFILE_WAIT_US   5000


int
ob_process_daemonize(int *ready_fd, ob_err_t *err)
{
    int           fds[2], status;
    pid_t         pid;
    unsigned char code;
    ssize_t       n;

    if (pipe(fds) != 0) {
        return ob_err_set(err, "pipe: %s", strerror(errno));
    }

    pid = fork();
    if (pid < 0) {
        return ob_err_set(err, "fork: %s", strerror(errno));
    }

    if (pid > 0) {
        close(fds[1]);
        do {
            n = read(fds[0], &code, 1);
        } while (n < 0 && errno == EINTR);
        if (n == 1) {
            _exit(code);
        }
        /* The child died before reporting: pass its status on. */
        if (waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
            _exit(WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : 1);
        }
        _exit(1);
    }

    close(fds[0]);
    if (setsid() < 0) {
        return ob_err_set(err, "setsid: %s", strerror(errno));
    }
    *ready_fd = fds[1];
    return OB_OK;
}


void
ob_process_ready(int ready_fd, int status, int keep_stderr)
{
    unsigned char code = (unsigned char) status;
    int           null;

    if (ready_fd < 0) {
        return;
    }
    if (status == 0) {
        null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDOUT_FILENO);
            if (!keep_stderr) {
                dup2(null, STDERR_FILENO);
            }
            if (null > STDERR_FILENO) {
                close(null);
            }
        }
    }
    (void) !write(ready_fd, &code, 1);
    close(ready_fd);
}


/* The pid a locked pidfile holds, or -1 while its holder has not written
 * it yet. */
static long
ob_process_pidfile_holder(int fd)
{
    char    buf[32];
    ssize_t n;
    int     i;

    for (i = 0; i < OB_PIDFILE_TRIES; i++) {
        n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n > 0) {
            buf[n] = '\0';
            return strtol(buf, NULL, 10);
        }
        usleep(OB_PIDFILE_WAIT_US);
    }
    return -1;
}


int
ob_process_pidfile_open(ob_pidfile_t *pf, const char *path, ob_err_t *err)
{
    struct stat st, fst;
    long        pid;
    int         fd, i;

    pf->path = path;
    pf->fd = -1;
    if (path == NULL) {
        return OB_OK;
    }

    for (i = 0; i < OB_PIDFILE_TRIES; i++) {
        /* Never O_TRUNC: the file may be a live instance's. */
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            return ob_err_set(err, "core.pidfile: %s: %s", path,
                              strerror(errno));
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            if (errno != EWOULDBLOCK) {
                ob_err_set(err, "core.pidfile: %s: lock: %s", path,
                           strerror(errno));
                close(fd);
                return OB_ERR;
            }
            pid = ob_process_pidfile_holder(fd);
            close(fd);
            if (pid > 0) {
                return ob_err_set(err, "core.pidfile: %s is held by a "
                                  "running server (pid %ld); not starting",
                                  path, pid);
            }
            return ob_err_set(err, "core.pidfile: %s is held by another "
                              "server that is starting; not starting", path);
        }
        /* Locked; but if the path was unlinked or replaced between our
         * open and our lock, the lock is on a file nobody sees. */
        if (fstat(fd, &fst) == 0 && stat(path, &st) == 0
            && st.st_dev == fst.st_dev && st.st_ino == fst.st_ino)
        {
            if (ftruncate(fd, 0) != 0) {
                ob_err_set(err, "core.pidfile: %s: %s", path,
                           strerror(errno));
                close(fd);
                return OB_ERR;
            }
            pf->fd = fd;
            pf->dev = fst.st_dev;
            pf->ino = fst.st_ino;
            return OB_OK;
        }
        close(fd);
    }
    return ob_err_set(err, "core.pidfile: %s keeps being replaced", path);
}


int
ob_process_pidfile_write(ob_pidfile_t *pf, ob_err_t *err)
{
    char buf[32];
    int  len;

    if (pf->fd < 0) {
        return OB_OK;
    }
    len = snprintf(buf, sizeof(buf), "%ld\n", (long) getpid());
    /* Same inode, so the lock stays on the file readers find. */
    if (ftruncate(pf->fd, 0) != 0
        || pwrite(pf->fd, buf, (size_t) len, 0) != len)
    {
        return ob_err_set(err, "core.pidfile: %s: %s", pf->path,
                          strerror(errno));
    }
    return OB_OK;
}


void
ob_process_pidfile_remove(ob_pidfile_t *pf)
{
    struct stat st;

    if (pf->fd < 0) {
        return;
    }
    /* Ours while we hold the lock, unless someone replaced the path. */
    if (stat(pf->path, &st) == 0 && st.st_dev == pf->dev
        && st.st_ino == pf->ino)
    {
        unlink(pf->path);
    }
    close(pf->fd);
    pf->fd = -1;
}


int
ob_process_find_user(const char *user, uid_t *uid, gid_t *gid, ob_err_t *err)
{
    struct passwd *pw = getpwnam(user);

    if (pw == NULL) {
        return ob_err_set(err, "core.user: can't find the user "
                 "'%s' to switch to", user);
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return OB_OK;
}


int
ob_process_drop_privileges(const char *user, ob_err_t *err)
{
    uid_t uid = (uid_t) -1;   /* set by ob_process_find_user */
    gid_t gid = (gid_t) -1;

    if (user == NULL || (getuid() != 0 && geteuid() != 0)) {
        return OB_OK;
    }
    if (ob_process_find_user(user, &uid, &gid, err) != OB_OK) {
        return OB_ERR;
    }
    if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
        return ob_err_set(err, "core.user: failed to assume "
                 "the identity of '%s': %s", user, strerror(errno));
    }
    return OB_OK;
}


long
ob_process_raise_fd_limit(long max_connections)
{
    struct rlimit rl;
    rlim_t        want = (rlim_t) max_connections + OB_PROCESS_RESERVED_FDS;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return -1;
    }
    if (rl.rlim_cur < want) {
        rl.rlim_cur = want;
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
            rl.rlim_cur = rl.rlim_max;
        }
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return (long) rl.rlim_cur;
}
