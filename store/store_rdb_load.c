/*
 * store_rdb_load.c: the RDB loader (Redis 7.0's rdbLoadRio): the buffered
 * reader store_rdb_get_* (store_rdb_int.h) and store_rdb_load_fd.
 *
 * Every value is rebuilt element by element with the type files' APIs
 * (store_list_push, store_hash_set, store_set_add, store_zset_add), so
 * that the encodings come out as Redis's loader re-picks them by size and
 * nothing from the file is trusted as a structure: a listpack, ziplist,
 * zipmap or intset blob is only ever read through a walker that checks
 * every byte it steps on, and duplicate hash fields, set members, zset
 * members and keys are errors, as redis-check-rdb's deep sanitisation
 * makes them.
 *
 * Memory.  The reader's buffer is 64 KiB of malloc.  A string is read
 * into a malloc'd buffer that grows as its bytes arrive (1 MiB at first,
 * doubling), so a length field claiming terabytes fails as a truncated
 * file after reading what is there instead of asking malloc for it; an
 * LZF string's expanded size must be plausible for its compressed size
 * (LZF expands at most ~88 times) before its buffer is taken.  Element
 * counts are never allocated up front: the loops run into the end of the
 * file first.  Values go to the arena under r->owner.
 *
 * Errors name the problem and the byte offset where it was seen; the
 * first one is kept (store_rdb_in_fail) and every caller unwinds with
 * OB_ERR or NULL, freeing what it built.
 */
#include "store_rdb_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liblzf/lzf.h>

#include "store_db.h"
#include "store_hash.h"
#include "store_list.h"
#include "store_listpack.h"
#include "store_int.h"       /* store_persist.h needs store_cmd_s */
#include "store_persist.h"
#include "store_set.h"
#include "store_zset.h"

#define STORE_RDB_IN_BUF       (64 * 1024)
/* A string's buffer starts at this and doubles as the bytes come. */
#define STORE_RDB_STR_STEP     (1024 * 1024)
/* lzf_d.c's longest back-reference is 264 bytes from 3 input bytes. */
#define STORE_RDB_LZF_RATIO    100
/* A zset score written as text (type 3's length byte, a listpack's
 * string entry) longer than this is not a number. */
#define STORE_RDB_SCORE_MAX    128

/* Type 3's special score lengths (rdbLoadDoubleValue) */
#define STORE_RDB_DBL_NAN      253
#define STORE_RDB_DBL_POSINF   254
#define STORE_RDB_DBL_NEGINF   255

/* Ziplist encodings (ziplist.c) */
#define STORE_ZL_HDR           10
#define STORE_ZL_BIGLEN        254
#define STORE_ZL_END           0xFF
#define STORE_ZL_LEN_UNKNOWN   0xFFFF

/* Zipmap (zipmap.c) */
#define STORE_ZM_BIGLEN        254
#define STORE_ZM_END           0xFF


/* ---- the reader ------------------------------------------------------------ */

int
store_rdb_in_fail(store_rdb_in_t *r, const char *fmt, ...)
{
    char     msg[400];
    va_list  ap;

    if (r->failed) {
        return OB_ERR;
    }
    r->failed = 1;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return ob_err_set(r->err, "Bad RDB file: %s (at byte offset %llu)", msg,
                      (unsigned long long) r->offset);
}


static int
store_rdb_fill(store_rdb_in_t *r)
{
    ssize_t  n;

    r->pos = 0;
    r->len = 0;
    for ( ;; ) {
        n = read(r->fd, r->buf, r->cap);
        if (n > 0) {
            r->len = (size_t) n;
            return OB_OK;
        }
        if (n == 0) {
            return store_rdb_in_fail(r, "unexpected end of file (the RDB "
                                     "is truncated)");
        }
        if (errno != EINTR) {
            return store_rdb_in_fail(r, "read error: %s", strerror(errno));
        }
    }
}


int
store_rdb_get(store_rdb_in_t *r, void *p, size_t n)
{
    uint8_t  *d = p;
    size_t    k;

    if (r->failed) {
        return OB_ERR;
    }
    while (n > 0) {
        if (r->pos == r->len && store_rdb_fill(r) != OB_OK) {
            return OB_ERR;
        }
        k = OB_MIN(n, r->len - r->pos);
        memcpy(d, r->buf + r->pos, k);
        r->crc = store_crc64(r->crc, d, k);
        r->pos += k;
        r->offset += k;
        d += k;
        n -= k;
    }
    return OB_OK;
}


int
store_rdb_get_byte(store_rdb_in_t *r, uint8_t *b)
{
    return store_rdb_get(r, b, 1);
}


int
store_rdb_get_len(store_rdb_in_t *r, uint64_t *len, int *encoded)
{
    uint8_t  b[9];
    int      i;

    if (encoded != NULL) {
        *encoded = 0;
    }
    if (store_rdb_get(r, b, 1) != OB_OK) {
        return OB_ERR;
    }
    switch (b[0] >> 6) {
    case 0:
        *len = b[0] & 0x3F;
        return OB_OK;
    case 1:
        if (store_rdb_get(r, b + 1, 1) != OB_OK) {
            return OB_ERR;
        }
        *len = ((uint64_t) (b[0] & 0x3F) << 8) | b[1];
        return OB_OK;
    case 3:
        if (encoded == NULL) {
            return store_rdb_in_fail(r, "a string encoding (0x%02x) where "
                                     "a length was expected", b[0]);
        }
        *encoded = 1;
        *len = b[0] & 0x3F;
        return OB_OK;
    default:
        break;
    }
    if (b[0] == 0x80) {
        if (store_rdb_get(r, b + 1, 4) != OB_OK) {
            return OB_ERR;
        }
        *len = 0;
        for (i = 1; i <= 4; i++) {
            *len = (*len << 8) | b[i];
        }
        return OB_OK;
    }
    if (b[0] == 0x81) {
        if (store_rdb_get(r, b + 1, 8) != OB_OK) {
            return OB_ERR;
        }
        *len = 0;
        for (i = 1; i <= 8; i++) {
            *len = (*len << 8) | b[i];
        }
        return OB_OK;
    }
    return store_rdb_in_fail(r, "unknown length encoding 0x%02x", b[0]);
}


