/*
 * store_hash.c: the hash type's two encodings (see store_hash.h).
 *
 * Listpack.  Fields and values alternate, field first, in insertion
 * order; a lookup walks the fields only (store_lp_find with a skip of 1).
 * With at most 512 pairs of at most 64 bytes the whole hash is a few
 * contiguous KiB at worst (a short hash a few dozen bytes), walked with
 * no pointer chasing, which is why Redis keeps small hashes this way.  A canonical integer is stored as
 * one (the listpack's own choice), so a value read back may need a buffer.
 *
 * Hashtable.  An ob_hash (incremental rehash, Redis's reverse-binary
 * SCAN) of store_hfield_t: one arena chunk per field holding the link,
 * both lengths, the field's bytes and then the value's.  That is one
 * allocation per field where Redis pays three (dictEntry, two sds).  A
 * value that changes size moves to a new chunk, which replaces the old
 * one in its chain (ob_hash_replace: no rehash step, no rehash of the
 * field); a value of the same size is overwritten in place.
 *
 * When the hash converts.  Exactly where Redis 7.0 converts, so that
 * OBJECT ENCODING agrees with redis-server: store_hash_set converts before
 * storing a field or value longer than 64 bytes and before adding a 513th
 * field; HSET and HMSET first call store_hash_try_convert over all their
 * arguments, as Redis's hashTypeTryConversion does, so one long value
 * converts the hash before any field goes in.  HSETNX over an existing
 * field converts nothing, whatever the value's length (7.0.15 checks
 * existence first).  A conversion builds the whole table before it
 * frees the listpack, so running out of memory halfway leaves the
 * listpack as it was.
 *
 * Randomness.  ob_hash has no "random entry" call, so a pick is a
 * one-step SCAN at a random cursor (one bucket), one entry of its chain,
 * and a rejection step that makes every entry as likely as any other
 * (store_ht_random).
 */
#include "store_hash.h"

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "store_int.h"
#include "store_listpack.h"


typedef struct store_hash_s {
    ob_hash_t   fields;          /* store_hfield_t by field */
    size_t      bytes;           /* arena bytes of the fields' chunks */
} store_hash_t;

typedef struct store_hfield_s {
    ob_hash_link_t  hlink;
    uint32_t        nfield;
    uint32_t        nval;
    uint8_t         data[];      /* the field's bytes, then the value's */
} store_hfield_t;

#define STORE_HFIELD_of(l)  OB_HASH_ENTRY(l, store_hfield_t, hlink)


/* ---- the hashtable encoding -------------------------------------------- */

static uint64_t
store_hfield_hash_key(const void *key, size_t nkey, void *ctx)
{
    (void) ctx;
    return XXH3_64bits(key, nkey);
}


static uint64_t
store_hfield_hash_entry(const ob_hash_link_t *l, void *ctx)
{
    const store_hfield_t  *e = STORE_HFIELD_of(l);

    (void) ctx;
    return XXH3_64bits(e->data, e->nfield);
}


static int
store_hfield_is_key(const ob_hash_link_t *l, const void *key, size_t nkey,
    void *ctx)
{
    const store_hfield_t  *e = STORE_HFIELD_of(l);

    (void) ctx;
    return e->nfield == nkey && memcmp(e->data, key, nkey) == 0;
}


static const ob_hash_type_t  store_hfield_type = {
    .hash_key = store_hfield_hash_key,
    .hash_entry = store_hfield_hash_entry,
    .entry_is_key = store_hfield_is_key
};

/* Redis's dict: 4 buckets at first, one field per bucket, shrink at 10%. */
static const ob_hash_conf_t  store_hfield_conf = {
    .power_init = 2,
    .load_factor = 1.0,
    .shrink_fill = 0.1
};


static size_t
store_hfield_size(size_t nf, size_t nv)
{
    return sizeof(store_hfield_t) + nf + nv;
}


static size_t
store_hfield_size_of(const store_hfield_t *e)
{
    return store_hfield_size(e->nfield, e->nval);
}


