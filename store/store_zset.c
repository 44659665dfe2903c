/*
 * store_zset.c: the sorted set value (see store_zset.h for the two
 * encodings).  The skiplist is Redis's zskiplist (t_zset.c): levels drawn
 * with p = 1/4, each forward pointer carrying the number of nodes it skips
 * (its span) so that a rank is the sum of the spans on the way down.  Its
 * nodes double as the entries of an intrusive ob_hash keyed by member, so
 * a member costs one arena allocation: the node, with the member's bytes
 * after its levels.
 *
 * Invariants: members are unique; nodes are sorted by (score, member
 * bytes); no score is NaN; a listpack holds member, score pairs in the
 * same order, its scores as text (so -0 reads back as 0 there, while a
 * skiplist keeps -0, as in Redis).
 */
#include "store_zset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "store_int.h"


static uint64_t
zsl_hash_key(const void *key, size_t nkey, void *ctx)
{
    (void) ctx;
    return XXH3_64bits(key, nkey);
}


static uint64_t
zsl_hash_entry(const ob_hash_link_t *e, void *ctx)
{
    store_zsl_node_t  *n = OB_HASH_ENTRY(e, store_zsl_node_t, hlink);

    (void) ctx;
    return XXH3_64bits(STORE_ZSL_ELE(n), n->len);
}


static int
zsl_hash_is_key(const ob_hash_link_t *e, const void *key, size_t nkey,
    void *ctx)
{
    store_zsl_node_t  *n = OB_HASH_ENTRY(e, store_zsl_node_t, hlink);

    (void) ctx;
    return n->len == nkey && memcmp(STORE_ZSL_ELE(n), key, nkey) == 0;
}


static const ob_hash_type_t  zsl_hash_type = {
    .hash_key = zsl_hash_key,
    .hash_entry = zsl_hash_entry,
    .entry_is_key = zsl_hash_is_key
};


/* Byte order of two strings, the shorter first on a common prefix
 * (Redis's sdscmp). */
static int
zset_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    int  c = memcmp(a, b, alen < blen ? alen : blen);

    if (c != 0) {
        return c;
    }
    return alen < blen ? -1 : (alen > blen ? 1 : 0);
}


size_t
store_zset_d2s(double d, char *buf)
{
    if (isnan(d)) {
        memcpy(buf, "nan", 4);
        return 3;
    }
    if (isinf(d)) {
        if (d < 0) {
            memcpy(buf, "-inf", 5);
            return 4;
        }
        memcpy(buf, "inf", 4);
        return 3;
    }
    /* Integers below 2^52 are exact: Redis stores them as integers, which
     * the listpack then encodes in a few bytes. */
    if (d > -4503599627370495.0 && d < 4503599627370496.0
        && d == (double) (long long) d)
    {
        return store_reply_ll_format((long long) d, buf);
    }
    return (size_t) snprintf(buf, STORE_REPLY_DOUBLE_MAX, "%.17g", d);
}


/* ---- ranges ---------------------------------------------------------------- */

int
store_zset_score_gte_min(double v, const store_zrange_t *r)
{
    return r->minex ? v > r->min : v >= r->min;
}


int
store_zset_score_lte_max(double v, const store_zrange_t *r)
{
    return r->maxex ? v < r->max : v <= r->max;
}


int
store_zset_range_empty(const store_zrange_t *r)
{
    return r->min > r->max || (r->min == r->max && (r->minex || r->maxex));
}


int
store_zset_lex_gte_min(const void *s, size_t len, const store_zlex_t *r)
{
    int  c;

    if (r->mininf != 0) {
        return r->mininf < 0;
    }
    c = zset_cmp(s, len, r->min, r->minlen);
    return r->minex ? c > 0 : c >= 0;
}


int
store_zset_lex_lte_max(const void *s, size_t len, const store_zlex_t *r)
{
    int  c;

    if (r->maxinf != 0) {
        return r->maxinf > 0;
    }
    c = zset_cmp(s, len, r->max, r->maxlen);
    return r->maxex ? c < 0 : c <= 0;
}


int
store_zset_lex_empty(const store_zlex_t *r)
{
    int  c;

    /* Redis's sdscmplex: "-" is below and "+" above every string. */
    if (r->mininf == r->maxinf && r->mininf != 0) {
        c = 0;
    } else if (r->mininf < 0 || r->maxinf > 0) {
        c = -1;
    } else if (r->mininf > 0 || r->maxinf < 0) {
        c = 1;
    } else {
        c = zset_cmp(r->min, r->minlen, r->max, r->maxlen);
    }
    return c > 0 || (c == 0 && (r->minex || r->maxex));
}


/* ---- the skiplist ---------------------------------------------------------- */

static size_t
zsl_node_size(unsigned level, size_t len)
{
    return sizeof(store_zsl_node_t) + level * sizeof(((store_zsl_node_t *) 0)
                                                    ->lv[0]) + len;
}


static unsigned
zsl_random_level(void)
{
    unsigned  level = 1;

    while ((random() & 0xFFFF) < (0xFFFF >> 2) && level < STORE_ZSL_MAXLEVEL) {
        level++;
    }
    return level;
}


