/*
 * check_cache_items.c: unit tests of the cache's item store
 * (cache/cache_items.c), its store semantics (cache/cache_store.c) and the
 * in-process API (cache/cache_api.c).
 *
 * Each test builds a cache_t by hand on an arena of its own, the way the
 * module glue does, without a cycle or sockets.  Time is simulated: the
 * tests set c->now (and process_started) directly instead of sleeping, so
 * they are deterministic; only the API tests let cache_clock_update read
 * the real clock, and they do not depend on it moving.
 *
 * The tests look at the arena only through its public API, so they pass in
 * the release build and with -DOB_DEBUG_ARENA alike.
 */
#include "check_suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache_int.h"


#define T_KIB    1024u
#define T_MIB    (1024u * 1024u)
#define T_NOW    1000u              /* the rel time the tests start at */
#define T_LONG_VALUE  "a value long enough to be in another arena class " \
                      "than the one-byte values of the same test"


Suite *cache_items_suite(void);


static cache_t *
t_open(size_t limit, size_t page_size)
{
    ob_arena_conf_t  conf;
    cache_t         *c;
    ob_err_t         err;
    char             msg[256];

    c = calloc(1, sizeof(cache_t));
    ck_assert_ptr_nonnull(c);

    conf.limit = limit;
    conf.page_size = page_size;
    conf.min_chunk = 64;
    conf.growth_factor = 1.25;

    msg[0] = '\0';
    c->arena = ob_arena_new(&conf, msg, sizeof(msg));
    ck_assert_msg(c->arena != NULL, "ob_arena_new: %s", msg);

    c->owner = ob_arena_owner_add(c->arena, "cache");
    ck_assert_int_ge(c->owner, 0);
    c->max_item_size = T_MIB;
    c->cas_enabled = 1;
    c->evictions_enabled = 1;
    c->process_started = time(NULL) - T_NOW;

    ck_assert_int_eq(cache_items_init(c, &err), OB_OK);
    c->now = T_NOW;

    return c;
}


static void
t_close(cache_t *c)
{
    ob_arena_t  *a;

    a = c->arena;
    cache_items_fini(c);
    ob_arena_destroy(a);
    free(c);
}


/* Allocates and stores key=val; returns the store's result. */
static int
t_store(cache_t *c, cache_op_t op, const char *key, const char *val,
        uint32_t flags, cache_rel_time_t exptime, uint64_t cas_in,
        uint64_t *cas_out)
{
    cache_item_t  *it;
    size_t         n;
    int            why;

    n = strlen(val);
    why = 0;
    it = cache_item_alloc(c, key, strlen(key), flags, exptime, n, &why);
    if (it == NULL) {
        return why;
    }
    memcpy(CACHE_ITEM_value(it), val, n);

    return cache_store_item(c, it, op, cas_in, cas_out);
}


static int
t_set(cache_t *c, const char *key, const char *val)
{
    return t_store(c, CACHE_OP_SET, key, val, 0, 0, 0, NULL);
}


static cache_item_t *
t_find(cache_t *c, const char *key)
{
    return cache_item_find(c, key, strlen(key), NULL);
}


/* 1 when key holds exactly val (stored without "\r\n"). */
static int
t_has(cache_t *c, const char *key, const char *val)
{
    cache_item_t  *it;
    size_t         n;

    it = t_find(c, key);
    n = strlen(val);

    return it != NULL && it->nbytes == n
           && memcmp(CACHE_ITEM_value(it), val, n) == 0;
}


/* Sums the linked items and checks them against every population stat. */
typedef struct t_sum_s {
    cache_t   *c;
    uint64_t   n[OB_ARENA_MAX_CLASSES + 1];
    uint64_t   bytes[OB_ARENA_MAX_CLASSES + 1];
} t_sum_t;


static void
t_sum_one(ob_hash_link_t *l, void *arg)
{
    t_sum_t       *sum = arg;
    cache_item_t  *it;
    unsigned       id;

    it = OB_HASH_ENTRY(l, cache_item_t, hlink);
    ck_assert(it->it_flags & CACHE_ITEM_LINKED);
    id = cache_item_clsid(sum->c, it);
    ck_assert_uint_eq(id, ob_arena_class_of(sum->c->arena,
                          CACHE_ITEM_asize(sum->c, CACHE_ITEM_total(it))));
    sum->n[id]++;
    sum->bytes[id] += CACHE_ITEM_total(it);
}


static void
t_check_stats(cache_t *c)
{
    static t_sum_t  sum;
    uint64_t        n, bytes, cursor;
    unsigned        i;

    memset(&sum, 0, sizeof(sum));
    sum.c = c;
    /* no growth during the scan (it would report some items twice) */
    ob_hash_pause(&c->hash);
    cursor = 0;
    do {
        cursor = ob_hash_scan(&c->hash, cursor, 1 << 20, 1 << 20, t_sum_one,
                              &sum);
    } while (cursor != 0);
    ob_hash_resume(&c->hash);

    n = 0;
    bytes = 0;
    for (i = 0; i <= OB_ARENA_MAX_CLASSES; i++) {
        ck_assert_uint_eq(sum.n[i], c->stats.classes[i].number);
        ck_assert_uint_eq(sum.bytes[i], c->stats.classes[i].mem_requested);
        n += sum.n[i];
        bytes += sum.bytes[i];
    }

    ck_assert_uint_eq(n, c->stats.curr_items);
    ck_assert_uint_eq(bytes, c->stats.bytes);
}


/* ---- link, find, bump, unlink -------------------------------------------- */

START_TEST(test_link_find_bump_unlink)
{
    cache_t       *c;
    cache_item_t  *a, *b;

    c = t_open(4 * T_MIB, 64 * T_KIB);

    ck_assert_int_eq(t_set(c, "a", "x"), OB_OK);
    ck_assert_int_eq(t_set(c, "b", "yy"), OB_OK);
    ck_assert(t_has(c, "a", "x"));
    ck_assert(t_has(c, "b", "yy"));
    ck_assert_ptr_null(t_find(c, "c"));
    ck_assert_ptr_null(cache_item_find(c, "a", 0, NULL));

    a = t_find(c, "a");
    b = t_find(c, "b");
    ck_assert_uint_eq(cache_item_clsid(c, a), cache_item_clsid(c, b));
    ck_assert((a->it_flags & CACHE_ITEM_FETCHED) == 0);
    ck_assert((a->it_flags & CACHE_ITEM_ACTIVE) == 0);

    c->now = T_NOW + 5;
    cache_item_bump(c, a);
    ck_assert(a->it_flags & CACHE_ITEM_ACTIVE);
    ck_assert((b->it_flags & CACHE_ITEM_ACTIVE) == 0);
    ck_assert(a->it_flags & CACHE_ITEM_FETCHED);
    ck_assert_uint_eq(a->time, T_NOW + 5);

    ck_assert_uint_eq(c->stats.curr_items, 2);
    ck_assert_uint_eq(c->stats.total_items, 2);
    ck_assert_uint_eq(c->stats.bytes,
                      CACHE_ITEM_total(a) + CACHE_ITEM_total(b));
    t_check_stats(c);

    cache_item_unlink(c, a);
    ck_assert_ptr_null(t_find(c, "a"));
    ck_assert(t_has(c, "b", "yy"));
    ck_assert_uint_eq(c->stats.curr_items, 1);
    t_check_stats(c);

    cache_item_unlink(c, t_find(c, "b"));
    ck_assert_uint_eq(c->stats.curr_items, 0);
    ck_assert_uint_eq(c->stats.bytes, 0);
    t_check_stats(c);

    t_close(c);
}
END_TEST


