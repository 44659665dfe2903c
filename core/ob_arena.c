/*
 * ob_arena.c: the budget the modules' data shares, as size-classed slab
 * pages owned by one owner each, a pool of free pages, and page reclaim
 * from elastic owners (memcached's slab page mover, driven by allocation).
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
 * Page reclaim (ob_arena_reclaim).  Which page an elastic owner gives up:
 *   - If some class has at least a page's worth of free chunks on its live
 *     pages, a page of that class is emptied by moving its chunks into those
 *     holes: nothing is evicted.  The class with the most free chunks wins.
 *   - Otherwise every choice evicts about a page of data, and moving chunks
 *     does not change how much (a class's evictions are per_page minus its
 *     free chunks, whichever of its pages goes).  So the class is chosen by
 *     what is evicted: the one whose least recently used chunk is oldest
 *     (the owner's age callback), as a single LRU would; without an age
 *     callback, the class with the most pages.  The owner's large blocks
 *     compete on the same age.
 *   - Within the class, the page with the fewest live chunks (memcached
 *     takes the oldest page instead): it costs the fewest moves and is the
 *     least likely to hold a busy chunk.  The owner's evacuate callback
 *     moves a chunk into a hole of the same class (ob_arena_alloc_nogrow),
 *     making one by evicting its LRU tail if it must, so what is lost is
 *     the class's oldest data, not whatever sat on that page.
 *   - A class with fewer than 2 live pages gives its last one only when no
 *     class has 2 (memcached's NOSPARE rule, kept for `slabs reassign` and
 *     as the first choice here).
 * The victim page leaves its avail/full list first, so nothing new lands
 * on it; its used chunks are found by walking its free list into a bitmap
 * (chunks past `carved` were never used), and a chunk freed during the walk
 * (an eviction the callback made) is marked in the same bitmap.  A chunk
 * the owner cannot free now (OB_BUSY) leaves the page draining: the free of
 * its last chunk sends it to the pool.
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
#define OB_ARENA_RECLAIM_TRIES 8     /* victim pages tried per reclaim */


typedef struct ob_arena_page_s   ob_arena_page_t;
typedef struct ob_arena_block_s  ob_arena_block_t;

/* The header at the start of every page (unused under OB_DEBUG_ARENA). */
struct ob_arena_page_s {
    ob_arena_page_t  *prev;       /* in its owner's avail, full or draining list */
    ob_arena_page_t  *next;       /* (the pool links through next only) */
    ob_arena_page_t  *ring_prev;  /* the class's ring of live pages, in the */
    ob_arena_page_t  *ring_next;  /* order the walk's hand goes round */
    void             *free;       /* freed chunks, linked by first word */
    size_t            used;       /* chunks handed out and not freed */
    size_t            carved;     /* chunks ever cut from the bump area */
    unsigned          class_id;   /* for asserting the caller's size */
    int               owner;
    int               draining;   /* given up: its last free sends it to the pool */
};

/* In front of a large block (and, with OB_DEBUG_ARENA, of every chunk). */
struct ob_arena_block_s {
    ob_arena_block_t *prev;
    ob_arena_block_t *next;
    size_t            size;       /* as requested: what the budget counts */
    int               owner;      /* for asserting the caller's owner */
    unsigned          class_id;   /* OB_ARENA_CLASS_LARGE, or a class */
    size_t            evac_idx;   /* debug: 1 + its slot in evac_list, or 0 */
};

/* Header size rounded up so the user pointer keeps malloc's alignment. */
#define OB_ARENA_BLOCK_HDR  ((sizeof(ob_arena_block_t) + 15) & ~(size_t) 15)

typedef struct ob_arena_class_s {
    size_t            chunk_size;
    size_t            per_page;   /* chunks per page */
} ob_arena_class_t;

