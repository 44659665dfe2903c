/*
 * mq_log_replay.c: the start-up.  mq_log_open creates the data directory,
 * loads the definitions (mq_defs.c), scans the segments of the message
 * log in order and hands every durable queue its live messages, in
 * queue order, before the port opens.
 *
 * The scan maps each segment and walks its records.  MSG records are
 * indexed by message id (a later copy, written by the compaction or a
 * late enqueue, replaces an earlier one: same id, same content); ENQ,
 * DEL and DLV records change the entry (queue, message): ENQ makes it
 * live, DEL settles it, DLV marks it delivered (it comes back
 * redelivered).  A queue's live entries are restored in message id
 * order, which is publish order, as ids only grow.
 *
 * Damage.  A segment is cut at its first record that runs past the end
 * (a torn write) or fails its checksum: the file is truncated there with
 * a warning and the scan goes on with the next segment.  Nothing after a
 * bad record in the same segment is trusted (the log is written as a
 * prefix, so what follows a bad record was not confirmed before it).
 * Entries of queues that are no longer defined are dropped.
 */
#include "mq_log_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ob_cycle.h"

typedef struct {
    void      *addr;
    size_t     maplen;             /* as mapped */
    size_t     len;                /* as kept: cut at a bad record */
    uint32_t   num;
    uint32_t   min_ref;            /* oldest home its DELs settle */
} mq_log_map_t;

/* An open-addressing table of pointers, keyed by (qid, id). */
typedef struct {
    void     **slots;
    size_t     cap, n;
} mq_log_tab_t;

struct mq_log_scan_s {
    mq_log_map_t     *maps;
    size_t            nmaps;
    mq_log_tab_t      msgs;            /* mq_log_rmsg_t, qid 0 */
    mq_log_tab_t      entries;         /* mq_log_rentry_t */
    mq_log_rentry_t **qbuf;            /* live entries by (qid, id) */
    size_t            qbuf_cap;        /* how many */
    int               sorted;
    uint64_t          max_id;
};


static uint64_t
mq_log_tab_hash(uint32_t qid, uint64_t id)
{
    uint64_t h = id * 0x9E3779B97F4A7C15ull
                 ^ (uint64_t) qid * 0xC2B2AE3D27D4EB4Full;

    return h ^ (h >> 29);
}


/* The key of a table item: both item types (mq_log_rentry_t and
 * mq_log_rmsg_item_t) start with the same two key fields, qid and id. */
static void
mq_log_key_of(void *item, uint32_t *qid, uint64_t *id)
{
    *qid = ((mq_log_rentry_t *) item)->qid;
    *id = ((mq_log_rentry_t *) item)->id;
}


static void **
mq_log_tab_slot(mq_log_tab_t *t, uint32_t qid, uint64_t id)
{
    size_t    i = (size_t) mq_log_tab_hash(qid, id) & (t->cap - 1);
    uint32_t  q;
    uint64_t  k;

    while (t->slots[i] != NULL) {
        mq_log_key_of(t->slots[i], &q, &k);
        if (q == qid && k == id) {
            return &t->slots[i];
        }
        i = (i + 1) & (t->cap - 1);
    }
    return &t->slots[i];
}


static int
mq_log_tab_grow(mq_log_tab_t *t)
{
    mq_log_tab_t  nt;
    size_t        i;
    uint32_t      q;
    uint64_t      k;

    if (t->cap != 0 && (t->n + 1) * 4 < t->cap * 3) {
        return OB_OK;
    }
    nt.cap = t->cap ? t->cap * 2 : 1024;
    nt.n = t->n;
    nt.slots = calloc(nt.cap, sizeof(void *));
    if (nt.slots == NULL) {
        return OB_ERR;
    }
    for (i = 0; i < t->cap; i++) {
        if (t->slots[i] != NULL) {
            mq_log_key_of(t->slots[i], &q, &k);
            *mq_log_tab_slot(&nt, q, k) = t->slots[i];
        }
    }
    free(t->slots);
    *t = nt;
    return OB_OK;
}


static void
mq_log_tab_free(mq_log_tab_t *t)
{
    size_t i;

    for (i = 0; i < t->cap; i++) {
        free(t->slots[i]);
    }
    free(t->slots);
}


/* A message in the scan's table: its key fields first, as an entry's
 * (mq_log_key_of reads either). */
