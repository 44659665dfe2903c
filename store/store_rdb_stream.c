/*
 * store_rdb_stream.c: streams in RDB files, both ways, in Redis 7.0's
 * STREAM_LISTPACKS_2 format (type 19), and the loading of the older
 * STREAM_LISTPACKS (type 15) too.
 *
 * Redis keeps a stream as a radix tree of listpacks and writes those
 * listpacks as they are; our stream packs its entries in blocks of its
 * own (store_stream.c), which end where Redis's listpacks would.  So the
 * writer builds, for each of our nodes, the listpack Redis would hold
 * for the node's entries, and the loader replays a file's listpacks as
 * appends, which close our nodes where Redis closed its listpacks.
 *
 * The payload (rdb.c rdbSaveObject, t_stream.c):
 *
 *   <len nodes> { <string: master ID, 16 bytes big-endian ms, seq>
 *                 <string: the node's listpack> }*
 *   <len length> <len last.ms> <len last.seq>
 *   v2: <len first.ms> <len first.seq> <len max_deleted.ms>
 *       <len max_deleted.seq> <len entries_added>
 *   <len groups> { <string name> <len last.ms> <len last.seq>
 *                  v2: <len entries_read (2^64-1: unknown)>
 *                  <len PEL> { <raw 16-byte ID> <ms u64le delivery time>
 *                              <len delivery count> }*
 *                  <len consumers> { <string name> <ms u64le seen time>
 *                                    <len PEL> { <raw 16-byte ID> }* }* }*
 *
 * A node's listpack, every number an integer entry:
 *
 *   master:  count  deleted  nfields  field...  0
 *   entry:   flags  ms-diff  seq-diff  [nfields field value ...] | [value ...]
 *            lp-count
 *
 * count is the node's live entries, deleted its tombstones; the diffs are
 * from the master ID (the node's key); flags 1 marks a tombstone, 2
 * (SAMEFIELDS) an entry whose fields are the master fields, stored once:
 * it holds its values only; lp-count is how many listpack elements the
 * entry took, so that a reverse walk can step back over it.
 *
 * What is not kept across a save: our nodes keep the tombstones of XDEL
 * and XTRIM until they empty, but the stream API shows live entries only,
 * so the writer writes each node's live entries (count = live, deleted =
 * 0; the master ID and fields are the first live entry's).  Redis loads
 * that as the same entries in the same nodes; only how many more appends
 * the tail node takes before it is full can differ, as its tombstones
 * are gone.  Loading does keep tombstones: they are appended, then
 * deleted, as XDEL left them.
 */
#include "store_rdb_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "store_listpack.h"
#include "store_stream.h"

#define SRDB_FLAG_DELETED     0x01
#define SRDB_FLAG_SAMEFIELDS  0x02
#define SRDB_ID_BYTES         16

/* The private arena the writer builds listpacks in: pages of 64 KiB, a
 * listpack larger than half a page (a node with a big value) a block of
 * its own.  Its budget is no budget: the bytes are malloc'd, one node's
 * listpack at a time, and freed before the next. */
#define SRDB_ARENA_PAGE       (64 * 1024)
#define SRDB_ARENA_LIMIT      ((size_t) 1 << 46)


/* ---- IDs ---------------------------------------------------------------- */

static void
srdb_id_encode(uint8_t *buf, const store_sid_t *id)
{
    int  i;

    for (i = 0; i < 8; i++) {
        buf[i] = (uint8_t) (id->ms >> (56 - 8 * i));
        buf[8 + i] = (uint8_t) (id->seq >> (56 - 8 * i));
    }
}


static void
srdb_id_decode(const uint8_t *buf, store_sid_t *id)
{
    int  i;

    id->ms = 0;
    id->seq = 0;
    for (i = 0; i < 8; i++) {
        id->ms = (id->ms << 8) | buf[i];
        id->seq = (id->seq << 8) | buf[8 + i];
    }
}


/* ---- the writer --------------------------------------------------------- */

/* The listpack items of one node, in a malloc'd array that grows. */
typedef struct srdb_items_s {
    store_lp_val_t  *v;
    size_t           n;
    size_t           cap;
} srdb_items_t;


static int
srdb_items_reserve(srdb_items_t *it, size_t more)
{
    store_lp_val_t  *v;
    size_t           cap;

    if (it->n + more <= it->cap) {
        return OB_OK;
    }
    cap = it->cap == 0 ? 64 : it->cap;
    while (cap < it->n + more) {
        cap *= 2;
    }
    v = realloc(it->v, cap * sizeof(v[0]));
    if (v == NULL) {
        return OB_ERR;
    }
    it->v = v;
    it->cap = cap;
    return OB_OK;
}


