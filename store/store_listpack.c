/*
 * store_listpack.c: Redis 7.0's listpack (see store_listpack.h), byte for
 * byte, in one arena allocation of exactly store_lp_bytes() bytes.
 *
 * An entry is <encoding><data><backlen>:
 *
 *   0xxxxxxx                       7-bit unsigned integer (0..127)
 *   10llllll <data>                string of up to 63 bytes
 *   110xxxxx xxxxxxxx              13-bit signed integer (-4096..4095)
 *   1110llll llllllll <data>       string of up to 4095 bytes
 *   0xF0 <len:u32le> <data>        string of up to 2^32-1 bytes
 *   0xF1 / F2 / F3 / F4 <le int>   16, 24, 32, 64-bit signed integers
 *   0xFF                           the end of the listpack (no backlen)
 *
 * Negative integers are stored in two's complement of their width.  The
 * backlen is the length of <encoding><data> in 7-bit groups: the most
 * significant group first, and every byte but the first has the high bit
 * set, so that read from its last byte leftwards the high bit says "one
 * more byte".  Redis switches to the next size at l < 16383, < 2097151,
 * < 268435455 (not <=): we do the same, the bytes must match.
 *
 * A string that is a canonical integer (string2ll) is stored as an
 * integer, as Redis's lpInsertString does; so a string entry never holds a
 * canonical integer, and comparing an integer entry with a string by its
 * decimal form is comparing numbers.
 *
 * Every change is one splice: at byte `off`, `del` bytes go and encoded
 * entries (or nothing) come.  When the new size falls in the allocation's
 * class the block is changed in place (ob_arena_realloc returns it as it
 * is); otherwise a new block is taken first and the pieces are copied to
 * it, so that a refusal leaves the listpack untouched.  That holds for a
 * shrink too: a delete that takes the block to a smaller class needs a
 * chunk of that class, and the arena may refuse it when the budget is
 * full (store_lp_remove's OB_ERR).  The debug arena moves on every
 * realloc, so there every size change copies.
 *
 * The count: the header's u16 says 65535 once the entries reach it, and
 * then the entries are counted by walking.  Redis's lpLength writes the
 * count back once a walk finds fewer, and HDEL, LREM and the like call it
 * after their deletes; we recount after every delete from a saturated
 * listpack, so that the header reads as Redis's would.
 *
 * Positions are byte offsets, not pointers, so that a caller's position
 * survives a move of the block.
 */
#include "store_listpack.h"

#include <limits.h>
#include <string.h>

#include "store_resp.h"


#define LP_NUMELE_UNKNOWN  65535

#define LP_7BIT_UINT       0x00
#define LP_6BIT_STR        0x80
#define LP_13BIT_INT       0xC0
#define LP_12BIT_STR       0xE0
#define LP_32BIT_STR       0xF0
#define LP_16BIT_INT       0xF1
#define LP_24BIT_INT       0xF2
#define LP_32BIT_INT       0xF3
#define LP_64BIT_INT       0xF4

#define LP_MAX_BACKLEN     5
#define LP_MAX_INT_ENC     9


/* An entry ready to be written: hdr (the encoding byte(s), with the
 * integer's bytes for an integer), then s[0..slen) for a string, then the
 * backlen. */
typedef struct lp_enc_s {
    uint8_t         hdr[LP_MAX_INT_ENC];
    size_t          hlen;
    const uint8_t  *s;                /* string bytes, or NULL */
    size_t          slen;
    uint8_t         back[LP_MAX_BACKLEN];
    size_t          blen;
    size_t          size;             /* hlen + slen + blen */
} lp_enc_t;


/* ---- header ------------------------------------------------------------ */

static inline uint32_t
lp_rd32(const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}


static inline void
lp_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) v;
    p[1] = (uint8_t) (v >> 8);
    p[2] = (uint8_t) (v >> 16);
    p[3] = (uint8_t) (v >> 24);
}


static inline unsigned
lp_numele(const uint8_t *lp)
{
    return (unsigned) lp[4] | (unsigned) lp[5] << 8;
}


