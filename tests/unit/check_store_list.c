/*
 * check_store_list.c: unit tests of store/store_list.c (the quicklist):
 * pushes and pops at both ends across node boundaries, indexes from either
 * end, iteration both ways with deletion, inserts that split full nodes,
 * range deletion, LSET, copies and memory figures, and the promise that a
 * refused allocation leaves the list as it was.  A randomized test runs
 * the same operations on the list and on a plain array and compares them
 * after every step (with the list's own invariant check).
 */
#include "check_suites.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ob_arena.h"
#include "store/store_list.h"

#define T_MIB   (1024 * 1024)


/* ---- fixture --------------------------------------------------------------- */

typedef struct t_fix_s {
    ob_arena_t   *a;
    int           owner;
} t_fix_t;


static void
t_fix_init(t_fix_t *f, size_t limit)
{
    ob_arena_conf_t  conf;
    char             err[256];

    memset(f, 0, sizeof(*f));
    conf.limit = limit;
    conf.page_size = 64 * 1024;
    conf.min_chunk = 96;
    conf.growth_factor = 1.25;
    f->a = ob_arena_new(&conf, err, sizeof(err));
    ck_assert_msg(f->a != NULL, "ob_arena_new: %s", err);
    f->owner = ob_arena_owner_add(f->a, "store");
    ck_assert_int_ge(f->owner, 0);
}


static void
t_fix_fini(t_fix_t *f)
{
    ob_arena_owner_stats_t  st;

    /* everything the tests built was freed: nothing leaks in the arena */
    ck_assert_int_eq(ob_arena_owner_stats(f->a, f->owner, &st), OB_OK);
    ck_assert_uint_eq(st.bytes, 0);
    ob_arena_destroy(f->a);
}


/* Element `id` as bytes: every fifth an integer (stored as one by the
 * listpack), the others strings of 1 to 200 bytes. */
static size_t
t_elem(long id, char *buf, size_t cap)
{
    int  n;

    if (id % 5 == 0) {
        n = snprintf(buf, cap, "%ld", id * 7919 - 1000000);
        return (size_t) n;
    }
    n = snprintf(buf, cap, "e%ld:", id);
    while ((size_t) n < (size_t) (id % 200) && (size_t) n < cap - 1) {
        buf[n++] = 'x';
    }
    buf[n] = '\0';
    return (size_t) n;
}


static int
t_is(const uint8_t *p, size_t len, long id)
{
    char    buf[256];
    size_t  n = t_elem(id, buf, sizeof(buf));

    return n == len && memcmp(p, buf, n) == 0;
}


/* The id an element's bytes were made from (see t_elem). */
static long
t_id(const uint8_t *p, size_t len)
{
    char  buf[32];

    if (len > 0 && p[0] == 'e') {
        return strtol((const char *) p + 1, NULL, 10);
    }
    ck_assert_uint_lt(len, sizeof(buf));
    memcpy(buf, p, len);
    buf[len] = '\0';
    return (strtol(buf, NULL, 10) + 1000000) / 7919;
}


static void
t_push_id(t_fix_t *f, store_list_t *l, long id, int where)
{
    char    buf[256];
    size_t  n = t_elem(id, buf, sizeof(buf));

    ck_assert_int_eq(store_list_push(f->a, f->owner, l, buf, n, where), OB_OK);
}


/* The list holds exactly ids[0..n), read both ways and by index. */
static void
t_expect(store_list_t *l, const long *ids, size_t n)
{
    store_list_iter_t   it;
    const uint8_t      *p;
    size_t              len, i;
    char                buf[STORE_LIST_INTBUF];

    ck_assert_msg(store_list_check(l), "list invariants");
    ck_assert_uint_eq(store_list_len(l), n);
    i = 0;
    for (store_list_iter_init(l, 0, STORE_LIST_TAIL, &it);
         store_list_iter_get(&it, buf, &p, &len); store_list_iter_next(&it))
    {
        ck_assert_uint_lt(i, n);
        ck_assert_msg(t_is(p, len, ids[i]), "forward %zu", i);
        i++;
    }
    ck_assert_uint_eq(i, n);
    for (store_list_iter_init(l, -1, STORE_LIST_HEAD, &it);
         store_list_iter_get(&it, buf, &p, &len); store_list_iter_next(&it))
    {
        ck_assert_uint_gt(i, 0);
        i--;
        ck_assert_msg(t_is(p, len, ids[i]), "backward %zu", i);
    }
    ck_assert_uint_eq(i, 0);
}


