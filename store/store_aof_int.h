/*
 * store_aof_int.h: what the four files of the append-only file share:
 * store_aof.c (logging: the buffer, group commit, fsync, the cron),
 * store_aof_rewrite.c (BGREWRITEAOF, the child, CONFIG SET appendonly,
 * the base writer), store_aof_files.c (the manifest, the file names, the
 * files opened at start-up) and store_aof_load.c (start-up replay, the
 * legacy migration).  Nothing else includes it (but the unit tests of
 * the manifest): store_persist.h is the AOF's public API.
 *
 * The layout is Redis 7.0's multi-part AOF (reference section 6):
 *
 *   <dir>/<appenddirname>/<appendfilename>.<seq>.base.rdb|aof   one base
 *                         <appendfilename>.<seq>.incr.aof       increments
 *                         <appendfilename>.manifest             the list
 *
 * The manifest is the truth: a file that is not listed does not exist for
 * the loader, so every change (a new incr, a new base) is made by writing
 * the new files first and then replacing the manifest atomically.
 */
#ifndef STORE_AOF_INT_H
#define STORE_AOF_INT_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>

#include "store_srv.h"
#include "store_persist.h"

/* Redis's AOF_ANNOTATION_LINE_MAX_LEN and the manifest's line limit. */
#define STORE_AOF_LINE_MAX      1024

/* A file of the manifest: type 'b' base, 'h' history, 'i' incr. */
typedef struct store_aof_file_s {
    char        *name;          /* malloc'd, no directory */
    long long    seq;
    char         type;
} store_aof_file_t;

typedef struct store_aof_manifest_s {
    store_aof_file_t  *base;    /* NULL: none yet */
    store_aof_file_t  *incr;    /* in load order */
    size_t             nincr;
    store_aof_file_t  *hist;    /* waiting to be deleted */
    size_t             nhist;
    long long          base_seq, incr_seq;   /* the highest used */
} store_aof_manifest_t;

/* aof_state, as Redis's AOF_OFF / AOF_ON / AOF_WAIT_REWRITE: enabled at
 * run time, logging goes to a temporary incr until the first rewrite
 * has made a base. */
#define STORE_AOF_OFF           0
#define STORE_AOF_ON            1
#define STORE_AOF_WAIT_REWRITE  2

/* A job for the fsync thread, done in order: fsync an fd, fsync and
 * close one (after the fsyncs queued before it, so an fd is never closed
 * under an fsync), or delete a file (path). */
typedef struct store_aof_job_s {
    struct store_aof_job_s  *next;
    int                      fd;
    int                      close;     /* 1: fsync then close */
    char                    *path;      /* not NULL: unlink it (malloc'd) */
} store_aof_job_t;

struct store_aof_s {
    store_t               *st;
    int                    state;           /* STORE_AOF_* */
    store_aof_manifest_t   m;
    char                  *dirpath;         /* <dir>/<appenddirname> */

    int                    fd;              /* the incr being written */
    off_t                  cur_size;        /* aof_current_size */
    off_t                  base_size;       /* aof_rewrite_base_size */
    off_t                  incr_size;       /* of the fd: where a failed
                                               write is cut back to */
    int                    sel_db;          /* last SELECT written, -1 */

    /* The commands fed since the last write: malloc'd, as big as one
     * loop pass makes it (shrunk back after a big pass). */
    char                  *buf;
    size_t                 len, cap;
    size_t                 failed_len;      /* of len: what a failed write
                                               left for the retry */

    /* Group commit: connections whose replies wait for the write (and,
     * under appendfsync always, the fsync) of this loop pass. */
    store_client_t       **held;
    size_t                 nheld, held_cap;
    struct event          *flush_ev;
    int                    flush_armed;

    /* Errors: the last write or fsync failed (MISCONF until one works). */
    int                    write_err;       /* errno, 0: ok */
    int                    fsync_err;       /* errno of the last fsync */
    int                    lost;            /* a command could not be
                                               buffered (OOM) this pass */
    char                   misconf[160];
    int64_t                last_retry_ms;

    /* everysec: the fsync thread */
    pthread_t              thr;
    int                    thr_started;
    pthread_mutex_t        mu;
    pthread_cond_t         cv;
    store_aof_job_t       *jobs, *jobs_tail;
    int                    thr_stop;
    int                    fsync_busy;      /* fsync jobs queued or
                                               running (atomic) */
    int                    thr_fsync_err;   /* errno of the thread's last
                                               fsync, 0 ok (atomic) */
    int64_t                last_fsync_ms;
    off_t                  fsync_offset;    /* cur_size last synced */
    int64_t                postponed_ms;    /* a write waits on a slow
                                               fsync since then, 0 */
    uint64_t               delayed_fsync;   /* aof_delayed_fsync */

