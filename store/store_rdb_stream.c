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
 * Our nodes hold what Redis's listpacks hold (the same master ID and
 * fields, the same SAMEFIELDS and tombstones), so a node is written as
 * the listpack Redis would have, byte for byte, from what store_stream.h's
 * node walker gives.  The loader appends a file's entries in order,
 * tombstones included, then deletes the tombstones: appends close our
 * nodes by Redis's rule (entries, deleted ones counted, and bytes), so the
 * nodes come back where Redis's listpacks end, for every file written with
 * the default stream-node-max-entries and -bytes.
 */
#include "store_rdb_int.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "store_listpack.h"
#include "store_resp.h"
#include "store_stream.h"

#define SRDB_FLAG_DELETED     0x01
#define SRDB_FLAG_SAMEFIELDS  0x02
#define SRDB_ID_BYTES         16
/* rdb.c's message for any listpack streamValidateListpackIntegrity
 * refuses */
#define SRDB_ERR_LP  "Stream listpack integrity check failed."
/* the dataset's arena refused (store_rdb_load.c says the same), and our
 * own scratch arrays could not grow */
#define SRDB_ERR_MAXMEM  "out of memory (maxmemory) loading a key"
#define SRDB_ERR_NOMEM   "out of memory"


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

/*
 * The listpack a node becomes, built in one malloc'd buffer that grows
 * and is reused from node to node (Redis 7.0's listpack.c encodings, as
 * store_listpack.c has them; the unit tests check the two agree byte for
 * byte).  store_listpack.c's own builders allocate in an arena: the
 * dataset's would charge a SAVE's scratch to the budget (and could evict
 * keys for it), and a private arena per stream costs more than writing a
 * small stream does.  The buffer holds one node's listpack at a time:
 * about stream-node-max-bytes, or one entry when a single entry is larger;
 * it is freed when the stream is written.
 */
#define SRDB_LP_HDR          6
#define SRDB_LP_6BIT_STR     0x80
#define SRDB_LP_13BIT_INT    0xC0
#define SRDB_LP_12BIT_STR    0xE0
#define SRDB_LP_32BIT_STR    0xF0
#define SRDB_LP_16BIT_INT    0xF1
#define SRDB_LP_24BIT_INT    0xF2
#define SRDB_LP_32BIT_INT    0xF3
#define SRDB_LP_64BIT_INT    0xF4
#define SRDB_LP_EOF          0xFF
#define SRDB_LP_NUMELE_MAX   65535      /* the header's count saturates */

typedef struct srdb_lpw_s {
    uint8_t  *buf;
    size_t    len;
    size_t    cap;
    size_t    count;          /* elements */
    int       oom;            /* a realloc failed: the listpack is void */
} srdb_lpw_t;


static void
srdb_lpw_reset(srdb_lpw_t *lw)
{
    lw->len = SRDB_LP_HDR;
    lw->count = 0;
    lw->oom = 0;
}


/* Room for n more bytes; NULL (and oom) when it cannot grow. */
static uint8_t *
srdb_lpw_room(srdb_lpw_t *lw, size_t n)
{
    uint8_t  *b;
    size_t    cap;

    if (lw->oom) {
        return NULL;
    }
    /* len may run ahead of cap before the first allocation (the header
     * is reserved by srdb_lpw_reset) */
    if (lw->cap < lw->len || lw->cap - lw->len < n) {
        if (n > SIZE_MAX / 4 - lw->len) {
            lw->oom = 1;
            return NULL;
        }
        cap = lw->cap == 0 ? 4096 : lw->cap;
        while (cap < lw->len + n) {
            cap *= 2;
        }
        b = realloc(lw->buf, cap);
        if (b == NULL) {
            lw->oom = 1;
            return NULL;
        }
        lw->buf = b;
        lw->cap = cap;
    }
    return lw->buf + lw->len;
}


/* The backlen of an element of l bytes (lpEncodeBacklen): the most
 * significant 7-bit group first, every later byte flagged. */
static size_t
srdb_lp_backlen(uint8_t *p, uint64_t l)
{
    size_t  n, i;

    n = l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3
        : l < 268435455 ? 4 : 5;
    for (i = 0; i < n; i++) {
        p[i] = (uint8_t) ((l >> (7 * (n - 1 - i))) & 127);
        if (i > 0) {
            p[i] |= 128;
        }
    }
    return n;
}


