/*
 * store_multi.c: transactions (MULTI, EXEC, DISCARD) and optimistic
 * locking (WATCH, UNWATCH), with Redis 7.0's semantics:
 *
 *   - commands after MULTI are checked (name, arity, auth, memory) and
 *     queued with their arguments copied; a check that fails is answered
 *     at once and dooms the transaction: EXEC answers EXECABORT;
 *   - EXEC runs the queue with nothing in between and answers an array of
 *     the replies (errors at run time are elements, the rest still runs);
 *   - a WATCHed key that any client changes (store_key_changed, expiry,
 *     eviction, FLUSHALL/FLUSHDB/SWAPDB where it exists) makes EXEC answer
 *     the null array; so does a key that was alive at WATCH and expired
 *     since;
 *   - EXEC, DISCARD and UNWATCH forget the watches.
 */
#include "store_srv.h"

#include <stdlib.h>
#include <string.h>


int
store_watch_init(store_t *st)
{
    return ob_hash_init(&st->watched, &store_keyref_type, st,
                        &(ob_hash_conf_t) { .power_init = 4,
                                            .load_factor = 1.0,
                                            .shrink_fill = 0.1 });
}


void
store_watch_fini(store_t *st)
{
    ob_hash_fini(&st->watched);
}


int
store_multi_queue(store_client_t *c)
{
    struct store_client_ext_s  *x = c->ext;
    store_queued_t             *grown;

    if (x->nqueue == x->queue_cap) {
        size_t cap = x->queue_cap ? x->queue_cap * 2 : 8;

        grown = realloc(x->queue, cap * sizeof(*grown));
        if (grown == NULL) {
            return OB_ERR;
        }
        x->queue = grown;
        x->queue_cap = cap;
    }
    x->queue[x->nqueue].argv = store_argv_copy(c->argv, c->argc);
    if (x->queue[x->nqueue].argv == NULL) {
        return OB_ERR;
    }
    x->queue[x->nqueue].argc = c->argc;
    x->queue[x->nqueue].cmd = c->cmd;
    x->nqueue++;
    return OB_OK;
}


/* Forgets the queue and leaves MULTI (the watches stay). */
void
store_multi_discard(store_client_t *c)
{
    struct store_client_ext_s  *x = c->ext;
    size_t                      i;

    for (i = 0; i < x->nqueue; i++) {
        free(x->queue[i].argv);
    }
    x->nqueue = 0;
    c->flags &= ~(STORE_CLIENT_MULTI | STORE_CLIENT_DIRTY_EXEC);
}


void
store_unwatch_all(store_client_t *c)
{
    struct store_client_ext_s  *x = c->ext;
    size_t                      i, k;

    for (i = 0; i < x->nwatches; i++) {
        store_keyref_t *ref = x->watches[i].ref;

        for (k = 0; k < ref->nwatchers; k++) {
            if (ref->watchers[k] == c) {
                ref->watchers[k] = ref->watchers[--ref->nwatchers];
                break;
            }
        }
        store_keyref_put(&c->st->watched, ref);
    }
    x->nwatches = 0;
    c->flags &= ~STORE_CLIENT_DIRTY_CAS;
}


/* Every client watching (db, key) will have its EXEC fail. */
void
store_watch_touch(store_t *st, int dbid, const void *key, size_t nkey)
{
    store_keyref_t *ref;
    size_t          i;

    if (ob_hash_count(&st->watched) == 0) {
        return;
    }
    ref = store_keyref_get(&st->watched, dbid, key, nkey, 0);
    if (ref == NULL) {
        return;
    }
    for (i = 0; i < ref->nwatchers; i++) {
        ref->watchers[i]->flags |= STORE_CLIENT_DIRTY_CAS;
    }
}


/*
 * FLUSHDB, FLUSHALL, SWAPDB: every watched key of db `dbid` that exists
 * now (call before the flush; for SWAPDB, for both dbs before the swap
 * and the other after it) dooms its watchers.  dbid -1: every db.
 */