/* A field chunk holding f and v, not linked.  NULL on OOM.  new. */
static store_hfield_t *
store_hfield_new(ob_arena_t *a, int owner, const void *f, size_t nf,
    const void *v, size_t nv)
{
    store_hfield_t  *e;

    if (nf > UINT32_MAX || nv > UINT32_MAX) {
        return NULL;              /* proto-max-bulk-len stops this earlier */
    }
    e = ob_arena_alloc(a, owner, store_hfield_size(nf, nv));
    if (e == NULL) {
        return NULL;
    }
    e->hlink.next = NULL;
    e->nfield = (uint32_t) nf;
    e->nval = (uint32_t) nv;
    if (nf > 0) {
        memcpy(e->data, f, nf);
    }
    if (nv > 0) {
        memcpy(e->data + nf, v, nv);
    }
    return e;
}


static store_hash_t *
store_ht_new(ob_arena_t *a, int owner)
{
    store_hash_t  *h;

    h = ob_arena_alloc(a, owner, sizeof(store_hash_t));
    if (h == NULL) {
        return NULL;
    }
    if (ob_hash_init(&h->fields, &store_hfield_type, NULL, &store_hfield_conf)
        != OB_OK)
    {
        ob_arena_free(a, owner, h, sizeof(store_hash_t));
        return NULL;
    }
    h->bytes = 0;
    return h;
}


static void
store_ht_link(ob_arena_t *a, store_hash_t *h, store_hfield_t *e)
{
    ob_hash_insert(&h->fields, &e->hlink);
    h->bytes += ob_arena_chunk_size(a, store_hfield_size_of(e));
}


typedef struct store_ht_free_ctx_s {
    ob_arena_t  *a;
    int          owner;
} store_ht_free_ctx_t;


static void
store_ht_free_one(ob_hash_link_t *l, void *arg)
{
    store_ht_free_ctx_t  *fc = arg;
    store_hfield_t       *e = STORE_HFIELD_of(l);

    /* the scan has read e's successor already: freeing e is safe, and the
     * table is thrown away after the walk, so nothing is unlinked */
    ob_arena_free(fc->a, fc->owner, e, store_hfield_size_of(e));
}


/* Frees every field, the buckets and the table. */
static void
store_ht_free(ob_arena_t *a, int owner, store_hash_t *h)
{
    store_ht_free_ctx_t  fc = { a, owner };

    (void) ob_hash_scan(&h->fields, 0, SIZE_MAX, SIZE_MAX, store_ht_free_one,
                        &fc);
    ob_hash_fini(&h->fields);
    ob_arena_free(a, owner, h, sizeof(store_hash_t));
}


static store_hfield_t *
store_ht_find(const store_hash_t *h, const void *f, size_t nf)
{
    ob_hash_link_t  *l;

    /* a find may take a rehash step: the table is logically unchanged */
    l = ob_hash_find((ob_hash_t *) &h->fields, f, nf);
    return l != NULL ? STORE_HFIELD_of(l) : NULL;
}


/* Sets an existing field's value: in place when the size is the same,
 * else in a new chunk that takes the old one's place in its chain. */
static int
store_ht_update(ob_arena_t *a, int owner, store_hash_t *h, store_hfield_t *e,
    const void *v, size_t nv)
{
    store_hfield_t  *n;

    if (nv == e->nval) {
        if (nv > 0) {
            memcpy(e->data + e->nfield, v, nv);
        }
        return OB_OK;
    }
    n = store_hfield_new(a, owner, e->data, e->nfield, v, nv);
    if (n == NULL) {
        return OB_ERR;
    }
    (void) ob_hash_replace(&h->fields, &e->hlink, &n->hlink);
    h->bytes += ob_arena_chunk_size(a, store_hfield_size_of(n));
    h->bytes -= ob_arena_chunk_size(a, store_hfield_size_of(e));
    ob_arena_free(a, owner, e, store_hfield_size_of(e));
    return OB_OK;
}