/* One owner's share of one class. */
typedef struct ob_arena_oclass_s {
    size_t            pages;      /* pages held, draining included (simulated in debug) */
    size_t            used;       /* chunks in use, on draining pages too */
    size_t            dpages;     /* draining pages */
    size_t            dused;      /* chunks in use on draining pages */
    ob_arena_page_t  *avail;      /* pages with a free or uncarved chunk */
    ob_arena_page_t  *full;       /* pages whose every chunk is in use */
    ob_arena_page_t  *draining;
    ob_arena_block_t *blocks;     /* debug: every chunk, for evacuation */
    ob_arena_page_t  *ring;       /* the live pages, circular (ring_next);
                                     a new page goes in just behind the
                                     hand, so that it comes round last */
    ob_arena_page_t  *hand_page;  /* the walk's hand (ob_arena_walk): this */
    size_t            hand_idx;   /* chunk of this page next; NULL: ring */
    ob_arena_block_t *hand_block; /* debug, and [0] (large blocks): the
                                     block next; NULL: the list's head */
    size_t            rebal_wait; /* own evictions left before the next
                                     rebalance check (see ob_arena_rebalance) */
} ob_arena_oclass_t;

typedef struct ob_arena_owner_s {
    const char           *name;     /* borrowed */
    ob_arena_evict_pt     evict;    /* NULL: no policy of its own */
    void                 *evict_ctx;
    ob_arena_evacuate_pt  evacuate; /* not NULL: elastic */
    ob_arena_age_pt       age;
    void                 *el_ctx;
    size_t                limit;    /* 0: none */
    size_t                bytes;
    size_t                large_bytes;
    uint64_t              allocs;
    uint64_t              failures;
    uint64_t              evict_calls;
    uint64_t              pages_given;
    ob_arena_oclass_t     oc[OB_ARENA_MAX_CLASSES + 1];   /* [0]: only the
                                                             large blocks'
                                                             rebal_wait */
} ob_arena_owner_t;

struct ob_arena_s {
    size_t              limit;
    size_t              used;       /* (pages + pool_pages) * page_size + large_bytes */
    size_t              pages;      /* held by classes */
    size_t              pool_pages;
    size_t              spare;      /* emptied pages the pool keeps */
    size_t              page_size;
    size_t              min_chunk;  /* where the growth series starts */
    uintptr_t           page_mask;  /* ~(page_size - 1) */
    size_t              hdr_size;   /* page header, rounded up to 8 */
    size_t              large_bytes;
    unsigned            nclasses;
    unsigned            nowners;
    int                 evicting;   /* inside a hook or an evacuation */
    uint64_t            frees;      /* ob_arena_free calls, to check hooks */
    uint64_t            reclaims;
    ob_arena_page_t    *pool;       /* free pages, linked by next */
    ob_arena_block_t   *blocks;     /* large blocks */
    ob_arena_page_t    *evac_page;  /* the page being evacuated, or NULL */
    uint64_t           *evac_bits;  /* its done (free) chunks */
    ob_arena_oclass_t  *evac_oc;    /* debug: the class being evacuated */
    void              **evac_list;  /* debug: its chunks, NULL once freed */
    size_t              evac_left;  /* debug: non-NULL entries of evac_list */
    size_t              evac_pages; /* debug: its class's pages at the start */
    ob_arena_class_t    classes[OB_ARENA_MAX_CLASSES + 1];  /* [0] unused */
    ob_arena_owner_t    owners[OB_ARENA_MAX_OWNERS];
};


/* 1 when `bytes` more fit in the budget; written to not overflow. */
static int
ob_arena_is_within_budget(const ob_arena_t *a, size_t bytes)
{
    return a->used <= a->limit && bytes <= a->limit - a->used;
}


