/*
 * mq_log.c: the message log while the broker runs: group commit, the
 * fsync thread, the bookkeeping of what each segment still holds, the
 * deletion and compaction of segments, the close, the figures.  The
 * record layout is in mq_log_int.h, the codec in mq_log_rec.c, the
 * start-up in mq_log_replay.c.
 *
 * Group commit.  mq_log_enqueue/remove/delivered append records to one
 * malloc'd buffer and arm the flush event (event_active: libevent runs it
 * after the callbacks already active in this loop pass).  The flush
 * writes the buffer with one write(2) to the head segment and, unless an
 * fsync is running, hands the thread an fdatasync of everything written
 * so far.  When it returns (through ob_wakeup, on the reactor thread),
 * `synced` moves to the written position it covered, the confirms that
 * waited for it go out (mq_confirm_synced), and if more was written
 * meanwhile the next fsync starts at once: while one fsync runs, every
 * later pass's writes pile up behind it and one fsync covers them all.
 * Positions (appended, written, synced) count bytes handed to the log
 * since the start, across segments.
 *
 * Segments.  A new head is started when the head has grown past
 * MQ_LOG_SEG_MAX, at the first record of a pass (so a pass's records
 * land in one segment); the old head's fd is fdatasync'd and closed by
 * the next fsync job, before the new head is synced.  Every logged
 * message has a home segment (its MSG record) and a count of logged
 * entries, both packed in msg->log_pos; each segment counts the messages
 * it is home to that are still held (live).  A non-head segment with no
 * live message is unlinked, unless it holds settle records (DEL) of
 * messages whose segment still exists: those keep it until that older
 * segment is gone, or an acked message would come back at the replay.
 *
 * A deleted durable queue writes no records: its log id leaves
 * defs.json and is never given again, so the replay drops its entries;
 * the live counts are recounted from the queues that remain.
 *
 * Compaction.  When more than half of the log's bytes are dead and there
 * are more than two segments, the oldest segment's live messages are
 * copied forward into the head (MSG, then an ENQ and, if delivered, a DLV
 * per entry) and the old segment is unlinked once those copies are
 * synced.  One rewrite at a time, so the work per loop pass is bounded.
 */
#include "mq_log_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "ob_cycle.h"

#define MQ_LOG_BUF_KEEP     (4u << 20)
#define MQ_LOG_RETRY_MS     1000
#define MQ_LOG_SEG_MOVING   0xffffffffu


/* ---- segments --------------------------------------------------------- */

mq_log_seg_t *
mq_log_seg_find(mq_log_t *log, uint32_t num)
{
    size_t lo = 0, hi = log->nsegs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (log->segs[mid].num == num) {
            return &log->segs[mid];
        }
        if (log->segs[mid].num < num) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}


/* Appends segment num (numbers only grow). */
int
mq_log_seg_add(mq_log_t *log, uint32_t num, uint64_t bytes)
{
    mq_log_seg_t *v;

    if (log->nsegs == log->segs_cap) {
        size_t cap = log->segs_cap ? log->segs_cap * 2 : 16;

        v = realloc(log->segs, cap * sizeof(*v));
        if (v == NULL) {
            return OB_ERR;
        }
        log->segs = v;
        log->segs_cap = cap;
    }
    v = &log->segs[log->nsegs++];
    memset(v, 0, sizeof(*v));
    v->num = num;
    v->bytes = bytes;
    v->min_ref = num;
    return OB_OK;
}


static mq_log_seg_t *
mq_log_head(mq_log_t *log)
{
    return &log->segs[log->nsegs - 1];
}


/* 1 when one of segs[0..n) is numbered in [from, to). */
static int
mq_log_seg_any_in(const mq_log_seg_t *segs, size_t n, uint32_t from,
                  uint32_t to)
{
    size_t i;

    for (i = 0; i < n && segs[i].num < to; i++) {
        if (segs[i].num >= from) {
            return 1;
        }
    }
    return 0;
}