START_TEST(test_replace_keeps_one)
{
    cache_t       *c;
    cache_item_t  *it;
    int            i;

    c = t_open(4 * T_MIB, 64 * T_KIB);

    for (i = 0; i < 10; i++) {
        ck_assert_int_eq(t_set(c, "k", i % 2 ? "odd" : "even-value"), OB_OK);
    }
    ck_assert(t_has(c, "k", "odd"));
    ck_assert_uint_eq(c->stats.curr_items, 1);
    ck_assert_uint_eq(c->stats.total_items, 10);
    ck_assert_uint_eq(c->stats.cmd_set, 10);
    it = t_find(c, "k");
    ck_assert_uint_eq(c->stats.bytes, CACHE_ITEM_total(it));
    t_check_stats(c);

    t_close(c);
}
END_TEST


START_TEST(test_cas_increments)
{
    cache_t   *c;
    uint64_t   cas1, cas2, cas3;

    c = t_open(4 * T_MIB, 64 * T_KIB);

    cas1 = cas2 = cas3 = 0;
    ck_assert_int_eq(t_store(c, CACHE_OP_SET, "a", "1", 0, 0, 0, &cas1), OB_OK);
    ck_assert_int_eq(t_store(c, CACHE_OP_SET, "b", "1", 0, 0, 0, &cas2), OB_OK);
    ck_assert_int_eq(t_store(c, CACHE_OP_SET, "a", "2", 0, 0, 0, &cas3), OB_OK);
    ck_assert_uint_eq(cas1, 1);
    ck_assert_uint_eq(cas2, 2);
    ck_assert_uint_eq(cas3, 3);
    ck_assert_uint_eq(t_find(c, "a")->cas, 3);
    ck_assert_uint_eq(cache_next_cas(c), 4);

    c->cas_enabled = 0;
    ck_assert_int_eq(t_store(c, CACHE_OP_SET, "c", "1", 0, 0, 0, &cas1), OB_OK);
    ck_assert_uint_eq(cas1, 0);

    t_close(c);
}
END_TEST


/* ---- time: exptime, ttl, expiry, flush ----------------------------------- */

START_TEST(test_exptime_rel)
{
    cache_t          *c;
    cache_item_t     *it;
    cache_miss_t      why;
    int64_t           ps;

    c = t_open(4 * T_MIB, 64 * T_KIB);
    ps = (int64_t) c->process_started;

    ck_assert_uint_eq(cache_exptime_rel(c, 0), 0);
    ck_assert_uint_eq(cache_exptime_rel(c, 10), T_NOW + 10);
    ck_assert_uint_eq(cache_exptime_rel(c, 2592000), T_NOW + 2592000);
    ck_assert_uint_eq(cache_exptime_rel(c, -1), 1);
    ck_assert_uint_eq(cache_exptime_rel(c, -100000), 1);
    ck_assert_uint_eq(cache_exptime_rel(c, 2592001), 1);          /* 1970 */
    ck_assert_uint_eq(cache_exptime_rel(c, ps), 1);
    ck_assert_uint_eq(cache_exptime_rel(c, ps + 500), 500);       /* past */
    ck_assert_uint_eq(cache_exptime_rel(c, ps + 5000), 5000);     /* future */

    /* relative, absolute future, never; then negative and absolute past,
     * stored last and in two classes so that no allocation's tail check
     * reclaims them before the lookups below */
    ck_assert_int_eq(t_store(c, CACHE_OP_SET, "rel", "v", 0,
                             cache_exptime_rel(c, 10), 0, NULL), OB_OK);
    ck_assert_int_eq(t_store(c, CACHE_OP_SET, "fut", "v", 0,
                             cache_exptime_rel(c, ps + 5000), 0, NULL), OB_OK);
    ck_assert_int_eq(t_store(c, CACHE_OP_SET, "never", "v", 0, 0, 0, NULL),
                     OB_OK);
    ck_assert_int_eq(t_store(c, CACHE_OP_SET, "neg", "v", 0,
                             cache_exptime_rel(c, -1), 0, NULL), OB_OK);
    ck_assert_int_eq(t_store(c, CACHE_OP_SET, "past", T_LONG_VALUE, 0,
                             cache_exptime_rel(c, ps + 500), 0, NULL), OB_OK);
    ck_assert_uint_eq(c->stats.curr_items, 5);

    ck_assert_ptr_null(cache_item_find(c, "neg", 3, &why));
    ck_assert_int_eq(why, CACHE_MISS_EXPIRED);
    ck_assert_ptr_null(cache_item_find(c, "past", 4, &why));
    ck_assert_int_eq(why, CACHE_MISS_EXPIRED);
    ck_assert_uint_eq(c->stats.expired_unfetched, 2);
    ck_assert_ptr_null(cache_item_find(c, "nope", 4, &why));
    ck_assert_int_eq(why, CACHE_MISS_ABSENT);

    it = t_find(c, "rel");
    ck_assert_ptr_nonnull(it);
    ck_assert_int_eq(cache_item_ttl(c, it), 10);
    ck_assert_int_eq(cache_item_ttl(c, t_find(c, "never")), -1);
    ck_assert_int_eq(cache_item_ttl(c, t_find(c, "fut")), 4000);
    cache_item_bump(c, it);

    c->now = T_NOW + 9;
    ck_assert_ptr_nonnull(t_find(c, "rel"));
    c->now = T_NOW + 10;
    ck_assert_ptr_null(cache_item_find(c, "rel", 3, &why));
    ck_assert_int_eq(why, CACHE_MISS_EXPIRED);
    ck_assert_uint_eq(c->stats.expired_unfetched, 2);   /* rel was fetched */

    c->now = 5000;
    ck_assert_ptr_null(t_find(c, "fut"));
    ck_assert_ptr_nonnull(t_find(c, "never"));
    ck_assert_uint_eq(c->stats.curr_items, 1);
    t_check_stats(c);

    t_close(c);
}
END_TEST


