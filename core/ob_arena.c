/*
 * ob_arena.c: the process's one memory budget, as size-classed slab pages
 * accounted per owner.
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
 * so a class holds (page_size - hdr_size) / chunk_size chunks per page.  The
 * largest class, page_size / 2 (memcached's slab_chunk_max), therefore fits
 * once per page and leaves half of it idle: the price of finding the header
 * by masking.  Chunks are carved lazily from the bump area (`carved`); freed
 * ones go on their page's free list, linked through their first word, and
 * are reused first.  A class keeps its pages in two lists, `avail` (some
 * room) and `full`, so allocation only looks at the head of `avail`.
 *
 * Invariants:
 *   used == pages * page_size + large_bytes, pages == sum of class pages
 *   sum of owner bytes == sum of used_chunks * chunk_size + large_bytes
 *   used <= limit, unless ob_arena_set_limit lowered the limit
 *
 * A page is spent while any chunk in it is in use; the free that empties it
 * gives it back to the system and page_size to the budget at once.  That is
 * what lets the cache's evictions make room for a tenant of another class.
 *
 * A block bigger than the largest class is malloc'd on its own behind an
 * ob_arena_block_t header, in one list that ob_arena_destroy walks.  Only
 * the requested size is counted, not the header (page headers are not
 * counted either): owners see exactly the bytes they asked for.
 *
 * Eviction.  When an allocation does not fit, the owners' hooks are asked in
 * turn (round-robin from the one after the last asked, so no tenant always
 * pays first), retrying after each call.  A hook that returns 0, or claims
 * bytes without calling ob_arena_free (the loop would spin forever), is not
 * asked again for this allocation; when all are spent the allocation fails.
 * A request bigger than the whole budget fails at once: evicting everything
 * could not make it fit.  A hook that allocates gets no eviction of its own
 * (`evicting`), so hooks cannot recurse.
 *
 * OB_DEBUG_ARENA.  Every chunk, like every large block, is its own
 * malloc(size) behind an ob_arena_block_t, so that AddressSanitizer sees
 * overflows past the requested size and uses after free; the header records
 * owner, class and size, which ob_arena_free asserts.  Pages are simulated:
 * a class holds ceil(used_chunks / chunks_per_page) pages, as if perfectly
 * packed.  Budget, eviction and stats work the same, but page counts can be
 * lower than in the release build, where a page stays spent until its last
 * chunk is freed.
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


typedef struct ob_arena_page_s   ob_arena_page_t;
typedef struct ob_arena_block_s  ob_arena_block_t;

/* The header at the start of every page (unused under OB_DEBUG_ARENA). */
struct ob_arena_page_s {
    ob_arena_page_t  *prev;       /* in the class's avail or full list */
    ob_arena_page_t  *next;
    void             *free;       /* freed chunks, linked by first word */
    size_t            used;       /* chunks handed out and not freed */
    size_t            carved;     /* chunks ever cut from the bump area */
    unsigned          class_id;   /* for asserting the caller's size */
};

/* In front of a large block (and, with OB_DEBUG_ARENA, of every chunk). */
struct ob_arena_block_s {
    ob_arena_block_t *prev;
    ob_arena_block_t *next;
    size_t            size;       /* as requested: what the budget counts */
    int               owner;      /* for asserting the caller's owner */
    unsigned          class_id;   /* OB_ARENA_CLASS_LARGE, or a class */
};

/* Header size rounded up so the user pointer keeps malloc's alignment. */
#define OB_ARENA_BLOCK_HDR  ((sizeof(ob_arena_block_t) + 15) & ~(size_t) 15)

typedef struct ob_arena_class_s {
    size_t            chunk_size;
    size_t            per_page;   /* chunks per page */
    size_t            pages;      /* pages held (simulated in debug) */
    size_t            used;       /* chunks in use */
    ob_arena_page_t  *avail;      /* pages with a free or uncarved chunk */
    ob_arena_page_t  *full;       /* pages whose every chunk is in use */
} ob_arena_class_t;

typedef struct ob_arena_owner_s {
    const char         *name;     /* borrowed */
    ob_arena_evict_pt   evict;    /* NULL: this owner never gives back */
    void               *ctx;
    size_t              bytes;
    uint64_t            allocs;
    uint64_t            failures;
    uint64_t            evict_calls;
} ob_arena_owner_t;