static void
srdb_lpw_int(srdb_lpw_t *lw, long long sv)
{
    uint8_t   *p = srdb_lpw_room(lw, 9 + 5), *start = p;
    uint64_t   v = (uint64_t) sv;
    size_t     i, n;

    if (p == NULL) {
        return;
    }
    if (sv >= 0 && sv <= 127) {
        *p++ = (uint8_t) sv;
    } else if (sv >= -4096 && sv <= 4095) {
        v &= 0x1FFF;
        *p++ = (uint8_t) (SRDB_LP_13BIT_INT | (v >> 8));
        *p++ = (uint8_t) v;
    } else {
        if (sv >= -32768 && sv <= 32767) {
            *p++ = SRDB_LP_16BIT_INT;
            n = 2;
        } else if (sv >= -8388608 && sv <= 8388607) {
            *p++ = SRDB_LP_24BIT_INT;
            n = 3;
        } else if (sv >= -2147483648LL && sv <= 2147483647LL) {
            *p++ = SRDB_LP_32BIT_INT;
            n = 4;
        } else {
            *p++ = SRDB_LP_64BIT_INT;
            n = 8;
        }
        for (i = 0; i < n; i++) {
            *p++ = (uint8_t) (v >> (8 * i));
        }
    }
    p += srdb_lp_backlen(p, (uint64_t) (p - start));
    lw->len += (size_t) (p - start);
    lw->count++;
}


/* A string element; a canonical integer becomes an integer element, as
 * lpAppend makes it. */
static void
srdb_lpw_str(srdb_lpw_t *lw, const uint8_t *s, size_t len)
{
    uint8_t    *p, *start;
    long long   v;
    size_t      hlen;

    if (len > 0 && store_resp_ll(s, len, &v) == OB_OK) {
        srdb_lpw_int(lw, v);
        return;
    }
    if (len > UINT32_MAX) {
        lw->oom = 1;
        return;
    }
    p = srdb_lpw_room(lw, len + 5 + 5);
    if (p == NULL) {
        return;
    }
    start = p;
    if (len < 64) {
        *p++ = (uint8_t) (SRDB_LP_6BIT_STR | len);
    } else if (len < 4096) {
        *p++ = (uint8_t) (SRDB_LP_12BIT_STR | (len >> 8));
        *p++ = (uint8_t) len;
    } else {
        *p++ = SRDB_LP_32BIT_STR;
        *p++ = (uint8_t) len;
        *p++ = (uint8_t) (len >> 8);
        *p++ = (uint8_t) (len >> 16);
        *p++ = (uint8_t) (len >> 24);
    }
    hlen = (size_t) (p - start);
    if (len > 0) {
        memcpy(p, s, len);
        p += len;
    }
    p += srdb_lp_backlen(p, hlen + len);
    lw->len += (size_t) (p - start);
    lw->count++;
}


/* Closes the listpack: the end byte, the header.  OB_ERR when it could
 * not be built or is over what a listpack's 32-bit size holds. */
static int
srdb_lpw_finish(srdb_lpw_t *lw)
{
    uint8_t  *p = srdb_lpw_room(lw, 1);
    size_t    n;

    if (p == NULL || lw->len + 1 > UINT32_MAX) {
        lw->oom = 1;
        return OB_ERR;
    }
    *p = SRDB_LP_EOF;
    lw->len++;
    n = lw->count < SRDB_LP_NUMELE_MAX ? lw->count : SRDB_LP_NUMELE_MAX;
    lw->buf[0] = (uint8_t) lw->len;
    lw->buf[1] = (uint8_t) (lw->len >> 8);
    lw->buf[2] = (uint8_t) (lw->len >> 16);
    lw->buf[3] = (uint8_t) (lw->len >> 24);
    lw->buf[4] = (uint8_t) n;
    lw->buf[5] = (uint8_t) (n >> 8);
    return OB_OK;
}


/*
 * One node (k of the stream's index) as Redis's listpack (t_stream.c
 * streamAppendItem's layout), written with its key.  The node walker
 * gives the tombstones too, which the public iterator hides: Redis's
 * listpacks keep them, and they count against a node's
 * stream-node-max-entries and -bytes, so a file without them would make
 * Redis, and our own loader, fill the tail node differently and join
 * nodes that were apart.
 */
