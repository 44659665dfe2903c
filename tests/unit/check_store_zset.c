/*
 * check_store_zset.c: unit tests of store/store_zset.c, the sorted set in
 * its two encodings: a random workload checked against a plain sorted
 * array (the model) after every step, for a listpack set and a skiplist
 * set; ranks, iterators by rank, score and lex range; range removals;
 * ZADD's flags; the listpack -> skiplist conversion at 129 members and at
 * a 65-byte member; the way back (store_zset_shrink); copies; every byte
 * returned to the arena.
 */
#include "check_suites.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ob_arena.h"
#include "store/store_object.h"
#include "store/store_int.h"
#include "store/store_zset.h"

#define T_MIB  (1024 * 1024)


/* ---- fixture and model ----------------------------------------------------- */

typedef struct t_fix_s {
    ob_arena_t  *a;
    int          owner;
} t_fix_t;


typedef struct t_el_s {
    char    ele[80];
    size_t  len;
    double  score;
} t_el_t;


static void
t_fix_init(t_fix_t *f)
{
    ob_arena_conf_t  conf;
    char             err[256];

    memset(&conf, 0, sizeof(conf));
    conf.limit = 64 * T_MIB;
    conf.page_size = 64 * 1024;
    conf.min_chunk = 48;
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


static void
t_zfree(t_fix_t *f, store_obj_t *o)
{
    store_zset_free(f->a, f->owner, o);
    store_obj_free(f->a, f->owner, o);
}


static int
t_cmp(const void *x, const void *y)
{
    const t_el_t  *a = x, *b = y;
    int            c;

    if (a->score != b->score) {
        return a->score < b->score ? -1 : 1;
    }
    c = memcmp(a->ele, b->ele, a->len < b->len ? a->len : b->len);
    if (c != 0) {
        return c;
    }
    return a->len < b->len ? -1 : (a->len > b->len ? 1 : 0);
}


/* The set equals the model m[0..n) (sorted here), in both directions,
 * and every rank and score answers as the model. */
static void
t_check(const store_obj_t *o, t_el_t *m, size_t n)
{
    store_zset_it_t  it;
    size_t           i;
    double           s;

    qsort(m, n, sizeof(*m), t_cmp);
    ck_assert_uint_eq(store_zset_len(o), n);
    i = 0;
    for (store_zset_it_rank(&it, o, 0, 0); store_zset_it_valid(&it);
         store_zset_it_next(&it))
    {
        ck_assert_uint_lt(i, n);
        ck_assert_uint_eq(it.len, m[i].len);
        ck_assert(memcmp(it.ele, m[i].ele, it.len) == 0);
        ck_assert(it.score == m[i].score);
        i++;
    }
    ck_assert_uint_eq(i, n);
    for (store_zset_it_rank(&it, o, 0, 1); store_zset_it_valid(&it);
         store_zset_it_next(&it))
    {
        i--;
        ck_assert(memcmp(it.ele, m[i].ele, it.len) == 0);
    }
    ck_assert_uint_eq(i, 0);
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(store_zset_rank(o, m[i].ele, m[i].len, 0, &s),
                         (long long) i);
        ck_assert(s == m[i].score);
        ck_assert_int_eq(store_zset_rank(o, m[i].ele, m[i].len, 1, NULL),
                         (long long) (n - 1 - i));
        store_zset_it_rank(&it, o, i, 0);
        ck_assert(store_zset_it_valid(&it));
        ck_assert(memcmp(it.ele, m[i].ele, it.len) == 0);
    }
}


/* A random workload of adds, updates and removals, checked against the
 * model after every step: members m0..m(range-1), small integer and
 * fractional scores (many ties, so the member order matters). */
