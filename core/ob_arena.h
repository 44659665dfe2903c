/*
 * ob_arena.h: the one memory budget that the modules' data shares, carved
 * into size-classed slab pages and accounted per owning module.
 *
 * Every module that keeps data (cache items, store values, queued messages)
 * allocates it here, so that `-m` bounds that data, all tenants together,
 * and `stats` can say who holds what.  `-m` does not bound the process:
 * connection buffers, hash-table bucket arrays, page headers' slack and
 * libevent's own allocations are outside it (README gives the worst case).
 * The design follows memcached's slabs.c and its slab page mover:
 *
 *   - Memory comes in pages of `page_size` bytes (default 1 MiB).  A page
 *     belongs to one owner and one size class while it holds chunks, and is
 *     carved into chunks of the class's size.  Owners never share a page, so
 *     a page can be handed back by the one owner that fills it.
 *   - Classes: from 16 bytes in 8-byte steps up to 192, so that the
 *     many 16-64 byte objects of a store waste at most 7 bytes each; from
 *     192 up (or from `min_chunk`, core.slab_min_chunk, when larger) each
 *     class is the last times `growth_factor`, rounded up to 8 (240, 304,
 *     ... at 1.25), up to `page_size / 2`
 *     (slab_chunk_max).  A larger request is a block of its own, counted.
 *   - Free pages wait in a pool (memcached's class 0), the exchange point
 *     between classes and owners.  A page emptied by frees goes to the pool
 *     while it holds fewer than the spare count, else back to the system;
 *     pool pages count as used (they are memory the process holds), and any
 *     owner takes one before asking anyone to give anything up.
 *   - Chunks are accounted to their owner (chunk size, not requested size).
 *
 * Tenants.  An owner is firm (the default: the store, the queue) or elastic
 * (the cache: ob_arena_owner_set_elastic).  An allocation that finds no
 * room, by owner O, in order:
 *   1. a pool page, or a new page while the budget has one;
 *   2. if O is elastic: when another of O's classes (or its large
 *      blocks) holds data four times as old as the class's LRU tail
 *      (the age callback), that class gives a page to O's class, so that
 *      O's classes share the budget as one LRU would; else O's own
 *      eviction hook, for O's class (the cache reuses the chunk of its LRU
 *      tail: memcached's behaviour);
 *   3. page reclaim: an elastic owner gives up ONE page (the arena picks it,
 *      the owner moves or evicts each live chunk on it through its evacuate
 *      callback), and the page goes through the pool to O.  One foreign
 *      allocation costs the cache about one page, never its whole LRU;
 *   4. if O is firm, O's own eviction hook (the store's maxmemory policy
 *      applies to the store's keys only).  Another firm owner's hook is
 *      never called; when all this fails the allocation returns NULL.
 * Inside a hook or an evacuation nothing evicts again (no recursion).
 *
 * The arena is not thread-safe: only the reactor thread allocates.
 *
 * Build with -DOB_DEBUG_ARENA to send every chunk to malloc (the accounting
 * is unchanged), so that AddressSanitizer and valgrind see each allocation on
 * its own, as nginx's NGX_DEBUG_PALLOC does.  Pages are then simulated, and
 * giving up "a page" means evacuating chunks_per_page chunks of a class
 * through the same callback.
 */
#ifndef OB_ARENA_H
#define OB_ARENA_H

#include <stddef.h>
#include <stdint.h>

#define OB_ARENA_MAX_OWNERS   16
#define OB_ARENA_MAX_CLASSES  64
#define OB_ARENA_CLASS_LARGE  0     /* class id of blocks bigger than a page/2 */
#define OB_ARENA_POOL         0     /* as a page destination: the free pool */
#define OB_ARENA_SPARE_PAGES  2     /* emptied pages kept in the pool */
#define OB_ARENA_REBALANCE_CHUNKS 4096 /* live chunks per page, at most, of a
                                          class that gives a page up by age */

typedef struct ob_arena_s ob_arena_t;

