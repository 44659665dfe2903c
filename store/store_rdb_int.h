/*
 * store_rdb_int.h: what the RDB files share (store_rdb.c writes,
 * store_rdb_load.c loads, store_rdb_stream.c does both for streams):
 * Redis's type ids and opcodes, and the buffered writer and reader that
 * keep the CRC-64 and the byte offset.  Nothing outside the RDB files
 * includes it: store_persist.h is the RDB's public API.
 *
 * Formats: ../shared/reference/redis-persistence.md.  Lengths are the
 * 1/2/5/9-byte forms (big-endian); strings may be int-encoded (C0-C2) or
 * LZF (C3); millisecond times and doubles are 8 bytes little-endian.
 */
#ifndef STORE_RDB_INT_H
#define STORE_RDB_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ob_core.h"
#include "ob_arena.h"
#include "store_object.h"

/* Value types (rdb.h 7.0) */
#define STORE_RDB_TYPE_STRING             0
#define STORE_RDB_TYPE_LIST               1
#define STORE_RDB_TYPE_SET                2
#define STORE_RDB_TYPE_ZSET               3
#define STORE_RDB_TYPE_HASH               4
#define STORE_RDB_TYPE_ZSET_2             5
#define STORE_RDB_TYPE_MODULE             6
#define STORE_RDB_TYPE_MODULE_2           7
#define STORE_RDB_TYPE_HASH_ZIPMAP        9
#define STORE_RDB_TYPE_LIST_ZIPLIST      10
#define STORE_RDB_TYPE_SET_INTSET        11
#define STORE_RDB_TYPE_ZSET_ZIPLIST      12
#define STORE_RDB_TYPE_HASH_ZIPLIST      13
#define STORE_RDB_TYPE_LIST_QUICKLIST    14
#define STORE_RDB_TYPE_STREAM_LISTPACKS  15
#define STORE_RDB_TYPE_HASH_LISTPACK     16
#define STORE_RDB_TYPE_ZSET_LISTPACK     17
#define STORE_RDB_TYPE_LIST_QUICKLIST_2  18
#define STORE_RDB_TYPE_STREAM_LISTPACKS_2 19

/* Opcodes */
#define STORE_RDB_OP_FUNCTION2     245
#define STORE_RDB_OP_FUNCTION      246
#define STORE_RDB_OP_MODULE_AUX    247
#define STORE_RDB_OP_IDLE          248
#define STORE_RDB_OP_FREQ          249
#define STORE_RDB_OP_AUX           250
#define STORE_RDB_OP_RESIZEDB      251
#define STORE_RDB_OP_EXPIRETIME_MS 252
#define STORE_RDB_OP_EXPIRETIME    253
#define STORE_RDB_OP_SELECTDB      254
#define STORE_RDB_OP_EOF           255

/* Quicklist 2 node containers */
#define STORE_RDB_QL_PLAIN   1
#define STORE_RDB_QL_PACKED  2

/* The writer: buffered write(2)s, the CRC over everything written. */
typedef struct store_rdb_out_s {
    int          fd;
    uint8_t     *buf;
    size_t       len, cap;
    uint64_t     crc;
    int          compress;       /* LZF for strings > 20 bytes */
    uint64_t     written;        /* bytes, buffered ones included */
    int          err_no;         /* a write failed: its errno; later puts
                                    do nothing and return OB_ERR */
} store_rdb_out_t;

int store_rdb_put(store_rdb_out_t *w, const void *p, size_t n);
int store_rdb_put_byte(store_rdb_out_t *w, uint8_t b);
int store_rdb_put_len(store_rdb_out_t *w, uint64_t len);
/* A string: int-encoded when it is a canonical int32 decimal, LZF when
 * w->compress and it pays, else plain. */
int store_rdb_put_string(store_rdb_out_t *w, const void *p, size_t n);
/* A string written as is (listpacks, intsets: blobs). */
int store_rdb_put_raw_string(store_rdb_out_t *w, const void *p, size_t n);
int store_rdb_put_u64le(store_rdb_out_t *w, uint64_t v);  /* ms times */
int store_rdb_put_double(store_rdb_out_t *w, double v);   /* binary64 LE */

/* The reader: buffered read(2)s from fd, the CRC and the offset of what
 * was consumed. */
typedef struct store_rdb_in_s {
    int          fd;
    uint8_t     *buf;
    size_t       pos, len, cap;
    uint64_t     offset;         /* bytes consumed since the RDB began */
    uint64_t     crc;            /* over the consumed bytes */
    ob_err_t    *err;
    int          failed;         /* an error is recorded in err */
    ob_arena_t  *arena;          /* where loaded values go */
    int          owner;
} store_rdb_in_t;

/* Records the first error (with the offset) and returns OB_ERR. */
int store_rdb_in_fail(store_rdb_in_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int store_rdb_get(store_rdb_in_t *r, void *p, size_t n);
int store_rdb_get_byte(store_rdb_in_t *r, uint8_t *b);
/* A length; *encoded set (and *len the C0..C3 kind) when the byte was a
 * special string encoding. */
int store_rdb_get_len(store_rdb_in_t *r, uint64_t *len, int *encoded);
/* A string, decoded (int encodings to decimal text, LZF expanded) into a
 * malloc'd buffer: *out (free it), *n.  Bounded: a length over what the
 * file can hold fails as corrupt, never allocates it. */
int store_rdb_get_string(store_rdb_in_t *r, uint8_t **out, size_t *n);
int store_rdb_get_u64le(store_rdb_in_t *r, uint64_t *v);
int store_rdb_get_double(store_rdb_in_t *r, double *v);

/* Streams (store_rdb_stream.c): the payload of a STREAM_LISTPACKS_2 value
 * (the caller wrote the type byte and the key), and its loader for types
 * 15 and 19: a new stream object in r->arena, or NULL with the error
 * recorded. */
int          store_rdb_save_stream(store_rdb_out_t *w, const store_obj_t *o);
store_obj_t *store_rdb_load_stream(store_rdb_in_t *r, int type);

#endif /* STORE_RDB_INT_H */
