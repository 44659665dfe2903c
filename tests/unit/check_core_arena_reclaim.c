/*
 * check_core_arena_reclaim.c: unit tests of page reclaim between the
 * arena's tenants (core/ob_arena_reclaim.c and its callers in
 * core/ob_arena.c): what a foreign allocation costs an elastic tenant,
 * compaction before eviction, the owners' priorities, the elastic tenant's
 * own allocations, busy chunks leaving a page draining, page_move
 * (memcached's slabs reassign), rebalance between classes by age, an
 * elastic owner over its own limit, and the CLOCK walk.
 *
 * As in check_core_arena.c, only the public API is used, so the tests pass
 * in the release build and with -DOB_DEBUG_ARENA; where the two differ the
 * test checks only what both promise.
 */
#include "check_suites.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ob_arena.h"
#include "ob_core.h"

#include "check_arena_util.h"


/*
 * An elastic tenant for the reclaim tests: a FIFO of same-size items
 * (oldest first) whose evacuate callback moves an item into a free chunk,
 * evicting its oldest item to make one, as the cache does.  `busy` marks
 * items a "reply" still holds: they cannot be freed now.
 */
typedef struct t_elastic_s {
    ob_arena_t  *a;
    int          owner;
    size_t       size;
    void        *items[T_MAX_ITEMS];
    int          busy[T_MAX_ITEMS];
    size_t       n;                 /* slots used; NULL ones were freed */
    size_t       evicted;
    size_t       moved;
    size_t       evacuate_calls;
    size_t       hook_calls;
} t_elastic_t;


static long
t_elastic_find(t_elastic_t *e, void *p)
{
    size_t  i;

    for (i = 0; i < e->n; i++) {
        if (e->items[i] == p) {
            return (long) i;
        }
    }
    return -1;
}


static void
t_elastic_drop(t_elastic_t *e, size_t i)
{
    ob_arena_free(e->a, e->owner, e->items[i], e->size);
    e->items[i] = NULL;
    e->evicted++;
}


/* The oldest live item that is not busy and not slot `not`, or -1. */
static long
t_elastic_oldest(t_elastic_t *e, long not)
{
    size_t  i;

    for (i = 0; i < e->n; i++) {
        if (e->items[i] != NULL && !e->busy[i] && (long) i != not) {
            return (long) i;
        }
    }
    return -1;
}


static int
t_elastic_evacuate(void *ctx, void *chunk, unsigned class_id)
{
    t_elastic_t  *e;
    long          i, old;
    void         *np;

    e = ctx;
    (void) class_id;
    e->evacuate_calls++;

    i = t_elastic_find(e, chunk);
    ck_assert_int_ge(i, 0);         /* only our own chunks are asked for */

    if (e->busy[i]) {
        return OB_BUSY;
    }

    np = ob_arena_alloc_nogrow(e->a, e->owner, e->size);
    while (np == NULL) {
        old = t_elastic_oldest(e, i);
        if (old < 0 || old > i) {
            break;                  /* the item is the oldest: it goes */
        }
        t_elastic_drop(e, (size_t) old);
        np = ob_arena_alloc_nogrow(e->a, e->owner, e->size);
    }

    if (np == NULL) {
        t_elastic_drop(e, (size_t) i);
        return OB_OK;
    }

    memcpy(np, chunk, e->size);
    ob_arena_free(e->a, e->owner, chunk, e->size);
    e->items[i] = np;
    e->moved++;
    return OB_OK;
}


/* Its own hook: frees its oldest items (memcached's LRU tail). */
static size_t
t_elastic_evict(void *ctx, unsigned class_id, size_t want)
{
    t_elastic_t  *e;
    size_t        freed;
    long          i;

    e = ctx;
    e->hook_calls++;
    freed = 0;

    if (class_id != ob_arena_class_of(e->a, e->size)) {
        return 0;                       /* it holds nothing of that class */
    }

    while (freed < want && (i = t_elastic_oldest(e, -1)) >= 0) {
        t_elastic_drop(e, (size_t) i);
        freed += ob_arena_chunk_size(e->a, e->size);
    }
    return freed;
}


