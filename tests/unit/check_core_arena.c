/*
 * check_core_arena.c: unit tests of core/ob_arena.c, the process budget.
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


#define T_KIB         1024u
#define T_MIB         (1024u * 1024u)
#define T_PAGE        (64u * T_KIB)      /* small pages keep the tests fast */
#define T_MAX_ITEMS   4096
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


/* 1 when all n bytes at p are c (one assertion per block, not per byte). */
static int
t_pattern_ok(const void *p, unsigned char c, size_t n)
{
    const unsigned char  *b;
    size_t                i;

    b = p;
    for (i = 0; i < n; i++) {
        if (b[i] != c) {
            return 0;
        }
    }

    return 1;
}


static ob_arena_t *
t_arena(size_t limit, size_t page_size, size_t min_chunk, double factor)
{
    ob_arena_conf_t  conf;
    ob_arena_t      *a;
    char             err[256];

    conf.limit = limit;
    conf.page_size = page_size;
    conf.min_chunk = min_chunk;
    conf.growth_factor = factor;

    err[0] = '\0';
    a = ob_arena_new(&conf, err, sizeof(err));
    ck_assert_msg(a != NULL, "ob_arena_new: %s", err);

    return a;
}


/* Checks every invariant the stats can show. */
static void
t_check_consistent(const ob_arena_t *a)
{
    ob_arena_stats_t        st;
    ob_arena_class_stats_t  cs;
    ob_arena_owner_stats_t  os;
    size_t                  chunk_bytes, owner_bytes, pages;
    unsigned                i;
    int                     o;

    ob_arena_stats(a, &st);

    chunk_bytes = 0;
    pages = 0;
    for (i = 1; i <= st.nclasses; i++) {
        ck_assert_int_eq(ob_arena_class_stats(a, i, &cs), OB_OK);
        ck_assert_uint_eq(cs.free_chunks + cs.used_chunks,
                          cs.total_pages * cs.chunks_per_page);
        chunk_bytes += cs.used_chunks * cs.chunk_size;
        pages += cs.total_pages;
    }

    owner_bytes = 0;
    for (o = 0; o < (int) st.nowners; o++) {
        ck_assert_int_eq(ob_arena_owner_stats(a, o, &os), OB_OK);
        owner_bytes += os.bytes;
    }

    ck_assert_uint_eq(pages, st.pages);
    ck_assert_uint_eq(owner_bytes, chunk_bytes + st.large_bytes);
    ck_assert_uint_eq(st.used, (st.pages + st.pool_pages) * st.page_size
                               + st.large_bytes);
    ck_assert_uint_le(st.pool_pages, OB_MAX(st.spare_pages, 1) + 8);
}


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


/* ---- tenants: page reclaim, priorities --------------------------------- */

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


/* A firm tenant's hook: counts calls, frees nothing. */
static size_t
t_firm_hook(void *ctx, unsigned class_id, size_t want)
{
    (void) class_id;
    (void) want;
    (*(size_t *) ctx)++;
    return 0;
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
    tcase_add_test(tc, test_reclaim_one_page);
    tcase_add_test(tc, test_reclaim_compacts);
    tcase_add_test(tc, test_priorities);
    tcase_add_test(tc, test_elastic_own_alloc);
    tcase_add_test(tc, test_reclaim_busy);
    tcase_add_test(tc, test_page_move);
    tcase_add_test(tc, test_realloc);
    tcase_add_test(tc, test_spare_page);
    tcase_add_test(tc, test_owner_limit);
    tcase_add_test(tc, test_owner_limit_evicts_oldest);
    tcase_add_test(tc, test_rebalance_by_age);
    tcase_add_test(tc, test_page_size_fit);
    tcase_add_test(tc, test_evict_no_recursion);
    tcase_add_test(tc, test_walk);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_random_cycles, 0, 4);
    suite_add_tcase(s, tc);

    return s;
}