typedef struct {
    uint32_t        qid;               /* always 0 */
    uint64_t        id;
    mq_log_rmsg_t   m;
} mq_log_rmsg_item_t;


static int
mq_log_scan_rec(mq_log_scan_t *s, uint32_t num, const mq_log_rec_t *rec)
{
    void            **slot;
    mq_log_rentry_t  *e;

    if (rec->type == MQ_LOG_REC_MSG) {
        mq_log_rmsg_item_t *it;

        if (mq_log_tab_grow(&s->msgs) != OB_OK) {
            return OB_ERR;
        }
        slot = mq_log_tab_slot(&s->msgs, 0, rec->id);
        if (*slot == NULL) {
            it = calloc(1, sizeof(*it));
            if (it == NULL) {
                return OB_ERR;
            }
            it->id = rec->id;
            *slot = it;
            s->msgs.n++;
        }
        it = *slot;
        it->m.id = rec->id;
        it->m.seg = num;
        it->m.rec = *rec;
        if (rec->id > s->max_id) {
            s->max_id = rec->id;
        }
        return OB_OK;
    }
    if (mq_log_tab_grow(&s->entries) != OB_OK) {
        return OB_ERR;
    }
    slot = mq_log_tab_slot(&s->entries, rec->qid, rec->id);
    e = *slot;
    if (rec->type == MQ_LOG_REC_ENQ) {
        slot = mq_log_tab_slot(&s->msgs, 0, rec->id);
        if (s->msgs.cap == 0 || *slot == NULL) {
            return OB_OK;              /* its message is gone: settled */
        }
        if (e == NULL) {
            e = calloc(1, sizeof(*e));
            if (e == NULL) {
                return OB_ERR;
            }
            e->qid = rec->qid;
            e->id = rec->id;
            *mq_log_tab_slot(&s->entries, rec->qid, rec->id) = e;
            s->entries.n++;
        }
        if (!e->live) {
            e->live = 1;
            e->delivered = 0;
        }
        e->enq_seg = num;
        e->msg = &((mq_log_rmsg_item_t *) *slot)->m;
    } else if (e != NULL && rec->type == MQ_LOG_REC_DEL) {
        mq_log_map_t *m = &s->maps[s->nmaps - 1];

        e->live = 0;
        if (e->msg != NULL && e->msg->seg < m->min_ref) {
            m->min_ref = e->msg->seg;
        }
    } else if (e != NULL && rec->type == MQ_LOG_REC_DLV && e->live) {
        e->delivered = 1;
    }
    return OB_OK;
}


void
mq_log_seg_path(const char *dir, uint32_t num, char *out, size_t size)
{
    snprintf(out, size, "%s/msgs.%010u", dir, num);
}


/* Maps and walks one segment; cuts it at a bad record. */
static int
mq_log_scan_seg(mq_log_scan_t *s, const char *dir, uint32_t num,
                ob_log_t *olog, ob_err_t *err)
{
    char           path[4096];
    struct stat    st;
    mq_log_map_t  *m = &s->maps[s->nmaps];
    const uint8_t *p;
    mq_log_rec_t   rec;
    size_t         off = 0, used;
    int            fd, rc;

    mq_log_seg_path(dir, num, path, sizeof(path));
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return ob_err_set(err, "mq: cannot open %s: %s", path,
                          strerror(errno));
    }
    m->num = num;
    m->min_ref = num;
    m->len = m->maplen = (size_t) st.st_size;
    m->addr = NULL;
    if (m->len > 0) {
        m->addr = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m->addr == MAP_FAILED) {
            close(fd);
            return ob_err_set(err, "mq: cannot map %s: %s", path,
                              strerror(errno));
        }
    }
    s->nmaps++;
    p = m->addr;
    while (off < m->len) {
        rc = mq_log_rec_get(p + off, m->len - off, &rec, &used);
        if (rc != OB_OK) {
            if (olog != NULL) {
                ob_log_warning(olog, "mq: %s: %s record at offset %zu: "
                               "cutting the segment there (%zu bytes "
                               "dropped)", path, rc == OB_AGAIN ? "torn"
                               : "corrupt", off, m->len - off);
            }
            if (ftruncate(fd, (off_t) off) != 0 || fdatasync(fd) != 0) {
                close(fd);
                return ob_err_set(err, "mq: cannot cut %s: %s", path,
                                  strerror(errno));
            }
            m->len = off;              /* the mapping stays as it was */
            break;
        }
        if (mq_log_scan_rec(s, num, &rec) != OB_OK) {
            close(fd);
            return ob_err_set(err, "mq: out of memory replaying %s", path);
        }
        off += used;
    }
    close(fd);
    return OB_OK;
}


