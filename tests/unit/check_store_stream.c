/*
 * check_store_stream.c: unit tests of store/store_stream.c: IDs, appends
 * across node boundaries, forward and reverse ranges, deletion, trimming
 * (exact and approximate, MAXLEN and MINID), consumer groups and their
 * PELs, copies, and that every byte goes back to the arena.
 */
#include "check_suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ob_arena.h"
#include "store/store_stream.h"

#define T_MIB   (1024 * 1024)
#define T_STR(s) { sizeof(s) - 1, (const uint8_t *) (s) }


typedef struct t_fix_s {
    ob_arena_t  *a;
    int          owner;
} t_fix_t;


static void
t_fix_init(t_fix_t *f, size_t limit)
{
    ob_arena_conf_t  conf;
    char             err[256];

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
    ob_arena_owner_stats_t  os;

    ck_assert_int_eq(ob_arena_owner_stats(f->a, f->owner, &os), OB_OK);
    ck_assert_uint_eq(os.bytes, 0);
    ob_arena_destroy(f->a);
}


/* Appends ms-seq with one pair "f<ms>" -> value of vlen bytes. */
static int
t_add(store_stream_t *s, uint64_t ms, uint64_t seq, size_t vlen)
{
    static uint8_t  v[8192];
    char            f[32];
    ob_str_t        fv[2];
    store_sid_t     id = { ms, seq };

    fv[0].len = (size_t) snprintf(f, sizeof(f), "f%llu",
                                  (unsigned long long) ms);
    fv[0].data = (const uint8_t *) f;
    memset(v, 'v', vlen);
    fv[1].len = vlen;
    fv[1].data = v;
    return store_stream_append(s, &id, fv, 2);
}


/* Collects the ms of entries in [lo, hi]; returns the count. */
static size_t
t_range(const store_stream_t *s, uint64_t lo, uint64_t hi, int rev,
        uint64_t *out, size_t max)
{
    store_stream_iter_t  it;
    store_sentry_t       e;
    store_sid_t          min = { lo, 0 }, max_id = { hi, UINT64_MAX };
    size_t               n = 0;

    store_stream_iter_start(s, &it, &min, &max_id, rev);
    while (store_stream_iter_next(&it, &e)) {
        if (n < max) {
            out[n] = e.id.ms;
        }
        n++;
    }
    return n;
}


START_TEST(test_stream_ids)
{
    store_sid_t  id;
    char         buf[STORE_SID_MAX];
    int          given;

    ck_assert_int_eq(store_sid_parse("12-3", 4, 0, &id, &given), OB_OK);
    ck_assert(id.ms == 12 && id.seq == 3 && given == 1);
    ck_assert_int_eq(store_sid_parse("12", 2, UINT64_MAX, &id, &given), OB_OK);
    ck_assert(id.ms == 12 && id.seq == UINT64_MAX && given == 0);
    ck_assert_int_eq(store_sid_parse("18446744073709551615-"
                                     "18446744073709551615", 41, 0, &id,
                                     NULL), OB_OK);
    ck_assert(id.ms == UINT64_MAX && id.seq == UINT64_MAX);
    ck_assert_int_eq(store_sid_format(&id, buf), 41);
    ck_assert_str_eq(buf, "18446744073709551615-18446744073709551615");
    ck_assert_int_eq(store_sid_incr(&id), OB_ERR);
    ck_assert_int_eq(store_sid_parse("18446744073709551616", 20, 0, &id, NULL),
                     OB_ERR);
    ck_assert_int_eq(store_sid_parse("1-", 2, 0, &id, NULL), OB_ERR);
    ck_assert_int_eq(store_sid_parse("-1", 2, 0, &id, NULL), OB_ERR);
    ck_assert_int_eq(store_sid_parse("a", 1, 0, &id, NULL), OB_ERR);
    ck_assert_int_eq(store_sid_parse("", 0, 0, &id, NULL), OB_ERR);
    id.ms = 5;
    id.seq = 0;
    ck_assert_int_eq(store_sid_decr(&id), OB_OK);
    ck_assert(id.ms == 4 && id.seq == UINT64_MAX);
    ck_assert_int_eq(store_sid_format(&id, buf), 22);
}
END_TEST


