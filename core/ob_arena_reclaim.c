/*
 * ob_arena_reclaim.c: giving the arena's pages back: which page an elastic
 * owner gives up, the evacuation of that page, the rebalance of an elastic
 * owner's own classes by age, ob_arena_page_move, and the walk (a CLOCK
 * hand) the owners' eviction uses.  The pages, the pool and allocation are
 * in ob_arena.c; the structs both files share are in ob_arena_int.h.
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
 * Rebalance (ob_arena_rebalance).  An elastic owner whose own allocation
 * finds the budget full may take a page from another of its classes, or a
 * page's worth of its large blocks, when what that would evict is much
 * older than its own LRU tail (see ob_arena_rebalance_src).
 *
 * OB_DEBUG_ARENA (see ob_arena.c: pages are simulated).  Giving up a page
 * evacuates chunks_per_page chunks of the class through the same callback;
 * while it does, ob_arena_alloc_nogrow only finds room outside those
 * chunks' page.  Under it, as for large blocks, the walk goes over the
 * class's list of blocks instead of its ring of pages.
 *
 * Not thread-safe: only the reactor thread allocates.  No global state.
 */
#include "ob_arena.h"
#include "ob_arena_int.h"

#include <string.h>

#include "ob_core.h"


#define OB_ARENA_RECLAIM_TRIES 8     /* victim pages tried per reclaim */


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
void
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
int
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
unsigned
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
int
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


int
ob_arena_chunk_is_draining(const ob_arena_t *a, const void *p, size_t size)
{
#ifdef OB_DEBUG_ARENA
    (void) a;
    (void) p;
    (void) size;
    return 0;
#else
    const ob_arena_page_t  *page;

    if (ob_arena_class_of(a, size) == OB_ARENA_CLASS_LARGE) {
        return 0;
    }
    page = (const ob_arena_page_t *) ((uintptr_t) p & a->page_mask);

    return page->draining;
#endif
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