/* Unlinks the non-head segments that hold nothing anyone needs: no live
 * message and no settle record of a message of an older segment still
 * there (oldest first, so that one going can free the next), or copied
 * forward by the compaction and synced since.  Runs when something
 * changed (gc_wanted), so a pass that changed nothing costs nothing. */
void
mq_log_seg_gc(mq_log_t *log)
{
    char          path[4096];
    mq_log_seg_t *s;
    size_t        i, j;

    if (!log->gc_wanted) {
        return;
    }
    log->gc_wanted = 0;
    for (i = 0, j = 0; i < log->nsegs; i++) {
        s = &log->segs[i];
        if (s->delete_at != 0 && log->synced < s->delete_at) {
            log->gc_wanted = 1;        /* again after the next fsync */
        } else if (i + 1 < log->nsegs
                   && (s->delete_at != 0
                       || (s->live == 0
                           && !mq_log_seg_any_in(log->segs, j, s->min_ref,
                                                 s->num))))
        {
            mq_log_seg_path(log->mq->data_dir, s->num, path, sizeof(path));
            if (unlink(path) != 0 && errno != ENOENT) {
                ob_log_warning(&log->mq->cy->log, "mq: cannot unlink %s: %s",
                               path, strerror(errno));
            }
            log->deleted_segs++;
            continue;
        }
        log->segs[j++] = *s;
    }
    log->nsegs = j;
}


/* Starts segment num as the head.  The old head's fd goes to the next
 * fsync job, which syncs and closes it first. */
static int
mq_log_roll(mq_log_t *log, uint32_t num)
{
    char path[4096];
    int  fd;

    mq_log_seg_path(log->mq->data_dir, num, path, sizeof(path));
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        ob_log_error(&log->mq->cy->log, "mq: cannot create %s: %s", path,
                     strerror(errno));
        return OB_ERR;
    }
    if (mq_log_seg_add(log, num, 0) != OB_OK) {
        close(fd);
        unlink(path);
        return OB_ERR;
    }
    if (log->fd >= 0) {
        log->pending_close[log->npending_close++] = log->fd;
    }
    log->fd = fd;
    log->pending_dir = 1;
    log->gc_wanted = 1;                /* the old head may be empty */
    return OB_OK;
}


/* ---- the buffer ------------------------------------------------------- */

static void
mq_log_arm(mq_log_t *log)
{
    if (!log->flush_armed && log->flush_ev != NULL) {
        log->flush_armed = 1;
        event_active(log->flush_ev, EV_TIMEOUT, 0);
    }
}


/* Room for n more bytes of records; NULL: out of memory.  The first
 * record of a pass starts a new head if this one is full. */
static uint8_t *
mq_log_reserve(mq_log_t *log, size_t n)
{
    uint8_t *nb;

    if (log->len == 0 && mq_log_head(log)->bytes >= MQ_LOG_SEG_MAX
        && log->npending_close < MQ_LOG_PENDING_MAX)
    {
        (void) mq_log_roll(log, mq_log_head(log)->num + 1);
    }
    if (log->buf == NULL || log->cap - log->len < n) {
        size_t cap = log->cap ? log->cap : 64 * 1024;

        while (cap - log->len < n) {
            cap *= 2;
        }
        nb = realloc(log->buf, cap);
        if (nb == NULL) {
            return NULL;
        }
        log->buf = nb;
        log->cap = cap;
    }
    mq_log_arm(log);
    return log->buf + log->len;
}


static int
mq_log_put_ref(mq_log_t *log, uint8_t type, uint32_t qid, uint64_t id)
{
    uint8_t *p = mq_log_reserve(log, MQ_LOG_HDR + MQ_LOG_REF_LEN);
    size_t   n;

    if (p == NULL) {
        return OB_ERR;
    }
    n = mq_log_rec_put_ref(p, type, qid, id);
    log->len += n;
    log->appended += n;
    return OB_OK;
}