/* n bytes of the file into a new malloc'd buffer (one more byte, a NUL,
 * for strtod), grown as they arrive: see the top of the file. */
static int
store_rdb_get_alloc(store_rdb_in_t *r, uint64_t n, uint8_t **out)
{
    uint8_t  *buf, *nb;
    size_t    cap, got, k;

    *out = NULL;
    if (n > UINT32_MAX) {
        return store_rdb_in_fail(r, "a string of %llu bytes (more than "
                                 "4 GiB)", (unsigned long long) n);
    }
    cap = (size_t) OB_MIN(n, STORE_RDB_STR_STEP);
    buf = malloc(cap + 1);
    if (buf == NULL) {
        return store_rdb_in_fail(r, "out of memory for a string of %llu "
                                 "bytes", (unsigned long long) n);
    }
    got = 0;
    while (got < n) {
        if (got == cap) {
            cap = (size_t) OB_MIN(n, (uint64_t) cap * 2);
            nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                free(buf);
                return store_rdb_in_fail(r, "out of memory for a string of "
                                         "%llu bytes", (unsigned long long) n);
            }
            buf = nb;
        }
        k = cap - got;
        if (store_rdb_get(r, buf + got, k) != OB_OK) {
            free(buf);
            return OB_ERR;
        }
        got += k;
    }
    buf[n] = '\0';
    *out = buf;
    return OB_OK;
}


static int
store_rdb_get_lzf(store_rdb_in_t *r, uint8_t **out, size_t *n)
{
    uint64_t       clen, ulen;
    uint8_t       *c, *u;
    unsigned int   got;

    if (store_rdb_get_len(r, &clen, NULL) != OB_OK
        || store_rdb_get_len(r, &ulen, NULL) != OB_OK)
    {
        return OB_ERR;
    }
    if (clen == 0 || ulen == 0 || ulen > UINT32_MAX
        || ulen / STORE_RDB_LZF_RATIO > clen)
    {
        return store_rdb_in_fail(r, "implausible LZF string (%llu bytes "
                                 "compressed, %llu expanded)",
                                 (unsigned long long) clen,
                                 (unsigned long long) ulen);
    }
    if (store_rdb_get_alloc(r, clen, &c) != OB_OK) {
        return OB_ERR;
    }
    u = malloc(ulen + 1);
    if (u == NULL) {
        free(c);
        return store_rdb_in_fail(r, "out of memory for an LZF string of "
                                 "%llu bytes", (unsigned long long) ulen);
    }
    got = lzf_decompress(c, (unsigned int) clen, u, (unsigned int) ulen);
    free(c);
    if (got != ulen) {
        free(u);
        return store_rdb_in_fail(r, "Invalid LZF compressed string");
    }
    u[ulen] = '\0';
    *out = u;
    *n = (size_t) ulen;
    return OB_OK;
}


int
store_rdb_get_string(store_rdb_in_t *r, uint8_t **out, size_t *n)
{
    uint64_t  len;
    uint8_t   b[4];
    int64_t   v;
    int       enc, k;
    char      num[STORE_OBJ_INTBUF];

    *out = NULL;
    *n = 0;
    if (store_rdb_get_len(r, &len, &enc) != OB_OK) {
        return OB_ERR;
    }
    if (!enc) {
        *n = (size_t) len;
        return store_rdb_get_alloc(r, len, out);
    }
    switch (len) {
    case 0:     /* C0 int8 */
        if (store_rdb_get(r, b, 1) != OB_OK) {
            return OB_ERR;
        }
        v = (int8_t) b[0];
        break;
    case 1:     /* C1 int16 LE */
        if (store_rdb_get(r, b, 2) != OB_OK) {
            return OB_ERR;
        }
        v = (int16_t) (b[0] | (b[1] << 8));
        break;
    case 2:     /* C2 int32 LE */
        if (store_rdb_get(r, b, 4) != OB_OK) {
            return OB_ERR;
        }
        v = (int32_t) ((uint32_t) b[0] | ((uint32_t) b[1] << 8)
                       | ((uint32_t) b[2] << 16) | ((uint32_t) b[3] << 24));
        break;
    case 3:     /* C3 LZF */
        return store_rdb_get_lzf(r, out, n);
    default:
        return store_rdb_in_fail(r, "unknown string encoding 0x%02x",
                                 (unsigned) (0xC0 | len));
    }
    k = snprintf(num, sizeof(num), "%lld", (long long) v);
    *out = malloc((size_t) k + 1);
    if (*out == NULL) {
        return store_rdb_in_fail(r, "out of memory");
    }
    memcpy(*out, num, (size_t) k + 1);
    *n = (size_t) k;
    return OB_OK;
}


int
store_rdb_get_u64le(store_rdb_in_t *r, uint64_t *v)
{
    uint8_t  b[8];
    int      i;

    if (store_rdb_get(r, b, 8) != OB_OK) {
        return OB_ERR;
    }
    *v = 0;
    for (i = 7; i >= 0; i--) {
        *v = (*v << 8) | b[i];
    }
    return OB_OK;
}


int
store_rdb_get_double(store_rdb_in_t *r, double *v)
{
    uint64_t  u;

    if (store_rdb_get_u64le(r, &u) != OB_OK) {
        return OB_ERR;
    }
    memcpy(v, &u, sizeof(*v));
    return OB_OK;
}


