/*
 * store_set.h: the set value type in Redis 7.0's two encodings (OBJECT
 * ENCODING names):
 *
 *   "intset"     while every member is a canonical integer (store_resp_ll)
 *                and there are at most STORE_SET_MAX_INTSET_ENTRIES
 *                (set-max-intset-entries) of them: store_intset.h, sorted;
 *   "hashtable"  otherwise: an ob_hash of members, each one arena chunk,
 *                plus a dense array of the members for O(1) random picks
 *                (SPOP, SRANDMEMBER).
 *
 * Like Redis, a set goes from intset to hashtable when it must and never
 * back, except where Redis builds a new set (the STORE forms, SPOP's
 * large counts), which starts as an intset again.
 *
 * Members are addressed by position, 0 .. size-1: the intset's ascending
 * order, or the dense array's (arbitrary) order.  A position is stable
 * until the set changes (store_set_swap changes only the two it names).
 *
 *   store_obj_t     *o = store_set_new(a, owner, 1);
 *   store_set_elem_t e;
 *
 *   store_set_add(a, owner, o, "12", 2, &added);      intset
 *   store_set_add(a, owner, o, "x", 1, &added);       hashtable now
 *   store_set_get(o, 0, &e);
 *   p = store_set_elem_bytes(&e, buf, &len);
 *   store_obj_free(a, owner, o);                      via store_set_free
 */
#ifndef STORE_SET_H
#define STORE_SET_H

#include <stddef.h>
#include <stdint.h>
#include "ob_core.h"
#include "ob_arena.h"
#include "ob_hash.h"
#include "store_object.h"

/* Redis 7.0's set-max-intset-entries default */
#define STORE_SET_MAX_INTSET_ENTRIES  512

/*
 * One member as read from a set: an integer (from an intset: p is NULL)
 * or bytes borrowed from the set (valid until the set changes).
 */
typedef struct store_set_elem_s {
    const char  *p;          /* NULL: the member is the integer ll */
    size_t       len;
    long long    ll;
} store_set_elem_t;

/* An empty set object, intset-encoded when `intset`, else hashtable.
 * NULL on OOM.  new: store_obj_free. */
store_obj_t *store_set_new(ob_arena_t *a, int owner, int intset);

/* An empty set object in the encoding Redis's setTypeCreate picks for a
 * first member p[0..len): intset when it is an integer.  NULL on OOM. */
store_obj_t *store_set_new_for(ob_arena_t *a, int owner, const void *p,
                               size_t len);

/*
 * Adds a member.  OB_OK with *added 1 (new) or 0 (was there); converts to
 * hashtable when the member is not an integer or the intset would exceed
 * STORE_SET_MAX_INTSET_ENTRIES.  OB_ERR when the arena refuses: the set
 * is as it was.
 */
int store_set_add(ob_arena_t *a, int owner, store_obj_t *o, const void *p,
                  size_t len, int *added /* OUT */);
/* The same for an element read from another set. */
int store_set_add_elem(ob_arena_t *a, int owner, store_obj_t *o,
                       const store_set_elem_t *e, int *added /* OUT */);

/* Removes a member: 1 if it was there, else 0.  Never allocates a larger
 * block, never fails. */
int store_set_remove(ob_arena_t *a, int owner, store_obj_t *o, const void *p,
                     size_t len);

/* Removes the member at position pos (< size).  The last member may take
 * its position. */
void store_set_remove_at(ob_arena_t *a, int owner, store_obj_t *o,
                         size_t pos);

/* 1 when p[0..len) (or e) is a member, else 0. */
int store_set_contains(store_obj_t *o, const void *p, size_t len);
int store_set_contains_elem(store_obj_t *o, const store_set_elem_t *e);

size_t store_set_size(const store_obj_t *o);

/* The member at position pos (< size). */
void store_set_get(const store_obj_t *o, size_t pos,
                   store_set_elem_t *e /* OUT */);

/* Exchanges the members at positions i and j of a hashtable set (a
 * partial shuffle for SRANDMEMBER and SPOP; the members are unchanged).
 * A no-op on an intset, whose order is its sort order. */
void store_set_swap(store_obj_t *o, size_t i, size_t j);

/* An element's bytes: borrowed from the set, or an integer written into
 * buf.  *len gets the length. */
const char *store_set_elem_bytes(const store_set_elem_t *e,
                                 char buf[STORE_OBJ_INTBUF], size_t *len);

/* 1 when the element is a canonical integer (*ll set). */
int store_set_elem_ll(const store_set_elem_t *e, long long *ll /* OUT */);

/*
 * Makes a hashtable set an intset again when every member is an integer
 * and there are at most STORE_SET_MAX_INTSET_ENTRIES: what Redis's SPOP
 * with a count near the size does by building the remaining set anew.
 * OB_OK (converted or left as it is); OB_ERR on OOM (left as it is).
 */
int store_set_maybe_intset(ob_arena_t *a, int owner, store_obj_t *o);

/* An intset-encoded set's bytes (Redis's intset layout, what RDB's
 * intset encoding writes) and their length; NULL for a hashtable.
 * borrowed. */
const uint8_t *store_set_intset_blob(const store_obj_t *o,
                                     size_t *len /* OUT */);

/*
 * A set object from intset bytes read from outside (RDB), validated
 * (store_intset_valid).  More than STORE_SET_MAX_INTSET_ENTRIES members
 * give a hashtable, as Redis's loader converts them; an empty intset
 * gives an empty set (Redis's loader skips such a key).  NULL with *bad 1
 * for malformed bytes, with *bad 0 on OOM.  new.
 */
store_obj_t *store_set_from_intset_blob(ob_arena_t *a, int owner,
                                        const uint8_t *blob, size_t len,
                                        int *bad /* OUT */);

/*
 * One SSCAN step over a hashtable set: ob_hash_scan's cursor, visiting
 * about `count` members (at most count * 10 buckets), each given to fn.
 * An intset has no cursor: the caller lists it whole.  Returns the next
 * cursor, 0 at the end.
 */
typedef void (*store_set_scan_pt)(void *arg, const store_set_elem_t *e);

uint64_t store_set_scan(store_obj_t *o, uint64_t cursor, size_t count,
                        store_set_scan_pt fn, void *arg);

#endif /* STORE_SET_H */