static int
srdb_save_node(store_rdb_out_t *w, srdb_lpw_t *lw, const store_stream_t *s,
               size_t k)
{
    store_snode_walk_t   nw;
    store_sentry_t       e;
    store_spairs_t       pairs;
    const uint8_t       *f, *v;
    uint8_t              key[SRDB_ID_BYTES];
    size_t               flen, vlen, i;
    unsigned             flags, lflags;
    long long            lp_count;
    int                  same;

    store_snode_walk_start(s, k, &nw);

    /* the master entry: live count, tombstones, the fields, 0 */
    srdb_lpw_reset(lw);
    srdb_lpw_int(lw, (long long) nw.live);
    srdb_lpw_int(lw, (long long) nw.deleted);
    srdb_lpw_int(lw, (long long) nw.nfields);
    for (i = 0; i < nw.nfields; i++) {
        store_snode_walk_field(&nw, &f, &flen);
        srdb_lpw_str(lw, f, flen);
    }
    srdb_lpw_int(lw, 0);

    while (!lw->oom && store_snode_walk_next(&nw, &e, &flags)) {
        same = (flags & STORE_SENTRY_SAMEFIELDS) != 0;
        lflags = (flags & STORE_SENTRY_DELETED) ? SRDB_FLAG_DELETED : 0;
        if (same) {
            lflags |= SRDB_FLAG_SAMEFIELDS;
        }
        srdb_lpw_int(lw, (long long) lflags);
        /* Differences as Redis computes them: unsigned, stored as int64
         * (a sequence below the master's is a negative difference). */
        srdb_lpw_int(lw, (long long) (e.id.ms - nw.master.ms));
        srdb_lpw_int(lw, (long long) (e.id.seq - nw.master.seq));
        if (!same) {
            srdb_lpw_int(lw, (long long) e.nfields);
        }
        store_sentry_pairs(&e, &pairs);
        for (i = 0; i < e.nfields; i++) {
            store_spairs_next(&pairs, &f, &flen, &v, &vlen);
            if (!same) {
                srdb_lpw_str(lw, f, flen);
            }
            srdb_lpw_str(lw, v, vlen);
        }
        /* the elements the entry took, for a reverse walk to step back */
        lp_count = (long long) e.nfields + 3;
        if (!same) {
            lp_count += (long long) e.nfields + 1;
        }
        srdb_lpw_int(lw, lp_count);
    }
    if (srdb_lpw_finish(lw) != OB_OK) {
        w->err_no = ENOMEM;
        return OB_ERR;
    }
    srdb_id_encode(key, &nw.master);
    if (store_rdb_put_string(w, key, sizeof(key)) != OB_OK
        || store_rdb_put_string(w, lw->buf, lw->len) != OB_OK)
    {
        return OB_ERR;
    }
    return OB_OK;
}


