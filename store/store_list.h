/*
 * store_list.h: the store's list value, Redis 7.0's quicklist without
 * compression: a doubly linked list of listpack nodes, every byte of it
 * (the list header, the node headers, the listpacks) in the core arena
 * under the store's owner.  OBJECT ENCODING says "quicklist" for every
 * list, as Redis 7.0 does whatever the list's size.
 *
 * A node grows until its listpack would pass STORE_LIST_NODE_MAX bytes
 * (list-max-listpack-size -2); a bigger element gets a node of its own.
 *
 * Positions: "where" is STORE_LIST_HEAD or STORE_LIST_TAIL.  Indexes are
 * LINDEX's: 0 the first, -1 the last.  Every function that allocates
 * returns OB_ERR when the arena refuses and leaves the list as it was.
 * Deletions allocate too (a listpack that shrinks moves to a smaller arena
 * class), but a deletion that takes whole nodes never fails.
 *
 *   store_list_t      *l = store_list_new(a, owner);
 *   store_list_iter_t  it;
 *   store_list_push(a, owner, l, "x", 1, STORE_LIST_TAIL);
 *   for (store_list_iter_init(l, 0, STORE_LIST_TAIL, &it);
 *        store_list_iter_get(&it, buf, &p, &len);
 *        store_list_iter_next(&it))
 *   {
 *       ... p[0..len) ...
 *   }
 *   store_list_destroy(a, owner, l);
 */
#ifndef STORE_LIST_H
#define STORE_LIST_H

#include <stddef.h>
#include <stdint.h>
#include "ob_core.h"
#include "ob_arena.h"
#include "store_listpack.h"
#include "store_object.h"

#define STORE_LIST_HEAD      0
#define STORE_LIST_TAIL      1

/* list-max-listpack-size -2: Redis's 8 KiB nodes */
#define STORE_LIST_NODE_MAX  8192
/* The listpack header counts to 65535; a node stays below it so that its
 * count never needs a walk. */
#define STORE_LIST_NODE_MAX_COUNT  65535

/* Room for an integer element written as text. */
#define STORE_LIST_INTBUF    STORE_LP_INTBUF

typedef struct store_list_node_s  store_list_node_t;

struct store_list_node_s {
    store_list_node_t  *prev;
    store_list_node_t  *next;
    uint8_t            *lp;          /* the elements, a listpack */
    uint32_t            count;       /* elements in lp */
};

typedef struct store_list_s {
    store_list_node_t  *head;
    store_list_node_t  *tail;
    size_t              count;       /* elements (LLEN) */
    size_t              nnodes;
} store_list_t;

/*
 * A place in the list and a direction.  An iterator stays valid across
 * store_list_iter_del (it moves on to the next element) but not across
 * any other change to the list.
 */
typedef struct store_list_iter_s {
    store_list_t       *l;
    store_list_node_t  *node;        /* NULL: past the end */
    store_lp_pos_t      pos;
    int                 dir;         /* STORE_LIST_TAIL: head to tail */
} store_list_iter_t;


/* An empty list.  NULL on OOM.  new: store_list_destroy. */
store_list_t *store_list_new(ob_arena_t *a, int owner);
void          store_list_destroy(ob_arena_t *a, int owner, store_list_t *l);

/* A list object holding an empty list.  NULL on OOM.  new. */
store_obj_t  *store_list_obj_new(ob_arena_t *a, int owner);

/* The list of a list object.  borrowed. */
#define store_list_of(o)  ((store_list_t *) (o)->v.ptr)

size_t store_list_len(const store_list_t *l);

/* Adds s[0..len) at the head or the tail.  OB_OK, OB_ERR (OOM). */
int store_list_push(ob_arena_t *a, int owner, store_list_t *l,
                    const void *s, size_t len, int where);

/* The element at an end, without removing it: its bytes (borrowed from
 * the list, or from buf for an integer), *len set; NULL when empty. */
const uint8_t *store_list_peek(const store_list_t *l, int where,
                               char buf[STORE_LIST_INTBUF], size_t *len);

/* Removes the element at an end (nothing when empty).  OB_OK, or OB_ERR
 * (OOM: nothing changed; never when it is the last of its node). */
int store_list_pop(ob_arena_t *a, int owner, store_list_t *l, int where);

/* Of the first n elements from an end, how many fill whole nodes: their
 * deletion cannot fail (LPOP k n deletes the rest first). */
size_t store_list_end_whole(const store_list_t *l, int where, size_t n);

/* Removes the elements of index range [start, start+n), start >= 0; n is
 * clamped to what exists.  OB_OK; OB_ERR on OOM, with nothing changed when
 * the range is inside one node or reaches an end of the list (else its
 * last node's part may be gone). */
int store_list_del_range(ob_arena_t *a, int owner, store_list_t *l,
                         size_t start, size_t n);

/* Replaces the element at index (negative from the end).  OB_OK;
 * OB_DECLINED out of range; OB_ERR OOM. */
int store_list_set(ob_arena_t *a, int owner, store_list_t *l, long long index,
                   const void *s, size_t len);

/* ---- iterators ------------------------------------------------------------- */

/* An iterator on the element at index (negative from the end), walking
 * from the nearer end of the list; past the end when out of range. */
void store_list_iter_init(store_list_t *l, long long index, int dir,
                          store_list_iter_t *it /* OUT */);

/* 1 and the current element (as store_list_peek) while there is one. */
int  store_list_iter_get(const store_list_iter_t *it,
                         char buf[STORE_LIST_INTBUF],
                         const uint8_t **p /* OUT */, size_t *len /* OUT */);

/* 1 when the current element equals s[0..len) (an integer element
 * compares by its decimal text).  The iterator must be on an element. */
int  store_list_iter_eq(const store_list_iter_t *it, const void *s,
                        size_t len);

void store_list_iter_next(store_list_iter_t *it);

/* Removes the current element; the iterator moves to the next one in its
 * direction.  OB_OK, or OB_ERR (OOM: nothing changed, the iterator
 * stays). */
int  store_list_iter_del(ob_arena_t *a, int owner, store_list_iter_t *it);

/* Inserts s[0..len) before (after = 0) or after (after = 1) the current
 * element, in head-to-tail terms.  The iterator is invalid afterwards.
 * OB_OK, OB_ERR (OOM: nothing changed). */
int  store_list_iter_insert(ob_arena_t *a, int owner, store_list_iter_t *it,
                            int after, const void *s, size_t len);

/* ---- whole lists --------------------------------------------------------- */

/* A deep copy.  NULL on OOM.  new. */
store_list_t *store_list_copy(ob_arena_t *a, int owner,
                              const store_list_t *l);

/* Bytes the arena charges for the list (not the object header). */
size_t store_list_bytes(const ob_arena_t *a, const store_list_t *l);

/* Checks the invariants (counts, links, node sizes): 1 sound, 0 not.
 * For tests. */
int store_list_check(const store_list_t *l);

#endif /* STORE_LIST_H */
