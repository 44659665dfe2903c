/*
 * store_object.h: the store's value object, Redis's redisObject made
 * compact: a type, an encoding, a 24-bit LRU clock (or LFU data) and the
 * payload, every byte of it in the core arena under the store's owner id.
 *
 * Strings come in Redis 7.0's three encodings (OBJECT ENCODING names):
 *   "int"     a canonical 64-bit integer (string2ll's rules), kept in the
 *             header itself: no bytes stored;
 *   "embstr"  up to STORE_OBJ_EMBSTR_MAX bytes, in one allocation with the
 *             header;
 *   "raw"     longer: the header and a separate allocation for the bytes.
 * The other types' encodings are declared here; their payloads belong to
 * the type files that build them (a later session), which free the payload
 * themselves: store_obj_free frees only a non-string's header.
 *
 *   char         buf[STORE_OBJ_INTBUF];
 *   store_obj_t *o = store_obj_string_new(a, owner, "123", 3);
 *   p = store_obj_string_bytes(o, buf, &len);      "123", 3 (int)
 *   store_obj_free(a, owner, o);
 */
#ifndef STORE_OBJECT_H
#define STORE_OBJECT_H

#include <stddef.h>
#include <stdint.h>
#include "ob_core.h"
#include "ob_arena.h"

/* Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT */
#define STORE_OBJ_EMBSTR_MAX  44
/* Room for any long long in decimal, with its sign and a NUL. */
#define STORE_OBJ_INTBUF      24
/* The LRU clock: seconds, 24 bits, wrapping (Redis's LRU_CLOCK_MAX). */
#define STORE_LRU_BITS        24
#define STORE_LRU_MAX         ((1u << STORE_LRU_BITS) - 1)

typedef enum {
    STORE_OBJ_STRING = 0,
    STORE_OBJ_LIST,
    STORE_OBJ_HASH,
    STORE_OBJ_SET,
    STORE_OBJ_ZSET,
    STORE_OBJ_STREAM,
    STORE_OBJ_NTYPES
} store_obj_type_t;

/* Numbered apart from Redis's (ours are not written to files). */
typedef enum {
    STORE_ENC_RAW = 0,
    STORE_ENC_INT,
    STORE_ENC_EMBSTR,
    STORE_ENC_HASHTABLE,
    STORE_ENC_LISTPACK,
    STORE_ENC_QUICKLIST,
    STORE_ENC_INTSET,
    STORE_ENC_SKIPLIST,
    STORE_ENC_STREAM,
    STORE_ENC_NENCODINGS
} store_obj_enc_t;

/*
 * 16 bytes of header.  An embstr's bytes start at `v` (offset 8) and run
 * for `len` bytes: the allocation is 8 + len bytes (at least 16).
 */
typedef struct store_obj_s {
    unsigned    type:4;          /* store_obj_type_t */
    unsigned    encoding:4;      /* store_obj_enc_t */
    unsigned    lru:STORE_LRU_BITS; /* LRU clock, or LFU (minutes:16,
                                       counter:8) as Redis packs it */
    uint32_t    len;             /* raw/embstr bytes; 0 for int */
    union {
        long long   ll;          /* int */
        void       *ptr;         /* raw bytes, or another type's payload */
    } v;
} store_obj_t;

#define STORE_OBJ_HDR  offsetof(store_obj_t, v)

/*
 * 1 and *out set when p[0..len) is a canonical long long as Redis's
 * string2ll reads it: 1 to 20 bytes, an optional '-', no leading zero
 * (but "0" itself), no '+', no spaces, "-0" refused, in range.
 */
int store_str_is_ll(const char *p, size_t len, long long *out);

/* A string object from bytes, encoded int, embstr or raw.  NULL when the
 * arena refuses (nothing is left allocated) or len > UINT32_MAX.  new. */
store_obj_t *store_obj_string_new(ob_arena_t *a, int owner, const void *p,
                                  size_t len);

/* A raw-encoded string whatever its bytes, as Redis leaves the result of
 * APPEND and SETRANGE (OBJECT ENCODING says "raw" even for "ab"), so
 * that it can grow in place.  NULL on OOM.  new. */
