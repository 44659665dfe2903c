/*
 * store_sort.c: SORT and SORT_RO, Redis 7.0's sort.c: the elements of a
 * list, set or sorted set, sorted numerically (strtod over each) or ALPHA
 * (bytes), by themselves or by the values a BY pattern finds (`*` is
 * replaced by the element; `key->field` reads a hash field), cut by
 * LIMIT, answered as themselves or as the values of GET patterns (`#` is
 * the element), or stored as a list (STORE).
 *
 * The elements are copied into one malloc'd pool first (offsets, so that
 * the pool may grow), because the patterns' lookups may delete expired
 * keys and STORE may replace the very key being sorted.  Everything here
 * is transient and bounded by the data the keys already hold.
 *
 * The accessors at the end are the only place that knows the aggregate
 * types; each is compiled in once its type's header is in the tree.
 */
#include "store_sort.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include("store_list.h")
#include "store_list.h"
#define STORE_SORT_HAVE_LIST 1
#endif
#if __has_include("store_set.h")
#include "store_set.h"
#define STORE_SORT_HAVE_SET 1
#endif
#if __has_include("store_zset.h")
#include "store_zset.h"
#define STORE_SORT_HAVE_ZSET 1
#endif
#if __has_include("store_hash.h")
#include "store_hash.h"
#define STORE_SORT_HAVE_HASH 1
#endif
#endif

#define KEY(a)  (a)->data, (a)->len

typedef struct store_sort_item_s {
    size_t   off;            /* the element's bytes in the pool */
    size_t   len;
    double   score;
    size_t   cmp_off;        /* ALPHA BY: the value's bytes in the pool */
    size_t   cmp_len;
    int      has_cmp;
} store_sort_item_t;

typedef struct store_sort_s {
    store_client_t     *c;
    char               *pool;        /* malloc'd bytes, each item's + NUL */
    size_t              pool_len;
    size_t              pool_cap;
    store_sort_item_t  *items;
    size_t              n;
    size_t              cap;
    char               *key;         /* scratch for built key names */
    size_t              key_cap;
    int                 failed;      /* a malloc failed */
    int                 desc;
    int                 alpha;
    int                 bypattern;
} store_sort_t;


/* Appends p[0..len) and a NUL to the pool; its offset, or SIZE_MAX. */
static size_t
store_sort_pool_add(store_sort_t *s, const void *p, size_t len)
{
    size_t  need = s->pool_len + len + 1, cap, off;
    char   *np;

    const char  *src = p;
    size_t       at = 0;
    int          inpool;

    if (s->failed) {
        return SIZE_MAX;
    }
    /* p may be in the pool itself (an element copied again): kept as an
     * offset across the realloc */
    inpool = src != NULL && s->pool != NULL && src >= s->pool
             && src < s->pool + s->pool_cap;
    if (inpool) {
        at = (size_t) (src - s->pool);
    }
    if (need > s->pool_cap) {
        cap = s->pool_cap == 0 ? 256 : s->pool_cap;
        while (cap < need) {
            cap *= 2;
        }
        np = realloc(s->pool, cap);
        if (np == NULL) {
            s->failed = 1;
            return SIZE_MAX;
        }
        s->pool = np;
        s->pool_cap = cap;
    }
    if (inpool) {
        p = s->pool + at;
    }
    off = s->pool_len;
    if (len > 0) {
        memcpy(s->pool + off, p, len);
    }
    s->pool[off + len] = '\0';
    s->pool_len = need;
    return off;
}


static void
store_sort_collect(void *arg, const char *p, size_t len)
{
    store_sort_t       *s = arg;
    store_sort_item_t  *ni;
    size_t              cap, off;

    if (s->failed) {
        return;
    }
    if (s->n == s->cap) {
        cap = s->cap == 0 ? 16 : s->cap * 2;
        ni = realloc(s->items, cap * sizeof(*ni));
        if (ni == NULL) {
            s->failed = 1;
            return;
        }
        s->items = ni;
        s->cap = cap;
    }
    off = store_sort_pool_add(s, p, len);
    if (off == SIZE_MAX) {
        return;
    }
    memset(&s->items[s->n], 0, sizeof(s->items[0]));
    s->items[s->n].off = off;
    s->items[s->n].len = len;
    s->n++;
}


/*
 * Redis's lookupKeyByPattern: the value the pattern names for element
 * e[0..elen): "#" is the element; otherwise the first '*' is replaced by
 * it and the key read as a string, or with "->field" after the '*' as a
 * hash's field.  A pattern without '*', a missing key or one of another
 * type: NULL.  The bytes are borrowed (the database, the element, or buf).
 */