static size_t
mq_log_msg_size(const mq_msg_t *m)
{
    return mq_log_rec_msg_size(m->exchange_len, m->key_len, m->props_len,
                               m->body_len);
}


/* Appends m's MSG record; m's home becomes the head (its count of
 * entries is kept). */
static int
mq_log_put_msg(mq_log_t *log, mq_msg_t *m)
{
    size_t    n = mq_log_msg_size(m);
    uint8_t  *p = mq_log_reserve(log, n);
    ob_str_t  x, k, pr, b;

    if (p == NULL) {
        return OB_ERR;
    }
    x.data = mq_msg_exchange(m);
    x.len = m->exchange_len;
    k.data = mq_msg_key(m);
    k.len = m->key_len;
    pr.data = mq_msg_props(m);
    pr.len = m->props_len;
    b.data = mq_msg_body(m);
    b.len = (size_t) m->body_len;
    n = mq_log_rec_put_msg(p, m->id, x, k, pr, b);
    log->len += n;
    log->appended += n;
    return OB_OK;
}


/* ---- live counts ------------------------------------------------------ */

static void
mq_log_seg_hold(mq_log_t *log, uint32_t num, const mq_msg_t *m, int delta)
{
    mq_log_seg_t *s = mq_log_seg_find(log, num);

    if (delta > 0) {
        log->live_msgs++;
    } else if (log->live_msgs > 0) {
        log->live_msgs--;
    }
    if (s == NULL) {
        return;
    }
    if (delta > 0) {
        s->live++;
        s->live_bytes += mq_log_msg_size(m);
    } else {
        s->live -= s->live > 0;
        s->live_bytes -= OB_MIN(s->live_bytes, mq_log_msg_size(m));
        if (s->live == 0) {
            log->gc_wanted = 1;
        }
    }
}


/* One logged entry of m fewer. */
static void
mq_log_msg_release(mq_log_t *log, mq_msg_t *m)
{
    uint32_t live = MQ_LOG_POS_LIVE(m->log_pos);

    if (live == 0) {
        return;
    }
    m->log_pos--;
    if (live == 1) {
        mq_log_seg_hold(log, MQ_LOG_POS_SEG(m->log_pos), m, -1);
    }
}


/* ---- copying messages forward ----------------------------------------- */

typedef int (*mq_log_entry_pt)(mq_log_t *log, mq_qentry_t *e, void *arg);

/* Calls fn for every logged entry of every durable queue. */
static int
mq_log_walk(mq_log_t *log, mq_log_entry_pt fn, void *arg)
{
    mq_vhost_t *vh;
    mq_link_t  *l, *el;
    mq_queue_t *q;
    mq_qlist_t *list;
    unsigned    i;

    for (vh = log->mq->vhosts; vh != NULL; vh = vh->next) {
        for (l = vh->queue_list.next; l != &vh->queue_list; l = l->next) {
            q = MQ_ENTRY(l, mq_queue_t, link);
            if (!q->durable || q->deleted || q->log_id == 0
                || q->ready == NULL)
            {
                continue;
            }
            for (i = 0; i <= (unsigned) q->max_priority + 1; i++) {
                list = i <= q->max_priority ? &q->ready[i] : &q->unacked;
                for (el = list->head.next; el != &list->head; el = el->next) {
                    mq_qentry_t *e = MQ_ENTRY(el, mq_qentry_t, link);

                    if ((e->flags & MQ_QE_LOGGED)
                        && fn(log, e, arg) != OB_OK)
                    {
                        return OB_ERR;
                    }
                }
            }
        }
    }
    return OB_OK;
}


typedef struct {
    uint32_t   from;                   /* home being left */
    mq_msg_t  *only;                   /* just this message, or NULL */
    uint64_t   moved;
} mq_log_move_t;


