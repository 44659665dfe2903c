/*
 * store_db.c: the store's databases (see store_db.h).
 *
 * Layout.  A key is one arena chunk, store_entry_t with the key's bytes
 * after it (24 bytes of header), linked into the keyspace's ob_hash.  A
 * key with a TTL also has a store_expire_t (24 bytes: link, entry, time)
 * in the expires table, found by the same key, and the entry's VOLATILE
 * flag says so, so that keys without a TTL never pay a second lookup.  The
 * expires table exists apart, as Redis's db->expires does, for the active
 * cycle: it walks only keys that can expire.
 *
 * Both tables of a database sit in one store_kspace_t that the database
 * points to, so SWAPDB swaps two pointers and the tables (and any rehash
 * timer that holds their address) stay where they are.
 *
 * Expiry follows Redis 7.0 (db.c expireIfNeeded): a key is expired when
 * now > when.  A read of an expired key deletes it, except on a replica
 * (store_dbs_set_replica), where it only reports it missing and waits for
 * the master's DEL; a write deletes it everywhere.  Every deletion but a
 * flush goes through store_db_delete_entry, the one place where on_del
 * hears of it (Redis propagates an expiry as a DEL from there).
 *
 * Out of memory.  The only allocations are a new key's entry (SET,
 * RENAME to a new name) and a TTL's expire entry; each is taken before
 * anything changes, so a refusal leaves the database as it was.  MOVE and
 * SWAPDB move entries without allocating.  The arena may call the store's
 * eviction hook inside an allocation, and that hook will delete keys: so
 * EXPIRE and RENAME allocate before they look any entry up, and SET's new
 * entry holds nothing of the database's while it is allocated (the value
 * is the caller's until it is linked).
 *
 * The active cycle walks the expires table with an ob_hash_scan cursor
 * kept per database (Redis 6+ does the same instead of random sampling):
 * each sample is the next STORE_EXPIRE_SAMPLE keys with a TTL, so every
 * such key is looked at within one pass of the table.
 */
#include "store_db.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include "store_glob.h"


typedef struct store_expire_s {
    ob_hash_link_t   xlink;
    store_entry_t   *e;
    int64_t          when;       /* absolute ms */
} store_expire_t;

#define STORE_ENTRY_of(l)   OB_HASH_ENTRY(l, store_entry_t, hlink)
#define STORE_EXPIRE_of(l)  OB_HASH_ENTRY(l, store_expire_t, xlink)

/* expired keys one SCAN call or one sample deletes at most (the rest wait
 * for the next access or cycle) */
#define STORE_BATCH  256


/* ---- hash table types ------------------------------------------------- */

static uint64_t
store_hash_key(const void *key, size_t nkey, void *ctx)
{
    (void) ctx;
    return XXH3_64bits(key, nkey);
}


static uint64_t
store_keys_hash_entry(const ob_hash_link_t *l, void *ctx)
{
    const store_entry_t  *e = STORE_ENTRY_of(l);

    (void) ctx;
    return XXH3_64bits(e->key, e->nkey);
}


static int
store_keys_is_key(const ob_hash_link_t *l, const void *key, size_t nkey,
    void *ctx)
{
    const store_entry_t  *e = STORE_ENTRY_of(l);

    (void) ctx;
    return e->nkey == nkey && memcmp(e->key, key, nkey) == 0;
}


static uint64_t
store_expires_hash_entry(const ob_hash_link_t *l, void *ctx)
{
    const store_entry_t  *e = STORE_EXPIRE_of(l)->e;

    (void) ctx;
    return XXH3_64bits(e->key, e->nkey);
}


static int
store_expires_is_key(const ob_hash_link_t *l, const void *key, size_t nkey,
    void *ctx)
{
    const store_entry_t  *e = STORE_EXPIRE_of(l)->e;

    (void) ctx;
    return e->nkey == nkey && memcmp(e->key, key, nkey) == 0;
}


static const ob_hash_type_t  store_keys_type = {
    .hash_key = store_hash_key,
    .hash_entry = store_keys_hash_entry,
    .entry_is_key = store_keys_is_key
};