void
store_watch_touch_db(store_client_t *c, int dbid)
{
    store_t   *st = c->st;
    size_t     i, k, w;
    store_client_t *cl;

    if (ob_hash_count(&st->watched) == 0) {
        return;
    }
    /* Walk the watchers through the clients: the table has no iterator
     * and the clients are few compared with keys. */
    for (i = 0; i < st->nclients; i++) {
        cl = st->clients[i];
        for (k = 0; k < cl->ext->nwatches; k++) {
            store_keyref_t *ref = cl->ext->watches[k].ref;
            store_db_t     *db;

            if (dbid != -1 && ref->dbid != dbid) {
                continue;
            }
            db = store_dbs_db(st->dbs, ref->dbid);
            if (db != NULL
                && store_db_key_is_live(db, ref->key, ref->nkey, st->now_ms))
            {
                for (w = 0; w < ref->nwatchers; w++) {
                    ref->watchers[w]->flags |= STORE_CLIENT_DIRTY_CAS;
                }
            }
        }
    }
}


static void
store_cmd_multi(store_client_t *c)
{
    if (c->flags & STORE_CLIENT_MULTI) {
        store_add_err(c, "ERR MULTI calls can not be nested");
        return;
    }
    c->flags |= STORE_CLIENT_MULTI;
    store_add_ok(c);
}


static void
store_cmd_discard(store_client_t *c)
{
    if (!(c->flags & STORE_CLIENT_MULTI)) {
        store_add_err(c, "ERR DISCARD without MULTI");
        return;
    }
    store_multi_discard(c);
    store_unwatch_all(c);
    store_add_ok(c);
}


/* A watched key that was alive at WATCH and has expired since (Redis's
 * isWatchedKeyExpired, checked at EXEC). */
static int
store_watched_key_expired(store_client_t *c)
{
    struct store_client_ext_s  *x = c->ext;
    size_t                      i;

    for (i = 0; i < x->nwatches; i++) {
        store_keyref_t *ref = x->watches[i].ref;
        store_db_t     *db = store_dbs_db(c->st->dbs, ref->dbid);
        int64_t         when;

        if (x->watches[i].expired_at_watch || db == NULL) {
            continue;
        }
        when = store_db_expire_get(db, ref->key, ref->nkey, 0);
        if (when >= 0 && when <= c->st->now_ms) {
            return 1;
        }
    }
    return 0;
}


static void
store_cmd_exec(store_client_t *c)
{
    struct store_client_ext_s  *x = c->ext;
    store_queued_t             *queue;
    size_t                      n, i;
    ob_str_t                   *argv = c->argv;
    size_t                      argc = c->argc;
    const store_cmd_t          *self = c->cmd;

    if (!(c->flags & STORE_CLIENT_MULTI)) {
        store_add_err(c, "ERR EXEC without MULTI");
        return;
    }
    if (c->flags & STORE_CLIENT_DIRTY_EXEC) {
        store_add_err(c, "EXECABORT Transaction discarded because of "
                      "previous errors.");
        store_multi_discard(c);
        store_unwatch_all(c);
        return;
    }
    if ((c->flags & STORE_CLIENT_DIRTY_CAS) || store_watched_key_expired(c)) {
        store_reply_null_array(&c->r);
        store_multi_discard(c);
        store_unwatch_all(c);
        return;
    }
    /* Watches go before running: the transaction's own writes must not
     * doom anything of this client's. */
    store_unwatch_all(c);
    queue = x->queue;
    n = x->nqueue;
    x->queue = NULL;
    x->nqueue = 0;
    x->queue_cap = 0;
    c->flags &= ~STORE_CLIENT_MULTI;
    c->flags |= STORE_CLIENT_IN_EXEC;
    store_reply_array(&c->r, n);
    for (i = 0; i < n; i++) {
        c->argv = queue[i].argv;
        c->argc = queue[i].argc;
        store_client_call(c, queue[i].cmd);
        free(queue[i].argv);
    }
    free(queue);
    c->flags &= ~STORE_CLIENT_IN_EXEC;
    c->argv = argv;
    c->argc = argc;
    c->cmd = self;
}