mq_log_scan_t *
mq_log_scan(const char *dir, const uint32_t *nums, size_t n, ob_log_t *olog,
            ob_err_t *err)
{
    mq_log_scan_t *s = calloc(1, sizeof(*s));
    size_t         i;

    if (s == NULL || (s->maps = calloc(n + 1, sizeof(*s->maps))) == NULL) {
        free(s);
        ob_err_set(err, "mq: out of memory");
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (mq_log_scan_seg(s, dir, nums[i], olog, err) != OB_OK) {
            mq_log_scan_free(s);
            return NULL;
        }
    }
    return s;
}


static int
mq_log_rentry_cmp(const void *a, const void *b)
{
    const mq_log_rentry_t *x = *(mq_log_rentry_t * const *) a;
    const mq_log_rentry_t *y = *(mq_log_rentry_t * const *) b;

    if (x->qid != y->qid) {
        return x->qid < y->qid ? -1 : 1;
    }
    return x->id < y->id ? -1 : x->id > y->id;
}


/* Sorts every live entry by (queue, message id) once; each queue's
 * entries are then one run of that array, found by binary search. */
static int
mq_log_scan_sort(mq_log_scan_t *s)
{
    mq_log_rentry_t *e;
    size_t           i;

    s->qbuf = malloc((s->entries.n + 1) * sizeof(*s->qbuf));
    if (s->qbuf == NULL) {
        return OB_ERR;
    }
    s->qbuf_cap = 0;
    for (i = 0; i < s->entries.cap; i++) {
        e = s->entries.slots[i];
        if (e != NULL && e->live) {
            s->qbuf[s->qbuf_cap++] = e;
        }
    }
    qsort(s->qbuf, s->qbuf_cap, sizeof(*s->qbuf), mq_log_rentry_cmp);
    s->sorted = 1;
    /* A message whose entries' ENQ records are not all in the segment of
     * its latest MSG record (a crash in the middle of a copy forward)
     * needs all of them together again: it gets a new home. */
    for (i = 0; i < s->qbuf_cap; i++) {
        if (s->qbuf[i]->enq_seg != s->qbuf[i]->msg->seg) {
            s->qbuf[i]->msg->rehome = 1;
        }
    }
    return OB_OK;
}


size_t
mq_log_scan_queue(mq_log_scan_t *s, uint32_t qid, mq_log_rentry_t ***out)
{
    size_t lo = 0, hi, first;

    *out = NULL;
    if (!s->sorted && mq_log_scan_sort(s) != OB_OK) {
        return 0;
    }
    hi = s->qbuf_cap;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (s->qbuf[mid]->qid < qid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    first = lo;
    while (lo < s->qbuf_cap && s->qbuf[lo]->qid == qid) {
        lo++;
    }
    *out = s->qbuf + first;
    return lo - first;
}


uint32_t
mq_log_scan_min_ref(const mq_log_scan_t *s, uint32_t num)
{
    size_t i;

    for (i = 0; i < s->nmaps; i++) {
        if (s->maps[i].num == num) {
            return s->maps[i].min_ref;
        }
    }
    return num;
}


uint64_t
mq_log_scan_max_id(const mq_log_scan_t *s)
{
    return s->max_id;
}


/* The size a segment has after the scan cut it. */
uint64_t
mq_log_scan_bytes(const mq_log_scan_t *s, uint32_t num)
{
    size_t i;

    for (i = 0; i < s->nmaps; i++) {
        if (s->maps[i].num == num) {
            return s->maps[i].len;
        }
    }
    return 0;
}


void
mq_log_scan_free(mq_log_scan_t *s)
{
    size_t i;

    if (s == NULL) {
        return;
    }
    for (i = 0; i < s->nmaps; i++) {
        if (s->maps[i].addr != NULL) {
            munmap(s->maps[i].addr, s->maps[i].maplen);
        }
    }
    mq_log_tab_free(&s->msgs);
    mq_log_tab_free(&s->entries);
    free(s->qbuf);
    free(s->maps);
    free(s);
}


static int
mq_log_num_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

    return x < y ? -1 : x > y;
}