static const ob_hash_type_t  store_expires_type = {
    .hash_key = store_hash_key,
    .hash_entry = store_expires_hash_entry,
    .entry_is_key = store_expires_is_key
};

/* Redis's dict: 4 buckets at first, one key per bucket, shrink at 10%. */
static const ob_hash_conf_t  store_hash_conf = {
    .power_init = 2,
    .load_factor = 1.0,
    .shrink_fill = 0.1
};


/* ---- creation ---------------------------------------------------------- */

store_dbs_t *
store_dbs_new(const store_dbs_conf_t *conf)
{
    store_dbs_t  *s;
    int           i, n;

    n = conf->ndb == 0 ? STORE_DB_DEFAULT_N : conf->ndb;
    if (n < 1 || conf->arena == NULL) {
        return NULL;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    s->db = calloc((size_t) n, sizeof(store_db_t));
    if (s->db == NULL) {
        free(s);
        return NULL;
    }
    s->arena = conf->arena;
    s->owner = conf->owner;
    s->on_del = conf->on_del;
    s->on_del_ctx = conf->on_del_ctx;
    s->on_add = conf->on_add;
    s->rng = conf->seed != 0 ? conf->seed : 0x9e3779b97f4a7c15ULL;

    for (i = 0; i < n; i++) {
        s->db[i].dbs = s;
        s->db[i].id = i;
        s->db[i].ks = calloc(1, sizeof(store_kspace_t));
        if (s->db[i].ks == NULL) {
            goto failed;
        }
        if (ob_hash_init(&s->db[i].ks->keys, &store_keys_type, NULL,
                         &store_hash_conf) != OB_OK)
        {
            free(s->db[i].ks);
            s->db[i].ks = NULL;
            goto failed;
        }
        if (ob_hash_init(&s->db[i].ks->expires, &store_expires_type, NULL,
                         &store_hash_conf) != OB_OK)
        {
            ob_hash_fini(&s->db[i].ks->keys);
            free(s->db[i].ks);
            s->db[i].ks = NULL;
            goto failed;
        }
        s->ndb = i + 1;
    }
    return s;

failed:
    store_dbs_free(s);
    return NULL;
}


void
store_dbs_free(store_dbs_t *s)
{
    int  i;

    if (s == NULL) {
        return;
    }
    for (i = 0; i < s->ndb; i++) {
        store_db_flush(&s->db[i]);
        ob_hash_fini(&s->db[i].ks->keys);
        ob_hash_fini(&s->db[i].ks->expires);
        free(s->db[i].ks);
    }
    free(s->db);
    free(s);
}


store_db_t *
store_dbs_db(store_dbs_t *s, int id)
{
    return id >= 0 && id < s->ndb ? &s->db[id] : NULL;
}


void
store_dbs_set_replica(store_dbs_t *s, int on)
{
    s->replica = on != 0;
}


/* ---- entries --------------------------------------------------------- */

static size_t
store_entry_size(size_t nkey)
{
    return sizeof(store_entry_t) + nkey;
}


static store_entry_t *
store_entry_new(store_dbs_t *s, const void *key, size_t nkey)
{
    store_entry_t  *e;

    if (nkey > UINT32_MAX) {
        return NULL;
    }
    e = ob_arena_alloc(s->arena, s->owner, store_entry_size(nkey));
    if (e == NULL) {
        return NULL;
    }
    e->hlink.next = NULL;
    e->val = NULL;
    e->nkey = (uint32_t) nkey;
    e->flags = 0;
    memcpy(e->key, key, nkey);
    return e;
}


static void
store_entry_release(store_dbs_t *s, store_entry_t *e)
{
    ob_arena_free(s->arena, s->owner, e, store_entry_size(e->nkey));
}


/* The expire entry of a volatile e.  borrowed. */
static store_expire_t *
store_expire_of(store_db_t *db, const store_entry_t *e)
{
    ob_hash_link_t  *l;

    if (!(e->flags & STORE_ENTRY_VOLATILE)) {
        return NULL;
    }
    l = ob_hash_find(&db->ks->expires, e->key, e->nkey);
    return l != NULL ? STORE_EXPIRE_of(l) : NULL;
}


/* Drops e's TTL, if any. */
static void
store_expire_drop(store_db_t *db, store_entry_t *e)
{
    store_expire_t  *x = store_expire_of(db, e);

    if (x != NULL) {
        (void) ob_hash_delete(&db->ks->expires, &x->xlink);
        ob_arena_free(db->dbs->arena, db->dbs->owner, x, sizeof(*x));
    }
    e->flags &= ~STORE_ENTRY_VOLATILE;
}


static store_entry_t *
store_entry_find(store_db_t *db, const void *key, size_t nkey)
{
    ob_hash_link_t  *l = ob_hash_find(&db->ks->keys, key, nkey);

    return l != NULL ? STORE_ENTRY_of(l) : NULL;
}


static int
store_entry_is_expired(store_db_t *db, const store_entry_t *e, int64_t now)
{
    store_expire_t  *x = store_expire_of(db, e);

    return x != NULL && now > x->when;
}


void
store_db_delete_entry(store_db_t *db, store_entry_t *e, store_del_why_t why)
{
    store_dbs_t  *s = db->dbs;

    if (s->on_del != NULL) {
        s->on_del(s->on_del_ctx, db->id, e, why);
    }
    if (why == STORE_DEL_EXPIRED) {
        s->expired_keys++;
    }
    store_expire_drop(db, e);
    (void) ob_hash_delete(&db->ks->keys, &e->hlink);
    store_obj_free(s->arena, s->owner, e->val);
    store_entry_release(s, e);
}


/*
 * The entry of key when live.  An expired one is deleted when `force` or
 * on a master, and is missing either way.
 */
static store_entry_t *
store_entry_live(store_db_t *db, const void *key, size_t nkey, int64_t now,
    int force)
{
    store_entry_t  *e = store_entry_find(db, key, nkey);

    if (e == NULL || !store_entry_is_expired(db, e, now)) {
        return e;
    }
    if (force || !db->dbs->replica) {
        store_db_delete_entry(db, e, STORE_DEL_EXPIRED);
    }
    return NULL;
}


/* ---- lookups ----------------------------------------------------------- */

store_entry_t *
store_db_find(store_db_t *db, const void *key, size_t nkey, int64_t now_ms)
{
    return store_entry_live(db, key, nkey, now_ms, 0);
}


void
store_dbs_set_lfu(store_dbs_t *s, int on, const store_lfu_conf_t *conf)
{
    s->lfu = on;
    s->lfu_conf = *conf;
}


/* An access to val: its LFU counter or its LRU clock; a value just bound
 * to its key starts its LFU data afresh, as Redis's createObject. */
static void
store_db_touch(store_dbs_t *s, store_obj_t *val, int64_t now_ms, int fresh)
{
    if (!s->lfu) {
        store_obj_touch(val, now_ms);
    } else if (fresh) {
        store_obj_lfu_init(val, now_ms);
    } else {
        s->rng ^= s->rng << 13;
        s->rng ^= s->rng >> 7;
        s->rng ^= s->rng << 17;
        store_obj_lfu_touch(val, now_ms, &s->lfu_conf,
                            (double) (s->rng >> 11) / 9007199254740992.0);
    }
}


store_obj_t *
store_db_lookup_read(store_db_t *db, const void *key, size_t nkey,
    int64_t now_ms, int flags)
{
    store_entry_t  *e = store_entry_live(db, key, nkey, now_ms, 0);

    if (e == NULL) {
        return NULL;
    }
    if (!(flags & STORE_LOOKUP_NOTOUCH)) {
        store_db_touch(db->dbs, e->val, now_ms, 0);
    }
    return e->val;
}


store_obj_t *
store_db_lookup_write(store_db_t *db, const void *key, size_t nkey,
    int64_t now_ms, int flags)
{
    store_entry_t  *e = store_entry_live(db, key, nkey, now_ms, 1);

    if (e == NULL) {
        return NULL;
    }
    if (!(flags & STORE_LOOKUP_NOTOUCH)) {
        store_db_touch(db->dbs, e->val, now_ms, 0);
    }
    return e->val;
}


int
store_db_key_is_live(store_db_t *db, const void *key, size_t nkey,
    int64_t now_ms)
{
    return store_entry_live(db, key, nkey, now_ms, 0) != NULL;
}


/* ---- writes ------------------------------------------------------------ */

int
store_db_set(store_db_t *db, const void *key, size_t nkey, store_obj_t *val,
    int flags, int64_t now_ms)
{
    store_dbs_t    *s = db->dbs;
    store_entry_t  *e;

    e = store_entry_live(db, key, nkey, now_ms, 1);
    if (e != NULL) {
        int fresh = e->val != val;

        if (fresh) {
            store_obj_free(s->arena, s->owner, e->val);
            e->val = val;
        }
        if (!(flags & STORE_SET_KEEPTTL)) {
            store_expire_drop(db, e);
        }
        store_db_touch(s, val, now_ms, fresh);
        return OB_OK;
    }

    e = store_entry_new(s, key, nkey);
    if (e == NULL) {
        return OB_ERR;
    }
    e->val = val;
    store_db_touch(s, val, now_ms, 1);
    ob_hash_insert(&db->ks->keys, &e->hlink);
    if (s->on_add != NULL) {
        s->on_add(s->on_del_ctx, db->id, e);
    }
    return OB_OK;
}


int
store_db_delete(store_db_t *db, const void *key, size_t nkey, int64_t now_ms)
{
    store_entry_t  *e = store_entry_live(db, key, nkey, now_ms, 1);

    if (e == NULL) {
        return OB_DECLINED;
    }
    store_db_delete_entry(db, e, STORE_DEL_EXPLICIT);
    return OB_OK;
}


/* ---- expiry -------------------------------------------------------------- */

int
store_db_expire_set(store_db_t *db, const void *key, size_t nkey,
    int64_t when_ms, int64_t now_ms)
{
    store_dbs_t     *s = db->dbs;
    store_entry_t   *e;
    store_expire_t  *x;

    /* allocated before the lookup: the owner's eviction hook may run
     * inside the allocation, and must find no entry of ours held */
    x = ob_arena_alloc(s->arena, s->owner, sizeof(*x));
    if (x == NULL) {
        return OB_ERR;
    }
    e = store_entry_live(db, key, nkey, now_ms, 1);
    if (e == NULL || (e->flags & STORE_ENTRY_VOLATILE)) {
        ob_arena_free(s->arena, s->owner, x, sizeof(*x));
        if (e == NULL) {
            return OB_DECLINED;
        }
        store_expire_of(db, e)->when = when_ms;
        return OB_OK;
    }
    x->xlink.next = NULL;
    x->e = e;
    x->when = when_ms;
    ob_hash_insert(&db->ks->expires, &x->xlink);
    e->flags |= STORE_ENTRY_VOLATILE;
    return OB_OK;
}


int64_t
store_db_expire_get(store_db_t *db, const void *key, size_t nkey,
    int64_t now_ms)
{
    store_entry_t   *e = store_entry_live(db, key, nkey, now_ms, 0);
    store_expire_t  *x;

    if (e == NULL) {
        return -2;
    }
    x = store_expire_of(db, e);
    return x != NULL ? x->when : -1;
}


int64_t
store_db_entry_expire(store_db_t *db, const store_entry_t *e)
{
    store_expire_t  *x = store_expire_of(db, e);

    return x != NULL ? x->when : -1;
}


int
store_db_persist(store_db_t *db, const void *key, size_t nkey,
    int64_t now_ms)
{
    store_entry_t  *e = store_entry_live(db, key, nkey, now_ms, 1);

    if (e == NULL || !(e->flags & STORE_ENTRY_VOLATILE)) {
        return OB_DECLINED;
    }
    store_expire_drop(db, e);
    return OB_OK;
}


int64_t
store_db_pttl(store_db_t *db, const void *key, size_t nkey, int64_t now_ms)
{
    int64_t  when = store_db_expire_get(db, key, nkey, now_ms);

    if (when < 0) {
        return when;
    }
    return when - now_ms > 0 ? when - now_ms : 0;
}


int64_t
store_db_ttl(store_db_t *db, const void *key, size_t nkey, int64_t now_ms)
{
    int64_t  ms = store_db_pttl(db, key, nkey, now_ms);

    return ms < 0 ? ms : (ms + 500) / 1000;
}


/* ---- the active cycle ---------------------------------------------------- */

typedef struct store_collect_s {
    void    *items[STORE_BATCH];
    size_t   n;
} store_collect_t;


static void
store_collect_expire(ob_hash_link_t *l, void *arg)
{
    store_collect_t  *c = arg;

    /* a chain longer than the batch: the rest waits for the next pass */
    if (c->n < STORE_BATCH) {
        c->items[c->n++] = STORE_EXPIRE_of(l);
    }
}


static uint64_t
store_usec_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}


