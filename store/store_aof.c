/*
 * store_aof.c: the append-only file while the server runs, as Redis 7.0
 * keeps it (aof.c): the buffer of propagated commands, its write and
 * fsync by appendfsync with group commit, write errors, BGREWRITEAOF and
 * the automatic rewrite, CONFIG SET appendonly.  The manifest and the
 * start-up replay are in store_aof_load.c.
 *
 * Group commit.  store_aof_feed appends each propagated command (RESP, a
 * SELECT first when the db changes) to a malloc'd buffer.  After each
 * batch a client ran, store_aof_hold_reply holds that client's output
 * when the buffer has something, and arms the flush event (event_active:
 * libevent runs it after the I/O callbacks already active in this loop
 * pass, as Redis's beforeSleep runs after the pass's reads).  The flush
 * writes the whole buffer with one write(2), fdatasyncs it under
 * appendfsync always, and only then releases every held connection.  So
 * a reply that says a write happened is sent after the write is in the
 * file (always: on the disk), and one fsync covers every client of the
 * pass.  A blocked client served by another's write is held the same way
 * (store_aof_hold_served).  Memory: the buffer is what one pass fed (it
 * is given back when a pass made it big), the held list one pointer per
 * client of the pass.
 *
 *   feed -> buf   hold_reply -> held[] + flush armed
 *                 flush: write(buf) [fdatasync] -> release held[]
 *                        failed: cut the file back, keep buf,
 *                                close held[] (always) or release them
 *
 * everysec hands the fsync to a thread of ours, about once a second; a
 * write that finds the previous fsync still running waits (up to 2 s,
 * then writes anyway and counts aof_delayed_fsync), so the reactor never
 * waits on the disk.  no never fsyncs.
 *
 * Errors.  A failed or short write is cut back (ftruncate to the last
 * good size) and the buffer kept; aof_last_write_status turns err and new
 * writes get MISCONF (store_aof_write_error).  Under always, the
 * connections of the failed pass are closed without their replies (Redis
 * exits there; we refuse instead); under everysec and no they get them,
 * as from Redis, their writes waiting in the buffer.  The cron retries
 * every second; the first write that works clears the error.  Fsync
 * errors alike.
 *
 * Rewrites (Redis 7.0, no rewrite buffer): the parent opens a new incr at
 * once and lists it in the manifest, so new writes go there; a forked
 * child writes the new base (an RDB with aof-base, or RESP) to a temp
 * file; when it succeeds, the base is renamed into the directory and the
 * manifest replaced: new base + the incrs since, the old files marked
 * history and deleted.
 */
#include "store_aof_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "store_hash.h"
#include "store_list.h"
#include "store_set.h"
#include "store_stream.h"
#include "store_zset.h"

/* The buffer is kept between passes unless a pass made it bigger than
 * this (Redis keeps aof_buf only under 4000 bytes; a pipelined pass of
 * 50 clients makes some 30 KB, which we would rather not malloc again
 * every pass). */
#define STORE_AOF_BUF_KEEP       (256 * 1024)
/* everysec: fsync about this often, and let a write wait this long for
 * a slow fsync before it goes ahead without it. */
#define STORE_AOF_FSYNC_MS       1000
#define STORE_AOF_POSTPONE_MS    2000
#define STORE_AOF_RETRY_MS       1000


static void store_aof_flush(store_t *st, int force);
static int  store_aof_rewrite_start(store_t *st, ob_err_t *err);
static int  store_aof_write_resp_base(store_t *st, int fd, ob_err_t *err);


static int64_t
store_aof_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* ---- the fsync thread ------------------------------------------------------ */

static void *
store_aof_thread(void *arg)
{
    struct store_aof_s  *aof = arg;
    store_aof_job_t     *j;
    int                  rc = 0;

    pthread_mutex_lock(&aof->mu);
    for ( ;; ) {
        while (aof->jobs == NULL && !aof->thr_stop) {
            pthread_cond_wait(&aof->cv, &aof->mu);
        }
        if (aof->jobs == NULL) {
            break;
        }
        j = aof->jobs;
        aof->jobs = j->next;
        if (aof->jobs == NULL) {
            aof->jobs_tail = NULL;
        }
        pthread_mutex_unlock(&aof->mu);
        if (j->path != NULL) {
            (void) unlink(j->path);
        } else {
            rc = fdatasync(j->fd) == 0 ? 0 : errno;
            if (j->close) {
                close(j->fd);
            }
        }
        pthread_mutex_lock(&aof->mu);
        if (j->path == NULL) {
            if (!j->close) {
                /* EBADF/EINVAL: not a file that can be synced, not an
                 * error of the disk (Redis ignores them the same way). */
                __atomic_store_n(&aof->thr_fsync_err,
                                 (rc == EBADF || rc == EINVAL) ? 0 : rc,
                                 __ATOMIC_RELEASE);
            }
            __atomic_sub_fetch(&aof->fsync_busy, 1, __ATOMIC_RELEASE);
        }
        free(j->path);
        free(j);
    }
    pthread_mutex_unlock(&aof->mu);
    return NULL;
}


static void
store_aof_post(struct store_aof_s *aof, store_aof_job_t *j)
{
    pthread_mutex_lock(&aof->mu);
    if (aof->jobs_tail != NULL) {
        aof->jobs_tail->next = j;
    } else {
        aof->jobs = j;
    }
    aof->jobs_tail = j;
    if (j->path == NULL) {
        __atomic_add_fetch(&aof->fsync_busy, 1, __ATOMIC_RELEASE);
    }
    pthread_cond_signal(&aof->cv);
    pthread_mutex_unlock(&aof->mu);
}


/* Queues an fsync (and a close) of fd for the thread; without a thread
 * (or memory) it is done here. */
static void
store_aof_bg_fsync(struct store_aof_s *aof, int fd, int close_it)
{
    store_aof_job_t *j = calloc(1, sizeof(*j));

    if (j == NULL || !aof->thr_started) {
        free(j);
        (void) fdatasync(fd);
        if (close_it) {
            close(fd);
        }
        return;
    }
    j->fd = fd;
    j->close = close_it;
    store_aof_post(aof, j);
}


/* Deletes a file from the thread (a history base may be gigabytes, and
 * unlinking it takes the file system a while, as Redis's lazy free of
 * history files knows); takes `path`. */
static void
store_aof_bg_unlink(struct store_aof_s *aof, char *path)
{
    store_aof_job_t *j = calloc(1, sizeof(*j));

    if (j == NULL || !aof->thr_started) {
        free(j);
        (void) unlink(path);
        free(path);
        return;
    }
    j->fd = -1;
    j->path = path;
    store_aof_post(aof, j);
}


/* Read without the lock (the writer of the write path asks on every
 * write command): the thread stores them atomically under the lock. */
static int
store_aof_fsync_busy(struct store_aof_s *aof)
{
    return __atomic_load_n(&aof->fsync_busy, __ATOMIC_ACQUIRE) != 0;
}


static int
store_aof_thread_err(struct store_aof_s *aof)
{
    return __atomic_load_n(&aof->thr_fsync_err, __ATOMIC_ACQUIRE);
}


/* ---- errors ------------------------------------------------------------- */

const char *
store_aof_write_error(const store_t *st)
{
    struct store_aof_s *aof = st->aof;
    int                 e;

    if (aof == NULL || aof->state == STORE_AOF_OFF) {
        return NULL;
    }
    e = aof->write_err != 0 ? aof->write_err : aof->fsync_err;
    if (e == 0) {
        e = store_aof_thread_err(aof);
    }
    if (e == 0) {
        return NULL;
    }
    snprintf(aof->misconf, sizeof(aof->misconf),
             "MISCONF Errors writing to the AOF file: %s", strerror(e));
    return aof->misconf;
}


/* ---- group commit ------------------------------------------------------------ */

static void
store_aof_release(struct store_aof_s *aof, int ok)
{
    size_t i;

    for (i = 0; i < aof->nheld; i++) {
        store_client_t *c = aof->held[i];

        if (c->conn == NULL) {
            continue;
        }
        if (ok) {
            ob_conn_hold_output(c->conn, 0);
        } else {
            /* Their replies would say a write is safe that is not: the
             * client sees the connection drop instead, as it would if
             * Redis had exited. */
            ob_conn_close(c->conn, 0);
        }
    }
    aof->nheld = 0;
}


