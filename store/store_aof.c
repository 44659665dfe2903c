/*
 * store_aof.c: the append-only file while the server runs, as Redis 7.0
 * keeps it (aof.c): the buffer of propagated commands, its write and
 * fsync by appendfsync with group commit, the fsync thread, write
 * errors, the cron (retries, the automatic rewrite), INFO and the life
 * cycle.  BGREWRITEAOF, the rewrite child, CONFIG SET appendonly and the
 * base writer are in store_aof_rewrite.c; the manifest and the files in
 * store_aof_files.c; the start-up replay in store_aof_load.c.  The four
 * share store_aof_int.h.
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
 */
#include "store_aof_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

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


int64_t
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
void
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
void
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

void
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
ssize_t
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
void
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
