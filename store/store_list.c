/*
 * store_list.c: the list value (see store_list.h), Redis 7.0's quicklist
 * without its LZF compression (list-compress-depth 0, Redis's default).
 *
 * Layout.  store_list_t (head, tail, counts) points to nodes of 32 bytes,
 * each owning one listpack of up to STORE_LIST_NODE_MAX bytes.  Pushes
 * fill the end node until the next element would pass that size, then
 * start a node; so a list of small elements costs about 11 bytes of
 * overhead per element plus 40 bytes per 8 KiB, as in Redis.  Every count
 * is kept in the headers, so LLEN is O(1) and an index walks nodes by
 * their counts from the nearer end, then one listpack.
 *
 * Out of memory.  Each change allocates everything it needs before it
 * touches the list: a push into a full node builds the new node first; an
 * insert into the middle of a full node splits it by copying the node,
 * putting the element into the copy and only then cutting the original.
 * Deletions may be refused too: a listpack that shrinks into a smaller
 * arena class needs a block of that class first.  Dropping a whole node
 * never fails, so a pop of a node's last element, and any deletion of
 * whole nodes, always succeeds; deletions inside a node are done before
 * the whole-node ones so that a refusal comes before any change.  So
 * OB_ERR means "nothing changed", which is what the commands promise for
 * -OOM (the one exception is noted at store_list_del_range).
 *
 * Nodes are never merged back after deletions (Redis 7.0's LREM and LTRIM
 * do not either): a node emptied by a deletion is freed at once, so there
 * are no empty nodes, but half-empty ones may stay.
 */
#include "store_list.h"

#include <string.h>

#include "store_int.h"


/* ---- nodes ---------------------------------------------------------------- */

/* 1 when an entry of `sz` bytes still fits the node's listpack. */
static int
store_list_node_allows(const store_list_node_t *node, size_t sz)
{
    return node->count < STORE_LIST_NODE_MAX_COUNT - 1
           && store_lp_bytes(node->lp) + sz <= STORE_LIST_NODE_MAX;
}


/* A node holding s[0..len) alone, not linked.  NULL on OOM.  new. */
static store_list_node_t *
store_list_node_new(ob_arena_t *a, int owner, const void *s, size_t len)
{
    store_list_node_t  *node;

    node = ob_arena_alloc(a, owner, sizeof(store_list_node_t));
    if (node == NULL) {
        return NULL;
    }
    node->lp = store_lp_new(a, owner);
    if (node->lp == NULL) {
        ob_arena_free(a, owner, node, sizeof(store_list_node_t));
        return NULL;
    }
    if (store_lp_append(a, owner, &node->lp, s, len) != OB_OK) {
        store_lp_free(a, owner, node->lp);
        ob_arena_free(a, owner, node, sizeof(store_list_node_t));
        return NULL;
    }
    node->prev = NULL;
    node->next = NULL;
    node->count = 1;
    return node;
}


/* Links node after `at` (at NULL: as the new head). */
static void
store_list_link_after(store_list_t *l, store_list_node_t *at,
    store_list_node_t *node)
{
    node->prev = at;
    if (at == NULL) {
        node->next = l->head;
        if (l->head != NULL) {
            l->head->prev = node;
        }
        l->head = node;
    } else {
        node->next = at->next;
        if (at->next != NULL) {
            at->next->prev = node;
        }
        at->next = node;
    }
    if (node->next == NULL) {
        l->tail = node;
    }
    l->nnodes++;
}


/* Links node before `at` (at NULL: as the new tail). */
static void
store_list_link_before(store_list_t *l, store_list_node_t *at,
    store_list_node_t *node)
{
    store_list_link_after(l, at != NULL ? at->prev : l->tail, node);
}


/* Unlinks a node and frees it with its listpack (counts are the
 * caller's). */
static void
store_list_node_drop(ob_arena_t *a, int owner, store_list_t *l,
    store_list_node_t *node)
{
    if (node->prev != NULL) {
        node->prev->next = node->next;
    } else {
        l->head = node->next;
    }
    if (node->next != NULL) {
        node->next->prev = node->prev;
    } else {
        l->tail = node->prev;
    }
    l->nnodes--;
    store_lp_free(a, owner, node->lp);
    ob_arena_free(a, owner, node, sizeof(store_list_node_t));
}


/*
 * The node holding element `index` (0 <= index < count), walking node
 * counts from the nearer end; *off gets the element's index inside it.
 */
