/*
 * store_stream.c: the stream data structure (see store_stream.h).
 *
 * Nodes.  A node is one arena block: a header and `used` bytes of packed
 * entries, grown by doubling, closed where Redis would close its listpack
 * (see lp_backlen_size) and then shrunk to fit.  Only the last node takes
 * appends, and nodes are never split, so the nodes' first IDs (`master`)
 * increase along the index and every entry of node i is below node
 * i+1's master: a bisection of the index finds the node of any ID.  The
 * index is an array whose live part starts at `head`, so that trimming
 * drops head nodes in O(1); it is compacted when it must grow.
 *
 * An entry, packed (varints are LEB128, 7 bits a byte):
 *
 *   flags:u8  ms-delta:varint  seq:varint  npairs:varint
 *   (len:varint bytes){2 * npairs}  backlen
 *
 * ms-delta is the entry's ms minus the node's master ms (IDs grow, so it
 * is >= 0 and usually one byte).  backlen is the entry's length up to
 * it, written as a varint whose bytes are reversed, so that it reads from
 * right to left: the reverse iterator (XREVRANGE) steps back by it, as
 * listpack's backlen does.  flags bit 0 marks a deleted entry (XDEL):
 * the node keeps its bytes until all its entries are deleted, then it is
 * freed (Redis's listpack nodes behave the same way).  flags bit 1
 * (SAMEFIELDS) marks an entry whose fields are the node's master fields,
 * stored once at the head of the node: the entry holds its values only
 * (no npairs, no field names), as Redis's master entry does.
 *
 * The layout is this file's alone: the RDB writer, which needs the
 * deleted entries and flags that the iterator hides, reads the nodes
 * through the node walker (store_snode_walk_*), not through a copy of
 * store_snode_s.
 *
 * Consumer groups and their PELs are in store_stream_group.c.
 */
#include "store_stream.h"

#include <string.h>

#include "store_int.h"

#define SNODE_DELETED    0x01
#define SNODE_SAMEFIELDS 0x02


struct store_snode_s {
    store_sid_t  master;      /* the ID of the node's first entry ever */
    uint32_t     first;       /* offset of the first entry: the master
                                 fields come before it */
    uint32_t     used;        /* bytes of data[] in use */
    uint32_t     cap;         /* bytes of data[] allocated */
    uint32_t     count;       /* entries, deleted ones included */
    uint32_t     rbytes;      /* the bytes Redis's listpack for the same
                                 entries would take (see lp_*_size) */
    uint32_t     live;        /* entries not deleted */
    uint8_t      data[];
};


/* ---- IDs ---------------------------------------------------------------- */

int
store_sid_cmp(const store_sid_t *a, const store_sid_t *b)
{
    if (a->ms != b->ms) {
        return a->ms < b->ms ? -1 : 1;
    }
    if (a->seq != b->seq) {
        return a->seq < b->seq ? -1 : 1;
    }
    return 0;
}


int
store_sid_incr(store_sid_t *id)
{
    if (id->seq == UINT64_MAX) {
        if (id->ms == UINT64_MAX) {
            return OB_ERR;
        }
        id->ms++;
        id->seq = 0;
        return OB_OK;
    }
    id->seq++;
    return OB_OK;
}


int
store_sid_decr(store_sid_t *id)
{
    if (id->seq == 0) {
        if (id->ms == 0) {
            return OB_ERR;
        }
        id->ms--;
        id->seq = UINT64_MAX;
        return OB_OK;
    }
    id->seq--;
    return OB_OK;
}


static size_t
sid_u64(uint64_t v, char *buf)
{
    char    tmp[20], *p = tmp + sizeof(tmp);
    size_t  n;

    do {
        *--p = (char) ('0' + v % 10);
        v /= 10;
    } while (v != 0);
    n = (size_t) (tmp + sizeof(tmp) - p);
    memcpy(buf, p, n);
    return n;
}


size_t
store_sid_format(const store_sid_t *id, char *buf)
{
    size_t  n;

    n = sid_u64(id->ms, buf);
    buf[n++] = '-';
    n += sid_u64(id->seq, buf + n);
    buf[n] = '\0';
    return n;
}


/* strtoull's rules as Redis's string2ull applies them: digits only (no
 * sign, no spaces), at most 20, no overflow.  Redis accepts leading
 * zeros here ("01-1" is 1-1). */
