/*
 * check_core_arena.c: unit tests of core/ob_arena.c, the process budget:
 * size classes, owners and their accounting, alloc/free/realloc, large
 * blocks, the budget and per-owner limits, the spare page pool, and the
 * per-owner eviction hook.  Page reclaim between tenants (elastic owners,
 * compaction, priorities, rebalance, the walk) is in
 * check_core_arena_reclaim.c; the helpers both use are in
 * check_arena_util.h.
 *
 * The tests only look through the public API (stats, class_stats,
 * owner_stats), so they pass both in the release build and with
 * -DOB_DEBUG_ARENA, where chunks come from malloc and pages are simulated.
 * Where the two builds differ (whether a freed chunk's address is reused)
 * the test says so and checks only what both promise.
 *
 * The "cache" used by the eviction tests is a FIFO of its allocations whose
 * hook frees the oldest ones, as the real cache's LRU tail would.
 */
#include "check_suites.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ob_arena.h"
#include "ob_core.h"

#include "check_arena_util.h"


#define T_FINE        23                 /* classes 16 .. 192, 8-byte steps */
#define T_MC_FROM     4                  /* memcached's series from 240 on */


typedef struct t_fifo_s {
    ob_arena_t  *a;
    int          owner;
    void        *items[T_MAX_ITEMS];
    size_t       sizes[T_MAX_ITEMS];
    size_t       head;          /* oldest item */
    size_t       tail;          /* one past the newest */
    unsigned     last_class;    /* what the last hook call was asked */
    size_t       last_want;
    size_t       calls;
    size_t       per_call;      /* 0: free until `want` is met; n: n items */
} t_fifo_t;


static void
t_fifo_init(t_fifo_t *f, ob_arena_t *a, int owner)
{
    memset(f, 0, sizeof(t_fifo_t));
    f->a = a;
    f->owner = owner;
}


/* Allocates items of `size` until the budget refuses; returns the count. */
static size_t
t_fifo_fill(t_fifo_t *f, size_t size)
{
    void    *p;
    size_t   n;

    for (n = 0; f->tail < T_MAX_ITEMS; n++) {
        p = ob_arena_alloc(f->a, f->owner, size);
        if (p == NULL) {
            break;
        }
        memset(p, 0xc5, size);
        f->items[f->tail] = p;
        f->sizes[f->tail] = size;
        f->tail++;
    }

    ck_assert_uint_lt(f->tail, T_MAX_ITEMS);
    return n;
}


static size_t
t_fifo_pop(t_fifo_t *f)
{
    size_t  size;

    size = f->sizes[f->head];
    ob_arena_free(f->a, f->owner, f->items[f->head], size);
    f->items[f->head++] = NULL;

    return ob_arena_chunk_size(f->a, size);
}


static void
t_fifo_clear(t_fifo_t *f)
{
    while (f->head < f->tail) {
        (void) t_fifo_pop(f);
    }
}


static size_t
t_fifo_evict(void *ctx, unsigned class_id, size_t want)
{
    t_fifo_t  *f;
    size_t     freed, n;

    f = ctx;
    f->calls++;
    f->last_class = class_id;
    f->last_want = want;

    freed = 0;
    for (n = 0; f->head < f->tail; n++) {
        if (f->per_call ? n == f->per_call : freed >= want) {
            break;
        }
        freed += t_fifo_pop(f);
    }

    return freed;
}


static size_t
t_evict_nothing(void *ctx, unsigned class_id, size_t want)
{
    (void) class_id;
    (void) want;
    (*(size_t *) ctx)++;
    return 0;
}


/* A broken hook: claims bytes but frees nothing.  Must not hang the arena. */
static size_t
t_evict_liar(void *ctx, unsigned class_id, size_t want)
{
    (void) class_id;
    (*(size_t *) ctx)++;
    return want;
}


/* memcached 1.6 with -I 1m -n 48 (96-byte items) and -f 1.25. */
static const size_t t_mc_classes[] = {
    96, 120, 152, 192, 240, 304, 384, 480, 600, 752, 944, 1184, 1480, 1856,
    2320, 2904, 3632, 4544, 5680, 7104, 8880, 11104, 13880, 17352, 21696,
    27120, 33904, 42384, 52984, 66232, 82792, 103496, 129376, 161720,
    202152, 252696, 315872, 394840, 524288
};


START_TEST(test_classes_memcached)
{
    ob_arena_t              *a;
    ob_arena_stats_t         st;
    ob_arena_class_stats_t   cs;
    unsigned                 i, n;

    a = t_arena(64 * T_MIB, T_MIB, 96, 1.25);
    /* 16 .. 192 in 8-byte steps, then memcached's series from 240 */
    n = T_FINE + sizeof(t_mc_classes) / sizeof(t_mc_classes[0]) - T_MC_FROM;

    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.nclasses, n);
    ck_assert_uint_eq(st.limit, 64 * T_MIB);
    ck_assert_uint_eq(st.page_size, T_MIB);
    ck_assert_uint_eq(st.used, 0);           /* nothing taken before use */
    ck_assert_uint_eq(st.pages, 0);
    ck_assert_uint_eq(st.large_bytes, 0);
    ck_assert_uint_eq(st.nowners, 0);

    for (i = 1; i <= n; i++) {
        ck_assert_int_eq(ob_arena_class_stats(a, i, &cs), OB_OK);
        ck_assert_uint_eq(cs.chunk_size, i <= T_FINE
                                         ? 16 + 8 * (i - 1)
                                         : t_mc_classes[i - 1 - T_FINE
                                                        + T_MC_FROM]);
        ck_assert_uint_ge(cs.chunks_per_page, 1);
        ck_assert_uint_le(cs.chunks_per_page * cs.chunk_size, T_MIB);
        /* the page header is small: less than one chunk plus 256 is lost */
        ck_assert_uint_gt(cs.chunks_per_page * cs.chunk_size + cs.chunk_size
                          + 256, T_MIB);
        ck_assert_uint_eq(cs.total_pages, 0);
        ck_assert_uint_eq(cs.used_chunks, 0);
        ck_assert_uint_eq(cs.free_chunks, 0);
    }

    ck_assert_int_eq(ob_arena_class_stats(a, OB_ARENA_CLASS_LARGE, &cs),
                     OB_ERR);
    ck_assert_int_eq(ob_arena_class_stats(a, n + 1, &cs), OB_ERR);

    ob_arena_destroy(a);
}
END_TEST


