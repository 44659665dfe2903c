/*
 * ob_arena.c: the budget the modules' data shares, as size-classed slab
 * pages owned by one owner each, a pool of free pages, and allocation on
 * them.  Giving pages back (page reclaim from elastic owners, memcached's
 * slab page mover driven by allocation; rebalance; the walk) is in
 * ob_arena_reclaim.c; the structs both files share are in ob_arena_int.h.
 *
 * Layout.  A page is page_size bytes from posix_memalign(page_size,
 * page_size), so the page of a chunk is found by masking its address and
 * nothing is stored in front of a chunk.  The page starts with its header:
 *
 *   +-----------------+---------+---------+-----+---------+----------+
 *   | ob_arena_page_t | chunk 0 | chunk 1 | ... | chunk n | (unused) |
 *   +-----------------+---------+---------+-----+---------+----------+
 *   ^ page (aligned)   ^ page + hdr_size (a multiple of 8)
 *
 * so a class holds (page_size - hdr_size) / chunk_size chunks per page.
 * Chunks are carved lazily from the bump area (`carved`); freed ones go on
 * their page's free list, linked through their first word, and are reused
 * first.  Each owner keeps, per class, its pages in three lists: `avail`
 * (some room), `full`, and `draining` (given up, waiting for busy chunks),
 * so allocation only looks at the head of `avail`.
 *
 * Pages and the budget.
 *   used == (pages + pool_pages) * page_size + large_bytes
 *   pages == sum over owners and classes of their pages (draining included)
 *   sum of owner bytes == sum of used chunks * chunk size + large_bytes
 *   used <= limit, unless ob_arena_set_limit lowered the limit
 * A page whose last chunk is freed goes to the pool while the pool holds
 * fewer than `spare` pages, else back to the system: an alloc/free pair
 * across a page boundary costs a list move, not an munmap and an mmap.
 * Pages given up by an elastic owner always go to the pool (someone is
 * waiting for them).  A large block that does not fit frees pool pages to
 * the system first.
 *
 * When the budget is full, ob_arena_alloc's slow path asks the owner's
 * hook, rebalances an elastic owner's own classes, or reclaims a page from
 * an elastic owner (ob_arena_reclaim.c), in the order ob_arena.h gives.
 *
 * OB_DEBUG_ARENA.  Every chunk, like every large block, is its own
 * malloc(size) behind an ob_arena_block_t, so that AddressSanitizer sees
 * overflows past the requested size and uses after free; the header records
 * owner, class and size, which ob_arena_free asserts.  Pages are simulated:
 * an owner's class holds ceil(used / chunks_per_page) pages, as if
 * perfectly packed, and the pool is a count.  Giving up a page evacuates
 * chunks_per_page chunks of the class through the same callback; while it
 * does, ob_arena_alloc_nogrow only finds room outside those chunks' page.
 *
 * Not thread-safe: only the reactor thread allocates.  No global state.
 */
#include "ob_arena.h"
#include "ob_arena_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ob_core.h"


#define OB_ARENA_ALIGN        8
#define OB_ARENA_ALIGN_UP(n)  (((n) + OB_ARENA_ALIGN - 1) & ~(size_t) (OB_ARENA_ALIGN - 1))
#define OB_ARENA_MIN_PAGE     4096
#define OB_ARENA_MIN_CHUNK    16
#define OB_ARENA_MAX_FACTOR   100.0
#define OB_ARENA_FINE_MAX     192    /* 8-byte steps stop here (23 classes) */


/* 1 when `bytes` more fit in the budget; written to not overflow. */
static int
ob_arena_is_within_budget(const ob_arena_t *a, size_t bytes)
{
    return a->used <= a->limit && bytes <= a->limit - a->used;
}


/* 1 when `bytes` more would take the owner over its own limit. */
static int
ob_arena_is_over_limit(const ob_arena_owner_t *ow, size_t bytes)
{
    return ow->limit != 0
           && (ow->bytes > ow->limit || bytes > ow->limit - ow->bytes);
}


/*
 * Fills classes 1..nclasses: 16, 24, ... in 8-byte steps up to
 * OB_ARENA_FINE_MAX (192), so that small objects (the store's, and cache
 * items of a few dozen bytes of data) waste at most 7 bytes; then the
 * growth series, from the last fine class times the factor (240, 304, ...
 * at 1.25), or from min_chunk when that is larger.  A size of the series is kept only while one more growth
 * step would not pass the largest class (memcached's slabs_init rule), so
 * the step to page_size / 2 is never smaller than one factor.  Every step
 * is at least 8 bytes; past OB_ARENA_MAX_CLASSES - 1 classes the rest
 * collapse into the largest.
 */
