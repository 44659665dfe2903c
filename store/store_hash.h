/*
 * store_hash.h: the store's hash type (HSET and friends), in Redis 7.0's
 * two encodings:
 *
 *   "listpack"   field, value, field, value ... in one listpack
 *                (store_listpack.h) while the hash has at most
 *                STORE_HASH_LP_ENTRIES fields and no field or value is
 *                longer than STORE_HASH_LP_VALUE bytes (Redis's
 *                hash-max-listpack-entries 512 and -value 64);
 *   "hashtable"  an ob_hash of fields (one arena chunk per field, its
 *                value after it), once either limit is crossed.
 * A hash is converted once and never back, as in Redis, so OBJECT
 * ENCODING answers what redis-server answers for the same commands.
 *
 * The object is a store_obj_t of type STORE_OBJ_HASH whose v.ptr is the
 * listpack (STORE_ENC_LISTPACK) or a store_hash_t (STORE_ENC_HASHTABLE).
 * Every byte is in the arena under the caller's owner; a refused
 * allocation returns OB_ERR with the hash as it was.
 *
 *   store_obj_t *o = store_hash_new(a, owner);
 *   store_hash_set(a, owner, o, "f", 1, "v", 1, 0);         1: added
 *   p = store_hash_get(o, "f", 1, buf, &len);                "v", 1
 *   store_hash_foreach(o, visit, arg);
 *   store_obj_free(a, owner, o);              (store_types.c -> here)
 */
#ifndef STORE_HASH_H
#define STORE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include "ob_core.h"
#include "ob_arena.h"
#include "store_object.h"

/* Redis 7.0's defaults (CONFIG GET on redis-server 7.0.15: 512 entries,
 * not the 128 of zsets) */
#define STORE_HASH_LP_ENTRIES  512   /* hash-max-listpack-entries */
#define STORE_HASH_LP_VALUE    64    /* hash-max-listpack-value */
#define STORE_HASH_INTBUF      24    /* a listpack integer as text */

/*
 * A visitor of fields: f and v are borrowed for the call only (an
 * integer in a listpack is written to a buffer of the caller's).
 */
typedef void (*store_hash_visit_pt)(void *arg, const uint8_t *f, size_t nf,
                                    const uint8_t *v, size_t nv);

/* An empty hash, encoded listpack.  NULL on OOM.  new. */
store_obj_t *store_hash_new(ob_arena_t *a, int owner);

/* Fields in the hash. */
size_t store_hash_len(const store_obj_t *o);

/* The value of field f: its bytes (borrowed from the hash, or from buf
 * for a listpack integer) with *len set, or NULL when there is no such
 * field. */
const uint8_t *store_hash_get(const store_obj_t *o, const void *f, size_t nf,
                              char buf[STORE_HASH_INTBUF], size_t *len);

/* 1 when the field exists, else 0. */
int store_hash_exists(const store_obj_t *o, const void *f, size_t nf);

/*
 * Sets field f to v.  Returns 1 when the field was added, 0 when it
 * existed (updated, or left alone with STORE_HASH_SET_NX), OB_ERR on OOM
 * (nothing changed).  Converts to a hashtable first when f or v is longer
 * than STORE_HASH_LP_VALUE, after when the hash has grown past
 * STORE_HASH_LP_ENTRIES (Redis's hashTypeSet).
 */
#define STORE_HASH_SET_NX  0x1
int store_hash_set(ob_arena_t *a, int owner, store_obj_t *o,
                   const void *f, size_t nf, const void *v, size_t nv,
                   int flags);

/*
 * HSET's pairs args[0..n) (field, value, field, value ...; n even): all
 * of them or, on OOM (OB_ERR), none, the hash as it was.  *added gets the
 * fields that were new.  A hashtable allocates every new chunk before it
 * links any; a listpack is edited in a copy that replaces it at the end.
 */
int store_hash_set_many(ob_arena_t *a, int owner, store_obj_t *o,
                        const ob_str_t *args, size_t n,
                        long long *added /* OUT */);

/* Deletes field f: 1 deleted, 0 absent, OB_ERR when a listpack's shrink
 * into a smaller arena class is refused (nothing changed).  An emptied
 * hash stays (the caller deletes the key). */
int store_hash_del(ob_arena_t *a, int owner, store_obj_t *o,
                   const void *f, size_t nf);

/*
 * Redis's hashTypeTryConversion: converts a listpack hash to a hashtable
 * when any of args[0..n) (the fields and values a command is about to
 * set) is longer than STORE_HASH_LP_VALUE.  OB_OK, or OB_ERR on OOM (the
 * hash unchanged).
 */
int store_hash_try_convert(ob_arena_t *a, int owner, store_obj_t *o,
                           const ob_str_t *args, size_t n);

/* Converts to the hashtable encoding (no-op if it is one).  OB_OK or
 * OB_ERR on OOM (the hash unchanged). */
int store_hash_convert(ob_arena_t *a, int owner, store_obj_t *o);

/* Every field in the encoding's order (insertion order for a listpack).
 * fn must not change the hash. */
void store_hash_foreach(const store_obj_t *o, store_hash_visit_pt fn,
                        void *arg);

/*
 * One HSCAN step: a listpack gives every field and returns 0; a hashtable
 * gives about `count` fields from `cursor` on (stepping at most count * 10
 * buckets, Redis's bound) and returns the next cursor, 0 at the end, with
 * ob_hash's guarantee (every field present for the whole scan is given at
 * least once).  fn must not change the hash.
 */
uint64_t store_hash_scan(const store_obj_t *o, uint64_t cursor, size_t count,
                         store_hash_visit_pt fn, void *arg);

/* One field chosen at random, every field as likely (nothing when the
 * hash is empty), given to fn.  *rng is the caller's generator state
 * (store_hash_rand's; any value). */
void store_hash_random(const store_obj_t *o, uint64_t *rng,
                       store_hash_visit_pt fn, void *arg);

/* `count` fields chosen at random, with repeats (HRANDFIELD's negative
 * count), each given to fn as it is drawn; stops early once *stop (may be
 * NULL) is set, e.g. by a reply writer that failed. */
void store_hash_random_many(const store_obj_t *o, uint64_t *rng,
                            uint64_t count, store_hash_visit_pt fn, void *arg,
                            const int *stop);

/*
 * `count` distinct fields chosen at random (count is clamped to the
 * hash's length; the caller serves count >= len with foreach, in order):
 * HRANDFIELD's positive count.  A listpack, or a count over a third of
 * the hash, is sampled in one pass (Knuth's selection sampling: the
 * fields come in the hash's order, as Redis's do there); otherwise random
 * picks are deduplicated in a malloc'd set of about 2 * count pointers
 * (falling back to the one pass if that malloc fails).  Never fails.
 */
void store_hash_random_distinct(const store_obj_t *o, uint64_t *rng,
                                size_t count, store_hash_visit_pt fn,
                                void *arg);

/* A random 64-bit number (splitmix64) from the state *rng. */
uint64_t store_hash_rand(uint64_t *rng);

#endif /* STORE_HASH_H */