START_TEST(test_class_of)
{
    ob_arena_t  *a;

    a = t_arena(64 * T_MIB, T_MIB, 96, 1.25);

    ck_assert_uint_eq(ob_arena_class_of(a, 1), 1);
    ck_assert_uint_eq(ob_arena_class_of(a, 16), 1);
    ck_assert_uint_eq(ob_arena_class_of(a, 17), 2);
    ck_assert_uint_eq(ob_arena_class_of(a, 88), 10);
    ck_assert_uint_eq(ob_arena_class_of(a, 96), 11);
    ck_assert_uint_eq(ob_arena_class_of(a, 97), 12);
    ck_assert_uint_eq(ob_arena_class_of(a, 144), 17);
    ck_assert_uint_eq(ob_arena_class_of(a, 192), T_FINE);
    ck_assert_uint_eq(ob_arena_class_of(a, 193), T_FINE + 1);
    ck_assert_uint_eq(ob_arena_class_of(a, 240), T_FINE + 1);
    ck_assert_uint_eq(ob_arena_class_of(a, 241), T_FINE + 2);
    ck_assert_uint_eq(ob_arena_class_of(a, 394840), T_FINE + 34);
    ck_assert_uint_eq(ob_arena_class_of(a, 394841), T_FINE + 35);
    ck_assert_uint_eq(ob_arena_class_of(a, 524288), T_FINE + 35);
    ck_assert_uint_eq(ob_arena_class_of(a, 524289), OB_ARENA_CLASS_LARGE);
    ck_assert_uint_eq(ob_arena_class_of(a, SIZE_MAX), OB_ARENA_CLASS_LARGE);

    ck_assert_uint_eq(ob_arena_chunk_size(a, 1), 16);
    ck_assert_uint_eq(ob_arena_chunk_size(a, 33), 40);
    ck_assert_uint_eq(ob_arena_chunk_size(a, 100), 104);
    ck_assert_uint_eq(ob_arena_chunk_size(a, 200), 240);
    ck_assert_uint_eq(ob_arena_chunk_size(a, 1000), 1184);
    ck_assert_uint_eq(ob_arena_chunk_size(a, 524288), 524288);
    ck_assert_uint_eq(ob_arena_chunk_size(a, 524289), 524289);
    ck_assert_uint_eq(ob_arena_chunk_size(a, 3 * T_MIB), 3 * T_MIB);

    ob_arena_destroy(a);
}
END_TEST


/* Other shapes: doubling, a min that is not a multiple of 8, tiny factors. */
START_TEST(test_classes_shapes)
{
    ob_arena_t              *a;
    ob_arena_stats_t         st;
    ob_arena_class_stats_t   cs;
    size_t                   prev;
    unsigned                 i;

    a = t_arena(T_MIB, 4096, 16, 2.0);
    ob_arena_stats(a, &st);
    /* 16 .. 192 by 8, then 384, 768 (1536 would pass 2048 in one more
     * step), then 2048 */
    ck_assert_uint_eq(st.nclasses, T_FINE + 3);
    for (i = 1; i <= st.nclasses; i++) {
        ck_assert_int_eq(ob_arena_class_stats(a, i, &cs), OB_OK);
        ck_assert_uint_eq(cs.chunk_size, i <= T_FINE ? 16 + 8 * (i - 1)
                                         : i == T_FINE + 1 ? 384
                                         : i == T_FINE + 2 ? 768 : 2048);
    }
    ob_arena_destroy(a);

    a = t_arena(T_MIB, 4096, 17, 1.5);
    ck_assert_uint_eq(ob_arena_chunk_size(a, 1), 16);
    ck_assert_uint_eq(ob_arena_chunk_size(a, 17), 24);
    ck_assert_uint_eq(ob_arena_chunk_size(a, 25), 32);   /* fine steps */
    ck_assert_uint_eq(ob_arena_chunk_size(a, 193), 288);  /* 192 * 1.5 */
    ob_arena_destroy(a);

    /* min_chunk == page_size / 2: the fine steps (16 .. 192), then one */
    a = t_arena(T_MIB, 4096, 2048, 1.25);
    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.nclasses, T_FINE + 1);
    ck_assert_uint_eq(ob_arena_chunk_size(a, 1), 16);
    ck_assert_uint_eq(ob_arena_chunk_size(a, 129), 136);
    ck_assert_uint_eq(ob_arena_chunk_size(a, 192), 192);
    ck_assert_uint_eq(ob_arena_chunk_size(a, 193), 2048);
    ob_arena_destroy(a);

    /* a factor near 1: steps of at least 8, capped at MAX_CLASSES */
    a = t_arena(T_MIB, T_MIB, 16, 1.0001);
    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.nclasses, OB_ARENA_MAX_CLASSES);
    prev = 0;
    for (i = 1; i <= st.nclasses; i++) {
        ck_assert_int_eq(ob_arena_class_stats(a, i, &cs), OB_OK);
        ck_assert_uint_eq(cs.chunk_size % 8, 0);
        ck_assert_uint_ge(cs.chunk_size, prev + 8);
        prev = cs.chunk_size;
    }
    ck_assert_uint_eq(prev, T_MIB / 2);
    ck_assert_uint_eq(ob_arena_chunk_size(a, 17), 24);
    ob_arena_destroy(a);

    /* a huge factor: 192 * 100 does not fit one more step */
    a = t_arena(T_MIB, T_MIB, 100, 100.0);
    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.nclasses, T_FINE + 1);  /* 16 .. 192, 524288 */
    ck_assert_uint_eq(ob_arena_chunk_size(a, 104), 104);
    ck_assert_uint_eq(ob_arena_chunk_size(a, 193), T_MIB / 2);
    ob_arena_destroy(a);
}
END_TEST