static const char *
store_sort_lookup(store_sort_t *s, const ob_str_t *pat, const char *e,
    size_t elen, char buf[STORE_SORT_INTBUF], size_t *len)
{
    const uint8_t  *p = pat->data, *star, *arrow = NULL, *q;
    size_t          prefix, postfix, flen = 0, klen;
    store_obj_t    *o;
    ob_str_t        k;
    char           *nk;

    if (pat->len == 1 && p[0] == '#') {
        *len = elen;
        return e;
    }
    star = memchr(p, '*', pat->len);
    if (star == NULL) {
        return NULL;
    }
    /* "->" after the '*' with something after it names a hash field */
    for (q = star + 1; q + 1 < p + pat->len; q++) {
        if (q[0] == '-' && q[1] == '>') {
            if (q + 2 < p + pat->len) {
                arrow = q;
                flen = (size_t) (p + pat->len - (q + 2));
            }
            break;
        }
    }
    prefix = (size_t) (star - p);
    postfix = pat->len - prefix - 1 - (arrow != NULL ? flen + 2 : 0);
    klen = prefix + elen + postfix;

    if (klen > s->key_cap) {
        nk = realloc(s->key, klen);
        if (nk == NULL) {
            s->failed = 1;
            return NULL;
        }
        s->key = nk;
        s->key_cap = klen;
    }
    memcpy(s->key, p, prefix);
    if (elen > 0) {
        memcpy(s->key + prefix, e, elen);
    }
    memcpy(s->key + prefix + elen, star + 1, postfix);
    k.data = (const uint8_t *) s->key;
    k.len = klen;

    o = store_lookup_read(s->c, &k);
    if (o == NULL) {
        return NULL;
    }
    if (arrow != NULL) {
        if (o->type != STORE_OBJ_HASH) {
            return NULL;
        }
        return store_sort_hash_get(o, arrow + 2, flen, buf, len);
    }
    if (o->type != STORE_OBJ_STRING) {
        return NULL;
    }
    return store_obj_string_bytes(o, buf, len);
}


/* strtod over p[0..len) as Redis runs it over an sds: up to the first
 * NUL, the rest must be consumed; ERANGE and NaN are errors. */
static int
store_sort_score(store_sort_t *s, const char *p, size_t len, double *score)
{
    size_t  off;
    char   *end;
    double  d;

    off = store_sort_pool_add(s, p, len);
    if (off == SIZE_MAX) {
        return OB_ERR;
    }
    errno = 0;
    d = strtod(s->pool + off, &end);
    s->pool_len = off;                  /* scratch only */
    if (*end != '\0' || errno == ERANGE || isnan(d)) {
        return OB_ERR;
    }
    *score = d;
    return OB_OK;
}


static int
store_sort_bytes_cmp(const char *a, size_t na, const char *b, size_t nb)
{
    int  r = memcmp(a, b, OB_MIN(na, nb));

    if (r != 0) {
        return r;
    }
    return na < nb ? -1 : na > nb ? 1 : 0;
}


/* Redis's sortCompare. */
static int
store_sort_cmp(const void *x, const void *y, void *arg)
{
    const store_sort_item_t  *a = x, *b = y;
    const store_sort_t       *s = arg;
    int                       cmp;

    if (!s->alpha) {
        if (a->score > b->score) {
            cmp = 1;
        } else if (a->score < b->score) {
            cmp = -1;
        } else {
            cmp = store_sort_bytes_cmp(s->pool + a->off, a->len,
                                       s->pool + b->off, b->len);
        }
    } else if (s->bypattern) {
        if (!a->has_cmp || !b->has_cmp) {
            cmp = a->has_cmp == b->has_cmp ? 0 : !a->has_cmp ? -1 : 1;
        } else {
            cmp = store_sort_bytes_cmp(s->pool + a->cmp_off, a->cmp_len,
                                       s->pool + b->cmp_off, b->cmp_len);
        }
    } else {
        cmp = store_sort_bytes_cmp(s->pool + a->off, a->len,
                                   s->pool + b->off, b->len);
    }
    return s->desc ? -cmp : cmp;
}


static void
store_sort_free(store_sort_t *s)
{
    free(s->pool);
    free(s->items);
    free(s->key);
}


/* The GET patterns' positions in argv (they are repeatable). */
#define STORE_SORT_MAX_GETS_STACK  16


