/*
 * store_set.c: the set type's two encodings (see store_set.h).
 *
 * Intset.  o->v.ptr is the intset blob (store_intset.h) and o->len the
 * bytes of its block: the blob can sit in a larger block after a shrink
 * the arena could not serve, and the free must give the true size.
 *
 * Hashtable.  o->v.ptr is a store_set_ht_t: an ob_hash of members and a
 * dense array `vec` of the same members.  Each member is one arena chunk
 * (a 16-byte header and its bytes) and knows its position in vec, so a
 * removal moves the last member into the hole in O(1).  The array is what
 * Redis's dict lacks: a uniform random member is vec[rand % n] (Redis
 * samples buckets and chains, which is neither O(1) nor uniform), and
 * SRANDMEMBER/SPOP with a count shuffle a prefix of vec in place instead of
 * building a second dict.  It costs 8 bytes a member, less than the
 * 24-byte dictEntry Redis pays and we do not.
 *
 * Out of memory.  Every change allocates first and links last: an add
 * that the arena refuses leaves the set as it was, and a conversion to
 * hashtable builds the whole new table before the intset is freed.  A
 * removal only shrinks blocks, and keeps the old one when a shrink fails.
 */
#include "store_set.h"

#include <string.h>

#include <xxhash.h>

#include "store_int.h"
#include "store_intset.h"
#include "store_resp.h"


typedef struct store_set_member_s {
    ob_hash_link_t  hlink;
    uint32_t        pos;         /* index in the table's vec */
    uint32_t        len;
    char            data[];
} store_set_member_t;

typedef struct store_set_ht_s {
    ob_hash_t             h;
    store_set_member_t  **vec;   /* arena: cap slots, n used */
    size_t                n;
    size_t                cap;
} store_set_ht_t;

#define STORE_SET_MEMBER_of(l)  OB_HASH_ENTRY(l, store_set_member_t, hlink)
#define STORE_SET_VEC_MIN       4


/* ---- the member table -------------------------------------------------- */

static uint64_t
store_set_hash_key(const void *key, size_t nkey, void *ctx)
{
    (void) ctx;
    return XXH3_64bits(key, nkey);
}


static uint64_t
store_set_hash_entry(const ob_hash_link_t *l, void *ctx)
{
    const store_set_member_t  *m = STORE_SET_MEMBER_of(l);

    (void) ctx;
    return XXH3_64bits(m->data, m->len);
}


static int
store_set_entry_is_key(const ob_hash_link_t *l, const void *key, size_t nkey,
    void *ctx)
{
    const store_set_member_t  *m = STORE_SET_MEMBER_of(l);

    (void) ctx;
    return m->len == nkey && memcmp(m->data, key, nkey) == 0;
}


static const ob_hash_type_t  store_set_hash_type = {
    .hash_key = store_set_hash_key,
    .hash_entry = store_set_hash_entry,
    .entry_is_key = store_set_entry_is_key
};

/* Redis's dict: 4 buckets first, grow past one entry per bucket, shrink
 * under 10% full. */
static const ob_hash_conf_t  store_set_hash_conf = {
    .power_init = 2,
    .load_factor = 1.0,
    .shrink_fill = 0.1
};


static size_t
store_set_member_size(size_t len)
{
    return sizeof(store_set_member_t) + len;
}


static store_set_ht_t *
store_set_ht_new(ob_arena_t *a, int owner, size_t hint)
{
    store_set_ht_t  *ht;

    ht = ob_arena_alloc(a, owner, sizeof(store_set_ht_t));
    if (ht == NULL) {
        return NULL;
    }
    if (ob_hash_init(&ht->h, &store_set_hash_type, NULL, &store_set_hash_conf)
        != OB_OK)
    {
        ob_arena_free(a, owner, ht, sizeof(store_set_ht_t));
        return NULL;
    }
    ht->n = 0;
    ht->cap = OB_MAX(hint, STORE_SET_VEC_MIN);
    ht->vec = ob_arena_alloc(a, owner, ht->cap * sizeof(store_set_member_t *));
    if (ht->vec == NULL) {
        ob_hash_fini(&ht->h);
        ob_arena_free(a, owner, ht, sizeof(store_set_ht_t));
        return NULL;
    }
    return ht;
}


static void
store_set_ht_free(ob_arena_t *a, int owner, store_set_ht_t *ht)
{
    store_set_member_t  *m;
    size_t               i;

    for (i = 0; i < ht->n; i++) {
        m = ht->vec[i];
        ob_arena_free(a, owner, m, store_set_member_size(m->len));
    }
    ob_arena_free(a, owner, ht->vec, ht->cap * sizeof(store_set_member_t *));
    ob_hash_fini(&ht->h);
    ob_arena_free(a, owner, ht, sizeof(store_set_ht_t));
}