size_t
store_dbs_active_expire(store_dbs_t *s, int64_t now_ms, uint64_t budget_us,
    store_expire_stats_t *st)
{
    store_expire_stats_t  local;
    store_collect_t       col;
    store_expire_t       *x;
    store_db_t           *db;
    uint64_t              start;
    size_t                i, sampled, expired;
    int                   k, id;

    if (st == NULL) {
        st = &local;
    }
    memset(st, 0, sizeof(*st));
    start = store_usec_now();

    for (k = 0; k < s->ndb && !st->timed_out; k++) {
        id = (s->expire_db + k) % s->ndb;
        db = &s->db[id];

        while (ob_hash_count(&db->ks->expires) > 0) {
            col.n = 0;
            db->expire_cursor = ob_hash_scan(&db->ks->expires,
                                             db->expire_cursor,
                                             STORE_EXPIRE_SAMPLE,
                                             STORE_EXPIRE_SAMPLE * 20,
                                             store_collect_expire, &col);
            sampled = col.n;
            expired = 0;
            for (i = 0; i < col.n; i++) {
                x = col.items[i];
                if (now_ms > x->when) {
                    store_db_delete_entry(db, x->e, STORE_DEL_EXPIRED);
                    expired++;
                }
            }
            st->sampled += sampled;
            st->expired += expired;

            if (store_usec_now() - start >= budget_us) {
                st->timed_out = 1;
                /* this database again next time: it may hold more */
                s->expire_db = id;
                break;
            }
            if (sampled == 0
                || expired * 100 <= sampled * STORE_EXPIRE_STALE_PCT)
            {
                break;
            }
        }
    }
    if (!st->timed_out) {
        s->expire_db = 0;
    }

    st->elapsed_us = store_usec_now() - start;
    return st->expired;
}