static inline void
lp_set_numele(uint8_t *lp, unsigned n)
{
    lp[4] = (uint8_t) n;
    lp[5] = (uint8_t) (n >> 8);
}


size_t
store_lp_bytes(const uint8_t *lp)
{
    return lp_rd32(lp);
}


/* ---- entry sizes --------------------------------------------------------- */

/* Bytes of the backlen of an entry whose <encoding><data> is l bytes. */
static inline size_t
lp_backlen_size(uint64_t l)
{
    if (l <= 127) {
        return 1;
    }
    if (l < 16383) {
        return 2;
    }
    if (l < 2097151) {
        return 3;
    }
    if (l < 268435455) {
        return 4;
    }
    return 5;
}


static size_t
lp_backlen_write(uint8_t *buf, uint64_t l)
{
    size_t  n, i;

    n = lp_backlen_size(l);

    /* the most significant group first, every later byte flagged */
    for (i = 0; i < n; i++) {
        buf[i] = (uint8_t) ((l >> (7 * (n - 1 - i))) & 127);
        if (i > 0) {
            buf[i] |= 128;
        }
    }

    return n;
}


/*
 * Reads a backlen whose last byte is at lp[end], going left but not below
 * lp[floor].  Returns the value, or UINT64_MAX when it runs over 5 bytes
 * or below floor; *nbytes gets the bytes read.
 */
static uint64_t
lp_backlen_read(const uint8_t *lp, size_t end, size_t floor, size_t *nbytes)
{
    uint64_t  v;
    unsigned  shift;
    size_t    p;

    v = 0;
    shift = 0;
    p = end;

    for ( ;; ) {
        v |= (uint64_t) (lp[p] & 127) << shift;
        if (!(lp[p] & 128)) {
            break;
        }
        shift += 7;
        if (shift > 28 || p == floor) {
            return UINT64_MAX;
        }
        p--;
    }

    *nbytes = end - p + 1;
    return v;
}


/* Bytes of <encoding><data> of the entry at p (p[0] not EOF, and the
 * length bytes of a 12/32-bit string readable), 0 for a bad encoding. */
static inline size_t
lp_enc_size(const uint8_t *p)
{
    uint8_t  b = p[0];

    if ((b & 0x80) == 0) {
        return 1;
    }
    if ((b & 0xC0) == LP_6BIT_STR) {
        return 1 + (size_t) (b & 0x3F);
    }
    if ((b & 0xE0) == LP_13BIT_INT) {
        return 2;
    }
    if ((b & 0xF0) == LP_12BIT_STR) {
        return 2 + ((size_t) (b & 0x0F) << 8 | p[1]);
    }

    switch (b) {
    case LP_16BIT_INT:
        return 3;
    case LP_24BIT_INT:
        return 4;
    case LP_32BIT_INT:
        return 5;
    case LP_64BIT_INT:
        return 9;
    case LP_32BIT_STR:
        return 5 + (size_t) lp_rd32(p + 1);
    default:
        return 0;
    }
}


/* Bytes the entry at p takes, backlen included. */
static inline size_t
lp_entry_size(const uint8_t *p)
{
    size_t  l = lp_enc_size(p);

    return l + lp_backlen_size(l);
}


/* ---- encoding ------------------------------------------------------------ */

static void
lp_encode_ll(long long sv, lp_enc_t *e)
{
    uint64_t  v;
    size_t    i, n;

    /* two's complement of the width: the cast wraps modulo 2^64, the
     * masks below keep the width's bytes */
    v = (uint64_t) sv;

    if (sv >= 0 && sv <= 127) {
        e->hdr[0] = (uint8_t) sv;
        e->hlen = 1;

    } else if (sv >= -4096 && sv <= 4095) {
        v &= 0x1FFF;
        e->hdr[0] = (uint8_t) (LP_13BIT_INT | (v >> 8));
        e->hdr[1] = (uint8_t) v;
        e->hlen = 2;

    } else {
        if (sv >= -32768 && sv <= 32767) {
            e->hdr[0] = LP_16BIT_INT;
            n = 2;
        } else if (sv >= -8388608 && sv <= 8388607) {
            e->hdr[0] = LP_24BIT_INT;
            n = 3;
        } else if (sv >= -2147483648LL && sv <= 2147483647LL) {
            e->hdr[0] = LP_32BIT_INT;
            n = 4;
        } else {
            e->hdr[0] = LP_64BIT_INT;
            n = 8;
        }
        for (i = 0; i < n; i++) {
            e->hdr[1 + i] = (uint8_t) (v >> (8 * i));
        }
        e->hlen = 1 + n;
    }

    e->s = NULL;
    e->slen = 0;
    e->blen = lp_backlen_write(e->back, e->hlen);
    e->size = e->hlen + e->blen;
}