static void
store_sort_generic(store_client_t *c, int readonly)
{
    store_sort_t     s;
    const ob_str_t  *sortby = NULL, *storekey = NULL;
    size_t          *gets = NULL, ngets = 0, j, i, g, outputlen;
    size_t           gets_stack[STORE_SORT_MAX_GETS_STACK];
    long long        limit_start = 0, limit_count = -1;
    long long        start, end, vectorlen, n;
    store_obj_t     *o, *list;
    const char      *v;
    size_t           vlen, off;
    ob_str_t        *elems;
    int              dontsort = 0, conversion_error = 0;
    char             buf[STORE_SORT_INTBUF];

    memset(&s, 0, sizeof(s));
    s.c = c;

    gets = gets_stack;
    for (j = 2; j < c->argc; j++) {
        size_t  left = c->argc - j - 1;

        if (store_arg_is(&c->argv[j], "asc")) {
            s.desc = 0;
        } else if (store_arg_is(&c->argv[j], "desc")) {
            s.desc = 1;
        } else if (store_arg_is(&c->argv[j], "alpha")) {
            s.alpha = 1;
        } else if (store_arg_is(&c->argv[j], "limit") && left >= 2) {
            if (store_get_ll_or_reply(c, &c->argv[j + 1], &limit_start, NULL)
                != OB_OK
                || store_get_ll_or_reply(c, &c->argv[j + 2], &limit_count,
                                         NULL) != OB_OK)
            {
                goto done;
            }
            j += 2;
        } else if (!readonly && store_arg_is(&c->argv[j], "store")
                   && left >= 1)
        {
            storekey = &c->argv[j + 1];
            j++;
        } else if (store_arg_is(&c->argv[j], "by") && left >= 1) {
            sortby = &c->argv[j + 1];
            if (memchr(sortby->data, '*', sortby->len) == NULL) {
                dontsort = 1;
            }
            j++;
        } else if (store_arg_is(&c->argv[j], "get") && left >= 1) {
            if (ngets == STORE_SORT_MAX_GETS_STACK && gets == gets_stack) {
                gets = malloc(c->argc * sizeof(*gets));
                if (gets == NULL) {
                    store_add_err(c, STORE_ERR_OOM);
                    goto done;
                }
                memcpy(gets, gets_stack, sizeof(gets_stack));
            }
            gets[ngets++] = j + 1;
            j++;
        } else {
            store_add_err(c, STORE_ERR_SYNTAX);
            goto done;
        }
    }

    o = store_lookup_read(c, &c->argv[1]);
    if (o != NULL && o->type != STORE_OBJ_SET && o->type != STORE_OBJ_LIST
        && o->type != STORE_OBJ_ZSET)
    {
        store_add_err(c, STORE_ERR_WRONGTYPE);
        goto done;
    }

    /* a set's own order is not deterministic: STORE sorts it */
    if (dontsort && o != NULL && o->type == STORE_OBJ_SET
        && storekey != NULL)
    {
        dontsort = 0;
        s.alpha = 1;
        sortby = NULL;
    }
    if (o != NULL && o->type == STORE_OBJ_ZSET) {
        store_sort_zset_prepare(store_arena(c), store_owner(c), o);
    }

    vectorlen = o != NULL ? (long long) store_sort_len(o) : 0;
    start = limit_start < 0 ? 0 : limit_start;
    if (limit_count < 0) {
        end = vectorlen - 1;
    } else {
        /* saturating: Redis's long arithmetic ends the same way */
        end = start > LLONG_MAX - limit_count ? LLONG_MAX
                                              : start + limit_count - 1;
    }
    if (start >= vectorlen) {
        start = vectorlen - 1;
        end = vectorlen - 2;
    }
    if (end >= vectorlen) {
        end = vectorlen - 1;
    }

    if (o != NULL && dontsort
        && (o->type == STORE_OBJ_LIST || o->type == STORE_OBJ_ZSET))
    {
        /* only the range is loaded, in the asked direction */
        if (end >= start) {
            store_sort_each(o, (size_t) start, (size_t) (end - start + 1),
                            s.desc, store_sort_collect, &s);
            end -= start;
            start = 0;
        }
    } else if (o != NULL) {
        store_sort_each(o, 0, (size_t) vectorlen, 0, store_sort_collect, &s);
    }
    if (s.failed) {
        store_add_err(c, STORE_ERR_OOM);
        goto done;
    }

    if (!dontsort) {
        s.bypattern = sortby != NULL;
        for (i = 0; i < s.n; i++) {
            store_sort_item_t  *it = &s.items[i];

            if (sortby != NULL) {
                v = store_sort_lookup(&s, sortby, s.pool + it->off, it->len,
                                      buf, &vlen);
                if (v == NULL) {
                    continue;
                }
            } else {
                v = s.pool + it->off;
                vlen = it->len;
            }
            if (s.alpha) {
                if (sortby != NULL) {
                    off = store_sort_pool_add(&s, v, vlen);
                    if (off == SIZE_MAX) {
                        break;
                    }
                    it->cmp_off = off;
                    it->cmp_len = vlen;
                    it->has_cmp = 1;
                }
            } else if (store_sort_score(&s, v, vlen, &it->score) != OB_OK) {
                conversion_error = 1;
            }
        }
        if (s.failed) {
            store_add_err(c, STORE_ERR_OOM);
            goto done;
        }
        if (s.n > 1) {
            qsort_r(s.items, s.n, sizeof(s.items[0]), store_sort_cmp, &s);
        }
    }

    n = end - start + 1;
    if (n < 0) {
        n = 0;
    }
    outputlen = ngets > 0 ? ngets * (size_t) n : (size_t) n;

    if (conversion_error) {
        store_add_err(c, "ERR One or more scores can't be converted into "
                         "double");
        goto done;
    }

    if (storekey == NULL) {
        store_reply_array(&c->r, outputlen);
        for (i = (size_t) start; n > 0 && i <= (size_t) end; i++) {
            const char  *e = s.pool + s.items[i].off;
            size_t       elen = s.items[i].len;

            if (ngets == 0) {
                store_reply_bulk(&c->r, e, elen);
            }
            for (g = 0; g < ngets; g++) {
                v = store_sort_lookup(&s, &c->argv[gets[g]], e, elen, buf,
                                      &vlen);
                if (v == NULL) {
                    store_reply_null(&c->r);
                } else {
                    store_reply_bulk(&c->r, v, vlen);
                }
            }
        }
        goto done;
    }

    /* STORE: the values are copied into the pool, then the list built */
    {
        size_t  first = s.n, total = 0;

        for (i = (size_t) start; n > 0 && i <= (size_t) end; i++) {
            if (ngets == 0) {
                store_sort_collect(&s, s.pool + s.items[i].off,
                                   s.items[i].len);
                total++;
                continue;
            }
            for (g = 0; g < ngets; g++) {
                v = store_sort_lookup(&s, &c->argv[gets[g]],
                                      s.pool + s.items[i].off,
                                      s.items[i].len, buf, &vlen);
                if (v == NULL) {
                    v = "";
                    vlen = 0;
                }
                store_sort_collect(&s, v, vlen);
                total++;
            }
        }
        if (s.failed) {
            store_add_err(c, STORE_ERR_OOM);
            goto done;
        }

        if (total == 0) {
            if (store_db_delete(c->db, KEY(storekey), store_now_ms(c))
                == OB_OK)
            {
                store_key_changed(c, storekey, STORE_NOTIFY_GENERIC, "del");
            }
            store_reply_int(&c->r, 0);
            goto done;
        }

        elems = malloc(total * sizeof(*elems));
        if (elems == NULL) {
            store_add_err(c, STORE_ERR_OOM);
            goto done;
        }
        for (i = 0; i < total; i++) {
            elems[i].data = (const uint8_t *) s.pool + s.items[first + i].off;
            elems[i].len = s.items[first + i].len;
        }
        list = store_sort_list_new(store_arena(c), store_owner(c), elems,
                                   total);
        free(elems);
        if (list == NULL
            || store_db_set(c->db, KEY(storekey), list, 0, store_now_ms(c))
               != OB_OK)
        {
            if (list != NULL) {
                store_obj_free(store_arena(c), store_owner(c), list);
            }
            store_add_err(c, STORE_ERR_OOM);
            goto done;
        }
        store_key_changed(c, storekey, STORE_NOTIFY_LIST, "sortstore");
        /* Redis counts the elements stored (dirty += outputlen) */
        store_dirty_add(c, (long long) total - 1);
        store_key_ready(c, storekey);
        store_reply_int(&c->r, (long long) total);
    }

done:
    if (gets != gets_stack) {
        free(gets);
    }
    store_sort_free(&s);
}


