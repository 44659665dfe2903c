/*
 * check_store_set.c: unit tests of store/store_intset.c (Redis's byte
 * layout, upgrades, sorted order) and store/store_set.c (the two
 * encodings, the conversions at 512 entries and on a non-integer member,
 * positions and swaps for random picks, SSCAN's guarantee, copies, memory
 * accounting, and out-of-memory leaving the set unchanged).
 */
#include "check_suites.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ob_arena.h"
#include "store/store_int.h"
#include "store/store_intset.h"
#include "store/store_object.h"
#include "store/store_set.h"

#include "check_store_util.h"


/* ---- fixture ----------------------------------------------------------- */

/* A small deterministic generator (the tests must repeat). */
static uint64_t
t_rand(uint64_t *s)
{
    uint64_t  z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}


static int
t_add(t_fix_t *f, store_obj_t *o, const char *m)
{
    int  added = -1;

    ck_assert_int_eq(store_set_add(f->a, f->owner, o, m, strlen(m), &added),
                     OB_OK);
    return added;
}


static int
t_has(store_obj_t *o, const char *m)
{
    return store_set_contains(o, m, strlen(m));
}


static const char *
t_enc(const store_obj_t *o)
{
    return store_obj_encoding_name(o);
}


/* ---- intset ------------------------------------------------------------ */