static void
srdb_items_int(srdb_items_t *it, long long ll)
{
    store_lp_val_t  *v = &it->v[it->n++];

    v->s = NULL;
    v->len = 0;
    v->ll = ll;
}


/* A string item: listpack turns a canonical integer into an integer
 * entry, as Redis's lpAppend does.  An empty string still needs a non-NULL
 * pointer (NULL means an integer item). */
static void
srdb_items_str(srdb_items_t *it, const uint8_t *s, size_t len)
{
    store_lp_val_t  *v = &it->v[it->n++];

    v->s = s != NULL ? s : (const uint8_t *) "";
    v->len = len;
    v->ll = 0;
}


/* The state of one save: the node being built. */
typedef struct srdb_save_s {
    store_rdb_out_t  *w;
    ob_arena_t       *a;
    int               owner;
    srdb_items_t      master;        /* the master entry */
    srdb_items_t      ents;          /* the entries after it */
    store_sid_t       master_id;
    size_t            count;         /* entries in the node */
    /* the master fields, borrowed from the stream */
    const uint8_t   **mf;
    size_t           *mflen;
    size_t            nmf;
    size_t            mfcap;
} srdb_save_t;


/* Starts a node with entry e: its ID is the master ID, its fields the
 * master fields. */
static int
srdb_node_start(srdb_save_t *sv, const store_sentry_t *e)
{
    store_spairs_t   pairs;
    const uint8_t   *f, *v;
    size_t           flen, vlen, i;

    sv->master_id = e->id;
    sv->count = 0;
    sv->master.n = 0;
    sv->ents.n = 0;
    if (e->nfields > sv->mfcap) {
        const uint8_t  **mf = realloc(sv->mf, e->nfields * sizeof(mf[0]));
        size_t          *ml;

        if (mf == NULL) {
            return OB_ERR;
        }
        sv->mf = mf;
        ml = realloc(sv->mflen, e->nfields * sizeof(ml[0]));
        if (ml == NULL) {
            return OB_ERR;
        }
        sv->mflen = ml;
        sv->mfcap = e->nfields;
    }
    sv->nmf = e->nfields;
    store_sentry_pairs(e, &pairs);
    for (i = 0; i < e->nfields; i++) {
        store_spairs_next(&pairs, &f, &flen, &v, &vlen);
        sv->mf[i] = f;
        sv->mflen[i] = flen;
    }
    return OB_OK;
}


/* 1 when e's fields are the node's master fields, in order. */
static int
srdb_same_fields(const srdb_save_t *sv, const store_sentry_t *e)
{
    store_spairs_t   pairs;
    const uint8_t   *f, *v;
    size_t           flen, vlen, i;

    if (e->nfields != sv->nmf) {
        return 0;
    }
    store_sentry_pairs(e, &pairs);
    for (i = 0; i < e->nfields; i++) {
        store_spairs_next(&pairs, &f, &flen, &v, &vlen);
        if (flen != sv->mflen[i]
            || (flen > 0 && memcmp(f, sv->mf[i], flen) != 0))
        {
            return 0;
        }
    }
    return 1;
}


/* Appends entry e to the node being built (t_stream.c streamAppendItem's
 * layout). */
static int
srdb_node_add(srdb_save_t *sv, const store_sentry_t *e)
{
    store_spairs_t   pairs;
    const uint8_t   *f, *v;
    size_t           flen, vlen, i;
    int              same = srdb_same_fields(sv, e);
    long long        lp_count;

    if (e->nfields > (SIZE_MAX / sizeof(store_lp_val_t) - 8) / 2
        || srdb_items_reserve(&sv->ents, 2 * e->nfields + 5) != OB_OK)
    {
        return OB_ERR;
    }
    srdb_items_int(&sv->ents, same ? SRDB_FLAG_SAMEFIELDS : 0);
    /* Differences as Redis computes them: unsigned, stored as int64 (a
     * sequence below the master's is a negative difference). */
    srdb_items_int(&sv->ents, (long long) (e->id.ms - sv->master_id.ms));
    srdb_items_int(&sv->ents, (long long) (e->id.seq - sv->master_id.seq));
    if (!same) {
        srdb_items_int(&sv->ents, (long long) e->nfields);
    }
    store_sentry_pairs(e, &pairs);
    for (i = 0; i < e->nfields; i++) {
        store_spairs_next(&pairs, &f, &flen, &v, &vlen);
        if (!same) {
            srdb_items_str(&sv->ents, f, flen);
        }
        srdb_items_str(&sv->ents, v, vlen);
    }
    lp_count = (long long) e->nfields + 3;
    if (!same) {
        lp_count += (long long) e->nfields + 1;
    }
    srdb_items_int(&sv->ents, lp_count);
    sv->count++;
    return OB_OK;
}