/* OB_ERR when the string is too long for any encoding. */
static int
lp_encode_str(const void *s, size_t len, lp_enc_t *e)
{
    long long  v;

    if (len > UINT32_MAX) {
        return OB_ERR;
    }

    if (store_resp_ll(s, len, &v) == OB_OK) {
        lp_encode_ll(v, e);
        return OB_OK;
    }

    if (len < 64) {
        e->hdr[0] = (uint8_t) (LP_6BIT_STR | len);
        e->hlen = 1;
    } else if (len < 4096) {
        e->hdr[0] = (uint8_t) (LP_12BIT_STR | (len >> 8));
        e->hdr[1] = (uint8_t) len;
        e->hlen = 2;
    } else {
        e->hdr[0] = LP_32BIT_STR;
        lp_wr32(e->hdr + 1, (uint32_t) len);
        e->hlen = 5;
    }

    e->s = s;
    e->slen = len;
    e->blen = lp_backlen_write(e->back, e->hlen + len);
    e->size = e->hlen + len + e->blen;

    return OB_OK;
}


static void
lp_enc_write(uint8_t *p, const lp_enc_t *e)
{
    memcpy(p, e->hdr, e->hlen);
    p += e->hlen;
    if (e->slen > 0) {
        memcpy(p, e->s, e->slen);
        p += e->slen;
    }
    memcpy(p, e->back, e->blen);
}


size_t
store_lp_entry_size(const void *s, size_t len)
{
    lp_enc_t  e;

    if (lp_encode_str(s, len, &e) != OB_OK) {
        return SIZE_MAX;
    }
    return e.size;
}


/* ---- allocation -------------------------------------------------------- */

uint8_t *
store_lp_new(ob_arena_t *a, int owner)
{
    uint8_t  *lp;

    lp = ob_arena_alloc(a, owner, STORE_LP_EMPTY_SIZE);
    if (lp == NULL) {
        return NULL;
    }

    lp_wr32(lp, STORE_LP_EMPTY_SIZE);
    lp_set_numele(lp, 0);
    lp[STORE_LP_HDR] = STORE_LP_EOF;

    return lp;
}


void
store_lp_free(ob_arena_t *a, int owner, uint8_t *lp)
{
    if (lp != NULL) {
        ob_arena_free(a, owner, lp, store_lp_bytes(lp));
    }
}


uint8_t *
store_lp_dup(ob_arena_t *a, int owner, const uint8_t *lp)
{
    uint8_t  *n;
    size_t    size;

    size = store_lp_bytes(lp);
    n = ob_arena_alloc(a, owner, size);
    if (n != NULL) {
        memcpy(n, lp, size);
    }

    return n;
}


/* 1 when a block of `from` bytes can become `to` bytes where it is. */
static int
lp_in_place(ob_arena_t *a, size_t from, size_t to)
{
#ifdef OB_DEBUG_ARENA
    /* the debug arena moves on every realloc */
    (void) a;
    return from == to;
#else
    unsigned  id;

    if (from == to) {
        return 1;
    }
    id = ob_arena_class_of(a, from);
    return id != OB_ARENA_CLASS_LARGE && id == ob_arena_class_of(a, to);
#endif
}


static int
lp_encode_item(const store_lp_val_t *it, lp_enc_t *e)
{
    if (it->s == NULL) {
        lp_encode_ll(it->ll, e);
        return OB_OK;
    }
    return lp_encode_str(it->s, it->len, e);
}