/* ---- tests ------------------------------------------------------------------ */

START_TEST(test_list_push_pop)
{
    t_fix_t         f;
    store_list_t   *l;
    const uint8_t  *p;
    size_t          len, nodes;
    long            i;
    char            buf[STORE_LIST_INTBUF];

    t_fix_init(&f, 16 * T_MIB);
    l = store_list_new(f.a, f.owner);
    ck_assert_ptr_nonnull(l);
    ck_assert_ptr_null(store_list_peek(l, STORE_LIST_HEAD, buf, &len));
    ck_assert_int_eq(store_list_pop(f.a, f.owner, l, STORE_LIST_TAIL), OB_OK);

    /* 1 .. 3000 at the tail, -1 .. -3000 at the head */
    for (i = 1; i <= 3000; i++) {
        t_push_id(&f, l, i, STORE_LIST_TAIL);
        t_push_id(&f, l, -i, STORE_LIST_HEAD);
    }
    ck_assert(store_list_check(l));
    ck_assert_uint_eq(store_list_len(l), 6000);
    nodes = l->nnodes;
    ck_assert_uint_gt(nodes, 4);          /* several 8 KiB nodes */
    p = store_list_peek(l, STORE_LIST_HEAD, buf, &len);
    ck_assert(t_is(p, len, -3000));
    p = store_list_peek(l, STORE_LIST_TAIL, buf, &len);
    ck_assert(t_is(p, len, 3000));

    for (i = 3000; i >= 1; i--) {
        p = store_list_peek(l, STORE_LIST_TAIL, buf, &len);
        ck_assert(t_is(p, len, i));
        ck_assert_int_eq(store_list_pop(f.a, f.owner, l, STORE_LIST_TAIL),
                         OB_OK);
        p = store_list_peek(l, STORE_LIST_HEAD, buf, &len);
        ck_assert(t_is(p, len, -i));
        ck_assert_int_eq(store_list_pop(f.a, f.owner, l, STORE_LIST_HEAD),
                         OB_OK);
    }
    ck_assert(store_list_check(l));
    ck_assert_uint_eq(store_list_len(l), 0);
    ck_assert_uint_eq(l->nnodes, 0);
    ck_assert_ptr_null(l->head);
    store_list_destroy(f.a, f.owner, l);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_list_node_sizes)
{
    t_fix_t             f;
    store_list_t       *l;
    store_list_node_t  *node;
    char                big[20000];
    long                i;

    t_fix_init(&f, 16 * T_MIB);
    l = store_list_new(f.a, f.owner);
    for (i = 0; i < 2000; i++) {
        t_push_id(&f, l, i, i % 2 ? STORE_LIST_HEAD : STORE_LIST_TAIL);
    }
    memset(big, 'b', sizeof(big));
    ck_assert_int_eq(store_list_push(f.a, f.owner, l, big, sizeof(big),
                                     STORE_LIST_TAIL), OB_OK);
    ck_assert_int_eq(store_list_push(f.a, f.owner, l, "z", 1,
                                     STORE_LIST_TAIL), OB_OK);
    ck_assert(store_list_check(l));
    /* every node is within 8 KiB but one that holds a single big element,
     * and the small element after the big one got a node of its own */
    for (node = l->head; node != NULL; node = node->next) {
        ck_assert(store_lp_bytes(node->lp) <= STORE_LIST_NODE_MAX
                  || node->count == 1);
    }
    ck_assert_uint_eq(l->tail->count, 1);
    ck_assert_uint_eq(l->tail->prev->count, 1);
    store_list_destroy(f.a, f.owner, l);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_list_index_and_set)
{
    t_fix_t             f;
    store_list_t       *l;
    store_list_iter_t   it;
    const uint8_t      *p;
    size_t              len;
    long                i, ids[4000];
    char                buf[STORE_LIST_INTBUF], eb[256];

    t_fix_init(&f, 16 * T_MIB);
    l = store_list_new(f.a, f.owner);
    for (i = 0; i < 4000; i++) {
        ids[i] = i;
        t_push_id(&f, l, i, STORE_LIST_TAIL);
    }
    for (i = 0; i < 4000; i += 37) {
        store_list_iter_init(l, i, STORE_LIST_TAIL, &it);
        ck_assert(store_list_iter_get(&it, buf, &p, &len));
        ck_assert(t_is(p, len, i));
        store_list_iter_init(l, -1 - i, STORE_LIST_TAIL, &it);
        ck_assert(store_list_iter_get(&it, buf, &p, &len));
        ck_assert(t_is(p, len, 3999 - i));
    }
    store_list_iter_init(l, 4000, STORE_LIST_TAIL, &it);
    ck_assert(!store_list_iter_get(&it, buf, &p, &len));
    store_list_iter_init(l, -4001, STORE_LIST_TAIL, &it);
    ck_assert(!store_list_iter_get(&it, buf, &p, &len));
    store_list_iter_init(l, LLONG_MIN, STORE_LIST_TAIL, &it);
    ck_assert(!store_list_iter_get(&it, buf, &p, &len));

    /* LSET, with values longer and shorter than before */
    for (i = 0; i < 4000; i += 13) {
        ids[i] = 100000 + i;
        len = t_elem(ids[i], eb, sizeof(eb));
        ck_assert_int_eq(store_list_set(f.a, f.owner, l, i, eb, len), OB_OK);
    }
    len = t_elem(7, eb, sizeof(eb));
    ck_assert_int_eq(store_list_set(f.a, f.owner, l, -1, eb, len), OB_OK);
    ids[3999] = 7;
    ck_assert_int_eq(store_list_set(f.a, f.owner, l, 4000, "x", 1),
                     OB_DECLINED);
    ck_assert_int_eq(store_list_set(f.a, f.owner, l, -4001, "x", 1),
                     OB_DECLINED);
    t_expect(l, ids, 4000);
    store_list_destroy(f.a, f.owner, l);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_list_insert_split)
{
    t_fix_t             f;
    store_list_t       *l;
    store_list_iter_t   it;
    long                ids[2000], id = 50000;
    size_t              n = 0, i, at, len;
    int                 after;
    char                eb[256];

    t_fix_init(&f, 16 * T_MIB);
    l = store_list_new(f.a, f.owner);
    for (i = 0; i < 600; i++) {
        ids[n++] = (long) i * 5 + 199;      /* strings of ~200 bytes */
        t_push_id(&f, l, ids[n - 1], STORE_LIST_TAIL);
    }
    /* inserts at every place of the first nodes, before and after: node
     * middles split, node edges go to a neighbour or a new node */
    for (at = 0; at < 200; at += 3) {
        for (after = 0; after < 2; after++) {
            store_list_iter_init(l, (long long) at, STORE_LIST_TAIL, &it);
            len = t_elem(id, eb, sizeof(eb));
            ck_assert_int_eq(store_list_iter_insert(f.a, f.owner, &it, after,
                                                    eb, len), OB_OK);
            memmove(&ids[at + after + 1], &ids[at + after],
                    (n - at - after) * sizeof(long));
            ids[at + after] = id++;
            n++;
            ck_assert(store_list_check(l));
        }
    }
    /* and at the very ends */
    store_list_iter_init(l, -1, STORE_LIST_TAIL, &it);
    len = t_elem(id, eb, sizeof(eb));
    ck_assert_int_eq(store_list_iter_insert(f.a, f.owner, &it, 1, eb, len),
                     OB_OK);
    ids[n++] = id++;
    store_list_iter_init(l, 0, STORE_LIST_TAIL, &it);
    len = t_elem(id, eb, sizeof(eb));
    ck_assert_int_eq(store_list_iter_insert(f.a, f.owner, &it, 0, eb, len),
                     OB_OK);
    memmove(&ids[1], &ids[0], n * sizeof(long));
    ids[0] = id++;
    n++;
    t_expect(l, ids, n);
    store_list_destroy(f.a, f.owner, l);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_list_iter_del)
{
    t_fix_t             f;
    store_list_t       *l;
    store_list_iter_t   it;
    long                ids[3000], keep[3000];
    size_t              n = 0, k, i;
    int                 dir;

    t_fix_init(&f, 16 * T_MIB);
    for (dir = 0; dir < 2; dir++) {
        l = store_list_new(f.a, f.owner);
        for (i = 0; i < 3000; i++) {
            ids[i] = (long) i;
            t_push_id(&f, l, ids[i], STORE_LIST_TAIL);
        }
        n = 3000;
        /* delete every element whose id % 3 != 1 walking one way (whole
         * runs of nodes empty out on the way) */
        store_list_iter_init(l, dir == STORE_LIST_TAIL ? 0 : -1, dir, &it);
        while (it.node != NULL) {
            const uint8_t  *p;
            size_t          len;
            char            buf[STORE_LIST_INTBUF];
            long            id;

            ck_assert(store_list_iter_get(&it, buf, &p, &len));
            id = t_id(p, len);
            ck_assert(t_is(p, len, id));
            if (id % 3 != 1 || (id > 900 && id < 2100)) {
                ck_assert_int_eq(store_list_iter_del(f.a, f.owner, &it), OB_OK);
            } else {
                store_list_iter_next(&it);
            }
        }
        for (i = 0, k = 0; i < n; i++) {
            if (!(ids[i] % 3 != 1 || (ids[i] > 900 && ids[i] < 2100))) {
                keep[k++] = ids[i];
            }
        }
        t_expect(l, keep, k);
        store_list_destroy(f.a, f.owner, l);
    }
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_list_del_range)
{
    t_fix_t        f;
    store_list_t  *l;
    long           ids[5000];
    size_t         n, i;

    t_fix_init(&f, 16 * T_MIB);
    l = store_list_new(f.a, f.owner);
    for (i = 0; i < 5000; i++) {
        ids[i] = (long) i;
        t_push_id(&f, l, ids[i], STORE_LIST_TAIL);
    }
    n = 5000;
    ck_assert_int_eq(store_list_del_range(f.a, f.owner, l, 5000, 10), OB_OK);
    ck_assert_int_eq(store_list_del_range(f.a, f.owner, l, 10, 0), OB_OK);
    t_expect(l, ids, n);
    /* the middle, spanning many nodes */
    ck_assert_int_eq(store_list_del_range(f.a, f.owner, l, 1234, 2000), OB_OK);
    memmove(&ids[1234], &ids[3234], (n - 3234) * sizeof(long));
    n -= 2000;
    t_expect(l, ids, n);
    /* a clamped count from near the end */
    ck_assert_int_eq(store_list_del_range(f.a, f.owner, l, n - 3,
                                          (size_t) -1), OB_OK);
    n -= 3;
    /* the head */
    ck_assert_int_eq(store_list_del_range(f.a, f.owner, l, 0, 100), OB_OK);
    memmove(&ids[0], &ids[100], (n - 100) * sizeof(long));
    n -= 100;
    t_expect(l, ids, n);
    ck_assert_int_eq(store_list_del_range(f.a, f.owner, l, 0, n), OB_OK);
    t_expect(l, ids, 0);
    store_list_destroy(f.a, f.owner, l);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_list_obj_copy_mem)
{
    t_fix_t        f;
    store_obj_t   *o, *d;
    store_list_t  *l;
    long           ids[1000];
    size_t         i, mem;

    t_fix_init(&f, 16 * T_MIB);
    o = store_list_obj_new(f.a, f.owner);
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(store_obj_encoding_name(o), "quicklist");
    ck_assert_str_eq(store_obj_type_name(o), "list");
    l = store_list_of(o);
    for (i = 0; i < 1000; i++) {
        ids[i] = (long) i;
        t_push_id(&f, l, ids[i], STORE_LIST_TAIL);
    }
    mem = store_obj_mem(f.a, o);
    ck_assert_uint_gt(mem, 1000 * 50);
    ck_assert_uint_lt(mem, 1000 * 200);

    d = store_obj_dup(f.a, f.owner, o);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(store_obj_encoding_name(d), "quicklist");
    ck_assert_uint_eq(store_obj_mem(f.a, d), mem);
    store_obj_free(f.a, f.owner, o);          /* the copy is independent */
    t_expect(store_list_of(d), ids, 1000);
    store_obj_free(f.a, f.owner, d);
    t_fix_fini(&f);
}
END_TEST