/* Writes the node built so far: its key and its listpack. */
static int
srdb_node_flush(srdb_save_t *sv)
{
    uint8_t  key[SRDB_ID_BYTES], *lp;
    size_t   i;
    int      rc;

    if (srdb_items_reserve(&sv->master, sv->nmf + 4) != OB_OK) {
        return OB_ERR;
    }
    srdb_items_int(&sv->master, (long long) sv->count);
    srdb_items_int(&sv->master, 0);
    srdb_items_int(&sv->master, (long long) sv->nmf);
    for (i = 0; i < sv->nmf; i++) {
        srdb_items_str(&sv->master, sv->mf[i], sv->mflen[i]);
    }
    srdb_items_int(&sv->master, 0);

    lp = store_lp_new(sv->a, sv->owner);
    if (lp == NULL
        || store_lp_splice(sv->a, sv->owner, &lp, 0, 0, sv->master.v,
                           sv->master.n, NULL) != OB_OK
        || store_lp_splice(sv->a, sv->owner, &lp, 0, 0, sv->ents.v,
                           sv->ents.n, NULL) != OB_OK)
    {
        if (lp != NULL) {
            store_lp_free(sv->a, sv->owner, lp);
        }
        return OB_ERR;
    }
    srdb_id_encode(key, &sv->master_id);
    rc = store_rdb_put_string(sv->w, key, sizeof(key));
    if (rc == OB_OK) {
        rc = store_rdb_put_string(sv->w, lp, store_lp_bytes(lp));
    }
    store_lp_free(sv->a, sv->owner, lp);
    return rc;
}


/* The entries: one listpack per node of ours. */
static int
srdb_save_nodes(store_rdb_out_t *w, const store_stream_t *s)
{
    static const store_sid_t  lo = { 0, 0 };
    static const store_sid_t  hi = { UINT64_MAX, UINT64_MAX };
    ob_arena_conf_t           conf;
    store_stream_iter_t       it;
    store_sentry_t            e;
    srdb_save_t               sv;
    size_t                    node = 0, nodes = 0;
    int                       rc = OB_OK, open = 0;

    if (store_rdb_put_len(w, store_stream_nodes(s)) != OB_OK) {
        return OB_ERR;
    }
    if (store_stream_nodes(s) == 0) {
        return OB_OK;
    }

    memset(&sv, 0, sizeof(sv));
    sv.w = w;
    conf.limit = SRDB_ARENA_LIMIT;
    conf.page_size = SRDB_ARENA_PAGE;
    conf.min_chunk = 16;
    conf.growth_factor = 1.25;
    sv.a = ob_arena_new(&conf, NULL, 0);
    if (sv.a == NULL) {
        return OB_ERR;
    }
    sv.owner = ob_arena_owner_add(sv.a, "rdb-stream");

    /* Every node holds a live entry (a node is freed when its last one
     * goes), so the nodes the iterator passes are all of them. */
    store_stream_iter_start(s, &it, &lo, &hi, 0);
    while (rc == OB_OK && store_stream_iter_next(&it, &e)) {
        if (!open || it.last_node != node) {
            if (open) {
                rc = srdb_node_flush(&sv);
                if (rc != OB_OK) {
                    break;
                }
            }
            node = it.last_node;
            open = 1;
            nodes++;
            rc = srdb_node_start(&sv, &e);
            if (rc != OB_OK) {
                break;
            }
        }
        rc = srdb_node_add(&sv, &e);
    }
    if (rc == OB_OK && open) {
        rc = srdb_node_flush(&sv);
    }
    if (rc == OB_OK && nodes != store_stream_nodes(s)) {
        /* The count written first would not match: a broken invariant,
         * and a file Redis would refuse. */
        rc = OB_ERR;
    }

    free(sv.master.v);
    free(sv.ents.v);
    free(sv.mf);
    free(sv.mflen);
    ob_arena_destroy(sv.a);
    return rc;
}


