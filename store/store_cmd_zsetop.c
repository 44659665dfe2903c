/*
 * store_cmd_zsetop.c: the sorted set commands over whole sets: the set
 * operations (Redis 7.0's zunionInterDiffGenericCommand: ZUNIONSTORE,
 * ZINTERSTORE, ZDIFFSTORE, ZUNION, ZINTER, ZDIFF (WITHSCORES) and
 * ZINTERCARD, with WEIGHTS and AGGREGATE SUM|MIN|MAX; plain sets count as
 * sorted sets whose members all score 1), ZRANDMEMBER and ZSCAN.
 *
 * The result is built as a skiplist set (a union's accumulator needs the
 * member lookup), then turned into a listpack when it fits, as Redis's
 * zsetConvertToListpackIfNeeded does, before it is stored.
 */
#include "store_zset.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "store_glob.h"

#if defined(__has_include)
#if __has_include("store_set.h")
#include "store_set.h"
#define ZOP_HAVE_SETS 1
#endif
#endif

typedef enum { ZOP_UNION, ZOP_INTER, ZOP_DIFF } zop_t;
typedef enum { ZOP_SUM, ZOP_MIN, ZOP_MAX } zop_aggr_t;

typedef struct zop_src_s {
    store_obj_t        *o;        /* NULL: a missing key */
    double              weight;
} zop_src_t;

/* One member of an input, as the iteration hands it out. */
typedef void (*zop_each_pt)(void *arg, const void *ele, size_t len,
                            double score);


static size_t
zop_len(const zop_src_t *s)
{
    if (s->o == NULL) {
        return 0;
    }
#ifdef ZOP_HAVE_SETS
    if (s->o->type == STORE_OBJ_SET) {
        return store_set_size(s->o);
    }
#endif
    return store_zset_len(s->o);
}


static void
zop_each(const zop_src_t *s, zop_each_pt fn, void *arg)
{
    store_zset_it_t  it;

    if (s->o == NULL) {
        return;
    }
#ifdef ZOP_HAVE_SETS
    if (s->o->type == STORE_OBJ_SET) {
        store_set_elem_t  e;
        size_t            i, n = store_set_size(s->o), len;
        char              buf[STORE_OBJ_INTBUF];
        const char       *p;

        for (i = 0; i < n; i++) {
            store_set_get(s->o, i, &e);
            p = store_set_elem_bytes(&e, buf, &len);
            fn(arg, p, len, 1.0);
        }
        return;
    }
#endif
    for (store_zset_it_rank(&it, s->o, 0, 0); store_zset_it_valid(&it);
         store_zset_it_next(&it))
    {
        fn(arg, it.ele, it.len, it.score);
    }
}


/* 1 and *score when ele is in the input. */
static int
zop_find(const zop_src_t *s, const void *ele, size_t len, double *score)
{
    if (s->o == NULL) {
        return 0;
    }
#ifdef ZOP_HAVE_SETS
    if (s->o->type == STORE_OBJ_SET) {
        *score = 1.0;
        return store_set_contains(s->o, ele, len);
    }
#endif
    return store_zset_score(s->o, ele, len, score);
}


static void
zop_aggregate(double *target, double val, zop_aggr_t aggr)
{
    if (aggr == ZOP_SUM) {
        *target = *target + val;
        /* inf + -inf: Redis's convention is 0 */
        if (isnan(*target)) {
            *target = 0.0;
        }
    } else if (aggr == ZOP_MIN) {
        *target = val < *target ? val : *target;
    } else {
        *target = val > *target ? val : *target;
    }
}


typedef struct zop_ctx_s {
    store_client_t  *c;
    store_obj_t     *dst;
    zop_src_t       *src;
    size_t           nsrc;
    zop_aggr_t       aggr;
    double           weight;      /* the input being walked */
    int              cardinality; /* ZINTERCARD: count only */
    size_t           count;
    size_t           limit;       /* ZINTERCARD's LIMIT, 0: none */
    int              oom;
} zop_ctx_t;