static int
ob_arena_owner_is_valid(const ob_arena_t *a, int owner)
{
    return owner >= 0 && (unsigned) owner < a->nowners;
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


static ob_arena_block_t *
ob_arena_block_of(void *p)
{
    return (ob_arena_block_t *) (void *) ((char *) p - OB_ARENA_BLOCK_HDR);
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
static void
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
static int
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

static void
ob_arena_page_link(ob_arena_page_t **head, ob_arena_page_t *page)
{
    page->prev = NULL;
    page->next = *head;
    if (*head != NULL) {
        (*head)->prev = page;
    }
    *head = page;
}


static void
ob_arena_page_unlink(ob_arena_page_t **head, ob_arena_page_t *page)
{
    if (page->prev != NULL) {
        page->prev->next = page->next;
    } else {
        *head = page->next;
    }
    if (page->next != NULL) {
        page->next->prev = page->prev;
    }
}


/* A page joins its class's ring just behind the hand (or at the ring's
 * end), so that the walk comes to it last. */
static void
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
static void
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
static void
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


/* ---- page reclaim ------------------------------------------------------- */

/* Pages of owner's class that are not draining. */
static size_t
ob_arena_live_pages(const ob_arena_oclass_t *oc)
{
    return oc->pages - oc->dpages;
}


/*
 * The class of elastic owner `e` to give a page up (see the comment at the
 * top): a class with a page's worth of free chunks, else the one with the
 * oldest chunk; OB_ARENA_CLASS_LARGE for its large blocks; -1 for none.
 * Only classes with at least `min_pages` live pages count; `skip` (the
 * class asking, when e asks for itself) never does.
 */
static int
ob_arena_victim_class(ob_arena_t *a, int e, int skip, size_t min_pages)
{
    int                  best, compact;
    size_t               live, nfree;
    uint64_t             key, best_key;
    unsigned             id;
    ob_arena_owner_t    *ow;
    ob_arena_oclass_t   *oc;
    ob_arena_class_t    *c;

    ow = &a->owners[e];
    best = -1;
    best_key = 0;
    compact = 0;

    for (id = 1; id <= a->nclasses; id++) {
        oc = &ow->oc[id];
        c = &a->classes[id];
        live = ob_arena_live_pages(oc);

        if ((int) id == skip || live == 0 || live < min_pages) {
            continue;
        }

        nfree = live * c->per_page - (oc->used - oc->dused);

        if (nfree >= c->per_page) {
            if (!compact || nfree > best_key) {
                best = (int) id;
                best_key = nfree;
                compact = 1;
            }
            continue;
        }

        if (compact) {
            continue;
        }

        key = ow->age != NULL ? ow->age(ow->el_ctx, id, 0) + 1 : live;
        if (best < 0 || key > best_key) {
            best = (int) id;
            best_key = key;
        }
    }

    if (!compact && skip != OB_ARENA_CLASS_LARGE && ow->large_bytes > 0
        && ow->evict != NULL)
    {
        key = ow->age != NULL
              ? ow->age(ow->el_ctx, OB_ARENA_CLASS_LARGE, 0) + 1
              : ow->large_bytes / a->page_size + 1;
        if (best < 0 || key > best_key) {
            best = OB_ARENA_CLASS_LARGE;
        }
    }

    return best;
}


/* A page that finished evacuating goes to class dst or to the pool. */
static void
ob_arena_page_given(ob_arena_t *a, int e, ob_arena_page_t *page, unsigned dst)
{
    a->owners[e].pages_given++;

#ifdef OB_DEBUG_ARENA
    /* chunk_give released the simulated page already; dst takes one back */
    if (dst != OB_ARENA_POOL && ob_arena_page_acquire(a, &page) == OB_OK) {
        a->owners[e].oc[dst].pages++;
    }
#else
    a->owners[e].oc[page->class_id].pages--;
    if (dst != OB_ARENA_POOL) {
        ob_arena_page_assign(a, page, e, dst);
        return;
    }
    ob_arena_page_release(a, page, 1);
#endif
}


#ifdef OB_DEBUG_ARENA

/*
 * Gives up a simulated page of owner e's class id: chunks_per_page of its
 * chunks go through the evacuate callback.  The page is gone when the
 * class's simulated page count dropped.
 */
static int
ob_arena_evacuate(ob_arena_t *a, int e, unsigned id, unsigned dst)
{
    int                 declined;
    size_t              n, k, before;
    ob_arena_owner_t   *ow;
    ob_arena_oclass_t  *oc;
    ob_arena_block_t   *b;
    void               *chunk;

    ow = &a->owners[e];
    oc = &ow->oc[id];
    before = oc->pages;
    declined = 0;

    n = 0;
    for (b = oc->blocks; b != NULL && n < a->classes[id].per_page;
         b = b->next)
    {
        b->evac_idx = n + 1;
        a->evac_list[n++] = (char *) b + OB_ARENA_BLOCK_HDR;
    }

    a->evac_left = n;
    a->evac_oc = oc;
    a->evac_pages = oc->pages;
    a->evicting++;

    for (k = 0; k < n; k++) {
        chunk = a->evac_list[k];
        if (chunk == NULL) {
            continue;
        }
        if (ow->evacuate(ow->el_ctx, chunk, id) == OB_DECLINED) {
            declined = 1;
            break;
        }
    }

    a->evicting--;
    a->evac_oc = NULL;

    for (k = 0; k < n; k++) {
        if (a->evac_list[k] != NULL) {
            ob_arena_block_of(a->evac_list[k])->evac_idx = 0;
            a->evac_list[k] = NULL;
        }
    }
    a->evac_left = 0;

    if (oc->pages < before) {
        ob_arena_page_given(a, e, NULL, dst);
        return OB_OK;
    }

    return declined ? OB_DECLINED : OB_BUSY;
}

#else

/* The page of owner's class with the fewest live chunks: an avail page if
 * there is one (any full page has more), else a full one. */
static ob_arena_page_t *
ob_arena_victim_page(ob_arena_oclass_t *oc)
{
    ob_arena_page_t  *page, *best;

    best = NULL;

    for (page = oc->avail; page != NULL; page = page->next) {
        if (best == NULL || page->used < best->used) {
            best = page;
        }
    }

    return best != NULL ? best : oc->full;
}


/*
 * Gives up one page of owner e's class id to dst (a class of e, or the
 * pool): the page leaves its list, each used chunk goes through the
 * evacuate callback.  OB_OK: the page moved.  OB_BUSY: it drains.
 * OB_DECLINED: the owner refused; the page is back on its list.
 */
static int
ob_arena_evacuate(ob_arena_t *a, int e, unsigned id, unsigned dst)
{
    int                 declined;
    size_t              i, n, per;
    ob_arena_owner_t   *ow;
    ob_arena_oclass_t  *oc;
    ob_arena_class_t   *c;
    ob_arena_page_t    *page;
    void               *f;

    ow = &a->owners[e];
    oc = &ow->oc[id];
    c = &a->classes[id];
    per = c->per_page;

    page = ob_arena_victim_page(oc);
    if (page == NULL) {
        return OB_DECLINED;
    }

    ob_arena_page_unlink(page->used == per ? &oc->full : &oc->avail, page);
    ob_arena_ring_remove(oc, page);
    ob_arena_page_link(&oc->draining, page);
    page->draining = 1;
    oc->dpages++;
    oc->dused += page->used;

    n = page->carved;
    memset(a->evac_bits, 0, ((n + 63) / 64) * sizeof(uint64_t));
    for (f = page->free; f != NULL; f = *(void **) f) {
        i = (size_t) ((char *) f - (char *) page - a->hdr_size) / c->chunk_size;
        a->evac_bits[i / 64] |= UINT64_C(1) << (i % 64);
    }

    declined = 0;
    a->evac_page = page;
    a->evicting++;

    for (i = 0; i < n && page->used > 0; i++) {
        if (a->evac_bits[i / 64] & (UINT64_C(1) << (i % 64))) {
            continue;
        }
        if (ow->evacuate(ow->el_ctx,
                         (char *) page + a->hdr_size + i * c->chunk_size, id)
            == OB_DECLINED)
        {
            declined = 1;
            break;
        }
    }

    a->evicting--;
    a->evac_page = NULL;

    if (page->used == 0) {
        ob_arena_page_unlink(&oc->draining, page);
        oc->dpages--;
        ob_arena_page_given(a, e, page, dst);
        return OB_OK;
    }

    if (declined) {
        ob_arena_page_unlink(&oc->draining, page);
        page->draining = 0;
        oc->dpages--;
        oc->dused -= page->used;
        ob_arena_page_link(page->used == per ? &oc->full : &oc->avail, page);
        ob_arena_ring_add(oc, page);
        return OB_DECLINED;
    }

    return OB_BUSY;
}

#endif /* OB_DEBUG_ARENA */


/* Asks an owner's own hook; marks it spent when it freed nothing. */
static void
ob_arena_ask_hook(ob_arena_t *a, int o, unsigned id, size_t want, int *spent)
{
    size_t             freed;
    uint64_t           frees;
    ob_arena_owner_t  *ow;

    ow = &a->owners[o];
    ow->evict_calls++;
    frees = a->frees;

    a->evicting++;
    freed = ow->evict(ow->evict_ctx, id, want);
    a->evicting--;

    /* a hook that claims bytes without freeing would loop forever */
    if (freed == 0 || a->frees == frees) {
        *spent = 1;
    }
}


/*
 * Makes room for `owner`'s allocation in class id by taking one page (or,
 * for large blocks, a page's worth) from an elastic owner, in registration
 * order.  OB_OK when something was given back; *declined collects the
 * owners that refused, so they are not asked again for this allocation.
 */
static int
ob_arena_reclaim(ob_arena_t *a, int owner, unsigned id, uint32_t *declined)
{
    int                v, skip, spent;
    unsigned           e, tries;
    uint64_t           frees;
    ob_arena_owner_t  *ow;

    for (e = 0; e < a->nowners; e++) {
        ow = &a->owners[e];
        if (ow->evacuate == NULL || (*declined & (UINT32_C(1) << e))) {
            continue;
        }

        /* an elastic owner asking for itself has used its own hook on
         * this class already */
        skip = (int) e == owner ? (int) id : -1;

        for (tries = 0; tries < OB_ARENA_RECLAIM_TRIES; tries++) {
            v = ob_arena_victim_class(a, (int) e, skip, 2);
            if (v < 0) {
                v = ob_arena_victim_class(a, (int) e, skip, 1);
            }
            if (v < 0) {
                break;
            }

            if (v == OB_ARENA_CLASS_LARGE) {
                frees = a->frees;
                spent = 0;
                ob_arena_ask_hook(a, (int) e, OB_ARENA_CLASS_LARGE,
                                  a->page_size, &spent);
                if (a->frees != frees) {
                    a->reclaims++;
                    return OB_OK;
                }
                break;
            }

            switch (ob_arena_evacuate(a, (int) e, (unsigned) v,
                                      OB_ARENA_POOL))
            {
            case OB_OK:
                a->reclaims++;
                return OB_OK;
            case OB_DECLINED:
                *declined |= UINT32_C(1) << e;
                tries = OB_ARENA_RECLAIM_TRIES;
                break;
            default:
                break;      /* draining: try another page */
            }
        }
    }

    return OB_DECLINED;
}


/*
 * How many chunks giving up a page of this class would evict: the live
 * chunks of the page it would give (the one with the fewest) less the
 * free chunks of its other live pages, where they are rescued.  0: the
 * class compacts, nothing is lost.
 */
static size_t
ob_arena_evac_cost(ob_arena_t *a, ob_arena_oclass_t *oc, unsigned id)
{
    size_t  per, live, used, u, nfree, other;

    per = a->classes[id].per_page;
    live = ob_arena_live_pages(oc);
    used = oc->used - oc->dused;
#ifdef OB_DEBUG_ARENA
    u = OB_MIN(per, used);                 /* a simulated page */
#else
    u = ob_arena_victim_page(oc) != NULL ? ob_arena_victim_page(oc)->used
                                         : OB_MIN(per, used);
#endif
    nfree = live * per - used;
    other = nfree > per - u ? nfree - (per - u) : 0;

    return u > other ? u - other : 0;
}


/*
 * One LRU over an elastic owner's classes, without a sampling window.  Its
 * own allocation in class id found the budget full: memcached would evict
 * id's LRU tail, so a class that got few pages while the budget filled
 * keeps churning its recent items while other classes hold far older
 * ones.  Instead, each other class is scored by the age of the most recent
 * chunk that giving up one of its pages would evict (its k-th least
 * recently used, k from ob_arena_evac_cost: for a class with one page, its
 * newest), and the large blocks by their LRU tail; the best score wins if
 * it is more than four times as old as id's own tail (or id holds
 * nothing).  Four, not memcached's automove ratio of 1.25: each move costs
 * a page's worth of data, and with a lower ratio pages flap between
 * classes (at -m 16, 3000 sets of 10 B to 1 MB, log-uniform, of the last
 * 200 items with four seeds: 149-175 kept at 1.25, 150-178 at 2, 165-176
 * at 4, 163-178 at 8; 152 for seed 6 with no rebalance at all).
 * Returns the source class, OB_ARENA_CLASS_LARGE for the large blocks
 * (evicted through the hook), or -1: evict id's own tail.  A class that compacts (k == 0) always wins: nothing is lost.
 * Bounded: a class whose pages hold more than OB_ARENA_REBALANCE_CHUNKS
 * live chunks on average is not a source, and a class whose tail is not
 * older than the best score so far is not walked.
 */
static int
ob_arena_rebalance_src(ob_arena_t *a, int o, unsigned id)
{
    int                 best;
    size_t              live, k;
    uint64_t            own, tail, key, best_key;
    unsigned            v;
    ob_arena_owner_t   *ow;
    ob_arena_oclass_t  *oc;

    ow = &a->owners[o];
    own = ow->age(ow->el_ctx, id, 0);
    best = -1;
    best_key = 0;

    if (id != OB_ARENA_CLASS_LARGE && ow->large_bytes > 0
        && ow->evict != NULL)
    {
        best_key = ow->age(ow->el_ctx, OB_ARENA_CLASS_LARGE, 0);
        best = best_key > 0 ? OB_ARENA_CLASS_LARGE : -1;
    }

    for (v = 1; v <= a->nclasses; v++) {
        oc = &ow->oc[v];
        live = ob_arena_live_pages(oc);
        if (v == id || live == 0
            || (oc->used - oc->dused) / live > OB_ARENA_REBALANCE_CHUNKS)
        {
            continue;
        }

        k = ob_arena_evac_cost(a, oc, v);
        if (k == 0) {
            return (int) v;
        }

        tail = ow->age(ow->el_ctx, v, 0);
        if (tail <= best_key) {
            continue;       /* its k-th is no older than its tail */
        }

        key = k == 1 ? tail : ow->age(ow->el_ctx, v, k - 1);
        if (key > best_key) {
            best = (int) v;
            best_key = key;
        }
    }

    if (best < 0 || (own != 0 && best_key / 4 <= own)) {
        return -1;
    }

    return best;
}


/*
 * The class (or OB_ARENA_CLASS_LARGE) holding an elastic owner's oldest
 * chunk, by its age callback; `id` when it holds nothing.  Over its own
 * limit an owner must give bytes back, and any chunk counts: the oldest
 * goes, as one LRU would decide, so that a class without items still gets
 * room (asking only for id's own tail would fail it forever).
 */
static unsigned
ob_arena_oldest_class(ob_arena_t *a, int o, unsigned id)
{
    unsigned           v, best;
    uint64_t           key, best_key;
    ob_arena_owner_t  *ow;

    ow = &a->owners[o];
    best = id;
    best_key = 0;

    for (v = 1; v <= a->nclasses; v++) {
        if (ow->oc[v].used == 0) {
            continue;
        }
        key = ow->age(ow->el_ctx, v, 0);
        if (key > best_key) {
            best = v;
            best_key = key;
        }
    }

    if (ow->large_bytes > 0
        && ow->age(ow->el_ctx, OB_ARENA_CLASS_LARGE, 0) > best_key)
    {
        best = OB_ARENA_CLASS_LARGE;
    }

    return best;
}


/*
 * The rebalance step of an elastic owner's own allocation (see above).
 * OB_OK when a page (or large-block bytes) changed hands: try again;
 * OB_DECLINED when id's own tail should go (or the source could not give).
 * The check walks LRUs (up to a page's worth of chunks of a class), so
 * after a "no" class id evicts its own tail for a page's worth of its
 * chunks (4 allocations for large blocks) before asking again: by then
 * the ages have moved.  Measured at -m 64 with 300,000 pipelined sets of
 * 10 B to 10 KB, all evicting: 6 s with a check on every eviction, 0.55 s
 * with the wait (0.52 s without any rebalance, which kept 25% fewer items).
 */
static int
ob_arena_rebalance(ob_arena_t *a, int o, unsigned id)
{
    int                 v, rc, spent;
    uint64_t            frees;
    ob_arena_oclass_t  *oc;

    oc = &a->owners[o].oc[id];
    if (oc->rebal_wait > 0) {
        oc->rebal_wait--;
        return OB_DECLINED;
    }

    v = ob_arena_rebalance_src(a, o, id);
    if (v < 0) {
        oc->rebal_wait = id == OB_ARENA_CLASS_LARGE
                         ? 4 : a->classes[id].per_page;
        return OB_DECLINED;
    }

    if (v == OB_ARENA_CLASS_LARGE) {
        /* a page's worth of its oldest large blocks */
        frees = a->frees;
        spent = 0;
        ob_arena_ask_hook(a, o, OB_ARENA_CLASS_LARGE, a->page_size, &spent);
        return a->frees != frees ? OB_OK : OB_DECLINED;
    }

    rc = ob_arena_evacuate(a, o, (unsigned) v,
                           id == OB_ARENA_CLASS_LARGE ? OB_ARENA_POOL : id);
    if (rc != OB_OK) {
        return OB_DECLINED;     /* draining or refused: evict our own */
    }

    a->reclaims++;

    return OB_OK;
}


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


int
ob_arena_page_move(ob_arena_t *a, int owner, unsigned src, unsigned dst)
{
    int                 rc;
    ob_arena_owner_t   *ow;

    if (!ob_arena_owner_is_valid(a, owner) || src == OB_ARENA_CLASS_LARGE
        || src > a->nclasses || dst > a->nclasses || src == dst)
    {
        return OB_ERR;
    }

    ow = &a->owners[owner];
    if (ow->evacuate == NULL || a->evicting) {
        return OB_ERR;
    }

    if (ob_arena_live_pages(&ow->oc[src]) < 2) {
        return OB_DECLINED;
    }

    rc = ob_arena_evacuate(a, owner, src, dst);
    if (rc == OB_OK) {
        a->reclaims++;
    }

    return rc;
}


/* ---- the walk (a CLOCK hand) -------------------------------------------- */

/* Over a list of blocks: the large ones (id 0, shared by the owners: the
 * others' are passed over) or, under OB_DEBUG_ARENA, a class's chunks.
 * Blocks being evacuated are passed over as draining pages are. */
static size_t
ob_arena_walk_blocks(int owner, ob_arena_block_t **head,
    ob_arena_oclass_t *oc, size_t max, int move, ob_arena_walk_pt fn,
    void *ctx)
{
    size_t             n, steps, limit;
    ob_arena_block_t  *b, *next, *first;

    n = 0;
    steps = 0;
    first = NULL;
    b = oc->hand_block != NULL ? oc->hand_block : *head;
    /* a bound on the blocks passed over, however the list changes */
    limit = max * 2 + 64;

    while (b != NULL && n < max && steps++ < limit) {
        next = b->next != NULL ? b->next : *head;

        if (b->owner != owner || b->evac_idx != 0) {
            b = next;
            if (move) {
                oc->hand_block = b;
            }
            continue;
        }

        if (b == first) {
            break;                      /* a whole round */
        }
        if (first == NULL) {
            first = b;
        }
        n++;
        if (move) {
            oc->hand_block = next;
        }
        if (fn(ctx, (char *) b + OB_ARENA_BLOCK_HDR) == OB_DONE) {
            break;
        }
        b = move ? (oc->hand_block != NULL ? oc->hand_block : *head) : next;
    }

    return n;
}


size_t
ob_arena_walk(ob_arena_t *a, int owner, unsigned id, size_t max, int move,
    ob_arena_walk_pt fn, void *ctx)
{
    ob_arena_oclass_t  *oc;
#ifndef OB_DEBUG_ARENA
    size_t              n, idx, empty, size, first_idx;
    ob_arena_page_t    *page, *first;
    void               *chunk;
#endif

    if (!ob_arena_owner_is_valid(a, owner) || id > a->nclasses || max == 0) {
        return 0;
    }

    oc = &a->owners[owner].oc[id];

    if (id == OB_ARENA_CLASS_LARGE) {
        return ob_arena_walk_blocks(owner, &a->blocks, oc, max, move, fn,
                                    ctx);
    }

#ifdef OB_DEBUG_ARENA
    return ob_arena_walk_blocks(owner, &oc->blocks, oc, max, move, fn,
                                ctx);
#else
    size = a->classes[id].chunk_size;
    page = oc->hand_page;
    idx = oc->hand_idx;
    if (page == NULL) {
        page = oc->ring;
        idx = 0;
    }

    n = 0;
    empty = 0;
    first = NULL;
    first_idx = 0;

    while (page != NULL && n < max) {
        if (idx >= page->carved) {
            page = page->ring_next;
            idx = 0;
            if (move) {
                oc->hand_page = page;
                oc->hand_idx = 0;
            }
            /* pages with nothing carved: at most a round of them */
            if (++empty > oc->pages + 2) {
                break;
            }
            continue;
        }

        if (page == first && idx == first_idx) {
            break;                      /* a whole round */
        }
        if (first == NULL) {
            first = page;
            first_idx = idx;
        }
        empty = 0;
        chunk = (char *) page + a->hdr_size + idx * size;
        idx++;
        n++;
        if (move) {
            oc->hand_page = page;
            oc->hand_idx = idx;
        }

        if (fn(ctx, chunk) == OB_DONE) {
            break;
        }

        if (move) {
            /* fn may have freed the chunk, and with it the page */
            page = oc->hand_page;
            idx = oc->hand_idx;
            if (page == NULL) {
                page = oc->ring;
                idx = 0;
            }
        }
    }

    return n;
#endif
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