static void
t_random(t_fix_t *f, size_t range, size_t steps, int enc)
{
    store_obj_t  *o;
    t_el_t       *m = calloc(range, sizeof(*m));
    size_t        n = 0, i, j, step;
    char          ele[80];
    size_t        len;
    double        score, ns;
    int           out;

    ck_assert_ptr_nonnull(m);
    o = store_zset_new(f->a, f->owner, enc == STORE_ENC_LISTPACK ? 0 : 1000,
                       0);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(o->encoding, enc);
    srandom(7);
    for (step = 0; step < steps; step++) {
        len = (size_t) snprintf(ele, sizeof(ele), "m%ld",
                                random() % (long) range);
        score = (double) (random() % 20) / ((random() & 1) ? 1 : 4) - 5;
        for (j = 0; j < n && !(m[j].len == len
                               && memcmp(m[j].ele, ele, len) == 0); j++) {
        }
        if (random() % 4 == 0) {
            ck_assert_int_eq(store_zset_del(f->a, f->owner, o, ele, len),
                             j < n);
            if (j < n) {
                m[j] = m[--n];
            }
        } else {
            ck_assert_int_eq(store_zset_add(f->a, f->owner, o, score, ele,
                                            len, 0, &out, &ns), OB_OK);
            ck_assert(ns == score);
            if (j < n) {
                ck_assert_int_eq(out, m[j].score == score
                                      ? 0 : STORE_ZADD_UPDATED);
                m[j].score = score;
            } else {
                ck_assert_int_eq(out, STORE_ZADD_ADDED);
                memcpy(m[n].ele, ele, len);
                m[n].len = len;
                m[n].score = score;
                n++;
            }
        }
        if (step % 17 == 0 || step == steps - 1) {
            t_check(o, m, n);
        }
    }
    ck_assert_int_eq(o->encoding, enc);
    for (i = 0; i < n; i++) {
        ck_assert(store_zset_score(o, m[i].ele, m[i].len, &score));
        ck_assert(score == m[i].score);
    }
    ck_assert(!store_zset_score(o, "nope", 4, &score));
    t_zfree(f, o);
    free(m);
}


START_TEST(test_zset_random_listpack)
{
    t_fix_t  f;

    t_fix_init(&f);
    t_random(&f, 60, 3000, STORE_ENC_LISTPACK);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_zset_random_skiplist)
{
    t_fix_t  f;

    t_fix_init(&f);
    t_random(&f, 500, 20000, STORE_ENC_SKIPLIST);
    t_fix_fini(&f);
}
END_TEST


/* A set of n members "e<i>" with score i / 2 (i from 0), in `enc`. */
static store_obj_t *
t_build(t_fix_t *f, size_t n, int enc)
{
    store_obj_t  *o;
    char          ele[32];
    size_t        i, len;
    int           out;

    o = store_zset_new(f->a, f->owner, enc == STORE_ENC_LISTPACK ? 0 : 1000,
                       0);
    ck_assert_ptr_nonnull(o);
    for (i = 0; i < n; i++) {
        len = (size_t) snprintf(ele, sizeof(ele), "e%03zu", i);
        ck_assert_int_eq(store_zset_add(f->a, f->owner, o, (double) i / 2,
                                        ele, len, 0, &out, NULL), OB_OK);
    }
    if (enc == STORE_ENC_SKIPLIST) {
        ck_assert_int_eq(o->encoding, STORE_ENC_SKIPLIST);
    }
    return o;
}