static t_elastic_t *
t_elastic_new(ob_arena_t *a, const char *name, size_t size)
{
    t_elastic_t  *e;

    e = calloc(1, sizeof(t_elastic_t));
    ck_assert_ptr_nonnull(e);
    e->a = a;
    e->size = size;
    e->owner = ob_arena_owner_add(a, name);
    ck_assert_int_ge(e->owner, 0);
    ob_arena_owner_set_elastic(a, e->owner, t_elastic_evacuate, NULL, e);
    ob_arena_owner_set_evict(a, e->owner, t_elastic_evict, e);
    return e;
}


/* Fills until the budget is spent (its own hook off while filling). */
static void
t_elastic_fill(t_elastic_t *e)
{
    void  *p;

    ob_arena_owner_set_evict(e->a, e->owner, NULL, NULL);
    while (e->n < T_MAX_ITEMS
           && (p = ob_arena_alloc(e->a, e->owner, e->size)) != NULL)
    {
        memset(p, (int) (e->n & 0xff), e->size);
        e->items[e->n++] = p;
    }
    ck_assert_uint_lt(e->n, T_MAX_ITEMS);
    ob_arena_owner_set_evict(e->a, e->owner, t_elastic_evict, e);
}


static size_t
t_elastic_live(const t_elastic_t *e)
{
    size_t  i, n;

    for (i = 0, n = 0; i < e->n; i++) {
        n += e->items[i] != NULL;
    }
    return n;
}


static void
t_elastic_free(t_elastic_t *e)
{
    size_t  i;

    for (i = 0; i < e->n; i++) {
        if (e->items[i] != NULL) {
            ob_arena_free(e->a, e->owner, e->items[i], e->size);
        }
    }
    free(e);
}


/*
 * The measurement of issue 6: with the elastic tenant filling the budget,
 * one 4,000-byte allocation by another owner costs it about one page of
 * items, not its LRU.  The next one lands on the same page: free.
 */
START_TEST(test_reclaim_one_page)
{
    ob_arena_t              *a;
    ob_arena_stats_t         st;
    ob_arena_owner_stats_t   os;
    ob_arena_class_stats_t   cs;
    t_elastic_t             *e;
    void                    *p, *q;
    size_t                   before, lost;
    int                      store;

    a = t_arena(12 * T_PAGE, T_PAGE, 96, 1.25);
    e = t_elastic_new(a, "cache", 200);
    store = ob_arena_owner_add(a, "store");
    t_elastic_fill(e);
    before = t_elastic_live(e);
    ck_assert_int_eq(ob_arena_class_stats(a, ob_arena_class_of(a, 200), &cs),
                     OB_OK);
    ck_assert_uint_ge(before, 12 * cs.chunks_per_page);

    p = ob_arena_alloc(a, store, 4000);
    ck_assert_ptr_nonnull(p);
    lost = before - t_elastic_live(e);
    ck_assert_uint_gt(lost, 0);
    ck_assert_uint_le(lost, cs.chunks_per_page + 1); /* about one page */
    ck_assert_uint_eq(e->hook_calls, 0);            /* not its LRU hook */

    ck_assert_int_eq(ob_arena_owner_stats(a, e->owner, &os), OB_OK);
    ck_assert_uint_eq(os.pages_given, 1);
    ck_assert_int_eq(os.elastic, 1);
    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.reclaims, 1);

    q = ob_arena_alloc(a, store, 4000);
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq(before - t_elastic_live(e), lost);
    t_check_consistent(a);

    ob_arena_free(a, store, p, 4000);
    ob_arena_free(a, store, q, 4000);
    t_elastic_free(e);
    t_check_consistent(a);
    ob_arena_destroy(a);
}
END_TEST


/*
 * Holes first: when the class has a page's worth of free chunks, the page
 * given up is emptied by moving its items, and nothing is evicted.
 */