/* Type 3's score: a length byte (or NaN/+inf/-inf) and the text. */
static int
store_rdb_get_text_double(store_rdb_in_t *r, double *v)
{
    uint8_t  len;
    char     buf[256], *end;

    if (store_rdb_get_byte(r, &len) != OB_OK) {
        return OB_ERR;
    }
    switch (len) {
    case STORE_RDB_DBL_NAN:
        *v = NAN;
        return OB_OK;
    case STORE_RDB_DBL_POSINF:
        *v = INFINITY;
        return OB_OK;
    case STORE_RDB_DBL_NEGINF:
        *v = -INFINITY;
        return OB_OK;
    default:
        break;
    }
    if (store_rdb_get(r, buf, len) != OB_OK) {
        return OB_ERR;
    }
    buf[len] = '\0';
    errno = 0;
    *v = strtod(buf, &end);
    if (len == 0 || end != buf + len) {
        return store_rdb_in_fail(r, "a zset score that is not a number");
    }
    return OB_OK;
}


/* ---- blob walkers ----------------------------------------------------------
 *
 * One iterator over the three packed formats: each step checks the bytes
 * it reads against the blob's size and gives one element as bytes (an
 * integer written into the caller's buffer).  A listpack is validated
 * whole first (store_lp_validate, deep) and then walked with the
 * listpack API; a ziplist and a zipmap are checked as they are walked,
 * their headers against what the walk found at the end.
 */

typedef enum {
    STORE_BLOB_LISTPACK,
    STORE_BLOB_ZIPLIST,
    STORE_BLOB_ZIPMAP
} store_blob_kind_t;

typedef struct store_blob_it_s {
    store_rdb_in_t     *r;
    store_blob_kind_t   kind;
    const uint8_t      *p;
    size_t              size;
    size_t              off;        /* the next entry (listpack: pos) */
    size_t              count;      /* entries given so far */
    size_t              prev;       /* ziplist: the last entry's size */
    size_t              last;       /* ziplist: the last entry's offset */
    int                 zm_value;   /* zipmap: the next one is a value */
    const char         *what;       /* for messages */
} store_blob_it_t;

#define STORE_BLOB_BUF  STORE_OBJ_INTBUF


static uint32_t
store_rdb_le32(const uint8_t *p)
{
    return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16)
           | ((uint32_t) p[3] << 24);
}


static int
store_blob_bad(store_blob_it_t *it)
{
    return store_rdb_in_fail(it->r, "%s integrity check failed", it->what);
}


static int
store_blob_init(store_blob_it_t *it, store_rdb_in_t *r,
    store_blob_kind_t kind, const uint8_t *p, size_t size, const char *what)
{
    memset(it, 0, sizeof(*it));
    it->r = r;
    it->kind = kind;
    it->p = p;
    it->size = size;
    it->what = what;

    switch (kind) {
    case STORE_BLOB_LISTPACK:
        if (!store_lp_validate(p, size, 1)) {
            return store_blob_bad(it);
        }
        it->off = store_lp_first(p);
        return OB_OK;
    case STORE_BLOB_ZIPLIST:
        if (size < STORE_ZL_HDR + 1 || store_rdb_le32(p) != size
            || p[size - 1] != STORE_ZL_END)
        {
            return store_blob_bad(it);
        }
        it->off = STORE_ZL_HDR;
        it->last = STORE_ZL_HDR;
        return OB_OK;
    case STORE_BLOB_ZIPMAP:
        if (size < 2 || p[size - 1] != STORE_ZM_END) {
            return store_blob_bad(it);
        }
        it->off = 1;
        return OB_OK;
    }
    return store_blob_bad(it);
}


/* The end of a ziplist: its header's tail offset and count must be what
 * the walk found. */
static int
store_zl_end(store_blob_it_t *it)
{
    uint32_t  tail = store_rdb_le32(it->p + 4);
    unsigned  n = it->p[8] | (it->p[9] << 8);

    if (tail != it->last
        || (n != STORE_ZL_LEN_UNKNOWN && n != it->count))
    {
        return store_blob_bad(it);
    }
    return 0;
}