static int
store_ht_set(ob_arena_t *a, int owner, store_hash_t *h, const void *f,
    size_t nf, const void *v, size_t nv, int flags)
{
    store_hfield_t  *e;

    e = store_ht_find(h, f, nf);
    if (e != NULL) {
        if (flags & STORE_HASH_SET_NX) {
            return 0;
        }
        return store_ht_update(a, owner, h, e, v, nv) == OB_OK ? 0 : OB_ERR;
    }
    e = store_hfield_new(a, owner, f, nf, v, nv);
    if (e == NULL) {
        return OB_ERR;
    }
    store_ht_link(a, h, e);
    return 1;
}


/* ---- the listpack encoding --------------------------------------------- */

/* The position of field f (a field, never a value), or 0. */
static store_lp_pos_t
store_lph_find(const uint8_t *lp, const void *f, size_t nf)
{
    store_lp_pos_t  pos = store_lp_first(lp);

    if (pos == 0) {
        return 0;
    }
    return store_lp_find(lp, pos, f, nf, 1);
}


static int
store_lph_set(ob_arena_t *a, int owner, store_obj_t *o, store_lp_pos_t fpos,
    const void *f, size_t nf, const void *v, size_t nv)
{
    uint8_t         *lp = o->v.ptr;
    store_lp_pos_t   last;

    if (fpos != 0) {
        if (store_lp_replace(a, owner, &lp, store_lp_next(lp, fpos), v, nv)
            != OB_OK)
        {
            return OB_ERR;
        }
        o->v.ptr = lp;
        return 0;
    }

    if (store_lp_append(a, owner, &lp, f, nf) != OB_OK) {
        return OB_ERR;
    }
    if (store_lp_append(a, owner, &lp, v, nv) != OB_OK) {
        /* Take the lone field back out so the pairs stay whole.  Only a
         * shrink across an arena class can be refused, and the field's
         * append just grew the block: the old size's class is the one
         * the budget gave back a moment ago. */
        last = store_lp_last(lp);
        (void) store_lp_remove(a, owner, &lp, last, 1, NULL);
        o->v.ptr = lp;
        return OB_ERR;
    }
    o->v.ptr = lp;
    return 1;
}


/* ---- the type's interface ----------------------------------------------- */

store_obj_t *
store_hash_new(ob_arena_t *a, int owner)
{
    uint8_t      *lp;
    store_obj_t  *o;

    lp = store_lp_new(a, owner);
    if (lp == NULL) {
        return NULL;
    }
    o = store_obj_payload_new(a, owner, STORE_OBJ_HASH, STORE_ENC_LISTPACK,
                              lp);
    if (o == NULL) {
        store_lp_free(a, owner, lp);
        return NULL;
    }
    return o;
}


size_t
store_hash_len(const store_obj_t *o)
{
    const store_hash_t  *h;

    if (o->encoding == STORE_ENC_LISTPACK) {
        return store_lp_count(o->v.ptr) / 2;
    }
    h = o->v.ptr;
    return ob_hash_count(&h->fields);
}


const uint8_t *
store_hash_get(const store_obj_t *o, const void *f, size_t nf,
    char buf[STORE_HASH_INTBUF], size_t *len)
{
    const uint8_t         *lp;
    const store_hfield_t  *e;
    store_lp_pos_t         pos;

    if (o->encoding == STORE_ENC_LISTPACK) {
        lp = o->v.ptr;
        pos = store_lph_find(lp, f, nf);
        if (pos == 0) {
            return NULL;
        }
        return store_lp_get_str(lp, store_lp_next(lp, pos), buf, len);
    }
    e = store_ht_find(o->v.ptr, f, nf);
    if (e == NULL) {
        return NULL;
    }
    *len = e->nval;
    return e->data + e->nfield;
}


int
store_hash_exists(const store_obj_t *o, const void *f, size_t nf)
{
    if (o->encoding == STORE_ENC_LISTPACK) {
        return store_lph_find(o->v.ptr, f, nf) != 0;
    }
    return store_ht_find(o->v.ptr, f, nf) != NULL;
}


