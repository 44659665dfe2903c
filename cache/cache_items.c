/*
 * cache_items.c: the item store of the cache: a chained hash table, items in
 * the process arena, a CLOCK per arena size class, lazy expiry, CAS, flush,
 * eviction on behalf of any arena tenant, and the crawler.
 *
 * Design (memcached's items.c and assoc.c, without threads, and with a
 * 30-byte item header instead of memcached's 56: see cache_item_t in
 * cache_int.h; references only from replies in flight, see cache_item_ref):
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
 *   - Every item is one arena chunk of CACHE_ITEM_asize(total) bytes,
 *     allocated for c->owner and freed with the same size; its class
 *     (cache_item_clsid) follows from that size (0: large blocks).
 *   - No LRU lists: eviction is a CLOCK over the class's chunks, in the
 *     arena's page order (ob_arena_walk; the arena keeps the hand, and puts
 *     new pages just behind it).  A hit only sets ACTIVE (cache_item_bump:
 *     no list to relink on the hot path).  When the arena asks for room
 *     (cache_items_evict, for a class), the hand goes on from where it
 *     stopped: a free chunk or an item being uploaded (not LINKED) or
 *     referenced is passed over, a dead item is reclaimed, an ACTIVE one
 *     loses the bit (its second chance), and the first inactive one is
 *     evicted; its chunk, just behind the hand, takes the new item, which
 *     the hand then meets last.  With no hits that is FIFO order, as an
 *     LRU without hits would be.  The hook only frees; it never allocates.
 *   - The arena's age callback (which class gives a page up) and the
 *     automover's ages look at the items the hand would evict next
 *     (cache_items_age), without moving it.
 *   - Time is "rel time": seconds since c->process_started.  An item is
 *     dead when it expired (exptime != 0 && exptime <= now) or was flushed
 *     (a pending flush_all delay ran out: oldest_live != 0 && oldest_live <=
 *     now && time <= oldest_live).  Dead items are reclaimed lazily (lookup,
 *     allocation, eviction, the crawler).
 *
 * Invariants:
 *   - An item is in the table iff LINKED; a chunk that is free or not yet
 *     linked never has LINKED (unlink clears it before the free), which
 *     is how the hand tells items from free chunks.
 *   - REFS iff the item has a slot in c->refs.
 *   - stats.curr_items == sum of classes[].number;
 *     stats.bytes == sum of classes[].mem_requested == sum of the
 *     CACHE_ITEM_total of linked items.
 *   - The crawler holds no item pointer between calls: it resumes at the
 *     class's hand, which the arena moves off any page it releases.
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


/*
 * Fills asize_by_8 and cls_by_8.  With 256 pages or more the arena's
 * classes are used as they are (8-byte steps up to 192: a 14-byte key and
 * a 100-byte value take a 144-byte chunk); with fewer, sizes up to 192 are
 * rounded up to memcached's series from item_min, so that small items
 * spread over 4 classes rather than 13 (see cache_t).
 */
static void
cache_items_sizes_init(cache_t *c, const ob_arena_stats_t *ast)
{
    size_t  i, size, step;
    double  factor, grown;

    factor = 1.25;
    if (c->cycle != NULL && c->cycle->conf != NULL) {
        factor = ob_conf_double(ob_conf_section(c->cycle->conf, "core"),
                                "slab_growth_factor");
    }

    for (i = 0; i < sizeof(c->asize_by_8) / sizeof(c->asize_by_8[0]); i++) {
        size = OB_MAX(i * 8, c->item_min);

        if (ast->page_size != 0 && ast->limit / ast->page_size < 256
            && size <= 192)
        {
            for (step = c->item_min; step < size; /* void */ ) {
                grown = (double) step * factor;
                step = (size_t) grown;
                if ((double) step < grown) {
                    step++;
                }
                step = (step + 7) & ~(size_t) 7;
            }
            if (step <= 192) {
                size = step;
            }
        }

        c->asize_by_8[i] = (uint32_t) size;
        c->cls_by_8[i] = (uint8_t) ob_arena_class_of(c->arena, size);
    }
}


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

    c->refs = NULL;
    c->refs_cap = 0;
    c->refs_used = 0;
    c->crawl_class = 0;
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
    cache_items_sizes_init(c, &ast);

    return OB_OK;
}


/* fini's scan: collects the linked items (freeing them during the scan
 * would cut the chains it walks). */
