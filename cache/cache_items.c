/*
 * cache_items.c: the item store of the cache: a chained hash table, items in
 * the process arena, one LRU per arena size class, lazy expiry, CAS, flush,
 * eviction on behalf of any arena tenant, and the LRU crawler.
 *
 * Design (memcached's items.c and assoc.c, without threads or refcounts):
 *
 *   - The hash table is core's ob_hash (XXH3_64bits of the key; the link
 *     is in the item header, so no allocation per item).  The bucket
 *     arrays are malloc'd, outside the arena budget, as memcached's
 *     primary_hashtable is.  It doubles when there are more than 4 items
 *     per bucket, a bucket per operation plus 1 ms every 100 ms from its
 *     timer (Redis's incremental rehash), so that no request waits for a
 *     whole rehash; if the malloc fails the table just stays smaller
 *     (longer chains, still correct).  memcached asks for 1.5 but
 *     grows lazily from a background thread, and was seen holding 1M items
 *     in 2^18 buckets (3.8 per bucket): 4 keeps our table at most that
 *     size, so that the bytes per item stay at or below memcached's, for
 *     chains of 2 to 4 items on average.
 *   - Every item is one arena chunk of exactly CACHE_ITEM_total(it) bytes,
 *     allocated for c->owner and freed with the same size.  it->clsid is the
 *     arena class of that size, and the index of the LRU the item lives in
 *     (0: large blocks).  Heads are the most recently used.
 *   - Eviction is driven by the arena: when any owner's allocation does not
 *     fit, the arena calls cache_items_evict(), which frees items from the
 *     tail of the class that needs room (a freed chunk of that class is
 *     reusable at once), else the oldest tail of any class (freeing chunks
 *     until a page empties and goes back to the budget).  The hook only
 *     frees; it never allocates.
 *   - Time is "rel time": seconds since c->process_started.  An item is
 *     dead when it expired (exptime != 0 && exptime <= now) or was flushed
 *     (a pending flush_all delay ran out: oldest_live != 0 && oldest_live <=
 *     now && time <= oldest_live).  Dead items are reclaimed lazily (lookup,
 *     allocation, eviction, the crawler).
 *
 * Invariants:
 *   - An item is in the table iff it is in its class's LRU iff LINKED.
 *   - stats.curr_items == sum of classes[].number;
 *     stats.bytes == sum of classes[].mem_requested == sum of the
 *     CACHE_ITEM_total of linked items.
 *   - c->crawl_next is NULL or a linked item of class c->crawl_class:
 *     every removal from an LRU moves the cursor off the item first, so
 *     the crawler never holds a freed pointer.
 *   - A pointer returned by cache_item_find is valid only until the next
 *     call that can allocate (cache_item_alloc may evict it) or unlink.
 */
#include "cache_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include "ob_cycle.h"


#define CACHE_HASHPOWER_INIT   16
#define CACHE_HASHPOWER_MAX    31
#define CACHE_NCLASSES         (OB_ARENA_MAX_CLASSES + 1)


static size_t cache_items_evict(void *ctx, unsigned class_id, size_t want);


/* ---- the hash table's view of an item ------------------------------------ */

#define CACHE_ITEM_of_link(l)  OB_HASH_ENTRY(l, cache_item_t, hlink)


static uint64_t
cache_hash_key(const void *key, size_t nkey, void *ctx)
{
    (void) ctx;
    return XXH3_64bits(key, nkey);
}


static uint64_t
cache_hash_entry(const ob_hash_link_t *l, void *ctx)
{
    const cache_item_t  *it = CACHE_ITEM_of_link(l);

    (void) ctx;
    return XXH3_64bits(CACHE_ITEM_key(it), it->nkey);
}


static int
cache_hash_is_key(const ob_hash_link_t *l, const void *key, size_t nkey,
    void *ctx)
{
    const cache_item_t  *it = CACHE_ITEM_of_link(l);

    (void) ctx;
    return it->nkey == nkey && memcmp(CACHE_ITEM_key(it), key, nkey) == 0;
}


static const ob_hash_type_t cache_hash_type = {
    .hash_key = cache_hash_key,
    .hash_entry = cache_hash_entry,
    .entry_is_key = cache_hash_is_key
};