void
store_aof_client_closed(store_t *st, store_client_t *c)
{
    struct store_aof_s *aof = st->aof;
    size_t              i, j;

    if (aof == NULL) {
        return;
    }
    for (i = 0, j = 0; i < aof->nheld; i++) {
        if (aof->held[i] != c) {
            aof->held[j++] = aof->held[i];
        }
    }
    aof->nheld = j;
}


static void
store_aof_flush_cb(evutil_socket_t fd, short what, void *arg)
{
    store_t *st = arg;

    (void) fd;
    (void) what;
    st->aof->flush_armed = 0;
    store_aof_flush(st, 0);
}


static void
store_aof_arm(struct store_aof_s *aof)
{
    if (!aof->flush_armed && aof->flush_ev != NULL) {
        aof->flush_armed = 1;
        event_active(aof->flush_ev, EV_TIMEOUT, 0);
    }
}


void
store_aof_hold_reply(store_t *st, store_client_t *c)
{
    struct store_aof_s *aof = st->aof;

    /* Only what was fed since the last failed write holds replies: the
     * clients of the failed part were closed already, and a client
     * refused with MISCONF has nothing to wait for. */
    if (aof == NULL || c->conn == NULL
        || (aof->len <= aof->failed_len && !aof->lost))
    {
        return;
    }
    if (aof->nheld > 0 && aof->held[aof->nheld - 1] == c) {
        store_aof_arm(aof);
        return;
    }
    if (aof->nheld == aof->held_cap) {
        size_t           ncap = aof->held_cap ? aof->held_cap * 2 : 64;
        store_client_t **n = realloc(aof->held, ncap * sizeof(*n));

        if (n == NULL) {
            /* Cannot remember it: write now, then let it go. */
            store_aof_flush(st, 1);
            return;
        }
        aof->held = n;
        aof->held_cap = ncap;
    }
    ob_conn_hold_output(c->conn, 1);
    aof->held[aof->nheld++] = c;
    store_aof_arm(aof);
}


/* ---- feeding ------------------------------------------------------------------ */

static int
store_aof_reserve(struct store_aof_s *aof, size_t more)
{
    size_t  ncap;
    char   *n;

    if (aof->cap - aof->len >= more) {
        return OB_OK;
    }
    ncap = aof->cap ? aof->cap : 16 * 1024;
    while (ncap - aof->len < more) {
        ncap *= 2;
    }
    n = realloc(aof->buf, ncap);
    if (n == NULL) {
        return OB_ERR;
    }
    aof->buf = n;
    aof->cap = ncap;
    return OB_OK;
}


/* "*<n>\r\n" or "$<n>\r\n" at p (snprintf is a good part of the cost of
 * feeding small commands); returns the end. */
static char *
store_aof_put_head(char *p, char kind, size_t n)
{
    char    tmp[24];
    size_t  k = 0;

    do {
        tmp[k++] = (char) ('0' + n % 10);
        n /= 10;
    } while (n != 0);
    *p++ = kind;
    while (k > 0) {
        *p++ = tmp[--k];
    }
    *p++ = '\r';
    *p++ = '\n';
    return p;
}


static void
store_aof_put_argv(struct store_aof_s *aof, const ob_str_t *argv,
                   size_t argc)
{
    size_t  need = 24, i;
    char   *p;

    for (i = 0; i < argc; i++) {
        need += argv[i].len + 24;
    }
    if (store_aof_reserve(aof, need) != OB_OK) {
        /* The command is in the dataset but will never be in the file
         * (Redis aborts on this OOM): no client of this pass may be told
         * its write is safe, and writes are refused until a write of the
         * buffer works again. */
        ob_log_warning(&aof->st->cy->log, "Out of memory appending a "
                       "command to the AOF buffer: it is lost from the "
                       "AOF");
        aof->write_err = ENOMEM;
        aof->lost = 1;
        return;
    }
    p = aof->buf + aof->len;
    p = store_aof_put_head(p, '*', argc);
    for (i = 0; i < argc; i++) {
        p = store_aof_put_head(p, '$', argv[i].len);
        memcpy(p, argv[i].data, argv[i].len);
        p += argv[i].len;
        *p++ = '\r';
        *p++ = '\n';
    }
    aof->len = (size_t) (p - aof->buf);
}


/*
 * A blocked client served by another client's write (store_serve_ready)
 * gets its reply written by store_block.c at once, outside any batch of
 * its own: its command (LPOP for a BLPOP, LMOVE, ZPOPMIN, XCLAIM ...) is
 * being fed right now, while it runs with STORE_CLIENT_RETRY.  It waits
 * on the key that command names (argv[1], or argv[2] for XGROUP SETID):
 * found among that key's waiters, it is held like any other client, so
 * its reply too goes out only once the write is in the file.
 */
static void
store_aof_hold_served(store_t *st, int dbid, const ob_str_t *argv,
                      size_t argc)
{
    store_keyref_t  *ref;
    store_waiter_t  *w;
    size_t           i;

    for (i = 1; i < argc && i <= 2; i++) {
        ref = store_keyref_get(&st->blocking, dbid, argv[i].data,
                               argv[i].len, 0);
        if (ref == NULL) {
            continue;
        }
        for (w = ref->head; w != NULL; w = w->next) {
            if (w->c->flags & STORE_CLIENT_RETRY) {
                store_aof_hold_reply(st, w->c);
                return;
            }
        }
    }
}


int
store_aof_wants_feed(const store_t *st)
{
    const struct store_aof_s *aof = st->aof;

    /* While loading, the commands come from the AOF itself. */
    return aof != NULL && !st->loading && aof->fd >= 0
           && aof->state != STORE_AOF_OFF
           && !(aof->state == STORE_AOF_WAIT_REWRITE && !aof->rewriting);
}


void
store_aof_feed(store_t *st, int dbid, const ob_str_t *argv, size_t argc)
{
    struct store_aof_s *aof = st->aof;

    if (argc == 0 || !store_aof_wants_feed(st)) {
        return;
    }
    if (dbid != aof->sel_db) {
        char      num[16];
        ob_str_t  sel[2] = {
            { 6, (const uint8_t *) "SELECT" },
            { 0, (const uint8_t *) num }
        };

        sel[1].len = (size_t) snprintf(num, sizeof(num), "%d", dbid);
        store_aof_put_argv(aof, sel, 2);
        aof->sel_db = dbid;
    }
    store_aof_put_argv(aof, argv, argc);
    store_aof_arm(aof);
    if (st->serving_ready) {
        store_aof_hold_served(st, dbid, argv, argc);
    }
}


/* ---- writing ------------------------------------------------------------------ */

/* write(2) until everything is written or an error; the bytes written. */
static ssize_t
store_aof_write_all(int fd, const char *p, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return done > 0 ? (ssize_t) done : n;
        }
        done += (size_t) n;
    }
    return (ssize_t) done;
}


/*
 * Redis's flushAppendOnlyFile: writes the buffer, syncs by appendfsync,
 * releases the held replies.  force: write even if an everysec fsync is
 * still running (shutdown, a rewrite starting).
 */
