/*
 * store_listpack.h: Redis's listpack, byte for byte (Redis 7.0's
 * listpack.c format), in one arena allocation: the compact encoding of
 * small lists (quicklist nodes), hashes, sets and sorted sets, and the
 * payload RDB v10 writes for them (so persistence can copy it as is).
 *
 * Layout (Redis's): <total-bytes:u32le> <count:u16le> <entry>... <0xFF>.
 * An entry is <encoding+data> <backlen>, where integers that fit take the
 * 7-bit, 13-bit, 16/24/32/64-bit forms and strings the 6-bit, 12-bit or
 * 32-bit length forms; backlen is the entry's length, 1 to 5 bytes, read
 * right to left.  count saturates at 65535 (then it is counted by walking).
 *
 * Positions are byte offsets of an entry from the start (the first entry
 * is at STORE_LP_HDR), so they stay meaningful across a realloc; a
 * function that may reallocate takes `lp` by pointer (and the strings
 * store_lp_get borrowed from it are stale after it).  Every allocation is
 * the arena's under the caller's owner, of exactly store_lp_bytes() bytes;
 * OB_ERR on a refusal leaves the listpack as it was.  A delete may be
 * refused too (it needs a chunk of a smaller class): see store_lp_remove.
 * Functions that take a position want an entry's (not 0), unless they
 * say otherwise.
 *
 *   uint8_t *lp = store_lp_new(a, owner);
 *   store_lp_append(a, owner, &lp, "x", 1);
 *   store_lp_append_ll(a, owner, &lp, 42);
 *   for (pos = store_lp_first(lp); pos != 0; pos = store_lp_next(lp, pos)) {
 *       store_lp_get(lp, pos, &v);      v.s/v.len or v.ll (v.s == NULL)
 *   }
 *   store_lp_free(a, owner, lp);
 */
#ifndef STORE_LISTPACK_H
#define STORE_LISTPACK_H

#include <stddef.h>
#include <stdint.h>
#include "ob_core.h"
#include "ob_arena.h"

#define STORE_LP_HDR        6        /* total bytes (4) + count (2) */
#define STORE_LP_EOF        0xFF
#define STORE_LP_EMPTY_SIZE 7        /* header + EOF */
#define STORE_LP_INTBUF     21       /* room for a long long in decimal */

/* An entry's value: a string (s != NULL, len bytes, borrowed from the
 * listpack, or from `buf` for an integer asked as a string) or an
 * integer (s == NULL, ll).  Also what store_lp_splice inserts. */
typedef struct store_lp_val_s {
    const uint8_t *s;
    size_t         len;
    long long      ll;
} store_lp_val_t;

/* Position 0 means "none" (before the first / after the last). */
typedef size_t store_lp_pos_t;

uint8_t *store_lp_new(ob_arena_t *a, int owner);   /* NULL on OOM; new */
void     store_lp_free(ob_arena_t *a, int owner, uint8_t *lp);
/* A copy (COPY, RDB); NULL on OOM.  new. */
uint8_t *store_lp_dup(ob_arena_t *a, int owner, const uint8_t *lp);

size_t   store_lp_bytes(const uint8_t *lp);        /* total bytes */
size_t   store_lp_count(const uint8_t *lp);        /* entries (walks if
                                                      the header saturated) */

/* Walking. */
store_lp_pos_t store_lp_first(const uint8_t *lp);
store_lp_pos_t store_lp_last(const uint8_t *lp);
store_lp_pos_t store_lp_next(const uint8_t *lp, store_lp_pos_t pos);
store_lp_pos_t store_lp_prev(const uint8_t *lp, store_lp_pos_t pos);
/* The entry at index i (negative from the end, -1 the last), or 0. */
store_lp_pos_t store_lp_seek(const uint8_t *lp, long long index);

/* The entry's value (see store_lp_val_t). */
void     store_lp_get(const uint8_t *lp, store_lp_pos_t pos,
                      store_lp_val_t *v /* OUT */);
/* The entry as bytes whatever its encoding: integers are written to buf.
 * Returns the bytes (borrowed from lp or buf), *len set. */
const uint8_t *store_lp_get_str(const uint8_t *lp, store_lp_pos_t pos,
                                char buf[STORE_LP_INTBUF], size_t *len);
/* 1 when the entry's value equals s[0..len) as bytes (an integer entry
 * compares by its decimal form). */
int      store_lp_eq(const uint8_t *lp, store_lp_pos_t pos, const void *s,
                     size_t len);

/* Inserting: a string is stored as an integer when it is a canonical one
 * (string2ll), as Redis does; the _ll forms store an integer. */
int store_lp_append(ob_arena_t *a, int owner, uint8_t **lp, const void *s,
                    size_t len);