int
cache_items_init(cache_t *c, ob_err_t *err)
{
    /* 4 items per bucket: see the design notes above. */
    static const ob_hash_conf_t  hconf = {
        .power_init = CACHE_HASHPOWER_INIT,
        .power_max = CACHE_HASHPOWER_MAX,
        .load_factor = 4.0
    };

    if (ob_hash_init(&c->hash, &cache_hash_type, c, &hconf) != OB_OK) {
        return ob_err_set(err, "cache: cannot allocate the hash table");
    }
    /* Unit tests run the store without a cycle: rehash on use only. */
    if (c->cycle != NULL && c->cycle->base != NULL
        && ob_hash_timer_set(&c->hash, c->cycle->base, 100, 1) != OB_OK)
    {
        ob_hash_fini(&c->hash);
        return ob_err_set(err, "cache: cannot create the rehash timer");
    }

    memset(c->heads, 0, sizeof(c->heads));
    memset(c->tails, 0, sizeof(c->tails));
    c->crawl_class = 0;
    c->crawl_next = NULL;
    c->oldest_live = 0;

    /* two seconds back, as memcached does, so that a rel time of 1 (the
     * "already expired" exptime) is in the past from the very start */
    if (c->process_started == 0) {
        c->process_started = time(NULL) - 2;
    }
    cache_clock_update(c);

    ob_arena_owner_set_evict(c->arena, c->owner, cache_items_evict, c);

    return OB_OK;
}


void
cache_items_fini(cache_t *c)
{
    cache_item_t  *it, *next;
    unsigned       i;

    if (c->arena != NULL) {
        ob_arena_owner_set_evict(c->arena, c->owner, NULL, NULL);
    }

    for (i = 0; i < CACHE_NCLASSES; i++) {
        for (it = c->heads[i]; it != NULL; it = next) {
            next = it->next;
            ob_arena_free(c->arena, c->owner, it, CACHE_ITEM_total(it));
        }
        c->heads[i] = NULL;
        c->tails[i] = NULL;
        c->stats.classes[i].number = 0;
        c->stats.classes[i].mem_requested = 0;
    }

    ob_hash_fini(&c->hash);
    c->crawl_next = NULL;
    c->stats.curr_items = 0;
    c->stats.bytes = 0;
}


/*
 * The clock.  now never goes below 1, so that the "already expired" rel
 * time 1 is always <= now even when the module set process_started to this
 * very second.  A delayed flush_all that ran out is carried out here, once,
 * so that items stored later in the same second survive it.
 */
void
cache_clock_update(cache_t *c)
{
    time_t  t;

    t = time(NULL);
    c->now = t > c->process_started
             ? (cache_rel_time_t) (t - c->process_started) : 0;
    if (c->now < 1) {
        c->now = 1;
    }
}


cache_rel_time_t
cache_exptime_rel(const cache_t *c, int64_t exptime)
{
    int64_t  rel;

    if (exptime == 0) {
        return 0;
    }

    if (exptime < 0) {
        return 1;
    }

    if (exptime > CACHE_REALTIME_MAXDELTA) {
        /* an absolute unix time */
        if (exptime <= (int64_t) c->process_started) {
            return 1;
        }
        rel = exptime - (int64_t) c->process_started;

    } else {
        rel = (int64_t) c->now + exptime;
    }

    return rel > UINT32_MAX ? UINT32_MAX : (cache_rel_time_t) rel;
}


int64_t
cache_item_ttl(const cache_t *c, const cache_item_t *it)
{
    if (it->exptime == 0) {
        return -1;
    }

    return it->exptime > c->now ? (int64_t) (it->exptime - c->now) : 0;
}


/* 0 if live, else why it is dead. */
static cache_miss_t
cache_item_dead(const cache_t *c, const cache_item_t *it)
{
    if (it->exptime != 0 && it->exptime <= c->now) {
        return CACHE_MISS_EXPIRED;
    }

    /* An immediate flush goes by CAS, so that what is stored in the same
     * second after it survives; a delayed one by time, once it is due. */
    if ((c->oldest_cas != 0 && it->cas != 0 && it->cas < c->oldest_cas)
        || (c->oldest_live != 0 && c->oldest_live <= c->now
            && it->time <= c->oldest_live))
    {
        return CACHE_MISS_FLUSHED;
    }

    return CACHE_MISS_ABSENT;
}


/* ---- LRU lists ----------------------------------------------------------- */

static void
cache_lru_push_head(cache_t *c, cache_item_t *it)
{
    unsigned  id;

    id = it->clsid;
    it->prev = NULL;
    it->next = c->heads[id];
    if (it->next != NULL) {
        it->next->prev = it;
    }
    c->heads[id] = it;
    if (c->tails[id] == NULL) {
        c->tails[id] = it;
    }
}