/*
 * An owner's eviction hook: it frees its OWN memory by its own policy.
 * Called when an allocation by this owner of a chunk of class `class_id`
 * (OB_ARENA_CLASS_LARGE for a large block) needs `want` more bytes; for an
 * elastic owner also when another owner needs room and the owner's large
 * blocks are the oldest thing to give up.  The hook frees what it can spare,
 * preferring chunks of `class_id` (a freed chunk of that class is reusable
 * at once), by calling ob_arena_free.  Returns the bytes it freed; 0 means
 * it has nothing more to give, and the arena stops asking it for this
 * allocation.
 */
typedef size_t (*ob_arena_evict_pt)(void *ctx, unsigned class_id, size_t want);

/*
 * An elastic owner's evacuate callback: `chunk` (of class `class_id`, a
 * chunk the owner holds on a page the arena is taking back) must go.  The
 * owner either moves it (ob_arena_alloc_nogrow for a chunk of the same
 * class elsewhere, copy, fix its pointers, free the old one) or frees it
 * (evicts), and returns OB_OK.  OB_BUSY: it cannot be freed now (a pending
 * reply points into it), the owner frees it later and the page goes to the
 * pool then.  OB_DECLINED: the owner refuses to give the page up (memcached
 * -M); the page stays with it.  The callback must not allocate but with
 * ob_arena_alloc_nogrow.
 */
typedef int (*ob_arena_evacuate_pt)(void *ctx, void *chunk, unsigned class_id);

/*
 * An elastic owner's age callback: how long ago (in the owner's time units,
 * larger is older) the `nth` least recently used chunk of `class_id` (0:
 * its LRU tail; past its most recent, the most recent) was used, or 0 when
 * the class holds nothing.  The arena takes pages from the class whose
 * data is oldest, as one LRU over all classes would: before the owner
 * evicts its own class's tail for its own allocation, and when no class
 * can give a page up without evicting.  nth is at most about
 * OB_ARENA_REBALANCE_CHUNKS.
 */
typedef uint64_t (*ob_arena_age_pt)(void *ctx, unsigned class_id, size_t nth);

/*
 * A walk's visitor (ob_arena_walk): `chunk` is a chunk the walk passes,
 * in use or free (the owner tells them apart by its own contents; a free
 * chunk's first 8 bytes are the arena's).  OB_DONE stops the walk.
 */
typedef int (*ob_arena_walk_pt)(void *ctx, void *chunk);

typedef struct ob_arena_conf_s {
    size_t limit;          /* budget in bytes (memory_mb * 1024 * 1024) */
    size_t page_size;      /* bytes per slab page, >= 4096, power of two */
    size_t min_chunk;      /* where the growth series starts, >= 16; below
                              it classes step by 8 bytes from 16 */
    double growth_factor;  /* > 1.0: each class is the last times this */
} ob_arena_conf_t;

/* Figures for one class, as memcached's `stats slabs` shows them. */
typedef struct ob_arena_class_stats_s {
    size_t   chunk_size;
    size_t   chunks_per_page;
    size_t   total_pages;        /* pages holding chunks (draining included) */
    size_t   used_chunks;
    size_t   free_chunks;        /* free chunks in this class's pages */
    size_t   draining_pages;     /* given up, waiting for busy chunks */
} ob_arena_class_stats_t;

typedef struct ob_arena_owner_stats_s {
    const char *name;            /* borrowed: the name given at registration */
    int         elastic;
    size_t      bytes;           /* chunk bytes (or large-block bytes) held */
    size_t      limit;           /* 0: none but the budget */
    size_t      pages;           /* pages holding its chunks */
    uint64_t    allocs;          /* successful allocations since start */
    uint64_t    failures;        /* allocations refused for lack of budget */
    uint64_t    evict_calls;     /* times its hook was asked to free memory */
    uint64_t    pages_given;     /* pages it gave up (reclaim, moves) */
} ob_arena_owner_stats_t;