/* rdbSavePEL: the IDs, with the NACKs' delivery time and count for a
 * group's PEL (nacks), without for a consumer's. */
static int
srdb_save_pel(store_rdb_out_t *w, const store_smap_t *pel, int nacks)
{
    static const store_sid_t  zero = { 0, 0 };
    store_smap_iter_t         it;
    store_sid_t               id;
    store_snack_t            *n;
    void                     *val;
    uint8_t                   raw[SRDB_ID_BYTES];

    if (store_rdb_put_len(w, store_smap_count(pel)) != OB_OK) {
        return OB_ERR;
    }
    store_smap_seek(pel, &zero, &it);
    while (store_smap_next(&it, &id, &val)) {
        n = val;
        srdb_id_encode(raw, &id);
        if (store_rdb_put(w, raw, sizeof(raw)) != OB_OK) {
            return OB_ERR;
        }
        if (nacks
            && (store_rdb_put_u64le(w, (uint64_t) n->delivery_time) != OB_OK
                || store_rdb_put_len(w, n->delivery_count) != OB_OK))
        {
            return OB_ERR;
        }
    }
    return OB_OK;
}


static int
srdb_save_group(store_rdb_out_t *w, const store_sgroup_t *g)
{
    const store_sconsumer_t  *c;
    size_t                    i;

    if (store_rdb_put_string(w, g->name, g->nname) != OB_OK
        || store_rdb_put_len(w, g->last_id.ms) != OB_OK
        || store_rdb_put_len(w, g->last_id.seq) != OB_OK
        /* -1 (unknown) goes as 2^64-1, as Redis's rdbSaveLen does */
        || store_rdb_put_len(w, (uint64_t) g->entries_read) != OB_OK
        || srdb_save_pel(w, g->pel, 1) != OB_OK
        || store_rdb_put_len(w, g->nconsumers) != OB_OK)
    {
        return OB_ERR;
    }
    for (i = 0; i < g->nconsumers; i++) {
        c = g->consumers[i];
        if (store_rdb_put_string(w, c->name, c->nname) != OB_OK
            || store_rdb_put_u64le(w, (uint64_t) c->seen_time) != OB_OK
            || srdb_save_pel(w, c->pel, 0) != OB_OK)
        {
            return OB_ERR;
        }
    }
    return OB_OK;
}


int
store_rdb_save_stream(store_rdb_out_t *w, const store_obj_t *o)
{
    const store_stream_t  *s = o->v.ptr;
    size_t                 i;

    if (srdb_save_nodes(w, s) != OB_OK
        || store_rdb_put_len(w, s->length) != OB_OK
        || store_rdb_put_len(w, s->last_id.ms) != OB_OK
        || store_rdb_put_len(w, s->last_id.seq) != OB_OK
        || store_rdb_put_len(w, s->first_id.ms) != OB_OK
        || store_rdb_put_len(w, s->first_id.seq) != OB_OK
        || store_rdb_put_len(w, s->max_deleted.ms) != OB_OK
        || store_rdb_put_len(w, s->max_deleted.seq) != OB_OK
        || store_rdb_put_len(w, s->entries_added) != OB_OK
        || store_rdb_put_len(w, s->ngroups) != OB_OK)
    {
        return OB_ERR;
    }
    /* Our groups and consumers are sorted by name bytes, the order of
     * Redis's rax. */
    for (i = 0; i < s->ngroups; i++) {
        if (srdb_save_group(w, s->groups[i]) != OB_OK) {
            return OB_ERR;
        }
    }
    return OB_OK;
}


/* ---- the loader: listpacks ---------------------------------------------- */

/* A cursor over a node's listpack. */
typedef struct srdb_lp_s {
    const uint8_t   *lp;
    store_lp_pos_t   pos;            /* 0: past the end */
} srdb_lp_t;


/* The next element as an integer (lpGetIntegerIfValid: an integer entry,
 * or a string that string2ll reads).  OB_ERR at the end or for another
 * string. */
static int
srdb_lp_int(srdb_lp_t *c, long long *out)
{
    store_lp_val_t  v;

    if (c->pos == 0) {
        return OB_ERR;
    }
    store_lp_get(c->lp, c->pos, &v);
    c->pos = store_lp_next(c->lp, c->pos);
    if (v.s == NULL) {
        *out = v.ll;
        return OB_OK;
    }
    if (v.len == 0 || !store_str_is_ll((const char *) v.s, v.len, out)) {
        return OB_ERR;
    }
    return OB_OK;
}


