/*
 * store_cmd_zsetop.c: the sorted set operations, Redis 7.0's
 * zunionInterDiffGenericCommand: ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE,
 * ZUNION, ZINTER, ZDIFF (WITHSCORES) and ZINTERCARD, with WEIGHTS and
 * AGGREGATE SUM|MIN|MAX.  Plain sets count as sorted sets whose members
 * all score 1.
 *
 * The result is built as a skiplist set (a union's accumulator needs the
 * member lookup), then turned into a listpack when it fits, as Redis's
 * zsetConvertToListpackIfNeeded does, before it is stored.
 */
#include "store_zset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

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
    double      cur, s = x->weight * score;

    if (isnan(s)) {
        s = 0;
    }
    if (store_zset_score(x->dst, ele, len, &cur)) {
        zop_aggregate(&cur, s, x->aggr);
        s = cur;
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
    ob_arena_t        *a = store_arena(c);
    int                owner = store_owner(c);
    long long          setnum, limit = 0;
    size_t             i, j, n, remaining;
    zop_src_t         *src;
    zop_ctx_t          x;
    int                withscores = 0;
    store_obj_t       *o;
    store_zset_it_t    it;
    static const char *events[] = { "zunionstore", "zinterstore",
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
    for (store_zset_it_rank(&it, x.dst, 0, 0); store_zset_it_valid(&it);
         store_zset_it_next(&it))
    {
        store_zset_reply_elem(c, it.ele, it.len, it.score, withscores);
    }
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