START_TEST(test_reclaim_compacts)
{
    ob_arena_t   *a;
    t_elastic_t  *e;
    void         *p;
    size_t        i, live;
    int           store;

    a = t_arena(8 * T_PAGE, T_PAGE, 96, 1.25);
    e = t_elastic_new(a, "cache", 200);
    store = ob_arena_owner_add(a, "store");
    t_elastic_fill(e);

    /* free every other item: half of each page is holes */
    for (i = 0; i < e->n; i += 2) {
        ob_arena_free(a, e->owner, e->items[i], e->size);
        e->items[i] = NULL;
    }
    live = t_elastic_live(e);
    e->evicted = 0;

    p = ob_arena_alloc(a, store, 30000);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(e->evicted, 0);
    ck_assert_uint_eq(t_elastic_live(e), live);
#ifndef OB_DEBUG_ARENA
    /* (simulated pages are packed: there the frees gave pages back) */
    ck_assert_uint_gt(e->moved, 0);
#endif

    /* the moved items kept their bytes */
    for (i = 0; i < e->n; i++) {
        if (e->items[i] != NULL) {
            ck_assert(t_pattern_ok(e->items[i], (unsigned char) (i & 0xff),
                                   e->size));
        }
    }

    t_check_consistent(a);
    ob_arena_free(a, store, p, 30000);
    t_elastic_free(e);
    ob_arena_destroy(a);
}
END_TEST


/*
 * Priorities: the elastic tenant gives first; a firm owner's hook is asked
 * only for its own allocations, after reclaim failed; another firm owner's
 * hook never.
 */
START_TEST(test_priorities)
{
    ob_arena_t              *a;
    ob_arena_owner_stats_t   os;
    t_elastic_t             *e;
    void                    *p[64], *q;
    size_t                   store_calls, queue_calls, n, i;
    int                      store, queue;

    a = t_arena(8 * T_PAGE, T_PAGE, 96, 1.25);
    store = ob_arena_owner_add(a, "store");
    e = t_elastic_new(a, "cache", 1000);
    queue = ob_arena_owner_add(a, "queue");
    store_calls = 0;
    queue_calls = 0;
    ob_arena_owner_set_evict(a, store, t_firm_hook, &store_calls);
    ob_arena_owner_set_evict(a, queue, t_firm_hook, &queue_calls);

    /* the store takes half, the cache the rest */
    for (n = 0; n < 4; n++) {
        p[n] = ob_arena_alloc(a, store, 40000);
        ck_assert_ptr_nonnull(p[n]);
    }
    t_elastic_fill(e);

    /* the queue is served by the cache: nobody's hook is asked */
    q = ob_arena_alloc(a, queue, 40000);
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq(store_calls, 0);
    ck_assert_uint_eq(queue_calls, 0);
    ck_assert_uint_eq(e->hook_calls, 0);
    ck_assert_uint_gt(e->evacuate_calls, 0);

    /* the store too: the cache yields before the store's own policy */
    for ( /* void */ ; n < 64; n++) {
        p[n] = ob_arena_alloc(a, store, 40000);
        if (p[n] == NULL) {
            break;
        }
    }
    ck_assert_uint_lt(n, 64);
    ck_assert_uint_eq(t_elastic_live(e), 0);        /* gave everything */
    ck_assert_uint_eq(store_calls, 1);              /* then its own hook */
    ck_assert_uint_eq(queue_calls, 0);              /* never the queue's */

    /* firm owners fail cleanly, each asking only itself */
    ck_assert_ptr_null(ob_arena_alloc(a, queue, 40000));
    ck_assert_uint_eq(queue_calls, 1);
    ck_assert_uint_eq(store_calls, 1);
    ck_assert_int_eq(ob_arena_owner_stats(a, queue, &os), OB_OK);
    ck_assert_uint_eq(os.failures, 1);
    ck_assert_int_eq(os.elastic, 0);

    t_check_consistent(a);
    for (i = 0; i < n; i++) {
        ob_arena_free(a, store, p[i], 40000);
    }
    ob_arena_free(a, queue, q, 40000);
    t_elastic_free(e);
    ob_arena_destroy(a);
}
END_TEST


/*
 * The elastic tenant's own allocation in a class it holds reuses its own
 * LRU tail (its hook, memcached's per-class eviction) rather than taking a
 * page; in a class it does not hold, it takes a page from another class.
 */
