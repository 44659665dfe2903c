/*
 * store_child.c: the forked child that writes snapshots (BGSAVE, a save
 * rule, a replica's full sync) and AOF rewrites, at most one at a time as
 * Redis has (redisFork, checkChildrenDone, sendChildCowInfo).
 *
 *   parent: store_child_start -> fork -----------------------------+
 *             (latest_fork_usec, total_forks)                      |
 *           store_child_cron (every tick): waitpid(WNOHANG)        |
 *             -> reads the child's copy-on-write size from the     |
 *                pipe, then done(st, ok, cow, arg)                 |
 *           store_child_kill: SIGUSR1, waitpid -> done(ok 0)       |
 *   child:  signals back to their defaults, listening sockets      |
 *           closed, fn(st, arg) <----------------------------------+
 *           -> Private_Dirty of /proc/self/smaps_rollup to the pipe
 *           -> _exit(0 or 1)
 *
 * The child is a copy of the whole process: the store, but also the
 * cache, the queues and every socket.  It must never run the event loop
 * and never free, flush or close anything it shares with the parent (an
 * exit through exit() would run atexit handlers and flush stdio buffers
 * the parent also holds), so it leaves through _exit.  Its signals are
 * put back to their defaults first: libevent's handlers would otherwise
 * write a SIGTERM sent to the child into the socketpair it shares with
 * the parent, and the parent would shut down.  The pages either process
 * writes are copied by the kernel: what the child reports as
 * Private_Dirty is that cost (INFO's rdb_last_cow_size).
 */
#include "store_srv.h"
#include "store_persist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STORE_CHILD_KINDS  3

struct store_child_s {
    pid_t                pid;           /* -1: none */
    store_child_kind_t   kind;
    store_child_done_pt  done;
    void                *arg;
    int                  info_fd;       /* read end of the cow pipe */
    time_t               started;       /* unix seconds, for INFO */
    size_t               keys_total;    /* keys when it forked (INFO's
                                           current_save_keys_total) */
    uint64_t             latest_fork_usec;
    uint64_t             total_forks;
    /* The last finished child of each kind: INFO's rdb_last_* figures
     * count every RDB child, a replica's sync too, as Redis's do. */
    time_t               last_secs[STORE_CHILD_KINDS];
    size_t               last_cow[STORE_CHILD_KINDS];
};

/* Not in store_persist.h: what store_save.c's INFO reads (both files are
 * the snapshot part's). */
time_t store_child_started(const store_t *st);
size_t store_child_keys_total(const store_t *st);
long   store_child_last_secs(const store_t *st, store_child_kind_t kind);
size_t store_child_last_cow(const store_t *st, store_child_kind_t kind);


static uint64_t
store_child_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}


/*
 * Sums the "Private_Dirty:" lines of a smaps file, in bytes: the pages
 * this process has written since the fork and so no longer shares (Redis's
 * zmalloc_get_private_dirty).  smaps_rollup has one such line for the
 * whole process and costs far less to read; smaps is the fallback for
 * kernels without it.
 */
static size_t
store_child_private_dirty(void)
{
    static const char *const files[] = { "/proc/self/smaps_rollup",
                                         "/proc/self/smaps" };
    char    line[256];
    size_t  kb = 0, i;
    FILE   *f = NULL;

    for (i = 0; i < 2 && f == NULL; i++) {
        f = fopen(files[i], "r");
    }
    if (f == NULL) {
        return 0;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "Private_Dirty:", 14) == 0) {
            kb += strtoull(line + 14, NULL, 10);
        }
    }
    fclose(f);
    return kb * 1024;
}


/*
 * Closes the child's copies of the listening sockets, as Redis's
 * closeChildUnusedResourceAfterFork does: if the parent dies while the
 * child still writes, the ports are free for a restart at once.  The core
 * owns the listeners, so they are found by what they are (sockets with
 * SO_ACCEPTCONN) rather than through its structures.  Closing the child's
 * descriptor leaves the parent's socket and its event registration alone.
 */