/* The next element as bytes; an integer is formatted into buf. */
static int
srdb_lp_str(srdb_lp_t *c, char buf[STORE_LP_INTBUF], ob_str_t *out)
{
    size_t  len;

    if (c->pos == 0) {
        return OB_ERR;
    }
    out->data = store_lp_get_str(c->lp, c->pos, buf, &len);
    out->len = len;
    c->pos = store_lp_next(c->lp, c->pos);
    return OB_OK;
}


/* What one load keeps between nodes: scratch arrays (malloc'd, grown),
 * the tombstones to delete at the end, the top ID appended. */
typedef struct srdb_load_s {
    store_rdb_in_t  *r;
    store_stream_t  *s;
    ob_str_t        *mf;             /* master fields */
    char            *mfbuf;          /* their integers' text */
    size_t           mfcap;
    ob_str_t        *fv;             /* an entry's fields and values */
    char            *fvbuf;
    size_t           fvcap;
    store_sid_t     *dead;           /* tombstones */
    size_t           ndead;
    size_t           deadcap;
    store_sid_t      top;
    int              any;            /* top is set */
} srdb_load_t;


static int
srdb_strs_reserve(ob_str_t **strs, char **bufs, size_t *cap, size_t n)
{
    ob_str_t  *s;
    char      *b;
    size_t     ncap;

    if (n <= *cap) {
        return OB_OK;
    }
    if (n > SIZE_MAX / STORE_LP_INTBUF / 2) {
        return OB_ERR;
    }
    ncap = *cap == 0 ? 16 : *cap;
    while (ncap < n) {
        ncap *= 2;
    }
    s = realloc(*strs, ncap * sizeof(s[0]));
    if (s == NULL) {
        return OB_ERR;
    }
    *strs = s;
    b = realloc(*bufs, ncap * STORE_LP_INTBUF);
    if (b == NULL) {
        return OB_ERR;
    }
    *bufs = b;
    *cap = ncap;
    return OB_OK;
}


/*
 * Replays one node's listpack: checks its structure as Redis's
 * streamValidateListpackIntegrity does (deep), appends its entries in
 * order (tombstones too, remembered for deletion).  OB_ERR with the
 * error recorded.
 */