typedef struct cache_collect_s {
    cache_item_t  **items;
    size_t          n, cap;
} cache_collect_t;


static void
cache_collect_one(ob_hash_link_t *l, void *arg)
{
    cache_collect_t  *col = arg;
    cache_item_t    **p;

    if (col->n == col->cap) {
        p = realloc(col->items, (col->cap ? col->cap * 2 : 1024) * sizeof(*p));
        if (p == NULL) {
            return;                     /* leaked to the arena's destroy */
        }
        col->items = p;
        col->cap = col->cap ? col->cap * 2 : 1024;
    }
    col->items[col->n++] = CACHE_ITEM_of_link(l);
}


void
cache_items_fini(cache_t *c)
{
    cache_collect_t  col;
    uint64_t         cursor;
    size_t           i;

    if (c->arena != NULL) {
        ob_arena_owner_set_evict(c->arena, c->owner, NULL, NULL);
        ob_arena_owner_set_elastic(c->arena, c->owner, NULL, NULL, NULL);
    }

    memset(&col, 0, sizeof(col));
    cursor = 0;
    do {
        cursor = ob_hash_scan(&c->hash, cursor, 1024, 4096, cache_collect_one,
                              &col);
    } while (cursor != 0);

    /* a scan may report an item twice while the table grows: LINKED is
     * cleared at the first free */
    for (i = 0; i < col.n; i++) {
        if (col.items[i]->it_flags & CACHE_ITEM_LINKED) {
            col.items[i]->it_flags &= ~CACHE_ITEM_LINKED;
            ob_arena_free(c->arena, c->owner, col.items[i],
                          CACHE_ITEM_asize(c, CACHE_ITEM_total(col.items[i])));
        }
    }
    free(col.items);

    for (i = 0; i < CACHE_NCLASSES; i++) {
        c->stats.classes[i].number = 0;
        c->stats.classes[i].mem_requested = 0;
    }

    ob_hash_fini(&c->hash);
    free(c->refs);
    c->refs = NULL;
    c->refs_cap = 0;
    c->refs_used = 0;
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


/* ---- classes and references ------------------------------------------------ */

unsigned
cache_item_clsid(const cache_t *c, const cache_item_t *it)
{
    size_t  total, asize;

    total = CACHE_ITEM_total(it);
    if (total <= CACHE_CLS_SMALL) {
        return c->cls_by_8[(total + 7) / 8];
    }
    asize = CACHE_ITEM_asize(c, total);
    return ob_arena_class_of(c->arena, asize);
}


static size_t
cache_ref_home(const cache_t *c, const cache_item_t *it)
{
    return (size_t) ((((uint64_t) (uintptr_t) it >> 3)
                      * UINT64_C(0x9E3779B97F4A7C15)) >> 20)
           & (c->refs_cap - 1);
}


/* The slot of `it` in c->refs, or the empty slot where it would go. */
static cache_ref_slot_t *
cache_ref_slot(const cache_t *c, const cache_item_t *it)
{
    size_t  i, mask;

    mask = c->refs_cap - 1;
    i = cache_ref_home(c, it);
    while (c->refs[i].it != NULL && c->refs[i].it != it) {
        i = (i + 1) & mask;
    }
    return &c->refs[i];
}


/* Doubles c->refs.  OB_ERR when calloc fails (the old table stays). */
static int
cache_refs_grow(cache_t *c)
{
    cache_ref_slot_t  *old;
    size_t             i, ocap;

    old = c->refs;
    ocap = c->refs_cap;
    c->refs_cap = ocap ? ocap * 2 : 64;
    c->refs = calloc(c->refs_cap, sizeof(cache_ref_slot_t));
    if (c->refs == NULL) {
        c->refs = old;
        c->refs_cap = ocap;
        return OB_ERR;
    }
    for (i = 0; i < ocap; i++) {
        if (old[i].it != NULL) {
            *cache_ref_slot(c, old[i].it) = old[i];
        }
    }
    free(old);
    return OB_OK;
}


/* Empties a slot, moving back the entries after it that probed past it
 * (linear probing's deletion, without tombstones). */
static void
cache_ref_slot_clear(cache_t *c, cache_ref_slot_t *slot)
{
    size_t  i, j, k, mask;

    mask = c->refs_cap - 1;
    i = (size_t) (slot - c->refs);
    j = i;
    c->refs_used--;

    for ( ;; ) {
        c->refs[i].it = NULL;
        c->refs[i].count = 0;
        for ( ;; ) {
            j = (j + 1) & mask;
            if (c->refs[j].it == NULL) {
                return;
            }
            k = cache_ref_home(c, c->refs[j].it);
            /* j stays where it is if its home is cyclically in (i, j] */
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) {
                continue;
            }
            break;
        }
        c->refs[i] = c->refs[j];
        i = j;
    }
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
    cs = &c->stats.classes[cache_item_clsid(c, it)];

    cache_hash_delete(c, it);
    it->it_flags &= ~(CACHE_ITEM_LINKED | CACHE_ITEM_ACTIVE);

    c->stats.curr_items--;
    c->stats.bytes -= total;
    cs->number--;
    cs->mem_requested -= total;

    if (!cache_item_is_referenced(it)) {
        ob_arena_free(c->arena, c->owner, it, CACHE_ITEM_asize(c, total));
    }
}