static store_zsl_t *
zsl_new(ob_arena_t *a, int owner)
{
    store_zsl_t  *zsl;
    size_t        hsize = zsl_node_size(STORE_ZSL_MAXLEVEL, 0);
    int           i;

    zsl = ob_arena_alloc(a, owner, sizeof(store_zsl_t));
    if (zsl == NULL) {
        return NULL;
    }
    zsl->header = ob_arena_alloc(a, owner, hsize);
    if (zsl->header == NULL) {
        ob_arena_free(a, owner, zsl, sizeof(store_zsl_t));
        return NULL;
    }
    if (ob_hash_init(&zsl->h, &zsl_hash_type, NULL,
                     &(ob_hash_conf_t) { .power_init = 2, .load_factor = 1.0,
                                         .shrink_fill = 0.1 }) != OB_OK)
    {
        ob_arena_free(a, owner, zsl->header, hsize);
        ob_arena_free(a, owner, zsl, sizeof(store_zsl_t));
        return NULL;
    }
    memset(zsl->header, 0, hsize);
    zsl->header->level = STORE_ZSL_MAXLEVEL;
    for (i = 0; i < STORE_ZSL_MAXLEVEL; i++) {
        zsl->header->lv[i].forward = NULL;
        zsl->header->lv[i].span = 0;
    }
    zsl->tail = NULL;
    zsl->length = 0;
    zsl->level = 1;
    zsl->bytes = ob_arena_chunk_size(a, sizeof(store_zsl_t))
                 + ob_arena_chunk_size(a, hsize);
    return zsl;
}


static void
zsl_free(ob_arena_t *a, int owner, store_zsl_t *zsl)
{
    store_zsl_node_t  *n, *next;

    for (n = zsl->header->lv[0].forward; n != NULL; n = next) {
        next = n->lv[0].forward;
        ob_arena_free(a, owner, n, zsl_node_size(n->level, n->len));
    }
    ob_hash_fini(&zsl->h);
    ob_arena_free(a, owner, zsl->header, zsl_node_size(STORE_ZSL_MAXLEVEL, 0));
    ob_arena_free(a, owner, zsl, sizeof(store_zsl_t));
}


/* 1 when node n sorts before (score, ele). */
static int
zsl_before(const store_zsl_node_t *n, double score, const void *ele,
    size_t len)
{
    return n->score < score
           || (n->score == score
               && zset_cmp(STORE_ZSL_ELE(n), n->len, ele, len) < 0);
}


/* Links node x (its score, member and level set) at its place. */
static void
zsl_link(store_zsl_t *zsl, store_zsl_node_t *x)
{
    store_zsl_node_t  *update[STORE_ZSL_MAXLEVEL], *p;
    size_t             rank[STORE_ZSL_MAXLEVEL];
    int                i, level = (int) x->level;

    p = zsl->header;
    for (i = zsl->level - 1; i >= 0; i--) {
        rank[i] = i == zsl->level - 1 ? 0 : rank[i + 1];
        while (p->lv[i].forward != NULL
               && zsl_before(p->lv[i].forward, x->score, STORE_ZSL_ELE(x),
                             x->len))
        {
            rank[i] += p->lv[i].span;
            p = p->lv[i].forward;
        }
        update[i] = p;
    }
    if (level > zsl->level) {
        for (i = zsl->level; i < level; i++) {
            rank[i] = 0;
            update[i] = zsl->header;
            update[i]->lv[i].span = zsl->length;
        }
        zsl->level = level;
    }
    for (i = 0; i < level; i++) {
        x->lv[i].forward = update[i]->lv[i].forward;
        update[i]->lv[i].forward = x;
        x->lv[i].span = update[i]->lv[i].span - (rank[0] - rank[i]);
        update[i]->lv[i].span = (rank[0] - rank[i]) + 1;
    }
    for (i = level; i < zsl->level; i++) {
        update[i]->lv[i].span++;
    }
    x->backward = update[0] == zsl->header ? NULL : update[0];
    if (x->lv[0].forward != NULL) {
        x->lv[0].forward->backward = x;
    } else {
        zsl->tail = x;
    }
    zsl->length++;
}


/* Unlinks x from the skiplist (not from the hash); x stays allocated. */
static void
zsl_unlink(store_zsl_t *zsl, store_zsl_node_t *x)
{
    store_zsl_node_t  *update[STORE_ZSL_MAXLEVEL], *p;
    int                i;

    p = zsl->header;
    for (i = zsl->level - 1; i >= 0; i--) {
        while (p->lv[i].forward != NULL && p->lv[i].forward != x
               && zsl_before(p->lv[i].forward, x->score, STORE_ZSL_ELE(x),
                             x->len))
        {
            p = p->lv[i].forward;
        }
        update[i] = p;
    }
    for (i = 0; i < zsl->level; i++) {
        if (update[i]->lv[i].forward == x) {
            update[i]->lv[i].span += x->lv[i].span - 1;
            update[i]->lv[i].forward = x->lv[i].forward;
        } else {
            update[i]->lv[i].span -= 1;
        }
    }
    if (x->lv[0].forward != NULL) {
        x->lv[0].forward->backward = x->backward;
    } else {
        zsl->tail = x->backward;
    }
    while (zsl->level > 1 && zsl->header->lv[zsl->level - 1].forward == NULL) {
        zsl->level--;
    }
    zsl->length--;
}