static int
store_zl_next(store_blob_it_t *it, char buf[STORE_BLOB_BUF],
    const uint8_t **s, size_t *len)
{
    const uint8_t  *p = it->p;
    size_t          off = it->off, end = it->size - 1, avail, ph, hl, dl;
    uint64_t        prevlen, sl;
    int64_t         v;
    uint8_t         e;

    if (off == end) {
        return store_zl_end(it);
    }
    avail = end - off;

    /* prevlen: 1 byte, or 0xFE and 4 bytes LE */
    if (p[off] < STORE_ZL_BIGLEN) {
        prevlen = p[off];
        ph = 1;
    } else if (p[off] == STORE_ZL_BIGLEN && avail >= 5) {
        prevlen = store_rdb_le32(p + off + 1);
        ph = 5;
    } else {
        return store_blob_bad(it);
    }
    if (prevlen != it->prev || avail < ph + 1) {
        return store_blob_bad(it);
    }
    e = p[off + ph];
    hl = 1;
    dl = 0;
    sl = 0;
    switch (e >> 6) {
    case 0:
        sl = e & 0x3F;
        break;
    case 1:
        if (avail < ph + 2) {
            return store_blob_bad(it);
        }
        hl = 2;
        sl = ((uint64_t) (e & 0x3F) << 8) | p[off + ph + 1];
        break;
    case 2:
        if (e != 0x80 || avail < ph + 5) {
            return store_blob_bad(it);
        }
        hl = 5;
        sl = ((uint64_t) p[off + ph + 1] << 24)
             | ((uint64_t) p[off + ph + 2] << 16)
             | ((uint64_t) p[off + ph + 3] << 8) | p[off + ph + 4];
        break;
    default:
        switch (e) {
        case 0xC0: dl = 2; break;
        case 0xD0: dl = 4; break;
        case 0xE0: dl = 8; break;
        case 0xF0: dl = 3; break;
        case 0xFE: dl = 1; break;
        default:
            if (e < 0xF1 || e > 0xFD) {
                return store_blob_bad(it);
            }
            dl = 0;
        }
        break;
    }
    if ((e >> 6) != 3) {
        if (sl > avail - ph - hl) {
            return store_blob_bad(it);
        }
        *s = p + off + ph + hl;
        *len = (size_t) sl;
        dl = (size_t) sl;
    } else {
        if (dl > avail - ph - hl) {
            return store_blob_bad(it);
        }
        const uint8_t *d = p + off + ph + hl;
        switch (e) {
        case 0xC0: v = (int16_t) (d[0] | (d[1] << 8)); break;
        case 0xD0: v = (int32_t) store_rdb_le32(d); break;
        case 0xE0:
            v = (int64_t) ((uint64_t) store_rdb_le32(d)
                           | ((uint64_t) store_rdb_le32(d + 4) << 32));
            break;
        case 0xF0:
            /* int24: the sign is bit 23 */
            v = (int32_t) (((uint32_t) d[0] << 8) | ((uint32_t) d[1] << 16)
                           | ((uint32_t) d[2] << 24)) >> 8;
            break;
        case 0xFE: v = (int8_t) d[0]; break;
        default:   v = (e & 0x0F) - 1; break;
        }
        *len = (size_t) snprintf(buf, STORE_BLOB_BUF, "%lld", (long long) v);
        *s = (const uint8_t *) buf;
    }
    it->last = off;
    it->prev = ph + hl + dl;
    it->off = off + it->prev;
    it->count++;
    return 1;
}


/* zipmap's lengths: 1 byte below 254, else 254 and 4 bytes (LE) */
static int
store_zm_len(store_blob_it_t *it, size_t *off, uint64_t *len)
{
    size_t  end = it->size - 1;

    if (*off >= end) {
        return OB_ERR;
    }
    if (it->p[*off] < STORE_ZM_BIGLEN) {
        *len = it->p[(*off)++];
        return OB_OK;
    }
    if (it->p[*off] != STORE_ZM_BIGLEN || end - *off < 5) {
        return OB_ERR;
    }
    *len = store_rdb_le32(it->p + *off + 1);
    *off += 5;
    return OB_OK;
}


static int
store_zm_next(store_blob_it_t *it, const uint8_t **s, size_t *len)
{
    size_t    off = it->off, end = it->size - 1;
    uint64_t  l;
    unsigned  free_b = 0;

    if (off == end) {
        /* a key without its value, or a count that disagrees (the
         * header counts below 254 only) */
        if (it->zm_value
            || (it->p[0] < STORE_ZM_BIGLEN && it->p[0] != it->count / 2))
        {
            return store_blob_bad(it);
        }
        return 0;
    }
    if (store_zm_len(it, &off, &l) != OB_OK) {
        return store_blob_bad(it);
    }
    if (it->zm_value) {
        /* a value has one byte of trailing free space count after its
         * length */
        if (off >= end) {
            return store_blob_bad(it);
        }
        free_b = it->p[off++];
    }
    if (l > end - off || free_b > end - off - l) {
        return store_blob_bad(it);
    }
    *s = it->p + off;
    *len = (size_t) l;
    it->off = off + l + free_b;
    it->zm_value = !it->zm_value;
    it->count++;
    return 1;
}


/* The next element: 1 given, 0 at the end, OB_ERR corrupt (recorded). */
static int
store_blob_next(store_blob_it_t *it, char buf[STORE_BLOB_BUF],
    const uint8_t **s, size_t *len)
{
    switch (it->kind) {
    case STORE_BLOB_LISTPACK:
        if (it->off == 0) {
            return 0;
        }
        *s = store_lp_get_str(it->p, it->off, buf, len);
        it->off = store_lp_next(it->p, it->off);
        it->count++;
        return 1;
    case STORE_BLOB_ZIPLIST:
        return store_zl_next(it, buf, s, len);
    case STORE_BLOB_ZIPMAP:
        return store_zm_next(it, s, len);
    }
    return OB_ERR;
}


/* ---- building values --------------------------------------------------- */

static void
store_rdb_drop(store_rdb_in_t *r, store_obj_t *o)
{
    if (o != NULL) {
        store_obj_free(r->arena, r->owner, o);
    }
}


static int
store_rdb_oom(store_rdb_in_t *r)
{
    return store_rdb_in_fail(r, "out of memory (maxmemory) loading a value");
}


static int
store_rdb_list_add(store_rdb_in_t *r, store_obj_t *o, const void *s,
    size_t len)
{
    if (store_list_push(r->arena, r->owner, store_list_of(o), s, len,
                        STORE_LIST_TAIL) != OB_OK)
    {
        return store_rdb_oom(r);
    }
    return OB_OK;
}


static int
store_rdb_hash_add(store_rdb_in_t *r, store_obj_t *o, const void *f,
    size_t nf, const void *v, size_t nv)
{
    int  rc;

    rc = store_hash_set(r->arena, r->owner, o, f, nf, v, nv,
                        STORE_HASH_SET_NX);
    if (rc == 1) {
        return OB_OK;
    }
    if (rc == 0) {
        return store_rdb_in_fail(r, "Duplicate hash fields detected");
    }
    return store_rdb_oom(r);
}