struct ob_arena_s {
    size_t              limit;
    size_t              used;       /* pages * page_size + large_bytes */
    size_t              pages;
    size_t              page_size;
    uintptr_t           page_mask;  /* ~(page_size - 1) */
    size_t              hdr_size;   /* page header, rounded up to 8 */
    size_t              large_bytes;
    unsigned            nclasses;
    unsigned            nowners;
    unsigned            evict_next; /* the owner asked first next time */
    int                 evicting;   /* inside a hook: do not evict again */
    uint64_t            frees;      /* ob_arena_free calls, to check hooks */
    ob_arena_block_t   *blocks;     /* large (debug: all) blocks */
    ob_arena_class_t    classes[OB_ARENA_MAX_CLASSES + 1];  /* [0] unused */
    ob_arena_owner_t    owners[OB_ARENA_MAX_OWNERS];
};


/* 1 when `bytes` more fit in the budget; written to not overflow. */
static int
ob_arena_fits(const ob_arena_t *a, size_t bytes)
{
    return a->used <= a->limit && bytes <= a->limit - a->used;
}


/*
 * Fills classes 1..nclasses.  A size is kept only while one more growth step
 * would not pass the largest class (memcached's slabs_init rule), so the
 * step to page_size / 2 is never smaller than one factor.  Every step is at
 * least 8 bytes, so a factor close to 1.0 still makes progress; past
 * OB_ARENA_MAX_CLASSES - 1 classes the rest collapse into the largest.
 */