/* ---- the keyspace as a whole --------------------------------------------- */

size_t
store_db_size(const store_db_t *db)
{
    return ob_hash_count(&db->ks->keys);
}


size_t
store_db_expires_count(const store_db_t *db)
{
    return ob_hash_count(&db->ks->expires);
}


static void
store_flush_one(ob_hash_link_t *l, void *arg)
{
    store_db_t     *db = arg;
    store_dbs_t    *s = db->dbs;
    store_entry_t  *e = STORE_ENTRY_of(l);

    store_expire_drop(db, e);
    (void) ob_hash_delete(&db->ks->keys, &e->hlink);
    store_obj_free(s->arena, s->owner, e->val);
    store_entry_release(s, e);
}


void
store_db_flush(store_db_t *db)
{
    uint64_t  cursor;

    /* ob_hash_scan lets fn delete the entry it is given; one pass meets
     * every entry, the loop is for safety only */
    while (ob_hash_count(&db->ks->keys) > 0) {
        cursor = 0;
        do {
            cursor = ob_hash_scan(&db->ks->keys, cursor, SIZE_MAX, SIZE_MAX,
                                  store_flush_one, db);
        } while (cursor != 0);
    }
    db->expire_cursor = 0;
}


void
store_dbs_flushall(store_dbs_t *s)
{
    int  i;

    for (i = 0; i < s->ndb; i++) {
        store_db_flush(&s->db[i]);
    }
}