static void
store_aof_flush(store_t *st, int force)
{
    struct store_aof_s *aof = st->aof;
    int64_t             now = store_aof_mono_ms();
    ssize_t             n;
    int                 e;

    if (aof == NULL) {
        return;
    }
    if (aof->fd < 0) {
        aof->len = 0;
        aof->failed_len = 0;
        store_aof_release(aof, 1);
        return;
    }
    if (aof->len == 0 && aof->lost) {
        /* What was lost was all there was: nothing to retry. */
        aof->lost = 0;
        aof->write_err = 0;
        store_aof_release(aof, 0);
        return;
    }
    if (aof->len == 0) {
        /* Nothing new; everysec still syncs what was written since the
         * last fsync once the second is over. */
        if (st->appendfsync == STORE_FSYNC_EVERYSEC
            && aof->fsync_offset != aof->cur_size
            && now - aof->last_fsync_ms >= STORE_AOF_FSYNC_MS
            && !store_aof_fsync_busy(aof))
        {
            store_aof_bg_fsync(aof, aof->fd, 0);
            aof->fsync_offset = aof->cur_size;
            aof->last_fsync_ms = now;
        }
        store_aof_release(aof, aof->write_err == 0 && aof->fsync_err == 0);
        return;
    }
    if (st->appendfsync == STORE_FSYNC_EVERYSEC && !force
        && store_aof_fsync_busy(aof))
    {
        if (aof->postponed_ms == 0) {
            aof->postponed_ms = now;
            return;
        }
        if (now - aof->postponed_ms < STORE_AOF_POSTPONE_MS) {
            return;             /* the cron comes back for it */
        }
        aof->delayed_fsync++;
        ob_log_notice(&st->cy->log, "Asynchronous AOF fsync is taking too "
                      "long (disk is busy?). Writing the AOF buffer "
                      "without waiting for fsync to complete, this may "
                      "slow down Redis.");
    }
    aof->postponed_ms = 0;

    n = store_aof_write_all(aof->fd, aof->buf, aof->len);
    if (n != (ssize_t) aof->len) {
        e = n < 0 ? errno : ENOSPC;
        if (n > 0) {
            /* A short write: cut the partial command off so the file
             * stays loadable, as Redis does; if the cut fails, the bytes
             * stay and leave the buffer. */
            if (ftruncate(aof->fd, aof->incr_size) != 0) {
                aof->incr_size += n;
                aof->cur_size += n;
                memmove(aof->buf, aof->buf + n, aof->len - (size_t) n);
                aof->len -= (size_t) n;
                aof->failed_len = 0;
            }
        }
        if (aof->write_err == 0 || aof->write_err != e) {
            ob_log_warning(&st->cy->log, "Error writing to the AOF file: "
                           "%s", strerror(e));
        }
        aof->write_err = e;
        aof->last_retry_ms = now;
        aof->failed_len = aof->len;
        /* Under always a reply promises the write is on disk: those
         * clients lose their connection instead (Redis exits there).
         * Under everysec and no, Redis replies and keeps the buffer for
         * the retry: so do we; new writes get MISCONF meanwhile. */
        store_aof_release(aof, st->appendfsync != STORE_FSYNC_ALWAYS);
        return;
    }
    if (aof->write_err != 0) {
        ob_log_warning(&st->cy->log, "AOF write error looks solved, Redis "
                       "can write again.");
        aof->write_err = 0;
    }
    aof->cur_size += n;
    aof->incr_size += n;
    if (aof->cap > STORE_AOF_BUF_KEEP) {
        free(aof->buf);
        aof->buf = NULL;
        aof->cap = 0;
    }
    aof->len = 0;
    aof->failed_len = 0;

    if (st->appendfsync == STORE_FSYNC_ALWAYS) {
        if (fdatasync(aof->fd) != 0) {
            e = errno;
            ob_log_warning(&st->cy->log, "Can't persist AOF for fsync "
                           "error when the AOF fsync policy is 'always': "
                           "%s.", strerror(e));
            aof->fsync_err = e;
            aof->last_retry_ms = now;
            store_aof_release(aof, 0);
            return;
        }
        aof->fsync_err = 0;
        aof->fsync_offset = aof->cur_size;
        aof->last_fsync_ms = now;
    } else if (st->appendfsync == STORE_FSYNC_EVERYSEC
               && now - aof->last_fsync_ms >= STORE_AOF_FSYNC_MS
               && !store_aof_fsync_busy(aof))
    {
        store_aof_bg_fsync(aof, aof->fd, 0);
        aof->fsync_offset = aof->cur_size;
        aof->last_fsync_ms = now;
    }
    store_aof_release(aof, aof->fsync_err == 0 && !aof->lost);
    aof->lost = 0;
}


/* ---- files --------------------------------------------------------------------- */

/* "<appendfilename>.<seq>.<kind>" */
static void
store_aof_name(store_t *st, char *buf, size_t cap, long long seq,
               const char *kind)
{
    snprintf(buf, cap, "%s.%lld.%s", st->appendfilename, seq, kind);
}


static const char *
store_aof_base_kind(store_t *st)
{
    return st->aof_use_rdb_preamble ? "base.rdb" : "base.aof";
}


/* Switches logging to fd (a new incr): the old one is synced and closed
 * by the thread, after any fsync of it already queued. */
static void
store_aof_switch_fd(struct store_aof_s *aof, int fd)
{
    if (aof->fd >= 0) {
        store_aof_bg_fsync(aof, aof->fd, 1);
    }
    aof->fd = fd;
    aof->incr_size = 0;
    aof->sel_db = -1;           /* a new incr begins with a SELECT */
    aof->fsync_offset = aof->cur_size;
}


/* The history files are deleted and dropped from the manifest. */
static void
store_aof_del_history(store_t *st)
{
    struct store_aof_s *aof = st->aof;
    ob_err_t            err;
    size_t              i;

    if (aof->m.nhist == 0) {
        return;
    }
    for (i = 0; i < aof->m.nhist; i++) {
        char *p = store_aof_path(aof, aof->m.hist[i].name);

        if (p != NULL) {
            ob_log_notice(&st->cy->log, "Removing the history file %s in "
                          "the background", aof->m.hist[i].name);
            store_aof_bg_unlink(aof, p);
        }
        free(aof->m.hist[i].name);
    }
    free(aof->m.hist);
    aof->m.hist = NULL;
    aof->m.nhist = 0;
    if (store_aof_manifest_persist(aof, &aof->m, &err) != OB_OK) {
        ob_log_warning(&st->cy->log, "%s", err.msg);
    }
}


/*
 * Writes the base of a dataset to fd: an RDB marked aof-base (the
 * preamble), or RESP commands that rebuild it (aof-use-rdb-preamble no).
 * A RESP base that meets a value of a type it does not know starts over
 * as an RDB: the loaders (ours, Redis's, redis-check-aof) tell the two
 * apart by the "REDIS" signature, not by the name.
 */
int
store_aof_write_base(store_t *st, int fd, ob_err_t *err)
{
    store_rdb_save_opts_t  o;
    int                    rc;

    store_save_rdb_opts(st, &o);
    o.aof_base = 1;
    o.now_ms = st->now_ms;
    o.repl_id = NULL;
    if (!st->aof_use_rdb_preamble) {
        rc = store_aof_write_resp_base(st, fd, err);
        if (rc != OB_DECLINED) {
            return rc;
        }
        if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
            return ob_err_set(err, "AOF base: %s", strerror(errno));
        }
    }
    return store_rdb_save_fd(st->dbs, fd, &o, NULL, err);
}


/* A base written here and now (start-up with no AOF yet), renamed into
 * place once complete. */
static int
store_aof_write_base_file(store_t *st, const char *name, ob_err_t *err)
{
    struct store_aof_s *aof = st->aof;
    char                tmpname[512], *tmp, *path;
    int                 fd, rc;

    snprintf(tmpname, sizeof(tmpname), "temp-rewriteaof-%d.aof",
             (int) getpid());
    tmp = store_aof_path(aof, tmpname);
    path = store_aof_path(aof, name);
    if (tmp == NULL || path == NULL) {
        free(tmp);
        free(path);
        return ob_err_set(err, "out of memory");
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        ob_err_set(err, "Opening the temp file for AOF rewrite in "
                   "rewriteAppendOnlyFile(): %s", strerror(errno));
        free(tmp);
        free(path);
        return OB_ERR;
    }
    rc = store_aof_write_base(st, fd, err);
    if (rc == OB_OK && fsync(fd) != 0) {
        rc = ob_err_set(err, "fsync of the AOF base: %s", strerror(errno));
    }
    close(fd);
    if (rc == OB_OK && rename(tmp, path) != 0) {
        rc = ob_err_set(err, "Error moving temp append only file on the "
                        "final destination: %s", strerror(errno));
    }
    if (rc != OB_OK) {
        unlink(tmp);
    }
    free(tmp);
    free(path);
    return rc;
}


static int
store_aof_open_incr(struct store_aof_s *aof, const char *name, int trunc,
                    ob_err_t *err)
{
    char *path = store_aof_path(aof, name);
    int   fd;

    if (path == NULL) {
        ob_err_set(err, "out of memory");
        return -1;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | (trunc ? O_TRUNC : 0),
              0644);
    if (fd < 0) {
        ob_err_set(err, "Can't open the append-only file %s: %s", name,
                   strerror(errno));
    }
    free(path);
    return fd;
}