/* The entries: one listpack per node of ours. */
static int
srdb_save_nodes(store_rdb_out_t *w, const store_stream_t *s)
{
    srdb_lpw_t  lw;
    size_t      k, nn = store_stream_nodes(s);
    int         rc = OB_OK;

    if (store_rdb_put_len(w, nn) != OB_OK) {
        return OB_ERR;
    }
    memset(&lw, 0, sizeof(lw));
    for (k = 0; rc == OB_OK && k < nn; k++) {
        rc = srdb_save_node(w, &lw, s, k);
    }
    free(lw.buf);
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
                                 "failed.");
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
        return store_rdb_in_fail(r, SRDB_ERR_LP);
    }
    for (i = 0; i < nmf; i++) {
        if (srdb_lp_str(&c, ld->mfbuf + i * STORE_LP_INTBUF, &ld->mf[i])
            != OB_OK)
        {
            return store_rdb_in_fail(r, SRDB_ERR_LP);
        }
    }
    if (srdb_lp_int(&c, &zero) != OB_OK || zero != 0) {
        return store_rdb_in_fail(r, SRDB_ERR_LP);
    }

    if (deleted > LLONG_MAX - count
        || (size_t) (count + deleted) > nelem)
    {
        return store_rdb_in_fail(r, SRDB_ERR_LP);
    }
    total = count + deleted;
    while (total-- > 0) {
        if (srdb_lp_int(&c, &flags) != OB_OK
            || srdb_lp_int(&c, &msd) != OB_OK
            || srdb_lp_int(&c, &seqd) != OB_OK)
        {
            return store_rdb_in_fail(r, SRDB_ERR_LP);
        }
        id.ms = master->ms + (uint64_t) msd;
        id.seq = master->seq + (uint64_t) seqd;

        if (flags & SRDB_FLAG_SAMEFIELDS) {
            nf = nmf;
        } else if (srdb_lp_int(&c, &nf) != OB_OK || nf < 0
                   || (size_t) nf > nelem)
        {
            return store_rdb_in_fail(r, SRDB_ERR_LP);
        }
        if (srdb_strs_reserve(&ld->fv, &ld->fvbuf, &ld->fvcap,
                              2 * (size_t) nf) != OB_OK)
        {
            return store_rdb_in_fail(r, SRDB_ERR_NOMEM);
        }
        /* field, value, field, value ...; values only with SAMEFIELDS */
        fv = ld->fv;
        for (i = 0; i < nf; i++) {
            if (flags & SRDB_FLAG_SAMEFIELDS) {
                fv[2 * i] = ld->mf[i];
            } else if (srdb_lp_str(&c, ld->fvbuf + 2 * i * STORE_LP_INTBUF,
                                   &fv[2 * i]) != OB_OK)
            {
                return store_rdb_in_fail(r, SRDB_ERR_LP);
            }
            if (srdb_lp_str(&c, ld->fvbuf + (2 * i + 1) * STORE_LP_INTBUF,
                            &fv[2 * i + 1]) != OB_OK)
            {
                return store_rdb_in_fail(r, SRDB_ERR_LP);
            }
        }
        if (srdb_lp_int(&c, &lpc) != OB_OK
            || lpc != nf + 3 + ((flags & SRDB_FLAG_SAMEFIELDS) ? 0 : nf + 1))
        {
            return store_rdb_in_fail(r, SRDB_ERR_LP);
        }

        /* Our stream takes appends in increasing ID order only: an
         * out-of-order ID is a corrupt file. */
        if (ld->any && store_sid_cmp(&id, &ld->top) <= 0) {
            return store_rdb_in_fail(r, "Stream entry IDs out of order");
        }
        if (store_stream_append(ld->s, &id, fv, 2 * (size_t) nf) != OB_OK) {
            return store_rdb_in_fail(r, SRDB_ERR_MAXMEM);
        }
        ld->top = id;
        ld->any = 1;
        if (flags & SRDB_FLAG_DELETED) {
            if (ld->ndead == ld->deadcap) {
                size_t        ncap = ld->deadcap == 0 ? 16 : ld->deadcap * 2;
                store_sid_t  *d = realloc(ld->dead, ncap * sizeof(d[0]));

                if (d == NULL) {
                    return store_rdb_in_fail(r, SRDB_ERR_NOMEM);
                }
                ld->dead = d;
                ld->deadcap = ncap;
            }
            ld->dead[ld->ndead++] = id;
        }
    }
    if (c.pos != 0) {
        return store_rdb_in_fail(r, SRDB_ERR_LP);
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
        store_rdb_in_fail(r, "Duplicated consumer group name %.*s",
                          (int) (nlen > 64 ? 64 : nlen), (char *) name);
        goto fail;
    }
    g = store_stream_group_create(s, name, nlen, &last, entries_read);
    if (g == NULL) {
        store_rdb_in_fail(r, SRDB_ERR_MAXMEM);
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
                store_rdb_in_fail(r, SRDB_ERR_NOMEM);
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
            store_rdb_in_fail(r, SRDB_ERR_MAXMEM);
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
            store_rdb_in_fail(r, SRDB_ERR_MAXMEM);
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
    store_sid_t   last, first, maxdel, top;
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
        store_rdb_in_fail(r, SRDB_ERR_MAXMEM);
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
        if (!store_stream_edge(ld.s, 0, &first)) {
            /* streamGetEdgeID's answer for an empty stream */
            first.ms = UINT64_MAX;
            first.seq = UINT64_MAX;
        }
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
    /* XSETID may leave the last ID below a tombstone (Redis checks it
     * against the live entries only), never below a live entry. */
    if (store_stream_edge(ld.s, 1, &top) && store_sid_cmp(&last, &top) < 0) {
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
        store_rdb_in_fail(r, SRDB_ERR_MAXMEM);
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