int
store_hash_set(ob_arena_t *a, int owner, store_obj_t *o, const void *f,
    size_t nf, const void *v, size_t nv, int flags)
{
    store_lp_pos_t  fpos;

    if (o->encoding == STORE_ENC_LISTPACK) {
        fpos = store_lph_find(o->v.ptr, f, nf);
        if (fpos != 0 && (flags & STORE_HASH_SET_NX)) {
            /* before any conversion: HSETNX over an existing field
             * leaves a listpack one (redis-server 7.0.15 does) */
            return 0;
        }
        if (nf > STORE_HASH_LP_VALUE || nv > STORE_HASH_LP_VALUE) {
            if (store_hash_convert(a, owner, o) != OB_OK) {
                return OB_ERR;
            }
            return store_ht_set(a, owner, o->v.ptr, f, nf, v, nv, flags);
        }
        if (fpos != 0 || store_hash_len(o) < STORE_HASH_LP_ENTRIES) {
            return store_lph_set(a, owner, o, fpos, f, nf, v, nv);
        }
        /* a 513th field: Redis adds it, then converts; converting first
         * ends the same and cannot fail after the field went in */
        if (store_hash_convert(a, owner, o) != OB_OK) {
            return OB_ERR;
        }
    }
    return store_ht_set(a, owner, o->v.ptr, f, nf, v, nv, flags);
}


/* set_many over a hashtable: every chunk first, then the links, which
 * cannot fail. */
static int
store_ht_set_many(ob_arena_t *a, int owner, store_hash_t *h,
    const ob_str_t *args, size_t npairs, long long *added)
{
    store_hfield_t   *stack[16], **pre = stack, *e, *old;
    size_t            i;

    if (npairs > sizeof(stack) / sizeof(stack[0])) {
        pre = malloc(npairs * sizeof(*pre));
        if (pre == NULL) {
            return OB_ERR;
        }
    }
    for (i = 0; i < npairs; i++) {
        pre[i] = store_hfield_new(a, owner, args[2 * i].data, args[2 * i].len,
                                  args[2 * i + 1].data, args[2 * i + 1].len);
        if (pre[i] == NULL) {
            while (i-- > 0) {
                ob_arena_free(a, owner, pre[i], store_hfield_size_of(pre[i]));
            }
            if (pre != stack) {
                free(pre);
            }
            return OB_ERR;
        }
    }
    for (i = 0; i < npairs; i++) {
        e = pre[i];
        old = store_ht_find(h, e->data, e->nfield);
        if (old == NULL) {
            store_ht_link(a, h, e);
            (*added)++;
            continue;
        }
        (void) ob_hash_replace(&h->fields, &old->hlink, &e->hlink);
        h->bytes += ob_arena_chunk_size(a, store_hfield_size_of(e));
        h->bytes -= ob_arena_chunk_size(a, store_hfield_size_of(old));
        ob_arena_free(a, owner, old, store_hfield_size_of(old));
    }
    if (pre != stack) {
        free(pre);
    }
    return OB_OK;
}


int
store_hash_set_many(ob_arena_t *a, int owner, store_obj_t *o,
    const ob_str_t *args, size_t n, long long *added)
{
    store_obj_t  shadow;
    size_t       i;
    int          rc;

    *added = 0;
    if (n == 2) {
        /* one pair: store_hash_set is all or nothing already */
        rc = store_hash_set(a, owner, o, args[0].data, args[0].len,
                            args[1].data, args[1].len, 0);
        if (rc == OB_ERR) {
            return OB_ERR;
        }
        *added = rc;
        return OB_OK;
    }
    if (o->encoding == STORE_ENC_HASHTABLE) {
        return store_ht_set_many(a, owner, o->v.ptr, args, n / 2, added);
    }

    /* A listpack: the pairs go into a copy (a few KiB at most), which
     * replaces the hash only once all of them are in.  The copy may turn
     * into a hashtable on its way, which is what the hash would do. */
    shadow = *o;
    shadow.v.ptr = store_lp_dup(a, owner, o->v.ptr);
    if (shadow.v.ptr == NULL) {
        return OB_ERR;
    }
    for (i = 0; i + 1 < n; i += 2) {
        rc = store_hash_set(a, owner, &shadow, args[i].data, args[i].len,
                            args[i + 1].data, args[i + 1].len, 0);
        if (rc == OB_ERR) {
            store_hash_free(a, owner, &shadow);
            *added = 0;
            return OB_ERR;
        }
        *added += rc;
    }
    store_hash_free(a, owner, o);
    o->v.ptr = shadow.v.ptr;
    o->encoding = shadow.encoding;
    return OB_OK;
}