static void
zop_put(zop_ctx_t *x, const void *ele, size_t len, double score)
{
    int  out;

    if (!x->oom
        && store_zset_add(store_arena(x->c), store_owner(x->c), x->dst, score,
                          ele, len, 0, &out, NULL) != OB_OK)
    {
        x->oom = 1;
    }
}


static void
zop_union_one(void *arg, const void *ele, size_t len, double score)
{
    zop_ctx_t  *x = arg;
    double      cur, prev, s = x->weight * score;

    if (isnan(s)) {
        s = 0;
    }
    if (store_zset_score(x->dst, ele, len, &cur)) {
        prev = cur;
        zop_aggregate(&cur, s, x->aggr);
        s = cur;
        /* Redis overwrites the accumulated score, so 0 replaces -0 (an
         * update by value would see them equal and keep -0). */
        if (s == prev && signbit(s) != signbit(prev)) {
            (void) store_zset_del(store_arena(x->c), store_owner(x->c),
                                  x->dst, ele, len);
        }
    }
    zop_put(x, ele, len, s);
}


static void
zop_inter_one(void *arg, const void *ele, size_t len, double score)
{
    zop_ctx_t  *x = arg;
    double      s = x->src[0].weight * score, v;
    size_t      j;

    if (x->cardinality && x->limit > 0 && x->count >= x->limit) {
        return;
    }
    if (isnan(s)) {
        s = 0;
    }
    for (j = 1; j < x->nsrc; j++) {
        if (x->src[j].o == x->src[0].o) {
            v = score * x->src[j].weight;
        } else if (zop_find(&x->src[j], ele, len, &v)) {
            v *= x->src[j].weight;
        } else {
            return;
        }
        zop_aggregate(&s, v, x->aggr);
    }
    if (x->cardinality) {
        x->count++;
        return;
    }
    zop_put(x, ele, len, s);
}


static void
zop_diff_one(void *arg, const void *ele, size_t len, double score)
{
    zop_ctx_t  *x = arg;
    double      v;
    size_t      j;

    for (j = 1; j < x->nsrc; j++) {
        if (zop_find(&x->src[j], ele, len, &v)) {
            return;
        }
    }
    zop_put(x, ele, len, score);
}


static int
zop_cmp_len(const void *a, const void *b)
{
    size_t  la = zop_len(a), lb = zop_len(b);

    return la < lb ? -1 : (la > lb ? 1 : 0);
}


