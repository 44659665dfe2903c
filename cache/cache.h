/*
 * cache.h: the cache module's public face: its module descriptor and the
 * in-process API that other modules (the ORM's read-through cache) use.
 *
 * The API works on the same items that memcached clients see over the
 * wire: a value set here can be read with `get` and the other way round.
 * Every call runs on the reactor thread.
 */
#ifndef OB_CACHE_H
#define OB_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include "ob_core.h"
#include "ob_module.h"

typedef struct cache_s cache_t;

extern const ob_module_t cache_module;

/* Results of the API besides OB_OK and OB_ERR. */
#define CACHE_NOT_FOUND   1    /* no such (live) key */
#define CACHE_EXISTS      2    /* the CAS given does not match the item's */
#define CACHE_NOT_STORED  3    /* add on a present key, replace on a missing one */
#define CACHE_TOO_LARGE   4    /* bigger than cache.max_item_size */
#define CACHE_NO_MEMORY   5    /* the arena could not hold it even after eviction */

/* The cache of a running cycle, or NULL when the module is disabled.
 * borrowed. */
cache_t *cache_of_cycle(struct ob_cycle_s *cy);

/*
 * Reads a key.  On OB_OK *value (borrowed: valid until the next call into
 * the cache), *len, *flags and *cas are set (any may be NULL).  Returns
 * CACHE_NOT_FOUND on a miss.  Counts as a get in `stats`.
 */
int cache_get(cache_t *c, const char *key, size_t nkey,
              const void **value /* OUT */, size_t *len /* OUT */,
              uint32_t *flags /* OUT */, uint64_t *cas /* OUT */);

/*
 * Stores a value.  exptime follows memcached (0 never, up to 30 days
 * relative, else a unix time, negative already expired).  With cas != 0 it
 * is memcached's `cas`: CACHE_EXISTS if the item changed, CACHE_NOT_FOUND
 * if it is gone.  *new_cas (may be NULL) gets the stored item's CAS.
 */
int cache_set(cache_t *c, const char *key, size_t nkey, const void *value,
              size_t len, uint32_t flags, int64_t exptime, uint64_t cas,
              uint64_t *new_cas /* OUT */);

/* Deletes a key: OB_OK or CACHE_NOT_FOUND. */
int cache_delete(cache_t *c, const char *key, size_t nkey);

/* Changes a key's expiry: OB_OK or CACHE_NOT_FOUND. */
int cache_touch(cache_t *c, const char *key, size_t nkey, int64_t exptime);

#endif /* OB_CACHE_H */