/* Writes e's message (the first time it is met) and e's ENQ (and DLV)
 * into the head, when its message is one being moved. */
static int
mq_log_move_entry(mq_log_t *log, mq_qentry_t *e, void *arg)
{
    mq_log_move_t *mv = arg;
    mq_msg_t      *m = e->msg;
    uint32_t       seg = MQ_LOG_POS_SEG(m->log_pos);

    if ((mv->only != NULL && m != mv->only)
        || (seg != mv->from && seg != MQ_LOG_SEG_MOVING))
    {
        return OB_OK;
    }
    if (seg == mv->from) {
        if (mq_log_put_msg(log, m) != OB_OK) {
            return OB_ERR;
        }
        m->log_pos = MQ_LOG_POS(MQ_LOG_SEG_MOVING, MQ_LOG_POS_LIVE(m->log_pos));
        mv->moved++;
    }
    if (mq_log_put_ref(log, MQ_LOG_REC_ENQ, e->queue->log_id, m->id) != OB_OK
        || ((e->flags & (MQ_QE_DELIVERED | MQ_QE_REDELIVERED))
            && mq_log_put_ref(log, MQ_LOG_REC_DLV, e->queue->log_id, m->id)
               != OB_OK))
    {
        return OB_ERR;
    }
    return OB_OK;
}


/* The moved messages get the head as their home. */
static int
mq_log_move_done(mq_log_t *log, mq_qentry_t *e, void *arg)
{
    mq_msg_t *m = e->msg;

    (void) arg;
    if (MQ_LOG_POS_SEG(m->log_pos) == MQ_LOG_SEG_MOVING) {
        m->log_pos = MQ_LOG_POS(mq_log_head(log)->num,
                                MQ_LOG_POS_LIVE(m->log_pos));
        mq_log_seg_hold(log, mq_log_head(log)->num, m, +1);
    }
    return OB_OK;
}


/* Copies the live messages of segment `from` (or just `only`, whose home
 * it is) into the head. */
static int
mq_log_move(mq_log_t *log, uint32_t from, mq_msg_t *only)
{
    mq_log_move_t  mv = { from, only, 0 };
    mq_log_seg_t  *s;
    int            rc;

    /* reserve first: a roll must not happen in the middle of the copy */
    if (mq_log_reserve(log, 0) == NULL) {
        return OB_ERR;
    }
    rc = mq_log_walk(log, mq_log_move_entry, &mv);
    (void) mq_log_walk(log, mq_log_move_done, NULL);
    s = mq_log_seg_find(log, from);
    if (s != NULL) {
        if (only != NULL) {
            s->live -= s->live > 0;
            s->live_bytes -= OB_MIN(s->live_bytes, mq_log_msg_size(only));
        } else {
            s->live = 0;
            s->live_bytes = 0;
        }
        if (s->live == 0) {
            log->gc_wanted = 1;
        }
    }
    /* mq_log_move_done counted them again in the head */
    log->live_msgs -= OB_MIN(log->live_msgs, mv.moved);
    return rc;
}


/* A rewrite when more than half the log is dead (see the top). */
static void
mq_log_compact(mq_log_t *log)
{
    uint64_t  total = 0, live = 0;
    size_t    i;

    if (log->nsegs <= 2 || log->write_failed) {
        return;
    }
    for (i = 0; i < log->nsegs; i++) {
        if (log->segs[i].delete_at != 0) {
            return;                    /* one rewrite at a time */
        }
        total += log->segs[i].bytes;
        live += log->segs[i].live_bytes;
    }
    if (live * 2 > total || log->segs[0].live == 0) {
        return;
    }
    if (mq_log_move(log, log->segs[0].num, NULL) != OB_OK) {
        return;
    }
    log->segs[0].delete_at = log->appended;
    log->gc_wanted = 1;
    log->rewrites++;
}


static int mq_log_write(mq_log_t *log);