START_TEST(test_zset_ranges)
{
    t_fix_t          f;
    store_obj_t     *o;
    store_zset_it_t  it;
    store_zrange_t   r;
    store_zlex_t     lx;
    int              enc = _i == 0 ? STORE_ENC_LISTPACK : STORE_ENC_SKIPLIST;

    t_fix_init(&f);
    o = t_build(&f, 100, enc);
    ck_assert_int_eq(o->encoding, enc);

    /* [10, 20]: e020 .. e040 */
    r = (store_zrange_t) { .min = 10, .max = 20 };
    ck_assert_uint_eq(store_zset_count_score(o, &r), 21);
    store_zset_it_score(&it, o, &r, 0);
    ck_assert(store_zset_it_valid(&it));
    ck_assert(memcmp(it.ele, "e020", 4) == 0);
    store_zset_it_score(&it, o, &r, 1);
    ck_assert(store_zset_it_valid(&it));
    ck_assert(memcmp(it.ele, "e040", 4) == 0);
    store_zset_it_next(&it);
    ck_assert(store_zset_it_valid(&it) && it.score == 19.5);
    /* (10, 20) */
    r.minex = r.maxex = 1;
    ck_assert_uint_eq(store_zset_count_score(o, &r), 19);
    /* empty ones */
    r = (store_zrange_t) { .min = 5, .max = 5, .minex = 1 };
    ck_assert(store_zset_range_empty(&r));
    ck_assert_uint_eq(store_zset_count_score(o, &r), 0);
    r = (store_zrange_t) { .min = 100, .max = INFINITY };
    ck_assert_uint_eq(store_zset_count_score(o, &r), 0);
    store_zset_it_score(&it, o, &r, 1);
    ck_assert(!store_zset_it_valid(&it));
    r = (store_zrange_t) { .min = -INFINITY, .max = INFINITY };
    ck_assert_uint_eq(store_zset_count_score(o, &r), 100);

    /* lex: [e010, (e015 */
    lx = (store_zlex_t) { .min = (const uint8_t *) "e010", .minlen = 4,
                          .max = (const uint8_t *) "e015", .maxlen = 4,
                          .maxex = 1 };
    ck_assert_uint_eq(store_zset_count_lex(o, &lx), 5);
    store_zset_it_lex(&it, o, &lx, 1);
    ck_assert(store_zset_it_valid(&it));
    ck_assert(memcmp(it.ele, "e014", 4) == 0);
    lx = (store_zlex_t) { .mininf = -1, .maxinf = 1 };
    ck_assert_uint_eq(store_zset_count_lex(o, &lx), 100);
    lx = (store_zlex_t) { .mininf = 1, .maxinf = 1, .minex = 1, .maxex = 1 };
    ck_assert(store_zset_lex_empty(&lx));
    ck_assert_uint_eq(store_zset_count_lex(o, &lx), 0);

    /* removals */
    r = (store_zrange_t) { .min = 10, .max = 20, .maxex = 1 };
    ck_assert_uint_eq(store_zset_del_score(f.a, f.owner, o, &r), 20);
    ck_assert_uint_eq(store_zset_len(o), 80);
    ck_assert_uint_eq(store_zset_del_rank(f.a, f.owner, o, 0, 9), 10);
    store_zset_it_rank(&it, o, 0, 0);
    ck_assert(store_zset_it_valid(&it));
    ck_assert(memcmp(it.ele, "e010", 4) == 0);
    lx = (store_zlex_t) { .min = (const uint8_t *) "e090", .minlen = 4,
                          .maxinf = 1, .minex = 1 };
    ck_assert_uint_eq(store_zset_del_lex(f.a, f.owner, o, &lx), 9);
    ck_assert_uint_eq(store_zset_len(o), 61);
    store_zset_it_rank(&it, o, 0, 1);
    ck_assert(store_zset_it_valid(&it));
    ck_assert(memcmp(it.ele, "e090", 4) == 0);
    ck_assert_int_eq(store_zset_rank(o, "e090", 4, 0, NULL), 60);
    t_zfree(&f, o);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_zset_flags)
{
    t_fix_t       f;
    store_obj_t  *o;
    double        s;
    int           out;

    t_fix_init(&f);
    o = store_zset_new(f.a, f.owner, 0, 0);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(store_zset_add(f.a, f.owner, o, 1, "a", 1,
                                    STORE_ZADD_XX, &out, &s), OB_OK);
    ck_assert_int_eq(out, STORE_ZADD_NOP);
    ck_assert_uint_eq(store_zset_len(o), 0);
    ck_assert_int_eq(store_zset_add(f.a, f.owner, o, 1, "a", 1,
                                    STORE_ZADD_NX, &out, &s), OB_OK);
    ck_assert_int_eq(out, STORE_ZADD_ADDED);
    ck_assert_int_eq(store_zset_add(f.a, f.owner, o, 5, "a", 1,
                                    STORE_ZADD_NX, &out, &s), OB_OK);
    ck_assert_int_eq(out, STORE_ZADD_NOP);
    ck_assert_int_eq(store_zset_add(f.a, f.owner, o, 0, "a", 1,
                                    STORE_ZADD_GT, &out, &s), OB_OK);
    ck_assert_int_eq(out, STORE_ZADD_NOP);
    ck_assert_int_eq(store_zset_add(f.a, f.owner, o, 2.5, "a", 1,
                                    STORE_ZADD_INCR | STORE_ZADD_LT, &out, &s),
                     OB_OK);
    ck_assert_int_eq(out, STORE_ZADD_NOP);
    ck_assert_int_eq(store_zset_add(f.a, f.owner, o, -2.5, "a", 1,
                                    STORE_ZADD_INCR | STORE_ZADD_LT, &out, &s),
                     OB_OK);
    ck_assert_int_eq(out, STORE_ZADD_UPDATED);
    ck_assert(s == -1.5);
    ck_assert_int_eq(store_zset_add(f.a, f.owner, o, INFINITY, "b", 1, 0,
                                    &out, &s), OB_OK);
    ck_assert_int_eq(store_zset_add(f.a, f.owner, o, -INFINITY, "b", 1,
                                    STORE_ZADD_INCR, &out, &s), OB_ERR);
    ck_assert_int_eq(out, STORE_ZADD_NAN);
    ck_assert_int_eq(store_zset_add(f.a, f.owner, o, NAN, "c", 1, 0,
                                    &out, &s), OB_ERR);
    ck_assert_uint_eq(store_zset_len(o), 2);
    /* -0 is stored as 0 */
    ck_assert_int_eq(store_zset_add(f.a, f.owner, o, -0.0, "z", 1, 0,
                                    &out, &s), OB_OK);
    ck_assert(store_zset_score(o, "z", 1, &s));
    ck_assert(!signbit(s));
    t_zfree(&f, o);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_zset_convert)
{
    t_fix_t       f;
    store_obj_t  *o, *d;
    char          big[65];
    double        s;
    int           out;

    t_fix_init(&f);
    o = t_build(&f, 128, STORE_ENC_LISTPACK);
    ck_assert_int_eq(o->encoding, STORE_ENC_LISTPACK);
    d = store_zset_dup(f.a, f.owner, o);
    ck_assert_int_eq(d->encoding, STORE_ENC_LISTPACK);
    ck_assert_uint_eq(store_zset_len(d), 128);
    /* the 129th member */
    ck_assert_int_eq(store_zset_add(f.a, f.owner, o, 1, "x", 1, 0, &out,
                                    NULL), OB_OK);
    ck_assert_int_eq(o->encoding, STORE_ENC_SKIPLIST);
    ck_assert_uint_eq(store_zset_len(o), 129);
    ck_assert_int_eq(store_zset_rank(o, "x", 1, 0, &s), 3);
    ck_assert(s == 1);
    ck_assert_uint_gt(store_zset_mem(f.a, o), store_zset_mem(f.a, d));
    /* back under the limits: shrink makes it a listpack again */
    ck_assert_int_eq(store_zset_del(f.a, f.owner, o, "x", 1), 1);
    store_zset_shrink(f.a, f.owner, o);
    ck_assert_int_eq(o->encoding, STORE_ENC_LISTPACK);
    ck_assert_int_eq(store_zset_rank(o, "e127", 4, 0, &s), 127);
    ck_assert(s == 63.5);
    t_zfree(&f, o);

    /* a 65-byte member */
    memset(big, 'b', sizeof(big));
    t_zfree(&f, d);
    d = store_zset_new(f.a, f.owner, 0, 0);
    ck_assert_int_eq(store_zset_add(f.a, f.owner, d, 1, big, 64, 0, &out,
                                    NULL), OB_OK);
    ck_assert_int_eq(d->encoding, STORE_ENC_LISTPACK);
    ck_assert_int_eq(store_zset_add(f.a, f.owner, d, 1, big, 65, 0, &out,
                                    NULL), OB_OK);
    ck_assert_int_eq(d->encoding, STORE_ENC_SKIPLIST);
    o = store_zset_dup(f.a, f.owner, d);
    ck_assert_int_eq(o->encoding, STORE_ENC_SKIPLIST);
    ck_assert_int_eq(store_zset_rank(o, big, 65, 0, NULL), 1);
    t_zfree(&f, o);
    t_zfree(&f, d);
    t_fix_fini(&f);
}
END_TEST