START_TEST(test_elastic_own_alloc)
{
    ob_arena_t              *a;
    ob_arena_owner_stats_t   os;
    t_elastic_t             *e;
    void                    *p;

    a = t_arena(8 * T_PAGE, T_PAGE, 96, 1.25);
    e = t_elastic_new(a, "cache", 1000);
    t_elastic_fill(e);

    p = ob_arena_alloc(a, e->owner, 1000);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(e->hook_calls, 1);
    ck_assert_uint_eq(e->evicted, 1);
    ck_assert_int_eq(ob_arena_owner_stats(a, e->owner, &os), OB_OK);
    ck_assert_uint_eq(os.pages_given, 0);
    ob_arena_free(a, e->owner, p, 1000);

    /* another class: one page moves over */
    p = ob_arena_alloc(a, e->owner, 5000);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(ob_arena_owner_stats(a, e->owner, &os), OB_OK);
    ck_assert_uint_eq(os.pages_given, 1);
    t_check_consistent(a);

    ob_arena_free(a, e->owner, p, 5000);
    t_elastic_free(e);
    ob_arena_destroy(a);
}
END_TEST


/*
 * A chunk the owner cannot free now (a pending reply) leaves its page
 * draining; the free of that chunk sends the page to the pool.
 */
START_TEST(test_reclaim_busy)
{
    ob_arena_t              *a;
    ob_arena_stats_t         st;
    t_elastic_t             *e;
    void                    *p;
    size_t                   i, pool;
    int                      store;

    a = t_arena(4 * T_PAGE, T_PAGE, 96, 1.25);
    e = t_elastic_new(a, "cache", 3000);
    store = ob_arena_owner_add(a, "store");
    t_elastic_fill(e);
    for (i = 0; i < e->n; i++) {
        e->busy[i] = 1;                         /* every item is busy */
    }

    /* nothing can be freed now: the allocation fails, cleanly */
    ck_assert_ptr_null(ob_arena_alloc(a, store, 5000));
    ck_assert_uint_eq(t_elastic_live(e), e->n);

#ifndef OB_DEBUG_ARENA
    {
        ob_arena_class_stats_t  cs;

        ck_assert_int_eq(ob_arena_owner_class_stats(a, e->owner,
                             ob_arena_class_of(a, 3000), &cs), OB_OK);
        ck_assert_uint_ge(cs.draining_pages, 1);
    }
#endif

    /* the replies finish: their items are freed (the owner's promise for
     * OB_BUSY), and the drained pages reach the pool */
    for (i = 0; i < e->n; i++) {
        e->busy[i] = 0;
        ob_arena_free(a, e->owner, e->items[i], e->size);
        e->items[i] = NULL;
    }
    ob_arena_stats(a, &st);
    pool = st.pool_pages;
    ck_assert_uint_ge(pool, 1);
    p = ob_arena_alloc(a, store, 5000);
    ck_assert_ptr_nonnull(p);

    t_check_consistent(a);
    ob_arena_free(a, store, p, 5000);
    t_elastic_free(e);
    t_check_consistent(a);
    ob_arena_destroy(a);
}
END_TEST


/* memcached's slabs reassign: one page from a class to another or the pool. */
START_TEST(test_page_move)
{
    ob_arena_t              *a;
    ob_arena_class_stats_t   cs;
    t_elastic_t             *e;
    unsigned                 src, dst;

    a = t_arena(4 * T_PAGE, T_PAGE, 96, 1.25);
    e = t_elastic_new(a, "cache", 3000);
    t_elastic_fill(e);
    src = ob_arena_class_of(a, 3000);
    dst = ob_arena_class_of(a, 200);

    ck_assert_int_eq(ob_arena_page_move(a, e->owner, src, dst), OB_OK);
    ck_assert_int_eq(ob_arena_owner_class_stats(a, e->owner, src, &cs), OB_OK);
    ck_assert_uint_eq(cs.total_pages, 3);
    ck_assert_int_eq(ob_arena_owner_class_stats(a, e->owner, dst, &cs), OB_OK);
    ck_assert_uint_eq(cs.total_pages, 1);

    ck_assert_int_eq(ob_arena_page_move(a, e->owner, src, OB_ARENA_POOL),
                     OB_OK);
    ck_assert_int_eq(ob_arena_page_move(a, e->owner, src, OB_ARENA_POOL),
                     OB_OK);
    /* its last page stays: NOSPARE */
    ck_assert_int_eq(ob_arena_page_move(a, e->owner, src, OB_ARENA_POOL),
                     OB_DECLINED);
    ck_assert_int_eq(ob_arena_page_move(a, e->owner, src, src), OB_ERR);
    ck_assert_int_eq(ob_arena_page_move(a, e->owner, 999, 1), OB_ERR);

    t_check_consistent(a);
    t_elastic_free(e);
    ob_arena_destroy(a);
}
END_TEST