static store_zsl_node_t *
zsl_find(store_zsl_t *zsl, const void *ele, size_t len)
{
    ob_hash_link_t  *l = ob_hash_find(&zsl->h, ele, len);

    return l == NULL ? NULL : OB_HASH_ENTRY(l, store_zsl_node_t, hlink);
}


static int
zsl_insert(ob_arena_t *a, int owner, store_zsl_t *zsl, double score,
    const void *ele, size_t len)
{
    store_zsl_node_t  *x;
    unsigned           level = zsl_random_level();
    size_t             size = zsl_node_size(level, len);

    x = ob_arena_alloc(a, owner, size);
    if (x == NULL) {
        return OB_ERR;
    }
    x->score = score;
    x->len = (uint32_t) len;
    x->level = level;
    memcpy(STORE_ZSL_ELE(x), ele, len);
    zsl_link(zsl, x);
    ob_hash_insert(&zsl->h, &x->hlink);
    zsl->bytes += ob_arena_chunk_size(a, size);
    return OB_OK;
}


static void
zsl_delete(ob_arena_t *a, int owner, store_zsl_t *zsl, store_zsl_node_t *x)
{
    size_t  size = zsl_node_size(x->level, x->len);

    zsl_unlink(zsl, x);
    ob_hash_delete(&zsl->h, &x->hlink);
    zsl->bytes -= ob_arena_chunk_size(a, size);
    ob_arena_free(a, owner, x, size);
}


/* Moves x to a new score, in place when its neighbours allow. */
static void
zsl_update(store_zsl_t *zsl, store_zsl_node_t *x, double score)
{
    store_zsl_node_t  *next = x->lv[0].forward;

    if ((x->backward == NULL
         || zsl_before(x->backward, score, STORE_ZSL_ELE(x), x->len))
        && (next == NULL
            || !zsl_before(next, score, STORE_ZSL_ELE(x), x->len)))
    {
        x->score = score;
        return;
    }
    zsl_unlink(zsl, x);
    x->score = score;
    zsl_link(zsl, x);
}


/* The 1-based rank of x. */
static size_t
zsl_rank(const store_zsl_t *zsl, const store_zsl_node_t *x)
{
    store_zsl_node_t  *p = zsl->header;
    size_t             rank = 0;
    int                i;

    for (i = zsl->level - 1; i >= 0; i--) {
        while (p->lv[i].forward != NULL
               && (p->lv[i].forward == x
                   || zsl_before(p->lv[i].forward, x->score, STORE_ZSL_ELE(x),
                                 x->len)))
        {
            rank += p->lv[i].span;
            p = p->lv[i].forward;
        }
        if (p == x) {
            return rank;
        }
    }
    return 0;
}


/* The node of 1-based rank `rank`, or NULL. */
static store_zsl_node_t *
zsl_by_rank(const store_zsl_t *zsl, size_t rank)
{
    store_zsl_node_t  *p = zsl->header;
    size_t             traversed = 0;
    int                i;

    for (i = zsl->level - 1; i >= 0; i--) {
        while (p->lv[i].forward != NULL && traversed + p->lv[i].span <= rank) {
            traversed += p->lv[i].span;
            p = p->lv[i].forward;
        }
        if (traversed == rank) {
            return p == zsl->header ? NULL : p;
        }
    }
    return NULL;
}


/* The first node in r (and its 1-based rank in *rank), or NULL. */
static store_zsl_node_t *
zsl_first_score(const store_zsl_t *zsl, const store_zrange_t *r, size_t *rank)
{
    store_zsl_node_t  *p = zsl->header;
    size_t             n = 0;
    int                i;

    if (store_zset_range_empty(r)) {
        return NULL;
    }
    for (i = zsl->level - 1; i >= 0; i--) {
        while (p->lv[i].forward != NULL
               && !store_zset_score_gte_min(p->lv[i].forward->score, r))
        {
            n += p->lv[i].span;
            p = p->lv[i].forward;
        }
    }
    p = p->lv[0].forward;
    if (p == NULL || !store_zset_score_lte_max(p->score, r)) {
        return NULL;
    }
    *rank = n + 1;
    return p;
}


static store_zsl_node_t *
zsl_last_score(const store_zsl_t *zsl, const store_zrange_t *r, size_t *rank)
{
    store_zsl_node_t  *p = zsl->header;
    size_t             n = 0;
    int                i;

    if (store_zset_range_empty(r)) {
        return NULL;
    }
    for (i = zsl->level - 1; i >= 0; i--) {
        while (p->lv[i].forward != NULL
               && store_zset_score_lte_max(p->lv[i].forward->score, r))
        {
            n += p->lv[i].span;
            p = p->lv[i].forward;
        }
    }
    if (p == zsl->header || !store_zset_score_gte_min(p->score, r)) {
        return NULL;
    }
    *rank = n;
    return p;
}


static store_zsl_node_t *
zsl_first_lex(const store_zsl_t *zsl, const store_zlex_t *r, size_t *rank)
{
    store_zsl_node_t  *p = zsl->header, *f;
    size_t             n = 0;
    int                i;

    if (store_zset_lex_empty(r)) {
        return NULL;
    }
    for (i = zsl->level - 1; i >= 0; i--) {
        while ((f = p->lv[i].forward) != NULL
               && !store_zset_lex_gte_min(STORE_ZSL_ELE(f), f->len, r))
        {
            n += p->lv[i].span;
            p = f;
        }
    }
    p = p->lv[0].forward;
    if (p == NULL || !store_zset_lex_lte_max(STORE_ZSL_ELE(p), p->len, r)) {
        return NULL;
    }
    *rank = n + 1;
    return p;
}