/* Collects a walk from a positioned iterator while in range. */
static size_t
t_walk(store_zset_it_t *it, const store_zrange_t *r, const store_zlex_t *lx,
    char out[][80], double *scores, size_t max)
{
    size_t  n = 0;

    for (; store_zset_it_valid(it) && n < max; store_zset_it_next(it)) {
        if (r != NULL && !(it->rev ? store_zset_score_gte_min(it->score, r)
                                   : store_zset_score_lte_max(it->score, r)))
        {
            break;
        }
        if (lx != NULL && !(it->rev ? store_zset_lex_gte_min(it->ele, it->len,
                                                             lx)
                                    : store_zset_lex_lte_max(it->ele, it->len,
                                                             lx)))
        {
            break;
        }
        memcpy(out[n], it->ele, it->len);
        out[n][it->len] = '\0';
        scores[n] = it->score;
        n++;
    }
    return n;
}


/* The same random members in a listpack and in a skiplist set answer
 * every range query (score, lex, both directions, counts) and every range
 * removal alike. */
START_TEST(test_zset_encodings_agree)
{
    static char       a1[130][80], a2[130][80];
    double            s1[130], s2[130];
    t_fix_t           f;
    store_obj_t      *lp, *sl;
    store_zset_it_t   it;
    store_zrange_t    r;
    store_zlex_t      lx;
    char              ele[16], mn[8], mx[8];
    size_t            len, n1, n2, i;
    int               out, round, rev, lexsame = _i;

    t_fix_init(&f);
    srandom(11 + _i);
    for (round = 0; round < 300; round++) {
        lp = store_zset_new(f.a, f.owner, 0, 0);
        sl = store_zset_new(f.a, f.owner, 1000, 0);
        for (i = 0; i < 100; i++) {
            double  sc = lexsame ? 0 : (double) (random() % 10) / 2;

            len = (size_t) snprintf(ele, sizeof(ele), "%c%ld",
                                    'a' + (int) (random() % 5),
                                    random() % 10);
            ck_assert_int_eq(store_zset_add(f.a, f.owner, lp, sc, ele, len, 0,
                                            &out, NULL), OB_OK);
            ck_assert_int_eq(store_zset_add(f.a, f.owner, sl, sc, ele, len, 0,
                                            &out, NULL), OB_OK);
        }
        ck_assert_int_eq(lp->encoding, STORE_ENC_LISTPACK);
        ck_assert_int_eq(sl->encoding, STORE_ENC_SKIPLIST);
        ck_assert_uint_eq(store_zset_len(lp), store_zset_len(sl));

        r.min = (double) (random() % 12) / 2 - 0.5;
        r.max = (double) (random() % 12) / 2 - 0.5;
        r.minex = (int) (random() & 1);
        r.maxex = (int) (random() & 1);
        snprintf(mn, sizeof(mn), "%c%ld", 'a' + (int) (random() % 6),
                 random() % 10);
        snprintf(mx, sizeof(mx), "%c", 'a' + (int) (random() % 6));
        lx = (store_zlex_t) { .min = (const uint8_t *) mn,
                              .minlen = strlen(mn),
                              .max = (const uint8_t *) mx,
                              .maxlen = strlen(mx),
                              .minex = (int) (random() & 1),
                              .maxex = (int) (random() & 1),
                              .mininf = random() % 5 == 0 ? -1 : 0,
                              .maxinf = random() % 5 == 0 ? 1 : 0 };

        for (rev = 0; rev < 2; rev++) {
            store_zset_it_score(&it, lp, &r, rev);
            n1 = t_walk(&it, &r, NULL, a1, s1, 130);
            store_zset_it_score(&it, sl, &r, rev);
            n2 = t_walk(&it, &r, NULL, a2, s2, 130);
            ck_assert_uint_eq(n1, n2);
            for (i = 0; i < n1; i++) {
                ck_assert_str_eq(a1[i], a2[i]);
                ck_assert(s1[i] == s2[i]);
            }
            if (rev == 0) {
                ck_assert_uint_eq(store_zset_count_score(lp, &r), n1);
                ck_assert_uint_eq(store_zset_count_score(sl, &r), n1);
            }
            if (!lexsame) {
                continue;
            }
            store_zset_it_lex(&it, lp, &lx, rev);
            n1 = t_walk(&it, NULL, &lx, a1, s1, 130);
            store_zset_it_lex(&it, sl, &lx, rev);
            n2 = t_walk(&it, NULL, &lx, a2, s2, 130);
            ck_assert_uint_eq(n1, n2);
            for (i = 0; i < n1; i++) {
                ck_assert_str_eq(a1[i], a2[i]);
            }
            if (rev == 0) {
                ck_assert_uint_eq(store_zset_count_lex(lp, &lx), n1);
                ck_assert_uint_eq(store_zset_count_lex(sl, &lx), n1);
            }
        }
        if (lexsame) {
            ck_assert_int_eq(store_zset_del_lex(f.a, f.owner, lp, &lx),
                             store_zset_del_lex(f.a, f.owner, sl, &lx));
        } else {
            ck_assert_int_eq(store_zset_del_score(f.a, f.owner, lp, &r),
                             store_zset_del_score(f.a, f.owner, sl, &r));
        }
        store_zset_it_rank(&it, lp, 0, 0);
        n1 = t_walk(&it, NULL, NULL, a1, s1, 130);
        store_zset_it_rank(&it, sl, 0, 0);
        n2 = t_walk(&it, NULL, NULL, a2, s2, 130);
        ck_assert_uint_eq(n1, n2);
        for (i = 0; i < n1; i++) {
            ck_assert_str_eq(a1[i], a2[i]);
            ck_assert_int_eq(store_zset_rank(sl, a1[i], strlen(a1[i]), 0,
                                             NULL), (long long) i);
        }
        t_zfree(&f, lp);
        t_zfree(&f, sl);
    }
    t_fix_fini(&f);
}
END_TEST


