/*
 * store_intset.c: Redis's intset (see store_intset.h).
 *
 * The layout is Redis's so that a set's bytes are what RDB's intset
 * encoding writes.  Fields and elements are little-endian on every host
 * (memcpy plus le*toh), which also keeps the reads free of alignment
 * assumptions: the contents start at offset 8, and an element of 2 bytes
 * need not sit on an 8-byte boundary.
 *
 * Complexity is Redis's: lookups are a binary search, an insert or a
 * removal moves the tail with memmove and resizes the block (the sets that
 * stay intsets hold at most set-max-intset-entries, 512, elements, so the
 * move costs at most 4 KiB).  An upgrade to a wider encoding rewrites the
 * array back to front in place, after the block has grown, and the new
 * value goes to one end (it is out of the old range).
 */
#include "store_intset.h"

#include <endian.h>
#include <string.h>


static uint32_t
store_intset_u32(const uint8_t *p)
{
    uint32_t  v;

    memcpy(&v, p, 4);
    return le32toh(v);
}


static void
store_intset_set_u32(uint8_t *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, 4);
}


uint32_t
store_intset_encoding(const uint8_t *is)
{
    return store_intset_u32(is);
}


uint32_t
store_intset_len(const uint8_t *is)
{
    return store_intset_u32(is + 4);
}


size_t
store_intset_blob_len(const uint8_t *is)
{
    return STORE_INTSET_HDR
           + (size_t) store_intset_len(is) * store_intset_encoding(is);
}


/* The width that holds v (Redis's _intsetValueEncoding). */
static uint32_t
store_intset_value_enc(int64_t v)
{
    if (v < INT32_MIN || v > INT32_MAX) {
        return STORE_INTSET_ENC_INT64;
    }
    if (v < INT16_MIN || v > INT16_MAX) {
        return STORE_INTSET_ENC_INT32;
    }
    return STORE_INTSET_ENC_INT16;
}


static int64_t
store_intset_get_enc(const uint8_t *is, uint32_t pos, uint32_t enc)
{
    const uint8_t  *p = is + STORE_INTSET_HDR + (size_t) pos * enc;
    uint16_t        v16;
    uint32_t        v32;
    uint64_t        v64;

    switch (enc) {
    case STORE_INTSET_ENC_INT64:
        memcpy(&v64, p, 8);
        return (int64_t) le64toh(v64);
    case STORE_INTSET_ENC_INT32:
        memcpy(&v32, p, 4);
        return (int32_t) le32toh(v32);
    default:
        memcpy(&v16, p, 2);
        return (int16_t) le16toh(v16);
    }
}


static void
store_intset_set_enc(uint8_t *is, uint32_t pos, uint32_t enc, int64_t v)
{
    uint8_t   *p = is + STORE_INTSET_HDR + (size_t) pos * enc;
    uint16_t   v16;
    uint32_t   v32;
    uint64_t   v64;

    switch (enc) {
    case STORE_INTSET_ENC_INT64:
        v64 = htole64((uint64_t) v);
        memcpy(p, &v64, 8);
        break;
    case STORE_INTSET_ENC_INT32:
        v32 = htole32((uint32_t) (int32_t) v);
        memcpy(p, &v32, 4);
        break;
    default:
        v16 = htole16((uint16_t) (int16_t) v);
        memcpy(p, &v16, 2);
        break;
    }
}


int64_t
store_intset_get(const uint8_t *is, uint32_t pos)
{
    return store_intset_get_enc(is, pos, store_intset_encoding(is));
}


uint8_t *
store_intset_new(ob_arena_t *a, int owner, size_t *alloc)
{
    uint8_t  *is;

    is = ob_arena_alloc(a, owner, STORE_INTSET_HDR);
    if (is == NULL) {
        return NULL;
    }
    store_intset_set_u32(is, STORE_INTSET_ENC_INT16);
    store_intset_set_u32(is + 4, 0);
    *alloc = STORE_INTSET_HDR;
    return is;
}


void
store_intset_free(ob_arena_t *a, int owner, uint8_t *is, size_t alloc)
{
    if (is != NULL) {
        ob_arena_free(a, owner, is, alloc);
    }
}


uint8_t *
store_intset_dup(ob_arena_t *a, int owner, const uint8_t *is, size_t *alloc)
{
    size_t    n = store_intset_blob_len(is);
    uint8_t  *d;

    d = ob_arena_alloc(a, owner, n);
    if (d == NULL) {
        return NULL;
    }
    memcpy(d, is, n);
    *alloc = n;
    return d;
}