/* The replay's messages whose records were split between segments get
 * a whole copy in the new head, on the disk before the port opens, so
 * that no older segment is needed for them any more. */
int
mq_log_rehome(mq_log_t *log, ob_err_t *err)
{
    if (mq_log_move(log, MQ_LOG_SEG_REHOME, NULL) != OB_OK
        || (log->len > 0 && mq_log_write(log) != OB_OK)
        || fdatasync(log->fd) != 0)
    {
        return ob_err_set(err, "mq: cannot write the message log in %s",
                          log->mq->data_dir);
    }
    log->synced = log->written;
    return OB_OK;
}


/* ---- the API of the queues --------------------------------------------- */

int
mq_log_enqueue(mq_t *mq, mq_queue_t *q, mq_qentry_t *e)
{
    mq_log_t *log = mq->log;
    mq_msg_t *m = e->msg;
    uint32_t  head;

    if (log == NULL || !q->durable || q->exclusive
        || !(m->flags & MQ_MSG_PERSISTENT) || (e->flags & MQ_QE_LOGGED))
    {
        return OB_OK;
    }
    if (log->write_failed) {
        return OB_ERR;
    }
    if (q->log_id == 0) {
        /* a queue the definitions do not have yet: give it its id */
        if (mq_defs_save(mq) != OB_OK || q->log_id == 0) {
            return OB_ERR;
        }
    }
    if (mq_log_reserve(log, 0) == NULL) {
        return OB_ERR;
    }
    head = mq_log_head(log)->num;
    if (!(m->flags & MQ_MSG_LOGGED) || MQ_LOG_POS_LIVE(m->log_pos) == 0) {
        if (!(m->flags & MQ_MSG_LOGGED)) {
            m->id = log->next_msg_id++;
        }
        if (mq_log_put_msg(log, m) != OB_OK) {
            return OB_ERR;
        }
        m->flags |= MQ_MSG_LOGGED;
        m->log_pos = MQ_LOG_POS(head, 0);
    } else if (MQ_LOG_POS_SEG(m->log_pos) != head
               && mq_log_move(log, MQ_LOG_POS_SEG(m->log_pos), m) != OB_OK)
    {
        return OB_ERR;
    }
    if (mq_log_put_ref(log, MQ_LOG_REC_ENQ, q->log_id, m->id) != OB_OK) {
        return OB_ERR;
    }
    if (MQ_LOG_POS_LIVE(m->log_pos) == 0) {
        mq_log_seg_hold(log, head, m, +1);
    }
    m->log_pos++;
    e->flags |= MQ_QE_LOGGED;
    return OB_OK;
}


void
mq_log_remove(mq_t *mq, mq_queue_t *q, mq_qentry_t *e)
{
    mq_log_t     *log = mq->log;
    mq_log_seg_t *head;
    uint32_t      home;

    if (log == NULL || !(e->flags & MQ_QE_LOGGED)) {
        return;
    }
    e->flags &= ~(uint32_t) MQ_QE_LOGGED;
    if (q == NULL || q->deleted) {
        return;                        /* counted off by the queue's deletion */
    }
    home = MQ_LOG_POS_SEG(e->msg->log_pos);
    if (q->log_id != 0) {
        (void) mq_log_put_ref(log, MQ_LOG_REC_DEL, q->log_id, e->msg->id);
        head = mq_log_head(log);
        if (home < head->min_ref) {
            head->min_ref = home;
        }
    }
    mq_log_msg_release(log, e->msg);
}


void
mq_log_delivered(mq_t *mq, mq_queue_t *q, mq_qentry_t *e)
{
    mq_log_t *log = mq->log;

    if (log == NULL || !(e->flags & MQ_QE_LOGGED)
        || (e->flags & MQ_QE_DELIVERED) || q == NULL || q->log_id == 0)
    {
        return;
    }
    e->flags |= MQ_QE_DELIVERED;
    (void) mq_log_put_ref(log, MQ_LOG_REC_DLV, q->log_id, e->msg->id);
}