static void
zop_generic(store_client_t *c, const ob_str_t *dstkey, size_t nkidx, zop_t op,
    int cardinality, const char *name)
{
    ob_arena_t          *a = store_arena(c);
    int                  owner = store_owner(c);
    long long            setnum, limit = 0;
    size_t               i, j, n, remaining;
    zop_src_t           *src;
    zop_ctx_t            x;
    int                  withscores = 0;
    store_obj_t         *o;
    store_zset_it_t      it;
    store_reply_batch_t  batch;
    static const char   *events[] = { "zunionstore", "zinterstore",
                                      "zdiffstore" };

    if (store_get_ll_or_reply(c, &c->argv[nkidx], &setnum, NULL) != OB_OK) {
        return;
    }
    if (setnum < 1) {
        store_add_errf(c, "ERR at least 1 input key is needed for '%s' "
                          "command", name);
        return;
    }
    if ((unsigned long long) setnum > c->argc - (nkidx + 1)) {
        store_add_err(c, STORE_ERR_SYNTAX);
        return;
    }
    src = calloc((size_t) setnum, sizeof(*src));
    if (src == NULL) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    memset(&x, 0, sizeof(x));
    x.aggr = ZOP_SUM;
    for (i = 0, j = nkidx + 1; i < (size_t) setnum; i++, j++) {
        o = store_lookup_read(c, &c->argv[j]);
        if (o != NULL && o->type != STORE_OBJ_ZSET
#ifdef ZOP_HAVE_SETS
            && o->type != STORE_OBJ_SET
#endif
           )
        {
            store_add_err(c, STORE_ERR_WRONGTYPE);
            goto done;
        }
        src[i].o = o;
        src[i].weight = 1.0;
    }

    remaining = c->argc - j;
    while (remaining > 0) {
        if (op != ZOP_DIFF && !cardinality
            && remaining >= (size_t) setnum + 1
            && store_arg_is(&c->argv[j], "weights"))
        {
            j++;
            remaining--;
            for (i = 0; i < (size_t) setnum; i++, j++, remaining--) {
                if (store_get_double_or_reply(c, &c->argv[j], &src[i].weight,
                                              "ERR weight value is not a "
                                              "float") != OB_OK)
                {
                    goto done;
                }
            }
        } else if (op != ZOP_DIFF && !cardinality && remaining >= 2
                   && store_arg_is(&c->argv[j], "aggregate"))
        {
            j++;
            remaining--;
            if (store_arg_is(&c->argv[j], "sum")) {
                x.aggr = ZOP_SUM;
            } else if (store_arg_is(&c->argv[j], "min")) {
                x.aggr = ZOP_MIN;
            } else if (store_arg_is(&c->argv[j], "max")) {
                x.aggr = ZOP_MAX;
            } else {
                store_add_err(c, STORE_ERR_SYNTAX);
                goto done;
            }
            j++;
            remaining--;
        } else if (dstkey == NULL && !cardinality
                   && store_arg_is(&c->argv[j], "withscores"))
        {
            j++;
            remaining--;
            withscores = 1;
        } else if (cardinality && remaining >= 2
                   && store_arg_is(&c->argv[j], "limit"))
        {
            j++;
            remaining--;
            if (store_parse_ll(&c->argv[j], &limit) != OB_OK || limit < 0) {
                store_add_err(c, "ERR LIMIT can't be negative");
                goto done;
            }
            j++;
            remaining--;
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            goto done;
        }
    }
    if (op != ZOP_DIFF) {
        qsort(src, (size_t) setnum, sizeof(*src), zop_cmp_len);
    }

    x.c = c;
    x.src = src;
    x.nsrc = (size_t) setnum;
    x.cardinality = cardinality;
    x.limit = (size_t) limit;
    if (!cardinality) {
        x.dst = store_zset_new(a, owner, SIZE_MAX, 0);
        if (x.dst == NULL) {
            store_add_err(c, STORE_ERR_OOM);
            goto done;
        }
    }
    if (op == ZOP_INTER) {
        if (zop_len(&src[0]) > 0) {
            zop_each(&src[0], zop_inter_one, &x);
        }
    } else if (op == ZOP_UNION) {
        for (i = 0; i < (size_t) setnum && !x.oom; i++) {
            x.weight = src[i].weight;
            zop_each(&src[i], zop_union_one, &x);
        }
    } else if (zop_len(&src[0]) > 0) {
        zop_each(&src[0], zop_diff_one, &x);
    }
    if (x.oom) {
        store_zset_free(a, owner, x.dst);
        store_obj_free(a, owner, x.dst);
        store_add_err(c, STORE_ERR_OOM);
        goto done;
    }

    if (cardinality) {
        store_reply_int(&c->r, (long long) x.count);
        goto done;
    }
    n = store_zset_len(x.dst);
    if (dstkey != NULL) {
        if (n == 0) {
            store_zset_free(a, owner, x.dst);
            store_obj_free(a, owner, x.dst);
            store_reply_int(&c->r, 0);
            if (store_db_delete(c->db, dstkey->data, dstkey->len,
                                store_now_ms(c)) == OB_OK)
            {
                store_key_changed(c, dstkey, STORE_NOTIFY_GENERIC, "del");
            }
            goto done;
        }
        store_zset_shrink(a, owner, x.dst);
        if (store_db_set(c->db, dstkey->data, dstkey->len, x.dst, 0,
                         store_now_ms(c)) != OB_OK)
        {
            store_zset_free(a, owner, x.dst);
            store_obj_free(a, owner, x.dst);
            store_add_err(c, STORE_ERR_OOM);
            goto done;
        }
        store_reply_int(&c->r, (long long) n);
        store_key_changed(c, dstkey, STORE_NOTIFY_ZSET, events[op]);
        store_key_ready(c, dstkey);
        goto done;
    }
    store_zset_reply_begin(c, n, withscores);
    store_reply_batch_init(&batch, &c->r);
    for (store_zset_it_rank(&it, x.dst, 0, 0); store_zset_it_valid(&it);
         store_zset_it_next(&it))
    {
        store_zset_reply_elem(&batch.r, it.ele, it.len, it.score,
                              withscores);
    }
    store_reply_batch_flush(&batch);
    store_zset_free(a, owner, x.dst);
    store_obj_free(a, owner, x.dst);

done:
    free(src);
}


