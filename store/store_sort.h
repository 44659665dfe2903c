/*
 * store_sort.h: SORT and SORT_RO (store_sort.c), and the few reads of
 * the aggregate types they need, kept behind small accessors so that SORT
 * does not know how lists, sets, sorted sets and hashes are built.
 *
 * The accessors are thin calls into store_list.h, store_set.h,
 * store_zset.h and store_hash.h; a type whose file is not in the build
 * yet reads as empty (no command can have created such a value).
 */
#ifndef STORE_SORT_H
#define STORE_SORT_H

#include <stddef.h>
#include "ob_core.h"
#include "ob_arena.h"
#include "store_object.h"
#include "store_int.h"

/* The SORT commands' table (store_module.c lists it with the others). */
extern const store_cmd_t store_cmds_sort[];

/* One element: p[0..len) borrowed for the call only. */
typedef void (*store_sort_elem_pt)(void *arg, const char *p, size_t len);

/* Elements of a list, set or sorted set. */
size_t store_sort_len(const store_obj_t *o);

/*
 * Visits up to `count` elements of a list (from index `start`, head to
 * tail, or tail to head with rev), a sorted set (from rank `start` by
 * ascending score, or descending with rev) or a set (every member in its
 * own order: start, count and rev are ignored).
 */
void store_sort_each(const store_obj_t *o, size_t start, size_t count,
                     int rev, store_sort_elem_pt fn, void *arg);

/* A hash field's value: its bytes (borrowed from the hash, or written to
 * buf) with *len set, or NULL when there is no such field. */
#define STORE_SORT_INTBUF  24
const char *store_sort_hash_get(const store_obj_t *o, const void *f,
                                size_t nf, char buf[STORE_SORT_INTBUF],
                                size_t *len);

/* SORT converts a listpack sorted set to a skiplist, as Redis 7.0 does
 * (OBJECT ENCODING then says so); a refusal leaves it as it is. */
void store_sort_zset_prepare(ob_arena_t *a, int owner, store_obj_t *o);

/* A list object of elems[0..n) (SORT ... STORE).  NULL on OOM.  new. */
store_obj_t *store_sort_list_new(ob_arena_t *a, int owner,
                                 const ob_str_t *elems, size_t n);

#endif /* STORE_SORT_H */