static store_list_node_t *
store_list_locate(const store_list_t *l, size_t index, size_t *off)
{
    store_list_node_t  *node;
    size_t              back;

    if (index < l->count / 2) {
        node = l->head;
        while (index >= node->count) {
            index -= node->count;
            node = node->next;
        }
        *off = index;
        return node;
    }
    back = l->count - 1 - index;
    node = l->tail;
    while (back >= node->count) {
        back -= node->count;
        node = node->prev;
    }
    *off = node->count - 1 - back;
    return node;
}


/* The listpack position of element `off` of a node, sought from the
 * nearer end of its listpack. */
static store_lp_pos_t
store_list_node_seek(const store_list_node_t *node, size_t off)
{
    if (off < node->count / 2) {
        return store_lp_seek(node->lp, (long long) off);
    }
    return store_lp_seek(node->lp, (long long) off - (long long) node->count);
}


/* ---- the list ------------------------------------------------------------- */

store_list_t *
store_list_new(ob_arena_t *a, int owner)
{
    store_list_t  *l;

    l = ob_arena_alloc(a, owner, sizeof(store_list_t));
    if (l == NULL) {
        return NULL;
    }
    l->head = NULL;
    l->tail = NULL;
    l->count = 0;
    l->nnodes = 0;
    return l;
}


void
store_list_destroy(ob_arena_t *a, int owner, store_list_t *l)
{
    store_list_node_t  *node, *next;

    if (l == NULL) {
        return;
    }
    for (node = l->head; node != NULL; node = next) {
        next = node->next;
        store_lp_free(a, owner, node->lp);
        ob_arena_free(a, owner, node, sizeof(store_list_node_t));
    }
    ob_arena_free(a, owner, l, sizeof(store_list_t));
}


store_obj_t *
store_list_obj_new(ob_arena_t *a, int owner)
{
    store_list_t  *l;
    store_obj_t   *o;

    l = store_list_new(a, owner);
    if (l == NULL) {
        return NULL;
    }
    o = store_obj_payload_new(a, owner, STORE_OBJ_LIST, STORE_ENC_QUICKLIST, l);
    if (o == NULL) {
        store_list_destroy(a, owner, l);
        return NULL;
    }
    return o;
}


size_t
store_list_len(const store_list_t *l)
{
    return l->count;
}


int
store_list_push(ob_arena_t *a, int owner, store_list_t *l, const void *s,
    size_t len, int where)
{
    store_list_node_t  *node, *fresh;
    int                 rc;

    node = where == STORE_LIST_HEAD ? l->head : l->tail;
    if (node != NULL && store_list_node_allows(node, store_lp_entry_size(s, len)))
    {
        rc = where == STORE_LIST_HEAD
             ? store_lp_prepend(a, owner, &node->lp, s, len)
             : store_lp_append(a, owner, &node->lp, s, len);
        if (rc != OB_OK) {
            return OB_ERR;
        }
        node->count++;
    } else {
        fresh = store_list_node_new(a, owner, s, len);
        if (fresh == NULL) {
            return OB_ERR;
        }
        if (where == STORE_LIST_HEAD) {
            store_list_link_after(l, NULL, fresh);
        } else {
            store_list_link_before(l, NULL, fresh);
        }
    }
    l->count++;
    return OB_OK;
}


const uint8_t *
store_list_peek(const store_list_t *l, int where, char buf[STORE_LIST_INTBUF],
    size_t *len)
{
    store_list_node_t  *node;
    store_lp_pos_t      pos;

    node = where == STORE_LIST_HEAD ? l->head : l->tail;
    if (node == NULL) {
        *len = 0;
        return NULL;
    }
    pos = where == STORE_LIST_HEAD ? store_lp_first(node->lp)
                                   : store_lp_last(node->lp);
    return store_lp_get_str(node->lp, pos, buf, len);
}


int
store_list_pop(ob_arena_t *a, int owner, store_list_t *l, int where)
{
    store_list_node_t  *node;
    store_lp_pos_t      pos;

    node = where == STORE_LIST_HEAD ? l->head : l->tail;
    if (node == NULL) {
        return OB_OK;
    }
    if (node->count == 1) {
        store_list_node_drop(a, owner, l, node);
    } else {
        pos = where == STORE_LIST_HEAD ? store_lp_first(node->lp)
                                       : store_lp_last(node->lp);
        if (store_lp_remove(a, owner, &node->lp, pos, 1, NULL) != OB_OK) {
            return OB_ERR;
        }
        node->count--;
    }
    l->count--;
    return OB_OK;
}