/* Adds p[0..len) to a table.  OB_OK (*added 0 or 1) or OB_ERR (OOM,
 * nothing changed). */
static int
store_set_ht_add(ob_arena_t *a, int owner, store_set_ht_t *ht, const void *p,
    size_t len, int *added)
{
    store_set_member_t  **vec, *m;
    size_t                cap;

    *added = 0;
    if (len > UINT32_MAX) {
        return OB_ERR;               /* proto-max-bulk-len stops this first */
    }
    if (ob_hash_find(&ht->h, p, len) != NULL) {
        return OB_OK;
    }
    if (ht->n == ht->cap) {
        cap = ht->cap * 2;
        vec = ob_arena_realloc(a, owner, ht->vec,
                               ht->cap * sizeof(store_set_member_t *),
                               cap * sizeof(store_set_member_t *));
        if (vec == NULL) {
            return OB_ERR;
        }
        ht->vec = vec;
        ht->cap = cap;
    }
    m = ob_arena_alloc(a, owner, store_set_member_size(len));
    if (m == NULL) {
        return OB_ERR;
    }
    m->len = (uint32_t) len;
    m->pos = (uint32_t) ht->n;
    if (len > 0) {
        memcpy(m->data, p, len);
    }
    ht->vec[ht->n++] = m;
    ob_hash_insert(&ht->h, &m->hlink);
    *added = 1;
    return OB_OK;
}


static void
store_set_ht_remove(ob_arena_t *a, int owner, store_set_ht_t *ht,
    store_set_member_t *m)
{
    store_set_member_t  **vec;
    size_t                pos = m->pos, cap;

    (void) ob_hash_delete(&ht->h, &m->hlink);
    ht->vec[pos] = ht->vec[--ht->n];
    ht->vec[pos]->pos = (uint32_t) pos;
    ob_arena_free(a, owner, m, store_set_member_size(m->len));

    /* Give the array back as the set drains (a failed shrink keeps it). */
    if (ht->cap > STORE_SET_VEC_MIN && ht->n < ht->cap / 4) {
        cap = OB_MAX(ht->cap / 2, STORE_SET_VEC_MIN);
        vec = ob_arena_realloc(a, owner, ht->vec,
                               ht->cap * sizeof(store_set_member_t *),
                               cap * sizeof(store_set_member_t *));
        if (vec != NULL) {
            ht->vec = vec;
            ht->cap = cap;
        }
    }
}


/* A table holding the intset's members, with room for one more.  NULL on
 * OOM (nothing left allocated). */
static store_set_ht_t *
store_set_ht_from_intset(ob_arena_t *a, int owner, const uint8_t *is)
{
    store_set_ht_t  *ht;
    uint32_t         i, n = store_intset_len(is);
    char             buf[STORE_OBJ_INTBUF];
    size_t           len;
    int              added;

    ht = store_set_ht_new(a, owner, (size_t) n + 1);
    if (ht == NULL) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        len = store_reply_ll_format(store_intset_get(is, i), buf);
        if (store_set_ht_add(a, owner, ht, buf, len, &added) != OB_OK) {
            store_set_ht_free(a, owner, ht);
            return NULL;
        }
    }
    return ht;
}


/* ---- the set object ---------------------------------------------------- */

static uint8_t *
store_set_is(const store_obj_t *o)
{
    return o->v.ptr;
}


static store_set_ht_t *
store_set_ht(const store_obj_t *o)
{
    return o->v.ptr;
}


store_obj_t *
store_set_new(ob_arena_t *a, int owner, int intset)
{
    store_obj_t     *o;
    store_set_ht_t  *ht;
    uint8_t         *is;
    size_t           alloc;

    if (intset) {
        is = store_intset_new(a, owner, &alloc);
        if (is == NULL) {
            return NULL;
        }
        o = store_obj_payload_new(a, owner, STORE_OBJ_SET, STORE_ENC_INTSET,
                                  is);
        if (o == NULL) {
            store_intset_free(a, owner, is, alloc);
            return NULL;
        }
        o->len = (uint32_t) alloc;
        return o;
    }

    ht = store_set_ht_new(a, owner, 0);
    if (ht == NULL) {
        return NULL;
    }
    o = store_obj_payload_new(a, owner, STORE_OBJ_SET, STORE_ENC_HASHTABLE,
                              ht);
    if (o == NULL) {
        store_set_ht_free(a, owner, ht);
    }
    return o;
}