/*
 * The one change: at byte offset off, del bytes go and new entries take
 * their place: e's (when not NULL), else items[0..nitems), each encoded
 * twice (once to size the block, once to write it: cheaper than room for
 * the encodings); the header's count moves by delta (unless it is
 * saturated).  OB_ERR (the listpack unchanged) when the arena refuses, a
 * string is too long, or the total would not fit 32 bits.
 */
static int
lp_splice(ob_arena_t *a, int owner, uint8_t **lpp, size_t off, size_t del,
    const lp_enc_t *e, const store_lp_val_t *items, size_t nitems,
    long delta)
{
    uint8_t   *lp, *nb;
    size_t     old, new, ins, tail, at, i;
    long       n;
    lp_enc_t   ie;

    lp = *lpp;
    old = store_lp_bytes(lp);

    if (e != NULL) {
        ins = e->size;
    } else {
        ins = 0;
        for (i = 0; i < nitems; i++) {
            if (lp_encode_item(&items[i], &ie) != OB_OK
                || ie.size > UINT32_MAX - ins)
            {
                return OB_ERR;
            }
            ins += ie.size;
        }
    }

    if (ins > UINT32_MAX || old - del > UINT32_MAX - ins) {
        return OB_ERR;
    }

    new = old - del + ins;
    tail = old - off - del;

    if (lp_in_place(a, old, new)) {
        if (new != old) {
            /* the same class: the arena hands the block back as it is */
            nb = ob_arena_realloc(a, owner, lp, old, new);
            if (nb == NULL) {
                return OB_ERR;
            }
            lp = nb;
        }
        memmove(lp + off + ins, lp + off + del, tail);

    } else {
        nb = ob_arena_alloc(a, owner, new);
        if (nb == NULL) {
            return OB_ERR;
        }
        memcpy(nb, lp, off);
        memcpy(nb + off + ins, lp + off + del, tail);
        ob_arena_free(a, owner, lp, old);
        lp = nb;
    }

    if (e != NULL) {
        lp_enc_write(lp + off, e);
    } else {
        at = off;
        for (i = 0; i < nitems; i++) {
            (void) lp_encode_item(&items[i], &ie);
            lp_enc_write(lp + at, &ie);
            at += ie.size;
        }
    }

    lp_wr32(lp, (uint32_t) new);

    if (delta != 0 && lp_numele(lp) != LP_NUMELE_UNKNOWN) {
        n = (long) lp_numele(lp) + delta;
        lp_set_numele(lp, n >= LP_NUMELE_UNKNOWN ? LP_NUMELE_UNKNOWN
                                                 : (unsigned) n);

    } else if (delta < 0) {
        /* Redis's lpLength sets the count again once a walk finds it back
         * under 65535; HDEL and the like call it after every delete */
        n = 0;
        for (at = STORE_LP_HDR; lp[at] != STORE_LP_EOF;
             at += lp_entry_size(lp + at))
        {
            n++;
        }
        if (n < LP_NUMELE_UNKNOWN) {
            lp_set_numele(lp, (unsigned) n);
        }
    }

    *lpp = lp;
    return OB_OK;
}


/* ---- walking ------------------------------------------------------------- */

size_t
store_lp_count(const uint8_t *lp)
{
    size_t  n, off;

    if (lp_numele(lp) != LP_NUMELE_UNKNOWN) {
        return lp_numele(lp);
    }

    n = 0;
    for (off = STORE_LP_HDR; lp[off] != STORE_LP_EOF;
         off += lp_entry_size(lp + off))
    {
        n++;
    }

    return n;
}


store_lp_pos_t
store_lp_first(const uint8_t *lp)
{
    return lp[STORE_LP_HDR] == STORE_LP_EOF ? 0 : STORE_LP_HDR;
}


store_lp_pos_t
store_lp_next(const uint8_t *lp, store_lp_pos_t pos)
{
    if (pos == 0) {
        return 0;
    }

    pos += lp_entry_size(lp + pos);

    return lp[pos] == STORE_LP_EOF ? 0 : pos;
}