START_TEST(test_stream_append_range)
{
    t_fix_t          f;
    store_stream_t  *s;
    uint64_t         out[2000];
    size_t           i, n;
    store_sentry_t   e;
    const uint8_t   *b, *v;
    size_t           len, vlen;
    store_spairs_t   pairs;
    store_sid_t      id;

    t_fix_init(&f, 64 * T_MIB);
    s = store_stream_new(f.a, f.owner);
    ck_assert_ptr_nonnull(s);
    /* varied sizes: small ones fill 100-entry nodes, big ones 4 KiB nodes,
     * and one bigger than a node gets a node of its own */
    for (i = 1; i <= 1000; i++) {
        ck_assert_int_eq(t_add(s, i * 10, 0, i == 500 ? 6000 : i % 97), OB_OK);
    }
    ck_assert_uint_eq(s->length, 1000);
    ck_assert_uint_gt(store_stream_nodes(s), 10);
    n = t_range(s, 0, UINT64_MAX, 0, out, 2000);
    ck_assert_uint_eq(n, 1000);
    for (i = 0; i < n; i++) {
        ck_assert_uint_eq(out[i], (i + 1) * 10);
    }
    n = t_range(s, 0, UINT64_MAX, 1, out, 2000);
    ck_assert_uint_eq(n, 1000);
    for (i = 0; i < n; i++) {
        ck_assert_uint_eq(out[i], (1000 - i) * 10);
    }
    n = t_range(s, 2995, 3020, 0, out, 10);
    ck_assert_uint_eq(n, 3);
    ck_assert(out[0] == 3000 && out[1] == 3010 && out[2] == 3020);
    n = t_range(s, 2995, 3020, 1, out, 10);
    ck_assert(n == 3 && out[0] == 3020 && out[2] == 3000);
    ck_assert_uint_eq(t_range(s, 3001, 3009, 0, out, 10), 0);
    ck_assert_uint_eq(t_range(s, 3001, 3009, 1, out, 10), 0);
    ck_assert_uint_eq(t_range(s, 10001, UINT64_MAX, 1, out, 10), 0);

    id.ms = 5000;
    id.seq = 0;
    ck_assert_int_eq(store_stream_lookup(s, &id, &e), 1);
    ck_assert_uint_eq(e.nfields, 1);
    store_sentry_pairs(&e, &pairs);
    store_spairs_next(&pairs, &b, &len, &v, &vlen);
    ck_assert_uint_eq(len, 5);
    ck_assert_int_eq(memcmp(b, "f5000", 5), 0);
    ck_assert_uint_eq(vlen, 6000);
    id.ms = 5001;
    ck_assert_int_eq(store_stream_lookup(s, &id, &e), 0);

    ck_assert_int_eq(store_stream_edge(s, 0, &id), 1);
    ck_assert_uint_eq(id.ms, 10);
    ck_assert_int_eq(store_stream_edge(s, 1, &id), 1);
    ck_assert_uint_eq(id.ms, 10000);
    ck_assert_uint_gt(store_stream_bytes(s), 10000);
    store_stream_destroy(s);
    t_fix_fini(&f);
}
END_TEST


/* Entries with the node's first fields store only values (SAMEFIELDS);
 * others keep their own; both read back the same way. */