static int
srdb_load_node(srdb_load_t *ld, const store_sid_t *master, const uint8_t *lp,
               size_t size)
{
    store_rdb_in_t  *r = ld->r;
    srdb_lp_t        c;
    long long        count, deleted, nmf, zero, flags, msd, seqd, nf, lpc;
    long long        total, i;
    store_sid_t      id;
    ob_str_t        *fv;
    size_t           nelem;

    if (!store_lp_validate(lp, size, 1)) {
        return store_rdb_in_fail(r, "Stream listpack integrity check "
                                 "failed");
    }
    c.lp = lp;
    c.pos = store_lp_first(lp);
    if (c.pos == 0) {
        return store_rdb_in_fail(r, "Empty listpack inside stream");
    }
    nelem = store_lp_count(lp);

    if (srdb_lp_int(&c, &count) != OB_OK
        || srdb_lp_int(&c, &deleted) != OB_OK
        || srdb_lp_int(&c, &nmf) != OB_OK
        || count < 0 || deleted < 0 || nmf < 0 || (size_t) nmf > nelem
        || srdb_strs_reserve(&ld->mf, &ld->mfbuf, &ld->mfcap,
                             (size_t) nmf) != OB_OK)
    {
        return store_rdb_in_fail(r, "Stream listpack: bad master entry");
    }
    for (i = 0; i < nmf; i++) {
        if (srdb_lp_str(&c, ld->mfbuf + i * STORE_LP_INTBUF, &ld->mf[i])
            != OB_OK)
        {
            return store_rdb_in_fail(r, "Stream listpack: bad master entry");
        }
    }
    if (srdb_lp_int(&c, &zero) != OB_OK || zero != 0) {
        return store_rdb_in_fail(r, "Stream listpack: bad master entry");
    }

    if (deleted > LLONG_MAX - count
        || (size_t) (count + deleted) > nelem)
    {
        return store_rdb_in_fail(r, "Stream listpack: bad entry count");
    }
    total = count + deleted;
    while (total-- > 0) {
        if (srdb_lp_int(&c, &flags) != OB_OK
            || srdb_lp_int(&c, &msd) != OB_OK
            || srdb_lp_int(&c, &seqd) != OB_OK)
        {
            return store_rdb_in_fail(r, "Stream listpack: bad entry");
        }
        id.ms = master->ms + (uint64_t) msd;
        id.seq = master->seq + (uint64_t) seqd;

        if (flags & SRDB_FLAG_SAMEFIELDS) {
            nf = nmf;
        } else if (srdb_lp_int(&c, &nf) != OB_OK || nf < 0
                   || (size_t) nf > nelem)
        {
            return store_rdb_in_fail(r, "Stream listpack: bad entry");
        }
        if (srdb_strs_reserve(&ld->fv, &ld->fvbuf, &ld->fvcap,
                              2 * (size_t) nf) != OB_OK)
        {
            return store_rdb_in_fail(r, "Stream listpack: out of memory");
        }
        fv = ld->fv;
        for (i = 0; i < nf; i++) {
            if (flags & SRDB_FLAG_SAMEFIELDS) {
                fv[2 * i] = ld->mf[i];
            } else if (srdb_lp_str(&c, ld->fvbuf + 2 * i * STORE_LP_INTBUF,
                                   &fv[2 * i]) != OB_OK)
            {
                return store_rdb_in_fail(r, "Stream listpack: bad entry");
            }
        }
        for (i = 0; i < nf; i++) {
            if (srdb_lp_str(&c, ld->fvbuf + (2 * i + 1) * STORE_LP_INTBUF,
                            &fv[2 * i + 1]) != OB_OK)
            {
                return store_rdb_in_fail(r, "Stream listpack: bad entry");
            }
        }
        if (srdb_lp_int(&c, &lpc) != OB_OK
            || lpc != nf + 3 + ((flags & SRDB_FLAG_SAMEFIELDS) ? 0 : nf + 1))
        {
            return store_rdb_in_fail(r, "Stream listpack: bad lp-count");
        }

        /* Our stream takes appends in increasing ID order only: an
         * out-of-order ID is a corrupt file. */
        if (ld->any && store_sid_cmp(&id, &ld->top) <= 0) {
            return store_rdb_in_fail(r, "Stream entry IDs out of order");
        }
        if (store_stream_append(ld->s, &id, fv, 2 * (size_t) nf) != OB_OK) {
            return store_rdb_in_fail(r, "Out of memory loading a stream");
        }
        ld->top = id;
        ld->any = 1;
        if (flags & SRDB_FLAG_DELETED) {
            if (ld->ndead == ld->deadcap) {
                size_t        ncap = ld->deadcap == 0 ? 16 : ld->deadcap * 2;
                store_sid_t  *d = realloc(ld->dead, ncap * sizeof(d[0]));

                if (d == NULL) {
                    return store_rdb_in_fail(r, "Out of memory loading a "
                                             "stream");
                }
                ld->dead = d;
                ld->deadcap = ncap;
            }
            ld->dead[ld->ndead++] = id;
        }
    }
    if (c.pos != 0) {
        return store_rdb_in_fail(r, "Stream listpack: trailing elements");
    }
    return OB_OK;
}


static int
srdb_load_nodes(srdb_load_t *ld)
{
    store_rdb_in_t  *r = ld->r;
    uint64_t         nodes, i;
    uint8_t         *key = NULL, *lp = NULL;
    size_t           klen, lplen;
    store_sid_t      master;
    int              rc;

    if (store_rdb_get_len(r, &nodes, NULL) != OB_OK) {
        return OB_ERR;
    }
    for (i = 0; i < nodes; i++) {
        if (store_rdb_get_string(r, &key, &klen) != OB_OK) {
            return OB_ERR;
        }
        if (klen != SRDB_ID_BYTES) {
            free(key);
            return store_rdb_in_fail(r, "Stream node key entry is not the "
                                     "size of a stream ID");
        }
        srdb_id_decode(key, &master);
        free(key);
        if (store_rdb_get_string(r, &lp, &lplen) != OB_OK) {
            return OB_ERR;
        }
        rc = srdb_load_node(ld, &master, lp, lplen);
        free(lp);
        if (rc != OB_OK) {
            return OB_ERR;
        }
    }
    /* The tombstones, now that no more appends come: deleting one never
     * changes where a node ends. */
    for (i = 0; i < ld->ndead; i++) {
        (void) store_stream_delete(ld->s, &ld->dead[i]);
    }
    return OB_OK;
}


static int
srdb_get_id(store_rdb_in_t *r, store_sid_t *id)
{
    if (store_rdb_get_len(r, &id->ms, NULL) != OB_OK
        || store_rdb_get_len(r, &id->seq, NULL) != OB_OK)
    {
        return OB_ERR;
    }
    return OB_OK;
}