/* The entry that ends just before byte `end` (an entry or the EOF). */
static inline store_lp_pos_t
lp_prev_of(const uint8_t *lp, size_t end)
{
    const uint8_t  *p;
    uint64_t        l;
    unsigned        shift;

    if (end <= STORE_LP_HDR) {
        return 0;
    }

    /* a valid listpack: the backlen ends at the byte without the flag */
    p = lp + end - 1;
    l = *p & 127;
    for (shift = 7; *p & 128; shift += 7) {
        p--;
        l |= (uint64_t) (*p & 127) << shift;
    }

    return (size_t) (p - lp) - (size_t) l;
}


store_lp_pos_t
store_lp_prev(const uint8_t *lp, store_lp_pos_t pos)
{
    if (pos == 0) {
        return 0;
    }
    return lp_prev_of(lp, pos);
}


store_lp_pos_t
store_lp_last(const uint8_t *lp)
{
    return lp_prev_of(lp, store_lp_bytes(lp) - 1);
}


store_lp_pos_t
store_lp_seek(const uint8_t *lp, long long index)
{
    size_t              n, i, k;
    unsigned long long  steps;
    store_lp_pos_t      pos;

    n = lp_numele(lp);

    if (n == LP_NUMELE_UNKNOWN) {
        /* the count is not known: walk from the end the index counts
         * from, without counting first */
        if (index >= 0) {
            steps = (unsigned long long) index;
            pos = store_lp_first(lp);
            while (pos != 0 && steps-- > 0) {
                pos = store_lp_next(lp, pos);
            }
        } else {
            steps = (unsigned long long) -(index + 1);
            pos = store_lp_last(lp);
            while (pos != 0 && steps-- > 0) {
                pos = store_lp_prev(lp, pos);
            }
        }
        return pos;
    }

    if (index < 0) {
        if ((unsigned long long) -(index + 1) >= n) {
            return 0;
        }
        k = n - 1 - (size_t) -(index + 1);
    } else {
        if ((unsigned long long) index >= n) {
            return 0;
        }
        k = (size_t) index;
    }

    /* from the nearer end, as Redis's lpSeek */
    if (k < n / 2) {
        pos = store_lp_first(lp);
        for (i = 0; i < k; i++) {
            pos = store_lp_next(lp, pos);
        }
    } else {
        pos = store_lp_last(lp);
        for (i = n - 1; i > k; i--) {
            pos = store_lp_prev(lp, pos);
        }
    }

    return pos;
}


/* ---- reading ------------------------------------------------------------- */

void
store_lp_get(const uint8_t *lp, store_lp_pos_t pos, store_lp_val_t *v)
{
    const uint8_t  *p = lp + pos;
    uint8_t         b = p[0];
    uint64_t        u;
    unsigned        bits, i, n;

    if ((b & 0x80) == 0) {
        v->s = NULL;
        v->len = 0;
        v->ll = b;
        return;
    }
    if ((b & 0xC0) == LP_6BIT_STR) {
        v->s = p + 1;
        v->len = b & 0x3F;
        v->ll = 0;
        return;
    }
    if ((b & 0xF0) == LP_12BIT_STR) {
        v->s = p + 2;
        v->len = (size_t) (b & 0x0F) << 8 | p[1];
        v->ll = 0;
        return;
    }
    if (b == LP_32BIT_STR) {
        v->s = p + 5;
        v->len = lp_rd32(p + 1);
        v->ll = 0;
        return;
    }

    if ((b & 0xE0) == LP_13BIT_INT) {
        u = (uint64_t) (b & 0x1F) << 8 | p[1];
        bits = 13;
    } else {
        switch (b) {
        case LP_16BIT_INT: n = 2; break;
        case LP_24BIT_INT: n = 3; break;
        case LP_32BIT_INT: n = 4; break;
        default:           n = 8; break;     /* LP_64BIT_INT */
        }
        u = 0;
        for (i = 0; i < n; i++) {
            u |= (uint64_t) p[1 + i] << (8 * i);
        }
        bits = 8 * n;
    }

    /* sign-extend from the width (no signed overflow on the way) */
    if (bits < 64 && (u >> (bits - 1)) & 1) {
        u |= ~(uint64_t) 0 << bits;
    }

    v->s = NULL;
    v->len = 0;
    v->ll = u > (uint64_t) LLONG_MAX
            ? -(long long) (~u) - 1
            : (long long) u;
}


