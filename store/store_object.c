/*
 * store_object.c: the store's value objects (see store_object.h).
 *
 * Why three string encodings, as Redis has them: most values are short
 * (ids, counters, flags), so an embstr puts header and bytes in one arena
 * chunk (one allocation, one cache line for the smallest); a counter costs
 * no bytes at all beyond its header; long values keep their bytes apart so
 * that APPEND and SETRANGE can grow them (ob_arena_realloc) without moving
 * the header that the keyspace points to.
 *
 * The int encoding is chosen exactly where Redis chooses it
 * (tryObjectEncoding: a string2ll-canonical value of at most 20 bytes), so
 * that OBJECT ENCODING answers as redis-server 7.0 does: "0123", "+1",
 * " 1" and "-0" are strings, "-9223372036854775808" is an int.
 */
#include "store_object.h"
#include "store_types.h"
#include "store_resp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>


int
store_str_is_ll(const char *p, size_t len, long long *out)
{
    /* one string2ll for the store: the parser's */
    return store_resp_ll((const uint8_t *) p, len, out) == OB_OK;
}


/* An embstr's allocation: header word plus bytes, never under 16 so that
 * the whole struct is addressable (and 16 is the arena's smallest class). */
static size_t
store_obj_embstr_size(size_t len)
{
    return OB_MAX(sizeof(store_obj_t), STORE_OBJ_HDR + len);
}


static char *
store_obj_embstr_bytes(const store_obj_t *o)
{
    return (char *) o + STORE_OBJ_HDR;
}


store_obj_t *
store_obj_ll_new(ob_arena_t *a, int owner, long long v)
{
    store_obj_t  *o;

    o = ob_arena_alloc(a, owner, sizeof(store_obj_t));
    if (o == NULL) {
        return NULL;
    }
    o->type = STORE_OBJ_STRING;
    o->encoding = STORE_ENC_INT;
    o->lru = 0;
    o->len = 0;
    o->v.ll = v;
    return o;
}


store_obj_t *
store_obj_string_new(ob_arena_t *a, int owner, const void *p, size_t len)
{
    store_obj_t  *o;
    long long     ll;

    if (len > UINT32_MAX) {
        return NULL;             /* proto-max-bulk-len stops this earlier */
    }
    if (store_str_is_ll(p, len, &ll)) {
        return store_obj_ll_new(a, owner, ll);
    }

    if (len <= STORE_OBJ_EMBSTR_MAX) {
        o = ob_arena_alloc(a, owner, store_obj_embstr_size(len));
        if (o == NULL) {
            return NULL;
        }
        o->type = STORE_OBJ_STRING;
        o->encoding = STORE_ENC_EMBSTR;
        o->lru = 0;
        o->len = (uint32_t) len;
        if (len > 0) {
            memcpy(store_obj_embstr_bytes(o), p, len);
        }
        return o;
    }

    return store_obj_raw_new(a, owner, p, len);
}


size_t
store_obj_raw_cap(size_t len)
{
    size_t  step;
    int     bits;

    if (len <= STORE_OBJ_RAW_EXACT) {
        return len;
    }
    bits = 63 - __builtin_clzll((unsigned long long) len);
    step = (size_t) 1 << (bits - 3);
    return (len + step - 1) & ~(step - 1);
}


store_obj_t *
store_obj_raw_alloc(ob_arena_t *a, int owner, size_t len)
{
    store_obj_t  *o;
    void         *bytes = NULL;

    if (len > UINT32_MAX) {
        return NULL;
    }
    /* the empty raw string has no bytes allocated (the arena takes no
     * zero-size requests) */
    if (len > 0) {
        bytes = ob_arena_alloc(a, owner, store_obj_raw_cap(len));
        if (bytes == NULL) {
            return NULL;
        }
    }
    o = ob_arena_alloc(a, owner, sizeof(store_obj_t));
    if (o == NULL) {
        if (bytes != NULL) {
            ob_arena_free(a, owner, bytes, store_obj_raw_cap(len));
        }
        return NULL;
    }
    o->type = STORE_OBJ_STRING;
    o->encoding = STORE_ENC_RAW;
    o->lru = 0;
    o->len = (uint32_t) len;
    o->v.ptr = bytes;
    return o;
}


