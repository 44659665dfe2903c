/*
 * check_arena_util.h: helpers shared by the arena unit tests
 * (check_core_arena.c and check_core_arena_reclaim.c): the test budget's
 * sizes, an arena constructor that fails the test on error, the stats
 * invariant check, a byte-pattern check and a firm owner's counting hook.
 *
 * They are static inline so that each test file has its own copy and
 * neither has to use all of them.
 */
#ifndef OB_CHECK_ARENA_UTIL_H
#define OB_CHECK_ARENA_UTIL_H

#include <check.h>
#include <stddef.h>

#include "ob_arena.h"
#include "ob_core.h"


#define T_KIB         1024u
#define T_MIB         (1024u * 1024u)
#define T_PAGE        (64u * T_KIB)      /* small pages keep the tests fast */
#define T_MAX_ITEMS   4096


/* 1 when all n bytes at p are c (one assertion per block, not per byte). */
static inline int
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


static inline ob_arena_t *
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
static inline void
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


/* A firm tenant's hook: counts calls, frees nothing. */
static inline size_t
t_firm_hook(void *ctx, unsigned class_id, size_t want)
{
    (void) class_id;
    (void) want;
    (*(size_t *) ctx)++;
    return 0;
}


#endif /* OB_CHECK_ARENA_UTIL_H */