START_TEST(test_invalid_conf)
{
    static const struct {
        ob_arena_conf_t  conf;
        const char      *word;
    } bad[] = {
        { { 0, T_MIB, 96, 1.25 }, "limit" },
        { { T_MIB, 0, 96, 1.25 }, "page_size" },
        { { T_MIB, 2048, 96, 1.25 }, "page_size" },
        { { T_MIB, 6000, 96, 1.25 }, "page_size" },
        { { T_MIB, T_MIB + 1, 96, 1.25 }, "page_size" },
        { { T_MIB, T_MIB, 0, 1.25 }, "min_chunk" },
        { { T_MIB, T_MIB, 15, 1.25 }, "min_chunk" },
        { { T_MIB, 4096, 2049, 1.25 }, "min_chunk" },
        { { T_MIB, T_MIB, 96, 1.0 }, "growth_factor" },
        { { T_MIB, T_MIB, 96, 0.5 }, "growth_factor" },
        { { T_MIB, T_MIB, 96, -2.0 }, "growth_factor" },
        { { T_MIB, T_MIB, 96, 100.5 }, "growth_factor" },
    };
    ob_arena_conf_t  conf;
    char             err[256], tiny[8];
    size_t           i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        ck_assert_ptr_null(ob_arena_new(&bad[i].conf, err, sizeof(err)));
        ck_assert_msg(strstr(err, bad[i].word) != NULL,
                      "case %zu: \"%s\" does not name %s", i, err,
                      bad[i].word);
        ck_assert_ptr_null(ob_arena_new(&bad[i].conf, NULL, 0));
    }

    conf = bad[0].conf;
    conf.limit = T_MIB;
    conf.growth_factor = NAN;
    ck_assert_ptr_null(ob_arena_new(&conf, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "growth_factor"));

    /* a short buffer gets a truncated, terminated message */
    memset(tiny, 'x', sizeof(tiny));
    ck_assert_ptr_null(ob_arena_new(&bad[0].conf, tiny, sizeof(tiny)));
    ck_assert_uint_eq(strlen(tiny), sizeof(tiny) - 1);

    ck_assert_ptr_null(ob_arena_new(NULL, err, sizeof(err)));
    ck_assert_str_ne(err, "");
}
END_TEST


START_TEST(test_owners)
{
    ob_arena_t              *a;
    ob_arena_stats_t         st;
    ob_arena_owner_stats_t   os;
    static const char       *names[OB_ARENA_MAX_OWNERS] = {
        "cache", "store", "mq", "orm", "o4", "o5", "o6", "o7", "o8", "o9",
        "o10", "o11", "o12", "o13", "o14", "o15"
    };
    int                      i;

    a = t_arena(T_MIB, T_PAGE, 96, 1.25);

    for (i = 0; i < OB_ARENA_MAX_OWNERS; i++) {
        ck_assert_int_eq(ob_arena_owner_add(a, names[i]), i);
    }
    ck_assert_int_eq(ob_arena_owner_add(a, "one too many"), OB_ERR);

    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.nowners, OB_ARENA_MAX_OWNERS);

    ck_assert_int_eq(ob_arena_owner_stats(a, 2, &os), OB_OK);
    ck_assert_ptr_eq(os.name, names[2]);
    ck_assert_uint_eq(os.bytes, 0);
    ck_assert_uint_eq(os.allocs, 0);
    ck_assert_uint_eq(os.failures, 0);
    ck_assert_uint_eq(os.evict_calls, 0);

    ck_assert_int_eq(ob_arena_owner_stats(a, -1, &os), OB_ERR);
    ck_assert_int_eq(ob_arena_owner_stats(a, OB_ARENA_MAX_OWNERS, &os),
                     OB_ERR);

    /* unknown owners and empty requests get nothing, and count nothing */
    ck_assert_ptr_null(ob_arena_alloc(a, -1, 10));
    ck_assert_ptr_null(ob_arena_alloc(a, OB_ARENA_MAX_OWNERS, 10));
    ck_assert_ptr_null(ob_arena_alloc(a, 0, 0));
    ck_assert_int_eq(ob_arena_owner_stats(a, 0, &os), OB_OK);
    ck_assert_uint_eq(os.failures, 0);

    /* setting a hook on an unknown owner is ignored */
    ob_arena_owner_set_evict(a, 99, t_evict_nothing, NULL);

    ob_arena_free(a, 0, NULL, 10);      /* like free(NULL) */

    ob_arena_destroy(a);
    ob_arena_destroy(NULL);
}
END_TEST