START_TEST(test_intset_layout)
{
    t_fix_t   f;
    uint8_t  *is;
    size_t    alloc;
    int       added;
    static const uint8_t  want16[] = {
        2, 0, 0, 0,  3, 0, 0, 0,  0xfb, 0xff,  1, 0,  5, 0
    };
    static const uint8_t  want32[] = {
        4, 0, 0, 0,  4, 0, 0, 0,  0xfb, 0xff, 0xff, 0xff,  1, 0, 0, 0,
        5, 0, 0, 0,  0x70, 0x11, 0x01, 0x00
    };

    t_fix_init(&f, 4 * T_MIB, 65536);
    is = store_intset_new(f.a, f.owner, &alloc);
    ck_assert_ptr_nonnull(is);
    ck_assert_uint_eq(alloc, 8);
    ck_assert_uint_eq(store_intset_len(is), 0);
    ck_assert_uint_eq(store_intset_encoding(is), 2);
    ck_assert(!store_intset_find(is, 0, NULL));

    ck_assert_int_eq(store_intset_add(f.a, f.owner, &is, &alloc, 5, &added),
                     OB_OK);
    ck_assert_int_eq(added, 1);
    ck_assert_int_eq(store_intset_add(f.a, f.owner, &is, &alloc, -5, &added),
                     OB_OK);
    ck_assert_int_eq(store_intset_add(f.a, f.owner, &is, &alloc, 1, &added),
                     OB_OK);
    ck_assert_int_eq(store_intset_add(f.a, f.owner, &is, &alloc, 1, &added),
                     OB_OK);
    ck_assert_int_eq(added, 0);
    ck_assert_uint_eq(alloc, sizeof(want16));
    ck_assert_uint_eq(store_intset_blob_len(is), sizeof(want16));
    ck_assert_mem_eq(is, want16, sizeof(want16));

    /* 70000 needs 4 bytes: every element is rewritten wider */
    ck_assert_int_eq(store_intset_add(f.a, f.owner, &is, &alloc, 70000,
                                      &added), OB_OK);
    ck_assert_int_eq(added, 1);
    ck_assert_uint_eq(store_intset_blob_len(is), sizeof(want32));
    ck_assert_mem_eq(is, want32, sizeof(want32));

    /* a negative upgrade goes to the front */
    ck_assert_int_eq(store_intset_add(f.a, f.owner, &is, &alloc,
                                      INT64_MIN, &added), OB_OK);
    ck_assert_uint_eq(store_intset_encoding(is), 8);
    ck_assert_uint_eq(store_intset_len(is), 5);
    ck_assert_int_eq(store_intset_get(is, 0), INT64_MIN);
    ck_assert_int_eq(store_intset_get(is, 1), -5);
    ck_assert_int_eq(store_intset_get(is, 4), 70000);
    ck_assert_int_eq(store_intset_add(f.a, f.owner, &is, &alloc,
                                      INT64_MAX, &added), OB_OK);
    ck_assert_int_eq(store_intset_get(is, 5), INT64_MAX);

    /* removals never downgrade (Redis does not either) */
    ck_assert_int_eq(store_intset_remove(f.a, f.owner, &is, &alloc,
                                         INT64_MIN), 1);
    ck_assert_int_eq(store_intset_remove(f.a, f.owner, &is, &alloc,
                                         INT64_MAX), 1);
    ck_assert_int_eq(store_intset_remove(f.a, f.owner, &is, &alloc, 12), 0);
    ck_assert_uint_eq(store_intset_encoding(is), 8);
    ck_assert_uint_eq(store_intset_len(is), 4);
    ck_assert(store_intset_find(is, 70000, NULL));
    ck_assert(!store_intset_find(is, INT64_MAX, NULL));
    ck_assert_uint_eq(alloc, 8 + 4 * 8);

    store_intset_free(f.a, f.owner, is, alloc);
    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


static int
t_cmp_ll(const void *x, const void *y)
{
    long long  a = *(const long long *) x, b = *(const long long *) y;

    return (a > b) - (a < b);
}


/* Random adds and removes against a plain sorted array. */
START_TEST(test_intset_model)
{
    t_fix_t    f;
    uint8_t   *is;
    size_t     alloc, n = 0, i, j;
    long long  ref[600], v;
    uint64_t   seed = 42;
    int        added, round, had;
    static const long long  scale[] = { 100, 40000, 5000000000LL };

    t_fix_init(&f, 4 * T_MIB, 65536);
    is = store_intset_new(f.a, f.owner, &alloc);
    ck_assert_ptr_nonnull(is);

    for (round = 0; round < 20000; round++) {
        v = (long long) (t_rand(&seed) % (2 * scale[round / 7000] + 1))
            - scale[round / 7000];
        if (n >= 590 || (n > 0 && t_rand(&seed) % 4 == 0)) {
            v = ref[t_rand(&seed) % n];      /* hit members too */
        }
        had = 0;
        for (i = 0; i < n; i++) {
            if (ref[i] == v) {
                had = 1;
                break;
            }
        }
        if (t_rand(&seed) % 3 != 0 && n < 600) {
            ck_assert_int_eq(store_intset_add(f.a, f.owner, &is, &alloc, v,
                                              &added), OB_OK);
            ck_assert_int_eq(added, !had);
            if (!had) {
                ref[n++] = v;
            }
        } else {
            ck_assert_int_eq(store_intset_remove(f.a, f.owner, &is, &alloc,
                                                 v), had);
            if (had) {
                ref[i] = ref[--n];
            }
        }
        ck_assert_uint_eq(store_intset_len(is), n);
    }
    qsort(ref, n, sizeof(ref[0]), t_cmp_ll);
    for (j = 0; j < n; j++) {
        ck_assert_int_eq(store_intset_get(is, (uint32_t) j), ref[j]);
    }
    ck_assert_uint_eq(store_intset_encoding(is), 8);
    store_intset_free(f.a, f.owner, is, alloc);
    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


/* ---- the set object ---------------------------------------------------- */

START_TEST(test_set_intset_limit)
{
    t_fix_t      f;
    store_obj_t *o;
    char         m[32];
    int          i;
    store_set_elem_t  e;

    t_fix_init(&f, 16 * T_MIB, 65536);
    o = store_set_new_for(f.a, f.owner, "7", 1);
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(t_enc(o), "intset");
    ck_assert_str_eq(store_obj_type_name(o), "set");

    for (i = 512; i >= 1; i--) {
        snprintf(m, sizeof(m), "%d", i);
        ck_assert_int_eq(t_add(&f, o, m), 1);
    }
    ck_assert_uint_eq(store_set_size(o), 512);
    ck_assert_str_eq(t_enc(o), "intset");
    ck_assert_int_eq(t_add(&f, o, "512"), 0);
    ck_assert_str_eq(t_enc(o), "intset");
    /* positions are the sorted order */
    store_set_get(o, 0, &e);
    ck_assert_ptr_null(e.p);
    ck_assert_int_eq(e.ll, 1);
    store_set_get(o, 511, &e);
    ck_assert_int_eq(e.ll, 512);

    /* the 513th converts, and every member survives */
    ck_assert_int_eq(t_add(&f, o, "-1"), 1);
    ck_assert_str_eq(t_enc(o), "hashtable");
    ck_assert_uint_eq(store_set_size(o), 513);
    for (i = 1; i <= 512; i++) {
        snprintf(m, sizeof(m), "%d", i);
        ck_assert(t_has(o, m));
    }
    ck_assert(t_has(o, "-1"));
    ck_assert(!t_has(o, "0"));

    /* removals never turn it back */
    for (i = 1; i <= 512; i++) {
        snprintf(m, sizeof(m), "%d", i);
        ck_assert_int_eq(store_set_remove(f.a, f.owner, o, m, strlen(m)), 1);
    }
    ck_assert_str_eq(t_enc(o), "hashtable");
    ck_assert_uint_eq(store_set_size(o), 1);

    store_obj_free(f.a, f.owner, o);
    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


START_TEST(test_set_non_integer)
{
    t_fix_t      f;
    store_obj_t *o;
    store_set_elem_t  e;
    long long    ll;
    static const char *const  not_ints[] = {
        "a", "01", "+1", " 1", "1 ", "-0", "1.5", "", "9223372036854775808"
    };
    size_t       i;

    t_fix_init(&f, 16 * T_MIB, 65536);
    for (i = 0; i < sizeof(not_ints) / sizeof(not_ints[0]); i++) {
        o = store_set_new(f.a, f.owner, 1);
        ck_assert_ptr_nonnull(o);
        ck_assert_int_eq(t_add(&f, o, "1"), 1);
        ck_assert_int_eq(t_add(&f, o, "9223372036854775807"), 1);
        ck_assert_str_eq(t_enc(o), "intset");
        ck_assert(!t_has(o, not_ints[i]));
        ck_assert_int_eq(store_set_remove(f.a, f.owner, o, not_ints[i],
                                          strlen(not_ints[i])), 0);
        ck_assert_int_eq(t_add(&f, o, not_ints[i]), 1);
        ck_assert_msg(strcmp(t_enc(o), "hashtable") == 0, "%s", not_ints[i]);
        ck_assert(t_has(o, not_ints[i]));
        ck_assert(t_has(o, "1"));
        ck_assert(t_has(o, "9223372036854775807"));
        ck_assert_uint_eq(store_set_size(o), 3);
        store_obj_free(f.a, f.owner, o);
    }

    /* setTypeCreate's choice */
    o = store_set_new_for(f.a, f.owner, "x", 1);
    ck_assert_str_eq(t_enc(o), "hashtable");
    ck_assert_int_eq(t_add(&f, o, "x"), 1);
    ck_assert_int_eq(t_add(&f, o, "5"), 1);
    ck_assert_str_eq(t_enc(o), "hashtable");
    /* elements of a hashtable are bytes; integers are recognised */
    store_set_get(o, 1, &e);
    ck_assert_ptr_nonnull(e.p);
    ck_assert(store_set_elem_ll(&e, &ll));
    ck_assert_int_eq(ll, 5);
    store_obj_free(f.a, f.owner, o);

    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


/* A large hashtable set against a model; positions stay consistent
 * through removals and swaps. */
START_TEST(test_set_hashtable_model)
{
    t_fix_t      f;
    store_obj_t *o;
    char         m[32], buf[STORE_OBJ_INTBUF];
    unsigned char *ref;
    size_t       i, n = 0, len, seen;
    uint64_t     seed = 7, r;
    store_set_elem_t  e;
    const char  *p;

    t_fix_init(&f, 64 * T_MIB, 1 << 20);
    ref = calloc(20000, 1);
    ck_assert_ptr_nonnull(ref);
    o = store_set_new(f.a, f.owner, 0);
    ck_assert_ptr_nonnull(o);
    for (i = 0; i < 100000; i++) {
        r = t_rand(&seed) % 20000;
        snprintf(m, sizeof(m), "m:%llu", (unsigned long long) r);
        if (t_rand(&seed) % 4 != 0) {
            ck_assert_int_eq(t_add(&f, o, m), !ref[r]);
            n += !ref[r];
            ref[r] = 1;
        } else if (t_rand(&seed) % 2 == 0) {
            ck_assert_int_eq(store_set_remove(f.a, f.owner, o, m, strlen(m)),
                             ref[r]);
            n -= ref[r];
            ref[r] = 0;
        } else if (n > 1) {
            store_set_swap(o, t_rand(&seed) % n, t_rand(&seed) % n);
            /* remove a member by position, as SPOP does */
            store_set_get(o, n - 1, &e);
            snprintf(m, sizeof(m), "%.*s", (int) e.len, e.p);
            ck_assert_int_eq(sscanf(m, "m:%zu", &len), 1);
            ref[len] = 0;
            store_set_remove_at(f.a, f.owner, o, n - 1);
            n--;
        }
        ck_assert_uint_eq(store_set_size(o), n);
    }
    ck_assert_str_eq(t_enc(o), "hashtable");

    /* every position holds a distinct member that the model has */
    seen = 0;
    for (i = 0; i < n; i++) {
        store_set_get(o, i, &e);
        p = store_set_elem_bytes(&e, buf, &len);
        ck_assert_ptr_eq(p, e.p);
        ck_assert(store_set_contains(o, p, len));
        ck_assert(store_set_contains_elem(o, &e));
        snprintf(m, sizeof(m), "%.*s", (int) len, p);
        ck_assert_int_eq(sscanf(m, "m:%zu", &len), 1);
        ck_assert_int_eq(ref[len], 1);
        ref[len] = 2;
        seen++;
    }
    ck_assert_uint_eq(seen, n);

    while (store_set_size(o) > 0) {
        store_set_remove_at(f.a, f.owner, o, 0);
    }
    store_obj_free(f.a, f.owner, o);
    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    free(ref);
    t_fix_done(&f);
}
END_TEST


START_TEST(test_set_elem_cross)
{
    t_fix_t      f;
    store_obj_t *iset, *hset, *dst;
    store_set_elem_t  e;
    int          added;

    t_fix_init(&f, 16 * T_MIB, 65536);
    iset = store_set_new(f.a, f.owner, 1);
    hset = store_set_new(f.a, f.owner, 0);
    ck_assert_int_eq(t_add(&f, iset, "-42"), 1);
    ck_assert_int_eq(t_add(&f, hset, "-42"), 1);
    ck_assert_int_eq(t_add(&f, hset, "x"), 1);

    store_set_get(iset, 0, &e);
    ck_assert(store_set_contains_elem(hset, &e));
    store_set_get(hset, 1, &e);
    ck_assert(!store_set_contains_elem(iset, &e));
    store_set_get(hset, 0, &e);
    ck_assert(store_set_contains_elem(iset, &e));

    /* adding elements of either kind picks the encoding as SADD would */
    dst = store_set_new(f.a, f.owner, 1);
    store_set_get(iset, 0, &e);
    ck_assert_int_eq(store_set_add_elem(f.a, f.owner, dst, &e, &added), OB_OK);
    ck_assert_int_eq(added, 1);
    store_set_get(hset, 0, &e);
    ck_assert_int_eq(store_set_add_elem(f.a, f.owner, dst, &e, &added), OB_OK);
    ck_assert_int_eq(added, 0);
    ck_assert_str_eq(t_enc(dst), "intset");
    store_set_get(hset, 1, &e);
    ck_assert_int_eq(store_set_add_elem(f.a, f.owner, dst, &e, &added), OB_OK);
    ck_assert_int_eq(added, 1);
    ck_assert_str_eq(t_enc(dst), "hashtable");
    ck_assert(t_has(dst, "-42"));
    ck_assert(t_has(dst, "x"));

    store_obj_free(f.a, f.owner, iset);
    store_obj_free(f.a, f.owner, hset);
    store_obj_free(f.a, f.owner, dst);
    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


START_TEST(test_set_dup_mem_maybe_intset)
{
    t_fix_t      f;
    store_obj_t *o, *d;
    char         m[32];
    size_t       before, i;

    t_fix_init(&f, 16 * T_MIB, 65536);
    o = store_set_new(f.a, f.owner, 1);
    for (i = 0; i < 100; i++) {
        snprintf(m, sizeof(m), "%zu", i * 1000);
        t_add(&f, o, m);
    }
    before = t_owner_bytes(&f);
    ck_assert_uint_eq(store_obj_mem(f.a, o), before);
    d = store_obj_dup(f.a, f.owner, o);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(t_enc(d), "intset");
    ck_assert_uint_eq(t_owner_bytes(&f), 2 * before);
    ck_assert(t_has(d, "99000"));
    store_obj_free(f.a, f.owner, d);
    ck_assert_uint_eq(t_owner_bytes(&f), before);

    t_add(&f, o, "x");
    ck_assert_str_eq(t_enc(o), "hashtable");
    before = t_owner_bytes(&f);
    ck_assert_uint_eq(store_obj_mem(f.a, o), before);
    d = store_obj_dup(f.a, f.owner, o);
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(t_enc(d), "hashtable");
    ck_assert_uint_eq(store_set_size(d), 101);
    ck_assert_uint_eq(store_obj_mem(f.a, d), before);
    ck_assert(t_has(d, "x"));
    ck_assert(t_has(d, "0"));

    /* all integers again: SPOP's rebuilt set is an intset */
    ck_assert_int_eq(store_set_maybe_intset(f.a, f.owner, d), OB_OK);
    ck_assert_str_eq(t_enc(d), "hashtable");
    ck_assert_int_eq(store_set_remove(f.a, f.owner, d, "x", 1), 1);
    ck_assert_int_eq(store_set_maybe_intset(f.a, f.owner, d), OB_OK);
    ck_assert_str_eq(t_enc(d), "intset");
    ck_assert_uint_eq(store_set_size(d), 100);
    ck_assert(t_has(d, "99000"));
    store_obj_free(f.a, f.owner, d);

    store_obj_free(f.a, f.owner, o);
    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


/* RDB's intset bytes: out as they are, in after validation; more than
 * 512 members load as a hashtable. */
START_TEST(test_set_intset_blob)
{
    t_fix_t        f;
    store_obj_t   *o, *l;
    const uint8_t *blob;
    uint8_t        big[8 + 600 * 2], bad[16];
    size_t         len, i;
    int            isbad;
    static const uint8_t  want[] = {
        2, 0, 0, 0,  3, 0, 0, 0,  0xfb, 0xff,  1, 0,  5, 0
    };

    t_fix_init(&f, 16 * T_MIB, 65536);
    o = store_set_new(f.a, f.owner, 1);
    t_add(&f, o, "5");
    t_add(&f, o, "-5");
    t_add(&f, o, "1");
    blob = store_set_intset_blob(o, &len);
    ck_assert_ptr_nonnull(blob);
    ck_assert_uint_eq(len, sizeof(want));
    ck_assert_mem_eq(blob, want, sizeof(want));

    l = store_set_from_intset_blob(f.a, f.owner, want, sizeof(want), &isbad);
    ck_assert_ptr_nonnull(l);
    ck_assert_str_eq(t_enc(l), "intset");
    ck_assert_uint_eq(store_set_size(l), 3);
    ck_assert(t_has(l, "-5"));
    ck_assert_uint_eq(store_obj_mem(f.a, l), store_obj_mem(f.a, o));
    store_obj_free(f.a, f.owner, l);

    /* malformed: short, bad encoding, length mismatch, not ascending */
    ck_assert_ptr_null(store_set_from_intset_blob(f.a, f.owner, want, 7,
                                                  &isbad));
    ck_assert_int_eq(isbad, 1);
    memcpy(bad, want, sizeof(want));
    bad[0] = 3;
    ck_assert_ptr_null(store_set_from_intset_blob(f.a, f.owner, bad,
                                                  sizeof(want), &isbad));
    ck_assert_int_eq(isbad, 1);
    ck_assert_ptr_null(store_set_from_intset_blob(f.a, f.owner, want,
                                                  sizeof(want) - 2, &isbad));
    memcpy(bad, want, sizeof(want));
    bad[12] = 1;                          /* 1, 1: not strictly ascending */
    ck_assert_ptr_null(store_set_from_intset_blob(f.a, f.owner, bad,
                                                  sizeof(want), &isbad));
    ck_assert_int_eq(isbad, 1);

    /* 600 members (a server with a larger set-max-intset-entries) */
    big[0] = 2; big[1] = big[2] = big[3] = 0;
    big[4] = 600 & 0xff; big[5] = 600 >> 8; big[6] = big[7] = 0;
    for (i = 0; i < 600; i++) {
        big[8 + 2 * i] = (uint8_t) (i & 0xff);
        big[9 + 2 * i] = (uint8_t) (i >> 8);
    }
    l = store_set_from_intset_blob(f.a, f.owner, big, sizeof(big), &isbad);
    ck_assert_ptr_nonnull(l);
    ck_assert_str_eq(t_enc(l), "hashtable");
    ck_assert_uint_eq(store_set_size(l), 600);
    ck_assert(t_has(l, "599"));
    ck_assert_ptr_null(store_set_intset_blob(l, &len));
    store_obj_free(f.a, f.owner, l);

    store_obj_free(f.a, f.owner, o);
    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


typedef struct t_scan_s {
    unsigned char  *seen;
    size_t          calls;
} t_scan_t;


static void
t_scan_cb(void *arg, const store_set_elem_t *e)
{
    t_scan_t  *s = arg;
    char       m[32];
    size_t     k;

    ck_assert_ptr_nonnull(e->p);
    snprintf(m, sizeof(m), "%.*s", (int) e->len, e->p);
    ck_assert_int_eq(sscanf(m, "s%zu", &k), 1);
    s->seen[k] = 1;
    s->calls++;
}


/* Every member present for the whole scan is returned, while the set
 * grows through rehashes and loses other members. */
START_TEST(test_set_scan)
{
    t_fix_t      f;
    store_obj_t *o, *empty;
    char         m[32];
    size_t       i, steps = 0;
    uint64_t     cursor = 0;
    t_scan_t     s;

    t_fix_init(&f, 64 * T_MIB, 1 << 20);
    s.seen = calloc(40000, 1);
    s.calls = 0;
    o = store_set_new(f.a, f.owner, 0);
    for (i = 0; i < 10000; i++) {
        snprintf(m, sizeof(m), "s%zu", i);
        t_add(&f, o, m);
    }
    empty = store_set_new(f.a, f.owner, 1);
    ck_assert_uint_eq(store_set_scan(empty, 0, 10, t_scan_cb, &s), 0);
    store_obj_free(f.a, f.owner, empty);
    do {
        cursor = store_set_scan(o, cursor, 10, t_scan_cb, &s);
        /* grow with other members, remove odd ones above 5000 */
        for (i = 0; i < 3; i++, steps++) {
            snprintf(m, sizeof(m), "s%zu", 10000 + steps);
            if (10000 + steps < 40000) {
                t_add(&f, o, m);
            }
        }
        if (steps < 5000) {
            snprintf(m, sizeof(m), "s%zu", 5001 + 2 * steps);
            (void) store_set_remove(f.a, f.owner, o, m, strlen(m));
        }
    } while (cursor != 0);
    for (i = 0; i < 5000; i++) {
        ck_assert_msg(s.seen[i], "s%zu not scanned", i);
    }
    ck_assert_uint_gt(s.calls, 5000);
    store_obj_free(f.a, f.owner, o);
    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    free(s.seen);
    t_fix_done(&f);
}
END_TEST


/* With a small budget, adds fail and leave the set as it was: no member
 * lost, none half-added, and a failed conversion keeps the intset. */
START_TEST(test_set_oom)
{
    t_fix_t      f;
    store_obj_t *o, *pad;
    char         m[64];
    size_t       i, n = 0, fails = 0;
    int          added;

    t_fix_init(&f, 64 * 1024, 4096);
    o = store_set_new(f.a, f.owner, 0);
    ck_assert_ptr_nonnull(o);
    for (i = 0; i < 100000 && fails < 20; i++) {
        snprintf(m, sizeof(m), "member-with-some-length-%zu", i);
        if (store_set_add(f.a, f.owner, o, m, strlen(m), &added) != OB_OK) {
            fails++;
            ck_assert(!t_has(o, m));
        } else {
            ck_assert_int_eq(added, 1);
            n++;
        }
        ck_assert_uint_eq(store_set_size(o), n);
    }
    ck_assert_uint_gt(n, 100);
    ck_assert_uint_ge(fails, 20);
    for (i = 0; i < n + fails; i++) {
        snprintf(m, sizeof(m), "member-with-some-length-%zu", i);
        (void) store_set_remove(f.a, f.owner, o, m, strlen(m));
    }
    ck_assert_uint_eq(store_set_size(o), 0);
    store_obj_free(f.a, f.owner, o);
    ck_assert_uint_eq(t_owner_bytes(&f), 0);

    /* an intset that cannot become a hashtable stays an intset */
    o = store_set_new(f.a, f.owner, 1);
    for (i = 0; i < 400; i++) {
        snprintf(m, sizeof(m), "%zu", i);
        t_add(&f, o, m);
    }
    pad = store_set_new(f.a, f.owner, 0);
    for (i = 0; ; i++) {
        snprintf(m, sizeof(m), "padding-member-%zu-xxxxxxxxxxxxxxxxx", i);
        if (store_set_add(f.a, f.owner, pad, m, strlen(m), &added) != OB_OK) {
            break;
        }
    }
    ck_assert_int_eq(store_set_add(f.a, f.owner, o, "x", 1, &added), OB_ERR);
    ck_assert_str_eq(t_enc(o), "intset");
    ck_assert_uint_eq(store_set_size(o), 400);
    ck_assert(t_has(o, "399"));
    store_obj_free(f.a, f.owner, pad);
    ck_assert_int_eq(store_set_add(f.a, f.owner, o, "x", 1, &added), OB_OK);
    ck_assert_str_eq(t_enc(o), "hashtable");
    ck_assert_uint_eq(store_set_size(o), 401);
    store_obj_free(f.a, f.owner, o);
    ck_assert_uint_eq(t_owner_bytes(&f), 0);
    t_fix_done(&f);
}
END_TEST


Suite *
store_set_suite(void)
{
    Suite  *s;
    TCase  *tc;

    s = suite_create("store_set");

    tc = tcase_create("intset");
    tcase_add_test(tc, test_intset_layout);
    tcase_add_test(tc, test_intset_model);
    suite_add_tcase(s, tc);

    tc = tcase_create("set");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_set_intset_limit);
    tcase_add_test(tc, test_set_non_integer);
    tcase_add_test(tc, test_set_hashtable_model);
    tcase_add_test(tc, test_set_elem_cross);
    tcase_add_test(tc, test_set_dup_mem_maybe_intset);
    tcase_add_test(tc, test_set_intset_blob);
    tcase_add_test(tc, test_set_scan);
    tcase_add_test(tc, test_set_oom);
    suite_add_tcase(s, tc);

    return s;
}