static off_t
store_aof_files_size(struct store_aof_s *aof, off_t *last_incr)
{
    off_t   total = 0, sz = 0;
    size_t  i;
    char   *p;

    if (aof->m.base != NULL && (p = store_aof_path(aof, aof->m.base->name))
        != NULL)
    {
        total += store_aof_file_size(p);
        free(p);
    }
    for (i = 0; i < aof->m.nincr; i++) {
        if ((p = store_aof_path(aof, aof->m.incr[i].name)) != NULL) {
            sz = store_aof_file_size(p);
            total += sz;
            free(p);
        }
    }
    if (last_incr != NULL) {
        *last_incr = sz;
    }
    return total;
}


/*
 * Redis's aofOpenIfNeededOnServerStart: with no AOF yet, a base of the
 * dataset just loaded; then the last incr (a new one if none) opened for
 * appending, and the manifest written.
 */
int
store_aof_start(store_t *st, ob_err_t *err)
{
    struct store_aof_s *aof = st->aof;
    char                name[512];
    struct stat         sb;

    if (aof == NULL || !st->appendonly) {
        return OB_OK;
    }
    if (stat(aof->dirpath, &sb) != 0 && mkdir(aof->dirpath, 0755) != 0) {
        return ob_err_set(err, "Can't open or create append-only dir %s: "
                          "%s", aof->dirpath, strerror(errno));
    }
    if (aof->m.base == NULL && aof->m.nincr == 0) {
        store_aof_name(st, name, sizeof(name), aof->m.base_seq + 1,
                       store_aof_base_kind(st));
        if (store_aof_write_base_file(st, name, err) != OB_OK) {
            return OB_ERR;
        }
        aof->m.base = calloc(1, sizeof(*aof->m.base));
        if (aof->m.base == NULL
            || (aof->m.base->name = strdup(name)) == NULL)
        {
            return ob_err_set(err, "out of memory");
        }
        aof->m.base->seq = ++aof->m.base_seq;
        aof->m.base->type = 'b';
        ob_log_notice(&st->cy->log, "Creating AOF base file %s on server "
                      "start", name);
    }
    if (aof->m.nincr == 0) {
        store_aof_name(st, name, sizeof(name), aof->m.incr_seq + 1,
                       "incr.aof");
        if (store_aof_manifest_add(&aof->m.incr, &aof->m.nincr, name,
                                   aof->m.incr_seq + 1, 'i') != OB_OK)
        {
            return ob_err_set(err, "out of memory");
        }
        aof->m.incr_seq++;
        ob_log_notice(&st->cy->log, "Creating AOF incr file %s on server "
                      "start", name);
    }
    aof->fd = store_aof_open_incr(aof, aof->m.incr[aof->m.nincr - 1].name,
                                  0, err);
    if (aof->fd < 0) {
        return OB_ERR;
    }
    if (store_aof_manifest_persist(aof, &aof->m, err) != OB_OK) {
        return OB_ERR;
    }
    aof->cur_size = store_aof_files_size(aof, &aof->incr_size);
    aof->base_size = aof->cur_size;
    aof->fsync_offset = aof->cur_size;
    aof->sel_db = -1;
    aof->state = STORE_AOF_ON;
    store_aof_del_history(st);
    return OB_OK;
}


/* ---- rewrites ------------------------------------------------------------------ */

/* In the child: the new base into the temp file. */
static int
store_aof_child(store_t *st, void *arg)
{
    const char *tmp = arg;
    ob_err_t    err;
    int         fd, rc;

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        return 1;
    }
    rc = store_aof_write_base(st, fd, &err);
    if (rc == OB_OK && fsync(fd) != 0) {
        rc = OB_ERR;
    }
    close(fd);
    return rc == OB_OK ? 0 : 1;
}


static void
store_aof_rewrite_failed(store_t *st)
{
    struct store_aof_s *aof = st->aof;

    aof->last_rewrite_ok = 0;
    aof->consecutive_fail++;
    if (aof->child_tmp != NULL) {
        unlink(aof->child_tmp);
    }
    if (aof->state == STORE_AOF_WAIT_REWRITE) {
        /* Enabling must still happen: drop the temp incr and try again
         * from the cron, as Redis does. */
        if (aof->fd >= 0) {
            store_aof_bg_fsync(aof, aof->fd, 1);
            aof->fd = -1;
        }
        if (aof->tmp_incr != NULL) {
            unlink(aof->tmp_incr);
        }
        aof->len = 0;
        aof->failed_len = 0;
        aof->scheduled = 1;
    }
}


/* Redis's backgroundRewriteDoneHandler. */
static void
store_aof_rewrite_done(store_t *st, int ok, size_t cow, void *arg)
{
    struct store_aof_s   *aof = st->aof;
    store_aof_manifest_t  m;
    ob_err_t              err;
    char                  name[512], *base_path = NULL, *incr_path = NULL;
    size_t                i;

    (void) arg;
    if (aof == NULL) {
        return;
    }
    aof->rewriting = 0;
    aof->last_cow = cow;
    aof->last_rewrite_sec = (st->now_ms - aof->rewrite_start_ms) / 1000;
    aof->rewrite_start_ms = 0;
    if (!ok) {
        ob_log_warning(&st->cy->log, "Background AOF rewrite terminated "
                       "with error");
        store_aof_rewrite_failed(st);
        goto out;
    }
    /* Everything written to the old incr before the switch is in the
     * new base: flush what the buffer holds first. */
    store_aof_flush(st, 1);
    if (store_aof_manifest_dup(&aof->m, &m) != OB_OK) {
        ob_log_warning(&st->cy->log, "Background AOF rewrite: out of "
                       "memory");
        store_aof_rewrite_failed(st);
        goto out;
    }
    store_aof_name(st, name, sizeof(name), m.base_seq + 1,
                   store_aof_base_kind(st));
    if (m.base != NULL) {
        m.base->type = 'h';
        (void) store_aof_manifest_add(&m.hist, &m.nhist, m.base->name,
                                      m.base->seq, 'h');
        free(m.base->name);
        free(m.base);
    }
    m.base = calloc(1, sizeof(*m.base));
    if (m.base != NULL) {
        m.base->name = strdup(name);
        m.base->seq = ++m.base_seq;
        m.base->type = 'b';
    }
    base_path = store_aof_path(aof, name);
    if (aof->state == STORE_AOF_WAIT_REWRITE) {
        /* Every incr listed so far is older than the base; the temp
         * incr becomes the one incr. */
        for (i = 0; i < m.nincr; i++) {
            (void) store_aof_manifest_add(&m.hist, &m.nhist, m.incr[i].name,
                                          m.incr[i].seq, 'h');
            free(m.incr[i].name);
        }
        m.nincr = 0;
        store_aof_name(st, name, sizeof(name), m.incr_seq + 1, "incr.aof");
        (void) store_aof_manifest_add(&m.incr, &m.nincr, name,
                                      m.incr_seq + 1, 'i');
        m.incr_seq++;
        incr_path = store_aof_path(aof, name);
    } else if (m.nincr > 1) {
        /* All but the incr opened when the rewrite began. */
        for (i = 0; i + 1 < m.nincr; i++) {
            (void) store_aof_manifest_add(&m.hist, &m.nhist, m.incr[i].name,
                                          m.incr[i].seq, 'h');
            free(m.incr[i].name);
        }
        m.incr[0] = m.incr[m.nincr - 1];
        m.nincr = 1;
    }
    if (m.base == NULL || m.base->name == NULL || base_path == NULL
        || (aof->state == STORE_AOF_WAIT_REWRITE && incr_path == NULL))
    {
        ob_log_warning(&st->cy->log, "Background AOF rewrite: out of "
                       "memory");
        goto fail;
    }
    ob_log_notice(&st->cy->log, "Background AOF rewrite terminated with "
                  "success");
    if (rename(aof->child_tmp, base_path) != 0) {
        ob_log_warning(&st->cy->log, "Error trying to rename the temporary "
                       "AOF file %s into %s: %s", aof->child_tmp, name,
                       strerror(errno));
        goto fail;
    }
    ob_log_notice(&st->cy->log, "Successfully renamed the temporary AOF "
                  "base file %s into %s", strrchr(aof->child_tmp, '/') + 1,
                  m.base->name);
    if (incr_path != NULL && rename(aof->tmp_incr, incr_path) != 0) {
        ob_log_warning(&st->cy->log, "Error trying to rename the temporary "
                       "AOF incr file into %s: %s", incr_path,
                       strerror(errno));
        unlink(base_path);
        goto fail;
    }
    store_aof_fsync_dir(aof->dirpath);
    if (store_aof_manifest_persist(aof, &m, &err) != OB_OK) {
        ob_log_warning(&st->cy->log, "%s", err.msg);
        unlink(base_path);
        if (incr_path != NULL) {
            (void) rename(incr_path, aof->tmp_incr);
        }
        goto fail;
    }
    store_aof_manifest_free(&aof->m);
    aof->m = m;
    if (aof->state != STORE_AOF_OFF) {
        /* (BGREWRITEAOF with appendonly no only makes a new base.) */
        aof->state = STORE_AOF_ON;
        aof->cur_size = store_aof_file_size(base_path) + aof->incr_size;
        aof->base_size = aof->cur_size;
    }
    aof->last_rewrite_ok = 1;
    aof->consecutive_fail = 0;
    if (incr_path != NULL) {
        ob_log_notice(&st->cy->log, "Successfully renamed the temporary "
                      "AOF incr file %s into %s",
                      strrchr(aof->tmp_incr, '/') + 1,
                      strrchr(incr_path, '/') + 1);
    }
    free(base_path);
    free(incr_path);
    store_aof_del_history(st);
    ob_log_notice(&st->cy->log, "Background AOF rewrite finished "
                  "successfully");
    goto out;

fail:
    store_aof_manifest_free(&m);
    free(base_path);
    free(incr_path);
    store_aof_rewrite_failed(st);

out:
    free(aof->child_tmp);
    aof->child_tmp = NULL;
    free(aof->tmp_incr);
    aof->tmp_incr = NULL;
}