static int
mq_log_recount_reset(mq_log_t *log, mq_qentry_t *e, void *arg)
{
    (void) log;
    (void) arg;
    e->msg->log_pos = MQ_LOG_POS(MQ_LOG_POS_SEG(e->msg->log_pos), 0);
    return OB_OK;
}


static int
mq_log_recount_add(mq_log_t *log, mq_qentry_t *e, void *arg)
{
    mq_msg_t *m = e->msg;

    (void) arg;
    if (MQ_LOG_POS_LIVE(m->log_pos) == 0) {
        mq_log_seg_hold(log, MQ_LOG_POS_SEG(m->log_pos), m, +1);
    }
    m->log_pos++;
    return OB_OK;
}


/*
 * A durable queue was deleted.  Its id leaves defs.json (ids are never
 * reused), so its entries need no records; only the counts change.  They
 * are counted again from the queues that remain rather than taken off
 * entry by entry: that is right whether the queue's lists are still
 * there or were emptied already, and the entries it left unacked (with
 * their channels, as entries of no queue) stop counting at once.  Queue
 * deletions are rare; the recount is one walk over the durable queues.
 */
void
mq_log_queue_deleted(mq_t *mq, mq_queue_t *q)
{
    mq_log_t   *log = mq->log;
    mq_link_t  *el;
    mq_qlist_t *list;
    unsigned    i;
    size_t      k;

    if (log == NULL) {
        return;
    }
    for (i = 0; q->ready != NULL && i <= (unsigned) q->max_priority + 1; i++) {
        list = i <= q->max_priority ? &q->ready[i] : &q->unacked;
        for (el = list->head.next; el != &list->head; el = el->next) {
            MQ_ENTRY(el, mq_qentry_t, link)->flags &= ~(uint32_t) MQ_QE_LOGGED;
        }
    }
    (void) mq_log_walk(log, mq_log_recount_reset, NULL);
    for (k = 0; k < log->nsegs; k++) {
        log->segs[k].live = 0;
        log->segs[k].live_bytes = 0;
    }
    log->live_msgs = 0;
    (void) mq_log_walk(log, mq_log_recount_add, NULL);
    log->gc_wanted = 1;
    mq_log_arm(log);
}


uint64_t
mq_log_appended(const mq_t *mq)
{
    return mq->log != NULL ? mq->log->appended : 0;
}


uint64_t
mq_log_synced(const mq_t *mq)
{
    return mq->log != NULL ? mq->log->synced : 0;
}


/* ---- the fsync thread ------------------------------------------------- */

static double
mq_log_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}


static void
mq_log_run_job(mq_log_t *log, mq_log_job_t *j)
{
    double t0 = mq_log_now_ms();
    int    i;

    j->rc = 0;
    for (i = 0; i < j->nclose; i++) {
        if (fdatasync(j->close_fds[i]) != 0 && j->rc == 0) {
            j->rc = errno;
        }
        close(j->close_fds[i]);
    }
    if (j->sync_dir && fsync(log->dirfd) != 0 && j->rc == 0) {
        j->rc = errno;
    }
    if (fdatasync(j->fd) != 0 && j->rc == 0) {
        j->rc = errno;
    }
    j->ms = mq_log_now_ms() - t0;
}


static void *
mq_log_thread(void *arg)
{
    mq_log_t *log = arg;

    pthread_mutex_lock(&log->mu);
    for ( ;; ) {
        while (!log->job_posted && !log->thr_stop) {
            pthread_cond_wait(&log->cv, &log->mu);
        }
        if (!log->job_posted) {
            break;
        }
        log->job_posted = 0;
        pthread_mutex_unlock(&log->mu);
        mq_log_run_job(log, &log->job);
        ob_wakeup_post(log->wakeup, &log->job.done);
        pthread_mutex_lock(&log->mu);
    }
    pthread_mutex_unlock(&log->mu);
    return NULL;
}


