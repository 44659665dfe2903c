/*
 * cache_items.c: the item store of the cache: a chained hash table, items in
 * the process arena, one LRU per arena size class, lazy expiry, CAS, flush,
 * eviction on behalf of any arena tenant, and the LRU crawler.
 *
 * Design (memcached's items.c and assoc.c, without threads; references only
 * from replies in flight and uploads, see cache_item_ref in cache_int.h):
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
static int cache_items_evacuate(void *ctx, void *chunk, unsigned class_id);
static uint64_t cache_items_age(void *ctx, unsigned class_id, size_t nth);


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
    ob_arena_stats_t  ast;

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

    /* the elastic tenant: its pages go to whoever needs them, and
     * memcached's page mover defaults (automove 1, ratio 0.8) */
    ob_arena_owner_set_evict(c->arena, c->owner, cache_items_evict, c);
    ob_arena_owner_set_elastic(c->arena, c->owner, cache_items_evacuate,
                               cache_items_age, c);
    c->mover.automove = 1;
    c->mover.ratio = 0.8;

    /* items start at memcached's smallest class (see CACHE_ITEM_asize) */
    ob_arena_stats(c->arena, &ast);
    c->item_min = ast.min_chunk;
    c->class_base = ob_arena_class_of(c->arena, c->item_min) - 1;

    return OB_OK;
}