START_TEST(test_flush_now)
{
    cache_t  *c;
    char      key[32];
    int       i;

    c = t_open(4 * T_MIB, 64 * T_KIB);

    for (i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        ck_assert_int_eq(t_set(c, key, "v"), OB_OK);
    }

    /* O(1): nothing is freed yet, but nothing is found either; lookups
     * and the crawler reclaim the flushed items. */
    cache_items_flush(c, 0);
    ck_assert_ptr_null(t_find(c, "k5"));
    ck_assert_ptr_null(cache_item_get(c, "k6", 2));
    ck_assert_uint_eq(c->stats.get_flushed, 1);
    ck_assert_uint_eq(c->stats.curr_items, 98);
    ck_assert_uint_eq(cache_items_crawl(c, 1000), 98);
    ck_assert_uint_eq(c->stats.curr_items, 0);
    ck_assert_uint_eq(c->stats.evictions, 0);

    /* a store in the same second as the flush survives it */
    ck_assert_int_eq(t_set(c, "after", "v"), OB_OK);
    ck_assert(t_has(c, "after", "v"));

    /* negative is "now" too */
    cache_items_flush(c, -1);
    ck_assert_ptr_null(t_find(c, "after"));
    t_check_stats(c);

    t_close(c);
}
END_TEST


START_TEST(test_flush_delay)
{
    cache_t       *c;
    cache_miss_t   why;

    c = t_open(4 * T_MIB, 64 * T_KIB);

    ck_assert_int_eq(t_set(c, "old", "v"), OB_OK);
    cache_items_flush(c, 10);
    ck_assert_uint_eq(c->oldest_live, T_NOW + 9);
    ck_assert(t_has(c, "old", "v"));

    c->now = T_NOW + 5;
    ck_assert_int_eq(t_set(c, "mid", "v"), OB_OK);
    ck_assert(t_has(c, "mid", "v"));

    c->now = T_NOW + 10;
    ck_assert_ptr_null(cache_item_find(c, "old", 3, &why));
    ck_assert_int_eq(why, CACHE_MISS_FLUSHED);
    ck_assert_ptr_null(cache_item_find(c, "mid", 3, &why));
    ck_assert_int_eq(why, CACHE_MISS_FLUSHED);

    c->now = T_NOW + 11;
    ck_assert_int_eq(t_set(c, "new", "v"), OB_OK);
    ck_assert(t_has(c, "new", "v"));
    t_check_stats(c);

    t_close(c);
}
END_TEST


/* A delayed flush takes effect when the clock reaches it, and the
 * crawler then reclaims what it invalidated. */
START_TEST(test_flush_delay_clock)
{
    cache_t  *c;

    c = t_open(4 * T_MIB, 64 * T_KIB);

    cache_clock_update(c);
    ck_assert_int_eq(t_set(c, "a", "v"), OB_OK);
    ck_assert_int_eq(t_set(c, "b", "v"), OB_OK);
    cache_items_flush(c, 5);
    ck_assert_uint_ne(c->oldest_live, 0);
    ck_assert(t_has(c, "b", "v"));

    c->process_started -= 100;          /* 100 s go by */
    cache_clock_update(c);
    ck_assert_ptr_null(t_find(c, "a"));
    ck_assert_uint_eq(cache_items_crawl(c, 1000), 1);
    ck_assert_uint_eq(c->stats.curr_items, 0);

    ck_assert_int_eq(t_set(c, "c", "v"), OB_OK);
    cache_clock_update(c);
    ck_assert(t_has(c, "c", "v"));

    t_close(c);
}
END_TEST


/* ---- memory: eviction, other tenants, limits ------------------------------ */

#define T_FILL   3000

static void
t_fill(cache_t *c, int n, size_t vlen)
{
    char  key[32], *val;
    int   i;

    val = malloc(vlen + 1);
    ck_assert_ptr_nonnull(val);
    memset(val, 'v', vlen);
    val[vlen] = '\0';

    for (i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "ev%d", i);
        ck_assert_int_eq(t_set(c, key, val), OB_OK);
    }

    free(val);
}


START_TEST(test_lru_eviction)
{
    cache_t  *c;
    char      key[32];
    int       i, first;
    uint64_t  n;

    c = t_open(T_MIB, 64 * T_KIB);

    t_fill(c, T_FILL, 1000);
    n = c->stats.curr_items;

    ck_assert_uint_gt(c->stats.evictions, 0);
    ck_assert_uint_lt(n, T_FILL);
    ck_assert_uint_eq(n + c->stats.evictions, T_FILL);
    ck_assert_uint_eq(c->stats.evicted_unfetched, c->stats.evictions);
    ck_assert_uint_eq(c->stats.reclaimed, 0);
    ck_assert_uint_eq(c->stats.total_items, T_FILL);
    t_check_stats(c);

    /* oldest first: what is left is exactly the newest n */
    first = T_FILL - (int) n;
    for (i = 0; i < T_FILL; i++) {
        snprintf(key, sizeof(key), "ev%d", i);
        if (i < first) {
            ck_assert_ptr_null(t_find(c, key));
        } else {
            ck_assert_ptr_nonnull(t_find(c, key));
        }
    }

    /* a hit saves the oldest item (its second chance): the next one goes
     * instead */
    snprintf(key, sizeof(key), "ev%d", first);
    cache_item_bump(c, t_find(c, key));
    t_fill(c, 1, 1000);                                      /* ev0 again */
    ck_assert_ptr_nonnull(t_find(c, key));
    snprintf(key, sizeof(key), "ev%d", first + 1);
    ck_assert_ptr_null(t_find(c, key));
    ck_assert_ptr_nonnull(t_find(c, "ev0"));

    /* another class takes a page from this one */
    ck_assert_int_eq(t_set(c, "ev-new", "x"), OB_OK);
    ck_assert_ptr_nonnull(t_find(c, "ev0"));
    ck_assert_ptr_nonnull(t_find(c, "ev-new"));
    t_check_stats(c);

    t_close(c);
}
END_TEST


START_TEST(test_expired_reclaimed_before_eviction)
{
    cache_t  *c;
    char      key[32], val[1001];
    int       i;

    c = t_open(T_MIB, 64 * T_KIB);
    memset(val, 'v', 1000);
    val[1000] = '\0';

    /* fill, all expiring at T_NOW + 10 */
    for (i = 0; i < T_FILL; i++) {
        snprintf(key, sizeof(key), "ex%d", i);
        ck_assert_int_eq(t_store(c, CACHE_OP_SET, key, val, 0, T_NOW + 10,
                                 0, NULL), OB_OK);
    }
    ck_assert_uint_gt(c->stats.evictions, 0);

    c->now = T_NOW + 10;
    c->stats.evictions = 0;
    c->stats.evicted_unfetched = 0;
    t_fill(c, 50, 1000);
    ck_assert_uint_eq(c->stats.evictions, 0);
    ck_assert_uint_eq(c->stats.reclaimed, 50);
    ck_assert_uint_eq(c->stats.expired_unfetched, 50);
    t_check_stats(c);

    t_close(c);
}
END_TEST