START_TEST(test_owner_accounting)
{
    ob_arena_t              *a;
    ob_arena_stats_t         st;
    ob_arena_owner_stats_t   os;
    void                    *cp[10], *sp[7];
    int                      cache, store, i;

    a = t_arena(8 * T_MIB, T_MIB, 96, 1.25);
    cache = ob_arena_owner_add(a, "cache");
    store = ob_arena_owner_add(a, "store");

    for (i = 0; i < 10; i++) {
        cp[i] = ob_arena_alloc(a, cache, 100);           /* class 104 */
        ck_assert_ptr_nonnull(cp[i]);
    }
    for (i = 0; i < 7; i++) {
        sp[i] = ob_arena_alloc(a, store, 1000);          /* class 1184 */
        ck_assert_ptr_nonnull(sp[i]);
    }

    ck_assert_int_eq(ob_arena_owner_stats(a, cache, &os), OB_OK);
    ck_assert_str_eq(os.name, "cache");
    ck_assert_uint_eq(os.bytes, 10 * 104);
    ck_assert_uint_eq(os.allocs, 10);

    ck_assert_int_eq(ob_arena_owner_stats(a, store, &os), OB_OK);
    ck_assert_str_eq(os.name, "store");
    ck_assert_uint_eq(os.bytes, 7 * 1184);
    ck_assert_uint_eq(os.allocs, 7);

    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.pages, 2);                      /* one per class */
    ck_assert_uint_eq(st.used, 2 * T_MIB);
    t_check_consistent(a);

    for (i = 0; i < 4; i++) {
        ob_arena_free(a, cache, cp[i], 100);
    }
    ck_assert_int_eq(ob_arena_owner_stats(a, cache, &os), OB_OK);
    ck_assert_uint_eq(os.bytes, 6 * 104);
    ck_assert_uint_eq(os.allocs, 10);                    /* since start */
    t_check_consistent(a);

    for (i = 4; i < 10; i++) {
        ob_arena_free(a, cache, cp[i], 100);
    }
    for (i = 0; i < 7; i++) {
        ob_arena_free(a, store, sp[i], 1000);
    }

    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.used, st.pool_pages * st.page_size);  /* spares kept */
    ck_assert_uint_eq(st.pages, 0);
    t_check_consistent(a);

    ob_arena_destroy(a);
}
END_TEST


START_TEST(test_class_figures)
{
    ob_arena_t              *a;
    ob_arena_class_stats_t   cs;
    void                    *p[3];
    unsigned                 id;
    int                      o, i;

    a = t_arena(8 * T_MIB, T_PAGE, 96, 1.25);
    o = ob_arena_owner_add(a, "x");
    id = ob_arena_class_of(a, 200);

    for (i = 0; i < 3; i++) {
        p[i] = ob_arena_alloc(a, o, 200);
        ck_assert_ptr_nonnull(p[i]);
    }

    ck_assert_int_eq(ob_arena_class_stats(a, id, &cs), OB_OK);
    ck_assert_uint_eq(cs.chunk_size, 240);
    ck_assert_uint_eq(cs.total_pages, 1);
    ck_assert_uint_eq(cs.used_chunks, 3);
    ck_assert_uint_eq(cs.free_chunks, cs.chunks_per_page - 3);

    ob_arena_free(a, o, p[1], 200);
    ck_assert_int_eq(ob_arena_class_stats(a, id, &cs), OB_OK);
    ck_assert_uint_eq(cs.used_chunks, 2);
    ck_assert_uint_eq(cs.free_chunks, cs.chunks_per_page - 2);

    /* a freed chunk is reused before the page grows */
    p[1] = ob_arena_alloc(a, o, 230);
    ck_assert_ptr_nonnull(p[1]);
    ck_assert_int_eq(ob_arena_class_stats(a, id, &cs), OB_OK);
    ck_assert_uint_eq(cs.total_pages, 1);
    ck_assert_uint_eq(cs.used_chunks, 3);

    ob_arena_free(a, o, p[0], 200);
    ob_arena_free(a, o, p[1], 230);
    ob_arena_free(a, o, p[2], 200);
    ck_assert_int_eq(ob_arena_class_stats(a, id, &cs), OB_OK);
    ck_assert_uint_eq(cs.total_pages, 0);
    ck_assert_uint_eq(cs.free_chunks, 0);

    ob_arena_destroy(a);
}
END_TEST


/* Every chunk is 8-aligned, writable over its whole size, and disjoint. */
START_TEST(test_alignment_and_disjoint)
{
    ob_arena_t        *a;
    ob_arena_stats_t   st;
    void              *p[60];
    size_t             size[60];
    unsigned           i;
    int                o;

    a = t_arena(64 * T_MIB, T_PAGE, 17, 1.3);
    o = ob_arena_owner_add(a, "o");

    for (i = 0; i < 60; i++) {
        size[i] = 1 + (size_t) i * i * 37;          /* up to ~128 KiB */
        p[i] = ob_arena_alloc(a, o, size[i]);
        ck_assert_ptr_nonnull(p[i]);
        ck_assert_uint_eq((uintptr_t) p[i] % 8, 0);
        memset(p[i], (int) i, size[i]);
    }

    for (i = 0; i < 60; i++) {
        ck_assert_msg(t_pattern_ok(p[i], (unsigned char) i, size[i]),
                      "chunk %u was overwritten", i);
        ob_arena_free(a, o, p[i], size[i]);
    }

    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.used, st.pool_pages * st.page_size);  /* spares kept */
    t_check_consistent(a);

    ob_arena_destroy(a);
}
END_TEST