void
cache_items_fini(cache_t *c)
{
    cache_item_t  *it, *next;
    unsigned       i;

    if (c->arena != NULL) {
        ob_arena_owner_set_evict(c->arena, c->owner, NULL, NULL);
        ob_arena_owner_set_elastic(c->arena, c->owner, NULL, NULL, NULL);
    }

    for (i = 0; i < CACHE_NCLASSES; i++) {
        for (it = c->heads[i]; it != NULL; it = next) {
            next = it->next;
            ob_arena_free(c->arena, c->owner, it,
                          CACHE_ITEM_asize(c, CACHE_ITEM_total(it)));
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
 * very second.  Nothing else happens here: a delayed flush_all is applied
 * by cache_item_dead once now reaches c->oldest_live (items last stored or
 * read at or before it are dead), as memcached's settings.oldest_live is,
 * with no pass over the items.
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
        ob_arena_free(c->arena, c->owner, it, CACHE_ITEM_asize(c, total));
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
    id = ob_arena_class_of(c->arena, CACHE_ITEM_asize(c, total));

    it = ob_arena_alloc(c->arena, c->owner, CACHE_ITEM_asize(c, total));
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
        ob_arena_free(c->arena, c->owner, it,
                      CACHE_ITEM_asize(c, CACHE_ITEM_total(it)));
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
        ob_arena_free(c->arena, c->owner, it,
                      CACHE_ITEM_asize(c, CACHE_ITEM_total(it)));
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

/* Takes a linked item out as an eviction (or a reclaim if it is dead),
 * counting it as memcached does.  Returns its chunk's bytes. */
static size_t
cache_items_evict_item(cache_t *c, cache_item_t *it)
{
    cache_class_stats_t  *cs;
    size_t                bytes;

    cs = &c->stats.classes[it->clsid];
    bytes = ob_arena_chunk_size(c->arena,
                                CACHE_ITEM_asize(c, CACHE_ITEM_total(it)));

    if (cache_item_dead(c, it) != CACHE_MISS_ABSENT) {
        c->stats.reclaimed++;
        cs->reclaimed++;
        cache_item_reclaim(c, it);
        return bytes;
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


/* Frees the tail of class id: reclaimed if dead, else an eviction unless
 * evictions are off (memcached's -M: the store fails instead).  Returns
 * the bytes given back (the chunk size), 0 for none. */
static size_t
cache_items_evict_one(cache_t *c, unsigned id)
{
    cache_item_t  *it;

    it = c->tails[id];
    if (it == NULL) {
        return 0;
    }

    if (!c->evictions_enabled && cache_item_dead(c, it) == CACHE_MISS_ABSENT) {
        return 0;
    }

    return cache_items_evict_item(c, it);
}


/*
 * The arena's eviction hook (ob_arena_evict_pt), for the cache's own
 * allocations (and, as the elastic tenant, for its large blocks when they
 * are the oldest thing the budget can take back).  Frees items from the
 * tail of `class_id` until `want` bytes of chunks are given back: a freed
 * chunk of the class is reused at once, memcached's per-class LRU.  A class
 * with no items gives nothing: the arena then moves a page from another
 * class (page reclaim), instead of this hook emptying other classes' LRUs
 * until some page happened to empty.  It must not allocate.
 */
static size_t
cache_items_evict(void *ctx, unsigned class_id, size_t want)
{
    cache_t  *c;
    size_t    freed, n;

    c = ctx;
    freed = 0;

    if (class_id >= CACHE_NCLASSES) {
        return 0;
    }

    while (freed < want || freed == 0) {
        n = cache_items_evict_one(c, class_id);
        if (n == 0) {
            break;
        }
        freed += n;
    }

    /* automove 2: every eviction asks for a page for this class */
    if (freed > 0 && c->mover.automove == 2 && !c->mover.pending
        && class_id != OB_ARENA_CLASS_LARGE)
    {
        c->mover.pending = 1;
        c->mover.src = -1;
        c->mover.dst = (int) class_id;
    }

    return freed;
}


/* ---- the page mover -------------------------------------------------------- */

/*
 * Moves a linked item to `nit`, a free chunk of the same class: the copy
 * takes its place in the hash table and the LRU, and the crawler's cursor
 * follows it.  The old one is no longer linked: freed now, or, if a reply
 * still points into it, by its last release.
 */
static void
cache_items_move(cache_t *c, cache_item_t *it, cache_item_t *nit)
{
    size_t  total;

    total = CACHE_ITEM_total(it);
    memcpy(nit, it, total);
    nit->refcount = 0;

    if (cache_hash_replace(c, it, nit) != OB_OK) {
        /* cannot happen for a linked item; keep the table consistent */
        cache_hash_insert(c, nit);
    }

    if (nit->prev != NULL) {
        nit->prev->next = nit;
    } else {
        c->heads[nit->clsid] = nit;
    }
    if (nit->next != NULL) {
        nit->next->prev = nit;
    } else {
        c->tails[nit->clsid] = nit;
    }
    if (c->crawl_next == it) {
        c->crawl_next = nit;
    }

    it->prev = NULL;
    it->next = NULL;
    it->it_flags &= ~CACHE_ITEM_LINKED;
    c->stats.slab_reassign_rescues++;

    if (it->refcount == 0) {
        ob_arena_free(c->arena, c->owner, it, CACHE_ITEM_asize(c, total));
    }
}


/*
 * The arena's evacuate callback (ob_arena_evacuate_pt): the item in
 * `chunk` is on a page the cache gives up.  A live item moves to a free
 * chunk of its class on another page; when there is none, the class's LRU
 * tail is evicted to make one (so what the cache loses is its oldest data,
 * as memcached 1.6.34's mover does, not whatever shared the page), and the
 * item itself only when it is the tail.  Not linked (an upload in
 * progress, or unlinked while a reply holds it): OB_BUSY, its owner frees
 * it later.  A referenced item is copied, or unlinked when it cannot be:
 * OB_BUSY, the page drains when the reply is done.  With -M (evictions
 * off) a live item is only moved: with no free chunk, OB_DECLINED.
 */
static int
cache_items_evacuate(void *ctx, void *chunk, unsigned class_id)
{
    cache_t       *c;
    cache_item_t  *it, *nit, *tail;
    int            busy;

    c = ctx;
    it = chunk;

    if (!(it->it_flags & CACHE_ITEM_LINKED)) {
        c->stats.slab_reassign_busy_items++;
        return OB_BUSY;
    }

    busy = it->refcount > 0;

    if (!busy && cache_item_dead(c, it) != CACHE_MISS_ABSENT) {
        cache_items_evict_item(c, it);
        return OB_OK;
    }

    nit = ob_arena_alloc_nogrow(c->arena, c->owner,
                                CACHE_ITEM_asize(c, CACHE_ITEM_total(it)));

    while (nit == NULL && c->evictions_enabled) {
        tail = c->tails[class_id];
        if (tail == NULL || tail == it) {
            break;
        }
        cache_items_evict_item(c, tail);
        nit = ob_arena_alloc_nogrow(c->arena, c->owner,
                                    CACHE_ITEM_asize(c, CACHE_ITEM_total(it)));
    }

    if (nit != NULL) {
        cache_items_move(c, it, nit);
        if (busy) {
            c->stats.slab_reassign_busy_items++;
            return OB_BUSY;
        }
        return OB_OK;
    }

    if (!c->evictions_enabled) {
        return OB_DECLINED;
    }

    c->stats.slab_reassign_evictions_nomem++;
    cache_items_evict_item(c, it);

    if (busy) {
        c->stats.slab_reassign_busy_deletes++;
        return OB_BUSY;
    }

    return OB_OK;
}


/*
 * The arena's age callback (ob_arena_age_pt): how old the nth least
 * recently used item of a class is, larger for older.  Seconds since its
 * last use first; within a second, stores that came since it (CAS) break
 * the tie, so that even a fast burst gives up the class holding the least
 * recent item.  Walks nth items from the tail (the arena bounds nth).
 */
static uint64_t
cache_items_age(void *ctx, unsigned class_id, size_t nth)
{
    cache_t       *c;
    cache_item_t  *it;
    uint64_t       secs, since;

    c = ctx;
    it = class_id < CACHE_NCLASSES ? c->tails[class_id] : NULL;
    if (it == NULL) {
        return 0;
    }

    for ( /* void */ ; nth > 0 && it->prev != NULL; nth--) {
        it = it->prev;
    }

    secs = c->now > it->time ? c->now - it->time : 0;
    since = c->cas_next > it->cas ? c->cas_next - it->cas : 0;

    return (secs << 40) + OB_MIN(since, (UINT64_C(1) << 40) - 1);
}


size_t
cache_mem_limit(const cache_t *c)
{
    ob_arena_stats_t        ast;
    ob_arena_owner_stats_t  os;

    ob_arena_stats(c->arena, &ast);
    if (ob_arena_owner_stats(c->arena, c->owner, &os) == OB_OK
        && os.limit != 0 && os.limit < ast.limit)
    {
        return os.limit;
    }

    return ast.limit;
}


size_t
cache_slabs_pages(const cache_t *c, unsigned id)
{
    ob_arena_class_stats_t  cs;

    if (ob_arena_owner_class_stats(c->arena, c->owner, id, &cs) != OB_OK) {
        return 0;
    }

    return cs.total_pages - cs.draining_pages;
}


int
cache_slabs_pick_any(cache_t *c, int dst)
{
    ob_arena_stats_t  ast;
    unsigned          i, n, id;

    ob_arena_stats(c->arena, &ast);
    if (ast.nclasses <= c->class_base) {
        return -1;
    }
    n = ast.nclasses - c->class_base;

    for (i = 0; i < n; i++) {
        id = c->class_base + 1 + (c->mover.any_next + i) % n;
        if ((int) id != dst && cache_slabs_pages(c, id) > 1) {
            c->mover.any_next = (id - c->class_base) % n;
            return (int) id;
        }
    }

    return -1;
}


/* A scheduled move: OK when done or draining (memcached's mover also
 * finishes on its own time), and in any case the schedule is cleared. */
static void
cache_slabs_move_run(cache_t *c)
{
    int  src, rc;

    src = c->mover.src;
    c->mover.pending = 0;

    if (src < 0) {
        /* `slabs reassign -1 dst`, automove 2: any class with a spare
         * page, in turn */
        src = cache_slabs_pick_any(c, c->mover.dst);
        if (src < 0) {
            return;
        }
    }

    if (src == 0) {
        /* from the pool: its pages go to whoever allocates next */
        return;
    }

    rc = ob_arena_page_move(c->arena, c->owner, (unsigned) src,
                            (unsigned) c->mover.dst);
    if (rc == OB_OK || rc == OB_BUSY) {
        c->stats.slabs_moved++;
    }
}


/*
 * memcached's automove=1 (slab_automove.c), once a second: per class, one
 * sample of its evictions, out-of-memory failures, pages and tail age over
 * a window of 30.  A class with over 2.5 pages of free chunks and a quiet
 * window gives a page to the pool.  Else, once the window has filled, the
 * class with the oldest tail (over 2 pages) gives a page to the youngest
 * class that keeps evicting, when the youngest's age is under ratio times
 * the oldest's.
 */
static void
cache_slabs_automove(cache_t *c)
{
    cache_mover_t           *m;
    ob_arena_stats_t         ast;
    ob_arena_class_stats_t   acs;
    cache_class_stats_t     *cs;
    cache_item_t            *tail;
    unsigned                 id, k, evicted, dirty, slot;
    uint64_t                 age, sum, oldest_age, youngest_age;
    int                      oldest, youngest;

    m = &c->mover;
    ob_arena_stats(c->arena, &ast);
    slot = m->pos;
    oldest = -1;
    youngest = -1;
    oldest_age = 0;
    youngest_age = 0;

    for (id = 1; id <= ast.nclasses && id < CACHE_NCLASSES; id++) {
        if (ob_arena_owner_class_stats(c->arena, c->owner, id, &acs) != OB_OK) {
            continue;
        }
        cs = &c->stats.classes[id];
        tail = c->tails[id];

        m->evicted[id][slot] = cs->evicted != m->last_evicted[id];
        m->dirty[id][slot] = m->evicted[id][slot]
                             || cs->outofmemory != m->last_oom[id]
                             || acs.total_pages != m->last_pages[id];
        m->last_evicted[id] = cs->evicted;
        m->last_oom[id] = cs->outofmemory;
        m->last_pages[id] = acs.total_pages;
        m->age[id][slot] = tail != NULL && c->now > tail->time
                           ? c->now - tail->time : 0;

        evicted = 0;
        dirty = 0;
        sum = 0;
        for (k = 0; k < CACHE_AUTOMOVE_WINDOW; k++) {
            evicted += m->evicted[id][k];
            dirty += m->dirty[id][k];
            sum += m->age[id][k];
        }
        age = sum / CACHE_AUTOMOVE_WINDOW;

        /* free-page reclaim: not limited to once a second in memcached,
         * one page per tick here */
        if (dirty == 0 && acs.total_pages > 1
            && acs.free_chunks * 2 > acs.chunks_per_page * 5
            && !m->pending)
        {
            m->pending = 1;
            m->src = (int) id;
            m->dst = OB_ARENA_POOL;
        }

        if (acs.total_pages > 2 && (oldest < 0 || age > oldest_age)) {
            oldest = (int) id;
            oldest_age = age;
        }
        if (evicted * 2 > CACHE_AUTOMOVE_WINDOW
            && (youngest < 0 || age < youngest_age))
        {
            youngest = (int) id;
            youngest_age = age;
        }
    }

    m->pos = (m->pos + 1) % CACHE_AUTOMOVE_WINDOW;
    if (m->samples < CACHE_AUTOMOVE_WINDOW) {
        m->samples++;
    }

    if (!m->pending && m->samples == CACHE_AUTOMOVE_WINDOW
        && oldest > 0 && youngest > 0 && oldest != youngest
        && m->evicted[youngest][slot]
        && (double) youngest_age < (double) oldest_age * m->ratio)
    {
        m->pending = 1;
        m->src = oldest;
        m->dst = youngest;
    }
}


void
cache_slabs_tick(cache_t *c)
{
    if (c->mover.pending) {
        cache_slabs_move_run(c);
    }

    if (c->mover.automove == 1) {
        cache_slabs_automove(c);
    }
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