static int
sid_parse_u64(const char *p, size_t len, uint64_t *out)
{
    uint64_t  v = 0;
    size_t    i;

    if (len == 0 || len > 20) {
        return OB_ERR;
    }
    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return OB_ERR;
        }
        if (v > (UINT64_MAX - (uint64_t) (p[i] - '0')) / 10) {
            return OB_ERR;
        }
        v = v * 10 + (uint64_t) (p[i] - '0');
    }
    *out = v;
    return OB_OK;
}


int
store_sid_parse(const void *data, size_t len, uint64_t missing_seq,
                store_sid_t *id, int *seq_given)
{
    const char  *p = data, *dash;

    if (len > 127) {
        return OB_ERR;
    }
    if (len == 1 && p[0] == '-') {
        id->ms = 0;
        id->seq = 0;
        if (seq_given != NULL) {
            *seq_given = 1;
        }
        return OB_OK;
    }
    if (len == 1 && p[0] == '+') {
        id->ms = UINT64_MAX;
        id->seq = UINT64_MAX;
        if (seq_given != NULL) {
            *seq_given = 1;
        }
        return OB_OK;
    }
    dash = memchr(p, '-', len);
    if (dash == NULL) {
        if (sid_parse_u64(p, len, &id->ms) != OB_OK) {
            return OB_ERR;
        }
        id->seq = missing_seq;
        if (seq_given != NULL) {
            *seq_given = 0;
        }
        return OB_OK;
    }
    if (sid_parse_u64(p, (size_t) (dash - p), &id->ms) != OB_OK
        || sid_parse_u64(dash + 1, len - (size_t) (dash - p) - 1, &id->seq)
           != OB_OK)
    {
        return OB_ERR;
    }
    if (seq_given != NULL) {
        *seq_given = 1;
    }
    return OB_OK;
}


/* ---- varints ------------------------------------------------------------ */

static size_t
vint_size(uint64_t v)
{
    size_t  n = 1;

    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}