START_TEST(test_other_owner_evicts)
{
    cache_t           *c;
    int                store;
    void              *big, *small;
    uint64_t           ev;
    ob_arena_stats_t   st;

    c = t_open(T_MIB, 64 * T_KIB);
    store = ob_arena_owner_add(c->arena, "store");
    ck_assert_int_ge(store, 0);

    t_fill(c, T_FILL, 1000);
    ev = c->stats.evictions;
    ob_arena_stats(c->arena, &st);
    ck_assert_uint_le(st.used, st.limit);

    /* a large block, then a chunk of a class the cache does not use */
    big = ob_arena_alloc(c->arena, store, 200 * T_KIB);
    ck_assert_ptr_nonnull(big);
    ck_assert_uint_gt(c->stats.evictions, ev);

    ev = c->stats.evictions;
    small = ob_arena_alloc(c->arena, store, 16);
    ck_assert_ptr_nonnull(small);
    t_check_stats(c);

    ob_arena_free(c->arena, store, small, 16);
    ob_arena_free(c->arena, store, big, 200 * T_KIB);

    /* the cache still works on what is left */
    ck_assert_int_eq(t_set(c, "after", "v"), OB_OK);
    ck_assert(t_has(c, "after", "v"));

    /* an empty cache gives nothing: the arena refuses */
    cache_items_flush(c, 0);
    cache_items_crawl(c, 1000000);
    ck_assert_uint_eq(c->stats.curr_items, 0);
    ck_assert_ptr_null(ob_arena_alloc(c->arena, store, 2 * T_MIB));

    t_close(c);
}
END_TEST


START_TEST(test_too_large)
{
    cache_t       *c;
    cache_item_t  *it;
    int            why;
    size_t         room;

    c = t_open(4 * T_MIB, 64 * T_KIB);
    /* the -I bound counts a 56-byte header and "\r\n" */
    room = T_MIB - CACHE_ITEM_SIZE_CHECK - 3 - 2;

    why = 0;
    ck_assert_ptr_null(cache_item_alloc(c, "big", 3, 0, 0, room + 1, &why));
    ck_assert_int_eq(why, CACHE_TOO_LARGE);
    ck_assert_ptr_null(cache_item_alloc(c, "big", 3, 0, 0,
                                        (size_t) UINT32_MAX + 10, &why));
    ck_assert_int_eq(why, CACHE_TOO_LARGE);

    /* exactly max_item_size fits (a large block) */
    it = cache_item_alloc(c, "big", 3, 0, 0, room, &why);
    ck_assert_ptr_nonnull(it);
    ck_assert_uint_eq(CACHE_ITEM_total(it), CACHE_ITEM_HDR + 3 + room);
    ck_assert_uint_eq(cache_item_clsid(c, it), OB_ARENA_CLASS_LARGE);
    memset(CACHE_ITEM_value(it), 'x', room);
    ck_assert_int_eq(cache_store_item(c, it, CACHE_OP_SET, 0, NULL), OB_OK);
    ck_assert_uint_eq(c->stats.classes[0].number, 1);
    t_check_stats(c);

    /* larger than the whole budget: no memory, counted for the class */
    c->max_item_size = 8 * T_MIB;
    why = 0;
    ck_assert_ptr_null(cache_item_alloc(c, "huge", 4, 0, 0, 5 * T_MIB, &why));
    ck_assert_int_eq(why, CACHE_NO_MEMORY);
    ck_assert_uint_eq(c->stats.classes[0].outofmemory, 1);
    ck_assert_ptr_nonnull(t_find(c, "big"));

    t_close(c);
}
END_TEST


/* ---- store semantics ------------------------------------------------------ */

START_TEST(test_store_ops)
{
    cache_t       *c;
    cache_item_t  *it;
    uint64_t       cas;

    c = t_open(4 * T_MIB, 64 * T_KIB);

    /* add */
    ck_assert_int_eq(t_store(c, CACHE_OP_ADD, "a", "1", 5, 0, 0, NULL), OB_OK);
    ck_assert_int_eq(t_set(c, "z", "z"), OB_OK);
    ck_assert_int_eq(t_store(c, CACHE_OP_ADD, "a", "2", 0, 0, 0, NULL),
                     CACHE_NOT_STORED);
    ck_assert(t_has(c, "a", "1"));
    it = t_find(c, "a");
    ck_assert_uint_eq(cache_item_flags(it), 5);
    ck_assert(it->it_flags & CACHE_ITEM_ACTIVE);    /* bumped */
    ck_assert((it->it_flags & CACHE_ITEM_FETCHED) == 0);

    /* replace */
    ck_assert_int_eq(t_store(c, CACHE_OP_REPLACE, "b", "1", 0, 0, 0, NULL),
                     CACHE_NOT_STORED);
    ck_assert_ptr_null(t_find(c, "b"));
    ck_assert_int_eq(t_store(c, CACHE_OP_REPLACE, "a", "3", 0, 0, 0, NULL),
                     OB_OK);
    ck_assert(t_has(c, "a", "3"));

    /* append / prepend: missing, then joined with the old flags and exptime */
    ck_assert_int_eq(t_store(c, CACHE_OP_APPEND, "b", "x", 0, 0, 0, NULL),
                     CACHE_NOT_STORED);
    ck_assert_int_eq(t_store(c, CACHE_OP_PREPEND, "b", "x", 0, 0, 0, NULL),
                     CACHE_NOT_STORED);
    ck_assert_int_eq(t_store(c, CACHE_OP_SET, "e", "mid", 7, T_NOW + 50, 0,
                             NULL), OB_OK);
    ck_assert_int_eq(t_store(c, CACHE_OP_APPEND, "e", "-end", 9, T_NOW + 999,
                             0, &cas), OB_OK);
    ck_assert_int_eq(t_store(c, CACHE_OP_PREPEND, "e", "start-", 9, 0, 0,
                             NULL), OB_OK);
    ck_assert(t_has(c, "e", "start-mid-end"));
    it = t_find(c, "e");
    ck_assert_uint_eq(cache_item_flags(it), 7);
    ck_assert_uint_eq(it->exptime, T_NOW + 50);
    ck_assert_uint_gt(it->cas, cas);
    ck_assert_uint_eq(c->stats.curr_items, 3);

    /* append of an empty piece, to an empty value */
    ck_assert_int_eq(t_set(c, "empty", ""), OB_OK);
    ck_assert_int_eq(t_store(c, CACHE_OP_APPEND, "empty", "", 0, 0, 0, NULL),
                     OB_OK);
    ck_assert(t_has(c, "empty", ""));
    ck_assert_int_eq(t_store(c, CACHE_OP_PREPEND, "empty", "p", 0, 0, 0, NULL),
                     OB_OK);
    ck_assert(t_has(c, "empty", "p"));

    /* append onto an expired item is a miss */
    c->now = T_NOW + 50;
    ck_assert_int_eq(t_store(c, CACHE_OP_APPEND, "e", "x", 0, 0, 0, NULL),
                     CACHE_NOT_STORED);
    ck_assert_uint_eq(c->stats.cmd_set, 14);
    t_check_stats(c);

    t_close(c);
}
END_TEST


