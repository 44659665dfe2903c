/*
 * store_block.c: blocking commands (BLPOP, BZPOPMIN, XREAD BLOCK ...) and
 * the (db, key) reference table they share with WATCH.
 *
 * A blocking command's handler tries to serve; when it finds nothing it
 * calls store_block, which parks the client: its command is copied, it
 * joins the FIFO of waiters of each key it names, its reading stops, and
 * a timer is armed for its deadline.  A write that gives such a key new
 * elements calls store_key_ready, which queues the key (once) on the
 * ready list.  After the command that did it (after a whole EXEC), the
 * ready keys are served: each waiter of a key, in the order they blocked,
 * has its command run again with STORE_CLIENT_RETRY; a handler that still
 * finds nothing calls store_block again, which then only notes that the
 * client stays blocked.  So the rules of what serves a waiter live in the
 * type's handler alone, and waking is fair: first blocked, first served.
 * Keys that the serving commands make ready in turn (BLMOVE pushes) are
 * served in the same pass.
 */
#include "store_srv.h"

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>


/* ---- (db, key) references ------------------------------------------------ */

/* The lookup key is the db id (4 bytes) then the key's bytes; the hash
 * is the key's, seeded with the db id. */
static uint64_t
store_keyref_hash_key(const void *key, size_t nkey, void *ctx)
{
    int32_t id;

    (void) ctx;
    memcpy(&id, key, sizeof(id));
    return XXH3_64bits_withSeed((const char *) key + sizeof(id),
                                nkey - sizeof(id), (uint64_t) id);
}


static uint64_t
store_keyref_hash_entry(const ob_hash_link_t *e, void *ctx)
{
    const store_keyref_t *ref = OB_HASH_ENTRY(e, store_keyref_t, hlink);

    (void) ctx;
    return XXH3_64bits_withSeed(ref->key, ref->nkey, (uint64_t) ref->dbid);
}


static int
store_keyref_is_key(const ob_hash_link_t *e, const void *key, size_t nkey,
                    void *ctx)
{
    const store_keyref_t *ref = OB_HASH_ENTRY(e, store_keyref_t, hlink);
    int32_t               id = ref->dbid;

    (void) ctx;
    return nkey == sizeof(id) + ref->nkey
           && memcmp(key, &id, sizeof(id)) == 0
           && memcmp((const char *) key + sizeof(id), ref->key, ref->nkey)
              == 0;
}


const ob_hash_type_t store_keyref_type = {
    .hash_key = store_keyref_hash_key,
    .hash_entry = store_keyref_hash_entry,
    .entry_is_key = store_keyref_is_key
};


store_keyref_t *
store_keyref_get(ob_hash_t *h, int dbid, const void *key, size_t nkey,
                 int create)
{
    char             stack[256];
    char            *lk = stack;
    int32_t          id = dbid;
    ob_hash_link_t  *link;
    store_keyref_t  *ref;

    if (sizeof(id) + nkey > sizeof(stack)) {
        lk = malloc(sizeof(id) + nkey);
        if (lk == NULL) {
            return NULL;
        }
    }
    memcpy(lk, &id, sizeof(id));
    memcpy(lk + sizeof(id), key, nkey);
    link = ob_hash_find(h, lk, sizeof(id) + nkey);
    if (lk != stack) {
        free(lk);
    }
    if (link != NULL) {
        return OB_HASH_ENTRY(link, store_keyref_t, hlink);
    }
    if (!create) {
        return NULL;
    }
    ref = calloc(1, sizeof(*ref) + nkey);
    if (ref == NULL) {
        return NULL;
    }
    ref->dbid = dbid;
    ref->nkey = (uint32_t) nkey;
    memcpy(ref->key, key, nkey);
    ob_hash_insert(h, &ref->hlink);
    return ref;
}


/* Frees a reference nobody uses any more. */
void
store_keyref_put(ob_hash_t *h, store_keyref_t *ref)
{
    if (ref->nwaiters > 0 || ref->nwatchers > 0 || ref->ready) {
        return;
    }
    ob_hash_delete(h, &ref->hlink);
    free(ref->watchers);
    free(ref);
}


static void
store_keyref_free_all(ob_hash_t *h)
{
    uint64_t cursor = 0;

    (void) cursor;
    ob_hash_fini(h);
}


/* ---- blocking ------------------------------------------------------------ */

int
store_blocking_init(store_t *st)
{
    return ob_hash_init(&st->blocking, &store_keyref_type, st,
                        &(ob_hash_conf_t) { .power_init = 4,
                                            .load_factor = 1.0,
                                            .shrink_fill = 0.1 });
}


void
store_blocking_fini(store_t *st)
{
    /* Clients (and their waiters) are gone by now. */
    store_keyref_free_all(&st->blocking);
}