/* Writes v in decimal to buf (STORE_LP_INTBUF bytes), NUL-terminated;
 * returns the length. */
static size_t
lp_ll2str(char *buf, long long v)
{
    char                tmp[STORE_LP_INTBUF];
    unsigned long long  u;
    size_t              n, len;

    u = v < 0 ? (unsigned long long) -(v + 1) + 1 : (unsigned long long) v;

    n = 0;
    do {
        tmp[n++] = (char) ('0' + u % 10);
        u /= 10;
    } while (u != 0);

    len = 0;
    if (v < 0) {
        buf[len++] = '-';
    }
    while (n > 0) {
        buf[len++] = tmp[--n];
    }
    buf[len] = '\0';

    return len;
}


const uint8_t *
store_lp_get_str(const uint8_t *lp, store_lp_pos_t pos,
    char buf[STORE_LP_INTBUF], size_t *len)
{
    store_lp_val_t  v;

    store_lp_get(lp, pos, &v);
    if (v.s != NULL) {
        *len = v.len;
        return v.s;
    }

    *len = lp_ll2str(buf, v.ll);
    return (const uint8_t *) buf;
}


/* The entry at pos against s: `sv`/`sv_ok` are s as an integer, worked
 * out once by the caller (sv_ok < 0: not yet). */
static int
lp_eq(const uint8_t *lp, store_lp_pos_t pos, const void *s, size_t len,
    long long *sv, int *sv_ok)
{
    store_lp_val_t  v;

    store_lp_get(lp, pos, &v);

    if (v.s != NULL) {
        return v.len == len && (len == 0 || memcmp(v.s, s, len) == 0);
    }

    if (*sv_ok < 0) {
        *sv_ok = store_resp_ll(s, len, sv) == OB_OK;
    }

    return *sv_ok && *sv == v.ll;
}


int
store_lp_eq(const uint8_t *lp, store_lp_pos_t pos, const void *s, size_t len)
{
    long long  sv;
    int        sv_ok = -1;

    return lp_eq(lp, pos, s, len, &sv, &sv_ok);
}


store_lp_pos_t
store_lp_find(const uint8_t *lp, store_lp_pos_t pos, const void *s,
    size_t len, unsigned skip)
{
    long long  sv;
    int        sv_ok = -1;
    unsigned   skipcnt = 0;

    while (pos != 0) {
        if (skipcnt == 0) {
            if (lp_eq(lp, pos, s, len, &sv, &sv_ok)) {
                return pos;
            }
            skipcnt = skip;
        } else {
            skipcnt--;
        }
        pos = store_lp_next(lp, pos);
    }

    return 0;
}


/* ---- changing ------------------------------------------------------------ */

int
store_lp_append(ob_arena_t *a, int owner, uint8_t **lp, const void *s,
    size_t len)
{
    lp_enc_t  e;

    if (lp_encode_str(s, len, &e) != OB_OK) {
        return OB_ERR;
    }
    return lp_splice(a, owner, lp, store_lp_bytes(*lp) - 1, 0, &e, NULL, 0, 1);
}


int
store_lp_prepend(ob_arena_t *a, int owner, uint8_t **lp, const void *s,
    size_t len)
{
    lp_enc_t  e;

    if (lp_encode_str(s, len, &e) != OB_OK) {
        return OB_ERR;
    }
    return lp_splice(a, owner, lp, STORE_LP_HDR, 0, &e, NULL, 0, 1);
}


int
store_lp_append_ll(ob_arena_t *a, int owner, uint8_t **lp, long long v)
{
    lp_enc_t  e;

    lp_encode_ll(v, &e);
    return lp_splice(a, owner, lp, store_lp_bytes(*lp) - 1, 0, &e, NULL, 0, 1);
}