/* The model of t_build's set: e000.. with score i / 2. */
static void
t_build_model(t_el_t *m, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        m[i].len = (size_t) snprintf(m[i].ele, sizeof(m[i].ele), "e%03zu", i);
        m[i].score = (double) i / 2;
    }
}


/* With the owner at its limit, whatever needs more memory fails and
 * leaves the set as it was (both encodings, and the conversion). */
START_TEST(test_zset_oom)
{
    t_fix_t                 f;
    store_obj_t            *o;
    ob_arena_owner_stats_t  os;
    t_el_t                  m[200];
    char                    big[200];
    size_t                  i;
    int                     out, rc;
    int                     enc = _i == 0 ? STORE_ENC_LISTPACK
                                          : STORE_ENC_SKIPLIST;
    size_t                  n = _i == 0 ? 128 : 200;

    t_fix_init(&f);
    o = t_build(&f, n, enc);
    t_build_model(m, n);
    ck_assert_int_eq(ob_arena_owner_stats(f.a, f.owner, &os), OB_OK);
    ob_arena_owner_set_limit(f.a, f.owner, os.bytes);

    /* a member too long for a listpack: a new node, or the conversion */
    memset(big, 'x', sizeof(big));
    rc = store_zset_add(f.a, f.owner, o, 1, big, sizeof(big), 0, &out, NULL);
    ck_assert_int_eq(rc, OB_ERR);
    ck_assert_int_eq(out & STORE_ZADD_NAN, 0);
    if (enc == STORE_ENC_LISTPACK) {
        /* the 129th member could not turn it into a skiplist */
        ck_assert_int_eq(o->encoding, STORE_ENC_LISTPACK);
    }
    ck_assert_uint_eq(store_zset_len(o), n);
    t_check(o, m, n);

    /* moving a member far (score 0 to 1000): done or refused, never half */
    rc = store_zset_add(f.a, f.owner, o, 1000, "e000", 4, 0, &out, NULL);
    if (rc == OB_OK) {
        for (i = 0; i < n; i++) {
            if (m[i].len == 4 && memcmp(m[i].ele, "e000", 4) == 0) {
                m[i].score = 1000;
            }
        }
    }
    t_check(o, m, n);

    ob_arena_owner_set_limit(f.a, f.owner, 0);
    t_zfree(&f, o);
    t_fix_fini(&f);
}
END_TEST