START_TEST(test_store_cas)
{
    cache_t   *c;
    uint64_t   cas, cas2;
    unsigned   id;

    c = t_open(4 * T_MIB, 64 * T_KIB);

    ck_assert_int_eq(t_store(c, CACHE_OP_CAS, "k", "1", 0, 0, 77, NULL),
                     CACHE_NOT_FOUND);
    ck_assert_uint_eq(c->stats.cas_misses, 1);
    ck_assert_ptr_null(t_find(c, "k"));

    ck_assert_int_eq(t_store(c, CACHE_OP_SET, "k", "1", 0, 0, 0, &cas), OB_OK);
    id = cache_item_clsid(c, t_find(c, "k"));

    ck_assert_int_eq(t_store(c, CACHE_OP_CAS, "k", "2", 0, 0, cas + 100, NULL),
                     CACHE_EXISTS);
    ck_assert_uint_eq(c->stats.cas_badval, 1);
    ck_assert_uint_eq(c->stats.classes[id].cas_badval, 1);
    ck_assert(t_has(c, "k", "1"));

    ck_assert_int_eq(t_store(c, CACHE_OP_CAS, "k", "3", 0, 0, cas, &cas2),
                     OB_OK);
    ck_assert_uint_eq(c->stats.cas_hits, 1);
    ck_assert_uint_eq(c->stats.classes[id].cas_hits, 1);
    ck_assert(t_has(c, "k", "3"));
    ck_assert_uint_gt(cas2, cas);

    /* the old CAS is spent */
    ck_assert_int_eq(t_store(c, CACHE_OP_CAS, "k", "4", 0, 0, cas, NULL),
                     CACHE_EXISTS);

    /* meta's C on other ops: set/replace act as cas */
    ck_assert_int_eq(t_store(c, CACHE_OP_SET, "m", "1", 0, 0, 5, NULL),
                     CACHE_NOT_FOUND);
    ck_assert_int_eq(t_store(c, CACHE_OP_SET, "k", "5", 0, 0, cas, NULL),
                     CACHE_EXISTS);
    ck_assert_int_eq(t_store(c, CACHE_OP_REPLACE, "k", "5", 0, 0, cas2, &cas),
                     OB_OK);
    ck_assert(t_has(c, "k", "5"));
    ck_assert_int_eq(t_store(c, CACHE_OP_APPEND, "k", "x", 0, 0, cas2, NULL),
                     CACHE_EXISTS);
    ck_assert_int_eq(t_store(c, CACHE_OP_APPEND, "k", "x", 0, 0, cas, NULL),
                     OB_OK);
    ck_assert(t_has(c, "k", "5x"));
    ck_assert_int_eq(t_store(c, CACHE_OP_ADD, "k", "y", 0, 0, 9999, NULL),
                     CACHE_NOT_STORED);
    ck_assert_int_eq(t_store(c, CACHE_OP_APPEND, "q", "x", 0, 0, 9, NULL),
                     CACHE_NOT_STORED);
    t_check_stats(c);

    t_close(c);
}
END_TEST


/*
 * In a one-page arena, the joined item of an append needs a page of
 * another class, and the only way to get one is to evict the old item
 * itself: the store must notice instead of reading freed memory.
 */
START_TEST(test_append_evicts_old)
{
    cache_t  *c;
    char      big[301];

    c = t_open(4 * T_KIB, 4 * T_KIB);
    memset(big, 'b', 300);
    big[300] = '\0';

    ck_assert_int_eq(t_set(c, "a", "small"), OB_OK);
    ck_assert_int_eq(t_store(c, CACHE_OP_APPEND, "a", big, 0, 0, 0, NULL),
                     CACHE_NOT_STORED);
    ck_assert_ptr_null(t_find(c, "a"));
    ck_assert_uint_eq(c->stats.evictions, 1);
    t_check_stats(c);

    t_close(c);
}
END_TEST


/* ---- incr / decr ---------------------------------------------------------- */

typedef struct {
    const char  *before;
    int          incr;
    uint64_t     delta;
    int          rc;
    uint64_t     value;
    const char  *after;
} t_incr_case_t;

static const t_incr_case_t t_incr_cases[] = {
    { "1",                      1, 1,  OB_OK, 2,  "2" },
    { "18446744073709551615",   1, 1,  OB_OK, 0,  "0                   " },
    { "18446744073709551615",   1, 2,  OB_OK, 1,  "1                   " },
    { "5",                      0, 10, OB_OK, 0,  "0" },
    { "100",                    0, 1,  OB_OK, 99, "99 " },
    { "99",                     1, 1,  OB_OK, 100, "100" },
    { "  12 ",                  1, 1,  OB_OK, 13, "13   " },
    { "012",                    1, 1,  OB_OK, 13, "13 " },
    { "000000000000000000001",  1, 1,  OB_OK, 2,  "2                    " },
    { "-0",                     1, 1,  OB_OK, 1,  "1 " },
    { "",                       1, 1,  OB_DECLINED, 0, "" },
    { "-5",                     1, 1,  OB_DECLINED, 0, "-5" },
    /* memcached's safe_strtoull: "-" wraps modulo 2^64; refused only when
     * the result looks negative as signed (issue 6: one parser) */
    { "-9223372036854775809",   1, 1,  OB_OK, 9223372036854775808ull,
      "9223372036854775808 " },
    { "-9223372036854775808",   1, 1,  OB_DECLINED, 0,
      "-9223372036854775808" },
    { "99999999999999999999",   1, 1,  OB_DECLINED, 0, "99999999999999999999" },
    { "18446744073709551616",   1, 1,  OB_DECLINED, 0, "18446744073709551616" },
    { "abc",                    1, 1,  OB_DECLINED, 0, "abc" },
    { "12abc",                  1, 1,  OB_DECLINED, 0, "12abc" },
    { "   ",                    1, 1,  OB_DECLINED, 0, "   " },
};


START_TEST(test_incr_cases)
{
    cache_t              *c;
    const t_incr_case_t  *tc;
    cache_item_t         *it;
    uint64_t              v, cas, cas2;
    int                   rc;

    tc = &t_incr_cases[_i];
    c = t_open(4 * T_MIB, 64 * T_KIB);

    ck_assert_int_eq(t_store(c, CACHE_OP_SET, "n", tc->before, 3, T_NOW + 100,
                             0, &cas), OB_OK);
    v = 12345;
    cas2 = 0;
    rc = cache_store_incr(c, "n", 1, tc->incr, tc->delta, 0, &v, &cas2);
    ck_assert_msg(rc == tc->rc, "case %d \"%s\": rc %d", _i, tc->before, rc);
    ck_assert_msg(t_has(c, "n", tc->after), "case %d \"%s\"", _i, tc->before);

    it = t_find(c, "n");
    ck_assert_uint_eq(cache_item_flags(it), 3);
    ck_assert_uint_eq(it->exptime, T_NOW + 100);

    if (tc->rc == OB_OK) {
        ck_assert_uint_eq(v, tc->value);
        ck_assert_uint_gt(cas2, cas);
        ck_assert_uint_eq(it->cas, cas2);
        if (tc->incr) {
            ck_assert_uint_eq(c->stats.incr_hits, 1);
            ck_assert_uint_eq(c->stats.classes[cache_item_clsid(c, it)].incr_hits, 1);
        } else {
            ck_assert_uint_eq(c->stats.decr_hits, 1);
        }
    } else {
        ck_assert_uint_eq(it->cas, cas);
        ck_assert_uint_eq(c->stats.incr_hits + c->stats.decr_hits, 0);
    }
    ck_assert_uint_eq(c->stats.curr_items, 1);
    t_check_stats(c);

    t_close(c);
}
END_TEST