static void mq_log_synced_cb(ob_wakeup_item_t *item);


/* Hands the thread an fsync of everything written so far. */
static void
mq_log_post_job(mq_log_t *log)
{
    mq_log_job_t *j = &log->job;
    int           i;

    j->done.fn = mq_log_synced_cb;
    j->fd = log->fd;
    j->nclose = log->npending_close;
    for (i = 0; i < log->npending_close; i++) {
        j->close_fds[i] = log->pending_close[i];
    }
    log->npending_close = 0;
    j->sync_dir = log->pending_dir;
    log->pending_dir = 0;
    j->pos = log->written;
    log->job_busy = 1;
    pthread_mutex_lock(&log->mu);
    log->job_posted = 1;
    pthread_cond_signal(&log->cv);
    pthread_mutex_unlock(&log->mu);
}


static void
mq_log_synced_cb(ob_wakeup_item_t *item)
{
    mq_log_t *log = OB_WAKEUP_ENTRY(item, mq_log_t, job.done);

    log->job_busy = 0;
    if (log->closing) {
        return;
    }
    if (log->job.rc == 0) {
        if (log->job.pos > log->synced) {
            log->synced = log->job.pos;
            mq_confirm_synced(log->mq, log->synced);
        }
        log->fsyncs++;
        log->last_fsync_ms = log->job.ms;
    } else {
        /* The data may not be on the disk: no confirm goes out; the next
         * write asks for the next fsync (a failure Linux reports once may
         * have dropped the pages, so that one can succeed without them:
         * the error in the log is what tells). */
        ob_log_error(&log->mq->cy->log, "mq: fsync of the message log "
                     "failed: %s", strerror(log->job.rc));
        return;
    }
    mq_log_seg_gc(log);
    mq_log_compact(log);
    if (log->written > log->synced || log->npending_close > 0) {
        mq_log_post_job(log);
    }
}


/* ---- the flush ---------------------------------------------------------- */

/* Writes the buffer to the head with one write(2) (more if the kernel
 * takes less); on failure the file is cut back and the buffer kept for
 * a retry. */
static int
mq_log_write(mq_log_t *log)
{
    mq_log_seg_t *head = mq_log_head(log);
    size_t        off = 0;
    ssize_t       n;

    while (off < log->len) {
        n = write(log->fd, log->buf + off, log->len - off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (!log->write_failed) {
                ob_log_error(&log->mq->cy->log, "mq: cannot write the "
                             "message log: %s", strerror(errno));
            }
            if (off > 0 && ftruncate(log->fd, (off_t) head->bytes) != 0) {
                /* the bytes stay; a replay would cut them if torn */
            }
            log->write_failed = 1;
            return OB_ERR;
        }
        off += (size_t) n;
    }
    head->bytes += log->len;
    log->written += log->len;
    log->len = 0;
    if (log->write_failed) {
        ob_log_notice(&log->mq->cy->log, "mq: the message log is writable "
                      "again");
        log->write_failed = 0;
    }
    if (log->cap > MQ_LOG_BUF_KEEP) {
        free(log->buf);
        log->buf = NULL;
        log->cap = 0;
    }
    return OB_OK;
}


static void
mq_log_flush(mq_log_t *log)
{
    if (log->len > 0 && mq_log_write(log) != OB_OK) {
        struct timeval tv = { MQ_LOG_RETRY_MS / 1000, 0 };

        event_add(log->flush_ev, &tv);
        return;
    }
    mq_log_seg_gc(log);
    if (!log->job_busy && (log->written > log->synced
                           || log->npending_close > 0))
    {
        mq_log_post_job(log);
    }
}


static void
mq_log_flush_cb(evutil_socket_t fd, short what, void *arg)
{
    mq_log_t *log = arg;

    (void) fd;
    (void) what;
    log->flush_armed = 0;
    mq_log_flush(log);
}