/* ---- the loader: consumer groups ---------------------------------------- */

typedef struct srdb_nack_s {
    store_sid_t         id;
    uint64_t            time;
    uint64_t            count;
    store_sconsumer_t  *consumer;
} srdb_nack_t;


static int
srdb_nack_cmp(const void *a, const void *b)
{
    return store_sid_cmp(&((const srdb_nack_t *) a)->id,
                         &((const srdb_nack_t *) b)->id);
}


/*
 * One group: the global PEL is read first (the NACKs), then each
 * consumer's PEL says which consumer each NACK belongs to; only then are
 * they added, as our PEL entries always have their consumer.  A NACK no
 * consumer claims is refused (Redis refuses it too when it validates
 * deeply: "Stream CG PEL entry without consumer").
 */
static int
srdb_load_group(srdb_load_t *ld, int type)
{
    store_rdb_in_t     *r = ld->r;
    store_stream_t     *s = ld->s;
    store_sgroup_t     *g;
    store_sconsumer_t  *c;
    store_snack_t      *sn;
    srdb_nack_t        *pel = NULL, key, *n;
    uint8_t            *name = NULL, raw[SRDB_ID_BYTES];
    size_t              nlen, npel = 0, pcap = 0, j;
    uint64_t            count, ncons, cpel, i, k, seen;
    store_sid_t         last;
    long long           entries_read;
    uint64_t            er;

    if (store_rdb_get_string(r, &name, &nlen) != OB_OK) {
        return OB_ERR;
    }
    if (srdb_get_id(r, &last) != OB_OK) {
        goto fail;
    }
    if (type == STORE_RDB_TYPE_STREAM_LISTPACKS_2) {
        if (store_rdb_get_len(r, &er, NULL) != OB_OK) {
            goto fail;
        }
        entries_read = (long long) er;
    } else {
        entries_read = store_stream_estimate_read(s, &last);
    }
    if (store_stream_group_find(s, name, nlen) != NULL) {
        store_rdb_in_fail(r, "Duplicated consumer group name");
        goto fail;
    }
    g = store_stream_group_create(s, name, nlen, &last, entries_read);
    if (g == NULL) {
        store_rdb_in_fail(r, "Out of memory loading a stream");
        goto fail;
    }
    free(name);
    name = NULL;

    if (store_rdb_get_len(r, &count, NULL) != OB_OK) {
        goto fail;
    }
    for (i = 0; i < count; i++) {
        if (npel == pcap) {
            size_t        ncap = pcap == 0 ? 16 : pcap * 2;
            srdb_nack_t  *p = realloc(pel, ncap * sizeof(p[0]));

            if (p == NULL) {
                store_rdb_in_fail(r, "Out of memory loading a stream");
                goto fail;
            }
            pel = p;
            pcap = ncap;
        }
        n = &pel[npel];
        if (store_rdb_get(r, raw, sizeof(raw)) != OB_OK
            || store_rdb_get_u64le(r, &n->time) != OB_OK
            || store_rdb_get_len(r, &n->count, NULL) != OB_OK)
        {
            goto fail;
        }
        srdb_id_decode(raw, &n->id);
        n->consumer = NULL;
        npel++;
    }
    if (npel > 1) {
        qsort(pel, npel, sizeof(pel[0]), srdb_nack_cmp);
    }
    for (j = 1; j < npel; j++) {
        if (store_sid_cmp(&pel[j - 1].id, &pel[j].id) == 0) {
            store_rdb_in_fail(r, "Duplicated global PEL entry loading "
                              "stream consumer group");
            goto fail;
        }
    }

    if (store_rdb_get_len(r, &ncons, NULL) != OB_OK) {
        goto fail;
    }
    for (i = 0; i < ncons; i++) {
        if (store_rdb_get_string(r, &name, &nlen) != OB_OK) {
            goto fail;
        }
        if (store_sgroup_consumer_find(g, name, nlen) != NULL) {
            store_rdb_in_fail(r, "Duplicate stream consumer detected.");
            goto fail;
        }
        if (store_rdb_get_u64le(r, &seen) != OB_OK) {
            goto fail;
        }
        c = store_sgroup_consumer_create(s, g, name, nlen, (int64_t) seen);
        if (c == NULL) {
            store_rdb_in_fail(r, "Out of memory loading a stream");
            goto fail;
        }
        free(name);
        name = NULL;
        if (store_rdb_get_len(r, &cpel, NULL) != OB_OK) {
            goto fail;
        }
        for (k = 0; k < cpel; k++) {
            if (store_rdb_get(r, raw, sizeof(raw)) != OB_OK) {
                goto fail;
            }
            srdb_id_decode(raw, &key.id);
            n = npel > 0 ? bsearch(&key, pel, npel, sizeof(pel[0]),
                                   srdb_nack_cmp)
                         : NULL;
            if (n == NULL) {
                store_rdb_in_fail(r, "Consumer entry not found in group "
                                  "global PEL");
                goto fail;
            }
            if (n->consumer != NULL) {
                store_rdb_in_fail(r, "Duplicated consumer PEL entry "
                                  " loading a stream consumer group");
                goto fail;
            }
            n->consumer = c;
        }
    }

    for (j = 0; j < npel; j++) {
        n = &pel[j];
        if (n->consumer == NULL) {
            store_rdb_in_fail(r, "Stream CG PEL entry without consumer");
            goto fail;
        }
        sn = store_sgroup_pel_add(s, g, n->consumer, &n->id,
                                  (int64_t) n->time);
        if (sn == NULL) {
            store_rdb_in_fail(r, "Out of memory loading a stream");
            goto fail;
        }
        sn->delivery_count = n->count;
    }
    free(pel);
    return OB_OK;

fail:
    free(name);
    free(pel);
    return OB_ERR;
}