size_t
store_list_end_whole(const store_list_t *l, int where, size_t n)
{
    const store_list_node_t  *node;
    size_t                    whole = 0;

    node = where == STORE_LIST_HEAD ? l->head : l->tail;
    while (node != NULL && whole + node->count <= n) {
        whole += node->count;
        node = where == STORE_LIST_HEAD ? node->next : node->prev;
    }
    return whole;
}


/*
 * Deletes from a node's listpack; when that takes all its elements the
 * node goes instead (which cannot fail).
 */
static int
store_list_node_del(ob_arena_t *a, int owner, store_list_t *l,
    store_list_node_t *node, size_t off, size_t k)
{
    if (off == 0 && k >= node->count) {
        store_list_node_drop(a, owner, l, node);
        return OB_OK;
    }
    if (store_lp_delete_range(a, owner, &node->lp, off, k) != OB_OK) {
        return OB_ERR;
    }
    node->count -= (uint32_t) k;
    return OB_OK;
}


int
store_list_del_range(ob_arena_t *a, int owner, store_list_t *l, size_t start,
    size_t n)
{
    store_list_node_t  *first, *last, *node, *next;
    size_t              off, k, left;

    if (start >= l->count || n == 0) {
        return OB_OK;
    }
    if (n > l->count - start) {
        n = l->count - start;
    }
    first = store_list_locate(l, start, &off);
    k = first->count - off;
    if (k >= n) {
        /* inside one node */
        if (store_list_node_del(a, owner, l, first, off, n) != OB_OK) {
            return OB_ERR;
        }
        l->count -= n;
        return OB_OK;
    }

    /*
     * Across nodes: the partly deleted nodes (at most the first and the
     * last) go first, since a listpack that shrinks may be refused; the
     * whole nodes between them cannot fail.  So a range that reaches
     * either end of the list is all or nothing.
     */
    left = n - k;
    last = first->next;
    while (left >= last->count && left > 0) {
        left -= last->count;
        last = last->next;
        if (last == NULL) {
            break;
        }
    }
    if (last != NULL && left > 0) {
        if (store_lp_delete_range(a, owner, &last->lp, 0, left) != OB_OK) {
            return OB_ERR;
        }
        last->count -= (uint32_t) left;
        l->count -= left;
    }
    if (off > 0) {
        if (store_lp_delete_range(a, owner, &first->lp, off, k) != OB_OK) {
            return OB_ERR;
        }
        first->count -= (uint32_t) k;
        l->count -= k;
        first = first->next;
    }
    for (node = first; node != NULL && node != last; node = next) {
        next = node->next;
        l->count -= node->count;
        store_list_node_drop(a, owner, l, node);
    }
    return OB_OK;
}


int
store_list_set(ob_arena_t *a, int owner, store_list_t *l, long long index,
    const void *s, size_t len)
{
    store_list_node_t  *node;
    size_t              off;

    if (index < 0) {
        index += (long long) l->count;
    }
    if (index < 0 || (unsigned long long) index >= l->count) {
        return OB_DECLINED;
    }
    node = store_list_locate(l, (size_t) index, &off);
    /* in place even past the node's size, as Redis 7.0's LSET does */
    return store_lp_replace(a, owner, &node->lp, store_list_node_seek(node, off),
                            s, len);
}


/* ---- iterators ------------------------------------------------------------ */

void
store_list_iter_init(store_list_t *l, long long index, int dir,
    store_list_iter_t *it)
{
    size_t  off;

    it->l = l;
    it->dir = dir;
    it->node = NULL;
    it->pos = 0;
    if (index < 0) {
        index += (long long) l->count;
    }
    if (index < 0 || (unsigned long long) index >= l->count) {
        return;
    }
    it->node = store_list_locate(l, (size_t) index, &off);
    it->pos = store_list_node_seek(it->node, off);
}


int
store_list_iter_get(const store_list_iter_t *it, char buf[STORE_LIST_INTBUF],
    const uint8_t **p, size_t *len)
{
    if (it->node == NULL) {
        return 0;
    }
    *p = store_lp_get_str(it->node->lp, it->pos, buf, len);
    return 1;
}