/* Takes it out of its LRU, moving the crawler's cursor off it first. */
static void
cache_lru_remove(cache_t *c, cache_item_t *it)
{
    unsigned  id;

    id = it->clsid;

    if (c->crawl_next == it) {
        c->crawl_next = it->prev;
    }

    if (it->prev != NULL) {
        it->prev->next = it->next;
    } else {
        c->heads[id] = it->next;
    }

    if (it->next != NULL) {
        it->next->prev = it->prev;
    } else {
        c->tails[id] = it->prev;
    }

    it->prev = NULL;
    it->next = NULL;
}


/* ---- the hash table ------------------------------------------------------- */

/* Growth happens inside ob_hash_insert, a bucket at a time. */
static void
cache_hash_insert(cache_t *c, cache_item_t *it)
{
    ob_hash_insert(&c->hash, &it->hlink);
}


static void
cache_hash_delete(cache_t *c, cache_item_t *it)
{
    (void) ob_hash_delete(&c->hash, &it->hlink);
}


int
cache_hash_replace(cache_t *c, cache_item_t *old, cache_item_t *repl)
{
    return ob_hash_replace(&c->hash, &old->hlink, &repl->hlink);
}


/* ---- items ---------------------------------------------------------------- */

/* Unlinks and frees without touching any counter but the population ones.
 * A referenced item is only unlinked: its last release frees it. */
static void
cache_item_unlink_free(cache_t *c, cache_item_t *it)
{
    size_t                total;
    cache_class_stats_t  *cs;

    total = CACHE_ITEM_total(it);
    cs = &c->stats.classes[it->clsid];

    cache_hash_delete(c, it);
    cache_lru_remove(c, it);
    it->it_flags &= ~CACHE_ITEM_LINKED;

    c->stats.curr_items--;
    c->stats.bytes -= total;
    cs->number--;
    cs->mem_requested -= total;

    if (it->refcount == 0) {
        ob_arena_free(c->arena, c->owner, it, total);
    }
}


/* Reclaims a dead item met by a lookup, an allocation or an eviction. */
static void
cache_item_reclaim(cache_t *c, cache_item_t *it)
{
    cache_class_stats_t  *cs;

    cs = &c->stats.classes[it->clsid];

    if ((it->it_flags & CACHE_ITEM_FETCHED) == 0) {
        c->stats.expired_unfetched++;
        cs->expired_unfetched++;
    }

    cache_item_unlink_free(c, it);
}


cache_item_t *
cache_item_find(cache_t *c, const char *key, size_t nkey, cache_miss_t *why)
{
    cache_item_t    *it;
    ob_hash_link_t  *link;
    cache_miss_t     dead;

    if (why != NULL) {
        *why = CACHE_MISS_ABSENT;
    }

    if (nkey == 0 || nkey > CACHE_KEY_MAX) {
        return NULL;
    }

    link = ob_hash_find(&c->hash, key, nkey);
    if (link == NULL) {
        return NULL;
    }
    it = CACHE_ITEM_of_link(link);

    dead = cache_item_dead(c, it);
    if (dead != CACHE_MISS_ABSENT) {
        if (dead == CACHE_MISS_EXPIRED
            && (it->it_flags & CACHE_ITEM_FETCHED) == 0)
        {
            c->stats.expired_unfetched++;
            c->stats.classes[it->clsid].expired_unfetched++;
        }
        cache_item_unlink_free(c, it);
        if (why != NULL) {
            *why = dead;
        }
        return NULL;
    }

    return it;
}


void
cache_item_bump(cache_t *c, cache_item_t *it)
{
    it->it_flags |= CACHE_ITEM_FETCHED;
    it->time = c->now;

    if ((it->it_flags & CACHE_ITEM_LINKED) && c->heads[it->clsid] != it) {
        cache_lru_remove(c, it);
        cache_lru_push_head(c, it);
    }
}

cache_item_t *
cache_item_get(cache_t *c, const char *key, size_t nkey)
{
    cache_item_t  *it;
    cache_miss_t   why;

    it = cache_item_find(c, key, nkey, &why);
    if (it == NULL) {
        if (why == CACHE_MISS_EXPIRED) {
            c->stats.get_expired++;
        } else if (why == CACHE_MISS_FLUSHED) {
            c->stats.get_flushed++;
        }
    }
    return it;
}