/*
 * Ends a client's wait as its timeout would (error == 0: the command's
 * timeout reply) or with Redis's UNBLOCKED error (CLIENT UNBLOCK id
 * ERROR), and lets its next requests run.  0 if it was not blocked.
 */
int
store_block_abort(store_client_t *c, int error)
{
    struct store_client_ext_s  *x = c->ext;
    void                      (*reply)(store_client_t *) = x->blk_timeout_reply;

    if (!(c->flags & STORE_CLIENT_BLOCKED)) {
        return 0;
    }
    if (error) {
        store_add_err(c, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
    } else if (reply != NULL) {
        reply(c);
    } else {
        store_reply_null_array(&c->r);
    }
    store_unblock(c);
    ob_conn_flush(c->conn);
    ob_conn_pause_read(c->conn, 0);
    return 1;
}


static void
store_block_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    store_client_t *c = arg;

    (void) fd;
    (void) what;
    store_client_refresh_time(c->st);
    store_block_abort(c, 0);
}


void
store_block(store_client_t *c, const ob_str_t *keys, size_t nkeys,
            int64_t deadline_ms, void (*timeout_reply)(store_client_t *c))
{
    store_t                    *st = c->st;
    struct store_client_ext_s  *x = c->ext;
    size_t                      i, k;
    store_keyref_t             *ref;
    store_waiter_t             *w;

    if (c->flags & (STORE_CLIENT_IN_EXEC | STORE_CLIENT_MULTI)) {
        if (timeout_reply != NULL) {
            timeout_reply(c);
        } else {
            store_reply_null_array(&c->r);
        }
        return;
    }
    if (c->flags & STORE_CLIENT_RETRY) {
        x->reblocked = 1;
        return;
    }

    x->blk_argv = store_argv_copy(c->argv, c->argc);
    x->waiters = calloc(nkeys ? nkeys : 1, sizeof(store_waiter_t));
    if (x->blk_argv == NULL || x->waiters == NULL) {
        free(x->blk_argv);
        free(x->waiters);
        x->blk_argv = NULL;
        x->waiters = NULL;
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    x->blk_argc = c->argc;
    x->blk_cmd = c->cmd;
    x->blk_dbid = c->dbid;
    x->blk_timeout_reply = timeout_reply;
    x->nwaiters = 0;
    for (i = 0; i < nkeys; i++) {
        /* a key named twice waits once */
        for (k = 0; k < i; k++) {
            if (keys[k].len == keys[i].len
                && memcmp(keys[k].data, keys[i].data, keys[i].len) == 0)
            {
                break;
            }
        }
        if (k < i) {
            continue;
        }
        ref = store_keyref_get(&st->blocking, c->dbid, keys[i].data,
                               keys[i].len, 1);
        if (ref == NULL) {
            continue;
        }
        w = &x->waiters[x->nwaiters++];
        w->ref = ref;
        w->c = c;
        w->next = NULL;
        w->prev = ref->tail;
        if (ref->tail != NULL) {
            ref->tail->next = w;
        } else {
            ref->head = w;
        }
        ref->tail = w;
        ref->nwaiters++;
    }
    if (deadline_ms > 0) {
        int64_t         left = deadline_ms - st->now_ms;
        struct timeval  tv;

        if (left < 0) {
            left = 0;
        }
        tv.tv_sec = left / 1000;
        tv.tv_usec = (left % 1000) * 1000;
        x->blk_timer = evtimer_new(st->cy->base, store_block_timeout_cb, c);
        if (x->blk_timer != NULL) {
            evtimer_add(x->blk_timer, &tv);
        }
    }
    c->flags |= STORE_CLIENT_BLOCKED;
    st->blocked_clients++;
    ob_conn_pause_read(c->conn, 1);
}


/* Takes the client out of every waiter list; reading is the caller's to
 * resume. */
void
store_unblock(store_client_t *c)
{
    store_t                    *st = c->st;
    struct store_client_ext_s  *x = c->ext;
    size_t                      i;

    if (!(c->flags & STORE_CLIENT_BLOCKED)) {
        return;
    }
    for (i = 0; i < x->nwaiters; i++) {
        store_waiter_t *w = &x->waiters[i];
        store_keyref_t *ref = w->ref;

        if (w->prev != NULL) {
            w->prev->next = w->next;
        } else {
            ref->head = w->next;
        }
        if (w->next != NULL) {
            w->next->prev = w->prev;
        } else {
            ref->tail = w->prev;
        }
        ref->nwaiters--;
        store_keyref_put(&st->blocking, ref);
    }
    free(x->waiters);
    x->waiters = NULL;
    x->nwaiters = 0;
    free(x->blk_argv);
    x->blk_argv = NULL;
    x->blk_argc = 0;
    if (x->blk_timer != NULL) {
        event_free(x->blk_timer);
        x->blk_timer = NULL;
    }
    c->flags &= ~STORE_CLIENT_BLOCKED;
    st->blocked_clients--;
}


void
store_key_ready(store_client_t *c, const ob_str_t *key)
{
    store_key_ready_db(c, c->dbid, key);
}


void
store_key_ready_db(store_client_t *c, int dbid, const ob_str_t *key)
{
    store_ready_mark(c->st, dbid, key->data, key->len);
}


void
store_ready_mark(store_t *st, int dbid, const void *key, size_t nkey)
{
    store_keyref_t *ref;

    if (st->blocked_clients == 0) {
        return;
    }
    ref = store_keyref_get(&st->blocking, dbid, key, nkey, 0);
    if (ref == NULL || ref->ready || ref->nwaiters == 0) {
        return;
    }
    ref->ready = 1;
    ref->ready_next = NULL;
    if (st->ready_tail != NULL) {
        st->ready_tail->ready_next = ref;
    } else {
        st->ready_head = ref;
    }
    st->ready_tail = ref;
}


const ob_str_t *
store_ready_key(const store_client_t *c)
{
    return (c->flags & STORE_CLIENT_RETRY) ? &c->ext->ready_key : NULL;
}


/* Runs a blocked client's command again for the key `ref` (ready); 1 when
 * it was served. */
static int
store_block_retry(store_client_t *c, const store_keyref_t *ref)
{
    struct store_client_ext_s  *x = c->ext;
    ob_str_t                   *argv = c->argv;
    size_t                      argc = c->argc;

    c->argv = x->blk_argv;
    c->argc = x->blk_argc;
    store_client_select(c, x->blk_dbid);
    x->reblocked = 0;
    x->ready_key.data = (const uint8_t *) ref->key;
    x->ready_key.len = ref->nkey;
    c->flags |= STORE_CLIENT_RETRY;
    store_client_call(c, x->blk_cmd);
    c->flags &= ~STORE_CLIENT_RETRY;
    c->argv = argv;
    c->argc = argc;
    return !x->reblocked;
}


void
store_serve_ready(store_t *st)
{
    store_keyref_t  *ref;
    store_waiter_t  *w, *next;

    st->serving_ready = 1;
    while (st->ready_head != NULL) {
        ref = st->ready_head;
        st->ready_head = ref->ready_next;
        if (st->ready_head == NULL) {
            st->ready_tail = NULL;
        }
        /* Pinned while served: `ready` keeps it from being freed when its
         * last waiter leaves. */
        for (w = ref->head; w != NULL; w = next) {
            store_client_t *c = w->c;

            next = w->next;
            if (store_block_retry(c, ref)) {
                /* unblocking removes w (and this client's other waiters,
                 * never `next`: a client waits on a key once) */
                store_unblock(c);
                ob_conn_flush(c->conn);
                ob_conn_pause_read(c->conn, 0);
            }
        }
        ref->ready = 0;
        store_keyref_put(&st->blocking, ref);
    }
    st->serving_ready = 0;
}


/* Redis's getTimeoutFromObjectOrReply: seconds as a float (or ms). */
static int
store_get_timeout(store_client_t *c, const ob_str_t *a, int seconds,
                  int64_t *deadline_ms)
{
    long double  t;
    long long    ll;
    int64_t      ms;

    if (seconds) {
        if (store_parse_long_double(a, &t) != OB_OK || t != t
            || t > 1e15L || t < -1e15L)
        {
            store_add_err(c, STORE_ERR_TIMEOUT);
            return OB_ERR;
        }
        ms = (int64_t) (t * 1000.0L);
        if (t < 0) {
            store_add_err(c, STORE_ERR_TIMEOUT_NEG);
            return OB_ERR;
        }
    } else {
        if (store_parse_ll(a, &ll) != OB_OK) {
            store_add_err(c, "ERR timeout is not an integer or out of range");
            return OB_ERR;
        }
        if (ll < 0) {
            store_add_err(c, STORE_ERR_TIMEOUT_NEG);
            return OB_ERR;
        }
        ms = ll;
    }
    if (ms > 0 && ms > INT64_MAX - c->st->now_ms) {
        store_add_err(c, STORE_ERR_TIMEOUT);
        return OB_ERR;
    }
    *deadline_ms = ms > 0 ? c->st->now_ms + ms : 0;
    return OB_OK;
}


int
store_get_timeout_or_reply(store_client_t *c, const ob_str_t *a,
                           int64_t *deadline_ms)
{
    return store_get_timeout(c, a, 1, deadline_ms);
}


int
store_get_timeout_ms_or_reply(store_client_t *c, const ob_str_t *a,
                              int64_t *deadline_ms)
{
    return store_get_timeout(c, a, 0, deadline_ms);
}