START_TEST(test_budget_exhausted)
{
    ob_arena_t              *a;
    ob_arena_stats_t         st;
    ob_arena_class_stats_t   cs;
    ob_arena_owner_stats_t   os;
    t_fifo_t                *f;
    size_t                   n;

    f = malloc(sizeof(t_fifo_t));
    ck_assert_ptr_nonnull(f);

    a = t_arena(4 * T_PAGE, T_PAGE, 96, 1.25);
    t_fifo_init(f, a, ob_arena_owner_add(a, "cache"));

    n = t_fifo_fill(f, 1000);
    ck_assert_int_eq(ob_arena_class_stats(a, ob_arena_class_of(a, 1000), &cs),
                     OB_OK);
    ck_assert_uint_eq(n, 4 * cs.chunks_per_page);
    ck_assert_uint_eq(cs.free_chunks, 0);

    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.pages, 4);
    ck_assert_uint_eq(st.used, 4 * T_PAGE);
    ck_assert_uint_le(st.used, st.limit);

    ck_assert_int_eq(ob_arena_owner_stats(a, f->owner, &os), OB_OK);
    ck_assert_uint_eq(os.allocs, n);
    ck_assert_uint_eq(os.failures, 1);
    ck_assert_uint_eq(os.bytes, n * 1184);

    /* other classes and large blocks are refused too, and counted */
    ck_assert_ptr_null(ob_arena_alloc(a, f->owner, 16));
    ck_assert_ptr_null(ob_arena_alloc(a, f->owner, T_PAGE));
    ck_assert_int_eq(ob_arena_owner_stats(a, f->owner, &os), OB_OK);
    ck_assert_uint_eq(os.failures, 3);
    t_check_consistent(a);

    /* freeing everything gives every page back */
    t_fifo_clear(f);
    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.used, st.pool_pages * st.page_size);  /* spares kept */
    ck_assert_uint_eq(st.pages, 0);
    ck_assert_int_eq(ob_arena_owner_stats(a, f->owner, &os), OB_OK);
    ck_assert_uint_eq(os.bytes, 0);

    /* and the budget is whole again */
    f->head = f->tail = 0;
    ck_assert_uint_eq(t_fifo_fill(f, 1000), n);
    t_fifo_clear(f);

    ob_arena_destroy(a);
    free(f);
}
END_TEST


/* Pages given back by one class's frees are usable by another class. */
START_TEST(test_pages_move_between_classes)
{
    ob_arena_t              *a;
    ob_arena_stats_t         st;
    ob_arena_class_stats_t   cs;
    t_fifo_t                *f;
    void                    *p;
    int                      other;

    f = malloc(sizeof(t_fifo_t));
    ck_assert_ptr_nonnull(f);

    a = t_arena(2 * T_PAGE, T_PAGE, 96, 1.25);
    t_fifo_init(f, a, ob_arena_owner_add(a, "a"));
    other = ob_arena_owner_add(a, "b");

    (void) t_fifo_fill(f, 200);
    ck_assert_ptr_null(ob_arena_alloc(a, other, 5000));

    /* free one page's worth: the oldest chunks fill the first page */
    ck_assert_int_eq(ob_arena_class_stats(a, ob_arena_class_of(a, 200), &cs),
                     OB_OK);
    while (f->head < cs.chunks_per_page) {
        (void) t_fifo_pop(f);
    }

    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.pages, 1);

    p = ob_arena_alloc(a, other, 5000);
    ck_assert_ptr_nonnull(p);
    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.pages, 2);
    t_check_consistent(a);

    ob_arena_free(a, other, p, 5000);
    t_fifo_clear(f);
    ob_arena_destroy(a);
    free(f);
}
END_TEST


/* A chunk of the requested class that the hook frees is reused at once. */
START_TEST(test_evict_same_class)
{
    ob_arena_t              *a;
    ob_arena_stats_t         st;
    ob_arena_owner_stats_t   os;
    t_fifo_t                *f;
    void                    *p, *q;

    f = malloc(sizeof(t_fifo_t));
    ck_assert_ptr_nonnull(f);

    a = t_arena(4 * T_PAGE, T_PAGE, 96, 1.25);
    t_fifo_init(f, a, ob_arena_owner_add(a, "cache"));
    (void) ob_arena_owner_add(a, "store");
    (void) t_fifo_fill(f, 1000);

    f->per_call = 1;
    ob_arena_owner_set_evict(a, f->owner, t_fifo_evict, f);

    p = ob_arena_alloc(a, f->owner, 1100);      /* same 1184 class */
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(f->calls, 1);
    ck_assert_uint_eq(f->head, 1);

    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.pages, 4);
    ck_assert_int_eq(ob_arena_owner_stats(a, f->owner, &os), OB_OK);
    ck_assert_uint_eq(os.evict_calls, 1);
    t_check_consistent(a);

    /* the cache evicting for itself works the same way */
    q = ob_arena_alloc(a, f->owner, 1000);
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq(f->calls, 2);

    ob_arena_free(a, f->owner, q, 1000);
    ob_arena_free(a, f->owner, p, 1100);
    ob_arena_destroy(a);                        /* frees what is still held */
    free(f);
}
END_TEST


/* A hook that allocates gets no eviction of its own (no recursion). */
static size_t
t_evict_greedy(void *ctx, unsigned class_id, size_t want)
{
    t_fifo_t  *f;

    f = ctx;
    (void) class_id;
    (void) want;

    ck_assert_ptr_null(ob_arena_alloc(f->a, f->owner, 5000));
    f->per_call = 1;
    return t_fifo_evict(ctx, class_id, want);
}


START_TEST(test_evict_no_recursion)
{
    ob_arena_t  *a;
    t_fifo_t    *f;
    void        *p;

    f = malloc(sizeof(t_fifo_t));
    ck_assert_ptr_nonnull(f);

    a = t_arena(4 * T_PAGE, T_PAGE, 96, 1.25);
    t_fifo_init(f, a, ob_arena_owner_add(a, "cache"));
    (void) t_fifo_fill(f, 1000);
    ob_arena_owner_set_evict(a, f->owner, t_evict_greedy, f);

    p = ob_arena_alloc(a, f->owner, 1000);
    ck_assert_ptr_nonnull(p);

    ob_arena_free(a, f->owner, p, 1000);
    t_fifo_clear(f);
    ob_arena_destroy(a);
    free(f);
}
END_TEST