int
store_db_rename(store_db_t *db, const void *src, size_t nsrc,
    const void *dst, size_t ndst, int nx, int64_t now_ms)
{
    store_dbs_t     *s = db->dbs;
    store_entry_t   *se, *de, *fresh = NULL;
    store_expire_t  *x;
    int              same;

    same = nsrc == ndst && memcmp(src, dst, nsrc) == 0;
    if (!same && !store_db_key_is_live(db, dst, ndst, now_ms)) {
        /* the only allocation, taken before any entry is held (the
         * owner's eviction hook may run inside it) and before anything
         * changes */
        fresh = store_entry_new(s, dst, ndst);
        if (fresh == NULL) {
            return OB_ERR;
        }
    }

    se = store_entry_live(db, src, nsrc, now_ms, 1);
    de = same ? se : store_entry_live(db, dst, ndst, now_ms, 1);
    if (se == NULL || same || (de != NULL && nx)) {
        if (fresh != NULL) {
            store_entry_release(s, fresh);
        }
        if (se == NULL) {
            return OB_DECLINED;
        }
        return nx ? OB_BUSY : OB_OK;
    }

    if (de == NULL) {
        if (fresh == NULL) {
            /* not reached (a key live to the check above is live to
             * the write lookup, and no allocation ran in between), kept
             * so that a later change cannot dereference NULL */
            fresh = store_entry_new(s, dst, ndst);
            if (fresh == NULL) {
                return OB_ERR;
            }
        }
        de = fresh;
        ob_hash_insert(&db->ks->keys, &de->hlink);
    } else {
        if (fresh != NULL) {
            store_entry_release(s, fresh);
        }
        store_expire_drop(db, de);
        store_obj_free(s->arena, s->owner, de->val);
    }
    de->val = se->val;
    se->val = NULL;

    /* the TTL's entry moves with the value: rehashed under the new key */
    x = store_expire_of(db, se);
    if (x != NULL) {
        (void) ob_hash_delete(&db->ks->expires, &x->xlink);
        se->flags &= ~STORE_ENTRY_VOLATILE;
        x->e = de;
        ob_hash_insert(&db->ks->expires, &x->xlink);
        de->flags |= STORE_ENTRY_VOLATILE;
    }

    /* the old name is not a deletion (RENAME propagates as itself) */
    (void) ob_hash_delete(&db->ks->keys, &se->hlink);
    store_entry_release(s, se);
    /* the new name is added, even over an old value (Redis's dbAdd) */
    if (s->on_add != NULL) {
        s->on_add(s->on_del_ctx, db->id, de);
    }
    return OB_OK;
}