static void
store_cmd_watch(store_client_t *c)
{
    struct store_client_ext_s  *x = c->ext;
    size_t                      i, k;
    store_keyref_t             *ref;
    int                         gone;

    if (c->flags & STORE_CLIENT_MULTI) {
        store_add_err(c, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    for (i = 1; i < c->argc; i++) {
        /* Missing or already expired: its expiry cannot abort EXEC.
         * Checked before this client watches it, since the check may
         * delete the expired key (which touches its watchers). */
        gone = !store_db_key_is_live(c->db, c->argv[i].data, c->argv[i].len,
                                     c->st->now_ms);
        ref = store_keyref_get(&c->st->watched, c->dbid, c->argv[i].data,
                               c->argv[i].len, 1);
        if (ref == NULL) {
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
        for (k = 0; k < x->nwatches; k++) {
            if (x->watches[k].ref == ref) {
                break;
            }
        }
        if (k < x->nwatches) {
            continue;                   /* watched already */
        }
        if (x->nwatches == x->watches_cap) {
            size_t          cap = x->watches_cap ? x->watches_cap * 2 : 4;
            store_watch_t  *grown = realloc(x->watches, cap * sizeof(*grown));

            if (grown == NULL) {
                store_keyref_put(&c->st->watched, ref);
                store_add_err(c, STORE_ERR_OOM);
                return;
            }
            x->watches = grown;
            x->watches_cap = cap;
        }
        if (ref->nwatchers == ref->watchers_cap) {
            size_t           cap = ref->watchers_cap ? ref->watchers_cap * 2
                                                     : 2;
            store_client_t **grown = realloc(ref->watchers,
                                             cap * sizeof(*grown));

            if (grown == NULL) {
                store_keyref_put(&c->st->watched, ref);
                store_add_err(c, STORE_ERR_OOM);
                return;
            }
            ref->watchers = grown;
            ref->watchers_cap = cap;
        }
        ref->watchers[ref->nwatchers++] = c;
        x->watches[x->nwatches].ref = ref;
        x->watches[x->nwatches].expired_at_watch = gone;
        x->nwatches++;
    }
    store_add_ok(c);
}


static void
store_cmd_unwatch(store_client_t *c)
{
    store_unwatch_all(c);
    store_add_ok(c);
}


const store_cmd_t store_cmds_multi[] = {
    { .base = { .name = "multi", .arity_min = 1, .arity_max = 1,
                .flags = OB_CMD_FAST | STORE_CMD_NOMULTI | STORE_CMD_NOSCRIPT
                         | STORE_CMD_LOADING | STORE_CMD_STALE
                         | STORE_CMD_ALLOW_BUSY },
      .handler = store_cmd_multi, .acl = "@fast @transaction" },
    { .base = { .name = "exec", .arity_min = 1, .arity_max = 1,
                .flags = STORE_CMD_NOMULTI | STORE_CMD_NOSCRIPT
                         | STORE_CMD_LOADING | STORE_CMD_STALE
                         | STORE_CMD_SKIP_MONITOR },
      .handler = store_cmd_exec, .acl = "@slow @transaction" },
    { .base = { .name = "discard", .arity_min = 1, .arity_max = 1,
                .flags = OB_CMD_FAST | STORE_CMD_NOMULTI | STORE_CMD_NOSCRIPT
                         | STORE_CMD_LOADING | STORE_CMD_STALE
                         | STORE_CMD_ALLOW_BUSY },
      .handler = store_cmd_discard, .acl = "@fast @transaction" },
    { .base = { .name = "watch", .arity_min = 2, .arity_max = -1,
                .flags = OB_CMD_FAST | STORE_CMD_NOMULTI | STORE_CMD_NOSCRIPT
                         | STORE_CMD_LOADING | STORE_CMD_STALE
                         | STORE_CMD_ALLOW_BUSY },
      .handler = store_cmd_watch, .keys = { 1, -1, 1 },
      .acl = "@fast @transaction" },
    { .base = { .name = "unwatch", .arity_min = 1, .arity_max = 1,
                .flags = OB_CMD_FAST | STORE_CMD_NOSCRIPT | STORE_CMD_LOADING
                         | STORE_CMD_STALE | STORE_CMD_ALLOW_BUSY },
      .handler = store_cmd_unwatch, .acl = "@fast @transaction" },
    { .base = { .name = NULL } }
};