void
store_cmd_zunionstore(store_client_t *c)
{
    zop_generic(c, &c->argv[1], 2, ZOP_UNION, 0, "zunionstore");
}


void
store_cmd_zinterstore(store_client_t *c)
{
    zop_generic(c, &c->argv[1], 2, ZOP_INTER, 0, "zinterstore");
}


void
store_cmd_zdiffstore(store_client_t *c)
{
    zop_generic(c, &c->argv[1], 2, ZOP_DIFF, 0, "zdiffstore");
}


void
store_cmd_zunion(store_client_t *c)
{
    zop_generic(c, NULL, 1, ZOP_UNION, 0, "zunion");
}


void
store_cmd_zinter(store_client_t *c)
{
    zop_generic(c, NULL, 1, ZOP_INTER, 0, "zinter");
}


void
store_cmd_zdiff(store_client_t *c)
{
    zop_generic(c, NULL, 1, ZOP_DIFF, 0, "zdiff");
}


void
store_cmd_zintercard(store_client_t *c)
{
    zop_generic(c, NULL, 1, ZOP_INTER, 1, "zintercard");
}


/* ---- ZRANDMEMBER ----------------------------------------------------------- */

/* A small open-addressing set of ranks (CASE 4's picks). */
static int
zrand_seen(size_t *tab, size_t mask, size_t rank)
{
    size_t  i = (rank * 0x9E3779B97F4A7C15ull) & mask;

    while (tab[i] != SIZE_MAX) {
        if (tab[i] == rank) {
            return 1;
        }
        i = (i + 1) & mask;
    }
    tab[i] = rank;
    return 0;
}


static size_t
zrand(store_client_t *c, size_t n)
{
    return (size_t) (store_random(c) % n);
}


static void
zrandmember_count(store_client_t *c, long long l, int withscores)
{
    store_obj_t         *o;
    store_zset_it_t      it;
    size_t               size, count, i, mask, *tab = NULL, need, left;
    int                  wrong, uniq = l >= 0;
    store_reply_batch_t  b;

    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_ZSET, 0, &wrong);
    if (wrong) {
        return;
    }
    if (o == NULL || l == 0) {
        store_reply_array(&c->r, 0);
        return;
    }
    size = store_zset_len(o);
    count = (size_t) (l < 0 ? -l : l);

    /* Repeats allowed: pick `count` times, written as picked (a huge
     * count ends at the client's output limit, r.failed). */
    if (!uniq || count == 1) {
        store_zset_reply_begin(c, count, withscores);
        store_reply_batch_init(&b, &c->r);
        for (i = 0; i < count && !b.r.failed; i++) {
            store_zset_it_rank(&it, o, zrand(c, size), 0);
            store_zset_it_valid(&it);
            store_zset_reply_elem(&b.r, it.ele, it.len, it.score, withscores);
        }
        store_reply_batch_flush(&b);
        return;
    }
    if (count >= size) {
        store_zset_reply_begin(c, size, withscores);
        store_reply_batch_init(&b, &c->r);
        for (store_zset_it_rank(&it, o, 0, 0); store_zset_it_valid(&it);
             store_zset_it_next(&it))
        {
            store_zset_reply_elem(&b.r, it.ele, it.len, it.score, withscores);
        }
        store_reply_batch_flush(&b);
        return;
    }
    if (count * 3 <= size) {
        for (mask = 1; mask < 2 * count; mask <<= 1) {
        }
        tab = malloc(mask * sizeof(size_t));
        if (tab == NULL) {
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
        memset(tab, 0xFF, mask * sizeof(size_t));
        mask--;
    }
    store_zset_reply_begin(c, count, withscores);
    store_reply_batch_init(&b, &c->r);
    if (tab == NULL) {
        /* Most of the set: one ordered pass choosing each member with the
         * probability that leaves exactly `count` (Knuth's selection
         * sampling). */
        need = count;
        left = size;
        for (store_zset_it_rank(&it, o, 0, 0);
             need > 0 && store_zset_it_valid(&it); store_zset_it_next(&it))
        {
            if (zrand(c, left) < need) {
                store_zset_reply_elem(&b.r, it.ele, it.len, it.score,
                                      withscores);
                need--;
            }
            left--;
        }
    } else {
        /* A small part of a large set: random ranks, without repeats. */
        for (i = 0; i < count; ) {
            size_t  rank = zrand(c, size);

            if (zrand_seen(tab, mask, rank)) {
                continue;
            }
            store_zset_it_rank(&it, o, rank, 0);
            store_zset_it_valid(&it);
            store_zset_reply_elem(&b.r, it.ele, it.len, it.score,
                                  withscores);
            i++;
        }
        free(tab);
    }
    store_reply_batch_flush(&b);
}