int
store_dbs_move(store_dbs_t *s, int from, int to, const void *key,
    size_t nkey, int64_t now_ms)
{
    store_db_t      *src, *dst;
    store_entry_t   *e;
    store_expire_t  *x;

    src = store_dbs_db(s, from);
    dst = store_dbs_db(s, to);
    if (src == NULL || dst == NULL || from == to) {
        return OB_ERR;
    }
    e = store_entry_live(src, key, nkey, now_ms, 1);
    if (e == NULL) {
        return OB_DECLINED;
    }
    if (store_entry_live(dst, key, nkey, now_ms, 1) != NULL) {
        return OB_BUSY;
    }

    x = store_expire_of(src, e);
    (void) ob_hash_delete(&src->ks->keys, &e->hlink);
    if (x != NULL) {
        (void) ob_hash_delete(&src->ks->expires, &x->xlink);
    }
    ob_hash_insert(&dst->ks->keys, &e->hlink);
    if (x != NULL) {
        ob_hash_insert(&dst->ks->expires, &x->xlink);
    }
    if (s->on_add != NULL) {
        s->on_add(s->on_del_ctx, dst->id, e);
    }
    return OB_OK;
}


int
store_dbs_swap(store_dbs_t *s, int a, int b)
{
    store_kspace_t  *t;

    if (store_dbs_db(s, a) == NULL || store_dbs_db(s, b) == NULL) {
        return OB_ERR;
    }
    t = s->db[a].ks;
    s->db[a].ks = s->db[b].ks;
    s->db[b].ks = t;
    s->db[a].expire_cursor = 0;
    s->db[b].expire_cursor = 0;
    return OB_OK;
}