int
mq_log_list_segments(const char *dir, uint32_t **nums, size_t *n,
                     ob_err_t *err)
{
    DIR            *d = opendir(dir);
    struct dirent  *de;
    size_t          cap = 0;
    uint32_t       *v = NULL, *nv;
    char           *end;
    unsigned long   num;

    *nums = NULL;
    *n = 0;
    if (d == NULL) {
        return ob_err_set(err, "mq: cannot read %s: %s", dir, strerror(errno));
    }
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "msgs.", 5) != 0
            || strlen(de->d_name) != 15)
        {
            continue;
        }
        num = strtoul(de->d_name + 5, &end, 10);
        if (*end != '\0' || num == 0 || num > UINT32_MAX - 1) {
            continue;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            nv = realloc(v, cap * sizeof(*v));
            if (nv == NULL) {
                free(v);
                closedir(d);
                return ob_err_set(err, "mq: out of memory");
            }
            v = nv;
        }
        v[(*n)++] = (uint32_t) num;
    }
    closedir(d);
    if (*n > 0) {
        qsort(v, *n, sizeof(*v), mq_log_num_cmp);
    }
    *nums = v;
    return OB_OK;
}


/* mkdir -p, the last component with mode 0700. */
static int
mq_log_mkdir(const char *dir, ob_err_t *err)
{
    char    path[4096];
    size_t  i, len = strlen(dir);

    if (len == 0 || len >= sizeof(path)) {
        return ob_err_set(err, "mq.data_dir: bad path");
    }
    memcpy(path, dir, len + 1);
    for (i = 1; i <= len; i++) {
        if (path[i] == '/' || path[i] == '\0') {
            char c = path[i];

            path[i] = '\0';
            if (mkdir(path, c == '\0' ? 0700 : 0755) != 0 && errno != EEXIST) {
                return ob_err_set(err, "mq.data_dir: cannot create %s: %s",
                                  path, strerror(errno));
            }
            path[i] = c;
        }
    }
    return OB_OK;
}


/* The entry the queue just made of msg: the tail of one of its ready
 * lists (which one is the queue's business: the priority). */
static mq_qentry_t *
mq_log_restored_entry(mq_queue_t *q, mq_msg_t *msg)
{
    unsigned     i;
    mq_link_t   *tail;
    mq_qentry_t *e;

    for (i = 0; q->ready != NULL && i <= q->max_priority; i++) {
        tail = q->ready[i].head.prev;
        if (tail != &q->ready[i].head) {
            e = MQ_ENTRY(tail, mq_qentry_t, link);
            if (e->msg == msg) {
                return e;
            }
        }
    }
    return NULL;
}


static mq_msg_t *
mq_log_make_msg(mq_log_t *log, mq_log_rmsg_t *rm)
{
    mq_msg_t     *m;
    mq_log_seg_t *seg;

    if (rm->made != NULL) {
        return rm->made;
    }
    m = mq_msg_new(log->mq, rm->rec.exchange, rm->rec.key, rm->rec.props,
                   rm->rec.body.len);
    if (m == NULL) {
        return NULL;
    }
    if (rm->rec.body.len > 0) {
        memcpy(mq_msg_body(m), rm->rec.body.data, rm->rec.body.len);
    }
    m->body_have = m->body_len;
    m->flags |= MQ_MSG_PERSISTENT | MQ_MSG_LOGGED;
    m->id = rm->id;
    m->log_pos = MQ_LOG_POS(rm->rehome ? MQ_LOG_SEG_REHOME : rm->seg, 0);
    rm->made = m;
    seg = rm->rehome ? NULL : mq_log_seg_find(log, rm->seg);
    if (seg != NULL) {
        seg->live++;
        seg->live_bytes += mq_log_rec_msg_size(rm->rec.exchange.len,
                                               rm->rec.key.len,
                                               rm->rec.props.len,
                                               rm->rec.body.len);
    }
    log->live_msgs++;
    return m;
}


/* Hands queue q its live entries from the scan. */
static int
mq_log_restore_queue(mq_log_t *log, mq_log_scan_t *s, mq_queue_t *q,
                     uint64_t *restored, ob_err_t *err)
{
    mq_log_rentry_t **v;
    mq_qentry_t      *e;
    mq_msg_t         *m;
    size_t            i, n;

    n = mq_log_scan_queue(s, q->log_id, &v);
    for (i = 0; i < n; i++) {
        m = mq_log_make_msg(log, v[i]->msg);
        if (m == NULL) {
            return ob_err_set(err, "mq: no memory to restore the messages "
                              "of queue '%s' (raise core.memory_mb)",
                              q->name);
        }
        if (mq_queue_restore_msg(q, m, v[i]->delivered) != OB_OK) {
            continue;
        }
        e = mq_log_restored_entry(q, m);
        if (e != NULL) {
            e->flags |= MQ_QE_LOGGED;
            if (v[i]->delivered) {
                e->flags |= MQ_QE_DELIVERED | MQ_QE_REDELIVERED;
            }
            m->log_pos++;
        }
        (*restored)++;
    }
    return OB_OK;
}