START_TEST(test_stream_samefields)
{
    t_fix_t          f;
    store_stream_t  *s;
    store_stream_iter_t  it;
    store_sentry_t   e;
    store_spairs_t   pairs;
    const uint8_t   *b, *v;
    size_t           len, vlen, i, n = 0;
    store_sid_t      id, lo = { 0, 0 }, hi = { UINT64_MAX, UINT64_MAX };
    const ob_str_t   fv1[4] = { T_STR("name"), T_STR("ann"), T_STR("age"),
                                T_STR("7") };
    const ob_str_t   fv2[2] = { T_STR("other"), T_STR("") };
    size_t           bytes_same, bytes_diff;

    t_fix_init(&f, 64 * T_MIB);
    s = store_stream_new(f.a, f.owner);
    for (i = 1; i <= 300; i++) {
        id.ms = i;
        id.seq = 7;
        if (i % 3 == 0) {
            ck_assert_int_eq(store_stream_append(s, &id, fv2, 2), OB_OK);
        } else {
            ck_assert_int_eq(store_stream_append(s, &id, fv1, 4), OB_OK);
        }
    }
    store_stream_iter_start(s, &it, &lo, &hi, 1);
    while (store_stream_iter_next(&it, &e)) {
        n++;
        store_sentry_pairs(&e, &pairs);
        if (e.id.ms % 3 == 0) {
            ck_assert_uint_eq(e.nfields, 1);
            store_spairs_next(&pairs, &b, &len, &v, &vlen);
            ck_assert(len == 5 && memcmp(b, "other", 5) == 0 && vlen == 0);
        } else {
            ck_assert_uint_eq(e.nfields, 2);
            store_spairs_next(&pairs, &b, &len, &v, &vlen);
            ck_assert(len == 4 && memcmp(b, "name", 4) == 0);
            ck_assert(vlen == 3 && memcmp(v, "ann", 3) == 0);
            store_spairs_next(&pairs, &b, &len, &v, &vlen);
            ck_assert(len == 3 && memcmp(b, "age", 3) == 0);
            ck_assert(vlen == 1 && memcmp(v, "7", 1) == 0);
        }
        ck_assert_uint_eq(e.id.seq, 7);
    }
    ck_assert_uint_eq(n, 300);
    store_stream_destroy(s);

    /* the same fields cost less than changing ones */
    s = store_stream_new(f.a, f.owner);
    for (i = 1; i <= 1000; i++) {
        id.ms = i;
        ck_assert_int_eq(store_stream_append(s, &id, fv1, 4), OB_OK);
    }
    bytes_same = store_stream_bytes(s);
    store_stream_destroy(s);
    s = store_stream_new(f.a, f.owner);
    for (i = 1; i <= 1000; i++) {
        id.ms = i;
        ck_assert_int_eq(store_stream_append(s, &id, i % 2 ? fv1 : fv2,
                                             i % 2 ? 4 : 2), OB_OK);
    }
    bytes_diff = store_stream_bytes(s);
    store_stream_destroy(s);
    /* about 13 bytes an entry of name/age, index and headers included */
    ck_assert_uint_lt(bytes_same, 1000 * 16);
    ck_assert_uint_gt(bytes_diff, 0);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_stream_delete)
{
    t_fix_t          f;
    store_stream_t  *s;
    uint64_t         out[300];
    size_t           i, nodes;
    store_sid_t      id;

    t_fix_init(&f, 64 * T_MIB);
    s = store_stream_new(f.a, f.owner);
    for (i = 1; i <= 250; i++) {
        ck_assert_int_eq(t_add(s, i, 0, 1), OB_OK);
    }
    nodes = store_stream_nodes(s);
    ck_assert_uint_eq(nodes, 3);
    id.seq = 0;
    id.ms = 1;
    ck_assert_int_eq(store_stream_delete(s, &id), 1);
    ck_assert_int_eq(store_stream_delete(s, &id), 0);
    ck_assert_uint_eq(s->first_id.ms, 2);
    ck_assert_uint_eq(s->max_deleted.ms, 1);
    /* empty the middle node: it goes */
    for (i = 101; i <= 200; i++) {
        id.ms = i;
        ck_assert_int_eq(store_stream_delete(s, &id), 1);
    }
    ck_assert_uint_eq(store_stream_nodes(s), 2);
    ck_assert_uint_eq(s->length, 149);
    ck_assert_uint_eq(t_range(s, 0, UINT64_MAX, 0, out, 300), 149);
    ck_assert_uint_eq(out[98], 100);
    ck_assert_uint_eq(out[99], 201);
    ck_assert_uint_eq(t_range(s, 0, UINT64_MAX, 1, out, 300), 149);
    ck_assert_uint_eq(out[49], 201);
    ck_assert_uint_eq(out[50], 100);
    ck_assert_uint_eq(s->last_id.ms, 250);
    ck_assert_uint_eq(s->entries_added, 250);
    store_stream_destroy(s);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_stream_trim)
{
    t_fix_t          f;
    store_stream_t  *s;
    uint64_t         out[600];
    size_t           i;
    store_sid_t      id;

    t_fix_init(&f, 64 * T_MIB);
    s = store_stream_new(f.a, f.owner);
    for (i = 1; i <= 550; i++) {
        ck_assert_int_eq(t_add(s, i, 0, 1), OB_OK);
    }
    /* approximate: whole nodes only */
    ck_assert_uint_eq(store_stream_trim(s, STORE_STREAM_TRIM_MAXLEN, 420, NULL,
                                        1, 0), 100);
    ck_assert_uint_eq(s->length, 450);
    ck_assert_uint_eq(s->first_id.ms, 101);
    /* LIMIT stops before a node that would go past it */
    ck_assert_uint_eq(store_stream_trim(s, STORE_STREAM_TRIM_MAXLEN, 0, NULL,
                                        1, 150), 100);
    ck_assert_uint_eq(s->length, 350);
    /* exact */
    ck_assert_uint_eq(store_stream_trim(s, STORE_STREAM_TRIM_MAXLEN, 345, NULL,
                                        0, 0), 5);
    ck_assert_uint_eq(s->first_id.ms, 206);
    ck_assert_uint_eq(t_range(s, 0, UINT64_MAX, 0, out, 600), 345);
    ck_assert_uint_eq(out[0], 206);
    /* MINID exact and approximate */
    id.ms = 310;
    id.seq = 0;
    ck_assert_uint_eq(store_stream_trim(s, STORE_STREAM_TRIM_MINID, 0, &id,
                                        1, 0), 95);
    ck_assert_uint_eq(s->first_id.ms, 301);
    ck_assert_uint_eq(store_stream_trim(s, STORE_STREAM_TRIM_MINID, 0, &id,
                                        0, 0), 9);
    ck_assert_uint_eq(s->first_id.ms, 310);
    ck_assert_uint_eq(s->length, 241);
    ck_assert_uint_eq(store_stream_trim(s, STORE_STREAM_TRIM_MAXLEN, 0, NULL,
                                        0, 0), 241);
    ck_assert_uint_eq(s->length, 0);
    ck_assert_uint_eq(store_stream_nodes(s), 0);
    ck_assert_uint_eq(t_range(s, 0, UINT64_MAX, 1, out, 600), 0);
    /* and it takes appends again */
    ck_assert_int_eq(t_add(s, 1000, 0, 3), OB_OK);
    ck_assert_uint_eq(t_range(s, 0, UINT64_MAX, 1, out, 600), 1);
    store_stream_destroy(s);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_stream_groups)
{
    t_fix_t             f;
    store_stream_t     *s, *d;
    store_sgroup_t     *g, *g2;
    store_sconsumer_t  *c1, *c2;
    store_snack_t      *n;
    store_smap_iter_t   it;
    store_sid_t         id, zero = { 0, 0 };
    void               *val;
    size_t              i, cnt;

    t_fix_init(&f, 64 * T_MIB);
    s = store_stream_new(f.a, f.owner);
    for (i = 1; i <= 10; i++) {
        ck_assert_int_eq(t_add(s, i, 0, 1), OB_OK);
    }
    g = store_stream_group_create(s, "g2", 2, &zero, 0);
    ck_assert_ptr_nonnull(g);
    ck_assert_ptr_null(store_stream_group_create(s, "g2", 2, &zero, 0));
    g2 = store_stream_group_create(s, "g1", 2, &zero, 0);
    ck_assert_ptr_eq(s->groups[0], g2);
    ck_assert_ptr_eq(store_stream_group_find(s, "g2", 2), g);
    ck_assert_ptr_null(store_stream_group_find(s, "g", 1));

    c2 = store_sgroup_consumer_create(s, g, "bob", 3, 5);
    c1 = store_sgroup_consumer_create(s, g, "alice", 5, 5);
    ck_assert_ptr_eq(g->consumers[0], c1);
    ck_assert_ptr_eq(store_sgroup_consumer_find(g, "bob", 3), c2);

    /* 1000 pending entries in a random order, half each */
    for (i = 0; i < 1000; i++) {
        id.ms = (i * 7919) % 1000 + 1;
        id.seq = 0;
        n = store_sgroup_pel_add(s, g, id.ms % 2 ? c1 : c2, &id, 100);
        ck_assert_ptr_nonnull(n);
    }
    ck_assert_uint_eq(store_sgroup_pel_count(g), 1000);
    ck_assert_uint_eq(store_sconsumer_pel_count(c1), 500);
    store_smap_seek(g->pel, &zero, &it);
    cnt = 0;
    while (store_smap_next(&it, &id, &val)) {
        cnt++;
        ck_assert_uint_eq(id.ms, cnt);
    }
    ck_assert_uint_eq(cnt, 1000);
    ck_assert_int_eq(store_smap_last(g->pel, &id), 1);
    ck_assert_uint_eq(id.ms, 1000);
    id.ms = 501;
    store_smap_seek(c2->pel, &id, &it);
    ck_assert_int_eq(store_smap_next(&it, &id, &val), 1);
    ck_assert_uint_eq(id.ms, 502);

    /* ack, move */
    id.ms = 3;
    ck_assert_int_eq(store_sgroup_pel_ack(s, g, &id), 1);
    ck_assert_int_eq(store_sgroup_pel_ack(s, g, &id), 0);
    ck_assert_uint_eq(store_sconsumer_pel_count(c1), 499);
    id.ms = 5;
    n = store_sgroup_pel_find(g, &id);
    ck_assert_ptr_eq(n->consumer, c1);
    ck_assert_int_eq(store_sgroup_pel_move(s, g, &id, n, c2), OB_OK);
    ck_assert_ptr_eq(n->consumer, c2);
    ck_assert_uint_eq(store_sconsumer_pel_count(c1), 498);
    ck_assert_uint_eq(store_sconsumer_pel_count(c2), 501);

    d = store_stream_copy(s);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->ngroups, 2);
    ck_assert_uint_eq(store_sgroup_pel_count(d->groups[1]), 999);
    ck_assert_uint_gt(store_stream_bytes(d), 999 * 2 * 24);
    store_stream_destroy(d);

    ck_assert_uint_eq(store_sgroup_consumer_delete(s, g, c1), 498);
    ck_assert_uint_eq(store_sgroup_pel_count(g), 501);
    ck_assert_uint_eq(g->nconsumers, 1);
    store_stream_group_destroy(s, g2);
    ck_assert_uint_eq(s->ngroups, 1);
    store_stream_destroy(s);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_stream_oom)
{
    t_fix_t          f;
    store_stream_t  *s;
    size_t           i, added = 0;

    t_fix_init(&f, 256 * 1024);
    s = store_stream_new(f.a, f.owner);
    ck_assert_ptr_nonnull(s);
    for (i = 1; i <= 100000; i++) {
        if (t_add(s, i, 0, 100) != OB_OK) {
            break;
        }
        added++;
    }
    ck_assert_uint_lt(added, 100000);
    ck_assert_uint_eq(s->length, added);
    ck_assert_uint_eq(s->entries_added, added);
    store_stream_destroy(s);
    t_fix_fini(&f);
}
END_TEST


Suite *
store_stream_suite(void)
{
    Suite  *su = suite_create("store_stream");
    TCase  *tc = tcase_create("stream");

    tcase_add_test(tc, test_stream_ids);
    tcase_add_test(tc, test_stream_append_range);
    tcase_add_test(tc, test_stream_samefields);
    tcase_add_test(tc, test_stream_delete);
    tcase_add_test(tc, test_stream_trim);
    tcase_add_test(tc, test_stream_groups);
    tcase_add_test(tc, test_stream_oom);
    suite_add_tcase(su, tc);
    return su;
}