static void
store_child_close_listeners(void)
{
    struct dirent  *de;
    socklen_t       len;
    DIR            *d;
    int             fd, on;

    d = opendir("/proc/self/fd");
    if (d == NULL) {
        return;
    }
    while ((de = readdir(d)) != NULL) {
        fd = atoi(de->d_name);
        if (fd <= 2 || fd == dirfd(d)) {
            continue;
        }
        on = 0;
        len = sizeof(on);
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0
            && on)
        {
            close(fd);
        }
    }
    closedir(d);
}


/* The child's life: never returns. */
static void
store_child_run(store_t *st, store_child_kind_t kind, store_child_pt fn,
                void *arg, int info_fd)
{
    static const int  sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD };
    size_t            i, cow;
    ssize_t           n;
    int               rc;

    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        signal(sigs[i], SIG_DFL);
    }
    /* A replica that goes away while the child streams to it must fail
     * the write, not kill the child silently. */
    signal(SIGPIPE, SIG_IGN);
    store_child_close_listeners();
    rc = fn(st, arg);
    /* As Redis's sendChildCowInfo: only a child that did its work reports
     * (INFO keeps the last successful child's figure). */
    if (rc == 0) {
        cow = store_child_private_dirty();
        ob_log_notice(&st->cy->log, "Fork CoW for %s: current %zu MB, peak "
                      "%zu MB, average %zu MB",
                      kind == STORE_CHILD_AOF ? "AOF rewrite" : "RDB",
                      cow >> 20, cow >> 20, cow >> 20);
        do {
            n = write(info_fd, &cow, sizeof(cow));
        } while (n < 0 && errno == EINTR);
    }
    _exit(rc == 0 ? 0 : 1);
}


int
store_child_start(store_t *st, store_child_kind_t kind, store_child_pt fn,
                  store_child_done_pt done, void *arg, ob_err_t *err)
{
    struct store_child_s *ch = st->child;
    int                   fds[2], i;
    uint64_t              t0;
    size_t                keys;
    pid_t                 pid;

    if (ch == NULL) {
        return ob_err_set(err, "fork: the child part is not initialised");
    }
    if (ch->pid > 0) {
        ob_err_set(err, "a child process is already active");
        return OB_BUSY;
    }
    if (pipe2(fds, O_CLOEXEC) != 0) {
        return ob_err_set(err, "Can't open the child info pipe: %s",
                          strerror(errno));
    }
    keys = 0;
    for (i = 0; st->dbs != NULL && i < st->databases; i++) {
        keys += store_db_size(store_dbs_db(st->dbs, i));
    }
    t0 = store_child_usec();
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        store_child_run(st, kind, fn, arg, fds[1]);
    }
    if (pid < 0) {
        int e = errno;

        close(fds[0]);
        close(fds[1]);
        return ob_err_set(err, "fork: %s", strerror(e));
    }
    close(fds[1]);
    /* The child writes once, just before it exits; the parent reads after
     * waitpid, so the read never waits. */
    (void) fcntl(fds[0], F_SETFL, O_NONBLOCK);
    ch->latest_fork_usec = store_child_usec() - t0;
    ch->total_forks++;
    ch->pid = pid;
    ch->kind = kind;
    ch->done = done;
    ch->arg = arg;
    ch->info_fd = fds[0];
    ch->started = time(NULL);
    ch->keys_total = keys;
    return OB_OK;
}


/*
 * The child is gone (status from waitpid, or -1 when it could not be
 * reaped): collects its figures, forgets it, then calls its done hook.
 * The state is cleared before the hook runs, so that the hook may start
 * another child (a sync waiting for this one to end).
 */
static void
store_child_finish(store_t *st, int status)
{
    struct store_child_s *ch = st->child;
    store_child_done_pt   done = ch->done;
    store_child_kind_t    kind = ch->kind;
    void                 *arg = ch->arg;
    size_t                cow = 0;
    int                   ok;

    ok = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (read(ch->info_fd, &cow, sizeof(cow)) != (ssize_t) sizeof(cow)) {
        cow = 0;
    }
    close(ch->info_fd);
    ch->info_fd = -1;
    if ((unsigned) kind < STORE_CHILD_KINDS) {
        ch->last_secs[kind] = time(NULL) - ch->started;
        if (cow != 0) {
            ch->last_cow[kind] = cow;
        }
    }
    ch->pid = -1;
    ch->kind = STORE_CHILD_NONE;
    ch->done = NULL;
    ch->arg = NULL;
    if (done != NULL) {
        done(st, ok, cow, arg);
    }
}