store_obj_t *
store_set_new_for(ob_arena_t *a, int owner, const void *p, size_t len)
{
    long long  ll;

    return store_set_new(a, owner,
                         store_resp_ll(p, len, &ll) == OB_OK);
}


/* The intset's block size lives in o->len (see the top). */
static int
store_set_intset_add(ob_arena_t *a, int owner, store_obj_t *o, long long ll,
    int *added)
{
    uint8_t  *is = store_set_is(o);
    size_t    alloc = o->len;
    int       rc;

    rc = store_intset_add(a, owner, &is, &alloc, ll, added);
    o->v.ptr = is;
    o->len = (uint32_t) alloc;
    return rc;
}


/* Converts an intset object to hashtable and adds p[0..len) to it, all or
 * nothing. */
static int
store_set_convert_add(ob_arena_t *a, int owner, store_obj_t *o, const void *p,
    size_t len, int *added)
{
    store_set_ht_t  *ht;

    ht = store_set_ht_from_intset(a, owner, store_set_is(o));
    if (ht == NULL) {
        return OB_ERR;
    }
    if (store_set_ht_add(a, owner, ht, p, len, added) != OB_OK) {
        store_set_ht_free(a, owner, ht);
        return OB_ERR;
    }
    store_intset_free(a, owner, store_set_is(o), o->len);
    o->encoding = STORE_ENC_HASHTABLE;
    o->v.ptr = ht;
    o->len = 0;
    return OB_OK;
}


int
store_set_add(ob_arena_t *a, int owner, store_obj_t *o, const void *p,
    size_t len, int *added)
{
    long long  ll;

    *added = 0;
    if (o->encoding == STORE_ENC_HASHTABLE) {
        return store_set_ht_add(a, owner, store_set_ht(o), p, len, added);
    }
    if (store_resp_ll(p, len, &ll) == OB_OK) {
        if (store_intset_find(store_set_is(o), ll, NULL)) {
            return OB_OK;
        }
        if (store_intset_len(store_set_is(o)) < STORE_SET_MAX_INTSET_ENTRIES) {
            return store_set_intset_add(a, owner, o, ll, added);
        }
    }
    return store_set_convert_add(a, owner, o, p, len, added);
}


int
store_set_add_elem(ob_arena_t *a, int owner, store_obj_t *o,
    const store_set_elem_t *e, int *added)
{
    char        buf[STORE_OBJ_INTBUF];
    const char *p;
    size_t      len;

    if (e->p == NULL && o->encoding == STORE_ENC_INTSET
        && (store_intset_find(store_set_is(o), e->ll, NULL)
            || store_intset_len(store_set_is(o))
               < STORE_SET_MAX_INTSET_ENTRIES))
    {
        return store_set_intset_add(a, owner, o, e->ll, added);
    }
    p = store_set_elem_bytes(e, buf, &len);
    return store_set_add(a, owner, o, p, len, added);
}


int
store_set_remove(ob_arena_t *a, int owner, store_obj_t *o, const void *p,
    size_t len)
{
    ob_hash_link_t  *l;
    uint8_t         *is;
    size_t           alloc;
    long long        ll;
    int              rc;

    if (o->encoding == STORE_ENC_HASHTABLE) {
        l = ob_hash_find(&store_set_ht(o)->h, p, len);
        if (l == NULL) {
            return 0;
        }
        store_set_ht_remove(a, owner, store_set_ht(o), STORE_SET_MEMBER_of(l));
        return 1;
    }
    if (store_resp_ll(p, len, &ll) != OB_OK) {
        return 0;
    }
    is = store_set_is(o);
    alloc = o->len;
    rc = store_intset_remove(a, owner, &is, &alloc, ll);
    o->v.ptr = is;
    o->len = (uint32_t) alloc;
    return rc;
}


void
store_set_remove_at(ob_arena_t *a, int owner, store_obj_t *o, size_t pos)
{
    store_set_ht_t  *ht;
    uint8_t         *is;
    size_t           alloc;

    if (o->encoding == STORE_ENC_HASHTABLE) {
        ht = store_set_ht(o);
        store_set_ht_remove(a, owner, ht, ht->vec[pos]);
        return;
    }
    is = store_set_is(o);
    alloc = o->len;
    store_intset_remove_at(a, owner, &is, &alloc, (uint32_t) pos);
    o->v.ptr = is;
    o->len = (uint32_t) alloc;
}


int
store_set_contains(store_obj_t *o, const void *p, size_t len)
{
    long long  ll;

    if (o->encoding == STORE_ENC_HASHTABLE) {
        return ob_hash_find(&store_set_ht(o)->h, p, len) != NULL;
    }
    return store_resp_ll(p, len, &ll) == OB_OK
           && store_intset_find(store_set_is(o), ll, NULL);
}