/* ---- RANDOMKEY ---------------------------------------------------------- */

static uint64_t
store_rand(store_dbs_t *s)
{
    /* xorshift64*: plenty for picking buckets */
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return s->rng * 0x2545f4914f6cdd1dULL;
}


static void
store_pick_first(ob_hash_link_t *l, void *arg)
{
    store_entry_t  **pick = arg;

    if (*pick == NULL) {
        *pick = STORE_ENTRY_of(l);
    }
}


/* Some entry, from a random bucket on (a full walk if a window of 1024
 * buckets is empty, which a table that shrinks at 10% fill makes rare).
 * borrowed. */
static store_entry_t *
store_pick(store_db_t *db)
{
    store_entry_t  *pick = NULL;
    uint64_t        cursor;

    (void) ob_hash_scan(&db->ks->keys, store_rand(db->dbs), 1, 1024,
                        store_pick_first, &pick);
    cursor = 0;
    while (pick == NULL) {
        cursor = ob_hash_scan(&db->ks->keys, cursor, 1, SIZE_MAX,
                              store_pick_first, &pick);
        if (cursor == 0) {
            break;
        }
    }
    return pick;
}


store_entry_t *
store_db_random(store_db_t *db, int64_t now_ms)
{
    store_entry_t  *e, *last = NULL;
    int             tries = 0;

    while (ob_hash_count(&db->ks->keys) > 0) {
        e = store_pick(db);
        if (e == NULL) {
            return NULL;
        }
        if (!store_entry_is_expired(db, e, now_ms)) {
            return e;
        }
        if (!db->dbs->replica) {
            /* each expired pick is deleted: the loop ends (Redis loops
             * the same way on a master) */
            store_db_delete_entry(db, e, STORE_DEL_EXPIRED);
            continue;
        }
        /* a replica cannot delete: it gives up after a bounded number of
         * tries, answering an expired key as Redis's replicas do */
        last = e;
        if (++tries >= STORE_RANDOM_TRIES) {
            return last;
        }
    }
    return NULL;
}


/* ---- SCAN -------------------------------------------------------------- */

typedef struct store_scan_ctx_s {
    store_db_t      *db;
    const char      *match;
    size_t           nmatch;
    int              type;
    int64_t          now;
    store_scan_pt    fn;
    void            *arg;
    store_collect_t  expired;
} store_scan_ctx_t;


static void
store_scan_one(ob_hash_link_t *l, void *arg)
{
    store_scan_ctx_t  *c = arg;
    store_entry_t     *e = STORE_ENTRY_of(l);

    if (store_entry_is_expired(c->db, e, c->now)) {
        /* deleted after the scan step: not from inside the walk */
        if (c->expired.n < STORE_BATCH) {
            c->expired.items[c->expired.n++] = e;
        }
        return;
    }
    if (c->match != NULL
        && !store_glob_match(c->match, c->nmatch, e->key, e->nkey, 0))
    {
        return;
    }
    if (c->type >= 0 && (int) e->val->type != c->type) {
        return;
    }
    c->fn(c->arg, e);
}


uint64_t
store_db_scan(store_db_t *db, uint64_t cursor, size_t count,
    const char *match, size_t nmatch, int type, int64_t now_ms,
    store_scan_pt fn, void *arg)
{
    store_scan_ctx_t  c;
    size_t            i, steps;

    if (count == 0) {
        count = STORE_SCAN_DEFAULT_COUNT;
    }
    steps = count > SIZE_MAX / 10 ? SIZE_MAX : count * 10;

    c.db = db;
    c.match = match;
    c.nmatch = nmatch;
    c.type = type;
    c.now = now_ms;
    c.fn = fn;
    c.arg = arg;
    c.expired.n = 0;

    cursor = ob_hash_scan(&db->ks->keys, cursor, count, steps,
                          store_scan_one, &c);

    if (!db->dbs->replica) {
        for (i = 0; i < c.expired.n; i++) {
            store_db_delete_entry(db, c.expired.items[i], STORE_DEL_EXPIRED);
        }
    }
    return cursor;
}