/*
 * Out of memory: in a tiny arena, push until the arena refuses; the
 * refused push changed nothing.  Then inserts into full nodes and copies
 * fail cleanly the same way.
 */
START_TEST(test_list_oom)
{
    t_fix_t             f;
    store_list_t       *l, *copies[64];
    store_list_iter_t   it;
    long                ids[20000];
    size_t              n = 0, len, k;
    long                id;
    int                 rc = OB_OK, fails = 0;
    char                eb[256];

    t_fix_init(&f, 256 * 1024);
    l = store_list_new(f.a, f.owner);
    ck_assert_ptr_nonnull(l);
    for (id = 0; id < 20000; id++) {
        len = t_elem(id, eb, sizeof(eb));
        rc = store_list_push(f.a, f.owner, l, eb, len,
                             id % 2 ? STORE_LIST_HEAD : STORE_LIST_TAIL);
        if (rc != OB_OK) {
            break;
        }
        if (id % 2) {
            memmove(&ids[1], &ids[0], n * sizeof(long));
            ids[0] = id;
        } else {
            ids[n] = id;
        }
        n++;
    }
    ck_assert_int_eq(rc, OB_ERR);
    t_expect(l, ids, n);

    /* inserts in the middle of full nodes need a copy of the node: with
     * the arena full they fail and change nothing; those that fit go into
     * the model too */
    for (id = 30000; id < 30200; id++) {
        size_t  at = n / 2 + (size_t) (id % 50);
        int     after = (int) (id % 2);

        store_list_iter_init(l, (long long) at, STORE_LIST_TAIL, &it);
        len = t_elem(id, eb, sizeof(eb));
        if (store_list_iter_insert(f.a, f.owner, &it, after, eb, len)
            != OB_OK)
        {
            fails++;
            continue;
        }
        at += (size_t) after;
        memmove(&ids[at + 1], &ids[at], (n - at) * sizeof(long));
        ids[at] = id;
        n++;
    }
    (void) fails;
    t_expect(l, ids, n);

    /* copies until the arena refuses one: the refused copy leaves
     * nothing behind (the fixture checks the arena is empty at the end) */
    for (k = 0; k < 64; k++) {
        copies[k] = store_list_copy(f.a, f.owner, l);
        if (copies[k] == NULL) {
            break;
        }
        t_expect(copies[k], ids, n);
    }
    ck_assert_uint_lt(k, 64);
    while (k > 0) {
        store_list_destroy(f.a, f.owner, copies[--k]);
    }
    t_expect(l, ids, n);
    store_list_destroy(f.a, f.owner, l);
    t_fix_fini(&f);
}
END_TEST