START_TEST(test_zset_d2s)
{
    char  buf[STORE_REPLY_DOUBLE_MAX];

    ck_assert_uint_eq(store_zset_d2s(3, buf), 1);
    ck_assert_str_eq(buf, "3");
    store_zset_d2s(-1.5, buf);
    ck_assert_str_eq(buf, "-1.5");
    store_zset_d2s(1.1, buf);
    ck_assert_str_eq(buf, "1.1000000000000001");
    store_zset_d2s(-INFINITY, buf);
    ck_assert_str_eq(buf, "-inf");
    store_zset_d2s(1e300, buf);
    ck_assert_str_eq(buf, "1.0000000000000001e+300");
}
END_TEST


Suite *
store_zset_suite(void)
{
    Suite  *s = suite_create("store_zset");
    TCase  *tc = tcase_create("zset");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_zset_random_listpack);
    tcase_add_test(tc, test_zset_random_skiplist);
    tcase_add_loop_test(tc, test_zset_ranges, 0, 2);
    tcase_add_test(tc, test_zset_flags);
    tcase_add_test(tc, test_zset_convert);
    tcase_add_loop_test(tc, test_zset_oom, 0, 2);
    tcase_add_loop_test(tc, test_zset_encodings_agree, 0, 2);
    tcase_add_test(tc, test_zset_d2s);
    suite_add_tcase(s, tc);
    return s;
}