static void
store_cmd_sort(store_client_t *c)
{
    store_sort_generic(c, 0);
}


static void
store_cmd_sort_ro(store_client_t *c)
{
    store_sort_generic(c, 1);
}


const store_cmd_t store_cmds_sort[] = {
    { .base = { .name = "sort", .arity_min = 2, .arity_max = -1,
                .flags = OB_CMD_WRITE | STORE_CMD_DENYOOM
                         | STORE_CMD_MOVABLEKEYS },
      .handler = store_cmd_sort, .keys = { 1, 1, 1 },
      .acl = "@write @set @sortedset @list @slow @dangerous" },
    { .base = { .name = "sort_ro", .arity_min = 2, .arity_max = -1,
                .flags = OB_CMD_READONLY | STORE_CMD_MOVABLEKEYS },
      .handler = store_cmd_sort_ro, .keys = { 1, 1, 1 },
      .acl = "@read @set @sortedset @list @slow @dangerous" },
    { .base = { .name = NULL } }
};


/* ---- the types, read for SORT -------------------------------------------- */

size_t
store_sort_len(const store_obj_t *o)
{
    switch ((store_obj_type_t) o->type) {
#ifdef STORE_SORT_HAVE_LIST
    case STORE_OBJ_LIST:
        return store_list_len(store_list_of(o));
#endif
#ifdef STORE_SORT_HAVE_SET
    case STORE_OBJ_SET:
        return store_set_size(o);
#endif
#ifdef STORE_SORT_HAVE_ZSET
    case STORE_OBJ_ZSET:
        return store_zset_len(o);
#endif
    default:
        return 0;
    }
}