int
store_list_iter_eq(const store_list_iter_t *it, const void *s, size_t len)
{
    return store_lp_eq(it->node->lp, it->pos, s, len);
}


/* Puts the iterator on the first element of `node` in its direction. */
static void
store_list_iter_enter(store_list_iter_t *it, store_list_node_t *node)
{
    it->node = node;
    if (node == NULL) {
        it->pos = 0;
        return;
    }
    it->pos = it->dir == STORE_LIST_TAIL ? store_lp_first(node->lp)
                                         : store_lp_last(node->lp);
}


void
store_list_iter_next(store_list_iter_t *it)
{
    if (it->node == NULL) {
        return;
    }
    if (it->dir == STORE_LIST_TAIL) {
        it->pos = store_lp_next(it->node->lp, it->pos);
        if (it->pos == 0) {
            store_list_iter_enter(it, it->node->next);
        }
    } else {
        it->pos = store_lp_prev(it->node->lp, it->pos);
        if (it->pos == 0) {
            store_list_iter_enter(it, it->node->prev);
        }
    }
}


int
store_list_iter_del(ob_arena_t *a, int owner, store_list_iter_t *it)
{
    store_list_node_t  *node = it->node;
    store_lp_pos_t      after;

    if (node->count == 1) {
        store_list_iter_enter(it, it->dir == STORE_LIST_TAIL ? node->next
                                                              : node->prev);
        store_list_node_drop(a, owner, it->l, node);
        it->l->count--;
        return OB_OK;
    }
    if (store_lp_remove(a, owner, &node->lp, it->pos, 1, &after) != OB_OK) {
        return OB_ERR;
    }
    node->count--;
    it->l->count--;
    if (it->dir == STORE_LIST_TAIL) {
        if (after == 0) {
            store_list_iter_enter(it, node->next);
        } else {
            it->pos = after;
        }
        return OB_OK;
    }
    /* Walking back: the element before the deleted one kept its offset,
     * and it is the one before whatever now follows. */
    it->pos = after == 0 ? store_lp_last(node->lp)
                         : store_lp_prev(node->lp, after);
    if (it->pos == 0) {
        store_list_iter_enter(it, node->prev);
    }
    return OB_OK;
}


/*
 * Inserts into the middle of a node too full to take it: the node is
 * copied, the copy loses the entries before the split point and gets the
 * element as its first, and only then does the original lose what the
 * copy kept (a shrink that may be refused too: the copy then goes), so a
 * refused allocation changes nothing.
 */
static int
store_list_split_insert(ob_arena_t *a, int owner, store_list_t *l,
    store_list_node_t *node, size_t k, const void *s, size_t len)
{
    store_list_node_t  *fresh;
    uint8_t            *lp;

    fresh = ob_arena_alloc(a, owner, sizeof(store_list_node_t));
    if (fresh == NULL) {
        return OB_ERR;
    }
    lp = store_lp_dup(a, owner, node->lp);
    if (lp == NULL) {
        ob_arena_free(a, owner, fresh, sizeof(store_list_node_t));
        return OB_ERR;
    }
    if (store_lp_delete_range(a, owner, &lp, 0, k) != OB_OK
        || store_lp_prepend(a, owner, &lp, s, len) != OB_OK
        || store_lp_delete_range(a, owner, &node->lp, k, node->count - k)
           != OB_OK)
    {
        store_lp_free(a, owner, lp);
        ob_arena_free(a, owner, fresh, sizeof(store_list_node_t));
        return OB_ERR;
    }
    fresh->lp = lp;
    fresh->count = node->count - (uint32_t) k + 1;
    node->count = (uint32_t) k;
    store_list_link_after(l, node, fresh);
    return OB_OK;
}


