/*
 * store_evict.c: the store's maxmemory, as Redis's performEvictions: before
 * a command that may grow memory (STORE_CMD_DENYOOM) runs, the store's own
 * bytes in the arena are compared with its limit, and keys are evicted by
 * the policy until they fit.  Doing it before the command (never inside an
 * allocation) keeps a handler's keys from vanishing under it.
 *
 * The limit is `maxmemory`, or, when it is 0, the whole budget less a
 * margin of 1/32, so that eviction starts before the arena refuses.  The
 * cache is elastic: it gives pages back to the store's allocations on its
 * own (the arena asks it first), so the store evicts only what is over its
 * own limit and never touches the cache's items.
 *
 * Candidates are sampled as Redis samples them (maxmemory-samples keys of
 * a random database, or of those with a TTL for the volatile policies) and
 * the best one by the policy goes: the longest idle (LRU), the lowest
 * access counter after decay (LFU), the nearest expiry (TTL), or any
 * (random).
 */
#include "store_srv.h"

/* Samples drawn before a volatile policy gives up finding keys with TTLs. */
#define STORE_EVICT_VOLATILE_TRIES  16


size_t
store_used_memory(const store_t *st)
{
    return ob_arena_owner_bytes(st->arena, st->owner);
}


size_t
store_maxmemory(const store_t *st)
{
    if (st->maxmemory > 0) {
        return (size_t) st->maxmemory;
    }
    return st->budget - st->budget / 32;
}


/* Idle time of o in seconds by the LRU clock (wrapping at 24 bits). */
static unsigned
store_obj_idle(const store_obj_t *o, int64_t now_ms)
{
    unsigned now = store_lru_clock(now_ms);

    return now >= o->lru ? now - o->lru : now + STORE_LRU_MAX + 1 - o->lru;
}


/* One eviction: the best of a sample by the policy.  OB_DECLINED when
 * nothing can be evicted. */
static int
store_evict_one(store_t *st)
{
    int              volatile_only, db_start, i, k;
    store_db_t      *db, *best_db = NULL;
    store_entry_t   *e, *best = NULL;
    long long        best_score = 0, score;
    int64_t          when;

    volatile_only = st->maxmemory_policy == STORE_MAXMEM_VOLATILE_LRU
                    || st->maxmemory_policy == STORE_MAXMEM_VOLATILE_LFU
                    || st->maxmemory_policy == STORE_MAXMEM_VOLATILE_RANDOM
                    || st->maxmemory_policy == STORE_MAXMEM_VOLATILE_TTL;
    db_start = (int) (st->dbs->rng % (uint64_t) st->databases);
    for (i = 0; i < st->databases && best == NULL; i++) {
        db = store_dbs_db(st->dbs, (db_start + i) % st->databases);
        if (store_db_size(db) == 0
            || (volatile_only && store_db_expires_count(db) == 0))
        {
            continue;
        }
        for (k = 0; k < st->maxmemory_samples
                    * (volatile_only ? STORE_EVICT_VOLATILE_TRIES : 1); k++)
        {
            e = store_db_random(db, st->now_ms);
            if (e == NULL) {
                break;
            }
            when = store_db_entry_expire(db, e);
            if (volatile_only && when < 0) {
                continue;
            }
            switch (st->maxmemory_policy) {
            case STORE_MAXMEM_VOLATILE_TTL:
                score = -(long long) when;          /* nearest first */
                break;
            case STORE_MAXMEM_ALLKEYS_RANDOM:
            case STORE_MAXMEM_VOLATILE_RANDOM:
                score = 0;
                break;
            case STORE_MAXMEM_ALLKEYS_LFU:
            case STORE_MAXMEM_VOLATILE_LFU:
                /* the least frequently used first */
                score = 255 - (long long) store_obj_lfu_counter(
                                  e->val, st->now_ms, &st->dbs->lfu_conf);
                break;
            default:
                score = store_obj_idle(e->val, st->now_ms);
                break;
            }
            if (best == NULL || score > best_score) {
                best = e;
                best_db = db;
                best_score = score;
            }
            if (score == 0 && (st->maxmemory_policy
                               == STORE_MAXMEM_ALLKEYS_RANDOM
                               || st->maxmemory_policy
                                  == STORE_MAXMEM_VOLATILE_RANDOM))
            {
                break;
            }
        }
    }
    if (best == NULL) {
        return OB_DECLINED;
    }
    store_db_delete_entry(best_db, best, STORE_DEL_EVICTED);
    st->evicted_keys++;
    return OB_OK;
}


int
store_evict_for(store_client_t *c)
{
    store_t  *st = c->st;
    size_t    limit = store_maxmemory(st), args = 0, i;

    /*
     * Redis's used_memory includes the query buffer that holds the
     * command being checked, so a big write at the limit is refused even
     * when a small one would pass: count the arguments in.
     */
    for (i = 0; i < c->argc; i++) {
        args += c->argv[i].len;
    }
    if (store_used_memory(st) + args <= limit) {
        return OB_OK;
    }
    if (st->maxmemory_policy == STORE_MAXMEM_NOEVICTION) {
        return OB_ERR;
    }
    while (store_used_memory(st) + args > limit) {
        if (store_evict_one(st) != OB_OK) {
            return OB_ERR;
        }
    }
    return OB_OK;
}