static store_zsl_node_t *
zsl_last_lex(const store_zsl_t *zsl, const store_zlex_t *r, size_t *rank)
{
    store_zsl_node_t  *p = zsl->header, *f;
    size_t             n = 0;
    int                i;

    if (store_zset_lex_empty(r)) {
        return NULL;
    }
    for (i = zsl->level - 1; i >= 0; i--) {
        while ((f = p->lv[i].forward) != NULL
               && store_zset_lex_lte_max(STORE_ZSL_ELE(f), f->len, r))
        {
            n += p->lv[i].span;
            p = f;
        }
    }
    if (p == zsl->header
        || !store_zset_lex_gte_min(STORE_ZSL_ELE(p), p->len, r))
    {
        return NULL;
    }
    *rank = n;
    return p;
}


/* ---- the listpack ---------------------------------------------------------- */

/* The score stored at pos. */
static double
lp_score(const uint8_t *lp, store_lp_pos_t pos)
{
    store_lp_val_t  v;
    char            buf[128];
    size_t          n;

    store_lp_get(lp, pos, &v);
    if (v.s == NULL) {
        return (double) v.ll;
    }
    n = v.len < sizeof(buf) - 1 ? v.len : sizeof(buf) - 1;
    memcpy(buf, v.s, n);
    buf[n] = '\0';
    return strtod(buf, NULL);
}


/* The member entry equal to ele, or 0. */
static store_lp_pos_t
lp_find(const uint8_t *lp, const void *ele, size_t len)
{
    store_lp_pos_t  first = store_lp_first(lp);

    if (first == 0) {
        return 0;
    }
    return store_lp_find(lp, first, ele, len, 1);
}


/* Inserts (ele, score) at its sorted place; *idx (may be NULL) gets the
 * pair's index (in pairs).  OB_ERR: unchanged. */
static int
lp_insert(ob_arena_t *a, int owner, uint8_t **lp, double score,
    const void *ele, size_t len, size_t *idx)
{
    store_lp_pos_t   pos, newpos;
    char             sbuf[STORE_REPLY_DOUBLE_MAX], ebuf[STORE_LP_INTBUF];
    const uint8_t   *s;
    size_t           slen, elen, i = 0;
    double           cur;

    slen = store_zset_d2s(score, sbuf);
    for (pos = store_lp_first(*lp); pos != 0;
         pos = store_lp_next(*lp, store_lp_next(*lp, pos)), i++)
    {
        cur = lp_score(*lp, store_lp_next(*lp, pos));
        if (cur > score) {
            break;
        }
        if (cur == score) {
            s = store_lp_get_str(*lp, pos, ebuf, &elen);
            if (zset_cmp(s, elen, ele, len) > 0) {
                break;
            }
        }
    }
    if (idx != NULL) {
        *idx = i;
    }
    if (pos == 0) {
        if (store_lp_append(a, owner, lp, ele, len) != OB_OK) {
            return OB_ERR;
        }
        if (store_lp_append(a, owner, lp, sbuf, slen) != OB_OK) {
            (void) store_lp_delete(a, owner, lp, store_lp_last(*lp), 1);
            return OB_ERR;
        }
        return OB_OK;
    }
    if (store_lp_insert(a, owner, lp, pos, 0, ele, len, &newpos) != OB_OK) {
        return OB_ERR;
    }
    if (store_lp_insert(a, owner, lp, newpos, 1, sbuf, slen, NULL) != OB_OK) {
        (void) store_lp_delete(a, owner, lp, newpos, 1);
        return OB_ERR;
    }
    return OB_OK;
}


/* The pair index of the member entry at pos. */
static size_t
lp_index(const uint8_t *lp, store_lp_pos_t pos)
{
    store_lp_pos_t  p;
    size_t          i = 0;

    for (p = store_lp_first(lp); p != 0 && p != pos;
         p = store_lp_next(lp, store_lp_next(lp, p)))
    {
        i++;
    }
    return i;
}


/* ---- the object ------------------------------------------------------------ */

store_obj_t *
store_zset_new(ob_arena_t *a, int owner, size_t size_hint, size_t maxlen)
{
    store_obj_t  *o;
    void         *p;
    int           lp = size_hint <= STORE_ZSET_LP_ENTRIES
                       && maxlen <= STORE_ZSET_LP_VALUE;

    p = lp ? (void *) store_lp_new(a, owner) : (void *) zsl_new(a, owner);
    if (p == NULL) {
        return NULL;
    }
    o = store_obj_payload_new(a, owner, STORE_OBJ_ZSET,
                              lp ? STORE_ENC_LISTPACK : STORE_ENC_SKIPLIST, p);
    if (o == NULL) {
        if (lp) {
            store_lp_free(a, owner, p);
        } else {
            zsl_free(a, owner, p);
        }
    }
    return o;
}


void
store_zset_free(ob_arena_t *a, int owner, store_obj_t *o)
{
    if (o->v.ptr == NULL) {
        return;
    }
    if (o->encoding == STORE_ENC_LISTPACK) {
        store_lp_free(a, owner, o->v.ptr);
    } else {
        zsl_free(a, owner, o->v.ptr);
    }
    o->v.ptr = NULL;
}


