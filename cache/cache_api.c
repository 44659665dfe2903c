/*
 * cache_api.c: the in-process API of cache.h, for other modules (the ORM's
 * read-through cache).  It works on the very items memcached clients see,
 * with the same statistics, so `stats` shows API traffic too.
 *
 * Each call refreshes the clock first: the API may be called from another
 * module's event, between two batches of cache protocol input.
 *
 * Values cross the API without their stored "\r\n".  A key the protocol
 * would refuse (empty, longer than 250 bytes) is OB_ERR here, and so is a
 * NULL cache (the module is disabled: cache_of_cycle returned NULL).
 * cache_of_cycle itself lives in cache_module.c.
 */
#include "cache_int.h"

#include <string.h>


static int
cache_api_key_is_valid(const cache_t *c, size_t nkey)
{
    return c != NULL && nkey > 0 && nkey <= CACHE_KEY_MAX;
}


int
cache_get(cache_t *c, const char *key, size_t nkey, const void **value,
          size_t *len, uint32_t *flags, uint64_t *cas)
{
    cache_item_t  *it;

    if (!cache_api_key_is_valid(c, nkey)) {
        return OB_ERR;
    }

    cache_clock_update(c);
    c->stats.cmd_get++;

    it = cache_item_get(c, key, nkey);
    if (it == NULL) {
        c->stats.get_misses++;
        return CACHE_NOT_FOUND;
    }

    c->stats.get_hits++;
    c->stats.classes[cache_item_clsid(c, it)].get_hits++;
    cache_item_bump(c, it);

    if (value != NULL) {
        *value = CACHE_ITEM_value(it);
    }
    if (len != NULL) {
        *len = it->nbytes;
    }
    if (flags != NULL) {
        *flags = cache_item_flags(it);
    }
    if (cas != NULL) {
        *cas = it->cas;
    }

    return OB_OK;
}


/*
 * A set that cannot allocate drops the old value, as memcached's set does:
 * a reader must not go on seeing data the writer meant to replace.  A cas
 * leaves it alone (it would have failed on a changed item anyway).
 */
int
cache_set(cache_t *c, const char *key, size_t nkey, const void *value,
          size_t len, uint32_t flags, int64_t exptime, uint64_t cas,
          uint64_t *new_cas)
{
    cache_item_t  *it, *old;
    int            why;

    if (!cache_api_key_is_valid(c, nkey) || (value == NULL && len != 0)) {
        return OB_ERR;
    }

    cache_clock_update(c);

    why = CACHE_TOO_LARGE;
    it = NULL;
    if (len <= c->max_item_size) {
        it = cache_item_alloc(c, key, nkey, flags,
                              cache_exptime_rel(c, exptime), len, &why);
    }
    if (it == NULL) {
        if (why == CACHE_TOO_LARGE) {
            c->stats.store_too_large++;
        } else {
            c->stats.store_no_memory++;
        }
        if (cas == 0) {
            old = cache_item_get(c, key, nkey);
            if (old != NULL) {
                cache_item_unlink(c, old);
            }
        }
        return why;
    }

    if (len != 0) {
        memcpy(CACHE_ITEM_value(it), value, len);
    }

    return cache_store_item(c, it, cas != 0 ? CACHE_OP_CAS : CACHE_OP_SET,
                            cas, new_cas);
}


int
cache_delete(cache_t *c, const char *key, size_t nkey)
{
    cache_item_t  *it;

    if (!cache_api_key_is_valid(c, nkey)) {
        return OB_ERR;
    }

    cache_clock_update(c);

    it = cache_item_get(c, key, nkey);
    if (it == NULL) {
        c->stats.delete_misses++;
        return CACHE_NOT_FOUND;
    }

    c->stats.delete_hits++;
    c->stats.classes[cache_item_clsid(c, it)].delete_hits++;
    cache_item_unlink(c, it);

    return OB_OK;
}


int
cache_touch(cache_t *c, const char *key, size_t nkey, int64_t exptime)
{
    cache_item_t  *it;

    if (!cache_api_key_is_valid(c, nkey)) {
        return OB_ERR;
    }

    cache_clock_update(c);
    c->stats.cmd_touch++;

    it = cache_item_get(c, key, nkey);
    if (it == NULL) {
        c->stats.touch_misses++;
        return CACHE_NOT_FOUND;
    }

    c->stats.touch_hits++;
    c->stats.classes[cache_item_clsid(c, it)].touch_hits++;
    it->exptime = cache_exptime_rel(c, exptime);
    cache_item_bump(c, it);

    return OB_OK;
}
