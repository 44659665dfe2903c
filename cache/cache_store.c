/*
 * cache_store.c: the store semantics that the text and meta commands share:
 * set / add / replace / append / prepend / cas (memcached's do_store_item)
 * and incr / decr (memcached's do_add_delta).
 *
 * Design notes:
 *
 *   - A CAS value sent with a non-CAS op (meta ms's C flag) is compared as
 *     memcached 1.6 does: set and replace with a CAS become cas (a missing
 *     key is NOT_FOUND), append/prepend refuse a different CAS with EXISTS,
 *     and add ignores it (add never replaces anything).
 *   - append/prepend and a growing incr must allocate a new item while the
 *     old one is linked.  The allocation may evict the old item (a command
 *     holds no reference on it; references are for replies in flight), so
 *     after it the old item is looked up again by key: nothing but eviction
 *     runs inside the allocation, so the lookup finds either the very same
 *     item or nothing.
 *   - incr/decr rewrites the number in place only when no reply points
 *     into the item (not referenced), else it links a new item, as memcached's
 *     do_add_delta does: a reply in flight never changes under the client.
 *   - Values are stored without the protocol's "\r\n" (replies add it):
 *     the joined value of an append is old data, then the new data.
 *   - add and incr bump the item (ACTIVE) like memcached's do_item_update,
 *     which does not mark it fetched: the FETCHED bit is put back after
 *     cache_item_bump, so evicted_unfetched stays meaningful.
 *
 * Statistics: cmd_set (global and per class of the new item) for every
 * store; cas_hits / cas_badval per class of the old item, cas_misses;
 * incr_/decr_hits per class, incr_/decr_misses.  Global figures are kept
 * next to the per-class ones so that `stats` need not sum the classes.
 */
#include "cache_int.h"

#include <stdio.h>
#include <string.h>


/* Bumps an item (ACTIVE, time) without marking it fetched (do_item_update). */
static void
cache_store_touch_lru(cache_t *c, cache_item_t *it)
{
    uint8_t  fetched;

    fetched = it->it_flags & CACHE_ITEM_FETCHED;
    cache_item_bump(c, it);
    if (!fetched) {
        it->it_flags &= ~CACHE_ITEM_FETCHED;
    }
}


/*
 * Builds the joined item of an append (op APPEND) or prepend from the
 * linked `old` and the unlinked `it`.  Returns the new unlinked item with
 * *old_out the (possibly re-found) old item, or NULL with *rc set.
 */
static cache_item_t *
cache_store_join(cache_t *c, cache_item_t *it, cache_item_t *old,
                 cache_op_t op, cache_item_t **old_out, int *rc)
{
    cache_item_t      *nit;
    size_t             nbytes, olen;
    int                why;
    uint32_t           flags;
    cache_rel_time_t   exptime;

    olen = old->nbytes;
    nbytes = olen + it->nbytes;
    flags = cache_item_flags(old);
    exptime = old->exptime;

    why = CACHE_NO_MEMORY;
    nit = cache_item_alloc(c, CACHE_ITEM_key(it), it->nkey, flags, exptime,
                           nbytes, &why);
    if (nit == NULL) {
        /* too large or not enough memory: memcached says "out of memory"
         * for both, since the client sent a small enough piece */
        *rc = CACHE_NO_MEMORY;
        return NULL;
    }

    /* the allocation may have evicted old: look again */
    old = cache_item_get(c, CACHE_ITEM_key(it), it->nkey);
    if (old == NULL) {
        cache_item_free(c, nit);
        *rc = CACHE_NOT_STORED;
        return NULL;
    }

    if (op == CACHE_OP_APPEND) {
        memcpy(CACHE_ITEM_value(nit), CACHE_ITEM_value(old), olen);
        memcpy(CACHE_ITEM_value(nit) + olen, CACHE_ITEM_value(it), it->nbytes);

    } else {
        memcpy(CACHE_ITEM_value(nit), CACHE_ITEM_value(it), it->nbytes);
        memcpy(CACHE_ITEM_value(nit) + it->nbytes, CACHE_ITEM_value(old),
               olen);
    }

    *old_out = old;
    return nit;
}