/*
 * Redis's rewriteAppendOnlyFileBackground: the new incr first (listed in
 * the manifest at once, so what is written from now on survives whatever
 * happens to the rewrite), then the child.
 */
static int
store_aof_rewrite_start(store_t *st, ob_err_t *err)
{
    struct store_aof_s   *aof = st->aof;
    store_aof_manifest_t  m;
    char                  name[512];
    int                   fd, rc;

    if (store_child_running(st) != STORE_CHILD_NONE) {
        return ob_err_set(err, "a child process is already running");
    }
    if (mkdir(aof->dirpath, 0755) != 0 && errno != EEXIST) {
        return ob_err_set(err, "Can't open or create append-only dir %s: "
                          "%s", aof->dirpath, strerror(errno));
    }
    store_aof_flush(st, 1);
    if (aof->state == STORE_AOF_ON) {
        if (store_aof_manifest_dup(&aof->m, &m) != OB_OK) {
            return ob_err_set(err, "out of memory");
        }
        store_aof_name(st, name, sizeof(name), m.incr_seq + 1, "incr.aof");
        if (store_aof_manifest_add(&m.incr, &m.nincr, name, m.incr_seq + 1,
                                   'i') != OB_OK)
        {
            store_aof_manifest_free(&m);
            return ob_err_set(err, "out of memory");
        }
        m.incr_seq++;
        fd = store_aof_open_incr(aof, name, 1, err);
        if (fd < 0) {
            store_aof_manifest_free(&m);
            return OB_ERR;
        }
        if (store_aof_manifest_persist(aof, &m, err) != OB_OK) {
            char *p = store_aof_path(aof, name);

            close(fd);
            if (p != NULL) {
                unlink(p);
            }
            free(p);
            store_aof_manifest_free(&m);
            return OB_ERR;
        }
        store_aof_manifest_free(&aof->m);
        aof->m = m;
        store_aof_switch_fd(aof, fd);
        ob_log_notice(&st->cy->log, "Creating AOF incr file %s on "
                      "background rewrite", name);
    } else if (aof->state == STORE_AOF_WAIT_REWRITE) {
        snprintf(name, sizeof(name), "temp-%s.incr", st->appendfilename);
        free(aof->tmp_incr);
        aof->tmp_incr = store_aof_path(aof, name);
        if (aof->tmp_incr == NULL) {
            return ob_err_set(err, "out of memory");
        }
        fd = store_aof_open_incr(aof, name, 1, err);
        if (fd < 0) {
            return OB_ERR;
        }
        store_aof_switch_fd(aof, fd);
    }
    free(aof->child_tmp);
    aof->child_tmp = malloc(strlen(st->dir) + 64);
    if (aof->child_tmp == NULL) {
        return ob_err_set(err, "out of memory");
    }
    sprintf(aof->child_tmp, "%s/temp-rewriteaof-bg-%d.aof", st->dir,
            (int) getpid());
    aof->scheduled = 0;
    aof->rewriting = 1;
    aof->rewrite_start_ms = st->now_ms;
    rc = store_child_start(st, STORE_CHILD_AOF, store_aof_child,
                           store_aof_rewrite_done, aof->child_tmp, err);
    if (rc != OB_OK) {
        aof->rewriting = 0;
        aof->rewrite_start_ms = 0;
        aof->last_rewrite_ok = 0;
        ob_log_warning(&st->cy->log, "Can't rewrite append only file in "
                       "background: fork: %s", err->msg);
        if (aof->state == STORE_AOF_WAIT_REWRITE) {
            store_aof_rewrite_failed(st);
            aof->scheduled = 0;
        }
        return OB_ERR;
    }
    aof->rewrites++;
    ob_log_notice(&st->cy->log, "Background append only file rewriting "
                  "started by pid %d", (int) store_child_pid(st));
    return OB_OK;
}


static void
store_cmd_bgrewriteaof(store_client_t *c)
{
    store_t   *st = c->st;
    ob_err_t   err;

    if (st->aof != NULL && st->aof->rewriting) {
        store_add_err(c, "ERR Background append only file rewriting "
                      "already in progress");
        return;
    }
    if (store_child_running(st) != STORE_CHILD_NONE
        || (c->flags & STORE_CLIENT_IN_EXEC))
    {
        st->aof->scheduled = 1;
        store_reply_simple(&c->r, "Background append only file rewriting "
                           "scheduled", 47);
        return;
    }
    if (store_aof_rewrite_start(st, &err) != OB_OK) {
        store_add_err(c, "ERR Can't execute an AOF background rewriting. "
                      "Please check the server logs for more information.");
        return;
    }
    store_reply_simple(&c->r, "Background append only file rewriting "
                       "started", 45);
}


const store_cmd_t store_cmds_aof[] = {
    { .base = { .name = "bgrewriteaof", .arity_min = 1, .arity_max = 1,
                .flags = OB_CMD_ADMIN | STORE_CMD_NOSCRIPT
                         | STORE_CMD_NO_ASYNC_LOADING },
      .handler = store_cmd_bgrewriteaof, .keys = { 0, 0, 0 },
      .acl = "@admin @slow @dangerous" },
    { .base = { .name = NULL } }
};


/* ---- enabling, disabling ----------------------------------------------------- */

/* Redis's stopAppendOnly: the buffer written and synced, the file
 * closed, a rewrite of ours killed. */
static void
store_aof_stop_logging(store_t *st)
{
    struct store_aof_s *aof = st->aof;

    store_aof_flush(st, 1);
    if (aof->fd >= 0) {
        (void) fdatasync(aof->fd);
        store_aof_bg_fsync(aof, aof->fd, 1);
        aof->fd = -1;
    }
    if (aof->rewriting) {
        ob_log_notice(&st->cy->log, "Killing running AOF rewrite child: %d",
                      (int) store_child_pid(st));
        store_child_kill(st);
    }
    aof->len = 0;
    aof->failed_len = 0;
    aof->write_err = 0;
    aof->fsync_err = 0;
    aof->scheduled = 0;
    aof->state = STORE_AOF_OFF;
    store_aof_release(aof, 1);
}