/*
 * A tenant with a few sizes (one class each), an LRU per class and one
 * clock for all, for the rebalance between its classes: its age callback
 * says how long ago the nth oldest item of a class was stamped.
 */
#define T_NSIZES  3

typedef struct t_multi_s {
    ob_arena_t  *a;
    int          owner;
    size_t       size[T_NSIZES];
    void        *items[T_NSIZES][T_MAX_ITEMS];
    uint64_t     stamp[T_NSIZES][T_MAX_ITEMS];
    size_t       head[T_NSIZES];    /* oldest maybe-live slot */
    size_t       n[T_NSIZES];
    uint64_t     clock;
    size_t       age_calls;
} t_multi_t;


static int
t_multi_kind(const t_multi_t *m, unsigned class_id)
{
    int  k;

    for (k = 0; k < T_NSIZES; k++) {
        if (m->size[k] != 0 && ob_arena_class_of(m->a, m->size[k]) == class_id) {
            return k;
        }
    }
    return -1;
}


/* The slot of the oldest live item of kind k, or -1. */
static long
t_multi_oldest(t_multi_t *m, int k)
{
    while (m->head[k] < m->n[k] && m->items[k][m->head[k]] == NULL) {
        m->head[k]++;
    }
    return m->head[k] < m->n[k] ? (long) m->head[k] : -1;
}


static void
t_multi_drop(t_multi_t *m, int k, size_t i)
{
    ob_arena_free(m->a, m->owner, m->items[k][i], m->size[k]);
    m->items[k][i] = NULL;
}


static size_t
t_multi_live(const t_multi_t *m, int k)
{
    size_t  i, n;

    for (i = 0, n = 0; i < m->n[k]; i++) {
        n += m->items[k][i] != NULL;
    }
    return n;
}


static int
t_multi_evacuate(void *ctx, void *chunk, unsigned class_id)
{
    t_multi_t  *m;
    void       *np;
    long        i, old;
    int         k;

    m = ctx;
    k = t_multi_kind(m, class_id);
    ck_assert_int_ge(k, 0);
    for (i = 0; i < (long) m->n[k] && m->items[k][i] != chunk; i++) {
        /* void */
    }
    ck_assert_int_lt(i, (long) m->n[k]);

    np = ob_arena_alloc_nogrow(m->a, m->owner, m->size[k]);
    while (np == NULL) {
        old = t_multi_oldest(m, k);
        if (old < 0 || old >= i) {
            break;
        }
        t_multi_drop(m, k, (size_t) old);
        np = ob_arena_alloc_nogrow(m->a, m->owner, m->size[k]);
    }

    if (np == NULL) {
        t_multi_drop(m, k, (size_t) i);
        return OB_OK;
    }

    memcpy(np, chunk, m->size[k]);
    ob_arena_free(m->a, m->owner, chunk, m->size[k]);
    m->items[k][i] = np;
    return OB_OK;
}


static size_t
t_multi_evict(void *ctx, unsigned class_id, size_t want)
{
    t_multi_t  *m;
    size_t      freed;
    long        i;
    int         k;

    m = ctx;
    k = t_multi_kind(m, class_id);
    freed = 0;
    if (k < 0) {
        return 0;
    }

    while (freed < want && (i = t_multi_oldest(m, k)) >= 0) {
        t_multi_drop(m, k, (size_t) i);
        freed += ob_arena_chunk_size(m->a, m->size[k]);
    }
    return freed;
}