START_TEST(test_incr_misc)
{
    cache_t   *c;
    uint64_t   v, cas;

    c = t_open(4 * T_MIB, 64 * T_KIB);

    ck_assert_int_eq(cache_store_incr(c, "n", 1, 1, 1, 0, &v, NULL),
                     CACHE_NOT_FOUND);
    ck_assert_int_eq(cache_store_incr(c, "n", 1, 0, 1, 0, &v, NULL),
                     CACHE_NOT_FOUND);
    ck_assert_uint_eq(c->stats.incr_misses, 1);
    ck_assert_uint_eq(c->stats.decr_misses, 1);

    ck_assert_int_eq(t_store(c, CACHE_OP_SET, "n", "10", 0, 0, 0, &cas), OB_OK);
    ck_assert_int_eq(cache_store_incr(c, "n", 1, 1, 1, cas + 1, &v, NULL),
                     CACHE_EXISTS);
    ck_assert(t_has(c, "n", "10"));
    ck_assert_int_eq(cache_store_incr(c, "n", 1, 1, 5, cas, &v, NULL), OB_OK);
    ck_assert_uint_eq(v, 15);
    ck_assert(t_has(c, "n", "15"));

    /* a hit counts as a bump, not a fetch */
    ck_assert((t_find(c, "n")->it_flags & CACHE_ITEM_FETCHED) == 0);

    /* expired: a miss */
    ck_assert_int_eq(t_store(c, CACHE_OP_SET, "x", "1", 0, T_NOW + 1, 0,
                             NULL), OB_OK);
    c->now = T_NOW + 1;
    ck_assert_int_eq(cache_store_incr(c, "x", 1, 1, 1, 0, &v, NULL),
                     CACHE_NOT_FOUND);
    t_check_stats(c);

    t_close(c);
}
END_TEST


/* A growing incr whose new item evicts the old one still stores. */
START_TEST(test_incr_grow_evicts_old)
{
    cache_t       *c;
    uint64_t       v;
    char           key[64];
    size_t         nkey, total;

    c = t_open(4 * T_KIB, 4 * T_KIB);

    /* a key length that puts "99" at the very end of its chunk */
    for (nkey = 1; nkey < sizeof(key); nkey++) {
        total = CACHE_ITEM_HDR + nkey + 2;
        if (ob_arena_chunk_size(c->arena, CACHE_ITEM_asize(c, total))
            == total)
        {
            break;
        }
    }
    ck_assert_uint_lt(nkey, sizeof(key));
    memset(key, 'k', nkey);
    key[nkey] = '\0';

    ck_assert_int_eq(t_set(c, key, "99"), OB_OK);
    ck_assert_int_eq(cache_store_incr(c, key, nkey, 1, 1, 0, &v, NULL), OB_OK);
    ck_assert_uint_eq(v, 100);
    ck_assert(t_has(c, key, "100"));
    ck_assert_uint_eq(c->stats.curr_items, 1);
    t_check_stats(c);

    t_close(c);
}
END_TEST


/* The header and the classes: 14-byte keys and 100-byte values take 144
 * bytes, a class of their own with 256 pages or more; with fewer, small
 * items go by memcached's series (152). */
START_TEST(test_item_size)
{
    cache_t       *c;
    cache_item_t  *it;
    char           val[101];

    memset(val, 'v', 100);
    val[100] = '\0';

    ck_assert_uint_eq(CACHE_ITEM_HDR, 30);
    ck_assert_uint_eq(offsetof(cache_item_t, cas), 0);

    c = t_open(16 * T_MIB, 64 * T_KIB);             /* 256 pages */
    ck_assert_int_eq(t_set(c, "key:0000000001", val), OB_OK);
    it = t_find(c, "key:0000000001");
    ck_assert_uint_eq(CACHE_ITEM_total(it), 144);
    ck_assert_uint_eq(ob_arena_chunk_size(c->arena,
                          CACHE_ITEM_asize(c, CACHE_ITEM_total(it))), 144);
    ck_assert_uint_eq(cache_item_flags(it), 0);

    /* flags take 4 bytes only when not 0 */
    ck_assert_int_eq(t_store(c, CACHE_OP_SET, "key:0000000002", val, 7, 0, 0,
                             NULL), OB_OK);
    it = t_find(c, "key:0000000002");
    ck_assert_uint_eq(CACHE_ITEM_total(it), 148);
    ck_assert_uint_eq(cache_item_flags(it), 7);
    ck_assert(t_has(c, "key:0000000002", val));
    t_check_stats(c);
    t_close(c);

    c = t_open(4 * T_MIB, 64 * T_KIB);              /* 64 pages */
    ck_assert_int_eq(t_set(c, "key:0000000001", val), OB_OK);
    it = t_find(c, "key:0000000001");
    ck_assert_uint_eq(CACHE_ITEM_total(it), 144);
    /* min_chunk 64 here: 64, 80, 104, 136, 176 */
    ck_assert_uint_eq(ob_arena_chunk_size(c->arena,
                          CACHE_ITEM_asize(c, CACHE_ITEM_total(it))), 176);
    t_check_stats(c);
    t_close(c);
}
END_TEST


/* ---- the crawler ---------------------------------------------------------- */

START_TEST(test_crawler)
{
    cache_t       *c;
    cache_item_t  *it;
    char           key[32], val[600];
    int            i, gone_expiring;
    size_t         n;

    c = t_open(4 * T_MIB, 64 * T_KIB);

    /* two classes, every other item expiring at T_NOW + 5 */
    for (i = 0; i < 20; i++) {
        snprintf(key, sizeof(key), "c%d", i);
        memset(val, 'v', sizeof(val));
        val[i < 10 ? 3 : 500] = '\0';
        ck_assert_int_eq(t_store(c, CACHE_OP_SET, key, val, 0,
                                 i % 2 ? T_NOW + 5 : 0, 0, NULL), OB_OK);
    }

    ck_assert_uint_eq(cache_items_crawl(c, 100), 0);
    ck_assert_uint_eq(c->stats.crawler_items_checked, 20);

    c->now = T_NOW + 5;

    /* step by one, then delete an item next to the hand: the hand is the
     * arena's, and a freed chunk is only ever passed over (ASan would
     * catch a stale pointer) */
    n = cache_items_crawl(c, 1);
    ck_assert_uint_le(n, 1);
    it = t_find(c, "c0");
    ck_assert_ptr_nonnull(it);
    gone_expiring = it->exptime != 0;
    cache_item_unlink(c, it);

    for (i = 0; i < 10; i++) {
        n += cache_items_crawl(c, 3);
    }
    n += cache_items_crawl(c, 1000);

    ck_assert_uint_eq(n, gone_expiring ? 9 : 10);
    ck_assert_uint_eq(c->stats.crawler_reclaimed, n);
    ck_assert_uint_eq(c->stats.expired_unfetched, n);
    ck_assert_uint_eq(c->stats.curr_items, gone_expiring ? 10 : 9);
    for (i = 1; i < 20; i += 2) {
        snprintf(key, sizeof(key), "c%d", i);
        c->now = T_NOW;     /* a find must not be what reclaims them */
        ck_assert_ptr_null(cache_item_find(c, key, strlen(key), NULL));
        c->now = T_NOW + 5;
    }
    t_check_stats(c);

    /* an empty cache: the crawler stops */
    cache_items_flush(c, 0);
    cache_items_crawl(c, 1000);
    ck_assert_uint_eq(c->stats.curr_items, 0);
    ck_assert_uint_eq(cache_items_crawl(c, 1000), 0);

    t_close(c);
}
END_TEST