store_obj_t *
store_zset_dup(ob_arena_t *a, int owner, const store_obj_t *o)
{
    store_obj_t       *d;
    uint8_t           *lp;
    store_zsl_t       *src = o->v.ptr;
    store_zsl_node_t  *n;

    if (o->encoding == STORE_ENC_LISTPACK) {
        lp = store_lp_dup(a, owner, o->v.ptr);
        if (lp == NULL) {
            return NULL;
        }
        d = store_obj_payload_new(a, owner, STORE_OBJ_ZSET, STORE_ENC_LISTPACK,
                                  lp);
        if (d == NULL) {
            store_lp_free(a, owner, lp);
        }
        return d;
    }
    d = store_zset_new(a, owner, SIZE_MAX, 0);
    if (d == NULL) {
        return NULL;
    }
    /* From the tail: each insert lands at the head, a short search. */
    for (n = src->tail; n != NULL; n = n->backward) {
        if (zsl_insert(a, owner, d->v.ptr, n->score, STORE_ZSL_ELE(n), n->len)
            != OB_OK)
        {
            store_zset_free(a, owner, d);
            store_obj_free(a, owner, d);
            return NULL;
        }
    }
    return d;
}


size_t
store_zset_mem(const ob_arena_t *a, const store_obj_t *o)
{
    size_t           n = ob_arena_chunk_size(a, sizeof(store_obj_t));
    ob_hash_stats_t  hs;

    if (o->encoding == STORE_ENC_LISTPACK) {
        return n + ob_arena_chunk_size(a, store_lp_bytes(o->v.ptr));
    }
    ob_hash_stats(&((store_zsl_t *) o->v.ptr)->h, &hs);
    return n + ((store_zsl_t *) o->v.ptr)->bytes + hs.bytes;
}


size_t
store_zset_len(const store_obj_t *o)
{
    if (o->encoding == STORE_ENC_LISTPACK) {
        return store_lp_count(o->v.ptr) / 2;
    }
    return ((store_zsl_t *) o->v.ptr)->length;
}


int
store_zset_score(const store_obj_t *o, const void *ele, size_t len,
    double *score)
{
    store_lp_pos_t     pos;
    store_zsl_node_t  *n;

    if (o->encoding == STORE_ENC_LISTPACK) {
        pos = lp_find(o->v.ptr, ele, len);
        if (pos == 0) {
            return 0;
        }
        *score = lp_score(o->v.ptr, store_lp_next(o->v.ptr, pos));
        return 1;
    }
    n = zsl_find(o->v.ptr, ele, len);
    if (n == NULL) {
        return 0;
    }
    *score = n->score;
    return 1;
}


int
store_zset_to_skiplist(ob_arena_t *a, int owner, store_obj_t *o)
{
    store_zsl_t     *zsl;
    uint8_t         *lp = o->v.ptr;
    store_lp_pos_t   pos, spos;
    const uint8_t   *s;
    size_t           len;
    char             buf[STORE_LP_INTBUF];

    if (o->encoding == STORE_ENC_SKIPLIST) {
        return OB_OK;
    }
    zsl = zsl_new(a, owner);
    if (zsl == NULL) {
        return OB_ERR;
    }
    for (pos = store_lp_first(lp); pos != 0; pos = store_lp_next(lp, spos)) {
        spos = store_lp_next(lp, pos);
        s = store_lp_get_str(lp, pos, buf, &len);
        if (zsl_insert(a, owner, zsl, lp_score(lp, spos), s, len) != OB_OK) {
            zsl_free(a, owner, zsl);
            return OB_ERR;
        }
    }
    store_lp_free(a, owner, lp);
    o->v.ptr = zsl;
    o->encoding = STORE_ENC_SKIPLIST;
    return OB_OK;
}


void
store_zset_shrink(ob_arena_t *a, int owner, store_obj_t *o)
{
    store_zsl_t       *zsl = o->v.ptr;
    store_zsl_node_t  *n;
    uint8_t           *lp;
    char               sbuf[STORE_REPLY_DOUBLE_MAX];
    size_t             slen;

    if (o->encoding != STORE_ENC_SKIPLIST
        || zsl->length > STORE_ZSET_LP_ENTRIES)
    {
        return;
    }
    for (n = zsl->header->lv[0].forward; n != NULL; n = n->lv[0].forward) {
        if (n->len > STORE_ZSET_LP_VALUE) {
            return;
        }
    }
    lp = store_lp_new(a, owner);
    if (lp == NULL) {
        return;
    }
    for (n = zsl->header->lv[0].forward; n != NULL; n = n->lv[0].forward) {
        slen = store_zset_d2s(n->score, sbuf);
        if (store_lp_append(a, owner, &lp, STORE_ZSL_ELE(n), n->len) != OB_OK
            || store_lp_append(a, owner, &lp, sbuf, slen) != OB_OK)
        {
            store_lp_free(a, owner, lp);
            return;
        }
    }
    zsl_free(a, owner, zsl);
    o->v.ptr = lp;
    o->encoding = STORE_ENC_LISTPACK;
}