store_obj_t *
store_rdb_load_stream(store_rdb_in_t *r, int type)
{
    srdb_load_t   ld;
    store_obj_t  *o = NULL;
    uint64_t      length, ngroups, i;
    store_sid_t   last, first, maxdel;
    uint64_t      added;
    int           v2 = type == STORE_RDB_TYPE_STREAM_LISTPACKS_2;

    if (type != STORE_RDB_TYPE_STREAM_LISTPACKS && !v2) {
        store_rdb_in_fail(r, "Not a stream type: %d", type);
        return NULL;
    }
    memset(&ld, 0, sizeof(ld));
    ld.r = r;
    ld.s = store_stream_new(r->arena, r->owner);
    if (ld.s == NULL) {
        store_rdb_in_fail(r, "Out of memory loading a stream");
        return NULL;
    }
    if (srdb_load_nodes(&ld) != OB_OK
        || store_rdb_get_len(r, &length, NULL) != OB_OK
        || srdb_get_id(r, &last) != OB_OK)
    {
        goto fail;
    }
    if (v2) {
        if (srdb_get_id(r, &first) != OB_OK
            || srdb_get_id(r, &maxdel) != OB_OK
            || store_rdb_get_len(r, &added, NULL) != OB_OK)
        {
            goto fail;
        }
    } else {
        /* v1 (Redis 5 and 6): the first entry is found, nothing was
         * deleted as far as the counters know, and every entry added is
         * still there (rdb.c does the same). */
        first.ms = 0;
        first.seq = 0;
        (void) store_stream_edge(ld.s, 0, &first);
        maxdel.ms = 0;
        maxdel.seq = 0;
        added = length;
    }
    /* Our stream counts its live entries itself, and appends above the
     * last ID: a file that disagrees would break both. */
    if (length != ld.s->length) {
        store_rdb_in_fail(r, "Stream length inconsistent with its "
                          "entries");
        goto fail;
    }
    if (ld.any && store_sid_cmp(&last, &ld.top) < 0) {
        store_rdb_in_fail(r, "Stream last ID below its top entry");
        goto fail;
    }
    ld.s->last_id = last;
    ld.s->first_id = first;
    ld.s->max_deleted = maxdel;
    ld.s->entries_added = added;

    if (store_rdb_get_len(r, &ngroups, NULL) != OB_OK) {
        goto fail;
    }
    for (i = 0; i < ngroups; i++) {
        if (srdb_load_group(&ld, type) != OB_OK) {
            goto fail;
        }
    }

    o = store_obj_payload_new(r->arena, r->owner, STORE_OBJ_STREAM,
                              STORE_ENC_STREAM, ld.s);
    if (o == NULL) {
        store_rdb_in_fail(r, "Out of memory loading a stream");
        goto fail;
    }
    ld.s = NULL;

fail:
    if (ld.s != NULL) {
        store_stream_destroy(ld.s);
    }
    free(ld.mf);
    free(ld.mfbuf);
    free(ld.fv);
    free(ld.fvbuf);
    free(ld.dead);
    return o;
}