void
store_sort_each(const store_obj_t *o, size_t start, size_t count, int rev,
    store_sort_elem_pt fn, void *arg)
{
    size_t  i;

    (void) start;
    (void) count;
    (void) rev;
    (void) fn;
    (void) arg;
    (void) i;

    switch ((store_obj_type_t) o->type) {
#ifdef STORE_SORT_HAVE_LIST
    case STORE_OBJ_LIST: {
        store_list_iter_t  it;
        const uint8_t     *p;
        size_t             len;
        char               lbuf[STORE_LIST_INTBUF];

        if (count == 0) {
            return;
        }
        store_list_iter_init(store_list_of(o),
                             rev ? -1 - (long long) start : (long long) start,
                             rev ? STORE_LIST_HEAD : STORE_LIST_TAIL, &it);
        for (i = 0; i < count && store_list_iter_get(&it, lbuf, &p, &len);
             i++)
        {
            fn(arg, (const char *) p, len);
            store_list_iter_next(&it);
        }
        return;
    }
#endif
#ifdef STORE_SORT_HAVE_SET
    case STORE_OBJ_SET: {
        store_set_elem_t  e;
        const char       *p;
        size_t            len, n = store_set_size(o);
        char              sbuf[STORE_OBJ_INTBUF];

        for (i = 0; i < n; i++) {
            store_set_get(o, i, &e);
            p = store_set_elem_bytes(&e, sbuf, &len);
            fn(arg, p, len);
        }
        return;
    }
#endif
#ifdef STORE_SORT_HAVE_ZSET
    case STORE_OBJ_ZSET: {
        store_zset_it_t  it;

        store_zset_it_rank(&it, o, start, rev);
        for (i = 0; i < count && store_zset_it_valid(&it); i++) {
            fn(arg, (const char *) it.ele, it.len);
            store_zset_it_next(&it);
        }
        return;
    }
#endif
    default:
        return;
    }
}


const char *
store_sort_hash_get(const store_obj_t *o, const void *f, size_t nf,
    char buf[STORE_SORT_INTBUF], size_t *len)
{
#ifdef STORE_SORT_HAVE_HASH
    return (const char *) store_hash_get(o, f, nf, buf, len);
#else
    (void) o;
    (void) f;
    (void) nf;
    (void) buf;
    (void) len;
    return NULL;
#endif
}


void
store_sort_zset_prepare(ob_arena_t *a, int owner, store_obj_t *o)
{
#ifdef STORE_SORT_HAVE_ZSET
    if (o->encoding == STORE_ENC_LISTPACK) {
        (void) store_zset_to_skiplist(a, owner, o);
    }
#else
    (void) a;
    (void) owner;
    (void) o;
#endif
}


store_obj_t *
store_sort_list_new(ob_arena_t *a, int owner, const ob_str_t *elems,
    size_t n)
{
#ifdef STORE_SORT_HAVE_LIST
    store_obj_t  *o;
    size_t        i;

    o = store_list_obj_new(a, owner);
    if (o == NULL) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (store_list_push(a, owner, store_list_of(o), elems[i].data,
                            elems[i].len, STORE_LIST_TAIL) != OB_OK)
        {
            store_obj_free(a, owner, o);
            return NULL;
        }
    }
    return o;
#else
    (void) a;
    (void) owner;
    (void) elems;
    (void) n;
    return NULL;
#endif
}