int
cache_store_item(cache_t *c, cache_item_t *it, cache_op_t op,
                 uint64_t cas_in, uint64_t *cas_out)
{
    cache_item_t         *old, *nit;
    cache_class_stats_t  *ocs;
    int                   rc;

    c->stats.cmd_set++;
    c->stats.classes[cache_item_clsid(c, it)].cmd_set++;

    /* memcached 1.6's mset: a CAS turns set and replace into cas */
    if (cas_in != 0 && (op == CACHE_OP_SET || op == CACHE_OP_REPLACE)) {
        op = CACHE_OP_CAS;
    }

    old = cache_item_get(c, CACHE_ITEM_key(it), it->nkey);

    if (old == NULL) {
        switch (op) {
        case CACHE_OP_SET:
        case CACHE_OP_ADD:
            break;

        case CACHE_OP_CAS:
            c->stats.cas_misses++;
            cache_item_free(c, it);
            return CACHE_NOT_FOUND;

        default:                    /* replace, append, prepend */
            cache_item_free(c, it);
            return CACHE_NOT_STORED;
        }

        cache_item_link(c, it, NULL);
        if (cas_out != NULL) {
            *cas_out = it->cas;
        }
        return OB_OK;
    }

    ocs = &c->stats.classes[cache_item_clsid(c, old)];

    switch (op) {
    case CACHE_OP_ADD:
        cache_store_touch_lru(c, old);
        cache_item_free(c, it);
        return CACHE_NOT_STORED;

    case CACHE_OP_CAS:
        if (old->cas != cas_in) {
            c->stats.cas_badval++;
            ocs->cas_badval++;
            cache_item_free(c, it);
            return CACHE_EXISTS;
        }
        c->stats.cas_hits++;
        ocs->cas_hits++;
        break;

    case CACHE_OP_APPEND:
    case CACHE_OP_PREPEND:
        if (cas_in != 0 && old->cas != cas_in) {
            cache_item_free(c, it);
            return CACHE_EXISTS;
        }

        nit = cache_store_join(c, it, old, op, &old, &rc);
        cache_item_free(c, it);
        if (nit == NULL) {
            return rc;
        }
        it = nit;
        break;

    default:                        /* set, replace */
        break;
    }

    cache_item_link(c, it, old);
    if (cas_out != NULL) {
        *cas_out = it->cas;
    }

    return OB_OK;
}


int
cache_store_incr(cache_t *c, const char *key, size_t nkey, int incr,
                 uint64_t delta, uint64_t cas_in, uint64_t *value,
                 uint64_t *cas_out)
{
    cache_item_t         *it, *nit;
    cache_class_stats_t  *cs;
    uint64_t              v;
    size_t                len, olen;
    int                   why;
    char                  buf[24];

    it = cache_item_get(c, key, nkey);
    if (it == NULL) {
        if (incr) {
            c->stats.incr_misses++;
        } else {
            c->stats.decr_misses++;
        }
        return CACHE_NOT_FOUND;
    }

    if (cas_in != 0 && it->cas != cas_in) {
        return CACHE_EXISTS;
    }

    olen = it->nbytes;
    /* the protocol's own reader (memcached's safe_strtoull on the item),
     * so that a stored "-9223372036854775809" is read as memcached reads
     * it */
    if (olen == 0 || cache_proto_u64_text(CACHE_ITEM_value(it), olen, &v) != OB_OK) {
        return OB_DECLINED;
    }

    if (incr) {
        v += delta;                 /* wraps mod 2^64, as memcached */
    } else {
        v = delta > v ? 0 : v - delta;
    }

    len = (size_t) snprintf(buf, sizeof(buf), "%llu", (unsigned long long) v);

    cs = &c->stats.classes[cache_item_clsid(c, it)];
    if (incr) {
        c->stats.incr_hits++;
        cs->incr_hits++;
    } else {
        c->stats.decr_hits++;
        cs->decr_hits++;
    }

    if (len <= olen && !cache_item_is_referenced(it)) {
        /* in place, space-padded: "100" decr 1 is "99 ".  Not while a
         * reply points into the value (memcached's refcount test in
         * do_add_delta): a new item replaces it then. */
        memcpy(CACHE_ITEM_value(it), buf, len);
        memset(CACHE_ITEM_value(it) + len, ' ', olen - len);
        it->cas = c->cas_enabled ? cache_next_cas(c) : 0;
        cache_store_touch_lru(c, it);

    } else {
        why = CACHE_NO_MEMORY;
        nit = cache_item_alloc(c, key, nkey, cache_item_flags(it), it->exptime,
                               len, &why);
        if (nit == NULL) {
            return CACHE_NO_MEMORY;
        }
        memcpy(CACHE_ITEM_value(nit), buf, len);

        /* the allocation may have evicted it: link over what is there now
         * (memcached's item_replace links the new item either way) */
        it = cache_item_get(c, key, nkey);
        cache_item_link(c, nit, it);
        it = nit;
    }

    if (value != NULL) {
        *value = v;
    }
    if (cas_out != NULL) {
        *cas_out = it->cas;
    }

    return OB_OK;
}