int
store_set_contains_elem(store_obj_t *o, const store_set_elem_t *e)
{
    char        buf[STORE_OBJ_INTBUF];
    const char *p;
    size_t      len;

    if (e->p == NULL && o->encoding == STORE_ENC_INTSET) {
        return store_intset_find(store_set_is(o), e->ll, NULL);
    }
    p = store_set_elem_bytes(e, buf, &len);
    return store_set_contains(o, p, len);
}


size_t
store_set_size(const store_obj_t *o)
{
    if (o->encoding == STORE_ENC_HASHTABLE) {
        return store_set_ht(o)->n;
    }
    return store_intset_len(store_set_is(o));
}


void
store_set_get(const store_obj_t *o, size_t pos, store_set_elem_t *e)
{
    store_set_member_t  *m;

    if (o->encoding == STORE_ENC_HASHTABLE) {
        m = store_set_ht(o)->vec[pos];
        e->p = m->data;
        e->len = m->len;
        e->ll = 0;
        return;
    }
    e->p = NULL;
    e->len = 0;
    e->ll = store_intset_get(store_set_is(o), (uint32_t) pos);
}


void
store_set_swap(store_obj_t *o, size_t i, size_t j)
{
    store_set_ht_t      *ht;
    store_set_member_t  *m;

    if (o->encoding != STORE_ENC_HASHTABLE || i == j) {
        return;
    }
    ht = store_set_ht(o);
    m = ht->vec[i];
    ht->vec[i] = ht->vec[j];
    ht->vec[j] = m;
    ht->vec[i]->pos = (uint32_t) i;
    ht->vec[j]->pos = (uint32_t) j;
}


const char *
store_set_elem_bytes(const store_set_elem_t *e, char buf[STORE_OBJ_INTBUF],
    size_t *len)
{
    if (e->p != NULL) {
        *len = e->len;
        return e->p;
    }
    *len = store_reply_ll_format(e->ll, buf);
    return buf;
}


int
store_set_elem_ll(const store_set_elem_t *e, long long *ll)
{
    if (e->p == NULL) {
        *ll = e->ll;
        return 1;
    }
    return store_resp_ll((const uint8_t *) e->p, e->len, ll) == OB_OK;
}


int
store_set_maybe_intset(ob_arena_t *a, int owner, store_obj_t *o)
{
    store_set_ht_t  *ht;
    uint8_t         *is;
    size_t           alloc, i;
    long long        ll;
    int              added;

    if (o->encoding != STORE_ENC_HASHTABLE) {
        return OB_OK;
    }
    ht = store_set_ht(o);
    if (ht->n > STORE_SET_MAX_INTSET_ENTRIES) {
        return OB_OK;
    }
    for (i = 0; i < ht->n; i++) {
        if (store_resp_ll((const uint8_t *) ht->vec[i]->data, ht->vec[i]->len,
                          &ll) != OB_OK)
        {
            return OB_OK;
        }
    }
    is = store_intset_new(a, owner, &alloc);
    if (is == NULL) {
        return OB_ERR;
    }
    for (i = 0; i < ht->n; i++) {
        (void) store_resp_ll((const uint8_t *) ht->vec[i]->data,
                             ht->vec[i]->len, &ll);
        if (store_intset_add(a, owner, &is, &alloc, ll, &added) != OB_OK) {
            store_intset_free(a, owner, is, alloc);
            return OB_ERR;
        }
    }
    store_set_ht_free(a, owner, ht);
    o->encoding = STORE_ENC_INTSET;
    o->v.ptr = is;
    o->len = (uint32_t) alloc;
    return OB_OK;
}


const uint8_t *
store_set_intset_blob(const store_obj_t *o, size_t *len)
{
    if (o->encoding == STORE_ENC_HASHTABLE) {
        *len = 0;
        return NULL;
    }
    *len = store_intset_blob_len(store_set_is(o));
    return store_set_is(o);
}


