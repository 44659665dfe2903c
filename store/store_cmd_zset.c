/*
 * store_cmd_zset.c: the sorted set commands but the whole-set ones (the
 * set operations, ZRANDMEMBER and ZSCAN are store_cmd_zsetop.c): ZADD,
 * ZINCRBY, ZREM, the lookups, the ZRANGE family and ZRANGESTORE, the pops
 * (blocking too), the range removals, and the table of them all.  Redis 7.0's t_zset.c is the spec for
 * argument parsing order, error texts and reply shapes; the value itself
 * is store_zset.c's.
 *
 * Reply shapes (reference §2): with scores, RESP2 gets a flat array
 * m1 s1 m2 s2 and RESP3 an array of [m, s] pairs; scores are doubles
 * (%.17g; RESP3 ",").  Replies whose length is not known up front (ranges
 * by score or lex) are walked twice, once to count, instead of being
 * built in memory.
 */
#include "store_zset.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"


/* ---- shared helpers -------------------------------------------------------- */

#define ZSET_ERR_RANGE_FLOAT  "ERR min or max is not a float"
#define ZSET_ERR_RANGE_LEX    "ERR min or max not valid string range item"
#define ZSET_ERR_NAN          "ERR resulting score is not a number (NaN)"


/* The array header for n members, with or without their scores. */
void
store_zset_reply_begin(store_client_t *c, size_t n, int withscores)
{
    store_reply_array(&c->r, withscores && c->r.proto == 2 ? 2 * n : n);
}


void
store_zset_reply_elem(store_reply_t *r, const void *ele, size_t len,
    double score, int withscores)
{
    if (withscores && r->proto > 2) {
        store_reply_array(r, 2);
    }
    store_reply_bulk(r, ele, len);
    if (withscores) {
        store_reply_double(r, score);
    }
}


/* strtod over an argument as Redis's zslParseRange reads it: the whole
 * argument must be used (leading spaces are strtod's), no NaN. */
static int
zset_strtod(const uint8_t *p, size_t len, double *v)
{
    char   buf[256], *s, *end;
    int    rc = OB_ERR;

    s = len < sizeof(buf) ? buf : malloc(len + 1);
    if (s == NULL) {
        return OB_ERR;
    }
    memcpy(s, p, len);
    s[len] = '\0';
    *v = strtod(s, &end);
    if (*end == '\0' && !isnan(*v) && strlen(s) == len) {
        rc = OB_OK;
    }
    if (s != buf) {
        free(s);
    }
    return rc;
}


int
store_zset_parse_range(const ob_str_t *min, const ob_str_t *max,
    store_zrange_t *r)
{
    memset(r, 0, sizeof(*r));
    if (min->len > 0 && min->data[0] == '(') {
        r->minex = 1;
        if (zset_strtod(min->data + 1, min->len - 1, &r->min) != OB_OK) {
            return OB_ERR;
        }
    } else if (zset_strtod(min->data, min->len, &r->min) != OB_OK) {
        return OB_ERR;
    }
    if (max->len > 0 && max->data[0] == '(') {
        r->maxex = 1;
        if (zset_strtod(max->data + 1, max->len - 1, &r->max) != OB_OK) {
            return OB_ERR;
        }
    } else if (zset_strtod(max->data, max->len, &r->max) != OB_OK) {
        return OB_ERR;
    }
    return OB_OK;
}


static int
zset_parse_lex_item(const ob_str_t *a, const uint8_t **p, size_t *len,
    int *inf, int *ex)
{
    *inf = 0;
    if (a->len == 0) {
        return OB_ERR;
    }
    switch (a->data[0]) {
    case '+':
    case '-':
        if (a->len != 1) {
            return OB_ERR;
        }
        *inf = a->data[0] == '+' ? 1 : -1;
        *ex = 1;
        *p = NULL;
        *len = 0;
        return OB_OK;
    case '(':
    case '[':
        *ex = a->data[0] == '(';
        *p = a->data + 1;
        *len = a->len - 1;
        return OB_OK;
    default:
        return OB_ERR;
    }
}


int
store_zset_parse_lex(const ob_str_t *min, const ob_str_t *max,
    store_zlex_t *r)
{
    memset(r, 0, sizeof(*r));
    if (zset_parse_lex_item(min, &r->min, &r->minlen, &r->mininf, &r->minex)
        != OB_OK
        || zset_parse_lex_item(max, &r->max, &r->maxlen, &r->maxinf,
                               &r->maxex) != OB_OK)
    {
        return OB_ERR;
    }
    return OB_OK;
}


/*
 * After `n` members left the set at `key`: an emptied set is deleted; the
 * change is signalled with `event`, then "del" when the key went.  Redis
 * counts each member removed (server.dirty += deleted), the key's
 * deletion adding nothing.
 */
static void
zset_removed(store_client_t *c, const ob_str_t *key, store_obj_t *o,
    const char *event, long long n)
{
    int  gone = store_zset_len(o) == 0;

    if (gone) {
        store_db_delete(c->db, key->data, key->len, store_now_ms(c));
    }
    store_key_changed(c, key, STORE_NOTIFY_ZSET, event);
    store_dirty_add(c, n - 1);
    if (gone) {
        store_notify(c->st, c->dbid, key, STORE_NOTIFY_GENERIC, "del");
    }
}


/* Binds a new set to key (the key is missing).  OB_ERR: OOM replied and
 * o freed. */
static int
zset_bind_new(store_client_t *c, const ob_str_t *key, store_obj_t *o)
{
    if (store_db_set(c->db, key->data, key->len, o, 0, store_now_ms(c))
        != OB_OK)
    {
        store_zset_free(store_arena(c), store_owner(c), o);
        store_obj_free(store_arena(c), store_owner(c), o);
        store_add_err(c, STORE_ERR_OOM);
        return OB_ERR;
    }
    return OB_OK;
}


/* ---- ZADD, ZINCRBY --------------------------------------------------------- */