int
store_zset_add(ob_arena_t *a, int owner, store_obj_t *o, double score,
    const void *ele, size_t len, int in_flags, int *out_flags,
    double *newscore)
{
    int                incr = in_flags & STORE_ZADD_INCR;
    int                nx = in_flags & STORE_ZADD_NX;
    int                xx = in_flags & STORE_ZADD_XX;
    int                gt = in_flags & STORE_ZADD_GT;
    int                lt = in_flags & STORE_ZADD_LT;
    int                found;
    double             cur = 0;
    store_lp_pos_t     pos = 0;
    store_zsl_node_t  *n = NULL;
    uint8_t           *lp;
    size_t             oldidx, newidx;

    *out_flags = 0;
    if (isnan(score)) {
        *out_flags = STORE_ZADD_NAN;
        return OB_ERR;
    }
    if (o->encoding == STORE_ENC_LISTPACK) {
        pos = lp_find(o->v.ptr, ele, len);
        found = pos != 0;
        if (found) {
            cur = lp_score(o->v.ptr, store_lp_next(o->v.ptr, pos));
        }
    } else {
        n = zsl_find(o->v.ptr, ele, len);
        found = n != NULL;
        if (found) {
            cur = n->score;
        }
    }

    if (found) {
        if (nx) {
            *out_flags = STORE_ZADD_NOP;
            return OB_OK;
        }
        if (incr) {
            score += cur;
            if (isnan(score)) {
                *out_flags = STORE_ZADD_NAN;
                return OB_ERR;
            }
        }
        if ((lt && score >= cur) || (gt && score <= cur)) {
            *out_flags = STORE_ZADD_NOP;
            return OB_OK;
        }
        if (newscore != NULL) {
            *newscore = score;
        }
        if (score == cur) {
            return OB_OK;
        }
        if (o->encoding == STORE_ENC_SKIPLIST) {
            zsl_update(o->v.ptr, n, score);
            *out_flags = STORE_ZADD_UPDATED;
            return OB_OK;
        }
        /* A listpack moves the pair: the new one goes in first, then the
         * old one out, so that a refused allocation leaves the set as it
         * was. */
        lp = o->v.ptr;
        oldidx = lp_index(lp, pos);
        if (lp_insert(a, owner, &lp, score, ele, len, &newidx) != OB_OK) {
            o->v.ptr = lp;
            return OB_ERR;
        }
        if (newidx <= oldidx) {
            oldidx++;
        }
        if (store_lp_delete_range(a, owner, &lp, 2 * oldidx, 2) != OB_OK) {
            (void) store_lp_delete_range(a, owner, &lp, 2 * newidx, 2);
            o->v.ptr = lp;
            return OB_ERR;
        }
        o->v.ptr = lp;
        *out_flags = STORE_ZADD_UPDATED;
        return OB_OK;
    }

    if (xx) {
        *out_flags = STORE_ZADD_NOP;
        return OB_OK;
    }
    if (o->encoding == STORE_ENC_LISTPACK
        && (store_lp_count(o->v.ptr) / 2 + 1 > STORE_ZSET_LP_ENTRIES
            || len > STORE_ZSET_LP_VALUE))
    {
        if (store_zset_to_skiplist(a, owner, o) != OB_OK) {
            return OB_ERR;
        }
    }
    if (o->encoding == STORE_ENC_LISTPACK) {
        lp = o->v.ptr;
        if (lp_insert(a, owner, &lp, score, ele, len, NULL) != OB_OK) {
            o->v.ptr = lp;
            return OB_ERR;
        }
        o->v.ptr = lp;
    } else if (zsl_insert(a, owner, o->v.ptr, score, ele, len) != OB_OK) {
        return OB_ERR;
    }
    *out_flags = STORE_ZADD_ADDED;
    if (newscore != NULL) {
        *newscore = score;
    }
    return OB_OK;
}


int
store_zset_del(ob_arena_t *a, int owner, store_obj_t *o, const void *ele,
    size_t len)
{
    store_lp_pos_t     pos;
    store_zsl_node_t  *n;
    uint8_t           *lp;

    if (o->encoding == STORE_ENC_LISTPACK) {
        pos = lp_find(o->v.ptr, ele, len);
        if (pos == 0) {
            return 0;
        }
        lp = o->v.ptr;
        if (store_lp_delete(a, owner, &lp, pos, 2) == STORE_LP_NOMEM) {
            return OB_ERR;
        }
        o->v.ptr = lp;
        return 1;
    }
    n = zsl_find(o->v.ptr, ele, len);
    if (n == NULL) {
        return 0;
    }
    zsl_delete(a, owner, o->v.ptr, n);
    return 1;
}


long long
store_zset_rank(const store_obj_t *o, const void *ele, size_t len, int rev,
    double *score)
{
    store_lp_pos_t     pos;
    store_zsl_node_t  *n;
    size_t             rank, total = store_zset_len(o);
    const uint8_t     *lp = o->v.ptr;

    if (o->encoding == STORE_ENC_LISTPACK) {
        rank = 0;
        for (pos = store_lp_first(lp); pos != 0;
             pos = store_lp_next(lp, store_lp_next(lp, pos)))
        {
            if (store_lp_eq(lp, pos, ele, len)) {
                if (score != NULL) {
                    *score = lp_score(lp, store_lp_next(lp, pos));
                }
                return (long long) (rev ? total - 1 - rank : rank);
            }
            rank++;
        }
        return -1;
    }
    n = zsl_find(o->v.ptr, ele, len);
    if (n == NULL) {
        return -1;
    }
    if (score != NULL) {
        *score = n->score;
    }
    rank = zsl_rank(o->v.ptr, n) - 1;
    return (long long) (rev ? total - 1 - rank : rank);
}