/* ---- the hash table ------------------------------------------------------- */

#define T_MANY   300000      /* past 4 per bucket of the first 2^16 */

START_TEST(test_hash_growth)
{
    cache_t  *c;
    char      key[32], val[32];
    int       i;

    c = t_open(64 * T_MIB, T_MIB);

    for (i = 0; i < T_MANY; i++) {
        snprintf(key, sizeof(key), "key:%d", i);
        snprintf(val, sizeof(val), "%d", i);
        ck_assert_int_eq(t_set(c, key, val), OB_OK);
    }
    {
        ob_hash_stats_t  hs;

        ob_hash_stats(&c->hash, &hs);
        ck_assert_uint_gt(hs.power, 16);
    }
    ck_assert_uint_eq(c->stats.curr_items, T_MANY);
    ck_assert_uint_eq(c->stats.evictions, 0);

    for (i = 0; i < T_MANY; i++) {
        snprintf(key, sizeof(key), "key:%d", i);
        snprintf(val, sizeof(val), "%d", i);
        if (!t_has(c, key, val)) {
            ck_abort_msg("%s lost after growth", key);
        }
    }
    t_check_stats(c);

    t_close(c);
}
END_TEST


/* ---- the API of cache.h --------------------------------------------------- */

START_TEST(test_api)
{
    cache_t     *c;
    const void  *v;
    size_t       len;
    uint32_t     flags;
    uint64_t     cas, cas2;
    char         big[2000];

    c = t_open(4 * T_MIB, 64 * T_KIB);

    ck_assert_int_eq(cache_get(c, "a", 1, &v, &len, &flags, &cas),
                     CACHE_NOT_FOUND);
    ck_assert_int_eq(cache_set(c, "a", 1, "hello", 5, 42, 0, 0, &cas), OB_OK);
    ck_assert_int_eq(cache_get(c, "a", 1, &v, &len, &flags, &cas2), OB_OK);
    ck_assert_uint_eq(len, 5);
    ck_assert(memcmp(v, "hello", 5) == 0);
    ck_assert_uint_eq(flags, 42);
    ck_assert_uint_eq(cas, cas2);
    ck_assert_uint_eq(c->stats.cmd_get, 2);
    ck_assert_uint_eq(c->stats.get_hits, 1);
    ck_assert_uint_eq(c->stats.get_misses, 1);

    /* cas through the API */
    ck_assert_int_eq(cache_set(c, "a", 1, "x", 1, 0, 0, cas + 7, NULL),
                     CACHE_EXISTS);
    ck_assert_int_eq(cache_set(c, "b", 1, "x", 1, 0, 0, 3, NULL),
                     CACHE_NOT_FOUND);
    ck_assert_int_eq(cache_set(c, "a", 1, "", 0, 0, 0, cas, &cas2), OB_OK);
    ck_assert_int_eq(cache_get(c, "a", 1, &v, &len, NULL, NULL), OB_OK);
    ck_assert_uint_eq(len, 0);

    /* touch and delete */
    ck_assert_int_eq(cache_touch(c, "a", 1, 100), OB_OK);
    ck_assert_int_eq(cache_item_ttl(c, t_find(c, "a")), 100);
    ck_assert_int_eq(cache_touch(c, "zz", 2, 100), CACHE_NOT_FOUND);
    ck_assert_uint_eq(c->stats.touch_hits, 1);
    ck_assert_uint_eq(c->stats.touch_misses, 1);
    ck_assert_int_eq(cache_delete(c, "a", 1), OB_OK);
    ck_assert_int_eq(cache_delete(c, "a", 1), CACHE_NOT_FOUND);
    ck_assert_uint_eq(c->stats.delete_hits, 1);
    ck_assert_uint_eq(c->stats.delete_misses, 1);

    /* expired at once */
    ck_assert_int_eq(cache_set(c, "e", 1, "x", 1, 0, -1, 0, NULL), OB_OK);
    ck_assert_int_eq(cache_get(c, "e", 1, NULL, NULL, NULL, NULL),
                     CACHE_NOT_FOUND);
    ck_assert_uint_eq(c->stats.get_expired, 1);

    /* too large: refused, and a set drops the old value */
    ck_assert_int_eq(cache_set(c, "t", 1, "old", 3, 0, 0, 0, NULL), OB_OK);
    c->max_item_size = 1000;
    memset(big, 'x', sizeof(big));
    ck_assert_int_eq(cache_set(c, "t", 1, big, sizeof(big), 0, 0, 0, NULL),
                     CACHE_TOO_LARGE);
    ck_assert_uint_eq(c->stats.store_too_large, 1);
    ck_assert_int_eq(cache_get(c, "t", 1, NULL, NULL, NULL, NULL),
                     CACHE_NOT_FOUND);
    ck_assert_int_eq(cache_set(c, "t", 1, big, (size_t) -1, 0, 0, 0, NULL),
                     CACHE_TOO_LARGE);

    /* bad keys and a disabled cache */
    ck_assert_int_eq(cache_get(c, "", 0, NULL, NULL, NULL, NULL), OB_ERR);
    ck_assert_int_eq(cache_get(NULL, "a", 1, NULL, NULL, NULL, NULL), OB_ERR);
    t_check_stats(c);

    t_close(c);
}
END_TEST


/*
 * References (replies pointing into an item): a referenced item that is
 * unlinked, replaced or flushed stays readable and in the arena until its
 * last release, and an incr does not rewrite its bytes in place.  Large
 * values (more than half a page) are arena blocks of their own, so the
 * arena's large_bytes shows exactly when one is freed.
 */
/*
 * An upload whose page is given up while its block arrives (the mover
 * finds it busy, so the page drains) moves to a live page once the block is
 * in (cache_item_settle), and the page can go to the pool.  The debug
 * arena simulates pages: nothing drains there and settle keeps the item.
 */