/* ---- life ---------------------------------------------------------------- */

int
mq_log_start(mq_log_t *log, uint32_t head_num, ob_err_t *err)
{
    ob_cycle_t *cy = log->mq->cy;

    if (mq_log_roll(log, head_num) != OB_OK || fsync(log->dirfd) != 0) {
        return ob_err_set(err, "mq: cannot start the message log in %s",
                          log->mq->data_dir);
    }
    log->pending_dir = 0;
    log->wakeup = ob_wakeup_new(cy->base, err);
    if (log->wakeup == NULL) {
        return OB_ERR;
    }
    log->flush_ev = event_new(cy->base, -1, 0, mq_log_flush_cb, log);
    if (log->flush_ev == NULL) {
        return ob_err_set(err, "mq: out of memory");
    }
    pthread_mutex_init(&log->mu, NULL);
    pthread_cond_init(&log->cv, NULL);
    log->thr_inited = 1;
    if (pthread_create(&log->thr, NULL, mq_log_thread, log) != 0) {
        return ob_err_set(err, "mq: cannot start the log's fsync thread");
    }
    log->thr_started = 1;
    return OB_OK;
}


/* Writes and fsyncs everything (a clean stop: nothing acked comes back),
 * then frees the log. */
void
mq_log_close(mq_t *mq)
{
    mq_log_t *log = mq->log;
    int       i;

    if (log == NULL) {
        return;
    }
    if (log->fd >= 0 && log->len > 0) {
        (void) mq_log_write(log);
    }
    if (log->thr_started) {
        pthread_mutex_lock(&log->mu);
        log->thr_stop = 1;
        pthread_cond_signal(&log->cv);
        pthread_mutex_unlock(&log->mu);
        pthread_join(log->thr, NULL);
    }
    log->closing = 1;
    if (log->wakeup != NULL) {
        ob_wakeup_free(log->wakeup);
    }
    for (i = 0; i < log->npending_close; i++) {
        (void) fdatasync(log->pending_close[i]);
        close(log->pending_close[i]);
    }
    if (log->fd >= 0) {
        if (fdatasync(log->fd) != 0) {
            ob_log_error(&mq->cy->log, "mq: fsync of the message log at "
                         "close failed: %s", strerror(errno));
        }
        close(log->fd);
    }
    if (log->dirfd >= 0) {
        (void) fsync(log->dirfd);
        close(log->dirfd);
    }
    if (log->flush_ev != NULL) {
        event_free(log->flush_ev);
    }
    if (log->thr_inited) {
        pthread_mutex_destroy(&log->mu);
        pthread_cond_destroy(&log->cv);
    }
    free(log->segs);
    free(log->buf);
    free(log);
    mq->log = NULL;
}


void
mq_log_stats(const mq_t *mq, json_t *out)
{
    const mq_log_t *log = mq->log;
    uint64_t        bytes = 0;
    size_t          i;

    if (log == NULL) {
        return;
    }
    for (i = 0; i < log->nsegs; i++) {
        bytes += log->segs[i].bytes;
    }
    json_object_set_new(out, "segments",
                        json_integer((json_int_t) log->nsegs));
    json_object_set_new(out, "bytes", json_integer((json_int_t) bytes));
    json_object_set_new(out, "live_messages",
                        json_integer((json_int_t) log->live_msgs));
    json_object_set_new(out, "appended",
                        json_integer((json_int_t) log->appended));
    json_object_set_new(out, "synced",
                        json_integer((json_int_t) log->synced));
    json_object_set_new(out, "fsyncs",
                        json_integer((json_int_t) log->fsyncs));
    json_object_set_new(out, "last_fsync_ms",
                        json_real(log->last_fsync_ms));
    json_object_set_new(out, "rewrites",
                        json_integer((json_int_t) log->rewrites));
    json_object_set_new(out, "deleted_segments",
                        json_integer((json_int_t) log->deleted_segs));
}
