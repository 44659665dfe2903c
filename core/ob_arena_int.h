/*
 * ob_arena_int.h: the arena's structs and the functions shared by its two
 * files, private to core/ob_arena.c (the budget, classes, pages, the pool,
 * allocation, stats) and core/ob_arena_reclaim.c (giving pages back: victim
 * choice, evacuation, rebalance, page_move, and the walk).  Nothing else
 * includes it: modules see only ob_arena.h.
 */
#ifndef OB_ARENA_INT_H
#define OB_ARENA_INT_H

#include <stddef.h>
#include <stdint.h>
#include "ob_arena.h"


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


/* 1 when `owner` was returned by ob_arena_owner_add. */
static inline int
ob_arena_owner_is_valid(const ob_arena_t *a, int owner)
{
    return owner >= 0 && (unsigned) owner < a->nowners;
}


/* The header in front of a block's user pointer (borrowed). */
static inline ob_arena_block_t *
ob_arena_block_of(void *p)
{
    return (ob_arena_block_t *) (void *) ((char *) p - OB_ARENA_BLOCK_HDR);
}


/* Pushes a page on an avail, full or draining list. */
static inline void
ob_arena_page_link(ob_arena_page_t **head, ob_arena_page_t *page)
{
    page->prev = NULL;
    page->next = *head;
    if (*head != NULL) {
        (*head)->prev = page;
    }
    *head = page;
}


/* Takes a page off the list it is on. */
static inline void
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


/* ---- ob_arena.c: pages -------------------------------------------------- */

/* A page for a class, from the pool or the budget: OB_OK with *out set
 * (NULL under OB_DEBUG_ARENA), or OB_ERR. */
int ob_arena_page_acquire(ob_arena_t *a, ob_arena_page_t **out);
/* A page leaves its class, to the pool (always if to_pool) or the system. */
void ob_arena_page_release(ob_arena_t *a, ob_arena_page_t *page, int to_pool);

#ifndef OB_DEBUG_ARENA
/* A page joins its class's ring just behind the walk's hand. */
void ob_arena_ring_add(ob_arena_oclass_t *oc, ob_arena_page_t *page);
/* A page leaves its class's ring; a hand on it moves to the next page. */
void ob_arena_ring_remove(ob_arena_oclass_t *oc, ob_arena_page_t *page);
/* A fresh page joins owner's class id, empty, on its avail list. */
void ob_arena_page_assign(ob_arena_t *a, ob_arena_page_t *page, int owner,
    unsigned id);
#endif


/* ---- ob_arena_reclaim.c: giving pages back ------------------------------ */

/* Asks owner o's evict hook for `want` bytes of class id; sets *spent when
 * it freed nothing. */
void ob_arena_ask_hook(ob_arena_t *a, int o, unsigned id, size_t want,
    int *spent);
/* Takes a page (or a page's worth of large blocks) from an elastic owner:
 * OB_OK, or OB_DECLINED; *declined collects the owners that refused. */
int ob_arena_reclaim(ob_arena_t *a, int owner, unsigned id,
    uint32_t *declined);
/* An elastic owner's own rebalance step: OB_OK (try again) or OB_DECLINED
 * (evict id's own tail). */
int ob_arena_rebalance(ob_arena_t *a, int o, unsigned id);
/* The class (or OB_ARENA_CLASS_LARGE) of owner o's oldest chunk; id when
 * it holds nothing. */
unsigned ob_arena_oldest_class(ob_arena_t *a, int o, unsigned id);

#endif /* OB_ARENA_INT_H */
