/*
 * check_store_util.h: the arena setup shared by the store's unit tests
 * (check_store_set.c, check_store_hash.c, check_store_listpack.c and
 * check_store_db.c): an arena of the given size and page size with the
 * store's owner in it, that owner's bytes, and the check that every byte
 * went back before the arena is destroyed.
 *
 * Most of these files need nothing more than the arena and its owner: the
 * fixture t_fix_t below.  A file whose fixture holds more (check_store_db.c
 * keeps its databases in it) defines T_STORE_OWN_FIXTURE before including
 * this header and builds its own on t_store_arena().
 *
 * Everything is static inline so that each test file has its own copy and
 * none has to use all of it.
 */
#ifndef OB_CHECK_STORE_UTIL_H
#define OB_CHECK_STORE_UTIL_H

#include <check.h>
#include <stddef.h>
#include <string.h>

#include "ob_arena.h"
#include "ob_core.h"


#define T_MIB   (1024 * 1024)


/*
 * A new arena of limit bytes in pages of page_size, with one owner
 * "store" in *owner; fails the test when either cannot be made.
 */
static inline ob_arena_t *
t_store_arena(size_t limit, size_t page_size, int *owner)
{
    ob_arena_conf_t   conf;
    ob_arena_t       *a;
    char              err[256];

    conf.limit = limit;
    conf.page_size = page_size;
    conf.min_chunk = 96;
    conf.growth_factor = 1.25;
    a = ob_arena_new(&conf, err, sizeof(err));
    ck_assert_msg(a != NULL, "ob_arena_new: %s", err);
    *owner = ob_arena_owner_add(a, "store");
    ck_assert_int_ge(*owner, 0);

    return a;
}


/* The bytes the owner holds: 0 once everything it took is freed. */
static inline size_t
t_store_owner_bytes(ob_arena_t *a, int owner)
{
    ob_arena_owner_stats_t  os;

    ck_assert_int_eq(ob_arena_owner_stats(a, owner, &os), OB_OK);
    return os.bytes;
}


/* Checks that the owner got every byte back, then destroys the arena. */
static inline void
t_store_arena_free(ob_arena_t *a, int owner)
{
    ck_assert_uint_eq(t_store_owner_bytes(a, owner), 0);
    ob_arena_destroy(a);
}


#ifndef T_STORE_OWN_FIXTURE

typedef struct t_fix_s {
    ob_arena_t  *a;
    int          owner;
} t_fix_t;


static inline void
t_fix_init(t_fix_t *f, size_t limit, size_t page_size)
{
    memset(f, 0, sizeof(*f));
    f->a = t_store_arena(limit, page_size, &f->owner);
}


static inline size_t
t_owner_bytes(t_fix_t *f)
{
    return t_store_owner_bytes(f->a, f->owner);
}


/* The end of a test that must leave nothing allocated. */
static inline void
t_fix_fini(t_fix_t *f)
{
    t_store_arena_free(f->a, f->owner);
}


/*
 * The end of a test that checks the owner's bytes itself where it wants
 * to (or leaves some behind on purpose): only destroys the arena.
 */
static inline void
t_fix_done(t_fix_t *f)
{
    ob_arena_destroy(f->a);
}

#endif /* T_STORE_OWN_FIXTURE */


#endif /* OB_CHECK_STORE_UTIL_H */