/* The scan's messages that no queue took are forgotten; those made drop
 * the replay's reference (the queues hold theirs). */
static void
mq_log_release_made(mq_log_t *log, mq_log_scan_t *s)
{
    mq_log_rmsg_item_t *it;
    mq_log_seg_t       *seg;
    size_t              i;

    for (i = 0; i < s->msgs.cap; i++) {
        it = s->msgs.slots[i];
        if (it == NULL || it->m.made == NULL) {
            continue;
        }
        if (MQ_LOG_POS_LIVE(it->m.made->log_pos) == 0) {
            /* made but no queue kept it (restore refused it) */
            seg = it->m.rehome ? NULL : mq_log_seg_find(log, it->m.seg);
            if (seg != NULL && seg->live > 0) {
                seg->live--;
            }
            log->live_msgs--;
            it->m.made->flags &= ~(uint32_t) MQ_MSG_LOGGED;
        }
        mq_msg_unref(it->m.made);
        it->m.made = NULL;
    }
}


int
mq_log_open(mq_t *mq, ob_err_t *err)
{
    mq_log_t       *log;
    mq_log_scan_t  *s = NULL;
    mq_vhost_t     *vh;
    mq_link_t      *l;
    uint32_t       *nums = NULL;
    size_t          n = 0, i;
    uint64_t        restored = 0;
    int             rc = OB_ERR;

    if (mq_log_mkdir(mq->data_dir, err) != OB_OK) {
        return OB_ERR;
    }
    log = calloc(1, sizeof(*log));
    if (log == NULL) {
        return ob_err_set(err, "mq: out of memory");
    }
    log->mq = mq;
    log->fd = -1;
    log->dirfd = open(mq->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (log->dirfd < 0) {
        free(log);
        return ob_err_set(err, "mq.data_dir: cannot open %s: %s",
                          mq->data_dir, strerror(errno));
    }
    mq->log = log;
    log->next_queue_id = 1;
    log->loading = 1;
    if (mq_defs_load(mq, &log->next_queue_id, err) != OB_OK
        || mq_log_list_segments(mq->data_dir, &nums, &n, err) != OB_OK)
    {
        goto done;
    }
    s = mq_log_scan(mq->data_dir, nums, n, &mq->cy->log, err);
    if (s == NULL) {
        goto done;
    }
    for (i = 0; i < n; i++) {
        if (mq_log_seg_add(log, nums[i], mq_log_scan_bytes(s, nums[i]))
            != OB_OK)
        {
            ob_err_set(err, "mq: out of memory");
            goto done;
        }
        log->segs[log->nsegs - 1].min_ref = mq_log_scan_min_ref(s, nums[i]);
    }
    for (vh = mq->vhosts; vh != NULL; vh = vh->next) {
        for (l = vh->queue_list.next; l != &vh->queue_list; l = l->next) {
            mq_queue_t *q = MQ_ENTRY(l, mq_queue_t, link);

            if (q->durable && q->log_id != 0
                && mq_log_restore_queue(log, s, q, &restored, err) != OB_OK)
            {
                goto done;
            }
        }
    }
    mq_log_release_made(log, s);
    log->next_msg_id = mq_log_scan_max_id(s) + 1;
    if (mq_log_start(log, n > 0 ? nums[n - 1] + 1 : 1, err) != OB_OK
        || mq_log_rehome(log, err) != OB_OK)
    {
        goto done;
    }
    log->loading = 0;
    log->gc_wanted = 1;
    mq_log_seg_gc(log);
    ob_log_notice(&mq->cy->log, "mq: %s: %zu segments replayed, %" PRIu64
                  " messages restored", mq->data_dir, n, restored);
    rc = OB_OK;
done:
    mq_log_scan_free(s);
    free(nums);
    if (rc != OB_OK) {
        mq_log_close(mq);
    }
    return rc;
}