int
store_list_iter_insert(ob_arena_t *a, int owner, store_list_iter_t *it,
    int after, const void *s, size_t len)
{
    store_list_t       *l = it->l;
    store_list_node_t  *node = it->node, *nb, *fresh;
    store_lp_pos_t      p;
    size_t              sz, k;
    int                 rc;

    sz = store_lp_entry_size(s, len);
    if (store_list_node_allows(node, sz)) {
        if (store_lp_insert(a, owner, &node->lp, it->pos, after, s, len, NULL)
            != OB_OK)
        {
            return OB_ERR;
        }
        node->count++;
        l->count++;
        return OB_OK;
    }

    if (after && it->pos == store_lp_last(node->lp)) {
        /* at the node's tail end: the next node's head, or a new node */
        nb = node->next;
        if (nb != NULL && store_list_node_allows(nb, sz)) {
            if (store_lp_prepend(a, owner, &nb->lp, s, len) != OB_OK) {
                return OB_ERR;
            }
            nb->count++;
        } else {
            fresh = store_list_node_new(a, owner, s, len);
            if (fresh == NULL) {
                return OB_ERR;
            }
            store_list_link_after(l, node, fresh);
        }
        l->count++;
        return OB_OK;
    }

    if (!after && it->pos == store_lp_first(node->lp)) {
        nb = node->prev;
        if (nb != NULL && store_list_node_allows(nb, sz)) {
            if (store_lp_append(a, owner, &nb->lp, s, len) != OB_OK) {
                return OB_ERR;
            }
            nb->count++;
        } else {
            fresh = store_list_node_new(a, owner, s, len);
            if (fresh == NULL) {
                return OB_ERR;
            }
            store_list_link_before(l, node, fresh);
        }
        l->count++;
        return OB_OK;
    }

    /* the split point: how many entries stay in the old node */
    k = 0;
    for (p = store_lp_first(node->lp); p != it->pos;
         p = store_lp_next(node->lp, p))
    {
        k++;
    }
    k += after ? 1 : 0;
    rc = store_list_split_insert(a, owner, l, node, k, s, len);
    if (rc == OB_OK) {
        l->count++;
    }
    return rc;
}


/* ---- whole lists ---------------------------------------------------------- */

store_list_t *
store_list_copy(ob_arena_t *a, int owner, const store_list_t *l)
{
    store_list_t       *d;
    store_list_node_t  *node, *copy;

    d = store_list_new(a, owner);
    if (d == NULL) {
        return NULL;
    }
    for (node = l->head; node != NULL; node = node->next) {
        copy = ob_arena_alloc(a, owner, sizeof(store_list_node_t));
        if (copy == NULL) {
            store_list_destroy(a, owner, d);
            return NULL;
        }
        copy->lp = store_lp_dup(a, owner, node->lp);
        if (copy->lp == NULL) {
            ob_arena_free(a, owner, copy, sizeof(store_list_node_t));
            store_list_destroy(a, owner, d);
            return NULL;
        }
        copy->count = node->count;
        store_list_link_before(d, NULL, copy);
        d->count += node->count;
    }
    return d;
}


size_t
store_list_bytes(const ob_arena_t *a, const store_list_t *l)
{
    store_list_node_t  *node;
    size_t              n;

    n = ob_arena_chunk_size(a, sizeof(store_list_t));
    for (node = l->head; node != NULL; node = node->next) {
        n += ob_arena_chunk_size(a, sizeof(store_list_node_t))
             + ob_arena_chunk_size(a, store_lp_bytes(node->lp));
    }
    return n;
}


int
store_list_check(const store_list_t *l)
{
    const store_list_node_t  *node, *prev = NULL;
    size_t                    count = 0, nnodes = 0;

    for (node = l->head; node != NULL; prev = node, node = node->next) {
        if (node->prev != prev || node->count == 0
            || node->count != store_lp_count(node->lp))
        {
            return 0;
        }
        count += node->count;
        nnodes++;
    }
    return prev == l->tail && count == l->count && nnodes == l->nnodes;
}


/* ---- the value type's hooks (store_types.c) ----------------------------- */

void
store_list_free(ob_arena_t *a, int owner, store_obj_t *o)
{
    store_list_destroy(a, owner, store_list_of(o));
    o->v.ptr = NULL;
}


store_obj_t *
store_list_dup(ob_arena_t *a, int owner, const store_obj_t *o)
{
    store_list_t  *l;
    store_obj_t   *d;

    l = store_list_copy(a, owner, store_list_of(o));
    if (l == NULL) {
        return NULL;
    }
    d = store_obj_payload_new(a, owner, STORE_OBJ_LIST, STORE_ENC_QUICKLIST, l);
    if (d == NULL) {
        store_list_destroy(a, owner, l);
        return NULL;
    }
    d->lru = o->lru;
    return d;
}


size_t
store_list_mem(const ob_arena_t *a, const store_obj_t *o)
{
    return ob_arena_chunk_size(a, sizeof(store_obj_t))
           + store_list_bytes(a, store_list_of(o));
}