int
store_hash_del(ob_arena_t *a, int owner, store_obj_t *o, const void *f,
    size_t nf)
{
    uint8_t         *lp;
    store_hash_t    *h;
    store_hfield_t  *e;
    store_lp_pos_t   pos;

    if (o->encoding == STORE_ENC_LISTPACK) {
        lp = o->v.ptr;
        pos = store_lph_find(lp, f, nf);
        if (pos == 0) {
            return 0;
        }
        /* the listpack shrinks: across an arena class that takes a
         * smaller block, which a full budget may refuse */
        if (store_lp_remove(a, owner, &lp, pos, 2, NULL) != OB_OK) {
            return OB_ERR;
        }
        o->v.ptr = lp;
        return 1;
    }
    h = o->v.ptr;
    e = store_ht_find(h, f, nf);
    if (e == NULL) {
        return 0;
    }
    (void) ob_hash_delete(&h->fields, &e->hlink);
    h->bytes -= ob_arena_chunk_size(a, store_hfield_size_of(e));
    ob_arena_free(a, owner, e, store_hfield_size_of(e));
    return 1;
}


int
store_hash_try_convert(ob_arena_t *a, int owner, store_obj_t *o,
    const ob_str_t *args, size_t n)
{
    size_t  i;

    if (o->encoding != STORE_ENC_LISTPACK) {
        return OB_OK;
    }
    for (i = 0; i < n; i++) {
        if (args[i].len > STORE_HASH_LP_VALUE) {
            return store_hash_convert(a, owner, o);
        }
    }
    return OB_OK;
}


int
store_hash_convert(ob_arena_t *a, int owner, store_obj_t *o)
{
    uint8_t         *lp;
    store_hash_t    *h;
    store_hfield_t  *e;
    store_lp_pos_t   pos, vpos;
    const uint8_t   *fs, *vs;
    size_t           nf, nv;
    char             fbuf[STORE_LP_INTBUF], vbuf[STORE_LP_INTBUF];

    if (o->encoding == STORE_ENC_HASHTABLE) {
        return OB_OK;
    }
    lp = o->v.ptr;
    h = store_ht_new(a, owner);
    if (h == NULL) {
        return OB_ERR;
    }
    for (pos = store_lp_first(lp); pos != 0; pos = store_lp_next(lp, vpos)) {
        vpos = store_lp_next(lp, pos);
        fs = store_lp_get_str(lp, pos, fbuf, &nf);
        vs = store_lp_get_str(lp, vpos, vbuf, &nv);
        e = store_hfield_new(a, owner, fs, nf, vs, nv);
        if (e == NULL) {
            store_ht_free(a, owner, h);
            return OB_ERR;
        }
        store_ht_link(a, h, e);
    }
    store_lp_free(a, owner, lp);
    o->v.ptr = h;
    o->encoding = STORE_ENC_HASHTABLE;
    return OB_OK;
}


/* ---- walking ------------------------------------------------------------- */

typedef struct store_hash_walk_s {
    store_hash_visit_pt  fn;
    void                *arg;
} store_hash_walk_t;


static void
store_hash_walk_one(ob_hash_link_t *l, void *arg)
{
    store_hash_walk_t  *w = arg;
    store_hfield_t     *e = STORE_HFIELD_of(l);

    w->fn(w->arg, e->data, e->nfield, e->data + e->nfield, e->nval);
}


/* Gives the pair whose field is at pos to fn; returns the next field's
 * position, or 0. */