const char *
store_aof_set_enabled(store_t *st, int on)
{
    struct store_aof_s *aof = st->aof;
    ob_err_t            err;

    if (aof == NULL) {
        return "the append only file is not available";
    }
    if (!on) {
        if (aof->state != STORE_AOF_OFF) {
            store_aof_stop_logging(st);
        }
        st->appendonly = 0;
        return NULL;
    }
    if (aof->state != STORE_AOF_OFF) {
        st->appendonly = 1;
        return NULL;
    }
    /* The manifest on disk (if any) gives the sequence numbers to go on
     * from. */
    if (mkdir(aof->dirpath, 0755) != 0 && errno != EEXIST) {
        return "Can't open or create append-only dir";
    }
    if (store_aof_manifest_load(aof, &err) != OB_OK) {
        ob_log_warning(&st->cy->log, "%s", err.msg);
        store_aof_manifest_free(&aof->m);
    }
    aof->state = STORE_AOF_WAIT_REWRITE;
    if (aof->rewriting) {
        ob_log_notice(&st->cy->log, "AOF was enabled but there is already "
                      "an AOF rewriting in background. Stopping background "
                      "AOF and starting a rewrite now.");
        store_child_kill(st);
    }
    if (store_child_running(st) != STORE_CHILD_NONE) {
        ob_log_notice(&st->cy->log, "AOF was enabled but there is already "
                      "another background operation. An AOF background "
                      "was scheduled to start when possible.");
        aof->scheduled = 1;
    } else if (store_aof_rewrite_start(st, &err) != OB_OK) {
        aof->state = STORE_AOF_OFF;
        ob_log_warning(&st->cy->log, "Redis needs to enable the AOF but "
                       "can't trigger a background AOF rewrite operation. "
                       "Check the above logs for more info about the "
                       "error.");
        return "Redis needs to enable the AOF but can't trigger a "
               "background AOF rewrite operation. Check the above logs "
               "for more info about the error.";
    }
    aof->last_fsync_ms = store_aof_mono_ms();
    st->appendonly = 1;
    return NULL;
}


void
store_aof_dataset_replaced(store_t *st)
{
    struct store_aof_s *aof = st->aof;

    if (aof == NULL || aof->state == STORE_AOF_OFF) {
        return;
    }
    /* What follows the old dataset means nothing for the new one: stop,
     * and start over with a rewrite once the load is done (the cron). */
    store_aof_stop_logging(st);
    aof->restart = 1;
}


/* ---- the cron, INFO, life cycle ---------------------------------------------- */

/*
 * Redis's aofRewriteLimited: after 3 failed rewrites in a row, the
 * automatic and scheduled ones wait 1 minute, then 2, 4 ... up to an
 * hour, so a full disk does not fork a child every tick.  BGREWRITEAOF
 * itself is never limited.
 */
static int
store_aof_rewrite_limited(store_t *st)
{
    struct store_aof_s *aof = st->aof;
    int64_t             now = st->now_ms / 1000;

    if (aof->consecutive_fail < 3) {
        aof->limit_delay_min = 0;
        aof->limit_until = 0;
        return 0;
    }
    if (aof->limit_until != 0) {
        if (now < aof->limit_until) {
            return 1;
        }
        aof->limit_until = 0;
        return 0;
    }
    aof->limit_delay_min = aof->limit_delay_min == 0
                           ? 1 : aof->limit_delay_min * 2;
    if (aof->limit_delay_min > 60) {
        aof->limit_delay_min = 60;
    }
    aof->limit_until = now + aof->limit_delay_min * 60;
    ob_log_warning(&st->cy->log, "Background AOF rewrite has repeatedly "
                   "failed and triggered the limit, will retry in %d "
                   "minutes", aof->limit_delay_min);
    return 1;
}


void
store_aof_cron(store_t *st)
{
    struct store_aof_s *aof = st->aof;
    int64_t             now = store_aof_mono_ms();
    ob_err_t            err;

    if (aof == NULL) {
        return;
    }
    if (aof->restart && !st->loading) {
        aof->restart = 0;
        if (st->appendonly) {
            st->appendonly = 0;
            (void) store_aof_set_enabled(st, 1);
        }
    }
    /* A write postponed behind a slow fsync, an everysec fsync due, and
     * (once a second) the retry of a failed write or fsync. */
    if (aof->state != STORE_AOF_OFF) {
        if (aof->write_err != 0 || aof->fsync_err != 0) {
            if (now - aof->last_retry_ms >= STORE_AOF_RETRY_MS) {
                aof->last_retry_ms = now;
                if (aof->write_err == 0 && aof->fsync_err != 0
                    && aof->fd >= 0)
                {
                    if (fdatasync(aof->fd) == 0) {
                        ob_log_warning(&st->cy->log, "AOF write error "
                                       "looks solved, Redis can write "
                                       "again.");
                        aof->fsync_err = 0;
                        aof->fsync_offset = aof->cur_size;
                    } else {
                        aof->fsync_err = errno;
                    }
                }
                if (aof->write_err != 0) {
                    store_aof_flush(st, 0);
                }
            }
        } else if (aof->len > 0 || st->appendfsync == STORE_FSYNC_EVERYSEC)
        {
            store_aof_flush(st, 0);
        }
        if (store_aof_thread_err(aof) != 0 && !store_aof_fsync_busy(aof)
            && aof->fd >= 0 && now - aof->last_fsync_ms >= STORE_AOF_RETRY_MS)
        {
            /* everysec's fsync failed: try again; success clears it. */
            store_aof_bg_fsync(aof, aof->fd, 0);
            aof->last_fsync_ms = now;
        }
    }
    if (aof->rewriting || store_child_running(st) != STORE_CHILD_NONE
        || store_aof_rewrite_limited(st))
    {
        return;
    }
    if (aof->scheduled && aof->state != STORE_AOF_OFF) {
        if (store_aof_rewrite_start(st, &err) != OB_OK) {
            aof->scheduled = 1;
        }
        return;
    }
    if (aof->scheduled && aof->state == STORE_AOF_OFF) {
        /* BGREWRITEAOF while another child ran, appendonly no. */
        if (store_aof_rewrite_start(st, &err) != OB_OK) {
            aof->scheduled = 0;
        }
        return;
    }
    if (aof->state == STORE_AOF_ON && st->auto_aof_rewrite_percentage > 0
        && aof->cur_size > st->auto_aof_rewrite_min_size)
    {
        long long base = aof->base_size > 0 ? (long long) aof->base_size : 1;
        long long growth = (long long) aof->cur_size * 100 / base - 100;

        if (growth >= st->auto_aof_rewrite_percentage) {
            ob_log_notice(&st->cy->log, "Starting automatic rewriting of "
                          "AOF on %lld%% growth", growth);
            (void) store_aof_rewrite_start(st, &err);
        }
    }
}


void
store_aof_info(store_t *st, store_text_t *t)
{
    struct store_aof_s *aof = st->aof;
    int                 on = aof != NULL && aof->state != STORE_AOF_OFF;
    int                 werr;

    if (aof == NULL) {
        return;
    }
    werr = aof->write_err != 0 || aof->fsync_err != 0
           || store_aof_thread_err(aof) != 0;
    store_text_add(t, "aof_enabled:%d\r\naof_rewrite_in_progress:%d\r\n"
        "aof_rewrite_scheduled:%d\r\naof_last_rewrite_time_sec:%lld\r\n"
        "aof_current_rewrite_time_sec:%lld\r\n"
        "aof_last_bgrewrite_status:%s\r\naof_rewrites:%llu\r\n"
        "aof_rewrites_consecutive_failures:%llu\r\n"
        "aof_last_write_status:%s\r\naof_last_cow_size:%zu\r\n"
        "module_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
        on, aof->rewriting, aof->scheduled, aof->last_rewrite_sec,
        aof->rewriting
            ? (long long) ((st->now_ms - aof->rewrite_start_ms) / 1000)
            : -1LL,
        aof->last_rewrite_ok ? "ok" : "err",
        (unsigned long long) aof->rewrites,
        (unsigned long long) aof->consecutive_fail,
        werr ? "err" : "ok", aof->last_cow);
    if (on) {
        store_text_add(t, "aof_current_size:%lld\r\naof_base_size:%lld\r\n"
            "aof_pending_rewrite:%d\r\naof_buffer_length:%zu\r\n"
            "aof_pending_bio_fsync:%d\r\naof_delayed_fsync:%llu\r\n",
            (long long) aof->cur_size, (long long) aof->base_size,
            aof->scheduled, aof->len, store_aof_fsync_busy(aof),
            (unsigned long long) aof->delayed_fsync);
    }
}