static void
ob_arena_classes_init(ob_arena_t *a, size_t min_chunk, double factor)
{
    size_t             size, next, max;
    double             grown;
    unsigned           n;
    ob_arena_class_t  *c;

    max = a->page_size / 2;
    min_chunk = OB_ARENA_ALIGN_UP(min_chunk);
    n = 0;

    for (size = OB_ARENA_MIN_CHUNK;
         size <= OB_ARENA_FINE_MAX && size < max;
         size += OB_ARENA_ALIGN)
    {
        a->classes[++n].chunk_size = size;
    }

    /* the growth series goes on from the last fine class, or starts at
     * min_chunk when that is beyond the fine steps */
    size = min_chunk;
    if (n > 0 && a->classes[n].chunk_size >= min_chunk) {
        grown = (double) a->classes[n].chunk_size * factor;
        next = (size_t) grown;
        if ((double) next < grown) {
            next++;
        }
        size = OB_MAX(OB_ARENA_ALIGN_UP(next),
                      a->classes[n].chunk_size + OB_ARENA_ALIGN);
    }

    while (n < OB_ARENA_MAX_CLASSES - 1 && size < max) {
        grown = (double) size * factor;
        if (grown > (double) max) {
            break;
        }

        a->classes[++n].chunk_size = size;

        next = (size_t) grown;
        if ((double) next < grown) {
            next++;                     /* ceil without libm */
        }
        next = OB_ARENA_ALIGN_UP(next);
        size = OB_MAX(next, size + OB_ARENA_ALIGN);
    }

    a->classes[++n].chunk_size = max;
    a->nclasses = n;

    for (n = 1; n <= a->nclasses; n++) {
        c = &a->classes[n];
        c->per_page = (a->page_size - a->hdr_size) / c->chunk_size;
    }
}


ob_arena_t *
ob_arena_new(const ob_arena_conf_t *conf, char *err, size_t errlen)
{
    ob_arena_t  *a;
    const char  *why;
    size_t       nmax;

    why = NULL;
    a = NULL;

    if (conf == NULL) {
        why = "no configuration";

    } else if (conf->limit == 0) {
        why = "limit must be greater than 0";

    } else if (conf->page_size < OB_ARENA_MIN_PAGE
               || (conf->page_size & (conf->page_size - 1)) != 0)
    {
        why = "page_size must be a power of two, at least 4096";

    } else if (conf->min_chunk < OB_ARENA_MIN_CHUNK
               || conf->min_chunk > conf->page_size / 2)
    {
        why = "min_chunk must be at least 16 and at most page_size / 2";

    } else if (!(conf->growth_factor > 1.0
                 && conf->growth_factor <= OB_ARENA_MAX_FACTOR))
    {
        /* written so that NaN fails too */
        why = "growth_factor must be greater than 1.0 and at most 100";
    }

    if (why == NULL) {
        a = calloc(1, sizeof(ob_arena_t));
        nmax = conf->page_size / OB_ARENA_MIN_CHUNK;
        if (a != NULL) {
            a->evac_bits = calloc((nmax + 63) / 64, sizeof(uint64_t));
#ifdef OB_DEBUG_ARENA
            a->evac_list = calloc(nmax, sizeof(void *));
#endif
        }
        if (a == NULL || a->evac_bits == NULL
#ifdef OB_DEBUG_ARENA
            || a->evac_list == NULL
#endif
           )
        {
            why = "out of memory";
            if (a != NULL) {
                free(a->evac_bits);
                free(a->evac_list);
                free(a);
            }
        }
    }

    if (why != NULL) {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "arena: %s", why);
        }
        return NULL;
    }

    a->limit = conf->limit;
    a->page_size = conf->page_size;
    a->min_chunk = OB_ARENA_ALIGN_UP(conf->min_chunk);
    a->page_mask = ~((uintptr_t) conf->page_size - 1);
    a->hdr_size = OB_ARENA_ALIGN_UP(sizeof(ob_arena_page_t));
    a->spare = OB_ARENA_SPARE_PAGES;

    ob_arena_classes_init(a, conf->min_chunk, conf->growth_factor);

    return a;
}


