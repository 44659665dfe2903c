/*
 * ob_arena.h: the one memory budget of the process, carved into size-classed
 * slabs and accounted per owning module.
 *
 * Every module that keeps data (cache items, store values, queued messages)
 * allocates it here, so that `-m` bounds the whole process and `stats` can
 * say who holds what.  The design follows memcached's slabs.c:
 *
 *   - Memory comes in pages of `page_size` bytes (default 1 MiB).  A page is
 *     handed to one size class when that class needs room, and is carved into
 *     chunks of the class's size.
 *   - Classes start at `min_chunk` bytes and grow by `growth_factor`, each
 *     rounded up to a multiple of 8, up to `page_size / 2` (the largest
 *     class, memcached's slab_chunk_max).  A request larger than that gets a
 *     block of its own, still counted against the budget.
 *   - The budget counts pages (and large blocks), not chunks in use: a page
 *     given to a class is spent until every chunk in it is free again, when
 *     it goes back to the process and the budget.
 *   - Chunks are accounted to the owner that allocated them (chunk size, not
 *     requested size), so per-owner bytes add up to what the owners hold.
 *
 * When an allocation would exceed the budget, the arena calls the eviction
 * hooks that owners registered (the cache is the elastic tenant), asking for
 * room in the requested class, and retries until the allocation fits or every
 * hook reports that it freed nothing.  Only then does allocation fail, and
 * it fails by returning NULL: the caller answers its protocol's
 * out-of-memory error.
 *
 * The arena is not thread-safe: only the reactor thread allocates.
 *
 * Build with -DOB_DEBUG_ARENA to send every chunk to malloc (the accounting
 * is unchanged), so that AddressSanitizer and valgrind see each allocation on
 * its own, as nginx's NGX_DEBUG_PALLOC does.
 */
#ifndef OB_ARENA_H
#define OB_ARENA_H

#include <stddef.h>
#include <stdint.h>

#define OB_ARENA_MAX_OWNERS   16
#define OB_ARENA_MAX_CLASSES  64
#define OB_ARENA_CLASS_LARGE  0     /* class id of blocks bigger than a page/2 */

typedef struct ob_arena_s ob_arena_t;

/*
 * An owner's eviction hook.  Called when an allocation of a chunk of class
 * `class_id` (OB_ARENA_CLASS_LARGE for a large block) needs `want` more bytes
 * than the budget has.  The hook frees what it can spare, preferring chunks
 * of `class_id` (a freed chunk of that class is immediately reusable), by
 * calling ob_arena_free.  Returns the number of bytes it freed; 0 means it
 * has nothing more to give, and the arena stops asking it for this
 * allocation.
 */
typedef size_t (*ob_arena_evict_pt)(void *ctx, unsigned class_id, size_t want);

typedef struct ob_arena_conf_s {
    size_t limit;          /* budget in bytes (memory_mb * 1024 * 1024) */
    size_t page_size;      /* bytes per slab page, >= 4096, power of two */
    size_t min_chunk;      /* smallest class, >= 16 */
    double growth_factor;  /* > 1.0: each class is the last times this */
} ob_arena_conf_t;

/* Figures for one class, as memcached's `stats slabs` shows them. */
typedef struct ob_arena_class_stats_s {
    size_t   chunk_size;
    size_t   chunks_per_page;
    size_t   total_pages;
    size_t   used_chunks;
    size_t   free_chunks;        /* free chunks in this class's pages */
} ob_arena_class_stats_t;

typedef struct ob_arena_owner_stats_s {
    const char *name;            /* borrowed: the name given at registration */
    size_t      bytes;           /* chunk bytes (or large-block bytes) held */
    uint64_t    allocs;          /* successful allocations since start */
    uint64_t    failures;        /* allocations refused for lack of budget */
    uint64_t    evict_calls;     /* times its hook was asked to free memory */
} ob_arena_owner_stats_t;

typedef struct ob_arena_stats_s {
    size_t   limit;              /* the budget */
    size_t   used;               /* pages * page_size + large-block bytes */
    size_t   pages;              /* pages held by classes */
    size_t   page_size;
    size_t   large_bytes;        /* bytes in blocks bigger than a page/2 */
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
 * must outlive the arena (a string literal).
 */
int ob_arena_owner_add(ob_arena_t *a, const char *name);

/* Sets (or with fn NULL clears) the eviction hook of an owner. */
void ob_arena_owner_set_evict(ob_arena_t *a, int owner,
                              ob_arena_evict_pt fn, void *ctx);

/*
 * Allocates `size` bytes (size > 0) for `owner`.  The memory is aligned to
 * 8 bytes and not zeroed.  Returns NULL when the budget cannot hold it even
 * after eviction.  new: release with ob_arena_free with the same owner and
 * size.
 */
void *ob_arena_alloc(ob_arena_t *a, int owner, size_t size);

/* Releases what ob_arena_alloc returned; `size` is the size asked for. */
void ob_arena_free(ob_arena_t *a, int owner, void *p, size_t size);

/* The class a request of `size` bytes falls in: 1..nclasses, or
 * OB_ARENA_CLASS_LARGE when size is bigger than the largest class. */
unsigned ob_arena_class_of(const ob_arena_t *a, size_t size);

/* Bytes actually taken by a request of `size` bytes (its chunk size, or the
 * size itself for a large block). */
size_t ob_arena_chunk_size(const ob_arena_t *a, size_t size);

/* Changes the budget at run time (memcached's cache_memlimit).  Lowering it
 * below what is in use does not free anything: later allocations evict. */
void ob_arena_set_limit(ob_arena_t *a, size_t limit);

void ob_arena_stats(const ob_arena_t *a, ob_arena_stats_t *out /* OUT */);
int  ob_arena_class_stats(const ob_arena_t *a, unsigned class_id,
                          ob_arena_class_stats_t *out /* OUT */);
int  ob_arena_owner_stats(const ob_arena_t *a, int owner,
                          ob_arena_owner_stats_t *out /* OUT */);

#endif /* OB_ARENA_H */