START_TEST(test_settle_upload_off_draining_page)
{
    cache_t                 *c;
    cache_item_t            *up, *it;
    unsigned                 id;
    size_t                   size;
    int                      why;
#ifndef OB_DEBUG_ARENA
    ob_arena_class_stats_t   cs;
    int                      i, rc;
#endif

    c = t_open(T_MIB, 64 * T_KIB);
    why = 0;
    up = cache_item_alloc(c, "up0", 3, 0, 0, 1000, &why);
    ck_assert_ptr_nonnull(up);
    size = CACHE_ITEM_asize(c, CACHE_ITEM_total(up));
    id = ob_arena_class_of(c->arena, size);
    t_fill(c, 300, 1000);                   /* "ev0".."ev299": about 5 pages */
    it = t_find(c, "ev10");
    ck_assert_ptr_nonnull(it);
    ck_assert_uint_eq(ob_arena_class_of(c->arena,
                          CACHE_ITEM_asize(c, CACHE_ITEM_total(it))), id);

#ifndef OB_DEBUG_ARENA
    for (i = 0; i < 16 && !ob_arena_chunk_is_draining(c->arena, up, size);
         i++)
    {
        rc = ob_arena_page_move(c->arena, c->owner, id, OB_ARENA_POOL);
        ck_assert_msg(rc == OB_OK || rc == OB_BUSY, "page_move: %d", rc);
    }
    ck_assert(ob_arena_chunk_is_draining(c->arena, up, size));
    ck_assert_int_eq(ob_arena_class_stats(c->arena, id, &cs), OB_OK);
    ck_assert_uint_eq(cs.draining_pages, 1);

    memset(CACHE_ITEM_value(up), 'u', 1000);
    it = cache_item_settle(c, up);
    ck_assert_ptr_ne(it, up);
    ck_assert(!ob_arena_chunk_is_draining(c->arena, it, size));
    ck_assert_int_eq(ob_arena_class_stats(c->arena, id, &cs), OB_OK);
    ck_assert_uint_eq(cs.draining_pages, 0);
#else
    memset(CACHE_ITEM_value(up), 'u', 1000);
    it = cache_item_settle(c, up);
    ck_assert_ptr_eq(it, up);
#endif

    ck_assert_int_eq(cache_store_item(c, it, CACHE_OP_SET, 0, NULL), OB_OK);
    it = t_find(c, "up0");
    ck_assert_ptr_nonnull(it);
    ck_assert_uint_eq(it->nbytes, 1000);
    ck_assert(CACHE_ITEM_value(it)[0] == 'u' && CACHE_ITEM_value(it)[999] == 'u');
    t_check_stats(c);

    t_close(c);
}
END_TEST


START_TEST(test_refcount)
{
    cache_t           *c;
    cache_item_t      *it, *it2;
    ob_arena_stats_t   st;
    char               big[600 * 1024];
    size_t             before;
    uint64_t           v;

    c = t_open(16 * T_MIB, T_MIB);
    memset(big, 'r', sizeof(big));
    big[sizeof(big) - 1] = '\0';

    ob_arena_stats(c->arena, &st);
    before = st.large_bytes;
    ck_assert_int_eq(t_set(c, "r", big), OB_OK);
    it = t_find(c, "r");
    ck_assert_ptr_nonnull(it);
    cache_item_ref(c, it);
    cache_item_ref(c, it);

    /* deleted while referenced: gone from the table, not freed */
    cache_item_unlink(c, it);
    ck_assert_ptr_null(t_find(c, "r"));
    ob_arena_stats(c->arena, &st);
    ck_assert_uint_gt(st.large_bytes, before);
    ck_assert_int_eq(memcmp(CACHE_ITEM_value(it), big, 100), 0);
    t_check_stats(c);

    cache_item_release(c, it);
    ob_arena_stats(c->arena, &st);
    ck_assert_uint_gt(st.large_bytes, before);
    cache_item_release(c, it);          /* the last one frees it */
    ob_arena_stats(c->arena, &st);
    ck_assert_uint_eq(st.large_bytes, before);

    /* replaced while referenced: the new value is found, the old one
     * stays intact for its reader */
    ck_assert_int_eq(t_set(c, "r", big), OB_OK);
    it = t_find(c, "r");
    cache_item_ref(c, it);
    big[0] = 'n';
    ck_assert_int_eq(t_set(c, "r", big), OB_OK);
    it2 = t_find(c, "r");
    ck_assert_ptr_ne(it, it2);
    ck_assert_int_eq(CACHE_ITEM_value(it)[0], 'r');
    ck_assert_int_eq(CACHE_ITEM_value(it2)[0], 'n');
    t_check_stats(c);
    cache_item_release(c, it);

    /* flushed while referenced, then met by a lookup: unlinked only */
    it = t_find(c, "r");
    cache_item_ref(c, it);
    cache_items_flush(c, 0);
    ck_assert_ptr_null(t_find(c, "r"));
    ck_assert_int_eq(CACHE_ITEM_value(it)[0], 'n');
    cache_item_release(c, it);
    ob_arena_stats(c->arena, &st);
    ck_assert_uint_eq(st.large_bytes, before);

    /* incr of a referenced number: a new item, the old bytes unchanged */
    ck_assert_int_eq(t_set(c, "n", "100"), OB_OK);
    it = t_find(c, "n");
    cache_item_ref(c, it);
    ck_assert_int_eq(cache_store_incr(c, "n", 1, 0, 1, 0, &v, NULL), OB_OK);
    ck_assert_uint_eq(v, 99);
    ck_assert_int_eq(memcmp(CACHE_ITEM_value(it), "100", 3), 0);
    it2 = t_find(c, "n");
    ck_assert_ptr_ne(it, it2);
    ck_assert_int_eq(memcmp(CACHE_ITEM_value(it2), "99", 2), 0);
    ck_assert_uint_eq(it2->nbytes, 2);
    cache_item_release(c, it);
    t_check_stats(c);

    t_close(c);
}
END_TEST


Suite *
cache_items_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("cache_items");

    tc = tcase_create("items");
    tcase_add_test(tc, test_link_find_bump_unlink);
    tcase_add_test(tc, test_replace_keeps_one);
    tcase_add_test(tc, test_cas_increments);
    tcase_add_test(tc, test_refcount);
    tcase_add_test(tc, test_settle_upload_off_draining_page);
    tcase_add_test(tc, test_item_size);
    suite_add_tcase(s, tc);

    tc = tcase_create("time");
    tcase_add_test(tc, test_exptime_rel);
    tcase_add_test(tc, test_flush_now);
    tcase_add_test(tc, test_flush_delay);
    tcase_add_test(tc, test_flush_delay_clock);
    tcase_add_test(tc, test_crawler);
    suite_add_tcase(s, tc);

    tc = tcase_create("memory");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_lru_eviction);
    tcase_add_test(tc, test_expired_reclaimed_before_eviction);
    tcase_add_test(tc, test_other_owner_evicts);
    tcase_add_test(tc, test_too_large);
    tcase_add_test(tc, test_hash_growth);
    suite_add_tcase(s, tc);

    tc = tcase_create("store");
    tcase_add_test(tc, test_store_ops);
    tcase_add_test(tc, test_store_cas);
    tcase_add_test(tc, test_append_evicts_old);
    tcase_add_loop_test(tc, test_incr_cases, 0,
                        (int) (sizeof(t_incr_cases) / sizeof(t_incr_cases[0])));
    tcase_add_test(tc, test_incr_misc);
    tcase_add_test(tc, test_incr_grow_evicts_old);
    tcase_add_test(tc, test_api);
    suite_add_tcase(s, tc);

    return s;
}