int store_lp_prepend(ob_arena_t *a, int owner, uint8_t **lp, const void *s,
                     size_t len);
int store_lp_append_ll(ob_arena_t *a, int owner, uint8_t **lp, long long v);
/* Inserts before (after = 0) or after (after = 1) the entry at pos (not
 * 0: OB_ERR); *newpos (may be NULL) gets the new entry's position. */
int store_lp_insert(ob_arena_t *a, int owner, uint8_t **lp,
                    store_lp_pos_t pos, int after, const void *s, size_t len,
                    store_lp_pos_t *newpos /* OUT */);
int store_lp_insert_ll(ob_arena_t *a, int owner, uint8_t **lp,
                       store_lp_pos_t pos, int after, long long v,
                       store_lp_pos_t *newpos /* OUT */);
int store_lp_prepend_ll(ob_arena_t *a, int owner, uint8_t **lp, long long v);
/* Replaces the entry at pos (not 0); the new entry is at the same
 * position. */
int store_lp_replace(ob_arena_t *a, int owner, uint8_t **lp,
                     store_lp_pos_t pos, const void *s, size_t len);
int store_lp_replace_ll(ob_arena_t *a, int owner, uint8_t **lp,
                        store_lp_pos_t pos, long long v);

/*
 * The general edit, in one allocation: the ndel entries from pos on
 * (fewer when the listpack ends first) are replaced by items[0..n) (each
 * a string s[0..len), stored as an integer when canonical, or with
 * s == NULL the integer ll: a value store_lp_get read can go in as is).
 * pos 0 means the end: an append.  *newpos (may be NULL) gets the first
 * new entry's position (or, with n == 0, the entry that followed the
 * deleted ones; 0 at the end).  OB_OK, or OB_ERR with the listpack as it
 * was: HSET's field and value or ZADD's member and score go in together,
 * so that a refusal cannot leave half a pair.
 */
int store_lp_splice(ob_arena_t *a, int owner, uint8_t **lp,
                    store_lp_pos_t pos, size_t ndel,
                    const store_lp_val_t *items, size_t n,
                    store_lp_pos_t *newpos /* OUT */);

/*
 * Deletes `n` entries from pos on (fewer when the listpack ends first).
 * The block shrinks to the exact size: in the same arena class it stays
 * where it is and this cannot fail; across classes a smaller block is
 * taken first, and when the arena refuses it (a full budget that nothing
 * can be evicted from) nothing changes:
 *
 *   store_lp_remove: OB_OK with *next (may be NULL) the position of the
 *   entry that followed the deleted ones (0 at the end), or OB_ERR.
 *   store_lp_delete: that position, or STORE_LP_NOMEM on a refusal.
 */
#define STORE_LP_NOMEM  ((store_lp_pos_t) -1)
int store_lp_remove(ob_arena_t *a, int owner, uint8_t **lp,
                    store_lp_pos_t pos, size_t n,
                    store_lp_pos_t *next /* OUT */);
store_lp_pos_t store_lp_delete(ob_arena_t *a, int owner, uint8_t **lp,
                               store_lp_pos_t pos, size_t n);
/* Deletes the entries of index range [start, start+n) (non-negative;
 * clamped to the end).  OB_OK, or OB_ERR as store_lp_remove. */
int store_lp_delete_range(ob_arena_t *a, int owner, uint8_t **lp,
                          size_t start, size_t n);

/* Appends all of src's entries to *dst (a quicklist merging two nodes,
 * as Redis's lpMerge; src is not changed and must not be *dst).  OB_OK,
 * or OB_ERR with *dst as it was. */
int store_lp_concat(ob_arena_t *a, int owner, uint8_t **dst,
                    const uint8_t *src);

/* The first entry from pos on (every `skip`+1-th entry: 1 for a hash's
 * fields, skipping values) equal to s[0..len), or 0. */
store_lp_pos_t store_lp_find(const uint8_t *lp, store_lp_pos_t pos,
                             const void *s, size_t len, unsigned skip);

/* Bytes a string entry of len bytes (or an integer) would take, backlen
 * included: the callers' "does it still fit the listpack limits" checks.
 * SIZE_MAX for a string longer than 2^32-1 bytes (no encoding holds it). */
size_t store_lp_entry_size(const void *s, size_t len);

/* Checks a listpack read from a file (RDB): the total is `size` and the
 * last byte EOF; with `deep` also every entry well formed inside the
 * block (known encoding, backlen equal to the entry's length, in its
 * shortest form) and the count equal to the header's (unless it is
 * saturated: Redis leaves it so).  1 valid, 0 not. */
int store_lp_validate(const uint8_t *lp, size_t size, int deep);

#endif /* STORE_LISTPACK_H */