static void
zset_add_generic(store_client_t *c, int flags)
{
    ob_arena_t   *a = store_arena(c);
    int           owner = store_owner(c);
    size_t        idx = 2, n, i, added = 0, updated = 0, processed = 0;
    int           ch = 0, wrong, out, isnew = 0, rc = OB_OK;
    double       *scores, sbuf[16], score = 0, ns;
    store_obj_t  *o;

    while (idx < c->argc) {
        const ob_str_t  *opt = &c->argv[idx];

        if (store_arg_is(opt, "nx")) {
            flags |= STORE_ZADD_NX;
        } else if (store_arg_is(opt, "xx")) {
            flags |= STORE_ZADD_XX;
        } else if (store_arg_is(opt, "ch")) {
            ch = 1;
        } else if (store_arg_is(opt, "incr")) {
            flags |= STORE_ZADD_INCR;
        } else if (store_arg_is(opt, "gt")) {
            flags |= STORE_ZADD_GT;
        } else if (store_arg_is(opt, "lt")) {
            flags |= STORE_ZADD_LT;
        } else {
            break;
        }
        idx++;
    }
    n = c->argc - idx;
    if (n == 0 || n % 2 != 0) {
        store_add_err(c, STORE_ERR_SYNTAX);
        return;
    }
    n /= 2;
    if ((flags & STORE_ZADD_NX) && (flags & STORE_ZADD_XX)) {
        store_add_err(c, "ERR XX and NX options at the same time are not "
                         "compatible");
        return;
    }
    if (((flags & STORE_ZADD_GT) && (flags & STORE_ZADD_NX))
        || ((flags & STORE_ZADD_LT) && (flags & STORE_ZADD_NX))
        || ((flags & STORE_ZADD_GT) && (flags & STORE_ZADD_LT)))
    {
        store_add_err(c, "ERR GT, LT, and/or NX options at the same time are "
                         "not compatible");
        return;
    }
    if ((flags & STORE_ZADD_INCR) && n > 1) {
        store_add_err(c, "ERR INCR option supports a single increment-element "
                         "pair");
        return;
    }

    /* Every score is parsed before anything changes. */
    scores = n <= 16 ? sbuf : malloc(n * sizeof(double));
    if (scores == NULL) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    for (i = 0; i < n; i++) {
        if (store_get_double_or_reply(c, &c->argv[idx + 2 * i], &scores[i],
                                      NULL) != OB_OK)
        {
            goto done;
        }
    }

    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_ZSET, 1, &wrong);
    if (wrong) {
        goto done;
    }
    if (o == NULL) {
        if (flags & STORE_ZADD_XX) {
            goto reply;
        }
        o = store_zset_new(a, owner, 0, c->argv[idx + 1].len);
        if (o == NULL) {
            store_add_err(c, STORE_ERR_OOM);
            goto done;
        }
        isnew = 1;
    }
    for (i = 0; i < n; i++) {
        rc = store_zset_add(a, owner, o, scores[i], c->argv[idx + 2 * i + 1].data,
                            c->argv[idx + 2 * i + 1].len, flags, &out, &ns);
        if (rc != OB_OK) {
            break;
        }
        if (out & STORE_ZADD_ADDED) {
            added++;
        }
        if (out & STORE_ZADD_UPDATED) {
            updated++;
        }
        if (!(out & STORE_ZADD_NOP)) {
            processed++;
            score = ns;
        }
    }
    if (isnew) {
        if (store_zset_len(o) == 0) {
            store_zset_free(a, owner, o);
            store_obj_free(a, owner, o);
        } else if (zset_bind_new(c, &c->argv[1], o) != OB_OK) {
            goto done;
        }
    }
    if (added || updated) {
        store_key_changed(c, &c->argv[1], STORE_NOTIFY_ZSET,
                          (flags & STORE_ZADD_INCR) ? "zincr" : "zadd");
        /* Redis counts each member added or re-scored (server.dirty +=
         * added + updated), whatever CH says about the reply. */
        store_dirty_add(c, (long long) (added + updated) - 1);
        if (isnew) {
            store_key_ready(c, &c->argv[1]);
        }
    }
    if (rc != OB_OK) {
        store_add_err(c, (out & STORE_ZADD_NAN) ? ZSET_ERR_NAN
                                                : STORE_ERR_OOM);
        goto done;
    }

reply:
    if (flags & STORE_ZADD_INCR) {
        if (processed) {
            store_reply_double(&c->r, score);
        } else {
            store_reply_null(&c->r);
        }
    } else {
        store_reply_int(&c->r, (long long) (ch ? added + updated : added));
    }

done:
    if (scores != sbuf) {
        free(scores);
    }
}


static void
store_cmd_zadd(store_client_t *c)
{
    zset_add_generic(c, 0);
}


/* ZINCRBY key increment member: ZADD key INCR increment member. */
static void
store_cmd_zincrby(store_client_t *c)
{
    ob_arena_t   *a = store_arena(c);
    int           owner = store_owner(c);
    int           wrong, out, isnew = 0;
    double        incr, ns;
    store_obj_t  *o;

    if (store_get_double_or_reply(c, &c->argv[2], &incr, NULL) != OB_OK) {
        return;
    }
    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_ZSET, 1, &wrong);
    if (wrong) {
        return;
    }
    if (o == NULL) {
        o = store_zset_new(a, owner, 0, c->argv[3].len);
        if (o == NULL) {
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
        isnew = 1;
    }
    if (store_zset_add(a, owner, o, incr, c->argv[3].data, c->argv[3].len,
                       STORE_ZADD_INCR, &out, &ns) != OB_OK)
    {
        if (isnew) {
            store_zset_free(a, owner, o);
            store_obj_free(a, owner, o);
        }
        store_add_err(c, (out & STORE_ZADD_NAN) ? ZSET_ERR_NAN
                                                : STORE_ERR_OOM);
        return;
    }
    if (isnew && zset_bind_new(c, &c->argv[1], o) != OB_OK) {
        return;
    }
    /* An increment that leaves the score as it was (0, or too small to
     * move a double) is no change for Redis: no signal, no dirty, so it
     * is not propagated either. */
    if (out & (STORE_ZADD_ADDED | STORE_ZADD_UPDATED)) {
        store_key_changed(c, &c->argv[1], STORE_NOTIFY_ZSET, "zincr");
    }
    if (isnew) {
        store_key_ready(c, &c->argv[1]);
    }
    store_reply_double(&c->r, ns);
}