static uint64_t
t_multi_age(void *ctx, unsigned class_id, size_t nth)
{
    t_multi_t  *m;
    long        i, last;
    int         k;

    m = ctx;
    m->age_calls++;
    k = t_multi_kind(m, class_id);
    if (k < 0 || (i = t_multi_oldest(m, k)) < 0) {
        return 0;
    }

    for (last = i; (size_t) i < m->n[k]; i++) {
        if (m->items[k][i] == NULL) {
            continue;
        }
        last = i;
        if (nth-- == 0) {
            break;
        }
    }
    return m->clock - m->stamp[k][last] + 1;
}


/* One item of kind k, stamped now; NULL when the arena refused. */
static void *
t_multi_alloc(t_multi_t *m, int k)
{
    void  *p;

    ck_assert_uint_lt(m->n[k], T_MAX_ITEMS);
    p = ob_arena_alloc(m->a, m->owner, m->size[k]);
    if (p != NULL) {
        memset(p, k + 1, m->size[k]);
        m->stamp[k][m->n[k]] = m->clock;
        m->items[k][m->n[k]++] = p;
    }
    return p;
}


static t_multi_t *
t_multi_new(ob_arena_t *a, size_t s0, size_t s1, size_t s2)
{
    t_multi_t  *m;

    m = calloc(1, sizeof(t_multi_t));
    ck_assert_ptr_nonnull(m);
    m->a = a;
    m->size[0] = s0;
    m->size[1] = s1;
    m->size[2] = s2;
    m->owner = ob_arena_owner_add(a, "cache");
    ck_assert_int_ge(m->owner, 0);
    ob_arena_owner_set_elastic(a, m->owner, t_multi_evacuate, t_multi_age, m);
    ob_arena_owner_set_evict(a, m->owner, t_multi_evict, m);
    return m;
}


static void
t_multi_free(t_multi_t *m)
{
    size_t  i;
    int     k;

    for (k = 0; k < T_NSIZES; k++) {
        for (i = 0; i < m->n[k]; i++) {
            if (m->items[k][i] != NULL) {
                t_multi_drop(m, k, i);
            }
        }
    }
    free(m);
}


static size_t
t_multi_pages(const t_multi_t *m, int k)
{
    ob_arena_class_stats_t  cs;

    ck_assert_int_eq(ob_arena_owner_class_stats(m->a, m->owner,
                         ob_arena_class_of(m->a, m->size[k]), &cs), OB_OK);
    return cs.total_pages;
}


/*
 * One LRU over the elastic tenant's classes: when its own allocation in a
 * class with recent data finds the budget full, a class whose data is far
 * older gives it a page, instead of the class evicting its own recent
 * items (memcached's per-class LRU).  When the ages are alike, the class
 * evicts its own tail and the other keeps its pages.
 */
START_TEST(test_rebalance_by_age)
{
    ob_arena_t              *a;
    ob_arena_class_stats_t   cs;
    t_multi_t               *m;
    size_t                   nb, per, i, pages_a;
    int                      old;

    for (old = 1; old >= 0; old--) {
        a = t_arena(8 * T_PAGE, T_PAGE, 96, 1.25);
        m = t_multi_new(a, 200, 3000, 0);

        /* A fills 6 pages (long ago, or just now), B the other 2 */
        m->clock = old ? 0 : 1000;
        ck_assert_int_eq(ob_arena_class_stats(a, ob_arena_class_of(a, 200),
                                              &cs), OB_OK);
        for (i = 0; i < 6 * cs.chunks_per_page; i++) {
            ck_assert_ptr_nonnull(t_multi_alloc(m, 0));
        }
        m->clock = 1000;
        ck_assert_int_eq(ob_arena_class_stats(a, ob_arena_class_of(a, 3000),
                                              &cs), OB_OK);
        per = cs.chunks_per_page;
        for (i = 0; i < 2 * per; i++) {
            ck_assert_ptr_nonnull(t_multi_alloc(m, 1));
        }
        nb = m->n[1];
        pages_a = t_multi_pages(m, 0);
        ck_assert_uint_eq(pages_a, 6);

        /* a page's worth of new B items, a little later */
        m->clock = 1010;
        for (i = 0; i < per; i++) {
            ck_assert_ptr_nonnull(t_multi_alloc(m, 1));
        }

        if (old) {
            ck_assert_uint_eq(t_multi_pages(m, 0), pages_a - 1);
            ck_assert_uint_eq(t_multi_live(m, 1), nb + per);
        } else {
            ck_assert_uint_eq(t_multi_pages(m, 0), pages_a);
            ck_assert_uint_eq(t_multi_live(m, 1), nb);
        }
        ck_assert_uint_gt(m->age_calls, 0);

        t_multi_free(m);
        t_check_consistent(a);
        ob_arena_destroy(a);
    }
}
END_TEST