store_obj_t *
store_obj_raw_new(ob_arena_t *a, int owner, const void *p, size_t len)
{
    store_obj_t  *o;

    o = store_obj_raw_alloc(a, owner, len);
    if (o != NULL && len > 0) {
        memcpy(o->v.ptr, p, len);
    }
    return o;
}


store_obj_t *
store_obj_payload_new(ob_arena_t *a, int owner, store_obj_type_t type,
    store_obj_enc_t enc, void *payload)
{
    store_obj_t  *o;

    o = ob_arena_alloc(a, owner, sizeof(store_obj_t));
    if (o == NULL) {
        return NULL;
    }
    o->type = type;
    o->encoding = enc;
    o->lru = 0;
    o->len = 0;
    o->v.ptr = payload;
    return o;
}


const char *
store_obj_string_bytes(const store_obj_t *o, char buf[STORE_OBJ_INTBUF],
    size_t *len)
{
    int  n;

    switch (o->encoding) {
    case STORE_ENC_INT:
        n = snprintf(buf, STORE_OBJ_INTBUF, "%lld", o->v.ll);
        *len = (size_t) n;
        return buf;
    case STORE_ENC_EMBSTR:
        *len = o->len;
        return store_obj_embstr_bytes(o);
    default:
        *len = o->len;
        return o->v.ptr != NULL ? (const char *) o->v.ptr : "";
    }
}


size_t
store_obj_string_len(const store_obj_t *o)
{
    unsigned long long  u;
    size_t              n;

    if (o->encoding != STORE_ENC_INT) {
        return o->len;
    }
    /* digits of |ll|, computed unsigned so that INT64_MIN is fine */
    n = o->v.ll < 0 ? 1 : 0;
    u = o->v.ll < 0 ? 0ULL - (unsigned long long) o->v.ll
                    : (unsigned long long) o->v.ll;
    do {
        n++;
        u /= 10;
    } while (u != 0);
    return n;
}


void
store_obj_free(ob_arena_t *a, int owner, store_obj_t *o)
{
    if (o == NULL) {
        return;
    }
    if (o->type == STORE_OBJ_STRING && o->encoding == STORE_ENC_EMBSTR) {
        ob_arena_free(a, owner, o, store_obj_embstr_size(o->len));
        return;
    }
    if (o->type == STORE_OBJ_STRING && o->encoding == STORE_ENC_RAW
        && o->v.ptr != NULL)
    {
        ob_arena_free(a, owner, o->v.ptr, store_obj_raw_cap(o->len));
    }
    if (o->type != STORE_OBJ_STRING) {
        store_type_free(a, owner, o);
    }
    ob_arena_free(a, owner, o, sizeof(store_obj_t));
}


store_obj_t *
store_obj_dup(ob_arena_t *a, int owner, const store_obj_t *o)
{
    store_obj_t  *d;
    const char   *p;
    size_t        len;
    char          buf[STORE_OBJ_INTBUF];

    if (o->type != STORE_OBJ_STRING) {
        return store_type_dup(a, owner, o);
    }
    /* the copy keeps the encoding, as Redis's dupStringObject does */
    if (o->encoding == STORE_ENC_INT) {
        d = store_obj_ll_new(a, owner, o->v.ll);
    } else {
        p = store_obj_string_bytes(o, buf, &len);
        d = o->encoding == STORE_ENC_RAW ? store_obj_raw_new(a, owner, p, len)
                                         : store_obj_string_new(a, owner, p,
                                                                len);
    }
    if (d != NULL) {
        d->lru = o->lru;
    }
    return d;
}