/* ---- removals by range ----------------------------------------------------- */

long long
store_zset_del_rank(ob_arena_t *a, int owner, store_obj_t *o, size_t start,
    size_t end)
{
    store_zsl_node_t  *n, *next;
    uint8_t           *lp;
    size_t             i;

    if (o->encoding == STORE_ENC_LISTPACK) {
        lp = o->v.ptr;
        if (store_lp_delete_range(a, owner, &lp, 2 * start,
                                  2 * (end - start + 1)) != OB_OK)
        {
            return -1;
        }
        o->v.ptr = lp;
        return (long long) (end - start + 1);
    }
    n = zsl_by_rank(o->v.ptr, start + 1);
    for (i = start; i <= end && n != NULL; i++) {
        next = n->lv[0].forward;
        zsl_delete(a, owner, o->v.ptr, n);
        n = next;
    }
    return (long long) (i - start);
}


long long
store_zset_del_score(ob_arena_t *a, int owner, store_obj_t *o,
    const store_zrange_t *r)
{
    store_zsl_node_t  *n, *next;
    store_lp_pos_t     pos;
    uint8_t           *lp;
    size_t             rank, removed = 0, i, first = 0;
    double             sc;

    if (o->encoding == STORE_ENC_LISTPACK) {
        /* The matching pairs are consecutive: one delete. */
        lp = o->v.ptr;
        i = 0;
        for (pos = store_lp_first(lp); pos != 0;
             pos = store_lp_next(lp, store_lp_next(lp, pos)), i++)
        {
            sc = lp_score(lp, store_lp_next(lp, pos));
            if (!store_zset_score_lte_max(sc, r)) {
                break;
            }
            if (store_zset_score_gte_min(sc, r)) {
                if (removed++ == 0) {
                    first = i;
                }
            }
        }
        if (removed > 0
            && store_lp_delete_range(a, owner, &lp, 2 * first, 2 * removed)
               != OB_OK)
        {
            return -1;
        }
        o->v.ptr = lp;
        return (long long) removed;
    }
    n = zsl_first_score(o->v.ptr, r, &rank);
    while (n != NULL && store_zset_score_lte_max(n->score, r)) {
        next = n->lv[0].forward;
        zsl_delete(a, owner, o->v.ptr, n);
        removed++;
        n = next;
    }
    return (long long) removed;
}


long long
store_zset_del_lex(ob_arena_t *a, int owner, store_obj_t *o,
    const store_zlex_t *r)
{
    store_zsl_node_t  *n, *next;
    store_lp_pos_t     pos;
    uint8_t           *lp;
    size_t             rank, removed = 0, len, i, first = 0;
    const uint8_t     *s;
    char               buf[STORE_LP_INTBUF];

    if (o->encoding == STORE_ENC_LISTPACK) {
        if (store_zset_lex_empty(r)) {
            return 0;
        }
        lp = o->v.ptr;
        i = 0;
        for (pos = store_lp_first(lp); pos != 0;
             pos = store_lp_next(lp, store_lp_next(lp, pos)), i++)
        {
            s = store_lp_get_str(lp, pos, buf, &len);
            if (!store_zset_lex_lte_max(s, len, r)) {
                break;
            }
            if (store_zset_lex_gte_min(s, len, r)) {
                if (removed++ == 0) {
                    first = i;
                }
            }
        }
        if (removed > 0
            && store_lp_delete_range(a, owner, &lp, 2 * first, 2 * removed)
               != OB_OK)
        {
            return -1;
        }
        o->v.ptr = lp;
        return (long long) removed;
    }
    n = zsl_first_lex(o->v.ptr, r, &rank);
    while (n != NULL && store_zset_lex_lte_max(STORE_ZSL_ELE(n), n->len, r)) {
        next = n->lv[0].forward;
        zsl_delete(a, owner, o->v.ptr, n);
        removed++;
        n = next;
    }
    return (long long) removed;
}


/* ---- counts ---------------------------------------------------------------- */

size_t
store_zset_count_score(const store_obj_t *o, const store_zrange_t *r)
{
    store_zset_it_t  it;
    size_t           n = 0, first, last;

    if (o->encoding == STORE_ENC_SKIPLIST) {
        if (zsl_first_score(o->v.ptr, r, &first) == NULL
            || zsl_last_score(o->v.ptr, r, &last) == NULL)
        {
            return 0;
        }
        return last - first + 1;
    }
    for (store_zset_it_score(&it, o, r, 0);
         store_zset_it_valid(&it) && store_zset_score_lte_max(it.score, r);
         store_zset_it_next(&it))
    {
        n++;
    }
    return n;
}


size_t
store_zset_count_lex(const store_obj_t *o, const store_zlex_t *r)
{
    store_zset_it_t  it;
    size_t           n = 0, first, last;

    if (o->encoding == STORE_ENC_SKIPLIST) {
        if (zsl_first_lex(o->v.ptr, r, &first) == NULL
            || zsl_last_lex(o->v.ptr, r, &last) == NULL)
        {
            return 0;
        }
        return last - first + 1;
    }
    for (store_zset_it_lex(&it, o, r, 0);
         store_zset_it_valid(&it)
         && store_zset_lex_lte_max(it.ele, it.len, r);
         store_zset_it_next(&it))
    {
        n++;
    }
    return n;
}