store_obj_t *store_obj_raw_new(ob_arena_t *a, int owner, const void *p,
                               size_t len);
/* The same with the bytes not initialized, for the caller to fill
 * (APPEND and SETRANGE build the new value in place).  len 0: no bytes,
 * v.ptr NULL.  NULL on OOM or len > UINT32_MAX.  new. */
store_obj_t *store_obj_raw_alloc(ob_arena_t *a, int owner, size_t len);

/*
 * The bytes a raw string of `len` bytes holds in the arena: `len` itself
 * up to STORE_OBJ_RAW_EXACT, then rounded up to an eighth of its power of
 * two, so that APPEND and SETRANGE growing a big string copy it only
 * every ~12% of growth (the arena's chunk classes do the same below),
 * as Redis's sds keeps spare room.  A function of len alone: allocation
 * and free agree without storing a capacity.
 */
#define STORE_OBJ_RAW_EXACT  (1024 * 1024)
size_t store_obj_raw_cap(size_t len);

/* An int-encoded string of v.  NULL on OOM.  new. */
store_obj_t *store_obj_ll_new(ob_arena_t *a, int owner, long long v);

/*
 * A header for another type's payload (owned by the caller's type code).
 * NULL on OOM.  new.
 */
store_obj_t *store_obj_payload_new(ob_arena_t *a, int owner,
                                   store_obj_type_t type,
                                   store_obj_enc_t enc, void *payload);

/* A string's bytes: borrowed from o, or written into buf (an int).
 * *len gets the length. */
const char *store_obj_string_bytes(const store_obj_t *o,
                                   char buf[STORE_OBJ_INTBUF], size_t *len);

/* A string's length in bytes (an int's decimal length). */
size_t store_obj_string_len(const store_obj_t *o);

/* Frees a string object; for other types only the header (see above). */
void store_obj_free(ob_arena_t *a, int owner, store_obj_t *o);

/* A copy of a string object (same encoding).  NULL on OOM or for another
 * type (their copies come with their types).  new. */
store_obj_t *store_obj_dup(ob_arena_t *a, int owner, const store_obj_t *o);

/* "string", "list", "hash", "set", "zset", "stream".  borrowed (static). */
const char *store_obj_type_name(const store_obj_t *o);
const char *store_obj_type_name_of(store_obj_type_t type);

/* The type named `name` (SCAN ... TYPE, any letter case), or -1. */
int store_obj_type_by_name(const char *name, size_t len);

/* OBJECT ENCODING's name: "int", "embstr", "raw", "listpack", ...
 * borrowed (static). */
const char *store_obj_encoding_name(const store_obj_t *o);

/* Bytes the arena charges for o (header and string bytes). */
size_t store_obj_mem(const ob_arena_t *a, const store_obj_t *o);

/* The LRU clock of `now_ms` (seconds, 24 bits), and setting it. */
unsigned store_lru_clock(int64_t now_ms);
void     store_obj_touch(store_obj_t *o, int64_t now_ms);

/*
 * LFU, as Redis packs it in the same 24 bits: the minute of the last
 * decrement (16 bits) and a logarithmic access counter (8 bits) that
 * starts at STORE_LFU_INIT_VAL, grows with probability
 * 1 / ((counter - 5) * log_factor + 1) per access and loses one per
 * decay_time minutes without access.
 */
#define STORE_LFU_INIT_VAL  5

typedef struct store_lfu_conf_s {
    int         log_factor;      /* lfu-log-factor */
    int         decay_time;      /* lfu-decay-time, minutes */
} store_lfu_conf_t;

/* A new value's LFU data (counter STORE_LFU_INIT_VAL). */
void     store_obj_lfu_init(store_obj_t *o, int64_t now_ms);
/* An access: decay, then the probabilistic increment; `rnd` is a uniform
 * number in [0, 1). */
void     store_obj_lfu_touch(store_obj_t *o, int64_t now_ms,
                             const store_lfu_conf_t *conf, double rnd);
/* The counter after decay, without changing o (OBJECT FREQ, eviction). */
unsigned store_obj_lfu_counter(const store_obj_t *o, int64_t now_ms,
                               const store_lfu_conf_t *conf);

#endif /* STORE_OBJECT_H */