const char *
store_obj_type_name_of(store_obj_type_t type)
{
    static const char *const  names[STORE_OBJ_NTYPES] = {
        "string", "list", "hash", "set", "zset", "stream"
    };

    return (unsigned) type < STORE_OBJ_NTYPES ? names[type] : "unknown";
}


int
store_obj_type_by_name(const char *name, size_t len)
{
    const char  *t;
    int          i;

    for (i = 0; i < STORE_OBJ_NTYPES; i++) {
        t = store_obj_type_name_of((store_obj_type_t) i);
        if (strlen(t) == len && strncasecmp(t, name, len) == 0) {
            return i;
        }
    }
    return -1;
}


const char *
store_obj_type_name(const store_obj_t *o)
{
    return store_obj_type_name_of((store_obj_type_t) o->type);
}


const char *
store_obj_encoding_name(const store_obj_t *o)
{
    static const char *const  names[STORE_ENC_NENCODINGS] = {
        "raw", "int", "embstr", "hashtable", "listpack", "quicklist",
        "intset", "skiplist", "stream"
    };

    return o->encoding < STORE_ENC_NENCODINGS ? names[o->encoding]
                                              : "unknown";
}


size_t
store_obj_mem(const ob_arena_t *a, const store_obj_t *o)
{
    if (o->type == STORE_OBJ_STRING && o->encoding == STORE_ENC_EMBSTR) {
        return ob_arena_chunk_size(a, store_obj_embstr_size(o->len));
    }
    if (o->type == STORE_OBJ_STRING && o->encoding == STORE_ENC_RAW) {
        return ob_arena_chunk_size(a, sizeof(store_obj_t))
               + (o->len > 0
                  ? ob_arena_chunk_size(a, store_obj_raw_cap(o->len)) : 0);
    }
    if (o->type != STORE_OBJ_STRING) {
        return store_type_mem(a, o);
    }
    return ob_arena_chunk_size(a, sizeof(store_obj_t));
}


unsigned
store_lru_clock(int64_t now_ms)
{
    return (unsigned) ((uint64_t) now_ms / 1000) & STORE_LRU_MAX;
}


void
store_obj_touch(store_obj_t *o, int64_t now_ms)
{
    o->lru = store_lru_clock(now_ms);
}


/* Minutes, 16 bits, wrapping (Redis's LFUGetTimeInMinutes). */
static unsigned
store_lfu_minutes(int64_t now_ms)
{
    return (unsigned) ((uint64_t) now_ms / 60000) & 0xFFFF;
}


void
store_obj_lfu_init(store_obj_t *o, int64_t now_ms)
{
    o->lru = (store_lfu_minutes(now_ms) << 8) | STORE_LFU_INIT_VAL;
}


unsigned
store_obj_lfu_counter(const store_obj_t *o, int64_t now_ms,
                      const store_lfu_conf_t *conf)
{
    unsigned  last = o->lru >> 8, now = store_lfu_minutes(now_ms);
    unsigned  counter = o->lru & 0xFF, elapsed, periods;

    elapsed = now >= last ? now - last : 0xFFFF - last + now;
    periods = conf->decay_time > 0 ? elapsed / (unsigned) conf->decay_time
                                   : 0;
    return periods >= counter ? 0 : counter - periods;
}


void
store_obj_lfu_touch(store_obj_t *o, int64_t now_ms,
                    const store_lfu_conf_t *conf, double rnd)
{
    unsigned  counter = store_obj_lfu_counter(o, now_ms, conf);
    double    base;

    if (counter < 255) {
        base = counter > STORE_LFU_INIT_VAL
               ? (double) (counter - STORE_LFU_INIT_VAL) : 0.0;
        if (rnd < 1.0 / (base * conf->log_factor + 1.0)) {
            counter++;
        }
    }
    o->lru = (store_lfu_minutes(now_ms) << 8) | counter;
}