int
store_aof_init(store_t *st, ob_err_t *err)
{
    struct store_aof_s *aof;
    size_t              n;

    /* A file-size limit makes write(2) fail with EFBIG (a write error
     * we report) instead of killing the process. */
    signal(SIGXFSZ, SIG_IGN);
    aof = calloc(1, sizeof(*aof));
    if (aof == NULL) {
        return ob_err_set(err, "store: out of memory");
    }
    aof->st = st;
    aof->fd = -1;
    aof->sel_db = -1;
    aof->last_rewrite_sec = -1;
    aof->last_rewrite_ok = 1;
    st->aof = aof;
    pthread_mutex_init(&aof->mu, NULL);
    pthread_cond_init(&aof->cv, NULL);
    n = strlen(st->dir) + strlen(st->appenddirname) + 2;
    aof->dirpath = malloc(n);
    if (aof->dirpath == NULL) {
        return ob_err_set(err, "store: out of memory");
    }
    snprintf(aof->dirpath, n, "%s/%s", st->dir, st->appenddirname);
    aof->flush_ev = event_new(st->cy->base, -1, 0, store_aof_flush_cb, st);
    if (aof->flush_ev == NULL) {
        return ob_err_set(err, "store: cannot create the AOF flush event");
    }
    if (pthread_create(&aof->thr, NULL, store_aof_thread, aof) != 0) {
        return ob_err_set(err, "store: cannot start the AOF fsync thread");
    }
    aof->thr_started = 1;
    aof->last_fsync_ms = store_aof_mono_ms();
    return OB_OK;
}


void
store_aof_stop(store_t *st)
{
    struct store_aof_s *aof = st->aof;

    if (aof == NULL || aof->state == STORE_AOF_OFF) {
        return;
    }
    if (aof->rewriting) {
        store_child_kill(st);
    }
    store_aof_flush(st, 1);
    if (aof->fd >= 0 && fdatasync(aof->fd) != 0) {
        ob_log_warning(&st->cy->log, "Error fsyncing the AOF file on "
                       "shutdown: %s", strerror(errno));
    }
}


void
store_aof_fini(store_t *st)
{
    struct store_aof_s *aof = st->aof;
    store_aof_job_t    *j;

    if (aof == NULL) {
        return;
    }
    if (aof->thr_started) {
        pthread_mutex_lock(&aof->mu);
        aof->thr_stop = 1;
        pthread_cond_signal(&aof->cv);
        pthread_mutex_unlock(&aof->mu);
        pthread_join(aof->thr, NULL);
    }
    while ((j = aof->jobs) != NULL) {
        aof->jobs = j->next;
        if (j->close) {
            close(j->fd);
        }
        free(j->path);
        free(j);
    }
    if (aof->fd >= 0) {
        close(aof->fd);
    }
    if (aof->flush_ev != NULL) {
        event_free(aof->flush_ev);
    }
    pthread_mutex_destroy(&aof->mu);
    pthread_cond_destroy(&aof->cv);
    store_aof_manifest_free(&aof->m);
    free(aof->dirpath);
    free(aof->buf);
    free(aof->held);
    free(aof->child_tmp);
    free(aof->tmp_incr);
    free(aof);
    st->aof = NULL;
}


/* ---- the RESP base (aof-use-rdb-preamble no) ----------------------------------- */

/*
 * Redis's rewriteAppendOnlyFileRio: per database a SELECT, then per key
 * the commands that rebuild it (SET, RPUSH, SADD, ZADD, HMSET, at most 64
 * elements a command, AOF_REWRITE_ITEMS_PER_CMD; streams as below) and a
 * PEXPIREAT for a TTL.  A type it does not know makes the caller write an
 * RDB instead (OB_DECLINED).  It runs in the forked child (or at
 * start-up), on a snapshot nobody changes.
 */
#define STORE_AOF_ITEMS_PER_CMD  64

typedef struct store_aof_out_s {
    int        fd;
    char       buf[64 * 1024];
    size_t     len;
    int        err_no;
    int        declined;        /* a stream was met */
    store_t   *st;
    store_db_t *db;
    int        db_written;
} store_aof_out_t;


static void
store_aof_out_flush(store_aof_out_t *o)
{
    if (o->len > 0 && o->err_no == 0
        && store_aof_write_all(o->fd, o->buf, o->len) != (ssize_t) o->len)
    {
        o->err_no = errno != 0 ? errno : EIO;
    }
    o->len = 0;
}


