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
 */
#include "ob_process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Descriptors kept back for listeners, the log, data files. */
#define OB_PROCESS_RESERVED_FDS 64


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


int
ob_process_write_pidfile(const char *path, ob_err_t *err)
{
    char  tmp[4096];
    FILE *fp;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int) sizeof(tmp)) {
        return ob_err_set(err, "core.pidfile: path too long");
    }
    fp = fopen(tmp, "w");
    if (fp == NULL) {
        return ob_err_set(err, "core.pidfile: %s: %s", path,
                 strerror(errno));
    }
    fprintf(fp, "%ld\n", (long) getpid());
    if (fclose(fp) != 0 || rename(tmp, path) != 0) {
        ob_err_set(err, "core.pidfile: %s: %s", path,
                 strerror(errno));
        unlink(tmp);
        return OB_ERR;
    }
    return OB_OK;
}


void
ob_process_remove_pidfile(const char *path)
{
    if (path != NULL) {
        unlink(path);
    }
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