static int
store_rdb_zset_add(store_rdb_in_t *r, store_obj_t *o, const void *m,
    size_t nm, double score)
{
    int  flags = 0;

    if (isnan(score)) {
        return store_rdb_in_fail(r, "Zset with NAN score detected");
    }
    if (store_zset_add(r->arena, r->owner, o, score, m, nm, STORE_ZADD_NX,
                       &flags, NULL) != OB_OK)
    {
        return store_rdb_oom(r);
    }
    if (!(flags & STORE_ZADD_ADDED)) {
        return store_rdb_in_fail(r, "Duplicate zset fields detected");
    }
    return OB_OK;
}


/* A score stored as a packed entry's text (listpack, ziplist). */
static int
store_rdb_score(store_rdb_in_t *r, const uint8_t *s, size_t len, double *d)
{
    char   buf[STORE_RDB_SCORE_MAX + 1], *end;

    if (len == 0 || len > STORE_RDB_SCORE_MAX) {
        return store_rdb_in_fail(r, "a zset score that is not a number");
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    *d = strtod(buf, &end);
    if (end != buf + len) {
        return store_rdb_in_fail(r, "a zset score that is not a number");
    }
    return OB_OK;
}


/*
 * The elements of a packed blob into o: a list's elements, a hash's
 * field-value pairs, a zset's member-score pairs.  OB_OK, OB_ERR (the
 * error is recorded; o is the caller's to free).
 */
static int
store_rdb_blob_into(store_rdb_in_t *r, store_obj_t *o, store_blob_kind_t kind,
    const uint8_t *p, size_t size, const char *what)
{
    store_blob_it_t   it;
    char              b1[STORE_BLOB_BUF], b2[STORE_BLOB_BUF];
    const uint8_t    *s1, *s2;
    size_t            l1, l2;
    double            score = 0;
    int               rc;

    if (store_blob_init(&it, r, kind, p, size, what) != OB_OK) {
        return OB_ERR;
    }
    for ( ;; ) {
        rc = store_blob_next(&it, b1, &s1, &l1);
        if (rc <= 0) {
            return rc == 0 ? OB_OK : OB_ERR;
        }
        if (o->type == STORE_OBJ_LIST) {
            if (store_rdb_list_add(r, o, s1, l1) != OB_OK) {
                return OB_ERR;
            }
            continue;
        }
        rc = store_blob_next(&it, b2, &s2, &l2);
        if (rc <= 0) {
            return rc == 0 ? store_blob_bad(&it) : OB_ERR;   /* odd count */
        }
        if (o->type == STORE_OBJ_HASH) {
            rc = store_rdb_hash_add(r, o, s1, l1, s2, l2);
        } else {
            rc = store_rdb_score(r, s2, l2, &score);
            if (rc == OB_OK) {
                rc = store_rdb_zset_add(r, o, s1, l1, score);
            }
        }
        if (rc != OB_OK) {
            return OB_ERR;
        }
    }
}


/* A new empty object of the type a blob or a count will fill. */
static store_obj_t *
store_rdb_new(store_rdb_in_t *r, store_obj_type_t type, uint64_t n)
{
    store_obj_t  *o;

    switch (type) {
    case STORE_OBJ_LIST:
        o = store_list_obj_new(r->arena, r->owner);
        break;
    case STORE_OBJ_HASH:
        o = store_hash_new(r->arena, r->owner);
        if (o != NULL && n > STORE_HASH_LP_ENTRIES
            && store_hash_convert(r->arena, r->owner, o) != OB_OK)
        {
            store_rdb_drop(r, o);
            o = NULL;
        }
        break;
    case STORE_OBJ_SET:
        o = store_set_new(r->arena, r->owner,
                          n <= STORE_SET_MAX_INTSET_ENTRIES);
        break;
    case STORE_OBJ_ZSET:
        o = store_zset_new(r->arena, r->owner, (size_t) n, 0);
        break;
    default:
        o = NULL;
    }
    if (o == NULL) {
        (void) store_rdb_oom(r);
    }
    return o;
}


/* The size of an aggregate's value: what store_rdb_load_value checks to
 * skip an empty one. */
static size_t
store_rdb_obj_len(const store_obj_t *o)
{
    switch (o->type) {
    case STORE_OBJ_LIST:
        return store_list_len(store_list_of(o));
    case STORE_OBJ_HASH:
        return store_hash_len(o);
    case STORE_OBJ_SET:
        return store_set_size(o);
    case STORE_OBJ_ZSET:
        return store_zset_len(o);
    default:
        return 1;
    }
}


/* Types 1, 2, 3, 4, 5: a count, then each element as strings. */
static store_obj_t *
store_rdb_load_counted(store_rdb_in_t *r, int type)
{
    static const store_obj_type_t  of[] = {
        [STORE_RDB_TYPE_LIST] = STORE_OBJ_LIST,
        [STORE_RDB_TYPE_SET] = STORE_OBJ_SET,
        [STORE_RDB_TYPE_ZSET] = STORE_OBJ_ZSET,
        [STORE_RDB_TYPE_HASH] = STORE_OBJ_HASH,
        [STORE_RDB_TYPE_ZSET_2] = STORE_OBJ_ZSET
    };
    store_obj_t  *o;
    uint64_t      n, i;
    uint8_t      *a = NULL, *b = NULL;
    size_t        na, nb;
    double        score;
    int           rc, added;

    if (store_rdb_get_len(r, &n, NULL) != OB_OK) {
        return NULL;
    }
    o = store_rdb_new(r, of[type], n);
    if (o == NULL) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (store_rdb_get_string(r, &a, &na) != OB_OK) {
            goto fail;
        }
        switch (type) {
        case STORE_RDB_TYPE_LIST:
            rc = store_rdb_list_add(r, o, a, na);
            break;
        case STORE_RDB_TYPE_SET:
            if (store_set_add(r->arena, r->owner, o, a, na, &added)
                != OB_OK)
            {
                rc = store_rdb_oom(r);
            } else if (!added) {
                rc = store_rdb_in_fail(r, "Duplicate set members detected");
            } else {
                rc = OB_OK;
            }
            break;
        case STORE_RDB_TYPE_HASH:
            rc = store_rdb_get_string(r, &b, &nb);
            if (rc == OB_OK) {
                rc = store_rdb_hash_add(r, o, a, na, b, nb);
            }
            free(b);
            b = NULL;
            break;
        default:    /* ZSET, ZSET_2 */
            rc = type == STORE_RDB_TYPE_ZSET
                 ? store_rdb_get_text_double(r, &score)
                 : store_rdb_get_double(r, &score);
            if (rc == OB_OK) {
                rc = store_rdb_zset_add(r, o, a, na, score);
            }
            break;
        }
        free(a);
        a = NULL;
        if (rc != OB_OK) {
            goto fail;
        }
    }
    return o;

fail:
    free(a);
    store_rdb_drop(r, o);
    return NULL;
}