static store_lp_pos_t
store_lph_visit(const uint8_t *lp, store_lp_pos_t pos, store_hash_visit_pt fn,
    void *arg)
{
    store_lp_pos_t  vpos;
    const uint8_t  *fs, *vs;
    size_t          nf, nv;
    char            fbuf[STORE_LP_INTBUF], vbuf[STORE_LP_INTBUF];

    vpos = store_lp_next(lp, pos);
    fs = store_lp_get_str(lp, pos, fbuf, &nf);
    vs = store_lp_get_str(lp, vpos, vbuf, &nv);
    fn(arg, fs, nf, vs, nv);
    return store_lp_next(lp, vpos);
}


void
store_hash_foreach(const store_obj_t *o, store_hash_visit_pt fn, void *arg)
{
    const uint8_t      *lp;
    store_hash_t       *h;
    store_hash_walk_t   w = { fn, arg };
    store_lp_pos_t      pos;

    if (o->encoding == STORE_ENC_LISTPACK) {
        lp = o->v.ptr;
        for (pos = store_lp_first(lp); pos != 0; ) {
            pos = store_lph_visit(lp, pos, fn, arg);
        }
        return;
    }
    /* one unbounded scan call visits each entry exactly once: the table
     * cannot change during it (rehashing is paused) */
    h = o->v.ptr;
    (void) ob_hash_scan(&h->fields, 0, SIZE_MAX, SIZE_MAX, store_hash_walk_one,
                        &w);
}


uint64_t
store_hash_scan(const store_obj_t *o, uint64_t cursor, size_t count,
    store_hash_visit_pt fn, void *arg)
{
    store_hash_t       *h;
    store_hash_walk_t   w = { fn, arg };
    size_t              steps;

    if (o->encoding == STORE_ENC_LISTPACK) {
        /* Redis answers a small hash whole, whatever the cursor */
        store_hash_foreach(o, fn, arg);
        return 0;
    }
    if (count == 0) {
        count = 1;
    }
    steps = count > SIZE_MAX / 10 ? SIZE_MAX : count * 10;
    h = o->v.ptr;
    return ob_hash_scan(&h->fields, cursor, count, steps, store_hash_walk_one,
                        &w);
}


/* ---- random fields ------------------------------------------------------- */