void
store_cmd_zrandmember(store_client_t *c)
{
    store_obj_t      *o;
    store_zset_it_t   it;
    long long         l;
    int               wrong;

    if (c->argc >= 3) {
        if (store_get_range_ll_or_reply(c, &c->argv[2], -LONG_MAX, LONG_MAX,
                                        &l, NULL) != OB_OK)
        {
            return;
        }
        if (c->argc > 4
            || (c->argc == 4 && !store_arg_is(&c->argv[3], "withscores")))
        {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
        if (c->argc == 4 && (l < -LONG_MAX / 2 || l > LONG_MAX / 2)) {
            store_add_err(c, "ERR value is out of range");
            return;
        }
        zrandmember_count(c, l, c->argc == 4);
        return;
    }
    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_ZSET, 0, &wrong);
    if (wrong) {
        return;
    }
    if (o == NULL) {
        store_reply_null(&c->r);
        return;
    }
    store_zset_it_rank(&it, o, zrand(c, store_zset_len(o)), 0);
    store_zset_it_valid(&it);
    store_reply_bulk(&c->r, it.ele, it.len);
}


/* ---- ZSCAN ----------------------------------------------------------------- */

typedef struct zscan_acc_s {
    store_zsl_node_t  **nodes;
    size_t              n, cap;
    int                 oom;
} zscan_acc_t;


static void
zscan_visit(ob_hash_link_t *e, void *arg)
{
    zscan_acc_t       *acc = arg;
    store_zsl_node_t **p;

    if (acc->n == acc->cap) {
        p = realloc(acc->nodes, (acc->cap * 2 + 16) * sizeof(*p));
        if (p == NULL) {
            acc->oom = 1;
            return;
        }
        acc->nodes = p;
        acc->cap = acc->cap * 2 + 16;
    }
    acc->nodes[acc->n++] = OB_HASH_ENTRY(e, store_zsl_node_t, hlink);
}