typedef struct ob_arena_stats_s {
    size_t   limit;              /* the budget */
    size_t   used;               /* (pages + pool_pages) * page_size
                                    + large_bytes: what the process took */
    size_t   pages;              /* pages held by classes */
    size_t   pool_pages;         /* free pages kept (counted in used) */
    size_t   spare_pages;        /* how many emptied pages the pool keeps */
    size_t   page_size;
    size_t   min_chunk;          /* where the growth series starts (the conf's,
                                    rounded up to 8) */
    size_t   large_bytes;        /* bytes in blocks bigger than a page/2 */
    uint64_t reclaims;           /* pages taken back from elastic owners */
    unsigned nclasses;           /* classes 1..nclasses are valid */
    unsigned nowners;
} ob_arena_stats_t;

/*
 * Creates an arena with the given configuration.  Returns NULL (and writes
 * a reason into err if err is not NULL, at most errlen bytes) when the
 * configuration is invalid.  No memory is taken from the system until the
 * first allocation.  new: free with ob_arena_destroy.
 */
ob_arena_t *ob_arena_new(const ob_arena_conf_t *conf, char *err, size_t errlen);

/* Frees every page and large block.  Allocations become invalid. */
void ob_arena_destroy(ob_arena_t *a);

/*
 * Registers an owner (a module) by name and returns its id (>= 0), or OB_ERR
 * when OB_ARENA_MAX_OWNERS are already registered.  The name is borrowed and
 * must outlive the arena (a string literal).  A new owner is firm.
 */
int ob_arena_owner_add(ob_arena_t *a, const char *name);

/* Sets (or with fn NULL clears) the eviction hook of an owner. */
void ob_arena_owner_set_evict(ob_arena_t *a, int owner,
                              ob_arena_evict_pt fn, void *ctx);

/* Makes an owner elastic (evacuate not NULL; age may be NULL) or firm
 * again (evacuate NULL).  Elastic owners give pages up in the order they
 * were registered. */
void ob_arena_owner_set_elastic(ob_arena_t *a, int owner,
                                ob_arena_evacuate_pt evacuate,
                                ob_arena_age_pt age, void *ctx);

/* Caps what an owner holds (its bytes, as in its stats); 0 removes the
 * cap.  Over it, the owner's allocations only call its own hook. */
void ob_arena_owner_set_limit(ob_arena_t *a, int owner, size_t limit);

/*
 * Bytes the owner could still allocate without any firm owner giving
 * anything up: the lesser of its own limit's room and the budget's room
 * plus pool pages plus what elastic owners (other than itself) hold.
 * Partial pages are ignored, so it is an estimate, for flow control (a
 * queue blocks publishers when it falls below a threshold).
 */
size_t ob_arena_owner_headroom(const ob_arena_t *a, int owner);

/*
 * Allocates `size` bytes (size > 0) for `owner`.  The memory is aligned to
 * 8 bytes and not zeroed.  Returns NULL when the budget cannot hold it even
 * after reclaim and eviction (see the order above).  new: release with
 * ob_arena_free with the same owner and size.
 */
void *ob_arena_alloc(ob_arena_t *a, int owner, size_t size);

/*
 * 1 when the chunk at `p` (allocated with `size`) sits on a page that was
 * given up and waits for its busy chunks; never for a large block, nor in
 * the debug build (its pages are simulated).  An owner whose chunk was busy
 * when its page went (an upload still arriving) moves it once it is done,
 * so that the page can go to the pool.
 */
int ob_arena_chunk_is_draining(const ob_arena_t *a, const void *p, size_t size);

/*
 * A chunk for `size` from a page `owner` already holds in that class: never
 * a new page, a pool page, or eviction (the evacuate callback's way to move
 * a chunk).  NULL when there is none, and always for a large size.  new.
 */
void *ob_arena_alloc_nogrow(ob_arena_t *a, int owner, size_t size);

/*
 * Resizes an allocation of `old_size` to `new_size` bytes (both > 0),
 * keeping the first min(old, new) bytes.  Returns p itself when both sizes
 * fall in the same class, else a new chunk (p is freed).  NULL when it does
 * not fit: p is then untouched and still owned by the caller.  The
 * allocation may call the owner's hook: the caller must make sure the hook
 * cannot free p.  new.
 */
void *ob_arena_realloc(ob_arena_t *a, int owner, void *p, size_t old_size,
                       size_t new_size);