void
store_child_cron(store_t *st)
{
    struct store_child_s *ch = st->child;
    pid_t                 r;
    int                   status = 0;

    if (ch == NULL || ch->pid <= 0) {
        return;
    }
    r = waitpid(ch->pid, &status, WNOHANG);
    if (r == ch->pid) {
        store_child_finish(st, status);
    } else if (r < 0 && errno != EINTR) {
        ob_log_warning(&st->cy->log, "waitpid() returned an error: %s",
                       strerror(errno));
        store_child_finish(st, -1);
    }
}


void
store_child_kill(store_t *st)
{
    struct store_child_s *ch = st->child;
    int                   status = 0;
    pid_t                 r;

    if (ch == NULL || ch->pid <= 0) {
        return;
    }
    /* SIGUSR1 is Redis's "killed on purpose": the done hook sees ok 0 but
     * does not count it as a failed save. */
    kill(ch->pid, SIGUSR1);
    do {
        r = waitpid(ch->pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    store_child_finish(st, r == ch->pid ? status : -1);
}


store_child_kind_t
store_child_running(const store_t *st)
{
    return st->child != NULL && st->child->pid > 0 ? st->child->kind
                                                   : STORE_CHILD_NONE;
}


pid_t
store_child_pid(const store_t *st)
{
    return st->child != NULL && st->child->pid > 0 ? st->child->pid : -1;
}


int
store_child_init(store_t *st, ob_err_t *err)
{
    struct store_child_s *ch;
    int                   i;

    ch = calloc(1, sizeof(*ch));
    if (ch == NULL) {
        return ob_err_set(err, "store: out of memory");
    }
    ch->pid = -1;
    ch->info_fd = -1;
    for (i = 0; i < STORE_CHILD_KINDS; i++) {
        ch->last_secs[i] = -1;
    }
    st->child = ch;
    return OB_OK;
}


/* Fini runs after the other parts are gone: a child still alive is
 * killed and reaped without its done hook (whose state is freed). */
void
store_child_fini(store_t *st)
{
    struct store_child_s *ch = st->child;
    int                   status;

    if (ch == NULL) {
        return;
    }
    if (ch->pid > 0) {
        kill(ch->pid, SIGUSR1);
        while (waitpid(ch->pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    if (ch->info_fd >= 0) {
        close(ch->info_fd);
    }
    free(ch);
    st->child = NULL;
}


uint64_t
store_child_latest_fork_usec(const store_t *st)
{
    return st->child != NULL ? st->child->latest_fork_usec : 0;
}


uint64_t
store_child_total_forks(const store_t *st)
{
    return st->child != NULL ? st->child->total_forks : 0;
}


/* When the running child started (unix seconds), 0 when none runs. */
time_t
store_child_started(const store_t *st)
{
    return st->child != NULL && st->child->pid > 0 ? st->child->started : 0;
}


/* The keys the running child had to write, 0 when none runs. */
size_t
store_child_keys_total(const store_t *st)
{
    return st->child != NULL && st->child->pid > 0 ? st->child->keys_total
                                                   : 0;
}


/* How long the last finished child of `kind` ran, -1 if none did. */
long
store_child_last_secs(const store_t *st, store_child_kind_t kind)
{
    const struct store_child_s *ch = st->child;

    if (ch == NULL || (unsigned) kind >= STORE_CHILD_KINDS
        || ch->last_secs[kind] < 0)
    {
        return -1;
    }
    return (long) ch->last_secs[kind];
}


/* The copy-on-write bytes the last child of `kind` reported. */
size_t
store_child_last_cow(const store_t *st, store_child_kind_t kind)
{
    const struct store_child_s *ch = st->child;

    return ch != NULL && (unsigned) kind < STORE_CHILD_KINDS
           ? ch->last_cow[kind] : 0;
}