int
cache_item_too_large(const cache_t *c, size_t nkey, size_t nbytes)
{
    return nbytes > UINT32_MAX
           || sizeof(cache_item_t) + nkey + nbytes > c->max_item_size;
}


cache_item_t *
cache_item_alloc(cache_t *c, const char *key, size_t nkey, uint32_t flags,
                 cache_rel_time_t exptime, size_t nbytes, int *why)
{
    cache_item_t  *it;
    size_t         total;
    unsigned       id;

    total = sizeof(cache_item_t) + nkey + nbytes;

    if (cache_item_too_large(c, nkey, nbytes)) {
        if (why != NULL) {
            *why = CACHE_TOO_LARGE;
        }
        return NULL;
    }

    /* No expired item is reclaimed here while memory lasts: as memcached
     * with its segmented LRU, expired items are reclaimed by lookups, the
     * crawler, and the eviction hook when the budget is short. */
    id = ob_arena_class_of(c->arena, total);

    it = ob_arena_alloc(c->arena, c->owner, total);
    if (it == NULL) {
        c->stats.classes[id].outofmemory++;
        if (why != NULL) {
            *why = CACHE_NO_MEMORY;
        }
        return NULL;
    }

    it->prev = NULL;
    it->next = NULL;
    it->hlink.next = NULL;
    it->cas = 0;
    it->time = c->now;
    it->exptime = exptime;
    it->flags = flags;
    it->nbytes = (uint32_t) nbytes;
    it->nkey = (uint8_t) nkey;
    it->it_flags = 0;
    it->clsid = (uint8_t) id;
    it->_pad = 0;
    it->refcount = 0;
    memcpy(CACHE_ITEM_key(it), key, nkey);

    return it;
}


void
cache_item_free(cache_t *c, cache_item_t *it)
{
    if (it != NULL && it->refcount == 0) {
        ob_arena_free(c->arena, c->owner, it, CACHE_ITEM_total(it));
    }
}


void
cache_item_ref(cache_item_t *it)
{
    it->refcount++;
}


void
cache_item_release(cache_t *c, cache_item_t *it)
{
    if (--it->refcount == 0 && !(it->it_flags & CACHE_ITEM_LINKED)) {
        ob_arena_free(c->arena, c->owner, it, CACHE_ITEM_total(it));
    }
}


uint64_t
cache_next_cas(cache_t *c)
{
    return ++c->cas_next;
}


void
cache_item_link(cache_t *c, cache_item_t *it, cache_item_t *old)
{
    size_t                total;
    cache_class_stats_t  *cs;

    if (old != NULL && (old->it_flags & CACHE_ITEM_LINKED)) {
        cache_item_unlink_free(c, old);
    }

    total = CACHE_ITEM_total(it);
    cs = &c->stats.classes[it->clsid];

    it->cas = c->cas_enabled ? cache_next_cas(c) : 0;
    it->it_flags |= CACHE_ITEM_LINKED;
    it->time = c->now;

    cache_hash_insert(c, it);
    cache_lru_push_head(c, it);

    c->stats.curr_items++;
    c->stats.total_items++;
    c->stats.bytes += total;
    cs->number++;
    cs->mem_requested += total;
}


void
cache_item_unlink(cache_t *c, cache_item_t *it)
{
    if (it->it_flags & CACHE_ITEM_LINKED) {
        cache_item_unlink_free(c, it);
    } else {
        cache_item_free(c, it);
    }
}


/*
 * flush_all, in O(1): nothing is freed here.  Delay 0 (or an exptime
 * already past) records the next CAS: every item with a smaller one is
 * dead (exact: items stored later in the same second survive, where
 * memcached's -C time test would kill them).  A delay records the rel time
 * it runs out at: items last stored or read at or before it are dead once
 * the clock reaches it.  Either way cache_item_dead applies it, and dead
 * items are reclaimed by lookups, eviction and the crawler.  A new flush
 * replaces a pending one, as in memcached.
 */
void
cache_items_flush(cache_t *c, int64_t delay)
{
    cache_rel_time_t  when;

    when = delay > 0 ? cache_exptime_rel(c, delay) : c->now;

    if (when > c->now) {
        /* Due later: everything stored or read until then goes. */
        c->oldest_live = when - 1;
        return;
    }

    if (c->cas_enabled) {
        /* Every item now has a CAS below the next one handed out. */
        c->oldest_cas = c->cas_next + 1;
        c->oldest_live = 0;
    } else {
        /* Without CAS only time tells: this second's items go too, as in
         * memcached with -C. */
        c->oldest_live = c->now;
    }
}