/* Reclaims a dead item met by a lookup, an allocation or an eviction. */
static void
cache_item_reclaim(cache_t *c, cache_item_t *it)
{
    cache_class_stats_t  *cs;

    cs = &c->stats.classes[cache_item_clsid(c, it)];

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
            c->stats.classes[cache_item_clsid(c, it)].expired_unfetched++;
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
    it->it_flags |= CACHE_ITEM_FETCHED | CACHE_ITEM_ACTIVE;
    it->time = c->now;
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
cache_item_is_too_large(const cache_t *c, size_t nkey, size_t nbytes)
{
    /* the bound memcached's -I tests: a 56-byte header and "\r\n" (what
     * items took before this header shrank), so that the largest value
     * accepted does not depend on the layout */
    return nbytes > UINT32_MAX - 2
           || CACHE_ITEM_SIZE_CHECK + nkey + nbytes + 2 > c->max_item_size;
}


cache_item_t *
cache_item_alloc(cache_t *c, const char *key, size_t nkey, uint32_t flags,
                 cache_rel_time_t exptime, size_t nbytes, int *why)
{
    cache_item_t  *it;
    size_t         total;
    unsigned       id;

    total = CACHE_ITEM_HDR + nkey + (flags != 0 ? 4 : 0) + nbytes;

    if (cache_item_is_too_large(c, nkey, nbytes)) {
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

    it->hlink.next = NULL;
    it->cas = 0;
    it->time = c->now;
    it->exptime = exptime;
    it->nbytes = (uint32_t) nbytes;
    it->nkey = (uint8_t) nkey;
    it->it_flags = 0;
    memcpy(CACHE_ITEM_key(it), key, nkey);
    if (flags != 0) {
        it->it_flags = CACHE_ITEM_HAS_FLAGS;
        memcpy(it->data + nkey, &flags, 4);
    }

    return it;
}


void
cache_item_free(cache_t *c, cache_item_t *it)
{
    if (it != NULL && !cache_item_is_referenced(it)) {
        ob_arena_free(c->arena, c->owner, it,
                      CACHE_ITEM_asize(c, CACHE_ITEM_total(it)));
    }
}


/*
 * The page mover cannot move an item that is still uploading (it is busy),
 * so its page, once given up, waits for it; and once linked there the
 * item would hold that page forever, out of the CLOCK's reach.  So a
 * finished upload on such a page is copied to a chunk on a live page
 * first (without eviction if a free chunk of its class exists), and the
 * page can go to the pool.  Returns the item to use: `it`, or its copy
 * (`it` is then freed).  Without memory for the copy `it` stays where it
 * is, as before.
 */
cache_item_t *
cache_item_settle(cache_t *c, cache_item_t *it)
{
    cache_item_t  *copy;
    size_t         size;

    size = CACHE_ITEM_asize(c, CACHE_ITEM_total(it));
    if (!ob_arena_chunk_is_draining(c->arena, it, size)
        || cache_item_is_referenced(it))
    {
        return it;
    }

    copy = ob_arena_alloc_nogrow(c->arena, c->owner, size);
    if (copy == NULL) {
        copy = ob_arena_alloc(c->arena, c->owner, size);
        if (copy == NULL) {
            return it;
        }
    }
    memcpy(copy, it, CACHE_ITEM_total(it));
    ob_arena_free(c->arena, c->owner, it, size);
    c->stats.slab_reassign_rescues++;

    return copy;
}


/*
 * References are rare (values of 1 KiB or more in replies in flight, and
 * uploads), so their counts are kept in c->refs rather than in every
 * header.  The table is kept at most half full; when it cannot grow
 * (malloc failed) it still has room up to full.
 */
int
cache_item_ref(cache_t *c, cache_item_t *it)
{
    cache_ref_slot_t  *slot;

    if (cache_item_is_referenced(it)) {
        cache_ref_slot(c, it)->count++;
        return OB_OK;
    }

    if ((c->refs_used + 1) * 2 > c->refs_cap && cache_refs_grow(c) != OB_OK
        && c->refs_used + 1 >= c->refs_cap)
    {
        return OB_ERR;
    }

    slot = cache_ref_slot(c, it);
    slot->it = it;
    slot->count = 1;
    c->refs_used++;
    it->it_flags |= CACHE_ITEM_REFS;
    return OB_OK;
}


void
cache_item_release(cache_t *c, cache_item_t *it)
{
    cache_ref_slot_t  *slot;

    slot = cache_ref_slot(c, it);
    if (--slot->count > 0) {
        return;
    }

    cache_ref_slot_clear(c, slot);
    it->it_flags &= ~CACHE_ITEM_REFS;

    if (!(it->it_flags & CACHE_ITEM_LINKED)) {
        ob_arena_free(c->arena, c->owner, it,
                      CACHE_ITEM_asize(c, CACHE_ITEM_total(it)));
    }
}


uint32_t
cache_item_ref_count(const cache_t *c, const cache_item_t *it)
{
    if (!cache_item_is_referenced(it)) {
        return 0;
    }
    return cache_ref_slot(c, it)->count;
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
    cs = &c->stats.classes[cache_item_clsid(c, it)];

    it->cas = c->cas_enabled ? cache_next_cas(c) : 0;
    it->it_flags |= CACHE_ITEM_LINKED;
    it->time = c->now;

    cache_hash_insert(c, it);

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

    cs = &c->stats.classes[cache_item_clsid(c, it)];
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


/* ---- the CLOCK ------------------------------------------------------------ */

/* What a walk of the hand is after (the visitors below). */
typedef struct cache_clock_s {
    cache_t       *c;
    cache_item_t  *skip;        /* never this item (the one being moved) */
    size_t         freed;       /* evict: the bytes given back */
    size_t         want;        /* age: the victims to look at */
    size_t         seen;        /* age: victims seen; crawl: items checked */
    uint64_t       key;         /* age: the smallest key among them */
    uint64_t       any_key;     /* age: the key of any linked item seen */
    size_t         reclaimed;   /* crawl */
} cache_clock_t;


/* The chunks (free ones too) the hand passes in one round of class id,
 * give or take: a walk's bound. */
static size_t
cache_clock_round(const cache_t *c, unsigned id)
{
    ob_arena_class_stats_t  cs;

    if (id == OB_ARENA_CLASS_LARGE) {
        return (size_t) c->stats.classes[0].number + 8;
    }
    if (ob_arena_owner_class_stats(c->arena, c->owner, id, &cs) != OB_OK) {
        return 0;
    }
    return cs.used_chunks + cs.free_chunks + 8;
}


/* An item's age for the arena: larger is older.  Seconds since its last
 * use first; within a second, stores since it (CAS) break the tie. */
static uint64_t
cache_item_age_key(const cache_t *c, const cache_item_t *it)
{
    uint64_t  secs, since;

    secs = c->now > it->time ? c->now - it->time : 0;
    since = c->cas_next > it->cas ? c->cas_next - it->cas : 0;

    return (secs << 40) + OB_MIN(since, (UINT64_C(1) << 40) - 1);
}


/* Eviction: the first dead item, or the first inactive one (an active one
 * loses its bit: its second chance). */
static int
cache_clock_evict_visit(void *ctx, void *chunk)
{
    cache_clock_t  *st = ctx;
    cache_t        *c = st->c;
    cache_item_t   *it = chunk;

    if (!(it->it_flags & CACHE_ITEM_LINKED) || it == st->skip
        || cache_item_is_referenced(it))
    {
        return OB_OK;
    }

    if (cache_item_dead(c, it) == CACHE_MISS_ABSENT) {
        if (!c->evictions_enabled) {
            return OB_OK;
        }
        if (it->it_flags & CACHE_ITEM_ACTIVE) {
            it->it_flags &= ~CACHE_ITEM_ACTIVE;
            return OB_OK;
        }
    }

    st->freed = cache_items_evict_item(c, it);
    return OB_DONE;
}


/* Frees one item of class id the hand comes to: reclaimed if dead, else
 * an eviction unless evictions are off (memcached's -M: the store fails
 * instead; the hand then only looks a little way for dead items).  Returns
 * the bytes given back (the chunk size), 0 for none. */
static size_t
cache_items_evict_one(cache_t *c, unsigned id, cache_item_t *skip)
{
    cache_clock_t  st;
    size_t         max;

    memset(&st, 0, sizeof(st));
    st.c = c;
    st.skip = skip;

    /* two rounds at most: every active item has lost its bit after the
     * first */
    max = c->evictions_enabled ? cache_clock_round(c, id) : 256;
    if (ob_arena_walk(c->arena, c->owner, id, max, 1, cache_clock_evict_visit,
                      &st) > 0
        && st.freed == 0 && c->evictions_enabled)
    {
        ob_arena_walk(c->arena, c->owner, id, max, 1,
                      cache_clock_evict_visit, &st);
    }

    return st.freed;
}


/*
 * The arena's eviction hook (ob_arena_evict_pt), for the cache's own
 * allocations (and, as the elastic tenant, for its large blocks when they
 * are the oldest thing the budget can take back).  Frees the items of
 * `class_id` the CLOCK hand comes to until `want` bytes of chunks are
 * given back: a freed chunk of the class is reused at once.  A class
 * with no items gives nothing: the arena then moves a page from another
 * class (page reclaim), instead of this hook emptying other classes
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
        n = cache_items_evict_one(c, class_id, NULL);
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
 * takes its place in the hash table.  The old one is no longer linked: freed now, or, if a reply
 * still points into it, by its last release.
 */
static void
cache_items_move(cache_t *c, cache_item_t *it, cache_item_t *nit)
{
    size_t  total;

    total = CACHE_ITEM_total(it);
    memcpy(nit, it, total);
    nit->it_flags &= ~CACHE_ITEM_REFS;  /* the references stay with it */

    if (cache_hash_replace(c, it, nit) != OB_OK) {
        /* cannot happen for a linked item; keep the table consistent */
        cache_hash_insert(c, nit);
    }

    it->it_flags &= ~(CACHE_ITEM_LINKED | CACHE_ITEM_ACTIVE);
    c->stats.slab_reassign_rescues++;

    if (!cache_item_is_referenced(it)) {
        ob_arena_free(c->arena, c->owner, it, CACHE_ITEM_asize(c, total));
    }
}


/*
 * The arena's evacuate callback (ob_arena_evacuate_pt): the item in
 * `chunk` is on a page the cache gives up.  A live item moves to a free
 * chunk of its class on another page; when there is none, the CLOCK hand
 * evicts one to make one (so what the cache loses is its least recently
 * used data, as memcached 1.6.34's mover does, not whatever shared the
 * page), and the item itself only when the hand finds nothing.  Not linked (an upload in
 * progress, or unlinked while a reply holds it): OB_BUSY, its owner frees
 * it later.  A referenced item is copied, or unlinked when it cannot be:
 * OB_BUSY, the page drains when the reply is done.  With -M (evictions
 * off) a live item is only moved: with no free chunk, OB_DECLINED.
 */
static int
cache_items_evacuate(void *ctx, void *chunk, unsigned class_id)
{
    cache_t       *c;
    cache_item_t  *it, *nit;
    int            busy;

    c = ctx;
    it = chunk;

    if (!(it->it_flags & CACHE_ITEM_LINKED)) {
        c->stats.slab_reassign_busy_items++;
        return OB_BUSY;
    }

    busy = cache_item_is_referenced(it) != 0;

    if (!busy && cache_item_dead(c, it) != CACHE_MISS_ABSENT) {
        cache_items_evict_item(c, it);
        return OB_OK;
    }

    nit = ob_arena_alloc_nogrow(c->arena, c->owner,
                                CACHE_ITEM_asize(c, CACHE_ITEM_total(it)));

    /* the hand walks live pages only: what it frees is elsewhere */
    while (nit == NULL && c->evictions_enabled) {
        if (cache_items_evict_one(c, class_id, it) == 0) {
            break;
        }
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


/* The age walk: the smallest key among the first st->want victims (items
 * the hand would evict: linked, inactive, not referenced). */
static int
cache_clock_age_visit(void *ctx, void *chunk)
{
    cache_clock_t  *st = ctx;
    cache_item_t   *it = chunk;
    uint64_t        key;

    if (!(it->it_flags & CACHE_ITEM_LINKED)) {
        return OB_OK;
    }

    key = cache_item_age_key(st->c, it);
    st->any_key = key;
    if ((it->it_flags & CACHE_ITEM_ACTIVE) || cache_item_is_referenced(it)) {
        return OB_OK;
    }

    if (st->seen == 0 || key < st->key) {
        st->key = key;
    }
    return ++st->seen > st->want ? OB_DONE : OB_OK;
}


/*
 * The arena's age callback (ob_arena_age_pt): how old the data is that
 * class_id would lose, larger for older.  Without an LRU, the hand's next
 * victims stand for its tail: the youngest of the next nth + 1 items it
 * would evict (looking a few times that far, without moving the hand);
 * when all it passes are active, any item's.  0 for an empty class.
 */
static uint64_t
cache_items_age(void *ctx, unsigned class_id, size_t nth)
{
    cache_t        *c;
    cache_clock_t   st;

    c = ctx;
    if (class_id >= CACHE_NCLASSES) {
        return 0;
    }

    memset(&st, 0, sizeof(st));
    st.c = c;
    st.want = nth;
    ob_arena_walk(c->arena, c->owner, class_id, (nth + 1) * 4 + 64, 0,
                  cache_clock_age_visit, &st);

    return st.seen > 0 ? st.key : st.any_key;
}


uint64_t
cache_items_class_age(cache_t *c, unsigned id)
{
    return cache_items_age(c, id, 0) >> 40;
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

        m->evicted[id][slot] = cs->evicted != m->last_evicted[id];
        m->dirty[id][slot] = m->evicted[id][slot]
                             || cs->outofmemory != m->last_oom[id]
                             || acs.total_pages != m->last_pages[id];
        m->last_evicted[id] = cs->evicted;
        m->last_oom[id] = cs->outofmemory;
        m->last_pages[id] = acs.total_pages;
        m->age[id][slot] = cache_items_class_age(c, id);

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


/* ---- the crawler ---------------------------------------------------------- */

static int
cache_clock_crawl_visit(void *ctx, void *chunk)
{
    cache_clock_t        *st = ctx;
    cache_t              *c = st->c;
    cache_item_t         *it = chunk;
    cache_class_stats_t  *cs;

    if (!(it->it_flags & CACHE_ITEM_LINKED)) {
        return OB_OK;
    }

    st->seen++;
    c->stats.crawler_items_checked++;

    if (cache_item_dead(c, it) != CACHE_MISS_ABSENT) {
        cs = &c->stats.classes[cache_item_clsid(c, it)];
        c->stats.crawler_reclaimed++;
        cs->crawler_reclaimed++;
        cache_item_reclaim(c, it);
        st->reclaimed++;
    }

    return OB_OK;
}


/*
 * Walks each class with the CLOCK hand (which it moves on, without
 * clearing ACTIVE bits), up to `max` chunks in all and one round of the
 * classes at most, reclaiming dead items.  crawl_class and crawl_done
 * (chunks walked in it) say where the next call resumes.
 */
size_t
cache_items_crawl(cache_t *c, size_t max)
{
    cache_clock_t  st;
    size_t         left, round, n, want;
    unsigned       advances;

    memset(&st, 0, sizeof(st));
    st.c = c;
    left = max;
    advances = 0;

    if (c->crawl_class >= CACHE_NCLASSES) {
        c->crawl_class = 0;
        c->crawl_done = 0;
    }

    while (left > 0 && advances < CACHE_NCLASSES) {
        /* a walk stops after one round: fewer than asked means done */
        round = cache_clock_round(c, c->crawl_class);
        want = c->crawl_done < round ? OB_MIN(left, round - c->crawl_done) : 0;
        n = ob_arena_walk(c->arena, c->owner, c->crawl_class, want, 1,
                          cache_clock_crawl_visit, &st);
        c->crawl_done += n;
        left -= n;
        if (n < want || c->crawl_done >= round) {
            c->crawl_class = (c->crawl_class + 1) % CACHE_NCLASSES;
            c->crawl_done = 0;
            advances++;
        }
    }

    return st.reclaimed;
}