int
store_lp_prepend_ll(ob_arena_t *a, int owner, uint8_t **lp, long long v)
{
    lp_enc_t  e;

    lp_encode_ll(v, &e);
    return lp_splice(a, owner, lp, STORE_LP_HDR, 0, &e, NULL, 0, 1);
}


int
store_lp_insert(ob_arena_t *a, int owner, uint8_t **lp, store_lp_pos_t pos,
    int after, const void *s, size_t len, store_lp_pos_t *newpos)
{
    lp_enc_t  e;
    size_t    off;

    if (pos == 0 || lp_encode_str(s, len, &e) != OB_OK) {
        return OB_ERR;
    }

    off = after ? pos + lp_entry_size(*lp + pos) : pos;

    if (lp_splice(a, owner, lp, off, 0, &e, NULL, 0, 1) != OB_OK) {
        return OB_ERR;
    }
    if (newpos != NULL) {
        *newpos = off;
    }

    return OB_OK;
}


int
store_lp_insert_ll(ob_arena_t *a, int owner, uint8_t **lp,
    store_lp_pos_t pos, int after, long long v, store_lp_pos_t *newpos)
{
    lp_enc_t  e;
    size_t    off;

    if (pos == 0) {
        return OB_ERR;
    }

    lp_encode_ll(v, &e);
    off = after ? pos + lp_entry_size(*lp + pos) : pos;

    if (lp_splice(a, owner, lp, off, 0, &e, NULL, 0, 1) != OB_OK) {
        return OB_ERR;
    }
    if (newpos != NULL) {
        *newpos = off;
    }

    return OB_OK;
}


int
store_lp_replace(ob_arena_t *a, int owner, uint8_t **lp, store_lp_pos_t pos,
    const void *s, size_t len)
{
    lp_enc_t  e;

    if (pos == 0 || lp_encode_str(s, len, &e) != OB_OK) {
        return OB_ERR;
    }
    return lp_splice(a, owner, lp, pos, lp_entry_size(*lp + pos), &e, NULL, 0, 0);
}


int
store_lp_replace_ll(ob_arena_t *a, int owner, uint8_t **lp,
    store_lp_pos_t pos, long long v)
{
    lp_enc_t  e;

    if (pos == 0) {
        return OB_ERR;
    }
    lp_encode_ll(v, &e);
    return lp_splice(a, owner, lp, pos, lp_entry_size(*lp + pos), &e, NULL, 0, 0);
}


int
store_lp_splice(ob_arena_t *a, int owner, uint8_t **lp, store_lp_pos_t pos,
    size_t ndel, const store_lp_val_t *items, size_t n,
    store_lp_pos_t *newpos)
{
    size_t  end, k;

    if (pos == 0) {
        pos = store_lp_bytes(*lp) - 1;      /* the EOF: an append */
    }

    end = pos;
    for (k = 0; k < ndel && (*lp)[end] != STORE_LP_EOF; k++) {
        end += lp_entry_size(*lp + end);
    }

    if (k == 0 && n == 0) {
        if (newpos != NULL) {
            *newpos = (*lp)[pos] == STORE_LP_EOF ? 0 : pos;
        }
        return OB_OK;
    }

    if (lp_splice(a, owner, lp, pos, end - pos, NULL, items, n,
                  (long) n - (long) k)
        != OB_OK)
    {
        return OB_ERR;
    }

    if (newpos != NULL) {
        *newpos = (*lp)[pos] == STORE_LP_EOF ? 0 : pos;
    }

    return OB_OK;
}


int
store_lp_remove(ob_arena_t *a, int owner, uint8_t **lp, store_lp_pos_t pos,
    size_t n, store_lp_pos_t *next)
{
    size_t  end, k;

    if (pos == 0 || n == 0) {
        if (next != NULL) {
            *next = pos;
        }
        return OB_OK;
    }

    end = pos;
    for (k = 0; k < n && (*lp)[end] != STORE_LP_EOF; k++) {
        end += lp_entry_size(*lp + end);
    }

    if (lp_splice(a, owner, lp, pos, end - pos, NULL, NULL, 0, -(long) k)
        != OB_OK)
    {
        return OB_ERR;
    }

    if (next != NULL) {
        *next = (*lp)[pos] == STORE_LP_EOF ? 0 : pos;
    }

    return OB_OK;
}