START_TEST(test_large_blocks)
{
    ob_arena_t              *a;
    ob_arena_stats_t         st;
    ob_arena_owner_stats_t   os;
    void                    *p, *q;
    int                      o;

    a = t_arena(4 * T_MIB, T_MIB, 96, 1.25);
    o = ob_arena_owner_add(a, "store");

    p = ob_arena_alloc(a, o, 600000);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t) p % 8, 0);
    memset(p, 0xab, 600000);

    q = ob_arena_alloc(a, o, 3 * T_MIB);
    ck_assert_ptr_nonnull(q);
    memset(q, 0xcd, 3 * T_MIB);

    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.large_bytes, 600000 + 3 * T_MIB);
    ck_assert_uint_eq(st.used, 600000 + 3 * T_MIB);
    ck_assert_uint_eq(st.pages, 0);
    ck_assert_int_eq(ob_arena_owner_stats(a, o, &os), OB_OK);
    ck_assert_uint_eq(os.bytes, 600000 + 3 * T_MIB);
    t_check_consistent(a);

    /* 4 MiB - 3.57 MiB left: a page does not fit, a large block does */
    ck_assert_ptr_null(ob_arena_alloc(a, o, 100));
    ck_assert_ptr_null(ob_arena_alloc(a, o, 600000));
    ck_assert_ptr_null(ob_arena_alloc(a, o, SIZE_MAX));
    ck_assert_int_eq(ob_arena_owner_stats(a, o, &os), OB_OK);
    ck_assert_uint_eq(os.failures, 3);

    ob_arena_free(a, o, p, 600000);
    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.large_bytes, 3 * T_MIB);

    p = ob_arena_alloc(a, o, 100);
    ck_assert_ptr_nonnull(p);
    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.used, T_MIB + 3 * T_MIB);
    ck_assert_uint_le(st.used, st.limit);

    ob_arena_free(a, o, q, 3 * T_MIB);
    ob_arena_free(a, o, p, 100);
    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.used, st.pool_pages * st.page_size);  /* spares kept */
    ck_assert_uint_eq(st.large_bytes, 0);
    ck_assert_int_eq(ob_arena_owner_stats(a, o, &os), OB_OK);
    ck_assert_uint_eq(os.bytes, 0);

    /* destroy frees blocks that are still held */
    ck_assert_ptr_nonnull(ob_arena_alloc(a, o, T_MIB));
    ck_assert_ptr_nonnull(ob_arena_alloc(a, o, T_MIB - 1));
    ob_arena_destroy(a);
}
END_TEST


START_TEST(test_set_limit)
{
    ob_arena_t              *a;
    ob_arena_stats_t         st;
    ob_arena_owner_stats_t   os;
    t_fifo_t                *f;
    size_t                   n;

    f = malloc(sizeof(t_fifo_t));
    ck_assert_ptr_nonnull(f);

    a = t_arena(2 * T_PAGE, T_PAGE, 96, 1.25);
    t_fifo_init(f, a, ob_arena_owner_add(a, "cache"));

    n = t_fifo_fill(f, 1000);

    ob_arena_set_limit(a, 4 * T_PAGE);
    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.limit, 4 * T_PAGE);
    ck_assert_uint_eq(t_fifo_fill(f, 1000), n);
    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.pages, 4);

    /* lowering frees nothing; new pages are refused */
    ob_arena_set_limit(a, T_PAGE);
    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.limit, T_PAGE);
    ck_assert_uint_eq(st.used, 4 * T_PAGE);
    ck_assert_ptr_null(ob_arena_alloc(a, f->owner, 100));

    /* but a chunk freed inside a held page is still usable */
    (void) t_fifo_pop(f);
    ck_assert_uint_eq(t_fifo_fill(f, 1000), 1);

    /* the refusals: end of each of the three fills, and the 100 bytes */
    ck_assert_int_eq(ob_arena_owner_stats(a, f->owner, &os), OB_OK);
    ck_assert_uint_eq(os.failures, 4);
    t_check_consistent(a);

    t_fifo_clear(f);
    ob_arena_stats(a, &st);
    ck_assert_uint_eq(st.used, st.pool_pages * st.page_size);  /* spares kept */

    ob_arena_destroy(a);
    free(f);
}
END_TEST


/* xorshift64*: reproducible, no global state */
static uint64_t
t_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}


#define T_SLOTS  256

typedef struct t_slots_s {
    ob_arena_t     *a;
    unsigned char  *p[T_SLOTS];
    size_t          size[T_SLOTS];
    int             owner[T_SLOTS];
    uint64_t        seed;
} t_slots_t;


static void
t_slot_free(t_slots_t *s, unsigned i)
{
    ck_assert_msg(t_pattern_ok(s->p[i], (unsigned char) (i * 7 + s->size[i]),
                               s->size[i]),
                  "slot %u was overwritten", i);
    ob_arena_free(s->a, s->owner[i], s->p[i], s->size[i]);
    s->p[i] = NULL;
}


/* Owner 0's hook: frees one random held slot of its own per call. */
static size_t
t_slots_evict(void *ctx, unsigned class_id, size_t want)
{
    t_slots_t  *s;
    unsigned    i, k, start;
    size_t      bytes;

    s = ctx;
    (void) class_id;
    (void) want;

    start = (unsigned) (t_rand(&s->seed) % T_SLOTS);
    for (k = 0; k < T_SLOTS; k++) {
        i = (start + k) % T_SLOTS;
        if (s->p[i] != NULL && s->owner[i] == 0) {
            bytes = ob_arena_chunk_size(s->a, s->size[i]);
            t_slot_free(s, i);
            return bytes;
        }
    }

    return 0;
}