/*
 * Over its own limit (cache_memlimit lowered it) an elastic tenant gives
 * back its oldest bytes, whatever their class: a class it never used
 * still gets room.
 */
START_TEST(test_owner_limit_evicts_oldest)
{
    ob_arena_t              *a;
    ob_arena_owner_stats_t   os;
    t_multi_t               *m;
    size_t                   n0, i;

    a = t_arena(16 * T_PAGE, T_PAGE, 96, 1.25);
    m = t_multi_new(a, 200, 1000, 0);

    m->clock = 0;
    for (i = 0; i < 1000; i++) {
        ck_assert_ptr_nonnull(t_multi_alloc(m, 0));
    }
    n0 = t_multi_live(m, 0);

    ck_assert_int_eq(ob_arena_owner_stats(a, m->owner, &os), OB_OK);
    ob_arena_owner_set_limit(a, m->owner, os.bytes / 2);

    m->clock = 100;
    for (i = 0; i < 10; i++) {
        ck_assert_ptr_nonnull(t_multi_alloc(m, 1));
    }
    ck_assert_uint_eq(t_multi_live(m, 1), 10);
    ck_assert_uint_lt(t_multi_live(m, 0), n0 / 2 + 1);
    ck_assert_int_eq(ob_arena_owner_stats(a, m->owner, &os), OB_OK);
    ck_assert_uint_le(os.bytes, os.limit);

    t_multi_free(m);
    t_check_consistent(a);
    ob_arena_destroy(a);
}
END_TEST


/* ---- the walk (a CLOCK hand) ---------------------------------------------- */

#define T_WS  200                       /* a class of 16 per 4 KiB page */

typedef struct t_walk_s {
    ob_arena_t  *a;
    int          owner;
    void        *seen[256];
    size_t       n;
    void        *free_it;       /* freed when met (move walks only) */
} t_walk_t;


static int
t_walk_visit(void *ctx, void *chunk)
{
    t_walk_t  *w = ctx;

    ck_assert_uint_lt(w->n, 256);
    w->seen[w->n++] = chunk;
    if (chunk == w->free_it) {
        ob_arena_free(w->a, w->owner, chunk, T_WS);
        w->free_it = NULL;
    }
    return OB_OK;
}


static int
t_walk_has(const t_walk_t *w, const void *p)
{
    size_t  i, k;

    for (i = 0, k = 0; i < w->n; i++) {
        k += w->seen[i] == p;
    }
    return (int) k;
}