/* The list against an array model, random operations, every step checked. */
START_TEST(test_list_random_model)
{
    t_fix_t             f;
    store_list_t       *l;
    store_list_iter_t   it;
    long               *ids;
    size_t              n = 0, cap = 20000, i, at, k, len;
    long                next = 1;
    unsigned            seed = 20260501u + (unsigned) _i;
    int                 step, op, after;
    char                eb[256];

    t_fix_init(&f, 64 * T_MIB);
    ids = malloc(cap * sizeof(long));
    ck_assert_ptr_nonnull(ids);
    l = store_list_new(f.a, f.owner);

    for (step = 0; step < 3000; step++) {
        op = rand_r(&seed) % 100;
        if (op < 35 && n + 40 < cap) {
            /* a burst of pushes at one end */
            int where = rand_r(&seed) % 2;

            for (k = 1 + (size_t) (rand_r(&seed) % 30); k > 0; k--) {
                t_push_id(&f, l, next, where);
                if (where == STORE_LIST_HEAD) {
                    memmove(&ids[1], &ids[0], n * sizeof(long));
                    ids[0] = next;
                } else {
                    ids[n] = next;
                }
                n++;
                next++;
            }
        } else if (op < 50 && n > 0) {
            int where = rand_r(&seed) % 2;

            ck_assert_int_eq(store_list_pop(f.a, f.owner, l, where), OB_OK);
            if (where == STORE_LIST_HEAD) {
                memmove(&ids[0], &ids[1], (n - 1) * sizeof(long));
            }
            n--;
        } else if (op < 65 && n > 0 && n + 1 < cap) {
            at = (size_t) rand_r(&seed) % n;
            after = rand_r(&seed) % 2;
            store_list_iter_init(l, (long long) at, STORE_LIST_TAIL, &it);
            len = t_elem(next, eb, sizeof(eb));
            ck_assert_int_eq(store_list_iter_insert(f.a, f.owner, &it, after,
                                                    eb, len), OB_OK);
            at += (size_t) after;
            memmove(&ids[at + 1], &ids[at], (n - at) * sizeof(long));
            ids[at] = next++;
            n++;
        } else if (op < 75 && n > 0) {
            at = (size_t) rand_r(&seed) % n;
            len = t_elem(next, eb, sizeof(eb));
            ck_assert_int_eq(store_list_set(f.a, f.owner, l,
                                            rand_r(&seed) % 2
                                            ? (long long) at
                                            : (long long) at - (long long) n,
                                            eb, len), OB_OK);
            ids[at] = next++;
        } else if (op < 85 && n > 0) {
            at = (size_t) rand_r(&seed) % n;
            k = (size_t) rand_r(&seed) % 200;
            ck_assert_int_eq(store_list_del_range(f.a, f.owner, l, at, k),
                             OB_OK);
            if (k > n - at) {
                k = n - at;
            }
            memmove(&ids[at], &ids[at + k], (n - at - k) * sizeof(long));
            n -= k;
        } else if (n > 0) {
            /* LREM-like: drop ids with a given residue, some direction */
            long  m = 2 + rand_r(&seed) % 9, r = rand_r(&seed) % m;
            int   dir = rand_r(&seed) % 2;
            size_t j;

            store_list_iter_init(l, dir == STORE_LIST_TAIL ? 0 : -1, dir, &it);
            i = dir == STORE_LIST_TAIL ? 0 : n - 1;
            while (it.node != NULL) {
                long  id = ids[i];

                if (id % m == r) {
                    ck_assert_int_eq(store_list_iter_del(f.a, f.owner, &it),
                                     OB_OK);
                    memmove(&ids[i], &ids[i + 1], (n - i - 1) * sizeof(long));
                    n--;
                    if (dir == STORE_LIST_TAIL) {
                        continue;
                    }
                } else {
                    store_list_iter_next(&it);
                    if (dir == STORE_LIST_TAIL) {
                        i++;
                        continue;
                    }
                }
                if (i == 0) {
                    break;
                }
                i--;
            }
            ck_assert_ptr_null(it.node);
            for (j = 0; j < n; j++) {
                ck_assert_int_ne(ids[j] % m, r);
            }
        }
        ck_assert_msg(store_list_check(l), "step %d op %d", step, op);
        ck_assert_uint_eq(store_list_len(l), n);
        if (step % 50 == 0) {
            t_expect(l, ids, n);
        }
    }
    t_expect(l, ids, n);
    store_list_destroy(f.a, f.owner, l);
    free(ids);
    t_fix_fini(&f);
}
END_TEST


Suite *
store_list_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("store_list");
    tc = tcase_create("quicklist");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_list_push_pop);
    tcase_add_test(tc, test_list_node_sizes);
    tcase_add_test(tc, test_list_index_and_set);
    tcase_add_test(tc, test_list_insert_split);
    tcase_add_test(tc, test_list_iter_del);
    tcase_add_test(tc, test_list_del_range);
    tcase_add_test(tc, test_list_obj_copy_mem);
    tcase_add_test(tc, test_list_oom);
    tcase_add_loop_test(tc, test_list_random_model, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}