START_TEST(test_random_cycles)
{
    t_slots_t         *s;
    ob_arena_stats_t   st;
    unsigned           i, step;
    uint64_t           r;
    size_t             size, fails;

    s = calloc(1, sizeof(t_slots_t));
    ck_assert_ptr_nonnull(s);
    s->seed = UINT64_C(0x9e3779b97f4a7c15) + (uint64_t) _i;

    s->a = t_arena(16 * T_PAGE, T_PAGE, 48, 1.25);
    ck_assert_int_eq(ob_arena_owner_add(s->a, "cache"), 0);
    ck_assert_int_eq(ob_arena_owner_add(s->a, "store"), 1);
    if (_i % 2 == 0) {
        ob_arena_owner_set_evict(s->a, 0, t_slots_evict, s);
    }

    fails = 0;
    for (step = 0; step < 20000; step++) {
        r = t_rand(&s->seed);
        i = (unsigned) (r % T_SLOTS);

        if (s->p[i] != NULL) {
            t_slot_free(s, i);

        } else {
            r >>= 8;
            switch (r % 16) {
            case 0:
                size = T_PAGE / 2 + 1 + (size_t) (r >> 4) % (2 * T_PAGE);
                break;
            case 1:
            case 2:
                size = 1 + (size_t) (r >> 4) % (T_PAGE / 2);
                break;
            default:
                size = 1 + (size_t) (r >> 4) % 2048;
                break;
            }

            s->owner[i] = (int) ((r >> 40) & 1);
            s->size[i] = size;
            s->p[i] = ob_arena_alloc(s->a, s->owner[i], size);
            if (s->p[i] == NULL) {
                fails++;
            } else {
                ck_assert_uint_eq((uintptr_t) s->p[i] % 8, 0);
                memset(s->p[i], (unsigned char) (i * 7 + size), size);
            }
        }

        ob_arena_stats(s->a, &st);
        ck_assert_uint_le(st.used, st.limit);
        if (step % 16 == 0) {
            t_check_consistent(s->a);
        }
    }

    ck_assert_uint_gt(fails, 0);        /* the budget was actually hit */

    for (i = 0; i < T_SLOTS; i++) {
        if (s->p[i] != NULL) {
            t_slot_free(s, i);
        }
    }

    t_check_consistent(s->a);
    ob_arena_stats(s->a, &st);
    ck_assert_uint_eq(st.used, st.pool_pages * st.page_size);  /* spares kept */
    ck_assert_uint_eq(st.pages, 0);
    ck_assert_uint_eq(st.large_bytes, 0);

    ob_arena_destroy(s->a);
    free(s);
}
END_TEST


START_TEST(test_realloc)
{
    ob_arena_t              *a;
    ob_arena_owner_stats_t   os;
    unsigned char           *p, *q;
    int                      o;

    a = t_arena(8 * T_MIB, T_MIB, 96, 1.25);
    o = ob_arena_owner_add(a, "store");

    p = ob_arena_alloc(a, o, 20);
    ck_assert_ptr_nonnull(p);
    memset(p, 0x11, 20);

    /* same class (24): in place in the release build */
    q = ob_arena_realloc(a, o, p, 20, 24);
    ck_assert_ptr_nonnull(q);
    ck_assert(t_pattern_ok(q, 0x11, 20));
    p = q;

    /* grow across classes */
    q = ob_arena_realloc(a, o, p, 24, 1000);
    ck_assert_ptr_nonnull(q);
    ck_assert(t_pattern_ok(q, 0x11, 20));
    memset(q, 0x22, 1000);
    ck_assert_int_eq(ob_arena_owner_stats(a, o, &os), OB_OK);
    ck_assert_uint_eq(os.bytes, ob_arena_chunk_size(a, 1000));

    /* to a large block and back */
    p = ob_arena_realloc(a, o, q, 1000, 2 * T_MIB);
    ck_assert_ptr_nonnull(p);
    ck_assert(t_pattern_ok(p, 0x22, 1000));
    memset(p, 0x33, 2 * T_MIB);
    ck_assert_int_eq(ob_arena_owner_stats(a, o, &os), OB_OK);
    ck_assert_uint_eq(os.bytes, 2 * T_MIB);

    q = ob_arena_realloc(a, o, p, 2 * T_MIB, 3 * T_MIB);
    ck_assert_ptr_nonnull(q);
    ck_assert(t_pattern_ok(q, 0x33, 2 * T_MIB));

    /* too big: NULL, and the old block is untouched */
    ck_assert_ptr_null(ob_arena_realloc(a, o, q, 3 * T_MIB, 64 * T_MIB));
    ck_assert(t_pattern_ok(q, 0x33, 2 * T_MIB));

    /* shrink */
    p = ob_arena_realloc(a, o, q, 3 * T_MIB, 40);
    ck_assert_ptr_nonnull(p);
    ck_assert(t_pattern_ok(p, 0x33, 40));
    ck_assert_int_eq(ob_arena_owner_stats(a, o, &os), OB_OK);
    ck_assert_uint_eq(os.bytes, 40);
    t_check_consistent(a);

    ob_arena_free(a, o, p, 40);
    t_check_consistent(a);
    ob_arena_destroy(a);
}
END_TEST


/*
 * An alloc/free pair across a page boundary does not give the page back
 * to the system each time: the emptied page waits in the pool.
 */
START_TEST(test_spare_page)
{
    ob_arena_t              *a;
    ob_arena_stats_t         st, st2;
    ob_arena_class_stats_t   cs;
    void                    *fill[2048], *p;
    size_t                   i, n;

    a = t_arena(64 * T_MIB, T_MIB, 96, 1.25);
    ck_assert_int_eq(ob_arena_class_stats(a, ob_arena_class_of(a, 1000), &cs),
                     OB_OK);
    n = cs.chunks_per_page;
    ck_assert_uint_le(n, 2048);
    for (i = 0; i < n; i++) {
        fill[i] = ob_arena_alloc(a, 0 + ob_arena_owner_add(a, "x") * 0, 1000);
    }
    ob_arena_stats(a, &st);

    for (i = 0; i < 10000; i++) {
        p = ob_arena_alloc(a, 0, 1000);         /* opens the second page */
        ck_assert_ptr_nonnull(p);
        ob_arena_free(a, 0, p, 1000);           /* and empties it */
    }

    ob_arena_stats(a, &st2);
    ck_assert_uint_eq(st2.pages, st.pages);
    ck_assert_uint_eq(st2.pool_pages, 1);
    ck_assert_uint_eq(st2.used, st.used + T_MIB);   /* kept, and counted */
    ck_assert_uint_eq(st2.spare_pages, OB_ARENA_SPARE_PAGES);
    t_check_consistent(a);

    /* no spares: the page goes back at once */
    ob_arena_set_spare(a, 0);
    ob_arena_stats(a, &st2);
    ck_assert_uint_eq(st2.pool_pages, 0);
    ck_assert_uint_eq(st2.used, st.used);

    for (i = 0; i < n; i++) {
        ob_arena_free(a, 0, fill[i], 1000);
    }
    t_check_consistent(a);
    ob_arena_destroy(a);
}
END_TEST