static size_t
vint_put(uint8_t *p, uint64_t v)
{
    size_t  n = 0;

    while (v >= 0x80) {
        p[n++] = (uint8_t) (v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t) v;
    return n;
}


static uint64_t
vint_get(const uint8_t **pp)
{
    const uint8_t  *p = *pp;
    uint64_t        v = 0;
    unsigned        shift = 0;

    for ( ;; ) {
        v |= (uint64_t) (*p & 0x7f) << shift;
        if ((*p++ & 0x80) == 0) {
            break;
        }
        shift += 7;
    }
    *pp = p;
    return v;
}


/* The backlen: a varint written right to left; p points past it. */
static void
backlen_put(uint8_t *end, uint64_t v)
{
    uint8_t  tmp[10];
    size_t   n = vint_put(tmp, v), i;

    for (i = 0; i < n; i++) {
        end[-1 - (long) i] = tmp[i];
    }
}


static uint64_t
backlen_get(const uint8_t *end, size_t *size)
{
    uint64_t  v = 0;
    unsigned  shift = 0;
    size_t    n = 0;

    for ( ;; ) {
        uint8_t  b = end[-1 - (long) n];

        n++;
        v |= (uint64_t) (b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            break;
        }
        shift += 7;
    }
    *size = n;
    return v;
}


/* ---- nodes -------------------------------------------------------------- */

static size_t
snode_alloc_size(uint32_t cap)
{
    return sizeof(store_snode_t) + cap;
}


/*
 * Reads the entry at data[pos]: its ID, flags, pairs and where its fields
 * start; returns the offset of the next entry.
 */
static size_t
snode_entry(const store_snode_t *n, size_t pos, store_sentry_t *e,
            unsigned *flags)
{
    const uint8_t  *p = n->data + pos, *start = p, *m;
    size_t          i, len, blen, nskip;

    *flags = *p++;
    e->id.ms = n->master.ms + vint_get(&p);
    e->id.seq = vint_get(&p);
    if (*flags & SNODE_SAMEFIELDS) {
        m = n->data;
        e->nfields = (size_t) vint_get(&m);
        e->fields = m;
        nskip = e->nfields;
    } else {
        e->nfields = (size_t) vint_get(&p);
        e->fields = NULL;
        nskip = e->nfields * 2;
    }
    e->p = p;
    for (i = 0; i < nskip; i++) {
        len = (size_t) vint_get(&p);
        p += len;
    }
    blen = vint_size((uint64_t) (p - start));
    return (size_t) (p - n->data) + blen;
}


/* The start of the entry that ends at data[end]. */
static size_t
snode_prev(const store_snode_t *n, size_t end)
{
    size_t    blen;
    uint64_t  len = backlen_get(n->data + end, &blen);

    return end - blen - (size_t) len;
}


static const uint8_t *
field_next(const uint8_t **pp, size_t *len)
{
    const uint8_t  *p = *pp;

    *len = (size_t) vint_get(&p);
    *pp = p + *len;
    return p;
}


void
store_sentry_pairs(const store_sentry_t *e, store_spairs_t *it)
{
    it->f = e->fields;
    it->v = e->p;
}


void
store_spairs_next(store_spairs_t *it, const uint8_t **f, size_t *flen,
                  const uint8_t **v, size_t *vlen)
{
    if (it->f != NULL) {
        *f = field_next(&it->f, flen);
    } else {
        *f = field_next(&it->v, flen);
    }
    *v = field_next(&it->v, vlen);
}


/*
 * Where a node ends is Redis's decision, so that approximate trimming
 * (which drops whole nodes) and XINFO's radix-tree-keys come out the same
 * as redis-server's: Redis 7.0 starts a new node when the tail one holds
 * stream-node-max-entries entries, or when its listpack's bytes plus the
 * new entry's raw field and value bytes reach stream-node-max-bytes.  Our
 * nodes are packed otherwise, so each keeps the size its listpack would
 * have: these are listpack.c's element sizes (an integer-looking string
 * is stored as an integer) plus the backlen.
 */
static size_t
lp_backlen_size(size_t l)
{
    return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3
           : l < 268435455 ? 4 : 5;
}


static size_t
lp_int_size(long long v)
{
    size_t  enc;

    if (v >= 0 && v <= 127) {
        enc = 1;
    } else if (v >= -4096 && v <= 4095) {
        enc = 2;
    } else if (v >= -32768 && v <= 32767) {
        enc = 3;
    } else if (v >= -8388608 && v <= 8388607) {
        enc = 4;
    } else if (v >= -2147483648LL && v <= 2147483647LL) {
        enc = 5;
    } else {
        enc = 9;
    }
    return enc + lp_backlen_size(enc);
}


static size_t
lp_str_size(const ob_str_t *a)
{
    long long  v;
    size_t     enc;

    if (a->len > 0 && a->len < 21
        && store_str_is_ll((const char *) a->data, a->len, &v))
    {
        return lp_int_size(v);
    }
    enc = a->len < 64 ? 1 + a->len : a->len < 4096 ? 2 + a->len
                                                   : 5 + a->len;
    return enc + lp_backlen_size(enc);
}


/* A new node's listpack: header and end (7), count, deleted, the master
 * fields and their terminator. */
static size_t
lp_master_size(const ob_str_t *fv, size_t nfv)
{
    size_t  n = 7 + lp_int_size(1) + lp_int_size(0) + lp_int_size(0)
                + lp_int_size((long long) (nfv / 2)), i;

    for (i = 0; i < nfv; i += 2) {
        n += lp_str_size(&fv[i]);
    }
    return n;
}


/* An entry in the listpack of a node with this master ID. */
static size_t
lp_entry_size(const store_sid_t *master, const store_sid_t *id,
              const ob_str_t *fv, size_t nfv, int same)
{
    size_t     n, i;
    long long  lp_count = (long long) (nfv / 2) + 3;

    n = lp_int_size(same ? SNODE_SAMEFIELDS : 0)
        + lp_int_size((long long) (id->ms - master->ms))
        + lp_int_size((long long) (id->seq - master->seq));
    if (!same) {
        n += lp_int_size((long long) (nfv / 2));
        lp_count += (long long) (nfv / 2) + 1;
    }
    for (i = 0; i < nfv; i++) {
        if (!same || i % 2 == 1) {
            n += lp_str_size(&fv[i]);
        }
    }
    return n + lp_int_size(lp_count);
}


/* 1 when the entry's fields are the node's master fields, in order. */
static int
snode_same_fields(const store_snode_t *n, const ob_str_t *fv, size_t nfv)
{
    const uint8_t  *p = n->data;
    size_t          i, len;

    if ((size_t) vint_get(&p) != nfv / 2) {
        return 0;
    }
    for (i = 0; i < nfv; i += 2) {
        len = (size_t) vint_get(&p);
        if (len != fv[i].len || (len > 0 && memcmp(p, fv[i].data, len) != 0)) {
            return 0;
        }
        p += len;
    }
    return 1;
}


/* An entry's size in node n (NULL: a new node, whose master fields are
 * the entry's own); *body: its size before the backlen. */
static size_t
snode_entry_size(const store_snode_t *n, const store_sid_t *id,
                 const ob_str_t *fv, size_t nfv, int *same, size_t *body)
{
    uint64_t  delta = n != NULL ? id->ms - n->master.ms : 0;
    size_t    b, i;

    *same = n != NULL ? snode_same_fields(n, fv, nfv) : 1;
    b = 1 + vint_size(delta) + vint_size(id->seq);
    if (!*same) {
        b += vint_size(nfv / 2);
    }
    for (i = 0; i < nfv; i++) {
        if (*same && i % 2 == 0) {
            continue;
        }
        b += vint_size(fv[i].len) + fv[i].len;
    }
    *body = b;
    return b + vint_size(b);
}


/* The index (absolute) of the node that would hold id: the last whose
 * master <= id, or head when id is below them all.  nn must be > 0. */
static size_t
stream_node_find(const store_stream_t *s, const store_sid_t *id)
{
    size_t  lo = s->head, hi = s->head + s->nn;    /* [lo, hi) */

    while (hi - lo > 1) {
        size_t  mid = lo + (hi - lo) / 2;

        if (store_sid_cmp(&s->nodes[mid]->master, id) <= 0) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}


static void
stream_node_free(store_stream_t *s, store_snode_t *n)
{
    ob_arena_free(s->a, s->owner, n, snode_alloc_size(n->cap));
}


/* Unlinks and frees the node at absolute index i. */
static void
stream_node_remove(store_stream_t *s, size_t i)
{
    stream_node_free(s, s->nodes[i]);
    if (i == s->head) {
        s->head++;
        s->nn--;
        if (s->nn == 0) {
            s->head = 0;
        }
        return;
    }
    memmove(&s->nodes[i], &s->nodes[i + 1],
            (s->head + s->nn - i - 1) * sizeof(s->nodes[0]));
    s->nn--;
}


/* Room for one more node pointer at the end of the index. */
static int
stream_index_reserve(store_stream_t *s)
{
    store_snode_t  **nodes;
    size_t           ncap;

    if (s->head + s->nn < s->ncap) {
        return OB_OK;
    }
    if (s->head > 0 && s->head >= s->ncap / 4) {
        memmove(s->nodes, &s->nodes[s->head], s->nn * sizeof(s->nodes[0]));
        s->head = 0;
        return OB_OK;
    }
    ncap = s->ncap == 0 ? 4 : s->ncap * 2;
    if (s->ncap == 0) {
        nodes = ob_arena_alloc(s->a, s->owner, ncap * sizeof(nodes[0]));
    } else {
        nodes = ob_arena_realloc(s->a, s->owner, s->nodes,
                                 s->ncap * sizeof(nodes[0]),
                                 ncap * sizeof(nodes[0]));
    }
    if (nodes == NULL) {
        return OB_ERR;
    }
    s->nodes = nodes;
    s->ncap = ncap;
    return OB_OK;
}


/* ---- the stream --------------------------------------------------------- */

store_stream_t *
store_stream_new(ob_arena_t *a, int owner)
{
    store_stream_t  *s = ob_arena_alloc(a, owner, sizeof(*s));

    if (s == NULL) {
        return NULL;
    }
    memset(s, 0, sizeof(*s));
    s->a = a;
    s->owner = owner;
    return s;
}


void
store_stream_destroy(store_stream_t *s)
{
    size_t  i;

    if (s == NULL) {
        return;
    }
    for (i = s->head; i < s->head + s->nn; i++) {
        stream_node_free(s, s->nodes[i]);
    }
    if (s->ncap > 0) {
        ob_arena_free(s->a, s->owner, s->nodes, s->ncap * sizeof(s->nodes[0]));
    }
    for (i = 0; i < s->ngroups; i++) {
        store_sgroup_free(s, s->groups[i]);
    }
    if (s->gcap > 0) {
        ob_arena_free(s->a, s->owner, s->groups,
                      s->gcap * sizeof(s->groups[0]));
    }
    ob_arena_free(s->a, s->owner, s, sizeof(*s));
}


/* A node that takes no more appends gives back its slack. */
static void
stream_node_close(store_stream_t *s, size_t i)
{
    store_snode_t  *n = s->nodes[i], *nn;

    if (n->cap == n->used || n->used == 0) {
        return;
    }
    nn = ob_arena_realloc(s->a, s->owner, n, snode_alloc_size(n->cap),
                          snode_alloc_size(n->used));
    if (nn != NULL) {
        nn->cap = nn->used;
        s->nodes[i] = nn;
    }
}


int
store_stream_append(store_stream_t *s, const store_sid_t *id,
                    const ob_str_t *fv, size_t nfv)
{
    store_snode_t  *n = NULL, *nn;
    size_t          need = 0, body = 0, mblock = 0, i, pos, totelelen = 0;
    uint32_t        cap;
    uint8_t        *p;
    int             same = 0, fresh = 0;

    for (i = 0; i < nfv; i++) {
        totelelen += fv[i].len;
    }
    if (s->nn > 0) {
        n = s->nodes[s->head + s->nn - 1];
        if (n->count >= STORE_STREAM_NODE_ENTRIES
            || n->rbytes + totelelen >= STORE_STREAM_NODE_BYTES)
        {
            n = NULL;
        } else {
            need = snode_entry_size(n, id, fv, nfv, &same, &body);
        }
    }

    if (n == NULL) {
        need = snode_entry_size(NULL, id, fv, nfv, &same, &body);
        mblock = vint_size(nfv / 2);
        for (i = 0; i < nfv; i += 2) {
            mblock += vint_size(fv[i].len) + fv[i].len;
        }
        if (mblock + need > UINT32_MAX - sizeof(store_snode_t)) {
            return OB_ERR;
        }
        if (stream_index_reserve(s) != OB_OK) {
            return OB_ERR;
        }
        cap = mblock + need < 256 ? 256 : (uint32_t) (mblock + need);
        n = ob_arena_alloc(s->a, s->owner, snode_alloc_size(cap));
        if (n == NULL) {
            return OB_ERR;
        }
        n->master = *id;
        n->cap = cap;
        n->count = 0;
        n->live = 0;
        p = n->data;
        p += vint_put(p, nfv / 2);
        for (i = 0; i < nfv; i += 2) {
            p += vint_put(p, fv[i].len);
            if (fv[i].len > 0) {
                memcpy(p, fv[i].data, fv[i].len);
            }
            p += fv[i].len;
        }
        n->first = (uint32_t) mblock;
        n->used = (uint32_t) mblock;
        n->rbytes = (uint32_t) lp_master_size(fv, nfv);
        fresh = 1;

    } else if (n->used + need > n->cap) {
        cap = n->cap * 2;
        while (cap < n->used + need) {
            cap *= 2;
        }
        nn = ob_arena_realloc(s->a, s->owner, n, snode_alloc_size(n->cap),
                              snode_alloc_size(cap));
        if (nn == NULL) {
            return OB_ERR;
        }
        n = nn;
        n->cap = cap;
        s->nodes[s->head + s->nn - 1] = n;
    }

    pos = n->used;
    p = n->data + pos;
    *p++ = same ? SNODE_SAMEFIELDS : 0;
    p += vint_put(p, id->ms - n->master.ms);
    p += vint_put(p, id->seq);
    if (!same) {
        p += vint_put(p, nfv / 2);
    }
    for (i = 0; i < nfv; i++) {
        if (same && i % 2 == 0) {
            continue;
        }
        p += vint_put(p, fv[i].len);
        if (fv[i].len > 0) {
            memcpy(p, fv[i].data, fv[i].len);
        }
        p += fv[i].len;
    }
    backlen_put(n->data + pos + need, body);
    n->used += (uint32_t) need;
    n->rbytes += (uint32_t) lp_entry_size(&n->master, id, fv, nfv, same);
    n->count++;
    n->live++;

    if (fresh) {
        if (s->nn > 0) {
            stream_node_close(s, s->head + s->nn - 1);
        }
        s->nodes[s->head + s->nn] = n;
        s->nn++;
    }
    s->length++;
    s->entries_added++;
    s->last_id = *id;
    if (s->length == 1) {
        s->first_id = *id;
    }
    return OB_OK;
}


/* ---- iteration ---------------------------------------------------------- */

void
store_stream_iter_start(const store_stream_t *s, store_stream_iter_t *it,
                        const store_sid_t *min, const store_sid_t *max,
                        int rev)
{
    memset(it, 0, sizeof(*it));
    it->s = s;
    it->rev = rev;
    it->min = *min;
    it->max = *max;
    if (s->nn == 0 || store_sid_cmp(min, max) > 0) {
        it->done = 1;
        return;
    }
    if (!rev) {
        it->node = stream_node_find(s, min);
        it->pos = s->nodes[it->node]->first;
    } else {
        it->node = stream_node_find(s, max);
        it->pos = s->nodes[it->node]->used;
    }
}


int
store_stream_iter_next(store_stream_iter_t *it, store_sentry_t *e)
{
    const store_stream_t  *s = it->s;
    const store_snode_t   *n;
    unsigned               flags;
    size_t                 next, start;

    while (!it->done) {
        n = s->nodes[it->node];
        if (!it->rev) {
            if (it->pos >= n->used) {
                if (it->node + 1 >= s->head + s->nn) {
                    it->done = 1;
                    break;
                }
                it->node++;
                it->pos = s->nodes[it->node]->first;
                continue;
            }
            start = it->pos;
            next = snode_entry(n, it->pos, e, &flags);
            it->pos = next;
            if (store_sid_cmp(&e->id, &it->max) > 0) {
                it->done = 1;
                break;
            }
            if ((flags & SNODE_DELETED)
                || store_sid_cmp(&e->id, &it->min) < 0)
            {
                continue;
            }
        } else {
            if (it->pos <= n->first) {
                if (it->node == s->head) {
                    it->done = 1;
                    break;
                }
                it->node--;
                it->pos = s->nodes[it->node]->used;
                continue;
            }
            start = snode_prev(n, it->pos);
            it->pos = start;
            (void) snode_entry(n, start, e, &flags);
            if (store_sid_cmp(&e->id, &it->min) < 0) {
                it->done = 1;
                break;
            }
            if ((flags & SNODE_DELETED)
                || store_sid_cmp(&e->id, &it->max) > 0)
            {
                continue;
            }
        }
        it->last_node = it->node;
        it->last_pos = start;
        return 1;
    }
    return 0;
}


int
store_stream_lookup(const store_stream_t *s, const store_sid_t *id,
                    store_sentry_t *e)
{
    store_stream_iter_t  it;

    store_stream_iter_start(s, &it, id, id, 0);
    return store_stream_iter_next(&it, e);
}


int
store_stream_edge(const store_stream_t *s, int last, store_sid_t *id)
{
    static const store_sid_t  lo = { 0, 0 };
    static const store_sid_t  hi = { UINT64_MAX, UINT64_MAX };
    store_stream_iter_t       it;
    store_sentry_t            e;

    store_stream_iter_start(s, &it, &lo, &hi, last);
    if (!store_stream_iter_next(&it, &e)) {
        return 0;
    }
    *id = e.id;
    return 1;
}


/* Marks the entry at (node i, pos) deleted; frees the node if it
 * emptied.  Returns 1 when the node was freed. */
static int
stream_mark_deleted(store_stream_t *s, size_t i, size_t pos)
{
    store_snode_t  *n = s->nodes[i];

    n->data[pos] |= SNODE_DELETED;
    n->live--;
    s->length--;
    if (n->live == 0) {
        stream_node_remove(s, i);
        return 1;
    }
    return 0;
}


int
store_stream_delete(store_stream_t *s, const store_sid_t *id)
{
    store_stream_iter_t  it;
    store_sentry_t       e;
    store_sid_t          first;
    int                  was_first;

    store_stream_iter_start(s, &it, id, id, 0);
    if (!store_stream_iter_next(&it, &e)) {
        return 0;
    }
    was_first = store_sid_cmp(id, &s->first_id) == 0;
    stream_mark_deleted(s, it.last_node, it.last_pos);
    if (store_sid_cmp(id, &s->max_deleted) > 0) {
        s->max_deleted = *id;
    }
    if (s->length == 0) {
        s->first_id.ms = 0;
        s->first_id.seq = 0;
    } else if (was_first && store_stream_edge(s, 0, &first)) {
        s->first_id = first;
    }
    return 1;
}


/* The node's last entry's ID, deleted or not. */
static void
snode_last_id(const store_snode_t *n, store_sid_t *id)
{
    store_sentry_t  e;
    unsigned        flags;

    (void) snode_entry(n, snode_prev(n, n->used), &e, &flags);
    *id = e.id;
}


uint64_t
store_stream_trim(store_stream_t *s, int strategy, uint64_t maxlen,
                  const store_sid_t *minid, int approx, long long limit)
{
    uint64_t        deleted = 0;
    store_snode_t  *n;
    store_sid_t     last;
    store_sentry_t  e;
    unsigned        flags;
    size_t          pos, next;
    int             remove_node;

    while (s->nn > 0) {
        if (strategy == STORE_STREAM_TRIM_MAXLEN && s->length <= maxlen) {
            break;
        }
        n = s->nodes[s->head];
        if (limit > 0 && (long long) (deleted + n->live) > limit) {
            break;
        }
        if (strategy == STORE_STREAM_TRIM_MAXLEN) {
            remove_node = s->length - n->live >= maxlen;
        } else {
            snode_last_id(n, &last);
            remove_node = store_sid_cmp(&last, minid) < 0;
        }
        if (remove_node) {
            s->length -= n->live;
            deleted += n->live;
            stream_node_remove(s, s->head);
            continue;
        }
        if (approx) {
            break;
        }
        /* Entries one by one from this node's head: it stays (it keeps
         * at least one live entry by the test above). */
        for (pos = n->first; pos < n->used; pos = next) {
            next = snode_entry(n, pos, &e, &flags);
            if (flags & SNODE_DELETED) {
                continue;
            }
            if (strategy == STORE_STREAM_TRIM_MAXLEN) {
                if (s->length <= maxlen) {
                    break;
                }
            } else if (store_sid_cmp(&e.id, minid) >= 0) {
                break;
            }
            n->data[pos] |= SNODE_DELETED;
            n->live--;
            s->length--;
            deleted++;
        }
        break;
    }
    if (s->length > 0 && deleted > 0) {
        (void) store_stream_edge(s, 0, &s->first_id);
    } else if (s->length == 0) {
        s->first_id.ms = 0;
        s->first_id.seq = 0;
    }
    return deleted;
}


size_t
store_stream_nodes(const store_stream_t *s)
{
    return s->nn;
}


/* ---- the node walker (the RDB writer's) --------------------------------- */

void
store_snode_walk_start(const store_stream_t *s, size_t k,
                       store_snode_walk_t *w)
{
    const store_snode_t  *n = s->nodes[s->head + k];
    const uint8_t        *p = n->data;

    w->n = n;
    w->master = n->master;
    w->live = n->live;
    w->deleted = n->count - n->live;
    /* the master fields head the node: their count, then each one */
    w->nfields = (size_t) vint_get(&p);
    w->field = p;
    w->pos = n->first;
}


void
store_snode_walk_field(store_snode_walk_t *w, const uint8_t **f, size_t *flen)
{
    *f = field_next(&w->field, flen);
}


int
store_snode_walk_next(store_snode_walk_t *w, store_sentry_t *e,
                      unsigned *flags)
{
    unsigned  nf;

    if (w->pos >= w->n->used) {
        return 0;
    }
    w->pos = snode_entry(w->n, w->pos, e, &nf);
    /* The node's own flag bits are spelled out rather than passed on, so
     * that the public values stay Redis's whatever the layout uses. */
    *flags = ((nf & SNODE_DELETED) ? STORE_SENTRY_DELETED : 0)
             | ((nf & SNODE_SAMEFIELDS) ? STORE_SENTRY_SAMEFIELDS : 0);
    return 1;
}


/* ---- lag (Redis 7.0's rules) -------------------------------------------- */

static int
sid_is_zero(const store_sid_t *id)
{
    return id->ms == 0 && id->seq == 0;
}


long long
store_stream_estimate_read(const store_stream_t *s, const store_sid_t *id)
{
    int  cmp_last, cmp_first;

    if (s->entries_added == 0) {
        return 0;
    }
    if (s->length == 0 && store_sid_cmp(id, &s->last_id) < 1) {
        return (long long) s->entries_added;
    }
    cmp_last = store_sid_cmp(id, &s->last_id);
    if (cmp_last == 0) {
        return (long long) s->entries_added;
    }
    if (cmp_last > 0) {
        return STORE_STREAM_ENTRIES_INVALID;
    }
    cmp_first = store_sid_cmp(id, &s->first_id);
    if (sid_is_zero(&s->max_deleted)
        || store_sid_cmp(&s->max_deleted, &s->first_id) < 0)
    {
        if (cmp_first < 0) {
            return (long long) (s->entries_added - s->length);
        }
        if (cmp_first == 0) {
            return (long long) (s->entries_added - s->length + 1);
        }
    }
    return STORE_STREAM_ENTRIES_INVALID;
}


int
store_stream_range_has_tombstones(const store_stream_t *s,
                                  const store_sid_t *start,
                                  const store_sid_t *end)
{
    store_sid_t  lo = { 0, 0 }, hi = { UINT64_MAX, UINT64_MAX };

    if (s->length == 0 || sid_is_zero(&s->max_deleted)) {
        return 0;
    }
    if (store_sid_cmp(&s->first_id, &s->max_deleted) > 0) {
        return 0;
    }
    if (start != NULL) {
        lo = *start;
    }
    if (end != NULL) {
        hi = *end;
    }
    return store_sid_cmp(&lo, &s->max_deleted) <= 0
           && store_sid_cmp(&s->max_deleted, &hi) <= 0;
}


/* ---- copies and accounting ---------------------------------------------- */

store_stream_t *
store_stream_copy(const store_stream_t *s)
{
    store_stream_t     *d = store_stream_new(s->a, s->owner);
    store_sgroup_t     *g, *dg;
    store_sconsumer_t  *c, *dc;
    store_smap_iter_t   it;
    store_snack_t      *n, *dn;
    store_sid_t         id, zero = { 0, 0 };
    void               *val;
    size_t              i, j;

    if (d == NULL) {
        return NULL;
    }
    d->ncap = s->nn > 0 ? s->nn : 0;
    if (d->ncap > 0) {
        d->nodes = ob_arena_alloc(s->a, s->owner, d->ncap * sizeof(void *));
        if (d->nodes == NULL) {
            d->ncap = 0;
            goto fail;
        }
    }
    for (i = 0; i < s->nn; i++) {
        const store_snode_t  *sn = s->nodes[s->head + i];
        store_snode_t        *dnode;

        dnode = ob_arena_alloc(s->a, s->owner, snode_alloc_size(sn->cap));
        if (dnode == NULL) {
            goto fail;
        }
        memcpy(dnode, sn, sizeof(*sn) + sn->used);
        d->nodes[d->nn++] = dnode;
    }
    d->length = s->length;
    d->last_id = s->last_id;
    d->first_id = s->first_id;
    d->max_deleted = s->max_deleted;
    d->entries_added = s->entries_added;

    for (i = 0; i < s->ngroups; i++) {
        g = s->groups[i];
        dg = store_stream_group_create(d, g->name, g->nname, &g->last_id,
                                       g->entries_read);
        if (dg == NULL) {
            goto fail;
        }
        for (j = 0; j < g->nconsumers; j++) {
            c = g->consumers[j];
            dc = store_sgroup_consumer_create(d, dg, c->name, c->nname,
                                              c->seen_time);
            if (dc == NULL) {
                goto fail;
            }
        }
        store_smap_seek(g->pel, &zero, &it);
        while (store_smap_next(&it, &id, &val)) {
            n = val;
            dc = store_sgroup_consumer_find(dg, n->consumer->name,
                                            n->consumer->nname);
            dn = store_sgroup_pel_add(d, dg, dc, &id, n->delivery_time);
            if (dn == NULL) {
                goto fail;
            }
            dn->delivery_count = n->delivery_count;
        }
    }
    return d;

fail:
    store_stream_destroy(d);
    return NULL;
}


size_t
store_stream_bytes(const store_stream_t *s)
{
    size_t  sum = ob_arena_chunk_size(s->a, sizeof(*s)), i;

    if (s->ncap > 0) {
        sum += ob_arena_chunk_size(s->a, s->ncap * sizeof(void *));
    }
    for (i = s->head; i < s->head + s->nn; i++) {
        sum += ob_arena_chunk_size(s->a, snode_alloc_size(s->nodes[i]->cap));
    }
    if (s->gcap > 0) {
        sum += ob_arena_chunk_size(s->a, s->gcap * sizeof(void *));
    }
    for (i = 0; i < s->ngroups; i++) {
        sum += store_sgroup_bytes(s, s->groups[i]);
    }
    return sum;
}


/* ---- the object type's hooks (store_types.c) ---------------------------- */

void
store_stream_free(ob_arena_t *a, int owner, store_obj_t *o)
{
    (void) a;
    (void) owner;
    store_stream_destroy(o->v.ptr);
    o->v.ptr = NULL;
}


store_obj_t *
store_stream_dup(ob_arena_t *a, int owner, const store_obj_t *o)
{
    store_stream_t  *d = store_stream_copy(o->v.ptr);
    store_obj_t     *n;

    if (d == NULL) {
        return NULL;
    }
    n = store_obj_payload_new(a, owner, STORE_OBJ_STREAM, STORE_ENC_STREAM, d);
    if (n == NULL) {
        store_stream_destroy(d);
    }
    return n;
}


size_t
store_stream_mem(const ob_arena_t *a, const store_obj_t *o)
{
    return ob_arena_chunk_size(a, sizeof(*o))
           + store_stream_bytes(o->v.ptr);
}