START_TEST(test_walk)
{
    ob_arena_t  *a;
    int          o;
    void        *p[40], *q;
    t_walk_t     w;
    size_t       i, per;
    ob_arena_class_stats_t  cs;

    a = t_arena(T_MIB, 4096, 96, 1.25);
    o = ob_arena_owner_add(a, "cache");
    ck_assert_int_eq(ob_arena_owner_class_stats(a, o,
                     ob_arena_class_of(a, T_WS), &cs), OB_OK);
    per = cs.chunks_per_page;
    ck_assert_uint_lt(per, 40);

    /* nothing yet */
    memset(&w, 0, sizeof(w));
    w.a = a;
    w.owner = o;
    ck_assert_uint_eq(ob_arena_walk(a, o, ob_arena_class_of(a, T_WS), 100, 1,
                                    t_walk_visit, &w), 0);

    for (i = 0; i < 40; i++) {
        p[i] = ob_arena_alloc(a, o, T_WS);
        ck_assert_ptr_nonnull(p[i]);
    }

    /* one round at most, each chunk once, in allocation order */
    ck_assert_uint_eq(ob_arena_walk(a, o, ob_arena_class_of(a, T_WS), 1000, 0,
                                    t_walk_visit, &w), 40);
    for (i = 0; i < 40; i++) {
        ck_assert_ptr_eq(w.seen[i], p[i]);
    }

    /* a moving walk leaves the hand past what it saw; freeing the chunk
     * met is allowed, and a free chunk is still met (the owner tells) */
    w.n = 0;
    w.free_it = p[2];
    ck_assert_uint_eq(ob_arena_walk(a, o, ob_arena_class_of(a, T_WS), 3, 1,
                                    t_walk_visit, &w), 3);
    ck_assert_ptr_eq(w.seen[2], p[2]);
    w.n = 0;
    ck_assert_uint_eq(ob_arena_walk(a, o, ob_arena_class_of(a, T_WS), 1, 0,
                                    t_walk_visit, &w), 1);
    ck_assert_ptr_eq(w.seen[0], p[3]);

    /* the freed chunk is reused just behind the hand: met last */
    q = ob_arena_alloc(a, o, T_WS);
#ifndef OB_DEBUG_ARENA
    ck_assert_ptr_eq(q, p[2]);
#endif
    p[2] = q;
    w.n = 0;
    ck_assert_uint_eq(ob_arena_walk(a, o, ob_arena_class_of(a, T_WS), 1000, 0,
                                    t_walk_visit, &w), 40);
    ck_assert_ptr_eq(w.seen[0], p[3]);
    ck_assert_ptr_eq(w.seen[39], q);

    /* a page emptied under the hand: the hand goes on, never to freed
     * memory (ASan would tell) */
    for (i = 0; i < per; i++) {
        ob_arena_free(a, o, p[i], T_WS);
    }
    w.n = 0;
    ck_assert_uint_eq(ob_arena_walk(a, o, ob_arena_class_of(a, T_WS), 1000, 1,
                                    t_walk_visit, &w), 40 - per);
    for (i = 0; i < per; i++) {
        ck_assert_int_eq(t_walk_has(&w, p[i]), 0);
    }
    for (i = per; i < 40; i++) {
        ck_assert_int_eq(t_walk_has(&w, p[i]), 1);
        ob_arena_free(a, o, p[i], T_WS);
    }
    ck_assert_uint_eq(ob_arena_walk(a, o, ob_arena_class_of(a, T_WS), 1000, 1,
                                    t_walk_visit, &w), 0);

    /* large blocks: their own walk */
    q = ob_arena_alloc(a, o, 8192);
    ck_assert_ptr_nonnull(q);
    w.n = 0;
    ck_assert_uint_eq(ob_arena_walk(a, o, OB_ARENA_CLASS_LARGE, 10, 1,
                                    t_walk_visit, &w), 1);
    ck_assert_ptr_eq(w.seen[0], q);
    ob_arena_free(a, o, q, 8192);
    ck_assert_uint_eq(ob_arena_walk(a, o, OB_ARENA_CLASS_LARGE, 10, 1,
                                    t_walk_visit, &w), 0);

    ob_arena_destroy(a);
}
END_TEST


Suite *
ob_arena_reclaim_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("arena_reclaim");

    tc = tcase_create("reclaim");
    tcase_add_test(tc, test_reclaim_one_page);
    tcase_add_test(tc, test_reclaim_compacts);
    tcase_add_test(tc, test_priorities);
    tcase_add_test(tc, test_elastic_own_alloc);
    tcase_add_test(tc, test_reclaim_busy);
    tcase_add_test(tc, test_page_move);
    suite_add_tcase(s, tc);

    tc = tcase_create("rebalance");
    tcase_add_test(tc, test_owner_limit_evicts_oldest);
    tcase_add_test(tc, test_rebalance_by_age);
    suite_add_tcase(s, tc);

    tc = tcase_create("walk");
    tcase_add_test(tc, test_walk);
    suite_add_tcase(s, tc);

    return s;
}
