/*
 * store_aof_rewrite.c: rewriting the append-only file, as Redis 7.0 does
 * it (aof.c): BGREWRITEAOF, the forked child that writes the new base,
 * the switch of the manifest when it is done, CONFIG SET appendonly
 * (enabling goes through a rewrite, disabling stops logging), and the
 * base writer itself: an RDB preamble, or the RESP commands of
 * aof-use-rdb-preamble no.  It is apart from store_aof.c because all of
 * it is about making a new base, while store_aof.c logs commands into the
 * current incr; what they share is declared in store_aof_int.h.
 *
 * Rewrites (Redis 7.0, no rewrite buffer): the parent opens a new incr at
 * once and lists it in the manifest, so new writes go there; a forked
 * child writes the new base (an RDB with aof-base, or RESP) to a temp
 * file; when it succeeds, the base is renamed into the directory and the
 * manifest replaced: new base + the incrs since, the old files marked
 * history and deleted.
 *
 * Enabling at run time (Redis's startAppendOnly): logging goes to a
 * temporary incr (state WAIT_REWRITE) while the first rewrite makes a
 * base; when it is done, the temporary incr becomes the one incr of the
 * new manifest.
 */
#include "store_aof_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_hash.h"
#include "store_list.h"
#include "store_set.h"
#include "store_stream.h"
#include "store_zset.h"


static int  store_aof_write_resp_base(store_t *st, int fd, ob_err_t *err);


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
int
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


/* ---- the base ------------------------------------------------------------------ */

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