/* ---- eviction ------------------------------------------------------------- */

/* Frees the tail of class id: reclaimed if dead, else an eviction.
 * Returns the bytes given back (the chunk size). */
static size_t
cache_items_evict_one(cache_t *c, unsigned id)
{
    cache_item_t         *it;
    cache_class_stats_t  *cs;
    size_t                bytes;

    it = c->tails[id];
    cs = &c->stats.classes[id];
    bytes = ob_arena_chunk_size(c->arena, CACHE_ITEM_total(it));

    if (cache_item_dead(c, it) != CACHE_MISS_ABSENT) {
        c->stats.reclaimed++;
        cs->reclaimed++;
        cache_item_reclaim(c, it);
        return bytes;
    }

    /* memcached's -M: a live item is never evicted; the store fails. */
    if (!c->evictions_enabled) {
        return 0;
    }

    c->stats.evictions++;
    cs->evicted++;
    if ((it->it_flags & CACHE_ITEM_FETCHED) == 0) {
        c->stats.evicted_unfetched++;
        cs->evicted_unfetched++;
    }
    if (it->exptime != 0) {
        cs->evicted_nonzero++;
    }
    cs->evicted_time = c->now - it->time;

    cache_item_unlink_free(c, it);

    return bytes;
}


/* The class whose tail is the least recently used item, or -1 if empty. */
static int
cache_items_oldest_class(const cache_t *c)
{
    int       best;
    unsigned  i;

    best = -1;

    for (i = 0; i < CACHE_NCLASSES; i++) {
        if (c->tails[i] != NULL
            && (best < 0 || c->tails[i]->time < c->tails[best]->time))
        {
            best = (int) i;
        }
    }

    return best;
}


/*
 * The arena's eviction hook (ob_arena_evict_pt), called for allocations of
 * any owner.  Frees items until `want` bytes of chunks are given back: from
 * the tail of `class_id` while it has items, then the oldest tails of the
 * other classes.  Returns the bytes freed, 0 when the cache is empty.  It
 * must not allocate (the arena forbids recursion anyway).
 */
static size_t
cache_items_evict(void *ctx, unsigned class_id, size_t want)
{
    cache_t  *c;
    size_t    freed, n;
    int       id;

    c = ctx;
    freed = 0;

    while (freed < want || freed == 0) {
        if (class_id < CACHE_NCLASSES && c->tails[class_id] != NULL) {
            id = (int) class_id;
        } else {
            id = cache_items_oldest_class(c);
            if (id < 0) {
                break;
            }
        }

        n = cache_items_evict_one(c, (unsigned) id);
        if (n == 0) {
            break;
        }
        freed += n;
    }

    return freed;
}


/* ---- the LRU crawler ------------------------------------------------------ */

static void
cache_crawl_next_class(cache_t *c)
{
    c->crawl_class = (c->crawl_class + 1) % CACHE_NCLASSES;
    c->crawl_next = NULL;
}


/*
 * Walks from each class's tail towards its head, `max` items at most and
 * one round of the classes at most, reclaiming dead items.  The position
 * is kept in crawl_class / crawl_next (NULL: the class's tail) between
 * calls; the cursor is moved before an item can be freed, and
 * cache_lru_remove moves it off any item leaving the LRU meanwhile.
 */
size_t
cache_items_crawl(cache_t *c, size_t max)
{
    cache_item_t         *it;
    cache_class_stats_t  *cs;
    size_t                checked, reclaimed;
    unsigned              advances;

    checked = 0;
    reclaimed = 0;
    advances = 0;

    if (c->crawl_class >= CACHE_NCLASSES) {
        c->crawl_class = 0;
        c->crawl_next = NULL;
    }

    while (checked < max && advances < CACHE_NCLASSES) {
        it = c->crawl_next != NULL ? c->crawl_next : c->tails[c->crawl_class];
        if (it == NULL) {
            cache_crawl_next_class(c);
            advances++;
            continue;
        }

        c->crawl_next = it->prev;
        if (c->crawl_next == NULL) {
            cache_crawl_next_class(c);
            advances++;
        }

        checked++;
        c->stats.crawler_items_checked++;

        if (cache_item_dead(c, it) != CACHE_MISS_ABSENT) {
            cs = &c->stats.classes[it->clsid];
            c->stats.crawler_reclaimed++;
            cs->crawler_reclaimed++;
            cache_item_reclaim(c, it);
            reclaimed++;
        }
    }

    return reclaimed;
}