/* Types 9-13, 16, 17: one string holding a blob. */
static store_obj_t *
store_rdb_load_blob(store_rdb_in_t *r, int type)
{
    store_obj_t        *o = NULL;
    uint8_t            *p;
    size_t              n;
    int                 bad, rc;

    if (store_rdb_get_string(r, &p, &n) != OB_OK) {
        return NULL;
    }
    switch (type) {
    case STORE_RDB_TYPE_SET_INTSET:
        o = store_set_from_intset_blob(r->arena, r->owner, p, n, &bad);
        if (o == NULL) {
            if (bad) {
                (void) store_rdb_in_fail(r, "Intset integrity check failed");
            } else {
                (void) store_rdb_oom(r);
            }
        }
        free(p);
        return o;
    case STORE_RDB_TYPE_HASH_ZIPMAP:
        o = store_rdb_new(r, STORE_OBJ_HASH, 0);
        rc = o == NULL ? OB_ERR
             : store_rdb_blob_into(r, o, STORE_BLOB_ZIPMAP, p, n, "Zipmap");
        break;
    case STORE_RDB_TYPE_LIST_ZIPLIST:
        o = store_rdb_new(r, STORE_OBJ_LIST, 0);
        rc = o == NULL ? OB_ERR
             : store_rdb_blob_into(r, o, STORE_BLOB_ZIPLIST, p, n,
                                   "List ziplist");
        break;
    case STORE_RDB_TYPE_ZSET_ZIPLIST:
        o = store_rdb_new(r, STORE_OBJ_ZSET, 0);
        rc = o == NULL ? OB_ERR
             : store_rdb_blob_into(r, o, STORE_BLOB_ZIPLIST, p, n,
                                   "Zset ziplist");
        break;
    case STORE_RDB_TYPE_HASH_ZIPLIST:
        o = store_rdb_new(r, STORE_OBJ_HASH, 0);
        rc = o == NULL ? OB_ERR
             : store_rdb_blob_into(r, o, STORE_BLOB_ZIPLIST, p, n,
                                   "Hash ziplist");
        break;
    case STORE_RDB_TYPE_HASH_LISTPACK:
        o = store_rdb_new(r, STORE_OBJ_HASH, 0);
        rc = o == NULL ? OB_ERR
             : store_rdb_blob_into(r, o, STORE_BLOB_LISTPACK, p, n,
                                   "Hash listpack");
        break;
    default:    /* ZSET_LISTPACK */
        o = store_rdb_new(r, STORE_OBJ_ZSET, 0);
        rc = o == NULL ? OB_ERR
             : store_rdb_blob_into(r, o, STORE_BLOB_LISTPACK, p, n,
                                   "Zset listpack");
        break;
    }
    free(p);
    if (rc != OB_OK) {
        store_rdb_drop(r, o);
        return NULL;
    }
    return o;
}


/* Types 14 and 18: quicklist nodes.  14's are ziplists; 18's have a
 * container each: PLAIN (one element) or PACKED (a listpack). */
static store_obj_t *
store_rdb_load_quicklist(store_rdb_in_t *r, int type)
{
    store_obj_t  *o;
    uint64_t      nodes, i, container = STORE_RDB_QL_PACKED;
    uint8_t      *p;
    size_t        n;
    int           rc;

    if (store_rdb_get_len(r, &nodes, NULL) != OB_OK) {
        return NULL;
    }
    o = store_rdb_new(r, STORE_OBJ_LIST, 0);
    if (o == NULL) {
        return NULL;
    }
    for (i = 0; i < nodes; i++) {
        if (type == STORE_RDB_TYPE_LIST_QUICKLIST_2) {
            if (store_rdb_get_len(r, &container, NULL) != OB_OK) {
                goto fail;
            }
            if (container != STORE_RDB_QL_PLAIN
                && container != STORE_RDB_QL_PACKED)
            {
                (void) store_rdb_in_fail(r, "Quicklist integrity check "
                                         "failed: unknown container %llu",
                                         (unsigned long long) container);
                goto fail;
            }
        }
        if (store_rdb_get_string(r, &p, &n) != OB_OK) {
            goto fail;
        }
        if (container == STORE_RDB_QL_PLAIN) {
            rc = store_rdb_list_add(r, o, p, n);
        } else if (type == STORE_RDB_TYPE_LIST_QUICKLIST) {
            rc = store_rdb_blob_into(r, o, STORE_BLOB_ZIPLIST, p, n,
                                     "Ziplist");
        } else {
            rc = store_rdb_blob_into(r, o, STORE_BLOB_LISTPACK, p, n,
                                     "Listpack");
        }
        free(p);
        if (rc != OB_OK) {
            goto fail;
        }
    }
    return o;

fail:
    store_rdb_drop(r, o);
    return NULL;
}