static void
ob_arena_pages_free(ob_arena_page_t *page)
{
    ob_arena_page_t  *next;

    for ( /* void */ ; page != NULL; page = next) {
        next = page->next;
        free(page);
    }
}


static void
ob_arena_blocks_free(ob_arena_block_t *b)
{
    ob_arena_block_t  *next;

    for ( /* void */ ; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
}


void
ob_arena_destroy(ob_arena_t *a)
{
    unsigned            i, o;
    ob_arena_oclass_t  *oc;

    if (a == NULL) {
        return;
    }

    for (o = 0; o < a->nowners; o++) {
        for (i = 1; i <= a->nclasses; i++) {
            oc = &a->owners[o].oc[i];
            ob_arena_pages_free(oc->avail);
            ob_arena_pages_free(oc->full);
            ob_arena_pages_free(oc->draining);
            ob_arena_blocks_free(oc->blocks);
        }
    }

    ob_arena_pages_free(a->pool);
    ob_arena_blocks_free(a->blocks);
    free(a->evac_bits);
    free(a->evac_list);
    free(a);
}


int
ob_arena_owner_add(ob_arena_t *a, const char *name)
{
    ob_arena_owner_t  *ow;

    if (a->nowners == OB_ARENA_MAX_OWNERS) {
        return OB_ERR;
    }

    ow = &a->owners[a->nowners];
    memset(ow, 0, sizeof(ob_arena_owner_t));
    ow->name = name;

    return (int) a->nowners++;
}


void
ob_arena_owner_set_evict(ob_arena_t *a, int owner, ob_arena_evict_pt fn,
    void *ctx)
{
    if (!ob_arena_owner_is_valid(a, owner)) {
        return;
    }

    a->owners[owner].evict = fn;
    a->owners[owner].evict_ctx = fn != NULL ? ctx : NULL;
}


void
ob_arena_owner_set_elastic(ob_arena_t *a, int owner,
    ob_arena_evacuate_pt evacuate, ob_arena_age_pt age, void *ctx)
{
    ob_arena_owner_t  *ow;

    if (!ob_arena_owner_is_valid(a, owner)) {
        return;
    }

    ow = &a->owners[owner];
    ow->evacuate = evacuate;
    ow->age = evacuate != NULL ? age : NULL;
    ow->el_ctx = evacuate != NULL ? ctx : NULL;
}


void
ob_arena_owner_set_limit(ob_arena_t *a, int owner, size_t limit)
{
    if (ob_arena_owner_is_valid(a, owner)) {
        a->owners[owner].limit = limit;
    }
}


size_t
ob_arena_owner_headroom(const ob_arena_t *a, int owner)
{
    size_t                   room, mine;
    unsigned                 o;
    const ob_arena_owner_t  *ow;

    if (!ob_arena_owner_is_valid(a, owner)) {
        return 0;
    }

    room = a->used < a->limit ? a->limit - a->used : 0;
    room += a->pool_pages * a->page_size;

    for (o = 0; o < a->nowners; o++) {
        ow = &a->owners[o];
        if (ow->evacuate != NULL && (int) o != owner) {
            room += ow->bytes;
        }
    }

    ow = &a->owners[owner];
    if (ow->limit != 0) {
        mine = ow->bytes < ow->limit ? ow->limit - ow->bytes : 0;
        room = OB_MIN(room, mine);
    }

    return room;
}


/* ---- blocks: large ones, and every chunk under OB_DEBUG_ARENA ----------- */

/* The caller has checked the budget and does the accounting. */
static void *
ob_arena_block_new(ob_arena_block_t **head, ob_arena_block_t **hand,
    int owner, unsigned class_id, size_t size)
{
    ob_arena_block_t  *before;

    ob_arena_block_t  *b;

    if (size > SIZE_MAX - OB_ARENA_BLOCK_HDR) {
        return NULL;
    }

    b = malloc(OB_ARENA_BLOCK_HDR + size);
    if (b == NULL) {
        return NULL;
    }

    b->size = size;
    b->owner = owner;
    b->class_id = class_id;
    b->evac_idx = 0;

    /* just behind the walk's hand, so that it comes round last; with no
     * hand yet, at the head, and the hand starts on it (the blocks after
     * it are then the older ones, met first) */
    before = *hand;
    if (before == NULL) {
        *hand = b;
    }
    if (before != NULL) {
        b->next = before;
        b->prev = before->prev;
        if (before->prev != NULL) {
            before->prev->next = b;
        } else {
            *head = b;
        }
        before->prev = b;
        return (char *) b + OB_ARENA_BLOCK_HDR;
    }

    b->prev = NULL;
    b->next = *head;
    if (*head != NULL) {
        (*head)->prev = b;
    }
    *head = b;

    return (char *) b + OB_ARENA_BLOCK_HDR;
}


static void
ob_arena_block_free(ob_arena_t *a, ob_arena_block_t **head, void *p,
    int owner, unsigned class_id, size_t size)
{
    ob_arena_block_t  *b, *nb;

    b = ob_arena_block_of(p);

    /* the caller must free with the owner and size it allocated with */
    assert(b->size == size && b->owner == owner && b->class_id == class_id);
    (void) size;

    /* a walk's hand resting on it moves on, round to the head past the
     * end (any owner's, for large blocks: their list is shared) */
    nb = b->next != NULL ? b->next : (*head != b ? *head : NULL);
    if (class_id == OB_ARENA_CLASS_LARGE) {
        unsigned  o;

        for (o = 0; o < a->nowners; o++) {
            if (a->owners[o].oc[0].hand_block == b) {
                a->owners[o].oc[0].hand_block = nb;
            }
        }
    } else if (a->owners[owner].oc[class_id].hand_block == b) {
        a->owners[owner].oc[class_id].hand_block = nb;
    }

    if (b->evac_idx != 0) {
        /* a chunk of the (simulated) page being evacuated */
        a->evac_list[b->evac_idx - 1] = NULL;
        a->evac_left--;
    }

    if (b->prev != NULL) {
        b->prev->next = b->next;
    } else {
        *head = b->next;
    }
    if (b->next != NULL) {
        b->next->prev = b->prev;
    }

    free(b);
}


/* ---- the pool ----------------------------------------------------------- */

/* Frees one pool page to the system.  0 when the pool is empty. */
static int
ob_arena_pool_shrink(ob_arena_t *a)
{
    ob_arena_page_t  *page;

    if (a->pool_pages == 0) {
        return 0;
    }

    page = a->pool;
    if (page != NULL) {
        a->pool = page->next;
        free(page);
    }
    a->pool_pages--;
    a->used -= a->page_size;

    return 1;
}


/*
 * A page leaves its class (its last chunk was freed, or it was given up):
 * to the pool if `to_pool` or the pool is short of spares, else back to
 * the system.  page is NULL under OB_DEBUG_ARENA.
 */
void
ob_arena_page_release(ob_arena_t *a, ob_arena_page_t *page, int to_pool)
{
    a->pages--;

    if (to_pool || a->pool_pages < a->spare) {
        if (page != NULL) {
            page->next = a->pool;
            a->pool = page;
        }
        a->pool_pages++;
        return;
    }

    free(page);
    a->used -= a->page_size;
}


/*
 * A page for a class: from the pool, else from the system while the budget
 * has room.  OB_OK with *out set (NULL under OB_DEBUG_ARENA), or OB_ERR.
 */
int
ob_arena_page_acquire(ob_arena_t *a, ob_arena_page_t **out)
{
    void  *mem;

    *out = NULL;

    if (a->pool_pages > 0) {
        *out = a->pool;
        if (a->pool != NULL) {
            a->pool = a->pool->next;
        }
        a->pool_pages--;
        a->pages++;
        return OB_OK;
    }

    if (!ob_arena_is_within_budget(a, a->page_size)) {
        return OB_ERR;
    }

#ifndef OB_DEBUG_ARENA
    if (posix_memalign(&mem, a->page_size, a->page_size) != 0) {
        return OB_ERR;
    }
    *out = mem;
#else
    (void) mem;
#endif

    a->pages++;
    a->used += a->page_size;

    return OB_OK;
}


static void *
ob_arena_large_take(ob_arena_t *a, int owner, size_t size)
{
    void  *p;

    /* spare pages are budget held for classes: a large block may have it */
    while (!ob_arena_is_within_budget(a, size) && ob_arena_pool_shrink(a)) {
        /* void */
    }

    if (!ob_arena_is_within_budget(a, size)) {
        return NULL;
    }

    p = ob_arena_block_new(&a->blocks, &a->owners[owner].oc[0].hand_block,
                           owner, OB_ARENA_CLASS_LARGE, size);
    if (p == NULL) {
        return NULL;
    }

    a->used += size;
    a->large_bytes += size;
    a->owners[owner].large_bytes += size;

    return p;
}


#ifdef OB_DEBUG_ARENA

static void *
ob_arena_chunk_take(ob_arena_t *a, int owner, unsigned id, size_t size,
    int grow)
{
    void               *p;
    ob_arena_page_t    *page;
    ob_arena_class_t   *c;
    ob_arena_oclass_t  *oc;

    c = &a->classes[id];
    oc = &a->owners[owner].oc[id];

    if (!grow && oc == a->evac_oc && oc->pages == a->evac_pages) {
        /* only room outside the page being evacuated will do (until a
         * page's worth is free and the simulated page is gone) */
        if (oc->pages == 0
            || oc->used - a->evac_left >= (oc->pages - 1) * c->per_page)
        {
            return NULL;
        }

    } else if (oc->used == oc->pages * c->per_page) {
        if (!grow) {
            return NULL;
        }
        if (ob_arena_page_acquire(a, &page) != OB_OK) {
            return NULL;
        }
        oc->pages++;
    }

    p = ob_arena_block_new(&oc->blocks, &oc->hand_block, owner, id, size);
    if (p == NULL) {
        if (oc->pages * c->per_page - oc->used >= c->per_page) {
            oc->pages--;
            ob_arena_page_release(a, NULL, 0);
        }
        return NULL;
    }

    oc->used++;

    return p;
}


static void
ob_arena_chunk_give(ob_arena_t *a, int owner, unsigned id, void *p,
    size_t size)
{
    ob_arena_class_t   *c;
    ob_arena_oclass_t  *oc;

    c = &a->classes[id];
    oc = &a->owners[owner].oc[id];
    ob_arena_block_free(a, &oc->blocks, p, owner, id, size);
    oc->used--;

    /* keep pages == ceil(used / per_page), as if chunks were packed */
    if (oc->pages * c->per_page - oc->used >= c->per_page) {
        oc->pages--;
        ob_arena_page_release(a, NULL, 0);
    }
}

#else /* !OB_DEBUG_ARENA */

/* A page joins its class's ring just behind the hand (or at the ring's
 * end), so that the walk comes to it last. */
void
ob_arena_ring_add(ob_arena_oclass_t *oc, ob_arena_page_t *page)
{
    ob_arena_page_t  *at;

    at = oc->hand_page != NULL ? oc->hand_page : oc->ring;
    if (at == NULL) {
        page->ring_prev = page;
        page->ring_next = page;
        oc->ring = page;
        return;
    }
    page->ring_next = at;
    page->ring_prev = at->ring_prev;
    at->ring_prev->ring_next = page;
    at->ring_prev = page;
}


/* A page leaves its class's ring (emptied, or given up); the hand, if on
 * it, goes on to the next page. */
void
ob_arena_ring_remove(ob_arena_oclass_t *oc, ob_arena_page_t *page)
{
    ob_arena_page_t  *next;

    next = page->ring_next != page ? page->ring_next : NULL;
    if (oc->hand_page == page) {
        oc->hand_page = next;
        oc->hand_idx = 0;
    }
    if (oc->ring == page) {
        oc->ring = next;
    }
    if (next != NULL) {
        page->ring_prev->ring_next = next;
        next->ring_prev = page->ring_prev;
    }
    page->ring_prev = NULL;
    page->ring_next = NULL;
}


/* A fresh page joins owner's class id, empty, on its avail list. */
void
ob_arena_page_assign(ob_arena_t *a, ob_arena_page_t *page, int owner,
    unsigned id)
{
    ob_arena_oclass_t  *oc;

    oc = &a->owners[owner].oc[id];
    memset(page, 0, sizeof(ob_arena_page_t));
    page->class_id = id;
    page->owner = owner;
    ob_arena_page_link(&oc->avail, page);
    ob_arena_ring_add(oc, page);
    oc->pages++;
}


/*
 * A chunk of class `id` for `owner`: from its first page with room, else
 * (with `grow`) from a new page if the pool or the budget has one.  The
 * size is only used by the debug build.
 */
static void *
ob_arena_chunk_take(ob_arena_t *a, int owner, unsigned id, size_t size,
    int grow)
{
    void               *p;
    ob_arena_page_t    *page;
    ob_arena_class_t   *c;
    ob_arena_oclass_t  *oc;

    (void) size;

    c = &a->classes[id];
    oc = &a->owners[owner].oc[id];
    page = oc->avail;

    if (page == NULL) {
        if (!grow || ob_arena_page_acquire(a, &page) != OB_OK) {
            return NULL;
        }
        ob_arena_page_assign(a, page, owner, id);
    }

    if (page->free != NULL) {
        p = page->free;
        page->free = *(void **) p;

    } else {
        p = (char *) page + a->hdr_size + page->carved * c->chunk_size;
        page->carved++;
    }

    page->used++;
    oc->used++;

    if (page->used == c->per_page) {
        ob_arena_page_unlink(&oc->avail, page);
        ob_arena_page_link(&oc->full, page);
    }

    return p;
}


static void
ob_arena_chunk_give(ob_arena_t *a, int owner, unsigned id, void *p,
    size_t size)
{
    int                 was_full;
    size_t              i;
    ob_arena_page_t    *page;
    ob_arena_class_t   *c;
    ob_arena_oclass_t  *oc;

    (void) size;

    c = &a->classes[id];
    oc = &a->owners[owner].oc[id];
    page = (ob_arena_page_t *) ((uintptr_t) p & a->page_mask);

    /* a size from another class, or another owner's chunk, would corrupt
     * two free lists */
    assert(page->class_id == id && page->owner == owner && page->used > 0);

    was_full = page->used == c->per_page;
    page->used--;
    oc->used--;

    *(void **) p = page->free;
    page->free = p;

    if (page->draining) {
        oc->dused--;

        if (page == a->evac_page) {
            /* freed during the walk: not to be evacuated again */
            i = (size_t) ((char *) p - (char *) page - a->hdr_size)
                / c->chunk_size;
            a->evac_bits[i / 64] |= UINT64_C(1) << (i % 64);
            return;
        }

        if (page->used == 0) {
            ob_arena_page_unlink(&oc->draining, page);
            oc->dpages--;
            oc->pages--;
            ob_arena_page_release(a, page, 1);
        }
        return;
    }

    if (page->used == 0) {
        ob_arena_page_unlink(was_full ? &oc->full : &oc->avail, page);
        ob_arena_ring_remove(oc, page);
        oc->pages--;
        ob_arena_page_release(a, page, 0);
        return;
    }

    if (was_full) {
        ob_arena_page_unlink(&oc->full, page);
        ob_arena_page_link(&oc->avail, page);
    }
}

#endif /* OB_DEBUG_ARENA */


/* ---- allocation --------------------------------------------------------- */

/*
 * The slow path: the order of the comment in ob_arena.h.  `want` asked of
 * a hook is the chunk size for a class (one freed chunk of that class is
 * enough), and for a large block the budget's shortfall.
 */
static void *
ob_arena_alloc_slow(ob_arena_t *a, int owner, unsigned id, size_t size,
    size_t bytes)
{
    int                spent, rebalance;
    void              *p;
    size_t             want;
    uint32_t           declined;
    ob_arena_owner_t  *ow;

    ow = &a->owners[owner];
    spent = ow->evict == NULL;
    rebalance = ow->evacuate != NULL && ow->age != NULL;
    declined = 0;

    for ( ;; ) {
        want = bytes;
        if (id == OB_ARENA_CLASS_LARGE && a->used < a->limit
            && size > a->limit - a->used)
        {
            want = size - (a->limit - a->used);     /* the shortfall */
        }

        if (ob_arena_is_over_limit(ow, bytes)) {
            /* over its own cap an owner only frees its own: an elastic
             * one its oldest, whatever the class */
            if (a->evicting || spent) {
                return NULL;
            }
            ob_arena_ask_hook(a, owner,
                              ow->evacuate != NULL && ow->age != NULL
                              ? ob_arena_oldest_class(a, owner, id) : id,
                              bytes, &spent);
            continue;
        }

        if (id == OB_ARENA_CLASS_LARGE) {
            p = ob_arena_large_take(a, owner, size);
        } else {
            p = ob_arena_chunk_take(a, owner, id, size, 1);
        }

        /* a block bigger than the budget must not empty the cache first */
        if (p != NULL || a->evicting
            || (id == OB_ARENA_CLASS_LARGE && size > a->limit))
        {
            return p;
        }

        if (ow->evacuate != NULL && !spent) {
            if (rebalance) {
                if (ob_arena_rebalance(a, owner, id) == OB_OK) {
                    continue;
                }
                rebalance = 0;  /* once it says no, for this allocation */
            }
            ob_arena_ask_hook(a, owner, id, want, &spent);
            continue;
        }

        if (ob_arena_reclaim(a, owner, id, &declined) == OB_OK) {
            continue;
        }

        if (!spent) {
            ob_arena_ask_hook(a, owner, id, want, &spent);
            continue;
        }

        return NULL;
    }
}


void *
ob_arena_alloc(ob_arena_t *a, int owner, size_t size)
{
    void              *p;
    size_t             bytes;
    unsigned           id;
    ob_arena_owner_t  *ow;

    if (!ob_arena_owner_is_valid(a, owner) || size == 0) {
        return NULL;
    }

    ow = &a->owners[owner];
    id = ob_arena_class_of(a, size);
    bytes = id == OB_ARENA_CLASS_LARGE ? size : a->classes[id].chunk_size;

    p = NULL;
    if (id != OB_ARENA_CLASS_LARGE && !ob_arena_is_over_limit(ow, bytes)) {
        p = ob_arena_chunk_take(a, owner, id, size, 1);
    }
    if (p == NULL) {
        p = ob_arena_alloc_slow(a, owner, id, size, bytes);
    }

    if (p == NULL) {
        ow->failures++;
        return NULL;
    }

    ow->bytes += bytes;
    ow->allocs++;

    return p;
}


void *
ob_arena_alloc_nogrow(ob_arena_t *a, int owner, size_t size)
{
    void              *p;
    unsigned           id;
    ob_arena_owner_t  *ow;

    if (!ob_arena_owner_is_valid(a, owner) || size == 0) {
        return NULL;
    }

    id = ob_arena_class_of(a, size);
    if (id == OB_ARENA_CLASS_LARGE) {
        return NULL;
    }

    p = ob_arena_chunk_take(a, owner, id, size, 0);
    if (p == NULL) {
        return NULL;
    }

    ow = &a->owners[owner];
    ow->bytes += a->classes[id].chunk_size;
    ow->allocs++;

    return p;
}


void *
ob_arena_realloc(ob_arena_t *a, int owner, void *p, size_t old_size,
    size_t new_size)
{
    void      *np;
    unsigned   oid, nid;

    if (p == NULL) {
        return ob_arena_alloc(a, owner, new_size);
    }

    if (!ob_arena_owner_is_valid(a, owner) || new_size == 0 || old_size == 0) {
        return NULL;
    }

    oid = ob_arena_class_of(a, old_size);
    nid = ob_arena_class_of(a, new_size);

#ifndef OB_DEBUG_ARENA
    /* same chunk, same accounting: nothing to do (the debug build moves,
     * so that the sanitizer checks the new size) */
    if (oid == nid && oid != OB_ARENA_CLASS_LARGE) {
        return p;
    }
#endif
    (void) oid;
    (void) nid;

    np = ob_arena_alloc(a, owner, new_size);
    if (np == NULL) {
        return NULL;
    }

    memcpy(np, p, OB_MIN(old_size, new_size));
    ob_arena_free(a, owner, p, old_size);

    return np;
}


void
ob_arena_free(ob_arena_t *a, int owner, void *p, size_t size)
{
    unsigned           id;
    size_t             bytes;
    ob_arena_owner_t  *ow;

    if (p == NULL) {
        return;
    }

    assert(ob_arena_owner_is_valid(a, owner));

    ow = &a->owners[owner];
    id = ob_arena_class_of(a, size);

    if (id == OB_ARENA_CLASS_LARGE) {
        ob_arena_block_free(a, &a->blocks, p, owner, id, size);
        a->used -= size;
        a->large_bytes -= size;
        ow->large_bytes -= size;
        bytes = size;

    } else {
        ob_arena_chunk_give(a, owner, id, p, size);
        bytes = a->classes[id].chunk_size;
    }

    ow->bytes -= bytes;
    a->frees++;
}


unsigned
ob_arena_class_of(const ob_arena_t *a, size_t size)
{
    unsigned  lo, hi, mid;

    lo = 1;
    hi = a->nclasses;

    if (size > a->classes[hi].chunk_size) {
        return OB_ARENA_CLASS_LARGE;
    }

    /* the first class whose chunks hold `size` */
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (a->classes[mid].chunk_size >= size) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }

    return lo;
}