/* ---- iterators ------------------------------------------------------------- */

static void
it_init(store_zset_it_t *it, const store_obj_t *o, int rev)
{
    it->o = o;
    it->rev = rev;
    it->pos = 0;
    it->node = NULL;
    it->ele = NULL;
    it->len = 0;
    it->score = 0;
}


void
store_zset_it_rank(store_zset_it_t *it, const store_obj_t *o, size_t rank,
    int rev)
{
    size_t  len = store_zset_len(o);

    it_init(it, o, rev);
    if (rank >= len) {
        return;
    }
    if (o->encoding == STORE_ENC_LISTPACK) {
        it->pos = store_lp_seek(o->v.ptr, rev ? -2 - 2 * (long long) rank
                                              : 2 * (long long) rank);
        return;
    }
    it->node = zsl_by_rank(o->v.ptr, rev ? len - rank : rank + 1);
}


void
store_zset_it_score(store_zset_it_t *it, const store_obj_t *o,
    const store_zrange_t *r, int rev)
{
    const uint8_t   *lp = o->v.ptr;
    store_lp_pos_t   pos;
    size_t           rank;
    double           s;

    it_init(it, o, rev);
    if (store_zset_range_empty(r)) {
        return;
    }
    if (o->encoding == STORE_ENC_SKIPLIST) {
        it->node = rev ? zsl_last_score(o->v.ptr, r, &rank)
                       : zsl_first_score(o->v.ptr, r, &rank);
        return;
    }
    if (!rev) {
        for (pos = store_lp_first(lp); pos != 0;
             pos = store_lp_next(lp, store_lp_next(lp, pos)))
        {
            s = lp_score(lp, store_lp_next(lp, pos));
            if (store_zset_score_gte_min(s, r)) {
                if (store_zset_score_lte_max(s, r)) {
                    it->pos = pos;
                }
                return;
            }
        }
        return;
    }
    for (pos = store_lp_last(lp); pos != 0;
         pos = store_lp_prev(lp, store_lp_prev(lp, pos)))
    {
        s = lp_score(lp, pos);
        if (store_zset_score_lte_max(s, r)) {
            if (store_zset_score_gte_min(s, r)) {
                it->pos = store_lp_prev(lp, pos);
            }
            return;
        }
    }
}


void
store_zset_it_lex(store_zset_it_t *it, const store_obj_t *o,
    const store_zlex_t *r, int rev)
{
    const uint8_t   *lp = o->v.ptr;
    store_lp_pos_t   pos, mpos;
    size_t           rank, len;
    const uint8_t   *s;
    char             buf[STORE_LP_INTBUF];

    it_init(it, o, rev);
    if (store_zset_lex_empty(r)) {
        return;
    }
    if (o->encoding == STORE_ENC_SKIPLIST) {
        it->node = rev ? zsl_last_lex(o->v.ptr, r, &rank)
                       : zsl_first_lex(o->v.ptr, r, &rank);
        return;
    }
    if (!rev) {
        for (pos = store_lp_first(lp); pos != 0;
             pos = store_lp_next(lp, store_lp_next(lp, pos)))
        {
            s = store_lp_get_str(lp, pos, buf, &len);
            if (store_zset_lex_gte_min(s, len, r)) {
                if (store_zset_lex_lte_max(s, len, r)) {
                    it->pos = pos;
                }
                return;
            }
        }
        return;
    }
    for (pos = store_lp_last(lp); pos != 0; pos = store_lp_prev(lp, mpos)) {
        mpos = store_lp_prev(lp, pos);
        s = store_lp_get_str(lp, mpos, buf, &len);
        if (store_zset_lex_lte_max(s, len, r)) {
            if (store_zset_lex_gte_min(s, len, r)) {
                it->pos = mpos;
            }
            return;
        }
    }
}


int
store_zset_it_valid(store_zset_it_t *it)
{
    const uint8_t  *lp = it->o->v.ptr;

    if (it->o->encoding == STORE_ENC_LISTPACK) {
        if (it->pos == 0) {
            return 0;
        }
        it->ele = store_lp_get_str(lp, it->pos, it->buf, &it->len);
        it->score = lp_score(lp, store_lp_next(lp, it->pos));
        return 1;
    }
    if (it->node == NULL) {
        return 0;
    }
    it->ele = STORE_ZSL_ELE(it->node);
    it->len = it->node->len;
    it->score = it->node->score;
    return 1;
}


void
store_zset_it_next(store_zset_it_t *it)
{
    const uint8_t  *lp = it->o->v.ptr;

    if (it->o->encoding == STORE_ENC_LISTPACK) {
        if (it->pos == 0) {
            return;
        }
        if (it->rev) {
            it->pos = store_lp_prev(lp, it->pos);
            it->pos = it->pos == 0 ? 0 : store_lp_prev(lp, it->pos);
        } else {
            it->pos = store_lp_next(lp, it->pos);
            it->pos = it->pos == 0 ? 0 : store_lp_next(lp, it->pos);
        }
        return;
    }
    if (it->node != NULL) {
        it->node = it->rev ? it->node->backward : it->node->lv[0].forward;
    }
}
