/*
 * mq_log_int.h: the insides of the broker's durability, shared by
 * mq_log.c (group commit, fsync thread, bookkeeping, compaction),
 * mq_log_rec.c (the record codec), mq_log_replay.c (start-up), mq_defs.c
 * (the definitions file) and their unit tests.
 *
 * On disk, under mq->data_dir (mode 0700):
 *
 *   defs.json          every durable exchange, queue and binding per vhost,
 *                      and the next queue log id; rewritten whole
 *   msgs.0000000001    segments of the message log, appended in order;
 *   msgs.0000000002    a new one each start and every MQ_LOG_SEG_MAX bytes
 *
 * A record is
 *
 *   u32 crc   XXH32 of everything after it (len, type, payload)
 *   u32 len   payload bytes
 *   u8  type  MSG, ENQ, DEL, DLV
 *   payload   MSG: u64 id, u8 exlen, exchange, u8 keylen, key,
 *                  u32 props_len, props, u64 body_len, body
 *             ENQ, DEL, DLV: u32 queue log id, u64 message id
 *
 * all integers little-endian.  A message's MSG record and the ENQ
 * records of its entries are always in the same segment (a late enqueue
 * or the compaction copies the message forward first), so a segment
 * whose messages are all settled can be unlinked at once, and the replay
 * never meets an ENQ whose MSG was in a deleted segment.
 */
#ifndef MQ_LOG_INT_H
#define MQ_LOG_INT_H

#include <pthread.h>

#include "mq_int.h"
#include "ob_log.h"
#include "ob_wakeup.h"

#define MQ_LOG_REC_MSG      1
#define MQ_LOG_REC_ENQ      2
#define MQ_LOG_REC_DEL      3
#define MQ_LOG_REC_DLV      4

#define MQ_LOG_HDR          9           /* crc, len, type */
#define MQ_LOG_REF_LEN      12          /* qid + id */
#define MQ_LOG_REC_MAX      ((uint64_t) 1 << 31)   /* payload bytes */
#define MQ_LOG_SEG_MAX      (8u << 20)
#define MQ_LOG_PENDING_MAX  8           /* rolled segments awaiting fsync */

/* One decoded record; the slices point into the decoded bytes. */
typedef struct mq_log_rec_s {
    uint8_t    type;
    uint32_t   qid;
    uint64_t   id;
    ob_str_t   exchange, key, props, body;
} mq_log_rec_t;

/* Record codec (mq_log_rec.c): pure, no I/O. */
size_t mq_log_rec_msg_size(size_t exlen, size_t keylen, size_t props_len,
                           uint64_t body_len);
size_t mq_log_rec_put_msg(uint8_t *p, uint64_t id, ob_str_t exchange,
                          ob_str_t key, ob_str_t props, ob_str_t body);
size_t mq_log_rec_put_ref(uint8_t *p, uint8_t type, uint32_t qid,
                          uint64_t id);
/* OB_OK (*used = record bytes), OB_AGAIN (incomplete: a torn tail) or
 * OB_ERR (checksum, type or length wrong). */
int    mq_log_rec_get(const uint8_t *p, size_t avail, mq_log_rec_t *rec,
                      size_t *used);

/* A segment file. */
typedef struct mq_log_seg_s {
    uint32_t   num;
    uint64_t   bytes;                   /* file size */
    uint64_t   live;                    /* its messages a queue holds */
    uint64_t   live_bytes;              /* their MSG records' bytes */
    uint64_t   delete_at;               /* >0: unlink once synced past it */
    uint32_t   min_ref;                 /* oldest home its DELs settle */
} mq_log_seg_t;

/* The fsync job: one in flight at a time. */
typedef struct mq_log_job_s {
    ob_wakeup_item_t  done;
    int               fd;               /* the head: fdatasync */
    int               close_fds[MQ_LOG_PENDING_MAX];   /* sync + close first */
    int               nclose;
    int               sync_dir;
    uint64_t          pos;              /* synced once it returns */
    int               rc;               /* errno, 0: fine */
    double            ms;
} mq_log_job_t;

struct mq_log_s {
    mq_t             *mq;
    int               dirfd;
    int               fd;               /* the head segment */
    mq_log_seg_t     *segs;             /* by number; the last is the head */
    size_t            nsegs, segs_cap;