int
store_intset_find(const uint8_t *is, int64_t v, uint32_t *pos)
{
    uint32_t  enc = store_intset_encoding(is);
    uint32_t  n = store_intset_len(is);
    uint32_t  lo = 0, hi = n, mid;
    int64_t   cur;

    /* A value wider than the encoding cannot be in the set. */
    if (store_intset_value_enc(v) > enc || n == 0) {
        if (pos != NULL) {
            *pos = 0;            /* unused: add upgrades instead */
        }
        return 0;
    }
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        cur = store_intset_get_enc(is, mid, enc);
        if (cur == v) {
            if (pos != NULL) {
                *pos = mid;
            }
            return 1;
        }
        if (cur < v) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (pos != NULL) {
        *pos = lo;
    }
    return 0;
}


/* Makes the block exactly `need` bytes when the arena can; a shrink that
 * fails keeps the old block (its size stays in *alloc).  OB_ERR only when
 * a growth fails. */
static int
store_intset_resize(ob_arena_t *a, int owner, uint8_t **is, size_t *alloc,
    size_t need)
{
    uint8_t  *p;

    if (need == *alloc) {
        return OB_OK;
    }
    p = ob_arena_realloc(a, owner, *is, *alloc, need);
    if (p == NULL) {
        return need > *alloc ? OB_ERR : OB_OK;
    }
    *is = p;
    *alloc = need;
    return OB_OK;
}


int
store_intset_add(ob_arena_t *a, int owner, uint8_t **is, size_t *alloc,
    int64_t v, int *added)
{
    uint32_t  enc = store_intset_encoding(*is);
    uint32_t  venc = store_intset_value_enc(v);
    uint32_t  n = store_intset_len(*is);
    uint32_t  pos, i;
    uint8_t  *p;

    *added = 0;

    if (venc > enc) {
        /* Upgrade: v is below or above every element, so it goes to an
         * end; the others are rewritten wider from the back, so that no
         * element is overwritten before it is read. */
        if (store_intset_resize(a, owner, is, alloc,
                                STORE_INTSET_HDR + (size_t) (n + 1) * venc)
            != OB_OK)
        {
            return OB_ERR;
        }
        p = *is;
        for (i = n; i-- > 0; ) {
            store_intset_set_enc(p, i + (v < 0 ? 1 : 0), venc,
                                 store_intset_get_enc(p, i, enc));
        }
        store_intset_set_enc(p, v < 0 ? 0 : n, venc, v);
        store_intset_set_u32(p, venc);
        store_intset_set_u32(p + 4, n + 1);
        *added = 1;
        return OB_OK;
    }

    if (store_intset_find(*is, v, &pos)) {
        return OB_OK;
    }
    if (store_intset_resize(a, owner, is, alloc,
                            STORE_INTSET_HDR + (size_t) (n + 1) * enc)
        != OB_OK)
    {
        return OB_ERR;
    }
    p = *is;
    if (pos < n) {
        memmove(p + STORE_INTSET_HDR + (size_t) (pos + 1) * enc,
                p + STORE_INTSET_HDR + (size_t) pos * enc,
                (size_t) (n - pos) * enc);
    }
    store_intset_set_enc(p, pos, enc, v);
    store_intset_set_u32(p + 4, n + 1);
    *added = 1;
    return OB_OK;
}


void
store_intset_remove_at(ob_arena_t *a, int owner, uint8_t **is, size_t *alloc,
    uint32_t pos)
{
    uint32_t  enc = store_intset_encoding(*is);
    uint32_t  n = store_intset_len(*is);
    uint8_t  *p = *is;

    if (pos + 1 < n) {
        memmove(p + STORE_INTSET_HDR + (size_t) pos * enc,
                p + STORE_INTSET_HDR + (size_t) (pos + 1) * enc,
                (size_t) (n - pos - 1) * enc);
    }
    store_intset_set_u32(p + 4, n - 1);
    (void) store_intset_resize(a, owner, is, alloc,
                               STORE_INTSET_HDR + (size_t) (n - 1) * enc);
}


int
store_intset_remove(ob_arena_t *a, int owner, uint8_t **is, size_t *alloc,
    int64_t v)
{
    uint32_t  pos;

    if (!store_intset_find(*is, v, &pos)) {
        return 0;
    }
    store_intset_remove_at(a, owner, is, alloc, pos);
    return 1;
}


int
store_intset_valid(const uint8_t *blob, size_t len)
{
    uint32_t  enc, n, i;
    int64_t   prev = 0, cur;

    if (len < STORE_INTSET_HDR) {
        return 0;
    }
    enc = store_intset_encoding(blob);
    n = store_intset_len(blob);
    if (enc != STORE_INTSET_ENC_INT16 && enc != STORE_INTSET_ENC_INT32
        && enc != STORE_INTSET_ENC_INT64)
    {
        return 0;
    }
    if ((uint64_t) n * enc != (uint64_t) (len - STORE_INTSET_HDR)) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        cur = store_intset_get_enc(blob, i, enc);
        if (i > 0 && cur <= prev) {
            return 0;
        }
        prev = cur;
    }
    return 1;
}