store_lp_pos_t
store_lp_delete(ob_arena_t *a, int owner, uint8_t **lp, store_lp_pos_t pos,
    size_t n)
{
    store_lp_pos_t  next;

    if (store_lp_remove(a, owner, lp, pos, n, &next) != OB_OK) {
        return STORE_LP_NOMEM;
    }
    return next;
}


int
store_lp_delete_range(ob_arena_t *a, int owner, uint8_t **lp, size_t start,
    size_t n)
{
    store_lp_pos_t  pos;

    if (n == 0 || start > (size_t) LLONG_MAX) {
        return OB_OK;
    }

    pos = store_lp_seek(*lp, (long long) start);
    if (pos == 0) {
        return OB_OK;
    }

    return store_lp_remove(a, owner, lp, pos, n, NULL);
}


int
store_lp_concat(ob_arena_t *a, int owner, uint8_t **dst, const uint8_t *src)
{
    uint8_t  *lp, *nb;
    size_t    old, add, new, n;

    lp = *dst;
    old = store_lp_bytes(lp);
    add = store_lp_bytes(src) - STORE_LP_EMPTY_SIZE;

    if (add == 0) {
        return OB_OK;
    }
    if (old > UINT32_MAX - add) {
        return OB_ERR;
    }
    new = old + add;

    if (lp_numele(lp) == LP_NUMELE_UNKNOWN
        || lp_numele(src) == LP_NUMELE_UNKNOWN)
    {
        n = LP_NUMELE_UNKNOWN;
    } else {
        n = (size_t) lp_numele(lp) + lp_numele(src);
    }

    /* growing at the end: realloc's copy is all the moving there is */
    nb = ob_arena_realloc(a, owner, lp, old, new);
    if (nb == NULL) {
        return OB_ERR;
    }
    lp = nb;

    /* src's entries over the EOF, then the EOF again */
    memcpy(lp + old - 1, src + STORE_LP_HDR, add);
    lp[new - 1] = STORE_LP_EOF;
    lp_wr32(lp, (uint32_t) new);
    lp_set_numele(lp, n >= LP_NUMELE_UNKNOWN ? LP_NUMELE_UNKNOWN
                                             : (unsigned) n);

    *dst = lp;
    return OB_OK;
}


/* ---- validation ---------------------------------------------------------- */

int
store_lp_validate(const uint8_t *lp, size_t size, int deep)
{
    size_t    off, eof, hb, l, bl, nb;
    uint64_t  back;
    size_t    count;
    uint8_t   b;

    if (lp == NULL || size < STORE_LP_EMPTY_SIZE || size > UINT32_MAX
        || store_lp_bytes(lp) != size || lp[size - 1] != STORE_LP_EOF)
    {
        return 0;
    }

    if (!deep) {
        return 1;
    }

    eof = size - 1;
    count = 0;
    off = STORE_LP_HDR;

    while (off < eof) {
        b = lp[off];

        /* the bytes that hold the length must be there before we read
         * it */
        if ((b & 0xF0) == LP_12BIT_STR) {
            hb = 2;
        } else if (b == LP_32BIT_STR) {
            hb = 5;
        } else {
            hb = 1;
        }
        if (hb > eof - off) {
            return 0;
        }

        l = lp_enc_size(lp + off);
        if (l == 0) {
            return 0;        /* 0xF5..0xFF inside the entries */
        }
        bl = lp_backlen_size(l);
        if (l > eof - off || bl > eof - off - l) {
            return 0;
        }

        back = lp_backlen_read(lp, off + l + bl - 1, off + l, &nb);
        if (back != l || nb != bl) {
            return 0;
        }

        off += l + bl;
        count++;
    }

    if (off != eof) {
        return 0;
    }

    /* a saturated count says nothing: Redis leaves it saturated after
     * deletes until something counts, so any count is valid with it */
    return lp_numele(lp) == LP_NUMELE_UNKNOWN || lp_numele(lp) == count;
}