/* Releases what ob_arena_alloc returned; `size` is the size asked for. */
void ob_arena_free(ob_arena_t *a, int owner, void *p, size_t size);

/*
 * Takes one page of `owner`'s class `src` away from it (the page with the
 * fewest live chunks; each live chunk through the owner's evacuate
 * callback) and gives it to class `dst` of the same owner, or to the pool
 * with OB_ARENA_POOL.  memcached's `slabs reassign`.  Returns OB_OK (moved),
 * OB_BUSY (the page drains: it reaches the pool when its busy chunks are
 * freed), OB_DECLINED (src holds fewer than 2 pages of the owner's, or the
 * owner refused), OB_ERR (bad class or a firm owner).
 */
int ob_arena_page_move(ob_arena_t *a, int owner, unsigned src, unsigned dst);

/* The class a request of `size` bytes falls in: 1..nclasses, or
 * OB_ARENA_CLASS_LARGE when size is bigger than the largest class. */
unsigned ob_arena_class_of(const ob_arena_t *a, size_t size);

/*
 * A CLOCK hand over owner's chunks of class id (OB_ARENA_CLASS_LARGE: its
 * large blocks): visits up to `max` chunks from the hand on, in page order,
 * wrapping round, but one round at most (it stops before a chunk it
 * visited); every chunk ever handed out on the class's live pages (not
 * draining ones) is met, free ones included.  With `move` the hand
 * is left past each chunk before fn sees it, so fn may free that chunk
 * (and only that one); without, fn must not free anything.  Returns the
 * chunks visited.
 */
size_t ob_arena_walk(ob_arena_t *a, int owner, unsigned id, size_t max,
                     int move, ob_arena_walk_pt fn, void *ctx);

/* Bytes actually taken by a request of `size` bytes (its chunk size, or the
 * size itself for a large block). */
size_t ob_arena_chunk_size(const ob_arena_t *a, size_t size);

/*
 * The page size to configure an arena of budget `limit` with: `page_size`,
 * halved while the budget would hold fewer than OB_ARENA_BUDGET_PAGES
 * pages, but never below 4096 nor below 2 * min_chunk.  Why: every class
 * in use holds at least one page, and with memcached's series there are
 * about 40 classes; a 16 MB budget of 1 MB pages cannot give each a page
 * (memcached grants a class its first page over the limit; we keep the
 * limit instead), so mixed sizes would keep stealing each other's only
 * page.  At 64 pages and more (-m 64 and up, with 1 MB pages) nothing
 * changes.  A configuration helper: ob_arena_new takes the size given.
 */
#define OB_ARENA_BUDGET_PAGES  64
size_t ob_arena_page_size_fit(size_t limit, size_t page_size,
                              size_t min_chunk);

/* Changes the budget at run time (memcached's cache_memlimit).  Lowering it
 * frees pool pages down to the new limit; what owners hold is not freed:
 * later allocations reclaim and evict. */
void ob_arena_set_limit(ob_arena_t *a, size_t limit);

/* How many emptied pages the pool keeps instead of freeing them (default
 * OB_ARENA_SPARE_PAGES).  Pages over the new count are freed now. */
void ob_arena_set_spare(ob_arena_t *a, size_t pages);

void ob_arena_stats(const ob_arena_t *a, ob_arena_stats_t *out /* OUT */);
/* A class's figures over all owners. */
int  ob_arena_class_stats(const ob_arena_t *a, unsigned class_id,
                          ob_arena_class_stats_t *out /* OUT */);
/* A class's figures for one owner's pages. */
int  ob_arena_owner_class_stats(const ob_arena_t *a, int owner,
                                unsigned class_id,
                                ob_arena_class_stats_t *out /* OUT */);
/* The bytes an owner holds (ob_arena_owner_stats' `bytes`), for checks
 * on the hot path such as the store's maxmemory before each write. */
size_t ob_arena_owner_bytes(const ob_arena_t *a, int owner);
int  ob_arena_owner_stats(const ob_arena_t *a, int owner,
                          ob_arena_owner_stats_t *out /* OUT */);

#endif /* OB_ARENA_H */