static void
store_aof_out_put(store_aof_out_t *o, const void *p, size_t n)
{
    if (n > sizeof(o->buf) - o->len) {
        store_aof_out_flush(o);
        if (n > sizeof(o->buf)) {
            if (o->err_no == 0
                && store_aof_write_all(o->fd, p, n) != (ssize_t) n)
            {
                o->err_no = errno != 0 ? errno : EIO;
            }
            return;
        }
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}


static void
store_aof_out_head(store_aof_out_t *o, char kind, size_t n)
{
    char  h[32];
    int   k = snprintf(h, sizeof(h), "%c%zu\r\n", kind, n);

    store_aof_out_put(o, h, (size_t) k);
}


static void
store_aof_out_bulk(store_aof_out_t *o, const void *p, size_t n)
{
    store_aof_out_head(o, '$', n);
    store_aof_out_put(o, p, n);
    store_aof_out_put(o, "\r\n", 2);
}


static void
store_aof_out_str(store_aof_out_t *o, const char *s)
{
    store_aof_out_bulk(o, s, strlen(s));
}


/* The head of a command of `items` elements (of `per` arguments each)
 * after name and key. */
static void
store_aof_out_cmd(store_aof_out_t *o, const char *name,
                  const store_entry_t *e, size_t items, size_t per)
{
    store_aof_out_head(o, '*', 2 + items * per);
    store_aof_out_str(o, name);
    store_aof_out_bulk(o, e->key, e->nkey);
}


typedef struct store_aof_hv_s {
    store_aof_out_t      *o;
    const store_entry_t  *e;
    size_t                left, batch;
} store_aof_hv_t;


static void
store_aof_hash_visit(void *arg, const uint8_t *f, size_t nf,
                     const uint8_t *v, size_t nv)
{
    store_aof_hv_t *h = arg;

    if (h->batch == 0) {
        h->batch = h->left < STORE_AOF_ITEMS_PER_CMD
                   ? h->left : STORE_AOF_ITEMS_PER_CMD;
        store_aof_out_cmd(h->o, "HMSET", h->e, h->batch, 2);
    }
    store_aof_out_bulk(h->o, f, nf);
    store_aof_out_bulk(h->o, v, nv);
    h->batch--;
    h->left--;
}


static void
store_aof_out_id(store_aof_out_t *o, const store_sid_t *id)
{
    char  buf[STORE_SID_MAX];

    store_aof_out_bulk(o, buf, store_sid_format(id, buf));
}


static void
store_aof_out_ll(store_aof_out_t *o, long long v)
{
    char  buf[24];

    store_aof_out_bulk(o, buf, (size_t) snprintf(buf, sizeof(buf), "%lld",
                                                  v));
}


/*
 * Redis's rewriteStreamObject: XADD per entry (or XADD MAXLEN 0 0-1 x y
 * for an empty stream), XSETID with the last ID, ENTRIESADDED and
 * MAXDELETEDID; per group XGROUP CREATE ... ENTRIESREAD, then per
 * consumer an XCLAIM ... TIME RETRYCOUNT JUSTID FORCE for each pending
 * entry, or XGROUP CREATECONSUMER when it has none.
 */
static void
store_aof_out_stream(store_aof_out_t *o, const store_entry_t *e,
                     const store_stream_t *s)
{
    store_stream_iter_t  it;
    store_sentry_t       se;
    store_spairs_t       pairs;
    store_sid_t          lo = { 0, 0 }, hi = { UINT64_MAX, UINT64_MAX };
    const uint8_t       *f, *v;
    size_t               nf, nv, i, g, k;

    if (s->length > 0) {
        store_stream_iter_start(s, &it, &lo, &hi, 0);
        while (store_stream_iter_next(&it, &se)) {
            store_aof_out_head(o, '*', 3 + se.nfields * 2);
            store_aof_out_str(o, "XADD");
            store_aof_out_bulk(o, e->key, e->nkey);
            store_aof_out_id(o, &se.id);
            store_sentry_pairs(&se, &pairs);
            for (i = 0; i < se.nfields; i++) {
                store_spairs_next(&pairs, &f, &nf, &v, &nv);
                store_aof_out_bulk(o, f, nf);
                store_aof_out_bulk(o, v, nv);
            }
        }
    } else {
        store_aof_out_cmd(o, "XADD", e, 5, 1);
        store_aof_out_str(o, "MAXLEN");
        store_aof_out_str(o, "0");
        store_aof_out_str(o, "0-1");
        store_aof_out_str(o, "x");
        store_aof_out_str(o, "y");
    }
    store_aof_out_cmd(o, "XSETID", e, 5, 1);
    store_aof_out_id(o, &s->last_id);
    store_aof_out_str(o, "ENTRIESADDED");
    store_aof_out_ll(o, (long long) s->entries_added);
    store_aof_out_str(o, "MAXDELETEDID");
    store_aof_out_id(o, &s->max_deleted);

    for (g = 0; g < s->ngroups; g++) {
        const store_sgroup_t *grp = s->groups[g];

        store_aof_out_head(o, '*', 7);
        store_aof_out_str(o, "XGROUP");
        store_aof_out_str(o, "CREATE");
        store_aof_out_bulk(o, e->key, e->nkey);
        store_aof_out_bulk(o, grp->name, grp->nname);
        store_aof_out_id(o, &grp->last_id);
        store_aof_out_str(o, "ENTRIESREAD");
        store_aof_out_ll(o, grp->entries_read);
        for (k = 0; k < grp->nconsumers; k++) {
            const store_sconsumer_t *cons = grp->consumers[k];
            store_smap_iter_t        mi;
            store_sid_t              id;
            void                    *val;

            if (store_smap_count(cons->pel) == 0) {
                store_aof_out_head(o, '*', 5);
                store_aof_out_str(o, "XGROUP");
                store_aof_out_str(o, "CREATECONSUMER");
                store_aof_out_bulk(o, e->key, e->nkey);
                store_aof_out_bulk(o, grp->name, grp->nname);
                store_aof_out_bulk(o, cons->name, cons->nname);
                continue;
            }
            store_smap_seek(cons->pel, &lo, &mi);
            while (store_smap_next(&mi, &id, &val)) {
                const store_snack_t *nack = val;

                store_aof_out_head(o, '*', 12);
                store_aof_out_str(o, "XCLAIM");
                store_aof_out_bulk(o, e->key, e->nkey);
                store_aof_out_bulk(o, grp->name, grp->nname);
                store_aof_out_bulk(o, cons->name, cons->nname);
                store_aof_out_str(o, "0");
                store_aof_out_id(o, &id);
                store_aof_out_str(o, "TIME");
                store_aof_out_ll(o, (long long) nack->delivery_time);
                store_aof_out_str(o, "RETRYCOUNT");
                store_aof_out_ll(o, (long long) nack->delivery_count);
                store_aof_out_str(o, "JUSTID");
                store_aof_out_str(o, "FORCE");
            }
        }
    }
}


static void
store_aof_out_key(ob_hash_link_t *l, void *arg)
{
    store_aof_out_t      *o = arg;
    const store_entry_t  *e = OB_HASH_ENTRY(l, store_entry_t, hlink);
    const store_obj_t    *v = e->val;
    char                  ib[STORE_OBJ_INTBUF], lb[STORE_LIST_INTBUF];
    const char           *p;
    size_t                n, i, left, batch;
    int64_t               when;

    if (o->declined || o->err_no != 0) {
        return;
    }
    if (!o->db_written) {
        char num[16];

        o->db_written = 1;
        store_aof_out_head(o, '*', 2);
        store_aof_out_str(o, "SELECT");
        snprintf(num, sizeof(num), "%d", o->db->id);
        store_aof_out_str(o, num);
    }
    switch (v->type) {
    case STORE_OBJ_STRING:
        p = store_obj_string_bytes(v, ib, &n);
        store_aof_out_cmd(o, "SET", e, 1, 1);
        store_aof_out_bulk(o, p, n);
        break;
    case STORE_OBJ_LIST: {
        store_list_iter_t  it;
        const uint8_t     *ep;

        left = store_list_len(store_list_of(v));
        batch = 0;
        for (store_list_iter_init(store_list_of(v), 0, STORE_LIST_TAIL, &it);
             store_list_iter_get(&it, lb, &ep, &n);
             store_list_iter_next(&it))
        {
            if (batch == 0) {
                batch = left < STORE_AOF_ITEMS_PER_CMD
                        ? left : STORE_AOF_ITEMS_PER_CMD;
                store_aof_out_cmd(o, "RPUSH", e, batch, 1);
            }
            store_aof_out_bulk(o, ep, n);
            batch--;
            left--;
        }
        break;
    }
    case STORE_OBJ_SET: {
        store_set_elem_t  se;

        left = store_set_size(v);
        batch = 0;
        for (i = 0; left > 0; i++) {
            if (batch == 0) {
                batch = left < STORE_AOF_ITEMS_PER_CMD
                        ? left : STORE_AOF_ITEMS_PER_CMD;
                store_aof_out_cmd(o, "SADD", e, batch, 1);
            }
            store_set_get(v, i, &se);
            p = store_set_elem_bytes(&se, ib, &n);
            store_aof_out_bulk(o, p, n);
            batch--;
            left--;
        }
        break;
    }
    case STORE_OBJ_ZSET: {
        store_zset_it_t  it;
        char             d[64];

        left = store_zset_len(v);
        batch = 0;
        for (store_zset_it_rank(&it, v, 0, 0); store_zset_it_valid(&it);
             store_zset_it_next(&it))
        {
            if (batch == 0) {
                batch = left < STORE_AOF_ITEMS_PER_CMD
                        ? left : STORE_AOF_ITEMS_PER_CMD;
                store_aof_out_cmd(o, "ZADD", e, batch, 2);
            }
            n = (size_t) snprintf(d, sizeof(d), "%.17g", it.score);
            store_aof_out_bulk(o, d, n);
            store_aof_out_bulk(o, it.ele, it.len);
            batch--;
            left--;
        }
        break;
    }
    case STORE_OBJ_HASH: {
        store_aof_hv_t h = { o, e, store_hash_len(v), 0 };

        store_hash_foreach(v, store_aof_hash_visit, &h);
        break;
    }
    case STORE_OBJ_STREAM:
        store_aof_out_stream(o, e, v->v.ptr);
        break;
    default:
        o->declined = 1;
        return;
    }
    if (e->flags & STORE_ENTRY_VOLATILE) {
        char num[24];

        when = store_db_entry_expire(o->db, e);
        store_aof_out_cmd(o, "PEXPIREAT", e, 1, 1);
        snprintf(num, sizeof(num), "%lld", (long long) when);
        store_aof_out_str(o, num);
    }
}


static int
store_aof_write_resp_base(store_t *st, int fd, ob_err_t *err)
{
    store_aof_out_t  *o = calloc(1, sizeof(*o));
    int               i, rc;

    if (o == NULL) {
        return ob_err_set(err, "out of memory");
    }
    o->fd = fd;
    o->st = st;
    for (i = 0; i < st->databases && !o->declined && o->err_no == 0; i++) {
        uint64_t cur = 0;

        o->db = store_dbs_db(st->dbs, i);
        o->db_written = 0;
        do {
            cur = ob_hash_scan(&o->db->ks->keys, cur, 1024, 1024 * 10,
                               store_aof_out_key, o);
        } while (cur != 0 && !o->declined && o->err_no == 0);
    }
    store_aof_out_flush(o);
    if (o->declined) {
        rc = OB_DECLINED;
    } else if (o->err_no != 0) {
        errno = o->err_no;
        rc = ob_err_set(err, "writing the AOF base: %s",
                        strerror(o->err_no));
    } else {
        rc = OB_OK;
    }
    free(o);
    return rc;
}