size_t
ob_arena_chunk_size(const ob_arena_t *a, size_t size)
{
    unsigned  id;

    id = ob_arena_class_of(a, size);

    return id == OB_ARENA_CLASS_LARGE ? size : a->classes[id].chunk_size;
}


size_t
ob_arena_page_size_fit(size_t limit, size_t page_size, size_t min_chunk)
{
    while (page_size / 2 >= OB_ARENA_MIN_PAGE
           && page_size / 2 >= 2 * min_chunk
           && limit / page_size < OB_ARENA_BUDGET_PAGES)
    {
        page_size /= 2;
    }

    return page_size;
}


void
ob_arena_set_limit(ob_arena_t *a, size_t limit)
{
    a->limit = limit;

    while (a->used > a->limit && ob_arena_pool_shrink(a)) {
        /* void */
    }
}


void
ob_arena_set_spare(ob_arena_t *a, size_t pages)
{
    a->spare = pages;

    while (a->pool_pages > a->spare && ob_arena_pool_shrink(a)) {
        /* void */
    }
}


void
ob_arena_stats(const ob_arena_t *a, ob_arena_stats_t *out)
{
    out->limit = a->limit;
    out->used = a->used;
    out->pages = a->pages;
    out->pool_pages = a->pool_pages;
    out->spare_pages = a->spare;
    out->page_size = a->page_size;
    out->min_chunk = a->min_chunk;
    out->large_bytes = a->large_bytes;
    out->reclaims = a->reclaims;
    out->nclasses = a->nclasses;
    out->nowners = a->nowners;
}