    uint8_t          *buf;              /* records of this pass */
    size_t            len, cap;
    uint64_t          appended, written, synced;
    uint64_t          next_msg_id;
    uint32_t          next_queue_id;    /* persisted in defs.json */

    struct event     *flush_ev;
    int               flush_armed;
    int               write_failed;
    int               gc_wanted;        /* a segment may have emptied */

    ob_wakeup_t      *wakeup;
    pthread_t         thr;
    pthread_mutex_t   mu;
    pthread_cond_t    cv;
    int               thr_inited, thr_started, thr_stop, job_posted,
                      job_busy;
    int               closing;
    int               loading;          /* the replay: no defs saves */
    mq_log_job_t      job;
    int               pending_close[MQ_LOG_PENDING_MAX];
    int               npending_close;
    int               pending_dir;

    uint64_t          live_msgs, fsyncs, rewrites, deleted_segs;
    double            last_fsync_ms;
};

/* The segment file's path: <dir>/msgs.%010u. */
void mq_log_seg_path(const char *dir, uint32_t num, char *out, size_t size);

/* Segment bookkeeping (mq_log.c). */
mq_log_seg_t *mq_log_seg_find(mq_log_t *log, uint32_t num);
int           mq_log_seg_add(mq_log_t *log, uint32_t num, uint64_t bytes);
void          mq_log_seg_gc(mq_log_t *log);
/* A message's home segment and count of logged entries, in msg->log_pos. */
#define MQ_LOG_POS_SEG(pos)     ((uint32_t) ((pos) >> 32))
#define MQ_LOG_POS_LIVE(pos)    ((uint32_t) ((pos) & 0xffffffffu))
#define MQ_LOG_POS(seg, live)   (((uint64_t) (seg) << 32) | (uint32_t) (live))

/* The log's start and end (mq_log.c): directory, head, thread, event. */
int  mq_log_start(mq_log_t *log, uint32_t head_num, ob_err_t *err);
/* The replay's messages marked for a new home (MQ_LOG_SEG_REHOME) are
 * copied whole into the head, which is written and fsync'd at once. */
int  mq_log_rehome(mq_log_t *log, ob_err_t *err);
#define MQ_LOG_SEG_REHOME   0xfffffffeu

/* Definitions (mq_defs.c): loads defs.json into the vhosts (restoring
 * exchanges, queues with their log ids, bindings); *next_qid gets the
 * next queue log id.  A missing file is an empty one. */
int  mq_defs_load(mq_t *mq, uint32_t *next_qid, ob_err_t *err);

/*
 * The replay's scan (mq_log_replay.c), apart from the entities so that
 * it can be tested alone: reads segments nums[0..n) of dir in order,
 * cutting each at its first bad record (the file is truncated there),
 * and keeps per queue the live entries.
 */
typedef struct mq_log_scan_s mq_log_scan_t;

typedef struct mq_log_rmsg_s {
    uint64_t       id;
    uint32_t       seg;                 /* of its latest MSG record */
    unsigned       rehome:1;            /* an entry's ENQ is elsewhere */
    mq_log_rec_t   rec;                 /* slices into the mapped segment */
    mq_msg_t      *made;                /* once restored */
} mq_log_rmsg_t;

typedef struct mq_log_rentry_s {
    uint32_t        qid;
    uint64_t        id;
    unsigned        live:1, delivered:1;
    uint32_t        enq_seg;            /* of its latest ENQ record */
    mq_log_rmsg_t  *msg;
} mq_log_rentry_t;

mq_log_scan_t *mq_log_scan(const char *dir, const uint32_t *nums, size_t n,
                           ob_log_t *olog, ob_err_t *err);
/* The live entries of queue qid in queue order (message id order);
 * *out is owned by the scan. */
size_t   mq_log_scan_queue(mq_log_scan_t *s, uint32_t qid,
                           mq_log_rentry_t ***out);
uint64_t mq_log_scan_max_id(const mq_log_scan_t *s);
uint64_t mq_log_scan_bytes(const mq_log_scan_t *s, uint32_t num);
/* The oldest segment whose messages segment num's DEL records settle. */
uint32_t mq_log_scan_min_ref(const mq_log_scan_t *s, uint32_t num);
void     mq_log_scan_free(mq_log_scan_t *s);

/* The segment numbers in dir, sorted (malloc'd). */
int mq_log_list_segments(const char *dir, uint32_t **nums, size_t *n,
                         ob_err_t *err);

#endif /* MQ_LOG_INT_H */