/*
 * rdbLoadObject: the value of type `type`, a new object in r->arena; NULL
 * with r->failed set on an error, NULL without it for an empty aggregate
 * (Redis skips those keys).
 */
static store_obj_t *
store_rdb_load_value(store_rdb_in_t *r, int type)
{
    store_obj_t  *o;
    uint8_t      *p;
    size_t        n;

    switch (type) {
    case STORE_RDB_TYPE_STRING:
        if (store_rdb_get_string(r, &p, &n) != OB_OK) {
            return NULL;
        }
        o = store_obj_string_new(r->arena, r->owner, p, n);
        free(p);
        if (o == NULL) {
            (void) store_rdb_oom(r);
        }
        return o;
    case STORE_RDB_TYPE_LIST:
    case STORE_RDB_TYPE_SET:
    case STORE_RDB_TYPE_ZSET:
    case STORE_RDB_TYPE_HASH:
    case STORE_RDB_TYPE_ZSET_2:
        o = store_rdb_load_counted(r, type);
        break;
    case STORE_RDB_TYPE_HASH_ZIPMAP:
    case STORE_RDB_TYPE_LIST_ZIPLIST:
    case STORE_RDB_TYPE_SET_INTSET:
    case STORE_RDB_TYPE_ZSET_ZIPLIST:
    case STORE_RDB_TYPE_HASH_ZIPLIST:
    case STORE_RDB_TYPE_HASH_LISTPACK:
    case STORE_RDB_TYPE_ZSET_LISTPACK:
        o = store_rdb_load_blob(r, type);
        break;
    case STORE_RDB_TYPE_LIST_QUICKLIST:
    case STORE_RDB_TYPE_LIST_QUICKLIST_2:
        o = store_rdb_load_quicklist(r, type);
        break;
    case STORE_RDB_TYPE_STREAM_LISTPACKS:
    case STORE_RDB_TYPE_STREAM_LISTPACKS_2:
        return store_rdb_load_stream(r, type);
    case STORE_RDB_TYPE_MODULE:
    case STORE_RDB_TYPE_MODULE_2:
        (void) store_rdb_in_fail(r, "module values (type %d) are not "
                                 "supported", type);
        return NULL;
    default:
        (void) store_rdb_in_fail(r, "Unknown RDB value type %d", type);
        return NULL;
    }
    if (o != NULL && store_rdb_obj_len(o) == 0) {
        store_rdb_drop(r, o);
        return NULL;
    }
    return o;
}


/* ---- the file ------------------------------------------------------------ */

/* What a key's opcodes said before its type byte. */
typedef struct store_rdb_key_opts_s {
    int64_t   expire;           /* -1 none */
    int64_t   idle;             /* -1 none */
    int       freq;             /* -1 none */
} store_rdb_key_opts_t;


static int
store_rdb_aux(store_rdb_in_t *r, store_rdb_load_info_t *info)
{
    uint8_t  *k, *v;
    size_t    nk, nv;

    if (store_rdb_get_string(r, &k, &nk) != OB_OK) {
        return OB_ERR;
    }
    if (store_rdb_get_string(r, &v, &nv) != OB_OK) {
        free(k);
        return OB_ERR;
    }
    /* both are NUL-terminated by the reader */
    if (strcmp((char *) k, "repl-id") == 0 && nv == 40) {
        memcpy(info->repl_id, v, 41);
        info->has_repl = 1;
    } else if (strcmp((char *) k, "repl-offset") == 0) {
        info->repl_offset = strtoll((char *) v, NULL, 10);
    } else if (strcmp((char *) k, "repl-stream-db") == 0) {
        info->repl_stream_db = atoi((char *) v);
    } else if (strcmp((char *) k, "aof-base") == 0) {
        info->aof_base = strcmp((char *) v, "1") == 0;
    }
    free(k);
    free(v);
    return OB_OK;
}


/* A key and its value into db, by the opcodes that came before it. */
static int
store_rdb_load_key(store_rdb_in_t *r, store_db_t *db, int type,
    const store_rdb_key_opts_t *ko, const store_rdb_load_opts_t *o,
    store_rdb_load_info_t *info)
{
    store_obj_t  *val;
    uint8_t      *key;
    size_t        nkey;
    uint64_t      at = r->offset;

    if (store_rdb_get_string(r, &key, &nkey) != OB_OK) {
        return OB_ERR;
    }
    val = store_rdb_load_value(r, type);
    if (val == NULL) {
        free(key);
        return r->failed ? OB_ERR : OB_OK;     /* empty: skipped */
    }
    if (ob_hash_find(&db->ks->keys, key, nkey) != NULL) {
        store_rdb_drop(r, val);
        (void) store_rdb_in_fail(r, "Duplicate key '%.*s' (at %llu) in "
                                 "db %d", (int) OB_MIN(nkey, 128), key,
                                 (unsigned long long) at, db->id);
        free(key);
        return OB_ERR;
    }
    if (o->drop_expired && ko->expire != -1 && ko->expire < o->now_ms) {
        store_rdb_drop(r, val);
        free(key);
        info->st.expired++;
        return OB_OK;
    }
    if (store_db_set(db, key, nkey, val, 0, o->now_ms) != OB_OK) {
        store_rdb_drop(r, val);
        free(key);
        return store_rdb_oom(r);
    }
    if (ko->expire != -1
        && store_db_expire_set(db, key, nkey, ko->expire, o->now_ms)
           != OB_OK)
    {
        free(key);
        return store_rdb_oom(r);
    }
    free(key);

    /* objectSetLRUOrLFU: FREQ counts under an LFU policy, IDLE otherwise */
    if (db->dbs->lfu) {
        if (ko->freq >= 0) {
            val->lru = ((((unsigned) (o->now_ms / 60000)) & 0xFFFF) << 8)
                       | (unsigned) ko->freq;
        }
    } else if (ko->idle >= 0) {
        val->lru = (store_lru_clock(o->now_ms) - (unsigned) ko->idle)
                   & STORE_LRU_MAX;
    }
    info->st.keys++;
    return OB_OK;
}