static void
ob_arena_oclass_add(const ob_arena_t *a, const ob_arena_oclass_t *oc,
    unsigned class_id, ob_arena_class_stats_t *out)
{
    const ob_arena_class_t  *c;

    c = &a->classes[class_id];
    out->total_pages += oc->pages;
    out->used_chunks += oc->used;
    out->draining_pages += oc->dpages;
    out->free_chunks += (oc->pages - oc->dpages) * c->per_page
                        - (oc->used - oc->dused);
}


/* OB_ERR for class 0 (large blocks have no class figures) or past the last. */
int
ob_arena_class_stats(const ob_arena_t *a, unsigned class_id,
    ob_arena_class_stats_t *out)
{
    unsigned  o;

    if (class_id == OB_ARENA_CLASS_LARGE || class_id > a->nclasses) {
        return OB_ERR;
    }

    memset(out, 0, sizeof(*out));
    out->chunk_size = a->classes[class_id].chunk_size;
    out->chunks_per_page = a->classes[class_id].per_page;

    for (o = 0; o < a->nowners; o++) {
        ob_arena_oclass_add(a, &a->owners[o].oc[class_id], class_id, out);
    }

    return OB_OK;
}


int
ob_arena_owner_class_stats(const ob_arena_t *a, int owner, unsigned class_id,
    ob_arena_class_stats_t *out)
{
    if (!ob_arena_owner_is_valid(a, owner) || class_id == OB_ARENA_CLASS_LARGE
        || class_id > a->nclasses)
    {
        return OB_ERR;
    }

    memset(out, 0, sizeof(*out));
    out->chunk_size = a->classes[class_id].chunk_size;
    out->chunks_per_page = a->classes[class_id].per_page;
    ob_arena_oclass_add(a, &a->owners[owner].oc[class_id], class_id, out);

    return OB_OK;
}


size_t
ob_arena_owner_bytes(const ob_arena_t *a, int owner)
{
    return ob_arena_owner_is_valid(a, owner) ? a->owners[owner].bytes : 0;
}


int
ob_arena_owner_stats(const ob_arena_t *a, int owner,
    ob_arena_owner_stats_t *out)
{
    const ob_arena_owner_t  *ow;
    unsigned                 i;

    if (!ob_arena_owner_is_valid(a, owner)) {
        return OB_ERR;
    }

    ow = &a->owners[owner];
    out->name = ow->name;
    out->elastic = ow->evacuate != NULL;
    out->bytes = ow->bytes;
    out->limit = ow->limit;
    out->allocs = ow->allocs;
    out->failures = ow->failures;
    out->evict_calls = ow->evict_calls;
    out->pages_given = ow->pages_given;
    out->pages = 0;
    for (i = 1; i <= a->nclasses; i++) {
        out->pages += ow->oc[i].pages;
    }

    return OB_OK;
}