/* Per-owner limits and headroom (a queue's flow control reads it). */
START_TEST(test_owner_limit)
{
    ob_arena_t              *a;
    ob_arena_owner_stats_t   os;
    void                    *p[16];
    size_t                   calls, room, n;
    int                      queue, store;

    a = t_arena(16 * T_PAGE, T_PAGE, 96, 1.25);
    store = ob_arena_owner_add(a, "store");
    queue = ob_arena_owner_add(a, "queue");
    ob_arena_owner_set_limit(a, queue, 4 * 1184);
    ck_assert_uint_eq(ob_arena_owner_headroom(a, queue), 4 * 1184);
    ck_assert_uint_eq(ob_arena_owner_headroom(a, store), 16 * T_PAGE);

    calls = 0;
    ob_arena_owner_set_evict(a, queue, t_firm_hook, &calls);
    for (n = 0; n < 16; n++) {
        p[n] = ob_arena_alloc(a, queue, 1000);
        if (p[n] == NULL) {
            break;
        }
    }
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(calls, 1);                /* over its cap: itself */
    ck_assert_uint_eq(ob_arena_owner_headroom(a, queue), 0);
    room = ob_arena_owner_headroom(a, store);
    ck_assert_uint_lt(room, 16 * T_PAGE);

    ck_assert_int_eq(ob_arena_owner_stats(a, queue, &os), OB_OK);
    ck_assert_uint_eq(os.limit, 4 * 1184);
    ck_assert_uint_eq(os.bytes, 4 * 1184);
    ck_assert_uint_eq(os.pages, 1);

    ob_arena_owner_set_limit(a, queue, 0);
    p[n] = ob_arena_alloc(a, queue, 1000);
    ck_assert_ptr_nonnull(p[n]);
    n++;

    while (n > 0) {
        n--;
        ob_arena_free(a, queue, p[n], 1000);
    }
    t_check_consistent(a);
    ob_arena_destroy(a);
}
END_TEST


/*
 * Small budgets: a page costs a 16 MB budget a 16th with 1 MB pages, and
 * memcached's ~40 classes cannot each have one; the page size is halved
 * until the budget holds 64 pages, never below 4 KB nor 2 * min_chunk.
 */
START_TEST(test_page_size_fit)
{
    ck_assert_uint_eq(ob_arena_page_size_fit(64 * T_MIB, T_MIB, 96), T_MIB);
    ck_assert_uint_eq(ob_arena_page_size_fit(1024 * T_MIB, T_MIB, 96), T_MIB);
    ck_assert_uint_eq(ob_arena_page_size_fit(16 * T_MIB, T_MIB, 96),
                      256 * T_KIB);
    ck_assert_uint_eq(ob_arena_page_size_fit(32 * T_MIB, T_MIB, 96),
                      512 * T_KIB);
    ck_assert_uint_eq(ob_arena_page_size_fit(T_MIB, T_MIB, 96), 16 * T_KIB);
    ck_assert_uint_eq(ob_arena_page_size_fit(64 * T_KIB, T_MIB, 96), 4096);
    ck_assert_uint_eq(ob_arena_page_size_fit(16 * T_MIB, T_MIB, 200000),
                      512 * T_KIB);
}
END_TEST


/* A hook that claims bytes without freeing anything cannot hang the arena. */
START_TEST(test_evict_liar)
{
    ob_arena_t  *a;
    void        *p;
    size_t       calls;
    int          o;

    a = t_arena(T_PAGE, T_PAGE, 96, 1.25);
    o = ob_arena_owner_add(a, "store");
    calls = 0;
    ob_arena_owner_set_evict(a, o, t_evict_liar, &calls);

    p = ob_arena_alloc(a, o, 1000);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_null(ob_arena_alloc(a, o, 5000));
    ck_assert_uint_eq(calls, 1);

    ob_arena_free(a, o, p, 1000);
    ob_arena_destroy(a);
}
END_TEST


Suite *
ob_arena_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("arena");

    tc = tcase_create("classes");
    tcase_add_test(tc, test_classes_memcached);
    tcase_add_test(tc, test_class_of);
    tcase_add_test(tc, test_classes_shapes);
    tcase_add_test(tc, test_invalid_conf);
    suite_add_tcase(s, tc);

    tc = tcase_create("accounting");
    tcase_add_test(tc, test_owners);
    tcase_add_test(tc, test_owner_accounting);
    tcase_add_test(tc, test_class_figures);
    tcase_add_test(tc, test_alignment_and_disjoint);
    tcase_add_test(tc, test_large_blocks);
    suite_add_tcase(s, tc);

    tc = tcase_create("budget");
    tcase_add_test(tc, test_budget_exhausted);
    tcase_add_test(tc, test_pages_move_between_classes);
    tcase_add_test(tc, test_set_limit);
    suite_add_tcase(s, tc);

    tc = tcase_create("eviction");
    tcase_add_test(tc, test_evict_same_class);
    tcase_add_test(tc, test_evict_liar);
    tcase_add_test(tc, test_realloc);
    tcase_add_test(tc, test_spare_page);
    tcase_add_test(tc, test_owner_limit);
    tcase_add_test(tc, test_page_size_fit);
    tcase_add_test(tc, test_evict_no_recursion);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_random_cycles, 0, 4);
    suite_add_tcase(s, tc);

    return s;
}