uint64_t
store_hash_rand(uint64_t *rng)
{
    uint64_t  z;

    /* splitmix64: every bit of the output is good, the low ones too,
     * which pick the bucket */
    z = (*rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}


/* A uniform number in [0, n), n > 0 (the modulo bias of a 64-bit draw
 * over counts this small is far below anything a test could see). */
static size_t
store_hash_rand_below(uint64_t *rng, size_t n)
{
    return (size_t) (store_hash_rand(rng) % n);
}


typedef struct store_hash_pick_s {
    store_hfield_t  *e;
    size_t           seen;
    uint64_t        *rng;
} store_hash_pick_t;


static void
store_hash_pick_one(ob_hash_link_t *l, void *arg)
{
    store_hash_pick_t  *p = arg;

    /* reservoir sampling over the entries one scan step gives */
    p->seen++;
    if (store_hash_rand_below(p->rng, p->seen) == 0) {
        p->e = STORE_HFIELD_of(l);
    }
}


/*
 * A random field of a non-empty table.  borrowed.
 *
 * A bucket chosen at random, then an entry of its chain: an entry alone
 * in its chain would be L times likelier than one of a chain of L, so a
 * chain is taken with probability L / STORE_HASH_PICK_CHAIN (always past
 * that, which a load factor of at most 1 makes rare), and an empty
 * bucket draws again.  That keeps HRANDFIELD's picks even: stepping from
 * a random bucket to the next non-empty one, as RANDOMKEY does, favours
 * the entries after long empty runs several times over.
 */
#define STORE_HASH_PICK_CHAIN  8
#define STORE_HASH_PICK_TRIES  1000

static store_hfield_t *
store_ht_random(store_hash_t *h, uint64_t *rng)
{
    store_hash_pick_t  p;
    int                tries;

    for (tries = 0; tries < STORE_HASH_PICK_TRIES; tries++) {
        p.e = NULL;
        p.seen = 0;
        p.rng = rng;
        /* one step: one bucket (and, while rehashing, its extensions) */
        (void) ob_hash_scan(&h->fields, store_hash_rand(rng), SIZE_MAX, 1,
                            store_hash_pick_one, &p);
        if (p.e == NULL) {
            continue;
        }
        if (p.seen >= STORE_HASH_PICK_CHAIN
            || store_hash_rand_below(rng, STORE_HASH_PICK_CHAIN) < p.seen)
        {
            return p.e;
        }
    }
    /* unlucky for a long time: one uniform pick over the whole table */
    p.e = NULL;
    p.seen = 0;
    (void) ob_hash_scan(&h->fields, 0, SIZE_MAX, SIZE_MAX,
                        store_hash_pick_one, &p);
    return p.e;
}


void
store_hash_random(const store_obj_t *o, uint64_t *rng, store_hash_visit_pt fn,
    void *arg)
{
    const uint8_t   *lp;
    store_hfield_t  *e;
    store_lp_pos_t   pos;
    size_t           n;

    if (o->encoding == STORE_ENC_LISTPACK) {
        lp = o->v.ptr;
        n = store_lp_count(lp) / 2;
        if (n == 0) {
            return;
        }
        pos = store_lp_seek(lp, (long long) (2 * store_hash_rand_below(rng, n)));
        (void) store_lph_visit(lp, pos, fn, arg);
        return;
    }
    e = store_ht_random(o->v.ptr, rng);
    if (e != NULL) {
        fn(arg, e->data, e->nfield, e->data + e->nfield, e->nval);
    }
}


void
store_hash_random_many(const store_obj_t *o, uint64_t *rng, uint64_t count,
    store_hash_visit_pt fn, void *arg, const int *stop)
{
    const uint8_t   *lp;
    store_lp_pos_t   stack[STORE_HASH_LP_ENTRIES], *pos = stack, p;
    size_t           n, i;

    if (store_hash_len(o) == 0) {
        return;
    }
    if (o->encoding != STORE_ENC_LISTPACK) {
        while (count-- > 0 && !(stop != NULL && *stop)) {
            store_hash_random(o, rng, fn, arg);
        }
        return;
    }

    /* the fields' positions once, so that each pick is one index (a
     * seek per pick would walk half the listpack every time) */
    lp = o->v.ptr;
    n = store_lp_count(lp) / 2;
    if (n > STORE_HASH_LP_ENTRIES) {
        pos = malloc(n * sizeof(*pos));      /* a listpack from elsewhere */
    }
    if (pos == NULL) {
        while (count-- > 0 && !(stop != NULL && *stop)) {
            store_hash_random(o, rng, fn, arg);
        }
        return;
    }
    i = 0;
    for (p = store_lp_first(lp); p != 0 && i < n; i++) {
        pos[i] = p;
        p = store_lp_next(lp, store_lp_next(lp, p));
    }
    while (count-- > 0 && !(stop != NULL && *stop)) {
        (void) store_lph_visit(lp, pos[store_hash_rand_below(rng, n)], fn,
                               arg);
    }
    if (pos != stack) {
        free(pos);
    }
}


typedef struct store_hash_sample_s {
    size_t               need;       /* still to choose */
    size_t               left;       /* fields not yet looked at */
    uint64_t            *rng;
    store_hash_visit_pt  fn;
    void                *arg;
} store_hash_sample_t;


static void
store_hash_sample_one(void *arg, const uint8_t *f, size_t nf,
    const uint8_t *v, size_t nv)
{
    store_hash_sample_t  *s = arg;

    /* Knuth's algorithm S: choose this one with probability need/left,
     * which ends with exactly `need` chosen, every subset as likely */
    if (s->need > 0 && store_hash_rand_below(s->rng, s->left) < s->need) {
        s->need--;
        s->fn(s->arg, f, nf, v, nv);
    }
    s->left--;
}


void
store_hash_random_distinct(const store_obj_t *o, uint64_t *rng, size_t count,
    store_hash_visit_pt fn, void *arg)
{
    store_hash_sample_t   s;
    store_hfield_t      **seen = NULL, *e;
    size_t                len, cap, i, got;

    len = store_hash_len(o);
    if (count > len) {
        count = len;
    }
    if (count == 0) {
        return;
    }
    if (o->encoding != STORE_ENC_LISTPACK && count * 3 <= len) {
        cap = 16;
        while (cap < count * 2) {
            cap *= 2;
        }
        seen = calloc(cap, sizeof(*seen));
    }
    if (seen == NULL) {
        /* a listpack, a count near the size, or no memory for the set:
         * one pass over the whole hash, which needs none */
        s.need = count;
        s.left = len;
        s.rng = rng;
        s.fn = fn;
        s.arg = arg;
        store_hash_foreach(o, store_hash_sample_one, &s);
        return;
    }

    /* count <= len / 3: random picks, each new one given once; an open
     * addressing set at most half full keeps the probes short, and at
     * most a third of the fields taken keeps the repeats few */
    for (got = 0; got < count; ) {
        e = store_ht_random(o->v.ptr, rng);
        i = (size_t) (((uintptr_t) e >> 4) * 0x9e3779b97f4a7c15ULL) & (cap - 1);
        while (seen[i] != NULL && seen[i] != e) {
            i = (i + 1) & (cap - 1);
        }
        if (seen[i] == e) {
            continue;
        }
        seen[i] = e;
        got++;
        fn(arg, e->data, e->nfield, e->data + e->nfield, e->nval);
    }
    free(seen);
}


/* ---- store_types.c's payload functions ----------------------------------- */

void
store_hash_free(ob_arena_t *a, int owner, store_obj_t *o)
{
    if (o->v.ptr == NULL) {
        return;
    }
    if (o->encoding == STORE_ENC_LISTPACK) {
        store_lp_free(a, owner, o->v.ptr);
    } else {
        store_ht_free(a, owner, o->v.ptr);
    }
    o->v.ptr = NULL;
}


typedef struct store_hash_dup_ctx_s {
    ob_arena_t    *a;
    int            owner;
    store_hash_t  *h;
    int            failed;
} store_hash_dup_ctx_t;


static void
store_hash_dup_one(void *arg, const uint8_t *f, size_t nf, const uint8_t *v,
    size_t nv)
{
    store_hash_dup_ctx_t  *d = arg;
    store_hfield_t        *e;

    if (d->failed) {
        return;
    }
    e = store_hfield_new(d->a, d->owner, f, nf, v, nv);
    if (e == NULL) {
        d->failed = 1;
        return;
    }
    store_ht_link(d->a, d->h, e);
}


store_obj_t *
store_hash_dup(ob_arena_t *a, int owner, const store_obj_t *o)
{
    store_hash_dup_ctx_t  d;
    store_obj_t          *n;
    void                 *payload;

    if (o->encoding == STORE_ENC_LISTPACK) {
        payload = store_lp_dup(a, owner, o->v.ptr);
        if (payload == NULL) {
            return NULL;
        }
    } else {
        d.a = a;
        d.owner = owner;
        d.failed = 0;
        d.h = store_ht_new(a, owner);
        if (d.h == NULL) {
            return NULL;
        }
        store_hash_foreach(o, store_hash_dup_one, &d);
        if (d.failed) {
            store_ht_free(a, owner, d.h);
            return NULL;
        }
        payload = d.h;
    }
    n = store_obj_payload_new(a, owner, STORE_OBJ_HASH,
                              (store_obj_enc_t) o->encoding, payload);
    if (n == NULL) {
        if (o->encoding == STORE_ENC_LISTPACK) {
            store_lp_free(a, owner, payload);
        } else {
            store_ht_free(a, owner, payload);
        }
        return NULL;
    }
    return n;
}


size_t
store_hash_mem(const ob_arena_t *a, const store_obj_t *o)
{
    const store_hash_t  *h;
    size_t               n;

    n = ob_arena_chunk_size(a, sizeof(store_obj_t));
    if (o->encoding == STORE_ENC_LISTPACK) {
        return n + ob_arena_chunk_size(a, store_lp_bytes(o->v.ptr));
    }
    h = o->v.ptr;
    return n + ob_arena_chunk_size(a, sizeof(store_hash_t)) + h->bytes;
}