/* ---- ZREM and the lookups -------------------------------------------------- */

static void
store_cmd_zrem(store_client_t *c)
{
    store_obj_t  *o;
    size_t        i;
    long long     deleted = 0;
    int           wrong, rc = 0;

    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_ZSET, 1, &wrong);
    if (o == NULL) {
        if (!wrong) {
            store_reply_int(&c->r, 0);
        }
        return;
    }
    for (i = 2; i < c->argc; i++) {
        rc = store_zset_del(store_arena(c), store_owner(c), o, c->argv[i].data,
                            c->argv[i].len);
        if (rc < 0) {
            break;
        }
        deleted += rc;
        if (store_zset_len(o) == 0) {
            break;
        }
    }
    if (deleted > 0) {
        zset_removed(c, &c->argv[1], o, "zrem", deleted);
    }
    if (rc < 0) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    store_reply_int(&c->r, deleted);
}


static void
store_cmd_zscore(store_client_t *c)
{
    store_obj_t  *o;
    int           wrong;
    double        s;

    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_ZSET, 0, &wrong);
    if (wrong) {
        return;
    }
    if (o == NULL || !store_zset_score(o, c->argv[2].data, c->argv[2].len, &s))
    {
        store_reply_null(&c->r);
        return;
    }
    store_reply_double(&c->r, s);
}


static void
store_cmd_zmscore(store_client_t *c)
{
    store_obj_t  *o;
    int           wrong;
    double        s;
    size_t        i;

    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_ZSET, 0, &wrong);
    if (wrong) {
        return;
    }
    store_reply_array(&c->r, c->argc - 2);
    for (i = 2; i < c->argc; i++) {
        if (o != NULL
            && store_zset_score(o, c->argv[i].data, c->argv[i].len, &s))
        {
            store_reply_double(&c->r, s);
        } else {
            store_reply_null(&c->r);
        }
    }
}


static void
store_cmd_zcard(store_client_t *c)
{
    store_obj_t  *o;
    int           wrong;

    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_ZSET, 0, &wrong);
    if (wrong) {
        return;
    }
    store_reply_int(&c->r, o == NULL ? 0 : (long long) store_zset_len(o));
}


static void
store_cmd_zcount(store_client_t *c)
{
    store_obj_t     *o;
    store_zrange_t   r;
    int              wrong;

    if (store_zset_parse_range(&c->argv[2], &c->argv[3], &r) != OB_OK) {
        store_add_err(c, ZSET_ERR_RANGE_FLOAT);
        return;
    }
    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_ZSET, 0, &wrong);
    if (wrong) {
        return;
    }
    store_reply_int(&c->r, o == NULL ? 0
                           : (long long) store_zset_count_score(o, &r));
}


static void
store_cmd_zlexcount(store_client_t *c)
{
    store_obj_t   *o;
    store_zlex_t   r;
    int            wrong;

    if (store_zset_parse_lex(&c->argv[2], &c->argv[3], &r) != OB_OK) {
        store_add_err(c, ZSET_ERR_RANGE_LEX);
        return;
    }
    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_ZSET, 0, &wrong);
    if (wrong) {
        return;
    }
    store_reply_int(&c->r, o == NULL ? 0
                           : (long long) store_zset_count_lex(o, &r));
}


static void
zset_rank_generic(store_client_t *c, int rev)
{
    store_obj_t  *o;
    int           wrong;
    long long     rank;

    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_ZSET, 0, &wrong);
    if (wrong) {
        return;
    }
    rank = o == NULL ? -1 : store_zset_rank(o, c->argv[2].data,
                                            c->argv[2].len, rev, NULL);
    if (rank < 0) {
        store_reply_null(&c->r);
        return;
    }
    store_reply_int(&c->r, rank);
}


static void
store_cmd_zrank(store_client_t *c)
{
    zset_rank_generic(c, 0);
}


static void
store_cmd_zrevrank(store_client_t *c)
{
    zset_rank_generic(c, 1);
}


/* ---- the ZRANGE family ----------------------------------------------------- */

typedef enum {
    ZRANGE_AUTO = 0, ZRANGE_RANK, ZRANGE_SCORE, ZRANGE_LEX
} zrange_type_t;

/* Where a range goes: the client, or a new set (ZRANGESTORE). */
typedef struct zrange_out_s {
    store_client_t  *c;
    store_obj_t     *dst;         /* ZRANGESTORE's set, else NULL */
    store_reply_t   *r;           /* where replies go (a batch's) */
    int              withscores;
    int              oom;
} zrange_out_t;


static void
zrange_emit(zrange_out_t *out, const void *ele, size_t len, double score)
{
    int  f;

    if (out->dst == NULL) {
        store_zset_reply_elem(out->r, ele, len, score, out->withscores);
        return;
    }
    if (!out->oom
        && store_zset_add(store_arena(out->c), store_owner(out->c), out->dst,
                          score, ele, len, 0, &f, NULL) != OB_OK)
    {
        out->oom = 1;
    }
}


/*
 * Walks a positioned iterator: skips `offset` members, then emits up to
 * `limit` (-1: all) while they stay in range (r or lx; neither: count
 * members).  With out NULL only counts.  Returns the count.
 */