static int
store_rdb_load_body(store_rdb_in_t *r, store_dbs_t *dbs,
    const store_rdb_load_opts_t *o, store_rdb_load_info_t *info)
{
    store_rdb_key_opts_t  ko = { -1, -1, -1 };
    store_db_t           *db = store_dbs_db(dbs, 0);
    uint8_t               hdr[9], t, b[4];
    uint64_t              v, v2, crc, stored;
    int                   ver, i;

    if (store_rdb_get(r, hdr, 9) != OB_OK) {
        return OB_ERR;
    }
    if (memcmp(hdr, "REDIS", 5) != 0) {
        return store_rdb_in_fail(r, "Wrong signature trying to load DB "
                                 "from file");
    }
    ver = 0;
    for (i = 5; i < 9; i++) {
        if (hdr[i] < '0' || hdr[i] > '9') {
            return store_rdb_in_fail(r, "Wrong signature trying to load DB "
                                     "from file");
        }
        ver = ver * 10 + (hdr[i] - '0');
    }
    if (ver < 1 || ver > STORE_RDB_VERSION) {
        return store_rdb_in_fail(r, "Can't handle RDB format version %d",
                                 ver);
    }

    for ( ;; ) {
        if (store_rdb_get_byte(r, &t) != OB_OK) {
            return OB_ERR;
        }
        switch (t) {
        case STORE_RDB_OP_EXPIRETIME:
            if (store_rdb_get(r, b, 4) != OB_OK) {
                return OB_ERR;
            }
            ko.expire = (int64_t) (int32_t) store_rdb_le32(b) * 1000;
            continue;
        case STORE_RDB_OP_EXPIRETIME_MS:
            if (store_rdb_get_u64le(r, &v) != OB_OK) {
                return OB_ERR;
            }
            ko.expire = (int64_t) v;
            continue;
        case STORE_RDB_OP_FREQ:
            if (store_rdb_get_byte(r, b) != OB_OK) {
                return OB_ERR;
            }
            ko.freq = b[0];
            continue;
        case STORE_RDB_OP_IDLE:
            if (store_rdb_get_len(r, &v, NULL) != OB_OK) {
                return OB_ERR;
            }
            ko.idle = (int64_t) OB_MIN(v, (uint64_t) STORE_LRU_MAX);
            continue;
        case STORE_RDB_OP_EOF:
            break;
        case STORE_RDB_OP_SELECTDB:
            if (store_rdb_get_len(r, &v, NULL) != OB_OK) {
                return OB_ERR;
            }
            if (v >= (uint64_t) dbs->ndb) {
                return store_rdb_in_fail(r, "the file has keys in database "
                                         "%llu, the server has %d "
                                         "databases",
                                         (unsigned long long) v, dbs->ndb);
            }
            db = store_dbs_db(dbs, (int) v);
            continue;
        case STORE_RDB_OP_RESIZEDB:
            if (store_rdb_get_len(r, &v, NULL) != OB_OK
                || store_rdb_get_len(r, &v2, NULL) != OB_OK)
            {
                return OB_ERR;
            }
            continue;
        case STORE_RDB_OP_AUX:
            if (store_rdb_aux(r, info) != OB_OK) {
                return OB_ERR;
            }
            continue;
        case STORE_RDB_OP_MODULE_AUX:
            return store_rdb_in_fail(r, "module data (MODULE_AUX) is not "
                                     "supported");
        case STORE_RDB_OP_FUNCTION:
        case STORE_RDB_OP_FUNCTION2:
            return store_rdb_in_fail(r, "function libraries (FUNCTION "
                                     "LOAD) are not supported");
        default:
            if (store_rdb_load_key(r, db, t, &ko, o, info) != OB_OK) {
                return OB_ERR;
            }
            ko.expire = -1;
            ko.idle = -1;
            ko.freq = -1;
            continue;
        }
        break;      /* EOF */
    }

    /* the checksum covers everything before it, from "REDIS" on */
    if (ver >= 5) {
        crc = r->crc;
        if (store_rdb_get_u64le(r, &stored) != OB_OK) {
            return OB_ERR;
        }
        if (stored != 0 && stored != crc) {
            return store_rdb_in_fail(r, "Wrong RDB checksum expected: "
                                     "(%016llx) but got (%016llx)",
                                     (unsigned long long) stored,
                                     (unsigned long long) crc);
        }
    }
    return OB_OK;
}


int
store_rdb_load_fd(store_dbs_t *dbs, int fd, const store_rdb_load_opts_t *o,
    store_rdb_load_info_t *info, ob_err_t *err)
{
    store_rdb_in_t  r;
    int             rc;

    memset(info, 0, sizeof(*info));
    memset(&r, 0, sizeof(r));
    r.fd = fd;
    r.cap = STORE_RDB_IN_BUF;
    r.err = err;
    r.arena = dbs->arena;
    r.owner = dbs->owner;
    r.buf = malloc(r.cap);
    if (r.buf == NULL) {
        return ob_err_set(err, "Bad RDB file: out of memory for the read "
                          "buffer");
    }
    rc = store_rdb_load_body(&r, dbs, o, info);
    free(r.buf);

    info->consumed = r.offset;
    info->st.bytes = r.offset;
    return rc == OB_OK && !r.failed ? OB_OK : OB_ERR;
}
