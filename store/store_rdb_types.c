/*
 * store_rdb_types.c: the values of an RDB file, as the loader builds them
 * (Redis 7.0's rdbLoadObject, streams aside: store_rdb_stream.c).
 *
 * Every value is rebuilt element by element with the type files' APIs
 * (store_list_push, store_hash_set, store_set_add, store_zset_add), so
 * that the encodings come out as Redis's loader re-picks them by size and
 * nothing from the file is trusted as a structure: a listpack, ziplist,
 * zipmap or intset blob is only ever read through a walker that checks
 * every byte it steps on, and duplicate hash fields, set members and zset
 * members are errors, as redis-check-rdb's deep sanitisation makes them.
 * Element counts are never allocated up front: the loops run into the end
 * of the file first.  Values go to the arena under r->owner.
 */
#include "store_rdb_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_hash.h"
#include "store_list.h"
#include "store_listpack.h"
#include "store_set.h"
#include "store_zset.h"

/* Declared in store_rdb_load.c, its one caller: store_rdb_int.h is the
 * contract the RDB files share with store_rdb_stream.c. */
store_obj_t *store_rdb_load_value(store_rdb_in_t *r, int type);

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
    const uint8_t  *p = it->p, *d;
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
        d = p + off + ph + hl;
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


/* ---- building values ---------------------------------------------------- */

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
    return store_rdb_in_fail(r, "out of memory loading a value: the dataset "
                             "does not fit the memory budget "
                             "(core.memory_mb)");
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


/* The blob types but the intset: what each builds and how its blob is
 * walked, with the name its integrity error gives. */
static const struct {
    int               type;
    store_obj_type_t  obj;
    store_blob_kind_t blob;
    const char       *what;
} store_rdb_blob_types[] = {
    { STORE_RDB_TYPE_HASH_ZIPMAP, STORE_OBJ_HASH, STORE_BLOB_ZIPMAP,
      "Zipmap" },
    { STORE_RDB_TYPE_LIST_ZIPLIST, STORE_OBJ_LIST, STORE_BLOB_ZIPLIST,
      "List ziplist" },
    { STORE_RDB_TYPE_ZSET_ZIPLIST, STORE_OBJ_ZSET, STORE_BLOB_ZIPLIST,
      "Zset ziplist" },
    { STORE_RDB_TYPE_HASH_ZIPLIST, STORE_OBJ_HASH, STORE_BLOB_ZIPLIST,
      "Hash ziplist" },
    { STORE_RDB_TYPE_HASH_LISTPACK, STORE_OBJ_HASH, STORE_BLOB_LISTPACK,
      "Hash listpack" },
    { STORE_RDB_TYPE_ZSET_LISTPACK, STORE_OBJ_ZSET, STORE_BLOB_LISTPACK,
      "Zset listpack" }
};


/* Types 9-13, 16, 17: one string holding a blob. */
static store_obj_t *
store_rdb_load_blob(store_rdb_in_t *r, int type)
{
    store_obj_t        *o = NULL;
    uint8_t            *p;
    size_t              n, i;
    int                 bad, rc = OB_ERR;

    if (store_rdb_get_string(r, &p, &n) != OB_OK) {
        return NULL;
    }
    if (type == STORE_RDB_TYPE_SET_INTSET) {
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
    }
    for (i = 0; i < sizeof(store_rdb_blob_types)
                    / sizeof(store_rdb_blob_types[0]); i++)
    {
        if (store_rdb_blob_types[i].type == type) {
            o = store_rdb_new(r, store_rdb_blob_types[i].obj, 0);
            rc = o == NULL ? OB_ERR
                 : store_rdb_blob_into(r, o, store_rdb_blob_types[i].blob,
                                       p, n, store_rdb_blob_types[i].what);
            break;
        }
    }
    free(p);
    if (i == sizeof(store_rdb_blob_types) / sizeof(store_rdb_blob_types[0])) {
        (void) store_rdb_in_fail(r, "Unknown blob type %d", type);
    }
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
store_obj_t *
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