static size_t
zrange_walk(store_zset_it_t *it, long long offset, long long limit,
    const store_zrange_t *r, const store_zlex_t *lx, size_t count,
    zrange_out_t *out)
{
    size_t  n = 0;

    /* Redis's "while (ln && offset--)": a negative offset skips all. */
    while (store_zset_it_valid(it) && offset-- != 0) {
        store_zset_it_next(it);
    }
    while (limit-- != 0 && store_zset_it_valid(it)) {
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
        if (r == NULL && lx == NULL && n == count) {
            break;
        }
        if (out != NULL) {
            zrange_emit(out, it->ele, it->len, it->score);
        }
        n++;
        store_zset_it_next(it);
    }
    return n;
}


/* Finishes ZRANGESTORE: the set goes to dst (or dst is deleted when
 * empty); replies the count. */
static void
zrange_store_finish(store_client_t *c, const ob_str_t *dst, zrange_out_t *out)
{
    ob_arena_t  *a = store_arena(c);
    int          owner = store_owner(c);
    size_t       n = out->dst == NULL ? 0 : store_zset_len(out->dst);

    if (out->oom) {
        store_zset_free(a, owner, out->dst);
        store_obj_free(a, owner, out->dst);
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    if (n == 0) {
        if (out->dst != NULL) {
            store_zset_free(a, owner, out->dst);
            store_obj_free(a, owner, out->dst);
        }
        if (store_db_delete(c->db, dst->data, dst->len, store_now_ms(c))
            == OB_OK)
        {
            store_key_changed(c, dst, STORE_NOTIFY_GENERIC, "del");
        }
        store_reply_int(&c->r, 0);
        return;
    }
    if (store_db_set(c->db, dst->data, dst->len, out->dst, 0,
                     store_now_ms(c)) != OB_OK)
    {
        store_zset_free(a, owner, out->dst);
        store_obj_free(a, owner, out->dst);
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    store_key_changed(c, dst, STORE_NOTIFY_ZSET, "zrangestore");
    store_key_ready(c, dst);
    store_reply_int(&c->r, (long long) n);
}


/*
 * Redis's zrangeGenericCommand: argv[kidx] is the source key, then min and
 * max; `type` and `rev` are fixed by the command (ZRANGEBYSCORE ...) or
 * AUTO (ZRANGE, ZRANGESTORE: from the options).  store: ZRANGESTORE, with
 * the destination at argv[1].
 */
static void
zrange_generic(store_client_t *c, size_t kidx, int store, zrange_type_t type,
    int rev)
{
    int                  withscores = 0, wrong, rev_auto = rev < 0;
    long long            offset = 0, limit = -1, start, end, len;
    size_t               j, minidx = kidx + 1, maxidx = kidx + 2, n = 0;
    store_zrange_t       r;
    store_zlex_t         lx;
    store_obj_t         *o;
    store_zset_it_t      it;
    zrange_out_t         out;
    store_reply_batch_t  batch;

    if (rev_auto) {
        rev = 0;
    }
    for (j = kidx + 3; j < c->argc; j++) {
        size_t  left = c->argc - j - 1;

        if (!store && store_arg_is(&c->argv[j], "withscores")) {
            withscores = 1;
        } else if (store_arg_is(&c->argv[j], "limit") && left >= 2) {
            if (store_get_ll_or_reply(c, &c->argv[j + 1], &offset, NULL)
                != OB_OK
                || store_get_ll_or_reply(c, &c->argv[j + 2], &limit, NULL)
                   != OB_OK)
            {
                return;
            }
            j += 2;
        } else if (rev_auto && !rev && store_arg_is(&c->argv[j], "rev")) {
            rev = 1;
        } else if (type == ZRANGE_AUTO && store_arg_is(&c->argv[j], "bylex")) {
            type = ZRANGE_LEX;
        } else if (type == ZRANGE_AUTO
                   && store_arg_is(&c->argv[j], "byscore"))
        {
            type = ZRANGE_SCORE;
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
    }
    if (type == ZRANGE_AUTO) {
        type = ZRANGE_RANK;
    }
    if (limit != -1 && type == ZRANGE_RANK) {
        store_add_err(c, "ERR syntax error, LIMIT is only supported in "
                         "combination with either BYSCORE or BYLEX");
        return;
    }
    if (withscores && type == ZRANGE_LEX) {
        store_add_err(c, "ERR syntax error, WITHSCORES not supported in "
                         "combination with BYLEX");
        return;
    }
    if (rev && type != ZRANGE_RANK) {
        minidx = kidx + 2;
        maxidx = kidx + 1;
    }
    switch (type) {
    case ZRANGE_SCORE:
        if (store_zset_parse_range(&c->argv[minidx], &c->argv[maxidx], &r)
            != OB_OK)
        {
            store_add_err(c, ZSET_ERR_RANGE_FLOAT);
            return;
        }
        break;
    case ZRANGE_LEX:
        if (store_zset_parse_lex(&c->argv[minidx], &c->argv[maxidx], &lx)
            != OB_OK)
        {
            store_add_err(c, ZSET_ERR_RANGE_LEX);
            return;
        }
        break;
    default:
        if (store_get_ll_or_reply(c, &c->argv[minidx], &start, NULL) != OB_OK
            || store_get_ll_or_reply(c, &c->argv[maxidx], &end, NULL)
               != OB_OK)
        {
            return;
        }
        break;
    }

    o = store_lookup_typed(c, &c->argv[kidx], STORE_OBJ_ZSET, 0, &wrong);
    if (wrong) {
        return;
    }
    out.c = c;
    out.dst = NULL;
    out.r = &batch.r;
    out.withscores = withscores;
    out.oom = 0;
    if (o == NULL) {
        if (store) {
            zrange_store_finish(c, &c->argv[1], &out);
        } else {
            store_reply_array(&c->r, 0);
        }
        return;
    }

    if (type == ZRANGE_RANK) {
        len = (long long) store_zset_len(o);
        n = store_rank_range(&start, &end, len)
            ? (size_t) (end - start + 1) : 0;
    }
    if (store) {
        /* Redis 7.0 sizes the destination by the rank range's length
         * (a skiplist at once when it will not fit); by score or lex the
         * length is unknown and it starts as a listpack. */
        out.dst = store_zset_new(store_arena(c), store_owner(c),
                                 type == ZRANGE_RANK ? n : 0, 0);
        if (out.dst == NULL) {
            store_add_err(c, STORE_ERR_OOM);
            return;
        }
    }

    switch (type) {
    case ZRANGE_SCORE:
        if (!store) {
            store_zset_it_score(&it, o, &r, rev);
            n = zrange_walk(&it, offset, limit, &r, NULL, 0, NULL);
            store_zset_reply_begin(c, n, withscores);
        }
        store_reply_batch_init(&batch, &c->r);
        store_zset_it_score(&it, o, &r, rev);
        zrange_walk(&it, offset, limit, &r, NULL, 0, &out);
        store_reply_batch_flush(&batch);
        break;
    case ZRANGE_LEX:
        if (!store) {
            store_zset_it_lex(&it, o, &lx, rev);
            n = zrange_walk(&it, offset, limit, NULL, &lx, 0, NULL);
            store_zset_reply_begin(c, n, 0);
        }
        store_reply_batch_init(&batch, &c->r);
        store_zset_it_lex(&it, o, &lx, rev);
        zrange_walk(&it, offset, limit, NULL, &lx, 0, &out);
        store_reply_batch_flush(&batch);
        break;
    default:
        if (!store) {
            store_zset_reply_begin(c, n, withscores);
        }
        if (n > 0) {
            store_reply_batch_init(&batch, &c->r);
            store_zset_it_rank(&it, o, (size_t) start, rev);
            zrange_walk(&it, 0, -1, NULL, NULL, n, &out);
            store_reply_batch_flush(&batch);
        }
        break;
    }
    if (store) {
        zrange_store_finish(c, &c->argv[1], &out);
    }
}


static void
store_cmd_zrange(store_client_t *c)
{
    zrange_generic(c, 1, 0, ZRANGE_AUTO, -1);
}


static void
store_cmd_zrangestore(store_client_t *c)
{
    zrange_generic(c, 2, 1, ZRANGE_AUTO, -1);
}


static void
store_cmd_zrevrange(store_client_t *c)
{
    zrange_generic(c, 1, 0, ZRANGE_RANK, 1);
}


static void
store_cmd_zrangebyscore(store_client_t *c)
{
    zrange_generic(c, 1, 0, ZRANGE_SCORE, 0);
}


static void
store_cmd_zrevrangebyscore(store_client_t *c)
{
    zrange_generic(c, 1, 0, ZRANGE_SCORE, 1);
}


static void
store_cmd_zrangebylex(store_client_t *c)
{
    zrange_generic(c, 1, 0, ZRANGE_LEX, 0);
}


static void
store_cmd_zrevrangebylex(store_client_t *c)
{
    zrange_generic(c, 1, 0, ZRANGE_LEX, 1);
}


/* ---- range removals -------------------------------------------------------- */

static void
zremrange_generic(store_client_t *c, zrange_type_t type)
{
    static const char  *events[] = { "", "zremrangebyrank",
                                     "zremrangebyscore", "zremrangebylex" };
    store_zrange_t      r;
    store_zlex_t        lx;
    long long           start = 0, end = 0, len, deleted;
    store_obj_t        *o;
    int                 wrong;

    if (type == ZRANGE_RANK) {
        if (store_get_ll_or_reply(c, &c->argv[2], &start, NULL) != OB_OK
            || store_get_ll_or_reply(c, &c->argv[3], &end, NULL) != OB_OK)
        {
            return;
        }
    } else if (type == ZRANGE_SCORE) {
        if (store_zset_parse_range(&c->argv[2], &c->argv[3], &r) != OB_OK) {
            store_add_err(c, ZSET_ERR_RANGE_FLOAT);
            return;
        }
    } else if (store_zset_parse_lex(&c->argv[2], &c->argv[3], &lx) != OB_OK) {
        store_add_err(c, ZSET_ERR_RANGE_LEX);
        return;
    }
    o = store_lookup_typed(c, &c->argv[1], STORE_OBJ_ZSET, 1, &wrong);
    if (o == NULL) {
        if (!wrong) {
            store_reply_int(&c->r, 0);
        }
        return;
    }
    if (type == ZRANGE_RANK) {
        len = (long long) store_zset_len(o);
        if (!store_rank_range(&start, &end, len)) {
            store_reply_int(&c->r, 0);
            return;
        }
        deleted = store_zset_del_rank(store_arena(c), store_owner(c), o,
                                      (size_t) start, (size_t) end);
    } else if (type == ZRANGE_SCORE) {
        deleted = store_zset_del_score(store_arena(c), store_owner(c), o, &r);
    } else {
        deleted = store_zset_del_lex(store_arena(c), store_owner(c), o, &lx);
    }
    if (deleted < 0) {
        store_add_err(c, STORE_ERR_OOM);
        return;
    }
    if (deleted > 0) {
        zset_removed(c, &c->argv[1], o, events[type], deleted);
    }
    store_reply_int(&c->r, deleted);
}


static void
store_cmd_zremrangebyrank(store_client_t *c)
{
    zremrange_generic(c, ZRANGE_RANK);
}


static void
store_cmd_zremrangebyscore(store_client_t *c)
{
    zremrange_generic(c, ZRANGE_SCORE);
}


static void
store_cmd_zremrangebylex(store_client_t *c)
{
    zremrange_generic(c, ZRANGE_LEX);
}


/* ---- pops ------------------------------------------------------------------ */

/*
 * Redis's genericZpopCommand.  keys[0..nkeys): the first that holds a set
 * is popped (a wrong type stops the search with WRONGTYPE).  count -1:
 * no count given (one member).  emitkey: the key leads the reply
 * (BZPOPMIN, ZMPOP); nested: pairs as [m, s] arrays; nil_empty: nothing
 * to pop answers the null array, else the empty one.
 */
static void
zpop_generic(store_client_t *c, const ob_str_t *keys, size_t nkeys, int max,
    int emitkey, long long count, int nested, int nil_empty)
{
    store_obj_t      *o = NULL;
    const ob_str_t   *key = NULL;
    store_zset_it_t   it;
    size_t            i, n, len;
    int               wrong, counted = count != -1;

    for (i = 0; i < nkeys; i++) {
        o = store_lookup_typed(c, &keys[i], STORE_OBJ_ZSET, 1, &wrong);
        if (wrong) {
            return;
        }
        if (o != NULL) {
            key = &keys[i];
            break;
        }
    }
    if (o == NULL) {
        if (nil_empty) {
            store_reply_null_array(&c->r);
        } else {
            store_reply_array(&c->r, 0);
        }
        return;
    }
    if (count == -1) {
        count = 1;
    }
    len = store_zset_len(o);
    n = (unsigned long long) count > len ? len : (size_t) count;
    if (!nested && !emitkey) {
        store_reply_array(&c->r, 2 * n);
    } else if (nested && !emitkey) {
        store_reply_array(&c->r, n);
    } else if (!nested && emitkey) {
        store_reply_array(&c->r, 2 * n + 1);
        store_reply_bulk(&c->r, key->data, key->len);
    } else {
        store_reply_array(&c->r, 2);
        store_reply_bulk(&c->r, key->data, key->len);
        store_reply_array(&c->r, n);
    }
    /* The members are replied first, then removed in one go: a refused
     * listpack shrink (the only way removing can fail) then leaves them
     * in the set, but the reply stays well formed. */
    store_zset_it_rank(&it, o, 0, max);
    for (i = 0; i < n && store_zset_it_valid(&it); i++) {
        if (nested) {
            store_reply_array(&c->r, 2);
        }
        store_reply_bulk(&c->r, it.ele, it.len);
        store_reply_double(&c->r, it.score);
        store_zset_it_next(&it);
    }
    if (store_zset_del_rank(store_arena(c), store_owner(c), o,
                            max ? len - n : 0, max ? len - 1 : n - 1) < 0)
    {
        return;
    }
    zset_removed(c, key, o, max ? "zpopmax" : "zpopmin", (long long) n);
    if (emitkey) {
        /* BZPOPMIN/BZPOPMAX, [B]ZMPOP: written as the plain pop of the key
         * served, ZPOPMIN key (no count given) or ZPOPMIN key <number
         * popped>, as Redis 7.0 does */
        ob_str_t  argv[3];
        char      num[32];

        argv[0].data = (const uint8_t *) (max ? "ZPOPMAX" : "ZPOPMIN");
        argv[0].len = 7;
        argv[1] = *key;
        argv[2].len = (size_t) snprintf(num, sizeof(num), "%zu", n);
        argv[2].data = (const uint8_t *) num;
        store_propagate_cmd(c, argv, counted ? 3 : 2);
    }
}


static void
zpop_cmd(store_client_t *c, int max)
{
    long long  count = -1;

    if (c->argc > 3) {
        store_add_err(c, STORE_ERR_SYNTAX);
        return;
    }
    if (c->argc == 3) {
        /* Redis's getPositiveLongFromObjectOrReply: "must be positive"
         * for anything but a count >= 0, a non-number too */
        if (store_get_range_ll_or_reply(c, &c->argv[2], 0, LLONG_MAX, &count,
                                        STORE_ERR_POSITIVE) != OB_OK)
        {
            return;
        }
        if (count == 0) {
            store_reply_array(&c->r, 0);
            return;
        }
    }
    zpop_generic(c, &c->argv[1], 1, max, 0, count,
                 c->argc == 3 && c->r.proto > 2, 0);
}


static void
store_cmd_zpopmin(store_client_t *c)
{
    zpop_cmd(c, 0);
}


static void
store_cmd_zpopmax(store_client_t *c)
{
    zpop_cmd(c, 1);
}


/*
 * A blocking pop's re-run: served from the woken key only, as Redis does;
 * a key that is now empty or of another type leaves the client waiting
 * (store_block notes it).  0 when this is not a re-run.
 */
static int
bzpop_ready(store_client_t *c, int max, long long count, int mpop)
{
    const ob_str_t  *key = store_ready_key(c);
    store_obj_t     *o;

    if (key == NULL) {
        return 0;
    }
    o = store_lookup_write(c, key);
    if (o != NULL && o->type == STORE_OBJ_ZSET && store_zset_len(o) > 0) {
        zpop_generic(c, key, 1, max, 1, count, mpop, mpop);
    } else {
        store_block(c, key, 1, 0, NULL);
    }
    return 1;
}


static void
bzpop_cmd(store_client_t *c, int max)
{
    int64_t       deadline;
    store_obj_t  *o;
    size_t        j;
    int           wrong;

    if (store_get_timeout_or_reply(c, &c->argv[c->argc - 1], &deadline)
        != OB_OK)
    {
        return;
    }
    if (bzpop_ready(c, max, -1, 0)) {
        return;
    }
    for (j = 1; j < c->argc - 1; j++) {
        o = store_lookup_typed(c, &c->argv[j], STORE_OBJ_ZSET, 1, &wrong);
        if (wrong) {
            return;
        }
        if (o != NULL && store_zset_len(o) > 0) {
            zpop_generic(c, &c->argv[j], 1, max, 1, -1, 0, 0);
            return;
        }
    }
    store_block(c, &c->argv[1], c->argc - 2, deadline, NULL);
}


static void
store_cmd_bzpopmin(store_client_t *c)
{
    bzpop_cmd(c, 0);
}


static void
store_cmd_bzpopmax(store_client_t *c)
{
    bzpop_cmd(c, 1);
}


/* ZMPOP numkeys key... MIN|MAX [COUNT n]; BZMPOP timeout numkeys ... */
static void
zmpop_generic(store_client_t *c, size_t nkidx, int block)
{
    long long     numkeys, count = -1;
    size_t        widx, j;
    int           max, wrong;
    int64_t       deadline;
    store_obj_t  *o;

    if (store_get_range_ll_or_reply(c, &c->argv[nkidx], 1, LLONG_MAX,
                                    &numkeys,
                                    "ERR numkeys should be greater than 0")
        != OB_OK)
    {
        return;
    }
    if ((unsigned long long) numkeys >= c->argc - nkidx - 1) {
        store_add_err(c, STORE_ERR_SYNTAX);
        return;
    }
    widx = nkidx + (size_t) numkeys + 1;
    if (store_arg_is(&c->argv[widx], "min")) {
        max = 0;
    } else if (store_arg_is(&c->argv[widx], "max")) {
        max = 1;
    } else {
        store_add_err(c, STORE_ERR_SYNTAX);
        return;
    }
    for (j = widx + 1; j < c->argc; j++) {
        if (count == -1 && store_arg_is(&c->argv[j], "count")
            && j + 1 < c->argc)
        {
            j++;
            if (store_get_range_ll_or_reply(c, &c->argv[j], 1, LLONG_MAX,
                                            &count,
                                            "ERR count should be greater "
                                            "than 0") != OB_OK)
            {
                return;
            }
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            return;
        }
    }
    if (count == -1) {
        count = 1;
    }
    if (!block) {
        zpop_generic(c, &c->argv[nkidx + 1], (size_t) numkeys, max, 1, count,
                     1, 1);
        return;
    }
    if (store_get_timeout_or_reply(c, &c->argv[1], &deadline) != OB_OK) {
        return;
    }
    if (bzpop_ready(c, max, count, 1)) {
        return;
    }
    for (j = 0; j < (size_t) numkeys; j++) {
        o = store_lookup_typed(c, &c->argv[nkidx + 1 + j], STORE_OBJ_ZSET, 1,
                               &wrong);
        if (wrong) {
            return;
        }
        if (o != NULL && store_zset_len(o) > 0) {
            zpop_generic(c, &c->argv[nkidx + 1 + j], 1, max, 1, count, 1, 1);
            return;
        }
    }
    store_block(c, &c->argv[nkidx + 1], (size_t) numkeys, deadline, NULL);
}


static void
store_cmd_zmpop(store_client_t *c)
{
    zmpop_generic(c, 1, 0);
}


static void
store_cmd_bzmpop(store_client_t *c)
{
    zmpop_generic(c, 2, 1);
}


/* ---- the table ------------------------------------------------------------- */

#define W   (OB_CMD_WRITE)
#define R   (OB_CMD_READONLY)
#define F   (OB_CMD_FAST)
#define D   (STORE_CMD_DENYOOM)

const store_cmd_t store_cmds_zset[] = {
    { .base = { .name = "zadd", .arity_min = 4, .arity_max = -1,
                .flags = W | D | F },
      .handler = store_cmd_zadd, .keys = { 1, 1, 1 },
      .acl = "@write @sortedset @fast" },
    { .base = { .name = "zincrby", .arity_min = 4, .arity_max = 4,
                .flags = W | D | F },
      .handler = store_cmd_zincrby, .keys = { 1, 1, 1 },
      .acl = "@write @sortedset @fast" },
    { .base = { .name = "zrem", .arity_min = 3, .arity_max = -1,
                .flags = W | F },
      .handler = store_cmd_zrem, .keys = { 1, 1, 1 },
      .acl = "@write @sortedset @fast" },
    { .base = { .name = "zremrangebyscore", .arity_min = 4, .arity_max = 4,
                .flags = W },
      .handler = store_cmd_zremrangebyscore, .keys = { 1, 1, 1 },
      .acl = "@write @sortedset @slow" },
    { .base = { .name = "zremrangebyrank", .arity_min = 4, .arity_max = 4,
                .flags = W },
      .handler = store_cmd_zremrangebyrank, .keys = { 1, 1, 1 },
      .acl = "@write @sortedset @slow" },
    { .base = { .name = "zremrangebylex", .arity_min = 4, .arity_max = 4,
                .flags = W },
      .handler = store_cmd_zremrangebylex, .keys = { 1, 1, 1 },
      .acl = "@write @sortedset @slow" },
    { .base = { .name = "zunionstore", .arity_min = 4, .arity_max = -1,
                .flags = W | D | STORE_CMD_MOVABLEKEYS },
      .handler = store_cmd_zunionstore, .keys = { 1, 1, 1 },
      .acl = "@write @sortedset @slow" },
    { .base = { .name = "zinterstore", .arity_min = 4, .arity_max = -1,
                .flags = W | D | STORE_CMD_MOVABLEKEYS },
      .handler = store_cmd_zinterstore, .keys = { 1, 1, 1 },
      .acl = "@write @sortedset @slow" },
    { .base = { .name = "zdiffstore", .arity_min = 4, .arity_max = -1,
                .flags = W | D | STORE_CMD_MOVABLEKEYS },
      .handler = store_cmd_zdiffstore, .keys = { 1, 1, 1 },
      .acl = "@write @sortedset @slow" },
    { .base = { .name = "zunion", .arity_min = 3, .arity_max = -1,
                .flags = R | STORE_CMD_MOVABLEKEYS },
      .handler = store_cmd_zunion, .keys = { 0, 0, 0 },
      .acl = "@read @sortedset @slow" },
    { .base = { .name = "zinter", .arity_min = 3, .arity_max = -1,
                .flags = R | STORE_CMD_MOVABLEKEYS },
      .handler = store_cmd_zinter, .keys = { 0, 0, 0 },
      .acl = "@read @sortedset @slow" },
    { .base = { .name = "zintercard", .arity_min = 3, .arity_max = -1,
                .flags = R | STORE_CMD_MOVABLEKEYS },
      .handler = store_cmd_zintercard, .keys = { 0, 0, 0 },
      .acl = "@read @sortedset @slow" },
    { .base = { .name = "zdiff", .arity_min = 3, .arity_max = -1,
                .flags = R | STORE_CMD_MOVABLEKEYS },
      .handler = store_cmd_zdiff, .keys = { 0, 0, 0 },
      .acl = "@read @sortedset @slow" },
    { .base = { .name = "zrange", .arity_min = 4, .arity_max = -1,
                .flags = R },
      .handler = store_cmd_zrange, .keys = { 1, 1, 1 },
      .acl = "@read @sortedset @slow" },
    { .base = { .name = "zrangestore", .arity_min = 5, .arity_max = -1,
                .flags = W | D },
      .handler = store_cmd_zrangestore, .keys = { 1, 2, 1 },
      .acl = "@write @sortedset @slow" },
    { .base = { .name = "zrangebyscore", .arity_min = 4, .arity_max = -1,
                .flags = R },
      .handler = store_cmd_zrangebyscore, .keys = { 1, 1, 1 },
      .acl = "@read @sortedset @slow" },
    { .base = { .name = "zrevrangebyscore", .arity_min = 4, .arity_max = -1,
                .flags = R },
      .handler = store_cmd_zrevrangebyscore, .keys = { 1, 1, 1 },
      .acl = "@read @sortedset @slow" },
    { .base = { .name = "zrangebylex", .arity_min = 4, .arity_max = -1,
                .flags = R },
      .handler = store_cmd_zrangebylex, .keys = { 1, 1, 1 },
      .acl = "@read @sortedset @slow" },
    { .base = { .name = "zrevrangebylex", .arity_min = 4, .arity_max = -1,
                .flags = R },
      .handler = store_cmd_zrevrangebylex, .keys = { 1, 1, 1 },
      .acl = "@read @sortedset @slow" },
    { .base = { .name = "zcount", .arity_min = 4, .arity_max = 4,
                .flags = R | F },
      .handler = store_cmd_zcount, .keys = { 1, 1, 1 },
      .acl = "@read @sortedset @fast" },
    { .base = { .name = "zlexcount", .arity_min = 4, .arity_max = 4,
                .flags = R | F },
      .handler = store_cmd_zlexcount, .keys = { 1, 1, 1 },
      .acl = "@read @sortedset @fast" },
    { .base = { .name = "zrevrange", .arity_min = 4, .arity_max = -1,
                .flags = R },
      .handler = store_cmd_zrevrange, .keys = { 1, 1, 1 },
      .acl = "@read @sortedset @slow" },
    { .base = { .name = "zcard", .arity_min = 2, .arity_max = 2,
                .flags = R | F },
      .handler = store_cmd_zcard, .keys = { 1, 1, 1 },
      .acl = "@read @sortedset @fast" },
    { .base = { .name = "zscore", .arity_min = 3, .arity_max = 3,
                .flags = R | F },
      .handler = store_cmd_zscore, .keys = { 1, 1, 1 },
      .acl = "@read @sortedset @fast" },
    { .base = { .name = "zmscore", .arity_min = 3, .arity_max = -1,
                .flags = R | F },
      .handler = store_cmd_zmscore, .keys = { 1, 1, 1 },
      .acl = "@read @sortedset @fast" },
    { .base = { .name = "zrank", .arity_min = 3, .arity_max = 3,
                .flags = R | F },
      .handler = store_cmd_zrank, .keys = { 1, 1, 1 },
      .acl = "@read @sortedset @fast" },
    { .base = { .name = "zrevrank", .arity_min = 3, .arity_max = 3,
                .flags = R | F },
      .handler = store_cmd_zrevrank, .keys = { 1, 1, 1 },
      .acl = "@read @sortedset @fast" },
    { .base = { .name = "zscan", .arity_min = 3, .arity_max = -1,
                .flags = R },
      .handler = store_cmd_zscan, .keys = { 1, 1, 1 },
      .acl = "@read @sortedset @slow" },
    { .base = { .name = "zpopmin", .arity_min = 2, .arity_max = -1,
                .flags = W | F },
      .handler = store_cmd_zpopmin, .keys = { 1, 1, 1 },
      .acl = "@write @sortedset @fast" },
    { .base = { .name = "zpopmax", .arity_min = 2, .arity_max = -1,
                .flags = W | F },
      .handler = store_cmd_zpopmax, .keys = { 1, 1, 1 },
      .acl = "@write @sortedset @fast" },
    { .base = { .name = "zmpop", .arity_min = 4, .arity_max = -1,
                .flags = W | STORE_CMD_MOVABLEKEYS },
      .handler = store_cmd_zmpop, .keys = { 0, 0, 0 },
      .acl = "@write @sortedset @slow" },
    { .base = { .name = "bzpopmin", .arity_min = 3, .arity_max = -1,
                .flags = W | F | STORE_CMD_NOSCRIPT | STORE_CMD_BLOCKING },
      .handler = store_cmd_bzpopmin, .keys = { 1, -2, 1 },
      .acl = "@write @sortedset @fast @blocking" },
    { .base = { .name = "bzpopmax", .arity_min = 3, .arity_max = -1,
                .flags = W | F | STORE_CMD_NOSCRIPT | STORE_CMD_BLOCKING },
      .handler = store_cmd_bzpopmax, .keys = { 1, -2, 1 },
      .acl = "@write @sortedset @fast @blocking" },
    { .base = { .name = "bzmpop", .arity_min = 5, .arity_max = -1,
                .flags = W | STORE_CMD_BLOCKING | STORE_CMD_MOVABLEKEYS },
      .handler = store_cmd_bzmpop, .keys = { 0, 0, 0 },
      .acl = "@write @sortedset @slow @blocking" },
    { .base = { .name = "zrandmember", .arity_min = 2, .arity_max = -1,
                .flags = R },
      .handler = store_cmd_zrandmember, .keys = { 1, 1, 1 },
      .acl = "@read @sortedset @slow" },
    { .base = { .name = NULL } }
};