void
store_cmd_zscan(store_client_t *c)
{
    store_obj_t      *o;
    const ob_str_t   *pat = NULL;
    long long         count = 10;
    unsigned long long cursor, next = 0;
    char              cbuf[32], dbuf[STORE_REPLY_DOUBLE_MAX], *end;
    size_t            j, i, n, len;
    int               wrong;
    zscan_acc_t       acc = { NULL, 0, 0, 0 };
    store_zset_it_t   it;
    const uint8_t    *lp;
    store_lp_pos_t    pos;
    const uint8_t    *s;
    char              ebuf[STORE_LP_INTBUF];

    /* Redis's parseScanCursorOrReply: strtoul over the whole argument,
     * so "-1" is ULONG_MAX and "" is 0, but no leading space and no
     * overflow. */
    n = c->argv[2].len < sizeof(cbuf) - 1 ? c->argv[2].len : sizeof(cbuf) - 1;
    memcpy(cbuf, c->argv[2].data, n);
    cbuf[n] = '\0';
    errno = 0;
    cursor = strtoull(cbuf, &end, 10);
    if (*end != '\0' || n != c->argv[2].len || errno == ERANGE
        || isspace((unsigned char) cbuf[0]))
    {
        store_add_err(c, STORE_ERR_CURSOR);
        return;
    }
    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_ZSET, 0, &wrong);
    if (wrong) {
        return;
    }
    for (j = 3; j < c->argc; j += 2) {
        if (j + 1 >= c->argc) {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
        if (store_arg_is(&c->argv[j], "count")) {
            if (store_get_ll_or_reply(c, &c->argv[j + 1], &count, NULL)
                != OB_OK)
            {
                return;
            }
            if (count < 1) {
                store_add_err(c, STORE_ERR_SYNTAX);
                return;
            }
        } else if (store_arg_is(&c->argv[j], "match")) {
            pat = &c->argv[j + 1];
            if (pat->len == 1 && pat->data[0] == '*') {
                pat = NULL;
            }
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
    }
    store_reply_array(&c->r, 2);
    if (o == NULL) {
        store_reply_bulk(&c->r, "0", 1);
        store_reply_array(&c->r, 0);
        return;
    }
    if (o->encoding == STORE_ENC_LISTPACK) {
        /* A listpack is returned whole, its scores as stored. */
        lp = o->v.ptr;
        n = 0;
        for (store_zset_it_rank(&it, o, 0, 0); store_zset_it_valid(&it);
             store_zset_it_next(&it))
        {
            if (pat == NULL
                || store_glob_match((const char *) pat->data, pat->len,
                                    (const char *) it.ele, it.len, 0))
            {
                n++;
            }
        }
        store_reply_bulk(&c->r, "0", 1);
        store_reply_array(&c->r, 2 * n);
        for (pos = store_lp_first(lp); pos != 0;
             pos = store_lp_next(lp, store_lp_next(lp, pos)))
        {
            s = store_lp_get_str(lp, pos, ebuf, &len);
            if (pat != NULL
                && !store_glob_match((const char *) pat->data, pat->len,
                                     (const char *) s, len, 0))
            {
                continue;
            }
            store_reply_bulk(&c->r, s, len);
            s = store_lp_get_str(lp, store_lp_next(lp, pos), ebuf, &len);
            store_reply_bulk(&c->r, s, len);
        }
        return;
    }
    /* a huge COUNT is the whole set; keep count * 10 from wrapping */
    if ((unsigned long long) count > store_zset_len(o)) {
        count = (long long) store_zset_len(o);
    }
    next = ob_hash_scan(&((store_zsl_t *) o->v.ptr)->h, cursor,
                        (size_t) count, (size_t) count * 10, zscan_visit,
                        &acc);
    n = 0;
    for (i = 0; i < acc.n; i++) {
        if (pat != NULL
            && !store_glob_match((const char *) pat->data, pat->len,
                                 (const char *) STORE_ZSL_ELE(acc.nodes[i]),
                                 acc.nodes[i]->len, 0))
        {
            acc.nodes[i] = NULL;
            continue;
        }
        n++;
    }
    len = (size_t) snprintf(cbuf, sizeof(cbuf), "%llu", next);
    store_reply_bulk(&c->r, cbuf, len);
    store_reply_array(&c->r, 2 * n);
    for (i = 0; i < acc.n; i++) {
        if (acc.nodes[i] == NULL) {
            continue;
        }
        store_reply_bulk(&c->r, STORE_ZSL_ELE(acc.nodes[i]),
                         acc.nodes[i]->len);
        /* a bulk string even in RESP3, as Redis's SCAN replies */
        len = store_reply_double_format(acc.nodes[i]->score, dbuf);
        store_reply_bulk(&c->r, dbuf, len);
    }
    free(acc.nodes);
}