store_obj_t *
store_set_from_intset_blob(ob_arena_t *a, int owner, const uint8_t *blob,
    size_t len, int *bad)
{
    store_obj_t  *o;
    uint8_t      *is;
    uint32_t      i, n;
    char          buf[STORE_OBJ_INTBUF];
    size_t        blen;
    int           added;

    *bad = 0;
    if (!store_intset_valid(blob, len)) {
        *bad = 1;
        return NULL;
    }
    n = store_intset_len(blob);
    if (n > STORE_SET_MAX_INTSET_ENTRIES) {
        o = store_set_new(a, owner, 0);
        for (i = 0; o != NULL && i < n; i++) {
            blen = store_reply_ll_format(store_intset_get(blob, i), buf);
            if (store_set_add(a, owner, o, buf, blen, &added) != OB_OK) {
                store_obj_free(a, owner, o);
                o = NULL;
            }
        }
        return o;
    }
    is = ob_arena_alloc(a, owner, len);
    if (is == NULL) {
        return NULL;
    }
    memcpy(is, blob, len);
    o = store_obj_payload_new(a, owner, STORE_OBJ_SET, STORE_ENC_INTSET, is);
    if (o == NULL) {
        ob_arena_free(a, owner, is, len);
        return NULL;
    }
    o->len = (uint32_t) len;
    return o;
}


typedef struct store_set_scan_ctx_s {
    store_set_scan_pt  fn;
    void              *arg;
} store_set_scan_ctx_t;


static void
store_set_scan_one(ob_hash_link_t *l, void *arg)
{
    store_set_scan_ctx_t  *ctx = arg;
    store_set_member_t    *m = STORE_SET_MEMBER_of(l);
    store_set_elem_t       e = { .p = m->data, .len = m->len, .ll = 0 };

    ctx->fn(ctx->arg, &e);
}


uint64_t
store_set_scan(store_obj_t *o, uint64_t cursor, size_t count,
    store_set_scan_pt fn, void *arg)
{
    store_set_scan_ctx_t  ctx = { .fn = fn, .arg = arg };
    size_t                maxb;

    if (o->encoding != STORE_ENC_HASHTABLE) {
        return 0;
    }
    if (count == 0) {
        count = 10;
    }
    /* Redis's maxiterations = count * 10, without overflowing */
    maxb = count > SIZE_MAX / 10 ? SIZE_MAX : count * 10;
    return ob_hash_scan(&store_set_ht(o)->h, cursor, count, maxb,
                        store_set_scan_one, &ctx);
}


/* ---- payload operations (store_types.c) -------------------------------- */

void
store_set_free(ob_arena_t *a, int owner, store_obj_t *o)
{
    if (o->v.ptr == NULL) {
        return;
    }
    if (o->encoding == STORE_ENC_HASHTABLE) {
        store_set_ht_free(a, owner, store_set_ht(o));
    } else {
        store_intset_free(a, owner, store_set_is(o), o->len);
    }
    o->v.ptr = NULL;
}


store_obj_t *
store_set_dup(ob_arena_t *a, int owner, const store_obj_t *o)
{
    store_obj_t     *d;
    store_set_ht_t  *src, *ht;
    uint8_t         *is;
    size_t           alloc, i;
    int              added;

    if (o->encoding != STORE_ENC_HASHTABLE) {
        is = store_intset_dup(a, owner, store_set_is(o), &alloc);
        if (is == NULL) {
            return NULL;
        }
        d = store_obj_payload_new(a, owner, STORE_OBJ_SET, STORE_ENC_INTSET,
                                  is);
        if (d == NULL) {
            store_intset_free(a, owner, is, alloc);
            return NULL;
        }
        d->len = (uint32_t) alloc;
        d->lru = o->lru;
        return d;
    }

    src = store_set_ht(o);
    ht = store_set_ht_new(a, owner, src->n);
    if (ht == NULL) {
        return NULL;
    }
    for (i = 0; i < src->n; i++) {
        if (store_set_ht_add(a, owner, ht, src->vec[i]->data,
                             src->vec[i]->len, &added) != OB_OK)
        {
            store_set_ht_free(a, owner, ht);
            return NULL;
        }
    }
    d = store_obj_payload_new(a, owner, STORE_OBJ_SET, STORE_ENC_HASHTABLE,
                              ht);
    if (d == NULL) {
        store_set_ht_free(a, owner, ht);
        return NULL;
    }
    d->lru = o->lru;
    return d;
}


size_t
store_set_mem(const ob_arena_t *a, const store_obj_t *o)
{
    const store_set_ht_t  *ht;
    size_t                 n, i;

    n = ob_arena_chunk_size(a, sizeof(store_obj_t));
    if (o->v.ptr == NULL) {
        return n;
    }
    if (o->encoding != STORE_ENC_HASHTABLE) {
        return n + ob_arena_chunk_size(a, o->len);
    }
    ht = store_set_ht(o);
    n += ob_arena_chunk_size(a, sizeof(store_set_ht_t))
         + ob_arena_chunk_size(a, ht->cap * sizeof(store_set_member_t *));
    for (i = 0; i < ht->n; i++) {
        n += ob_arena_chunk_size(a, store_set_member_size(ht->vec[i]->len));
    }
    return n;
}