static void
ob_arena_classes_init(ob_arena_t *a, size_t min_chunk, double factor)
{
    size_t             size, next, max;
    double             grown;
    unsigned           n;
    ob_arena_class_t  *c;

    max = a->page_size / 2;
    size = OB_ARENA_ALIGN_UP(min_chunk);
    n = 0;

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

    why = NULL;

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
        if (a == NULL) {
            why = "out of memory";
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
    a->page_mask = ~((uintptr_t) conf->page_size - 1);
    a->hdr_size = OB_ARENA_ALIGN_UP(sizeof(ob_arena_page_t));

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


void
ob_arena_destroy(ob_arena_t *a)
{
    unsigned           i;
    ob_arena_block_t  *b, *next;

    if (a == NULL) {
        return;
    }

    for (i = 1; i <= a->nclasses; i++) {
        ob_arena_pages_free(a->classes[i].avail);
        ob_arena_pages_free(a->classes[i].full);
    }

    for (b = a->blocks; b != NULL; b = next) {
        next = b->next;
        free(b);
    }

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
    if (owner < 0 || (unsigned) owner >= a->nowners) {
        return;
    }

    a->owners[owner].evict = fn;
    a->owners[owner].ctx = fn != NULL ? ctx : NULL;
}


/*
 * A block of its own: a large request, or under OB_DEBUG_ARENA any chunk.
 * The caller has checked the budget and does the accounting.
 */
static void *
ob_arena_block_new(ob_arena_t *a, int owner, unsigned class_id, size_t size)
{
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
    b->prev = NULL;
    b->next = a->blocks;
    if (a->blocks != NULL) {
        a->blocks->prev = b;
    }
    a->blocks = b;

    return (char *) b + OB_ARENA_BLOCK_HDR;
}


static void
ob_arena_block_free(ob_arena_t *a, void *p, int owner, unsigned class_id,
    size_t size)
{
    ob_arena_block_t  *b;

    b = (ob_arena_block_t *) (void *) ((char *) p - OB_ARENA_BLOCK_HDR);

    /* the caller must free with the owner and size it allocated with */
    assert(b->size == size && b->owner == owner && b->class_id == class_id);
    (void) owner;
    (void) class_id;
    (void) size;

    if (b->prev != NULL) {
        b->prev->next = b->next;
    } else {
        a->blocks = b->next;
    }
    if (b->next != NULL) {
        b->next->prev = b->prev;
    }

    free(b);
}


static void *
ob_arena_large_take(ob_arena_t *a, int owner, size_t size)
{
    void  *p;

    if (!ob_arena_fits(a, size)) {
        return NULL;
    }

    p = ob_arena_block_new(a, owner, OB_ARENA_CLASS_LARGE, size);
    if (p == NULL) {
        return NULL;
    }

    a->used += size;
    a->large_bytes += size;

    return p;
}


#ifdef OB_DEBUG_ARENA

static void *
ob_arena_chunk_take(ob_arena_t *a, unsigned id, int owner, size_t size)
{
    int                grow;
    void              *p;
    ob_arena_class_t  *c;

    c = &a->classes[id];
    grow = c->used == c->pages * c->per_page;

    if (grow && !ob_arena_fits(a, a->page_size)) {
        return NULL;
    }

    p = ob_arena_block_new(a, owner, id, size);
    if (p == NULL) {
        return NULL;
    }

    if (grow) {
        c->pages++;
        a->pages++;
        a->used += a->page_size;
    }
    c->used++;

    return p;
}


static void
ob_arena_chunk_give(ob_arena_t *a, unsigned id, int owner, void *p,
    size_t size)
{
    ob_arena_class_t  *c;

    c = &a->classes[id];
    ob_arena_block_free(a, p, owner, id, size);
    c->used--;

    /* keep pages == ceil(used / per_page), as if chunks were packed */
    if (c->pages * c->per_page - c->used >= c->per_page) {
        c->pages--;
        a->pages--;
        a->used -= a->page_size;
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


/*
 * A chunk of class `id`: from the first page with room, else from a new
 * page if the budget has one.  The owner and size are only used by the
 * debug build.
 */
static void *
ob_arena_chunk_take(ob_arena_t *a, unsigned id, int owner, size_t size)
{
    void              *p, *mem;
    ob_arena_page_t   *page;
    ob_arena_class_t  *c;

    (void) owner;
    (void) size;

    c = &a->classes[id];
    page = c->avail;

    if (page == NULL) {
        if (!ob_arena_fits(a, a->page_size)
            || posix_memalign(&mem, a->page_size, a->page_size) != 0)
        {
            return NULL;
        }

        page = mem;
        memset(page, 0, sizeof(ob_arena_page_t));
        page->class_id = id;
        ob_arena_page_link(&c->avail, page);

        c->pages++;
        a->pages++;
        a->used += a->page_size;
    }

    if (page->free != NULL) {
        p = page->free;
        page->free = *(void **) p;

    } else {
        p = (char *) page + a->hdr_size + page->carved * c->chunk_size;
        page->carved++;
    }

    page->used++;
    c->used++;

    if (page->used == c->per_page) {
        ob_arena_page_unlink(&c->avail, page);
        ob_arena_page_link(&c->full, page);
    }

    return p;
}


static void
ob_arena_chunk_give(ob_arena_t *a, unsigned id, int owner, void *p,
    size_t size)
{
    int                was_full;
    ob_arena_page_t   *page;
    ob_arena_class_t  *c;

    (void) owner;
    (void) size;

    c = &a->classes[id];
    page = (ob_arena_page_t *) ((uintptr_t) p & a->page_mask);

    /* a size from another class would corrupt two free lists */
    assert(page->class_id == id && page->used > 0);

    was_full = page->used == c->per_page;
    page->used--;
    c->used--;

    if (page->used == 0) {
        /* the page is idle: give it back to the system and the budget */
        ob_arena_page_unlink(was_full ? &c->full : &c->avail, page);
        free(page);
        c->pages--;
        a->pages--;
        a->used -= a->page_size;
        return;
    }

    *(void **) p = page->free;
    page->free = p;

    if (was_full) {
        ob_arena_page_unlink(&c->full, page);
        ob_arena_page_link(&c->avail, page);
    }
}

#endif /* OB_DEBUG_ARENA */


/* The next owner with a hook not yet spent for this allocation, or -1. */
static int
ob_arena_evict_pick(ob_arena_t *a, uint32_t spent)
{
    unsigned  i, o;

    for (i = 0; i < a->nowners; i++) {
        o = (a->evict_next + i) % a->nowners;

        if (a->owners[o].evict != NULL && (spent & (UINT32_C(1) << o)) == 0) {
            a->evict_next = (o + 1) % a->nowners;
            return (int) o;
        }
    }

    return -1;
}


/*
 * The allocation loop: try, and while it does not fit ask one hook at a
 * time.  `want` is the chunk size for a class (one freed chunk of that class
 * is enough), and for a large block the shortfall of the budget (its size
 * when the system, not the budget, refused it).
 */
void *
ob_arena_alloc(ob_arena_t *a, int owner, size_t size)
{
    int                o;
    void              *p;
    size_t             bytes, want, freed;
    uint32_t           spent;
    uint64_t           frees;
    unsigned           id;
    ob_arena_owner_t  *ow, *ev;

    if (owner < 0 || (unsigned) owner >= a->nowners || size == 0) {
        return NULL;
    }

    ow = &a->owners[owner];
    id = ob_arena_class_of(a, size);
    bytes = id == OB_ARENA_CLASS_LARGE ? size : a->classes[id].chunk_size;
    spent = 0;

    for ( ;; ) {
        if (id == OB_ARENA_CLASS_LARGE) {
            p = ob_arena_large_take(a, owner, size);
        } else {
            p = ob_arena_chunk_take(a, id, owner, size);
        }

        /* a block bigger than the budget must not empty the cache first */
        if (p != NULL || a->evicting
            || (id == OB_ARENA_CLASS_LARGE && size > a->limit))
        {
            break;
        }

        o = ob_arena_evict_pick(a, spent);
        if (o < 0) {
            break;
        }

        if (id == OB_ARENA_CLASS_LARGE && a->used < a->limit
            && size > a->limit - a->used)
        {
            want = size - (a->limit - a->used);     /* the shortfall */
        } else {
            want = bytes;
        }

        ev = &a->owners[o];
        ev->evict_calls++;
        frees = a->frees;

        a->evicting = 1;
        freed = ev->evict(ev->ctx, id, want);
        a->evicting = 0;

        if (freed == 0 || a->frees == frees) {
            spent |= UINT32_C(1) << o;
        }
    }

    if (p == NULL) {
        ow->failures++;
        return NULL;
    }

    ow->bytes += bytes;
    ow->allocs++;

    return p;
}


void
ob_arena_free(ob_arena_t *a, int owner, void *p, size_t size)
{
    unsigned  id;
    size_t    bytes;

    if (p == NULL) {
        return;
    }

    assert(owner >= 0 && (unsigned) owner < a->nowners);

    id = ob_arena_class_of(a, size);

    if (id == OB_ARENA_CLASS_LARGE) {
        ob_arena_block_free(a, p, owner, id, size);
        a->used -= size;
        a->large_bytes -= size;
        bytes = size;

    } else {
        ob_arena_chunk_give(a, id, owner, p, size);
        bytes = a->classes[id].chunk_size;
    }

    a->owners[owner].bytes -= bytes;
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


void
ob_arena_set_limit(ob_arena_t *a, size_t limit)
{
    a->limit = limit;
}


void
ob_arena_stats(const ob_arena_t *a, ob_arena_stats_t *out)
{
    out->limit = a->limit;
    out->used = a->used;
    out->pages = a->pages;
    out->page_size = a->page_size;
    out->large_bytes = a->large_bytes;
    out->nclasses = a->nclasses;
    out->nowners = a->nowners;
}


/* OB_ERR for class 0 (large blocks have no class figures) or past the last. */
int
ob_arena_class_stats(const ob_arena_t *a, unsigned class_id,
    ob_arena_class_stats_t *out)
{
    const ob_arena_class_t  *c;

    if (class_id == OB_ARENA_CLASS_LARGE || class_id > a->nclasses) {
        return OB_ERR;
    }

    c = &a->classes[class_id];
    out->chunk_size = c->chunk_size;
    out->chunks_per_page = c->per_page;
    out->total_pages = c->pages;
    out->used_chunks = c->used;
    out->free_chunks = c->pages * c->per_page - c->used;

    return OB_OK;
}


int
ob_arena_owner_stats(const ob_arena_t *a, int owner,
    ob_arena_owner_stats_t *out)
{
    const ob_arena_owner_t  *ow;

    if (owner < 0 || (unsigned) owner >= a->nowners) {
        return OB_ERR;
    }

    ow = &a->owners[owner];
    out->name = ow->name;
    out->bytes = ow->bytes;
    out->allocs = ow->allocs;
    out->failures = ow->failures;
    out->evict_calls = ow->evict_calls;

    return OB_OK;
}