    /* rewrites */
    int                    rewriting;       /* a child of ours runs */
    int                    scheduled;       /* aof_rewrite_scheduled */
    int                    restart;         /* dataset replaced: start
                                               over once loaded */
    int64_t                rewrite_start_ms;
    long long              last_rewrite_sec;  /* -1: none yet */
    int                    last_rewrite_ok;
    uint64_t               rewrites;
    uint64_t               consecutive_fail;
    int                    limit_delay_min; /* aofRewriteLimited's delay */
    int64_t                limit_until;     /* unix s, 0: not limited */
    size_t                 last_cow;
    char                  *child_tmp;       /* the child's output path */
    char                  *tmp_incr;        /* WAIT_REWRITE's temp incr */
};


/* store_aof_files.c: the manifest */
void  store_aof_manifest_free(store_aof_manifest_t *m);
int   store_aof_manifest_dup(const store_aof_manifest_t *m,
                             store_aof_manifest_t *out /* OUT */);
/* Parses the manifest text as Redis's aofLoadManifestFromFile. */
int   store_aof_manifest_parse(store_aof_manifest_t *m, const char *text,
                               size_t len, ob_err_t *err);
/* Writes m as the manifest of aof (temp file, fsync, rename, fsync of
 * the directory). */
int   store_aof_manifest_persist(struct store_aof_s *aof,
                                 const store_aof_manifest_t *m,
                                 ob_err_t *err);
int   store_aof_manifest_add(store_aof_file_t **arr, size_t *n,
                             const char *name, long long seq, char type);
/* <dirpath>/<name>, malloc'd. */
char *store_aof_path(const struct store_aof_s *aof, const char *name);
/* Loads the manifest from disk if there is one (OB_OK with an empty m
 * when not). */
int   store_aof_manifest_load(struct store_aof_s *aof, ob_err_t *err);
/* fsync of a directory, so a rename in it lasts. */
void  store_aof_fsync_dir(const char *dir);
off_t store_aof_file_size(const char *path);

/* store_aof.c: logging */
/* CLOCK_MONOTONIC in ms: the clock of everysec and the retries. */
int64_t store_aof_mono_ms(void);
/* Queues an fsync (and a close) of fd for the thread; without a thread
 * (or memory) it is done here. */
void  store_aof_bg_fsync(struct store_aof_s *aof, int fd, int close_it);
/* Lets the held connections go: their replies out (ok), or closed. */
void  store_aof_release(struct store_aof_s *aof, int ok);
/* Redis's flushAppendOnlyFile: writes the buffer, syncs by appendfsync,
 * releases the held replies.  force: write even if an everysec fsync is
 * still running (shutdown, a rewrite starting). */
void  store_aof_flush(store_t *st, int force);
/* Deletes a file from the thread (a history base may be gigabytes, and
 * unlinking it takes the file system a while, as Redis's lazy free of
 * history files knows); takes `path`. */
void  store_aof_bg_unlink(struct store_aof_s *aof, char *path);
/* write(2) until everything is written or an error; the bytes written. */
ssize_t store_aof_write_all(int fd, const char *p, size_t len);

/* store_aof_files.c: the files */
/* "<appendfilename>.<seq>.<kind>" */
void  store_aof_name(store_t *st, char *buf, size_t cap, long long seq,
                     const char *kind);
/* "base.rdb" or "base.aof", by aof-use-rdb-preamble. */
const char *store_aof_base_kind(store_t *st);
/* Switches logging to fd (a new incr): the old one is synced and closed
 * by the thread, after any fsync of it already queued. */
void  store_aof_switch_fd(struct store_aof_s *aof, int fd);
/* The history files are deleted and dropped from the manifest. */
void  store_aof_del_history(store_t *st);
/* Opens <dirpath>/<name> for appending (trunc: emptied first); -1 with
 * err set. */
int   store_aof_open_incr(struct store_aof_s *aof, const char *name,
                          int trunc, ob_err_t *err);

/* store_aof_rewrite.c */
/* Redis's rewriteAppendOnlyFileBackground: the new incr first (listed in
 * the manifest at once, so what is written from now on survives whatever
 * happens to the rewrite), then the child. */
int   store_aof_rewrite_start(store_t *st, ob_err_t *err);
/* Writes a base (RDB preamble or RESP) of st's dataset to fd; OB_ERR
 * with errno set. */
int   store_aof_write_base(store_t *st, int fd, ob_err_t *err);

#endif /* STORE_AOF_INT_H */
