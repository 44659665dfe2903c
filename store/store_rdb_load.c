/*
 * store_rdb_load.c: the RDB loader (Redis 7.0's rdbLoadRio): the buffered
 * reader store_rdb_get_* (store_rdb_int.h) and store_rdb_load_fd, the
 * file's opcodes (AUX, SELECTDB, RESIZEDB, expiry, IDLE, FREQ, EOF and
 * the checksum) and the keys; the values themselves are built by
 * store_rdb_types.c.
 *
 * Memory.  The reader's buffer is 64 KiB of malloc.  A string is read
 * into a malloc'd buffer that grows as its bytes arrive (1 MiB at first,
 * doubling), so a length field claiming terabytes fails as a truncated
 * file after reading what is there instead of asking malloc for it; an
 * LZF string's expanded size must be plausible for its compressed size
 * (LZF expands at most ~88 times) before its buffer is taken.
 *
 * Errors name the problem and the byte offset where it was seen; the
 * first one is kept (store_rdb_in_fail) and every caller unwinds with
 * OB_ERR or NULL, freeing what it built.  The reader reads ahead: the fd's
 * position after a load is past the RDB's end, which `consumed` gives.
 */
#include "store_rdb_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <liblzf/lzf.h>

#include "store_db.h"
#include "store_int.h"       /* store_persist.h needs store_cmd_s */
#include "store_persist.h"

#define STORE_RDB_IN_BUF       (64 * 1024)
/* A string's buffer starts at this and doubles as the bytes come. */
#define STORE_RDB_STR_STEP     (1024 * 1024)
/* lzf_d.c's longest back-reference is 264 bytes from 3 input bytes. */
#define STORE_RDB_LZF_RATIO    100
/* The arena refused a key (store_rdb_types.c says the same of values). */
#define STORE_RDB_OOM_MSG  "out of memory loading a key: the dataset does " \
                           "not fit the memory budget (core.memory_mb)"
/* Bytes of a key an error message shows. */
#define STORE_RDB_KEY_SHOWN    64


/* ---- the reader --------------------------------------------------------- */

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
/* store_rdb_types.c: a value of type `type` (NULL: see there). */
store_obj_t *store_rdb_load_value(store_rdb_in_t *r, int type);


/* ---- the file ----------------------------------------------------------- */

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


/* A key as an error message shows it: its first STORE_RDB_KEY_SHOWN
 * bytes, the unprintable ones as \xNN (a message goes to the log). */
static void
store_rdb_printable(const uint8_t *key, size_t nkey, char *out)
{
    size_t  i;

    for (i = 0; i < nkey && i < STORE_RDB_KEY_SHOWN; i++) {
        if (key[i] >= 0x20 && key[i] < 0x7f && key[i] != '\\') {
            *out++ = (char) key[i];
        } else {
            out += sprintf(out, "\\x%02x", key[i]);
        }
    }
    if (nkey > STORE_RDB_KEY_SHOWN) {
        out += sprintf(out, "...");
    }
    *out = '\0';
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
    char          shown[STORE_RDB_KEY_SHOWN * 4 + 4];

    if (store_rdb_get_string(r, &key, &nkey) != OB_OK) {
        return OB_ERR;
    }
    val = store_rdb_load_value(r, type);
    if (val == NULL) {
        free(key);
        return r->failed ? OB_ERR : OB_OK;     /* empty: skipped */
    }
    if (ob_hash_find(&db->ks->keys, key, nkey) != NULL) {
        store_obj_free(r->arena, r->owner, val);
        store_rdb_printable(key, nkey, shown);
        (void) store_rdb_in_fail(r, "Duplicate key '%s' (at %llu) in db %d",
                                 shown, (unsigned long long) at, db->id);
        free(key);
        return OB_ERR;
    }
    if (o->drop_expired && ko->expire != -1 && ko->expire < o->now_ms) {
        store_obj_free(r->arena, r->owner, val);
        free(key);
        info->st.expired++;
        return OB_OK;
    }
    if (store_db_set(db, key, nkey, val, 0, o->now_ms) != OB_OK) {
        store_obj_free(r->arena, r->owner, val);
        free(key);
        return store_rdb_in_fail(r, STORE_RDB_OOM_MSG);
    }
    if (ko->expire != -1
        && store_db_expire_set(db, key, nkey, ko->expire, o->now_ms)
           != OB_OK)
    {
        free(key);
        return store_rdb_in_fail(r, STORE_RDB_OOM_MSG);
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
            /* 4-byte seconds, little-endian (rdbLoadTime) */
            v = (uint32_t) b[0] | ((uint32_t) b[1] << 8)
                | ((uint32_t) b[2] << 16) | ((uint32_t) b[3] << 24);
            ko.expire = (int64_t) (int32_t) (uint32_t) v * 1000;
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
                return store_rdb_in_fail(r, "Data file was created with a "
                                         "Redis server configured to handle "
                                         "more than %d databases (it "
                                         "selects db %llu)", dbs->ndb,
                                         (unsigned long long) v);
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
    store_rdb_in_t         r;
    store_rdb_load_info_t  scratch;
    int                    rc;

    if (info == NULL) {
        info = &scratch;        /* the caller wants none of it */
    }
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
